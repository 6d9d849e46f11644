//! The paper's data protocol: n trajectories of 10 s from sampled initial conditions; the training
//! pool keeps one random chunk of C points per trajectory (split 80/20 into train and val); the test
//! set is separate trajectories cut to chunks of 100 points (20x the training length). One seed fixes
//! everything; each trajectory has its own random stream, so results do not depend on threading.

use super::trajectory_set::{Metadata, TrajectorySet, FORMAT_VERSION};
use crate::physics::simulate::{grid_points, simulate, Integrator, SimulationError};
use crate::physics::{State, System};
use crate::rng::Rng;

/// Settings of the protocol (defaults are the paper's).
#[derive(Clone, Debug, PartialEq)]
pub struct Protocol {
    /// Trajectories in the training pool (train + val).
    pub n_trajectories: usize,
    /// Separate test trajectories.
    pub n_test: usize,
    /// Length of each trajectory in seconds.
    pub seconds: f64,
    /// Points per training chunk C.
    pub chunk: usize,
    /// Points per test chunk.
    pub test_chunk: usize,
    /// Fraction of the pool used for training (the rest is validation).
    pub train_fraction: f64,
    pub seed: u64,
    pub integrator: Integrator,
}

impl Default for Protocol {
    fn default() -> Self {
        Protocol {
            n_trajectories: 1000,
            n_test: 200,
            seconds: 10.0,
            chunk: 5,
            test_chunk: 100,
            train_fraction: 0.8,
            seed: 0,
            integrator: Integrator::default(),
        }
    }
}

/// Settings that make no dataset.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ProtocolError {
    #[error("{0}")]
    Invalid(String),
    #[error("trajectory {index} failed after {tries} initial conditions: {last}")]
    Simulation {
        index: usize,
        tries: usize,
        last: SimulationError,
    },
}

/// The three files of a generated dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct Splits {
    pub train: TrajectorySet,
    pub val: TrajectorySet,
    pub test: TrajectorySet,
}

/// Stream salts so the pool, the test set and the split never share random numbers.
const POOL: u64 = 0x5EED_0001;
const TEST: u64 = 0x5EED_0002;
const SPLIT: u64 = 0x5EED_0003;
/// Longest trajectory the protocol integrates, in steps.
const MAX_POINTS: usize = 1_000_000;
/// Most values (q and v each) one generated file may hold: 2.5e8 (2 GB of float64).
const MAX_VALUES: usize = 250_000_000;
/// A sampled initial condition that cannot be integrated (a chart singularity) is redrawn.
const MAX_TRIES: usize = 50;

impl Protocol {
    /// A small test set of `sys` for the tests: `n_test` chunks of `test_chunk` points (seed 0).
    #[cfg(test)]
    pub(crate) fn small_test_set(
        sys: &dyn System,
        n_test: usize,
        test_chunk: usize,
    ) -> TrajectorySet {
        let p = Protocol {
            n_trajectories: 10,
            n_test,
            test_chunk,
            ..Protocol::default()
        };
        p.generate(sys, &|_| {})
            .expect("a small protocol generates")
            .test
    }

    pub fn check(&self, sys: &dyn System) -> Result<(), ProtocolError> {
        let bad = |s: String| Err(ProtocolError::Invalid(s));
        if !(self.seconds.is_finite() && self.seconds > 0.0) {
            return bad(format!("duration must be > 0 s, got {}", self.seconds));
        }
        let points = grid_points(self.seconds, sys.dt());
        if points > MAX_POINTS {
            return bad(format!(
                "{} s at dt {} is {points} steps per trajectory; the limit is {MAX_POINTS}",
                self.seconds,
                sys.dt()
            ));
        }
        if self.chunk < 2 || self.chunk > points {
            return bad(format!(
                "chunk length must be in 2..={points} points for {} s at dt {}, got {}",
                self.seconds,
                sys.dt(),
                self.chunk
            ));
        }
        if self.test_chunk < 2 || self.test_chunk > points {
            return bad(format!(
                "test chunk length must be in 2..={points} points, got {}",
                self.test_chunk
            ));
        }
        if !(self.train_fraction > 0.0 && self.train_fraction < 1.0) {
            return bad(format!(
                "train fraction must be in (0, 1), got {}",
                self.train_fraction
            ));
        }
        let n_train = self.n_train();
        if n_train == 0 || n_train == self.n_trajectories {
            return bad(format!(
                "{} trajectories cannot be split {}/{}: need at least one in each",
                self.n_trajectories,
                self.train_fraction,
                1.0 - self.train_fraction
            ));
        }
        if self.n_test == 0 {
            return bad("need at least one test trajectory".into());
        }
        let values = |n: usize, len: usize| n.saturating_mul(len).saturating_mul(sys.dof());
        if values(self.n_trajectories, self.chunk) > MAX_VALUES
            || values(self.n_test, self.test_chunk) > MAX_VALUES
        {
            return bad(format!(
                "dataset too large to hold in memory (limit {MAX_VALUES} values per file)"
            ));
        }
        Ok(())
    }

    pub fn n_train(&self) -> usize {
        (self.n_trajectories as f64 * self.train_fraction).round() as usize
    }

    /// Generate train, val and test sets. `progress(done)` is called as trajectories finish
    /// (from worker threads when the `parallel` feature is on).
    pub fn generate(
        &self,
        sys: &dyn System,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<Splits, ProtocolError> {
        self.check(sys)?;
        let points = grid_points(self.seconds, sys.dt());
        let done = std::sync::atomic::AtomicUsize::new(0);
        let run = |salt: u64, count: usize, chunk: usize| -> Result<Vec<Chunk>, ProtocolError> {
            let one = |i: usize| {
                let c = chunk_of(sys, self.seed ^ salt, i, points, chunk, &self.integrator);
                progress(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1);
                c
            };
            map_indices(count, one).into_iter().collect()
        };
        let pool = run(POOL, self.n_trajectories, self.chunk)?;
        let test = run(TEST, self.n_test, self.test_chunk)?;
        let order = Rng::stream(self.seed, SPLIT).permutation(self.n_trajectories);
        let (tr, va) = order.split_at(self.n_train());
        let pick = |idx: &[usize]| idx.iter().map(|&i| pool[i].clone()).collect::<Vec<_>>();
        Ok(Splits {
            train: self.assemble(sys, pick(tr), "train"),
            val: self.assemble(sys, pick(va), "val"),
            test: self.assemble(sys, test, "test"),
        })
    }

    fn assemble(&self, sys: &dyn System, chunks: Vec<Chunk>, split: &str) -> TrajectorySet {
        let mut set = pack(
            sys,
            &chunks
                .iter()
                .map(|c| c.states.as_slice())
                .collect::<Vec<_>>(),
            sys.dt(),
        );
        set.t0 = Some(chunks.iter().map(|c| c.start as f64 * sys.dt()).collect());
        set.meta = metadata(
            sys,
            Some(self.seed),
            split,
            &self.integrator,
            "phaselab data gen",
        );
        set
    }
}

/// Run `f` over 0..n, on all cores when the `parallel` feature is on; results in index order.
pub fn map_indices<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync + Send) -> Vec<T> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        (0..n).into_par_iter().map(f).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        (0..n).map(f).collect()
    }
}

#[derive(Clone, Debug)]
struct Chunk {
    start: usize,
    states: Vec<State>,
}

/// Trajectory i of a stream: draw an initial condition and a chunk start, integrate to the chunk's
/// end (the rest of the 10 s is never used), and keep the chunk. Every full chunk can be drawn
/// (the reference's off-by-one skips the last one).
fn chunk_of(
    sys: &dyn System,
    seed: u64,
    i: usize,
    points: usize,
    len: usize,
    integ: &Integrator,
) -> Result<Chunk, ProtocolError> {
    let mut rng = Rng::stream(seed, i as u64);
    let n_chunks = points / len;
    let mut last = None;
    for _ in 0..MAX_TRIES {
        let init = sys.sample_initial(&mut rng);
        let start = rng.below(n_chunks) * len;
        match simulate(sys, &init, start + len, sys.dt(), integ) {
            Ok(tr) => {
                return Ok(Chunk {
                    start,
                    states: tr.states[start..].to_vec(),
                })
            }
            Err(e) => last = Some(e),
        }
    }
    Err(ProtocolError::Simulation {
        index: i,
        tries: MAX_TRIES,
        last: last.expect("tried"),
    })
}

/// Pack equal-length state sequences into a set (metadata left for the caller to fill).
pub fn pack(sys: &dyn System, trajs: &[&[State]], dt: f64) -> TrajectorySet {
    let d = sys.dof();
    let t = trajs.first().map(|s| s.len()).unwrap_or(0);
    let mut q = Vec::with_capacity(trajs.len() * t * d);
    let mut v = Vec::with_capacity(trajs.len() * t * d);
    for tr in trajs {
        for s in tr.iter() {
            q.extend_from_slice(&s.q);
            v.extend_from_slice(&s.v);
        }
    }
    TrajectorySet {
        n: trajs.len(),
        t,
        d,
        q,
        v,
        u: None,
        dt,
        t0: None,
        meta: metadata(sys, None, "", &Integrator::default(), ""),
    }
}

/// Metadata for data phaselab generated from a system.
pub fn metadata(
    sys: &dyn System,
    seed: Option<u64>,
    split: &str,
    integ: &Integrator,
    source: &str,
) -> Metadata {
    Metadata {
        format_version: FORMAT_VERSION,
        system: sys.name(),
        parameters: sys.parameters(),
        angular: sys.angular(),
        seed,
        phaselab_version: crate::VERSION.to_string(),
        split: split.to_string(),
        integrator: integ.to_string(),
        source: source.to_string(),
        coordinates: Default::default(),
    }
}
