//! `phaselab reproduce <figure>`: run a figure's grid (resuming: finished runs are skipped, so a
//! killed reproduction picks up where it stopped), then write its table, CSV and plots.

use crate::learn::{failure, train_into};
use crate::output::{write_atomic, write_json};
use crate::tasks;
use anyhow::{bail, Context, Result};
use burn::prelude::Device;
use clap::Args;
use phaselab_core::data::cartesian::to_cartesian;
use phaselab_core::data::protocol::Protocol;
use phaselab_core::data::{Coordinates, TrajectorySet};
use phaselab_core::experiments::plan::{populations, Plan};
use phaselab_core::experiments::record::{Build, Outcome, RunRecord};
use phaselab_core::experiments::{Figure, RunSpec, Tier};
use phaselab_core::models::ModelConfig;
use phaselab_core::physics::system;
use phaselab_core::plot::figures::{fig7_outputs, figure_outputs};
use phaselab_core::train::run::Run;
use phaselab_core::train::TrainConfig;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Args)]
pub struct ReproduceArgs {
    /// fig2 (energy), fig3 (symplectic penalty sweep), fig4 (second-order ablation), fig5 (node-so vs
    /// hnn by coordinates), fig6 (drag), fig7 (MuJoCo, control-aware models; generates its data with
    /// tools/mujoco), fig8 (L1 vs L2), fig9 (gyroscope, magnet pendulum, rotor), fig9-data (fig9's
    /// gyroscope on five times the trajectories, the paper's 5000 at the reference and paper
    /// tiers, at the tier's optimiser steps),
    /// rollouts (error over time per system beside the chaos floor), ladder (the CHNN paper's
    /// systems: angle, body-point and constrained models, all scored on body points). Not needed
    /// with --task or --status, which read the figure from the plan.
    figure: Option<String>,
    /// The tier (help text computed from the tiers' settings).
    #[arg(long, default_value = "quick", help = tier_help())]
    tier: String,
    /// Seeds per setting (default: the tier's).
    #[arg(long)]
    seeds: Option<usize>,
    /// Train nothing: draw the figure from the records of the runs that have finished.
    #[arg(long)]
    draw_only: bool,
    /// Runs in parallel (populations in parallel, with --population above 1).
    #[arg(long, short, default_value_t = 1)]
    jobs: usize,
    /// Runs that differ only in data seed or loss train together as one population of at most
    /// N members (one computation, each member equal to its run trained alone); 1 trains every
    /// run by itself.
    #[arg(long, default_value_t = 1)]
    population: usize,
    /// Output directory (default out/reproduce-<tier>): runs/ is shared by all figures (a run two
    /// figures need is trained once), each figure's files go to <figure>/.
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Directory of run records (default <out>/records; fig7: <out>/records-fig7): one small JSON file per finished run
    /// (spec, commit, scores, loss history; no weights). A run with a record is finished, so a
    /// reproduction resumes from committed records (docs/results/reference/runs).
    #[arg(long)]
    records: Option<PathBuf>,
    /// With a figure: write its grid as a plan of independent tasks (one per run, with the shared
    /// output and record directories as absolute paths; fig7's with the MuJoCo generator too) and
    /// run nothing. With --task or --status: the plan to read.
    #[arg(long)]
    plan: Option<PathBuf>,
    /// Run task I of --plan (a Slurm array index): train its run into the shared directories,
    /// unless it has a record; a task already running elsewhere is waited for, not repeated.
    #[arg(long, requires = "plan")]
    task: Option<usize>,
    /// With --plan: how many of its tasks are finished, running, failed or missing (exit status 1
    /// unless all are finished).
    #[arg(long, requires = "plan", conflicts_with = "task")]
    status: bool,
    /// fig7: the MuJoCo data generator, tools/mujoco/run.sh (default: the one of the repository
    /// this binary was built from). A plan keeps it as an absolute path for its tasks.
    #[arg(long)]
    mujoco_generator: Option<PathBuf>,
}

/// `--tier`'s help: every tier's sizes and the optimiser steps they make, as the code computes them.
fn tier_help() -> String {
    format!(
        "smoke (seconds), quick (minutes on 2 cores), reference (the reference code's short budget, hours on 2 cores; RESULTS.md) or paper (GPU or cluster). {}",
        Tier::describe_all()
    )
}

/// The train and test sets of one (system, data seed) at a tier's sizes, shared by the runs on
/// them.
type Datasets = (Arc<TrajectorySet>, Arc<TrajectorySet>);

fn datasets(spec: &RunSpec) -> Result<Datasets> {
    let Some((_, s)) = spec.autonomous() else {
        bail!("{} is not a run on a simulated system", spec.id());
    };
    let sys = system(&spec.system)?;
    let p = Protocol {
        n_trajectories: s.n_trajectories,
        n_test: s.n_test,
        test_chunk: s.test_chunk,
        seed: spec.seed,
        ..Protocol::default()
    };
    let data = p.generate(sys.as_ref(), &|_| {})?;
    Ok(match spec.coordinates {
        Coordinates::Generalised => (Arc::new(data.train), Arc::new(data.test)),
        Coordinates::Cartesian => (
            Arc::new(to_cartesian(&data.train, sys.as_ref())?),
            Arc::new(to_cartesian(&data.test, sys.as_ref())?),
        ),
    })
}

/// The datasets of `spec`: generated for a simulated system; for a fig7 run, its environment's
/// MuJoCo dataset at `tier` in `<out>/mujoco-data`, made by `generator` when missing.
fn load_data(spec: &RunSpec, tier: Tier, out: &Path, generator: &Path) -> Result<Datasets> {
    match spec.control() {
        Some((_, s)) => crate::control::fig7_data(&spec.system, tier, s, out, generator)
            .map(|(train, test)| (Arc::new(train), Arc::new(test))),
        None => datasets(spec),
    }
}

/// The key of `spec`'s datasets: (system, data seed, coordinates); a fig7 environment has one
/// dataset.
fn data_key(spec: &RunSpec) -> (String, u64, Coordinates) {
    let seed = if spec.control().is_some() {
        0
    } else {
        spec.seed
    };
    (spec.system.clone(), seed, spec.coordinates)
}

/// Train one run into `dir` and return its record (a divergence is a record too).
fn run_one(spec: &RunSpec, data: &Datasets, dir: &Path) -> Result<RunRecord> {
    let mut r = run_group(&[spec], &[data], &[dir.to_path_buf()])?;
    r.pop().expect("one run")
}

/// Train runs that differ only in data seed and loss (fig7: only in seed) as one population (one
/// run: alone), each into its own directory; each run's record (a divergence is a record too), in
/// order.
fn run_group(
    specs: &[&RunSpec],
    data: &[&Datasets],
    dirs: &[PathBuf],
) -> Result<Vec<Result<RunRecord>>> {
    let spec = specs[0];
    let results = if spec.control().is_some() {
        let runs = crate::control::fig7_runs(specs, data)?;
        train_into(runs, dirs, &Device::flex(), false, false)?
            .into_iter()
            .map(|r| r.map_outcome(Outcome::from))
            .collect::<Vec<_>>()
    } else {
        let Some((kind, s)) = spec.autonomous() else {
            bail!("{} mixes an autonomous model with other sizes", spec.id());
        };
        let first = &data[0].0;
        let mut mc = ModelConfig {
            width: s.width,
            seed: 0,
            ..ModelConfig::for_data(kind, first)
        };
        if let Some(a) = spec.alpha {
            mc.alpha = a;
        }
        let runs: Vec<Run> = specs
            .iter()
            .zip(data)
            .map(|(sp, d)| Run {
                model: mc.clone(),
                train: TrainConfig {
                    epochs: s.epochs,
                    loss: sp.loss,
                    ..TrainConfig::default()
                },
                train_set: d.0.clone(),
                test: d.1.clone(),
            })
            .collect();
        train_into(runs, dirs, &Device::flex(), false, false)?
            .into_iter()
            .map(|r| r.map_outcome(Outcome::from))
            .collect()
    };
    let build = Build {
        version: env!("CARGO_PKG_VERSION"),
        git_commit: env!("PHASELAB_GIT_COMMIT"),
    };
    let mut out = Vec::with_capacity(specs.len());
    for ((sp, dir), r) in specs.iter().zip(dirs).zip(results) {
        let record = RunRecord::of_result((*sp).clone(), r, specs.len(), build)
            .map_err(|e| failure(e, dir))
            .and_then(|record| write_json(&dir.join("spec.json"), sp).map(|()| record));
        out.push(record);
    }
    Ok(out)
}

/// An absolute form of `p` (tasks on other machines read the plan's paths as they are).
fn absolute(p: &Path) -> Result<String> {
    let abs = std::path::absolute(p).with_context(|| format!("cannot resolve {}", p.display()))?;
    abs.to_str()
        .map(str::to_string)
        .with_context(|| format!("{} is not valid UTF-8", abs.display()))
}

fn read_plan(path: &Path) -> Result<Plan> {
    Plan::from_bytes(&crate::output::read(path)?)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// `--plan P --task I`: one run into the plan's shared directories.
fn run_task(plan_path: &Path, index: usize) -> Result<()> {
    let plan = read_plan(plan_path)?;
    let task = plan.tasks.get(index).with_context(|| {
        format!(
            "{} has tasks 0..={}, not {index}",
            plan_path.display(),
            plan.tasks.len().saturating_sub(1)
        )
    })?;
    let (out, records) = (PathBuf::from(&task.out), PathBuf::from(&task.records));
    std::fs::create_dir_all(&records)
        .with_context(|| format!("cannot create {}", records.display()))?;
    let spec = &task.spec;
    refuse_other_sizes(std::slice::from_ref(spec), &records)?;
    let generator = task
        .mujoco_generator
        .as_ref()
        .map(PathBuf::from)
        .unwrap_or_else(crate::control::default_mujoco_generator);
    let t = std::time::Instant::now();
    // A fig7 task makes its environment's dataset first (once for all tasks, under a lock).
    let figure: Figure = plan.figure.parse().map_err(anyhow::Error::msg)?;
    let recs = tasks::Records {
        dir: records.clone(),
        figure,
    };
    let done = tasks::train_claimed(spec, &out, &recs, || {
        let data = load_data(spec, plan.tier, &out, &generator)?;
        run_one(spec, &data, &out.join("runs").join(&task.id))
    })?;
    match done {
        tasks::Done::Finished => println!("task {index}: {} already finished", task.id),
        tasks::Done::FinishedElsewhere => {
            println!(
                "task {index}: {} finished by another task meanwhile",
                task.id
            )
        }
        tasks::Done::Trained(rec) => println!(
            "task {index}: {} {} ({:.1} s)",
            task.id,
            describe(&rec),
            t.elapsed().as_secs_f64()
        ),
    }
    Ok(())
}

/// `--plan P --status`: counts of finished, running, failed and missing tasks.
fn plan_status(plan_path: &Path) -> Result<()> {
    let plan = read_plan(plan_path)?;
    let figure: Figure = plan.figure.parse().map_err(anyhow::Error::msg)?;
    let mut count = [0usize; 4];
    let mut failed = Vec::new();
    for t in &plan.tasks {
        let records = tasks::Records {
            dir: PathBuf::from(&t.records),
            figure,
        };
        let s = tasks::state(&t.spec, &PathBuf::from(&t.out), &records)?;
        count[s as usize] += 1;
        if s == tasks::State::Failed {
            failed.push(format!("{} ({})", t.index, t.id));
        }
    }
    println!(
        "{} ({} tier): {} tasks: {} finished, {} running, {} failed, {} missing",
        plan.figure,
        plan.tier,
        plan.tasks.len(),
        count[0],
        count[1],
        count[2],
        count[3]
    );
    if !failed.is_empty() {
        println!(
            "failed (errors in {}/failed/): {}",
            plan.out,
            failed.join(", ")
        );
    }
    if count[0] != plan.tasks.len() {
        bail!(
            "{} of {} tasks are not finished",
            plan.tasks.len() - count[0],
            plan.tasks.len()
        );
    }
    Ok(())
}

fn describe(rec: &RunRecord) -> String {
    match &rec.outcome {
        Outcome::Finished { test } => format!("gerr {:.3e}", test.gerr),
        Outcome::Control(c) => format!("test MSE {:.3e}", c.test_mse),
        Outcome::Diverged { epoch } => format!("DIVERGED at epoch {epoch}"),
        Outcome::Unscored { reason } => format!("UNSCORED: {reason}"),
    }
}

/// Records of these runs trained at other sizes (another tier) are not overwritten: an error.
fn refuse_other_sizes(runs: &[RunSpec], records: &Path) -> Result<()> {
    for spec in runs {
        let Ok(bytes) = std::fs::read(records.join(RunRecord::file_name(spec))) else {
            continue;
        };
        if let Ok(r) = RunRecord::from_bytes(&bytes, None) {
            if r.spec.id() == spec.id() && r.spec.settings != spec.settings {
                bail!(
                    "{} holds records of {} trained at other sizes (another tier?); give this tier its own --records",
                    records.display(),
                    spec.id()
                );
            }
        }
    }
    Ok(())
}

pub fn reproduce_cmd(a: ReproduceArgs) -> Result<()> {
    if let (Some(plan), Some(i)) = (&a.plan, a.task) {
        return run_task(plan, i);
    }
    if let (Some(plan), true) = (&a.plan, a.status) {
        return plan_status(plan);
    }
    let Some(figure) = a.figure.clone() else {
        let names: Vec<&str> = Figure::ALL.iter().map(|f| f.name()).collect();
        bail!(
            "name a figure ({}), or give --plan with --task or --status",
            names.join(", ")
        );
    };
    let tier: Tier = a.tier.parse().map_err(anyhow::Error::msg)?;
    if a.jobs == 0 || a.jobs > 64 || a.seeds == Some(0) || a.seeds.is_some_and(|s| s > 100) {
        bail!("--jobs must be in 1..=64 and --seeds in 1..=100");
    }
    if a.population == 0 || a.population > 1024 {
        bail!("--population must be in 1..=1024");
    }
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("out/reproduce-{tier}")));
    let fig: Figure = figure.parse().map_err(anyhow::Error::msg)?;
    // fig7's records have a directory of their own (its runs are not the other figures').
    let default_records = if fig == Figure::Fig7 {
        "records-fig7"
    } else {
        "records"
    };
    let records = a
        .records
        .clone()
        .unwrap_or_else(|| out.join(default_records));
    let runs = fig.runs(tier, a.seeds);
    let generator = a
        .mujoco_generator
        .clone()
        .unwrap_or_else(crate::control::default_mujoco_generator);
    if let Some(plan_path) = &a.plan {
        let mut plan = Plan::new(fig, tier, &runs, absolute(&out)?, absolute(&records)?);
        if fig == Figure::Fig7 {
            let g = crate::control::checked_generator(&generator)?;
            let g = g
                .to_str()
                .with_context(|| format!("{} is not valid UTF-8", g.display()))?
                .to_string();
            plan = plan.with_mujoco_generator(g);
        }
        write_atomic(plan_path, &plan.to_bytes())?;
        println!(
            "wrote {}: {} ({tier} tier, {} optimiser steps a run) into {}, records in {}",
            plan_path.display(),
            fig.name(),
            fig.optimiser_steps(tier),
            plan.out,
            plan.records
        );
        println!("tasks: {}", plan.tasks.len());
        return Ok(());
    }
    let dir_of = |r: &RunSpec| out.join("runs").join(r.id());
    refuse_other_sizes(&runs, &records)?;
    let recs = tasks::Records {
        dir: records.clone(),
        figure: fig,
    };
    let mut todo: Vec<&RunSpec> = runs.iter().filter(|r| recs.finished(r).is_none()).collect();
    // Runs that share a dataset run one after another, so each dataset is generated once.
    todo.sort_by(|x, y| (&x.system, x.seed).cmp(&(&y.system, y.seed)));
    let finished = runs.len() - todo.len();
    let todo: Vec<&RunSpec> = if a.draw_only { Vec::new() } else { todo };
    println!(
        "{} ({tier} tier, {} optimiser steps a run): {} runs, {} already finished, {} to do, {} at a time -> {} (records in {})",
        fig.name(),
        fig.optimiser_steps(tier),
        runs.len(),
        finished,
        todo.len(),
        a.jobs,
        out.display(),
        records.display()
    );
    if !todo.is_empty() {
        std::fs::create_dir_all(&records)
            .with_context(|| format!("cannot create {}", records.display()))?;
    }
    // Populations: runs that differ only in data seed or loss, at most --population at once.
    let groups = populations(&todo, a.population);
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let cache: Mutex<HashMap<(String, u64, Coordinates), Datasets>> = Mutex::new(HashMap::new());
    let report = |spec: &RunSpec, r: tasks::TaskOutcome, secs: f64| {
        let k = done.fetch_add(1, Ordering::SeqCst) + 1;
        match r {
            tasks::TaskOutcome::Done(tasks::Done::Trained(rec)) => println!(
                "[{k}/{}] {} {} ({secs:.1} s)",
                todo.len(),
                spec.id(),
                describe(&rec)
            ),
            tasks::TaskOutcome::Done(_) => println!(
                "[{k}/{}] {} finished by another process",
                todo.len(),
                spec.id()
            ),
            tasks::TaskOutcome::Elsewhere => println!(
                "[{k}/{}] {} is being trained by another process; left to it",
                todo.len(),
                spec.id()
            ),
            tasks::TaskOutcome::Failed(e) => {
                println!("[{k}/{}] {} FAILED: {e:#}", todo.len(), spec.id());
                failures.lock().expect("lock").push(spec.id());
            }
        }
    };
    std::thread::scope(|scope| {
        for _ in 0..a.jobs.min(groups.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(group) = groups.get(i) else { break };
                let t = std::time::Instant::now();
                let data: Result<Vec<Datasets>> = group
                    .iter()
                    .map(|spec| {
                        let key = data_key(spec);
                        let mut c = cache.lock().expect("lock");
                        // Keep only datasets groups still to come will use.
                        c.retain(|k, _| groups[i..].iter().flatten().any(|r| data_key(r) == *k));
                        match c.get(&key) {
                            Some(d) => Ok(d.clone()),
                            None => load_data(spec, tier, &out, &generator).map(|d| {
                                c.insert(key, d.clone());
                                d
                            }),
                        }
                    })
                    .collect();
                let data = match data {
                    Ok(d) => d,
                    Err(e) => {
                        let msg = format!("{e:#}");
                        for spec in group {
                            report(
                                spec,
                                tasks::TaskOutcome::Failed(anyhow::anyhow!("{msg}")),
                                0.0,
                            );
                        }
                        continue;
                    }
                };
                if a.population == 1 {
                    // One run at a time, waiting for a run another process holds (as ever).
                    let spec = group[0];
                    let r = tasks::train_claimed(spec, &out, &recs, || {
                        run_one(spec, &data[0], &dir_of(spec))
                    });
                    let r = match r {
                        Ok(d) => tasks::TaskOutcome::Done(d),
                        Err(e) => tasks::TaskOutcome::Failed(e),
                    };
                    report(spec, r, t.elapsed().as_secs_f64());
                    continue;
                }
                let results = tasks::train_claimed_group(group, &out, &recs, |to_train| {
                    let d: Vec<&Datasets> = to_train
                        .iter()
                        .map(|m| {
                            &data[group
                                .iter()
                                .position(|g| std::ptr::eq(*g, *m))
                                .expect("member")]
                        })
                        .collect();
                    let dirs: Vec<PathBuf> = to_train.iter().map(|m| dir_of(m)).collect();
                    run_group(to_train, &d, &dirs)
                });
                let secs = t.elapsed().as_secs_f64();
                for (spec, r) in results {
                    report(spec, r, secs);
                }
            });
        }
    });
    let recs: Vec<RunRecord> = runs.iter().filter_map(|r| recs.finished(r)).collect();
    let ids = |keep: fn(&RunRecord) -> bool| -> Vec<String> {
        recs.iter()
            .filter(|r| keep(r))
            .map(|r| r.spec.id())
            .collect()
    };
    let (diverged, unscored) = (ids(RunRecord::diverged), ids(RunRecord::unscored));
    write_outputs(fig, tier, &recs, &out)?;
    for (ids, what) in [
        (diverged, "diverged"),
        (unscored, "trained into models whose test rollouts overflow"),
    ] {
        if !ids.is_empty() {
            println!(
                "{} runs {what} (recorded; left out of the table): {}",
                ids.len(),
                ids.join(", ")
            );
        }
    }
    let failures = failures.into_inner().expect("lock");
    if !failures.is_empty() {
        bail!(
            "{} runs failed: {}; rerun to retry them",
            failures.len(),
            failures.join(", ")
        );
    }
    Ok(())
}

/// results.csv (every run), table.md, and the figure as PNG and SVG, as the core computes them
/// from the records, into `<root>/<figure>`; the table is printed too. fig7's rollout drawings
/// come from its datasets and run directories in `root`, where they are.
fn write_outputs(fig: Figure, tier: Tier, records: &[RunRecord], root: &Path) -> Result<()> {
    let o = if fig == Figure::Fig7 {
        fig7_outputs(
            tier,
            records,
            &crate::control::fig7_rollouts(tier, records, root),
        )?
    } else {
        figure_outputs(fig, tier, records)?
    };
    let out = root.join(fig.name());
    write_atomic(&out.join("results.csv"), o.csv.as_bytes())?;
    for f in &o.files {
        write_atomic(&out.join(&f.name), &f.bytes)?;
    }
    write_atomic(&out.join("table.md"), o.markdown.as_bytes())?;
    print!("{}", o.markdown);
    let names: Vec<&str> = o.files.iter().map(|f| f.name.as_str()).collect();
    println!(
        "wrote {}/{{results.csv, table.md, {}}}",
        out.display(),
        names.join(", ")
    );
    Ok(())
}
