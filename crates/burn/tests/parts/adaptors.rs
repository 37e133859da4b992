//! burn-train's own step outputs feed objectives' metrics and loss: what each adaptor hands over,
//! checked through a metric's value.

use burn::tensor::{Int, Tensor, TensorData};
use burn::train::metric::{Adaptor, Metric as _, Numeric};
use burn::train::{ClassificationOutput, MultiLabelClassificationOutput, RegressionOutput, SequenceOutput};
use objectives_burn::{LearnerLoss, LearnerMetric, LossItem, MetricInput};

use super::common::metadata;

fn value(json: &str, input: &MetricInput) -> f64 {
    let mut m = LearnerMetric::from_keras_json(json).unwrap();
    m.update(input, &metadata()).unwrap();
    m.value().unwrap().current()
}

#[test]
fn burn_outputs_feed_objectives_metrics() {
    let d = objectives::device::test_device();
    let loss = Tensor::<1>::from_floats([0.5], &d);
    // 3 rows, 3 classes: argmax 0, 2, 1; labels 0, 1, 1 → accuracy 2/3.
    let logits = Tensor::<2>::from_floats([[2.0, 0.0, 1.0], [0.0, 1.0, 3.0], [0.5, 2.0, 0.0]], &d);
    let labels = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 1, 1], [3]), &d);
    let c = ClassificationOutput::new(loss.clone(), logits.clone(), labels);
    let input: MetricInput = c.adapt();
    assert_eq!((input.y_true.shape(), input.y_pred.shape()), (&[3][..], &[3, 3][..]));
    assert!((value(r#""sparse_categorical_accuracy""#, &input) - 2.0 / 3.0).abs() < 1e-12);
    let item: LossItem = c.adapt();
    assert_eq!(item.rows, 3);

    let targets = Tensor::<2, Int>::from_data(TensorData::new(vec![1i64, 0, 1, 0, 1, 0, 1, 1, 0], [3, 3]), &d);
    let ml = MultiLabelClassificationOutput::new(loss.clone(), logits.clone(), targets);
    let input: MetricInput = ml.adapt();
    assert_eq!(input.y_true.to_vec_f32().unwrap(), vec![1., 0., 1., 0., 1., 0., 1., 1., 0.]);

    let r = RegressionOutput::new(loss.clone(), logits.clone(), logits.clone() + 1.0);
    let input: MetricInput = r.adapt();
    assert!((value(r#""mae""#, &input) - 1.0).abs() < 1e-6);

    let seq_logits = Tensor::<3>::from_floats([[[2.0, 0.0], [0.0, 1.0]]], &d);
    let seq_targets = Tensor::<2, Int>::from_data(TensorData::new(vec![0i64, 0], [1, 2]), &d);
    let s = SequenceOutput::new(loss.clone(), seq_logits, None, seq_targets);
    let input: MetricInput = s.adapt();
    assert_eq!((input.y_true.shape(), input.y_pred.shape()), (&[1, 2][..], &[1, 2, 2][..]));
    assert!((value(r#""sparse_categorical_accuracy""#, &input) - 0.5).abs() < 1e-12);
    let item: LossItem = s.adapt();
    let mut l = LearnerLoss::default();
    l.update(&item, &metadata()).unwrap();
    assert_eq!(l.value().unwrap().current(), 0.5);
}
