//! What `phaselab compare` writes (compare.json): several models trained alike on one system and
//! scored on one test set. Defined once here, so the CLI that writes it and the results page that
//! reads the committed ablations agree on every field.

use crate::models::ModelKind;
use crate::train::Evaluation;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// One `phaselab compare` output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The system's name, e.g. `chain-pendulum:2`.
    pub system: String,
    /// The training settings every run shared.
    pub settings: CompareSettings,
    /// Optimiser steps of each run: epochs times steps per epoch.
    pub optimiser_steps: usize,
    /// The finished runs, model after model (a run that failed is left out).
    pub runs: Vec<ComparedRun>,
}

/// The settings of a comparison, as given on the command line (`phaselab compare --help`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompareSettings {
    pub epochs: usize,
    /// Hidden width of every MLP.
    pub width: usize,
    /// Hidden layers of every MLP.
    pub depth: usize,
    pub lr: f64,
    /// `--warmup` epochs of linear learning-rate warm-up (0, none, in files written before it).
    #[serde(default)]
    pub warmup: f64,
    /// `--max-speed`: training chunks with a velocity beyond it were left out (None: all kept,
    /// and in files written before it).
    #[serde(default)]
    pub max_speed: Option<f64>,
    pub batch: usize,
    /// `--loss` as given: `l2` or `l1`.
    pub loss: String,
    /// `--solver` as given, e.g. `rk4-38`.
    pub solver: String,
    /// Seed of the initial weights and the minibatch order (without `--seeds`).
    pub model_seed: u64,
    /// `--data`: the dataset trained on; None when the data was generated.
    pub data: Option<PathBuf>,
    /// Trajectories generated for training (without `--data`).
    pub n: usize,
    /// Test trajectories generated (without `--data`).
    pub n_test: usize,
    /// Seed of the generated data (without `--data-seeds`).
    pub data_seed: u64,
    /// Whether the HNN family's stabiliser was on.
    pub stabiliser: bool,
    /// Whether every output bias started at zero (`--zero-output-biases`).
    pub zero_output_biases: bool,
    /// `--fixed-edge-mass`: hnn-general's edge mass kept at its initial weights (false in files
    /// written before it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fixed_edge_mass: bool,
    /// `--seeds` as given; None without it, and in files written before compare trained
    /// populations (they lack the field).
    #[serde(default)]
    pub seeds: Option<String>,
    /// `--data-seeds` as given; None as for `seeds`.
    #[serde(default)]
    pub data_seeds: Option<String>,
    /// `phaselab --version` of the code that trained the runs.
    pub phaselab_version: String,
    /// The git commit it was built from.
    pub git_commit: String,
}

/// The reference's training solver, `--solver`'s default: one RK4 3/8 step per data interval.
pub const REFERENCE_SOLVER: &str = "rk4-38";

impl CompareSettings {
    /// The departure from the reference's protocol these runs were trained with, in words
    /// (None: the protocol itself).
    pub fn remedy(&self) -> Option<String> {
        let mut parts = Vec::new();
        if self.warmup > 0.0 {
            parts.push(format!("{} epochs of warm-up", self.warmup));
        }
        if let Some(v) = self.max_speed {
            parts.push(format!("chunks faster than {v} left out"));
        }
        if self.solver != REFERENCE_SOLVER {
            parts.push(format!("solver {}", self.solver));
        }
        if self.fixed_edge_mass {
            parts.push("the edge mass fixed at its initial weights".to_string());
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    /// How the training recipe differs from phaselab's (the reference's): loss, depth, width and
    /// learning rate, then any remedy; None where it is phaselab's.
    pub fn recipe(&self) -> Option<String> {
        let ours = crate::models::ModelConfig::new(crate::models::ModelKind::Node, 1, vec![false]);
        let mut parts = Vec::new();
        if self.loss != "l2" {
            parts.push(format!("{} loss", self.loss.to_uppercase()));
        }
        if self.depth != ours.depth {
            parts.push(format!("{} hidden layers", self.depth));
        }
        if self.width != ours.width {
            parts.push(format!("width {}", self.width));
        }
        if self.lr != crate::train::TrainConfig::default().lr {
            parts.push(format!("lr {}", self.lr));
        }
        parts.extend(self.remedy());
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// One finished run of a comparison.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComparedRun {
    pub model: ModelKind,
    /// The run's label: the model's name, or with several runs per model also its weight and
    /// data seeds. None in files written before compare trained several seeds (they lack it).
    #[serde(default)]
    pub run: Option<String>,
    pub parameters: usize,
    /// Wall time of its training.
    pub train_seconds: f64,
    pub test: Evaluation,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// Whether every field of `part` is in `whole` with the same value (`whole` may hold more).
    fn holds(whole: &Value, part: &Value) -> bool {
        match (whole, part) {
            (Value::Object(w), Value::Object(p)) => {
                p.iter().all(|(k, v)| w.get(k).is_some_and(|x| holds(x, v)))
            }
            (Value::Array(w), Value::Array(p)) => {
                w.len() == p.len() && w.iter().zip(p).all(|(x, v)| holds(x, v))
            }
            _ => whole == part,
        }
    }

    /// Every committed ablation (docs/results/reference/ablations/NAME.json, a compare.json)
    /// reads as a Comparison, and keeps every value its file holds.
    #[test]
    fn committed_ablations_are_comparisons() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/results/reference/ablations"
        );
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .map(|e| e.expect("a directory entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        assert!(!paths.is_empty(), "no ablations in {dir}");
        let mut bad = Vec::new();
        for p in &paths {
            let bytes = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            match serde_json::from_slice::<Comparison>(&bytes) {
                Err(e) => bad.push(format!("{}: {e}", p.display())),
                Ok(c) => {
                    let file: Value = serde_json::from_slice(&bytes).expect("JSON");
                    let typed = serde_json::to_value(&c).expect("serialisable");
                    if !holds(&typed, &file) {
                        bad.push(format!("{}: a value is lost on reading", p.display()));
                    }
                }
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }
}
