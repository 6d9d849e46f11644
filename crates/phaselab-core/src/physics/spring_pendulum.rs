//! N bobs hanging from the origin on springs (k = 10) in 3-D Cartesian coordinates:
//! V = g sum m_i z_i + k |x_0|^2 / 2 + sum_{i>=1} k (|x_i - x_{i-1}| - 1)^2 / 2
//! (the anchor spring has zero rest length, inner springs rest length 1, as the reference).

use super::jet::{norm3, sub3, Scalar};
use super::lagrangian::{Mechanism, NodeMass};
use super::reference_constants::node_masses;
use super::{Describe, Link, State, SystemSpec, GRAVITY};
use crate::rng::Rng;
use serde_json::json;

/// Spring constant of every spring.
pub const SPRING_K: f64 = 10.0;

pub struct SpringPendulum {
    spec: SystemSpec,
    pub masses: Vec<f64>,
    mass: NodeMass,
}

impl SpringPendulum {
    pub fn new(spec: SystemSpec) -> Self {
        let masses = node_masses(spec.n);
        SpringPendulum {
            spec,
            mass: NodeMass::diagonal(&masses),
            masses,
        }
    }

    /// Static equilibrium heights: spring i carries the weight of bobs i.. below it.
    pub fn equilibrium_heights(&self) -> Vec<f64> {
        let n = self.spec.n;
        let mut z = Vec::with_capacity(n);
        let mut prev = 0.0;
        for i in 0..n {
            let load: f64 = GRAVITY * self.masses[i..].iter().sum::<f64>();
            let rest = if i == 0 { 0.0 } else { 1.0 };
            prev -= rest + load / SPRING_K;
            z.push(prev);
        }
        z
    }
}

impl Mechanism for SpringPendulum {
    fn dof(&self) -> usize {
        3 * self.spec.n
    }
    fn node_mass(&self) -> &NodeMass {
        &self.mass
    }
    fn positions<S: Scalar>(&self, q: &[S]) -> Vec<[S; 3]> {
        q.chunks(3).map(|c| [c[0], c[1], c[2]]).collect()
    }
    fn potential<S: Scalar>(&self, _q: &[S], x: &[[S; 3]]) -> S {
        let mut v = S::cst(0.0);
        for (i, p) in x.iter().enumerate() {
            v = v + p[2].scale(GRAVITY * self.masses[i]);
            if i == 0 {
                v = v + (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).scale(0.5 * SPRING_K);
            } else {
                let stretch = norm3(sub3(*p, x[i - 1])) - S::cst(1.0);
                v = v + (stretch * stretch).scale(0.5 * SPRING_K);
            }
        }
        v
    }
}

impl Describe for SpringPendulum {
    fn spec(&self) -> SystemSpec {
        self.spec
    }
    fn angular(&self) -> Vec<bool> {
        vec![false; 3 * self.spec.n]
    }
    fn dt(&self) -> f64 {
        0.03
    }
    fn parameters(&self) -> serde_json::Value {
        json!({"masses": self.masses, "k": SPRING_K, "anchor_rest_length": 0.0, "rest_length": 1.0,
               "g": GRAVITY, "drag": self.spec.drag})
    }
    /// Reference (spring_pendulum.py): z about the hanging position + 0.8 N(0,1), every coordinate
    /// + 0.4 N(0,1), velocities 0.6 N(0,1). phaselab centres on the true static equilibrium (the
    /// reference's centre omits the inner rest lengths and reverses the masses).
    fn sample_initial(&self, rng: &mut Rng) -> State {
        let n = self.spec.n;
        let zeq = self.equilibrium_heights();
        let mut q = vec![0.0; 3 * n];
        for i in 0..n {
            q[3 * i + 2] = zeq[i] + 0.8 * rng.normal();
        }
        for qi in q.iter_mut() {
            *qi += 0.4 * rng.normal();
        }
        let v = (0..3 * n).map(|_| 0.6 * rng.normal()).collect();
        State { q, v }
    }
    fn constant_mass_matrix(&self) -> bool {
        true
    }
    /// The bobs' positions are the coordinates.
    fn coordinates_of(&self, x: &[[f64; 3]]) -> Vec<f64> {
        x.iter().flatten().copied().collect()
    }
    fn links(&self) -> Vec<Link> {
        let mut l = vec![Link::Anchor([0.0; 3], 0)];
        l.extend((1..self.spec.n).map(|i| Link::Nodes(i - 1, i)));
        l
    }
    fn drawn_nodes(&self) -> Vec<usize> {
        (0..self.spec.n).collect()
    }
}
