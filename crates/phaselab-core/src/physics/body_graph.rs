//! A system's Cartesian description, as in Finzi, Wang and Wilson 2020 (github.com/mfinzi/
//! constrained-hamiltonian-neural-networks, `BodyGraph`): body points x in R^(n x d) with a
//! constant mass matrix, held by holonomic constraints Φ(x) = 0. Point masses are single points;
//! an extended body is d + 1 points (its centre of mass and the tips of its unit frame) held by
//! internal distances. The constraints, their Jacobian DΦ and its time derivative are written out
//! by hand: the constrained models and their tests need them exactly, and without autodiff.
//!
//! Kinds of constraint (x_c: a fixed point, w_a: weights of a body point):
//!   distance  |x_i − x_j|² − l² = 0,        ∂/∂x_i = 2 (x_i − x_j),  d/dt ∂/∂x_i = 2 (v_i − v_j);
//!   tether    |x_i − x_c|² − l² = 0,        ∂/∂x_i = 2 (x_i − x_c),  d/dt ∂/∂x_i = 2 v_i;
//!   pin       Σ_a w_a x_a − x_c = 0 (d rows, one per axis; linear, so d/dt DΦ = 0).

use super::lagrangian::NodeMass;

/// One holonomic constraint on body points.
#[derive(Clone, Debug, PartialEq)]
pub enum Constraint {
    /// Points i and j at a fixed distance (a link, or an extended body's internal distance).
    Distance { i: usize, j: usize, length: f64 },
    /// Point i at a fixed distance from a fixed point (a pendulum's pivot).
    Tether {
        i: usize,
        anchor: [f64; 3],
        length: f64,
    },
    /// The body point Σ_a w_a x_a (the weights sum to 1) held at a fixed point: one row per axis.
    Pin {
        weights: Vec<(usize, f64)>,
        at: [f64; 3],
    },
}

impl Constraint {
    /// Scalar constraints (rows of DΦ) it contributes in `dim` dimensions.
    fn rows(&self, dim: usize) -> usize {
        match self {
            Constraint::Pin { .. } => dim,
            _ => 1,
        }
    }
}

/// Body points, their masses and their constraints. Coordinates are flattened point-major:
/// x = [x_0 (d values), x_1, ...], N = n d of them.
#[derive(Clone, Debug)]
pub struct BodyGraph {
    /// Spatial dimension d (2 for a planar chain, 3 otherwise).
    pub dim: usize,
    /// The constant mass matrix on points (M ⊗ I_d acts on x).
    pub mass: NodeMass,
    pub constraints: Vec<Constraint>,
}

impl BodyGraph {
    /// Number of body points n.
    pub fn points(&self) -> usize {
        self.mass.n_nodes
    }

    /// Cartesian coordinates N = n d.
    pub fn coordinates(&self) -> usize {
        self.points() * self.dim
    }

    /// Number of scalar constraints C.
    pub fn n_constraints(&self) -> usize {
        self.constraints.iter().map(|c| c.rows(self.dim)).sum()
    }

    /// Degrees of freedom left, N − C.
    pub fn dof(&self) -> usize {
        self.coordinates() - self.n_constraints()
    }

    fn point<'a>(&self, x: &'a [f64], i: usize) -> &'a [f64] {
        &x[i * self.dim..(i + 1) * self.dim]
    }

    /// Φ(x), C values.
    pub fn phi(&self, x: &[f64]) -> Vec<f64> {
        let d = self.dim;
        let mut out = Vec::with_capacity(self.n_constraints());
        for c in &self.constraints {
            match c {
                Constraint::Distance { i, j, length } => {
                    let (a, b) = (self.point(x, *i), self.point(x, *j));
                    let s: f64 = (0..d).map(|k| (a[k] - b[k]).powi(2)).sum();
                    out.push(s - length * length);
                }
                Constraint::Tether { i, anchor, length } => {
                    let a = self.point(x, *i);
                    let s: f64 = (0..d).map(|k| (a[k] - anchor[k]).powi(2)).sum();
                    out.push(s - length * length);
                }
                Constraint::Pin { weights, at } => {
                    for k in 0..d {
                        let p: f64 = weights.iter().map(|&(a, w)| w * x[a * d + k]).sum();
                        out.push(p - at[k]);
                    }
                }
            }
        }
        out
    }

    /// DΦ(x) = ∂Φ/∂x, row-major C x N.
    pub fn dphi(&self, x: &[f64]) -> Vec<f64> {
        self.jacobian_rows(x, false)
    }

    /// d/dt DΦ(x) along velocities v (the matrix Ġ of the constrained Lagrangian dynamics),
    /// row-major C x N: the same rows as [`Self::dphi`] with x replaced by v and fixed points by
    /// rest; zero for pins.
    pub fn dphi_dot(&self, v: &[f64]) -> Vec<f64> {
        self.jacobian_rows(v, true)
    }

    /// Rows of DΦ at `x` (with `rate`, of d/dt DΦ at velocities `x`).
    fn jacobian_rows(&self, x: &[f64], rate: bool) -> Vec<f64> {
        let (d, n) = (self.dim, self.coordinates());
        let mut out = vec![0.0; self.n_constraints() * n];
        let mut r = 0;
        for c in &self.constraints {
            match c {
                Constraint::Distance { i, j, .. } => {
                    let row = &mut out[r * n..(r + 1) * n];
                    for k in 0..d {
                        let g = 2.0 * (x[i * d + k] - x[j * d + k]);
                        row[i * d + k] += g;
                        row[j * d + k] -= g;
                    }
                }
                Constraint::Tether { i, anchor, .. } => {
                    let row = &mut out[r * n..(r + 1) * n];
                    for k in 0..d {
                        let c = if rate { 0.0 } else { anchor[k] };
                        row[i * d + k] += 2.0 * (x[i * d + k] - c);
                    }
                }
                Constraint::Pin { weights, .. } => {
                    if !rate {
                        for k in 0..d {
                            for &(a, w) in weights {
                                out[(r + k) * n + a * d + k] += w;
                            }
                        }
                    }
                }
            }
            r += c.rows(d);
        }
        out
    }

    /// Φ̇ = DΦ(x) v, C values: the velocity constraints.
    pub fn phi_dot(&self, x: &[f64], v: &[f64]) -> Vec<f64> {
        let n = self.coordinates();
        self.dphi(x)
            .chunks(n)
            .map(|row| row.iter().zip(v).map(|(a, b)| a * b).sum())
            .collect()
    }

    /// M v for point velocities v (M ⊗ I_d), N values.
    pub fn mass_times(&self, v: &[f64]) -> Vec<f64> {
        let d = self.dim;
        let mut out = vec![0.0; v.len()];
        for &(i, j, m) in &self.mass.entries {
            for k in 0..d {
                out[i * d + k] += m * v[j * d + k];
            }
        }
        out
    }
}

/// Constraints of one extended body on points `first .. first + d + 1` (centre of mass, then the
/// tips of its unit frame): |x_k − x_0| = 1 and |x_j − x_k| = √2, so the tips are an orthonormal
/// frame about the centre.
pub fn extended_body(first: usize, dim: usize) -> Vec<Constraint> {
    let mut out = Vec::new();
    for k in 1..=dim {
        out.push(Constraint::Distance {
            i: first,
            j: first + k,
            length: 1.0,
        });
    }
    for j in 1..=dim {
        for k in j + 1..=dim {
            out.push(Constraint::Distance {
                i: first + j,
                j: first + k,
                length: std::f64::consts::SQRT_2,
            });
        }
    }
    out
}

/// Weights of the body point with body-frame coordinates `c` of the extended body whose points
/// start at `first`: x_0 + Σ_k c_k (x_k − x_0), i.e. w = [1 − Σ c, c].
pub fn body_point(first: usize, c: [f64; 3]) -> Vec<(usize, f64)> {
    let mut w = vec![(first, 1.0 - c.iter().sum::<f64>())];
    w.extend(c.iter().enumerate().map(|(k, &ck)| (first + k + 1, ck)));
    w
}

#[cfg(test)]
mod tests {
    use crate::physics::system;
    use crate::rng::Rng;

    /// Every family, with the chain lengths of the CHNN repository's table.
    const SYSTEMS: [&str; 12] = [
        "chain-pendulum:1",
        "chain-pendulum:2",
        "chain-pendulum:3",
        "chain-pendulum:5",
        "chain-pendulum-drag:2",
        "coupled-pendulum:3",
        "magnet-pendulum",
        "magnet-pendulum,body=chnn",
        "gyroscope",
        "rotor",
        "rotor,body=chnn",
        "spring-pendulum:2",
    ];

    fn max_abs(a: &[f64]) -> f64 {
        a.iter().fold(0.0, |m, x| m.max(x.abs()))
    }

    /// Central differences of f along direction `dir` at x, step h.
    fn along(f: &dyn Fn(&[f64]) -> Vec<f64>, x: &[f64], dir: &[f64], h: f64) -> Vec<f64> {
        let at = |s: f64| -> Vec<f64> { x.iter().zip(dir).map(|(a, b)| a + s * b).collect() };
        let (p, m) = (f(&at(h)), f(&at(-h)));
        p.iter().zip(&m).map(|(a, b)| (a - b) / (2.0 * h)).collect()
    }

    #[test]
    fn body_points_of_every_system_keep_their_constraints_and_energy() {
        for name in SYSTEMS {
            let sys = system(name).unwrap();
            let g = sys.body_graph();
            assert_eq!(g.dof(), sys.dof(), "{name}: N − C must be D");
            let mut rng = Rng::new(3);
            for _ in 0..5 {
                let s = sys.sample_initial(&mut rng);
                let (x, v) = sys.cartesian(&s.q, &s.v);
                assert_eq!(x.len(), g.coordinates(), "{name}");
                assert!(max_abs(&g.phi(&x)) < 1e-12, "{name}: Φ = {:?}", g.phi(&x));
                assert!(max_abs(&g.phi_dot(&x, &v)) < 1e-11, "{name}: Φ̇");
                // ½ ẋᵀ M ẋ is the kinetic energy of the generalised description.
                let t: f64 = 0.5
                    * g.mass_times(&v)
                        .iter()
                        .zip(&v)
                        .map(|(a, b)| a * b)
                        .sum::<f64>();
                let (t_q, _) = sys.energy_parts(&s.q, &s.v);
                assert!(
                    (t - t_q).abs() <= 1e-12 * t_q.max(1.0),
                    "{name}: T {t} vs {t_q}"
                );
            }
        }
    }

    #[test]
    fn dphi_and_its_rate_are_the_derivatives_of_phi() {
        for name in SYSTEMS {
            let sys = system(name).unwrap();
            let g = sys.body_graph();
            let (c, n) = (g.n_constraints(), g.coordinates());
            let mut rng = Rng::new(5);
            let s = sys.sample_initial(&mut rng);
            let (x, v) = sys.cartesian(&s.q, &s.v);
            // Off the manifold too: the formulas must hold everywhere.
            let x: Vec<f64> = x.iter().map(|a| a + 0.1 * rng.normal()).collect();
            let dphi = g.dphi(&x);
            for col in 0..n {
                let mut e = vec![0.0; n];
                e[col] = 1.0;
                let fd = along(&|y| g.phi(y), &x, &e, 1e-6);
                for r in 0..c {
                    let (a, b) = (dphi[r * n + col], fd[r]);
                    assert!((a - b).abs() < 1e-7, "{name}: DΦ[{r},{col}] {a} vs {b}");
                }
            }
            // d/dt DΦ(x(t)) with ẋ = v.
            let fd = along(&|y| g.dphi(y), &x, &v, 1e-6);
            let rate = g.dphi_dot(&v);
            assert!(
                rate.iter().zip(&fd).all(|(a, b)| (a - b).abs() < 1e-6),
                "{name}: d/dt DΦ"
            );
        }
    }
}
