//! System names as users type them: `family[:N][,f=DRAG]`, e.g. `chain-pendulum:2`,
//! `spring-pendulum-drag:3,f=0.5`, `gyroscope`.

use std::fmt;
use std::str::FromStr;

/// The kinds of system phaselab simulates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    ChainPendulum,
    ChainPendulumDrag,
    SpringPendulum,
    SpringPendulumDrag,
    Gyroscope,
    MagnetPendulum,
    Rotor,
    CoupledPendulum,
}

/// Default drag coefficient f of the drag variants (the paper's script passes 0.4).
pub const DEFAULT_DRAG: f64 = 0.4;

impl Family {
    pub const ALL: [Family; 8] = [
        Family::ChainPendulum,
        Family::SpringPendulum,
        Family::ChainPendulumDrag,
        Family::SpringPendulumDrag,
        Family::Gyroscope,
        Family::MagnetPendulum,
        Family::Rotor,
        Family::CoupledPendulum,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Family::ChainPendulum => "chain-pendulum",
            Family::ChainPendulumDrag => "chain-pendulum-drag",
            Family::SpringPendulum => "spring-pendulum",
            Family::SpringPendulumDrag => "spring-pendulum-drag",
            Family::Gyroscope => "gyroscope",
            Family::MagnetPendulum => "magnet-pendulum",
            Family::Rotor => "rotor",
            Family::CoupledPendulum => "coupled-pendulum",
        }
    }

    /// Allowed range of the body count N, or `None` for single-body systems.
    pub fn body_range(self) -> Option<(usize, usize)> {
        match self {
            Family::ChainPendulum
            | Family::ChainPendulumDrag
            | Family::SpringPendulum
            | Family::SpringPendulumDrag => Some((1, 5)),
            Family::CoupledPendulum => Some((2, 5)),
            _ => None,
        }
    }

    pub fn has_drag(self) -> bool {
        matches!(self, Family::ChainPendulumDrag | Family::SpringPendulumDrag)
    }
}

/// How the chain pendulum's perturbed Cartesian initial states are brought back onto its
/// constraints (`ic=` in a system name).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Projection {
    /// phaselab's: the angles of the perturbed link vectors, least-squares angular rates.
    #[default]
    Angles,
    /// The reference's: joint Newton projection of positions and velocities in Cartesian
    /// coordinates (`physics::constraint_projection`).
    Newton,
}

impl Projection {
    pub fn name(self) -> &'static str {
        match self {
            Projection::Angles => "angles",
            Projection::Newton => "newton",
        }
    }
}

/// Whose build of a system whose two reference codes differ (`body=` in a system name): the
/// rotor's body, the magnet pendulum's bob.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Body {
    /// The decon-hnn code's: the rotor's mass 2 and the second moments of its `rotor.obj`; the
    /// magnet pendulum's bob of mass 2.
    #[default]
    Decon,
    /// The CHNN repository's: its `Rotor()`, mass 3, second moments (1, 2, 3), every initial
    /// coordinate and rate N(0, 1); its `MagnetPendulum()`, a bob of mass 3.
    Chnn,
}

impl Body {
    pub fn name(self) -> &'static str {
        match self {
            Body::Decon => "decon",
            Body::Chnn => "chnn",
        }
    }
}

/// A fully specified system: family, body count, drag coefficient and initial-condition projection.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SystemSpec {
    pub family: Family,
    /// Number of links / bobs / pendulums (1 for single-body systems).
    pub n: usize,
    /// Drag coefficient f in dp/dt += -f p (0 for conservative systems).
    pub drag: f64,
    /// Initial-condition projection (chain pendulums only).
    pub ic: Projection,
    /// Whose build (the rotor and the magnet pendulum only).
    pub body: Body,
}

/// A system name that could not be understood.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid system '{input}': {reason}")]
pub struct SpecError {
    pub input: String,
    pub reason: String,
}

impl SystemSpec {
    pub fn new(family: Family, n: usize) -> Self {
        let drag = if family.has_drag() { DEFAULT_DRAG } else { 0.0 };
        SystemSpec {
            family,
            n,
            drag,
            ic: Projection::Angles,
            body: Body::Decon,
        }
    }

    /// The same system with drag coefficient f (only meaningful for drag families).
    pub fn with_drag(mut self, f: f64) -> Self {
        self.drag = f;
        self
    }

    pub fn dof(&self) -> usize {
        match self.family {
            Family::ChainPendulum | Family::ChainPendulumDrag => self.n,
            Family::SpringPendulum | Family::SpringPendulumDrag => 3 * self.n,
            Family::Gyroscope => 3,
            Family::MagnetPendulum => 2,
            Family::Rotor => 6,
            Family::CoupledPendulum => 2 * self.n,
        }
    }

    fn check(self, input: &str) -> Result<Self, SpecError> {
        let err = |reason: String| SpecError {
            input: input.to_string(),
            reason,
        };
        if let Some((lo, hi)) = self.family.body_range() {
            if self.n < lo || self.n > hi {
                return Err(err(format!(
                    "{} takes N in {lo}..={hi}, got {}",
                    self.family.name(),
                    self.n
                )));
            }
        }
        if !self.drag.is_finite() || self.drag < 0.0 {
            return Err(err(format!(
                "drag coefficient f must be finite and >= 0, got {}",
                self.drag
            )));
        }
        if self.drag != 0.0 && !self.family.has_drag() {
            return Err(err(format!(
                "{} has no drag; use {}-drag",
                self.family.name(),
                self.family.name()
            )));
        }
        Ok(self)
    }
}

impl FromStr for SystemSpec {
    type Err = SpecError;
    fn from_str(input: &str) -> Result<Self, SpecError> {
        let err = |reason: String| SpecError {
            input: input.to_string(),
            reason,
        };
        let s = input.trim();
        let mut parts = s.split(',');
        let head = parts.next().unwrap_or("");
        let (name, count) = match head.split_once(':') {
            Some((a, b)) => (a, Some(b)),
            None => (head, None),
        };
        let family = Family::ALL
            .iter()
            .copied()
            .find(|f| f.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Family::ALL.iter().map(|f| f.name()).collect();
                err(format!(
                    "unknown system '{name}'; known: {}",
                    names.join(", ")
                ))
            })?;
        let n = match (family.body_range(), count) {
            (Some(_), Some(c)) => c
                .parse::<usize>()
                .map_err(|_| err(format!("N must be a whole number, got '{c}'")))?,
            (Some((lo, _)), None) => {
                return Err(err(format!(
                    "{name} needs a body count, e.g. {name}:{}",
                    lo.max(2)
                )));
            }
            (None, Some(c)) if c != "1" => {
                return Err(err(format!("{name} takes no body count, got ':{c}'")))
            }
            (None, _) => 1,
        };
        let mut spec = SystemSpec::new(family, n);
        for kv in parts {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| err(format!("expected key=value, got '{kv}'")))?;
            match k.trim() {
                "f" | "drag" => {
                    let f: f64 = v
                        .trim()
                        .parse()
                        .map_err(|_| err(format!("drag must be a number, got '{v}'")))?;
                    spec.drag = f;
                }
                "ic" => {
                    let chain = matches!(family, Family::ChainPendulum | Family::ChainPendulumDrag);
                    spec.ic = match v.trim() {
                        _ if !chain => {
                            return Err(err(format!("{name} takes no ic= (chain pendulums only)")))
                        }
                        "angles" => Projection::Angles,
                        "newton" => Projection::Newton,
                        o => {
                            return Err(err(format!(
                            "ic must be angles (phaselab's) or newton (the reference's), got '{o}'"
                        )))
                        }
                    };
                }
                "body" => {
                    spec.body = match v.trim() {
                        _ if !matches!(family, Family::Rotor | Family::MagnetPendulum) => {
                            return Err(err(format!(
                                "{name} takes no body= (the rotor and the magnet pendulum only)"
                            )))
                        }
                        "decon" => Body::Decon,
                        "chnn" => Body::Chnn,
                        o => {
                            return Err(err(format!(
                                "body must be decon (the decon-hnn code's) or chnn (the CHNN repository's), got '{o}'"
                            )))
                        }
                    };
                }
                other => {
                    return Err(err(format!(
                        "unknown parameter '{other}' (known: f, ic, body)"
                    )))
                }
            }
        }
        spec.check(input)
    }
}

impl fmt::Display for SystemSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.family.name())?;
        if self.family.body_range().is_some() {
            write!(f, ":{}", self.n)?;
        }
        if self.family.has_drag() {
            write!(f, ",f={}", self.drag)?;
        }
        if self.ic != Projection::Angles {
            write!(f, ",ic={}", self.ic.name())?;
        }
        if self.body != Body::Decon {
            write!(f, ",body={}", self.body.name())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        for s in [
            "chain-pendulum:2",
            "spring-pendulum:5",
            "gyroscope",
            "rotor",
            "coupled-pendulum:3",
            "chain-pendulum-drag:1,f=0.4",
            "chain-pendulum:2,ic=newton",
            "chain-pendulum-drag:3,f=0.4,ic=newton",
            "rotor,body=chnn",
            "magnet-pendulum,body=chnn",
        ] {
            let spec: SystemSpec = s.parse().unwrap();
            assert_eq!(spec.to_string(), s);
        }
        let d: SystemSpec = "spring-pendulum-drag:2".parse().unwrap();
        assert_eq!(d.drag, DEFAULT_DRAG);
        assert_eq!(d.dof(), 6);
    }

    #[test]
    fn rejects_bad_names() {
        for s in [
            "pendulum",
            "chain-pendulum",
            "chain-pendulum:0",
            "chain-pendulum:9",
            "chain-pendulum:x",
            "gyroscope:3",
            "chain-pendulum:2,f=0.3",
            "chain-pendulum-drag:2,f=-1",
            "chain-pendulum-drag:2,f=nan",
            "chain-pendulum-drag:2,k=1",
            "chain-pendulum-drag:2,f",
            "chain-pendulum:2,ic=exact",
            "spring-pendulum:2,ic=newton",
            "gyroscope,body=chnn",
            "rotor,body=cube",
        ] {
            let e = s.parse::<SystemSpec>().unwrap_err();
            assert!(e.to_string().contains(s), "{e}");
        }
    }
}
