//! `train`, `eval` and `compare`: files, devices and progress around the core's trainer.

use crate::commands::SystemArg;
use crate::output::{read, write_atomic, write_history};
use anyhow::{bail, Context, Result};
use burn::prelude::Device;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use phaselab_core::data::protocol::Protocol;
use phaselab_core::data::TrajectorySet;
use phaselab_core::models::{DynamicsModel, ModelConfig, ModelKind};
use phaselab_core::physics::System;
use phaselab_core::solve::Solver;
use phaselab_core::train::checkpoint::Normalisation;
use phaselab_core::train::{
    evaluate, train, Checkpoint, Evaluation, Loss, TrainConfig, TrainError,
};
use serde_json::json;
use std::path::{Path, PathBuf};

/// Checkpoint file name inside a run directory.
pub const CHECKPOINT: &str = "model.phaselab";

#[derive(Args, Clone)]
pub struct LearnArgs {
    /// Training epochs (the paper: 2000 and more; 4 steps per epoch with the default data).
    #[arg(long, default_value_t = 300)]
    epochs: usize,
    /// Hidden width of every MLP.
    #[arg(long, default_value_t = 256)]
    width: usize,
    /// Hidden layers of every MLP.
    #[arg(long, default_value_t = 2)]
    depth: usize,
    #[arg(long, default_value_t = 5e-3)]
    lr: f64,
    #[arg(long, default_value_t = 200)]
    batch: usize,
    /// l2 or l1.
    #[arg(long, default_value = "l2")]
    loss: String,
    /// euler[:k], rk4[:k] (classic) or rk4-38[:k] (3/8 rule, the reference's) steps per data interval.
    #[arg(long, default_value = "rk4-38")]
    solver: String,
    /// Symplectic penalty weight 1/alpha (node-so-symreg).
    #[arg(long, default_value_t = 1e3)]
    alpha: f64,
    /// Turn off the HNN family's stabiliser (as the reference, the field is zeroed in every
    /// component where |z| > 1e3, so runaway rollouts stop instead of overflowing).
    #[arg(long)]
    no_stabiliser: bool,
    /// Start every output bias at zero instead of the reference's PyTorch defaults (phaselab's
    /// earlier initialisation; for ablations).
    #[arg(long)]
    zero_output_biases: bool,
    /// Seed of the initial weights and the minibatch order.
    #[arg(long, default_value_t = 0)]
    model_seed: u64,
    /// Directory with train.npz and test.npz from `phaselab data gen`; default: generate.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Trajectories generated for training (without --data).
    #[arg(long, default_value_t = 1000)]
    n: usize,
    /// Test trajectories generated (without --data).
    #[arg(long, default_value_t = 200)]
    n_test: usize,
    /// Seed of the generated data.
    #[arg(long, default_value_t = 0)]
    data_seed: u64,
    /// cpu (burn flex) or wgpu (Vulkan/Metal/DX12 GPU).
    #[arg(long, default_value = "cpu")]
    device: String,
}

/// `--device`: cpu (burn flex) or wgpu.
pub fn parse_device(name: &str) -> Result<Device> {
    match name {
        "cpu" => Ok(Device::flex()),
        // Initialised here, so a machine without a usable GPU driver gets a message, not a panic.
        "wgpu" => crate::gpu::wgpu_device(),
        d => bail!("unknown --device '{d}' (cpu, wgpu)"),
    }
}

impl LearnArgs {
    fn device(&self) -> Result<Device> {
        parse_device(&self.device)
    }

    /// The settings a run was made with, for the files that report it.
    fn settings(&self) -> serde_json::Value {
        json!({"epochs": self.epochs, "width": self.width, "depth": self.depth, "lr": self.lr,
               "batch": self.batch, "loss": self.loss, "solver": self.solver, "model_seed": self.model_seed,
               "data": self.data, "n": self.n, "n_test": self.n_test, "data_seed": self.data_seed,
               "stabiliser": !self.no_stabiliser, "zero_output_biases": self.zero_output_biases,
               "phaselab_version": env!("CARGO_PKG_VERSION"), "git_commit": env!("PHASELAB_GIT_COMMIT")})
    }

    fn train_config(&self) -> Result<TrainConfig> {
        if !(self.lr.is_finite() && self.lr > 0.0 && self.lr <= 1.0) {
            bail!("--lr must be in (0, 1], got {}", self.lr);
        }
        if self.epochs == 0 || self.epochs > 1_000_000 || self.batch == 0 {
            bail!("--epochs must be in 1..=1000000 and --batch >= 1");
        }
        if self.width == 0 || self.width > 4096 || self.depth == 0 || self.depth > 16 {
            bail!("--width must be in 1..=4096 and --depth in 1..=16");
        }
        if !(self.alpha.is_finite() && self.alpha > 0.0) {
            bail!("--alpha must be positive, got {}", self.alpha);
        }
        Ok(TrainConfig {
            epochs: self.epochs,
            batch: self.batch,
            lr: self.lr,
            loss: self.loss.parse::<Loss>().map_err(anyhow::Error::msg)?,
            solver: self.solver.parse::<Solver>().map_err(anyhow::Error::msg)?,
            seed: self.model_seed,
            ..TrainConfig::default()
        })
    }

    fn model_config(&self, kind: ModelKind, sys: &dyn System) -> ModelConfig {
        ModelConfig {
            width: self.width,
            depth: self.depth,
            alpha: self.alpha,
            seed: self.model_seed,
            stabiliser: kind.is_hamiltonian() && !self.no_stabiliser,
            zero_output_biases: self.zero_output_biases,
            ..ModelConfig::new(kind, sys.dof(), sys.angular())
        }
    }

    /// Train one model of `kind` with these settings into `out`.
    fn run(
        &self,
        kind: ModelKind,
        sys: &dyn System,
        tr: &TrajectorySet,
        te: &TrajectorySet,
        out: &Path,
    ) -> Result<(Evaluation, usize, f64)> {
        let mc = self.model_config(kind, sys);
        let t = train_one(
            mc,
            &self.train_config()?,
            &self.device()?,
            sys,
            tr,
            te,
            out,
            true,
        )?;
        Ok((t.eval, t.parameters, t.seconds))
    }

    /// Train and test sets: read from --data or generated with the paper's protocol.
    fn datasets(&self, sys: &dyn System) -> Result<(TrajectorySet, TrajectorySet)> {
        if let Some(dir) = &self.data {
            let load = |name: &str| -> Result<TrajectorySet> {
                let p = dir.join(name);
                TrajectorySet::from_npz(&read(&p)?)
                    .with_context(|| format!("{} is not a valid dataset", p.display()))
            };
            let (tr, te) = (load("train.npz")?, load("test.npz")?);
            if tr.meta.system != sys.name() {
                bail!(
                    "{} holds {} data, not {}",
                    dir.display(),
                    tr.meta.system,
                    sys.name()
                );
            }
            return Ok((tr, te));
        }
        let p = Protocol {
            n_trajectories: self.n,
            n_test: self.n_test,
            seed: self.data_seed,
            ..Protocol::default()
        };
        let s = p.generate(sys, &|_| {})?;
        Ok((s.train, s.test))
    }
}

fn bar(epochs: usize, model: &str) -> ProgressBar {
    let pb = ProgressBar::new(epochs as u64);
    pb.set_style(
        ProgressStyle::with_template("{prefix:>14} [{bar:25}] epoch {pos}/{len} {msg} ETA {eta}")
            .expect("template")
            .progress_chars("=> "),
    );
    pb.set_prefix(model.to_string());
    pb
}

/// What `train_one` leaves besides its files.
pub struct Trained {
    pub eval: Evaluation,
    pub parameters: usize,
    pub seconds: f64,
    pub history: Vec<phaselab_core::train::EpochStats>,
}

/// Train one model into `out`: checkpoint (written atomically every 25 epochs, at the end, and on
/// divergence with the last model whose loss was finite), loss history, metrics. A divergence is
/// an error that downcasts to `TrainError::Diverged`.
pub fn train_one(
    mc: ModelConfig,
    cfg: &TrainConfig,
    device: &Device,
    sys: &dyn System,
    train_set: &TrajectorySet,
    test: &TrajectorySet,
    out: &Path,
    show_progress: bool,
) -> Result<Trained> {
    let kind = mc.kind;
    let cfg = cfg.clone();
    let model = mc.init(&device.clone().autodiff());
    let n_params = model.n_params();
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let record = |epochs_done: usize, loss: f64| {
        json!({"system": sys.name(), "train_file_seed": train_set.meta.seed, "n_train": train_set.n, "chunk": train_set.t,
               "dt": train_set.dt, "epochs_done": epochs_done, "final_loss": loss, "config": cfg})
    };
    let pb = bar(cfg.epochs, kind.name());
    if !show_progress {
        pb.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let start = std::time::Instant::now();
    let mut save_error = None;
    let mut on_epoch = |s: &phaselab_core::train::EpochStats, m: &DynamicsModel| {
        pb.set_position(s.epoch as u64);
        pb.set_message(format!("loss {:.3e} lr {:.1e}", s.loss, s.lr));
        let last = s.epoch == cfg.epochs;
        if last || s.epoch % 25 == 0 {
            let r = Checkpoint::from_model(
                m,
                Normalisation::identity(2 * sys.dof()),
                record(s.epoch, s.loss),
            )
            .map_err(anyhow::Error::from)
            .and_then(|c| write_atomic(&out.join(CHECKPOINT), &c.to_bytes()));
            if let Err(e) = r {
                save_error = Some(e);
                return false;
            }
        }
        true
    };
    let outcome = train(
        model,
        train_set,
        &cfg,
        &device.clone().autodiff(),
        &mut on_epoch,
    );
    pb.finish_and_clear();
    if let Some(e) = save_error {
        return Err(e.context("saving the checkpoint"));
    }
    let secs = start.elapsed().as_secs_f64();
    write_history(out, &outcome.history)?;
    if let Some(e) = outcome.error {
        if let TrainError::Diverged { epoch, .. } = e {
            // Keep the last model whose loss was finite.
            let done = epoch.saturating_sub(1);
            let norm = Normalisation::identity(2 * sys.dof());
            let ck = Checkpoint::from_model(&outcome.model, norm, record(done, f64::NAN))?;
            write_atomic(&out.join(CHECKPOINT), &ck.to_bytes())?;
            let path = out.join(CHECKPOINT);
            let msg = format!(
                "{kind}: {e}; {} holds the last model with a finite loss",
                path.display()
            );
            return Err(anyhow::Error::new(e).context(msg));
        }
        bail!("{kind}: {e}");
    }
    let ev = evaluate(&outcome.model, test, &cfg.solver, device).map_err(anyhow::Error::msg)?;
    let metrics = json!({"model": kind.name(), "system": sys.name(), "parameters": n_params, "train_seconds": secs,
        "seconds_per_epoch": secs / cfg.epochs as f64, "final_loss": outcome.history.last().map(|h| h.loss), "test": ev});
    write_atomic(
        &out.join("metrics.json"),
        serde_json::to_string_pretty(&metrics)?.as_bytes(),
    )?;
    Ok(Trained {
        eval: ev,
        parameters: n_params,
        seconds: secs,
        history: outcome.history,
    })
}

#[derive(Args)]
pub struct TrainArgs {
    #[command(flatten)]
    system: SystemArg,
    /// Model: node, node-so, node-so-direct, node-so-symreg, hnn, hnn-general, hnn-forced.
    #[arg(long, short)]
    model: String,
    #[command(flatten)]
    learn: LearnArgs,
    /// Output directory (model.phaselab, metrics.json, history.csv).
    #[arg(long, short)]
    out: PathBuf,
}

pub fn train_cmd(a: TrainArgs) -> Result<()> {
    let sys = a.system.build()?;
    let kind: ModelKind = a.model.parse().map_err(anyhow::Error::msg)?;
    a.learn.train_config()?;
    let (tr, te) = a.learn.datasets(sys.as_ref())?;
    let (ev, n, secs) = a.learn.run(kind, sys.as_ref(), &tr, &te, &a.out)?;
    print_table(&[(kind, ev, n, secs)]);
    println!("wrote {}", a.out.display());
    Ok(())
}

#[derive(Args)]
pub struct EvalArgs {
    /// A run directory from `phaselab train` (or a checkpoint file).
    run: PathBuf,
    /// Test data (.npz).
    #[arg(long)]
    data: PathBuf,
    /// Solver for the rollouts (default: the one the model was trained with).
    #[arg(long)]
    solver: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn eval_cmd(a: EvalArgs) -> Result<()> {
    let path = if a.run.is_dir() {
        a.run.join(CHECKPOINT)
    } else {
        a.run.clone()
    };
    let ck = Checkpoint::from_bytes(&read(&path)?)
        .with_context(|| format!("{} is not a usable checkpoint", path.display()))?;
    let device = Device::flex();
    let model = ck
        .model(&device)
        .with_context(|| format!("loading {}", path.display()))?;
    let test = TrajectorySet::from_npz(&read(&a.data)?)
        .with_context(|| format!("{} is not a valid dataset", a.data.display()))?;
    let trained: Option<Solver> = ck
        .meta
        .training
        .get("config")
        .and_then(|c| serde_json::from_value::<TrainConfig>(c.clone()).ok())
        .map(|c| c.solver);
    let solver = match &a.solver {
        Some(s) => s.parse::<Solver>().map_err(anyhow::Error::msg)?,
        None => trained.unwrap_or_default(),
    };
    let ev = evaluate(&model, &test, &solver, &device).map_err(anyhow::Error::msg)?;
    let report = json!({"model": ck.meta.model.kind, "checkpoint": path, "data": a.data, "solver": solver.to_string(), "test": ev});
    let json_path = path.with_file_name("eval.json");
    write_atomic(
        &json_path,
        serde_json::to_string_pretty(&report)?.as_bytes(),
    )?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&[(ck.meta.model.kind, ev, model.n_params(), f64::NAN)]);
        println!("wrote {}", json_path.display());
    }
    Ok(())
}

#[derive(Args)]
pub struct CompareArgs {
    #[command(flatten)]
    system: SystemArg,
    /// Comma-separated models.
    #[arg(long, default_value = "node,node-so,hnn")]
    models: String,
    #[command(flatten)]
    learn: LearnArgs,
    /// Output directory (one run directory per model, compare.json).
    #[arg(long, short, default_value = "out/compare")]
    out: PathBuf,
}

pub fn compare_cmd(a: CompareArgs) -> Result<()> {
    let sys = a.system.build()?;
    let kinds: Vec<ModelKind> = a
        .models
        .split(',')
        .map(|m| m.trim().parse::<ModelKind>())
        .collect::<Result<_, _>>()
        .map_err(anyhow::Error::msg)?;
    a.learn.train_config()?;
    let (tr, te) = a.learn.datasets(sys.as_ref())?;
    println!(
        "{}: {} training chunks of {} points, {} test chunks of {} points; {} epochs, width {}",
        sys.name(),
        tr.n,
        tr.t,
        te.n,
        te.t,
        a.learn.epochs,
        a.learn.width
    );
    let mut rows = Vec::new();
    for k in kinds {
        match a
            .learn
            .run(k, sys.as_ref(), &tr, &te, &a.out.join(k.name()))
        {
            Ok((ev, n, s)) => rows.push((k, ev, n, s)),
            Err(e) => eprintln!("{e:#}"),
        }
    }
    rows.sort_by(|x, y| x.1.gerr.total_cmp(&y.1.gerr));
    let summary: Vec<_> = rows.iter().map(|(k, ev, n, s)| json!({"model": k.name(), "parameters": n, "train_seconds": s, "test": ev})).collect();
    write_atomic(
        &a.out.join("compare.json"),
        serde_json::to_string_pretty(&json!({"system": sys.name(), "settings": a.learn.settings(),
            "optimiser_steps": a.learn.epochs * phaselab_core::train::steps_per_epoch(tr.n, a.learn.batch), "runs": summary}))?.as_bytes(),
    )?;
    print_table(&rows);
    if rows.is_empty() {
        bail!("no model finished training");
    }
    Ok(())
}

fn opt(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.3e}")).unwrap_or_else(|| "-".into())
}

/// Ranked table: rollout error, energy violation, MSE, parameters, time.
fn print_table(rows: &[(ModelKind, Evaluation, usize, f64)]) {
    println!(
        "{:<16} {:>10} {:>10} {:>10} {:>10} {:>9} {:>9}",
        "model", "gerr", "Herr", "MSE", "symp.err", "params", "train s"
    );
    for (k, ev, n, s) in rows {
        let t = if s.is_finite() {
            format!("{s:.1}")
        } else {
            "-".into()
        };
        println!(
            "{:<16} {:>10.3e} {:>10} {:>10.3e} {:>10} {:>9} {:>9}",
            k.name(),
            ev.gerr,
            opt(ev.herr),
            ev.mse,
            opt(ev.symplectic_error),
            n,
            t
        );
    }
}
