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

/// Training `mc` on `set` with `cfg` gives the same losses on flex and on wgpu (Mesa's Vulkan
/// driver on the CPU in CI), to 1e-3 relative.
#[cfg(feature = "wgpu")]
pub(super) fn assert_wgpu_trains_like_flex(
    mc: &crate::models::ModelConfig,
    set: &TrajectorySet,
    cfg: &TrainConfig,
) {
    use burn::prelude::Device;
    let run = |dev: Device| {
        let ad = dev.autodiff();
        let out = super::train(mc.init(&ad), set, cfg, &ad, &mut |_, _| true);
        assert!(out.error.is_none(), "{}: {:?}", mc.kind, out.error);
        out.history.iter().map(|h| h.loss).collect::<Vec<_>>()
    };
    let flex = run(Device::flex());
    let wgpu = run(Device::wgpu(Default::default()));
    for (a, b) in flex.iter().zip(&wgpu) {
        assert!(
            (a - b).abs() < 1e-3 * a.abs(),
            "{}: flex {flex:?} vs wgpu {wgpu:?}",
            mc.kind
        );
    }
}

/// A model written to a checkpoint comes back with its parameters (counted by its configuration
/// as by the model) and scores `test` exactly as before.
pub(super) fn assert_checkpoint_round_trips(
    m: &crate::models::DynamicsModel,
    test: &TrajectorySet,
) {
    let dev = burn::prelude::Device::flex();
    let kind = m.kind();
    let ck = super::Checkpoint::from_model(m, serde_json::json!({})).unwrap();
    let back = super::Checkpoint::from_bytes(&ck.to_bytes())
        .unwrap()
        .model(&dev)
        .unwrap();
    assert_eq!(back.n_params(), m.n_params(), "{kind}");
    assert_eq!(
        m.config.n_params(),
        Some(m.n_params()),
        "{kind}: counted like the others"
    );
    let e1 = super::evaluate(m, test, &Default::default(), &dev).unwrap();
    let e2 = super::evaluate(&back, test, &Default::default(), &dev).unwrap();
    assert_eq!(e1, e2, "{kind}");
}

/// A short run: `epochs` epochs of batches of 32, minibatch order from `seed`.
pub(super) fn quick(epochs: usize, seed: u64) -> TrainConfig {
    TrainConfig {
        epochs,
        batch: 32,
        seed,
        ..TrainConfig::default()
    }
}
