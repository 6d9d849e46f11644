//! Native checks of the page's logic that needs no browser: settings from URLs, dataset cutting.

use crate::playground::split_upload;
use crate::settings::{clamp, Settings};
use phaselab_core::data::protocol::Protocol;
use phaselab_core::physics::system;
use serde_json::json;

#[test]
fn defaults_pass_through_clamping_unchanged() {
    let d = Settings::default();
    let (s, notices) = clamp(&serde_json::to_value(&d).unwrap());
    assert_eq!(s, d);
    assert!(notices.is_empty(), "{notices:?}");
    let (s, notices) = clamp(&json!({}));
    assert_eq!(s, d);
    assert!(notices.is_empty());
}

#[test]
fn bad_url_values_are_clamped_with_one_notice_each() {
    let raw = json!({"width": 100000, "depth": "x", "lr": -1, "system": "warp-drive",
        "models": ["node", "magic"], "loss": "l3", "epochs": 12.5, "seed": "7", "backend": "tpu"});
    let (s, notices) = clamp(&raw);
    assert_eq!(s.width, 512);
    assert_eq!(s.depth, Settings::default().depth);
    assert_eq!(s.lr, 1e-5);
    assert_eq!(s.system, Settings::default().system);
    assert_eq!(s.models, vec!["node".to_string()]);
    assert_eq!(s.loss, "l2");
    assert_eq!(s.epochs, 13);
    assert_eq!(s.seed, 7);
    assert_eq!(s.backend, "auto");
    for key in [
        "width", "depth", "lr", "system", "magic", "loss", "epochs", "backend",
    ] {
        assert!(
            notices.iter().any(|n| n.contains(key)),
            "no notice for {key}: {notices:?}"
        );
    }
    let (s, notices) = clamp(&json!("not an object"));
    assert_eq!(s, Settings::default());
    assert_eq!(notices.len(), 1);
}

#[test]
fn every_picker_system_and_drag_setting_builds() {
    for name in crate::settings::SYSTEMS {
        let s = Settings {
            system: name.into(),
            drag: 0.9,
            ..Settings::default()
        };
        let spec = s.spec().unwrap();
        if spec.family.has_drag() {
            assert_eq!(spec.drag, 0.9);
        }
    }
}

#[test]
fn uploads_split_into_disjoint_train_windows_and_held_out_trajectories() {
    let sys = system("chain-pendulum:1").unwrap();
    let p = Protocol {
        n_trajectories: 20,
        n_test: 10,
        chunk: 5,
        test_chunk: 40,
        seconds: 4.0,
        ..Protocol::default()
    };
    let splits = p.generate(sys.as_ref(), &|_| {}).unwrap();
    let s = Settings {
        chunk: 8,
        ..Settings::default()
    };
    // A test split is used whole for both (so page metrics equal `phaselab eval`'s).
    let (train, test, same) = split_upload(splits.test.clone(), &s).unwrap();
    assert!(same);
    assert_eq!(test, splits.test);
    assert_eq!((train.t, train.n), (8, 10 * 5));
    assert_eq!(train.state(1, 0), splits.test.state(0, 8));
    // Other files hold out a fifth of their trajectories.
    let mut long = splits.test.clone();
    long.meta.split = "custom".into();
    let (train, test, same) = split_upload(long.clone(), &s).unwrap();
    assert!(!same);
    assert_eq!((test.n, train.n), (2, 8 * 5));
    for i in 0..test.n {
        for j in 0..train.n {
            assert_ne!(test.state(i, 0), train.state(j, 0));
        }
    }
}

/// The page's default run, natively: every model's loss falls and NODE+SO and the HNN beat the
/// NODE on held-out rollouts (the paper's point, visible within the default epochs).
#[test]
fn default_settings_show_the_papers_point() {
    use burn::prelude::*;
    use phaselab_core::models::ModelConfig;
    use phaselab_core::physics::build;
    use phaselab_core::train::{evaluate, Trainer};
    let s = Settings::default();
    let sys = build(s.spec().unwrap());
    let p = Protocol {
        n_trajectories: (s.n_train as f64 / 0.8).ceil() as usize,
        n_test: 12,
        seconds: 10.0,
        chunk: s.chunk,
        test_chunk: 100,
        seed: s.seed,
        ..Protocol::default()
    };
    let data = p.generate(sys.as_ref(), &|_| {}).unwrap();
    let ad = Device::flex().autodiff();
    let mut gerr = std::collections::HashMap::new();
    for name in &s.models {
        let mc = ModelConfig {
            width: s.width,
            depth: s.depth,
            seed: s.seed,
            ..ModelConfig::new(Settings::kind(name).unwrap(), sys.dof(), sys.angular())
        };
        let cfg = s.train_config();
        let mut t = Trainer::new(mc.init(&ad), &data.train, &cfg, &ad).unwrap_or_else(|_| panic!());
        let first = t.epoch().unwrap().loss;
        let mut last = first;
        while t.epochs_done() < cfg.epochs {
            last = t.epoch().unwrap().loss;
        }
        assert!(last < 0.5 * first, "{name}: loss {first} -> {last}");
        let ev = evaluate(&t.model(), &data.test, &cfg.solver, &Device::flex()).unwrap();
        gerr.insert(name.clone(), ev.gerr);
    }
    eprintln!("default run gerr: {gerr:?}");
    assert!(gerr["node-so"] < gerr["node"], "{gerr:?}");
    assert!(gerr["hnn"] < gerr["node"], "{gerr:?}");
}

#[test]
fn the_page_takes_every_models_name_and_formula_from_the_core() {
    let kinds: Vec<serde_json::Value> = serde_json::from_str(&crate::model_kinds()).unwrap();
    assert_eq!(kinds.len(), phaselab_core::models::ModelKind::ALL.len());
    let get = |k: &str| {
        kinds.iter().find(|x| x["kind"] == k).unwrap()["title"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // node-so learns a mass matrix (dq/dt = v is node-so-direct), and the HNN's H is not separable.
    assert!(get("node-so").contains("M^-1(q) p"), "{}", get("node-so"));
    assert!(get("node-so-direct").contains("dq/dt = v"));
    assert!(get("hnn").contains("depends on q") && !get("hnn").contains("separable"));
}
