//! Learned dynamics models on burn (f32): NODE, NODE+SO, the HNN family. Models know nothing of
//! files; every derivative they need beyond first-order autodiff is written as tensor ops.

pub mod constrained_acceleration;
pub mod control;
pub mod dissipation;
pub mod dynamics;
pub mod features;
pub mod hamiltonian;
pub mod kind;
pub mod lagrangian;
pub mod learned_masses;
pub mod mass_matrix;
pub mod mlp;
pub mod population;
pub mod spd_solve;
pub mod symplectic;

pub use control::{ControlConfig, ControlKind, ControlModel};
pub use dynamics::{DynamicsModel, ModelConfig};
pub use kind::ModelKind;
pub use population::Population;

#[cfg(test)]
mod second_order_tests;
#[cfg(test)]
mod tests;
