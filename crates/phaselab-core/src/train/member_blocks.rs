//! A population's member blocks: every parameter of a stacked model holds its K members' blocks
//! along its leading axis (`models::population`), so one member can go back to saved weights
//! while the others keep theirs.

use burn::module::{ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::prelude::*;
use std::collections::HashMap;

/// `model` with the blocks of members `ks` (of `k`) set back to their values in `saved`.
pub fn restore_members<M: Module>(model: M, saved: &M, ks: &[usize], k: usize) -> M {
    let mut values = Saved(HashMap::new());
    saved.visit(&mut values);
    let mut restore = Restore {
        saved: values.0,
        members: ks,
        k,
    };
    model.map(&mut restore)
}

/// Every parameter's value by id.
struct Saved(HashMap<ParamId, TensorData>);

impl ModuleVisitor for Saved {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.insert(param.id, param.val().into_data());
    }
}

/// Overwrites the member blocks `members` of every parameter with the saved values.
struct Restore<'a> {
    saved: HashMap<ParamId, TensorData>,
    members: &'a [usize],
    k: usize,
}

impl ModuleMapper for Restore<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(old) = self.saved.remove(&id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let require_grad = tensor.is_require_grad();
        let shape = tensor.shape();
        let n = shape.num_elements() / self.k;
        let inner = tensor.inner();
        let old = Tensor::<D>::from_data(old, &inner.device()).reshape([self.k, n]);
        let mut t = inner.reshape([self.k, n]);
        for &m in self.members {
            t = t.slice_assign([m..m + 1, 0..n], old.clone().narrow(0, m, 1));
        }
        let mut out = Tensor::from_inner(t.reshape(shape));
        if require_grad {
            out = out.require_grad();
        }
        Param::from_mapped_value(id, out, mapper)
    }
}
