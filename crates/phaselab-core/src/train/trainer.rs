//! The training loop.

use super::clip::clip_global_norm;
use super::learner::member_loss;
pub use super::learner::{member_mean, Learner, Minibatch};
use crate::cpu::{flush_denormals, loss_and_grads, on_pool_thread};
use crate::data::TrajectorySet;
use crate::models::symplectic::{node_so_jacobian, symplectic_penalty_terms};
use crate::models::{DynamicsModel, ModelKind};
use crate::rng::Rng;
use crate::solve::Solver;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, AdamWConfig, ModuleOptimizer};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// The training loss on rolled-out chunks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Loss {
    L2,
    L1,
}

impl std::str::FromStr for Loss {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "l2" | "L2" => Ok(Loss::L2),
            "l1" | "L1" => Ok(Loss::L1),
            _ => Err(format!("unknown loss '{s}' (l1, l2)")),
        }
    }
}

/// Optimisation settings (defaults are the reference's).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch: usize,
    pub lr: f64,
    pub weight_decay: f64,
    /// Global gradient-norm bound.
    pub clip: f64,
    pub loss: Loss,
    pub solver: Solver,
    /// Seed of the minibatch order.
    pub seed: u64,
    /// AdamW (decoupled decay; the synthetic systems) or Adam with an L2 term (MuJoCo).
    #[serde(default)]
    pub optimizer: OptimizerKind,
    /// Cosine schedule: per step with floor 1e-3 lr (synthetic), or per epoch to an absolute
    /// minimum (MuJoCo's CosineAnnealingLR).
    #[serde(default)]
    pub schedule: Schedule,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    #[default]
    AdamW,
    Adam,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Schedule {
    /// lr max(0.5 (1 + cos(pi e / E)), 1e-3) at fractional epoch e (oil's cosLr), every step.
    #[default]
    CosineStep,
    /// lr_min + (lr - lr_min) (1 + cos(pi k / E)) / 2 after k whole epochs.
    CosineEpoch { lr_min: f64 },
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 2000,
            batch: 200,
            lr: 5e-3,
            weight_decay: 1e-4,
            clip: 1.0,
            loss: Loss::L2,
            solver: Solver::default(),
            seed: 0,
            optimizer: OptimizerKind::AdamW,
            schedule: Schedule::CosineStep,
        }
    }
}

impl TrainConfig {
    /// Learning rate at fractional epoch e (see [`Schedule`]).
    pub fn lr_at(&self, epoch: f64) -> f64 {
        let cos = |e: f64| 0.5 * (1.0 + (std::f64::consts::PI * e / self.epochs as f64).cos());
        match self.schedule {
            Schedule::CosineStep => self.lr * cos(epoch).max(1e-3),
            Schedule::CosineEpoch { lr_min } => lr_min + (self.lr - lr_min) * cos(epoch.floor()),
        }
    }

    fn optimizer(&self) -> ModuleOptimizer {
        match self.optimizer {
            OptimizerKind::AdamW => AdamWConfig::new()
                .with_weight_decay(self.weight_decay as f32)
                .with_epsilon(1e-8)
                .init(),
            OptimizerKind::Adam => AdamConfig::new()
                .with_weight_decay(Some(WeightDecayConfig::new(self.weight_decay as f32)))
                .with_epsilon(1e-8)
                .init(),
        }
    }
}

/// What happened in one epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochStats {
    pub epoch: usize,
    /// Mean minibatch loss (including the symplectic penalty where there is one).
    pub loss: f64,
    pub lr: f64,
    pub seconds: f64,
}

/// Optimiser steps in one epoch over n samples: floor(n / batch), the last partial batch dropped
/// as in the reference (a batch larger than the data shrinks to it).
pub fn steps_per_epoch(n: usize, batch: usize) -> usize {
    let batch = batch.min(n).max(1);
    n / batch
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

/// The trained model (the last good one if training diverged) and its history.
pub struct TrainOutcome<M = DynamicsModel> {
    pub model: M,
    pub history: Vec<EpochStats>,
    pub error: Option<TrainError>,
}

/// Training chunks as f32 rows [N, T, 2D] of [q, v].
pub struct Chunks {
    rows: Vec<f32>,
    n: usize,
    t: usize,
    w: usize,
    dt: f64,
}

impl Learner for DynamicsModel {
    type Data = Chunks;

    fn prepare(&self, data: &TrajectorySet) -> Result<Chunks, String> {
        if data.d != self.config.dof {
            return Err(format!(
                "the data has D = {} coordinates, the model expects {}",
                data.d, self.config.dof
            ));
        }
        if data.t < 2 {
            return Err("need chunks of at least 2 points".into());
        }
        let mut rows = Vec::with_capacity(data.n * data.t * 2 * data.d);
        for i in 0..data.n {
            for k in 0..data.t {
                let (q, v) = data.state(i, k);
                rows.extend(q.iter().chain(v).map(|&x| x as f32));
            }
        }
        Ok(Chunks {
            rows,
            n: data.n,
            t: data.t,
            w: 2 * data.d,
            dt: data.dt,
        })
    }

    fn samples(data: &Chunks) -> usize {
        data.n
    }

    /// L2 or L1 error of the rollout from each chunk's first state, plus the symplectic penalty
    /// / alpha for node-so-symreg; every member's rows rolled out together.
    fn batch_loss(&self, batches: &[Minibatch<'_, Chunks>], device: &Device) -> Tensor<1> {
        let c = batches[0].data;
        let (t, w, k) = (c.t, c.w, batches.len());
        let b: usize = batches.iter().map(|m| m.rows.len()).sum();
        let mut buf = Vec::with_capacity(b * t * w);
        for m in batches {
            for &i in m.rows {
                buf.extend_from_slice(&m.data.rows[i * t * w..(i + 1) * t * w]);
            }
        }
        let truth = Tensor::<3>::from_data(TensorData::new(buf, [b, t, w]), device);
        let z0 = truth.clone().narrow(1, 0, 1).squeeze_dim::<2>(1);
        let cfg = batches[0].cfg;
        let (pred, states) = self.rollout(z0, t, c.dt, &cfg.solver);
        let losses: Vec<Loss> = batches.iter().map(|m| m.cfg.loss).collect();
        let loss = member_loss(pred - truth, &losses);
        if self.kind() != ModelKind::NodeSoSymreg {
            return loss;
        }
        let jac = node_so_jacobian(self, states.reshape([b * t, w]));
        loss + member_mean(symplectic_penalty_terms(jac), k).div_scalar(self.config.alpha)
    }
}

/// Training that advances one epoch at a time, so the CLI can loop and the browser can yield
/// between epochs. Losses are read back once per epoch (asynchronously on WebGPU).
pub struct Trainer<M: Learner = DynamicsModel> {
    model: M,
    /// The model at the start of the current epoch: what divergence falls back to.
    epoch_start: M,
    optim: ModuleOptimizer,
    cfg: TrainConfig,
    device: Device,
    data: M::Data,
    n: usize,
    batch: usize,
    steps_per_epoch: usize,
    rng: Rng,
    step: usize,
    epoch: usize,
    history: Vec<EpochStats>,
}

impl<M: Learner> Trainer<M> {
    /// Prepare to train `model` on chunks `data` [N, T, D] on the autodiff device `device`.
    pub fn new(
        model: M,
        data: &TrajectorySet,
        cfg: &TrainConfig,
        device: &Device,
    ) -> Result<Self, (M, TrainError)> {
        let prepared = match model.prepare(data) {
            Ok(p) => p,
            Err(e) => return Err((model, TrainError::Data(e))),
        };
        let n = M::samples(&prepared);
        if n == 0 || cfg.epochs == 0 || cfg.batch == 0 {
            let msg = "need at least one training sample, epochs >= 1 and batch >= 1";
            return Err((model, TrainError::Data(msg.into())));
        }
        let batch = cfg.batch.min(n);
        flush_denormals();
        let model = model.train();
        Ok(Trainer {
            epoch_start: model.clone(),
            model,
            optim: cfg.optimizer(),
            cfg: cfg.clone(),
            device: device.clone(),
            data: prepared,
            n,
            batch,
            steps_per_epoch: steps_per_epoch(n, cfg.batch),
            rng: Rng::new(cfg.seed),
            step: 0,
            epoch: 0,
            history: Vec::new(),
        })
    }

    /// Epochs finished so far.
    pub fn epochs_done(&self) -> usize {
        self.epoch
    }

    pub fn history(&self) -> &[EpochStats] {
        &self.history
    }

    /// The current model, for evaluation or checkpoints (no autodiff graph).
    pub fn model(&self) -> M {
        self.model.valid()
    }

    /// Run one epoch's optimiser steps without reading anything back; the loss of each step.
    fn run_steps(&mut self) -> Vec<Tensor<1>> {
        // The thread that trains may not be the one that built the trainer.
        flush_denormals();
        let order = self.rng.permutation(self.n);
        self.epoch_start = self.model.clone();
        let mut losses = Vec::with_capacity(self.steps_per_epoch);
        for s in 0..self.steps_per_epoch {
            let batch = &order[s * self.batch..(s + 1) * self.batch];
            let model = &self.model;
            let one = [Minibatch {
                data: &self.data,
                rows: batch,
                cfg: &self.cfg,
            }];
            let (loss, mut grads) = loss_and_grads(model, &one, &self.device);
            losses.push(loss);
            clip_global_norm(model, &mut grads, self.cfg.clip);
            let lr = self.lr_now();
            self.model = self.optim.step(lr, self.model.clone(), grads);
            self.step += 1;
        }
        losses
    }

    fn lr_now(&self) -> f64 {
        self.cfg
            .lr_at(self.step as f64 / self.steps_per_epoch as f64)
    }

    /// Close the epoch with its losses read back: statistics, or divergence (the model then goes
    /// back to where this epoch started).
    fn finish_epoch(&mut self, losses: &[f32], start: f64) -> Result<EpochStats, TrainError> {
        self.epoch += 1;
        if let Some(k) = losses.iter().position(|l| !l.is_finite()) {
            self.model = self.epoch_start.clone();
            return Err(TrainError::Diverged {
                epoch: self.epoch,
                step: self.step - losses.len() + k,
                loss: losses[k] as f64,
            });
        }
        let total: f64 = losses.iter().map(|&l| l as f64).sum();
        let stats = EpochStats {
            epoch: self.epoch,
            loss: total / losses.len() as f64,
            lr: self
                .cfg
                .lr_at((self.step.max(1) - 1) as f64 / self.steps_per_epoch as f64),
            seconds: web_time_now() - start,
        };
        self.history.push(stats.clone());
        Ok(stats)
    }

    /// One epoch, reading the losses back synchronously (CPU, native wgpu).
    pub fn epoch(&mut self) -> Result<EpochStats, TrainError> {
        let start = web_time_now();
        let losses = on_pool_thread(|| self.run_steps());
        let values = read_losses(Tensor::cat(losses, 0).into_data())?;
        self.finish_epoch(&values, start)
    }

    /// One epoch, reading the losses back asynchronously (required on WebGPU in the browser).
    pub async fn epoch_async(&mut self) -> Result<EpochStats, TrainError> {
        let start = web_time_now();
        let losses = self.run_steps();
        let data = Tensor::cat(losses, 0).into_data_async().await;
        let values = read_losses(data.map_err(|e| TrainError::Data(format!("{e:?}")))?)?;
        self.finish_epoch(&values, start)
    }
}

pub(crate) fn read_losses(data: TensorData) -> Result<Vec<f32>, TrainError> {
    data.convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| TrainError::Data(format!("reading the losses back: {e:?}")))
}

/// Train `model` on `data` (chunks [N, T, D]) on the autodiff device `device` for `cfg.epochs`.
/// `on_epoch` sees each epoch's statistics and model (for progress and checkpoints) and returns
/// false to stop. On divergence the model from the start of the diverging epoch is returned.
pub fn train<M: Learner>(
    model: M,
    data: &TrajectorySet,
    cfg: &TrainConfig,
    device: &Device,
    on_epoch: &mut dyn FnMut(&EpochStats, &M) -> bool,
) -> TrainOutcome<M> {
    let mut trainer = match Trainer::new(model, data, cfg, device) {
        Ok(t) => t,
        Err((model, e)) => {
            return TrainOutcome {
                model,
                history: vec![],
                error: Some(e),
            }
        }
    };
    let mut error = None;
    while trainer.epochs_done() < cfg.epochs {
        match trainer.epoch() {
            Ok(stats) => {
                if !on_epoch(&stats, &trainer.model()) {
                    error = Some(TrainError::Stopped(stats.epoch));
                    break;
                }
            }
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    TrainOutcome {
        model: trainer.model(),
        history: trainer.history,
        error,
    }
}

/// Seconds from an arbitrary origin (std's clock is unavailable on wasm32-unknown-unknown).
pub(crate) fn web_time_now() -> f64 {
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
