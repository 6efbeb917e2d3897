//! `copr add-package-scm` and `copr edit-package-scm`: an SCM package's source and settings.

use crate::cli::{AddPackageScmArgs, EditPackageScmArgs, GlobalArgs, PackageSettingsArgs, ScmArgs};
use crate::client::{PackageSettings, ScmSource};
use crate::commands::remote::{self, Remote};
use crate::error::{CliError, ExitStatus};

/// `add-package-scm`: unset source fields get copr-cli's defaults.
pub fn run(global: &GlobalArgs, args: AddPackageScmArgs) -> Result<ExitStatus, CliError> {
    let source = scm_source_with_defaults(args.clone_url.clone(), &args.scm);
    save(
        global,
        &args.remote,
        true,
        &args.copr,
        &args.name,
        &source,
        &args.settings,
    )
}

/// `edit-package-scm`: only the options given change.
pub fn run_edit(global: &GlobalArgs, args: EditPackageScmArgs) -> Result<ExitStatus, CliError> {
    let source = scm_source(args.clone_url.clone(), &args.scm);
    save(
        global,
        &args.remote,
        false,
        &args.copr,
        &args.name,
        &source,
        &args.settings,
    )
}

/// The API's SCM source from the command line.
pub fn scm_source(clone_url: Option<String>, a: &ScmArgs) -> ScmSource {
    ScmSource {
        clone_url,
        committish: a.committish.clone(),
        subdirectory: a.subdirectory.clone(),
        spec: a.spec.clone(),
        scm_type: a.scm_type.clone(),
        source_build_method: a.srpm_build_method.clone(),
    }
}

/// The source of a new SCM package or build: unset fields get copr-cli's defaults (git, rpkg,
/// empty committish, subdirectory and spec).
pub fn scm_source_with_defaults(clone_url: String, a: &ScmArgs) -> ScmSource {
    let mut source = scm_source(Some(clone_url), a);
    source.committish.get_or_insert_with(String::new);
    source.subdirectory.get_or_insert_with(String::new);
    source.spec.get_or_insert_with(String::new);
    source.scm_type.get_or_insert_with(|| "git".to_string());
    source
        .source_build_method
        .get_or_insert_with(|| "rpkg".to_string());
    source
}

fn save(
    global: &GlobalArgs,
    remote_args: &crate::cli::RemoteArgs,
    create: bool,
    copr: &str,
    name: &str,
    source: &ScmSource,
    s: &PackageSettingsArgs,
) -> Result<ExitStatus, CliError> {
    let remote = Remote::open(remote_args)?;
    let p = remote.project(copr)?;
    let settings = PackageSettings {
        max_builds: s.max_builds,
        timeout: s.timeout,
        chroot_denylist: s.chroot_denylist.clone(),
        webhook_rebuild: s.webhook_rebuild.map(|v| v.as_bool()),
    };
    let pkg = remote
        .client
        .package_scm(create, &p, name, source, &settings)
        .map_err(|e| remote.err(e))?;
    if remote::json(global) {
        remote::print_json(&pkg)?;
    } else {
        remote::print_line("Create or edit operation was successful.")?;
    }
    Ok(ExitStatus::Success)
}
