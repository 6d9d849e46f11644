//! Control-aware models for data with actions u (MuJoCo), as the paper's Appendix C (reference:
//! `dynamics_models.py`). Inputs are standardised [z, u]; controls are zero-order held by index:
//! step k -> k+1 uses u_k for all of its Euler substeps of size h = dt / substeps.
//! - `node`:       z' = z + h (s_out * MLP(x) + m_out)                          (dz/dt free)
//! - `node-so`:    a = s_out * MLP(x) + m_out;  q' = q + h v + h^2 a / 2,  v' = v + h a
//! - `hnn-forced`: H = |p|^2 / 2 + V(q) (M = I, so p = v), dp/dt = -dV/dq + F,
//!                 F = s_out * MLP_F(x) + m_out;  q' = q + h v,  v' = v + h dp/dt
//! with x = ([z, u] - m_in) / s_in.

use super::mlp::Mlp;
use crate::rng::Rng;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// The control-aware models. `NodeSo` and `HnnForced` share their names with the autonomous
/// `ModelKind`s but not their architecture: they have no learned mass matrix (M = I, p = v).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ControlKind {
    /// dz/dt from an MLP of (z, u).
    Node,
    /// Accelerations from an MLP of (z, u), integrated second-order; unlike the autonomous
    /// node-so, no learned M^-1(q).
    NodeSo,
    /// H = |v|^2 / 2 + V(q) (M = I) plus a learned force F(z, u); unlike the autonomous hnn and
    /// hnn-forced, no learned M^-1(q).
    HnnForced,
}

impl ControlKind {
    pub const ALL: [ControlKind; 3] = [
        ControlKind::Node,
        ControlKind::NodeSo,
        ControlKind::HnnForced,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ControlKind::Node => "node",
            ControlKind::NodeSo => "node-so",
            ControlKind::HnnForced => "hnn-forced",
        }
    }
}

impl std::fmt::Display for ControlKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ControlKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ControlKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("unknown control model '{s}' (node, node-so, hnn-forced)"))
    }
}

/// Affine standardisation from the training data (shift, scale per feature).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Standardise {
    pub loc: Vec<f64>,
    pub scale: Vec<f64>,
}

impl Standardise {
    /// Mean and standard deviation of each column of `rows` (width w), scale clipped at 1e-6.
    pub fn of_columns(rows: &[f64], w: usize) -> Self {
        let n = (rows.len() / w.max(1)).max(1) as f64;
        let mut loc = vec![0.0; w];
        for r in rows.chunks(w) {
            loc.iter_mut().zip(r).for_each(|(m, x)| *m += x / n);
        }
        let mut var = vec![0.0; w];
        for r in rows.chunks(w) {
            var.iter_mut()
                .zip(r.iter().zip(&loc))
                .for_each(|(s, (x, m))| *s += (x - m) * (x - m) / n);
        }
        Standardise {
            loc,
            scale: var.into_iter().map(|v| v.sqrt().max(1e-6)).collect(),
        }
    }

    fn tensors(&self, device: &Device) -> (Tensor<2>, Tensor<2>) {
        let row = |v: &[f64]| {
            let d: Vec<f32> = v.iter().map(|&x| x as f32).collect();
            Tensor::<2>::from_data(TensorData::new(d, [1, v.len()]), device)
        };
        (row(&self.loc), row(&self.scale))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ControlConfig {
    pub kind: ControlKind,
    /// Generalised coordinates n (the state is [q, v], 2n wide).
    pub dof: usize,
    /// Controls m.
    pub controls: usize,
    pub width: usize,
    pub depth: usize,
    pub seed: u64,
    /// Euler substeps per data step (the reference: 8).
    pub substeps: usize,
    /// Input standardisation of [z, u] (2n + m).
    pub input: Standardise,
    /// Output de-standardisation: dz/dt (node, 2n) or accelerations dv/dt (node-so, and the
    /// force of hnn-forced, n). The reference leaves hnn-forced's force unscaled; scaled, it
    /// learns MuJoCo's large accelerations far sooner, which only helps the HNN.
    pub output: Standardise,
    /// Per-feature standard deviation of the state, the unit of the loss and the metric.
    pub state_scale: Vec<f64>,
}

impl ControlConfig {
    pub fn new(kind: ControlKind, dof: usize, controls: usize) -> Self {
        ControlConfig {
            kind,
            dof,
            controls,
            width: 128,
            depth: 2,
            seed: 0,
            substeps: 8,
            input: Standardise::default(),
            output: Standardise::default(),
            state_scale: vec![1.0; 2 * dof],
        }
    }

    pub fn init(&self, device: &Device) -> ControlModel {
        let mut rng = Rng::new(self.seed);
        let (n, m) = (self.dof, self.controls);
        let sizes = |i: usize, o: usize| {
            let mut s = vec![i];
            s.extend(std::iter::repeat_n(self.width, self.depth));
            s.push(o);
            s
        };
        let (main, force) = match self.kind {
            ControlKind::Node => (sizes(2 * n + m, 2 * n), None),
            ControlKind::NodeSo => (sizes(2 * n + m, n), None),
            ControlKind::HnnForced => (sizes(n, 1), Some(sizes(2 * n + m, n))),
        };
        ControlModel {
            // The reference's MuJoCo models zero every output bias.
            net: Mlp::new(&main, true, Some(&mut rng), device),
            force: force.map(|s| Mlp::new(&s, true, Some(&mut rng), device)),
            config: self.clone(),
            members: Vec::new(),
        }
    }
}

#[derive(Module, Debug)]
pub struct ControlModel {
    /// dz/dt (node), accelerations (node-so) or the potential V (hnn-forced).
    pub net: Mlp,
    /// The force F(z, u) of hnn-forced.
    pub force: Option<Mlp>,
    #[module(skip)]
    pub config: ControlConfig,
    /// Each member's configuration (its own standardisation) when this is a stacked population
    /// (`train::population`); empty for a single model, whose configuration is `config`.
    #[module(skip)]
    pub members: Vec<ControlConfig>,
}

/// Standardisation constants as [1, w] rows on the device, built once per rollout.
struct Rows {
    in_loc: Tensor<2>,
    in_scale: Tensor<2>,
    out_loc: Tensor<2>,
    out_scale: Tensor<2>,
}

impl ControlModel {
    pub fn n_params(&self) -> usize {
        self.net.n_params() + self.force.as_ref().map_or(0, |f| f.n_params())
    }

    /// The standardisation rows for a batch of `n` states: [1, w] for one model; for a
    /// population, [n, w] with each member's constants on its own n / K rows.
    fn rows(&self, n: usize, device: &Device) -> Rows {
        if self.members.len() <= 1 {
            return Self::rows_of(&self.config, device);
        }
        let k = self.members.len();
        let per: Vec<Rows> = self
            .members
            .iter()
            .map(|c| Self::rows_of(c, device))
            .collect();
        let tile = |f: &dyn Fn(&Rows) -> Tensor<2>| {
            let t = Tensor::cat(per.iter().map(|r| f(r).unsqueeze::<3>()).collect(), 0);
            let w = t.dims()[2];
            t.repeat_dim(1, n / k).reshape([n, w])
        };
        Rows {
            in_loc: tile(&|r| r.in_loc.clone()),
            in_scale: tile(&|r| r.in_scale.clone()),
            out_loc: tile(&|r| r.out_loc.clone()),
            out_scale: tile(&|r| r.out_scale.clone()),
        }
    }

    fn rows_of(c: &ControlConfig, device: &Device) -> Rows {
        let (in_loc, in_scale) = c.input.tensors(device);
        let (out_loc, out_scale) = if c.output.loc.is_empty() {
            let w = match c.kind {
                ControlKind::Node => 2 * c.dof,
                _ => c.dof,
            };
            let one = Standardise {
                loc: vec![0.0; w],
                scale: vec![1.0; w],
            };
            one.tensors(device)
        } else {
            c.output.tensors(device)
        };
        Rows {
            in_loc,
            in_scale,
            out_loc,
            out_scale,
        }
    }

    /// One data step from z [B, 2n] under control u [B, m] held for `dt`.
    fn step(&self, r: &Rows, z: Tensor<2>, u: Tensor<2>, dt: f64) -> Tensor<2> {
        let n = self.config.dof;
        let h = dt / self.config.substeps as f64;
        let mut z = z;
        for _ in 0..self.config.substeps {
            let x = (Tensor::cat(vec![z.clone(), u.clone()], 1) - r.in_loc.clone())
                / r.in_scale.clone();
            z = match self.config.kind {
                ControlKind::Node => {
                    let dz = self.net.forward(x) * r.out_scale.clone() + r.out_loc.clone();
                    z + dz.mul_scalar(h)
                }
                ControlKind::NodeSo => {
                    let a = self.net.forward(x) * r.out_scale.clone() + r.out_loc.clone();
                    second_order_substep(z, a, h)
                }
                ControlKind::HnnForced => {
                    let (q, v) = (z.clone().narrow(1, 0, n), z.narrow(1, n, n));
                    let (q_loc, q_scale) = (
                        r.in_loc.clone().narrow(1, 0, n),
                        r.in_scale.clone().narrow(1, 0, n),
                    );
                    let dv_dq = self
                        .net
                        .input_gradient((q.clone() - q_loc) / q_scale.clone())
                        / q_scale;
                    let force = self
                        .force
                        .as_ref()
                        .expect("hnn-forced has a force net")
                        .forward(x)
                        * r.out_scale.clone()
                        + r.out_loc.clone();
                    let dp = force - dv_dq;
                    Tensor::cat(vec![q + v.clone().mul_scalar(h), v + dp.mul_scalar(h)], 1)
                }
            };
        }
        z
    }

    /// Roll out from z0 [B, 2n] under controls u [B, T, m] (u_k drives step k -> k+1): states
    /// [B, T, 2n] with the first equal to z0.
    pub fn rollout(&self, z0: Tensor<2>, u: Tensor<3>, dt: f64) -> Tensor<3> {
        let r = self.rows(z0.dims()[0], &z0.device());
        zoh_rollout(z0, u, |z, uk| self.step(&r, z, uk, dt))
    }
}

/// States [B, T, 2n] from z0 [B, 2n] where step k -> k+1 is `step(z_k, u_k)` with u [B, T, m]
/// (zero-order hold by integer index; the last control is not used).
pub fn zoh_rollout(
    z0: Tensor<2>,
    u: Tensor<3>,
    step: impl Fn(Tensor<2>, Tensor<2>) -> Tensor<2>,
) -> Tensor<3> {
    let [b, t, m] = u.dims();
    let mut z = z0;
    let mut out = vec![z.clone().unsqueeze_dim::<3>(1)];
    for k in 0..t.saturating_sub(1) {
        z = step(z, u.clone().narrow(1, k, 1).reshape([b, m]));
        out.push(z.clone().unsqueeze_dim::<3>(1));
    }
    Tensor::cat(out, 1)
}

/// The paper's second-order Euler substep for z = [q, v] and acceleration a:
/// q' = q + h v + h^2 a / 2 (i.e. dq = v/2 + (v + h a)/2), v' = v + h a. Exact for constant a.
pub fn second_order_substep(z: Tensor<2>, a: Tensor<2>, h: f64) -> Tensor<2> {
    let n = a.dims()[1];
    let (q, v) = (z.clone().narrow(1, 0, n), z.narrow(1, n, n));
    let q = q + v.clone().mul_scalar(h) + a.clone().mul_scalar(0.5 * h * h);
    Tensor::cat(vec![q, v + a.mul_scalar(h)], 1)
}
