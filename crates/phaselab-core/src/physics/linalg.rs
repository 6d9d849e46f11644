//! Small dense linear algebra for mass matrices (D <= 15): Cholesky solve and least squares.

/// Solve the symmetric positive definite system A x = b in place (A is n x n, row-major).
/// Returns `None` when A is not positive definite (a coordinate singularity).
pub fn cholesky_solve(a: &mut [f64], b: &mut [f64], n: usize) -> Option<()> {
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        if !(d > 0.0) {
            return None;
        }
        let d = d.sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / d;
        }
    }
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= a[i * n + k] * b[k];
        }
        b[i] = s / a[i * n + i];
    }
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in i + 1..n {
            s -= a[k * n + i] * b[k];
        }
        b[i] = s / a[i * n + i];
    }
    Some(())
}

/// Least-squares solution of J x ~ y for a tall m x n matrix J (row-major), via the normal equations.
pub fn least_squares(j: &[f64], y: &[f64], m: usize, n: usize) -> Option<Vec<f64>> {
    let mut jtj = vec![0.0; n * n];
    let mut jty = vec![0.0; n];
    for r in 0..m {
        for a in 0..n {
            jty[a] += j[r * n + a] * y[r];
            for b in 0..n {
                jtj[a * n + b] += j[r * n + a] * j[r * n + b];
            }
        }
    }
    cholesky_solve(&mut jtj, &mut jty, n)?;
    Some(jty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_spd_system() {
        let a0 = [4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 2.0];
        let x = [1.0, -2.0, 0.5];
        let mut b: Vec<f64> = (0..3)
            .map(|i| (0..3).map(|k| a0[i * 3 + k] * x[k]).sum())
            .collect();
        let mut a = a0;
        cholesky_solve(&mut a, &mut b, 3).unwrap();
        for i in 0..3 {
            assert!((b[i] - x[i]).abs() < 1e-12);
        }
        let mut bad = [1.0, 2.0, 2.0, 1.0];
        assert!(cholesky_solve(&mut bad, &mut [1.0, 1.0], 2).is_none());
    }
}
