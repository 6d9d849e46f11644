//! Symplecticity of a learned field F on [q, p]: a field is Hamiltonian (locally) iff J DF is
//! symmetric. The penalty of SpNN is mean((J DF - (J DF)^T)^2) over states, with the exact
//! Jacobian DF built from forward tangents (no autodiff of autodiff).

use super::dynamics::DynamicsModel;
use super::features::halves;
use super::kind::ModelKind;
use burn::prelude::*;

fn identity_batch(n: usize, d: usize, device: &Device) -> Tensor<3> {
    Tensor::<2>::eye(d, device)
        .unsqueeze::<3>()
        .repeat_dim(0, n)
}

/// Tangent-layout Jacobian T[n, k, i] = dF_i/dz_k of a NODE+SO field at states s [N, 2D] ([q, p]).
pub fn node_so_jacobian(model: &DynamicsModel, s: Tensor<2>) -> Tensor<3> {
    assert!(
        matches!(model.kind(), ModelKind::NodeSo | ModelKind::NodeSoSymreg),
        "NODE+SO fields only"
    );
    let d = model.config.dof;
    let w = model.emb.width();
    let [n, _] = s.dims();
    let device = s.device();
    let (q, p) = halves(s);
    let eye = identity_batch(n, d, &device);
    let zeros_f = Tensor::<3>::zeros([n, d, w], &device);
    let zeros_d = Tensor::<3>::zeros([n, d, d], &device);
    // Directions: the D coordinates q_k, then the D momenta p_k.
    let t_q = Tensor::cat(
        vec![model.emb.jvp(q.clone(), eye.clone()), zeros_d.clone()],
        2,
    );
    let t_p = Tensor::cat(vec![zeros_f, eye.clone()], 2);
    let x = Tensor::cat(vec![model.emb.embed(q.clone()), p.clone()], 1);
    let (_, dpdot) = model.main.jvp(x, Tensor::cat(vec![t_q, t_p], 1)); // [N, 2D, D]
    let mass = model.mass.as_ref().expect("mass network");
    let low = mass.lower(&model.emb, q.clone());
    let dqdot_q = mass.minv_p_jvp_q(&model.emb, q, &low, p, eye); // [N, D, D]
    let minv = low.l.clone().matmul(low.l.swap_dims(1, 2)); // symmetric: rows = columns
    let dqdot = Tensor::cat(vec![dqdot_q, minv], 1); // [N, 2D, D]
    Tensor::cat(vec![dqdot, dpdot], 2)
}

/// mean((J DF - (J DF)^T)^2) from a tangent-layout Jacobian [N, 2D, 2D].
pub fn symplectic_penalty(t: Tensor<3>) -> Tensor<1> {
    symplectic_penalty_terms(t).mean()
}

/// The squared entries (J DF - (J DF)^T)^2 [N, 2D, 2D] whose mean is the penalty (a population's
/// members take the mean over their own states).
pub fn symplectic_penalty_terms(t: Tensor<3>) -> Tensor<3> {
    let d = t.dims()[2] / 2;
    // (J DF)_{i k} = DF_{i+D, k} (i < D), -DF_{i-D, k}: in tangent layout, columns swap with a sign.
    let jt = Tensor::cat(vec![t.clone().narrow(2, d, d), t.narrow(2, 0, d).neg()], 2);
    let asym = jt.clone() - jt.swap_dims(1, 2);
    asym.clone() * asym
}
