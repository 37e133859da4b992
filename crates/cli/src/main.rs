//! `objectives`: evaluate Keras losses on `.npy` files.
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
//! Bad input prints one line to stderr and exits with code 2.

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;
use objectives_cli::{Cli, one_line, run};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // `--help` and `--version` print as usual and succeed.
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => e.exit(),
        Err(e) if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            eprintln!(
                "error: no subcommand given; use `objectives eval`, `metric`, `explain`, `list` or `devices` (see `objectives --help`)"
            );
            return ExitCode::from(2);
        }
        Err(e) => {
            // clap's usage errors span several lines (the error, a usage line, a hint): keep the
            // error itself, on one line, like every other bad input.
            let text = e.render().to_string();
            let kept: Vec<&str> = text
                .lines()
                .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
                .collect();
            let msg = one_line(&kept.join("\n"));
            let msg = msg.strip_prefix("error: ").unwrap_or(&msg);
            eprintln!("error: {msg} (see `objectives --help`)");
            return ExitCode::from(2);
        }
    };
    // A panic would be a bug in objectives or burn; report it as an error line, not a backtrace.
    std::panic::set_hook(Box::new(|_| {}));
    let mut stdout = std::io::stdout().lock();
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(cli, &mut stdout))) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("error: {}", one_line(&format!("{e:#}")));
            ExitCode::from(2)
        }
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            eprintln!("error: internal error (please report it): {}", one_line(&msg));
            ExitCode::from(2)
        }
    }
}
