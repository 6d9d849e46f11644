//! Files and progress: atomic writes (a crash never leaves a half-written file in place of a good
//! one) and indicatif bars.

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::Path;

/// Write `bytes` to `path` through a temporary file in the same directory and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create directory {}", dir.display()))?;
    }
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file path", path.display()))?;
    // Unique per process and moment: tasks on several machines may share the directory.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let tmp = path.with_file_name(format!(
        ".{}.{}.{nanos}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot move {} into place", path.display()))?;
    Ok(())
}

/// Read a whole file, naming it in the error.
pub fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// A progress bar over `len` items (hidden when stderr is not a terminal).
pub fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {per_sec} ETA {eta}")
            .expect("template")
            .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

/// A run's loss history as `history.csv` (epoch, loss, lr, seconds) in `dir`, written atomically.
/// `value` as pretty JSON, written atomically.
pub fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    write_atomic(path, serde_json::to_string_pretty(value)?.as_bytes())
}

pub fn write_history(dir: &Path, history: &[phaselab_core::train::EpochStats]) -> Result<()> {
    let rows: Vec<String> = std::iter::once("epoch,loss,lr,seconds".to_string())
        .chain(
            history
                .iter()
                .map(|h| format!("{},{},{},{}", h.epoch, h.loss, h.lr, h.seconds)),
        )
        .collect();
    write_atomic(&dir.join("history.csv"), rows.join("\n").as_bytes())
}

/// A traced run's steps as steps.csv in `dir` (`StepTrace`'s columns), written atomically.
pub fn write_steps(dir: &Path, steps: &[phaselab_core::train::StepTrace]) -> Result<()> {
    use phaselab_core::train::StepTrace;
    let Some(first) = steps.first() else {
        return Ok(());
    };
    let rows: Vec<String> = std::iter::once(StepTrace::csv_header(&first.probes))
        .chain(steps.iter().map(StepTrace::csv_row))
        .collect();
    write_atomic(&dir.join("steps.csv"), rows.join("\n").as_bytes())
}
