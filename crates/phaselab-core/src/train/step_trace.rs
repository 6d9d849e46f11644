//! A trace of every optimiser step of a run, for finding out why a run diverges: the step's loss
//! and gradient norm (before the clip), the largest weight, and what the model reads off its
//! minibatch (`Trainable::probe`: for the dynamics models, the largest model state, field and
//! rolled-out state, and the extremes of the learned mass factor L). Reading these back every
//! step is slow, so a trace is off unless asked for; it changes none of the run's numbers.

use super::clip::global_norm;
use super::trainable::{Minibatch, Trainable};
use crate::models::DynamicsModel;
use crate::physics::linalg::symmetric_eigenvalues;
use crate::solve::Solver;
use burn::module::{ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// One optimiser step, as it was before the weights moved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepTrace {
    /// Optimiser steps before this one.
    pub step: usize,
    /// The epoch this step belongs to (1-based, as `EpochStats::epoch`).
    pub epoch: usize,
    pub lr: f64,
    /// The minibatch loss (non-finite where the run diverges).
    pub loss: f64,
    /// Global gradient norm over all parameters before clipping.
    pub grad_norm: f64,
    /// max |theta| over all parameters.
    pub weight_max: f64,
    /// What the model reads off the minibatch: (name, value), the same names every step.
    pub probes: Vec<(String, f64)>,
}

impl StepTrace {
    /// The CSV header of traces whose probes are named `probes`.
    pub fn csv_header(probes: &[(String, f64)]) -> String {
        let mut cols = vec!["step", "epoch", "lr", "loss", "grad_norm", "weight_max"];
        cols.extend(probes.iter().map(|(n, _)| n.as_str()));
        cols.join(",")
    }

    /// This step as a CSV row under [`Self::csv_header`].
    pub fn csv_row(&self) -> String {
        let mut cells = vec![
            self.step.to_string(),
            self.epoch.to_string(),
            format!("{:e}", self.lr),
            format!("{:e}", self.loss),
            format!("{:e}", self.grad_norm),
            format!("{:e}", self.weight_max),
        ];
        cells.extend(self.probes.iter().map(|(_, v)| format!("{v:e}")));
        cells.join(",")
    }

    /// Traces read back from CSV written by [`Self::csv_header`] and [`Self::csv_row`].
    pub fn from_csv(text: &str) -> Result<Vec<StepTrace>, String> {
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let header: Vec<&str> = lines.next().ok_or("an empty trace")?.split(',').collect();
        const FIXED: [&str; 6] = ["step", "epoch", "lr", "loss", "grad_norm", "weight_max"];
        if header.len() < FIXED.len() || header[..FIXED.len()] != FIXED {
            return Err(format!(
                "a step trace starts with the columns {}",
                FIXED.join(",")
            ));
        }
        lines
            .enumerate()
            .map(|(i, line)| {
                let cells: Vec<&str> = line.split(',').collect();
                if cells.len() != header.len() {
                    return Err(format!(
                        "row {} has {} cells, the header {}",
                        i + 1,
                        cells.len(),
                        header.len()
                    ));
                }
                let num = |j: usize| -> Result<f64, String> {
                    cells[j].trim().parse::<f64>().map_err(|_| {
                        format!("row {}: {} is not a number: {}", i + 1, header[j], cells[j])
                    })
                };
                let whole = |j: usize| -> Result<usize, String> {
                    cells[j].trim().parse::<usize>().map_err(|_| {
                        format!("row {}: {} is not a count: {}", i + 1, header[j], cells[j])
                    })
                };
                Ok(StepTrace {
                    step: whole(0)?,
                    epoch: whole(1)?,
                    lr: num(2)?,
                    loss: num(3)?,
                    grad_norm: num(4)?,
                    weight_max: num(5)?,
                    probes: (FIXED.len()..header.len())
                        .map(|j| Ok((header[j].to_string(), num(j)?)))
                        .collect::<Result<_, String>>()?,
                })
            })
            .collect()
    }

    /// The value of probe `name` (None where this model has no such probe).
    pub fn probe(&self, name: &str) -> Option<f64> {
        self.probes.iter().find(|(n, _)| n == name).map(|p| p.1)
    }
}

/// One step's trace of a single run: its loss [1] and gradients before the clip, and its
/// minibatch, read back at once (native; a trace is never asked for in the browser).
pub(crate) fn trace_step<M: Trainable>(
    model: &M,
    loss: &Tensor<1>,
    grads: &GradientsParams,
    batch: &Minibatch<'_, M::Data>,
    device: &Device,
    (step, epoch, lr): (usize, usize, f64),
) -> StepTrace {
    // The weights and the probes are read off a copy without autodiff: probing the training
    // model would grow its autodiff graph, which only a backward pass clears.
    let valid = model.valid();
    let inner = device.clone().inner();
    let mut weights = MaxAbs { max: None };
    valid.visit(&mut weights);
    StepTrace {
        step,
        epoch,
        lr,
        loss: scalar(loss.clone()),
        grad_norm: global_norm(model, grads).map_or(0.0, scalar),
        weight_max: weights.max.map_or(0.0, scalar),
        probes: valid
            .probe(batch, &inner)
            .into_iter()
            .map(|(n, v)| (n.to_string(), v))
            .collect(),
    }
}

/// max |theta| over every parameter, as a tensor [1].
struct MaxAbs {
    max: Option<Tensor<1>>,
}

impl ModuleVisitor for MaxAbs {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let m = param.val().abs().max().reshape([1]);
        self.max = Some(match self.max.take() {
            Some(t) => t.max_pair(m),
            None => m,
        });
    }
}

/// The first value of `t`, read back (NaN if it cannot be read).
fn scalar<const D: usize>(t: Tensor<D>) -> f64 {
    t.into_data()
        .convert::<f64>()
        .try_into_vec::<f64>()
        .ok()
        .and_then(|v| v.first().copied())
        .unwrap_or(f64::NAN)
}

fn max_abs<const D: usize>(t: Tensor<D>) -> f64 {
    scalar(t.abs().max())
}

/// What a dynamics model reads off its minibatch's first states z0 = [q, v] (and the chunk's
/// rollout from them): `state_max` max |s0| of its own state (p = M(q) v for the [q, p] models),
/// `field_max` max |f(s0)|, `rollout_max` max |z| of the rolled-out data states; for a model with
/// a mass network, `mass_diag_min`, `mass_entry_max` and `mass_inverse_max`, the smallest
/// diagonal and the largest entries of its factor L(q) and of L⁻¹ over the batch (L's diagonal
/// is at least `mass_matrix::EPS`; the [q, p] models' M = L⁻ᵀL⁻¹ is as large as L⁻¹ squared);
/// for the LNN, the spectrum of ∇_v∇_vᵀL (`hessian_spectrum`).
pub(crate) fn dynamics_probe(
    model: &DynamicsModel,
    z0: Tensor<2>,
    points: usize,
    dt: f64,
    solver: &Solver,
) -> Vec<(&'static str, f64)> {
    let s0 = model.to_model_state(z0.clone());
    let mut out = vec![
        ("state_max", max_abs(s0.clone())),
        ("field_max", max_abs(model.field(s0.clone()))),
        (
            "rollout_max",
            max_abs(model.rollout(z0.clone(), points, dt, solver).0),
        ),
    ];
    if model.kind().has_mass_net() {
        let d = model.config.dof;
        let q = z0.narrow(1, 0, d);
        let l = model.lower(q).l;
        let [b, _, _] = l.dims();
        let diag: Vec<Tensor<2>> = (0..d)
            .map(|i| l.clone().narrow(1, i, 1).narrow(2, i, 1).reshape([b, 1]))
            .collect();
        out.push(("mass_diag_min", scalar(Tensor::cat(diag, 1).min())));
        out.push(("mass_entry_max", max_abs(l.clone())));
        out.push(("mass_inverse_max", inverse_max(l, b, d)));
    }
    if let Some(h) = model.lagrangian_hessian(s0) {
        let [b, d, _] = h.dims();
        let (small, large, mixed) = hessian_spectrum(h, b, d);
        out.push(("hessian_abs_min", small));
        out.push(("hessian_abs_max", large));
        out.push(("hessian_indefinite", mixed));
    }
    out
}

/// Over a batch of symmetric [B, D, D] (the LNN's ∇_v∇_vᵀL): the smallest and the largest
/// |eigenvalue|, and the share of the matrices with eigenvalues of both signs. q̈ solves with
/// it, so it grows as 1/(smallest |eigenvalue|); where some states' matrices are indefinite and
/// others' definite, an eigenvalue changes sign between them: the matrix is singular there.
fn hessian_spectrum(h: Tensor<3>, b: usize, d: usize) -> (f64, f64, f64) {
    let Ok(h) = h.into_data().convert::<f64>().try_into_vec::<f64>() else {
        return (f64::NAN, f64::NAN, f64::NAN);
    };
    if h.iter().any(|x| !x.is_finite()) {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let (mut small, mut large, mut mixed) = (f64::INFINITY, 0f64, 0usize);
    for m in h.chunks(d * d).take(b) {
        let eig = symmetric_eigenvalues(m, d);
        small = eig.iter().fold(small, |s, e| s.min(e.abs()));
        large = eig.iter().fold(large, |l, e| l.max(e.abs()));
        mixed += (eig[0] < 0.0 && eig[d - 1] > 0.0) as usize;
    }
    (small, large, mixed as f64 / b as f64)
}

/// max |(L⁻¹)_ij| over a batch of lower-triangular L [B, D, D], by forward substitution in f64
/// (it grows with D like (off-diagonal / diagonal)^(D-1) even while no diagonal entry is small).
fn inverse_max(l: Tensor<3>, b: usize, d: usize) -> f64 {
    let Ok(l) = l.into_data().convert::<f64>().try_into_vec::<f64>() else {
        return f64::NAN;
    };
    if l.iter().any(|x| x.is_nan()) {
        return f64::NAN;
    }
    let mut max = 0f64;
    for m in l.chunks(d * d).take(b) {
        for j in 0..d {
            let mut x = vec![0f64; d];
            for i in j..d {
                let known: f64 = (j..i).map(|k| m[i * d + k] * x[k]).sum();
                x[i] = ((i == j) as u8 as f64 - known) / m[i * d + i];
                max = max.max(x[i].abs());
            }
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hessian_spectrum_finds_the_smallest_eigenvalue_and_the_indefinite_states() {
        // diag(2, -1) is indefinite; [[1, 0.5], [0.5, 1]] has eigenvalues 0.5 and 1.5;
        // diag(-3, -4) is definite (negative: L and −L have the same motion).
        let h = vec![2f32, 0., 0., -1., 1., 0.5, 0.5, 1., -3., 0., 0., -4.];
        let h = TensorData::new(h, [3, 2, 2]);
        let h = Tensor::<3>::from_data(h, &Device::flex());
        let near = |(a, b, c): (f64, f64, f64), (x, y, z): (f64, f64, f64)| {
            (a - x).abs() < 1e-12 && (b - y).abs() < 1e-12 && c == z
        };
        let all = hessian_spectrum(h.clone(), 3, 2);
        assert!(near(all, (0.5, 4.0, 1.0 / 3.0)), "{all:?}");
        let one = hessian_spectrum(h.narrow(0, 1, 1), 1, 2);
        assert!(near(one, (0.5, 1.5, 0.0)), "{one:?}");
    }

    #[test]
    fn the_inverse_of_a_triangular_factor_is_found_exactly() {
        // L = [[1, 0], [3, 0.5]]: L⁻¹ = [[1, 0], [-6, 2]]; a second one, [[2, 0], [0, 4]].
        let l = TensorData::new(vec![1f32, 0., 3., 0.5, 2., 0., 0., 4.], [2, 2, 2]);
        let l = Tensor::<3>::from_data(l, &Device::flex());
        assert_eq!(inverse_max(l.clone(), 2, 2), 6.0);
        assert_eq!(inverse_max(l.narrow(0, 1, 1), 1, 2), 0.5);
        // Ones below a diagonal of 1/2 in 6 dimensions: (L⁻¹)_ij = 2 (-2)^(i-j), so 2^6 = 64
        // while no entry of L exceeds 1.
        let d = 6;
        let mut m = vec![0f32; d * d];
        for i in 0..d {
            m[i * d + i] = 0.5;
            if i > 0 {
                m[i * d + i - 1] = 1.0;
            }
        }
        let l = Tensor::<3>::from_data(TensorData::new(m, [1, d, d]), &Device::flex());
        assert_eq!(inverse_max(l, 1, d), 64.0);
    }
}
