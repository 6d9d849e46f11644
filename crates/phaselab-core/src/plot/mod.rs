//! Figures drawn with plotters on any backend: PNG and SVG natively; in the browser the wasm crate
//! draws the same line plots to an SVG string, which the page paints onto its canvases. Plot code
//! reads results; it never trains.

pub use plotters;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Natively, register DejaVu Sans (shipped, Bitstream Vera licence) so PNG text renders the same
/// everywhere; in the browser plotters uses the page's fonts.
fn fonts() {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use plotters::style::{register_font, FontStyle};
        static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // The font is valid: it ships with the crate.
            let _ = register_font("sans-serif", FontStyle::Normal, FONT);
        });
    }
}

/// One colour per model, used in every figure and, through the wasm crate, in the playground.
pub fn model_colour(model: &str) -> RGBColor {
    // "node l1": the model's colour, darkened, for a second variant of the same model.
    if let Some(base) = model.strip_suffix(" l1") {
        let c = model_colour(base);
        return RGBColor(c.0 / 2, c.1 / 2, c.2 / 2);
    }
    let model = model.strip_suffix(" l2").unwrap_or(model);
    match model {
        "node" => RGBColor(228, 26, 28),
        "node-so" => RGBColor(55, 126, 184),
        "node-so-direct" => RGBColor(77, 175, 74),
        "node-so-symreg" => RGBColor(152, 78, 163),
        "hnn" => RGBColor(255, 127, 0),
        "hnn-general" => RGBColor(166, 86, 40),
        "hnn-forced" => RGBColor(247, 129, 191),
        _ => RGBColor(90, 90, 90),
    }
}

/// Colours for series that are not models (systems, settings), by position.
pub fn palette(i: usize) -> RGBColor {
    const P: [RGBColor; 8] = [
        RGBColor(31, 119, 180),
        RGBColor(214, 39, 40),
        RGBColor(44, 160, 44),
        RGBColor(148, 103, 189),
        RGBColor(255, 127, 14),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(23, 190, 207),
    ];
    P[i % P.len()]
}

/// A model's colour, or a palette colour for any other series.
fn colour_for(name: &str, i: usize) -> RGBColor {
    if name.starts_with("chaos floor") {
        return RGBColor(0, 0, 0);
    }
    let c = model_colour(name);
    if c == RGBColor(90, 90, 90) {
        palette(i)
    } else {
        c
    }
}

/// A drawing failure, with the backend's message.
#[derive(Debug, thiserror::Error)]
#[error("plot: {0}")]
pub struct PlotError(String);

fn err<E: std::fmt::Debug>(e: E) -> PlotError {
    PlotError(format!("{e:?}"))
}

/// The legend box every figure uses (upper left, translucent).
fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
) -> Result<(), PlotError> {
    legend_at(chart, SeriesLabelPosition::UpperLeft)
}

/// The legend box at `pos` (translucent, so curves under it stay visible).
fn legend_at<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    pos: SeriesLabelPosition,
) -> Result<(), PlotError> {
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.7))
        .border_style(BLACK.mix(0.4))
        .position(pos)
        .draw()
        .map_err(err)
}

/// Fill an area white (the unused cells of a grid of panels).
pub fn blank<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
    root.fill(&WHITE).map_err(err)
}

/// Bars (group, series, mean, standard error) on a log axis, grouped by their first field.
pub fn grouped_bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    y_label: &str,
    bars: &[(String, String, f64, f64)],
) -> Result<(), PlotError> {
    fonts();
    root.fill(&WHITE).map_err(err)?;
    let mut groups: Vec<String> = Vec::new();
    let mut series: Vec<String> = Vec::new();
    for (g, s, _, _) in bars {
        if !groups.contains(g) {
            groups.push(g.clone());
        }
        if !series.contains(s) {
            series.push(s.clone());
        }
    }
    let finite: Vec<f64> = bars
        .iter()
        .filter(|b| b.2.is_finite() && b.2 > 0.0)
        .map(|b| b.2)
        .collect();
    let lo = finite.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = finite.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if finite.is_empty() {
        (1e-3, 1.0)
    } else {
        (lo / 3.0, hi * 3.0)
    };
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(
            0f64..groups.len() as f64,
            (lo..hi).log_scale().with_key_points(log_ticks(lo, hi)),
        )
        .map_err(err)?;
    let names = groups.clone();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(groups.len() * 2 + 1)
        .x_label_formatter(&|x| {
            let i = x.floor() as usize;
            if (x - i as f64 - 0.5).abs() < 1e-6 && i < names.len() {
                names[i].clone()
            } else {
                String::new()
            }
        })
        .y_desc(y_label)
        .y_label_formatter(&|y| format!("{y:.1e}"))
        .draw()
        .map_err(err)?;
    let width = 0.8 / series.len().max(1) as f64;
    for (k, name) in series.iter().enumerate() {
        let colour = model_colour(name);
        let rects: Vec<_> = bars
            .iter()
            .filter(|b| &b.1 == name && b.2.is_finite() && b.2 > 0.0)
            .map(|b| {
                let g = groups.iter().position(|x| x == &b.0).unwrap_or(0) as f64;
                let x0 = g + 0.1 + k as f64 * width;
                (x0, b.2, b.3)
            })
            .collect();
        chart
            .draw_series(rects.iter().map(|&(x0, y, _)| {
                Rectangle::new([(x0, lo), (x0 + width * 0.9, y)], colour.filled())
            }))
            .map_err(err)?
            .label(name.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled()));
        // Error bars: mean +- standard error.
        chart
            .draw_series(rects.iter().filter(|r| r.2 > 0.0).map(|&(x0, y, se)| {
                let xc = x0 + width * 0.45;
                PathElement::new(
                    vec![(xc, (y - se).max(lo)), (xc, y + se)],
                    BLACK.stroke_width(2),
                )
            }))
            .map_err(err)?;
    }
    legend(&mut chart)?;
    root.present().map_err(err)?;
    Ok(())
}

/// [`grouped_bars`] as SVG text.
pub fn grouped_bars_svg(
    title: &str,
    y_label: &str,
    bars: &[(String, String, f64, f64)],
    w: u32,
    h: u32,
) -> Result<String, PlotError> {
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, (w, h)).into_drawing_area();
        grouped_bars(&root, title, y_label, bars)?;
    }
    Ok(s)
}

/// [`grouped_bars`] as PNG bytes.
pub fn grouped_bars_png(
    title: &str,
    y_label: &str,
    bars: &[(String, String, f64, f64)],
    w: u32,
    h: u32,
) -> Result<Vec<u8>, PlotError> {
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        grouped_bars(&root, title, y_label, bars)?;
    }
    encode_png(&rgb, w, h)
}

/// RGB8 pixels to PNG bytes.
pub fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, PlotError> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        // Plots are mostly flat colour: adaptive filtering and strong deflate make them small.
        enc.set_compression(png::Compression::Best);
        enc.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
        let mut wr = enc.write_header().map_err(err)?;
        wr.write_image_data(rgb).map_err(err)?;
    }
    Ok(out)
}

/// A named series of points.
pub type Series = (String, Vec<(f64, f64)>);

fn log_range(vals: impl Iterator<Item = f64>) -> (f64, f64) {
    let v: Vec<f64> = vals.filter(|x| x.is_finite() && *x > 0.0).collect();
    if v.is_empty() {
        return (1e-3, 1.0);
    }
    let lo = v.iter().cloned().fold(f64::INFINITY, f64::min) / 2.0;
    let hi = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max) * 2.0;
    // At least one decade, so the log axis has labelled ticks.
    if hi / lo < 10.0 {
        let c = (lo * hi).sqrt();
        return (c / 10f64.sqrt(), c * 10f64.sqrt());
    }
    (lo, hi)
}

/// Ticks for a log axis over [lo, hi]: 1, 2 and 5 times each power of ten where the range spans
/// at most three decades, 1 and 3 times up to six, and whole decades (every k-th) beyond, so an
/// axis never has a single label.
pub(crate) fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo > 0.0 && hi > lo && hi.is_finite()) {
        return Vec::new();
    }
    let decades = (hi / lo).log10();
    let (mantissas, step): (&[f64], i32) = if decades <= 3.0 {
        (&[1.0, 2.0, 5.0], 1)
    } else if decades <= 6.0 {
        (&[1.0, 3.0], 1)
    } else {
        (&[1.0], (decades / 6.0).ceil() as i32)
    };
    let last = hi.log10().ceil() as i32;
    let mut e = (lo.log10().floor() as i32).div_euclid(step) * step;
    let mut out = Vec::new();
    while e <= last {
        for m in mantissas {
            let v = m * 10f64.powi(e);
            if v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9) {
                out.push(v);
            }
        }
        e += step;
    }
    out
}

/// Points (or lines) on log-log axes, with an optional regression line over all points.
pub fn xy_log_log<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    lines: bool,
    regression: bool,
) -> Result<(), PlotError> {
    fonts();
    root.fill(&WHITE).map_err(err)?;
    let (x0, x1) = log_range(series.iter().flat_map(|s| s.1.iter().map(|p| p.0)));
    let (y0, y1) = log_range(series.iter().flat_map(|s| s.1.iter().map(|p| p.1)));
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (x0..x1).log_scale().with_key_points(log_ticks(x0, x1)),
            (y0..y1).log_scale().with_key_points(log_ticks(y0, y1)),
        )
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .x_label_formatter(&|x| format!("{x:.1e}"))
        .y_label_formatter(&|y| format!("{y:.1e}"))
        .draw()
        .map_err(err)?;
    for (i, (name, pts)) in series.iter().enumerate() {
        let colour = colour_for(name, i);
        let pts: Vec<(f64, f64)> = pts
            .iter()
            .copied()
            .filter(|(x, y)| *x > 0.0 && *y > 0.0 && x.is_finite() && y.is_finite())
            .collect();
        if lines {
            chart
                .draw_series(LineSeries::new(pts.clone(), colour.stroke_width(2)))
                .map_err(err)?;
        }
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 4, colour.filled())))
            .map_err(err)?
            .label(name.clone())
            .legend(move |(x, y)| Circle::new((x + 6, y), 4, colour.filled()));
    }
    if regression {
        let all: Vec<(f64, f64)> = series.iter().flat_map(|s| s.1.iter().copied()).collect();
        if let Some((slope, icpt)) = crate::stats::log_log_fit(&all) {
            let line = [x0, x1].map(|x| (x, 10f64.powf(icpt + slope * x.log10())));
            chart
                .draw_series(LineSeries::new(line, BLACK.stroke_width(2)))
                .map_err(err)?
                .label(format!("fit: slope {slope:.2}"))
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 14, y)], BLACK.stroke_width(2))
                });
        }
    }
    legend(&mut chart)?;
    root.present().map_err(err)?;
    Ok(())
}

/// Curves over time on a log y axis with a shaded band: (name, [(t, centre, low, high)]).
pub fn curves_with_band<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    x_label: &str,
    y_label: &str,
    curves: &[(String, Vec<(f64, f64, f64, f64)>)],
) -> Result<(), PlotError> {
    fonts();
    root.fill(&WHITE).map_err(err)?;
    let t1 = curves
        .iter()
        .flat_map(|c| c.1.iter().map(|p| p.0))
        .fold(0.0, f64::max)
        .max(1e-9);
    let (y0, y1) = log_range(
        curves
            .iter()
            .flat_map(|c| c.1.iter().flat_map(|p| [p.2, p.3])),
    );
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(
            0f64..t1,
            (y0..y1).log_scale().with_key_points(log_ticks(y0, y1)),
        )
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .y_label_formatter(&|y| format!("{y:.1e}"))
        .draw()
        .map_err(err)?;
    for (i, (name, pts)) in curves.iter().enumerate() {
        let colour = colour_for(name, i);
        let ok: Vec<_> = pts
            .iter()
            .copied()
            .filter(|p| p.1 > 0.0 && p.2 > 0.0 && p.3 > 0.0)
            .collect();
        let mut band: Vec<(f64, f64)> = ok.iter().map(|p| (p.0, p.3)).collect();
        band.extend(ok.iter().rev().map(|p| (p.0, p.2)));
        chart
            .draw_series(std::iter::once(Polygon::new(
                band,
                colour.mix(0.2).filled(),
            )))
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(
                ok.iter().map(|p| (p.0, p.1)),
                colour.stroke_width(2),
            ))
            .map_err(err)?
            .label(name.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 14, y)], colour.stroke_width(2))
            });
    }
    legend(&mut chart)?;
    root.present().map_err(err)?;
    Ok(())
}

/// Draw the same figure as PNG bytes and SVG text: `png_and_svg!(w, h, |root| draw(&root, ..))`.
#[macro_export]
macro_rules! png_and_svg {
    ($w:expr, $h:expr, |$root:ident| $body:expr) => {{
        use $crate::plot::plotters::prelude::IntoDrawingArea;
        let (w, h): (u32, u32) = ($w, $h);
        let mut svg = String::new();
        let drawn_svg = {
            let $root = $crate::plot::plotters::prelude::SVGBackend::with_string(&mut svg, (w, h))
                .into_drawing_area();
            $body
        };
        let mut rgb = vec![0u8; (w * h * 3) as usize];
        let drawn_png = {
            let $root =
                $crate::plot::plotters::prelude::BitMapBackend::with_buffer(&mut rgb, (w, h))
                    .into_drawing_area();
            $body
        };
        drawn_svg
            .and(drawn_png)
            .and_then(|_| $crate::plot::encode_png(&rgb, w, h))
            .map(|png| (png, svg))
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `spec` drawn by [`lines`] as 300 x 200 SVG text.
    fn lines_svg(spec: &LinesSpec) -> String {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (300, 200)).into_drawing_area();
            lines(&root, spec).unwrap();
        }
        svg
    }

    #[test]
    fn log_axes_have_intermediate_ticks_within_a_few_decades() {
        let close = |a: &[f64], b: &[f64]| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-12 * y)
        };
        let t = log_ticks(0.03, 0.9);
        assert!(close(&t, &[0.05, 0.1, 0.2, 0.5]), "{t:?}");
        let t = log_ticks(1e-4, 10.0);
        assert!(
            close(
                &t,
                &[1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0]
            ),
            "{t:?}"
        );
        let t = log_ticks(1e-12, 1.0);
        assert!(
            close(&t, &[1e-12, 1e-10, 1e-8, 1e-6, 1e-4, 1e-2, 1.0]),
            "{t:?}"
        );
        assert!(log_ticks(0.0, 1.0).is_empty() && log_ticks(2.0, 1.0).is_empty());
    }

    /// A live view whose values span less than a decade still reads: 2x and 5x ticks are labelled.
    #[test]
    fn a_narrow_log_view_labels_more_than_one_tick() {
        let spec = LinesSpec {
            log_y: true,
            series: vec![Curve {
                name: "node".into(),
                points: vec![(0.0, 0.12), (1.0, 0.3)],
                ..Curve::default()
            }],
            ..LinesSpec::default()
        };
        let svg = lines_svg(&spec);
        let labels: Vec<&str> = ["5e-2", "1e-1", "2e-1", "5e-1"]
            .into_iter()
            .filter(|l| svg.lines().any(|line| line.trim() == *l))
            .collect();
        assert!(labels.len() >= 3, "tick labels {labels:?} in {svg}");
    }

    /// The legend goes to the corner with the fewest points under it; a band is drawn under its
    /// curve in the curve's colour; a curve marked no_legend adds no entry.
    #[test]
    fn the_legend_avoids_the_data_and_bands_are_shaded() {
        let frame = |points: Vec<(f64, f64)>| {
            let spec = LinesSpec {
                series: vec![Curve {
                    name: "node".into(),
                    points,
                    ..Default::default()
                }],
                ..Default::default()
            };
            let mut svg = String::new();
            let root = SVGBackend::with_string(&mut svg, (300, 200)).into_drawing_area();
            lines(&root, &spec).unwrap().legend
        };
        // a curve falling from the upper left: the upper right is empty
        let falling: Vec<(f64, f64)> = (0..50).map(|i| (i as f64, 10.0 - 0.2 * i as f64)).collect();
        let rising: Vec<(f64, f64)> = (0..50).map(|i| (i as f64, 0.2 * i as f64)).collect();
        assert_eq!(frame(falling), "upper-right");
        assert_eq!(frame(rising), "upper-left");
        let hugging_top: Vec<(f64, f64)> = (0..50)
            .map(|i| (i as f64, if i % 10 == 0 { 0.0 } else { 10.0 }))
            .collect();
        assert!(frame(hugging_top).starts_with("lower"));
        let spec = LinesSpec {
            series: vec![
                Curve {
                    name: "hnn".into(),
                    points: vec![(0.0, 1.0), (1.0, 2.0)],
                    band: vec![(0.0, 0.5, 1.5), (1.0, 1.5, 2.5)],
                    ..Default::default()
                },
                Curve {
                    name: "hnn".into(),
                    points: vec![(0.0, 3.0), (1.0, 3.0)],
                    no_legend: true,
                    label: Some("SECOND STRETCH".into()),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let svg = lines_svg(&spec);
        let c = model_colour("hnn");
        let fill = format!(
            "<polygon opacity=\"0.18\" fill=\"#{:02X}{:02X}{:02X}\"",
            c.0, c.1, c.2
        );
        assert!(
            svg.to_uppercase().contains(&fill.to_uppercase()),
            "no band in {svg}"
        );
        assert!(
            !svg.contains("SECOND STRETCH"),
            "a no_legend curve has a legend entry"
        );
    }

    /// A curve's label, where given, is the legend's text; its name still picks the colour.
    #[test]
    fn the_legend_shows_the_label_and_the_name_picks_the_colour() {
        let spec = LinesSpec {
            series: vec![Curve {
                name: "node-so".into(),
                points: vec![(0.0, 1.0), (1.0, 2.0)],
                dashed: false,
                label: Some("NODE+SO".into()),
                ..Default::default()
            }],
            ..Default::default()
        };
        let svg = lines_svg(&spec);
        let c = model_colour("node-so");
        let colour = format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
        assert!(
            svg.contains("NODE+SO") && !svg.contains(">node-so<"),
            "{svg}"
        );
        assert!(svg.to_uppercase().contains(&colour), "{svg}");
    }

    /// A curve of one point (a one-epoch run) is drawn as a dot in its model's colour; curves of
    /// more points are lines without dots.
    #[test]
    fn a_lone_point_is_drawn_as_a_dot() {
        let draw = |points: Vec<(f64, f64)>| {
            let spec = LinesSpec {
                series: vec![Curve {
                    name: "hnn".into(),
                    points,
                    dashed: false,
                    label: None,
                    ..Default::default()
                }],
                legend: Some("none".into()),
                ..Default::default()
            };
            lines_svg(&spec).to_uppercase()
        };
        let c = model_colour("hnn");
        let colour = format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
        let one = draw(vec![(1.0, 0.5)]);
        assert!(one.contains("<CIRCLE") && one.contains(&colour), "{one}");
        let two = draw(vec![(1.0, 0.5), (2.0, 0.25)]);
        assert!(!two.contains("<CIRCLE") && two.contains(&colour), "{two}");
    }

    #[test]
    fn bar_charts_are_valid_png_and_svg_with_every_series() {
        let bars = vec![
            (
                "chain-pendulum:1".to_string(),
                "node".to_string(),
                0.2,
                0.02,
            ),
            (
                "chain-pendulum:1".to_string(),
                "node-so".to_string(),
                0.05,
                0.01,
            ),
            (
                "spring-pendulum:1".to_string(),
                "node".to_string(),
                0.1,
                0.0,
            ),
            (
                "spring-pendulum:1".to_string(),
                "node-so".to_string(),
                0.03,
                0.005,
            ),
        ];
        let png = grouped_bars_png("test", "gerr", &bars, 640, 400).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let dec = png::Decoder::new(std::io::Cursor::new(&png));
        let reader = dec.read_info().unwrap();
        assert_eq!((reader.info().width, reader.info().height), (640, 400));
        let svg = grouped_bars_svg("test", "gerr", &bars, 640, 400).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("node-so") && svg.contains("chain-pendulum:1")
        );
        // Each model's colour appears (bars drawn).
        for m in ["node", "node-so"] {
            let c = model_colour(m);
            assert!(
                svg.to_uppercase()
                    .contains(&format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)),
                "{m}"
            );
        }
    }
}

mod lines;
pub use lines::{lines, Curve, LinesSpec, PlotFrame};
mod fig7;
pub use fig7::{fig7_bars, fig7_rollout};
mod structure;
pub use structure::{structure_figure, structure_panels};
