//! `copr watch-build BUILD_ID…`: follow builds until they finish.

use crate::cli::{GlobalArgs, WatchBuildArgs};
use crate::commands::remote::{self, Remote};
use crate::error::{CliError, ExitStatus};

pub fn run(global: &GlobalArgs, args: WatchBuildArgs) -> Result<ExitStatus, CliError> {
    let remote = Remote::open(&args.remote)?;
    let json = remote::json(global);
    let opts = remote::watch_options(global, args.poll.poll_interval);
    let (status, finals) = remote::watch(&remote, &args.build_ids, &opts)?;
    if json {
        remote::print_json(&finals)?;
    }
    Ok(status)
}
