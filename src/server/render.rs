//! The JSON shapes of API v3 (reference §1.2): every key always present, null when unset.

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::AppState;
use super::model::*;

pub fn project(st: &AppState, p: &Project, chroots: &[ProjectChroot]) -> Value {
    let s = &p.settings;
    let repos: Map<String, Value> = chroots
        .iter()
        .map(|c| {
            (
                c.mock_chroot.clone(),
                Value::String(format!(
                    "{}/{}/{}/{}/",
                    st.results_url, p.ownername, p.name, c.mock_chroot
                )),
            )
        })
        .collect();
    json!({
        "id": p.id,
        "name": p.name,
        "ownername": p.ownername,
        "full_name": p.full_name(),
        "description": s.description,
        "instructions": s.instructions,
        "homepage": s.homepage,
        "contact": s.contact,
        "devel_mode": s.devel_mode,
        "persistent": s.persistent,
        "unlisted_on_hp": s.unlisted_on_hp,
        "auto_prune": s.auto_prune,
        "chroot_repos": repos,
        "additional_repos": s.additional_repos,
        "enable_net": s.enable_net,
        "bootstrap": s.bootstrap,
        "isolation": s.isolation,
        "module_hotfixes": s.module_hotfixes,
        "appstream": s.appstream,
        "packit_forge_projects_allowed": s.packit_forge_projects_allowed,
        "follow_fedora_branching": s.follow_fedora_branching,
        "repo_priority": s.repo_priority,
        "storage": s.storage,
    })
}

/// `<results>/<owner>/<dirname>/<chroot>/<%08d>-<package>/`.
pub fn result_url(st: &AppState, b: &Build, chroot: &str) -> String {
    let dir = match &b.package_name {
        Some(name) => format!("{:08}-{name}", b.id),
        None => format!("{:08}", b.id),
    };
    format!(
        "{}/{}/{}/{}/{}/",
        st.results_url, b.ownername, b.project_dirname, chroot, dir
    )
}

/// The Build shape, serialized straight from borrowed data (lists of builds are the hot path).
#[derive(Serialize)]
pub struct BuildOut<'a> {
    id: i64,
    state: &'static str,
    projectname: &'a str,
    ownername: &'a str,
    project_dirname: &'a str,
    repo_url: String,
    source_package: SourcePackage<'a>,
    submitted_on: i64,
    started_on: Option<i64>,
    ended_on: Option<i64>,
    submitter: &'a str,
    chroots: Vec<&'a str>,
    is_background: bool,
}

#[derive(Serialize)]
struct SourcePackage<'a> {
    name: Option<&'a str>,
    version: Option<&'a str>,
    url: Option<&'a str>,
}

pub fn build_out<'a>(st: &AppState, b: &'a Build) -> BuildOut<'a> {
    BuildOut {
        id: b.id,
        state: b.state.name(),
        projectname: &b.projectname,
        ownername: &b.ownername,
        project_dirname: &b.project_dirname,
        repo_url: format!("{}/{}/{}", st.results_url, b.ownername, b.project_dirname),
        source_package: SourcePackage {
            name: b.package_name.as_deref(),
            version: b.package_version.as_deref(),
            url: b.srpm_url.as_deref(),
        },
        submitted_on: b.submitted_on,
        started_on: b.started_on,
        ended_on: b.ended_on,
        submitter: &b.submitter,
        chroots: b.chroots.iter().map(|c| c.name.as_str()).collect(),
        is_background: b.is_background,
    }
}

/// The Build shape of one build-list row; the same bytes as [`build_out`] of the full build.
pub fn build_summary_out<'a>(st: &AppState, p: &'a Project, b: &'a BuildSummary) -> BuildOut<'a> {
    BuildOut {
        id: b.id,
        state: b.state.name(),
        projectname: &p.name,
        ownername: &p.ownername,
        project_dirname: &b.project_dirname,
        repo_url: format!("{}/{}/{}", st.results_url, p.ownername, b.project_dirname),
        source_package: SourcePackage {
            name: b.package_name.as_deref(),
            version: b.package_version.as_deref(),
            url: b.srpm_url.as_deref(),
        },
        submitted_on: b.submitted_on,
        started_on: b.started_on,
        ended_on: b.ended_on,
        submitter: &b.submitter,
        chroots: b.chroots.iter().map(String::as_str).collect(),
        is_background: b.is_background,
    }
}

pub fn build(st: &AppState, b: &Build) -> Value {
    serde_json::to_value(build_out(st, b)).unwrap_or(Value::Null)
}

pub fn build_chroot(st: &AppState, b: &Build, c: &BuildChroot) -> Value {
    json!({
        "name": c.name,
        "state": c.state.name(),
        "started_on": c.started_on,
        "ended_on": c.ended_on,
        "result_url": result_url(st, b, &c.name),
    })
}

/// `source_json` as the API shows it: `srpm_build_method` is called `source_build_method`.
pub fn source_dict(source_json: &Value) -> Value {
    let mut v = source_json.clone();
    if let Value::Object(m) = &mut v
        && let Some(x) = m.remove("srpm_build_method")
    {
        m.insert("source_build_method".into(), x);
    }
    v
}

pub fn package(
    st: &AppState,
    p: &Project,
    pkg: &Package,
    latest: Option<&Build>,
    latest_succeeded: Option<&Build>,
) -> Value {
    json!({
        "id": pkg.id,
        "name": pkg.name,
        "ownername": p.ownername,
        "projectname": p.name,
        "source_type": pkg.source_type,
        "source_dict": source_dict(&pkg.source_json),
        "auto_rebuild": pkg.settings.webhook_rebuild,
        "builds": {
            "latest": latest.map(|b| build(st, b)),
            "latest_succeeded": latest_succeeded.map(|b| build(st, b)),
        },
    })
}

pub fn project_chroot(p: &Project, c: &ProjectChroot) -> Value {
    let s = &c.settings;
    json!({
        "mock_chroot": c.mock_chroot,
        "ownername": p.ownername,
        "projectname": p.name,
        "comps_name": s.comps_name,
        "additional_repos": s.additional_repos,
        "additional_packages": s.additional_packages,
        "additional_modules": s.additional_modules,
        "with_opts": s.with_opts,
        "without_opts": s.without_opts,
        "delete_after_days": s.delete_after_days,
        "isolation": s.isolation,
    })
}

/// Expand Copr's repository notation for one chroot: `copr://o/p`, `$chroot`, `$distname`,
/// `?priority=N`. Returns (id, baseurl, priority).
pub fn expand_repo(st: &AppState, url: &str, chroot: &str) -> (String, String, Option<i64>) {
    let mut url = url.to_string();
    let mut priority = None;
    if let Some((base, query)) = url.split_once('?') {
        let mut rest = Vec::new();
        for pair in query.split('&') {
            match pair.strip_prefix("priority=").and_then(|n| n.parse().ok()) {
                Some(n) => priority = Some(n),
                None => rest.push(pair.to_string()),
            }
        }
        url = if rest.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", rest.join("&"))
        };
    }
    let distname = chroot.split('-').next().unwrap_or(chroot);
    url = url
        .replace("$chroot", chroot)
        .replace("$distname", distname);
    if let Some(rest) = url.strip_prefix("copr://") {
        url = format!(
            "{}/{}/{}/",
            st.results_url,
            rest.trim_end_matches('/'),
            chroot
        );
    }
    (repo_id(&url), url, priority)
}

/// A repo id: non-alphanumerics replaced by `_`, runs collapsed, ends stripped.
pub fn repo_id(url: &str) -> String {
    let mut out = String::new();
    for c in url.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}
