//! Data the training tests share: small sets generated with the paper's protocol, and the real
//! Hopper fixture (a few hundred MuJoCo steps, `tests/data/mujoco`).

use super::config::TrainConfig;
use crate::data::protocol::Protocol;
use crate::data::TrajectorySet;
use crate::physics::system;

/// (train, test) of `name` from data seed `seed`: `n` trajectories (80% of them training chunks),
/// `n_test` test trajectories of `test_chunk` points.
pub(super) fn generated(
    name: &str,
    n: usize,
    n_test: usize,
    test_chunk: usize,
    seed: u64,
) -> (TrajectorySet, TrajectorySet) {
    let sys = system(name).unwrap();
    let p = Protocol {
        n_trajectories: n,
        n_test,
        test_chunk,
        seed,
        ..Protocol::default()
    };
    let s = p.generate(sys.as_ref(), &|_| {}).unwrap();
    (s.train, s.test)
}

/// The Hopper fixture's `hopper_train.npz` or `hopper_test.npz`.
pub(super) fn hopper(name: &str) -> TrajectorySet {
    let path = format!("{}/tests/data/mujoco/{name}", env!("CARGO_MANIFEST_DIR"));
    TrajectorySet::from_npz(&std::fs::read(path).unwrap()).unwrap()
}

/// Two members' settings: `base`, and `base` with another learning rate (2e-3) and minibatch seed.
pub(super) fn two_members(base: &TrainConfig) -> Vec<TrainConfig> {
    let other = TrainConfig {
        lr: 2e-3,
        seed: 1,
        ..base.clone()
    };
    vec![base.clone(), other]
}

/// Training losses on flex and on wgpu (Mesa's Vulkan driver on the CPU in CI) agree to 1e-3
/// relative, `run` training the same model on the device it is given.
#[cfg(feature = "wgpu")]
pub(super) fn assert_wgpu_gives_flexs_losses(
    what: &str,
    run: impl Fn(burn::prelude::Device) -> Vec<f64>,
) {
    let flex = run(burn::prelude::Device::flex());
    let wgpu = run(burn::prelude::Device::wgpu(Default::default()));
    for (a, b) in flex.iter().zip(&wgpu) {
        assert!(
            (a - b).abs() < 1e-3 * a.abs(),
            "{what}: flex {flex:?} vs wgpu {wgpu:?}"
        );
    }
}
