//! A population's layer products on the CPU backend (flex): K members, each multiplying its own
//! consecutive block of rows by its own weight block, as K plain 2-D matrix products on the
//! calling thread:
//!   y_k = x_k W_k            backward: dx_k = G_k W_k^T,  dW_k = x_k^T G_k;
//!   y_k = g_k W_k^T          backward: dg_k = G_k W_k,    dW_k = G_k^T g_k.
//! flex's batched product spreads the members over the thread pool, which inside the step's
//! two-half split (`train::batch_split`) moves each member's product to whichever thread is free and
//! costs more than it saves; here each half keeps its members on its own thread and cache.
//! A single network (K = 1) uses them too for x W and for tangents (one tall product instead of
//! burn's one per sample); off flex, models use burn's `matmul`.

use burn::backend::autodiff::checkpoint::{base::Checkpointer, strategy::CheckpointStrategy};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Autodiff, Backend, Dispatch, Flex, TensorMetadata};
use burn::prelude::*;
use burn::tensor::DType;
use std::borrow::Cow;

/// Grouped products: x [R, i] holds K members' R/K rows each, w [K i, o] their weight blocks.
#[backend_extension(Flex, Autodiff)]
pub trait GroupMatmulOps: Backend {
    /// y_k = x_k W_k: x [R, i], w [K i, o] -> [R, o].
    fn group_matmul(x: FloatTensor<Self>, w: FloatTensor<Self>, k: usize) -> FloatTensor<Self>;
    /// y_k = g_k W_k^T: g [R, o], w [K i, o] -> [R, i].
    fn group_matmul_t(g: FloatTensor<Self>, w: FloatTensor<Self>, k: usize) -> FloatTensor<Self>;
    /// Block k = a_k^T g_k: a [R, i], g [R, o] -> [K i, o] (the weight gradient).
    fn group_outer(a: FloatTensor<Self>, g: FloatTensor<Self>, k: usize) -> FloatTensor<Self> {
        let ([rows, i], o) = (a.shape().dims::<2>(), g.shape().dims::<2>()[1]);
        let a = Self::float_reshape(a, [k, rows / k, i].into());
        let g = Self::float_reshape(g, [k, rows / k, o].into());
        let blocks = Self::float_matmul(Self::float_swap_dims(a, 1, 2), g);
        Self::float_reshape(blocks, [k * i, o].into())
    }
}

/// Contiguous f32 values (copying only a strided tensor).
fn values(t: &FlexTensor) -> Cow<'_, [f32]> {
    match t.as_slice::<f32>() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(t.to_contiguous().as_slice::<f32>().unwrap().to_vec()),
    }
}

/// A strided matrix operand: element (r, c) at `data[r rs + c cs]`.
struct Operand<'a> {
    data: &'a [f32],
    rs: isize,
    cs: isize,
}

impl<'a> Operand<'a> {
    /// A row-major matrix of `cols` columns starting at `data[0]`.
    fn rows(data: &'a [f32], cols: usize) -> Self {
        Operand {
            data,
            rs: cols as isize,
            cs: 1,
        }
    }

    /// The transpose of a row-major matrix of `cols` columns starting at `data[0]`.
    fn transposed(data: &'a [f32], cols: usize) -> Self {
        Operand {
            data,
            rs: 1,
            cs: cols as isize,
        }
    }

    /// Whether every element of a rows x cols matrix lies within `data`.
    fn holds(&self, rows: usize, cols: usize) -> bool {
        rows == 0
            || cols == 0
            || ((rows - 1) as isize * self.rs + (cols - 1) as isize * self.cs)
                < self.data.len() as isize
    }
}

/// Outputs narrower than this (a layer's 2n-wide end, the input gradient of its first layer)
/// are computed column-major and transposed: gemm tiles a row-major output's columns by 16, so a
/// 4-wide output would use 4 of its 16 lanes.
const NARROW: usize = 16;

/// The m x n product a b (a: m x kk, b: kk x n) written into the next m n elements of `dst`'s
/// spare capacity, which it then counts as filled.
fn product(dst: &mut Vec<f32>, m: usize, n: usize, kk: usize, a: Operand, b: Operand) {
    assert!(a.holds(m, kk) && b.holds(kk, n), "operand out of bounds");
    dst.reserve(m * n);
    let out = dst.spare_capacity_mut();
    if kk == 0 {
        out[..m * n].fill(std::mem::MaybeUninit::new(0.0));
    } else if (2..NARROW).contains(&n) && m >= 2 * NARROW {
        let mut cols = Vec::with_capacity(m * n);
        // SAFETY: as below, with the m n elements of `cols` column-major (element (r, c) at
        // r + c m), within its capacity.
        unsafe {
            gemm_into(cols.as_mut_ptr(), m, n, kk, (m as isize, 1), &a, &b);
            cols.set_len(m * n);
        }
        for (r, row) in out[..m * n].chunks_exact_mut(n).enumerate() {
            for (c, x) in row.iter_mut().enumerate() {
                *x = std::mem::MaybeUninit::new(cols[r + c * m]);
            }
        }
    } else if m * n > 0 {
        // SAFETY: gemm reads only elements of `a` and `b` (bounds asserted above) and, with
        // read_dst false, writes each of the m n output elements without reading them; the
        // spare capacity holds at least m n elements.
        unsafe {
            gemm_into(
                out.as_mut_ptr().cast::<f32>(),
                m,
                n,
                kk,
                (1, n as isize),
                &a,
                &b,
            )
        };
    }
    // SAFETY: the m n elements after the old length were all written just above.
    unsafe { dst.set_len(dst.len() + m * n) };
}

/// gemm's dst = a b for an m x n output at `dst` with (column, row) strides `(cs, rs)`.
///
/// # Safety
/// `a` and `b` hold their m x kk and kk x n elements, and `dst` has room for every output element
/// at those strides.
unsafe fn gemm_into(
    dst: *mut f32,
    m: usize,
    n: usize,
    kk: usize,
    (cs, rs): (isize, isize),
    a: &Operand,
    b: &Operand,
) {
    // SAFETY: the caller's contract; with read_dst false gemm only writes dst.
    unsafe {
        gemm::gemm(
            m,
            n,
            kk,
            dst,
            cs,
            rs,
            false,
            a.data.as_ptr(),
            a.cs,
            a.rs,
            b.data.as_ptr(),
            b.cs,
            b.rs,
            0.0f32,
            1.0f32,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// A [rows, cols] tensor filled by `f` (which appends exactly rows x cols values).
fn output(shape: [usize; 2], f: impl FnOnce(&mut Vec<f32>)) -> FlexTensor {
    let mut out = Vec::with_capacity(shape[0] * shape[1]);
    f(&mut out);
    assert_eq!(out.len(), shape[0] * shape[1]);
    FlexTensor::from_data(TensorData::new(out, shape))
}

fn f32s(ts: &[&FlexTensor]) -> bool {
    ts.iter().all(|t| t.dtype() == DType::F32)
}

impl GroupMatmulOps for Flex {
    fn group_matmul(x: FlexTensor, w: FlexTensor, k: usize) -> FlexTensor {
        let ([rows, i], [_, o]) = (x.shape().dims::<2>(), w.shape().dims::<2>());
        if !f32s(&[&x, &w]) {
            let y = Flex::float_matmul(
                Flex::float_reshape(x, [k, rows / k, i].into()),
                Flex::float_reshape(w, [k, i, o].into()),
            );
            return Flex::float_reshape(y, [rows, o].into());
        }
        let (xv, wv, r) = (values(&x), values(&w), rows / k);
        output([rows, o], |y| {
            for m in 0..k {
                let (a, b) = (&xv[m * r * i..], &wv[m * i * o..]);
                product(y, r, o, i, Operand::rows(a, i), Operand::rows(b, o));
            }
        })
    }

    fn group_matmul_t(g: FlexTensor, w: FlexTensor, k: usize) -> FlexTensor {
        let ([rows, o], [wr, _]) = (g.shape().dims::<2>(), w.shape().dims::<2>());
        let (i, r) = (wr / k, rows / k);
        if !f32s(&[&g, &w]) {
            let wt = Flex::float_swap_dims(Flex::float_reshape(w, [k, i, o].into()), 1, 2);
            let y = Flex::float_matmul(Flex::float_reshape(g, [k, r, o].into()), wt);
            return Flex::float_reshape(y, [rows, i].into());
        }
        let (gv, wv) = (values(&g), values(&w));
        output([rows, i], |y| {
            for m in 0..k {
                let (a, b) = (&gv[m * r * o..], &wv[m * i * o..]);
                product(y, r, i, o, Operand::rows(a, o), Operand::transposed(b, o));
            }
        })
    }

    fn group_outer(a: FlexTensor, g: FlexTensor, k: usize) -> FlexTensor {
        let ([rows, i], [_, o]) = (a.shape().dims::<2>(), g.shape().dims::<2>());
        if !f32s(&[&a, &g]) {
            let a = Flex::float_reshape(a, [k, rows / k, i].into());
            let g = Flex::float_reshape(g, [k, rows / k, o].into());
            let blocks = Flex::float_matmul(Flex::float_swap_dims(a, 1, 2), g);
            return Flex::float_reshape(blocks, [k * i, o].into());
        }
        let (av, gv, r) = (values(&a), values(&g), rows / k);
        output([k * i, o], |y| {
            for m in 0..k {
                let (a, g) = (&av[m * r * i..], &gv[m * r * o..]);
                product(y, i, o, r, Operand::transposed(a, i), Operand::rows(g, o));
            }
        })
    }
}

/// The backward pass of y_k = a_k W_k (`transposed` false) or y_k = a_k W_k^T (true).
#[derive(Debug)]
struct GroupProductBackward {
    transposed: bool,
}

impl GroupProductBackward {
    /// The forward product on the inner backend.
    fn apply<B: GroupMatmulOps>(
        &self,
        a: FloatTensor<B>,
        w: FloatTensor<B>,
        k: usize,
    ) -> FloatTensor<B> {
        if self.transposed {
            B::group_matmul_t(a, w, k)
        } else {
            B::group_matmul(a, w, k)
        }
    }
}

impl<B: GroupMatmulOps> Backward<B, 2> for GroupProductBackward {
    /// a, w and K.
    type State = (FloatTensor<B>, FloatTensor<B>, usize);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_a, node_w] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (a, w, k) = ops.state;
        if let Some(node) = node_w {
            // dW_k = a_k^T G_k, or for the transposed product G_k^T a_k
            let dw = if self.transposed {
                B::group_outer(grad.clone(), a, k)
            } else {
                B::group_outer(a, grad.clone(), k)
            };
            grads.register::<B>(node.id, dw);
        }
        if let Some(node) = node_a {
            // da_k = G_k W_k^T, or for the transposed product G_k W_k
            let da = if self.transposed {
                B::group_matmul(grad, w, k)
            } else {
                B::group_matmul_t(grad, w, k)
            };
            grads.register::<B>(node.id, da);
        }
    }
}

/// The product of `backward` on autodiff tensors, recorded for the backward pass.
fn recorded<B: GroupMatmulOps, C: CheckpointStrategy>(
    backward: GroupProductBackward,
    a: FloatTensor<Autodiff<B, C>>,
    w: FloatTensor<Autodiff<B, C>>,
    k: usize,
) -> FloatTensor<Autodiff<B, C>> {
    let (a, node_a) = a.into_parts();
    let (w, node_w) = w.into_parts();
    let y = backward.apply::<B>(a.clone(), w.clone(), k);
    match backward
        .prepare::<C>([node_a, node_w])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish((a, w, k), y),
        OpsKind::UnTracked(prep) => prep.finish(y),
    }
}

impl<B: GroupMatmulOps, C: CheckpointStrategy> GroupMatmulOps for Autodiff<B, C> {
    fn group_matmul(x: FloatTensor<Self>, w: FloatTensor<Self>, k: usize) -> FloatTensor<Self> {
        recorded::<B, C>(GroupProductBackward { transposed: false }, x, w, k)
    }

    fn group_matmul_t(g: FloatTensor<Self>, w: FloatTensor<Self>, k: usize) -> FloatTensor<Self> {
        recorded::<B, C>(GroupProductBackward { transposed: true }, g, w, k)
    }
}

/// Whether the grouped products apply on `device`: the CPU backend with the fused kernels on
/// (`PHASELAB_PLAIN_OPS` keeps burn's batched `matmul`, to measure the difference).
pub fn grouped(device: &Device) -> bool {
    !super::plain_ops() && super::on_flex(device)
}

/// y_k = x_k W_k for the K members of a population: x [R, i] (member k's rows k R/K..),
/// w [K i, o].
pub fn group_matmul(x: Tensor<2>, w: Tensor<2>, k: usize) -> Tensor<2> {
    Tensor::from_dispatch(<Dispatch as GroupMatmulOps>::group_matmul(
        x.into_dispatch(),
        w.into_dispatch(),
        k,
    ))
}

/// y_k = g_k W_k^T for the K members of a population: g [R, o], w [K i, o].
pub fn group_matmul_t(g: Tensor<2>, w: Tensor<2>, k: usize) -> Tensor<2> {
    Tensor::from_dispatch(<Dispatch as GroupMatmulOps>::group_matmul_t(
        g.into_dispatch(),
        w.into_dispatch(),
        k,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn random(shape: [usize; 2], seed: u64, dev: &Device) -> Tensor<2> {
        let mut r = Rng::new(seed);
        let v: Vec<f32> = (0..shape[0] * shape[1])
            .map(|_| r.normal() as f32)
            .collect();
        Tensor::from_data(TensorData::new(v, shape), dev)
    }

    fn values(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    fn assert_close(a: Vec<f32>, b: Vec<f32>, what: &str) {
        assert_eq!(a.len(), b.len(), "{what}: lengths");
        let worst = a
            .iter()
            .zip(&b)
            .fold(0f32, |m, (x, y)| m.max((x - y).abs()));
        assert!(worst <= 1e-4, "{what}: max difference {worst}");
    }

    /// Member by member with burn's own 2-D products, for reference.
    fn per_member(x: &Tensor<2>, w: &Tensor<2>, k: usize, transpose: bool) -> Tensor<2> {
        let (r, wr) = (x.dims()[0] / k, w.dims()[0] / k);
        let parts = (0..k)
            .map(|m| {
                let (xm, wm) = (
                    x.clone().narrow(0, m * r, r),
                    w.clone().narrow(0, m * wr, wr),
                );
                if transpose {
                    xm.matmul(wm.transpose())
                } else {
                    xm.matmul(wm)
                }
            })
            .collect();
        Tensor::cat(parts, 0)
    }

    #[test]
    fn grouped_products_equal_per_member_products_in_value_and_gradient() {
        let dev = Device::flex().autodiff();
        // Small blocks, and tall ones whose narrow outputs go through the column-major path.
        for (k, r, i, o) in [(3, 5, 4, 6), (2, 40, 4, 20), (2, 40, 20, 4)] {
            let w = random([k * i, o], 1, &dev);
            // A strided x (a transposed tensor) as well as a plain one.
            let xs = [
                random([k * r, i], 2, &dev),
                random([i, k * r], 3, &dev).transpose(),
            ];
            let g = random([k * r, o], 4, &dev);
            let cot_i = random([k * r, i], 5, &dev);
            for x in xs {
                for transpose in [false, true] {
                    let (input, cot) = if transpose { (&g, &cot_i) } else { (&x, &g) };
                    let run = |grouped: bool| {
                        let xl = Tensor::from_data(input.to_data(), &dev).require_grad();
                        let wl = Tensor::from_data(w.to_data(), &dev).require_grad();
                        let y = match (grouped, transpose) {
                            (true, false) => group_matmul(xl.clone(), wl.clone(), k),
                            (true, true) => group_matmul_t(xl.clone(), wl.clone(), k),
                            _ => per_member(&xl, &wl, k, transpose),
                        };
                        let grads = (y.clone() * cot.clone()).sum().backward();
                        (
                            values(y),
                            values(xl.grad(&grads).unwrap()),
                            values(wl.grad(&grads).unwrap()),
                        )
                    };
                    let ((y1, dx1, dw1), (y2, dx2, dw2)) = (run(true), run(false));
                    let what = if transpose { "x W^T" } else { "x W" };
                    assert_close(y1, y2, &format!("{what}: value"));
                    assert_close(dx1, dx2, &format!("{what}: input gradient"));
                    assert_close(dw1, dw2, &format!("{what}: weight gradient"));
                }
            }
        }
    }

    #[test]
    fn grouped_products_handle_f64() {
        let dev = Device::flex();
        let x = random([6, 4], 6, &dev).cast(DType::F64);
        let w = random([8, 3], 7, &dev).cast(DType::F64);
        let y = group_matmul(x.clone(), w.clone(), 2).cast(DType::F32);
        let expect = per_member(&x, &w, 2, false).cast(DType::F32);
        assert_close(values(y), values(expect), "f64 x W");
    }
}
