//! `JobSpec`: the one contract between local builds, the server and builder agents.
//!
//! A job spec fully describes one build. It is written as TOML on disk (`copr build --job FILE`,
//! `copr build --dry-run`) and as JSON on the wire; unknown fields are rejected so a typo never
//! silently changes a build. `version` lets a builder refuse a spec newer than it understands.
//!
//! The results types ([`ResultsJson`], [`Nevra`]) are the `results.json` files Copr writes into
//! every build directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::mock::BackendKind;

/// The job spec format this code writes and understands.
pub const JOB_SPEC_VERSION: u32 = 1;

/// Copr's default build timeout (5 hours), in seconds.
pub const DEFAULT_TIMEOUT_SECS: u64 = 18_000;

/// The name of the optional per-tree defaults file.
pub const COPR_TOML: &str = "copr.toml";

/// One build: where the sources come from, how the SRPM is made, and how and where it is built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    /// Format version ([`JOB_SPEC_VERSION`]).
    pub version: u32,
    /// Where the sources come from.
    pub source: Source,
    /// How the SRPM is produced from the source.
    #[serde(default)]
    pub method: SrpmMethod,
    /// Chroots to build for, e.g. `host-x86_64` or `fedora-40-x86_64`.
    pub chroots: Vec<String>,
    /// Buildroot backend; `None` picks the host default (mock when installed, else sandbox).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<BackendKind>,
    /// Extra packages installed into the buildroot (Copr's `buildroot_pkgs`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buildroot_pkgs: Vec<String>,
    /// Extra repositories for BuildRequires (http(s) base URLs or local directories). The result
    /// directory's own repository for each chroot is always added when the job runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repos: Vec<String>,
    /// rpm macros (`name` without `%` → value), passed as `--define`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub macros: BTreeMap<String, String>,
    /// `--with` conditionals.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub with: Vec<String>,
    /// `--without` conditionals.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub without: Vec<String>,
    /// Network access inside the buildroot (off by default).
    #[serde(default)]
    pub enable_net: bool,
    /// Build timeout in seconds; the whole process tree is killed when it expires.
    #[serde(default = "default_timeout")]
    pub timeout: u64,
    /// Memory limit for the build's processes, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_limit: Option<u64>,
    /// Build even when BuildRequires are unsatisfied.
    #[serde(default)]
    pub nodeps: bool,
    /// The Copr project the build belongs to, when it belongs to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<ProjectRef>,
    /// A build id assigned by a server; local builds allocate one in the result directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_id: Option<u64>,
    /// The package name, when known in advance (otherwise read from the SRPM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
}

fn default_timeout() -> u64 {
    DEFAULT_TIMEOUT_SECS
}

/// `owner/name` of a Copr project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectRef {
    pub owner: String,
    pub name: String,
}

impl std::str::FromStr for ProjectRef {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once('/') {
            Some((o, n)) if !o.is_empty() && !n.is_empty() && !n.contains('/') => Ok(ProjectRef {
                owner: o.to_string(),
                name: n.to_string(),
            }),
            _ => Err(format!("`{s}` is not OWNER/PROJECT")),
        }
    }
}

/// Where a build's sources come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Source {
    /// A directory holding a spec and its sources.
    Dir {
        path: PathBuf,
        /// The spec inside the directory, when it holds more than one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        spec: Option<PathBuf>,
    },
    /// A `.spec` file; its sources are next to it (or downloaded from their URLs).
    Spec { path: PathBuf },
    /// A ready-made source RPM.
    Srpm { path: PathBuf },
    /// An http(s) URL of a `.spec` or `.src.rpm`.
    Url { url: String },
    /// A git repository (local path or URL).
    Git {
        url: String,
        /// Branch, tag or commit; the default branch when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        committish: Option<String>,
        /// Subdirectory of the repository holding the package.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        subdir: Option<PathBuf>,
        /// The spec, relative to the subdirectory.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        spec: Option<PathBuf>,
    },
    /// A script that leaves a spec and its sources (or an SRPM) in its result directory.
    Custom {
        /// The script file; with `content`, only the name the script is written under.
        script: PathBuf,
        /// The script itself, when it travels inside the job (remote builds: Copr's `script`
        /// field); written into the work directory before it runs.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<String>,
        /// The directory (relative to the script's working directory) the script writes to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resultdir: Option<PathBuf>,
        /// What the script needs on the host (commands, files, package names, as in
        /// BuildRequires; Copr's `builddeps`); checked before it runs.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        builddeps: Vec<String>,
    },
}

impl Source {
    /// A short human description (`git https://… @ v1.0`).
    pub fn describe(&self) -> String {
        match self {
            Source::Dir { path, .. } => format!("directory {}", path.display()),
            Source::Spec { path } => format!("spec {}", path.display()),
            Source::Srpm { path } => format!("SRPM {}", path.display()),
            Source::Url { url } => format!("URL {url}"),
            Source::Git {
                url, committish, ..
            } => match committish {
                Some(c) => format!("git {url} @ {c}"),
                None => format!("git {url}"),
            },
            Source::Custom {
                script,
                content: Some(_),
                ..
            } => format!("custom script {} (inline)", script.display()),
            Source::Custom { script, .. } => format!("custom script {}", script.display()),
        }
    }
}

/// How the SRPM is produced (Copr's `srpm_build_method`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum SrpmMethod {
    /// `rpmbuild -bs` on the spec and the sources in the tree (missing Source URLs downloaded).
    #[default]
    Rpmbuild,
    /// `rpkg srpm` (rpkg-util).
    Rpkg,
    /// `tito build --srpm` from the latest tag.
    Tito,
    /// `tito build --test --srpm` from the latest commit.
    TitoTest,
    /// `make -f .copr/Makefile srpm outdir=… spec=…`, as Copr runs it.
    MakeSrpm,
    /// A user script that leaves a spec and sources (or an SRPM) in its result directory.
    Custom,
}

impl SrpmMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            SrpmMethod::Rpmbuild => "rpmbuild",
            SrpmMethod::Rpkg => "rpkg",
            SrpmMethod::Tito => "tito",
            SrpmMethod::TitoTest => "tito-test",
            SrpmMethod::MakeSrpm => "make-srpm",
            SrpmMethod::Custom => "custom",
        }
    }
}

/// Errors reading or validating a job spec.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("cannot read job spec {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid job spec {path}")]
    ParseToml {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    #[error("invalid {path}")]
    CoprToml {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    #[error("invalid job spec JSON")]
    ParseJson(#[source] serde_json::Error),
    #[error("job spec version {found} is newer than this copr understands ({JOB_SPEC_VERSION})")]
    Version { found: u32 },
    #[error("job spec has no chroots")]
    NoChroots,
    #[error("`{}` must be a relative path inside the source tree", .0.display())]
    OutsideTree(PathBuf),
    #[error("chroot `{0}` is listed more than once")]
    DuplicateChroot(String),
    #[error("`{0}` is not a chroot name")]
    BadChroot(String),
    #[error("the custom method needs a `custom` source (a script), not {0}")]
    CustomNeedsScript(String),
    #[error("a `custom` source needs the custom method, not `{0}`")]
    ScriptNeedsCustom(&'static str),
    #[error("the {method} method needs a directory or git source, not {source_desc}")]
    MethodNeedsTree {
        method: &'static str,
        source_desc: String,
    },
    #[error("invalid macro name `{0}` (letters, digits and `_` only)")]
    MacroName(String),
}

impl JobSpec {
    /// A spec with defaults for everything but the source and chroots.
    pub fn new(source: Source, chroots: Vec<String>) -> JobSpec {
        JobSpec {
            version: JOB_SPEC_VERSION,
            source,
            method: SrpmMethod::default(),
            chroots,
            backend: None,
            buildroot_pkgs: Vec::new(),
            repos: Vec::new(),
            macros: BTreeMap::new(),
            with: Vec::new(),
            without: Vec::new(),
            enable_net: false,
            timeout: DEFAULT_TIMEOUT_SECS,
            memory_limit: None,
            nodeps: false,
            project: None,
            build_id: None,
            package_name: None,
        }
    }

    /// Read a job spec file (TOML; JSON when the name ends in `.json`) and validate it.
    pub fn from_file(path: &Path) -> Result<JobSpec, JobError> {
        let text = fs_err::read_to_string(path).map_err(|source| JobError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        if path.extension().is_some_and(|e| e == "json") {
            return JobSpec::from_json(&text);
        }
        let spec: JobSpec = toml::from_str(&text).map_err(|source| JobError::ParseToml {
            path: path.to_path_buf(),
            source,
        })?;
        spec.validate()?;
        Ok(spec)
    }

    /// Parse a JSON job spec (the wire format) and validate it.
    pub fn from_json(text: &str) -> Result<JobSpec, JobError> {
        let spec: JobSpec = serde_json::from_str(text).map_err(JobError::ParseJson)?;
        spec.validate()?;
        Ok(spec)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a JobSpec always serializes to TOML")
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a JobSpec always serializes to JSON")
    }

    /// Check what serde cannot: version, chroots, method/source combinations, macro names.
    pub fn validate(&self) -> Result<(), JobError> {
        if self.version > JOB_SPEC_VERSION {
            return Err(JobError::Version {
                found: self.version,
            });
        }
        if self.chroots.is_empty() {
            return Err(JobError::NoChroots);
        }
        for (i, c) in self.chroots.iter().enumerate() {
            if c.is_empty() || c.contains('/') || c.starts_with('.') {
                return Err(JobError::BadChroot(c.clone()));
            }
            if self.chroots[..i].contains(c) {
                return Err(JobError::DuplicateChroot(c.clone()));
            }
        }
        match (&self.source, self.method) {
            (Source::Custom { .. }, SrpmMethod::Custom) => {}
            (Source::Custom { .. }, m) => return Err(JobError::ScriptNeedsCustom(m.as_str())),
            (s, SrpmMethod::Custom) => return Err(JobError::CustomNeedsScript(s.describe())),
            (Source::Dir { .. } | Source::Git { .. }, _) => {}
            (_, SrpmMethod::Rpmbuild) => {}
            (s, m) => {
                return Err(JobError::MethodNeedsTree {
                    method: m.as_str(),
                    source_desc: s.describe(),
                });
            }
        }
        let inside = |p: &Path| {
            !p.is_absolute()
                && p.components()
                    .all(|c| !matches!(c, std::path::Component::ParentDir))
        };
        match &self.source {
            Source::Git { subdir, spec, .. } => {
                for p in [subdir, spec].into_iter().flatten() {
                    if !inside(p) {
                        return Err(JobError::OutsideTree(p.clone()));
                    }
                }
            }
            Source::Dir { spec: Some(p), .. } if !inside(p) => {
                return Err(JobError::OutsideTree(p.clone()));
            }
            _ => {}
        }
        for name in self.macros.keys() {
            let name = name.strip_prefix('%').unwrap_or(name);
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(JobError::MacroName(name.to_string()));
            }
        }
        Ok(())
    }
}

/// Defaults a source tree supplies in an optional `copr.toml`; command-line flags win.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoprToml {
    #[serde(default)]
    pub chroots: Vec<String>,
    pub method: Option<SrpmMethod>,
    /// The spec, relative to the tree.
    pub spec: Option<PathBuf>,
    /// The script of the custom method, relative to the tree.
    pub script: Option<PathBuf>,
    pub backend: Option<BackendKind>,
    #[serde(default)]
    pub buildroot_pkgs: Vec<String>,
    #[serde(default)]
    pub repos: Vec<String>,
    #[serde(default)]
    pub macros: BTreeMap<String, String>,
    #[serde(default)]
    pub with: Vec<String>,
    #[serde(default)]
    pub without: Vec<String>,
    pub enable_net: Option<bool>,
    pub timeout: Option<u64>,
    pub memory_limit: Option<u64>,
    pub project: Option<ProjectRef>,
}

impl CoprToml {
    /// Read `<dir>/copr.toml` if there is one.
    pub fn load(dir: &Path) -> Result<Option<CoprToml>, JobError> {
        let path = dir.join(COPR_TOML);
        if !path.is_file() {
            return Ok(None);
        }
        let text = fs_err::read_to_string(&path).map_err(|source| JobError::Read {
            path: path.clone(),
            source,
        })?;
        toml::from_str(&text)
            .map(Some)
            .map_err(|source| JobError::CoprToml { path, source })
    }
}

/// Name, epoch, version, release and architecture of one package, as in Copr's `results.json`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Nevra {
    pub name: String,
    pub epoch: Option<u32>,
    pub version: String,
    pub release: String,
    /// `src` for a source package.
    pub arch: String,
}

impl std::fmt::Display for Nevra {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.epoch {
            Some(e) => write!(
                f,
                "{}-{}:{}-{}.{}",
                self.name, e, self.version, self.release, self.arch
            ),
            None => write!(
                f,
                "{}-{}-{}.{}",
                self.name, self.version, self.release, self.arch
            ),
        }
    }
}

/// `results.json` of a binary build directory: `{"packages":[{name,epoch,version,release,arch}]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultsJson {
    pub packages: Vec<Nevra>,
}

/// `results.json` of an SRPM build directory, as Copr writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SrpmResultsJson {
    pub name: String,
    pub epoch: Option<u32>,
    pub version: String,
    pub release: String,
    pub exclusivearch: Vec<String>,
    pub excludearch: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_round_trip_and_unknown_fields() {
        let mut job = JobSpec::new(
            Source::Git {
                url: "https://example.org/x.git".into(),
                committish: Some("v1".into()),
                subdir: None,
                spec: None,
            },
            vec!["host-x86_64".into()],
        );
        job.macros.insert("dist".into(), ".el9".into());
        let text = job.to_toml();
        let back: JobSpec = toml::from_str(&text).unwrap();
        assert_eq!(back, job);
        let json = job.to_json();
        assert_eq!(JobSpec::from_json(&json).unwrap(), job);
        let bad = format!("{text}\nbogus = 1\n");
        assert!(toml::from_str::<JobSpec>(&bad).is_err());
    }

    #[test]
    fn validate_rejects_method_source_mismatch() {
        let mut job = JobSpec::new(
            Source::Srpm {
                path: "/x.src.rpm".into(),
            },
            vec!["host-x86_64".into()],
        );
        job.method = SrpmMethod::MakeSrpm;
        assert!(job.validate().is_err());
        job.method = SrpmMethod::Rpmbuild;
        assert!(job.validate().is_ok());
        job.chroots = vec!["host-x86_64".into(), "host-x86_64".into()];
        assert!(matches!(job.validate(), Err(JobError::DuplicateChroot(_))));
        job.chroots = vec!["../../etc".into()];
        assert!(matches!(job.validate(), Err(JobError::BadChroot(_))));
        job.chroots.clear();
        assert!(matches!(job.validate(), Err(JobError::NoChroots)));
    }
}
