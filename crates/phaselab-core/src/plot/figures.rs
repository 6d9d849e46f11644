//! A figure's outputs computed from its run records: results.csv, table.md and the drawings as
//! bytes, so the statistics and layouts live in the core and a front end only writes the files.

use crate::data::protocol::ProtocolError;
use crate::data::TrajectorySet;
use crate::experiments::mujoco::{fig7_csv, fig7_table};
use crate::experiments::record::RunRecord;
use crate::experiments::report;
use crate::experiments::{Figure, Layout, RunSpec, Tier, ALPHAS};
use crate::metrics::{chaos_floor, MetricError};
use crate::models::ModelKind;
use crate::physics::{system, SpecError};
use crate::plot::{self, PlotError};
use crate::stats::{
    geometric_mean_and_range, log_band_and_growth, log_log_line, mean_and_standard_error,
};

/// The scores of one finished run, as its record holds them.
#[derive(Clone, Debug, PartialEq)]
pub struct RunScores {
    /// What was trained.
    pub spec: RunSpec,
    /// Test rollout error.
    pub gerr: f64,
    /// Test energy violation (None without a known system).
    pub herr: Option<f64>,
    /// Energy violation at each test step.
    pub herr_curve: Option<Vec<f64>>,
    /// Rollout error at each test step.
    pub gerr_curve: Option<Vec<f64>>,
    /// Symplectic error of the learned field (NODE+SO models).
    pub symplectic_error: Option<f64>,
    /// Test mean squared error.
    pub mse: f64,
    /// Trainable parameters.
    pub params: usize,
    /// Training wall time in seconds.
    pub seconds: f64,
}

impl RunScores {
    /// The scores of `r`, or None when it diverged.
    pub fn of(r: &RunRecord) -> Option<RunScores> {
        let t = r.test()?;
        Some(RunScores {
            spec: r.spec.clone(),
            gerr: t.gerr,
            herr: t.herr,
            herr_curve: t.herr_curve.clone(),
            gerr_curve: Some(t.gerr_curve.clone()),
            symplectic_error: t.symplectic_error,
            mse: t.mse,
            params: r.parameters,
            seconds: r.train_seconds,
        })
    }
}

/// One file of a drawing: its name (`NAME.png` or `NAME.svg`) and contents (PNG bytes, SVG text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DrawnFile {
    /// The file name, e.g. `fig4.png`.
    pub name: String,
    /// PNG bytes, or SVG text as bytes.
    pub bytes: Vec<u8>,
}

/// What `phaselab reproduce` writes for a figure: results.csv (every finished run), table.md, and
/// each drawing as PNG and SVG, in drawing order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FigureOutputs {
    /// results.csv: one line per finished run.
    pub csv: String,
    /// table.md, also printed.
    pub markdown: String,
    /// The drawings' files, two (PNG, SVG) per drawing.
    pub files: Vec<DrawnFile>,
}

/// Why a figure's outputs could not be made.
#[derive(Debug, thiserror::Error)]
pub enum FigureError {
    /// A system name of the figure that does not parse.
    #[error(transparent)]
    System(#[from] SpecError),
    /// The chaos floor's test data could not be generated.
    #[error(transparent)]
    Data(#[from] ProtocolError),
    /// The chaos floor could not be computed from that data.
    #[error(transparent)]
    ChaosFloor(#[from] MetricError),
    /// A results page asks for a figure that cannot be drawn (its block names it).
    #[error("{0}")]
    Page(String),
    /// The drawing `name` (its files' stem) failed.
    #[error("drawing {name}")]
    Drawing {
        /// The drawing's name (its files are NAME.png and NAME.svg).
        name: String,
        /// The backend's error.
        #[source]
        source: PlotError,
    },
}

/// `fig`'s outputs at `tier` from the records of its runs (diverged runs are left out): the CSV
/// and markdown table `phaselab reproduce` writes and prints, and the drawings' files. Figure 7's
/// are [`fig7_outputs`] without rollouts (which need its test data).
pub fn figure_outputs(
    fig: Figure,
    tier: Tier,
    records: &[RunRecord],
) -> Result<FigureOutputs, FigureError> {
    // The ladder compares models in different coordinates: every one on the body points.
    let scored = report::scored_for(fig, records);
    let records = &scored[..];
    // Only the figure's own runs, as its table takes them: a run of the same system and model
    // at other sizes (fig9-data's beside fig9's) belongs to another figure.
    let rows: Vec<RunScores> = report::of_figure(fig, tier, records)
        .into_iter()
        .filter_map(RunScores::of)
        .collect();
    let csv = results_csv(fig, tier, &rows);
    let scale = match fig {
        Figure::Ladder => "test rollout error `gerr` on the system's body points (a generalised model's rollouts mapped through x(q), as the CHNN repository scores them)",
        _ => "test rollout error `gerr`",
    };
    let head = format!("# {} — {}\n\nTier `{tier}`; {scale} and energy violation `Herr` on the test chunks; mean ± standard error over seeds (n).\n\n", fig.name(), fig.title());
    let (markdown, files) = match fig.layout() {
        Layout::Bars => bars(
            fig,
            tier,
            &rows,
            head + &report::figure_table(fig, tier, records),
        )?,
        Layout::Energy => energy(fig, tier, &rows, head)?,
        Layout::AlphaSweep => alpha_sweep(
            fig,
            tier,
            &rows,
            head + &report::figure_table(fig, tier, records),
        )?,
        Layout::Rollouts => rollouts(fig, tier, &rows, head)?,
        Layout::Control => return fig7_outputs(tier, records, &[]),
    };
    Ok(FigureOutputs {
        csv,
        markdown,
        files,
    })
}

/// One MuJoCo environment's first test trajectory and each model's prediction of it, for fig7's
/// rollout drawing.
#[derive(Clone, Debug)]
pub struct Fig7Rollout {
    /// The environment, e.g. `Hopper-v5` (the drawing is `fig7_rollout_<env, lowercase>`).
    pub env: String,
    /// Its test set (the drawing shows trajectory 0).
    pub test: TrajectorySet,
    /// A model's name and its predicted states of trajectory 0, one row [q, v] per step.
    pub predictions: Vec<(String, Vec<Vec<f64>>)>,
}

/// Figure 7's outputs at `tier` from its records (control runs that finished; others are left
/// out): results.csv, table.md (ending with the list of drawings), the bars of train and test MSE
/// (`fig7_train`, `fig7_test`) and one rollout drawing per entry of `rollouts`, in that order.
pub fn fig7_outputs(
    tier: Tier,
    records: &[RunRecord],
    rollouts: &[Fig7Rollout],
) -> Result<FigureOutputs, FigureError> {
    let csv = fig7_csv(tier, records);
    let (mut markdown, train_bars, test_bars) = fig7_table(tier, records);
    let mut files = Vec::new();
    for (name, label, bars) in [
        ("fig7_train", "train MSE", &train_bars),
        ("fig7_test", "test rollout MSE", &test_bars),
    ] {
        let title = format!("fig7 ({tier} tier): {label} (standardised)");
        files.extend(drawn_files(name, plot::fig7_bars(&title, label, bars))?);
    }
    for r in rollouts {
        let name = format!("fig7_rollout_{}", r.env.to_lowercase());
        files.extend(drawn_files(
            &name,
            plot::fig7_rollout(&r.test, &r.predictions),
        )?);
    }
    let pngs: Vec<&str> = files
        .iter()
        .map(|f| f.name.as_str())
        .filter(|n| n.ends_with(".png"))
        .collect();
    markdown += &format!("\nFiles: {}\n", pngs.join(", "));
    Ok(FigureOutputs {
        csv,
        markdown,
        files,
    })
}

/// results.csv: one line per finished run.
fn results_csv(fig: Figure, tier: Tier, rows: &[RunScores]) -> String {
    let mut csv = String::from("figure,tier,system,model,seed,loss,alpha,gerr,herr,mse,symplectic_error,parameters,train_seconds\n");
    let opt = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
    for r in rows {
        csv += &format!(
            "{},{tier},\"{}\",{},{},{:?},{},{},{},{},{},{},{:.2}\n",
            fig.name(),
            r.spec.system,
            r.spec.model,
            r.spec.seed,
            r.spec.loss,
            opt(r.spec.alpha),
            r.gerr,
            opt(r.herr),
            r.mse,
            opt(r.symplectic_error),
            r.params,
            r.seconds
        );
    }
    csv
}

/// A drawing made by `png_and_svg!` as its two files, NAME.png and NAME.svg.
pub fn drawn_files(
    name: &str,
    drawn: Result<(Vec<u8>, String), PlotError>,
) -> Result<Vec<DrawnFile>, FigureError> {
    let (png, svg) = drawn.map_err(|source| FigureError::Drawing {
        name: name.to_string(),
        source,
    })?;
    Ok(vec![
        DrawnFile {
            name: format!("{name}.png"),
            bytes: png,
        },
        DrawnFile {
            name: format!("{name}.svg"),
            bytes: svg.into_bytes(),
        },
    ])
}

/// `series` on 800 x 600 log-log axes as NAME.png and NAME.svg; `(lines, regression)` as in
/// `plot::xy_log_log`.
pub fn log_log_files(
    name: &str,
    title: &str,
    (x_label, y_label): (&str, &str),
    series: &[plot::Series],
    (lines, regression): (bool, bool),
) -> Result<Vec<DrawnFile>, FigureError> {
    let drawn = crate::png_and_svg!(800, 600, |root| plot::xy_log_log(
        &root, title, x_label, y_label, series, lines, regression
    ));
    drawn_files(name, drawn)
}

/// Bars of gerr per system and series (mean ± standard error over seeds), and the parameter counts.
fn bars(
    fig: Figure,
    tier: Tier,
    rows: &[RunScores],
    mut md: String,
) -> Result<(String, Vec<DrawnFile>), FigureError> {
    let systems = fig.systems(tier);
    let mut series: Vec<String> = Vec::new();
    for m in fig.models() {
        for r in rows.iter().filter(|r| r.spec.model == m) {
            let s = fig.series(&r.spec);
            if !series.contains(&s) {
                series.push(s);
            }
        }
    }
    // The table (in md already) and the bars come from the same records.
    let mut data = Vec::new();
    for sys in &systems {
        for s in &series {
            let xs: Vec<f64> = rows
                .iter()
                .filter(|r| &r.spec.system == sys && &fig.series(&r.spec) == s)
                .map(|r| r.gerr)
                .collect();
            let (mean, se) = mean_and_standard_error(&xs);
            data.push((sys.clone(), s.clone(), mean, se));
        }
    }
    md += "\nParameters per model:";
    for s in &series {
        if let Some(r) = rows.iter().find(|r| &fig.series(&r.spec) == s) {
            md += &format!(" {s} {} ;", r.params);
        }
    }
    md += " (for the first system; they grow with D).\n";
    let title = format!("{} ({tier} tier): {}", fig.name(), fig.title());
    // Wide enough that every group's bars and its system's name have room (the ladder's 8 x 9).
    let width = (260 + systems.len() * (series.len() * 14 + 24)).max(1000) as u32;
    let drawn = crate::png_and_svg!(width, 520, |root| plot::grouped_bars(
        &root,
        &title,
        "test rollout error (gerr)",
        &data
    ));
    Ok((md, drawn_files(fig.name(), drawn)?))
}

/// Herr against gerr over every run (with the regression line), and Herr's growth over the rollout.
fn energy(
    fig: Figure,
    tier: Tier,
    rows: &[RunScores],
    mut md: String,
) -> Result<(String, Vec<DrawnFile>), FigureError> {
    // Scatter: every run's (gerr, Herr), one series per model.
    let mut series: Vec<plot::Series> = Vec::new();
    for m in fig.models() {
        let pts: Vec<(f64, f64)> = rows
            .iter()
            .filter(|r| r.spec.model == m)
            .filter_map(|r| Some((r.gerr, r.herr?)))
            .collect();
        series.push((m.name().to_string(), pts));
    }
    let all: Vec<(f64, f64)> = series.iter().flat_map(|s| s.1.iter().copied()).collect();
    let line = log_log_line(&all);
    md += &format!("Over {} runs (systems x models x seeds): log Herr = {:.3} log gerr + {:.3} (log10), correlation of the logs {:.3}.\n\n", all.len(), line.slope, line.intercept, line.correlation);
    let title = format!(
        "{} ({tier} tier): energy violation vs rollout error",
        fig.name()
    );
    let labels = ("test rollout error (gerr)", "energy violation (Herr)");
    let name = format!("{}-scatter", fig.name());
    let mut files = log_log_files(&name, &title, labels, &series, (false, true))?;
    // Growth in time: geometric mean of Herr(t) over runs, +- one standard deviation in log space.
    let mut curves = Vec::new();
    md += "| model | Herr at the first step | Herr at the last step | growth exponent (log Herr vs log t) |\n|---|---|---|---|\n";
    for m in [ModelKind::Node, ModelKind::Hnn] {
        let cs: Vec<(&Vec<f64>, f64)> = rows
            .iter()
            .filter(|r| r.spec.model == m)
            .filter_map(|r| Some((r.herr_curve.as_ref()?, system(&r.spec.system).ok()?.dt())))
            .collect();
        let curves_of: Vec<(&[f64], f64)> = cs.iter().map(|c| (c.0.as_slice(), c.1)).collect();
        let Some((pts, growth)) = log_band_and_growth(&curves_of) else {
            continue;
        };
        md += &format!(
            "| {m} | {:.3e} | {:.3e} | {growth:.2} |\n",
            pts[0].1,
            pts[pts.len() - 1].1
        );
        curves.push((m.name().to_string(), pts));
    }
    let title = format!(
        "{} ({tier} tier): energy violation over the rollout",
        fig.name()
    );
    let drawn = crate::png_and_svg!(800, 600, |root| plot::curves_with_band(
        &root,
        &title,
        "rollout time (s)",
        "energy violation (Herr)",
        &curves
    ));
    files.extend(drawn_files(&format!("{}-growth", fig.name()), drawn)?);
    Ok((md, files))
}

/// gerr against the penalty weight 1/alpha per system, and gerr against the symplectic error.
fn alpha_sweep(
    fig: Figure,
    tier: Tier,
    rows: &[RunScores],
    mut md: String,
) -> Result<(String, Vec<DrawnFile>), FigureError> {
    let mut vs_alpha = Vec::new();
    let mut vs_sym = Vec::new();
    for sys in fig.systems(tier) {
        let mut line = Vec::new();
        for a in ALPHAS {
            let xs: Vec<f64> = rows
                .iter()
                .filter(|r| r.spec.system == sys && r.spec.alpha == Some(a))
                .map(|r| r.gerr)
                .collect();
            if !xs.is_empty() {
                line.push((1.0 / a, mean_and_standard_error(&xs).0));
            }
        }
        vs_alpha.push((sys.clone(), line));
        let pts: Vec<(f64, f64)> = rows
            .iter()
            .filter(|r| r.spec.system == sys)
            .filter_map(|r| Some((r.symplectic_error?, r.gerr)))
            .collect();
        vs_sym.push((sys.clone(), pts));
    }
    md += "\nThe penalty enters the loss as penalty / alpha: larger alpha, weaker regularisation (plots use 1/alpha).\n";
    let title = format!("{} ({tier} tier): test error vs penalty weight", fig.name());
    let labels = ("penalty weight 1/alpha", "test rollout error (gerr)");
    let name = format!("{}-alpha", fig.name());
    let mut files = log_log_files(&name, &title, labels, &vs_alpha, (true, false))?;
    let title = format!(
        "{} ({tier} tier): test error vs symplectic error",
        fig.name()
    );
    let labels = (
        "symplectic error of the learned field",
        "test rollout error (gerr)",
    );
    let name = format!("{}-symplectic", fig.name());
    files.extend(log_log_files(
        &name,
        &title,
        labels,
        &vs_sym,
        (false, false),
    )?);
    Ok((md, files))
}

/// Per system: each model's gerr over the rollout (geometric mean over seeds, band = min..max over
/// seeds) and the chaos floor, the true system started 1e-4 away from the test states (seed 0's).
fn rollouts(
    fig: Figure,
    tier: Tier,
    rows: &[RunScores],
    mut md: String,
) -> Result<(String, Vec<DrawnFile>), FigureError> {
    let mut files = Vec::new();
    md +=
        "| system | model | gerr at the first step | gerr at the last step |\n|---|---|---|---|\n";
    for sys_name in fig.systems(tier) {
        let sys = system(&sys_name)?;
        let dt = sys.dt();
        let mut curves = Vec::new();
        for m in fig.models() {
            let cs: Vec<&Vec<f64>> = rows
                .iter()
                .filter(|r| r.spec.system == sys_name && r.spec.model == m)
                .filter_map(|r| r.gerr_curve.as_ref())
                .collect();
            let Some(len) = cs.iter().map(|c| c.len()).min().filter(|&l| l > 0) else {
                continue;
            };
            let pts: Vec<(f64, f64, f64, f64)> = (0..len)
                .map(|k| {
                    let v: Vec<f64> = cs.iter().map(|c| c[k]).collect();
                    let (g, lo, hi) = geometric_mean_and_range(&v, 1e-12);
                    ((k + 1) as f64 * dt, g, lo, hi)
                })
                .collect();
            md += &format!(
                "| {sys_name} | {m} | {:.3e} | {:.3e} |\n",
                pts[0].1,
                pts[len - 1].1
            );
            curves.push((m.name().to_string(), pts));
        }
        let test = tier
            .settings()
            .protocol(0)
            .generate(sys.as_ref(), &|_| {})?
            .test;
        let floor = chaos_floor(sys.as_ref(), &test, 1e-4)?;
        let pts: Vec<(f64, f64, f64, f64)> = floor
            .curve
            .iter()
            .enumerate()
            .map(|(k, &g)| ((k + 1) as f64 * dt, g, g, g))
            .collect();
        md += &format!(
            "| {sys_name} | truth started 1e-4 away | {:.3e} | {:.3e} |\n",
            pts[0].1,
            pts[pts.len() - 1].1
        );
        curves.push(("chaos floor (truth + 1e-4)".to_string(), pts));
        let title = format!("{sys_name} ({tier} tier): rollout error over time");
        let drawn = crate::png_and_svg!(800, 560, |root| plot::curves_with_band(
            &root,
            &title,
            "rollout time (s)",
            "rollout error (gerr)",
            &curves
        ));
        let name = format!(
            "rollout-{}",
            sys_name.replace([':', ','], "-").replace('=', "")
        );
        files.extend(drawn_files(&name, drawn)?);
    }
    Ok((md, files))
}
