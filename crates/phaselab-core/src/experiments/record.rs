//! A finished run's record: what was trained (its spec), by which code, and what it scored, with
//! the loss history and the error curves; no weights. Records are small enough to commit, a
//! reproduction treats a run with a record as finished, and RESULTS.md is computed from them.
//! Figure 7's runs (control-aware models) have records of this one kind too; the files they had
//! before (`docs/results/reference/fig7`, `<out>/records-fig7`) still read, converted as they
//! are parsed.

use super::{Fig7Settings, Model, RunSettings, RunSpec};
use crate::models::ControlKind;
use crate::train::evaluate::NON_FINITE_ROLLOUT;
use crate::train::run::{ControlMetrics, RunFailure, RunMetrics, RunResult};
use crate::train::{Evaluation, Loss, TrainError};
use serde::{Deserialize, Serialize};

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Trained for every epoch and scored on the test set.
    Finished { test: Evaluation },
    /// The loss became NaN or infinite at this epoch (the same spec diverges again: not retried).
    Diverged { epoch: usize },
    /// A control-aware model (Figure 7) trained for every epoch and scored on its training
    /// chunks and its test trajectories.
    Control(ControlScores),
    /// Trained for every epoch, but its rollouts leave the floats on the test set, so it has no
    /// scores (the same spec does so again: not retried). Tables count it beside divergences.
    Unscored { reason: String },
}

/// What a control-aware run scored (from `train::ControlEvaluation`): the standardised rollout
/// MSE on its training chunks and test trajectories, and where along the test rollouts and in
/// which state features the error sits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ControlScores {
    /// Standardised rollout MSE on the training chunks.
    pub train_mse: f64,
    /// Standardised rollout MSE on the test trajectories.
    pub test_mse: f64,
    /// Test MSE at each step of the rollout (step 0 is the given state).
    pub test_mse_curve: Vec<f64>,
    /// Test MSE of each state feature (q then v) over the whole rollout; empty in records
    /// written before it was kept.
    #[serde(default)]
    pub test_mse_by_feature: Vec<f64>,
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

/// A Figure 7 record as written before Figure 7's runs were [`RunSpec`]s (the committed
/// `docs/results/reference/fig7/*.json`): read, and converted into a [`RunRecord`].
#[derive(Deserialize)]
struct LegacyFig7Record {
    run: LegacyFig7Run,
    settings: Fig7Settings,
    phaselab_version: String,
    git_commit: String,
    parameters: usize,
    optimiser_steps: usize,
    train_seconds: f64,
    loss_history: Vec<f32>,
    train_mse: f64,
    test_mse: f64,
    test_mse_curve: Vec<f64>,
    #[serde(default)]
    test_mse_by_feature: Vec<f64>,
}

#[derive(Deserialize)]
struct LegacyFig7Run {
    env: String,
    model: ControlKind,
    seed: u64,
}

impl LegacyFig7Record {
    fn into_record(self) -> RunRecord {
        RunRecord {
            spec: RunSpec {
                system: self.run.env,
                model: Model::Control(self.run.model),
                seed: self.run.seed,
                loss: Loss::L2,
                alpha: None,
                settings: RunSettings::Control(self.settings),
                coordinates: Default::default(),
            },
            phaselab_version: self.phaselab_version,
            git_commit: self.git_commit,
            parameters: self.parameters,
            optimiser_steps: self.optimiser_steps,
            train_seconds: self.train_seconds,
            population: 1,
            loss_history: self.loss_history,
            outcome: Outcome::Control(ControlScores {
                train_mse: self.train_mse,
                test_mse: self.test_mse,
                test_mse_curve: self.test_mse_curve,
                test_mse_by_feature: self.test_mse_by_feature,
            }),
        }
    }
}

/// A finished run's scores as a record keeps them.
impl From<RunMetrics> for Outcome {
    fn from(m: RunMetrics) -> Self {
        Outcome::Finished { test: m.test }
    }
}

impl From<ControlMetrics> for Outcome {
    fn from(m: ControlMetrics) -> Self {
        Outcome::Control(ControlScores {
            train_mse: m.train_mse,
            test_mse: m.test_mse,
            test_mse_curve: m.test.mse_curve,
            test_mse_by_feature: m.test.mse_by_feature,
        })
    }
}

/// Which code trained a record: `phaselab --version` and the git commit (the binary knows them).
#[derive(Clone, Copy, Debug)]
pub struct Build<'a> {
    pub version: &'a str,
    pub git_commit: &'a str,
}

impl RunRecord {
    /// The record of `spec` trained by `build` into `result`, as one of a population of
    /// `population` runs. A run that finished, diverged, or trained into a model whose rollouts
    /// overflow has a record; one that failed otherwise (stopped, or its evaluation could not
    /// run) has none, and its failure comes back.
    pub fn of_result<M: Into<Outcome>>(
        spec: RunSpec,
        result: RunResult<M>,
        population: usize,
        build: Build<'_>,
    ) -> Result<RunRecord, RunFailure> {
        let outcome = match result.outcome {
            Ok(m) => m.into(),
            Err(RunFailure::Train(TrainError::Diverged { epoch, .. })) => {
                Outcome::Diverged { epoch }
            }
            Err(RunFailure::Evaluation(reason)) if reason == NON_FINITE_ROLLOUT => {
                Outcome::Unscored { reason }
            }
            Err(e) => return Err(e),
        };
        Ok(RunRecord {
            spec,
            phaselab_version: build.version.into(),
            git_commit: build.git_commit.into(),
            parameters: result.parameters,
            optimiser_steps: result.optimiser_steps,
            train_seconds: result.seconds,
            population,
            loss_history: result.history.iter().map(|h| h.loss as f32).collect(),
            outcome,
        })
    }

    /// The test scores of an autonomous run that finished.
    pub fn test(&self) -> Option<&Evaluation> {
        match &self.outcome {
            Outcome::Finished { test } => Some(test),
            Outcome::Diverged { .. } | Outcome::Control(_) | Outcome::Unscored { .. } => None,
        }
    }

    /// The scores of a control-aware run that finished (Figure 7).
    pub fn control(&self) -> Option<&ControlScores> {
        match &self.outcome {
            Outcome::Control(c) => Some(c),
            Outcome::Finished { .. } | Outcome::Diverged { .. } | Outcome::Unscored { .. } => None,
        }
    }

    /// The record with its test error replaced by the error on the system's body points (the
    /// ladder's one scale; None when the evaluation did not compute it).
    pub fn scored_on_body_points(&self) -> Option<RunRecord> {
        let mut r = self.clone();
        if let Outcome::Finished { test } = &mut r.outcome {
            test.gerr = test.cartesian_gerr?;
            test.gerr_curve = test.cartesian_gerr_curve.clone()?;
        }
        Some(r)
    }

    /// Whether this record has what `fig` reads of it. The ladder scores every run on the body
    /// points, so a finished run recorded before those scores were kept does not serve it: it is
    /// trained again for it (training is deterministic, so its other numbers come back the same).
    pub fn serves(&self, fig: super::Figure) -> bool {
        fig != super::Figure::Ladder || self.test().is_none_or(|t| t.cartesian_gerr.is_some())
    }

    /// Whether the run diverged (it has no scores).
    pub fn diverged(&self) -> bool {
        matches!(self.outcome, Outcome::Diverged { .. })
    }

    /// Whether the run trained into a model that cannot be scored (it has no scores).
    pub fn unscored(&self) -> bool {
        matches!(self.outcome, Outcome::Unscored { .. })
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
    /// edited file is refused, not silently drawn under the wrong run). A Figure 7 record in the
    /// format it had before (`run`, `settings`, `train_mse`, ... at the top level) is converted.
    pub fn from_bytes(bytes: &[u8], expected: Option<&RunSpec>) -> Result<Self, RecordError> {
        let r: RunRecord = match serde_json::from_slice(bytes) {
            Ok(r) => r,
            Err(e) => match serde_json::from_slice::<LegacyFig7Record>(bytes) {
                Ok(old) => old.into_record(),
                Err(_) => return Err(RecordError(e.to_string())),
            },
        };
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
        if let Some(c) = r.control() {
            if !(c.train_mse.is_finite() && c.test_mse.is_finite()) {
                return Err(RecordError(format!(
                    "its MSEs are {} (train) and {} (test)",
                    c.train_mse, c.test_mse
                )));
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
    fn the_ladder_counts_a_run_finished_only_with_its_scores_on_body_points() {
        use crate::experiments::Figure;
        let mut r = RunRecord {
            outcome: Outcome::Finished {
                test: Evaluation {
                    gerr: 0.1,
                    gerr_curve: vec![0.1],
                    herr: None,
                    herr_curve: None,
                    mse: 0.1,
                    symplectic_error: None,
                    learned_h_drift: None,
                    cartesian_gerr: None,
                    cartesian_gerr_curve: None,
                    n_trajectories: 1,
                    n_steps: 2,
                },
            },
            ..record(vec![1.0; 10])
        };
        assert!(r.serves(Figure::Fig9) && !r.serves(Figure::Ladder));
        assert!(r.scored_on_body_points().is_none());
        if let Outcome::Finished { test } = &mut r.outcome {
            test.cartesian_gerr = Some(0.5);
            test.cartesian_gerr_curve = Some(vec![0.25, 0.5]);
        }
        assert!(r.serves(Figure::Ladder));
        let scored = r.scored_on_body_points().unwrap();
        assert_eq!(scored.test().unwrap().gerr, 0.5);
        assert_eq!(scored.test().unwrap().gerr_curve, vec![0.25, 0.5]);
        let diverged = RunRecord {
            outcome: Outcome::Diverged { epoch: 3 },
            ..r
        };
        assert!(
            diverged.serves(Figure::Ladder),
            "a divergence is a result in every figure"
        );
    }
    /// A run whose trained model's rollouts overflow is recorded as unscored, round trips, and
    /// has no scores; any other failure to evaluate leaves no record.
    #[test]
    fn a_model_whose_rollouts_overflow_is_recorded_unscored() {
        let spec = Figure::Fig4.runs(Tier::Smoke, None)[0].clone();
        let build = Build {
            version: "0",
            git_commit: "abc",
        };
        let result = |failure: &str| RunResult::<RunMetrics> {
            history: Vec::new(),
            outcome: Err(RunFailure::Evaluation(failure.into())),
            parameters: 10,
            seconds: 1.0,
            optimiser_steps: 2,
        };
        let r = RunRecord::of_result(spec.clone(), result(NON_FINITE_ROLLOUT), 1, build).unwrap();
        assert_eq!(
            r.outcome,
            Outcome::Unscored {
                reason: NON_FINITE_ROLLOUT.into()
            }
        );
        assert!(r.unscored() && !r.diverged() && r.test().is_none() && r.control().is_none());
        let back = RunRecord::from_bytes(&r.to_bytes(), Some(&spec)).unwrap();
        assert_eq!(back, r);
        let other = RunRecord::of_result(spec, result("the test set has 3 features"), 1, build);
        assert!(other.is_err(), "{other:?}");
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
        if let RunSettings::Tier(s) = &mut resized.settings {
            s.epochs += 1;
        }
        let e = RunRecord::from_bytes(&r.to_bytes(), Some(&resized)).unwrap_err();
        assert!(e.to_string().contains("trained at other sizes"), "{e}");
        assert!(RunRecord::from_bytes(b"{\"spec\": 1}", None).is_err());
        assert!(RunRecord::from_bytes(&r.to_bytes()[..40], None).is_err());
    }

    #[test]
    fn control_records_round_trip_and_old_fig7_records_still_read() {
        let spec = Figure::Fig7.runs(Tier::Smoke, None)[2].clone();
        let r = RunRecord {
            outcome: Outcome::Control(ControlScores {
                train_mse: 0.5,
                test_mse: 0.25,
                test_mse_curve: vec![0.0, 0.25, 0.5],
                test_mse_by_feature: vec![0.25; 4],
            }),
            spec,
            ..record(vec![1.0, 0.5])
        };
        let back = RunRecord::from_bytes(&r.to_bytes(), Some(&r.spec)).unwrap();
        assert_eq!(back, r);
        assert!(back.test().is_none() && !back.diverged());
        assert_eq!(back.control().unwrap().test_mse, 0.25);
        assert_eq!(
            RunRecord::file_name(&r.spec),
            "fig7__hopper-v5__hnn-forced__seed0.json"
        );
        let text = String::from_utf8(r.to_bytes()).unwrap();
        assert!(text.contains("\"control\": \"hnn-forced\""), "{text}");
        // A record in fig7's old format reads as the same run.
        let old = format!(
            "{{\"run\": {{\"env\": \"Hopper-v5\", \"model\": \"hnn-forced\", \"seed\": 0}}, \"settings\": {}, \"phaselab_version\": \"0\", \"git_commit\": \"abc\", \"parameters\": 10, \"optimiser_steps\": 2, \"train_seconds\": 1.0, \"loss_history\": [1.0, 0.5], \"train_mse\": 0.5, \"test_mse\": 0.25, \"test_mse_curve\": [0.0, 0.25, 0.5], \"test_mse_by_feature\": [0.25, 0.25, 0.25, 0.25]}}",
            serde_json::to_string(&super::super::fig7_settings(Tier::Smoke)).unwrap()
        );
        let converted = RunRecord::from_bytes(old.as_bytes(), Some(&r.spec)).unwrap();
        assert_eq!(converted, r);
        let other = Figure::Fig7.runs(Tier::Smoke, None)[0].clone();
        assert!(RunRecord::from_bytes(old.as_bytes(), Some(&other)).is_err());
    }

    /// Every committed record (docs/results/*/runs and fig7) parses, is named after its run, and
    /// writes back to a record of the same run with the same scores.
    #[test]
    fn every_committed_record_parses_and_keeps_its_id() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/results");
        for (dir, control) in [
            ("reference/runs", false),
            ("paper/runs", false),
            ("reference/fig7", true),
        ] {
            let dir = root.join(dir);
            let mut n = 0;
            for entry in std::fs::read_dir(&dir).unwrap() {
                let p = entry.unwrap().path();
                if !p.extension().is_some_and(|x| x == "json") {
                    continue;
                }
                let bytes = std::fs::read(&p).unwrap();
                let r = RunRecord::from_bytes(&bytes, None)
                    .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                let stem = p.file_stem().unwrap().to_str().unwrap().to_string();
                assert_eq!(r.spec.id(), stem, "{}", p.display());
                assert_eq!(r.spec.control().is_some(), control, "{}", p.display());
                assert_eq!(r.control().is_some(), control, "{}", p.display());
                let back = RunRecord::from_bytes(&r.to_bytes(), Some(&r.spec)).unwrap();
                assert_eq!(back.spec.id(), stem);
                assert_eq!(back, r, "{}", p.display());
                n += 1;
            }
            assert!(n > 0, "no records in {}", dir.display());
        }
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
