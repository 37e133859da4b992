//! Fused vs composed losses on the W1–W4 workloads of `shared/bench` (loss value and gradient
//! with respect to `y_pred`, f32, through burn autodiff on Flex or the `--device` given), plus a STREAM-style triad,
//! all in one run so the ratios share the machine's state.
//!
//! `cargo bench -p objectives --bench fused [-- --reps 9 --w w1,w2,w3,w4 --threads 2 --device flex]`
//!
//! `--device wgpu` (or `cuda`) times the CubeCL kernels on a GPU: build with `--features wgpu`;
//! every timed step then waits for the device (`Device::sync`), and the triad line is the host's.
//!
//! `fused` lines time consecutive steps against the triad measured once at the start (the issue's
//! method); `interleaved` lines alternate each step with a triad pass and compare the medians of
//! both (`triad_GB/s`): on a shared machine whose share of cores and bandwidth changes from second
//! to second, both then see the same share, and no step finds its inputs left in the last-level
//! cache by the previous one (W1 and W2 are only ~3× its size).
//!
//! `--w w4mse` adds MSE on W4's data, the memory-bound reference for W4's BCE; `--w w5` sparse
//! CE from logits on channels-first segmentation logits (16, 21, 256, 256), `axis=1`; `--threads 1`
//! gives the single-thread numbers.
//!
//! Data follow `shared/bench/datagen.py`'s splitmix64 draw order, so the printed loss values
//! match the JAX and PyTorch scripts'. Output lines start with `RESULT` (machine-readable).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::Instant;

use burn::tensor::{Device, Tensor, TensorData};
use objectives::fused::{calls, with_fused};
use objectives::prelude::*;

const G: u64 = 0x9E37_79B9_7F4A_7C15;

/// datagen.py's SplitMix: draw `i` (1-based, counting every draw) is `mix(seed + i·G)`.
struct SplitMix {
    state: u64,
    count: u64,
}

impl SplitMix {
    fn new(seed: u64) -> Self {
        Self { state: seed, count: 0 }
    }
    fn take(&mut self) -> u64 {
        self.count += 1;
        let mut z = self.state.wrapping_add(self.count.wrapping_mul(G));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unif(&mut self) -> f32 {
        (self.take() >> 40) as f32 / (1u64 << 24) as f32
    }
    fn normal(&mut self) -> f32 {
        let (a, b, c, d) = (self.unif(), self.unif(), self.unif(), self.unif());
        (((a + b) + c) + d - 2.0) * 1.732_050_8
    }
    fn normals(&mut self, n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|_| self.normal() * scale).collect()
    }
}

struct Workload {
    name: &'static str,
    loss: Box<dyn Loss>,
    y_true: DynTensor,
    pred: Vec<f32>,
    shape: Vec<usize>,
    weight: Option<DynTensor>,
    mask: Option<DynTensor>,
    bytes: f64,
}

fn dynt(v: Vec<f32>, shape: &[usize], d: &Device) -> DynTensor {
    DynTensor::from_data(TensorData::new(v, shape.to_vec()), d).unwrap()
}

fn workload(name: &str, d: &Device) -> Workload {
    match name {
        "w1" => {
            let (n, c, h, w) = (4096, 7, 16, 16);
            let mut r = SplitMix::new(1);
            let yt = r.normals(n * c * h * w, 1.0);
            let yp = r.normals(n * c * h * w, 1.0);
            let sw: Vec<f32> = (0..n).map(|_| r.unif()).collect();
            let mask: Vec<f32> = (0..n * h * w).map(|_| if r.unif() < 0.8 { 1.0 } else { 0.0 }).collect();
            Workload {
                name: "w1",
                loss: Box::new(MeanSquaredError::new(MeanSquaredErrorConfig { axis: 1 })),
                y_true: dynt(yt, &[n, c, h, w], d),
                pred: yp,
                shape: vec![n, c, h, w],
                weight: Some(dynt(sw, &[n], d)),
                mask: Some(dynt(mask, &[n, h, w], d)),
                bytes: (n * c * h * w * 4 * 3 + n * 4 + n * h * w) as f64,
            }
        }
        "w2" => {
            let (n, k) = (8192, 1000);
            let mut r = SplitMix::new(2);
            let x = r.normals(n * k, 2.0);
            let mut y = vec![0.0f32; n * k];
            for (i, row) in y.chunks_mut(k).enumerate().take(n) {
                let _ = i;
                row[(r.take() % k as u64) as usize] = 1.0;
            }
            Workload {
                name: "w2",
                loss: Box::new(CategoricalCrossentropy::new(CategoricalCrossentropyConfig {
                    from_logits: true,
                    ..Default::default()
                })),
                y_true: dynt(y, &[n, k], d),
                pred: x,
                shape: vec![n, k],
                weight: None,
                mask: None,
                bytes: (n * k * 4 * 3) as f64,
            }
        }
        "w3" => {
            let (n, k) = (2048, 32000);
            let mut r = SplitMix::new(3);
            let x = r.normals(n * k, 2.0);
            let lab: Vec<f32> = (0..n).map(|_| (r.take() % k as u64) as f32).collect();
            Workload {
                name: "w3",
                loss: Box::new(SparseCategoricalCrossentropy::new(SparseCategoricalCrossentropyConfig {
                    from_logits: true,
                    ..Default::default()
                })),
                y_true: dynt(lab, &[n], d),
                pred: x,
                shape: vec![n, k],
                weight: None,
                mask: None,
                bytes: (n * k * 4 * 2 + n * 4) as f64,
            }
        }
        "w4" => {
            let (n, k) = (4096, 4096);
            let mut r = SplitMix::new(4);
            let x = r.normals(n * k, 2.0);
            let y: Vec<f32> = (0..n * k).map(|_| if r.unif() < 0.5 { 1.0 } else { 0.0 }).collect();
            Workload {
                name: "w4",
                loss: Box::new(BinaryCrossentropy::new(BinaryCrossentropyConfig {
                    from_logits: true,
                    ..Default::default()
                })),
                y_true: dynt(y, &[n, k], d),
                pred: x,
                shape: vec![n, k],
                weight: None,
                mask: None,
                bytes: (n * k * 4 * 3) as f64,
            }
        }
        "w5" => {
            // Channels-first segmentation logits: sparse CE along axis 1, each "row" of 21 classes
            // strided by 256·256 (not in the default list).
            let (n, k, h, w) = (16, 21, 256, 256);
            let mut r = SplitMix::new(5);
            let x = r.normals(n * k * h * w, 2.0);
            let lab: Vec<f32> = (0..n * h * w).map(|_| (r.take() % k as u64) as f32).collect();
            Workload {
                name: "w5",
                loss: Box::new(SparseCategoricalCrossentropy::new(SparseCategoricalCrossentropyConfig {
                    from_logits: true,
                    axis: 1,
                    ..Default::default()
                })),
                y_true: dynt(lab, &[n, h, w], d),
                pred: x,
                shape: vec![n, k, h, w],
                weight: None,
                mask: None,
                bytes: (n * k * h * w * 4 * 2 + n * h * w * 4) as f64,
            }
        }
        "w4mse" => {
            // W4's data under MSE: a memory-bound reference for W4's compute (not in the default list).
            let w4 = workload("w4", d);
            Workload { name: "w4mse", loss: Box::new(MeanSquaredError::new(MeanSquaredErrorConfig { axis: -1 })), ..w4 }
        }
        other => panic!("unknown workload {other} (w1, w2, w3, w4, w4mse, w5)"),
    }
}

/// One loss value + gradient through autodiff; returns (loss, Σ|grad|) on demand.
fn step(w: &Workload, pred: &Tensor<4>, shape: &[usize], check: bool) -> (f64, f64) {
    let p = pred.clone().require_grad();
    let y_pred = DynTensor::from_padded_checked(
        p.clone().reshape([1, 1, 1, 1, pred.dims()[0], pred.dims()[1], pred.dims()[2], pred.dims()[3]]),
        shape.to_vec(),
    )
    .unwrap();
    let loss = w.loss.compute(&w.y_true, &y_pred, w.weight.as_ref(), w.mask.as_ref()).unwrap();
    let grads = loss.clone().into_padded().backward();
    let g = p.grad(&grads).unwrap();
    if check {
        let v = loss.to_vec_f64().unwrap()[0];
        let gsum = g.abs().sum().into_scalar::<f64>();
        (v, gsum)
    } else {
        // Force the gradient to exist (Flex is synchronous; a GPU is waited for).
        std::hint::black_box(&g);
        g.device().sync().unwrap();
        (0.0, 0.0)
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time(reps: usize, mut f: impl FnMut()) -> (f64, f64) {
    for _ in 0..2 {
        f();
    }
    let ts: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    (ts.iter().copied().fold(f64::INFINITY, f64::min), median(ts))
}

/// STREAM triad `a = b + s·c` on f32 arrays of `n` elements, split over `threads` threads.
struct Triad {
    a: Vec<f32>,
    b: Vec<f32>,
    c: Vec<f32>,
    threads: usize,
}

impl Triad {
    fn new(n: usize, threads: usize) -> Self {
        Self { a: vec![0.0; n], b: vec![1.0; n], c: vec![2.0; n], threads }
    }

    /// One pass, on rayon's pool (the kernels' threads).
    fn once(&mut self) {
        use rayon::prelude::*;
        let chunk = self.a.len().div_ceil(self.threads);
        self.a.par_chunks_mut(chunk).zip(self.b.par_chunks(chunk)).zip(self.c.par_chunks(chunk)).for_each(
            |((a, b), c)| {
                for ((a, b), c) in a.iter_mut().zip(b).zip(c) {
                    *a = b + 3.0 * c;
                }
            },
        );
        std::hint::black_box(&self.a);
    }

    /// GB/s of a pass that took `ms` (STREAM's count: two reads and a write per element).
    fn gbs(&self, ms: f64) -> f64 {
        (self.a.len() * 4 * 3) as f64 / (ms / 1e3) / 1e9
    }
}

/// `reps` timings of `f`, each right after one of the triad's, so that both see the same share of
/// a shared machine: `(min, median)` of `f` and the triad's median GB/s.
fn time_interleaved(reps: usize, triad: &mut Triad, mut f: impl FnMut()) -> (f64, f64, f64) {
    for _ in 0..2 {
        triad.once();
        f();
    }
    let mut ts = Vec::with_capacity(reps);
    let mut tt = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t = Instant::now();
        triad.once();
        tt.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        f();
        ts.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let gbs = triad.gbs(median(tt));
    (ts.iter().copied().fold(f64::INFINITY, f64::min), median(ts), gbs)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |k: &str| args.iter().position(|a| a == k).and_then(|i| args.get(i + 1)).cloned();
    let reps: usize = arg("--reps").and_then(|v| v.parse().ok()).unwrap_or(9);
    let works = arg("--w").unwrap_or_else(|| "w1,w2,w3,w4".into());
    let threads: usize = arg("--threads").and_then(|v| v.parse().ok()).unwrap_or(2);
    let composed_reps: usize = arg("--composed-reps").and_then(|v| v.parse().ok()).unwrap_or(3);
    rayon::ThreadPoolBuilder::new().num_threads(threads).build_global().ok();
    let backend: objectives::device::BackendName = arg("--device").as_deref().unwrap_or("flex").parse().unwrap();
    let d = backend.device().unwrap().autodiff();
    println!("RESULT device {}", objectives::device::describe(&d));

    let mut triad = Triad::new(1 << 25, threads);
    let (_, med) = time(9, || triad.once());
    let gbs = triad.gbs(med);
    println!("RESULT stream triad threads {threads} GB/s {gbs:.2}");
    for name in works.split(',') {
        let w = workload(name, &d);
        let shape = w.shape.clone();
        let mut dims4 = vec![1; 4 - shape.len()];
        dims4.extend(&shape);
        let pred = Tensor::<4>::from_data(TensorData::new(w.pred.clone(), dims4), &d);
        let before = calls();
        let (v_f, g_f) = with_fused(true, || step(&w, &pred, &shape, true));
        assert!(calls() > before, "{name}: the fused path did not run");
        let (fmin, fmed) = with_fused(true, || {
            time(reps, || {
                let _ = step(&w, &pred, &shape, false);
            })
        });
        let gb = |ms: f64| w.bytes / (ms / 1e3) / 1e9;
        println!(
            "RESULT {} fused min_ms {fmin:.3} med_ms {fmed:.3} GB/s {:.2} ({:.0}% of triad) loss {v_f:.7} gsum_abs {g_f:.6e}",
            w.name,
            gb(fmed),
            100.0 * gb(fmed) / gbs
        );
        let (imin, imed, igbs) = with_fused(true, || {
            time_interleaved(reps, &mut triad, || {
                let _ = step(&w, &pred, &shape, false);
            })
        });
        println!(
            "RESULT {} interleaved min_ms {imin:.3} med_ms {imed:.3} GB/s {:.2} ({:.0}% of triad) triad_GB/s {igbs:.2}",
            w.name,
            gb(imed),
            100.0 * gb(imed) / igbs
        );
        if composed_reps == 0 {
            continue; // `--composed-reps 0`: the fused path only (profiling)
        }
        let (v_c, g_c) = with_fused(false, || step(&w, &pred, &shape, true));
        let (cmin, cmed) = with_fused(false, || {
            time(composed_reps, || {
                let _ = step(&w, &pred, &shape, false);
            })
        });
        println!(
            "RESULT {} composed min_ms {cmin:.3} med_ms {cmed:.3} GB/s {:.2} loss {v_c:.7} gsum_abs {g_c:.6e}",
            w.name,
            gb(cmed)
        );
        println!("RESULT {} speedup fused/composed {:.1}x", w.name, cmed / fmed);
    }
}
