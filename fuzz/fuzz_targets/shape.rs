//! Shape strings (`objectives explain --y-pred-shape 64,7,16,16`) →
//! `objectives_cli_parse::shape::parse_shape`: never panics; what it accepts has at most
//! MAX_RANK dimensions whose product fits in usize, and prints back to the same shape; what it
//! refuses has a one-line message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use objectives_cli_parse::MAX_RANK;
use objectives_cli_parse::shape::parse_shape;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match parse_shape(text) {
        Ok(shape) => {
            assert!(shape.len() <= MAX_RANK, "{text:?} → {shape:?}");
            assert!(shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).is_some(), "{text:?} → {shape:?}");
            let printed = shape.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
            assert_eq!(parse_shape(&printed), Ok(shape), "{text:?} → {printed:?}");
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.contains('\n') && !msg.contains('\r'), "multi-line error: {msg}");
        }
    }
});
