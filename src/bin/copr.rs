//! The `copr` binary: parse arguments, set up logging, dispatch, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;
use copr::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    copr::commands::init_logging(&cli.global);
    match copr::commands::run(cli) {
        Ok(code) => code.into(),
        Err(err) => copr::commands::report_error(&err),
    }
}
