//! Training as the reference does it (github.com/ngruver/decon-hnn): AdamW (lr 5e-3, weight decay
//! 1e-4), a cosine schedule stepped every minibatch with a floor of 1e-3 x lr, gradient clipping at
//! global norm 1, batches of 200 chunks, L2 or L1 loss on the rolled-out chunk. One loop
//! (`trainer`) trains a single run or a population of runs in lock-step.

pub mod batch_split;
pub mod checkpoint;
pub mod chunks;
pub mod clip;
pub mod config;
pub mod control;
pub mod evaluate;
pub mod member_adam;
pub mod member_blocks;
pub mod run;
pub mod step_trace;
pub mod trainable;
pub mod trainer;

pub use checkpoint::{Checkpoint, CheckpointError, TrainingRecord};
pub use config::{steps_per_epoch, Loss, OptimizerKind, Schedule, TrainConfig};
#[cfg(not(target_arch = "wasm32"))]
pub use control::{evaluate_control, evaluate_control_with_rollouts};
pub use control::{
    evaluate_control_async, fit_standardisation, mujoco_train_config, ControlEvaluation,
};
#[cfg(not(target_arch = "wasm32"))]
pub use evaluate::{evaluate, evaluate_with_rollouts};
pub use evaluate::{evaluate_async, EvalReport, Evaluation};
pub use step_trace::StepTrace;
pub use trainable::{member_mean, Minibatch, Trainable};
#[cfg(not(target_arch = "wasm32"))]
pub use trainer::{block_on, train, train_population};
pub use trainer::{EpochStats, MemberEpoch, TrainError, TrainOutcome, Trainer};

#[cfg(test)]
mod tests;

#[cfg(test)]
mod control_tests;

#[cfg(test)]
mod population_tests;

#[cfg(test)]
mod fixture_tests;

#[cfg(test)]
mod run_tests;

#[cfg(test)]
mod constrained_tests;
#[cfg(test)]
mod lagrangian_tests;

#[cfg(test)]
mod test_data;
