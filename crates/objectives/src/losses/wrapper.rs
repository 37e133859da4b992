//! [`LossFunctionWrapper`]: a per-sample loss function ([`LossFn`]) plus `reduction`, `name`
//! and `dtype` — what every built-in loss is, as in Keras 3 — and the Keras config I/O and
//! macros the loss files use to declare one.

use std::fmt;

use burn::tensor::FloatDType;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::fused::FusedKernel;
use crate::losses::loss::{Loss, LossValues};
use crate::reduce::Reduction;
use crate::reduce::semantics::Semantics;
use crate::tensor::dyn_tensor::DynTensor;

/// A per-sample loss function with its arguments: the part of a loss that is not reduction.
///
/// Every built-in loss's config (e.g. [`crate::HuberConfig`]) implements this; wrap one in a
/// [`LossFunctionWrapper`] to get a full [`Loss`].
pub trait LossFn: Clone + fmt::Debug + Send + Sync + 'static {
    /// The Keras class name, e.g. `"Huber"`.
    const CLASS_NAME: &'static str;
    /// The default `name`, e.g. `"huber_loss"`.
    const DEFAULT_NAME: &'static str;
    /// The per-sample formula in one line, for [`crate::explain()`] (empty: none given).
    const FORMULA: &'static str = "";

    /// Per-sample losses for `(y_true, y_pred)`.
    ///
    /// # Errors
    /// Shape, axis or value errors.
    fn per_sample(&self, y_true: &DynTensor, y_pred: &DynTensor) -> Result<LossValues>;

    /// The function's own arguments as Keras config entries (without `name`, `reduction`, `dtype`).
    fn config(&self) -> Map<String, Value>;

    /// Reads the function's arguments from Keras config entries (`name`, `reduction` and
    /// `dtype` already removed). Missing entries take their defaults; unknown ones are refused.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the bad key or value.
    fn from_config(config: Map<String, Value>) -> Result<Self>;

    /// The fused single-pass kernel computing this loss, if it has one for these arguments (see
    /// [`crate::fused`]); `None` (the default) means the composed path only. Only objectives'
    /// built-in losses make a [`FusedKernel`].
    fn fused(&self) -> Option<FusedKernel> {
        None
    }
}

/// A [`LossFn`] plus `reduction`, `name` and `dtype`: Keras's `LossFunctionWrapper`.
///
/// Every built-in loss type is one of these, e.g. `type Huber = LossFunctionWrapper<HuberConfig>`.
#[derive(Clone, Debug, PartialEq)]
pub struct LossFunctionWrapper<F> {
    /// The per-sample function and its arguments.
    pub func: F,
    /// How per-sample losses are reduced.
    pub reduction: Reduction,
    /// The loss's name.
    pub name: String,
    /// The compute dtype; `None` means Keras's default, `float32`.
    pub dtype: Option<FloatDType>,
    /// Which Keras generation's reduction to reproduce (default Keras 3; not part of the Keras
    /// config, so not serialized).
    pub semantics: Semantics,
}

impl<F: LossFn + Default> Default for LossFunctionWrapper<F> {
    fn default() -> Self {
        Self::new(F::default())
    }
}

impl<F: LossFn> LossFunctionWrapper<F> {
    /// Wraps `func` with Keras's defaults: `sum_over_batch_size`, the default name, `float32`.
    pub fn new(func: F) -> Self {
        Self {
            func,
            reduction: Reduction::default(),
            name: F::DEFAULT_NAME.to_string(),
            dtype: None,
            semantics: Semantics::Keras3,
        }
    }

    /// Sets the reduction.
    #[must_use]
    pub fn with_reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// Sets the name.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the compute dtype (`F32` or `F64`).
    #[must_use]
    pub fn with_dtype(mut self, dtype: FloatDType) -> Self {
        self.dtype = Some(dtype);
        self
    }

    /// Reduces as another Keras generation does (see [`Semantics`]).
    #[must_use]
    pub fn with_semantics(mut self, semantics: Semantics) -> Self {
        self.semantics = semantics;
        self
    }

    /// Builds the loss from the `config` object of Keras's serialized form.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`], [`Error::InvalidReduction`] or
    /// [`Error::UnsupportedDtype`] naming what is wrong.
    pub fn from_keras_config(config: &Map<String, Value>) -> Result<Self> {
        let mut rest = config.clone();
        let reduction = match rest.remove("reduction") {
            Some(v) => Reduction::from_json(&v)?,
            None => Reduction::default(),
        };
        let name = match rest.remove("name") {
            None | Some(Value::Null) => F::DEFAULT_NAME.to_string(),
            Some(Value::String(s)) => s,
            Some(other) => {
                return Err(Error::InvalidConfig {
                    name: F::CLASS_NAME.to_string(),
                    message: format!("`name` must be a string, got {other}"),
                });
            }
        };
        let dtype = match rest.remove("dtype") {
            None | Some(Value::Null) => None,
            Some(v) => Some(parse_dtype(&v)?),
        };
        let func = F::from_config(rest)?;
        Ok(Self { func, reduction, name, dtype, semantics: Semantics::Keras3 })
    }
}

/// Reads a Keras dtype: `"float32"`, `"float64"`, or a `DTypePolicy` object naming one.
fn parse_dtype(v: &Value) -> Result<FloatDType> {
    let name = match v {
        Value::String(s) => s.as_str(),
        Value::Object(o) => o
            .get("config")
            .and_then(|c| c.get("name"))
            .and_then(Value::as_str)
            .ok_or_else(|| Error::UnsupportedDtype(v.to_string()))?,
        _ => return Err(Error::UnsupportedDtype(v.to_string())),
    };
    match name {
        "float32" => Ok(FloatDType::F32),
        "float64" => Ok(FloatDType::F64),
        other => Err(Error::UnsupportedDtype(other.to_string())),
    }
}

fn dtype_name(d: FloatDType) -> &'static str {
    match d {
        FloatDType::F64 => "float64",
        _ => "float32",
    }
}

impl<F: LossFn> Loss for LossFunctionWrapper<F> {
    fn name(&self) -> &str {
        &self.name
    }

    fn class_name(&self) -> &str {
        F::CLASS_NAME
    }

    fn reduction(&self) -> Reduction {
        self.reduction
    }

    fn dtype(&self) -> FloatDType {
        self.dtype.unwrap_or(FloatDType::F32)
    }

    fn semantics(&self) -> Semantics {
        self.semantics
    }

    fn formula(&self) -> &str {
        F::FORMULA
    }

    fn per_sample(&self, y_true: &DynTensor, y_pred: &DynTensor) -> Result<LossValues> {
        self.func.per_sample(y_true, y_pred)
    }

    fn fused(&self) -> Option<FusedKernel> {
        self.func.fused()
    }

    fn to_keras_json(&self) -> Value {
        let mut config = Map::new();
        config.insert("name".into(), Value::String(self.name.clone()));
        config.insert("reduction".into(), self.reduction.to_json());
        config.insert("dtype".into(), self.dtype.map_or(Value::Null, |d| Value::String(dtype_name(d).into())));
        config.extend(self.func.config());
        serde_json::json!({
            "module": "keras.losses",
            "class_name": F::CLASS_NAME,
            "config": config,
            "registered_name": null,
        })
    }
}

/// Implements [`LossFn::config`] / [`LossFn::from_config`] through serde for a config struct
/// that derives `Serialize`, `Deserialize` (with `deny_unknown_fields`) and `Default`.
pub(crate) fn serde_config<T: serde::Serialize>(value: &T) -> Map<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// See [`serde_config`].
/// An error names the offending key (serde's own message does not say which value was bad).
pub(crate) fn serde_from_config<T: serde::de::DeserializeOwned>(class: &str, config: Map<String, Value>) -> Result<T> {
    serde_json::from_value(Value::Object(config.clone())).map_err(|e| {
        let bad = config.iter().find(|(k, v)| {
            let one: Map<String, Value> = [((*k).clone(), (*v).clone())].into_iter().collect();
            serde_json::from_value::<T>(Value::Object(one)).is_err()
        });
        let message = match bad {
            Some((k, v)) if !e.to_string().contains(&format!("`{k}`")) => format!("`{k}` = {v}: {e}"),
            _ => e.to_string(),
        };
        Error::InvalidConfig { name: class.to_string(), message }
    })
}

/// Implements [`LossFn`] for a config struct: names, per-sample function, serde config I/O.
macro_rules! keras_loss_fn {
    ($config:ty, $class:literal, $default_name:literal, $func:path) => {
        $crate::losses::wrapper::keras_loss_fn!($config, $class, $default_name, $func, formula = "");
    };
    ($config:ty, $class:literal, $default_name:literal, $func:path, formula = $formula:literal) => {
        $crate::losses::wrapper::keras_loss_fn!(
            $config,
            $class,
            $default_name,
            $func,
            formula = $formula,
            fused = |_c| None
        );
    };
    (
        $config:ty,
        $class:literal,
        $default_name:literal,
        $func:path,
        formula = $formula:literal,
        fused = |$c:ident| $fused:expr
    ) => {
        impl $crate::losses::wrapper::LossFn for $config {
            const CLASS_NAME: &'static str = $class;
            const DEFAULT_NAME: &'static str = $default_name;
            const FORMULA: &'static str = $formula;
            fn per_sample(
                &self,
                y_true: &$crate::DynTensor,
                y_pred: &$crate::DynTensor,
            ) -> $crate::Result<$crate::losses::loss::LossValues> {
                $func(y_true, y_pred, self).map(Into::into)
            }
            fn config(&self) -> serde_json::Map<String, serde_json::Value> {
                $crate::losses::wrapper::serde_config(self)
            }
            fn from_config(config: serde_json::Map<String, serde_json::Value>) -> $crate::Result<Self> {
                $crate::losses::wrapper::serde_from_config($class, config)
            }
            fn fused(&self) -> Option<$crate::fused::FusedKernel> {
                let $c = self;
                let kernel: Option<($crate::fused::FusedKind, i64)> = $fused;
                kernel.map(|(kind, axis)| $crate::fused::FusedKernel::new(kind, axis))
            }
        }
    };
}
pub(crate) use keras_loss_fn;

/// Declares the config struct of a loss whose only argument is objectives' `axis` (Keras's
/// function has none): `axis: i64`, default -1, written to JSON only when changed.
macro_rules! axis_only_config {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name {
            /// The axis the loss reduces (default -1, Keras's behaviour; 1 for channels-first
            /// outputs such as `(batch, features, H, W)`).
            #[serde(skip_serializing_if = "crate::losses::wrapper::is_last_axis")]
            pub axis: i64,
        }

        impl Default for $name {
            fn default() -> Self {
                Self { axis: crate::losses::wrapper::last_axis() }
            }
        }
    };
}
pub(crate) use axis_only_config;

/// `true` for the default axis (-1), so configs of losses that Keras gives no `axis` argument
/// stay loadable by Keras unless the user changed it.
pub(crate) fn is_last_axis(axis: &i64) -> bool {
    *axis == -1
}

/// The default axis, -1.
pub(crate) fn last_axis() -> i64 {
    -1
}
