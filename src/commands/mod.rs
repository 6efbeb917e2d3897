//! One file per subcommand: resolve arguments, call the library, render the result.

use crate::cli::{Cli, Command, GlobalArgs};
use crate::error::{CliError, ExitStatus};

mod bench;
mod completions;
mod createrepo;
mod key;
mod mock_config;
mod sign;

mod build;
mod progress;
mod srpm;

mod module;

/// Run the parsed command line; returns the exit status for a completed run.
pub fn run(cli: Cli) -> Result<ExitStatus, CliError> {
    let global = cli.global;
    match cli.command {
        Command::Completions(args) => completions::run(&global, args),
        Command::Createrepo(args) => createrepo::run(&global, args),
        Command::Key(args) => key::run(&global, args),
        Command::Sign(args) => sign::run(&global, args),
        Command::Bench(args) => bench::run(&global, args),
        Command::Build(args) => build::run(&global, args),
        Command::Srpm(args) => srpm::run(&global, args),
        Command::MockConfig(args) => mock_config::run(&global, args),
        Command::Module(args) => module::run(&global, args),
    }
}

/// Set up `tracing` for log messages on stderr. `RUST_LOG` overrides the level.
pub fn init_logging(global: &GlobalArgs) {
    use tracing_subscriber::EnvFilter;
    let default = if global.verbose {
        "copr=debug,info"
    } else if global.quiet {
        "error"
    } else {
        "warn"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let ansi = !global.no_color && std::env::var_os("NO_COLOR").is_none();
    if !ansi {
        console::set_colors_enabled(false);
        console::set_colors_enabled_stderr(false);
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false)
        .try_init();
}

/// Print an error with its cause chain and hint to stderr; return its exit code.
pub fn report_error(err: &CliError) -> std::process::ExitCode {
    let red = console::Style::new().red().bold().for_stderr();
    eprintln!("{} {}", red.apply_to("error:"), err.error);
    for cause in err.error.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
    if let Some(hint) = &err.hint {
        let cyan = console::Style::new().cyan().bold().for_stderr();
        eprintln!("{} {hint}", cyan.apply_to("hint:"));
    }
    err.status.into()
}
