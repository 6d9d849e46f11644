//! The claims of the model ladder's second part, decided from the records: whether the
//! Lagrangian networks (second order by construction) sit with NODE+SO and the HNN on the
//! conservative systems, and whether structured dissipation (port-Hamiltonian HNN, D-HNN) closes
//! the HNN's gap to NODE+SO on the drag systems.

use super::claim::{listed, CloseCount, PaperClaim};
use super::tables::{cell_of, of_figure, Closeness};
use crate::experiments::record::RunRecord;
use crate::experiments::verdict::MATCH_FACTOR;
use crate::experiments::{Figure, Tier};
use crate::models::ModelKind;
use crate::train::Loss;

/// "Each of `models` is close behind the better of `refs`" over the figure's (system, model)
/// pairs: within [`MATCH_FACTOR`] of it, or with `se_route` also within two standard errors of
/// seeds that resolve a doubling (`Cell::closeness_behind`); the verdict counts the pairs.
fn close_behind_best(
    fig: Figure,
    tier: Tier,
    records: &[RunRecord],
    (models, refs): (&[ModelKind], &[ModelKind]),
    se_route: bool,
    statement: &'static str,
) -> PaperClaim {
    let runs = of_figure(fig, tier, records);
    let systems = fig.systems(tier);
    let (mut count, mut parts) = (CloseCount::default(), Vec::new());
    for sys in &systems {
        let best = refs
            .iter()
            .map(|&m| (m, cell_of(&runs, sys, m, Loss::L2)))
            .filter(|(_, c)| c.n > 0)
            .min_by(|a, b| a.1.mean.total_cmp(&b.1.mean));
        let Some((best_kind, best)) = best else {
            continue;
        };
        for &m in models {
            let c = cell_of(&runs, sys, m, Loss::L2);
            if c.n == 0 {
                continue;
            }
            let closeness = match se_route {
                true => c.closeness_behind(&best),
                false if c.mean / best.mean <= MATCH_FACTOR => Closeness::Close,
                false => Closeness::Far,
            };
            parts.push(format!(
                "{sys}: {m} {:.3e} vs {best_kind} {:.3e} ({m}/{best_kind} = {:.2})",
                c.mean,
                best.mean,
                c.mean / best.mean
            ));
            count.add(closeness, || {
                format!(
                    "{sys} {m} (2σ {:.1e} against {best_kind}'s {:.3e})",
                    c.two_sigma(&best),
                    best.mean
                )
            });
        }
    }
    PaperClaim {
        figure: fig,
        statement,
        verdict: count.verdict(systems.len() * models.len()),
        evidence: format!(
            "Close on {} of {} (system, model) pairs. {}{}",
            count.close,
            count.n(),
            listed(&parts),
            count.scattered_text()
        ),
    }
}

/// The two claims: (a) on fig4's and fig5's conservative pendulums DeLaN and LNN are within 1.5x
/// (or two standard errors) of the better of NODE+SO and HNN; (b) on fig6's drag systems the
/// port-Hamiltonian HNN and D-HNN are within 1.5x of NODE+SO. (b) asks that a gap of 2x to 200x
/// has closed, so only the factor decides: seeds too scattered to tell a 60x ratio from 1 do not
/// show it closed.
pub(super) fn claims(tier: Tier, records: &[RunRecord]) -> Vec<PaperClaim> {
    use ModelKind::*;
    let mut b = close_behind_best(
        Figure::Dissipation,
        tier,
        records,
        (&[PortHnn, DHnn], &[NodeSo]),
        false,
        "On the drag systems the port-Hamiltonian HNN and D-HNN close the HNN's gap: each is within a factor 1.5 of NODE+SO, on the mean over seeds (energy structure and dissipation coexist).",
    );
    // The gap they are asked to close.
    let runs = of_figure(Figure::Dissipation, tier, records);
    let gaps: Vec<String> = Figure::Dissipation
        .systems(tier)
        .iter()
        .filter_map(|sys| {
            let (h, s) = (
                cell_of(&runs, sys, Hnn, Loss::L2),
                cell_of(&runs, sys, NodeSo, Loss::L2),
            );
            (h.n > 0 && s.n > 0).then(|| format!("{sys} {:.1}x", h.mean / s.mean))
        })
        .collect();
    if !gaps.is_empty() {
        b.evidence += &format!(" The HNN's gap (hnn/node-so): {}.", gaps.join(", "));
    }
    vec![
        close_behind_best(
            Figure::Lagrangian,
            tier,
            records,
            (&[Delan, Lnn], &[NodeSo, Hnn]),
            true,
            "On the conservative chain and spring pendulums the Lagrangian networks, second order by construction, sit with NODE+SO and the HNN: DeLaN and LNN are each within a factor 1.5 of the better of the two, or within two standard errors where both have two seeds or more and those seeds resolve a doubling.",
        ),
        b,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiments::report::rec;

    /// Records of `fig` at the reference tier with gerr from `g(system, model, seed)`.
    fn records(fig: Figure, g: impl Fn(&str, ModelKind, u64) -> f64) -> Vec<RunRecord> {
        fig.runs(Tier::Reference, None)
            .into_iter()
            .map(|s| {
                let m = s.model.autonomous().unwrap();
                let v = g(&s.system, m, s.seed);
                rec(s, v)
            })
            .collect()
    }

    fn verdicts(recs: &[RunRecord]) -> (String, String) {
        let c = claims(Tier::Reference, recs);
        (c[0].verdict.clone(), c[1].verdict.clone())
    }

    /// Each rule reaches each of its verdicts: holds, partly, does not hold, so far, no runs.
    #[test]
    fn each_rule_reaches_each_of_its_verdicts() {
        use ModelKind::*;
        let jitter = |seed: u64| 1.0 + 0.01 * seed as f64;
        for fig in [Figure::Lagrangian, Figure::Dissipation] {
            let pick = |v: &(String, String)| match fig {
                Figure::Lagrangian => v.0.clone(),
                _ => v.1.clone(),
            };
            let (a, refs) = match fig {
                Figure::Lagrangian => ((Delan, Lnn), vec![NodeSo, Hnn]),
                _ => ((PortHnn, DHnn), vec![NodeSo]),
            };
            // Close: 1.2x the best reference.
            let close = records(fig, |_, m, s| {
                let base = if refs.contains(&m) { 1e-2 } else { 1.2e-2 };
                base * jitter(s)
            });
            assert_eq!(pick(&verdicts(&close)), "holds", "{fig:?}");
            // Far on every system: 10x, seeds tight.
            let far = records(fig, |_, m, s| {
                let base = if m == a.0 || m == a.1 { 1e-1 } else { 1e-2 };
                base * jitter(s)
            });
            assert_eq!(pick(&verdicts(&far)), "does not hold", "{fig:?}");
            // Far for one of the two models only.
            let half = records(fig, |_, m, s| {
                let base = if m == a.1 { 1e-1 } else { 1e-2 };
                base * jitter(s)
            });
            assert_eq!(pick(&verdicts(&half)), "partly", "{fig:?}");
            // A system without runs of the new models: so far.
            let first = fig.systems(Tier::Reference)[0].clone();
            let some: Vec<RunRecord> = close
                .iter()
                .filter(|r| !(r.spec.system == first && r.spec.model.autonomous() == Some(a.0)))
                .cloned()
                .collect();
            assert!(
                pick(&verdicts(&some)).starts_with("holds so far"),
                "{fig:?}"
            );
            assert_eq!(pick(&verdicts(&[])), "no runs yet");
            // Seeds that resolve a doubling (1.7x apart on the mean, seeds from 0.6 to 1.4 of
            // it: within two standard errors that stay below the better mean) count as close for
            // the Lagrangian claim (its s.e. route), not for the dissipation claim (the factor
            // alone). Seeds too scattered to tell a doubling (3x apart, seeds from 0.1 to 1.9):
            // not shown close, and with no pair decided the Lagrangian claim cannot be decided.
            let spread = |base: f64, lo: f64, s: u64| base * [1.0 - lo, 1.0, 1.0 + lo][s as usize];
            let seeds_apart = |ratio: f64, lo: f64| {
                records(fig, move |_, m, s| {
                    let base = if m == a.0 || m == a.1 {
                        ratio * 1e-2
                    } else {
                        1e-2
                    };
                    spread(base, lo, s)
                })
            };
            let scattered = seeds_apart(3.0, 0.9);
            for (recs, lagrangian) in [
                (seeds_apart(1.7, 0.4), "holds"),
                (
                    scattered.clone(),
                    "cannot be decided: the seeds are too scattered",
                ),
            ] {
                let want = match fig {
                    Figure::Lagrangian => lagrangian,
                    _ => "does not hold",
                };
                assert_eq!(pick(&verdicts(&recs)), want, "{fig:?}");
            }
            // One model scattered, the other close: partly, the scattered pairs named.
            let mixed = records(fig, |_, m, s| match m {
                m if m == a.0 => spread(3e-2, 0.9, s),
                m if m == a.1 => 1.2e-2 * jitter(s),
                _ => spread(1e-2, 0.9, s),
            });
            if fig == Figure::Lagrangian {
                let c = &claims(Tier::Reference, &mixed)[0];
                assert_eq!(c.verdict, "partly", "{c:?}");
                assert!(c.evidence.contains(&format!("too scattered to tell a doubling from a match (two standard errors of the difference above the better mean): {first} delan (2σ")), "{c:?}");
            }
            let one: Vec<RunRecord> = scattered
                .iter()
                .filter(|r| r.spec.seed == 1)
                .cloned()
                .collect();
            assert_eq!(pick(&verdicts(&one)), "does not hold", "{fig:?}");
        }
    }
}
