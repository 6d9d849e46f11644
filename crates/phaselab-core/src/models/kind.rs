//! The models the paper compares, by the names phaselab uses (the reference's in parentheses).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// Neural ODE (NN): dz/dt = MLP(q, v).
    Node,
    /// NODE + second-order structure (MechanicsNN): dq/dt = M^-1(q) p, dp/dt = MLP(q, p).
    NodeSo,
    /// Plainest second-order form: dq/dt = v, dv/dt = MLP(q, v).
    NodeSoDirect,
    /// NODE+SO plus the symplectic Jacobian penalty (SpNN).
    NodeSoSymreg,
    /// Separable HNN: H = p^T M^-1(q) p / 2 + V(q), dz/dt = J grad H.
    Hnn,
    /// HNN without second-order structure (NonseparableHNN): H(q, p) is one MLP.
    HnnGeneral,
    /// HNN plus a free NODE term, for damped systems (MixtureHNN, "SymODEN").
    HnnForced,
    /// phaselab's constrained NODE+SO, on body points x with known constraints: dx/dt = v and a
    /// free MLP acceleration a(x, v) put through the constraint projection (no energy, no
    /// symplectic form).
    ConstrainedNodeSo,
    /// Constrained Lagrangian NN (Finzi, Wang and Wilson 2020): V(x) an MLP, masses learned,
    /// f = −M⁻¹∇V projected onto the constraints.
    Clnn,
    /// Constrained Hamiltonian NN (Finzi, Wang and Wilson 2020): H = pᵀM⁻¹p/2 + V(x) on body
    /// points with learned masses, dz/dt = P J∇H projected onto the constraints and their rates.
    Chnn,
    /// Deep Lagrangian Network (Lutter, Ritter and Peters 2019): L = ½ vᵀM(q)v − V(q) with
    /// M = L Lᵀ learned, q̈ = M⁻¹(½ ∂_q(vᵀMv) − Ṁv − ∂_qV).
    Delan,
    /// Lagrangian NN (Cranmer et al. 2020): L(q, v) one MLP,
    /// q̈ = (∇_v∇_vᵀL)⁻¹ [∇_qL − (∇_q∇_vᵀL) v].
    Lnn,
    /// Port-Hamiltonian HNN (Dissipative SymODEN, Zhong, Dey and Chakraborty 2020): the HNN's
    /// H and dz/dt = (J − R(q)) ∇H with R = diag(0, D(q)), D = L_D L_Dᵀ learned.
    PortHnn,
    /// Dissipative HNN (Sosanya and Greydanus 2022): the HNN's H and dz/dt = J∇H + ∇D(q, p),
    /// a second scalar network D (a Helmholtz decomposition).
    DHnn,
}

impl ModelKind {
    pub const ALL: [ModelKind; 14] = [
        ModelKind::Node,
        ModelKind::NodeSo,
        ModelKind::NodeSoDirect,
        ModelKind::NodeSoSymreg,
        ModelKind::Hnn,
        ModelKind::HnnGeneral,
        ModelKind::HnnForced,
        ModelKind::ConstrainedNodeSo,
        ModelKind::Clnn,
        ModelKind::Chnn,
        ModelKind::Delan,
        ModelKind::Lnn,
        ModelKind::PortHnn,
        ModelKind::DHnn,
    ];

    /// The paper's models: they learn from any coordinates, generalised or Cartesian.
    pub const PAPER: [ModelKind; 7] = [
        ModelKind::Node,
        ModelKind::NodeSo,
        ModelKind::NodeSoDirect,
        ModelKind::NodeSoSymreg,
        ModelKind::Hnn,
        ModelKind::HnnGeneral,
        ModelKind::HnnForced,
    ];

    /// The models the playground offers, in its order (the paper's three, the HNN's variants
    /// with the structured dissipations, the Lagrangian networks and the constrained models; the
    /// NODE+SO ablations are for figures). Their colours stay apart for colour-blind readers
    /// (`plot::canvas`).
    pub const PLAYGROUND: [ModelKind; 12] = [
        ModelKind::Node,
        ModelKind::NodeSo,
        ModelKind::Hnn,
        ModelKind::HnnGeneral,
        ModelKind::HnnForced,
        ModelKind::PortHnn,
        ModelKind::DHnn,
        ModelKind::Delan,
        ModelKind::Lnn,
        ModelKind::ConstrainedNodeSo,
        ModelKind::Clnn,
        ModelKind::Chnn,
    ];

    /// Every model that learns in generalised coordinates: the paper's, the Lagrangian networks
    /// and the dissipative HNNs.
    pub const GENERALISED: [ModelKind; 11] = [
        ModelKind::Node,
        ModelKind::NodeSo,
        ModelKind::NodeSoDirect,
        ModelKind::NodeSoSymreg,
        ModelKind::Hnn,
        ModelKind::HnnGeneral,
        ModelKind::HnnForced,
        ModelKind::Delan,
        ModelKind::Lnn,
        ModelKind::PortHnn,
        ModelKind::DHnn,
    ];

    /// The Lagrangian networks: second-order by construction, with a learned, conserved energy.
    pub const LAGRANGIAN: [ModelKind; 2] = [ModelKind::Delan, ModelKind::Lnn];

    /// The HNNs with a dissipation that has structure (it can only remove the learned energy, or
    /// is a gradient field beside J∇H).
    pub const DISSIPATIVE: [ModelKind; 2] = [ModelKind::PortHnn, ModelKind::DHnn];

    /// The models that know the system's constraints: they learn on its body points.
    pub const CONSTRAINED: [ModelKind; 3] = [
        ModelKind::ConstrainedNodeSo,
        ModelKind::Clnn,
        ModelKind::Chnn,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Node => "node",
            ModelKind::NodeSo => "node-so",
            ModelKind::NodeSoDirect => "node-so-direct",
            ModelKind::NodeSoSymreg => "node-so-symreg",
            ModelKind::Hnn => "hnn",
            ModelKind::HnnGeneral => "hnn-general",
            ModelKind::HnnForced => "hnn-forced",
            ModelKind::ConstrainedNodeSo => "constrained-node-so",
            ModelKind::Clnn => "clnn",
            ModelKind::Chnn => "chnn",
            ModelKind::Delan => "delan",
            ModelKind::Lnn => "lnn",
            ModelKind::PortHnn => "port-hnn",
            ModelKind::DHnn => "d-hnn",
        }
    }

    /// The name people write in papers and plots.
    pub fn label(self) -> &'static str {
        match self {
            ModelKind::Node => "NODE",
            ModelKind::NodeSo => "NODE+SO",
            ModelKind::NodeSoDirect => "NODE+SO direct",
            ModelKind::NodeSoSymreg => "NODE+SO symreg",
            ModelKind::Hnn => "HNN",
            ModelKind::HnnGeneral => "HNN general",
            ModelKind::HnnForced => "HNN + forcing",
            ModelKind::ConstrainedNodeSo => "constrained NODE+SO",
            ModelKind::Clnn => "CLNN",
            ModelKind::Chnn => "CHNN",
            ModelKind::Delan => "DeLaN",
            ModelKind::Lnn => "LNN",
            ModelKind::PortHnn => "port-Hamiltonian HNN",
            ModelKind::DHnn => "D-HNN",
        }
    }

    /// What the model is, in one line with its equations (for the playground and help texts).
    pub fn summary(self) -> &'static str {
        match self {
            ModelKind::Node => "Neural ODE: an MLP learns dz/dt = f(q, v), with no structure",
            ModelKind::NodeSo => "second-order NODE: dq/dt = M^-1(q) p with a learned mass matrix, an MLP learns dp/dt(q, p)",
            ModelKind::NodeSoDirect => "plainest second-order NODE: dq/dt = v, an MLP learns dv/dt(q, v)",
            ModelKind::NodeSoSymreg => "NODE+SO with a penalty on the asymmetry of J DF (a soft symplectic constraint)",
            ModelKind::Hnn => "Hamiltonian NN: H = p^T M^-1(q) p / 2 + V(q) (the kinetic term depends on q), dz/dt = J grad H",
            ModelKind::HnnGeneral => "Hamiltonian NN with one MLP H(q, p): no second-order structure, dz/dt = J grad H",
            ModelKind::HnnForced => "HNN plus a free learned term on dz/dt (SymODEN-style), so it can dissipate energy",
            ModelKind::ConstrainedNodeSo => "on the body points x with the known constraints: dx/dt = v, an MLP learns dv/dt(x, v), projected so the constraints hold (no energy)",
            ModelKind::Clnn => "constrained Lagrangian NN: V(x) an MLP, learned masses, dv/dt = -M^-1 grad V projected onto the constraints",
            ModelKind::Chnn => "constrained Hamiltonian NN: H = p^T M^-1 p / 2 + V(x) with learned masses, dz/dt = P J grad H projected onto the constraints",
            ModelKind::Delan => "Deep Lagrangian Network: L = v^T M(q) v / 2 - V(q) with M = L L^T learned, dv/dt = M^-1 (grad_q T - dM/dt v - grad V)",
            ModelKind::Lnn => "Lagrangian NN: one MLP L(q, v), dv/dt = (d2L/dv2)^-1 (dL/dq - d2L/dv dq v), from its exact second derivatives",
            ModelKind::PortHnn => "port-Hamiltonian HNN: the HNN's H, dz/dt = (J - R(q)) grad H with R = diag(0, D(q)) positive semi-definite, so it can only lose energy",
            ModelKind::DHnn => "dissipative HNN: the HNN's H plus a second scalar network D(q, p), dz/dt = J grad H + grad D",
        }
    }

    /// Whether the model works on a system's body points with its constraints (it needs the
    /// system's body graph and Cartesian data).
    pub fn is_constrained(self) -> bool {
        matches!(
            self,
            ModelKind::ConstrainedNodeSo | ModelKind::Clnn | ModelKind::Chnn
        )
    }

    /// The coordinates the model learns in: the body points for the constrained models.
    pub fn coordinates(self) -> crate::data::Coordinates {
        match self.is_constrained() {
            true => crate::data::Coordinates::Cartesian,
            false => crate::data::Coordinates::Generalised,
        }
    }

    /// Whether the model integrates [q, p] with a learned mass matrix (converting at its edges;
    /// CHNN's is constant, on body points).
    pub fn uses_momenta(self) -> bool {
        !matches!(
            self,
            ModelKind::Node
                | ModelKind::NodeSoDirect
                | ModelKind::ConstrainedNodeSo
                | ModelKind::Clnn
                | ModelKind::Delan
                | ModelKind::Lnn
        )
    }

    /// Whether the model has a learned mass matrix M(q) of generalised coordinates
    /// (`models::mass_matrix`): M⁻¹ = L Lᵀ for the [q, p] models, M = L Lᵀ for DeLaN.
    pub fn has_mass_net(self) -> bool {
        (self.uses_momenta() && !self.is_constrained()) || self == ModelKind::Delan
    }

    /// Whether the model has a stabiliser, on by default: the HNN family's (the field zeroed where
    /// |z_i| > 1e3) and the acceleration-level constrained models' (Baumgarte stabilisation of the
    /// constraints, `models::constrained_acceleration`).
    pub fn has_stabiliser(self) -> bool {
        self.is_hamiltonian() || matches!(self, ModelKind::ConstrainedNodeSo | ModelKind::Clnn)
    }

    /// Whether the model has a learned Hamiltonian.
    pub fn is_hamiltonian(self) -> bool {
        matches!(
            self,
            ModelKind::Hnn
                | ModelKind::HnnGeneral
                | ModelKind::HnnForced
                | ModelKind::PortHnn
                | ModelKind::DHnn
        )
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ModelKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ModelKind::ALL
            .iter()
            .copied()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = ModelKind::ALL.iter().map(|k| k.name()).collect();
                format!("unknown model '{s}' (known: {})", names.join(", "))
            })
    }
}
