//! A custom loss for the motivating case: a fully convolutional net's channels-first output
//! (batch, 7, 16, 16) where the border positions count less. Written two ways — a custom loss
//! that builds the discount in, and the built-in MeanSquaredError(axis=1) with a (batch, 16, 16)
//! sample_weight — which give the same loss and gradient.
//!
//! Run: `cargo run --example custom_loss`

use burn::tensor::{Distribution, TensorData};
use objectives::custom::custom_loss;
use objectives::prelude::*;

const B: usize = 4;
const C: usize = 7;
const H: usize = 16;
const W: usize = 16;

/// 0.1 on the one-pixel border, 1.0 inside.
fn border_discount() -> Vec<f32> {
    (0..H * W).map(|i| if i / W == 0 || i % W == 0 || i / W == H - 1 || i % W == W - 1 { 0.1 } else { 1.0 }).collect()
}

fn main() -> objectives::Result<()> {
    let device = Device::flex().autodiff();
    let y_true = Tensor::<4>::random([B, C, H, W], Distribution::Normal(0.0, 1.0), &device);
    let y_pred = Tensor::<4>::random([B, C, H, W], Distribution::Normal(0.0, 1.0), &device).require_grad();

    // 1. A custom loss: MSE over the 7 features, times the border discount, per position.
    let discount = Tensor::<2>::from_data(TensorData::new(border_discount(), [H, W]), &device);
    let discount = DynTensor::from(discount);
    let border_mse = custom_loss("border_mse", move |t: &DynTensor, p: &DynTensor| {
        let per_position = t.clone().zip_with(p.clone(), |t, p| t.sub(p).square())?.mean_axis(1); // (B, H, W)
        per_position.broadcast_mul(discount.clone()).ok_or_else(|| LossError::Data("discount shape".into()))
    });
    let custom = border_mse.call(&y_true, &y_pred, None)?;

    // 2. The built-in: MSE over axis 1 and a (B, H, W) sample_weight.
    let weights: Vec<f32> = (0..B).flat_map(|_| border_discount()).collect();
    let sample_weight = Tensor::<3>::from_data(TensorData::new(weights, [B, H, W]), &device);
    let builtin =
        MeanSquaredError::new(MeanSquaredErrorConfig { axis: 1 }).call(&y_true, &y_pred, Some(sample_weight.into()))?;

    let (a, b) = (custom.clone().into_scalar::<f32>()?, builtin.clone().into_scalar::<f32>()?);
    println!("custom loss  (border_mse)                    = {a:.6}");
    println!("built-in     (MeanSquaredError(axis=1) + sw) = {b:.6}");
    assert!((a - b).abs() <= 1e-6 * b.abs());

    let g1 = y_pred.grad(&custom.into_padded().backward()).map(|g| DynTensor::from(g).to_vec_f32());
    let g2 = y_pred.grad(&builtin.into_padded().backward()).map(|g| DynTensor::from(g).to_vec_f32());
    if let (Some(g1), Some(g2)) = (g1, g2) {
        let (g1, g2) = (g1?, g2?);
        let worst = g1.iter().zip(&g2).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
        println!("largest gradient difference                  = {worst:e}");
    }
    Ok(())
}
