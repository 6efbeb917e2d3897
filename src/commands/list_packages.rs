//! `copr list-packages [OWNER/]PROJECT`: the packages of a project.

use crate::cli::{GlobalArgs, ListPackagesArgs};
use crate::client::{Build, Package};
use crate::commands::remote::{self, Remote};
use crate::error::{CliError, ExitStatus};

pub fn run(global: &GlobalArgs, args: ListPackagesArgs) -> Result<ExitStatus, CliError> {
    let remote = Remote::open(&args.remote)?;
    let p = remote.project(&args.copr)?;
    let packages = remote
        .client
        .package_list(&p, args.with_latest_build, args.with_latest_succeeded_build)
        .all()
        .map_err(|e| remote.err(e))?;
    if remote::json(global) {
        remote::print_json(&packages)?;
        return Ok(ExitStatus::Success);
    }
    let mut header = vec!["NAME", "SOURCE", "FROM"];
    if args.with_latest_build {
        header.push("LATEST BUILD");
    }
    if args.with_latest_succeeded_build {
        header.push("LATEST SUCCEEDED");
    }
    let mut t = remote::table(&header);
    for pkg in &packages {
        let mut row = vec![
            pkg.name.clone(),
            pkg.source_type.clone().unwrap_or_default(),
            source_summary(pkg),
        ];
        let builds = pkg.builds.clone().unwrap_or_default();
        if args.with_latest_build {
            row.push(build_summary(builds.latest.as_ref()));
        }
        if args.with_latest_succeeded_build {
            row.push(build_summary(builds.latest_succeeded.as_ref()));
        }
        t.add_row(row);
    }
    remote::print_table(&t)?;
    Ok(ExitStatus::Success)
}

/// Where a package's sources come from, in one short string.
pub fn source_summary(pkg: &Package) -> String {
    let Some(dict) = pkg.source_dict.as_ref() else {
        return String::new();
    };
    let s = |k: &str| dict.get(k).and_then(|v| v.as_str()).unwrap_or_default();
    let mut out = String::new();
    for key in ["clone_url", "url", "pypi_package_name", "gem_name"] {
        if !s(key).is_empty() {
            out = s(key).to_string();
            break;
        }
    }
    if !s("committish").is_empty() {
        out.push_str(&format!(" @{}", s("committish")));
    }
    if !s("subdirectory").is_empty() {
        out.push_str(&format!(" /{}", s("subdirectory")));
    }
    out
}

/// `ID state` of a build, or `-`.
pub fn build_summary(b: Option<&Build>) -> String {
    match b {
        Some(b) => format!(
            "{} {} {}",
            b.id,
            b.package_version().unwrap_or_default(),
            b.state
        )
        .replace("  ", " "),
        None => "-".to_string(),
    }
}
