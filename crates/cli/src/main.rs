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
    /// List every loss with its names and aliases.
    List,
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
        Command::List => {
            println!("{:<30} {:<32} aliases", "class", "function");
            for e in objectives::registry::ALL_LOSSES {
                println!("{:<30} {:<32} {}", e.class_name, e.function_name, e.aliases.join(", "));
            }
            Ok(())
        }
    }
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
