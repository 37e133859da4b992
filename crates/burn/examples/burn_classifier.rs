//! A 3-class classifier trained with burn's `SupervisedTraining`, reporting objectives' AUC, F1
//! (macro, and per class), MeanIoU and accuracy through burn-train. The step output is a struct
//! of this file's: it gives the metrics one-hot targets and softmax probabilities (what Keras's
//! AUC, F1Score and MeanIoU read) by implementing `Adaptor<MetricInput>`, and the loss through
//! `Adaptor<LossItem>`.
//!
//! Run: `cargo run --release -p objectives-burn --example burn_classifier`.

use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::{DataLoader, DataLoaderBuilder};
use burn::data::dataset::InMemDataset;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::{relu, softmax};
use burn::tensor::{Device, ExecutionError, Int, Tensor, TensorData};
use burn::train::metric::Adaptor;
use burn::train::{InferenceStep, ItemLazy, Learner, SupervisedTraining, TrainOutput, TrainStep};
use objectives::{SparseCategoricalCrossentropy, SparseCategoricalCrossentropyConfig};
use objectives_burn::{EpochLogger, LearnerLoss, LearnerMetric, LossItem, MetricInput, ObjectivesMetrics, train_loss};

const CLASSES: usize = 3;

/// Points around three centres in the plane, overlapping a little.
fn blobs(n: usize, seed: u64) -> Vec<([f32; 2], i64)> {
    let mut s = seed;
    let mut next = move || {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) as f32
    };
    let centres = [[-1.0f32, 0.0], [1.0, 0.0], [0.0, 1.5]];
    (0..n)
        .map(|i| {
            let c = i % CLASSES;
            let p = [centres[c][0] + (next() - 0.5) * 1.8, centres[c][1] + (next() - 0.5) * 1.8];
            (p, c as i64)
        })
        .collect()
}

#[derive(Clone, Debug)]
struct PointBatch {
    x: Tensor<2>,
    labels: Tensor<1, Int>,
}

#[derive(Clone)]
struct PointBatcher;

impl Batcher<([f32; 2], i64), PointBatch> for PointBatcher {
    fn batch(&self, items: Vec<([f32; 2], i64)>, device: &Device) -> PointBatch {
        let n = items.len();
        let x: Vec<f32> = items.iter().flat_map(|(p, _)| *p).collect();
        let l: Vec<i64> = items.iter().map(|(_, c)| *c).collect();
        PointBatch {
            x: Tensor::from_data(TensorData::new(x, [n, 2]), device),
            labels: Tensor::from_data(TensorData::new(l, [n]), device),
        }
    }
}

/// What a step hands to burn-train: the loss, the logits and the class ids.
struct ClassifierOutput {
    loss: Tensor<1>,
    logits: Tensor<2>,
    labels: Tensor<1, Int>,
}

impl ItemLazy for ClassifierOutput {
    fn sync(self) -> Result<Self, ExecutionError> {
        self.loss.device().flush()?;
        Ok(Self {
            loss: self.loss.without_autodiff(),
            logits: self.logits.without_autodiff(),
            labels: self.labels.without_autodiff(),
        })
    }
}

/// One-hot targets and probabilities, as Keras's AUC, F1Score and MeanIoU read them.
impl Adaptor<MetricInput> for ClassifierOutput {
    fn adapt(&self) -> MetricInput {
        let one_hot = self.labels.clone().one_hot::<2>(CLASSES).float();
        MetricInput::new(one_hot, softmax(self.logits.clone(), 1))
    }
}

impl Adaptor<LossItem> for ClassifierOutput {
    fn adapt(&self) -> LossItem {
        LossItem::new(self.loss.clone(), self.logits.dims()[0])
    }
}

#[derive(Module, Debug)]
struct Mlp {
    hidden: Linear,
    out: Linear,
}

impl Mlp {
    fn output(&self, b: PointBatch) -> ClassifierOutput {
        let logits = self.out.forward(relu(self.hidden.forward(b.x)));
        let cce = SparseCategoricalCrossentropy::new(SparseCategoricalCrossentropyConfig {
            from_logits: true,
            ..Default::default()
        });
        // burn's TrainStep has no error channel: a shape error here is a bug in this file.
        #[allow(clippy::expect_used)]
        let loss =
            train_loss(&cce, b.labels.clone().float(), logits.clone(), None, None).expect("labels and logits pair");
        ClassifierOutput { loss, logits, labels: b.labels }
    }
}

impl TrainStep for Mlp {
    type Input = PointBatch;
    type Output = ClassifierOutput;

    fn step(&self, b: PointBatch) -> TrainOutput<ClassifierOutput> {
        let out = self.output(b);
        TrainOutput::new(self, out.loss.backward(), out)
    }
}

impl InferenceStep for Mlp {
    type Input = PointBatch;
    type Output = ClassifierOutput;

    fn step(&self, b: PointBatch) -> ClassifierOutput {
        self.output(b)
    }
}

fn loader(data: Vec<([f32; 2], i64)>) -> Arc<dyn DataLoader<PointBatch>> {
    DataLoaderBuilder::new(PointBatcher).batch_size(32).shuffle(3).build(InMemDataset::new(data))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let device = Device::flex().autodiff();
    device.seed(1);
    let artifacts = std::env::temp_dir().join("objectives-burn-classifier");
    let f1 = LearnerMetric::from_keras_json(r#"{"class_name": "F1Score", "config": {"average": null}}"#)?;
    let mut metrics = vec![
        LearnerMetric::from_keras_json(r#"{"class_name": "AUC", "config": {}}"#)?,
        LearnerMetric::from_keras_json(r#"{"class_name": "F1Score", "config": {"average": "macro"}}"#)?,
        LearnerMetric::from_keras_json(
            r#"{"class_name": "MeanIoU", "config": {"num_classes": 3, "sparse_y_true": false, "sparse_y_pred": false}}"#,
        )?,
        LearnerMetric::from_keras_json(r#""categorical_accuracy""#)?,
    ];
    metrics.extend(f1.per_class(CLASSES));
    let (logger, values) = EpochLogger::new();
    let training = SupervisedTraining::new(&artifacts, loader(blobs(600, 1)), loader(blobs(150, 2)))
        .num_epochs(8)
        .with_metric_logger(logger)
        .objectives_loss(LearnerLoss::default())
        .objectives_metrics(metrics)
        .summary();
    let model =
        Mlp { hidden: LinearConfig::new(2, 16).init(&device), out: LinearConfig::new(16, CLASSES).init(&device) };
    let result = training.launch(Learner::new(model, burn::optim::AdamConfig::new().init(), 1e-2));
    if let Some(e) = result.error {
        return Err(format!("training stopped: {e}").into());
    }

    let history = values.history();
    for (key, v) in history.iter().filter(|(k, _)| k.starts_with("val_")) {
        println!("{key:<40} {}", v.iter().map(|x| format!("{x:.4}")).collect::<Vec<_>>().join(" → "));
    }
    let auc = history.get("val_auc").and_then(|v| v.last().copied()).unwrap_or(0.0);
    if auc < 0.8 {
        return Err(format!("validation AUC {auc:.4} after 8 epochs (expected above 0.8)").into());
    }
    Ok(())
}
