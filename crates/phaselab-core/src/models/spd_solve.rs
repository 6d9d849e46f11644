//! Small symmetric positive-definite systems A X = B over a batch, written with plain tensor ops
//! (burn has no batched linear solve), so that they run and differentiate alike on flex, wgpu and
//! WebGPU. The constrained Cartesian models solve one per field evaluation: C x C with C the number
//! of constraints (at most about 15), A = DΦ M⁻¹ DΦᵀ or DΦᵀ J DΦ.
//!
//! Cholesky A = L Lᵀ a column at a time,
//!   l_j = (a_j − L_{:, <j} L_{j, <j}ᵀ) / sqrt(a_jj − |L_{j, <j}|²)   (rows ≥ j),
//! then L Y = B forwards and Lᵀ X = Y backwards, a row at a time: O(C) tensor ops of the whole
//! batch each, rather than O(C³) scalar ones.

use burn::prelude::*;

/// Rows `i..i+1` of `t` [B, C, K] as [B, 1, K].
fn row(t: &Tensor<3>, i: usize) -> Tensor<3> {
    t.clone().narrow(1, i, 1)
}

/// The Cholesky factor L [B, C, C] (lower triangular) of SPD `a` [B, C, C].
pub fn cholesky(a: Tensor<3>) -> Tensor<3> {
    let [b, c, _] = a.dims();
    let device = a.device();
    let mut cols: Vec<Tensor<3>> = Vec::with_capacity(c);
    for j in 0..c {
        // a_j − Σ_{k<j} l_k L_jk, for every row.
        let mut v = a.clone().narrow(2, j, 1);
        if j > 0 {
            let prev = Tensor::cat(cols.clone(), 2); // [B, C, j]
            let lj = row(&prev, j).swap_dims(1, 2); // [B, j, 1]
            v = v - prev.matmul(lj);
        }
        let pivot = row(&v, j).sqrt(); // [B, 1, 1]
                                       // Rows above j are zero: keep the rows from j on.
        let mut mask = vec![0f32; c];
        mask[j..].iter_mut().for_each(|m| *m = 1.0);
        let mask = Tensor::<3>::from_data(TensorData::new(mask, [1, c, 1]), &device);
        cols.push(v / pivot * mask);
    }
    let l = Tensor::cat(cols, 2);
    debug_assert_eq!(l.dims(), [b, c, c]);
    l
}

/// X [B, C, K] with A X = B for SPD `a` [B, C, C] and `rhs` [B, C, K].
pub fn spd_solve(a: Tensor<3>, rhs: Tensor<3>) -> Tensor<3> {
    let l = cholesky(a);
    upper_solve(&l, lower_solve(&l, rhs))
}

/// The factors of A = L D Lᵀ (L unit lower triangular [B, C, C], D's diagonal [B, C, 1]) of a
/// symmetric `a` whose leading minors are non-zero; it may be indefinite (no square roots):
///   d_j = a_jj − Σ_{k<j} L_jk² d_k,  L_ij = (a_ij − Σ_{k<j} L_ik L_jk d_k) / d_j.
pub fn ldl(a: Tensor<3>) -> (Tensor<3>, Tensor<3>) {
    let [_, c, _] = a.dims();
    let device = a.device();
    let mut cols: Vec<Tensor<3>> = Vec::with_capacity(c);
    let mut ds: Vec<Tensor<3>> = Vec::with_capacity(c);
    for j in 0..c {
        let mut v = a.clone().narrow(2, j, 1); // [B, C, 1]
        if j > 0 {
            let prev = Tensor::cat(cols.clone(), 2); // [B, C, j]
            let d = Tensor::cat(ds.clone(), 2); // [B, 1, j]
            let lj = (row(&prev, j) * d).swap_dims(1, 2); // [B, j, 1]
            v = v - prev.matmul(lj);
        }
        let dj = row(&v, j); // [B, 1, 1]
        let (mut below, mut unit) = (vec![0f32; c], vec![0f32; c]);
        below[j + 1..].iter_mut().for_each(|m| *m = 1.0);
        unit[j] = 1.0;
        let below = Tensor::<3>::from_data(TensorData::new(below, [1, c, 1]), &device);
        let unit = Tensor::<3>::from_data(TensorData::new(unit, [1, c, 1]), &device);
        cols.push(v / dj.clone() * below + unit);
        ds.push(dj);
    }
    (Tensor::cat(cols, 2), Tensor::cat(ds, 1))
}

/// X [B, C, K] with A X = B for a symmetric, possibly indefinite `a` [B, C, C] (`ldl`): the
/// Lagrangian NN's ∇_v∇_vᵀL, which a network may learn with either sign.
pub fn symmetric_solve(a: Tensor<3>, rhs: Tensor<3>) -> Tensor<3> {
    let (l, d) = ldl(a);
    upper_solve(&l, lower_solve(&l, rhs) / d)
}

/// Y with L Y = B for lower-triangular `l`: y_i = (b_i − L_{i, <i} Y_{<i}) / L_ii.
fn lower_solve(l: &Tensor<3>, rhs: Tensor<3>) -> Tensor<3> {
    let c = l.dims()[1];
    let mut ys: Vec<Tensor<3>> = Vec::with_capacity(c);
    for i in 0..c {
        let li = row(l, i); // [B, 1, C]
        let mut r = row(&rhs, i);
        if i > 0 {
            let prev = Tensor::cat(ys.clone(), 1); // [B, i, K]
            r = r - li.clone().narrow(2, 0, i).matmul(prev);
        }
        ys.push(r / li.narrow(2, i, 1));
    }
    Tensor::cat(ys, 1)
}

/// X with Lᵀ X = Y: x_i = (y_i − Σ_{k>i} L_ki x_k) / L_ii, from the last row up.
fn upper_solve(l: &Tensor<3>, y: Tensor<3>) -> Tensor<3> {
    let c = l.dims()[1];
    let mut xs: Vec<Tensor<3>> = Vec::with_capacity(c);
    for i in (0..c).rev() {
        let mut r = row(&y, i);
        if i + 1 < c {
            // Column i of L below the diagonal, as a row [B, 1, C − i − 1].
            let below = l
                .clone()
                .narrow(2, i, 1)
                .narrow(1, i + 1, c - i - 1)
                .swap_dims(1, 2);
            let later = Tensor::cat(xs.iter().rev().cloned().collect(), 1); // rows i+1..C
            r = r - below.matmul(later);
        }
        xs.push(r / row(l, i).narrow(2, i, 1));
    }
    xs.reverse();
    Tensor::cat(xs, 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physics::linalg::cholesky_solve;
    use crate::rng::Rng;

    /// A batch of random SPD matrices A = G Gᵀ + C I / 4 and right-hand sides, as f64.
    fn problem(b: usize, c: usize, k: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let mut rng = Rng::new(seed);
        let mut a = vec![0.0; b * c * c];
        for m in 0..b {
            let g: Vec<f64> = (0..c * c).map(|_| rng.normal()).collect();
            for i in 0..c {
                for j in 0..c {
                    let s: f64 = (0..c).map(|t| g[i * c + t] * g[j * c + t]).sum();
                    a[m * c * c + i * c + j] = s + if i == j { c as f64 / 4.0 } else { 0.0 };
                }
            }
        }
        let rhs = (0..b * c * k).map(|_| rng.normal()).collect();
        (a, rhs)
    }

    fn tensor(v: &[f64], shape: [usize; 3], dev: &Device) -> Tensor<3> {
        let v: Vec<f32> = v.iter().map(|&x| x as f32).collect();
        Tensor::from_data(TensorData::new(v, shape), dev)
    }

    /// The f64 solution, column by column.
    fn reference(a: &[f64], rhs: &[f64], b: usize, c: usize, k: usize) -> Vec<f64> {
        let mut out = vec![0.0; b * c * k];
        for m in 0..b {
            for col in 0..k {
                let mut am = a[m * c * c..(m + 1) * c * c].to_vec();
                let mut y: Vec<f64> = (0..c).map(|i| rhs[m * c * k + i * k + col]).collect();
                cholesky_solve(&mut am, &mut y, c).unwrap();
                for i in 0..c {
                    out[m * c * k + i * k + col] = y[i];
                }
            }
        }
        out
    }

    #[test]
    fn batched_solves_equal_f64_cholesky_solves() {
        let dev = Device::flex();
        for (c, k) in [(1, 1), (3, 2), (9, 1), (15, 3)] {
            let b = 7;
            let (a, rhs) = problem(b, c, k, c as u64);
            let x = spd_solve(tensor(&a, [b, c, c], &dev), tensor(&rhs, [b, c, k], &dev));
            let x: Vec<f32> = x.into_data().convert::<f32>().try_into_vec().unwrap();
            let want = reference(&a, &rhs, b, c, k);
            let scale = want.iter().fold(1.0f64, |m, v| m.max(v.abs()));
            for (got, w) in x.iter().zip(&want) {
                assert!(
                    (*got as f64 - w).abs() < 2e-4 * scale,
                    "C = {c}: {got} vs {w}"
                );
            }
        }
    }

    #[test]
    fn symmetric_solves_of_indefinite_systems_leave_no_residual() {
        // A = G S Gᵀ with S = diag(±1): symmetric, indefinite, leading minors non-zero (almost
        // surely); also the SPD problems, and −A (negative definite, as a Lagrangian NN of −L).
        let dev = Device::flex();
        for (c, k) in [(1, 1), (3, 2), (5, 1), (9, 3)] {
            let b = 6;
            let mut rng = Rng::new(40 + c as u64);
            let (spd, rhs) = problem(b, c, k, c as u64);
            let mut indef = vec![0.0; b * c * c];
            for m in 0..b {
                let g: Vec<f64> = (0..c * c).map(|_| rng.normal()).collect();
                let s: Vec<f64> = (0..c)
                    .map(|t| if t % 2 == 0 { 1.0 } else { -1.0 })
                    .collect();
                for i in 0..c {
                    for j in 0..c {
                        indef[m * c * c + i * c + j] =
                            (0..c).map(|t| g[i * c + t] * s[t] * g[j * c + t]).sum();
                    }
                }
            }
            let neg: Vec<f64> = spd.iter().map(|x| -x).collect();
            for (what, a) in [("spd", &spd), ("indefinite", &indef), ("negative", &neg)] {
                let x = symmetric_solve(tensor(a, [b, c, c], &dev), tensor(&rhs, [b, c, k], &dev));
                let x: Vec<f32> = x.into_data().convert::<f32>().try_into_vec().unwrap();
                for m in 0..b {
                    let am = &a[m * c * c..(m + 1) * c * c];
                    let xm = &x[m * c * k..(m + 1) * c * k];
                    let xn = xm.iter().fold(0.0f64, |t, v| t.max((*v as f64).abs()));
                    let an = am.iter().fold(0.0f64, |t, v| t.max(v.abs()));
                    for i in 0..c {
                        for col in 0..k {
                            let ax: f64 =
                                (0..c).map(|j| am[i * c + j] * xm[j * k + col] as f64).sum();
                            let r = ax - rhs[m * c * k + i * k + col];
                            assert!(
                                r.abs() < 1e-3 * an * xn.max(1.0),
                                "{what} C = {c}: residual {r}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn its_gradient_is_the_solve_of_the_transposed_system() {
        // For S = Σ w ⊙ X with X = A⁻¹ B: ∂S/∂B = A⁻ᵀ w = A⁻¹ w and ∂S/∂A = −(A⁻¹ w) Xᵀ.
        let dev = Device::flex().autodiff();
        let (b, c, k) = (3, 5, 2);
        let (a, rhs) = problem(b, c, k, 11);
        let (_, w) = problem(b, c, k, 12);
        let at = tensor(&a, [b, c, c], &dev).require_grad();
        let bt = tensor(&rhs, [b, c, k], &dev).require_grad();
        let x = spd_solve(at.clone(), bt.clone());
        let grads = (x.clone() * tensor(&w, [b, c, k], &dev)).sum().backward();
        let gb: Vec<f32> = bt
            .grad(&grads)
            .unwrap()
            .into_data()
            .convert::<f32>()
            .try_into_vec()
            .unwrap();
        let ga: Vec<f32> = at
            .grad(&grads)
            .unwrap()
            .into_data()
            .convert::<f32>()
            .try_into_vec()
            .unwrap();
        let aw = reference(&a, &w, b, c, k); // A⁻¹ w (A symmetric)
        let xs = reference(&a, &rhs, b, c, k);
        for (got, want) in gb.iter().zip(&aw) {
            assert!(
                (*got as f64 - want).abs() < 1e-3 * want.abs().max(1.0),
                "dS/dB {got} vs {want}"
            );
        }
        for m in 0..b {
            for i in 0..c {
                for j in 0..c {
                    let want: f64 = -(0..k)
                        .map(|t| aw[m * c * k + i * k + t] * xs[m * c * k + j * k + t])
                        .sum::<f64>();
                    let got = ga[m * c * c + i * c + j] as f64;
                    // Autodiff of the factorisation sees only the lower triangle's use of A, so
                    // compare the symmetric part: (G + Gᵀ)/2 on both sides.
                    let got_t = ga[m * c * c + j * c + i] as f64;
                    let want_t: f64 = -(0..k)
                        .map(|t| aw[m * c * k + j * k + t] * xs[m * c * k + i * k + t])
                        .sum::<f64>();
                    let (g, w) = ((got + got_t) / 2.0, (want + want_t) / 2.0);
                    assert!(
                        (g - w).abs() < 2e-3 * w.abs().max(1.0),
                        "dS/dA[{i},{j}] {g} vs {w}"
                    );
                }
            }
        }
    }
}
