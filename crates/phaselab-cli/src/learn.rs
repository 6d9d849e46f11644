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
use phaselab_core::physics::{System, SystemSpec};
use phaselab_core::solve::Solver;
use phaselab_core::train::{
    evaluate, Checkpoint, EpochStats, Evaluation, Loss, PopulationTrainer, TrainConfig, TrainError,
    Trainer,
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
    fn settings(&self) -> serde_json::Value {
        json!({"epochs": self.epochs, "width": self.width, "depth": self.depth, "lr": self.lr,
               "batch": self.batch, "loss": self.loss, "solver": self.solver, "model_seed": self.model_seed,
               "data": self.data, "n": self.n, "n_test": self.n_test, "data_seed": self.data_seed,
               "stabiliser": !self.no_stabiliser, "zero_output_biases": self.zero_output_biases,
               "seeds": self.seeds, "data_seeds": self.data_seeds,
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
        if self.population == 0 {
            bail!("--population must be at least 1");
        }
        self.runs()?;
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
    /// `out/seed<w>-data<d>`), in populations of at most --population; each run's label and result.
    fn run_all(
        &self,
        kind: ModelKind,
        sys: &dyn System,
        data: &[(u64, TrajectorySet, TrajectorySet)],
        out: &Path,
    ) -> Result<Vec<(String, Result<(Evaluation, usize, f64)>)>> {
        let runs = self.runs()?;
        let cfg = self.train_config()?;
        let device = self.device()?;
        let several = runs.len() > 1;
        let members: Vec<(String, Member)> = runs
            .iter()
            .map(|&(w, d)| {
                let (_, tr, te) = data
                    .iter()
                    .find(|x| x.0 == d)
                    .expect("every data seed generated");
                let label = if several {
                    format!("{kind} seed {w} data {d}")
                } else {
                    kind.name().to_string()
                };
                let dir = if several {
                    out.join(format!("seed{w}-data{d}"))
                } else {
                    out.to_path_buf()
                };
                let member = Member {
                    mc: ModelConfig {
                        seed: w,
                        ..self.model_config(kind, sys)
                    },
                    cfg: TrainConfig {
                        seed: w,
                        ..cfg.clone()
                    },
                    train_set: tr,
                    test: te,
                    out: dir,
                };
                (label, member)
            })
            .collect();
        let mut results = Vec::new();
        let mut members = members.into_iter().peekable();
        while members.peek().is_some() {
            let group: Vec<(String, Member)> = members.by_ref().take(self.population).collect();
            let (labels, group): (Vec<String>, Vec<Member>) = group.into_iter().unzip();
            for (label, r) in labels
                .into_iter()
                .zip(train_members(group, &device, sys, true)?)
            {
                results.push((label, r.map(|t| (t.eval, t.parameters, t.seconds))));
            }
        }
        Ok(results)
    }

    /// Train and test sets of every data seed: read from --data or generated with the paper's
    /// protocol.
    fn datasets(&self, sys: &dyn System) -> Result<Vec<(u64, TrajectorySet, TrajectorySet)>> {
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
            return Ok(vec![(self.data_seed, tr, te)]);
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
                Ok((seed, s.train, s.test))
            })
            .collect()
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

/// One run of a population trained by [`train_members`].
pub struct Member<'a> {
    pub mc: ModelConfig,
    pub cfg: TrainConfig,
    pub train_set: &'a TrajectorySet,
    pub test: &'a TrajectorySet,
    pub out: PathBuf,
}

/// A single run's trainer, or a population's (K > 1), behind one epoch-at-a-time interface.
enum Engine {
    Solo(Trainer),
    Population(PopulationTrainer<DynamicsModel>),
}

impl Engine {
    fn epoch(&mut self) -> Result<Vec<Option<Result<EpochStats, TrainError>>>, TrainError> {
        match self {
            Engine::Solo(t) => Ok(vec![Some(t.epoch())]),
            Engine::Population(p) => {
                let before: Vec<bool> = (0..p.members()).map(|k| p.error(k).is_none()).collect();
                let stats = p.epoch()?;
                Ok(stats
                    .into_iter()
                    .enumerate()
                    .map(|(k, s)| match (s, before[k], p.error(k)) {
                        (Some(s), _, _) => Some(Ok(s)),
                        (None, true, Some(e)) => Some(Err(e.clone())),
                        _ => None,
                    })
                    .collect())
            }
        }
    }

    fn model(&self, k: usize) -> DynamicsModel {
        match self {
            Engine::Solo(t) => t.model(),
            Engine::Population(p) => p.member(k),
        }
    }

    fn history(&self, k: usize) -> Vec<EpochStats> {
        match self {
            Engine::Solo(t) => t.history().to_vec(),
            Engine::Population(p) => p.history(k).to_vec(),
        }
    }
}

/// Train the members (one system, one architecture) as one population, each into its own
/// directory: checkpoint (written atomically every 25 epochs, at the end, and on divergence with
/// the last model whose loss was finite), loss history, metrics. A single member trains alone.
/// Member k's result at index k; a divergence is an error that downcasts to
/// `TrainError::Diverged`.
pub fn train_members(
    members: Vec<Member<'_>>,
    device: &Device,
    sys: &dyn System,
    show_progress: bool,
) -> Result<Vec<Result<Trained>>> {
    let k = members.len();
    let kind = members[0].mc.kind;
    let ad = device.clone().autodiff();
    for m in &members {
        std::fs::create_dir_all(&m.out)
            .with_context(|| format!("cannot create {}", m.out.display()))?;
    }
    let n_params = members[0].mc.init_for_loading(device).n_params();
    let record = |m: &Member, epochs_done: usize, loss: f64| {
        json!({"system": sys.name(), "train_file_seed": m.train_set.meta.seed, "n_train": m.train_set.n, "chunk": m.train_set.t,
               "dt": m.train_set.dt, "epochs_done": epochs_done, "final_loss": loss, "config": m.cfg})
    };
    let save = |m: &Member, model: &DynamicsModel, done: usize, loss: f64| -> Result<()> {
        let ck = Checkpoint::from_model(model, record(m, done, loss))?;
        write_atomic(&m.out.join(CHECKPOINT), &ck.to_bytes())
    };
    let mut engine = if k == 1 {
        let m = &members[0];
        match Trainer::new(m.mc.init(&ad), m.train_set, &m.cfg, &ad) {
            Ok(t) => Engine::Solo(t),
            Err((_, e)) => bail!("{kind}: {e}"),
        }
    } else {
        let models = members.iter().map(|m| m.mc.init(&ad)).collect();
        let sets: Vec<&TrajectorySet> = members.iter().map(|m| m.train_set).collect();
        let cfgs = members.iter().map(|m| m.cfg.clone()).collect();
        Engine::Population(
            PopulationTrainer::new(models, &sets, cfgs, &ad)
                .map_err(|e| anyhow::anyhow!("{kind}: {e}"))?,
        )
    };
    let label = if k == 1 {
        kind.name().to_string()
    } else {
        format!("{kind} x{k}")
    };
    let epochs = members[0].cfg.epochs;
    let pb = bar(epochs, &label);
    if !show_progress {
        pb.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let start = std::time::Instant::now();
    let mut errors: Vec<Option<TrainError>> = vec![None; k];
    for epoch in 1..=epochs {
        let stats = engine.epoch().map_err(|e| anyhow::anyhow!("{kind}: {e}"))?;
        let mut shown = None;
        for (i, s) in stats.into_iter().enumerate() {
            match s {
                Some(Ok(s)) => {
                    shown.get_or_insert(s.clone());
                    if epoch == epochs || epoch % 25 == 0 {
                        save(&members[i], &engine.model(i), s.epoch, s.loss)
                            .context("saving the checkpoint")?;
                    }
                }
                Some(Err(e)) => errors[i] = Some(e),
                None => {}
            }
        }
        pb.set_position(epoch as u64);
        if let Some(s) = shown {
            pb.set_message(format!("loss {:.3e} lr {:.1e}", s.loss, s.lr));
        }
        if errors.iter().all(Option::is_some) {
            break;
        }
    }
    pb.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    let mut out = Vec::with_capacity(k);
    for (i, m) in members.iter().enumerate() {
        let history = engine.history(i);
        let model = engine.model(i);
        let result = (|| -> Result<Trained> {
            write_history(&m.out, &history)?;
            if let Some(e) = errors[i].clone() {
                if let TrainError::Diverged { epoch, .. } = e {
                    // Keep the last model whose loss was finite.
                    save(m, &model, epoch.saturating_sub(1), f64::NAN)?;
                    let msg = format!(
                        "{kind}: {e}; {} holds the last model with a finite loss",
                        m.out.join(CHECKPOINT).display()
                    );
                    return Err(anyhow::Error::new(e).context(msg));
                }
                bail!("{kind}: {e}");
            }
            let ev = evaluate(&model, m.test, &m.cfg.solver, device).map_err(anyhow::Error::msg)?;
            let metrics = json!({"model": kind.name(), "system": sys.name(), "parameters": n_params, "train_seconds": secs,
                "seconds_per_epoch": secs / epochs as f64, "final_loss": history.last().map(|h| h.loss), "test": ev,
                "population": k});
            write_atomic(
                &m.out.join("metrics.json"),
                serde_json::to_string_pretty(&metrics)?.as_bytes(),
            )?;
            Ok(Trained {
                eval: ev,
                parameters: n_params,
                seconds: secs,
                history,
            })
        })();
        out.push(result);
    }
    Ok(out)
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
    let data = a.learn.datasets(sys.as_ref())?;
    let results = a.learn.run_all(kind, sys.as_ref(), &data, &a.out)?;
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
    /// inverse mass, force and acceleration at rest): structure.png, .svg and .json beside the
    /// checkpoint.
    #[arg(long)]
    plot_structure: bool,
    /// The coordinate q_C that --plot-structure sweeps (the others held at their median in the data).
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
    use phaselab_core::models::learned_structure::learned_structure;
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
        write_structure(&model, &test, a.coordinate, &path)?;
    }
    let report = json!({"model": ck.meta.model.kind, "checkpoint": path, "data": data, "solver": solver.to_string(), "test": ev});
    let json_path = path.with_file_name("eval.json");
    write_atomic(
        &json_path,
        serde_json::to_string_pretty(&report)?.as_bytes(),
    )?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&[(
            ck.meta.model.kind.name().to_string(),
            ev,
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
    let mut rows = Vec::new();
    let mut json_rows = Vec::new();
    let mut summary = Vec::new();
    for k in kinds {
        let results = a
            .learn
            .run_all(k, sys.as_ref(), &data, &a.out.join(k.name()))?;
        let finished = finished_rows(results);
        json_rows.extend(finished.iter().map(|(l, ev, n, s)| json!({"model": k.name(), "run": l, "parameters": n, "train_seconds": s, "test": ev})));
        let gerrs: Vec<f64> = finished.iter().map(|r| r.1.gerr).collect();
        if runs > 1 && !gerrs.is_empty() {
            let (m, se) = phaselab_core::stats::mean_and_standard_error(&gerrs);
            summary.push((k, m, se, gerrs.len()));
        }
        rows.extend(finished);
    }
    rows.sort_by(|x, y| x.1.gerr.total_cmp(&y.1.gerr));
    write_atomic(
        &a.out.join("compare.json"),
        serde_json::to_string_pretty(&json!({"system": sys.name(), "settings": a.learn.settings(),
            "optimiser_steps": a.learn.epochs * phaselab_core::train::steps_per_epoch(tr.n, a.learn.batch), "runs": json_rows}))?.as_bytes(),
    )?;
    print_table(&rows);
    if !summary.is_empty() {
        summary.sort_by(|x, y| x.1.total_cmp(&y.1));
        println!("\nmean gerr over seeds (+- standard error):");
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
            k,
            ev.gerr,
            opt(ev.herr),
            ev.mse,
            opt(ev.symplectic_error),
            n,
            t
        );
    }
}
