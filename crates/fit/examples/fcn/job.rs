//! The main job's setup — data, loss, metrics, optimizer, fit options — shared by the `fcn`
//! example, the remote-worker tests (`tests/remote.rs`) and the `remote_step` benchmark, so that
//! all three train exactly the same thing.

use burn::tensor::{Device, Tensor, TensorData};
use objectives::metrics::MetricObject;
use objectives::metrics::reduction::Wrapped;
use objectives::metrics::regression::MeanAbsoluteError as MaeMetric;
use objectives::{MeanSquaredError, MeanSquaredErrorConfig};
use objectives_fit::{Compiled, Dataset, FitOptions};

use super::net::Fcn;

pub const H: usize = 16;
pub const W: usize = 16;
/// Hidden channels of the network.
pub const WIDTH: usize = 16;

/// Targets: 7 features per position, each a fixed mix of the 3 input channels and of their
/// 3×3 neighbourhood mean (so a small convolutional net can learn it), plus a little noise.
fn synthetic(n: usize, seed: u64, device: &Device) -> (Tensor<4>, Tensor<4>) {
    let mut s = seed;
    let mut next = move || {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) as f32
    };
    let x: Vec<f32> = (0..n * 3 * H * W).map(|_| next() * 2.0 - 1.0).collect();
    let mix = [
        [0.8, -0.4, 0.2],
        [0.1, 0.9, -0.3],
        [-0.5, 0.2, 0.7],
        [0.3, 0.3, 0.3],
        [0.6, -0.6, 0.0],
        [0.0, 0.4, -0.8],
        [-0.2, -0.2, 0.5],
    ];
    let at = |b: usize, c: usize, i: isize, j: isize| -> f32 {
        if i < 0 || j < 0 || i >= H as isize || j >= W as isize {
            0.0
        } else {
            x[((b * 3 + c) * H + i as usize) * W + j as usize]
        }
    };
    let mut y = vec![0f32; n * 7 * H * W];
    for b in 0..n {
        for f in 0..7 {
            for i in 0..H as isize {
                for j in 0..W as isize {
                    let mut v = 0.0;
                    for (c, m) in mix[f].iter().enumerate() {
                        let local: f32 = (-1..=1)
                            .flat_map(|di| (-1..=1).map(move |dj| (di, dj)))
                            .map(|(di, dj)| at(b, c, i + di, j + dj))
                            .sum::<f32>()
                            / 9.0;
                        v += m * (at(b, c, i, j) + local);
                    }
                    y[((b * 7 + f) * H + i as usize) * W + j as usize] = v + 0.01 * (next() - 0.5);
                }
            }
        }
    }
    let x = Tensor::<4>::from_data(TensorData::new(x, [n, 3, H, W]), device);
    let y = Tensor::<4>::from_data(TensorData::new(y, [n, 7, H, W]), device);
    (x, y)
}

/// 0.2 on the one-pixel border (discounted), 1.0 inside: one weight per sample and position.
fn position_weights(n: usize, device: &Device) -> Tensor<3> {
    let one: Vec<f32> = (0..H * W)
        .map(|k| if k / W == 0 || k % W == 0 || k / W == H - 1 || k % W == W - 1 { 0.2 } else { 1.0 })
        .collect();
    let all: Vec<f32> = (0..n).flat_map(|_| one.clone()).collect();
    Tensor::<3>::from_data(TensorData::new(all, [n, H, W]), device)
}

/// Samples in the main job (the last 20 % held out for validation).
pub const SAMPLES: usize = 640;

/// The main job's data: `SAMPLES` samples, each position weighted as [`position_weights`] says.
pub fn data(device: &Device) -> Dataset<4> {
    let (x, y) = synthetic(SAMPLES, 7, device);
    Dataset::new(x, y).with_sample_weight(position_weights(SAMPLES, device))
}

/// The loss (`MeanSquaredError(axis=1)`), the mean absolute error over the 7 features (axis 1)
/// per position, unweighted and weighted by the same per-position weights as the loss (logged as
/// `weighted_mean_absolute_error`: Keras's `metrics` and `weighted_metrics`), Adam at 3e-3.
pub fn compiled() -> Compiled {
    let loss = MeanSquaredError::new(MeanSquaredErrorConfig { axis: 1 });
    let mae = MetricObject::new(Wrapped(MaeMetric { axis: 1 }));
    Compiled::new(Box::new(loss))
        .with_metrics([mae.clone()])
        .with_weighted_metrics([mae])
        .with_optimizer(burn::optim::AdamConfig::new().init(), 3e-3)
}

/// Batches of 32, `epochs` epochs, 20 % validation, shuffled with seed 1.
pub fn options(epochs: usize) -> FitOptions {
    FitOptions { batch_size: 32, epochs, validation_split: 0.2, seed: 1, ..Default::default() }
}

/// The network, its weights drawn from `device`'s generator seeded with 7: a run is reproducible
/// (unseeded, burn's Flex draws from the OS's entropy), and training on workers starts from the
/// same weights as training here. Seeding is per device and global: build the model before
/// anything else draws from that device.
pub fn model(device: &Device) -> Fcn {
    device.seed(7);
    Fcn::new(WIDTH, device)
}
