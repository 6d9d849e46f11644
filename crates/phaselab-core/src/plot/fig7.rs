//! fig7's figures: the control-aware models' MSE as bars, and their test rollouts against the
//! MuJoCo engine's, one panel per state coordinate (qpos, then qvel).

use super::bars::grouped_bars;
use super::canvas::{blank, PlotError};
use super::lines::{lines, Curve, LinesSpec};
use crate::data::TrajectorySet;
use crate::experiments::mujoco::Fig7Bar;

/// Bars of one split's MSE per environment and model, as (PNG, SVG).
pub fn fig7_bars(
    title: &str,
    y_label: &str,
    bars: &[Fig7Bar],
) -> Result<(Vec<u8>, String), PlotError> {
    crate::png_and_svg!(1000, 500, |root| grouped_bars(&root, title, y_label, bars))
}

/// The first test trajectory against each model's prediction of it (`predictions`: a model's
/// name and its predicted states, one row [q, v] per time step), four panels a row, as (PNG, SVG).
pub fn fig7_rollout(
    test: &TrajectorySet,
    predictions: &[(String, Vec<Vec<f64>>)],
) -> Result<(Vec<u8>, String), PlotError> {
    let (d, t, dt) = (test.d, test.t, test.dt);
    let panels: Vec<LinesSpec> = (0..2 * d)
        .map(|c| {
            let truth = (0..t)
                .map(|k| {
                    let (q, v) = test.state(0, k);
                    (k as f64 * dt, if c < d { q[c] } else { v[c - d] })
                })
                .collect();
            let mut series = vec![Curve {
                name: "truth".into(),
                points: truth,
                dashed: false,
                label: None,
                ..Default::default()
            }];
            series.extend(predictions.iter().map(|(name, rows)| {
                Curve {
                    name: name.clone(),
                    points: rows
                        .iter()
                        .enumerate()
                        .filter_map(|(i, row)| Some((i as f64 * dt, *row.get(c)?)))
                        .collect(),
                    dashed: true,
                    label: None,
                    ..Default::default()
                }
            }));
            LinesSpec {
                title: if c < d {
                    format!("qpos[{c}]")
                } else {
                    format!("qvel[{}]", c - d)
                },
                x_label: "t (s)".into(),
                series,
                ..Default::default()
            }
        })
        .collect();
    let cols = 4;
    let rows = panels.len().div_ceil(cols);
    crate::png_and_svg!(1200, 260 * rows as u32, |root| {
        blank(&root)?;
        let areas = root.split_evenly((rows, cols));
        panels
            .iter()
            .zip(areas.iter())
            .try_for_each(|(p, a)| lines(a, p).map(|_| ()))
    })
}
