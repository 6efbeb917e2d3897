//! `copr create [OWNER/]NAME --chroot C…`: a new project.

use crate::cli::{Bootstrap, CreateArgs, GlobalArgs, ProjectSettingsArgs};
use crate::client::ProjectSettings;
use crate::commands::remote::{self, Remote};
use crate::error::{CliError, ExitStatus};

pub fn run(global: &GlobalArgs, args: CreateArgs) -> Result<ExitStatus, CliError> {
    let remote = Remote::open(&args.remote)?;
    let p = remote.project(&args.name)?;
    if p.dirname_if_custom().is_some() {
        return Err(CliError::new(
            ExitStatus::Args,
            anyhow::anyhow!("`{}`: a project name cannot carry a `:` suffix", args.name),
        ));
    }
    let mut settings = settings(&args.settings);
    settings.chroots = Some(args.chroots.clone());
    settings.persistent = args.persistent.then_some(true);
    settings.fedora_review = args.fedora_review.then_some(true);
    settings.storage = args.storage.clone();
    let project = remote
        .client
        .project_add(&p.owner, &p.project, &settings)
        .map_err(|e| remote.err(e))?;
    if remote::json(global) {
        remote::print_json(&project)?;
    } else {
        remote::print_line(format_args!(
            "New project was successfully created: {}",
            remote.client.project_url(&project.ownername, &project.name)
        ))?;
    }
    Ok(ExitStatus::Success)
}

/// The API settings from the options shared by `create` and `modify` (unset ones stay unset).
pub fn settings(a: &ProjectSettingsArgs) -> ProjectSettings {
    let non_empty = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
    ProjectSettings {
        description: a.description.clone(),
        instructions: a.instructions.clone(),
        homepage: a.homepage.clone(),
        contact: a.contact.clone(),
        additional_repos: non_empty(&a.repos),
        runtime_dependencies: non_empty(&a.runtime_dependencies),
        packit_forge_projects_allowed: non_empty(&a.packit_forge_projects_allowed),
        devel_mode: a.disable_createrepo,
        enable_net: a.enable_net.map(|v| v.as_bool()),
        unlisted_on_hp: a.unlisted_on_hp.map(|v| v.as_bool()),
        auto_prune: a.auto_prune.map(|v| v.as_bool()),
        isolation: remote::isolation(a.isolation),
        bootstrap: a.bootstrap.map(|b| {
            match b {
                Bootstrap::Default => "default",
                Bootstrap::On => "on",
                Bootstrap::Off => "off",
                Bootstrap::Image => "image",
            }
            .to_string()
        }),
        delete_after_days: a.delete_after_days,
        module_hotfixes: a.module_hotfixes.map(|v| v.as_bool()),
        multilib: a.multilib.map(|v| v.as_bool()),
        appstream: a.appstream.map(|v| v.as_bool()),
        follow_fedora_branching: a.follow_fedora_branching.map(|v| v.as_bool()),
        repo_priority: a.repo_priority,
        ..ProjectSettings::default()
    }
}
