//! Dataset checks: exact file round trip, one clear message per bad-file case, the protocol's sizes,
//! and byte-identical files from the same seed.

use super::npy::NpyArray;
use super::npz;
use super::protocol::Protocol;
use super::*;
use crate::physics::simulate::grid_points;
use crate::physics::system;

fn small(sys: &str, seed: u64) -> protocol::Splits {
    let p = Protocol {
        n_trajectories: 20,
        n_test: 4,
        seed,
        ..Protocol::default()
    };
    p.generate(system(sys).unwrap().as_ref(), &|_| {}).unwrap()
}

#[test]
fn protocol_sizes_and_chunks() {
    let s = small("chain-pendulum:2", 0);
    assert_eq!((s.train.n, s.train.t, s.train.d), (16, 5, 2));
    assert_eq!((s.val.n, s.val.t), (4, 5));
    assert_eq!((s.test.n, s.test.t), (4, 100));
    assert_eq!(s.train.meta.split, "train");
    assert_eq!(grid_points(10.0, 0.03), 334);
    assert_eq!(grid_points(10.0, 0.05), 200);
    assert_eq!(grid_points(10.0, 0.02), 500);
    // Chunks start on chunk boundaries inside the 10 s trajectory.
    for &t0 in s.train.t0.as_ref().unwrap() {
        let k = (t0 / 0.03).round() as usize;
        assert_eq!(k % 5, 0);
        assert!(k + 5 <= 334);
    }
    for &t0 in s.test.t0.as_ref().unwrap() {
        let k = (t0 / 0.03).round() as usize;
        assert!(k % 100 == 0 && k + 100 <= 334);
    }
    // The test trajectories are not the training ones.
    assert_ne!(s.test.state(0, 0), s.train.state(0, 0));
}

#[test]
fn within_speed_keeps_exactly_the_slow_chunks_in_order() {
    let s = small("rotor", 0).train;
    let fastest = |i: usize| {
        (0..s.t)
            .flat_map(|k| s.state(i, k).1.iter().map(|x| x.abs()))
            .fold(0.0f64, f64::max)
    };
    let mut speeds: Vec<f64> = (0..s.n).map(fastest).collect();
    speeds.sort_by(f64::total_cmp);
    let cap = speeds[s.n / 2];
    let slow = s.within_speed(cap);
    let want: Vec<usize> = (0..s.n).filter(|&i| fastest(i) <= cap).collect();
    assert!(!want.is_empty() && want.len() < s.n);
    assert_eq!(slow.n, want.len());
    for (j, &i) in want.iter().enumerate() {
        assert_eq!(slow.state(j, 0), s.state(i, 0));
        assert_eq!(slow.state(j, s.t - 1), s.state(i, s.t - 1));
        assert_eq!(slow.t0.as_ref().unwrap()[j], s.t0.as_ref().unwrap()[i]);
    }
    slow.validate().unwrap();
    assert_eq!(s.within_speed(f64::INFINITY), s);
    assert_eq!(s.within_speed(0.0).n, 0);
}

#[test]
fn same_seed_gives_byte_identical_files() {
    let a = small("spring-pendulum:2", 3);
    let b = small("spring-pendulum:2", 3);
    assert_eq!(a.train.to_npz(), b.train.to_npz());
    assert_eq!(a.test.to_npz(), b.test.to_npz());
    assert_ne!(
        small("spring-pendulum:2", 4).train.to_npz(),
        a.train.to_npz()
    );
}

#[test]
fn npz_round_trip_is_exact() {
    let mut s = small("gyroscope", 1).test;
    s.u = Some(((0..s.n * s.t * 2).map(|i| (i as f64).sin()).collect(), 2));
    let back = TrajectorySet::from_npz(&s.to_npz()).unwrap();
    assert_eq!(back, s);
}

fn sample_set() -> TrajectorySet {
    small("chain-pendulum:1", 2).val
}

fn arrays(set: &TrajectorySet) -> npz::Arrays {
    npz::read(&set.to_npz()).unwrap()
}

fn expect_error(a: &npz::Arrays, needle: &str) {
    let e = TrajectorySet::from_npz(&npz::write(a))
        .unwrap_err()
        .to_string();
    assert!(e.contains(needle), "expected '{needle}' in: {e}");
}

#[test]
fn bad_files_get_clear_messages() {
    let set = sample_set();
    let good = set.to_npz();
    // Not a zip.
    let e = TrajectorySet::from_npz(b"this is not a zip file")
        .unwrap_err()
        .to_string();
    assert!(e.contains("not an .npz"), "{e}");
    // Truncated archive.
    let e = TrajectorySet::from_npz(&good[..good.len() / 2])
        .unwrap_err()
        .to_string();
    assert!(e.contains("npz"), "{e}");
    // Truncated array inside a valid archive.
    let mut a = arrays(&set);
    let qb = a["q"].to_bytes();
    let mut raw = npz::Arrays::new();
    raw.insert("x".into(), NpyArray::f64(vec![1], vec![0.0]));
    let mut zipped = {
        let mut b = npz::write(&a);
        b.clear();
        b
    };
    zipped.extend(truncated_entry_archive(&qb[..qb.len() - 8], &a));
    let e = TrajectorySet::from_npz(&zipped).unwrap_err().to_string();
    assert!(e.contains("truncated array"), "{e}");
    // Wrong dtype.
    a.insert("q".into(), NpyArray::string("not numbers"));
    expect_error(&a, "wrong type");
    // Shape mismatch between q and v.
    let mut a = arrays(&set);
    a.insert(
        "v".into(),
        NpyArray::f64(
            vec![set.n, set.t - 1, set.d],
            vec![0.0; set.n * (set.t - 1) * set.d],
        ),
    );
    expect_error(&a, "shape");
    // u with another N.
    let mut a = arrays(&set);
    a.insert(
        "u".into(),
        NpyArray::f64(vec![set.n + 1, set.t, 1], vec![0.0; (set.n + 1) * set.t]),
    );
    expect_error(&a, "u must be");
    // NaN and inf.
    let mut a = arrays(&set);
    let mut q = set.q.clone();
    q[3] = f64::NAN;
    q[7] = f64::INFINITY;
    a.insert("q".into(), NpyArray::f64(vec![set.n, set.t, set.d], q));
    expect_error(&a, "2 NaN or infinite values");
    // Unknown system.
    let mut bad = set.clone();
    bad.meta.system = "double-wobbler:2".into();
    let e = TrajectorySet::from_npz(&bad.to_npz())
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown system 'double-wobbler:2'"), "{e}");
    // System that disagrees with D.
    let mut bad = set.clone();
    bad.meta.system = "chain-pendulum:3".into();
    bad.meta.angular = vec![true];
    assert!(TrajectorySet::from_npz(&bad.to_npz())
        .unwrap_err()
        .to_string()
        .contains("D = 3"));
    // Missing metadata; malformed metadata.
    let mut a = arrays(&set);
    a.remove("metadata");
    expect_error(&a, "missing array 'metadata'");
    let mut a = arrays(&set);
    a.insert("metadata".into(), NpyArray::string("{\"system\": 3"));
    expect_error(&a, "bad metadata");
    // Missing q; missing dt and t.
    let mut a = arrays(&set);
    a.remove("q");
    expect_error(&a, "missing array 'q'");
    let mut a = arrays(&set);
    a.remove("dt");
    a.remove("t");
    expect_error(&a, "missing array 'dt'");
    // Non-positive dt.
    let mut a = arrays(&set);
    a.insert("dt".into(), NpyArray::f64(vec![], vec![0.0]));
    a.remove("t");
    expect_error(&a, "dt must be finite and > 0");
    // External data is accepted with a prefix.
    let mut ext = set.clone();
    ext.meta.system = "mujoco:Hopper-v5".into();
    assert!(TrajectorySet::from_npz(&ext.to_npz()).is_ok());
}

/// An archive whose `q.npy` entry is cut short (other entries intact).
fn truncated_entry_archive(q_bytes: &[u8], a: &npz::Arrays) -> Vec<u8> {
    use std::io::Write;
    let mut zw = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default();
    for (k, v) in a {
        zw.start_file(format!("{k}.npy"), o).unwrap();
        if k == "q" {
            zw.write_all(q_bytes).unwrap();
        } else {
            zw.write_all(&v.to_bytes()).unwrap();
        }
    }
    zw.finish().unwrap().into_inner()
}

#[test]
fn initial_conditions_from_json_and_npz() {
    let s = initial_conditions::parse(
        br#"[{"q": [0.1, 0.2], "v": [0.0, 1.0]}, {"q": [1, 2], "v": [3, 4]}]"#,
        2,
    )
    .unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(s[1].v, vec![3.0, 4.0]);
    let e = initial_conditions::parse(br#"{"q": [0.1], "v": [0.0]}"#, 2)
        .unwrap_err()
        .to_string();
    assert!(e.contains("D = 2"), "{e}");
    assert!(initial_conditions::parse(b"{oops", 2)
        .unwrap_err()
        .to_string()
        .contains("JSON"));
    let set = sample_set();
    let from_set = initial_conditions::parse(&set.to_npz(), 1).unwrap();
    assert_eq!(from_set.len(), set.n);
    assert_eq!(from_set[1].q, set.state(1, 0).0);
}

#[test]
fn hostile_inputs_are_refused_without_panicking() {
    // Non-ASCII dtype, overflowing string width.
    for descr in [
        "'\u{e9}8'",
        "'<\u{e9}8'",
        "'<U99999999999999999999'",
        "'<U4611686018427387904'",
    ] {
        let header = format!("{{'descr': {descr}, 'fortran_order': False, 'shape': (1,), }}");
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(header.len() as u16).to_le_bytes());
        b.extend_from_slice(header.as_bytes());
        b.extend_from_slice(&[0u8; 16]);
        assert!(NpyArray::from_bytes(&b).is_err(), "{descr}");
    }
    // Empty dimensions in data and initial-condition files.
    let mut a = npz::Arrays::new();
    a.insert("q".into(), NpyArray::f64(vec![1, 0, 3], vec![]));
    a.insert("v".into(), NpyArray::f64(vec![1, 0, 3], vec![]));
    let bytes = npz::write(&a);
    assert!(initial_conditions::parse(&bytes, 3)
        .unwrap_err()
        .to_string()
        .contains("empty"));
    assert!(TrajectorySet::from_npz(&bytes)
        .unwrap_err()
        .to_string()
        .contains("empty"));
    let mut a = npz::Arrays::new();
    a.insert("q".into(), NpyArray::f64(vec![1 << 40, 1 << 40, 0], vec![]));
    a.insert("v".into(), NpyArray::f64(vec![1 << 40, 1 << 40, 0], vec![]));
    assert!(TrajectorySet::from_npz(&npz::write(&a)).is_err());
    // Protocol settings that would not fit in memory.
    let sys = system("chain-pendulum:1").unwrap();
    for p in [
        Protocol {
            seconds: 1e300,
            ..Protocol::default()
        },
        Protocol {
            seconds: f64::NAN,
            ..Protocol::default()
        },
        Protocol {
            n_trajectories: usize::MAX / 2,
            ..Protocol::default()
        },
    ] {
        assert!(p.check(sys.as_ref()).is_err());
    }
}

#[test]
fn cartesian_sets_keep_the_constraints_and_map_back_to_the_generalised_truth() {
    use super::cartesian::{to_cartesian, to_generalised};
    use std::f64::consts::TAU;
    for name in [
        "chain-pendulum:3",
        "coupled-pendulum:3",
        "magnet-pendulum",
        "gyroscope",
        "rotor",
        "spring-pendulum:2",
    ] {
        let sys = system(name).unwrap();
        let g = sys.body_graph();
        let s = small(name, 1);
        let cart = to_cartesian(&s.test, sys.as_ref()).unwrap();
        assert_eq!(
            (cart.n, cart.t, cart.d),
            (s.test.n, s.test.t, g.coordinates())
        );
        assert_eq!(cart.meta.coordinates, Coordinates::Cartesian);
        assert_eq!(cart.t0, s.test.t0, "{name}: the same chunks");
        // Every point of every trajectory on the constraints (x and v), as the truth keeps them.
        for i in 0..cart.n {
            for k in 0..cart.t {
                let (x, v) = cart.state(i, k);
                let worst = g
                    .phi(x)
                    .into_iter()
                    .chain(g.phi_dot(x, v))
                    .fold(0.0_f64, |m, a| m.max(a.abs()));
                assert!(
                    worst < 1e-10,
                    "{name}: trajectory {i} point {k}: |Φ| {worst}"
                );
            }
        }
        // A set in the other coordinates, or of another system, is refused with the reason.
        let e = to_cartesian(&cart, sys.as_ref()).unwrap_err().to_string();
        assert!(e.contains("cartesian coordinates"), "{e}");
        let other = system("chain-pendulum:2").unwrap();
        let e = to_generalised(&cart, other.as_ref())
            .unwrap_err()
            .to_string();
        assert!(e.contains("not chain-pendulum:2"), "{e}");
        // The file round trip keeps the coordinates; the map back gives the generalised truth.
        let cart = TrajectorySet::from_npz(&cart.to_npz()).unwrap();
        assert_eq!(cart.meta.coordinates, Coordinates::Cartesian);
        let back = to_generalised(&cart, sys.as_ref()).unwrap();
        // Every state maps back to a generalised state with the same body points and velocities.
        let again = to_cartesian(&back, sys.as_ref()).unwrap();
        for (a, b) in again
            .q
            .iter()
            .chain(&again.v)
            .zip(cart.q.iter().chain(&cart.v))
        {
            assert!(
                (a - b).abs() < 1e-8 * b.abs().max(1.0),
                "{name}: {a} vs {b}"
            );
        }
        // ZXZ Euler angles name each rotation twice, (φ, θ, ψ) and (φ + π, −θ, ψ + π): the map
        // back takes θ in [0, π]. The other charts give the truth itself (angles modulo 2π).
        if matches!(name, "gyroscope" | "rotor") {
            continue;
        }
        let angular = sys.angular();
        for (j, (a, b)) in back.q.iter().zip(&s.test.q).enumerate() {
            let diff = if angular[j % back.d] {
                ((a - b) / TAU).round() * TAU - (a - b)
            } else {
                a - b
            };
            assert!(diff.abs() < 1e-8, "{name}: q[{j}] {a} vs {b}");
        }
        for (a, b) in back.v.iter().zip(&s.test.v) {
            assert!(
                (a - b).abs() < 1e-7 * b.abs().max(1.0),
                "{name}: v {a} vs {b}"
            );
        }
    }
}
