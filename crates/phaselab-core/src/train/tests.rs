//! Learning checks: every model's loss falls, divergence is caught with the last good model,
//! checkpoints round-trip bit for bit and reject bad bytes.

use super::chunks::Chunks;
use super::*;
use crate::data::protocol::Protocol;
use crate::models::{DynamicsModel, ModelConfig, ModelKind};
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
    for kind in ModelKind::GENERALISED {
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
    assert!(old.note().unwrap().contains("version 1 has no checksum"));
    assert_eq!(back.note(), None, "a new file is verified");
    // A version 2 file (no checksum) loads, unverified.
    let mut v2 = bytes[..bytes.len() - 4].to_vec();
    v2[14..18].copy_from_slice(&2u32.to_le_bytes());
    let two = Checkpoint::from_bytes(&v2).unwrap();
    assert_eq!(
        (two.file_version, two.weights.clone()),
        (2, ck.weights.clone())
    );
    assert!(two.note().unwrap().contains("version 2"));
    // One flipped bit anywhere after the magic (here: in the weights, the metadata, the lengths
    // and the checksum itself) is refused as damage, not loaded with other numbers.
    let weights_at = bytes.len() - 4 - ck.weights.len();
    for at in [weights_at + ck.weights.len() / 2, 40, 20, bytes.len() - 1] {
        let mut flipped = bytes.clone();
        flipped[at] ^= 0x10;
        let e = Checkpoint::from_bytes(&flipped).err();
        assert!(
            matches!(
                e,
                Some(CheckpointError::Corrupt { .. } | CheckpointError::Truncated(_))
            ),
            "byte {at} flipped: {e:?}"
        );
    }
    let mut flipped = bytes.clone();
    flipped[weights_at + 7] ^= 1;
    let e = Checkpoint::from_bytes(&flipped).err().unwrap();
    assert!(matches!(e, CheckpointError::Corrupt { .. }), "{e:?}");
    assert!(e.to_string().contains("damaged"), "{e}");
    let mut longer = bytes.clone();
    longer.extend_from_slice(b"xyz");
    assert_eq!(
        Checkpoint::from_bytes(&longer).err(),
        Some(CheckpointError::Trailing(3))
    );
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
    let mc = ModelConfig {
        width: 32,
        ..ModelConfig::new(ModelKind::NodeSo, 2, sys.angular())
    };
    super::test_data::assert_wgpu_trains_like_flex(&mc, &train_set, &quick(4));
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
    let mut a = Trainer::single(mc.init(&dev), &train_set, &cfg, &dev).unwrap_or_else(|_| panic!());
    let mut b = Trainer::single(mc.init(&dev), &train_set, &cfg, &dev).unwrap_or_else(|_| panic!());
    for _ in 0..3 {
        let (x, y) = (a.epoch().unwrap(), ready(b.epoch_async()).unwrap());
        match (&x[0], &y[0]) {
            (MemberEpoch::Trained(x), MemberEpoch::Trained(y)) => assert_eq!(x.loss, y.loss),
            other => panic!("both epochs should train: {other:?}"),
        }
    }
    let cpu = Device::flex();
    let sync = evaluate(&a.member(0), &test, &cfg.solver, &cpu).unwrap();
    let (asy, _) = ready(evaluate_async(&b.member(0), &test, &cfg.solver, &cpu, true)).unwrap();
    assert_eq!(sync, asy);
    let meta = serde_json::json!({});
    let one = Checkpoint::from_model(&a.member(0), meta.clone()).unwrap();
    let two = ready(Checkpoint::from_model_async(&b.member(0), meta)).unwrap();
    // Same weights (parameter ids differ: the async copy is a fresh module).
    assert_eq!(one.meta, two.meta);
    let (ma, mb) = (one.model(&cpu).unwrap(), two.model(&cpu).unwrap());
    let ea = evaluate(&ma, &test, &cfg.solver, &cpu).unwrap();
    assert_eq!(ea, evaluate(&mb, &test, &cfg.solver, &cpu).unwrap());
    assert_eq!(ea, sync);
}

/// The values of a tensor as f64 (whatever its float type).
fn f64s<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data()
        .convert::<f64>()
        .try_into_vec::<f64>()
        .unwrap()
}

/// Every parameter tensor's values, in the module's visiting order.
struct Values(Vec<Vec<f64>>);

impl burn::module::ModuleVisitor for Values {
    fn visit_float<const D: usize>(&mut self, p: &burn::module::Param<Tensor<D>>) {
        self.0.push(f64s(p.val()));
    }
}

fn values_of<M: burn::module::Module>(m: &M) -> Vec<Vec<f64>> {
    let mut v = Values(Vec::new());
    m.visit(&mut v);
    v.0
}

/// Each parameter's gradient in `grads` (zeros where it has none), in visiting order.
struct GradValues<'a>(&'a burn::optim::GradientsParams, Vec<Vec<f64>>);

impl burn::module::ModuleVisitor for GradValues<'_> {
    fn visit_float<const D: usize>(&mut self, p: &burn::module::Param<Tensor<D>>) {
        let n = p.val().shape().num_elements();
        self.1
            .push(self.0.get::<D>(p.id).map_or(vec![0.0; n], f64s));
    }
}

fn grads_of<M: burn::module::Module>(m: &M, g: &burn::optim::GradientsParams) -> Vec<Vec<f64>> {
    let mut v = GradValues(g, Vec::new());
    m.visit(&mut v);
    v.1
}

/// Replaces parameter tensor j's values by `values[j]` (same ids, same device).
struct SetValues(std::vec::IntoIter<Vec<f64>>);

impl burn::module::ModuleMapper for SetValues {
    fn map_float<const D: usize>(
        &mut self,
        p: burn::module::Param<Tensor<D>>,
    ) -> burn::module::Param<Tensor<D>> {
        let (id, t, mapper) = p.consume();
        let (shape, device) = (t.shape(), t.device());
        let v = self.0.next().expect("a value for every parameter");
        let mut out = Tensor::<D>::from_data(TensorData::new(v, shape), &device);
        if t.is_require_grad() {
            out = out.require_grad();
        }
        burn::module::Param::from_mapped_value(id, out, mapper)
    }
}

fn with_values<M: burn::module::Module>(m: M, values: Vec<Vec<f64>>) -> M {
    m.map(&mut SetValues(values.into_iter()))
}

/// The warm-up option scales the schedule by e / warmup over its first epochs and leaves it
/// alone after; without it (the reference's protocol) the schedule is unchanged.
#[test]
fn a_warm_up_ramps_the_learning_rate_linearly_then_hands_over_to_the_schedule() {
    let plain = TrainConfig {
        epochs: 100,
        lr: 5e-3,
        ..TrainConfig::default()
    };
    let warm = TrainConfig {
        warmup: 2.0,
        ..plain.clone()
    };
    assert_eq!(warm.lr_at(0.0), 0.0);
    for (e, f) in [(0.5, 0.25), (1.0, 0.5), (2.0, 1.0), (3.0, 1.0), (60.0, 1.0)] {
        let (w, p) = (warm.lr_at(e), plain.lr_at(e));
        assert!((w - f * p).abs() < 1e-15, "epoch {e}: {w} vs {f} x {p}");
    }
    // Records and checkpoints without it read as before, and it is written only when set.
    let text = serde_json::to_string(&plain).unwrap();
    assert!(!text.contains("warmup"), "{text}");
    let back: TrainConfig = serde_json::from_str(&text).unwrap();
    assert_eq!(back, plain);
}

#[test]
fn lr_schedule_matches_the_reference_formula() {
    // The reference's schedule (cosLr of github.com/mfinzi/olive-oil-ml, stepped every minibatch
    // at fractional epoch e):
    // lr = lr0 max(0.5 (1 + cos(pi e / E)), 1e-3). Values worked out by hand for E = 100.
    let cfg = TrainConfig {
        epochs: 100,
        lr: 5e-3,
        ..TrainConfig::default()
    };
    assert_eq!(cfg.schedule, Schedule::CosineStep, "the default");
    for (e, expect) in [
        (0.0, 5e-3),
        (25.0, 5e-3 * 0.853_553_390_593_273_8), // (1 + sqrt(2)/2) / 2
        (100.0 / 3.0, 5e-3 * 0.75),             // cos(pi/3) = 1/2
        (50.0, 5e-3 * 0.5),
        (50.25, 5e-3 * 0.496_073_049_555_644_4), // fractional epochs are not rounded
        (75.0, 5e-3 * 0.146_446_609_406_726_2),
        (99.5, 5e-3 * 1e-3), // the cosine is 6.2e-5 here, below the floor 1e-3
        (100.0, 5e-3 * 1e-3),
    ] {
        let lr = cfg.lr_at(e);
        assert!(
            (lr - expect).abs() <= 1e-12 * expect.max(1e-9),
            "epoch {e}: {lr} vs {expect}"
        );
    }
    // MuJoCo: PyTorch's CosineAnnealingLR stepped per whole epoch, to an absolute minimum.
    let mujoco = TrainConfig {
        epochs: 4,
        lr: 1e-2,
        schedule: Schedule::CosineEpoch { lr_min: 1e-4 },
        ..TrainConfig::default()
    };
    for (e, expect) in [
        (0.0, 1e-2),
        (0.9, 1e-2),
        (1.0, 1e-4 + (1e-2 - 1e-4) * 0.853_553_390_593_273_8),
        (2.7, 1e-4 + (1e-2 - 1e-4) * 0.5),
        (4.0, 1e-4),
    ] {
        let lr = mujoco.lr_at(e);
        assert!((lr - expect).abs() <= 1e-15, "epoch {e}: {lr} vs {expect}");
    }
}

#[test]
fn clip_global_norm_scales_to_the_bound_over_all_parameters_together() {
    use burn::optim::GradientsParams;
    let dev = Device::flex().autodiff();
    let net =
        crate::models::mlp::Mlp::new(&[2, 3, 1], false, Some(&mut crate::rng::Rng::new(0)), &dev);
    // Squares 6 + 3 + 12 + 4 = 25: global norm 5, while every tensor's own norm is below 4.
    let given: Vec<Vec<f32>> = vec![vec![1.0; 6], vec![-1.0; 3], vec![2.0; 3], vec![-2.0]];
    let make = || {
        let mut g = GradientsParams::new();
        let (l0, l1) = (&net.layers[0], &net.layers[1]);
        let t2 = |v: &Vec<f32>, s: [usize; 2]| {
            Tensor::<2>::from_data(TensorData::new(v.clone(), s), &dev)
        };
        let t1 = |v: &Vec<f32>| Tensor::<1>::from_data(TensorData::new(v.clone(), [v.len()]), &dev);
        g.register(l0.w.id, t2(&given[0], [2, 3]));
        g.register(l0.b.id, t1(&given[1]));
        g.register(l1.w.id, t2(&given[2], [3, 1]));
        g.register(l1.b.id, t1(&given[3]));
        g
    };
    for (bound, factor) in [(4.0, 0.8), (1.0, 0.2), (5.0, 1.0), (10.0, 1.0)] {
        let mut g = make();
        super::clip::clip_global_norm(&net, &mut g, bound);
        let got = grads_of(&net, &g);
        for (j, (a, b)) in got.iter().zip(&given).enumerate() {
            for (x, &y) in a.iter().zip(b) {
                let expect = y as f64 * factor;
                assert!(
                    (x - expect).abs() <= 1e-6 * expect.abs(),
                    "bound {bound}, tensor {j}: {x} vs {expect}"
                );
            }
        }
        // Under the bound nothing changes at all.
        if bound > 5.0 {
            let exact: Vec<Vec<f64>> = given
                .iter()
                .map(|v| v.iter().map(|&x| x as f64).collect())
                .collect();
            assert_eq!(got, exact, "bound {bound}");
        }
    }
}

/// AdamW (decoupled weight decay) or Adam with an L2 term, by hand in f64 (PyTorch's formulas):
/// the parameters after each step along `grads[s]` (already clipped) with learning rate `lr[s]`.
fn adam_by_hand(
    theta0: &[f64],
    grads: &[Vec<f64>],
    lr: &[f64],
    wd: f64,
    decoupled: bool,
) -> Vec<Vec<f64>> {
    let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
    let mut theta = theta0.to_vec();
    let (mut m, mut v) = (vec![0.0; theta.len()], vec![0.0; theta.len()]);
    let mut out = Vec::new();
    for (s, g) in grads.iter().enumerate() {
        let t = (s + 1) as i32;
        for i in 0..theta.len() {
            let gi = if decoupled {
                g[i]
            } else {
                g[i] + wd * theta[i]
            };
            m[i] = b1 * m[i] + (1.0 - b1) * gi;
            v[i] = b2 * v[i] + (1.0 - b2) * gi * gi;
            let (mh, vh) = (m[i] / (1.0 - b1.powi(t)), v[i] / (1.0 - b2.powi(t)));
            if decoupled {
                theta[i] *= 1.0 - lr[s] * wd;
            }
            theta[i] -= lr[s] * mh / (vh.sqrt() + eps);
        }
        out.push(theta.clone());
    }
    out
}

#[test]
fn member_adam_steps_match_adamw_and_adam_by_hand() {
    use super::member_adam::{MemberAdam, MemberStep};
    use crate::models::mlp::Mlp;
    use burn::optim::GradientsParams;
    let dev = Device::flex().autodiff();
    // Two members of one layer x W + b, W [2, 1]: member k owns W rows 2k..2k+2 and b[k].
    let nets: Vec<Mlp> = (0..2)
        .map(|k| Mlp::new(&[2, 1], false, Some(&mut crate::rng::Rng::new(k)), &dev))
        .collect();
    // Per step and member: (dW, db); member 1's gradients exceed its bound 0.5.
    let g = [
        [[0.3, -0.2, 0.05], [0.6, 0.8, -0.4]],
        [[-0.1, 0.4, 0.2], [0.2, -0.9, 0.3]],
        [[0.25, 0.1, -0.3], [0.5, 0.5, 0.5]],
    ];
    let (lr, wd, clip) = ([0.01, 0.02], [0.1, 0.5], [1e9, 0.5]);
    for kind in [OptimizerKind::AdamW, OptimizerKind::Adam] {
        let mut model = Mlp::stack(&nets);
        let start = values_of(&model); // [W (4), b (2)]
        let mut optim = MemberAdam::new(kind);
        let mut seen = Vec::new();
        for (s, gs) in g.iter().enumerate() {
            let mut grads = GradientsParams::new();
            let w: Vec<f32> = gs.iter().flat_map(|m| [m[0] as f32, m[1] as f32]).collect();
            let b: Vec<f32> = gs.iter().map(|m| m[2] as f32).collect();
            let l = &model.layers[0];
            grads.register(
                l.w.id,
                Tensor::<2>::from_data(TensorData::new(w, [4, 1]), &dev),
            );
            grads.register(
                l.b.id,
                Tensor::<1>::from_data(TensorData::new(b, [2]), &dev),
            );
            // Member 1 is frozen at the third step.
            let frozen = [false, s == 2];
            let step = MemberStep {
                lr: &lr,
                weight_decay: &wd,
                clip: &clip,
                frozen: &frozen,
            };
            model = optim.step(model, grads, &step, &dev);
            seen.push(values_of(&model));
        }
        for k in 0..2 {
            let theta0 = [start[0][2 * k], start[0][2 * k + 1], start[1][k]];
            let clipped: Vec<Vec<f64>> = g
                .iter()
                .map(|gs| {
                    let n = gs[k].iter().map(|x| x * x).sum::<f64>().sqrt();
                    let f = (clip[k] / n).min(1.0);
                    gs[k].iter().map(|x| x * f).collect()
                })
                .collect();
            let steps = if k == 1 { 2 } else { 3 };
            let hand = adam_by_hand(
                &theta0,
                &clipped[..steps],
                &[lr[k]; 3],
                wd[k],
                kind == OptimizerKind::AdamW,
            );
            for (s, vals) in seen.iter().enumerate() {
                let ours = [vals[0][2 * k], vals[0][2 * k + 1], vals[1][k]];
                // The frozen member keeps its weights from step 2.
                let expect = &hand[s.min(steps - 1)];
                for i in 0..3 {
                    assert!(
                        (ours[i] - expect[i]).abs() < 2e-7,
                        "{kind:?} member {k} step {}: {ours:?} vs {expect:?}",
                        s + 1
                    );
                }
                // Not a trivial agreement: every step moved the parameters.
                if s < steps {
                    let before = if s == 0 {
                        theta0.to_vec()
                    } else {
                        hand[s - 1].clone()
                    };
                    assert!(
                        (0..3).all(|i| (expect[i] - before[i]).abs() > 1e-4),
                        "{kind:?} member {k} step {}: {before:?} -> {expect:?}",
                        s + 1
                    );
                }
            }
        }
    }
}

#[test]
fn trainer_steps_are_clipped_adamw_on_the_schedule_by_hand() {
    use super::batch_split::loss_and_grads;
    use super::trainable::Minibatch;
    let (sys, train_set, _) = small_data("chain-pendulum:1");
    let dev = Device::flex().autodiff();
    let mc = ModelConfig {
        width: 8,
        ..ModelConfig::new(ModelKind::Node, 1, sys.angular())
    };
    let n = train_set.n;
    // One step per epoch (the batch is the whole set), two epochs: lr 1e-2, then
    // 1e-2 (1 + cos(pi / 2)) / 2 = 5e-3; a weight decay and a bound large enough to matter.
    let cfg = TrainConfig {
        epochs: 2,
        batch: n,
        lr: 1e-2,
        weight_decay: 0.1,
        clip: 2e-3,
        seed: 4,
        ..TrainConfig::default()
    };
    let mut trainer =
        Trainer::single(mc.init(&dev), &train_set, &cfg, &dev).unwrap_or_else(|_| panic!());
    let theta0 = values_of(&mc.init(&dev));
    let mut thetas = vec![theta0.clone()];
    for _ in 0..2 {
        trainer.epoch().unwrap();
        thetas.push(values_of(&trainer.member(0)));
    }
    // The gradient at each step's parameters on that step's rows (the trainer's minibatch order),
    // clipped to global norm 2e-3 by hand.
    let data = mc.init(&dev).prepare(&train_set).unwrap();
    let mut rng = crate::rng::Rng::new(cfg.seed);
    let flat = |v: &Vec<Vec<f64>>| v.iter().flatten().copied().collect::<Vec<f64>>();
    let mut clipped = Vec::new();
    for theta in &thetas[..2] {
        let rows = rng.permutation(n);
        let model = with_values(mc.init(&dev), theta.clone());
        let one = [Minibatch {
            data: &data,
            rows: &rows,
            cfg: &cfg,
        }];
        let (_, grads) = loss_and_grads(&model, &one, &dev);
        let g = flat(&grads_of(&model, &grads));
        let norm = g.iter().map(|x| x * x).sum::<f64>().sqrt();
        assert!(norm > 2.0 * cfg.clip, "the bound should bind: norm {norm}");
        clipped.push(g.iter().map(|x| x * cfg.clip / norm).collect::<Vec<f64>>());
    }
    let hand = adam_by_hand(&flat(&theta0), &clipped, &[1e-2, 5e-3], 0.1, true);
    for s in 0..2 {
        let ours = flat(&thetas[s + 1]);
        let worst = ours
            .iter()
            .zip(&hand[s])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(worst < 1e-6, "step {}: max difference {worst}", s + 1);
    }
    // Each step moves every weight by about lr: far above that tolerance.
    let moved = flat(&thetas[1])
        .iter()
        .zip(flat(&theta0))
        .map(|(a, b)| (a - b).abs())
        .fold(f64::INFINITY, f64::min);
    assert!(moved > 1e-4, "{moved}");
}

#[test]
fn learned_h_drift_is_the_mean_worst_departure_of_the_models_own_h() {
    use crate::solve::{Method, Solver};
    let sys = system("chain-pendulum:1").unwrap();
    // More test chunks than one evaluation block (256) holds.
    let p = Protocol {
        n_trajectories: 10,
        n_test: 300,
        test_chunk: 6,
        ..Protocol::default()
    };
    let test = p.generate(sys.as_ref(), &|_| {}).unwrap().test;
    let cpu = Device::flex();
    let mc = ModelConfig {
        width: 16,
        ..ModelConfig::new(ModelKind::Hnn, 1, sys.angular())
    };
    let model = mc.init(&cpu);
    // Euler steps do not conserve H: a drift well above rounding.
    let solver = Solver {
        method: Method::Euler,
        substeps: 1,
    };
    let ev = evaluate(&model, &test, &solver, &cpu).unwrap();
    // By hand: roll out every chunk from its first state, H of the model's own states, the worst
    // |H(t) - H(0)| of each chunk, averaged over chunks.
    let (t, w) = (test.t, 2 * test.d);
    let z0: Vec<f32> = (0..test.n)
        .flat_map(|i| {
            let (q, v) = test.state(i, 0);
            q.iter().chain(v).map(|&x| x as f32).collect::<Vec<_>>()
        })
        .collect();
    let z0 = Tensor::<2>::from_data(TensorData::new(z0, [test.n, w]), &cpu);
    let (_, states) = model.rollout(z0, t, test.dt, &solver);
    let h = f64s(model.hamiltonian(states.reshape([test.n * t, w])).unwrap());
    let mut total = 0.0;
    for i in 0..test.n {
        let h0 = h[i * t];
        total += (0..t)
            .map(|k| (h[i * t + k] - h0).abs())
            .fold(0.0, f64::max);
    }
    let by_hand = total / test.n as f64;
    let drift = ev.learned_h_drift.expect("an HNN reports its drift");
    assert!(by_hand > 1e-4, "{by_hand}");
    assert!(
        (drift - by_hand).abs() <= 1e-4 * by_hand,
        "{drift} vs {by_hand}"
    );
    // A conserving integrator on the same model drifts far less.
    let rk4 = evaluate(
        &model,
        &test,
        &Solver {
            method: Method::Rk4,
            substeps: 4,
        },
        &cpu,
    )
    .unwrap();
    assert!(rk4.learned_h_drift.unwrap() < 0.1 * drift);
    // Models without a learned H have none.
    let node = ModelConfig {
        width: 16,
        ..ModelConfig::new(ModelKind::NodeSo, 1, sys.angular())
    };
    assert_eq!(
        evaluate(&node.init(&cpu), &test, &solver, &cpu)
            .unwrap()
            .learned_h_drift,
        None
    );
}

const GRAD_TEST: &str = "model_parameter_gradients_match_finite_differences_and_plain_ops";

/// The gradient cases: model kinds on a small chain-pendulum:2 set (angles and a learned mass
/// matrix), and the symplectic penalty weighted so that it counts.
fn gradient_cases(dev: &Device) -> Vec<(DynamicsModel, Chunks, TrainConfig)> {
    let sys = system("chain-pendulum:2").unwrap();
    let p = Protocol {
        n_trajectories: 12,
        n_test: 1,
        test_chunk: 5,
        seed: 5,
        ..Protocol::default()
    };
    let set = p.generate(sys.as_ref(), &|_| {}).unwrap().train;
    GRADIENT_KINDS
        .into_iter()
        .map(|kind| {
            let mc = ModelConfig {
                width: 8,
                alpha: 1.0,
                seed: 3,
                ..ModelConfig::new(kind, 2, sys.angular())
            };
            let model = mc.init(dev);
            let data = model.prepare(&set).unwrap();
            (model, data, TrainConfig::default())
        })
        .collect()
}

/// The models whose parameter gradients are checked.
const GRADIENT_KINDS: [ModelKind; 7] = [
    ModelKind::Hnn,
    ModelKind::NodeSo,
    ModelKind::NodeSoSymreg,
    ModelKind::Delan,
    ModelKind::Lnn,
    ModelKind::PortHnn,
    ModelKind::DHnn,
];

const GRAD_ROWS: [usize; 6] = [0, 2, 3, 5, 7, 8];

/// The training loss of `model` on `GRAD_ROWS` and its gradient per parameter tensor.
fn loss_grads(
    model: &DynamicsModel,
    data: &Chunks,
    cfg: &TrainConfig,
    dev: &Device,
) -> Vec<Vec<f64>> {
    let one = [super::trainable::Minibatch {
        data,
        rows: &GRAD_ROWS,
        cfg,
    }];
    let loss = model.batch_loss(&one, dev);
    let g = burn::optim::GradientsParams::from_grads(loss.sum().backward(), model);
    grads_of(model, &g)
}

fn loss_at(model: &DynamicsModel, data: &Chunks, cfg: &TrainConfig, dev: &Device) -> f64 {
    let one = [super::trainable::Minibatch {
        data,
        rows: &GRAD_ROWS,
        cfg,
    }];
    f64s(model.batch_loss(&one, dev))[0]
}

/// Run this test in a child in `mode`; the child's gradients [case][tensor][entry].
fn child_gradients(mode: &str) -> Vec<Vec<Vec<f64>>> {
    let name = format!(
        "{}::{GRAD_TEST}",
        module_path!().split_once("::").unwrap().1
    );
    crate::test_child::run(&name, mode)
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// The training-loss gradients of HNN, NODE+SO, NODE+SO with its symplectic penalty, the
/// Lagrangian networks and the dissipative HNNs, with respect to every parameter: in f64 against central finite differences along several
/// directions per parameter tensor; the f32 gradients of the fused CPU kernels and of the
/// PHASELAB_PLAIN_OPS path (burn's own ops) against the f64 ones.
#[test]
fn model_parameter_gradients_match_finite_differences_and_plain_ops() {
    let mode = crate::test_child::mode();
    if mode.as_deref() == Some("f64") {
        // Before any tensor exists in this process: every float is f64.
        let flex = crate::test_child::flex_f64();
        let dev = flex.clone().autodiff();
        let mut all = Vec::new();
        for (model, data, cfg) in gradient_cases(&dev) {
            let kind = model.kind();
            let w = model.main.layers[0].w.val();
            assert_eq!(
                w.dtype(),
                burn::tensor::DType::F64,
                "{kind}: weights in f64"
            );
            let grads = loss_grads(&model, &data, &cfg, &dev);
            let theta = values_of(&model);
            let plain = model.valid();
            let total = norm(&grads.iter().flatten().copied().collect::<Vec<_>>());
            let mut rng = crate::rng::Rng::new(11);
            for (j, g) in grads.iter().enumerate() {
                let gn = norm(g);
                // Along the gradient itself, and along two random directions.
                let mut dirs: Vec<Vec<f64>> = (0..2)
                    .map(|_| (0..g.len()).map(|_| rng.normal()).collect())
                    .collect();
                if gn > 0.0 {
                    dirs.push(g.clone());
                }
                for d in dirs {
                    let dn = norm(&d);
                    let d: Vec<f64> = d.iter().map(|x| x / dn).collect();
                    let h = 1e-5;
                    let at = |s: f64| {
                        let mut v = theta.clone();
                        v[j].iter_mut().zip(&d).for_each(|(x, y)| *x += s * y);
                        loss_at(&with_values(plain.clone(), v), &data, &cfg, &flex)
                    };
                    let fd = (at(h) - at(-h)) / (2.0 * h);
                    let ad: f64 = g.iter().zip(&d).map(|(a, b)| a * b).sum();
                    assert!(
                        (fd - ad).abs() <= 1e-8 * total,
                        "{kind} tensor {j}: finite difference {fd} vs gradient {ad} (|g_j| {gn}, |g| {total})"
                    );
                }
            }
            all.push(grads);
        }
        crate::test_child::write(&all);
        return;
    }
    let dev = Device::flex().autodiff();
    let ours: Vec<Vec<Vec<f64>>> = gradient_cases(&dev)
        .iter()
        .map(|(m, d, c)| loss_grads(m, d, c, &dev))
        .collect();
    if mode.as_deref() == Some("plain") {
        assert!(crate::cpu::plain_ops(), "PHASELAB_PLAIN_OPS is set");
        crate::test_child::write(&ours);
        return;
    }
    assert!(
        !crate::cpu::plain_ops(),
        "run without PHASELAB_PLAIN_OPS: this checks the fused kernels"
    );
    let exact = child_gradients("f64");
    let plain = child_gradients("plain");
    for (c, kind) in GRADIENT_KINDS.iter().enumerate() {
        let total = norm(&exact[c].iter().flatten().copied().collect::<Vec<_>>());
        assert!(total > 1e-3, "{kind}: a gradient to check ({total})");
        for (what, got) in [("fused f32", &ours), ("plain-ops f32", &plain)] {
            assert_eq!(got[c].len(), exact[c].len());
            for (j, (a, b)) in got[c].iter().zip(&exact[c]).enumerate() {
                let worst = a
                    .iter()
                    .zip(b)
                    .map(|(x, y)| (x - y).abs())
                    .fold(0.0, f64::max);
                assert!(
                    worst <= 2e-5 * total,
                    "{kind} tensor {j}: {what} gradient differs from the f64 one by {worst} (|g| {total})"
                );
            }
        }
    }
}
