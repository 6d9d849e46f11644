//! What the rollout metrics share: the geometric mean over samples of a relative error at each
//! time, exp(mean_i log max(rel(i, k), 1e-7)) (the reference's floor before the log), and the
//! check that a prediction has the truth's shape.

use crate::data::TrajectorySet;

/// Floor applied to relative errors before taking logs (the reference's clamp).
pub const LOG_FLOOR: f64 = 1e-7;

/// Predictions that cannot be compared with the truth.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum MetricError {
    #[error("prediction has shape [{0}, {1}, {2}] but the truth has [{3}, {4}, {5}]")]
    Shape(usize, usize, usize, usize, usize, usize),
    #[error("need at least 2 time points to score a rollout")]
    TooShort,
}

/// Check that two sets can be compared point by point.
pub(crate) fn same_shape(truth: &TrajectorySet, pred: &TrajectorySet) -> Result<(), MetricError> {
    if (truth.n, truth.t, truth.d) != (pred.n, pred.t, pred.d) {
        return Err(MetricError::Shape(
            pred.n, pred.t, pred.d, truth.n, truth.t, truth.d,
        ));
    }
    if truth.t < 2 {
        return Err(MetricError::TooShort);
    }
    Ok(())
}

/// Geometric mean over samples of `rel(i, k)` for each time k >= 1, and over everything.
/// Returns (overall, curve) where curve[k - 1] belongs to time k.
pub(crate) fn geometric_means(
    n: usize,
    t: usize,
    rel: impl Fn(usize, usize) -> f64,
) -> (f64, Vec<f64>) {
    let mut curve = Vec::with_capacity(t - 1);
    let mut total = 0.0;
    for k in 1..t {
        let s: f64 = (0..n).map(|i| rel(i, k).max(LOG_FLOOR).ln()).sum();
        total += s;
        curve.push((s / n as f64).exp());
    }
    ((total / (n * (t - 1)) as f64).exp(), curve)
}
