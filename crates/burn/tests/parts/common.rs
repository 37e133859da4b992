//! Shared by the tests: a generator, tensors, burn-train metadata, a small regression model with
//! its `TrainStep` / `InferenceStep` on [`ObjectivesOutput`] and its objectives-fit `Model`.

use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::{DataLoader, DataLoaderBuilder, Progress};
use burn::data::dataset::InMemDataset;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor, TensorData};
use burn::train::metric::MetricMetadata;
use burn::train::{InferenceStep, TrainOutput, TrainStep};
use objectives::{DynTensor, MeanSquaredError};
use objectives_burn::ObjectivesOutput;

/// A small deterministic generator.
pub struct Gen(pub u64);

impl Gen {
    pub fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f32 {
        (lo + (hi - lo) * self.next()) as f32
    }
    pub fn class(&mut self, k: usize) -> usize {
        ((self.next() * k as f64) as usize).min(k - 1)
    }
}

pub fn tensor(data: &[f32], shape: &[usize], d: &Device) -> DynTensor {
    DynTensor::from_data(TensorData::new(data.to_vec(), shape.to_vec()), d).unwrap()
}

pub fn metadata() -> MetricMetadata {
    MetricMetadata {
        progress: Progress { items_processed: 1, items_total: 1, unit: None },
        iteration: Some(1),
        lr: None,
    }
}

pub const IN: usize = 4;
pub const OUT: usize = 3;

/// One row: inputs, targets, sample weight.
#[derive(Clone, Debug)]
pub struct Row {
    pub x: [f32; IN],
    pub y: [f32; OUT],
    pub w: f32,
}

pub fn rows(n: usize, seed: u64) -> Vec<Row> {
    let mut g = Gen(seed);
    (0..n)
        .map(|_| {
            let x = [0; IN].map(|_| g.uniform(-1.0, 1.0));
            let y = [0; OUT].map(|_| g.uniform(-1.0, 1.0));
            Row { x, y, w: g.uniform(0.1, 2.0) }
        })
        .collect()
}

#[derive(Clone, Debug)]
pub struct Batch {
    pub x: Tensor<2>,
    pub y: Tensor<2>,
    pub w: Tensor<1>,
}

#[derive(Clone)]
pub struct RowBatcher;

impl Batcher<Row, Batch> for RowBatcher {
    fn batch(&self, items: Vec<Row>, device: &Device) -> Batch {
        let n = items.len();
        let x: Vec<f32> = items.iter().flat_map(|r| r.x).collect();
        let y: Vec<f32> = items.iter().flat_map(|r| r.y).collect();
        let w: Vec<f32> = items.iter().map(|r| r.w).collect();
        Batch {
            x: Tensor::from_data(TensorData::new(x, [n, IN]), device),
            y: Tensor::from_data(TensorData::new(y, [n, OUT]), device),
            w: Tensor::from_data(TensorData::new(w, [n]), device),
        }
    }
}

pub fn loader(data: Vec<Row>, batch_size: usize) -> Arc<dyn DataLoader<Batch>> {
    DataLoaderBuilder::new(RowBatcher).batch_size(batch_size).build(InMemDataset::new(data))
}

/// The same rows as an objectives-fit dataset.
pub fn dataset(data: &[Row], d: &Device) -> objectives_fit::Dataset<2> {
    let b = RowBatcher.batch(data.to_vec(), d);
    objectives_fit::Dataset::new(b.x, b.y).with_sample_weight(b.w)
}

/// One dense layer; its loss is MSE weighted per sample.
#[derive(Module, Debug)]
pub struct Net {
    pub dense: Linear,
}

impl Net {
    pub fn new(d: &Device) -> Self {
        Self { dense: LinearConfig::new(IN, OUT).init(d) }
    }
}

fn output(net: &Net, b: Batch) -> ObjectivesOutput {
    let p = net.dense.forward(b.x);
    ObjectivesOutput::compute(&MeanSquaredError::default(), b.y, p, Some(b.w.into()), None).expect("the loss")
}

impl TrainStep for Net {
    type Input = Batch;
    type Output = ObjectivesOutput;

    fn step(&self, b: Batch) -> TrainOutput<ObjectivesOutput> {
        let out = output(self, b);
        TrainOutput::new(self, out.loss.backward(), out)
    }
}

impl InferenceStep for Net {
    type Input = Batch;
    type Output = ObjectivesOutput;

    fn step(&self, b: Batch) -> ObjectivesOutput {
        output(self, b)
    }
}

impl objectives_fit::Model<2> for Net {
    fn forward(&self, x: Tensor<2>) -> Vec<DynTensor> {
        vec![self.dense.forward(x).into()]
    }
}
