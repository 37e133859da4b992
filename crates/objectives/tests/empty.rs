//! Empty batches (B = 0) and zero-size axes: results or typed errors, never a panic.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // test code: failing loudly is the point

use burn::tensor::{Device, Tensor, TensorData};
use objectives::prelude::*;

#[test]
fn empty_batch_gives_keras_results() {
    let d = Device::flex();
    let t: DynTensor = Tensor::<2>::zeros([0, 3], &d).into();
    let p = DynTensor::from_data(TensorData::new(Vec::<f32>::new(), [0, 3]), &d).unwrap();
    assert_eq!(p.shape(), &[0, 3]);
    // Keras returns the empty per-sample tensor for an empty batch.
    let l = MeanSquaredError::default().compute(&t, &p, None, None).unwrap();
    assert_eq!(l.shape(), &[0]);
    let s = MeanSquaredError::default().with_reduction(Reduction::Sum).compute(&t, &p, None, None).unwrap();
    assert_eq!(s.shape(), &[0]);
}

#[test]
fn every_loss_answers_an_empty_batch_without_panicking() {
    let d = Device::flex();
    for entry in objectives::registry::ALL_LOSSES {
        for (ts, ps) in
            [(vec![0, 3], vec![0, 3]), (vec![0], vec![0, 3]), (vec![0, 2], vec![0, 4, 3]), (vec![2, 0], vec![2, 0])]
        {
            let loss = entry.build(&Default::default()).unwrap();
            let t = DynTensor::full(&ts, 0.0, burn::tensor::FloatDType::F32, &d).unwrap();
            let p = DynTensor::full(&ps, 0.5, burn::tensor::FloatDType::F32, &d).unwrap();
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                loss.compute(&t, &p, None, None).map(|v| v.shape().to_vec())
            }));
            assert!(r.is_ok(), "{} panicked on y_true {ts:?}, y_pred {ps:?}", entry.class_name);
        }
    }
}
