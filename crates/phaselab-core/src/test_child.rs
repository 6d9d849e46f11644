//! Tests that run part of themselves in a child process of the test binary: in f64 (every float
//! tensor f64, set before any tensor exists in that process; burn's own ops then stand in for the
//! fused f32 kernels) or with PHASELAB_PLAIN_OPS (burn's own ops in f32), so that one test can
//! check the fused kernels, the plain ops and exact f64 arithmetic against one another.

use burn::prelude::*;
use serde::{de::DeserializeOwned, Serialize};

/// Set in a child: "f64" or "plain".
const MODE: &str = "PHASELAB_TEST_CHILD";
/// Where a child writes what it computed (JSON).
const OUT: &str = "PHASELAB_TEST_CHILD_OUT";

/// This process's mode when it is a child ("f64" or "plain"), None in the parent.
pub fn mode() -> Option<String> {
    std::env::var(MODE).ok()
}

/// flex in f64 (in the "f64" child, before any tensor exists).
pub fn flex_f64() -> Device {
    let mut flex = Device::flex();
    flex.configure(burn::tensor::FloatDType::F64)
        .expect("flex in f64");
    flex
}

/// In a child: hand `value` to the parent.
pub fn write<T: Serialize>(value: &T) {
    let out = std::env::var(OUT).expect("a child knows where to write");
    std::fs::write(out, serde_json::to_string(value).unwrap()).unwrap();
}

/// Run test `name` (its path below the crate, e.g. `train::tests::x`) in a child in `mode`;
/// what the child wrote.
pub fn run<T: DeserializeOwned>(name: &str, mode: &str) -> T {
    let tag = name.replace("::", "-");
    let out = std::env::temp_dir().join(format!(
        "phaselab-child-{tag}-{mode}-{}.json",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&out);
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(MODE, mode)
        .env(OUT, &out);
    if mode == "plain" {
        cmd.env("PHASELAB_PLAIN_OPS", "1");
    } else {
        cmd.env_remove("PHASELAB_PLAIN_OPS");
    }
    let o = cmd.output().expect("run the test binary");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{mode} child failed:\n{log}");
    let text = std::fs::read_to_string(&out)
        .unwrap_or_else(|_| panic!("{mode} child wrote nothing:\n{log}"));
    let _ = std::fs::remove_file(&out);
    serde_json::from_str(&text).unwrap()
}
