//! The small tanh MLPs every model is built from, with their input derivatives written as tensor
//! ops (burn has first-order autodiff only): a vector-Jacobian product for gradients such as
//! grad H, and forward tangents for exact Jacobians. Training then differentiates through them.
//!
//! For h_k = a_{k-1} W_k + b_k, a_k = tanh(h_k), out = a_L W_out + b_out:
//!   reverse: g <- g W^T, then g <- g (1 - a_k^2) going down;
//!   forward: t <- t W, then t <- t (1 - a_k^2) going up.
//!
//! A population of K networks of one shape (trained in lock-step, `train::population`) stacks
//! them: W [K in, out] and b [K out], with each member's rows consecutive in every batch, so that
//! x W becomes K products [B, in] x [in, out] in one batched matmul. K = 1 is a single network, in
//! the same layout as ever.

use crate::cpu::{add_group_bias, bias_tanh, dtanh_mul, group_matmul, group_matmul_t, grouped};
use crate::rng::Rng;
use burn::module::Param;
use burn::prelude::*;

/// One affine layer x W + b, with W stored [in, out] ([K in, out] for K stacked members).
#[derive(Module, Debug)]
pub struct Dense {
    pub w: Param<Tensor<2>>,
    pub b: Param<Tensor<1>>,
}

/// tanh hidden layers and a linear output layer.
#[derive(Module, Debug)]
pub struct Mlp {
    pub layers: Vec<Dense>,
}

/// Orthogonal matrix [rows, cols] times `gain` (orthonormal columns if rows >= cols, else rows),
/// from Gram–Schmidt on Gaussian draws; the same seed gives the same weights on every backend.
pub fn orthogonal(rows: usize, cols: usize, gain: f64, rng: &mut Rng) -> Vec<f64> {
    let (tall, short) = (rows.max(cols), rows.min(cols));
    // `short` orthonormal vectors of length `tall`.
    let mut basis: Vec<Vec<f64>> = Vec::with_capacity(short);
    while basis.len() < short {
        let mut v: Vec<f64> = (0..tall).map(|_| rng.normal()).collect();
        for b in &basis {
            let d: f64 = v.iter().zip(b).map(|(x, y)| x * y).sum();
            v.iter_mut().zip(b).for_each(|(x, y)| *x -= d * y);
        }
        let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if n > 1e-8 {
            basis.push(v.into_iter().map(|x| x / n).collect());
        }
    }
    let mut m = vec![0.0; rows * cols];
    for (k, b) in basis.iter().enumerate() {
        for (i, &x) in b.iter().enumerate() {
            // rows >= cols: basis vectors are columns; otherwise rows.
            let (r, c) = if rows >= cols { (i, k) } else { (k, i) };
            m[r * cols + c] = gain * x;
        }
    }
    m
}

fn tensor2(v: Vec<f64>, shape: [usize; 2], device: &Device) -> Tensor<2> {
    let data: Vec<f32> = v.into_iter().map(|x| x as f32).collect();
    Tensor::from_data(TensorData::new(data, shape), device)
}

fn tensor1(v: Vec<f64>, device: &Device) -> Tensor<1> {
    let n = v.len();
    let data: Vec<f32> = v.into_iter().map(|x| x as f32).collect();
    Tensor::from_data(TensorData::new(data, [n]), device)
}

impl Mlp {
    /// Layer sizes [in, h, ..., h, out]: orthogonal weights (gain 0.5, as the reference) and
    /// biases U(+-1/sqrt(fan_in)) (PyTorch's default), except a zero output bias where
    /// `zero_output_bias` (the reference's mass network and its MuJoCo models).
    /// With `rng` None the weights are zeros (a shell for loading stored weights, built cheaply).
    pub fn new(
        sizes: &[usize],
        zero_output_bias: bool,
        mut rng: Option<&mut Rng>,
        device: &Device,
    ) -> Self {
        let n = sizes.len() - 1;
        let layers = (0..n)
            .map(|k| {
                let (i, o) = (sizes[k], sizes[k + 1]);
                let Some(rng) = rng.as_deref_mut() else {
                    return Dense {
                        w: Param::from_tensor(Tensor::zeros([i, o], device)),
                        b: Param::from_tensor(Tensor::zeros([o], device)),
                    };
                };
                let w = orthogonal(i, o, 0.5, rng);
                let bound = 1.0 / (i as f64).sqrt();
                let b: Vec<f64> = (0..o)
                    .map(|_| {
                        if k + 1 == n && zero_output_bias {
                            0.0
                        } else {
                            bound * (2.0 * rng.uniform() - 1.0)
                        }
                    })
                    .collect();
                Dense {
                    w: Param::from_tensor(tensor2(w, [i, o], device)),
                    b: Param::from_tensor(tensor1(b, device)),
                }
            })
            .collect();
        Mlp { layers }
    }

    /// Members stacked in this network (1 for a single network).
    pub fn members(&self) -> usize {
        let l = &self.layers[0];
        l.b.dims()[0] / l.w.dims()[1]
    }

    /// Networks of one shape stacked into a population (member k = `nets[k]`), as new leaves.
    pub fn stack(nets: &[Mlp]) -> Mlp {
        let layers = (0..nets[0].layers.len())
            .map(|k| Dense {
                w: Param::from_tensor(
                    Tensor::cat(nets.iter().map(|n| n.layers[k].w.val()).collect(), 0).detach(),
                ),
                b: Param::from_tensor(
                    Tensor::cat(nets.iter().map(|n| n.layers[k].b.val()).collect(), 0).detach(),
                ),
            })
            .collect();
        Mlp { layers }
    }

    /// Member k of a stacked population, as a single network.
    pub fn member(&self, k: usize) -> Mlp {
        let m = self.members();
        let layers = self
            .layers
            .iter()
            .map(|l| {
                let ([rows, _], n) = (l.w.dims(), l.b.dims()[0] / m);
                let i = rows / m;
                Dense {
                    w: Param::from_tensor(l.w.val().narrow(0, k * i, i).detach()),
                    b: Param::from_tensor(l.b.val().narrow(0, k * n, n).detach()),
                }
            })
            .collect();
        Mlp { layers }
    }

    /// x W for x [N, in]: one product, or per member on its N/K rows.
    fn times_w(l: &Dense, x: Tensor<2>) -> Tensor<2> {
        let [rows, out] = l.w.dims();
        let k = l.b.dims()[0] / out;
        if grouped(&x.device()) {
            return group_matmul(x, l.w.val(), k);
        }
        if k == 1 {
            return x.matmul(l.w.val());
        }
        let [n, i] = x.dims();
        x.reshape([k, n / k, i])
            .matmul(l.w.val().reshape([k, rows / k, out]))
            .reshape([n, out])
    }

    /// g W^T for g [N, out] (the reverse pass), per member as [`Self::times_w`].
    fn times_wt(l: &Dense, g: Tensor<2>) -> Tensor<2> {
        let [rows, out] = l.w.dims();
        let k = l.b.dims()[0] / out;
        // A single network keeps burn's product here: it rounds the HNN's grad H as the committed
        // results' runs did (the grouped one differs in the last bits).
        if k == 1 {
            return g.matmul(l.w.val().transpose());
        }
        if grouped(&g.device()) {
            return group_matmul_t(g, l.w.val(), k);
        }
        let n = g.dims()[0];
        g.reshape([k, n / k, out])
            .matmul(l.w.val().reshape([k, rows / k, out]).swap_dims(1, 2))
            .reshape([n, rows / k])
    }

    /// Tangents t [N, D, in] -> t W [N, D, out], per member: one product of each member's N/K D
    /// tangent rows, also for a single network (a per-sample batched product makes N tiny ones).
    fn tangents_times_w(l: &Dense, t: Tensor<3>) -> Tensor<3> {
        let [rows, out] = l.w.dims();
        let k = l.b.dims()[0] / out;
        let [n, d, i] = t.dims();
        if grouped(&t.device()) {
            // Member k's tangents are its N/K rows' D directions, consecutive as rows of [N D, in].
            return group_matmul(t.reshape([n * d, i]), l.w.val(), k).reshape([n, d, out]);
        }
        t.reshape([k, n / k * d, i])
            .matmul(l.w.val().reshape([k, rows / k, out]))
            .reshape([n, d, out])
    }

    fn affine(l: &Dense, x: Tensor<2>) -> Tensor<2> {
        add_group_bias(Self::times_w(l, x), l.b.val())
    }

    /// Layer k's output: tanh(x W + b) for hidden layers, x W + b for the last.
    fn layer(&self, k: usize, x: Tensor<2>) -> Tensor<2> {
        let l = &self.layers[k];
        if k + 1 < self.layers.len() {
            bias_tanh(Self::times_w(l, x), l.b.val())
        } else {
            Self::affine(l, x)
        }
    }

    /// Output for inputs x [B, in].
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        (0..self.layers.len()).fold(x, |a, k| self.layer(k, a))
    }

    /// Output and the hidden activations (for the derivative passes).
    fn forward_acts(&self, x: Tensor<2>) -> (Tensor<2>, Vec<Tensor<2>>) {
        let last = self.layers.len() - 1;
        let mut acts = Vec::with_capacity(last);
        let mut a = x;
        for k in 0..=last {
            a = self.layer(k, a);
            if k < last {
                acts.push(a.clone());
            }
        }
        (a, acts)
    }

    /// Vector-Jacobian product: cot [B, out] -> cot^T d out / d x, [B, in].
    pub fn vjp_input(&self, x: Tensor<2>, cot: Tensor<2>) -> Tensor<2> {
        let (_, acts) = self.forward_acts(x);
        Self::vjp_with(&self.layers, &acts, cot)
    }

    fn vjp_with(layers: &[Dense], acts: &[Tensor<2>], cot: Tensor<2>) -> Tensor<2> {
        let mut g = cot;
        for k in (0..layers.len()).rev() {
            if k < acts.len() {
                g = dtanh_mul(g, acts[k].clone());
            }
            g = Self::times_wt(&layers[k], g);
        }
        g
    }

    /// Gradient of a scalar-output MLP with respect to its input, [B, in].
    pub fn input_gradient(&self, x: Tensor<2>) -> Tensor<2> {
        let [b, _] = x.dims();
        let ones = Tensor::ones([b, 1], &x.device());
        self.vjp_input(x, ones)
    }

    /// Forward tangents: output [B, out] and d out along K input directions t [B, K, in] -> [B, K, out].
    pub fn jvp(&self, x: Tensor<2>, t: Tensor<3>) -> (Tensor<2>, Tensor<3>) {
        let last = self.layers.len() - 1;
        let mut a = x;
        let mut t = t;
        for (k, l) in self.layers.iter().enumerate() {
            a = self.layer(k, a);
            t = Self::tangents_times_w(l, t);
            if k < last {
                let d = (a.clone() * a.clone()).neg().add_scalar(1.0);
                t = t * d.unsqueeze_dim::<3>(1);
            }
        }
        (a, t)
    }

    /// The gradient of a scalar-output MLP and its tangents along K input directions
    /// (forward-over-reverse, so Hessian-vector products): x [B, in], t [B, K, in] ->
    /// (∇f [B, in], (∇²f) t [B, K, in]). With s_k = 1 − a_k², going down from g = W_outᵀ:
    ///   δ_k = g ⊙ s_k,  δ̇_k = ġ ⊙ s_k − 2 g ⊙ a_k ⊙ ȧ_k,  g ← δ_k W_kᵀ,  ġ ← δ̇_k W_kᵀ,
    /// with the forward tangents ȧ_k = (ȧ_{k−1} W_k) ⊙ s_k. The Lagrangian NN's q̈ needs these.
    pub fn gradient_tangents(&self, x: Tensor<2>, t: Tensor<3>) -> (Tensor<2>, Tensor<3>) {
        let last = self.layers.len() - 1;
        let [n, k, i] = t.dims();
        let mut a = x;
        let mut ta = t;
        let mut acts = Vec::with_capacity(last);
        for (j, l) in self.layers.iter().enumerate().take(last) {
            a = self.layer(j, a);
            let s = (a.clone() * a.clone()).neg().add_scalar(1.0);
            ta = Self::tangents_times_w(l, ta) * s.unsqueeze_dim::<3>(1);
            acts.push((a.clone(), ta.clone()));
        }
        let ones = Tensor::ones([n, 1], &a.device());
        let mut g = Self::times_wt(&self.layers[last], ones);
        // ġ is zero above the last hidden layer (the output weights are constants of x).
        let mut gt: Option<Tensor<3>> = None;
        for j in (0..last).rev() {
            let (a, ta) = &acts[j];
            let s = (a.clone() * a.clone()).neg().add_scalar(1.0);
            let cross = (g.clone() * a.clone()).unsqueeze_dim::<3>(1) * ta.clone().mul_scalar(-2.0);
            let dt = match gt {
                Some(gt) => gt * s.unsqueeze_dim::<3>(1) + cross,
                None => cross,
            };
            g = Self::times_wt(&self.layers[j], dtanh_mul(g, a.clone()));
            let w = dt.dims()[2];
            let back = Self::times_wt(&self.layers[j], dt.reshape([n * k, w]));
            let rows = back.dims()[1];
            gt = Some(back.reshape([n, k, rows]));
        }
        let gt = gt.unwrap_or_else(|| Tensor::zeros([n, k, i], &g.device()));
        (g, gt)
    }

    /// Number of trainable scalars.
    pub fn n_params(&self) -> usize {
        self.layers
            .iter()
            .map(|l| l.w.val().dims().iter().product::<usize>() + l.b.val().dims()[0])
            .sum()
    }
}
