//! One claim and its verdict: the words every rule decides with (holds, partly, does not hold,
//! "so far" while settings lack runs) and the evidence text, shared by every file of claims.

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
