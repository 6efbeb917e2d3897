//! `copr regenerate-repos [OWNER/]PROJECT`.

use crate::cli::{GlobalArgs, RegenerateReposArgs};
use crate::commands::remote::{self, Remote};
use crate::error::{CliError, ExitStatus};

pub fn run(global: &GlobalArgs, args: RegenerateReposArgs) -> Result<ExitStatus, CliError> {
    let remote = Remote::open(&args.remote)?;
    let p = remote.project(&args.project)?;
    let project = remote
        .client
        .project_regenerate_repos(&p.owner, &p.project)
        .map_err(|e| remote.err(e))?;
    if remote::json(global) {
        remote::print_json(&project)?;
    } else {
        remote::print_line(format_args!(
            "Submitted action to regenerate repository metadata for the '{}' project.",
            project.full_name()
        ))?;
    }
    Ok(ExitStatus::Success)
}
