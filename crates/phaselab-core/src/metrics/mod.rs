//! The paper's metrics on rollouts, computed in f64 from predicted and true trajectory sets of the
//! same shape [N, T, D] (no learning framework needed), and `learned_structure`, which reads what
//! a trained model learned (potential, inverse mass, forces) against the true system's.
//!
//! Differences from the reference code, on purpose: the t = 0 state (given, not predicted) is left
//! out of every average; angles are compared as stored, never unwrapped across trajectories; the
//! energy uses the system's true momenta. As in the reference, ratios are floored at 1e-7 before
//! logs are taken, so exact agreement gives 1e-7 rather than 0.

pub mod cartesian_error;
pub mod energy_violation;
pub mod geometric_mean;
pub mod learned_structure;
pub mod persistence;
pub mod rollout_error;
pub mod solver_floor;

pub use cartesian_error::{cartesian_chaos_floor, cartesian_rollout_error};
pub use energy_violation::{energy_violation, EnergyViolation};
pub use geometric_mean::{MetricError, LOG_FLOOR};
pub use persistence::persistence;
pub use rollout_error::{chaos_floor, mse, perturbed_truth, rollout_error, RolloutError};
pub use solver_floor::{solver_floor, SolverFloor};

#[cfg(test)]
mod tests;
