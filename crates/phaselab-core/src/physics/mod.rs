//! Ground-truth physics in f64, no learning framework: every system of the paper in generalised
//! coordinates z = [q, v] with v = dq/dt, and the integrators that produce trajectories.

pub mod chain_pendulum;
pub mod constraint_projection;
pub mod coupled_pendulum;
pub mod dopri5;
pub mod gyroscope;
pub mod jet;
pub mod lagrangian;
pub mod leapfrog;
pub mod linalg;
pub mod magnet_pendulum;
pub mod reference_constants;
pub mod rigid_body;
pub mod rk4;
pub mod rotor;
pub mod simulate;
pub mod spec;
pub mod spherical;
pub mod spring_pendulum;

use crate::rng::Rng;
pub use lagrangian::{Mechanism, SingularMassMatrix};
pub use spec::{Family, Projection, SpecError, SystemSpec, DEFAULT_DRAG};

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
}

/// Build the system a spec names.
pub fn build(spec: SystemSpec) -> Box<dyn System> {
    match spec.family {
        Family::ChainPendulum | Family::ChainPendulumDrag => {
            Box::new(chain_pendulum::ChainPendulum::new(spec))
        }
        Family::SpringPendulum | Family::SpringPendulumDrag => {
            Box::new(spring_pendulum::SpringPendulum::new(spec))
        }
        Family::Gyroscope => Box::new(gyroscope::Gyroscope::new()),
        Family::MagnetPendulum => Box::new(magnet_pendulum::MagnetPendulum::new()),
        Family::Rotor => Box::new(rotor::Rotor::new()),
        Family::CoupledPendulum => Box::new(coupled_pendulum::CoupledPendulum::new(spec.n)),
    }
}

/// Parse a system name and build it.
pub fn system(name: &str) -> Result<Box<dyn System>, SpecError> {
    Ok(build(name.parse()?))
}

/// One-line descriptions of every family, for listings.
pub fn family_description(f: Family) -> &'static str {
    match f {
        Family::ChainPendulum => {
            "N links in the plane, absolute link angles from the downward vertical"
        }
        Family::ChainPendulumDrag => "chain pendulum with drag dp/dt += -f p",
        Family::SpringPendulum => "N bobs on springs (k = 10) in 3-D, Cartesian coordinates",
        Family::SpringPendulumDrag => "spring pendulum with drag dp/dt += -f p",
        Family::Gyroscope => "heavy symmetric top with its tip fixed, ZXZ Euler angles",
        Family::MagnetPendulum => "spherical pendulum over two magnets, rotated spherical angles",
        Family::Rotor => "free rigid body: centre of mass and ZXZ Euler angles",
        Family::CoupledPendulum => "N spherical pendulums joined by springs (k = 10)",
    }
}

#[cfg(test)]
mod tests;

/// The drawn bodies of `sys` at q projected on the vertical plane, gravity pointing down the
/// second coordinate: (x, y) for planar chains, (x, z) for systems in 3-D. The pivot is (0, 0).
pub fn drawing_points(sys: &dyn System, q: &[f64]) -> Vec<[f64; 2]> {
    let planar = matches!(
        sys.spec().family,
        Family::ChainPendulum | Family::ChainPendulumDrag | Family::CoupledPendulum
    );
    let bodies = sys.bodies(q);
    sys.drawn_nodes()
        .into_iter()
        .filter_map(|i| bodies.get(i))
        .map(|b| if planar { [b[0], b[1]] } else { [b[0], b[2]] })
        .collect()
}
