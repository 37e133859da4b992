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

use super::accuracy::{argmax_slice, without_axis};
use super::config::{self, input_error, invalid};
use super::exact::ExactSum;
use super::host::{Host, weights_per_value, with_slice};
use super::registry::{Inputs, MetricEntry};
use super::state::{State, Variable};
use super::{Metric, MetricObject, MetricValue, StatefulMetric};
use crate::dyn_tensor::DynTensor;
use crate::error::{LossError, Result};

/// Keras's `backend.epsilon()`.
const EPSILON: f64 = 1e-7;
/// A pair that does not enter the confusion matrix.
const SKIP: u32 = u32::MAX;
/// Ids per parallel counting task.
const IDS_PER_TASK: usize = 1 << 16;

/// The confusion matrix's dtype: Keras's `dtype` argument, `"int"` unless given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmDtype {
    /// Keras's default (`dtype=None` → `"int"`, int32 on JAX): weights truncated to integers.
    Int,
    /// `dtype="float32"`: fractional weights.
    Float32,
}

impl CmDtype {
    fn parse(class: &str, v: Option<&Value>) -> Result<Self> {
        let name = match v {
            None | Some(Value::Null) => return Ok(CmDtype::Int),
            Some(Value::String(s)) => s.as_str(),
            Some(Value::Object(o)) => o.get("config").and_then(|c| c.get("name")).and_then(Value::as_str).unwrap_or(""),
            Some(other) => return Err(invalid(class, format!("`dtype` must be a string, got {other}"))),
        };
        match name {
            "float32" => Ok(CmDtype::Float32),
            "int" | "int8" | "int16" | "int32" | "int64" | "uint8" | "uint16" | "uint32" | "uint64" => Ok(CmDtype::Int),
            other => Err(LossError::UnsupportedDtype(format!(
                "{other} for {class} (the confusion matrix is \"int32\", Keras's default, or \"float32\")"
            ))),
        }
    }

    fn name(self) -> &'static str {
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

mod args;
pub use args::{BinaryIoU, IoU, IouArgs, MeanIoU, OneHotIoU, OneHotMeanIoU};

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
    /// [`LossError::InvalidConfig`] naming the argument.
    pub fn new(args: A, dtype: CmDtype) -> Result<Self> {
        let class = A::CLASS_NAME;
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

    /// The metric object, with Keras's default name.
    pub fn object(self) -> MetricObject<Self> {
        MetricObject::new(self)
    }
}

macro_rules! iou_ctor {
    ($($t:ty),*) => {$(
        impl $t {
            /// The metric object (Keras's default `dtype`, "int", and name).
            ///
            /// # Errors
            /// [`LossError::InvalidConfig`] for arguments Keras refuses.
            pub fn metric(self) -> Result<MetricObject<IouMetric<Self>>> {
                Ok(IouMetric::new(self, CmDtype::Int)?.object())
            }
        }
    )*};
}

iou_ctor!(IoU, BinaryIoU, MeanIoU, OneHotIoU, OneHotMeanIoU);

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
        return Err(LossError::InvalidLabel {
            loss: name.to_string(),
            value: f64::from(data[i]),
            position: unravel(i, shape),
            classes: k,
        });
    }
    let ids = data.par_iter().map(|&v| if Some(v) == ig { SKIP } else { v as u32 }).collect();
    Ok((ids, shape.to_vec()))
}

/// The multi-index of flat position `i` in `shape`.
fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut pos = vec![0; shape.len()];
    for (d, &n) in shape.iter().enumerate().rev() {
        if n > 0 {
            pos[d] = i % n;
            i /= n;
        }
    }
    pos
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

fn build<A: IouArgs>(config: &Map<String, Value>) -> Result<Box<dyn Metric>> {
    let mut rest = config.clone();
    let dtype = CmDtype::parse(A::CLASS_NAME, rest.remove("dtype").as_ref())?;
    let (name, args) = config::split::<A>(A::CLASS_NAME, &rest)?;
    let m = IouMetric::new(args, dtype)?;
    Ok(Box::new(MetricObject::named(m, name.unwrap_or_else(|| A::DEFAULT_NAME.to_string()))))
}

fn entry<A: IouArgs>(inputs: Inputs, variants: &'static [&'static str], required: bool) -> MetricEntry {
    MetricEntry { class_name: A::CLASS_NAME, aliases: &[], inputs, variants, required, build: build::<A> }
}

/// The family's registry entries.
pub fn entries() -> Vec<MetricEntry> {
    vec![
        entry::<IoU>(
            Inputs::Labels,
            &[
                r#"{"num_classes": 3, "target_class_ids": [0, 2]}"#,
                r#"{"num_classes": 3, "target_class_ids": [1], "ignore_class": 0}"#,
                r#"{"num_classes": 3, "target_class_ids": [0, 1, 2], "dtype": "float32"}"#,
            ],
            true,
        ),
        entry::<BinaryIoU>(
            Inputs::Binary,
            &[r#"{"target_class_ids": [1], "threshold": 0.3}"#, r#"{"target_class_ids": [0, 1], "dtype": "float32"}"#],
            false,
        ),
        entry::<MeanIoU>(
            Inputs::Labels,
            &[
                r#"{"num_classes": 3}"#,
                r#"{"num_classes": 3, "ignore_class": 1}"#,
                r#"{"num_classes": 3, "dtype": "float32"}"#,
            ],
            true,
        ),
        entry::<OneHotIoU>(
            Inputs::Categorical,
            &[
                r#"{"num_classes": 3, "target_class_ids": [0, 2]}"#,
                r#"{"num_classes": 3, "target_class_ids": [1], "dtype": "float32"}"#,
            ],
            true,
        ),
        entry::<OneHotMeanIoU>(
            Inputs::Categorical,
            &[r#"{"num_classes": 3}"#, r#"{"num_classes": 3, "ignore_class": 0, "dtype": "float32"}"#],
            true,
        ),
    ]
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::device::test_device;
    use burn::tensor::TensorData;

    fn t(shape: &[usize], data: &[f32]) -> DynTensor {
        DynTensor::from_data(TensorData::new(data.to_vec(), shape.to_vec()), &test_device()).unwrap()
    }

    fn get(json: &str) -> Box<dyn Metric> {
        super::super::from_keras_json_str(json).unwrap()
    }

    #[test]
    fn keras_doc_examples() {
        let mut m = get(r#"{"class_name": "MeanIoU", "config": {"num_classes": 2, "dtype": "float32"}}"#);
        m.update_state(&t(&[4], &[0., 0., 1., 1.]), &t(&[4], &[0., 1., 0., 1.]), None).unwrap();
        assert!((m.result().scalar().unwrap() - 1.0 / 3.0).abs() < 1e-6);
        m.reset_state();
        let w = t(&[4], &[0.3, 0.3, 0.3, 0.1]);
        m.update_state(&t(&[4], &[0., 0., 1., 1.]), &t(&[4], &[0., 1., 0., 1.]), Some(&w)).unwrap();
        assert!((m.result().scalar().unwrap() - 0.23809525).abs() < 1e-6);
        // The default int dtype truncates float weights: everything is 0.
        let mut m = get(r#"{"class_name": "MeanIoU", "config": {"num_classes": 2}}"#);
        m.update_state(&t(&[4], &[0., 0., 1., 1.]), &t(&[4], &[0., 1., 0., 1.]), Some(&w)).unwrap();
        assert_eq!(m.result().scalar().unwrap(), 0.0);
        assert_eq!(m.config()["dtype"], "int32");
    }

    #[test]
    fn channels_first_equals_channels_last() {
        // (B=2, K=3, H=2) logits vs the same moved last.
        let cf: Vec<f32> = (0..12).map(|i| ((i * 7) % 5) as f32).collect();
        let mut cl = vec![0.0; 12];
        for b in 0..2 {
            for k in 0..3 {
                for h in 0..2 {
                    cl[b * 6 + h * 3 + k] = cf[b * 6 + k * 2 + h];
                }
            }
        }
        let labels = t(&[2, 2], &[1., 0., 0., 2.]);
        let mut a =
            get(r#"{"class_name": "MeanIoU", "config": {"num_classes": 3, "sparse_y_pred": false, "axis": 1}}"#);
        let mut b = get(r#"{"class_name": "MeanIoU", "config": {"num_classes": 3, "sparse_y_pred": false}}"#);
        a.update_state(&labels, &t(&[2, 3, 2], &cf), None).unwrap();
        b.update_state(&labels, &t(&[2, 2, 3], &cl), None).unwrap();
        assert_eq!(a.state(), b.state());
        assert!(a.result().scalar().unwrap() > 0.0);
    }

    #[test]
    fn bad_inputs_are_refused() {
        let mut m = get(r#"{"class_name": "MeanIoU", "config": {"num_classes": 3}}"#);
        assert!(m.update_state(&t(&[2], &[0., 1.5]), &t(&[2], &[0., 1.]), None).is_err());
        assert!(m.update_state(&t(&[3], &[0., 1., 1.]), &t(&[2], &[0., 1.]), None).is_err());
        assert!(m.update_state(&t(&[2], &[0., 1.]), &t(&[2], &[0., 1.]), Some(&t(&[3], &[1., 1., 1.]))).is_err());
        assert_eq!(m.state().var(0).values(), vec![0.0; 9]);
        assert!(
            super::super::from_keras_json_str(
                r#"{"class_name": "IoU", "config": {"num_classes": 2, "target_class_ids": [2]}}"#
            )
            .is_err()
        );
        assert!(
            super::super::from_keras_json_str(
                r#"{"class_name": "IoU", "config": {"num_classes": 2, "target_class_ids": []}}"#
            )
            .is_err()
        );
        assert!(super::super::from_keras_json_str(r#"{"class_name": "MeanIoU", "config": {}}"#).is_err());
    }

    #[test]
    fn parallel_paths_equal_sequential() {
        let (n, k) = (300_000usize, 5usize);
        let ti: Vec<u32> = (0..n).map(|i| if i % 97 == 0 { SKIP } else { ((i * 31) % k) as u32 }).collect();
        let pi: Vec<u32> = (0..n).map(|i| ((i * 17 + i / 3) % k) as u32).collect();
        let w: Vec<f64> = (0..n).map(|i| f64::from(((i * 13) % 1000) as f32 * 0.001f32)).collect();
        let mut seq = vec![ExactSum::default(); k * k];
        let mut naive = vec![0u64; k * k];
        for i in 0..n {
            if ti[i] != SKIP {
                seq[ti[i] as usize * k + pi[i] as usize].add(w[i]);
                naive[ti[i] as usize * k + pi[i] as usize] += 1;
            }
        }
        let mut par = vec![ExactSum::default(); k * k];
        add_weighted(&mut par, &ti, &pi, &w, k);
        assert_eq!(par, seq);
        assert_eq!(count(&ti, &pi, k), naive);
    }

    #[test]
    fn per_sample_weights_broadcast_over_positions() {
        let cfg = r#"{"class_name": "MeanIoU", "config": {"num_classes": 3, "dtype": "float32"}}"#;
        let (yt, yp) = (t(&[2, 2], &[0., 1., 2., 2.]), t(&[2, 2], &[0., 2., 2., 1.]));
        let mut a = get(cfg);
        let mut b = get(cfg);
        a.update_state(&yt, &yp, Some(&t(&[2], &[0.5, 2.0]))).unwrap();
        b.update_state(&yt, &yp, Some(&t(&[2, 2], &[0.5, 0.5, 2.0, 2.0]))).unwrap();
        assert_eq!(a.state(), b.state());
    }

    /// The registry's merge and reset properties on this file's families (`tests/parts/metrics.rs`
    /// checks every family the same way).
    #[test]
    fn entries_merge_reset_and_round_trip() {
        let rows = 7;
        let c = 3;
        let g = |i: usize| ((i * 7919 + 13) % 101) as f32 / 101.0;
        let entries: Vec<MetricEntry> = entries()
            .into_iter()
            .chain(super::super::f_score::entries())
            .chain(super::super::accuracy::entries())
            .collect();
        for e in &entries {
            let (tv, ts, pv, ps): (Vec<f32>, Vec<usize>, Vec<f32>, Vec<usize>) = match e.inputs {
                Inputs::Labels => (
                    (0..rows * c).map(|i| (i * 5 % 3) as f32).collect(),
                    vec![rows, c],
                    (0..rows * c).map(|i| (i * 7 % 3) as f32).collect(),
                    vec![rows, c],
                ),
                Inputs::Binary => (
                    (0..rows * c).map(|i| (i % 2) as f32).collect(),
                    vec![rows, c],
                    (0..rows * c).map(g).collect(),
                    vec![rows, c],
                ),
                Inputs::Categorical => (
                    (0..rows * c).map(|i| f32::from(u8::from(i % c == (i / c) % c))).collect(),
                    vec![rows, c],
                    (0..rows * c).map(g).collect(),
                    vec![rows, c],
                ),
                Inputs::Sparse => (
                    (0..rows).map(|i| (i % c) as f32).collect(),
                    vec![rows],
                    (0..rows * c).map(g).collect(),
                    vec![rows, c],
                ),
                other => panic!("{other:?}"),
            };
            let w: Vec<f32> = (0..rows).map(|i| 2.0 * g(i + 3)).collect();
            for config in e.configs().unwrap() {
                let what = format!("{} {:?}", e.class_name, config);
                for weighted in [false, true] {
                    let wt = |a: usize, b: usize| weighted.then(|| t(&[b - a], &w[a..b]));
                    let part = |data: &[f32], shape: &[usize], a: usize, b: usize| {
                        let per: usize = shape[1..].iter().product();
                        let mut s = shape.to_vec();
                        s[0] = b - a;
                        t(&s, &data[a * per..b * per])
                    };
                    let mut whole = e.build(&config).unwrap();
                    whole.update_state(&t(&ts, &tv), &t(&ps, &pv), wt(0, rows).as_ref()).unwrap();
                    let mut merged = e.build(&config).unwrap();
                    for (a, b) in [(3, 7), (0, 2), (2, 3)] {
                        let mut m = e.build(&config).unwrap();
                        m.update_state(&part(&tv, &ts, a, b), &part(&pv, &ps, a, b), wt(a, b).as_ref())
                            .unwrap_or_else(|err| panic!("{what}: {err}"));
                        merged.merge_state(m.state()).unwrap();
                    }
                    assert_eq!(merged.state(), whole.state(), "{what}");
                    assert_eq!(merged.result(), whole.result(), "{what}");
                    whole.reset_state();
                    assert_eq!(whole.state(), e.build(&config).unwrap().state(), "{what}");
                    let again = super::super::from_keras_json(&merged.serialize()).unwrap();
                    assert_eq!(again.config(), merged.config(), "{what}");
                }
            }
        }
    }
}
