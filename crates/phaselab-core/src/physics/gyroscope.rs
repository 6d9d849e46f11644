//! Heavy top with its tip fixed at the origin, in ZXZ Euler angles (phi, theta, psi).
//! The centre of mass sits at R c above the tip; V = g m z_com. Shape from the reference's
//! `gyro.obj`: second moments 100 x diag(covar), c = (0, 0, 0.2217285382).

use super::body_graph::{body_point, extended_body, Constraint};
use super::jet::Scalar;
use super::lagrangian::{Mechanism, NodeMass};
use super::rigid_body::{
    euler_of_frame, extended_body_mass, frame_nodes, principal_inertia, rotate, rotation,
};
use super::{Describe, Link, State, SystemSpec, GRAVITY};
use crate::physics::spec::Family;
use crate::rng::Rng;
use serde_json::json;

/// 100 x diag of the volume-normalised second central moments of `gyro.obj` (recomputed from the
/// mesh for phaselab: off-diagonals <= 2e-9; the reference drops them too).
pub const GYRO_SECOND_MOMENTS: [f64; 3] = [0.241_378_386_1, 0.241_378_380_6, 0.036_941_541_42];
/// Centre of mass above the tip, body frame (the mesh's x, y offsets of ~3e-8 are dropped).
pub const GYRO_COM_OFFSET: [f64; 3] = [0.0, 0.0, 0.221_728_538_2];

pub struct Gyroscope {
    /// 2: what the paper's script builds (it passes num_bodies = 2 as the mass); dynamics do not depend on it.
    pub mass_value: f64,
    mass: NodeMass,
}

impl Gyroscope {
    pub fn new() -> Self {
        let m = 2.0;
        Gyroscope {
            mass_value: m,
            mass: extended_body_mass(m, GYRO_SECOND_MOMENTS),
        }
    }
}

impl Default for Gyroscope {
    fn default() -> Self {
        Self::new()
    }
}

impl Mechanism for Gyroscope {
    fn dof(&self) -> usize {
        3
    }
    fn node_mass(&self) -> &NodeMass {
        &self.mass
    }
    fn positions<S: Scalar>(&self, q: &[S]) -> Vec<[S; 3]> {
        let r = rotation(q[0], q[1], q[2]);
        frame_nodes(rotate(&r, GYRO_COM_OFFSET), &r)
    }
    fn potential<S: Scalar>(&self, _q: &[S], x: &[[S; 3]]) -> S {
        x[0][2].scale(GRAVITY * self.mass_value)
    }
}

impl Describe for Gyroscope {
    fn spec(&self) -> SystemSpec {
        SystemSpec::new(Family::Gyroscope, 1)
    }
    fn angular(&self) -> Vec<bool> {
        vec![true; 3]
    }
    fn dt(&self) -> f64 {
        0.02
    }
    fn parameters(&self) -> serde_json::Value {
        json!({"mass": self.mass_value, "second_moments": GYRO_SECOND_MOMENTS, "com_above_tip": GYRO_COM_OFFSET[2],
               "principal_inertia_about_com": principal_inertia(self.mass_value, GYRO_SECOND_MOMENTS),
               "euler": "ZXZ", "g": GRAVITY})
    }
    /// Reference (gyroscope.py): angles (U - 0.5) 3; rates (U - 0.5) 3 with dphi x 3, dtheta x 0.2,
    /// and a fast spin dpsi = +-(N + 7) 1.5.
    fn sample_initial(&self, rng: &mut Rng) -> State {
        let q: Vec<f64> = (0..3).map(|_| (rng.uniform() - 0.5) * 3.0).collect();
        let mut v: Vec<f64> = (0..3).map(|_| (rng.uniform() - 0.5) * 3.0).collect();
        v[0] *= 3.0;
        v[1] *= 0.2;
        let sign = if rng.uniform() < 0.5 { -1.0 } else { 1.0 };
        v[2] = sign * (rng.normal() + 7.0) * 1.5;
        State { q, v }
    }
    /// One extended body (centre of mass and frame tips) whose tip, the body point −c, is pinned
    /// at the origin.
    fn constraints(&self) -> Vec<Constraint> {
        let c = GYRO_COM_OFFSET;
        let mut out = extended_body(0, 3);
        out.push(Constraint::Pin {
            weights: body_point(0, [-c[0], -c[1], -c[2]]),
            at: [0.0; 3],
        });
        out
    }
    /// The Euler angles of the body frame.
    fn coordinates_of(&self, x: &[[f64; 3]]) -> Vec<f64> {
        euler_of_frame(x).to_vec()
    }
    fn links(&self) -> Vec<Link> {
        vec![Link::Anchor([0.0; 3], 0), Link::Nodes(0, 3)]
    }
    fn drawn_nodes(&self) -> Vec<usize> {
        vec![0]
    }
}
