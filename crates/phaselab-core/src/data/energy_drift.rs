//! A file's physical sanity check: how much the true energy E(q, v) changes along its
//! trajectories, max_i |E(z_i,T) − E(z_i,0)| / (|T| + |V|)(z_i,0). Body-point files are mapped back
//! to the system's own coordinates first, since E is written in those.

use super::{Coordinates, TrajectorySet};
use crate::physics::system::relative_energy_change;
use crate::physics::{State, System};

/// The largest relative change of the true energy from the first to the last point of any
/// trajectory of `set`, and how many trajectories were checked: a body-point trajectory whose end
/// sits on a chart's pole has no generalised state there and is passed over.
pub fn largest_energy_change(set: &TrajectorySet, sys: &dyn System) -> (f64, usize) {
    let state = |i: usize, k: usize| -> Option<State> {
        let (q, v) = set.state(i, k);
        match set.meta.coordinates {
            Coordinates::Generalised => Some(State {
                q: q.to_vec(),
                v: v.to_vec(),
            }),
            Coordinates::Cartesian => sys.generalised(q, v),
        }
    };
    (0..set.n)
        .filter_map(|i| Some((state(i, 0)?, state(i, set.t - 1)?)))
        .map(|(a, b)| relative_energy_change(sys, (&a.q, &a.v), (&b.q, &b.v)))
        .fold((0.0, 0), |(worst, n), x| (f64::max(worst, x), n + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::cartesian::to_cartesian;
    use crate::data::protocol::Protocol;
    use crate::physics::system;

    /// The same trajectories keep their energy in either coordinates; a file whose last points
    /// are another trajectory's does not.
    #[test]
    fn energy_is_conserved_on_body_points_as_in_generalised_coordinates() {
        for name in ["chain-pendulum:2", "magnet-pendulum", "rotor"] {
            let sys = system(name).unwrap();
            let test = Protocol::small_test_set(sys.as_ref(), 4, 20);
            let cart = to_cartesian(&test, sys.as_ref()).unwrap();
            for set in [&test, &cart] {
                let (worst, n) = largest_energy_change(set, sys.as_ref());
                assert_eq!(n, 4, "{name}");
                assert!(worst < 1e-5, "{name} {:?}: {worst}", set.meta.coordinates);
            }
            // Swap the trajectories' ends: the check must see it.
            let mut broken = cart.clone();
            let (t, d) = (broken.t, broken.d);
            let last = |i: usize| (i * t + t - 1) * d;
            for arr in [&mut broken.q, &mut broken.v] {
                let first_end: Vec<f64> = arr[last(0)..last(0) + d].to_vec();
                arr.copy_within(last(1)..last(1) + d, last(0));
                arr[last(1)..last(1) + d].copy_from_slice(&first_end);
            }
            assert!(
                largest_energy_change(&broken, sys.as_ref()).0 > 1e-3,
                "{name}"
            );
        }
    }
}
