//! What a trained model learned, against the true system's, along a 1-D slice of configuration
//! space: q_c swept over its range in the data, every other coordinate held at its median, v = 0
//! (SymODEN's plots). At rest the kinetic terms vanish, so
//!   potential     V(q) = H(q, p = 0)                          (models with a learned H)
//!   inverse mass  (M^-1(q))_cc = (L L^T)_cc                   (models with a mass network)
//!   force         F_c(q) = dp_c/dt at p = 0 = -dV/dq_c        (models in momenta)
//!   acceleration  a_c(q) = dv_c/dt at v = 0 = (M^-1 F)_c      (every model)
//! The true values come from the physics: V from the energy, M from the momenta p = M v.
//! Trajectories of q and v fix a learned H only up to a factor and V up to a constant: H -> H / k
//! with p -> p / k moves nothing. So the learned profiles are shown in the truth's gauge: V fitted
//! to the true V in scale k and offset (models without H: M^-1 fitted in scale), then k V,
//! M^-1 / k and k F; the acceleration needs no gauge.
//! At rest drag does nothing, so one more profile moves: the acceleration a_c(q, v = s e_c) at a
//! typical speed s of q_c in the data (its median |v_c|), from the model's own rollout over a short
//! step h, (v(h) - v(0)) / h; the truth's from the physics, drag included.
//! A model on body points (CHNN, CLNN, the constrained NODE+SO) is read through the map x(q) with
//! its Jacobian J = dx/dq: V(q) = V(x(q)), M(q) = J^T M_x J with its learned masses M_x,
//! F = -J^T grad_x V, and at rest x'' = J q'', so q'' = (J^T J)^-1 J^T x'' of its constrained
//! acceleration.

use crate::data::TrajectorySet;
use crate::models::features::halves;
use crate::models::mass_matrix::MassNet;
use crate::models::DynamicsModel;
use crate::physics::{linalg, System};
use burn::prelude::*;
use serde::Serialize;

/// One learned quantity along the slice beside the true one (same length as the slice's q).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Profile {
    pub learned: Vec<f64>,
    pub truth: Vec<f64>,
}

/// The model's structure along q_c (see the module's doc for each field).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StructureSlice {
    pub model: String,
    /// The swept coordinate and the values of all others.
    pub coordinate: usize,
    pub held: Vec<f64>,
    pub q: Vec<f64>,
    /// The gauge factor k applied to the learned profiles (1 where nothing was fitted).
    pub gauge: f64,
    /// Whether k was fitted (a learned V against a true V that varies along the slice, or a
    /// learned inverse mass); false for models without either, or a slice that cannot fix it.
    pub gauge_fitted: bool,
    /// What the slice could not show, and why, in words (singular points left out, a held
    /// coordinate moved off a pole, a gauge that could not be fitted).
    pub notes: Vec<String>,
    /// None for models without a learned H.
    pub potential: Option<Profile>,
    pub inverse_mass: Option<Profile>,
    pub force: Option<Profile>,
    /// None for hnn-general, whose velocity needs the Hessian of H in p.
    pub acceleration: Option<Profile>,
    /// The acceleration a_c moving at v_c = `speed` (the other velocities zero): where drag shows.
    pub moving: Option<Profile>,
    /// The speed s of that profile: the median |v_c| in the data.
    pub speed: f64,
}

/// A slice that cannot be taken.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum StructureError {
    #[error("coordinate {0} does not exist: the system has {1} coordinates")]
    Coordinate(usize, usize),
    #[error("the data has {0} coordinates but the model was trained on {1}")]
    Shape(usize, usize),
    #[error("no data to take the slice's range from")]
    Empty,
    #[error("the true mass matrix is singular at q = {0:?}")]
    Singular(Vec<f64>),
}

/// The range of q_c and the medians of q over every state of `data`; an angle sweeps [-pi, pi].
fn slice_frame(data: &TrajectorySet, sys: &dyn System, c: usize) -> (f64, f64, Vec<f64>) {
    let d = data.d;
    let mut cols: Vec<Vec<f64>> = vec![Vec::with_capacity(data.n * data.t); d];
    for i in 0..data.n {
        for k in 0..data.t {
            let (q, _) = data.state(i, k);
            for (col, &x) in cols.iter_mut().zip(q) {
                if x.is_finite() {
                    col.push(x);
                }
            }
        }
    }
    let held: Vec<f64> = cols
        .iter_mut()
        .map(|col| {
            col.sort_by(f64::total_cmp);
            col.get(col.len() / 2).copied().unwrap_or(0.0)
        })
        .collect();
    let (lo, hi) = if sys.angular()[c] {
        (-std::f64::consts::PI, std::f64::consts::PI)
    } else {
        let col = &cols[c];
        (col[0], col[col.len() - 1])
    };
    (lo, hi, held)
}

/// Model `m`'s learned structure along coordinate `c` against `sys`'s, on `points` values of q_c
/// spanning the data's range of it.
pub fn learned_structure(
    m: &DynamicsModel,
    sys: &dyn System,
    data: &TrajectorySet,
    c: usize,
    points: usize,
) -> Result<StructureSlice, StructureError> {
    let d = sys.dof();
    if c >= d {
        return Err(StructureError::Coordinate(c, d));
    }
    let model_dof = match m.kind().is_constrained() {
        true => sys.body_graph().coordinates(),
        false => d,
    };
    if data.d != d || m.config.dof != model_dof {
        return Err(StructureError::Shape(data.d, m.config.dof));
    }
    if data.n == 0 || data.t == 0 {
        return Err(StructureError::Empty);
    }
    let (lo, hi, mut held) = slice_frame(data, sys, c);
    let mut notes = vec![];
    // Held coordinates on a pole of the chart (the gyroscope's θ = ±π): move the angles off it.
    if truth_at(sys, &held, c).is_none() {
        let median = held.clone();
        let moved = (1..=6).find_map(|k| {
            let mut q = median.clone();
            for j in (0..d).filter(|&j| j != c && sys.angular()[j]) {
                // a quarter radian at a time, towards zero
                let toward = if median[j] > 0.0 { -1.0 } else { 1.0 };
                q[j] = median[j] + toward * 0.25 * k as f64;
            }
            truth_at(sys, &q, c).map(|_| q)
        });
        if let Some(q) = moved {
            for j in (0..d).filter(|&j| q[j] != median[j]) {
                notes.push(format!(
                    "q{} is held at {:.2} instead of its median {:.2}, where the true mass matrix is singular (a pole of the coordinates)",
                    j + 1,
                    q[j],
                    median[j]
                ));
            }
            held = q;
        }
    }
    let n = points.max(2);
    let qs: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            let mut q = held.clone();
            q[c] = lo + (hi - lo) * i as f64 / (n - 1) as f64;
            q
        })
        .collect();

    // A typical speed of q_c: its median |v_c| over the data (1 where nothing moves).
    let speed = {
        let mut sp: Vec<f64> = (0..data.n)
            .flat_map(|i| (0..data.t).map(move |k| (i, k)))
            .map(|(i, k)| data.state(i, k).1[c].abs())
            .filter(|x| x.is_finite())
            .collect();
        sp.sort_by(f64::total_cmp);
        sp.get(sp.len() / 2)
            .copied()
            .filter(|&x| x > 0.0)
            .unwrap_or(1.0)
    };
    // The truth, in f64; NaN where the mass matrix is singular (left out of the slice).
    let truths: Vec<Option<[f64; 4]>> = qs.iter().map(|q| truth_at(sys, q, c)).collect();
    let singular = truths.iter().filter(|t| t.is_none()).count();
    if singular == n {
        return Err(StructureError::Singular(held));
    }
    if singular > 0 {
        notes.push(format!(
            "the true mass matrix is singular (a pole of the coordinates) at {singular} of the {n} points along q{}; they are left out",
            c + 1
        ));
    }
    let column = |k: usize| -> Vec<f64> {
        truths
            .iter()
            .map(|t| t.map_or(f64::NAN, |t| t[k]))
            .collect()
    };
    let (t_v, t_minv, t_f, t_a) = (column(0), column(1), column(2), column(3));
    let t_moving: Vec<f64> = qs
        .iter()
        .zip(&truths)
        .map(|(q, t)| {
            let mut v = vec![0.0; d];
            v[c] = speed;
            let mut a = vec![0.0; d];
            match (t, sys.acceleration(q, &v, &mut a)) {
                (Some(_), Ok(())) => a[c],
                _ => f64::NAN,
            }
        })
        .collect();
    let moving = keep_where(moving_acceleration(m, sys, &qs, c, speed), &truths);

    let learned = match m.kind().is_constrained() {
        true => constrained_profiles(m, sys, &qs, c),
        false => generalised_profiles(m, &qs, c),
    };
    // The learned values where the truth is left out are left out too.
    let keep = |v: Option<Vec<f64>>| v.map(|v| keep_where(v, &truths));
    let Learned {
        potential,
        inverse_mass,
        force,
        acceleration,
    } = learned;
    let (potential, inverse_mass, force, acceleration) = (
        keep(potential),
        keep(inverse_mass),
        keep(force),
        keep(acceleration),
    );
    // The gauge: k (and V's offset b) by least squares, V_true ~ k V + b, else M^-1_true ~ M^-1 / k;
    // never fitted to a curve that does not vary (that would be noise divided by noise).
    let varies = |v: &[f64]| {
        let f: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
        let mean = f.iter().sum::<f64>() / f.len().max(1) as f64;
        let spread = f.iter().map(|x| (x - mean).abs()).fold(0.0, f64::max);
        f.len() >= 2 && spread > 1e-6 * (mean.abs() + spread) && spread > 1e-12
    };
    let fitted = match (&potential, &inverse_mass) {
        (Some(v), _) if varies(&t_v) && varies(v) => Some(fit_scale_and_offset(v, &t_v)),
        (_, Some(minv)) => {
            if potential.is_some() {
                notes.push(format!(
                    "V does not change along q{}, so {}'s gauge is fitted to the inverse mass",
                    c + 1,
                    m.kind().label()
                ));
            }
            Some((1.0 / fit_scale(minv, &t_minv), 0.0))
        }
        _ => None,
    };
    let (gauge, offset, gauge_fitted) = match fitted {
        Some((k, b)) if k.is_finite() && k != 0.0 && b.is_finite() => (k, b, true),
        _ => (1.0, 0.0, false),
    };
    let potential = potential.map(|v| v.into_iter().map(|x| gauge * x + offset).collect());
    let inverse_mass = inverse_mass.map(|v| v.into_iter().map(|x| x / gauge).collect());
    let force = force.map(|v: Vec<f64>| v.into_iter().map(|x| gauge * x).collect());
    let profile = |learned: Vec<f64>, truth: &[f64]| Profile {
        learned,
        truth: truth.to_vec(),
    };
    Ok(StructureSlice {
        model: m.kind().name().to_string(),
        coordinate: c,
        held,
        q: qs.iter().map(|q| q[c]).collect(),
        gauge,
        gauge_fitted,
        notes,
        potential: potential.map(|v| profile(v, &t_v)),
        inverse_mass: inverse_mass.map(|v| profile(v, &t_minv)),
        force: force.map(|v| profile(v, &t_f)),
        acceleration: acceleration.map(|v| profile(v, &t_a)),
        moving: Some(profile(moving, &t_moving)),
        speed,
    })
}

/// `v` with NaN where the truth is left out.
fn keep_where(v: Vec<f64>, truths: &[Option<[f64; 4]>]) -> Vec<f64> {
    v.into_iter()
        .zip(truths)
        .map(|(x, t)| if t.is_some() { x } else { f64::NAN })
        .collect()
}

/// The model's a_c at (q, v = s e_c) for every q, from its own rollout over one short step h:
/// (v_c(h) - v_c(0)) / h (a model on body points starts from x(q), J(q) v and its end state is
/// read back in generalised coordinates).
fn moving_acceleration(
    m: &DynamicsModel,
    sys: &dyn System,
    qs: &[Vec<f64>],
    c: usize,
    s: f64,
) -> Vec<f64> {
    const H: f64 = 1e-3;
    let (n, d) = (qs.len(), qs[0].len());
    let device = m.main.devices()[0].clone();
    let constrained = m.kind().is_constrained();
    let starts: Vec<Vec<f64>> = qs
        .iter()
        .map(|q| {
            let mut v = vec![0.0; d];
            v[c] = s;
            match constrained {
                true => {
                    let (x, xd) = sys.cartesian(q, &v);
                    x.into_iter().chain(xd).collect()
                }
                false => q.iter().copied().chain(v).collect(),
            }
        })
        .collect();
    let w = starts[0].len();
    let flat: Vec<f32> = starts.iter().flatten().map(|&x| x as f32).collect();
    let z0 = Tensor::<2>::from_data(TensorData::new(flat, [n, w]), &device);
    let (path, _) = m.rollout(z0, 2, H, &crate::solve::Solver::default());
    // Both ends as the rollout holds them (in f32), so that the rounding of the start cancels.
    let at = |k: usize| values(path.clone().narrow(1, k, 1).reshape([n, w]));
    let (start, end) = (at(0), at(1));
    let v_c = |rows: &[f64], i: usize| {
        let row = &rows[i * w..(i + 1) * w];
        match constrained {
            true => sys
                .generalised(&row[..w / 2], &row[w / 2..])
                .map_or(f64::NAN, |st| st.v[c]),
            false => row[d + c],
        }
    };
    (0..n)
        .map(|i| (v_c(&end, i) - v_c(&start, i)) / H)
        .collect()
}

/// The true (V, (M^-1)_cc, F_c, a_c) at rest at q; None where the mass matrix is singular or so
/// near it that its inverse is meaningless (a Cholesky pivot below 1e-9 of the largest diagonal).
fn truth_at(sys: &dyn System, q: &[f64], c: usize) -> Option<[f64; 4]> {
    let d = q.len();
    let zero = vec![0.0; d];
    // M's columns: p = M e_j.
    let mut mass = vec![0.0; d * d];
    for j in 0..d {
        let mut e = zero.clone();
        e[j] = 1.0;
        for (i, p) in sys.momentum(q, &e).into_iter().enumerate() {
            mass[i * d + j] = p;
        }
    }
    let biggest = (0..d).map(|i| mass[i * d + i].abs()).fold(0.0, f64::max);
    let mut low = mass.clone();
    for j in 0..d {
        let pivot = low[j * d + j] - (0..j).map(|k| low[j * d + k].powi(2)).sum::<f64>();
        if !(pivot > 1e-9 * biggest) {
            return None;
        }
        let l = pivot.sqrt();
        low[j * d + j] = l;
        for i in j + 1..d {
            let v = low[i * d + j] - (0..j).map(|k| low[i * d + k] * low[j * d + k]).sum::<f64>();
            low[i * d + j] = v / l;
        }
    }
    let mut a = vec![0.0; d];
    sys.acceleration(q, &zero, &mut a).ok()?;
    // (M^-1)_cc: solve M x = e_c (M is symmetric positive definite).
    let mut x: Vec<f64> = (0..d).map(|i| (i == c) as u8 as f64).collect();
    linalg::cholesky_solve(&mut mass.clone(), &mut x, d)?;
    // At rest M a = F = -dV/dq (drag and the velocity terms vanish with v).
    let f = (0..d).map(|j| mass[c * d + j] * a[j]).sum();
    let out = [sys.energy_parts(q, &zero).1, x[c], f, a[c]];
    out.iter().all(|v| v.is_finite()).then_some(out)
}

/// A model's raw profiles along the slice, before the gauge.
struct Learned {
    potential: Option<Vec<f64>>,
    inverse_mass: Option<Vec<f64>>,
    force: Option<Vec<f64>>,
    acceleration: Option<Vec<f64>>,
}

/// Column j of a [n, w] tensor read back (NaN where it cannot be read).
fn column(t: Tensor<2>, j: usize) -> Vec<f64> {
    let n = t.dims()[0];
    let v = t
        .narrow(1, j, 1)
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>();
    let v = v.unwrap_or_else(|_| vec![f32::NAN; n]);
    v.into_iter().map(f64::from).collect()
}

/// Every value of a [n, w] tensor read back, row-major.
fn values(t: Tensor<2>) -> Vec<f64> {
    let n = t.dims().iter().product();
    let v = t.into_data().convert::<f32>().try_into_vec::<f32>();
    let v = v.unwrap_or_else(|_| vec![f32::NAN; n]);
    v.into_iter().map(f64::from).collect()
}

/// A model in generalised coordinates at the slice's states [q, 0], one batch.
fn generalised_profiles(m: &DynamicsModel, qs: &[Vec<f64>], c: usize) -> Learned {
    let (n, d) = (qs.len(), qs[0].len());
    let device = m.main.devices()[0].clone();
    let flat: Vec<f32> = qs
        .iter()
        .flat_map(|q| {
            q.iter()
                .map(|&x| x as f32)
                .chain(std::iter::repeat_n(0.0, d))
        })
        .collect();
    let s = Tensor::<2>::from_data(TensorData::new(flat, [n, 2 * d]), &device);
    let (q, _) = halves(s.clone());
    let (_, rate) = halves(m.field(s.clone()));
    let momenta = m.kind().uses_momenta();
    let low = m.mass.as_ref().map(|_| m.lower(q.clone()));
    // DeLaN's mass network gives M = L Lᵀ, the [q, p] models' M⁻¹ = L Lᵀ.
    let lagrangian_mass = m.kind() == crate::models::ModelKind::Delan;
    let (force, acceleration) = match (&low, momenta) {
        // dv/dt = M^-1 dp/dt at p = 0.
        (Some(low), true) => (
            Some(column(rate.clone(), c)),
            Some(column(MassNet::minv_p(low, rate), c)),
        ),
        // DeLaN: the force at rest is M dv/dt.
        (Some(low), false) if lagrangian_mass => (
            Some(column(MassNet::minv_p(low, rate.clone()), c)),
            Some(column(rate, c)),
        ),
        // hnn-general: momenta without a mass network.
        (None, true) => (Some(column(rate, c)), None),
        (_, false) => (None, Some(column(rate, c))),
    };
    let inverse_mass = low.as_ref().map(|low| {
        let e = Tensor::<2>::zeros([n, d], &device).slice_fill([0..n, c..c + 1], 1.0);
        match lagrangian_mass {
            true => column(MassNet::m_v(low, e), c),
            false => column(MassNet::minv_p(low, e), c),
        }
    });
    // At rest the learned energy is the potential: H(q, 0), or E(q, 0) = −L(q, 0) of a
    // Lagrangian network.
    let potential = m
        .hamiltonian(s.clone())
        .or_else(|| m.lagrangian_energy(s))
        .map(|h| column(h, 0));
    Learned {
        potential,
        inverse_mass,
        force,
        acceleration,
    }
}

/// A model on body points at x(q) at rest, read back through J = dx/dq (the module's doc).
fn constrained_profiles(m: &DynamicsModel, sys: &dyn System, qs: &[Vec<f64>], c: usize) -> Learned {
    let (n, d) = (qs.len(), qs[0].len());
    let big_n = m.config.dof;
    let device = m.main.devices()[0].clone();
    let zero = vec![0.0; d];
    // x(q) and J (row-major N x D, column j = dx/dt for v = e_j) at each q.
    let mut points = Vec::with_capacity(n * big_n);
    let mut jacobians = Vec::with_capacity(n);
    for q in qs {
        points.extend(sys.cartesian(q, &zero).0);
        let mut j = vec![0.0; big_n * d];
        for col in 0..d {
            let mut e = zero.clone();
            e[col] = 1.0;
            for (i, x) in sys.cartesian(q, &e).1.into_iter().enumerate() {
                j[i * d + col] = x;
            }
        }
        jacobians.push(j);
    }
    let x = Tensor::<2>::from_data(
        TensorData::new(
            points.iter().map(|&v| v as f32).collect::<Vec<_>>(),
            [n, big_n],
        ),
        &device,
    );
    let s = Tensor::cat(vec![x.clone(), Tensor::zeros([n, big_n], &device)], 1);
    let (_, rate) = halves(m.field(s));
    // CHNN's rate is dp/dt: x'' = M_x^-1 dp/dt with its constant masses.
    let accel = match (&m.masses, m.kind().uses_momenta()) {
        (Some(masses), true) => masses
            .minv_times(rate.unsqueeze_dim::<3>(2))
            .reshape([n, big_n]),
        _ => rate,
    };
    let accel = values(accel);
    // q'' = (J^T J)^-1 J^T x'', row c.
    let acceleration = (0..n)
        .map(|i| {
            let j = &jacobians[i];
            let mut jtj = vec![0.0; d * d];
            let mut rhs = vec![0.0; d];
            for r in 0..big_n {
                for a in 0..d {
                    rhs[a] += j[r * d + a] * accel[i * big_n + r];
                    for b in 0..d {
                        jtj[a * d + b] += j[r * d + a] * j[r * d + b];
                    }
                }
            }
            match linalg::cholesky_solve(&mut jtj, &mut rhs, d) {
                Some(()) => rhs[c],
                None => f64::NAN,
            }
        })
        .collect();
    let Some(masses) = &m.masses else {
        return Learned {
            potential: None,
            inverse_mass: None,
            force: None,
            acceleration: Some(acceleration),
        };
    };
    let potential = column(m.main.forward(x.clone()), 0);
    let grad = values(m.main.input_gradient(x));
    // M_x = M ⊗ I_dim with M the learned masses on points.
    let dim = sys.body_graph().dim;
    let points = big_n / dim;
    let on_points = values(masses.matrix(1, &device).reshape([points, points]));
    let mx: Vec<f64> = (0..big_n * big_n)
        .map(|k| {
            let (r, t) = (k / big_n, k % big_n);
            match r % dim == t % dim {
                true => on_points[(r / dim) * points + t / dim],
                false => 0.0,
            }
        })
        .collect();
    let (mut force, mut inverse_mass) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for (i, j) in jacobians.iter().enumerate() {
        // F_c = -(J^T grad V)_c; M(q) = J^T M_x J, and (M^-1)_cc from M y = e_c.
        force.push(
            -(0..big_n)
                .map(|r| j[r * d + c] * grad[i * big_n + r])
                .sum::<f64>(),
        );
        let mut mq = vec![0.0; d * d];
        for a in 0..d {
            for b in 0..d {
                mq[a * d + b] = (0..big_n)
                    .flat_map(|r| (0..big_n).map(move |t| (r, t)))
                    .map(|(r, t)| j[r * d + a] * mx[r * big_n + t] * j[t * d + b])
                    .sum();
            }
        }
        let mut y: Vec<f64> = (0..d).map(|a| (a == c) as u8 as f64).collect();
        inverse_mass.push(match linalg::cholesky_solve(&mut mq, &mut y, d) {
            Some(()) => y[c],
            None => f64::NAN,
        });
    }
    Learned {
        potential: Some(potential),
        inverse_mass: Some(inverse_mass),
        force: Some(force),
        acceleration: Some(acceleration),
    }
}

/// The pairs of x and y where both are finite (points left out of a slice are NaN).
fn finite_pairs(x: &[f64], y: &[f64]) -> (Vec<f64>, Vec<f64>) {
    x.iter()
        .zip(y)
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .map(|(a, b)| (*a, *b))
        .unzip()
}

/// k minimising |k x - y|^2 over the finite pairs.
fn fit_scale(x: &[f64], y: &[f64]) -> f64 {
    let (x, y) = finite_pairs(x, y);
    let xy: f64 = x.iter().zip(&y).map(|(a, b)| a * b).sum();
    xy / x.iter().map(|a| a * a).sum::<f64>()
}

/// (k, b) minimising |k x + b - y|^2 over the finite pairs.
fn fit_scale_and_offset(x: &[f64], y: &[f64]) -> (f64, f64) {
    let (x, y) = finite_pairs(x, y);
    let (x, y) = (&x[..], &y[..]);
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let dx: Vec<f64> = x.iter().map(|a| a - mx).collect();
    let dy: Vec<f64> = y.iter().map(|b| b - my).collect();
    let k = fit_scale(&dx, &dy);
    (k, my - k * mx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::cartesian::to_cartesian;
    use crate::data::protocol::Protocol;
    use crate::models::{ModelConfig, ModelKind};
    use crate::physics::system;
    use crate::train::{train, TrainConfig};

    fn data(name: &str, n: usize) -> (Box<dyn System>, TrajectorySet, TrajectorySet) {
        let sys = system(name).unwrap();
        let p = Protocol {
            n_trajectories: n,
            n_test: 10,
            test_chunk: 20,
            ..Protocol::default()
        };
        let s = p.generate(sys.as_ref(), &|_| {}).unwrap();
        (sys, s.train, s.test)
    }

    /// Relative L2 distance of a learned profile from the truth.
    fn distance(p: &Profile) -> f64 {
        let num: f64 = p
            .learned
            .iter()
            .zip(&p.truth)
            .map(|(a, b)| (a - b).powi(2))
            .sum();
        let den: f64 = p.truth.iter().map(|b| b * b).sum();
        (num / den).sqrt()
    }

    /// The true profiles agree with each other: F = -dV/dq_c (central differences on the slice),
    /// a = M^-1 F along a Cartesian coordinate, and the pendulum's M^-1 = 1/(m l^2) is constant.
    #[test]
    fn the_true_profiles_are_one_physics() {
        for (name, c) in [
            ("spring-pendulum:2", 1),
            ("chain-pendulum:2", 0),
            ("chain-pendulum:1", 0),
        ] {
            let (sys, _, test) = data(name, 10);
            let mc = ModelConfig {
                width: 8,
                ..ModelConfig::new(ModelKind::Hnn, sys.dof(), sys.angular())
            };
            let m = mc.init(&Device::flex());
            let s = learned_structure(&m, sys.as_ref(), &test, c, 201).unwrap();
            let (v, f) = (
                &s.potential.as_ref().unwrap().truth,
                &s.force.as_ref().unwrap().truth,
            );
            let h = s.q[1] - s.q[0];
            let scale = f.iter().fold(0.0f64, |a, x| a.max(x.abs()));
            for i in 1..s.q.len() - 1 {
                let fd = -(v[i + 1] - v[i - 1]) / (2.0 * h);
                assert!(
                    (fd - f[i]).abs() < 1e-3 * scale,
                    "{name} at {}: -dV/dq {fd} vs F {}",
                    s.q[i],
                    f[i]
                );
            }
            let minv = &s.inverse_mass.as_ref().unwrap().truth;
            let a = &s.acceleration.as_ref().unwrap().truth;
            if name == "chain-pendulum:1" {
                assert!(
                    minv.iter().all(|x| (x - minv[0]).abs() < 1e-12 * minv[0]),
                    "{minv:?}"
                );
                for i in 0..a.len() {
                    assert!(
                        (a[i] - minv[i] * f[i]).abs() < 1e-9 * scale * minv[i],
                        "{name}"
                    );
                }
            }
        }
    }

    /// Training brings each model's learned force and acceleration (and the HNN's potential and
    /// inverse mass) towards the truth's; a model without the structure has no such profile.
    #[test]
    fn training_brings_the_learned_structure_to_the_truth() {
        let (sys, train_set, test) = data("chain-pendulum:1", 120);
        let dev = Device::flex();
        let cfg = TrainConfig {
            epochs: 150,
            batch: 64,
            ..TrainConfig::default()
        };
        let cartesian = to_cartesian(&train_set, sys.as_ref()).unwrap();
        for kind in [
            ModelKind::Hnn,
            ModelKind::NodeSo,
            ModelKind::Node,
            ModelKind::Clnn,
            ModelKind::Chnn,
            ModelKind::ConstrainedNodeSo,
            ModelKind::Delan,
            ModelKind::Lnn,
        ] {
            let mc = ModelConfig {
                width: 32,
                ..model_config(kind, sys.as_ref())
            };
            let before = learned_structure(&mc.init(&dev), sys.as_ref(), &test, 0, 41).unwrap();
            let ad = dev.clone().autodiff();
            let set = match kind.is_constrained() {
                true => &cartesian,
                false => &train_set,
            };
            // The constrained models learn masses and V from data in 2-D points: longer.
            let cfg = TrainConfig {
                epochs: cfg.epochs * if kind.is_constrained() { 4 } else { 1 },
                ..cfg.clone()
            };
            let out = train(mc.init(&ad), set, &cfg, &ad, &mut |_, _| true);
            let trained = out.model;
            let after = learned_structure(&trained, sys.as_ref(), &test, 0, 41).unwrap();
            let a = distance(after.acceleration.as_ref().unwrap());
            let a0 = distance(before.acceleration.as_ref().unwrap());
            eprintln!("{kind}: acceleration {a0:.3} -> {a:.3}");
            assert!(a < 0.25 && a < 0.5 * a0, "{kind}: acceleration {a0} -> {a}");
            let mv = distance(after.moving.as_ref().unwrap());
            eprintln!("{kind}: moving {mv:.3}");
            assert!(mv < 0.25, "{kind}: moving acceleration {mv}");
            let energy = matches!(
                kind,
                ModelKind::Hnn
                    | ModelKind::Clnn
                    | ModelKind::Chnn
                    | ModelKind::Delan
                    | ModelKind::Lnn
            );
            // The LNN has an energy but no mass matrix or force of its own.
            let structured = (energy && kind != ModelKind::Lnn) || kind == ModelKind::NodeSo;
            assert_eq!(after.force.is_some(), structured, "{kind}");
            assert_eq!(after.inverse_mass.is_some(), structured, "{kind}");
            assert_eq!(after.potential.is_some(), energy, "{kind}");
            if structured {
                let f = distance(after.force.as_ref().unwrap());
                let m = distance(after.inverse_mass.as_ref().unwrap());
                eprintln!(
                    "{kind}: gauge {:.3}, force {f:.3}, inverse mass {m:.3}",
                    after.gauge
                );
                assert!(f < 0.25, "{kind}: force {f}");
                assert!(m < 0.25, "{kind}: inverse mass {m}");
            }
            if energy {
                let v = distance(after.potential.as_ref().unwrap());
                eprintln!("{kind}: potential {v:.3}");
                assert!(v < 0.25, "{kind}: potential {v}");
            }
        }
    }

    /// The moving profile: the single pendulum's truth does not depend on its speed (no
    /// velocity terms) and with drag it falls by drag x speed at every angle; a NODE's moving
    /// acceleration from its short rollout is its field's dv/dt at that state.
    #[test]
    fn the_moving_profile_shows_drag_and_the_models_own_field() {
        let (sys, _, test) = data("chain-pendulum:1", 10);
        let m = ModelConfig::new(ModelKind::Node, 1, vec![true]).init(&Device::flex());
        let s = learned_structure(&m, sys.as_ref(), &test, 0, 41).unwrap();
        let (rest, moving) = (
            &s.acceleration.as_ref().unwrap().truth,
            &s.moving.as_ref().unwrap().truth,
        );
        for (a, b) in rest.iter().zip(moving) {
            assert!((a - b).abs() < 1e-9 * (1.0 + a.abs()), "{a} vs {b}");
        }
        // the NODE's own dv/dt at (q, s), from its field directly
        let flat: Vec<f32> =
            s.q.iter()
                .flat_map(|&q| [q as f32, s.speed as f32])
                .collect();
        let z = Tensor::<2>::from_data(TensorData::new(flat, [s.q.len(), 2]), &Device::flex());
        let field = values(m.field(z));
        let learned = &s.moving.as_ref().unwrap().learned;
        for (i, a) in learned.iter().enumerate() {
            let want = field[2 * i + 1];
            assert!(
                (a - want).abs() < 2e-2 * (1.0 + want.abs()),
                "at {}: {a} vs {want}",
                s.q[i]
            );
        }
        let (drag, _, test) = data("chain-pendulum-drag:1", 10);
        let s = learned_structure(&m, drag.as_ref(), &test, 0, 41).unwrap();
        let (rest, moving) = (
            &s.acceleration.as_ref().unwrap().truth,
            &s.moving.as_ref().unwrap().truth,
        );
        let gap: Vec<f64> = rest.iter().zip(moving).map(|(a, b)| a - b).collect();
        assert!(gap[0] > 0.0, "drag does not slow the pendulum: {gap:?}");
        for g in &gap {
            assert!(
                (g - gap[0]).abs() < 1e-9 * gap[0],
                "the drag term varies with the angle: {gap:?}"
            );
        }
    }

    /// On the gyroscope, whose Euler angles have poles (θ = 0, ±π) inside the data's range,
    /// every slice still shows finite, bounded truths and a finite gauge, leaves the poles out
    /// with a note saying so, and fits no gauge to a V that does not change along the slice.
    #[test]
    fn the_gyroscopes_poles_are_left_out_in_words() {
        let (sys, _, test) = data("gyroscope", 20);
        let m = ModelConfig {
            width: 8,
            ..ModelConfig::new(ModelKind::Hnn, sys.dof(), sys.angular())
        }
        .init(&Device::flex());
        let mut noted = 0;
        for c in 0..3 {
            let s = learned_structure(&m, sys.as_ref(), &test, c, 81).unwrap();
            assert!(s.gauge_fitted, "q{}: no gauge fitted for the HNN", c + 1);
            assert!(
                s.gauge.is_finite() && s.gauge.abs() > 1e-6,
                "q{}: k = {}",
                c + 1,
                s.gauge
            );
            let minv = &s.inverse_mass.as_ref().unwrap().truth;
            let shown: Vec<f64> = minv.iter().copied().filter(|x| x.is_finite()).collect();
            assert!(shown.len() > 40, "q{}: {} points shown", c + 1, shown.len());
            assert!(shown.iter().all(|x| x.abs() < 1e6), "q{}: {minv:?}", c + 1);
            if shown.len() < minv.len() {
                assert!(
                    s.notes.iter().any(|n| n.contains("singular")),
                    "q{}: points left out without a word: {:?}",
                    c + 1,
                    s.notes
                );
                noted += 1;
            }
            let v = &s.potential.as_ref().unwrap().truth;
            let f: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
            let spread = f.iter().fold(0.0f64, |a, x| a.max((x - f[0]).abs()));
            if spread < 1e-9 {
                assert!(
                    s.notes.iter().any(|n| n.contains("V does not change")),
                    "q{}: {:?}",
                    c + 1,
                    s.notes
                );
            }
        }
        assert!(noted > 0, "no slice of the gyroscope meets a pole");
        // Data whose θ sits on the pole: the slice along φ holds θ off it, and says so.
        let mut polar = test.clone();
        for k in 0..polar.n * polar.t {
            polar.q[k * 3 + 1] = std::f64::consts::PI;
        }
        let s = learned_structure(&m, sys.as_ref(), &polar, 0, 81).unwrap();
        assert!(
            s.notes.iter().any(|n| n.starts_with("q2 is held at")),
            "{:?}",
            s.notes
        );
        assert!(s.held[1] != std::f64::consts::PI, "{:?}", s.held);
    }

    /// A model's config for `sys`: on its body points for the constrained models.
    fn model_config(kind: ModelKind, sys: &dyn System) -> ModelConfig {
        let n = sys.body_graph().coordinates();
        match kind.is_constrained() {
            true => ModelConfig {
                system: Some(sys.name()),
                ..ModelConfig::new(kind, n, vec![false; n])
            },
            false => ModelConfig::new(kind, sys.dof(), sys.angular()),
        }
    }

    /// Read through x(q), a model on body points obeys the generalised equations at rest: on the
    /// single pendulum (one coordinate) the acceleration of CLNN's and CHNN's constrained field is
    /// (M^-1)_00 F_0 of their learned masses and potential, for any weights.
    #[test]
    fn a_constrained_model_read_in_angles_obeys_m_a_equals_f() {
        let (sys, _, test) = data("chain-pendulum:1", 10);
        for kind in [ModelKind::Clnn, ModelKind::Chnn] {
            let m = model_config(kind, sys.as_ref()).init(&Device::flex());
            let s = learned_structure(&m, sys.as_ref(), &test, 0, 41).unwrap();
            let (minv, f, a) = (
                &s.inverse_mass.as_ref().unwrap().learned,
                &s.force.as_ref().unwrap().learned,
                &s.acceleration.as_ref().unwrap().learned,
            );
            let scale = a.iter().fold(0.0f64, |x, y| x.max(y.abs()));
            assert!(scale > 0.0, "{kind}: no acceleration");
            for i in 0..a.len() {
                let want = minv[i] * f[i];
                assert!(
                    (a[i] - want).abs() < 1e-3 * scale,
                    "{kind} at q = {}: a {} vs M^-1 F {want}",
                    s.q[i],
                    a[i]
                );
            }
        }
    }
}
