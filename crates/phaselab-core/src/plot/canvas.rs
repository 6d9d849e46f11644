//! What every drawing shares: the font, the colours (one per model, fixed across figures), the
//! error type, legends, log-scale ranges and ticks, and PNG and SVG output of one drawing.

use plotters::coord::Shift;
use plotters::prelude::*;

/// Natively, register DejaVu Sans (shipped, Bitstream Vera licence) so PNG text renders the same
/// everywhere; in the browser plotters uses the page's fonts.
pub(crate) fn fonts() {
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
    // "node (x)": a model on the body points, its colour lightened halfway to white.
    if let Some(base) = model.strip_suffix(" (x)") {
        let c = model_colour(base);
        let light = |v: u8| ((v as u16 + 255) / 2) as u8;
        return RGBColor(light(c.0), light(c.1), light(c.2));
    }
    let model = model.strip_suffix(" l2").unwrap_or(model);
    // a loaded checkpoint ("hnn (checkpoint)", "hnn (checkpoint 2)") keeps its model's colour
    let model = model.split(" (checkpoint").next().unwrap_or(model);
    match model {
        // The playground's twelve models and the black truth stay apart in CIELAB (ΔE >= 20) for
        // normal vision and simulated protanopia and deuteranopia (`tests`): red, indigo, amber,
        // pale blue, purple, green, maroon and wine, then sage, sky blue, cornflower and blue
        // (the last four searched for on a 17-step RGB grid with 30 <= L* <= 72, readable on
        // white and apart from black).
        "node" => RGBColor(228, 26, 28),
        "node-so" => RGBColor(51, 34, 136),
        "hnn" => RGBColor(230, 159, 0),
        "hnn-general" => RGBColor(136, 204, 238),
        "hnn-forced" => RGBColor(170, 68, 153),
        "constrained-node-so" => RGBColor(0, 158, 115),
        "clnn" => RGBColor(128, 0, 0),
        "chnn" => RGBColor(136, 34, 85),
        "port-hnn" => RGBColor(136, 187, 102),
        "d-hnn" => RGBColor(85, 170, 255),
        "delan" => RGBColor(85, 119, 255),
        "lnn" => RGBColor(0, 0, 255),
        "node-so-direct" => RGBColor(77, 175, 74),
        "node-so-symreg" => RGBColor(152, 78, 163),
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
pub(crate) fn colour_for(name: &str, i: usize) -> RGBColor {
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

pub(crate) fn err<E: std::fmt::Debug>(e: E) -> PlotError {
    PlotError(format!("{e:?}"))
}

/// The legend box every figure uses (upper left, translucent).
pub(crate) fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
) -> Result<(), PlotError> {
    legend_at(chart, SeriesLabelPosition::UpperLeft)
}

/// The legend box at `pos` (translucent, so curves under it stay visible).
pub(crate) fn legend_at<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
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

pub(crate) fn log_range(vals: impl Iterator<Item = f64>) -> (f64, f64) {
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

/// A chart's frame as the paper figures share it: title, margin, and room for the axis labels
/// (`x_labels` pixels below, 70 to the left).
pub(crate) fn framed<'a, 'b, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    x_labels: u32,
) -> ChartBuilder<'a, 'b, DB> {
    let mut b = ChartBuilder::on(root);
    b.caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(x_labels)
        .y_label_area_size(70);
    b
}

#[cfg(test)]
mod colour_tests {
    use super::model_colour;

    /// CIELAB of an sRGB colour, after a colour-vision simulation `m` (Machado, Oliveira and
    /// Fernandes 2009, severity 1, on linear RGB).
    fn lab(c: (u8, u8, u8), m: &[[f64; 3]; 3]) -> [f64; 3] {
        let lin = |x: u8| {
            let c = x as f64 / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        let l = [lin(c.0), lin(c.1), lin(c.2)];
        let s: Vec<f64> = (0..3)
            .map(|i| (0..3).map(|j| m[i][j] * l[j]).sum::<f64>().clamp(0.0, 1.0))
            .collect();
        let x = 0.4124 * s[0] + 0.3576 * s[1] + 0.1805 * s[2];
        let y = 0.2126 * s[0] + 0.7152 * s[1] + 0.0722 * s[2];
        let z = 0.0193 * s[0] + 0.1192 * s[1] + 0.9505 * s[2];
        let f = |t: f64| {
            if t > 0.008856 {
                t.cbrt()
            } else {
                7.787 * t + 16.0 / 116.0
            }
        };
        let (fx, fy, fz) = (f(x / 0.95047), f(y), f(z / 1.08883));
        [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
    }

    #[test]
    fn a_model_on_body_points_is_a_lighter_shade_of_its_colour() {
        let (x, c) = (model_colour("node-so (x)"), model_colour("node-so"));
        assert_eq!((x.0, x.1, x.2), (153, 144, 195), "{c:?} lightened");
    }

    #[test]
    fn a_loaded_checkpoint_keeps_its_models_colour() {
        assert_eq!(model_colour("hnn (checkpoint)"), model_colour("hnn"));
        assert_eq!(model_colour("chnn (checkpoint 2)"), model_colour("chnn"));
    }

    #[test]
    fn the_pages_models_stay_apart_with_colour_vision_deficiencies() {
        let visions: [(&str, [[f64; 3]; 3]); 3] = [
            (
                "normal",
                [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
            ),
            (
                "protanopia",
                [
                    [0.152286, 1.052583, -0.204868],
                    [0.114503, 0.786281, 0.099216],
                    [-0.003882, -0.048116, 1.051998],
                ],
            ),
            (
                "deuteranopia",
                [
                    [0.367322, 0.860646, -0.227968],
                    [0.280085, 0.672501, 0.047413],
                    [-0.011820, 0.042940, 0.968881],
                ],
            ),
        ];
        let names = crate::models::ModelKind::PLAYGROUND.map(|k| k.name());
        let mut colours: Vec<(&str, (u8, u8, u8))> = names
            .iter()
            .map(|&n| {
                let c = model_colour(n);
                (n, (c.0, c.1, c.2))
            })
            .collect();
        colours.push(("truth", (0, 0, 0)));
        for (vision, m) in &visions {
            for (i, a) in colours.iter().enumerate() {
                for b in &colours[i + 1..] {
                    let (la, lb) = (lab(a.1, m), lab(b.1, m));
                    let d = (0..3).map(|k| (la[k] - lb[k]).powi(2)).sum::<f64>().sqrt();
                    assert!(
                        d >= 20.0,
                        "{vision}: {} and {} are ΔE {d:.1} apart",
                        a.0,
                        b.0
                    );
                }
            }
        }
    }
}
