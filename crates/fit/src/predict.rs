//! Keras's `Model.predict`: a model's outputs for inputs, computed batch by batch.

use burn::tensor::Tensor;
use objectives::DynTensor;

use crate::error::{FitError, Result};
use crate::model::Model;

/// Keras's `Model.predict`: the outputs for `x`, computed in batches and concatenated.
///
/// # Errors
/// [`FitError::Data`] if the model returns no output.
pub fn predict<const DI: usize, M: Model<DI>>(model: &M, x: &Tensor<DI>, batch_size: usize) -> Result<Vec<DynTensor>> {
    let eval_model = model.valid();
    let n = x.dims()[0];
    let mut parts: Vec<Vec<Tensor<{ objectives::MAX_RANK }>>> = vec![];
    let mut shapes: Vec<Vec<usize>> = vec![];
    let mut start = 0;
    while start < n {
        let len = batch_size.max(1).min(n - start);
        let outs = eval_model.forward(x.clone().narrow(0, start, len));
        for (i, o) in outs.into_iter().enumerate() {
            if parts.len() <= i {
                parts.push(vec![]);
                shapes.push(o.shape().to_vec());
            }
            parts[i].push(o.into_padded().detach());
        }
        start += len;
    }
    if parts.is_empty() {
        return Err(FitError::Data("predict: the model returned no outputs (or x is empty)".into()));
    }
    parts
        .into_iter()
        .zip(shapes)
        .map(|(p, mut shape)| {
            shape[0] = n;
            let d = objectives::MAX_RANK - shape.len();
            Ok(DynTensor::from_padded_checked(Tensor::cat(p, d), shape)?)
        })
        .collect()
}
