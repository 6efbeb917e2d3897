//! `copr module release|build|validate`

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::Path;

use crate::cli::{
    GlobalArgs, ModuleArgs, ModuleBuildArgs, ModuleCommand, ModuleListArgs, ModuleReleaseArgs,
    ModuleValidateArgs, OutputFormat,
};
use crate::error::{CliError, ExitStatus};
use crate::module::release::{self, Platform, ReleaseSpec, Released};
use crate::module::results;
use crate::module::{ModuleError, parse_index};

pub fn run(global: &GlobalArgs, args: ModuleArgs) -> Result<ExitStatus, CliError> {
    match args.command {
        ModuleCommand::Release(a) => release_cmd(global, *a),
        ModuleCommand::Build(a) => build_cmd(global, a),
        ModuleCommand::Validate(a) => validate_cmd(global, a),
        ModuleCommand::List(a) => list_cmd(global, a),
    }
}

/// Map a library error to an exit status and hint.
fn cli_error(e: ModuleError) -> CliError {
    let status = match &e {
        ModuleError::Io(_) | ModuleError::IoAt { .. } | ModuleError::Internal(_) => {
            ExitStatus::Generic
        }
        ModuleError::BadRpm { .. }
        | ModuleError::BadRecord { .. }
        | ModuleError::NoBuilds { .. } => ExitStatus::Generic,
        _ => ExitStatus::Args,
    };
    let hint = e.hint();
    let err = CliError::new(status, e);
    match hint {
        Some(h) => err.with_hint(h),
        None => err,
    }
}

fn validate_cmd(global: &GlobalArgs, args: ModuleValidateArgs) -> Result<ExitStatus, CliError> {
    let mut all_ok = true;
    let mut json = Vec::new();
    for file in &args.files {
        let text = fs_err::read_to_string(file).map_err(|e| CliError::new(ExitStatus::Args, e))?;
        let shown = file.display();
        let diag = |d: &crate::module::Diagnostic| serde_json::json!({"line": d.line, "column": d.column, "message": d.message});
        match parse_index(&text) {
            Ok(parsed) => {
                for w in &parsed.warnings {
                    eprintln!("{shown}:{}warning: {}", line_prefix(w), w.message);
                }
                if !global.quiet && global.output == OutputFormat::Text {
                    eprintln!(
                        "{shown}: valid ({} module stream(s), {} defaults)",
                        parsed.index.streams.len(),
                        parsed.index.defaults.len()
                    );
                }
                json.push(serde_json::json!({
                    "file": file, "valid": true, "errors": [],
                    "warnings": parsed.warnings.iter().map(diag).collect::<Vec<_>>(),
                }));
            }
            Err(invalid) => {
                all_ok = false;
                for e in &invalid.errors {
                    eprintln!("{shown}:{}error: {}", line_prefix(e), e.message);
                }
                json.push(serde_json::json!({
                    "file": file, "valid": false,
                    "errors": invalid.errors.iter().map(diag).collect::<Vec<_>>(),
                    "warnings": [],
                }));
            }
        }
    }
    if global.output == OutputFormat::Json {
        println!("{}", serde_json::Value::Array(json));
    }
    Ok(if all_ok {
        ExitStatus::Success
    } else {
        ExitStatus::Args
    })
}

fn line_prefix(d: &crate::module::Diagnostic) -> String {
    match (d.line, d.column) {
        (Some(l), Some(c)) => format!("{l}:{c}: "),
        (Some(l), None) => format!("{l}: "),
        _ => " ".into(),
    }
}

/// Whether prompts can be shown: stdin and stderr are terminals.
pub(super) fn can_prompt(args_non_interactive: bool) -> bool {
    !args_non_interactive && std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

fn release_cmd(global: &GlobalArgs, args: ModuleReleaseArgs) -> Result<ExitStatus, CliError> {
    let Some(resultdir) = args.resultdir.clone() else {
        return super::module_remote::release(global, &args);
    };
    if !resultdir.is_dir() {
        return Err(CliError::new(
            ExitStatus::Args,
            anyhow::anyhow!("result directory {} does not exist", resultdir.display()),
        )
        .with_hint("pass the --resultdir of `copr build`"));
    }
    let chroot_names = if args.chroot.is_empty() {
        results::list_chroots(&resultdir).map_err(cli_error)?
    } else {
        args.chroot.clone()
    };
    if chroot_names.is_empty() {
        return Err(CliError::new(
            ExitStatus::Generic,
            anyhow::anyhow!("no builds in {}", resultdir.display()),
        )
        .with_hint("build packages first: `copr build SOURCE --resultdir DIR`"));
    }
    let chroots = chroot_names
        .iter()
        .map(|c| results::scan_chroot(&resultdir, c))
        .collect::<Result<Vec<_>, _>>()
        .map_err(cli_error)?;
    let interactive = can_prompt(args.non_interactive);
    let default_name = resultdir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "module".into());
    let packages: Vec<String> = chroots.iter().flat_map(|c| c.binary_names()).collect();
    let mut spec = resolve_spec(&args, default_name, packages, interactive)?;
    let now = time::OffsetDateTime::now_utc();
    if args.dry_run {
        let preview = release::preview(&resultdir, &chroots, &spec, now).map_err(cli_error)?;
        match global.output {
            OutputFormat::Json => println!(
                "{}",
                serde_json::json!({"version": preview.version, "documents": preview.text})
            ),
            OutputFormat::Text => print!("{}", preview.text),
        }
        return Ok(ExitStatus::Success);
    }
    if interactive {
        // Released modules never change: show what will be released and ask once more.
        let preview = release::preview(&resultdir, &chroots, &spec, now).map_err(cli_error)?;
        for s in &preview.index.streams {
            eprintln!("  {}", s.nsvca());
        }
        let show = |what: &str, list: &[String]| {
            if !list.is_empty() {
                eprintln!("  {what}: {}", list.join(", "));
            }
        };
        show("api", &spec.api);
        show("filter", &spec.filter);
        for (name, pkgs) in &spec.profiles {
            let mark = if spec.default_profile.as_deref() == Some(name.as_str()) {
                " (default)"
            } else {
                ""
            };
            eprintln!("  profile {name}{mark}: {}", pkgs.join(", "));
        }
        let go = dialoguer::Confirm::with_theme(&dialoguer::theme::SimpleTheme)
            .with_prompt(format!(
                "Release {}:{}:{}? A released module never changes",
                spec.name, spec.stream, preview.version
            ))
            .default(true)
            .interact_on(&console::Term::stderr())
            .map_err(prompt_err)?;
        if !go {
            return Err(CliError::new(
                ExitStatus::Generic,
                anyhow::anyhow!("release canceled; nothing was written"),
            ));
        }
        spec.version = Some(preview.version);
    }
    let released = release::release(&resultdir, &chroots, &spec, now).map_err(cli_error)?;
    finish_release(global, &resultdir, &released, args.out.as_deref())
}

/// Write `--out`, refresh the repositories, print the result.
fn finish_release(
    global: &GlobalArgs,
    resultdir: &Path,
    released: &Released,
    out: Option<&Path>,
) -> Result<ExitStatus, CliError> {
    if let Some(out) = out {
        fs_err::copy(&released.file, out).map_err(|e| CliError::new(ExitStatus::Generic, e))?;
    }
    for yaml in &released.modules_yaml {
        let dir = yaml.parent().unwrap_or(Path::new("."));
        let reporter = super::progress::reporter(global);
        crate::module::publish_chroot(resultdir, dir, reporter.as_ref()).map_err(cli_error)?;
    }
    match global.output {
        OutputFormat::Json => {
            println!(
                "{}",
                serde_json::to_string_pretty(released).unwrap_or_default()
            );
        }
        OutputFormat::Text => {
            for s in &released.index.streams {
                println!("{}", s.nsvca());
            }
            if !global.quiet {
                eprintln!(
                    "released {}:{}:{} into {} chroot(s); documents in {}",
                    released.name,
                    released.stream,
                    released.version,
                    released.chroots.len(),
                    released.file.display()
                );
                eprintln!(
                    "install it with: dnf module install {}:{}",
                    released.name, released.stream
                );
            }
        }
    }
    Ok(ExitStatus::Success)
}

pub(super) fn prompt_err(e: dialoguer::Error) -> CliError {
    CliError::new(ExitStatus::Generic, anyhow::anyhow!("prompt failed: {e}"))
}

/// Turn flags (and answers to prompts for what they leave open) into a release spec.
/// `packages`: the binary packages the builds produced; `default_name`: the module name offered.
pub(super) fn resolve_spec(
    args: &ModuleReleaseArgs,
    default_name: String,
    mut packages: Vec<String>,
    interactive: bool,
) -> Result<ReleaseSpec, CliError> {
    use dialoguer::{Confirm, Input, MultiSelect, Select};
    let term = console::Term::stderr();
    let theme = dialoguer::theme::SimpleTheme;
    packages.sort();
    packages.dedup();

    let missing = |what: &str| {
        CliError::new(
            ExitStatus::Args,
            anyhow::anyhow!("--{what} is required when no terminal is attached"),
        )
        .with_hint(format!("pass --{what}, or run in a terminal to be asked"))
    };
    let ask_text = |prompt: &str, default: String| -> Result<String, CliError> {
        Input::<String>::with_theme(&theme)
            .with_prompt(prompt)
            .default(default)
            .interact_text_on(&term)
            .map_err(prompt_err)
    };

    let name = match (&args.name, interactive) {
        (Some(n), _) => n.clone(),
        (None, true) => ask_text("Module name", default_name)?,
        (None, false) => return Err(missing("name")),
    };
    let stream = match (&args.stream, interactive) {
        (Some(s), _) => s.clone(),
        (None, true) => ask_text("Stream", "main".into())?,
        (None, false) => return Err(missing("stream")),
    };
    let default_summary = format!("Module {name}, stream {stream}");
    let summary = match (&args.summary, interactive) {
        (Some(s), _) => s.clone(),
        (None, true) => ask_text("Summary", default_summary)?,
        (None, false) => default_summary,
    };
    let default_description = format!("{summary}. Packages: {}.", packages.join(", "));
    let description = match (&args.description, interactive) {
        (Some(s), _) => s.clone(),
        (None, true) => ask_text("Description", default_description)?,
        (None, false) => default_description,
    };
    let module_license = if !args.license.is_empty() {
        args.license.clone()
    } else if interactive {
        vec![ask_text("License of the module metadata", "MIT".into())?]
    } else {
        vec!["MIT".into()]
    };

    let choose = |prompt: &str, items: &[String], checked: &dyn Fn(&str) -> bool| {
        let defaults: Vec<bool> = items.iter().map(|i| checked(i)).collect();
        MultiSelect::with_theme(&theme)
            .with_prompt(prompt)
            .items(items)
            .defaults(&defaults)
            .interact_on(&term)
            .map(|idx| {
                idx.into_iter()
                    .map(|i| items[i].clone())
                    .collect::<Vec<_>>()
            })
            .map_err(prompt_err)
    };

    let flags_choose_content =
        !args.api.is_empty() || !args.filter.is_empty() || !args.profile.is_empty();
    let filter = if !args.filter.is_empty() || (flags_choose_content && args.filter.is_empty()) {
        args.filter.clone()
    } else if interactive {
        choose(
            "Packages to filter out of the module (space toggles, enter confirms)",
            &packages,
            &|_| false,
        )?
    } else {
        Vec::new()
    };
    let remaining: Vec<String> = packages
        .iter()
        .filter(|p| !filter.contains(p))
        .cloned()
        .collect();
    let api = if !args.api.is_empty() {
        args.api.clone()
    } else if interactive && !flags_choose_content {
        choose(
            "Packages in the module API (space toggles, enter confirms)",
            &remaining,
            &|_| true,
        )?
    } else {
        remaining.clone()
    };

    let mut profiles: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in &args.profile {
        let (pname, pkgs) = p.split_once(':').ok_or_else(|| {
            CliError::new(
                ExitStatus::Args,
                anyhow::anyhow!("--profile `{p}` is not NAME:PKG,PKG"),
            )
        })?;
        let pkgs: Vec<String> = pkgs
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        profiles.entry(pname.to_string()).or_default().extend(pkgs);
    }
    if profiles.is_empty() {
        if interactive && !flags_choose_content {
            loop {
                let first = profiles.is_empty();
                let pname = ask_text(
                    "Install profile name",
                    if first {
                        "default".into()
                    } else {
                        String::new()
                    },
                )?;
                let pkgs = choose(
                    &format!("Packages of profile `{pname}` (space toggles, enter confirms)"),
                    &remaining,
                    &|p| first && api.iter().any(|a| a == p),
                )?;
                profiles.insert(pname, pkgs);
                let more = Confirm::with_theme(&theme)
                    .with_prompt("Add another profile?")
                    .default(false)
                    .interact_on(&term)
                    .map_err(prompt_err)?;
                if !more {
                    break;
                }
            }
        } else if !api.is_empty() {
            profiles.insert("default".into(), api.clone());
        }
    }
    let default_profile = match &args.default_profile {
        Some(d) => Some(d.clone()),
        None if profiles.contains_key("default") => Some("default".into()),
        None if interactive && profiles.len() > 1 => {
            let names: Vec<String> = profiles.keys().cloned().collect();
            let i = Select::with_theme(&theme)
                .with_prompt("Default profile")
                .items(&names)
                .default(0)
                .interact_on(&term)
                .map_err(prompt_err)?;
            Some(names[i].clone())
        }
        None => profiles.keys().next().cloned(),
    };
    let platform = if args.no_platform {
        Platform::None
    } else if let Some(p) = &args.platform {
        Platform::Stream(p.clone())
    } else {
        Platform::Auto
    };
    Ok(ReleaseSpec {
        name,
        stream,
        version: args.version,
        summary,
        description,
        module_license,
        api,
        filter,
        profiles,
        default_profile,
        platform,
        sources: BTreeMap::new(),
    })
}

fn build_cmd(global: &GlobalArgs, args: ModuleBuildArgs) -> Result<ExitStatus, CliError> {
    use crate::module::build;
    if args.remote.is_some() {
        return super::module_remote::build(global, &args);
    }
    let file = &args.modulemd;
    let text = fs_err::read_to_string(file).map_err(|e| CliError::new(ExitStatus::Args, e))?;
    let parsed = parse_index(&text).map_err(|e| {
        let lines: Vec<String> = e
            .errors
            .iter()
            .map(|d| format!("{}:{}{}", file.display(), line_prefix(d), d.message))
            .collect();
        CliError::new(
            ExitStatus::Args,
            anyhow::anyhow!("invalid modulemd:\n{}", lines.join("\n")),
        )
        .with_hint("`copr module validate FILE` checks a document without building it")
    })?;
    for w in &parsed.warnings {
        eprintln!(
            "{}:{}warning: {}",
            file.display(),
            line_prefix(w),
            w.message
        );
    }
    let plan = build::plan(&parsed, &text, file).map_err(|e| match e {
        ModuleError::Plan { line, message } => CliError::new(
            ExitStatus::Args,
            anyhow::anyhow!(
                "{}:{} {message}",
                file.display(),
                line.map(|l| format!("{l}:")).unwrap_or_default()
            ),
        ),
        other => cli_error(other),
    })?;
    let chroot = args
        .chroot
        .clone()
        .unwrap_or_else(|| format!("host-{}", crate::mock::host_arch()));
    // Fail before building when the document pins a version that is already released.
    if plan.stream.version.is_some() {
        let records = release::load_records(&args.resultdir).map_err(cli_error)?;
        let spec = ReleaseSpec {
            name: plan.name.clone(),
            stream: plan.stream_name.clone(),
            version: plan.stream.version,
            ..Default::default()
        };
        release::choose_version(&spec, &records, time::OffsetDateTime::now_utc())
            .map_err(cli_error)?;
    }
    let backend = super::build::open_backend(
        args.backend
            .unwrap_or_else(crate::mock::BackendKind::detect),
    )?;
    let opts = crate::pipeline::RunOptions {
        resultdir: args.resultdir.clone(),
        reporter: super::progress::reporter(global),
        cancel: crate::mock::CancelToken::new(),
    };
    let built = build::build_groups(&plan, &chroot, backend.as_ref(), &opts).map_err(|e| {
        let failed = matches!(e, ModuleError::ComponentsFailed { .. });
        let mut err = cli_error(e);
        if failed {
            err.status = ExitStatus::BuildFailed;
        }
        err
    })?;
    let resultdir =
        fs_err::canonicalize(&args.resultdir).map_err(|e| CliError::new(ExitStatus::Generic, e))?;
    let builds = build::chroot_builds(&chroot, &resultdir, &built).map_err(cli_error)?;
    let spec = build::release_spec(&plan, &built);
    let released = release::release(
        &resultdir,
        &[builds],
        &spec,
        time::OffsetDateTime::now_utc(),
    )
    .map_err(cli_error)?;
    finish_release(global, &resultdir, &released, args.out.as_deref())
}

fn list_cmd(global: &GlobalArgs, args: ModuleListArgs) -> Result<ExitStatus, CliError> {
    if !args.resultdir.is_dir() {
        return Err(CliError::new(
            ExitStatus::Args,
            anyhow::anyhow!(
                "result directory {} does not exist",
                args.resultdir.display()
            ),
        ));
    }
    let records = release::load_records(&args.resultdir).map_err(cli_error)?;
    match global.output {
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&records).unwrap_or_default()
        ),
        OutputFormat::Text => {
            if records.is_empty() {
                if !global.quiet {
                    eprintln!("no modules released from {}", args.resultdir.display());
                }
                return Ok(ExitStatus::Success);
            }
            let mut table = comfy_table::Table::new();
            table.set_header([
                "NAME", "STREAM", "VERSION", "CONTEXT", "CHROOTS", "RELEASED",
            ]);
            for r in &records {
                table.add_row([
                    r.name.clone(),
                    r.stream.clone(),
                    r.version.to_string(),
                    r.context.clone(),
                    r.chroots.join(","),
                    r.released.clone(),
                ]);
            }
            println!("{table}");
        }
    }
    Ok(ExitStatus::Success)
}
