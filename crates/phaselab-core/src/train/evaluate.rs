//! Scoring a trained model on test chunks with the paper's metrics (in f64 on the CPU).

use crate::data::TrajectorySet;
use crate::metrics::{energy_violation, mse, rollout_error};
use crate::models::symplectic::{node_so_jacobian, symplectic_penalty};
use crate::models::{DynamicsModel, ModelKind};
use crate::physics::{build, SystemSpec};
use crate::solve::Solver;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// Metrics of one model on one test set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Geometric-mean relative rollout error over samples and times.
    pub gerr: f64,
    pub gerr_curve: Vec<f64>,
    /// Energy violation with the true H (None for external data with no known system).
    pub herr: Option<f64>,
    pub herr_curve: Option<Vec<f64>>,
    pub mse: f64,
    /// mean((J DF - (J DF)^T)^2) of the learned field on the test states (NODE+SO models).
    pub symplectic_error: Option<f64>,
    /// Mean over test rollouts of max_t |H(t) - H(0)| of the model's own learned H (HNNs), in the
    /// model's energy units (a learned H has an arbitrary constant, so no ratio to H(0)).
    pub learned_h_drift: Option<f64>,
    pub n_trajectories: usize,
    pub n_steps: usize,
}

/// Roll the model out from every test chunk's first state and score it.
pub fn evaluate(
    model: &DynamicsModel,
    test: &TrajectorySet,
    solver: &Solver,
    device: &Device,
) -> Result<Evaluation, String> {
    if test.d != model.config.dof {
        return Err(format!(
            "the test data has D = {}, the model expects {}",
            test.d, model.config.dof
        ));
    }
    let (t, w) = (test.t, 2 * test.d);
    let mut pred = test.clone();
    let mut sym_total = 0.0;
    let mut drift_total = 0.0;
    let chunk = 256;
    let mut i0 = 0;
    while i0 < test.n {
        let b = chunk.min(test.n - i0);
        let mut z0 = Vec::with_capacity(b * w);
        for i in i0..i0 + b {
            let (q, v) = test.state(i, 0);
            z0.extend(q.iter().chain(v).map(|&x| x as f32));
        }
        let z0 = Tensor::<2>::from_data(TensorData::new(z0, [b, w]), device);
        let (out, states) = model.rollout(z0, t, test.dt, solver);
        let vals: Vec<f32> = out.into_data().try_to_vec().map_err(|e| format!("{e:?}"))?;
        for (j, row) in vals.chunks(w).enumerate() {
            let (i, k) = (i0 + j / t, j % t);
            let o = (i * t + k) * test.d;
            for c in 0..test.d {
                pred.q[o + c] = row[c] as f64;
                pred.v[o + c] = row[test.d + c] as f64;
            }
        }
        let flat = states.reshape([b * t, w]);
        if matches!(model.kind(), ModelKind::NodeSo | ModelKind::NodeSoSymreg) {
            let p: f32 = symplectic_penalty(node_so_jacobian(model, flat.clone())).into_scalar();
            sym_total += p as f64 * b as f64;
        }
        if let Some(h) = model.hamiltonian(flat) {
            let h: Vec<f32> = h.into_data().try_to_vec().map_err(|e| format!("{e:?}"))?;
            for r in 0..b {
                let h0 = h[r * t] as f64;
                let worst = (0..t)
                    .map(|k| (h[r * t + k] as f64 - h0).abs())
                    .fold(0.0, f64::max);
                drift_total += worst;
            }
        }
        i0 += b;
    }
    if pred.q.iter().chain(&pred.v).any(|x| !x.is_finite()) {
        return Err("the model's rollout produced NaN or infinite states".into());
    }
    let r = rollout_error(test, &pred).map_err(|e| e.to_string())?;
    let sys = test.meta.system.parse::<SystemSpec>().ok().map(build);
    let e = match &sys {
        Some(s) => Some(energy_violation(s.as_ref(), test, &pred).map_err(|e| e.to_string())?),
        None => None,
    };
    let n = test.n as f64;
    Ok(Evaluation {
        gerr: r.gerr,
        gerr_curve: r.curve,
        herr: e.as_ref().map(|e| e.herr),
        herr_curve: e.map(|e| e.curve),
        mse: mse(test, &pred).map_err(|e| e.to_string())?,
        symplectic_error: matches!(model.kind(), ModelKind::NodeSo | ModelKind::NodeSoSymreg)
            .then_some(sym_total / n),
        learned_h_drift: model.kind().is_hamiltonian().then_some(drift_total / n),
        n_trajectories: test.n,
        n_steps: t,
    })
}
