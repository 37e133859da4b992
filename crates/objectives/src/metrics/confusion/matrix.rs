//! Keras's `metrics_utils.update_confusion_matrix_variables` (keras/src/metrics/metrics_utils.py),
//! in one pass over the values.
//!
//! Each value gets a bucket `c`: the number of thresholds (in ascending order) it is above. It is a
//! predicted positive at exactly the thresholds before `c`, so `tp[j]` is the sum of the positive
//! weights in the buckets after `j` and `fn[j]` the sum in the buckets up to `j` (likewise `fp`
//! and `tn` with the negatives): suffix and prefix sums of exact cells.
//!
//! - Thresholds that Keras finds evenly distributed take its bucket path
//!   (`_update_confusion_matrix_variables_optimized`): `y_pred` clipped to `[0, 1]`, bucket
//!   `ceil(y_pred · (T − 1)) − 1` in f32 (then `relu` when the end thresholds carry epsilons, as
//!   AUC's do), `−1` dropped.
//! - Other thresholds take its comparison path, `y_pred > threshold` in f32, found by binary
//!   search over the sorted f32 thresholds: O(N log T).

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::metrics::config::input_error;
use crate::metrics::exact::ExactSum;
use crate::metrics::host::{Host, broadcast_to};
use crate::tensor::dyn_tensor::DynTensor;

/// Keras's `metrics_utils.NEG_INF`: the threshold of a top-k metric without thresholds, and the
/// value of the predictions outside the top k.
pub(crate) const NEG_INF: f64 = -1e10;

/// `backend.epsilon()`.
pub(crate) const EPSILON: f64 = 1e-7;

/// A metric's thresholds as Keras holds them.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Thresholds {
    /// The thresholds cast to f32 (as Keras casts them), in the metric's order.
    pub values: Vec<f32>,
    /// Keras's `_thresholds_distributed_evenly`: the bucket path.
    pub evenly: bool,
    /// `thresholds_with_epsilon` (first below 0 or last above 1), read on the bucket path.
    with_epsilon: bool,
    /// `order[j]`: the index of the `j`-th smallest threshold.
    order: Vec<usize>,
    /// The thresholds in ascending order.
    sorted: Vec<f32>,
}

impl Thresholds {
    /// Thresholds given as Python floats, with Keras's evenness flag.
    pub fn new(values: &[f64], evenly: bool) -> Self {
        let with_epsilon =
            evenly && (values.first().is_some_and(|&t| t < 0.0) || values.last().is_some_and(|&t| t > 1.0));
        let values: Vec<f32> = values.iter().map(|&t| t as f32).collect();
        let mut order: Vec<usize> = (0..values.len()).collect();
        if !evenly {
            order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        }
        let sorted = order.iter().map(|&i| values[i]).collect();
        Self { values, evenly, with_epsilon, order, sorted }
    }

    /// How many thresholds.
    pub fn len(&self) -> usize {
        self.values.len()
    }
}

/// Keras's `is_evenly_distributed_thresholds`: at least 3 values, each within
/// `np.allclose(atol=1e-7)` (and numpy's default `rtol=1e-5`) of `arange(n, float32) / (n − 1)`.
pub(crate) fn is_evenly_distributed(thresholds: &[f64]) -> bool {
    let n = thresholds.len();
    if n < 3 {
        return false;
    }
    let d = (n - 1) as f32;
    thresholds.iter().enumerate().all(|(i, &t)| {
        let even = f64::from(i as f32 / d);
        (t - even).abs() <= EPSILON + 1e-5 * even.abs()
    })
}

/// Keras's `parse_init_thresholds` range check: every threshold in `[0, 1]`.
pub(crate) fn check_threshold_range(class: &str, thresholds: &[f64]) -> Result<()> {
    let bad: Vec<f64> = thresholds.iter().copied().filter(|t| !(0.0..=1.0).contains(t)).collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(crate::metrics::config::invalid(class, format!("Threshold values must be in [0, 1]. Received: {bad:?}")))
    }
}

/// The options of one `update_confusion_matrix_variables` call.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Options<'a> {
    /// Keep only the top `k` predictions of the last axis (the others become `NEG_INF`).
    pub top_k: Option<usize>,
    /// Keep only this class of the last axis (Python indexing: negative counts from the end).
    pub class_id: Option<i64>,
    /// Per-label counts (AUC's `multi_label`): `y_pred` of rank 2, variables `[T, labels]`.
    pub multi_label: bool,
    /// AUC's `label_weights` when not `multi_label`: broadcast as `[1, labels]` to `y_pred`.
    pub label_weights: Option<&'a [f32]>,
    /// Apply a sigmoid to `y_pred` first (AUC's `from_logits`).
    pub from_logits: bool,
}

/// The four counts, each `[T · labels]` row-major (`labels` is 1 unless `multi_label`).
#[derive(Clone, Debug)]
pub(crate) struct Counts {
    /// True positives.
    pub tp: Vec<ExactSum>,
    /// False positives.
    pub fp: Vec<ExactSum>,
    /// True negatives.
    pub tn: Vec<ExactSum>,
    /// False negatives.
    pub fn_: Vec<ExactSum>,
}

/// Keras's `squeeze_or_expand_to_same_rank(x1, x2)` (expand_rank_1 = True) on host arrays.
fn squeeze_or_expand(x1: &mut Host, x2: &mut Host) {
    let (r1, r2) = (x1.rank(), x2.rank());
    if r1 == r2 + 1 && x1.shape.last() == Some(&1) {
        if r2 == 1 {
            x2.shape.push(1);
        } else {
            x1.shape.pop();
        }
    }
    if r2 == r1 + 1 && x2.shape.last() == Some(&1) {
        if r1 == 1 {
            x1.shape.push(1);
        } else {
            x2.shape.pop();
        }
    }
}

fn sigmoid(x: f32) -> f32 {
    (1.0 / (1.0 + (-f64::from(x)).exp())) as f32
}

/// Keras's `_filter_top_k` over the last axis: the top `k` values stay, the others become
/// `NEG_INF`. Ties go to the lower index (`jax.lax.top_k` and `tf.math.top_k` order equal values by
/// index).
fn filter_top_k(metric: &str, p: &mut Host, k: usize) -> Result<()> {
    let m = p.shape.last().copied().unwrap_or(0);
    if p.rank() == 0 || k > m {
        return Err(input_error(
            metric,
            format!(
                "top_k={k} needs y_pred with at least {k} values on its last axis, got shape {:?}; lower top_k",
                p.shape
            ),
        ));
    }
    if m == 0 {
        return Ok(());
    }
    let mut idx: Vec<usize> = Vec::with_capacity(m);
    for row in p.data.chunks_mut(m) {
        idx.clear();
        idx.extend(0..m);
        // Descending by value, ascending by index among equal values.
        idx.sort_by(|&a, &b| row[b].total_cmp(&row[a]).then(a.cmp(&b)));
        for &i in &idx[k..] {
            row[i] = NEG_INF as f32;
        }
    }
    Ok(())
}

/// The `[..., class_id]` slice of the last axis, keeping it as an axis of 1.
fn take_class(h: &Host, class: usize) -> Host {
    let m = h.shape.last().copied().unwrap_or(1);
    let mut shape = h.shape.clone();
    if let Some(last) = shape.last_mut() {
        *last = 1;
    }
    let data = if m == 0 { vec![] } else { h.data.chunks(m).map(|row| row[class]).collect() };
    Host { shape, data }
}

/// A `sample_weight` that does not broadcast to the (prepared) predictions of shape `p`, as
/// Keras's `update_confusion_matrix_variables` broadcasts it: a weight of lower rank gets a
/// trailing axis first (so `(B,)` is one weight per row of `(B, C)`, but does not fit `(B, T, C)`:
/// numpy aligns trailing axes).
fn weight_error(metric: &str, weight: &[usize], p: &[usize], class_id: bool) -> Error {
    let what = if class_id { "y_pred's class_id column, of shape" } else { "y_pred of shape" };
    let lower = &p[..p.len().saturating_sub(1)];
    let mut per_row = vec![1; p.len().max(1)];
    per_row[0] = p.first().copied().unwrap_or(1);
    input_error(
        metric,
        format!(
            "a sample_weight of shape {weight:?} does not broadcast to {what} {p:?} (Keras gives a weight of \
             lower rank a trailing axis of 1, then broadcasts it by numpy's rules); pass a scalar, a weight of shape \
             {lower:?} (one per position), {per_row:?} (one per row), or one that broadcasts to {p:?}"
        ),
    )
}

/// Prepared inputs: `y_true != 0`, predictions, weights (f32, as Keras multiplies them).
struct Prepared {
    labels: Vec<bool>,
    preds: Vec<f32>,
    weights: Option<Vec<f32>>,
    columns: usize,
}

fn prepare(
    metric: &str,
    opts: &Options,
    y_true: &DynTensor,
    y_pred: &DynTensor,
    sample_weight: Option<&DynTensor>,
) -> Result<Prepared> {
    let mut t = Host::read(y_true)?;
    let mut p = Host::read(y_pred)?;
    if opts.from_logits {
        p.data.iter_mut().for_each(|x| *x = sigmoid(*x));
    }
    if opts.multi_label && p.rank() != 2 {
        return Err(input_error(
            metric,
            format!("`y_pred` must have rank 2 when `multi_label=True`, (samples, labels); got shape {:?}", p.shape),
        ));
    }
    squeeze_or_expand(&mut p, &mut t);
    if t.shape != p.shape {
        return Err(Error::ShapeMismatch {
            name: metric.to_string(),
            y_true: y_true.shape().to_vec(),
            y_pred: y_pred.shape().to_vec(),
        });
    }
    if let Some(pos) = p.data.iter().position(|x| x.is_nan()) {
        return Err(input_error(
            metric,
            format!("y_pred has NaN at flat index {pos} (shape {:?}); predictions must be numbers", p.shape),
        ));
    }
    // sample_weight[..., None], then squeezed back when it had y_true's rank.
    let sw = sample_weight.map(Host::read).transpose()?;
    let sw_shape = sw.as_ref().map(|w| {
        let mut s = w.shape.clone();
        if w.rank() != t.rank() {
            s.push(1);
        }
        s
    });
    if let Some(k) = opts.top_k {
        filter_top_k(metric, &mut p, k)?;
    }
    if let Some(c) = opts.class_id {
        if p.rank() < 2 {
            return Err(input_error(
                metric,
                format!(
                    "When class_id is provided, y_pred must be a 2D array with shape (num_samples, num_classes), \
                     found shape: {:?}",
                    p.shape
                ),
            ));
        }
        let m = p.shape.last().copied().unwrap_or(0) as i64;
        let i = if c < 0 { c + m } else { c };
        if i < 0 || i >= m {
            return Err(input_error(
                metric,
                format!(
                    "class_id={c} is out of range for y_pred with {m} classes on its last axis (shape {:?}); \
                     class_id must be in [0, {m})",
                    p.shape
                ),
            ));
        }
        p = take_class(&p, i as usize);
        t = take_class(&t, i as usize);
    }
    let mut weights: Option<Vec<f32>> = match (&sw, &sw_shape) {
        (Some(w), Some(shape)) => {
            let b = broadcast_to(shape, &w.data, &p.shape)
                .ok_or_else(|| weight_error(metric, &w.shape, &p.shape, opts.class_id.is_some()))?;
            Some(b.into_iter().map(|x| x as f32).collect())
        }
        _ => None,
    };
    if let Some(lw) = opts.label_weights {
        let b = broadcast_to(&[1, lw.len()], lw, &p.shape).ok_or_else(|| {
            input_error(
                metric,
                format!(
                    "label_weights of length {} do not broadcast to y_pred of shape {:?}; give one weight per label \
                     (the last axis)",
                    lw.len(),
                    p.shape
                ),
            )
        })?;
        weights = Some(match weights {
            Some(w) => w.iter().zip(&b).map(|(&a, &l)| a * l as f32).collect(),
            None => b.into_iter().map(|x| x as f32).collect(),
        });
    }
    let columns = if opts.multi_label { p.shape.last().copied().unwrap_or(1) } else { 1 };
    Ok(Prepared { labels: t.data.iter().map(|&x| x != 0.0).collect(), preds: p.data, weights, columns })
}

/// Per-bucket sums: counts when unweighted, exact sums when weighted.
struct Buckets {
    counts: Vec<u64>,
    sums: Vec<ExactSum>,
}

impl Buckets {
    fn new(n: usize, weighted: bool) -> Self {
        if weighted {
            Self { counts: vec![], sums: vec![ExactSum::default(); n] }
        } else {
            Self { counts: vec![0; n], sums: vec![] }
        }
    }

    /// Adds another chunk's buckets (same layout).
    fn add(&mut self, other: &Buckets) {
        self.counts.iter_mut().zip(&other.counts).for_each(|(a, b)| *a += b);
        self.sums.iter_mut().zip(&other.sums).for_each(|(a, b)| a.merge(b));
    }

    fn cell(&self, i: usize) -> ExactSum {
        match self.counts.get(i) {
            Some(&n) => {
                let mut s = ExactSum::default();
                s.add_count(n);
                s
            }
            None => self.sums.get(i).cloned().unwrap_or_default(),
        }
    }
}

/// Keras's `update_confusion_matrix_variables`: the four counts of one batch.
pub(crate) fn confusion_counts(
    metric: &str,
    thresholds: &Thresholds,
    opts: &Options,
    y_true: &DynTensor,
    y_pred: &DynTensor,
    sample_weight: Option<&DynTensor>,
) -> Result<Counts> {
    let prep = prepare(metric, opts, y_true, y_pred, sample_weight)?;
    let t = thresholds.len();
    let l = prep.columns.max(1);
    // Bucket c in [0, T]: a value in bucket c is positive at the (sorted) thresholds j < c.
    let nb = (t + 1) * l;
    let weighted = prep.weights.is_some();
    let scale = t as f32 - 1.0;
    let bucket = |p: f32| -> usize {
        if thresholds.evenly {
            // Keras: b = ceil(clip(p, 0, 1)·(T−1)) − 1 (max 0 with the ε end thresholds), bucket
            // b + 1. `ceil` by hand: x ≥ 0 here, and f32::ceil is a libm call on baseline x86-64.
            let x = p.clamp(0.0, 1.0) * scale;
            let i = x as usize;
            let c = if (i as f32) < x { i + 1 } else { i };
            if thresholds.with_epsilon { c.max(1) } else { c }
        } else {
            thresholds.sorted.partition_point(|&th| th < p)
        }
    };
    // One pass, in parallel over chunks of whole rows; each chunk counts into its own buckets and
    // the buckets add up exactly (integer counts, or exact sums), so the order does not matter.
    let n = prep.preds.len();
    let chunk = ((1usize << 16) / l).max(1) * l;
    let count_chunk = |ci: usize| -> (Buckets, Buckets) {
        let (start, end) = (ci * chunk, ((ci + 1) * chunk).min(n));
        let (mut pos, mut neg) = (Buckets::new(nb, weighted), Buckets::new(nb, weighted));
        let mut col = 0;
        for i in start..end {
            let cell = bucket(prep.preds[i]).min(t) * l + col;
            let side = if prep.labels[i] { &mut pos } else { &mut neg };
            match &prep.weights {
                Some(w) => side.sums[cell].add(f64::from(w[i])),
                None => side.counts[cell] += 1,
            }
            col += 1;
            if col == l {
                col = 0;
            }
        }
        (pos, neg)
    };
    let (pos, neg) = (0..n.div_ceil(chunk)).into_par_iter().map(count_chunk).reduce(
        || (Buckets::new(nb, weighted), Buckets::new(nb, weighted)),
        |(mut p1, mut n1), (p2, n2)| {
            p1.add(&p2);
            n1.add(&n2);
            (p1, n1)
        },
    );
    let mut out = Counts {
        tp: vec![ExactSum::default(); t * l],
        fp: vec![ExactSum::default(); t * l],
        tn: vec![ExactSum::default(); t * l],
        fn_: vec![ExactSum::default(); t * l],
    };
    for col in 0..l {
        // Positive at sorted threshold j: buckets c > j; negative: buckets c <= j.
        let (mut above_p, mut above_n) = (ExactSum::default(), ExactSum::default());
        for j in (0..t).rev() {
            above_p.merge(&pos.cell((j + 1) * l + col));
            above_n.merge(&neg.cell((j + 1) * l + col));
            let k = thresholds.order[j] * l + col;
            out.tp[k] = above_p.clone();
            out.fp[k] = above_n.clone();
        }
        let (mut below_p, mut below_n) = (ExactSum::default(), ExactSum::default());
        for j in 0..t {
            below_p.merge(&pos.cell(j * l + col));
            below_n.merge(&neg.cell(j * l + col));
            let k = thresholds.order[j] * l + col;
            out.fn_[k] = below_p.clone();
            out.tn[k] = below_n.clone();
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evenly_distributed_like_numpy_allclose() {
        assert!(is_evenly_distributed(&[0.0, 0.5, 1.0]));
        assert!(is_evenly_distributed(&[0.0, 0.25, 0.5, 0.75, 1.0]));
        assert!(!is_evenly_distributed(&[0.0, 1.0]));
        assert!(!is_evenly_distributed(&[0.15, 0.5, 0.85]));
        assert!(is_evenly_distributed(&[0.0, 0.5 + 5e-6, 1.0]));
        assert!(!is_evenly_distributed(&[0.0, 0.5 + 2e-5, 1.0]));
    }

    #[test]
    fn sorted_order_maps_back() {
        let th = Thresholds::new(&[0.7, 0.2, 0.5], false);
        assert_eq!(th.sorted, vec![0.2, 0.5, 0.7]);
        assert_eq!(th.order, vec![1, 2, 0]);
    }

    #[test]
    fn squeezes_and_expands_like_keras() {
        let mut p = Host::new(vec![4], vec![0.0; 4]).unwrap_or_else(|_| unreachable!());
        let mut t = Host::new(vec![4, 1], vec![0.0; 4]).unwrap_or_else(|_| unreachable!());
        squeeze_or_expand(&mut p, &mut t);
        assert_eq!((p.shape.clone(), t.shape.clone()), (vec![4, 1], vec![4, 1]));
        let mut p = Host::new(vec![2, 3, 1], vec![0.0; 6]).unwrap_or_else(|_| unreachable!());
        let mut t = Host::new(vec![2, 3], vec![0.0; 6]).unwrap_or_else(|_| unreachable!());
        squeeze_or_expand(&mut p, &mut t);
        assert_eq!((p.shape, t.shape), (vec![2, 3], vec![2, 3]));
    }
}
