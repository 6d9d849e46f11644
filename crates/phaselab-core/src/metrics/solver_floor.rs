//! The solver floor: the true system's own field stepped as the models are stepped (fixed RK4
//! steps, one per data interval) from each test chunk's start, scored on the body points against
//! the truth. Far above the chaos floor, it says the data interval is too coarse for the motion:
//! a model stepped at that resolution cannot follow the truth however well it learned the field.

use super::cartesian_error::cartesian_rollout_error;
use super::rollout_error::RolloutError;
use crate::data::TrajectorySet;
use crate::physics::simulate::{simulate, Integrator};
use crate::physics::{State, System};

/// The exact field's rollouts at a fixed step: their error over the trajectories it could
/// integrate, and how many it could not (the field overflowed, or met a chart's pole).
#[derive(Clone, Debug, PartialEq)]
pub struct SolverFloor {
    /// On the body points, over the trajectories that finished (None if none did).
    pub error: Option<RolloutError>,
    pub failed: usize,
    pub n: usize,
}

/// The solver floor of `truth` (generalised coordinates) with `substeps` classic RK4 steps per
/// data interval.
pub fn solver_floor(
    sys: &dyn System,
    truth: &TrajectorySet,
    substeps: usize,
) -> Result<SolverFloor, String> {
    let integrator = Integrator::Rk4 { substeps };
    let mut pred = truth.clone();
    let mut finished = Vec::new();
    for i in 0..truth.n {
        let (q, v) = truth.state(i, 0);
        let init = State {
            q: q.to_vec(),
            v: v.to_vec(),
        };
        let Ok(tr) = simulate(sys, &init, truth.t, truth.dt, &integrator) else {
            continue;
        };
        for (k, st) in tr.states.iter().enumerate() {
            let o = (i * truth.t + k) * truth.d;
            pred.q[o..o + truth.d].copy_from_slice(&st.q);
            pred.v[o..o + truth.d].copy_from_slice(&st.v);
        }
        finished.push(i);
    }
    let error = match finished.is_empty() {
        true => None,
        false => Some(cartesian_rollout_error(
            sys,
            &truth.select(&finished),
            &pred.select(&finished),
        )?),
    };
    Ok(SolverFloor {
        error,
        failed: truth.n - finished.len(),
        n: truth.n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::protocol::Protocol;
    use crate::physics::system;

    fn test_set(name: &str) -> (Box<dyn System>, TrajectorySet) {
        let sys = system(name).unwrap();
        let test = Protocol::small_test_set(sys.as_ref(), 20, 40);
        (sys, test)
    }

    /// Finer steps lower the floor by about RK4's order (16x per halving).
    #[test]
    fn finer_steps_lower_the_solver_floor() {
        let (sys, test) = test_set("chain-pendulum:3");
        let g = |k: usize| {
            solver_floor(sys.as_ref(), &test, k)
                .unwrap()
                .error
                .unwrap()
                .gerr
        };
        let (one, four) = (g(1), g(4));
        assert!(four < one / 20.0, "RK4 with 4 substeps {four} vs 1 {one}");
    }

    /// Chunks the fixed step cannot integrate (the rotor's Euler angles meet their pole) are
    /// counted, and the others still scored.
    #[test]
    fn chunks_that_cannot_be_stepped_are_counted_apart() {
        let (sys, test) = test_set("rotor");
        let f = solver_floor(sys.as_ref(), &test, 1).unwrap();
        assert!(f.failed > 0 && f.failed < f.n, "{f:?}");
        assert!(f.error.unwrap().gerr.is_finite());
    }
}
