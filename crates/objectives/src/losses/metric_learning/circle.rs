//! Circle loss (metric learning on L2-normalised embeddings).

use burn::tensor::{Bool, Int, Tensor};
use serde::{Deserialize, Serialize};

use crate::DynTensor;
use crate::error::{Error, Result};
use crate::losses::loss::LossValues;
use crate::losses::wrapper::{LossFunctionWrapper, is_last_axis, keras_loss_fn, last_axis};
use crate::tensor::dyn_tensor::padded;
use crate::tensor::math::softplus;
use crate::tensor::shape::dtype_of;

const NAME: &str = "circle";

/// Arguments of [`circle`]: Keras's `gamma`, `margin` and `remove_diagonal`, plus objectives'
/// `axis` (the embedding axis of `y_pred`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CircleConfig {
    /// The scale γ of every similarity score (default 80).
    pub gamma: f64,
    /// The relaxation margin m (default 0.4).
    pub margin: f64,
    /// Whether an embedding is left out of its own positives (default `true`): entry `(i, i)` of
    /// the positive mask is cleared.
    pub remove_diagonal: bool,
    /// The embedding axis of `y_pred` (default -1): `-1` or `1` for `(batch, dim)` embeddings,
    /// `0` or `-2` for `(dim, batch)`.
    #[serde(skip_serializing_if = "is_last_axis")]
    pub axis: i64,
}

impl Default for CircleConfig {
    fn default() -> Self {
        Self { gamma: 80.0, margin: 0.4, remove_diagonal: true, axis: last_axis() }
    }
}

/// Circle loss, unreduced: pulls each embedding towards the references that share its label
/// and pushes it away from the others, weighting every pair by how far it is from its optimum
/// (Sun et al., 2020, on cosine distances).
///
/// `y_true` holds integer labels (truncated towards zero, as Keras's cast to `int32`), `y_pred`
/// L2-normalised embeddings. The references are the batch itself; [`circle_with_refs`] takes
/// others. With `γ` (`gamma`), `m` (`margin`), embeddings `e`, references `r`:
/// ```text
/// D[i,j]   = max(1 − e_i·r_j, 0)                                  cosine distance, (B, R)
/// pos[i,j] = label_i == ref_label_j  (and i ≠ j if remove_diagonal)
/// neg[i,j] = label_i != ref_label_j
/// wp = max(m + D, 0),   wn = max(1 + m − D, 0)
/// P_i = logsumexp_{j: pos[i,j]} (−γ·wp·(m − D))
/// N_i = logsumexp_{j: neg[i,j]} ( γ·wn·(1 − m − D))
/// loss_i = softplus(P_i + N_i)      (0 when row i has no positive or no negative)
/// mask_i = loss_i > 0
/// ```
/// The returned [`LossValues::mask`] is Keras's mask on the loss (`loss > 0`), so the default
/// reduction averages over the rows that have a positive loss. A row with no positive or no
/// negative gives exactly 0, as in Keras (whose `logsumexp` over an empty row is −∞), with zero,
/// finite gradients.
/// # Shapes
/// `y_true`: `[batch]` or `[batch, 1]`; `y_pred`: `[batch, dim]` (or `[dim, batch]` with
/// `axis = 0`) → `[batch]`.
/// # Errors
/// [`Error::InvalidConfig`] naming the shapes if `y_pred` is not rank 2 or `y_true` does not
/// hold one label per embedding, or if `gamma` or `margin` is not finite;
/// [`Error::AxisOutOfRange`] for an axis outside `[-2, 2)`.
/// # Example
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// let labels = Tensor::<1>::from_floats([0., 0., 1., 1.], &d);
/// let s = 0.5f32.sqrt();
/// let emb = Tensor::<2>::from_floats([[1., 0.], [s, s], [0., 1.], [-s, s]], &d);
/// let per_sample = circle(labels.clone(), emb.clone(), &Default::default())?;
/// assert_eq!(per_sample.values.shape(), &[4]);
/// let loss = Circle::default().call(&labels, &emb, None)?.into_scalar::<f32>()?;
/// assert!(loss > 0.0 && loss.is_finite());
/// # Ok::<(), objectives::Error>(())
/// ```
/// Matches `keras.losses.circle` (3.x).
pub fn circle(y_true: impl Into<DynTensor>, y_pred: impl Into<DynTensor>, config: &CircleConfig) -> Result<LossValues> {
    let (y_true, y_pred): (DynTensor, DynTensor) = (y_true.into(), y_pred.into());
    let (y_true, y_pred) = (&y_true, &y_pred);
    circle_impl(y_true, y_pred, None, config)
}

/// [`circle`] against reference embeddings other than the batch (Keras's `ref_labels` and
/// `ref_embeddings`).
///
/// `ref_labels` is `[refs]` or `[refs, 1]`; `ref_embeddings` has the layout of `y_pred` (so
/// `[refs, dim]` with the default axis). With `remove_diagonal`, entry `(i, i)` of the positive
/// mask is still cleared, as Keras does.
/// # Errors
/// As [`circle`], and [`Error::InvalidConfig`] if the references' shapes do not agree with
/// each other or with `y_pred`'s embedding size.
/// # Example
/// ```
/// use objectives::prelude::*;
/// let d = Device::flex();
/// let labels: DynTensor = Tensor::<1>::from_floats([0., 1.], &d).into();
/// let emb: DynTensor = Tensor::<2>::from_floats([[1., 0.], [0., 1.]], &d).into();
/// let ref_labels: DynTensor = Tensor::<1>::from_floats([0., 1., 0.], &d).into();
/// let refs: DynTensor = Tensor::<2>::from_floats([[0.8, 0.6], [0.6, 0.8], [0., 1.]], &d).into();
/// let config = CircleConfig { remove_diagonal: false, ..Default::default() };
/// let l = objectives::metric_learning::circle::circle_with_refs(&labels, &emb, &ref_labels, &refs, &config)?;
/// assert_eq!(l.values.shape(), &[2]);
/// # Ok::<(), objectives::Error>(())
/// ```
pub fn circle_with_refs(
    y_true: impl Into<DynTensor>,
    y_pred: impl Into<DynTensor>,
    ref_labels: impl Into<DynTensor>,
    ref_embeddings: impl Into<DynTensor>,
    config: &CircleConfig,
) -> Result<LossValues> {
    let (y_true, y_pred, ref_labels, ref_embeddings): (DynTensor, DynTensor, DynTensor, DynTensor) =
        (y_true.into(), y_pred.into(), ref_labels.into(), ref_embeddings.into());
    let (y_true, y_pred, ref_labels, ref_embeddings) = (&y_true, &y_pred, &ref_labels, &ref_embeddings);
    circle_impl(y_true, y_pred, Some((ref_labels, ref_embeddings)), config)
}

fn invalid(message: String) -> Error {
    Error::InvalidConfig { name: NAME.to_string(), message }
}

/// `(n, dim)` of the embeddings `x`, and whether they are laid out `(dim, n)` (`axis` 0).
fn embedding_dims(what: &str, x: &DynTensor, axis: i64) -> Result<(usize, usize, bool)> {
    if x.rank() != 2 {
        return Err(invalid(format!(
            "{what} must be a rank-2 tensor of embeddings, (batch, dim) for axis -1 or (dim, batch) for \
             axis 0, got shape {:?}",
            x.shape()
        )));
    }
    let axis = x.normalize_axis(NAME, axis)?;
    let (n, dim) = if axis == 0 { (x.shape()[1], x.shape()[0]) } else { (x.shape()[0], x.shape()[1]) };
    Ok((n, dim, axis == 0))
}

/// Checks that `x` holds `n` labels, as `[n]` or `[n, 1]`.
fn check_labels(what: &str, x: &DynTensor, n: usize, of: &str, of_shape: &[usize]) -> Result<()> {
    match x.shape() {
        [b] | [b, 1] if *b == n => Ok(()),
        _ => Err(invalid(format!(
            "{what} of shape {:?} must hold one integer label per embedding of {of} (shape {of_shape:?}): \
             pass shape [{n}] or [{n}, 1]",
            x.shape()
        ))),
    }
}

/// Row-wise `logsumexp` over the entries where `mask` is set, as `(rows, 1)`, and whether the
/// row has no such entry (where Keras's `logsumexp` gives −∞; here the value is 0, for the caller
/// to mask). The masked-out entries get no gradient, so every gradient is finite.
fn masked_logsumexp(x: Tensor<2>, mask: Tensor<2, Bool>) -> (Tensor<2>, Tensor<2, Bool>) {
    let off = mask.clone().bool_not();
    let empty = mask.any_dim(1).bool_not();
    let max = x.clone().mask_fill(off.clone(), f32::MIN).max_dim(1).mask_fill(empty.clone(), 0.0).detach();
    let sum = x.sub(max.clone()).mask_fill(off.clone(), 0.0).exp().mask_fill(off, 0.0).sum_dim(1);
    let sum = sum.mask_fill(empty.clone(), 1.0);
    (max.add(sum.log()), empty)
}

fn circle_impl(
    y_true: &DynTensor,
    y_pred: &DynTensor,
    refs: Option<(&DynTensor, &DynTensor)>,
    config: &CircleConfig,
) -> Result<LossValues> {
    let (gamma, margin) = (config.gamma, config.margin);
    if !gamma.is_finite() || !margin.is_finite() {
        return Err(Error::InvalidConfig {
            name: "Circle".into(),
            message: format!("gamma and margin must be finite numbers, got gamma {gamma} and margin {margin}"),
        });
    }
    let dtype = dtype_of(y_pred);
    let (b, dim, transposed) = embedding_dims("y_pred", y_pred, config.axis)?;
    check_labels("y_true", y_true, b, "y_pred", y_pred.shape())?;
    let (r, refs) = match refs {
        None => (b, None),
        Some((ref_labels, ref_embeddings)) => {
            let (r, ref_dim, _) = embedding_dims("ref_embeddings", ref_embeddings, config.axis)?;
            if ref_dim != dim {
                return Err(invalid(format!(
                    "ref_embeddings of shape {:?} have embeddings of size {ref_dim} but y_pred of shape {:?} has \
                     size {dim}",
                    ref_embeddings.shape(),
                    y_pred.shape()
                )));
            }
            check_labels("ref_labels", ref_labels, r, "ref_embeddings", ref_embeddings.shape())?;
            (r, Some((ref_labels, ref_embeddings)))
        }
    };
    let device = y_pred.device();
    if b == 0 || r == 0 {
        // No pairs: every row lacks positives and negatives, so every loss is 0 and masked out.
        let zeros = DynTensor::full(&[b], 0.0, dtype, &device)?;
        return Ok(LossValues { values: zeros.clone(), mask: Some(zeros) });
    }

    // Labels as (n, 1), truncated towards zero (Keras casts them to int32).
    let labels = |x: &DynTensor, n: usize| -> Result<Tensor<2>> {
        Ok(x.clone().cast(dtype).reshape(vec![n, 1]).into_tensor::<2>()?.trunc())
    };
    // Embeddings as (n, dim).
    let embeddings = |x: &DynTensor| -> Result<Tensor<2>> {
        let t = x.clone().cast(dtype).into_tensor::<2>()?;
        Ok(if transposed { t.transpose() } else { t })
    };
    let lab = labels(y_true, b)?;
    let ref_lab = match refs {
        None => lab.clone(),
        Some((ref_labels, _)) => labels(ref_labels, r)?,
    };
    let dist = if dim == 0 {
        // Empty embeddings: every dot product is 0.
        DynTensor::full(&[b, r], 1.0, dtype, &device)?.into_tensor::<2>()?
    } else {
        let emb = embeddings(y_pred)?;
        let ref_emb = match refs {
            None => emb.clone(),
            Some((_, ref_embeddings)) => embeddings(ref_embeddings)?,
        };
        emb.matmul(ref_emb.transpose()).neg().add_scalar(1.0).clamp_min(0.0)
    };
    let same = lab.expand([b, r]).equal(ref_lab.transpose().expand([b, r]));
    let mut pos = same.clone();
    if config.remove_diagonal {
        let rows = Tensor::<1, Int>::arange(0..b as i64, &device).reshape([b, 1]).expand([b, r]);
        let cols = Tensor::<1, Int>::arange(0..r as i64, &device).reshape([1, r]).expand([b, r]);
        pos = pos.bool_and(rows.equal(cols).bool_not());
    }
    let neg = same.bool_not();

    let pos_weights = dist.clone().add_scalar(margin).mask_fill(pos.clone().bool_not(), 0.0).clamp_min(0.0);
    let neg_weights = dist.clone().neg().add_scalar(1.0 + margin).mask_fill(neg.clone().bool_not(), 0.0).clamp_min(0.0);
    let pos_logits = pos_weights.mul(dist.clone().neg().add_scalar(margin)).mul_scalar(-gamma);
    let neg_logits = neg_weights.mul(dist.neg().add_scalar(1.0 - margin)).mul_scalar(gamma);
    let (p, p_empty) = masked_logsumexp(pos_logits, pos);
    let (n, n_empty) = masked_logsumexp(neg_logits, neg);
    let empty = p_empty.bool_or(n_empty).reshape(padded(&[b]));

    let values = DynTensor::from(p.add(n).reshape([b])).map(|z| softplus(z).mask_fill(empty, 0.0));
    let mask = values.clone().map(|v| v.clone().zeros_like().mask_fill(v.greater_elem(0.0), 1.0));
    Ok(LossValues { values, mask: Some(mask) })
}

keras_loss_fn!(CircleConfig, "Circle", "circle", circle);

/// `keras.losses.Circle`: [`circle`] plus a [`crate::Reduction`].
pub type Circle = LossFunctionWrapper<CircleConfig>;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

    use burn::tensor::{DType, Device, FloatDType, Tensor, TensorData};

    use super::*;
    use crate::losses::loss::{Loss, LossExt};

    const CY: [f64; 5] = [1., 1., 2., 2., 3.];
    const CP: [[f64; 4]; 5] = [
        [0.70014, -0.420084, 0.140028, 0.560112],
        [0.1760902, 0.7043607, -0.5282705, 0.4402255],
        [-0.3405026, 0.255377, -0.6810052, 0.5958796],
        [0.3216338, -0.7504788, 0.5360563, -0.2144225],
        [0.5126146, -0.3417431, 0.1708715, 0.7689219],
    ];

    fn t1(v: &[f64], device: &Device) -> Tensor<1> {
        Tensor::<1>::from_data(TensorData::new(v.to_vec(), [v.len()]), (device, DType::F64))
    }

    fn t2(v: &[f64], shape: [usize; 2], device: &Device) -> Tensor<2> {
        Tensor::<2>::from_data(TensorData::new(v.to_vec(), shape), (device, DType::F64))
    }

    fn cp_flat() -> Vec<f64> {
        CP.iter().flatten().copied().collect()
    }

    #[test]
    fn keras_conformance_value() -> Result<()> {
        // CircleTest.test_correctness: row 4 (label 3) has no positive, so loss 0 and masked
        // out; the default reduction averages the other four.
        let d = crate::backend::test_device();
        let loss = Circle::default().call(t1(&CY, &d), t2(&cp_flat(), [5, 4], &d), None)?;
        let got = loss.into_scalar::<f32>()?;
        assert!((got - 188.3883).abs() < 1.5e-3 * 188.4, "{got}");
        Ok(())
    }

    #[test]
    fn transposed_layout_matches() -> Result<()> {
        let d = crate::backend::test_device();
        let y = DynTensor::from(t1(&CY, &d));
        let p = t2(&cp_flat(), [5, 4], &d);
        let a = circle(&y, p.clone(), &CircleConfig::default())?.values.to_vec_f64()?;
        let config = CircleConfig { axis: 0, ..Default::default() };
        let b = circle(&y, p.transpose(), &config)?.values.to_vec_f64()?;
        assert_eq!(a, b);
        assert_eq!(a[4], 0.0);
        Ok(())
    }

    /// Central finite differences of `Σ w·loss` against autodiff, in f64, for both `y_pred` and
    /// the reference embeddings.
    #[test]
    fn gradient_matches_finite_differences() -> Result<()> {
        let Some(ad) = crate::testing::f64_device("gradient_matches_finite_differences") else {
            return Ok(());
        };
        let ad = ad.autodiff();
        let cpu = crate::backend::test_device();
        // A ref set with an extra label (4) and rows without positives or negatives in refs.
        let labels = [1., 1., 2., 2., 3.];
        let ref_labels = [1., 2., 2., 3., 4., 1.];
        let emb = cp_flat();
        let refs: Vec<f64> = (0..24).map(|i| ((i * 7 % 11) as f64 - 5.0) / 7.0).collect();
        let config = CircleConfig { gamma: 8.0, margin: 0.25, remove_diagonal: true, axis: -1 };
        let w = [0.7, 1.9, 1.0, 0.4, 1.3];
        let total = |e: &[f64], r: &[f64], device: &Device| -> Result<f64> {
            let l = circle_with_refs(
                t1(&labels, device),
                t2(e, [5, 4], device),
                t1(&ref_labels, device),
                t2(r, [6, 4], device),
                &config,
            )?;
            let v = l.values.to_vec_f64()?;
            Ok(v.iter().zip(w).map(|(a, b)| a * b).sum())
        };
        let e = t2(&emb, [5, 4], &ad).require_grad();
        let r = t2(&refs, [6, 4], &ad).require_grad();
        let l = circle_with_refs(t1(&labels, &ad), &e, t1(&ref_labels, &ad), &r, &config)?;
        let weighted = l.values.into_tensor::<1>()?.mul(t1(&w, &ad)).sum();
        let grads = weighted.backward();
        let ge = e.grad(&grads).expect("grad").into_data().convert::<f64>().try_to_vec::<f64>().unwrap();
        let gr = r.grad(&grads).expect("grad").into_data().convert::<f64>().try_to_vec::<f64>().unwrap();
        let h = 1e-6;
        for (i, g) in ge.iter().enumerate() {
            let (mut up, mut down) = (emb.clone(), emb.clone());
            up[i] += h;
            down[i] -= h;
            let fd = (total(&up, &refs, &cpu)? - total(&down, &refs, &cpu)?) / (2.0 * h);
            assert!((g - fd).abs() <= 1e-6 * (1.0 + fd.abs()), "d/dy_pred[{i}]: autodiff {g} vs fd {fd}");
        }
        for (i, g) in gr.iter().enumerate() {
            let (mut up, mut down) = (refs.clone(), refs.clone());
            up[i] += h;
            down[i] -= h;
            let fd = (total(&emb, &up, &cpu)? - total(&emb, &down, &cpu)?) / (2.0 * h);
            assert!((g - fd).abs() <= 1e-6 * (1.0 + fd.abs()), "d/dref[{i}]: autodiff {g} vs fd {fd}");
        }
        Ok(())
    }

    #[test]
    fn rows_without_positives_or_negatives_have_finite_zero_gradients() -> Result<()> {
        let Some(ad) = crate::testing::f64_device("rows_without_positives_or_negatives_have_finite_zero_gradients")
        else {
            return Ok(());
        };
        let ad = ad.autodiff();
        // Row 2 (label 7) has no positive; rows 0 and 1 have one positive and one negative.
        // With only label 5 (second case), no row has a negative and the whole loss is 0.
        for labels in [[5., 5., 7.], [5., 5., 5.]] {
            let p = t2(&cp_flat()[..12], [3, 4], &ad).require_grad();
            let loss = Circle::default().with_dtype(FloatDType::F64);
            let l = loss.call(t1(&labels, &ad), &p, None)?;
            let v = l.clone().into_scalar::<f64>()?;
            assert!(v.is_finite(), "{v}");
            let grads = l.into_padded().backward();
            let g = p.grad(&grads).expect("grad").into_data().convert::<f64>().try_to_vec::<f64>().unwrap();
            assert!(g.iter().all(|x| x.is_finite()), "{g:?}");
            if labels[2] == 5. {
                assert_eq!(v, 0.0);
                assert!(g.iter().all(|x| *x == 0.0), "{g:?}");
            }
            // Row 2's own loss is 0, masked out, and sends no gradient anywhere.
            let p = t2(&cp_flat()[..12], [3, 4], &ad).require_grad();
            let per = circle(t1(&labels, &ad), &p, &Default::default())?;
            assert_eq!(per.mask.expect("mask").to_vec_f64()?[2], 0.0);
            let row2 = per.values.into_tensor::<1>()?.slice(2..3);
            assert_eq!(row2.clone().into_scalar::<f64>(), 0.0);
            let g = p.grad(&row2.sum().backward()).expect("grad");
            let g = g.into_data().convert::<f64>().try_to_vec::<f64>().unwrap();
            assert!(g.iter().all(|x| *x == 0.0), "{g:?}");
        }
        Ok(())
    }

    #[test]
    fn bad_inputs_are_refused() {
        let d = crate::backend::test_device();
        let y: DynTensor = t1(&CY, &d).into();
        let p: DynTensor = t2(&cp_flat(), [5, 4], &d).into();
        let c = CircleConfig::default();
        let msg = |e: Error| e.to_string();
        // y_pred not rank 2.
        let e = circle(&y, t1(&[1., 2., 3., 4., 5.], &d), &c).unwrap_err();
        assert!(msg(e).contains("[5]"));
        // Label count differs from the batch.
        let e = circle(t1(&[1., 2., 3.], &d), &p, &c).unwrap_err();
        assert!(msg(e).contains("[3]") && msg(circle(t1(&[1.], &d), &p, &c).unwrap_err()).contains("[5, 4]"));
        // (B, 1) labels are accepted, (1, B) are not.
        assert!(circle(t2(&CY, [5, 1], &d), &p, &c).is_ok());
        assert!(circle(t2(&CY, [1, 5], &d), &p, &c).is_err());
        // Axis out of range.
        let e = circle(&y, &p, &CircleConfig { axis: 2, ..Default::default() }).unwrap_err();
        assert!(matches!(e, Error::AxisOutOfRange { .. }), "{e}");
        // Non-finite gamma.
        assert!(circle(&y, &p, &CircleConfig { gamma: f64::NAN, ..Default::default() }).is_err());
        // References inconsistent with each other or with y_pred.
        let rl: DynTensor = t1(&[1., 2.], &d).into();
        let re3: DynTensor = t2(&[0.0; 6], [2, 3], &d).into();
        let e = circle_with_refs(&y, &p, &rl, &re3, &c).unwrap_err();
        assert!(msg(e).contains("[2, 3]"));
        let re: DynTensor = t2(&[0.0; 12], [3, 4], &d).into();
        let e = circle_with_refs(&y, &p, &rl, &re, &c).unwrap_err();
        assert!(msg(e).contains("ref_labels"));
    }

    #[test]
    fn empty_inputs_give_no_losses() -> Result<()> {
        let d = crate::backend::test_device();
        let data = |shape: Vec<usize>| DynTensor::from_data(TensorData::new(Vec::<f32>::new(), shape), &d);
        let l = circle(&data(vec![0])?, &data(vec![0, 4])?, &CircleConfig::default())?;
        assert_eq!(l.values.shape(), &[0]);
        // No references: no pairs, so zero losses.
        let l = circle_with_refs(
            t1(&CY, &d),
            t2(&cp_flat(), [5, 4], &d),
            &data(vec![0])?,
            &data(vec![0, 4])?,
            &CircleConfig::default(),
        )?;
        assert_eq!(l.values.to_vec_f64()?, vec![0.0; 5]);
        // Zero-size embeddings: every distance is 1.
        let l = circle(t1(&[1., 1., 2.], &d), &data(vec![3, 0])?, &CircleConfig::default())?;
        // Rows 0 and 1: softplus(80·1.4·0.6 − 80·0.4·0.4) = 54.4; row 2 has no positive.
        let v = l.values.to_vec_f32()?;
        assert!((v[0] - 54.4).abs() < 1e-4 && v[0] == v[1] && v[2] == 0.0, "{v:?}");
        Ok(())
    }

    #[test]
    fn config_round_trips_and_hides_default_axis() -> Result<()> {
        let json = Circle::default().to_keras_json();
        assert_eq!(json["config"]["gamma"], 80.0);
        assert_eq!(json["config"]["remove_diagonal"], true);
        assert!(json["config"].get("axis").is_none());
        let c = CircleConfig { axis: 0, ..Default::default() };
        assert_eq!(Circle::new(c).to_keras_json()["config"]["axis"], 0);
        Ok(())
    }
}
