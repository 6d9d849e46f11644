//! What the ladder is read against: the CHNN repository's own numbers for its models on the same
//! systems (github.com/mfinzi/constrained-hamiltonian-neural-networks, `notebooks/pendulum-geom-mean.csv`
//! and `notebooks/non-pendulum-geom-mean.csv`, the `avg_rel_err_pred` rows; docs/chnn-repository.md
//! says how they were read). These are that repository's measurements, kept as constants with
//! their source, not phaselab's.

use super::tables::{cell, of_figure, scored_for};
use crate::experiments::comparison::Comparison;
use crate::experiments::record::RunRecord;
use crate::experiments::{Figure, Tier};
use crate::metrics::{cartesian_chaos_floor, solver_floor};
use crate::physics::spec::{Body, Projection, SystemSpec};
use crate::physics::system;

/// (system, [NODE, HNN, DeLaN, CHNN, CLNN]): the geometric mean over its 100 test trajectories of
/// each trajectory's time-geometric mean of |pred − true| / (|pred| + |true|) on body points.
pub const CHNN_REPOSITORY: [(&str, [f64; 5]); 8] = [
    (
        "chain-pendulum:1",
        [3.766e-4, 1.177e-4, 2.524e-4, 6.082e-5, 5.229e-5],
    ),
    (
        "chain-pendulum:2",
        [6.453e-2, 1.910e-3, 1.248e-3, 1.173e-4, 1.141e-4],
    ),
    (
        "chain-pendulum:3",
        [2.681e-1, 4.658e-2, 4.086e-2, 3.434e-4, 3.261e-4],
    ),
    (
        "chain-pendulum:5",
        [4.395e-1, 3.396e-1, 3.313e-1, 1.067e-3, 9.327e-4],
    ),
    (
        "coupled-pendulum:3",
        [5.537e-2, 6.496e-2, 5.774e-2, 7.648e-3, 7.427e-3],
    ),
    (
        "magnet-pendulum",
        [1.115e-1, 1.047e-1, 1.338e-1, 1.270e-2, 1.033e-2],
    ),
    (
        "gyroscope",
        [5.092e-2, 2.149e-3, 2.372e-3, 1.737e-5, 2.269e-5],
    ),
    ("rotor", [4.058e-1, 2.560e-1, 2.799e-1, 5.747e-6, 1.071e-5]),
];

/// The CHNN repository's number for `model` on `system` (its table's columns: NODE, HNN, DeLaN,
/// CHNN, CLNN, its NODE and HNN in angles); `None` for a model or system it does not have.
fn chnn_repository(system: &str, model: crate::models::ModelKind) -> Option<f64> {
    use crate::models::ModelKind;
    let column = match model {
        ModelKind::Node => 0,
        ModelKind::Hnn => 1,
        ModelKind::Delan => 2,
        ModelKind::Chnn => 3,
        ModelKind::Clnn => 4,
        _ => return None,
    };
    CHNN_REPOSITORY
        .iter()
        .find(|(s, _)| *s == system)
        .map(|(_, v)| v[column])
}

/// The terms of phaselab's rotor's kinetic energy (its mass, then its edge inertias).
fn rotor_mass_terms() -> Vec<f64> {
    use crate::physics::lagrangian::{MassTerm, Mechanism};
    crate::physics::rotor::Rotor::new()
        .node_mass()
        .terms
        .iter()
        .map(|t| match *t {
            MassTerm::Point { mass, .. } => mass,
            MassTerm::Coupling { inertia, .. } => inertia,
        })
        .collect()
}

/// The CHNN repository's table as markdown, with its protocol.
pub fn chnn_reference_block() -> String {
    let mut md =
        String::from("| system | NODE | HNN | DeLaN | CHNN | CLNN |\n|---|---|---|---|---|---|\n");
    for (sys, v) in CHNN_REPOSITORY {
        md += &format!("| {sys} |");
        for x in v {
            md += &format!(" {x:.2e} |");
        }
        md += "\n";
    }
    md += "\nIts protocol: 800 training trajectories, one random 5-step chunk of each, batch 200, \
           2000 epochs (8000 optimiser steps) of AdamW at lr 3e-3 with an L1 loss on positions and \
           velocities, width 256 and 3 hidden layers; 100 test trajectories rolled out for 100 \
           steps with dopri5 from the start of a chunk. Its error per trajectory is the \
           time-average of log(error + 1e-8) by the trapezoid rule, t = 0 included, where \
           phaselab's `gerr` averages log(max(error, 1e-7)) over t >= 1; its pendulum rows \
           average the curves of several runs before that step. NODE and HNN there are angle \
           models mapped to body points, as phaselab's generalised models are here. phaselab's \
           systems are the decon-hnn code's, which has its lengths and time steps but not all \
           its bodies: the magnet pendulum's bob weighs 2 here and 3 there \
           (`magnet-pendulum,body=chnn` is that one), and the rotor is \
           another body. Its rotor is built with `Rotor()`'s defaults, mass 3 and second moments \
           (1, 2, 3), with initial conditions N(0, 1); phaselab's is decon-hnn's, mass 2 and the \
           second moments of `rotor.obj`, whose kinetic energy's terms (the mass and the three \
           edge inertias, which CHNN and CLNN learn) are ";
    let terms = rotor_mass_terms();
    let span =
        terms.iter().cloned().fold(0.0, f64::max) / terms.iter().cloned().fold(f64::MAX, f64::min);
    md +=
        &format!(
        "{} (a span of {span:.0}x, where that rotor's span 3x), with rates 2 N(0, 1) clamped at 3 \
         (`rotor,body=chnn` is that repository's rotor in phaselab). \
         Its trajectories are 100 steps long, phaselab's 10 s, from which the training chunks and \
         test chunks are cut.\n",
        terms.iter().map(|t| format!("{t:.3}")).collect::<Vec<_>>().join(", ")
    );
    md
}

/// The chaos floor of each of the ladder's systems on the body points, as its models are scored:
/// the true system started 1e-4 away in every generalised coordinate and rolled out with dopri5
/// on the test set of data seed 0 at `tier`'s sizes (`cartesian_chaos_floor`). No model can be
/// expected to go below it; a column of the ladder table near it has learned the system.
pub fn ladder_floor_block(tier: Tier) -> Result<String, String> {
    let s = tier.settings();
    let protocol = s.protocol(0);
    let mut md = String::from(
        "| system | chaos floor: gerr on body points | at the last test step | the true field stepped as the models are: gerr |\n|---|---|---|---|\n",
    );
    for name in Figure::Ladder.systems(tier) {
        let sys = system(&name).map_err(|e| format!("{name}: {e}"))?;
        let test = protocol
            .generate(sys.as_ref(), &|_| {})
            .map_err(|e| format!("{name}: {e}"))?
            .test;
        let floor = cartesian_chaos_floor(sys.as_ref(), &test, 1e-4)?;
        let last = floor.curve.last().copied().unwrap_or(f64::NAN);
        let stepped = solver_floor(sys.as_ref(), &test, 1)?;
        let stepped = match (&stepped.error, stepped.failed) {
            (Some(e), 0) => format!("{:.3e}", e.gerr),
            (Some(e), f) => format!("{:.3e} ({f} of {} failed)", e.gerr, stepped.n),
            (None, f) => format!("– ({f} of {} failed)", stepped.n),
        };
        md += &format!("| {name} | {:.3e} | {last:.3e} | {stepped} |\n", floor.gerr);
    }
    md += &format!(
        "\n{} test chunks of {} points (data seed 0). Chaos floor: every generalised coordinate \
         moved by 1e-4, rolled out with dopri5. The last column: the true system's own field, in \
         its generalised coordinates, rolled out with one classic RK4 step per data interval \
         (the models take one 3/8-rule RK4 step), scored over the chunks it could integrate; a \
         chunk fails where the field overflows or meets a chart's pole. Where that column is far \
         above the chaos floor, the data interval is too coarse for the motion, and no model \
         stepped at it can follow the truth however well it learns the field.\n",
        s.n_test, s.test_chunk
    );
    Ok(md)
}

/// Ladder models trained on another body of a ladder system (`phaselab compare --system
/// rotor,body=chnn ...`, committed as `NAME.json`), each run beside the ladder's own runs of that
/// model on the system's default body: on the body points, with their steps and data seed.
pub fn variants_block(records: &[RunRecord], variants: &[(String, Comparison)]) -> String {
    let scored = scored_for(Figure::Ladder, records);
    let runs: Vec<&RunRecord> = scored.iter().collect();
    let mut md = String::from(
        "| system | model | recipe | steps | data seed | gerr on body points | the ladder's runs on the default body | the CHNN repository's |\n|---|---|---|---|---|---|---|---|\n",
    );
    for (name, c) in variants {
        // The default body of the same family and size: the system as the ladder trains it.
        let base = c.system.parse::<SystemSpec>().map(|s| {
            SystemSpec {
                body: Body::Decon,
                ic: Projection::Angles,
                ..s
            }
            .to_string()
        });
        for r in &c.runs {
            let gerr = r.test.cartesian_gerr.unwrap_or(r.test.gerr);
            let ladder = match &base {
                Ok(b) => cell(&runs, |s| {
                    &s.system == b && s.model == r.model && s.coordinates == r.model.coordinates()
                })
                .text(),
                Err(_) => "–".to_string(),
            };
            let recipe = c
                .settings
                .recipe()
                .unwrap_or_else(|| "phaselab's".to_string());
            let theirs = base
                .as_deref()
                .ok()
                .and_then(|b| chnn_repository(b, r.model))
                .map_or("–".to_string(), |x| format!("{x:.2e}"));
            md += &format!(
                "| {} | {} | {recipe} | {} | {} | {gerr:.3e} (`{name}`) | {ladder} | {theirs} |\n",
                c.system, r.model, c.optimiser_steps, c.settings.data_seed
            );
        }
    }
    md
}

/// The generalised models' ladder runs scored two ways: in their own coordinates (gerr, as the
/// paper's figures score them) and on the body points (as the ladder and the CHNN repository
/// do), the mean over the finished seeds of each and their ratio. A relative error in angles is
/// divided by |q| + |q̂|, which is large where Euler or spherical angles sit far from zero or
/// wind, so it can read far lower than the same rollouts on the body points.
pub fn coordinates_block(tier: Tier, records: &[RunRecord]) -> String {
    use crate::data::Coordinates;
    use crate::models::ModelKind;
    let runs = of_figure(Figure::Ladder, tier, records);
    let mut md = String::from(
        "| system | model | gerr in its coordinates | gerr on the body points | body points / own coordinates |\n|---|---|---|---|---|\n",
    );
    for sys in Figure::Ladder.systems(tier) {
        for model in [ModelKind::Node, ModelKind::NodeSo, ModelKind::Hnn] {
            let both: Vec<(f64, f64)> = runs
                .iter()
                .filter(|r| {
                    r.spec.system == sys
                        && r.spec.model == model
                        && r.spec.coordinates == Coordinates::Generalised
                })
                .filter_map(|r| r.test())
                .filter_map(|t| Some((t.gerr, t.cartesian_gerr?)))
                .collect();
            if both.is_empty() {
                continue;
            }
            let n = both.len() as f64;
            let own = both.iter().map(|b| b.0).sum::<f64>() / n;
            let body = both.iter().map(|b| b.1).sum::<f64>() / n;
            md += &format!(
                "| {sys} | {model} | {own:.3e} | {body:.3e} | {:.2}x (n={}) |\n",
                body / own,
                both.len()
            );
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generalised_run_reads_in_its_coordinates_beside_the_body_points() {
        use crate::experiments::report::rec;
        use crate::models::ModelKind;
        // NODE on the gyroscope, 0.02 in its angles and 0.2 on the body points, over two seeds.
        let records: Vec<RunRecord> = Figure::Ladder
            .runs(Tier::Reference, Some(2))
            .into_iter()
            .filter(|s| s.system == "gyroscope" && s.model == ModelKind::Node)
            .filter(|s| s.coordinates == crate::data::Coordinates::Generalised)
            .map(|s| {
                let mut r = rec(s, 0.02);
                if let crate::experiments::record::Outcome::Finished { test } = &mut r.outcome {
                    test.cartesian_gerr = Some(if r.spec.seed == 0 { 0.1 } else { 0.3 });
                }
                r
            })
            .collect();
        assert_eq!(records.len(), 2);
        let md = coordinates_block(Tier::Reference, &records);
        assert!(
            md.contains("| gyroscope | node | 2.000e-2 | 2.000e-1 | 10.00x (n=2) |"),
            "{md}"
        );
        // Only the systems and models with runs have rows.
        assert_eq!(md.lines().count(), 3, "{md}");
    }

    #[test]
    fn a_variant_body_reads_beside_the_ladders_runs_on_the_default_one() {
        use crate::experiments::report::{comparison_of, rec};
        use crate::models::ModelKind;
        // The ladder's CLNN on the rotor at 0.1 and 0.3 (two seeds), CHNN on the chain only.
        let records: Vec<RunRecord> = Figure::Ladder
            .runs(Tier::Reference, Some(2))
            .into_iter()
            .filter(|s| {
                (s.system == "rotor" && s.model == ModelKind::Clnn)
                    || (s.system == "chain-pendulum:2" && s.model == ModelKind::Chnn)
            })
            .map(|s| {
                let g = if s.seed == 0 { 0.1 } else { 0.3 };
                rec(s, g)
            })
            .collect();
        let variant = comparison_of(
            "rotor,body=chnn",
            0,
            0.0,
            &[
                (ModelKind::Clnn, 1.0, 2e-4),
                (ModelKind::Chnn, 1.0, 3e-4),
                (ModelKind::ConstrainedNodeSo, 1.0, 4e-4),
            ],
        );
        let md = variants_block(&records, &[("rotor-chnn-body".into(), variant)]);
        assert!(
            md.contains("| rotor,body=chnn | clnn | phaselab's | 2000 | 0 | 2.000e-4 (`rotor-chnn-body`) | 2.000e-1 ± 1.0e-1 (n=2) | 1.07e-5 |"),
            "{md}"
        );
        // No ladder run of CHNN on the default rotor: its cell is empty, not another system's.
        assert!(
            md.contains(
                "| rotor,body=chnn | chnn | phaselab's | 2000 | 0 | 3.000e-4 (`rotor-chnn-body`) | – | 5.75e-6 |"
            ),
            "{md}"
        );
        // The CHNN repository has no constrained NODE+SO: nothing to read it against.
        assert!(
            md.contains(
                "| constrained-node-so | phaselab's | 2000 | 0 | 4.000e-4 (`rotor-chnn-body`) | – | – |"
            ),
            "{md}"
        );
        // Another recipe says so.
        let mut l1 = comparison_of("rotor,body=chnn", 0, 0.0, &[(ModelKind::Clnn, 1.0, 2e-4)]);
        (l1.settings.loss, l1.settings.depth) = ("l1".into(), 3);
        let md = variants_block(&records, &[("l1".into(), l1)]);
        assert!(
            md.contains("| clnn | L1 loss, 3 hidden layers | 2000 |"),
            "{md}"
        );
    }

    #[test]
    fn every_ladder_system_has_a_chaos_floor_above_the_metrics_floor() {
        let md = ladder_floor_block(Tier::Smoke).unwrap();
        let systems = Figure::Ladder.systems(Tier::Smoke);
        for sys in &systems {
            let row = md
                .lines()
                .find(|l| l.starts_with(&format!("| {sys} |")))
                .unwrap_or_else(|| panic!("{sys}: {md}"));
            let gerr: f64 = row.split('|').nth(2).unwrap().trim().parse().unwrap();
            // Above gerr's own floor of 1e-7 (a perturbation that was not applied scores there),
            // below any model's error.
            assert!(gerr > 2e-7 && gerr < 1e-2, "{sys}: {row}");
        }
    }

    #[test]
    fn the_reference_table_names_the_ladders_systems() {
        let systems: Vec<&str> = CHNN_REPOSITORY.iter().map(|r| r.0).collect();
        assert_eq!(systems, Figure::Ladder.systems(Tier::Reference));
        let md = chnn_reference_block();
        assert!(
            md.contains("| gyroscope | 5.09e-2 | 2.15e-3 | 2.37e-3 | 1.74e-5 | 2.27e-5 |"),
            "{md}"
        );
        // The rotor's terms come from its physics: mass 2 and 2 x rotor.obj's second moments.
        assert!(
            md.contains("are 2.000, 0.006, 0.198, 0.042 (a span of 335x"),
            "{md}"
        );
    }
}
