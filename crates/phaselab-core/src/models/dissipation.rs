//! Dissipation with structure, added to the HNN's J∇H (its H = pᵀM⁻¹(q)p/2 + V(q)):
//!   port-hnn: dz/dt = (J − R(q)) ∇H, R = diag(0, D(q)), D = L_D L_Dᵀ positive semi-definite
//!             from a Cholesky-factor network on phi(q) (Dissipative SymODEN, Zhong, Dey and
//!             Chakraborty 2020): dH/dt = −(∂H/∂p)ᵀ D (∂H/∂p) ≤ 0, the energy can only fall;
//!   d-hnn:    dz/dt = J∇H + ∇D(q, p), D a second scalar MLP on (phi(q), p) (Sosanya and
//!             Greydanus 2022): a divergence-free plus a curl-free field (Helmholtz).

use super::features::CosSin;
use super::mass_matrix::{lower_from, MassNet};
use super::mlp::Mlp;
use burn::prelude::*;

/// The port-Hamiltonian damping force −D(q) dq/dt [B, D], with dq/dt = ∂H/∂p and D from
/// `net`'s D² outputs (the diagonal of L_D is softplus, no floor: D may vanish).
pub fn port_damping(net: &Mlp, emb: &CosSin, q: Tensor<2>, dq: Tensor<2>) -> Tensor<2> {
    let d = dq.dims()[1];
    let low = lower_from(net, d, emb, q, 0.0);
    MassNet::minv_p(&low, dq).neg()
}

/// ∇D = [∂D/∂q, ∂D/∂p] [B, 2D] of the dissipation network D(phi(q), p).
pub fn dissipation_gradient(net: &Mlp, emb: &CosSin, q: Tensor<2>, p: Tensor<2>) -> Tensor<2> {
    let (f, d) = (emb.width(), p.dims()[1]);
    let g = net.input_gradient(Tensor::cat(vec![emb.embed(q.clone()), p], 1));
    let gq = emb.vjp(q, g.clone().narrow(1, 0, f));
    Tensor::cat(vec![gq, g.narrow(1, f, d)], 1)
}
