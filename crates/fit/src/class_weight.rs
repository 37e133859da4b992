//! Keras's `class_weight` (`keras/src/trainers/data_adapters/data_adapter_utils.py`,
//! `class_weight_to_sample_weights`): one weight per training sample, looked up by the sample's
//! class.
//!
//! The class of a sample is `argmax` of its target's last axis when that axis is wider than 1
//! (one-hot or probabilities), else the target rounded half to even (`np.round`) — for targets
//! of shape `(N,)` or `(N, 1)`. A class missing from the map weighs 1.0; the weights are float32.
//! As in Keras, class weights apply to the **training** samples only (after `validation_split`),
//! a model with several outputs cannot use them, and they cannot be combined with sample
//! weights.

use std::collections::BTreeMap;

use burn::tensor::{Device, TensorData};
use objectives::DynTensor;

use crate::error::{FitError, Result};

/// The per-sample weights of targets `y` (`(N,)`, `(N, 1)` or `(N, C)`) under `class_weight`.
///
/// # Errors
/// [`FitError::Config`] for targets of another rank, a NaN target, or (one-hot targets) a class
/// id in `class_weight` that is not a column of the targets.
pub fn class_weights_for(y: &DynTensor, class_weight: &BTreeMap<usize, f64>) -> Result<Vec<f32>> {
    let shape = y.shape().to_vec();
    let (n, per) = match shape.as_slice() {
        [n] => (*n, 1),
        [n, c] => (*n, *c),
        _ => {
            return Err(FitError::Config(format!(
                "class_weight needs targets of shape (N,), (N, 1) or (N, C), but they have shape {shape:?} \
                 (as in Keras); for per-timestep or per-position weights, pass a sample_weight of that shape instead"
            )));
        }
    };
    if per > 1
        && let Some((&k, _)) = class_weight.range(per..).next()
    {
        return Err(FitError::Config(format!(
            "class_weight has class {k}, but the targets have {per} classes (one-hot, shape {shape:?}): \
             class ids must be in [0, {per})"
        )));
    }
    if n == 0 || per == 0 {
        return Ok(vec![1.0; n]);
    }
    let values = y.to_vec_f64()?;
    let mut weights = Vec::with_capacity(n);
    for (i, row) in values.chunks(per).enumerate() {
        let class = if per > 1 {
            // np.argmax: the first maximum; a NaN is the maximum wherever it is.
            let mut best = 0;
            for (j, &v) in row.iter().enumerate() {
                if v.is_nan() {
                    best = j;
                    break;
                }
                if v > row[best] {
                    best = j;
                }
            }
            best as i64
        } else {
            let v = row[0];
            if !v.is_finite() {
                return Err(FitError::Config(format!("class_weight: the target of sample {i} is {v}, not a class id")));
            }
            // np.round (half to even), then astype(int32).
            v.round_ties_even() as i64
        };
        let w = usize::try_from(class).ok().and_then(|c| class_weight.get(&c)).copied().unwrap_or(1.0);
        weights.push(w as f32);
    }
    Ok(weights)
}

/// Checks that `class_weight` can apply to data with these targets and sample weights (Keras's
/// `ArrayDataAdapter` rules).
///
/// # Errors
/// [`FitError::Config`] with several outputs or when sample weights are given too.
pub(crate) fn check_applicable(outputs: usize, has_sample_weight: bool) -> Result<()> {
    if outputs != 1 {
        return Err(FitError::Config(format!(
            "class_weight is only supported for models with a single output (as in Keras), but the data has \
             {outputs} targets; give per-output sample_weight instead"
        )));
    }
    if has_sample_weight {
        return Err(FitError::Config(
            "you cannot give class_weight and sample_weight at the same time (as in Keras); fold the class \
             weights into the sample weights instead"
                .into(),
        ));
    }
    Ok(())
}

/// `weights` as one `(N,)` float32 sample-weight tensor on `device`.
pub(crate) fn to_tensor(weights: Vec<f32>, device: &Device) -> Result<DynTensor> {
    let n = weights.len();
    Ok(DynTensor::from_data(TensorData::new(weights, [n]), device)?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use burn::tensor::Tensor;

    fn cw() -> BTreeMap<usize, f64> {
        [(0, 0.5), (1, 2.0), (2, 3.0)].into()
    }

    #[test]
    fn sparse_labels_round_half_to_even_as_numpy() {
        let d = Device::flex();
        // np.round: 0.5 → 0, 1.5 → 2, 2.5 → 2, -0.4 → -0 (class 0), 7 → missing (1.0), -1 → 1.0.
        let y: DynTensor = Tensor::<1>::from_floats([0.5, 1.5, 2.5, -0.4, 7.0, -1.0, 1.0], &d).into();
        assert_eq!(class_weights_for(&y, &cw()).unwrap(), vec![0.5, 3.0, 3.0, 0.5, 1.0, 1.0, 2.0]);
        let col: DynTensor = Tensor::<2>::from_floats([[1.0], [0.0]], &d).into();
        assert_eq!(class_weights_for(&col, &cw()).unwrap(), vec![2.0, 0.5]);
    }

    #[test]
    fn one_hot_takes_the_first_maximum() {
        let d = Device::flex();
        let y: DynTensor = Tensor::<2>::from_floats([[0., 1., 0.], [0.2, 0.2, 0.1], [0., 0., 1.]], &d).into();
        assert_eq!(class_weights_for(&y, &cw()).unwrap(), vec![2.0, 0.5, 3.0]);
    }

    #[test]
    fn refusals_name_the_problem() {
        let d = Device::flex();
        let y: DynTensor = Tensor::<2>::from_floats([[0., 1.], [1., 0.]], &d).into();
        let e = class_weights_for(&y, &cw()).unwrap_err().to_string();
        assert!(e.contains("class 2") && e.contains("[0, 2)"), "{e}");
        let seq: DynTensor = Tensor::<3>::zeros([2, 3, 2], &d).into();
        assert!(class_weights_for(&seq, &cw()).unwrap_err().to_string().contains("(N, C)"));
        let nan: DynTensor = Tensor::<1>::from_floats([0.0, f32::NAN], &d).into();
        assert!(class_weights_for(&nan, &cw()).unwrap_err().to_string().contains("sample 1"));
        assert!(check_applicable(2, false).unwrap_err().to_string().contains("single output"));
        assert!(check_applicable(1, true).unwrap_err().to_string().contains("sample_weight"));
    }
}
