//! Browser API of phaselab (wasm-bindgen). A thin layer over `phaselab-core`: the page and its
//! worker call these (see `web/API.md`); every error comes back as a JavaScript exception with a
//! readable message.

mod js;
mod playground;
pub mod settings;

pub use playground::Playground;

use js::js_err;
use phaselab_core::data::TrajectorySet;
use phaselab_core::physics::simulate::{grid_points, simulate as integrate, Integrator};
use phaselab_core::physics::{build, drawing_points, Family, SystemListing, SystemSpec};
use phaselab_core::plot::{self, LinesSpec};
use phaselab_core::rng::Rng;
use wasm_bindgen::prelude::*;

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(s: &str);
}

/// Panics (bugs) are reported on the console with their message before the module traps.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        console_error(&format!("phaselab panicked: {info}"))
    }));
}

/// phaselab's version.
#[wasm_bindgen]
pub fn version() -> String {
    phaselab_core::VERSION.to_string()
}

/// Every system family (an example of each) as JSON, as `phaselab systems --json` lists them.
#[wasm_bindgen]
pub fn systems_json() -> String {
    let list: Vec<SystemListing> = Family::ALL
        .iter()
        .map(|&f| {
            let n = f.body_range().map(|r| r.0.max(2).min(r.1)).unwrap_or(1);
            SystemListing::of(build(SystemSpec::new(f, n)).as_ref())
        })
        .collect();
    serde_json::to_string(&list).expect("listings serialise")
}

/// Every model's name, label, one-line summary from the core, whether it learns on the system's
/// body points and whether the page offers it (JSON), so the page cannot drift from `ModelKind`.
#[wasm_bindgen]
pub fn model_kinds() -> String {
    let list: Vec<_> = phaselab_core::models::ModelKind::ALL
        .iter()
        .map(|k| {
            serde_json::json!({"kind": k.name(), "label": k.label(), "title": k.summary(),
                "constrained": k.is_constrained(),
                "playground": phaselab_core::models::ModelKind::PLAYGROUND.contains(k)})
        })
        .collect();
    serde_json::to_string(&list).expect("model kinds serialise")
}

/// The playground's system picker: spec, label, title, D, dt, angular, drag, drawn bodies; a
/// preset tile also carries its models (the "coordinates and constraints" tile).
#[wasm_bindgen]
pub fn playground_systems() -> String {
    let entry = |name: &str| {
        let sys = build(name.parse::<SystemSpec>().expect("picker systems parse"));
        serde_json::json!({"spec": name, "label": settings::label(name),
            "title": settings::title(name), "dof": sys.dof(),
            "dt": sys.dt(), "angular": sys.angular(), "drag": settings::has_drag(name),
            "drag_preset": name == settings::DRAG_PRESET,
            "bodies": sys.drawn_nodes().len()})
    };
    let mut list: Vec<_> = settings::SYSTEMS.iter().map(|&name| entry(name)).collect();
    let mut preset = entry(settings::CONSTRAINTS_PRESET);
    preset["preset"] = "constraints".into();
    preset["label"] = "coordinates and constraints".into();
    preset["models"] = serde_json::json!(settings::CONSTRAINTS_MODELS);
    preset["title"] = format!(
        "coordinates and constraints: {}, learned on its body points with the constraints given (CHNN, CLNN, constrained NODE+SO) beside NODE+SO and the HNN in angles. Do the constraints or the Hamiltonian do the work?",
        settings::label(settings::CONSTRAINTS_PRESET)
    )
    .into();
    list.insert(3, preset);
    serde_json::Value::Array(list).to_string()
}

/// The verdict line's ranking and reading from the core's rule (`experiments::verdict`): models
/// JSON [{kind, label, gerr, checkpoint}], system JSON {drag, controls, angular} -> JSON
/// {order: indices lowest error first, claim, reading}.
#[wasm_bindgen]
pub fn verdict(models: &str, system: &str) -> Result<String, JsError> {
    use phaselab_core::experiments::verdict::{verdict, LiveModel, SystemKind};
    let models: Vec<LiveModel> =
        serde_json::from_str(models).map_err(|e| js_err(format!("verdict models: {e}")))?;
    if let Some(m) = models.iter().find(|m| !m.gerr.is_finite()) {
        return Err(js_err(format!(
            "verdict: {} has no finite rollout error",
            m.label
        )));
    }
    let system: SystemKind =
        serde_json::from_str(system).map_err(|e| js_err(format!("verdict system: {e}")))?;
    Ok(serde_json::to_string(&verdict(&models, system)).expect("a verdict serialises"))
}

/// The factor within which two rollout errors match (the verdict's and RESULTS.md's).
#[wasm_bindgen]
pub fn match_factor() -> f64 {
    phaselab_core::experiments::verdict::MATCH_FACTOR
}

/// The page's default settings (JSON).
#[wasm_bindgen]
pub fn default_settings() -> String {
    serde_json::to_string(&settings::Settings::default()).expect("settings serialise")
}

/// Settings (JSON, e.g. from a URL) made legal: JSON {settings, notices}.
#[wasm_bindgen]
pub fn clamp_settings(json: &str) -> String {
    let raw = serde_json::from_str(json).unwrap_or(serde_json::Value::String(json.into()));
    let (s, notices) = settings::clamp(&raw);
    serde_json::json!({"settings": s, "notices": notices}).to_string()
}

/// Ground truth from a sampled initial condition: [T, 2D] values (q then v per step), flattened.
#[wasm_bindgen]
pub fn simulate(system: &str, seed: u64, seconds: f64) -> Result<Vec<f64>, JsError> {
    let spec: SystemSpec = system.parse().map_err(js_err)?;
    if !(seconds.is_finite() && seconds > 0.0 && seconds <= 1000.0) {
        return Err(js_err("seconds must be in (0, 1000]"));
    }
    let sys = build(spec);
    let init = sys.sample_initial(&mut Rng::new(seed));
    let n = grid_points(seconds, sys.dt());
    let tr = integrate(sys.as_ref(), &init, n, sys.dt(), &Integrator::default()).map_err(js_err)?;
    Ok(tr.states.iter().flat_map(|s| s.to_z()).collect())
}

/// Drawing coordinates of each drawn body for each state (rows of [q, v]): [n, bodies, 2].
#[wasm_bindgen]
pub fn positions(system: &str, states: Vec<f64>) -> Result<Vec<f64>, JsError> {
    let sys = build(system.parse::<SystemSpec>().map_err(js_err)?);
    let w = 2 * sys.dof();
    if states.len() % w != 0 {
        return Err(js_err(format!(
            "{} values are not whole states of {w}",
            states.len()
        )));
    }
    Ok(states
        .chunks(w)
        .flat_map(|z| drawing_points(sys.as_ref(), &z[..sys.dof()]))
        .flatten()
        .collect())
}

/// Validate a dataset file's bytes and describe it (the same reader as `phaselab data info`).
#[wasm_bindgen]
pub fn dataset_summary(bytes: &[u8]) -> Result<String, JsError> {
    let set = TrajectorySet::from_npz(bytes)
        .map_err(|e| js_err(format!("not a valid phaselab dataset: {e}")))?;
    Ok(set.summary())
}

/// What a file that could not be read looks like, in words ("a text file starting …"), for the
/// page's plain-language error messages.
#[wasm_bindgen]
pub fn describe_file(bytes: &[u8]) -> String {
    phaselab_core::data::sniff::describe(bytes)
}

/// A line figure (shared plotters code) as SVG with the frame that maps clicks to data:
/// JSON {svg, area, x, y, legend, legend_box, x_ticks, y_ticks} (the key's box and the tick
/// labels, for the page's tests). Main thread only: plotters measures text with the DOM.
#[wasm_bindgen]
pub fn plot_lines(spec_json: &str, width: u32, height: u32) -> Result<String, JsError> {
    let spec: LinesSpec =
        serde_json::from_str(spec_json).map_err(|e| js_err(format!("bad plot spec: {e}")))?;
    if !(50..=4000).contains(&width) || !(50..=4000).contains(&height) {
        return Err(js_err("plot size must be 50..4000 px"));
    }
    let mut svg = String::new();
    let frame = {
        use plot::plotters::prelude::{IntoDrawingArea, SVGBackend};
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        plot::lines(&root, &spec).map_err(js_err)?
    };
    let (x_ticks, y_ticks) = plot::tick_labels(&svg, &frame);
    Ok(
        serde_json::json!({"svg": svg, "area": frame.area, "x": frame.x, "y": frame.y,
        "legend": frame.legend, "legend_box": frame.legend_box,
        "x_ticks": x_ticks, "y_ticks": y_ticks})
        .to_string(),
    )
}

/// A model's colour as CSS "#rrggbb" (the same in every figure and in the page).
#[wasm_bindgen]
pub fn model_colour(name: &str) -> String {
    let c = plot::model_colour(name);
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

#[cfg(test)]
mod tests;
