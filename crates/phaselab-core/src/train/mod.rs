//! Training as the reference does it (digest section 6): AdamW (lr 5e-3, weight decay 1e-4), a
//! cosine schedule stepped every minibatch with a floor of 1e-3 x lr, gradient clipping at global
//! norm 1, batches of 200 chunks, L2 or L1 loss on the rolled-out chunk.

pub mod checkpoint;
pub mod clip;
pub mod control;
pub mod evaluate;
pub mod learner;
pub mod member_adam;
pub mod population;
pub mod trainer;

pub use checkpoint::{Checkpoint, CheckpointError};
pub use control::{
    evaluate_control, evaluate_control_async, evaluate_control_with_rollouts, fit_standardisation,
    mujoco_train_config, ControlEvaluation,
};
pub use evaluate::{evaluate, evaluate_async, evaluate_with_rollouts, Evaluation};
pub use population::{train_population, PopulationTrainer};
pub use trainer::{
    steps_per_epoch, train, EpochStats, Learner, Loss, OptimizerKind, Schedule, TrainConfig,
    TrainError, TrainOutcome, Trainer,
};

#[cfg(test)]
mod tests;

#[cfg(test)]
mod control_tests;

#[cfg(test)]
mod population_tests;

#[cfg(test)]
mod fixture_tests;
