//! The reference's projection of a Cartesian state onto distance constraints (its
//! `project_onto_constraints`, used for the chain pendulum's initial conditions): Newton–Raphson
//! on Φ(x, v) = [|d_k|² − l_k², 2 d_k·w_k] = 0 in positions and velocities jointly, with
//! d_k = x_i − x_j, w_k = v_i − v_j, taking the minimum-norm step DΦᵀ (DΦ DΦᵀ)⁻¹ (−Φ) with every
//! entry clamped to ±RMS(z)/2, until RMS(Φ) <= 1e-5.

use super::linalg::cholesky_solve;

/// |x_i − x_j| = length, or |x_i| = length (tethered to the origin) when `j` is None.
#[derive(Clone, Copy, Debug)]
pub struct Distance {
    pub i: usize,
    pub j: Option<usize>,
    pub length: f64,
}

/// The reference's tolerance on RMS(Φ) and its iteration limit (it resamples past it).
pub const TOLERANCE: f64 = 1e-5;
pub const MAX_ITERATIONS: usize = 500;

fn diff(a: &[[f64; 2]], c: &Distance) -> [f64; 2] {
    let o = c.j.map_or([0.0; 2], |j| a[j]);
    [a[c.i][0] - o[0], a[c.i][1] - o[1]]
}

/// Φ: the m position constraints, then their m time derivatives.
fn residual(x: &[[f64; 2]], v: &[[f64; 2]], cons: &[Distance]) -> Vec<f64> {
    let pos = cons.iter().map(|c| {
        let d = diff(x, c);
        d[0] * d[0] + d[1] * d[1] - c.length * c.length
    });
    let vel = cons.iter().map(|c| {
        let (d, w) = (diff(x, c), diff(v, c));
        2.0 * (d[0] * w[0] + d[1] * w[1])
    });
    pos.chain(vel).collect()
}

/// Project planar positions x and velocities v (n nodes) onto the constraints in place.
/// Returns the iterations taken, or None when it does not converge within `MAX_ITERATIONS`
/// (the reference then draws new initial conditions).
pub fn project(x: &mut [[f64; 2]], v: &mut [[f64; 2]], cons: &[Distance]) -> Option<usize> {
    let n = x.len();
    let (m, w) = (2 * cons.len(), 4 * n);
    let rms = |a: &[f64]| (a.iter().map(|e| e * e).sum::<f64>() / a.len() as f64).sqrt();
    let flat = |x: &[[f64; 2]], v: &[[f64; 2]]| -> Vec<f64> {
        x.iter().chain(v).flat_map(|p| [p[0], p[1]]).collect()
    };
    let scale = rms(&flat(x, v));
    for it in 0..=MAX_ITERATIONS {
        let phi = residual(x, v, cons);
        if rms(&phi) <= TOLERANCE {
            return Some(it);
        }
        if it == MAX_ITERATIONS || !phi.iter().all(|p| p.is_finite()) {
            return None;
        }
        // DΦ [m, 4n] over z = [x (2n), v (2n)].
        let mut jac = vec![0.0; m * w];
        for (k, c) in cons.iter().enumerate() {
            let (d, dv) = (diff(x, c), diff(v, c));
            let mut put = |row: usize, node: usize, block: usize, g: [f64; 2], sign: f64| {
                for a in 0..2 {
                    jac[row * w + block * 2 * n + 2 * node + a] += sign * 2.0 * g[a];
                }
            };
            let row_v = cons.len() + k;
            put(k, c.i, 0, d, 1.0);
            put(row_v, c.i, 0, dv, 1.0);
            put(row_v, c.i, 1, d, 1.0);
            if let Some(j) = c.j {
                put(k, j, 0, d, -1.0);
                put(row_v, j, 0, dv, -1.0);
                put(row_v, j, 1, d, -1.0);
            }
        }
        let mut a = vec![0.0; m * m];
        for r in 0..m {
            for s in 0..m {
                a[r * m + s] = (0..w).map(|c| jac[r * w + c] * jac[s * w + c]).sum();
            }
        }
        let mut y: Vec<f64> = phi.iter().map(|p| -p).collect();
        cholesky_solve(&mut a, &mut y, m)?;
        for c in 0..w {
            let step: f64 = (0..m).map(|r| jac[r * w + c] * y[r]).sum();
            let step = step.clamp(-scale / 2.0, scale / 2.0);
            let (node, a) = ((c % (2 * n)) / 2, c % 2);
            if c < 2 * n {
                x[node][a] += step;
            } else {
                v[node][a] += step;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projects_a_perturbed_chain_onto_its_constraints() {
        let cons = [
            Distance {
                i: 0,
                j: None,
                length: 1.2,
            },
            Distance {
                i: 1,
                j: Some(0),
                length: 0.9,
            },
        ];
        let mut x = [[0.3, -1.0], [1.0, -1.6]];
        let mut v = [[0.5, 0.4], [-0.7, 1.1]];
        let it = project(&mut x, &mut v, &cons).expect("converges");
        assert!(it > 0);
        let phi = residual(&x, &v, &cons);
        assert!(phi.iter().all(|p| p.abs() < 1e-5), "{phi:?}");
        // A state already on the constraints is left where it is.
        let (x0, v0) = (x, v);
        assert_eq!(project(&mut x, &mut v, &cons), Some(0));
        assert_eq!((x, v), (x0, v0));
    }
}
