//! The tanh layer's element-wise work as fused burn operations on the CPU backend (flex):
//!   a = tanh(h + b)          backward: dh = G (1 - a^2), db = sum_rows dh;
//!   y = g (1 - a^2)          backward: dg = G (1 - a^2), da = -2 G g a.
//! One pass each way instead of burn's four to six (tanh, bias add, square, negate, add, multiply),
//! with vectorised loops (`tanh_kernels`). Other devices (wgpu, WebGPU) run the same formulas as
//! ordinary tensor ops, so results agree to rounding on every backend.

use super::tanh_kernels as k;
use burn::backend::autodiff::checkpoint::{base::Checkpointer, strategy::CheckpointStrategy};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::{FlexTensor, Layout};
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{
    backend_extension, Autodiff, Backend, Dispatch, DispatchDevice, Flex, TensorMetadata,
};
use burn::prelude::*;
use burn::tensor::activation::sigmoid;
use burn::tensor::DType;
use std::borrow::Cow;

/// Fused tanh-layer operations (implemented for flex and for autodiff over it).
#[backend_extension(Flex, Autodiff)]
pub trait TanhLayerOps: Backend {
    /// tanh(h + b), h [rows, n], b [G n]: G groups of consecutive rows, group g adding the
    /// g-th n entries of b (G = 1 for one network; G members of a population).
    fn bias_tanh(h: FloatTensor<Self>, b: FloatTensor<Self>) -> FloatTensor<Self>;
    /// g (1 - a^2), same shapes.
    fn dtanh_mul(g: FloatTensor<Self>, a: FloatTensor<Self>) -> FloatTensor<Self>;
    /// -2 grad g a, same shapes (the a-gradient of `dtanh_mul`).
    fn dtanh_mul_da(
        grad: FloatTensor<Self>,
        g: FloatTensor<Self>,
        a: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let ga = Self::float_mul(g, a);
        Self::float_mul(grad, Self::float_mul_scalar(ga, (-2.0f32).into()))
    }
}

/// Applies `f` to the f32 values of `out` in place when this call owns them outright, else to a
/// fresh contiguous copy; the shape is kept.
fn map_into(out: FlexTensor, f: impl FnOnce(&mut [f32])) -> FlexTensor {
    let shape = out.shape();
    let n = shape.num_elements();
    let owned = out.is_unique()
        && out.is_contiguous()
        && out.layout().start_offset() == 0
        && out.bytes().len() == n * 4;
    let mut w = if owned {
        out
    } else {
        let data: Vec<f32> = out
            .into_data()
            .try_into_vec::<f32>()
            .expect("an f32 tensor");
        FlexTensor::from_data(TensorData::new(data, shape.clone()))
    };
    f(w.storage_mut::<f32>());
    w.with_layout(Layout::contiguous(shape))
}

/// Contiguous f32 view of a flex tensor (copying only when it is strided).
fn values(t: &FlexTensor) -> Cow<'_, [f32]> {
    match t.as_slice::<f32>() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(t.to_contiguous().as_slice::<f32>().unwrap().to_vec()),
    }
}

fn all_f32(ts: &[&FlexTensor]) -> bool {
    ts.iter().all(|t| t.dtype() == DType::F32)
}

impl TanhLayerOps for Flex {
    fn bias_tanh(h: FlexTensor, b: FlexTensor) -> FlexTensor {
        if !all_f32(&[&h, &b]) {
            let dims = h.shape().dims::<2>();
            let groups = b.shape().num_elements() / dims[1];
            let b = Flex::float_reshape(b, [groups, 1, dims[1]].into());
            let h = Flex::float_reshape(h, [groups, dims[0] / groups, dims[1]].into());
            let a = Flex::float_tanh(Flex::float_add(h, b));
            return Flex::float_reshape(a, dims.into());
        }
        let bias = values(&b);
        let n = h.shape().dims::<2>()[1];
        let groups = bias.len() / n;
        map_into(h, |out| {
            let rows = out.len() / groups;
            for (g, chunk) in out.chunks_mut(rows).enumerate() {
                k::bias_tanh(chunk, &bias[g * n..(g + 1) * n]);
            }
        })
    }

    fn dtanh_mul(g: FlexTensor, a: FlexTensor) -> FlexTensor {
        if !all_f32(&[&g, &a]) {
            let one_minus = Flex::float_add_scalar(
                Flex::float_neg(Flex::float_mul(a.clone(), a)),
                1.0f32.into(),
            );
            return Flex::float_mul(g, one_minus);
        }
        let av = values(&a);
        map_into(g, |out| k::dtanh_mul(out, &av))
    }

    fn dtanh_mul_da(grad: FlexTensor, g: FlexTensor, a: FlexTensor) -> FlexTensor {
        if !all_f32(&[&grad, &g, &a]) {
            let ga = Flex::float_mul(g, a);
            return Flex::float_mul(grad, Flex::float_mul_scalar(ga, (-2.0f32).into()));
        }
        let (gv, av) = (values(&g), values(&a));
        map_into(grad, |out| k::dtanh_mul_da(out, &gv, &av))
    }
}

#[derive(Debug)]
struct BiasTanhBackward;

impl<B: TanhLayerOps> Backward<B, 2> for BiasTanhBackward {
    /// a = tanh(h + b) and the length of b.
    type State = (FloatTensor<B>, usize);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_h, node_b] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (a, n) = ops.state;
        let dh = B::dtanh_mul(grad, a);
        if let Some(node) = node_b {
            // db_g = sum of dh over group g's rows.
            let [rows, w] = dh.shape().dims::<2>();
            let db = match n / w {
                1 => B::float_sum_dim(dh.clone(), 0),
                g => B::float_sum_dim(B::float_reshape(dh.clone(), [g, rows / g, w].into()), 1),
            };
            grads.register::<B>(node.id, B::float_reshape(db, [n].into()));
        }
        if let Some(node) = node_h {
            grads.register::<B>(node.id, dh);
        }
    }
}

#[derive(Debug)]
struct DtanhMulBackward;

impl<B: TanhLayerOps> Backward<B, 2> for DtanhMulBackward {
    /// g and a.
    type State = (FloatTensor<B>, FloatTensor<B>);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_g, node_a] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (g, a) = ops.state;
        if let Some(node) = node_a {
            let da = B::dtanh_mul_da(grad.clone(), g, a.clone());
            grads.register::<B>(node.id, da);
        }
        if let Some(node) = node_g {
            grads.register::<B>(node.id, B::dtanh_mul(grad, a));
        }
    }
}

impl<B: TanhLayerOps, C: CheckpointStrategy> TanhLayerOps for Autodiff<B, C> {
    fn bias_tanh(h: FloatTensor<Self>, b: FloatTensor<Self>) -> FloatTensor<Self> {
        let n = b.primitive().shape().num_elements();
        let (h, node_h) = h.into_parts();
        let (b, node_b) = b.into_parts();
        match BiasTanhBackward
            .prepare::<C>([node_h, node_b])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let a = B::bias_tanh(h, b);
                prep.finish((a.clone(), n), a)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::bias_tanh(h, b)),
        }
    }

    fn dtanh_mul(g: FloatTensor<Self>, a: FloatTensor<Self>) -> FloatTensor<Self> {
        let (g, node_g) = g.into_parts();
        let (a, node_a) = a.into_parts();
        match DtanhMulBackward
            .prepare::<C>([node_g, node_a])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let out = B::dtanh_mul(g.clone(), a.clone());
                prep.finish((g, a), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::dtanh_mul(g, a)),
        }
    }
}

/// Whether `device` is the CPU backend (flex), with or without autodiff.
pub fn on_flex(device: &Device) -> bool {
    match device.as_dispatch() {
        DispatchDevice::Flex(_) => true,
        DispatchDevice::Autodiff(inner) => matches!(&**inner, DispatchDevice::Flex(_)),
        #[allow(unreachable_patterns)]
        _ => false,
    }
}

/// PHASELAB_PLAIN_OPS set: burn's own element-wise ops and per-operation threading only, no fused
/// kernels and no split batches (to measure what they buy with `phaselab bench train-step`).
pub fn plain_ops() -> bool {
    static PLAIN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *PLAIN.get_or_init(|| std::env::var_os("PHASELAB_PLAIN_OPS").is_some())
}

/// True where the fused flex kernels apply.
fn fused(device: &Device) -> bool {
    !plain_ops() && on_flex(device)
}

/// tanh(x) = 2 sigmoid(2x) - 1 as tensor ops (the form used off flex: one exp per element and
/// finite gradients for any x).
pub fn tanh_ops(x: Tensor<2>) -> Tensor<2> {
    sigmoid(x.mul_scalar(2.0)).mul_scalar(2.0).sub_scalar(1.0)
}

/// tanh(h + b) for h [rows, n] and b [G n]: consecutive blocks of rows/G rows each add their own
/// n biases (G = 1: one network; G > 1: the members of a population).
pub fn bias_tanh(h: Tensor<2>, b: Tensor<1>) -> Tensor<2> {
    if fused(&h.device()) {
        return Tensor::from_dispatch(<Dispatch as TanhLayerOps>::bias_tanh(
            h.into_dispatch(),
            b.into_dispatch(),
        ));
    }
    tanh_ops(add_group_bias(h, b))
}

/// h + b for h [rows, n] and b [G n], group by group as in [`bias_tanh`].
pub fn add_group_bias(h: Tensor<2>, b: Tensor<1>) -> Tensor<2> {
    let [rows, n] = h.dims();
    match b.dims()[0] / n {
        1 => h + b.unsqueeze::<2>(),
        g => (h.reshape([g, rows / g, n]) + b.reshape([g, 1, n])).reshape([rows, n]),
    }
}

/// g (1 - a^2) for g and a of the same shape [rows, n] (the tanh layer's derivative product).
pub fn dtanh_mul(g: Tensor<2>, a: Tensor<2>) -> Tensor<2> {
    if g.dims() == a.dims() && fused(&g.device()) {
        return Tensor::from_dispatch(<Dispatch as TanhLayerOps>::dtanh_mul(
            g.into_dispatch(),
            a.into_dispatch(),
        ));
    }
    g * (a.clone() * a).neg().add_scalar(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn random(shape: [usize; 2], seed: u64, scale: f64, dev: &Device) -> Tensor<2> {
        let mut r = Rng::new(seed);
        let v: Vec<f32> = (0..shape[0] * shape[1])
            .map(|_| (scale * r.normal()) as f32)
            .collect();
        Tensor::from_data(TensorData::new(v, shape), dev)
    }

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    fn assert_close(a: Vec<f32>, b: Vec<f32>, tol: f32, what: &str) {
        assert_eq!(a.len(), b.len(), "{what}: lengths");
        let worst = a
            .iter()
            .zip(&b)
            .fold(0f32, |m, (x, y)| m.max((x - y).abs()));
        assert!(worst <= tol, "{what}: max difference {worst}");
    }

    /// Value and gradients of sum(w * f(leaves)) at fresh leaves.
    fn value_and_grads(
        f: &dyn Fn(&[Tensor<2>]) -> Tensor<2>,
        inputs: &[Tensor<2>],
        w: &Tensor<2>,
    ) -> (Vec<f32>, Vec<Vec<f32>>) {
        let leaves: Vec<Tensor<2>> = inputs
            .iter()
            .map(|x| Tensor::from_data(x.to_data(), &x.device()).require_grad())
            .collect();
        let y = f(&leaves);
        let g = (y.clone() * w.clone()).sum().backward();
        let grads = leaves.iter().map(|x| values(x.grad(&g).unwrap())).collect();
        (values(y), grads)
    }

    #[test]
    fn fused_ops_equal_burn_ops_in_value_and_gradient() {
        let dev = Device::flex().autodiff();
        assert!(on_flex(&dev) && on_flex(&Device::flex()));
        // Saturated and small arguments both; a strided (transposed) h as well as a plain one.
        let h = random([37, 19], 1, 3.0, &dev);
        let h_strided = random([19, 37], 2, 3.0, &dev).transpose();
        let b = random([1, 19], 3, 1.0, &dev);
        let w = random([37, 19], 4, 1.0, &dev);
        for (name, h) in [("contiguous", h), ("strided", h_strided)] {
            let fused = |x: &[Tensor<2>]| bias_tanh(x[0].clone(), x[1].clone().squeeze_dim(0));
            let plain = |x: &[Tensor<2>]| (x[0].clone() + x[1].clone()).tanh();
            let (y1, g1) = value_and_grads(&fused, &[h.clone(), b.clone()], &w);
            let (y2, g2) = value_and_grads(&plain, &[h.clone(), b.clone()], &w);
            assert_close(y1, y2, 1e-6, &format!("bias_tanh value ({name})"));
            assert_close(g1[0].clone(), g2[0].clone(), 1e-5, "d/dh");
            assert_close(g1[1].clone(), g2[1].clone(), 1e-4, "d/db");
        }
        let g = random([37, 19], 5, 2.0, &dev);
        let a = random([37, 19], 6, 1.0, &dev).tanh();
        let fused = |x: &[Tensor<2>]| dtanh_mul(x[0].clone(), x[1].clone());
        let plain = |x: &[Tensor<2>]| {
            let a = x[1].clone();
            x[0].clone() * (a.clone() * a).neg().add_scalar(1.0)
        };
        let (y1, g1) = value_and_grads(&fused, &[g.clone(), a.clone()], &w);
        let (y2, g2) = value_and_grads(&plain, &[g, a], &w);
        assert_close(y1, y2, 1e-6, "dtanh_mul value");
        assert_close(g1[0].clone(), g2[0].clone(), 1e-6, "d/dg");
        assert_close(g1[1].clone(), g2[1].clone(), 1e-5, "d/da");
    }

    #[test]
    fn grouped_bias_tanh_equals_burn_ops_per_group() {
        // Three members' biases on consecutive blocks of 12 rows (a population's layer).
        let dev = Device::flex().autodiff();
        let h = random([36, 19], 7, 3.0, &dev);
        let b = random([3, 19], 8, 1.0, &dev);
        let w = random([36, 19], 9, 1.0, &dev);
        let fused = |x: &[Tensor<2>]| bias_tanh(x[0].clone(), x[1].clone().reshape([57]));
        let plain = |x: &[Tensor<2>]| {
            let h = x[0].clone().reshape([3, 12, 19]);
            (h + x[1].clone().unsqueeze_dim::<3>(1))
                .tanh()
                .reshape([36, 19])
        };
        let (y1, g1) = value_and_grads(&fused, &[h.clone(), b.clone()], &w);
        let (y2, g2) = value_and_grads(&plain, &[h, b], &w);
        assert_close(y1, y2, 1e-6, "grouped bias_tanh value");
        assert_close(g1[0].clone(), g2[0].clone(), 1e-5, "d/dh");
        assert_close(g1[1].clone(), g2[1].clone(), 1e-4, "d/db per group");
    }

    #[test]
    fn fused_ops_leave_shared_inputs_alone_and_keep_nan() {
        let dev = Device::flex();
        let h = random([8, 5], 7, 1.0, &dev);
        let before = values(h.clone());
        let b = Tensor::<1>::zeros([5], &dev);
        let y = bias_tanh(h.clone(), b);
        assert_eq!(values(h.clone()), before, "h was overwritten");
        let expect: Vec<f32> = before.iter().map(|x| x.tanh()).collect();
        assert_close(values(y.clone()), expect, 1e-6, "tanh");
        let d = dtanh_mul(h.clone(), y);
        assert_eq!(values(h), before, "g was overwritten");
        assert_eq!(d.dims(), [8, 5]);
        let nan = Tensor::<2>::from_data(TensorData::new(vec![f32::NAN, 1.0], [1, 2]), &dev);
        let y = values(bias_tanh(nan, Tensor::zeros([2], &dev)));
        assert!(y[0].is_nan() && (y[1] - 1f32.tanh()).abs() < 1e-6);
    }
}
