//! `phaselab bench`: timings measured on the machine at hand (never asserted in tests).

use anyhow::Result;
use clap::{Args, Subcommand};
use phaselab_core::data::protocol::{map_indices, Protocol};
use phaselab_core::physics::simulate::{grid_points, simulate, Integrator};
use phaselab_core::physics::System;
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
        after_help = "Examples:\n  phaselab bench train-step --model node-so\n  phaselab bench train-step --model hnn --steps 50 --torch ../shared/bench/torch_step.py"
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
    #[arg(long, default_value = "../shared/bench/torch_step.py")]
    torch: std::path::PathBuf,
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
            let h0 = sys.energy(&s.q, &s.v);
            let (a, b) = sys.energy_parts(&s.q, &s.v);
            let e = t
                .states
                .iter()
                .map(|x| (sys.energy(&x.q, &x.v) - h0).abs())
                .fold(0.0, f64::max)
                / (a.abs() + b.abs());
            worst = worst.max(e);
            mean += e / k as f64;
        }
    }
    println!("energy drift over 10 s at the default tolerances ({k} trajectories): mean {mean:.1e}, worst {worst:.1e} (relative to |T| + |V|)");
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
    let mc = ModelConfig {
        width: a.width,
        ..ModelConfig::new(kind, 2, sys.angular())
    };
    let ad = device.autodiff();
    let steps = a.steps.max(1) + 3;
    let cfg = TrainConfig {
        epochs: steps,
        batch: a.batch,
        ..TrainConfig::default()
    };
    let mut times = Vec::new();
    let mut on_epoch = |s: &phaselab_core::train::EpochStats,
                        _: &phaselab_core::models::DynamicsModel| {
        if s.epoch > 3 {
            times.push(s.seconds * 1e3);
        }
        true
    };
    let out = train(mc.init(&ad), &data, &cfg, &ad, &mut on_epoch);
    if let Some(e) = out.error {
        anyhow::bail!("{e}");
    }
    times.sort_by(|x, y| x.total_cmp(y));
    let pct = |f: f64| times[((times.len() - 1) as f64 * f).round() as usize];
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let ops = if phaselab_core::models::fused_tanh::plain_ops() {
        ", PHASELAB_PLAIN_OPS: burn's own ops, no split batch"
    } else {
        ""
    };
    println!("phaselab {kind} on {} ({threads} threads{ops}): one step (chain-pendulum:2, width {}, batch {}, chunk 5, rk4) median {:.1} ms, p10 {:.1}, p90 {:.1} over {} steps",
        a.device, a.width, a.batch, pct(0.5), pct(0.1), pct(0.9), times.len());
    if a.torch.exists() {
        let o = std::process::Command::new("python3")
            .arg(&a.torch)
            .args([
                "--model",
                kind.name(),
                "--hidden",
                &a.width.to_string(),
                "--batch",
                &a.batch.to_string(),
                "--threads",
                &threads.to_string(),
            ])
            .output();
        match o {
            Ok(o) if o.status.success() => {
                let line = String::from_utf8_lossy(&o.stdout);
                println!("pytorch: {}", line.trim());
                if let Some(ms) = serde_json::from_str::<serde_json::Value>(line.trim())
                    .ok()
                    .and_then(|v| v["median_ms"].as_f64())
                {
                    println!("ratio phaselab / pytorch: {:.2}", pct(0.5) / ms);
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
    } else {
        println!(
            "pytorch: {} not found; pass --torch PATH",
            a.torch.display()
        );
    }
    Ok(())
}
