//! compile / fit / evaluate / predict against Keras's documented semantics (docs/keras-semantics.md §3).

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // test code: failing loudly is the point

/// `validation_split`, `class_weight` and the other data arguments of `fit()` against Keras.
#[path = "parts/keras_fit_args.rs"]
mod keras_fit_args;
/// Whole Keras training runs (tests/keras_runs/*.json) re-run with `fit`.
#[path = "parts/keras_runs.rs"]
mod keras_runs;
/// A 2-epoch History with metrics against Keras (one test binary: linking burn is slow).
#[path = "parts/metrics_history.rs"]
mod metrics_history;
/// Data-parallel fit against one device.
#[path = "parts/parallel.rs"]
mod parallel;

use std::collections::BTreeMap;

use burn::data::dataloader::batcher::Batcher;
use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor, TensorData};
use objectives::{DynTensor, MeanAbsoluteError, MeanSquaredError};
use objectives_fit::callbacks::{CsvLogger, ModelCheckpoint, ReduceLROnPlateau};
use objectives_fit::{Compiled, Dataset, EarlyStopping, FitOptions, Model, TerminateOnNaN, evaluate, fit, predict};

/// Predicts the same value `b` for every sample.
#[derive(Module, Debug)]
struct Constant {
    b: Param<Tensor<1>>,
}

impl Constant {
    fn new(b: f32, device: &Device) -> Self {
        Self { b: Param::from_tensor(Tensor::<1>::from_floats([b], device)) }
    }
}

impl Model<2> for Constant {
    fn forward(&self, x: Tensor<2>) -> Vec<DynTensor> {
        let n = x.dims()[0];
        let b = self.b.val().reshape([1, 1]).expand([n, 1]);
        vec![x.slice([0..n, 0..1]).mul_scalar(0.0).add(b).into()]
    }
}

/// A linear model with two identical outputs.
#[derive(Module, Debug)]
struct Linear2 {
    lin: Linear,
}

impl Model<2> for Linear2 {
    fn forward(&self, x: Tensor<2>) -> Vec<DynTensor> {
        let y = self.lin.forward(x);
        vec![(&y).into(), y.into()]
    }
}

/// A linear model with one output.
#[derive(Module, Debug)]
struct Linear1 {
    lin: Linear,
}

impl Model<2> for Linear1 {
    fn forward(&self, x: Tensor<2>) -> Vec<DynTensor> {
        vec![self.lin.forward(x).into()]
    }
}

fn column(v: &[f32], d: &Device) -> Tensor<2> {
    Tensor::<2>::from_data(TensorData::new(v.to_vec(), [v.len(), 1]), d)
}

fn quiet() -> FitOptions {
    FitOptions { verbose: 0, ..Default::default() }
}

#[test]
fn epoch_loss_is_weighted_by_batch_size_as_keras() {
    // docs/keras-semantics.md §3.4: batches of 4 (loss 1.0) and 1 (loss 90.0 with weight 10) → 18.8, not 6.71.
    let d = objectives::device::test_device().autodiff();
    let x = column(&[0.0; 5], &d);
    let y = column(&[1.0, 1.0, 1.0, 1.0, 3.0], &d);
    let w = Tensor::<1>::from_floats([1.0, 1.0, 1.0, 1.0, 10.0], &d);
    let data = Dataset::new(x, y).with_sample_weight(w);
    let compiled = Compiled::new(Box::new(MeanSquaredError::default()));
    let logs = evaluate(&Constant::new(0.0, &d), &compiled, &data, 4).unwrap();
    assert!((logs["loss"] - 18.8).abs() < 1e-5, "{logs:?}");
    // The same in fit's History (learning rate 0 keeps the model fixed across the two batches).
    let mut compiled = compiled.with_optimizer(burn::optim::SgdConfig::new().init(), 0.0);
    let options = FitOptions { epochs: 2, batch_size: 4, shuffle: false, ..quiet() };
    let (_, history) = fit(Constant::new(0.0, &d), &mut compiled, &data, None, &options, &mut []).unwrap();
    for v in history.get("loss").unwrap() {
        assert!((v - 18.8).abs() < 1e-5, "{history:?}");
    }
}

#[test]
fn fit_learns_and_reports_metrics_weighted_by_sample_weight() {
    let d = objectives::device::test_device().autodiff();
    let xs: Vec<f32> = (0..64).map(|i| (i as f32 / 32.0) - 1.0).collect();
    let x =
        Tensor::<2>::from_data(TensorData::new(xs.iter().flat_map(|&v| [v, v * v]).collect::<Vec<_>>(), [64, 2]), &d);
    let y = column(&xs.iter().map(|v| 2.0 * v - 0.5 * v * v + 0.3).collect::<Vec<_>>(), &d);
    let data = Dataset::new(x.clone(), y);
    let mut compiled = Compiled::new(Box::new(MeanSquaredError::default()))
        .with_metrics(["mae"])
        .with_optimizer(burn::optim::AdamConfig::new().init(), 0.05);
    let options = FitOptions { epochs: 30, batch_size: 16, validation_split: 0.25, seed: 3, ..quiet() };
    let (model, history) =
        fit(Linear1 { lin: LinearConfig::new(2, 1).init(&d) }, &mut compiled, &data, None, &options, &mut []).unwrap();
    let loss = history.get("loss").unwrap();
    assert!(loss.last().unwrap() < &(loss[0] * 0.1), "{loss:?}");
    // Keras 3 names a metric given as a string after the string.
    assert!(history.get("val_loss").is_some() && history.get("mae").is_some(), "{history:?}");
    let preds = predict(&model, &x, 10).unwrap();
    assert_eq!(preds[0].shape(), &[64, 1]);
    let logs = evaluate(&model, &compiled, &data, 8).unwrap();
    assert!(logs.contains_key("mae"), "{logs:?}");
}

#[test]
fn multi_output_total_is_the_weighted_sum_of_per_output_losses() {
    let d = objectives::device::test_device().autodiff();
    let x = Tensor::<2>::from_floats([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]], &d);
    let ya = column(&[1.0, 0.0, 2.0], &d);
    let yb = column(&[0.0, 1.0, -1.0], &d);
    let data = Dataset::multi(x, vec![ya.into(), yb.into()]);
    let compiled =
        Compiled::per_output(vec![Box::new(MeanSquaredError::default()), Box::new(MeanAbsoluteError::default())])
            .unwrap()
            .with_loss_weights(vec![2.0, 0.5])
            .with_output_names(vec!["a".into(), "b".into()]);
    // Fixed weights, so every number below can be worked out by hand: prediction = x·w + b with
    // w = [1, 0.5], b = -1, the same for both outputs.
    let mut lin = LinearConfig::new(2, 1).init(&d);
    lin.weight = Param::from_tensor(Tensor::<2>::from_floats([[1.0], [0.5]], &d));
    lin.bias = Some(Param::from_tensor(Tensor::<1>::from_floats([-1.0], &d)));
    let model = Linear2 { lin };
    let logs = evaluate(&model, &compiled, &data, 3).unwrap();
    // Predictions: [1, 2] → 1 + 1 - 1 = 1; [3, -1] → 3 - 0.5 - 1 = 1.5; [0.5, 0.5] → 0.5 + 0.25 - 1 = -0.25.
    // a (MSE, y = [1, 0, 2]): errors 0, 1.5, -2.25 → squares 0 + 2.25 + 5.0625 = 7.3125, / 3 = 2.4375.
    // b (MAE, y = [0, 1, -1]): |1 - 0| + |1.5 - 1| + |-0.25 + 1| = 1 + 0.5 + 0.75 = 2.25, / 3 = 0.75.
    // Total with loss_weights [2, 0.5]: 2 · 2.4375 + 0.5 · 0.75 = 4.875 + 0.375 = 5.25.
    // (One batch of 3, so the batch-size weighted epoch means are these batch values.)
    let close = |got: f64, want: f64| (got - want).abs() <= 1e-6 * want.abs();
    assert!(close(logs["a_loss"], 2.4375), "{logs:?}");
    assert!(close(logs["b_loss"], 0.75), "{logs:?}");
    assert!(close(logs["loss"], 5.25), "{logs:?}");
    // loss_weights must match the number of losses (Keras raises the same).
    let bad = Compiled::new(Box::new(MeanSquaredError::default())).with_loss_weights(vec![1.0, 3.0, 1.0]);
    assert!(evaluate(&model, &bad, &data, 3).is_err());
}

#[test]
fn class_weight_and_sample_weight_together_is_an_error() {
    let d = objectives::device::test_device().autodiff();
    let data = Dataset::new(column(&[0.0, 1.0], &d), column(&[0.0, 1.0], &d));
    let cw: BTreeMap<usize, f64> = [(0, 1.0), (1, 5.0)].into();
    // Kept as a map: `fit` weighs the training rows only, after validation_split.
    let weighted = data.clone().with_class_weight(&cw).unwrap();
    assert_eq!(weighted.class_weight.as_ref(), Some(&cw));
    assert!(weighted.sample_weight.is_none());
    let with_sw = data.with_sample_weight(Tensor::<1>::ones([2], &d));
    assert!(with_sw.with_class_weight(&cw).unwrap_err().to_string().contains("sample_weight"));
}

#[test]
fn callbacks_stop_restore_log_checkpoint_and_reduce_lr() {
    let d = objectives::device::test_device().autodiff();
    let dir = tempfile::tempdir().unwrap();
    let x = column(&[0.0; 8], &d);
    let data = Dataset::new(x.clone(), column(&[1.0; 8], &d));
    let val = Dataset::new(x, column(&[-5.0; 8], &d)); // moving towards 1.0 makes val_loss worse
    let mut compiled =
        Compiled::new(Box::new(MeanSquaredError::default())).with_optimizer(burn::optim::SgdConfig::new().init(), 0.1);
    let mut early = EarlyStopping::new("val_loss").patience(1).restore_best_weights(true);
    let mut csv = CsvLogger::new(dir.path().join("history.csv"));
    let mut ckpt = ModelCheckpoint::new(dir.path().join("best.bpk"), "val_loss").save_best_only(true);
    let mut plateau = ReduceLROnPlateau::new("val_loss").patience(1).factor(0.5);
    let options = FitOptions { epochs: 20, batch_size: 8, ..quiet() };
    let (model, history) = fit(
        Constant::new(0.0, &d),
        &mut compiled,
        &data,
        Some(&val),
        &options,
        &mut [&mut early, &mut csv, &mut ckpt, &mut plateau],
    )
    .unwrap();
    assert_eq!(early.stopped_epoch, Some(1), "{history:?}");
    // The best epoch was the first; its weights come back.
    let b = model.b.val().into_data().try_to_vec::<f32>().unwrap()[0];
    assert!((b - 0.2).abs() < 1e-5, "restored b = {b}");
    let text = std::fs::read_to_string(dir.path().join("history.csv")).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert_eq!(ckpt.saved, vec![0]);
    assert!(dir.path().join("best.bpk").exists());
    assert!(compiled.learning_rate() < 0.1);
    // No temporary files left behind.
    assert!(
        std::fs::read_dir(dir.path()).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().contains(".tmp-"))
    );
}

#[test]
fn terminate_on_nan_stops_at_the_first_non_finite_loss() {
    let d = objectives::device::test_device().autodiff();
    let data = Dataset::new(column(&[0.0; 4], &d), column(&[f32::NAN, 1.0, 1.0, 1.0], &d));
    let mut compiled = Compiled::new(Box::new(MeanSquaredError::default()));
    let mut nan = TerminateOnNaN::default();
    let options = FitOptions { epochs: 5, batch_size: 2, shuffle: false, ..quiet() };
    let (_, history) = fit(Constant::new(0.0, &d), &mut compiled, &data, None, &options, &mut [&mut nan]).unwrap();
    assert_eq!(nan.terminated_at, Some(0));
    assert_eq!(history.epochs.len(), 1);
}

/// Records the batch logs it gets; `wants` says whether it asks for them.
struct BatchLogs {
    wants: bool,
    seen: Vec<BTreeMap<String, f64>>,
}

impl<M> objectives_fit::callbacks::Callback<M> for BatchLogs {
    fn wants_batch_logs(&self) -> bool {
        self.wants
    }

    fn on_batch_end(
        &mut self,
        _step: usize,
        logs: &BTreeMap<String, f64>,
        _ctx: &mut objectives_fit::callbacks::Context<'_, M>,
    ) -> objectives_fit::error::Result<()> {
        self.seen.push(logs.clone());
        Ok(())
    }
}

/// Batch logs are read back from the device only when a callback asks for them; asked, they are
/// the running logs plus the batch's own loss, and either way the History is the same.
#[test]
fn batch_logs_are_read_only_when_a_callback_wants_them() {
    let d = objectives::device::test_device().autodiff();
    let data = Dataset::new(column(&[0.0; 4], &d), column(&[1.0, 1.0, 3.0, 3.0], &d));
    let options = FitOptions { epochs: 2, batch_size: 2, shuffle: false, ..quiet() };
    let mut histories = vec![];
    for wants in [false, true] {
        let mut compiled = Compiled::new(Box::new(MeanSquaredError::default()))
            .with_optimizer(burn::optim::SgdConfig::new().init(), 0.0);
        let mut cb = BatchLogs { wants, seen: vec![] };
        let (_, history) = fit(Constant::new(0.0, &d), &mut compiled, &data, None, &options, &mut [&mut cb]).unwrap();
        assert_eq!(cb.seen.len(), 4);
        if wants {
            // Batch losses 1 and 9; the running epoch loss after the second batch is 5.
            let batch: Vec<f64> = cb.seen.iter().map(|l| l["loss"]).collect();
            assert_eq!(batch, vec![1.0, 9.0, 1.0, 9.0]);
        } else {
            assert!(cb.seen.iter().all(BTreeMap::is_empty), "{:?}", cb.seen);
        }
        histories.push(history.get("loss").unwrap().to_vec());
    }
    assert_eq!(histories[0], histories[1]);
    assert_eq!(histories[0], vec![5.0, 5.0]);
}

/// The parameters of `Linear1` as one flat vector.
fn params(m: &Linear1) -> Vec<f32> {
    let mut v = m.lin.weight.val().into_data().try_to_vec::<f32>().unwrap();
    if let Some(b) = &m.lin.bias {
        v.extend(b.val().into_data().try_to_vec::<f32>().unwrap());
    }
    v
}

#[test]
fn accumulating_micro_batches_equals_the_large_batch_step() {
    let d = objectives::device::test_device().autodiff();
    let n = 10;
    let xs: Vec<f32> = (0..n * 3).map(|i| ((i * 7 % 11) as f32 - 5.0) / 5.0).collect();
    let x = Tensor::<2>::from_data(TensorData::new(xs, [n, 3]), &d);
    let y = Tensor::<2>::from_data(
        TensorData::new((0..n * 2).map(|i| (i % 5) as f32 - 2.0).collect::<Vec<_>>(), [n, 2]),
        &d,
    );
    // Unequal per-sample weights, some zero: a mean of micro-batch means would be wrong.
    let w = Tensor::<1>::from_floats([1.0, 0.0, 2.0, 0.5, 3.0, 0.0, 1.0, 1.0, 4.0, 0.25], &d);
    let data = Dataset::new(x, y).with_sample_weight(w);
    for reduction in [objectives::Reduction::SumOverBatchSize, objectives::Reduction::MeanWithSampleWeight] {
        let init = Linear1 { lin: LinearConfig::new(3, 2).init(&d) };
        let run = |k: usize| {
            let mut compiled = Compiled::new(Box::new(MeanSquaredError::default().with_reduction(reduction)))
                .with_optimizer(burn::optim::SgdConfig::new().init(), 0.1);
            let options = FitOptions { epochs: 1, batch_size: n, shuffle: false, accumulation_steps: k, ..quiet() };
            let (m, h) = fit(init.clone(), &mut compiled, &data, None, &options, &mut []).unwrap();
            (params(&m), h.get("loss").unwrap()[0])
        };
        let (whole, loss_whole) = run(1);
        let (accumulated, loss_acc) = run(3); // micro-batches of 4, 4 and 2 samples
        assert!((loss_whole - loss_acc).abs() <= 1e-5 * loss_whole.abs(), "{reduction}: {loss_whole} vs {loss_acc}");
        for (a, b) in whole.iter().zip(&accumulated) {
            assert!((a - b).abs() <= 1e-6, "{reduction}: parameters differ: {whole:?} vs {accumulated:?}");
        }
        assert_ne!(whole, params(&init), "the step changed nothing");
    }
}

/// Predicts zeros of shape (N, T, 1) from (N, T) inputs.
#[derive(Module, Debug)]
struct ZeroSeq {
    b: Param<Tensor<1>>,
}

impl Model<2> for ZeroSeq {
    fn forward(&self, x: Tensor<2>) -> Vec<DynTensor> {
        let [n, t] = x.dims();
        let b = self.b.val().reshape([1, 1, 1]).expand([n, t, 1]);
        vec![x.reshape([n, t, 1]).mul_scalar(0.0).add(b).into()]
    }
}

#[test]
fn masked_timesteps_are_excluded_from_loss_and_metrics() {
    let d = objectives::device::test_device().autodiff();
    // Two sequences of 3 steps; the padded steps have garbage targets.
    let x = Tensor::<2>::zeros([2, 3], &d);
    let y = Tensor::<3>::from_floats([[[1.0], [2.0], [100.0]], [[3.0], [100.0], [100.0]]], &d);
    let mask = Tensor::<2>::from_floats([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]], &d);
    let data = Dataset::new(x, y).with_mask(mask);
    let compiled =
        Compiled::new(Box::new(MeanSquaredError::default())).with_metrics([objectives::metrics::get("mae").unwrap()]);
    let model = ZeroSeq { b: Param::from_tensor(Tensor::<1>::zeros([1], &d)) };
    let logs = evaluate(&model, &compiled, &data, 2).unwrap();
    assert!((logs["loss"] - (1.0 + 4.0 + 9.0) / 3.0).abs() < 1e-5, "{logs:?}");
    assert!((logs["mean_absolute_error"] - (1.0 + 2.0 + 3.0) / 3.0).abs() < 1e-5, "{logs:?}");
    // Accumulation keeps the mask exact too (micro-batches with 2 and 1 valid steps).
    let mut c =
        Compiled::new(Box::new(MeanSquaredError::default())).with_optimizer(burn::optim::SgdConfig::new().init(), 0.0);
    let options = FitOptions { epochs: 1, batch_size: 2, shuffle: false, accumulation_steps: 2, ..quiet() };
    let (_, h) = fit(model, &mut c, &data, None, &options, &mut []).unwrap();
    assert!((h.get("loss").unwrap()[0] - 14.0 / 3.0).abs() < 1e-5, "{h:?}");
}

/// One sample of the loader test: two features, a target, a weight.
#[derive(Clone, Debug)]
struct Row {
    x: [f32; 2],
    y: f32,
    w: f32,
}

/// Builds a [`Dataset`] batch (inputs, targets, sample weights) from rows, as a user's batcher would.
#[derive(Clone)]
struct RowBatcher;

impl burn::data::dataloader::batcher::Batcher<Row, Dataset<2>> for RowBatcher {
    fn batch(&self, items: Vec<Row>, device: &Device) -> Dataset<2> {
        let n = items.len();
        let x =
            Tensor::<2>::from_data(TensorData::new(items.iter().flat_map(|r| r.x).collect::<Vec<_>>(), [n, 2]), device);
        let y = column(&items.iter().map(|r| r.y).collect::<Vec<_>>(), device);
        let w = Tensor::<1>::from_data(TensorData::new(items.iter().map(|r| r.w).collect::<Vec<_>>(), [n]), device);
        Dataset::new(x, y).with_sample_weight(w)
    }
}

#[test]
fn a_burn_data_loader_trains_exactly_like_in_memory_data() {
    use burn::data::dataloader::DataLoaderBuilder;
    use burn::data::dataset::InMemDataset;
    let d = objectives::device::test_device().autodiff();
    let rows: Vec<Row> = (0..37)
        .map(|i| {
            let t = i as f32 / 18.0 - 1.0;
            Row { x: [t, t * t], y: 1.5 * t - 0.5 * t * t + 0.2, w: 1.0 + (i % 3) as f32 }
        })
        .collect();
    let val_rows: Vec<Row> = rows.iter().step_by(3).cloned().collect();
    let batcher = RowBatcher;
    let loader = DataLoaderBuilder::new(batcher.clone())
        .batch_size(8)
        .set_device(d.clone())
        .build(InMemDataset::new(rows.clone()));
    let val_loader = DataLoaderBuilder::new(batcher.clone())
        .batch_size(8)
        .set_device(d.clone())
        .build(InMemDataset::new(val_rows.clone()));
    let compiled = || {
        Compiled::new(Box::new(MeanSquaredError::default()))
            .with_weighted_metrics(["mae"])
            .with_optimizer(burn::optim::AdamConfig::new().init(), 0.05)
    };
    let init = LinearConfig::new(2, 1).init(&d);
    let options = FitOptions { epochs: 4, batch_size: 8, shuffle: false, ..quiet() };

    let (from_loader, h_loader) = objectives_fit::fit_loader(
        Linear1 { lin: init.clone() },
        &mut compiled(),
        loader.as_ref(),
        Some(val_loader.as_ref()),
        &options,
        &mut [],
    )
    .unwrap();
    // The same rows as in-memory tensors: the same batches in the same order.
    let data = RowBatcher.batch(rows, &d);
    let val = RowBatcher.batch(val_rows, &d);
    let (in_memory, h_memory) =
        fit(Linear1 { lin: init }, &mut compiled(), &data, Some(&val), &options, &mut []).unwrap();
    assert_eq!(params(&from_loader), params(&in_memory));
    assert_eq!(h_loader.values.keys().collect::<Vec<_>>(), h_memory.values.keys().collect::<Vec<_>>());
    for (k, v) in &h_memory.values {
        for (a, b) in v.iter().zip(&h_loader.values[k]) {
            assert!((a - b).abs() <= 1e-6 * a.abs().max(1.0), "{k}: {a} vs {b}");
        }
    }
    let loss = h_loader.get("loss").unwrap();
    assert!(loss.last() < loss.first(), "{loss:?}");
    let logs = objectives_fit::evaluate_loader(&from_loader, &compiled(), val_loader.as_ref()).unwrap();
    assert!((logs["loss"] - h_loader.get("val_loss").unwrap()[3]).abs() < 1e-6);

    // validation_split has no meaning for a loader, as in Keras.
    let err = objectives_fit::fit_loader(
        from_loader,
        &mut compiled(),
        loader.as_ref(),
        None,
        &FitOptions { validation_split: 0.2, ..options },
        &mut [],
    )
    .unwrap_err();
    assert!(err.to_string().contains("validation_split"), "{err}");
}

#[test]
fn fit_uses_the_fused_loss_on_flex_with_the_composed_results() {
    use objectives::fused::{calls_on_this_thread, with_fused};
    let d = objectives::device::test_device().autodiff();
    let n = 48;
    let xs: Vec<f32> = (0..n * 2).map(|i| ((i * 5 % 13) as f32 - 6.0) / 6.0).collect();
    let x = Tensor::<2>::from_data(TensorData::new(xs.clone(), [n, 2]), &d);
    let y = Tensor::<2>::from_data(
        TensorData::new(xs.chunks(2).flat_map(|r| [r[0] - r[1], 0.5 * r[0]]).collect::<Vec<_>>(), [n, 2]),
        &d,
    );
    let w = Tensor::<1>::from_data(TensorData::new((0..n).map(|i| 0.5 + (i % 4) as f32).collect::<Vec<_>>(), [n]), &d);
    let data = Dataset::new(x, y).with_sample_weight(w);
    let init = LinearConfig::new(2, 2).init(&d);
    let options = FitOptions { epochs: 3, batch_size: 16, shuffle: false, ..quiet() };
    let train = |fused: bool| {
        with_fused(fused, || {
            let mut compiled = Compiled::new(Box::new(MeanSquaredError::default()))
                .with_optimizer(burn::optim::SgdConfig::new().init(), 0.1);
            let before = calls_on_this_thread();
            let (m, h) = fit(Linear1 { lin: init.clone() }, &mut compiled, &data, None, &options, &mut []).unwrap();
            (params(&m), h, calls_on_this_thread() - before)
        })
    };
    let (p_fused, h_fused, fused_calls) = train(true);
    let (p_composed, h_composed, composed_calls) = train(false);
    // 3 epochs × 3 batches, each loss computed by the fused kernel (and its backward).
    assert_eq!(fused_calls, 9);
    assert_eq!(composed_calls, 0);
    for (a, b) in p_fused.iter().zip(&p_composed) {
        assert!((a - b).abs() <= 1e-5 * b.abs().max(1.0), "{p_fused:?} vs {p_composed:?}");
    }
    for (a, b) in h_fused.get("loss").unwrap().iter().zip(h_composed.get("loss").unwrap()) {
        assert!((a - b).abs() <= 1e-5 * b.abs().max(1.0));
    }
}
