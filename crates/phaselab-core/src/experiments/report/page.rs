//! The results page as a template: every generated block by name, and the page with each block
//! it marks (`<!-- generated: NAME -->` ... `<!-- end generated -->`) filled, the rest kept as
//! written, so prose and numbers live in one file and the numbers are never typed by hand.

use super::ablations::ablation_table;
use super::budget::budget;
use super::claims::{claims, claims_markdown, numbered_claims};
use super::data_size::data_size_block;
use super::fig7::fig7_block;
use super::ladder::{chnn_reference_block, coordinates_block};
use super::tables::{budget_table, figure_table};
use crate::experiments::comparison::Comparison;
use crate::experiments::record::RunRecord;
use crate::experiments::{Figure, Layout, Tier};

/// Every generated block of a results page, by name, from the records of the synthetic figures'
/// runs and of Figure 7's (`fig7`). With `base` (records at a shorter budget), also `vs-TIER:FIG`:
/// each figure beside the same runs at that tier (`budget_table`).
pub fn blocks(
    tier: Tier,
    records: &[RunRecord],
    ablations: &[(String, Comparison)],
    fig7: &[RunRecord],
    base: Option<(Tier, &[RunRecord])>,
) -> Vec<(String, String)> {
    let mut out = vec![
        ("budget".to_string(), budget(tier, records)),
        ("ablations".to_string(), ablation_table(ablations)),
        ("fig7".to_string(), fig7_block(tier, fig7)),
        ("ladder-chnn".to_string(), chnn_reference_block()),
        (
            "ladder-coordinates".to_string(),
            coordinates_block(tier, records),
        ),
        ("data-size:fig9".to_string(), data_size_block(tier, records)),
    ];
    for fig in Figure::ALL {
        if fig.layout() == Layout::Bars || fig.layout() == Layout::AlphaSweep {
            out.push((fig.name().to_string(), figure_table(fig, tier, records)));
            if let Some((t, recs)) = base {
                let name = format!("vs-{t}:{}", fig.name());
                out.push((name, budget_table(fig, (tier, records), (t, recs))));
            }
        }
    }
    // Every claim, and each figure's claims alone (`claims:fig5`, numbered as in the whole list)
    // for a page that studies one.
    let all = claims(tier, records);
    out.push(("claims".to_string(), claims_markdown(&all)));
    for fig in Figure::ALL {
        let mine = || all.iter().enumerate().filter(|(_, c)| c.figure == fig);
        if mine().next().is_some() {
            out.push((format!("claims:{}", fig.name()), numbered_claims(mine())));
        }
    }
    out
}

/// The names of the blocks `page` marks, in order.
pub fn marked_blocks(page: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = page;
    while let Some(i) = rest.find("<!-- generated: ") {
        let Some(j) = rest[i..].find("-->") else {
            break;
        };
        out.push(rest[i + 16..i + j].trim().to_string());
        rest = &rest[i + j + 3..];
    }
    out
}

/// A generated block in a page starts with `<!-- generated: NAME -->` and ends with
/// `<!-- end generated -->`; everything between is replaced.
pub const BLOCK_END: &str = "<!-- end generated -->";

/// The page with every block it marks filled from `blocks`. Errors name a block the page marks
/// that `blocks` lacks, or a block left open.
pub fn fill_page(page: &str, blocks: &[(String, String)]) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = page;
    while let Some(i) = rest.find("<!-- generated: ") {
        let head_end = rest[i..]
            .find("-->")
            .map(|j| i + j + 3)
            .ok_or("an unterminated <!-- generated: marker")?;
        let name = rest[i + 16..head_end - 3].trim();
        let body = blocks
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b)
            .ok_or_else(|| {
                format!("the page marks a block '{name}' that the report does not make")
            })?;
        let end = rest[head_end..]
            .find(BLOCK_END)
            .map(|j| head_end + j)
            .ok_or_else(|| format!("block '{name}' has no {BLOCK_END}"))?;
        out += &rest[..head_end];
        out += "\n";
        out += body;
        out += &rest[end..end + BLOCK_END.len()];
        rest = &rest[end + BLOCK_END.len()..];
    }
    out += rest;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_filled_between_markers() {
        let blocks = vec![("a".to_string(), "new\n".to_string())];
        let page = "x\n<!-- generated: a -->\nold\n<!-- end generated -->\ny\n";
        let filled = fill_page(page, &blocks).unwrap();
        assert_eq!(
            filled,
            "x\n<!-- generated: a -->\nnew\n<!-- end generated -->\ny\n"
        );
        assert_eq!(fill_page(&filled, &blocks).unwrap(), filled);
        assert!(fill_page("<!-- generated: b -->\n<!-- end generated -->", &blocks).is_err());
        assert!(fill_page("<!-- generated: a -->\nold", &blocks).is_err());
    }
}
