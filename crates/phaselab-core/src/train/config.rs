//! The training settings: the loss, the optimiser, the learning-rate schedule and the batch, with
//! the reference's values as defaults (AdamW at lr 5e-3 and weight decay 1e-4, a cosine schedule
//! stepped every minibatch with a floor of 1e-3 lr, global-norm clipping at 1, batches of 200).

use crate::solve::Solver;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, AdamWConfig, ModuleOptimizer};
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
    /// Linear warm-up of the learning rate over the first `warmup` epochs (fractional epochs,
    /// lr × e / warmup), then the schedule; 0, the reference's protocol, has none. An option
    /// against the first full-size AdamW steps that blow up some HNN runs (RESULTS.md).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub warmup: f64,
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
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
            warmup: 0.0,
        }
    }
}

impl TrainConfig {
    /// Learning rate at fractional epoch e (see [`Schedule`]).
    pub fn lr_at(&self, epoch: f64) -> f64 {
        let cos = |e: f64| 0.5 * (1.0 + (std::f64::consts::PI * e / self.epochs as f64).cos());
        let warm = match self.warmup > 0.0 {
            true => (epoch / self.warmup).min(1.0),
            false => 1.0,
        };
        warm * match self.schedule {
            Schedule::CosineStep => self.lr * cos(epoch).max(1e-3),
            Schedule::CosineEpoch { lr_min } => lr_min + (self.lr - lr_min) * cos(epoch.floor()),
        }
    }

    /// burn's optimiser for a single run with these settings.
    pub(crate) fn optimizer(&self) -> ModuleOptimizer {
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

/// Optimiser steps in one epoch over n samples: floor(n / batch), the last partial batch dropped
/// as in the reference (a batch larger than the data shrinks to it).
pub fn steps_per_epoch(n: usize, batch: usize) -> usize {
    let batch = batch.min(n).max(1);
    n / batch
}
