//! Figure 7 (MuJoCo, control-aware models): the budget beside the paper's, test rollout MSE per
//! environment and model, where along the rollout and in which coordinates the error sits, and the
//! verdict on the paper's claim that NODE+SO is the most accurate there.

use super::claims::{listed, verdict};
use super::tables::Cell;
use crate::experiments::mujoco::{fig7_rows, fig7_runs, fig7_settings, Fig7Settings, ENVIRONMENTS};
use crate::experiments::record::{ControlScores, RunRecord};
use crate::experiments::Tier;
use crate::models::ControlKind;
use crate::stats::mean_and_standard_error;
use crate::train::{mujoco_train_config, steps_per_epoch};
use std::collections::BTreeSet;

/// One finished fig7 run as the block reads it.
struct Row<'a> {
    env: &'a str,
    model: ControlKind,
    git_commit: &'a str,
    /// Its share of the training wall time (a population's is shared by its members).
    seconds: f64,
    scores: &'a ControlScores,
}

/// Optimiser steps of one fig7 run at these sizes.
fn optimiser_steps(f: &Fig7Settings) -> usize {
    f.epochs * steps_per_epoch(f.train_chunks, mujoco_train_config().batch)
}

/// The finished runs of `tier`'s fig7 grid among `records` (other runs and sizes left out).
fn rows_of(tier: Tier, records: &[RunRecord]) -> Vec<Row<'_>> {
    let runs = fig7_runs(tier, None);
    fig7_rows(records)
        .into_iter()
        .filter(|(r, _, _)| runs.contains(&r.spec))
        .map(|(r, model, scores)| Row {
            env: r.spec.system.as_str(),
            model,
            git_commit: r.git_commit.as_str(),
            seconds: r.train_seconds / r.population.max(1) as f64,
            scores,
        })
        .collect()
}

/// Figure 7 from its records: the budget beside the paper's, test rollout MSE per environment
/// and model (mean ± standard error over seeds), and the verdict on the paper's MuJoCo claim.
/// Records of other runs or other sizes are left out.
pub fn fig7_block(tier: Tier, records: &[RunRecord]) -> String {
    let s = fig7_settings(tier);
    let paper = fig7_settings(Tier::Paper);
    let batch = mujoco_train_config().batch;
    let runs = fig7_runs(tier, None);
    let mine = rows_of(tier, records);
    let commits: BTreeSet<&str> = mine.iter().map(|r| r.git_commit).collect();
    let seconds = 0.0 + mine.iter().map(|r| r.seconds).sum::<f64>();
    let mut md = format!(
        "Tier `{tier}`: {} training chunks of 3 steps (batch {batch}), {} test trajectories of {} steps, width {}, {} epochs = **{} optimiser steps per run**, {} seeds; the paper: {} epochs on {} chunks = {} steps. {} of {} runs recorded ({:.1} CPU hours), from commit(s) {}.\n\n",
        s.train_chunks,
        s.test_trajectories,
        s.test_length,
        s.width,
        s.epochs,
        optimiser_steps(&s),
        s.seeds,
        paper.epochs,
        paper.train_chunks,
        optimiser_steps(&paper),
        mine.len(),
        runs.len(),
        seconds / 3600.0,
        if commits.is_empty() { "–".to_string() } else { commits.into_iter().collect::<Vec<_>>().join(", ") }
    );
    md += "| environment |";
    for k in ControlKind::ALL {
        md += &format!(" {k} test MSE |");
    }
    md += "\n|---|";
    md += &"---|".repeat(ControlKind::ALL.len());
    md += "\n";
    let (mut lowest, mut n, mut parts) = (0, 0, Vec::new());
    // Environments where node-so is below the best other model by more than two standard errors
    // of the difference, and those where another model is that far below node-so.
    let (mut clear, mut beaten) = (0, Vec::new());
    // Environments where both second-order models are that far below the first-order NODE.
    let mut second_order = 0;
    for env in ENVIRONMENTS {
        // As a table cell, so that the claim compares by the two-standard-error rule of the others.
        let cell = |k: ControlKind| {
            let xs: Vec<f64> = mine
                .iter()
                .filter(|r| r.env == env && r.model == k)
                .map(|r| r.scores.test_mse)
                .collect();
            let (mean, se) = mean_and_standard_error(&xs);
            Cell {
                mean,
                se,
                n: xs.len(),
                diverged: 0,
                unscored: 0,
            }
        };
        let cells: Vec<(ControlKind, Cell)> =
            ControlKind::ALL.iter().map(|&k| (k, cell(k))).collect();
        let of = |k: ControlKind| &cells.iter().find(|c| c.0 == k).expect("every model").1;
        let best = cells
            .iter()
            .filter(|c| c.1.n > 0)
            .min_by(|a, b| a.1.mean.total_cmp(&b.1.mean))
            .map(|c| c.0);
        md += &format!("| {env} |");
        for (k, c) in &cells {
            md += &match (c.n, Some(*k) == best) {
                (0, _) => " – |".into(),
                (_, true) => format!(" **{:.3e}** ± {:.1e} (n={}) |", c.mean, c.se, c.n),
                (_, false) => format!(" {} |", c.text()),
            };
        }
        md += "\n";
        if cells.iter().all(|c| c.1.n > 0) {
            n += 1;
            let so = of(ControlKind::NodeSo);
            let (other, oc) = cells
                .iter()
                .filter(|c| c.0 != ControlKind::NodeSo)
                .min_by(|a, b| a.1.mean.total_cmp(&b.1.mean))
                .expect("two others");
            lowest += usize::from(best == Some(ControlKind::NodeSo));
            clear += usize::from(so.clearly_below(oc));
            let node = of(ControlKind::Node);
            second_order += usize::from(
                cells
                    .iter()
                    .all(|c| c.0 == ControlKind::Node || c.1.clearly_below(node)),
            );
            if oc.clearly_below(so) {
                beaten.push(format!("{env} ({other})"));
            }
            parts.push(format!(
                "{env}: node-so {:.3e} vs the best other, {other}, {:.3e} ({:.2}x)",
                so.mean,
                oc.mean,
                oc.mean / so.mean
            ));
        }
    }
    md += &format!(
        "\n**Claim** (fig7): NODE+SO's test rollouts are the most accurate of the three control-aware models on MuJoCo. Verdict: **{}**. node-so is lowest on {lowest} of {n} environments, below the best other model by more than two standard errors on {clear}; {}. Both second-order models (node-so and hnn-forced) are below node by more than two standard errors on {second_order} of {n}. {}\n",
        verdict(lowest, n, ENVIRONMENTS.len()),
        match beaten.len() {
            0 => "no other model is that far below it anywhere".to_string(),
            _ => format!(
                "another model is that far below it on {}",
                beaten.join(", ")
            ),
        },
        listed(&parts)
    );
    md + &fig7_horizons(&mine) + &fig7_coordinates(&mine)
}

/// What a tier's fig7 runs cost against what was estimated before they trained: each run's
/// training time at `base` (mean per environment and model, a population's time shared by its
/// members) times the ratio of optimiser steps, and beside it the time the recorded runs took.
/// Times are wall time of training (`train_seconds`), under whatever else the machine ran.
pub fn fig7_cost_block(tier: Tier, records: &[RunRecord], base: (Tier, &[RunRecord])) -> String {
    let steps = |t: Tier| optimiser_steps(&fig7_settings(t));
    let (mine, theirs) = (rows_of(tier, records), rows_of(base.0, base.1));
    let scale = steps(tier) as f64 / steps(base.0) as f64;
    // Mean hours per run of one environment and model, and how many runs.
    let hours = |rows: &[Row<'_>], env: &str, k: ControlKind| {
        let xs: Vec<f64> = rows
            .iter()
            .filter(|r| r.env == env && r.model == k)
            .map(|r| r.seconds / 3600.0)
            .collect();
        (xs.iter().sum::<f64>() / xs.len().max(1) as f64, xs.len())
    };
    let plan = fig7_runs(tier, None);
    let (mut estimate, mut unestimated) = (0.0, 0);
    let (mut table, mut spent) = (String::new(), 0.0);
    // Over the recorded runs that have an estimate: hours taken, hours estimated, runs.
    let (mut took_est, mut spent_estimate, mut n_est) = (0.0, 0.0, 0);
    for env in ENVIRONMENTS {
        for k in ControlKind::ALL {
            let planned = plan
                .iter()
                .filter(|s| s.system == env && s.model.control() == Some(k))
                .count();
            let (at_base, nb) = hours(&theirs, env, k);
            let per_run = at_base * scale;
            match nb {
                0 => unestimated += planned,
                _ => estimate += per_run * planned as f64,
            }
            let (took, n) = hours(&mine, env, k);
            if n == 0 {
                continue;
            }
            spent += took * n as f64;
            let (est, ratio) = match nb {
                0 => ("–".to_string(), "–".to_string()),
                _ => {
                    took_est += took * n as f64;
                    spent_estimate += per_run * n as f64;
                    n_est += n;
                    (format!("{per_run:.2}"), format!("{:.2}", took / per_run))
                }
            };
            table += &format!("| {env} | {k} | {est} | {took:.2} (n={n}) | {ratio} |\n");
        }
    }
    let mut md = format!(
        "Cost. Estimated before training, from the `{}` tier's fig7 records (each environment and model's mean training time per run, times {scale:.0} for {} optimiser steps against {}): **{estimate:.1} CPU hours** for the {} runs",
        base.0,
        steps(tier),
        steps(base.0),
        plan.len()
    );
    if unestimated > 0 {
        md += &format!(
            " ({unestimated} of them without a `{}` record to scale, left out)",
            base.0
        );
    }
    md += &format!(
        ". The {} runs recorded took **{spent:.1} CPU hours**",
        mine.len()
    );
    if n_est > 0 {
        let those = match n_est == mine.len() {
            true => "them".to_string(),
            false => format!("the {n_est} of them with an estimate, which took {took_est:.1}"),
        };
        md += &format!(
            ", against {spent_estimate:.1} estimated for {those} ({:.2}x)",
            took_est / spent_estimate
        );
    }
    md += ".\n";
    if !table.is_empty() {
        md += "\n| environment | model | estimated h per run | measured h per run | measured / estimated |\n|---|---|---|---|---|\n";
        md += &table;
    }
    md
}

/// Which state coordinates the test error sits in: per environment and model, the three
/// features (q_i then v_i, MuJoCo's qpos and qvel) with the largest MSE over the rollout, mean
/// over seeds, each with its share of the sum over features. Only records that keep it.
fn fig7_coordinates(mine: &[Row<'_>]) -> String {
    let mut rows = String::new();
    for env in ENVIRONMENTS {
        for k in ControlKind::ALL {
            let v: Vec<&Vec<f64>> = mine
                .iter()
                .filter(|r| r.env == env && r.model == k)
                .map(|r| &r.scores.test_mse_by_feature)
                .collect();
            let f = v.first().map_or(0, |x| x.len());
            if f == 0 || f % 2 == 1 || v.iter().any(|x| x.len() != f) {
                continue;
            }
            let mean: Vec<f64> = (0..f)
                .map(|i| v.iter().map(|x| x[i]).sum::<f64>() / v.len() as f64)
                .collect();
            let total: f64 = mean.iter().sum();
            let mut order: Vec<usize> = (0..f).collect();
            order.sort_by(|&a, &b| mean[b].total_cmp(&mean[a]));
            rows += &format!("| {env} | {k} |");
            for &i in order.iter().take(3) {
                let name = if i < f / 2 {
                    format!("q{i}")
                } else {
                    format!("v{}", i - f / 2)
                };
                rows += &format!(
                    " {name}: {:.2e} ({:.0}%) |",
                    mean[i],
                    100.0 * mean[i] / total
                );
            }
            rows += "\n";
        }
    }
    if rows.is_empty() {
        return rows;
    }
    "\nWhere the test error sits: the three state features (q_i and v_i are MuJoCo's qpos[i] and qvel[i]) with the largest MSE over the rollout, mean over seeds, and each one's share of the sum over features:\n\n| environment | model | largest | second | third |\n|---|---|---|---|---|\n".to_string() + &rows
}

/// Where along the test rollouts the models part: the standardised MSE at a few rollout steps
/// (mean over seeds), since the 200-step mean is decided by its last steps wherever errors grow.
fn fig7_horizons(mine: &[Row<'_>]) -> String {
    let len = mine
        .iter()
        .map(|r| r.scores.test_mse_curve.len())
        .min()
        .unwrap_or(0);
    let steps: Vec<usize> = [1, 10, 50, 100, len.saturating_sub(1)]
        .into_iter()
        .filter(|&k| k < len)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if steps.is_empty() {
        return String::new();
    }
    let mut md = String::from(
        "\nTest MSE at a rollout step (mean over seeds), to show where the models part:\n\n| environment | model |",
    );
    for k in &steps {
        md += &format!(" step {k} |");
    }
    md += &format!("\n|---|---|{}\n", "---|".repeat(steps.len()));
    for env in ENVIRONMENTS {
        for k in ControlKind::ALL {
            let curves: Vec<&Vec<f64>> = mine
                .iter()
                .filter(|r| r.env == env && r.model == k)
                .map(|r| &r.scores.test_mse_curve)
                .collect();
            if curves.is_empty() {
                continue;
            }
            md += &format!("| {env} | {k} |");
            for &s in &steps {
                let xs: Vec<f64> = curves.iter().map(|c| c[s]).collect();
                md += &format!(" {:.2e} |", mean_and_standard_error(&xs).0);
            }
            md += "\n";
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiments::record::Outcome;
    use crate::experiments::{RunSettings, RunSpec};

    fn fig7_rec(spec: RunSpec, test_mse: f64) -> RunRecord {
        RunRecord {
            spec,
            phaselab_version: "test".into(),
            git_commit: "abc".into(),
            parameters: 1,
            optimiser_steps: 3200,
            train_seconds: 1.0,
            population: 1,
            loss_history: vec![],
            outcome: Outcome::Control(ControlScores {
                train_mse: 0.1,
                test_mse,
                test_mse_curve: vec![],
                test_mse_by_feature: vec![],
            }),
        }
    }

    /// `r` with its scores changed by `f`.
    fn with_scores(r: &RunRecord, f: impl Fn(&mut ControlScores)) -> RunRecord {
        let mut r = r.clone();
        if let Outcome::Control(c) = &mut r.outcome {
            f(c);
        }
        r
    }

    #[test]
    fn fig7_verdict_follows_which_model_is_lowest() {
        let runs = fig7_runs(Tier::Reference, None);
        // node-so lowest everywhere but Swimmer, where hnn-forced is.
        let recs: Vec<RunRecord> = runs
            .iter()
            .map(|r| {
                let (model, _) = r.control().expect("a control run");
                let mse = match (model, r.system.as_str()) {
                    (ControlKind::NodeSo, "Swimmer-v5") => 0.5,
                    (ControlKind::NodeSo, _) => 0.1,
                    (ControlKind::HnnForced, "Swimmer-v5") => 0.2,
                    (ControlKind::HnnForced, _) => 0.3,
                    _ => 0.4,
                };
                fig7_rec(r.clone(), mse + 0.01 * r.seed as f64)
            })
            .collect();
        let md = fig7_block(Tier::Reference, &recs);
        assert!(md.contains("Verdict: **partly**"), "{md}");
        assert!(
            !md.contains("rollout step"),
            "no curves, no horizon table: {md}"
        );
        // With curves, the MSE along the rollout is tabled at a few steps, mean over seeds.
        let curved: Vec<RunRecord> = recs
            .iter()
            .map(|r| {
                let seed = r.spec.seed as f64;
                with_scores(r, |c| {
                    c.test_mse_curve = (0..200).map(|k| k as f64 * (1.0 + seed)).collect()
                })
            })
            .collect();
        let md = fig7_block(Tier::Reference, &curved);
        assert!(
            md.contains(
                "| environment | model | step 1 | step 10 | step 50 | step 100 | step 199 |"
            ),
            "{md}"
        );
        assert!(
            md.contains("| Swimmer-v5 | node-so | 1.50e0 | 1.50e1 | 7.50e1 | 1.50e2 | 2.98e2 |"),
            "{md}"
        );
        assert!(
            md.contains("node-so is lowest on 3 of 4 environments, below the best other model by more than two standard errors on 3; another model is that far below it on Swimmer-v5 (hnn-forced). Both second-order models (node-so and hnn-forced) are below node by more than two standard errors on 3 of 4."),
            "{md}"
        );
        // Lowest by less than the seeds' spread: still lowest, no longer clearly so, and a model
        // within the spread above it is not clearly below it either.
        let close: Vec<RunRecord> = recs
            .iter()
            .map(|r| {
                let (model, _) = r.spec.control().expect("a control run");
                let seed = r.spec.seed as f64;
                match (model, r.spec.system.as_str()) {
                    // 0.285 ± 0.085 against hnn-forced's 0.305 and node's 0.405, both ± 0.005.
                    (ControlKind::NodeSo, "Hopper-v5") => {
                        with_scores(r, |c| c.test_mse = 0.2 + 0.17 * seed)
                    }
                    // 0.425 ± 0.125 against hnn-forced's 0.205 ± 0.005.
                    (ControlKind::NodeSo, "Swimmer-v5") => {
                        with_scores(r, |c| c.test_mse = 0.3 + 0.25 * seed)
                    }
                    _ => r.clone(),
                }
            })
            .collect();
        let md = fig7_block(Tier::Reference, &close);
        assert!(
            md.contains("node-so is lowest on 3 of 4 environments, below the best other model by more than two standard errors on 2; no other model is that far below it anywhere. Both second-order models (node-so and hnn-forced) are below node by more than two standard errors on 2 of 4."),
            "{md}"
        );
        assert!(
            md.contains("**3200 optimiser steps per run**") && md.contains("24 of 24 runs"),
            "{md}"
        );
        assert!(
            !md.contains("Where the test error sits"),
            "no features kept: {md}"
        );
        // Swimmer's records keep the error per feature: 5 q then 5 v, q0 largest, then v1.
        let featured: Vec<RunRecord> = curved
            .iter()
            .map(|r| {
                let s = 1.0 + r.spec.seed as f64; // seeds 0 and 1: mean 1.5x
                let swimmer = r.spec.system == "Swimmer-v5";
                with_scores(r, |c| {
                    c.test_mse_by_feature = if swimmer {
                        vec![6.0 * s, 0.1, 0.1, 0.1, 0.1, 0.1, 2.0 * s, 0.1, 0.1, 1.0]
                    } else {
                        vec![]
                    }
                })
            })
            .collect();
        let md = fig7_block(Tier::Reference, &featured);
        assert!(
            md.contains(
                "| Swimmer-v5 | node-so | q0: 9.00e0 (66%) | v1: 3.00e0 (22%) | v4: 1.00e0 (7%) |"
            ),
            "{md}"
        );
        assert!(!md.contains("| Hopper-v5 | node-so | q"), "{md}");
        // A population's wall time is counted once: two members trained together for an hour.
        let mut pair = recs[..2].to_vec();
        for r in &mut pair {
            r.population = 2;
            r.train_seconds = 3600.0;
        }
        let md = fig7_block(Tier::Reference, &pair);
        assert!(md.contains("2 of 24 runs recorded (1.0 CPU hours)"), "{md}");
        // Records at other sizes are not counted.
        let mut other = recs[0].clone();
        if let RunSettings::Control(s) = &mut other.spec.settings {
            s.epochs = 1;
        }
        let md = fig7_block(Tier::Reference, &[other]);
        assert!(
            md.contains("0 of 24 runs") && md.contains("no runs yet"),
            "{md}"
        );
    }

    /// The cost block scales the base tier's time per run by the ratio of optimiser steps and
    /// sets the recorded runs' time beside it.
    #[test]
    fn fig7_cost_is_estimated_from_the_shorter_tier_and_measured_beside_it() {
        let timed = |spec: RunSpec, seconds: f64| RunRecord {
            train_seconds: seconds,
            ..fig7_rec(spec, 0.5)
        };
        // Reference: 3200 steps per run, 225 s each; the paper tier: 51200 steps, so 1 h each.
        let base: Vec<RunRecord> = fig7_runs(Tier::Reference, None)
            .into_iter()
            .map(|s| timed(s, 225.0))
            .collect();
        let paper = fig7_runs(Tier::Paper, None);
        let hopper_node: Vec<RunRecord> = paper
            .iter()
            .filter(|s| s.system == "Hopper-v5" && s.model.control() == Some(ControlKind::Node))
            .take(2)
            .map(|s| timed(s.clone(), 7200.0))
            .collect();
        let md = fig7_cost_block(Tier::Paper, &hopper_node, (Tier::Reference, &base));
        assert!(md.contains("times 16 for 51200 optimiser steps against 3200): **36.0 CPU hours** for the 36 runs. The 2 runs recorded took **4.0 CPU hours**, against 2.0 estimated for them (2.00x)."), "{md}");
        assert!(
            md.contains("| Hopper-v5 | node | 1.00 | 2.00 (n=2) | 2.00 |"),
            "{md}"
        );
        assert_eq!(md.matches("| Hopper-v5 |").count(), 1, "{md}");
        // An environment and model without base records is left out of the estimate, and said to be.
        let cheetah = |r: &RunRecord| {
            r.spec.system == "HalfCheetah-v5"
                && r.spec.model.control() == Some(ControlKind::HnnForced)
        };
        let fewer: Vec<RunRecord> = base.iter().filter(|r| !cheetah(r)).cloned().collect();
        let md = fig7_cost_block(Tier::Paper, &[], (Tier::Reference, &fewer));
        assert!(md.contains("**33.0 CPU hours** for the 36 runs (3 of them without a `reference` record to scale, left out). The 0 runs recorded took **0.0 CPU hours**."), "{md}");
    }
}
