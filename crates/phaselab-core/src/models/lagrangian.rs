//! The Lagrangian networks: they learn L(q, v) and roll out its Euler–Lagrange equations
//! d/dt ∂L/∂v = ∂L/∂q, which give the acceleration
//!   q̈ = (∇_v∇_vᵀL)⁻¹ [∇_qL − (∇_q∇_vᵀL) v],
//! so they are second-order by construction and conserve the learned energy E = v·∇_vL − L.
//!   delan: L = ½ vᵀM(q)v − V(q), M = L Lᵀ from the mass network (`mass_matrix.rs`; there the
//!          same factor gives the [q, p] models' M⁻¹), and q̈ = M⁻¹(∇_q T − Ṁv − ∇_qV);
//!   lnn:   L(q, v) one MLP on (phi(q), v) plus ε|v|² (as the CHNN repository's LNN, ε = 0.1,
//!          so that ∇_v∇_vᵀL starts invertible), its second derivatives from
//!          `Mlp::gradient_tangents`.
//! burn has first-order autodiff only: every derivative here is tensor ops, and training
//! differentiates through them.

use super::features::CosSin;
use super::hamiltonian::kinetic_grad_q;
use super::mass_matrix::MassNet;
use super::mlp::Mlp;
use super::spd_solve::symmetric_solve;
use burn::prelude::*;

/// ε of the LNN's ε|v|² (the CHNN repository's `LNN.L`, eps = 1e-1): ∇_v∇_vᵀL gains 2ε I.
pub const LNN_REGULARISER: f64 = 0.1;

/// DeLaN's q̈ [B, D] at (q, v): with M = L Lᵀ, T = ½|Lᵀv|²,
///   q̈ = M⁻¹(∇_q T − Ṁ v − ∇_q V),  Ṁ v = (∂M/∂q · v) v a forward tangent of L along v,
/// and M⁻¹ by two triangular solves with L.
pub fn delan_acceleration(
    potential: &Mlp,
    mass: &MassNet,
    emb: &CosSin,
    q: Tensor<2>,
    v: Tensor<2>,
) -> Tensor<2> {
    let low = mass.lower(emb, q.clone());
    let grad_t = kinetic_grad_q(mass, emb, q.clone(), &low, v.clone());
    let mdot_v = mass
        .minv_p_jvp_q(emb, q.clone(), &low, v.clone(), v.unsqueeze_dim::<3>(1))
        .squeeze_dim::<2>(1);
    let grad_v = emb.vjp(q.clone(), potential.input_gradient(emb.embed(q)));
    MassNet::m_v(&low, grad_t - mdot_v - grad_v)
}

/// DeLaN's kinetic and potential energies (T, V), each [B, 1]: T = ½|Lᵀv|² = ½ vᵀMv.
pub fn delan_energies(
    potential: &Mlp,
    mass: &MassNet,
    emb: &CosSin,
    q: Tensor<2>,
    v: Tensor<2>,
) -> (Tensor<2>, Tensor<2>) {
    let low = mass.lower(emb, q.clone());
    (
        MassNet::half_square(&low, v),
        potential.forward(emb.embed(q)),
    )
}

/// The LNN's q̈ [B, D] at (q, v): the solution of its Euler–Lagrange equations
/// (`lnn_euler_lagrange`). The solve is LDLᵀ: the learned ∇_v∇_vᵀL may have either sign
/// (L and −L have the same motion).
pub fn lnn_acceleration(net: &Mlp, emb: &CosSin, q: Tensor<2>, v: Tensor<2>) -> Tensor<2> {
    let [b, d] = v.dims();
    let (hvv, rhs) = lnn_euler_lagrange(net, emb, q, v);
    symmetric_solve(hvv, rhs.unsqueeze_dim::<3>(2)).reshape([b, d])
}

/// The LNN's Euler–Lagrange equations at (q, v) as (∇_v∇_vᵀL [B, D, D], with the 2εI of its
/// ε|v|², and the right side ∇_qL − (∇_q∇_vᵀL) v [B, D]), from D + 1 Hessian-vector products
/// of the network on x = (phi(q), v): along each e_j of v (the columns of ∇_v∇_vᵀL) and along
/// (dphi/dq v, 0), which gives (∇_q∇_vᵀL) v directly. Where ∇_v∇_vᵀL is singular, q̈ is not
/// defined: the step traces watch its eigenvalues.
pub fn lnn_euler_lagrange(
    net: &Mlp,
    emb: &CosSin,
    q: Tensor<2>,
    v: Tensor<2>,
) -> (Tensor<3>, Tensor<2>) {
    let [b, d] = v.dims();
    let f = emb.width();
    let device = v.device();
    let x = Tensor::cat(vec![emb.embed(q.clone()), v.clone()], 1);
    // Directions [B, D + 1, F + D]: e_j on v's inputs, then q̇ = v pushed through phi.
    let mut units = vec![0f32; d * (f + d)];
    for j in 0..d {
        units[j * (f + d) + f + j] = 1.0;
    }
    let units = Tensor::<3>::from_data(TensorData::new(units, [1, d, f + d]), &device).expand([
        b,
        d,
        f + d,
    ]);
    let along_q = Tensor::cat(
        vec![
            emb.jvp(q.clone(), v.clone().unsqueeze_dim::<3>(1)),
            Tensor::zeros([b, 1, d], &device),
        ],
        2,
    );
    let (g, gt) = net.gradient_tangents(x, Tensor::cat(vec![units, along_q], 1));
    let grad_q = emb.vjp(q, g.narrow(1, 0, f));
    let on_v = gt.narrow(2, f, d); // [B, D + 1, D]: ∂(∇_v L) along each direction
    let eye = Tensor::<2>::eye(d, &device).unsqueeze_dim::<3>(0);
    let hvv = on_v.clone().narrow(1, 0, d) + eye.mul_scalar(2.0 * LNN_REGULARISER);
    let mixed = on_v.narrow(1, d, 1).reshape([b, d]);
    (hvv, grad_q - mixed)
}

/// The LNN's Lagrangian L(q, v) + ε|v|² [B, 1].
pub fn lnn_lagrangian(net: &Mlp, emb: &CosSin, q: Tensor<2>, v: Tensor<2>) -> Tensor<2> {
    let x = Tensor::cat(vec![emb.embed(q), v.clone()], 1);
    net.forward(x) + (v.clone() * v).sum_dim(1).mul_scalar(LNN_REGULARISER)
}

/// The LNN's energy E = v·∇_vL − L [B, 1] (with the ε|v|² term: v·2εv − ε|v|²).
pub fn lnn_energy(net: &Mlp, emb: &CosSin, q: Tensor<2>, v: Tensor<2>) -> Tensor<2> {
    let f = emb.width();
    let d = v.dims()[1];
    let x = Tensor::cat(vec![emb.embed(q.clone()), v.clone()], 1);
    let grad_v = net.input_gradient(x).narrow(1, f, d);
    let vv = (v.clone() * v.clone())
        .sum_dim(1)
        .mul_scalar(2.0 * LNN_REGULARISER);
    (v.clone() * grad_v).sum_dim(1) + vv - lnn_lagrangian(net, emb, q, v)
}
