//! The data and physics commands.

use crate::output::{bar, read, write_atomic};
use anyhow::{bail, Context, Result};
use clap::Args;
use phaselab_core::data::cartesian::to_cartesian;
use phaselab_core::data::energy_drift::largest_energy_change;
use phaselab_core::data::protocol::{metadata, pack, Protocol};
use phaselab_core::data::{initial_conditions, Coordinates, TrajectorySet};
use phaselab_core::physics::dopri5::Dopri5Options;
use phaselab_core::physics::simulate::{grid_points, simulate as integrate, Integrator};
use phaselab_core::physics::{
    build, family_description, Family, State, System, SystemListing, SystemSpec,
};
use phaselab_core::rng::Rng;
use std::path::PathBuf;

/// Most values one output file may hold (q and v each): 2.5e8 (2 GB of float64).
const MAX_VALUES: usize = 250_000_000;

/// A system name plus an optional `--drag` override.
#[derive(Args, Clone)]
pub struct SystemArg {
    /// System, e.g. chain-pendulum:2, spring-pendulum-drag:3, gyroscope (see `phaselab systems`).
    #[arg(long, short)]
    pub system: String,
    /// Drag coefficient f of a *-drag system (dp/dt += -f p); default 0.4.
    #[arg(long)]
    pub drag: Option<f64>,
}

impl SystemArg {
    pub fn build(&self) -> Result<Box<dyn System>> {
        let mut spec: SystemSpec = self.system.parse()?;
        if let Some(f) = self.drag {
            if !spec.family.has_drag() {
                bail!(
                    "--drag applies to drag systems only (e.g. {}-drag), not {}",
                    spec.family.name(),
                    spec
                );
            }
            // Re-parse so the value is validated like a typed `,f=` suffix.
            spec = spec
                .with_drag(f)
                .to_string()
                .parse()
                .context("invalid --drag")?;
        }
        Ok(build(spec))
    }
}

/// Tolerances of the adaptive ground-truth integrator.
#[derive(Args, Clone, Copy)]
pub struct Tolerances {
    /// Relative tolerance of dopri5 (the reference's 1e-7; tighten for long or chaotic runs).
    #[arg(long, default_value_t = 1e-7)]
    rtol: f64,
    /// Absolute tolerance of dopri5.
    #[arg(long, default_value_t = 1e-9)]
    atol: f64,
}

impl Tolerances {
    /// Apply to an integrator (only dopri5 is adaptive).
    pub fn apply(self, integ: Integrator) -> Result<Integrator> {
        let ok = |x: f64| x.is_finite() && x > 0.0 && x < 1.0;
        if !ok(self.rtol) || !ok(self.atol) {
            bail!(
                "--rtol and --atol must be in (0, 1), got {} and {}",
                self.rtol,
                self.atol
            );
        }
        Ok(match integ {
            Integrator::Dopri5(o) => Integrator::Dopri5(Dopri5Options {
                rtol: self.rtol,
                atol: self.atol,
                ..o
            }),
            other => other,
        })
    }
}

#[derive(Args)]
pub struct SystemsArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn systems(a: SystemsArgs) -> Result<()> {
    let mut rows = Vec::new();
    for f in Family::ALL {
        let names: Vec<String> = match f.body_range() {
            Some((lo, hi)) => (lo..=hi)
                .map(|n| SystemSpec::new(f, n).to_string())
                .collect(),
            None => vec![SystemSpec::new(f, 1).to_string()],
        };
        for name in names {
            let sys = build(name.parse()?);
            rows.push((f, sys));
        }
    }
    if a.json {
        let v: Vec<SystemListing> = rows
            .iter()
            .map(|(_, s)| SystemListing::of(s.as_ref()))
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!(
        "{:<30} {:>3} {:>5} {:>7}  description",
        "system", "D", "dt", "angles"
    );
    for (f, s) in &rows {
        let n_ang = s.angular().iter().filter(|a| **a).count();
        println!(
            "{:<30} {:>3} {:>5} {:>7}  {}",
            s.name(),
            s.dof(),
            s.dt(),
            n_ang,
            family_description(*f)
        );
    }
    println!("\nConstants (phaselab systems --json prints all):");
    let mut seen = std::collections::HashSet::new();
    for (f, s) in &rows {
        if seen.insert(*f) {
            println!("  {:<22} {}", f.name(), s.parameters());
        }
    }
    Ok(())
}

#[derive(Args)]
pub struct SimulateArgs {
    #[command(flatten)]
    system: SystemArg,
    /// Initial conditions file (JSON {"q","v"} or a list; or .npz with q, v [N, D]); default: sample.
    #[arg(long)]
    init: Option<PathBuf>,
    /// Number of sampled initial conditions (ignored with --init).
    #[arg(long, short, default_value_t = 1)]
    n: usize,
    /// Seed for the sampled initial conditions.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Duration in seconds.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Time step of the output grid (default: the system's dt).
    #[arg(long)]
    dt: Option<f64>,
    /// dopri5 (adaptive, default), rk4[:substeps] or leapfrog[:substeps].
    #[arg(long, default_value = "dopri5")]
    integrator: String,
    #[command(flatten)]
    tol: Tolerances,
    /// Output .npz file.
    #[arg(long, short)]
    out: PathBuf,
}

pub fn simulate(a: SimulateArgs) -> Result<()> {
    let sys = a.system.build()?;
    let integ: Integrator = a
        .integrator
        .parse()
        .map_err(|e: String| anyhow::anyhow!("--integrator: {e}"))?;
    let integ = a.tol.apply(integ)?;
    let dt = a.dt.unwrap_or(sys.dt());
    if !(dt.is_finite() && dt > 0.0) {
        bail!("--dt must be a positive number of seconds, got {dt}");
    }
    if !(a.seconds.is_finite() && a.seconds > 0.0 && a.seconds / dt <= 1e7) {
        bail!(
            "--seconds must be positive and at most 1e7 time steps, got {}",
            a.seconds
        );
    }
    let inits: Vec<State> = match &a.init {
        Some(p) => initial_conditions::parse(&read(p)?, sys.dof())
            .with_context(|| format!("in {}", p.display()))?,
        None => {
            if a.n == 0 || a.n > 1_000_000 {
                bail!("--n must be in 1..=1000000, got {}", a.n);
            }
            (0..a.n)
                .map(|i| sys.sample_initial(&mut Rng::stream(a.seed, i as u64)))
                .collect()
        }
    };
    let points = grid_points(a.seconds, dt);
    if inits.len().saturating_mul(points).saturating_mul(sys.dof()) > MAX_VALUES {
        bail!("{} trajectories x {points} steps x D = {} is too large to hold in memory (limit {MAX_VALUES} values)", inits.len(), sys.dof());
    }
    let pb = bar(inits.len() as u64, "simulating");
    let mut trajs = Vec::with_capacity(inits.len());
    for (i, s) in inits.iter().enumerate() {
        let t = integrate(sys.as_ref(), s, points, dt, &integ)
            .with_context(|| format!("trajectory {i}"))?;
        trajs.push(t.states);
        pb.inc(1);
    }
    pb.finish_and_clear();
    let refs: Vec<&[State]> = trajs.iter().map(|t| t.as_slice()).collect();
    let mut set = pack(sys.as_ref(), &refs, dt);
    set.meta = metadata(
        sys.as_ref(),
        a.init.is_none().then_some(a.seed),
        "trajectories",
        &integ,
        "phaselab simulate",
    );
    write_atomic(&a.out, &set.to_npz())?;
    println!("{}", set.summary());
    println!(
        "{:>5} {:>14} {:>14} {:>12}",
        "traj", "H(0)", "H(end)", "rel. change"
    );
    for (i, t) in trajs.iter().enumerate().take(20) {
        let (h0, h1) = (
            sys.energy(&t[0].q, &t[0].v),
            sys.energy(&t[t.len() - 1].q, &t[t.len() - 1].v),
        );
        println!(
            "{i:>5} {h0:>14.6} {h1:>14.6} {:>12.2e}",
            (h1 - h0).abs() / h0.abs().max(1e-12)
        );
    }
    if trajs.len() > 20 {
        println!("  ... {} more", trajs.len() - 20);
    }
    println!("wrote {}", a.out.display());
    Ok(())
}

#[derive(Args)]
pub struct GenArgs {
    #[command(flatten)]
    system: SystemArg,
    /// Trajectories in the training pool (split into train and val).
    #[arg(long, short, default_value_t = 1000)]
    n: usize,
    /// Separate test trajectories.
    #[arg(long, default_value_t = 200)]
    n_test: usize,
    /// Points per training chunk.
    #[arg(long, default_value_t = 5)]
    chunk: usize,
    /// Points per test chunk.
    #[arg(long, default_value_t = 100)]
    test_chunk: usize,
    /// Trajectory length in seconds.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Fraction of the pool used for training.
    #[arg(long, default_value_t = 0.8)]
    train_fraction: f64,
    /// Seed for initial conditions, chunk choice and split.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[command(flatten)]
    tol: Tolerances,
    /// generalised (the system's own coordinates) or cartesian (the positions and velocities of
    /// its body points, from the same trajectories: the constrained models' view).
    #[arg(long, default_value = "generalised")]
    coordinates: String,
    /// Output directory (train.npz, val.npz, test.npz).
    #[arg(long, short)]
    out: PathBuf,
}

pub fn gen(a: GenArgs) -> Result<()> {
    let coordinates: Coordinates = a.coordinates.parse().map_err(anyhow::Error::msg)?;
    let sys = a.system.build()?;
    if a.n > 10_000_000 || a.n_test > 10_000_000 {
        bail!("--n and --n-test are limited to 10,000,000");
    }
    let p = Protocol {
        n_trajectories: a.n,
        n_test: a.n_test,
        seconds: a.seconds,
        chunk: a.chunk,
        test_chunk: a.test_chunk,
        train_fraction: a.train_fraction,
        seed: a.seed,
        integrator: a.tol.apply(Integrator::default())?,
    };
    p.check(sys.as_ref())?;
    let pb = bar(
        (a.n + a.n_test) as u64,
        &format!("{} trajectories", sys.name()),
    );
    let start = std::time::Instant::now();
    let mut splits = p.generate(sys.as_ref(), &|done| pb.set_position(done as u64))?;
    pb.finish_and_clear();
    if coordinates == Coordinates::Cartesian {
        for set in [&mut splits.train, &mut splits.val, &mut splits.test] {
            *set = to_cartesian(set, sys.as_ref())?;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    for (name, set) in [
        ("train", &splits.train),
        ("val", &splits.val),
        ("test", &splits.test),
    ] {
        let path = a.out.join(format!("{name}.npz"));
        write_atomic(&path, &set.to_npz())?;
        println!(
            "== {} ({})",
            path.display(),
            human_size(std::fs::metadata(&path)?.len())
        );
        println!("{}", set.summary());
    }
    println!(
        "generated {} trajectories in {secs:.2} s ({:.0} trajectories/s)",
        a.n + a.n_test,
        (a.n + a.n_test) as f64 / secs
    );
    Ok(())
}

fn human_size(b: u64) -> String {
    if b > 1 << 20 {
        format!("{:.1} MB", b as f64 / (1 << 20) as f64)
    } else {
        format!("{:.1} kB", b as f64 / 1024.0)
    }
}

#[derive(Args)]
pub struct InfoArgs {
    /// A phaselab trajectory file (.npz).
    file: PathBuf,
    /// Print the metadata as JSON.
    #[arg(long)]
    json: bool,
}

pub fn info(a: InfoArgs) -> Result<()> {
    let bytes = read(&a.file)?;
    let set = TrajectorySet::from_npz(&bytes)
        .with_context(|| format!("{} is not a valid phaselab dataset", a.file.display()))?;
    if a.json {
        let v = serde_json::json!({"n": set.n, "t": set.t, "d": set.d, "dt": set.dt, "controls": set.n_controls(),
            "metadata": set.meta, "valid": true});
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!("{}", a.file.display());
    print!("{}", set.summary());
    if let Ok(spec) = set.meta.system.parse::<SystemSpec>() {
        let sys = build(spec);
        // Energy along each trajectory: a quick physical sanity check of the file.
        let (worst, checked) = largest_energy_change(&set, sys.as_ref());
        println!(
            "energy      largest relative change over a trajectory: {worst:.2e}{}{}",
            if sys.drag() > 0.0 {
                " (drag system: energy decays)"
            } else {
                ""
            },
            if checked < set.n {
                format!(
                    " ({} of {} trajectories end on a chart's pole and were passed over)",
                    set.n - checked,
                    set.n
                )
            } else {
                String::new()
            }
        );
    }
    println!("valid       yes");
    Ok(())
}
