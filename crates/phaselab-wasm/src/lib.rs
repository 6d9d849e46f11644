//! Browser API of phaselab (wasm-bindgen). A thin layer over `phaselab-core`: the page and its
//! worker call these; every error comes back as a JavaScript exception with a readable message.

use phaselab_core::data::TrajectorySet;
use phaselab_core::physics::simulate::{grid_points, simulate as integrate, Integrator};
use phaselab_core::physics::{build, Family, SystemSpec};
use phaselab_core::rng::Rng;
use wasm_bindgen::prelude::*;

/// phaselab's version.
#[wasm_bindgen]
pub fn version() -> String {
    phaselab_core::VERSION.to_string()
}

/// Every system as JSON: name, D, dt, angular coordinates, constants.
#[wasm_bindgen]
pub fn systems_json() -> String {
    let mut out = Vec::new();
    for f in Family::ALL {
        let n = f.body_range().map(|r| r.0.max(2).min(r.1)).unwrap_or(1);
        let sys = build(SystemSpec::new(f, n));
        out.push(
            serde_json::json!({"family": f.name(), "example": sys.name(), "dof": sys.dof(),
            "dt": sys.dt(), "angular": sys.angular(), "parameters": sys.parameters()}),
        );
    }
    serde_json::Value::Array(out).to_string()
}

/// Ground truth from a sampled initial condition: [T, 2D] values (q then v per step), flattened.
#[wasm_bindgen]
pub fn simulate(system: &str, seed: u64, seconds: f64) -> Result<Vec<f64>, JsError> {
    let spec: SystemSpec = system.parse().map_err(|e| JsError::new(&format!("{e}")))?;
    if !(seconds.is_finite() && seconds > 0.0 && seconds <= 1000.0) {
        return Err(JsError::new("seconds must be in (0, 1000]"));
    }
    let sys = build(spec);
    let init = sys.sample_initial(&mut Rng::new(seed));
    let n = grid_points(seconds, sys.dt());
    let tr = integrate(sys.as_ref(), &init, n, sys.dt(), &Integrator::default())
        .map_err(|e| JsError::new(&e.to_string()))?;
    Ok(tr
        .states
        .iter()
        .flat_map(|s| s.q.iter().chain(&s.v).copied().collect::<Vec<_>>())
        .collect())
}

/// Validate a dataset file's bytes and describe it (the same reader as `phaselab data info`).
#[wasm_bindgen]
pub fn dataset_summary(bytes: &[u8]) -> Result<String, JsError> {
    let set = TrajectorySet::from_npz(bytes)
        .map_err(|e| JsError::new(&format!("not a valid phaselab dataset: {e}")))?;
    Ok(set.summary())
}
