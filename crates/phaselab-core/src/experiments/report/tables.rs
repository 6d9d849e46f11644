//! Each figure's table, as the paper's bar charts read: test rollout error (gerr) per system and
//! model, mean ± standard error over data seeds, and a figure at two training budgets side by side.

use crate::experiments::record::RunRecord;
use crate::experiments::verdict::MATCH_FACTOR;
use crate::experiments::{Figure, Layout, RunSpec, Tier, ALPHAS};
use crate::models::ModelKind;
use crate::stats::mean_and_standard_error;
use crate::train::Loss;

/// The records of `fig`'s grid at `tier` (any number of seeds), in grid order.
pub fn of_figure<'a>(fig: Figure, tier: Tier, records: &'a [RunRecord]) -> Vec<&'a RunRecord> {
    let max_seed = records.iter().map(|r| r.spec.seed).max().unwrap_or(0);
    let grid = fig.runs(tier, Some(max_seed as usize + 1));
    grid.iter()
        .filter_map(|s| records.iter().find(|r| &r.spec == s))
        .collect()
}

/// A cell of a table: the test gerr of the finished seeds of one setting.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub mean: f64,
    pub se: f64,
    pub n: usize,
    pub diverged: usize,
    /// Seeds that trained into a model whose test rollouts overflow.
    pub unscored: usize,
}

impl Cell {
    fn of(runs: &[&RunRecord]) -> Cell {
        let xs: Vec<f64> = runs.iter().filter_map(|r| Some(r.test()?.gerr)).collect();
        let (mean, se) = mean_and_standard_error(&xs);
        Cell {
            mean,
            se,
            n: xs.len(),
            diverged: runs.iter().filter(|r| r.diverged()).count(),
            unscored: runs.iter().filter(|r| r.unscored()).count(),
        }
    }

    pub(super) fn text(&self) -> String {
        if self.n == 0 && self.diverged == 0 && self.unscored == 0 {
            return "–".into();
        }
        let mut s = if self.n == 0 {
            "–".to_string()
        } else {
            format!("{:.3e} ± {:.1e} (n={})", self.mean, self.se, self.n)
        };
        if self.diverged > 0 {
            s += &format!(", {} diverged", self.diverged);
        }
        if self.unscored > 0 {
            s += &format!(", {} unscored", self.unscored);
        }
        s
    }

    /// Whether self is below other by more than two standard errors of the difference (which
    /// needs two seeds on each side).
    pub(super) fn clearly_below(&self, other: &Cell) -> bool {
        self.n > 1 && other.n > 1 && other.mean - self.mean > self.two_sigma(other)
    }

    /// Two standard errors of the difference of two cells' means.
    pub(super) fn two_sigma(&self, other: &Cell) -> f64 {
        2.0 * (self.se.powi(2) + other.se.powi(2)).sqrt()
    }

    /// How self stands behind `best` under a "close" claim: within the match factor (1.5);
    /// else, with two seeds or more on each side, within two standard errors of the difference
    /// σ, provided those seeds resolve a doubling (2σ ≤ best's mean, so the route stretches the
    /// factor to 2 at most); seeds more scattered than that cannot tell, and say so. With one
    /// seed no standard error exists, so only the factor decides.
    pub(super) fn closeness_behind(&self, best: &Cell) -> Closeness {
        if self.mean / best.mean <= MATCH_FACTOR {
            return Closeness::Close;
        }
        if self.n < 2 || best.n < 2 || best.clearly_below(self) {
            return Closeness::Far;
        }
        match self.two_sigma(best) <= best.mean {
            true => Closeness::Close,
            false => Closeness::Scattered,
        }
    }

    /// Whether two cells match (either order): the worse one close behind the better one.
    pub(super) fn closeness_to(&self, other: &Cell) -> Closeness {
        match self.mean <= other.mean {
            true => other.closeness_behind(self),
            false => self.closeness_behind(other),
        }
    }
}

/// A pair under a "close" or "matches" claim (`Cell::closeness_behind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Closeness {
    Close,
    Far,
    /// Beyond the factor and not clearly above, but the seeds are too scattered to tell a
    /// doubling from a match: not evidence either way.
    Scattered,
}

/// The cell of the runs `keep` picks.
pub(super) fn cell(runs: &[&RunRecord], keep: impl Fn(&RunSpec) -> bool) -> Cell {
    let sel: Vec<&RunRecord> = runs.iter().copied().filter(|r| keep(&r.spec)).collect();
    Cell::of(&sel)
}

/// The cell of one system, model and loss.
pub(super) fn cell_of(runs: &[&RunRecord], system: &str, model: ModelKind, loss: Loss) -> Cell {
    cell(runs, |s| {
        s.system == system && s.model == model && s.loss == loss
    })
}

/// A table column: its heading and which runs of a row's system it holds.
type Column = (String, Box<dyn Fn(&RunSpec) -> bool>);

/// A figure's columns: its series (models, or losses), or alpha for fig3.
fn columns(fig: Figure, tier: Tier) -> Vec<Column> {
    if fig.layout() == Layout::AlphaSweep {
        return ALPHAS
            .iter()
            .map(|&a| {
                let pick = Box::new(move |s: &RunSpec| s.alpha == Some(a));
                (
                    format!("alpha {a:e}"),
                    pick as Box<dyn Fn(&RunSpec) -> bool>,
                )
            })
            .collect();
    }
    let mut series: Vec<String> = Vec::new();
    for spec in fig.runs(tier, Some(1)) {
        let s = fig.series(&spec);
        if !series.contains(&s) {
            series.push(s);
        }
    }
    series
        .into_iter()
        .map(|name| {
            let n = name.clone();
            let pick = Box::new(move |s: &RunSpec| fig.series(s) == n);
            (name, pick as Box<dyn Fn(&RunSpec) -> bool>)
        })
        .collect()
}

pub(super) fn table_head(heads: &[String]) -> String {
    let mut md = String::from("| system |");
    for h in heads {
        md += &format!(" {h} |");
    }
    md + "\n|---|" + &"---|".repeat(heads.len()) + "\n"
}

/// Markdown table of a figure: gerr per system and series (alpha per column for fig3).
/// The records as `fig` scores them: the ladder compares models in different coordinates, so
/// every run there is scored on the system's body points; the other figures as recorded.
pub fn scored_for(fig: Figure, records: &[RunRecord]) -> std::borrow::Cow<'_, [RunRecord]> {
    match fig {
        Figure::Ladder => records
            .iter()
            .filter_map(RunRecord::scored_on_body_points)
            .collect::<Vec<_>>()
            .into(),
        _ => records.into(),
    }
}

pub fn figure_table(fig: Figure, tier: Tier, records: &[RunRecord]) -> String {
    let records = scored_for(fig, records);
    let runs = of_figure(fig, tier, &records);
    let cols = columns(fig, tier);
    let mut md = table_head(&cols.iter().map(|c| c.0.clone()).collect::<Vec<_>>());
    for sys in fig.systems(tier) {
        md += &format!("| {sys} |");
        for (_, pick) in &cols {
            md += &format!(" {} |", cell(&runs, |s| s.system == sys && pick(s)).text());
        }
        md += "\n";
    }
    md
}

/// A figure at two budgets side by side: each series at `base`'s tier and at `tier`, for the
/// systems `records` (trained at `tier`) have runs of, so a study of part of a grid at a longer
/// budget reads against the shorter one.
pub fn budget_table(
    fig: Figure,
    (tier, records): (Tier, &[RunRecord]),
    (base, base_records): (Tier, &[RunRecord]),
) -> String {
    let (records, base_records) = (scored_for(fig, records), scored_for(fig, base_records));
    let (runs, base_runs) = (
        of_figure(fig, tier, &records),
        of_figure(fig, base, &base_records),
    );
    let steps = |t: Tier| t.settings().optimiser_steps();
    let cols = columns(fig, tier);
    let heads: Vec<String> = cols
        .iter()
        .flat_map(|(h, _)| [base, tier].map(|t| format!("{h}, {} steps", steps(t))))
        .collect();
    let mut md = table_head(&heads);
    let studied = fig
        .systems(tier)
        .into_iter()
        .filter(|sys| runs.iter().any(|r| &r.spec.system == sys));
    for sys in studied {
        md += &format!("| {sys} |");
        for (_, pick) in &cols {
            for rs in [&base_runs, &runs] {
                md += &format!(" {} |", cell(rs, |s| s.system == sys && pick(s)).text());
            }
        }
        md += "\n";
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiments::report::{blocks, rec};

    #[test]
    fn a_longer_budget_reads_beside_the_shorter_one() {
        // fig5 at the quick tier for every system; at the reference tier for one system only.
        let of = |tier: Tier, g: f64| {
            Figure::Fig5
                .runs(tier, Some(2))
                .into_iter()
                .map(|s| {
                    let m = if s.model == ModelKind::Hnn { 2.0 } else { 1.0 };
                    rec(s.clone(), g * m * (1.0 + 0.01 * s.seed as f64))
                })
                .collect::<Vec<_>>()
        };
        let short = of(Tier::Quick, 1.0);
        let long: Vec<RunRecord> = of(Tier::Reference, 0.1)
            .into_iter()
            .filter(|r| r.spec.system == "spring-pendulum:2")
            .collect();
        let table = budget_table(
            Figure::Fig5,
            (Tier::Reference, &long),
            (Tier::Quick, &short),
        );
        let steps = |t: Tier| t.settings().optimiser_steps();
        let (q, r) = (steps(Tier::Quick), steps(Tier::Reference));
        assert!(
            table.starts_with(&format!("| system | node-so, {q} steps | node-so, {r} steps | hnn, {q} steps | hnn, {r} steps |\n")),
            "{table}"
        );
        assert!(
            table.contains("| spring-pendulum:2 | 1.005e0 ± 5.0e-3 (n=2) | 1.005e-1 ± 5.0e-4 (n=2) | 2.010e0 ± 1.0e-2 (n=2) | 2.010e-1 ± 1.0e-3 (n=2) |"),
            "{table}"
        );
        assert_eq!(table.lines().count(), 3, "only the system studied: {table}");
        // The figure's claims alone, numbered as in the whole list (fig4's two come first).
        let b = blocks(
            Tier::Reference,
            &long,
            &[],
            &[],
            Some((Tier::Quick, &short)),
        );
        let get = |name: &str| &b.iter().find(|(n, _)| n == name).expect(name).1;
        assert_eq!(get("vs-quick:fig5"), &table);
        let fig5 = get("claims:fig5");
        assert!(
            fig5.starts_with("3. **In non-Cartesian") && fig5.contains("\n4. **In Cartesian"),
            "{fig5}"
        );
        assert!(
            fig5.contains("Verdict: **does not hold so far (1 of 3 settings have runs)**"),
            "{fig5}"
        );
        assert!(!get("claims:fig4").contains("3. "));
    }

    /// A cell counts its diverged and unscored seeds apart, and leaves both out of the mean.
    #[test]
    fn a_cell_names_its_diverged_and_unscored_seeds_apart() {
        use crate::experiments::record::Outcome;
        let mut runs: Vec<RunRecord> = Figure::Fig5
            .runs(Tier::Reference, Some(4))
            .into_iter()
            .filter(|s| s.system == "spring-pendulum:1" && s.model == ModelKind::Hnn)
            .map(|s| rec(s, 2.0))
            .collect();
        runs[0].outcome = Outcome::Diverged { epoch: 2 };
        runs[1].outcome = Outcome::Unscored {
            reason: "overflow".into(),
        };
        let refs: Vec<&RunRecord> = runs.iter().collect();
        let c = cell(&refs, |_| true);
        assert_eq!((c.n, c.diverged, c.unscored, c.mean), (2, 1, 1, 2.0));
        assert_eq!(c.text(), "2.000e0 ± 0.0e0 (n=2), 1 diverged, 1 unscored");
        runs.truncate(2);
        let refs: Vec<&RunRecord> = runs.iter().collect();
        assert_eq!(cell(&refs, |_| true).text(), "–, 1 diverged, 1 unscored");
    }
}
