//! The worker's training session: data, models and their trainers, on the CPU (flex) or WebGPU.
//! Reads from the device are asynchronous, so the same code runs on both.

use crate::js::{js_err, parse_json};
use crate::settings::{clamp, Settings};
use burn::prelude::*;
use phaselab_core::data::cartesian::{generalised_path, in_coordinates};
use phaselab_core::data::protocol::Protocol;
use phaselab_core::data::{Coordinates, TrajectorySet};
use phaselab_core::metrics::learned_structure::learned_structure;
use phaselab_core::metrics::rollout_error;
use phaselab_core::models::{ControlConfig, ControlKind, ControlModel, DynamicsModel, ModelConfig};
use phaselab_core::physics::simulate::{simulate as integrate, Integrator};
use phaselab_core::physics::{build, State, System, SystemSpec};
use phaselab_core::plot::structure_panels;
use phaselab_core::rng::Rng;
use phaselab_core::solve::Solver;
use phaselab_core::train::checkpoint::{Checkpoint, TrainingRecord};
use phaselab_core::train::run::{NoSink, Run, RunConfig, RunError, RunSession};
use phaselab_core::train::{
    evaluate_async, evaluate_control_async, fit_standardisation, mujoco_train_config, EpochStats,
    MemberEpoch, TrainConfig, TrainError,
};
use serde_json::json;
use std::cell::RefCell;
use std::sync::Arc;
use wasm_bindgen::prelude::*;

/// Held-out trajectories generated for a simulated system, and their length in points.
const N_TEST: usize = 12;
const TEST_POINTS: usize = 100;
/// Most training windows cut from an uploaded dataset.
const MAX_WINDOWS: usize = 4000;

/// Training chunks and held-out trajectories, with the true system when there is one.
struct Data {
    name: String,
    system: Option<Box<dyn System>>,
    train: Arc<TrajectorySet>,
    test: Arc<TrajectorySet>,
    /// An uploaded test split: the page trains and evaluates on the same trajectories.
    train_on_test: bool,
}

/// A run in training of either family: autonomous models, or control-aware ones for data with
/// actions. It is the core's run path (the CLI's too), stepped one epoch per call of the page.
enum AnyTrainer {
    Autonomous(RunSession<ModelConfig>),
    Control(RunSession<ControlConfig>),
}

/// A model of either family, ready to roll out.
#[derive(Clone)]
enum AnyModel {
    Autonomous(DynamicsModel),
    Control(ControlModel),
}

impl AnyTrainer {
    /// One epoch of the one run (the page exports checkpoints on request, so none is kept); a
    /// divergence is an error.
    async fn epoch(&mut self) -> Result<EpochStats, RunError> {
        let done = match self {
            AnyTrainer::Autonomous(t) => t.epoch_async(&mut NoSink).await?,
            AnyTrainer::Control(t) => t.epoch_async(&mut NoSink).await?,
        };
        let error = match done.into_iter().next() {
            Some(MemberEpoch::Trained(stats)) => return Ok(stats),
            Some(MemberEpoch::Diverged(e)) => e,
            _ => TrainError::Stopped(self.epochs_done()),
        };
        Err(RunError::Setup {
            kind: self.label(),
            error,
        })
    }

    fn label(&self) -> String {
        match self {
            AnyTrainer::Autonomous(t) => t.runs()[0].model.label(),
            AnyTrainer::Control(t) => t.runs()[0].model.label(),
        }
    }

    /// The run's record after the epochs trained so far.
    fn record(&self) -> TrainingRecord {
        match self {
            AnyTrainer::Autonomous(t) => t.record(0),
            AnyTrainer::Control(t) => t.record(0),
        }
    }

    fn epochs_done(&self) -> usize {
        match self {
            AnyTrainer::Autonomous(t) => t.epochs_done(),
            AnyTrainer::Control(t) => t.epochs_done(),
        }
    }

    fn model(&self) -> AnyModel {
        match self {
            AnyTrainer::Autonomous(t) => AnyModel::Autonomous(t.member(0)),
            AnyTrainer::Control(t) => AnyModel::Control(t.member(0)),
        }
    }
}

impl AnyModel {
    fn n_params(&self) -> usize {
        match self {
            AnyModel::Autonomous(m) => m.n_params(),
            AnyModel::Control(m) => m.n_params(),
        }
    }
}

/// One model on the page: trained here (with its trainer) or loaded from a checkpoint.
struct Slot {
    /// The model's name as the page shows it (node, node-so, ...).
    kind: String,
    trainer: Option<AnyTrainer>,
    /// The model of a loaded checkpoint (trained models live in their trainer).
    frozen: Option<AnyModel>,
    cfg: TrainConfig,
    /// Where the model learns: generalised coordinates, or the system's body points (the
    /// constrained models); the page always sees generalised states, mapped at this edge.
    coordinates: Coordinates,
    /// A trainer lent to a running `train_epoch` (calls on the worker must not overlap).
    busy: bool,
}

struct Inner {
    data: Option<Data>,
    models: Vec<Option<Slot>>,
}

#[wasm_bindgen]
pub struct Playground {
    device: Device,
    backend: String,
    inner: RefCell<Inner>,
}

fn err(e: impl std::fmt::Display) -> JsError {
    js_err(e)
}

impl Playground {
    pub(crate) fn new(device: Device, backend: &str) -> Self {
        Playground {
            device,
            backend: backend.into(),
            inner: RefCell::new(Inner {
                data: None,
                models: vec![],
            }),
        }
    }

    fn with_data<T>(&self, f: impl FnOnce(&Data) -> Result<T, JsError>) -> Result<T, JsError> {
        let inner = self.inner.borrow();
        let data = inner
            .data
            .as_ref()
            .ok_or_else(|| err("no data yet: choose a system or load a dataset"))?;
        f(data)
    }

    /// The current model of slot `id` (no autodiff graph) and the solver it rolls out with.
    fn model(&self, id: u32) -> Result<(AnyModel, Solver), JsError> {
        let inner = self.inner.borrow();
        let slot = slot(&inner, id)?;
        let model = match (&slot.trainer, &slot.frozen) {
            (Some(t), _) => t.model(),
            (None, Some(m)) => m.clone(),
            _ => return Err(err(format!("model {id} is busy training"))),
        };
        Ok((model, slot.cfg.solver.clone()))
    }

    /// The held-out trajectories in slot `id`'s coordinates.
    fn test_for(&self, id: u32) -> Result<Arc<TrajectorySet>, JsError> {
        let coordinates = slot(&self.inner.borrow(), id)?.coordinates;
        let test = self.with_data(|d| Ok(d.test.clone()))?;
        in_coordinates(&test, coordinates).map_err(err)
    }

    fn info(&self) -> Result<String, JsError> {
        self.with_data(|d| {
            let bodies = d
                .system
                .as_ref()
                .map(|s| s.drawn_nodes().len())
                .unwrap_or(0);
            Ok(json!({
                "system": d.name, "dof": d.train.d, "dt": d.train.dt,
                "angular": d.train.meta.angular, "bodies": bodies,
                "n_train": d.train.n, "chunk": d.train.t, "n_test": d.test.n,
                "test_steps": d.test.t, "has_truth": d.system.is_some(),
                "train_on_test": d.train_on_test, "controls": d.train.n_controls(),
            })
            .to_string())
        })
    }

    fn install(&self, data: Data) -> Result<String, JsError> {
        let mut inner = self.inner.borrow_mut();
        // Ids are never reused: a trainer still out in a running epoch finds no slot to return to.
        inner.models.iter_mut().for_each(|m| *m = None);
        inner.data = Some(data);
        drop(inner);
        self.info()
    }
}

fn slot(inner: &Inner, id: u32) -> Result<&Slot, JsError> {
    inner
        .models
        .get(id as usize)
        .and_then(|s| s.as_ref())
        .ok_or_else(|| err(format!("no model with id {id}")))
}

/// Settings from the page's JSON, clamped (the page shows the notices from `clamp_settings`).
fn settings(json: &str) -> Result<Settings, JsError> {
    Ok(clamp(&parse_json(json)?).0)
}

/// Train windows and held-out trajectories cut from an uploaded set.
pub(crate) fn split_upload(
    set: TrajectorySet,
    s: &Settings,
) -> Result<(TrajectorySet, TrajectorySet, bool), String> {
    let chunk = s.chunk.min(set.t);
    if set.t < 2 {
        return Err("the dataset's trajectories have fewer than 2 points".into());
    }
    let mut rng = Rng::new(s.seed);
    let test_split = set.meta.split == "test" || set.n < 2;
    let (train_idx, test_idx): (Vec<usize>, Vec<usize>) = if test_split {
        ((0..set.n).collect(), (0..set.n).collect())
    } else {
        let order = rng.permutation(set.n);
        let n_test = (set.n / 5).clamp(1, 200);
        (order[n_test..].to_vec(), order[..n_test].to_vec())
    };
    let mut starts: Vec<(usize, usize)> = train_idx
        .iter()
        .flat_map(|&i| {
            (0..=set.t - chunk)
                .step_by(chunk.max(1))
                .map(move |k| (i, k))
        })
        .collect();
    if starts.len() > MAX_WINDOWS {
        let keep = rng.permutation(starts.len());
        starts = keep[..MAX_WINDOWS].iter().map(|&j| starts[j]).collect();
    }
    let mut train = set.windows(&starts, chunk);
    train.meta.split = "train".into();
    let test = set.select(&test_idx);
    Ok((train, test, test_split))
}

#[wasm_bindgen]
impl Playground {
    /// A session on "cpu" (burn flex) or "webgpu" (rejects when the browser gives no adapter).
    pub async fn create(backend: String) -> Result<Playground, JsError> {
        match backend.as_str() {
            "cpu" => Ok(Playground::new(Device::flex(), "cpu")),
            "webgpu" => webgpu().await.map(|d| Playground::new(d, "webgpu")),
            other => Err(err(format!("unknown backend '{other}' (cpu, webgpu)"))),
        }
    }

    pub fn backend(&self) -> String {
        self.backend.clone()
    }

    /// Simulate training chunks and held-out trajectories for the settings' system.
    pub fn set_system(&self, settings_json: &str) -> Result<String, JsError> {
        let s = settings(settings_json)?;
        let spec = s.spec().map_err(err)?;
        let sys = build(spec);
        let points = TEST_POINTS.max(s.chunk);
        let protocol = Protocol {
            n_trajectories: (s.n_train as f64 / 0.8).ceil() as usize,
            n_test: N_TEST,
            seconds: points as f64 * sys.dt(),
            chunk: s.chunk,
            test_chunk: points,
            seed: s.seed,
            ..Protocol::default()
        };
        let splits = protocol.generate(sys.as_ref(), &|_| {}).map_err(err)?;
        self.install(Data {
            name: sys.name(),
            system: Some(sys),
            train: Arc::new(splits.train),
            test: Arc::new(splits.test),
            train_on_test: false,
        })
    }

    /// Use an uploaded phaselab `.npz`: its trajectories are cut into training windows of the
    /// settings' chunk length and held-out trajectories (a test split is used whole for both).
    pub fn set_dataset(&self, bytes: &[u8], settings_json: &str) -> Result<String, JsError> {
        let s = settings(settings_json)?;
        let set = TrajectorySet::from_npz(bytes)
            .map_err(|e| err(format!("not a valid phaselab dataset: {e}")))?;
        let system = set.meta.system.parse::<SystemSpec>().ok().map(build);
        let name = set.meta.system.clone();
        let (train, test, train_on_test) = split_upload(set, &s).map_err(err)?;
        self.install(Data {
            name,
            system,
            train: Arc::new(train),
            test: Arc::new(test),
            train_on_test,
        })
    }

    pub fn data_info(&self) -> Result<String, JsError> {
        self.info()
    }

    /// A new model of `kind` with the settings' width, depth and training options; its id.
    pub fn add_model(&self, kind: &str, settings_json: &str) -> Result<u32, JsError> {
        let s = settings(settings_json)?;
        let (train, test) = self.with_data(|d| Ok((d.train.clone(), d.test.clone())))?;
        let (trainer, cfg) = if train.u.is_some() {
            let ck: ControlKind = kind.parse().map_err(|_| {
                err("it takes no controls: for data with actions choose NODE, NODE+SO or HNN + forcing")
            })?;
            let mut mc = ControlConfig {
                width: s.width,
                depth: s.depth,
                seed: s.seed,
                ..ControlConfig::new(ck, train.d, train.n_controls())
            };
            fit_standardisation(&mut mc, &train).map_err(err)?;
            let cfg = TrainConfig {
                epochs: s.epochs,
                lr: s.lr,
                batch: s.batch,
                seed: s.seed,
                ..mujoco_train_config()
            };
            (
                AnyTrainer::Control(self.session(mc, &cfg, train, test)?),
                cfg,
            )
        } else {
            // A constrained model learns the same trajectories as its system's body points.
            let k = Settings::kind(kind).map_err(err)?;
            let on = |set| in_coordinates(set, k.coordinates()).map_err(err);
            let (train, test) = (on(&train)?, on(&test)?);
            let mc = ModelConfig {
                width: s.width,
                depth: s.depth,
                seed: s.seed,
                ..ModelConfig::for_data(k, &train)
            };
            let cfg = s.train_config();
            (
                AnyTrainer::Autonomous(self.session(mc, &cfg, train, test)?),
                cfg,
            )
        };
        let coordinates = match &trainer {
            AnyTrainer::Autonomous(t) => t.runs()[0].model.kind.coordinates(),
            AnyTrainer::Control(_) => Coordinates::Generalised,
        };
        let mut inner = self.inner.borrow_mut();
        inner.models.push(Some(Slot {
            kind: kind.to_string(),
            trainer: Some(trainer),
            frozen: None,
            cfg,
            coordinates,
            busy: false,
        }));
        Ok(inner.models.len() as u32 - 1)
    }

    /// A model from a `phaselab train` checkpoint, to compare with the page's models.
    pub fn add_checkpoint(&self, bytes: &[u8]) -> Result<String, JsError> {
        let ck = Checkpoint::from_bytes(bytes).map_err(err)?;
        let (test, controlled) = self.with_data(|d| Ok((d.test.clone(), d.train.u.is_some())))?;
        if controlled {
            return Err(err(
                "checkpoints hold autonomous models; this dataset has controls",
            ));
        }
        let coordinates = ck.meta.model.kind.coordinates();
        let dof = in_coordinates(&test, coordinates)
            .map_err(|e| err(format!("a {} checkpoint: {e}", ck.meta.model.kind)))?
            .d;
        if ck.meta.model.dof != dof {
            return Err(err(format!(
                "the checkpoint is a model of D = {} coordinates; the data has D = {dof} in {} coordinates",
                ck.meta.model.dof,
                coordinates.name()
            )));
        }
        let model = ck.model(&self.device).map_err(err)?;
        let trained: Option<TrainConfig> = ck
            .meta
            .training
            .get("config")
            .and_then(|c| serde_json::from_value(c.clone()).ok());
        let cfg = trained.unwrap_or_default();
        let n_params = model.n_params();
        let m = &ck.meta.model;
        let mut inner = self.inner.borrow_mut();
        inner.models.push(Some(Slot {
            kind: m.kind.name().to_string(),
            trainer: None,
            frozen: Some(AnyModel::Autonomous(model)),
            cfg,
            coordinates: m.kind.coordinates(),
            busy: false,
        }));
        Ok(json!({
            "id": inner.models.len() - 1, "kind": m.kind.name(), "width": m.width,
            "depth": m.depth, "n_params": n_params,
            "system": ck.meta.training.get("system"),
            "trained_epochs": ck.meta.training.get("epochs_done"),
            "note": ck.note(),
        })
        .to_string())
    }

    /// Drop every model.
    pub fn clear(&self) {
        self.inner
            .borrow_mut()
            .models
            .iter_mut()
            .for_each(|m| *m = None);
    }

    /// Drop model `id` (the page switched it off; the other models' runs go on).
    pub fn remove_model(&self, id: u32) {
        if let Some(m) = self.inner.borrow_mut().models.get_mut(id as usize) {
            *m = None;
        }
    }

    pub fn n_params(&self, id: u32) -> Result<u32, JsError> {
        Ok(self.model(id)?.0.n_params() as u32)
    }

    /// One epoch of model `id`: JSON {epoch, loss, lr, seconds, done}.
    pub async fn train_epoch(&self, id: u32) -> Result<String, JsError> {
        let (mut trainer, epochs) = {
            let mut inner = self.inner.borrow_mut();
            let slot = inner
                .models
                .get_mut(id as usize)
                .and_then(|s| s.as_mut())
                .ok_or_else(|| err(format!("no model with id {id}")))?;
            if slot.busy {
                return Err(err(format!("model {id} is already training")));
            }
            let t = slot.trainer.take().ok_or_else(|| {
                err(format!(
                    "model {id} was loaded from a checkpoint and is not trained here"
                ))
            })?;
            slot.busy = true;
            (t, slot.cfg.epochs)
        };
        if trainer.epochs_done() >= epochs {
            let done = trainer.epochs_done();
            self.give_back(id, trainer);
            return Err(err(format!("model {id} has finished its {done} epochs")));
        }
        let result = trainer.epoch().await;
        let done = trainer.epochs_done() >= epochs;
        self.give_back(id, trainer);
        let stats = result.map_err(err)?;
        Ok(
            json!({"epoch": stats.epoch, "loss": stats.loss, "lr": stats.lr,
                  "seconds": stats.seconds, "done": done})
            .to_string(),
        )
    }

    /// Metrics on the held-out trajectories, and the true energy along the model's rollout of
    /// held-out trajectory 0 beside the truth's.
    pub async fn evaluate(&self, id: u32) -> Result<String, JsError> {
        let (model, solver) = self.model(id)?;
        let kind = slot(&self.inner.borrow(), id)?.kind.clone();
        let test = self.test_for(id)?;
        let (mut out, pred) = match &model {
            AnyModel::Autonomous(m) => {
                let (ev, pred) = evaluate_async(m, &test, &solver, &self.device, false)
                    .await
                    .map_err(err)?;
                (serde_json::to_value(&ev).map_err(err)?, pred)
            }
            AnyModel::Control(m) => {
                let (ev, pred) = evaluate_control_async(m, &test, &self.device)
                    .await
                    .map_err(err)?;
                let r = rollout_error(&test, &pred).map_err(err)?;
                let v = json!({"gerr": r.gerr, "gerr_curve": r.curve, "herr": null,
                    "herr_curve": null, "mse": ev.mse, "mse_curve": ev.mse_curve,
                    "n_trajectories": ev.n_trajectories, "n_steps": ev.n_steps});
                (v, pred)
            }
        };
        let energy = |set: &TrajectorySet| -> Option<Vec<(f64, f64)>> {
            self.with_data(|d| {
                Ok(d.system.as_ref().map(|sys| {
                    (0..set.t)
                        .map(|k| {
                            let (q, v) = set.state(0, k);
                            (k as f64 * set.dt, sys.energy(q, v))
                        })
                        .collect()
                }))
            })
            .ok()
            .flatten()
        };
        // The energy of body points through the generalised states they stand for (none where
        // a rollout reaches a chart's pole).
        let generalised =
            |set: TrajectorySet| in_coordinates(&Arc::new(set), Coordinates::Generalised).ok();
        out["energy"] = json!(generalised(pred).and_then(|p| energy(&p)));
        out["truth_energy"] =
            json!(generalised(Arc::unwrap_or_clone(test)).and_then(|t| energy(&t)));
        out["n_params"] = json!(model.n_params());
        out["kind"] = json!(kind);
        Ok(out.to_string())
    }

    /// What models `ids` learned along coordinate q_c against the true system (the structure
    /// view): JSON {slices, panels}, panels as `plot_lines` specs (potential, inverse mass, force
    /// and acceleration at rest). Each model is read back to a CPU copy first (WebGPU reads are
    /// asynchronous).
    pub async fn structure(&self, ids: Vec<u32>, coordinate: usize) -> Result<String, JsError> {
        let (spec, test) =
            self.with_data(|d| Ok((d.system.as_ref().map(|s| s.spec()), d.test.clone())))?;
        let sys = spec.map(build).ok_or_else(|| {
            err("the structure view compares with the true system, and this dataset's system is not one phaselab simulates")
        })?;
        let mut slices = Vec::with_capacity(ids.len());
        for id in ids {
            let AnyModel::Autonomous(m) = self.model(id)?.0 else {
                return Err(err("the structure view is for models without controls"));
            };
            let cpu = Checkpoint::from_model_async(&m, json!({}))
                .await
                .and_then(|c| c.model(&Device::flex()))
                .map_err(err)?;
            let mut slice =
                learned_structure(&cpu, sys.as_ref(), &test, coordinate, 81).map_err(err)?;
            slice.model = slot(&self.inner.borrow(), id)?.kind.clone();
            slices.push(slice);
        }
        Ok(json!({"panels": structure_panels(&slices), "slices": slices}).to_string())
    }

    /// Model `id` rolled out from z0 = [q, v] for `steps` points: rows [steps, 2D].
    pub async fn rollout(&self, id: u32, z0: Vec<f64>, steps: usize) -> Result<Vec<f64>, JsError> {
        let (model, solver) = self.model(id)?;
        let (dof, dt) = self.with_data(|d| Ok((d.train.d, d.train.dt)))?;
        check_state(&z0, dof, steps)?;
        // A model on body points starts from x(q), J(q) v and its path is mapped back to angles.
        let cartesian = slot(&self.inner.borrow(), id)?.coordinates == Coordinates::Cartesian;
        let start = match cartesian {
            true => self.with_data(|d| {
                let sys = d.system.as_ref().ok_or_else(|| err("no system"))?;
                let (x, xd) = sys.cartesian(&z0[..dof], &z0[dof..]);
                Ok(x.into_iter().chain(xd).collect::<Vec<_>>())
            })?,
            false => z0.clone(),
        };
        let z = Tensor::<2>::from_data(
            TensorData::new(
                start.iter().map(|&x| x as f32).collect::<Vec<_>>(),
                [1, start.len()],
            ),
            &self.device,
        );
        let out = match &model {
            AnyModel::Autonomous(m) => m.rollout(z, steps, dt, &solver).0,
            AnyModel::Control(m) => m.rollout(z, self.test_controls(steps)?, dt),
        };
        let data = out
            .into_data_async()
            .await
            .map_err(|e| err(format!("{e:?}")))?;
        let vals: Vec<f32> = data
            .convert::<f32>()
            .try_into_vec()
            .map_err(|e| err(format!("{e:?}")))?;
        let rows: Vec<f64> = vals.into_iter().map(|x| x as f64).collect();
        if !cartesian {
            return Ok(rows);
        }
        self.with_data(|d| {
            let sys = d.system.as_ref().ok_or_else(|| err("no system"))?;
            Ok(generalised_path(sys.as_ref(), &rows, &z0[..dof]))
        })
    }

    /// The true system from z0 for `steps` points (dopri5): rows [steps, 2D].
    pub fn truth(&self, z0: Vec<f64>, steps: usize) -> Result<Vec<f64>, JsError> {
        self.with_data(|d| {
            let sys = d.system.as_ref().ok_or_else(|| {
                err("this dataset names no known system, so there is no ground truth")
            })?;
            check_state(&z0, sys.dof(), steps)?;
            let init = State::from_z(&z0);
            let tr = integrate(sys.as_ref(), &init, steps, sys.dt(), &Integrator::default())
                .map_err(err)?;
            Ok(tr.states.iter().flat_map(|s| s.to_z()).collect())
        })
    }

    /// Initial state [q, v] of held-out trajectory i.
    pub fn test_state(&self, i: usize) -> Result<Vec<f64>, JsError> {
        self.with_data(|d| {
            if i >= d.test.n {
                return Err(err(format!("there are {} held-out trajectories", d.test.n)));
            }
            let (q, v) = d.test.state(i, 0);
            Ok(q.iter().chain(v).copied().collect())
        })
    }

    /// Model `id` as a `.phaselab` checkpoint that `phaselab eval` reads.
    pub async fn export_checkpoint(&self, id: u32) -> Result<Vec<u8>, JsError> {
        let (model, _) = self.model(id)?;
        let (record, kind) = {
            let inner = self.inner.borrow();
            let s = slot(&inner, id)?;
            let d = inner.data.as_ref().ok_or_else(|| err("no data"))?;
            let record = s
                .trainer
                .as_ref()
                .map_or_else(|| TrainingRecord::new(&d.train, &s.cfg, 0), |t| t.record());
            let record = TrainingRecord {
                system: d.name.clone(),
                source: Some("phaselab playground".into()),
                ..record
            };
            (record, s.kind.clone())
        };
        let AnyModel::Autonomous(model) = model else {
            return Err(err(format!(
                "{kind} is a control-aware model; checkpoints hold autonomous models only (train it with `phaselab control`)"
            )));
        };
        let ck = ModelConfig::checkpoint(&model, &record)
            .await
            .expect("autonomous models have a checkpoint format")
            .map_err(|e| err(format!("exporting {kind}: {e}")))?;
        Ok(ck.to_bytes())
    }
}

impl Playground {
    /// The first `steps` controls of held-out trajectory 0 [1, steps, m]: what a controlled
    /// rollout from a chosen state follows.
    fn test_controls(&self, steps: usize) -> Result<Tensor<3>, JsError> {
        self.with_data(|d| {
            let (u, m) = d.test.u.as_ref().ok_or_else(|| err("the data has no controls"))?;
            if steps > d.test.t {
                return Err(err(format!(
                    "a controlled rollout follows held-out trajectory 0's controls: at most {} steps",
                    d.test.t
                )));
            }
            let vals: Vec<f32> = u[..steps * m].iter().map(|&x| x as f32).collect();
            Ok(Tensor::from_data(TensorData::new(vals, [1, steps, *m]), &self.device))
        })
    }

    /// One run of `model` with `cfg` on the page's data, as a session of the core's run path.
    fn session<C: RunConfig>(
        &self,
        model: C,
        cfg: &TrainConfig,
        train_set: Arc<TrajectorySet>,
        test: Arc<TrajectorySet>,
    ) -> Result<RunSession<C>, JsError> {
        let run = Run {
            model,
            train: cfg.clone(),
            train_set,
            test,
        };
        RunSession::start(vec![run], &self.device).map_err(err)
    }

    fn give_back(&self, id: u32, trainer: AnyTrainer) {
        let mut inner = self.inner.borrow_mut();
        if let Some(Some(slot)) = inner.models.get_mut(id as usize) {
            slot.trainer = Some(trainer);
            slot.busy = false;
        }
    }
}

fn check_state(z0: &[f64], dof: usize, steps: usize) -> Result<(), JsError> {
    if z0.len() != 2 * dof {
        return Err(err(format!(
            "a state has {} values here, got {}",
            2 * dof,
            z0.len()
        )));
    }
    if z0.iter().any(|x| !x.is_finite()) {
        return Err(err("the initial state has NaN or infinite values"));
    }
    if !(2..=10_000).contains(&steps) {
        return Err(err("steps must be in 2..=10000"));
    }
    Ok(())
}

#[cfg(target_arch = "wasm32")]
async fn webgpu() -> Result<Device, JsError> {
    Device::wgpu_options()
        .init_async()
        .await
        .map_err(|e| err(format!("WebGPU is not available here: {e}")))
}

#[cfg(not(target_arch = "wasm32"))]
async fn webgpu() -> Result<Device, JsError> {
    Err(err("WebGPU exists only in the browser"))
}
