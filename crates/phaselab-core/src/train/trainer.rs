//! The training loop.

use super::clip::clip_global_norm;
use crate::data::TrajectorySet;
use crate::models::symplectic::{node_so_jacobian, symplectic_penalty};
use crate::models::{DynamicsModel, ModelKind};
use crate::rng::Rng;
use crate::solve::Solver;
use burn::optim::{AdamWConfig, GradientsParams};
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

/// Train `model` on `data` (chunks [N, T, D]) on the autodiff device `device`. `on_epoch` sees each
/// epoch's statistics and model (for progress and checkpoints) and returns false to stop.
pub fn train(
    model: DynamicsModel,
    data: &TrajectorySet,
    cfg: &TrainConfig,
    device: &Device,
    on_epoch: &mut dyn FnMut(&EpochStats, &DynamicsModel) -> bool,
) -> TrainOutcome {
    let fail = |model, e| TrainOutcome {
        model,
        history: vec![],
        error: Some(e),
    };
    if data.d != model.config.dof {
        let msg = format!(
            "the data has D = {} coordinates, the model expects {}",
            data.d, model.config.dof
        );
        return fail(model, TrainError::Data(msg));
    }
    if data.t < 2 || cfg.epochs == 0 || cfg.batch == 0 {
        return fail(
            model,
            TrainError::Data("need chunks of at least 2 points, epochs >= 1 and batch >= 1".into()),
        );
    }
    let (t, w) = (data.t, 2 * data.d);
    let batch = cfg.batch.min(data.n);
    let steps_per_epoch = data.n / batch; // drop_last, as the reference
    let rows = flatten(data);
    let mut optim = AdamWConfig::new()
        .with_weight_decay(cfg.weight_decay as f32)
        .with_epsilon(1e-8)
        .init();
    let mut rng = Rng::new(cfg.seed);
    let mut model = model.train();
    // The model that last gave a finite loss: what divergence falls back to.
    let mut last_finite = model.clone();
    let mut history = Vec::with_capacity(cfg.epochs);
    let mut step = 0usize;
    let symreg = model.kind() == ModelKind::NodeSoSymreg;
    let alpha = model.config.alpha;
    for epoch in 1..=cfg.epochs {
        let start = web_time_now();
        let order = rng.permutation(data.n);
        let mut total = 0.0;
        let mut lr = cfg.lr;
        for s in 0..steps_per_epoch {
            let mut buf = Vec::with_capacity(batch * t * w);
            for &i in &order[s * batch..(s + 1) * batch] {
                buf.extend_from_slice(&rows[i * t * w..(i + 1) * t * w]);
            }
            let truth = Tensor::<3>::from_data(TensorData::new(buf, [batch, t, w]), device);
            let z0 = truth.clone().narrow(1, 0, 1).squeeze_dim::<2>(1);
            let (pred, states) = model.rollout(z0, t, data.dt, &cfg.solver);
            let diff = pred - truth;
            let mut loss = match cfg.loss {
                Loss::L2 => (diff.clone() * diff).mean(),
                Loss::L1 => diff.abs().mean(),
            };
            if symreg {
                let flat = states.reshape([batch * t, w]);
                loss = loss + symplectic_penalty(node_so_jacobian(&model, flat)).div_scalar(alpha);
            }
            let value = loss.clone().into_scalar::<f32>() as f64;
            if !value.is_finite() {
                let e = TrainError::Diverged {
                    epoch,
                    step,
                    loss: value,
                };
                return TrainOutcome {
                    model: last_finite.valid(),
                    history,
                    error: Some(e),
                };
            }
            last_finite = model.clone();
            let mut grads = GradientsParams::from_grads(loss.backward(), &model);
            clip_global_norm(&model, &mut grads, cfg.clip);
            lr = cfg.lr_at(step as f64 / steps_per_epoch as f64);
            model = optim.step(lr, model, grads);
            total += value;
            step += 1;
        }
        let stats = EpochStats {
            epoch,
            loss: total / steps_per_epoch as f64,
            lr,
            seconds: web_time_now() - start,
        };
        let keep_going = on_epoch(&stats, &model.valid());
        history.push(stats);
        if !keep_going {
            return TrainOutcome {
                model: model.valid(),
                history,
                error: Some(TrainError::Stopped(epoch)),
            };
        }
    }
    TrainOutcome {
        model: model.valid(),
        history,
        error: None,
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
