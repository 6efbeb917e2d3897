//! `copr whoami`: the user the configured token belongs to (checked with the server).

use crate::cli::{GlobalArgs, WhoamiArgs};
use crate::commands::remote::{self, Remote};
use crate::error::{CliError, ExitStatus};

pub fn run(global: &GlobalArgs, args: WhoamiArgs) -> Result<ExitStatus, CliError> {
    let remote = Remote::open(&args.remote)?;
    if !remote.client.has_credentials()
        && let Some(name) = &remote.config.username
    {
        // No token to check: report the configured name, as copr-cli does.
        if remote::json(global) {
            remote::print_json(&serde_json::json!({ "id": null, "name": name }))?;
        } else {
            remote::print_line(name)?;
        }
        return Ok(ExitStatus::Success);
    }
    let me = remote.client.auth_check().map_err(|e| remote.err(e))?;
    if remote::json(global) {
        remote::print_json(&me)?;
    } else {
        remote::print_line(&me.name)?;
    }
    Ok(ExitStatus::Success)
}
