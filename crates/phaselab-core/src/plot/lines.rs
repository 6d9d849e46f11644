//! Line plots for live views (training loss, rollout error, energy, phase portrait): the
//! playground draws them in the page, and they return where the data sits in pixels so a click
//! maps back to data coordinates.

use super::canvas::{colour_for, err, fonts, legend_at, log_range, log_ticks, PlotError};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

/// One named curve; a model's name gives it the model's colour.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Curve {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    #[serde(default)]
    pub dashed: bool,
    /// The legend's text, where it differs from the name (the page's "NODE+SO" for node-so);
    /// the name still picks the colour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Drawn without a legend entry (a further stretch of a curve that already has one).
    #[serde(default)]
    pub no_legend: bool,
    /// A shaded band (x, low, high) under the curve: the spread over seeds around their mean.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub band: Vec<(f64, f64, f64)>,
}

/// A figure of curves on a linear x axis and a linear or log y axis.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LinesSpec {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub x_label: String,
    #[serde(default)]
    pub y_label: String,
    #[serde(default)]
    pub log_y: bool,
    pub series: Vec<Curve>,
    /// A point to mark (the phase portrait's chosen initial condition).
    #[serde(default)]
    pub marker: Option<(f64, f64)>,
    /// Where the legend goes: "auto" (default: the corner with the fewest data points under it),
    /// "upper-left", "upper-right", "lower-left", "lower-right", or "none".
    #[serde(default)]
    pub legend: Option<String>,
}

/// Where the plotting area lies: pixels [left, top, right, bottom] and the data ranges shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlotFrame {
    pub area: [i32; 4],
    pub x: [f64; 2],
    pub y: [f64; 2],
    /// The legend's corner ("upper-left", ...; "none" without a legend).
    #[serde(default)]
    pub legend: String,
}

const CORNERS: [(&str, SeriesLabelPosition); 4] = [
    ("upper-left", SeriesLabelPosition::UpperLeft),
    ("upper-right", SeriesLabelPosition::UpperRight),
    ("lower-left", SeriesLabelPosition::LowerLeft),
    ("lower-right", SeriesLabelPosition::LowerRight),
];

/// The corner (index into `CORNERS`) whose legend box, a `w` x `h` share of the plotting area,
/// covers the fewest of `points` (shares of the area, (0, 0) lower left); ties go to the first.
fn emptiest_corner(points: &[(f64, f64)], w: f64, h: f64) -> usize {
    let covered = |c: usize| {
        let (right, lower) = (c % 2 == 1, c >= 2);
        points
            .iter()
            .filter(|(x, y)| {
                let in_x = if right { *x >= 1.0 - w } else { *x <= w };
                let in_y = if lower { *y <= h } else { *y >= 1.0 - h };
                in_x && in_y
            })
            .count()
    };
    (0..4).min_by_key(|&c| covered(c)).unwrap_or(0)
}

/// min..max of finite values, widened by 5% (or to a unit interval around a constant).
fn linear_range(vals: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = vals
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if lo > hi {
        return (0.0, 1.0);
    }
    let pad = if hi - lo > 1e-12 * (lo.abs() + hi.abs()) {
        0.05 * (hi - lo)
    } else {
        0.5 * lo.abs().max(1e-3)
    };
    (lo - pad, hi + pad)
}

/// An x tick's text: whole numbers without decimals ("10", not "10.0": epochs, seconds), others
/// with at most two.
fn x_tick(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 * x.abs().max(1.0) && x.abs() < 1e9 {
        format!("{}", x.round() as i64)
    } else if x.abs() >= 1e4 || x.abs() < 1e-2 {
        format!("{x:.1e}")
    } else {
        let s = format!("{x:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Draw `spec` on `root`; returns the frame that maps pixels to data.
pub fn lines<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    spec: &LinesSpec,
) -> Result<PlotFrame, PlotError> {
    fonts();
    root.fill(&WHITE).map_err(err)?;
    let pts = || spec.series.iter().flat_map(|s| s.points.iter());
    let (x0, x1) = linear_range(pts().map(|p| p.0).chain(spec.marker.map(|m| m.0)));
    // the bands' edges count, so a band is not flattened against the plot's edge
    let band_ys = spec
        .series
        .iter()
        .flat_map(|s| s.band.iter().flat_map(|b| [b.1, b.2]));
    let ys = pts()
        .map(|p| p.1)
        .chain(band_ys)
        .chain(spec.marker.map(|m| m.1));
    let ok = |y: f64| y.is_finite() && (!spec.log_y || y > 0.0);
    let builder = |root| {
        let mut b = ChartBuilder::on(root);
        b.caption(&spec.title, ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(36)
            .y_label_area_size(60);
        b
    };
    macro_rules! draw {
        ($chart:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_labels(6)
                .y_labels(6)
                // 14 px type (about 11 px as drawn): readable on a phone's narrow canvas
                .label_style(("sans-serif", 14))
                .axis_desc_style(("sans-serif", 14))
                .x_desc(spec.x_label.as_str())
                .x_label_formatter(&|x| x_tick(*x))
                .y_desc(spec.y_label.as_str())
                .y_label_formatter(&|y| {
                    if !spec.log_y && y.abs() < 1e-12 {
                        "0".to_string()
                    } else if spec.log_y || y.abs() >= 1e4 || (y.abs() < 1e-2 && *y != 0.0) {
                        format!("{y:.0e}")
                    } else {
                        format!("{y:.2}")
                    }
                })
                .draw()
                .map_err(err)?;
            // bands first, under every curve
            for (i, s) in spec.series.iter().enumerate() {
                let band: Vec<(f64, f64, f64)> = s
                    .band
                    .iter()
                    .copied()
                    .filter(|b| b.0.is_finite() && ok(b.1) && ok(b.2))
                    .collect();
                if band.len() < 2 {
                    continue;
                }
                let outline: Vec<(f64, f64)> = band
                    .iter()
                    .map(|b| (b.0, b.2))
                    .chain(band.iter().rev().map(|b| (b.0, b.1)))
                    .collect();
                let colour = colour_for(&s.name, i);
                chart
                    .draw_series(std::iter::once(Polygon::new(outline, colour.mix(0.18))))
                    .map_err(err)?;
            }
            for (i, s) in spec.series.iter().enumerate() {
                let colour = if s.name == "truth" {
                    BLACK
                } else {
                    colour_for(&s.name, i)
                };
                let style = colour.stroke_width(2);
                let points: Vec<(f64, f64)> = s
                    .points
                    .iter()
                    .copied()
                    .filter(|p| p.0.is_finite() && ok(p.1))
                    .collect();
                // A lone point (a one-epoch run's loss) is a dot, not an invisible line.
                let anno = if let [p] = points[..] {
                    chart
                        .draw_series(std::iter::once(Circle::new(p, 4, colour.filled())))
                        .map_err(err)?
                } else if s.dashed {
                    chart
                        .draw_series(DashedLineSeries::new(points, 6, 4, style))
                        .map_err(err)?
                } else {
                    chart
                        .draw_series(plotters::series::LineSeries::new(points, style))
                        .map_err(err)?
                };
                if !s.no_legend {
                    let label = s.label.clone().unwrap_or_else(|| s.name.clone());
                    anno.label(label).legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 14, y)], colour.stroke_width(2))
                    });
                }
            }
            if let Some(m) = spec.marker.filter(|m| ok(m.1)) {
                chart
                    .draw_series(std::iter::once(Circle::new(m, 5, BLACK.filled())))
                    .map_err(err)?;
            }
            let (px, py) = chart.plotting_area().get_pixel_range();
            let entries = spec.series.iter().filter(|c| !c.no_legend).count();
            let corner = match spec.legend.as_deref() {
                Some("none") => None,
                _ if entries == 0 => None,
                Some(name) if name != "auto" => {
                    Some(CORNERS.iter().position(|c| c.0 == name).unwrap_or(0))
                }
                _ => {
                    // the legend box: about 110 px wide and 20 px a row, as shares of the area
                    let (aw, ah) = ((px.end - px.start).max(1), (py.end - py.start).max(1));
                    let w = (110.0 / aw as f64).min(0.9);
                    let h = ((entries as f64 * 20.0 + 12.0) / ah as f64).min(0.9);
                    let pts: Vec<(f64, f64)> = spec
                        .series
                        .iter()
                        .flat_map(|c| {
                            let band = c.band.iter().flat_map(|b| [(b.0, b.1), (b.0, b.2)]);
                            c.points.iter().copied().chain(band).collect::<Vec<_>>()
                        })
                        // the marker (the phase portrait's start) counts several times over
                        .chain(spec.marker.into_iter().flat_map(|m| [m; 8]))
                        .filter(|p| p.0.is_finite() && ok(p.1))
                        .map(|p| {
                            let (x, y) = chart.backend_coord(&p);
                            let fx = (x - px.start) as f64 / aw as f64;
                            (fx, (py.end - y) as f64 / ah as f64)
                        })
                        .collect();
                    Some(emptiest_corner(&pts, w, h))
                }
            };
            if let Some(c) = corner {
                legend_at(&mut chart, CORNERS[c].1.clone())?;
            }
            let legend = corner.map_or("none", |c| CORNERS[c].0).to_string();
            ([px.start, py.start, px.end, py.end], legend)
        }};
    }
    let ((area, legend), y) = if spec.log_y {
        let (y0, y1) = log_range(ys);
        let chart = builder(root)
            .build_cartesian_2d(
                x0..x1,
                (y0..y1).log_scale().with_key_points(log_ticks(y0, y1)),
            )
            .map_err(err)?;
        (draw!(chart), [y0, y1])
    } else {
        let (y0, y1) = linear_range(ys);
        let chart = builder(root)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(err)?;
        (draw!(chart), [y0, y1])
    };
    root.present().map_err(err)?;
    Ok(PlotFrame {
        area,
        x: [x0, x1],
        y,
        legend,
    })
}

#[cfg(test)]
mod tests {
    use super::x_tick;

    #[test]
    fn x_ticks_are_integers_where_they_can_be() {
        let ticks: Vec<String> = [0.0, 10.0, 150.0, -2.0, 0.5, 1.25, 2.5e-3, 3e5]
            .map(x_tick)
            .into();
        assert_eq!(
            ticks,
            ["0", "10", "150", "-2", "0.5", "1.25", "2.5e-3", "300000"]
        );
    }
}
