//! `phaselab control` (train and score the control-aware models on a dataset with actions) and
//! `phaselab reproduce fig7` (those models on every MuJoCo environment, with plots).

use crate::output::{bar, read, write_atomic, write_history};
use anyhow::{bail, Context, Result};
use burn::prelude::Device;
use clap::Args;
use phaselab_core::data::reference_layout::{from_reference_npy, task_dt};
use phaselab_core::data::TrajectorySet;
use phaselab_core::experiments::mujoco::{
    fig7_csv, fig7_runs, fig7_settings, fig7_table, Fig7Record, Fig7Run, Fig7Settings, ENVIRONMENTS,
};
use phaselab_core::experiments::Tier;
use phaselab_core::models::{ControlConfig, ControlKind};
use phaselab_core::plot;
use phaselab_core::train::{
    evaluate_control, fit_standardisation, mujoco_train_config, steps_per_epoch, train,
    ControlEvaluation, TrainConfig,
};
use serde_json::json;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct ControlArgs {
    /// Directory with train.npz and test.npz holding controls u (from tools/mujoco/run.sh).
    #[arg(long, conflicts_with = "reference")]
    data: Option<PathBuf>,
    /// Directory with the paper's files {task}_cl20_[xu]data.npy and {task}_episodes_[xu]data.npy.
    #[arg(long, requires = "task")]
    reference: Option<PathBuf>,
    /// Task name of the reference files, e.g. HopperFull-v0.
    #[arg(long)]
    task: Option<String>,
    /// Time step for the reference files (default: the reference's table for the task).
    #[arg(long)]
    dt: Option<f64>,
    /// Comma-separated: node, node-so, hnn-forced.
    #[arg(long, default_value = "node,node-so,hnn-forced")]
    models: String,
    #[arg(long, default_value_t = 256)]
    epochs: usize,
    #[arg(long, default_value_t = 128)]
    width: usize,
    #[arg(long, default_value_t = 2)]
    depth: usize,
    #[arg(long, default_value_t = 5e-3)]
    lr: f64,
    #[arg(long, default_value_t = 200)]
    batch: usize,
    /// Euler substeps per data step.
    #[arg(long, default_value_t = 8)]
    substeps: usize,
    /// Seed of the weights and the minibatch order.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output directory: one subdirectory per model (history.csv, metrics.json).
    #[arg(long, short, default_value = "out/control")]
    out: PathBuf,
}

/// Train and test sets of a control dataset directory (`train.npz`, `test.npz`).
pub fn load_dir(dir: &Path) -> Result<(TrajectorySet, TrajectorySet)> {
    let one = |name: &str| -> Result<TrajectorySet> {
        let path = dir.join(name);
        let set = TrajectorySet::from_npz(&read(&path)?)
            .with_context(|| format!("{} is not a valid dataset", path.display()))?;
        if set.u.is_none() {
            bail!(
                "{} has no controls u: `phaselab control` is for data with actions (use `phaselab train` otherwise)",
                path.display()
            );
        }
        Ok(set)
    };
    let (tr, te) = (one("train.npz")?, one("test.npz")?);
    check_pair(&tr, &te)?;
    Ok((tr, te))
}

fn check_pair(tr: &TrajectorySet, te: &TrajectorySet) -> Result<()> {
    if tr.d != te.d || tr.n_controls() != te.n_controls() {
        bail!(
            "train has n = {}, m = {} but test has n = {}, m = {}",
            tr.d,
            tr.n_controls(),
            te.d,
            te.n_controls()
        );
    }
    Ok(())
}

fn load_reference(
    dir: &Path,
    task: &str,
    dt: Option<f64>,
) -> Result<(TrajectorySet, TrajectorySet)> {
    let dt = match dt.or_else(|| task_dt(task)) {
        Some(dt) => dt,
        None => bail!("no time step known for task '{task}': pass --dt"),
    };
    let pair = |stem: &str, split: &str| -> Result<TrajectorySet> {
        let x = dir.join(format!("{task}_{stem}_xdata.npy"));
        let u = dir.join(format!("{task}_{stem}_udata.npy"));
        from_reference_npy(&read(&x)?, &read(&u)?, dt, task, split)
            .with_context(|| format!("{} with {}", x.display(), u.display()))
    };
    let (tr, te) = (pair("cl20", "train")?, pair("episodes", "test")?);
    check_pair(&tr, &te)?;
    Ok((tr, te))
}

/// Scores of one trained control model.
pub struct ControlResult {
    pub train: ControlEvaluation,
    pub test: ControlEvaluation,
    pub params: usize,
    pub seconds: f64,
    pub history: Vec<phaselab_core::train::EpochStats>,
}

/// Fit the standardisation, train, score on train and test; write history.csv and metrics.json.
pub fn train_control(
    mut mc: ControlConfig,
    cfg: &TrainConfig,
    train_set: &TrajectorySet,
    test: &TrajectorySet,
    out: &Path,
    show_progress: bool,
) -> Result<ControlResult> {
    fit_standardisation(&mut mc, train_set).map_err(anyhow::Error::msg)?;
    let device = Device::flex();
    let ad = device.clone().autodiff();
    let pb = bar(cfg.epochs as u64, mc.kind.name());
    if !show_progress {
        pb.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let start = std::time::Instant::now();
    let outcome = train(mc.init(&ad), train_set, cfg, &ad, &mut |s, _| {
        pb.set_position(s.epoch as u64);
        pb.set_message(format!("{} loss {:.3e}", mc.kind, s.loss));
        true
    });
    pb.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    write_history(out, &outcome.history)?;
    if let Some(e) = outcome.error {
        bail!("{}: {e}", mc.kind);
    }
    let model = outcome.model;
    let tr = evaluate_control(&model, train_set, &device).map_err(anyhow::Error::msg)?;
    let te = evaluate_control(&model, test, &device).map_err(anyhow::Error::msg)?;
    let metrics = json!({"model": mc.kind, "system": train_set.meta.system, "parameters": model.n_params(),
        "train_seconds": seconds, "train_mse": tr.mse, "test_mse": te.mse, "test": te,
        "config": cfg, "model_config": mc});
    write_atomic(
        &out.join("metrics.json"),
        serde_json::to_string_pretty(&metrics)?.as_bytes(),
    )?;
    Ok(ControlResult {
        params: model.n_params(),
        train: tr,
        test: te,
        seconds,
        history: outcome.history,
    })
}

pub fn control_cmd(a: ControlArgs) -> Result<()> {
    let (train_set, test) = match (&a.data, &a.reference) {
        (Some(d), None) => load_dir(d)?,
        (None, Some(r)) => load_reference(r, a.task.as_deref().unwrap_or_default(), a.dt)?,
        _ => bail!("give --data DIR (train.npz, test.npz) or --reference DIR --task TASK"),
    };
    let kinds: Vec<ControlKind> = a
        .models
        .split(',')
        .map(|m| m.trim().parse::<ControlKind>())
        .collect::<Result<_, _>>()
        .map_err(anyhow::Error::msg)?;
    if !(a.lr.is_finite() && a.lr > 0.0 && a.lr <= 1.0) || a.epochs == 0 || a.batch == 0 {
        bail!("--lr must be in (0, 1], --epochs and --batch >= 1");
    }
    if !(1..=4096).contains(&a.width)
        || !(1..=16).contains(&a.depth)
        || !(1..=1000).contains(&a.substeps)
    {
        bail!("--width must be in 1..=4096, --depth in 1..=16, --substeps in 1..=1000");
    }
    let cfg = TrainConfig {
        epochs: a.epochs,
        lr: a.lr,
        batch: a.batch,
        seed: a.seed,
        ..mujoco_train_config()
    };
    println!(
        "{}: {} train chunks of {} points, {} test trajectories of {} points, n = {}, m = {}",
        train_set.meta.system,
        train_set.n,
        train_set.t,
        test.n,
        test.t,
        train_set.d,
        train_set.n_controls()
    );
    let mut rows = Vec::new();
    for kind in kinds {
        let mc = ControlConfig {
            width: a.width,
            depth: a.depth,
            seed: a.seed,
            substeps: a.substeps,
            ..ControlConfig::new(kind, train_set.d, train_set.n_controls())
        };
        let r = train_control(mc, &cfg, &train_set, &test, &a.out.join(kind.name()), true)?;
        rows.push((kind, r));
    }
    rows.sort_by(|x, y| x.1.test.mse.total_cmp(&y.1.test.mse));
    println!("\n| rank | model | test MSE (standardised) | train MSE | parameters | seconds |");
    println!("|---|---|---|---|---|---|");
    for (i, (k, r)) in rows.iter().enumerate() {
        println!(
            "| {} | {k} | {:.4e} | {:.4e} | {} | {:.1} |",
            i + 1,
            r.test.mse,
            r.train.mse,
            r.params,
            r.seconds
        );
    }
    println!("\nwrote {}", a.out.display());
    Ok(())
}

/// The dataset of one environment at one tier, generated with tools/mujoco when missing.
fn fig7_data(env: &str, tier: Tier, root: &Path) -> Result<(TrajectorySet, TrajectorySet)> {
    let dir = root.join(format!("{env}-{tier}"));
    if !dir.join("test.npz").exists() {
        let s = fig7_settings(tier);
        let script = [
            "tools/mujoco/run.sh",
            "../tools/mujoco/run.sh",
            "../../tools/mujoco/run.sh",
        ]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
        let Some(script) = script else {
            bail!(
                "no {env} dataset in {} and tools/mujoco/run.sh is not found from here: run from the repository root, or generate it with tools/mujoco/run.sh generate --env {env} --out {}",
                dir.display(),
                dir.display()
            );
        };
        println!(
            "generating {env} data with the real MuJoCo engine -> {}",
            dir.display()
        );
        let status = std::process::Command::new("bash")
            .arg(&script)
            .args(["generate", "--env", env, "--out"])
            .arg(&dir)
            .args(["--train-chunks", &s.train_chunks.to_string()])
            .args(["--test-trajectories", &s.test_trajectories.to_string()])
            .args(["--test-length", &s.test_length.to_string()])
            .args(["--seed", "0"])
            .status()
            .with_context(|| format!("running {}", script.display()))?;
        if !status.success() {
            bail!("the MuJoCo generator failed for {env} ({status})");
        }
    }
    load_dir(&dir)
}

/// The fig7 record of `run` in `records` at these sizes, if there is a usable one (a damaged
/// one is reported and the run counts as not finished).
fn read_fig7_record(run: &Fig7Run, settings: &Fig7Settings, records: &Path) -> Option<Fig7Record> {
    let path = records.join(Fig7Record::file_name(run));
    let bytes = std::fs::read(&path).ok()?;
    match Fig7Record::from_bytes(&bytes, Some((run, settings))) {
        Ok(r) => Some(r),
        Err(e) => {
            eprintln!("{}: {e}; the run is trained again", path.display());
            None
        }
    }
}

/// `reproduce fig7`: train every (environment, model, seed) without a record in `records`,
/// leaving one per finished run, then write the table and plots from the records.
pub fn reproduce_fig7(
    tier: Tier,
    seeds: Option<usize>,
    out: &Path,
    records: &Path,
    draw_only: bool,
) -> Result<()> {
    let s = fig7_settings(tier);
    let runs = fig7_runs(tier, seeds);
    let dir_of = |r: &Fig7Run| out.join("runs").join(r.id());
    let todo: Vec<&Fig7Run> = runs
        .iter()
        .filter(|r| !draw_only && read_fig7_record(r, &s, records).is_none())
        .collect();
    let batch = mujoco_train_config().batch;
    println!(
        "fig7 ({tier} tier, {} optimiser steps a run): {} runs, {} to do -> {} (records in {})",
        s.epochs * steps_per_epoch(s.train_chunks, batch),
        runs.len(),
        todo.len(),
        out.display(),
        records.display()
    );
    if !todo.is_empty() {
        std::fs::create_dir_all(records)
            .with_context(|| format!("cannot create {}", records.display()))?;
    }
    let mut failures = Vec::new();
    for env in ENVIRONMENTS {
        let mine: Vec<&&Fig7Run> = todo.iter().filter(|r| r.env == env).collect();
        if mine.is_empty() {
            continue;
        }
        let (train_set, test) = fig7_data(env, tier, &out.join("mujoco-data"))?;
        for (i, r) in mine.iter().enumerate() {
            let mc = ControlConfig {
                width: s.width,
                seed: r.seed,
                ..ControlConfig::new(r.model, train_set.d, train_set.n_controls())
            };
            let cfg = TrainConfig {
                epochs: s.epochs,
                seed: r.seed,
                ..mujoco_train_config()
            };
            let t = std::time::Instant::now();
            let result =
                train_control(mc, &cfg, &train_set, &test, &dir_of(r), false).and_then(|res| {
                    let rec = Fig7Record {
                        run: (**r).clone(),
                        settings: s.clone(),
                        phaselab_version: env!("CARGO_PKG_VERSION").into(),
                        git_commit: env!("PHASELAB_GIT_COMMIT").into(),
                        parameters: res.params,
                        optimiser_steps: s.epochs * steps_per_epoch(train_set.n, cfg.batch),
                        train_seconds: res.seconds,
                        loss_history: res.history.iter().map(|h| h.loss as f32).collect(),
                        train_mse: res.train.mse,
                        test_mse: res.test.mse,
                        test_mse_curve: res.test.mse_curve.clone(),
                        test_mse_by_feature: res.test.mse_by_feature.clone(),
                    };
                    write_atomic(&records.join(Fig7Record::file_name(r)), &rec.to_bytes())?;
                    Ok(res)
                });
            match result {
                Ok(res) => println!(
                    "[{env} {}/{}] {} test MSE {:.3e} ({:.1} s)",
                    i + 1,
                    mine.len(),
                    r.id(),
                    res.test.mse,
                    t.elapsed().as_secs_f64()
                ),
                Err(e) => {
                    println!("[{env}] {} FAILED: {e:#}", r.id());
                    failures.push(r.id());
                }
            }
        }
    }
    let recs: Vec<Fig7Record> = runs
        .iter()
        .filter_map(|r| read_fig7_record(r, &s, records))
        .collect();
    draw_fig7(tier, &recs, &dir_of, out, &out.join("fig7"))?;
    if !failures.is_empty() {
        bail!(
            "{} runs failed: {}; rerun to retry them",
            failures.len(),
            failures.join(", ")
        );
    }
    Ok(())
}

/// results.csv, table.md, bars of train and test MSE, and one rollout figure per environment
/// (where a run directory still holds seed 0's test example), from the records.
fn draw_fig7(
    tier: Tier,
    records: &[Fig7Record],
    dir_of: &dyn Fn(&Fig7Run) -> PathBuf,
    root: &Path,
    out: &Path,
) -> Result<()> {
    write_atomic(&out.join("results.csv"), fig7_csv(tier, records).as_bytes())?;
    let (mut md, train_bars, test_bars) = fig7_table(tier, records);
    let mut files = Vec::new();
    let mut put = |name: String, drawn: Result<(Vec<u8>, String), plot::PlotError>| -> Result<()> {
        let (png, svg) = drawn.with_context(|| format!("drawing {name}"))?;
        write_atomic(&out.join(format!("{name}.png")), &png)?;
        write_atomic(&out.join(format!("{name}.svg")), svg.as_bytes())?;
        files.push(format!("{name}.png"));
        Ok(())
    };
    for (name, label, bars) in [
        ("fig7_train", "train MSE", &train_bars),
        ("fig7_test", "test rollout MSE", &test_bars),
    ] {
        let title = format!("fig7 ({tier} tier): {label} (standardised)");
        put(name.into(), plot::fig7_bars(&title, label, bars))?;
    }
    for env in ENVIRONMENTS {
        let Ok((_, test)) = load_dir(&root.join("mujoco-data").join(format!("{env}-{tier}")))
        else {
            continue;
        };
        // Seed 0's predicted test example, from its run directory's metrics.json.
        let predictions: Vec<(String, Vec<Vec<f64>>)> = ControlKind::ALL
            .iter()
            .filter_map(|&k| {
                let r = records
                    .iter()
                    .find(|r| r.run.env == env && r.run.model == k && r.run.seed == 0)?;
                let m = std::fs::read(dir_of(&r.run).join("metrics.json")).ok()?;
                let m: serde_json::Value = serde_json::from_slice(&m).ok()?;
                let rows = serde_json::from_value(m["test"]["example"].clone()).ok()?;
                Some((k.name().to_string(), rows))
            })
            .collect();
        let name = format!("fig7_rollout_{}", env.to_lowercase());
        put(name, plot::fig7_rollout(&test, &predictions))?;
    }
    md += &format!("\nFiles: {}\n", files.join(", "));
    write_atomic(&out.join("table.md"), md.as_bytes())?;
    println!("{md}");
    Ok(())
}
