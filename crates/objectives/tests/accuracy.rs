//! Large reductions stay accurate: the reducer accumulates in f64, so reducing 2²⁴+ f32 values
//! matches an f64 reference to 1e-6 relative (issue 2: a naive f32 running sum over a
//! (4096, 4096) tensor came out 2.9% low).

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // test code: failing loudly is the point

use burn::tensor::{Distribution, Tensor};
use objectives::prelude::*;

#[test]
fn reducing_2_pow_24_elements_matches_f64_reference() -> objectives::Result<()> {
    let d = objectives::device::test_device();
    let (rows, cols) = (4096usize, 4097usize); // 16_781_312 > 2^24 elements
    let x = Tensor::<2>::random([rows, cols], Distribution::Uniform(0.0, 2.145), &d);
    let w = Tensor::<1>::random([rows], Distribution::Uniform(0.5, 1.5), &d);
    let xv = DynTensor::from(&x).to_vec_f64()?;
    let wv = DynTensor::from(&w).to_vec_f64()?;
    let sum: f64 = xv.iter().sum();
    let weighted: f64 = xv.chunks(cols).zip(&wv).map(|(row, w)| row.iter().sum::<f64>() * w).sum();
    let wsum: f64 = wv.iter().sum();
    let n = (rows * cols) as f64;
    let cases = [
        (Reduction::Sum, None, sum),
        (Reduction::SumOverBatchSize, None, sum / n),
        (Reduction::SumOverBatchSize, Some(w.clone()), weighted / n),
        // (rows,) weights are per-sample, aligned to (rows, 1); the divisor is Σw as passed.
        (Reduction::MeanWithSampleWeight, Some(w.clone()), weighted / wsum),
    ];
    for (reduction, weight, reference) in cases {
        let got = reduce_weighted_values(x.clone().into(), weight.map(Into::into), None, reduction)?
            .into_scalar::<f32>()? as f64;
        let rel = (got - reference).abs() / reference.abs();
        assert!(rel <= 1e-6, "{reduction}: got {got}, f64 reference {reference}, relative error {rel:e}");
    }
    Ok(())
}
