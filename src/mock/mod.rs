//! Buildroot backends: `sandbox` (the host's rpmbuild inside bubblewrap) and `mock`.
//!
//! The pipeline (`src/pipeline/`) decides *what* to build; a [`Backend`] decides *where*: it
//! turns a spec plus sources into an SRPM, or an SRPM into binary RPMs for one chroot, inside an
//! isolated buildroot. Both backends take the same [`BuildRequest`], so a local build, a builder
//! agent and `copr repro` behave the same.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub mod deps;
pub mod evr;
pub mod hostconfig;
pub mod mockcfg;
mod run;
pub mod sandbox;
mod summary;

pub use hostconfig::HostConfig;
pub use sandbox::{Sandbox, host_chroot};
pub use summary::failure_summary;

/// Which buildroot implementation to use.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum BackendKind {
    /// The host's rpmbuild inside bubblewrap; builds for the host (`host-<arch>`).
    Sandbox,
    /// mock with a Copr-style config (Fedora/EL hosts with mock installed).
    Mock,
}

impl BackendKind {
    /// The default on this host: `mock` when it is installed, `sandbox` otherwise.
    pub fn detect() -> BackendKind {
        if which("mock").is_some() {
            BackendKind::Mock
        } else {
            BackendKind::Sandbox
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Sandbox => "sandbox",
            BackendKind::Mock => "mock",
        }
    }
}

/// What to build.
#[derive(Debug, Clone)]
pub enum BuildKind {
    /// `rpmbuild -bs`: a spec and the directory holding its sources → one `.src.rpm`.
    Srpm { spec: PathBuf, sources: PathBuf },
    /// `rpmbuild --rebuild`: an SRPM → binary RPMs for the request's chroot.
    Rebuild { srpm: PathBuf },
}

/// A repository whose packages may satisfy BuildRequires: a local directory (with or without
/// repodata) or an http(s) base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepoSource {
    Dir(PathBuf),
    Url(String),
}

/// Cancellation flag shared between the caller and a running build. Setting it kills the
/// build's whole process tree.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_canceled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Everything a backend needs to run one build.
pub struct BuildRequest<'a> {
    pub kind: BuildKind,
    /// Chroot name, e.g. `host-x86_64` or `fedora-40-x86_64`.
    pub chroot: &'a str,
    /// Scratch directory owned by this build (the only writable place in the sandbox).
    pub workdir: &'a Path,
    /// Where the produced `.rpm`/`.src.rpm` files are moved when the build succeeds.
    pub outdir: &'a Path,
    /// Repositories for BuildRequires, in priority order (the project's own results first).
    pub repos: &'a [RepoSource],
    /// Extra packages to install into the buildroot (Copr's `buildroot_pkgs`).
    pub buildroot_pkgs: &'a [String],
    /// `--define` macros (name without `%` → value).
    pub macros: &'a BTreeMap<String, String>,
    /// `--with` / `--without` conditionals.
    pub with_opts: &'a [String],
    pub without_opts: &'a [String],
    /// Allow network access inside the buildroot.
    pub enable_net: bool,
    /// Build anyway when BuildRequires are unsatisfied (reported as a warning in the log).
    pub nodeps: bool,
    /// Kill the whole process tree after this long.
    pub timeout: Duration,
    /// Memory limit for the build's processes, in bytes.
    pub memory_limit: Option<u64>,
    /// Receives the live build log, line by line as it is produced.
    pub log: &'a mut (dyn Write + Send),
    pub cancel: CancelToken,
}

/// What a finished build produced.
#[derive(Debug, Clone, Default)]
pub struct BuildOutput {
    /// Paths (inside the request's `outdir`) of the produced packages.
    pub packages: Vec<PathBuf>,
}

/// Why a build did not produce packages.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The backend cannot build for this chroot on this host.
    #[error("the {backend} backend cannot build for chroot `{chroot}`: {reason}")]
    UnsupportedChroot {
        backend: &'static str,
        chroot: String,
        reason: String,
    },
    /// A required host tool is not installed.
    #[error("`{tool}` is not installed, but the {backend} backend needs it")]
    MissingTool {
        backend: &'static str,
        tool: &'static str,
    },
    /// BuildRequires that nothing satisfies (each named).
    #[error("unmet BuildRequires: {}", .0.join(", "))]
    UnmetDependencies(Vec<String>),
    /// The build ran and failed; `summary` is the first real error line(s) of the log.
    #[error("build failed: {summary}")]
    BuildFailed { summary: String },
    #[error("build timed out after {0:?}; its process tree was killed")]
    Timeout(Duration),
    #[error("build canceled; its process tree was killed")]
    Canceled,
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

/// A buildroot implementation.
pub trait Backend: Send + Sync {
    fn kind(&self) -> BackendKind;

    /// Whether this backend can build for `chroot` here; the error explains why not.
    fn check_chroot(&self, chroot: &str) -> Result<(), BackendError>;

    /// Run one build to completion (or timeout/cancel).
    fn build(&self, req: BuildRequest<'_>) -> Result<BuildOutput, BackendError>;
}

/// The first executable named `name` in `PATH`.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| {
            use std::os::unix::fs::PermissionsExt;
            p.metadata()
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

/// The host's RPM architecture name (`x86_64`, `aarch64`, `ppc64le`, `i686`, …).
pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86" => "i686",
        "arm" => "armv7hl",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        "powerpc64" => "ppc64",
        "powerpc" => "ppc",
        other => other,
    }
}

/// The backend of this kind, configured for this host. Fails with
/// [`BackendError::MissingTool`] when the tools it runs are not installed.
pub fn backend(kind: BackendKind, config: &HostConfig) -> Result<Box<dyn Backend>, BackendError> {
    match kind {
        BackendKind::Sandbox => Ok(Box::new(Sandbox::new(config.clone())?)),
        BackendKind::Mock => Ok(Box::new(mockcfg::Mock::new()?)),
    }
}
