//! The motivating network trained with burn's own `SupervisedTraining`: a fully convolutional
//! network maps (N, 3, 16, 16) inputs to a channels-first (N, 7, 16, 16) output — 7 regression
//! features per position — and learns with objectives' MeanSquaredError over axis 1 and a
//! per-position weight that discounts the border. burn-train runs the loop; objectives provides
//! the loss (`ObjectivesOutput::compute` in the `TrainStep`) and reports its metrics through
//! burn-train's renderer and loggers: the loss as Keras reports it, the mean absolute error over
//! the 7 features, unweighted and weighted, and the root mean squared error.
//!
//! Run: `cargo run --release -p objectives-burn --example burn_fcn` (`-- --epochs 20` for longer;
//! `--features tui` for burn's terminal dashboard).

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::{DataLoader, DataLoaderBuilder};
use burn::data::dataset::InMemDataset;
use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};
use burn::train::{InferenceStep, Learner, SupervisedTraining, TrainOutput, TrainStep};
use objectives::metrics::MetricClass;
use objectives::{MeanSquaredError, MeanSquaredErrorConfig};
use objectives_burn::{EpochLogger, LearnerLoss, LearnerMetric, ObjectivesMetrics, ObjectivesOutput};
use std::sync::Arc;

const H: usize = 16;
const W: usize = 16;
const WIDTH: usize = 16;

/// One sample: inputs (3, H, W), targets (7, H, W) and a weight per position (H, W).
#[derive(Clone, Debug)]
struct Sample {
    x: Vec<f32>,
    y: Vec<f32>,
    w: Vec<f32>,
}

/// Targets: each of 7 features a fixed mix of the 3 input channels and of their 3×3
/// neighbourhood mean, plus a little noise (the task of objectives-fit's `fcn` example).
fn synthetic(n: usize, seed: u64) -> Vec<Sample> {
    let mut s = seed;
    let mut next = move || {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) as f32
    };
    let mix = [
        [0.8, -0.4, 0.2],
        [0.1, 0.9, -0.3],
        [-0.5, 0.2, 0.7],
        [0.3, 0.3, 0.3],
        [0.6, -0.6, 0.0],
        [0.0, 0.4, -0.8],
        [-0.2, -0.2, 0.5],
    ];
    // 0.2 on the one-pixel border (discounted), 1.0 inside.
    let w: Vec<f32> = (0..H * W)
        .map(|k| if k / W == 0 || k % W == 0 || k / W == H - 1 || k % W == W - 1 { 0.2 } else { 1.0 })
        .collect();
    (0..n)
        .map(|_| {
            let x: Vec<f32> = (0..3 * H * W).map(|_| next() * 2.0 - 1.0).collect();
            let at = |c: usize, i: isize, j: isize| -> f32 {
                if i < 0 || j < 0 || i >= H as isize || j >= W as isize {
                    0.0
                } else {
                    x[(c * H + i as usize) * W + j as usize]
                }
            };
            let mut y = vec![0f32; 7 * H * W];
            for (f, m) in mix.iter().enumerate() {
                for i in 0..H as isize {
                    for j in 0..W as isize {
                        let mut v = 0.0;
                        for (c, m) in m.iter().enumerate() {
                            let local: f32 = (-1..=1)
                                .flat_map(|di| (-1..=1).map(move |dj| (di, dj)))
                                .map(|(di, dj)| at(c, i + di, j + dj))
                                .sum::<f32>()
                                / 9.0;
                            v += m * (at(c, i, j) + local);
                        }
                        y[(f * H + i as usize) * W + j as usize] = v + 0.01 * (next() - 0.5);
                    }
                }
            }
            Sample { x, y, w: w.clone() }
        })
        .collect()
}

#[derive(Clone, Debug)]
struct FcnBatch {
    x: Tensor<4>,
    y: Tensor<4>,
    w: Tensor<3>,
}

#[derive(Clone)]
struct FcnBatcher;

impl Batcher<Sample, FcnBatch> for FcnBatcher {
    fn batch(&self, items: Vec<Sample>, device: &Device) -> FcnBatch {
        let n = items.len();
        let cat = |f: fn(&Sample) -> &Vec<f32>| items.iter().flat_map(|s| f(s).iter().copied()).collect::<Vec<f32>>();
        FcnBatch {
            x: Tensor::from_data(TensorData::new(cat(|s| &s.x), [n, 3, H, W]), device),
            y: Tensor::from_data(TensorData::new(cat(|s| &s.y), [n, 7, H, W]), device),
            w: Tensor::from_data(TensorData::new(cat(|s| &s.w), [n, H, W]), device),
        }
    }
}

/// Two 3×3 "same" convolutions with ReLU and a 1×1 head to 7 features per position.
#[derive(Module, Debug)]
struct Fcn {
    conv1: Conv2d,
    conv2: Conv2d,
    head: Conv2d,
}

impl Fcn {
    fn new(device: &Device) -> Self {
        let same = PaddingConfig2d::Same;
        Self {
            conv1: Conv2dConfig::new([3, WIDTH], [3, 3]).with_padding(same.clone()).init(device),
            conv2: Conv2dConfig::new([WIDTH, WIDTH], [3, 3]).with_padding(same).init(device),
            head: Conv2dConfig::new([WIDTH, 7], [1, 1]).init(device),
        }
    }

    /// The loss — MSE over the 7 features (axis 1), weighted per position — and what the
    /// metrics read.
    fn output(&self, b: FcnBatch) -> ObjectivesOutput {
        let h = relu(self.conv1.forward(b.x));
        let h = relu(self.conv2.forward(h));
        let pred = self.head.forward(h);
        let mse = MeanSquaredError::new(MeanSquaredErrorConfig { axis: 1 });
        // burn's TrainStep has no error channel: a shape error here is a bug in this file.
        #[allow(clippy::expect_used)]
        ObjectivesOutput::compute(&mse, b.y, pred, Some(b.w.into()), None).expect("the batch's shapes pair")
    }
}

impl TrainStep for Fcn {
    type Input = FcnBatch;
    type Output = ObjectivesOutput;

    fn step(&self, b: FcnBatch) -> TrainOutput<ObjectivesOutput> {
        let out = self.output(b);
        TrainOutput::new(self, out.loss.backward(), out)
    }
}

impl InferenceStep for Fcn {
    type Input = FcnBatch;
    type Output = ObjectivesOutput;

    fn step(&self, b: FcnBatch) -> ObjectivesOutput {
        self.output(b)
    }
}

fn loader(data: Vec<Sample>, shuffle: Option<u64>) -> Arc<dyn DataLoader<FcnBatch>> {
    let b = DataLoaderBuilder::new(FcnBatcher).batch_size(32);
    let b = match shuffle {
        Some(seed) => b.shuffle(seed),
        None => b,
    };
    b.build(InMemDataset::new(data))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let epochs = std::env::args().skip_while(|a| a != "--epochs").nth(1).and_then(|e| e.parse().ok()).unwrap_or(6);
    let device = Device::flex().autodiff();
    device.seed(7);
    let artifacts = std::env::temp_dir().join("objectives-burn-fcn");

    // MAE over the 7 features at each position (axis 1): Keras's `metrics=` (unweighted) and
    // `weighted_metrics=` (the per-position weights); R² over every value.
    let mae = LearnerMetric::from_keras_json(r#"{"class_name": "MeanAbsoluteError", "config": {"axis": 1}}"#)?;
    let rmse = objectives::metrics::regression::RootMeanSquaredError.metric()?;
    let (logger, values) = EpochLogger::new();
    let training =
        SupervisedTraining::new(&artifacts, loader(synthetic(512, 7), Some(1)), loader(synthetic(128, 8), None))
            .num_epochs(epochs)
            .with_metric_logger(logger)
            .with_metric_logger(burn::train::logger::FileMetricLogger::new(&artifacts))
            .objectives_loss(LearnerLoss::default())
            .objectives_metrics([mae.clone(), mae.weighted()])
            .metric_train_numeric(LearnerMetric::new(rmse.clone()))
            .metric_valid_numeric(LearnerMetric::new(rmse))
            .summary();
    let learner = Learner::new(Fcn::new(&device), burn::optim::AdamConfig::new().init(), 3e-3);
    let result = training.launch(learner);
    if let Some(e) = result.error {
        return Err(format!("training stopped: {e}").into());
    }

    let show = |key: &str| {
        let v = values.history().remove(key).unwrap_or_default();
        println!("{key} by epoch: {}", v.iter().map(|x| format!("{x:.4}")).collect::<Vec<_>>().join(" → "));
        v
    };
    let val = show("val_loss");
    show("val_weighted_mean_absolute_error(axis=1)");
    show("val_root_mean_squared_error");
    println!("burn-train's logs: {}", artifacts.display());
    match (val.first(), val.last()) {
        (Some(first), Some(last)) if val.len() == epochs && *last < first / 4.0 => Ok(()),
        _ => Err(format!("expected {epochs} epochs with the validation loss falling below a quarter: {val:?}").into()),
    }
}
