//! `copr build-package [OWNER/]PROJECT --name PKG`: build a package from its stored source.

use crate::cli::{BuildPackageArgs, GlobalArgs};
use crate::commands::remote::{self, Remote};
use crate::error::{CliError, ExitStatus};

pub fn run(global: &GlobalArgs, args: BuildPackageArgs) -> Result<ExitStatus, CliError> {
    let remote = Remote::open(&args.remote)?;
    let p = remote.project(&args.copr_repo)?;
    let options = remote::build_options(&args.build);
    let build = remote
        .client
        .package_build(&p, &args.name, &options)
        .map_err(|e| remote.err(e))?;
    remote::submitted(
        &remote,
        global,
        build,
        args.build.nowait,
        args.build.poll.poll_interval,
    )
}
