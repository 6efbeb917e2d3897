//! `copr buildscm [OWNER/]PROJECT --clone-url URL [--commit …]`: build from a Git/SVN repository.

use crate::cli::{BuildScmArgs, GlobalArgs};
use crate::commands::add_package_scm::scm_source_with_defaults;
use crate::commands::remote::{self, Remote};
use crate::error::{CliError, ExitStatus};

pub fn run(global: &GlobalArgs, args: BuildScmArgs) -> Result<ExitStatus, CliError> {
    let remote = Remote::open(&args.remote)?;
    let p = remote.project(&args.copr_repo)?;
    let source = scm_source_with_defaults(args.clone_url.clone(), &args.scm);
    let options = remote::build_options(&args.build);
    let build = remote
        .client
        .build_create_scm(&p, &source, &options)
        .map_err(|e| remote.err(e))?;
    remote::submitted(
        &remote,
        global,
        build,
        args.build.nowait,
        args.build.poll.poll_interval,
    )
}
