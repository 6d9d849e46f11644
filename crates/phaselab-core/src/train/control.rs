//! Training and scoring the control-aware models (MuJoCo): standardisation from the training
//! data, the loss mean(((z_pred - z) / s_z)^2) over the rolled-out chunk, and the same standardised
//! MSE per step over long test rollouts (the paper's Figure 7 metric).

use super::trainer::{Learner, TrainConfig};
use crate::data::TrajectorySet;
use crate::models::control::{ControlConfig, ControlKind, ControlModel, Standardise};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// Rows [N, T, 2n] of [q, v] and [N, T, m] of u, as f32.
pub struct ControlChunks {
    x: Vec<f32>,
    u: Vec<f32>,
    n: usize,
    t: usize,
    w: usize,
    m: usize,
    dt: f64,
}

fn states(set: &TrajectorySet) -> Vec<f64> {
    let mut x = Vec::with_capacity(set.n * set.t * 2 * set.d);
    for i in 0..set.n {
        for k in 0..set.t {
            let (q, v) = set.state(i, k);
            x.extend(q.iter().chain(v));
        }
    }
    x
}

fn controls(set: &TrajectorySet) -> Result<(&[f64], usize), String> {
    match &set.u {
        Some((u, m)) if *m > 0 => Ok((u, *m)),
        _ => Err(format!(
            "{} has no controls u: control-aware models need actions (use `phaselab train` for autonomous systems)",
            set.meta.system
        )),
    }
}

/// The model's standardisation fitted to `train` (chunks with controls): inputs [z, u], outputs
/// (finite differences dz/dt or dv/dt), and the state's scale for the loss.
pub fn fit_standardisation(cfg: &mut ControlConfig, train: &TrajectorySet) -> Result<(), String> {
    let (u, m) = controls(train)?;
    if train.d != cfg.dof || m != cfg.controls {
        return Err(format!(
            "the data has n = {} coordinates and m = {m} controls; the model expects {} and {}",
            train.d, cfg.dof, cfg.controls
        ));
    }
    if train.t < 2 {
        return Err("training chunks need at least 2 points".into());
    }
    let w = 2 * train.d;
    let x = states(train);
    let xu: Vec<f64> = x
        .chunks(w)
        .zip(u.chunks(m))
        .flat_map(|(a, b)| a.iter().chain(b).copied())
        .collect();
    cfg.input = Standardise::of_columns(&xu, w + m);
    cfg.state_scale = Standardise::of_columns(&x, w).scale;
    let mut fd = Vec::new();
    for i in 0..train.n {
        for k in 0..train.t - 1 {
            let (a, b) = ((i * train.t + k) * w, (i * train.t + k + 1) * w);
            fd.extend((0..w).map(|c| (x[b + c] - x[a + c]) / train.dt));
        }
    }
    cfg.output = match cfg.kind {
        ControlKind::Node => Standardise::of_columns(&fd, w),
        ControlKind::NodeSo | ControlKind::HnnForced => {
            let dv: Vec<f64> = fd.chunks(w).flat_map(|r| r[train.d..].to_vec()).collect();
            Standardise::of_columns(&dv, train.d)
        }
    };
    Ok(())
}

impl ControlChunks {
    fn tensors(&self, idx: &[usize], device: &Device) -> (Tensor<3>, Tensor<3>) {
        let (t, w, m, b) = (self.t, self.w, self.m, idx.len());
        let mut x = Vec::with_capacity(b * t * w);
        let mut u = Vec::with_capacity(b * t * m);
        for &i in idx {
            x.extend_from_slice(&self.x[i * t * w..(i + 1) * t * w]);
            u.extend_from_slice(&self.u[i * t * m..(i + 1) * t * m]);
        }
        (
            Tensor::from_data(TensorData::new(x, [b, t, w]), device),
            Tensor::from_data(TensorData::new(u, [b, t, m]), device),
        )
    }

    fn of(set: &TrajectorySet) -> Result<Self, String> {
        let (u, m) = controls(set)?;
        Ok(ControlChunks {
            x: states(set).into_iter().map(|v| v as f32).collect(),
            u: u.iter().map(|&v| v as f32).collect(),
            n: set.n,
            t: set.t,
            w: 2 * set.d,
            m,
            dt: set.dt,
        })
    }
}

impl ControlModel {
    /// Squared error of the rollout in units of the state's scale, [B, T, 2n].
    fn scaled_error(&self, truth: Tensor<3>, u: Tensor<3>, dt: f64) -> Tensor<3> {
        let z0 = truth.clone().narrow(1, 0, 1).squeeze_dim::<2>(1);
        let pred = self.rollout(z0, u, dt);
        let s: Vec<f32> = self.config.state_scale.iter().map(|&x| x as f32).collect();
        let w = s.len();
        let scale = Tensor::<3>::from_data(TensorData::new(s, [1, 1, w]), &truth.device());
        let e = (pred - truth) / scale;
        e.clone() * e
    }
}

impl Learner for ControlModel {
    type Data = ControlChunks;

    fn prepare(&self, set: &TrajectorySet) -> Result<ControlChunks, String> {
        let c = ControlChunks::of(set)?;
        if set.d != self.config.dof || c.m != self.config.controls {
            return Err(format!(
                "the data has n = {} and m = {}; the model expects {} and {}",
                set.d, c.m, self.config.dof, self.config.controls
            ));
        }
        if set.t < 2 {
            return Err("training chunks need at least 2 points".into());
        }
        Ok(c)
    }

    fn samples(data: &ControlChunks) -> usize {
        data.n
    }

    fn batch_loss(
        &self,
        c: &ControlChunks,
        batch: &[usize],
        _: &TrainConfig,
        device: &Device,
    ) -> Tensor<1> {
        let (x, u) = c.tensors(batch, device);
        self.scaled_error(x, u, c.dt).mean()
    }
}

/// Standardised MSE of rollouts from each trajectory's first state over its whole length.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ControlEvaluation {
    /// Mean over trajectories, steps and features.
    pub mse: f64,
    /// Mean over trajectories and features at each step (step 0 is the given state).
    pub mse_curve: Vec<f64>,
    /// Trajectory 0: predicted states [T, 2n] (for prediction-versus-truth plots).
    pub example: Vec<Vec<f64>>,
    pub n_trajectories: usize,
    pub n_steps: usize,
}

/// Score `model` on `set` (trajectories with controls), in blocks of 256.
pub fn evaluate_control(
    model: &ControlModel,
    set: &TrajectorySet,
    device: &Device,
) -> Result<ControlEvaluation, String> {
    let c = model.prepare(set)?;
    let (t, w) = (c.t, c.w);
    let mut curve = vec![0.0; t];
    let mut example = Vec::new();
    for i0 in (0..c.n).step_by(256) {
        let idx: Vec<usize> = (i0..(i0 + 256).min(c.n)).collect();
        let (x, u) = c.tensors(&idx, device);
        if i0 == 0 {
            let z0 = x
                .clone()
                .narrow(0, 0, 1)
                .narrow(1, 0, 1)
                .squeeze_dim::<2>(1);
            let pred = model.rollout(z0, u.clone().narrow(0, 0, 1), c.dt);
            let p: Vec<f32> = pred
                .into_data()
                .convert::<f32>()
                .try_into_vec()
                .map_err(|e| format!("{e:?}"))?;
            example = p
                .chunks(w)
                .map(|r| r.iter().map(|&v| v as f64).collect())
                .collect();
        }
        let per_step = model.scaled_error(x, u, c.dt).mean_dim(2).sum_dim(0);
        let v: Vec<f32> = per_step
            .into_data()
            .convert::<f32>()
            .try_into_vec()
            .map_err(|e| format!("{e:?}"))?;
        curve.iter_mut().zip(&v).for_each(|(a, b)| *a += *b as f64);
    }
    curve.iter_mut().for_each(|a| *a /= c.n as f64);
    let mse = curve.iter().sum::<f64>() / t as f64;
    if !mse.is_finite() {
        return Err("the model's rollout produced NaN or infinite states".into());
    }
    Ok(ControlEvaluation {
        mse,
        mse_curve: curve,
        example,
        n_trajectories: c.n,
        n_steps: t,
    })
}

/// The reference's optimiser settings for the MuJoCo models: Adam (L2 weight decay 1e-4), lr
/// 5e-3, cosine per epoch to 1e-6 over 256 epochs, batch 200, clipping at norm 1.
pub fn mujoco_train_config() -> TrainConfig {
    TrainConfig {
        epochs: 256,
        optimizer: super::trainer::OptimizerKind::Adam,
        schedule: super::trainer::Schedule::CosineEpoch { lr_min: 1e-6 },
        ..TrainConfig::default()
    }
}
