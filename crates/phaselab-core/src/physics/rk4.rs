//! Classic fourth-order Runge–Kutta with fixed steps (error O(h^4)).

/// One classic RK4 step of size h from y (autonomous field f).
pub fn step<F>(f: &mut F, y: &[f64], h: f64) -> Result<Vec<f64>, ()>
where
    F: FnMut(&[f64], &mut [f64]) -> Result<(), ()>,
{
    let n = y.len();
    let mut k1 = vec![0.0; n];
    let mut k2 = vec![0.0; n];
    let mut k3 = vec![0.0; n];
    let mut k4 = vec![0.0; n];
    let mut tmp = vec![0.0; n];
    f(y, &mut k1)?;
    for i in 0..n {
        tmp[i] = y[i] + 0.5 * h * k1[i];
    }
    f(&tmp, &mut k2)?;
    for i in 0..n {
        tmp[i] = y[i] + 0.5 * h * k2[i];
    }
    f(&tmp, &mut k3)?;
    for i in 0..n {
        tmp[i] = y[i] + h * k3[i];
    }
    f(&tmp, &mut k4)?;
    Ok((0..n)
        .map(|i| y[i] + h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]))
        .collect())
}
