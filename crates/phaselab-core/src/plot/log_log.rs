//! Curves and points on log-log axes: a scatter with its least-squares line (fig2, fig3), and
//! curves with a shaded band over seeds (rollout and energy errors over time).

use super::canvas::{
    colour_for, err, fonts, framed, legend, log_range, log_ticks, PlotError, Series,
};
use plotters::coord::Shift;
use plotters::prelude::*;

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
    // Curves run from edge to edge: room above them for the legend, a row per series.
    let y1 = match lines {
        true => y1 * (y1 / y0).powf(0.06 * (series.len() + 1) as f64),
        false => y1,
    };
    let mut chart = framed(root, title, 45)
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
    let mut chart = framed(root, title, 45)
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
