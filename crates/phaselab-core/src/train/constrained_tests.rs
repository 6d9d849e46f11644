//! The constrained models on body points: they learn, their rollouts keep the constraints that a
//! free second-order model on the same points drifts off, populations follow their solo runs,
//! checkpoints round-trip, and a configuration without its body graph is refused.

use super::test_data::{generated, quick};
use super::*;
use crate::data::cartesian::to_cartesian;
use crate::data::TrajectorySet;
use crate::models::{ModelConfig, ModelKind};
use crate::physics::system;
use burn::prelude::*;

/// (train, test) of `name`'s body points: 80 trajectories, 8 test trajectories of 30 points.
fn points(name: &str, seed: u64) -> (TrajectorySet, TrajectorySet) {
    let sys = system(name).unwrap();
    let (train, test) = generated(name, 80, 8, 30, seed);
    (
        to_cartesian(&train, sys.as_ref()).unwrap(),
        to_cartesian(&test, sys.as_ref()).unwrap(),
    )
}

fn config(kind: ModelKind, set: &TrajectorySet, seed: u64) -> ModelConfig {
    ModelConfig {
        width: 32,
        seed,
        system: kind.is_constrained().then(|| set.meta.system.clone()),
        ..ModelConfig::new(kind, set.d, set.meta.angular.clone())
    }
}

/// The largest |Φ| over every point of every predicted rollout (positions only).
fn worst_violation(name: &str, pred: &TrajectorySet) -> f64 {
    let g = system(name).unwrap().body_graph();
    let mut worst = 0.0f64;
    for i in 0..pred.n {
        for k in 0..pred.t {
            let (x, _) = pred.state(i, k);
            worst = g.phi(x).iter().fold(worst, |m, a| m.max(a.abs()));
        }
    }
    worst
}

#[test]
fn constrained_models_learn_and_their_rollouts_keep_the_constraints() {
    let name = "chain-pendulum:2";
    let (train_set, test) = points(name, 0);
    let (dev, cpu) = (Device::flex().autodiff(), Device::flex());
    let still = crate::metrics::mse(&test, &crate::metrics::persistence(&test)).unwrap();
    let mut drift = std::collections::HashMap::new();
    for kind in [
        ModelKind::ConstrainedNodeSo,
        ModelKind::Clnn,
        ModelKind::NodeSoDirect,
    ] {
        let cfg = quick(40, 0);
        let out = train(
            config(kind, &train_set, 0).init(&dev),
            &train_set,
            &cfg,
            &dev,
            &mut |_, _| true,
        );
        assert!(out.error.is_none(), "{kind}: {:?}", out.error);
        let (ev, pred) = evaluate_with_rollouts(&out.model, &test, &cfg.solver, &cpu).unwrap();
        if kind.is_constrained() {
            let (first, last) = (out.history[0].loss, out.history.last().unwrap().loss);
            assert!(last < 0.5 * first, "{kind}: loss {first} -> {last}");
            assert!(
                ev.mse < 0.5 * still,
                "{kind}: test MSE {} vs nothing-moves {still}",
                ev.mse
            );
        }
        assert_eq!(
            ev.cartesian_gerr,
            Some(ev.gerr),
            "{kind}: on body points both are one"
        );
        assert!(
            ev.herr.is_some(),
            "{kind}: the true energy through the generalised states"
        );
        drift.insert(kind, worst_violation(name, &pred));
    }
    // Projected accelerations keep |Φ| at the integrator's drift; the free model leaves it.
    let free = drift[&ModelKind::NodeSoDirect];
    for kind in [ModelKind::ConstrainedNodeSo, ModelKind::Clnn] {
        assert!(
            drift[&kind] < free / 10.0,
            "{kind}: |Φ| {} vs free {free}",
            drift[&kind]
        );
    }
}

#[test]
fn constrained_populations_follow_their_solo_runs() {
    let (a, b) = (points("gyroscope", 0), points("gyroscope", 1));
    let ad = Device::flex().autodiff();
    for kind in ModelKind::CONSTRAINED {
        let cfgs = vec![
            quick(3, 0),
            TrainConfig {
                lr: 2e-3,
                ..quick(3, 1)
            },
        ];
        let models = vec![
            config(kind, &a.0, 0).init(&ad),
            config(kind, &b.0, 1).init(&ad),
        ];
        let pop =
            train_population(models, &[&a.0, &b.0], cfgs.clone(), &ad, &mut |_, _| true).unwrap();
        for (k, set) in [&a.0, &b.0].into_iter().enumerate() {
            let solo = train(
                config(kind, set, k as u64).init(&ad),
                set,
                &cfgs[k],
                &ad,
                &mut |_, _| true,
            );
            for (p, s) in pop[k].history.iter().zip(&solo.history) {
                let rel = (p.loss - s.loss).abs() / s.loss.abs().max(1e-12);
                assert!(
                    rel < 1e-4,
                    "{kind} member {k}: loss {} vs solo {}",
                    p.loss,
                    s.loss
                );
            }
        }
    }
}

#[test]
fn constrained_checkpoints_round_trip_and_need_their_body_graph() {
    let (train_set, test) = points("chain-pendulum:2", 0);
    let dev = Device::flex();
    for kind in ModelKind::CONSTRAINED {
        let m = config(kind, &train_set, 3).init(&dev);
        super::test_data::assert_checkpoint_round_trips(&m, &test);
    }
    // Without the system, or on generalised data, the configuration says what is missing.
    let bare = ModelConfig::new(ModelKind::Clnn, 4, vec![false; 4]);
    assert!(bare.check().unwrap_err().contains("needs the system"));
    let angles = ModelConfig {
        system: Some("chain-pendulum:2".into()),
        ..ModelConfig::new(ModelKind::ConstrainedNodeSo, 2, vec![true, true])
    };
    let e = angles.check().unwrap_err();
    assert!(
        e.contains("4 Cartesian coordinates") && e.contains("--coordinates cartesian"),
        "{e}"
    );
}

/// A CHNN or CLNN checkpoint of format 3, whose learned masses were stored for θ = (w + b) / 20,
/// loads with the masses it had: the loader rescales them to today's θ = (w + b) / 2.
#[test]
fn format_3_checkpoints_keep_their_learned_masses() {
    use burn::module::Param;
    let (set, _) = points("gyroscope", 0);
    let dev = Device::flex();
    let values = |m: &crate::models::DynamicsModel| -> Vec<f32> {
        let masses = m.masses.as_ref().expect("learned masses");
        masses
            .values(1, &dev)
            .into_data()
            .convert::<f32>()
            .try_into_vec()
            .unwrap()
    };
    for kind in [ModelKind::Chnn, ModelKind::Clnn] {
        let model = config(kind, &set, 5).init(&dev);
        // Masses away from 1, as after training on the gyroscope.
        let mut trained = model.clone();
        let masses = trained.masses.take().unwrap();
        let mut net = masses.net.clone();
        for layer in &mut net.layers {
            layer.b = Param::from_tensor(layer.b.val().add_scalar(-4.0));
        }
        trained.masses = Some(masses.with_net(net));
        let want = values(&trained);
        assert!(want.iter().all(|&v| v < 0.2), "{kind}: {want:?}");
        // What format 3 stored for the same masses: w and b ten times today's.
        let mut stored = trained.clone();
        let masses = stored.masses.take().unwrap();
        let mut net = masses.net.clone();
        for layer in &mut net.layers {
            layer.w = Param::from_tensor(layer.w.val().mul_scalar(10.0));
            layer.b = Param::from_tensor(layer.b.val().mul_scalar(10.0));
        }
        stored.masses = Some(masses.with_net(net));
        let mut bytes = Checkpoint::from_model(&stored, serde_json::json!({}))
            .unwrap()
            .to_bytes();
        bytes[14..18].copy_from_slice(&3u32.to_le_bytes());
        let body = bytes.len() - 4;
        let crc = crc32fast::hash(&bytes[..body]);
        bytes[body..].copy_from_slice(&crc.to_le_bytes());
        let old = Checkpoint::from_bytes(&bytes).unwrap();
        assert_eq!(old.file_version, 3);
        let got = values(&old.model(&dev).unwrap());
        for (g, w) in got.iter().zip(&want) {
            assert!(
                (g / w - 1.0).abs() < 1e-5,
                "{kind}: format 3 gives {got:?}, want {want:?}"
            );
        }
        // Today's format keeps them without rescaling.
        let now = Checkpoint::from_model(&trained, serde_json::json!({})).unwrap();
        let back = Checkpoint::from_bytes(&now.to_bytes()).unwrap();
        assert_eq!(values(&back.model(&dev).unwrap()), want, "{kind}: format 4");
    }
}

#[test]
fn on_the_constraints_chnn_and_clnn_with_one_potential_and_one_mass_move_alike() {
    // The same seed draws the same V network and masses for both. On states that keep the
    // constraints, CHNN's dx/dt is v and M⁻¹ dp/dt is CLNN's acceleration.
    let dev = Device::flex();
    for name in ["chain-pendulum:3", "gyroscope", "coupled-pendulum:3"] {
        let (_, test) = points(name, 2);
        let chnn = config(ModelKind::Chnn, &test, 7).init(&dev);
        let clnn = config(ModelKind::Clnn, &test, 7).init(&dev);
        let n = test.d;
        let z: Vec<f32> = (0..test.n)
            .flat_map(|i| {
                let (x, v) = test.state(i, 0);
                x.iter().chain(v).map(|&a| a as f32).collect::<Vec<_>>()
            })
            .collect();
        let z = Tensor::<2>::from_data(TensorData::new(z, [test.n, 2 * n]), &dev);
        let s = chnn.to_model_state(z.clone());
        let dchnn = chnn.field(s.clone());
        // [dx/dt, M⁻¹ dp/dt] through CHNN's own masses.
        let (dx, dp) = (dchnn.clone().narrow(1, 0, n), dchnn.narrow(1, n, n));
        let dv = chnn
            .to_data_state(Tensor::cat(vec![dx.clone(), dp], 1))
            .narrow(1, n, n);
        let dclnn = clnn.field(z.clone());
        let vals =
            |t: Tensor<2>| -> Vec<f32> { t.into_data().convert::<f32>().try_into_vec().unwrap() };
        let (dx, v) = (vals(dx), vals(z.narrow(1, n, n)));
        let (dv, a) = (vals(dv), vals(dclnn.narrow(1, n, n)));
        let scale = a.iter().fold(1.0f32, |m, x| m.max(x.abs()));
        for (x, y) in dx.iter().zip(&v) {
            assert!(
                (x - y).abs() < 1e-3 * y.abs().max(1.0),
                "{name}: dx/dt {x} vs v {y}"
            );
        }
        for (x, y) in dv.iter().zip(&a) {
            assert!((x - y).abs() < 2e-3 * scale, "{name}: CHNN {x} vs CLNN {y}");
        }
    }
}

/// The constrained models on wgpu (Mesa's Vulkan driver on the CPU in CI) give flex's losses:
/// the constraint ops, the SPD solves and the learned masses are plain tensor ops on both.
#[cfg(feature = "wgpu")]
#[test]
fn constrained_models_on_wgpu_give_flexs_losses() {
    let (train_set, _) = points("gyroscope", 0);
    for kind in ModelKind::CONSTRAINED {
        let mc = config(kind, &train_set, 0);
        super::test_data::assert_wgpu_trains_like_flex(&mc, &train_set, &quick(3, 0));
    }
}
