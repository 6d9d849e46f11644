//! Ablations: committed `phaselab compare` outputs, one change to the training recipe each, tabled
//! beside the run as trained so the change's effect on each model reads as a ratio.

use crate::experiments::comparison::{ComparedRun, Comparison};
use crate::models::ModelKind;

/// The first finished run of `model` in `c` (a comparison over several seeds lists each model's
/// runs in seed order).
fn run_of(c: &Comparison, model: ModelKind) -> Option<&ComparedRun> {
    c.runs.iter().find(|r| r.model == model)
}

/// A table of ablations, each a committed `phaselab compare` output (compare.json) under a name:
/// per model its test MSE and gerr, with the optimiser steps and settings it names.
pub fn ablation_table(ablations: &[(String, Comparison)]) -> String {
    let models = [ModelKind::Node, ModelKind::NodeSo, ModelKind::Hnn];
    let mut md = String::from("| ablation | system | steps | data seed |");
    for m in models {
        md += &format!(" {m} MSE | {m} gerr |");
    }
    md += "\n|---|---|---|---|";
    md += &"---|---|".repeat(models.len());
    md += "\n";
    for (name, c) in ablations {
        md += &format!(
            "| {name} | {} | {} | {} |",
            c.system, c.optimiser_steps, c.settings.data_seed,
        );
        for m in models {
            // A model can be missing from a comparison: `--models` did not ask for it, or none of
            // its runs finished (compare.json lists the finished runs only).
            md += &match run_of(c, m) {
                Some(r) => format!(" {:.3e} | {:.3e} |", r.test.mse, r.test.gerr),
                None => " – | – |".to_string(),
            };
        }
        md += "\n";
    }
    // Each variant's test MSE over the as-trained run's, per model (for the models both have).
    let mse = |c: &Comparison, m: ModelKind| run_of(c, m).map(|r| r.test.mse);
    if let Some((_, base)) = ablations.iter().find(|(n, _)| n == "as-trained") {
        for (name, c) in ablations.iter().filter(|(n, _)| n != "as-trained") {
            let ratios: Vec<String> = models
                .iter()
                .filter_map(|&m| Some(format!("{m} {:.2}", mse(c, m)? / mse(base, m)?)))
                .collect();
            if !ratios.is_empty() {
                md += &format!(
                    "\n{name}: test MSE over the as-trained run's: {}.\n",
                    ratios.join(", ")
                );
            }
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A comparison on chain-pendulum:2 with node at test MSE `mse` and hnn at twice it (no
    /// node-so run).
    fn comparison(mse: f64) -> Comparison {
        crate::experiments::report::comparison_of(
            "chain-pendulum:2",
            0,
            0.0,
            &[
                (ModelKind::Node, mse, 0.1),
                (ModelKind::Hnn, 2.0 * mse, 0.01),
            ],
        )
    }

    #[test]
    fn ablations_are_tabled_with_their_ratio_to_the_run_as_trained() {
        let t = ablation_table(&[
            ("as-trained".into(), comparison(1.0)),
            ("variant".into(), comparison(1.5)),
        ]);
        assert!(t.contains("| as-trained | chain-pendulum:2 | 2000 | 0 | 1.000e0 | 1.000e-1 | – | – | 2.000e0 |"), "{t}");
        assert!(
            t.contains("variant: test MSE over the as-trained run's: node 1.50, hnn 1.50."),
            "{t}"
        );
    }
}
