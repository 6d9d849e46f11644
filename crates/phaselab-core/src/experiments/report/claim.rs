//! One claim and its verdict: the words every rule decides with (holds, partly, does not hold,
//! "so far" while settings lack runs) and the evidence text, shared by every file of claims.

use super::tables::Closeness;
use crate::experiments::Figure;

/// One claim of the paper and what the records say of it.
#[derive(Clone, Debug, PartialEq)]
pub struct PaperClaim {
    pub figure: Figure,
    pub statement: &'static str,
    /// "holds", "does not hold", "partly", or "no runs yet".
    pub verdict: String,
    pub evidence: String,
}

/// The verdict on a claim tested on n of `total` settings, holding on k; "so far" while some
/// settings have no runs yet.
pub(super) fn verdict(k: usize, n: usize, total: usize) -> String {
    let v = match (k, n) {
        (_, 0) => return "no runs yet".into(),
        (k, n) if k == n => "holds",
        (0, _) => "does not hold",
        _ => "partly",
    };
    if n < total {
        format!("{v} so far ({n} of {total} settings have runs)")
    } else {
        v.into()
    }
}

/// Evidence text: the parts, or a plain statement that nothing has run.
pub(super) fn listed(parts: &[String]) -> String {
    if parts.is_empty() {
        "No runs are recorded yet.".into()
    } else {
        format!("{}.", parts.join("; "))
    }
}

/// The pairs of a "close" or "matches" claim, counted by `Closeness`, with the scattered ones
/// named: they are neither evidence for the claim nor against it.
#[derive(Default)]
pub(super) struct CloseCount {
    pub close: usize,
    pub far: usize,
    pub scattered: Vec<String>,
}

impl CloseCount {
    pub(super) fn add(&mut self, c: Closeness, pair: impl FnOnce() -> String) {
        match c {
            Closeness::Close => self.close += 1,
            Closeness::Far => self.far += 1,
            Closeness::Scattered => self.scattered.push(pair()),
        }
    }

    pub(super) fn n(&self) -> usize {
        self.close + self.far + self.scattered.len()
    }

    /// The verdict over `total` settings: the pairs that decide count as in [`verdict`], a
    /// scattered pair counts as not shown close; with none decided it cannot be decided.
    pub(super) fn verdict(&self, total: usize) -> String {
        let n = self.n();
        if self.close == 0 && self.far == 0 && n > 0 {
            let v = "cannot be decided: the seeds are too scattered";
            return match n < total {
                true => format!("{v} so far ({n} of {total} settings have runs)"),
                false => v.into(),
            };
        }
        verdict(self.close, n, total)
    }

    /// The scattered pairs named, for the evidence (empty where there are none).
    pub(super) fn scattered_text(&self) -> String {
        match self.scattered.is_empty() {
            true => String::new(),
            false => format!(
                " Not shown close, since their seeds are too scattered to tell a doubling from a match (two standard errors of the difference above the better mean): {}.",
                self.scattered.join("; ")
            ),
        }
    }
}
