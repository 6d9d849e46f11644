//! Trajectories of a system on a uniform time grid, with a choice of integrator.

use super::dopri5::{self, Dopri5Options, IntegrationError};
use super::{leapfrog, rk4, State, System};
use std::fmt;
use std::str::FromStr;

/// How ground truth is integrated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Integrator {
    /// Adaptive Dormand–Prince 5(4) with dense output onto the grid.
    Dopri5(Dopri5Options),
    /// Classic RK4 with `substeps` fixed steps per data interval.
    Rk4 { substeps: usize },
    /// Störmer–Verlet with `substeps` steps per data interval (separable systems only).
    Leapfrog { substeps: usize },
}

impl Default for Integrator {
    fn default() -> Self {
        Integrator::Dopri5(Dopri5Options::default())
    }
}

impl fmt::Display for Integrator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Integrator::Dopri5(o) => write!(f, "dopri5(rtol={:e},atol={:e})", o.rtol, o.atol),
            Integrator::Rk4 { substeps } => write!(f, "rk4(substeps={substeps})"),
            Integrator::Leapfrog { substeps } => write!(f, "leapfrog(substeps={substeps})"),
        }
    }
}

impl FromStr for Integrator {
    type Err = String;
    /// `dopri5`, `rk4`, `rk4:10` or `leapfrog:10` (substeps per data step).
    fn from_str(s: &str) -> Result<Self, String> {
        let (name, arg) = match s.split_once(':') {
            Some((a, b)) => (a, Some(b)),
            None => (s, None),
        };
        let substeps = match arg {
            None => 10,
            Some(a) => match a.parse::<usize>() {
                Ok(k) if (1..=100_000).contains(&k) => k,
                _ => {
                    return Err(format!(
                        "substeps must be a whole number in 1..=100000, got '{a}'"
                    ))
                }
            },
        };
        match name {
            "dopri5" if arg.is_none() => Ok(Integrator::default()),
            "rk4" => Ok(Integrator::Rk4 { substeps }),
            "leapfrog" => Ok(Integrator::Leapfrog { substeps }),
            _ => Err(format!(
                "unknown integrator '{s}' (dopri5, rk4[:substeps], leapfrog[:substeps])"
            )),
        }
    }
}

/// A trajectory sampled at t_k = k dt: states[k].
#[derive(Clone, Debug, PartialEq)]
pub struct Trajectory {
    pub dt: f64,
    pub states: Vec<State>,
}

/// Why a simulation failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SimulationError {
    #[error(transparent)]
    Integration(#[from] IntegrationError),
    #[error("leapfrog needs a separable system (constant mass matrix, no drag); {0} is not")]
    NotSeparable(String),
    #[error("initial state has {got} coordinates, {system} needs {want} positions and {want} velocities")]
    WrongDimension {
        system: String,
        want: usize,
        got: usize,
    },
    #[error("initial state contains NaN or infinite values")]
    NonFinite,
}

/// Integrate `sys` from `init` and return `n_points` states spaced `dt` apart (the first is `init`).
pub fn simulate(
    sys: &dyn System,
    init: &State,
    n_points: usize,
    dt: f64,
    integrator: &Integrator,
) -> Result<Trajectory, SimulationError> {
    let d = sys.dof();
    if init.q.len() != d || init.v.len() != d {
        return Err(SimulationError::WrongDimension {
            system: sys.name(),
            want: d,
            got: init.q.len().max(init.v.len()),
        });
    }
    if init.q.iter().chain(&init.v).any(|x| !x.is_finite()) {
        return Err(SimulationError::NonFinite);
    }
    let mut field = |z: &[f64], dz: &mut [f64]| sys.field(z, dz).map_err(|_| ());
    let states = match integrator {
        Integrator::Dopri5(opts) => {
            let grid: Vec<f64> = (0..n_points).map(|k| k as f64 * dt).collect();
            let zs = dopri5::integrate(|_t, z, dz| field(z, dz), &init.to_z(), &grid, opts)?;
            zs.iter().map(|z| State::from_z(z)).collect()
        }
        Integrator::Rk4 { substeps } => {
            let h = dt / *substeps as f64;
            let mut z = init.to_z();
            let mut out = vec![init.clone()];
            for k in 1..n_points {
                for _ in 0..*substeps {
                    z = rk4::step(&mut field, &z, h)
                        .map_err(|_| IntegrationError::Field { t: k as f64 * dt })?;
                }
                if z.iter().any(|x| !x.is_finite()) {
                    return Err(IntegrationError::NonFinite { t: k as f64 * dt }.into());
                }
                out.push(State::from_z(&z));
            }
            out
        }
        Integrator::Leapfrog { substeps } => {
            if !sys.separable() {
                return Err(SimulationError::NotSeparable(sys.name()));
            }
            let h = dt / *substeps as f64;
            let zero = vec![0.0; d];
            let mut accel =
                |q: &[f64], a: &mut [f64]| sys.acceleration(q, &zero, a).map_err(|_| ());
            let (mut q, mut v) = (init.q.clone(), init.v.clone());
            let mut out = vec![init.clone()];
            for k in 1..n_points {
                for _ in 0..*substeps {
                    leapfrog::step(&mut accel, &mut q, &mut v, h)
                        .map_err(|_| IntegrationError::Field { t: k as f64 * dt })?;
                }
                if q.iter().chain(&v).any(|x| !x.is_finite()) {
                    return Err(IntegrationError::NonFinite { t: k as f64 * dt }.into());
                }
                out.push(State {
                    q: q.clone(),
                    v: v.clone(),
                });
            }
            out
        }
    };
    Ok(Trajectory { dt, states })
}

/// Number of grid points in a trajectory of `seconds` at step dt: t = 0, dt, ... < seconds
/// (the reference's `arange(0, T, dt)`: 334 points for 10 s at 0.03).
pub fn grid_points(seconds: f64, dt: f64) -> usize {
    ((seconds / dt - 1e-9).ceil() as usize).max(1)
}
