//! N spherical pendulums (mass 1, length 1) hung from (i, 0, 0) and joined by springs (k = 10,
//! rest length 1): V = g sum z_i + sum_i k (|x_i - x_{i-1}| - 1)^2 / 2. Coordinates
//! [phi_0, theta_0, phi_1, theta_1, ...] in the rotated spherical chart.

use super::body_graph::Constraint;
use super::jet::{norm3, sub3, Scalar};
use super::lagrangian::{Mechanism, NodeMass};
use super::spherical::{angles, direction};
use super::{Describe, Link, State, SystemSpec, GRAVITY};
use crate::physics::spec::Family;
use crate::rng::Rng;
use serde_json::json;
use std::f64::consts::PI;

pub struct CoupledPendulum {
    n: usize,
    pub k: f64,
    mass: NodeMass,
}

impl CoupledPendulum {
    pub fn new(n: usize) -> Self {
        CoupledPendulum {
            n,
            k: 10.0,
            mass: NodeMass::diagonal(&vec![1.0; n]),
        }
    }
    fn anchor(i: usize) -> [f64; 3] {
        [i as f64, 0.0, 0.0]
    }
}

impl Mechanism for CoupledPendulum {
    fn dof(&self) -> usize {
        2 * self.n
    }
    fn node_mass(&self) -> &NodeMass {
        &self.mass
    }
    fn positions<S: Scalar>(&self, q: &[S]) -> Vec<[S; 3]> {
        q.chunks(2)
            .enumerate()
            .map(|(i, a)| {
                let d = direction(a[0], a[1]);
                [d[0] + S::cst(i as f64), d[1], d[2]]
            })
            .collect()
    }
    fn potential<S: Scalar>(&self, _q: &[S], x: &[[S; 3]]) -> S {
        let mut v = S::cst(0.0);
        for (i, p) in x.iter().enumerate() {
            v = v + p[2].scale(GRAVITY);
            if i > 0 {
                let s = norm3(sub3(*p, x[i - 1])) - S::cst(1.0);
                v = v + (s * s).scale(0.5 * self.k);
            }
        }
        v
    }
}

impl Describe for CoupledPendulum {
    fn spec(&self) -> SystemSpec {
        SystemSpec::new(Family::CoupledPendulum, self.n)
    }
    fn angular(&self) -> Vec<bool> {
        vec![true; 2 * self.n]
    }
    fn dt(&self) -> f64 {
        0.05
    }
    fn parameters(&self) -> serde_json::Value {
        json!({"masses": vec![1.0; self.n], "lengths": vec![1.0; self.n], "k": self.k, "rest_length": 1.0,
               "anchors": (0..self.n).map(Self::anchor).collect::<Vec<_>>(), "g": GRAVITY})
    }
    /// Reference: all angles and rates 0.3 N(0, 1), plus pi on phi and pi/2 on theta.
    fn sample_initial(&self, rng: &mut Rng) -> State {
        let mut q: Vec<f64> = (0..2 * self.n).map(|_| 0.3 * rng.normal()).collect();
        let v = (0..2 * self.n).map(|_| 0.3 * rng.normal()).collect();
        for i in 0..self.n {
            q[2 * i] += PI;
            q[2 * i + 1] += PI / 2.0;
        }
        State { q, v }
    }
    /// Bob i tethered to its pivot (i, 0, 0) at length 1 (the springs are forces, not constraints).
    fn constraints(&self) -> Vec<Constraint> {
        (0..self.n)
            .map(|i| Constraint::Tether {
                i,
                anchor: Self::anchor(i),
                length: 1.0,
            })
            .collect()
    }
    /// Each bob's spherical angles about its pivot.
    fn coordinates_of(&self, x: &[[f64; 3]]) -> Vec<f64> {
        x.iter()
            .enumerate()
            .flat_map(|(i, p)| {
                let (phi, theta) = angles(sub3(*p, Self::anchor(i)));
                [phi, theta]
            })
            .collect()
    }
    fn links(&self) -> Vec<Link> {
        let mut l: Vec<Link> = (0..self.n)
            .map(|i| Link::Anchor(Self::anchor(i), i))
            .collect();
        l.extend((1..self.n).map(|i| Link::Nodes(i - 1, i)));
        l
    }
    fn drawn_nodes(&self) -> Vec<usize> {
        (0..self.n).collect()
    }
}
