//! The remote forms of `copr module release PROJECT` and `copr module build --remote PROJECT`.

use std::time::Duration;

use serde_json::{Value, json};

use super::module::{can_prompt, prompt_err, resolve_spec};
use super::remote::{self, Remote};
use crate::cli::{GlobalArgs, ModuleBuildArgs, ModuleReleaseArgs, OutputFormat};
use crate::error::{CliError, ExitStatus};
use crate::module::release::Platform;

/// `copr module release [OWNER/]PROJECT …`: choose like the local form, release on the server.
pub fn release(global: &GlobalArgs, args: &ModuleReleaseArgs) -> Result<ExitStatus, CliError> {
    let remote = Remote::open(&args.remote_args)?;
    let project = remote.project(args.project.as_deref().unwrap_or_default())?;
    if args.dry_run {
        return Err(CliError::new(
            ExitStatus::Args,
            anyhow::anyhow!("--dry-run previews local releases only"),
        )
        .with_hint("`copr module release --resultdir DIR --dry-run` previews a local release"));
    }
    let available = remote
        .client
        .module_packages(&project)
        .map_err(|e| remote.err(e))?;
    let mut packages: Vec<String> = Vec::new();
    if let Some(chroots) = available["chroots"].as_object() {
        for (chroot, names) in chroots {
            if !args.chroot.is_empty() && !args.chroot.contains(chroot) {
                continue;
            }
            packages.extend(
                names
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|n| n.as_str().map(String::from)),
            );
        }
    }
    if packages.is_empty() {
        return Err(CliError::new(
            ExitStatus::Generic,
            anyhow::anyhow!(
                "{}/{} has no successful builds to release a module from",
                project.owner,
                project.project
            ),
        )
        .with_hint("build packages in the project first"));
    }
    let interactive = can_prompt(args.non_interactive);
    let spec = resolve_spec(args, project.project.clone(), packages, interactive)?;
    if interactive {
        eprintln!("  module {}:{}", spec.name, spec.stream);
        for (name, pkgs) in &spec.profiles {
            eprintln!("  profile {name}: {}", pkgs.join(", "));
        }
        if !spec.api.is_empty() {
            eprintln!("  api: {}", spec.api.join(", "));
        }
        if !spec.filter.is_empty() {
            eprintln!("  filter: {}", spec.filter.join(", "));
        }
        let go = dialoguer::Confirm::with_theme(&dialoguer::theme::SimpleTheme)
            .with_prompt(format!(
                "Release {}:{} in {}/{}? A released module never changes",
                spec.name, spec.stream, project.owner, project.project
            ))
            .default(true)
            .interact_on(&console::Term::stderr())
            .map_err(prompt_err)?;
        if !go {
            return Err(CliError::new(
                ExitStatus::Generic,
                anyhow::anyhow!("release canceled; nothing was released"),
            ));
        }
    }
    let platform = match &spec.platform {
        Platform::Auto => "auto".to_string(),
        Platform::None => "none".to_string(),
        Platform::Stream(s) => s.clone(),
    };
    let profiles: Vec<String> = spec
        .profiles
        .iter()
        .map(|(n, p)| format!("{n}:{}", p.join(",")))
        .collect();
    let body = json!({
        "name": spec.name,
        "stream": spec.stream,
        "version": spec.version,
        "summary": spec.summary,
        "description": spec.description,
        "license": spec.module_license,
        "api": spec.api,
        "filter": spec.filter,
        "profiles": profiles,
        "default_profile": spec.default_profile,
        "platform": platform,
        "chroots": args.chroot,
    });
    let m = remote
        .client
        .module_release(&project, body)
        .map_err(|e| remote.err(e))?;
    if let Some(out) = &args.out {
        let doc = m["modulemd"].as_str().unwrap_or_default();
        fs_err::write(out, doc).map_err(|e| CliError::new(ExitStatus::Generic, e))?;
    }
    print_module(global, &m)?;
    if global.output == OutputFormat::Text && !global.quiet {
        eprintln!(
            "install it with: dnf copr enable {}/{} && dnf module install {}:{}",
            project.owner,
            project.project,
            m["name"].as_str().unwrap_or_default(),
            m["stream"].as_str().unwrap_or_default()
        );
    }
    Ok(ExitStatus::Success)
}

fn print_module(global: &GlobalArgs, m: &Value) -> Result<(), CliError> {
    match global.output {
        OutputFormat::Json => {
            let mut m = m.clone();
            if let Some(o) = m.as_object_mut() {
                o.remove("modulemd");
            }
            remote::print_json(&m)
        }
        OutputFormat::Text => remote::print_line(format!(
            "{}:{}:{} {}",
            m["name"].as_str().unwrap_or_default(),
            m["stream"].as_str().unwrap_or_default(),
            m["version"],
            m["state"].as_str().unwrap_or_default()
        )),
    }
}

/// `copr module build MODULEMD.yaml --remote [OWNER/]PROJECT [--nowait]`.
pub fn build(global: &GlobalArgs, args: &ModuleBuildArgs) -> Result<ExitStatus, CliError> {
    let remote = Remote::open(&args.remote_args)?;
    let project = remote.project(args.remote.as_deref().unwrap_or_default())?;
    let bytes = fs_err::read(&args.modulemd).map_err(|e| CliError::new(ExitStatus::Args, e))?;
    let file_name = args
        .modulemd
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "modulemd.yaml".into());
    let created = remote
        .client
        .module_build(&project, &file_name, bytes)
        .map_err(|e| remote.err(e))?;
    let id = created["id"].as_i64().unwrap_or_default();
    let groups: Vec<Vec<i64>> =
        serde_json::from_value(created["builds"].clone()).unwrap_or_default();
    let ids: Vec<i64> = groups.iter().flatten().copied().collect();
    let json_out = remote::json(global);
    if !json_out {
        remote::print_line(format!(
            "Created module {} (id {id})",
            created["nsv"].as_str().unwrap_or_default()
        ))?;
        for (i, g) in groups.iter().enumerate() {
            let list: Vec<String> = g.iter().map(i64::to_string).collect();
            eprintln!("  build group {}: build(s) {}", i + 1, list.join(", "));
        }
    }
    if args.nowait {
        if json_out {
            remote::print_json(&created)?;
        }
        return Ok(ExitStatus::Success);
    }
    let interval = args.poll_interval.max(1);
    let mut opts = remote::watch_options(global, interval);
    opts.to_stderr = true;
    let (status, _) = remote::watch(&remote, &ids, &opts)?;
    // The builds are done; the server releases the module (or records why it failed).
    let m = loop {
        let m = remote.client.module_get(id).map_err(|e| remote.err(e))?;
        if m["state"] != "building" {
            break m;
        }
        std::thread::sleep(Duration::from_secs(interval.min(2)));
    };
    print_module(global, &m)?;
    if m["state"] == "released" {
        return Ok(status);
    }
    Err(CliError::new(
        ExitStatus::BuildFailed,
        anyhow::anyhow!(
            "module {} failed: {}",
            m["nsv"].as_str().unwrap_or_default(),
            m["reason"].as_str().unwrap_or("unknown reason")
        ),
    ))
}
