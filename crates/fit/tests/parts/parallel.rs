//! Data-parallel `fit` (`FitOptions::devices`) equals single-device training: the seed FCN, 2
//! epochs, batches of 10 split over 3 devices (uneven shards 4/3/3), also with gradient
//! accumulation (each micro-batch split over the devices), and on one device given in `devices`;
//! per-position sample weights and a mask, for every scalar reduction; parameters (through the
//! trained model's predictions) and History agree to f32 summation order.

use burn::tensor::{Device, Tensor, TensorData};
use objectives::metrics::MetricObject;
use objectives::metrics::reduction::Wrapped;
use objectives::metrics::regression::MeanAbsoluteError as Mae;
use objectives::{MeanSquaredError, MeanSquaredErrorConfig, Reduction};
use objectives_fit::{Compiled, Dataset, FitOptions, Model, fit};

#[path = "../../examples/fcn/net.rs"]
#[allow(dead_code)]
mod net;

fn data(n: usize, d: &Device) -> Dataset<4> {
    let v = |len: usize, k: f32| -> Vec<f32> { (0..len).map(|i| (i as f32 * k).sin() * 0.5).collect() };
    let x = Tensor::<4>::from_data(TensorData::new(v(n * 3 * 16 * 16, 0.37), [n, 3, 16, 16]), d);
    let y = Tensor::<4>::from_data(TensorData::new(v(n * 7 * 16 * 16, 0.11), [n, 7, 16, 16]), d);
    let w: Vec<f32> = (0..n * 16 * 16).map(|i| 0.5 + (i % 5) as f32 * 0.25).collect();
    let w = Tensor::<3>::from_data(TensorData::new(w, [n, 16, 16]), d);
    // A mask over the per-position losses: a stripe of positions masked out in every sample, and
    // all of sample 3.
    let m: Vec<f32> = (0..n * 16 * 16).map(|i| if (i % 16 == 3) || (i / 256 == 3) { 0.0 } else { 1.0 }).collect();
    let m = Tensor::<3>::from_data(TensorData::new(m, [n, 16, 16]), d);
    Dataset::new(x, y).with_sample_weight(w).with_mask(m)
}

#[test]
fn data_parallel_fit_equals_one_device_for_every_reduction() {
    let d = objectives::device::test_device().autodiff();
    let train = data(20, &d);
    let probe = data(4, &d).x;
    let init = net::Fcn::new(4, &d);
    for reduction in [Reduction::Sum, Reduction::SumOverBatchSize, Reduction::Mean, Reduction::MeanWithSampleWeight] {
        let run = |devices: Vec<Device>, accumulation_steps: usize| {
            let loss = MeanSquaredError::new(MeanSquaredErrorConfig { axis: 1 }).with_reduction(reduction);
            let mut compiled = Compiled::new(Box::new(loss))
                .with_metrics([MetricObject::new(Wrapped(Mae { axis: 1 }))])
                .with_weighted_metrics([MetricObject::new(Wrapped(Mae { axis: 1 }))])
                // `sum` adds ≈ 10⁴ position losses per batch: a step size to match.
                .with_optimizer(
                    burn::optim::SgdConfig::new().init(),
                    if reduction == Reduction::Sum { 2e-5 } else { 0.05 },
                );
            let options = FitOptions {
                epochs: 2,
                batch_size: 10,
                shuffle: false,
                verbose: 0,
                devices,
                accumulation_steps,
                ..FitOptions::default()
            };
            fit(init.clone(), &mut compiled, &train, None, &options, &mut []).unwrap()
        };
        let (one, h_one) = run(vec![], 1);
        let p1 = one.forward(probe.clone())[0].to_vec_f32().unwrap();
        // Three devices; then each batch in 2 micro-batches of 5 (shards 2/2/1) and in 4
        // micro-batches of 3, 3, 3, 1 (the last one on one device), accumulated.
        for (accumulation, devices) in [(1, 3), (2, 3), (4, 3), (3, 1)] {
            let what = format!("{reduction}, {devices} devices, accumulation_steps {accumulation}");
            let (split, h_split) = run(vec![d.clone(); devices], accumulation);
            for (k, v) in &h_one.values {
                for (a, b) in v.iter().zip(&h_split.values[k]) {
                    assert!((a - b).abs() <= 1e-5 * a.abs().max(1e-3), "{what}: {k} {v:?} vs {:?}", h_split.values[k]);
                }
            }
            let ps = split.forward(probe.clone())[0].to_vec_f32().unwrap();
            let scale = p1.iter().fold(0f32, |m, x| m.max(x.abs()));
            let worst = p1.iter().zip(&ps).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
            assert!(worst <= 1e-5 * scale.max(1.0), "{what}: trained models differ by {worst}");
        }
        // A different step would show: the parameters moved.
        let p0 = init.forward(probe.clone())[0].to_vec_f32().unwrap();
        assert!(p0.iter().zip(&p1).any(|(a, b)| (a - b).abs() > 1e-4), "{reduction}: nothing trained");
    }
}
