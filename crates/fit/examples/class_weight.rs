//! A small classifier trained with SparseCategoricalCrossentropy and `class_weight`: three
//! classes, the third rare (5% of the samples), weighed 8× so the model does not ignore it.
//!
//! Run: `cargo run --example class_weight`

use std::collections::BTreeMap;

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};
use objectives::{DynTensor, SparseCategoricalCrossentropy, SparseCategoricalCrossentropyConfig};
use objectives_fit::{Compiled, Dataset, FitOptions, Model, evaluate, fit};

#[derive(Module, Debug)]
struct Classifier {
    hidden: Linear,
    out: Linear,
}

impl Model<2> for Classifier {
    fn forward(&self, x: Tensor<2>) -> Vec<DynTensor> {
        vec![self.out.forward(relu(self.hidden.forward(x))).into()] // logits (N, 3)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let device = Device::flex().autodiff();
    let n = 600;
    let mut s = 5u64;
    let mut rand = move || {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) as f32
    };
    let centers = [(-1.0f32, 0.0f32), (1.0, 0.0), (0.0, 1.2)];
    let (mut x, mut y) = (vec![], vec![]);
    for i in 0..n {
        let class = if i % 20 == 0 { 2 } else { i % 2 }; // class 2 is rare
        let (cx, cy) = centers[class];
        x.extend([cx + (rand() - 0.5) * 1.2, cy + (rand() - 0.5) * 1.2]);
        y.push(class as f32);
    }
    let x = Tensor::<2>::from_data(TensorData::new(x, [n, 2]), &device);
    let y = Tensor::<1>::from_data(TensorData::new(y, [n]), &device);
    let class_weight: BTreeMap<usize, f64> = [(0, 1.0), (1, 1.0), (2, 8.0)].into();
    let data = Dataset::new(x, y);

    let scce = SparseCategoricalCrossentropy::new(SparseCategoricalCrossentropyConfig {
        from_logits: true,
        ..Default::default()
    });
    let mut compiled = Compiled::new(Box::new(scce))
        .with_metrics(["accuracy"])
        .with_optimizer(burn::optim::AdamConfig::new().init(), 0.02);
    let model =
        Classifier { hidden: LinearConfig::new(2, 16).init(&device), out: LinearConfig::new(16, 3).init(&device) };
    // Keras's fit(class_weight=…): the training rows only; val_accuracy is not weighted by class.
    let options = FitOptions {
        epochs: 20,
        batch_size: 32,
        validation_split: 0.2,
        class_weight: Some(class_weight),
        seed: 4,
        ..Default::default()
    };
    let (model, history) = fit(model, &mut compiled, &data, None, &options, &mut [])?;
    let acc = history.get("val_accuracy").unwrap_or_default();
    println!("val_accuracy: {:.3} → {:.3}", acc.first().unwrap_or(&f64::NAN), acc.last().unwrap_or(&f64::NAN));
    let logs = evaluate(&model, &compiled, &data, 64)?;
    println!("evaluate on all data: {logs:?}");
    Ok(())
}
