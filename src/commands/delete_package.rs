//! `copr delete-package` and `copr reset-package [OWNER/]PROJECT --name PKG`.

use crate::cli::{GlobalArgs, PackageNameArgs};
use crate::commands::remote::{self, Remote};
use crate::error::{CliError, ExitStatus};

pub fn run(global: &GlobalArgs, args: PackageNameArgs) -> Result<ExitStatus, CliError> {
    let remote = Remote::open(&args.remote)?;
    let p = remote.project(&args.copr)?;
    let pkg = remote
        .client
        .package_delete(&p, &args.name)
        .map_err(|e| remote.err(e))?;
    if remote::json(global) {
        remote::print_json(&pkg)?;
    } else {
        remote::print_line(format_args!(
            "Package {} was successfully deleted.",
            args.name
        ))?;
    }
    Ok(ExitStatus::Success)
}

pub fn run_reset(global: &GlobalArgs, args: PackageNameArgs) -> Result<ExitStatus, CliError> {
    let remote = Remote::open(&args.remote)?;
    let p = remote.project(&args.copr)?;
    let pkg = remote
        .client
        .package_reset(&p, &args.name)
        .map_err(|e| remote.err(e))?;
    if remote::json(global) {
        remote::print_json(&pkg)?;
    } else {
        remote::print_line("Package's default source was successfully reseted.")?;
    }
    Ok(ExitStatus::Success)
}
