//! `copr delete-build BUILD_ID…`: delete finished builds.

use crate::cli::{DeleteBuildArgs, GlobalArgs};
use crate::commands::remote::{self, Remote};
use crate::error::{CliError, ExitStatus};

pub fn run(global: &GlobalArgs, args: DeleteBuildArgs) -> Result<ExitStatus, CliError> {
    let remote = Remote::open(&args.remote)?;
    let answer = remote
        .client
        .build_delete_list(&args.build_ids)
        .map_err(|e| remote.err(e))?;
    if remote::json(global) {
        remote::print_json(&answer)?;
        return Ok(ExitStatus::Success);
    }
    let deleted: Vec<String> = match answer.get("builds").and_then(|b| b.as_array()) {
        Some(ids) => ids.iter().map(|v| v.to_string()).collect(),
        None => args.build_ids.iter().map(i64::to_string).collect(),
    };
    remote::print_line(format_args!(
        "Build(s) {} were deleted.",
        deleted.join(", ")
    ))?;
    Ok(ExitStatus::Success)
}
