//! Mutation fuzzing of every parser of user bytes: `.npy`, `.npz` (and trajectory sets in it),
//! the reference MuJoCo `.npy` layout, checkpoints (parsed and loaded into a model), and the
//! `--init` initial conditions. Stable Rust, no nightly: valid files are mutated (bit flips,
//! interesting bytes and lengths, cut, spliced, duplicated ranges) by the crate's own seeded RNG,
//! and every case must return `Ok` or `Err`: no panic, no hang, no allocation out of proportion
//! to the input (a counting allocator below watches the largest single request).
//!
//!   cargo test --release -p phaselab-core --test fuzz                  (CI: a short budget)
//!   PHASELAB_FUZZ_CASES=1000000 cargo test --release -p phaselab-core --test fuzz -- --nocapture
//!
//! Inputs that once failed live in `REGRESSIONS` and run first, every time.

use phaselab_core::data::npy::NpyArray;
use phaselab_core::data::protocol::Protocol;
use phaselab_core::data::reference_layout::from_reference_npy;
use phaselab_core::data::{initial_conditions, npz, TrajectorySet};
use phaselab_core::models::{ModelConfig, ModelKind};
use phaselab_core::physics::system;
use phaselab_core::rng::Rng;
use phaselab_core::train::Checkpoint;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

/// The system allocator, noting each thread's largest single request since its last reset (the
/// tests run on parallel threads; a `Cell` without a destructor is safe to touch in here).
struct Watch;
thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}
fn note(size: usize) {
    let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
}
/// Requests above this are refused (the process aborts) rather than attempted.
const REFUSE: usize = 1 << 32;

unsafe impl GlobalAlloc for Watch {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        note(l.size());
        if l.size() > REFUSE {
            return std::ptr::null_mut();
        }
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        note(n);
        if n > REFUSE {
            return std::ptr::null_mut();
        }
        System.realloc(p, l, n)
    }
}

#[global_allocator]
static ALLOC: Watch = Watch;

/// Cases per parser: PHASELAB_FUZZ_CASES, else a budget that keeps CI short.
fn cases(default: usize) -> usize {
    std::env::var("PHASELAB_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Values that break length arithmetic and headers.
const INTERESTING: [u8; 10] = [0, 1, 0x7f, 0x80, 0xff, b'(', b')', b',', b'\'', b'9'];

/// One mutation of `seed` (possibly several stacked), drawn from `rng`.
fn mutate(seed: &[u8], corpus: &[Vec<u8>], rng: &mut Rng) -> Vec<u8> {
    let mut b = seed.to_vec();
    let below = |rng: &mut Rng, n: usize| rng.below(n.max(1));
    for _ in 0..1 + below(rng, 4) {
        let n = b.len();
        match below(rng, 9) {
            0 if n > 0 => {
                let i = below(rng, n);
                b[i] ^= 1 << below(rng, 8);
            }
            1 if n > 0 => {
                let i = below(rng, n);
                b[i] = INTERESTING[below(rng, INTERESTING.len())];
            }
            // A little-endian length field somewhere set to something large or odd.
            2 if n >= 8 => {
                let i = below(rng, n - 7);
                let v: u64 = [u64::MAX, 1 << 40, 1 << 31, u32::MAX as u64, 0, 7][below(rng, 6)];
                let w = [2usize, 4, 8][below(rng, 3)];
                b[i..i + w].copy_from_slice(&v.to_le_bytes()[..w]);
            }
            3 => b.truncate(below(rng, n + 1)),
            4 if n > 0 => {
                let (i, j) = (below(rng, n), below(rng, n));
                let (lo, hi) = (i.min(j), i.max(j));
                b.drain(lo..hi);
            }
            5 if n > 0 => {
                let (i, len) = (below(rng, n), below(rng, 64.min(n)));
                let chunk: Vec<u8> = b[i..(i + len).min(n)].to_vec();
                let at = below(rng, n);
                b.splice(at..at, chunk);
            }
            // Splice in part of another valid file.
            6 => {
                let other = &corpus[below(rng, corpus.len())];
                let at = below(rng, n + 1);
                let from = below(rng, other.len());
                b.truncate(at);
                b.extend_from_slice(&other[from..]);
            }
            // A run of digits in a text header (shapes, lengths).
            7 if n > 0 => {
                let i = below(rng, n);
                let digits = b"99999999999999999999";
                let len = 1 + below(rng, digits.len());
                b.splice(i..i, digits[..len].iter().copied());
            }
            _ => {
                let i = below(rng, n + 1);
                b.insert(i, (rng.next_u64() & 0xff) as u8);
            }
        }
    }
    b
}

/// Run `parse` on `regressions`, then on `n` mutations of the corpus; panic with the case's seed
/// and bytes on a panic, a case slower than `slow`, or an allocation above `alloc(input length)`.
fn fuzz(
    name: &str,
    corpus: &[Vec<u8>],
    regressions: &[&[u8]],
    n: usize,
    alloc: impl Fn(usize) -> usize,
    slow: Duration,
    parse: impl Fn(&[u8]) -> bool,
) {
    let mut rng = Rng::stream(0x5eed_f022, name.len() as u64);
    let (mut accepted, mut worst) = (0usize, Duration::ZERO);
    let start = Instant::now();
    let inputs = regressions
        .iter()
        .map(|r| r.to_vec())
        .chain(corpus.iter().cloned());
    let mut run = |case: usize, input: Vec<u8>| {
        LARGEST.with(|l| l.set(0));
        let t = Instant::now();
        IN_CASE.with(|c| c.set(true));
        let out = catch_unwind(AssertUnwindSafe(|| parse(&input)));
        IN_CASE.with(|c| c.set(false));
        let took = t.elapsed();
        let largest = LARGEST.with(|l| l.get());
        // A finding is kept whole for a regression test (cargo's temporary folder for tests).
        let show = || {
            let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-findings");
            let file = dir.join(format!(
                "{}-{case}.bin",
                name.replace([' ', '(', ')', '-'], "_")
            ));
            let kept = std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(&file, &input));
            let kept = kept.map_or_else(
                |e| format!("not kept: {e}"),
                |_| format!("{}", file.display()),
            );
            format!(
                "{name} case {case} ({} bytes, {kept}): {:?}",
                input.len(),
                &input[..input.len().min(120)]
            )
        };
        match out {
            Ok(ok) => accepted += ok as usize,
            Err(_) => panic!("{name}: the parser panicked on {}", show()),
        }
        assert!(took <= slow, "{name}: {took:?} on {}", show());
        assert!(
            largest <= alloc(input.len()),
            "{name}: one allocation of {largest} bytes on {}",
            show()
        );
        worst = worst.max(took);
    };
    let mut case = 0;
    for input in inputs {
        run(case, input);
        case += 1;
    }
    for _ in 0..n {
        let seed = &corpus[case % corpus.len()];
        let input = mutate(seed, corpus, &mut rng);
        run(case, input);
        case += 1;
    }
    println!(
        "fuzz {name}: {case} cases in {:.1} s, {accepted} accepted, slowest {:.2} ms",
        start.elapsed().as_secs_f64(),
        worst.as_secs_f64() * 1e3
    );
}

fn small_set(name: &str) -> TrajectorySet {
    let sys = system(name).unwrap();
    let p = Protocol {
        n_trajectories: 10,
        n_test: 2,
        test_chunk: 6,
        ..Protocol::default()
    };
    p.generate(sys.as_ref(), &|_| {}).unwrap().train
}

/// Parsers allocate in proportion to their input: a generous bound, far below a hostile length.
fn proportional(factor: usize) -> impl Fn(usize) -> usize {
    move |n| factor * n + (1 << 20)
}

#[test]
fn npy_and_npz() {
    // The numerics are exercised elsewhere; here only the bytes matter.
    panic_quietly();
    let corpus: Vec<Vec<u8>> = vec![
        NpyArray::f64(vec![2, 3], (0..6).map(|i| i as f64).collect()).to_bytes(),
        NpyArray::i64(vec![4], vec![1, -2, 3, 4]).to_bytes(),
        NpyArray::string("{\"a\": 1}").to_bytes(),
        NpyArray::f64(vec![0], vec![]).to_bytes(),
    ];
    fuzz(
        "npy",
        &corpus,
        NPY_REGRESSIONS,
        cases(20_000),
        proportional(16),
        Duration::from_secs(1),
        |b| NpyArray::from_bytes(b).is_ok(),
    );
    let sets = [
        small_set("chain-pendulum:1"),
        small_set("spring-pendulum:2"),
    ];
    let corpus: Vec<Vec<u8>> = sets.iter().map(|s| s.to_npz()).collect();
    // An .npz inflates: the bound is what the archive may declare, which the reader must check.
    fuzz(
        "npz",
        &corpus,
        NPZ_REGRESSIONS,
        cases(5_000),
        proportional(1100),
        Duration::from_secs(2),
        |b| {
            let arrays = npz::read(b).is_ok();
            TrajectorySet::from_npz(b).is_ok() || arrays
        },
    );
}

#[test]
fn reference_layout() {
    panic_quietly();
    let x = NpyArray::f64(vec![2, 3, 4], (0..24).map(|i| i as f64 * 0.1).collect()).to_bytes();
    let u = NpyArray::f64(vec![2, 3, 1], vec![0.5; 6]).to_bytes();
    let corpus = vec![x.clone(), u.clone()];
    // The x file is mutated with the u file intact, and the other way round.
    fuzz(
        "reference x",
        &corpus,
        &[],
        cases(10_000),
        proportional(16),
        Duration::from_secs(1),
        |b| from_reference_npy(b, &u, 0.008, "HopperFull-v0", "train").is_ok(),
    );
    fuzz(
        "reference u",
        &corpus,
        &[],
        cases(10_000),
        proportional(16),
        Duration::from_secs(1),
        |b| from_reference_npy(&x, b, 0.008, "HopperFull-v0", "train").is_ok(),
    );
}

#[test]
fn initial_conditions_json_and_npz() {
    panic_quietly();
    let set = small_set("chain-pendulum:2");
    let corpus = vec![
        br#"[{"q": [0.1, 0.2], "v": [0, 0]}, {"q": [1, 2], "v": [3, 4]}]"#.to_vec(),
        br#"{"q": [0.5, -0.5], "v": [1e-3, 2]}"#.to_vec(),
        set.to_npz(),
    ];
    fuzz(
        "--init",
        &corpus,
        INIT_REGRESSIONS,
        cases(20_000),
        proportional(1100),
        Duration::from_secs(1),
        |b| initial_conditions::parse(b, 2).is_ok(),
    );
}

#[test]
fn checkpoints() {
    panic_quietly();
    let dev = burn::prelude::Device::flex();
    let corpus: Vec<Vec<u8>> = [ModelKind::Node, ModelKind::Hnn, ModelKind::NodeSo]
        .iter()
        .map(|&k| {
            let mc = ModelConfig {
                width: 8,
                ..ModelConfig::new(k, 2, vec![true, false])
            };
            Checkpoint::from_model(&mc.init(&dev), serde_json::json!({"system": "x"}))
                .unwrap()
                .to_bytes()
        })
        .collect();
    let load = |b: &[u8]| match Checkpoint::from_bytes(b) {
        Ok(ck) => ck.model(&dev).is_ok(),
        Err(_) => false,
    };
    // As they come (the checksum refuses nearly all of them) ...
    fuzz(
        "checkpoint",
        &corpus,
        &[],
        cases(20_000),
        proportional(64),
        Duration::from_secs(2),
        load,
    );
    // ... and with the checksum made right again, so that the header, the metadata and the
    // weights' own parser are reached.
    fuzz(
        "checkpoint (checksum fixed)",
        &corpus,
        CKPT_REGRESSIONS,
        cases(5_000),
        proportional(64),
        Duration::from_secs(2),
        |b| {
            let Some(body) = b.len().checked_sub(4) else {
                return load(b);
            };
            let mut fixed = b[..body].to_vec();
            fixed.extend_from_slice(&crc32(&fixed).to_le_bytes());
            load(&fixed)
        },
    );
}

/// CRC-32 (IEEE), bit by bit: the test's own, so that it checks the file format, not the crate.
fn crc32(b: &[u8]) -> u32 {
    let mut c = !0u32;
    for &x in b {
        c ^= x as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

thread_local! {
    /// Whether this thread is inside a fuzz case (whose panic `fuzz` reports with its input).
    static IN_CASE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Silence the default panic message inside fuzz cases (`fuzz` reports them with their input);
/// every other panic, a test's own failure among them, is printed as usual.
fn panic_quietly() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_CASE.with(|c| c.get()) {
                default(info)
            }
        }));
    });
}

// Inputs that once panicked, hung or over-allocated (kept as regression tests).
const NPY_REGRESSIONS: &[&[u8]] = &[];
/// A 2 kB archive whose entry declared 3.7 MB: the reader reserved the declared size (up to 16 MiB)
/// before inflating anything; it now reserves no more than DEFLATE can produce from the entry.
/// Then one whose entry also declared a compressed size beyond the file's own length.
const NPZ_REGRESSIONS: &[&[u8]] = &[
    include_bytes!("fuzz-regressions/npz-declared-size.bin"),
    include_bytes!("fuzz-regressions/npz-declared-compressed-size.bin"),
];
/// The same through `--init` (16 MiB reserved for a 2.8 kB file).
const INIT_REGRESSIONS: &[&[u8]] = &[include_bytes!(
    "fuzz-regressions/init-npz-declared-size.bin"
)];
const CKPT_REGRESSIONS: &[&[u8]] = &[];
