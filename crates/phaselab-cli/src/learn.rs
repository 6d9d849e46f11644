//! `train`, `eval` and `compare`: files, devices and progress around the core's trainer.

use crate::commands::SystemArg;
use crate::output::{read, write_atomic, write_history, write_json, write_steps};
use anyhow::{bail, Context, Result};
use burn::prelude::Device;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use phaselab_core::data::cartesian::{in_coordinates, to_cartesian};
use phaselab_core::data::protocol::Protocol;
use phaselab_core::data::{Coordinates, TrajectorySet};
use phaselab_core::experiments::comparison::{
    CompareSettings, ComparedRun, Comparison, REFERENCE_SOLVER,
};
use phaselab_core::models::{DynamicsModel, ModelConfig, ModelKind};
use phaselab_core::physics::{System, SystemSpec};
use phaselab_core::solve::Solver;
use phaselab_core::train::run::{
    train_runs, Run, RunConfig, RunFailure, RunResult, RunSink, CHECKPOINT_EVERY,
};
use phaselab_core::train::{
    evaluate, Checkpoint, EpochStats, EvalReport, Evaluation, Loss, StepTrace, TrainConfig,
    TrainError,
};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A data seed's training and test sets, shared by the runs on them.
type SeedData = (u64, Arc<TrajectorySet>, Arc<TrajectorySet>);

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
    /// Warm the learning rate up linearly over this many epochs (fractional allowed) before the
    /// cosine schedule; 0, the reference's protocol, has no warm-up. Some HNN runs blow up in
    /// their first full-size steps without one (docs/results/RESULTS.md).
    #[arg(long, default_value_t = 0.0)]
    warmup: f64,
    /// Leave out of training every chunk with a velocity beyond this in any coordinate (the test
    /// set stays whole). A diagnosis, off by default: near the poles of Euler or spherical angles
    /// the rates grow without bound, and those chunks make some runs diverge (RESULTS.md).
    #[arg(long)]
    max_speed: Option<f64>,
    #[arg(long, default_value_t = 200)]
    batch: usize,
    /// l2 or l1.
    #[arg(long, default_value = "l2")]
    loss: String,
    /// euler[:k], rk4[:k] (classic) or rk4-38[:k] (3/8 rule, the reference's) steps per data interval.
    #[arg(long, default_value = REFERENCE_SOLVER)]
    solver: String,
    /// Symplectic penalty weight 1/alpha (node-so-symreg).
    #[arg(long, default_value_t = 1e3)]
    alpha: f64,
    /// Turn off the stabilisers: the HNN family's (as the reference, the field is zeroed in every
    /// component where |z| > 1e3, so runaway rollouts stop instead of overflowing) and that of
    /// constrained-node-so and clnn (a damping of the velocity constraints' drift).
    #[arg(long)]
    no_stabiliser: bool,
    /// Start every output bias at zero instead of the reference's PyTorch defaults (phaselab's
    /// earlier initialisation; for ablations).
    #[arg(long)]
    zero_output_biases: bool,
    /// hnn-general only: keep the mass matrix that turns v into p = M(q) v at the model's edges
    /// (and back) at its initial weights instead of training it as the reference does. A remedy
    /// for its divergences, off by default: trained, that mass drifts until it overflows
    /// (docs/results/RESULTS.md).
    #[arg(long)]
    fixed_edge_mass: bool,
    /// Seed of the initial weights and the minibatch order.
    #[arg(long, default_value_t = 0)]
    model_seed: u64,
    /// Data from `phaselab data gen`: its directory (train.npz and test.npz), or its train.npz
    /// file (test.npz is read beside it); default: generate.
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
    /// Train several weight seeds (each with its own minibatch order) as one population: a list
    /// or a range, e.g. 0,1,2 or 0..3 (instead of --model-seed). Each run gets its own directory.
    #[arg(long)]
    seeds: Option<String>,
    /// Train on several generated data sets of the same size (instead of --data-seed), e.g. 0..3;
    /// with --seeds, every pair of a weight seed and a data seed is a run.
    #[arg(long)]
    data_seeds: Option<String>,
    /// Most runs trained together as one population (more runs go in several); 1 trains them
    /// one at a time, as separate computations.
    #[arg(long, default_value_t = 1)]
    population: usize,
    /// cpu (burn flex) or wgpu (Vulkan/Metal/DX12 GPU).
    #[arg(long, default_value = "cpu")]
    device: String,
    /// generalised, or cartesian: train on the positions and velocities of the system's body
    /// points (the same trajectories; e.g. `--model node --coordinates cartesian` is a Cartesian
    /// NODE). With --data, the file's coordinates must match.
    #[arg(long, default_value = "generalised")]
    coordinates: String,
    /// Trace every optimiser step into steps.csv in the run's directory: its loss, gradient norm
    /// before the clip, largest weight, and the largest model state, field and rollout on its
    /// minibatch (and the learned mass factor's extremes). For finding out why a run diverges;
    /// slower, a single run at a time (no --population), and it changes none of the run's numbers.
    #[arg(long)]
    trace: bool,
}

/// A seed list `0,1,2` or a half-open range `0..3`.
pub fn parse_seeds(s: &str) -> Result<Vec<u64>> {
    let bad = || anyhow::anyhow!("bad seed list '{s}': give seeds like 0,1,2 or a range like 0..3");
    let seeds: Vec<u64> = if let Some((a, b)) = s.split_once("..") {
        let (a, b): (u64, u64) = (
            a.trim().parse().map_err(|_| bad())?,
            b.trim().parse().map_err(|_| bad())?,
        );
        (a..b).collect()
    } else {
        s.split(',')
            .map(|x| x.trim().parse::<u64>().map_err(|_| bad()))
            .collect::<Result<_>>()?
    };
    if seeds.is_empty() || seeds.len() > 1000 {
        bail!("seed list '{s}' must name 1 to 1000 seeds");
    }
    let mut sorted = seeds.clone();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != seeds.len() {
        bail!("seed list '{s}' names a seed twice");
    }
    Ok(seeds)
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
    fn settings(&self) -> CompareSettings {
        CompareSettings {
            epochs: self.epochs,
            width: self.width,
            depth: self.depth,
            lr: self.lr,
            warmup: self.warmup,
            max_speed: self.max_speed,
            batch: self.batch,
            loss: self.loss.clone(),
            solver: self.solver.clone(),
            model_seed: self.model_seed,
            data: self.data.clone(),
            n: self.n,
            n_test: self.n_test,
            data_seed: self.data_seed,
            stabiliser: !self.no_stabiliser,
            zero_output_biases: self.zero_output_biases,
            fixed_edge_mass: self.fixed_edge_mass,
            seeds: self.seeds.clone(),
            data_seeds: self.data_seeds.clone(),
            phaselab_version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: env!("PHASELAB_GIT_COMMIT").to_string(),
        }
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
        if self.population == 0 {
            bail!("--population must be at least 1");
        }
        if !(self.warmup.is_finite() && self.warmup >= 0.0 && self.warmup <= self.epochs as f64) {
            bail!(
                "--warmup must be between 0 and --epochs ({}), got {}",
                self.epochs,
                self.warmup
            );
        }
        if let Some(v) = self.max_speed {
            if !(v.is_finite() && v > 0.0) {
                bail!("--max-speed must be a positive speed, got {v}");
            }
        }
        self.runs()?;
        Ok(TrainConfig {
            epochs: self.epochs,
            batch: self.batch,
            lr: self.lr,
            loss: self.loss.parse::<Loss>().map_err(anyhow::Error::msg)?,
            solver: self.solver.parse::<Solver>().map_err(anyhow::Error::msg)?,
            seed: self.model_seed,
            warmup: self.warmup,
            ..TrainConfig::default()
        })
    }

    /// The flags that belong to one model are asked for with it.
    fn check_models(&self, kinds: &[ModelKind]) -> Result<()> {
        if self.fixed_edge_mass && !kinds.contains(&ModelKind::HnnGeneral) {
            bail!("--fixed-edge-mass is hnn-general's (the only model whose mass serves only at its edges)");
        }
        Ok(())
    }

    /// The model of `kind` for data `set` (its coordinates: D and which are angles).
    fn model_config(&self, kind: ModelKind, set: &TrajectorySet) -> ModelConfig {
        ModelConfig {
            width: self.width,
            depth: self.depth,
            alpha: self.alpha,
            seed: self.model_seed,
            stabiliser: kind.has_stabiliser() && !self.no_stabiliser,
            zero_output_biases: self.zero_output_biases,
            fixed_edge_mass: self.fixed_edge_mass && kind == ModelKind::HnnGeneral,
            ..ModelConfig::for_data(kind, set)
        }
    }

    /// The (weight seed, data seed) of every run these settings ask for.
    fn runs(&self) -> Result<Vec<(u64, u64)>> {
        let weights = match &self.seeds {
            Some(s) => parse_seeds(s)?,
            None => vec![self.model_seed],
        };
        let data = match &self.data_seeds {
            Some(_) if self.data.is_some() => {
                bail!("--data-seeds generates data; it cannot go with --data")
            }
            Some(s) => parse_seeds(s)?,
            None => vec![self.data_seed],
        };
        Ok(data
            .iter()
            .flat_map(|&d| weights.iter().map(move |&w| (w, d)))
            .collect())
    }

    /// Train every run of `kind` (see [`Self::runs`]) into `out` (or, for several runs,
    /// `out/seed<w>-data<d>`), in populations of at most --population; each run's row or failure.
    fn run_all(
        &self,
        kind: ModelKind,
        data: &[SeedData],
        out: &Path,
    ) -> Result<Vec<(String, Result<(Evaluation, usize, f64)>)>> {
        let data = &data_for(kind, data)?;
        let runs = self.runs()?;
        let cfg = self.train_config()?;
        let device = self.device()?;
        let several = runs.len() > 1;
        let mut results = Vec::new();
        for group in runs.chunks(self.population) {
            let mut labels = Vec::new();
            let mut dirs = Vec::new();
            let mut members = Vec::new();
            for &(w, d) in group {
                let (_, train_set, test) = data
                    .iter()
                    .find(|x| x.0 == d)
                    .expect("every data seed generated");
                labels.push(if several {
                    format!("{kind} seed {w} data {d}")
                } else {
                    kind.name().to_string()
                });
                dirs.push(if several {
                    out.join(format!("seed{w}-data{d}"))
                } else {
                    out.to_path_buf()
                });
                members.push(Run {
                    model: ModelConfig {
                        seed: w,
                        ..self.model_config(kind, train_set)
                    },
                    train: TrainConfig {
                        seed: w,
                        ..cfg.clone()
                    },
                    train_set: train_set.clone(),
                    test: test.clone(),
                });
            }
            let trained = train_into(members, &dirs, &device, true, self.trace)?;
            for ((label, dir), r) in labels.into_iter().zip(&dirs).zip(trained) {
                let row = r
                    .outcome
                    .map_err(|e| failure(e, dir))
                    .map(|m| (m.test, r.parameters, r.seconds));
                results.push((label, row));
            }
        }
        Ok(results)
    }

    /// Train and test sets of every data seed: read from --data or generated with the paper's
    /// protocol.
    fn datasets(&self, sys: &dyn System) -> Result<Vec<SeedData>> {
        let coordinates: Coordinates = self.coordinates.parse().map_err(anyhow::Error::msg)?;
        if let Some(given) = &self.data {
            let load = |p: &Path| -> Result<TrajectorySet> {
                TrajectorySet::from_npz(&read(p)?)
                    .with_context(|| format!("{} is not a valid dataset", p.display()))
            };
            // A directory holds train.npz and test.npz; a file is the training set, with the
            // test.npz beside it.
            let (train_path, dir) = if given.is_file() {
                let dir = given.parent().unwrap_or(Path::new(".")).to_path_buf();
                (given.clone(), dir)
            } else {
                (given.join("train.npz"), given.clone())
            };
            let (tr, te) = (load(&train_path)?, load(&dir.join("test.npz"))?);
            if tr.meta.system != sys.name() {
                bail!(
                    "{} holds {} data, not {}",
                    dir.display(),
                    tr.meta.system,
                    sys.name()
                );
            }
            if tr.meta.coordinates != coordinates || te.meta.coordinates != coordinates {
                bail!(
                    "{} holds data in {} coordinates, not {} (--coordinates)",
                    dir.display(),
                    tr.meta.coordinates.name(),
                    coordinates.name()
                );
            }
            return Ok(vec![(
                self.data_seed,
                Arc::new(self.capped(tr)?),
                Arc::new(te),
            )]);
        }
        let mut seeds: Vec<u64> = self.runs()?.iter().map(|r| r.1).collect();
        seeds.dedup();
        seeds
            .into_iter()
            .map(|seed| {
                let p = Protocol {
                    n_trajectories: self.n,
                    n_test: self.n_test,
                    seed,
                    ..Protocol::default()
                };
                let s = p.generate(sys, &|_| {})?;
                let (train, test) = match coordinates {
                    Coordinates::Generalised => (s.train, s.test),
                    Coordinates::Cartesian => {
                        (to_cartesian(&s.train, sys)?, to_cartesian(&s.test, sys)?)
                    }
                };
                Ok((seed, Arc::new(self.capped(train)?), Arc::new(test)))
            })
            .collect()
    }

    /// The training set without its chunks beyond `--max-speed`, saying how many were left out.
    fn capped(&self, train: TrajectorySet) -> Result<TrajectorySet> {
        let Some(max) = self.max_speed else {
            return Ok(train);
        };
        let kept = train.within_speed(max);
        if kept.n == 0 {
            bail!(
                "--max-speed {max} leaves none of the {} training chunks (a slower one is needed)",
                train.n
            );
        }
        eprintln!(
            "--max-speed {max}: {} of {} training chunks kept ({} left out)",
            kept.n,
            train.n,
            train.n - kept.n
        );
        Ok(kept)
    }
}

/// The data `kind` learns from: a constrained model's are the body points of the same
/// trajectories (made here from generalised data, so it needs no flag).
fn data_for(kind: ModelKind, data: &[SeedData]) -> Result<Vec<SeedData>> {
    data.iter()
        .map(|(seed, train, test)| Ok((*seed, data_of(kind, train)?, data_of(kind, test)?)))
        .collect()
}

/// `set` as `kind` learns from it: a constrained model's as body points.
fn data_of(kind: ModelKind, set: &Arc<TrajectorySet>) -> Result<Arc<TrajectorySet>> {
    if set.meta.coordinates == Coordinates::Cartesian {
        return Ok(set.clone());
    }
    in_coordinates(set, kind.coordinates()).with_context(|| format!("{kind}'s data"))
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

/// The run directories' files as the core's run path hands them over: each checkpoint written
/// atomically over the last, the step trace (rewritten at the checkpoints' cadence and at the
/// end, so a long trace is not rewritten every epoch) and the progress bar.
struct RunFiles<'a> {
    dirs: &'a [PathBuf],
    bar: ProgressBar,
    /// The traced steps so far, when the run is traced.
    trace: Option<Vec<StepTrace>>,
    /// The first error writing the trace (reported at the end; training goes on).
    trace_error: Option<anyhow::Error>,
}

impl RunSink for RunFiles<'_> {
    fn checkpoint(&mut self, run: usize, ck: &Checkpoint) -> Result<(), String> {
        write_atomic(&self.dirs[run].join(CHECKPOINT), &ck.to_bytes()).map_err(|e| format!("{e:#}"))
    }

    fn traces_steps(&self) -> bool {
        self.trace.is_some()
    }

    fn steps(&mut self, steps: &[StepTrace]) {
        let Some(all) = self.trace.as_mut() else {
            return;
        };
        all.extend_from_slice(steps);
        let due = steps
            .last()
            .is_some_and(|s| s.epoch % CHECKPOINT_EVERY == 0);
        if due && self.trace_error.is_none() {
            self.trace_error = write_steps(&self.dirs[0], all).err();
        }
    }

    fn progress(&mut self, epoch: usize, stats: Option<&EpochStats>) {
        self.bar.set_position(epoch as u64);
        if let Some(s) = stats {
            self.bar
                .set_message(format!("loss {:.3e} lr {:.1e}", s.loss, s.lr));
        }
    }
}

/// Train `runs` (one system or environment, one architecture) as one population with the core's
/// [`train_runs`], run k into `dirs[k]`: its checkpoint where its kind has a format (every 25
/// epochs, at the end, and on divergence the last model whose loss was finite), history.csv and,
/// once scored, metrics.json (its keys sorted). Each run's result, finished or not.
pub fn train_into<C: RunConfig>(
    runs: Vec<Run<C>>,
    dirs: &[PathBuf],
    device: &Device,
    show_progress: bool,
    trace: bool,
) -> Result<Vec<RunResult<C::Metrics>>>
where
    C::Metrics: Serialize,
{
    for d in dirs {
        std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
    }
    let kind = runs[0].model.label();
    let label = match runs.len() {
        1 => kind,
        k => format!("{kind} x{k}"),
    };
    let bar = bar(runs[0].train.epochs, &label);
    if !show_progress {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    if trace && runs.len() > 1 {
        bail!("--trace follows one run at a time: leave out --population");
    }
    let mut files = RunFiles {
        dirs,
        bar,
        trace: trace.then(Vec::new),
        trace_error: None,
    };
    let results = train_runs(runs, device, &mut files);
    files.bar.finish_and_clear();
    if let Some(all) = &files.trace {
        let written = match files.trace_error {
            Some(e) => Err(e),
            None => write_steps(&dirs[0], all),
        };
        written.context("writing the step trace")?;
    }
    let results = results?;
    for (r, dir) in results.iter().zip(dirs) {
        write_history(dir, &r.history)?;
        if let Ok(metrics) = &r.outcome {
            write_json(&dir.join("metrics.json"), &serde_json::to_value(metrics)?)?;
        }
    }
    Ok(results)
}

/// A run's failure as the CLI reports it (after the run's label): a divergence (which downcasts
/// to [`TrainError::Diverged`]) names the checkpoint it left.
pub fn failure(e: RunFailure, dir: &Path) -> anyhow::Error {
    match e {
        RunFailure::Train(e @ TrainError::Diverged { .. }) => {
            let msg = format!(
                "{} holds the last model with a finite loss",
                dir.join(CHECKPOINT).display()
            );
            anyhow::Error::new(e).context(msg)
        }
        e => anyhow::Error::new(e),
    }
}

#[derive(Args)]
pub struct TrainArgs {
    #[command(flatten)]
    system: SystemArg,
    /// Model: node, node-so, node-so-direct, node-so-symreg, hnn, hnn-general, hnn-forced;
    /// the Lagrangian networks delan and lnn; the dissipative HNNs port-hnn and d-hnn; or, on the
    /// body points with the known constraints (their Cartesian data made for them),
    /// constrained-node-so, clnn or chnn.
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
    a.learn.check_models(&[kind])?;
    a.learn.train_config()?;
    let data = a.learn.datasets(sys.as_ref())?;
    let results = a.learn.run_all(kind, &data, &a.out)?;
    let rows = finished_rows(results);
    print_table(&rows);
    if rows.is_empty() {
        bail!("no run finished training");
    }
    println!("wrote {}", a.out.display());
    Ok(())
}

/// The finished runs' rows; each failure is reported on stderr.
fn finished_rows(
    results: Vec<(String, Result<(Evaluation, usize, f64)>)>,
) -> Vec<(String, Evaluation, usize, f64)> {
    let mut rows = Vec::new();
    for (label, r) in results {
        match r {
            Ok((ev, n, s)) => rows.push((label, ev, n, s)),
            Err(e) => eprintln!("{label}: {e:#}"),
        }
    }
    rows
}

#[derive(Args)]
pub struct EvalArgs {
    /// A run directory from `phaselab train` (or a checkpoint file).
    run: PathBuf,
    /// Test data: an .npz file, or a directory from `phaselab data gen` (its test.npz is used).
    #[arg(long)]
    data: PathBuf,
    /// Solver for the rollouts (default: the one the model was trained with).
    #[arg(long)]
    solver: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Also draw what the model learned against the true system along one coordinate (potential,
    /// inverse mass, force and acceleration at rest, and moving): structure.png, .svg and .json beside the
    /// checkpoint.
    #[arg(long)]
    plot_structure: bool,
    /// The coordinate that --plot-structure sweeps, counted from 0 (the drawing calls it q{C+1},
    /// as the playground does); the others are held at their median in the data.
    #[arg(long, default_value_t = 0, requires = "plot_structure")]
    coordinate: usize,
}

/// structure.{png,svg,json} for `model` beside `path`, from the test data's system.
fn write_structure(
    model: &DynamicsModel,
    test: &TrajectorySet,
    c: usize,
    path: &std::path::Path,
) -> Result<()> {
    use phaselab_core::metrics::learned_structure::learned_structure;
    let spec: SystemSpec = test.meta.system.parse().map_err(|e| {
        anyhow::anyhow!("--plot-structure needs the true system, and the data's system '{}' is not one phaselab simulates: {e}", test.meta.system)
    })?;
    let sys = phaselab_core::physics::build(spec);
    let slice = learned_structure(model, sys.as_ref(), test, c, 101)?;
    let (png, svg) = phaselab_core::plot::structure_figure(std::slice::from_ref(&slice))
        .map_err(|e| anyhow::anyhow!("drawing the structure: {e}"))?;
    for (ext, bytes) in [
        ("png", png),
        ("svg", svg.into_bytes()),
        ("json", serde_json::to_vec_pretty(&slice)?),
    ] {
        write_atomic(&path.with_file_name(format!("structure.{ext}")), &bytes)?;
    }
    eprintln!(
        "wrote {} (learned H shown in the truth's gauge, k = {:.4})",
        path.with_file_name("structure.png").display(),
        slice.gauge
    );
    Ok(())
}

pub fn eval_cmd(a: EvalArgs) -> Result<()> {
    let path = if a.run.is_dir() {
        a.run.join(CHECKPOINT)
    } else {
        a.run.clone()
    };
    let ck = Checkpoint::from_bytes(&read(&path)?)
        .with_context(|| format!("{} is not a usable checkpoint", path.display()))?;
    if let Some(note) = ck.note() {
        eprintln!("note: {}: {note}", path.display());
    }
    let device = Device::flex();
    let model = ck
        .model(&device)
        .with_context(|| format!("loading {}", path.display()))?;
    let data = if a.data.is_dir() {
        a.data.join("test.npz")
    } else {
        a.data.clone()
    };
    let test = TrajectorySet::from_npz(&read(&data)?)
        .with_context(|| format!("{} is not a valid dataset", data.display()))?;
    // A constrained model is scored on the body points of the same trajectories; the structure
    // view reads every model in generalised coordinates.
    let read = Arc::new(test);
    let test = Arc::unwrap_or_clone(data_of(model.kind(), &read)?);
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
    if a.plot_structure {
        let generalised = in_coordinates(&read, Coordinates::Generalised)?;
        write_structure(&model, &generalised, a.coordinate, &path)?;
    }
    let report = EvalReport {
        model: ck.meta.model.kind,
        checkpoint: path.display().to_string(),
        data: data.display().to_string(),
        solver: solver.to_string(),
        test: ev,
    };
    let json_path = path.with_file_name("eval.json");
    write_json(&json_path, &report)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&[(
            ck.meta.model.kind.name().to_string(),
            report.test,
            model.n_params(),
            f64::NAN,
        )]);
        println!("wrote {}", json_path.display());
    }
    Ok(())
}

#[derive(Args)]
pub struct CompareArgs {
    #[command(flatten)]
    system: SystemArg,
    /// Comma-separated models (see `train --help`; constrained ones learn on the body points and
    /// the table then ranks every model by its error there, gerr x).
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
    a.learn.check_models(&kinds)?;
    a.learn.train_config()?;
    let data = a.learn.datasets(sys.as_ref())?;
    let (tr, te) = (&data[0].1, &data[0].2);
    let runs = a.learn.runs()?.len();
    println!(
        "{}: {} training chunks of {} points, {} test chunks of {} points; {} epochs, width {}; {} run(s) per model",
        sys.name(),
        tr.n,
        tr.t,
        te.n,
        te.t,
        a.learn.epochs,
        a.learn.width,
        runs
    );
    // Models on body points beside models on the generalised data: rank on the one scale both
    // share, the error on the body points.
    let on_points =
        kinds.iter().any(|k| k.is_constrained()) && tr.meta.coordinates == Coordinates::Generalised;
    let score = |ev: &Evaluation| match on_points {
        true => ev.cartesian_gerr.unwrap_or(f64::INFINITY),
        false => ev.gerr,
    };
    if on_points {
        println!("ranked by the rollout error on the body points (gerr x): constrained models learn on them");
    }
    let mut rows = Vec::new();
    let mut compared = Vec::new();
    let mut summary = Vec::new();
    for k in kinds {
        let results = a.learn.run_all(k, &data, &a.out.join(k.name()))?;
        let finished = finished_rows(results);
        compared.extend(finished.iter().map(|(l, ev, n, s)| ComparedRun {
            model: k,
            run: Some(l.clone()),
            parameters: *n,
            train_seconds: *s,
            test: ev.clone(),
        }));
        let gerrs: Vec<f64> = finished.iter().map(|r| score(&r.1)).collect();
        if runs > 1 && !gerrs.is_empty() {
            let (m, se) = phaselab_core::stats::mean_and_standard_error(&gerrs);
            summary.push((k, m, se, gerrs.len()));
        }
        rows.extend(finished);
    }
    rows.sort_by(|x, y| score(&x.1).total_cmp(&score(&y.1)));
    let comparison = Comparison {
        system: sys.name(),
        settings: a.learn.settings(),
        optimiser_steps: a.learn.epochs
            * phaselab_core::train::steps_per_epoch(tr.n, a.learn.batch),
        runs: compared,
    };
    // Through a serde_json::Value, as when compare.json was built with `json!`: its keys come out
    // in the same (sorted) order as before, not in the structs' field order.
    let json = serde_json::to_value(&comparison)?;
    write_atomic(
        &a.out.join("compare.json"),
        serde_json::to_string_pretty(&json)?.as_bytes(),
    )?;
    print_table(&rows);
    if !summary.is_empty() {
        summary.sort_by(|x, y| x.1.total_cmp(&y.1));
        let what = if on_points { "gerr x" } else { "gerr" };
        println!("\nmean {what} over seeds (+- standard error):");
        for (k, m, se, n) in summary {
            println!("  {:<16} {m:.3e} +- {se:.1e} ({n} runs)", k.name());
        }
    }
    if rows.is_empty() {
        bail!("no model finished training");
    }
    Ok(())
}

fn opt(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.3e}")).unwrap_or_else(|| "-".into())
}

/// Ranked table: rollout error, energy violation, MSE, parameters, time.
fn print_table(rows: &[(String, Evaluation, usize, f64)]) {
    println!(
        "{:<20} {:>10} {:>10} {:>10} {:>10} {:>10} {:>9} {:>9}",
        "model", "gerr", "gerr x", "Herr", "MSE", "symp.err", "params", "train s"
    );
    for (k, ev, n, s) in rows {
        let t = if s.is_finite() {
            format!("{s:.1}")
        } else {
            "-".into()
        };
        println!(
            "{:<20} {:>10.3e} {:>10} {:>10} {:>10.3e} {:>10} {:>9} {:>9}",
            k,
            ev.gerr,
            opt(ev.cartesian_gerr),
            opt(ev.herr),
            ev.mse,
            opt(ev.symplectic_error),
            n,
            t
        );
    }
}
