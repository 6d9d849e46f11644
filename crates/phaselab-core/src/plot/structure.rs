//! The learned structure beside the true system's along one coordinate (`metrics::learned_structure`):
//! potential, inverse mass, force and acceleration at rest, and the acceleration moving (where drag
//! shows), one panel each, truth solid and every
//! model dashed in its colour.

use super::canvas::{blank, PlotError};
use super::lines::{lines, Curve, LinesSpec};
use crate::metrics::learned_structure::{Profile, StructureSlice};

/// The panels that at least one slice has, as line specs (the page draws the same ones).
pub fn structure_panels(slices: &[StructureSlice]) -> Vec<LinesSpec> {
    let Some(first) = slices.first() else {
        return vec![];
    };
    // Coordinates are counted from 1, as the phase portrait's q1, v1.
    let c = first.coordinate + 1;
    let speed = first.speed;
    let quantities: [(String, fn(&StructureSlice) -> Option<&Profile>); 5] = [
        ("potential V(q)".into(), |s| s.potential.as_ref()),
        (format!("inverse mass (M^-1)_{c}{c}"), |s| {
            s.inverse_mass.as_ref()
        }),
        (format!("force at rest F{c} = -dV/dq{c}"), |s| {
            s.force.as_ref()
        }),
        (format!("acceleration at rest a{c}"), |s| {
            s.acceleration.as_ref()
        }),
        // where drag shows: the same acceleration with q{c} moving at a typical speed
        (
            format!("moving: acceleration a{c} at v{c} = {speed:.2}"),
            |s| s.moving.as_ref(),
        ),
    ];
    quantities
        .iter()
        .filter_map(|(title, get)| {
            let truth = slices.iter().find_map(|s| get(s))?;
            let xy = |ys: &[f64]| first.q.iter().copied().zip(ys.iter().copied()).collect();
            let mut series = vec![Curve {
                name: "truth".into(),
                points: xy(&truth.truth),
                dashed: false,
                label: None,
                ..Default::default()
            }];
            series.extend(slices.iter().filter_map(|s| {
                Some(Curve {
                    name: s.model.clone(),
                    points: xy(&get(s)?.learned),
                    dashed: true,
                    label: None,
                    ..Default::default()
                })
            }));
            Some(LinesSpec {
                title: title.clone(),
                x_label: match title.starts_with("moving") {
                    true => {
                        format!("q{c} (others held at their median in the data, v{c} = {speed:.2})")
                    }
                    false => format!("q{c} (others held at their median in the data, v = 0)"),
                },
                series,
                ..Default::default()
            })
        })
        .collect()
}

/// [`structure_panels`] two a row, as (PNG, SVG).
pub fn structure_figure(slices: &[StructureSlice]) -> Result<(Vec<u8>, String), PlotError> {
    let panels = structure_panels(slices);
    let rows = panels.len().div_ceil(2).max(1);
    crate::png_and_svg!(1100, 380 * rows as u32, |root| {
        blank(&root)?;
        let areas = root.split_evenly((rows, 2));
        panels
            .iter()
            .zip(areas.iter())
            .try_for_each(|(p, a)| lines(a, p).map(|_| ()))
    })
}
