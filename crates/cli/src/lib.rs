//! The `objectives` command as a library: its arguments, the `.npy` reader and writer, shape
//! strings and `eval`. The binary (`src/main.rs`) only parses the command line and prints errors;
//! the fuzz targets under `fuzz/` call [`npy::parse_npy`], [`parse_shape`] and [`explain`] here.
//!
//! ```text
//! objectives eval --loss LOSS --y-true T.npy --y-pred P.npy [--sample-weight W.npy] [--mask M.npy]
//!                 [--out L.npy] [--grad G.npy] [--json] [--device flex|wgpu|cuda]
//! objectives explain --loss LOSS --y-pred-shape 64,7,16,16 [--y-true-shape …] [--sample-weight-shape …]
//!                    [--mask-shape …]
//! objectives metric --metric METRIC --y-true T.npy --y-pred P.npy [--sample-weight W.npy] [--batch-size N]
//!                   [--out R.npy] [--json]
//! objectives list
//! objectives devices
//! ```
//! `--device` picks the burn backend that computes (default `flex`); `wgpu` and `cuda` need a
//! build with that cargo feature (`cargo build --release -p objectives-cli --features wgpu`).
//! Bad input prints one line to stderr and exits with code 2.

pub mod eval;
pub mod metric;
pub mod npy;

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

/// The command line.
#[derive(Parser)]
#[command(name = "objectives", version, about = "Keras 3 losses with exact numbers, on .npy files")]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// Evaluate a loss (and optionally its gradient) on .npy files.
    Eval(EvalArgs),
    /// Evaluate a Keras metric on .npy files, feeding the rows in batches as training does.
    Metric(MetricArgs),
    /// Show, shape by shape, how a loss reduces inputs of the given shapes.
    Explain(ExplainArgs),
    /// List every loss and every metric with its names and aliases.
    List,
    /// List the backends `--device` accepts, whether this build has each, and the adapter each
    /// opens.
    Devices,
}

/// Arguments of `objectives explain`.
#[derive(clap::Args)]
pub struct ExplainArgs {
    /// The loss: a name or alias, or Keras's serialized JSON (inline, or `@file.json`).
    #[arg(long)]
    pub loss: OsString,
    /// Shape of y_pred, e.g. 64,7,16,16.
    #[arg(long)]
    pub y_pred_shape: String,
    /// Shape of y_true (default: y_pred's, or without the class axis for sparse labels).
    #[arg(long)]
    pub y_true_shape: Option<String>,
    /// Shape of the sample weight, e.g. 64 or 64,16,16 (`scalar` or an empty string for a scalar).
    #[arg(long)]
    pub sample_weight_shape: Option<String>,
    /// Shape of the mask over the per-sample losses.
    #[arg(long)]
    pub mask_shape: Option<String>,
}

/// Arguments of `objectives metric`.
#[derive(clap::Args)]
pub struct MetricArgs {
    /// The metric: a name or alias as `keras.metrics.get` takes it (`auc`, `mse`, `accuracy`,
    /// `MeanIoU`), Keras's serialized JSON inline (`{"class_name": "MeanIoU", "config":
    /// {"num_classes": 7, "axis": 1}}`), or `@file.json`. `acc` is compile's alias: binary,
    /// sparse or categorical accuracy, from the shapes.
    #[arg(long)]
    pub metric: OsString,
    /// Targets (.npy: float, int or bool).
    #[arg(long)]
    pub y_true: PathBuf,
    /// Predictions (.npy). For `Mean` and `Sum`, the values to average or add.
    #[arg(long)]
    pub y_pred: PathBuf,
    /// Sample weights (.npy); with --batch-size, its rows go with the data's rows (a 0-d weight
    /// weighs every batch).
    #[arg(long)]
    pub sample_weight: Option<PathBuf>,
    /// Feed rows (axis 0) to update_state in consecutive chunks of N (default: all at once).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Write the result as f32 .npy, atomically (0-d for a scalar result, 1-d for a vector).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print one JSON object instead of human-readable text.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `objectives eval`.
#[derive(clap::Args)]
pub struct EvalArgs {
    /// The loss: a name or alias (`mse`, `MeanSquaredError`), or Keras's serialized JSON
    /// (inline, or `@file.json`).
    #[arg(long)]
    pub loss: OsString,
    /// Targets (.npy: float, int or bool).
    #[arg(long)]
    pub y_true: PathBuf,
    /// Predictions (.npy: float).
    #[arg(long)]
    pub y_pred: PathBuf,
    /// Sample weights (.npy), any shape that broadcasts to the per-sample losses; (B,) weighs
    /// whole samples.
    #[arg(long)]
    pub sample_weight: Option<PathBuf>,
    /// Mask over the per-sample losses (.npy, bool or numeric; non-zero = valid).
    #[arg(long)]
    pub mask: Option<PathBuf>,
    /// Write the loss as .npy (0-d for scalar reductions, the per-sample array for `none`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write d(sum of the loss output)/d(y_pred) as f32 .npy in y_pred's shape.
    #[arg(long)]
    pub grad: Option<PathBuf>,
    /// Print one JSON object instead of human-readable text.
    #[arg(long)]
    pub json: bool,
    /// The burn backend that computes: flex (CPU, default), wgpu or cuda (builds with that cargo
    /// feature), ndarray. `--json` then names the adapter under "device".
    #[arg(long, value_parser = parse_device)]
    pub device: Option<objectives::device::BackendName>,
}

fn parse_device(text: &str) -> Result<objectives::device::BackendName, String> {
    text.parse().map_err(|e: objectives::LossError| e.to_string())
}

/// Runs a parsed command, printing its result to `out`.
///
/// # Errors
/// Every bad input (unreadable or malformed files, an unknown loss, shapes that do not pair),
/// and a failure to write to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> anyhow::Result<()> {
    match cli.command {
        Command::Eval(args) => eval::run(&args, out),
        Command::Explain(args) => explain(&args, out),
        Command::Metric(args) => metric::run(&args, out),
        Command::List => {
            // Columns as wide as their longest entry, so every row lines up.
            let losses = objectives::registry::ALL_LOSSES;
            let cw = losses.iter().map(|e| e.class_name.len()).chain(["class".len()]).max().unwrap_or(0);
            let fw = losses.iter().map(|e| e.function_name.len()).chain(["function".len()]).max().unwrap_or(0);
            writeln!(out, "losses:").context("stdout")?;
            writeln!(out, "{:<cw$}  {:<fw$}  aliases", "class", "function").context("stdout")?;
            for e in losses {
                let line = format!("{:<cw$}  {:<fw$}  {}", e.class_name, e.function_name, e.aliases.join(", "));
                writeln!(out, "{}", line.trim_end()).context("stdout")?;
            }
            let metrics = objectives::metrics::registry::all();
            let names: Vec<Vec<String>> = metrics.iter().map(|e| e.names()).collect();
            let cw = names.iter().map(|n| n[0].len()).chain(["class".len()]).max().unwrap_or(0);
            let fw = names.iter().map(|n| n[1].len()).chain(["name".len()]).max().unwrap_or(0);
            writeln!(out, "\nmetrics:").context("stdout")?;
            writeln!(out, "{:<cw$}  {:<fw$}  aliases", "class", "name").context("stdout")?;
            for n in &names {
                let line = format!("{:<cw$}  {:<fw$}  {}", n[0], n[1], n[2..].join(", "));
                writeln!(out, "{}", line.trim_end()).context("stdout")?;
            }
            Ok(())
        }
        Command::Devices => {
            for b in objectives::device::BackendName::ALL {
                let line = match b.device() {
                    Ok(d) => format!("{b:<8} {}", objectives::device::describe(&d)),
                    Err(_) => format!("{b:<8} not in this build (rebuild with --features {b})"),
                };
                writeln!(out, "{line}").context("stdout")?;
            }
            Ok(())
        }
    }
}

/// Parses a shape argument: `64,7,16,16`, or `scalar` / an empty string for a 0-d shape
/// ([`objectives_cli_parse::shape::parse_shape`], with `flag` named in the error).
///
/// # Errors
/// Text that is not comma-separated non-negative integers, more than [`objectives::MAX_RANK`]
/// dimensions, or dimensions whose product (the element count) overflows `usize`.
pub fn parse_shape(flag: &str, text: &str) -> anyhow::Result<Vec<usize>> {
    objectives_cli_parse::shape::parse_shape(text).map_err(|e| anyhow::anyhow!("{flag}: {e}"))
}

/// `objectives explain`: parses the loss and the shapes, then prints the reduction plan to `out`.
///
/// # Errors
/// A bad loss or shape argument, or shapes the loss refuses (with the loss's own message).
pub fn explain(args: &ExplainArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let loss = eval::parse_loss(&args.loss)?;
    let y_pred = parse_shape("--y-pred-shape", &args.y_pred_shape)?;
    let y_true = args.y_true_shape.as_deref().map(|s| parse_shape("--y-true-shape", s)).transpose()?;
    let sw = args.sample_weight_shape.as_deref().map(|s| parse_shape("--sample-weight-shape", s)).transpose()?;
    let mask = args.mask_shape.as_deref().map(|s| parse_shape("--mask-shape", s)).transpose()?;
    let plan = objectives::explain(loss.as_ref(), y_true.as_deref(), &y_pred, sw.as_deref(), mask.as_deref())?;
    write!(out, "{plan}").context("stdout")?;
    Ok(())
}

/// Squeezes a (possibly multi-line) message onto one line: line breaks and the blank lines
/// between paragraphs become single spaces.
pub fn one_line(text: &str) -> String {
    text.split(['\n', '\r']).map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_parsers_rank_limit_is_objectives() {
        assert_eq!(objectives_cli_parse::MAX_RANK, objectives::MAX_RANK);
    }
}
