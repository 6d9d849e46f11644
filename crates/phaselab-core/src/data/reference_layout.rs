//! The paper's MuJoCo files: `{task}_cl20_xdata.npy` [N, T, 2n] (qpos then qvel) with
//! `{task}_cl20_udata.npy` [N, T, m] for training, `{task}_episodes_*` for testing.

use super::npy::{NpyArray, NpyData};
use super::trajectory_set::{Metadata, TrajectorySet, FORMAT_VERSION};
use super::DataError;

/// Time steps of the reference's tasks (its `timestep_table`).
pub const TIMESTEPS: [(&str, f64); 8] = [
    ("HopperFull-v0", 0.008),
    ("SwimmerFull-v0", 0.04),
    ("HalfCheetahFull-v0", 0.05),
    ("Walker2dFull-v0", 0.008),
    ("Hopper-v5", 0.008),
    ("Swimmer-v5", 0.04),
    ("HalfCheetah-v5", 0.05),
    ("Walker2d-v5", 0.008),
];

/// The time step of a known task.
pub fn task_dt(task: &str) -> Option<f64> {
    TIMESTEPS
        .iter()
        .find(|(t, _)| *t == task)
        .map(|(_, dt)| *dt)
}

fn floats3(name: &str, a: NpyArray) -> Result<([usize; 3], Vec<f64>), DataError> {
    let shape: [usize; 3] = a.shape.as_slice().try_into().map_err(|_| {
        DataError::Shape(format!(
            "{name} must be 3-D [N, T, width], got shape {:?}",
            a.shape
        ))
    })?;
    match a.data {
        NpyData::F64(v) => Ok((shape, v)),
        other => Err(DataError::WrongDtype {
            name: name.into(),
            found: NpyArray {
                shape: vec![],
                data: other,
            }
            .dtype_name()
            .into(),
            expected: "float32 or float64",
        }),
    }
}

/// Read an x file ([N, T, 2n]) and its u file ([N, T, m]) with time step `dt` as a trajectory
/// set named `mujoco:{task}`.
pub fn from_reference_npy(
    x_bytes: &[u8],
    u_bytes: &[u8],
    dt: f64,
    task: &str,
    split: &str,
) -> Result<TrajectorySet, DataError> {
    if !(dt.is_finite() && dt > 0.0) {
        return Err(DataError::Metadata(format!(
            "time step dt must be finite and > 0, got {dt}"
        )));
    }
    let (xs, x) = floats3("xdata", NpyArray::from_bytes(x_bytes)?)?;
    let (us, u) = floats3("udata", NpyArray::from_bytes(u_bytes)?)?;
    let [n, t, w] = xs;
    if n == 0 || t == 0 || w == 0 {
        return Err(DataError::Shape(format!("empty xdata: shape {xs:?}")));
    }
    if w % 2 != 0 {
        return Err(DataError::Shape(format!(
            "xdata's state width {w} is odd; it must be [qpos, qvel] of equal halves"
        )));
    }
    if us[0] != n || us[1] != t {
        return Err(DataError::Shape(format!(
            "xdata is [N={n}, T={t}, {w}] but udata is [N={}, T={}, {}]: N and T must agree",
            us[0], us[1], us[2]
        )));
    }
    let d = w / 2;
    let (mut q, mut v) = (Vec::with_capacity(n * t * d), Vec::with_capacity(n * t * d));
    for row in x.chunks(w) {
        q.extend_from_slice(&row[..d]);
        v.extend_from_slice(&row[d..]);
    }
    let set = TrajectorySet {
        n,
        t,
        d,
        q,
        v,
        u: Some((u, us[2])),
        dt,
        t0: None,
        meta: Metadata {
            format_version: FORMAT_VERSION,
            system: format!("mujoco:{task}"),
            parameters: serde_json::json!({"layout": "decon-hnn reference npy"}),
            angular: vec![false; d],
            seed: None,
            phaselab_version: crate::VERSION.to_string(),
            split: split.into(),
            integrator: "mujoco".into(),
            source: "reference layout".into(),
            coordinates: Default::default(),
        },
    };
    set.validate()?;
    Ok(set)
}
