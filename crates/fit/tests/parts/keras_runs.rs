//! Whole Keras 3.15.1 training runs, re-run with `fit` from the same initial weights: every
//! `tests/keras_runs/*.json` (written by `tests/keras_runs/gen.py`, which holds the Keras code of
//! each run; the file's `code` field repeats it) gives a model (Dense layers, and channels-first
//! Conv2D), its data, compile and fit arguments (SGD, with momentum or Nesterov, or Adam),
//! Keras's History and its final weights. The
//! History must agree to 2e-5 and the weights to 1e-5 (relative, absolute below 1), on the
//! test device (Flex, and wgpu in CI's second pass).

use std::collections::BTreeMap;
use std::path::Path;

use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, SgdConfig};
use burn::tensor::activation::{relu, sigmoid, softmax, tanh};
use burn::tensor::{Device, Tensor, TensorData};
use objectives::DynTensor;
use objectives::metrics::MetricSpec;
use objectives_fit::{Compiled, Dataset, FitOptions, Model, ValidationFreq, fit};
use serde_json::Value;

#[derive(Module, Debug)]
enum Layer {
    Dense(Linear),
    Conv(Conv2d),
}

#[derive(Module, Debug)]
struct Block {
    layer: Layer,
    activation: String,
}

#[derive(Module, Debug)]
struct Net {
    trunk: Vec<Block>,
    heads: Vec<Block>,
}

fn apply<const D: usize>(block: &Block, x: Tensor<D>) -> Tensor<D> {
    let y = match &block.layer {
        Layer::Dense(lin) => lin.forward(x),
        Layer::Conv(conv) => {
            let d = x.dims();
            let out = conv.forward(x.reshape([d[0], d[1], d[2], d[3]]));
            let mut dims = [0; D];
            dims.copy_from_slice(&out.dims());
            out.reshape(dims)
        }
    };
    match block.activation.as_str() {
        "relu" => relu(y),
        "sigmoid" => sigmoid(y),
        "tanh" => tanh(y),
        "softmax" => softmax(y, D - 1),
        _ => y,
    }
}

impl Net {
    fn run<const D: usize>(&self, x: Tensor<D>) -> Vec<DynTensor> {
        let h = self.trunk.iter().fold(x, |h, b| apply(b, h));
        self.heads.iter().map(|b| apply(b, h.clone()).into()).collect()
    }
}

impl<const D: usize> Model<D> for Net {
    fn forward(&self, x: Tensor<D>) -> Vec<DynTensor> {
        self.run(x)
    }
}

fn floats(v: &Value) -> Vec<f32> {
    fn walk(v: &Value, out: &mut Vec<f32>) {
        match v {
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            Value::Number(n) => out.push(n.as_f64().unwrap() as f32),
            other => panic!("not a number: {other}"),
        }
    }
    let mut out = vec![];
    walk(v, &mut out);
    out
}

fn shape_of(v: &Value) -> Vec<usize> {
    match v {
        Value::Array(a) => {
            let mut s = vec![a.len()];
            if let Some(first) = a.first() {
                s.extend(shape_of(first));
            }
            s
        }
        _ => vec![],
    }
}

fn array(v: &Value, d: &Device) -> DynTensor {
    let shape: Vec<usize> = v["shape"].as_array().unwrap().iter().map(|s| s.as_u64().unwrap() as usize).collect();
    DynTensor::from_data(TensorData::new(floats(&v["data"]), shape), d).unwrap()
}

fn arrays(v: &Value, d: &Device) -> Option<Vec<DynTensor>> {
    v.as_array().map(|a| a.iter().map(|x| array(x, d)).collect())
}

fn block(spec: &Value, d: &Device) -> Block {
    let kernel = &spec["kernel"];
    let bias = floats(&spec["bias"]);
    let layer = match spec["type"].as_str().unwrap() {
        "dense" => {
            let shape = shape_of(kernel);
            let mut lin = LinearConfig::new(shape[0], shape[1]).init(d);
            lin.weight =
                Param::from_tensor(Tensor::<2>::from_data(TensorData::new(floats(kernel), [shape[0], shape[1]]), d));
            lin.bias = Some(Param::from_tensor(Tensor::<1>::from_data(TensorData::new(bias, [shape[1]]), d)));
            Layer::Dense(lin)
        }
        "conv2d" => {
            // Keras (kh, kw, in, out) → burn (out, in, kh, kw).
            let s = shape_of(kernel);
            let (kh, kw, ci, co) = (s[0], s[1], s[2], s[3]);
            let k = Tensor::<4>::from_data(TensorData::new(floats(kernel), [kh, kw, ci, co]), d).permute([3, 2, 0, 1]);
            let mut conv = Conv2dConfig::new([ci, co], [kh, kw]).with_padding(PaddingConfig2d::Same).init(d);
            conv.weight = Param::from_tensor(k);
            conv.bias = Some(Param::from_tensor(Tensor::<1>::from_data(TensorData::new(bias, [co]), d)));
            Layer::Conv(conv)
        }
        other => panic!("layer type {other}"),
    };
    Block { layer, activation: spec["activation"].as_str().unwrap_or("linear").to_string() }
}

/// Kernel then bias of each layer, in Keras's layout.
fn weights(net: &Net) -> Vec<Vec<f32>> {
    let read = |t: Tensor<1>| t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
    net.trunk
        .iter()
        .chain(&net.heads)
        .flat_map(|b| match &b.layer {
            Layer::Dense(l) => [read(l.weight.val().flatten(0, 1)), read(l.bias.as_ref().unwrap().val())],
            Layer::Conv(c) => {
                [read(c.weight.val().permute([2, 3, 1, 0]).flatten(0, 3)), read(c.bias.as_ref().unwrap().val())]
            }
        })
        .collect()
}

fn metric_specs(v: &Value) -> Vec<MetricSpec> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|m| match m {
            Value::String(s) => MetricSpec::from(s.as_str()),
            obj => MetricSpec::from(objectives::metrics::from_keras_json(obj).unwrap()),
        })
        .collect()
}

fn compiled(c: &Value, outputs: &[String]) -> Compiled {
    let losses: Vec<Box<dyn objectives::Loss>> = c["loss_objectives"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| objectives::registry::from_keras_json(l).unwrap())
        .collect();
    let mut compiled = Compiled::per_output(losses).unwrap().with_output_names(outputs.to_vec());
    if let Some(w) = c["loss_weights"].as_array() {
        compiled = compiled.with_loss_weights(w.iter().map(|x| x.as_f64().unwrap()).collect());
    }
    let multi = outputs.len() > 1;
    if !c["metrics"].is_null() {
        compiled = if multi {
            compiled.with_metrics_per_output(c["metrics"].as_array().unwrap().iter().map(metric_specs).collect())
        } else {
            compiled.with_metrics(metric_specs(&c["metrics"]))
        };
    }
    if !c["weighted_metrics"].is_null() {
        compiled = if multi {
            compiled.with_weighted_metrics_per_output(
                c["weighted_metrics"].as_array().unwrap().iter().map(metric_specs).collect(),
            )
        } else {
            compiled.with_weighted_metrics(metric_specs(&c["weighted_metrics"]))
        };
    }
    let o = &c["optimizer"];
    let lr = o["learning_rate"].as_f64().unwrap();
    if o["class"] == "Adam" {
        // Keras's Adam: the same betas, Keras's epsilon (docs/training.md, "Optimizers, as Keras's", says where burn adds it).
        let f = |k: &str| o[k].as_f64().unwrap() as f32;
        let adam = AdamConfig::new().with_beta_1(f("beta_1")).with_beta_2(f("beta_2")).with_epsilon(f("epsilon"));
        return compiled.with_optimizer(adam.init(), lr);
    }
    assert_eq!(o["class"], "SGD");
    let momentum = o["momentum"].as_f64().unwrap_or(0.0);
    let mut sgd = SgdConfig::new();
    if momentum > 0.0 {
        // Keras's SGD momentum is burn's with dampening 0 (burn's default is 0.1).
        sgd = sgd.with_momentum(Some(MomentumConfig {
            momentum,
            dampening: 0.0,
            nesterov: o["nesterov"].as_bool().unwrap_or(false),
        }));
    }
    compiled.with_optimizer(sgd.init(), lr)
}

fn options(f: &Value) -> FitOptions {
    let opt_usize = |k: &str| f[k].as_u64().map(|v| v as usize);
    FitOptions {
        batch_size: opt_usize("batch_size").unwrap(),
        epochs: opt_usize("epochs").unwrap(),
        initial_epoch: opt_usize("initial_epoch").unwrap_or(0),
        shuffle: f["shuffle"].as_bool().unwrap_or(false),
        validation_split: f["validation_split"].as_f64().unwrap_or(0.0),
        class_weight: f["class_weight"].as_object().map(|m| {
            m.iter().map(|(k, v)| (k.parse::<usize>().unwrap(), v.as_f64().unwrap())).collect::<BTreeMap<_, _>>()
        }),
        validation_batch_size: opt_usize("validation_batch_size"),
        validation_freq: match &f["validation_freq"] {
            Value::Array(a) => ValidationFreq::Epochs(a.iter().map(|e| e.as_u64().unwrap() as usize).collect()),
            v => ValidationFreq::Every(v.as_u64().unwrap_or(1) as usize),
        },
        steps_per_epoch: opt_usize("steps_per_epoch"),
        validation_steps: opt_usize("validation_steps"),
        verbose: 0,
        ..FitOptions::default()
    }
}

fn dataset<const DI: usize>(x: &Value, y: &Value, sw: &Value, d: &Device) -> Dataset<DI> {
    let xs = array(x, d).into_tensor::<DI>().unwrap();
    let mut data = Dataset::multi(xs, arrays(y, d).unwrap());
    if let Some(w) = arrays(sw, d) {
        data = if w.len() == 1 {
            data.with_sample_weight(w.into_iter().next().unwrap())
        } else {
            data.with_sample_weights(w)
        };
    }
    data
}

/// Re-runs one Keras run; returns a description of every disagreement.
fn rerun<const DI: usize>(run: &Value, d: &Device) -> Vec<String> {
    let m = &run["model"];
    let net = Net {
        trunk: m["trunk"].as_array().unwrap().iter().map(|l| block(l, d)).collect(),
        heads: m["heads"].as_array().unwrap().iter().map(|l| block(l, d)).collect(),
    };
    let outputs: Vec<String> =
        m["heads"].as_array().unwrap().iter().map(|h| h["name"].as_str().unwrap().to_string()).collect();
    let data = dataset::<DI>(&run["x"], &run["y"], &run["sample_weight"], d);
    let val = run["validation_data"]
        .as_object()
        .map(|v| dataset::<DI>(&v["x"], &v["y"], v.get("sample_weight").unwrap_or(&Value::Null), d));
    let mut compiled = compiled(&run["compile"], &outputs);
    let (net, history) = fit(net, &mut compiled, &data, val.as_ref(), &options(&run["fit"]), &mut []).unwrap();

    let mut bad = vec![];
    let keras = run["history"].as_object().unwrap();
    let mut ours: Vec<&String> = history.values.keys().collect();
    let mut theirs: Vec<&String> = keras.keys().collect();
    ours.sort();
    theirs.sort();
    if ours != theirs {
        bad.push(format!("keys: ours {ours:?}, Keras {theirs:?}"));
    }
    for (key, want) in keras {
        let want: Vec<f64> = want.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let got = history.get(key).unwrap_or(&[]);
        let ok =
            got.len() == want.len() && got.iter().zip(&want).all(|(g, w)| (g - w).abs() <= 2e-5 * w.abs().max(1.0));
        if !ok {
            bad.push(format!("{key}: ours {got:?}, Keras {want:?}"));
        }
    }
    let fw = &run["final_weights"];
    let keras_w: Vec<Vec<f32>> = fw["trunk"]
        .as_array()
        .unwrap()
        .iter()
        .chain(fw["heads"].as_array().unwrap())
        .flat_map(|l| [floats(&l["kernel"]), floats(&l["bias"])])
        .collect();
    for (i, (g, w)) in weights(&net).iter().zip(&keras_w).enumerate() {
        let worst = g.iter().zip(w).map(|(a, b)| (a - b).abs() / b.abs().max(1.0)).fold(0.0f32, f32::max);
        if g.len() != w.len() || worst > 1e-5 {
            bad.push(format!("weights[{i}]: worst relative difference {worst:e}"));
        }
    }
    bad
}

#[test]
fn keras_training_runs_are_reproduced() {
    let d = objectives::device::test_device().autodiff();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/keras_runs");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 15, "expected the committed Keras runs in {}", dir.display());
    let mut failures = vec![];
    for path in &files {
        let run: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let rank = run["x"]["shape"].as_array().unwrap().len();
        let bad = match rank {
            2 => rerun::<2>(&run, &d),
            3 => rerun::<3>(&run, &d),
            4 => rerun::<4>(&run, &d),
            r => panic!("inputs of rank {r}"),
        };
        if !bad.is_empty() {
            failures.push(format!("{}:\n  {}", path.file_name().unwrap().to_string_lossy(), bad.join("\n  ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} runs differ from Keras:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}
