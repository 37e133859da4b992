//! Keras 3's metrics: stateful, exactly mergeable, with `axis`.
//!
//! A metric is a [`State`] (plain data: sums, counts, confusion matrices, threshold histograms)
//! updated batch by batch with [`Metric::update_state`], read with [`Metric::result`] and
//! cleared with [`Metric::reset_state`], with Keras 3.15.1's arithmetic for every class of
//! `keras.metrics` (see [`registry::ALL_METRICS`]). Every state cell is an [`ExactSum`], so
//! merging the states of any split of the data ([`Metric::merge_state`]: micro-batches, threads,
//! devices) gives exactly the state — and the result — of one update on everything.
//!
//! ```
//! use objectives::prelude::*;
//! use objectives::metrics;
//! let d = Device::flex();
//! let mut auc = metrics::get("auc")?;
//! let y_true = Tensor::<1>::from_floats([0., 0., 1., 1.], &d);
//! let y_pred = Tensor::<1>::from_floats([0.1, 0.4, 0.35, 0.8], &d);
//! auc.update_state(&y_true.into(), &y_pred.into(), None)?;
//! assert!((auc.result().scalar()? - 0.75).abs() < 1e-3);
//! # Ok::<(), objectives::Error>(())
//! ```
//!
//! # Making a metric
//!
//! By name or Keras JSON: [`get`], [`from_keras_json`], [`from_keras_json_str`]. From Rust,
//! every class the same way ([`MetricClass`]): the class is a struct of Keras's constructor
//! arguments (`Default` = Keras's defaults; `new(…)` takes the required ones where Keras has
//! some), and `.metric()?` checks them as Keras does and returns the metric:
//! `BinaryAccuracy { threshold: 0.7 }.metric()?`, `Auc { curve: "PR".into(), ..Default::default() }.metric()?`,
//! `MeanIoU::new(3).metric()?`, `Mean.metric()?`,
//! `MeanMetricWrapper::new("name", |y_true, y_pred| …).metric()?`.
//! A metric of your own implements [`StatefulMetric`] and is wrapped in a [`MetricObject`].
//!
//! # Layout
//!
//! What a metric is: [`metric`] (the traits, [`MetricObject`]), [`state`], [`exact`], [`host`]
//! (inputs read to the host), [`config`] (Keras configs), [`mean`] (the weighted mean of
//! per-sample values). The classes, one file per family: [`reduction`] (`Mean`, `Sum`,
//! `MeanMetricWrapper`), [`regression`], [`probabilistic`], [`hinge`], [`correlation`],
//! [`accuracy`], [`confusion`] (`TruePositives` … `AUC`), [`f_score`] and [`iou`]. Above them:
//! [`registry`] (every class, by name; [`entry`] is one of its entries) and [`spec`] (compile's
//! metric names).

pub mod accuracy;
pub mod config;
pub mod confusion;
pub mod correlation;
pub mod entry;
pub mod exact;
pub mod f_score;
pub mod hinge;
pub mod host;
pub mod iou;
pub mod mean;
pub mod metric;
pub mod probabilistic;
pub mod reduction;
pub mod registry;
pub mod regression;
pub mod spec;
pub mod state;

pub use entry::{Inputs, MetricEntry};
pub use exact::ExactSum;
pub use host::Host;
pub use mean::{SampleFn, Wrapped};
pub use metric::{Metric, MetricClass, MetricObject, MetricValue, StatefulMetric, divide_no_nan};
pub use reduction::{Mean, MeanMetricWrapper, Sum};
pub use registry::{ALL_METRICS, from_keras_json, from_keras_json_str, get};
pub use spec::MetricSpec;
pub use state::{State, Variable};
