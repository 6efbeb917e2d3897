//! `copr build --remote [OWNER/]PROJECT [SOURCE]`: send a build to a Copr server and watch it.
//!
//! SOURCE is resolved as for a local build; then an SRPM is uploaded, a directory, spec, local
//! git tree or custom script is first made into an SRPM here (the pipeline's SRPM stage, as
//! `copr srpm` runs it) and uploaded, and a URL or remote git repository is passed to the
//! server (`build/create/url`, `build/create/scm`).

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::{BuildArgs, GlobalArgs, RemoteArgs};
use crate::client::submit::{self, Submission};
use crate::client::{Build, BuildOptions, ProjectRef, UploadProgress};
use crate::commands::remote::{self, Remote};
use crate::error::{CliError, ExitStatus, WithStatus};
use crate::mock::{BackendKind, CancelToken};
use crate::pipeline::{self, State};

use super::build::{job_error, open_backend, pipeline_error, resolve_source};

pub fn run(global: &GlobalArgs, args: BuildArgs) -> Result<ExitStatus, CliError> {
    let r = &args.remote;
    let remote = Remote::open(&RemoteArgs {
        config: r.config.clone(),
    })?;
    let project = remote.project(r.project.as_deref().unwrap_or_default())?;
    let (job, _) = resolve_source(&args.source)?;
    let plan = submit::plan(&job.source, job.method, r.scm)
        .map_err(|e| CliError::new(ExitStatus::Args, e))?;
    let options = BuildOptions {
        chroots: (!args.chroots.is_empty()).then(|| args.chroots.clone()),
        exclude_chroots: None,
        timeout: args.source.timeout,
        background: r.background,
        enable_net: args.enable_net.then_some(true),
        bootstrap: None,
        isolation: None,
        after_build_id: r.after_build_id,
        with_build_id: r.with_build_id,
    };
    // Fail on an unknown project before spending time on an SRPM or an upload.
    remote
        .client
        .project_get(&project.owner, &project.project)
        .map_err(|e| remote.err(e))?;
    let build = match plan {
        Submission::Upload(path) => upload(&remote, global, &project, &path, &options)?,
        Submission::BuildSrpm => {
            job.validate().map_err(job_error)?;
            let backend = open_backend(job.backend.unwrap_or_else(BackendKind::detect))?;
            let cancel = CancelToken::new();
            super::build::cancel_on_interrupt(&cancel);
            let scratch = tempfile::Builder::new()
                .prefix("copr-remote-srpm-")
                .tempdir()
                .status(ExitStatus::Generic)?;
            let out = pipeline::make_srpm(
                &job,
                backend.as_ref(),
                scratch.path(),
                super::progress::reporter(global),
                cancel,
            )
            .map_err(pipeline_error)?;
            // From here on Ctrl-C simply stops watching, as copr-cli promises.
            restore_default_signals();
            let srpm = match (&out.state, &out.srpm) {
                (State::Succeeded, Some(p)) => p.path.clone(),
                _ => {
                    // Keep the log where the message says it is.
                    let _ = scratch.keep();
                    let red = console::Style::new().red().bold().for_stderr();
                    eprintln!("{} the SRPM build failed:", red.apply_to("error:"));
                    for line in out.error.as_deref().unwrap_or("").lines() {
                        eprintln!("  {line}");
                    }
                    if let Some(log) = &out.log {
                        eprintln!("  log: {}", log.display());
                    }
                    return Ok(ExitStatus::BuildFailed);
                }
            };
            upload(&remote, global, &project, &srpm, &options)?
        }
        Submission::Url(url) => remote
            .client
            .build_create_url(&project, &url, &options)
            .map_err(|e| remote.err(e))?,
        Submission::Scm(source) => remote
            .client
            .build_create_scm(&project, &source, &options)
            .map_err(|e| remote.err(e))?,
    };
    remote::submitted(&remote, global, build, r.nowait, r.poll_interval)
}

/// Upload `path` with a progress bar on stderr (a plain line when stderr is not a terminal).
fn upload(
    remote: &Remote,
    global: &GlobalArgs,
    project: &ProjectRef,
    path: &Path,
    options: &BuildOptions,
) -> Result<Build, CliError> {
    let size = fs_err::metadata(path).status(ExitStatus::Args)?.len();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tty = std::io::stderr().is_terminal();
    let bar = if global.quiet || !tty {
        ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::hidden())
    } else {
        ProgressBar::new(size)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} uploading {msg} {wide_bar} {bytes}/{total_bytes} {bytes_per_sec}",
        )
        .expect("valid template"),
    );
    bar.set_message(name.clone());
    if !global.quiet && !tty {
        eprintln!("uploading {name} ({})", HumanBytes(size));
    }
    let progress: UploadProgress = {
        let bar = bar.clone();
        Arc::new(move |done, _total| bar.set_position(done))
    };
    let result = remote
        .client
        .build_create_upload(project, path, options, Some(progress));
    bar.finish_and_clear();
    result.map_err(|e| remote.err(e))
}

/// Undo the SRPM stage's interrupt handling: SIGINT and SIGTERM end the process again.
fn restore_default_signals() {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
    let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    for sig in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: restoring the default disposition installs no handler code.
        let _ = unsafe { sigaction(sig, &default) };
    }
}
