//! What the ladder is read against: the CHNN repository's own numbers for its models on the same
//! systems (github.com/mfinzi/constrained-hamiltonian-neural-networks, `notebooks/pendulum-geom-mean.csv`
//! and `notebooks/non-pendulum-geom-mean.csv`, the `avg_rel_err_pred` rows; docs/chnn-repository.md
//! says how they were read). These are that repository's measurements, kept as constants with
//! their source, not phaselab's.

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
           systems have its masses, lengths and time steps (the magnet pendulum's bob weighs 2 \
           here, as the decon-hnn code builds it, and 3 there); its trajectories are 100 steps \
           long, phaselab's 10 s, from which the training chunks and test chunks are cut.\n";
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiments::{Figure, Tier};

    #[test]
    fn the_reference_table_names_the_ladders_systems() {
        let systems: Vec<&str> = CHNN_REPOSITORY.iter().map(|r| r.0).collect();
        assert_eq!(systems, Figure::Ladder.systems(Tier::Reference));
        let md = chnn_reference_block();
        assert!(
            md.contains("| gyroscope | 5.09e-2 | 2.15e-3 | 2.37e-3 | 1.74e-5 | 2.27e-5 |"),
            "{md}"
        );
    }
}
