//! Physics checks: conservation laws, convergence orders, geometry, and independent formulations
//! of each vector field (not only the code checking itself).

use super::dopri5::Dopri5Options;
use super::rigid_body::{body_angular_velocity, principal_inertia};
use super::simulate::{simulate, Integrator};
use super::*;
use crate::physics::spec::Body;
use crate::rng::Rng;

fn conservative_systems() -> Vec<&'static str> {
    vec![
        "chain-pendulum:1",
        "chain-pendulum:2",
        "chain-pendulum:3",
        "chain-pendulum:5",
        "spring-pendulum:1",
        "spring-pendulum:2",
        "spring-pendulum:3",
        "spring-pendulum:5",
        "gyroscope",
        "magnet-pendulum",
        "rotor",
        "coupled-pendulum:2",
        "coupled-pendulum:3",
    ]
}

fn energy_scale(sys: &dyn System, s: &State) -> f64 {
    let (t, v) = sys.energy_parts(&s.q, &s.v);
    t.abs() + v.abs()
}

/// Tolerances for the conservation check: the reference's rtol 1e-7 is a per-step bound, and its
/// drift over a 10 s trajectory reaches ~1e-6 (reported by `phaselab bench`); the physics itself
/// conserves H to the integrator's accuracy, which this checks at rtol 1e-11.
const TIGHT: Dopri5Options = Dopri5Options {
    rtol: 1e-11,
    atol: 1e-13,
    max_steps: 10_000_000,
};

#[test]
fn dopri5_conserves_energy_over_ten_seconds() {
    for name in conservative_systems() {
        let sys = system(name).unwrap();
        for seed in 0..3 {
            let init = sys.sample_initial(&mut Rng::new(seed));
            let n = simulate::grid_points(TRAJECTORY_SECONDS, sys.dt());
            let traj =
                simulate(sys.as_ref(), &init, n, sys.dt(), &Integrator::Dopri5(TIGHT)).unwrap();
            let h0 = sys.energy(&init.q, &init.v);
            let scale = energy_scale(sys.as_ref(), &init);
            let worst = traj
                .states
                .iter()
                .map(|s| (sys.energy(&s.q, &s.v) - h0).abs() / scale)
                .fold(0.0, f64::max);
            assert!(
                worst < 1e-8,
                "{name} seed {seed}: relative energy error {worst:e}"
            );
        }
    }
}

#[test]
fn drag_systems_lose_energy_monotonically() {
    for name in [
        "chain-pendulum-drag:1",
        "chain-pendulum-drag:2",
        "spring-pendulum-drag:2",
        "spring-pendulum-drag:3,f=1.5",
    ] {
        let sys = system(name).unwrap();
        let init = sys.sample_initial(&mut Rng::new(4));
        let traj = simulate(sys.as_ref(), &init, 334, sys.dt(), &Integrator::default()).unwrap();
        let e: Vec<f64> = traj.states.iter().map(|s| sys.energy(&s.q, &s.v)).collect();
        for w in e.windows(2) {
            assert!(
                w[1] < w[0] + 1e-12,
                "{name}: energy rose from {} to {}",
                w[0],
                w[1]
            );
        }
        assert!(
            e[e.len() - 1] < e[0] - 0.1 * (e[0] - e[e.len() - 1]).abs().max(1e-3),
            "{name}: no loss"
        );
        // dE/dt = -f v^T G v exactly.
        let s = &init;
        let p = sys.momentum(&s.q, &s.v);
        let power: f64 = -sys.drag() * p.iter().zip(&s.v).map(|(a, b)| a * b).sum::<f64>();
        assert!(power < 0.0);
        assert!(
            (energy_rate(sys.as_ref(), s) - power).abs() < 1e-5 * power.abs().max(1.0),
            "{name}: dE/dt"
        );
    }
}

/// dH/dt along the field by a central difference in time (independent of the Lagrangian algebra).
fn energy_rate(sys: &dyn System, s: &State) -> f64 {
    let z = s.to_z();
    let mut dz = vec![0.0; z.len()];
    sys.field(&z, &mut dz).unwrap();
    let h = 1e-6;
    let e = |sign: f64| {
        let zz: Vec<f64> = z.iter().zip(&dz).map(|(a, b)| a + sign * h * b).collect();
        let st = State::from_z(&zz);
        sys.energy(&st.q, &st.v)
    };
    (e(1.0) - e(-1.0)) / (2.0 * h)
}

#[test]
fn energy_is_stationary_along_every_conservative_field() {
    for name in conservative_systems() {
        let sys = system(name).unwrap();
        for seed in 0..5 {
            let s = sys.sample_initial(&mut Rng::new(100 + seed));
            let rate = energy_rate(sys.as_ref(), &s);
            // Scale: |T| + |V| per unit time with typical rates ~ 10/s.
            let tol = 1e-6 * energy_scale(sys.as_ref(), &s).max(1.0) * 10.0;
            assert!(rate.abs() < tol, "{name}: dH/dt = {rate:e}");
        }
    }
}

#[test]
fn leapfrog_energy_error_stays_bounded_over_a_thousand_periods() {
    let sys = system("chain-pendulum:1").unwrap();
    let l = reference_constants::chain_lengths(1)[0];
    let period = 2.0 * std::f64::consts::PI * (l / GRAVITY).sqrt();
    let init = State {
        q: vec![1.0],
        v: vec![0.0],
    };
    let h0 = sys.energy(&init.q, &init.v);
    let dt = 0.05;
    let n = (1000.0 * period / dt) as usize;
    let traj = simulate(
        sys.as_ref(),
        &init,
        n,
        dt,
        &Integrator::Leapfrog { substeps: 5 },
    )
    .unwrap();
    let errs: Vec<f64> = traj
        .states
        .iter()
        .map(|s| (sys.energy(&s.q, &s.v) - h0).abs() / h0.abs())
        .collect();
    let first = errs[..n / 10].iter().cloned().fold(0.0, f64::max);
    let last = errs[9 * n / 10..].iter().cloned().fold(0.0, f64::max);
    assert!(last < 1e-3, "leapfrog energy error {last:e}");
    // Bounded: no secular growth between the first and last tenth.
    assert!(
        last < 1.5 * first,
        "energy error grew: {first:e} -> {last:e}"
    );
}

fn final_error(
    sys: &dyn System,
    init: &State,
    integ: Integrator,
    exact: &State,
    n: usize,
    dt: f64,
) -> f64 {
    let t = simulate(sys, init, n, dt, &integ).unwrap();
    let last = t.states.last().unwrap();
    last.q
        .iter()
        .chain(&last.v)
        .zip(exact.q.iter().chain(&exact.v))
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        .sqrt()
}

#[test]
fn convergence_orders_rk4_four_leapfrog_two() {
    let sys = system("chain-pendulum:1").unwrap();
    let init = State {
        q: vec![1.2],
        v: vec![0.3],
    };
    let tight = Integrator::Dopri5(Dopri5Options {
        rtol: 1e-13,
        atol: 1e-13,
        max_steps: 10_000_000,
    });
    let (n, dt) = (21, 0.1);
    let exact = simulate(sys.as_ref(), &init, n, dt, &tight)
        .unwrap()
        .states
        .pop()
        .unwrap();
    let err = |integ| final_error(sys.as_ref(), &init, integ, &exact, n, dt);
    let r = err(Integrator::Rk4 { substeps: 4 }) / err(Integrator::Rk4 { substeps: 8 });
    assert!((12.0..20.0).contains(&r), "rk4 halving ratio {r}");
    let r = err(Integrator::Leapfrog { substeps: 8 }) / err(Integrator::Leapfrog { substeps: 16 });
    assert!((3.5..4.5).contains(&r), "leapfrog halving ratio {r}");
}

#[test]
fn chain_pendulum_keeps_its_link_lengths() {
    let spec: SystemSpec = "chain-pendulum:4".parse().unwrap();
    let sys = build(spec);
    let lengths = reference_constants::chain_lengths(4);
    let init = sys.sample_initial(&mut Rng::new(9));
    let traj = simulate(sys.as_ref(), &init, 100, 0.03, &Integrator::default()).unwrap();
    for s in &traj.states {
        let x = sys.bodies(&s.q);
        let mut prev = [0.0; 3];
        for (i, p) in x.iter().enumerate() {
            let d =
                ((p[0] - prev[0]).powi(2) + (p[1] - prev[1]).powi(2) + (p[2] - prev[2]).powi(2))
                    .sqrt();
            assert!((d - lengths[i]).abs() < 1e-12);
            prev = *p;
        }
    }
}

#[test]
fn one_link_pendulum_matches_small_angle_solution() {
    let sys = system("chain-pendulum:1").unwrap();
    let l = reference_constants::chain_lengths(1)[0];
    let w = (GRAVITY / l).sqrt();
    let a = 1e-4;
    let init = State {
        q: vec![a],
        v: vec![0.0],
    };
    let traj = simulate(sys.as_ref(), &init, 334, 0.03, &Integrator::default()).unwrap();
    for (k, s) in traj.states.iter().enumerate() {
        let exact = a * (w * k as f64 * 0.03).cos();
        // Nonlinear correction is O(a^3); integration error O(rtol).
        assert!(
            (s.q[0] - exact).abs() < 1e-3 * a,
            "t={} {} vs {}",
            k as f64 * 0.03,
            s.q[0],
            exact
        );
    }
}

#[test]
fn spring_pendulum_static_equilibrium_is_at_rest() {
    for n in 1..=5 {
        let sp =
            spring_pendulum::SpringPendulum::new(format!("spring-pendulum:{n}").parse().unwrap());
        let z = sp.equilibrium_heights();
        let mut q = vec![0.0; 3 * n];
        for i in 0..n {
            q[3 * i + 2] = z[i];
        }
        let mut a = vec![0.0; 3 * n];
        System::acceleration(&sp, &q, &vec![0.0; 3 * n], &mut a).unwrap();
        assert!(a.iter().all(|x| x.abs() < 1e-12), "n={n}: {a:?}");
    }
}

#[test]
fn double_pendulum_matches_textbook_equations() {
    // Classic double pendulum in absolute angles (e.g. Goldstein), written independently.
    let sys = system("chain-pendulum:2").unwrap();
    let m = reference_constants::node_masses(2);
    let l = reference_constants::chain_lengths(2);
    let mut rng = Rng::new(5);
    for _ in 0..20 {
        let (t1, t2, w1, w2) = (
            rng.normal(),
            rng.normal(),
            2.0 * rng.normal(),
            2.0 * rng.normal(),
        );
        let (m1, m2, l1, l2, g) = (m[0], m[1], l[0], l[1], GRAVITY);
        let d = t1 - t2;
        let den = 2.0 * m1 + m2 - m2 * (2.0 * d).cos();
        let a1 = (-g * (2.0 * m1 + m2) * t1.sin()
            - m2 * g * (t1 - 2.0 * t2).sin()
            - 2.0 * d.sin() * m2 * (w2 * w2 * l2 + w1 * w1 * l1 * d.cos()))
            / (l1 * den);
        let a2 = (2.0
            * d.sin()
            * (w1 * w1 * l1 * (m1 + m2) + g * (m1 + m2) * t1.cos() + w2 * w2 * l2 * m2 * d.cos()))
            / (l2 * den);
        let mut a = [0.0; 2];
        sys.acceleration(&[t1, t2], &[w1, w2], &mut a).unwrap();
        assert!(
            (a[0] - a1).abs() < 1e-10 * (1.0 + a1.abs())
                && (a[1] - a2).abs() < 1e-10 * (1.0 + a2.abs()),
            "{a:?} vs {a1} {a2}"
        );
    }
}

#[test]
fn spring_pendulum_matches_newtons_law() {
    let sys = system("spring-pendulum:3").unwrap();
    let m = reference_constants::node_masses(3);
    let mut rng = Rng::new(6);
    for _ in 0..10 {
        let s = sys.sample_initial(&mut rng);
        let x: Vec<[f64; 3]> = s.q.chunks(3).map(|c| [c[0], c[1], c[2]]).collect();
        let mut f = vec![[0.0, 0.0, 0.0]; 3];
        for i in 0..3 {
            f[i][2] -= m[i] * GRAVITY;
        }
        for k in 0..3 {
            f[0][k] -= 10.0 * x[0][k];
        }
        for i in 1..3 {
            let d: Vec<f64> = (0..3).map(|k| x[i][k] - x[i - 1][k]).collect();
            let len = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
            for k in 0..3 {
                let fk = -10.0 * (len - 1.0) * d[k] / len;
                f[i][k] += fk;
                f[i - 1][k] -= fk;
            }
        }
        let mut a = vec![0.0; 9];
        sys.acceleration(&s.q, &s.v, &mut a).unwrap();
        for i in 0..3 {
            for k in 0..3 {
                assert!((a[3 * i + k] - f[i][k] / m[i]).abs() < 1e-10);
            }
        }
    }
}

#[test]
fn rotor_obeys_eulers_rigid_body_equations() {
    // Integrate Euler's equations I w' = (I w) x w for the body angular velocity independently and
    // compare with the angular velocity read off the Euler-angle trajectory.
    for (body, moments) in [
        (Body::Decon, rotor::ROTOR_SECOND_MOMENTS),
        (Body::Chnn, rotor::CHNN_ROTOR_SECOND_MOMENTS),
    ] {
        let sys = rotor::Rotor::with_body(body);
        let inertia = principal_inertia(sys.mass_value, moments);
        rotor_matches_euler(&sys, inertia);
    }
}

fn rotor_matches_euler(sys: &rotor::Rotor, inertia: [f64; 3]) {
    let init = State {
        q: vec![0.0, 0.0, 0.0, 0.3, 1.1, -0.4],
        v: vec![0.05, 0.0, -0.1, 0.7, -0.5, 1.3],
    };
    let dt = 0.05;
    let traj = simulate(sys, &init, 41, dt, &Integrator::default()).unwrap();
    let omega =
        |s: &State| body_angular_velocity([s.q[3], s.q[4], s.q[5]], [s.v[3], s.v[4], s.v[5]]);
    let euler = |w: &[f64], dw: &mut [f64]| -> Result<(), ()> {
        let l = [inertia[0] * w[0], inertia[1] * w[1], inertia[2] * w[2]];
        dw[0] = (l[1] * w[2] - l[2] * w[1]) / inertia[0];
        dw[1] = (l[2] * w[0] - l[0] * w[2]) / inertia[1];
        dw[2] = (l[0] * w[1] - l[1] * w[0]) / inertia[2];
        Ok(())
    };
    let grid: Vec<f64> = (0..41).map(|k| k as f64 * dt).collect();
    let opts = Dopri5Options {
        rtol: 1e-11,
        atol: 1e-12,
        max_steps: 1_000_000,
    };
    let ws = dopri5::integrate(|_t, w, dw| euler(w, dw), &omega(&init), &grid, &opts).unwrap();
    for (s, w) in traj.states.iter().zip(&ws) {
        let o = omega(s);
        for k in 0..3 {
            assert!((o[k] - w[k]).abs() < 1e-5, "{o:?} vs {w:?}");
        }
    }
    // Centre of mass moves uniformly.
    let last = traj.states.last().unwrap();
    assert!((last.q[0] - 0.05 * 2.0).abs() < 1e-8 && (last.q[2] + 0.1 * 2.0).abs() < 1e-8);
}

#[test]
fn gyroscope_conserves_vertical_angular_momentum() {
    // phi (rotation about the vertical) is cyclic: p_phi is a constant of motion.
    let sys = system("gyroscope").unwrap();
    for seed in 0..3 {
        let init = sys.sample_initial(&mut Rng::new(seed));
        let traj = simulate(sys.as_ref(), &init, 500, 0.02, &Integrator::default()).unwrap();
        let p0 = sys.momentum(&init.q, &init.v)[0];
        let scale = sys
            .momentum(&init.q, &init.v)
            .iter()
            .map(|x| x.abs())
            .fold(0.0, f64::max);
        for s in &traj.states {
            let p = sys.momentum(&s.q, &s.v)[0];
            assert!((p - p0).abs() < 1e-6 * scale, "p_phi {p} vs {p0}");
        }
    }
}

#[test]
fn magnet_pendulum_hangs_at_rest_without_magnets_and_feels_them_with() {
    let mp = magnet_pendulum::MagnetPendulum::new();
    // Mirror symmetry y -> -y of the magnet layout (magnets on the x axis): no y force at y = 0.
    let mut a = [0.0; 2];
    System::acceleration(
        &mp,
        &[std::f64::consts::PI, std::f64::consts::FRAC_PI_2 + 0.1],
        &[0.0, 0.0],
        &mut a,
    )
    .unwrap();
    assert!(a[0].abs() < 1e-12 * a[1].abs(), "{a:?}");
    // Gradient of V against a finite difference of the potential (independent of the jets).
    let q = [3.0, 1.4];
    let (cols, grad) = lagrangian::jacobian(&mp, &q);
    assert_eq!(cols.len(), 2);
    for k in 0..2 {
        let h = 1e-6;
        let mut qp = q;
        let mut qm = q;
        qp[k] += h;
        qm[k] -= h;
        let vp = System::energy_parts(&mp, &qp, &[0.0, 0.0]).1;
        let vm = System::energy_parts(&mp, &qm, &[0.0, 0.0]).1;
        assert!(((vp - vm) / (2.0 * h) - grad[k]).abs() < 1e-6);
    }
}
