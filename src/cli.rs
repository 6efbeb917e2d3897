//! Command-line definitions (clap). Every argument carries a doc comment: it is the `--help` text,
//! the man page and the shell completion description.

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Build RPMs in an isolated buildroot, publish signed dnf repositories, and run a self-hosted,
/// Copr-compatible build service.
#[derive(Debug, Parser)]
#[command(name = "copr", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Options accepted by every subcommand.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Show more detail: stream build logs and debug messages.
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// Print only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Output format for data printed to stdout.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// Disable colours (also honoured: the NO_COLOR environment variable).
    #[arg(long, global = true)]
    pub no_color: bool,
}

/// How data is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable text and tables.
    Text,
    /// Machine-readable JSON on stdout.
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a shell completion script to stdout.
    Completions(CompletionsArgs),
    /// Print the mock config a build in CHROOT would use (as Copr's builder writes it).
    MockConfig(MockConfigArgs),
}

/// Arguments of `copr completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

// ---- sandbox area: buildroot backends ----

/// Arguments of `copr mock-config`.
#[derive(Debug, Args)]
pub struct MockConfigArgs {
    /// `OWNER/PROJECT` (sets %copr_username, %copr_projectname and %vendor), or the chroot
    /// when no project is given.
    #[arg(value_name = "OWNER/PROJECT")]
    pub project_or_chroot: String,

    /// Chroot whose base config is included, e.g. `fedora-40-x86_64`.
    #[arg(value_name = "CHROOT")]
    pub chroot: Option<String>,

    /// A repository for BuildRequires (base URL); repeat for several, highest priority first.
    #[arg(long = "repo", value_name = "URL")]
    pub repos: Vec<String>,

    /// Allow network access during the build.
    #[arg(long)]
    pub enable_net: bool,

    /// Define an rpm macro for the build; repeat for several.
    #[arg(long = "macro", value_name = "NAME=VALUE")]
    pub macros: Vec<String>,

    /// Extra package to install into the buildroot; repeat for several.
    #[arg(long = "buildroot-pkg", value_name = "PKG")]
    pub buildroot_pkgs: Vec<String>,

    /// How mock sets up the buildroot's package manager.
    #[arg(long, value_enum, default_value_t = crate::mock::mockcfg::Bootstrap::Default)]
    pub bootstrap: crate::mock::mockcfg::Bootstrap,

    /// Container image for `--bootstrap custom-image`.
    #[arg(long, value_name = "IMAGE")]
    pub bootstrap_image: Option<String>,

    /// Buildroot isolation (`simple` or `nspawn`; mock's default when not given).
    #[arg(long, value_name = "KIND", value_parser = ["default", "simple", "nspawn"])]
    pub isolation: Option<String>,

    /// Module to enable in the buildroot, `NAME:STREAM`; repeat for several.
    #[arg(long = "enable-module", value_name = "NAME:STREAM")]
    pub modules: Vec<String>,
}
