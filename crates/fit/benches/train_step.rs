//! Benchmark (not a test): one training step — forward, backward, optimizer update — of the `fcn`
//! example's network on burn's CPU backends, on the workload of the peer script
//! `shared/bench/py_train.py`, so that its PyTorch and JAX timings compare directly:
//!
//! - x `(64, 3, 16, 16)`, targets `(64, 7, 16, 16)`, sample weights `(64,)`, mask `(64, 16, 16)`,
//!   generated exactly as `shared/bench/datagen.py`'s `train_data()` (splitmix64, same draw order),
//! - the network with width 32 (`Conv2d 3→32 3×3 same, ReLU, 32→32 3×3 same, ReLU, 32→7 1×1`),
//! - `MeanSquaredError(axis=1)`, reduction `sum_over_batch_size` with the mask:
//!   `Σ mean_c((ŷ − y)²)·w·mask / Σ mask`, as py_train's loss,
//! - SGD, learning rate 0.01 (burn's optimizer).
//!
//! Variants: `fit` is `objectives_fit::fit` with one epoch on exactly one batch (batch 64, no
//! shuffle, silent: Keras's `train_on_batch`, with the loop's bookkeeping); `direct` is the bare
//! step: forward, the objectives loss, `backward`, burn's SGD step; `manual` is the bare step with
//! the loss written in plain burn ops (py_train's formula), without objectives.
//!
//! On NdArray only `manual` runs: objectives pads every tensor to rank 8 (`DynTensor`) and burn's
//! NdArray backend supports at most 6 dimensions, so the objectives loss cannot run there.
//!
//! ```sh
//! cargo bench -p objectives-fit --bench train_step -- --backend flex [--reps 21] [--warmup 5]
//! CARGO_TARGET_DIR=target/ndarray cargo bench -p objectives-fit --features ndarray \
//!     --bench train_step -- --backend ndarray
//! RAYON_NUM_THREADS=1 cargo bench -p objectives-fit --bench train_step -- --backend flex   # one thread
//! ```
//!
//! Output, one line per variant: `RESULT burn-<backend> <variant> min_ms … med_ms … loss … cores …`
//! (`loss`: the loss of the last timed step, before its update, as py_train prints; `cores`: CPU
//! time over wall time during the timed steps). Also `DATA check …`: the loss of an all-zero
//! prediction, which depends only on the data (so it must equal the Python side's to the last
//! digits). Without `--bench` (under `cargo test --all-targets`) it runs one untimed step per
//! variant as a smoke check.

#[path = "../examples/fcn/net.rs"]
mod net;

use std::time::Instant;

use burn::optim::{GradientsParams, ModuleOptimizer, SgdConfig};
use burn::tensor::{Device, Tensor, TensorData};
use net::Fcn;
use objectives::{DynTensor, LossExt as _, MeanSquaredError, MeanSquaredErrorConfig};
use objectives_fit::{Compiled, Dataset, FitOptions, Model, fit};

type Error = Box<dyn std::error::Error>;

const N: usize = 64;
const H: usize = 16;
const W: usize = 16;
const LR: f64 = 0.01;

/// `datagen.py`'s `SplitMix`: draw `i` (counting from 1) is splitmix64's mix of `seed + i·G`.
struct SplitMix {
    state: u64,
    count: u64,
}

impl SplitMix {
    fn new(seed: u64) -> Self {
        Self { state: seed, count: 0 }
    }

    fn next_u64(&mut self) -> u64 {
        self.count += 1;
        let mut z = self.state.wrapping_add(self.count.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1): the top 24 bits over 2²⁴, in f32.
    fn unif(&mut self, m: usize) -> Vec<f32> {
        (0..m).map(|_| (self.next_u64() >> 40) as f32 / (1u32 << 24) as f32).collect()
    }

    /// Irwin–Hall(4), rescaled to unit variance: `(((u0 + u1) + u2) + u3 − 2)·1.7320508`, all f32.
    fn normal(&mut self, m: usize) -> Vec<f32> {
        (0..m)
            .map(|_| {
                let u = self.unif(4);
                (((u[0] + u[1]) + u[2]) + u[3] - 2.0) * 1.732_050_8
            })
            .collect()
    }
}

/// `datagen.py`'s `train_data()`: x, y_true, sample weights and the mask (1.0 valid, 0.0 not).
fn train_data(device: &Device) -> Raw {
    let mut r = SplitMix::new(5);
    let x = r.normal(N * 3 * H * W);
    let yt = r.normal(N * 7 * H * W);
    let sw = r.unif(N);
    let mask: Vec<f32> = r.unif(N * H * W).into_iter().map(|u| if u < 0.8 { 1.0 } else { 0.0 }).collect();
    Raw {
        x: Tensor::from_data(TensorData::new(x, [N, 3, H, W]), device),
        yt: Tensor::from_data(TensorData::new(yt, [N, 7, H, W]), device),
        sw: Tensor::from_data(TensorData::new(sw, [N]), device),
        mask: Tensor::from_data(TensorData::new(mask, [N, H, W]), device),
    }
}

/// The raw workload: x, y_true, sample weights `(N,)`, mask `(N, H, W)` (1.0 valid, 0.0 not).
struct Raw {
    x: Tensor<4>,
    yt: Tensor<4>,
    sw: Tensor<1>,
    mask: Tensor<3>,
}

/// py_train's loss in plain burn ops: `Σ mean_c((ŷ − y)²)·w·mask / Σ mask`.
fn manual_loss(pred: Tensor<4>, raw: &Raw) -> Tensor<1> {
    let per: Tensor<3> = (pred - raw.yt.clone()).square().mean_dim(1).squeeze_dim(1);
    let w: Tensor<3> = raw.sw.clone().unsqueeze_dims(&[1, 2]);
    (per * w * raw.mask.clone()).sum() / raw.mask.clone().sum()
}

struct Args {
    backend: String,
    reps: usize,
    warmup: usize,
    width: usize,
    variants: Option<Vec<String>>,
    bench: bool,
}

fn parse_args() -> Result<Args, Error> {
    let mut a = Args { backend: "flex".into(), reps: 21, warmup: 5, width: 32, variants: None, bench: false };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--backend" => a.backend = value("--backend")?,
            "--reps" => a.reps = value("--reps")?.parse()?,
            "--warmup" => a.warmup = value("--warmup")?.parse()?,
            "--width" => a.width = value("--width")?.parse()?,
            "--variant" => a.variants = Some(value("--variant")?.split(',').map(str::to_string).collect()),
            "--bench" => a.bench = true,
            other => {
                return Err(format!(
                    "unknown argument {other:?}; use --backend flex|ndarray, --reps N, --warmup N, --width N, \
                     --variant fit,direct,manual"
                )
                .into());
            }
        }
    }
    if a.reps == 0 {
        return Err("--reps must be at least 1".into());
    }
    Ok(a)
}

fn device(backend: &str) -> Result<Device, Error> {
    match backend {
        "flex" => Ok(Device::flex()),
        "ndarray" => ndarray_device(),
        other => Err(format!("unknown backend {other:?}; use flex or ndarray").into()),
    }
}

#[cfg(feature = "ndarray")]
#[allow(deprecated)] // burn 0.22 deprecates NdArray in favour of Flex; comparing the two is the point
fn ndarray_device() -> Result<Device, Error> {
    Ok(Device::ndarray())
}

#[cfg(not(feature = "ndarray"))]
fn ndarray_device() -> Result<Device, Error> {
    Err("--backend ndarray needs the `ndarray` feature: CARGO_TARGET_DIR=target/ndarray cargo bench \
         -p objectives-fit --features ndarray --bench train_step -- --backend ndarray"
        .into())
}

/// Process CPU time (user + system) in seconds, from /proc (Linux; 100 ticks per second).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// One way of taking a training step: returns the loss of the step (before its update).
trait Step {
    fn step(&mut self) -> Result<f64, Error>;
}

/// `objectives_fit::fit`, one epoch on one batch.
struct FitStep<'a> {
    model: Option<Fcn>,
    compiled: Compiled,
    data: &'a Dataset<4>,
    options: FitOptions,
}

impl Step for FitStep<'_> {
    fn step(&mut self) -> Result<f64, Error> {
        let model = self.model.take().ok_or("the model was lost in a failed step")?;
        let (model, history) = fit(model, &mut self.compiled, self.data, None, &self.options, &mut [])?;
        self.model = Some(model);
        Ok(history.get("loss").and_then(|l| l.first().copied()).unwrap_or(f64::NAN))
    }
}

/// Forward, the loss in plain burn ops, backward, burn's SGD: neither objectives nor a loop.
struct ManualStep<'a> {
    model: Option<Fcn>,
    optimizer: ModuleOptimizer,
    raw: &'a Raw,
}

impl Step for ManualStep<'_> {
    fn step(&mut self) -> Result<f64, Error> {
        let model = self.model.take().ok_or("the model was lost in a failed step")?;
        let loss = manual_loss(model.features(self.raw.x.clone()), self.raw);
        let value = loss.clone().into_data().iter::<f64>().next().unwrap_or(f64::NAN);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        self.model = Some(self.optimizer.step(LR, model, grads));
        Ok(value)
    }
}

/// Forward, the objectives loss, backward, burn's SGD: no training loop around it.
struct DirectStep<'a> {
    model: Option<Fcn>,
    optimizer: ModuleOptimizer,
    loss: MeanSquaredError,
    data: &'a Dataset<4>,
    weight: DynTensor,
    mask: DynTensor,
}

impl Step for DirectStep<'_> {
    fn step(&mut self) -> Result<f64, Error> {
        let model = self.model.take().ok_or("the model was lost in a failed step")?;
        let preds = model.forward(self.data.x.clone());
        let pred = preds.first().ok_or("the network returned no output")?;
        let loss = self.loss.compute(&self.data.y[0], pred, Some(&self.weight), Some(&self.mask))?;
        let value = loss.to_vec_f64()?.first().copied().unwrap_or(f64::NAN);
        let grads = GradientsParams::from_grads(loss.into_padded().backward(), &model);
        self.model = Some(self.optimizer.step(LR, model, grads));
        Ok(value)
    }
}

fn main() -> Result<(), Error> {
    let args = parse_args()?;
    let base = device(&args.backend)?;
    let device = base.clone().autodiff();
    let raw = train_data(&device);
    // objectives' tensors are rank 8 inside; NdArray stops at rank 6.
    let objectives_ok = args.backend != "ndarray";
    let variants = args.variants.clone().unwrap_or_else(|| {
        let all: &[&str] = if objectives_ok { &["fit", "direct", "manual"] } else { &["manual"] };
        all.iter().map(|v| v.to_string()).collect()
    });
    let mse = MeanSquaredError::new(MeanSquaredErrorConfig { axis: 1 });
    // (weight, mask, dataset) as objectives' tensors, where objectives can run.
    let prepared = objectives_ok.then(|| {
        let weight: DynTensor = raw.sw.clone().into();
        let mask: DynTensor = raw.mask.clone().into();
        let data =
            Dataset::new(raw.x.clone(), raw.yt.clone()).with_sample_weight(weight.clone()).with_mask(mask.clone());
        (weight, mask, data)
    });

    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all".into());
    let zero = Tensor::<4>::zeros([N, 7, H, W], &device);
    let check = manual_loss(zero.clone(), &raw).into_data().iter::<f64>().next().unwrap_or(f64::NAN);
    let check_objectives = match &prepared {
        Some((weight, mask, data)) => {
            let v = mse.compute(&data.y[0], &zero.into(), Some(weight), Some(mask))?.to_vec_f64()?;
            format!("{:.9}", v.first().copied().unwrap_or(f64::NAN))
        }
        None => "n/a (objectives needs rank 8; NdArray has at most 6)".into(),
    };
    println!(
        "DATA check {check:.9} objectives {check_objectives} (loss of an all-zero prediction) backend {} width {} \
         rayon_threads {threads}",
        args.backend, args.width
    );
    let (warmup, reps) = if args.bench { (args.warmup, args.reps) } else { (0, 1) };

    for variant in &variants {
        let needs_objectives = || -> Result<&(DynTensor, DynTensor, Dataset<4>), Error> {
            prepared.as_ref().ok_or_else(|| {
                format!(
                    "variant {variant:?} uses objectives, which cannot run on {}: its tensors are rank 8 inside \
                     and burn's NdArray supports at most 6 dimensions; use --variant manual",
                    args.backend
                )
                .into()
            })
        };
        // The same initial weights for every variant, so that their losses agree.
        base.seed(0);
        let model = Some(Fcn::new(args.width, &device));
        let optimizer = SgdConfig::new().init();
        let mut step: Box<dyn Step> = match variant.as_str() {
            "fit" => Box::new(FitStep {
                model,
                compiled: Compiled::new(Box::new(mse.clone())).with_optimizer(optimizer, LR),
                data: &needs_objectives()?.2,
                options: FitOptions { batch_size: N, epochs: 1, shuffle: false, verbose: 0, ..Default::default() },
            }),
            "direct" => {
                let (weight, mask, data) = needs_objectives()?;
                Box::new(DirectStep {
                    model,
                    optimizer,
                    loss: mse.clone(),
                    data,
                    weight: weight.clone(),
                    mask: mask.clone(),
                })
            }
            "manual" => Box::new(ManualStep { model, optimizer, raw: &raw }),
            other => return Err(format!("unknown variant {other:?}; use fit, direct or manual").into()),
        };
        let mut loss = f64::NAN;
        for _ in 0..warmup {
            loss = step.step()?;
        }
        let mut times = Vec::with_capacity(reps);
        let cpu0 = cpu_seconds();
        let wall0 = Instant::now();
        for _ in 0..reps {
            let t0 = Instant::now();
            loss = step.step()?;
            base.sync()?;
            times.push(t0.elapsed().as_secs_f64() * 1e3);
        }
        let wall = wall0.elapsed().as_secs_f64();
        let cores = match (cpu0, cpu_seconds()) {
            (Some(a), Some(b)) if wall > 0.0 => format!("{:.2}", (b - a) / wall),
            _ => "n/a".into(),
        };
        times.sort_by(f64::total_cmp);
        let k = times.len() / 2;
        let med = if times.len() % 2 == 1 { times[k] } else { (times[k - 1] + times[k]) / 2.0 };
        let min = times[0];
        let backend = if threads == "all" { args.backend.clone() } else { format!("{}-t{threads}", args.backend) };
        if args.bench {
            println!(
                "RESULT burn-{backend:<10} {variant:<8} min_ms {min:9.3} med_ms {med:9.3} loss {loss:.6} cores {cores}"
            );
        } else {
            println!(
                "smoke burn-{backend} {variant}: one step in {min:.1} ms, loss {loss:.6} (run `cargo bench` to time)"
            );
        }
    }
    Ok(())
}
