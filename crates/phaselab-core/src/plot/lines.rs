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
    /// Where the legend goes: "above" (a key in rows above the plotting area, where it can hide
    /// nothing), "auto" (default: the corner with the fewest data points under it),
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
    /// The legend's place ("above", "upper-left", ...; "none" without a legend).
    #[serde(default)]
    pub legend: String,
    /// The legend's box in pixels [left, top, right, bottom] when it is above the plot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legend_box: Option<[i32; 4]>,
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

/// min..max of finite values, widened by 5%. A range narrower than 1% of its magnitude (a
/// near-constant quantity, or float noise on one) is widened to 10% of it around its middle, and
/// an all-zero one to [-0.5, 0.5], so that the axis neither collapses nor magnifies noise.
fn linear_range(vals: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = vals
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if lo > hi {
        return (0.0, 1.0);
    }
    let size = lo.abs().max(hi.abs());
    if size == 0.0 {
        return (-0.5, 0.5);
    }
    if hi - lo < 1e-2 * size {
        let mid = 0.5 * (lo + hi);
        return (mid - 0.05 * size, mid + 0.05 * size);
    }
    let pad = 0.05 * (hi - lo);
    (lo - pad, hi + pad)
}

/// How an axis over lo..hi writes its ticks: every tick with the same number of decimals, enough
/// for the finest spacing the axis may use (a twelfth of the range), so that neighbouring ticks
/// never read alike; scientific notation for magnitudes from 1e4 or below 1e-2.
fn tick_format(lo: f64, hi: f64) -> impl Fn(f64) -> String {
    let step = ((hi - lo) / 12.0).abs().max(f64::MIN_POSITIVE);
    let size = lo.abs().max(hi.abs());
    let scientific = size >= 1e4 || size < 1e-2;
    let step_exp = step.log10().floor() as i32;
    let digits = if scientific {
        (size.log10().floor() as i32 - step_exp).clamp(0, 6) as usize
    } else {
        (-step_exp).clamp(0, 8) as usize
    };
    move |x: f64| {
        // a tick at zero up to rounding is written as the others' zero
        let x = if x.abs() < 1e-9 * step { 0.0 } else { x };
        if scientific && x != 0.0 {
            format!("{x:.digits$e}")
        } else {
            format!("{x:.digits$}")
        }
    }
}

/// Width in pixels of one legend entry: a 14 px line, a gap and its text (about 7 px a letter at
/// the 13 px type).
fn entry_width(label: &str) -> i32 {
    26 + 7 * label.chars().count() as i32 + 12
}

/// Rows of legend entries that fit `width` pixels, each row a list of indices.
fn legend_rows(labels: &[String], width: i32) -> Vec<Vec<usize>> {
    let mut rows: Vec<Vec<usize>> = vec![];
    let mut used = width;
    for (i, l) in labels.iter().enumerate() {
        let w = entry_width(l);
        if used + w > width && !rows.last().is_some_and(|r| r.is_empty()) {
            rows.push(vec![]);
            used = 0;
        }
        rows.last_mut().expect("a row").push(i);
        used += w;
    }
    rows
}

const LEGEND_ROW: i32 = 18;

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
    let x_fmt = tick_format(x0, x1);
    let y_fmt: Box<dyn Fn(f64) -> String> = if spec.log_y {
        Box::new(|y: f64| format!("{y:.0e}"))
    } else {
        let (y0, y1) = linear_range(ys.clone());
        Box::new(tick_format(y0, y1))
    };
    // The key above the plot: its rows of entries, drawn on a strip the chart does not use.
    let keyed: Vec<(usize, String)> = spec
        .series
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.no_legend)
        .map(|(i, s)| (i, s.label.clone().unwrap_or_else(|| s.name.clone())))
        .collect();
    let above = spec.legend.as_deref() == Some("above") && !keyed.is_empty();
    let (width, _) = root.dim_in_pixel();
    let labels: Vec<String> = keyed.iter().map(|k| k.1.clone()).collect();
    let rows = if above {
        legend_rows(&labels, width as i32 - 16)
    } else {
        vec![]
    };
    let strip_h = if above {
        rows.len() as i32 * LEGEND_ROW + 6
    } else {
        0
    };
    let (strip, body) = root.split_vertically(strip_h.max(0) as u32);
    let legend_box = if above {
        let (ox, oy) = strip.get_base_pixel();
        let mut right = 0;
        for (r, row) in rows.iter().enumerate() {
            let y = 4 + r as i32 * LEGEND_ROW + LEGEND_ROW / 2;
            let mut x = 8;
            for &k in row {
                let (i, label) = &keyed[k];
                let s = &spec.series[*i];
                let colour = if s.name == "truth" {
                    BLACK
                } else {
                    colour_for(&s.name, *i)
                };
                let line = vec![(x, y), (x + 14, y)];
                let style = colour.stroke_width(if s.name == "truth" { 4 } else { 2 });
                if s.dashed {
                    strip
                        .draw(&PathElement::new(vec![(x, y), (x + 5, y)], style))
                        .and_then(|_| {
                            strip.draw(&PathElement::new(vec![(x + 9, y), (x + 14, y)], style))
                        })
                        .map_err(err)?;
                } else {
                    strip.draw(&PathElement::new(line, style)).map_err(err)?;
                }
                strip
                    .draw(&Text::new(
                        label.clone(),
                        (x + 20, y - 7),
                        ("sans-serif", 13).into_font().color(&BLACK),
                    ))
                    .map_err(err)?;
                x += entry_width(label);
            }
            right = right.max(x);
        }
        Some([ox + 4, oy, ox + right, oy + strip_h])
    } else {
        None
    };
    let root = &body;
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
                .x_label_formatter(&|x| x_fmt(*x))
                .y_desc(spec.y_label.as_str())
                .y_label_formatter(&|y| {
                    if spec.log_y {
                        format!("{y:.0e}")
                    } else {
                        y_fmt(*y)
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
            // The truth first and wider: where a model follows it, a black edge still shows on
            // either side of the model's line, so the reference is never hidden.
            let order = spec
                .series
                .iter()
                .enumerate()
                .filter(|(_, s)| s.name == "truth")
                .chain(
                    spec.series
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| s.name != "truth"),
                );
            for (i, s) in order {
                let truth = s.name == "truth";
                let colour = if truth { BLACK } else { colour_for(&s.name, i) };
                let style = colour.stroke_width(if truth { 5 } else { 2 });
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
                if !s.no_legend && !above {
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
                Some("none") | Some("above") => None,
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
            let legend = match corner {
                Some(c) => CORNERS[c].0,
                None if above => "above",
                None => "none",
            }
            .to_string();
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
        legend_box,
    })
}

/// The tick labels of a drawing of [`lines`] as SVG, read back from its text: (x axis, y axis),
/// each left to right or top to bottom. The tests (and the page's) check that they are distinct.
pub fn tick_labels(svg: &str, frame: &PlotFrame) -> (Vec<String>, Vec<String>) {
    let [left, _, _, bottom] = frame.area;
    let (mut xs, mut ys) = (vec![], vec![]);
    for chunk in svg.split("<text").skip(1) {
        let Some((attrs, rest)) = chunk.split_once('>') else {
            continue;
        };
        let text = rest
            .split("</text>")
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        let number = text.replace('\u{2212}', "-").parse::<f64>().is_ok();
        let attr = |name: &str| -> Option<f64> {
            let at = attrs.find(&format!(" {name}=\""))? + name.len() + 3;
            attrs[at..].split('"').next()?.parse().ok()
        };
        let (Some(x), Some(y)) = (attr("x"), attr("y")) else {
            continue;
        };
        if !number {
            continue;
        }
        if y >= bottom as f64 {
            xs.push((x, text));
        } else if x <= left as f64 {
            ys.push((y, text));
        }
    }
    xs.sort_by(|a, b| a.0.total_cmp(&b.0));
    ys.sort_by(|a, b| a.0.total_cmp(&b.0));
    (
        xs.into_iter().map(|t| t.1).collect(),
        ys.into_iter().map(|t| t.1).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draw(spec: &LinesSpec, w: u32, h: u32) -> (String, PlotFrame) {
        let mut svg = String::new();
        let frame = {
            let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
            lines(&root, spec).unwrap()
        };
        (svg, frame)
    }

    fn curve(name: &str, points: Vec<(f64, f64)>) -> Curve {
        Curve {
            name: name.into(),
            points,
            ..Curve::default()
        }
    }

    #[test]
    fn ticks_share_their_decimals_and_never_repeat() {
        let f = tick_format(0.0, 60.0);
        assert_eq!([0.0, 10.0, 50.0].map(&f), ["0", "10", "50"]);
        let f = tick_format(-1.0, 10.0);
        assert_eq!([0.0, 2.5, 10.0].map(&f), ["0.0", "2.5", "10.0"]);
        let f = tick_format(0.0, 3e5);
        assert_eq!([1e5, 2.5e5].map(&f), ["1.0e5", "2.5e5"]);
        // A Hopper file's time axis (dt 0.008) and a rotor's near-constant velocity: the drawn
        // ticks are distinct numbers.
        let t: Vec<(f64, f64)> = (0..5).map(|k| (0.008 * k as f64, k as f64)).collect();
        let flat: Vec<(f64, f64)> = (0..100)
            .map(|k| (k as f64, -0.09 + 1e-7 * (k % 2) as f64))
            .collect();
        for spec in [
            LinesSpec {
                series: vec![curve("node", t)],
                ..LinesSpec::default()
            },
            LinesSpec {
                series: vec![curve("hnn", flat)],
                ..LinesSpec::default()
            },
        ] {
            let (svg, frame) = draw(&spec, 400, 300);
            let (xs, ys) = tick_labels(&svg, &frame);
            for ticks in [&xs, &ys] {
                assert!(ticks.len() >= 3, "{ticks:?}");
                let mut u = ticks.clone();
                u.dedup();
                assert_eq!(&u, ticks, "repeated tick labels");
            }
        }
    }

    /// A key above the plot covers no plotted point, at a phone's width and a desktop's, with
    /// the playground's eight models and the truth; the corner legends may.
    #[test]
    fn a_key_above_the_plot_hides_no_point() {
        let names: Vec<&str> = std::iter::once("truth")
            .chain(crate::models::ModelKind::PLAYGROUND.map(|k| k.name()))
            .collect();
        let series: Vec<Curve> = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let pts = (0..200)
                    .map(|k| {
                        let t = k as f64 * 0.05;
                        (t, (t + i as f64).sin() * (1.0 + 0.1 * i as f64))
                    })
                    .collect();
                curve(n, pts)
            })
            .collect();
        for width in [360, 640] {
            let spec = LinesSpec {
                series: series.clone(),
                legend: Some("above".into()),
                ..LinesSpec::default()
            };
            let (_, frame) = draw(&spec, width, 300);
            assert_eq!(frame.legend, "above");
            let b = frame.legend_box.expect("a key");
            let a = frame.area;
            // the points lie within the plotting area; the key ends above it
            assert!(
                b[3] <= a[1],
                "key {b:?} reaches into the plotting area {a:?}"
            );
            assert!(
                b[2] <= width as i32 && b[0] >= 0,
                "key {b:?} wider than {width}"
            );
        }
    }
}
