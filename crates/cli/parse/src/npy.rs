//! The `.npy` reader: a small strict parser rather than npyz's. npyz sizes its header buffer from
//! the file's declared header length (up to 4 GiB), multiplies the shape unchecked, and
//! pre-allocates the element vector from the declared shape, so a 100-byte file claiming
//! `(2**40, 2**40)` makes it panic or abort. Here the preamble, the header dict, the dtype, the
//! rank and the element count are all checked, and the data size the header declares must equal
//! the bytes that follow it, before any array is allocated: what is allocated is bounded by the
//! input's length. Every refusal is an [`NpyError`] that prints on one line.

use crate::MAX_RANK;

/// The longest header text read (numpy itself refuses headers over 10 000 bytes by default;
/// the header of a plain array of rank ≤ 8 is under 200).
pub const MAX_HEADER_LEN: usize = 1 << 16;

/// Why a `.npy` file was refused. Each message is one line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NpyError {
    /// The file has no bytes.
    #[error("the file is empty")]
    Empty,
    /// The file does not start with `\x93NUMPY`.
    #[error("not a .npy file (it does not start with the magic string \\x93NUMPY)")]
    BadMagic,
    /// The file ends inside the fixed-size preamble (magic, version, header length).
    #[error("truncated inside the .npy preamble ({len} bytes)")]
    TruncatedPreamble {
        /// The file's length.
        len: usize,
    },
    /// A format version other than 1.0, 2.0 or 3.0.
    #[error(".npy format version {major}.{minor} is not supported (1.0, 2.0 and 3.0 are)")]
    UnsupportedVersion {
        /// Major version byte.
        major: u8,
        /// Minor version byte.
        minor: u8,
    },
    /// The declared header length is larger than [`MAX_HEADER_LEN`].
    #[error("the preamble declares a header of {declared} bytes, more than the {max} this reader accepts")]
    HeaderTooLong {
        /// Declared header length.
        declared: usize,
        /// [`MAX_HEADER_LEN`].
        max: usize,
    },
    /// The file ends before the header does.
    #[error("truncated: the preamble declares a header of {declared} bytes but only {available} follow")]
    TruncatedHeader {
        /// Declared header length.
        declared: usize,
        /// Bytes after the preamble.
        available: usize,
    },
    /// The header is not the Python dict literal numpy writes.
    #[error("malformed header: {0}")]
    BadHeader(String),
    /// One of `descr`, `fortran_order`, `shape` is missing.
    #[error("malformed header: the key '{0}' is missing")]
    MissingKey(&'static str),
    /// The array is stored column-major.
    #[error("stored in Fortran order; save it C-contiguous (np.save(path, np.ascontiguousarray(a)))")]
    FortranOrder,
    /// A record (structured) dtype.
    #[error("holds a structured array; save a plain numeric array")]
    Structured,
    /// A dtype other than float32/64, a signed or unsigned integer or bool.
    #[error("has dtype {0:?}; use float32, float64, an integer type or bool")]
    UnsupportedDtype(String),
    /// More axes than [`MAX_RANK`].
    #[error("has rank {rank} (shape {}); objectives handles up to rank {max}", abbreviated(shape))]
    RankTooHigh {
        /// The declared rank.
        rank: usize,
        /// The declared shape.
        shape: Vec<u64>,
        /// [`MAX_RANK`].
        max: usize,
    },
    /// A dimension that does not fit in `u64`, or a size in bytes that overflows `usize`.
    #[error("its header declares shape {shape}, more elements than this machine can address")]
    ShapeOverflow {
        /// The declared shape, as written.
        shape: String,
    },
    /// The data after the header is not exactly what the shape and dtype declare.
    #[error(
        "shape {shape:?} of {dtype} needs {expected} bytes of data but the file has {actual} after its header \
         ({})",
        if actual < expected { "truncated, or its header claims more elements than it holds" }
        else { "its header claims fewer elements than it holds" }
    )]
    DataLength {
        /// The declared shape.
        shape: Vec<usize>,
        /// The declared dtype (`descr`).
        dtype: String,
        /// Bytes the header declares.
        expected: usize,
        /// Bytes present.
        actual: usize,
    },
}

/// `[d0, d1, …]`, cut after 12 dimensions (a lying header may declare thousands).
pub(crate) fn abbreviated<T: ToString>(shape: &[T]) -> String {
    const SHOWN: usize = 12;
    let dims: Vec<String> = shape.iter().take(SHOWN).map(T::to_string).collect();
    let more = if shape.len() > SHOWN { ", …" } else { "" };
    format!("[{}{more}]", dims.join(", "))
}

/// The element types read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// IEEE float (`f4`, `f8`).
    Float,
    /// Signed integer (`i1` … `i8`).
    Int,
    /// Unsigned integer (`u1` … `u8`).
    Uint,
    /// numpy's bool (`b1`).
    Bool,
}

/// A supported dtype: kind, size in bytes, byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dtype {
    /// Element kind.
    pub kind: Kind,
    /// Bytes per element.
    pub size: usize,
    /// Big-endian (`>`) rather than little-endian.
    pub big_endian: bool,
}

/// A validated header: the data that follows it has exactly `len * dtype.size` bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Element type.
    pub dtype: Dtype,
    /// The `descr` string as written.
    pub descr: String,
    /// The shape (C order).
    pub shape: Vec<usize>,
    /// Number of elements (the product of `shape`).
    pub len: usize,
    /// Where the data starts in the file.
    pub data_offset: usize,
}

/// The values of an array: f64 files stay f64, everything else becomes f32 (integer labels and
/// bool masks are converted as Keras converts them to the loss dtype, exact up to 2²⁴).
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// From f4, integer or bool data.
    F32(Vec<f32>),
    /// From f8 data.
    F64(Vec<f64>),
}

impl Values {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            Values::F32(v) => v.len(),
            Values::F64(v) => v.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An array read from a `.npy` file: its shape and values (`values.len()` is the shape's product).
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    /// The shape (C order).
    pub shape: Vec<usize>,
    /// The values, in C order.
    pub values: Values,
}

/// Parses the bytes of a whole `.npy` file.
///
/// # Errors
/// Any [`NpyError`]; never panics, and allocates at most a few times `bytes.len()`.
pub fn parse_npy(bytes: &[u8]) -> Result<Array, NpyError> {
    let h = parse_header(bytes)?;
    let data = bytes.get(h.data_offset..).unwrap_or_default();
    let be = h.dtype.big_endian;
    let f32s = |v: Vec<f32>| Ok(Array { shape: h.shape.clone(), values: Values::F32(v) });
    match (h.dtype.kind, h.dtype.size) {
        (Kind::Float, 4) => f32s(decode(data, be, f32::from_le_bytes, f32::from_be_bytes, |x| x)),
        (Kind::Float, 8) => Ok(Array {
            shape: h.shape.clone(),
            values: Values::F64(decode(data, be, f64::from_le_bytes, f64::from_be_bytes, |x| x)),
        }),
        (Kind::Int, 1) => f32s(decode(data, be, i8::from_le_bytes, i8::from_be_bytes, f32::from)),
        (Kind::Int, 2) => f32s(decode(data, be, i16::from_le_bytes, i16::from_be_bytes, f32::from)),
        (Kind::Int, 4) => f32s(decode(data, be, i32::from_le_bytes, i32::from_be_bytes, |x| x as f32)),
        (Kind::Int, 8) => f32s(decode(data, be, i64::from_le_bytes, i64::from_be_bytes, |x| x as f32)),
        (Kind::Uint, 1) => f32s(decode(data, be, u8::from_le_bytes, u8::from_be_bytes, f32::from)),
        (Kind::Uint, 2) => f32s(decode(data, be, u16::from_le_bytes, u16::from_be_bytes, f32::from)),
        (Kind::Uint, 4) => f32s(decode(data, be, u32::from_le_bytes, u32::from_be_bytes, |x| x as f32)),
        (Kind::Uint, 8) => f32s(decode(data, be, u64::from_le_bytes, u64::from_be_bytes, |x| x as f32)),
        (Kind::Bool, 1) => f32s(data.iter().map(|&b| if b != 0 { 1.0 } else { 0.0 }).collect()),
        // parse_dtype only yields the pairs above.
        _ => Err(NpyError::UnsupportedDtype(h.descr.clone())),
    }
}

/// Decodes `N`-byte elements (the caller checked that `data.len()` is a multiple of `N`).
fn decode<const N: usize, T, U>(
    data: &[u8],
    big_endian: bool,
    le: fn([u8; N]) -> T,
    be: fn([u8; N]) -> T,
    conv: fn(T) -> U,
) -> Vec<U> {
    let from = if big_endian { be } else { le };
    data.chunks_exact(N)
        .map(|c| {
            let mut a = [0u8; N];
            a.copy_from_slice(c);
            conv(from(a))
        })
        .collect()
}

/// Parses and validates the preamble and header of a `.npy` file whose whole content is `bytes`,
/// including that exactly the declared number of data bytes follow the header.
///
/// # Errors
/// Any [`NpyError`].
pub fn parse_header(bytes: &[u8]) -> Result<Header, NpyError> {
    if bytes.is_empty() {
        return Err(NpyError::Empty);
    }
    let magic = b"\x93NUMPY";
    if !bytes.starts_with(&magic[..bytes.len().min(magic.len())]) {
        return Err(NpyError::BadMagic);
    }
    let (&major, &minor) = match (bytes.get(6), bytes.get(7)) {
        (Some(a), Some(b)) => (a, b),
        _ => return Err(NpyError::TruncatedPreamble { len: bytes.len() }),
    };
    let (declared, start) = match (major, minor) {
        (1, 0) => match bytes.get(8..10) {
            Some(&[a, b]) => (usize::from(u16::from_le_bytes([a, b])), 10),
            _ => return Err(NpyError::TruncatedPreamble { len: bytes.len() }),
        },
        (2, 0) | (3, 0) => match bytes.get(8..12) {
            Some(&[a, b, c, d]) => (u32::from_le_bytes([a, b, c, d]) as usize, 12),
            _ => return Err(NpyError::TruncatedPreamble { len: bytes.len() }),
        },
        _ => return Err(NpyError::UnsupportedVersion { major, minor }),
    };
    if declared > MAX_HEADER_LEN {
        return Err(NpyError::HeaderTooLong { declared, max: MAX_HEADER_LEN });
    }
    let available = bytes.len() - start;
    let Some(text) = bytes.get(start..start + declared) else {
        return Err(NpyError::TruncatedHeader { declared, available });
    };
    let data_offset = start + declared;
    let raw = parse_dict(text)?;

    let shape: Vec<u64> = raw.shape;
    if shape.len() > MAX_RANK {
        return Err(NpyError::RankTooHigh { rank: shape.len(), shape, max: MAX_RANK });
    }
    if raw.fortran_order {
        return Err(NpyError::FortranOrder);
    }
    let dtype = parse_dtype(&raw.descr)?;
    let overflow = || NpyError::ShapeOverflow { shape: format!("{shape:?}") };
    let shape_usize: Vec<usize> =
        shape.iter().map(|&d| usize::try_from(d).map_err(|_| overflow())).collect::<Result<_, _>>()?;
    let len = shape_usize.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).ok_or_else(overflow)?;
    let expected = len.checked_mul(dtype.size).ok_or_else(overflow)?;
    let actual = bytes.len() - data_offset;
    if actual != expected {
        return Err(NpyError::DataLength { shape: shape_usize, dtype: raw.descr, expected, actual });
    }
    Ok(Header { dtype, descr: raw.descr, shape: shape_usize, len, data_offset })
}

/// `descr` → a supported [`Dtype`]: `<f4 <f8 <i1…<i8 <u1…<u8 |b1` in either byte order (`<`,
/// `>`, `|` or `=`, or none for native).
fn parse_dtype(descr: &str) -> Result<Dtype, NpyError> {
    let unsupported = || NpyError::UnsupportedDtype(descr.to_string());
    let (big_endian, rest) = match descr.as_bytes().first() {
        Some(b'<') | Some(b'|') => (false, &descr[1..]),
        Some(b'>') => (true, &descr[1..]),
        Some(b'=') => (cfg!(target_endian = "big"), &descr[1..]),
        _ => (cfg!(target_endian = "big"), descr),
    };
    let mut chars = rest.chars();
    let kind = match chars.next() {
        Some('f') => Kind::Float,
        Some('i') => Kind::Int,
        Some('u') => Kind::Uint,
        Some('b') => Kind::Bool,
        _ => return Err(unsupported()),
    };
    let size = match (kind, chars.as_str()) {
        (Kind::Float, "4") => 4,
        (Kind::Float, "8") => 8,
        (Kind::Int | Kind::Uint, "1") => 1,
        (Kind::Int | Kind::Uint, "2") => 2,
        (Kind::Int | Kind::Uint, "4") => 4,
        (Kind::Int | Kind::Uint, "8") => 8,
        (Kind::Bool, "1") => 1,
        _ => return Err(unsupported()),
    };
    Ok(Dtype { kind, size, big_endian })
}

/// The header dict's three entries.
struct RawHeader {
    descr: String,
    fortran_order: bool,
    shape: Vec<u64>,
}

/// Parses the header text: the flat Python dict literal numpy writes, e.g.
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` padded with spaces and `\n`.
/// Only these three keys are allowed (as in numpy), each once. Not recursive: a list value (a
/// structured `descr`) is refused as soon as it is seen.
fn parse_dict(text: &[u8]) -> Result<RawHeader, NpyError> {
    let bad = |m: &str| NpyError::BadHeader(m.to_string());
    let mut p = Cursor { s: text, i: 0 };
    if !p.eat(b'{') {
        return Err(bad("it is not a Python dict literal ({'descr': …, 'fortran_order': …, 'shape': …})"));
    }
    let (mut descr, mut fortran_order, mut shape) = (None, None, None);
    loop {
        if p.eat(b'}') {
            break;
        }
        let key = p.string()?;
        if !p.eat(b':') {
            return Err(bad("expected ':' after a key"));
        }
        let duplicate = match key {
            "descr" => {
                if p.peek() == Some(b'[') {
                    return Err(NpyError::Structured);
                }
                descr.replace(p.string()?.to_string()).is_some()
            }
            "fortran_order" => {
                let v = match p.word() {
                    b"True" => true,
                    b"False" => false,
                    _ => return Err(bad("'fortran_order' is not True or False")),
                };
                fortran_order.replace(v).is_some()
            }
            "shape" => shape.replace(p.tuple()?).is_some(),
            _ => {
                return Err(NpyError::BadHeader(format!(
                    "unexpected key {key:?} (a .npy header has exactly 'descr', 'fortran_order' and 'shape')"
                )));
            }
        };
        if duplicate {
            return Err(NpyError::BadHeader(format!("the key {key:?} appears twice")));
        }
        if p.eat(b',') {
            continue;
        }
        if p.eat(b'}') {
            break;
        }
        return Err(bad("expected ',' or '}' after a value"));
    }
    if p.peek().is_some() {
        return Err(bad("text after the dict"));
    }
    Ok(RawHeader {
        descr: descr.ok_or(NpyError::MissingKey("descr"))?,
        fortran_order: fortran_order.ok_or(NpyError::MissingKey("fortran_order"))?,
        shape: shape.ok_or(NpyError::MissingKey("shape"))?,
    })
}

/// A position in the header text.
struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    /// The next byte after whitespace (numpy pads with spaces and ends with `\n`).
    fn peek(&mut self) -> Option<u8> {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.i) {
            self.i += 1;
        }
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        if hit {
            self.i += 1;
        }
        hit
    }

    /// A run of `[A-Za-z0-9_]`.
    fn word(&mut self) -> &'a [u8] {
        self.peek();
        let start = self.i;
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_') {
            self.i += 1;
        }
        self.s.get(start..self.i).unwrap_or_default()
    }

    /// A `'…'` or `"…"` string without escapes, as UTF-8.
    fn string(&mut self) -> Result<&'a str, NpyError> {
        let bad = |m: &str| NpyError::BadHeader(m.to_string());
        let quote = match self.peek() {
            Some(q @ (b'\'' | b'"')) => q,
            _ => return Err(bad("expected a quoted string")),
        };
        let start = self.i + 1;
        let len = self
            .s
            .get(start..)
            .unwrap_or_default()
            .iter()
            .position(|&c| c == quote || c == b'\\' || c == b'\n')
            .ok_or_else(|| bad("unterminated string"))?;
        let body = self.s.get(start..start + len).unwrap_or_default();
        if self.s.get(start + len) != Some(&quote) {
            return Err(bad("escapes and line breaks in strings are not supported"));
        }
        self.i = start + len + 1;
        std::str::from_utf8(body).map_err(|_| bad("a string is not UTF-8"))
    }

    /// `(d0, d1, …)` of non-negative integers (a trailing comma and Python 2's `L` suffix allowed).
    fn tuple(&mut self) -> Result<Vec<u64>, NpyError> {
        let bad = |m: &str| NpyError::BadHeader(m.to_string());
        if !self.eat(b'(') {
            return Err(bad("'shape' is not a tuple"));
        }
        let mut dims = vec![];
        loop {
            if self.eat(b')') {
                return Ok(dims);
            }
            let digits = self.word();
            let digits = digits.strip_suffix(b"L").or_else(|| digits.strip_suffix(b"l")).unwrap_or(digits);
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return Err(bad("'shape' holds something other than non-negative integers"));
            }
            let d = std::str::from_utf8(digits).ok().and_then(|t| t.parse::<u64>().ok()).ok_or_else(|| {
                NpyError::ShapeOverflow { shape: format!("({}, …)", String::from_utf8_lossy(digits)) }
            })?;
            dims.push(d);
            if self.eat(b',') {
                continue;
            }
            if self.eat(b')') {
                return Ok(dims);
            }
            return Err(bad("expected ',' or ')' in 'shape'"));
        }
    }
}

#[cfg(test)]
mod tests;
