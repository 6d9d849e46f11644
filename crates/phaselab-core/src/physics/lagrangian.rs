//! Equations of motion in generalised coordinates from a body embedding x(q), derived once for all
//! systems.
//!
//! Bodies are point nodes with a constant node mass matrix M (rigid bodies add the coupling terms
//! of the reference's extended bodies), so T = 1/2 sum_ij M_ij xdot_i . xdot_j with xdot = J(q) v.
//! Lagrange's equations give
//!     G(q) a = -J^T M (d^2x/dq^2)[v, v] - grad V(q) - f G(q) v,      G = J^T M J,
//! where the last term is the drag dp/dt += -f p on the generalised momentum p = G v.
//! J and the curvature term come from [`Jet`]s, exact to rounding.

use super::jet::{Jet, Scalar};
use super::linalg::cholesky_solve;

/// Entries of the constant node mass matrix: (i, j, M_ij), both (i, j) and (j, i) listed, and the
/// terms they come from.
#[derive(Clone, Debug, Default)]
pub struct NodeMass {
    pub n_nodes: usize,
    pub entries: Vec<(usize, usize, f64)>,
    /// The physical terms, each one positive number (what a model with learned masses learns).
    pub terms: Vec<MassTerm>,
}

/// One term of the kinetic energy T = Σ terms.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MassTerm {
    /// m |ẋ_i|² / 2 (m > 0; massless nodes have no term).
    Point { i: usize, mass: f64 },
    /// I |ẋ_i − ẋ_j|² / 2: the reference's extended-body edge with inertia I.
    Coupling { i: usize, j: usize, inertia: f64 },
}

impl NodeMass {
    /// Point masses: M = diag(m).
    pub fn diagonal(m: &[f64]) -> Self {
        NodeMass {
            n_nodes: m.len(),
            entries: m.iter().enumerate().map(|(i, &mi)| (i, i, mi)).collect(),
            terms: m
                .iter()
                .enumerate()
                .filter(|(_, &mass)| mass > 0.0)
                .map(|(i, &mass)| MassTerm::Point { i, mass })
                .collect(),
        }
    }

    /// Add the reference's internal rigid-body term I |xdot_i - xdot_j|^2 / 2 (an edge with inertia I).
    pub fn add_coupling(&mut self, i: usize, j: usize, inertia: f64) {
        self.entries.push((i, i, inertia));
        self.entries.push((j, j, inertia));
        self.entries.push((i, j, -inertia));
        self.entries.push((j, i, -inertia));
        self.terms.push(MassTerm::Coupling { i, j, inertia });
    }

    /// 1/2 sum_ij M_ij a_i . b_j (with a = b: the kinetic energy).
    pub fn quadratic(&self, a: &[[f64; 3]], b: &[[f64; 3]]) -> f64 {
        self.entries
            .iter()
            .map(|&(i, j, m)| m * dot(a[i], b[j]))
            .sum::<f64>()
    }
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// What a mechanical system must say about itself; the dynamics follow from it.
pub trait Mechanism: Send + Sync {
    /// Number of generalised coordinates D.
    fn dof(&self) -> usize;
    /// The constant node mass matrix.
    fn node_mass(&self) -> &NodeMass;
    /// Cartesian positions of the nodes for generalised coordinates q.
    fn positions<S: Scalar>(&self, q: &[S]) -> Vec<[S; 3]>;
    /// Potential energy V(q) (x = positions(q) is passed in to avoid recomputing it).
    fn potential<S: Scalar>(&self, q: &[S], x: &[[S; 3]]) -> S;
}

/// Failure to evaluate the field: the generalised mass matrix is singular (coordinate chart edge).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SingularMassMatrix;

fn jets(q: &[f64], w: impl Fn(usize) -> f64) -> Vec<Jet> {
    q.iter()
        .enumerate()
        .map(|(i, &qi)| Jet::var(qi, w(i)))
        .collect()
}

/// Jacobian columns dx/dq_k (node-major, 3 per node) and the gradient of V.
pub fn jacobian<M: Mechanism + ?Sized>(m: &M, q: &[f64]) -> (Vec<Vec<[f64; 3]>>, Vec<f64>) {
    let d = m.dof();
    let mut cols = Vec::with_capacity(d);
    let mut grad = Vec::with_capacity(d);
    for k in 0..d {
        let qk = jets(q, |i| if i == k { 1.0 } else { 0.0 });
        let xk = m.positions(&qk);
        grad.push(m.potential(&qk, &xk).d1());
        cols.push(
            xk.iter()
                .map(|p| [p[0].d1(), p[1].d1(), p[2].d1()])
                .collect(),
        );
    }
    (cols, grad)
}

/// Generalised mass matrix G = J^T M J (row-major D x D).
pub fn generalized_mass<M: Mechanism + ?Sized>(m: &M, cols: &[Vec<[f64; 3]>]) -> Vec<f64> {
    let d = cols.len();
    let mm = m.node_mass();
    let mut g = vec![0.0; d * d];
    for a in 0..d {
        for b in a..d {
            let s: f64 = mm
                .entries
                .iter()
                .map(|&(i, j, w)| w * dot(cols[a][i], cols[b][j]))
                .sum();
            g[a * d + b] = s;
            g[b * d + a] = s;
        }
    }
    g
}

/// Velocities xdot = J v and curvature (d^2x/dq^2)[v, v] of every node.
pub fn node_velocities<M: Mechanism + ?Sized>(
    m: &M,
    q: &[f64],
    v: &[f64],
) -> (Vec<[f64; 3]>, Vec<[f64; 3]>) {
    let x = m.positions(&jets(q, |i| v[i]));
    let xd = x
        .iter()
        .map(|p| [p[0].d1(), p[1].d1(), p[2].d1()])
        .collect();
    let xdd = x
        .iter()
        .map(|p| [p[0].d2(), p[1].d2(), p[2].d2()])
        .collect();
    (xd, xdd)
}

/// Accelerations a = dv/dt from Lagrange's equations, with drag coefficient `drag` on p.
pub fn acceleration<M: Mechanism + ?Sized>(
    m: &M,
    q: &[f64],
    v: &[f64],
    drag: f64,
    a: &mut [f64],
) -> Result<(), SingularMassMatrix> {
    let d = m.dof();
    let (cols, grad) = jacobian(m, q);
    let mut g = generalized_mass(m, &cols);
    let (_, curv) = node_velocities(m, q, v);
    let mm = m.node_mass();
    for k in 0..d {
        let inertial: f64 = mm
            .entries
            .iter()
            .map(|&(i, j, w)| w * dot(cols[k][i], curv[j]))
            .sum();
        a[k] = -inertial - grad[k];
    }
    if drag != 0.0 {
        for k in 0..d {
            let gv: f64 = (0..d).map(|b| g[k * d + b] * v[b]).sum();
            a[k] -= drag * gv;
        }
    }
    cholesky_solve(&mut g, a, d).ok_or(SingularMassMatrix)?;
    if a.iter().all(|x| x.is_finite()) {
        Ok(())
    } else {
        Err(SingularMassMatrix)
    }
}

/// Kinetic and potential energy (T, V).
pub fn energy_parts<M: Mechanism + ?Sized>(m: &M, q: &[f64], v: &[f64]) -> (f64, f64) {
    let (xd, _) = node_velocities(m, q, v);
    let t = 0.5 * m.node_mass().quadratic(&xd, &xd);
    let x = m.positions(q);
    (t, m.potential(q, &x))
}

/// Generalised momenta p = G(q) v = dT/dv.
pub fn momentum<M: Mechanism + ?Sized>(m: &M, q: &[f64], v: &[f64]) -> Vec<f64> {
    let (cols, _) = jacobian(m, q);
    let (xd, _) = node_velocities(m, q, v);
    let mm = m.node_mass();
    cols.iter()
        .map(|c| {
            mm.entries
                .iter()
                .map(|&(i, j, w)| w * dot(c[i], xd[j]))
                .sum()
        })
        .collect()
}

/// Velocities from momenta, v = G(q)^-1 p.
pub fn velocity_from_momentum<M: Mechanism + ?Sized>(
    m: &M,
    q: &[f64],
    p: &[f64],
) -> Result<Vec<f64>, SingularMassMatrix> {
    let (cols, _) = jacobian(m, q);
    let mut g = generalized_mass(m, &cols);
    let mut v = p.to_vec();
    cholesky_solve(&mut g, &mut v, m.dof()).ok_or(SingularMassMatrix)?;
    Ok(v)
}
