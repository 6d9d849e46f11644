//! Relative rollout error, the paper's headline metric:
//! rel(i, t) = RMS(z_pred - z_true) / (RMS(z_true) + RMS(z_pred)) over the 2D entries of z = [q, v],
//! and `gerr` = its geometric mean over samples and times (t >= 1).

use super::geometric_mean::{geometric_means, same_shape, MetricError};
use crate::data::TrajectorySet;

/// Rollout error overall and as a curve over time.
#[derive(Clone, Debug, PartialEq)]
pub struct RolloutError {
    /// Geometric mean over samples and times 1..T.
    pub gerr: f64,
    /// Geometric mean over samples at each time 1..T (entry k - 1 is time k dt).
    pub curve: Vec<f64>,
}

fn rms(a: &[f64], b: &[f64]) -> f64 {
    ((a.iter().map(|x| x * x).sum::<f64>() + b.iter().map(|x| x * x).sum::<f64>())
        / (a.len() + b.len()) as f64)
        .sqrt()
}

fn rms_diff(pa: &[f64], pb: &[f64], ta: &[f64], tb: &[f64]) -> f64 {
    let s: f64 = pa
        .iter()
        .zip(ta)
        .chain(pb.iter().zip(tb))
        .map(|(p, t)| (p - t) * (p - t))
        .sum();
    (s / (pa.len() + pb.len()) as f64).sqrt()
}

/// Relative error of one predicted state against the true one.
pub fn relative_state_error(pred: (&[f64], &[f64]), truth: (&[f64], &[f64])) -> f64 {
    let num = rms_diff(pred.0, pred.1, truth.0, truth.1);
    let den = rms(truth.0, truth.1) + rms(pred.0, pred.1);
    if den == 0.0 {
        0.0
    } else {
        num / den
    }
}

/// `gerr` and its curve over time.
pub fn rollout_error(
    truth: &TrajectorySet,
    pred: &TrajectorySet,
) -> Result<RolloutError, MetricError> {
    same_shape(truth, pred)?;
    let (gerr, curve) = geometric_means(truth.n, truth.t, |i, k| {
        relative_state_error(pred.state(i, k), truth.state(i, k))
    });
    Ok(RolloutError { gerr, curve })
}

/// Mean squared error over samples, times 1..T and the 2D state entries.
pub fn mse(truth: &TrajectorySet, pred: &TrajectorySet) -> Result<f64, MetricError> {
    same_shape(truth, pred)?;
    let mut s = 0.0;
    for i in 0..truth.n {
        for k in 1..truth.t {
            let (pq, pv) = pred.state(i, k);
            let (tq, tv) = truth.state(i, k);
            s += pq
                .iter()
                .zip(tq)
                .chain(pv.iter().zip(tv))
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>();
        }
    }
    Ok(s / (truth.n * (truth.t - 1) * 2 * truth.d) as f64)
}

/// The chaos floor: the rollout error of the true system itself started 1e-4 away (`eps` added to
/// every initial coordinate), integrated with dopri5. No model can be expected to beat it.
pub fn chaos_floor(
    sys: &dyn crate::physics::System,
    truth: &TrajectorySet,
    eps: f64,
) -> Result<RolloutError, MetricError> {
    rollout_error(truth, &perturbed_truth(sys, truth, eps)?)
}

/// The true system's rollouts from `truth`'s initial states with `eps` added to every generalised
/// coordinate (dopri5): the chaos floor's prediction.
pub fn perturbed_truth(
    sys: &dyn crate::physics::System,
    truth: &TrajectorySet,
    eps: f64,
) -> Result<TrajectorySet, MetricError> {
    use crate::physics::simulate::{simulate, Integrator};
    use crate::physics::State;
    let mut pred = truth.clone();
    for i in 0..truth.n {
        let (q, v) = truth.state(i, 0);
        let s = State {
            q: q.iter().map(|x| x + eps).collect(),
            v: v.to_vec(),
        };
        let tr = simulate(sys, &s, truth.t, truth.dt, &Integrator::default())
            .map_err(|_| MetricError::TooShort)?;
        for (k, st) in tr.states.iter().enumerate() {
            let o = (i * truth.t + k) * truth.d;
            pred.q[o..o + truth.d].copy_from_slice(&st.q);
            pred.v[o..o + truth.d].copy_from_slice(&st.v);
        }
    }
    Ok(pred)
}
