//! The paper's figures as data: for each figure, the grid of runs (system, model, seed, setting)
//! it needs, at four sizes ([`Tier`]). Running and resuming live in the CLI; a figure's table, CSV
//! and drawings are computed in `plot::figures` from the runs' records. Figure 7's runs (the
//! control-aware models on MuJoCo data) are [`RunSpec`]s too, with a [`Model::Control`] model and
//! [`RunSettings::Control`] sizes ([`Fig7Settings`]).

use crate::data::protocol::Protocol;
use crate::data::Coordinates;
use crate::models::{ControlKind, ModelKind};
use crate::train::{mujoco_train_config, steps_per_epoch, Loss, TrainConfig};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

pub mod comparison;
pub mod mujoco;
pub mod plan;
pub mod record;
pub mod report;
pub mod verdict;

/// How big a reproduction is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Seconds: every code path, meaningless numbers (CI).
    Smoke,
    /// Minutes on a 2-core machine: the protocol with less data, width and training (a smoke
    /// check of the science, too short to decide the paper's claims).
    Quick,
    /// The reference code's default protocol at its short budget (500 epochs of 800 chunks),
    /// 3 data seeds: hours on 2 cores, the tier RESULTS.md is measured at.
    Reference,
    /// The paper's settings: width 256, 1000 trajectories, 2000 epochs, 5 seeds.
    Paper,
}

impl FromStr for Tier {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "smoke" => Ok(Tier::Smoke),
            "quick" => Ok(Tier::Quick),
            "reference" => Ok(Tier::Reference),
            "paper" => Ok(Tier::Paper),
            _ => Err(format!(
                "unknown tier '{s}' (smoke, quick, reference, paper)"
            )),
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tier::Smoke => "smoke",
            Tier::Quick => "quick",
            Tier::Reference => "reference",
            Tier::Paper => "paper",
        })
    }
}

/// Sizes a tier trains at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TierSettings {
    pub n_trajectories: usize,
    pub n_test: usize,
    pub test_chunk: usize,
    pub epochs: usize,
    pub width: usize,
    pub seeds: usize,
}

impl TierSettings {
    /// Training chunks the protocol makes from `n_trajectories` (one per trajectory, 80% train).
    pub fn training_chunks(&self) -> usize {
        Protocol {
            n_trajectories: self.n_trajectories,
            ..Protocol::default()
        }
        .n_train()
    }

    /// The data protocol of this tier's runs at data seed `seed` (its sizes; at least two
    /// trajectories in the training pool, so that a split exists).
    pub fn protocol(&self, seed: u64) -> Protocol {
        Protocol {
            n_trajectories: self.n_trajectories.max(2),
            n_test: self.n_test,
            test_chunk: self.test_chunk,
            seed,
            ..Protocol::default()
        }
    }

    /// Optimiser steps one run takes: epochs x floor(training chunks / batch).
    pub fn optimiser_steps(&self) -> usize {
        self.epochs * steps_per_epoch(self.training_chunks(), TrainConfig::default().batch)
    }
}

impl Tier {
    pub const ALL: [Tier; 4] = [Tier::Smoke, Tier::Quick, Tier::Reference, Tier::Paper];

    /// One line per tier with its sizes and the optimiser steps they make, for `--help` and docs.
    pub fn describe_all() -> String {
        Tier::ALL
            .iter()
            .map(|t| {
                let s = t.settings();
                format!(
                    "{t}: {} trajectories ({} training chunks), width {}, {} epochs = {} optimiser steps, {} seed(s)",
                    s.n_trajectories,
                    s.training_chunks(),
                    s.width,
                    s.epochs,
                    s.optimiser_steps(),
                    s.seeds
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn settings(self) -> TierSettings {
        match self {
            Tier::Smoke => TierSettings {
                n_trajectories: 40,
                n_test: 4,
                test_chunk: 20,
                epochs: 2,
                width: 16,
                seeds: 1,
            },
            // 500 trajectories give 400 training chunks: two whole batches of 200 per epoch.
            Tier::Quick => TierSettings {
                n_trajectories: 500,
                n_test: 50,
                test_chunk: 100,
                epochs: 150,
                width: 128,
                seeds: 2,
            },
            Tier::Reference => TierSettings {
                n_trajectories: 1000,
                n_test: 200,
                test_chunk: 100,
                epochs: 500,
                width: 256,
                seeds: 3,
            },
            Tier::Paper => TierSettings {
                n_trajectories: 1000,
                n_test: 200,
                test_chunk: 100,
                epochs: 2000,
                width: 256,
                seeds: 5,
            },
        }
    }
}

/// How many times fig9's trajectories fig9-data trains on: the paper's fig9 sweep used 5000
/// systems (4000 training chunks) where the reference code's default, and fig9's, is 1000.
pub const DATA_SCALE: usize = 5;

/// The environments of Figure 7 (the paper's Hopper, HalfCheetah, Swimmer, plus Walker2d).
pub const ENVIRONMENTS: [&str; 4] = ["Hopper-v5", "HalfCheetah-v5", "Swimmer-v5", "Walker2d-v5"];

/// Dataset and training sizes of a Figure 7 tier (the MuJoCo data `tools/mujoco` generates).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fig7Settings {
    /// 3-step training chunks.
    pub train_chunks: usize,
    pub test_trajectories: usize,
    /// Points per test trajectory.
    pub test_length: usize,
    pub epochs: usize,
    pub width: usize,
    pub seeds: usize,
}

pub fn fig7_settings(tier: Tier) -> Fig7Settings {
    match tier {
        Tier::Smoke => Fig7Settings {
            train_chunks: 200,
            test_trajectories: 4,
            test_length: 50,
            epochs: 2,
            width: 32,
            seeds: 1,
        },
        Tier::Quick => Fig7Settings {
            train_chunks: 4000,
            test_trajectories: 40,
            test_length: 200,
            epochs: 40,
            width: 128,
            seeds: 2,
        },
        // Four times the quick tier's training, on the same data.
        Tier::Reference => Fig7Settings {
            train_chunks: 4000,
            test_trajectories: 40,
            test_length: 200,
            epochs: 160,
            width: 128,
            seeds: 2,
        },
        // The paper: 40,000 3-step chunks, 200 test trajectories of 200 steps, 256 epochs, width 128.
        Tier::Paper => Fig7Settings {
            train_chunks: 40_000,
            test_trajectories: 200,
            test_length: 200,
            epochs: 256,
            width: 128,
            seeds: 3,
        },
    }
}

/// What a run trains: an autonomous model on a simulated system, or a control-aware model on a
/// MuJoCo environment's data (Figure 7). Several names are shared by both kinds (node, node-so,
/// hnn-forced), so in JSON an autonomous model is its name, as records have always held it
/// (`"node-so"`), and a control-aware one is tagged (`{"control": "node-so"}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    Autonomous(ModelKind),
    Control(ControlKind),
}

impl Model {
    pub fn name(self) -> &'static str {
        match self {
            Model::Autonomous(k) => k.name(),
            Model::Control(k) => k.name(),
        }
    }

    /// The autonomous model, if this is one.
    pub fn autonomous(self) -> Option<ModelKind> {
        match self {
            Model::Autonomous(k) => Some(k),
            Model::Control(_) => None,
        }
    }

    /// The control-aware model, if this is one.
    pub fn control(self) -> Option<ControlKind> {
        match self {
            Model::Control(k) => Some(k),
            Model::Autonomous(_) => None,
        }
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<ModelKind> for Model {
    fn from(k: ModelKind) -> Self {
        Model::Autonomous(k)
    }
}

impl From<ControlKind> for Model {
    fn from(k: ControlKind) -> Self {
        Model::Control(k)
    }
}

/// An autonomous model equals its kind (so `spec.model == ModelKind::Hnn` reads as before).
impl PartialEq<ModelKind> for Model {
    fn eq(&self, other: &ModelKind) -> bool {
        *self == Model::Autonomous(*other)
    }
}

/// A control-aware model equals its kind.
impl PartialEq<ControlKind> for Model {
    fn eq(&self, other: &ControlKind) -> bool {
        *self == Model::Control(*other)
    }
}

impl Serialize for Model {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Tagged {
            control: ControlKind,
        }
        match *self {
            Model::Autonomous(k) => k.serialize(s),
            Model::Control(control) => Tagged { control }.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Model {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Autonomous(ModelKind),
            Control { control: ControlKind },
        }
        Ok(match Repr::deserialize(d)? {
            Repr::Autonomous(k) => Model::Autonomous(k),
            Repr::Control { control } => Model::Control(control),
        })
    }
}

/// The sizes a run trains at: a tier's for the synthetic systems, Figure 7's for the MuJoCo
/// environments. In JSON, either struct as it is (their fields tell them apart), so records
/// written before Figure 7 runs were `RunSpec`s read unchanged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RunSettings {
    Tier(TierSettings),
    Control(Fig7Settings),
}

/// One training run of a figure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    /// The system (e.g. `chain-pendulum:2`), or for a control run its MuJoCo environment
    /// (e.g. `Hopper-v5`).
    pub system: String,
    pub model: Model,
    /// Data seed (the reference varies the data seed across repetitions); for a control run, the
    /// seed of the weights and the minibatch order (its environment's dataset is generated once,
    /// with seed 0).
    pub seed: u64,
    /// The training loss (a control run's is always L2: the standardised squared error).
    pub loss: Loss,
    /// Symplectic penalty weight 1/alpha (node-so-symreg).
    pub alpha: Option<f64>,
    pub settings: RunSettings,
    /// The coordinates the model learns in: the system's own, or its body points (the ladder's
    /// Cartesian models; a constrained model always learns on body points).
    #[serde(default, skip_serializing_if = "Coordinates::is_generalised")]
    pub coordinates: Coordinates,
}

impl RunSpec {
    /// A directory name unique within a figure (a control run's: `fig7__<env>__<model>__seed<k>`).
    pub fn id(&self) -> String {
        if let Model::Control(kind) = self.model {
            return format!("fig7__{}__{}__seed{}", self.system, kind.name(), self.seed)
                .to_lowercase();
        }
        let sys = self.system.replace([':', ','], "-").replace('=', "");
        let mut id = format!(
            "{sys}__{}__{:?}__seed{}",
            self.model.name(),
            self.loss,
            self.seed
        )
        .to_lowercase();
        if let Some(a) = self.alpha {
            id += &format!("__alpha{a:e}");
        }
        // A run on another number of trajectories than every tier's (fig9-data) names it, so
        // that it never shares a directory or a record with the tier's run of the same model.
        if let RunSettings::Tier(s) = &self.settings {
            if Tier::ALL
                .iter()
                .all(|t| t.settings().n_trajectories != s.n_trajectories)
            {
                id += &format!("__n{}", s.n_trajectories);
            }
        }
        // A paper model on body points (a constrained model's name says it already).
        if self.coordinates == Coordinates::Cartesian
            && !self
                .model
                .autonomous()
                .is_some_and(ModelKind::is_constrained)
        {
            id += "__cartesian";
        }
        id
    }

    /// The model and sizes of a run on a simulated system (None for a control run).
    pub fn autonomous(&self) -> Option<(ModelKind, &TierSettings)> {
        match (self.model, &self.settings) {
            (Model::Autonomous(k), RunSettings::Tier(s)) => Some((k, s)),
            _ => None,
        }
    }

    /// The model and sizes of a control run (Figure 7; None for any other run).
    pub fn control(&self) -> Option<(ControlKind, &Fig7Settings)> {
        match (self.model, &self.settings) {
            (Model::Control(k), RunSettings::Control(s)) => Some((k, s)),
            _ => None,
        }
    }
}

/// The figures that `phaselab reproduce` knows (the paper's numbering): the synthetic systems'
/// and Figure 7, the control-aware models on MuJoCo data (its sizes are [`Fig7Settings`]; its
/// table and drawings: [`mujoco`] and `plot::figures::fig7_outputs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Figure {
    /// Energy violation against rollout error over systems x models x seeds, and its growth in time.
    Fig2,
    /// Symplectic regularisation sweep over alpha.
    Fig3,
    /// Second-order ablation: node vs node-so, hnn-general vs hnn on chain and spring pendulums 1-3.
    Fig4,
    /// node-so vs hnn on chain (non-Cartesian) vs spring (Cartesian) pendulums.
    Fig5,
    /// Drag systems: node-so vs hnn-forced (SymODEN-style) vs hnn.
    Fig6,
    /// MuJoCo environments: the control-aware node, node-so and hnn-forced.
    Fig7,
    /// L1 vs L2 training loss.
    Fig8,
    /// Gyroscope, magnet pendulum, rotor.
    Fig9,
    /// Fig9's gyroscope on five times the trajectories (the paper's fig9 sweep trained on 5000),
    /// at the tier's optimiser steps: fig9's runs with only the data changed.
    Fig9Data,
    /// Rollout error against time per system, each model beside the chaos floor (truth started 1e-4 away).
    Rollouts,
    /// The model ladder on the CHNN paper's systems: NODE, NODE+SO and HNN in generalised
    /// coordinates, NODE and NODE+SO on body points, the constrained NODE+SO, CLNN and CHNN, all
    /// scored on body points: is it the coordinates, the constraints or the energy?
    Ladder,
    /// The Lagrangian networks (DeLaN, LNN) beside NODE+SO and HNN on fig4's and fig5's chain
    /// and spring pendulums: second order by construction, do they sit with them?
    Lagrangian,
    /// Structured dissipation (port-Hamiltonian HNN, D-HNN) beside NODE+SO, HNN and HNN +
    /// forcing on fig6's drag systems: can energy structure and dissipation coexist?
    Dissipation,
}

/// How a figure is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Bars of gerr per system and series, log scale, standard-error whiskers.
    Bars,
    /// Herr against gerr (log-log scatter with a regression line) and Herr against time.
    Energy,
    /// gerr against alpha, and gerr against the final symplectic error.
    AlphaSweep,
    /// gerr over the rollout, one plot per system.
    Rollouts,
    /// Figure 7: bars of standardised train and test MSE per environment and model, and each
    /// environment's test rollout.
    Control,
}

/// The sweep of the symplectic penalty weight 1/alpha (the reference's symp_reg.yml).
pub const ALPHAS: [f64; 6] = [1e-2, 1e-1, 1.0, 1e1, 1e2, 1e3];

impl FromStr for Figure {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Figure::ALL
            .iter()
            .copied()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Figure::ALL.iter().map(|f| f.name()).collect();
                format!("unknown figure '{s}' (known: {})", names.join(", "))
            })
    }
}

impl Figure {
    pub const ALL: [Figure; 13] = [
        Figure::Fig2,
        Figure::Fig3,
        Figure::Fig4,
        Figure::Fig5,
        Figure::Fig6,
        Figure::Fig7,
        Figure::Fig8,
        Figure::Fig9,
        Figure::Fig9Data,
        Figure::Rollouts,
        Figure::Ladder,
        Figure::Lagrangian,
        Figure::Dissipation,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Figure::Fig2 => "fig2",
            Figure::Fig3 => "fig3",
            Figure::Fig4 => "fig4",
            Figure::Fig5 => "fig5",
            Figure::Fig6 => "fig6",
            Figure::Fig7 => "fig7",
            Figure::Fig8 => "fig8",
            Figure::Fig9 => "fig9",
            Figure::Fig9Data => "fig9-data",
            Figure::Rollouts => "rollouts",
            Figure::Ladder => "ladder",
            Figure::Lagrangian => "lagrangian",
            Figure::Dissipation => "dissipation",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Figure::Fig2 => "Energy violation tracks rollout error",
            Figure::Fig3 => "Symplectic regularisation sweep",
            Figure::Fig4 => "Second-order structure: rollout error with and without it",
            Figure::Fig5 => {
                "NODE+SO vs HNN: non-Cartesian (chain) vs Cartesian (spring) coordinates"
            }
            Figure::Fig6 => "Drag systems: NODE+SO vs HNN with forcing vs HNN",
            Figure::Fig7 => "Control-aware models on MuJoCo",
            Figure::Fig8 => "L1 vs L2 training loss",
            Figure::Fig9 => "Gyroscope, magnet pendulum, rotor",
            Figure::Fig9Data => {
                "Gyroscope on five times the trajectories, at the same optimiser steps"
            }
            Figure::Rollouts => "Rollout error over time beside the chaos floor",
            Figure::Ladder => {
                "The model ladder: coordinates, constraints, energy (error on body points)"
            }
            Figure::Lagrangian => "Lagrangian networks: DeLaN and LNN beside NODE+SO and HNN",
            Figure::Dissipation => {
                "Structured dissipation on drag systems: port-Hamiltonian HNN and D-HNN"
            }
        }
    }

    pub fn layout(self) -> Layout {
        match self {
            Figure::Fig2 => Layout::Energy,
            Figure::Fig3 => Layout::AlphaSweep,
            Figure::Rollouts => Layout::Rollouts,
            Figure::Fig7 => Layout::Control,
            _ => Layout::Bars,
        }
    }

    /// Autonomous models in the order they are drawn (none for Figure 7, whose models are
    /// `ControlKind::ALL`).
    pub fn models(self) -> Vec<ModelKind> {
        use ModelKind::*;
        match self {
            Figure::Fig7 => vec![],
            Figure::Fig2 | Figure::Fig4 | Figure::Rollouts => vec![Node, NodeSo, HnnGeneral, Hnn],
            Figure::Fig3 => vec![NodeSoSymreg],
            Figure::Fig5 => vec![NodeSo, Hnn],
            Figure::Fig6 => vec![NodeSo, HnnForced, Hnn],
            Figure::Fig8 | Figure::Fig9 | Figure::Fig9Data => vec![Node, NodeSo, Hnn],
            Figure::Ladder => vec![Node, NodeSo, Hnn, Delan, ConstrainedNodeSo, Clnn, Chnn],
            Figure::Lagrangian => vec![NodeSo, Hnn, Delan, Lnn],
            Figure::Dissipation => vec![NodeSo, Hnn, HnnForced, PortHnn, DHnn],
        }
    }

    /// The (model, coordinates) pairs of the figure's runs, in the order they are drawn: each
    /// model in generalised coordinates, then the ladder's paper models again on body points, then
    /// the constrained models (on body points).
    fn variants(self) -> Vec<(ModelKind, Coordinates)> {
        let models = self.models();
        if self != Figure::Ladder {
            return models
                .into_iter()
                .map(|m| (m, Coordinates::Generalised))
                .collect();
        }
        use ModelKind::*;
        let mut out: Vec<_> = [Node, NodeSo, Hnn, Delan]
            .map(|m| (m, Coordinates::Generalised))
            .to_vec();
        out.extend([Node, NodeSo].map(|m| (m, Coordinates::Cartesian)));
        out.extend(ModelKind::CONSTRAINED.map(|m| (m, Coordinates::Cartesian)));
        out
    }

    fn losses(self) -> Vec<Loss> {
        match self {
            Figure::Fig8 => vec![Loss::L2, Loss::L1],
            _ => vec![Loss::L2],
        }
    }

    fn alphas(self) -> Vec<Option<f64>> {
        match self {
            Figure::Fig3 => ALPHAS.iter().map(|&a| Some(a)).collect(),
            _ => vec![None],
        }
    }

    /// Systems in the order they are drawn (the smoke tier keeps the smallest of each family;
    /// Figure 7: its MuJoCo environments).
    pub fn systems(self, tier: Tier) -> Vec<String> {
        let sizes: &[usize] = if tier == Tier::Smoke {
            &[1]
        } else {
            &[1, 2, 3]
        };
        let families: &[&str] = match self {
            Figure::Fig7 => return ENVIRONMENTS.iter().map(|e| e.to_string()).collect(),
            Figure::Fig6 | Figure::Dissipation => &["chain-pendulum-drag", "spring-pendulum-drag"],
            Figure::Fig9 => {
                return vec!["gyroscope".into(), "magnet-pendulum".into(), "rotor".into()]
            }
            Figure::Fig9Data => return vec!["gyroscope".into()],
            // The systems of the CHNN repository's tables.
            Figure::Ladder if tier == Tier::Smoke => {
                return vec!["chain-pendulum:2".into(), "gyroscope".into()]
            }
            Figure::Ladder => {
                return [
                    "chain-pendulum:1",
                    "chain-pendulum:2",
                    "chain-pendulum:3",
                    "chain-pendulum:5",
                    "coupled-pendulum:3",
                    "magnet-pendulum",
                    "gyroscope",
                    "rotor",
                ]
                .map(String::from)
                .to_vec()
            }
            Figure::Fig8 if tier != Tier::Smoke => {
                return vec!["chain-pendulum:2".into(), "spring-pendulum:2".into()]
            }
            _ => &["chain-pendulum", "spring-pendulum"],
        };
        let mut out = Vec::new();
        for fam in families {
            for n in sizes {
                let name = format!("{fam}:{n}");
                // Canonical spelling (drag systems carry their coefficient).
                out.push(
                    name.parse::<crate::physics::SystemSpec>()
                        .map(|s| s.to_string())
                        .unwrap_or(name),
                );
            }
        }
        out
    }

    /// Optimiser steps one run of the figure takes at `tier`.
    pub fn optimiser_steps(self, tier: Tier) -> usize {
        match self {
            Figure::Fig7 => {
                let s = fig7_settings(tier);
                s.epochs * steps_per_epoch(s.train_chunks, mujoco_train_config().batch)
            }
            _ => self.settings(tier).optimiser_steps(),
        }
    }

    /// The sizes of the figure's runs on simulated systems at `tier`: the tier's, except
    /// fig9-data's, which trains on [`DATA_SCALE`] times the trajectories for as many epochs as
    /// give the tier's optimiser steps, so that its runs differ from fig9's in the data alone.
    pub fn settings(self, tier: Tier) -> TierSettings {
        let s = tier.settings();
        if self != Figure::Fig9Data {
            return s;
        }
        let steps = s.optimiser_steps();
        let more = TierSettings {
            n_trajectories: s.n_trajectories * DATA_SCALE,
            ..s
        };
        let per_epoch = steps_per_epoch(more.training_chunks(), TrainConfig::default().batch);
        TierSettings {
            epochs: steps.div_ceil(per_epoch.max(1)).max(1),
            ..more
        }
    }

    /// Every run of the figure; `seeds` overrides the tier's number of seeds. Figure 7's:
    /// environments x control-aware models x weight seeds.
    pub fn runs(self, tier: Tier, seeds: Option<usize>) -> Vec<RunSpec> {
        if self == Figure::Fig7 {
            let settings = fig7_settings(tier);
            let n_seeds = seeds.unwrap_or(settings.seeds) as u64;
            let mut runs = Vec::new();
            for env in ENVIRONMENTS {
                for kind in ControlKind::ALL {
                    for seed in 0..n_seeds {
                        runs.push(RunSpec {
                            system: env.to_string(),
                            model: Model::Control(kind),
                            seed,
                            loss: Loss::L2,
                            alpha: None,
                            settings: RunSettings::Control(settings.clone()),
                            coordinates: Coordinates::Generalised,
                        });
                    }
                }
            }
            return runs;
        }
        let settings = self.settings(tier);
        let n_seeds = seeds.unwrap_or(settings.seeds);
        let mut runs = Vec::new();
        for system in self.systems(tier) {
            for (model, coordinates) in self.variants() {
                for loss in self.losses() {
                    for alpha in self.alphas() {
                        for seed in 0..n_seeds as u64 {
                            runs.push(RunSpec {
                                system: system.clone(),
                                model: Model::Autonomous(model),
                                seed,
                                loss,
                                alpha,
                                settings: RunSettings::Tier(settings.clone()),
                                coordinates,
                            });
                        }
                    }
                }
            }
        }
        runs
    }

    /// The label a run is drawn under (model, plus the loss where a figure compares losses).
    pub fn series(self, r: &RunSpec) -> String {
        match self {
            Figure::Fig8 => format!("{} {:?}", r.model.name(), r.loss).to_lowercase(),
            Figure::Ladder
                if r.coordinates == Coordinates::Cartesian
                    && !r.model.autonomous().is_some_and(ModelKind::is_constrained) =>
            {
                format!("{} (x)", r.model.name())
            }
            _ => r.model.name().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_are_complete_and_ids_unique() {
        let runs = Figure::Fig4.runs(Tier::Quick, None);
        assert_eq!(runs.len(), 6 * 4 * 2);
        let mut ids: Vec<String> = runs.iter().map(|r| r.id()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), runs.len());
        assert_eq!(Figure::Fig4.runs(Tier::Smoke, Some(1)).len(), 2 * 4);
        assert_eq!(Figure::Fig3.runs(Tier::Quick, Some(1)).len(), 6 * 6);
        assert_eq!(Figure::Fig8.runs(Tier::Quick, Some(2)).len(), 2 * 3 * 2 * 2);
        assert!(Figure::Fig6
            .systems(Tier::Quick)
            .contains(&"chain-pendulum-drag:2,f=0.4".to_string()));
        // Figures that share a run share its id (runs are trained once).
        let f4: Vec<String> = Figure::Fig4
            .runs(Tier::Quick, None)
            .iter()
            .map(|r| r.id())
            .collect();
        assert!(Figure::Fig5
            .runs(Tier::Quick, None)
            .iter()
            .all(|r| f4.contains(&r.id())));
        assert!(Figure::Fig2
            .runs(Tier::Quick, None)
            .iter()
            .all(|r| f4.contains(&r.id())));
    }

    #[test]
    fn the_lagrangian_and_dissipation_figures_share_the_paper_figures_runs() {
        let ids = |f: Figure| -> Vec<String> {
            f.runs(Tier::Reference, None)
                .iter()
                .map(|r| r.id())
                .collect()
        };
        let (lag, dis) = (ids(Figure::Lagrangian), ids(Figure::Dissipation));
        assert_eq!(lag.len(), 6 * 4 * 3, "fig4's systems x 4 models x 3 seeds");
        assert_eq!(dis.len(), 6 * 5 * 3, "fig6's systems x 5 models x 3 seeds");
        // NODE+SO and HNN are fig5's and fig6's own runs, trained once.
        let (f5, f6) = (ids(Figure::Fig5), ids(Figure::Fig6));
        assert!(f5.iter().all(|id| lag.contains(id)));
        assert!(f6.iter().all(|id| dis.contains(id)));
        assert!(lag.contains(&"spring-pendulum-3__lnn__l2__seed2".to_string()));
        assert!(dis.contains(&"chain-pendulum-drag-2-f0.4__port-hnn__l2__seed0".to_string()));
        assert!(ids(Figure::Ladder).contains(&"rotor__delan__l2__seed1".to_string()));
    }

    #[test]
    fn the_ladder_runs_every_model_on_the_chnn_systems_in_its_coordinates() {
        let runs = Figure::Ladder.runs(Tier::Reference, None);
        assert_eq!(
            runs.len(),
            8 * 9 * 3,
            "systems x (model, coordinates) x seeds"
        );
        let mut ids: Vec<String> = runs.iter().map(|r| r.id()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), runs.len());
        let find = |id: &str| runs.iter().find(|r| r.id() == id).unwrap();
        // A generalised run is fig9's run (trained once), a Cartesian one is marked.
        assert_eq!(
            find("gyroscope__node-so__l2__seed0").coordinates,
            Coordinates::Generalised
        );
        assert!(Figure::Fig9
            .runs(Tier::Reference, None)
            .iter()
            .any(|r| r.id() == "gyroscope__node-so__l2__seed0"));
        let x = find("chain-pendulum-5__node__l2__seed2__cartesian");
        assert_eq!(
            (x.coordinates, Figure::Ladder.series(x)),
            (Coordinates::Cartesian, "node (x)".into())
        );
        let c = find("rotor__chnn__l2__seed1");
        assert_eq!(
            (c.coordinates, Figure::Ladder.series(c)),
            (Coordinates::Cartesian, "chnn".into())
        );
        // Runs on body points and on angles never share a population (their data differ).
        let refs: Vec<&RunSpec> = runs.iter().collect();
        for g in plan::populations(&refs, 8) {
            assert!(g
                .iter()
                .all(|r| r.coordinates == g[0].coordinates && r.model == g[0].model));
        }
    }

    /// fig9-data is fig9's gyroscope with only the data changed: five times the trajectories,
    /// the tier's optimiser steps, the same test set, and ids of its own.
    #[test]
    fn fig9_data_changes_the_trajectories_and_nothing_else() {
        for tier in Tier::ALL {
            let (s9, s) = (Figure::Fig9.settings(tier), Figure::Fig9Data.settings(tier));
            assert_eq!(s.n_trajectories, DATA_SCALE * s9.n_trajectories, "{tier}");
            assert_eq!(s.optimiser_steps(), s9.optimiser_steps(), "{tier}");
            assert_eq!(
                Figure::Fig9Data.optimiser_steps(tier),
                s9.optimiser_steps(),
                "{tier}"
            );
            assert_eq!(
                (s.n_test, s.test_chunk, s.width),
                (s9.n_test, s9.test_chunk, s9.width)
            );
        }
        let s = Figure::Fig9Data.settings(Tier::Paper);
        assert_eq!((s.n_trajectories, s.epochs), (5000, 400));
        let runs = Figure::Fig9Data.runs(Tier::Paper, Some(3));
        assert_eq!(runs.len(), 3 * 3, "the gyroscope x 3 models x 3 seeds");
        assert_eq!(runs[0].id(), "gyroscope__node__l2__seed0__n5000");
        let fig9: Vec<String> = Figure::Fig9
            .runs(Tier::Paper, Some(3))
            .iter()
            .map(|r| r.id())
            .collect();
        assert!(runs.iter().all(|r| !fig9.contains(&r.id())));
        assert_eq!("fig9-data".parse::<Figure>(), Ok(Figure::Fig9Data));
        // More trajectories leave the test set as it was (its own stream of initial conditions).
        let sys = crate::physics::system("chain-pendulum:1").unwrap();
        let test = |n: usize| {
            let p = TierSettings {
                n_trajectories: n,
                ..Tier::Smoke.settings()
            }
            .protocol(3);
            p.generate(sys.as_ref(), &|_| {}).unwrap().test
        };
        let (a, b) = (test(10), test(50));
        assert_eq!((a.q, a.v), (b.q, b.v));
    }

    #[test]
    fn fig7_runs_are_run_specs_with_their_old_ids() {
        let runs = Figure::Fig7.runs(Tier::Reference, None);
        assert_eq!(runs.len(), 4 * 3 * 2);
        assert_eq!(runs[0].id(), "fig7__hopper-v5__node__seed0");
        assert_eq!(runs[1].id(), "fig7__hopper-v5__node__seed1");
        assert_eq!(runs[2].id(), "fig7__hopper-v5__node-so__seed0");
        assert_eq!("fig7".parse::<Figure>(), Ok(Figure::Fig7));
        assert_eq!(Figure::Fig7.runs(Tier::Smoke, Some(3)).len(), 4 * 3 * 3);
        let (kind, s) = runs[5].control().expect("a control run");
        assert_eq!(
            (kind, s),
            (ControlKind::HnnForced, &fig7_settings(Tier::Reference))
        );
        assert!(runs[5].autonomous().is_none());
        assert_eq!(Figure::Fig7.optimiser_steps(Tier::Reference), 3200);
        // Autonomous models keep their plain names in JSON; control-aware ones are tagged.
        let j = |m: Model| serde_json::to_string(&m).unwrap();
        assert_eq!(j(Model::Autonomous(ModelKind::NodeSo)), "\"node-so\"");
        assert_eq!(
            j(Model::Control(ControlKind::NodeSo)),
            "{\"control\":\"node-so\"}"
        );
        for m in [
            Model::Autonomous(ModelKind::HnnForced),
            Model::Control(ControlKind::HnnForced),
        ] {
            assert_eq!(serde_json::from_str::<Model>(&j(m)).unwrap(), m);
        }
        for spec in [
            runs[0].clone(),
            Figure::Fig4.runs(Tier::Smoke, None)[0].clone(),
        ] {
            let back: RunSpec =
                serde_json::from_str(&serde_json::to_string(&spec).unwrap()).unwrap();
            assert_eq!(back, spec);
        }
        assert!(Figure::Fig4.runs(Tier::Smoke, None)[0].model == ModelKind::Node);
    }
}
