//! `phaselab reproduce <figure>`: run a figure's grid (resuming: finished runs are skipped, so a
//! killed reproduction picks up where it stopped), then write its table, CSV and plots.

use crate::learn::train_one;
use crate::output::write_atomic;
use anyhow::{bail, Context, Result};
use burn::prelude::Device;
use clap::Args;
use phaselab_core::data::protocol::Protocol;
use phaselab_core::experiments::{mean_and_standard_error, Figure, RunSpec, Tier};
use phaselab_core::models::ModelConfig;
use phaselab_core::physics::system;
use phaselab_core::train::TrainConfig;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

#[derive(Args)]
pub struct ReproduceArgs {
    /// fig4 (second-order ablation) or fig5 (node-so vs hnn, chain vs spring).
    figure: String,
    /// smoke (seconds), quick (minutes on 2 cores) or paper (the paper's settings; GPU or long run).
    #[arg(long, default_value = "quick")]
    tier: String,
    /// Seeds per setting (default: the tier's).
    #[arg(long)]
    seeds: Option<usize>,
    /// Runs in parallel.
    #[arg(long, short, default_value_t = 1)]
    jobs: usize,
    /// Output directory (default out/reproduce-<tier>): runs/ is shared by all figures (a run two
    /// figures need is trained once), each figure's files go to <figure>/.
    #[arg(long, short)]
    out: Option<PathBuf>,
}

/// The scores of one finished run, as stored in its metrics.json.
#[derive(Clone, Debug)]
struct Row {
    spec: RunSpec,
    gerr: f64,
    herr: Option<f64>,
    mse: f64,
    params: usize,
    seconds: f64,
}

fn run_one(spec: &RunSpec, dir: &Path) -> Result<()> {
    let sys = system(&spec.system)?;
    let s = &spec.settings;
    let p = Protocol {
        n_trajectories: s.n_trajectories,
        n_test: s.n_test,
        test_chunk: s.test_chunk,
        seed: spec.seed,
        ..Protocol::default()
    };
    let data = p.generate(sys.as_ref(), &|_| {})?;
    let mut mc = ModelConfig {
        width: s.width,
        seed: 0,
        ..ModelConfig::new(spec.model, sys.dof(), sys.angular())
    };
    if let Some(a) = spec.alpha {
        mc.alpha = a;
    }
    let cfg = TrainConfig {
        epochs: s.epochs,
        loss: spec.loss,
        ..TrainConfig::default()
    };
    train_one(
        mc,
        &cfg,
        &Device::flex(),
        sys.as_ref(),
        &data.train,
        &data.test,
        dir,
        false,
    )?;
    write_atomic(
        &dir.join("spec.json"),
        serde_json::to_string_pretty(spec)?.as_bytes(),
    )
}

fn read_row(spec: &RunSpec, dir: &Path) -> Option<Row> {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("metrics.json")).ok()?).ok()?;
    Some(Row {
        spec: spec.clone(),
        gerr: m["test"]["gerr"].as_f64()?,
        herr: m["test"]["herr"].as_f64(),
        mse: m["test"]["mse"].as_f64()?,
        params: m["parameters"].as_u64()? as usize,
        seconds: m["train_seconds"].as_f64().unwrap_or(f64::NAN),
    })
}

pub fn reproduce_cmd(a: ReproduceArgs) -> Result<()> {
    let fig: Figure = a.figure.parse().map_err(anyhow::Error::msg)?;
    let tier: Tier = a.tier.parse().map_err(anyhow::Error::msg)?;
    if a.jobs == 0 || a.jobs > 64 || a.seeds == Some(0) || a.seeds.is_some_and(|s| s > 100) {
        bail!("--jobs must be in 1..=64 and --seeds in 1..=100");
    }
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("out/reproduce-{tier}")));
    let runs = fig.runs(tier, a.seeds);
    let dir_of = |r: &RunSpec| out.join("runs").join(r.id());
    let todo: Vec<&RunSpec> = runs
        .iter()
        .filter(|r| !dir_of(r).join("metrics.json").exists())
        .collect();
    println!(
        "{} ({tier} tier): {} runs, {} already finished, {} to do, {} at a time -> {}",
        fig.name(),
        runs.len(),
        runs.len() - todo.len(),
        todo.len(),
        a.jobs,
        out.display()
    );
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..a.jobs.min(todo.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(spec) = todo.get(i) else { break };
                let t = std::time::Instant::now();
                let r = run_one(spec, &dir_of(spec));
                let k = done.fetch_add(1, Ordering::SeqCst) + 1;
                match r {
                    Ok(()) => println!(
                        "[{k}/{}] {} ({:.1} s)",
                        todo.len(),
                        spec.id(),
                        t.elapsed().as_secs_f64()
                    ),
                    Err(e) => {
                        println!("[{k}/{}] {} FAILED: {e:#}", todo.len(), spec.id());
                        failures.lock().expect("lock").push(spec.id());
                    }
                }
            });
        }
    });
    let rows: Vec<Row> = runs
        .iter()
        .filter_map(|r| read_row(r, &dir_of(r)))
        .collect();
    write_outputs(fig, tier, &rows, &out.join(fig.name()))?;
    let failures = failures.into_inner().expect("lock");
    if !failures.is_empty() {
        bail!(
            "{} runs failed (diverged or errored): {}; rerun to retry them",
            failures.len(),
            failures.join(", ")
        );
    }
    Ok(())
}

/// results.csv (every run), table.md (mean +- standard error over seeds), and the figure.
fn write_outputs(fig: Figure, tier: Tier, rows: &[Row], out: &Path) -> Result<()> {
    let mut csv = String::from(
        "figure,tier,system,model,seed,loss,alpha,gerr,herr,mse,parameters,train_seconds\n",
    );
    for r in rows {
        csv += &format!(
            "{},{tier},{},{},{},{:?},{},{},{},{},{},{:.2}\n",
            fig.name(),
            r.spec.system,
            r.spec.model,
            r.spec.seed,
            r.spec.loss,
            r.spec.alpha.map(|a| a.to_string()).unwrap_or_default(),
            r.gerr,
            r.herr.map(|h| h.to_string()).unwrap_or_default(),
            r.mse,
            r.params,
            r.seconds
        );
    }
    write_atomic(&out.join("results.csv"), csv.as_bytes())?;
    let systems = fig.systems(tier);
    let models = fig.models();
    let mut md = format!("# {} — {}\n\nTier `{tier}`; rollout error `gerr` on the test chunks, mean ± standard error over seeds (n = seeds).\n\n| system |", fig.name(), fig.title());
    for m in &models {
        md += &format!(" {m} |");
    }
    md += "\n|---|";
    md += &"---|".repeat(models.len());
    md += "\n";
    let mut bars = Vec::new();
    for s in &systems {
        md += &format!("| {s} |");
        for m in &models {
            let xs: Vec<f64> = rows
                .iter()
                .filter(|r| &r.spec.system == s && r.spec.model == *m)
                .map(|r| r.gerr)
                .collect();
            let (mean, se) = mean_and_standard_error(&xs);
            md += &if xs.is_empty() {
                " – |".to_string()
            } else {
                format!(" {mean:.3e} ± {se:.1e} (n={}) |", xs.len())
            };
            bars.push((s.clone(), m.name().to_string(), mean, se));
        }
        md += "\n";
    }
    write_atomic(&out.join("table.md"), md.as_bytes())?;
    let title = format!("{} ({tier} tier): {}", fig.name(), fig.title());
    let png = phaselab_core::plot::grouped_bars_png(
        &title,
        "test rollout error (gerr)",
        &bars,
        1000,
        520,
    )
    .context("drawing the PNG")?;
    write_atomic(&out.join(format!("{}.png", fig.name())), &png)?;
    let svg = phaselab_core::plot::grouped_bars_svg(
        &title,
        "test rollout error (gerr)",
        &bars,
        1000,
        520,
    )
    .context("drawing the SVG")?;
    write_atomic(&out.join(format!("{}.svg", fig.name())), svg.as_bytes())?;
    print!("{md}");
    println!(
        "wrote {}/{{results.csv, table.md, {}.png, {}.svg}}",
        out.display(),
        fig.name(),
        fig.name()
    );
    Ok(())
}
