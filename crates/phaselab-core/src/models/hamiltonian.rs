//! The Hamiltonian family in one place: the learned H, its gradient, and the field J grad H.
//!   hnn, hnn-forced:  H(q, p) = p^T M^-1(q) p / 2 + V(q), M^-1 = L L^T (`mass_matrix.rs`),
//!                     dq/dt = dH/dp = M^-1(q) p,  dp/dt = -dH/dq = -(dK/dq + dV/dq)
//!                     (+ a free network F(q, p) for hnn-forced, added after the stabiliser);
//!   hnn-general:      H(q, p) an MLP of (phi(q), p), the same J grad H.
//! burn has first-order autodiff only, so grad H is written as tensor ops (`Mlp::input_gradient`,
//! `kinetic_grad_q`) and training differentiates through them.

use super::features::{halves, CosSin};
use super::mass_matrix::{masks, Lower, MassNet};
use super::mlp::Mlp;
use burn::prelude::*;
use burn::tensor::activation::sigmoid;

/// The state magnitude beyond which the stabiliser zeroes the field (the reference's 1e3).
pub const STABILISER_BOUND: f64 = 1e3;

/// f with f_i = 0 wherever |s_i| > 1e3, elementwise (the reference's `f[|z| > 1e3] = 0`).
pub fn stabilise(f: Tensor<2>, s: Tensor<2>) -> Tensor<2> {
    f.mask_fill(s.abs().greater_elem(STABILISER_BOUND), 0.0)
}

/// A learned Hamiltonian: the networks it is made of, borrowed from a model, and the embedding
/// phi(q) they read the coordinates through.
pub struct Hamiltonian<'a> {
    pub emb: &'a CosSin,
    pub form: Form<'a>,
}

/// The structure of a learned Hamiltonian.
pub enum Form<'a> {
    /// hnn, hnn-forced: H(q, p) = p^T M^-1(q) p / 2 + V(q), V = `potential`(phi(q)).
    Separable {
        potential: &'a Mlp,
        mass: &'a MassNet,
    },
    /// hnn-general: H(q, p) = MLP(phi(q), p).
    General(&'a Mlp),
}

impl Hamiltonian<'_> {
    /// H(q, p) [B, 1] at states s = [q, p] [B, 2D].
    pub fn value(&self, s: Tensor<2>) -> Tensor<2> {
        let (q, p) = halves(s);
        let emb = self.emb;
        match self.form {
            Form::Separable { potential, mass } => {
                let low = mass.lower(emb, q.clone());
                MassNet::half_square(&low, p) + potential.forward(emb.embed(q))
            }
            Form::General(net) => net.forward(Tensor::cat(vec![emb.embed(q), p], 1)),
        }
    }

    /// J grad H = [dH/dp, -dH/dq] [B, 2D] at states [q, p], given as their halves q and p
    /// [B, D] (so that a caller adding terms in q and p differentiates through the same halves).
    pub fn field(&self, q: Tensor<2>, p: Tensor<2>) -> Tensor<2> {
        let emb = self.emb;
        match self.form {
            Form::Separable { potential, mass } => {
                let low = mass.lower(emb, q.clone());
                let dq = MassNet::minv_p(&low, p.clone());
                let dk = kinetic_grad_q(mass, emb, q.clone(), &low, p);
                let dv = emb.vjp(q.clone(), potential.input_gradient(emb.embed(q)));
                Tensor::cat(vec![dq, (dk + dv).neg()], 1)
            }
            Form::General(net) => {
                let g = net.input_gradient(Tensor::cat(vec![emb.embed(q.clone()), p], 1));
                let w = emb.width();
                let d = q.dims()[1];
                let gq = emb.vjp(q, g.clone().narrow(1, 0, w));
                let gp = g.narrow(1, w, d);
                Tensor::cat(vec![gp, gq.neg()], 1)
            }
        }
    }
}

/// grad_q of the kinetic term K = p^T M^-1(q) p / 2 = |L^T p|^2 / 2, [B, D].
pub fn kinetic_grad_q(
    mass: &MassNet,
    emb: &CosSin,
    q: Tensor<2>,
    low: &Lower,
    p: Tensor<2>,
) -> Tensor<2> {
    let d = mass.dof;
    let [b, _] = p.dims();
    let u = low
        .l
        .clone()
        .swap_dims(1, 2)
        .matmul(p.clone().unsqueeze_dim::<3>(2))
        .squeeze_dim::<2>(2);
    // dK/dL_ik = p_i u_k on the lower triangle.
    let g_l = p.unsqueeze_dim::<3>(2) * u.unsqueeze_dim::<3>(1);
    let (strict, diag) = masks(d, &g_l.device());
    let g_rt = g_l.clone() * strict + g_l * diag * sigmoid(low.rt.clone());
    let g_r = g_rt.swap_dims(1, 2).reshape([b, d * d]);
    emb.vjp(q, mass.net.vjp_input(low.feat.clone(), g_r))
}
