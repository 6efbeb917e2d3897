//! `copr build`: resolve SOURCE, flags and the tree's copr.toml into a `JobSpec`, run the
//! pipeline, render the result.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::cli::{BuildArgs, GlobalArgs, OutputFormat, SourceArgs};
use crate::error::{CliError, ExitStatus, WithStatus};
use crate::job::{CoprToml, JobSpec, Source, SrpmMethod};
use crate::mock::{Backend, BackendKind, CancelToken, host_arch};
use crate::pipeline::{self, BuildReport, PipelineError, RunOptions, State};
use crate::repo::keys::KeyStore;
use crate::repo::publish::{LocalPublishReport, PublishOptions, publish_local_results};
use crate::reporter::{Event, Reporter, SharedReporter};

pub fn run(global: &GlobalArgs, args: BuildArgs) -> Result<ExitStatus, CliError> {
    if args.remote.project.is_some() {
        return super::build_remote::run(global, args);
    }
    let job = match &args.job {
        Some(file) => JobSpec::from_file(file).map_err(job_error)?,
        None => resolve(&args)?,
    };
    if args.dry_run {
        // Report bad input (no spec, unreadable directory, broken SRPM) without building.
        crate::pipeline::source::check(&job).map_err(pipeline_error)?;
        let text = match global.output {
            OutputFormat::Json => job.to_json() + "\n",
            OutputFormat::Text => job.to_toml(),
        };
        std::io::stdout()
            .write_all(text.as_bytes())
            .status(ExitStatus::Generic)?;
        return Ok(ExitStatus::Success);
    }
    let backend = open_backend(job.backend.unwrap_or_else(BackendKind::detect))?;
    let cancel = CancelToken::new();
    cancel_on_interrupt(&cancel);
    let keys = Arc::new(KeyWarmUp::new(
        &job,
        &args.resultdir,
        super::progress::reporter(global),
    ));
    let opts = RunOptions {
        resultdir: args.resultdir.clone(),
        reporter: keys.clone(),
        cancel,
    };
    let report = pipeline::build(&job, backend.as_ref(), &opts);
    keys.wait();
    let report = report.map_err(pipeline_error)?;
    let published = publish(&job, &report, opts.reporter.as_ref())?;
    render(global, &report, published.as_ref())?;
    if report.succeeded() {
        Ok(ExitStatus::Success)
    } else {
        // With --output json the report on stdout carries the failure.
        if global.output == OutputFormat::Text {
            print_failure(&report);
        }
        Ok(ExitStatus::BuildFailed)
    }
}

static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

extern "C" fn on_interrupt(_: libc::c_int) {
    INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// Turn the first Ctrl-C (SIGINT) or SIGTERM into a cancellation: the running build's process
/// tree is killed, the result directory keeps its logs, the scratch space is removed, and the
/// command exits with 4 ("build failed or canceled"). A second signal has the default effect.
pub(super) fn cancel_on_interrupt(cancel: &CancelToken) {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
    let action = SigAction::new(
        SigHandler::Handler(on_interrupt),
        SaFlags::SA_RESETHAND | SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for sig in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        let _ = unsafe { sigaction(sig, &action) };
    }
    let cancel = cancel.clone();
    std::thread::spawn(move || {
        while !INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst) {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        cancel.cancel();
    });
}

/// Open the buildroot backend of `kind` with the host's configuration.
pub(super) fn open_backend(kind: BackendKind) -> Result<Box<dyn Backend>, CliError> {
    let config = crate::mock::HostConfig::load().status(ExitStatus::Config)?;
    crate::mock::backend(kind, &config).map_err(|e| {
        let hint = match kind {
            BackendKind::Sandbox => "install bubblewrap and rpm (rpmbuild): `make deps`",
            BackendKind::Mock => "install mock, or use --backend sandbox",
        };
        CliError::new(ExitStatus::Config, e).with_hint(hint)
    })
}

/// Map a job spec error to an argument error.
pub(super) fn job_error(e: crate::job::JobError) -> CliError {
    CliError::new(ExitStatus::Args, e)
}

/// Map a pipeline error to copr-cli's exit codes, with a hint where one helps.
pub(super) fn pipeline_error(e: PipelineError) -> CliError {
    let status = if e.is_network() {
        ExitStatus::Request
    } else {
        match &e {
            PipelineError::FsIo(_) | PipelineError::Io { .. } => ExitStatus::Generic,
            PipelineError::MissingTool { .. } => ExitStatus::Config,
            _ => ExitStatus::Args,
        }
    };
    let hint = e.hint();
    let err = CliError::new(status, e);
    match hint {
        Some(h) => err.with_hint(h),
        None => err,
    }
}

/// Resolve `copr build` arguments into a job spec.
fn resolve(args: &BuildArgs) -> Result<JobSpec, CliError> {
    let (mut job, toml) = resolve_source(&args.source)?;
    let toml = toml.unwrap_or_default();
    job.chroots = if !args.chroots.is_empty() {
        merge(&[], &args.chroots)
    } else if !toml.chroots.is_empty() {
        merge(&[], &toml.chroots)
    } else {
        vec![format!("host-{}", host_arch())]
    };
    job.repos = merge(&toml.repos, &args.repos);
    job.buildroot_pkgs = merge(&toml.buildroot_pkgs, &args.buildroot_pkgs);
    job.enable_net = args.enable_net || toml.enable_net.unwrap_or(false);
    job.nodeps = args.nodeps;
    job.memory_limit = args.memory_limit.or(toml.memory_limit);
    // Name the spec that will be built, so the printed job spec is fully resolved.
    if let Source::Dir {
        path,
        spec: spec @ None,
    } = &mut job.source
        && job.method == SrpmMethod::Rpmbuild
        && let Ok(found) = crate::pipeline::source::find_spec(path, None)
    {
        *spec = found.strip_prefix(&*path).ok().map(Path::to_path_buf);
    }
    job.validate().map_err(job_error)?;
    Ok(job)
}

fn merge(a: &[String], b: &[String]) -> Vec<String> {
    let mut out = a.to_vec();
    for x in b {
        if !out.contains(x) {
            out.push(x.clone());
        }
    }
    out
}

fn is_remote_git(s: &str) -> bool {
    s.starts_with("git://")
        || s.starts_with("file://")
        || s.starts_with("ssh://")
        || s.starts_with("git+")
        || (s.starts_with("git@") && s.contains(':'))
}

fn absolute(path: &Path) -> Result<PathBuf, CliError> {
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    let cwd = std::env::current_dir().status(ExitStatus::Generic)?;
    let joined = cwd.join(path);
    // Normalise `.` components for readable job specs; `..` is kept as is.
    Ok(joined.components().collect())
}

/// Resolve the source-related arguments (shared with `copr srpm`) into a job spec with default
/// chroots, and the copr.toml found in a local source tree.
pub(super) fn resolve_source(args: &SourceArgs) -> Result<(JobSpec, Option<CoprToml>), CliError> {
    let raw = args.source.clone().unwrap_or_else(|| ".".to_string());
    let args_err = |msg: String| CliError::new(ExitStatus::Args, anyhow::anyhow!(msg));
    let is_url = raw.starts_with("http://") || raw.starts_with("https://");
    let url_path = raw.split(['?', '#']).next().unwrap_or(&raw);
    let wants_git = args.git || args.committish.is_some();
    let mut toml = None;
    let mut method = args.method;

    let source = if method == Some(SrpmMethod::Custom) && !wants_git {
        let script = absolute(Path::new(&raw))?;
        if script.is_dir() {
            return Err(args_err(format!(
                "--method custom needs the script as SOURCE, and {} is a directory",
                script.display()
            )));
        }
        Source::Custom {
            script,
            content: None,
            resultdir: None,
            builddeps: Vec::new(),
        }
    } else if is_url
        && !wants_git
        && (url_path.ends_with(".spec") || url_path.ends_with(".src.rpm"))
    {
        Source::Url { url: raw.clone() }
    } else if is_url || is_remote_git(&raw) || wants_git {
        let url = if is_url || is_remote_git(&raw) {
            raw.clone()
        } else {
            absolute(Path::new(&raw))?.to_string_lossy().into_owned()
        };
        Source::Git {
            url,
            committish: args.committish.clone(),
            subdir: args.subdir.clone(),
            spec: args.spec.clone(),
        }
    } else {
        let path = absolute(Path::new(&raw))?;
        if raw.ends_with(".src.rpm") {
            Source::Srpm { path }
        } else if raw.ends_with(".spec") && !path.is_dir() {
            Source::Spec { path }
        } else {
            let dir = match &args.subdir {
                Some(s) => path.join(s),
                None => path,
            };
            let found = if dir.is_dir() {
                CoprToml::load(&dir).map_err(job_error)?
            } else {
                None
            };
            let spec = args
                .spec
                .clone()
                .or_else(|| found.as_ref().and_then(|t| t.spec.clone()));
            if method.is_none() {
                method = found.as_ref().and_then(|t| t.method);
            }
            if method == Some(SrpmMethod::Custom) {
                let script = found
                    .as_ref()
                    .and_then(|t| t.script.clone())
                    .ok_or_else(|| {
                        args_err(format!(
                            "copr.toml in {} selects the custom method but names no `script`",
                            dir.display()
                        ))
                    })?;
                toml = found;
                let job = finish(
                    args,
                    Source::Custom {
                        script: dir.join(script),
                        content: None,
                        resultdir: None,
                        builddeps: Vec::new(),
                    },
                    SrpmMethod::Custom,
                    toml.as_ref(),
                );
                return Ok((job, toml));
            }
            toml = found;
            Source::Dir { path: dir, spec }
        }
    };
    let method = method.unwrap_or_default();
    let job = finish(args, source, method, toml.as_ref());
    Ok((job, toml))
}

fn finish(
    args: &SourceArgs,
    source: Source,
    method: SrpmMethod,
    toml: Option<&CoprToml>,
) -> JobSpec {
    let mut job = JobSpec::new(source, vec![format!("host-{}", host_arch())]);
    job.method = method;
    job.backend = Some(
        args.backend
            .or(toml.and_then(|t| t.backend))
            .unwrap_or_else(BackendKind::detect),
    );
    let mut macros: BTreeMap<String, String> = toml.map(|t| t.macros.clone()).unwrap_or_default();
    for d in &args.defines {
        let (k, v) = d
            .split_once(char::is_whitespace)
            .unwrap_or((d.as_str(), ""));
        macros.insert(k.trim_start_matches('%').to_string(), v.trim().to_string());
    }
    job.macros = macros;
    job.with = merge(
        &toml.map(|t| t.with.clone()).unwrap_or_default(),
        &args.with,
    );
    job.without = merge(
        &toml.map(|t| t.without.clone()).unwrap_or_default(),
        &args.without,
    );
    job.timeout = args
        .timeout
        .or(toml.and_then(|t| t.timeout))
        .unwrap_or(crate::job::DEFAULT_TIMEOUT_SECS);
    job.project = toml.and_then(|t| t.project.clone());
    job
}

/// Turn every chroot directory with packages into a signed repository (project key created on
/// first use under `<resultdir>/.keys/`, `pubkey.gpg` at the result directory's root).
fn publish(
    job: &JobSpec,
    report: &BuildReport,
    reporter: &dyn crate::reporter::Reporter,
) -> Result<Option<LocalPublishReport>, CliError> {
    if !report
        .chroots
        .iter()
        .any(|c| c.state == State::Succeeded && !c.packages.is_empty())
    {
        return Ok(None);
    }
    let (owner, project) = publish_identity(job, &report.resultdir);
    publish_local_results(
        &report.resultdir,
        &owner,
        &project,
        &PublishOptions::default(),
        reporter,
    )
    .map(Some)
    .map_err(|e| {
        CliError::new(ExitStatus::Generic, e).with_hint(
            "the packages were built; fix the problem and run \
             `copr createrepo --sign-key <resultdir>/.keys/OWNER/PROJECT/secret.asc <resultdir>/<chroot>`",
        )
    })
}

/// The owner and project a local result directory is published as: the job's project, else
/// `local` and the directory's name.
fn publish_identity(job: &JobSpec, resultdir: &Path) -> (String, String) {
    match &job.project {
        Some(p) => (p.owner.clone(), p.name.clone()),
        None => (
            "local".to_string(),
            resultdir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "results".into()),
        ),
    }
}

/// Creates the project key of a result directory that has none yet while the binary builds
/// run, rather than after them (generating an RSA key takes about a second). It starts once
/// the SRPM stage has succeeded, the point from which the result directory is kept, and only
/// through [`KeyStore::get_or_create`], so concurrent builds still end up with one key.
/// Progress events pass through to the wrapped reporter.
struct KeyWarmUp {
    inner: SharedReporter,
    job: JobSpec,
    resultdir: PathBuf,
    task: Mutex<Option<std::thread::JoinHandle<()>>>,
    started: std::sync::Once,
}

impl KeyWarmUp {
    fn new(job: &JobSpec, resultdir: &Path, inner: SharedReporter) -> KeyWarmUp {
        KeyWarmUp {
            inner,
            job: job.clone(),
            resultdir: resultdir.to_path_buf(),
            task: Mutex::new(None),
            started: std::sync::Once::new(),
        }
    }

    fn start(&self, resultdir: &Path) {
        let Ok(resultdir) = fs_err::canonicalize(resultdir) else {
            return;
        };
        let (owner, project) = publish_identity(&self.job, &resultdir);
        let store = KeyStore::new(resultdir.join(".keys"));
        if store
            .project_dir(&owner, &project)
            .join("secret.asc")
            .exists()
        {
            return;
        }
        // Errors are left to the publication, which asks the store again and reports them.
        let task = std::thread::spawn(move || {
            let _ = store.get_or_create(&owner, &project);
        });
        *self.task.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
    }

    /// Wait for a key being created (the process must not end halfway through writing it).
    fn wait(&self) {
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            let _ = task.join();
        }
    }
}

impl Reporter for KeyWarmUp {
    fn event(&self, event: Event<'_>) {
        if let Event::StageFinished {
            stage: pipeline::STAGE_SRPM,
            ok: true,
            ..
        } = event
        {
            self.started.call_once(|| self.start(&self.resultdir));
        }
        self.inner.event(event);
    }
}

/// Print the report: JSON on stdout with `--output json`, else a short summary.
pub(super) fn render(
    global: &GlobalArgs,
    report: &BuildReport,
    published: Option<&LocalPublishReport>,
) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    if global.output == OutputFormat::Json {
        let mut value = serde_json::to_value(report).status(ExitStatus::Generic)?;
        if let (Some(p), Some(obj)) = (published, value.as_object_mut()) {
            obj.insert(
                "repositories".into(),
                serde_json::json!({
                    "pubkey": p.pubkey,
                    "key_fingerprint": p.key_fingerprint,
                    "chroots": p.chroots.iter().map(|c| serde_json::json!({
                        "dir": c.chroot_dir,
                        "repo_file": c.repo_file,
                        "packages": c.repo.packages,
                        "signed": c.signed,
                    })).collect::<Vec<_>>(),
                    "dnf": p.dnf_lines(),
                }),
            );
        }
        let text = serde_json::to_string_pretty(&value).status(ExitStatus::Generic)?;
        writeln!(out, "{text}").status(ExitStatus::Generic)?;
        return Ok(());
    }
    if global.quiet {
        return Ok(());
    }
    render_text(&mut out, report)?;
    if let Some(p) = published {
        writeln!(out, "signed repositories (key {}):", p.key_fingerprint)
            .status(ExitStatus::Generic)?;
        for c in &p.chroots {
            writeln!(
                out,
                "  {}  {} packages",
                c.chroot_dir.display(),
                c.repo.packages
            )
            .status(ExitStatus::Generic)?;
        }
        writeln!(out, "use them with dnf:").status(ExitStatus::Generic)?;
        for line in p.dnf_lines() {
            writeln!(out, "  {line}").status(ExitStatus::Generic)?;
        }
    }
    Ok(())
}

fn render_text(out: &mut impl Write, report: &BuildReport) -> Result<(), CliError> {
    let name = report.package.as_deref().unwrap_or("(unknown package)");
    writeln!(
        out,
        "build {:08} {name}: {}",
        report.build_id,
        report.state.as_str()
    )
    .status(ExitStatus::Generic)?;
    match &report.srpm.srpm {
        Some(p) => writeln!(out, "  srpm  {}", p.path.display()),
        None => writeln!(out, "  srpm  failed, log: {}", report.srpm.log.display()),
    }
    .status(ExitStatus::Generic)?;
    for c in &report.chroots {
        match c.state {
            State::Succeeded => {
                writeln!(
                    out,
                    "  {}  succeeded  {}",
                    c.chroot,
                    c.dir.as_deref().unwrap_or(Path::new("")).display()
                )
                .status(ExitStatus::Generic)?;
                for p in &c.packages {
                    let file = p.path.file_name().unwrap_or_default().to_string_lossy();
                    writeln!(out, "    {file}").status(ExitStatus::Generic)?;
                }
            }
            State::Skipped | State::Failed | State::Canceled => {
                writeln!(
                    out,
                    "  {}  {}  {}",
                    c.chroot,
                    c.state.as_str(),
                    c.reason
                        .as_deref()
                        .unwrap_or("")
                        .lines()
                        .next()
                        .unwrap_or("")
                )
                .status(ExitStatus::Generic)?;
            }
        }
    }
    Ok(())
}

/// Tell the user on stderr what failed first and where the whole log is.
pub(super) fn print_failure(report: &BuildReport) {
    let red = console::Style::new().red().bold().for_stderr();
    if report.srpm.state == State::Failed {
        eprintln!("{} the SRPM build failed:", red.apply_to("error:"));
        for line in report.srpm.error.as_deref().unwrap_or("").lines() {
            eprintln!("  {line}");
        }
        eprintln!("  log: {}", report.srpm.log.display());
        return;
    }
    if report.state == State::Canceled {
        eprintln!("{} the build was canceled", red.apply_to("error:"));
        return;
    }
    for c in report.chroots.iter().filter(|c| c.state == State::Failed) {
        eprintln!("{} build failed in {}:", red.apply_to("error:"), c.chroot);
        for line in c.reason.as_deref().unwrap_or("").lines() {
            eprintln!("  {line}");
        }
        if let Some(log) = &c.log {
            eprintln!("  log: {}", log.display());
        }
    }
}
