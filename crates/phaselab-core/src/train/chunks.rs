//! The autonomous models' training data and loss: chunks of [q, v] rolled out from their first
//! state, scored in L2 or L1, plus the symplectic penalty mean((J DF - (J DF)^T)^2) / alpha for
//! node-so-symreg.

use super::config::Loss;
use super::step_trace::dynamics_probe;
use super::trainable::{member_loss, member_mean, Minibatch, Trainable};
use crate::data::TrajectorySet;
use crate::models::symplectic::{node_so_jacobian, symplectic_penalty_terms};
use crate::models::{DynamicsModel, ModelKind};
use burn::prelude::*;

/// Training chunks as f32 rows [N, T, 2D] of [q, v].
pub struct Chunks {
    rows: Vec<f32>,
    n: usize,
    t: usize,
    w: usize,
    dt: f64,
}

impl Trainable for DynamicsModel {
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
        let truth = gather(batches, device);
        let b = truth.dims()[0];
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

    fn probe(&self, batch: &Minibatch<'_, Chunks>, device: &Device) -> Vec<(&'static str, f64)> {
        let truth = gather(std::slice::from_ref(batch), device);
        let z0 = truth.narrow(1, 0, 1).squeeze_dim::<2>(1);
        dynamics_probe(self, z0, batch.data.t, batch.data.dt, &batch.cfg.solver)
    }
}

/// The minibatches' chunks, member after member, as [B, T, 2D] on `device`.
fn gather(batches: &[Minibatch<'_, Chunks>], device: &Device) -> Tensor<3> {
    let c = batches[0].data;
    let (t, w) = (c.t, c.w);
    let b: usize = batches.iter().map(|m| m.rows.len()).sum();
    let mut buf = Vec::with_capacity(b * t * w);
    for m in batches {
        for &i in m.rows {
            buf.extend_from_slice(&m.data.rows[i * t * w..(i + 1) * t * w]);
        }
    }
    Tensor::<3>::from_data(TensorData::new(buf, [b, t, w]), device)
}
