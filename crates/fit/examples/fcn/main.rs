//! The main job: the motivating case, trained. A fully convolutional network maps (N, 3, 16, 16)
//! inputs to a channels-first (N, 7, 16, 16) output — 7 regression features per position —
//! trained with MeanSquaredError(axis=1) and a per-position weight that discounts the border, on a
//! synthetic but learnable task generated in-process. It prints the loss's `explain` plan, trains
//! with a progress bar and validation, reports the mean absolute error over the features (unweighted
//! and weighted, Keras's `metrics` and `weighted_metrics`), and writes the history as CSV and its
//! curves as PNG and SVG.
//!
//! Run: `cargo run --release --example fcn` (add `-- --epochs 20` for longer training, and
//! `-- --device wgpu` to train on a GPU through burn's wgpu backend, built with `--features wgpu`;
//! `cuda` likewise with `--features cuda`).

mod net;

use burn::tensor::{Device, Tensor, TensorData};
use net::Fcn;
use objectives::metrics::MetricObject;
use objectives::metrics::reduction::Wrapped;
use objectives::metrics::regression::MeanAbsoluteError as MaeMetric;
use objectives::{MeanSquaredError, MeanSquaredErrorConfig};
use objectives_fit::callbacks::CsvLogger;
use objectives_fit::{Compiled, Dataset, FitOptions, fit};

const H: usize = 16;
const W: usize = 16;
/// Hidden channels of the network.
const WIDTH: usize = 16;

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

/// `--workers ws://host:port,…`: an autodiff device on each `objectives-worker` (the `remote`
/// feature); each batch is then split over them, with gradients combined exactly.
#[cfg(feature = "remote")]
fn workers_devices(list: &str) -> Result<Vec<Device>, Box<dyn std::error::Error>> {
    let urls: Vec<String> = list.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    let devices = objectives_fit::remote::connect_workers(&urls, std::time::Duration::from_secs(10))?;
    println!("training data-parallel on {} workers: {}", urls.len(), urls.join(", "));
    Ok(devices)
}

#[cfg(not(feature = "remote"))]
fn workers_devices(_: &str) -> Result<Vec<Device>, Box<dyn std::error::Error>> {
    Err("--workers needs the `remote` feature: cargo run --release --example fcn --features remote -- --workers …"
        .into())
}

/// The value after `flag` on the command line.
fn arg(flag: &str) -> Option<String> {
    std::env::args().skip_while(|a| a != flag).nth(1)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let epochs = arg("--epochs").and_then(|e| e.parse().ok()).unwrap_or(8);
    let backend: objectives::device::BackendName = arg("--device").as_deref().unwrap_or("flex").parse()?;
    let device = backend.device()?.autodiff();
    // The initial weights come from the device's generator: seed it so that a run is
    // reproducible (unseeded, burn's Flex draws from the OS's entropy) and so that training on
    // workers starts from the same weights as training here.
    device.seed(7);
    println!("device: {}", objectives::device::describe(&device));
    let n = 640;
    let (x, y) = synthetic(n, 7, &device);
    let data = Dataset::new(x, y).with_sample_weight(position_weights(n, &device));

    let loss = MeanSquaredError::new(MeanSquaredErrorConfig { axis: 1 });
    println!("{}", objectives::explain(&loss, None, &[32, 7, H, W], Some(&[32, H, W]), None)?);

    // Mean absolute error over the 7 features (axis 1), per position; unweighted, and weighted by
    // the same per-position weights as the loss (logged as `weighted_mean_absolute_error`).
    let mae = MetricObject::new(Wrapped(MaeMetric { axis: 1 }));
    let mut compiled = Compiled::new(Box::new(loss))
        .with_metrics([mae.clone()])
        .with_weighted_metrics([mae])
        .with_optimizer(burn::optim::AdamConfig::new().init(), 3e-3);
    let mut options = FitOptions { batch_size: 32, epochs, validation_split: 0.2, seed: 1, ..Default::default() };
    if let Some(workers) = arg("--workers") {
        options.devices = workers_devices(&workers)?;
    }
    let mut csv = CsvLogger::new("fcn_history.csv");
    let (_model, history) = fit(Fcn::new(WIDTH, &device), &mut compiled, &data, None, &options, &mut [&mut csv])?;

    let val = history.get("val_loss").unwrap_or_default();
    println!("val_loss by epoch: {}", val.iter().map(|v| format!("{v:.4}")).collect::<Vec<_>>().join(" → "));
    let mae = history.get("val_weighted_mean_absolute_error").unwrap_or_default();
    println!(
        "val_weighted_mean_absolute_error by epoch: {}",
        mae.iter().map(|v| format!("{v:.4}")).collect::<Vec<_>>().join(" → ")
    );
    history.plot("fcn_history.png")?;
    history.plot("fcn_history.svg")?;
    println!("history written to fcn_history.csv; curves to fcn_history.png and fcn_history.svg");
    if let (Some(first), Some(last)) = (val.first(), val.last())
        && *last >= first / 4.0
    {
        return Err(format!("validation loss fell only from {first:.4} to {last:.4} (expected below a quarter)").into());
    }
    Ok(())
}
