//! `copr get-package [OWNER/]PROJECT --name PKG`: one package.

use crate::cli::{GetPackageArgs, GlobalArgs};
use crate::commands::list_packages::{build_summary, source_summary};
use crate::commands::remote::{self, Remote};
use crate::error::{CliError, ExitStatus};

pub fn run(global: &GlobalArgs, args: GetPackageArgs) -> Result<ExitStatus, CliError> {
    let remote = Remote::open(&args.remote)?;
    let p = remote.project(&args.copr)?;
    let pkg = remote
        .client
        .package_get(
            &p,
            &args.name,
            args.with_latest_build,
            args.with_latest_succeeded_build,
        )
        .map_err(|e| remote.err(e))?;
    if remote::json(global) {
        remote::print_json(&pkg)?;
        return Ok(ExitStatus::Success);
    }
    let mut rows = vec![
        ("Name", pkg.name.clone()),
        ("Project", format!("{}/{}", pkg.ownername, pkg.projectname)),
        ("ID", pkg.id.map(|i| i.to_string()).unwrap_or_default()),
        ("Source type", pkg.source_type.clone().unwrap_or_default()),
        ("Source", source_summary(&pkg)),
        ("Auto-rebuild", remote::opt_bool(pkg.auto_rebuild)),
    ];
    if let Some(dict) = pkg.source_dict.as_ref().and_then(|d| d.as_object()) {
        for (k, v) in dict {
            let text = match v {
                serde_json::Value::String(s) if s.is_empty() => continue,
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => continue,
                other => other.to_string(),
            };
            rows.push((k.as_str(), text));
        }
    }
    let builds = pkg.builds.clone().unwrap_or_default();
    if args.with_latest_build {
        rows.push(("Latest build", build_summary(builds.latest.as_ref())));
    }
    if args.with_latest_succeeded_build {
        rows.push((
            "Latest succeeded",
            build_summary(builds.latest_succeeded.as_ref()),
        ));
    }
    remote::print_table(&remote::fields(rows))?;
    Ok(ExitStatus::Success)
}
