//! The user's path through the CLI, end to end: real binary, real files, bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn phaselab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_phaselab"))
        .args(args)
        .output()
        .expect("run phaselab")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("phaselab-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn every_command_has_help_with_examples() {
    for args in [
        vec!["--help"],
        vec!["systems", "--help"],
        vec!["simulate", "--help"],
        vec!["data", "gen", "--help"],
        vec!["data", "info", "--help"],
        vec!["bench", "datagen", "--help"],
        vec!["control", "--help"],
    ] {
        let o = phaselab(&args);
        assert!(o.status.success(), "{args:?}");
        assert!(text(&o).contains("Examples:"), "{args:?}: {}", text(&o));
    }
}

#[test]
fn systems_lists_every_family() {
    let o = phaselab(&["systems"]);
    assert!(o.status.success());
    let t = text(&o);
    for name in [
        "chain-pendulum:5",
        "spring-pendulum:1",
        "chain-pendulum-drag:2,f=0.4",
        "gyroscope",
        "magnet-pendulum",
        "rotor",
        "coupled-pendulum:3",
    ] {
        assert!(t.contains(name), "missing {name}");
    }
    let j: serde_json::Value =
        serde_json::from_slice(&phaselab(&["systems", "--json"]).stdout).unwrap();
    assert!(j.as_array().unwrap().len() >= 27);
}

/// `data gen` of a small chain-pendulum:2 set into `dir`.
fn gen_small(dir: &Path) -> Output {
    let args = "data gen --system chain-pendulum:2 --n 30 --n-test 5 --seed 3 --out";
    let mut v: Vec<&str> = args.split(' ').collect();
    v.push(s(dir));
    phaselab(&v)
}

#[test]
fn data_gen_then_info() {
    let d = tmpdir("gen");
    let o = gen_small(&d);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("N=24 trajectories x T=5 steps x D=2"),
        "{}",
        text(&o)
    );
    for f in ["train.npz", "val.npz", "test.npz"] {
        assert!(d.join(f).exists());
    }
    let o = phaselab(&["data", "info", s(&d.join("test.npz"))]);
    assert!(o.status.success());
    let t = text(&o);
    assert!(t.contains("valid       yes") && t.contains("T=100"), "{t}");
    // Same seed, same bytes.
    let d2 = tmpdir("gen2");
    assert!(gen_small(&d2).status.success());
    assert_eq!(
        std::fs::read(d.join("train.npz")).unwrap(),
        std::fs::read(d2.join("train.npz")).unwrap()
    );
}

#[test]
fn simulate_from_sampled_and_given_initial_conditions() {
    let d = tmpdir("sim");
    let out = d.join("g.npz");
    let o = phaselab(&[
        "simulate",
        "--system",
        "gyroscope",
        "--n",
        "2",
        "--seconds",
        "1",
        "--rtol",
        "1e-10",
        "--out",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("N=2 trajectories x T=50"), "{}", text(&o));
    assert!(text(&o).contains("dopri5(rtol=1e-10"), "{}", text(&o));
    let init = d.join("init.json");
    std::fs::write(&init, r#"[{"q": [0.5], "v": [0.0]}]"#).unwrap();
    let out2 = d.join("p.npz");
    let o = phaselab(&[
        "simulate",
        "--system",
        "chain-pendulum:1",
        "--init",
        s(&init),
        "--integrator",
        "leapfrog:10",
        "--out",
        s(&out2),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let o = phaselab(&["data", "info", "--json", s(&out2)]);
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["metadata"]["integrator"], "leapfrog(substeps=10)");
    assert_eq!(j["n"], 1);
}

#[test]
fn bad_input_gets_a_clear_error_not_a_panic() {
    let d = tmpdir("bad");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "simulate".into(),
                "--system".into(),
                "double-wobbler:2".into(),
                "--out".into(),
                s(&d.join("x.npz")).into(),
            ],
            "unknown system",
        ),
        (
            vec![
                "simulate".into(),
                "--system".into(),
                "chain-pendulum:9".into(),
                "--out".into(),
                s(&d.join("x.npz")).into(),
            ],
            "N in 1..=5",
        ),
        (
            vec![
                "simulate".into(),
                "--system".into(),
                "chain-pendulum:2".into(),
                "--drag".into(),
                "0.3".into(),
                "--out".into(),
                s(&d.join("x.npz")).into(),
            ],
            "--drag applies",
        ),
        (
            vec![
                "simulate".into(),
                "--system".into(),
                "chain-pendulum-drag:2".into(),
                "--drag=-1".into(),
                "--out".into(),
                s(&d.join("x.npz")).into(),
            ],
            "drag coefficient",
        ),
        (
            vec![
                "simulate".into(),
                "--system".into(),
                "spring-pendulum:2".into(),
                "--integrator".into(),
                "euler".into(),
                "--out".into(),
                s(&d.join("x.npz")).into(),
            ],
            "unknown integrator",
        ),
        (
            vec![
                "simulate".into(),
                "--system".into(),
                "chain-pendulum:2".into(),
                "--integrator".into(),
                "leapfrog".into(),
                "--out".into(),
                s(&d.join("x.npz")).into(),
            ],
            "separable",
        ),
        (
            vec![
                "simulate".into(),
                "--system".into(),
                "chain-pendulum:2".into(),
                "--init".into(),
                s(&d.join("missing.json")).into(),
                "--out".into(),
                s(&d.join("x.npz")).into(),
            ],
            "cannot read",
        ),
        (
            vec![
                "data".into(),
                "gen".into(),
                "--system".into(),
                "chain-pendulum:1".into(),
                "--chunk".into(),
                "1000".into(),
                "--out".into(),
                s(&d).into(),
            ],
            "chunk length",
        ),
        (
            vec![
                "data".into(),
                "gen".into(),
                "--system".into(),
                "chain-pendulum:1".into(),
                "--n".into(),
                "1".into(),
                "--out".into(),
                s(&d).into(),
            ],
            "cannot be split",
        ),
        (
            vec!["data".into(), "info".into(), s(&d.join("nope.npz")).into()],
            "cannot read",
        ),
    ];
    for (args, needle) in cases {
        let refs: Vec<&str> = args.iter().map(|a| a.as_str()).collect();
        let o = phaselab(&refs);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {t}");
        assert!(t.contains(needle), "{args:?}: expected '{needle}' in {t}");
        assert!(!t.contains("panicked"), "{t}");
    }
    // A corrupt file: info fails with the reason, and nothing else is touched.
    let bad = d.join("bad.npz");
    std::fs::write(&bad, b"PK\x03\x04 garbage").unwrap();
    let o = phaselab(&["data", "info", s(&bad)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("not a valid phaselab dataset"),
        "{}",
        text(&o)
    );
    assert_eq!(std::fs::read(&bad).unwrap(), b"PK\x03\x04 garbage");
}

#[test]
fn train_eval_compare_end_to_end() {
    let d = tmpdir("learn");
    let data = d.join("data");
    assert!(gen_small(&data).status.success());
    let run = d.join("run");
    let args = "train --system chain-pendulum:2 --model node-so --epochs 3 --width 16 --batch 8";
    let mut v: Vec<&str> = args.split(' ').collect();
    v.extend(["--data", s(&data), "--out", s(&run)]);
    let o = phaselab(&v);
    assert!(o.status.success(), "{}", text(&o));
    for f in ["model.phaselab", "metrics.json", "history.csv"] {
        assert!(run.join(f).exists(), "missing {f}");
    }
    let history = std::fs::read_to_string(run.join("history.csv")).unwrap();
    assert_eq!(history.lines().count(), 4, "{history}");
    // eval reproduces the training run's own test metrics.
    let o = phaselab(&[
        "eval",
        s(&run),
        "--data",
        s(&d.join("data/test.npz")),
        "--json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let ev: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(ev["test"]["gerr"], m["test"]["gerr"]);
    assert!(ev["test"]["symplectic_error"].as_f64().is_some());
    assert!(run.join("eval.json").exists());
    // What the node-so learned along q_1, against the true chain pendulum: force, inverse mass and
    // acceleration at rest (no potential: node-so has no H), in the truth's gauge.
    let o = phaselab(&[
        "eval",
        s(&run),
        "--data",
        s(&data),
        "--plot-structure",
        "--coordinate",
        "1",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let st: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("structure.json")).unwrap()).unwrap();
    assert_eq!(
        (st["model"].as_str(), st["coordinate"].as_u64()),
        (Some("node-so"), Some(1))
    );
    assert!(st["potential"].is_null() && st["force"]["truth"].as_array().unwrap().len() == 101);
    assert!(run.join("structure.png").exists() && run.join("structure.svg").exists());
    let o = phaselab(&[
        "eval",
        s(&run),
        "--data",
        s(&data),
        "--plot-structure",
        "--coordinate",
        "9",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("coordinate 9 does not exist"),
        "{}",
        text(&o)
    );
    // Both commands take the data directory or a file: eval the directory (its test.npz), train
    // the train.npz file (with the test.npz beside it); the same data gives the same run.
    let o = phaselab(&["eval", s(&run), "--data", s(&data), "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let ev2: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(ev2["test"]["gerr"], m["test"]["gerr"]);
    let run2 = d.join("run2");
    let train_file = data.join("train.npz");
    let mut v: Vec<&str> = args.split(' ').collect();
    v.extend(["--data", s(&train_file), "--out", s(&run2)]);
    let o = phaselab(&v);
    assert!(o.status.success(), "{}", text(&o));
    let m2: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run2.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(m2["test"]["gerr"], m["test"]["gerr"]);
    // compare ranks models in a table.
    let out = d.join("cmp");
    let args =
        "compare --system chain-pendulum:2 --models node,hnn --epochs 2 --width 16 --batch 8";
    let mut v: Vec<&str> = args.split(' ').collect();
    v.extend(["--data", s(&data), "--out", s(&out)]);
    let o = phaselab(&v);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("gerr") && t.contains("node") && t.contains("hnn"),
        "{t}"
    );
    assert!(out.join("compare.json").exists() && out.join("hnn/model.phaselab").exists());
    // Bad checkpoints and flags: clear errors, no panic, the file left alone.
    let bad = d.join("bad.phaselab");
    std::fs::write(&bad, b"PHASELAB-CKPT\n\x01\x00").unwrap();
    let o = phaselab(&["eval", s(&bad), "--data", s(&d.join("data/test.npz"))]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("truncated checkpoint"), "{}", text(&o));
    let o = phaselab(&[
        "eval",
        s(&d.join("data/test.npz")),
        "--data",
        s(&d.join("data/test.npz")),
    ]);
    assert!(
        text(&o).contains("not a phaselab checkpoint"),
        "{}",
        text(&o)
    );
    // One flipped byte in the weights: refused as damage, naming the file; the file is kept.
    let mut ck = std::fs::read(out.join("hnn/model.phaselab")).unwrap();
    let at = ck.len() - 100;
    ck[at] ^= 0x01;
    let damaged = d.join("damaged.phaselab");
    std::fs::write(&damaged, &ck).unwrap();
    let o = phaselab(&["eval", s(&damaged), "--data", s(&d.join("data/test.npz"))]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("corrupt checkpoint")
            && t.contains("damaged.phaselab")
            && !t.contains("panicked"),
        "{t}"
    );
    assert_eq!(std::fs::read(&damaged).unwrap(), ck);
    let cases = [
        ("nonsense", "--epochs=1", "unknown model"),
        ("node", "--loss=l3", "unknown loss"),
        ("node", "--solver=midpoint", "unknown solver"),
        ("node", "--device=tpu", "unknown --device"),
        ("node", "--lr=0", "--lr"),
    ];
    for (model, flag, needle) in cases {
        let base = "train --system chain-pendulum:2 --model";
        let mut v: Vec<&str> = base.split(' ').collect();
        v.extend([model, flag, "--data", s(&data), "--out", s(&d)]);
        let o = phaselab(&v);
        assert_eq!(o.status.code(), Some(1), "{flag}: {}", text(&o));
        let t = text(&o);
        assert!(t.contains(needle) && !t.contains("panicked"), "{flag}: {t}");
    }
    // Data of another system is refused.
    let o = phaselab(&[
        "train",
        "--system",
        "chain-pendulum:1",
        "--model",
        "node",
        "--data",
        s(&d.join("data")),
        "--out",
        s(&d.join("y")),
    ]);
    assert!(
        text(&o).contains("holds chain-pendulum:2 data"),
        "{}",
        text(&o)
    );
}

#[test]
fn reproduce_resumes_after_a_real_kill() {
    let d = tmpdir("repro");
    let root = d.join("repro");
    let out = root.join("fig4");
    let args = [
        "reproduce",
        "fig4",
        "--tier",
        "smoke",
        "--seeds",
        "12",
        "--out",
        s(&root),
    ];
    let mut child = Command::new(env!("CARGO_BIN_EXE_phaselab"))
        .args(args)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once some runs have finished (left a record) but not all.
    let runs = root.join("records");
    let finished = |p: &Path| -> usize {
        std::fs::read_dir(p)
            .map(|it| {
                it.filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .path()
                        .extension()
                        .is_some_and(|x| x == "json")
                })
                .count()
            })
            .unwrap_or(0)
    };
    let start = std::time::Instant::now();
    while finished(&runs) < 3 && start.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = finished(&runs);
    assert!(before >= 3, "no run finished before the kill");
    assert!(
        before < 96,
        "the grid finished before the kill; nothing to resume"
    );
    let o = phaselab(&args);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains(&format!("{before} already finished")) || t.contains("already finished"),
        "{t}"
    );
    assert_eq!(finished(&runs), 96);
    // Outputs: a valid PNG, an SVG with every model, a CSV with every run, a table.
    let png = std::fs::read(out.join("fig4.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let svg = std::fs::read_to_string(out.join("fig4.svg")).unwrap();
    for m in ["node", "node-so", "hnn-general", "hnn"] {
        assert!(svg.contains(&format!("\n{m}\n</text>")), "legend lacks {m}");
    }
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert_eq!(csv.lines().count(), 97);
    assert!(std::fs::read_to_string(out.join("table.md"))
        .unwrap()
        .contains("(n=12)"));
    // A third run does nothing but redraw.
    let o = phaselab(&args);
    assert!(
        text(&o).contains("96 already finished, 0 to do"),
        "{}",
        text(&o)
    );
    // Records alone draw the figure: with every run directory gone, --draw-only gives the same table.
    let table = std::fs::read_to_string(out.join("table.md")).unwrap();
    std::fs::remove_dir_all(root.join("runs")).unwrap();
    let mut draw = args.to_vec();
    draw.push("--draw-only");
    let o = phaselab(&draw);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(out.join("table.md")).unwrap(),
        table
    );
    // A damaged record is reported by name and its run trained again; the others are kept.
    let rec = runs.join("chain-pendulum-1__node__l2__seed3.json");
    std::fs::write(&rec, "{ \"spec\": ").unwrap();
    let o = phaselab(&args);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("chain-pendulum-1__node__l2__seed3.json: not a phaselab run record"),
        "{t}"
    );
    assert!(t.contains("95 already finished, 1 to do"), "{t}");
    // results fills a page from the records, and --check refuses a page that differs from them.
    let page = root.join("RESULTS.md");
    std::fs::write(
        &page,
        "# r\n<!-- generated: fig4 -->\n<!-- end generated -->\n",
    )
    .unwrap();
    let r = [
        "results",
        "--tier",
        "smoke",
        "--records",
        s(&runs),
        "--page",
        s(&page),
    ];
    assert!(phaselab(&r).status.success());
    let filled = std::fs::read_to_string(&page).unwrap();
    assert!(
        filled.contains("| chain-pendulum:1 |") && filled.contains("(n=12)"),
        "{filled}"
    );
    let mut check = r.to_vec();
    check.push("--check");
    assert!(phaselab(&check).status.success());
    std::fs::write(&page, filled.replace("(n=12)", "(n=11)")).unwrap();
    let o = phaselab(&check);
    assert!(
        !o.status.success() && text(&o).contains("differs from what the 96 records"),
        "{}",
        text(&o)
    );
    // Another tier's reproduction into these records is refused, not trained over them.
    let before = std::fs::read(runs.join("chain-pendulum-1__node__l2__seed0.json")).unwrap();
    let o = phaselab(&[
        "reproduce",
        "fig4",
        "--tier",
        "quick",
        "--out",
        s(&root),
        "--records",
        s(&runs),
    ]);
    assert!(
        !o.status.success() && text(&o).contains("trained at other sizes"),
        "{}",
        text(&o)
    );
    assert_eq!(
        std::fs::read(runs.join("chain-pendulum-1__node__l2__seed0.json")).unwrap(),
        before
    );
}

#[test]
fn every_figure_draws_at_the_smoke_tier() {
    let root = tmpdir("figs");
    let cases: [(&str, &[&str], &[&str]); 7] = [
        (
            "fig2",
            &["fig2-scatter", "fig2-growth"],
            &["node", "hnn", "fit: slope"],
        ),
        (
            "fig3",
            &["fig3-alpha", "fig3-symplectic"],
            &["chain-pendulum:1", "spring-pendulum:1"],
        ),
        ("fig5", &["fig5"], &["node-so", "hnn"]),
        (
            "fig6",
            &["fig6"],
            &[
                "node-so",
                "hnn-forced",
                "hnn",
                "chain-pendulum-drag:1,f=0.4",
            ],
        ),
        ("fig8", &["fig8"], &["node l1", "node l2", "hnn l1"]),
        (
            "fig9",
            &["fig9"],
            &["gyroscope", "magnet-pendulum", "rotor"],
        ),
        (
            "ladder",
            &["ladder"],
            &[
                "node (x)",
                "constrained-node-so",
                "clnn",
                "chnn",
                "gyroscope",
            ],
        ),
    ];
    for (fig, files, names) in cases {
        let o = phaselab(&[
            "reproduce",
            fig,
            "--tier",
            "smoke",
            "--jobs",
            "2",
            "--out",
            s(&root),
        ]);
        assert!(o.status.success(), "{fig}: {}", text(&o));
        let dir = root.join(fig);
        assert!(
            dir.join("results.csv").exists() && dir.join("table.md").exists(),
            "{fig}"
        );
        let mut svgs = String::new();
        for f in files {
            let png = std::fs::read(dir.join(format!("{f}.png"))).unwrap();
            assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{f}");
            svgs += &std::fs::read_to_string(dir.join(format!("{f}.svg"))).unwrap();
        }
        for n in names {
            assert!(svgs.contains(n), "{fig}: no '{n}' in the plots");
        }
    }
    // fig7 needs MuJoCo data (the CI script runs the real engine separately); with nothing trained,
    // --draw-only still writes its table and bars.
    let fig7 = tmpdir("fig7");
    let o = phaselab(&[
        "reproduce",
        "fig7",
        "--tier",
        "smoke",
        "--draw-only",
        "--out",
        s(&fig7),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(fig7.join("fig7/table.md").exists() && fig7.join("fig7/fig7_test.png").exists());
    assert_eq!(
        phaselab(&["reproduce", "fig1", "--tier", "smoke"])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn control_trains_on_mujoco_files_and_refuses_bad_ones() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../phaselab-core/tests/data/mujoco");
    let d = tmpdir("control");
    let data = d.join("hopper");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::copy(fixture.join("hopper_train.npz"), data.join("train.npz")).unwrap();
    std::fs::copy(fixture.join("hopper_test.npz"), data.join("test.npz")).unwrap();
    let out = d.join("runs");
    let o = phaselab(&[
        "control",
        "--data",
        s(&data),
        "--epochs",
        "3",
        "--width",
        "16",
        "--batch",
        "16",
        "--out",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    for m in ["node", "node-so", "hnn-forced"] {
        assert!(t.contains(&format!("| {m} |")), "{t}");
        let metrics: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join(m).join("metrics.json")).unwrap())
                .unwrap();
        assert!(metrics["test_mse"].as_f64().unwrap().is_finite());
        assert_eq!(metrics["test"]["mse_curve"].as_array().unwrap().len(), 20);
    }
    // The paper's own file layout.
    let o = phaselab(&[
        "control",
        "--reference",
        s(&fixture),
        "--task",
        "HopperFull-v0",
        "--models",
        "node-so",
        "--epochs",
        "1",
        "--width",
        "8",
        "--batch",
        "16",
        "--out",
        s(&d.join("ref")),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    // Bad input: a dataset without controls, an unknown task, an unknown model.
    let auto = d.join("auto");
    assert!(gen_small(&auto).status.success());
    let o = phaselab(&["control", "--data", s(&auto), "--epochs", "1"]);
    assert!(
        !o.status.success() && text(&o).contains("no controls"),
        "{}",
        text(&o)
    );
    let o = phaselab(&["control", "--reference", s(&fixture), "--task", "Nope-v0"]);
    assert!(
        !o.status.success() && text(&o).contains("--dt"),
        "{}",
        text(&o)
    );
    let o = phaselab(&["control", "--data", s(&data), "--models", "lstm"]);
    assert!(
        !o.status.success() && text(&o).contains("unknown control model"),
        "{}",
        text(&o)
    );
    assert!(!text(&o).contains("panicked"));
}

#[test]
fn plan_tasks_are_safe_to_kill_and_to_run_twice_at_once() {
    let d = tmpdir("plan");
    let plan = d.join("fig4.plan.json");
    let out = d.join("shared");
    let o = phaselab(&[
        "reproduce",
        "fig4",
        "--tier",
        "quick",
        "--out",
        s(&out),
        "--plan",
        s(&plan),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("tasks: 48"), "{}", text(&o));
    let status = |expect: &str| {
        let o = phaselab(&["reproduce", "--plan", s(&plan), "--status"]);
        assert!(text(&o).contains(expect), "{}", text(&o));
        o
    };
    status("48 tasks: 0 finished, 0 running, 0 failed, 48 missing");
    let record = out
        .join("records")
        .join("chain-pendulum-1__node__l2__seed0.json");
    let task = |i: &str| {
        Command::new(env!("CARGO_BIN_EXE_phaselab"))
            .args(["reproduce", "--plan", s(&plan), "--task", i])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    // Killed while training (task 6, an hnn: seconds of training): no record, no stale claim
    // (status says missing, not running).
    let mut a = task("6");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    a.kill().unwrap();
    a.wait().unwrap();
    let hnn = out
        .join("records")
        .join("chain-pendulum-1__hnn__l2__seed0.json");
    assert!(!hnn.exists(), "a killed task left a record");
    assert!(
        out.join("runs")
            .join("chain-pendulum-1__hnn__l2__seed0")
            .exists(),
        "task 6 never started"
    );
    status("0 finished, 0 running, 0 failed, 48 missing");
    // The same task twice at once: one trains, the other waits for it and does nothing.
    let (a, b) = (task("0"), task("0"));
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success() && b.status.success());
    let both = text(&a) + &text(&b);
    assert_eq!(both.matches("gerr").count(), 1, "{both}");
    assert!(
        both.contains("finished by another task meanwhile") || both.contains("already finished"),
        "{both}"
    );
    let rec = std::fs::read(&record).unwrap();
    assert!(String::from_utf8_lossy(&rec).contains("\"finished\""));
    let o = phaselab(&["reproduce", "--plan", s(&plan), "--task", "0"]);
    assert!(text(&o).contains("already finished"), "{}", text(&o));
    let o = status("1 finished, 0 running, 0 failed, 47 missing");
    assert!(
        !o.status.success(),
        "status is an error until every task has finished"
    );
    // Bad input: an index past the plan, a file that is no plan.
    let o = phaselab(&["reproduce", "--plan", s(&plan), "--task", "48"]);
    assert!(
        !o.status.success() && text(&o).contains("has tasks 0..=47, not 48"),
        "{}",
        text(&o)
    );
    std::fs::write(d.join("bad.json"), "{\"format\": 1}").unwrap();
    let o = phaselab(&["reproduce", "--plan", s(&d.join("bad.json")), "--task", "0"]);
    assert!(
        !o.status.success() && text(&o).contains("not a phaselab plan"),
        "{}",
        text(&o)
    );
    let o = phaselab(&["reproduce"]);
    assert!(
        !o.status.success() && text(&o).contains("name a figure"),
        "{}",
        text(&o)
    );
}

fn gerr_of(metrics: &Path) -> f64 {
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(metrics).unwrap()).unwrap();
    m["test"]["gerr"].as_f64().unwrap()
}

#[test]
fn train_with_seeds_trains_a_population_whose_members_equal_solo_runs() {
    let d = tmpdir("seeds");
    let small = [
        "--system",
        "chain-pendulum:1",
        "--model",
        "node-so",
        "--epochs",
        "6",
        "--width",
        "32",
        "--n",
        "100",
        "--n-test",
        "4",
        "--batch",
        "20",
    ];
    let pop = d.join("pop");
    let mut args = vec!["train"];
    args.extend(small);
    args.extend([
        "--seeds",
        "0,1",
        "--data-seeds",
        "0..2",
        "--population",
        "4",
        "--out",
        s(&pop),
    ]);
    let o = phaselab(&args);
    assert!(o.status.success(), "{}", text(&o));
    for (w, dseed) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
        let run = pop.join(format!("seed{w}-data{dseed}"));
        assert!(run.join("model.phaselab").exists(), "{}", run.display());
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(run.join("metrics.json")).unwrap()).unwrap();
        assert_eq!(m["population"], 4, "trained as one population of 4");
        // The member equals the same run trained alone.
        let solo = d.join(format!("solo{w}{dseed}"));
        let mut args = vec!["train"];
        args.extend(small);
        let (ws, ds) = (w.to_string(), dseed.to_string());
        args.extend(["--model-seed", &ws, "--data-seed", &ds, "--out", s(&solo)]);
        let o = phaselab(&args);
        assert!(o.status.success(), "{}", text(&o));
        let (a, b) = (
            gerr_of(&run.join("metrics.json")),
            gerr_of(&solo.join("metrics.json")),
        );
        let losses = |dir: &Path| -> Vec<f64> {
            std::fs::read_to_string(dir.join("history.csv"))
                .unwrap()
                .lines()
                .skip(1)
                .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
                .collect()
        };
        let (la, lb) = (losses(&run), losses(&solo));
        assert_eq!(la.len(), 6);
        for (x, y) in la.iter().zip(&lb) {
            assert!(
                (x - y).abs() <= 1e-5 * x.max(*y),
                "seed {w} data {dseed}: loss {x} vs {y}"
            );
        }
        assert!(
            (a - b).abs() <= 1e-3 * a.max(b),
            "seed {w} data {dseed}: {a} vs {b}"
        );
    }
    // Bad seed lists are named.
    let bad_out = d.join("bad");
    for bad in ["1,x", "3..1", "0,0"] {
        let mut args = vec!["train"];
        args.extend(small);
        args.extend(["--seeds", bad, "--out", s(&bad_out)]);
        let o = phaselab(&args);
        assert!(
            !o.status.success() && text(&o).contains(bad),
            "{bad}: {}",
            text(&o)
        );
    }
}

#[test]
fn reproduce_in_populations_gives_the_solo_runs_records() {
    let d = tmpdir("repro-pop");
    let run = |pop: &str, out: &Path| {
        let o = phaselab(&[
            "reproduce",
            "fig8",
            "--tier",
            "smoke",
            "--seeds",
            "2",
            "--population",
            pop,
            "--out",
            s(out),
        ]);
        assert!(o.status.success(), "{}", text(&o));
    };
    let (a, b) = (d.join("pop"), d.join("solo"));
    run("16", &a);
    run("1", &b);
    let mut n = 0;
    for e in std::fs::read_dir(b.join("records")).unwrap() {
        let p = e.unwrap().path();
        let read = |p: &Path| -> serde_json::Value {
            serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
        };
        let (solo, pop) = (
            read(&p),
            read(&a.join("records").join(p.file_name().unwrap())),
        );
        assert_eq!(solo["population"], 1);
        assert!(pop["population"].as_u64().unwrap() > 1, "{}", p.display());
        let g = |r: &serde_json::Value| r["outcome"]["finished"]["test"]["gerr"].as_f64();
        if let (Some(x), Some(y)) = (g(&solo), g(&pop)) {
            assert!(
                (x - y).abs() <= 1e-3 * x.max(y),
                "{}: {x} vs {y}",
                p.display()
            );
            n += 1;
        }
    }
    assert!(n >= 4, "{n} finished runs compared");
}

#[test]
fn fig7_leaves_records_and_resumes_from_them() {
    // The committed Hopper fixture stands in for every environment's data (no MuJoCo needed).
    let d = tmpdir("fig7-records");
    fig7_fixture_data(&d);
    let records = d.join("records");
    let run = || {
        phaselab(&[
            "reproduce",
            "fig7",
            "--tier",
            "smoke",
            "--out",
            s(&d),
            "--records",
            s(&records),
        ])
    };
    let o = run();
    assert!(o.status.success(), "{}", text(&o));
    let count = || std::fs::read_dir(&records).unwrap().count();
    assert_eq!(count(), 12, "4 environments x 3 models x 1 seed");
    let one = records.join("fig7__hopper-v5__node-so__seed0.json");
    let rec: serde_json::Value = serde_json::from_slice(&std::fs::read(&one).unwrap()).unwrap();
    // A run record like every figure's: the spec (its model tagged as control-aware) and the
    // control scores as its outcome.
    assert!(
        rec["outcome"]["control"]["test_mse"]
            .as_f64()
            .unwrap()
            .is_finite()
            && rec["optimiser_steps"].as_u64().unwrap() > 0,
        "{rec}"
    );
    assert_eq!(rec["spec"]["model"]["control"], "node-so", "{rec}");
    assert_eq!(rec["spec"]["system"], "Hopper-v5", "{rec}");
    // A second run trains nothing; a damaged record is trained again.
    let o = run();
    assert!(
        text(&o).contains("12 runs, 12 already finished, 0 to do"),
        "{}",
        text(&o)
    );
    std::fs::write(&one, b"{").unwrap();
    let o = run();
    assert!(
        o.status.success() && text(&o).contains("1 to do"),
        "{}",
        text(&o)
    );
    assert!(std::fs::read(&one).unwrap().len() > 10);
    assert!(std::fs::read_to_string(d.join("fig7/table.md"))
        .unwrap()
        .contains("Hopper-v5"));
    // Each environment's test rollout is drawn from its data and seed 0's predictions.
    let svg = std::fs::read_to_string(d.join("fig7/fig7_rollout_hopper-v5.svg")).unwrap();
    assert!(svg.contains("<svg"));
}

/// The committed Hopper fixture as every environment's smoke-tier dataset under `out`, where the
/// MuJoCo generator would have left it.
fn fig7_fixture_data(out: &Path) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../phaselab-core/tests/data/mujoco");
    for env in ["Hopper-v5", "HalfCheetah-v5", "Swimmer-v5", "Walker2d-v5"] {
        let dir = out.join(format!("mujoco-data/{env}-smoke"));
        std::fs::create_dir_all(&dir).unwrap();
        for (from, to) in [
            ("hopper_train.npz", "train.npz"),
            ("hopper_test.npz", "test.npz"),
        ] {
            std::fs::copy(fixture.join(from), dir.join(to)).unwrap();
        }
    }
}

#[test]
fn fig7_plans_list_every_run_with_an_absolute_generator_and_tasks_train_them() {
    let d = tmpdir("fig7-plan");
    let out = d.join("shared");
    let plan = d.join("fig7.plan.json");
    fig7_fixture_data(&out);
    let plan_with = |generator: &str| {
        phaselab(&[
            "reproduce",
            "fig7",
            "--tier",
            "smoke",
            "--seeds",
            "2",
            "--out",
            s(&out),
            "--plan",
            s(&plan),
            "--mujoco-generator",
            generator,
        ])
    };
    // A generator that is not there is named, with the flag that gives another.
    let o = plan_with("/no/such/dir/run.sh");
    assert!(
        !o.status.success()
            && text(&o).contains("/no/such/dir/run.sh")
            && text(&o).contains("--mujoco-generator"),
        "{}",
        text(&o)
    );
    // A relative path (tests run in this crate's directory) goes into the plan absolute.
    let o = plan_with("../../tools/mujoco/run.sh");
    assert!(
        o.status.success() && text(&o).contains("tasks: 24"),
        "{}",
        text(&o)
    );
    let p = json_file(&plan);
    assert_eq!(p["figure"], "fig7", "{p}");
    assert!(
        p["records"].as_str().unwrap().ends_with("records-fig7"),
        "{p}"
    );
    let mut want = Vec::new();
    for env in ["hopper-v5", "halfcheetah-v5", "swimmer-v5", "walker2d-v5"] {
        for m in ["node", "node-so", "hnn-forced"] {
            for seed in 0..2 {
                want.push(format!("fig7__{env}__{m}__seed{seed}"));
            }
        }
    }
    let tasks = p["tasks"].as_array().unwrap();
    let ids: Vec<&str> = tasks.iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids, want);
    for t in tasks {
        let g = Path::new(t["mujoco_generator"].as_str().unwrap());
        assert!(
            g.is_absolute() && g.is_file() && g.ends_with("tools/mujoco/run.sh"),
            "{}",
            g.display()
        );
        assert!(
            !g.components().any(|c| c == std::path::Component::ParentDir),
            "{}",
            g.display()
        );
    }
    // Task 2 (Hopper-v5, node-so, seed 0) trains its run on the environment's data.
    let o = phaselab(&["reproduce", "--plan", s(&plan), "--task", "2"]);
    assert!(
        o.status.success() && text(&o).contains("test MSE"),
        "{}",
        text(&o)
    );
    let rec = json_file(&out.join("records-fig7/fig7__hopper-v5__node-so__seed0.json"));
    assert!(rec["outcome"]["control"]["test_mse"]
        .as_f64()
        .unwrap()
        .is_finite());
    assert_eq!(rec["population"], 1, "{rec}");
    let o = phaselab(&["reproduce", "--plan", s(&plan), "--status"]);
    assert!(
        !o.status.success()
            && text(&o).contains("24 tasks: 1 finished, 0 running, 0 failed, 23 missing"),
        "{}",
        text(&o)
    );
    // The rest locally, in parallel, runs that differ only in seed as one population.
    let o = phaselab(&[
        "reproduce",
        "fig7",
        "--tier",
        "smoke",
        "--seeds",
        "2",
        "--population",
        "2",
        "--jobs",
        "2",
        "--out",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("24 runs, 1 already finished, 23 to do"),
        "{}",
        text(&o)
    );
    let pair = json_file(&out.join("records-fig7/fig7__swimmer-v5__node__seed1.json"));
    assert_eq!(pair["population"], 2, "{pair}");
    let o = phaselab(&["reproduce", "--plan", s(&plan), "--status"]);
    assert!(
        o.status.success() && text(&o).contains("24 finished"),
        "{}",
        text(&o)
    );
    assert!(out.join("fig7/fig7_rollout_swimmer-v5.png").exists());
}

/// The JSON metadata of a checkpoint file (layout: 14-byte magic, u32 version, u64 length, JSON).
fn checkpoint_meta(path: &Path) -> serde_json::Value {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[..14], b"PHASELAB-CKPT\n", "{}", path.display());
    let len = u64::from_le_bytes(b[18..26].try_into().unwrap()) as usize;
    serde_json::from_slice(&b[26..26 + len]).unwrap()
}

fn json_file(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn info_json(file: &Path) -> serde_json::Value {
    let o = phaselab(&["data", "info", "--json", s(file)]);
    assert!(o.status.success(), "{}", text(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn train_flags_take_effect() {
    let d = tmpdir("train-flags");
    let run = d.join("run");
    let args = "train --system chain-pendulum:1 --model node-so-symreg --epochs 2 --width 8 \
                --depth 3 --alpha 250 --model-seed 5 --data-seed 7 --n 30 --n-test 3 --batch 8 \
                --loss l1 --solver euler:3";
    let mut v: Vec<&str> = args.split_whitespace().collect();
    v.extend(["--out", s(&run)]);
    let o = phaselab(&v);
    assert!(o.status.success(), "{}", text(&o));
    let meta = checkpoint_meta(&run.join("model.phaselab"));
    let (model, training) = (&meta["model"], &meta["training"]);
    assert_eq!(model["kind"], "node-so-symreg", "{meta}");
    assert_eq!(model["depth"], 3, "{meta}");
    assert_eq!(model["alpha"], 250.0, "{meta}");
    assert_eq!(model["seed"], 5, "{meta}");
    let cfg = &training["config"];
    assert_eq!(cfg["loss"], "l1", "{meta}");
    assert_eq!(cfg["solver"]["method"], "Euler", "{meta}");
    assert_eq!(cfg["solver"]["substeps"], 3, "{meta}");
    assert_eq!(
        cfg["seed"], 5,
        "the minibatch order follows --model-seed: {meta}"
    );
    // The data were generated with --data-seed (24 of the 30 trajectories train).
    assert_eq!(training["train_file_seed"], 7, "{meta}");
    assert_eq!(training["n_train"], 24, "{meta}");
    // Three hidden layers of 8: main net [3, 8, 8, 8, 1] (cos, sin, v in) and mass net
    // [2, 8, 8, 8, 1]: 185 + 177 weights (two hidden layers would give 113 + 105).
    let m = json_file(&run.join("metrics.json"));
    assert_eq!(m["parameters"], 362, "{m}");
    // eval rolls out with the solver the model was trained with.
    let data = d.join("data");
    let o = phaselab(&[
        "data",
        "gen",
        "--system",
        "chain-pendulum:1",
        "--n",
        "10",
        "--n-test",
        "2",
        "--out",
        s(&data),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let o = phaselab(&["eval", s(&run), "--data", s(&data), "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let ev: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(ev["solver"], "euler:3", "{ev}");
    // Other seeds give other weights and other data; the same seeds the same run.
    let again = |model_seed: &str, data_seed: &str, name: &str| {
        let out = d.join(name);
        let mut v: Vec<&str> = args.split_whitespace().collect();
        let at = |flag: &str, v: &[&str]| v.iter().position(|x| *x == flag).unwrap() + 1;
        let (i, j) = (at("--model-seed", &v), at("--data-seed", &v));
        v[i] = model_seed;
        v[j] = data_seed;
        v.extend(["--out", s(&out)]);
        let o = phaselab(&v);
        assert!(o.status.success(), "{}", text(&o));
        let m = json_file(&out.join("metrics.json"));
        (
            checkpoint_meta(&out.join("model.phaselab")),
            m["test"]["gerr"].as_f64().unwrap(),
        )
    };
    let gerr = m["test"]["gerr"].as_f64().unwrap();
    let (same, same_gerr) = again("5", "7", "same");
    assert_eq!(same["training"], meta["training"]);
    assert_eq!(same_gerr, gerr);
    let (_, other_model) = again("6", "7", "other-model");
    let (other_data, other_data_gerr) = again("5", "8", "other-data");
    assert_eq!(other_data["training"]["train_file_seed"], 8);
    assert_ne!(other_model, gerr, "--model-seed 6 trained the same weights");
    assert_ne!(other_data_gerr, gerr, "--data-seed 8 gave the same data");
    // --trace trains the same run and writes each of its 2 x 3 steps.
    let traced = d.join("traced");
    let mut v: Vec<&str> = args.split_whitespace().collect();
    v.extend(["--out", s(&traced), "--trace"]);
    let o = phaselab(&v);
    assert!(o.status.success(), "{}", text(&o));
    let m = json_file(&traced.join("metrics.json"));
    assert_eq!(m["test"]["gerr"].as_f64().unwrap(), gerr);
    let steps = std::fs::read_to_string(traced.join("steps.csv")).unwrap();
    let lines: Vec<&str> = steps.lines().collect();
    assert_eq!(lines.len(), 1 + 2 * 3, "{steps}");
    assert!(
        lines[0].starts_with("step,epoch,lr,loss,grad_norm,weight_max,state_max,field_max"),
        "{steps}"
    );
    assert!(lines[6].starts_with("5,2,"), "{steps}");
    let mut v: Vec<&str> = args.split_whitespace().collect();
    let pop = d.join("traced-population");
    v.extend([
        "--seeds",
        "0,1",
        "--population",
        "2",
        "--trace",
        "--out",
        s(&pop),
    ]);
    let o = phaselab(&v);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("--trace follows one run"), "{}", text(&o));
    // --fixed-edge-mass is hnn-general's, and its checkpoint says so.
    let small = "--system spring-pendulum:1 --epochs 1 --width 8 --n 20 --n-test 2 --batch 8";
    let fixed = d.join("fixed");
    let mut v: Vec<&str> = vec!["train", "--model", "hnn-general", "--fixed-edge-mass"];
    v.extend(small.split_whitespace());
    v.extend(["--out", s(&fixed)]);
    let o = phaselab(&v);
    assert!(o.status.success(), "{}", text(&o));
    let meta = checkpoint_meta(&fixed.join("model.phaselab"));
    assert_eq!(meta["model"]["fixed_edge_mass"], true, "{meta}");
    let mut v: Vec<&str> = vec!["compare", "--models", "node,hnn", "--fixed-edge-mass"];
    v.extend(small.split_whitespace());
    let fixed_hnn = d.join("fixed-hnn");
    v.extend(["--out", s(&fixed_hnn)]);
    let o = phaselab(&v);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("--fixed-edge-mass is hnn-general's"),
        "{}",
        text(&o)
    );
}

#[test]
fn data_and_simulate_flags_take_effect() {
    let d = tmpdir("data-flags");
    let gen = |out: &Path, atol: &str| {
        let o = phaselab(&[
            "data",
            "gen",
            "--system",
            "chain-pendulum:1",
            "--n",
            "20",
            "--n-test",
            "3",
            "--test-chunk",
            "7",
            "--train-fraction",
            "0.5",
            "--atol",
            atol,
            "--seed",
            "2",
            "--out",
            s(out),
        ]);
        assert!(o.status.success(), "{}", text(&o));
    };
    let (loose, tight) = (d.join("loose"), d.join("tight"));
    gen(&loose, "1e-3");
    gen(&tight, "1e-9");
    let (train, val, test) = (
        info_json(&loose.join("train.npz")),
        info_json(&loose.join("val.npz")),
        info_json(&loose.join("test.npz")),
    );
    // --train-fraction 0.5 of 20: 10 train, 10 val; --test-chunk 7 points per test chunk.
    assert_eq!(
        (train["n"].as_u64(), val["n"].as_u64()),
        (Some(10), Some(10)),
        "{train} {val}"
    );
    assert_eq!(train["t"], 5);
    assert_eq!(
        (test["n"].as_u64(), test["t"].as_u64()),
        (Some(3), Some(7)),
        "{test}"
    );
    for j in [&train, &val, &test] {
        assert_eq!(
            j["metadata"]["integrator"], "dopri5(rtol=1e-7,atol=1e-3)",
            "{j}"
        );
    }
    assert_eq!(
        info_json(&tight.join("test.npz"))["metadata"]["integrator"],
        "dopri5(rtol=1e-7,atol=1e-9)"
    );
    // A looser absolute tolerance really integrates differently.
    assert_ne!(
        std::fs::read(loose.join("test.npz")).unwrap(),
        std::fs::read(tight.join("test.npz")).unwrap()
    );
    // simulate takes --atol too.
    let out = d.join("sim.npz");
    let o = phaselab(&[
        "simulate",
        "--system",
        "gyroscope",
        "--seconds",
        "0.5",
        "--atol",
        "1e-6",
        "--out",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        info_json(&out)["metadata"]["integrator"],
        "dopri5(rtol=1e-7,atol=1e-6)"
    );
}

#[test]
fn control_substeps_flags_take_effect() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../phaselab-core/tests/data/mujoco");
    let d = tmpdir("control-flags");
    let data = d.join("hopper");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::copy(fixture.join("hopper_train.npz"), data.join("train.npz")).unwrap();
    std::fs::copy(fixture.join("hopper_test.npz"), data.join("test.npz")).unwrap();
    let run = |substeps: &str| {
        let out = d.join(format!("runs{substeps}"));
        let o = phaselab(&[
            "control",
            "--data",
            s(&data),
            "--models",
            "node-so",
            "--epochs",
            "1",
            "--width",
            "8",
            "--batch",
            "16",
            "--substeps",
            substeps,
            "--out",
            s(&out),
        ]);
        assert!(o.status.success(), "{}", text(&o));
        json_file(&out.join("node-so/metrics.json"))
    };
    let (three, one) = (run("3"), run("1"));
    assert_eq!(three["model_config"]["substeps"], 3, "{three}");
    assert_eq!(one["model_config"]["substeps"], 1, "{one}");
    // Three Euler substeps per data step are another rollout than one.
    assert_ne!(three["test_mse"], one["test_mse"]);
}

#[test]
fn cartesian_data_and_a_cartesian_node_train_end_to_end() {
    let dir = tmpdir("cartesian");
    let data = dir.join("data");
    let o = phaselab(&[
        "data",
        "gen",
        "--system",
        "chain-pendulum:2",
        "-n",
        "20",
        "--n-test",
        "4",
        "--coordinates",
        "cartesian",
        "--out",
        s(&data),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let meta = &info_json(&data.join("train.npz"))["metadata"];
    assert_eq!(meta["coordinates"], "cartesian", "{meta}");
    assert_eq!(
        meta["angular"],
        serde_json::json!(vec![false; 4]),
        "two planar points"
    );
    // The same flag on train: a NODE on the body points (4 coordinates).
    let o = phaselab(&[
        "train",
        "--system",
        "chain-pendulum:2",
        "--model",
        "node",
        "--data",
        s(&data),
        "--coordinates",
        "cartesian",
        "--epochs",
        "2",
        "--width",
        "16",
        "--out",
        s(&dir.join("run")),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        checkpoint_meta(&dir.join("run/model.phaselab"))["model"]["dof"],
        4
    );
    // Data in the other coordinates, or a bad name, is refused with the reason.
    let o = phaselab(&[
        "train",
        "--system",
        "chain-pendulum:2",
        "--model",
        "node",
        "--data",
        s(&data),
        "--epochs",
        "1",
        "--out",
        s(&dir.join("bad")),
    ]);
    assert!(
        !o.status.success() && text(&o).contains("cartesian coordinates, not generalised"),
        "{}",
        text(&o)
    );
    let o = phaselab(&[
        "data",
        "gen",
        "--system",
        "gyroscope",
        "--coordinates",
        "polar",
        "--out",
        s(&dir.join("x")),
    ]);
    assert!(
        !o.status.success() && text(&o).contains("unknown coordinates 'polar'"),
        "{}",
        text(&o)
    );
}

#[test]
fn constrained_models_train_compare_and_evaluate_by_name() {
    let dir = tmpdir("constrained");
    let data = dir.join("data");
    let o = phaselab(&[
        "data",
        "gen",
        "--system",
        "chain-pendulum:2",
        "-n",
        "30",
        "--n-test",
        "3",
        "--out",
        s(&data),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    // compare makes the body points the constrained models need from the generalised data and
    // ranks every model on them.
    let out = dir.join("cmp");
    let o = phaselab(&[
        "compare",
        "--system",
        "chain-pendulum:2",
        "--data",
        s(&data),
        "--models",
        "node-so,chnn,clnn,constrained-node-so",
        "--epochs",
        "2",
        "--width",
        "16",
        "--batch",
        "8",
        "--out",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("ranked by the rollout error on the body points"),
        "{}",
        text(&o)
    );
    let cmp = json_file(&out.join("compare.json"));
    for run in cmp["runs"].as_array().unwrap() {
        assert!(run["test"]["cartesian_gerr"].as_f64().is_some(), "{run}");
        assert!(run["parameters"].as_u64().unwrap() > 0, "{run}");
    }
    assert_eq!(cmp["runs"].as_array().unwrap().len(), 4);
    // eval scores a constrained checkpoint on the body points of a generalised test set, as
    // training did; its structure view reads it in angles.
    let run = out.join("clnn");
    let o = phaselab(&["eval", s(&run), "--data", s(&data), "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let ev: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let m = json_file(&run.join("metrics.json"));
    assert_eq!(ev["test"]["gerr"], m["test"]["gerr"]);
    let o = phaselab(&["eval", s(&run), "--data", s(&data), "--plot-structure"]);
    assert!(o.status.success(), "{}", text(&o));
    let slice = json_file(&run.join("structure.json"));
    for q in ["potential", "inverse_mass", "force", "acceleration"] {
        assert!(slice[q]["learned"].as_array().is_some(), "{q}: {slice}");
    }
    // --coordinates cartesian on generalised files is refused with the reason.
    let o = phaselab(&[
        "train",
        "--system",
        "chain-pendulum:2",
        "--model",
        "chnn",
        "--data",
        s(&data),
        "--coordinates",
        "cartesian",
        "--epochs",
        "1",
        "--out",
        s(&dir.join("x")),
    ]);
    assert!(
        !o.status.success() && text(&o).contains("generalised coordinates, not cartesian"),
        "{}",
        text(&o)
    );
}
