//! Gradient buffers, recycled.
//!
//! A fresh buffer of tens of megabytes costs a page fault per 4 KiB the first time the kernel
//! writes it — about as much as the kernel itself. So a gradient's storage is a pooled `Vec`
//! handed to burn through a shared-bytes owner: when burn drops the gradient tensor, the owner
//! puts the `Vec` back, and the next loss of the same size writes into memory that is already
//! mapped. The pool keeps at most [`MAX_BUFFERS`] buffers and [`MAX_BYTES`] in all; beyond that
//! buffers are freed normally. [`release`] empties it.

use std::sync::Mutex;

use burn::backend::flex::{FlexTensor, Layout};
use burn::tensor::{AllocationProperty, Bytes, DType, Shape};

/// Buffers kept for reuse.
const MAX_BUFFERS: usize = 4;
/// Bytes kept for reuse in all.
const MAX_BYTES: usize = 1 << 30;

static POOL: Mutex<Vec<Vec<f32>>> = Mutex::new(Vec::new());

/// A gradient buffer of exactly `n` elements (its contents are overwritten by the kernel).
pub(crate) fn take(n: usize) -> Vec<f32> {
    if let Ok(mut pool) = POOL.lock()
        && let Some(i) = pool.iter().position(|v| v.len() == n)
    {
        return pool.swap_remove(i);
    }
    vec![0.0; n]
}

/// Returns buffers to the pool when the tensor that owns them is dropped.
struct Recycle(Vec<f32>);

impl AsRef<[u8]> for Recycle {
    fn as_ref(&self) -> &[u8] {
        bytemuck_cast(&self.0)
    }
}

impl Drop for Recycle {
    fn drop(&mut self) {
        let v = std::mem::take(&mut self.0);
        if let Ok(mut pool) = POOL.lock() {
            let held: usize = pool.iter().map(|b| b.len() * 4).sum();
            if pool.len() < MAX_BUFFERS && held + v.len() * 4 <= MAX_BYTES {
                pool.push(v);
            }
        }
    }
}

/// `&[f32]` as bytes (safe: every f32 bit pattern is four plain bytes).
fn bytemuck_cast(v: &[f32]) -> &[u8] {
    bytemuck::cast_slice(v)
}

/// Wraps a filled gradient buffer as a Flex tensor of `shape`; its memory returns to the pool
/// when burn drops the tensor.
pub(crate) fn into_tensor(grad: Vec<f32>, shape: Shape) -> FlexTensor {
    let bytes = Bytes::from_shared(bytes::Bytes::from_owner(Recycle(grad)), AllocationProperty::Native);
    FlexTensor::new(bytes, Layout::contiguous(shape), DType::F32)
}

/// Frees every pooled gradient buffer.
pub fn release() {
    if let Ok(mut pool) = POOL.lock() {
        pool.clear();
    }
}
