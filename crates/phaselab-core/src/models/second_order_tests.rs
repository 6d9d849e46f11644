//! The second derivatives the Lagrangian networks need, checked from values alone: the MLP's
//! Hessian-vector products against central differences of its gradient, and DeLaN's and the LNN's
//! accelerations against the Euler–Lagrange equations with every derivative of the learned L taken
//! by finite differences, in f64; the fused f32 kernels and PHASELAB_PLAIN_OPS against f64.

use super::mlp::Mlp;
use super::{ModelConfig, ModelKind};
use crate::rng::Rng;
use burn::prelude::*;

const TEST: &str = "second_derivatives_and_euler_lagrange_match_finite_differences_and_plain_ops";

fn tensor<const D: usize>(v: &[f64], shape: [usize; D], dev: &Device) -> Tensor<D> {
    Tensor::<1>::from_data(TensorData::new(v.to_vec(), [v.len()]), dev).reshape(shape)
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_into_vec().unwrap()
}

fn draws(n: usize, scale: f64, rng: &mut Rng) -> Vec<f64> {
    (0..n).map(|_| scale * rng.normal()).collect()
}

/// The MLP and inputs of the Hessian-vector check: [5, 8, 8, 1], 4 inputs, 3 directions each.
fn hvp_case(dev: &Device) -> (Mlp, Vec<f64>, Vec<f64>) {
    let net = Mlp::new(&[5, 8, 8, 1], false, Some(&mut Rng::new(3)), dev);
    let mut rng = Rng::new(4);
    (
        net,
        draws(4 * 5, 1.0, &mut rng),
        draws(4 * 3 * 5, 1.0, &mut rng),
    )
}

/// The Lagrangian models and states of the Euler–Lagrange check: chain-pendulum-like angles and
/// a mixed (angle, length) pair, 3 states each.
fn lagrangian_cases(dev: &Device) -> Vec<(super::DynamicsModel, Vec<f64>)> {
    let mut out = Vec::new();
    for angular in [vec![true, true], vec![true, false]] {
        for kind in ModelKind::LAGRANGIAN {
            let mc = ModelConfig {
                width: 8,
                seed: 3,
                ..ModelConfig::new(kind, 2, angular.clone())
            };
            let mut rng = Rng::new(7);
            out.push((mc.init(dev), draws(3 * 4, 1.0, &mut rng)));
        }
    }
    out
}

/// What each mode computes: the Hessian-vector products, then each case's field.
fn compute(dev: &Device) -> Vec<Vec<f64>> {
    let (net, x, t) = hvp_case(dev);
    let (_, gt) = net.gradient_tangents(tensor(&x, [4, 5], dev), tensor(&t, [4, 3, 5], dev));
    let mut out = vec![values(gt)];
    for (model, z) in lagrangian_cases(dev) {
        out.push(values(model.field(tensor(&z, [3, 4], dev))));
    }
    out
}

fn worst(a: &[f64], b: &[f64]) -> (f64, f64) {
    let diff = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    (diff, b.iter().fold(0.0f64, |m, v| m.max(v.abs())))
}

/// The f64 checks: every derivative by central differences of values.
fn check_f64(dev: &Device) {
    let (net, x, t) = hvp_case(dev);
    let (g, gt) = net.gradient_tangents(tensor(&x, [4, 5], dev), tensor(&t, [4, 3, 5], dev));
    let (g, gt) = (values(g), values(gt));
    let grad = |x: &[f64]| values(net.input_gradient(tensor(x, [4, 5], dev)));
    assert_eq!(
        worst(&g, &grad(&x)).0,
        0.0,
        "the gradient is input_gradient's"
    );
    let h = 1e-5;
    for k in 0..3 {
        // Direction k of every input row, moved together (rows are independent).
        let step = |s: f64| -> Vec<f64> {
            let moved: Vec<f64> = (0..20)
                .map(|i| x[i] + s * t[(i / 5) * 15 + k * 5 + i % 5])
                .collect();
            grad(&moved)
        };
        let (up, down) = (step(h), step(-h));
        for row in 0..4 {
            for i in 0..5 {
                let fd = (up[row * 5 + i] - down[row * 5 + i]) / (2.0 * h);
                let got = gt[row * 15 + k * 5 + i];
                assert!(
                    (fd - got).abs() < 1e-7 * (1.0 + fd.abs()),
                    "H t: row {row} direction {k} input {i}: {got} vs finite difference {fd}"
                );
            }
        }
    }
    for (model, z) in lagrangian_cases(dev) {
        let kind = model.kind();
        let lag = |z: &[f64]| values(model.lagrangian(tensor(z, [1, 4], dev)).unwrap())[0];
        let field = values(model.field(tensor(&z, [3, 4], dev)));
        for row in 0..3 {
            let s: Vec<f64> = z[row * 4..row * 4 + 4].to_vec();
            let at = |moves: &[(usize, f64)]| {
                let mut m = s.clone();
                moves.iter().for_each(|&(i, d)| m[i] += d);
                lag(&m)
            };
            let (h1, h2) = (1e-6, 1e-4);
            let d1 = |i: usize| (at(&[(i, h1)]) - at(&[(i, -h1)])) / (2.0 * h1);
            let d2 = |i: usize, j: usize| {
                (at(&[(i, h2), (j, h2)]) - at(&[(i, h2), (j, -h2)]) - at(&[(i, -h2), (j, h2)])
                    + at(&[(i, -h2), (j, -h2)]))
                    / (4.0 * h2 * h2)
            };
            let v = [s[2], s[3]];
            let a = [field[row * 4 + 2], field[row * 4 + 3]];
            assert_eq!([field[row * 4], field[row * 4 + 1]], v, "{kind}: dq/dt = v");
            // Euler–Lagrange, row i: Σ_j ∂²L/∂v_i∂v_j a_j + Σ_j ∂²L/∂v_i∂q_j v_j = ∂L/∂q_i.
            for i in 0..2 {
                let lhs: f64 = (0..2)
                    .map(|j| d2(2 + i, 2 + j) * a[j] + d2(2 + i, j) * v[j])
                    .sum();
                let rhs = d1(i);
                assert!(
                    (lhs - rhs).abs() < 1e-5 * (1.0 + rhs.abs()),
                    "{kind} state {row}: Euler–Lagrange row {i}: {lhs} vs ∂L/∂q {rhs}"
                );
            }
        }
    }
}

#[test]
fn second_derivatives_and_euler_lagrange_match_finite_differences_and_plain_ops() {
    let mode = crate::test_child::mode();
    if mode.as_deref() == Some("f64") {
        let dev = crate::test_child::flex_f64();
        check_f64(&dev);
        crate::test_child::write(&compute(&dev));
        return;
    }
    let ours = compute(&Device::flex());
    if mode.as_deref() == Some("plain") {
        crate::test_child::write(&ours);
        return;
    }
    let name = format!("{}::{TEST}", module_path!().split_once("::").unwrap().1);
    let exact: Vec<Vec<f64>> = crate::test_child::run(&name, "f64");
    let plain: Vec<Vec<f64>> = crate::test_child::run(&name, "plain");
    for (what, got) in [("fused f32", &ours), ("plain-ops f32", &plain)] {
        for (c, (a, b)) in got.iter().zip(&exact).enumerate() {
            let (diff, scale) = worst(a, b);
            assert!(
                diff <= 1e-4 * scale.max(1.0),
                "case {c}: {what} differs from f64 by {diff} (scale {scale})"
            );
        }
    }
}

/// A population's Hessian-vector products are its members' own.
#[test]
fn stacked_members_have_their_own_hessian_vector_products() {
    let dev = Device::flex();
    let nets: Vec<Mlp> = (0..3)
        .map(|s| Mlp::new(&[4, 6, 6, 1], false, Some(&mut Rng::new(s)), &dev))
        .collect();
    let stack = Mlp::stack(&nets);
    let mut rng = Rng::new(9);
    let (x, t) = (draws(6 * 4, 1.0, &mut rng), draws(6 * 2 * 4, 1.0, &mut rng));
    let (g, gt) = stack.gradient_tangents(tensor(&x, [6, 4], &dev), tensor(&t, [6, 2, 4], &dev));
    let (g, gt) = (values(g), values(gt));
    for (k, net) in nets.iter().enumerate() {
        let rows = |v: &[f64], w: usize| v[k * 2 * w..(k + 1) * 2 * w].to_vec();
        let (gk, gtk) = net.gradient_tangents(
            tensor(&rows(&x, 4), [2, 4], &dev),
            tensor(&rows(&t, 8), [2, 2, 4], &dev),
        );
        let (d1, s1) = worst(&rows(&g, 4), &values(gk));
        let (d2, s2) = worst(&rows(&gt, 8), &values(gtk));
        assert!(
            d1 <= 1e-5 * s1.max(1.0) && d2 <= 1e-5 * s2.max(1.0),
            "member {k}: {d1} {d2}"
        );
    }
}
