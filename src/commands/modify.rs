//! `copr modify [OWNER/]PROJECT [options]`: change only the settings given.

use crate::cli::{GlobalArgs, ModifyArgs};
use crate::commands::create::settings;
use crate::commands::remote::{self, Remote};
use crate::error::{CliError, ExitStatus};

pub fn run(global: &GlobalArgs, args: ModifyArgs) -> Result<ExitStatus, CliError> {
    let remote = Remote::open(&args.remote)?;
    let p = remote.project(&args.name)?;
    let mut settings = settings(&args.settings);
    settings.chroots = (!args.chroots.is_empty()).then(|| args.chroots.clone());
    settings.fedora_review = args.fedora_review.map(|v| v.as_bool());
    let project = remote
        .client
        .project_edit(&p.owner, &p.project, &settings)
        .map_err(|e| remote.err(e))?;
    if remote::json(global) {
        remote::print_json(&project)?;
    } else {
        remote::print_line(format_args!(
            "Project {} was modified.",
            project.full_name()
        ))?;
    }
    Ok(ExitStatus::Success)
}
