//! The figures a results page embeds, drawn from the same records as its tables: for every
//! `<!-- generated: figure:NAME -->` block the page marks, figure NAME's SVG drawings and the
//! block that shows them (markdown images), so that a page's pictures cannot drift from its
//! records any more than its numbers (`phaselab results` writes them, `--check` compares them).

use super::figures::{fig7_outputs, figure_outputs, DrawnFile, FigureError};
use crate::experiments::record::RunRecord;
use crate::experiments::report::marked_blocks;
use crate::experiments::{Figure, Tier};

/// A page's figure blocks ("figure:NAME", its markdown) and the SVG files they show, named as
/// they are to be written under `dir` (a path relative to the page, e.g. `figures/reference`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageFigures {
    pub blocks: Vec<(String, String)>,
    pub files: Vec<DrawnFile>,
}

/// The figures `page` marks, at `tier`, from `records` (Figure 7's from `fig7`).
pub fn page_figures(
    page: &str,
    tier: Tier,
    records: &[RunRecord],
    fig7: &[RunRecord],
    dir: &str,
) -> Result<PageFigures, FigureError> {
    let mut out = PageFigures {
        blocks: Vec::new(),
        files: Vec::new(),
    };
    for block in marked_blocks(page) {
        let Some(name) = block.strip_prefix("figure:") else {
            continue;
        };
        let fig: Figure = name
            .parse()
            .map_err(|e: String| FigureError::Page(format!("block '{block}': {e}")))?;
        let outputs = match fig {
            Figure::Fig7 => fig7_outputs(tier, fig7, &[])?,
            _ => figure_outputs(fig, tier, records)?,
        };
        let svgs: Vec<DrawnFile> = outputs
            .files
            .into_iter()
            .filter(|f| f.name.ends_with(".svg"))
            .collect();
        let md: String = svgs
            .iter()
            .map(|f| {
                let stem = f.name.trim_end_matches(".svg");
                format!("![{stem}: {}]({dir}/{})\n", fig.title(), f.name)
            })
            .collect();
        out.blocks.push((block.clone(), md));
        out.files.extend(svgs);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiments::report::rec;

    #[test]
    fn a_pages_figure_blocks_show_the_figures_drawings_from_the_records() {
        let records: Vec<RunRecord> = Figure::Fig4
            .runs(Tier::Reference, Some(2))
            .into_iter()
            .enumerate()
            .map(|(i, s)| rec(s, 1e-3 * (1 + i % 7) as f64))
            .collect();
        let page = "a\n<!-- generated: figure:fig4 -->\n<!-- end generated -->\n<!-- generated: fig4 -->\n";
        let got = page_figures(page, Tier::Reference, &records, &[], "figures/reference").unwrap();
        assert_eq!(got.files.len(), 1);
        assert_eq!(got.files[0].name, "fig4.svg");
        let svg = String::from_utf8(got.files[0].bytes.clone()).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("chain-pendulum:1"),
            "{svg:.200}"
        );
        assert_eq!(
            got.blocks,
            vec![(
                "figure:fig4".to_string(),
                format!(
                    "![fig4: {}](figures/reference/fig4.svg)\n",
                    Figure::Fig4.title()
                )
            )]
        );
        // Other records, another drawing.
        let fewer = &records[..records.len() / 2];
        let other = page_figures(page, Tier::Reference, fewer, &[], "figures/reference").unwrap();
        assert_ne!(other.files, got.files);
        // A figure the report does not know is named.
        let bad = "<!-- generated: figure:fig99 -->\n<!-- end generated -->\n";
        let e = page_figures(bad, Tier::Reference, &records, &[], "x").unwrap_err();
        assert!(e.to_string().contains("fig99"), "{e}");
    }

    /// A figure draws its own runs only: fig9's gyroscope and fig9-data's share system and
    /// model, not data, and neither drawing takes the other's runs.
    #[test]
    fn a_figure_draws_its_own_runs_and_not_those_of_the_same_model_at_other_sizes() {
        let of = |fig: Figure, g: f64| -> Vec<RunRecord> {
            fig.runs(Tier::Paper, Some(3))
                .into_iter()
                .filter(|s| s.system == "gyroscope")
                .map(|s| rec(s, g))
                .collect()
        };
        let (fig9, fig9_data) = (of(Figure::Fig9, 1e-2), of(Figure::Fig9Data, 1e-3));
        let all: Vec<RunRecord> = fig9.iter().chain(&fig9_data).cloned().collect();
        for (fig, own) in [(Figure::Fig9, &fig9), (Figure::Fig9Data, &fig9_data)] {
            let drawn = figure_outputs(fig, Tier::Paper, &all).unwrap();
            let alone = figure_outputs(fig, Tier::Paper, own).unwrap();
            assert_eq!(drawn.csv.lines().count(), 1 + own.len(), "{}", drawn.csv);
            assert_eq!(drawn.files, alone.files, "{}", fig.name());
        }
    }
}
