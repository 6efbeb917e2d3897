//! `copr get [OWNER/]PROJECT`: one project.

use crate::cli::{GetArgs, GlobalArgs};
use crate::client::Project;
use crate::commands::remote::{self, Remote};
use crate::error::{CliError, ExitStatus};

pub fn run(global: &GlobalArgs, args: GetArgs) -> Result<ExitStatus, CliError> {
    let remote = Remote::open(&args.remote)?;
    let p = remote.project(&args.project)?;
    let project = remote
        .client
        .project_get(&p.owner, &p.project)
        .map_err(|e| remote.err(e))?;
    if remote::json(global) {
        remote::print_json(&project)?;
    } else {
        remote::print_table(&project_fields(&project))?;
    }
    Ok(ExitStatus::Success)
}

/// The field table `get`, `create` and `modify` print.
pub fn project_fields(p: &Project) -> comfy_table::Table {
    let mut rows = vec![
        ("Name", p.full_name()),
        ("ID", p.id.map(|i| i.to_string()).unwrap_or_default()),
        ("Description", remote::opt(&p.description)),
        ("Instructions", remote::opt(&p.instructions)),
        ("Homepage", remote::opt(&p.homepage)),
        ("Contact", remote::opt(&p.contact)),
        ("Chroots", p.chroots().join(" ")),
        ("Additional repos", remote::list(&p.additional_repos)),
        ("Network in builds", remote::opt_bool(p.enable_net)),
        ("Manual createrepo", remote::opt_bool(p.devel_mode)),
        ("Unlisted", remote::opt_bool(p.unlisted_on_hp)),
        ("Auto-prune", remote::opt_bool(p.auto_prune)),
        ("Persistent", remote::opt_bool(p.persistent)),
        ("Bootstrap", remote::opt(&p.bootstrap)),
        ("Isolation", remote::opt(&p.isolation)),
        ("Module hotfixes", remote::opt_bool(p.module_hotfixes)),
        ("AppStream", remote::opt_bool(p.appstream)),
        (
            "Repo priority",
            p.repo_priority.map(|v| v.to_string()).unwrap_or_default(),
        ),
    ];
    rows.retain(|(_, v)| !v.is_empty());
    if let Some(repos) = &p.chroot_repos {
        for (chroot, url) in repos {
            rows.push(("Repo", format!("{chroot}: {url}")));
        }
    }
    remote::fields(rows)
}
