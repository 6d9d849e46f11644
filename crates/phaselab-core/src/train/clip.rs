//! Gradient clipping by the global norm over all parameters (PyTorch's clip_grad_norm_); burn's
//! own `Norm` clipping works per tensor. The scale is a tensor, so nothing is read back.

use burn::module::{ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;

struct SquaredNorm<'a> {
    grads: &'a GradientsParams,
    total: Option<Tensor<1>>,
}

impl ModuleVisitor for SquaredNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.get::<D>(param.id) {
            let s = (g.clone() * g).sum();
            self.total = Some(match self.total.take() {
                Some(t) => t + s,
                None => s,
            });
        }
    }
}

struct Scale<'a> {
    grads: &'a mut GradientsParams,
    factor: Tensor<1>,
}

impl ModuleVisitor for Scale<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.remove::<D>(param.id) {
            self.grads
                .register(param.id, g * self.factor.clone().unsqueeze::<D>());
        }
    }
}

/// ||g|| [1] over every parameter of `module` together (None where it has no gradient).
pub fn global_norm<M: Module>(module: &M, grads: &GradientsParams) -> Option<Tensor<1>> {
    let mut n = SquaredNorm { grads, total: None };
    module.visit(&mut n);
    n.total.map(Tensor::sqrt)
}

/// Scale all gradients by min(1, max_norm / ||g||), ||g|| over every parameter together.
pub fn clip_global_norm<M: Module>(module: &M, grads: &mut GradientsParams, max_norm: f64) {
    let Some(norm) = global_norm(module, grads) else {
        return;
    };
    let factor = norm.clamp_min(max_norm).recip().mul_scalar(max_norm);
    module.visit(&mut Scale { grads, factor });
}
