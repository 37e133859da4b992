//! `objectives eval`: one loss on `.npy` files, with its gradient on request.

use anyhow::{Context, Result};
use burn::tensor::Device;
use objectives::{DynTensor, Loss};
use serde_json::json;

use crate::EvalArgs;
use crate::npy;

/// Reads `--loss`: a name, inline JSON, or `@file.json`.
pub fn parse_loss(spec: &str) -> Result<Box<dyn Loss>> {
    let text = match spec.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("--loss: cannot read {path}"))?,
        None => spec.to_string(),
    };
    objectives::from_keras_json_str(&text).context("--loss")
}

pub fn run(args: &EvalArgs) -> Result<()> {
    let loss = parse_loss(&args.loss)?;
    let device = if args.grad.is_some() { Device::flex().autodiff() } else { Device::flex() };
    let y_true = npy::read(&args.y_true, "--y-true")?.into_tensor(&device)?;
    let y_pred_arr = npy::read(&args.y_pred, "--y-pred")?;
    let pred_shape = y_pred_arr.shape.clone();
    let mut y_pred = y_pred_arr.into_tensor(&device)?;
    let leaf = if args.grad.is_some() {
        let t = y_pred.into_padded().require_grad();
        y_pred = DynTensor::from_padded_checked(t.clone(), pred_shape.clone())?;
        Some(t)
    } else {
        None
    };
    let sample_weight = match &args.sample_weight {
        Some(p) => Some(npy::read(p, "--sample-weight")?.into_tensor(&device)?),
        None => None,
    };
    let mask = match &args.mask {
        Some(p) => Some(npy::read(p, "--mask")?.into_tensor(&device)?),
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
        if let Some(p) = &args.grad {
            obj["grad"] = json!(p.display().to_string());
        }
        if let Some(p) = &args.out {
            obj["out"] = json!(p.display().to_string());
        }
        println!("{obj}");
    } else {
        let r = loss.reduction();
        let what = format!("{} ({}, reduction={})", loss.name(), loss.class_name(), r);
        if shape.is_empty() {
            println!("{what}: {}", values.first().copied().unwrap_or(f32::NAN));
        } else {
            println!("{what}: per-sample losses of shape {shape:?}");
            print_values(&values);
        }
        if let Some(p) = &args.out {
            println!("wrote loss to {}", p.display());
        }
        if let Some(p) = &args.grad {
            println!("wrote d(sum of loss)/d(y_pred), shape {pred_shape:?}, to {}", p.display());
        }
    }
    Ok(())
}

fn print_values(values: &[f32]) {
    const SHOWN: usize = 20;
    let head: Vec<String> = values.iter().take(SHOWN).map(|v| v.to_string()).collect();
    let more = if values.len() > SHOWN {
        format!(", … ({} more; use --out or --json)", values.len() - SHOWN)
    } else {
        String::new()
    };
    println!("[{}{}]", head.join(", "), more);
}
