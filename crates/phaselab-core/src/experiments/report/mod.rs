//! RESULTS.md's numbers, computed from run records and never typed by hand: the budget that
//! trained them, each figure's table (mean ± standard error over data seeds) and each claim of the
//! paper with its verdict. `phaselab results` writes them between markers in RESULTS.md, and a test
//! fails when the committed page differs from what the committed records give.
//!
//! One file per part of the page: `budget` (the training budget), `tables` (each figure's gerr
//! table), `claims` (the paper's claims and their verdicts), `ablations` (committed `phaselab
//! compare` outputs), `fig7` (the MuJoCo figure) and `page` (the named blocks and the markers
//! they are written between).

mod ablations;
mod budget;
mod claim;
mod claims;
mod fig7;
mod ladder;
mod lagrangian;
mod page;
mod tables;

pub use ablations::ablation_table;
pub use budget::budget;
pub use claims::{claims, claims_markdown, PaperClaim};
pub use fig7::fig7_block;
pub use ladder::chnn_reference_block;
pub use page::{blocks, fill_page, marked_blocks, BLOCK_END};
pub use tables::{budget_table, figure_table, of_figure, scored_for, Cell};

/// A finished run of `spec` with test gerr `gerr` (and Herr half of it), for the tests of every
/// part of the page.
#[cfg(test)]
pub(crate) fn rec(
    spec: crate::experiments::RunSpec,
    gerr: f64,
) -> crate::experiments::record::RunRecord {
    use crate::experiments::record::{Outcome, RunRecord};
    use crate::train::Evaluation;
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
                cartesian_gerr: Some(gerr),
                cartesian_gerr_curve: Some(vec![gerr]),
                n_trajectories: 1,
                n_steps: 1,
            },
        },
    }
}
