//! `copr list-package-names [OWNER/]PROJECT`: one package name per line.

use crate::cli::{GlobalArgs, ListPackageNamesArgs};
use crate::commands::remote::{self, Remote};
use crate::error::{CliError, ExitStatus};

pub fn run(global: &GlobalArgs, args: ListPackageNamesArgs) -> Result<ExitStatus, CliError> {
    let remote = Remote::open(&args.remote)?;
    let p = remote.project(&args.copr)?;
    let names: Vec<String> = remote
        .client
        .package_list(&p, false, false)
        .map(|r| r.map(|pkg| pkg.name))
        .collect::<Result<_, _>>()
        .map_err(|e| remote.err(e))?;
    if remote::json(global) {
        remote::print_json(&names)?;
    } else {
        for name in &names {
            remote::print_line(name)?;
        }
    }
    Ok(ExitStatus::Success)
}
