//! One rollout error for models in any coordinates: the relative error of [`rollout_error`]
//! computed on the positions and velocities of the system's body points, as the CHNN repository
//! scores every model (github.com/mfinzi/constrained-hamiltonian-neural-networks, its
//! `pl_trainer.py`: angle models' rollouts are mapped to Cartesian points before comparing). A set
//! in generalised coordinates is mapped through x(q), ẋ = J(q) v first; a Cartesian one is used as
//! it is. Generalised errors stay what the generalised figures report.

use super::geometric_mean::MetricError;
#[cfg(doc)]
use super::rollout_error::chaos_floor;
use super::rollout_error::{perturbed_truth, rollout_error, RolloutError};
use crate::data::cartesian::to_cartesian;
use crate::data::{Coordinates, TrajectorySet};
use crate::physics::System;
use std::borrow::Cow;

/// `set` as body points of `sys`.
fn points<'a>(set: &'a TrajectorySet, sys: &dyn System) -> Result<Cow<'a, TrajectorySet>, String> {
    match set.meta.coordinates {
        Coordinates::Cartesian => Ok(Cow::Borrowed(set)),
        Coordinates::Generalised => to_cartesian(set, sys)
            .map(Cow::Owned)
            .map_err(|e| e.to_string()),
    }
}

/// The rollout error of `pred` against `truth` (each in either coordinates) on `sys`'s body
/// points.
pub fn cartesian_rollout_error(
    sys: &dyn System,
    truth: &TrajectorySet,
    pred: &TrajectorySet,
) -> Result<RolloutError, String> {
    let (t, p) = (points(truth, sys)?, points(pred, sys)?);
    rollout_error(&t, &p).map_err(|e: MetricError| e.to_string())
}

/// The chaos floor ([`chaos_floor`]: the true system started 1e-4 away in generalised
/// coordinates) measured on the body points; `truth` is in generalised coordinates.
pub fn cartesian_chaos_floor(
    sys: &dyn System,
    truth: &TrajectorySet,
    eps: f64,
) -> Result<RolloutError, String> {
    let near = perturbed_truth(sys, truth, eps).map_err(|e| e.to_string())?;
    cartesian_rollout_error(sys, truth, &near)
}
