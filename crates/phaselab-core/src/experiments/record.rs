//! A finished run's record: what was trained (its spec), by which code, and what it scored, with
//! the loss history and the error curves; no weights. Records are small enough to commit, a
//! reproduction treats a run with a record as finished, and RESULTS.md is computed from them.

use super::RunSpec;
use crate::train::Evaluation;
use serde::{Deserialize, Serialize};

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Trained for every epoch and scored on the test set.
    Finished { test: Evaluation },
    /// The loss became NaN or infinite at this epoch (the same spec diverges again: not retried).
    Diverged { epoch: usize },
}

/// One run, as committed under `docs/results/<tier>/runs/<id>.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub spec: RunSpec,
    /// `phaselab --version` of the code that trained it.
    pub phaselab_version: String,
    /// The git commit it was built from (`-dirty` when its code had uncommitted changes).
    pub git_commit: String,
    pub parameters: usize,
    /// Optimiser steps taken (epochs x steps per epoch, up to a divergence).
    pub optimiser_steps: usize,
    /// Wall time of its training (shared with the other members when it trained in a population).
    pub train_seconds: f64,
    /// Runs trained together with it as one population, itself included (1: alone); each member
    /// follows its solo run (`train::population`).
    #[serde(default = "one")]
    pub population: usize,
    /// Mean minibatch loss of each epoch trained.
    pub loss_history: Vec<f32>,
    pub outcome: Outcome,
}

fn one() -> usize {
    1
}

/// A record file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("not a phaselab run record: {0}")]
pub struct RecordError(String);

impl RunRecord {
    /// The test scores of a run that finished.
    pub fn test(&self) -> Option<&Evaluation> {
        match &self.outcome {
            Outcome::Finished { test } => Some(test),
            Outcome::Diverged { .. } => None,
        }
    }

    /// File name of the record of `spec` (its id, unique within a tier).
    pub fn file_name(spec: &RunSpec) -> String {
        format!("{}.json", spec.id())
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut s = serde_json::to_string_pretty(self).expect("records serialise");
        s.push('\n');
        s.into_bytes()
    }

    /// Parse a record, checking that it is the record of `expected` when given (a renamed or
    /// edited file is refused, not silently drawn under the wrong run).
    pub fn from_bytes(bytes: &[u8], expected: Option<&RunSpec>) -> Result<Self, RecordError> {
        let r: RunRecord = serde_json::from_slice(bytes).map_err(|e| RecordError(e.to_string()))?;
        if let Some(spec) = expected {
            if r.spec.id() != spec.id() {
                return Err(RecordError(format!(
                    "it holds run {}, not {}",
                    r.spec.id(),
                    spec.id()
                )));
            }
            if &r.spec != spec {
                return Err(RecordError(format!(
                    "it was trained at other sizes ({:?}; this tier: {:?})",
                    r.spec.settings, spec.settings
                )));
            }
        }
        if let Some(t) = r.test() {
            if !t.gerr.is_finite() {
                return Err(RecordError(format!("its test gerr is {}", t.gerr)));
            }
        }
        Ok(r)
    }

    /// The fraction by which the loss fell over the last fifth of training, (L(0.8 T) - L(T)) /
    /// L(0.8 T): well above zero means the run was still learning when it stopped.
    pub fn late_loss_drop(&self) -> Option<f64> {
        let n = self.loss_history.len();
        if n < 5 {
            return None;
        }
        // Means over a few epochs on each side, so that minibatch noise does not decide it.
        let w = (n / 20).max(1);
        let mean = |a: usize| {
            self.loss_history[a..a + w]
                .iter()
                .map(|&x| x as f64)
                .sum::<f64>()
                / w as f64
        };
        let (early, late) = (mean(n * 4 / 5 - w / 2), mean(n - w));
        (early.is_finite() && late.is_finite() && early > 0.0).then(|| (early - late) / early)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiments::{Figure, Tier};

    fn record(history: Vec<f32>) -> RunRecord {
        let spec = Figure::Fig4.runs(Tier::Smoke, None)[0].clone();
        RunRecord {
            spec,
            phaselab_version: "0".into(),
            git_commit: "abc".into(),
            parameters: 10,
            optimiser_steps: 2,
            train_seconds: 1.0,
            population: 1,
            loss_history: history,
            outcome: Outcome::Diverged { epoch: 3 },
        }
    }

    #[test]
    fn records_round_trip_and_refuse_another_run() {
        let r = record(vec![1.0, 0.5]);
        let back = RunRecord::from_bytes(&r.to_bytes(), Some(&r.spec)).unwrap();
        assert_eq!(back, r);
        let other = Figure::Fig4.runs(Tier::Smoke, None)[1].clone();
        let e = RunRecord::from_bytes(&r.to_bytes(), Some(&other)).unwrap_err();
        assert!(e.to_string().contains("not "), "{e}");
        let mut resized = r.spec.clone();
        resized.settings.epochs += 1;
        let e = RunRecord::from_bytes(&r.to_bytes(), Some(&resized)).unwrap_err();
        assert!(e.to_string().contains("trained at other sizes"), "{e}");
        assert!(RunRecord::from_bytes(b"{\"spec\": 1}", None).is_err());
        assert!(RunRecord::from_bytes(&r.to_bytes()[..40], None).is_err());
    }

    #[test]
    fn late_loss_drop_sees_a_loss_still_falling() {
        let falling: Vec<f32> = (0..100).map(|k| 1.0 / (1.0 + k as f32)).collect();
        let flat: Vec<f32> = (0..100).map(|k| 1.0 + 1e-3 * (k % 2) as f32).collect();
        assert!(record(falling).late_loss_drop().unwrap() > 0.1);
        assert!(record(flat).late_loss_drop().unwrap().abs() < 1e-2);
        assert!(record(vec![1.0; 3]).late_loss_drop().is_none());
    }
}
