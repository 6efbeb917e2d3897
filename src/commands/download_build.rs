//! `copr download-build BUILD_ID [-r CHROOT]… [--dest DIR] [--rpms]`: fetch a build's results
//! into `DIR/<chroot>/`: every file the result directory lists (RPMs, logs, results.json…), or
//! where the server shows no listing, the built RPMs and the files a Copr build directory holds.

use crate::cli::{DownloadBuildArgs, GlobalArgs};
use crate::commands::remote::{self, Remote};
use crate::error::{CliError, ExitStatus, WithStatus};

/// Files a build directory holds besides the RPMs (fetched unless `--rpms`).
const EXTRA_FILES: &[&str] = &[
    "builder-live.log.gz",
    "builder-live.log",
    "backend.log.gz",
    "backend.log",
    "build.info",
    "results.json",
    "configs.tar.gz",
];

pub fn run(global: &GlobalArgs, args: DownloadBuildArgs) -> Result<ExitStatus, CliError> {
    let remote = Remote::open(&args.remote)?;
    let build = remote
        .client
        .build_get(args.build_id)
        .map_err(|e| remote.err(e))?;
    let chroots = remote
        .client
        .build_chroot_list(args.build_id)
        .all()
        .map_err(|e| remote.err(e))?;
    let built = remote
        .client
        .build_built_packages(args.build_id)
        .map_err(|e| remote.err(e))?;
    let mut downloaded = Vec::new();
    for chroot in &chroots {
        if !args.chroots.is_empty() && !args.chroots.contains(&chroot.name) {
            continue;
        }
        let Some(base) = chroot.result_url.as_deref().filter(|u| !u.is_empty()) else {
            eprintln!(
                "No data for build id: {} and chroot: {}.",
                args.build_id, chroot.name
            );
            continue;
        };
        let base = format!("{}/", base.trim_end_matches('/'));
        let dir = args.dest.join(&chroot.name);
        let before = downloaded.len();
        fs_err::create_dir_all(&dir).status(ExitStatus::Generic)?;
        // The directory's own listing names every file; without one, the files a Copr
        // build directory holds are asked for by name.
        let listed = remote
            .client
            .list_result_dir(&base)
            .map_err(|e| remote.err(e))?;
        if let Some(listed) = listed {
            for name in listed {
                if args.rpms && !name.ends_with(".rpm") {
                    continue;
                }
                let dest = dir.join(&name);
                let url = format!("{base}{}", url_segment(&name));
                if remote
                    .client
                    .download(&url, &dest)
                    .map_err(|e| remote.err(e))?
                {
                    downloaded.push(dest.display().to_string());
                } else {
                    eprintln!("Failed to download: {url}");
                }
            }
            if downloaded.len() == before {
                eprintln!(
                    "No data for build id: {} and chroot: {}.",
                    args.build_id, chroot.name
                );
            }
            continue;
        }
        let mut names: Vec<String> = built
            .get(&chroot.name)
            .and_then(|c| c.get("packages"))
            .and_then(|p| p.as_array())
            .into_iter()
            .flatten()
            .filter_map(|n| {
                Some(format!(
                    "{}-{}-{}.{}.rpm",
                    n.get("name")?.as_str()?,
                    n.get("version")?.as_str()?,
                    n.get("release")?.as_str()?,
                    n.get("arch")?.as_str()?
                ))
            })
            .collect();
        if !args.rpms {
            names.extend(EXTRA_FILES.iter().map(|s| s.to_string()));
            if let Some(pkg) = build.package_name() {
                names.push(format!("{pkg}.spec"));
            }
        }
        for name in names {
            let dest = dir.join(&name);
            let url = format!("{base}{name}");
            let found = remote
                .client
                .download(&url, &dest)
                .map_err(|e| remote.err(e))?;
            if found {
                downloaded.push(dest.display().to_string());
            } else if name.ends_with(".rpm") {
                eprintln!("Failed to download: {url}");
            }
        }
        if downloaded.len() == before {
            eprintln!(
                "No data for build id: {} and chroot: {} (nothing at {base}; results of older \
                 builds may have been pruned).",
                args.build_id, chroot.name
            );
        }
    }
    if remote::json(global) {
        remote::print_json(&downloaded)?;
    } else {
        for path in &downloaded {
            remote::print_line(path)?;
        }
    }
    Ok(ExitStatus::Success)
}

/// A file name as one URL path segment.
fn url_segment(name: &str) -> String {
    url::form_urlencoded::byte_serialize(name.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}
