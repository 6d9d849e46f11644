//! The Lagrangian networks and the dissipative HNNs in training: on damped data the port-
//! Hamiltonian HNN and D-HNN learn the energy loss that the HNN cannot, checkpoints round-trip
//! with their parameter counts, and wgpu gives flex's losses. (That every one of them learns and
//! that its population members follow their solo runs is checked with the other generalised
//! models, `tests.rs` and `population_tests.rs`.)

use super::test_data::{generated, quick};
use super::*;
use crate::data::TrajectorySet;
use crate::models::{ModelConfig, ModelKind};
use burn::prelude::*;

const LADDER: [ModelKind; 4] = [
    ModelKind::Delan,
    ModelKind::Lnn,
    ModelKind::PortHnn,
    ModelKind::DHnn,
];

fn config(kind: ModelKind, set: &TrajectorySet, seed: u64) -> ModelConfig {
    ModelConfig {
        width: 32,
        seed,
        ..ModelConfig::for_data(kind, set)
    }
}

/// On a damped pendulum, over two seeds: the port-Hamiltonian HNN rolls out closer to the truth
/// than the HNN, whose field conserves its H and so cannot follow the decay. (D-HNN's ∇D need not
/// remove energy; whether it closes the gap is the drag figure's question, not a test's.)
#[test]
fn on_damped_data_the_port_hamiltonian_hnn_beats_the_conservative_hnn() {
    let dev = Device::flex().autodiff();
    let cpu = Device::flex();
    for seed in 0..2 {
        let (train_set, test) = generated("chain-pendulum-drag:1", 80, 8, 30, seed);
        let gerr = |kind: ModelKind| {
            let out = train(
                config(kind, &train_set, seed).init(&dev),
                &train_set,
                &quick(60, seed),
                &dev,
                &mut |_, _| true,
            );
            assert!(out.error.is_none(), "{kind}: {:?}", out.error);
            evaluate(&out.model, &test, &Default::default(), &cpu)
                .unwrap()
                .gerr
        };
        let hnn = gerr(ModelKind::Hnn);
        let port = gerr(ModelKind::PortHnn);
        assert!(port < hnn, "seed {seed}: port-hnn gerr {port} vs hnn {hnn}");
    }
}

#[test]
fn checkpoints_round_trip_and_parameters_are_counted_like_the_others() {
    let (train_set, test) = generated("spring-pendulum:1", 40, 4, 20, 0);
    let dev = Device::flex();
    for kind in LADDER {
        let m = config(kind, &train_set, 3).init(&dev);
        super::test_data::assert_checkpoint_round_trips(&m, &test);
    }
}

/// wgpu (Mesa's Vulkan driver on the CPU in CI) gives flex's losses: the second-order tangents,
/// the LDLᵀ and triangular solves are plain tensor ops on both.
#[cfg(feature = "wgpu")]
#[test]
fn lagrangian_and_dissipative_models_on_wgpu_give_flexs_losses() {
    let (train_set, _) = generated("chain-pendulum:2", 40, 4, 20, 0);
    for kind in LADDER {
        let mc = config(kind, &train_set, 0);
        super::test_data::assert_wgpu_trains_like_flex(&mc, &train_set, &quick(3, 0));
    }
}
