//! Tests of the `.npy` reader and writer.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use super::*;
use npyz::WriterBuilder;

fn npy(header: &str, data: &[u8]) -> Vec<u8> {
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend_from_slice(&(header.len() as u16).to_le_bytes());
    v.extend_from_slice(header.as_bytes());
    v.extend_from_slice(data);
    v
}

fn written<T: npyz::Serialize + npyz::AutoSerialize + Copy>(shape: &[u64], v: &[T]) -> Vec<u8> {
    let mut buf = vec![];
    let mut w = npyz::WriteOptions::<T>::new().default_dtype().shape(shape).writer(&mut buf).begin_nd().unwrap();
    w.extend(v.iter().copied()).unwrap();
    w.finish().unwrap();
    buf
}

#[test]
fn reads_what_npyz_writes() {
    let a = parse_npy(&written::<f32>(&[2, 3], &[1., 2., 3., 4., 5., 6.5])).unwrap();
    assert_eq!((a.shape, a.values), (vec![2, 3], Values::F32(vec![1., 2., 3., 4., 5., 6.5])));
    let a = parse_npy(&written::<f64>(&[], &[0.1])).unwrap();
    assert_eq!((a.shape, a.values), (vec![], Values::F64(vec![0.1])));
    let a = parse_npy(&written::<i64>(&[3], &[-1, 0, 1 << 24])).unwrap();
    assert_eq!(a.values, Values::F32(vec![-1., 0., 16777216.]));
    let a = parse_npy(&written::<u16>(&[2], &[7, 65535])).unwrap();
    assert_eq!(a.values, Values::F32(vec![7., 65535.]));
    let a = parse_npy(&written::<bool>(&[1, 2], &[true, false])).unwrap();
    assert_eq!((a.shape, a.values), (vec![1, 2], Values::F32(vec![1., 0.])));
    let a = parse_npy(&written::<i8>(&[0, 4], &[])).unwrap();
    assert_eq!((a.shape, a.values), (vec![0, 4], Values::F32(vec![])));
}

#[test]
fn big_endian_and_python2_headers() {
    let h = "{'descr': '>i2', 'fortran_order': False, 'shape': (2L,), }\n";
    let a = parse_npy(&npy(h, &[0x01, 0x02, 0xff, 0xfe])).unwrap();
    assert_eq!(a.values, Values::F32(vec![258., -2.]));
    let h = "{\"shape\":(1,),\"fortran_order\":False,\"descr\":\">f8\"}";
    let a = parse_npy(&npy(h, &1.5f64.to_be_bytes())).unwrap();
    assert_eq!(a.values, Values::F64(vec![1.5]));
}

#[test]
fn huge_declared_shapes_are_refused_before_allocating() {
    for shape in ["(1099511627776, 1099511627776)", "(18446744073709551615, 2)", "(99999999999999999999,)"] {
        let h = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
        let e = parse_npy(&npy(&h, &[0; 8])).unwrap_err();
        assert!(matches!(e, NpyError::ShapeOverflow { .. }), "{shape}: {e}");
    }
    // Fits usize but not the 8 bytes that follow: refused by the data length check.
    let h = "{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776,), }";
    let e = parse_npy(&npy(h, &[0; 8])).unwrap_err();
    assert!(matches!(e, NpyError::DataLength { expected: 8796093022208, actual: 8, .. }), "{e}");
}
