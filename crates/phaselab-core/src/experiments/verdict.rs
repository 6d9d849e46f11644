//! The verdict on one live comparison (the playground's verdict line): the models ranked by their
//! rollout error, and what the ranking says about the paper's claim for the kind of system.
//! Second-order structure, not the Hamiltonian's symplecticity or energy conservation, makes HNNs
//! good: NODE+SO (dq/dt = M^-1(q) p, only dp/dt learned freely) matches the HNN on conservative
//! systems and beats it with drag and on MuJoCo data.
//!
//! With one seed a difference between two models counts only when one rollout error is at least
//! [`MATCH_FACTOR`] times the other; RESULTS.md's claims use the same factor for "matches" (with
//! two standard errors where there are seeds). The reading never says more than "this run shows".

use serde::{Deserialize, Serialize};

/// Two errors within this factor of each other are a match, not a difference.
pub const MATCH_FACTOR: f64 = 1.5;

/// One model in the comparison.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveModel {
    /// The model kind's name (`node`, `node-so`, `hnn`, `hnn-forced`, ...).
    pub kind: String,
    /// Its display name (NODE, NODE+SO, ...).
    pub label: String,
    /// Its rollout error gerr (a mean over seeds where there are several).
    pub gerr: f64,
    /// Loaded from a checkpoint rather than trained in this run.
    #[serde(default)]
    pub checkpoint: bool,
}

/// What kind of system the models were trained on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SystemKind {
    /// Friction dissipates energy.
    #[serde(default)]
    pub drag: bool,
    /// The data has controls (MuJoCo).
    #[serde(default)]
    pub controls: bool,
    /// Some coordinate is an angle.
    #[serde(default)]
    pub angular: bool,
}

/// What the comparison says about the claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reading {
    Supports,
    Partly,
    Contradicts,
    Unresolved,
    /// Models are missing to test the claim.
    Incomplete,
}

/// The ranking (indices into the models, lowest error first) and the reading.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub order: Vec<usize>,
    pub claim: Reading,
    pub reading: String,
}

/// Which of two errors is lower by at least [`MATCH_FACTOR`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gap {
    FirstLower,
    SecondLower,
    Within,
}

/// a against b: lower by the factor, higher by it, or within it.
pub fn gap(a: f64, b: f64) -> Gap {
    if a * MATCH_FACTOR <= b {
        Gap::FirstLower
    } else if b * MATCH_FACTOR <= a {
        Gap::SecondLower
    } else {
        Gap::Within
    }
}

/// `x` with `digits` significant digits as the page writes numbers: exponential below 1e-3 and
/// from 1e5 (JavaScript's `toExponential(digits - 1)`), else the shortest form of the rounded value.
pub fn fmt(x: f64, digits: usize) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let d = digits.max(1) - 1;
    if x != 0.0 && (x.abs() < 1e-3 || x.abs() >= 1e5) {
        let s = format!("{x:.d$e}");
        return match s.split_once('e') {
            Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
            _ => s,
        };
    }
    let rounded: f64 = format!("{x:.d$e}").parse().unwrap_or(x);
    format!("{rounded}")
}

/// How many times lo's error hi's is, as "2.5x".
fn times(hi: &LiveModel, lo: &LiveModel) -> String {
    format!("{}x", fmt(hi.gerr / lo.gerr, 3))
}

fn names(models: &[&LiveModel]) -> String {
    models
        .iter()
        .map(|m| m.label.as_str())
        .collect::<Vec<_>>()
        .join(" and ")
}

/// The verdict for `models` (finite errors) on a system of kind `sys`.
pub fn verdict(models: &[LiveModel], sys: SystemKind) -> Verdict {
    let mut order: Vec<usize> = (0..models.len()).collect();
    order.sort_by(|&a, &b| models[a].gerr.total_cmp(&models[b].gerr));
    let (claim, reading) = read(models, sys);
    Verdict {
        order,
        claim,
        reading,
    }
}

fn read(models: &[LiveModel], sys: SystemKind) -> (Reading, String) {
    use Reading::*;
    // The run's own model of each kind (a loaded checkpoint only where the run has none).
    let pick = |kind: &str| {
        models
            .iter()
            .find(|m| m.kind == kind && !m.checkpoint)
            .or_else(|| models.iter().find(|m| m.kind == kind))
    };
    let (node, so, hnn, forced) = (
        pick("node"),
        pick("node-so"),
        pick("hnn"),
        pick("hnn-forced"),
    );
    let f = MATCH_FACTOR;

    if sys.controls {
        let Some(so) = so.filter(|_| node.is_some() || forced.is_some()) else {
            return (Incomplete, "train NODE+SO beside NODE or HNN + forcing to test the paper's MuJoCo claim (NODE+SO ahead of both)".into());
        };
        let rivals: Vec<&LiveModel> = [node, forced].into_iter().flatten().collect();
        let res: Vec<Gap> = rivals.iter().map(|r| gap(so.gerr, r.gerr)).collect();
        if res.iter().all(|&g| g == Gap::FirstLower) {
            let by: Vec<String> = rivals
                .iter()
                .map(|r| format!("{} by {}", r.label, times(r, so)))
                .collect();
            return (
                Supports,
                format!(
                    "with controls {} beats {}: this run agrees",
                    so.label,
                    by.join(" and ")
                ),
            );
        }
        let with = |g: Gap| -> Vec<&LiveModel> {
            rivals
                .iter()
                .zip(&res)
                .filter(|(_, &x)| x == g)
                .map(|(r, _)| *r)
                .collect()
        };
        if res.contains(&Gap::SecondLower) {
            let ahead = names(&with(Gap::SecondLower));
            return (Contradicts, format!("{ahead} is clearly ahead of {}: this run contradicts the paper's MuJoCo result", so.label));
        }
        let ties = names(&with(Gap::Within));
        return (
            Unresolved,
            format!(
                "{} is within a factor {f} of {ties}: this run does not show NODE+SO ahead",
                so.label
            ),
        );
    }

    let constrained = ["constrained-node-so", "chnn", "clnn"];
    if !sys.drag
        && models
            .iter()
            .any(|m| constrained.contains(&m.kind.as_str()))
    {
        return read_constraints(pick("constrained-node-so"), pick("chnn"), pick("clnn"), hnn);
    }

    if sys.drag {
        if let (Some(hnn), true) = (hnn, so.is_some() || forced.is_some()) {
            let dissipators: Vec<&LiveModel> = [so, forced].into_iter().flatten().collect();
            let res: Vec<Gap> = dissipators.iter().map(|r| gap(r.gerr, hnn.gerr)).collect();
            let with = |g: Gap| -> Vec<&LiveModel> {
                dissipators
                    .iter()
                    .zip(&res)
                    .filter(|(_, &x)| x == g)
                    .map(|(r, _)| *r)
                    .collect()
            };
            let (winners, losers) = (with(Gap::FirstLower), with(Gap::SecondLower));
            if !losers.is_empty() {
                let l: Vec<String> = losers
                    .iter()
                    .map(|r| format!("{} ({})", r.label, times(r, hnn)))
                    .collect();
                return (Contradicts, format!("the {} is clearly ahead of {} on a drag system: this run contradicts the claim that an HNN, which conserves its learned energy, cannot keep up with drag", hnn.label, l.join(" and ")));
            }
            if winners.len() == dissipators.len() {
                let s = if winners.len() > 1 { "" } else { "s" };
                let by: Vec<String> = winners.iter().map(|w| times(hnn, w)).collect();
                return (
                    Supports,
                    format!(
                        "with drag {} beat{s} the {} by {}: this run agrees",
                        names(&winners),
                        hnn.label,
                        by.join(" and ")
                    ),
                );
            }
            let ties = names(&with(Gap::Within));
            let lead = if winners.is_empty() {
                String::new()
            } else {
                format!(
                    "with drag {} beats the {}, but ",
                    names(&winners),
                    hnn.label
                )
            };
            let claim = if winners.is_empty() {
                Unresolved
            } else {
                Partly
            };
            return (claim, format!("{lead}{ties} and the {} are within a factor {f} of each other: this run does not show the HNN's handicap with drag", hnn.label));
        }
        if !(so.is_some() && node.is_some()) {
            return (Incomplete, "train the HNN beside NODE+SO (or HNN + forcing) to test the drag claim: an HNN conserves its learned energy and cannot dissipate".into());
        }
        // No HNN: second-order structure against the plain NODE, below.
    }

    let (Some(so), Some(node)) = (so, node) else {
        let reading = if hnn.is_some() && node.is_some() {
            "add NODE+SO to tell second-order structure from the Hamiltonian"
        } else {
            "train NODE, NODE+SO and HNN side by side to test the claim"
        };
        return (Incomplete, reading.into());
    };
    // Where the HNN stands, for the readings that turn on NODE and NODE+SO alone.
    let hnn_note = hnn
        .filter(|_| !sys.drag)
        .map(|h| hnn_beside(h, node, so))
        .unwrap_or_default();
    match gap(so.gerr, node.gerr) {
        Gap::SecondLower => {
            return (Contradicts, format!("{} is clearly ahead of {} ({}): this run contradicts the claim that second-order structure is what helps{hnn_note}", node.label, so.label, times(so, node)));
        }
        Gap::Within => {
            let (lead, other) = if so.gerr <= node.gerr {
                (so, node)
            } else {
                (node, so)
            };
            return (Unresolved, format!("{} leads {} by only {}, under a factor {f}: this run does not show second-order structure helping (train longer, or try another seed){hnn_note}", lead.label, other.label, times(other, lead)));
        }
        Gap::FirstLower => {}
    }
    let hnn = match hnn {
        Some(h) if !sys.drag => h,
        _ => {
            let tail = if hnn.is_some() {
                ""
            } else {
                "; add the HNN to compare with the Hamiltonian"
            };
            return (Supports, format!("{} beats {} by {}: second-order structure (dq/dt = M^-1(q) p, only dp/dt learned freely) does the work{tail}", so.label, node.label, times(node, so)));
        }
    };
    // The HNN behind even the NODE, by any margin, is not what the paper finds: the run then
    // agrees only in part.
    if hnn.gerr > node.gerr && gap(so.gerr, hnn.gerr) != Gap::SecondLower {
        return (Partly, format!("{} beats {} by {} and the {} by {}, but the {} trails even {} ({}), which the paper does not find: this run agrees only in part", so.label, node.label, times(node, so), hnn.label, times(hnn, so), hnn.label, node.label, times(hnn, node)));
    }
    match gap(so.gerr, hnn.gerr) {
        Gap::FirstLower => (Supports, format!("{} beats the {} by {} and beats {} by {}: this run agrees", so.label, hnn.label, times(hnn, so), node.label, times(node, so))),
        Gap::Within => (Supports, format!("{} matches the {} (within a factor {f}) and beats {} by {}: this run agrees", so.label, hnn.label, node.label, times(node, so))),
        Gap::SecondLower if sys.angular => (Partly, format!("second-order structure gives {} a {} lead over {}; the {}'s further {} lead is what the paper attributes to angular coordinates (there H is simpler to learn than the vector field), not to energy conservation", so.label, times(node, so), node.label, hnn.label, times(so, hnn))),
        Gap::SecondLower => (Contradicts, format!("the {} is clearly ahead of {} ({}) in Cartesian coordinates, where the paper finds them matching: this run contradicts the claim", hnn.label, so.label, times(so, hnn))),
    }
}

/// A clause on the HNN beside NODE and NODE+SO: ahead of both, between them or behind both.
fn hnn_beside(hnn: &LiveModel, node: &LiveModel, so: &LiveModel) -> String {
    let (best, worst) = if so.gerr <= node.gerr {
        (so, node)
    } else {
        (node, so)
    };
    match (gap(hnn.gerr, best.gerr), gap(hnn.gerr, worst.gerr)) {
        (Gap::FirstLower, _) => format!(
            "; the {} is ahead of both ({} below {})",
            hnn.label,
            times(best, hnn),
            best.label
        ),
        (_, Gap::SecondLower) => format!(
            "; the {} is behind both ({} above {})",
            hnn.label,
            times(hnn, worst),
            worst.label
        ),
        _ => format!(
            "; the {} is level with them (within a factor {MATCH_FACTOR})",
            hnn.label
        ),
    }
}

/// The ladder's question (Finzi et al.'s constrained models, compared on body points): do the
/// constraints do the work, or the Hamiltonian? The constrained NODE+SO (second-order structure
/// and the constraints, no energy) against the better of CHNN and CLNN, then that one against the
/// HNN in angles.
fn read_constraints(
    so: Option<&LiveModel>,
    chnn: Option<&LiveModel>,
    clnn: Option<&LiveModel>,
    hnn: Option<&LiveModel>,
) -> (Reading, String) {
    use Reading::*;
    let f = MATCH_FACTOR;
    let best = [chnn, clnn]
        .into_iter()
        .flatten()
        .min_by(|a, b| a.gerr.total_cmp(&b.gerr));
    let (Some(so), Some(best)) = (so, best) else {
        return (Incomplete, "train the constrained NODE+SO beside CHNN or CLNN to ask whether the constraints or the Hamiltonian do the work".into());
    };
    let tail = match hnn.map(|h| (h, gap(best.gerr, h.gerr))) {
        None => String::new(),
        Some((h, Gap::FirstLower)) => format!(
            "; with the constraints {} is {} below the {} in angles",
            best.label,
            times(h, best),
            h.label
        ),
        Some((h, Gap::Within)) => format!(
            "; {} and the {} in angles are within a factor {f}: the constraints gain nothing here",
            best.label, h.label
        ),
        Some((h, Gap::SecondLower)) => format!(
            "; the {} in angles is ahead of {} ({})",
            h.label,
            best.label,
            times(best, h)
        ),
    };
    match gap(so.gerr, best.gerr) {
        Gap::FirstLower => (Supports, format!("{} beats {} by {}: the constraints, not the Hamiltonian, do the work{tail}", so.label, best.label, times(best, so))),
        Gap::Within => (Supports, format!("{} matches {} (within a factor {f}): the constraints, not the Hamiltonian, do the work{tail}", so.label, best.label)),
        Gap::SecondLower => (Contradicts, format!("{} is clearly ahead of {} ({}): on this run the Hamiltonian adds to the constraints{tail}", best.label, so.label, times(so, best))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(kind: &str, label: &str, gerr: f64) -> LiveModel {
        LiveModel {
            kind: kind.into(),
            label: label.into(),
            gerr,
            checkpoint: false,
        }
    }

    fn conservative(node: f64, so: f64, hnn: f64, angular: bool) -> Verdict {
        let models = [
            m("node", "NODE", node),
            m("node-so", "NODE+SO", so),
            m("hnn", "HNN", hnn),
        ];
        verdict(
            &models,
            SystemKind {
                angular,
                ..SystemKind::default()
            },
        )
    }

    #[test]
    fn numbers_read_as_the_page_writes_them() {
        for (x, d, want) in [
            (2.5, 3, "2.5"),
            (1234.5, 3, "1230"),
            (0.012345, 3, "0.0123"),
            (1.5e-4, 3, "1.50e-4"),
            (2.0e5, 3, "2.00e+5"),
            (3.0, 3, "3"),
            (0.0, 3, "0"),
            (f64::NAN, 3, "–"),
        ] {
            assert_eq!(fmt(x, d), want, "{x} to {d} digits");
        }
    }

    #[test]
    fn every_reading_is_reachable_on_a_conservative_system() {
        // node-so clearly below node, and matching the HNN: supports.
        assert_eq!(
            conservative(1e-1, 1e-2, 1.2e-2, true).claim,
            Reading::Supports
        );
        // node-so below node, the HNN clearly ahead: partly with angles, contradicts without.
        assert_eq!(conservative(1e-1, 1e-2, 1e-3, true).claim, Reading::Partly);
        assert_eq!(
            conservative(1e-1, 1e-2, 1e-3, false).claim,
            Reading::Contradicts
        );
        // node clearly ahead of node-so: contradicts; within the factor: unresolved.
        assert_eq!(
            conservative(1e-2, 1e-1, 1e-3, true).claim,
            Reading::Contradicts
        );
        assert_eq!(
            conservative(1.2e-2, 1e-2, 1e-2, true).claim,
            Reading::Unresolved
        );
        let v = verdict(&[m("node", "NODE", 1.0)], SystemKind::default());
        assert_eq!(v.claim, Reading::Incomplete);
    }

    #[test]
    fn the_reading_names_the_models_and_the_factors() {
        let v = conservative(1e-1, 1e-2, 1.2e-2, true);
        assert_eq!(v.order, vec![1, 2, 0]);
        assert_eq!(
            v.reading,
            "NODE+SO matches the HNN (within a factor 1.5) and beats NODE by 10x: this run agrees"
        );
        let v = conservative(1e-1, 1e-2, 1e-3, true);
        assert!(
            v.reading
                .contains("a 10x lead over NODE; the HNN's further 10x lead"),
            "{}",
            v.reading
        );
    }

    #[test]
    fn every_reading_says_where_the_hnn_stands() {
        // NODE+SO beats both, and the HNN is behind even NODE (the spring pendulum's run).
        let v = conservative(0.388, 0.05, 0.489, false);
        assert_eq!(v.claim, Reading::Partly);
        assert_eq!(v.reading, "NODE+SO beats NODE by 7.76x and the HNN by 9.78x, but the HNN trails even NODE (1.26x), which the paper does not find: this run agrees only in part");
        assert!(!v.reading.contains("this run agrees:"));
        // NODE and NODE+SO level, the HNN far ahead (the gyroscope's and rotor's runs).
        let v = conservative(0.1, 0.09, 0.01, true);
        assert_eq!(v.claim, Reading::Unresolved);
        assert!(
            v.reading
                .ends_with("; the HNN is ahead of both (9x below NODE+SO)"),
            "{}",
            v.reading
        );
        let v = conservative(0.01, 0.1, 0.5, true);
        assert_eq!(v.claim, Reading::Contradicts);
        assert!(
            v.reading
                .ends_with("; the HNN is behind both (5x above NODE+SO)"),
            "{}",
            v.reading
        );
    }

    #[test]
    fn drag_and_controls_have_their_own_rules() {
        let drag = SystemKind {
            drag: true,
            ..SystemKind::default()
        };
        let models = [
            m("node-so", "NODE+SO", 1e-3),
            m("hnn", "HNN", 1e-2),
            m("hnn-forced", "HNN + forcing", 2e-3),
        ];
        let v = verdict(&models, drag);
        assert_eq!(v.claim, Reading::Supports);
        assert_eq!(
            v.reading,
            "with drag NODE+SO and HNN + forcing beat the HNN by 10x and 5x: this run agrees"
        );
        let models = [m("node-so", "NODE+SO", 1e-2), m("hnn", "HNN", 1e-3)];
        assert_eq!(verdict(&models, drag).claim, Reading::Contradicts);
        let models = [
            m("node-so", "NODE+SO", 1e-2),
            m("hnn", "HNN", 1.1e-2),
            m("hnn-forced", "HNN + forcing", 1e-3),
        ];
        assert_eq!(verdict(&models, drag).claim, Reading::Partly);
        let controls = SystemKind {
            controls: true,
            ..SystemKind::default()
        };
        let models = [m("node", "NODE", 1e-1), m("node-so", "NODE+SO", 1e-2)];
        assert_eq!(verdict(&models, controls).claim, Reading::Supports);
        let models = [m("node", "NODE", 1.1e-2), m("node-so", "NODE+SO", 1e-2)];
        assert_eq!(verdict(&models, controls).claim, Reading::Unresolved);
        assert_eq!(verdict(&models[..1], controls).claim, Reading::Incomplete);
    }

    #[test]
    fn with_constrained_models_the_question_is_constraints_or_hamiltonian() {
        let sys = SystemKind {
            angular: true,
            ..SystemKind::default()
        };
        let ladder = |so: f64, chnn: f64, hnn: f64| {
            let models = [
                m("node-so", "NODE+SO", 1e-1),
                m("hnn", "HNN", hnn),
                m("constrained-node-so", "constrained NODE+SO", so),
                m("chnn", "CHNN", chnn),
                m("clnn", "CLNN", 2.0 * chnn),
            ];
            verdict(&models, sys)
        };
        let v = ladder(1.2e-3, 1e-3, 1e-2);
        assert_eq!(v.claim, Reading::Supports);
        assert_eq!(v.order, vec![3, 2, 4, 1, 0]);
        assert_eq!(v.reading, "constrained NODE+SO matches CHNN (within a factor 1.5): the constraints, not the Hamiltonian, do the work; with the constraints CHNN is 10x below the HNN in angles");
        let v = ladder(5e-4, 1e-3, 1e-3);
        assert_eq!(v.claim, Reading::Supports);
        assert!(
            v.reading
                .starts_with("constrained NODE+SO beats CHNN by 2x"),
            "{}",
            v.reading
        );
        assert!(
            v.reading
                .ends_with("within a factor 1.5: the constraints gain nothing here"),
            "{}",
            v.reading
        );
        let v = ladder(1e-2, 1e-3, 1e-4);
        assert_eq!(v.claim, Reading::Contradicts);
        assert_eq!(v.reading, "CHNN is clearly ahead of constrained NODE+SO (10x): on this run the Hamiltonian adds to the constraints; the HNN in angles is ahead of CHNN (10x)");
        let v = verdict(&[m("chnn", "CHNN", 1e-3), m("hnn", "HNN", 1e-2)], sys);
        assert_eq!(v.claim, Reading::Incomplete);
    }

    #[test]
    fn a_loaded_checkpoint_counts_only_where_the_run_has_no_model_of_its_kind() {
        let mut ck = m("node", "NODE (checkpoint)", 1e-4);
        ck.checkpoint = true;
        let models = [ck, m("node", "NODE", 1e-1), m("node-so", "NODE+SO", 1e-2)];
        let v = verdict(&models, SystemKind::default());
        assert_eq!(v.claim, Reading::Supports, "{}", v.reading);
    }
}
