//! Figures drawn with plotters on any backend: PNG and SVG natively (a canvas in the browser
//! later). Plot code reads results; it never trains.

use plotters::coord::Shift;
use plotters::prelude::*;

/// Natively, register DejaVu Sans (shipped, Bitstream Vera licence) so PNG text renders the same
/// everywhere; in the browser plotters uses the page's fonts.
fn fonts() {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use plotters::style::{register_font, FontStyle};
        static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // The font is valid: it ships with the crate.
            let _ = register_font("sans-serif", FontStyle::Normal, FONT);
        });
    }
}

/// One colour per model, used in every figure (and later in the playground).
pub fn model_colour(model: &str) -> RGBColor {
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

/// A drawing failure, with the backend's message.
#[derive(Debug, thiserror::Error)]
#[error("plot: {0}")]
pub struct PlotError(String);

fn err<E: std::fmt::Debug>(e: E) -> PlotError {
    PlotError(format!("{e:?}"))
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
        .build_cartesian_2d(0f64..groups.len() as f64, (lo..hi).log_scale())
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
        .y_label_formatter(&|y| format!("{y:.0e}"))
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
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(err)?;
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
        let mut wr = enc.write_header().map_err(err)?;
        wr.write_image_data(rgb).map_err(err)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

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
