//! `phaselab results`: fill RESULTS.md's generated blocks (budget, tables, claims, figures) from
//! run records and draw the figures it embeds (SVG, under `figures/TIER/` beside the page), or
//! check that the page and its figures agree with them.

use crate::output::{read, write_atomic};
use anyhow::{bail, Context, Result};
use clap::Args;
use phaselab_core::experiments::comparison::Comparison;
use phaselab_core::experiments::record::RunRecord;
use phaselab_core::experiments::report;
use phaselab_core::experiments::Tier;
use phaselab_core::plot::figures::DrawnFile;
use phaselab_core::plot::page_figures::{page_figures, PageFigures};
use phaselab_core::train::StepTrace;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct ResultsArgs {
    /// Tier the records were trained at.
    #[arg(long, default_value = "reference")]
    tier: String,
    /// Directory of run records (`reproduce --records`).
    #[arg(long, default_value = "docs/results/reference/runs")]
    records: PathBuf,
    /// The page whose `<!-- generated: NAME -->` blocks are filled.
    #[arg(long, default_value = "docs/results/RESULTS.md")]
    page: PathBuf,
    /// Directory of ablations: `phaselab compare` outputs (compare.json) saved as NAME.json.
    #[arg(long, default_value = "docs/results/reference/ablations")]
    ablations: PathBuf,
    /// Directory of ladder models trained on another body of a ladder system: `phaselab compare`
    /// outputs (compare.json) saved as NAME.json (the page's `ladder-variants` block).
    #[arg(long, default_value = "docs/results/reference/variants")]
    variants: PathBuf,
    /// Directory of reruns with a remedy: `phaselab compare --warmup` or `--max-speed` outputs
    /// (compare.json) saved as NAME.json, shown beside the diverged runs they retrain (none if it
    /// does not exist).
    #[arg(long, default_value = "docs/results/reference/remedies")]
    remedies: PathBuf,
    /// Directory of step traces of reruns (`phaselab train --trace`'s steps.csv saved as
    /// RUN-ID.csv), shown in the page's `divergence-traces` block (none if it does not exist).
    #[arg(long, default_value = "docs/results/reference/traces")]
    traces: PathBuf,
    /// Directory of fig7 records (`reproduce fig7 --records`; default docs/results/TIER/fig7);
    /// none if it does not exist.
    #[arg(long)]
    fig7_records: Option<PathBuf>,
    /// Records of the same runs at a shorter budget (a tier's records directory): the page's
    /// `vs-TIER:FIG` blocks show each figure beside them.
    #[arg(long, requires = "base_tier")]
    base_records: Option<PathBuf>,
    /// Tier of --base-records.
    #[arg(long, requires = "base_records")]
    base_tier: Option<String>,
    /// fig7 records at the base tier (default docs/results/BASE_TIER/fig7; none if it does not
    /// exist): the page's `fig7-cost` block estimates this tier's fig7 cost from them.
    #[arg(long, requires = "base_tier")]
    base_fig7_records: Option<PathBuf>,
    /// Change nothing: exit with an error if the page differs from what the records give.
    #[arg(long)]
    check: bool,
}

/// The .json files in `dir`, sorted.
fn json_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the records in {}", dir.display()))?
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    Ok(paths)
}

/// Every record in `dir` (each file checked; a damaged one is an error naming it).
pub fn read_records(dir: &Path) -> Result<Vec<RunRecord>> {
    json_files(dir)?
        .iter()
        .map(|p| {
            let r = RunRecord::from_bytes(&read(p)?, None)
                .with_context(|| format!("{}", p.display()))?;
            if p.file_name().and_then(|n| n.to_str()) != Some(&RunRecord::file_name(&r.spec)) {
                bail!("{} holds the record of run {}", p.display(), r.spec.id());
            }
            Ok(r)
        })
        .collect()
}

/// Every fig7 record in `dir` (none if it does not exist; a damaged one is an error naming it):
/// run records, the committed ones in the format fig7 records had before (read converted).
pub fn read_fig7_records(dir: &Path) -> Result<Vec<RunRecord>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    read_records(dir)
}

/// Every NAME.json in `dir` (none if it does not exist), sorted by name: each a `phaselab compare`
/// output (compare.json); one that does not read as one is an error naming it.
pub fn read_ablations(dir: &Path) -> Result<Vec<(String, Comparison)>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for p in entries.filter_map(|e| Some(e.ok()?.path())) {
        if p.extension().is_some_and(|x| x == "json") {
            let c: Comparison = serde_json::from_slice(&read(&p)?).with_context(|| {
                format!(
                    "{} is not a `phaselab compare` output (compare.json)",
                    p.display()
                )
            })?;
            let name = p
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("?")
                .to_string();
            out.push((name, c));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Every RUN-ID.csv step trace in `dir` (none if it does not exist), sorted by name; one that
/// does not read as a trace is an error naming it.
pub fn read_traces(dir: &Path) -> Result<Vec<(String, Vec<StepTrace>)>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for p in entries.filter_map(|e| Some(e.ok()?.path())) {
        if p.extension().is_some_and(|x| x == "csv") {
            let text = String::from_utf8(read(&p)?)
                .with_context(|| format!("{} is not UTF-8 text", p.display()))?;
            let steps = StepTrace::from_csv(&text).map_err(|e| {
                anyhow::anyhow!("{} is not a step trace (`train --trace`): {e}", p.display())
            })?;
            let name = p.file_stem().and_then(|s| s.to_str()).unwrap_or("?");
            out.push((name.to_string(), steps));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Where a tier's fig7 records are committed: `docs/results/TIER/fig7`.
fn fig7_dir(tier: Tier) -> PathBuf {
    PathBuf::from(format!("docs/results/{tier}/fig7"))
}

pub fn results_cmd(a: ResultsArgs) -> Result<()> {
    let tier: Tier = a.tier.parse().map_err(anyhow::Error::msg)?;
    let records = read_records(&a.records)?;
    let ablations = read_ablations(&a.ablations)?;
    let remedies = read_ablations(&a.remedies)?;
    let traces = read_traces(&a.traces)?;
    let variants = read_ablations(&a.variants)?;
    let fig7 = read_fig7_records(&a.fig7_records.clone().unwrap_or_else(|| fig7_dir(tier)))?;
    let base = match (&a.base_tier, &a.base_records) {
        (Some(t), Some(dir)) => Some((
            t.parse::<Tier>().map_err(anyhow::Error::msg)?,
            read_records(dir)?,
        )),
        _ => None,
    };
    let base_fig7 = match &base {
        Some((t, _)) => {
            read_fig7_records(&a.base_fig7_records.clone().unwrap_or_else(|| fig7_dir(*t)))?
        }
        None => Vec::new(),
    };
    let page = String::from_utf8(read(&a.page)?)
        .with_context(|| format!("{} is not UTF-8 text", a.page.display()))?;
    let base = base.as_ref().map(|(t, r)| (*t, r.as_slice()));
    let inputs = Inputs {
        ablations: &ablations,
        remedies: &remedies,
        traces: &traces,
        variants: &variants,
        fig7: &fig7,
        base,
        base_fig7: &base_fig7,
    };
    let (filled, figures) = fill(&page, tier, &records, &inputs)
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.page.display()))?;
    let dir = a
        .page
        .parent()
        .unwrap_or(Path::new("."))
        .join(figure_dir(tier));
    if a.check {
        if filled != page {
            bail!(
                "{} differs from what the {} records in {} give; run `phaselab results` to regenerate it",
                a.page.display(),
                records.len(),
                a.records.display()
            );
        }
        let stale = stale_figures(&dir, &figures.files);
        if !stale.is_empty() {
            bail!(
                "{}'s figures differ from what its records give ({} in {}); run `phaselab results` to redraw them",
                a.page.display(),
                stale.join(", "),
                dir.display()
            );
        }
        println!(
            "{} and its {} figures agree with its {} records",
            a.page.display(),
            figures.files.len(),
            records.len()
        );
        return Ok(());
    }
    if !figures.files.is_empty() {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    for f in &figures.files {
        write_atomic(&dir.join(&f.name), &f.bytes)?;
    }
    write_page_if_unchanged(&a.page, &page, &filled)?;
    println!(
        "wrote {} and {} figures in {} from {} records in {}",
        a.page.display(),
        figures.files.len(),
        dir.display(),
        records.len(),
        a.records.display()
    );
    Ok(())
}

/// Writes `filled` over `path` unless the page there is no longer `read`, the text it was filled
/// from: an edit made while the records were being read is kept, and the run says to try again.
fn write_page_if_unchanged(path: &Path, read_text: &str, filled: &str) -> Result<()> {
    let now = std::fs::read_to_string(path).unwrap_or_default();
    if now != read_text {
        bail!(
            "{} changed while it was being regenerated (an edit?); it was left as it is now: run `phaselab results` again",
            path.display()
        );
    }
    write_atomic(path, filled.as_bytes())
}

/// Where a page's figures live, relative to the page: `figures/TIER`.
fn figure_dir(tier: Tier) -> String {
    format!("figures/{tier}")
}

/// What a page is filled from besides its tier's records.
struct Inputs<'a> {
    ablations: &'a [(String, Comparison)],
    remedies: &'a [(String, Comparison)],
    traces: &'a [(String, Vec<StepTrace>)],
    variants: &'a [(String, Comparison)],
    fig7: &'a [RunRecord],
    base: Option<(Tier, &'a [RunRecord])>,
    /// fig7's records at the base tier, to estimate this tier's fig7 cost from.
    base_fig7: &'a [RunRecord],
}

/// The page with every block filled, and the figures it embeds.
fn fill(
    page: &str,
    tier: Tier,
    records: &[RunRecord],
    i: &Inputs,
) -> Result<(String, PageFigures)> {
    let figures = page_figures(page, tier, records, i.fig7, &figure_dir(tier))?;
    let mut blocks = report::blocks(tier, records, i.ablations, i.fig7, i.base);
    blocks.extend(figures.blocks.iter().cloned());
    blocks.push((
        "divergence".to_string(),
        report::divergence_block(tier, records, i.remedies),
    ));
    blocks.push((
        "divergence-traces".to_string(),
        report::traces_block(i.traces, records),
    ));
    blocks.push((
        "ladder-variants".to_string(),
        report::variants_block(records, i.variants),
    ));
    if let Some((t, _)) = i.base {
        let cost = report::fig7_cost_block(tier, i.fig7, (t, i.base_fig7));
        blocks.push(("fig7-cost".to_string(), cost));
    }
    // The ladder's chaos floors integrate the true systems: only for a page that shows them.
    if report::marked_blocks(page)
        .iter()
        .any(|b| b == "ladder-floor")
    {
        let floor = report::ladder_floor_block(tier).map_err(anyhow::Error::msg)?;
        blocks.push(("ladder-floor".to_string(), floor));
    }
    let filled = report::fill_page(page, &blocks).map_err(anyhow::Error::msg)?;
    Ok((filled, figures))
}

/// The figures in `dir` that are missing or differ from `files`, by name.
fn stale_figures(dir: &Path, files: &[DrawnFile]) -> Vec<String> {
    files
        .iter()
        .filter(|f| std::fs::read(dir.join(&f.name)).ok().as_deref() != Some(&f.bytes[..]))
        .map(|f| f.name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_edited_while_it_is_regenerated_keeps_the_edit() {
        let dir = std::env::temp_dir().join(format!("phaselab-page-race-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let page = dir.join("PAGE.md");
        std::fs::write(&page, "read\n").unwrap();
        // Unchanged since it was read: written.
        write_page_if_unchanged(&page, "read\n", "filled\n").unwrap();
        assert_eq!(std::fs::read_to_string(&page).unwrap(), "filled\n");
        // Edited after it was read: the edit stays, and the error says why.
        std::fs::write(&page, "edited\n").unwrap();
        let e = write_page_if_unchanged(&page, "filled\n", "filled again\n").unwrap_err();
        assert!(
            e.to_string()
                .contains("changed while it was being regenerated"),
            "{e}"
        );
        assert_eq!(std::fs::read_to_string(&page).unwrap(), "edited\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A committed page is what its committed records give: regenerated here, compared number
    /// for number, and its figures drawn again, compared byte for byte with the committed SVGs.
    /// A records directory not committed yet counts as no records.
    fn assert_page_is_its_records(page: &str, tier: Tier, dir: &str, base: Option<(Tier, &str)>) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let records_in = |d: &str| {
            let d = root.join(d);
            if d.is_dir() {
                read_records(&d).unwrap()
            } else {
                Vec::new()
            }
        };
        let records = records_in(dir);
        let base = base.map(|(t, d)| (t, records_in(d)));
        let text = std::fs::read_to_string(root.join(page)).unwrap();
        let ablations = read_ablations(&root.join("docs/results/reference/ablations")).unwrap();
        let fig7 = read_fig7_records(&root.join(fig7_dir(tier))).unwrap();
        let remedies = read_ablations(&root.join("docs/results/reference/remedies")).unwrap();
        let traces = read_traces(&root.join("docs/results/reference/traces")).unwrap();
        let variants = read_ablations(&root.join("docs/results/reference/variants")).unwrap();
        let base_fig7 = match &base {
            Some((t, _)) => read_fig7_records(&root.join(fig7_dir(*t))).unwrap(),
            None => Vec::new(),
        };
        let base = base.as_ref().map(|(t, r)| (*t, r.as_slice()));
        let inputs = Inputs {
            ablations: &ablations,
            remedies: &remedies,
            traces: &traces,
            variants: &variants,
            fig7: &fig7,
            base,
            base_fig7: &base_fig7,
        };
        let (filled, figures) = fill(&text, tier, &records, &inputs).unwrap();
        assert!(
            filled == text,
            "{page} differs from what its {} records give: run `phaselab results` (see the page)",
            records.len()
        );
        let at = root.join(page).parent().unwrap().join(figure_dir(tier));
        let stale = stale_figures(&at, &figures.files);
        assert!(
            stale.is_empty(),
            "{page}'s figures {stale:?} differ from what its records give: run `phaselab results`"
        );
    }

    #[test]
    fn committed_results_page_equals_what_its_records_give() {
        let dir = "docs/results/reference/runs";
        assert_page_is_its_records("docs/results/RESULTS.md", Tier::Reference, dir, None);
    }

    #[test]
    fn committed_paper_tier_page_equals_what_its_records_give() {
        let base = Some((Tier::Reference, "docs/results/reference/runs"));
        let dir = "docs/results/paper/runs";
        assert_page_is_its_records("docs/results/PAPER-TIER.md", Tier::Paper, dir, base);
    }
}
