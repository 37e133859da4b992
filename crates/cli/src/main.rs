//! `objectives`: evaluate Keras losses on `.npy` files.
//!
//! ```text
//! objectives eval --loss LOSS --y-true T.npy --y-pred P.npy [--sample-weight W.npy] [--mask M.npy]
//!                 [--out L.npy] [--grad G.npy] [--json]
//! objectives list
//! ```
//! Bad input prints one line to stderr and exits with code 2.

mod eval;
mod npy;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "objectives", version, about = "Keras 3 losses with exact numbers, on .npy files")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate a loss (and optionally its gradient) on .npy files.
    Eval(EvalArgs),
    /// Show, shape by shape, how a loss reduces inputs of the given shapes.
    Explain(ExplainArgs),
    /// List every loss with its names and aliases.
    List,
}

/// Arguments of `objectives explain`.
#[derive(clap::Args)]
pub struct ExplainArgs {
    /// The loss: a name or alias, or Keras's serialized JSON (inline, or `@file.json`).
    #[arg(long)]
    pub loss: String,
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

/// Arguments of `objectives eval`.
#[derive(clap::Args)]
pub struct EvalArgs {
    /// The loss: a name or alias (`mse`, `MeanSquaredError`), or Keras's serialized JSON
    /// (inline, or `@file.json`).
    #[arg(long)]
    pub loss: String,
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
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Eval(args) => eval::run(&args),
        Command::Explain(args) => explain(&args),
        Command::List => {
            println!("{:<30} {:<32} aliases", "class", "function");
            for e in objectives::registry::ALL_LOSSES {
                println!("{:<30} {:<32} {}", e.class_name, e.function_name, e.aliases.join(", "));
            }
            Ok(())
        }
    }
}

/// Parses `64,7,16,16` (or `scalar` / an empty string for a 0-d shape).
fn parse_shape(flag: &str, text: &str) -> anyhow::Result<Vec<usize>> {
    let t = text.trim();
    if t.is_empty() || t == "scalar" {
        return Ok(vec![]);
    }
    t.split(',')
        .map(|d| {
            d.trim().parse::<usize>().map_err(|_| {
                anyhow::anyhow!(
                    "{flag}: `{text}` is not a shape; write the dimensions separated by commas, e.g. 64,7,16,16"
                )
            })
        })
        .collect()
}

fn explain(args: &ExplainArgs) -> anyhow::Result<()> {
    let loss = eval::parse_loss(&args.loss)?;
    let y_pred = parse_shape("--y-pred-shape", &args.y_pred_shape)?;
    let y_true = args.y_true_shape.as_deref().map(|s| parse_shape("--y-true-shape", s)).transpose()?;
    let sw = args.sample_weight_shape.as_deref().map(|s| parse_shape("--sample-weight-shape", s)).transpose()?;
    let mask = args.mask_shape.as_deref().map(|s| parse_shape("--mask-shape", s)).transpose()?;
    let plan = objectives::explain(loss.as_ref(), y_true.as_deref(), &y_pred, sw.as_deref(), mask.as_deref())?;
    print!("{plan}");
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A panic would be a bug in objectives or burn; report it as an error line, not a backtrace.
    std::panic::set_hook(Box::new(|_| {}));
    match std::panic::catch_unwind(|| run(cli)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            eprintln!("error: internal error (please report it): {msg}");
            ExitCode::from(2)
        }
    }
}
