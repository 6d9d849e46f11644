//! Learning checks: every model's loss falls, divergence is caught with the last good model,
//! checkpoints round-trip bit for bit and reject bad bytes.

use super::*;
use crate::data::protocol::Protocol;
use crate::models::{ModelConfig, ModelKind};
use crate::physics::{system, System};
use burn::prelude::*;

fn small_data(
    name: &str,
) -> (
    Box<dyn System>,
    crate::data::TrajectorySet,
    crate::data::TrajectorySet,
) {
    let sys = system(name).unwrap();
    let p = Protocol {
        n_trajectories: 80,
        n_test: 8,
        test_chunk: 20,
        ..Protocol::default()
    };
    let s = p.generate(sys.as_ref(), &|_| {}).unwrap();
    (sys, s.train, s.test)
}

fn quick(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch: 32,
        ..TrainConfig::default()
    }
}

#[test]
fn every_model_learns_beats_nothing_moves_and_second_order_beats_node() {
    let (sys, train_set, test) = small_data("chain-pendulum:1");
    let dev = Device::flex().autodiff();
    let cpu = Device::flex();
    // "Nothing moves", z(t) = z(0): the bar every trained model must clear on the test rollouts.
    let still = crate::metrics::mse(&test, &crate::metrics::persistence(&test)).unwrap();
    let mut mses = std::collections::HashMap::new();
    for kind in ModelKind::ALL {
        let mc = ModelConfig {
            width: 32,
            ..ModelConfig::new(kind, 1, sys.angular())
        };
        let cfg = quick(60);
        let out = train(mc.init(&dev), &train_set, &cfg, &dev, &mut |_, _| true);
        assert!(out.error.is_none(), "{kind}: {:?}", out.error);
        let (first, last) = (out.history[0].loss, out.history.last().unwrap().loss);
        assert!(last < 0.5 * first, "{kind}: loss {first} -> {last}");
        let mse = evaluate(&out.model, &test, &cfg.solver, &cpu).unwrap().mse;
        assert!(
            mse < 0.5 * still,
            "{kind}: test MSE {mse} vs nothing-moves {still}"
        );
        mses.insert(kind, mse);
    }
    // The paper's point on the same data: second-order structure beats the plain NODE.
    let (so, node) = (mses[&ModelKind::NodeSo], mses[&ModelKind::Node]);
    assert!(so < node, "node-so {so} should beat node {node}");
}

#[test]
fn divergence_is_reported_with_the_last_good_model() {
    let (sys, mut train_set, _) = small_data("chain-pendulum:1");
    train_set.q[3] = f64::NAN;
    let dev = Device::flex().autodiff();
    let mc = ModelConfig {
        width: 16,
        ..ModelConfig::new(ModelKind::Node, 1, sys.angular())
    };
    let out = train(
        mc.init(&dev),
        &train_set,
        &TrainConfig {
            epochs: 3,
            batch: 1000,
            ..TrainConfig::default()
        },
        &dev,
        &mut |_, _| true,
    );
    match out.error {
        Some(TrainError::Diverged { epoch: 1, .. }) => {}
        e => panic!("expected divergence at epoch 1, got {e:?}"),
    }
    assert!(out.error.unwrap().to_string().contains("epoch 1"));
}

#[test]
fn checkpoint_round_trip_is_bit_exact_and_bad_bytes_are_rejected() {
    let (sys, train_set, test) = small_data("spring-pendulum:1");
    let dev = Device::flex().autodiff();
    let mc = ModelConfig {
        width: 24,
        ..ModelConfig::new(ModelKind::Hnn, 3, sys.angular())
    };
    let out = train(mc.init(&dev), &train_set, &quick(2), &dev, &mut |_, _| true);
    let model = out.model;
    let ck =
        Checkpoint::from_model(&model, serde_json::json!({"system": "spring-pendulum:1"})).unwrap();
    let bytes = ck.to_bytes();
    let back = Checkpoint::from_bytes(&bytes).unwrap();
    assert_eq!(back.meta, ck.meta);
    let cpu = Device::flex();
    let loaded = back.model(&cpu).unwrap();
    let solver = crate::solve::Solver::default();
    let a = evaluate(&model, &test, &solver, &cpu).unwrap();
    let b = evaluate(&loaded, &test, &solver, &cpu).unwrap();
    assert_eq!(a, b, "predictions differ after the round trip");
    // A version 1 file (with its identity `normalisation`, dropped in version 2) still loads.
    let mut meta = serde_json::to_value(&ck.meta).unwrap();
    meta["format_version"] = 1.into();
    meta["normalisation"] = serde_json::json!({"shift": vec![0.0; 6], "scale": vec![1.0; 6]});
    let meta = serde_json::to_vec(&meta).unwrap();
    let mut v1 = b"PHASELAB-CKPT\n".to_vec();
    v1.extend_from_slice(&1u32.to_le_bytes());
    v1.extend_from_slice(&(meta.len() as u64).to_le_bytes());
    v1.extend_from_slice(&meta);
    v1.extend_from_slice(&(ck.weights.len() as u64).to_le_bytes());
    v1.extend_from_slice(&ck.weights);
    let old = Checkpoint::from_bytes(&v1).unwrap();
    assert_eq!(old.meta.format_version, 1);
    let c = evaluate(&old.model(&cpu).unwrap(), &test, &solver, &cpu).unwrap();
    assert_eq!(a, c, "a version 1 checkpoint predicts as it did");
    // Bad inputs.
    assert_eq!(
        Checkpoint::from_bytes(b"hello").err(),
        Some(CheckpointError::NotACheckpoint)
    );
    assert!(matches!(
        Checkpoint::from_bytes(&bytes[..bytes.len() - 10]),
        Err(CheckpointError::Truncated(_))
    ));
    let mut newer = bytes.clone();
    newer[14] = 99;
    assert_eq!(
        Checkpoint::from_bytes(&newer).err(),
        Some(CheckpointError::TooNew(99))
    );
    let mut wrong = Checkpoint::from_bytes(&bytes).unwrap();
    wrong.meta.model.width = 25;
    assert!(matches!(
        wrong.model(&cpu),
        Err(CheckpointError::Weights(_))
    ));
    // A hostile config is refused before anything is allocated.
    let mut huge = Checkpoint::from_bytes(&bytes).unwrap();
    huge.meta.model.width = 100_000;
    assert!(matches!(
        Checkpoint::from_bytes(&huge.to_bytes()),
        Err(CheckpointError::Metadata(_))
    ));
    let mut greedy = Checkpoint::from_bytes(&bytes).unwrap();
    greedy.meta.model.width = 4000;
    assert!(matches!(
        Checkpoint::from_bytes(&greedy.to_bytes()),
        Err(CheckpointError::Weights(_))
    ));
    let mut junk = Checkpoint::from_bytes(&bytes).unwrap();
    junk.weights = vec![1, 2, 3];
    assert!(matches!(junk.model(&cpu), Err(CheckpointError::Weights(_))));
}

/// The wgpu backend (Mesa's Vulkan driver on the CPU in CI) and flex give the same losses.
#[cfg(feature = "wgpu")]
#[test]
fn wgpu_and_flex_give_the_same_losses() {
    let (sys, train_set, _) = small_data("chain-pendulum:2");
    let run = |dev: Device| {
        let ad = dev.autodiff();
        let mc = ModelConfig {
            width: 32,
            ..ModelConfig::new(ModelKind::NodeSo, 2, sys.angular())
        };
        let out = train(mc.init(&ad), &train_set, &quick(4), &ad, &mut |_, _| true);
        assert!(out.error.is_none(), "{:?}", out.error);
        out.history.iter().map(|h| h.loss).collect::<Vec<_>>()
    };
    let flex = run(Device::flex());
    let wgpu = run(Device::wgpu(Default::default()));
    for (a, b) in flex.iter().zip(&wgpu) {
        assert!(
            (a - b).abs() < 1e-3 * a.abs(),
            "flex {flex:?} vs wgpu {wgpu:?}"
        );
    }
}

/// The paper's headline on a quick run: second-order structure beats a plain NODE in rollout error.
#[test]
fn quick_run_ranks_node_so_above_node() {
    let sys = system("chain-pendulum:2").unwrap();
    let p = Protocol {
        n_trajectories: 250,
        n_test: 20,
        test_chunk: 50,
        seed: 1,
        ..Protocol::default()
    };
    let s = p.generate(sys.as_ref(), &|_| {}).unwrap();
    let dev = Device::flex().autodiff();
    let gerr = |kind: ModelKind| {
        let mc = ModelConfig {
            width: 64,
            ..ModelConfig::new(kind, 2, sys.angular())
        };
        let out = train(
            mc.init(&dev),
            &s.train,
            &TrainConfig {
                epochs: 120,
                ..TrainConfig::default()
            },
            &dev,
            &mut |_, _| true,
        );
        assert!(out.error.is_none());
        evaluate(
            &out.model,
            &s.test,
            &crate::solve::Solver::default(),
            &Device::flex(),
        )
        .unwrap()
        .gerr
    };
    let (node, node_so) = (gerr(ModelKind::Node), gerr(ModelKind::NodeSo));
    eprintln!("quick run: node gerr {node:.4}, node-so gerr {node_so:.4}");
    assert!(
        node_so < 0.8 * node,
        "node-so gerr {node_so} vs node {node}"
    );
}

/// Drive a future whose reads are all ready (flex): one poll with a no-op waker.
fn ready<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("flex reads should be ready at once"),
    }
}

#[test]
fn async_epochs_evaluation_and_export_equal_the_synchronous_ones() {
    use crate::train::{evaluate_async, Trainer};
    let (sys, train_set, test) = small_data("chain-pendulum:1");
    let dev = Device::flex().autodiff();
    let mc = ModelConfig {
        width: 16,
        ..ModelConfig::new(ModelKind::NodeSo, 1, sys.angular())
    };
    let cfg = quick(3);
    let mut a = Trainer::new(mc.init(&dev), &train_set, &cfg, &dev).unwrap_or_else(|_| panic!());
    let mut b = Trainer::new(mc.init(&dev), &train_set, &cfg, &dev).unwrap_or_else(|_| panic!());
    for _ in 0..3 {
        let (x, y) = (a.epoch().unwrap(), ready(b.epoch_async()).unwrap());
        assert_eq!(x.loss, y.loss);
    }
    let cpu = Device::flex();
    let sync = evaluate(&a.model(), &test, &cfg.solver, &cpu).unwrap();
    let (asy, _) = ready(evaluate_async(&b.model(), &test, &cfg.solver, &cpu, true)).unwrap();
    assert_eq!(sync, asy);
    let meta = serde_json::json!({});
    let one = Checkpoint::from_model(&a.model(), meta.clone()).unwrap();
    let two = ready(Checkpoint::from_model_async(&b.model(), meta)).unwrap();
    // Same weights (parameter ids differ: the async copy is a fresh module).
    assert_eq!(one.meta, two.meta);
    let (ma, mb) = (one.model(&cpu).unwrap(), two.model(&cpu).unwrap());
    let ea = evaluate(&ma, &test, &cfg.solver, &cpu).unwrap();
    assert_eq!(ea, evaluate(&mb, &test, &cfg.solver, &cpu).unwrap());
    assert_eq!(ea, sync);
}
