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
    /// Run the build service (Copr API v3 compatible), or manage its users with `serve admin`.
    Serve(Box<ServeArgs>),
}

/// Arguments of `copr completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

// ----- server (`copr serve`) -----

/// Arguments of `copr serve`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = false)]
pub struct ServeArgs {
    /// TOML configuration file (keys: listen, public_url, data_dir, database, chroots,
    /// upload_limit, token_lifetime_days).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,

    /// Data directory: SQLite database, results, uploads and project keys [default: ./copr-data].
    #[arg(long, global = true, value_name = "DIR")]
    pub data: Option<std::path::PathBuf>,

    /// Database URL: postgres://USER:PASSWORD@HOST/DB or sqlite://PATH [default: SQLite in the
    /// data directory].
    #[arg(long, global = true, value_name = "URL")]
    pub database: Option<String>,

    /// Address to listen on; port 0 picks a free port [default: 127.0.0.1:5000].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,

    /// The URL clients reach this server at, used in result and repository URLs
    /// [default: http://LISTEN-ADDRESS].
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,

    /// Write the bound address (HOST:PORT) to this file once the server listens.
    #[arg(long, value_name = "FILE")]
    pub port_file: Option<std::path::PathBuf>,

    #[command(subcommand)]
    pub action: Option<ServeAction>,
}

/// Subcommands of `copr serve`.
#[derive(Debug, Subcommand)]
pub enum ServeAction {
    /// Manage users, groups and API tokens (works on the database directly).
    #[command(subcommand)]
    Admin(AdminCommand),
}

/// `copr serve admin …`.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a user and print its API login and token.
    AddUser {
        /// The user name (letters, digits, `_`, `.`, `-`).
        name: String,
        /// Make the user a site admin (may act on every project).
        #[arg(long)]
        admin: bool,
    },
    /// Create a group; its projects are owned by `@NAME`.
    AddGroup {
        /// The group name.
        name: String,
    },
    /// Add a user to a group.
    AddMember {
        /// The group name (with or without `@`).
        group: String,
        /// The user name.
        user: String,
    },
    /// Remove a user from a group.
    RemoveMember {
        /// The group name (with or without `@`).
        group: String,
        /// The user name.
        user: String,
    },
    /// Issue a new API token for a user; the old token stops working.
    RenewToken {
        /// The user name.
        name: String,
    },
    /// Fill a project with builds, for benchmarks.
    #[command(hide = true)]
    SeedBench {
        /// Owner of the project (created when missing).
        owner: String,
        /// Project name (created when missing).
        project: String,
        /// Number of builds to add.
        #[arg(long, default_value_t = 100_000)]
        builds: usize,
        /// Chroot of the project and its builds.
        #[arg(long, default_value = "fedora-42-x86_64")]
        chroot: String,
    },
}
