//! The motivating case: a fully convolutional network's channels-first output (batch, 7, 16, 16),
//! mean squared error over the 7 features (axis 1), and a per-position weight that discounts the
//! border positions. Prints each step's shape, the loss, and checks it against a hand computation.
//!
//! Run: `cargo run --example channels_first`

use burn::tensor::{Distribution, TensorData};
use objectives::prelude::*;

fn main() -> objectives::Result<()> {
    let device = Device::flex().autodiff();
    let (b, c, h, w) = (8, 7, 16, 16);
    let y_true = Tensor::<4>::random([b, c, h, w], Distribution::Normal(0.0, 1.0), &device);
    let y_pred = Tensor::<4>::random([b, c, h, w], Distribution::Normal(0.0, 1.0), &device).require_grad();

    // Discount the one-pixel border: weight 0.1 there, 1.0 inside; the same for every sample.
    let mut weights = vec![1.0f32; b * h * w];
    for (i, v) in weights.iter_mut().enumerate() {
        let (y, x) = ((i / w) % h, i % w);
        if y == 0 || x == 0 || y == h - 1 || x == w - 1 {
            *v = 0.1;
        }
    }
    let sample_weight = Tensor::<3>::from_data(TensorData::new(weights.clone(), [b, h, w]), &device);

    let config = MeanSquaredErrorConfig { axis: 1 };
    let per_position = mean_squared_error(&y_true, &y_pred, &config)?;
    println!("y_pred                 {:?}", y_pred.dims());
    println!("per-position MSE       {:?}   (mean over axis 1, the 7 features)", per_position.shape());
    println!("sample_weight          {:?}   (border 0.1, interior 1.0)", sample_weight.dims());

    let mse = MeanSquaredError::new(config);
    let loss = mse.call(&y_true, &y_pred, Some(sample_weight.into()))?;
    let value = loss.clone().into_scalar::<f32>()?;
    println!("loss (sum_over_batch_size) = Σ mse·w / {} = {value:.6}", b * h * w);

    // The same number by hand, in f64.
    let per = per_position.to_vec_f64()?;
    let manual: f64 = per.iter().zip(&weights).map(|(l, w)| l * f64::from(*w)).sum::<f64>() / (b * h * w) as f64;
    println!("by hand                    = {manual:.6}");
    assert!((f64::from(value) - manual).abs() <= 1e-5 * manual.abs());

    let grads = loss.into_padded().backward();
    match y_pred.grad(&grads) {
        Some(g) => println!("d loss / d y_pred          {:?}", g.dims()),
        None => println!("d loss / d y_pred          (no gradient: y_pred is not tracked)"),
    }
    Ok(())
}
