//! The training loop, one for every run: K >= 1 runs of one architecture, each with its own
//! weights, data, minibatch order, learning rate, weight decay, clipping bound and loss, trained in
//! lock-step as one computation (one batched rollout, one backward pass, one optimiser pass per
//! step). A single run is the population of one.
//!
//! Each step, for member k with minibatch B_k drawn without replacement from its own permutation:
//!   L_k = mean over B_k of |rollout(z_0) - z|^2 (or |.|),   g_k = clip(dL_k/dtheta_k, c_k),
//!   theta_k <- AdamW(theta_k, g_k, lr_k(step)),
//! with the cosine schedule of [`TrainConfig::lr_at`]. Losses are read back once per epoch
//! (asynchronously on WebGPU). A member whose loss turns non-finite goes back to its weights at
//! the start of that epoch and stops there; the others go on.
//!
//! One run steps with burn's AdamW and the global-norm clip; K > 1 stacked members step with
//! [`MemberAdam`], which applies the same formulas member by member (member k follows its run
//! trained alone to rounding).

use super::batch_split::loss_and_grads;
use super::clip::clip_global_norm;
use super::config::{steps_per_epoch, TrainConfig};
use super::member_adam::{MemberAdam, MemberStep};
use super::member_blocks::restore_members;
use super::step_trace::{trace_step, StepTrace};
use super::trainable::{Minibatch, Trainable};
use crate::cpu::flush_denormals;
#[cfg(not(target_arch = "wasm32"))]
use crate::cpu::on_pool_thread;
use crate::data::TrajectorySet;
use crate::models::Population;
use crate::rng::Rng;
use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// What happened in one epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochStats {
    pub epoch: usize,
    /// Mean minibatch loss (including the symplectic penalty where there is one).
    pub loss: f64,
    pub lr: f64,
    pub seconds: f64,
}

/// Training that could not finish.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TrainError {
    #[error("training diverged at epoch {epoch} (step {step}): the loss became {loss}; the last good model is kept")]
    Diverged {
        epoch: usize,
        step: usize,
        loss: f64,
    },
    #[error("{0}")]
    Data(String),
    #[error("stopped by the user at epoch {0}")]
    Stopped(usize),
}

/// What one epoch did to one member.
#[derive(Clone, Debug, PartialEq)]
pub enum MemberEpoch {
    /// It trained the epoch.
    Trained(EpochStats),
    /// Its loss turned non-finite in this epoch: it is back at the epoch's start and stops.
    Diverged(TrainError),
    /// It had stopped before this epoch.
    Stopped,
}

/// The trained model (the last good one if training diverged) and its history.
pub struct TrainOutcome<M> {
    pub model: M,
    pub history: Vec<EpochStats>,
    pub error: Option<TrainError>,
}

/// How the weights move: one run, or K stacked members.
enum Optimiser {
    /// burn's AdamW or Adam after the global-norm clip.
    Single(ModuleOptimizer),
    /// Every member with its own settings, in one elementwise pass.
    Members(MemberAdam),
}

/// K runs trained together, one epoch at a time, so the CLI can loop and the browser can yield
/// between epochs; see the module's doc.
pub struct Trainer<M: Trainable + Population> {
    /// The members stacked (K > 1) or the one run's model.
    model: M,
    /// The model at the start of the current epoch: what a diverging member goes back to.
    epoch_start: M,
    optim: Optimiser,
    cfgs: Vec<TrainConfig>,
    device: Device,
    data: Vec<M::Data>,
    n: usize,
    batch: usize,
    steps_per_epoch: usize,
    rngs: Vec<Rng>,
    step: usize,
    epoch: usize,
    histories: Vec<Vec<EpochStats>>,
    errors: Vec<Option<TrainError>>,
    /// Whether each step is traced ([`Self::set_trace`]), and the steps traced since last taken.
    trace: bool,
    traces: Vec<StepTrace>,
}

/// Settings that must agree between members (they shape the shared computation).
fn check_settings(cfgs: &[TrainConfig]) -> Result<(), String> {
    let shared = |c: &TrainConfig| {
        (
            c.epochs,
            c.batch,
            c.solver.clone(),
            c.optimizer,
            std::mem::discriminant(&c.schedule),
        )
    };
    match cfgs.iter().position(|c| shared(c) != shared(&cfgs[0])) {
        None => Ok(()),
        Some(k) => Err(format!(
            "population members must share epochs, batch, solver, optimiser and schedule kind; member {k} differs from member 0"
        )),
    }
}

/// Every member's data in the model's layout, once the members agree with each other.
fn prepare<M: Trainable>(
    models: &[M],
    sets: &[&TrajectorySet],
    cfgs: &[TrainConfig],
) -> Result<Vec<M::Data>, String> {
    let k = models.len();
    if k == 0 || sets.len() != k || cfgs.len() != k {
        return Err(format!(
            "a population needs as many models, data sets and settings ({k}, {}, {})",
            sets.len(),
            cfgs.len()
        ));
    }
    check_settings(cfgs)?;
    let data = models
        .iter()
        .zip(sets)
        .enumerate()
        .map(|(i, (m, s))| {
            m.prepare(s).map_err(|e| {
                if k == 1 {
                    e
                } else {
                    format!("member {i}: {e}")
                }
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let n = M::samples(&data[0]);
    if data.iter().any(|d| M::samples(d) != n) {
        return Err("population members need data sets of one size".into());
    }
    let cfg = &cfgs[0];
    if n == 0 || cfg.epochs == 0 || cfg.batch == 0 {
        return Err("need at least one training sample, epochs >= 1 and batch >= 1".into());
    }
    Ok(data)
}

impl<M: Trainable + Population> Trainer<M> {
    /// Prepare member k = (`models[k]`, `sets[k]`, `cfgs[k]`) on the autodiff device `device`.
    /// On bad input the models come back with the error.
    pub fn new(
        models: Vec<M>,
        sets: &[&TrajectorySet],
        cfgs: Vec<TrainConfig>,
        device: &Device,
    ) -> Result<Self, (Vec<M>, TrainError)> {
        let data = match prepare(&models, sets, &cfgs) {
            Ok(d) => d,
            Err(e) => return Err((models, TrainError::Data(e))),
        };
        let k = models.len();
        let (model, optim) = if k == 1 {
            let model = models.into_iter().next().expect("one model");
            (model, Optimiser::Single(cfgs[0].optimizer()))
        } else {
            match M::stack(&models) {
                Ok(m) => (m, Optimiser::Members(MemberAdam::new(cfgs[0].optimizer))),
                Err(e) => return Err((models, TrainError::Data(e))),
            }
        };
        let n = M::samples(&data[0]);
        let model = model.train();
        flush_denormals();
        Ok(Trainer {
            epoch_start: model.clone(),
            model,
            optim,
            batch: cfgs[0].batch.min(n),
            steps_per_epoch: steps_per_epoch(n, cfgs[0].batch),
            rngs: cfgs.iter().map(|c| Rng::new(c.seed)).collect(),
            cfgs,
            device: device.clone(),
            data,
            n,
            step: 0,
            epoch: 0,
            histories: vec![Vec::new(); k],
            errors: vec![None; k],
            trace: false,
            traces: Vec::new(),
        })
    }

    /// One run: [`Self::new`] with a population of one.
    pub fn single(
        model: M,
        data: &TrajectorySet,
        cfg: &TrainConfig,
        device: &Device,
    ) -> Result<Self, (M, TrainError)> {
        Self::new(vec![model], &[data], vec![cfg.clone()], device)
            .map_err(|(mut m, e)| (m.pop().expect("one model"), e))
    }

    /// Number of members (runs).
    pub fn members(&self) -> usize {
        self.cfgs.len()
    }

    /// Epochs finished so far.
    pub fn epochs_done(&self) -> usize {
        self.epoch
    }

    /// Optimiser steps in one epoch.
    pub fn steps_per_epoch(&self) -> usize {
        self.steps_per_epoch
    }

    /// True when every member has trained all its epochs or stopped.
    pub fn finished(&self) -> bool {
        self.epoch >= self.cfgs[0].epochs || self.errors.iter().all(Option::is_some)
    }

    pub fn history(&self, k: usize) -> &[EpochStats] {
        &self.histories[k]
    }

    /// Why member k stopped early (None while it trains or once it finished).
    pub fn error(&self, k: usize) -> Option<&TrainError> {
        self.errors[k].as_ref()
    }

    /// Stop every member still training (the user asked to).
    pub fn stop(&mut self) {
        let e = TrainError::Stopped(self.epoch);
        for x in &mut self.errors {
            x.get_or_insert(e.clone());
        }
    }

    /// Trace every optimiser step from now on (`step_trace`; a single run only, natively: each
    /// step is then read back). Tracing changes none of the run's numbers.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn set_trace(&mut self, on: bool) -> Result<(), String> {
        if on && self.members() > 1 {
            return Err("a step trace follows a single run, not a population".into());
        }
        self.trace = on;
        Ok(())
    }

    /// The steps traced since the last call, in order.
    pub fn take_traces(&mut self) -> Vec<StepTrace> {
        std::mem::take(&mut self.traces)
    }

    /// Member k's current model, for evaluation or checkpoints (no autodiff graph).
    pub fn member(&self, k: usize) -> M {
        match self.optim {
            Optimiser::Single(_) => self.model.valid(),
            Optimiser::Members(_) => self.model.valid().member(k),
        }
    }

    /// One epoch's optimiser steps without reading anything back: each step's losses [K].
    fn run_steps(&mut self) -> Vec<Tensor<1>> {
        // The thread that trains may not be the one that built the trainer.
        flush_denormals();
        let orders: Vec<Vec<usize>> = self
            .rngs
            .iter_mut()
            .map(|r| r.permutation(self.n))
            .collect();
        self.epoch_start = self.model.clone();
        let frozen: Vec<bool> = self.errors.iter().map(Option::is_some).collect();
        let weight_decay: Vec<f64> = self.cfgs.iter().map(|c| c.weight_decay).collect();
        let clip: Vec<f64> = self.cfgs.iter().map(|c| c.clip).collect();
        let mut losses = Vec::with_capacity(self.steps_per_epoch);
        for s in 0..self.steps_per_epoch {
            let batches: Vec<Minibatch<'_, M::Data>> = (0..self.members())
                .map(|k| Minibatch {
                    data: &self.data[k],
                    rows: &orders[k][s * self.batch..(s + 1) * self.batch],
                    cfg: &self.cfgs[k],
                })
                .collect();
            let (loss, mut grads) = loss_and_grads(&self.model, &batches, &self.device);
            let at = self.step as f64 / self.steps_per_epoch as f64;
            let lr: Vec<f64> = self.cfgs.iter().map(|c| c.lr_at(at)).collect();
            if self.trace {
                let when = (self.step, self.epoch + 1, lr[0]);
                let t = trace_step(&self.model, &loss, &grads, &batches[0], &self.device, when);
                self.traces.push(t);
            }
            losses.push(loss);
            let model = self.model.clone();
            self.model = match &mut self.optim {
                Optimiser::Single(optim) => {
                    clip_global_norm(&self.model, &mut grads, clip[0]);
                    optim.step(lr[0], model, grads)
                }
                Optimiser::Members(optim) => {
                    let step = MemberStep {
                        lr: &lr,
                        weight_decay: &weight_decay,
                        clip: &clip,
                        frozen: &frozen,
                    };
                    optim.step(model, grads, &step, &self.device)
                }
            };
            self.step += 1;
        }
        losses
    }

    /// Close the epoch with its losses ([steps x K], step-major) read back: what it did to each
    /// member; a member with a non-finite loss goes back to the epoch's start and stops.
    fn finish_epoch(&mut self, losses: &[f32], start: f64) -> Vec<MemberEpoch> {
        self.epoch += 1;
        let k = self.members();
        let steps = losses.len() / k;
        let seconds = clock_seconds() - start;
        let mut diverged = Vec::new();
        let mut out = vec![MemberEpoch::Stopped; k];
        for (m, slot) in out.iter_mut().enumerate() {
            if self.errors[m].is_some() {
                continue;
            }
            let own: Vec<f32> = (0..steps).map(|s| losses[s * k + m]).collect();
            if let Some(i) = own.iter().position(|l| !l.is_finite()) {
                let e = TrainError::Diverged {
                    epoch: self.epoch,
                    step: self.step - steps + i,
                    loss: own[i] as f64,
                };
                self.errors[m] = Some(e.clone());
                *slot = MemberEpoch::Diverged(e);
                diverged.push(m);
                continue;
            }
            let cfg = &self.cfgs[m];
            let stats = EpochStats {
                epoch: self.epoch,
                loss: own.iter().map(|&l| l as f64).sum::<f64>() / steps as f64,
                lr: cfg.lr_at((self.step.max(1) - 1) as f64 / self.steps_per_epoch as f64),
                seconds,
            };
            self.histories[m].push(stats.clone());
            *slot = MemberEpoch::Trained(stats);
        }
        if !diverged.is_empty() {
            self.model = match self.optim {
                Optimiser::Single(_) => self.epoch_start.clone(),
                Optimiser::Members(_) => {
                    restore_members(self.model.clone(), &self.epoch_start, &diverged, k)
                }
            };
        }
        out
    }

    /// One epoch: what it did to each member. Losses are read back asynchronously, as WebGPU in
    /// the browser requires; natively [`Self::epoch`] drives this to the end.
    pub async fn epoch_async(&mut self) -> Result<Vec<MemberEpoch>, TrainError> {
        if self.finished() {
            return Ok(vec![MemberEpoch::Stopped; self.members()]);
        }
        let start = clock_seconds();
        let losses = self.run_steps();
        let data = Tensor::cat(losses, 0).into_data_async().await;
        let values = read_losses(data.map_err(|e| TrainError::Data(format!("{e:?}")))?)?;
        Ok(self.finish_epoch(&values, start))
    }

    /// [`Self::epoch_async`], blocking until it is done (native: CPU, wgpu), on a thread of the
    /// CPU kernels' pool.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn epoch(&mut self) -> Result<Vec<MemberEpoch>, TrainError> {
        on_pool_thread(|| block_on(self.epoch_async()))
    }

    /// Every member as a single run's outcome.
    pub fn into_outcomes(self) -> Vec<TrainOutcome<M>> {
        let valid = self.model.valid();
        let single = matches!(self.optim, Optimiser::Single(_));
        self.histories
            .into_iter()
            .zip(self.errors)
            .enumerate()
            .map(|(k, (history, error))| TrainOutcome {
                model: if single {
                    valid.clone()
                } else {
                    valid.member(k)
                },
                history,
                error,
            })
            .collect()
    }
}

/// Drives a future to its end on this thread (native only: the browser cannot block).
#[cfg(not(target_arch = "wasm32"))]
pub fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    burn::tensor::try_read_sync(f).expect("a native future can always be waited for")
}

fn read_losses(data: TensorData) -> Result<Vec<f32>, TrainError> {
    data.convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| TrainError::Data(format!("reading the losses back: {e:?}")))
}

/// Train every member to its end, or until `on_epoch` (shown each training member's index,
/// statistics and the trainer) returns false, which stops them all.
#[cfg(not(target_arch = "wasm32"))]
fn train_to_end<M: Trainable + Population>(
    mut trainer: Trainer<M>,
    on_epoch: &mut dyn FnMut(usize, &EpochStats, &Trainer<M>) -> bool,
) -> Vec<TrainOutcome<M>> {
    while !trainer.finished() {
        let done = match trainer.epoch() {
            Ok(done) => done,
            Err(e) => {
                for x in &mut trainer.errors {
                    x.get_or_insert(e.clone());
                }
                break;
            }
        };
        let mut go_on = true;
        for (k, done) in done.into_iter().enumerate() {
            if let MemberEpoch::Trained(stats) = done {
                go_on &= on_epoch(k, &stats, &trainer);
            }
        }
        if !go_on {
            trainer.stop();
        }
    }
    trainer.into_outcomes()
}

/// Train a population to the end (see [`Trainer`]): member k's outcome at index k. `on_epoch`
/// sees each training member's index and statistics and returns false to stop all.
#[cfg(not(target_arch = "wasm32"))]
pub fn train_population<M: Trainable + Population>(
    models: Vec<M>,
    sets: &[&TrajectorySet],
    cfgs: Vec<TrainConfig>,
    device: &Device,
    on_epoch: &mut dyn FnMut(usize, &EpochStats) -> bool,
) -> Result<Vec<TrainOutcome<M>>, TrainError> {
    let trainer = Trainer::new(models, sets, cfgs, device).map_err(|(_, e)| e)?;
    Ok(train_to_end(trainer, &mut |k, s, _| on_epoch(k, s)))
}

/// Train one run to the end: the population of one. `on_epoch` sees each epoch's statistics and
/// model (for progress and checkpoints) and returns false to stop. On divergence the model from
/// the start of the diverging epoch is returned.
#[cfg(not(target_arch = "wasm32"))]
pub fn train<M: Trainable + Population>(
    model: M,
    data: &TrajectorySet,
    cfg: &TrainConfig,
    device: &Device,
    on_epoch: &mut dyn FnMut(&EpochStats, &M) -> bool,
) -> TrainOutcome<M> {
    match Trainer::single(model, data, cfg, device) {
        Ok(t) => train_to_end(t, &mut |_, s, t| on_epoch(s, &t.member(0)))
            .pop()
            .expect("one run"),
        Err((model, e)) => TrainOutcome {
            model,
            history: vec![],
            error: Some(e),
        },
    }
}

/// Seconds from an arbitrary origin (std's clock is unavailable on wasm32-unknown-unknown).
pub(crate) fn clock_seconds() -> f64 {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use std::sync::OnceLock;
        static T0: OnceLock<std::time::Instant> = OnceLock::new();
        T0.get_or_init(std::time::Instant::now)
            .elapsed()
            .as_secs_f64()
    }
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now() / 1e3
    }
}
