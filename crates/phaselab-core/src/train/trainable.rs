//! What the training loop needs of a model: its data layout and its loss on one minibatch per member
//! (a single run is a population of one), with the per-member means the losses are made of.

use super::config::{Loss, TrainConfig};
use crate::data::TrajectorySet;
use burn::prelude::*;

/// One member's minibatch: its prepared data, the rows drawn, and its settings (a single run is
/// a population of one).
pub struct Minibatch<'a, D> {
    pub data: &'a D,
    pub rows: &'a [usize],
    pub cfg: &'a TrainConfig,
}

/// A model the trainer can fit: the host copy of the training data its loss reads, and its loss
/// on a minibatch of that data (differentiable, on the trainer's autodiff device).
pub trait Trainable: Module + Sync {
    type Data: Send + Sync;
    /// Check `set` against the model and copy it into the layout `batch_loss` reads.
    fn prepare(&self, set: &TrajectorySet) -> Result<Self::Data, String>;
    /// Number of training samples in `data`.
    fn samples(data: &Self::Data) -> usize;
    /// The loss of each member [K] on its own minibatch (`batches[k]`, all of one size), for a
    /// model of K stacked members (K = 1: one run).
    fn batch_loss(&self, batches: &[Minibatch<'_, Self::Data>], device: &Device) -> Tensor<1>;
    /// Named quantities read off one minibatch for a step trace (`step_trace`): none unless the
    /// model says what to look at.
    fn probe(
        &self,
        _batch: &Minibatch<'_, Self::Data>,
        _device: &Device,
    ) -> Vec<(&'static str, f64)> {
        Vec::new()
    }
}

/// Mean of x per member, [K], for x whose leading axis holds the K members' blocks in order
/// (K = 1: the plain mean).
pub fn member_mean<const D: usize>(x: Tensor<D>, k: usize) -> Tensor<1> {
    if k == 1 {
        return x.mean();
    }
    let n = x.shape().num_elements();
    x.reshape([k, n / k]).mean_dim(1).reshape([k])
}

/// Each member's L2 or L1 mean of `diff` [K b, ...], in its own norm.
pub(crate) fn member_loss<const D: usize>(diff: Tensor<D>, losses: &[Loss]) -> Tensor<1> {
    let k = losses.len();
    let l2 = |d: Tensor<D>| member_mean(d.clone() * d, k);
    let l1 = |d: Tensor<D>| member_mean(d.abs(), k);
    if losses.iter().all(|&l| l == Loss::L2) {
        return l2(diff);
    }
    if losses.iter().all(|&l| l == Loss::L1) {
        return l1(diff);
    }
    let is_l2: Vec<f32> = losses
        .iter()
        .map(|&l| (l == Loss::L2) as u8 as f32)
        .collect();
    let mask = Tensor::<1>::from_data(TensorData::new(is_l2, [k]), &diff.device());
    let (a, b) = (l2(diff.clone()), l1(diff));
    a * mask.clone() + b * mask.neg().add_scalar(1.0)
}
