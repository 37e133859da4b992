//! Metric updates at scale: AUC(num_thresholds=200) on 4M predictions and
//! MeanIoU(num_classes=21, axis=1) on (16, 21, 256, 256) channels-first logits — one
//! `update_state` plus `result()` each, timed on Flex (reading the tensor back included).
//!
//! `cargo bench -p objectives --bench metrics [-- --reps 7]`; `benches/compare_metrics.sh` runs
//! this and Keras 3 (JAX backend, `benches/metrics_peer.py`) on the same data in one session and
//! prints the ratios. Inputs are integer hashes of the element index (`hash` below, the same
//! arithmetic in the Python script), so both print the same metric values.
//! Output lines start with `RESULT` (machine-readable).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::Instant;

use burn::tensor::{Device, TensorData};
use objectives::DynTensor;
use objectives::metrics::{Metric, from_keras_json};

/// `((i·a + b) mod 2^32) / 2^32`, exact in f64 and in numpy's uint64 arithmetic.
fn hash(i: u64, a: u64, b: u64) -> f64 {
    ((i.wrapping_mul(a).wrapping_add(b)) & 0xffff_ffff) as f64 / 4_294_967_296.0
}

fn tensor(data: Vec<f32>, shape: Vec<usize>, d: &Device) -> DynTensor {
    DynTensor::from_data(TensorData::new(data, shape), d).unwrap()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time(name: &str, reps: usize, metric: &dyn Metric, t: &DynTensor, p: &DynTensor, elems: usize) {
    let mut times = vec![];
    let mut value = f64::NAN;
    for _ in 0..reps {
        let mut m = metric.clone_box();
        let start = Instant::now();
        m.update_state(t, p, None).unwrap();
        value = m.result().scalar().unwrap();
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    let med = median(times.clone());
    let min = times.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "RESULT {name} ours med_ms {med:.2} min_ms {min:.2} value {value:.7} Melem_per_s {:.1}",
        elems as f64 / med / 1e3
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let reps = args.iter().position(|a| a == "--reps").and_then(|i| args.get(i + 1)).and_then(|s| s.parse().ok());
    let reps: usize = reps.unwrap_or(7);
    let d = Device::flex();
    println!("threads: {}", std::thread::available_parallelism().map_or(0, |n| n.get()));

    // AUC: 4M binary labels, predictions in [0, 1] that lean towards the label.
    let n = 4 * 1024 * 1024;
    let labels: Vec<f32> =
        (0..n as u64).map(|i| if hash(i, 2_246_822_519, 3_266_489_917) < 0.5 { 0.0 } else { 1.0 }).collect();
    let preds: Vec<f32> = (0..n as u64)
        .zip(&labels)
        .map(|(i, &l)| (0.6 * hash(i, 2_654_435_761, 0) + 0.4 * f64::from(l)) as f32)
        .collect();
    let t = tensor(labels, vec![n], &d);
    let p = tensor(preds, vec![n], &d);
    let auc = from_keras_json(&serde_json::json!({"class_name": "AUC", "config": {"num_thresholds": 200}})).unwrap();
    time("auc", reps, auc.as_ref(), &t, &p, n);

    // MeanIoU: (16, 21, 256, 256) logits, classes on axis 1; labels (16, 256, 256).
    let (b, k, h, w) = (16usize, 21usize, 256usize, 256usize);
    let logits: Vec<f32> = (0..(b * k * h * w) as u64).map(|i| hash(i, 2_654_435_761, 12_345) as f32).collect();
    let labels: Vec<f32> = (0..(b * h * w) as u64)
        .map(|i| ((hash(i, 2_246_822_519, 3_266_489_917) * k as f64) as usize).min(k - 1) as f32)
        .collect();
    let t = tensor(labels, vec![b, h, w], &d);
    let p = tensor(logits, vec![b, k, h, w], &d);
    let miou = from_keras_json(&serde_json::json!({"class_name": "MeanIoU",
        "config": {"num_classes": 21, "sparse_y_true": true, "sparse_y_pred": false, "axis": 1}}))
    .unwrap();
    time("mean_iou", reps, miou.as_ref(), &t, &p, b * k * h * w);
}
