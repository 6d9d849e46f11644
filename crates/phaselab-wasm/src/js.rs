//! The JavaScript boundary's two conversions: an error becomes a JavaScript `Error` with its
//! message, and a JSON string from the page becomes a value (bad JSON is an error, never a panic).

use wasm_bindgen::prelude::*;

/// A JavaScript `Error` carrying `e`'s message.
pub(crate) fn js_err(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

pub(crate) fn parse_json(s: &str) -> Result<serde_json::Value, JsError> {
    serde_json::from_str(s).map_err(|e| js_err(format!("bad JSON: {e}")))
}
