//! The statistics behind RESULTS.md and the figures, in one place: means with standard errors over
//! seeds, Pearson correlation, and the least-squares line on log-log axes (fig2's regression and
//! the growth exponents of the rollout errors).

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
    }
}
