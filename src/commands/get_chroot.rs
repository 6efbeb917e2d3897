//! `copr get-chroot [OWNER/]PROJECT/CHROOT`: the settings of one chroot of a project.

use crate::cli::{GetChrootArgs, GlobalArgs};
use crate::client::ProjectChroot;
use crate::commands::remote::{self, Remote};
use crate::error::{CliError, ExitStatus};

pub fn run(global: &GlobalArgs, args: GetChrootArgs) -> Result<ExitStatus, CliError> {
    let remote = Remote::open(&args.remote)?;
    let c = remote.chroot(&args.coprchroot)?;
    let chroot = remote
        .client
        .project_chroot_get(&c)
        .map_err(|e| remote.err(e))?;
    if remote::json(global) {
        remote::print_json(&chroot)?;
    } else {
        remote::print_table(&chroot_fields(&chroot))?;
    }
    Ok(ExitStatus::Success)
}

/// The field table of a project chroot.
pub fn chroot_fields(c: &ProjectChroot) -> comfy_table::Table {
    remote::fields(vec![
        ("mock_chroot", c.mock_chroot.clone()),
        ("ownername", c.ownername.clone()),
        ("projectname", c.projectname.clone()),
        ("additional_packages", remote::list(&c.additional_packages)),
        ("additional_repos", remote::list(&c.additional_repos)),
        ("additional_modules", remote::list(&c.additional_modules)),
        ("with_opts", remote::list(&c.with_opts)),
        ("without_opts", remote::list(&c.without_opts)),
        ("comps_name", remote::opt(&c.comps_name)),
        (
            "delete_after_days",
            c.delete_after_days
                .map(|d| d.to_string())
                .unwrap_or_default(),
        ),
        ("isolation", remote::opt(&c.isolation)),
    ])
}
