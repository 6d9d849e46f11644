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
}

impl ModelKind {
    pub const ALL: [ModelKind; 7] = [
        ModelKind::Node,
        ModelKind::NodeSo,
        ModelKind::NodeSoDirect,
        ModelKind::NodeSoSymreg,
        ModelKind::Hnn,
        ModelKind::HnnGeneral,
        ModelKind::HnnForced,
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
        }
    }

    /// Whether the model integrates [q, p] with a learned mass matrix (converting at its edges).
    pub fn uses_momenta(self) -> bool {
        !matches!(self, ModelKind::Node | ModelKind::NodeSoDirect)
    }

    /// Whether the model has a learned Hamiltonian.
    pub fn is_hamiltonian(self) -> bool {
        matches!(
            self,
            ModelKind::Hnn | ModelKind::HnnGeneral | ModelKind::HnnForced
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
