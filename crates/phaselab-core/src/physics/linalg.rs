//! Small dense linear algebra for mass matrices (D <= 15): Cholesky solve, least squares and
//! the eigenvalues of a symmetric matrix.

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

/// The eigenvalues of the symmetric n x n matrix A (row-major), ascending, by cyclic Jacobi
/// rotations: each rotation zeroes one off-diagonal pair, and the sweeps stop once the
/// off-diagonal mass is below 1e-14 of the whole (for D <= 15, a handful of sweeps).
pub fn symmetric_eigenvalues(a: &[f64], n: usize) -> Vec<f64> {
    let mut m = a.to_vec();
    let total: f64 = m.iter().map(|x| x * x).sum();
    for _ in 0..64 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i * n + j] * m[i * n + j])
            .sum();
        if !(off > 1e-28 * total) {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = m[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                // The rotation angle θ with tan 2θ = 2 a_pq / (a_qq − a_pp).
                let theta = (m[q * n + q] - m[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (m[k * n + p], m[k * n + q]);
                    m[k * n + p] = c * akp - s * akq;
                    m[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (m[p * n + k], m[q * n + k]);
                    m[p * n + k] = c * apk - s * aqk;
                    m[q * n + k] = s * apk + c * aqk;
                }
            }
        }
    }
    let mut eig: Vec<f64> = (0..n).map(|i| m[i * n + i]).collect();
    eig.sort_by(f64::total_cmp);
    eig
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eigenvalues_of_a_symmetric_matrix_are_those_it_was_built_from() {
        // A = R diag(-2, 0.001, 3) Rᵀ with R a rotation about (1, 1, 1)/√3 by 0.7: the
        // eigenvalues come back, sign and near-zero one included, and its trace and determinant.
        let (c, s) = (0.7f64.cos(), 0.7f64.sin());
        let u = [1.0 / 3f64.sqrt(); 3];
        let mut r = [0.0; 9];
        for i in 0..3 {
            for j in 0..3 {
                let cross = match (i, j) {
                    (0, 1) => -u[2],
                    (0, 2) => u[1],
                    (1, 0) => u[2],
                    (1, 2) => -u[0],
                    (2, 0) => -u[1],
                    (2, 1) => u[0],
                    _ => 0.0,
                };
                r[i * 3 + j] = c * (i == j) as u8 as f64 + s * cross + (1.0 - c) * u[i] * u[j];
            }
        }
        let lam = [-2.0, 0.001, 3.0];
        let mut a = [0.0; 9];
        for i in 0..3 {
            for j in 0..3 {
                a[i * 3 + j] = (0..3).map(|k| r[i * 3 + k] * lam[k] * r[j * 3 + k]).sum();
            }
        }
        let eig = symmetric_eigenvalues(&a, 3);
        for (e, l) in eig.iter().zip(lam) {
            assert!((e - l).abs() < 1e-12, "{eig:?}");
        }
        assert_eq!(symmetric_eigenvalues(&[5.0], 1), vec![5.0]);
    }

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
