//! `phaselab control` (train and score the control-aware models on a dataset with actions) and
//! what `phaselab reproduce fig7` needs beyond the other figures: its MuJoCo datasets (made by
//! tools/mujoco once per environment and tier, under a lock), the training of a group of its runs
//! into records, and the inputs of its rollout drawings. Training goes through the core's run
//! path (`train::run::train_runs`), as for every other model; this module writes the files.

use crate::learn::train_into;
use crate::output::read;
use anyhow::{bail, Context, Result};
use burn::prelude::Device;
use clap::Args;
use phaselab_core::data::reference_layout::{from_reference_npy, task_dt};
use phaselab_core::data::TrajectorySet;
use phaselab_core::experiments::mujoco::{Fig7Settings, ENVIRONMENTS};
use phaselab_core::experiments::record::RunRecord;
use phaselab_core::experiments::{RunSpec, Tier};
use phaselab_core::models::{ControlConfig, ControlKind};
use phaselab_core::plot::figures::Fig7Rollout;
use phaselab_core::train::run::{ControlMetrics, Run};
use phaselab_core::train::{fit_standardisation, mujoco_train_config, TrainConfig};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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

/// Fit the standardisation, train, score on train and test; write history.csv and metrics.json
/// into `out`. The run's metrics, or why it has none.
pub fn train_control(
    mut mc: ControlConfig,
    cfg: &TrainConfig,
    train_set: &Arc<TrajectorySet>,
    test: &Arc<TrajectorySet>,
    out: &Path,
    show_progress: bool,
) -> Result<ControlMetrics> {
    fit_standardisation(&mut mc, train_set).map_err(anyhow::Error::msg)?;
    let kind = mc.kind;
    let run = Run {
        model: mc,
        train: cfg.clone(),
        train_set: train_set.clone(),
        test: test.clone(),
    };
    let dirs = [out.to_path_buf()];
    let mut results = train_into(vec![run], &dirs, &Device::flex(), show_progress, false)?;
    let r = results.pop().context("one run trained")?;
    r.outcome.map_err(|e| anyhow::anyhow!("{kind}: {e}"))
}

pub fn control_cmd(a: ControlArgs) -> Result<()> {
    let (train_set, test) = match (&a.data, &a.reference) {
        (Some(d), None) => load_dir(d)?,
        (None, Some(r)) => load_reference(r, a.task.as_deref().unwrap_or_default(), a.dt)?,
        _ => bail!("give --data DIR (train.npz, test.npz) or --reference DIR --task TASK"),
    };
    let (train_set, test) = (Arc::new(train_set), Arc::new(test));
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
    rows.sort_by(|x, y| x.1.test_mse.total_cmp(&y.1.test_mse));
    println!("\n| rank | model | test MSE (standardised) | train MSE | parameters | seconds |");
    println!("|---|---|---|---|---|---|");
    for (i, (k, r)) in rows.iter().enumerate() {
        println!(
            "| {} | {k} | {:.4e} | {:.4e} | {} | {:.1} |",
            i + 1,
            r.test_mse,
            r.train_mse,
            r.parameters,
            r.train_seconds
        );
    }
    println!("\nwrote {}", a.out.display());
    Ok(())
}

/// The MuJoCo data generator used when `--mujoco-generator` is not given: tools/mujoco/run.sh of
/// the repository this binary was built from.
pub fn default_mujoco_generator() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/mujoco/run.sh")
}

/// `generator` if it is a file, as an absolute path without `..` (what a plan's tasks on other
/// machines run); an error naming it and the flag otherwise.
pub fn checked_generator(generator: &Path) -> Result<PathBuf> {
    if !generator.is_file() {
        bail!(
            "the MuJoCo data generator {} does not exist: give tools/mujoco/run.sh of a phaselab checkout with --mujoco-generator PATH",
            generator.display()
        );
    }
    std::fs::canonicalize(generator)
        .with_context(|| format!("cannot resolve {}", generator.display()))
}

/// The dataset of `env` at `tier`'s sizes `s`, in `<out>/mujoco-data/<env>-<tier>`: generated
/// with `generator` (tools/mujoco/run.sh) when missing, once, under a lock on
/// `<out>/locks/mujoco-data.lock` (one generation at a time: the generator's own environment is
/// shared), into a temporary directory moved into place when complete, so processes and tasks
/// on other machines sharing `out` never generate it twice nor read half of it.
pub fn fig7_data(
    env: &str,
    tier: Tier,
    s: &Fig7Settings,
    out: &Path,
    generator: &Path,
) -> Result<(TrajectorySet, TrajectorySet)> {
    let root = out.join("mujoco-data");
    let dir = root.join(format!("{env}-{tier}"));
    if !dir.join("test.npz").exists() {
        let _lock = crate::tasks::lock(&out.join("locks").join("mujoco-data.lock"), true)?;
        // Another process may have made it while this one waited.
        if !dir.join("test.npz").exists() {
            let script = checked_generator(generator)?;
            let tmp = root.join(format!(".{env}-{tier}.{}.tmp", std::process::id()));
            let _ = std::fs::remove_dir_all(&tmp);
            println!(
                "generating {env} data with the real MuJoCo engine -> {}",
                dir.display()
            );
            let status = std::process::Command::new("bash")
                .arg(&script)
                .args(["generate", "--env", env, "--out"])
                .arg(&tmp)
                .args(["--train-chunks", &s.train_chunks.to_string()])
                .args(["--test-trajectories", &s.test_trajectories.to_string()])
                .args(["--test-length", &s.test_length.to_string()])
                .args(["--seed", "0"])
                .status()
                .with_context(|| format!("running {}", script.display()))?;
            if !status.success() {
                let _ = std::fs::remove_dir_all(&tmp);
                bail!(
                    "the MuJoCo generator {} failed for {env} ({status})",
                    script.display()
                );
            }
            // A directory left by an older, interrupted generation has no test.npz: replaced.
            if dir.exists() {
                std::fs::remove_dir_all(&dir)
                    .with_context(|| format!("cannot replace {}", dir.display()))?;
            }
            std::fs::rename(&tmp, &dir)
                .with_context(|| format!("cannot move {} into place", dir.display()))?;
        }
    }
    load_dir(&dir)
}

/// fig7's runs `specs` on their environments' `data` (train, test), standardisations fitted:
/// one population.
pub fn fig7_runs(
    specs: &[&RunSpec],
    data: &[&(Arc<TrajectorySet>, Arc<TrajectorySet>)],
) -> Result<Vec<Run<ControlConfig>>> {
    let mut runs = Vec::with_capacity(specs.len());
    for (sp, (train_set, test)) in specs.iter().zip(data.iter().copied()) {
        let Some((kind, s)) = sp.control() else {
            bail!("{} is not a run of a control-aware model", sp.id());
        };
        let mut mc = ControlConfig {
            width: s.width,
            seed: sp.seed,
            ..ControlConfig::new(kind, train_set.d, train_set.n_controls())
        };
        fit_standardisation(&mut mc, train_set).map_err(anyhow::Error::msg)?;
        runs.push(Run {
            model: mc,
            train: TrainConfig {
                epochs: s.epochs,
                seed: sp.seed,
                ..mujoco_train_config()
            },
            train_set: train_set.clone(),
            test: test.clone(),
        });
    }
    Ok(runs)
}

/// What fig7's rollout drawings need: per environment whose dataset is in
/// `<out>/mujoco-data/<env>-<tier>`, its test set and seed 0's prediction of its first
/// trajectory by each model, from that run's metrics.json in `<out>/runs` (where still there).
pub fn fig7_rollouts(tier: Tier, records: &[RunRecord], out: &Path) -> Vec<Fig7Rollout> {
    let mut rollouts = Vec::new();
    for env in ENVIRONMENTS {
        let Ok((_, test)) = load_dir(&out.join("mujoco-data").join(format!("{env}-{tier}"))) else {
            continue;
        };
        let predictions: Vec<(String, Vec<Vec<f64>>)> = ControlKind::ALL
            .iter()
            .filter_map(|&k| {
                let r = records
                    .iter()
                    .find(|r| r.spec.system == env && r.spec.model == k && r.spec.seed == 0)?;
                let m =
                    std::fs::read(out.join("runs").join(r.spec.id()).join("metrics.json")).ok()?;
                let m: serde_json::Value = serde_json::from_slice(&m).ok()?;
                let rows = serde_json::from_value(m["test"]["example"].clone()).ok()?;
                Some((k.name().to_string(), rows))
            })
            .collect();
        rollouts.push(Fig7Rollout {
            env: env.to_string(),
            test,
            predictions,
        });
    }
    rollouts
}
