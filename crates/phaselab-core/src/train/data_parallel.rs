//! One optimiser step's loss and gradient, computed on the halves of the batch at once on the CPU.
//! Each half differentiates its own copy of the model (fresh autodiff leaves, the same parameter
//! ids), and the halves' losses and gradients, weighted by their share of the batch, are summed:
//!   L = sum_i (n_i / n) L_i,   dL/dtheta = sum_i (n_i / n) dL_i/dtheta,
//! the whole batch's mean loss and gradient up to rounding. burn's per-operation threading is too
//! fine-grained for these small networks; a thread per half is what lets a step use two cores.
//! The split is fixed (two halves wherever it applies), so results do not depend on the core count.

use super::trainer::{Learner, TrainConfig};
use crate::models::fused_tanh;
use burn::module::{ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;

/// Smallest batch that is split (below it the halves' fixed costs outweigh the second core).
const SPLIT_MIN: usize = 64;

/// The batch's mean loss (detached) and the gradient of the mean loss.
pub fn loss_and_grads<M: Learner>(
    model: &M,
    data: &M::Data,
    batch: &[usize],
    cfg: &TrainConfig,
    device: &Device,
) -> (Tensor<1>, GradientsParams) {
    if !splits(batch.len(), device) {
        let loss = model.batch_loss(data, batch, cfg, device);
        let grads = GradientsParams::from_grads(loss.backward(), model);
        return (loss.detach(), grads);
    }
    let (a, b) = batch.split_at(batch.len() / 2);
    let part = |idx: &[usize]| {
        // A copy with its own autodiff leaves: the halves' graphs share nothing, so neither
        // thread waits on the other's graph.
        let copy = model.valid().train();
        let weight = idx.len() as f64 / batch.len() as f64;
        let loss = copy.batch_loss(data, idx, cfg, device).mul_scalar(weight);
        let grads = GradientsParams::from_grads(loss.backward(), &copy);
        (loss.detach(), grads)
    };
    let ((loss_a, mut grads), (loss_b, grads_b)) = join(|| part(a), || part(b));
    model.visit(&mut AddGrads {
        into: &mut grads,
        from: grads_b,
    });
    (loss_a + loss_b, grads)
}

/// Whether a batch of `n` on `device` is split: natively, on the CPU backend, with threads.
fn splits(n: usize, device: &Device) -> bool {
    cfg!(all(feature = "parallel", not(target_arch = "wasm32")))
        && n >= SPLIT_MIN
        && !fused_tanh::plain_ops()
        && fused_tanh::on_flex(device)
}

fn join<A: Send, B: Send>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B + Send) -> (A, B) {
    #[cfg(all(feature = "parallel", not(target_arch = "wasm32")))]
    {
        rayon::join(a, b)
    }
    #[cfg(not(all(feature = "parallel", not(target_arch = "wasm32"))))]
    {
        (a(), b())
    }
}

/// into[p] += from[p] for every parameter p of the visited module.
struct AddGrads<'a> {
    into: &'a mut GradientsParams,
    from: GradientsParams,
}

impl ModuleVisitor for AddGrads<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let Some(g) = self.from.remove::<D>(param.id) else {
            return;
        };
        let sum = match self.into.remove::<D>(param.id) {
            Some(h) => h + g,
            None => g,
        };
        self.into.register(param.id, sum);
    }
}
