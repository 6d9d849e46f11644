//! `phaselab`: generate data, train and evaluate dynamics models, reproduce the paper.
//! A thin layer over `phaselab-core`: parsing flags, files, progress bars and tables.

mod bench;
mod commands;
mod control;
mod gpu;
mod learn;
mod output;
mod reproduce;
mod results;
mod tasks;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "phaselab",
    version,
    about = "Learn the dynamics of physical systems and see what each inductive bias buys",
    long_about = "phaselab reproduces 'Deconstructing the Inductive Biases of Hamiltonian Neural Networks' \
(Gruver et al., ICLR 2022): exact ground-truth physics, the paper's datasets, NODE, NODE+SO and HNN models, and every figure's reproduction.",
    after_help = "Examples:\n  phaselab systems\n  phaselab data gen --system chain-pendulum:2 --out data/chain2\n  phaselab data info data/chain2/train.npz\n  phaselab simulate --system gyroscope --n 4 --out gyro.npz"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List every system with its coordinates, time step and constants.
    #[command(after_help = "Examples:\n  phaselab systems\n  phaselab systems --json")]
    Systems(commands::SystemsArgs),
    /// Integrate a system from sampled or given initial conditions and write the trajectories.
    #[command(
        after_help = "Examples:\n  phaselab simulate --system chain-pendulum:2 --n 3 --out chain.npz\n  \
phaselab simulate --system spring-pendulum-drag:1 --drag 0.2 --seconds 20 --out damped.npz\n  \
phaselab simulate --system chain-pendulum:1 --init init.json --integrator leapfrog:20 --out leap.npz\n\n\
init.json holds {\"q\": [...], \"v\": [...]} or a list of them; an .npz with q and v [N, D] works too."
    )]
    Simulate(commands::SimulateArgs),
    /// Datasets: generate the paper's train/val/test files, or inspect a file.
    #[command(subcommand)]
    Data(DataCommand),
    /// Control-aware models (node, node-so, hnn-forced) on a dataset with actions (MuJoCo):
    /// train each, score standardised rollout MSE, print a ranked table.
    ///
    /// These node-so and hnn-forced have no learned mass matrix (M = I, p = v), unlike `train`'s
    /// models of the same names.
    #[command(
        after_help = "Examples:\n  tools/mujoco/run.sh generate --env Hopper-v5 --out data/hopper\n  \
phaselab control --data data/hopper --epochs 64 --out runs/hopper\n  \
phaselab control --reference ~/decon-hnn/data --task HopperFull-v0 --models node-so"
    )]
    Control(control::ControlArgs),
    /// Train one model and write its checkpoint, metrics and loss history.
    #[command(
        after_help = "Examples:\n  phaselab train --system chain-pendulum:2 --model node-so --epochs 300 --out runs/c2-nodeso\n  \
phaselab train --system spring-pendulum-drag:2 --model hnn-forced --data data/spring2 --out runs/s2-forced\n  \
phaselab train --system chain-pendulum:1 --model hnn --device wgpu --width 128 --out runs/c1-hnn"
    )]
    Train(learn::TrainArgs),
    /// Evaluate a trained model on test data (rollout error, energy violation, MSE).
    #[command(
        after_help = "Examples:\n  phaselab eval runs/c2-nodeso --data data/chain2/test.npz\n  phaselab eval runs/c2-nodeso/model.phaselab --data data/chain2/test.npz --json"
    )]
    Eval(learn::EvalArgs),
    /// Train several models on the same data and rank them by rollout error.
    #[command(
        after_help = "Examples:\n  phaselab compare --system chain-pendulum:2 --models node,node-so,hnn --epochs 100 --width 128\n  \
phaselab compare --system spring-pendulum-drag:2 --models node-so,hnn,hnn-forced --out runs/drag"
    )]
    Compare(learn::CompareArgs),
    /// Reproduce a figure of the paper: run its grid (resumable), write a table, a CSV and the plot.
    #[command(
        after_help = "Examples:\n  phaselab reproduce fig4 --tier quick --jobs 2\n  phaselab reproduce fig2 --tier smoke --out /tmp/figs\n  \
phaselab reproduce fig4 --tier reference --records docs/results/reference/runs --out out/reference\n  \
phaselab reproduce fig4 --tier paper --seeds 5 --jobs 8 --out runs/fig4\n\nRerunning the same command skips finished runs, so an interrupted reproduction resumes."
    )]
    Reproduce(reproduce::ReproduceArgs),
    /// Fill RESULTS.md's tables and claim verdicts from committed run records (or --check them).
    #[command(
        after_help = "Examples:\n  phaselab results\n  phaselab results --check\n  \
phaselab results --tier quick --records out/reproduce-quick/records --page my-results.md\n  \
phaselab results --tier paper --records docs/results/paper/runs --page docs/results/PAPER-TIER.md --base-tier reference --base-records docs/results/reference/runs"
    )]
    Results(results::ResultsArgs),
    /// Benchmarks (timings are measured here, never asserted in tests).
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

#[derive(Subcommand)]
enum DataCommand {
    /// Generate train.npz, val.npz and test.npz with the paper's protocol.
    #[command(
        after_help = "Examples:\n  phaselab data gen --system chain-pendulum:2 --out data/chain2\n  \
phaselab data gen --system spring-pendulum-drag:3 --drag 0.5 --n 200 --n-test 50 --seed 7 --out data/spring3\n  \
phaselab data gen --system gyroscope --chunk 10 --out data/gyro"
    )]
    Gen(commands::GenArgs),
    /// Describe a trajectory file and check that it is valid (exit status 1 if not).
    #[command(
        after_help = "Examples:\n  phaselab data info data/chain2/train.npz\n  phaselab data info --json data/chain2/test.npz"
    )]
    Info(commands::InfoArgs),
}

fn main() {
    // `phaselab ... | head` should end quietly, not panic on a closed pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default SIGPIPE action before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // Subnormal floats slow training tenfold (see phaselab_core::cpu::denormals); flush them on
    // this thread and on the worker threads the CPU backend computes on.
    phaselab_core::cpu::flush_denormals();
    // Large tensors freed and allocated every step stay in the process (cpu::memory).
    phaselab_core::cpu::keep_freed_memory();
    let _ = rayon::ThreadPoolBuilder::new()
        .start_handler(|_| phaselab_core::cpu::flush_denormals())
        .build_global();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Systems(a) => commands::systems(a),
        Command::Simulate(a) => commands::simulate(a),
        Command::Data(DataCommand::Gen(a)) => commands::gen(a),
        Command::Data(DataCommand::Info(a)) => commands::info(a),
        Command::Control(a) => control::control_cmd(a),
        Command::Train(a) => learn::train_cmd(a),
        Command::Eval(a) => learn::eval_cmd(a),
        Command::Compare(a) => learn::compare_cmd(a),
        Command::Reproduce(a) => reproduce::reproduce_cmd(a),
        Command::Results(a) => results::results_cmd(a),
        Command::Bench(b) => bench::run(b),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
