//! The batches of a pass over the data (what Keras's `epoch_iterator.py` yields): rows of an
//! in-memory [`Dataset`] in a given order, or the batches of a burn [`DataLoader`].
//!
//! Training reads its batches through a [`TrainBatches`] source, which keeps Keras's
//! `steps_per_epoch` meaning: with it, an epoch takes that many batches and the **next epoch
//! goes on with the same pass** over the data; when the pass runs out, the epoch ends early
//! (Keras warns "Your input ran out of data") and the next epoch starts a new pass. Without it,
//! every epoch is one whole pass.

use std::collections::{BTreeMap, VecDeque};
use std::iter::Peekable;

use burn::data::dataloader::DataLoader;

use crate::data::{Dataset, permutation};
use crate::error::{FitError, Result};

/// One pass's batches and, when known in advance, how many (0 = unknown).
pub(crate) type Batches<'a, const DI: usize> = (usize, Box<dyn Iterator<Item = Result<Dataset<DI>>> + 'a>);

/// The rows of `data` in order, in batches of `batch_size`, at most `steps` of them
/// (evaluation and validation: Keras's `steps`/`validation_steps` always start from the first
/// batch).
pub(crate) fn memory_batches<const DI: usize>(
    data: &Dataset<DI>,
    batch_size: usize,
    steps: Option<usize>,
) -> Batches<'_, DI> {
    let order: Vec<usize> = (0..data.len()).collect();
    let mut steps_rows = batches(batch_size.max(1), &order);
    if let Some(s) = steps {
        steps_rows.truncate(s);
    }
    (steps_rows.len(), Box::new(steps_rows.into_iter().map(move |rows| data.rows(&rows))))
}

/// The batches of `loader`, each validated, at most `steps` of them; their number is not known
/// in advance.
pub(crate) fn loader_batches<const DI: usize>(
    loader: &dyn DataLoader<Dataset<DI>>,
    steps: Option<usize>,
) -> Batches<'_, DI> {
    let batches = loader.iter().map(checked_batch).take(steps.unwrap_or(usize::MAX));
    (0, Box::new(batches))
}

fn checked_batch<const DI: usize, E: std::fmt::Display>(b: std::result::Result<Dataset<DI>, E>) -> Result<Dataset<DI>> {
    let b = b.map_err(|e| FitError::Data(format!("the data loader failed to produce a batch: {e}")))?;
    b.validate()?;
    Ok(b)
}

/// `order` cut into batches of `batch_size` rows (the last one may be shorter).
pub(crate) fn batches(batch_size: usize, order: &[usize]) -> Vec<Vec<usize>> {
    order.chunks(batch_size.max(1)).map(<[usize]>::to_vec).collect()
}

/// Where training batches come from, epoch after epoch.
pub(crate) trait TrainBatches<const DI: usize> {
    /// Starts epoch `epoch`; returns its number of steps when known (0 = unknown).
    fn begin_epoch(&mut self, epoch: usize) -> usize;
    /// The epoch's next batch, or `None` when the epoch is over.
    fn next_batch(&mut self) -> Option<Result<Dataset<DI>>>;
}

/// Training batches of in-memory data: a pass is a (possibly shuffled) order of the rows cut
/// into batches; class weights are already sample weights in `data`.
pub(crate) struct MemoryBatches<'a, const DI: usize> {
    pub(crate) data: &'a Dataset<DI>,
    pub(crate) batch_size: usize,
    pub(crate) shuffle: bool,
    pub(crate) seed: u64,
    pub(crate) steps_per_epoch: Option<usize>,
    /// The batches of the current pass not yet used.
    pass: VecDeque<Vec<usize>>,
    /// Steps left in this epoch.
    left: usize,
}

impl<'a, const DI: usize> MemoryBatches<'a, DI> {
    pub(crate) fn new(
        data: &'a Dataset<DI>,
        batch_size: usize,
        shuffle: bool,
        seed: u64,
        steps_per_epoch: Option<usize>,
    ) -> Self {
        Self { data, batch_size, shuffle, seed, steps_per_epoch, pass: VecDeque::new(), left: 0 }
    }
}

impl<const DI: usize> TrainBatches<DI> for MemoryBatches<'_, DI> {
    fn begin_epoch(&mut self, epoch: usize) -> usize {
        if self.pass.is_empty() || self.steps_per_epoch.is_none() {
            let n = self.data.len();
            let order =
                if self.shuffle { permutation(n, self.seed.wrapping_add(epoch as u64)) } else { (0..n).collect() };
            self.pass = batches(self.batch_size, &order).into();
        }
        self.left = self.steps_per_epoch.unwrap_or(usize::MAX).min(self.pass.len());
        self.left
    }

    fn next_batch(&mut self) -> Option<Result<Dataset<DI>>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let rows = self.pass.pop_front()?;
        Some(self.data.rows(&rows))
    }
}

type LoaderIter<'a, const DI: usize> = Peekable<Box<dyn Iterator<Item = Result<Dataset<DI>>> + 'a>>;

/// Training batches of a burn [`DataLoader`]: without `steps_per_epoch` every epoch is a new
/// pass (`loader.iter()`); with it, the pass goes on across epochs as Keras's iterator does for
/// a data set of known length (a torch `DataLoader`, a `PyDataset`), starting a new one once it
/// is used up. Class weights are applied to each batch as it comes.
pub(crate) struct LoaderBatches<'a, const DI: usize> {
    loader: &'a dyn DataLoader<Dataset<DI>>,
    steps_per_epoch: Option<usize>,
    class_weight: Option<&'a BTreeMap<usize, f64>>,
    iter: Option<LoaderIter<'a, DI>>,
    left: usize,
}

impl<'a, const DI: usize> LoaderBatches<'a, DI> {
    pub(crate) fn new(
        loader: &'a dyn DataLoader<Dataset<DI>>,
        steps_per_epoch: Option<usize>,
        class_weight: Option<&'a BTreeMap<usize, f64>>,
    ) -> Self {
        Self { loader, steps_per_epoch, class_weight, iter: None, left: 0 }
    }
}

impl<'a, const DI: usize> TrainBatches<DI> for LoaderBatches<'a, DI> {
    fn begin_epoch(&mut self, _epoch: usize) -> usize {
        let spent = match self.iter.as_mut() {
            None => true,
            Some(it) => it.peek().is_none(),
        };
        if spent || self.steps_per_epoch.is_none() {
            let loader: &'a dyn DataLoader<Dataset<DI>> = self.loader;
            let it: Box<dyn Iterator<Item = Result<Dataset<DI>>> + 'a> = Box::new(loader.iter().map(checked_batch));
            self.iter = Some(it.peekable());
        }
        self.left = self.steps_per_epoch.unwrap_or(usize::MAX);
        self.steps_per_epoch.unwrap_or(0)
    }

    fn next_batch(&mut self) -> Option<Result<Dataset<DI>>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let batch = self.iter.as_mut()?.next()?;
        Some(batch.and_then(|b| b.with_class_weight_applied(self.class_weight)))
    }
}
