//! Störmer–Verlet (leapfrog, kick-drift-kick) for separable H = p^T M^-1 p / 2 + V(q) in [q, v]:
//! v += h/2 a(q); q += h v; v += h/2 a(q). Symplectic, second order, bounded energy error.

/// One leapfrog step of size h; `accel(q, a)` gives a = -M^-1 grad V(q).
pub fn step<A>(accel: &mut A, q: &mut [f64], v: &mut [f64], h: f64) -> Result<(), ()>
where
    A: FnMut(&[f64], &mut [f64]) -> Result<(), ()>,
{
    let n = q.len();
    let mut a = vec![0.0; n];
    accel(q, &mut a)?;
    for i in 0..n {
        v[i] += 0.5 * h * a[i];
        q[i] += h * v[i];
    }
    accel(q, &mut a)?;
    for i in 0..n {
        v[i] += 0.5 * h * a[i];
    }
    Ok(())
}
