//! Training with burn-train's `SupervisedTraining` and objectives' metrics: the epoch values burn
//! logs equal objectives-fit's History on the same data (and so Keras's: objectives-fit's
//! History equals Keras's on 24 whole runs, crates/fit/tests/keras_runs), several devices give
//! the same values as one, and burn's own `LossMetric` differs on a partial last batch.

use burn::tensor::Device;
use burn::train::metric::LossMetric;
use burn::train::{ExecutionStrategy, Learner, MultiDeviceOptim, SupervisedTraining};
use objectives::MeanSquaredError;
use objectives::metrics::regression::{MeanAbsoluteError, RootMeanSquaredError};
use objectives::metrics::{Metric, MetricClass, MetricObject, Wrapped};
use objectives_burn::{EpochLogger, EpochValues, LearnerLoss, LearnerMetric, ObjectivesMetrics};
use objectives_fit::{Compiled, FitOptions, fit};

use super::common::{Net, dataset, loader, rows};

const LR: f64 = 0.1;
const EPOCHS: usize = 3;
/// 20 training rows in batches of 8: 8, 8 and a partial 4.
const BATCH: usize = 8;

fn mae() -> Box<dyn Metric> {
    Box::new(MetricObject::new(Wrapped(MeanAbsoluteError::default())))
}

fn metrics() -> Vec<LearnerMetric> {
    let mae = mae();
    vec![
        LearnerMetric::from_box(mae.clone()),
        LearnerMetric::from_box(mae).weighted(),
        LearnerMetric::new(RootMeanSquaredError.metric().unwrap()),
    ]
}

/// SupervisedTraining on `strategy`, with objectives' loss and metrics and burn's `LossMetric`.
fn burn_train(init: &Net, device: &Device, strategy: ExecutionStrategy, lr: f64) -> (Net, EpochValues) {
    let dir = tempfile::tempdir().unwrap();
    let (logger, values) = EpochLogger::new();
    let training = SupervisedTraining::new(dir.path(), loader(rows(20, 1), BATCH), loader(rows(10, 2), BATCH))
        .num_epochs(EPOCHS)
        .with_metric_logger(logger)
        .with_application_logger(None)
        .with_training_strategy(strategy.into())
        .objectives_loss(LearnerLoss::default())
        .objectives_metrics(metrics())
        .metric_train_numeric(LossMetric::new())
        .metric_valid_numeric(LossMetric::new());
    let learner =
        Learner::new(burn::module::Module::fork(init.clone(), device), burn::optim::SgdConfig::new().init(), lr);
    let result = training.launch(learner);
    assert!(result.error.is_none(), "training stopped: {:?}", result.error);
    (result.model, values)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 2e-6 * a.abs().max(b.abs()).max(1e-6)
}

#[test]
fn burn_train_epoch_values_equal_objectives_fit_history() {
    let device = objectives::device::test_device().autodiff();
    device.seed(3);
    let init = Net::new(&device);
    let (trained, values) = burn_train(&init, &device, ExecutionStrategy::single(device.clone()), LR);

    let mut compiled = Compiled::new(Box::new(MeanSquaredError::default()))
        .with_metrics([mae(), Box::new(RootMeanSquaredError.metric().unwrap())])
        .with_weighted_metrics([mae()])
        .with_optimizer(burn::optim::SgdConfig::new().init(), LR);
    let options = FitOptions { epochs: EPOCHS, batch_size: BATCH, shuffle: false, verbose: 0, ..FitOptions::default() };
    let (fitted, history) = fit(
        init,
        &mut compiled,
        &dataset(&rows(20, 1), &device),
        Some(&dataset(&rows(10, 2), &device)),
        &options,
        &mut [],
    )
    .unwrap();

    let burn = values.history();
    for (ours, keras) in [
        ("loss", "loss"),
        ("val_loss", "val_loss"),
        ("mean_absolute_error", "mean_absolute_error"),
        ("val_mean_absolute_error", "val_mean_absolute_error"),
        ("weighted_mean_absolute_error", "weighted_mean_absolute_error"),
        ("val_weighted_mean_absolute_error", "val_weighted_mean_absolute_error"),
        ("root_mean_squared_error", "root_mean_squared_error"),
        ("val_root_mean_squared_error", "val_root_mean_squared_error"),
    ] {
        let got = burn.get(ours).unwrap_or_else(|| panic!("burn-train logged no `{ours}`: {burn:?}"));
        let want = history.get(keras).unwrap_or_else(|| panic!("History has no `{keras}`: {:?}", history.values));
        assert_eq!(got.len(), EPOCHS, "{ours}: {got:?}");
        for (g, w) in got.iter().zip(want) {
            assert!(close(*g, *w), "{ours}: burn-train {got:?} vs objectives-fit {want:?}");
        }
    }
    // The same model at the end.
    let a = trained.dense.weight.val().into_data().convert::<f32>().try_into_vec::<f32>().unwrap();
    let b = fitted.dense.weight.val().into_data().convert::<f32>().try_into_vec::<f32>().unwrap();
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() <= 1e-6 * x.abs().max(1.0), "weights {a:?} vs {b:?}");
    }
}

#[test]
fn several_devices_give_the_epoch_values_of_one() {
    let device = objectives::device::test_device().autodiff();
    device.seed(5);
    let init = Net::new(&device);
    // Learning rate 0: every strategy evaluates the same model. burn-train's multi-device
    // strategy gives each device its own part of the data (10 + 10 training rows: batches of
    // 8, 2, 8, 2 instead of 8, 8, 4), and the metrics' states merge exactly: their epoch values
    // agree to the bit. The loss is a mean per batch, rounded in f32 by the step: other batches,
    // other roundings; its epoch mean (rows-weighted) agrees to f32 rounding.
    let (_, one) = burn_train(&init, &device, ExecutionStrategy::single(device.clone()), 0.0);
    let (_, two) = burn_train(
        &init,
        &device,
        ExecutionStrategy::multi(vec![device.clone(), device.clone()], MultiDeviceOptim::OptimMainDevice),
        0.0,
    );
    let (one, two) = (one.history(), two.history());
    for (key, v) in &one {
        if key.ends_with("Loss") {
            continue; // burn's own LossMetric: a mean of batch values, which depend on the batching
        }
        let w = two.get(key).unwrap_or_else(|| panic!("no `{key}` with two devices"));
        if key == "loss" || key == "val_loss" {
            for (a, b) in v.iter().zip(w) {
                assert!((a - b).abs() <= 1e-6 * a.abs(), "{key}: one device {v:?}, two {w:?}");
            }
            continue;
        }
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(v), bits(w), "{key}: one device {v:?}, two {w:?}");
    }
}

#[test]
fn burn_loss_metric_counts_a_partial_last_batch_too_much() {
    let device = objectives::device::test_device().autodiff();
    device.seed(9);
    let (_, values) = burn_train(&Net::new(&device), &device, ExecutionStrategy::single(device.clone()), LR);
    for epoch in 1..=EPOCHS {
        let batches = values.batches("train", "loss", epoch);
        assert_eq!(batches.len(), 3, "8 + 8 + 4 rows");
        let ours = values.epochs("train", "loss")[epoch - 1];
        let burns = values.epochs("train", "Loss")[epoch - 1];
        // Keras: batches weighted by their rows; burn: each reduced loss weighs 1.
        let keras = (batches[0] * 8.0 + batches[1] * 8.0 + batches[2] * 4.0) / 20.0;
        let mean = batches.iter().sum::<f64>() / 3.0;
        assert!(close(ours, keras), "epoch {epoch}: {ours} vs {keras}");
        assert!(close(burns, mean), "epoch {epoch}: burn's LossMetric {burns} vs the mean of batches {mean}");
        assert!(!close(ours, burns), "the partial batch must make them differ");
    }
}
