//! Figures drawn with plotters on any backend: PNG and SVG natively; in the browser the wasm crate
//! draws the same line plots to an SVG string, which the page paints onto its canvases. Plot code
//! reads results; it never trains.

pub use plotters;

mod bars;
mod canvas;
mod fig7;
pub mod figures;
mod lines;
mod log_log;
pub mod page_figures;
mod structure;

pub use bars::{grouped_bars, grouped_bars_png, grouped_bars_svg};
pub use canvas::{blank, encode_png, model_colour, palette, PlotError, Series};
pub use fig7::{fig7_bars, fig7_rollout};
pub use lines::{lines, tick_labels, Curve, LinesSpec, PlotFrame};
pub use log_log::{curves_with_band, xy_log_log};
pub use structure::{structure_figure, structure_panels};

#[cfg(test)]
mod tests {
    use super::canvas::*;
    use super::*;
    use plotters::prelude::*;

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
