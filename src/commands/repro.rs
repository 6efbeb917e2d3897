//! `copr repro BUILD_ID[:CHROOT]`: fetch the job spec a builder ran for a task of a remote
//! build, adjust it for this machine, and run it with the local pipeline. A package that fails
//! remotely fails here with the same summary.

use std::io::Write;

use crate::cli::{GlobalArgs, OutputFormat, ReproArgs};
use crate::client::repro::{TaskRef, adjust};
use crate::commands::remote::Remote;
use crate::error::{CliError, ExitStatus, WithStatus};
use crate::mock::{BackendKind, CancelToken};
use crate::pipeline::{self, RunOptions};

use super::build::{cancel_on_interrupt, open_backend, pipeline_error, print_failure, render};

pub fn run(global: &GlobalArgs, args: ReproArgs) -> Result<ExitStatus, CliError> {
    let task: TaskRef = args
        .task
        .parse()
        .map_err(|e| CliError::new(ExitStatus::Args, e))?;
    let remote = Remote::open(&args.remote)?;
    let job = remote
        .client
        .build_job_spec(task.build_id, task.chroot.as_deref())
        .map_err(|e| {
            let hint = match &task.chroot {
                Some(c) => format!(
                    "the build must exist and have a task for {c} that a builder has taken; \
                     `copr status {}` shows its state",
                    task.build_id
                ),
                None => format!(
                    "the build must exist and its SRPM task must have been taken by a builder; \
                     `copr status {}` shows its state",
                    task.build_id
                ),
            };
            remote.err(e).with_hint(hint)
        })?;
    let srpm_url = match remote.client.build_get(task.build_id) {
        Ok(b) => b
            .source_package
            .and_then(|s| s.url)
            .filter(|u| !u.is_empty()),
        Err(_) => None,
    };
    let (job, adj) = adjust(job, &task, args.backend, srpm_url.as_deref())
        .map_err(|e| CliError::new(ExitStatus::Args, e))?;
    if args.dry_run {
        let text = match global.output {
            OutputFormat::Json => job.to_json() + "\n",
            OutputFormat::Text => job.to_toml(),
        };
        std::io::stdout()
            .write_all(text.as_bytes())
            .status(ExitStatus::Generic)?;
        return Ok(ExitStatus::Success);
    }
    if !global.quiet {
        eprintln!(
            "reproducing build {}{} locally in {}",
            task.build_id,
            task.chroot
                .as_deref()
                .map(|c| format!(" ({c})"))
                .unwrap_or_else(|| " (SRPM task)".to_string()),
            args.resultdir.display()
        );
        for note in &adj.notes {
            eprintln!("  {note}");
        }
    }
    let backend = open_backend(job.backend.unwrap_or_else(BackendKind::detect))?;
    let cancel = CancelToken::new();
    cancel_on_interrupt(&cancel);
    let reporter = super::progress::reporter(global);
    if task.chroot.is_none() {
        // The source task: only the SRPM stage, as the builder ran it.
        let out = pipeline::make_srpm(&job, backend.as_ref(), &args.resultdir, reporter, cancel)
            .map_err(pipeline_error)?;
        return super::srpm::report(global, &out);
    }
    let opts = RunOptions {
        resultdir: args.resultdir.clone(),
        reporter,
        cancel,
    };
    let report = pipeline::build(&job, backend.as_ref(), &opts).map_err(pipeline_error)?;
    render(global, &report, None)?;
    if report.succeeded() {
        Ok(ExitStatus::Success)
    } else {
        print_failure(&report);
        Ok(ExitStatus::BuildFailed)
    }
}
