//! Ground-truth physics in f64, no learning framework: every system of the paper in generalised
//! coordinates z = [q, v] with v = dq/dt, and the integrators that produce trajectories.

pub mod body_graph;
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
pub mod system;

pub use body_graph::{BodyGraph, Constraint};
pub use lagrangian::{MassTerm, Mechanism, NodeMass, SingularMassMatrix};
pub use spec::{Family, Projection, SpecError, SystemSpec, DEFAULT_DRAG};
pub use system::{
    relative_energy_change, Describe, Link, State, System, GRAVITY, TRAJECTORY_SECONDS,
};

/// A system as listings show it (`phaselab systems --json`, the wasm module's `systems_json`).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SystemListing {
    pub name: String,
    pub family: &'static str,
    pub description: &'static str,
    pub dof: usize,
    pub angular: Vec<bool>,
    pub dt: f64,
    pub separable: bool,
    /// Every constant of the system (masses, lengths, spring constants, drag, ...).
    pub parameters: serde_json::Value,
}

impl SystemListing {
    pub fn of(sys: &dyn System) -> Self {
        let family = sys.spec().family;
        SystemListing {
            name: sys.name(),
            family: family.name(),
            description: family_description(family),
            dof: sys.dof(),
            angular: sys.angular(),
            dt: sys.dt(),
            separable: sys.separable(),
            parameters: sys.parameters(),
        }
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
        Family::MagnetPendulum => Box::new(magnet_pendulum::MagnetPendulum::with_body(spec.body)),
        Family::Rotor => Box::new(rotor::Rotor::with_body(spec.body)),
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
