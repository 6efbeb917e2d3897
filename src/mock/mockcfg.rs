//! The `mock` backend and the mock configuration it writes.
//!
//! The config follows what Copr's builder renders for every build (`child.cfg`): include the
//! chroot's base config from /etc/mock, keep the tmpfs mounted, the buildroot packages,
//! networking (`rpmbuild_networking`, `use_host_resolv`), isolation, one line per macro,
//! bootstrap, module setup commands, and one dnf.conf section per repository. Every value is
//! written as a Python string literal, so no input can change the config's structure.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::run::{self, Limits, Outcome};
use super::{Backend, BackendError, BackendKind, BuildKind, BuildOutput, BuildRequest, RepoSource};

/// How mock prepares the buildroot's package manager (Copr's `bootstrap` chroot option).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum Bootstrap {
    /// Whatever the chroot's base config says.
    #[default]
    Default,
    /// A bootstrap chroot installed with the host's package manager.
    On,
    /// No bootstrap chroot.
    Off,
    /// A bootstrap chroot from the distribution's container image.
    Image,
    /// A bootstrap chroot from `bootstrap_image`.
    CustomImage,
}

/// One repository section of the dnf config.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MockRepo {
    pub id: String,
    pub name: String,
    pub baseurl: String,
    pub priority: Option<u32>,
    pub module_hotfixes: Option<bool>,
}

impl MockRepo {
    /// A repository named after its URL, as `--repo URL` gives it.
    pub fn from_url(url: &str) -> MockRepo {
        let id: String = url
            .trim_end_matches('/')
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_start_matches("file://")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        MockRepo {
            id: format!("repo_{}", id.trim_matches('_')),
            name: url.to_string(),
            baseurl: url.to_string(),
            priority: None,
            module_hotfixes: None,
        }
    }
}

/// Everything a generated mock config says.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct MockConfig {
    /// The base config to include, `/etc/mock/<chroot>.cfg`.
    pub chroot: String,
    /// Project owner and name: set `%copr_username`, `%copr_projectname` and `%vendor`.
    pub owner: Option<String>,
    pub project: Option<String>,
    /// Build id: sets `%buildtag` to `.copr<id>`.
    pub build_id: Option<u64>,
    pub buildroot_pkgs: Vec<String>,
    pub enable_net: bool,
    /// `simple`, `nspawn`, or `None` for mock's default.
    pub isolation: Option<String>,
    /// Macros, name with or without the leading `%`.
    pub macros: BTreeMap<String, String>,
    pub bootstrap: Bootstrap,
    pub bootstrap_image: Option<String>,
    /// `(command, module)` pairs such as `("enable", "nodejs:16")`.
    pub module_setup_commands: Vec<(String, String)>,
    pub repos: Vec<MockRepo>,
    /// Kill rpmbuild after this many seconds (mock's own timeout).
    pub rpmbuild_timeout: Option<u64>,
}

/// Why a mock config cannot be written.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid mock config: {0}")]
pub struct MockConfigError(pub String);

/// A Python string literal holding `s` exactly.
pub fn py_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

fn check_chroot_name(chroot: &str) -> Result<(), MockConfigError> {
    let ok = !chroot.is_empty()
        && !chroot.starts_with(['.', '-'])
        && chroot
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(MockConfigError(format!(
            "`{chroot}` is not a chroot name (e.g. fedora-40-x86_64)"
        )))
    }
}

/// A dnf.conf value: one line, no characters that end the section or the string.
fn conf_value(what: &str, v: &str) -> Result<String, MockConfigError> {
    if v.is_empty() || v.contains(['\n', '\r', '"', '\\']) {
        return Err(MockConfigError(format!(
            "{what} `{}` must be one line without quotes or backslashes",
            v.escape_debug()
        )));
    }
    Ok(v.to_string())
}

impl MockConfig {
    /// The config text (Python, as mock reads it).
    pub fn render(&self) -> Result<String, MockConfigError> {
        check_chroot_name(&self.chroot)?;
        let mut o = String::new();
        let _ = writeln!(
            o,
            "include({})",
            py_str(&format!("/etc/mock/{}.cfg", self.chroot))
        );
        o.push('\n');
        o.push_str("config_opts.setdefault('plugin_conf', {})\n");
        o.push_str("config_opts['plugin_conf'].setdefault('tmpfs_opts', {})\n");
        o.push_str("config_opts['plugin_conf']['tmpfs_opts']['keep_mounted'] = True\n\n");
        if !self.buildroot_pkgs.is_empty() {
            let _ = writeln!(
                o,
                "config_opts['chroot_additional_packages'] = {}",
                py_str(&self.buildroot_pkgs.join(" "))
            );
        }
        let net = if self.enable_net { "True" } else { "False" };
        let _ = writeln!(o, "config_opts['rpmbuild_networking'] = {net}");
        let _ = writeln!(o, "config_opts['use_host_resolv'] = {net}");
        if let Some(iso) = self.isolation.as_deref().filter(|i| *i != "default") {
            let _ = writeln!(o, "config_opts['isolation'] = {}", py_str(iso));
        }
        if let Some(t) = self.rpmbuild_timeout {
            let _ = writeln!(o, "config_opts['rpmbuild_timeout'] = {t}");
        }

        let mut macros: BTreeMap<String, String> = BTreeMap::new();
        if let (Some(owner), Some(project)) = (&self.owner, &self.project) {
            let kind = if owner.starts_with('@') {
                "group"
            } else {
                "user"
            };
            let who = owner.trim_start_matches('@');
            macros.insert("%vendor".into(), format!("Copr - {kind} {who}"));
            macros.insert("%copr_username".into(), owner.clone());
            macros.insert("%copr_projectname".into(), project.clone());
        }
        if let Some(id) = self.build_id {
            macros.insert("%buildtag".into(), format!(".copr{id}"));
        }
        for (k, v) in &self.macros {
            let k = k.trim_start_matches('%');
            if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(MockConfigError(format!("`{k}` is not a macro name")));
            }
            macros.insert(format!("%{k}"), v.clone());
        }
        if !macros.is_empty() {
            o.push('\n');
        }
        for (k, v) in &macros {
            let _ = writeln!(o, "config_opts['macros'][{}] = {}", py_str(k), py_str(v));
        }

        let (use_bootstrap, use_image) = match self.bootstrap {
            Bootstrap::Default => (None, None),
            Bootstrap::On => (Some(true), Some(false)),
            Bootstrap::Off => (Some(false), Some(false)),
            Bootstrap::Image | Bootstrap::CustomImage => (Some(true), Some(true)),
        };
        let py_bool = |b: bool| if b { "True" } else { "False" };
        if let (Some(b), Some(i)) = (use_bootstrap, use_image) {
            o.push('\n');
            let _ = writeln!(o, "config_opts['use_bootstrap'] = {}", py_bool(b));
            let _ = writeln!(o, "config_opts['use_bootstrap_image'] = {}", py_bool(i));
            if i && let Some(img) = &self.bootstrap_image {
                let _ = writeln!(o, "config_opts['bootstrap_image'] = {}", py_str(img));
            }
        }
        if !self.module_setup_commands.is_empty() {
            let items: Vec<String> = self
                .module_setup_commands
                .iter()
                .map(|(c, m)| format!("({}, {})", py_str(c), py_str(m)))
                .collect();
            let _ = writeln!(
                o,
                "config_opts['module_setup_commands'] = [{}]",
                items.join(", ")
            );
        }

        if !self.repos.is_empty() {
            o.push('\n');
            o.push_str("config_opts[f\"{config_opts.package_manager}.conf\"] += \"\"\"\n");
            for r in &self.repos {
                let id = &r.id;
                if id.is_empty()
                    || !id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_-.:".contains(c))
                {
                    return Err(MockConfigError(format!("`{id}` is not a repository id")));
                }
                let _ = writeln!(o, "[{id}]");
                let _ = writeln!(
                    o,
                    "name='{}'",
                    conf_value("repository name", &r.name)?.replace('\'', "")
                );
                let _ = writeln!(o, "baseurl={}", conf_value("repository URL", &r.baseurl)?);
                o.push_str("gpgcheck=0\nenabled=1\n");
                let skip = if id == "copr_base_devel" { 1 } else { 0 };
                let _ = writeln!(o, "skip_if_unavailable={skip}");
                o.push_str("metadata_expire=0\ncost=1\nbest=1\n");
                if let Some(p) = r.priority {
                    let _ = writeln!(o, "priority={p}");
                }
                if let Some(h) = r.module_hotfixes {
                    let _ = writeln!(o, "module_hotfixes={}", py_bool(h));
                }
                o.push('\n');
            }
            o.push_str("\"\"\"\n");
        }
        Ok(o)
    }
}

/// The mock backend: runs the `mock` program with a generated config.
#[derive(Debug, Clone)]
pub struct Mock {
    program: PathBuf,
    config_dir: PathBuf,
}

impl Mock {
    /// Uses `mock` from PATH; [`BackendError::MissingTool`] when it is not installed.
    pub fn new() -> Result<Mock, BackendError> {
        let program = super::which("mock").ok_or(BackendError::MissingTool {
            backend: "mock",
            tool: "mock",
        })?;
        Ok(Mock::with_program(program, PathBuf::from("/etc/mock")))
    }

    /// Uses the given mock executable and base config directory.
    pub fn with_program(program: PathBuf, config_dir: PathBuf) -> Mock {
        Mock {
            program,
            config_dir,
        }
    }
}

fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> BackendError {
    let context = context.into();
    move |source| BackendError::Io { context, source }
}

impl Backend for Mock {
    fn kind(&self) -> BackendKind {
        BackendKind::Mock
    }

    fn check_chroot(&self, chroot: &str) -> Result<(), BackendError> {
        let unsupported = |reason: String| BackendError::UnsupportedChroot {
            backend: "mock",
            chroot: chroot.to_string(),
            reason,
        };
        check_chroot_name(chroot).map_err(|e| unsupported(e.0))?;
        let base = self.config_dir.join(format!("{chroot}.cfg"));
        if base.exists() {
            Ok(())
        } else {
            Err(unsupported(format!(
                "mock has no config {} (install mock-core-configs, or pick a chroot listed by \
                 `ls {}`)",
                base.display(),
                self.config_dir.display()
            )))
        }
    }

    fn build(&self, req: BuildRequest<'_>) -> Result<BuildOutput, BackendError> {
        self.check_chroot(req.chroot)?;
        fs_err::create_dir_all(req.workdir).map_err(io_err("cannot create the workdir"))?;
        let workdir =
            fs_err::canonicalize(req.workdir).map_err(io_err("cannot resolve the workdir"))?;
        let resultdir = workdir.join("mock-results");
        if resultdir.exists() {
            fs_err::remove_dir_all(&resultdir).map_err(io_err("cannot clean the workdir"))?;
        }
        fs_err::create_dir_all(&resultdir).map_err(io_err("cannot prepare the workdir"))?;

        let mut repos = Vec::new();
        for (i, r) in req.repos.iter().enumerate() {
            if let RepoSource::Dir(d) = r
                && !d.exists()
            {
                let _ = writeln!(
                    req.log,
                    "mock: repository {} does not exist yet; skipped",
                    d.display()
                );
                continue;
            }
            let id = if i == 0 {
                "copr_base".to_string()
            } else {
                format!("repo_{i}")
            };
            let baseurl = match r {
                RepoSource::Url(u) => u.clone(),
                RepoSource::Dir(d) => {
                    local_repo_url(d, &workdir.join(format!("repo-{i}")), req.log)?
                }
            };
            repos.push(MockRepo {
                id,
                name: baseurl.clone(),
                baseurl,
                priority: None,
                module_hotfixes: None,
            });
        }
        let cfg = MockConfig {
            chroot: req.chroot.to_string(),
            buildroot_pkgs: req.buildroot_pkgs.to_vec(),
            enable_net: req.enable_net,
            macros: req.macros.clone(),
            repos,
            rpmbuild_timeout: Some(req.timeout.as_secs().max(1)),
            ..MockConfig::default()
        };
        let text = cfg.render().map_err(|e| BackendError::BuildFailed {
            summary: e.to_string(),
        })?;
        let cfg_path = workdir.join("child.cfg");
        fs_err::write(&cfg_path, text).map_err(io_err("cannot write the mock config"))?;

        let mut cmd = Command::new(&self.program);
        // mock is Python: without a terminal it would buffer the live log.
        cmd.env("PYTHONUNBUFFERED", "1");
        cmd.arg("-r")
            .arg(&cfg_path)
            .arg("--resultdir")
            .arg(&resultdir)
            .arg("--uniqueext")
            .arg(format!("copr{}", std::process::id()));
        match &req.kind {
            BuildKind::Srpm { spec, sources } => {
                cmd.arg("--buildsrpm")
                    .arg("--spec")
                    .arg(spec)
                    .arg("--sources")
                    .arg(sources);
            }
            BuildKind::Rebuild { srpm } => {
                cmd.arg("--rebuild").arg(srpm);
            }
        }
        for w in req.with_opts {
            cmd.arg("--with").arg(w);
        }
        for w in req.without_opts {
            cmd.arg("--without").arg(w);
        }
        if req.nodeps {
            let _ = writeln!(
                req.log,
                "warning: the mock backend installs BuildRequires with dnf; --nodeps has no effect"
            );
        }
        let _ = writeln!(req.log, "mock: {}", cfg_path.display());
        let limits = Limits {
            timeout: req.timeout,
            cancel: &req.cancel,
            memory_limit: req.memory_limit,
        };
        let mut capture = String::new();
        let outcome = run::run_logged(cmd, &limits, req.log, &mut capture)?;
        match outcome {
            Outcome::TimedOut => return Err(BackendError::Timeout(req.timeout)),
            Outcome::Canceled => return Err(BackendError::Canceled),
            Outcome::Exited(status) if !status.success() => {
                // mock keeps rpmbuild's output in build.log; its errors are what matters.
                let build_log =
                    std::fs::read_to_string(resultdir.join("build.log")).unwrap_or_default();
                let mut summary = super::failure_summary(&build_log);
                if summary.is_empty() {
                    summary = super::failure_summary(&capture);
                }
                if summary.is_empty() {
                    summary = format!("mock exited with {status}");
                }
                return Err(BackendError::BuildFailed { summary });
            }
            Outcome::Exited(_) => {}
        }
        let srpm_only = matches!(req.kind, BuildKind::Srpm { .. });
        fs_err::create_dir_all(req.outdir).map_err(io_err("cannot create the output directory"))?;
        let mut packages = Vec::new();
        for entry in fs_err::read_dir(&resultdir).map_err(io_err("cannot list mock's results"))? {
            let entry = entry.map_err(io_err("cannot list mock's results"))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let wanted = if srpm_only {
                name.ends_with(".src.rpm")
            } else {
                name.ends_with(".rpm") && !name.ends_with(".src.rpm")
            };
            if wanted {
                let dest = req.outdir.join(&name);
                if std::fs::rename(entry.path(), &dest).is_err() {
                    fs_err::copy(entry.path(), &dest)
                        .map_err(io_err("cannot move a package to the output directory"))?;
                }
                packages.push(dest);
            }
        }
        packages.sort();
        if packages.is_empty() {
            return Err(BackendError::BuildFailed {
                summary: "mock succeeded but produced no packages".into(),
            });
        }
        Ok(BuildOutput { packages })
    }
}

/// A `file://` URL dnf can read for a local directory: the directory itself when it has
/// repodata, else a repository in `scratch` holding links to (or copies of) its packages, indexed
/// with createrepo_c.
fn local_repo_url(
    dir: &Path,
    scratch: &Path,
    log: &mut (dyn Write + Send),
) -> Result<String, BackendError> {
    let dir = fs_err::canonicalize(dir).map_err(io_err("cannot find a repository directory"))?;
    if dir.join("repodata/repomd.xml").exists() {
        return Ok(format!("file://{}", dir.display()));
    }
    if scratch.exists() {
        fs_err::remove_dir_all(scratch).map_err(io_err("cannot clean the workdir"))?;
    }
    fs_err::create_dir_all(scratch).map_err(io_err("cannot prepare a repository"))?;
    for entry in walkdir::WalkDir::new(&dir)
        .max_depth(4)
        .into_iter()
        .filter_map(Result::ok)
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().is_file() && name.ends_with(".rpm") && !name.ends_with(".src.rpm") {
            let dest = scratch.join(&name);
            if !dest.exists() && std::fs::hard_link(entry.path(), &dest).is_err() {
                fs_err::copy(entry.path(), &dest).map_err(io_err("cannot prepare a repository"))?;
            }
        }
    }
    let status = Command::new("createrepo_c")
        .arg("--quiet")
        .arg(scratch)
        .status()
        .map_err(io_err("cannot run createrepo_c"))?;
    if !status.success() {
        return Err(BackendError::Io {
            context: format!("cannot index repository {}", dir.display()),
            source: std::io::Error::other(format!("createrepo_c exited with {status}")),
        });
    }
    let _ = writeln!(
        log,
        "mock: indexed the packages of {} for dnf",
        dir.display()
    );
    Ok(format!("file://{}", scratch.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_literals() {
        assert_eq!(py_str("a'b\\c\n"), r"'a\'b\\c\n'");
    }

    #[test]
    fn rejects_injection() {
        let mut c = MockConfig {
            chroot: "fedora-40-x86_64'); import os; ('".into(),
            ..MockConfig::default()
        };
        assert!(c.render().is_err());
        c.chroot = "fedora-40-x86_64".into();
        c.repos.push(MockRepo::from_url("http://x/\n[evil]"));
        assert!(c.render().is_err());
        c.repos.clear();
        c.macros.insert("bad name".into(), "x".into());
        assert!(c.render().is_err());
    }
}
