//! `copr edit-chroot [OWNER/]PROJECT/CHROOT [options]`.

use crate::cli::{BuildBootstrap, EditChrootArgs, GlobalArgs};
use crate::client::ChrootEdit;
use crate::commands::remote::{self, Remote};
use crate::error::{CliError, ExitStatus};

pub fn run(global: &GlobalArgs, args: EditChrootArgs) -> Result<ExitStatus, CliError> {
    let remote = Remote::open(&args.remote)?;
    let c = remote.chroot(&args.coprchroot)?;
    let joined = |v: &Vec<String>| (!v.is_empty()).then(|| v.join(" "));
    let bootstrap = if args.bootstrap_image.is_some() {
        Some(BuildBootstrap::Image)
    } else {
        args.bootstrap
    };
    let edit = ChrootEdit {
        additional_repos: args.repos.clone(),
        additional_packages: args.packages.clone(),
        additional_modules: args.modules.clone(),
        delete_comps: args.delete_comps,
        with_opts: joined(&args.rpmbuild_with),
        without_opts: joined(&args.rpmbuild_without),
        bootstrap: remote::build_bootstrap(bootstrap),
        bootstrap_image: args.bootstrap_image.clone(),
        isolation: remote::isolation(args.isolation),
        reset_fields: (!args.reset.is_empty()).then(|| args.reset.clone()),
        upload_comps: args.upload_comps.clone(),
    };
    let chroot = remote
        .client
        .project_chroot_edit(&c, &edit)
        .map_err(|e| remote.err(e))?;
    if remote::json(global) {
        remote::print_json(&chroot)?;
    } else {
        remote::print_line("Edit chroot operation was successful.")?;
    }
    Ok(ExitStatus::Success)
}
