//! RESULTS.md's numbers, computed from run records and never typed by hand: the budget that
//! trained them, each figure's table (mean ± standard error over data seeds) and each claim of the
//! paper with its verdict. `phaselab results` writes them between markers in RESULTS.md, and a test
//! fails when the committed page differs from what the committed records give.

use super::mujoco::{fig7_runs, fig7_settings, Fig7Record, Fig7Settings, ENVIRONMENTS};
use super::record::RunRecord;
use super::{Figure, Layout, RunSpec, Tier, ALPHAS};
use crate::models::{ControlKind, ModelKind};
use crate::stats::{log_log_line, mean_and_standard_error};
use crate::train::{mujoco_train_config, steps_per_epoch, Loss, TrainConfig};
use std::collections::BTreeSet;

/// The records of `fig`'s grid at `tier` (any number of seeds), in grid order.
pub fn of_figure<'a>(fig: Figure, tier: Tier, records: &'a [RunRecord]) -> Vec<&'a RunRecord> {
    let max_seed = records.iter().map(|r| r.spec.seed).max().unwrap_or(0);
    let grid = fig.runs(tier, Some(max_seed as usize + 1));
    grid.iter()
        .filter_map(|s| records.iter().find(|r| &r.spec == s))
        .collect()
}

/// A cell of a table: the test gerr of the finished seeds of one setting.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub mean: f64,
    pub se: f64,
    pub n: usize,
    pub diverged: usize,
}

impl Cell {
    fn of(runs: &[&RunRecord]) -> Cell {
        let xs: Vec<f64> = runs.iter().filter_map(|r| Some(r.test()?.gerr)).collect();
        let (mean, se) = mean_and_standard_error(&xs);
        Cell {
            mean,
            se,
            n: xs.len(),
            diverged: runs.len() - xs.len(),
        }
    }

    fn text(&self) -> String {
        if self.n == 0 && self.diverged == 0 {
            return "–".into();
        }
        let mut s = if self.n == 0 {
            "–".to_string()
        } else {
            format!("{:.3e} ± {:.1e} (n={})", self.mean, self.se, self.n)
        };
        if self.diverged > 0 {
            s += &format!(", {} diverged", self.diverged);
        }
        s
    }

    /// Whether self is below other by more than two standard errors of the difference (which
    /// needs two seeds on each side).
    fn clearly_below(&self, other: &Cell) -> bool {
        self.n > 1
            && other.n > 1
            && other.mean - self.mean > 2.0 * (self.se.powi(2) + other.se.powi(2)).sqrt()
    }
}

fn cell(runs: &[&RunRecord], keep: impl Fn(&RunSpec) -> bool) -> Cell {
    let sel: Vec<&RunRecord> = runs.iter().copied().filter(|r| keep(&r.spec)).collect();
    Cell::of(&sel)
}

fn cell_of(runs: &[&RunRecord], system: &str, model: ModelKind, loss: Loss) -> Cell {
    cell(runs, |s| {
        s.system == system && s.model == model && s.loss == loss
    })
}

/// The training budget the records hold: steps, seeds, commits and time, as the code counts them.
pub fn budget(tier: Tier, records: &[RunRecord]) -> String {
    let steps: BTreeSet<usize> = records
        .iter()
        .filter(|r| r.test().is_some())
        .map(|r| r.optimiser_steps)
        .collect();
    let seeds: BTreeSet<u64> = records.iter().map(|r| r.spec.seed).collect();
    let commits: BTreeSet<&str> = records.iter().map(|r| r.git_commit.as_str()).collect();
    let versions: BTreeSet<&str> = records
        .iter()
        .map(|r| r.phaselab_version.as_str())
        .collect();
    // A population's wall time is shared by its members.
    let seconds: f64 = records
        .iter()
        .map(|r| r.train_seconds / r.population.max(1) as f64)
        .sum();
    let s = tier.settings();
    let list = |v: Vec<String>| v.join(", ");
    let mut md = format!(
        "Tier `{tier}`: {} trajectories ({} training chunks of 5 points, batch {}), {} test chunks of {} points, width {}, {} epochs = **{} optimiser steps per run**.",
        s.n_trajectories,
        s.training_chunks(),
        TrainConfig::default().batch,
        s.n_test,
        s.test_chunk,
        s.width,
        s.epochs,
        s.optimiser_steps(),
    );
    if records.is_empty() {
        md += " No runs are recorded yet.\n";
        return md;
    }
    let diverged = records.iter().filter(|r| r.test().is_none()).count();
    md += &format!(
        " {} runs recorded ({diverged} diverged), data seeds {} (weight seed 0), optimiser steps of the finished runs: {}. Training took {:.1} hours (the training loops' wall time, summed over runs), by phaselab {} at commit(s) {}.\n",
        records.len(),
        list(seeds.iter().map(|x| x.to_string()).collect()),
        list(steps.iter().map(|x| x.to_string()).collect()),
        seconds / 3600.0,
        list(versions.iter().map(|x| x.to_string()).collect()),
        list(commits.iter().map(|c| format!("`{c}`")).collect()),
    );
    md
}

/// A table column: its heading and which runs of a row's system it holds.
type Column = (String, Box<dyn Fn(&RunSpec) -> bool>);

/// A figure's columns: its series (models, or losses), or alpha for fig3.
fn columns(fig: Figure, tier: Tier) -> Vec<Column> {
    if fig.layout() == Layout::AlphaSweep {
        return ALPHAS
            .iter()
            .map(|&a| {
                let pick = Box::new(move |s: &RunSpec| s.alpha == Some(a));
                (
                    format!("alpha {a:e}"),
                    pick as Box<dyn Fn(&RunSpec) -> bool>,
                )
            })
            .collect();
    }
    let mut series: Vec<String> = Vec::new();
    for spec in fig.runs(tier, Some(1)) {
        let s = fig.series(&spec);
        if !series.contains(&s) {
            series.push(s);
        }
    }
    series
        .into_iter()
        .map(|name| {
            let n = name.clone();
            let pick = Box::new(move |s: &RunSpec| fig.series(s) == n);
            (name, pick as Box<dyn Fn(&RunSpec) -> bool>)
        })
        .collect()
}

fn table_head(heads: &[String]) -> String {
    let mut md = String::from("| system |");
    for h in heads {
        md += &format!(" {h} |");
    }
    md + "\n|---|" + &"---|".repeat(heads.len()) + "\n"
}

/// Markdown table of a figure: gerr per system and series (alpha per column for fig3).
pub fn figure_table(fig: Figure, tier: Tier, records: &[RunRecord]) -> String {
    let runs = of_figure(fig, tier, records);
    let cols = columns(fig, tier);
    let mut md = table_head(&cols.iter().map(|c| c.0.clone()).collect::<Vec<_>>());
    for sys in fig.systems(tier) {
        md += &format!("| {sys} |");
        for (_, pick) in &cols {
            md += &format!(" {} |", cell(&runs, |s| s.system == sys && pick(s)).text());
        }
        md += "\n";
    }
    md
}

/// A figure at two budgets side by side: each series at `base`'s tier and at `tier`, for the
/// systems `records` (trained at `tier`) have runs of, so a study of part of a grid at a longer
/// budget reads against the shorter one.
pub fn budget_table(
    fig: Figure,
    (tier, records): (Tier, &[RunRecord]),
    (base, base_records): (Tier, &[RunRecord]),
) -> String {
    let (runs, base_runs) = (
        of_figure(fig, tier, records),
        of_figure(fig, base, base_records),
    );
    let steps = |t: Tier| t.settings().optimiser_steps();
    let cols = columns(fig, tier);
    let heads: Vec<String> = cols
        .iter()
        .flat_map(|(h, _)| [base, tier].map(|t| format!("{h}, {} steps", steps(t))))
        .collect();
    let mut md = table_head(&heads);
    let studied = fig
        .systems(tier)
        .into_iter()
        .filter(|sys| runs.iter().any(|r| &r.spec.system == sys));
    for sys in studied {
        md += &format!("| {sys} |");
        for (_, pick) in &cols {
            for rs in [&base_runs, &runs] {
                md += &format!(" {} |", cell(rs, |s| s.system == sys && pick(s)).text());
            }
        }
        md += "\n";
    }
    md
}

/// One claim of the paper and what the records say of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    pub figure: Figure,
    pub statement: &'static str,
    /// "holds", "does not hold", "partly", or "no runs yet".
    pub verdict: String,
    pub evidence: String,
}

/// Median over runs of how much the loss still fell in the last fifth of training.
fn still_falling(runs: &[&RunRecord]) -> String {
    let mut d: Vec<f64> = runs.iter().filter_map(|r| r.late_loss_drop()).collect();
    if d.is_empty() {
        return String::new();
    }
    d.sort_by(f64::total_cmp);
    format!(
        " Over the last fifth of training the loss still fell by {:.0}% (median over these {} runs).",
        100.0 * d[d.len() / 2],
        d.len()
    )
}

/// The verdict on a claim tested on n of `total` settings, holding on k; "so far" while some
/// settings have no runs yet.
fn verdict(k: usize, n: usize, total: usize) -> String {
    let v = match (k, n) {
        (_, 0) => return "no runs yet".into(),
        (k, n) if k == n => "holds",
        (0, _) => "does not hold",
        _ => "partly",
    };
    if n < total {
        format!("{v} so far ({n} of {total} settings have runs)")
    } else {
        v.into()
    }
}

/// Evidence text: the parts, or a plain statement that nothing has run.
fn listed(parts: &[String]) -> String {
    if parts.is_empty() {
        "No runs are recorded yet.".into()
    } else {
        format!("{}.", parts.join("; "))
    }
}

/// "a below b" over systems: on how many a's mean is lower, on how many by more than two
/// standard errors, out of the systems with runs of both.
struct Tally {
    lower: usize,
    n: usize,
    evidence: String,
}

fn tally(runs: &[&RunRecord], systems: &[String], a: ModelKind, b: ModelKind) -> Tally {
    let (mut lower, mut clear, mut n) = (0, 0, 0);
    let mut parts = Vec::new();
    for sys in systems {
        let (ca, cb) = (
            cell_of(runs, sys, a, Loss::L2),
            cell_of(runs, sys, b, Loss::L2),
        );
        if ca.n == 0 || cb.n == 0 {
            continue;
        }
        n += 1;
        lower += usize::from(ca.mean < cb.mean);
        clear += usize::from(ca.clearly_below(&cb));
        parts.push(format!(
            "{sys}: {a} {:.3e} vs {b} {:.3e} ({b}/{a} = {:.2})",
            ca.mean,
            cb.mean,
            cb.mean / ca.mean
        ));
    }
    Tally {
        lower,
        n,
        evidence: format!(
            "{a} is lower on {lower} of {n} systems, by more than two standard errors on {clear}. {}",
            listed(&parts)
        ),
    }
}

/// The claim "a beats b" on `systems` (L2 runs).
fn pairwise(
    fig: Figure,
    runs: &[&RunRecord],
    systems: &[String],
    (a, b): (ModelKind, ModelKind),
    statement: &'static str,
) -> Claim {
    let t = tally(runs, systems, a, b);
    Claim {
        figure: fig,
        statement,
        verdict: verdict(t.lower, t.n, systems.len()),
        evidence: t.evidence,
    }
}

/// Every claim RESULTS.md decides, from the records.
pub fn claims(tier: Tier, records: &[RunRecord]) -> Vec<Claim> {
    use ModelKind::*;
    let mut out = Vec::new();
    let f4 = of_figure(Figure::Fig4, tier, records);
    let s4 = Figure::Fig4.systems(tier);
    out.push(pairwise(Figure::Fig4, &f4, &s4, (NodeSo, Node),
        "Second-order structure is what helps: node-so's rollout error is below node's on the chain and spring pendulums."));
    out.push(pairwise(
        Figure::Fig4,
        &f4,
        &s4,
        (Hnn, HnnGeneral),
        "The same holds inside the HNN family: hnn (separable, second-order) is below hnn-general.",
    ));
    let f5 = of_figure(Figure::Fig5, tier, records);
    let chains: Vec<String> = s4
        .iter()
        .filter(|s| s.starts_with("chain"))
        .cloned()
        .collect();
    let springs: Vec<String> = s4
        .iter()
        .filter(|s| s.starts_with("spring"))
        .cloned()
        .collect();
    let mut c = pairwise(
        Figure::Fig5,
        &f5,
        &chains,
        (Hnn, NodeSo),
        "In non-Cartesian coordinates (chain pendulums) hnn is below node-so.",
    );
    c.evidence += &still_falling(
        &f5.iter()
            .copied()
            .filter(|r| r.spec.system.starts_with("chain"))
            .collect::<Vec<_>>(),
    );
    out.push(c);
    // "Matches": within a factor 1.5, or the gap within two standard errors.
    let mut n = 0;
    let mut same = 0;
    let mut parts = Vec::new();
    for sys in &springs {
        let (h, s) = (
            cell_of(&f5, sys, Hnn, Loss::L2),
            cell_of(&f5, sys, NodeSo, Loss::L2),
        );
        if h.n == 0 || s.n == 0 {
            continue;
        }
        n += 1;
        let ratio = h.mean / s.mean;
        let close =
            (1.0 / 1.5..=1.5).contains(&ratio) || !(h.clearly_below(&s) || s.clearly_below(&h));
        if close {
            same += 1;
        }
        parts.push(format!(
            "{sys}: hnn {:.3e} vs node-so {:.3e} (hnn/node-so {ratio:.2})",
            h.mean, s.mean
        ));
    }
    out.push(Claim {
        figure: Figure::Fig5,
        statement: "In Cartesian coordinates (spring pendulums) node-so matches hnn (within a factor 1.5, or within two standard errors).",
        verdict: verdict(same, n, springs.len()),
        evidence: format!("They match on {same} of {n} systems. {}{}", listed(&parts),
            still_falling(&f5.iter().copied().filter(|r| r.spec.system.starts_with("spring")).collect::<Vec<_>>())),
    });
    // Fig2: energy violation against rollout error, one line for every architecture.
    let f2 = of_figure(Figure::Fig2, tier, records);
    let pts: Vec<(f64, f64)> = f2
        .iter()
        .filter_map(|r| Some((r.test()?.gerr, r.test()?.herr?)))
        .collect();
    let line = log_log_line(&pts);
    let corr = line.correlation;
    out.push(Claim {
        figure: Figure::Fig2,
        statement: "Energy violation tracks rollout error whatever the architecture (a log-log line through NODEs and HNNs alike).",
        verdict: if pts.len() < 3 {
            "no runs yet".into()
        } else {
            let total = Figure::Fig2.runs(tier, None).len();
            verdict(usize::from(corr > 0.7), 1, 1)
                + &if f2.len() < total { format!(" so far ({} of {total} runs recorded)", f2.len()) } else { String::new() }
        },
        evidence: format!(
            "Over {} runs{}: log Herr = {:.2} log gerr + {:.2}, correlation of the logs {corr:.2} (the verdict asks for more than 0.7).",
            pts.len(),
            match f2.iter().filter(|r| r.test().is_none()).count() {
                0 => String::new(),
                d => format!(" ({d} diverged and are left out)"),
            },
            line.slope, line.intercept
        ),
    });
    // Fig6: drag systems.
    let f6 = of_figure(Figure::Fig6, tier, records);
    let s6 = Figure::Fig6.systems(tier);
    let mut c = pairwise(Figure::Fig6, &f6, &s6, (NodeSo, Hnn),
        "On drag systems node-so beats the HNN, which conserves its learned energy and cannot dissipate.");
    let forced = tally(&f6, &s6, HnnForced, Hnn);
    c.evidence += &format!(" With forcing: {}", forced.evidence);
    out.push(c);
    // Fig8: L1 against L2.
    let f8 = of_figure(Figure::Fig8, tier, records);
    let mut better = 0;
    let mut n = 0;
    let mut parts = Vec::new();
    for sys in Figure::Fig8.systems(tier) {
        for m in Figure::Fig8.models() {
            let (l1, l2) = (
                cell_of(&f8, &sys, m, Loss::L1),
                cell_of(&f8, &sys, m, Loss::L2),
            );
            if l1.n == 0 || l2.n == 0 {
                continue;
            }
            n += 1;
            if l1.mean < l2.mean {
                better += 1;
            }
            parts.push(format!(
                "{sys} {m}: L1 {:.3e} vs L2 {:.3e}",
                l1.mean, l2.mean
            ));
        }
    }
    out.push(Claim {
        figure: Figure::Fig8,
        statement: "Training on an L1 loss instead of L2 lowers the rollout error.",
        verdict: verdict(
            better,
            n,
            Figure::Fig8.systems(tier).len() * Figure::Fig8.models().len(),
        ),
        evidence: format!(
            "L1 is lower for {better} of {n} (system, model) pairs. {}",
            listed(&parts)
        ),
    });
    // Fig9: the paper finds second-order structure ahead on the gyroscope, and the NODE slightly
    // ahead on the magnet pendulum and the rotor.
    let f9 = of_figure(Figure::Fig9, tier, records);
    let (gyro, others): (Vec<String>, Vec<String>) = Figure::Fig9
        .systems(tier)
        .into_iter()
        .partition(|s| s == "gyroscope");
    let g = tally(&f9, &gyro, NodeSo, Node);
    let o = tally(&f9, &others, Node, NodeSo);
    let h = tally(&f9, &Figure::Fig9.systems(tier), Hnn, Node);
    out.push(Claim {
        figure: Figure::Fig9,
        statement: "On the gyroscope node-so beats the NODE; on the magnet pendulum and the rotor the NODE is slightly ahead (the paper's reading: HNN-style models are hard to train stably there).",
        verdict: verdict(g.lower + o.lower, g.n + o.n, gyro.len() + others.len()),
        evidence: format!(
            "Gyroscope: {} Magnet pendulum and rotor: {} hnn against node: {}{}",
            g.evidence,
            o.evidence,
            h.evidence,
            still_falling(&f9)
        ),
    });
    // Fig3: does the symplectic penalty help?
    let f3 = of_figure(Figure::Fig3, tier, records);
    let mut helps = 0;
    let mut n = 0;
    let mut complete = 0;
    let mut parts = Vec::new();
    let systems = Figure::Fig3.systems(tier);
    for sys in &systems {
        let cells: Vec<(f64, Cell)> = ALPHAS
            .iter()
            .map(|&a| (a, cell(&f3, |s| &s.system == sys && s.alpha == Some(a))))
            .filter(|(_, c)| c.n > 0)
            .collect();
        complete += usize::from(cells.len() == ALPHAS.len());
        if cells.len() < 2 {
            continue;
        }
        n += 1;
        // The weakest penalty (largest alpha) against the best stronger one.
        let (weak_a, weak) = cells
            .iter()
            .max_by(|x, y| x.0.total_cmp(&y.0))
            .expect("two cells");
        let best = cells
            .iter()
            .filter(|(a, _)| a != weak_a)
            .min_by(|x, y| x.1.mean.total_cmp(&y.1.mean))
            .expect("one more");
        if best.1.clearly_below(weak) {
            helps += 1;
        }
        parts.push(format!(
            "{sys}: weakest penalty (alpha {weak_a:e}) {:.3e}, best stronger (alpha {:e}) {:.3e}",
            weak.mean, best.0, best.1.mean
        ));
    }
    out.push(Claim {
        figure: Figure::Fig3,
        statement: "Symplectic regularisation of node-so gives no consistent gain.",
        verdict: match (n, helps * 2 <= n) {
            (0, _) => "no runs yet".into(),
            (_, holds) => format!(
                "{}{}",
                if holds { "holds" } else { "does not hold" },
                if complete < systems.len() {
                    format!(" so far ({complete} of {} systems have every penalty)", systems.len())
                } else {
                    String::new()
                }
            ),
        },
        evidence: format!("A stronger penalty is better than the weakest by more than two standard errors on {helps} of {n} systems. {}", listed(&parts)),
    });
    out
}

/// The claims as a numbered markdown list.
pub fn claims_markdown(claims: &[Claim]) -> String {
    numbered_claims(claims.iter().enumerate())
}

/// Claims as a markdown list under the given numbers (from 0).
fn numbered_claims<'a>(claims: impl Iterator<Item = (usize, &'a Claim)>) -> String {
    claims
        .map(|(i, c)| {
            format!(
                "{}. **{}** ({}) Verdict: **{}**. {}\n",
                i + 1,
                c.statement,
                c.figure.name(),
                c.verdict,
                c.evidence
            )
        })
        .collect()
}

/// A table of ablations, each a committed `phaselab compare` output (compare.json) under a name:
/// per model its test MSE and gerr, with the optimiser steps and settings it names.
pub fn ablation_table(ablations: &[(String, serde_json::Value)]) -> String {
    let models = ["node", "node-so", "hnn"];
    let mut md = String::from("| ablation | system | steps | data seed |");
    for m in models {
        md += &format!(" {m} MSE | {m} gerr |");
    }
    md += "\n|---|---|---|---|";
    md += &"---|---|".repeat(models.len());
    md += "\n";
    for (name, c) in ablations {
        let s = &c["settings"];
        md += &format!(
            "| {name} | {} | {} | {} |",
            c["system"].as_str().unwrap_or("?"),
            c["optimiser_steps"]
                .as_u64()
                .map_or("?".into(), |x| x.to_string()),
            s["data_seed"]
                .as_u64()
                .map_or("?".into(), |x| x.to_string()),
        );
        for m in models {
            let run = c["runs"]
                .as_array()
                .and_then(|r| r.iter().find(|r| r["model"].as_str() == Some(m)));
            let get = |k: &str| {
                run.and_then(|r| r["test"][k].as_f64())
                    .map_or("–".into(), |x| format!("{x:.3e}"))
            };
            md += &format!(" {} | {} |", get("mse"), get("gerr"));
        }
        md += "\n";
    }
    // Each variant's test MSE over the as-trained run's, per model.
    let mse = |c: &serde_json::Value, m: &str| {
        c["runs"]
            .as_array()?
            .iter()
            .find(|r| r["model"].as_str() == Some(m))?["test"]["mse"]
            .as_f64()
    };
    if let Some((_, base)) = ablations.iter().find(|(n, _)| n == "as-trained") {
        for (name, c) in ablations.iter().filter(|(n, _)| n != "as-trained") {
            let ratios: Vec<String> = models
                .iter()
                .filter_map(|m| Some(format!("{m} {:.2}", mse(c, m)? / mse(base, m)?)))
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

/// Figure 7 from its records: the budget beside the paper's, test rollout MSE per environment
/// and model (mean ± standard error over seeds), and the verdict on the paper's MuJoCo claim.
pub fn fig7_block(tier: Tier, records: &[Fig7Record]) -> String {
    let s = fig7_settings(tier);
    let paper = fig7_settings(Tier::Paper);
    let batch = mujoco_train_config().batch;
    let steps = |f: &Fig7Settings| f.epochs * steps_per_epoch(f.train_chunks, batch);
    let runs = fig7_runs(tier, None);
    let mine: Vec<&Fig7Record> = records
        .iter()
        .filter(|r| r.settings == s && runs.contains(&r.run))
        .collect();
    let commits: BTreeSet<&str> = mine.iter().map(|r| r.git_commit.as_str()).collect();
    let seconds = 0.0 + mine.iter().map(|r| r.train_seconds).sum::<f64>();
    let mut md = format!(
        "Tier `{tier}`: {} training chunks of 3 steps (batch {batch}), {} test trajectories of {} steps, width {}, {} epochs = **{} optimiser steps per run**, {} seeds; the paper: {} epochs on {} chunks = {} steps. {} of {} runs recorded ({:.1} CPU hours), from commit(s) {}.\n\n",
        s.train_chunks,
        s.test_trajectories,
        s.test_length,
        s.width,
        s.epochs,
        steps(&s),
        s.seeds,
        paper.epochs,
        paper.train_chunks,
        steps(&paper),
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
    for env in ENVIRONMENTS {
        let cell = |k: ControlKind| {
            let xs: Vec<f64> = mine
                .iter()
                .filter(|r| r.run.env == env && r.run.model == k)
                .map(|r| r.test_mse)
                .collect();
            (mean_and_standard_error(&xs), xs.len())
        };
        let cells: Vec<_> = ControlKind::ALL.iter().map(|&k| (k, cell(k))).collect();
        let best = cells
            .iter()
            .filter(|c| c.1 .1 > 0)
            .min_by(|a, b| a.1 .0 .0.total_cmp(&b.1 .0 .0))
            .map(|c| c.0);
        md += &format!("| {env} |");
        for (k, ((m, se), count)) in &cells {
            md += &match (count, Some(*k) == best) {
                (0, _) => " – |".into(),
                (_, true) => format!(" **{m:.3e}** ± {se:.1e} (n={count}) |"),
                (_, false) => format!(" {m:.3e} ± {se:.1e} (n={count}) |"),
            };
        }
        md += "\n";
        if cells.iter().all(|c| c.1 .1 > 0) {
            n += 1;
            let so = cells
                .iter()
                .find(|c| c.0 == ControlKind::NodeSo)
                .expect("node-so")
                .1
                 .0
                 .0;
            let (other, om) = cells
                .iter()
                .filter(|c| c.0 != ControlKind::NodeSo)
                .map(|c| (c.0, c.1 .0 .0))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .expect("two others");
            lowest += usize::from(best == Some(ControlKind::NodeSo));
            parts.push(format!(
                "{env}: node-so {so:.3e} vs the best other, {other}, {om:.3e} ({:.2}x)",
                om / so
            ));
        }
    }
    md += &format!(
        "\n**Claim** (fig7): NODE+SO's test rollouts are the most accurate of the three control-aware models on MuJoCo. Verdict: **{}**. node-so is lowest on {lowest} of {n} environments. {}\n",
        verdict(lowest, n, ENVIRONMENTS.len()),
        listed(&parts)
    );
    md + &fig7_horizons(&mine) + &fig7_coordinates(&mine)
}

/// Which state coordinates the test error sits in: per environment and model, the three
/// features (q_i then v_i, MuJoCo's qpos and qvel) with the largest MSE over the rollout, mean
/// over seeds, each with its share of the sum over features. Only records that keep it.
fn fig7_coordinates(mine: &[&Fig7Record]) -> String {
    let mut rows = String::new();
    for env in ENVIRONMENTS {
        for k in ControlKind::ALL {
            let v: Vec<&Vec<f64>> = mine
                .iter()
                .filter(|r| r.run.env == env && r.run.model == k)
                .map(|r| &r.test_mse_by_feature)
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
fn fig7_horizons(mine: &[&Fig7Record]) -> String {
    let len = mine
        .iter()
        .map(|r| r.test_mse_curve.len())
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
                .filter(|r| r.run.env == env && r.run.model == k)
                .map(|r| &r.test_mse_curve)
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

/// Every generated block of a results page, by name. With `base` (records at a shorter budget),
/// also `vs-TIER:FIG`: each figure beside the same runs at that tier (`budget_table`).
pub fn blocks(
    tier: Tier,
    records: &[RunRecord],
    ablations: &[(String, serde_json::Value)],
    fig7: &[Fig7Record],
    base: Option<(Tier, &[RunRecord])>,
) -> Vec<(String, String)> {
    let mut out = vec![
        ("budget".to_string(), budget(tier, records)),
        ("ablations".to_string(), ablation_table(ablations)),
        ("fig7".to_string(), fig7_block(tier, fig7)),
    ];
    for fig in Figure::ALL {
        if fig.layout() == Layout::Bars || fig.layout() == Layout::AlphaSweep {
            out.push((fig.name().to_string(), figure_table(fig, tier, records)));
            if let Some((t, recs)) = base {
                let name = format!("vs-{t}:{}", fig.name());
                out.push((name, budget_table(fig, (tier, records), (t, recs))));
            }
        }
    }
    // Every claim, and each figure's claims alone (`claims:fig5`, numbered as in the whole list)
    // for a page that studies one.
    let all = claims(tier, records);
    out.push(("claims".to_string(), claims_markdown(&all)));
    for fig in Figure::ALL {
        let mine = || all.iter().enumerate().filter(|(_, c)| c.figure == fig);
        if mine().next().is_some() {
            out.push((format!("claims:{}", fig.name()), numbered_claims(mine())));
        }
    }
    out
}

/// A generated block in a page starts with `<!-- generated: NAME -->` and ends with
/// `<!-- end generated -->`; everything between is replaced.
pub const BLOCK_END: &str = "<!-- end generated -->";

/// The page with every block it marks filled from `blocks`. Errors name a block the page marks
/// that `blocks` lacks, or a block left open.
pub fn fill_page(page: &str, blocks: &[(String, String)]) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = page;
    while let Some(i) = rest.find("<!-- generated: ") {
        let head_end = rest[i..]
            .find("-->")
            .map(|j| i + j + 3)
            .ok_or("an unterminated <!-- generated: marker")?;
        let name = rest[i + 16..head_end - 3].trim();
        let body = blocks
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b)
            .ok_or_else(|| {
                format!("the page marks a block '{name}' that the report does not make")
            })?;
        let end = rest[head_end..]
            .find(BLOCK_END)
            .map(|j| head_end + j)
            .ok_or_else(|| format!("block '{name}' has no {BLOCK_END}"))?;
        out += &rest[..head_end];
        out += "\n";
        out += body;
        out += &rest[end..end + BLOCK_END.len()];
        rest = &rest[end + BLOCK_END.len()..];
    }
    out += rest;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiments::mujoco::Fig7Run;
    use crate::experiments::record::Outcome;
    use crate::train::Evaluation;

    fn rec(spec: RunSpec, gerr: f64) -> RunRecord {
        RunRecord {
            spec,
            phaselab_version: "0.1.0".into(),
            git_commit: "abc".into(),
            parameters: 1,
            optimiser_steps: 2,
            train_seconds: 1.0,
            population: 1,
            loss_history: vec![1.0, 0.5],
            outcome: Outcome::Finished {
                test: Evaluation {
                    gerr,
                    gerr_curve: vec![gerr],
                    herr: Some(gerr * 0.5),
                    herr_curve: None,
                    mse: gerr,
                    symplectic_error: None,
                    learned_h_drift: None,
                    n_trajectories: 1,
                    n_steps: 1,
                },
            },
        }
    }

    #[test]
    fn claims_follow_the_records() {
        // node-so ten times below node everywhere, with a little seed noise.
        let runs = Figure::Fig4.runs(Tier::Smoke, Some(3));
        let records: Vec<RunRecord> = runs
            .iter()
            .map(|s| {
                let base = match s.model {
                    ModelKind::Node => 1.0,
                    ModelKind::NodeSo => 0.1,
                    ModelKind::HnnGeneral => 0.5,
                    _ => 0.6, // hnn above hnn-general: that claim fails
                };
                rec(s.clone(), base * (1.0 + 0.01 * s.seed as f64))
            })
            .collect();
        let c = claims(Tier::Smoke, &records);
        assert_eq!(c[0].verdict, "holds", "{:?}", c[0]);
        assert!(
            c[0].evidence
                .contains("by more than two standard errors on 2"),
            "{}",
            c[0].evidence
        );
        assert_eq!(c[1].verdict, "does not hold", "{:?}", c[1]);
        let table = figure_table(Figure::Fig4, Tier::Smoke, &records);
        assert!(
            table.contains("| chain-pendulum:1 | 1.010e0 ± 5.8e-3 (n=3) |"),
            "{table}"
        );
        assert!(budget(Tier::Smoke, &records).contains("24 runs recorded"));
        // fig2 counts its runs: a diverged run is left out and named, not awaited as "so far".
        let energy = |c: &[Claim]| {
            c.iter()
                .find(|c| c.figure == Figure::Fig2)
                .cloned()
                .expect("fig2 claim")
        };
        let all = Figure::Fig2.runs(Tier::Smoke, None).len(); // the tier's seeds
        let mut fewer: Vec<RunRecord> = records.into_iter().filter(|r| r.spec.seed == 0).collect();
        assert_eq!(fewer.len(), all);
        fewer[0].outcome = Outcome::Diverged { epoch: 3 };
        let e = energy(&claims(Tier::Smoke, &fewer));
        assert!(!e.verdict.contains("so far"), "{e:?}");
        assert!(
            e.evidence.starts_with(&format!(
                "Over {} runs (1 diverged and are left out)",
                all - 1
            )),
            "{e:?}"
        );
        // fig3 is "so far" until every system has every penalty weight.
        let sweep: Vec<RunRecord> = Figure::Fig3
            .runs(Tier::Smoke, Some(2))
            .into_iter()
            .map(|s| {
                let g = 4.0 + s.alpha.unwrap_or(1.0).log10() + 0.01 * s.seed as f64;
                rec(s, g)
            })
            .collect();
        let sym = |r: &[RunRecord]| {
            claims(Tier::Smoke, r)
                .into_iter()
                .find(|c| c.figure == Figure::Fig3)
                .expect("fig3 claim")
        };
        let full = sym(&sweep);
        assert!(
            full.verdict.starts_with("does not hold") && !full.verdict.contains("so far"),
            "{full:?}"
        );
        let last = sweep.last().unwrap().spec.system.clone();
        let part: Vec<RunRecord> = sweep
            .iter()
            .filter(|r| r.spec.system != last || r.spec.alpha == Some(ALPHAS[0]))
            .cloned()
            .collect();
        let n = Figure::Fig3.systems(Tier::Smoke).len();
        assert!(
            sym(&part).verdict.ends_with(&format!(
                "so far ({} of {n} systems have every penalty)",
                n - 1
            )),
            "{:?}",
            sym(&part)
        );
        fewer.pop();
        let e = energy(&claims(Tier::Smoke, &fewer));
        assert!(
            e.verdict
                .ends_with(&format!("so far ({} of {all} runs recorded)", all - 1)),
            "{e:?}"
        );
    }

    #[test]
    fn a_longer_budget_reads_beside_the_shorter_one() {
        // fig5 at the quick tier for every system; at the reference tier for one system only.
        let of = |tier: Tier, g: f64| {
            Figure::Fig5
                .runs(tier, Some(2))
                .into_iter()
                .map(|s| {
                    let m = if s.model == ModelKind::Hnn { 2.0 } else { 1.0 };
                    rec(s.clone(), g * m * (1.0 + 0.01 * s.seed as f64))
                })
                .collect::<Vec<_>>()
        };
        let short = of(Tier::Quick, 1.0);
        let long: Vec<RunRecord> = of(Tier::Reference, 0.1)
            .into_iter()
            .filter(|r| r.spec.system == "spring-pendulum:2")
            .collect();
        let table = budget_table(
            Figure::Fig5,
            (Tier::Reference, &long),
            (Tier::Quick, &short),
        );
        let steps = |t: Tier| t.settings().optimiser_steps();
        let (q, r) = (steps(Tier::Quick), steps(Tier::Reference));
        assert!(
            table.starts_with(&format!("| system | node-so, {q} steps | node-so, {r} steps | hnn, {q} steps | hnn, {r} steps |\n")),
            "{table}"
        );
        assert!(
            table.contains("| spring-pendulum:2 | 1.005e0 ± 5.0e-3 (n=2) | 1.005e-1 ± 5.0e-4 (n=2) | 2.010e0 ± 1.0e-2 (n=2) | 2.010e-1 ± 1.0e-3 (n=2) |"),
            "{table}"
        );
        assert_eq!(table.lines().count(), 3, "only the system studied: {table}");
        // The figure's claims alone, numbered as in the whole list (fig4's two come first).
        let b = blocks(
            Tier::Reference,
            &long,
            &[],
            &[],
            Some((Tier::Quick, &short)),
        );
        let get = |name: &str| &b.iter().find(|(n, _)| n == name).expect(name).1;
        assert_eq!(get("vs-quick:fig5"), &table);
        let fig5 = get("claims:fig5");
        assert!(
            fig5.starts_with("3. **In non-Cartesian") && fig5.contains("\n4. **In Cartesian"),
            "{fig5}"
        );
        assert!(
            fig5.contains("Verdict: **does not hold so far (1 of 3 settings have runs)**"),
            "{fig5}"
        );
        assert!(!get("claims:fig4").contains("3. "));
    }

    #[test]
    fn ablations_are_tabled_with_their_ratio_to_the_run_as_trained() {
        let run = |mse: f64| {
            serde_json::json!({"system": "chain-pendulum:2", "optimiser_steps": 2000,
                "settings": {"data_seed": 0},
                "runs": [{"model": "node", "test": {"mse": mse, "gerr": 0.1}},
                         {"model": "hnn", "test": {"mse": 2.0 * mse, "gerr": 0.01}}]})
        };
        let t = ablation_table(&[
            ("as-trained".into(), run(1.0)),
            ("variant".into(), run(1.5)),
        ]);
        assert!(t.contains("| as-trained | chain-pendulum:2 | 2000 | 0 | 1.000e0 | 1.000e-1 | – | – | 2.000e0 |"), "{t}");
        assert!(
            t.contains("variant: test MSE over the as-trained run's: node 1.50, hnn 1.50."),
            "{t}"
        );
    }

    #[test]
    fn pages_are_filled_between_markers() {
        let blocks = vec![("a".to_string(), "new\n".to_string())];
        let page = "x\n<!-- generated: a -->\nold\n<!-- end generated -->\ny\n";
        let filled = fill_page(page, &blocks).unwrap();
        assert_eq!(
            filled,
            "x\n<!-- generated: a -->\nnew\n<!-- end generated -->\ny\n"
        );
        assert_eq!(fill_page(&filled, &blocks).unwrap(), filled);
        assert!(fill_page("<!-- generated: b -->\n<!-- end generated -->", &blocks).is_err());
        assert!(fill_page("<!-- generated: a -->\nold", &blocks).is_err());
    }

    fn fig7_rec(run: Fig7Run, test_mse: f64) -> Fig7Record {
        Fig7Record {
            run,
            settings: fig7_settings(Tier::Reference),
            phaselab_version: "test".into(),
            git_commit: "abc".into(),
            parameters: 1,
            optimiser_steps: 3200,
            train_seconds: 1.0,
            loss_history: vec![],
            train_mse: 0.1,
            test_mse,
            test_mse_curve: vec![],
            test_mse_by_feature: vec![],
        }
    }

    #[test]
    fn fig7_verdict_follows_which_model_is_lowest() {
        let runs = fig7_runs(Tier::Reference, None);
        // node-so lowest everywhere but Swimmer, where hnn-forced is.
        let recs: Vec<Fig7Record> = runs
            .iter()
            .map(|r| {
                let mse = match (r.model, r.env.as_str()) {
                    (ControlKind::NodeSo, "Swimmer-v5") => 0.5,
                    (ControlKind::NodeSo, _) => 0.1,
                    (ControlKind::HnnForced, "Swimmer-v5") => 0.2,
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
        let curved: Vec<Fig7Record> = recs
            .iter()
            .map(|r| Fig7Record {
                test_mse_curve: (0..200)
                    .map(|k| k as f64 * (1.0 + r.run.seed as f64))
                    .collect(),
                ..r.clone()
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
            md.contains("node-so is lowest on 3 of 4 environments"),
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
        let featured: Vec<Fig7Record> = curved
            .iter()
            .map(|r| Fig7Record {
                test_mse_by_feature: if r.run.env == "Swimmer-v5" {
                    let s = 1.0 + r.run.seed as f64; // seeds 0 and 1: mean 1.5x
                    vec![6.0 * s, 0.1, 0.1, 0.1, 0.1, 0.1, 2.0 * s, 0.1, 0.1, 1.0]
                } else {
                    vec![]
                },
                ..r.clone()
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
        // Records at other sizes are not counted.
        let mut other = recs[0].clone();
        other.settings.epochs = 1;
        let md = fig7_block(Tier::Reference, &[other]);
        assert!(
            md.contains("0 of 24 runs") && md.contains("no runs yet"),
            "{md}"
        );
    }
}
