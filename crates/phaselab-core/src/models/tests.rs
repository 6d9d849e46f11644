//! Mathematics of the models: hand-written derivatives against burn's autodiff, exact p <-> v
//! round trips, symplecticity of HNN fields, and conservation of an HNN's own H.

use super::dynamics::ModelConfig;
use super::kind::ModelKind;
use super::symplectic::{node_so_jacobian, symplectic_penalty};
use super::*;
use crate::rng::Rng;
use crate::solve::{Method, Solver};
use burn::prelude::*;

fn device() -> Device {
    Device::flex().autodiff()
}

fn random(n: usize, w: usize, seed: u64, scale: f64, dev: &Device) -> Tensor<2> {
    let mut r = Rng::new(seed);
    let v: Vec<f32> = (0..n * w).map(|_| (scale * r.normal()) as f32).collect();
    Tensor::from_data(TensorData::new(v, [n, w]), dev)
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn max_abs(a: &[f32]) -> f32 {
    a.iter().map(|x| x.abs()).fold(0.0, f32::max)
}

/// Rows of the Jacobian of `f` at s by first-order autodiff, in tangent layout [N, K, I].
fn autodiff_tangents(f: impl Fn(Tensor<2>) -> Tensor<2>, s: Tensor<2>) -> Vec<Vec<f32>> {
    let out_w = f(s.clone()).dims()[1];
    (0..out_w)
        .map(|i| {
            // A fresh leaf per pass: burn's backward consumes the tape of every node it reaches.
            let x = Tensor::<2>::from_data(s.to_data(), &s.device()).require_grad();
            let g = f(x.clone()).narrow(1, i, 1).sum().backward();
            to_vec(x.grad(&g).unwrap())
        })
        .collect()
}

fn config(kind: ModelKind, angular: Vec<bool>) -> ModelConfig {
    let d = angular.len();
    ModelConfig {
        width: 32,
        ..ModelConfig::new(kind, d, angular)
    }
}

#[test]
fn mlp_input_gradient_and_tangents_match_autodiff() {
    let dev = device();
    let mut rng = Rng::new(1);
    let net = mlp::Mlp::new(&[5, 16, 16, 1], false, Some(&mut rng), &dev);
    let x = random(7, 5, 2, 1.0, &dev);
    let ours = to_vec(net.input_gradient(x.clone()));
    let xg = x.clone().require_grad();
    let g = net.forward(xg.clone()).sum().backward();
    let theirs = to_vec(xg.grad(&g).unwrap());
    assert!(
        max_diff(&ours, &theirs) < 1e-5 * max_abs(&theirs).max(1.0),
        "{ours:?} vs {theirs:?}"
    );
    // Forward tangents: one direction per input coordinate = the Jacobian.
    let net3 = mlp::Mlp::new(&[5, 16, 16, 3], false, Some(&mut rng), &dev);
    let eye = Tensor::<2>::eye(5, &dev).unsqueeze::<3>().repeat_dim(0, 7);
    let (_, t) = net3.jvp(x.clone(), eye);
    let t = to_vec(t); // [7, 5, 3]
    let rows = autodiff_tangents(|z| net3.forward(z), x);
    for (i, row) in rows.iter().enumerate() {
        for b in 0..7 {
            for k in 0..5 {
                assert!(
                    (t[(b * 5 + k) * 3 + i] - row[b * 5 + k]).abs() < 1e-5,
                    "output {i} sample {b} input {k}"
                );
            }
        }
    }
}

#[test]
fn hamiltonian_fields_are_j_grad_h() {
    let dev = device();
    for (kind, angular) in [
        (ModelKind::Hnn, vec![true, true]),
        (ModelKind::Hnn, vec![false, true, false]),
        (ModelKind::HnnGeneral, vec![true, false]),
    ] {
        let m = config(kind, angular.clone()).init(&dev);
        let d = angular.len();
        let s = random(6, 2 * d, 3, 1.0, &dev);
        let ours = to_vec(m.field(s.clone()));
        let x = s.require_grad();
        let g = m.hamiltonian(x.clone()).unwrap().sum().backward();
        let grad = to_vec(x.grad(&g).unwrap());
        for b in 0..6 {
            for k in 0..d {
                let (dq, dp) = (ours[b * 2 * d + k], ours[b * 2 * d + d + k]);
                let (hq, hp) = (grad[b * 2 * d + k], grad[b * 2 * d + d + k]);
                let tol = 1e-4 * (1.0 + hq.abs().max(hp.abs()));
                assert!(
                    (dq - hp).abs() < tol && (dp + hq).abs() < tol,
                    "{kind} {angular:?}: {dq} vs {hp}, {dp} vs {}",
                    -hq
                );
            }
        }
    }
}

#[test]
fn node_so_jacobian_matches_autodiff_and_hnn_is_symplectic() {
    let dev = device();
    let angular = vec![true, false];
    let m = config(ModelKind::NodeSoSymreg, angular.clone()).init(&dev);
    let s = random(5, 4, 4, 1.0, &dev);
    let t = to_vec(node_so_jacobian(&m, s.clone())); // [5, 4, 4]
    let rows = autodiff_tangents(|z| m.field(z), s.clone());
    for (i, row) in rows.iter().enumerate() {
        for b in 0..5 {
            for k in 0..4 {
                let (a, e) = (t[(b * 4 + k) * 4 + i], row[b * 4 + k]);
                assert!(
                    (a - e).abs() < 1e-4 * (1.0 + e.abs()),
                    "dF{i}/dz{k} sample {b}: {a} vs {e}"
                );
            }
        }
    }
    // The penalty on a tangent-layout tensor built from autodiff rows: ~0 for an HNN, not for a NODE.
    let penalty = |kind: ModelKind| {
        let m = config(kind, angular.clone()).init(&dev);
        let rows = autodiff_tangents(|z| m.field(z), s.clone());
        let mut t = vec![0f32; 5 * 16];
        for (i, row) in rows.iter().enumerate() {
            for b in 0..5 {
                for k in 0..4 {
                    t[(b * 4 + k) * 4 + i] = row[b * 4 + k];
                }
            }
        }
        let tt = Tensor::<3>::from_data(TensorData::new(t, [5, 4, 4]), &dev);
        to_vec(symplectic_penalty(tt))[0]
    };
    let (p_hnn, p_node) = (penalty(ModelKind::Hnn), penalty(ModelKind::Node));
    assert!(p_hnn < 1e-9, "hnn penalty {p_hnn}");
    assert!(p_node > 1e-4, "node penalty {p_node}");
    assert!(p_hnn < 1e-4 * p_node);
}

#[test]
fn momentum_conversion_round_trips() {
    let dev = Device::flex();
    let m = config(ModelKind::NodeSo, vec![true, true, true]).init(&dev);
    let z = random(8, 6, 5, 1.0, &dev);
    let back = to_vec(m.to_data_state(m.to_model_state(z.clone())));
    let z = to_vec(z);
    assert!(
        max_diff(&back, &z) < 1e-4 * max_abs(&z),
        "{}",
        max_diff(&back, &z)
    );
}

#[test]
fn hnn_conserves_its_own_energy() {
    let dev = Device::flex();
    let m = config(ModelKind::Hnn, vec![true, true]).init(&dev);
    let z0 = random(4, 4, 6, 0.5, &dev);
    let solver = Solver {
        method: Method::Rk4,
        substeps: 4,
    };
    let (_, states) = m.rollout(z0, 50, 0.02, &solver);
    let [b, t, w] = states.dims();
    let h = to_vec(m.hamiltonian(states.reshape([b * t, w])).unwrap()); // [b*t, 1]
    for i in 0..b {
        let h0 = h[i * t];
        let drift = (0..t)
            .map(|k| (h[i * t + k] - h0).abs())
            .fold(0.0, f32::max);
        assert!(
            drift < 1e-4 * (1.0 + h0.abs()),
            "trajectory {i}: H drifted by {drift} from {h0}"
        );
    }
}

#[test]
fn stabiliser_zeroes_the_hamiltonian_field_where_the_state_is_large() {
    let dev = device();
    // Rows: a small state, and states with one coordinate or momentum beyond 1e3.
    let mut s = to_vec(random(3, 4, 5, 1.0, &dev));
    s[4] = 2e3; // row 1, q_0
    s[8 + 3] = -1.5e3; // row 2, p_1
    let s = Tensor::<2>::from_data(TensorData::new(s, [3, 4]), &dev);
    for kind in [ModelKind::Hnn, ModelKind::HnnGeneral, ModelKind::HnnForced] {
        let on = config(kind, vec![true, false]);
        assert!(on.stabiliser, "{kind}: on by default");
        let off = ModelConfig {
            stabiliser: false,
            ..on.clone()
        };
        let f_on = to_vec(on.init(&dev).field(s.clone()));
        let model_off = off.init(&dev);
        let f_off = to_vec(model_off.field(s.clone()));
        // The raw J grad H part (hnn-forced adds a free network after the stabiliser).
        let extra = model_off.extra.as_ref().map(|nn| {
            let (q, x) = crate::models::features::halves(s.clone());
            to_vec(nn.forward(Tensor::cat(vec![model_off.emb.embed(q), x], 1)))
        });
        for i in 0..12 {
            let big = i == 4 || i == 11;
            let free = extra.as_ref().map_or(0.0, |e| e[i]);
            if big {
                assert!(
                    (f_on[i] - free).abs() < 1e-6,
                    "{kind}: component {i} not zeroed"
                );
                // (hnn-general's MLP saturates on a raw momentum of 1.5e3: its field is ~0 there anyway.)
                if i == 4 || kind != ModelKind::HnnGeneral {
                    assert!(
                        (f_off[i] - free).abs() > 1e-6,
                        "{kind}: component {i} zero without it"
                    );
                }
            } else {
                assert_eq!(f_on[i], f_off[i], "{kind}: component {i} changed");
            }
        }
    }
    // Models without a Hamiltonian have no stabiliser.
    for kind in [
        ModelKind::Node,
        ModelKind::NodeSo,
        ModelKind::NodeSoDirect,
        ModelKind::NodeSoSymreg,
    ] {
        assert!(!config(kind, vec![false]).stabiliser, "{kind}");
    }
}

#[test]
fn output_biases_follow_the_reference() {
    // PyTorch's default U(+-1/sqrt(fan_in)) on every output layer but the mass network's.
    let dev = device();
    let m = config(ModelKind::HnnForced, vec![true, false]).init(&dev);
    let nonzero = |mlp: &mlp::Mlp| {
        let b = to_vec(mlp.layers.last().unwrap().b.val());
        let bound = 1.0 / (mlp.layers.last().unwrap().w.val().dims()[0] as f32).sqrt();
        assert!(b.iter().all(|x| x.abs() <= bound));
        b.iter().any(|&x| x != 0.0)
    };
    assert!(nonzero(&m.main));
    assert!(nonzero(m.extra.as_ref().unwrap()));
    assert!(!nonzero(&m.mass.as_ref().unwrap().net));
    assert!(nonzero(
        &config(ModelKind::Node, vec![false]).init(&dev).main
    ));
}

/// W^T W (rows >= cols) or W W^T (rows < cols) of a [rows, cols] row-major matrix: the Gram
/// matrix on the side where an orthogonal matrix gives a multiple of the identity.
fn gram_on_short_side(w: &[f32], rows: usize, cols: usize) -> (usize, Vec<f64>) {
    let n = rows.min(cols);
    let at = |r: usize, c: usize| w[r * cols + c] as f64;
    let mut g = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            g[i * n + j] = if rows >= cols {
                (0..rows).map(|r| at(r, i) * at(r, j)).sum()
            } else {
                (0..cols).map(|c| at(i, c) * at(j, c)).sum()
            };
        }
    }
    (n, g)
}

#[test]
fn mlp_weights_are_orthogonal_with_gain_half_and_biases_within_pytorch_bounds() {
    let dev = Device::flex();
    // Wide (5 -> 16), square (16 -> 16), tall (16 -> 3, 20 -> 8) and a single column (8 -> 1).
    for (sizes, zero_out) in [
        (vec![5, 16, 16, 3], false),
        (vec![20, 8, 1], false),
        (vec![5, 16, 16, 3], true),
    ] {
        let net = mlp::Mlp::new(&sizes, zero_out, Some(&mut Rng::new(7)), &dev);
        assert_eq!(net.layers.len(), sizes.len() - 1);
        for (k, l) in net.layers.iter().enumerate() {
            let (rows, cols) = (sizes[k], sizes[k + 1]);
            assert_eq!(l.w.val().dims(), [rows, cols]);
            let w = to_vec(l.w.val());
            let (n, g) = gram_on_short_side(&w, rows, cols);
            for i in 0..n {
                for j in 0..n {
                    let expect = if i == j { 0.25 } else { 0.0 }; // gain^2 = 0.5^2
                    assert!(
                        (g[i * n + j] - expect).abs() < 1e-5,
                        "{sizes:?} layer {k}: gram[{i}][{j}] = {} (expected {expect})",
                        g[i * n + j]
                    );
                }
            }
            let b = to_vec(l.b.val());
            assert_eq!(b.len(), cols);
            let bound = 1.0 / (rows as f32).sqrt();
            if zero_out && k + 1 == net.layers.len() {
                assert!(b.iter().all(|&x| x == 0.0), "{sizes:?}: output bias {b:?}");
            } else {
                assert!(
                    b.iter().all(|x| x.abs() <= bound),
                    "{sizes:?} layer {k}: {b:?} beyond +-{bound}"
                );
                // Drawn across the interval, not from a narrower one (16 or more draws; the
                // 1- and 3-wide output layers only need to be non-zero).
                let widest = b.iter().fold(0f32, |m, x| m.max(x.abs()));
                if cols >= 8 {
                    assert!(
                        widest > 0.6 * bound,
                        "{sizes:?} layer {k}: {widest} vs {bound}"
                    );
                }
                assert!(b.iter().all(|&x| x != 0.0), "{sizes:?} layer {k}: {b:?}");
            }
        }
    }
    // The same seed gives the same weights; another seed others.
    let a = mlp::Mlp::new(&[3, 8, 2], false, Some(&mut Rng::new(1)), &dev);
    let b = mlp::Mlp::new(&[3, 8, 2], false, Some(&mut Rng::new(1)), &dev);
    let c = mlp::Mlp::new(&[3, 8, 2], false, Some(&mut Rng::new(2)), &dev);
    assert_eq!(to_vec(a.layers[0].w.val()), to_vec(b.layers[0].w.val()));
    assert_ne!(to_vec(a.layers[0].w.val()), to_vec(c.layers[0].w.val()));
}

#[test]
fn zero_output_biases_option_and_control_models_zero_only_the_output_biases() {
    let dev = Device::flex();
    let out_bias = |m: &mlp::Mlp| to_vec(m.layers.last().unwrap().b.val());
    let hidden_bias = |m: &mlp::Mlp| to_vec(m.layers[0].b.val());
    let all_zero = |b: Vec<f32>| b.iter().all(|&x| x == 0.0);
    let none_zero = |b: Vec<f32>| b.iter().all(|&x| x != 0.0);
    // `zero_output_biases`: every network's output bias is zero (the mass network's always is),
    // the hidden biases keep PyTorch's default.
    for kind in [ModelKind::HnnForced, ModelKind::NodeSo, ModelKind::Node] {
        let on = ModelConfig {
            zero_output_biases: true,
            ..config(kind, vec![true, false])
        }
        .init(&dev);
        let off = config(kind, vec![true, false]).init(&dev);
        assert!(all_zero(out_bias(&on.main)), "{kind}: main output bias");
        assert!(
            none_zero(out_bias(&off.main)),
            "{kind}: default main output bias"
        );
        assert!(none_zero(hidden_bias(&on.main)), "{kind}: hidden bias");
        if let Some(extra) = &on.extra {
            assert!(all_zero(out_bias(extra)), "{kind}: extra output bias");
            assert!(none_zero(hidden_bias(extra)), "{kind}: extra hidden bias");
        }
        for m in [&on, &off] {
            if let Some(mass) = &m.mass {
                assert!(all_zero(out_bias(&mass.net)), "{kind}: mass output bias");
                assert!(
                    none_zero(hidden_bias(&mass.net)),
                    "{kind}: mass hidden bias"
                );
            }
        }
    }
    // The MuJoCo models (the reference's `dynamics_models.py`) zero every output bias.
    for kind in control::ControlKind::ALL {
        let m = ControlConfig {
            width: 16,
            ..ControlConfig::new(kind, 3, 2)
        }
        .init(&dev);
        for net in std::iter::once(&m.net).chain(m.force.as_ref()) {
            assert!(all_zero(out_bias(net)), "{kind}: output bias");
            assert!(none_zero(hidden_bias(net)), "{kind}: hidden bias");
            let w = to_vec(net.layers[1].w.val());
            let (n, g) = gram_on_short_side(&w, 16, 16);
            assert!(
                (0..n).all(|i| (g[i * n + i] - 0.25).abs() < 1e-5),
                "{kind}: gain"
            );
        }
    }
}

#[test]
fn standardise_is_the_population_mean_and_std_per_column_and_the_model_applies_it() {
    use control::Standardise;
    // Columns: 1..4 (mean 2.5, population variance 1.25), a constant (scale clipped at 1e-6),
    // and -2 x (mean -5, variance 5).
    let rows: Vec<f64> = [1.0, 2.0, 3.0, 4.0]
        .iter()
        .flat_map(|&x| [x, 7.0, -2.0 * x])
        .collect();
    let s = Standardise::of_columns(&rows, 3);
    let expect_loc = [2.5, 7.0, -5.0];
    let expect_scale = [1.25f64.sqrt(), 1e-6, 5f64.sqrt()];
    for c in 0..3 {
        assert!(
            (s.loc[c] - expect_loc[c]).abs() < 1e-12,
            "loc {c}: {:?}",
            s.loc
        );
        assert!(
            (s.scale[c] - expect_scale[c]).abs() < 1e-12,
            "scale {c}: {:?}",
            s.scale
        );
    }
    // In a control model: one Euler step of node is z + dt (s_out MLP((x - m_in) / s_in) + m_out).
    let dev = Device::flex();
    let (n, m) = (1, 1);
    let mut cfg = ControlConfig {
        width: 8,
        substeps: 1,
        ..ControlConfig::new(control::ControlKind::Node, n, m)
    };
    cfg.input = Standardise {
        loc: vec![0.5, -1.0, 2.0],
        scale: vec![2.0, 0.5, 4.0],
    };
    cfg.output = Standardise {
        loc: vec![0.25, -0.75],
        scale: vec![3.0, 0.1],
    };
    let model = cfg.init(&dev);
    let (z, u, dt) = ([0.3f32, -0.2], 1.5f32, 0.1);
    let z0 = Tensor::<2>::from_data(TensorData::new(z.to_vec(), [1, 2]), &dev);
    let us = Tensor::<3>::from_data(TensorData::new(vec![u, u], [1, 2, 1]), &dev);
    let next = to_vec(model.rollout(z0, us, dt)); // [1, 2, 2]
    let x: Vec<f32> = [z[0], z[1], u]
        .iter()
        .zip(cfg.input.loc.iter().zip(&cfg.input.scale))
        .map(|(&v, (&l, &s))| ((v as f64 - l) / s) as f32)
        .collect();
    let raw = to_vec(
        model
            .net
            .forward(Tensor::<2>::from_data(TensorData::new(x, [1, 3]), &dev)),
    );
    for c in 0..2 {
        let dz = raw[c] as f64 * cfg.output.scale[c] + cfg.output.loc[c];
        let expect = z[c] as f64 + dt * dz;
        assert!(
            (next[2 + c] as f64 - expect).abs() < 1e-5,
            "component {c}: {} vs {expect}",
            next[2 + c]
        );
    }
}

/// The Lagrangian networks conserve their learned energy E = v·∇_vL − L along their own
/// rollouts (as the HNN its H); the port-Hamiltonian HNN's H never rises along its rollouts and
/// falls somewhere, since dH/dt = −(∂H/∂p)ᵀ D (∂H/∂p) ≤ 0.
#[test]
fn lagrangian_networks_conserve_their_energy_and_port_hnn_only_loses_it() {
    let dev = Device::flex();
    let solver = Solver {
        method: Method::Rk4,
        substeps: 4,
    };
    let z0 = random(4, 4, 6, 0.5, &dev);
    for kind in [ModelKind::Delan, ModelKind::Lnn, ModelKind::PortHnn] {
        let m = config(kind, vec![true, true]).init(&dev);
        let (data, states) = m.rollout(z0.clone(), 50, 0.02, &solver);
        let [b, t, w] = states.dims();
        let e = match kind {
            ModelKind::PortHnn => m.hamiltonian(states.reshape([b * t, w])),
            _ => m.lagrangian_energy(data.reshape([b * t, w])),
        };
        let e = to_vec(e.unwrap());
        let mut fell = 0.0f32;
        for i in 0..b {
            let e0 = e[i * t];
            for k in 1..t {
                let (prev, now) = (e[i * t + k - 1], e[i * t + k]);
                match kind {
                    ModelKind::PortHnn => assert!(
                        now <= prev + 1e-5 * (1.0 + e0.abs()),
                        "{kind} trajectory {i} step {k}: H rose from {prev} to {now}"
                    ),
                    _ => assert!(
                        (now - e0).abs() < 2e-4 * (1.0 + e0.abs()),
                        "{kind} trajectory {i}: E drifted from {e0} to {now}"
                    ),
                }
            }
            fell = fell.max(e0 - e[i * t + t - 1]);
        }
        if kind == ModelKind::PortHnn {
            assert!(
                fell > 1e-4,
                "{kind}: a fresh damping network dissipates ({fell})"
            );
        }
    }
}

/// d-hnn's field is J∇H plus the gradient of its dissipation network D(phi(q), p) over the whole
/// state, checked against autodiff of D.
#[test]
fn d_hnn_adds_the_gradient_of_its_dissipation_network() {
    let dev = device();
    let m = config(ModelKind::DHnn, vec![true, false]).init(&dev);
    let s = random(5, 4, 8, 0.7, &dev);
    let h = m.learned_hamiltonian().unwrap();
    let (q, p) = features::halves(s.clone());
    let extra = to_vec(m.field(s.clone()) - h.field(q, p));
    let x = Tensor::<2>::from_data(s.to_data(), &dev).require_grad();
    let (q, p) = features::halves(x.clone());
    let d = m
        .extra
        .as_ref()
        .unwrap()
        .forward(Tensor::cat(vec![m.emb.embed(q), p], 1));
    let g = d.sum().backward();
    let want = to_vec(x.grad(&g).unwrap());
    assert!(max_abs(&want) > 1e-3, "a gradient to compare");
    assert!(
        max_diff(&extra, &want) < 1e-5 * (1.0 + max_abs(&want)),
        "{:?} vs {:?}",
        extra,
        want
    );
}
