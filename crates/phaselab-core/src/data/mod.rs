//! Trajectory datasets: the paper's sampling and chunking protocol, and phaselab's `.npz` file
//! format, read and written from bytes (the browser reads the same files). No learning code here.

pub mod cartesian;
pub mod energy_drift;
pub mod initial_conditions;
pub mod npy;
pub mod npz;
pub mod protocol;
pub mod reference_layout;
pub mod sniff;
pub mod trajectory_set;
pub mod windows;

pub use trajectory_set::{Coordinates, DataError, Metadata, TrajectorySet};

#[cfg(test)]
mod tests;
