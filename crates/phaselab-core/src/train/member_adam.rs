//! AdamW and Adam for a population: every member has its own learning rate, weight decay and
//! gradient-norm bound, and a member can be frozen. Each parameter is viewed as [K, rest] (its
//! member blocks, `models::population`), so one elementwise pass updates all K members; the
//! formulas are burn's, operation for operation, so a member steps exactly as a single run does:
//!   m <- b1 m + (1 - b1) g,  v <- b2 v + (1 - b2) g^2,  d = m^ / (sqrt(v^) + eps),
//!   AdamW: theta <- theta (1 - lr wd) - lr d;   Adam: g <- g + wd theta first, theta <- theta - lr d.
//! Clipping scales member k's gradient by min(1, c_k / ||g_k||), ||g_k|| over all its parameters.

use super::config::OptimizerKind;
use burn::module::{ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::prelude::*;
use std::collections::HashMap;

const BETA_1: f32 = 0.9;
const BETA_2: f32 = 0.999;
const EPSILON: f32 = 1e-8;

/// Each member's settings for one step.
pub struct MemberStep<'a> {
    pub lr: &'a [f64],
    pub weight_decay: &'a [f64],
    pub clip: &'a [f64],
    /// Members whose weights must not change.
    pub frozen: &'a [bool],
}

/// Moments of every parameter, as [K, rest].
pub struct MemberAdam {
    kind: OptimizerKind,
    moments: HashMap<ParamId, (Tensor<2>, Tensor<2>)>,
    time: i32,
}

/// A column [K, 1] of per-member values.
fn column(values: impl Iterator<Item = f32>, device: &Device) -> Tensor<2> {
    let v: Vec<f32> = values.collect();
    let k = v.len();
    Tensor::from_data(TensorData::new(v, [k, 1]), device)
}

fn as_members<const D: usize>(t: Tensor<D>, k: usize) -> Tensor<2> {
    let n = t.shape().num_elements();
    t.reshape([k, n / k])
}

struct SquaredNorms<'a> {
    grads: &'a GradientsParams,
    k: usize,
    total: Option<Tensor<2>>,
}

impl ModuleVisitor for SquaredNorms<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.get::<D>(param.id) {
            let s = as_members(g, self.k).square().sum_dim(1);
            self.total = Some(match self.total.take() {
                Some(t) => t + s,
                None => s,
            });
        }
    }
}

struct Update<'a> {
    optim: &'a mut MemberAdam,
    grads: GradientsParams,
    /// Per member [K, 1]: gradient scale, lr, 1 - lr wd (AdamW) or wd (Adam); frozen mask.
    scale: Option<Tensor<2>>,
    lr: Tensor<2>,
    decay: Tensor<2>,
    frozen: Option<Tensor<2>>,
    k: usize,
}

impl ModuleMapper for Update<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(grad) = self.grads.remove::<D>(id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let require_grad = tensor.is_require_grad();
        let shape = tensor.shape();
        let theta = as_members(tensor.inner(), self.k);
        let mut g = as_members(grad, self.k);
        if let Some(s) = &self.scale {
            g = g * s.clone();
        }
        if self.optim.kind == OptimizerKind::Adam {
            g = (theta.clone() * self.decay.clone()).add(g);
        }
        let (m, v) = match self.optim.moments.remove(&id) {
            Some((m, v)) => (
                m.mul_scalar(BETA_1).add(g.clone().mul_scalar(1.0 - BETA_1)),
                v.mul_scalar(BETA_2)
                    .add(g.square().mul_scalar(1.0 - BETA_2)),
            ),
            None => (
                g.clone().mul_scalar(1.0 - BETA_1),
                g.square().mul_scalar(1.0 - BETA_2),
            ),
        };
        let t = self.optim.time;
        let m_hat = m.clone().div_scalar(1f32 - BETA_1.powi(t));
        let v_hat = v.clone().div_scalar(1f32 - BETA_2.powi(t));
        let delta = m_hat.div(v_hat.sqrt().add_scalar(EPSILON));
        self.optim.moments.insert(id, (m, v));
        let decayed = match self.optim.kind {
            OptimizerKind::AdamW => theta.clone() * self.decay.clone(),
            OptimizerKind::Adam => theta.clone(),
        };
        let mut new = decayed - delta * self.lr.clone();
        if let Some(f) = &self.frozen {
            let mask = f.clone().expand(new.shape()).greater_elem(0.5);
            new = new.mask_where(mask, theta);
        }
        let mut out = Tensor::from_inner(new.reshape(shape));
        if require_grad {
            out = out.require_grad();
        }
        Param::from_mapped_value(id, out, mapper)
    }
}

impl MemberAdam {
    pub fn new(kind: OptimizerKind) -> Self {
        MemberAdam {
            kind,
            moments: HashMap::new(),
            time: 0,
        }
    }

    /// One step of every member of `model` (K = `s.lr.len()` members) along `grads`.
    pub fn step<M: Module>(
        &mut self,
        model: M,
        grads: GradientsParams,
        s: &MemberStep<'_>,
        device: &Device,
    ) -> M {
        let k = s.lr.len();
        self.time += 1;
        let mut norms = SquaredNorms {
            grads: &grads,
            k,
            total: None,
        };
        model.visit(&mut norms);
        // min(1, c / ||g||) = c / max(||g||, c), in the single run's order of operations.
        let scale = norms.total.map(|t| {
            let c = column(s.clip.iter().map(|&c| c as f32), device);
            t.sqrt().max_pair(c.clone()).recip() * c
        });
        let decay = match self.kind {
            // burn: tensor * (1 - lr wd), the factor rounded to f32 once.
            OptimizerKind::AdamW => column(
                s.lr.iter()
                    .zip(s.weight_decay)
                    .map(|(&lr, &wd)| (1.0 - lr * wd) as f32),
                device,
            ),
            OptimizerKind::Adam => column(s.weight_decay.iter().map(|&wd| wd as f32), device),
        };
        let frozen = s
            .frozen
            .iter()
            .any(|&f| f)
            .then(|| column(s.frozen.iter().map(|&f| f as u8 as f32), device));
        let mut update = Update {
            lr: column(s.lr.iter().map(|&lr| lr as f32), device),
            optim: self,
            grads,
            scale,
            decay,
            frozen,
            k,
        };
        model.map(&mut update)
    }
}
