//! One file per trained model: a header, JSON metadata (model config, training record) and the
//! weights in burn's record format (burnpack), all from and to bytes so the browser loads the same
//! files. Version 2 dropped version 1's `normalisation` (always the identity, never applied);
//! version 1 files still load, the field ignored.
//!
//! Layout: `PHASELAB-CKPT\n` (14 bytes), u32 LE format version, u64 LE metadata length, metadata
//! (UTF-8 JSON), u64 LE weights length, weights (burnpack).

use crate::models::{DynamicsModel, ModelConfig};
use burn::module::{ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use serde::{Deserialize, Serialize};

const MAGIC: &[u8; 14] = b"PHASELAB-CKPT\n";
/// Version of the layout above.
pub const CHECKPOINT_VERSION: u32 = 2;

/// Everything but the weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckpointMeta {
    pub format_version: u32,
    pub phaselab_version: String,
    pub model: ModelConfig,
    /// Free-form training record: system, data seed, epochs done, losses, solver, dt, timings.
    pub training: serde_json::Value,
}

/// A model with its metadata, ready to write or just read.
pub struct Checkpoint {
    pub meta: CheckpointMeta,
    pub weights: Vec<u8>,
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
}

impl Checkpoint {
    /// Capture a model (its weights read back from the device).
    pub fn from_model(
        model: &DynamicsModel,
        training: serde_json::Value,
    ) -> Result<Self, CheckpointError> {
        let weights = model
            .clone()
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
        })
    }

    /// [`Checkpoint::from_model`] for a model on a device that cannot be read synchronously
    /// (WebGPU in the browser): its weights are read asynchronously into a CPU copy first.
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
        Self::from_model(&copy, training)
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
        out
    }

    pub fn from_bytes(b: &[u8]) -> Result<Self, CheckpointError> {
        if b.len() < MAGIC.len() || &b[..MAGIC.len()] != MAGIC {
            return Err(CheckpointError::NotACheckpoint);
        }
        let mut pos = MAGIC.len();
        let mut take = |n: usize, what: &'static str| -> Result<&[u8], CheckpointError> {
            let s = b
                .get(pos..pos.checked_add(n).ok_or(CheckpointError::Truncated(what))?)
                .ok_or(CheckpointError::Truncated(what))?;
            pos += n;
            Ok(s)
        };
        let version = u32::from_le_bytes(take(4, "version")?.try_into().expect("4 bytes"));
        if version > CHECKPOINT_VERSION {
            return Err(CheckpointError::TooNew(version));
        }
        let meta_len = u64::from_le_bytes(take(8, "metadata length")?.try_into().expect("8 bytes"));
        let meta_bytes = take(
            usize::try_from(meta_len).map_err(|_| CheckpointError::Truncated("metadata"))?,
            "metadata",
        )?;
        let meta: CheckpointMeta = serde_json::from_slice(meta_bytes)
            .map_err(|e| CheckpointError::Metadata(e.to_string()))?;
        let w_len = u64::from_le_bytes(take(8, "weights length")?.try_into().expect("8 bytes"));
        let weights = take(
            usize::try_from(w_len).map_err(|_| CheckpointError::Truncated("weights"))?,
            "weights",
        )?
        .to_vec();
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
        Ok(Checkpoint { meta, weights })
    }

    /// Rebuild the model on `device` with the stored weights.
    pub fn model(&self, device: &Device) -> Result<DynamicsModel, CheckpointError> {
        let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(self.weights.clone()))
            .map_err(|e| CheckpointError::Weights(format!("{e:?}")))?;
        self.meta
            .model
            .init_for_loading(device)
            .try_load_record(record)
            .map_err(|e| CheckpointError::Weights(format!("{e:?}")))
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
