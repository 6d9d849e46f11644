//! Figure 7 as data: the control-aware models on MuJoCo environments (datasets made by
//! `tools/mujoco`), per tier.

use super::Tier;
use crate::models::ControlKind;
use serde::{Deserialize, Serialize};

/// The environments of Figure 7 (the paper's Hopper, HalfCheetah, Swimmer, plus Walker2d).
pub const ENVIRONMENTS: [&str; 4] = ["Hopper-v5", "HalfCheetah-v5", "Swimmer-v5", "Walker2d-v5"];

/// Dataset and training sizes of a Figure 7 tier.
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

/// One Figure 7 run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fig7Run {
    pub env: String,
    pub model: ControlKind,
    pub seed: u64,
}

impl Fig7Run {
    pub fn id(&self) -> String {
        format!(
            "fig7__{}__{}__seed{}",
            self.env,
            self.model.name(),
            self.seed
        )
        .to_lowercase()
    }
}

/// Every run of the figure: environments x models x seeds.
pub fn fig7_runs(tier: Tier, seeds: Option<usize>) -> Vec<Fig7Run> {
    let seeds = seeds.unwrap_or(fig7_settings(tier).seeds) as u64;
    let mut out = Vec::new();
    for env in ENVIRONMENTS {
        for model in ControlKind::ALL {
            for seed in 0..seeds {
                out.push(Fig7Run {
                    env: env.into(),
                    model,
                    seed,
                });
            }
        }
    }
    out
}

/// One finished Figure 7 run, as committed under `docs/results/<tier>/fig7/<id>.json`: what
/// trained it, at which sizes, and its scores (no weights).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fig7Record {
    pub run: Fig7Run,
    pub settings: Fig7Settings,
    pub phaselab_version: String,
    /// The git commit it was built from (`-dirty` when its code had uncommitted changes).
    pub git_commit: String,
    pub parameters: usize,
    /// Optimiser steps taken (epochs x steps per epoch).
    pub optimiser_steps: usize,
    pub train_seconds: f64,
    /// Mean minibatch loss of each epoch.
    pub loss_history: Vec<f32>,
    /// Standardised rollout MSE on the training chunks and on the test trajectories.
    pub train_mse: f64,
    pub test_mse: f64,
    /// Test MSE at each step of the rollout (step 0 is the given state).
    pub test_mse_curve: Vec<f64>,
    /// Test MSE of each state feature (q then v) over the whole rollout; empty in records
    /// written before it was kept.
    #[serde(default)]
    pub test_mse_by_feature: Vec<f64>,
}

impl Fig7Record {
    pub fn file_name(run: &Fig7Run) -> String {
        format!("{}.json", run.id())
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut s = serde_json::to_string_pretty(self).expect("records serialise");
        s.push('\n');
        s.into_bytes()
    }

    /// Parse a record, checking that it is the record of `expected` at these sizes when given.
    pub fn from_bytes(
        bytes: &[u8],
        expected: Option<(&Fig7Run, &Fig7Settings)>,
    ) -> Result<Self, String> {
        let r: Fig7Record = serde_json::from_slice(bytes)
            .map_err(|e| format!("not a phaselab fig7 record: {e}"))?;
        if let Some((run, settings)) = expected {
            if &r.run != run {
                return Err(format!("it holds run {}, not {}", r.run.id(), run.id()));
            }
            if &r.settings != settings {
                return Err(format!(
                    "it was trained at other sizes ({:?}; this tier: {settings:?})",
                    r.settings
                ));
            }
        }
        if !(r.train_mse.is_finite() && r.test_mse.is_finite()) {
            return Err(format!(
                "its MSEs are {} (train) and {} (test)",
                r.train_mse, r.test_mse
            ));
        }
        Ok(r)
    }
}

/// One bar of fig7: (environment, model, mean, standard error).
pub type Fig7Bar = (String, String, f64, f64);

/// fig7's results: one CSV row per record.
pub fn fig7_csv(tier: Tier, records: &[Fig7Record]) -> String {
    let mut csv = String::from(
        "figure,tier,environment,model,seed,train_mse,test_mse,parameters,train_seconds\n",
    );
    for r in records {
        csv += &format!(
            "fig7,{tier},{},{},{},{},{},{},{}\n",
            r.run.env,
            r.run.model,
            r.run.seed,
            r.train_mse,
            r.test_mse,
            r.parameters,
            r.train_seconds
        );
    }
    csv
}

/// fig7's table (markdown: standardised MSE, mean ± standard error over seeds, per environment,
/// split and model) and the bars behind it: (train bars, test bars).
pub fn fig7_table(tier: Tier, records: &[Fig7Record]) -> (String, Vec<Fig7Bar>, Vec<Fig7Bar>) {
    let mut md = format!(
        "# fig7 ({tier} tier): control-aware models on MuJoCo (standardised MSE, mean ± standard error over seeds)\n\n| environment | split |"
    );
    for k in ControlKind::ALL {
        md += &format!(" {k} |");
    }
    md += "\n|---|---|";
    md += &"---|".repeat(ControlKind::ALL.len());
    md += "\n";
    let (mut train_bars, mut test_bars) = (Vec::new(), Vec::new());
    for env in ENVIRONMENTS {
        for (split, bars) in [("train", &mut train_bars), ("test", &mut test_bars)] {
            md += &format!("| {env} | {split} |");
            for k in ControlKind::ALL {
                let xs: Vec<f64> = records
                    .iter()
                    .filter(|r| r.run.env == env && r.run.model == k)
                    .map(|r| {
                        if split == "train" {
                            r.train_mse
                        } else {
                            r.test_mse
                        }
                    })
                    .collect();
                if xs.is_empty() {
                    md += " – |";
                    continue;
                }
                let (mean, se) = crate::stats::mean_and_standard_error(&xs);
                md += &format!(" {mean:.3e} ± {se:.1e} (n={}) |", xs.len());
                bars.push((env.to_string(), k.name().to_string(), mean, se));
            }
            md += "\n";
        }
    }
    (md, train_bars, test_bars)
}
