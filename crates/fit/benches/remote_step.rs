//! Benchmark (not a test): what training on remote workers costs. The main job
//! (`examples/fcn/job.rs`: batches of 32, `(32, 3, 16, 16)` → `(32, 7, 16, 16)`, the width-16 FCN,
//! `MeanSquaredError(axis=1)` with per-position weights, two metrics, Adam) trained for one epoch
//! of `--steps` steps without validation, three ways:
//!
//! - `one_device`: burn's Flex, in this process;
//! - `two_local`: `FitOptions::devices = [flex, flex]` in this process: the same split of each
//!   batch and the same exact combination as on workers, without a network;
//! - `two_workers`: two `objectives-worker` processes on loopback (started here, ended by id).
//!
//! Per variant: the median and the minimum of `--reps` epochs, per step, after one warm-up epoch;
//! for the workers, the bytes sent and received per step (the relay's counters,
//! `objectives_fit::remote::traffic`). `transfer` is `two_workers − two_local`: the time the
//! network path adds (serialization, loopback, the relay, burn's protocol) to the same compute.
//!
//! ```sh
//! cargo bench -p objectives-fit --features remote --bench remote_step -- [--steps 16] [--reps 5]
//! ```
//!
//! Output: `RESULT <variant> step_ms_med … step_ms_min …` lines, then `RESULT bytes …` and
//! `RESULT transfer …`. Without `--bench` (under `cargo test --all-targets`) it runs one step of
//! each variant as a smoke check.

#[path = "../examples/fcn/job.rs"]
#[allow(dead_code)]
mod job;
#[path = "../examples/fcn/net.rs"]
#[allow(dead_code)]
mod net;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use burn::tensor::Device;
use objectives_fit::fit;
use objectives_fit::remote::{Traffic, connect_workers, traffic};

type Error = Box<dyn std::error::Error>;

/// An `objectives-worker` process on a free loopback port, killed (by id) when dropped.
struct Worker {
    child: Child,
    url: String,
}

impl Worker {
    fn start() -> Result<Self, Error> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_objectives-worker"))
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()?;
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            BufReader::new(out).read_line(&mut line)?;
        }
        let url = line.trim().strip_prefix("listening on ").map(|a| format!("ws://{a}"));
        match url {
            Some(url) => Ok(Self { child, url }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!("the worker did not say where it listens: {line:?}").into())
            }
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One epoch of `steps` steps of the main job on `devices`; its wall time.
fn epoch(devices: &[Device], steps: usize) -> Result<Duration, Error> {
    let d = Device::flex().autodiff();
    let model = job::model(&d);
    let data = job::data(&d);
    let mut compiled = job::compiled();
    let mut options = job::options(1);
    options.validation_split = 0.0;
    options.steps_per_epoch = Some(steps);
    options.verbose = 0;
    options.devices = devices.to_vec();
    let start = Instant::now();
    fit(model, &mut compiled, &data, None, &options, &mut [])?;
    Ok(start.elapsed())
}

fn arg(flag: &str, default: usize) -> usize {
    std::env::args().skip_while(|a| a != flag).nth(1).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() -> Result<(), Error> {
    let timed = std::env::args().any(|a| a == "--bench");
    let (steps, reps) = if timed { (arg("--steps", 16), arg("--reps", 5)) } else { (1, 1) };
    let (a, b) = (Worker::start()?, Worker::start()?);
    let workers = connect_workers(&[a.url.clone(), b.url.clone()], Duration::from_secs(30))?;
    let local = Device::flex().autodiff();
    let variants: [(&str, Vec<Device>); 3] =
        [("one_device", vec![]), ("two_local", vec![local.clone(), local]), ("two_workers", workers.clone())];
    let mut medians = vec![];
    let mut bytes = (0u64, 0u64);
    for (name, devices) in &variants {
        epoch(devices, steps)?; // warm-up: first allocations, the workers' first session use
        let before: Vec<Traffic> = workers.iter().map(|w| traffic(w).unwrap_or_default()).collect();
        let mut times: Vec<f64> = (0..reps)
            .map(|_| epoch(devices, steps).map(|t| t.as_secs_f64() * 1e3 / steps as f64))
            .collect::<Result<_, _>>()?;
        if *name == "two_workers" {
            for (w, b0) in workers.iter().zip(&before) {
                let t = traffic(w).unwrap_or_default();
                bytes.0 += t.sent - b0.sent;
                bytes.1 += t.received - b0.received;
            }
        }
        times.sort_by(f64::total_cmp);
        let med = times[times.len() / 2];
        medians.push(med);
        println!("RESULT {name} step_ms_med {med:.2} step_ms_min {:.2} steps {steps} reps {reps}", times[0]);
    }
    let per_step = |b: u64| b as f64 / (steps * reps) as f64;
    println!(
        "RESULT bytes sent_per_step {:.0} received_per_step {:.0} (both workers together)",
        per_step(bytes.0),
        per_step(bytes.1)
    );
    let (local2, remote) = (medians[1], medians[2]);
    println!(
        "RESULT transfer step_ms {:.2} share {:.0}% (two_workers − two_local, of two_workers); two_workers / one_device {:.2}",
        remote - local2,
        100.0 * (remote - local2) / remote,
        remote / medians[0]
    );
    Ok(())
}
