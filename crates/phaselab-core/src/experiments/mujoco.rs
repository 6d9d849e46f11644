//! Figure 7 as data: the control-aware models on MuJoCo environments (datasets made by
//! `tools/mujoco`), per tier. Its runs are [`RunSpec`]s (`Figure::Fig7.runs`) and its records
//! [`RunRecord`]s whose outcome holds the control scores; the grid's sizes live beside the other
//! tiers' in the parent module and are re-exported here.

pub use super::{fig7_settings, Fig7Settings, ENVIRONMENTS};

use super::record::{ControlScores, RunRecord};
use super::{Figure, RunSpec, Tier};
use crate::models::ControlKind;

/// Every run of the figure: environments x models x seeds (`Figure::Fig7.runs`).
pub fn fig7_runs(tier: Tier, seeds: Option<usize>) -> Vec<RunSpec> {
    Figure::Fig7.runs(tier, seeds)
}

/// The control-aware runs among `records` with their model and scores (other records, and
/// control runs that did not finish, are left out).
pub fn fig7_rows(records: &[RunRecord]) -> Vec<(&RunRecord, ControlKind, &ControlScores)> {
    records
        .iter()
        .filter_map(|r| Some((r, r.spec.model.control()?, r.control()?)))
        .collect()
}

/// One bar of fig7: (environment, model, mean, standard error).
pub type Fig7Bar = (String, String, f64, f64);

/// fig7's results: one CSV row per record.
pub fn fig7_csv(tier: Tier, records: &[RunRecord]) -> String {
    let mut csv = String::from(
        "figure,tier,environment,model,seed,train_mse,test_mse,parameters,train_seconds\n",
    );
    for (r, kind, c) in fig7_rows(records) {
        csv += &format!(
            "fig7,{tier},{},{},{},{},{},{},{}\n",
            r.spec.system,
            kind,
            r.spec.seed,
            c.train_mse,
            c.test_mse,
            r.parameters,
            r.train_seconds
        );
    }
    csv
}

/// fig7's table (markdown: standardised MSE, mean ± standard error over seeds, per environment,
/// split and model) and the bars behind it: (train bars, test bars).
pub fn fig7_table(tier: Tier, records: &[RunRecord]) -> (String, Vec<Fig7Bar>, Vec<Fig7Bar>) {
    let rows = fig7_rows(records);
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
                let xs: Vec<f64> = rows
                    .iter()
                    .filter(|(r, kind, _)| r.spec.system == env && *kind == k)
                    .map(|(_, _, c)| {
                        if split == "train" {
                            c.train_mse
                        } else {
                            c.test_mse
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
