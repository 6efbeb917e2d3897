//! `copr status BUILD_ID`: the state of a build (one word, as copr-cli prints it).

use crate::cli::{GlobalArgs, StatusArgs};
use crate::commands::remote::{self, Remote};
use crate::error::{CliError, ExitStatus};

pub fn run(global: &GlobalArgs, args: StatusArgs) -> Result<ExitStatus, CliError> {
    let remote = Remote::open(&args.remote)?;
    let build = remote
        .client
        .build_get(args.build_id)
        .map_err(|e| remote.err(e))?;
    remote::print_build_state(global, &build)?;
    Ok(ExitStatus::Success)
}
