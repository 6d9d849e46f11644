//! Population training: K runs of one architecture, each with its own weights, data, minibatch
//! order, learning rate, weight decay, clipping bound and loss, trained in lock-step as one
//! computation (one batched rollout, one backward pass, one optimiser pass per step). Member k
//! follows the same steps as the run trained alone. A member whose loss turns non-finite goes back
//! to its weights at the start of that epoch and is frozen there (as a single run stops); the
//! others go on.

use super::member_adam::{MemberAdam, MemberStep};
use super::trainer::{
    read_losses, steps_per_epoch, web_time_now, EpochStats, Learner, Minibatch, TrainConfig,
    TrainError, TrainOutcome,
};
use crate::cpu::{flush_denormals, loss_and_grads, on_pool_thread};
use crate::data::TrajectorySet;
use crate::models::Stack;
use crate::rng::Rng;
use burn::module::{ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::prelude::*;
use std::collections::HashMap;

/// K runs trained together; see the module's doc.
pub struct PopulationTrainer<M: Learner + Stack> {
    model: M,
    /// The population at the start of the current epoch: what a diverging member goes back to.
    epoch_start: M,
    optim: MemberAdam,
    cfgs: Vec<TrainConfig>,
    device: Device,
    data: Vec<M::Data>,
    n: usize,
    batch: usize,
    steps_per_epoch: usize,
    rngs: Vec<Rng>,
    step: usize,
    epoch: usize,
    histories: Vec<Vec<EpochStats>>,
    errors: Vec<Option<TrainError>>,
}

/// Settings that must agree between members (they shape the shared computation).
fn check_settings(cfgs: &[TrainConfig]) -> Result<(), String> {
    let shared = |c: &TrainConfig| {
        (
            c.epochs,
            c.batch,
            c.solver.clone(),
            c.optimizer,
            std::mem::discriminant(&c.schedule),
        )
    };
    match cfgs.iter().position(|c| shared(c) != shared(&cfgs[0])) {
        None => Ok(()),
        Some(k) => Err(format!(
            "population members must share epochs, batch, solver, optimiser and schedule kind; member {k} differs from member 0"
        )),
    }
}

impl<M: Learner + Stack> PopulationTrainer<M> {
    /// Prepare member k = (`models[k]`, `sets[k]`, `cfgs[k]`) on the autodiff device `device`.
    pub fn new(
        models: Vec<M>,
        sets: &[&TrajectorySet],
        cfgs: Vec<TrainConfig>,
        device: &Device,
    ) -> Result<Self, TrainError> {
        let k = models.len();
        if k == 0 || sets.len() != k || cfgs.len() != k {
            return Err(TrainError::Data(format!(
                "a population needs as many models, data sets and settings ({k}, {}, {})",
                sets.len(),
                cfgs.len()
            )));
        }
        check_settings(&cfgs).map_err(TrainError::Data)?;
        let data = models
            .iter()
            .zip(sets)
            .enumerate()
            .map(|(i, (m, s))| m.prepare(s).map_err(|e| format!("member {i}: {e}")))
            .collect::<Result<Vec<_>, _>>()
            .map_err(TrainError::Data)?;
        let n = M::samples(&data[0]);
        if data.iter().any(|d| M::samples(d) != n) {
            return Err(TrainError::Data(
                "population members need data sets of one size".into(),
            ));
        }
        let cfg = &cfgs[0];
        if n == 0 || cfg.epochs == 0 || cfg.batch == 0 {
            let msg = "need at least one training sample, epochs >= 1 and batch >= 1";
            return Err(TrainError::Data(msg.into()));
        }
        let model = M::stack(&models).map_err(TrainError::Data)?.train();
        flush_denormals();
        Ok(PopulationTrainer {
            epoch_start: model.clone(),
            model,
            optim: MemberAdam::new(cfg.optimizer),
            batch: cfg.batch.min(n),
            steps_per_epoch: steps_per_epoch(n, cfg.batch),
            rngs: cfgs.iter().map(|c| Rng::new(c.seed)).collect(),
            cfgs,
            device: device.clone(),
            data,
            n,
            step: 0,
            epoch: 0,
            histories: vec![Vec::new(); k],
            errors: vec![None; k],
        })
    }

    pub fn members(&self) -> usize {
        self.cfgs.len()
    }

    pub fn epochs_done(&self) -> usize {
        self.epoch
    }

    /// True when every member has trained all its epochs or diverged.
    pub fn finished(&self) -> bool {
        self.epoch >= self.cfgs[0].epochs || self.errors.iter().all(Option::is_some)
    }

    pub fn history(&self, k: usize) -> &[EpochStats] {
        &self.histories[k]
    }

    /// Why member k stopped early (None while it trains or once it finished).
    pub fn error(&self, k: usize) -> Option<&TrainError> {
        self.errors[k].as_ref()
    }

    /// Member k's current model, for evaluation or checkpoints (no autodiff graph).
    pub fn member(&self, k: usize) -> M {
        self.model.valid().member(k)
    }

    /// One epoch's optimiser steps without reading anything back: each step's losses [K].
    fn run_steps(&mut self) -> Vec<Tensor<1>> {
        flush_denormals();
        let orders: Vec<Vec<usize>> = self
            .rngs
            .iter_mut()
            .map(|r| r.permutation(self.n))
            .collect();
        self.epoch_start = self.model.clone();
        let frozen: Vec<bool> = self.errors.iter().map(Option::is_some).collect();
        let weight_decay: Vec<f64> = self.cfgs.iter().map(|c| c.weight_decay).collect();
        let clip: Vec<f64> = self.cfgs.iter().map(|c| c.clip).collect();
        let mut losses = Vec::with_capacity(self.steps_per_epoch);
        for s in 0..self.steps_per_epoch {
            let batches: Vec<Minibatch<'_, M::Data>> = (0..self.members())
                .map(|k| Minibatch {
                    data: &self.data[k],
                    rows: &orders[k][s * self.batch..(s + 1) * self.batch],
                    cfg: &self.cfgs[k],
                })
                .collect();
            let (loss, grads) = loss_and_grads(&self.model, &batches, &self.device);
            losses.push(loss);
            let at = self.step as f64 / self.steps_per_epoch as f64;
            let lr: Vec<f64> = self.cfgs.iter().map(|c| c.lr_at(at)).collect();
            let step = MemberStep {
                lr: &lr,
                weight_decay: &weight_decay,
                clip: &clip,
                frozen: &frozen,
            };
            self.model = self
                .optim
                .step(self.model.clone(), grads, &step, &self.device);
            self.step += 1;
        }
        losses
    }

    /// Close the epoch with its losses ([steps x K], step-major) read back: each training
    /// member's statistics; a member with a non-finite loss goes back to the epoch's start and
    /// stops (its error says where).
    fn finish_epoch(&mut self, losses: &[f32], start: f64) -> Vec<Option<EpochStats>> {
        self.epoch += 1;
        let k = self.members();
        let steps = losses.len() / k;
        let seconds = web_time_now() - start;
        let mut diverged = Vec::new();
        let mut out = vec![None; k];
        for (m, slot) in out.iter_mut().enumerate() {
            if self.errors[m].is_some() {
                continue;
            }
            let own: Vec<f32> = (0..steps).map(|s| losses[s * k + m]).collect();
            if let Some(i) = own.iter().position(|l| !l.is_finite()) {
                self.errors[m] = Some(TrainError::Diverged {
                    epoch: self.epoch,
                    step: self.step - steps + i,
                    loss: own[i] as f64,
                });
                diverged.push(m);
                continue;
            }
            let cfg = &self.cfgs[m];
            let stats = EpochStats {
                epoch: self.epoch,
                loss: own.iter().map(|&l| l as f64).sum::<f64>() / steps as f64,
                lr: cfg.lr_at((self.step.max(1) - 1) as f64 / self.steps_per_epoch as f64),
                seconds,
            };
            self.histories[m].push(stats.clone());
            *slot = Some(stats);
        }
        if !diverged.is_empty() {
            self.restore_members(&diverged);
        }
        out
    }

    /// Members `ks` go back to their weights at the start of this epoch.
    fn restore_members(&mut self, ks: &[usize]) {
        let mut saved = Saved(HashMap::new());
        self.epoch_start.visit(&mut saved);
        let mut restore = Restore {
            saved: saved.0,
            members: ks,
            k: self.members(),
        };
        self.model = self.model.clone().map(&mut restore);
    }

    /// One epoch, reading the losses back synchronously (CPU, native wgpu): member k's
    /// statistics, or None where it has stopped.
    pub fn epoch(&mut self) -> Result<Vec<Option<EpochStats>>, TrainError> {
        let start = web_time_now();
        let losses = on_pool_thread(|| self.run_steps());
        let values = read_losses(Tensor::cat(losses, 0).into_data())?;
        Ok(self.finish_epoch(&values, start))
    }

    /// One epoch, reading the losses back asynchronously (required on WebGPU in the browser).
    pub async fn epoch_async(&mut self) -> Result<Vec<Option<EpochStats>>, TrainError> {
        let start = web_time_now();
        let losses = self.run_steps();
        let data = Tensor::cat(losses, 0).into_data_async().await;
        let values = read_losses(data.map_err(|e| TrainError::Data(format!("{e:?}")))?)?;
        Ok(self.finish_epoch(&values, start))
    }

    /// Every member as a single run's outcome.
    pub fn into_outcomes(self) -> Vec<TrainOutcome<M>> {
        let valid = self.model.valid();
        self.histories
            .into_iter()
            .zip(self.errors)
            .enumerate()
            .map(|(k, (history, error))| TrainOutcome {
                model: valid.member(k),
                history,
                error,
            })
            .collect()
    }
}

/// Every parameter's value by id.
struct Saved(HashMap<ParamId, TensorData>);

impl ModuleVisitor for Saved {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.insert(param.id, param.val().into_data());
    }
}

/// Overwrites the member blocks `members` of every parameter with the saved values.
struct Restore<'a> {
    saved: HashMap<ParamId, TensorData>,
    members: &'a [usize],
    k: usize,
}

impl ModuleMapper for Restore<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(old) = self.saved.remove(&id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let require_grad = tensor.is_require_grad();
        let shape = tensor.shape();
        let n = shape.num_elements() / self.k;
        let inner = tensor.inner();
        let old = Tensor::<D>::from_data(old, &inner.device()).reshape([self.k, n]);
        let mut t = inner.reshape([self.k, n]);
        for &m in self.members {
            t = t.slice_assign([m..m + 1, 0..n], old.clone().narrow(0, m, 1));
        }
        let mut out = Tensor::from_inner(t.reshape(shape));
        if require_grad {
            out = out.require_grad();
        }
        Param::from_mapped_value(id, out, mapper)
    }
}

/// Train a population to the end (see [`PopulationTrainer`]): member k's outcome at index k.
/// `on_epoch` sees each training member's index and statistics and returns false to stop all.
pub fn train_population<M: Learner + Stack>(
    models: Vec<M>,
    sets: &[&TrajectorySet],
    cfgs: Vec<TrainConfig>,
    device: &Device,
    on_epoch: &mut dyn FnMut(usize, &EpochStats) -> bool,
) -> Result<Vec<TrainOutcome<M>>, TrainError> {
    let mut trainer = PopulationTrainer::new(models, sets, cfgs, device)?;
    'epochs: while !trainer.finished() {
        for (k, stats) in trainer.epoch()?.into_iter().enumerate() {
            if let Some(stats) = stats {
                if !on_epoch(k, &stats) {
                    let e = TrainError::Stopped(stats.epoch);
                    trainer.errors.iter_mut().for_each(|x| {
                        x.get_or_insert(e.clone());
                    });
                    break 'epochs;
                }
            }
        }
    }
    Ok(trainer.into_outcomes())
}
