//! Releasing a module from the latest successful builds of a result directory.
//!
//! A release writes one immutable record per `NAME:STREAM:VERSION` under
//! `<resultdir>/modules/` (`releases.json` plus the released documents), regenerates each
//! chroot's `modules.yaml` from every release recorded for it, and hands the chroot directory to
//! the repository writer so `repodata/` gets a `type="modules"` record.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::macros::format_description;

use super::ModuleError;
use super::modulemd::{
    Artifacts, Components, Defaults, Dependencies, License, ModuleIndex, ModuleStream, Profile,
    RpmComponent, RpmList, texts, write_index,
};
use super::parse::parse_index;
use super::results::ChrootBuilds;

/// Directory of the release records inside a result directory.
pub const MODULES_DIR: &str = "modules";
/// The list of releases.
pub const RECORD: &str = "releases.json";

/// Where a component's sources came from, when known (a module build knows; a result directory
/// alone does not).
#[derive(Debug, Clone, Default)]
pub struct ComponentSource {
    pub repository: Option<String>,
    pub git_ref: Option<String>,
    pub buildorder: Option<i64>,
    pub rationale: Option<String>,
}

/// Everything a release needs besides the builds.
#[derive(Debug, Clone, Default)]
pub struct ReleaseSpec {
    pub name: String,
    pub stream: String,
    /// `None`: the UTC time as `YYYYMMDDHHMMSS`, bumped above earlier releases.
    pub version: Option<u64>,
    pub summary: String,
    pub description: String,
    /// License of the module metadata itself.
    pub module_license: Vec<String>,
    pub api: Vec<String>,
    pub filter: Vec<String>,
    pub profiles: BTreeMap<String, Vec<String>>,
    /// Profile installed by `dnf module install NAME:STREAM`.
    pub default_profile: Option<String>,
    /// Which `platform` stream the module depends on.
    pub platform: Platform,
    /// Per source package, when known.
    pub sources: BTreeMap<String, ComponentSource>,
}

/// The `platform` dependency of a release.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Platform {
    /// Derived from each chroot's name (`fedora-40-x86_64` → `f40`, `epel-9-…` → `el9`); no
    /// dependency for chroots without a known platform.
    #[default]
    Auto,
    /// No platform dependency.
    None,
    /// This stream for every chroot.
    Stream(String),
}

impl Platform {
    /// The platform stream for `chroot`, if any.
    pub fn for_chroot(&self, chroot: &str) -> Option<String> {
        match self {
            Platform::None => None,
            Platform::Stream(s) => Some(s.clone()),
            Platform::Auto => {
                let parts: Vec<&str> = chroot.split('-').collect();
                let release = parts.iter().rev().nth(1)?;
                if !release.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                match parts[0] {
                    "fedora" => Some(format!("f{release}")),
                    "epel" | "centos" | "rhel" | "almalinux" | "rocky" | "oraclelinux" => {
                        Some(format!("el{release}"))
                    }
                    _ => None,
                }
            }
        }
    }
}

/// One line of `releases.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReleaseRecord {
    pub name: String,
    pub stream: String,
    pub version: u64,
    pub context: String,
    pub chroots: Vec<String>,
    /// RFC 3339, UTC.
    pub released: String,
    /// The released documents, relative to the result directory.
    pub file: String,
}

/// What a release produced.
#[derive(Debug, Clone, Serialize)]
pub struct Released {
    pub name: String,
    pub stream: String,
    pub version: u64,
    pub context: String,
    pub chroots: Vec<String>,
    /// The immutable copy of the released documents.
    pub file: PathBuf,
    /// Each chroot's regenerated `modules.yaml`.
    pub modules_yaml: Vec<PathBuf>,
    /// The documents of this release (one stream per chroot, then the defaults).
    #[serde(skip)]
    pub index: ModuleIndex,
}

/// Read the release records of `resultdir` (none yet: empty).
pub fn load_records(resultdir: &Path) -> Result<Vec<ReleaseRecord>, ModuleError> {
    let path = resultdir.join(MODULES_DIR).join(RECORD);
    if !path.exists() {
        return Ok(Vec::new());
    }
    let text = fs_err::read_to_string(&path)?;
    serde_json::from_str(&text).map_err(|e| ModuleError::BadRecord {
        path,
        reason: e.to_string(),
    })
}

/// `YYYYMMDDHHMMSS` of `t` as a number.
pub fn timestamp_version(t: OffsetDateTime) -> u64 {
    let f = format_description!("[year][month][day][hour][minute][second]");
    t.to_offset(time::UtcOffset::UTC)
        .format(&f)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Module and stream names: what dnf's `NAME:STREAM/PROFILE` syntax can carry.
pub fn check_identifier(what: &str, value: &str) -> Result<(), ModuleError> {
    let ok = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ModuleError::BadSpec(format!(
            "{what} `{value}` may only contain letters, digits and `._+-` (and must not be empty)"
        )))
    }
}

fn check_packages(
    what: &str,
    names: &[String],
    available: &BTreeSet<String>,
) -> Result<(), ModuleError> {
    let unknown: Vec<&String> = names.iter().filter(|n| !available.contains(*n)).collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(ModuleError::UnknownPackages {
        what: what.to_string(),
        unknown: unknown.into_iter().cloned().collect(),
        available: available.iter().cloned().collect(),
    })
}

/// Check a spec against the builds before anything is written.
pub fn check_spec(spec: &ReleaseSpec, chroots: &[ChrootBuilds]) -> Result<(), ModuleError> {
    if chroots.is_empty() {
        return Err(ModuleError::BadSpec("no chroot to release for".into()));
    }
    check_identifier("module name", &spec.name)?;
    check_identifier("stream", &spec.stream)?;
    if spec.summary.trim().is_empty() {
        return Err(ModuleError::BadSpec("the summary is empty".into()));
    }
    if spec.description.trim().is_empty() {
        return Err(ModuleError::BadSpec("the description is empty".into()));
    }
    if spec.module_license.iter().all(|l| l.trim().is_empty()) {
        return Err(ModuleError::BadSpec("the module license is empty".into()));
    }
    let available: BTreeSet<String> = chroots.iter().flat_map(|c| c.binary_names()).collect();
    check_packages("--api", &spec.api, &available)?;
    check_packages("--filter", &spec.filter, &available)?;
    for (profile, pkgs) in &spec.profiles {
        check_identifier("profile name", profile)?;
        check_packages(&format!("profile `{profile}`"), pkgs, &available)?;
        if let Some(p) = pkgs.iter().find(|p| spec.filter.contains(p)) {
            return Err(ModuleError::BadSpec(format!(
                "profile `{profile}` installs `{p}`, which is filtered out of the module"
            )));
        }
    }
    if let Some(p) = spec.api.iter().find(|p| spec.filter.contains(p)) {
        return Err(ModuleError::BadSpec(format!(
            "`{p}` is both part of the API and filtered out of the module"
        )));
    }
    if let Some(d) = &spec.default_profile
        && !spec.profiles.contains_key(d)
    {
        return Err(ModuleError::BadSpec(format!(
            "default profile `{d}` is not one of the profiles ({})",
            spec.profiles.keys().cloned().collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(())
}

/// The version this release gets: the explicit one, or the time bumped above earlier releases.
pub fn choose_version(
    spec: &ReleaseSpec,
    records: &[ReleaseRecord],
    now: OffsetDateTime,
) -> Result<u64, ModuleError> {
    let previous = records
        .iter()
        .filter(|r| r.name == spec.name && r.stream == spec.stream)
        .map(|r| r.version)
        .max();
    match (spec.version, previous) {
        (Some(v), Some(p)) if v == p || records_have(records, spec, v) => {
            Err(ModuleError::AlreadyReleased {
                nsv: format!("{}:{}:{}", spec.name, spec.stream, v),
            })
        }
        (Some(v), Some(p)) if v < p => Err(ModuleError::VersionNotNewer {
            nsv: format!("{}:{}:{}", spec.name, spec.stream, v),
            latest: p,
        }),
        (Some(v), _) => Ok(v),
        (None, p) => {
            let t = timestamp_version(now);
            Ok(match p {
                Some(p) if t <= p => p + 1,
                _ => t,
            })
        }
    }
}

fn records_have(records: &[ReleaseRecord], spec: &ReleaseSpec, v: u64) -> bool {
    records
        .iter()
        .any(|r| r.name == spec.name && r.stream == spec.stream && r.version == v)
}

/// A stable context: the same dependencies give the same context in every version.
pub fn context_for(spec: &ReleaseSpec, platform: Option<&str>) -> String {
    let mut h = Sha256::new();
    h.update(spec.name.as_bytes());
    h.update(b":");
    h.update(spec.stream.as_bytes());
    h.update(b"|platform:");
    h.update(platform.unwrap_or("").as_bytes());
    hex::encode(h.finalize())[..8].to_string()
}

/// The modulemd v2 stream document for one chroot.
pub fn stream_document(spec: &ReleaseSpec, version: u64, builds: &ChrootBuilds) -> ModuleStream {
    let platform = spec.platform.for_chroot(&builds.chroot);
    let context = context_for(spec, platform.as_deref());
    let filtered: BTreeSet<&str> = spec.filter.iter().map(String::as_str).collect();
    let mut artifacts = Vec::new();
    let mut content_licenses = BTreeSet::new();
    let mut rpms = BTreeMap::new();
    let mut builds_xmd = serde_yaml::Mapping::new();
    for (rank, b) in builds.builds.iter().enumerate() {
        for r in &b.rpms {
            if !r.license.is_empty() {
                content_licenses.insert(r.license.clone());
            }
            if !filtered.contains(r.name.as_str()) {
                artifacts.push(r.nevra());
            }
        }
        if let Some(s) = &b.srpm {
            artifacts.push(s.nevra());
        }
        let src = spec.sources.get(&b.package).cloned().unwrap_or_default();
        let srpm_nvr = b
            .srpm
            .as_ref()
            .map(|s| format!("{}-{}-{}", s.name, s.version, s.release));
        rpms.insert(
            b.package.clone(),
            RpmComponent {
                rationale: Some(src.rationale.unwrap_or_else(|| {
                    format!(
                        "Latest successful build of {} in {} (build {:08})",
                        b.package, builds.chroot, b.id
                    )
                })),
                repository: src.repository,
                git_ref: Some(
                    src.git_ref.unwrap_or_else(|| {
                        srpm_nvr.clone().unwrap_or_else(|| format!("{:08}", b.id))
                    }),
                ),
                buildorder: Some(src.buildorder.unwrap_or(rank as i64 + 1)),
                ..Default::default()
            },
        );
        builds_xmd.insert(b.package.clone().into(), b.id.into());
    }
    artifacts.sort();
    artifacts.dedup();
    let platform_dep = platform.as_ref().map(|p| {
        let mut m = BTreeMap::new();
        m.insert("platform".to_string(), texts([p.clone()]));
        vec![Dependencies {
            buildrequires: Some(m.clone()),
            requires: Some(m),
        }]
    });
    let mut xmd = serde_yaml::Mapping::new();
    let mut copr = serde_yaml::Mapping::new();
    copr.insert("chroot".into(), builds.chroot.clone().into());
    copr.insert("builds".into(), serde_yaml::Value::Mapping(builds_xmd));
    xmd.insert("copr".into(), serde_yaml::Value::Mapping(copr));
    let list = |v: &[String]| {
        (!v.is_empty()).then(|| RpmList {
            rpms: Some(texts(v.iter().cloned())),
        })
    };
    ModuleStream {
        name: Some(spec.name.clone()),
        stream: Some(spec.stream.clone()),
        version: Some(version),
        context: Some(context),
        arch: Some(builds.arch()),
        summary: Some(spec.summary.clone()),
        description: Some(spec.description.clone()),
        license: Some(License {
            module: Some(texts(spec.module_license.iter().cloned())),
            content: (!content_licenses.is_empty()).then(|| texts(content_licenses)),
        }),
        xmd: Some(serde_yaml::Value::Mapping(xmd)),
        dependencies: platform_dep,
        profiles: (!spec.profiles.is_empty()).then(|| {
            spec.profiles
                .iter()
                .map(|(name, pkgs)| {
                    (
                        name.clone(),
                        Profile {
                            description: None,
                            default: None,
                            rpms: Some(texts(pkgs.iter().cloned())),
                        },
                    )
                })
                .collect()
        }),
        api: list(&spec.api),
        filter: list(&spec.filter),
        components: Some(Components {
            rpms: Some(rpms),
            modules: None,
        }),
        artifacts: Some(Artifacts {
            rpms: Some(texts(artifacts)),
            rpm_map: None,
        }),
        ..Default::default()
    }
}

/// The modulemd-defaults document: this stream and its default profile are the defaults.
pub fn defaults_document(spec: &ReleaseSpec, now: OffsetDateTime) -> Defaults {
    let f = format_description!("[year][month][day][hour][minute]");
    let modified = now
        .to_offset(time::UtcOffset::UTC)
        .format(&f)
        .ok()
        .and_then(|s| s.parse().ok());
    let profile = spec
        .default_profile
        .clone()
        .or_else(|| spec.profiles.keys().next().cloned());
    Defaults {
        module: Some(spec.name.clone()),
        modified,
        stream: Some(spec.stream.clone()),
        profiles: profile.map(|p| {
            let mut m = BTreeMap::new();
            m.insert(spec.stream.clone(), texts([p]));
            m
        }),
        intents: None,
    }
}

fn write_atomic(path: &Path, data: &[u8]) -> Result<(), ModuleError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs_err::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| ModuleError::IoAt {
        path: dir.to_path_buf(),
        source: e,
    })?;
    tmp.write_all(data).map_err(|e| ModuleError::IoAt {
        path: tmp.path().to_path_buf(),
        source: e,
    })?;
    tmp.persist(path).map_err(|e| ModuleError::IoAt {
        path: path.to_path_buf(),
        source: e.error,
    })?;
    Ok(())
}

/// Serialize and check with our validator: nothing invalid is ever written.
fn render_checked(index: &ModuleIndex) -> Result<String, ModuleError> {
    let text = write_index(index).map_err(|e| ModuleError::Internal(e.to_string()))?;
    parse_index(&text).map_err(|e| ModuleError::Internal(format!("generated modulemd: {e}")))?;
    Ok(text)
}

/// The documents a release would write, without writing anything.
#[derive(Debug, Clone)]
pub struct Preview {
    pub version: u64,
    pub index: ModuleIndex,
    /// The YAML (streams, then defaults), already checked by the parser.
    pub text: String,
}

/// What [`release`] would produce now: checks the spec and picks the version, writes nothing.
pub fn preview(
    resultdir: &Path,
    chroots: &[ChrootBuilds],
    spec: &ReleaseSpec,
    now: OffsetDateTime,
) -> Result<Preview, ModuleError> {
    check_spec(spec, chroots)?;
    let records = load_records(resultdir)?;
    build_preview(&records, chroots, spec, now)
}

fn build_preview(
    records: &[ReleaseRecord],
    chroots: &[ChrootBuilds],
    spec: &ReleaseSpec,
    now: OffsetDateTime,
) -> Result<Preview, ModuleError> {
    let version = choose_version(spec, records, now)?;
    let mut index = ModuleIndex::default();
    for c in chroots {
        index.streams.push(stream_document(spec, version, c));
    }
    index.defaults.push(defaults_document(spec, now));
    let text = render_checked(&index)?;
    Ok(Preview {
        version,
        index,
        text,
    })
}

/// Release the module described by `spec` from `chroots`' builds, recording it in `resultdir`
/// and regenerating each chroot's `modules.yaml`. The repository metadata itself is refreshed by
/// the caller through [`super::publish_chroot`].
pub fn release(
    resultdir: &Path,
    chroots: &[ChrootBuilds],
    spec: &ReleaseSpec,
    now: OffsetDateTime,
) -> Result<Released, ModuleError> {
    check_spec(spec, chroots)?;
    let modules_dir = resultdir.join(MODULES_DIR);
    fs_err::create_dir_all(&modules_dir)?;
    // One release at a time per result directory.
    let lock_path = modules_dir.join(".lock");
    let lock_file = fs_err::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)?;
    let _lock = nix::fcntl::Flock::lock(
        lock_file.into_parts().0,
        nix::fcntl::FlockArg::LockExclusive,
    )
    .map_err(|(_, e)| ModuleError::IoAt {
        path: lock_path.clone(),
        source: e.into(),
    })?;

    let mut records = load_records(resultdir)?;
    let Preview {
        version,
        index,
        text,
    } = build_preview(&records, chroots, spec, now)?;
    let context = index.streams[0].context.clone().unwrap_or_default();

    let rel = format!(
        "{MODULES_DIR}/{}-{}-{}.modulemd.yaml",
        spec.name, spec.stream, version
    );
    let file = resultdir.join(&rel);
    // Immutable: never overwrite a released document.
    let mut f = fs_err::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&file)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                ModuleError::AlreadyReleased {
                    nsv: format!("{}:{}:{}", spec.name, spec.stream, version),
                }
            } else {
                ModuleError::from(e)
            }
        })?;
    f.write_all(text.as_bytes())?;
    drop(f);

    let chroot_names: Vec<String> = chroots.iter().map(|c| c.chroot.clone()).collect();
    let released_at = now
        .to_offset(time::UtcOffset::UTC)
        .format(&format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .unwrap_or_default();
    records.push(ReleaseRecord {
        name: spec.name.clone(),
        stream: spec.stream.clone(),
        version,
        context: context.clone(),
        chroots: chroot_names.clone(),
        released: released_at,
        file: rel,
    });
    let json =
        serde_json::to_string_pretty(&records).map_err(|e| ModuleError::Internal(e.to_string()))?;
    write_atomic(&modules_dir.join(RECORD), json.as_bytes())?;

    let mut modules_yaml = Vec::new();
    for c in chroots {
        let path = c.dir.join("modules.yaml");
        let text = chroot_modules_yaml(resultdir, &records, &c.chroot)?;
        write_atomic(&path, text.as_bytes())?;
        modules_yaml.push(path);
    }
    Ok(Released {
        name: spec.name.clone(),
        stream: spec.stream.clone(),
        version,
        context,
        chroots: chroot_names,
        file,
        modules_yaml,
        index,
    })
}

/// Every released stream of `chroot`, plus the defaults of each module's latest release.
pub fn chroot_modules_yaml(
    resultdir: &Path,
    records: &[ReleaseRecord],
    chroot: &str,
) -> Result<String, ModuleError> {
    let mut out = ModuleIndex::default();
    let mut defaults: BTreeMap<String, crate::module::modulemd::Defaults> = BTreeMap::new();
    for r in records
        .iter()
        .filter(|r| r.chroots.iter().any(|c| c == chroot))
    {
        let path = resultdir.join(&r.file);
        let text = fs_err::read_to_string(&path)?;
        let parsed = parse_index(&text).map_err(|e| ModuleError::BadRecord {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let pos = r.chroots.iter().position(|c| c == chroot).unwrap_or(0);
        if let Some(s) = parsed.index.streams.get(pos) {
            out.streams.push(s.clone());
        }
        // Later records win: the newest release sets the defaults.
        for d in parsed.index.defaults {
            if let Some(m) = &d.module {
                defaults.insert(m.clone(), d.clone());
            }
        }
    }
    out.defaults = defaults.into_values().collect();
    render_checked(&out)
}
