//! A padded-sequence model whose masked timesteps are excluded from the loss: sequences of
//! different lengths are padded to T steps, and the padding's targets are garbage (100.0). The
//! mask (N, T) removes those steps from MeanSquaredError's per-timestep losses, so they neither
//! move the loss nor the gradients; the default reduction averages over the valid steps only.
//!
//! Run: `cargo run --example masked_sequence`

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor, TensorData};
use objectives::{DynTensor, MeanSquaredError};
use objectives_fit::{Compiled, Dataset, FitOptions, Model, fit};

const T: usize = 12;
const F: usize = 4;

#[derive(Module, Debug)]
struct PerStep {
    lin: Linear,
}

impl Model<3> for PerStep {
    fn forward(&self, x: Tensor<3>) -> Vec<DynTensor> {
        vec![self.lin.forward(x).into()] // (N, T, 1)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let device = Device::flex().autodiff();
    let n = 256;
    let mut s = 11u64;
    let mut rand = move || {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) as f32
    };
    let (mut x, mut y, mut mask) = (vec![0f32; n * T * F], vec![0f32; n * T], vec![0f32; n * T]);
    for b in 0..n {
        let len = 3 + (rand() * (T - 3) as f32) as usize; // 3..T valid steps
        for t in 0..T {
            let valid = t < len;
            let feats: Vec<f32> = (0..F).map(|_| if valid { rand() * 2.0 - 1.0 } else { 0.0 }).collect();
            x[(b * T + t) * F..(b * T + t + 1) * F].copy_from_slice(&feats);
            y[b * T + t] = if valid { 1.5 * feats[0] - feats[1] + 0.5 * feats[3] } else { 100.0 };
            mask[b * T + t] = if valid { 1.0 } else { 0.0 };
        }
    }
    let x = Tensor::<3>::from_data(TensorData::new(x, [n, T, F]), &device);
    let y = Tensor::<3>::from_data(TensorData::new(y, [n, T, 1]), &device);
    let mask = Tensor::<2>::from_data(TensorData::new(mask, [n, T]), &device);
    let data = Dataset::new(x, y).with_mask(mask);

    let loss = MeanSquaredError::default();
    println!("{}", objectives::explain(&loss, None, &[32, T, 1], None, Some(&[32, T]))?);
    let mut compiled = Compiled::new(Box::new(loss)).with_optimizer(burn::optim::AdamConfig::new().init(), 0.05);
    let options = FitOptions { epochs: 15, batch_size: 32, validation_split: 0.25, seed: 2, ..Default::default() };
    let model = PerStep { lin: LinearConfig::new(F, 1).init(&device) };
    let (_, history) = fit(model, &mut compiled, &data, None, &options, &mut [])?;
    let val = history.get("val_loss").unwrap_or_default();
    println!(
        "val_loss (valid steps only): {:.4} → {:.4}",
        val.first().unwrap_or(&f64::NAN),
        val.last().unwrap_or(&f64::NAN)
    );
    Ok(())
}
