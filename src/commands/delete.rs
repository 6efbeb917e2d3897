//! `copr delete [OWNER/]PROJECT`.

use crate::cli::{DeleteArgs, GlobalArgs};
use crate::commands::remote::{self, Remote};
use crate::error::{CliError, ExitStatus};

pub fn run(global: &GlobalArgs, args: DeleteArgs) -> Result<ExitStatus, CliError> {
    let remote = Remote::open(&args.remote)?;
    let p = remote.project(&args.project)?;
    let project = remote
        .client
        .project_delete(&p.owner, &p.project)
        .map_err(|e| remote.err(e))?;
    if remote::json(global) {
        remote::print_json(&project)?;
    } else {
        remote::print_line(format_args!("Project {} has been deleted.", project.name))?;
    }
    Ok(ExitStatus::Success)
}
