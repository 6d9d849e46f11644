//! A population: K models of one architecture stacked into one, every network's weights along a
//! leading member axis (`Mlp::stack`), so that K runs train in lock-step as one computation
//! (`train::population`). Members may differ in weight seed and initialisation; everything that
//! shapes the computation (kind, sizes, solver-facing options) must agree.

use super::control::{ControlConfig, ControlModel};
use super::dynamics::{DynamicsModel, ModelConfig};
use super::mass_matrix::MassNet;
use super::mlp::Mlp;

/// A model that can be stacked into a population and split back into its members.
pub trait Population: Sized {
    /// The members stacked, member k = `models[k]` (an error names what differs).
    fn stack(models: &[Self]) -> Result<Self, String>;
    /// Number of members (1 for a single model).
    fn members(&self) -> usize;
    /// Member k as an ordinary single model, with its own configuration.
    fn member(&self, k: usize) -> Self;
}

fn same_shape<C: PartialEq + std::fmt::Debug>(shapes: &[C], what: &str) -> Result<(), String> {
    match shapes.iter().position(|s| s != &shapes[0]) {
        None => Ok(()),
        Some(k) => Err(format!(
            "population members must share one architecture: member {k}'s {what} is {:?}, member 0's {:?}",
            shapes[k], shapes[0]
        )),
    }
}

/// The first of `models` once every member is a single model of one shape.
fn check_members<'a, M: Population, C: PartialEq + std::fmt::Debug>(
    models: &'a [M],
    shape: impl Fn(&M) -> C,
    what: &str,
) -> Result<&'a M, String> {
    let first = models
        .first()
        .ok_or("a population needs at least one member")?;
    same_shape(&models.iter().map(shape).collect::<Vec<_>>(), what)?;
    if models.iter().any(|m| m.members() != 1) {
        return Err("population members must be single models".into());
    }
    Ok(first)
}

fn stack_opt(nets: Vec<Option<&Mlp>>) -> Option<Mlp> {
    let nets: Option<Vec<&Mlp>> = nets.into_iter().collect();
    nets.map(|n| Mlp::stack(&n.into_iter().cloned().collect::<Vec<_>>()))
}

/// What must agree between members of a dynamics population: everything but the seed and the
/// output-bias initialisation.
fn dynamics_shape(c: &ModelConfig) -> ModelConfig {
    ModelConfig {
        seed: 0,
        zero_output_biases: false,
        ..c.clone()
    }
}

impl Population for DynamicsModel {
    fn stack(models: &[Self]) -> Result<Self, String> {
        let first = check_members(models, |m| dynamics_shape(&m.config), "configuration")?;
        Ok(DynamicsModel {
            main: Mlp::stack(&models.iter().map(|m| m.main.clone()).collect::<Vec<_>>()),
            mass: stack_opt(
                models
                    .iter()
                    .map(|m| m.mass.as_ref().map(|n| &n.net))
                    .collect(),
            )
            .map(|net| MassNet {
                net,
                dof: first.config.dof,
            }),
            extra: stack_opt(models.iter().map(|m| m.extra.as_ref()).collect()),
            masses: stack_opt(
                models
                    .iter()
                    .map(|m| m.masses.as_ref().map(|n| &n.net))
                    .collect(),
            )
            .map(|net| first.masses.as_ref().expect("stacked").with_net(net)),
            config: first.config.clone(),
            emb: first.emb.clone(),
            constraints: first.constraints.clone(),
            members: models.iter().map(|m| m.config.clone()).collect(),
        }
        .with_fixed_edge_mass())
    }

    fn members(&self) -> usize {
        self.main.members()
    }

    fn member(&self, k: usize) -> Self {
        DynamicsModel {
            main: self.main.member(k),
            mass: self.mass.as_ref().map(|m| MassNet {
                net: m.net.member(k),
                dof: m.dof,
            }),
            extra: self.extra.as_ref().map(|m| m.member(k)),
            masses: self.masses.as_ref().map(|m| m.with_net(m.net.member(k))),
            config: self.members.get(k).unwrap_or(&self.config).clone(),
            emb: self.emb.clone(),
            constraints: self.constraints.clone(),
            members: Vec::new(),
        }
    }
}

/// What must agree between members of a control population (their standardisations may differ:
/// each member keeps its own, fitted to its own data).
fn control_shape(c: &ControlConfig) -> (String, usize, usize, usize, usize, usize) {
    (
        c.kind.to_string(),
        c.dof,
        c.controls,
        c.width,
        c.depth,
        c.substeps,
    )
}

impl Population for ControlModel {
    fn stack(models: &[Self]) -> Result<Self, String> {
        let first = check_members(
            models,
            |m| control_shape(&m.config),
            "(kind, n, m, width, depth, substeps)",
        )?;
        Ok(ControlModel {
            net: Mlp::stack(&models.iter().map(|m| m.net.clone()).collect::<Vec<_>>()),
            force: stack_opt(models.iter().map(|m| m.force.as_ref()).collect()),
            config: first.config.clone(),
            members: models.iter().map(|m| m.config.clone()).collect(),
        })
    }

    fn members(&self) -> usize {
        self.net.members()
    }

    fn member(&self, k: usize) -> Self {
        ControlModel {
            net: self.net.member(k),
            force: self.force.as_ref().map(|m| m.member(k)),
            config: self.members.get(k).unwrap_or(&self.config).clone(),
            members: Vec::new(),
        }
    }
}
