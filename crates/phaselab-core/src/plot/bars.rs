//! Grouped bars on a log scale: one group per system, one bar per model with its standard error
//! (fig4, fig6, fig8, fig9 and fig7's panels).

use super::canvas::{encode_png, err, fonts, log_ticks, model_colour, PlotError};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Width of the legend column to the right of the bars, in pixels.
const LEGEND_WIDTH: u32 = 190;

/// Bars (group, series, mean, standard error) on a log axis, grouped by their first field; the
/// legend in a column to the right, so that it never hides a bar.
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
    // The title over the whole width, then the bars and the legend column side by side.
    let below = root.titled(title, ("sans-serif", 20)).map_err(err)?;
    let (w, _) = below.dim_in_pixel();
    let (plot, side) = below.split_horizontally(w.saturating_sub(LEGEND_WIDTH));
    let mut chart = ChartBuilder::on(&plot)
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
            .map_err(err)?;
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
    // The legend column: a swatch and the series' name per row, from the plot's top.
    for (k, name) in series.iter().enumerate() {
        let y = 20 + 22 * k as i32;
        side.draw(&Rectangle::new(
            [(4, y - 6), (18, y + 6)],
            model_colour(name).filled(),
        ))
        .map_err(err)?;
        side.draw(&Text::new(
            name.clone(),
            (26, y - 8),
            ("sans-serif", 15).into_font(),
        ))
        .map_err(err)?;
    }
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
