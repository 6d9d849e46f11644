//! CPU execution details, apart from the concepts they speed up: the tanh layer's fused kernels
//! on burn flex and their vectorised loops, the batch split across two threads, flushing subnormal
//! floats, running the step on a pool thread, a population's per-member products, and keeping
//! freed memory. Models call `bias_tanh`, `dtanh_mul`, `add_group_bias` and `group_matmul`/
//! `group_matmul_t`; the trainers call `loss_and_grads`, `flush_denormals` and `on_pool_thread`;
//! the CLI calls `keep_freed_memory` at start.
//! Off flex (wgpu, WebGPU) the same formulas run as ordinary tensor ops.

pub mod data_parallel;
pub mod denormals;
pub mod fused_tanh;
pub mod group_matmul;
pub mod memory;
pub mod pool;
pub mod tanh_kernels;

pub use data_parallel::loss_and_grads;
pub use denormals::flush_denormals;
pub use fused_tanh::{add_group_bias, bias_tanh, dtanh_mul, on_flex, plain_ops};
pub use group_matmul::{group_matmul, group_matmul_t, grouped};
pub use memory::keep_freed_memory;
pub use pool::on_pool_thread;
