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

mod job;
mod net;

use burn::tensor::Device;
use job::{H, W};
use objectives::{MeanSquaredError, MeanSquaredErrorConfig};
use objectives_fit::callbacks::CsvLogger;
use objectives_fit::fit;

/// `--workers ws://host:port,…` (and `--worker-timeout SECONDS`, default 300): an autodiff
/// device on each `objectives-worker` (the `remote` feature); each batch is then split over them,
/// with gradients combined exactly.
#[cfg(feature = "remote")]
fn workers_devices(list: &str) -> Result<Vec<Device>, Box<dyn std::error::Error>> {
    use objectives_fit::remote::{WorkerOptions, connect_workers_with};
    let urls: Vec<String> = list.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    let mut options = WorkerOptions::default();
    if let Some(t) = arg("--worker-timeout") {
        let secs: f64 = t.parse().map_err(|_| format!("--worker-timeout: expected seconds, got {t:?}"))?;
        options.answer_timeout =
            Some(std::time::Duration::try_from_secs_f64(secs).map_err(|e| format!("--worker-timeout {t}: {e}"))?);
    }
    let devices = connect_workers_with(&urls, &options)?;
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
    println!("device: {}", objectives::device::describe(&device));
    // The weights are drawn from the device's seeded generator: a reproducible run, and the same
    // start on workers as here.
    let model = job::model(&device);
    let data = job::data(&device);
    let loss = MeanSquaredError::new(MeanSquaredErrorConfig { axis: 1 });
    println!("{}", objectives::explain(&loss, None, &[32, 7, H, W], Some(&[32, H, W]), None)?);

    let mut compiled = job::compiled();
    let mut options = job::options(epochs);
    if let Some(workers) = arg("--workers") {
        options.devices = workers_devices(&workers)?;
    }
    let mut csv = CsvLogger::new("fcn_history.csv");
    let (_model, history) = fit(model, &mut compiled, &data, None, &options, &mut [&mut csv])?;

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
