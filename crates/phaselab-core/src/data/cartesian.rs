//! Datasets in the Cartesian coordinates of a system's body points, the view of the constrained
//! models (CHNN, CLNN, the constrained NODE+SO): x = x(q) and ẋ = J(q) v of every point, from the
//! same trajectories, chunks and splits as the generalised set, so that models in either
//! coordinates learn from the same motions. The map back recovers the generalised state.

use super::trajectory_set::{Coordinates, DataError, TrajectorySet};
use crate::physics::System;

fn check(set: &TrajectorySet, sys: &dyn System, from: Coordinates) -> Result<(), DataError> {
    if set.meta.coordinates != from {
        return Err(DataError::Format(format!(
            "the dataset is in {} coordinates, not {}",
            set.meta.coordinates.name(),
            from.name()
        )));
    }
    if set.meta.system != sys.name() {
        return Err(DataError::Format(format!(
            "the dataset holds {} data, not {}",
            set.meta.system,
            sys.name()
        )));
    }
    Ok(())
}

/// `set` (generalised coordinates of `sys`) as the positions and velocities of its body points.
pub fn to_cartesian(set: &TrajectorySet, sys: &dyn System) -> Result<TrajectorySet, DataError> {
    check(set, sys, Coordinates::Generalised)?;
    if set.d != sys.dof() {
        return Err(DataError::Format(format!(
            "the dataset has D = {} coordinates; {} has {}",
            set.d,
            sys.name(),
            sys.dof()
        )));
    }
    let n = sys.body_graph().coordinates();
    let (mut q, mut v) = (Vec::with_capacity(set.n * set.t * n), Vec::new());
    v.reserve(set.n * set.t * n);
    for i in 0..set.n {
        for k in 0..set.t {
            let (qs, vs) = set.state(i, k);
            let (x, xd) = sys.cartesian(qs, vs);
            q.extend(x);
            v.extend(xd);
        }
    }
    let mut out = TrajectorySet {
        d: n,
        q,
        v,
        ..set.clone()
    };
    out.meta.angular = vec![false; n];
    out.meta.coordinates = Coordinates::Cartesian;
    out.validate()?;
    Ok(out)
}

/// `set` (body points of `sys`) back in generalised coordinates; angles come out in their
/// principal branch. Fails where a state sits on a chart's pole.
pub fn to_generalised(set: &TrajectorySet, sys: &dyn System) -> Result<TrajectorySet, DataError> {
    check(set, sys, Coordinates::Cartesian)?;
    let d = sys.dof();
    let (mut q, mut v) = (Vec::with_capacity(set.n * set.t * d), Vec::new());
    v.reserve(set.n * set.t * d);
    for i in 0..set.n {
        for k in 0..set.t {
            let (x, xd) = set.state(i, k);
            let s = sys.generalised(x, xd).ok_or_else(|| {
                DataError::Format(format!(
                    "trajectory {i}, point {k}: no generalised state (a coordinate chart's pole)"
                ))
            })?;
            q.extend(s.q);
            v.extend(s.v);
        }
    }
    let mut out = TrajectorySet {
        d,
        q,
        v,
        ..set.clone()
    };
    out.meta.angular = sys.angular();
    out.meta.coordinates = Coordinates::Generalised;
    out.validate()?;
    Ok(out)
}
