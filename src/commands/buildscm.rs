//! `copr buildscm [OWNER/]PROJECT --clone-url URL [--commit …]`: build from a Git/SVN repository.

use crate::cli::{BuildScmArgs, GlobalArgs};
use crate::commands::add_package_scm::scm_source;
use crate::commands::remote::{self, Remote};
use crate::error::{CliError, ExitStatus};

pub fn run(global: &GlobalArgs, args: BuildScmArgs) -> Result<ExitStatus, CliError> {
    let remote = Remote::open(&args.remote)?;
    let p = remote.project(&args.copr_repo)?;
    let mut source = scm_source(Some(args.clone_url.clone()), &args.scm);
    source.committish.get_or_insert_with(String::new);
    source.subdirectory.get_or_insert_with(String::new);
    source.spec.get_or_insert_with(String::new);
    source.scm_type.get_or_insert_with(|| "git".to_string());
    source
        .source_build_method
        .get_or_insert_with(|| "rpkg".to_string());
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
