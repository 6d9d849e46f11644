//! Metric checks on cases with known answers.

use super::*;
use crate::data::protocol::Protocol;
use crate::data::TrajectorySet;
use crate::physics::simulate::{simulate, Integrator};
use crate::physics::{system, State};

fn test_set(name: &str) -> TrajectorySet {
    let p = Protocol {
        n_trajectories: 10,
        n_test: 6,
        test_chunk: 50,
        ..Protocol::default()
    };
    p.generate(system(name).unwrap().as_ref(), &|_| {})
        .unwrap()
        .test
}

fn map(set: &TrajectorySet, f: impl Fn(f64) -> f64) -> TrajectorySet {
    let mut s = set.clone();
    s.q.iter_mut()
        .chain(s.v.iter_mut())
        .for_each(|x| *x = f(*x));
    s
}

#[test]
fn rollout_error_known_values() {
    let truth = test_set("spring-pendulum:2");
    // Exact prediction: everything at the floor.
    let r = rollout_error(&truth, &truth).unwrap();
    assert!((r.gerr - LOG_FLOOR).abs() < 1e-12);
    assert_eq!(r.curve.len(), truth.t - 1);
    // Uniform relative scaling z (1 + e): rel = e / (2 + e) exactly.
    let e = 0.01;
    let r = rollout_error(&truth, &map(&truth, |x| x * (1.0 + e))).unwrap();
    assert!((r.gerr - e / (2.0 + e)).abs() < 1e-12, "{}", r.gerr);
    // The opposite state: rel = 1, the metric's ceiling.
    let r = rollout_error(&truth, &map(&truth, |x| -x)).unwrap();
    assert!((r.gerr - 1.0).abs() < 1e-12);
    // MSE of a constant offset c is c^2.
    assert!((mse(&truth, &map(&truth, |x| x + 0.5)).unwrap() - 0.25).abs() < 1e-12);
}

#[test]
fn metrics_reject_mismatched_shapes() {
    let truth = test_set("chain-pendulum:1");
    let mut short = truth.clone();
    short.n -= 1;
    short.q.truncate(short.n * short.t * short.d);
    short.v.truncate(short.n * short.t * short.d);
    assert!(rollout_error(&truth, &short)
        .unwrap_err()
        .to_string()
        .contains("shape"));
}

#[test]
fn chaotic_perturbation_grows_and_energy_tracks_it() {
    // Ground truth perturbed by 1e-4 at t = 0 (the paper's chaos floor): the rollout error starts
    // near 1e-4 and grows; a trajectory of the true system keeps the true energy up to that offset,
    // while a damped imitation violates it more and more.
    let sys = system("chain-pendulum:3").unwrap();
    let truth = test_set("chain-pendulum:3");
    let mut pert = truth.clone();
    let mut damped = truth.clone();
    for i in 0..truth.n {
        let (q, v) = truth.state(i, 0);
        let s = State {
            q: q.iter().map(|x| x + 1e-4).collect(),
            v: v.to_vec(),
        };
        let tr = simulate(sys.as_ref(), &s, truth.t, truth.dt, &Integrator::default()).unwrap();
        for (k, st) in tr.states.iter().enumerate() {
            let o = (i * truth.t + k) * truth.d;
            pert.q[o..o + truth.d].copy_from_slice(&st.q);
            pert.v[o..o + truth.d].copy_from_slice(&st.v);
            for j in 0..truth.d {
                damped.v[o + j] *= (-0.05 * k as f64 * truth.dt).exp();
            }
        }
    }
    let r = rollout_error(&truth, &pert).unwrap();
    assert!(r.curve[0] > 1e-6 && r.curve[0] < 1e-3, "{}", r.curve[0]);
    assert!(r.curve[r.curve.len() - 1] > r.curve[0]);
    let h_pert = energy_violation(sys.as_ref(), &truth, &pert).unwrap();
    let h_damp = energy_violation(sys.as_ref(), &truth, &damped).unwrap();
    assert!(h_pert.herr < 1e-3, "{}", h_pert.herr);
    assert!(h_damp.herr > 10.0 * h_pert.herr);
    assert!(h_damp.curve[h_damp.curve.len() - 1] > h_damp.curve[0]);
}

#[test]
fn persistence_holds_every_first_state() {
    let truth = test_set("chain-pendulum:2");
    let still = persistence(&truth);
    for i in 0..truth.n {
        for k in 0..truth.t {
            assert_eq!(
                still.state(i, k),
                truth.state(i, 0),
                "trajectory {i}, point {k}"
            );
        }
    }
    // Its MSE is the mean squared displacement from the start, by hand.
    let mut s = 0.0;
    for i in 0..truth.n {
        for k in 1..truth.t {
            let ((q0, v0), (q, v)) = (truth.state(i, 0), truth.state(i, k));
            for (a, b) in q0.iter().chain(v0).zip(q.iter().chain(v)) {
                s += (a - b).powi(2);
            }
        }
    }
    let by_hand = s / (truth.n * (truth.t - 1) * 2 * truth.d) as f64;
    let m = mse(&truth, &still).unwrap();
    assert!((m - by_hand).abs() <= 1e-12 * by_hand, "{m} vs {by_hand}");
}

#[test]
fn chaos_floor_is_the_true_system_started_eps_away_in_every_coordinate() {
    let sys = system("chain-pendulum:2").unwrap();
    let truth = test_set("chain-pendulum:2");
    // By hand: each test chunk's first state with eps added to every coordinate q (velocities as
    // they are), integrated by the ground-truth integrator, scored against the truth.
    let by_hand = |eps: f64| {
        let mut pred = truth.clone();
        for i in 0..truth.n {
            let (q, v) = truth.state(i, 0);
            let s = State {
                q: q.iter().map(|x| x + eps).collect(),
                v: v.to_vec(),
            };
            let tr = simulate(sys.as_ref(), &s, truth.t, truth.dt, &Integrator::default()).unwrap();
            for (k, st) in tr.states.iter().enumerate() {
                let o = (i * truth.t + k) * truth.d;
                pred.q[o..o + truth.d].copy_from_slice(&st.q);
                pred.v[o..o + truth.d].copy_from_slice(&st.v);
            }
        }
        rollout_error(&truth, &pred).unwrap()
    };
    let floor = chaos_floor(sys.as_ref(), &truth, 1e-4).unwrap();
    assert_eq!(floor, by_hand(1e-4));
    // Started exactly on the truth, the integrator reproduces it: the metric's own floor.
    let none = chaos_floor(sys.as_ref(), &truth, 0.0).unwrap();
    assert!(none.gerr < 1e-6, "{}", none.gerr);
    // At the first step the error is linear in eps: |dz| ~ eps / sqrt(2) over |z| ~ 1.
    assert!(
        floor.curve[0] > 1e-6 && floor.curve[0] < 1e-3,
        "{}",
        floor.curve[0]
    );
    let tenth = chaos_floor(sys.as_ref(), &truth, 1e-5).unwrap();
    let ratio = tenth.curve[0] / floor.curve[0];
    assert!((ratio - 0.1).abs() < 0.005, "{ratio}");
}

#[test]
fn the_cartesian_error_does_not_depend_on_the_coordinates_a_model_predicts_in() {
    use crate::data::cartesian::to_cartesian;
    for name in ["chain-pendulum:2", "gyroscope"] {
        let sys = system(name).unwrap();
        let truth = test_set(name);
        // A prediction off the truth (a perturbed start, through the true system).
        let pred = perturbed_truth(sys.as_ref(), &truth, 1e-2).unwrap();
        let (tc, pc) = (
            to_cartesian(&truth, sys.as_ref()).unwrap(),
            to_cartesian(&pred, sys.as_ref()).unwrap(),
        );
        let from_angles = cartesian_rollout_error(sys.as_ref(), &truth, &pred).unwrap();
        let from_points = cartesian_rollout_error(sys.as_ref(), &tc, &pc).unwrap();
        let mixed = cartesian_rollout_error(sys.as_ref(), &tc, &pred).unwrap();
        assert_eq!(from_angles, from_points, "{name}");
        assert_eq!(from_angles, mixed, "{name}");
        // It is a different number from the generalised error, and the same definition.
        let generalised = rollout_error(&truth, &pred).unwrap();
        assert_ne!(from_angles.gerr, generalised.gerr, "{name}");
        assert_eq!(from_angles, rollout_error(&tc, &pc).unwrap());
        // The chaos floor on the points: far below this prediction's error, above exact agreement.
        let floor = cartesian_chaos_floor(sys.as_ref(), &truth, 1e-4).unwrap();
        assert!(
            floor.gerr > 1e-7 && floor.gerr < from_angles.gerr / 10.0,
            "{name}: {floor:?}"
        );
    }
}
