//! Running the parts of a data-parallel step (`FitOptions::devices`, [`crate::step`]'s
//! `Split::Devices`): which rows each device gets, one thread per device, and the parameters
//! initialized before the model is copied to the devices.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor};

use crate::data::Dataset;
use crate::error::{FitError, Result};
use crate::model::Model;

/// The contiguous row ranges of `n` rows over `k` devices: sizes differ by at most one (the
/// first `n mod k` shards have one row more); a device with no rows gets none.
pub(crate) fn shard_bounds(n: usize, k: usize) -> Vec<(usize, usize)> {
    let (base, extra) = (n / k, n % k);
    let mut out = Vec::with_capacity(k);
    let mut start = 0;
    for i in 0..k {
        let len = base + usize::from(i < extra);
        if len > 0 {
            out.push((start, start + len));
        }
        start += len;
    }
    out
}

/// Runs `f` on every item concurrently, one thread per item, the `i`-th on `devices[i]`; the
/// results in the items' order, or the first error in that order. A thread that panicked (a
/// remote worker that went away panics in burn's client) becomes an error naming its device.
///
/// A remote worker with an answer timeout ([`crate::remote::WorkerOptions`]) is watched: if its
/// thread has not finished within the timeout, the worker's connection is closed (which fails
/// burn's waiting reads and ends the thread) and the result is an error saying so.
pub(crate) fn on_devices<T: Send, R: Send>(
    items: Vec<T>,
    devices: &[Device],
    f: impl Fn(T) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    let n = items.len();
    let timeouts: Vec<Option<Duration>> = devices.iter().take(n).map(answer_timeout).collect();
    let (finished_tx, finished_rx) = mpsc::channel::<usize>();
    let (results, timed_out) = std::thread::scope(|s| {
        let f = &f;
        let handles: Vec<_> = items
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                let finished = Finished(finished_tx.clone(), i);
                s.spawn(move || {
                    let _finished = finished;
                    f(item)
                })
            })
            .collect();
        drop(finished_tx);
        let timed_out = watch(&timeouts, devices, &finished_rx);
        let results: Vec<Result<R>> =
            handles.into_iter().zip(devices).map(|(h, d)| h.join().unwrap_or_else(|_| Err(panicked(d)))).collect();
        (results, timed_out)
    });
    results
        .into_iter()
        .zip(timed_out)
        .zip(&timeouts)
        .zip(devices)
        .map(|(((r, late), t), d)| match (late, t) {
            (true, Some(t)) => Err(FitError::Device {
                device: device_name(d),
                reason: format!(
                    "no answer within {t:?} (WorkerOptions::answer_timeout); its connection was closed and the step \
                     was not applied"
                ),
            }),
            _ => r,
        })
        .collect()
}

/// Tells the watcher, when dropped (also while a panic unwinds), that item `.1` finished.
struct Finished(mpsc::Sender<usize>, usize);

impl Drop for Finished {
    fn drop(&mut self) {
        let _ = self.0.send(self.1);
    }
}

/// Waits for the items with a timeout to finish; interrupts the device of each one that does not
/// in time. Which items were interrupted.
fn watch(timeouts: &[Option<Duration>], devices: &[Device], finished: &mpsc::Receiver<usize>) -> Vec<bool> {
    let n = timeouts.len();
    let mut late = vec![false; n];
    let mut done = vec![false; n];
    let start = Instant::now();
    loop {
        let next =
            (0..n).filter(|&i| !done[i] && !late[i]).filter_map(|i| timeouts[i].map(|t| (i, t))).min_by_key(|p| p.1);
        let Some((i, t)) = next else { return late };
        let elapsed = start.elapsed();
        if elapsed >= t {
            interrupt(&devices[i]);
            late[i] = true;
            continue;
        }
        match finished.recv_timeout(t - elapsed) {
            Ok(j) => done[j] = true,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return late,
        }
    }
}

#[cfg(feature = "remote")]
use crate::remote::{answer_timeout, interrupt};

#[cfg(not(feature = "remote"))]
fn answer_timeout(_: &Device) -> Option<Duration> {
    None
}

#[cfg(not(feature = "remote"))]
fn interrupt(_: &Device) {}

/// A device's name in errors: a remote worker's address, else burn's name.
fn device_name(device: &Device) -> String {
    #[cfg(feature = "remote")]
    if let Some(url) = crate::remote::worker_url(device) {
        return format!("worker {url}");
    }
    format!("device {device:?}")
}

/// `model` with every parameter initialized. burn initializes parameters lazily, at first use;
/// those not initialized yet are initialized here by one forward pass on the main device, in
/// the order one device would initialize them: replicas copied from it then start from exactly
/// the single-device weights.
pub(crate) fn initialized<const DI: usize, M: Model<DI>>(model: M, batch: &Dataset<DI>) -> M {
    if any_uninitialized(&model) {
        let _ = model.forward(batch.x.clone());
    }
    model
}

/// Whether some float parameter of `model` is not initialized yet.
fn any_uninitialized<M: Module>(model: &M) -> bool {
    struct Check(bool);
    impl ModuleVisitor for Check {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0 |= !param.is_initialized();
        }
    }
    let mut c = Check(false);
    model.visit(&mut c);
    c.0
}

/// The error of a device whose thread panicked: names the device.
fn panicked(device: &Device) -> FitError {
    FitError::Device {
        device: device_name(device),
        reason: "its part of the step failed (a worker that stopped or a lost connection; burn's message is \
                 above); the step was not applied"
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::shard_bounds;

    #[test]
    fn shards_are_contiguous_and_uneven_by_at_most_one() {
        assert_eq!(shard_bounds(10, 3), vec![(0, 4), (4, 7), (7, 10)]);
        assert_eq!(shard_bounds(2, 3), vec![(0, 1), (1, 2)]);
        assert_eq!(shard_bounds(6, 2), vec![(0, 3), (3, 6)]);
    }
}
