//! Initial conditions given by the user instead of sampled: a JSON list of `{"q": [...], "v": [...]}`
//! objects, or an `.npz` with `q` and `v` of shape [N, D] (or a trajectory set, whose first states
//! are used).

use super::npy::{NpyArray, NpyData};
use super::npz;
use super::trajectory_set::DataError;
use crate::physics::State;
use serde::Deserialize;

#[derive(Deserialize)]
struct JsonState {
    q: Vec<f64>,
    v: Vec<f64>,
}

/// Parse initial conditions for a system with `dof` coordinates.
pub fn parse(bytes: &[u8], dof: usize) -> Result<Vec<State>, DataError> {
    let states = if bytes.starts_with(b"PK") {
        from_npz(bytes)?
    } else {
        let txt = std::str::from_utf8(bytes).map_err(|_| {
            DataError::Format("initial conditions are neither an .npz nor JSON text".into())
        })?;
        let list: Vec<JsonState> = match serde_json::from_str::<Vec<JsonState>>(txt) {
            Ok(l) => l,
            Err(_) => vec![serde_json::from_str::<JsonState>(txt).map_err(|e| {
                DataError::Format(format!("initial conditions JSON must be {{\"q\": [..], \"v\": [..]}} or a list of them: {e}"))
            })?],
        };
        list.into_iter().map(|s| State { q: s.q, v: s.v }).collect()
    };
    if states.is_empty() {
        return Err(DataError::Shape("no initial conditions in the file".into()));
    }
    for (i, s) in states.iter().enumerate() {
        if s.q.len() != dof || s.v.len() != dof {
            return Err(DataError::Shape(format!(
                "initial condition {i} has {} positions and {} velocities; the system has D = {dof}",
                s.q.len(),
                s.v.len()
            )));
        }
        if s.q.iter().chain(&s.v).any(|x| !x.is_finite()) {
            return Err(DataError::NonFinite {
                name: format!("initial condition {i}"),
                count: 1,
                first: 0,
            });
        }
    }
    Ok(states)
}

fn from_npz(bytes: &[u8]) -> Result<Vec<State>, DataError> {
    let a = npz::read(bytes)?;
    let get = |name: &'static str| -> Result<(Vec<usize>, Vec<f64>), DataError> {
        match a.get(name) {
            Some(NpyArray {
                shape,
                data: NpyData::F64(x),
            }) => Ok((shape.clone(), x.clone())),
            Some(o) => Err(DataError::WrongDtype {
                name: name.into(),
                found: o.dtype_name().into(),
                expected: "float",
            }),
            None => Err(DataError::Missing(name)),
        }
    };
    let (qs, q) = get("q")?;
    let (vs, v) = get("v")?;
    if qs != vs {
        return Err(DataError::Shape(format!(
            "q has shape {qs:?} but v has shape {vs:?}"
        )));
    }
    if qs.contains(&0) {
        return Err(DataError::Shape(format!(
            "q has an empty dimension: shape {qs:?}"
        )));
    }
    let (n, stride, d) = match qs.as_slice() {
        [n, d] => (*n, *d, *d),
        [n, t, d] => (*n, t.saturating_mul(*d), *d),
        [d] => (1, *d, *d),
        _ => {
            return Err(DataError::Shape(format!(
                "q must be [N, D] or [N, T, D], got {qs:?}"
            )))
        }
    };
    if Some(q.len()) != n.checked_mul(stride) || v.len() != q.len() {
        return Err(DataError::Shape(format!(
            "q has {} values for shape {qs:?}",
            q.len()
        )));
    }
    Ok((0..n)
        .map(|i| State {
            q: q[i * stride..i * stride + d].to_vec(),
            v: v[i * stride..i * stride + d].to_vec(),
        })
        .collect())
}
