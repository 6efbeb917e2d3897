//! `copr list-builds [OWNER/]PROJECT`: every build of a project, newest last.

use crate::cli::{GlobalArgs, ListBuildsArgs};
use crate::commands::remote::{self, Remote};
use crate::error::{CliError, ExitStatus};

pub fn run(global: &GlobalArgs, args: ListBuildsArgs) -> Result<ExitStatus, CliError> {
    let remote = Remote::open(&args.remote)?;
    let p = remote.project(&args.project)?;
    let builds = remote
        .client
        .build_list(
            &p.owner,
            &p.project,
            args.package.as_deref(),
            args.status.as_deref(),
        )
        .all()
        .map_err(|e| remote.err(e))?;
    if remote::json(global) {
        remote::print_json(&builds)?;
        return Ok(ExitStatus::Success);
    }
    let mut t = remote::table(&["ID", "PACKAGE", "VERSION", "STATE", "SUBMITTED", "CHROOTS"]);
    for b in &builds {
        t.add_row(vec![
            b.id.to_string(),
            b.package_name().unwrap_or("-").to_string(),
            b.package_version().unwrap_or("-").to_string(),
            b.state.clone(),
            remote::when(b.submitted_on),
            remote::list(&b.chroots),
        ]);
    }
    remote::print_table(&t)?;
    Ok(ExitStatus::Success)
}
