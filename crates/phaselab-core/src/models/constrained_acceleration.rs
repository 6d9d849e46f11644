//! A system's constraints as batched tensor ops, and the constrained acceleration that CLNN and
//! the constrained NODE+SO integrate (Finzi, Wang and Wilson 2020, eq. for constrained Lagrangian
//! dynamics): with DΦ [C, N] the constraint Jacobian and Ḋ its time derivative,
//!   v̇ = f − M⁻¹ DΦᵀ λ,   (DΦ M⁻¹ DΦᵀ) λ = DΦ f + Ḋ v,
//! the acceleration closest to f in the metric M whose constraints stay satisfied to second order
//! (DΦ v̇ + Ḋ v = 0). The body graph ([`BodyGraph`]) is the f64 truth these ops are tested against.
//!
//! Distances and tethers are quadratic: Φ_r = |S_r x − c_r|² − l², with S_r the d x N operator
//! taking x_i − x_j (or x_i) and c_r the anchor, so DΦ_r = 2 (S_r x − c_r)ᵀ S_r and
//! Ḋ_r = 2 (S_r v)ᵀ S_r. Pins are linear: constant rows, Ḋ = 0.

use super::spd_solve::spd_solve;
use crate::physics::{BodyGraph, Constraint};
use burn::prelude::*;

/// The constraints of one body graph, ready to apply to batches of x [B, N]. It holds plain
/// numbers and makes its small constant tensors on the device of the states it is given, so a
/// model can carry it whatever device (or autodiff) its weights live on.
#[derive(Clone, Debug)]
pub struct ConstraintOps {
    dim: usize,
    /// Cartesian coordinates N.
    n: usize,
    /// Number of quadratic constraints Q, and linear rows L.
    q: usize,
    l: usize,
    /// S_r of every quadratic constraint, [Q, d, N].
    s: Vec<f32>,
    /// Their anchors c_r, [Q, d].
    anchors: Vec<f32>,
    /// Rows of the linear constraints, [L, N].
    linear: Vec<f32>,
    /// l² of each quadratic constraint, and the fixed point of each linear row.
    lengths_sq: Vec<f32>,
    targets: Vec<f32>,
}

impl ConstraintOps {
    pub fn new(graph: &BodyGraph) -> Self {
        let (dim, n) = (graph.dim, graph.coordinates());
        let (mut s, mut anchors, mut linear) = (Vec::new(), Vec::new(), Vec::new());
        let (mut lengths_sq, mut targets) = (Vec::new(), Vec::new());
        let mut q = 0;
        for c in &graph.constraints {
            match c {
                Constraint::Distance { i, j, length } => {
                    lengths_sq.push((length * length) as f32);
                    for k in 0..dim {
                        let mut row = vec![0f32; n];
                        row[i * dim + k] = 1.0;
                        row[j * dim + k] = -1.0;
                        s.extend(row);
                        anchors.push(0f32);
                    }
                    q += 1;
                }
                Constraint::Tether { i, anchor, length } => {
                    lengths_sq.push((length * length) as f32);
                    for k in 0..dim {
                        let mut row = vec![0f32; n];
                        row[i * dim + k] = 1.0;
                        s.extend(row);
                        anchors.push(anchor[k] as f32);
                    }
                    q += 1;
                }
                Constraint::Pin { weights, at } => {
                    for k in 0..dim {
                        targets.push(at[k] as f32);
                        let mut row = vec![0f32; n];
                        for &(a, w) in weights {
                            row[a * dim + k] += w as f32;
                        }
                        linear.extend(row);
                    }
                }
            }
        }
        let l = linear.len() / n.max(1);
        ConstraintOps {
            dim,
            n,
            q,
            l,
            s,
            anchors,
            linear,
            lengths_sq,
            targets,
        }
    }

    /// S [Q, d, N] and the anchors [1, Q, d] on `device` (None without quadratic constraints).
    fn quadratic(&self, device: &Device) -> Option<(Tensor<3>, Tensor<3>)> {
        (self.q > 0).then(|| {
            let (q, d, n) = (self.q, self.dim, self.n);
            (
                Tensor::from_data(TensorData::new(self.s.clone(), [q, d, n]), device),
                Tensor::from_data(TensorData::new(self.anchors.clone(), [1, q, d]), device),
            )
        })
    }

    /// The linear rows [1, L, N] on `device` (None without linear constraints).
    fn linear_rows(&self, device: &Device) -> Option<Tensor<3>> {
        (self.l > 0).then(|| {
            Tensor::from_data(
                TensorData::new(self.linear.clone(), [1, self.l, self.n]),
                device,
            )
        })
    }

    /// Scalar constraints C.
    pub fn count(&self) -> usize {
        self.q + self.l
    }

    /// Σ_k u[b, r, k] S_r[k, :] for u [B, Q, d]: [B, Q, N].
    fn through_s(&self, u: Tensor<3>, s: &Tensor<3>) -> Tensor<3> {
        u.swap_dims(0, 1).matmul(s.clone()).swap_dims(0, 1)
    }

    /// S_r y for every r, y [B, N]: [B, Q, d].
    fn apply_s(&self, y: Tensor<2>, s: &Tensor<3>) -> Tensor<3> {
        let [b, _] = y.dims();
        let [q, d, n] = s.dims();
        // [Q, d, N] x [N, B] -> [Q, d, B] -> [B, Q, d]
        let yt = y.transpose().unsqueeze_dim::<3>(0).expand([q, n, b]);
        s.clone().matmul(yt).permute([2, 0, 1]).reshape([b, q, d])
    }

    /// Rows of a Jacobian-like matrix [B, C, N]: the quadratic constraints' rows 2 u_r S_r, then
    /// the linear constraints' rows (zeros with `linear_zero`).
    fn rows(
        &self,
        u: Option<(Tensor<3>, Tensor<3>)>,
        b: usize,
        linear_zero: bool,
        device: &Device,
    ) -> Tensor<3> {
        let mut parts = Vec::new();
        if let Some((u, s)) = u {
            parts.push(self.through_s(u, &s).mul_scalar(2.0));
        }
        if let Some(l) = self.linear_rows(device) {
            let l = l.expand([b, self.l, self.n]);
            parts.push(if linear_zero { l.zeros_like() } else { l });
        }
        if parts.is_empty() {
            return Tensor::zeros([b, 0, self.n], device);
        }
        Tensor::cat(parts, 1)
    }

    /// Φ(x) [B, C, 1] for x [B, N].
    pub fn phi(&self, x: Tensor<2>) -> Tensor<3> {
        let [b, _] = x.dims();
        let device = x.device();
        let mut parts = Vec::new();
        if let Some((s, c)) = self.quadratic(&device) {
            let u = self.apply_s(x.clone(), &s) - c; // [B, Q, d]
            let l2 = Tensor::<3>::from_data(
                TensorData::new(self.lengths_sq.clone(), [1, self.q, 1]),
                &device,
            );
            parts.push(u.powf_scalar(2.0).sum_dim(2) - l2);
        }
        if let Some(l) = self.linear_rows(&device) {
            let t = Tensor::<3>::from_data(
                TensorData::new(self.targets.clone(), [1, self.l, 1]),
                &device,
            );
            let l = l.expand([b, self.l, self.n]);
            parts.push(l.matmul(x.unsqueeze_dim::<3>(2)) - t);
        }
        Tensor::cat(parts, 1)
    }

    /// DΦ(x) [B, C, N] for x [B, N].
    pub fn dphi(&self, x: Tensor<2>) -> Tensor<3> {
        let [b, _] = x.dims();
        let device = x.device();
        let u = self
            .quadratic(&device)
            .map(|(s, c)| (self.apply_s(x, &s) - c, s));
        self.rows(u, b, false, &device)
    }

    /// Ḋ(v) = d/dt DΦ(x(t)) [B, C, N] for velocities v [B, N].
    pub fn dphi_rate(&self, v: Tensor<2>) -> Tensor<3> {
        let [b, _] = v.dims();
        let device = v.device();
        let u = self
            .quadratic(&device)
            .map(|(s, _)| (self.apply_s(v, &s), s));
        self.rows(u, b, true, &device)
    }

    /// The constrained acceleration v̇ [B, N] from the unconstrained one f [B, N] at (x, v), with
    /// `minv` applying M⁻¹ to the columns of a [B, N, K] tensor. With no constraint, f. A rate
    /// α > 0 asks for DΦ v̇ + Ḋ v = −2α Φ̇ − α² Φ instead of 0 (Baumgarte's stabilisation,
    /// critically damped), so a rollout's drift off the constraints decays like t e^{−αt}
    /// instead of growing.
    pub fn accelerate(
        &self,
        x: Tensor<2>,
        v: Tensor<2>,
        f: Tensor<2>,
        minv: &dyn Fn(Tensor<3>) -> Tensor<3>,
        rate_alpha: f64,
    ) -> Tensor<2> {
        if self.count() == 0 {
            return f;
        }
        let xx = x.clone();
        let dphi = self.dphi(x); // [B, C, N]
        let rate = self.dphi_rate(v.clone());
        let minv_dt = minv(dphi.clone().swap_dims(1, 2)); // M⁻¹ DΦᵀ [B, N, C]
        let a = dphi.clone().matmul(minv_dt.clone()); // [B, C, C]
        let v = v.unsqueeze_dim::<3>(2);
        let mut rhs = dphi.clone().matmul(f.clone().unsqueeze_dim::<3>(2)) + rate.matmul(v.clone());
        if rate_alpha > 0.0 {
            let a = rate_alpha;
            rhs = rhs + dphi.matmul(v).mul_scalar(2.0 * a) + self.phi(xx).mul_scalar(a * a);
        }
        let lambda = spd_solve(a, rhs); // [B, C, 1]
        let [b, n] = f.dims();
        f - minv_dt.matmul(lambda).reshape([b, n])
    }

    /// Spatial dimension d.
    pub fn dim(&self) -> usize {
        self.dim
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physics::linalg::cholesky_solve;
    use crate::physics::system;
    use crate::rng::Rng;

    fn tensor2(v: &[f64], b: usize, n: usize, dev: &Device) -> Tensor<2> {
        let v: Vec<f32> = v.iter().map(|&x| x as f32).collect();
        Tensor::from_data(TensorData::new(v, [b, n]), dev)
    }

    fn vec_of<const D: usize>(t: Tensor<D>) -> Vec<f64> {
        let v: Vec<f32> = t.into_data().convert::<f32>().try_into_vec().unwrap();
        v.into_iter().map(f64::from).collect()
    }

    /// States of `name` as body points (a batch of 4), and a random force.
    fn states(name: &str) -> (BodyGraph, Vec<f64>, Vec<f64>, Vec<f64>) {
        let sys = system(name).unwrap();
        let g = sys.body_graph();
        let mut rng = Rng::new(9);
        let (mut x, mut v, mut f) = (vec![], vec![], vec![]);
        for _ in 0..4 {
            let s = sys.sample_initial(&mut rng);
            let (a, b) = sys.cartesian(&s.q, &s.v);
            f.extend(a.iter().map(|_| rng.normal()));
            x.extend(a);
            v.extend(b);
        }
        (g, x, v, f)
    }

    const SYSTEMS: [&str; 5] = [
        "chain-pendulum:3",
        "coupled-pendulum:3",
        "magnet-pendulum",
        "gyroscope",
        "rotor",
    ];

    #[test]
    fn constraint_jacobians_as_tensors_equal_the_body_graphs() {
        let dev = Device::flex();
        for name in SYSTEMS {
            let (g, x, v, _) = states(name);
            let n = g.coordinates();
            let ops = ConstraintOps::new(&g);
            assert_eq!(ops.count(), g.n_constraints(), "{name}");
            let dphi = vec_of(ops.dphi(tensor2(&x, 4, n, &dev)));
            let rate = vec_of(ops.dphi_rate(tensor2(&v, 4, n, &dev)));
            for b in 0..4 {
                let want = g.dphi(&x[b * n..(b + 1) * n]);
                let want_rate = g.dphi_dot(&v[b * n..(b + 1) * n]);
                let cn = want.len();
                for (k, w) in want.iter().enumerate() {
                    assert!((dphi[b * cn + k] - w).abs() < 1e-5, "{name}: DΦ");
                }
                for (k, w) in want_rate.iter().enumerate() {
                    assert!(
                        (rate[b * cn + k] - w).abs() < 1e-4 * w.abs().max(1.0),
                        "{name}: Ḋ"
                    );
                }
            }
        }
    }

    #[test]
    fn the_constrained_acceleration_keeps_the_constraints_and_equals_f64() {
        let dev = Device::flex();
        for name in SYSTEMS {
            let (g, x, v, f) = states(name);
            let n = g.coordinates();
            let ops = ConstraintOps::new(&g);
            // M⁻¹ = diag(1 / (1 + 0.5 i)) over coordinates: a metric that is not the identity.
            let m: Vec<f64> = (0..n).map(|i| 1.0 + 0.5 * i as f64).collect();
            let minv_t = tensor2(&m.iter().map(|a| 1.0 / a).collect::<Vec<_>>(), 1, n, &dev)
                .reshape([1, n, 1]);
            let minv = |t: Tensor<3>| t * minv_t.clone();
            let acc = vec_of(ops.accelerate(
                tensor2(&x, 4, n, &dev),
                tensor2(&v, 4, n, &dev),
                tensor2(&f, 4, n, &dev),
                &minv,
                0.0,
            ));
            let c = g.n_constraints();
            for b in 0..4 {
                let (xb, vb, fb) = (
                    &x[b * n..(b + 1) * n],
                    &v[b * n..(b + 1) * n],
                    &f[b * n..(b + 1) * n],
                );
                let (d, dd) = (g.dphi(xb), g.dphi_dot(vb));
                // f64: A = DΦ M⁻¹ DΦᵀ, λ = A⁻¹ (DΦ f + Ḋ v), v̇ = f − M⁻¹ DΦᵀ λ.
                let mut a = vec![0.0; c * c];
                for r in 0..c {
                    for s in 0..c {
                        a[r * c + s] = (0..n).map(|k| d[r * n + k] * d[s * n + k] / m[k]).sum();
                    }
                }
                let mut lam: Vec<f64> = (0..c)
                    .map(|r| {
                        (0..n)
                            .map(|k| d[r * n + k] * fb[k] + dd[r * n + k] * vb[k])
                            .sum()
                    })
                    .collect();
                cholesky_solve(&mut a, &mut lam, c).unwrap();
                let want: Vec<f64> = (0..n)
                    .map(|k| fb[k] - (0..c).map(|r| d[r * n + k] * lam[r]).sum::<f64>() / m[k])
                    .collect();
                let got = &acc[b * n..(b + 1) * n];
                let scale = want.iter().fold(1.0f64, |s, w| s.max(w.abs()));
                for (gv, w) in got.iter().zip(&want) {
                    assert!((gv - w).abs() < 1e-3 * scale, "{name}: v̇ {gv} vs {w}");
                }
                // Second-order consistency: DΦ v̇ + Ḋ v = 0.
                for r in 0..c {
                    let s: f64 = (0..n)
                        .map(|k| d[r * n + k] * got[k] + dd[r * n + k] * vb[k])
                        .sum();
                    let size: f64 = (0..n)
                        .map(|k| (d[r * n + k] * got[k]).abs() + (dd[r * n + k] * vb[k]).abs())
                        .sum();
                    assert!(
                        s.abs() < 1e-4 * size.max(1.0),
                        "{name}: constraint {r} accelerates: {s}"
                    );
                }
            }
        }
    }

    /// Φ of `x` (a batch of 4) through the tensor ops, checked against the body graph's.
    fn ops_phi(g: &BodyGraph, x: &[f64], n: usize, dev: &Device) -> Tensor<3> {
        let phi = ConstraintOps::new(g).phi(tensor2(x, 4, n, dev));
        let got = vec_of(phi.clone());
        let c = g.n_constraints();
        for b in 0..4 {
            for (r, w) in g.phi(&x[b * n..(b + 1) * n]).iter().enumerate() {
                assert!(
                    (got[b * c + r] - w).abs() < 1e-4,
                    "Φ {} vs {w}",
                    got[b * c + r]
                );
            }
        }
        phi
    }

    #[test]
    fn stabilisation_pulls_a_state_back_onto_the_constraints() {
        // A state off the constraints (Φ ≠ 0, Φ̇ ≠ 0): the stabilised acceleration gives
        // DΦ v̇ + Ḋ v = −2α Φ̇ − α² Φ, the plain one 0.
        let dev = Device::flex();
        let (g, x, v, f) = states("chain-pendulum:3");
        let n = g.coordinates();
        let mut rng = Rng::new(4);
        let x: Vec<f64> = x.iter().map(|a| a + 0.05 * rng.normal()).collect();
        let v: Vec<f64> = v.iter().map(|a| a + 0.3 * rng.normal()).collect();
        let phi = vec_of(ops_phi(&g, &x, n, &dev));
        let ops = ConstraintOps::new(&g);
        for k in [0.0, 10.0] {
            let acc = vec_of(ops.accelerate(
                tensor2(&x, 4, n, &dev),
                tensor2(&v, 4, n, &dev),
                tensor2(&f, 4, n, &dev),
                &|t| t,
                k,
            ));
            for b in 0..4 {
                let (xb, vb) = (&x[b * n..(b + 1) * n], &v[b * n..(b + 1) * n]);
                let (d, dd) = (g.dphi(xb), g.dphi_dot(vb));
                let phi_dot = g.phi_dot(xb, vb);
                for (r, pd) in phi_dot.iter().enumerate() {
                    let lhs: f64 = (0..n)
                        .map(|j| d[r * n + j] * acc[b * n + j] + dd[r * n + j] * vb[j])
                        .sum();
                    let want = -2.0 * k * pd - k * k * phi[b * g.n_constraints() + r];
                    assert!(
                        (lhs - want).abs() < 1e-3 * want.abs().max(1.0),
                        "k = {k}: {lhs} vs {want}"
                    );
                }
            }
        }
    }
}
