//! Why runs diverged, from the records: every diverged run with the epoch it stopped at and its
//! first epoch's mean loss, and, where a comparison with a remedy is committed (`phaselab compare
//! --warmup` or `--max-speed`, one file per data seed and remedy), the same run trained with it,
//! beside the finished seeds of its system and model. The reproduction keeps the reference's
//! protocol (neither); this block only says what a remedy does.

use super::tables::cell;
use crate::experiments::comparison::Comparison;
use crate::experiments::record::{Outcome, RunRecord};
use crate::experiments::Tier;
use crate::train::Loss;

/// The table of diverged runs at `tier`, with the reruns `remedies` (comparisons trained with a
/// warm-up or without the fastest chunks; the others are not reruns and are passed over).
pub fn divergence_block(
    tier: Tier,
    records: &[RunRecord],
    remedies: &[(String, Comparison)],
) -> String {
    let all: Vec<&RunRecord> = records.iter().collect();
    // Each diverged run with the epoch it stopped in.
    let diverged: Vec<(&RunRecord, usize)> = records
        .iter()
        .filter_map(|r| match r.outcome {
            Outcome::Diverged { epoch } => Some((r, epoch)),
            _ => None,
        })
        .collect();
    let mut md = String::from(
        "| run | stopped in epoch | first epoch's mean loss | trained again with a remedy: gerr | the finished seeds' gerr |\n|---|---|---|---|---|\n",
    );
    // (diverged runs trained again with a remedy, reruns, reruns that finished)
    let mut retried = (0, 0, 0);
    for &(r, epoch) in &diverged {
        let s = &r.spec;
        let first = r
            .loss_history
            .first()
            .map_or("–".to_string(), |l| format!("{l:.2e}"));
        // Every committed rerun of this run with a remedy, one after another.
        let again = reruns(r, remedies);
        retried.1 += again.len();
        retried.2 += again.iter().filter(|(g, _)| g.is_finite()).count();
        let again: Vec<String> = again.into_iter().map(|(_, text)| text).collect();
        retried.0 += usize::from(!again.is_empty());
        let again = match again.is_empty() {
            true => "–".to_string(),
            false => again.join("; "),
        };
        let sibling = |x: &crate::experiments::RunSpec| {
            x.system == s.system
                && x.model == s.model
                && x.loss == Loss::L2
                && x.alpha == s.alpha
                && x.coordinates == s.coordinates
        };
        let finished = cell(&all, sibling);
        // Their first epoch's mean loss, the median over them.
        let mut firsts: Vec<f64> = all
            .iter()
            .filter(|x| sibling(&x.spec) && !x.diverged())
            .filter_map(|x| x.loss_history.first().map(|&l| l as f64))
            .collect();
        firsts.sort_by(f64::total_cmp);
        let seeds = match (finished.n, firsts.get(firsts.len() / 2)) {
            (0, _) => "none finished".to_string(),
            (n, Some(f)) => format!("{:.3e} (n={n}; first epoch's loss {f:.2e})", finished.mean),
            (n, None) => format!("{:.3e} (n={n})", finished.mean),
        };
        md += &format!("| {} | {epoch} | {first} | {again} | {seeds} |\n", s.id());
    }
    md += &format!(
        "\n{} of {} {tier}-tier runs diverged; {} of them were trained again with a remedy ({} reruns), and {} of those reruns finished.\n",
        diverged.len(),
        records.len(),
        retried.0,
        retried.1,
        retried.2
    );
    // What a remedy does to runs that did not diverge: their reruns beside them.
    let finished: Vec<(&RunRecord, Vec<(f64, String)>)> = records
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Diverged { .. } => None,
            _ => Some((r, reruns(r, remedies))),
        })
        .filter(|(_, again)| !again.is_empty())
        .collect();
    if !finished.is_empty() {
        md += "\nRuns that finished, trained again with a remedy too:\n\n| run | gerr as trained | trained again with a remedy: gerr |\n|---|---|---|\n";
        for (r, again) in finished {
            let gerr = r
                .test()
                .map_or("–".to_string(), |t| format!("{:.3e}", t.gerr));
            let again: Vec<String> = again.into_iter().map(|(_, text)| text).collect();
            md += &format!("| {} | {gerr} | {} |\n", r.spec.id(), again.join("; "));
        }
    }
    md
}

/// Each committed rerun of run `r` with a remedy (a comparison of its system and data seed,
/// trained with a warm-up, without the fastest chunks, with a finer solver or a fixed edge mass,
/// or with another learning rate, that has its model): its gerr and how the table shows it.
fn reruns(r: &RunRecord, remedies: &[(String, Comparison)]) -> Vec<(f64, String)> {
    let s = &r.spec;
    remedies
        .iter()
        .filter_map(|(name, c)| {
            let run = c
                .runs
                .iter()
                .find(|x| Some(x.model) == s.model.autonomous())?;
            let remedy = c.settings.recipe()?;
            (c.system == s.system && c.settings.data_seed == s.seed).then(|| {
                let text = format!(
                    "{:.3e} ({remedy}, {} steps; `{name}`)",
                    run.test.gerr, c.optimiser_steps
                );
                (run.test.gerr, text)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiments::report::{comparison_of, rec};
    use crate::experiments::{Figure, Tier};
    use crate::models::ModelKind;

    #[test]
    fn each_diverged_run_is_listed_with_its_warm_up_rerun_and_its_finished_seeds() {
        let mut records: Vec<RunRecord> = Figure::Fig6
            .runs(Tier::Reference, None)
            .into_iter()
            .map(|s| rec(s, 0.02))
            .collect();
        let sys = Figure::Fig6.systems(Tier::Reference)[1].clone();
        let target = |r: &RunRecord| {
            r.spec.system == sys
                && r.spec.model.autonomous() == Some(ModelKind::Hnn)
                && r.spec.seed == 1
        };
        for r in records.iter_mut().filter(|r| target(r)) {
            r.outcome = Outcome::Diverged { epoch: 2 };
            r.loss_history = vec![5.1e7];
        }
        let warm = comparison_of(&sys, 1, 5.0, &[(ModelKind::Hnn, 1e-3, 0.03)]);
        let other = comparison_of(&sys, 2, 5.0, &[(ModelKind::Hnn, 1e-3, 0.5)]);
        let md = divergence_block(
            Tier::Reference,
            &records,
            &[("a".into(), other), ("drag2-seed1".into(), warm)],
        );
        let id = records.iter().find(|r| target(r)).unwrap().spec.id();
        let row = format!(
            "| {id} | 2 | 5.10e7 | 3.000e-2 (5 epochs of warm-up, 2000 steps; `drag2-seed1`) | 2.000e-2 (n=2; first epoch's loss 1.00e0) |"
        );
        assert!(md.contains(&row), "{md}");
        assert!(
            md.contains(&format!("1 of {} reference-tier runs diverged; 1 of them were trained again with a remedy (1 reruns), and 1 of those reruns finished.", records.len())),
            "{md}"
        );
        // The warm-up run of data seed 2, whose HNN finished as trained, is listed apart.
        let finished = records
            .iter()
            .find(|r| {
                r.spec.system == sys
                    && r.spec.model.autonomous() == Some(ModelKind::Hnn)
                    && r.spec.seed == 2
            })
            .unwrap()
            .spec
            .id();
        assert!(
            md.contains(&format!(
                "Runs that finished, trained again with a remedy too:\n\n| run | gerr as trained | trained again with a remedy: gerr |\n|---|---|---|\n| {finished} | 2.000e-2 | 5.000e-1 (5 epochs of warm-up, 2000 steps; `a`) |\n"
            )),
            "{md}"
        );
        // A rerun without the fastest chunks joins the warm-up's; a comparison with neither
        // remedy is not a rerun.
        let mut capped = comparison_of(&sys, 1, 0.0, &[(ModelKind::Hnn, 1e-3, 0.04)]);
        capped.settings.max_speed = Some(10.0);
        let plain = comparison_of(&sys, 1, 0.0, &[(ModelKind::Hnn, 1e-3, 0.9)]);
        let both = divergence_block(
            Tier::Reference,
            &records,
            &[
                (
                    "drag2-seed1".into(),
                    comparison_of(&sys, 1, 5.0, &[(ModelKind::Hnn, 1e-3, 0.03)]),
                ),
                ("plain".into(), plain),
                ("drag2-seed1-v10".into(), capped),
            ],
        );
        assert!(
            both.contains("| 3.000e-2 (5 epochs of warm-up, 2000 steps; `drag2-seed1`); 4.000e-2 (chunks faster than 10 left out, 2000 steps; `drag2-seed1-v10`) |"),
            "{both}"
        );
        assert!(!both.contains("plain"), "{both}");
        // Smaller solver steps are a remedy too.
        let mut fine = comparison_of(&sys, 1, 0.0, &[(ModelKind::Hnn, 1e-3, 0.05)]);
        fine.settings.solver = "rk4-38:4".into();
        let sub = divergence_block(Tier::Reference, &records, &[("sub4".into(), fine)]);
        assert!(
            sub.contains("| 5.000e-2 (solver rk4-38:4, 2000 steps; `sub4`) |"),
            "{sub}"
        );
        // So is a lower learning rate.
        let mut slow = comparison_of(&sys, 1, 0.0, &[(ModelKind::Hnn, 1e-3, 0.06)]);
        slow.settings.lr = 1e-3;
        let lower = divergence_block(Tier::Reference, &records, &[("lr".into(), slow)]);
        assert!(
            lower.contains("| 6.000e-2 (lr 0.001, 2000 steps; `lr`) |"),
            "{lower}"
        );
        assert!(both.contains("1 of them were trained again with a remedy (2 reruns), and 2 of those reruns finished."), "{both}");
        // Without a warm-up comparison of that data seed, no rerun is claimed.
        let none = divergence_block(Tier::Reference, &records, &[]);
        assert!(!none.contains("Runs that finished"), "{none}");
        assert!(
            none.contains(&format!(
                "| {id} | 2 | 5.10e7 | – | 2.000e-2 (n=2; first epoch's loss 1.00e0) |"
            )),
            "{none}"
        );
    }
}
