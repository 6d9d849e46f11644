//! `phaselab bench`: timings measured on the machine at hand (never asserted in tests).

use anyhow::Result;
use clap::{Args, Subcommand};
use phaselab_core::data::protocol::{map_indices, Protocol};
use phaselab_core::physics::simulate::{grid_points, simulate, Integrator};
use phaselab_core::physics::{relative_energy_change, System};
use phaselab_core::rng::Rng;
use std::time::Instant;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Time the paper's dataset protocol (default: chain-pendulum:2, 1000 + 200 trajectories, dopri5 rtol 1e-7).
    #[command(
        after_help = "Examples:\n  phaselab bench datagen\n  phaselab bench datagen --system spring-pendulum:3 --repeat 3"
    )]
    Datagen(DatagenArgs),
    /// Time one training step in the reference configuration (chain-pendulum:2, width 256, batch 200,
    /// chunk 5, RK4) and, where PyTorch is installed, the same step in PyTorch on this machine.
    #[command(
        after_help = "Examples:\n  phaselab bench train-step --model node-so\n  phaselab bench train-step --model hnn --steps 50 --torch tools/bench/torch_step.py\n  phaselab bench train-step --model node-so --population 1,2,4,8,16,32"
    )]
    TrainStep(TrainStepArgs),
}

#[derive(Args)]
pub struct TrainStepArgs {
    /// node, node-so or hnn (any model works; PyTorch has these three).
    #[arg(long, short, default_value = "node-so")]
    model: String,
    /// Timed steps (after 3 warm-up steps).
    #[arg(long, default_value_t = 30)]
    steps: usize,
    #[arg(long, default_value_t = 256)]
    width: usize,
    #[arg(long, default_value_t = 200)]
    batch: usize,
    /// cpu or wgpu.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Path of torch_step.py to run beside (skipped if python3 or torch is missing).
    #[arg(long, default_value = "tools/bench/torch_step.py")]
    torch: std::path::PathBuf,
    /// Population sizes K to time side by side (comma-separated, e.g. 1,2,4,8): K runs with
    /// weight seeds 0..K trained as one population; throughput in runs x steps per second.
    #[arg(long, value_delimiter = ',')]
    population: Vec<usize>,
    /// Batched PyTorch script run beside `--population` (skipped if python3 or torch is missing).
    #[arg(long, default_value = "tools/bench/torch_population.py")]
    torch_population: std::path::PathBuf,
    /// PyTorch's device for the batched script (cpu, cuda).
    #[arg(long, default_value = "cpu")]
    torch_device: String,
}

#[derive(Args)]
pub struct DatagenArgs {
    /// System to generate.
    #[arg(long, short, default_value = "chain-pendulum:2")]
    system: String,
    /// Timed repetitions (the best and the median are reported).
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// Trajectories in the pool.
    #[arg(long, default_value_t = 1000)]
    n: usize,
    /// Test trajectories.
    #[arg(long, default_value_t = 200)]
    n_test: usize,
}

pub fn run(cmd: BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Datagen(a) => datagen(a),
        BenchCommand::TrainStep(a) => train_step(a),
    }
}

fn datagen(a: DatagenArgs) -> Result<()> {
    let sys = crate::commands::SystemArg {
        system: a.system.clone(),
        drag: None,
    }
    .build()?;
    let p = Protocol {
        n_trajectories: a.n,
        n_test: a.n_test,
        ..Protocol::default()
    };
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!(
        "bench datagen: {} , {} + {} trajectories of {} s, {}, {threads} threads",
        sys.name(),
        a.n,
        a.n_test,
        p.seconds,
        p.integrator
    );
    let mut times = Vec::new();
    for r in 0..a.repeat.max(1) {
        let t = Instant::now();
        let s = p.generate(sys.as_ref(), &|_| {})?;
        let secs = t.elapsed().as_secs_f64();
        std::hint::black_box(&s);
        println!(
            "  run {}: {secs:.3} s ({:.0} trajectories/s)",
            r + 1,
            (a.n + a.n_test) as f64 / secs
        );
        times.push(secs);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let best = times[0];
    let median = times[times.len() / 2];
    println!(
        "best {best:.3} s, median {median:.3} s, {:.0} trajectories/s (best)",
        (a.n + a.n_test) as f64 / best
    );
    full_trajectories(sys.as_ref(), a.n + a.n_test);
    energy_drift(sys.as_ref());
    Ok(())
}

/// The protocol integrates each trajectory only up to the end of its chunk; the reference integrates
/// all 10 s. Time that too, for a like-for-like figure.
fn full_trajectories(sys: &dyn System, count: usize) {
    let n = grid_points(10.0, sys.dt());
    let t = Instant::now();
    let ok = map_indices(count, |i| {
        let s = sys.sample_initial(&mut Rng::stream(7, i as u64));
        simulate(sys, &s, n, sys.dt(), &Integrator::default()).is_ok()
    });
    let secs = t.elapsed().as_secs_f64();
    let good = ok.iter().filter(|x| **x).count();
    println!(
        "full 10 s trajectories: {count} in {secs:.3} s ({:.0} trajectories/s, {good} integrated)",
        count as f64 / secs
    );
}

/// Energy drift of full 10 s trajectories at the default tolerances (what the datasets carry).
fn energy_drift(sys: &dyn System) {
    if sys.drag() > 0.0 {
        return;
    }
    let n = grid_points(10.0, sys.dt());
    let mut worst: f64 = 0.0;
    let mut mean = 0.0;
    let k = 50;
    for i in 0..k {
        let s = sys.sample_initial(&mut Rng::stream(1, i));
        if let Ok(t) = simulate(sys, &s, n, sys.dt(), &Integrator::default()) {
            let e = t
                .states
                .iter()
                .map(|x| relative_energy_change(sys, (&s.q, &s.v), (&x.q, &x.v)))
                .fold(0.0, f64::max);
            worst = worst.max(e);
            mean += e / k as f64;
        }
    }
    println!("energy drift over 10 s at the default tolerances ({k} trajectories): mean {mean:.1e}, worst {worst:.1e} (relative to |T| + |V|)");
}

/// Median, p10 and p90 of per-step times in ms.
fn percentiles(mut times: Vec<f64>) -> (f64, f64, f64) {
    times.sort_by(|x, y| x.total_cmp(y));
    let pct = |f: f64| times[((times.len() - 1) as f64 * f).round() as usize];
    (pct(0.5), pct(0.1), pct(0.9))
}

fn train_step(a: TrainStepArgs) -> Result<()> {
    use phaselab_core::models::{ModelConfig, ModelKind};
    use phaselab_core::train::{train, TrainConfig};
    let kind: ModelKind = a.model.parse().map_err(anyhow::Error::msg)?;
    let device = crate::learn::parse_device(&a.device)?;
    let sys = phaselab_core::physics::system("chain-pendulum:2")?;
    let p = Protocol {
        n_trajectories: a.batch * 5 / 4,
        n_test: 1,
        ..Protocol::default()
    };
    let data = p.generate(sys.as_ref(), &|_| {})?.train;
    let mc = |seed| ModelConfig {
        width: a.width,
        seed,
        ..ModelConfig::new(kind, 2, sys.angular())
    };
    let ad = device.autodiff();
    let steps = a.steps.max(1) + 3;
    let cfg = TrainConfig {
        epochs: steps,
        batch: a.batch,
        ..TrainConfig::default()
    };
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    if !a.population.is_empty() {
        return population_steps(&a, kind, &data, &mc, &cfg, &ad, threads);
    }
    let mut times = Vec::new();
    let mut on_epoch = |s: &phaselab_core::train::EpochStats,
                        _: &phaselab_core::models::DynamicsModel| {
        if s.epoch > 3 {
            times.push(s.seconds * 1e3);
        }
        true
    };
    let out = train(mc(0).init(&ad), &data, &cfg, &ad, &mut on_epoch);
    if let Some(e) = out.error {
        anyhow::bail!("{e}");
    }
    let (med, p10, p90) = percentiles(times);
    let n = a.steps.max(1);
    let ops = if phaselab_core::cpu::plain_ops() {
        ", PHASELAB_PLAIN_OPS: burn's own ops, no split batch"
    } else {
        ""
    };
    println!("phaselab {kind} on {} ({threads} threads{ops}): one step (chain-pendulum:2, width {}, batch {}, chunk 5, rk4) median {med:.1} ms, p10 {p10:.1}, p90 {p90:.1} over {n} steps",
        a.device, a.width, a.batch);
    run_torch(&a.torch, &torch_args(&a, kind, threads), Some(med));
    Ok(())
}

/// The PyTorch scripts' arguments for the configuration being timed.
fn torch_args(
    a: &TrainStepArgs,
    kind: phaselab_core::models::ModelKind,
    threads: usize,
) -> Vec<String> {
    let mut v = vec!["--model".to_string(), kind.name().to_string()];
    v.extend(["--hidden".into(), a.width.to_string()]);
    v.extend(["--batch".into(), a.batch.to_string()]);
    v.extend(["--threads".into(), threads.to_string()]);
    v
}

/// `train-step --population K,...`: K runs (weight seeds 0..K, one data set) as one population,
/// K = 1 being the ordinary single run; throughput in runs x steps per second, side by side.
fn population_steps(
    a: &TrainStepArgs,
    kind: phaselab_core::models::ModelKind,
    data: &phaselab_core::data::TrajectorySet,
    mc: &dyn Fn(u64) -> phaselab_core::models::ModelConfig,
    cfg: &phaselab_core::train::TrainConfig,
    ad: &burn::prelude::Device,
    threads: usize,
) -> Result<()> {
    use phaselab_core::train::{train, train_population, EpochStats};
    if a.population.contains(&0) {
        anyhow::bail!("--population sizes must be at least 1");
    }
    println!("phaselab {kind} on {} ({threads} threads): population training steps (chain-pendulum:2, width {}, batch {} per member, chunk 5, rk4), median over {} steps", a.device, a.width, a.batch, a.steps.max(1));
    let mut solo_rate = None;
    for &k in &a.population {
        let mut times = Vec::new();
        if k == 1 {
            let mut on_epoch = |s: &EpochStats, _: &phaselab_core::models::DynamicsModel| {
                if s.epoch > 3 {
                    times.push(s.seconds * 1e3);
                }
                true
            };
            if let Some(e) = train(mc(0).init(ad), data, cfg, ad, &mut on_epoch).error {
                anyhow::bail!("{e}");
            }
        } else {
            let models = (0..k as u64).map(|s| mc(s).init(ad)).collect();
            let mut on_epoch = |m: usize, s: &EpochStats| {
                if m == 0 && s.epoch > 3 {
                    times.push(s.seconds * 1e3);
                }
                true
            };
            let outs = train_population(
                models,
                &vec![data; k],
                vec![cfg.clone(); k],
                ad,
                &mut on_epoch,
            )?;
            if let Some(e) = outs.iter().find_map(|o| o.error.as_ref()) {
                anyhow::bail!("{e}");
            }
        }
        let (med, p10, p90) = percentiles(times);
        let rate = k as f64 * 1e3 / med;
        if k == 1 {
            solo_rate = Some(rate);
        }
        let vs = solo_rate.map_or(String::new(), |s| format!(", {:.2}x solo", rate / s));
        println!("  population {k:>3}: step median {med:.1} ms (p10 {p10:.1}, p90 {p90:.1}), {rate:.1} runs x steps/s{vs}");
    }
    let list: Vec<String> = a.population.iter().map(|k| k.to_string()).collect();
    let mut args = torch_args(a, kind, threads);
    args.extend(["--population".into(), list.join(",")]);
    args.extend(["--device".into(), a.torch_device.clone()]);
    run_torch(&a.torch_population, &args, None);
    Ok(())
}

/// Runs a PyTorch timing script beside phaselab's figure and prints its JSON lines (and the
/// ratio to `ours` ms, for one-line output), or says why it did not run.
fn run_torch(script: &std::path::Path, args: &[String], ours: Option<f64>) {
    if !script.exists() {
        println!("pytorch: {} not found; pass its path", script.display());
        return;
    }
    match std::process::Command::new("python3")
        .arg(script)
        .args(args)
        .output()
    {
        Ok(o) if o.status.success() => {
            let out = String::from_utf8_lossy(&o.stdout);
            for line in out.lines().filter(|l| !l.trim().is_empty()) {
                println!("pytorch: {}", line.trim());
            }
            let ms = serde_json::from_str::<serde_json::Value>(out.trim())
                .ok()
                .and_then(|v| v["median_ms"].as_f64());
            if let (Some(ours), Some(ms)) = (ours, ms) {
                println!("ratio phaselab / pytorch: {:.2}", ours / ms);
            }
        }
        Ok(o) => println!(
            "pytorch: not run ({})",
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .last()
                .unwrap_or("failed")
        ),
        Err(e) => println!("pytorch: not run ({e})"),
    }
}
