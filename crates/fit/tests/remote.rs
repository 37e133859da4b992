//! The remote-worker path (`remote` feature) on loopback, with real `objectives-worker`
//! processes (port 0; addresses read from their output):
//!
//! - the main job on two workers has the History of the same job on two local devices (to the
//!   bit) and of one device (to f32 summation order); the `fcn` example prints the same
//!   `val_loss by epoch:` line with `--workers` as without;
//! - a worker killed mid-run: `fit` fails naming it, no step after the failure is applied, the
//!   steps before it are the right ones, and the other worker serves the next run;
//! - a worker that keeps its connection and stops answering: `fit` fails naming it after
//!   `WorkerOptions::answer_timeout`; one that accepts and never opens a session is refused at
//!   connect after `connect_timeout`.
//!
//! Every test takes a lock (they would compete for the two cores and the Flex generator's seed)
//! and a deadline: past it, the processes it started are killed by id and the test binary exits.
//! Every process is also killed (by id) and waited for when its guard drops.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::err_expect)] // test code: failing loudly is the point

#[path = "../examples/fcn/job.rs"]
#[allow(dead_code)]
mod job;
#[path = "../examples/fcn/net.rs"]
#[allow(dead_code)]
mod net;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, mpsc};
use std::time::{Duration, Instant};

use burn::tensor::{Device, Tensor};
use net::Fcn;
use objectives_fit::callbacks::{Callback, Context};
use objectives_fit::remote::{WorkerOptions, connect_workers, connect_workers_with, traffic};
use objectives_fit::{FitError, History, Model, fit};

/// One test at a time.
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The process ids this test binary started and has not ended yet.
fn started() -> MutexGuard<'static, Vec<u32>> {
    static STARTED: Mutex<Vec<u32>> = Mutex::new(Vec::new());
    STARTED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Past `limit`, kills every process started (by id) and exits the test binary: a test that
/// hangs fails instead of holding CI.
struct Deadline(Arc<AtomicBool>);

impl Deadline {
    fn new(what: &'static str, limit: Duration) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        let d = Arc::clone(&done);
        std::thread::spawn(move || {
            let start = Instant::now();
            while start.elapsed() < limit {
                if d.load(Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            for pid in started().iter() {
                let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            }
            eprintln!("{what}: still running after {limit:?}; its workers were killed");
            std::process::exit(101);
        });
        Self(done)
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// An `objectives-worker` process on a free loopback port.
struct Worker {
    child: Child,
    url: String,
}

impl Worker {
    fn start() -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_objectives-worker"))
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start objectives-worker");
        started().push(child.id());
        let stdout = child.stdout.take().expect("the worker's stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = tx.send(lines.next());
            lines.for_each(drop);
        });
        let line = rx.recv_timeout(Duration::from_secs(60)).ok().flatten().and_then(Result::ok);
        let mut w = Self { child, url: String::new() };
        let addr = line.as_deref().and_then(|l| l.strip_prefix("listening on "));
        let Some(addr) = addr else {
            w.kill();
            panic!("the worker did not say where it listens: {line:?}");
        };
        w.url = format!("ws://{addr}");
        w
    }

    /// Kills the process (by id) and waits for it.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let id = self.child.id();
        started().retain(|p| *p != id);
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The main job (`examples/fcn/job.rs`), `epochs` epochs, silent, on `devices`; with callbacks.
fn main_job(
    devices: Vec<Device>,
    epochs: usize,
    callbacks: &mut [&mut dyn Callback<Fcn>],
) -> objectives_fit::error::Result<(Fcn, History)> {
    let d = Device::flex().autodiff();
    let model = job::model(&d);
    let data = job::data(&d);
    let mut compiled = job::compiled();
    let mut options = job::options(epochs);
    options.verbose = 0;
    options.devices = devices;
    fit(model, &mut compiled, &data, None, &options, callbacks)
}

/// The model's predictions on the job's first 8 samples.
fn probe(model: &Fcn) -> Vec<f32> {
    let d = Device::flex().autodiff();
    let x: Tensor<4> = job::data(&d).x.slice(0..8);
    model.forward(x)[0].to_vec_f32().expect("predictions")
}

fn assert_close(what: &str, a: &[f64], b: &[f64], rel: f64) {
    assert_eq!(a.len(), b.len(), "{what}: {a:?} vs {b:?}");
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= rel * x.abs().max(1e-3), "{what}: {a:?} vs {b:?}");
    }
}

fn assert_histories(what: &str, a: &History, b: &History, rel: f64) {
    assert_eq!(a.values.keys().collect::<Vec<_>>(), b.values.keys().collect::<Vec<_>>(), "{what}");
    for (k, v) in &a.values {
        assert_close(&format!("{what}: {k}"), v, &b.values[k], rel);
    }
}

/// Records the model after every batch; at batch `at` runs `act` once.
struct Snapshots<'a> {
    at: usize,
    act: Option<Box<dyn FnOnce() + 'a>>,
    models: Vec<Fcn>,
}

impl Callback<Fcn> for Snapshots<'_> {
    fn wants_batch_logs(&self) -> bool {
        false
    }
    fn on_batch_end(
        &mut self,
        step: usize,
        _: &BTreeMap<String, f64>,
        ctx: &mut Context<'_, Fcn>,
    ) -> objectives_fit::error::Result<()> {
        self.models.push(ctx.model.clone());
        if step == self.at
            && let Some(act) = self.act.take()
        {
            act();
        }
        Ok(())
    }
}

/// Stops training after batch `at`.
struct StopAt(usize);

impl Callback<Fcn> for StopAt {
    fn wants_batch_logs(&self) -> bool {
        false
    }
    fn on_batch_end(
        &mut self,
        step: usize,
        _: &BTreeMap<String, f64>,
        ctx: &mut Context<'_, Fcn>,
    ) -> objectives_fit::error::Result<()> {
        if step == self.0 {
            *ctx.stop_training = true;
        }
        Ok(())
    }
}

#[test]
fn workers_train_the_main_job_as_one_device() {
    let _one = serial();
    let _deadline = Deadline::new("workers_train_the_main_job_as_one_device", Duration::from_secs(600));
    let (a, b) = (Worker::start(), Worker::start());
    let workers = connect_workers(&[a.url.clone(), b.url.clone()], Duration::from_secs(30)).expect("connect");
    let (on_workers, h_workers) = main_job(workers.clone(), 2, &mut []).expect("fit on two workers");
    let d = Device::flex().autodiff();
    let (_, h_two) = main_job(vec![d.clone(), d], 2, &mut []).expect("fit on two local devices");
    let (one, h_one) = main_job(vec![], 2, &mut []).expect("fit on one device");
    // The workers run Flex, as the local devices do (to f32 rounding: reductions may group differently).
    assert_histories("two workers vs two local devices", &h_workers, &h_two, 1e-6);
    assert_histories("two workers vs one device", &h_workers, &h_one, 1e-5);
    let (p_workers, p_one) = (probe(&on_workers), probe(&one));
    let scale = p_one.iter().fold(0f32, |m, x| m.max(x.abs()));
    let worst = p_one.iter().zip(&p_workers).fold(0f32, |m, (x, y)| m.max((x - y).abs()));
    assert!(worst <= 1e-5 * scale.max(1.0), "trained models differ by {worst} (scale {scale})");
    // It trained, and the shards did travel.
    let val = &h_workers.values["val_loss"];
    assert!(val[1] < val[0], "val_loss {val:?}");
    for w in &workers {
        let t = traffic(w).expect("a worker's traffic");
        assert!(t.sent > 100_000 && t.received > 10_000, "{t:?}");
    }
}

#[test]
fn workers_fcn_example_prints_the_same_val_loss_line() {
    let _one = serial();
    let _deadline = Deadline::new("workers_fcn_example_prints_the_same_val_loss_line", Duration::from_secs(600));
    // `cargo test` builds the examples next to the test binaries (target/<profile>/examples).
    let exe = std::env::current_exe().expect("the test binary's path");
    let fcn = exe.parent().and_then(|deps| deps.parent()).expect("the profile directory").join("examples/fcn");
    assert!(
        fcn.exists(),
        "{} is missing: `cargo test` builds the examples (with `--test remote` alone, add `--example fcn`)",
        fcn.display()
    );
    let line = |workers: Option<String>| -> String {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut cmd = Command::new(&fcn);
        cmd.current_dir(dir.path()).args(["--epochs", "4"]);
        if let Some(w) = workers {
            cmd.args(["--workers", &w]);
        }
        let out = cmd.output().expect("run the fcn example");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "fcn failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        stdout.lines().find(|l| l.starts_with("val_loss by epoch:")).expect("the val_loss line").to_string()
    };
    let alone = line(None);
    let (a, b) = (Worker::start(), Worker::start());
    let on_workers = line(Some(format!("{},{}", a.url, b.url)));
    assert_eq!(on_workers, alone);
}

#[test]
fn workers_killed_mid_run_is_named_and_the_other_serves_the_next_run() {
    let _one = serial();
    let _deadline = Deadline::new("workers_killed_mid_run", Duration::from_secs(600));
    let a = Worker::start();
    let b = Mutex::new(Worker::start());
    let b_url = b.lock().unwrap_or_else(PoisonError::into_inner).url.clone();
    let workers = connect_workers(&[a.url.clone(), b_url.clone()], Duration::from_secs(30)).expect("connect");
    // After the 4th step (step 3), the second worker's process is killed.
    let mut snapshots = Snapshots {
        at: 3,
        act: Some(Box::new(|| b.lock().unwrap_or_else(PoisonError::into_inner).kill())),
        models: vec![],
    };
    let err = main_job(workers, 2, &mut [&mut snapshots]).err().expect("training on a killed worker fails");
    match &err {
        FitError::Device { device, .. } => assert_eq!(*device, format!("worker {b_url}"), "{err}"),
        other => panic!("expected the killed worker named, got {other}"),
    }
    // No step after the failure: the callbacks saw the 4 steps before it, and those were the
    // right steps (the same model as 4 steps on two local devices).
    assert_eq!(snapshots.models.len(), 4, "steps seen: {}", snapshots.models.len());
    let d = Device::flex().autodiff();
    let (four, _) = main_job(vec![d.clone(), d], 1, &mut [&mut StopAt(3)]).expect("4 local steps");
    assert_eq!(probe(&snapshots.models[3]), probe(&four));
    // The dead worker is refused by name; the other serves the next run.
    let refused = connect_workers(std::slice::from_ref(&b_url), Duration::from_secs(5)).err().expect("refused");
    assert!(refused.to_string().contains(&b_url), "{refused}");
    let again = connect_workers(std::slice::from_ref(&a.url), Duration::from_secs(30)).expect("reconnect");
    let (_, h_again) = main_job(again, 1, &mut []).expect("the surviving worker trains");
    let (_, h_one) = main_job(vec![], 1, &mut []).expect("one device");
    assert_histories("the surviving worker vs one device", &h_again, &h_one, 1e-5);
}

/// A loopback proxy in front of a worker that can be frozen: it then keeps its connections open
/// and forwards nothing more (a worker that hangs without closing).
struct Freezable {
    url: String,
    frozen: Arc<AtomicBool>,
}

impl Freezable {
    fn start(worker_url: &str) -> Self {
        let target = worker_url.strip_prefix("ws://").expect("ws://").to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("ws://{}", listener.local_addr().expect("address"));
        let frozen = Arc::new(AtomicBool::new(false));
        let f = Arc::clone(&frozen);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(&target) else { continue };
                let (c2, s2) = (client.try_clone().expect("clone"), server.try_clone().expect("clone"));
                let (f1, f2) = (Arc::clone(&f), Arc::clone(&f));
                std::thread::spawn(move || forward(client, server, &f1));
                std::thread::spawn(move || forward(s2, c2, &f2));
            }
        });
        Self { url, frozen }
    }
}

/// Copies `from` to `to` until either closes; once frozen, holds what it reads.
fn forward(mut from: TcpStream, mut to: TcpStream, frozen: &AtomicBool) {
    let mut buf = vec![0u8; 1 << 16];
    while let Ok(n @ 1..) = from.read(&mut buf) {
        while frozen.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(20));
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Both);
}

#[test]
fn workers_hanging_one_times_out_and_is_named() {
    let _one = serial();
    let _deadline = Deadline::new("workers_hanging_one_times_out_and_is_named", Duration::from_secs(300));
    let (a, c) = (Worker::start(), Worker::start());
    let hanging = Freezable::start(&c.url);
    let options =
        WorkerOptions { connect_timeout: Duration::from_secs(30), answer_timeout: Some(Duration::from_secs(2)) };
    let workers = connect_workers_with(&[a.url.clone(), hanging.url.clone()], &options).expect("connect");
    let frozen = Arc::clone(&hanging.frozen);
    let mut snapshots =
        Snapshots { at: 1, act: Some(Box::new(move || frozen.store(true, Ordering::SeqCst))), models: vec![] };
    let start = Instant::now();
    let err = main_job(workers, 2, &mut [&mut snapshots]).err().expect("training on a hanging worker fails");
    let took = start.elapsed();
    match &err {
        FitError::Device { device, reason } => {
            assert_eq!(*device, format!("worker {}", hanging.url), "{err}");
            assert!(reason.contains("no answer within 2s") && reason.contains("not applied"), "{err}");
        }
        other => panic!("expected the hanging worker named, got {other}"),
    }
    assert!(took < Duration::from_secs(60), "the timeout took {took:?}");
    assert_eq!(snapshots.models.len(), 2, "steps seen: {}", snapshots.models.len());
}

#[test]
fn workers_silent_one_is_refused_at_connect() {
    let _one = serial();
    let _deadline = Deadline::new("workers_silent_one_is_refused_at_connect", Duration::from_secs(120));
    // Accepts connections and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("ws://{}", listener.local_addr().expect("address"));
    std::thread::spawn(move || {
        let held: Vec<TcpStream> = listener.incoming().flatten().collect();
        drop(held);
    });
    let options = WorkerOptions { connect_timeout: Duration::from_secs(1), answer_timeout: None };
    let start = Instant::now();
    let err = connect_workers_with(std::slice::from_ref(&url), &options).err().expect("a silent worker is refused");
    assert!(start.elapsed() < Duration::from_secs(20), "took {:?}", start.elapsed());
    match &err {
        FitError::Device { device, reason } => {
            assert_eq!(*device, format!("worker {url}"));
            assert!(reason.contains("no session within 1s"), "{err}");
        }
        other => panic!("expected the silent worker named, got {other}"),
    }
    // And an address that is not ws://host:port is a config error.
    assert!(matches!(connect_workers(&["127.0.0.1:1".into()], Duration::from_secs(1)), Err(FitError::Config(_))));
}
