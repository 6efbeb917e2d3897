//! `copr mock-config [OWNER/PROJECT] CHROOT`

use std::io::Write;

use crate::cli::{GlobalArgs, MockConfigArgs, OutputFormat};
use crate::error::{CliError, ExitStatus, WithStatus};
use crate::mock::mockcfg::{Bootstrap, MockConfig, MockRepo};

pub fn run(global: &GlobalArgs, args: MockConfigArgs) -> Result<ExitStatus, CliError> {
    let bad = |msg: String, hint: &str| {
        CliError::new(ExitStatus::Args, anyhow::anyhow!(msg)).with_hint(hint.to_string())
    };
    let (project, chroot) = match args.chroot {
        Some(chroot) => (Some(args.project_or_chroot), chroot),
        None => (None, args.project_or_chroot),
    };
    let (owner, project) = match project {
        Some(p) => match p.split_once('/') {
            Some((o, n)) if !o.is_empty() && !n.is_empty() && !n.contains('/') => {
                (Some(o.to_string()), Some(n.to_string()))
            }
            _ => {
                return Err(bad(
                    format!("`{p}` is not OWNER/PROJECT"),
                    "write it as OWNER/PROJECT (e.g. alice/hello or @group/hello)",
                ));
            }
        },
        None => (None, None),
    };
    let mut macros = std::collections::BTreeMap::new();
    for m in &args.macros {
        let Some((k, v)) = m.split_once('=') else {
            return Err(bad(
                format!("`{m}` is not NAME=VALUE"),
                "write macros as --macro NAME=VALUE (e.g. --macro dist=.fc40)",
            ));
        };
        macros.insert(k.trim().to_string(), v.to_string());
    }
    let mut modules = Vec::new();
    for m in &args.modules {
        if !m.contains(':') {
            return Err(bad(
                format!("`{m}` is not NAME:STREAM"),
                "write modules as --enable-module NAME:STREAM (e.g. nodejs:20)",
            ));
        }
        modules.push(("enable".to_string(), m.clone()));
    }
    if args.bootstrap_image.is_some() && args.bootstrap != Bootstrap::CustomImage {
        return Err(bad(
            "--bootstrap-image needs --bootstrap custom-image".into(),
            "add --bootstrap custom-image",
        ));
    }
    let cfg = MockConfig {
        chroot: chroot.clone(),
        owner,
        project,
        build_id: None,
        buildroot_pkgs: args.buildroot_pkgs,
        enable_net: args.enable_net,
        isolation: args.isolation,
        macros,
        bootstrap: args.bootstrap,
        bootstrap_image: args.bootstrap_image,
        module_setup_commands: modules,
        repos: args.repos.iter().map(|u| MockRepo::from_url(u)).collect(),
        rpmbuild_timeout: None,
    };
    let text = cfg.render().map_err(|e| {
        CliError::new(ExitStatus::Args, e)
            .with_hint("check the chroot name, repository URLs and macros")
    })?;
    let mut out = std::io::stdout().lock();
    match global.output {
        OutputFormat::Text => out.write_all(text.as_bytes()),
        OutputFormat::Json => {
            let v = serde_json::json!({ "chroot": chroot, "config": text });
            writeln!(out, "{v:#}")
        }
    }
    .status(ExitStatus::Generic)?;
    Ok(ExitStatus::Success)
}
