//! What the traced reruns of runs show (`phaselab train --trace`, each step trace committed as
//! RUN-ID.csv): for each, its first step, the step where its loss first passed ten times the
//! first step's, and its last step with a finite loss, with what the model read off the
//! minibatch there; and whether the trace stopped in the epoch its record did, which shows that
//! the rerun is the recorded run.

use crate::experiments::record::{Outcome, RunRecord};
use crate::train::StepTrace;

/// The probes shown, in order, with their column titles: those that some trace has (the mass
/// factor's for the models with one, ∇_v∇_vᵀL's for the LNN); a trace without one shows "–".
const PROBES: [(&str, &str); 9] = [
    ("state_max", "largest model state (p = M v)"),
    ("field_max", "largest field"),
    ("rollout_max", "largest rolled-out state"),
    ("mass_diag_min", "L's smallest diagonal"),
    ("mass_entry_max", "L's largest entry"),
    ("mass_inverse_max", "L⁻¹'s largest entry"),
    ("hessian_abs_min", "∇_v∇_vᵀL's smallest abs. eigenvalue"),
    ("hessian_abs_max", "∇_v∇_vᵀL's largest abs. eigenvalue"),
    (
        "hessian_indefinite",
        "share of states with ∇_v∇_vᵀL indefinite",
    ),
];

/// The table of the traces `traces` (run id, its steps), beside the records `records`.
pub fn traces_block(traces: &[(String, Vec<StepTrace>)], records: &[RunRecord]) -> String {
    if traces.is_empty() {
        return "No step trace is committed.\n".to_string();
    }
    let probes: Vec<(&str, &str)> = PROBES
        .into_iter()
        .filter(|(name, _)| {
            traces
                .iter()
                .any(|(_, steps)| steps.iter().any(|s| s.probe(name).is_some()))
        })
        .collect();
    let mut md =
        String::from("| run | step (epoch) | where | loss | gradient norm | largest weight |");
    for (_, title) in &probes {
        md += &format!(" {title} |");
    }
    md += "\n|---|---|---|---|---|---|";
    md += &"---|".repeat(probes.len());
    md += "\n";
    let mut notes = Vec::new();
    for (id, steps) in traces {
        let Some(first) = steps.first() else {
            notes.push(format!("`{id}`: an empty trace."));
            continue;
        };
        let finite = steps.iter().take_while(|s| s.loss.is_finite()).count();
        let mut moments = vec![(0, "first step")];
        if let Some(i) = steps[..finite]
            .iter()
            .position(|s| s.loss > 10.0 * first.loss)
        {
            moments.push((i, "loss first above 10x the first step's"));
        }
        let finished = finite == steps.len();
        if finished {
            // A run that finished: where its loss was highest.
            let top = (0..finite).max_by(|&a, &b| steps[a].loss.total_cmp(&steps[b].loss));
            moments.extend(top.map(|i| (i, "largest loss")));
        }
        if finite > 0 {
            let last = match finished {
                true => "last step",
                false => "last finite loss",
            };
            moments.push((finite - 1, last));
        }
        moments.sort_by_key(|m| m.0);
        moments.dedup_by_key(|m| m.0);
        for (i, what) in moments {
            let s = &steps[i];
            md += &format!(
                "| {id} | {} ({}) | {what} | {:.2e} | {:.2e} | {:.2e} |",
                s.step, s.epoch, s.loss, s.grad_norm, s.weight_max
            );
            for (name, _) in &probes {
                md += &match s.probe(name) {
                    Some(v) => format!(" {v:.2e} |"),
                    None => " – |".to_string(),
                };
            }
            md += "\n";
        }
        let record = records.iter().find(|r| r.spec.id() == *id);
        let recorded = match record.map(|r| &r.outcome) {
            None => "no record of this run is committed".to_string(),
            Some(Outcome::Diverged { epoch }) => format!("its record stopped in epoch {epoch}"),
            Some(_) => "its record finished".to_string(),
        };
        let high = steps[..finite]
            .iter()
            .filter(|s| s.loss > 10.0 * first.loss)
            .count();
        let traced = match steps.get(finite) {
            Some(s) => format!(
                "the loss was first non-finite at step {} (epoch {}), after {high} step{} with a finite loss above 10x the first step's",
                s.step,
                s.epoch,
                if high == 1 { "" } else { "s" }
            ),
            None => format!(
                "all {} steps had a finite loss, {high} of them above 10x the first step's",
                steps.len()
            ),
        };
        let losses = record.map(|r| same_losses(steps, &r.loss_history));
        let same = match (record.map(|r| &r.outcome), steps.get(finite), losses) {
            (_, _, Some((n, false))) => format!(
                "; **its epochs' mean losses differ from the record's ({n} compared): the rerun is another run**"
            ),
            (Some(Outcome::Diverged { epoch }), Some(s), Some((n, _))) if *epoch == s.epoch => {
                format!(
                    "; the mean loss of each of its {} is the record's: the same run",
                    count(n, "finished epoch")
                )
            }
            (Some(o), None, Some((n, _))) if !matches!(o, Outcome::Diverged { .. }) => {
                let all = record.map_or(0, |r| r.optimiser_steps);
                match steps.len() < all {
                    true => format!(
                        "; a trace of the first {} of its {all} steps, the mean loss of each of its {} the record's",
                        steps.len(),
                        count(n, "epoch")
                    ),
                    false => format!(
                        "; the mean loss of each of its {} is the record's: the same run",
                        count(n, "epoch")
                    ),
                }
            }
            (Some(_), _, _) => "; **not where its record stopped: the rerun is another run**".to_string(),
            (None, _, _) => String::new(),
        };
        notes.push(format!("`{id}`: {traced}; {recorded}{same}."));
    }
    md += "\n";
    md += &notes.join("\n");
    md += "\n";
    md
}

/// `n` and `what`, in the plural unless n is 1.
fn count(n: usize, what: &str) -> String {
    match n {
        1 => format!("1 {what}"),
        n => format!("{n} {what}s"),
    }
}

/// How many of the trace's epochs whose losses are all finite have a mean loss in the record's
/// history `history`, and whether every one of them equals it (to f32 rounding).
fn same_losses(steps: &[StepTrace], history: &[f32]) -> (usize, bool) {
    let mut epochs: std::collections::BTreeMap<usize, (f64, usize)> = Default::default();
    for s in steps {
        let e = epochs.entry(s.epoch).or_default();
        e.0 += s.loss;
        e.1 += 1;
    }
    let mut compared = 0;
    for (epoch, (sum, n)) in epochs {
        let mean = sum / n as f64;
        let Some(&h) = history.get(epoch.wrapping_sub(1)) else {
            continue;
        };
        if !mean.is_finite() {
            continue;
        }
        compared += 1;
        if (mean - h as f64).abs() > 1e-5 * (h as f64).abs() {
            return (compared, false);
        }
    }
    (compared, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiments::report::rec;
    use crate::experiments::{Figure, Tier};

    fn step(step: usize, epoch: usize, loss: f64, inverse: f64) -> StepTrace {
        StepTrace {
            step,
            epoch,
            lr: 5e-3,
            loss,
            grad_norm: 0.5,
            weight_max: 0.3,
            probes: vec![
                ("state_max".into(), 10.0 * inverse * inverse),
                ("mass_inverse_max".into(), inverse),
            ],
        }
    }

    #[test]
    fn a_trace_shows_where_it_blew_up_and_whether_its_record_stopped_there() {
        let spec = Figure::Fig4.runs(Tier::Reference, None)[0].clone();
        let id = spec.id();
        let mut r = rec(spec, 0.1);
        r.outcome = Outcome::Diverged { epoch: 2 };
        // The first epoch's mean loss, (0.1 + 0.2) / 2, as its record has it.
        r.loss_history = vec![0.15];
        let steps = vec![
            step(0, 1, 0.1, 1.5),
            step(1, 1, 0.2, 7.0),
            step(2, 2, 3.0, 1e4),
            step(3, 2, 1e20, 2e10),
            step(4, 2, f64::NAN, f64::NAN),
        ];
        let md = traces_block(&[(id.clone(), steps.clone())], std::slice::from_ref(&r));
        assert!(
            md.contains(&format!(
                "| {id} | 0 (1) | first step | 1.00e-1 | 5.00e-1 | 3.00e-1 | 2.25e1 | 1.50e0 |"
            )),
            "{md}"
        );
        // Only the probes some trace has get a column.
        assert!(
            md.contains("| largest model state (p = M v) | L⁻¹'s largest entry |\n"),
            "{md}"
        );
        assert!(
            md.contains(&format!(
                "| {id} | 2 (2) | loss first above 10x the first step's | 3.00e0 |"
            )),
            "{md}"
        );
        assert!(
            md.contains(&format!("| {id} | 3 (2) | last finite loss | 1.00e20 |")),
            "{md}"
        );
        assert!(md.contains(&format!("`{id}`: the loss was first non-finite at step 4 (epoch 2), after 2 steps with a finite loss above 10x the first step's; its record stopped in epoch 2; the mean loss of each of its 1 finished epoch is the record's: the same run.")), "{md}");
        // A rerun that stops in another epoch than its record is called out.
        r.outcome = Outcome::Diverged { epoch: 3 };
        let other = traces_block(&[(id.clone(), steps.clone())], std::slice::from_ref(&r));
        assert!(
            other.contains("its record stopped in epoch 3; **not where its record stopped"),
            "{other}"
        );
        // A finished trace of a finished run; one without a record.
        let calm = vec![step(0, 1, 0.1, 1.5), step(1, 1, 0.09, 1.6)];
        let finished = |steps: usize, first_loss: f32| {
            let mut f = rec(r.spec.clone(), 0.1);
            f.optimiser_steps = steps;
            f.loss_history = vec![first_loss];
            f
        };
        // A finished run traced whole, and in part (its record trained 5 steps).
        let fine = traces_block(&[(id.clone(), calm.clone())], &[finished(2, 0.095)]);
        assert!(
            fine.contains(&format!("| {id} | 1 (1) | last step |")),
            "{fine}"
        );
        assert!(!fine.contains("10x the first step's |"), "{fine}");
        assert!(
            fine.contains("all 2 steps had a finite loss, 0 of them above 10x the first step's; its record finished; the mean loss of each of its 1 epoch is the record's: the same run."),
            "{fine}"
        );
        let part = traces_block(&[(id.clone(), calm.clone())], &[finished(5, 0.095)]);
        assert!(part.contains("its record finished; a trace of the first 2 of its 5 steps, the mean loss of each of its 1 epoch the record's."), "{part}");
        // Another run than the record: its epochs' mean losses give it away.
        let other_run = traces_block(&[(id.clone(), calm.clone())], &[finished(2, 0.5)]);
        assert!(other_run.contains("**its epochs' mean losses differ from the record's (1 compared): the rerun is another run**"), "{other_run}");
        // A finished run whose loss rose on the way (an LNN, with its Hessian's probes): the
        // step of its largest loss is shown, in order, and the LNN's columns join the table.
        let mut spike = vec![
            step(0, 1, 0.1, 1.5),
            step(1, 1, 0.5, 1.5),
            step(2, 2, 0.05, 1.5),
        ];
        spike[1].probes.push(("hessian_abs_min".into(), 1e-4));
        let rose = traces_block(&[(id.clone(), spike)], &[]);
        let rows: Vec<&str> = rose
            .lines()
            .filter(|l| l.starts_with(&format!("| {id}")))
            .collect();
        assert_eq!(rows.len(), 3, "{rose}");
        assert!(
            rows[1].starts_with(&format!("| {id} | 1 (1) | largest loss | 5.00e-1 |")),
            "{rose}"
        );
        assert!(rows[1].ends_with("| 1.50e0 | 1.00e-4 |"), "{rose}");
        assert!(
            rows[2].contains("| last step |") && rows[0].ends_with("| 1.50e0 | – |"),
            "{rose}"
        );
        let alone = traces_block(&[("x".into(), calm)], &[]);
        assert!(
            alone.contains(
                "`x`: all 2 steps had a finite loss, 0 of them above 10x the first step's; no record of this run is committed."
            ),
            "{alone}"
        );
        assert_eq!(traces_block(&[], &[]), "No step trace is committed.\n");
    }
}
