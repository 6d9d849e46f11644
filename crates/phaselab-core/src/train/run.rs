//! Training runs to results: the one path that `phaselab train` and `compare`, `reproduce` and
//! its plan tasks share. Runs of one architecture train as one population (a single run alone);
//! each member is checkpointed every 25 epochs and at the end (on divergence, its last model whose
//! loss was finite), then scored on its test set. The result is typed and comes back whether a
//! run finished or diverged; the caller writes it out (files are not the core's business).

use super::checkpoint::{Checkpoint, CheckpointError};
use super::config::TrainConfig;
use super::evaluate::{evaluate, Evaluation};
use super::trainer::{clock_seconds, EpochStats, MemberEpoch, TrainError, Trainer};
use crate::data::TrajectorySet;
use crate::models::{DynamicsModel, ModelConfig, ModelKind};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// Epochs between two checkpoints of a run.
pub const CHECKPOINT_EVERY: usize = 25;

/// One run to train: its model, its optimiser settings, its data.
pub struct Run<'a> {
    pub model: ModelConfig,
    pub train: TrainConfig,
    pub train_set: &'a TrajectorySet,
    pub test: &'a TrajectorySet,
}

/// What a checkpoint records about the training behind its weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingRecord {
    pub system: String,
    /// The seed the training data was generated from (None for imported data).
    #[serde(default)]
    pub train_file_seed: Option<u64>,
    pub n_train: usize,
    /// Points per training chunk.
    pub chunk: usize,
    pub dt: f64,
    pub epochs_done: usize,
    /// The last epoch's mean loss (None when the run diverged).
    #[serde(default)]
    pub final_loss: Option<f64>,
    pub config: TrainConfig,
    /// Where the model was trained, when not the CLI (the playground says so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl TrainingRecord {
    /// The record of training on `set` with `config`, after `epochs_done` epochs.
    pub fn new(set: &TrajectorySet, config: &TrainConfig, epochs_done: usize) -> Self {
        TrainingRecord {
            system: set.meta.system.clone(),
            train_file_seed: set.meta.seed,
            n_train: set.n,
            chunk: set.t,
            dt: set.dt,
            epochs_done,
            final_loss: None,
            config: config.clone(),
            source: None,
        }
    }

    /// The record a checkpoint holds, if it is one of these (older files may hold less).
    pub fn of(ck: &Checkpoint) -> Option<Self> {
        serde_json::from_value(ck.meta.training.clone()).ok()
    }

    /// `model` with this record, as a checkpoint.
    pub fn checkpoint(&self, model: &DynamicsModel) -> Result<Checkpoint, CheckpointError> {
        let record = serde_json::to_value(self).expect("a training record serialises");
        Checkpoint::from_model(model, record)
    }
}

/// What a finished run's `metrics.json` says.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunMetrics {
    pub model: ModelKind,
    pub system: String,
    pub parameters: usize,
    /// Wall time of the training loop (a population's, shared by its members).
    pub train_seconds: f64,
    pub seconds_per_epoch: f64,
    pub final_loss: Option<f64>,
    pub test: Evaluation,
    /// Runs trained together in the population this one was part of.
    pub population: usize,
}

/// Why a run has no scores.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RunFailure {
    /// Training stopped early; a divergence leaves the last good model's checkpoint.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// The trained model could not be scored (for example its rollout overflowed).
    #[error("evaluating the trained model: {0}")]
    Evaluation(String),
}

/// One run's result, finished or not.
#[derive(Clone, Debug)]
pub struct RunResult {
    pub history: Vec<EpochStats>,
    /// Its scores, or why there are none.
    pub outcome: Result<RunMetrics, RunFailure>,
    pub parameters: usize,
    /// Wall time of the training loop (a population's, shared by its members).
    pub seconds: f64,
}

/// A population that could not train at all, or a checkpoint that could not be kept.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{kind}: {error}")]
    Setup { kind: ModelKind, error: TrainError },
    #[error("saving run {run}'s checkpoint: {error}")]
    Save { run: usize, error: String },
}

/// What [`train_runs`] hands its caller while it works.
pub trait RunSink {
    /// Keep run `run`'s checkpoint (written every [`CHECKPOINT_EVERY`] epochs, at the end, and
    /// on divergence); an error stops training.
    fn checkpoint(&mut self, run: usize, ck: &Checkpoint) -> Result<(), String>;
    /// After each epoch: the first training run's statistics (None when none trained).
    fn progress(&mut self, _epoch: usize, _stats: Option<&EpochStats>) {}
}

/// Train `runs` (one system, one architecture: they must share the model's shape, epochs,
/// batch and solver) as one population on `device` (not an autodiff device), each run's result
/// at its index.
pub fn train_runs(
    runs: &[Run<'_>],
    device: &Device,
    sink: &mut dyn RunSink,
) -> Result<Vec<RunResult>, RunError> {
    let kind = runs[0].model.kind;
    let ad = device.clone().autodiff();
    let parameters = runs[0].model.init_for_loading(device).n_params();
    let models = runs.iter().map(|r| r.model.init(&ad)).collect();
    let sets: Vec<&TrajectorySet> = runs.iter().map(|r| r.train_set).collect();
    let cfgs = runs.iter().map(|r| r.train.clone()).collect();
    let mut trainer = Trainer::new(models, &sets, cfgs, &ad)
        .map_err(|(_, error)| RunError::Setup { kind, error })?;
    let save = |sink: &mut dyn RunSink, k: usize, model: &DynamicsModel, rec: TrainingRecord| {
        rec.checkpoint(model)
            .map_err(|e| e.to_string())
            .and_then(|ck| sink.checkpoint(k, &ck))
            .map_err(|error| RunError::Save { run: k, error })
    };
    let epochs = runs[0].train.epochs;
    let start = clock_seconds();
    while !trainer.finished() {
        let done = trainer
            .epoch()
            .map_err(|error| RunError::Setup { kind, error })?;
        let mut shown = None;
        for (k, d) in done.into_iter().enumerate() {
            let MemberEpoch::Trained(s) = d else { continue };
            if s.epoch == epochs || s.epoch % CHECKPOINT_EVERY == 0 {
                let run = &runs[k];
                let rec = TrainingRecord {
                    final_loss: Some(s.loss),
                    ..TrainingRecord::new(run.train_set, &run.train, s.epoch)
                };
                save(sink, k, &trainer.member(k), rec)?;
            }
            shown.get_or_insert(s);
        }
        sink.progress(trainer.epochs_done(), shown.as_ref());
    }
    let seconds = clock_seconds() - start;
    let mut out = Vec::with_capacity(runs.len());
    for (k, run) in runs.iter().enumerate() {
        let history = trainer.history(k).to_vec();
        let model = trainer.member(k);
        let outcome = match trainer.error(k).cloned() {
            Some(e) => {
                if let TrainError::Diverged { epoch, .. } = e {
                    // Keep the last model whose loss was finite.
                    let rec = TrainingRecord::new(run.train_set, &run.train, epoch.saturating_sub(1));
                    save(sink, k, &model, rec)?;
                }
                Err(RunFailure::Train(e))
            }
            None => evaluate(&model, run.test, &run.train.solver, device)
                .map_err(RunFailure::Evaluation)
                .map(|test| RunMetrics {
                    model: kind,
                    system: run.train_set.meta.system.clone(),
                    parameters,
                    train_seconds: seconds,
                    seconds_per_epoch: seconds / epochs as f64,
                    final_loss: history.last().map(|h| h.loss),
                    test,
                    population: runs.len(),
                }),
        };
        out.push(RunResult {
            history,
            outcome,
            parameters,
            seconds,
        });
    }
    Ok(out)
}
