//! The training budget behind the page: optimiser steps, data seeds, code versions and wall time,
//! counted from the records, so a reader sees how long the models trained before reading the errors.

use crate::experiments::record::RunRecord;
use crate::experiments::Tier;
use crate::train::TrainConfig;
use std::collections::BTreeSet;

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
    // Runs on another data size than the tier's (fig9-data), counted by size.
    let mut other_sizes = std::collections::BTreeMap::<usize, usize>::new();
    for r in records {
        if let Some((_, rs)) = r.spec.autonomous() {
            if rs.n_trajectories != s.n_trajectories {
                *other_sizes.entry(rs.n_trajectories).or_default() += 1;
            }
        }
    }
    let sizes: Vec<String> = other_sizes
        .iter()
        .map(|(n, k)| format!("{k} on {n} trajectories"))
        .collect();
    let of_them = match sizes.is_empty() {
        true => String::new(),
        false => format!("; of them {}", list(sizes)),
    };
    md += &format!(
        " {} runs recorded ({diverged} diverged{of_them}), data seeds {} (weight seed 0), optimiser steps of the finished runs: {}. Training took {:.1} hours (the training loops' wall time, summed over runs), by phaselab {} at commit(s) {}.\n",
        records.len(),
        list(seeds.iter().map(|x| x.to_string()).collect()),
        list(steps.iter().map(|x| x.to_string()).collect()),
        seconds / 3600.0,
        list(versions.iter().map(|x| x.to_string()).collect()),
        list(commits.iter().map(|c| format!("`{c}`")).collect()),
    );
    md
}
