//! The paper's figures as data: for each figure, the grid of runs (system, model, seed, setting)
//! it needs, at three sizes. Running, resuming and drawing live in the CLI and `plot`.

use crate::models::ModelKind;
use crate::train::Loss;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How big a reproduction is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Seconds: every code path, meaningless numbers (CI).
    Smoke,
    /// Minutes on a 2-core machine: same protocol, smaller widths, data and epochs.
    Quick,
    /// The paper's settings: width 256, 1000 trajectories, 2000 epochs, 5 seeds.
    Paper,
}

impl FromStr for Tier {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "smoke" => Ok(Tier::Smoke),
            "quick" => Ok(Tier::Quick),
            "paper" => Ok(Tier::Paper),
            _ => Err(format!("unknown tier '{s}' (smoke, quick, paper)")),
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tier::Smoke => "smoke",
            Tier::Quick => "quick",
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

impl Tier {
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
            Tier::Quick => TierSettings {
                n_trajectories: 400,
                n_test: 50,
                test_chunk: 100,
                epochs: 150,
                width: 128,
                seeds: 2,
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

/// The figures `phaselab reproduce` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Figure {
    /// Second-order ablation: node vs node-so, hnn-general vs hnn on chain and spring pendulums 1-3.
    Fig4,
    /// node-so vs hnn on chain (non-Cartesian) vs spring (Cartesian) pendulums.
    Fig5,
}

impl FromStr for Figure {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "fig4" => Ok(Figure::Fig4),
            "fig5" => Ok(Figure::Fig5),
            _ => Err(format!("unknown figure '{s}' (known so far: fig4, fig5)")),
        }
    }
}

impl Figure {
    pub fn name(self) -> &'static str {
        match self {
            Figure::Fig4 => "fig4",
            Figure::Fig5 => "fig5",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Figure::Fig4 => "Second-order structure: rollout error with and without it",
            Figure::Fig5 => {
                "NODE+SO vs HNN: non-Cartesian (chain) vs Cartesian (spring) coordinates"
            }
        }
    }

    /// Models in the order they are drawn.
    pub fn models(self) -> Vec<ModelKind> {
        match self {
            Figure::Fig4 => vec![
                ModelKind::Node,
                ModelKind::NodeSo,
                ModelKind::HnnGeneral,
                ModelKind::Hnn,
            ],
            Figure::Fig5 => vec![ModelKind::NodeSo, ModelKind::Hnn],
        }
    }

    /// Systems in the order they are drawn (the smoke tier keeps the first of each family).
    pub fn systems(self, tier: Tier) -> Vec<String> {
        let sizes: &[usize] = if tier == Tier::Smoke {
            &[1]
        } else {
            &[1, 2, 3]
        };
        let mut out = Vec::new();
        for fam in ["chain-pendulum", "spring-pendulum"] {
            out.extend(sizes.iter().map(|n| format!("{fam}:{n}")));
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
                for seed in 0..n_seeds as u64 {
                    runs.push(RunSpec {
                        system: system.clone(),
                        model,
                        seed,
                        loss: Loss::L2,
                        alpha: None,
                        settings: settings.clone(),
                    });
                }
            }
        }
        runs
    }
}

/// Mean and standard error of the mean (sample std / sqrt(n)) over seeds; the paper's bars are plain
/// means (its notebook divides the std by n, not sqrt(n): phaselab uses the standard error).
pub fn mean_and_standard_error(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    if xs.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mean = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return (mean, 0.0);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
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
        let (m, se) = mean_and_standard_error(&[1.0, 2.0, 3.0]);
        assert!((m - 2.0).abs() < 1e-12 && (se - (1.0f64 / 3.0).sqrt()).abs() < 1e-12);
    }
}
