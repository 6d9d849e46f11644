//! Learned masses of body points, as CHNN and CLNN learn them (Finzi, Wang and Wilson 2020): one
//! positive number per term of the true kinetic energy (a point's mass m, or an extended body's
//! edge inertia I), so the learned mass matrix keeps the true one's sparsity,
//!   M = Σ_t e^{θ_t} E_t,   E_t = e_i e_iᵀ (a point) or (e_i − e_j)(e_i − e_j)ᵀ (an edge),
//! acting on each spatial axis alike (M ⊗ I_d). θ = (w + b) / 2 is a linear layer on a constant
//! input, so that it stacks into populations like every network; it starts within ±0.1 of zero
//! (masses near 1), as CHNN's 0.1 N(0, 1). With the input 1, w and b get the same gradient and
//! so the same Adam step, and θ moves by the learning rate per step, as CHNN's single parameter
//! does: the gyroscope's and rotor's inertias, 0.07 to 0.5 of their mass, are reachable within a
//! run. (Checkpoint format 3 and before had θ = (w + b) / 20, which moved 10x slower and left
//! those inertias near 1; such files are rescaled on loading, `RESCALED_BEFORE_FORMAT`.)

use super::mlp::Mlp;
use super::spd_solve::spd_solve;
use crate::physics::{MassTerm, NodeMass};
use crate::rng::Rng;
use burn::module::Param;
use burn::prelude::*;

/// θ = HALF · (w + b).
const HALF: f64 = 0.5;
/// The layer's ordinary initial weights times this: θ starts where θ = (w + b) / 20 started.
const INIT_SCALE: f64 = 0.1;
/// Checkpoints of a format before this one stored θ = (w + b) / 20: loading multiplies their
/// w and b by [`INIT_SCALE`], which keeps their masses.
pub const RESCALED_BEFORE_FORMAT: u32 = 4;

#[derive(Module, Debug)]
pub struct LearnedMasses {
    /// [1] -> [T]: 20 x the log masses (|w| <= 0.5, |b| <= 1 at the start).
    pub net: Mlp,
    /// E_t, flattened [T, n n].
    #[module(skip)]
    patterns: Vec<f32>,
    /// Body points n and spatial dimension d.
    #[module(skip)]
    points: usize,
    #[module(skip)]
    dim: usize,
}

impl LearnedMasses {
    /// Masses for the terms of `mass` on points in `dim` dimensions (None: zero weights, to load).
    pub fn new(mass: &NodeMass, dim: usize, rng: Option<&mut Rng>, device: &Device) -> Self {
        let n = mass.n_nodes;
        let mut patterns = Vec::with_capacity(mass.terms.len() * n * n);
        for t in &mass.terms {
            let mut e = vec![0f32; n * n];
            match *t {
                MassTerm::Point { i, .. } => e[i * n + i] = 1.0,
                MassTerm::Coupling { i, j, .. } => {
                    e[i * n + i] = 1.0;
                    e[j * n + j] = 1.0;
                    e[i * n + j] = -1.0;
                    e[j * n + i] = -1.0;
                }
            }
            patterns.extend(e);
        }
        // A tenth of the layer's initial weights, so that θ starts within ±0.1 of zero.
        LearnedMasses {
            net: Mlp::new(&[1, mass.terms.len()], false, rng, device),
            patterns,
            points: n,
            dim,
        }
        .scaled(INIT_SCALE)
    }

    /// These masses as a checkpoint of a format before [`RESCALED_BEFORE_FORMAT`] meant them,
    /// stored for θ = (w + b) / 20: w and b times [`INIT_SCALE`] give the same θ now.
    pub fn from_old_format(self) -> Self {
        self.scaled(INIT_SCALE)
    }

    /// w and b times `s`.
    fn scaled(mut self, s: f64) -> Self {
        for layer in &mut self.net.layers {
            layer.w = Param::from_tensor(layer.w.val().mul_scalar(s).detach());
            layer.b = Param::from_tensor(layer.b.val().mul_scalar(s).detach());
        }
        self
    }

    /// The same structure with the weights `net` (a population's stack, or one member).
    pub fn with_net(&self, net: Mlp) -> Self {
        LearnedMasses {
            net,
            patterns: self.patterns.clone(),
            points: self.points,
            dim: self.dim,
        }
    }

    /// Trainable scalars.
    pub fn n_params(&self) -> usize {
        self.net.n_params()
    }

    /// The learned terms e^θ [B, T] for a batch of B rows (each member's rows its own).
    pub fn values(&self, b: usize, device: &Device) -> Tensor<2> {
        self.net
            .forward(Tensor::ones([b, 1], device))
            .mul_scalar(HALF)
            .exp()
    }

    /// M [B, n, n] on points.
    pub fn matrix(&self, b: usize, device: &Device) -> Tensor<3> {
        let n = self.points;
        let t = self.patterns.len() / (n * n);
        let e = Tensor::<2>::from_data(TensorData::new(self.patterns.clone(), [t, n * n]), device);
        self.values(b, device).matmul(e).reshape([b, n, n])
    }

    /// (M ⊗ I_d) applied to the columns of `cols` [B, N, K] (N = n d, point-major).
    pub fn m_times(&self, cols: Tensor<3>) -> Tensor<3> {
        let [b, _, _] = cols.dims();
        let m = self.matrix(b, &cols.device());
        self.on_points(m, cols)
    }

    /// (M⁻¹ ⊗ I_d) applied to the columns of `cols` [B, N, K].
    pub fn minv_times(&self, cols: Tensor<3>) -> Tensor<3> {
        let [b, _, _] = cols.dims();
        let device = cols.device();
        let n = self.points;
        let eye = Tensor::<2>::eye(n, &device)
            .unsqueeze_dim::<3>(0)
            .expand([b, n, n]);
        let minv = spd_solve(self.matrix(b, &device), eye);
        self.on_points(minv, cols)
    }

    /// A [B, n, n] acting on the point index of `cols` [B, n d, K].
    fn on_points(&self, a: Tensor<3>, cols: Tensor<3>) -> Tensor<3> {
        let [b, nd, k] = cols.dims();
        let (n, d) = (self.points, self.dim);
        a.matmul(cols.reshape([b, n, d * k])).reshape([b, nd, k])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physics::system;

    #[test]
    fn the_learned_mass_matrix_has_the_true_sparsity_and_its_inverse_inverts_it() {
        let dev = Device::flex();
        for name in ["chain-pendulum:3", "gyroscope", "rotor"] {
            let g = system(name).unwrap().body_graph();
            let m = LearnedMasses::new(&g.mass, g.dim, Some(&mut Rng::new(1)), &dev);
            let n = g.coordinates();
            assert_eq!(m.n_params(), 2 * g.mass.terms.len(), "{name}");
            // Masses start near 1.
            let vals: Vec<f32> = m
                .values(1, &dev)
                .into_data()
                .convert::<f32>()
                .try_into_vec()
                .unwrap();
            assert!(
                vals.iter().all(|v| (0.9..1.11).contains(v)),
                "{name}: {vals:?}"
            );
            // Zero where the true M is zero; M M⁻¹ = I.
            let mm: Vec<f32> = m
                .matrix(1, &dev)
                .into_data()
                .convert::<f32>()
                .try_into_vec()
                .unwrap();
            let p = g.points();
            let mut truth = vec![0.0; p * p];
            for &(i, j, w) in &g.mass.entries {
                truth[i * p + j] += w;
            }
            for (a, t) in mm.iter().zip(&truth) {
                assert_eq!(*a == 0.0, *t == 0.0, "{name}: sparsity");
            }
            let eye = Tensor::<2>::eye(n, &dev).unsqueeze_dim::<3>(0);
            let back = m.m_times(m.minv_times(eye));
            let back: Vec<f32> = back.into_data().convert::<f32>().try_into_vec().unwrap();
            for i in 0..n {
                for j in 0..n {
                    let want = if i == j { 1.0 } else { 0.0 };
                    assert!(
                        (back[i * n + j] - want).abs() < 1e-4,
                        "{name}: M M⁻¹ [{i},{j}]"
                    );
                }
            }
        }
    }
}
