//! N-link chain pendulum in the plane, in absolute link angles theta_i from the downward vertical:
//! x_i = x_{i-1} + l_i (sin theta_i, -cos theta_i), V = g sum_i m_i y_i.

use super::jet::Scalar;
use super::lagrangian::{Mechanism, NodeMass};
use super::linalg::least_squares;
use super::reference_constants::{chain_lengths, node_masses};
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
    /// (angles of the link vectors; least-squares angular rates).
    fn sample_initial(&self, rng: &mut Rng) -> State {
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
        State { q, v }
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
