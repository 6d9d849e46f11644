//! Training runs to results: the one path that `phaselab train` and `compare`, `reproduce` and
//! its plan tasks, and `phaselab control` share. Runs of one architecture train as one population
//! (a single run alone); each member of a model with a checkpoint format is checkpointed every 25
//! epochs and at the end (on divergence, its last model whose loss was finite), then scored on its
//! test set. The result is typed and comes back whether a run finished or diverged; the caller
//! writes it out (files are not the core's business). The autonomous models ([`ModelConfig`])
//! and the control-aware ones ([`ControlConfig`]) go through the same loop, [`train_runs`]; what
//! differs between them is [`RunConfig`].

use super::checkpoint::{Checkpoint, CheckpointError, TrainingRecord};
use super::config::TrainConfig;
use super::control::{evaluate_control, ControlEvaluation};
use super::evaluate::{evaluate, Evaluation};
use super::trainable::Trainable;
use super::trainer::{clock_seconds, EpochStats, MemberEpoch, TrainError, Trainer};
use crate::data::TrajectorySet;
use crate::models::{
    ControlConfig, ControlKind, ControlModel, DynamicsModel, ModelConfig, ModelKind, Population,
};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// Epochs between two checkpoints of a run.
pub const CHECKPOINT_EVERY: usize = 25;

/// One run to train: its model (an autonomous [`ModelConfig`] unless said otherwise, or a
/// [`ControlConfig`] with its standardisation fitted to `train_set`), its optimiser settings,
/// its data.
pub struct Run<'a, C = ModelConfig> {
    pub model: C,
    pub train: TrainConfig,
    pub train_set: &'a TrajectorySet,
    pub test: &'a TrajectorySet,
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

/// What a finished control-aware run's `metrics.json` says (`phaselab control`, `reproduce
/// fig7`): its standardised rollout MSE on the training chunks and on the test trajectories, the
/// test evaluation in full (with trajectory 0's prediction), and the settings it trained with
/// (the model's with its fitted standardisation). Written through a `serde_json::Value`, its keys
/// come out sorted, as in the files written before this type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ControlMetrics {
    /// The optimiser settings.
    pub config: TrainConfig,
    pub model: ControlKind,
    pub model_config: ControlConfig,
    pub parameters: usize,
    pub system: String,
    pub test: ControlEvaluation,
    pub test_mse: f64,
    pub train_mse: f64,
    /// Wall time of the training loop (a population's, shared by its members).
    pub train_seconds: f64,
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

/// One run's result, finished or not (`M`: its metrics, [`RunMetrics`] or [`ControlMetrics`]).
#[derive(Clone, Debug)]
pub struct RunResult<M = RunMetrics> {
    pub history: Vec<EpochStats>,
    /// Its scores, or why there are none.
    pub outcome: Result<M, RunFailure>,
    pub parameters: usize,
    /// Wall time of the training loop (a population's, shared by its members).
    pub seconds: f64,
}

/// A population that could not train at all, or a checkpoint that could not be kept.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// `kind`: the model's name.
    #[error("{kind}: {error}")]
    Setup { kind: String, error: TrainError },
    #[error("saving run {run}'s checkpoint: {error}")]
    Save { run: usize, error: String },
}

/// What [`train_runs`] hands its caller while it works.
pub trait RunSink {
    /// Keep run `run`'s checkpoint (written every [`CHECKPOINT_EVERY`] epochs, at the end, and
    /// on divergence; never for a model without a checkpoint format, see [`RunConfig`]); an error
    /// stops training.
    fn checkpoint(&mut self, run: usize, ck: &Checkpoint) -> Result<(), String>;
    /// After each epoch: the first training run's statistics (None when none trained).
    fn progress(&mut self, _epoch: usize, _stats: Option<&EpochStats>) {}
}

/// What the run path knows of a member's training when it scores it.
pub struct Training<'h> {
    /// Trainable parameters of the model.
    pub parameters: usize,
    /// Wall time of the training loop (a population's, shared by its members).
    pub seconds: f64,
    /// Each epoch's statistics.
    pub history: &'h [EpochStats],
    /// Runs trained together in the population, this one included.
    pub population: usize,
}

/// A model configuration that [`train_runs`] trains: how to build the model, count it, keep it
/// and score it. [`ModelConfig`] (the autonomous models) is checkpointed and scored by
/// [`evaluate`]. [`ControlConfig`] (the control-aware models of `phaselab control` and Figure 7)
/// has no checkpoint format, so control runs are not checkpointed (the sink's `checkpoint` is
/// never called for them, and a diverged one leaves only its history); they are scored by
/// [`evaluate_control`] on their training chunks and their test trajectories.
pub trait RunConfig: Clone {
    /// The model it builds.
    type Model: Trainable + Population;
    /// What a finished run's scores are.
    type Metrics;
    /// The model's name, for errors.
    fn label(&self) -> String;
    /// A model with fresh weights from this configuration's seed, on `device`.
    fn init_model(&self, device: &Device) -> Self::Model;
    /// Trainable parameters of the model.
    fn parameters(&self, device: &Device) -> usize;
    /// `model` as a checkpoint holding `record`; None for a model without a checkpoint format.
    fn checkpoint(
        model: &Self::Model,
        record: &TrainingRecord,
    ) -> Option<Result<Checkpoint, CheckpointError>>;
    /// The scores of `model`, trained by `run`, on `device`.
    fn score(
        model: &Self::Model,
        run: &Run<'_, Self>,
        training: &Training<'_>,
        device: &Device,
    ) -> Result<Self::Metrics, String>;
}

impl RunConfig for ModelConfig {
    type Model = DynamicsModel;
    type Metrics = RunMetrics;

    fn label(&self) -> String {
        self.kind.name().to_string()
    }

    fn init_model(&self, device: &Device) -> DynamicsModel {
        self.init(device)
    }

    fn parameters(&self, device: &Device) -> usize {
        self.init_for_loading(device).n_params()
    }

    fn checkpoint(
        model: &DynamicsModel,
        record: &TrainingRecord,
    ) -> Option<Result<Checkpoint, CheckpointError>> {
        Some(record.checkpoint(model))
    }

    fn score(
        model: &DynamicsModel,
        run: &Run<'_, Self>,
        training: &Training<'_>,
        device: &Device,
    ) -> Result<RunMetrics, String> {
        let test = evaluate(model, run.test, &run.train.solver, device)?;
        Ok(RunMetrics {
            model: run.model.kind,
            system: run.train_set.meta.system.clone(),
            parameters: training.parameters,
            train_seconds: training.seconds,
            seconds_per_epoch: training.seconds / run.train.epochs as f64,
            final_loss: training.history.last().map(|h| h.loss),
            test,
            population: training.population,
        })
    }
}

impl RunConfig for ControlConfig {
    type Model = ControlModel;
    type Metrics = ControlMetrics;

    fn label(&self) -> String {
        self.kind.name().to_string()
    }

    fn init_model(&self, device: &Device) -> ControlModel {
        self.init(device)
    }

    fn parameters(&self, device: &Device) -> usize {
        self.init(device).n_params()
    }

    /// Control models have no checkpoint format: never checkpointed.
    fn checkpoint(
        _model: &ControlModel,
        _record: &TrainingRecord,
    ) -> Option<Result<Checkpoint, CheckpointError>> {
        None
    }

    fn score(
        model: &ControlModel,
        run: &Run<'_, Self>,
        training: &Training<'_>,
        device: &Device,
    ) -> Result<ControlMetrics, String> {
        let train = evaluate_control(model, run.train_set, device)?;
        let test = evaluate_control(model, run.test, device)?;
        Ok(ControlMetrics {
            config: run.train.clone(),
            model: run.model.kind,
            model_config: run.model.clone(),
            parameters: training.parameters,
            system: run.train_set.meta.system.clone(),
            test_mse: test.mse,
            train_mse: train.mse,
            test,
            train_seconds: training.seconds,
        })
    }
}

/// Keep run `run`'s `model` with `record` through `sink`, if its kind has a checkpoint format.
fn save<C: RunConfig>(
    sink: &mut dyn RunSink,
    run: usize,
    model: &C::Model,
    record: &TrainingRecord,
) -> Result<(), RunError> {
    match C::checkpoint(model, record) {
        None => Ok(()),
        Some(ck) => ck
            .map_err(|e| e.to_string())
            .and_then(|ck| sink.checkpoint(run, &ck))
            .map_err(|error| RunError::Save { run, error }),
    }
}

/// Train `runs` (one system or environment, one architecture: they must share the model's shape,
/// epochs, batch and solver) as one population on `device` (not an autodiff device), each run's
/// result at its index.
pub fn train_runs<C: RunConfig>(
    runs: &[Run<'_, C>],
    device: &Device,
    sink: &mut dyn RunSink,
) -> Result<Vec<RunResult<C::Metrics>>, RunError> {
    let kind = runs[0].model.label();
    let ad = device.clone().autodiff();
    let parameters = runs[0].model.parameters(device);
    let models: Vec<C::Model> = runs.iter().map(|r| r.model.init_model(&ad)).collect();
    let sets: Vec<&TrajectorySet> = runs.iter().map(|r| r.train_set).collect();
    let cfgs: Vec<TrainConfig> = runs.iter().map(|r| r.train.clone()).collect();
    let mut trainer = match Trainer::new(models, &sets, cfgs, &ad) {
        Ok(t) => t,
        Err((_, error)) => return Err(RunError::Setup { kind, error }),
    };
    let epochs = runs[0].train.epochs;
    let start = clock_seconds();
    while !trainer.finished() {
        let done = match trainer.epoch() {
            Ok(done) => done,
            Err(error) => return Err(RunError::Setup { kind, error }),
        };
        let mut shown = None;
        for (k, d) in done.into_iter().enumerate() {
            let MemberEpoch::Trained(s) = d else { continue };
            if s.epoch == epochs || s.epoch % CHECKPOINT_EVERY == 0 {
                let run = &runs[k];
                let rec = TrainingRecord {
                    final_loss: Some(s.loss),
                    ..TrainingRecord::new(run.train_set, &run.train, s.epoch)
                };
                save::<C>(sink, k, &trainer.member(k), &rec)?;
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
                    let rec =
                        TrainingRecord::new(run.train_set, &run.train, epoch.saturating_sub(1));
                    save::<C>(sink, k, &model, &rec)?;
                }
                Err(RunFailure::Train(e))
            }
            None => {
                let training = Training {
                    parameters,
                    seconds,
                    history: &history,
                    population: runs.len(),
                };
                C::score(&model, run, &training, device).map_err(RunFailure::Evaluation)
            }
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
