//! BuildRequires for the sandbox backend.
//!
//! Each requirement of the SRPM (plus the request's `buildroot_pkgs`), `rpmlib(…)` excepted, is
//! satisfied from, in order:
//!
//! 1. the host's rpmdb, when the host has a real one (Fedora, EL; on Debian and Ubuntu rpm's
//!    database is empty and is not consulted);
//! 2. packages in the request's repositories (local directories; every `*.rpm` below them is
//!    read: name, provides, file list, EVR compared with rpm's rules). Chosen packages and,
//!    transitively, their own requirements are unpacked into `<workdir>/buildroot` and mounted
//!    over the host's `/usr` (and `/etc`, `/opt`, …) as overlayfs lower layers;
//! 3. on hosts without an rpmdb, what the host evidently provides: absolute paths that exist,
//!    commands in PATH, `pkgconfig(…)` via `pkg-config`, shared libraries (`libz.so.1()(64bit)`),
//!    `perl(…)` and `python3dist(…)` modules, and a name mapping ([`builtin_provides`], merged
//!    with `[sandbox.provides]` of the host config) for common names such as `gcc` or
//!    `zlib-devel`. A `NAME-devel` without a mapping is provided when the host has
//!    `pkgconfig(NAME)`, `/usr/include/NAME.h` or `/usr/include/NAME/`.
//!
//! A versioned requirement on a host-provided name is checked against the host's version when
//! one can be determined (pkg-config, dpkg, python metadata) and accepted with a note in the log
//! otherwise. What remains is returned as missing, by name.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use super::evr::{self, Evr, Op};
use super::hostconfig::HostConfig;
use super::{BackendError, RepoSource};

/// One requirement: `name [op version]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Req {
    pub name: String,
    pub op: Option<OpKey>,
    pub version: String,
}

/// [`Op`] with an ordering, so requirements can live in sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OpKey {
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
}

impl From<Op> for OpKey {
    fn from(o: Op) -> OpKey {
        match o {
            Op::Lt => OpKey::Lt,
            Op::Le => OpKey::Le,
            Op::Eq => OpKey::Eq,
            Op::Ge => OpKey::Ge,
            Op::Gt => OpKey::Gt,
        }
    }
}

impl From<OpKey> for Op {
    fn from(o: OpKey) -> Op {
        match o {
            OpKey::Lt => Op::Lt,
            OpKey::Le => Op::Le,
            OpKey::Eq => Op::Eq,
            OpKey::Ge => Op::Ge,
            OpKey::Gt => Op::Gt,
        }
    }
}

impl Req {
    fn from_dep(d: &rpm::Dependency) -> Req {
        let op = if d.version.is_empty() {
            None
        } else {
            Op::from_flags(d.flags.bits()).map(OpKey::from)
        };
        Req {
            name: d.name.clone(),
            op,
            version: if op.is_some() {
                d.version.clone()
            } else {
                String::new()
            },
        }
    }

    /// Parse `name`, `name >= 1.2` (as written in `buildroot_pkgs`).
    pub fn parse(s: &str) -> Req {
        let parts: Vec<&str> = s.split_whitespace().collect();
        if parts.len() == 3 {
            let op = match parts[1] {
                "<" => Some(Op::Lt),
                "<=" | "=<" => Some(Op::Le),
                "=" | "==" => Some(Op::Eq),
                ">=" | "=>" => Some(Op::Ge),
                ">" => Some(Op::Gt),
                _ => None,
            };
            if let Some(op) = op {
                return Req {
                    name: parts[0].to_string(),
                    op: Some(op.into()),
                    version: parts[2].to_string(),
                };
            }
        }
        Req {
            name: s.trim().to_string(),
            op: None,
            version: String::new(),
        }
    }

    fn op(&self) -> Option<Op> {
        self.op.map(Op::from)
    }

    /// Whether something providing `self.name` at `provided` satisfies this requirement.
    fn accepts(&self, provided: Option<&str>) -> bool {
        evr::satisfies(provided, self.op(), &self.version)
    }
}

impl std::fmt::Display for Req {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.op() {
            Some(op) => write!(f, "{} {} {}", self.name, op.as_str(), self.version),
            None => write!(f, "{}", self.name),
        }
    }
}

/// One host check of a provide rule (see [`super::hostconfig`] for the syntax).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostCheck {
    Cmd(String),
    Path(PathBuf),
    PkgConfig(String),
    Lib(String),
    Deb(String),
}

impl HostCheck {
    pub fn parse(s: &str) -> Result<HostCheck, String> {
        let (kind, arg) = s
            .split_once(':')
            .ok_or_else(|| format!("`{s}` is not KIND:VALUE (cmd, path, pkgconfig, lib, deb)"))?;
        if arg.is_empty() {
            return Err(format!("`{s}` has an empty value"));
        }
        Ok(match kind {
            "cmd" => HostCheck::Cmd(arg.into()),
            "path" if arg.starts_with('/') => HostCheck::Path(arg.into()),
            "path" => return Err(format!("`{s}`: paths must be absolute")),
            "pkgconfig" => HostCheck::PkgConfig(arg.into()),
            "lib" => HostCheck::Lib(arg.into()),
            "deb" => HostCheck::Deb(arg.into()),
            _ => {
                return Err(format!(
                    "`{s}`: unknown check `{kind}` (use cmd, path, pkgconfig, lib or deb)"
                ));
            }
        })
    }

    /// `None` when the host lacks it; `Some(version)` when present (version when known).
    pub fn probe(&self) -> Option<Option<String>> {
        match self {
            HostCheck::Cmd(c) => super::which(c).map(|_| None),
            HostCheck::Path(p) => p.exists().then_some(None),
            HostCheck::PkgConfig(m) => pkgconfig_version(m),
            HostCheck::Lib(l) => host_has_lib(l).then_some(None),
            HostCheck::Deb(p) => deb_version(p).map(Some),
        }
    }
}

impl std::fmt::Display for HostCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HostCheck::Cmd(c) => write!(f, "command {c}"),
            HostCheck::Path(p) => write!(f, "{}", p.display()),
            HostCheck::PkgConfig(m) => write!(f, "pkg-config module {m}"),
            HostCheck::Lib(l) => write!(f, "library {l}"),
            HostCheck::Deb(p) => write!(f, "Debian package {p}"),
        }
    }
}

/// The built-in mapping of common Fedora BuildRequires names to host checks (any one passing
/// provides the name). `[sandbox.provides]` in the host config adds to and overrides it.
pub fn builtin_provides() -> BTreeMap<&'static str, &'static [&'static str]> {
    let table: &[(&str, &[&str])] = &[
        ("gcc", &["deb:gcc", "cmd:gcc"]),
        ("gcc-c++", &["deb:g++", "cmd:g++"]),
        ("clang", &["deb:clang", "cmd:clang"]),
        ("make", &["deb:make", "cmd:make"]),
        ("cmake", &["deb:cmake", "cmd:cmake"]),
        ("meson", &["deb:meson", "cmd:meson"]),
        ("ninja-build", &["deb:ninja-build", "cmd:ninja"]),
        ("autoconf", &["deb:autoconf", "cmd:autoconf"]),
        ("automake", &["deb:automake", "cmd:automake"]),
        ("libtool", &["deb:libtool", "cmd:libtoolize"]),
        ("bison", &["deb:bison", "cmd:bison"]),
        ("flex", &["deb:flex", "cmd:flex"]),
        ("gettext", &["deb:gettext", "cmd:msgfmt"]),
        (
            "glibc-devel",
            &["deb:libc6-dev", "path:/usr/include/stdio.h"],
        ),
        (
            "glibc-headers",
            &["deb:libc6-dev", "path:/usr/include/stdio.h"],
        ),
        (
            "glibc-static",
            &[
                "path:/usr/lib/x86_64-linux-gnu/libc.a",
                "path:/usr/lib64/libc.a",
            ],
        ),
        (
            "kernel-headers",
            &["deb:linux-libc-dev", "path:/usr/include/linux/version.h"],
        ),
        ("libstdc++-devel", &["path:/usr/include/c++"]),
        ("binutils", &["deb:binutils", "cmd:ld"]),
        ("pkgconfig", &["cmd:pkg-config"]),
        ("pkgconf", &["cmd:pkg-config"]),
        ("pkgconf-pkg-config", &["cmd:pkg-config"]),
        ("pkg-config", &["cmd:pkg-config"]),
        ("rpm-build", &["cmd:rpmbuild"]),
        ("bash", &["deb:bash", "cmd:bash"]),
        ("coreutils", &["deb:coreutils", "cmd:ls"]),
        ("findutils", &["deb:findutils", "cmd:find"]),
        ("diffutils", &["deb:diffutils", "cmd:diff"]),
        ("util-linux", &["deb:util-linux", "cmd:mount"]),
        ("gawk", &["deb:gawk", "cmd:gawk"]),
        ("sed", &["deb:sed", "cmd:sed"]),
        ("grep", &["deb:grep", "cmd:grep"]),
        ("tar", &["deb:tar", "cmd:tar"]),
        ("gzip", &["deb:gzip", "cmd:gzip"]),
        ("bzip2", &["deb:bzip2", "cmd:bzip2"]),
        ("xz", &["deb:xz-utils", "cmd:xz"]),
        ("zstd", &["deb:zstd", "cmd:zstd"]),
        ("unzip", &["deb:unzip", "cmd:unzip"]),
        ("patch", &["deb:patch", "cmd:patch"]),
        ("which", &["cmd:which"]),
        ("git", &["deb:git", "cmd:git"]),
        ("git-core", &["deb:git", "cmd:git"]),
        ("perl", &["deb:perl", "cmd:perl"]),
        ("perl-interpreter", &["deb:perl", "cmd:perl"]),
        ("python3", &["cmd:python3"]),
        ("python3-devel", &["pkgconfig:python3"]),
        (
            "zlib-devel",
            &["pkgconfig:zlib", "path:/usr/include/zlib.h"],
        ),
        ("openssl-devel", &["pkgconfig:openssl"]),
        ("libcurl-devel", &["pkgconfig:libcurl"]),
        (
            "ncurses-devel",
            &["pkgconfig:ncurses", "path:/usr/include/ncurses.h"],
        ),
        ("readline-devel", &["path:/usr/include/readline/readline.h"]),
        (
            "systemd-rpm-macros",
            &["path:/usr/lib/rpm/macros.d/macros.systemd"],
        ),
    ];
    table.iter().copied().collect()
}

/// What the resolver decided.
#[derive(Debug, Clone, Default)]
pub struct Resolution {
    /// Requirements nothing satisfies, formatted `name [op version]` (with `(required by …)`
    /// for requirements of installed packages).
    pub missing: Vec<String>,
    /// Packages from the repositories unpacked into the buildroot (file names).
    pub installed: Vec<String>,
    /// Overlay mounts: (lower directory inside the workdir, host directory it covers).
    pub overlays: Vec<(PathBuf, PathBuf)>,
    /// Environment for the build (library and pkg-config search paths for the overlay).
    pub env: Vec<(String, String)>,
}

/// A binary package found in a repository.
#[derive(Debug, Clone)]
struct RepoPkg {
    path: PathBuf,
    file_name: String,
    name: String,
    evr: String,
    provides: Vec<(String, String)>,
    requires: Vec<Req>,
    files: BTreeSet<String>,
}

impl RepoPkg {
    fn read(path: &Path) -> Option<RepoPkg> {
        let md = rpm::PackageMetadata::open(path).ok()?;
        if md.is_source_package() {
            return None;
        }
        let arch = md.get_arch().ok()?;
        if arch != "noarch" && arch != super::host_arch() {
            return None;
        }
        let name = md.get_name().ok()?.to_string();
        let version = md.get_version().ok()?;
        let release = md.get_release().ok()?;
        let evr = match md.get_epoch() {
            Ok(e) => format!("{e}:{version}-{release}"),
            Err(_) => format!("{version}-{release}"),
        };
        let provides = md
            .get_provides()
            .unwrap_or_default()
            .iter()
            .map(|d| (d.name.clone(), d.version.clone()))
            .collect();
        let requires = md
            .get_requires()
            .unwrap_or_default()
            .iter()
            .filter(|d| !d.name.starts_with("rpmlib("))
            .map(Req::from_dep)
            .collect();
        let files = md
            .get_file_paths()
            .unwrap_or_default()
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        Some(RepoPkg {
            file_name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            path: path.to_path_buf(),
            name,
            evr,
            provides,
            requires,
            files,
        })
    }

    /// Whether this package satisfies `req`.
    fn satisfies(&self, req: &Req) -> bool {
        if req.name.starts_with('/') && self.files.contains(&req.name) {
            return true;
        }
        if req.name == self.name && req.accepts(Some(&self.evr)) {
            return true;
        }
        self.provides
            .iter()
            .any(|(n, v)| *n == req.name && req.accepts(Some(v)))
    }
}

/// Every binary package (for this host's arch or noarch) below the directories of `repos`.
fn index_repos(repos: &[RepoSource], log: &mut (dyn Write + Send)) -> Vec<Vec<RepoPkg>> {
    let mut out = Vec::new();
    for repo in repos {
        match repo {
            RepoSource::Dir(dir) => {
                let mut pkgs = Vec::new();
                for entry in walkdir::WalkDir::new(dir)
                    .max_depth(4)
                    .into_iter()
                    .filter_map(Result::ok)
                {
                    let n = entry.file_name().to_string_lossy();
                    if entry.file_type().is_file()
                        && n.ends_with(".rpm")
                        && !n.ends_with(".src.rpm")
                        && let Some(p) = RepoPkg::read(entry.path())
                    {
                        pkgs.push(p);
                    }
                }
                let _ = writeln!(
                    log,
                    "sandbox: repository {}: {} packages",
                    dir.display(),
                    pkgs.len()
                );
                out.push(pkgs);
            }
            RepoSource::Url(url) => {
                let _ = writeln!(
                    log,
                    "warning: repository {url} is not searched: the sandbox backend reads \
                     local repository directories only"
                );
            }
        }
    }
    out
}

/// The NEVRA of an SRPM for messages (`b-1-1.src`), or its file name.
pub fn srpm_nevra(srpm: &Path) -> String {
    rpm::PackageMetadata::open(srpm)
        .ok()
        .and_then(|md| {
            Some(format!(
                "{}-{}-{}.{}",
                md.get_name().ok()?,
                md.get_version().ok()?,
                md.get_release().ok()?,
                super::host_arch()
            ))
        })
        .unwrap_or_else(|| srpm.display().to_string())
}

/// The BuildRequires of an SRPM, `rpmlib(…)` dropped.
pub fn srpm_requires(srpm: &Path) -> Result<Vec<Req>, BackendError> {
    let md = rpm::PackageMetadata::open(srpm).map_err(|e| BackendError::BuildFailed {
        summary: format!("cannot read SRPM {}: {e}", srpm.display()),
    })?;
    Ok(md
        .get_requires()
        .unwrap_or_default()
        .iter()
        .filter(|d| !d.name.starts_with("rpmlib("))
        .map(Req::from_dep)
        .collect())
}

/// Resolve the requirements of `srpm` plus `extra` (`buildroot_pkgs`), unpacking what comes
/// from repositories into `buildroot`.
pub fn resolve_for_srpm(
    srpm: &Path,
    repos: &[RepoSource],
    extra: &[String],
    config: &HostConfig,
    buildroot: &Path,
    log: &mut (dyn Write + Send),
) -> Result<Resolution, BackendError> {
    let mut reqs = srpm_requires(srpm)?;
    reqs.extend(extra.iter().map(|s| Req::parse(s)));
    resolve(&reqs, repos, config, buildroot, log)
}

/// Resolve `reqs`; see the module documentation for the order of sources.
pub fn resolve(
    reqs: &[Req],
    repos: &[RepoSource],
    config: &HostConfig,
    buildroot: &Path,
    log: &mut (dyn Write + Send),
) -> Result<Resolution, BackendError> {
    let index = index_repos(repos, log);
    let host = HostProvides::new(config);
    let mut chosen: Vec<RepoPkg> = Vec::new();
    let mut missing: Vec<String> = Vec::new();
    let mut seen: BTreeSet<Req> = BTreeSet::new();
    let mut queue: VecDeque<(Req, Option<String>)> =
        reqs.iter().cloned().map(|r| (r, None)).collect();

    while let Some((req, by)) = queue.pop_front() {
        if !seen.insert(req.clone()) {
            continue;
        }
        let note = |log: &mut (dyn Write + Send), how: &str| {
            let _ = writeln!(log, "sandbox: {req}: {how}");
        };
        if chosen.iter().any(|p| p.satisfies(&req)) {
            continue;
        }
        if let Some(how) = host.rpmdb_provides(&req) {
            note(log, &format!("host rpmdb ({how})"));
            continue;
        }
        let candidate = index.iter().find_map(|pkgs| {
            pkgs.iter()
                .filter(|p| p.satisfies(&req))
                .max_by(|a, b| Evr::parse(&a.evr).compare(&Evr::parse(&b.evr)))
        });
        if let Some(pkg) = candidate {
            note(
                log,
                &format!("installing {} from a repository", pkg.file_name),
            );
            for r in &pkg.requires {
                if !pkg.satisfies(r) {
                    queue.push_back((r.clone(), Some(pkg.name.clone())));
                }
            }
            chosen.push(pkg.clone());
            continue;
        }
        match host.evident(&req) {
            HostAnswer::Yes(how) => note(log, &format!("provided by the host ({how})")),
            HostAnswer::Unversioned(how) => note(
                log,
                &format!(
                    "provided by the host ({how}); its version could not be determined, so \
                     the version requirement is assumed to hold"
                ),
            ),
            HostAnswer::WrongVersion(how) => {
                note(log, &format!("not satisfied: the host has {how}"));
                missing.push(with_by(&req, &by));
            }
            HostAnswer::No => missing.push(with_by(&req, &by)),
        }
    }

    let mut res = Resolution {
        missing,
        ..Default::default()
    };
    if !chosen.is_empty() {
        for pkg in &chosen {
            unpack(&pkg.path, buildroot)?;
            res.installed.push(pkg.file_name.clone());
        }
        res.overlays = overlays(buildroot, log)?;
        res.env = search_path_env(buildroot);
    }
    Ok(res)
}

fn with_by(req: &Req, by: &Option<String>) -> String {
    match by {
        Some(p) => format!("{req} (required by {p})"),
        None => req.to_string(),
    }
}

/// Unpack a package's payload into `root` with rpm2cpio and cpio.
fn unpack(pkg: &Path, root: &Path) -> Result<(), BackendError> {
    let status = Command::new("sh")
        .arg("-c")
        .arg(r#"rpm2cpio "$1" | (cd "$2" && cpio -idmu --quiet --no-absolute-filenames --no-preserve-owner)"#)
        .arg("sh")
        .arg(pkg)
        .arg(root)
        .stdin(Stdio::null())
        .status()
        .map_err(|source| BackendError::Io {
            context: "cannot run rpm2cpio".into(),
            source,
        })?;
    if !status.success() {
        return Err(BackendError::Io {
            context: format!("cannot unpack {}", pkg.display()),
            source: std::io::Error::other(format!("rpm2cpio | cpio exited with {status}")),
        });
    }
    Ok(())
}

/// One overlay per top-level directory of the unpacked tree, onto the host directory it belongs
/// to (through symlinks such as /lib → /usr/lib), outermost first.
fn overlays(
    buildroot: &Path,
    log: &mut (dyn Write + Send),
) -> Result<Vec<(PathBuf, PathBuf)>, BackendError> {
    let mut out: Vec<(PathBuf, PathBuf)> = Vec::new();
    let entries = fs_err::read_dir(buildroot).map_err(|source| BackendError::Io {
        context: "cannot list the buildroot".into(),
        source,
    })?;
    for entry in entries.filter_map(Result::ok) {
        let lower = entry.path();
        let host = Path::new("/").join(entry.file_name());
        match std::fs::canonicalize(&host) {
            Ok(target) if lower.is_dir() && target.is_dir() => out.push((lower, target)),
            _ => {
                let _ = writeln!(
                    log,
                    "warning: {} of the installed packages is not available in the sandbox \
                     (the host has no directory {})",
                    entry.file_name().to_string_lossy(),
                    host.display()
                );
            }
        }
    }
    out.sort_by_key(|(_, t)| t.components().count());
    Ok(out)
}

/// Library and pkg-config search paths for library directories in the overlay that the host's
/// toolchain may not search by default (Debian's gcc does not look in /usr/lib64, where rpm's
/// `%_libdir` puts libraries).
fn search_path_env(buildroot: &Path) -> Vec<(String, String)> {
    let mut libs = Vec::new();
    let mut pc = Vec::new();
    for d in ["usr/lib64", "usr/lib", "lib64"] {
        if buildroot.join(d).is_dir() {
            libs.push(format!("/{d}"));
        }
        if buildroot.join(d).join("pkgconfig").is_dir() {
            pc.push(format!("/{d}/pkgconfig"));
        }
    }
    if buildroot.join("usr/share/pkgconfig").is_dir() {
        pc.push("/usr/share/pkgconfig".into());
    }
    let mut env = Vec::new();
    if !libs.is_empty() {
        env.push(("LIBRARY_PATH".into(), libs.join(":")));
        env.push(("LD_LIBRARY_PATH".into(), libs.join(":")));
    }
    if !pc.is_empty() {
        // Keep the host's own default search path after ours.
        let default = Command::new("pkg-config")
            .args(["--variable", "pc_path", "pkg-config"])
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty());
        let mut v = pc.join(":");
        if let Some(d) = default {
            v = format!("{v}:{d}");
        }
        env.push(("PKG_CONFIG_PATH".into(), v));
    }
    env
}

enum HostAnswer {
    Yes(String),
    Unversioned(String),
    WrongVersion(String),
    No,
}

/// What the host provides: its rpmdb when it has a real one, else evident checks.
struct HostProvides {
    rules: BTreeMap<String, Vec<HostCheck>>,
    rpmdb: bool,
}

impl HostProvides {
    fn new(config: &HostConfig) -> HostProvides {
        let mut rules: BTreeMap<String, Vec<HostCheck>> = builtin_provides()
            .into_iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    v.iter().filter_map(|c| HostCheck::parse(c).ok()).collect(),
                )
            })
            .collect();
        for (k, v) in &config.sandbox.provides {
            rules.insert(
                k.clone(),
                v.iter().filter_map(|c| HostCheck::parse(c).ok()).collect(),
            );
        }
        HostProvides {
            rules,
            rpmdb: host_has_rpmdb(),
        }
    }

    /// `Some(provider)` when the host rpmdb satisfies `req`.
    fn rpmdb_provides(&self, req: &Req) -> Option<String> {
        if !self.rpmdb {
            return None;
        }
        let out = Command::new("rpm")
            .args([
                "-q",
                "--whatprovides",
                "--qf",
                "%{NEVRA}\\n[%{PROVIDENAME}\\t%{PROVIDEVERSION}\\n]",
                "--",
            ])
            .arg(&req.name)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let nevra = text.lines().next().unwrap_or("").to_string();
        if req.op.is_none() || req.name.starts_with('/') {
            return Some(nevra);
        }
        text.lines()
            .filter_map(|l| l.split_once('\t'))
            .any(|(n, v)| n == req.name && req.accepts(Some(v)))
            .then_some(nevra)
    }

    fn evident(&self, req: &Req) -> HostAnswer {
        let checks: Vec<HostCheck> = if let Some(rules) = self.rules.get(&req.name) {
            rules.clone()
        } else {
            implicit_checks(&req.name)
        };
        let mut found_unversioned: Option<String> = None;
        let mut wrong: Option<String> = None;
        for check in &checks {
            match check.probe() {
                None => {}
                Some(Some(v)) => {
                    if req.accepts(Some(&v)) {
                        return HostAnswer::Yes(format!("{check} {v}"));
                    }
                    wrong.get_or_insert(format!("{check} {v}"));
                }
                Some(None) => {
                    found_unversioned.get_or_insert(check.to_string());
                }
            }
        }
        if let Some(w) = wrong {
            return HostAnswer::WrongVersion(w);
        }
        match found_unversioned {
            Some(how) if req.op.is_some() => HostAnswer::Unversioned(how),
            Some(how) => HostAnswer::Yes(how),
            None => match python_or_perl(&req.name) {
                Some(Some(v)) if req.accepts(Some(&v)) => HostAnswer::Yes(format!("version {v}")),
                Some(Some(v)) => HostAnswer::WrongVersion(format!("version {v}")),
                Some(None) if req.op.is_some() => HostAnswer::Unversioned("module found".into()),
                Some(None) => HostAnswer::Yes("module found".into()),
                None => HostAnswer::No,
            },
        }
    }
}

/// Checks for a name without a mapping entry.
fn implicit_checks(name: &str) -> Vec<HostCheck> {
    if name.starts_with('/') {
        return vec![HostCheck::Path(name.into())];
    }
    if let Some(m) = name
        .strip_prefix("pkgconfig(")
        .and_then(|s| s.strip_suffix(')'))
    {
        return vec![HostCheck::PkgConfig(m.into())];
    }
    if name.starts_with("rtld(") {
        return vec![HostCheck::Cmd("ldd".into())];
    }
    // Shared-library provides: libz.so.1()(64bit), libc.so.6(GLIBC_2.34)(64bit).
    if let Some(i) = name.find(".so")
        && name.starts_with("lib")
    {
        let rest = &name[i + 3..];
        let ver_end = rest.find('(').unwrap_or(rest.len());
        let soname = format!("{}{}", &name[..i + 3], &rest[..ver_end]);
        return vec![HostCheck::Lib(soname)];
    }
    if let Some(base) = name.strip_suffix("-devel") {
        let short = base.strip_prefix("lib").unwrap_or(base);
        let mut v = vec![
            HostCheck::PkgConfig(base.into()),
            HostCheck::Path(format!("/usr/include/{base}.h").into()),
            HostCheck::Path(format!("/usr/include/{base}").into()),
        ];
        if short != base {
            v.push(HostCheck::PkgConfig(short.into()));
            v.push(HostCheck::Path(format!("/usr/include/{short}.h").into()));
        }
        return v;
    }
    if name.contains('(') {
        return Vec::new();
    }
    vec![HostCheck::Cmd(name.into()), HostCheck::Deb(name.into())]
}

/// `perl(Foo::Bar)` and `python3dist(foo)` / `python3.Xdist(foo)`: `Some(version)` when the
/// host's interpreter has the module.
fn python_or_perl(name: &str) -> Option<Option<String>> {
    if let Some(m) = name.strip_prefix("perl(").and_then(|s| s.strip_suffix(')')) {
        if m.contains(['\'', '"', ';', ' ']) || m.is_empty() {
            return None;
        }
        let out = Command::new("perl")
            .arg(format!("-M{m}"))
            .arg("-e")
            .arg(format!("print ${m}::VERSION // ''"))
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
        return Some((!v.is_empty()).then_some(v));
    }
    let m = name
        .strip_prefix("python3dist(")
        .or_else(|| {
            name.strip_prefix("python3.")
                .and_then(|s| s.split_once("dist("))
                .map(|(_, r)| r)
        })?
        .strip_suffix(')')?;
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys, importlib.metadata as m\ntry: print(m.version(sys.argv[1]))\nexcept Exception: sys.exit(1)",
            m,
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| Some(String::from_utf8_lossy(&out.stdout).trim().to_string()))
}

/// Whether the host's rpm database describes the host (Fedora, EL), rather than being empty or
/// unrelated to the installed system (Debian, Ubuntu).
pub fn host_has_rpmdb() -> bool {
    static CACHE: OnceLock<bool> = OnceLock::new();
    *CACHE.get_or_init(|| {
        Command::new("rpm")
            .args(["-q", "--whatprovides", "/bin/sh"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

fn pkgconfig_version(module: &str) -> Option<Option<String>> {
    let out = Command::new("pkg-config")
        .args(["--modversion", "--", module])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Some((!v.is_empty()).then_some(v))
}

/// The upstream part of an installed Debian package's version (`4:12.2.0-3` → `12.2.0`).
fn deb_version(pkg: &str) -> Option<String> {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f", "${db:Status-Status} ${Version}", "--", pkg])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let v = text.strip_prefix("installed ")?.trim();
    let v = v.split_once(':').map(|(_, r)| r).unwrap_or(v);
    let v = v.rsplit_once('-').map(|(u, _)| u).unwrap_or(v);
    Some(v.to_string())
}

/// Whether a shared library of this soname is in the host's library directories.
fn host_has_lib(soname: &str) -> bool {
    static DIRS: OnceLock<Vec<PathBuf>> = OnceLock::new();
    let dirs = DIRS.get_or_init(|| {
        let mut dirs: Vec<PathBuf> = [
            "/lib64",
            "/usr/lib64",
            "/lib",
            "/usr/lib",
            "/usr/local/lib",
            "/usr/local/lib64",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        let arch_triplets = [format!("{}-linux-gnu", super::host_arch())];
        for t in &arch_triplets {
            dirs.push(Path::new("/lib").join(t));
            dirs.push(Path::new("/usr/lib").join(t));
        }
        dirs
    });
    dirs.iter().any(|d| d.join(soname).exists())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implicit_rules() {
        assert_eq!(
            implicit_checks("libc.so.6(GLIBC_2.34)(64bit)"),
            vec![HostCheck::Lib("libc.so.6".into())]
        );
        assert_eq!(
            implicit_checks("pkgconfig(zlib)"),
            vec![HostCheck::PkgConfig("zlib".into())]
        );
        assert!(host_has_lib("libc.so.6"));
        assert_eq!(Req::parse("foo >= 1.2").to_string(), "foo >= 1.2");
        assert_eq!(Req::parse("foo").to_string(), "foo");
    }

    #[test]
    fn host_evidence() {
        let host = HostProvides::new(&HostConfig::default());
        assert!(matches!(
            host.evident(&Req::parse("gcc")),
            HostAnswer::Yes(_)
        ));
        assert!(matches!(
            host.evident(&Req::parse("make >= 3")),
            HostAnswer::Yes(_)
        ));
        assert!(matches!(
            host.evident(&Req::parse("make >= 999")),
            HostAnswer::WrongVersion(_)
        ));
        assert!(matches!(
            host.evident(&Req::parse("/bin/sh")),
            HostAnswer::Yes(_)
        ));
        assert!(matches!(
            host.evident(&Req::parse("no-such-thing-devel")),
            HostAnswer::No
        ));
        assert!(matches!(
            host.evident(&Req::parse("pkgconfig(no-such-module-x)")),
            HostAnswer::No
        ));
    }
}
