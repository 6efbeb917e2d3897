//! Pipeline stages: source → srpm → rpm → collect. Library code, no terminal I/O.
//!
//! [`build`] runs a [`JobSpec`] end to end into a result directory laid out as Copr's backend
//! does (see [`resultdir`]); [`make_srpm`] runs only the source and SRPM stages. The buildroot is
//! a [`Backend`]; progress and log lines go to a [`Reporter`](crate::reporter::Reporter).
//!
//! Nothing is written outside the result directory: scratch space lives in
//! `<resultdir>/.work/` and is removed when the build ends, successful or not.

pub mod fetch;
pub mod git;
pub mod isolate;
pub mod resultdir;
pub mod source;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::job::{JobError, JobSpec, Nevra, ResultsJson, SrpmResultsJson};
use crate::mock::{
    Backend, BackendError, BuildKind, BuildRequest, CancelToken, RepoSource, host_arch,
};
use crate::reporter::{Event, SharedReporter};
use resultdir::{WORK, chroot_build_dir, nevra_of, read_header, write_atomic, write_json};
use source::{MethodCtx, MethodError, SrpmInput};

/// Name of the live build log in every build directory.
pub const LIVE_LOG: &str = "builder-live.log";
/// The marker of a successful build (Copr writes "done" into it).
pub const SUCCESS: &str = "success";
/// The stage names reported for the source and SRPM stages.
pub const STAGE_SOURCE: &str = "source";
pub const STAGE_SRPM: &str = "srpm";

/// Why a job could not be run at all (bad input, unreachable source, unusable host). Build
/// failures are not errors: they are reported in [`BuildReport`] with their logs.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Job(#[from] JobError),
    #[error("cannot access {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    FsIo(std::io::Error),
    #[error("{path} does not exist")]
    SourceNotFound { path: PathBuf },
    #[error("{path} is not a directory")]
    NotADirectory { path: PathBuf },
    #[error("cannot read directory {path}")]
    UnreadableDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no .spec file in {dir}")]
    NoSpec { dir: PathBuf },
    #[error("{dir} holds several spec files ({}); which one to build is ambiguous", specs.join(", "))]
    AmbiguousSpec { dir: PathBuf, specs: Vec<String> },
    #[error("spec file {path} does not exist")]
    SpecNotFound { path: PathBuf },
    #[error("{path} is not a usable RPM: {reason}")]
    BadRpm { path: PathBuf, reason: String },
    #[error("`{0}` is not an http(s) URL")]
    BadUrl(String),
    #[error("{url} is neither a .spec nor a .src.rpm")]
    NotRpmOrSpec { url: String },
    #[error(transparent)]
    Fetch(#[from] fetch::FetchError),
    #[error(transparent)]
    Git(#[from] git::GitError),
    #[error("subdirectory `{}` does not exist in {url}", subdir.display())]
    NoSubdir { subdir: PathBuf, url: String },
    #[error("{path} does not exist; the make-srpm method runs its `srpm` target")]
    NoMakefile { path: PathBuf },
    #[error("`{tool}` is not installed; the {method} method runs it")]
    MissingTool {
        tool: &'static str,
        method: &'static str,
        hint: &'static str,
    },
    #[error(transparent)]
    Chroot(BackendError),
    #[error("build id {id} is already used in this result directory ({})", dir.display())]
    BuildIdTaken { id: u64, dir: PathBuf },
}

impl PipelineError {
    /// Wrap an `fs_err` error (its message already names the path).
    pub(crate) fn from_io(e: std::io::Error) -> PipelineError {
        PipelineError::FsIo(e)
    }

    /// What the user can do about it, when there is something.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            PipelineError::NoSpec { dir } => {
                let srpms = source::list_with_suffix(dir, ".src.rpm").unwrap_or_default();
                match srpms.first() {
                    Some(srpm) => format!("to rebuild the SRPM there: copr build {}", srpm.display()),
                    None => "run copr build in a directory with a spec, or give one: copr build path/to/pkg.spec".into(),
                }
            }
            PipelineError::AmbiguousSpec { .. } => "choose one with --spec NAME.spec".into(),
            PipelineError::MissingTool { hint, .. } => (*hint).to_string(),
            PipelineError::Git(git::GitError::UnknownCommittish { .. }) => {
                "check the name with `git ls-remote URL`".into()
            }
            PipelineError::NoMakefile { .. } => {
                "add a .copr/Makefile with an `srpm` target, or use --method rpmbuild".into()
            }
            PipelineError::Chroot(_) => {
                format!("build for this host with --chroot host-{}", host_arch())
            }
            PipelineError::BuildIdTaken { .. } => {
                "use another --resultdir, or drop build_id from the job spec".into()
            }
            PipelineError::Fetch(fetch::FetchError::Status { .. }) => {
                "check the URL in a browser or with curl -I".into()
            }
            _ => return None,
        })
    }

    /// Whether the error is about reaching a remote source (copr-cli's "request error").
    pub fn is_network(&self) -> bool {
        matches!(
            self,
            PipelineError::Fetch(_) | PipelineError::Git(git::GitError::Clone { .. })
        )
    }
}

/// Where and how a job runs locally.
pub struct RunOptions {
    /// The result directory (created when missing).
    pub resultdir: PathBuf,
    pub reporter: SharedReporter,
    pub cancel: CancelToken,
}

/// The state of one stage of a build, as Copr names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Succeeded,
    Failed,
    Skipped,
    Canceled,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Succeeded => "succeeded",
            State::Failed => "failed",
            State::Skipped => "skipped",
            State::Canceled => "canceled",
        }
    }
}

/// One produced package.
#[derive(Debug, Clone, Serialize)]
pub struct PackageFile {
    #[serde(flatten)]
    pub nevra: Nevra,
    pub path: PathBuf,
}

/// The SRPM stage's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct SrpmReport {
    pub state: State,
    /// `srpm-builds/<id>/`
    pub dir: PathBuf,
    pub log: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub srpm: Option<PackageFile>,
    /// The first real error lines, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One chroot's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct ChrootReport {
    pub chroot: String,
    pub state: State,
    /// Why it was skipped or failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<PathBuf>,
    pub packages: Vec<PackageFile>,
}

/// Everything a finished job produced.
#[derive(Debug, Clone, Serialize)]
pub struct BuildReport {
    pub build_id: u64,
    /// The package name (from the SRPM), when the SRPM stage got that far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    pub state: State,
    pub resultdir: PathBuf,
    pub srpm: SrpmReport,
    pub chroots: Vec<ChrootReport>,
}

impl BuildReport {
    /// True when the SRPM and every chroot that was not skipped succeeded.
    pub fn succeeded(&self) -> bool {
        matches!(self.state, State::Succeeded | State::Skipped)
    }
}

/// A log file that also forwards complete lines to the reporter.
struct LogSink {
    file: fs_err::File,
    reporter: SharedReporter,
    stage: String,
    pending: Vec<u8>,
}

impl LogSink {
    fn create(
        path: &Path,
        reporter: SharedReporter,
        stage: &str,
    ) -> Result<LogSink, PipelineError> {
        Ok(LogSink {
            file: fs_err::File::create(path).map_err(PipelineError::from_io)?,
            reporter,
            stage: stage.to_string(),
            pending: Vec::new(),
        })
    }

    fn emit_lines(&mut self, flush_all: bool) {
        while let Some(pos) = self.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=pos).collect();
            let text = String::from_utf8_lossy(&line[..line.len() - 1]);
            self.reporter.event(Event::LogLine {
                stage: &self.stage,
                line: text.trim_end_matches('\r'),
            });
        }
        if flush_all && !self.pending.is_empty() {
            let text = String::from_utf8_lossy(&self.pending).into_owned();
            self.pending.clear();
            self.reporter.event(Event::LogLine {
                stage: &self.stage,
                line: &text,
            });
        }
    }
}

impl Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file.write_all(buf)?;
        self.pending.extend_from_slice(buf);
        self.emit_lines(false);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.emit_lines(true);
        self.file.flush()
    }
}

impl Drop for LogSink {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// The architecture a chroot builds for: its last `-` component (`fedora-40-x86_64` → `x86_64`).
pub fn chroot_arch(chroot: &str) -> &str {
    chroot.rsplit('-').next().unwrap_or(chroot)
}

/// Why an SRPM with these ExclusiveArch/ExcludeArch does not build for `arch`, if it does not.
pub fn arch_skip_reason(arch: &str, exclusive: &[String], exclude: &[String]) -> Option<String> {
    if !exclusive.is_empty() && !exclusive.iter().any(|a| a == arch) {
        return Some(format!(
            "ExclusiveArch ({}) does not include {arch}",
            exclusive.join(" ")
        ));
    }
    if exclude.iter().any(|a| a == arch) {
        return Some(format!(
            "ExcludeArch ({}) includes {arch}",
            exclude.join(" ")
        ));
    }
    None
}

/// Scratch directory of one run: `<resultdir>/.work/<random>/`, removed on drop (and `.work`
/// itself when it is left empty).
struct WorkDir {
    path: PathBuf,
}

impl WorkDir {
    fn create(resultdir: &Path) -> Result<WorkDir, PipelineError> {
        let parent = resultdir.join(WORK);
        // A concurrent build may remove the empty `.work` between our two steps; retry then.
        let mut attempt = 0;
        loop {
            fs_err::create_dir_all(&parent).map_err(PipelineError::from_io)?;
            match tempfile::Builder::new().prefix("job-").tempdir_in(&parent) {
                Ok(dir) => return Ok(WorkDir { path: dir.keep() }),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && attempt < 5 => {
                    attempt += 1;
                }
                Err(source) => {
                    return Err(PipelineError::Io {
                        path: parent.clone(),
                        source,
                    });
                }
            }
        }
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        resultdir::remove_quietly(&self.path);
        if let Some(parent) = self.path.parent() {
            let _ = std::fs::remove_dir(parent);
        }
    }
}

/// Create the result directory (if needed); returns whether it was created by us, so an early
/// failure can remove it again and leave no trace.
fn ensure_resultdir(dir: &Path) -> Result<bool, PipelineError> {
    if dir.is_dir() {
        return Ok(false);
    }
    fs_err::create_dir_all(dir).map_err(PipelineError::from_io)?;
    Ok(true)
}

fn emit(opts: &RunOptions, event: Event<'_>) {
    opts.reporter.event(event);
}

/// The outcome of the SRPM stage: its report, the build id it allocated, and the SRPM's header
/// facts when it produced one.
struct SrpmStage {
    report: SrpmReport,
    build_id: u64,
    header: Option<SrpmFacts>,
}

/// What the binary builds need to know of the SRPM.
struct SrpmFacts {
    path: PathBuf,
    nevra: Nevra,
    exclusivearch: Vec<String>,
    excludearch: Vec<String>,
}

fn srpm_facts(path: &Path) -> Result<SrpmFacts, PipelineError> {
    let meta = read_header(path)?;
    let nevra = nevra_of(&meta, path)?;
    // The name becomes a directory name (`<id>-<name>`): refuse anything that could escape.
    if nevra.name.is_empty() || nevra.name.contains('/') || nevra.name.starts_with('.') {
        return Err(PipelineError::BadRpm {
            path: path.to_path_buf(),
            reason: format!("`{}` is not a valid package name", nevra.name),
        });
    }
    let list = |tag| {
        meta.header
            .get_entry_data_as_string_array(tag)
            .map(|v| v.into_iter().map(str::to_string).collect())
            .unwrap_or_default()
    };
    Ok(SrpmFacts {
        path: path.to_path_buf(),
        nevra,
        exclusivearch: list(rpm::IndexTag::RPMTAG_EXCLUSIVEARCH),
        excludearch: list(rpm::IndexTag::RPMTAG_EXCLUDEARCH),
    })
}

/// Hard-link `src` to `dest`, or copy it when that is not possible.
fn link_or_copy(src: &Path, dest: &Path) -> Result<(), PipelineError> {
    if dest.exists() {
        return Ok(());
    }
    if std::fs::hard_link(src, dest).is_err() {
        fs_err::copy(src, dest).map_err(PipelineError::from_io)?;
    }
    Ok(())
}

// A plain field-by-field constructor; a parameter struct would only repeat BuildRequest.
#[allow(clippy::too_many_arguments)]
fn base_request<'a>(
    job: &'a JobSpec,
    kind: BuildKind,
    chroot: &'a str,
    workdir: &'a Path,
    outdir: &'a Path,
    repos: &'a [RepoSource],
    log: &'a mut (dyn Write + Send),
    cancel: CancelToken,
) -> BuildRequest<'a> {
    BuildRequest {
        kind,
        chroot,
        workdir,
        outdir,
        repos,
        buildroot_pkgs: &job.buildroot_pkgs,
        macros: &job.macros,
        with_opts: &job.with,
        without_opts: &job.without,
        enable_net: job.enable_net,
        nodeps: job.nodeps,
        timeout: Duration::from_secs(job.timeout),
        memory_limit: job.memory_limit,
        log,
        cancel,
    }
}

/// One-line description of a backend failure for the report.
fn backend_failure(err: &BackendError, log_text: &str) -> String {
    match err {
        BackendError::BuildFailed { summary } if !summary.trim().is_empty() => summary.clone(),
        BackendError::BuildFailed { .. } => {
            let s = crate::mock::failure_summary(log_text);
            if s.trim().is_empty() {
                "build failed".to_string()
            } else {
                s
            }
        }
        other => other.to_string(),
    }
}

fn job_repos(job: &JobSpec, resultdir: &Path, chroot: &str) -> Vec<RepoSource> {
    let mut repos = vec![RepoSource::Dir(resultdir.join(chroot))];
    for r in &job.repos {
        if r.starts_with("http://") || r.starts_with("https://") {
            repos.push(RepoSource::Url(r.clone()));
        } else {
            let p = r.strip_prefix("file://").unwrap_or(r);
            repos.push(RepoSource::Dir(PathBuf::from(p)));
        }
    }
    repos
}

/// Chroot used for the SRPM build: the first of the job's chroots the backend can serve.
fn srpm_chroot(job: &JobSpec, backend: &dyn Backend) -> String {
    job.chroots
        .iter()
        .find(|c| backend.check_chroot(c).is_ok())
        .cloned()
        .unwrap_or_else(|| format!("host-{}", host_arch()))
}

/// The macros Copr defines for builds of a project: `%copr_username`, `%copr_projectname` and
/// `%buildtag` (`.copr<build id>`); the job's own macros win.
fn with_copr_macros(job: &JobSpec, build_id: u64) -> JobSpec {
    let mut job = job.clone();
    if let Some(p) = &job.project {
        let mut macros = std::collections::BTreeMap::from([
            ("copr_username".to_string(), p.owner.clone()),
            ("copr_projectname".to_string(), p.name.clone()),
            ("buildtag".to_string(), format!(".copr{build_id}")),
        ]);
        macros.append(&mut job.macros);
        job.macros = macros;
    }
    job
}

/// The source stage: fetch the job's source into `workdir` (a local tree is copied without
/// `exclude`, the directory results go to), reported as stage `source`.
fn run_source_stage(
    job: &JobSpec,
    opts: &RunOptions,
    workdir: &Path,
    exclude: &Path,
) -> Result<source::Fetched, PipelineError> {
    emit(
        opts,
        Event::StageStarted {
            stage: STAGE_SOURCE,
            detail: Some(&job.source.describe()),
        },
    );
    let progress = |done, total| {
        opts.reporter.event(Event::StageProgress {
            stage: STAGE_SOURCE,
            done,
            total,
        })
    };
    let fetched = source::fetch(job, workdir, exclude, &progress);
    let message = fetched.as_ref().err().map(|e| e.to_string());
    emit(
        opts,
        Event::StageFinished {
            stage: STAGE_SOURCE,
            ok: fetched.is_ok(),
            message: message.as_deref(),
        },
    );
    fetched
}

/// Allocate the build id, run the SRPM method and build the SRPM into `srpm-builds/<id>/`
/// with its live log, `results.json` and `success` marker. A failure is reported, not returned.
fn run_srpm_stage(
    job: &JobSpec,
    backend: &dyn Backend,
    opts: &RunOptions,
    work: &WorkDir,
    fetched: source::Fetched,
) -> Result<SrpmStage, PipelineError> {
    let (build_id, dir) = match job.build_id {
        Some(id) => (id, resultdir::claim_build_id(&opts.resultdir, id)?),
        None => resultdir::allocate_build_id(&opts.resultdir)?,
    };
    let job = &with_copr_macros(job, build_id);
    let log_path = dir.join(LIVE_LOG);
    emit(
        opts,
        Event::StageStarted {
            stage: STAGE_SRPM,
            detail: Some(job.method.as_str()),
        },
    );
    let mut log = LogSink::create(&log_path, opts.reporter.clone(), STAGE_SRPM)?;
    let ctx = MethodCtx {
        job,
        workdir: &work.path,
        cancel: opts.cancel.clone(),
    };
    let outcome: Result<PathBuf, String> = (|| {
        let input = ctx
            .run(fetched, &mut log)
            .map_err(|e| method_error(e, &mut log, &log_path))?;
        match input {
            SrpmInput::Srpm(p) => {
                let target = dir.join(p.file_name().expect("file"));
                link_or_copy(&p, &target).map_err(|e| e.to_string())?;
                let _ = writeln!(log, "Using SRPM {}", p.display());
                Ok(target)
            }
            SrpmInput::Spec { spec, sources } => {
                let sources = ctx
                    .complete_sources(&spec, &sources, &mut log)
                    .map_err(|e| method_error(e, &mut log, &log_path))?;
                let chroot = srpm_chroot(job, backend);
                let bwork = work.path.join("srpm-build");
                fs_err::create_dir_all(&bwork).map_err(|e| e.to_string())?;
                let repos = job_repos(job, &opts.resultdir, &chroot);
                let req = base_request(
                    job,
                    BuildKind::Srpm {
                        spec: spec.clone(),
                        sources,
                    },
                    &chroot,
                    &bwork,
                    &dir,
                    &repos,
                    &mut log,
                    opts.cancel.clone(),
                );
                match backend.build(req) {
                    Ok(out) => out
                        .packages
                        .into_iter()
                        .find(|p| p.to_string_lossy().ends_with(".src.rpm"))
                        .ok_or_else(|| "the SRPM build produced no .src.rpm".to_string()),
                    Err(e) => {
                        let _ = log.flush();
                        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
                        Err(backend_failure(&e, &text))
                    }
                }
            }
        }
    })();
    if let Err(msg) = &outcome {
        // The log is all a remote user sees: end it with the reason, like rpmbuild does.
        let _ = writeln!(log, "\nerror: the SRPM build failed: {msg}");
    }
    drop(log);
    let mut report = SrpmReport {
        state: State::Failed,
        dir: dir.clone(),
        log: log_path.clone(),
        srpm: None,
        error: None,
    };
    if outcome.is_err() && opts.cancel.is_canceled() {
        report.state = State::Canceled;
    }
    let header = match outcome {
        Ok(path) => match srpm_facts(&path) {
            Ok(facts) => Some(facts),
            Err(e) => {
                report.error = Some(e.to_string());
                None
            }
        },
        Err(msg) => {
            report.error = Some(msg);
            None
        }
    };
    if let Some(facts) = &header {
        let results = SrpmResultsJson {
            name: facts.nevra.name.clone(),
            epoch: facts.nevra.epoch,
            version: facts.nevra.version.clone(),
            release: facts.nevra.release.clone(),
            exclusivearch: facts.exclusivearch.clone(),
            excludearch: facts.excludearch.clone(),
        };
        write_json(&dir.join("results.json"), &results)?;
        write_atomic(&dir.join(SUCCESS), b"done\n")?;
        report.state = State::Succeeded;
        report.srpm = Some(PackageFile {
            nevra: facts.nevra.clone(),
            path: facts.path.clone(),
        });
    }
    emit(
        opts,
        Event::StageFinished {
            stage: STAGE_SRPM,
            ok: report.state == State::Succeeded,
            message: report
                .srpm
                .as_ref()
                .map(|p| p.nevra.to_string())
                .or(report.error.clone())
                .as_deref(),
        },
    );
    Ok(SrpmStage {
        report,
        build_id,
        header,
    })
}

/// One-line (or few-line) description of a failed SRPM method: the first real error lines of
/// the log when the command failed, else the error itself with its causes.
fn method_error(e: MethodError, log: &mut LogSink, log_path: &Path) -> String {
    if let MethodError::Isolate(isolate::IsolateError::Failed { program, status }) = &e {
        let _ = log.flush();
        let text = std::fs::read_to_string(log_path).unwrap_or_default();
        let summary = crate::mock::failure_summary(&text);
        return if summary.trim().is_empty() {
            format!("`{program}` failed ({status})")
        } else {
            summary
        };
    }
    let mut s = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(c) = src {
        s.push_str(&format!(": {c}"));
        src = c.source();
    }
    s
}

/// Check the job and the host before anything is written: the source, and every chroot against
/// the backend.
pub fn preflight(job: &JobSpec, backend: &dyn Backend) -> Result<(), PipelineError> {
    job.validate()?;
    source::check(job)?;
    for chroot in &job.chroots {
        backend
            .check_chroot(chroot)
            .map_err(PipelineError::Chroot)?;
    }
    Ok(())
}

/// A build's state from its parts, as Copr derives it: canceled if anything was canceled, else
/// failed if the SRPM or any chroot failed, else succeeded when any chroot succeeded, else
/// skipped (every chroot excluded by ExclusiveArch/ExcludeArch).
fn overall_state(report: &BuildReport) -> State {
    let states: Vec<State> = std::iter::once(report.srpm.state)
        .chain(report.chroots.iter().map(|c| c.state))
        .collect();
    if states.contains(&State::Canceled) {
        State::Canceled
    } else if states.contains(&State::Failed) {
        State::Failed
    } else if !report.chroots.is_empty() && report.chroots.iter().all(|c| c.state == State::Skipped)
    {
        State::Skipped
    } else {
        State::Succeeded
    }
}

/// Run a job end to end: source, SRPM, one binary build per chroot, results.
pub fn build(
    job: &JobSpec,
    backend: &dyn Backend,
    opts: &RunOptions,
) -> Result<BuildReport, PipelineError> {
    preflight(job, backend)?;
    let created = ensure_resultdir(&opts.resultdir)?;
    let resultdir = fs_err::canonicalize(&opts.resultdir).map_err(PipelineError::from_io)?;
    let opts = RunOptions {
        resultdir,
        reporter: opts.reporter.clone(),
        cancel: opts.cancel.clone(),
    };
    let work = WorkDir::create(&opts.resultdir)?;
    let fetched = match run_source_stage(job, &opts, &work.path, &opts.resultdir) {
        Ok(f) => f,
        Err(e) => {
            drop(work);
            if created {
                let _ = std::fs::remove_dir(&opts.resultdir);
            }
            return Err(e);
        }
    };
    let stage = run_srpm_stage(job, backend, &opts, &work, fetched)?;
    let job = &with_copr_macros(job, stage.build_id);
    let mut report = BuildReport {
        build_id: stage.build_id,
        package: stage.header.as_ref().map(|h| h.nevra.name.clone()),
        state: State::Succeeded,
        resultdir: opts.resultdir.clone(),
        srpm: stage.report,
        chroots: Vec::new(),
    };
    let Some(facts) = stage.header else {
        let state = if opts.cancel.is_canceled() {
            State::Canceled
        } else {
            State::Failed
        };
        report.state = state;
        for chroot in &job.chroots {
            report.chroots.push(ChrootReport {
                chroot: chroot.clone(),
                state,
                reason: Some(match state {
                    State::Canceled => "the build was canceled".into(),
                    _ => "the SRPM build failed".into(),
                }),
                dir: None,
                log: None,
                packages: Vec::new(),
            });
        }
        return Ok(report);
    };
    for chroot in &job.chroots {
        if opts.cancel.is_canceled() {
            report.chroots.push(ChrootReport {
                chroot: chroot.clone(),
                state: State::Canceled,
                reason: Some("the build was canceled".into()),
                dir: None,
                log: None,
                packages: Vec::new(),
            });
            continue;
        }
        let r = build_chroot(job, backend, &opts, &work, &facts, stage.build_id, chroot)?;
        report.chroots.push(r);
    }
    report.state = overall_state(&report);
    Ok(report)
}

fn build_chroot(
    job: &JobSpec,
    backend: &dyn Backend,
    opts: &RunOptions,
    work: &WorkDir,
    facts: &SrpmFacts,
    build_id: u64,
    chroot: &str,
) -> Result<ChrootReport, PipelineError> {
    emit(
        opts,
        Event::StageStarted {
            stage: chroot,
            detail: Some(&facts.nevra.name),
        },
    );
    let arch = chroot_arch(chroot);
    if let Some(reason) = arch_skip_reason(arch, &facts.exclusivearch, &facts.excludearch) {
        emit(
            opts,
            Event::StageFinished {
                stage: chroot,
                ok: true,
                message: Some(&format!("skipped: {reason}")),
            },
        );
        return Ok(ChrootReport {
            chroot: chroot.to_string(),
            state: State::Skipped,
            reason: Some(reason),
            dir: None,
            log: None,
            packages: Vec::new(),
        });
    }
    let dir = chroot_build_dir(&opts.resultdir, chroot, build_id, &facts.nevra.name);
    fs_err::create_dir_all(&dir).map_err(PipelineError::from_io)?;
    let log_path = dir.join(LIVE_LOG);
    let mut log = LogSink::create(&log_path, opts.reporter.clone(), chroot)?;
    let bwork = work.path.join(format!("rpm-{chroot}"));
    fs_err::create_dir_all(&bwork).map_err(PipelineError::from_io)?;
    // Packages land in the scratch space first and are renamed into the build directory only
    // when complete: the chroot directory is a repository other builds read concurrently.
    let staged = work.path.join(format!("out-{chroot}"));
    fs_err::create_dir_all(&staged).map_err(PipelineError::from_io)?;
    let repos = job_repos(job, &opts.resultdir, chroot);
    let req = base_request(
        job,
        BuildKind::Rebuild {
            srpm: facts.path.clone(),
        },
        chroot,
        &bwork,
        &staged,
        &repos,
        &mut log,
        opts.cancel.clone(),
    );
    let result = backend.build(req);
    drop(log);
    resultdir::remove_quietly(&bwork);
    if result.is_ok() {
        for entry in fs_err::read_dir(&staged).map_err(PipelineError::from_io)? {
            let entry = entry.map_err(PipelineError::from_io)?;
            fs_err::rename(entry.path(), dir.join(entry.file_name()))
                .map_err(PipelineError::from_io)?;
        }
    }
    resultdir::remove_quietly(&staged);
    let mut report = ChrootReport {
        chroot: chroot.to_string(),
        state: State::Failed,
        reason: None,
        dir: Some(dir.clone()),
        log: Some(log_path.clone()),
        packages: Vec::new(),
    };
    match result {
        Ok(_) => {
            let srpm_copy = dir.join(facts.path.file_name().expect("file"));
            link_or_copy(&facts.path, &srpm_copy)?;
            let mut packages = Vec::new();
            for path in source::list_with_suffix(&dir, ".rpm")? {
                let nevra = resultdir::read_nevra(&path)?;
                packages.push(PackageFile { nevra, path });
            }
            packages.sort_by(|a, b| a.nevra.cmp(&b.nevra));
            let results = ResultsJson {
                packages: packages.iter().map(|p| p.nevra.clone()).collect(),
            };
            write_json(&dir.join("results.json"), &results)?;
            write_atomic(&dir.join(SUCCESS), b"done\n")?;
            report.state = State::Succeeded;
            report.packages = packages;
        }
        Err(e) => {
            if matches!(e, BackendError::Canceled) || opts.cancel.is_canceled() {
                report.state = State::Canceled;
            }
            let text = std::fs::read_to_string(&log_path).unwrap_or_default();
            report.reason = Some(backend_failure(&e, &text));
        }
    }
    emit(
        opts,
        Event::StageFinished {
            stage: chroot,
            ok: report.state == State::Succeeded,
            message: report.reason.as_deref(),
        },
    );
    Ok(report)
}

/// The outcome of [`make_srpm`].
#[derive(Debug, Clone, Serialize)]
pub struct SrpmOnly {
    pub state: State,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub srpm: Option<PackageFile>,
    /// Where the log was kept (only when it failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Run only the source and SRPM stages, leaving the SRPM in `outdir` (and, when the stage fails,
/// its log as `outdir/copr-srpm.log`). Scratch space is a temporary `.copr-work-*` directory
/// inside `outdir`, removed afterwards.
pub fn make_srpm(
    job: &JobSpec,
    backend: &dyn Backend,
    outdir: &Path,
    reporter: SharedReporter,
    cancel: CancelToken,
) -> Result<SrpmOnly, PipelineError> {
    job.validate()?;
    source::check(job)?;
    let created = ensure_resultdir(outdir)?;
    let outdir = fs_err::canonicalize(outdir).map_err(PipelineError::from_io)?;
    let scratch = tempfile::Builder::new()
        .prefix(".copr-work-")
        .tempdir_in(&outdir)
        .map_err(|source| PipelineError::Io {
            path: outdir.clone(),
            source,
        })?;
    let work = WorkDir {
        path: scratch.path().join("w"),
    };
    fs_err::create_dir_all(&work.path).map_err(PipelineError::from_io)?;
    let opts = RunOptions {
        resultdir: scratch.path().join("results"),
        reporter,
        cancel,
    };
    fs_err::create_dir_all(&opts.resultdir).map_err(PipelineError::from_io)?;
    let fetched = match run_source_stage(job, &opts, &work.path, &outdir) {
        Ok(f) => f,
        Err(e) => {
            drop(work);
            drop(scratch);
            if created {
                let _ = std::fs::remove_dir(&outdir);
            }
            return Err(e);
        }
    };
    let mut job = job.clone();
    job.build_id = None;
    let stage = run_srpm_stage(&job, backend, &opts, &work, fetched)?;
    let mut out = SrpmOnly {
        state: stage.report.state,
        srpm: None,
        log: None,
        error: stage.report.error.clone(),
    };
    match stage.report.srpm {
        Some(pkg) => {
            let target = outdir.join(pkg.path.file_name().expect("file"));
            fs_err::rename(&pkg.path, &target)
                .or_else(|_| fs_err::copy(&pkg.path, &target).map(|_| ()))
                .map_err(PipelineError::from_io)?;
            out.srpm = Some(PackageFile {
                nevra: pkg.nevra,
                path: target,
            });
        }
        None => {
            let target = outdir.join("copr-srpm.log");
            fs_err::copy(&stage.report.log, &target).map_err(PipelineError::from_io)?;
            out.log = Some(target);
        }
    }
    Ok(out)
}

/// Run only the source and SRPM stages into `<resultdir>/srpm-builds/<id>/` — the SRPM, its live
/// log, `results.json` and `success` — as a builder's source task does. Source errors (an
/// unreachable URL, a failed clone) are returned as errors; SRPM build failures are reported.
pub fn build_srpm(
    job: &JobSpec,
    backend: &dyn Backend,
    opts: &RunOptions,
) -> Result<SrpmReport, PipelineError> {
    job.validate()?;
    source::check(job)?;
    ensure_resultdir(&opts.resultdir)?;
    let resultdir = fs_err::canonicalize(&opts.resultdir).map_err(PipelineError::from_io)?;
    let opts = RunOptions {
        resultdir,
        reporter: opts.reporter.clone(),
        cancel: opts.cancel.clone(),
    };
    let work = WorkDir::create(&opts.resultdir)?;
    let fetched = run_source_stage(job, &opts, &work.path, &opts.resultdir)?;
    Ok(run_srpm_stage(job, backend, &opts, &work, fetched)?.report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arch_skips_follow_copr() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(arch_skip_reason("x86_64", &[], &[]), None);
        assert_eq!(
            arch_skip_reason("x86_64", &v(&["x86_64", "aarch64"]), &[]),
            None
        );
        assert!(
            arch_skip_reason("x86_64", &v(&["s390x"]), &[])
                .unwrap()
                .contains("ExclusiveArch (s390x)")
        );
        assert!(
            arch_skip_reason("x86_64", &[], &v(&["i686", "x86_64"]))
                .unwrap()
                .contains("ExcludeArch")
        );
        assert_eq!(chroot_arch("fedora-40-x86_64"), "x86_64");
        assert_eq!(chroot_arch("host-aarch64"), "aarch64");
    }
}
