//! A figure's runs as independent tasks over shared directories, safe to run at once on several
//! machines: a run is claimed by an exclusive lock on `<out>/locks/<id>.lock` (released by the
//! kernel when its process dies, so a killed task leaves no stale claim), its record is written
//! atomically last (so a task killed halfway leaves nothing that looks finished), and an error
//! leaves `<out>/failed/<id>.txt` until a later attempt succeeds.

use crate::output::write_atomic;
use anyhow::{Context, Result};
use phaselab_core::experiments::record::RunRecord;
use phaselab_core::experiments::{Figure, RunSpec};
use std::fs::File;
use std::path::{Path, PathBuf};

/// The record of `spec` in `dir`, if there is a usable one (a damaged one is reported and the
/// run counts as not finished).
pub fn read_record(spec: &RunSpec, dir: &Path) -> Option<RunRecord> {
    let path = dir.join(RunRecord::file_name(spec));
    let bytes = std::fs::read(&path).ok()?;
    match RunRecord::from_bytes(&bytes, Some(spec)) {
        Ok(r) => Some(r),
        Err(e) => {
            eprintln!("{}: {e}; the run will be trained again", path.display());
            None
        }
    }
}

/// A figure's record directory: where its runs' records are, and which of them it counts as
/// finished (a record must serve the figure, `RunRecord::serves`).
pub struct Records {
    pub dir: PathBuf,
    pub figure: Figure,
}

impl Records {
    /// The record of `spec` if the figure can use it.
    pub fn finished(&self, spec: &RunSpec) -> Option<RunRecord> {
        read_record(spec, &self.dir).filter(|r| r.serves(self.figure))
    }

    fn write(&self, spec: &RunSpec, rec: &RunRecord) -> Result<()> {
        write_atomic(&self.dir.join(RunRecord::file_name(spec)), &rec.to_bytes())
    }
}

/// An exclusive lock on one run (its claim by this process), held while the value lives.
pub struct RunLock {
    _file: File,
}

fn lock_path(out: &Path, spec: &RunSpec) -> PathBuf {
    out.join("locks").join(format!("{}.lock", spec.id()))
}

fn failed_path(out: &Path, spec: &RunSpec) -> PathBuf {
    out.join("failed").join(format!("{}.txt", spec.id()))
}

/// Lock `spec` for this process: None if another process holds it and `wait` is false, else
/// once the other process lets go.
pub fn claim(out: &Path, spec: &RunSpec, wait: bool) -> Result<Option<RunLock>> {
    lock(&lock_path(out, spec), wait)
}

/// An exclusive lock on the file `path` (created, with its directory, if missing) for this
/// process: None if another process (or another open of it) holds it and `wait` is false, else
/// once the holder lets go. Released by the kernel when the process dies.
pub fn lock(path: &Path, wait: bool) -> Result<Option<RunLock>> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .with_context(|| format!("cannot open the lock {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: flock on a descriptor this function owns; it does not touch memory.
        let how = if wait {
            libc::LOCK_EX
        } else {
            libc::LOCK_EX | libc::LOCK_NB
        };
        let r = unsafe { libc::flock(file.as_raw_fd(), how) };
        if r != 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
                return Ok(None);
            }
            return Err(e).with_context(|| format!("cannot lock {}", path.display()));
        }
    }
    Ok(Some(RunLock { _file: file }))
}

/// Where one run stands in the shared directories.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Finished,
    Running,
    Failed,
    Missing,
}

pub fn state(spec: &RunSpec, out: &Path, records: &Records) -> Result<State> {
    if records.finished(spec).is_some() {
        return Ok(State::Finished);
    }
    if claim(out, spec, false)?.is_none() {
        return Ok(State::Running);
    }
    Ok(if failed_path(out, spec).exists() {
        State::Failed
    } else {
        State::Missing
    })
}

/// What `train_claimed` did.
pub enum Done {
    /// The run had a record already.
    Finished,
    /// Another process trained it while this one waited for its claim.
    FinishedElsewhere,
    Trained(RunRecord),
}

/// Train `spec` with `train` and write its record, unless it is finished. A run another process
/// holds is waited for: if that process finishes it, this one does nothing; if it died or
/// failed, this one trains it.
pub fn train_claimed(
    spec: &RunSpec,
    out: &Path,
    records: &Records,
    train: impl FnOnce() -> Result<RunRecord>,
) -> Result<Done> {
    if records.finished(spec).is_some() {
        return Ok(Done::Finished);
    }
    let _claim = claim(out, spec, true)?;
    // It may have finished between the first look and the claim.
    if records.finished(spec).is_some() {
        return Ok(Done::FinishedElsewhere);
    }
    let failed = failed_path(out, spec);
    match train().and_then(|rec| {
        records.write(spec, &rec)?;
        Ok(rec)
    }) {
        Ok(rec) => {
            let _ = std::fs::remove_file(&failed);
            Ok(Done::Trained(rec))
        }
        Err(e) => {
            let _ = write_atomic(&failed, format!("{e:#}\n").as_bytes());
            Err(e)
        }
    }
}

/// What happened to one run of a group given to `train_claimed_group`.
pub enum TaskOutcome {
    Done(Done),
    /// Another process holds it; left to that process.
    Elsewhere,
    Failed(anyhow::Error),
}

/// As `train_claimed` for a group of runs trained together by `train`: the runs this process can
/// claim at once (without waiting) and that have no record are trained, each record written
/// atomically as soon as the group ends; runs held elsewhere are left to their holder.
pub fn train_claimed_group<'a>(
    specs: &[&'a RunSpec],
    out: &Path,
    records: &Records,
    train: impl FnOnce(&[&'a RunSpec]) -> Result<Vec<Result<RunRecord>>>,
) -> Vec<(&'a RunSpec, TaskOutcome)> {
    let mut done = Vec::new();
    let mut to_train = Vec::new();
    let mut claims = Vec::new();
    for &spec in specs {
        if records.finished(spec).is_some() {
            done.push((spec, TaskOutcome::Done(Done::Finished)));
            continue;
        }
        match claim(out, spec, false) {
            Ok(Some(c)) if records.finished(spec).is_some() => {
                drop(c);
                done.push((spec, TaskOutcome::Done(Done::FinishedElsewhere)));
            }
            Ok(Some(c)) => {
                claims.push(c);
                to_train.push(spec);
            }
            Ok(None) => done.push((spec, TaskOutcome::Elsewhere)),
            Err(e) => done.push((spec, TaskOutcome::Failed(e))),
        }
    }
    if to_train.is_empty() {
        return done;
    }
    let results = match train(&to_train) {
        Ok(r) => r,
        Err(e) => {
            let msg = format!("{e:#}");
            to_train
                .iter()
                .map(|_| Err(anyhow::anyhow!("{msg}")))
                .collect()
        }
    };
    for (spec, r) in to_train.into_iter().zip(results) {
        let failed = failed_path(out, spec);
        let r = r.and_then(|rec| {
            records.write(spec, &rec)?;
            Ok(rec)
        });
        match r {
            Ok(rec) => {
                let _ = std::fs::remove_file(&failed);
                done.push((spec, TaskOutcome::Done(Done::Trained(rec))));
            }
            Err(e) => {
                let _ = write_atomic(&failed, format!("{e:#}\n").as_bytes());
                done.push((spec, TaskOutcome::Failed(e)));
            }
        }
    }
    drop(claims);
    done
}
