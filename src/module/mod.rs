//! Modules: modulemd v2 documents, releasing a module from a result directory's builds, and
//! building a module's components in build order.

use std::path::{Path, PathBuf};

use crate::repo::keys::{KeyStore, SigningKey};
use crate::repo::publish::PublishOptions;
use crate::reporter::Reporter;

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
    #[error(transparent)]
    Publish(#[from] crate::repo::publish::PublishError),
    #[error(transparent)]
    Key(#[from] crate::repo::keys::KeyError),
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

/// The signing key of a local result directory: the one already kept in `<resultdir>/.keys/`
/// (as `copr build` creates it), else a new one for `local/<resultdir name>`. The public key
/// is exported to `<resultdir>/pubkey.gpg`.
pub fn local_key(resultdir: &Path) -> Result<SigningKey, ModuleError> {
    let keys = resultdir.join(".keys");
    let pattern = format!(
        "{}/*/*/secret.asc",
        glob::Pattern::escape(&keys.to_string_lossy())
    );
    let mut existing: Vec<PathBuf> = glob::glob(&pattern)
        .map(|paths| paths.flatten().collect())
        .unwrap_or_default();
    existing.sort();
    let key = match existing.first() {
        Some(secret) => SigningKey::load(secret)?,
        None => {
            // The same owner/project `copr build` uses for a result directory.
            let owner = "local".to_string();
            let project = resultdir
                .canonicalize()
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "results".into());
            KeyStore::new(&keys).get_or_create(&owner, &project)?
        }
    };
    let pubkey = resultdir.join("pubkey.gpg");
    if !pubkey.exists() {
        fs_err::write(&pubkey, key.public_armored()?)?;
    }
    Ok(key)
}

/// Sign the chroot's packages and regenerate its repository with the chroot's `modules.yaml`
/// as `type="modules"` and a signed repomd.xml.
pub fn publish_chroot(
    resultdir: &Path,
    chroot_dir: &Path,
    reporter: &dyn Reporter,
) -> Result<(), ModuleError> {
    let key = local_key(resultdir)?;
    let opts = PublishOptions {
        modules_yaml: Some(chroot_dir.join("modules.yaml")),
        ..Default::default()
    };
    crate::repo::publish::publish_chroot(chroot_dir, &key, &opts, reporter)?;
    Ok(())
}
