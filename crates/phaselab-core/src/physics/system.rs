//! What a system is: the state z = [q, v], the [`System`] interface every simulated system offers
//! (its vector field dz/dt = [v, a(q, v)], energy, initial conditions and drawing), the
//! [`Describe`] part each system's file supplies, and the constants they share.

use super::body_graph::{BodyGraph, Constraint};
use super::lagrangian::{self, Mechanism, SingularMassMatrix};
use super::spec::SystemSpec;
use crate::rng::Rng;

/// Standard gravity used by every system (the reference hard-codes 9.81).
pub const GRAVITY: f64 = 9.81;

/// Default trajectory length in seconds (the paper's tau).
pub const TRAJECTORY_SECONDS: f64 = 10.0;

/// A point in state space: generalised coordinates and their time derivatives.
#[derive(Clone, Debug, PartialEq)]
pub struct State {
    pub q: Vec<f64>,
    pub v: Vec<f64>,
}

impl State {
    /// The flat vector z = [q, v].
    pub fn to_z(&self) -> Vec<f64> {
        let mut z = self.q.clone();
        z.extend_from_slice(&self.v);
        z
    }
    pub fn from_z(z: &[f64]) -> Self {
        let d = z.len() / 2;
        State {
            q: z[..d].to_vec(),
            v: z[d..].to_vec(),
        }
    }
}

/// A line to draw between two points: a fixed anchor and a node, or two nodes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Link {
    Anchor([f64; 3], usize),
    Nodes(usize, usize),
}

/// What each concrete system says about itself beyond its mechanics.
pub trait Describe {
    fn spec(&self) -> SystemSpec;
    /// Which generalised coordinates are angles (fed to networks as cos, sin).
    fn angular(&self) -> Vec<bool>;
    /// Data time step in seconds.
    fn dt(&self) -> f64;
    /// Physical constants, for metadata and `phaselab systems`.
    fn parameters(&self) -> serde_json::Value;
    /// One initial condition drawn from the reference's distribution.
    fn sample_initial(&self, rng: &mut Rng) -> State;
    /// Whether G(q) is constant, so that leapfrog applies (separable H, no drag).
    fn constant_mass_matrix(&self) -> bool {
        false
    }
    /// Lines for drawing the system.
    fn links(&self) -> Vec<Link>;
    /// Spatial dimension of the body points (2: the system moves in the x-y plane).
    fn spatial_dim(&self) -> usize {
        3
    }
    /// The holonomic constraints that hold the body points of [`Mechanism::positions`] (none:
    /// the points are the coordinates).
    fn constraints(&self) -> Vec<Constraint> {
        Vec::new()
    }
    /// Generalised coordinates q of body points x = positions(q) (angles in their principal
    /// branch; for points off the constraints, those of a nearby configuration).
    fn coordinates_of(&self, x: &[[f64; 3]]) -> Vec<f64>;
    /// Nodes that are drawn as bodies (rigid bodies hide their axis markers).
    fn drawn_nodes(&self) -> Vec<usize>;
}

/// A physical system as the rest of phaselab sees it (object safe).
pub trait System: Send + Sync {
    fn spec(&self) -> SystemSpec;
    fn name(&self) -> String {
        self.spec().to_string()
    }
    fn dof(&self) -> usize;
    fn angular(&self) -> Vec<bool>;
    fn dt(&self) -> f64;
    fn parameters(&self) -> serde_json::Value;
    fn sample_initial(&self, rng: &mut Rng) -> State;
    fn drag(&self) -> f64 {
        self.spec().drag
    }
    /// Leapfrog applies: H = p^T M^-1 p / 2 + V(q) with constant M and no drag.
    fn separable(&self) -> bool;
    /// Accelerations a(q, v).
    fn acceleration(&self, q: &[f64], v: &[f64], a: &mut [f64]) -> Result<(), SingularMassMatrix>;
    /// (kinetic, potential) energy.
    fn energy_parts(&self, q: &[f64], v: &[f64]) -> (f64, f64);
    /// Total energy H = T + V, with the true momenta (not the reference's velocity bug).
    fn energy(&self, q: &[f64], v: &[f64]) -> f64 {
        let (t, v) = self.energy_parts(q, v);
        t + v
    }
    /// Generalised momenta p = dL/dv.
    fn momentum(&self, q: &[f64], v: &[f64]) -> Vec<f64>;
    /// Cartesian positions of every node.
    fn bodies(&self, q: &[f64]) -> Vec<[f64; 3]>;
    fn links(&self) -> Vec<Link>;
    fn drawn_nodes(&self) -> Vec<usize>;
    /// The Cartesian description: body points, their mass matrix, their constraints.
    fn body_graph(&self) -> BodyGraph;
    /// Body points x = x(q) and their velocities ẋ = J(q) v, flattened point-major in the body
    /// graph's dimension.
    fn cartesian(&self, q: &[f64], v: &[f64]) -> (Vec<f64>, Vec<f64>);
    /// The generalised state of body points x and velocities ẋ (flattened as [`Self::cartesian`]
    /// gives them): q from the points, v the least-squares solution of J(q) v = ẋ. None where J
    /// loses rank (a chart's pole).
    fn generalised(&self, x: &[f64], xdot: &[f64]) -> Option<State>;

    /// The first-order field dz/dt = [v, a] on z = [q, v].
    fn field(&self, z: &[f64], dz: &mut [f64]) -> Result<(), SingularMassMatrix> {
        let d = z.len() / 2;
        dz[..d].copy_from_slice(&z[d..]);
        let (q, v) = z.split_at(d);
        self.acceleration(q, v, &mut dz[d..])
    }
}

impl<T: Mechanism + Describe> System for T {
    fn spec(&self) -> SystemSpec {
        Describe::spec(self)
    }
    fn dof(&self) -> usize {
        Mechanism::dof(self)
    }
    fn angular(&self) -> Vec<bool> {
        Describe::angular(self)
    }
    fn dt(&self) -> f64 {
        Describe::dt(self)
    }
    fn parameters(&self) -> serde_json::Value {
        Describe::parameters(self)
    }
    fn sample_initial(&self, rng: &mut Rng) -> State {
        Describe::sample_initial(self, rng)
    }
    fn separable(&self) -> bool {
        self.constant_mass_matrix() && Describe::spec(self).drag == 0.0
    }
    fn acceleration(&self, q: &[f64], v: &[f64], a: &mut [f64]) -> Result<(), SingularMassMatrix> {
        lagrangian::acceleration(self, q, v, Describe::spec(self).drag, a)
    }
    fn energy_parts(&self, q: &[f64], v: &[f64]) -> (f64, f64) {
        lagrangian::energy_parts(self, q, v)
    }
    fn momentum(&self, q: &[f64], v: &[f64]) -> Vec<f64> {
        lagrangian::momentum(self, q, v)
    }
    fn bodies(&self, q: &[f64]) -> Vec<[f64; 3]> {
        self.positions(q)
    }
    fn links(&self) -> Vec<Link> {
        Describe::links(self)
    }
    fn drawn_nodes(&self) -> Vec<usize> {
        Describe::drawn_nodes(self)
    }
    fn body_graph(&self) -> BodyGraph {
        BodyGraph {
            dim: self.spatial_dim(),
            mass: self.node_mass().clone(),
            constraints: Describe::constraints(self),
        }
    }
    fn cartesian(&self, q: &[f64], v: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let d = self.spatial_dim();
        let (xd, _) = lagrangian::node_velocities(self, q, v);
        let x = self.positions(q);
        let flat = |p: &[[f64; 3]]| p.iter().flat_map(|a| a[..d].to_vec()).collect();
        (flat(&x), flat(&xd))
    }
    fn generalised(&self, x: &[f64], xdot: &[f64]) -> Option<State> {
        let d = self.spatial_dim();
        let points: Vec<[f64; 3]> = x
            .chunks(d)
            .map(|p| {
                let mut a = [0.0; 3];
                a[..d].copy_from_slice(p);
                a
            })
            .collect();
        let q = self.coordinates_of(&points);
        let (cols, _) = lagrangian::jacobian(self, &q);
        let (n, dof) = (x.len(), cols.len());
        // J row-major N x D: row (point i, axis k), column q_c.
        let mut j = vec![0.0; n * dof];
        for (c, col) in cols.iter().enumerate() {
            for (i, p) in col.iter().enumerate() {
                for k in 0..d {
                    j[(i * d + k) * dof + c] = p[k];
                }
            }
        }
        let v = super::linalg::least_squares(&j, xdot, n, dof)?;
        v.iter().all(|a| a.is_finite()).then_some(State { q, v })
    }
}

/// How far the energy moved from (q0, v0) to (q1, v1), relative to the size of its parts at the
/// start: |H1 - H0| / max(|T0| + |V0|, 1e-12) (a check of the integrator and of data files).
pub fn relative_energy_change(
    sys: &dyn System,
    (q0, v0): (&[f64], &[f64]),
    (q1, v1): (&[f64], &[f64]),
) -> f64 {
    let (t0, p0) = sys.energy_parts(q0, v0);
    (sys.energy(q1, v1) - sys.energy(q0, v0)).abs() / (t0.abs() + p0.abs()).max(1e-12)
}
