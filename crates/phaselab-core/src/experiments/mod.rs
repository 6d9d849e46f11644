//! The paper's figures as data: for each figure, the grid of runs (system, model, seed, setting)
//! it needs, at four sizes ([`Tier`]). Running and resuming live in the CLI; a figure's table, CSV
//! and drawings are computed in `plot::figures` from the runs' records.

use crate::data::protocol::Protocol;
use crate::models::ModelKind;
use crate::train::{steps_per_epoch, Loss, TrainConfig};
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

/// One training run of a figure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    pub system: String,
    pub model: ModelKind,
    /// Data seed (the reference varies the data seed across repetitions).
    pub seed: u64,
    pub loss: Loss,
    /// Symplectic penalty weight 1/alpha (node-so-symreg).
    pub alpha: Option<f64>,
    pub settings: TierSettings,
}

impl RunSpec {
    /// A directory name unique within a figure.
    pub fn id(&self) -> String {
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
        id
    }
}

/// The figures on synthetic systems that `phaselab reproduce` knows (the paper's numbering).
/// Figure 7, the control-aware models on MuJoCo data, is reproduced too, with its own settings
/// and records: see [`mujoco`] and `plot::fig7`.
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
    /// L1 vs L2 training loss.
    Fig8,
    /// Gyroscope, magnet pendulum, rotor.
    Fig9,
    /// Rollout error against time per system, each model beside the chaos floor (truth started 1e-4 away).
    Rollouts,
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
    pub const ALL: [Figure; 8] = [
        Figure::Fig2,
        Figure::Fig3,
        Figure::Fig4,
        Figure::Fig5,
        Figure::Fig6,
        Figure::Fig8,
        Figure::Fig9,
        Figure::Rollouts,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Figure::Fig2 => "fig2",
            Figure::Fig3 => "fig3",
            Figure::Fig4 => "fig4",
            Figure::Fig5 => "fig5",
            Figure::Fig6 => "fig6",
            Figure::Fig8 => "fig8",
            Figure::Fig9 => "fig9",
            Figure::Rollouts => "rollouts",
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
            Figure::Fig8 => "L1 vs L2 training loss",
            Figure::Fig9 => "Gyroscope, magnet pendulum, rotor",
            Figure::Rollouts => "Rollout error over time beside the chaos floor",
        }
    }

    pub fn layout(self) -> Layout {
        match self {
            Figure::Fig2 => Layout::Energy,
            Figure::Fig3 => Layout::AlphaSweep,
            Figure::Rollouts => Layout::Rollouts,
            _ => Layout::Bars,
        }
    }

    /// Models in the order they are drawn.
    pub fn models(self) -> Vec<ModelKind> {
        use ModelKind::*;
        match self {
            Figure::Fig2 | Figure::Fig4 | Figure::Rollouts => vec![Node, NodeSo, HnnGeneral, Hnn],
            Figure::Fig3 => vec![NodeSoSymreg],
            Figure::Fig5 => vec![NodeSo, Hnn],
            Figure::Fig6 => vec![NodeSo, HnnForced, Hnn],
            Figure::Fig8 | Figure::Fig9 => vec![Node, NodeSo, Hnn],
        }
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

    /// Systems in the order they are drawn (the smoke tier keeps the smallest of each family).
    pub fn systems(self, tier: Tier) -> Vec<String> {
        let sizes: &[usize] = if tier == Tier::Smoke {
            &[1]
        } else {
            &[1, 2, 3]
        };
        let families: &[&str] = match self {
            Figure::Fig6 => &["chain-pendulum-drag", "spring-pendulum-drag"],
            Figure::Fig9 => {
                return vec!["gyroscope".into(), "magnet-pendulum".into(), "rotor".into()]
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

    /// Every run of the figure; `seeds` overrides the tier's number of seeds.
    pub fn runs(self, tier: Tier, seeds: Option<usize>) -> Vec<RunSpec> {
        let settings = tier.settings();
        let n_seeds = seeds.unwrap_or(settings.seeds);
        let mut runs = Vec::new();
        for system in self.systems(tier) {
            for model in self.models() {
                for loss in self.losses() {
                    for alpha in self.alphas() {
                        for seed in 0..n_seeds as u64 {
                            runs.push(RunSpec {
                                system: system.clone(),
                                model,
                                seed,
                                loss,
                                alpha,
                                settings: settings.clone(),
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
}
