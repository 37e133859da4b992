//! `objectives eval`: one loss on `.npy` files, with its gradient on request.

use std::ffi::OsStr;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use burn::tensor::{Device, TensorData};
use objectives::LossExt as _;
use objectives::{DynTensor, Loss};
use serde_json::json;

use crate::EvalArgs;
use crate::npy::{self, Array, Values};

/// Reads `--loss`: a name, inline JSON, or `@file.json` (the file's path may be any bytes the
/// OS allows; the loss text itself must be UTF-8).
///
/// # Errors
/// An unreadable file, text that is not UTF-8, or anything `objectives::from_keras_json_str`
/// refuses (malformed JSON, an unknown class, wrong config types).
pub fn parse_loss(spec: &OsStr) -> Result<Box<dyn Loss>> {
    let text = match at_file(spec) {
        Some(path) => {
            std::fs::read_to_string(path).with_context(|| format!("--loss: cannot read {}", path.display()))?
        }
        None => {
            spec.to_str().with_context(|| format!("--loss: {} is not UTF-8 text", spec.to_string_lossy()))?.to_string()
        }
    };
    objectives::from_keras_json_str(&text).context("--loss")
}

/// The path of an `@file.json` argument.
pub(crate) fn at_file(spec: &OsStr) -> Option<&Path> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        spec.as_bytes().strip_prefix(b"@").map(|p| Path::new(OsStr::from_bytes(p)))
    }
    #[cfg(not(unix))]
    {
        spec.to_str().and_then(|s| s.strip_prefix('@')).map(Path::new)
    }
}

/// An [`Array`] as a tensor on `device`.
///
/// # Errors
/// A rank above [`objectives::MAX_RANK`] (the reader already refuses those).
pub fn to_tensor(array: Array, device: &Device) -> Result<DynTensor> {
    let data = match array.values {
        Values::F32(v) => TensorData::new(v, array.shape),
        Values::F64(v) => TensorData::new(v, array.shape),
    };
    Ok(DynTensor::from_data(data, device)?)
}

/// `objectives eval`: reads the inputs, computes the loss (and gradient), writes the outputs
/// (only once everything was computed) and prints the result to `w`.
///
/// # Errors
/// Every bad input, with a one-line message naming the argument.
pub fn run(args: &EvalArgs, w: &mut dyn Write) -> Result<()> {
    let loss = parse_loss(&args.loss)?;
    // Refuse unwritable outputs before any work, and before writing either: a bad --grad must
    // not leave a fresh --out behind.
    if let Some(path) = &args.out {
        npy::check_writable(path).context("--out")?;
    }
    if let Some(path) = &args.grad {
        npy::check_writable(path).context("--grad")?;
    }
    let backend = args.device.unwrap_or(objectives::device::BackendName::Flex);
    let device = backend.device().context("--device")?;
    let device = if args.grad.is_some() { device.autodiff() } else { device };
    let y_true = to_tensor(npy::read(&args.y_true, "--y-true")?, &device).context("--y-true")?;
    let y_pred_arr = npy::read(&args.y_pred, "--y-pred")?;
    let pred_shape = y_pred_arr.shape.clone();
    let mut y_pred = to_tensor(y_pred_arr, &device).context("--y-pred")?;
    let leaf = if args.grad.is_some() {
        let t = y_pred.into_padded().require_grad();
        y_pred = DynTensor::from_padded_checked(t.clone(), pred_shape.clone())?;
        Some(t)
    } else {
        None
    };
    let sample_weight = match &args.sample_weight {
        Some(p) => Some(to_tensor(npy::read(p, "--sample-weight")?, &device).context("--sample-weight")?),
        None => None,
    };
    let mask = match &args.mask {
        Some(p) => Some(to_tensor(npy::read(p, "--mask")?, &device).context("--mask")?),
        None => None,
    };

    let out = loss.compute(&y_true, &y_pred, sample_weight.as_ref(), mask.as_ref())?;
    let shape = out.shape().to_vec();
    let values = out.to_vec_f32()?;

    let grad = match leaf {
        Some(leaf) => {
            let total = out.sum_all().into_padded();
            let grads = total.backward();
            let g = leaf.grad(&grads).context("--grad: the loss does not depend on y_pred")?;
            let g = DynTensor::from_padded_checked(g, pred_shape.clone())?.to_vec_f32()?;
            Some(g)
        }
        None => None,
    };

    // Write outputs only once everything has been computed: no partial outputs on error.
    if let Some(path) = &args.out {
        npy::write_f32(path, &shape, &values).context("--out")?;
    }
    if let (Some(path), Some(g)) = (&args.grad, &grad) {
        npy::write_f32(path, &pred_shape, g).context("--grad")?;
    }

    if args.json {
        let mut obj = json!({
            "loss": loss.name(),
            "class_name": loss.class_name(),
            "reduction": loss.reduction().to_json(),
            "shape": shape,
        });
        if shape.is_empty() {
            obj["value"] = json!(values.first().copied().map(f64::from));
        } else {
            obj["values"] = json!(values.iter().map(|&v| f64::from(v)).collect::<Vec<_>>());
        }
        if args.device.is_some() {
            obj["device"] = json!(objectives::device::describe(&device));
        }
        if let Some(p) = &args.grad {
            obj["grad"] = json!(p.display().to_string());
        }
        if let Some(p) = &args.out {
            obj["out"] = json!(p.display().to_string());
        }
        writeln!(w, "{obj}").context("stdout")?;
    } else {
        let r = loss.reduction();
        let what = format!("{} ({}, reduction={})", loss.name(), loss.class_name(), r);
        if shape.is_empty() {
            writeln!(w, "{what}: {}", values.first().copied().unwrap_or(f32::NAN)).context("stdout")?;
        } else {
            writeln!(w, "{what}: per-sample losses of shape {shape:?}").context("stdout")?;
            print_values(w, &values)?;
        }
        if let Some(p) = &args.out {
            writeln!(w, "wrote loss to {}", p.display()).context("stdout")?;
        }
        if let Some(p) = &args.grad {
            writeln!(w, "wrote d(sum of loss)/d(y_pred), shape {pred_shape:?}, to {}", p.display())
                .context("stdout")?;
        }
    }
    Ok(())
}

fn print_values(w: &mut dyn Write, values: &[f32]) -> Result<()> {
    const SHOWN: usize = 20;
    let head: Vec<String> = values.iter().take(SHOWN).map(|v| v.to_string()).collect();
    let more = if values.len() > SHOWN {
        format!(", … ({} more; use --out or --json)", values.len() - SHOWN)
    } else {
        String::new()
    };
    writeln!(w, "[{}{}]", head.join(", "), more).context("stdout")?;
    Ok(())
}
