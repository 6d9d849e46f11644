//! The run path: a session stepped an epoch at a time (as the playground does) is `train_runs`,
//! checkpoints come at the cadence, and a divergence leaves a record and the last good model.

use super::block_on;
use super::config::TrainConfig;
use super::run::{train_runs, NoSink, Run, RunFailure, RunSession, RunSink, CHECKPOINT_EVERY};
use super::test_data::generated;
use super::{Checkpoint, TrainError, TrainingRecord};
use crate::experiments::record::{Build, Outcome, RunRecord};
use crate::experiments::{Figure, Tier};
use crate::models::{ModelConfig, ModelKind};
use burn::prelude::*;
use std::sync::Arc;

/// The epochs each checkpoint it is handed says it holds, per run.
#[derive(Default)]
struct Kept(Vec<(usize, usize)>);

impl RunSink for Kept {
    fn checkpoint(&mut self, run: usize, ck: &Checkpoint) -> Result<(), String> {
        let rec = TrainingRecord::of(ck).ok_or("no training record")?;
        self.0.push((run, rec.epochs_done));
        Ok(())
    }
}

fn runs(epochs: usize, lr: [f64; 2]) -> Vec<Run> {
    let (train, test) = generated("chain-pendulum:1", 20, 4, 20, 0);
    let (train, test) = (Arc::new(train), Arc::new(test));
    lr.iter()
        .enumerate()
        .map(|(k, &lr)| Run {
            model: ModelConfig {
                width: 16,
                seed: k as u64,
                ..ModelConfig::new(ModelKind::NodeSo, 1, vec![true])
            },
            train: TrainConfig {
                epochs,
                lr,
                batch: 8,
                seed: k as u64,
                ..TrainConfig::default()
            },
            train_set: train.clone(),
            test: test.clone(),
        })
        .collect()
}

/// Optimiser steps in an epoch of [`runs`].
fn per_epoch() -> usize {
    super::steps_per_epoch(runs(1, [0.0; 2])[0].train_set.n, 8)
}

#[test]
fn a_session_stepped_asynchronously_is_train_runs() {
    let dev = Device::flex();
    let mut kept = Kept::default();
    let whole = train_runs(runs(CHECKPOINT_EVERY + 1, [5e-3, 2e-3]), &dev, &mut kept).unwrap();
    // Checkpoints at epoch 25 and at the end, for each run.
    kept.0.sort();
    let want = vec![
        (0, CHECKPOINT_EVERY),
        (0, 26),
        (1, CHECKPOINT_EVERY),
        (1, 26),
    ];
    assert_eq!(kept.0, want);
    // The playground's way: one epoch per call, reads awaited, nothing kept.
    let mut session = RunSession::start(runs(CHECKPOINT_EVERY + 1, [5e-3, 2e-3]), &dev).unwrap();
    while !session.finished() {
        block_on(session.epoch_async(&mut NoSink)).unwrap();
    }
    let stepped = block_on(session.finish_async(&dev, &mut NoSink)).unwrap();
    for (a, b) in whole.iter().zip(&stepped) {
        let losses =
            |r: &super::run::RunResult| r.history.iter().map(|h| h.loss).collect::<Vec<_>>();
        assert_eq!(losses(a), losses(b));
        let (ma, mb) = (a.outcome.as_ref().unwrap(), b.outcome.as_ref().unwrap());
        assert_eq!(ma.test, mb.test);
        assert_eq!(a.optimiser_steps, 26 * per_epoch());
        assert_eq!(ma.population, 2);
    }
    assert_eq!(session.record(1).epochs_done, 26);
    assert_eq!(
        session.record(1).final_loss,
        stepped[1].history.last().map(|h| h.loss)
    );
}

#[test]
fn a_diverged_run_leaves_its_last_good_model_and_a_record() {
    let dev = Device::flex();
    let mut kept = Kept::default();
    // A learning rate of 1e6 diverges within a few epochs; the other run goes on.
    let results = train_runs(runs(4, [5e-3, 1e6]), &dev, &mut kept).unwrap();
    assert!(results[0].outcome.is_ok());
    let Err(RunFailure::Train(TrainError::Diverged { epoch, .. })) = results[1].outcome else {
        panic!("{:?}", results[1].outcome.as_ref().err());
    };
    assert!(kept.0.contains(&(1, epoch - 1)), "{:?}", kept.0);
    assert_eq!(results[1].optimiser_steps, (epoch - 1) * per_epoch());
    let spec = Figure::Fig4.runs(Tier::Smoke, None)[0].clone();
    let build = Build {
        version: "test",
        git_commit: "abc",
    };
    let bad = results[1].clone();
    let rec = RunRecord::of_result(spec.clone(), bad, 2, build).unwrap();
    assert_eq!(rec.outcome, Outcome::Diverged { epoch });
    assert_eq!(rec.optimiser_steps, (epoch - 1) * per_epoch());
    assert_eq!(rec.loss_history.len(), results[1].history.len());
    let good = RunRecord::of_result(spec, results[0].clone(), 2, build).unwrap();
    assert!(good.test().is_some() && good.population == 2);
}

/// Every step handed over, in order, when the sink asks for a trace.
#[derive(Default)]
struct Traced(Vec<super::StepTrace>);

impl RunSink for Traced {
    fn checkpoint(&mut self, _run: usize, _ck: &Checkpoint) -> Result<(), String> {
        Ok(())
    }

    fn traces_steps(&self) -> bool {
        true
    }

    fn steps(&mut self, steps: &[super::StepTrace]) {
        self.0.extend_from_slice(steps);
    }
}

/// One HNN run on the chain pendulum: a model with a mass network, so every probe is read.
fn hnn_run(epochs: usize, lr: f64) -> Vec<Run> {
    let mut r = runs(epochs, [lr, lr]);
    r.truncate(1);
    r[0].model = ModelConfig {
        width: 16,
        ..ModelConfig::new(ModelKind::Hnn, 1, vec![true])
    };
    r
}

#[test]
fn a_traced_run_is_the_same_run_and_its_steps_make_its_epochs() {
    let dev = Device::flex();
    let plain = train_runs(hnn_run(3, 5e-3), &dev, &mut NoSink).unwrap();
    let mut traced = Traced::default();
    let with = train_runs(hnn_run(3, 5e-3), &dev, &mut traced).unwrap();
    let losses = |r: &super::run::RunResult| r.history.iter().map(|h| h.loss).collect::<Vec<_>>();
    assert_eq!(losses(&plain[0]), losses(&with[0]));
    assert_eq!(
        plain[0].outcome.as_ref().unwrap().test,
        with[0].outcome.as_ref().unwrap().test
    );
    let steps = &traced.0;
    assert_eq!(steps.len(), 3 * per_epoch());
    for (i, s) in steps.iter().enumerate() {
        assert_eq!((s.step, s.epoch), (i, i / per_epoch() + 1));
        assert!(s.grad_norm > 0.0 && s.weight_max > 0.0, "{s:?}");
        let names: Vec<&str> = s.probes.iter().map(|p| p.0.as_str()).collect();
        let want = [
            "state_max",
            "field_max",
            "rollout_max",
            "mass_diag_min",
            "mass_entry_max",
            "mass_inverse_max",
        ];
        assert_eq!(names, want);
        // L's diagonal is softplus + EPS.
        assert!(s.probe("mass_diag_min").unwrap() > crate::models::mass_matrix::EPS);
    }
    // Each epoch's loss is the mean of its steps' losses.
    for (e, h) in with[0].history.iter().enumerate() {
        let own = &steps[e * per_epoch()..(e + 1) * per_epoch()];
        let mean = own.iter().map(|s| s.loss).sum::<f64>() / own.len() as f64;
        assert!(
            (mean - h.loss).abs() <= 1e-6 * h.loss.abs(),
            "{mean} {}",
            h.loss
        );
        assert_eq!(own.last().unwrap().lr, h.lr);
    }
    let csv = std::iter::once(super::StepTrace::csv_header(&steps[0].probes))
        .chain(steps.iter().map(super::StepTrace::csv_row))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(&super::StepTrace::from_csv(&csv).unwrap(), steps);
}

#[test]
fn a_traced_lnn_reads_the_spectrum_of_its_velocity_hessian() {
    let dev = Device::flex();
    let mut r = hnn_run(1, 5e-3);
    r[0].model = ModelConfig {
        width: 16,
        ..ModelConfig::new(ModelKind::Lnn, 1, vec![true])
    };
    let mut traced = Traced::default();
    train_runs(r, &dev, &mut traced).unwrap();
    for s in &traced.0 {
        let names: Vec<&str> = s.probes.iter().map(|p| p.0.as_str()).collect();
        let want = [
            "state_max",
            "field_max",
            "rollout_max",
            "hessian_abs_min",
            "hessian_abs_max",
            "hessian_indefinite",
        ];
        assert_eq!(names, want);
        let (small, large) = (s.probe(want[3]).unwrap(), s.probe(want[4]).unwrap());
        let mixed = s.probe(want[5]).unwrap();
        assert!(0.0 < small && small <= large && large.is_finite(), "{s:?}");
        assert!((0.0..=1.0).contains(&mixed), "{s:?}");
    }
}

#[test]
fn a_traced_divergence_shows_its_non_finite_step_and_a_population_is_not_traced() {
    let dev = Device::flex();
    let mut traced = Traced::default();
    let out = train_runs(hnn_run(6, 1e6), &dev, &mut traced).unwrap();
    let Err(RunFailure::Train(TrainError::Diverged { step, .. })) = out[0].outcome else {
        panic!("{:?}", out[0].outcome.as_ref().err());
    };
    assert!(!traced.0[step].loss.is_finite(), "{:?}", traced.0[step]);
    assert!(traced.0[..step].iter().all(|s| s.loss.is_finite()));
    let two = train_runs(runs(1, [5e-3, 5e-3]), &dev, &mut Traced::default());
    assert!(matches!(two, Err(super::run::RunError::Setup { .. })));
    assert!(super::StepTrace::from_csv("step,loss\n1,2").is_err());
}

#[test]
fn a_fixed_edge_mass_keeps_its_initial_weights_alone_and_in_a_population() {
    let dev = Device::flex();
    let ad = dev.clone().autodiff();
    let (train_set, _) = generated("spring-pendulum:1", 20, 2, 10, 0);
    let cfg = |fixed: bool, seed: u64| ModelConfig {
        width: 16,
        seed,
        fixed_edge_mass: fixed,
        ..ModelConfig::for_data(ModelKind::HnnGeneral, &train_set)
    };
    let tc = TrainConfig {
        epochs: 3,
        batch: 8,
        ..TrainConfig::default()
    };
    let d = train_set.d;
    let q = Tensor::<2>::from_data(
        TensorData::new((0..2 * d).map(|i| 0.3 - 0.1 * i as f32).collect(), [2, d]),
        &dev,
    );
    let factor = |m: &crate::models::DynamicsModel| {
        m.valid()
            .lower(q.clone())
            .l
            .into_data()
            .try_into_vec::<f32>()
            .unwrap()
    };
    let net = |m: &crate::models::DynamicsModel| {
        let z = Tensor::<2>::ones([1, m.emb.width() + d], &dev);
        m.valid()
            .main
            .forward(z)
            .into_data()
            .try_into_vec::<f32>()
            .unwrap()
    };
    for fixed in [false, true] {
        let start = cfg(fixed, 0).init(&ad);
        let trained = super::train(start.clone(), &train_set, &tc, &ad, &mut |_, _| true);
        assert!(trained.error.is_none());
        assert_eq!(
            factor(&trained.model) == factor(&start),
            fixed,
            "fixed {fixed}"
        );
        assert_ne!(
            net(&trained.model),
            net(&start),
            "the Hamiltonian trains either way"
        );
    }
    // Two members trained as one population: each keeps its own initial edge mass.
    let starts: Vec<_> = (0..2).map(|k| cfg(true, k).init(&ad)).collect();
    let out = super::train_population(
        starts.clone(),
        &[&train_set, &train_set],
        vec![
            tc.clone(),
            TrainConfig {
                seed: 1,
                ..tc.clone()
            },
        ],
        &ad,
        &mut |_, _| true,
    )
    .unwrap();
    for (o, s) in out.iter().zip(&starts) {
        assert_eq!(factor(&o.model), factor(s));
        assert_ne!(net(&o.model), net(s));
    }
    // Only hnn-general has an edge mass to fix.
    let hnn = ModelConfig {
        fixed_edge_mass: true,
        ..ModelConfig::for_data(ModelKind::Hnn, &train_set)
    };
    assert!(hnn.check().unwrap_err().contains("hnn-general"));
}
