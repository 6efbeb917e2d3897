//! Modules: modulemd v2 documents, releasing a module from a result directory's builds, and
//! building a module's components in build order.

use std::path::PathBuf;

pub mod build;
pub mod modulemd;
pub mod parse;
pub mod release;
pub mod results;

pub use modulemd::{ModuleIndex, ModuleStream, write_index};
pub use parse::{Diagnostic, InvalidModulemd, Parsed, parse_index};

/// Why a module operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ModuleError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("{path}: {source}")]
    IoAt {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a readable RPM: {reason}")]
    BadRpm { path: PathBuf, reason: String },
    #[error("{path}: {reason}")]
    BadRecord { path: PathBuf, reason: String },
    #[error("{}: invalid modulemd: {source}", .path.display())]
    Invalid {
        path: PathBuf,
        source: InvalidModulemd,
    },
    #[error("chroot `{chroot}` is not in {}{}", .resultdir.display(), available_list(.available))]
    NoSuchChroot {
        chroot: String,
        resultdir: PathBuf,
        available: Vec<String>,
    },
    #[error("no successful builds with binary RPMs in {}", .dir.display())]
    NoBuilds { chroot: String, dir: PathBuf },
    #[error("{what} names packages that no build produced: {}; available: {}", .unknown.join(", "), .available.join(", "))]
    UnknownPackages {
        what: String,
        unknown: Vec<String>,
        available: Vec<String>,
    },
    #[error("{0}")]
    BadSpec(String),
    #[error("module {nsv} is already released; a released module never changes")]
    AlreadyReleased { nsv: String },
    #[error("version of {nsv} is not newer than the latest release ({latest})")]
    VersionNotNewer { nsv: String, latest: u64 },
    #[error("{}{message}", .line.map(|l| format!("line {l}: ")).unwrap_or_default())]
    Plan {
        line: Option<usize>,
        message: String,
    },
    #[error("build group {group} failed: {}; not built: {}", .failed.join("; "), if .not_built.is_empty() { "nothing".to_string() } else { .not_built.join(", ") })]
    ComponentsFailed {
        group: usize,
        failed: Vec<String>,
        not_built: Vec<String>,
    },
    #[error(transparent)]
    Pipeline(#[from] crate::pipeline::PipelineError),
    #[error("`{tool}` failed: {reason}")]
    Tool { tool: &'static str, reason: String },
    #[error("internal error: {0}")]
    Internal(String),
}

fn available_list(a: &[String]) -> String {
    if a.is_empty() {
        String::new()
    } else {
        format!(" (chroots there: {})", a.join(", "))
    }
}

impl ModuleError {
    /// What a person can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            ModuleError::AlreadyReleased { .. } => {
                Some("leave out --version to release a new version (the current UTC time)".into())
            }
            ModuleError::VersionNotNewer { latest, .. } => Some(format!(
                "use a version above {latest}, or leave out --version"
            )),
            ModuleError::NoBuilds { .. } => {
                Some("build packages first: `copr build SOURCE --resultdir DIR`".into())
            }
            ModuleError::UnknownPackages { .. } => {
                Some("name binary packages built in the result directory (see `available`)".into())
            }
            _ => None,
        }
    }
}

/// Refresh the rpm-md metadata of a chroot directory so its `modules.yaml` is published as
/// `type="modules"`: `createrepo_c --update`, then `modifyrepo_c`.
pub fn publish_chroot(dir: &std::path::Path) -> Result<(), ModuleError> {
    let run = |tool: &'static str, args: &[&std::ffi::OsStr]| -> Result<(), ModuleError> {
        let out = std::process::Command::new(tool)
            .args(args)
            .output()
            .map_err(|e| ModuleError::Tool {
                tool,
                reason: e.to_string(),
            })?;
        if out.status.success() {
            Ok(())
        } else {
            Err(ModuleError::Tool {
                tool,
                reason: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            })
        }
    };
    let repodata = dir.join("repodata");
    let mut args: Vec<&std::ffi::OsStr> = vec!["--quiet".as_ref(), "--no-database".as_ref()];
    if repodata.join("repomd.xml").is_file() {
        args.push("--update".as_ref());
    }
    args.push(dir.as_os_str());
    run("createrepo_c", &args)?;
    let modules = dir.join("modules.yaml");
    run(
        "modifyrepo_c",
        &[
            "--mdtype=modules".as_ref(),
            modules.as_os_str(),
            repodata.as_os_str(),
        ],
    )
}
