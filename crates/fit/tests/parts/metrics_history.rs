//! A 2-epoch History, metrics included, against Keras 3.15.1 (JAX backend) on the same model,
//! weights, data and optimizer: two outputs, `loss_weights`, metrics by name and by object per
//! output, weighted and not, validation data, sample weights.
//!
//! The Keras side (run once; its History and final weights are pasted below):
//! ```python
//! inp = keras.Input((2,))
//! a = keras.layers.Dense(1, activation="sigmoid", name="cls")(inp)
//! b = keras.layers.Dense(1, name="reg")(inp)
//! model = keras.Model(inp, [a, b])   # weights set to the values in `model()` below
//! model.compile(optimizer=keras.optimizers.SGD(0.1), loss=["binary_crossentropy", "mse"],
//!     loss_weights=[1.0, 0.5],
//!     metrics=[["accuracy", keras.metrics.AUC(num_thresholds=10, name="auc")], ["mae"]],
//!     weighted_metrics=[["accuracy"], [keras.metrics.MeanSquaredError(name="mse_w")]])
//! h = model.fit(x, [ya, yb], sample_weight=sw, batch_size=4, epochs=2, shuffle=False,
//!     validation_data=(xv, [yav, ybv]))
//! ```

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // test code: failing loudly is the point

use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor, TensorData, activation::sigmoid};
use objectives::metrics::{self, MetricSpec};
use objectives::{BinaryCrossentropy, DynTensor, MeanSquaredError};
use objectives_fit::{Compiled, Dataset, FitOptions, Model, fit};

#[derive(Module, Debug)]
struct TwoHeads {
    cls: Linear,
    reg: Linear,
}

impl Model<2> for TwoHeads {
    fn forward(&self, x: Tensor<2>) -> Vec<DynTensor> {
        vec![sigmoid(self.cls.forward(x.clone())).into(), self.reg.forward(x).into()]
    }
}

fn linear(w: [f32; 2], b: f32, d: &Device) -> Linear {
    let mut lin = LinearConfig::new(2, 1).init(d);
    lin.weight = Param::from_tensor(Tensor::<2>::from_floats([[w[0]], [w[1]]], d));
    lin.bias = Some(Param::from_tensor(Tensor::<1>::from_floats([b], d)));
    lin
}

fn t2(v: &[f32], cols: usize, d: &Device) -> Tensor<2> {
    Tensor::<2>::from_data(TensorData::new(v.to_vec(), [v.len() / cols, cols]), d)
}

#[test]
fn two_epoch_history_with_metrics_matches_keras() {
    let d = objectives::device::test_device().autodiff();
    let x = t2(&[0.5, -1.0, 1.5, 0.2, -0.3, 0.8, 0.9, 0.9, -1.2, 0.1, 0.3, -0.4, 2.0, -0.5, -0.7, -0.9], 2, &d);
    let ya = t2(&[1., 1., 0., 1., 0., 1., 1., 0.], 1, &d);
    let yb = t2(&[0.4, 1.9, -0.2, 1.1, -1.0, 0.2, 2.3, -1.3], 1, &d);
    let sw = Tensor::<1>::from_floats([1.0, 2.0, 0.5, 1.0, 1.5, 1.0, 0.0, 2.0], &d);
    let xv = t2(&[0.1, 0.2, -0.5, 0.6, 1.1, -0.3], 2, &d);
    let yav = t2(&[1., 0., 1.], 1, &d);
    let ybv = t2(&[0.3, -0.4, 1.2], 1, &d);
    let data = Dataset::multi(x, vec![ya.into(), yb.into()]).with_sample_weight(sw);
    let val = Dataset::multi(xv, vec![yav.into(), ybv.into()]);

    let auc = metrics::from_keras_json_str(r#"{"class_name": "AUC", "config": {"num_thresholds": 10, "name": "auc"}}"#)
        .unwrap();
    let mse_w =
        metrics::from_keras_json_str(r#"{"class_name": "MeanSquaredError", "config": {"name": "mse_w"}}"#).unwrap();
    let mut compiled =
        Compiled::per_output(vec![Box::new(BinaryCrossentropy::default()), Box::new(MeanSquaredError::default())])
            .unwrap()
            .with_loss_weights(vec![1.0, 0.5])
            .with_output_names(vec!["cls".into(), "reg".into()])
            .with_metrics_per_output(vec![vec!["accuracy".into(), MetricSpec::from(auc)], vec!["mae".into()]])
            .with_weighted_metrics_per_output(vec![vec!["accuracy".into()], vec![MetricSpec::from(mse_w)]])
            .with_optimizer(burn::optim::SgdConfig::new().init(), 0.1);
    let model = TwoHeads { cls: linear([0.3, -0.2], 0.1, &d), reg: linear([0.5, 0.25], -0.1, &d) };
    let options = FitOptions { epochs: 2, batch_size: 4, shuffle: false, verbose: 0, ..FitOptions::default() };
    let (model, history) = fit(model, &mut compiled, &data, Some(&val), &options, &mut []).unwrap();

    // keras.Model.fit(...).history, Keras 3.15.1.
    let keras: &[(&str, [f64; 2])] = &[
        ("cls_accuracy", [0.875, 0.875]),
        ("cls_auc", [0.9333333373069763, 1.0]),
        ("cls_loss", [0.6482555866241455, 0.6116647720336914]),
        ("cls_weighted_accuracy", [0.7777777910232544, 0.7777777910232544]),
        ("loss", [0.9189645051956177, 0.7776443958282471]),
        ("reg_loss", [0.5414177775382996, 0.3319593071937561]),
        ("reg_mae", [0.580594539642334, 0.45293617248535156]),
        ("reg_mse_w", [0.4812602400779724, 0.2950749397277832]),
        ("val_cls_accuracy", [1.0, 1.0]),
        ("val_cls_auc", [0.75, 1.0]),
        ("val_cls_loss", [0.5615131258964539, 0.5451129078865051]),
        ("val_cls_weighted_accuracy", [1.0, 1.0]),
        ("val_loss", [0.6433787941932678, 0.5962243676185608]),
        ("val_reg_loss", [0.16373135149478912, 0.1022227481007576]),
        ("val_reg_mae", [0.3531317710876465, 0.2865636348724365]),
        ("val_reg_mse_w", [0.16373135149478912, 0.1022227481007576]),
    ];
    let mut keys: Vec<&str> = history.values.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, keras.iter().map(|(k, _)| *k).collect::<Vec<_>>(), "the logged keys are Keras's");
    for (key, want) in keras {
        let got = history.get(key).unwrap();
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() <= 2e-5 * w.abs().max(1.0), "{key}: got {got:?}, Keras {want:?}");
        }
    }
    // The trained weights too (Keras: cls kernel, cls bias, reg kernel, reg bias).
    let w = |t: Tensor<2>| t.into_data().try_to_vec::<f32>().unwrap();
    let got = [w(model.cls.weight.val()), w(model.reg.weight.val())];
    for (g, k) in got.iter().zip([[0.4660910964012146, -0.167144313454628], [0.753907322883606, 0.31239983439445496]]) {
        for (a, b) in g.iter().zip(k) {
            assert!((f64::from(*a) - b).abs() < 1e-5, "{got:?}");
        }
    }
}
