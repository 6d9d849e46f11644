//! Free rigid body (no potential): q = [x, y, z, phi, theta, psi], centre of mass and ZXZ Euler
//! angles. Shape from the reference's `rotor.obj`: second moments diag(covar), a triaxial body;
//! or (`rotor,body=chnn`) the CHNN repository's `Rotor()`, mass 3 and second moments (1, 2, 3).

use super::body_graph::{extended_body, Constraint};
use super::jet::Scalar;
use super::lagrangian::{Mechanism, NodeMass};
use super::rigid_body::{
    euler_of_frame, extended_body_mass, frame_nodes, principal_inertia, rotation,
};
use super::{Describe, Link, State, SystemSpec};
use crate::physics::spec::{Body, Family};
use crate::rng::Rng;
use serde_json::json;

/// diag of the volume-normalised second central moments of `rotor.obj` (recomputed for phaselab;
/// the largest off-diagonal, 4.1e-4 in y-z, is dropped as in the reference).
pub const ROTOR_SECOND_MOMENTS: [f64; 3] = [0.002_985_134_263, 0.099_063_365_24, 0.021_108_513_38];
/// The CHNN repository's rotor (`biases/systems/rotor.py`, `Rotor(mass=3, moments=(1,2,3))`).
pub const CHNN_ROTOR_MASS: f64 = 3.0;
pub const CHNN_ROTOR_SECOND_MOMENTS: [f64; 3] = [1.0, 2.0, 3.0];

pub struct Rotor {
    /// 2: what the paper's script builds; the motion does not depend on it.
    pub mass_value: f64,
    second_moments: [f64; 3],
    body: Body,
    mass: NodeMass,
}

impl Rotor {
    /// The decon-hnn code's rotor.
    pub fn new() -> Self {
        Self::with_body(Body::Decon)
    }

    pub fn with_body(body: Body) -> Self {
        let (m, s) = match body {
            Body::Decon => (2.0, ROTOR_SECOND_MOMENTS),
            Body::Chnn => (CHNN_ROTOR_MASS, CHNN_ROTOR_SECOND_MOMENTS),
        };
        Rotor {
            mass_value: m,
            second_moments: s,
            body,
            mass: extended_body_mass(m, s),
        }
    }
}

impl Default for Rotor {
    fn default() -> Self {
        Self::new()
    }
}

impl Mechanism for Rotor {
    fn dof(&self) -> usize {
        6
    }
    fn node_mass(&self) -> &NodeMass {
        &self.mass
    }
    fn positions<S: Scalar>(&self, q: &[S]) -> Vec<[S; 3]> {
        let r = rotation(q[3], q[4], q[5]);
        frame_nodes([q[0], q[1], q[2]], &r)
    }
    fn potential<S: Scalar>(&self, _q: &[S], _x: &[[S; 3]]) -> S {
        S::cst(0.0)
    }
}

impl Describe for Rotor {
    fn spec(&self) -> SystemSpec {
        SystemSpec {
            body: self.body,
            ..SystemSpec::new(Family::Rotor, 1)
        }
    }
    fn angular(&self) -> Vec<bool> {
        vec![false, false, false, true, true, true]
    }
    fn dt(&self) -> f64 {
        0.05
    }
    fn parameters(&self) -> serde_json::Value {
        let mut p = json!({"mass": self.mass_value, "second_moments": self.second_moments,
               "principal_inertia_about_com": principal_inertia(self.mass_value, self.second_moments),
               "euler": "ZXZ"});
        if self.body != Body::Decon {
            p["body"] = json!(self.body.name());
        }
        p
    }
    /// decon-hnn (rotor.py): [com, euler] and their rates ~ clamp(2 N(0, 1), -3, 3), com parts
    /// x 0.1; the CHNN repository's body: every one N(0, 1).
    fn sample_initial(&self, rng: &mut Rng) -> State {
        let chnn = self.body == Body::Chnn;
        let mut draw = |k: usize| {
            if chnn {
                return rng.normal();
            }
            let x = (2.0 * rng.normal()).clamp(-3.0, 3.0);
            if k < 3 {
                0.1 * x
            } else {
                x
            }
        };
        let q = (0..6).map(&mut draw).collect();
        let v = (0..6).map(&mut draw).collect();
        State { q, v }
    }
    /// One free extended body: only its internal distances.
    fn constraints(&self) -> Vec<Constraint> {
        extended_body(0, 3)
    }
    /// The centre of mass, then the Euler angles of the body frame.
    fn coordinates_of(&self, x: &[[f64; 3]]) -> Vec<f64> {
        let mut q = x[0].to_vec();
        q.extend(euler_of_frame(x));
        q
    }
    fn links(&self) -> Vec<Link> {
        vec![Link::Nodes(0, 1), Link::Nodes(0, 2), Link::Nodes(0, 3)]
    }
    fn drawn_nodes(&self) -> Vec<usize> {
        vec![0, 1, 2, 3]
    }
}
