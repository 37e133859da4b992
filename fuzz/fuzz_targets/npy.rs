//! `.npy` bytes → `objectives_cli_parse::npy::parse_npy`: never panics, allocates only what the file
//! holds, and agrees with npyz whenever both accept the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use objectives_cli_parse::npy::{Values, parse_npy};

fuzz_target!(|data: &[u8]| {
    let Ok(array) = parse_npy(data) else { return };
    let n: usize = array.shape.iter().product();
    assert_eq!(array.values.len(), n, "shape {:?}", array.shape);
    // The declared data was checked against the bytes present: at most 8 bytes an element.
    assert!(n <= data.len(), "{n} elements from {} bytes", data.len());
    // Differential check: npyz's reader is safe to call on a file we validated.
    let Ok(file) = npyz::NpyFile::new(data) else { return };
    let shape: Vec<usize> = file.shape().iter().map(|&d| d as usize).collect();
    assert_eq!(shape, array.shape);
    let theirs: Vec<u64> = match &array.values {
        Values::F64(_) => match file.into_vec::<f64>() {
            Ok(v) => v.iter().map(|x| x.to_bits()).collect(),
            Err(_) => return,
        },
        Values::F32(_) => match file.into_vec::<f32>() {
            Ok(v) => v.iter().map(|x| u64::from(x.to_bits())).collect(),
            Err(_) => return, // integer and bool files: npyz does not convert them to f32
        },
    };
    let ours: Vec<u64> = match &array.values {
        Values::F64(v) => v.iter().map(|x| x.to_bits()).collect(),
        Values::F32(v) => v.iter().map(|x| u64::from(x.to_bits())).collect(),
    };
    assert_eq!(ours, theirs);
});
