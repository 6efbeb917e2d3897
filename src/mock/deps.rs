//! BuildRequires for the sandbox backend.
//!
//! Each requirement of the SRPM (plus the request's `buildroot_pkgs`), `rpmlib(…)` excepted, is
//! satisfied from, in order:
//!
//! 1. the host's rpmdb, when the host has a real one (Fedora, EL; on Debian and Ubuntu rpm's
//!    database is empty and is not consulted);
//! 2. packages in the request's repositories (local directories: every `*.rpm` below them is
//!    read; http(s) rpm-md repositories: their primary metadata, chosen packages downloaded and
//!    checked against its SHA-256): name, provides, files, EVR compared with rpm's rules. Chosen
//!    packages and,
//!    transitively, their own requirements are unpacked into `<workdir>/buildroot` and mounted
//!    over the host's `/usr` (and `/etc`, `/opt`, …) as overlayfs lower layers;
//! 3. on hosts without an rpmdb, what the host evidently provides: absolute paths that exist,
//!    commands in PATH, `pkgconfig(…)` via `pkg-config`, shared libraries (`libz.so.1()(64bit)`),
//!    `perl(…)` and `python3dist(…)` modules, and a name mapping ([`builtin_provides`], merged
//!    with `[sandbox.provides]` of the host config) for common names such as `gcc` or
//!    `zlib-devel`. A `NAME-devel` without a mapping is provided when the host has
//!    `pkgconfig(NAME)`, `/usr/include/NAME.h` or `/usr/include/NAME/`.
//!
//! Packages are unpacked, not installed: their scriptlets do not run and Conflicts/Obsoletes
//! are not checked, which suits the libraries, headers and tools a build needs from them.
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

/// Where a repository package is.
#[derive(Debug, Clone)]
enum Location {
    File(PathBuf),
    /// Its URL and, when the repository metadata gives one, its SHA-256.
    Url(String, Option<String>),
}

/// A binary package found in a repository.
#[derive(Debug, Clone)]
struct RepoPkg {
    location: Location,
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
            location: Location::File(path.to_path_buf()),
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
fn index_repos(
    repos: &[RepoSource],
    log: &mut (dyn Write + Send),
) -> Result<Vec<Vec<RepoPkg>>, BackendError> {
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
                let pkgs = index_url_repo(url).map_err(|e| BackendError::Io {
                    context: format!("cannot read repository {url}"),
                    source: std::io::Error::other(e),
                })?;
                let _ = writeln!(log, "sandbox: repository {url}: {} packages", pkgs.len());
                out.push(pkgs);
            }
        }
    }
    Ok(out)
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

/// Whether an SRPM's spec has `%generate_buildrequires`.
pub fn uses_dynamic_buildrequires(srpm: &Path) -> bool {
    rpm::PackageMetadata::open(srpm)
        .ok()
        .and_then(|md| md.get_requires().ok())
        .is_some_and(|r| r.iter().any(|d| d.name == "rpmlib(DynamicBuildRequires)"))
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
    if reqs.is_empty() {
        return Ok(Resolution::default());
    }
    let index = index_repos(repos, log)?;
    let mut r = Resolver {
        index,
        host: HostProvides::new(config),
        chosen: Vec::new(),
        queue: reqs.iter().cloned().map(|r| (r, None)).collect(),
        log,
    };
    let mut missing: Vec<String> = Vec::new();
    let mut seen: BTreeSet<Req> = BTreeSet::new();
    while let Some((req, by)) = r.queue.pop_front() {
        if !seen.insert(req.clone()) {
            continue;
        }
        let ok = if req.name.starts_with('(') {
            match parse_rich(&req.name) {
                Ok(rich) => r.satisfy_rich(&rich),
                Err(e) => {
                    let _ = writeln!(r.log, "sandbox: {req}: cannot parse: {e}");
                    false
                }
            }
        } else {
            r.satisfy(&req)
        };
        if !ok {
            missing.push(with_by(&req, &by));
        }
    }
    let Resolver { chosen, log, .. } = r;

    let mut res = Resolution {
        missing,
        ..Default::default()
    };
    if buildroot.exists() {
        fs_err::remove_dir_all(buildroot).map_err(|source| BackendError::Io {
            context: "cannot clean the buildroot".into(),
            source,
        })?;
    }
    fs_err::create_dir_all(buildroot).map_err(|source| BackendError::Io {
        context: "cannot create the buildroot".into(),
        source,
    })?;
    if !chosen.is_empty() {
        for tool in ["rpm2cpio", "cpio", "unshare"] {
            if super::which(tool).is_none() {
                return Err(BackendError::MissingTool {
                    backend: "sandbox",
                    tool,
                });
            }
        }
        let downloads = buildroot.with_file_name("downloads");
        for pkg in &chosen {
            let path = match &pkg.location {
                Location::File(p) => p.clone(),
                Location::Url(url, sha256) => {
                    let _ = writeln!(log, "sandbox: downloading {url}");
                    download(url, sha256.as_deref(), &downloads.join(&pkg.file_name))?
                }
            };
            unpack(&path, buildroot)?;
            res.installed.push(pkg.file_name.clone());
        }
        res.overlays = overlays(buildroot, log)?;
        res.env = search_path_env(buildroot);
    }
    Ok(res)
}

/// The state of one resolution.
struct Resolver<'l> {
    index: Vec<Vec<RepoPkg>>,
    host: HostProvides,
    chosen: Vec<RepoPkg>,
    queue: VecDeque<(Req, Option<String>)>,
    log: &'l mut (dyn Write + Send),
}

impl Resolver<'_> {
    fn note(&mut self, req: &Req, how: &str) {
        let _ = writeln!(self.log, "sandbox: {req}: {how}");
    }

    /// Whether `req` is already there: installed from a repository, in the host's rpmdb or
    /// evidently on the host. Installs nothing.
    fn present(&mut self, req: &Req) -> bool {
        self.chosen.iter().any(|p| p.satisfies(req))
            || self.host.rpmdb_provides(req).is_some()
            || matches!(
                self.host.evident(req),
                HostAnswer::Yes(_) | HostAnswer::Unversioned(_)
            )
    }

    /// Satisfy one plain requirement, choosing a repository package when that is what
    /// provides it (its own requirements are queued).
    fn satisfy(&mut self, req: &Req) -> bool {
        if self.chosen.iter().any(|p| p.satisfies(req)) {
            return true;
        }
        if let Some(how) = self.host.rpmdb_provides(req) {
            self.note(req, &format!("host rpmdb ({how})"));
            return true;
        }
        let candidate = self
            .index
            .iter()
            .find_map(|pkgs| {
                pkgs.iter()
                    .filter(|p| p.satisfies(req))
                    .max_by(|a, b| Evr::parse(&a.evr).compare(&Evr::parse(&b.evr)))
            })
            .cloned();
        if let Some(pkg) = candidate {
            self.note(
                req,
                &format!("installing {} from a repository", pkg.file_name),
            );
            for r in &pkg.requires {
                if !pkg.satisfies(r) {
                    self.queue.push_back((r.clone(), Some(pkg.name.clone())));
                }
            }
            self.chosen.push(pkg);
            return true;
        }
        match self.host.evident(req) {
            HostAnswer::Yes(how) => {
                self.note(req, &format!("provided by the host ({how})"));
                true
            }
            HostAnswer::Unversioned(how) => {
                self.note(
                    req,
                    &format!(
                        "provided by the host ({how}); its version could not be determined, so \
                         the version requirement is assumed to hold"
                    ),
                );
                true
            }
            HostAnswer::WrongVersion(how) => {
                self.note(req, &format!("not satisfied: the host has {how}"));
                false
            }
            HostAnswer::No => false,
        }
    }

    fn satisfy_rich(&mut self, rich: &Rich) -> bool {
        match rich {
            Rich::Leaf(req) => self.satisfy(req),
            Rich::And(items) => items.iter().all(|i| self.satisfy_rich(i)),
            Rich::Or(items) => items.iter().any(|i| self.satisfy_rich(i)),
            Rich::If(then, cond, otherwise) => {
                if self.present_rich(cond) {
                    self.satisfy_rich(then)
                } else {
                    otherwise.as_ref().is_none_or(|o| self.satisfy_rich(o))
                }
            }
            Rich::Unless(then, cond, otherwise) => {
                if !self.present_rich(cond) {
                    self.satisfy_rich(then)
                } else {
                    otherwise.as_ref().is_none_or(|o| self.satisfy_rich(o))
                }
            }
        }
    }

    fn present_rich(&mut self, rich: &Rich) -> bool {
        match rich {
            Rich::Leaf(req) => self.present(req),
            Rich::And(items) => items.iter().all(|i| self.present_rich(i)),
            Rich::Or(items) => items.iter().any(|i| self.present_rich(i)),
            Rich::If(then, cond, otherwise) | Rich::Unless(then, cond, otherwise) => {
                let c = self.present_rich(cond);
                let c = if matches!(rich, Rich::Unless(..)) {
                    !c
                } else {
                    c
                };
                if c {
                    self.present_rich(then)
                } else {
                    otherwise.as_ref().is_none_or(|o| self.present_rich(o))
                }
            }
        }
    }
}

/// A rich (boolean) dependency such as `(foo >= 2 or bar)`. `with` is read as `and`,
/// `A without B` as `A`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Rich {
    Leaf(Req),
    And(Vec<Rich>),
    Or(Vec<Rich>),
    If(Box<Rich>, Box<Rich>, Option<Box<Rich>>),
    Unless(Box<Rich>, Box<Rich>, Option<Box<Rich>>),
}

fn parse_rich(s: &str) -> Result<Rich, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut pos = 0;
    let r = rich_group(&chars, &mut pos)?;
    skip_ws(&chars, &mut pos);
    if pos != chars.len() {
        return Err(format!("unexpected text after position {pos}"));
    }
    Ok(r)
}

fn skip_ws(c: &[char], pos: &mut usize) {
    while *pos < c.len() && c[*pos].is_whitespace() {
        *pos += 1;
    }
}

/// A word: up to whitespace or an unbalanced `)`.
fn rich_word(c: &[char], pos: &mut usize) -> String {
    let start = *pos;
    let mut depth = 0usize;
    while *pos < c.len() && !c[*pos].is_whitespace() {
        match c[*pos] {
            '(' => depth += 1,
            ')' if depth == 0 => break,
            ')' => depth -= 1,
            _ => {}
        }
        *pos += 1;
    }
    c[start..*pos].iter().collect()
}

fn rich_term(c: &[char], pos: &mut usize) -> Result<Rich, String> {
    skip_ws(c, pos);
    if c.get(*pos) == Some(&'(') {
        return rich_group(c, pos);
    }
    let name = rich_word(c, pos);
    if name.is_empty() {
        return Err("expected a dependency".into());
    }
    let save = *pos;
    skip_ws(c, pos);
    let op = rich_word(c, pos);
    if ["<", "<=", "=", ">=", ">"].contains(&op.as_str()) {
        skip_ws(c, pos);
        let version = rich_word(c, pos);
        if version.is_empty() {
            return Err(format!("`{name} {op}` has no version"));
        }
        return Ok(Rich::Leaf(Req::parse(&format!("{name} {op} {version}"))));
    }
    *pos = save;
    Ok(Rich::Leaf(Req::parse(&name)))
}

fn rich_group(c: &[char], pos: &mut usize) -> Result<Rich, String> {
    skip_ws(c, pos);
    if c.get(*pos) != Some(&'(') {
        return Err("expected `(`".into());
    }
    *pos += 1;
    let first = rich_term(c, pos)?;
    let mut items = vec![first];
    let mut kind: Option<String> = None;
    let mut otherwise = None;
    loop {
        skip_ws(c, pos);
        match c.get(*pos) {
            Some(')') => {
                *pos += 1;
                break;
            }
            None => return Err("missing `)`".into()),
            _ => {}
        }
        let word = rich_word(c, pos);
        let word = match word.as_str() {
            "with" => "and".to_string(),
            w => w.to_string(),
        };
        match word.as_str() {
            "and" | "or" => {
                if kind.as_deref().is_some_and(|k| k != word) {
                    return Err("mixed operators need parentheses".into());
                }
                kind = Some(word);
                items.push(rich_term(c, pos)?);
            }
            "without" => {
                // `A without B`: A is what the build needs.
                rich_term(c, pos)?;
            }
            "if" | "unless" if kind.is_none() => {
                kind = Some(word);
                items.push(rich_term(c, pos)?);
            }
            "else" if matches!(kind.as_deref(), Some("if" | "unless")) && otherwise.is_none() => {
                otherwise = Some(Box::new(rich_term(c, pos)?));
            }
            w => return Err(format!("unexpected `{w}`")),
        }
    }
    Ok(match kind.as_deref() {
        None => items.pop().expect("one term"),
        Some("and") => Rich::And(items),
        Some("or") => Rich::Or(items),
        Some(k) => {
            let cond = items.pop().expect("two terms");
            let then = items.pop().expect("two terms");
            if k == "if" {
                Rich::If(Box::new(then), Box::new(cond), otherwise)
            } else {
                Rich::Unless(Box::new(then), Box::new(cond), otherwise)
            }
        }
    })
}

const HTTP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

fn http_get(url: &str) -> Result<Vec<u8>, String> {
    let client = reqwest::blocking::Client::builder()
        .timeout(HTTP_TIMEOUT)
        .build()
        .map_err(|e| e.to_string())?;
    let resp = client.get(url).send().map_err(|e| format!("{url}: {e}"))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(format!("{url}: HTTP {status}"));
    }
    resp.bytes()
        .map(|b| b.to_vec())
        .map_err(|e| format!("{url}: {e}"))
}

/// Download a package, checking its SHA-256 when known.
fn download(url: &str, sha256: Option<&str>, dest: &Path) -> Result<PathBuf, BackendError> {
    let fail = |msg: String| BackendError::Io {
        context: format!("cannot download {url}"),
        source: std::io::Error::other(msg),
    };
    let bytes = http_get(url).map_err(fail)?;
    if let Some(want) = sha256 {
        use sha2::Digest;
        let got = hex::encode(sha2::Sha256::digest(&bytes));
        if !got.eq_ignore_ascii_case(want) {
            return Err(fail(format!(
                "checksum mismatch: the repository says sha256 {want}, the download is {got}"
            )));
        }
    }
    if let Some(dir) = dest.parent() {
        fs_err::create_dir_all(dir).map_err(|source| BackendError::Io {
            context: "cannot create the download directory".into(),
            source,
        })?;
    }
    fs_err::write(dest, &bytes).map_err(|source| BackendError::Io {
        context: "cannot save a downloaded package".into(),
        source,
    })?;
    Ok(dest.to_path_buf())
}

/// The packages of an rpm-md repository at `base` (its primary metadata).
fn index_url_repo(base: &str) -> Result<Vec<RepoPkg>, String> {
    let base = base.trim_end_matches('/');
    let repomd = http_get(&format!("{base}/repodata/repomd.xml"))?;
    let repomd = String::from_utf8_lossy(&repomd);
    let href = regex::Regex::new(r#"(?s)<data type="primary">.*?<location href="([^"]+)""#)
        .expect("valid regex")
        .captures(&repomd)
        .map(|c| xml_unescape(&c[1]))
        .ok_or("repomd.xml lists no primary metadata")?;
    let raw = http_get(&format!("{base}/{href}"))?;
    let xml = if href.ends_with(".gz") {
        let mut out = String::new();
        std::io::Read::read_to_string(&mut flate2::read::MultiGzDecoder::new(&raw[..]), &mut out)
            .map_err(|e| format!("{href}: {e}"))?;
        out
    } else if href.ends_with(".zst") {
        let bytes = zstd::decode_all(&raw[..]).map_err(|e| format!("{href}: {e}"))?;
        String::from_utf8_lossy(&bytes).into_owned()
    } else if href.ends_with(".xml") {
        String::from_utf8_lossy(&raw).into_owned()
    } else {
        return Err(format!("{href}: unsupported compression (gz, zst or none)"));
    };
    Ok(parse_primary(&xml, base))
}

fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Packages (for this host's arch or noarch) described by a primary.xml.
fn parse_primary(xml: &str, base: &str) -> Vec<RepoPkg> {
    use regex::Regex;
    static RES: OnceLock<[Regex; 8]> = OnceLock::new();
    let [
        name_re,
        arch_re,
        ver_re,
        loc_re,
        sum_re,
        entry_re,
        attr_re,
        file_re,
    ] = RES.get_or_init(|| {
        [
            Regex::new(r"<name>([^<]*)</name>").unwrap(),
            Regex::new(r"<arch>([^<]*)</arch>").unwrap(),
            Regex::new(r"<version ([^>]*)/>").unwrap(),
            Regex::new(r"<location ([^>]*)/>").unwrap(),
            Regex::new(r#"<checksum type="sha256"[^>]*>([0-9a-fA-F]+)</checksum>"#).unwrap(),
            Regex::new(r"<rpm:entry ([^>]*)/>").unwrap(),
            Regex::new(r#"([\w:]+)="([^"]*)""#).unwrap(),
            Regex::new(r#"<file(?: type="\w+")?>([^<]*)</file>"#).unwrap(),
        ]
    });
    let attrs = |s: &str| -> BTreeMap<String, String> {
        attr_re
            .captures_iter(s)
            .map(|c| (c[1].to_string(), xml_unescape(&c[2])))
            .collect()
    };
    let evr_of = |a: &BTreeMap<String, String>, ver_key: &str| -> String {
        let ver = a.get(ver_key).cloned().unwrap_or_default();
        if ver.is_empty() {
            return ver;
        }
        let mut s = String::new();
        if let Some(e) = a.get("epoch").filter(|e| !e.is_empty() && *e != "0") {
            s.push_str(e);
            s.push(':');
        }
        s.push_str(&ver);
        if let Some(r) = a.get("rel").filter(|r| !r.is_empty()) {
            s.push('-');
            s.push_str(r);
        }
        s
    };
    let section = |block: &str, tag: &str| -> Vec<BTreeMap<String, String>> {
        let open = format!("<rpm:{tag}>");
        let close = format!("</rpm:{tag}>");
        match (block.find(&open), block.find(&close)) {
            (Some(a), Some(b)) if a < b => entry_re
                .captures_iter(&block[a..b])
                .map(|c| attrs(&c[1]))
                .collect(),
            _ => Vec::new(),
        }
    };
    let mut out = Vec::new();
    for block in xml.split("<package ").skip(1) {
        let Some(name) = name_re.captures(block).map(|c| xml_unescape(&c[1])) else {
            continue;
        };
        let arch = arch_re
            .captures(block)
            .map(|c| c[1].to_string())
            .unwrap_or_default();
        if arch != "noarch" && arch != super::host_arch() {
            continue;
        }
        let version = ver_re
            .captures(block)
            .map(|c| attrs(&c[1]))
            .unwrap_or_default();
        let evr = evr_of(&version, "ver");
        let Some(loc) = loc_re.captures(block).map(|c| attrs(&c[1])) else {
            continue;
        };
        let Some(href) = loc.get("href") else {
            continue;
        };
        let pkg_base = loc
            .get("xml:base")
            .map(|b| b.trim_end_matches('/').to_string())
            .unwrap_or_else(|| base.to_string());
        let url = format!("{pkg_base}/{href}");
        let dep = |a: &BTreeMap<String, String>| -> Option<Req> {
            let name = a.get("name")?.clone();
            let op = match a.get("flags").map(String::as_str) {
                Some("EQ") => Some(OpKey::Eq),
                Some("LT") => Some(OpKey::Lt),
                Some("LE") => Some(OpKey::Le),
                Some("GT") => Some(OpKey::Gt),
                Some("GE") => Some(OpKey::Ge),
                _ => None,
            };
            let version = evr_of(a, "ver");
            Some(Req {
                name,
                op: if version.is_empty() { None } else { op },
                version,
            })
        };
        let provides = section(block, "provides")
            .iter()
            .filter_map(dep)
            .map(|r| (r.name, r.version))
            .collect();
        let requires = section(block, "requires")
            .iter()
            .filter_map(dep)
            .filter(|r| !r.name.starts_with("rpmlib("))
            .collect();
        let files = file_re
            .captures_iter(block)
            .map(|c| xml_unescape(&c[1]))
            .collect();
        out.push(RepoPkg {
            file_name: href.rsplit('/').next().unwrap_or(href).to_string(),
            location: Location::Url(url, sum_re.captures(block).map(|c| c[1].to_string())),
            name,
            evr,
            provides,
            requires,
            files,
        });
    }
    out
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
    /// Names mapped in the host config: checked even on hosts with an rpmdb.
    configured: BTreeSet<String>,
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
            configured: config.sandbox.provides.keys().cloned().collect(),
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
        // Where rpm knows what is installed, it alone speaks for the host (and the host
        // config's explicit mappings).
        if self.rpmdb && !self.configured.contains(&req.name) {
            return HostAnswer::No;
        }
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
    fn rich_dependencies() {
        let leaf = |s: &str| Rich::Leaf(Req::parse(s));
        assert_eq!(
            parse_rich("(pkgconfig(foo) >= 1.2 or bar)").unwrap(),
            Rich::Or(vec![leaf("pkgconfig(foo) >= 1.2"), leaf("bar")])
        );
        assert_eq!(
            parse_rich("(a if (b and c) else d)").unwrap(),
            Rich::If(
                Box::new(leaf("a")),
                Box::new(Rich::And(vec![leaf("b"), leaf("c")])),
                Some(Box::new(leaf("d")))
            )
        );
        assert!(parse_rich("(a and b or c)").is_err());
        assert!(parse_rich("(a and b").is_err());

        let mut sink = Vec::new();
        let mut r = Resolver {
            index: Vec::new(),
            host: HostProvides::new(&HostConfig::default()),
            chosen: Vec::new(),
            queue: VecDeque::new(),
            log: &mut sink,
        };
        let mut check = |s: &str| r.satisfy_rich(&parse_rich(s).unwrap());
        assert!(check("(no-such-thing-x or make)"));
        assert!(!check("(no-such-thing-x and make)"));
        assert!(check("(no-such-thing-x if no-such-thing-y)"));
        assert!(!check("(no-such-thing-x if make)"));
        assert!(check("(no-such-thing-x unless make)"));
        assert!(check("(make >= 1 with make < 999)"));
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
