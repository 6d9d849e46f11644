//! Training fixtures: short runs of every model kind and every control model, solo and as a
//! population of two, whose loss histories (and test errors) were recorded by an earlier build
//! (`tests/fixtures/training.json`). Retraining them must give every digit back, so a change to
//! the training code that moves any committed record's numbers fails here first.
//!
//! Re-record (only when a change is meant to move the numbers, and say so in the commit):
//! `PHASELAB_BLESS=1 cargo test --release -p phaselab-core fixture`.
//!
//! The digits depend on the matrix kernels the processor selects at run time (AVX-512 or not) and
//! on whether a step's batch is split across two threads (the `parallel` feature, on whenever the
//! workspace is built together, off for `cargo test -p phaselab-core`): the file holds one set per
//! (instruction set, split) it was made with. Where it has no set for this build, the histories
//! must agree with one of its sets to 1e-4 relative instead of exactly.

use super::control::{evaluate_control, fit_standardisation, mujoco_train_config};
use super::test_data::{generated, hopper, two_members};
use super::*;
use crate::data::TrajectorySet;
use crate::models::{ControlConfig, ControlKind, ModelConfig, ModelKind};
use burn::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/training.json");

/// One recorded run: its per-epoch losses and learning rates, and its test error after training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Fixture {
    loss: Vec<f64>,
    lr: Vec<f64>,
    test: f64,
}

/// Every recorded set, by the build it was made with ([`build`]).
type Fixtures = BTreeMap<String, BTreeMap<String, Fixture>>;

/// The build's run-time instruction set and batch split, e.g. `x86_64+avx512f, split`.
fn build() -> String {
    let split = cfg!(feature = "parallel");
    format!("{}, {}", isa(), if split { "split" } else { "whole" })
}

fn isa() -> String {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            return "x86_64+avx512f".into();
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            return "x86_64+avx2+fma".into();
        }
    }
    std::env::consts::ARCH.into()
}

fn fixture(out: &TrainOutcome<impl Module>, test: f64) -> Fixture {
    assert!(
        out.error.is_none(),
        "a fixture run stopped: {:?}",
        out.error
    );
    Fixture {
        loss: out.history.iter().map(|h| h.loss).collect(),
        lr: out.history.iter().map(|h| h.lr).collect(),
        test,
    }
}

/// chain-pendulum:2, data seed `seed`: 80 training chunks (2 steps of 32 per epoch), 6 test
/// trajectories of 30 steps.
fn pendulum_data(seed: u64) -> (TrajectorySet, TrajectorySet) {
    generated("chain-pendulum:2", 80, 6, 30, seed)
}

/// Train every fixture run with today's code.
fn train_all() -> BTreeMap<String, Fixture> {
    let dev = Device::flex();
    let ad = dev.clone().autodiff();
    let mut runs = BTreeMap::new();
    let (a, b) = (pendulum_data(0), pendulum_data(1));
    let cfg = |lr: f64, loss: Loss, seed: u64| TrainConfig {
        epochs: 10,
        batch: 32,
        lr,
        loss,
        seed,
        ..TrainConfig::default()
    };
    for kind in ModelKind::PAPER {
        let mc = |seed| ModelConfig {
            width: 32,
            seed,
            stabiliser: kind.is_hamiltonian(),
            ..ModelConfig::new(kind, 2, vec![true, true])
        };
        let gerr = |m: &crate::models::DynamicsModel, test: &TrajectorySet| {
            evaluate(m, test, &Default::default(), &dev).unwrap().gerr
        };
        let c = cfg(5e-3, Loss::L2, 0);
        let solo = train(mc(0).init(&ad), &a.0, &c, &ad, &mut |_, _| true);
        let g = gerr(&solo.model, &a.1);
        runs.insert(format!("{kind}/solo"), fixture(&solo, g));
        // Members differ in weights, data, learning rate, loss and minibatch order.
        let cfgs = vec![cfg(5e-3, Loss::L2, 0), cfg(2e-3, Loss::L1, 1)];
        let models = vec![mc(0).init(&ad), mc(1).init(&ad)];
        let pop = train_population(models, &[&a.0, &b.0], cfgs, &ad, &mut |_, _| true).unwrap();
        for (k, (out, test)) in pop.iter().zip([&a.1, &b.1]).enumerate() {
            let g = gerr(&out.model, test);
            runs.insert(format!("{kind}/population-{k}"), fixture(out, g));
        }
    }
    let (train_set, test) = (hopper("hopper_train.npz"), hopper("hopper_test.npz"));
    let base = TrainConfig {
        epochs: 10,
        batch: 16,
        ..mujoco_train_config()
    };
    for kind in ControlKind::ALL {
        let mc = |seed| {
            let mut c = ControlConfig {
                width: 32,
                seed,
                ..ControlConfig::new(kind, 6, 3)
            };
            fit_standardisation(&mut c, &train_set).unwrap();
            c
        };
        let mse = |m: &crate::models::ControlModel| evaluate_control(m, &test, &dev).unwrap().mse;
        let solo = train(mc(0).init(&ad), &train_set, &base, &ad, &mut |_, _| true);
        runs.insert(
            format!("control-{kind}/solo"),
            fixture(&solo, mse(&solo.model)),
        );
        let cfgs = two_members(&base);
        let models = vec![mc(0).init(&ad), mc(1).init(&ad)];
        let pop = train_population(models, &[&train_set, &train_set], cfgs, &ad, &mut |_, _| {
            true
        })
        .unwrap();
        for (k, out) in pop.iter().enumerate() {
            runs.insert(
                format!("control-{kind}/population-{k}"),
                fixture(out, mse(&out.model)),
            );
        }
    }
    runs
}

fn agree(a: f64, b: f64, exact: bool) -> bool {
    if exact {
        a.to_bits() == b.to_bits()
    } else {
        (a - b).abs() <= 1e-4 * a.abs().max(b.abs())
    }
}

#[test]
fn fixture_runs_retrain_to_every_digit() {
    let now = train_all();
    assert_eq!(
        now.len(),
        30,
        "7 model kinds and 3 control models, each solo and as 2 members"
    );
    let mut sets: Fixtures = match std::fs::read_to_string(FILE) {
        Ok(text) => serde_json::from_str(&text).expect("tests/fixtures/training.json parses"),
        Err(_) => Fixtures::new(),
    };
    if std::env::var_os("PHASELAB_BLESS").is_some() {
        sets.insert(build(), now);
        let text = serde_json::to_string_pretty(&sets).unwrap() + "\n";
        std::fs::create_dir_all(std::path::Path::new(FILE).parent().unwrap()).unwrap();
        std::fs::write(FILE, text).unwrap();
        eprintln!("recorded the fixture runs of '{}' in {FILE}", build());
        return;
    }
    let (made, recorded, exact) = match sets.get(&build()) {
        Some(r) => (build(), r, true),
        None => {
            let (made, r) = sets
                .iter()
                .next()
                .expect("tests/fixtures/training.json holds a set");
            eprintln!(
                "no fixtures made with '{}': comparing with '{made}' to 1e-4 relative",
                build()
            );
            (made.clone(), r, false)
        }
    };
    let names: Vec<&String> = now.keys().collect();
    assert_eq!(
        names,
        recorded.keys().collect::<Vec<_>>(),
        "the set of fixture runs"
    );
    let mut wrong = Vec::new();
    for (name, was) in recorded {
        let is = &now[name];
        assert_eq!(is.loss.len(), was.loss.len(), "{name}: epochs");
        let pairs = is.loss.iter().zip(&was.loss).map(|(x, y)| ("loss", x, y));
        let pairs = pairs.chain(is.lr.iter().zip(&was.lr).map(|(x, y)| ("lr", x, y)));
        let mut pairs = pairs.enumerate();
        if let Some((e, (what, x, y))) = pairs.find(|(_, (_, x, y))| !agree(**x, **y, exact)) {
            wrong.push(format!("{name}: {what} [{e}] {x:e} recorded as {y:e}"));
        } else if !agree(is.test, was.test, exact) {
            let (x, y) = (is.test, was.test);
            wrong.push(format!("{name}: test error {x:e} recorded as {y:e}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} fixture runs differ from the '{made}' set:\n{}",
        wrong.len(),
        now.len(),
        wrong.join("\n")
    );
}
