//! The trivial baseline every learned model must beat: "nothing moves", z(t) = z(0) for every
//! trajectory. A model whose rollouts score no better than this has learned no dynamics.

use crate::data::TrajectorySet;

/// The prediction that every state stays at its trajectory's first state (same shape as `truth`;
/// controls and metadata kept).
pub fn persistence(truth: &TrajectorySet) -> TrajectorySet {
    let mut p = truth.clone();
    let (t, d) = (truth.t, truth.d);
    for i in 0..truth.n {
        for k in 1..t {
            let (at, first) = ((i * t + k) * d, i * t * d);
            p.q.copy_within(first..first + d, at);
            p.v.copy_within(first..first + d, at);
        }
    }
    p
}
