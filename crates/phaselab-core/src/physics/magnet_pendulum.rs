//! Spherical pendulum (length 1) swinging over two magnets, in rotated spherical angles (phi, theta).
//!
//! V = g m z + sum_i [-3 (m0 . r_i0)(m_i . r_i0) - |r_i0|^2 (m0 . m_i)] / (4 pi |r_i0|^5), with the
//! bob's dipole m0 = q r0 / |r0|^2, magnet dipoles m_i = q z-hat at (0.1 cos a_i, 0.1 sin a_i, -1.05),
//! exactly as the reference codes it (the sign of the second term differs from the textbook
//! dipole-dipole energy; we keep the reference's system).

use super::body_graph::Constraint;
use super::jet::{dot3, sub3, Scalar};
use super::lagrangian::{Mechanism, NodeMass};
use super::spherical::{angles, direction};
use super::{Describe, Link, State, SystemSpec, GRAVITY};
use crate::physics::spec::{Body, Family};
use crate::rng::Rng;
use serde_json::json;
use std::f64::consts::PI;

pub struct MagnetPendulum {
    /// Bob mass: 2, what the paper's script builds (it passes num_bodies = 2 as the mass); 3 in
    /// the CHNN repository's build.
    pub mass_value: f64,
    body: Body,
    pub length: f64,
    /// Dipole strength q.
    pub strength: f64,
    pub magnets: Vec<[f64; 3]>,
    mass: NodeMass,
}

impl MagnetPendulum {
    /// The decon-hnn code's build.
    pub fn new() -> Self {
        Self::with_body(Body::Decon)
    }

    pub fn with_body(body: Body) -> Self {
        let m = match body {
            Body::Decon => 2.0,
            Body::Chnn => 3.0,
        };
        let (l, n_magnets) = (1.0, 2);
        let magnets = (0..n_magnets)
            .map(|i| {
                let a = 2.0 * PI * i as f64 / n_magnets as f64;
                [0.1 * a.cos(), 0.1 * a.sin(), -1.05 * l]
            })
            .collect();
        MagnetPendulum {
            mass_value: m,
            body,
            length: l,
            strength: 0.3,
            magnets,
            mass: NodeMass::diagonal(&[m]),
        }
    }
}

impl Default for MagnetPendulum {
    fn default() -> Self {
        Self::new()
    }
}

impl Mechanism for MagnetPendulum {
    fn dof(&self) -> usize {
        2
    }
    fn node_mass(&self) -> &NodeMass {
        &self.mass
    }
    fn positions<S: Scalar>(&self, q: &[S]) -> Vec<[S; 3]> {
        let d = direction(q[0], q[1]);
        vec![[
            d[0].scale(self.length),
            d[1].scale(self.length),
            d[2].scale(self.length),
        ]]
    }
    fn potential<S: Scalar>(&self, _q: &[S], x: &[[S; 3]]) -> S {
        let r0 = x[0];
        let qs = self.strength;
        let r0sq = dot3(r0, r0);
        let m0 = [
            r0[0].scale(qs) / r0sq,
            r0[1].scale(qs) / r0sq,
            r0[2].scale(qs) / r0sq,
        ];
        let mut v = r0[2].scale(GRAVITY * self.mass_value);
        for mag in &self.magnets {
            let ri = [S::cst(mag[0]), S::cst(mag[1]), S::cst(mag[2])];
            let r = sub3(ri, r0);
            let rsq = dot3(r, r);
            let mi_r = r[2].scale(qs); // m_i = q z-hat
            let m0_mi = m0[2].scale(qs);
            let r5 = rsq * rsq * rsq.sqrt();
            v = v + (-(dot3(m0, r) * mi_r).scale(3.0) - rsq * m0_mi) / r5.scale(4.0 * PI);
        }
        v
    }
}

impl Describe for MagnetPendulum {
    fn spec(&self) -> SystemSpec {
        SystemSpec {
            body: self.body,
            ..SystemSpec::new(Family::MagnetPendulum, 1)
        }
    }
    fn angular(&self) -> Vec<bool> {
        vec![true, true]
    }
    fn dt(&self) -> f64 {
        0.05
    }
    fn parameters(&self) -> serde_json::Value {
        json!({"mass": self.mass_value, "length": self.length, "dipole_strength": self.strength,
               "magnets": self.magnets, "g": GRAVITY})
    }
    /// Reference: phi = pi + 0.3 N, dphi = 0.05 N, theta = pi/2 + 0.2 N, dtheta = 0.4 N.
    fn sample_initial(&self, rng: &mut Rng) -> State {
        let phi = PI + 0.3 * rng.normal();
        let dphi = 0.05 * rng.normal();
        let theta = PI / 2.0 + 0.2 * rng.normal();
        let dtheta = 0.4 * rng.normal();
        State {
            q: vec![phi, theta],
            v: vec![dphi, dtheta],
        }
    }
    /// The bob tethered to the pivot at the origin.
    fn constraints(&self) -> Vec<Constraint> {
        vec![Constraint::Tether {
            i: 0,
            anchor: [0.0; 3],
            length: self.length,
        }]
    }
    fn coordinates_of(&self, x: &[[f64; 3]]) -> Vec<f64> {
        let (phi, theta) = angles(x[0]);
        vec![phi, theta]
    }
    fn links(&self) -> Vec<Link> {
        vec![Link::Anchor([0.0; 3], 0)]
    }
    fn drawn_nodes(&self) -> Vec<usize> {
        vec![0]
    }
}
