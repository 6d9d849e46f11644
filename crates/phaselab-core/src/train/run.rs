//! Training runs to results: the one path that `phaselab train` and `compare`, `reproduce` and
//! its plan tasks, `phaselab control` and the playground's worker share. Runs of one architecture
//! train as one population (a single run alone); each member of a model with a checkpoint format
//! is checkpointed every 25 epochs and at the end (on divergence, its last model whose loss was
//! finite), then scored on its test set. The result is typed and comes back whether a run
//! finished or diverged; the caller writes it out (files are not the core's business).
//!
//! [`RunSession`] is the path, an epoch at a time with asynchronous reads, so that the browser
//! can yield between epochs; [`train_runs`] drives a session to its end natively. The
//! autonomous models ([`ModelConfig`]) and the control-aware ones ([`ControlConfig`]) go through
//! the same session; what differs between them is [`RunConfig`].

use super::checkpoint::{Checkpoint, CheckpointError, TrainingRecord};
use super::config::steps_per_epoch;
use super::config::TrainConfig;
use super::control::{evaluate_control_async, ControlEvaluation};
use super::evaluate::{evaluate_async, Evaluation};
use super::step_trace::StepTrace;
use super::trainable::Trainable;
use super::trainer::{clock_seconds, EpochStats, MemberEpoch, TrainError, Trainer};
use crate::data::TrajectorySet;
use crate::models::{
    ControlConfig, ControlKind, ControlModel, DynamicsModel, ModelConfig, ModelKind, Population,
};
use burn::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Epochs between two checkpoints of a run.
pub const CHECKPOINT_EVERY: usize = 25;

/// One run to train: its model (an autonomous [`ModelConfig`] unless said otherwise, or a
/// [`ControlConfig`] with its standardisation fitted to `train_set`), its optimiser settings,
/// its data (shared, so that a session can own it while its caller keeps it too).
#[derive(Clone)]
pub struct Run<C = ModelConfig> {
    pub model: C,
    pub train: TrainConfig,
    pub train_set: Arc<TrajectorySet>,
    pub test: Arc<TrajectorySet>,
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
    /// Optimiser steps of the epochs it finished (up to the last good one on divergence).
    pub optimiser_steps: usize,
}

impl<M> RunResult<M> {
    /// The same result with its scores turned into another form by `f`.
    pub fn map_outcome<N>(self, f: impl FnOnce(M) -> N) -> RunResult<N> {
        RunResult {
            history: self.history,
            outcome: self.outcome.map(f),
            parameters: self.parameters,
            seconds: self.seconds,
            optimiser_steps: self.optimiser_steps,
        }
    }
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
    /// False when checkpoints are not wanted (the playground exports on request): then none is
    /// made, which saves reading the weights back every 25 epochs.
    fn keeps_checkpoints(&self) -> bool {
        true
    }
    /// True to have every optimiser step of a single run traced (`step_trace`; natively only).
    fn traces_steps(&self) -> bool {
        false
    }
    /// After each epoch of a traced run: its steps, in order.
    fn steps(&mut self, _steps: &[StepTrace]) {}
}

/// A sink that keeps nothing and shows nothing.
pub struct NoSink;

impl RunSink for NoSink {
    fn checkpoint(&mut self, _run: usize, _ck: &Checkpoint) -> Result<(), String> {
        Ok(())
    }

    fn keeps_checkpoints(&self) -> bool {
        false
    }
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
/// [`evaluate_control_async`] on their training chunks and their test trajectories. Reads from
/// the device are asynchronous, as WebGPU in the browser requires.
#[allow(async_fn_in_trait)] // used generically, never as a trait object
pub trait RunConfig: Clone {
    /// The model it builds.
    type Model: Trainable + Population;
    /// What a finished run's scores are.
    type Metrics;
    /// The model's name, for errors.
    fn label(&self) -> String;
    /// Why the model cannot be built from this configuration, if it cannot.
    fn check(&self) -> Result<(), String> {
        Ok(())
    }
    /// A model with fresh weights from this configuration's seed, on `device`.
    fn init_model(&self, device: &Device) -> Self::Model;
    /// Trainable parameters of the model.
    fn parameters(&self, device: &Device) -> usize;
    /// `model` as a checkpoint holding `record`; None for a model without a checkpoint format.
    async fn checkpoint(
        model: &Self::Model,
        record: &TrainingRecord,
    ) -> Option<Result<Checkpoint, CheckpointError>>;
    /// The scores of `model`, trained by `run`, on `device`.
    async fn score(
        model: &Self::Model,
        run: &Run<Self>,
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

    fn check(&self) -> Result<(), String> {
        ModelConfig::check(self)
    }

    fn init_model(&self, device: &Device) -> DynamicsModel {
        self.init(device)
    }

    fn parameters(&self, device: &Device) -> usize {
        self.init_for_loading(device).n_params()
    }

    async fn checkpoint(
        model: &DynamicsModel,
        record: &TrainingRecord,
    ) -> Option<Result<Checkpoint, CheckpointError>> {
        let record = serde_json::to_value(record).expect("a training record serialises");
        Some(Checkpoint::from_model_async(model, record).await)
    }

    async fn score(
        model: &DynamicsModel,
        run: &Run<Self>,
        training: &Training<'_>,
        device: &Device,
    ) -> Result<RunMetrics, String> {
        let (test, _) = evaluate_async(model, &run.test, &run.train.solver, device, true).await?;
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
    async fn checkpoint(
        _model: &ControlModel,
        _record: &TrainingRecord,
    ) -> Option<Result<Checkpoint, CheckpointError>> {
        None
    }

    async fn score(
        model: &ControlModel,
        run: &Run<Self>,
        training: &Training<'_>,
        device: &Device,
    ) -> Result<ControlMetrics, String> {
        let (train, _) = evaluate_control_async(model, &run.train_set, device).await?;
        let (test, _) = evaluate_control_async(model, &run.test, device).await?;
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

/// Keep run `run`'s `model` with `record` through `sink`, if its kind has a checkpoint format and
/// the sink keeps checkpoints.
async fn save<C: RunConfig>(
    sink: &mut dyn RunSink,
    run: usize,
    model: &C::Model,
    record: &TrainingRecord,
) -> Result<(), RunError> {
    if !sink.keeps_checkpoints() {
        return Ok(());
    }
    match C::checkpoint(model, record).await {
        None => Ok(()),
        Some(ck) => ck
            .map_err(|e| e.to_string())
            .and_then(|ck| sink.checkpoint(run, &ck))
            .map_err(|error| RunError::Save { run, error }),
    }
}

/// Runs in training: one population of runs of one architecture (they must share the model's
/// shape, epochs, batch and solver), an epoch at a time, then scored. It owns its data, so the
/// playground keeps one per model and steps it between the page's other work.
pub struct RunSession<C: RunConfig> {
    runs: Vec<Run<C>>,
    trainer: Trainer<C::Model>,
    parameters: usize,
    /// Seconds spent in [`Self::epoch_async`] so far (not the pauses between calls).
    seconds: f64,
}

impl<C: RunConfig> RunSession<C> {
    /// Fresh models for `runs` from their seeds, ready to train on `device` (not an autodiff
    /// device).
    pub fn start(runs: Vec<Run<C>>, device: &Device) -> Result<Self, RunError> {
        let kind = runs[0].model.label();
        for r in &runs {
            r.model.check().map_err(|e| RunError::Setup {
                kind: kind.clone(),
                error: TrainError::Data(e),
            })?;
        }
        let ad = device.clone().autodiff();
        let parameters = runs[0].model.parameters(device);
        let models: Vec<C::Model> = runs.iter().map(|r| r.model.init_model(&ad)).collect();
        let sets: Vec<&TrajectorySet> = runs.iter().map(|r| &*r.train_set).collect();
        let cfgs: Vec<TrainConfig> = runs.iter().map(|r| r.train.clone()).collect();
        let trainer = Trainer::new(models, &sets, cfgs, &ad)
            .map_err(|(_, error)| RunError::Setup { kind, error })?;
        Ok(RunSession {
            runs,
            trainer,
            parameters,
            seconds: 0.0,
        })
    }

    pub fn runs(&self) -> &[Run<C>] {
        &self.runs
    }

    /// Trainable parameters of each run's model.
    pub fn parameters(&self) -> usize {
        self.parameters
    }

    pub fn epochs_done(&self) -> usize {
        self.trainer.epochs_done()
    }

    /// True when every run has trained all its epochs or stopped.
    pub fn finished(&self) -> bool {
        self.trainer.finished()
    }

    /// Run k's current model (no autodiff graph).
    pub fn member(&self, k: usize) -> C::Model {
        self.trainer.member(k)
    }

    /// Run k's record after the epochs trained so far, with its last loss.
    pub fn record(&self, k: usize) -> TrainingRecord {
        let run = &self.runs[k];
        TrainingRecord {
            final_loss: self.trainer.history(k).last().map(|s| s.loss),
            ..TrainingRecord::new(&run.train_set, &run.train, self.epochs_done())
        }
    }

    /// One epoch of every run still training, what it did to each, and the checkpoints it is
    /// time for; an error that stops every run (bad data, a checkpoint not kept) is returned.
    pub async fn epoch_async(
        &mut self,
        sink: &mut dyn RunSink,
    ) -> Result<Vec<MemberEpoch>, RunError> {
        let start = clock_seconds();
        let done = self.trainer.epoch_async().await;
        self.after_epoch(done, sink, start).await
    }

    /// [`Self::epoch_async`], blocking until it is done; the epoch runs on a thread of the CPU
    /// kernels' pool.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn epoch(&mut self, sink: &mut dyn RunSink) -> Result<Vec<MemberEpoch>, RunError> {
        let start = clock_seconds();
        self.trainer
            .set_trace(sink.traces_steps())
            .map_err(|e| RunError::Setup {
                kind: self.runs[0].model.label(),
                error: TrainError::Data(e),
            })?;
        let done = self.trainer.epoch();
        super::trainer::block_on(self.after_epoch(done, sink, start))
    }

    async fn after_epoch(
        &mut self,
        done: Result<Vec<MemberEpoch>, TrainError>,
        sink: &mut dyn RunSink,
        start: f64,
    ) -> Result<Vec<MemberEpoch>, RunError> {
        let done = done.map_err(|error| RunError::Setup {
            kind: self.runs[0].model.label(),
            error,
        })?;
        let traced = self.trainer.take_traces();
        if !traced.is_empty() {
            sink.steps(&traced);
        }
        let epochs = self.runs[0].train.epochs;
        let mut shown = None;
        for (k, d) in done.iter().enumerate() {
            let MemberEpoch::Trained(s) = d else { continue };
            if s.epoch == epochs || s.epoch % CHECKPOINT_EVERY == 0 {
                save::<C>(sink, k, &self.trainer.member(k), &self.record(k)).await?;
            }
            shown.get_or_insert(s);
        }
        sink.progress(self.trainer.epochs_done(), shown);
        self.seconds += clock_seconds() - start;
        Ok(done)
    }

    /// Every run's result, at its index: a run that diverged leaves its last model whose loss was
    /// finite with the sink; the others are scored on `device` (a run still training is scored
    /// as it is).
    pub async fn finish_async(
        &self,
        device: &Device,
        sink: &mut dyn RunSink,
    ) -> Result<Vec<RunResult<C::Metrics>>, RunError> {
        let mut out = Vec::with_capacity(self.runs.len());
        for (k, run) in self.runs.iter().enumerate() {
            let history = self.trainer.history(k).to_vec();
            let model = self.trainer.member(k);
            let per_epoch = steps_per_epoch(run.train_set.n, run.train.batch);
            let (outcome, epochs) = match self.trainer.error(k).cloned() {
                Some(e) => {
                    let epochs = match e {
                        TrainError::Diverged { epoch, .. } => {
                            // Keep the last model whose loss was finite.
                            let epochs = epoch.saturating_sub(1);
                            let rec = TrainingRecord::new(&run.train_set, &run.train, epochs);
                            save::<C>(sink, k, &model, &rec).await?;
                            epochs
                        }
                        _ => history.len(),
                    };
                    (Err(RunFailure::Train(e)), epochs)
                }
                None => {
                    let training = Training {
                        parameters: self.parameters,
                        seconds: self.seconds,
                        history: &history,
                        population: self.runs.len(),
                    };
                    let scores = C::score(&model, run, &training, device).await;
                    (scores.map_err(RunFailure::Evaluation), history.len())
                }
            };
            out.push(RunResult {
                history,
                outcome,
                parameters: self.parameters,
                seconds: self.seconds,
                optimiser_steps: epochs * per_epoch,
            });
        }
        Ok(out)
    }
}

/// Train `runs` (one system or environment, one architecture: they must share the model's shape,
/// epochs, batch and solver) as one [`RunSession`] on `device` (not an autodiff device) to its
/// end, each run's result at its index.
#[cfg(not(target_arch = "wasm32"))]
pub fn train_runs<C: RunConfig>(
    runs: Vec<Run<C>>,
    device: &Device,
    sink: &mut dyn RunSink,
) -> Result<Vec<RunResult<C::Metrics>>, RunError> {
    let mut session = RunSession::start(runs, device)?;
    while !session.finished() {
        session.epoch(sink)?;
    }
    super::trainer::block_on(session.finish_async(device, sink))
}
