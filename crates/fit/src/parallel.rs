//! Running the parts of a data-parallel step (`FitOptions::devices`, [`crate::step`]'s
//! `Split::Devices`): which rows each device gets, one thread per device, and the parameters
//! initialized before the model is copied to the devices.

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
pub(crate) fn on_devices<T: Send, R: Send>(
    items: Vec<T>,
    devices: &[Device],
    f: impl Fn(T) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    let results: Vec<Result<R>> = std::thread::scope(|s| {
        let f = &f;
        let handles: Vec<_> = items.into_iter().map(|item| s.spawn(move || f(item))).collect();
        handles.into_iter().zip(devices).map(|(h, d)| h.join().unwrap_or_else(|_| Err(panicked(d)))).collect()
    });
    results.into_iter().collect()
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
    FitError::Data(format!(
        "the step on device {device:?} failed (a worker that stopped or a lost connection; burn's message is above); \
         the step was not applied"
    ))
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
