//! The source stage: check the job's source, fetch it into the build's work directory (downloads,
//! git clones), and turn it into either a ready SRPM or a spec plus sources (SRPM methods).

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::PipelineError;
use super::fetch::{self, url_file_name};
use super::isolate::{Isolated, argv, os};
use super::resultdir::{check_rpm_magic, read_header};
use crate::job::{JobSpec, Source, SrpmMethod};
use crate::mock::CancelToken;

/// A source after fetching: what the SRPM stage starts from.
#[derive(Debug)]
pub enum Fetched {
    /// A ready source RPM.
    Srpm(PathBuf),
    /// A spec whose sources live in `sources` (possibly with some still to download).
    Spec { spec: PathBuf, sources: PathBuf },
    /// A source tree (a clone, or a copy of a local directory) for an SRPM method; `pkgdir` is the
    /// subdirectory the method runs in.
    Tree { root: PathBuf, pkgdir: PathBuf },
    /// The custom method's script.
    Script(PathBuf),
}

/// What the SRPM methods produce: an SRPM, or a spec and sources for `rpmbuild -bs`.
#[derive(Debug)]
pub enum SrpmInput {
    Srpm(PathBuf),
    Spec { spec: PathBuf, sources: PathBuf },
}

/// Why an SRPM method failed (reported as a failed SRPM build, with the log).
#[derive(Debug, thiserror::Error)]
pub enum MethodError {
    #[error(transparent)]
    Isolate(#[from] super::isolate::IsolateError),
    #[error("{0}")]
    Output(String),
    #[error(transparent)]
    Fetch(#[from] fetch::FetchError),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
}

/// The custom script runs with the host's tools (in the source stage's isolation, not in a
/// chroot of its own), so its `builddeps` must already be there: each is checked the way the
/// sandbox checks BuildRequires (commands, paths, rpmdb/dpkg packages, `[sandbox.provides]`).
fn check_builddeps(
    builddeps: &[String],
    scratch: &Path,
    log: &mut dyn Write,
) -> Result<(), MethodError> {
    if builddeps.is_empty() {
        return Ok(());
    }
    let reqs: Vec<crate::mock::deps::Req> = builddeps
        .iter()
        .map(|d| crate::mock::deps::Req::parse(d))
        .collect();
    let config = crate::mock::HostConfig::load()
        .map_err(|e| MethodError::Output(format!("cannot read the host config: {e}")))?;
    let mut buf: Vec<u8> = Vec::new();
    let resolved =
        crate::mock::deps::resolve(&reqs, &[], &config, &scratch.join("buildroot"), &mut buf);
    let _ = log.write_all(&buf);
    let resolved = resolved.map_err(|e| MethodError::Output(e.to_string()))?;
    if resolved.missing.is_empty() {
        let _ = writeln!(
            log,
            "custom script builddeps present: {}",
            builddeps.join(" ")
        );
        return Ok(());
    }
    Err(MethodError::Output(format!(
        "the custom script's builddeps are not available on this host: {} (install them on the \
         builder, or map them in [sandbox.provides] of the host config)",
        resolved.missing.join(", ")
    )))
}

/// Find the spec in `dir`: `explicit` (relative to `dir`), or the only `*.spec` file there.
pub fn find_spec(dir: &Path, explicit: Option<&Path>) -> Result<PathBuf, PipelineError> {
    if let Some(rel) = explicit {
        let path = dir.join(rel);
        if !path.is_file() {
            return Err(PipelineError::SpecNotFound { path });
        }
        return Ok(path);
    }
    let specs = list_with_suffix(dir, ".spec")?;
    match specs.len() {
        0 => Err(PipelineError::NoSpec {
            dir: dir.to_path_buf(),
        }),
        1 => Ok(specs.into_iter().next().expect("one")),
        _ => Err(PipelineError::AmbiguousSpec {
            dir: dir.to_path_buf(),
            specs: specs
                .iter()
                .filter_map(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .collect(),
        }),
    }
}

/// Regular files directly in `dir` whose names end with `suffix`, sorted.
pub fn list_with_suffix(dir: &Path, suffix: &str) -> Result<Vec<PathBuf>, PipelineError> {
    let entries = std::fs::read_dir(dir).map_err(|source| PipelineError::UnreadableDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| PipelineError::UnreadableDir {
            path: dir.to_path_buf(),
            source,
        })?;
        let name = entry.file_name();
        if name.to_string_lossy().ends_with(suffix) && entry.path().is_file() {
            out.push(entry.path());
        }
    }
    out.sort();
    Ok(out)
}

/// The tool an SRPM method runs, and how to install it.
fn method_tool(method: SrpmMethod) -> Option<(&'static str, &'static str)> {
    match method {
        SrpmMethod::Rpkg => Some((
            "rpkg",
            "install rpkg (`dnf install rpkg` on Fedora/EL, `pip install rpkg` elsewhere), or use --method rpmbuild or make-srpm",
        )),
        SrpmMethod::Tito | SrpmMethod::TitoTest => Some((
            "tito",
            "install tito (`dnf install tito` on Fedora/EL, `pip install tito` elsewhere), or use --method rpmbuild or make-srpm",
        )),
        SrpmMethod::MakeSrpm => Some((
            "make",
            "install make (`apt-get install make` / `dnf install make`)",
        )),
        SrpmMethod::Rpmbuild | SrpmMethod::Custom => None,
    }
}

/// Check the source without side effects: paths exist and are readable, a spec is found where one
/// is needed, a local SRPM is an RPM, the method's tool is installed.
pub fn check(job: &JobSpec) -> Result<(), PipelineError> {
    if let Some((tool, hint)) = method_tool(job.method)
        && crate::mock::which(tool).is_none()
    {
        return Err(PipelineError::MissingTool {
            tool,
            method: job.method.as_str(),
            hint,
        });
    }
    match &job.source {
        Source::Dir { path, spec } => {
            if !path.exists() {
                return Err(PipelineError::SourceNotFound { path: path.clone() });
            }
            if !path.is_dir() {
                return Err(PipelineError::NotADirectory { path: path.clone() });
            }
            std::fs::read_dir(path).map_err(|source| PipelineError::UnreadableDir {
                path: path.clone(),
                source,
            })?;
            if job.method == SrpmMethod::Rpmbuild {
                find_spec(path, spec.as_deref())?;
            }
            if job.method == SrpmMethod::MakeSrpm {
                let makefile = path.join(".copr/Makefile");
                if !makefile.is_file() {
                    return Err(PipelineError::NoMakefile { path: makefile });
                }
            }
        }
        Source::Spec { path } => {
            if !path.is_file() {
                return Err(PipelineError::SpecNotFound { path: path.clone() });
            }
            fs_err::File::open(path).map_err(PipelineError::from_io)?;
        }
        Source::Srpm { path } => {
            if !path.is_file() {
                return Err(PipelineError::SourceNotFound { path: path.clone() });
            }
            read_header(path)?;
        }
        Source::Url { url } => {
            let parsed = url::Url::parse(url).map_err(|_| PipelineError::BadUrl(url.clone()))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(PipelineError::BadUrl(url.clone()));
            }
        }
        Source::Git { url, .. } => {
            let local = Path::new(url);
            if local.is_absolute() && !local.exists() {
                return Err(PipelineError::SourceNotFound {
                    path: local.to_path_buf(),
                });
            }
        }
        Source::Custom {
            script,
            content: None,
            ..
        } => {
            if !script.is_file() {
                return Err(PipelineError::SourceNotFound {
                    path: script.clone(),
                });
            }
        }
        // Inline scripts are written out by `fetch`.
        Source::Custom {
            content: Some(_), ..
        } => {}
    }
    Ok(())
}

/// Fetch the source into `workdir`: download a URL, clone a git repository, copy a local tree an
/// SRPM method will write into. Local specs and SRPMs are used in place (read-only).
pub fn fetch(
    job: &JobSpec,
    workdir: &Path,
    resultdir: &Path,
    progress: &dyn Fn(u64, Option<u64>),
) -> Result<Fetched, PipelineError> {
    match &job.source {
        Source::Srpm { path } => Ok(Fetched::Srpm(path.clone())),
        Source::Spec { path } => Ok(Fetched::Spec {
            spec: path.clone(),
            sources: parent_dir(path),
        }),
        Source::Dir { path, spec } => {
            if job.method == SrpmMethod::Rpmbuild {
                Ok(Fetched::Spec {
                    spec: find_spec(path, spec.as_deref())?,
                    sources: path.clone(),
                })
            } else {
                // Methods that run tools in the tree get a private copy, so nothing is written
                // outside the result directory.
                let root = workdir.join("tree");
                copy_tree(path, &root, resultdir)?;
                Ok(Fetched::Tree {
                    pkgdir: root.clone(),
                    root,
                })
            }
        }
        Source::Url { url } => {
            let dir = workdir.join("download");
            fs_err::create_dir_all(&dir).map_err(PipelineError::from_io)?;
            let name = url_file_name(url).unwrap_or_else(|| "download".to_string());
            let dest = dir.join(&name);
            fetch::download(url, &dest, Duration::from_secs(job.timeout), progress)?;
            if is_rpm(&dest) {
                read_header(&dest)?;
                return Ok(Fetched::Srpm(dest));
            }
            if name.ends_with(".rpm") {
                return Err(PipelineError::BadRpm {
                    path: dest,
                    reason: format!(
                        "{url} did not return an RPM package (the content does not start with the RPM lead magic)"
                    ),
                });
            }
            let text = fs_err::read(&dest).map_err(PipelineError::from_io)?;
            if name.ends_with(".spec") || looks_like_spec(&text) {
                let spec = if name.ends_with(".spec") {
                    dest
                } else {
                    let renamed = dir.join("package.spec");
                    fs_err::rename(&dest, &renamed).map_err(PipelineError::from_io)?;
                    renamed
                };
                return Ok(Fetched::Spec { spec, sources: dir });
            }
            Err(PipelineError::NotRpmOrSpec { url: url.clone() })
        }
        Source::Git {
            url,
            committish,
            subdir,
            ..
        } => {
            let root = workdir.join("git");
            let url = if Path::new(url).exists() {
                fs_err::canonicalize(url)
                    .map_err(PipelineError::from_io)?
                    .to_string_lossy()
                    .into_owned()
            } else {
                url.clone()
            };
            super::git::clone_checkout(&url, committish.as_deref(), &root)?;
            let pkgdir = match subdir {
                Some(s) => {
                    let d = root.join(s);
                    if !d.is_dir() {
                        return Err(PipelineError::NoSubdir {
                            subdir: s.clone(),
                            url: url.clone(),
                        });
                    }
                    d
                }
                None => root.clone(),
            };
            Ok(Fetched::Tree { root, pkgdir })
        }
        Source::Custom {
            script,
            content: Some(text),
            ..
        } => {
            // An inline script (a remote custom build) becomes a file in the work directory.
            let name = script
                .file_name()
                .filter(|n| !n.is_empty())
                .unwrap_or(std::ffi::OsStr::new("script"));
            let dir = workdir.join("custom-source");
            fs_err::create_dir_all(&dir).map_err(PipelineError::from_io)?;
            let path = dir.join(name);
            fs_err::write(&path, text).map_err(PipelineError::from_io)?;
            Ok(Fetched::Script(path))
        }
        Source::Custom { script, .. } => Ok(Fetched::Script(script.clone())),
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn is_rpm(path: &Path) -> bool {
    check_rpm_magic(path).is_ok()
}

fn looks_like_spec(text: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(text) else {
        return false;
    };
    let has = |tag: &str| {
        text.lines()
            .any(|l| l.trim_start().to_ascii_lowercase().starts_with(tag))
    };
    has("name:") && has("version:")
}

/// Copy a directory tree (files, directories, symlinks) into `dest`, leaving out `exclude`.
fn copy_tree(src: &Path, dest: &Path, exclude: &Path) -> Result<(), PipelineError> {
    let exclude = fs_err::canonicalize(exclude).unwrap_or_else(|_| exclude.to_path_buf());
    let walker = walkdir::WalkDir::new(src)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| {
            fs_err::canonicalize(e.path())
                .map(|p| p != exclude)
                .unwrap_or(true)
        });
    for entry in walker {
        let entry = entry.map_err(|e| PipelineError::UnreadableDir {
            path: e.path().unwrap_or(src).to_path_buf(),
            source: e
                .into_io_error()
                .unwrap_or_else(|| std::io::Error::other("walk failed")),
        })?;
        let rel = entry.path().strip_prefix(src).expect("under src");
        let target = dest.join(rel);
        let ft = entry.file_type();
        if ft.is_dir() {
            fs_err::create_dir_all(&target).map_err(PipelineError::from_io)?;
        } else if ft.is_symlink() {
            let link = fs_err::read_link(entry.path()).map_err(PipelineError::from_io)?;
            std::os::unix::fs::symlink(&link, &target).map_err(|source| PipelineError::Io {
                path: target.clone(),
                source,
            })?;
        } else {
            fs_err::copy(entry.path(), &target).map_err(PipelineError::from_io)?;
        }
    }
    Ok(())
}

/// Context for running the SRPM methods.
pub struct MethodCtx<'a> {
    pub job: &'a JobSpec,
    /// The build's scratch directory (writable inside the isolation).
    pub workdir: &'a Path,
    pub cancel: CancelToken,
}

impl MethodCtx<'_> {
    fn isolated<'b>(&'b self, cwd: &'b Path, network: bool) -> Isolated<'b> {
        Isolated {
            workdir: self.workdir,
            cwd,
            ro_binds: Vec::new(),
            env: Vec::new(),
            network,
            timeout: Duration::from_secs(self.job.timeout),
            cancel: self.cancel.clone(),
        }
    }

    fn spec_opt(&self) -> Option<&Path> {
        match &self.job.source {
            Source::Dir { spec, .. } | Source::Git { spec, .. } => spec.as_deref(),
            _ => None,
        }
    }

    /// The spec to use in a fetched tree: the job's, else `spec` from the tree's copr.toml.
    fn tree_spec(&self, pkgdir: &Path) -> Result<Option<PathBuf>, PipelineError> {
        if let Some(s) = self.spec_opt() {
            return Ok(Some(s.to_path_buf()));
        }
        Ok(crate::job::CoprToml::load(pkgdir)?.and_then(|t| t.spec))
    }

    /// Run the job's SRPM method on a fetched source.
    pub fn run(&self, fetched: Fetched, log: &mut dyn Write) -> Result<SrpmInput, MethodError> {
        let (root, pkgdir) = match fetched {
            Fetched::Srpm(p) => return Ok(SrpmInput::Srpm(p)),
            Fetched::Spec { spec, sources } => return Ok(SrpmInput::Spec { spec, sources }),
            Fetched::Script(script) => return self.custom(&script, log),
            Fetched::Tree { root, pkgdir } => (root, pkgdir),
        };
        let outdir = self.workdir.join("srpm-out");
        fs_err::create_dir_all(&outdir).map_err(PipelineError::from_io)?;
        match self.job.method {
            SrpmMethod::Rpmbuild => {
                let spec = find_spec(&pkgdir, self.tree_spec(&pkgdir)?.as_deref())?;
                return Ok(SrpmInput::Spec {
                    spec,
                    sources: pkgdir,
                });
            }
            SrpmMethod::MakeSrpm => {
                let makefile = root.join(".copr/Makefile");
                if !makefile.is_file() {
                    return Err(PipelineError::NoMakefile { path: makefile }.into());
                }
                let spec = find_spec(&pkgdir, self.tree_spec(&pkgdir)?.as_deref())
                    .map(|p| p.into_os_string())
                    .unwrap_or_default();
                let mut spec_arg = OsString::from("spec=");
                spec_arg.push(spec);
                let mut out_arg = OsString::from("outdir=");
                out_arg.push(&outdir);
                let cmd = vec![
                    tool_path("make"),
                    OsString::from("-f"),
                    os(&makefile),
                    OsString::from("srpm"),
                    out_arg,
                    spec_arg,
                ];
                self.log_cmd(log, &cmd);
                self.isolated(&pkgdir, true).run(&cmd, log)?;
            }
            SrpmMethod::Rpkg => {
                let mut cmd = vec![tool_path("rpkg")];
                cmd.extend(argv(["srpm", "--outdir"]));
                cmd.push(os(&outdir));
                if let Some(spec) = self.tree_spec(&pkgdir)? {
                    cmd.push("--spec".into());
                    cmd.push(os(&spec));
                }
                self.log_cmd(log, &cmd);
                self.isolated(&pkgdir, true).run(&cmd, log)?;
            }
            SrpmMethod::Tito | SrpmMethod::TitoTest => {
                let mut cmd = vec![tool_path("tito"), "build".into()];
                if self.job.method == SrpmMethod::TitoTest {
                    cmd.push("--test".into());
                }
                cmd.push("--srpm".into());
                cmd.push("--output".into());
                cmd.push(os(&outdir));
                self.log_cmd(log, &cmd);
                self.isolated(&pkgdir, true).run(&cmd, log)?;
            }
            SrpmMethod::Custom => unreachable!("validated: custom method has a script source"),
        }
        let srpms = find_recursive(&outdir, ".src.rpm");
        match srpms.len() {
            1 => Ok(SrpmInput::Srpm(srpms.into_iter().next().expect("one"))),
            0 => Err(MethodError::Output(format!(
                "the {} method produced no .src.rpm in {}",
                self.job.method.as_str(),
                outdir.display()
            ))),
            n => Err(MethodError::Output(format!(
                "the {} method produced {n} .src.rpm files; expected one",
                self.job.method.as_str()
            ))),
        }
    }

    /// Copr's custom method: the script runs in `<workdir>/custom` and leaves either an SRPM or
    /// one spec and its sources in its result directory (`COPR_RESULTDIR`).
    fn custom(&self, script: &Path, log: &mut dyn Write) -> Result<SrpmInput, MethodError> {
        let base = self.workdir.join("custom");
        let cwd = base.join("workdir");
        fs_err::create_dir_all(&cwd).map_err(PipelineError::from_io)?;
        let rel = match &self.job.source {
            Source::Custom {
                resultdir: Some(r), ..
            } => r.clone(),
            _ => PathBuf::from("results"),
        };
        if rel.is_absolute()
            || rel
                .components()
                .any(|c| c == std::path::Component::ParentDir)
        {
            return Err(MethodError::Output(format!(
                "the custom script's resultdir `{}` must be a relative path inside its working directory",
                rel.display()
            )));
        }
        let resultdir = cwd.join(&rel);
        fs_err::create_dir_all(&resultdir).map_err(PipelineError::from_io)?;
        if let Source::Custom { builddeps, .. } = &self.job.source {
            check_builddeps(builddeps, &base, log)?;
        }
        let copy = base.join("script");
        fs_err::copy(script, &copy).map_err(PipelineError::from_io)?;
        use std::os::unix::fs::PermissionsExt;
        fs_err::set_permissions(&copy, std::fs::Permissions::from_mode(0o755))
            .map_err(PipelineError::from_io)?;
        let mut iso = self.isolated(&cwd, true);
        iso.env.push((
            "COPR_RESULTDIR".into(),
            resultdir.to_string_lossy().into_owned(),
        ));
        if let Some(p) = &self.job.project {
            iso.env.push(("COPR_OWNER".into(), p.owner.clone()));
            iso.env.push(("COPR_PROJECT".into(), p.name.clone()));
        }
        if let Some(n) = &self.job.package_name {
            iso.env.push(("COPR_PACKAGE".into(), n.clone()));
        }
        let cmd = vec![os(&copy)];
        self.log_cmd(log, &cmd);
        iso.run(&cmd, log)
            .map_err(|e| e.with_program(&script.to_string_lossy()))?;
        let srpms = list_with_suffix(&resultdir, ".src.rpm")?;
        if srpms.len() == 1 {
            return Ok(SrpmInput::Srpm(srpms.into_iter().next().expect("one")));
        }
        let specs = list_with_suffix(&resultdir, ".spec")?;
        match specs.len() {
            1 => Ok(SrpmInput::Spec {
                spec: specs.into_iter().next().expect("one"),
                sources: resultdir,
            }),
            0 => Err(MethodError::Output(format!(
                "the custom script left neither a .src.rpm nor a .spec in its result directory `{}`",
                rel.display()
            ))),
            n => Err(MethodError::Output(format!(
                "the custom script left {n} .spec files in its result directory `{}`; expected one",
                rel.display()
            ))),
        }
    }

    fn log_cmd(&self, log: &mut dyn Write, cmd: &[OsString]) {
        let line: Vec<String> = cmd
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let _ = writeln!(log, "+ {}", line.join(" "));
    }

    /// Make sure every `SourceN:`/`PatchN:` of `spec` is in `sources`, downloading the missing
    /// ones that have a URL. Returns the directory to build from: `sources` itself when nothing
    /// was missing, else a staging copy in the work directory (the tree is never written to).
    pub fn complete_sources(
        &self,
        spec: &Path,
        sources: &Path,
        log: &mut dyn Write,
    ) -> Result<PathBuf, MethodError> {
        let raw = fs_err::read_to_string(spec).map_err(PipelineError::from_io)?;
        if !may_have_remote_sources(&raw) {
            return Ok(sources.to_path_buf());
        }
        let mut cmd = argv(["rpmspec", "-P"]);
        for (k, v) in rpm_defines(self.job, sources) {
            cmd.push("--define".into());
            cmd.push(format!("{k} {v}").into());
        }
        cmd.push(os(spec));
        let cwd = parent_dir(spec);
        self.log_cmd(log, &cmd);
        let mut iso = self.isolated(&cwd, false);
        iso.ro_binds = vec![cwd.clone(), sources.to_path_buf()];
        let parsed = iso.output(&cmd, log)?;
        let text = String::from_utf8_lossy(&parsed.stdout);
        let missing: Vec<(String, String)> = source_urls(&text)
            .into_iter()
            .filter(|(_, name)| !sources.join(name).exists())
            .collect();
        if missing.is_empty() {
            return Ok(sources.to_path_buf());
        }
        let staging = self.workdir.join("sources");
        fs_err::create_dir_all(&staging).map_err(PipelineError::from_io)?;
        for entry in fs_err::read_dir(sources).map_err(PipelineError::from_io)? {
            let entry = entry.map_err(PipelineError::from_io)?;
            if entry.path().is_file() {
                let target = staging.join(entry.file_name());
                if std::fs::hard_link(entry.path(), &target).is_err() {
                    fs_err::copy(entry.path(), &target).map_err(PipelineError::from_io)?;
                }
            }
        }
        for (url, name) in missing {
            let _ = writeln!(log, "Downloading {url} -> {name}");
            fetch::download(
                &url,
                &staging.join(&name),
                Duration::from_secs(self.job.timeout),
                &|_, _| {},
            )?;
        }
        Ok(staging)
    }
}

/// The tool as found in the caller's PATH (the isolated command gets a fixed system PATH, so a
/// tool installed elsewhere, e.g. in a virtualenv, is named by its full path).
fn tool_path(tool: &str) -> OsString {
    crate::mock::which(tool)
        .map(PathBuf::into_os_string)
        .unwrap_or_else(|| tool.into())
}

/// `--define`s passed to rpm for the job's macros and `--with`/`--without` conditionals.
pub fn rpm_defines(job: &JobSpec, sourcedir: &Path) -> Vec<(String, String)> {
    let mut out = vec![(
        "_sourcedir".to_string(),
        sourcedir.to_string_lossy().into_owned(),
    )];
    for (k, v) in &job.macros {
        out.push((k.trim_start_matches('%').to_string(), v.clone()));
    }
    for w in &job.with {
        out.push((format!("_with_{w}"), format!("--with-{w}")));
    }
    for w in &job.without {
        out.push((format!("_without_{w}"), format!("--without-{w}")));
    }
    out
}

/// Whether a raw (unexpanded) spec may name remote sources: a `SourceN:`/`PatchN:` value with a
/// URL or a macro, or constructs that can generate tags (`%include`, lua). When it cannot, the
/// spec need not be parsed with `rpmspec -P` at all.
pub fn may_have_remote_sources(raw_spec: &str) -> bool {
    let re = regex::Regex::new(r"(?i)^\s*(source|patch)\d*\s*:\s*(.*)$").expect("valid regex");
    raw_spec.contains("%include")
        || raw_spec.contains("%{lua")
        || raw_spec.lines().filter_map(|l| re.captures(l)).any(|c| {
            let v = c.get(2).map_or("", |m| m.as_str());
            v.contains("://") || v.contains('%')
        })
}

/// `(url, file name)` of every `SourceN:`/`PatchN:` with a remote URL in a parsed spec.
pub fn source_urls(parsed_spec: &str) -> Vec<(String, String)> {
    let re = regex::Regex::new(r"(?i)^\s*(source|patch)\d*\s*:\s*(\S+)").expect("valid regex");
    parsed_spec
        .lines()
        .filter_map(|l| re.captures(l))
        .filter_map(|c| {
            let url = c.get(2)?.as_str();
            let remote = ["http://", "https://", "ftp://"]
                .iter()
                .any(|p| url.starts_with(p));
            if !remote {
                return None;
            }
            Some((url.to_string(), url_file_name(url)?))
        })
        .collect()
}

/// Files under `dir` (recursively) whose names end with `suffix`.
pub fn find_recursive(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file() && e.file_name().to_string_lossy().ends_with(suffix))
        .map(|e| e.into_path())
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_sources_prescan() {
        assert!(!may_have_remote_sources(
            "Source0: hello.c\nPatch1: fix.patch\n"
        ));
        assert!(may_have_remote_sources("Source0: https://e.org/x.tar.gz\n"));
        assert!(may_have_remote_sources("Source0: %{url}/x.tar.gz\n"));
        assert!(may_have_remote_sources("%include common.inc\nSource0: x\n"));
    }

    #[test]
    fn source_urls_from_parsed_spec() {
        let spec = "Name: x\nSource0: https://e.org/x-1.tar.gz\nSource1: local.patch\nPatch2:  http://e.org/a.patch\nsource3: https://e.org/archive/v1.tar.gz#/y-1.tar.gz\n";
        assert_eq!(
            source_urls(spec),
            vec![
                ("https://e.org/x-1.tar.gz".into(), "x-1.tar.gz".into()),
                ("http://e.org/a.patch".into(), "a.patch".into()),
                (
                    "https://e.org/archive/v1.tar.gz#/y-1.tar.gz".into(),
                    "y-1.tar.gz".into()
                ),
            ]
        );
    }
}
