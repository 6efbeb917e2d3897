//! One file per subcommand: resolve arguments, call the library, render the result.

use crate::cli::{Cli, Command, GlobalArgs};
use crate::error::{CliError, ExitStatus};

mod add_package_scm;
mod bench;
mod build_package;
mod buildscm;
mod cancel;
mod completions;
mod create;
mod createrepo;
mod delete;
mod delete_build;
mod delete_package;
mod download_build;
mod edit_chroot;
mod fork;
mod get;
mod get_chroot;
mod get_package;
mod key;
mod list;
mod list_builds;
mod list_chroots;
mod list_package_names;
mod list_packages;
mod mock_config;
mod modify;
mod monitor;
mod new_api_token;
mod regenerate_repos;
pub mod remote;
mod serve;
mod sign;
mod status;
mod watch_build;
mod whoami;

mod build;
mod builder;
mod progress;
mod srpm;

mod build_remote;
mod follow;
mod module;
mod module_remote;
mod repro;

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
        Command::Serve(args) => serve::run(&global, *args),
        Command::Whoami(args) => whoami::run(&global, args),
        Command::List(args) => list::run(&global, args),
        Command::Get(args) => get::run(&global, args),
        Command::Create(args) => create::run(&global, args),
        Command::Modify(args) => modify::run(&global, args),
        Command::Delete(args) => delete::run(&global, args),
        Command::Fork(args) => fork::run(&global, args),
        Command::RegenerateRepos(args) => regenerate_repos::run(&global, args),
        Command::ListBuilds(args) => list_builds::run(&global, args),
        Command::Status(args) => status::run(&global, args),
        Command::Cancel(args) => cancel::run(&global, args),
        Command::DeleteBuild(args) => delete_build::run(&global, args),
        Command::WatchBuild(args) => watch_build::run(&global, args),
        Command::DownloadBuild(args) => download_build::run(&global, args),
        Command::ListChroots(args) => list_chroots::run(&global, args),
        Command::GetChroot(args) => get_chroot::run(&global, args),
        Command::EditChroot(args) => edit_chroot::run(&global, args),
        Command::ListPackages(args) => list_packages::run(&global, args),
        Command::GetPackage(args) => get_package::run(&global, args),
        Command::AddPackageScm(args) => add_package_scm::run(&global, args),
        Command::EditPackageScm(args) => add_package_scm::run_edit(&global, args),
        Command::BuildPackage(args) => build_package::run(&global, args),
        Command::Buildscm(args) => buildscm::run(&global, args),
        Command::Module(args) => module::run(&global, args),
        Command::Monitor(args) => monitor::run(&global, args),
        Command::NewApiToken(args) => new_api_token::run(&global, args),
        Command::ListPackageNames(args) => list_package_names::run(&global, args),
        Command::DeletePackage(args) => delete_package::run(&global, args),
        Command::ResetPackage(args) => delete_package::run_reset(&global, args),
        Command::Repro(args) => repro::run(&global, args),
        Command::Builder(args) => builder::run(&global, args),
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
