//! One file per trained model: a header, JSON metadata (model config, training record) and the
//! weights in burn's record format (burnpack), all from and to bytes so the browser loads the same
//! files. Version 2 dropped version 1's `normalisation` (always the identity, never applied);
//! version 3 added a CRC-32 over everything before it, so that a flipped byte is refused instead of
//! silently giving other numbers. Versions 1 and 2 still load, unverified ([`Checkpoint::note`]).
//! Version 4 stores CHNN's and CLNN's learned masses on a 10x larger scale (`models::learned_masses`);
//! older files are rescaled on loading, so they give the same model.
//!
//! Layout: `PHASELAB-CKPT\n` (14 bytes), u32 LE format version, u64 LE metadata length, metadata
//! (UTF-8 JSON), u64 LE weights length, weights (burnpack), u32 LE CRC-32 (IEEE) of all the bytes
//! before it (version 3 on).

use super::config::TrainConfig;
use crate::data::TrajectorySet;
use crate::models::learned_masses::{LearnedMasses, RESCALED_BEFORE_FORMAT};
use crate::models::{DynamicsModel, ModelConfig};
use burn::module::{ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use serde::{Deserialize, Serialize};

pub(crate) const MAGIC: &[u8; 14] = b"PHASELAB-CKPT\n";
/// Version of the layout above.
pub const CHECKPOINT_VERSION: u32 = 4;
/// The first version that ends with a checksum.
const FIRST_CHECKSUMMED: u32 = 3;

/// Everything but the weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckpointMeta {
    pub format_version: u32,
    pub phaselab_version: String,
    pub model: ModelConfig,
    /// Free-form training record: system, data seed, epochs done, losses, solver, dt, timings.
    pub training: serde_json::Value,
}

/// What a checkpoint records about the training behind its weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingRecord {
    pub system: String,
    /// The seed the training data was generated from (None for imported data).
    #[serde(default)]
    pub train_file_seed: Option<u64>,
    pub n_train: usize,
    /// Points per training chunk.
    pub chunk: usize,
    pub dt: f64,
    pub epochs_done: usize,
    /// The last epoch's mean loss (None when the run diverged).
    #[serde(default)]
    pub final_loss: Option<f64>,
    pub config: TrainConfig,
    /// Where the model was trained, when not the CLI (the playground says so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl TrainingRecord {
    /// The record of training on `set` with `config`, after `epochs_done` epochs.
    pub fn new(set: &TrajectorySet, config: &TrainConfig, epochs_done: usize) -> Self {
        TrainingRecord {
            system: set.meta.system.clone(),
            train_file_seed: set.meta.seed,
            n_train: set.n,
            chunk: set.t,
            dt: set.dt,
            epochs_done,
            final_loss: None,
            config: config.clone(),
            source: None,
        }
    }

    /// The record a checkpoint holds, if it is one of these (older files may hold less).
    pub fn of(ck: &Checkpoint) -> Option<Self> {
        serde_json::from_value(ck.meta.training.clone()).ok()
    }
}

/// A model with its metadata, ready to write or just read.
pub struct Checkpoint {
    pub meta: CheckpointMeta,
    pub weights: Vec<u8>,
    /// The layout version it was read in (or [`CHECKPOINT_VERSION`] for a new one): below 3 it
    /// carried no checksum, so its integrity was not checked.
    pub file_version: u32,
}

/// A checkpoint that cannot be used.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CheckpointError {
    #[error("not a phaselab checkpoint (bad header)")]
    NotACheckpoint,
    #[error("checkpoint format version {0} is newer than this phaselab reads ({CHECKPOINT_VERSION}); upgrade phaselab")]
    TooNew(u32),
    #[error("truncated checkpoint: {0}")]
    Truncated(&'static str),
    #[error("bad checkpoint metadata: {0}")]
    Metadata(String),
    #[error("checkpoint weights do not fit the model described in it: {0}")]
    Weights(String),
    #[error("corrupt checkpoint: its checksum is {found:08x} but its contents give {computed:08x} (the file was damaged after it was written)")]
    Corrupt { found: u32, computed: u32 },
    #[error("corrupt checkpoint: {0} unexpected bytes after its end")]
    Trailing(usize),
}

impl Checkpoint {
    /// Capture a model, its weights read back from the device (native: the reads are waited
    /// for).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_model(
        model: &DynamicsModel,
        training: serde_json::Value,
    ) -> Result<Self, CheckpointError> {
        super::trainer::block_on(Self::from_model_async(model, training))
    }

    /// Capture a model: its weights are read back asynchronously (as WebGPU in the browser
    /// requires) into a CPU copy, whose record is the checkpoint's weights.
    pub async fn from_model_async(
        model: &DynamicsModel,
        training: serde_json::Value,
    ) -> Result<Self, CheckpointError> {
        let mut tensors = Collect(Vec::new());
        model.visit(&mut tensors);
        let mut values = Vec::with_capacity(tensors.0.len());
        for t in tensors.0 {
            let data = t.into_data_async().await;
            let data = data.map_err(|e| CheckpointError::Weights(format!("{e:?}")))?;
            values.push(
                data.convert::<f32>()
                    .try_into_vec::<f32>()
                    .map_err(|e| CheckpointError::Weights(format!("{e:?}")))?,
            );
        }
        let cpu = Device::flex();
        let copy = model.config.init_for_loading(&cpu).map(&mut Refill {
            values: values.into_iter(),
            device: cpu,
        });
        let weights = copy
            .into_record()
            .into_bytes()
            .map_err(|e| CheckpointError::Weights(format!("{e:?}")))?;
        Ok(Checkpoint {
            meta: CheckpointMeta {
                format_version: CHECKPOINT_VERSION,
                phaselab_version: crate::VERSION.to_string(),
                model: model.config.clone(),
                training,
            },
            weights: weights.to_vec(),
            file_version: CHECKPOINT_VERSION,
        })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let meta = serde_json::to_vec(&self.meta).expect("metadata serialises");
        let mut out = Vec::with_capacity(40 + meta.len() + self.weights.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&CHECKPOINT_VERSION.to_le_bytes());
        out.extend_from_slice(&(meta.len() as u64).to_le_bytes());
        out.extend_from_slice(&meta);
        out.extend_from_slice(&(self.weights.len() as u64).to_le_bytes());
        out.extend_from_slice(&self.weights);
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// What a reader should know about this file, if anything: files older than version 3 carry no
    /// checksum, so damage to them cannot be detected.
    pub fn note(&self) -> Option<String> {
        (self.file_version < FIRST_CHECKSUMMED).then(|| {
            format!(
                "checkpoint format version {} has no checksum, so its integrity was not checked; \
                 save it again (phaselab writes version {CHECKPOINT_VERSION}) to add one",
                self.file_version
            )
        })
    }

    pub fn from_bytes(b: &[u8]) -> Result<Self, CheckpointError> {
        if b.len() < MAGIC.len() || &b[..MAGIC.len()] != MAGIC {
            return Err(CheckpointError::NotACheckpoint);
        }
        // A cursor over `b`: the next `n` bytes, or which part is cut short.
        let mut pos = MAGIC.len();
        let mut take = |n: usize, what: &'static str| -> Result<&[u8], CheckpointError> {
            let end = pos.checked_add(n).ok_or(CheckpointError::Truncated(what))?;
            let s = b.get(pos..end).ok_or(CheckpointError::Truncated(what))?;
            pos = end;
            Ok(s)
        };
        let le_u64 = |s: &[u8]| u64::from_le_bytes(s.try_into().expect("8 bytes"));
        let len = |n: u64, what| usize::try_from(n).map_err(|_| CheckpointError::Truncated(what));
        let version = u32::from_le_bytes(take(4, "version")?.try_into().expect("4 bytes"));
        if version > CHECKPOINT_VERSION {
            return Err(CheckpointError::TooNew(version));
        }
        let meta_len = len(le_u64(take(8, "metadata length")?), "metadata")?;
        let meta_bytes = take(meta_len, "metadata")?;
        let w_len = len(le_u64(take(8, "weights length")?), "weights")?;
        let weights = take(w_len, "weights")?;
        if version >= FIRST_CHECKSUMMED {
            // Checked before anything is parsed: damage anywhere is reported as damage.
            let body = MAGIC.len() + 20 + meta_bytes.len() + weights.len();
            let found = u32::from_le_bytes(take(4, "checksum")?.try_into().expect("4 bytes"));
            let computed = crc32fast::hash(&b[..body]);
            if found != computed {
                return Err(CheckpointError::Corrupt { found, computed });
            }
            if b.len() > body + 4 {
                return Err(CheckpointError::Trailing(b.len() - body - 4));
            }
        }
        let weights = weights.to_vec();
        let meta: CheckpointMeta = serde_json::from_slice(meta_bytes)
            .map_err(|e| CheckpointError::Metadata(e.to_string()))?;
        let m = &meta.model;
        let plausible = m.angular.len() == m.dof
            && (1..=64).contains(&m.dof)
            && (1..=4096).contains(&m.width)
            && (1..=16).contains(&m.depth);
        if !plausible {
            return Err(CheckpointError::Metadata(format!(
                "implausible model config (D = {}, width {}, depth {})",
                m.dof, m.width, m.depth
            )));
        }
        m.check().map_err(CheckpointError::Metadata)?;
        // The weights must at least hold every parameter as f32 before anything is built.
        match m.n_params() {
            Some(n) if weights.len() / 4 >= n => {}
            n => {
                return Err(CheckpointError::Weights(format!(
                    "{} bytes of weights for a model of {} parameters",
                    weights.len(),
                    n.map_or("too many".into(), |n| n.to_string())
                )))
            }
        }
        Ok(Checkpoint {
            meta,
            weights,
            file_version: version,
        })
    }

    /// Rebuild the model on `device` with the stored weights.
    pub fn model(&self, device: &Device) -> Result<DynamicsModel, CheckpointError> {
        let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(self.weights.clone()))
            .map_err(|e| CheckpointError::Weights(format!("{e:?}")))?;
        let mut model = self
            .meta
            .model
            .init_for_loading(device)
            .try_load_record(record)
            .map_err(|e| CheckpointError::Weights(format!("{e:?}")))?;
        if self.file_version < RESCALED_BEFORE_FORMAT {
            model.masses = model.masses.map(LearnedMasses::from_old_format);
        }
        Ok(model)
    }
}

/// Every float parameter, flattened, in visiting order.
struct Collect(Vec<Tensor<1>>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push(param.val().flatten::<1>(0, D - 1));
    }
}

/// Replace each float parameter, in visiting order, by the next values read back.
struct Refill {
    values: std::vec::IntoIter<Vec<f32>>,
    device: Device,
}

impl ModuleMapper for Refill {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some(values) = self.values.next() else {
            return param;
        };
        let device = self.device.clone();
        param.map(|t| Tensor::from_data(TensorData::new(values, t.shape()), &device))
    }
}
