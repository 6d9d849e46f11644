//! The Hamiltonian family in one place: the learned H, its gradient, and the field J grad H.
//!   hnn, hnn-forced:  H(q, p) = p^T M^-1(q) p / 2 + V(q), M^-1 = L L^T (`mass_matrix.rs`),
//!                     dq/dt = dH/dp = M^-1(q) p,  dp/dt = -dH/dq = -(dK/dq + dV/dq)
//!                     (+ a free network F(q, p) for hnn-forced, added after the stabiliser);
//!   hnn-general:      H(q, p) an MLP of (phi(q), p), the same J grad H.
//! burn has first-order autodiff only, so grad H is written as tensor ops (`Mlp::input_gradient`,
//! `kinetic_grad_q`) and training differentiates through them.

use super::dynamics::{halves, DynamicsModel};
use super::features::CosSin;
use super::kind::ModelKind;
use super::mass_matrix::{masks, Lower, MassNet};
use burn::prelude::*;
use burn::tensor::activation::sigmoid;

/// The state magnitude beyond which the stabiliser zeroes the field (the reference's 1e3).
pub const STABILISER_BOUND: f64 = 1e3;

/// f with f_i = 0 wherever |s_i| > 1e3, elementwise (the reference's `f[|z| > 1e3] = 0`).
pub fn stabilise(f: Tensor<2>, s: Tensor<2>) -> Tensor<2> {
    f.mask_fill(s.abs().greater_elem(STABILISER_BOUND), 0.0)
}

/// J grad H at states s = [q, p] [B, 2D], with the stabiliser where the model has it.
pub fn field(m: &DynamicsModel, s: Tensor<2>) -> Tensor<2> {
    let stable = |f: Tensor<2>| match m.config.stabiliser {
        true => stabilise(f, s.clone()),
        false => f,
    };
    let (q, p) = halves(s.clone());
    match m.kind() {
        ModelKind::Hnn | ModelKind::HnnForced => {
            let low = m.lower(q.clone());
            let dq = MassNet::minv_p(&low, p.clone());
            let dk = kinetic_grad_q(m.mass(), &m.emb, q.clone(), &low, p.clone());
            let dv = m
                .emb
                .vjp(q.clone(), m.main.input_gradient(m.emb.embed(q.clone())));
            let f = stable(Tensor::cat(vec![dq, (dk + dv).neg()], 1));
            match &m.extra {
                Some(nn) => f + nn.forward(m.input(q, p)),
                None => f,
            }
        }
        ModelKind::HnnGeneral => {
            let g = m.main.input_gradient(m.input(q.clone(), p));
            let w = m.emb.width();
            let gq = m.emb.vjp(q, g.clone().narrow(1, 0, w));
            let gp = g.narrow(1, w, m.config.dof);
            stable(Tensor::cat(vec![gp, gq.neg()], 1))
        }
        k => panic!("{k} has no Hamiltonian"),
    }
}

/// The learned H(q, p) [B, 1] of an HNN (None for the other models).
pub fn hamiltonian(m: &DynamicsModel, s: Tensor<2>) -> Option<Tensor<2>> {
    let (q, p) = halves(s);
    match m.kind() {
        ModelKind::Hnn | ModelKind::HnnForced => {
            let low = m.lower(q.clone());
            let u = low
                .l
                .swap_dims(1, 2)
                .matmul(p.unsqueeze_dim::<3>(2))
                .squeeze_dim::<2>(2);
            let kinetic = (u.clone() * u).sum_dim(1).mul_scalar(0.5);
            Some(kinetic + m.main.forward(m.emb.embed(q)))
        }
        ModelKind::HnnGeneral => Some(m.main.forward(m.input(q, p))),
        _ => None,
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
