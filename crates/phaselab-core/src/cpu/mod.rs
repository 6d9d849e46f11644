//! CPU execution details, apart from the concepts they speed up: the tanh layer's fused kernels
//! on burn flex and their vectorised loops, flushing subnormal floats, running the step on a pool
//! thread, a population's per-member products, and keeping freed memory. Kernels only: nothing
//! here knows models or training. Models call `bias_tanh`, `dtanh_mul`, `add_group_bias` and
//! `group_matmul`/`group_matmul_t`; the training loop calls `flush_denormals` and
//! `on_pool_thread` (its batch split is `train::batch_split`); the CLI calls `keep_freed_memory`
//! at start.
//! Off flex (wgpu, WebGPU) the same formulas run as ordinary tensor ops.

pub mod denormals;
pub mod fused_tanh;
pub mod group_matmul;
pub mod memory;
pub mod pool;
pub mod tanh_kernels;

pub use denormals::flush_denormals;
pub use fused_tanh::{add_group_bias, bias_tanh, dtanh_mul, on_flex, plain_ops};
pub use group_matmul::{group_matmul, group_matmul_t, grouped};
pub use memory::keep_freed_memory;
pub use pool::on_pool_thread;
