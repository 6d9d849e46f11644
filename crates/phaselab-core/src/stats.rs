//! The statistics behind RESULTS.md and the figures, in one place: means with standard errors over
//! seeds, Pearson correlation, the least-squares line on log-log axes (fig2's regression and
//! the growth exponents of the rollout errors), and geometric means over seeds with their range.

/// Mean and standard error of the mean (sample std / sqrt(n)) over seeds; the paper's bars are plain
/// means (its notebook divides the std by n, not sqrt(n): phaselab uses the standard error).
pub fn mean_and_standard_error(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    if xs.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mean = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return (mean, 0.0);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// Pearson correlation of the pairs.
pub fn correlation(p: &[(f64, f64)]) -> f64 {
    let n = p.len() as f64;
    if p.len() < 2 {
        return f64::NAN;
    }
    let (mx, my) = (
        p.iter().map(|q| q.0).sum::<f64>() / n,
        p.iter().map(|q| q.1).sum::<f64>() / n,
    );
    let sxy: f64 = p.iter().map(|q| (q.0 - mx) * (q.1 - my)).sum();
    let sxx: f64 = p.iter().map(|q| (q.0 - mx).powi(2)).sum();
    let syy: f64 = p.iter().map(|q| (q.1 - my).powi(2)).sum();
    sxy / (sxx * syy).sqrt()
}

/// Least-squares line of log y on log x: (slope, intercept) with log10.
pub fn log_log_fit(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let p: Vec<(f64, f64)> = points
        .iter()
        .filter(|(x, y)| *x > 0.0 && *y > 0.0)
        .map(|(x, y)| (x.log10(), y.log10()))
        .collect();
    if p.len() < 2 {
        return None;
    }
    let n = p.len() as f64;
    let (mx, my) = (
        p.iter().map(|q| q.0).sum::<f64>() / n,
        p.iter().map(|q| q.1).sum::<f64>() / n,
    );
    let sxx: f64 = p.iter().map(|q| (q.0 - mx).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let slope = p.iter().map(|q| (q.0 - mx) * (q.1 - my)).sum::<f64>() / sxx;
    Some((slope, my - slope * mx))
}

/// Fig2's line through (rollout error, energy violation) pairs on log-log axes: the least-squares
/// line of log10 y on log10 x and the correlation of the (natural) logs, over the positive pairs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogLogLine {
    pub slope: f64,
    pub intercept: f64,
    pub correlation: f64,
}

pub fn log_log_line(points: &[(f64, f64)]) -> LogLogLine {
    let fit = log_log_fit(points);
    let logs: Vec<(f64, f64)> = points
        .iter()
        .filter(|p| p.0 > 0.0 && p.1 > 0.0)
        .map(|p| (p.0.ln(), p.1.ln()))
        .collect();
    LogLogLine {
        slope: fit.map_or(f64::NAN, |f| f.0),
        intercept: fit.map_or(f64::NAN, |f| f.1),
        correlation: correlation(&logs),
    }
}

/// The geometric mean over runs of curves c(t) (each sampled every `dt` from t = dt), with a
/// one-standard-deviation band in log space, and the growth exponent: the slope of log c against
/// log t. Points are (t, mean, low, high), as long as the shortest curve. None without curves.
pub fn log_band_and_growth(curves: &[(&[f64], f64)]) -> Option<(Vec<(f64, f64, f64, f64)>, f64)> {
    let len = curves.iter().map(|c| c.0.len()).min()?;
    if len == 0 {
        return None;
    }
    let mut pts = Vec::with_capacity(len);
    for k in 0..len {
        let l: Vec<f64> = curves.iter().map(|c| c.0[k].max(1e-12).ln()).collect();
        let mean = l.iter().sum::<f64>() / l.len() as f64;
        let sd = (l.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / l.len() as f64).sqrt();
        // Curves of different systems have different dt: time is the step index x the first's dt.
        let t = (k + 1) as f64 * curves[0].1;
        pts.push((t, mean.exp(), (mean - sd).exp(), (mean + sd).exp()));
    }
    let growth =
        log_log_fit(&pts.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>()).map_or(f64::NAN, |f| f.0);
    Some((pts, growth))
}

/// The geometric mean of the values floored at `floor`, with their range (over seeds, one time
/// step of a rollout): with y_i = max(x_i, floor), returns
/// (exp((ln y_1 + ... + ln y_n) / n), min_i y_i, max_i y_i). The floor keeps a zero out of the
/// logs. The sum of logs runs in order, the minimum folds from +inf and the maximum from 0, so with
/// no values the result is (NaN, +inf, 0).
pub fn geometric_mean_and_range(xs: &[f64], floor: f64) -> (f64, f64, f64) {
    let v: Vec<f64> = xs.iter().map(|x| x.max(floor)).collect();
    let g = (v.iter().map(|x| x.ln()).sum::<f64>() / v.len() as f64).exp();
    let lo = v.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = v.iter().cloned().fold(0.0, f64::max);
    (g, lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        let (m, se) = mean_and_standard_error(&[1.0, 2.0, 3.0]);
        assert!((m - 2.0).abs() < 1e-12 && (se - (1.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!((correlation(&[(1.0, 2.0), (2.0, 4.0), (3.0, 6.5)]) - 0.9986).abs() < 1e-3);
        assert!((correlation(&[(1.0, 3.0), (2.0, 2.0), (3.0, 1.0)]) + 1.0).abs() < 1e-12);
        // y = 10 x^2 on log-log axes: slope 2, intercept log10(10) = 1.
        let (slope, icpt) = log_log_fit(&[(1.0, 10.0), (10.0, 1000.0), (100.0, 1e5)]).unwrap();
        assert!((slope - 2.0).abs() < 1e-12 && (icpt - 1.0).abs() < 1e-12);
        assert!(log_log_fit(&[(1.0, 1.0)]).is_none());
        let line = log_log_line(&[(1.0, 10.0), (10.0, 1000.0), (100.0, 1e5), (-1.0, 3.0)]);
        assert!((line.slope - 2.0).abs() < 1e-12 && (line.correlation - 1.0).abs() < 1e-12);
        // c(t) = t^1.5 for two runs a factor e apart: growth 1.5, geometric mean between them.
        let a: Vec<f64> = (1..=20).map(|k| (k as f64 * 0.1).powf(1.5)).collect();
        let b: Vec<f64> = a.iter().map(|x| x * std::f64::consts::E.powi(2)).collect();
        let (pts, growth) = log_band_and_growth(&[(&a, 0.1), (&b, 0.1)]).unwrap();
        assert!((growth - 1.5).abs() < 1e-9, "{growth}");
        assert!((pts[0].1 - a[0] * std::f64::consts::E).abs() < 1e-9);
        assert!((pts[0].2 - a[0]).abs() < 1e-9 && (pts[0].3 - b[0]).abs() < 1e-9);
        assert!(log_band_and_growth(&[]).is_none());
    }

    #[test]
    fn power_laws_give_their_exponents_and_bad_points_are_left_out() {
        // y = 0.3 x^-0.7: slope -0.7, intercept log10(0.3), correlation of the logs -1; the
        // points with x <= 0 or y <= 0 do not count.
        let mut pts: Vec<(f64, f64)> = [0.01, 0.2, 1.0, 7.0, 300.0]
            .iter()
            .map(|&x: &f64| (x, 0.3 * x.powf(-0.7)))
            .collect();
        pts.extend([(0.0, 1.0), (2.0, 0.0), (3.0, -4.0)]);
        let line = log_log_line(&pts);
        assert!((line.slope + 0.7).abs() < 1e-12, "{line:?}");
        assert!((line.intercept - 0.3f64.log10()).abs() < 1e-12, "{line:?}");
        assert!((line.correlation + 1.0).abs() < 1e-12, "{line:?}");
        // Pearson on scattered pairs, against the textbook sums worked out by hand:
        // x = 1..4, y = (2, 1, 4, 3): sxy = 3, sxx = syy = 5, r = 0.6.
        let r = correlation(&[(1.0, 2.0), (2.0, 1.0), (3.0, 4.0), (4.0, 3.0)]);
        assert!((r - 0.6).abs() < 1e-12, "{r}");
        // ... and invariant to the units of either variable.
        let r2 = correlation(&[(10.0, -2.0), (20.0, -2.5), (30.0, -1.0), (40.0, -1.5)]);
        assert!((r2 - 0.6).abs() < 1e-12, "{r2}");
        // Nothing to fit: one usable point, or no spread in x.
        assert!(log_log_fit(&[(1.0, 2.0), (0.0, 3.0), (5.0, -1.0)]).is_none());
        assert!(log_log_fit(&[(2.0, 1.0), (2.0, 5.0)]).is_none());
        assert!(log_log_line(&[(1.0, 1.0)]).slope.is_nan());
        assert!(correlation(&[(1.0, 1.0)]).is_nan());
        // Growth exponents of e(t) = c t^p for three runs with different c, sampled every 0.05 s,
        // one curve longer than the others (cut to the shortest): p, whatever c and dt.
        for p in [0.5, 1.0, 2.25] {
            let curve = |c: f64, len: usize| -> Vec<f64> {
                (1..=len).map(|k| c * (k as f64 * 0.05).powf(p)).collect()
            };
            let (a, b, c) = (curve(1e-3, 30), curve(4e-3, 25), curve(0.5, 25));
            let (pts, growth) = log_band_and_growth(&[(&a, 0.05), (&b, 0.05), (&c, 0.05)]).unwrap();
            assert_eq!(pts.len(), 25);
            assert!((growth - p).abs() < 1e-9, "p = {p}: {growth}");
            // Geometric mean of the three at t = 0.05 k, and its band around it.
            let gm = (1e-3f64 * 4e-3 * 0.5).cbrt() * 0.05f64.powf(p);
            assert!((pts[0].0 - 0.05).abs() < 1e-15 && (pts[24].0 - 1.25).abs() < 1e-12);
            assert!((pts[0].1 / gm - 1.0).abs() < 1e-12, "{} vs {gm}", pts[0].1);
            assert!(pts[0].2 < pts[0].1 && pts[0].1 < pts[0].3);
            assert!(((pts[0].1 / pts[0].2) - (pts[0].3 / pts[0].1)).abs() < 1e-9);
        }
        // A zero in a curve is floored at 1e-12 rather than poisoning the logs; an empty curve
        // leaves nothing to draw.
        let z = [0.0, 1.0];
        let (pts, _) = log_band_and_growth(&[(&z, 1.0)]).unwrap();
        assert!((pts[0].1 - 1e-12).abs() < 1e-24, "{}", pts[0].1);
        assert!(log_band_and_growth(&[(&[], 1.0)]).is_none());
    }

    #[test]
    fn geometric_mean_and_range_by_hand() {
        let close = |a: f64, b: f64| (a / b - 1.0).abs() < 1e-12;
        // sqrt(2 x 8) = 4, between 2 and 8.
        let (g, lo, hi) = geometric_mean_and_range(&[2.0, 8.0], 1e-12);
        assert!(close(g, 4.0) && lo == 2.0 && hi == 8.0, "{g} {lo} {hi}");
        // (1 x 10 x 100)^(1/3) = 10, whatever the order.
        let (g, lo, hi) = geometric_mean_and_range(&[100.0, 1.0, 10.0], 1e-12);
        assert!(close(g, 10.0) && lo == 1.0 && hi == 100.0, "{g} {lo} {hi}");
        // A zero counts as the floor: (1e-12 x 1e-6 x 1e-6)^(1/3) = 1e-8, range 1e-12..1e-6.
        let (g, lo, hi) = geometric_mean_and_range(&[0.0, 1e-6, 1e-6], 1e-12);
        assert!(close(g, 1e-8) && lo == 1e-12 && hi == 1e-6, "{g} {lo} {hi}");
        // Values below the floor (negative too) all become it.
        let (g, lo, hi) = geometric_mean_and_range(&[-3.0, 1e-5, 1e-4], 1e-4);
        assert!(close(g, 1e-4) && lo == 1e-4 && hi == 1e-4, "{g} {lo} {hi}");
        // One value: itself, and its own range.
        let (g, lo, hi) = geometric_mean_and_range(&[0.5], 1e-12);
        assert!(close(g, 0.5) && lo == 0.5 && hi == 0.5, "{g} {lo} {hi}");
        // Nothing to average: NaN, and the folds' starting points.
        let (g, lo, hi) = geometric_mean_and_range(&[], 1e-12);
        assert!(g.is_nan() && lo == f64::INFINITY && hi == 0.0);
    }
}
