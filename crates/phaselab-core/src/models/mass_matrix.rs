//! Learned inverse mass matrix M^-1(q) = L(q) L(q)^T, L lower-triangular with diagonal
//! softplus(.) + eps, from an MLP on phi(q) (the reference's `tril_Minv`; here the eps sits on L's
//! diagonal so that M = L^-T L^-1 inverts M^-1 exactly and p <-> v round trips).

use super::features::CosSin;
use super::mlp::Mlp;
use burn::prelude::*;
use burn::tensor::activation::{sigmoid, softplus};

/// Floor on L's diagonal, keeping M^-1 positive definite.
pub const EPS: f64 = 1e-2;

#[derive(Module, Debug)]
pub struct MassNet {
    pub net: Mlp,
    pub dof: usize,
}

/// L and what its derivatives need.
pub struct Lower {
    /// L [B, D, D].
    pub l: Tensor<3>,
    /// R^T [B, D, D] (pre-activation entries in L's layout).
    pub(crate) rt: Tensor<3>,
    /// phi(q) [B, F].
    pub(crate) feat: Tensor<2>,
}

pub(crate) fn masks(d: usize, device: &Device) -> (Tensor<3>, Tensor<3>) {
    let mut strict = vec![0f32; d * d];
    let mut diag = vec![0f32; d * d];
    for i in 0..d {
        diag[i * d + i] = 1.0;
        for j in 0..i {
            strict[i * d + j] = 1.0;
        }
    }
    (
        Tensor::from_data(TensorData::new(strict, [1, d, d]), device),
        Tensor::from_data(TensorData::new(diag, [1, d, d]), device),
    )
}

/// L(q) [B, D, D] from `net`'s D² outputs on phi(q): strictly lower entries as they are, the
/// diagonal softplus(.) + `eps` (a positive-definite L Lᵀ for eps > 0, semi-definite for 0).
pub fn lower_from(net: &Mlp, d: usize, emb: &CosSin, q: Tensor<2>, eps: f64) -> Lower {
    let feat = emb.embed(q);
    let [b, _] = feat.dims();
    let rt = net.forward(feat.clone()).reshape([b, d, d]).swap_dims(1, 2);
    let (strict, diag) = masks(d, &rt.device());
    let l = rt.clone() * strict + diag * softplus(rt.clone(), 1.0).add_scalar(eps);
    Lower { l, rt, feat }
}

impl MassNet {
    /// L(q) for q [B, D].
    pub fn lower(&self, emb: &CosSin, q: Tensor<2>) -> Lower {
        lower_from(&self.net, self.dof, emb, q, EPS)
    }

    /// ½ |Lᵀ x|² [B, 1] for x [B, D]: the kinetic energy pᵀM⁻¹p/2 of the [q, p] models (x = p),
    /// ½ vᵀMv of DeLaN's (x = v).
    pub fn half_square(low: &Lower, x: Tensor<2>) -> Tensor<2> {
        let u = low
            .l
            .clone()
            .swap_dims(1, 2)
            .matmul(x.unsqueeze_dim::<3>(2))
            .squeeze_dim::<2>(2);
        (u.clone() * u).sum_dim(1).mul_scalar(0.5)
    }

    /// M^-1(q) p = L (L^T p) for p [B, D].
    pub fn minv_p(low: &Lower, p: Tensor<2>) -> Tensor<2> {
        let u = low
            .l
            .clone()
            .swap_dims(1, 2)
            .matmul(p.unsqueeze_dim::<3>(2));
        low.l.clone().matmul(u).squeeze_dim::<2>(2)
    }

    /// M(q) v = L^-T (L^-1 v) by two triangular solves (D steps each), for v [B, D].
    pub fn m_v(low: &Lower, v: Tensor<2>) -> Tensor<2> {
        let d = low.l.dims()[1];
        let entry = |i: usize, j: usize| {
            low.l
                .clone()
                .narrow(1, i, 1)
                .narrow(2, j, 1)
                .squeeze_dim::<2>(2)
        };
        let mut y: Vec<Tensor<2>> = Vec::with_capacity(d);
        for i in 0..d {
            let mut s = v.clone().narrow(1, i, 1);
            for (j, yj) in y.iter().enumerate() {
                s = s - entry(i, j) * yj.clone();
            }
            y.push(s / entry(i, i));
        }
        let mut x: Vec<Option<Tensor<2>>> = vec![None; d];
        for i in (0..d).rev() {
            let mut s = y[i].clone();
            for (j, xj) in x.iter().enumerate().skip(i + 1) {
                s = s - entry(j, i) * xj.clone().expect("solved");
            }
            x[i] = Some(s / entry(i, i));
        }
        Tensor::cat(x.into_iter().map(|t| t.expect("solved")).collect(), 1)
    }

    /// Tangents of M^-1(q) p along K directions of q, tq [B, K, D] -> [B, K, D].
    pub fn minv_p_jvp_q(
        &self,
        emb: &CosSin,
        q: Tensor<2>,
        low: &Lower,
        p: Tensor<2>,
        tq: Tensor<3>,
    ) -> Tensor<3> {
        let d = self.dof;
        let [b, k, _] = tq.dims();
        let tf = emb.jvp(q, tq);
        let (_, tr) = self.net.jvp(low.feat.clone(), tf);
        let trt = tr.reshape([b, k, d, d]).swap_dims(2, 3);
        let (strict, diag) = masks(d, &trt.device());
        let sig = sigmoid(low.rt.clone()).unsqueeze_dim::<4>(1);
        let tl = trt.clone() * strict.unsqueeze::<4>() + trt * diag.unsqueeze::<4>() * sig;
        let l4 = low.l.clone().unsqueeze_dim::<4>(1);
        let p4 = p.unsqueeze_dim::<3>(2).unsqueeze_dim::<4>(1);
        let ltp = l4.clone().swap_dims(2, 3).matmul(p4.clone());
        let a = tl.clone().matmul(ltp);
        let c = l4.matmul(tl.swap_dims(2, 3).matmul(p4));
        (a + c).squeeze_dim::<3>(3)
    }
}
