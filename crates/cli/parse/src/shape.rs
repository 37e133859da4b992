//! Shape strings, as `objectives explain --y-pred-shape 64,7,16,16` takes them.

use crate::MAX_RANK;

/// Why a shape string was refused. Each message is one line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShapeError {
    /// Not comma-separated non-negative integers.
    #[error("{0:?} is not a shape; write the dimensions separated by commas, e.g. 64,7,16,16")]
    NotAShape(String),
    /// More than [`MAX_RANK`] dimensions.
    #[error("shape {} has rank {}; objectives handles up to rank {MAX_RANK}", crate::npy::abbreviated(shape), shape.len())]
    RankTooHigh {
        /// The dimensions.
        shape: Vec<usize>,
    },
    /// The element count overflows `usize`.
    #[error("shape {shape:?} has more elements than this machine can address")]
    Overflow {
        /// The dimensions.
        shape: Vec<usize>,
    },
}

/// Parses `64,7,16,16` (spaces around dimensions allowed), or `scalar` / an empty string for a
/// 0-d shape. The result has at most [`MAX_RANK`] dimensions whose product fits in `usize`.
///
/// # Errors
/// [`ShapeError`].
pub fn parse_shape(text: &str) -> Result<Vec<usize>, ShapeError> {
    let t = text.trim();
    if t.is_empty() || t == "scalar" {
        return Ok(vec![]);
    }
    let mut shape = vec![];
    for d in t.split(',') {
        let d = d.trim();
        // `usize::from_str` also takes a leading `+`; a shape is digits only.
        if d.is_empty() || !d.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ShapeError::NotAShape(text.to_string()));
        }
        shape.push(d.parse::<usize>().map_err(|_| ShapeError::NotAShape(text.to_string()))?);
    }
    if shape.len() > MAX_RANK {
        return Err(ShapeError::RankTooHigh { shape });
    }
    if shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).is_none() {
        return Err(ShapeError::Overflow { shape });
    }
    Ok(shape)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(parse_shape(" 64, 7,16 ,16 "), Ok(vec![64, 7, 16, 16]));
        assert_eq!(parse_shape("scalar"), Ok(vec![]));
        assert_eq!(parse_shape(""), Ok(vec![]));
        assert_eq!(parse_shape("0,3"), Ok(vec![0, 3]));
        for bad in ["64,x", "-1,2", "+1", "1,,2", "1,", "1 2", "99999999999999999999999", "1.5", "٣"] {
            assert!(matches!(parse_shape(bad), Err(ShapeError::NotAShape(_))), "{bad}");
        }
        assert!(matches!(parse_shape("1,1,1,1,1,1,1,1,1"), Err(ShapeError::RankTooHigh { .. })));
        assert!(matches!(parse_shape("4294967296,4294967296"), Err(ShapeError::Overflow { .. })));
        // Zero anywhere makes the count 0, however large the other dimensions.
        assert_eq!(parse_shape("0,18446744073709551615,2"), Ok(vec![0, usize::MAX, 2]));
    }
}
