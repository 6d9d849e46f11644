//! phaselab core: ground-truth physics, datasets, the learned dynamics models, their training and
//! the paper's experiments, for *Deconstructing the Inductive Biases of Hamiltonian Neural
//! Networks* (Gruver et al., ICLR 2022).
//!
//! `physics` and `data` know nothing of the learning framework; everything here compiles for
//! native targets and for `wasm32-unknown-unknown`.

pub mod cpu;
pub mod data;
pub mod experiments;
pub mod metrics;
pub mod models;
pub mod physics;
pub mod plot;
pub mod rng;
pub mod solve;
pub mod stats;
pub mod train;

#[cfg(test)]
mod test_child;

/// phaselab's version, written into every file it produces.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
