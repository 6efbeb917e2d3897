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
    /// Build RPMs from a spec directory, spec file, SRPM, URL or git repository in an isolated
    /// buildroot.
    Build(BuildArgs),
    /// Make only the source RPM from a spec directory, spec file, URL or git repository.
    Srpm(SrpmArgs),
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

// ---- pipeline: `copr build`, `copr srpm` ----

/// Where the sources come from and how the SRPM is made (shared by `build` and `srpm`).
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// What to build: a directory with a spec and its sources (default `.`), a `.spec` file, a
    /// `.src.rpm`, an http(s) URL of a `.spec` or `.src.rpm`, or a git repository (URL, or local
    /// path with --git/--committish). With `--method custom`: the script to run.
    #[arg(value_name = "SOURCE")]
    pub source: Option<String>,

    /// How the SRPM is made (default: rpmbuild, or `method` from the tree's copr.toml).
    #[arg(long, value_enum)]
    pub method: Option<crate::job::SrpmMethod>,

    /// Treat SOURCE as a git repository even when it is a local directory.
    #[arg(long)]
    pub git: bool,

    /// Git branch, tag or commit to build (implies a git source).
    #[arg(long, value_name = "REF")]
    pub committish: Option<String>,

    /// Subdirectory of the source tree that holds the package.
    #[arg(long, value_name = "PATH")]
    pub subdir: Option<std::path::PathBuf>,

    /// The spec file, relative to the package directory, when it holds more than one.
    #[arg(long, value_name = "PATH")]
    pub spec: Option<std::path::PathBuf>,

    /// Buildroot backend (default: mock when installed, sandbox otherwise).
    #[arg(long, value_enum)]
    pub backend: Option<crate::mock::BackendKind>,

    /// Define an rpm macro, as `NAME VALUE` (repeatable).
    #[arg(long = "define", short = 'D', value_name = "'NAME VALUE'")]
    pub defines: Vec<String>,

    /// Enable an rpm `--with` conditional (repeatable).
    #[arg(long = "with", value_name = "OPTION")]
    pub with: Vec<String>,

    /// Enable an rpm `--without` conditional (repeatable).
    #[arg(long = "without", value_name = "OPTION")]
    pub without: Vec<String>,

    /// Kill the build (its whole process tree) after this many seconds [default: 18000].
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
}

/// Arguments of `copr build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub source: SourceArgs,

    /// Chroot to build for (repeatable) [default: host-<arch>, or `chroots` from copr.toml].
    #[arg(long = "chroot", short = 'r', value_name = "CHROOT")]
    pub chroots: Vec<String>,

    /// Directory that receives the results (Copr's layout) and the repository of earlier builds.
    #[arg(long, value_name = "DIR", default_value = "copr-results")]
    pub resultdir: std::path::PathBuf,

    /// Extra repository for BuildRequires: an http(s) base URL or a local directory (repeatable).
    #[arg(long = "repo", value_name = "URL|DIR")]
    pub repos: Vec<String>,

    /// Extra package to install into the buildroot (repeatable).
    #[arg(long = "buildroot-pkg", value_name = "PKG")]
    pub buildroot_pkgs: Vec<String>,

    /// Allow network access inside the buildroot (off by default).
    #[arg(long)]
    pub enable_net: bool,

    /// Build even when BuildRequires are not satisfied.
    #[arg(long)]
    pub nodeps: bool,

    /// Memory limit of the build's processes: bytes, or with a K/M/G/T suffix (e.g. 4G).
    #[arg(long, value_name = "SIZE", value_parser = crate::mock::hostconfig::parse_size)]
    pub memory_limit: Option<u64>,

    /// Print the resolved job spec (TOML, or JSON with --output json) instead of building.
    #[arg(long)]
    pub dry_run: bool,

    /// Run the job spec in FILE (TOML, or JSON for `*.json`) instead of resolving SOURCE and flags.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["source", "method", "git", "committish", "subdir", "spec", "chroots"])]
    pub job: Option<std::path::PathBuf>,
}

/// Arguments of `copr srpm`.
#[derive(Debug, Args)]
pub struct SrpmArgs {
    #[command(flatten)]
    pub source: SourceArgs,

    /// Directory that receives the SRPM.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub outdir: std::path::PathBuf,
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
