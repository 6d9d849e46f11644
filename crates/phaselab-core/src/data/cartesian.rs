//! Datasets in the Cartesian coordinates of a system's body points, the view of the constrained
//! models (CHNN, CLNN, the constrained NODE+SO): x = x(q) and ẋ = J(q) v of every point, from the
//! same trajectories, chunks and splits as the generalised set, so that models in either
//! coordinates learn from the same motions. The map back recovers the generalised state.

use super::trajectory_set::{Coordinates, DataError, TrajectorySet};
use crate::physics::System;
use std::sync::Arc;

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

/// `set` in the coordinates `want`: itself when it is in them already, else converted through
/// the body points of the system it names (which phaselab must simulate).
pub fn in_coordinates(
    set: &Arc<TrajectorySet>,
    want: Coordinates,
) -> Result<Arc<TrajectorySet>, DataError> {
    if set.meta.coordinates == want {
        return Ok(set.clone());
    }
    let sys = crate::physics::system(&set.meta.system).map_err(|_| {
        DataError::Format(format!(
            "{} coordinates need the body points of a system phaselab simulates, and '{}' is not one",
            want.name(),
            set.meta.system
        ))
    })?;
    let out = match want {
        Coordinates::Cartesian => to_cartesian(set, sys.as_ref())?,
        Coordinates::Generalised => to_generalised(set, sys.as_ref())?,
    };
    Ok(Arc::new(out))
}

/// A path of body-point states (rows [x, ẋ] of 2N values) as generalised states (rows [q, v] of
/// 2D), each angle moved by whole turns to within π of the previous row's (the first row's of
/// `q_start`), so that a motion through ±π stays continuous as the generalised truth is. A row
/// that is not finite or sits on a chart's pole becomes NaN (a diverged rollout still draws up to
/// where it left).
pub fn generalised_path(sys: &dyn System, rows: &[f64], q_start: &[f64]) -> Vec<f64> {
    let (d, n) = (sys.dof(), sys.body_graph().coordinates());
    let angular = sys.angular();
    let mut prev = q_start.to_vec();
    let mut out = Vec::with_capacity(rows.len() / (2 * n).max(1) * 2 * d);
    for row in rows.chunks(2 * n) {
        let state = row
            .iter()
            .all(|x| x.is_finite())
            .then(|| sys.generalised(&row[..n], &row[n..]))
            .flatten();
        let Some(mut s) = state else {
            out.extend(std::iter::repeat_n(f64::NAN, 2 * d));
            continue;
        };
        for c in (0..d).filter(|&c| angular[c] && prev[c].is_finite()) {
            let turns = ((prev[c] - s.q[c]) / std::f64::consts::TAU).round();
            s.q[c] += turns * std::f64::consts::TAU;
        }
        prev.clone_from(&s.q);
        out.extend(s.q.iter().chain(&s.v));
    }
    out
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
