//! The arguments of the five IoU classes (Keras's constructor arguments, with its defaults), and
//! what each makes of them ([`IouArgs::settings`]).

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::metrics::config::invalid;

/// The confusion matrix's dtype: Keras's `dtype` argument, `"int"` unless given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CmDtype {
    /// Keras's default (`dtype=None` → `"int"`, int32 on JAX): weights truncated to integers.
    #[default]
    Int,
    /// `dtype="float32"`: fractional weights.
    Float32,
}

impl CmDtype {
    pub(crate) fn parse(class: &str, v: Option<&Value>) -> Result<Self> {
        let name = match v {
            None | Some(Value::Null) => return Ok(CmDtype::Int),
            Some(Value::String(s)) => s.as_str(),
            Some(Value::Object(o)) => o.get("config").and_then(|c| c.get("name")).and_then(Value::as_str).unwrap_or(""),
            Some(other) => return Err(invalid(class, format!("`dtype` must be a string, got {other}"))),
        };
        match name {
            "float32" => Ok(CmDtype::Float32),
            "int" | "int8" | "int16" | "int32" | "int64" | "uint8" | "uint16" | "uint32" | "uint64" => Ok(CmDtype::Int),
            other => Err(Error::UnsupportedDtype(format!(
                "{other} for {class} (the confusion matrix is \"int32\", Keras's default, or \"float32\")"
            ))),
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            CmDtype::Int => "int32",
            CmDtype::Float32 => "float32",
        }
    }
}

/// What an IoU class's arguments mean: the shared settings of Keras's `_IoUBase`.
#[derive(Clone, Debug, PartialEq)]
pub struct IouSettings {
    /// `K`.
    pub num_classes: usize,
    /// The classes averaged in the result.
    pub target_class_ids: Vec<usize>,
    /// A true class id skipped.
    pub ignore_class: Option<i64>,
    /// `y_true` holds class ids (else: scores, argmax along `axis`).
    pub sparse_y_true: bool,
    /// `y_pred` holds class ids (else: scores, argmax along `axis`).
    pub sparse_y_pred: bool,
    /// The class axis of non-sparse inputs.
    pub axis: i64,
    /// `BinaryIoU`'s threshold: `y_pred >= threshold` is class 1.
    pub threshold: Option<f64>,
}

/// The arguments of one IoU class (a serde struct with Keras's defaults and config keys).
pub trait IouArgs: Serialize + DeserializeOwned + Clone + fmt::Debug + Send + Sync + 'static {
    /// The Keras class name.
    const CLASS_NAME: &'static str;
    /// The default instance name (Keras's `auto_name`).
    const DEFAULT_NAME: &'static str;
    /// The settings these arguments give.
    fn settings(&self) -> IouSettings;
    /// The confusion matrix's dtype (Keras's `dtype` argument).
    fn dtype(&self) -> CmDtype;
    /// These arguments with another dtype.
    #[must_use]
    fn with_dtype(self, dtype: CmDtype) -> Self;
}

fn yes() -> bool {
    true
}
fn minus_one() -> i64 {
    -1
}
fn binary_targets() -> Vec<i64> {
    vec![0, 1]
}
fn half() -> f64 {
    0.5
}

fn targets(ids: &[i64]) -> Vec<usize> {
    ids.iter().map(|&i| i as usize).collect()
}

/// `keras.metrics.IoU`: the mean IoU of the `target_class_ids` (see the [module](super) for the
/// formula).
///
/// ```
/// use objectives::prelude::*;
/// use objectives::metrics::{Metric, MetricClass};
/// use objectives::metrics::iou::IoU;
/// let d = Device::flex();
/// let mut m = IoU::new(2, vec![0]).metric()?;
/// let t: DynTensor = Tensor::<1>::from_floats([0., 0., 1., 1.], &d).into();
/// let p: DynTensor = Tensor::<1>::from_floats([0., 1., 0., 1.], &d).into();
/// m.update_state(&t, &p, None)?;
/// assert!((m.result().scalar()? - 1.0 / 3.0).abs() < 1e-6);
/// # Ok::<(), objectives::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IoU {
    /// `K`, the number of classes.
    pub num_classes: usize,
    /// The classes whose IoUs are averaged.
    pub target_class_ids: Vec<i64>,
    /// A true class id to skip (e.g. 255 or -1 for "void"). Default none.
    #[serde(default)]
    pub ignore_class: Option<i64>,
    /// Whether `y_true` holds class ids (default) rather than scores.
    #[serde(default = "yes")]
    pub sparse_y_true: bool,
    /// Whether `y_pred` holds class ids (default) rather than scores.
    #[serde(default = "yes")]
    pub sparse_y_pred: bool,
    /// The class axis of score inputs. Default -1.
    #[serde(default = "minus_one")]
    pub axis: i64,
    /// The confusion matrix's dtype (Keras's `dtype`; default `"int"`, which truncates weights).
    #[serde(skip)]
    pub dtype: CmDtype,
}

impl IoU {
    /// Keras's defaults with these classes.
    pub fn new(num_classes: usize, target_class_ids: Vec<i64>) -> Self {
        Self {
            num_classes,
            target_class_ids,
            ignore_class: None,
            sparse_y_true: true,
            sparse_y_pred: true,
            axis: -1,
            dtype: CmDtype::Int,
        }
    }
}

impl IouArgs for IoU {
    const CLASS_NAME: &'static str = "IoU";
    const DEFAULT_NAME: &'static str = "io_u";
    fn settings(&self) -> IouSettings {
        IouSettings {
            num_classes: self.num_classes,
            target_class_ids: targets(&self.target_class_ids),
            ignore_class: self.ignore_class,
            sparse_y_true: self.sparse_y_true,
            sparse_y_pred: self.sparse_y_pred,
            axis: self.axis,
            threshold: None,
        }
    }
    fn dtype(&self) -> CmDtype {
        self.dtype
    }
    fn with_dtype(self, dtype: CmDtype) -> Self {
        Self { dtype, ..self }
    }
}

/// `keras.metrics.BinaryIoU`: the IoU of classes 0 and/or 1 with `y_pred >= threshold` as class
/// 1 (compared in float32).
///
/// ```
/// use objectives::prelude::*;
/// use objectives::metrics::{Metric, MetricClass};
/// use objectives::metrics::iou::BinaryIoU;
/// let d = Device::flex();
/// let mut m = BinaryIoU { target_class_ids: vec![0, 1], threshold: 0.3, ..Default::default() }.metric()?;
/// let t: DynTensor = Tensor::<1>::from_floats([0., 1., 0., 1.], &d).into();
/// let p: DynTensor = Tensor::<1>::from_floats([0.1, 0.2, 0.4, 0.7], &d).into();
/// m.update_state(&t, &p, None)?;
/// assert!((m.result().scalar()? - 1.0 / 3.0).abs() < 1e-6);
/// # Ok::<(), objectives::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BinaryIoU {
    /// `[0]`, `[1]` or `[0, 1]` (default).
    pub target_class_ids: Vec<i64>,
    /// Predictions `>= threshold` are class 1. Default 0.5.
    pub threshold: f64,
    /// The confusion matrix's dtype (Keras's `dtype`; default `"int"`, which truncates weights).
    #[serde(skip)]
    pub dtype: CmDtype,
}

impl Default for BinaryIoU {
    fn default() -> Self {
        Self { target_class_ids: binary_targets(), threshold: half(), dtype: CmDtype::Int }
    }
}

impl IouArgs for BinaryIoU {
    const CLASS_NAME: &'static str = "BinaryIoU";
    const DEFAULT_NAME: &'static str = "binary_io_u";
    fn settings(&self) -> IouSettings {
        IouSettings {
            num_classes: 2,
            target_class_ids: targets(&self.target_class_ids),
            ignore_class: None,
            sparse_y_true: true,
            sparse_y_pred: true,
            axis: -1,
            threshold: Some(self.threshold),
        }
    }
    fn dtype(&self) -> CmDtype {
        self.dtype
    }
    fn with_dtype(self, dtype: CmDtype) -> Self {
        Self { dtype, ..self }
    }
}

/// `keras.metrics.MeanIoU`: the mean IoU over all `num_classes` classes (those absent from both
/// inputs do not count).
///
/// ```
/// use objectives::prelude::*;
/// use objectives::metrics::{Metric, MetricClass};
/// use objectives::metrics::iou::MeanIoU;
/// let d = Device::flex();
/// // Channels-first logits (batch 1, 3 classes, 2 positions), integer labels (1, 2).
/// let mut m = MeanIoU { sparse_y_pred: false, axis: 1, ..MeanIoU::new(3) }.metric()?;
/// let t: DynTensor = Tensor::<2>::from_floats([[0., 2.]], &d).into();
/// let p: DynTensor = Tensor::<3>::from_floats([[[5., 0.], [1., 1.], [0., 3.]]], &d).into();
/// m.update_state(&t, &p, None)?;
/// assert!((m.result().scalar()? - 1.0).abs() < 1e-6);
/// # Ok::<(), objectives::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeanIoU {
    /// `K`, the number of classes.
    pub num_classes: usize,
    /// A true class id to skip. Default none.
    #[serde(default)]
    pub ignore_class: Option<i64>,
    /// Whether `y_true` holds class ids (default) rather than scores.
    #[serde(default = "yes")]
    pub sparse_y_true: bool,
    /// Whether `y_pred` holds class ids (default) rather than scores.
    #[serde(default = "yes")]
    pub sparse_y_pred: bool,
    /// The class axis of score inputs. Default -1.
    #[serde(default = "minus_one")]
    pub axis: i64,
    /// The confusion matrix's dtype (Keras's `dtype`; default `"int"`, which truncates weights).
    #[serde(skip)]
    pub dtype: CmDtype,
}

impl MeanIoU {
    /// Keras's defaults with `num_classes`.
    pub fn new(num_classes: usize) -> Self {
        Self {
            num_classes,
            ignore_class: None,
            sparse_y_true: true,
            sparse_y_pred: true,
            axis: -1,
            dtype: CmDtype::Int,
        }
    }
}

impl IouArgs for MeanIoU {
    const CLASS_NAME: &'static str = "MeanIoU";
    const DEFAULT_NAME: &'static str = "mean_io_u";
    fn settings(&self) -> IouSettings {
        IouSettings {
            num_classes: self.num_classes,
            target_class_ids: (0..self.num_classes).collect(),
            ignore_class: self.ignore_class,
            sparse_y_true: self.sparse_y_true,
            sparse_y_pred: self.sparse_y_pred,
            axis: self.axis,
            threshold: None,
        }
    }
    fn dtype(&self) -> CmDtype {
        self.dtype
    }
    fn with_dtype(self, dtype: CmDtype) -> Self {
        Self { dtype, ..self }
    }
}

/// `keras.metrics.OneHotIoU`: [`IoU`] on one-hot `y_true` (argmax along `axis`) and scores
/// `y_pred` (argmax, unless `sparse_y_pred`).
///
/// ```
/// use objectives::prelude::*;
/// use objectives::metrics::{Metric, MetricClass};
/// use objectives::metrics::iou::OneHotIoU;
/// let d = Device::flex();
/// let mut m = OneHotIoU::new(3, vec![0, 2]).metric()?;
/// let t: DynTensor = Tensor::<2>::from_floats([[0., 0., 1.], [1., 0., 0.], [0., 1., 0.], [1., 0., 0.]], &d).into();
/// let p: DynTensor =
///     Tensor::<2>::from_floats([[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1], [0.1, 0.4, 0.5]], &d).into();
/// m.update_state(&t, &p, None)?;
/// assert!((m.result().scalar()? - (0.0 / 3.0 + 1.0 / 3.0) / 2.0).abs() < 1e-6);
/// # Ok::<(), objectives::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OneHotIoU {
    /// `K`, the number of classes.
    pub num_classes: usize,
    /// The classes whose IoUs are averaged.
    pub target_class_ids: Vec<i64>,
    /// A true class id to skip. Default none.
    #[serde(default)]
    pub ignore_class: Option<i64>,
    /// Whether `y_pred` holds class ids rather than scores (default: scores).
    #[serde(default)]
    pub sparse_y_pred: bool,
    /// The class axis. Default -1.
    #[serde(default = "minus_one")]
    pub axis: i64,
    /// The confusion matrix's dtype (Keras's `dtype`; default `"int"`, which truncates weights).
    #[serde(skip)]
    pub dtype: CmDtype,
}

impl OneHotIoU {
    /// Keras's defaults with these classes.
    pub fn new(num_classes: usize, target_class_ids: Vec<i64>) -> Self {
        Self { num_classes, target_class_ids, ignore_class: None, sparse_y_pred: false, axis: -1, dtype: CmDtype::Int }
    }
}

impl IouArgs for OneHotIoU {
    const CLASS_NAME: &'static str = "OneHotIoU";
    const DEFAULT_NAME: &'static str = "one_hot_io_u";
    fn settings(&self) -> IouSettings {
        IouSettings {
            num_classes: self.num_classes,
            target_class_ids: targets(&self.target_class_ids),
            ignore_class: self.ignore_class,
            sparse_y_true: false,
            sparse_y_pred: self.sparse_y_pred,
            axis: self.axis,
            threshold: None,
        }
    }
    fn dtype(&self) -> CmDtype {
        self.dtype
    }
    fn with_dtype(self, dtype: CmDtype) -> Self {
        Self { dtype, ..self }
    }
}

/// `keras.metrics.OneHotMeanIoU`: [`MeanIoU`] on one-hot `y_true` and scores `y_pred`.
///
/// ```
/// use objectives::prelude::*;
/// use objectives::metrics::{Metric, MetricClass};
/// use objectives::metrics::iou::OneHotMeanIoU;
/// let d = Device::flex();
/// let mut m = OneHotMeanIoU::new(3).metric()?;
/// let t: DynTensor = Tensor::<2>::from_floats([[0., 0., 1.], [1., 0., 0.], [0., 1., 0.], [1., 0., 0.]], &d).into();
/// let p: DynTensor =
///     Tensor::<2>::from_floats([[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1], [0.1, 0.4, 0.5]], &d).into();
/// m.update_state(&t, &p, None)?;
/// assert!((m.result().scalar()? - (1.0 / 3.0) / 3.0).abs() < 1e-6);
/// # Ok::<(), objectives::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OneHotMeanIoU {
    /// `K`, the number of classes.
    pub num_classes: usize,
    /// A true class id to skip. Default none.
    #[serde(default)]
    pub ignore_class: Option<i64>,
    /// Whether `y_pred` holds class ids rather than scores (default: scores).
    #[serde(default)]
    pub sparse_y_pred: bool,
    /// The class axis. Default -1.
    #[serde(default = "minus_one")]
    pub axis: i64,
    /// The confusion matrix's dtype (Keras's `dtype`; default `"int"`, which truncates weights).
    #[serde(skip)]
    pub dtype: CmDtype,
}

impl OneHotMeanIoU {
    /// Keras's defaults with `num_classes`.
    pub fn new(num_classes: usize) -> Self {
        Self { num_classes, ignore_class: None, sparse_y_pred: false, axis: -1, dtype: CmDtype::Int }
    }
}

impl IouArgs for OneHotMeanIoU {
    const CLASS_NAME: &'static str = "OneHotMeanIoU";
    const DEFAULT_NAME: &'static str = "one_hot_mean_io_u";
    fn settings(&self) -> IouSettings {
        IouSettings {
            num_classes: self.num_classes,
            target_class_ids: (0..self.num_classes).collect(),
            ignore_class: self.ignore_class,
            sparse_y_true: false,
            sparse_y_pred: self.sparse_y_pred,
            axis: self.axis,
            threshold: None,
        }
    }
    fn dtype(&self) -> CmDtype {
        self.dtype
    }
    fn with_dtype(self, dtype: CmDtype) -> Self {
        Self { dtype, ..self }
    }
}
