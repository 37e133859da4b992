use super::*;

#[test]
fn pairwise_sums_are_accurate_in_f32() {
    // 2^24 + 3 values in [0.5, 1.5): a sequential f32 sum drifts by ~1e-3 relative; the
    // pairwise sum stays within 1e-6 of the f64 sum (on every backend: the flex path of
    // sum_all is f64, so call the pairwise sum itself here).
    let n = (1usize << 24) + 3;
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let v: Vec<f32> = (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            0.5 + (x >> 40) as f32 / (1u64 << 24) as f32
        })
        .collect();
    let exact: f64 = v.iter().map(|&f| f as f64).sum();
    let device = crate::backend::from_env().unwrap_or_else(|_| Device::flex());
    let t = Tensor::<1>::from_data(TensorData::new(v, [n]), &device);
    let got = pairwise_sum(t).into_scalar::<f32>() as f64;
    assert!(((got - exact) / exact).abs() < 1e-6, "pairwise {got} vs f64 {exact}");
}

#[test]
fn broadcast_rules_are_numpy() {
    assert_eq!(broadcast_shapes(&[2, 3], &[3]), Some(vec![2, 3]));
    assert_eq!(broadcast_shapes(&[2, 1], &[2, 3]), Some(vec![2, 3]));
    assert_eq!(broadcast_shapes(&[], &[4]), Some(vec![4]));
    assert_eq!(broadcast_shapes(&[2], &[2, 3]), None);
}

#[test]
fn axis_reductions_drop_the_axis() -> Result<()> {
    let d = Device::flex();
    let x: DynTensor = Tensor::<3>::ones([2, 7, 4], &d).into();
    let s = x.clone().sum_axis(1);
    assert_eq!(s.shape(), &[2, 4]);
    assert_eq!(s.to_vec_f32()?, vec![7.0; 8]);
    assert_eq!(x.clone().sum_all().into_scalar::<f32>()?, 56.0);
    assert!(x.normalize_axis("t", 3).is_err());
    Ok(())
}
