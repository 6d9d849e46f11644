//! A set of trajectories (or trajectory chunks) and its file format.
//!
//! File format (`.npz`, readable with `numpy.load`):
//! - `q` float64 [N, T, D]: generalised coordinates; `v` float64 [N, T, D]: their time derivatives;
//! - `u` float64 [N, T, m] (optional): controls, zero-order held over each step;
//! - `dt` float64 scalar: time step; `t` float64 [T]: times within a chunk, `t = k dt`;
//! - `t0` float64 [N] (optional): start time of each chunk in its source trajectory;
//! - `metadata`: a JSON string (numpy `<U`) with `format_version`, `system`, `parameters`,
//!   `angular` [D bools], `seed`, `phaselab_version`, `split`, `integrator`, `source`, and
//!   `coordinates` ("cartesian" for the body points of `data gen --coordinates cartesian`; absent
//!   for generalised coordinates).
//! `json.loads(str(np.load(f)["metadata"]))` reads the metadata in Python.

use super::npy::{NpyArray, NpyData, NpyError};
use super::npz;
use crate::physics::SystemSpec;
use serde::{Deserialize, Serialize};

/// Version of the file layout above.
pub const FORMAT_VERSION: u32 = 1;

/// What is known about a dataset beyond its arrays.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    pub format_version: u32,
    /// A phaselab system name (`chain-pendulum:2`) or an external one with a prefix (`mujoco:Hopper-v5`).
    pub system: String,
    #[serde(default)]
    pub parameters: serde_json::Value,
    /// Which coordinates are angles.
    pub angular: Vec<bool>,
    #[serde(default)]
    pub seed: Option<u64>,
    pub phaselab_version: String,
    /// `train`, `val`, `test` or `trajectories`.
    #[serde(default)]
    pub split: String,
    #[serde(default)]
    pub integrator: String,
    /// What produced the file.
    #[serde(default)]
    pub source: String,
    /// Which coordinates q holds.
    #[serde(default, skip_serializing_if = "Coordinates::is_generalised")]
    pub coordinates: Coordinates,
}

/// The coordinates a dataset's q is in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Coordinates {
    /// The system's generalised coordinates (angles, a centre of mass, ...).
    #[default]
    Generalised,
    /// The flattened positions of the system's body points, x = [x_0, x_1, ...] (each in its
    /// body graph's d dimensions), held by the body graph's constraints.
    Cartesian,
}

impl Coordinates {
    pub fn is_generalised(&self) -> bool {
        *self == Coordinates::Generalised
    }

    pub fn name(self) -> &'static str {
        match self {
            Coordinates::Generalised => "generalised",
            Coordinates::Cartesian => "cartesian",
        }
    }
}

impl std::str::FromStr for Coordinates {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "generalised" | "generalized" => Ok(Coordinates::Generalised),
            "cartesian" => Ok(Coordinates::Cartesian),
            other => Err(format!(
                "unknown coordinates '{other}' (generalised, cartesian)"
            )),
        }
    }
}

/// A dataset file that cannot be used, with the reason.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum DataError {
    #[error("{0}")]
    Format(String),
    #[error("missing array '{0}'")]
    Missing(&'static str),
    #[error("array '{name}' has the wrong type: {found}, expected {expected}")]
    WrongDtype {
        name: String,
        found: String,
        expected: &'static str,
    },
    #[error("shape mismatch: {0}")]
    Shape(String),
    #[error(
        "array '{name}' contains {count} NaN or infinite values (first at flat index {first})"
    )]
    NonFinite {
        name: String,
        count: usize,
        first: usize,
    },
    #[error("bad metadata: {0}")]
    Metadata(String),
    #[error("unknown system '{0}' (not a phaselab system; external data needs a prefix such as 'mujoco:' or 'custom:')")]
    UnknownSystem(String),
}

impl From<NpyError> for DataError {
    fn from(e: NpyError) -> Self {
        DataError::Format(e.0)
    }
}

/// N trajectories of T states in D coordinates (row-major [N, T, D]).
#[derive(Clone, Debug, PartialEq)]
pub struct TrajectorySet {
    pub n: usize,
    pub t: usize,
    pub d: usize,
    pub q: Vec<f64>,
    pub v: Vec<f64>,
    /// Controls [N, T, m] and m, when the data has actions.
    pub u: Option<(Vec<f64>, usize)>,
    pub dt: f64,
    pub t0: Option<Vec<f64>>,
    pub meta: Metadata,
}

fn check_finite(name: &str, x: &[f64]) -> Result<(), DataError> {
    let bad: Vec<usize> = x
        .iter()
        .enumerate()
        .filter(|(_, v)| !v.is_finite())
        .map(|(i, _)| i)
        .take(1)
        .collect();
    if let Some(&first) = bad.first() {
        let count = x.iter().filter(|v| !v.is_finite()).count();
        return Err(DataError::NonFinite {
            name: name.into(),
            count,
            first,
        });
    }
    Ok(())
}

fn floats(
    arrays: &npz::Arrays,
    name: &'static str,
) -> Result<Option<(Vec<usize>, Vec<f64>)>, DataError> {
    match arrays.get(name) {
        None => Ok(None),
        Some(NpyArray {
            shape,
            data: NpyData::F64(v),
        }) => Ok(Some((shape.clone(), v.clone()))),
        Some(a) => Err(DataError::WrongDtype {
            name: name.into(),
            found: a.dtype_name().into(),
            expected: "float32 or float64",
        }),
    }
}

impl TrajectorySet {
    /// State (q, v) of trajectory i at time k.
    pub fn state(&self, i: usize, k: usize) -> (&[f64], &[f64]) {
        let o = (i * self.t + k) * self.d;
        (&self.q[o..o + self.d], &self.v[o..o + self.d])
    }

    /// Number of controls per step (0 without controls).
    pub fn n_controls(&self) -> usize {
        self.u.as_ref().map(|u| u.1).unwrap_or(0)
    }

    /// Check internal consistency (shapes, finiteness, metadata); the reader calls this.
    pub fn validate(&self) -> Result<(), DataError> {
        let len = self.n * self.t * self.d;
        if self.q.len() != len || self.v.len() != len {
            return Err(DataError::Shape(format!(
                "q and v must both hold N*T*D = {len} values"
            )));
        }
        if self.n == 0 || self.t == 0 || self.d == 0 {
            return Err(DataError::Shape(format!(
                "empty dataset: N={}, T={}, D={}",
                self.n, self.t, self.d
            )));
        }
        if !(self.dt.is_finite() && self.dt > 0.0) {
            return Err(DataError::Metadata(format!(
                "time step dt must be finite and > 0, got {}",
                self.dt
            )));
        }
        check_finite("q", &self.q)?;
        check_finite("v", &self.v)?;
        if let Some((u, m)) = &self.u {
            if u.len() != self.n * self.t * m {
                return Err(DataError::Shape(format!(
                    "u must hold N*T*m = {} values",
                    self.n * self.t * m
                )));
            }
            check_finite("u", u)?;
        }
        if let Some(t0) = &self.t0 {
            if t0.len() != self.n {
                return Err(DataError::Shape(format!(
                    "t0 has {} entries for N = {} trajectories",
                    t0.len(),
                    self.n
                )));
            }
            check_finite("t0", t0)?;
        }
        if self.meta.angular.len() != self.d {
            return Err(DataError::Metadata(format!(
                "'angular' lists {} coordinates but the data has D = {}",
                self.meta.angular.len(),
                self.d
            )));
        }
        let sys = &self.meta.system;
        if sys.is_empty() {
            return Err(DataError::Metadata("'system' is empty".into()));
        }
        let external = ["mujoco:", "custom:", "d4rl:", "minari:"]
            .iter()
            .any(|p| sys.starts_with(p));
        if !external {
            let spec: SystemSpec = sys
                .parse()
                .map_err(|_| DataError::UnknownSystem(sys.clone()))?;
            let (want, what) = match self.meta.coordinates {
                Coordinates::Generalised => (spec.dof(), "coordinates"),
                Coordinates::Cartesian => (
                    crate::physics::build(spec).body_graph().coordinates(),
                    "Cartesian body-point coordinates",
                ),
            };
            if want != self.d {
                return Err(DataError::Shape(format!(
                    "{sys} has D = {want} {what}, the data has {}",
                    self.d
                )));
            }
        }
        Ok(())
    }

    /// Serialise to `.npz` bytes.
    pub fn to_npz(&self) -> Vec<u8> {
        let mut a = npz::Arrays::new();
        a.insert(
            "q".into(),
            NpyArray::f64(vec![self.n, self.t, self.d], self.q.clone()),
        );
        a.insert(
            "v".into(),
            NpyArray::f64(vec![self.n, self.t, self.d], self.v.clone()),
        );
        if let Some((u, m)) = &self.u {
            a.insert(
                "u".into(),
                NpyArray::f64(vec![self.n, self.t, *m], u.clone()),
            );
        }
        a.insert("dt".into(), NpyArray::f64(vec![], vec![self.dt]));
        a.insert(
            "t".into(),
            NpyArray::f64(
                vec![self.t],
                (0..self.t).map(|k| k as f64 * self.dt).collect(),
            ),
        );
        if let Some(t0) = &self.t0 {
            a.insert("t0".into(), NpyArray::f64(vec![self.n], t0.clone()));
        }
        let meta = serde_json::to_string(&self.meta).expect("metadata serialises");
        a.insert("metadata".into(), NpyArray::string(&meta));
        npz::write(&a)
    }

    /// Parse and validate `.npz` bytes.
    pub fn from_npz(bytes: &[u8]) -> Result<Self, DataError> {
        let arrays = npz::read(bytes)?;
        let (qs, q) = floats(&arrays, "q")?.ok_or(DataError::Missing("q"))?;
        let (vs, v) = floats(&arrays, "v")?.ok_or(DataError::Missing("v"))?;
        if qs.len() != 3 {
            return Err(DataError::Shape(format!(
                "q must be [N, T, D], got shape {qs:?}"
            )));
        }
        if vs != qs {
            return Err(DataError::Shape(format!(
                "q has shape {qs:?} but v has shape {vs:?}"
            )));
        }
        let (n, t, d) = (qs[0], qs[1], qs[2]);
        if n == 0 || t == 0 || d == 0 {
            return Err(DataError::Shape(format!(
                "empty dataset: q has shape {qs:?}"
            )));
        }
        let u = match floats(&arrays, "u")? {
            None => None,
            Some((us, u)) => {
                if us.len() != 3 || us[0] != n || us[1] != t {
                    return Err(DataError::Shape(format!(
                        "u must be [N={n}, T={t}, m], got shape {us:?}"
                    )));
                }
                Some((u, us[2]))
            }
        };
        let dt = match floats(&arrays, "dt")? {
            Some((s, x)) if s.is_empty() || s == [1] => x[0],
            Some((s, _)) => {
                return Err(DataError::Shape(format!(
                    "dt must be a scalar, got shape {s:?}"
                )))
            }
            None => match floats(&arrays, "t")? {
                Some((_, ts)) if ts.len() >= 2 => ts[1] - ts[0],
                _ => return Err(DataError::Missing("dt")),
            },
        };
        if let Some((ts, tv)) = floats(&arrays, "t")? {
            if ts != [t] {
                return Err(DataError::Shape(format!(
                    "t has shape {ts:?}, expected [{t}]"
                )));
            }
            check_finite("t", &tv)?;
            if tv
                .iter()
                .enumerate()
                .any(|(k, x)| (x - tv[0] - k as f64 * dt).abs() > 1e-6 * (1.0 + x.abs()))
            {
                return Err(DataError::Shape(
                    "t is not a uniform grid with step dt".into(),
                ));
            }
        }
        let t0 = floats(&arrays, "t0")?.map(|(_, x)| x);
        let meta_txt = match arrays.get("metadata") {
            None => return Err(DataError::Missing("metadata")),
            Some(NpyArray {
                data: NpyData::Str(s),
                ..
            }) => s.clone(),
            Some(a) => {
                return Err(DataError::WrongDtype {
                    name: "metadata".into(),
                    found: a.dtype_name().into(),
                    expected: "a JSON string",
                })
            }
        };
        let meta: Metadata =
            serde_json::from_str(&meta_txt).map_err(|e| DataError::Metadata(e.to_string()))?;
        if meta.format_version > FORMAT_VERSION {
            return Err(DataError::Metadata(format!(
                "format_version {} is newer than this phaselab reads ({FORMAT_VERSION}); upgrade phaselab",
                meta.format_version
            )));
        }
        let set = TrajectorySet {
            n,
            t,
            d,
            q,
            v,
            u,
            dt,
            t0,
            meta,
        };
        set.validate()?;
        Ok(set)
    }

    /// Human-readable summary: sizes, time span and value ranges.
    pub fn summary(&self) -> String {
        let range = |x: &[f64]| {
            let lo = x.iter().cloned().fold(f64::INFINITY, f64::min);
            let hi = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            format!("[{lo:.4}, {hi:.4}]")
        };
        let mut s = format!(
            "system      {}\nsplit       {}\nshape       N={} trajectories x T={} steps x D={} coordinates\ndt          {} s (span {:.3} s per trajectory)\n",
            self.meta.system,
            if self.meta.split.is_empty() { "-" } else { &self.meta.split },
            self.n,
            self.t,
            self.d,
            self.dt,
            (self.t.saturating_sub(1)) as f64 * self.dt
        );
        let ang: Vec<String> = self
            .meta
            .angular
            .iter()
            .enumerate()
            .filter(|(_, a)| **a)
            .map(|(i, _)| i.to_string())
            .collect();
        s += &format!(
            "angles      {}\n",
            if ang.is_empty() {
                "none".to_string()
            } else {
                format!("coordinates {}", ang.join(", "))
            }
        );
        s += &format!(
            "q range     {}\nv range     {}\n",
            range(&self.q),
            range(&self.v)
        );
        if let Some((u, m)) = &self.u {
            s += &format!("controls    m={m}, range {}\n", range(u));
        }
        if let Some(seed) = self.meta.seed {
            s += &format!("seed        {seed}\n");
        }
        if !self.meta.integrator.is_empty() {
            s += &format!("integrator  {}\n", self.meta.integrator);
        }
        s += &format!(
            "written by  phaselab {} ({})\n",
            self.meta.phaselab_version, self.meta.source
        );
        s
    }
}
