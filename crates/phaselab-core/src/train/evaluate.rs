//! Scoring a trained model on test chunks with the paper's metrics (in f64 on the CPU).

use crate::data::cartesian::to_generalised;
use crate::data::{Coordinates, TrajectorySet};
use crate::metrics::{cartesian_rollout_error, energy_violation, mse, rollout_error};
use crate::models::symplectic::{node_so_jacobian, symplectic_penalty};
use crate::models::{DynamicsModel, ModelKind};
use crate::physics::{build, SystemSpec};
use crate::solve::Solver;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// Why a trained model cannot be scored when its rollout leaves the floats: a property of the
/// trained model (training is deterministic), so its run is recorded as such, not retried.
pub const NON_FINITE_ROLLOUT: &str = "the model's rollout produced NaN or infinite states";

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
    /// `gerr` on the system's body points (`metrics::cartesian_rollout_error`), the one scale on
    /// which models in generalised and in Cartesian coordinates compare (None for data of a
    /// system phaselab does not simulate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cartesian_gerr: Option<f64>,
    /// Its curve over the test steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cartesian_gerr_curve: Option<Vec<f64>>,
    pub n_trajectories: usize,
    pub n_steps: usize,
}

/// The tensors of one block of test rollouts, before they are read back.
struct Block {
    i0: usize,
    pred: Tensor<3>,
    symplectic: Option<Tensor<1>>,
    hamiltonian: Option<Tensor<2>>,
}

/// Test rollouts and their metrics, filled block by block from host values.
struct Scores {
    pred: TrajectorySet,
    sym_total: f64,
    /// Whether the symplectic error was computed.
    sym_seen: bool,
    drift_total: f64,
}

const BLOCK: usize = 256;

fn check_dims(model: &DynamicsModel, test: &TrajectorySet) -> Result<(), String> {
    if test.d != model.config.dof {
        return Err(format!(
            "the test data has D = {}, the model expects {}",
            test.d, model.config.dof
        ));
    }
    Ok(())
}

/// Roll out test chunks i0..i0+b from their first states.
fn block(
    model: &DynamicsModel,
    test: &TrajectorySet,
    i0: usize,
    solver: &Solver,
    device: &Device,
    symplectic: bool,
) -> Block {
    let (t, w) = (test.t, 2 * test.d);
    let b = BLOCK.min(test.n - i0);
    let mut z0 = Vec::with_capacity(b * w);
    for i in i0..i0 + b {
        let (q, v) = test.state(i, 0);
        z0.extend(q.iter().chain(v).map(|&x| x as f32));
    }
    let z0 = Tensor::<2>::from_data(TensorData::new(z0, [b, w]), device);
    let (pred, states) = model.rollout(z0, t, test.dt, solver);
    let flat = states.reshape([b * t, w]);
    let symplectic = (symplectic
        && matches!(model.kind(), ModelKind::NodeSo | ModelKind::NodeSoSymreg))
    .then(|| symplectic_penalty(node_so_jacobian(model, flat.clone())));
    Block {
        i0,
        pred,
        symplectic,
        hamiltonian: model.hamiltonian(flat),
    }
}

fn floats(d: TensorData) -> Result<Vec<f32>, String> {
    d.convert::<f32>()
        .try_into_vec()
        .map_err(|e| format!("{e:?}"))
}

impl Scores {
    fn new(test: &TrajectorySet) -> Self {
        Scores {
            pred: test.clone(),
            sym_total: 0.0,
            sym_seen: false,
            drift_total: 0.0,
        }
    }

    /// Take in one block's values read back: predictions, symplectic penalty, learned H.
    fn add(&mut self, i0: usize, vals: &[f32], sym: Option<f32>, h: Option<Vec<f32>>) {
        let (t, d) = (self.pred.t, self.pred.d);
        let b = vals.len() / (t * 2 * d);
        for (j, row) in vals.chunks(2 * d).enumerate() {
            let (i, k) = (i0 + j / t, j % t);
            let o = (i * t + k) * d;
            for c in 0..d {
                self.pred.q[o + c] = row[c] as f64;
                self.pred.v[o + c] = row[d + c] as f64;
            }
        }
        if let Some(p) = sym {
            self.sym_seen = true;
            self.sym_total += p as f64 * b as f64;
        }
        if let Some(h) = h {
            for r in 0..b {
                let h0 = h[r * t] as f64;
                let worst = (0..t)
                    .map(|k| (h[r * t + k] as f64 - h0).abs())
                    .fold(0.0, f64::max);
                self.drift_total += worst;
            }
        }
    }

    fn finish(self, model: &DynamicsModel, test: &TrajectorySet) -> Result<Evaluation, String> {
        let pred = &self.pred;
        if pred.q.iter().chain(&pred.v).any(|x| !x.is_finite()) {
            return Err(NON_FINITE_ROLLOUT.into());
        }
        let r = rollout_error(test, pred).map_err(|e| e.to_string())?;
        let sys = test.meta.system.parse::<SystemSpec>().ok().map(build);
        let (e, cartesian_gerr) = match &sys {
            Some(s) => {
                let s = s.as_ref();
                let cartesian = cartesian_rollout_error(s, test, pred)?;
                let e = match test.meta.coordinates {
                    Coordinates::Generalised => {
                        Some(energy_violation(s, test, pred).map_err(|e| e.to_string())?)
                    }
                    // The true energy of body points, through the generalised states they
                    // stand for (None where a state sits on a chart's pole).
                    Coordinates::Cartesian => {
                        match (to_generalised(test, s), to_generalised(pred, s)) {
                            (Ok(t), Ok(p)) => {
                                Some(energy_violation(s, &t, &p).map_err(|e| e.to_string())?)
                            }
                            _ => None,
                        }
                    }
                };
                (e, Some(cartesian))
            }
            None => (None, None),
        };
        let (cartesian_gerr, cartesian_gerr_curve) = match cartesian_gerr {
            Some(c) => (Some(c.gerr), Some(c.curve)),
            None => (None, None),
        };
        let n = test.n as f64;
        Ok(Evaluation {
            gerr: r.gerr,
            gerr_curve: r.curve,
            herr: e.as_ref().map(|e| e.herr),
            herr_curve: e.map(|e| e.curve),
            mse: mse(test, pred).map_err(|e| e.to_string())?,
            symplectic_error: self.sym_seen.then_some(self.sym_total / n),
            learned_h_drift: model
                .kind()
                .is_hamiltonian()
                .then_some(self.drift_total / n),
            cartesian_gerr,
            cartesian_gerr_curve,
            n_trajectories: test.n,
            n_steps: test.t,
        })
    }
}

/// What `phaselab eval` reports of one checkpoint scored on one test set (its eval.json).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    pub model: crate::models::ModelKind,
    /// The checkpoint file and the test set, as given.
    pub checkpoint: String,
    pub data: String,
    /// The solver the rollouts used (`rk4-38:1`, ...).
    pub solver: String,
    pub test: Evaluation,
}

/// Roll the model out from every test chunk's first state and score it (native: the reads are
/// waited for).
#[cfg(not(target_arch = "wasm32"))]
pub fn evaluate(
    model: &DynamicsModel,
    test: &TrajectorySet,
    solver: &Solver,
    device: &Device,
) -> Result<Evaluation, String> {
    Ok(evaluate_with_rollouts(model, test, solver, device)?.0)
}

/// [`evaluate`], also returning the predicted test trajectories.
#[cfg(not(target_arch = "wasm32"))]
pub fn evaluate_with_rollouts(
    model: &DynamicsModel,
    test: &TrajectorySet,
    solver: &Solver,
    device: &Device,
) -> Result<(Evaluation, TrajectorySet), String> {
    super::trainer::block_on(evaluate_async(model, test, solver, device, true))
}

/// Roll the model out from every test chunk's first state and score it, with asynchronous reads
/// (as WebGPU in the browser requires), also returning the predicted test trajectories. With
/// `symplectic` false the symplectic error (an exact Jacobian at every state, the costliest part)
/// is skipped and reported as None.
pub async fn evaluate_async(
    model: &DynamicsModel,
    test: &TrajectorySet,
    solver: &Solver,
    device: &Device,
    symplectic: bool,
) -> Result<(Evaluation, TrajectorySet), String> {
    check_dims(model, test)?;
    let mut scores = Scores::new(test);
    let err = |e| format!("{e:?}");
    for i0 in (0..test.n).step_by(BLOCK) {
        let bl = block(model, test, i0, solver, device, symplectic);
        let vals = floats(bl.pred.into_data_async().await.map_err(err)?)?;
        let sym = match bl.symplectic {
            Some(p) => Some(p.into_scalar_async::<f32>().await.map_err(err)?),
            None => None,
        };
        let h = match bl.hamiltonian {
            Some(h) => Some(floats(h.into_data_async().await.map_err(err)?)?),
            None => None,
        };
        scores.add(bl.i0, &vals, sym, h);
    }
    let pred = scores.pred.clone();
    Ok((scores.finish(model, test)?, pred))
}
