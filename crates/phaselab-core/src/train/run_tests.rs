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
