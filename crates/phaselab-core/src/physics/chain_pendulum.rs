//! N-link chain pendulum in the plane, in absolute link angles theta_i from the downward vertical:
//! x_i = x_{i-1} + l_i (sin theta_i, -cos theta_i), V = g sum_i m_i y_i.

use super::body_graph::Constraint;
use super::constraint_projection::{project, Distance};
use super::jet::Scalar;
use super::lagrangian::{Mechanism, NodeMass};
use super::linalg::least_squares;
use super::reference_constants::{chain_lengths, node_masses};
use super::spec::Projection;
use super::{Describe, Link, State, SystemSpec, GRAVITY};
use crate::rng::Rng;
use serde_json::json;

pub struct ChainPendulum {
    spec: SystemSpec,
    /// Node masses m_0..m_{n-1}.
    pub masses: Vec<f64>,
    /// Tether length l_0 then link lengths l_1..l_{n-1}.
    pub lengths: Vec<f64>,
    mass: NodeMass,
}

impl ChainPendulum {
    pub fn new(spec: SystemSpec) -> Self {
        let masses = node_masses(spec.n);
        ChainPendulum {
            spec,
            lengths: chain_lengths(spec.n),
            mass: NodeMass::diagonal(&masses),
            masses,
        }
    }

    /// Angles of Cartesian positions: theta_i = atan2(dx, -dy) of each link vector (a projection
    /// onto the constraint manifold for positions that do not keep the link lengths).
    pub fn angles_of(&self, x: &[[f64; 3]]) -> Vec<f64> {
        let mut prev = [0.0, 0.0];
        x.iter()
            .map(|p| {
                let (dx, dy) = (p[0] - prev[0], p[1] - prev[1]);
                prev = [p[0], p[1]];
                dx.atan2(-dy)
            })
            .collect()
    }
}

impl Mechanism for ChainPendulum {
    fn dof(&self) -> usize {
        self.spec.n
    }
    fn node_mass(&self) -> &NodeMass {
        &self.mass
    }
    fn positions<S: Scalar>(&self, q: &[S]) -> Vec<[S; 3]> {
        let mut x = S::cst(0.0);
        let mut y = S::cst(0.0);
        q.iter()
            .zip(&self.lengths)
            .map(|(&th, &l)| {
                x = x + th.sin().scale(l);
                y = y - th.cos().scale(l);
                [x, y, S::cst(0.0)]
            })
            .collect()
    }
    fn potential<S: Scalar>(&self, _q: &[S], x: &[[S; 3]]) -> S {
        x.iter()
            .zip(&self.masses)
            .fold(S::cst(0.0), |acc, (p, &m)| acc + p[1].scale(GRAVITY * m))
    }
}

impl Describe for ChainPendulum {
    fn spec(&self) -> SystemSpec {
        self.spec
    }
    fn angular(&self) -> Vec<bool> {
        vec![true; self.spec.n]
    }
    fn dt(&self) -> f64 {
        0.03
    }
    fn parameters(&self) -> serde_json::Value {
        json!({"masses": self.masses, "tether_length": self.lengths[0], "link_lengths": &self.lengths[1..],
               "g": GRAVITY, "drag": self.spec.drag})
    }
    /// Reference (chain_pendulum.py): angles and rates ~ N(0, 1), mapped to Cartesian; positions
    /// += 0.2 N(0, 1); velocities = 3 (0.5 v + 0.4 N(0, 1)); projected back onto the constraints
    /// (`ic=angles`: angles of the link vectors, least-squares angular rates; `ic=newton`: the
    /// reference's Newton projection, drawn again where it does not converge, as the reference).
    fn sample_initial(&self, rng: &mut Rng) -> State {
        loop {
            if let Some(s) = self.draw_initial(rng) {
                return s;
            }
        }
    }
    fn spatial_dim(&self) -> usize {
        2
    }
    /// Node 0 tethered to the pivot by l_0; node i held at l_i from node i − 1.
    fn constraints(&self) -> Vec<Constraint> {
        let mut c = vec![Constraint::Tether {
            i: 0,
            anchor: [0.0; 3],
            length: self.lengths[0],
        }];
        c.extend((1..self.spec.n).map(|i| Constraint::Distance {
            i: i - 1,
            j: i,
            length: self.lengths[i],
        }));
        c
    }
    fn coordinates_of(&self, x: &[[f64; 3]]) -> Vec<f64> {
        self.angles_of(x)
    }
    fn links(&self) -> Vec<Link> {
        let mut l = vec![Link::Anchor([0.0; 3], 0)];
        l.extend((1..self.spec.n).map(|i| Link::Nodes(i - 1, i)));
        l
    }
    fn drawn_nodes(&self) -> Vec<usize> {
        (0..self.spec.n).collect()
    }
    fn constant_mass_matrix(&self) -> bool {
        self.spec.n == 1
    }
}

impl ChainPendulum {
    /// One draw of `sample_initial` (None where the Newton projection does not converge).
    fn draw_initial(&self, rng: &mut Rng) -> Option<State> {
        let n = self.spec.n;
        let th: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let w: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let (xd, _) = super::lagrangian::node_velocities(self, &th, &w);
        let mut x = self.positions(&th);
        for p in x.iter_mut() {
            p[0] += 0.2 * rng.normal();
            p[1] += 0.2 * rng.normal();
        }
        let target: Vec<f64> = xd
            .iter()
            .flat_map(|p| {
                let a = 3.0 * (0.5 * p[0] + 0.4 * rng.normal());
                let b = 3.0 * (0.5 * p[1] + 0.4 * rng.normal());
                [a, b]
            })
            .collect();
        if self.spec.ic == Projection::Newton {
            return self.newton_projected(&x, &target);
        }
        let q = self.angles_of(&x);
        let (cols, _) = super::lagrangian::jacobian(self, &q);
        let mut jm = vec![0.0; 2 * n * n];
        for (k, c) in cols.iter().enumerate() {
            for i in 0..n {
                jm[(2 * i) * n + k] = c[i][0];
                jm[(2 * i + 1) * n + k] = c[i][1];
            }
        }
        // J has full column rank for any angles (each link adds an independent direction).
        let v = least_squares(&jm, &target, 2 * n, n).unwrap_or_else(|| vec![0.0; n]);
        Some(State { q, v })
    }

    /// The reference's projection of Cartesian positions x and velocities xd (flat, 2 per node),
    /// then angles theta_i of the link vectors d_i and rates (d_i x w_i) / l_i^2.
    fn newton_projected(&self, x: &[[f64; 3]], xd: &[f64]) -> Option<State> {
        let n = self.spec.n;
        let cons: Vec<Distance> = (0..n)
            .map(|i| Distance {
                i,
                j: i.checked_sub(1),
                length: self.lengths[i],
            })
            .collect();
        let mut px: Vec<[f64; 2]> = x.iter().map(|p| [p[0], p[1]]).collect();
        let mut pv: Vec<[f64; 2]> = xd.chunks(2).map(|c| [c[0], c[1]]).collect();
        project(&mut px, &mut pv, &cons)?;
        let on: Vec<[f64; 3]> = px.iter().map(|p| [p[0], p[1], 0.0]).collect();
        let q = self.angles_of(&on);
        let v = (0..n)
            .map(|i| {
                let (o, ov) = if i == 0 {
                    ([0.0; 2], [0.0; 2])
                } else {
                    (px[i - 1], pv[i - 1])
                };
                let d = [px[i][0] - o[0], px[i][1] - o[1]];
                let w = [pv[i][0] - ov[0], pv[i][1] - ov[1]];
                (d[0] * w[1] - d[1] * w[0]) / (self.lengths[i] * self.lengths[i])
            })
            .collect();
        Some(State { q, v })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physics::lagrangian::node_velocities;

    #[test]
    fn newton_projection_keeps_a_state_on_the_constraints_and_converts_it_exactly() {
        let sys = ChainPendulum::new("chain-pendulum:3,ic=newton".parse().unwrap());
        let (q, v) = (vec![0.4, -1.1, 2.5], vec![1.5, -0.3, 0.8]);
        let (xd, _) = node_velocities(&sys, &q, &v);
        let x = sys.positions(&q);
        let flat: Vec<f64> = xd.iter().flat_map(|p| [p[0], p[1]]).collect();
        let s = sys.newton_projected(&x, &flat).unwrap();
        for k in 0..3 {
            assert!(
                (s.q[k] - q[k]).abs() < 1e-9 && (s.v[k] - v[k]).abs() < 1e-9,
                "{s:?}"
            );
        }
    }

    #[test]
    fn both_projections_draw_similar_initial_conditions() {
        // The same noise projected two ways: close in distribution, not identical.
        let spread = |ic: &str| {
            let sys = ChainPendulum::new(format!("chain-pendulum:2,ic={ic}").parse().unwrap());
            let mut rng = Rng::new(3);
            let states: Vec<State> = (0..400).map(|_| sys.sample_initial(&mut rng)).collect();
            let rms = |f: &dyn Fn(&State) -> f64| {
                (states.iter().map(|s| f(s).powi(2)).sum::<f64>() / 400.0).sqrt()
            };
            (rms(&|s| s.v[0]), rms(&|s| s.v[1]), states[0].clone())
        };
        let (a0, a1, sa) = spread("angles");
        let (b0, b1, sb) = spread("newton");
        assert!(sa != sb);
        for (a, b) in [(a0, b0), (a1, b1)] {
            assert!((a / b - 1.0).abs() < 0.25, "rms rates {a} vs {b}");
        }
    }
}
