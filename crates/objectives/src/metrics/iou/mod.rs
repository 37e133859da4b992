//! The Intersection-over-Union metrics (`keras/src/metrics/iou_metrics.py`): `IoU`,
//! `BinaryIoU`, `MeanIoU`, `OneHotIoU` and `OneHotMeanIoU`.
//!
//! State: Keras's `total_confusion_matrix`, `K×K` (rows: true class, columns: predicted class),
//! accumulated in one pass over the inputs (the class ids come from an argmax along `axis` when
//! the inputs are not sparse — a strided pass, so channels-first `(B, K, H, W)` outputs need no
//! transpose). Result, for the target classes `c`:
//!
//! ```text
//! iou_c = cm[c][c] / (Σ_j cm[j][c] + Σ_j cm[c][j] − cm[c][c] + ε)      (0 when the denominator ≤ 1e-9)
//! result = Σ_c iou_c / (number of target classes with a denominator > 1e-9 + ε)
//! ```
//!
//! with `ε = 1e-7` (Keras's `backend.epsilon()`), so classes absent from both `y_true` and
//! `y_pred` do not count.
//!
//! Pairs whose true id is `ignore_class` are skipped; ids outside `[0, num_classes)` are an error
//! naming the value and its position (Keras 3.15.1 skips them silently: a deliberate
//! difference). Inputs are flattened (they need the same number of ids, not the same shape), and
//! the sample weight is flattened and broadcast to them (one weight, or one per id; beyond Keras,
//! which refuses it, a weight that broadcasts to the ids' shape with trailing axes added, such as
//! one weight per sample of `(B, H, W)` ids, is taken). Keras's default `dtype` for these metrics
//! is `"int"`: the confusion
//! matrix is integer, so a float sample weight is truncated toward zero (0.3 → 0); pass
//! `"dtype": "float32"` for fractional weights (the config writes `"int32"` or `"float32"`). A
//! label that is not an integer (Keras truncates it) is refused. Keras's `result()` sums the
//! per-class IoUs along `axis`, which fails for an `axis` other than -1 or 0; here `axis` only
//! picks the class axis of score inputs, and the result is the same for every `axis`.

use rayon::prelude::*;
use serde_json::{Map, Value};

use super::config::{self, input_error, invalid};
use super::exact::ExactSum;
use super::host::{Host, argmax_slice, weights_per_value, with_slice, without_axis};
use super::metric::{MetricClass, MetricObject, MetricValue, StatefulMetric};
use super::state::{State, Variable};
use crate::error::{Error, Result};
use crate::tensor::dyn_tensor::DynTensor;
use crate::tensor::shape::unravel;

/// Keras's `backend.epsilon()`.
const EPSILON: f64 = 1e-7;
/// A pair that does not enter the confusion matrix.
const SKIP: u32 = u32::MAX;
/// Ids per parallel counting task.
const IDS_PER_TASK: usize = 1 << 16;

mod args;
pub use args::{BinaryIoU, CmDtype, IoU, IouArgs, IouSettings, MeanIoU, OneHotIoU, OneHotMeanIoU};

/// An IoU metric: its arguments, the confusion matrix's dtype, and the settings they give.
#[derive(Clone, Debug)]
pub struct IouMetric<A> {
    /// The Keras arguments.
    pub args: A,
    /// The confusion matrix's dtype.
    pub dtype: CmDtype,
    settings: IouSettings,
}

impl<A: IouArgs> IouMetric<A> {
    /// Checks the arguments (Keras's constructor checks, and a few more).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the argument.
    pub fn new(args: A) -> Result<Self> {
        let class = A::CLASS_NAME;
        let dtype = args.dtype();
        let s = args.settings();
        if s.num_classes == 0 || s.num_classes > (u32::MAX as usize) / 2 {
            return Err(invalid(class, format!("`num_classes` must be between 1 and 2^31, got {}", s.num_classes)));
        }
        let ids = serde_json::to_value(&args).ok().and_then(|v| v.get("target_class_ids").cloned());
        if let Some(Value::Array(ids)) = ids {
            if ids.is_empty() {
                return Err(invalid(class, "`target_class_ids` must name at least one class"));
            }
            for id in &ids {
                match id.as_i64() {
                    Some(i) if i >= 0 && (i as usize) < s.num_classes => {}
                    _ => {
                        return Err(invalid(
                            class,
                            format!("target class id {id} is out of range, which is [0, {})", s.num_classes),
                        ));
                    }
                }
            }
        }
        if let Some(t) = s.threshold
            && !t.is_finite()
        {
            return Err(invalid(class, format!("`threshold` must be a finite number, got {t}")));
        }
        Ok(Self { args, dtype, settings: s })
    }
}

/// Every IoU class is a [`MetricClass`]: `MeanIoU::new(3).metric()?`.
macro_rules! iou_class {
    ($($t:ty),*) => {$(
        impl MetricClass for $t {
            const CLASS: &'static str = <$t as IouArgs>::CLASS_NAME;
            type Metric = IouMetric<$t>;

            /// # Errors
            /// [`Error::InvalidConfig`] for arguments Keras refuses.
            fn metric(self) -> Result<MetricObject<IouMetric<$t>>> {
                Ok(MetricObject::new(IouMetric::new(self)?))
            }

            fn from_config(config: &Map<String, Value>) -> Result<(Option<String>, Self)> {
                let class = <$t as IouArgs>::CLASS_NAME;
                let mut rest = config.clone();
                let dtype = CmDtype::parse(class, rest.remove("dtype").as_ref())?;
                let (name, args) = config::split::<$t>(class, &rest)?;
                Ok((name, args.with_dtype(dtype)))
            }
        }
    )*};
}

iou_class!(IoU, BinaryIoU, MeanIoU, OneHotIoU, OneHotMeanIoU);

/// Class ids of an input: sparse ids checked to be integers in `[0, k)` (or equal to `ignore`,
/// which become [`SKIP`]), or argmax along `axis` (which must have at most `k` entries).
///
/// Keras 3.15.1 skips ids outside `[0, num_classes)` silently; objectives refuses them (a label
/// out of range is a data error; `ignore_class` is the way to skip a "void" label).
#[allow(clippy::too_many_arguments)]
fn ids(
    name: &str,
    what: &str,
    data: &[f32],
    shape: &[usize],
    sparse: bool,
    axis: i64,
    k: usize,
    ignore: Option<i64>,
) -> Result<(Vec<u32>, Vec<usize>)> {
    if !sparse {
        let a = super::host::normalize_axis(name, axis, shape)?;
        if shape[a] > k {
            return Err(input_error(
                name,
                format!(
                    "{what} has {} scores along axis {axis} (shape {:?}) but num_classes is {k}; set num_classes \
                     to the number of classes, or `axis` to the class axis",
                    shape[a], shape
                ),
            ));
        }
        let ids = argmax_slice(name, what, data, shape, a)?;
        return Ok((ids, without_axis(shape, a)));
    }
    if let Some(i) = data.iter().position(|v| v.fract() != 0.0) {
        return Err(input_error(
            name,
            format!(
                "{what} value {} at flat position {i} (shape {:?}) is not an integer class id; pass class ids, \
                 or set sparse_{what}=false for scores",
                data[i], shape
            ),
        ));
    }
    let kf = k as f32;
    let ig = ignore.map(|i| i as f32);
    let bad = data.par_iter().position_first(|&v| !(v >= 0.0 && v < kf) && Some(v) != ig);
    if let Some(i) = bad {
        return Err(Error::InvalidLabel {
            name: name.to_string(),
            value: f64::from(data[i]),
            position: unravel(i, shape),
            classes: k,
        });
    }
    let ids = data.par_iter().map(|&v| if Some(v) == ig { SKIP } else { v as u32 }).collect();
    Ok((ids, shape.to_vec()))
}

impl<A: IouArgs> IouMetric<A> {
    fn pairs(&self, y_true: &DynTensor, y_pred: &DynTensor) -> Result<(Vec<u32>, Vec<u32>, Vec<usize>)> {
        let name = A::CLASS_NAME;
        let s = &self.settings;
        let k = s.num_classes;
        // The inputs are read in place where the backend allows (no copy of the logits).
        let (ts, ps) = (y_true.shape(), y_pred.shape());
        let (mut ti, t_shape) =
            with_slice(y_true, |d| ids(name, "y_true", d, ts, s.sparse_y_true, s.axis, k, s.ignore_class))?;
        let (pi, p_shape) = match s.threshold {
            Some(thr) => {
                let thr = thr as f32;
                with_slice(y_pred, |d| Ok((d.par_iter().map(|&v| u32::from(v >= thr)).collect(), ps.to_vec())))?
            }
            None => with_slice(y_pred, |d| ids(name, "y_pred", d, ps, s.sparse_y_pred, s.axis, k, None))?,
        };
        if ti.len() != pi.len() {
            return Err(input_error(
                name,
                format!(
                    "y_true gives {} class ids (shape {t_shape:?}) but y_pred gives {} (shape {p_shape:?}); they \
                     must pair one to one (set sparse_y_true / sparse_y_pred and axis to match the inputs: ids, \
                     or scores along axis)",
                    ti.len(),
                    pi.len()
                ),
            ));
        }
        if let Some(ignore) = s.ignore_class
            && !s.sparse_y_true
            && ignore >= 0
            && (ignore as usize) < k
        {
            let ig = ignore as u32;
            ti.par_iter_mut().for_each(|i| {
                if *i == ig {
                    *i = SKIP;
                }
            });
        }
        Ok((ti, pi, t_shape))
    }

    /// Per-id weights as Keras flattens and broadcasts them: one weight, or one per id (any
    /// shape with that many elements); beyond Keras (which refuses them), a weight that
    /// broadcasts to the ids' shape with trailing axes added, e.g. one per sample of `(B, H, W)`
    /// ids. Truncated toward zero for an int matrix.
    fn weights(&self, w: &DynTensor, ids_shape: &[usize], n: usize) -> Result<Vec<f64>> {
        let w = Host::read(w)?;
        let conv = |x: f32| -> Result<f64> {
            match self.dtype {
                CmDtype::Float32 => Ok(f64::from(x)),
                CmDtype::Int if x.is_finite() => Ok(f64::from(x).trunc()),
                CmDtype::Int => Err(input_error(
                    A::CLASS_NAME,
                    format!("sample_weight {x} cannot be cast to the integer confusion matrix (dtype \"int32\")"),
                )),
            }
        };
        if w.numel() == 1 {
            let v = conv(w.data[0])?;
            return Ok(vec![v; n]);
        }
        if w.numel() == n {
            return w.data.iter().map(|&x| conv(x)).collect();
        }
        let per_id = weights_per_value(&w, ids_shape).map_err(|_| {
            input_error(
                A::CLASS_NAME,
                format!(
                    "sample_weight of shape {:?} does not fit the {n} class ids of shape {ids_shape:?}: give one \
                     weight, one per id, or a weight that broadcasts to {ids_shape:?} (e.g. one per sample)",
                    w.shape
                ),
            )
        })?;
        per_id.into_iter().map(conv).collect()
    }
}

/// Unweighted counts of `(true, pred)` pairs into a `k×k` matrix, in parallel.
fn count(ti: &[u32], pi: &[u32], k: usize) -> Vec<u64> {
    ti.par_chunks(IDS_PER_TASK)
        .zip(pi.par_chunks(IDS_PER_TASK))
        .fold(
            || vec![0u64; k * k],
            |mut cm, (t, p)| {
                for (&a, &b) in t.iter().zip(p) {
                    if a != SKIP && b != SKIP {
                        cm[a as usize * k + b as usize] += 1;
                    }
                }
                cm
            },
        )
        .reduce(
            || vec![0u64; k * k],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                a
            },
        )
}

/// Weighted sums into the matrix's exact cells (in parallel for small matrices).
fn add_weighted(cells: &mut [ExactSum], ti: &[u32], pi: &[u32], w: &[f64], k: usize) {
    let add = |cells: &mut [ExactSum], t: &[u32], p: &[u32], w: &[f64]| {
        for ((&a, &b), &x) in t.iter().zip(p).zip(w) {
            if a != SKIP && b != SKIP {
                cells[a as usize * k + b as usize].add(x);
            }
        }
    };
    if k * k > 4096 || ti.len() <= IDS_PER_TASK {
        add(cells, ti, pi, w);
        return;
    }
    let parts: Vec<Vec<ExactSum>> = ti
        .par_chunks(IDS_PER_TASK * 4)
        .zip(pi.par_chunks(IDS_PER_TASK * 4))
        .zip(w.par_chunks(IDS_PER_TASK * 4))
        .map(|((t, p), w)| {
            let mut c = vec![ExactSum::default(); k * k];
            add(&mut c, t, p, w);
            c
        })
        .collect();
    for part in parts {
        cells.iter_mut().zip(&part).for_each(|(a, b)| a.merge(b));
    }
}

impl<A: IouArgs> StatefulMetric for IouMetric<A> {
    fn class_name(&self) -> &str {
        A::CLASS_NAME
    }

    fn default_name(&self) -> String {
        A::DEFAULT_NAME.to_string()
    }

    fn config(&self) -> Map<String, Value> {
        let mut m = config::to_map(&self.args);
        m.insert("dtype".into(), Value::String(self.dtype.name().into()));
        m
    }

    fn variables(&self) -> Vec<Variable> {
        let k = self.settings.num_classes;
        vec![Variable::zeros("total_confusion_matrix", &[k, k])]
    }

    fn update(&self, state: &mut State, y_true: &DynTensor, y_pred: &DynTensor, w: Option<&DynTensor>) -> Result<()> {
        let k = self.settings.num_classes;
        let t = y_true.clone().map(|t| t.detach());
        let p = y_pred.clone().map(|p| p.detach());
        let (ti, pi, ids_shape) = self.pairs(&t, &p)?;
        let cells = &mut state.var_mut(0).cells;
        match w {
            None => {
                for (cell, n) in cells.iter_mut().zip(count(&ti, &pi, k)) {
                    cell.add_count(n);
                }
            }
            Some(w) => {
                let w = self.weights(w, &ids_shape, ti.len())?;
                add_weighted(cells, &ti, &pi, &w, k);
            }
        }
        Ok(())
    }

    fn result(&self, state: &State) -> MetricValue {
        let k = self.settings.num_classes;
        let cm = state.var(0).values();
        let (mut sum, mut valid) = (0.0, 0.0);
        for &c in &self.settings.target_class_ids {
            let tp = cm[c * k + c];
            let pred: f64 = (0..k).map(|j| cm[j * k + c]).sum();
            let truth: f64 = (0..k).map(|j| cm[c * k + j]).sum();
            let den = pred + truth - tp;
            if den > 1e-9 {
                valid += 1.0;
                sum += tp / (den + EPSILON);
            }
        }
        MetricValue::Scalar(sum / (valid + EPSILON))
    }
}

#[cfg(test)]
mod tests;
