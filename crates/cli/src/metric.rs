//! `objectives metric`: one Keras metric on `.npy` files, fed in row chunks like a training loop.

use std::ffi::OsStr;
use std::io::Write;

use anyhow::{Context, Result, bail};
use objectives::DynTensor;
use objectives::metrics::{Metric, MetricValue};
use serde_json::json;

use crate::MetricArgs;
use crate::eval::{at_file, to_tensor};
use crate::npy;

/// Reads `--metric`: a name or alias, inline Keras JSON, or `@file.json`.
///
/// # Errors
/// An unreadable file, text that is not UTF-8, or anything
/// `objectives::metrics::from_keras_json_str` refuses (an unknown class, wrong config types, a
/// metric that needs arguments given by name).
pub fn parse_metric(spec: &OsStr) -> Result<Box<dyn Metric>> {
    let text = match at_file(spec) {
        Some(path) => {
            std::fs::read_to_string(path).with_context(|| format!("--metric: cannot read {}", path.display()))?
        }
        None => spec
            .to_str()
            .with_context(|| format!("--metric: {} is not UTF-8 text", spec.to_string_lossy()))?
            .to_string(),
    };
    objectives::metrics::from_keras_json_str(&text).context("--metric")
}

/// `objectives metric`: reads the inputs, feeds rows `[k·N, (k+1)·N)` to `update_state` chunk by
/// chunk (each with its rows of the sample weight), writes and prints `result()`.
///
/// # Errors
/// Every bad input, with a one-line message naming the argument.
pub fn run(args: &MetricArgs, w: &mut dyn Write) -> Result<()> {
    // `acc` is not a name of keras.metrics.get; its one meaning in Keras is compile's alias that
    // picks binary, sparse or categorical accuracy from the shapes, so it is resolved below.
    let by_shapes = args.metric.to_str().is_some_and(|s| s.trim().eq_ignore_ascii_case("acc"));
    let parsed = if by_shapes { None } else { Some(parse_metric(&args.metric)?) };
    if let Some(path) = &args.out {
        npy::check_writable(path).context("--out")?;
    }
    if args.batch_size == Some(0) {
        bail!("--batch-size: must be at least 1 (leave it out to feed every row at once)");
    }
    let device = objectives::device::BackendName::Flex.device().context("device")?;
    let y_true = to_tensor(npy::read(&args.y_true, "--y-true")?, &device).context("--y-true")?;
    let y_pred = to_tensor(npy::read(&args.y_pred, "--y-pred")?, &device).context("--y-pred")?;
    let sample_weight = match &args.sample_weight {
        Some(p) => Some(to_tensor(npy::read(p, "--sample-weight")?, &device).context("--sample-weight")?),
        None => None,
    };
    let mut metric = match parsed {
        Some(m) => m,
        None => objectives::metrics::MetricSpec::Name("acc".into())
            .resolve(y_true.shape(), y_pred.shape())
            .context("--metric")?,
    };
    let chunks = match args.batch_size {
        None => {
            metric.update_state(&y_true, &y_pred, sample_weight.as_ref())?;
            1
        }
        Some(n) => feed_in_chunks(metric.as_mut(), &y_true, &y_pred, sample_weight.as_ref(), n)?,
    };
    let result = metric.result();
    let (shape, values) = (result.shape(), result.to_vec());
    if let Some(path) = &args.out {
        let v: Vec<f32> = values.iter().map(|&x| x as f32).collect();
        npy::write_f32(path, &shape, &v).context("--out")?;
    }
    if args.json {
        let mut obj = json!({
            "metric": metric.name(),
            "class_name": metric.class_name(),
            "config": metric.config(),
            "updates": chunks,
            "shape": shape,
        });
        match &result {
            MetricValue::Scalar(v) => obj["value"] = json!(v),
            MetricValue::Vector(v) => obj["values"] = json!(v),
        }
        if let Some(p) = &args.out {
            obj["out"] = json!(p.display().to_string());
        }
        writeln!(w, "{obj}").context("stdout")?;
    } else {
        let what = format!("{} ({})", metric.name(), metric.class_name());
        match &result {
            MetricValue::Scalar(v) => writeln!(w, "{what}: {v}").context("stdout")?,
            MetricValue::Vector(v) => {
                let items: Vec<String> = v.iter().map(f64::to_string).collect();
                writeln!(w, "{what}: [{}]", items.join(", ")).context("stdout")?;
            }
        }
        if let Some(p) = &args.out {
            writeln!(w, "wrote result to {}", p.display()).context("stdout")?;
        }
    }
    Ok(())
}

/// Feeds rows in consecutive chunks of `n`; returns the number of updates.
fn feed_in_chunks(
    metric: &mut dyn Metric,
    y_true: &DynTensor,
    y_pred: &DynTensor,
    sample_weight: Option<&DynTensor>,
    n: usize,
) -> Result<usize> {
    let rows = |t: &DynTensor, what: &str| -> Result<usize> {
        t.shape().first().copied().with_context(|| format!("{what}: a 0-d array has no rows to split into batches"))
    };
    let total = rows(y_pred, "--y-pred")?;
    let t_rows = rows(y_true, "--y-true")?;
    if t_rows != total {
        bail!(
            "--y-true has {t_rows} rows (shape {:?}) but --y-pred has {total} (shape {:?}); --batch-size splits both \
             along axis 0",
            y_true.shape(),
            y_pred.shape()
        );
    }
    // A 0-d weight weighs every chunk; otherwise its rows travel with the data.
    let w_rows = match sample_weight {
        Some(w) if w.rank() > 0 => {
            if w.shape()[0] != total {
                bail!(
                    "--sample-weight has {} rows (shape {:?}) but the data has {total}; give one weight row per \
                     sample, or a 0-d weight",
                    w.shape()[0],
                    w.shape()
                );
            }
            true
        }
        _ => false,
    };
    let mut updates = 0;
    let mut start = 0;
    while start < total {
        let len = n.min(total - start);
        let t = y_true.clone().narrow(0, start, len)?;
        let p = y_pred.clone().narrow(0, start, len)?;
        let w = match sample_weight {
            Some(w) if w_rows => Some(w.clone().narrow(0, start, len)?),
            other => other.cloned(),
        };
        metric.update_state(&t, &p, w.as_ref()).with_context(|| format!("rows {start}..{}", start + len))?;
        updates += 1;
        start += len;
    }
    Ok(updates)
}
