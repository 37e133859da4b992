//! `fit()`'s data arguments against Keras 3.15.1 (JAX backend): `validation_split` holds out
//! Keras's rows, `class_weight` weighs the training rows only; and the arguments that change
//! which batches an epoch sees (`steps_per_epoch`, `validation_steps`, `validation_freq`,
//! `validation_batch_size`), checked against the batches Keras documents.
//!
//! The Keras side of the two pasted runs (its History and final weights are pasted below):
//! ```python
//! def xs(n, f): return np.array([[((i*7 + j*3) % 11 - 5)/4 for j in range(f)] for i in range(n)], dtype="float32")
//! # A: validation_split=0.2 on 22 rows (Keras trains on 17, validates on 5)
//! n=22; x=xs(n,2); y=np.array([[((i*5)%9-4)/2] for i in range(n)], dtype="float32")
//! inp=keras.Input((2,)); out=layers.Dense(1)(inp); m=keras.Model(inp,out)
//! m.layers[1].set_weights([np.array([[0.5],[-0.25]]), np.array([0.1])])
//! m.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
//! h=m.fit(x,y,batch_size=4,epochs=2,shuffle=False,validation_split=0.2,verbose=0)
//! # B: class_weight with validation_split (val_loss is not weighted by class)
//! n=16; x=xs(n,3); yc=np.array([(i*5)%3 for i in range(n)], dtype="float32")
//! inp=keras.Input((3,)); out=layers.Dense(3, activation="softmax")(inp); m=keras.Model(inp,out)
//! m.layers[1].set_weights([[[0.2,-0.1,0.05],[0.0,0.3,-0.2],[-0.15,0.1,0.25]], [0.0,0.1,-0.1]])
//! m.compile(optimizer=keras.optimizers.SGD(0.2), loss="sparse_categorical_crossentropy",
//!           metrics=["accuracy"], weighted_metrics=["accuracy"])
//! h=m.fit(x,yc,batch_size=5,epochs=2,shuffle=False,validation_split=0.25,
//!         class_weight={0:1.0,1:3.0,2:0.5},verbose=0)
//! ```

use std::collections::BTreeMap;

use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};
use objectives::{DynTensor, MeanSquaredError, SparseCategoricalCrossentropy};
use objectives_fit::{Compiled, Dataset, EarlyStopping, FitOptions, Model, ValidationFreq, evaluate, fit};

#[derive(Module, Debug)]
struct Dense {
    lin: Linear,
    softmax: bool,
}

impl Model<2> for Dense {
    fn forward(&self, x: Tensor<2>) -> Vec<DynTensor> {
        let y = self.lin.forward(x);
        vec![if self.softmax { softmax(y, 1) } else { y }.into()]
    }
}

fn dense(kernel: &[f32], bias: &[f32], softmax: bool, d: &Device) -> Dense {
    let (i, o) = (kernel.len() / bias.len(), bias.len());
    let mut lin = LinearConfig::new(i, o).init(d);
    lin.weight = Param::from_tensor(Tensor::<2>::from_data(TensorData::new(kernel.to_vec(), [i, o]), d));
    lin.bias = Some(Param::from_tensor(Tensor::<1>::from_data(TensorData::new(bias.to_vec(), [o]), d)));
    Dense { lin, softmax }
}

fn xs(n: usize, f: usize, d: &Device) -> Tensor<2> {
    let v: Vec<f32> = (0..n).flat_map(|i| (0..f).map(move |j| (((i * 7 + j * 3) % 11) as f32 - 5.0) / 4.0)).collect();
    Tensor::<2>::from_data(TensorData::new(v, [n, f]), d)
}

fn close_history(history: &objectives_fit::History, keras: &[(&str, &[f64])]) {
    let mut keys: Vec<&str> = history.values.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut want: Vec<&str> = keras.iter().map(|(k, _)| *k).collect();
    want.sort_unstable();
    assert_eq!(keys, want, "the logged keys are Keras's");
    for (key, want) in keras {
        let got = history.get(key).unwrap();
        assert_eq!(got.len(), want.len(), "{key}: {got:?} vs Keras {want:?}");
        for (g, w) in got.iter().zip(*want) {
            assert!((g - w).abs() <= 2e-5 * w.abs().max(1.0), "{key}: got {got:?}, Keras {want:?}");
        }
    }
}

fn close_params(got: &[f32], keras: &[f64]) {
    assert_eq!(got.len(), keras.len());
    for (g, k) in got.iter().zip(keras) {
        assert!((f64::from(*g) - k).abs() <= 1e-5 * k.abs().max(1.0), "{got:?} vs Keras {keras:?}");
    }
}

fn params(m: &Dense) -> Vec<f32> {
    let mut v = m.lin.weight.val().into_data().try_to_vec::<f32>().unwrap();
    v.extend(m.lin.bias.as_ref().unwrap().val().into_data().try_to_vec::<f32>().unwrap());
    v
}

fn sgd() -> burn::optim::ModuleOptimizer {
    burn::optim::SgdConfig::new().init()
}

#[test]
fn validation_split_holds_out_keras_rows() {
    let d = objectives::device::test_device().autodiff();
    let n = 22;
    let y: Vec<f32> = (0..n).map(|i| (((i * 5) % 9) as f32 - 4.0) / 2.0).collect();
    let data = Dataset::new(xs(n, 2, &d), Tensor::<2>::from_data(TensorData::new(y, [n, 1]), &d));
    let (train, val) = data.split(0.2).unwrap();
    assert_eq!((train.len(), val.len()), (17, 5), "Keras: ⌊22·0.8⌋ = 17 training rows");
    let mut compiled =
        Compiled::new(Box::new(MeanSquaredError::default())).with_metrics(["mae"]).with_optimizer(sgd(), 0.05);
    let options = FitOptions {
        batch_size: 4,
        epochs: 2,
        shuffle: false,
        validation_split: 0.2,
        verbose: 0,
        ..Default::default()
    };
    let model = dense(&[0.5, -0.25], &[0.1], false, &d);
    let (model, history) = fit(model, &mut compiled, &data, None, &options, &mut []).unwrap();
    close_history(
        &history,
        &[
            ("loss", &[1.8787977695465088, 1.819731593132019]),
            ("mae", &[1.167506217956543, 1.1558140516281128]),
            ("val_loss", &[2.164330244064331, 2.080960512161255]),
            ("val_mae", &[1.2818013429641724, 1.1906037330627441]),
        ],
    );
    close_params(&params(&model), &[0.22665566205978394, 0.040317416191101074, 0.3436070382595062]);
    // ⌊2·0.4⌋ = 0 training rows: Keras's error.
    let tiny = Dataset::new(xs(2, 2, &d), Tensor::<2>::zeros([2, 1], &d));
    let err = tiny.split(0.6).unwrap_err().to_string();
    assert!(err.contains("not sufficient") && err.contains("2 samples"), "{err}");
}

const B_KERNEL: [f32; 9] = [0.2, -0.1, 0.05, 0.0, 0.3, -0.2, -0.15, 0.1, 0.25];
const B_BIAS: [f32; 3] = [0.0, 0.1, -0.1];

fn class_data(d: &Device) -> Dataset<2> {
    let n = 16;
    let y: Vec<f32> = (0..n).map(|i| ((i * 5) % 3) as f32).collect();
    Dataset::new(xs(n, 3, d), Tensor::<1>::from_data(TensorData::new(y, [n]), d))
}

fn class_compiled() -> Compiled {
    Compiled::new(Box::new(SparseCategoricalCrossentropy::default()))
        .with_metrics(["accuracy"])
        .with_weighted_metrics(["accuracy"])
        .with_optimizer(sgd(), 0.2)
}

const KERAS_B: [(&str, &[f64]); 6] = [
    ("accuracy", &[0.5833333134651184, 0.5833333134651184]),
    ("loss", &[1.3633118867874146, 0.9898980259895325]),
    ("val_accuracy", &[0.0, 0.5]),
    ("val_loss", &[1.259455919265747, 1.3759238719940186]),
    ("val_weighted_accuracy", &[0.0, 0.5]),
    ("weighted_accuracy", &[0.8333333134651184, 0.8333333134651184]),
];
const KERAS_B_PARAMS: [f64; 12] = [
    0.4902167320251465,
    -0.6210514903068542,
    0.28083470463752747,
    -0.15743349492549896,
    0.17998458445072174,
    0.07744890451431274,
    -0.273928165435791,
    0.3712514638900757,
    0.10267668962478638,
    -0.12564240396022797,
    0.4446166157722473,
    -0.31897422671318054,
];

#[test]
fn class_weight_weighs_training_rows_only() {
    let d = objectives::device::test_device().autodiff();
    let cw: BTreeMap<usize, f64> = [(0, 1.0), (1, 3.0), (2, 0.5)].into();
    let base = FitOptions {
        batch_size: 5,
        epochs: 2,
        shuffle: false,
        validation_split: 0.25,
        verbose: 0,
        ..Default::default()
    };
    // As a fit argument (Keras's way) and through the dataset: the same run.
    let runs = [
        (class_data(&d), FitOptions { class_weight: Some(cw.clone()), ..base.clone() }),
        (class_data(&d).with_class_weight(&cw).unwrap(), base.clone()),
    ];
    for (data, options) in runs {
        let model = dense(&B_KERNEL, &B_BIAS, true, &d);
        let (model, history) = fit(model, &mut class_compiled(), &data, None, &options, &mut []).unwrap();
        close_history(&history, &KERAS_B);
        close_params(&params(&model), &KERAS_B_PARAMS);
    }
    // Class weights and sample weights together, or twice: Keras's refusal, before training.
    let both = class_data(&d).with_sample_weight(Tensor::<1>::ones([16], &d));
    let options = FitOptions { class_weight: Some(cw.clone()), ..base.clone() };
    let err = fit(dense(&B_KERNEL, &B_BIAS, true, &d), &mut class_compiled(), &both, None, &options, &mut []);
    assert!(err.unwrap_err().to_string().contains("sample_weight"));
    let twice = class_data(&d).with_class_weight(&cw).unwrap();
    let err = fit(dense(&B_KERNEL, &B_BIAS, true, &d), &mut class_compiled(), &twice, None, &options, &mut []);
    assert!(err.unwrap_err().to_string().contains("twice"));
    // Several outputs: refused.
    let two =
        Dataset::multi(xs(4, 3, &d), vec![Tensor::<1>::zeros([4], &d).into(), Tensor::<1>::zeros([4], &d).into()]);
    assert!(two.with_class_weight(&cw).unwrap_err().to_string().contains("single output"));
    // Keras's evaluate has no class weights: a dataset carrying them is refused, not ignored.
    let model = dense(&B_KERNEL, &B_BIAS, true, &d);
    let err = evaluate(&model, &class_compiled(), &class_data(&d).with_class_weight(&cw).unwrap(), 8).unwrap_err();
    assert!(err.to_string().contains("class_weight"), "{err}");
}

/// Predicts `b` for every row; trained with SGD(lr) on MSE, `b` moves to the batch mean of y
/// at a rate the test can follow, so the batches each epoch used can be read off the History.
#[derive(Module, Debug)]
struct Constant {
    b: Param<Tensor<1>>,
}

impl Model<2> for Constant {
    fn forward(&self, x: Tensor<2>) -> Vec<DynTensor> {
        let n = x.dims()[0];
        vec![x.slice([0..n, 0..1]).mul_scalar(0.0).add(self.b.val().reshape([1, 1]).expand([n, 1])).into()]
    }
}

/// Rows `0..n` with x = 0 and y = the row index.
fn rows(n: usize, d: &Device) -> Dataset<2> {
    let y: Vec<f32> = (0..n).map(|i| i as f32).collect();
    Dataset::new(Tensor::<2>::zeros([n, 1], d), Tensor::<2>::from_data(TensorData::new(y, [n, 1]), d))
}

/// With lr 0 the model never changes: `b = 0`, so a batch's MSE is the mean of y² over its rows
/// and the epoch loss is the batch-size weighted mean of those — which rows an epoch saw.
fn epoch_losses(n: usize, options: FitOptions, val: Option<&Dataset<2>>) -> objectives_fit::History {
    let d = objectives::device::test_device().autodiff();
    let model = Constant { b: Param::from_tensor(Tensor::<1>::zeros([1], &d)) };
    let mut compiled = Compiled::new(Box::new(MeanSquaredError::default())).with_optimizer(sgd(), 0.0);
    let options = FitOptions { shuffle: false, verbose: 0, ..options };
    fit(model, &mut compiled, &rows(n, &d), val, &options, &mut []).unwrap().1
}

/// Mean of i² over the rows `range`.
fn mean_sq(range: std::ops::Range<usize>) -> f64 {
    let n = range.len() as f64;
    range.map(|i| (i * i) as f64).sum::<f64>() / n
}

fn assert_close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= 1e-5 * w.abs().max(1.0), "{got:?} vs {want:?}");
    }
}

#[test]
fn steps_per_epoch_goes_on_with_the_same_pass_as_keras() {
    // 8 rows in batches of 2 = 4 batches; 3 steps per epoch: epoch 1 rows 0..6, epoch 2 runs out
    // after one step (rows 6..8, Keras: "Your input ran out of data"), epoch 3 starts a new pass.
    let h =
        epoch_losses(8, FitOptions { batch_size: 2, epochs: 3, steps_per_epoch: Some(3), ..Default::default() }, None);
    assert_close(h.get("loss").unwrap(), &[mean_sq(0..6), mean_sq(6..8), mean_sq(0..6)]);
    // 2 steps of 4: epochs alternate halves of one pass.
    let h =
        epoch_losses(8, FitOptions { batch_size: 2, epochs: 3, steps_per_epoch: Some(2), ..Default::default() }, None);
    assert_close(h.get("loss").unwrap(), &[mean_sq(0..4), mean_sq(4..8), mean_sq(0..4)]);
    // More steps than batches: one whole pass per epoch.
    let h =
        epoch_losses(5, FitOptions { batch_size: 2, epochs: 2, steps_per_epoch: Some(9), ..Default::default() }, None);
    assert_close(h.get("loss").unwrap(), &[mean_sq(0..5), mean_sq(0..5)]);
}

#[test]
fn validation_steps_batch_size_and_freq_follow_keras() {
    let d = objectives::device::test_device().autodiff();
    let val = rows(7, &d);
    // validation_steps 2 with validation batches of 3: rows 0..6 every time (each validation
    // starts from the first batch).
    let options = FitOptions {
        batch_size: 4,
        epochs: 2,
        validation_batch_size: Some(3),
        validation_steps: Some(2),
        ..Default::default()
    };
    let h = epoch_losses(4, options, Some(&val));
    assert_close(h.get("val_loss").unwrap(), &[mean_sq(0..6), mean_sq(0..6)]);
    // validation_freq = 2 over 5 epochs: epochs 2 and 4 (1-based); the History's val_ lists have
    // two entries, and `epochs_of` says which (0-based).
    let options = FitOptions { batch_size: 4, epochs: 5, validation_freq: 2.into(), ..Default::default() };
    let h = epoch_losses(4, options, Some(&val));
    assert_eq!(h.get("loss").unwrap().len(), 5);
    assert_close(h.get("val_loss").unwrap(), &[mean_sq(0..7), mean_sq(0..7)]);
    assert_eq!(h.epochs_of("val_loss"), &[1, 3]);
    assert_eq!(h.epochs_of("loss"), &[0, 1, 2, 3, 4]);
    let csv = h.to_csv();
    assert_eq!(csv.lines().nth(1).unwrap().split(',').nth(2), Some(""), "no val_loss at epoch 0:\n{csv}");
    // A list of epochs.
    let options = FitOptions {
        batch_size: 4,
        epochs: 3,
        validation_freq: ValidationFreq::Epochs(vec![1, 3]),
        ..Default::default()
    };
    assert_eq!(epoch_losses(4, options, Some(&val)).epochs_of("val_loss"), &[0, 2]);
    // validation_data overrides validation_split, as in Keras.
    let options = FitOptions { batch_size: 4, epochs: 1, validation_split: 0.5, ..Default::default() };
    let h = epoch_losses(4, options, Some(&val));
    assert_close(h.get("loss").unwrap(), &[mean_sq(0..4)]);
    assert_close(h.get("val_loss").unwrap(), &[mean_sq(0..7)]);
}

#[test]
fn callbacks_skip_epochs_without_validation_and_bad_options_fail_before_training() {
    let d = objectives::device::test_device().autodiff();
    let model = Constant { b: Param::from_tensor(Tensor::<1>::zeros([1], &d)) };
    let mut compiled = Compiled::new(Box::new(MeanSquaredError::default())).with_optimizer(sgd(), 0.1);
    let options = FitOptions { batch_size: 4, epochs: 4, validation_freq: 2.into(), verbose: 0, ..Default::default() };
    let mut early = EarlyStopping::new("val_loss").patience(5);
    let val = rows(4, &d);
    let (_, h) = fit(model.clone(), &mut compiled, &rows(4, &d), Some(&val), &options, &mut [&mut early]).unwrap();
    assert_eq!(h.get("val_loss").unwrap().len(), 2);
    // A monitor that is never logged is still an error.
    let mut typo = EarlyStopping::new("val_los");
    let err = fit(model.clone(), &mut compiled, &rows(4, &d), Some(&val), &options, &mut [&mut typo]);
    assert!(err.unwrap_err().to_string().contains("val_los"));
    for bad in [
        FitOptions { validation_freq: 0.into(), ..options.clone() },
        FitOptions { validation_freq: vec![0, 2].into(), ..options.clone() },
        FitOptions { steps_per_epoch: Some(0), ..options.clone() },
        FitOptions { validation_steps: Some(0), ..options.clone() },
        FitOptions { validation_batch_size: Some(0), ..options.clone() },
        FitOptions { batch_size: 0, ..options.clone() },
        FitOptions { validation_split: -0.1, ..options.clone() },
        FitOptions { validation_split: f64::NAN, ..options.clone() },
    ] {
        assert!(fit(model.clone(), &mut compiled, &rows(4, &d), Some(&val), &bad, &mut []).is_err(), "{bad:?}");
    }
}

/// One row of the loader test: x = 0, y = its index.
#[derive(Clone, Debug)]
struct Row(f32);

#[derive(Clone)]
struct RowBatcher;

impl burn::data::dataloader::batcher::Batcher<Row, Dataset<2>> for RowBatcher {
    fn batch(&self, items: Vec<Row>, device: &Device) -> Dataset<2> {
        let n = items.len();
        let y: Vec<f32> = items.iter().map(|r| r.0).collect();
        Dataset::new(Tensor::<2>::zeros([n, 1], device), Tensor::<2>::from_data(TensorData::new(y, [n, 1]), device))
    }
}

#[test]
fn a_loader_follows_steps_per_epoch_and_validation_steps_like_in_memory_data() {
    use burn::data::dataloader::DataLoaderBuilder;
    use burn::data::dataset::InMemDataset;
    let d = objectives::device::test_device().autodiff();
    let loader = |n: usize| {
        DataLoaderBuilder::new(RowBatcher)
            .batch_size(2)
            .set_device(d.clone())
            .build(InMemDataset::new((0..n).map(|i| Row(i as f32)).collect::<Vec<_>>()))
    };
    let (train, val) = (loader(8), loader(7));
    let options = FitOptions {
        epochs: 4,
        steps_per_epoch: Some(3),
        validation_steps: Some(2),
        shuffle: false,
        verbose: 0,
        ..Default::default()
    };
    let model = Constant { b: Param::from_tensor(Tensor::<1>::zeros([1], &d)) };
    let mut compiled = Compiled::new(Box::new(MeanSquaredError::default())).with_optimizer(sgd(), 0.0);
    let (_, h) =
        objectives_fit::fit_loader(model, &mut compiled, train.as_ref(), Some(val.as_ref()), &options, &mut [])
            .unwrap();
    // 4 batches of 2, 3 steps an epoch: rows 0..6, then 6..8 (the pass runs out), then again.
    assert_close(h.get("loss").unwrap(), &[mean_sq(0..6), mean_sq(6..8), mean_sq(0..6), mean_sq(6..8)]);
    // Every validation: the first 2 batches, rows 0..4.
    assert_close(h.get("val_loss").unwrap(), &[mean_sq(0..4); 4]);
    // The same through in-memory data.
    let h2 = epoch_losses(8, FitOptions { batch_size: 2, ..options.clone() }, None);
    assert_close(h2.get("loss").unwrap(), h.get("loss").unwrap());
    // class_weight on a loader: applied per training batch (one output, no sample weights).
    let cw: BTreeMap<usize, f64> = [(0, 2.0)].into();
    let model = Constant { b: Param::from_tensor(Tensor::<1>::zeros([1], &d)) };
    let options = FitOptions { class_weight: Some(cw), steps_per_epoch: None, epochs: 1, ..options };
    let (_, h) = objectives_fit::fit_loader(model, &mut compiled, train.as_ref(), None, &options, &mut []).unwrap();
    // Row 0 (class 0) weighs 2: batch [0, 1] has loss (2·0 + 1·1)/2 = 0.5; the others are unweighted.
    let want = (2.0 * 0.5 + 2.0 * mean_sq(2..4) + 2.0 * mean_sq(4..6) + 2.0 * mean_sq(6..8)) / 8.0;
    assert_close(h.get("loss").unwrap(), &[want]);
}
