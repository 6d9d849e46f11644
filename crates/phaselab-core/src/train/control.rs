//! Training and scoring the control-aware models (MuJoCo): standardisation from the training
//! data, the loss mean(((z_pred - z) / s_z)^2) over the rolled-out chunk, and the same standardised
//! MSE per step over long test rollouts (the paper's Figure 7 metric).

use super::config::TrainConfig;
use super::trainable::{member_mean, Minibatch, Trainable};
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
    /// Squared error of predicted states in units of the state's scale, [B, T, 2n].
    /// (A population's members each use their own scale, on their own rows.)
    fn scaled_sq_error(&self, pred: Tensor<3>, truth: Tensor<3>) -> Tensor<3> {
        let configs = match self.members.len() {
            0 | 1 => std::slice::from_ref(&self.config),
            _ => &self.members[..],
        };
        let k = configs.len();
        let s: Vec<f32> = configs
            .iter()
            .flat_map(|c| c.state_scale.iter().map(|&x| x as f32))
            .collect();
        let w = s.len() / k;
        let scale = Tensor::<3>::from_data(TensorData::new(s, [k, 1, w]), &truth.device());
        let [n, t, _] = truth.dims();
        let e = match k {
            1 => (pred - truth) / scale,
            _ => ((pred - truth).reshape([k, n / k * t, w]) / scale).reshape([n, t, w]),
        };
        e.clone() * e
    }

    /// Rollouts from each chunk's first state under its controls, [B, T, 2n].
    fn rollout_chunks(&self, x: &Tensor<3>, u: Tensor<3>, dt: f64) -> Tensor<3> {
        let z0 = x.clone().narrow(1, 0, 1).squeeze_dim::<2>(1);
        self.rollout(z0, u, dt)
    }
}

impl Trainable for ControlModel {
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

    fn batch_loss(&self, batches: &[Minibatch<'_, ControlChunks>], device: &Device) -> Tensor<1> {
        let parts: Vec<(Tensor<3>, Tensor<3>)> = batches
            .iter()
            .map(|m| m.data.tensors(m.rows, device))
            .collect();
        let (x, u): (Vec<_>, Vec<_>) = parts.into_iter().unzip();
        let (x, u) = (Tensor::cat(x, 0), Tensor::cat(u, 0));
        let pred = self.rollout_chunks(&x, u, batches[0].data.dt);
        member_mean(self.scaled_sq_error(pred, x), batches.len())
    }
}

/// Standardised MSE of rollouts from each trajectory's first state over its whole length.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ControlEvaluation {
    /// Mean over trajectories, steps and features.
    pub mse: f64,
    /// Mean over trajectories and features at each step (step 0 is the given state).
    pub mse_curve: Vec<f64>,
    /// Mean over trajectories and steps of each state feature (q then v, 2n): which coordinates
    /// the error sits in. Empty in evaluations saved before it existed.
    #[serde(default)]
    pub mse_by_feature: Vec<f64>,
    /// Trajectory 0: predicted states [T, 2n] (for prediction-versus-truth plots).
    pub example: Vec<Vec<f64>>,
    pub n_trajectories: usize,
    pub n_steps: usize,
}

/// Rollouts of one block of trajectories and their standardised squared error summed over the
/// block's trajectories, per step [T] and per feature (summed over steps too) [2n].
struct ControlBlock {
    i0: usize,
    pred: Tensor<3>,
    per_step: Tensor<1>,
    per_feature: Tensor<1>,
}

fn control_blocks<'a>(
    model: &'a ControlModel,
    c: &'a ControlChunks,
    device: &'a Device,
) -> impl Iterator<Item = ControlBlock> + 'a {
    (0..c.n).step_by(256).map(move |i0| {
        let idx: Vec<usize> = (i0..(i0 + 256).min(c.n)).collect();
        let (x, u) = c.tensors(&idx, device);
        let pred = model.rollout_chunks(&x, u, c.dt);
        let sq = model.scaled_sq_error(pred.clone(), x);
        let features = sq.dims()[2];
        let per_feature = sq.clone().sum_dim(1).sum_dim(0).reshape([features]);
        let per_step = sq.mean_dim(2).sum_dim(0).reshape([c.t]);
        ControlBlock {
            i0,
            pred,
            per_step,
            per_feature,
        }
    })
}

/// Predictions and errors read back, accumulated over blocks.
struct ControlScores {
    pred: TrajectorySet,
    curve: Vec<f64>,
    by_feature: Vec<f64>,
}

impl ControlScores {
    fn new(set: &TrajectorySet) -> Self {
        ControlScores {
            pred: set.clone(),
            curve: vec![0.0; set.t],
            by_feature: vec![0.0; 2 * set.d],
        }
    }

    fn add(&mut self, i0: usize, pred: &[f32], per_step: &[f32], per_feature: &[f32]) {
        let (t, d) = (self.pred.t, self.pred.d);
        for (j, row) in pred.chunks(2 * d).enumerate() {
            let o = ((i0 + j / t) * t + j % t) * d;
            for k in 0..d {
                self.pred.q[o + k] = row[k] as f64;
                self.pred.v[o + k] = row[d + k] as f64;
            }
        }
        self.curve
            .iter_mut()
            .zip(per_step)
            .for_each(|(a, b)| *a += *b as f64);
        self.by_feature
            .iter_mut()
            .zip(per_feature)
            .for_each(|(a, b)| *a += *b as f64);
    }

    fn finish(mut self, n: usize) -> Result<(ControlEvaluation, TrajectorySet), String> {
        self.curve.iter_mut().for_each(|a| *a /= n as f64);
        let samples = (n * self.pred.t) as f64;
        self.by_feature.iter_mut().for_each(|a| *a /= samples);
        let mse = self.curve.iter().sum::<f64>() / self.curve.len() as f64;
        if !mse.is_finite() {
            return Err(super::evaluate::NON_FINITE_ROLLOUT.into());
        }
        let p = &self.pred;
        let example = (0..p.t)
            .map(|k| {
                let (q, v) = p.state(0, k);
                q.iter().chain(v).copied().collect()
            })
            .collect();
        let ev = ControlEvaluation {
            mse,
            n_steps: p.t,
            n_trajectories: p.n,
            mse_curve: self.curve,
            mse_by_feature: self.by_feature,
            example,
        };
        Ok((ev, self.pred))
    }
}

fn floats(d: TensorData) -> Result<Vec<f32>, String> {
    d.convert::<f32>()
        .try_into_vec()
        .map_err(|e| format!("{e:?}"))
}

/// Score `model` on `set` (trajectories with controls), in blocks of 256: metrics and the
/// predicted trajectories. Reads are asynchronous, as WebGPU in the browser requires; natively
/// [`evaluate_control`] waits for them.
pub async fn evaluate_control_async(
    model: &ControlModel,
    set: &TrajectorySet,
    device: &Device,
) -> Result<(ControlEvaluation, TrajectorySet), String> {
    let c = model.prepare(set)?;
    let mut s = ControlScores::new(set);
    let err = |e| format!("{e:?}");
    for b in control_blocks(model, &c, device) {
        let pred = floats(b.pred.into_data_async().await.map_err(err)?)?;
        let per_step = floats(b.per_step.into_data_async().await.map_err(err)?)?;
        let per_feature = floats(b.per_feature.into_data_async().await.map_err(err)?)?;
        s.add(b.i0, &pred, &per_step, &per_feature);
    }
    s.finish(c.n)
}

/// [`evaluate_control_async`], waited for (native).
#[cfg(not(target_arch = "wasm32"))]
pub fn evaluate_control_with_rollouts(
    model: &ControlModel,
    set: &TrajectorySet,
    device: &Device,
) -> Result<(ControlEvaluation, TrajectorySet), String> {
    super::trainer::block_on(evaluate_control_async(model, set, device))
}

/// The scores of [`evaluate_control_with_rollouts`] (native).
#[cfg(not(target_arch = "wasm32"))]
pub fn evaluate_control(
    model: &ControlModel,
    set: &TrajectorySet,
    device: &Device,
) -> Result<ControlEvaluation, String> {
    Ok(evaluate_control_with_rollouts(model, set, device)?.0)
}

/// The reference's optimiser settings for the MuJoCo models: Adam (L2 weight decay 1e-4), lr
/// 5e-3, cosine per epoch to 1e-6 over 256 epochs, batch 200, clipping at norm 1.
pub fn mujoco_train_config() -> TrainConfig {
    TrainConfig {
        epochs: 256,
        optimizer: super::config::OptimizerKind::Adam,
        schedule: super::config::Schedule::CosineEpoch { lr_min: 1e-6 },
        ..TrainConfig::default()
    }
}
