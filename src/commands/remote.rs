//! Shared plumbing of the remote commands: configuration and client setup, error mapping to
//! copr-cli's exit codes, tables, JSON output and waiting for builds.

use std::io::Write;
use std::time::Duration;

use comfy_table::{Table, presets};
use serde::Serialize;

use crate::cli::{
    BuildBootstrap, BuildOptionArgs, GlobalArgs, Isolation, OutputFormat, RemoteArgs,
};
use crate::client::{
    Build, BuildOptions, ChrootRef, Client, ClientError, Config, ConfigError, NameError, ProjectRef,
};
use crate::error::{CliError, ExitStatus, WithStatus};

pub use super::follow::{WatchOptions, watch};

/// A connected client with the configuration it came from.
pub struct Remote {
    pub config: Config,
    pub client: Client,
}

impl Remote {
    /// Read the configuration (`--config` or `~/.config/copr`) and set up the client.
    pub fn open(args: &RemoteArgs) -> Result<Remote, CliError> {
        let config = Config::load(args.config.as_deref()).map_err(config_error)?;
        let client = Client::new(&config).map_err(|e| client_error(e, &config))?;
        Ok(Remote { config, client })
    }

    /// Map a client error, with a hint that names this configuration.
    pub fn err(&self, e: ClientError) -> CliError {
        client_error(e, &self.config)
    }

    pub fn project(&self, arg: &str) -> Result<ProjectRef, CliError> {
        ProjectRef::parse(arg, self.config.username.as_deref()).map_err(|e| self.name_error(e))
    }

    pub fn chroot(&self, arg: &str) -> Result<ChrootRef, CliError> {
        ChrootRef::parse(arg, self.config.username.as_deref()).map_err(|e| self.name_error(e))
    }

    pub fn name_error(&self, e: NameError) -> CliError {
        match e {
            NameError::NoOwner { .. } => CliError::new(ExitStatus::Config, e).with_hint(format!(
                "add `username = …` to the [copr-cli] section of {}, or name the owner",
                self.config_name()
            )),
            NameError::Invalid { .. } => CliError::new(ExitStatus::Args, e),
        }
    }

    fn config_name(&self) -> String {
        config_name(&self.config)
    }
}

fn config_name(config: &Config) -> String {
    match &config.path {
        Some(p) => p.display().to_string(),
        None => Config::default_path()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "~/.config/copr".to_string()),
    }
}

/// Configuration problems exit 6, as in copr-cli.
pub fn config_error(e: ConfigError) -> CliError {
    let hint = match &e {
        ConfigError::Missing { .. } | ConfigError::NoHome => Some(
            "write a [copr-cli] section with login, username, token and copr_url (the server's \
             API page or `copr serve admin add-user` prints one)",
        ),
        _ => None,
    };
    let err = CliError::new(ExitStatus::Config, e);
    match hint {
        Some(h) => err.with_hint(h),
        None => err,
    }
}

/// copr-cli's exit codes: 7 authentication, 6 configuration, 5 incompatible frontend,
/// 3 local problems, 1 for every other request failure.
pub fn client_error(e: ClientError, config: &Config) -> CliError {
    let file = config_name(config);
    let api = format!("{}/api", config.copr_url);
    match e {
        ClientError::Auth { .. } => CliError::new(ExitStatus::Auth, e).with_hint(format!(
            "check `login` and `token` in {file}; a new token is on {api}"
        )),
        ClientError::NoCredentials { .. } => CliError::new(ExitStatus::Auth, e)
            .with_hint(format!("get a token on {api} and save it in {file}")),
        ClientError::Connect { .. } => CliError::new(ExitStatus::Request, e)
            .with_hint(format!("is the server running? copr_url comes from {file}")),
        ClientError::NotJson { .. } => CliError::new(ExitStatus::Request, e).with_hint(format!(
            "check that copr_url in {file} is the address of a Copr frontend"
        )),
        ClientError::Shape { .. } => CliError::new(ExitStatus::OldFrontend, e)
            .with_hint("the server speaks a different version of the Copr API v3"),
        ClientError::BadUrl { .. } => CliError::new(ExitStatus::Config, e),
        ClientError::Io { .. } => CliError::new(ExitStatus::Generic, e),
        ClientError::NotFound { .. }
        | ClientError::Timeout { .. }
        | ClientError::Request { .. }
        | ClientError::Transport { .. } => CliError::new(ExitStatus::Request, e),
    }
}

/// True when data goes out as JSON.
pub fn json(global: &GlobalArgs) -> bool {
    global.output == OutputFormat::Json
}

/// Print a value as pretty JSON on stdout.
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value).status(ExitStatus::Generic)?;
    writeln!(out).status(ExitStatus::Generic)?;
    Ok(())
}

/// Print a line of text on stdout.
pub fn print_line(line: impl std::fmt::Display) -> Result<(), CliError> {
    writeln!(std::io::stdout().lock(), "{line}").status(ExitStatus::Generic)
}

/// Print a build as copr-cli's `status` does: its state word, or the whole build as JSON.
pub fn print_build_state(global: &GlobalArgs, build: &Build) -> Result<(), CliError> {
    if json(global) {
        print_json(build)
    } else {
        print_line(&build.state)
    }
}

/// A borderless table with a header row.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(presets::NOTHING);
    t.set_header(header.iter().map(|h| h.to_string()).collect::<Vec<_>>());
    t
}

/// A two-column `field  value` table.
pub fn fields(rows: Vec<(&str, String)>) -> Table {
    let mut t = Table::new();
    t.load_style(presets::NOTHING);
    for (k, v) in rows {
        t.add_row(vec![format!("{k}:"), v]);
    }
    t
}

/// Print a table flush left, without trailing spaces.
pub fn print_table(table: &Table) -> Result<(), CliError> {
    let lines: Vec<String> = table.lines().collect();
    // Every cell is padded by one space on the left; drop it from the first column.
    let indented = lines.iter().all(|l| l.is_empty() || l.starts_with(' '));
    let mut out = std::io::stdout().lock();
    for line in &lines {
        let line = if indented {
            line.strip_prefix(' ').unwrap_or(line)
        } else {
            line
        };
        writeln!(out, "{}", line.trim_end()).status(ExitStatus::Generic)?;
    }
    Ok(())
}

pub fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

pub fn opt_bool(v: Option<bool>) -> String {
    match v {
        Some(true) => "yes".into(),
        Some(false) => "no".into(),
        None => String::new(),
    }
}

pub fn list(v: &Option<Vec<String>>) -> String {
    v.as_ref().map(|l| l.join(" ")).unwrap_or_default()
}

/// An epoch timestamp as `YYYY-MM-DD HH:MM:SS` UTC.
pub fn when(epoch: Option<i64>) -> String {
    let Some(t) = epoch else {
        return String::new();
    };
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| d.format(&fmt).ok())
        .unwrap_or_else(|| t.to_string())
}

pub fn isolation(v: Option<Isolation>) -> Option<String> {
    v.map(|i| {
        match i {
            Isolation::Default => "default",
            Isolation::Simple => "simple",
            Isolation::Nspawn => "nspawn",
        }
        .to_string()
    })
}

pub fn build_bootstrap(v: Option<BuildBootstrap>) -> Option<String> {
    v.map(|b| {
        match b {
            BuildBootstrap::Unchanged => "unchanged",
            BuildBootstrap::Default => "default",
            BuildBootstrap::On => "on",
            BuildBootstrap::Off => "off",
            BuildBootstrap::Image => "image",
        }
        .to_string()
    })
}

/// The API's build options from the command line.
pub fn build_options(args: &BuildOptionArgs) -> BuildOptions {
    BuildOptions {
        chroots: (!args.chroots.is_empty()).then(|| args.chroots.clone()),
        exclude_chroots: (!args.exclude_chroots.is_empty()).then(|| args.exclude_chroots.clone()),
        timeout: args.timeout,
        background: args.background,
        enable_net: args.enable_net.map(|v| v.as_bool()),
        bootstrap: build_bootstrap(args.bootstrap),
        isolation: isolation(args.isolation),
        after_build_id: args.after_build_id,
        with_build_id: args.with_build_id,
    }
}

/// Report a submitted build the way copr-cli does (scripts grep `Created builds:`), then wait
/// for it unless `--nowait`. With `--output json` the build object is printed instead (after
/// waiting, its final state).
pub fn submitted(
    remote: &Remote,
    global: &GlobalArgs,
    build: Build,
    nowait: bool,
    interval: u64,
) -> Result<ExitStatus, CliError> {
    if json(global) {
        if nowait {
            print_json(&build)?;
            return Ok(ExitStatus::Success);
        }
        eprintln!("Created builds: {}", build.id);
        let opts = watch_options(global, interval);
        let (status, finals) = watch(remote, &[build.id], &opts)?;
        print_json(&finals[0])?;
        return Ok(status);
    }
    print_line(format_args!("Build was added to {}:", build.projectname))?;
    print_line(format_args!("  {}", remote.client.build_url(build.id)))?;
    print_line(format_args!("Created builds: {}", build.id))?;
    if nowait {
        return Ok(ExitStatus::Success);
    }
    let (status, _) = watch(remote, &[build.id], &watch_options(global, interval))?;
    Ok(status)
}

/// How a command watches builds: state lines on stderr when stdout carries JSON, live logs
/// with `--verbose`, no progress lines with `--quiet`.
pub fn watch_options(global: &GlobalArgs, interval: u64) -> WatchOptions {
    WatchOptions {
        interval: Duration::from_secs(interval),
        to_stderr: json(global),
        verbose: global.verbose,
        quiet: global.quiet,
    }
}
