//! Control-aware models: the substep rule, the control index, the loaders, learning.

use super::control::*;
use super::trainer::train;
use crate::data::npy::NpyArray;
use crate::data::reference_layout::from_reference_npy;
use crate::data::TrajectorySet;
use crate::models::control::{second_order_substep, zoh_rollout, ControlConfig, ControlKind};
use burn::prelude::*;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/mujoco/");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURE}{name}")).unwrap()
}

fn vals<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec().unwrap()
}

#[test]
fn second_order_substeps_are_exact_for_constant_acceleration() {
    let dev = Device::flex();
    let (q0, v0, a, dt, k) = (0.3f64, -1.2f64, 2.5f64, 0.05f64, 8);
    let z = Tensor::<2>::from_data(TensorData::new(vec![q0 as f32, v0 as f32], [1, 2]), &dev);
    let acc = Tensor::<2>::from_data(TensorData::new(vec![a as f32], [1, 1]), &dev);
    let z = (0..k).fold(z, |z, _| {
        second_order_substep(z, acc.clone(), dt / k as f64)
    });
    let out = vals(z);
    assert!((out[0] as f64 - (q0 + v0 * dt + 0.5 * a * dt * dt)).abs() < 1e-6);
    assert!((out[1] as f64 - (v0 + a * dt)).abs() < 1e-6);
}

#[test]
fn controls_are_held_by_index_over_each_step() {
    // Acceleration = u: v_k = v_0 + dt (u_0 + ... + u_{k-1}), q exact for piecewise-constant a.
    let dev = Device::flex();
    let (dt, t, k) = (0.1f64, 5, 8);
    let u: Vec<f32> = vec![1.0, -2.0, 3.0, 0.5, 9.0];
    let ut = Tensor::<3>::from_data(TensorData::new(u.clone(), [1, t, 1]), &dev);
    let z0 = Tensor::<2>::from_data(TensorData::new(vec![0.0f32, 0.0], [1, 2]), &dev);
    let h = dt / k as f64;
    let out = vals(zoh_rollout(z0, ut, |z, uk| {
        (0..k).fold(z, |z, _| second_order_substep(z, uk.clone(), h))
    }));
    let (mut q, mut v) = (0.0f64, 0.0f64);
    for step in 0..t {
        assert!((out[2 * step] as f64 - q).abs() < 1e-5, "q at {step}");
        assert!((out[2 * step + 1] as f64 - v).abs() < 1e-5, "v at {step}");
        let a = u[step] as f64;
        q += v * dt + 0.5 * a * dt * dt;
        v += a * dt;
    }
}

#[test]
fn reference_layout_loads_and_every_bad_file_is_named() {
    let (x, u) = (
        fixture("HopperFull-v0_cl20_xdata.npy"),
        fixture("HopperFull-v0_cl20_udata.npy"),
    );
    let set = from_reference_npy(&x, &u, 0.008, "HopperFull-v0", "train").unwrap();
    assert_eq!(
        (set.d, set.n_controls(), set.meta.system.as_str()),
        (6, 3, "mujoco:HopperFull-v0")
    );
    let err = |x: &[u8], u: &[u8], dt: f64| {
        from_reference_npy(x, u, dt, "T", "train")
            .unwrap_err()
            .to_string()
    };
    let arr = |shape: Vec<usize>, fill: f64| {
        NpyArray::f64(shape.clone(), vec![fill; shape.iter().product()]).to_bytes()
    };
    assert!(err(&x, &u, 0.0).contains("dt"));
    assert!(err(&x, &u, f64::NAN).contains("dt"));
    assert!(err(&arr(vec![4, 3, 12], 0.0), &arr(vec![5, 3, 3], 0.0), 0.1).contains("N and T"));
    assert!(err(&arr(vec![4, 3, 12], 0.0), &arr(vec![4, 2, 3], 0.0), 0.1).contains("N and T"));
    assert!(err(&arr(vec![4, 3, 11], 0.0), &arr(vec![4, 3, 3], 0.0), 0.1).contains("odd"));
    assert!(err(&arr(vec![0, 3, 12], 0.0), &arr(vec![0, 3, 3], 0.0), 0.1).contains("empty"));
    assert!(err(
        &arr(vec![4, 3, 12], f64::NAN),
        &arr(vec![4, 3, 3], 0.0),
        0.1
    )
    .contains("NaN"));
    assert!(err(
        &arr(vec![4, 3, 12], 0.0),
        &arr(vec![4, 3, 3], f64::INFINITY),
        0.1
    )
    .contains("NaN"));
    assert!(err(&arr(vec![4, 12], 0.0), &arr(vec![4, 3, 3], 0.0), 0.1).contains("3-D"));
    assert!(err(b"junk", &u, 0.1).len() > 3);
}

/// Standardised MSE per step of the "nothing moves" prediction z(t) = z(0) (step 0 is 0).
fn persistence_curve(set: &TrajectorySet, scale: &[f64]) -> Vec<f64> {
    let w = 2 * set.d;
    (0..set.t)
        .map(|k| {
            let mut s = 0.0;
            for i in 0..set.n {
                let (q0, v0) = set.state(i, 0);
                let (q, v) = set.state(i, k);
                let a = q0.iter().chain(v0);
                let b = q.iter().chain(v);
                for ((x0, x), sc) in a.zip(b).zip(scale) {
                    s += ((x - x0) / sc).powi(2);
                }
            }
            s / (set.n * w) as f64
        })
        .collect()
}

#[test]
fn every_control_model_learns_on_the_real_hopper_fixture() {
    let train_set = TrajectorySet::from_npz(&fixture("hopper_train.npz")).unwrap();
    let test = TrajectorySet::from_npz(&fixture("hopper_test.npz")).unwrap();
    assert_eq!((train_set.d, train_set.n_controls()), (6, 3));
    let dev = Device::flex();
    let ad = dev.clone().autodiff();
    let cfg = super::TrainConfig {
        epochs: 40,
        batch: 16,
        ..mujoco_train_config()
    };
    for kind in ControlKind::ALL {
        let mut mc = ControlConfig {
            width: 32,
            ..ControlConfig::new(kind, 6, 3)
        };
        fit_standardisation(&mut mc, &train_set).unwrap();
        let before = evaluate_control(&mc.init(&dev), &train_set, &dev)
            .unwrap()
            .mse;
        let out = train(mc.init(&ad), &train_set, &cfg, &ad, &mut |_, _| true);
        assert!(out.error.is_none(), "{kind}: {:?}", out.error);
        let after = evaluate_control(&out.model, &train_set, &dev).unwrap().mse;
        assert!(
            after < 0.9 * before,
            "{kind}: train mse {before} -> {after}"
        );
        let ev = evaluate_control(&out.model, &test, &dev).unwrap();
        assert_eq!(ev.mse_curve.len(), test.t);
        // The error per feature splits the same MSE by state coordinate.
        assert_eq!(ev.mse_by_feature.len(), 2 * test.d);
        let split = ev.mse_by_feature.iter().sum::<f64>() / (2 * test.d) as f64;
        assert!(
            (split - ev.mse).abs() <= 1e-5 * ev.mse,
            "{kind}: features {split} vs {}",
            ev.mse
        );
        // The bar: "nothing moves" (z(t) = z(0)) in the same standardised units, over the first
        // quarter of the test rollout, where a model that has learned anything must be better.
        let still = persistence_curve(&test, &mc.state_scale);
        let q = test.t / 4;
        let (ours, bar) = (
            ev.mse_curve[1..q].iter().sum::<f64>(),
            still[1..q].iter().sum::<f64>(),
        );
        assert!(
            ours < bar,
            "{kind}: early test MSE {ours} vs nothing-moves {bar}"
        );
    }
}

#[test]
fn autonomous_data_is_refused_with_a_reason() {
    let sys = crate::physics::system("chain-pendulum:1").unwrap();
    let p = crate::data::protocol::Protocol {
        n_trajectories: 10,
        n_test: 2,
        ..Default::default()
    };
    let set = p.generate(sys.as_ref(), &|_| {}).unwrap().train;
    let mut mc = ControlConfig::new(ControlKind::NodeSo, 1, 1);
    let e = fit_standardisation(&mut mc, &set).unwrap_err();
    assert!(e.contains("no controls"), "{e}");
}

#[test]
fn control_runs_train_through_the_run_path_without_checkpoints() {
    use super::run::{train_runs, Run, RunSink};
    use std::sync::Arc;
    /// Counts the checkpoints it is handed.
    struct Count(usize);
    impl RunSink for Count {
        fn checkpoint(&mut self, _run: usize, _ck: &super::Checkpoint) -> Result<(), String> {
            self.0 += 1;
            Ok(())
        }
    }
    let train_set = Arc::new(TrajectorySet::from_npz(&fixture("hopper_train.npz")).unwrap());
    let test = Arc::new(TrajectorySet::from_npz(&fixture("hopper_test.npz")).unwrap());
    let runs: Vec<Run<ControlConfig>> = (0..2u64)
        .map(|seed| {
            let mut mc = ControlConfig {
                width: 16,
                seed,
                ..ControlConfig::new(ControlKind::NodeSo, 6, 3)
            };
            fit_standardisation(&mut mc, &train_set).unwrap();
            Run {
                model: mc,
                train: super::TrainConfig {
                    epochs: 2,
                    batch: 16,
                    seed,
                    ..mujoco_train_config()
                },
                train_set: train_set.clone(),
                test: test.clone(),
            }
        })
        .collect();
    let mut sink = Count(0);
    let pop = train_runs(runs.clone(), &Device::flex(), &mut sink).unwrap();
    let solo = train_runs(runs[1..].to_vec(), &Device::flex(), &mut sink).unwrap();
    assert_eq!(sink.0, 0, "control models have no checkpoint format");
    for r in &pop {
        let m = r.outcome.as_ref().unwrap();
        assert_eq!(r.history.len(), 2);
        assert_eq!(m.test.mse, m.test_mse);
        assert!(m.train_mse.is_finite() && m.parameters == r.parameters);
    }
    // A member equals its run trained alone.
    let (a, b) = (
        pop[1].outcome.as_ref().unwrap().test_mse,
        solo[0].outcome.as_ref().unwrap().test_mse,
    );
    assert!((a - b).abs() <= 1e-3 * a.max(b), "member {a} vs solo {b}");
}
