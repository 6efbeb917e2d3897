//! `copr cancel BUILD_ID`: cancel an unfinished build; prints its new state.

use crate::cli::{CancelArgs, GlobalArgs};
use crate::commands::remote::{self, Remote};
use crate::error::{CliError, ExitStatus};

pub fn run(global: &GlobalArgs, args: CancelArgs) -> Result<ExitStatus, CliError> {
    let remote = Remote::open(&args.remote)?;
    let build = remote
        .client
        .build_cancel(args.build_id)
        .map_err(|e| remote.err(e))?;
    remote::print_build_state(global, &build)?;
    Ok(ExitStatus::Success)
}
