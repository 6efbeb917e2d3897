//! `copr list [USER|@GROUP]`: the projects of an owner.

use crate::cli::{GlobalArgs, ListArgs};
use crate::client::names::resolve_owner;
use crate::commands::remote::{self, Remote};
use crate::error::{CliError, ExitStatus};

pub fn run(global: &GlobalArgs, args: ListArgs) -> Result<ExitStatus, CliError> {
    let remote = Remote::open(&args.remote)?;
    let owner = resolve_owner(args.owner.as_deref(), remote.config.username.as_deref())
        .map_err(|e| remote.name_error(e))?;
    let projects = remote
        .client
        .project_list(&owner)
        .all()
        .map_err(|e| remote.err(e))?;
    if remote::json(global) {
        remote::print_json(&projects)?;
        return Ok(ExitStatus::Success);
    }
    if projects.is_empty() {
        eprintln!("No copr retrieved for user: '{owner}'");
        return Ok(ExitStatus::Success);
    }
    let mut t = remote::table(&["PROJECT", "CHROOTS", "DESCRIPTION"]);
    for p in &projects {
        let description = remote::opt(&p.description);
        let first_line = description.lines().next().unwrap_or_default().to_string();
        t.add_row(vec![p.full_name(), p.chroots().join(" "), first_line]);
    }
    remote::print_table(&t)?;
    Ok(ExitStatus::Success)
}
