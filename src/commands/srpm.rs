//! `copr srpm`: run only the source and SRPM stages; the SRPM lands in `--outdir`.

use std::io::Write;

use crate::cli::{GlobalArgs, OutputFormat, SrpmArgs};
use crate::error::{CliError, ExitStatus, WithStatus};
use crate::mock::{BackendKind, CancelToken};
use crate::pipeline::{self, State};

use super::build::{job_error, open_backend, pipeline_error, resolve_source};

pub fn run(global: &GlobalArgs, args: SrpmArgs) -> Result<ExitStatus, CliError> {
    let (job, _) = resolve_source(&args.source)?;
    job.validate().map_err(job_error)?;
    let backend = open_backend(job.backend.unwrap_or_else(BackendKind::detect))?;
    let cancel = CancelToken::new();
    super::build::cancel_on_interrupt(&cancel);
    let out = pipeline::make_srpm(
        &job,
        backend.as_ref(),
        &args.outdir,
        super::progress::reporter(global),
        cancel,
    )
    .map_err(pipeline_error)?;
    report(global, &out)
}

/// Print an SRPM stage's outcome: the SRPM's path (or the JSON report) on stdout, the failure
/// and its log on stderr; exit 4 when it failed.
pub fn report(global: &GlobalArgs, out: &pipeline::SrpmOnly) -> Result<ExitStatus, CliError> {
    let mut stdout = std::io::stdout().lock();
    if global.output == OutputFormat::Json {
        let text = serde_json::to_string_pretty(out).status(ExitStatus::Generic)?;
        writeln!(stdout, "{text}").status(ExitStatus::Generic)?;
    } else if let Some(p) = &out.srpm {
        writeln!(stdout, "{}", p.path.display()).status(ExitStatus::Generic)?;
    }
    if out.state == State::Succeeded {
        return Ok(ExitStatus::Success);
    }
    let red = console::Style::new().red().bold().for_stderr();
    eprintln!("{} the SRPM build failed:", red.apply_to("error:"));
    for line in out.error.as_deref().unwrap_or("").lines() {
        eprintln!("  {line}");
    }
    if let Some(log) = &out.log {
        eprintln!("  log: {}", log.display());
    }
    Ok(ExitStatus::BuildFailed)
}
