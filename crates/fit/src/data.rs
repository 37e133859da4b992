//! In-memory data: inputs, targets per output, sample or class weights; shuffling with a seed,
//! batching, and Keras's `validation_split` (the **last** fraction of the samples, taken before
//! shuffling).

use std::collections::BTreeMap;

use burn::tensor::{Int, Tensor, TensorData};
use objectives::DynTensor;

use crate::error::{FitError, Result};

/// Inputs `x` (first axis: samples), one target per model output, and optional sample weights
/// (one per output, or one shared by every output, as Keras replicates a single array).
#[derive(Clone, Debug)]
pub struct Dataset<const DI: usize> {
    /// Model inputs, `(N, …)`.
    pub x: Tensor<DI>,
    /// Targets per output, each `(N, …)`.
    pub y: Vec<DynTensor>,
    /// Sample weights per output (`(N,)` or per element), or one shared by all outputs.
    pub sample_weight: Option<Vec<DynTensor>>,
    /// Masks over the per-sample losses (e.g. `(N, T)` for padded sequences; non-zero = valid),
    /// per output or one shared: Keras's `_keras_mask` on the model output.
    pub mask: Option<Vec<DynTensor>>,
}

impl<const DI: usize> Dataset<DI> {
    /// A dataset with one output.
    pub fn new(x: Tensor<DI>, y: impl Into<DynTensor>) -> Self {
        Self { x, y: vec![y.into()], sample_weight: None, mask: None }
    }

    /// A dataset with several outputs.
    pub fn multi(x: Tensor<DI>, y: Vec<DynTensor>) -> Self {
        Self { x, y, sample_weight: None, mask: None }
    }

    /// Sets one sample weight shared by every output.
    #[must_use]
    pub fn with_sample_weight(mut self, w: impl Into<DynTensor>) -> Self {
        self.sample_weight = Some(vec![w.into()]);
        self
    }

    /// Sets one sample weight per output.
    #[must_use]
    pub fn with_sample_weights(mut self, w: Vec<DynTensor>) -> Self {
        self.sample_weight = Some(w);
        self
    }

    /// Sets one mask shared by every output (over the per-sample losses; non-zero = valid).
    #[must_use]
    pub fn with_mask(mut self, m: impl Into<DynTensor>) -> Self {
        self.mask = Some(vec![m.into()]);
        self
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.x.dims().first().copied().unwrap_or(0)
    }

    /// `true` without samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks that every array has the same number of samples.
    pub(crate) fn validate(&self) -> Result<()> {
        let n = self.len();
        for (i, y) in self.y.iter().enumerate() {
            if y.shape().first() != Some(&n) {
                return Err(FitError::Data(format!("x has {n} samples but y[{i}] has shape {:?}", y.shape())));
            }
        }
        for (i, m) in self.mask.iter().flatten().enumerate() {
            if m.shape().first() != Some(&n) {
                return Err(FitError::Data(format!("x has {n} samples but mask[{i}] has shape {:?}", m.shape())));
            }
        }
        for (i, w) in self.sample_weight.iter().flatten().enumerate() {
            if w.shape().first() != Some(&n) {
                return Err(FitError::Data(format!(
                    "x has {n} samples but sample_weight[{i}] has shape {:?}; give one weight per sample (or per element)",
                    w.shape()
                )));
            }
        }
        Ok(())
    }

    /// The same data on `device` (inputs, targets, weights and masks; a copy only across devices).
    pub fn to_device(&self, device: &burn::tensor::Device) -> Self {
        let move_all = |v: &Option<Vec<DynTensor>>| {
            v.as_ref().map(|ts| ts.iter().map(|t| t.clone().map(|t| t.to_device(device))).collect())
        };
        Self {
            x: self.x.clone().to_device(device),
            y: self.y.iter().map(|y| y.clone().map(|t| t.to_device(device))).collect(),
            sample_weight: move_all(&self.sample_weight),
            mask: move_all(&self.mask),
        }
    }

    /// The samples `rows`, in that order.
    pub(crate) fn rows(&self, rows: &[usize]) -> Result<Self> {
        let device = self.x.device();
        let idx: Vec<i64> = rows.iter().map(|&i| i as i64).collect();
        let idx = Tensor::<1, Int>::from_data(TensorData::new(idx, [rows.len()]), &device);
        Ok(Self {
            x: self.x.clone().select(0, idx),
            y: self.y.iter().map(|y| y.clone().select_rows(rows)).collect::<objectives::Result<_>>()?,
            sample_weight: select_all(&self.sample_weight, rows)?,
            mask: select_all(&self.mask, rows)?,
        })
    }

    /// Keras's `validation_split`: `(train, validation)`, the validation set being the last
    /// `⌊fraction·N⌋` samples.
    ///
    /// # Errors
    /// [`FitError::Config`] unless `0 ≤ fraction < 1`.
    pub fn split(&self, fraction: f64) -> Result<(Self, Self)> {
        if !(0.0..1.0).contains(&fraction) {
            return Err(FitError::Config(format!("validation_split must be in [0, 1), got {fraction}")));
        }
        let n = self.len();
        let n_val = (fraction * n as f64).floor() as usize;
        let train: Vec<usize> = (0..n - n_val).collect();
        let val: Vec<usize> = (n - n_val..n).collect();
        Ok((self.rows(&train)?, self.rows(&val)?))
    }

    /// Keras's `class_weight` → per-sample weights (specification §3.3): the class of a sample is
    /// `argmax` of its target if the last axis is wider than 1, else the rounded value; classes
    /// missing from the map weigh 1.0.
    ///
    /// # Errors
    /// [`FitError::Config`] with several outputs or when sample weights are already set (Keras
    /// refuses both).
    pub fn with_class_weight(mut self, class_weight: &BTreeMap<usize, f64>) -> Result<Self> {
        if self.y.len() != 1 {
            return Err(FitError::Config("class_weight works with one output only (as in Keras)".into()));
        }
        if self.sample_weight.is_some() {
            return Err(FitError::Config("you cannot set both class_weight and sample_weight (as in Keras)".into()));
        }
        let y = &self.y[0];
        let n = self.len();
        let values = y.to_vec_f64()?;
        let per = values.len().checked_div(n).unwrap_or(0);
        let classes: Vec<f64> = (0..n)
            .map(|i| {
                let row = &values[i * per..(i + 1) * per];
                if per > 1 {
                    row.iter().enumerate().fold((0, f64::MIN), |b, (j, &v)| if v > b.1 { (j, v) } else { b }).0 as f64
                } else {
                    row.first().copied().unwrap_or(0.0).round()
                }
            })
            .collect();
        let w: Vec<f32> = classes
            .iter()
            .map(|&c| if c >= 0.0 { class_weight.get(&(c as usize)).copied().unwrap_or(1.0) } else { 1.0 } as f32)
            .collect();
        let device = self.x.device();
        self.sample_weight = Some(vec![DynTensor::from_data(TensorData::new(w, [n]), &device)?]);
        Ok(self)
    }
}

fn select_all(v: &Option<Vec<DynTensor>>, rows: &[usize]) -> Result<Option<Vec<DynTensor>>> {
    match v {
        None => Ok(None),
        Some(ts) => Ok(Some(ts.iter().map(|t| t.clone().select_rows(rows)).collect::<objectives::Result<_>>()?)),
    }
}

/// A permutation of `0..n` from `seed` (Fisher–Yates with a small LCG: reproducible everywhere).
pub(crate) fn permutation(n: usize, seed: u64) -> Vec<usize> {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let j = ((state >> 33) % (i as u64 + 1)) as usize;
        p.swap(i, j);
    }
    p
}
