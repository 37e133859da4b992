//! `objectives explain` end to end: shape strings (`--y-pred-shape 64,7,16,16` …) →
//! `objectives_cli::parse_shape`, then `objectives_cli::explain` with a loss picked by the first
//! byte: never panics. Input: byte 0 picks the loss, byte 1 its `axis` (or none); the rest is
//! UTF-8 text whose lines are the y_pred, y_true, sample weight and mask shapes (missing lines:
//! not given).
#![no_main]

use libfuzzer_sys::fuzz_target;
use objectives::registry::ALL_LOSSES;
use objectives_cli::{ExplainArgs, explain, parse_shape};

/// Shapes up to this many elements are explained (explain runs the loss on zero tensors).
const EXPLAINED: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let [pick, axis, rest @ ..] = data else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let mut lines = text.split('\n');
    let y_pred = lines.next().unwrap_or_default().to_string();
    let mut opt = || lines.next().map(str::to_string);
    let (y_true, sample_weight, mask) = (opt(), opt(), opt());
    let mut small = true;
    for s in [Some(&y_pred), y_true.as_ref(), sample_weight.as_ref(), mask.as_ref()].into_iter().flatten() {
        match parse_shape("--shape", s) {
            Ok(shape) => {
                // parse_shape promises that the element count fits in usize.
                let n = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
                assert!(n.is_some(), "{s:?} → {shape:?}");
                small &= n.is_some_and(|n| n <= EXPLAINED);
            }
            Err(e) => {
                assert!(!e.to_string().contains('\n'), "multi-line error: {e}");
                return;
            }
        }
    }
    if !small {
        return;
    }
    let entry = &ALL_LOSSES[usize::from(*pick) % ALL_LOSSES.len()];
    let loss = match axis {
        0..=127 => entry.class_name.to_string(),
        a => format!(r#"{{"class_name": "{}", "config": {{"axis": {}}}}}"#, entry.class_name, i32::from(*a) - 192),
    };
    let args = ExplainArgs {
        loss: loss.into(),
        y_pred_shape: y_pred,
        y_true_shape: y_true,
        sample_weight_shape: sample_weight,
        mask_shape: mask,
    };
    let mut out = Vec::new();
    if let Err(e) = explain(&args, &mut out) {
        assert!(!format!("{e:#}").contains('\n'), "multi-line error: {e:#}");
    }
});
