//! fig9's gyroscope at two data sizes and the same optimiser steps (fig9 beside fig9-data): what
//! five times the trajectories buys each model, and whether NODE+SO then beats the NODE, as the
//! paper's fig9, trained on 5000 systems, found.

use super::claims::tally;
use super::tables::{cell_of, of_figure, table_head};
use crate::experiments::record::RunRecord;
use crate::experiments::{Figure, Tier, TierSettings};
use crate::models::ModelKind::{Hnn, Node, NodeSo};
use crate::train::Loss;

/// The `data-size:fig9` block: the sizes of both figures' runs (as the code sets them), each
/// model's test gerr on fig9's data and on fig9-data's with their ratio, and the paper's
/// comparisons on the larger data.
pub fn data_size_block(tier: Tier, records: &[RunRecord]) -> String {
    let (small, large) = (Figure::Fig9.settings(tier), Figure::Fig9Data.settings(tier));
    let size = |s: &TierSettings| {
        format!(
            "{} trajectories ({} training chunks, {} epochs)",
            s.n_trajectories,
            s.training_chunks(),
            s.epochs
        )
    };
    let mut md = format!(
        "Tier `{tier}`: fig9 on {}, fig9-data on {}; both **{} optimiser steps per run** and the same {} test chunks of {} points.\n\n",
        size(&small),
        size(&large),
        small.optimiser_steps(),
        small.n_test,
        small.test_chunk,
    );
    let (f9, f9d) = (
        of_figure(Figure::Fig9, tier, records),
        of_figure(Figure::Fig9Data, tier, records),
    );
    let (a, b) = (small.n_trajectories, large.n_trajectories);
    md += &table_head(&[
        "model".into(),
        format!("{a} trajectories"),
        format!("{b} trajectories"),
        format!("{a} / {b}"),
    ]);
    let systems = Figure::Fig9Data.systems(tier);
    for sys in &systems {
        for m in Figure::Fig9Data.models() {
            let (x, y) = (
                cell_of(&f9, sys, m, Loss::L2),
                cell_of(&f9d, sys, m, Loss::L2),
            );
            let ratio = match x.n > 0 && y.n > 0 {
                true => format!("{:.2}", x.mean / y.mean),
                false => "–".into(),
            };
            md += &format!("| {sys} | {m} | {} | {} | {ratio} |\n", x.text(), y.text());
        }
    }
    if f9d.is_empty() {
        return md + &format!("\nNo runs on {b} trajectories are recorded yet.\n");
    }
    let (so, h) = (
        tally(&f9d, &systems, NodeSo, Node),
        tally(&f9d, &systems, Hnn, Node),
    );
    md += &format!(
        "\nOn {b} trajectories, node-so against node: {} hnn against node: {}\n",
        so.evidence, h.evidence
    );
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiments::report::rec;
    use crate::models::ModelKind;

    /// Each model's row reads its fig9 runs beside its fig9-data runs, and the comparison is
    /// made on the larger data only.
    #[test]
    fn each_model_reads_beside_itself_on_five_times_the_data() {
        let at = |fig: Figure, g: f64| -> Vec<RunRecord> {
            fig.runs(Tier::Paper, Some(3))
                .into_iter()
                .filter(|s| s.system == "gyroscope")
                .map(|s| {
                    // node-so loses to node on fig9's data and wins on fig9-data's.
                    let m = match (s.model == ModelKind::NodeSo, fig == Figure::Fig9Data) {
                        (true, false) => 1.5,
                        (true, true) => 0.5,
                        _ => 1.0,
                    };
                    rec(s.clone(), g * m * (1.0 + 0.01 * s.seed as f64))
                })
                .collect()
        };
        let mut records = at(Figure::Fig9, 4.0);
        let block = data_size_block(Tier::Paper, &records);
        assert!(block.starts_with("Tier `paper`: fig9 on 1000 trajectories (800 training chunks, 2000 epochs), fig9-data on 5000 trajectories (4000 training chunks, 400 epochs); both **8000 optimiser steps per run** and the same 200 test chunks of 100 points."), "{block}");
        assert!(
            block.contains("| gyroscope | node-so | 6.060e0 ± 3.5e-2 (n=3) | – | – |"),
            "{block}"
        );
        assert!(
            block.ends_with("\nNo runs on 5000 trajectories are recorded yet.\n"),
            "{block}"
        );
        records.extend(at(Figure::Fig9Data, 1.0));
        let block = data_size_block(Tier::Paper, &records);
        assert!(
            block.contains(
                "| gyroscope | node-so | 6.060e0 ± 3.5e-2 (n=3) | 5.050e-1 ± 2.9e-3 (n=3) | 12.00 |"
            ),
            "{block}"
        );
        assert!(
            block.contains("node-so against node: node-so is lower on 1 of 1 systems, by more than two standard errors on 1."),
            "{block}"
        );
        // The page's budget counts the runs on the larger data apart.
        let budget = crate::experiments::report::budget(Tier::Paper, &records);
        assert!(
            budget.contains("18 runs recorded (0 diverged; of them 9 on 5000 trajectories)"),
            "{budget}"
        );
    }
}
