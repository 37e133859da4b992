//! Reading and writing `.npy` files: validated, and written atomically (temp file, then rename).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::tensor::{Device, TensorData};
use npyz::{DType, TypeChar, WriterBuilder};
use objectives::{DynTensor, MAX_RANK};

/// An array read from a `.npy` file: its shape and values.
pub struct Array {
    pub shape: Vec<usize>,
    pub data: TensorData,
}

impl Array {
    pub fn into_tensor(self, device: &Device) -> Result<DynTensor> {
        Ok(DynTensor::from_data(self.data, device)?)
    }
}

/// Reads a `.npy` file of f32/f64, signed or unsigned integers, or booleans.
pub fn read(path: &Path, what: &str) -> Result<Array> {
    let bytes = std::fs::read(path).with_context(|| format!("{what}: cannot read {}", path.display()))?;
    let npy = npyz::NpyFile::new(&bytes[..])
        .with_context(|| format!("{what}: {} is not a valid .npy file", path.display()))?;
    if npy.order() == npyz::Order::Fortran {
        bail!(
            "{what}: {} is stored in Fortran order; save it C-contiguous (np.save(path, np.ascontiguousarray(a)))",
            path.display()
        );
    }
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    if shape.len() > MAX_RANK {
        bail!(
            "{what}: {} has rank {} (shape {shape:?}); objectives handles up to rank {MAX_RANK}",
            path.display(),
            shape.len()
        );
    }
    let DType::Plain(ts) = npy.dtype() else {
        bail!("{what}: {} holds a structured array; save a plain numeric array", path.display());
    };
    let descr = ts.to_string();
    let bad = |e: std::io::Error| anyhow::anyhow!("{what}: {}: {e} (is the file truncated?)", path.display());
    let data = match (ts.type_char(), ts.size_field()) {
        (TypeChar::Float, 4) => TensorData::new(npy.into_vec::<f32>().map_err(bad)?, shape.clone()),
        (TypeChar::Float, 8) => TensorData::new(npy.into_vec::<f64>().map_err(bad)?, shape.clone()),
        (TypeChar::Int, 1) => ints(npy.into_vec::<i8>().map_err(bad)?.into_iter().map(|x| x as f32).collect(), &shape),
        (TypeChar::Int, 2) => ints(npy.into_vec::<i16>().map_err(bad)?.into_iter().map(|x| x as f32).collect(), &shape),
        (TypeChar::Int, 4) => ints(npy.into_vec::<i32>().map_err(bad)?.into_iter().map(|x| x as f32).collect(), &shape),
        (TypeChar::Int, 8) => ints(npy.into_vec::<i64>().map_err(bad)?.into_iter().map(|x| x as f32).collect(), &shape),
        (TypeChar::Uint, 1) => ints(npy.into_vec::<u8>().map_err(bad)?.into_iter().map(|x| x as f32).collect(), &shape),
        (TypeChar::Uint, 2) => {
            ints(npy.into_vec::<u16>().map_err(bad)?.into_iter().map(|x| x as f32).collect(), &shape)
        }
        (TypeChar::Uint, 4) => {
            ints(npy.into_vec::<u32>().map_err(bad)?.into_iter().map(|x| x as f32).collect(), &shape)
        }
        (TypeChar::Uint, 8) => {
            ints(npy.into_vec::<u64>().map_err(bad)?.into_iter().map(|x| x as f32).collect(), &shape)
        }
        (TypeChar::Bool, 1) => {
            let v: Vec<f32> =
                npy.into_vec::<bool>().map_err(bad)?.into_iter().map(|x| if x { 1.0 } else { 0.0 }).collect();
            TensorData::new(v, shape.clone())
        }
        _ => bail!("{what}: {} has dtype {descr}; use float32, float64, an integer type or bool", path.display()),
    };
    Ok(Array { shape, data })
}

/// Integer labels become f32, as Keras converts them to the loss dtype (exact up to 2²⁴).
fn ints(v: Vec<f32>, shape: &[usize]) -> TensorData {
    TensorData::new(v, shape.to_vec())
}

/// Writes `values` with `shape` as a little-endian f32 `.npy` file, atomically.
pub fn write_f32(path: &Path, shape: &[usize], values: &[f32]) -> Result<()> {
    let mut buf = vec![];
    {
        let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
        let mut w = npyz::WriteOptions::<f32>::new().default_dtype().shape(&shape).writer(&mut buf).begin_nd()?;
        w.extend(values.iter().copied())?;
        w.finish()?;
    }
    write_atomically(path, &buf)
}

/// Writes to a temporary file beside `path`, syncs it, then renames it over `path`: a crash or
/// an error never leaves a partial file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        bail!("cannot write {}: directory {} does not exist", path.display(), dir.display());
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| -> Result<()> {
        let mut f = std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
