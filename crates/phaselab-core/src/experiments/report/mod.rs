//! RESULTS.md's numbers, computed from run records and never typed by hand: the budget that
//! trained them, each figure's table (mean ± standard error over data seeds) and each claim of the
//! paper with its verdict. `phaselab results` writes them between markers in RESULTS.md, and a test
//! fails when the committed page differs from what the committed records give.
//!
//! One file per part of the page: `budget` (the training budget), `tables` (each figure's gerr
//! table), `claims` (the paper's claims and their verdicts), `ablations` (committed `phaselab
//! compare` outputs), `fig7` (the MuJoCo figure), `data_size` (fig9 on more trajectories) and `page` (the named blocks and the markers
//! they are written between).

mod ablations;
mod budget;
mod claim;
mod claims;
mod data_size;
mod divergence;
mod fig7;
mod ladder;
mod lagrangian;
mod page;
mod step_traces;
mod tables;

pub use ablations::ablation_table;
pub use budget::budget;
pub use claims::{claims, claims_markdown, PaperClaim};
pub use data_size::data_size_block;
pub use divergence::divergence_block;
pub use fig7::{fig7_block, fig7_cost_block};
pub use ladder::{chnn_reference_block, ladder_floor_block, variants_block};
pub use page::{blocks, fill_page, marked_blocks, BLOCK_END};
pub use step_traces::traces_block;
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

/// A `phaselab compare` output on `system` at data seed `seed` with warm-up `warmup` (epochs),
/// one finished run per (model, test MSE, gerr), for the tests of the page's parts.
#[cfg(test)]
pub(crate) fn comparison_of(
    system: &str,
    seed: u64,
    warmup: f64,
    runs: &[(crate::models::ModelKind, f64, f64)],
) -> crate::experiments::comparison::Comparison {
    use crate::experiments::comparison::{CompareSettings, ComparedRun, Comparison};
    use crate::train::Evaluation;
    let run = |&(model, mse, gerr): &(crate::models::ModelKind, f64, f64)| ComparedRun {
        model,
        run: Some(model.name().to_string()),
        parameters: 1,
        train_seconds: 1.0,
        test: Evaluation {
            gerr,
            gerr_curve: vec![gerr],
            herr: None,
            herr_curve: None,
            mse,
            symplectic_error: None,
            learned_h_drift: None,
            cartesian_gerr: None,
            cartesian_gerr_curve: None,
            n_trajectories: 1,
            n_steps: 1,
        },
    };
    Comparison {
        system: system.into(),
        settings: CompareSettings {
            epochs: 500,
            width: 256,
            depth: 2,
            lr: 5e-3,
            warmup,
            max_speed: None,
            batch: 200,
            loss: "l2".into(),
            solver: "rk4-38".into(),
            model_seed: 0,
            data: None,
            n: 1000,
            n_test: 200,
            data_seed: seed,
            stabiliser: true,
            zero_output_biases: false,
            fixed_edge_mass: false,
            seeds: None,
            data_seeds: None,
            phaselab_version: "0.1.0".into(),
            git_commit: "abc".into(),
        },
        optimiser_steps: 2000,
        runs: runs.iter().map(run).collect(),
    }
}
