//! A whole Keras 3.15.1 training run, re-run with burn-train's `SupervisedTraining`, objectives'
//! loss in the `TrainStep` and objectives' metrics in the `Learner`: History and final weights
//! equal Keras's. The run is objectives-fit's `14c_msle.json` (crates/fit/tests/keras_runs, its
//! Keras code inside): Dense(6, tanh) → Dense(2, relu), MeanSquaredLogarithmicError, per-sample
//! weights, `weighted_metrics=["mae"]`, SGD(0.3), batches of 4 over 14 training rows (the last
//! one partial), `validation_split=0.25`, 3 epochs, no shuffling.

use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::{DataLoader, DataLoaderBuilder};
use burn::data::dataset::InMemDataset;
use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::{relu, tanh};
use burn::tensor::{Device, Tensor, TensorData};
use burn::train::{ExecutionStrategy, InferenceStep, Learner, SupervisedTraining, TrainOutput, TrainStep};
use objectives::MeanSquaredLogarithmicError;
use objectives_burn::{EpochLogger, LearnerLoss, LearnerMetric, ObjectivesMetrics, ObjectivesOutput};
use serde_json::Value;

fn floats(v: &Value) -> Vec<f32> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()
}

fn matrix(v: &Value) -> (Vec<f32>, [usize; 2]) {
    let rows = v.as_array().unwrap();
    let data: Vec<f32> = rows.iter().flat_map(floats).collect();
    (data.clone(), [rows.len(), data.len() / rows.len()])
}

fn dense(layer: &Value, d: &Device) -> Linear {
    let (k, shape) = matrix(&layer["kernel"]);
    let b = floats(&layer["bias"]);
    let mut l = LinearConfig::new(shape[0], shape[1]).init(d);
    l.weight = Param::from_tensor(Tensor::from_data(TensorData::new(k, shape), d));
    l.bias = Some(Param::from_tensor(Tensor::from_data(TensorData::new(b.clone(), [b.len()]), d)));
    l
}

#[derive(Module, Debug)]
struct Mlp {
    hidden: Linear,
    out: Linear,
}

#[derive(Clone, Debug)]
struct Row {
    x: Vec<f32>,
    y: Vec<f32>,
    w: f32,
}

#[derive(Clone, Debug)]
struct Batch {
    x: Tensor<2>,
    y: Tensor<2>,
    w: Tensor<1>,
}

#[derive(Clone)]
struct RowBatcher;

impl Batcher<Row, Batch> for RowBatcher {
    fn batch(&self, items: Vec<Row>, device: &Device) -> Batch {
        let n = items.len();
        let (fx, fy) = (items[0].x.len(), items[0].y.len());
        Batch {
            x: Tensor::from_data(TensorData::new(items.iter().flat_map(|r| r.x.clone()).collect(), [n, fx]), device),
            y: Tensor::from_data(TensorData::new(items.iter().flat_map(|r| r.y.clone()).collect(), [n, fy]), device),
            w: Tensor::from_data(TensorData::new(items.iter().map(|r| r.w).collect(), [n]), device),
        }
    }
}

impl Mlp {
    fn output(&self, b: Batch) -> ObjectivesOutput {
        let p = relu(self.out.forward(tanh(self.hidden.forward(b.x))));
        ObjectivesOutput::compute(&MeanSquaredLogarithmicError::default(), b.y, p, Some(b.w.into()), None).unwrap()
    }
}

impl TrainStep for Mlp {
    type Input = Batch;
    type Output = ObjectivesOutput;
    fn step(&self, b: Batch) -> TrainOutput<ObjectivesOutput> {
        let out = self.output(b);
        TrainOutput::new(self, out.loss.backward(), out)
    }
}

impl InferenceStep for Mlp {
    type Input = Batch;
    type Output = ObjectivesOutput;
    fn step(&self, b: Batch) -> ObjectivesOutput {
        self.output(b)
    }
}

fn loader(rows: Vec<Row>, batch: usize) -> Arc<dyn DataLoader<Batch>> {
    DataLoaderBuilder::new(RowBatcher).batch_size(batch).build(InMemDataset::new(rows))
}

#[test]
fn burn_train_reproduces_a_keras_training_run() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../fit/tests/keras_runs/14c_msle.json");
    let run: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(run["compile"]["loss"][0]["class_name"], "MeanSquaredLogarithmicError");
    assert_eq!(run["fit"]["validation_split"], 0.25);
    let d = objectives::device::test_device().autodiff();
    let model = Mlp { hidden: dense(&run["model"]["trunk"][0], &d), out: dense(&run["model"]["heads"][0], &d) };

    let x = floats(&run["x"]["data"]);
    let y = floats(&run["y"][0]["data"]);
    let w = floats(&run["sample_weight"][0]["data"]);
    let n = w.len();
    let rows: Vec<Row> =
        (0..n).map(|i| Row { x: x[i * 3..i * 3 + 3].to_vec(), y: y[i * 2..i * 2 + 2].to_vec(), w: w[i] }).collect();
    // Keras's validation_split: the first ⌊N·(1 − 0.25)⌋ rows train, the rest validate.
    let n_train = (n as f64 * 0.75) as usize;
    let batch = run["fit"]["batch_size"].as_u64().unwrap() as usize;
    let epochs = run["fit"]["epochs"].as_u64().unwrap() as usize;
    let lr = run["compile"]["optimizer"]["learning_rate"].as_f64().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let (logger, values) = EpochLogger::new();
    let training = SupervisedTraining::new(
        dir.path(),
        loader(rows[..n_train].to_vec(), batch),
        loader(rows[n_train..].to_vec(), batch),
    )
    .num_epochs(epochs)
    .with_metric_logger(logger)
    .with_application_logger(None)
    .with_training_strategy(ExecutionStrategy::single(d.clone()).into())
    .objectives_loss(LearnerLoss::default())
    // weighted_metrics=["mae"]: logged by Keras as `mae`, here as `weighted_mae`.
    .objectives_metrics([LearnerMetric::from_keras_json("mae").unwrap().weighted()]);
    let result = training.launch(Learner::new(model, burn::optim::SgdConfig::new().init(), lr));
    assert!(result.error.is_none(), "{:?}", result.error);

    let ours = values.history();
    for (key, keras_key) in
        [("loss", "loss"), ("val_loss", "val_loss"), ("weighted_mae", "mae"), ("val_weighted_mae", "val_mae")]
    {
        let got = &ours[key];
        let want = floats(&run["history"][keras_key]);
        assert_eq!(got.len(), want.len(), "{key}");
        for (g, k) in got.iter().zip(&want) {
            assert!(
                (g - *k as f64).abs() <= 2e-5 * (*k as f64).abs().max(1e-3),
                "{key}: burn-train {got:?}, Keras {want:?}"
            );
        }
    }
    let trained = result.model;
    for (layer, keras) in
        [(&trained.hidden, &run["final_weights"]["trunk"][0]), (&trained.out, &run["final_weights"]["heads"][0])]
    {
        let got = layer.weight.val().into_data().convert::<f32>().try_into_vec::<f32>().unwrap();
        let (want, _) = matrix(&keras["kernel"]);
        assert_eq!(got.len(), want.len());
        for (g, k) in got.iter().zip(&want) {
            assert!((g - k).abs() <= 1e-5 * k.abs().max(1e-2), "kernel: burn-train {got:?}, Keras {want:?}");
        }
    }
}
