//! The training loop.

use super::clip::clip_global_norm;
use crate::data::TrajectorySet;
use crate::models::symplectic::{node_so_jacobian, symplectic_penalty};
use crate::models::{DynamicsModel, ModelKind};
use crate::rng::Rng;
use crate::solve::Solver;
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
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
        }
    }
}

impl TrainConfig {
    /// Learning rate at fractional epoch e: lr max(0.5 (1 + cos(pi e / E)), 1e-3) (oil's cosLr).
    pub fn lr_at(&self, epoch: f64) -> f64 {
        let c = 0.5 * (1.0 + (std::f64::consts::PI * epoch / self.epochs as f64).cos());
        self.lr * c.max(1e-3)
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
pub struct TrainOutcome {
    pub model: DynamicsModel,
    pub history: Vec<EpochStats>,
    pub error: Option<TrainError>,
}

/// Training chunks as f32 [N, T, 2D] rows of [q, v].
fn flatten(data: &TrajectorySet) -> Vec<f32> {
    let mut out = Vec::with_capacity(data.n * data.t * 2 * data.d);
    for i in 0..data.n {
        for k in 0..data.t {
            let (q, v) = data.state(i, k);
            out.extend(q.iter().chain(v).map(|&x| x as f32));
        }
    }
    out
}

/// Training that advances one epoch at a time, so the CLI can loop and the browser can yield
/// between epochs. Losses are read back once per epoch (asynchronously on WebGPU).
pub struct Trainer {
    model: DynamicsModel,
    /// The model at the start of the current epoch: what divergence falls back to.
    epoch_start: DynamicsModel,
    optim: ModuleOptimizer,
    cfg: TrainConfig,
    device: Device,
    rows: Vec<f32>,
    n: usize,
    t: usize,
    w: usize,
    dt: f64,
    batch: usize,
    steps_per_epoch: usize,
    rng: Rng,
    step: usize,
    epoch: usize,
    history: Vec<EpochStats>,
}

impl Trainer {
    /// Prepare to train `model` on chunks `data` [N, T, D] on the autodiff device `device`.
    pub fn new(
        model: DynamicsModel,
        data: &TrajectorySet,
        cfg: &TrainConfig,
        device: &Device,
    ) -> Result<Self, (DynamicsModel, TrainError)> {
        if data.d != model.config.dof {
            let msg = format!(
                "the data has D = {} coordinates, the model expects {}",
                data.d, model.config.dof
            );
            return Err((model, TrainError::Data(msg)));
        }
        if data.t < 2 || data.n == 0 || cfg.epochs == 0 || cfg.batch == 0 {
            let msg = "need chunks of at least 2 points, epochs >= 1 and batch >= 1";
            return Err((model, TrainError::Data(msg.into())));
        }
        let batch = cfg.batch.min(data.n);
        let model = model.train();
        Ok(Trainer {
            epoch_start: model.clone(),
            model,
            optim: AdamWConfig::new()
                .with_weight_decay(cfg.weight_decay as f32)
                .with_epsilon(1e-8)
                .init(),
            cfg: cfg.clone(),
            device: device.clone(),
            rows: flatten(data),
            n: data.n,
            t: data.t,
            w: 2 * data.d,
            dt: data.dt,
            batch,
            steps_per_epoch: data.n / batch, // drop_last, as the reference
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
    pub fn model(&self) -> DynamicsModel {
        self.model.valid()
    }

    /// Run one epoch's optimiser steps without reading anything back; the loss of each step.
    fn run_steps(&mut self) -> Vec<Tensor<1>> {
        let (t, w, batch) = (self.t, self.w, self.batch);
        let symreg = self.model.kind() == ModelKind::NodeSoSymreg;
        let order = self.rng.permutation(self.n);
        self.epoch_start = self.model.clone();
        let mut losses = Vec::with_capacity(self.steps_per_epoch);
        for s in 0..self.steps_per_epoch {
            let mut buf = Vec::with_capacity(batch * t * w);
            for &i in &order[s * batch..(s + 1) * batch] {
                buf.extend_from_slice(&self.rows[i * t * w..(i + 1) * t * w]);
            }
            let truth = Tensor::<3>::from_data(TensorData::new(buf, [batch, t, w]), &self.device);
            let z0 = truth.clone().narrow(1, 0, 1).squeeze_dim::<2>(1);
            let model = &self.model;
            let (pred, states) = model.rollout(z0, t, self.dt, &self.cfg.solver);
            let diff = pred - truth;
            let mut loss = match self.cfg.loss {
                Loss::L2 => (diff.clone() * diff).mean(),
                Loss::L1 => diff.abs().mean(),
            };
            if symreg {
                let flat = states.reshape([batch * t, w]);
                let penalty = symplectic_penalty(node_so_jacobian(model, flat));
                loss = loss + penalty.div_scalar(model.config.alpha);
            }
            losses.push(loss.clone().detach());
            let mut grads = GradientsParams::from_grads(loss.backward(), model);
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
        let losses = self.run_steps();
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

fn read_losses(data: TensorData) -> Result<Vec<f32>, TrainError> {
    data.convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| TrainError::Data(format!("reading the losses back: {e:?}")))
}

/// Train `model` on `data` (chunks [N, T, D]) on the autodiff device `device` for `cfg.epochs`.
/// `on_epoch` sees each epoch's statistics and model (for progress and checkpoints) and returns
/// false to stop. On divergence the model from the start of the diverging epoch is returned.
pub fn train(
    model: DynamicsModel,
    data: &TrajectorySet,
    cfg: &TrainConfig,
    device: &Device,
    on_epoch: &mut dyn FnMut(&EpochStats, &DynamicsModel) -> bool,
) -> TrainOutcome {
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
fn web_time_now() -> f64 {
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
        0.0
    }
}
