//! One optimiser step's loss and gradient, computed on the halves of the batch at once on the CPU.
//! Each half differentiates its own copy of the model (fresh autodiff leaves, the same parameter
//! ids), and the halves' losses and gradients, weighted by their share of the batch, are summed:
//!   L = sum_i (n_i / n) L_i,   dL/dtheta = sum_i (n_i / n) dL_i/dtheta,
//! the whole batch's mean loss and gradient up to rounding. burn's per-operation threading is too
//! fine-grained for these small networks; a thread per half is what lets a step use two cores.
//! The split is fixed (two halves wherever it applies), whatever the number of cores.

use super::trainable::{Minibatch, Trainable};
use crate::cpu::{flush_denormals, fused_tanh};
use burn::module::{ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;

/// Smallest batch that is split (below it the halves' fixed costs outweigh the second core).
const SPLIT_MIN: usize = 64;

/// Each member's minibatch mean loss [K] (detached) and the gradient of their sum (members share
/// no parameter, so each member's slice of it is that member's own gradient).
pub fn loss_and_grads<M: Trainable>(
    model: &M,
    batches: &[Minibatch<'_, M::Data>],
    device: &Device,
) -> (Tensor<1>, GradientsParams) {
    let split = splits(batches[0].rows.len() * batches.len(), device);
    loss_and_grads_with(model, batches, device, split)
}

/// As `loss_and_grads`, with the split chosen by the caller (tests compare both).
pub(crate) fn loss_and_grads_with<M: Trainable>(
    model: &M,
    batches: &[Minibatch<'_, M::Data>],
    device: &Device,
    split: bool,
) -> (Tensor<1>, GradientsParams) {
    let n = batches[0].rows.len();
    if !split || n < 2 {
        let loss = model.batch_loss(batches, device);
        let grads = GradientsParams::from_grads(loss.clone().sum().backward(), model);
        return (loss.detach(), grads);
    }
    // Every member's minibatch is halved at the same place, so the halves weigh alike.
    let half = |first: bool| -> Vec<Minibatch<'_, M::Data>> {
        batches
            .iter()
            .map(|m| {
                let (a, b) = m.rows.split_at(n / 2);
                Minibatch {
                    data: m.data,
                    rows: if first { a } else { b },
                    cfg: m.cfg,
                }
            })
            .collect()
    };
    let (a, b) = (half(true), half(false));
    let part = |parts: &[Minibatch<'_, M::Data>]| {
        // Whichever pool thread runs this half flushes subnormals as the trainer's thread does,
        // so that the step's numbers do not depend on which thread took which half.
        flush_denormals();
        // A copy with its own autodiff leaves: the halves' graphs share nothing, so neither
        // thread waits on the other's graph.
        let copy = model.valid().train();
        let weight = parts[0].rows.len() as f64 / n as f64;
        let loss = copy.batch_loss(parts, device).mul_scalar(weight);
        let grads = GradientsParams::from_grads(loss.clone().sum().backward(), &copy);
        (loss.detach(), grads)
    };
    let ((loss_a, mut grads), (loss_b, grads_b)) = join(|| part(&a), || part(&b));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::protocol::Protocol;
    use crate::models::{DynamicsModel, ModelConfig, ModelKind};
    use crate::physics::system;
    use crate::train::TrainConfig;

    struct Flat<'a>(&'a GradientsParams, Vec<f32>);

    impl ModuleVisitor for Flat<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            // Parameters the loss does not reach (an energy's output bias) have no gradient; a
            // marker keeps the two runs comparable.
            match self.0.get::<D>(param.id) {
                Some(g) => self.1.extend(g.into_data().try_to_vec::<f32>().unwrap()),
                None => self.1.push(-1e30),
            }
        }
    }

    #[test]
    fn halves_give_the_whole_batch_loss_and_gradient() {
        let sys = system("chain-pendulum:2").unwrap();
        let p = Protocol {
            n_trajectories: 40,
            n_test: 1,
            ..Protocol::default()
        };
        let set = p.generate(sys.as_ref(), &|_| {}).unwrap().train;
        let dev = Device::flex().autodiff();
        let cfg = TrainConfig::default();
        for kind in [ModelKind::Node, ModelKind::Hnn, ModelKind::NodeSoSymreg] {
            let mc = ModelConfig {
                width: 24,
                ..ModelConfig::new(kind, 2, sys.angular())
            };
            let model = mc.init(&dev).train();
            let data = model.prepare(&set).unwrap();
            // An odd batch: halves of 15 and 16 weigh 15/31 and 16/31.
            let n = DynamicsModel::samples(&data);
            let batch: Vec<usize> = (0..31).map(|i| (i * 7) % n).collect();
            let run = |split| {
                let one = [Minibatch {
                    data: &data,
                    rows: &batch,
                    cfg: &cfg,
                }];
                let (loss, grads) = loss_and_grads_with(&model, &one, &dev, split);
                let mut flat = Flat(&grads, Vec::new());
                model.visit(&mut flat);
                (loss.into_scalar::<f32>(), flat.1)
            };
            let (whole, g_whole) = run(false);
            let (halves, g_halves) = run(true);
            assert!(
                (whole - halves).abs() <= 1e-5 * whole.abs(),
                "{kind}: {whole} vs {halves}"
            );
            let marked = |g: &[f32]| g.iter().map(|x| *x == -1e30).collect::<Vec<_>>();
            assert_eq!(
                marked(&g_whole),
                marked(&g_halves),
                "{kind}: gradients present"
            );
            let scale = g_whole
                .iter()
                .filter(|x| **x != -1e30)
                .fold(0f32, |m, x| m.max(x.abs()));
            let worst = g_whole
                .iter()
                .zip(&g_halves)
                .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
            assert!(
                scale > 0.0 && worst <= 1e-4 * scale,
                "{kind}: {worst} of {scale}"
            );
        }
    }
}
