//! The batches of one pass over the data (what Keras's `epoch_iterator.py` yields): rows of an
//! in-memory [`Dataset`] in a given order, or the batches of a burn [`DataLoader`].

use burn::data::dataloader::DataLoader;

use crate::data::Dataset;
use crate::error::{FitError, Result};

/// One pass's batches and, when known in advance, how many (0 = unknown).
pub(crate) type Batches<'a, const DI: usize> = (usize, Box<dyn Iterator<Item = Result<Dataset<DI>>> + 'a>);

/// The rows of `data` in order, in batches of `batch_size` (evaluation and validation).
pub(crate) fn memory_batches<const DI: usize>(data: &Dataset<DI>, batch_size: usize) -> Batches<'_, DI> {
    let order: Vec<usize> = (0..data.len()).collect();
    let steps = batches(batch_size.max(1), &order);
    (steps.len(), Box::new(steps.into_iter().map(move |rows| data.rows(&rows))))
}

/// The batches of `loader`, each validated; their number is not known in advance.
pub(crate) fn loader_batches<const DI: usize>(loader: &dyn DataLoader<Dataset<DI>>) -> Batches<'_, DI> {
    let batches = loader.iter().map(|b| {
        let b = b.map_err(|e| FitError::Data(format!("the data loader failed to produce a batch: {e}")))?;
        b.validate()?;
        Ok(b)
    });
    (0, Box::new(batches))
}

/// `order` cut into batches of `batch_size` rows (the last one may be shorter).
pub(crate) fn batches(batch_size: usize, order: &[usize]) -> Vec<Vec<usize>> {
    order.chunks(batch_size.max(1)).map(<[usize]>::to_vec).collect()
}
