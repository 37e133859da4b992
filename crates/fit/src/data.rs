//! In-memory data: inputs, targets per output, sample or class weights; shuffling with a seed,
//! batching, and Keras's `validation_split` (the **last** samples, taken before shuffling: Keras
//! trains on the first `⌊N·(1 − split)⌋`).

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
    /// Keras's `class_weight` for these samples ([`Dataset::with_class_weight`]): `fit` turns it
    /// into sample weights of the **training** samples only, after `validation_split`, as
    /// Keras does. Prefer [`crate::FitOptions::class_weight`]; `evaluate` and validation data
    /// refuse it (Keras's `evaluate` has no class weights).
    pub class_weight: Option<BTreeMap<usize, f64>>,
}

impl<const DI: usize> Dataset<DI> {
    /// A dataset with one output.
    pub fn new(x: Tensor<DI>, y: impl Into<DynTensor>) -> Self {
        Self { x, y: vec![y.into()], sample_weight: None, mask: None, class_weight: None }
    }

    /// A dataset with several outputs.
    pub fn multi(x: Tensor<DI>, y: Vec<DynTensor>) -> Self {
        Self { x, y, sample_weight: None, mask: None, class_weight: None }
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
            class_weight: self.class_weight.clone(),
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
            class_weight: self.class_weight.clone(),
        })
    }

    /// Keras's `validation_split` (`array_slicing.train_validation_split`): `(train,
    /// validation)`, the training set being the first `⌊N·(1 − fraction)⌋` samples (computed in
    /// f64 as Keras does) and the validation set the rest, in order. N = 22, fraction 0.2: 17 and 5.
    ///
    /// # Errors
    /// [`FitError::Config`] unless `0 ≤ fraction < 1`, or when either part would be empty (Keras
    /// raises the same: "not sufficient to split it into a validation and training set").
    pub fn split(&self, fraction: f64) -> Result<(Self, Self)> {
        if !(0.0..1.0).contains(&fraction) {
            return Err(FitError::Config(format!("validation_split must be in [0, 1), got {fraction}")));
        }
        let n = self.len();
        let split_at = (n as f64 * (1.0 - fraction)).floor() as usize;
        if split_at == 0 || split_at >= n {
            return Err(FitError::Config(format!(
                "the data has {n} samples, which is not sufficient to split it into a validation and training set \
                 with validation_split={fraction} (Keras trains on the first ⌊N·(1 − split)⌋ = {split_at}); give \
                 more data or another validation_split"
            )));
        }
        let train: Vec<usize> = (0..split_at).collect();
        let val: Vec<usize> = (split_at..n).collect();
        let mut val = self.rows(&val)?;
        // Keras's class_weight is a fit argument applied to the training samples only.
        val.class_weight = None;
        Ok((self.rows(&train)?, val))
    }

    /// Keras's `class_weight` for these samples: kept as a map (not turned into sample weights
    /// here), so that [`crate::fit`] weighs the **training** samples only, after
    /// `validation_split`, as Keras does. Classes are read from the targets as in
    /// [`crate::class_weight`] (argmax of a last axis wider than 1, else the rounded value);
    /// missing classes weigh 1.0. Equivalent to [`crate::FitOptions::class_weight`] (give one
    /// of the two).
    ///
    /// # Errors
    /// [`FitError::Config`] with several outputs, when sample weights are already set (Keras
    /// refuses both), or for targets of a shape class weights cannot read.
    pub fn with_class_weight(mut self, class_weight: &BTreeMap<usize, f64>) -> Result<Self> {
        crate::class_weight::check_applicable(self.y.len(), self.sample_weight.is_some())?;
        // Checks the targets' shape and the class ids now, where the mistake is made.
        crate::class_weight::class_weights_for(&self.y[0], class_weight)?;
        self.class_weight = Some(class_weight.clone());
        Ok(self)
    }

    /// The same samples with `class_weight` (or the dataset's own) applied as float32 sample
    /// weights, for training.
    pub(crate) fn with_class_weight_applied(mut self, class_weight: Option<&BTreeMap<usize, f64>>) -> Result<Self> {
        let cw = match (class_weight, self.class_weight.take()) {
            (Some(_), Some(_)) => {
                return Err(FitError::Config(
                    "class_weight is given twice (FitOptions::class_weight and Dataset::with_class_weight); give one"
                        .into(),
                ));
            }
            (Some(cw), None) => cw.clone(),
            (None, Some(cw)) => cw,
            (None, None) => return Ok(self),
        };
        crate::class_weight::check_applicable(self.y.len(), self.sample_weight.is_some())?;
        let w = crate::class_weight::class_weights_for(&self.y[0], &cw)?;
        self.sample_weight = Some(vec![crate::class_weight::to_tensor(w, &self.x.device())?]);
        Ok(self)
    }

    /// Refuses a dataset that carries class weights where Keras has none (`evaluate`, validation).
    pub(crate) fn refuse_class_weight(&self, what: &str) -> Result<()> {
        if self.class_weight.is_some() {
            return Err(FitError::Config(format!(
                "{what} data carries class_weight, which Keras applies to training data only; build it without \
                 with_class_weight"
            )));
        }
        Ok(())
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
