//! Energy violation: how far the true energy of predicted states strays from that of the true
//! states, Herr(i, t) = |H(pred) - H(true)| / (|H(pred)| + |H(true)|) with the system's own H
//! (momenta, not the reference's velocities), geometric mean over samples and times t >= 1.

use super::geometric_mean::{geometric_means, same_shape, MetricError};
use crate::data::TrajectorySet;
use crate::physics::System;

/// Energy violation overall and as a curve over time.
#[derive(Clone, Debug, PartialEq)]
pub struct EnergyViolation {
    pub herr: f64,
    /// Entry k - 1 is time k dt.
    pub curve: Vec<f64>,
}

/// `Herr` and its curve over time, with the true Hamiltonian of `sys`.
pub fn energy_violation(
    sys: &dyn System,
    truth: &TrajectorySet,
    pred: &TrajectorySet,
) -> Result<EnergyViolation, MetricError> {
    same_shape(truth, pred)?;
    let (herr, curve) = geometric_means(truth.n, truth.t, |i, k| {
        let (pq, pv) = pred.state(i, k);
        let (tq, tv) = truth.state(i, k);
        let (hp, ht) = (sys.energy(pq, pv), sys.energy(tq, tv));
        let den = hp.abs() + ht.abs();
        if den == 0.0 || !hp.is_finite() {
            if hp == ht {
                0.0
            } else {
                1.0
            }
        } else {
            (hp - ht).abs() / den
        }
    });
    Ok(EnergyViolation { herr, curve })
}
