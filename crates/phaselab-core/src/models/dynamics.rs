//! One module for every model of the paper: which networks exist and how they make a vector
//! field. Data are z = [q, v]; models with a learned mass matrix integrate [q, p] and convert at
//! their edges: p0 = M(q0) v0, readout v = M^-1(q) p.

use super::constrained_acceleration::ConstraintOps;
use super::dissipation::{dissipation_gradient, port_damping};
use super::features::{halves, CosSin};
use super::hamiltonian::{stabilise, Form, Hamiltonian};
use super::kind::ModelKind;
use super::lagrangian::{
    delan_acceleration, delan_energies, lnn_acceleration, lnn_energy, lnn_euler_lagrange,
    lnn_lagrangian,
};
use super::learned_masses::LearnedMasses;
use super::mass_matrix::{Lower, MassNet};
use super::mlp::Mlp;
use super::spd_solve::spd_solve;
use crate::physics::BodyGraph;
use crate::rng::Rng;
use crate::solve::Solver;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// The rate α (1/s) of the stabiliser of constrained-node-so and CLNN: a rollout's drift off the
/// constraints is damped critically, DΦ v̇ + Ḋ v = −2α Φ̇ − α² Φ (Baumgarte). Without it, short-
/// trained CLNNs on chain-pendulum:3 and :5 rolled out to non-finite states within the 100-step
/// test rollouts (rk4, one step per 0.03 s); with it those runs scored. 2α dt stays well inside
/// RK4's stability range for every system's step (at most 0.05 s).
pub const CONSTRAINT_DAMPING: f64 = 10.0;

/// Everything needed to rebuild a model's architecture (stored in checkpoints).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    pub kind: ModelKind,
    /// Generalised coordinates D.
    pub dof: usize,
    /// Which coordinates are angles (fed as cos, sin).
    pub angular: Vec<bool>,
    /// Hidden width (256 in the paper's figures).
    pub width: usize,
    /// Hidden layers (2).
    pub depth: usize,
    /// Weight 1/alpha of the symplectic penalty (node-so-symreg).
    pub alpha: f64,
    /// Seed of the initial weights.
    pub seed: u64,
    /// Zero every component i of a Hamiltonian field where the model's own state s = [q, p] has
    /// |s_i| > 1e3 (the reference's `HamiltonianDynamics`, which integrates [q, p] too), so a
    /// rollout that runs away stops instead of overflowing. On by default for the HNN family; checkpoints from before it load without it,
    /// as they were trained. For constrained-node-so and CLNN: damp the drift off the
    /// constraints at the rate [`CONSTRAINT_DAMPING`].
    #[serde(default)]
    pub stabiliser: bool,
    /// Start every output bias at zero (phaselab's initialisation before it matched the
    /// reference, which zeroes only the mass network's), for ablations.
    #[serde(default)]
    pub zero_output_biases: bool,
    /// The system whose body graph (points, masses' structure, constraints) a constrained model
    /// knows; its data are that system's body points (`data::cartesian`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// hnn-general: keep the mass matrix M(q) that turns v into p = M v at the model's edges (and
    /// p back into v) at its initial weights. It serves only there, so the loss hardly depends
    /// on it; trained, as in the reference's `NonseparableHNN`, its factor can drift until M
    /// overflows (RESULTS.md, "Why runs diverged"). A remedy, off by default.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fixed_edge_mass: bool,
}

impl ModelConfig {
    pub fn new(kind: ModelKind, dof: usize, angular: Vec<bool>) -> Self {
        ModelConfig {
            kind,
            dof,
            angular,
            width: 256,
            depth: 2,
            alpha: 1e3,
            seed: 0,
            stabiliser: kind.has_stabiliser(),
            zero_output_biases: false,
            system: None,
            fixed_edge_mass: false,
        }
    }

    /// A model of `kind` for data `set`: its D coordinates, which are angles, and for a
    /// constrained model the system whose body points they are.
    pub fn for_data(kind: ModelKind, set: &crate::data::TrajectorySet) -> Self {
        ModelConfig {
            system: kind.is_constrained().then(|| set.meta.system.clone()),
            ..ModelConfig::new(kind, set.d, set.meta.angular.clone())
        }
    }

    /// The body graph a constrained model needs: the named system's, whose body points must be
    /// the model's D coordinates (none are angles).
    pub fn body_graph(&self) -> Result<BodyGraph, String> {
        let name = self
            .system
            .as_deref()
            .ok_or_else(|| format!("{} needs the system whose constraints it knows", self.kind))?;
        let g = crate::physics::system(name)
            .map_err(|e| e.to_string())?
            .body_graph();
        if g.coordinates() != self.dof || self.angular.iter().any(|&a| a) {
            return Err(format!(
                "{} works on the {} Cartesian coordinates of {name}'s body points, not D = {} (generate them with --coordinates cartesian)",
                self.kind,
                g.coordinates(),
                self.dof
            ));
        }
        Ok(g)
    }

    /// Whether this configuration can be built: a constrained model needs its body graph.
    pub fn check(&self) -> Result<(), String> {
        if self.kind.is_constrained() {
            self.body_graph()?;
        }
        if self.fixed_edge_mass && self.kind != ModelKind::HnnGeneral {
            return Err(format!(
                "a fixed edge mass is hnn-general's (its mass serves only at its edges), not {}'s",
                self.kind
            ));
        }
        Ok(())
    }

    /// A model with fresh weights drawn from `seed` (its edge mass untrainable where fixed).
    pub fn init(&self, device: &Device) -> DynamicsModel {
        self.build(Some(&mut Rng::new(self.seed)), device)
            .with_fixed_edge_mass()
    }

    /// A model with zero weights, cheap to build, to load stored weights into.
    pub fn init_for_loading(&self, device: &Device) -> DynamicsModel {
        self.build(None, device)
    }

    fn sizes(&self, i: usize, o: usize) -> Vec<usize> {
        let mut s = vec![i];
        s.extend(std::iter::repeat_n(self.width, self.depth));
        s.push(o);
        s
    }

    /// Layer sizes of every network: (main, mass, extra).
    fn layout(&self) -> (Vec<usize>, Option<Vec<usize>>, Option<Vec<usize>>) {
        let emb = CosSin::new(&self.angular);
        let (f, d) = (emb.width(), self.dof);
        let main_io = match self.kind {
            ModelKind::Node => (f + d, 2 * d),
            ModelKind::NodeSo
            | ModelKind::NodeSoSymreg
            | ModelKind::NodeSoDirect
            | ModelKind::ConstrainedNodeSo => (f + d, d),
            ModelKind::Hnn
            | ModelKind::HnnForced
            | ModelKind::Clnn
            | ModelKind::Chnn
            | ModelKind::Delan
            | ModelKind::PortHnn
            | ModelKind::DHnn => (f, 1),
            ModelKind::HnnGeneral | ModelKind::Lnn => (f + d, 1),
        };
        let extra = match self.kind {
            ModelKind::HnnForced => Some(self.sizes(f + d, 2 * d)),
            ModelKind::PortHnn => Some(self.sizes(f, d * d)),
            ModelKind::DHnn => Some(self.sizes(f + d, 1)),
            _ => None,
        };
        (
            self.sizes(main_io.0, main_io.1),
            self.kind.has_mass_net().then(|| self.sizes(f, d * d)),
            extra,
        )
    }

    /// Trainable scalars of the architecture (None if the count would overflow).
    pub fn n_params(&self) -> Option<usize> {
        let count = |s: &Vec<usize>| {
            s.windows(2).try_fold(0usize, |acc, w| {
                acc.checked_add(w[0].checked_mul(w[1])?.checked_add(w[1])?)
            })
        };
        let (main, mass, extra) = self.layout();
        let mut total = count(&main)?;
        for s in [mass, extra].iter().flatten() {
            total = total.checked_add(count(s)?)?;
        }
        if matches!(self.kind, ModelKind::Clnn | ModelKind::Chnn) {
            // Two per learned mass term (see `LearnedMasses`).
            total = total.checked_add(2 * self.body_graph().ok()?.mass.terms.len())?;
        }
        Some(total)
    }

    fn build(&self, mut rng: Option<&mut Rng>, device: &Device) -> DynamicsModel {
        let emb = CosSin::new(&self.angular);
        let (main, mass, extra) = self.layout();
        // As the reference: PyTorch's default output bias everywhere but the mass network's.
        let zero = self.zero_output_biases;
        let main = Mlp::new(&main, zero, rng.as_deref_mut(), device);
        let mass = mass.map(|s| MassNet {
            net: Mlp::new(&s, true, rng.as_deref_mut(), device),
            dof: self.dof,
        });
        let extra = extra.map(|s| Mlp::new(&s, zero, rng.as_deref_mut(), device));
        // Checked where configurations come in (`check`): a constrained kind has its body graph.
        let graph = self.kind.is_constrained().then(|| {
            self.body_graph()
                .expect("a constrained model's configuration is checked before it is built")
        });
        let masses = graph
            .as_ref()
            .filter(|_| matches!(self.kind, ModelKind::Clnn | ModelKind::Chnn))
            .map(|g| LearnedMasses::new(&g.mass, g.dim, rng.as_deref_mut(), device));
        DynamicsModel {
            main,
            mass,
            extra,
            masses,
            config: self.clone(),
            emb,
            constraints: graph.as_ref().map(ConstraintOps::new),
            members: Vec::new(),
        }
    }
}

#[derive(Module, Debug)]
pub struct DynamicsModel {
    pub main: Mlp,
    pub mass: Option<MassNet>,
    /// The second network of the dissipative HNNs: hnn-forced's forcing F(phi(q), p) added to
    /// J grad H (SymODEN-style), port-hnn's damping factor L_D(phi(q)), d-hnn's dissipation
    /// D(phi(q), p) (`models::dissipation`). Named `extra` because checkpoints key their
    /// weights by field name.
    pub extra: Option<Mlp>,
    /// CLNN's learned masses of the body points.
    pub masses: Option<LearnedMasses>,
    #[module(skip)]
    pub config: ModelConfig,
    #[module(skip)]
    pub emb: CosSin,
    /// A constrained model's constraints.
    #[module(skip)]
    pub constraints: Option<ConstraintOps>,
    /// Each member's configuration when this is a stacked population (`models::population`);
    /// empty for a single model, whose configuration is `config`.
    #[module(skip)]
    pub members: Vec<ModelConfig>,
}

impl DynamicsModel {
    /// This model with its mass network taking no gradient where `fixed_edge_mass` is set.
    pub(crate) fn with_fixed_edge_mass(mut self) -> Self {
        if self.config.fixed_edge_mass {
            self.mass = self.mass.map(|m| m.no_grad());
        }
        self
    }

    pub fn kind(&self) -> ModelKind {
        self.config.kind
    }

    pub fn n_params(&self) -> usize {
        self.main.n_params()
            + self.mass.as_ref().map_or(0, |m| m.net.n_params())
            + self.extra.as_ref().map_or(0, |m| m.n_params())
            + self.masses.as_ref().map_or(0, |m| m.n_params())
    }

    pub(crate) fn mass(&self) -> &MassNet {
        self.mass
            .as_ref()
            .expect("momentum models have a mass network")
    }

    pub(crate) fn lower(&self, q: Tensor<2>) -> Lower {
        self.mass().lower(&self.emb, q)
    }

    /// The LNN's ∇_v∇_vᵀL [B, D, D] at the states s = [q, v], the matrix its acceleration
    /// solves with (None for the other models).
    pub(crate) fn lagrangian_hessian(&self, s: Tensor<2>) -> Option<Tensor<3>> {
        let (q, v) = halves(s);
        (self.kind() == ModelKind::Lnn).then(|| lnn_euler_lagrange(&self.main, &self.emb, q, v).0)
    }

    pub(crate) fn input(&self, q: Tensor<2>, x: Tensor<2>) -> Tensor<2> {
        Tensor::cat(vec![self.emb.embed(q), x], 1)
    }

    /// The learned Hamiltonian of the HNN family (None for the other models).
    pub fn learned_hamiltonian(&self) -> Option<Hamiltonian<'_>> {
        let form = match self.kind() {
            ModelKind::Hnn | ModelKind::HnnForced | ModelKind::PortHnn | ModelKind::DHnn => {
                Form::Separable {
                    potential: &self.main,
                    mass: self.mass(),
                }
            }
            ModelKind::HnnGeneral => Form::General(&self.main),
            _ => return None,
        };
        Some(Hamiltonian {
            emb: &self.emb,
            form,
        })
    }

    /// The vector field in the model's own state ([q, v] or [q, p]), [B, 2D] -> [B, 2D]:
    ///   node: dz/dt = MLP(phi(q), v);  node-so-direct: dq/dt = v, dv/dt = MLP(phi(q), v);
    ///   node-so(-symreg): dq/dt = M^-1(q) p, dp/dt = MLP(phi(q), p);
    ///   HNN family: J grad H (stabilised where set), plus the forcing network for hnn-forced;
    ///   port-hnn and d-hnn: J grad H plus their dissipation (`models::dissipation`), stabilised;
    ///   delan, lnn: dq/dt = v, dv/dt from the Euler–Lagrange equations (`models::lagrangian`).
    pub fn field(&self, s: Tensor<2>) -> Tensor<2> {
        let (q, x) = halves(s.clone());
        if let Some(h) = self.learned_hamiltonian() {
            let f = h.field(q.clone(), x.clone());
            let f = match (self.kind(), &self.extra) {
                (ModelKind::PortHnn, Some(nn)) => {
                    let d = self.config.dof;
                    let damping = port_damping(nn, &self.emb, q.clone(), f.clone().narrow(1, 0, d));
                    let zero = damping.zeros_like();
                    f + Tensor::cat(vec![zero, damping], 1)
                }
                (ModelKind::DHnn, Some(nn)) => {
                    f + dissipation_gradient(nn, &self.emb, q.clone(), x.clone())
                }
                _ => f,
            };
            let f = match self.config.stabiliser {
                true => stabilise(f, s),
                false => f,
            };
            return match (self.kind(), &self.extra) {
                (ModelKind::HnnForced, Some(nn)) => f + nn.forward(self.input(q, x)),
                _ => f,
            };
        }
        match self.kind() {
            ModelKind::Delan => {
                let a = delan_acceleration(&self.main, self.mass(), &self.emb, q, x.clone());
                Tensor::cat(vec![x, a], 1)
            }
            ModelKind::Lnn => {
                let a = lnn_acceleration(&self.main, &self.emb, q, x.clone());
                Tensor::cat(vec![x, a], 1)
            }
            ModelKind::Node => self.main.forward(self.input(q, x)),
            ModelKind::ConstrainedNodeSo | ModelKind::Clnn => self.constrained_field(q, x),
            ModelKind::Chnn => self.chnn_field(q, x),
            ModelKind::NodeSoDirect => {
                let a = self.main.forward(self.input(q, x.clone()));
                Tensor::cat(vec![x, a], 1)
            }
            _ => {
                let low = self.lower(q.clone());
                let dq = MassNet::minv_p(&low, x.clone());
                Tensor::cat(vec![dq, self.main.forward(self.input(q, x))], 1)
            }
        }
    }

    /// The field of a constrained model on body points s = [x, v]: dx/dt = v and
    ///   constrained-node-so: dv/dt = P a(x, v), a an MLP, in the Euclidean metric;
    ///   clnn: dv/dt = P f with f = −M⁻¹∇V(x) and M the learned masses,
    /// where P puts an acceleration onto the constraints ([`ConstraintOps::accelerate`]).
    fn constrained_field(&self, x: Tensor<2>, v: Tensor<2>) -> Tensor<2> {
        let ops = self
            .constraints
            .as_ref()
            .expect("constrained models carry their constraints");
        let [b, n] = x.dims();
        let alpha = if self.config.stabiliser {
            CONSTRAINT_DAMPING
        } else {
            0.0
        };
        let a = match &self.masses {
            Some(m) => {
                let grad_v = self.main.input_gradient(x.clone());
                let f = m
                    .minv_times(grad_v.unsqueeze_dim::<3>(2))
                    .reshape([b, n])
                    .neg();
                ops.accelerate(x, v.clone(), f, &|t| m.minv_times(t), alpha)
            }
            None => {
                let a = self.main.forward(self.input(x.clone(), v.clone()));
                ops.accelerate(x, v.clone(), a, &|t| t, alpha)
            }
        };
        Tensor::cat(vec![v, a], 1)
    }

    /// CHNN's field on s = [x, p]: dz/dt = J∇H − J DΦ (DΦᵀ J DΦ)⁻¹ DΦᵀ J∇H, with DΦ the
    /// 2N x 2C gradients of the constraints Φ and their rates Φ̇ = G M⁻¹ p. In blocks (G = ∂Φ/∂x
    /// [C, N], R = ∂Φ̇/∂x at fixed p, K = M⁻¹Gᵀ, A = G M⁻¹ Gᵀ, S = R K − Kᵀ Rᵀ),
    ///   DΦᵀ J DΦ = [[0, A], [−A, S]],  its inverse [[A⁻¹ S A⁻¹, −A⁻¹], [A⁻¹, 0]],
    /// so with v = M⁻¹ p, u₁ = G v, u₂ = R v − G M⁻¹∇V, λ₂ = A⁻¹u₁, λ₁ = A⁻¹(S λ₂ − u₂):
    ///   dx/dt = v − K λ₂,  dp/dt = −∇V + Gᵀ λ₁ + Rᵀ λ₂.
    /// Two solves of the SPD A instead of one of the 2C x 2C skew matrix.
    fn chnn_field(&self, x: Tensor<2>, p: Tensor<2>) -> Tensor<2> {
        let ops = self
            .constraints
            .as_ref()
            .expect("constrained models carry their constraints");
        let m = self.masses.as_ref().expect("CHNN learns its masses");
        let [b, n] = x.dims();
        let col = |t: Tensor<2>| t.unsqueeze_dim::<3>(2);
        let flat = |t: Tensor<3>| t.reshape([b, n]);
        let v = flat(m.minv_times(col(p)));
        let grad_v = self.main.input_gradient(x.clone());
        if ops.count() == 0 {
            return Tensor::cat(vec![v, grad_v.neg()], 1);
        }
        let g = ops.dphi(x); // [B, C, N]
        let r = ops.dphi_rate(v.clone()); // [B, C, N]
        let k = m.minv_times(g.clone().swap_dims(1, 2)); // [B, N, C]
        let a = g.clone().matmul(k.clone()); // [B, C, C]
        let s = r.clone().matmul(k.clone())
            - k.clone().swap_dims(1, 2).matmul(r.clone().swap_dims(1, 2));
        let u1 = g.clone().matmul(col(v.clone()));
        let u2 =
            r.clone().matmul(col(v.clone())) - g.clone().matmul(m.minv_times(col(grad_v.clone())));
        let l2 = spd_solve(a.clone(), u1);
        let l1 = spd_solve(a, s.matmul(l2.clone()) - u2);
        let dx = v - flat(k.matmul(l2.clone()));
        let dp =
            grad_v.neg() + flat(g.swap_dims(1, 2).matmul(l1)) + flat(r.swap_dims(1, 2).matmul(l2));
        Tensor::cat(vec![dx, dp], 1)
    }

    /// The learned Hamiltonian H(q, p) [B, 1] of an HNN (None for the others).
    pub fn hamiltonian(&self, s: Tensor<2>) -> Option<Tensor<2>> {
        self.learned_hamiltonian().map(|h| h.value(s))
    }

    /// The learned Lagrangian L(q, v) [B, 1] of a Lagrangian network at data states z = [q, v]
    /// (None for the others).
    pub fn lagrangian(&self, z: Tensor<2>) -> Option<Tensor<2>> {
        let (q, v) = halves(z);
        match self.kind() {
            ModelKind::Delan => {
                let (t, pot) = delan_energies(&self.main, self.mass(), &self.emb, q, v);
                Some(t - pot)
            }
            ModelKind::Lnn => Some(lnn_lagrangian(&self.main, &self.emb, q, v)),
            _ => None,
        }
    }

    /// The learned energy E = v·∇_vL − L [B, 1] of a Lagrangian network at data states z
    /// (None for the others).
    pub fn lagrangian_energy(&self, z: Tensor<2>) -> Option<Tensor<2>> {
        let (q, v) = halves(z);
        match self.kind() {
            ModelKind::Delan => {
                let (t, pot) = delan_energies(&self.main, self.mass(), &self.emb, q, v);
                Some(t + pot)
            }
            ModelKind::Lnn => Some(lnn_energy(&self.main, &self.emb, q, v)),
            _ => None,
        }
    }

    /// Data state [q, v] -> model state.
    pub fn to_model_state(&self, z: Tensor<2>) -> Tensor<2> {
        if !self.kind().uses_momenta() {
            return z;
        }
        let (q, v) = halves(z);
        let p = match &self.masses {
            Some(m) => {
                let [b, n] = v.dims();
                m.m_times(v.unsqueeze_dim::<3>(2)).reshape([b, n])
            }
            None => MassNet::m_v(&self.lower(q.clone()), v),
        };
        Tensor::cat(vec![q, p], 1)
    }

    /// Model state -> data state [q, v].
    pub fn to_data_state(&self, s: Tensor<2>) -> Tensor<2> {
        if !self.kind().uses_momenta() {
            return s;
        }
        let (q, p) = halves(s);
        let v = match &self.masses {
            Some(m) => {
                let [b, n] = p.dims();
                m.minv_times(p.unsqueeze_dim::<3>(2)).reshape([b, n])
            }
            None => MassNet::minv_p(&self.lower(q.clone()), p),
        };
        Tensor::cat(vec![q, v], 1)
    }

    /// Roll out from data states z0 [B, 2D] for n points spaced dt: (data states [B, n, 2D],
    /// model states [B, n, 2D]).
    pub fn rollout(
        &self,
        z0: Tensor<2>,
        n: usize,
        dt: f64,
        solver: &Solver,
    ) -> (Tensor<3>, Tensor<3>) {
        let s0 = self.to_model_state(z0);
        let f = |s: Tensor<2>| self.field(s);
        let states = solver.rollout(&f, s0, n, dt);
        if !self.kind().uses_momenta() {
            return (states.clone(), states);
        }
        let [b, t, w] = states.dims();
        let flat = states.clone().reshape([b * t, w]);
        (self.to_data_state(flat).reshape([b, t, w]), states)
    }
}
