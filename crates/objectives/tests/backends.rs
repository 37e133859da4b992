//! What must hold on every backend, run on the test device (`OBJECTIVES_TEST_DEVICE`, default
//! flex): large sums stay accurate without relying on f64, and f64 is either right or refused.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)] // test code: failing loudly is the point

use burn::tensor::{DType, FloatDType, Tensor, TensorData};
use objectives::device::{describe, f64_is_reliable, test_device};
use objectives::prelude::*;

/// 2²⁴ + 5 values in [0.5, 1.5) (a sequential f32 sum of these drifts by ~1e-3).
fn big(n: usize) -> Vec<f32> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            0.5 + (x >> 40) as f32 / (1u64 << 24) as f32
        })
        .collect()
}

#[test]
fn sums_of_two_to_the_24_values_stay_within_1e_6_of_f64() {
    let d = test_device();
    let n = (1usize << 24) + 5;
    let v = big(n);
    let exact: f64 = v.iter().map(|&f| f64::from(f)).sum();
    let t = DynTensor::from_data(TensorData::new(v, [n]), &d).unwrap();
    assert_eq!(t.dtype(), DType::F32);
    let got = t.sum_all().to_vec_f64().unwrap()[0];
    assert!(((got - exact) / exact).abs() < 1e-6, "{}: sum {got} vs f64 {exact}", describe(&d));
}

#[test]
fn a_mean_over_two_to_the_24_positions_is_accurate() {
    // MSE of y_pred = y_true + 1 over 2^24 + 5 values is exactly 1 (every term is 1).
    let d = test_device();
    let n = (1usize << 24) + 5;
    let y_true = Tensor::<1>::from_data(TensorData::new(big(n), [n]), &d).reshape([n, 1]);
    let y_pred = y_true.clone().add_scalar(1.0);
    let v = MeanSquaredError::default().call(y_true, y_pred, None).unwrap().to_vec_f64().unwrap()[0];
    assert!((v - 1.0).abs() < 1e-6, "{}: {v}", describe(&d));
}

/// float64 on the test device: the same numbers as the CPU where its f64 sums are right, and a
/// typed error (never a number) where they are not — the check that catches Mesa 22's lavapipe,
/// whose rank-1 f64 sum of 131,072 ones is 131,066.
#[test]
fn float64_is_right_or_refused() {
    let d = test_device();
    let n = 131_072;
    let y_true = Tensor::<2>::zeros([n, 1], &d);
    let y_pred = Tensor::<2>::ones([n, 1], &d);
    let loss = MeanSquaredError::default().with_dtype(FloatDType::F64);
    let got = loss.call(y_true, y_pred, None);
    if f64_is_reliable(&d) {
        let v = got.unwrap();
        assert_eq!(v.dtype(), DType::F64);
        assert_eq!(v.to_vec_f64().unwrap(), vec![1.0], "{}", describe(&d));
    } else {
        let err = got.err().map(|e| e.to_string()).unwrap_or_default();
        eprintln!("{}: float64 refused (this driver sums f64 wrongly): {err}", describe(&d));
        assert!(err.contains("float64") && err.contains("wrongly"), "{err}");
    }
}

/// burn 0.22.1's CubeCL reductions sum the wrong elements of some non-contiguous views (a rank-4
/// tensor with its last two axes swapped, reduced over axis 0, on wgpu); objectives makes every
/// input contiguous on GPU backends, so a strided `y_pred` gives the contiguous numbers.
#[test]
fn a_strided_view_gives_the_contiguous_numbers_on_both_paths() {
    let d = test_device();
    let logits: Vec<f32> = (0..16).map(|i| (i as f32 * 0.37).sin() * 3.0).collect();
    let view = Tensor::<4>::from_data(TensorData::new(logits, [2, 2, 2, 2]), &d).swap_dims(2, 3);
    let copy = Tensor::<4>::from_data(view.clone().into_data(), &d);
    let y_true = Tensor::<4>::from_data(
        TensorData::new((0..16).map(|i| ((i * 7) % 5) as f32 / 5.0).collect::<Vec<f32>>(), [2, 2, 2, 2]),
        &d,
    );
    let loss = CategoricalCrossentropy::new(CategoricalCrossentropyConfig {
        from_logits: true,
        axis: 0,
        ..Default::default()
    });
    for fused in [false, true] {
        let run = |p: &Tensor<4>| {
            objectives::fused::with_fused(fused, || loss.call(y_true.clone(), p.clone(), None))
                .unwrap()
                .to_vec_f64()
                .unwrap()[0]
        };
        let (a, b) = (run(&view), run(&copy));
        assert!((a - b).abs() <= 1e-6 * b.abs(), "{} fused={fused}: strided {a} vs contiguous {b}", describe(&d));
    }
}
