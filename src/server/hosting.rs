//! Hosted files: `/results/…` and `/tmp/…` (static, with content types and range requests) and
//! the `.repo` files `dnf copr enable` downloads from `/coprs/<owner>/<project>/repo/<release>/`.

use std::path::Path as FsPath;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use serde_json::json;
use tower_http::services::ServeDir;

use super::AppState;
use super::error::ApiError;
use super::model::Project;
use super::names;

/// A static directory; `..` and absolute components are refused by `ServeDir`.
pub fn static_dir(dir: &FsPath) -> ServeDir {
    ServeDir::new(dir).append_index_html_on_directories(false)
}

#[derive(Debug, Deserialize)]
pub struct RepoQuery {
    pub arch: Option<String>,
}

pub async fn repo_file(
    State(st): State<AppState>,
    Path((owner, project, release, file)): Path<(String, String, String, String)>,
    Query(q): Query<RepoQuery>,
) -> Response {
    serve_repo(&st, &owner, &project, &release, &file, q.arch).await
}

pub async fn group_repo_file(
    State(st): State<AppState>,
    Path((group, project, release, file)): Path<(String, String, String, String)>,
    Query(q): Query<RepoQuery>,
) -> Response {
    serve_repo(&st, &format!("@{group}"), &project, &release, &file, q.arch).await
}

/// Releases whose version dnf expands with `$releasever`.
fn uses_releasever(release: &str) -> bool {
    let dist = release.rsplit_once('-').map(|(d, _)| d).unwrap_or(release);
    matches!(dist, "fedora" | "centos-stream" | "opensuse-leap")
        || (dist == "mageia" && !release.ends_with("cauldron"))
}

/// Render a `.repo` file for a project and release (reference §5 template).
pub fn render_repo_file(
    hostname: &str,
    results_url: &str,
    p: &Project,
    release: &str,
    multilib_arch: Option<&str>,
) -> String {
    let owner_id = p.ownername.replace('@', "group_");
    let chroot_part = if uses_releasever(release) {
        let dist = release.rsplit_once('-').map(|(d, _)| d).unwrap_or(release);
        format!("{dist}-$releasever-$basearch")
    } else {
        format!("{release}-$basearch")
    };
    let base = format!("{results_url}/{}/{}", p.ownername, p.name);
    let mut out = String::new();
    let mut section = |id: String, name: String, baseurl: String, extra: &str| {
        out.push_str(&format!(
            "[{id}]\nname={name}\nbaseurl={baseurl}\ntype=rpm-md\nskip_if_unavailable=True\n\
             gpgcheck=1\ngpgkey={base}/pubkey.gpg\nrepo_gpgcheck=0\nenabled=1\nenabled_metadata=1\n"
        ));
        if p.settings.module_hotfixes {
            out.push_str("module_hotfixes=1\n");
        }
        if let Some(prio) = p.settings.repo_priority {
            out.push_str(&format!("priority={prio}\n"));
        }
        out.push_str(extra);
        out.push('\n');
    };
    let id = format!("copr:{hostname}:{owner_id}:{}", p.name);
    section(
        id.clone(),
        format!("Copr repo for {} owned by {}", p.name, p.ownername),
        format!("{base}/{chroot_part}/"),
        "",
    );
    if let Some(arch) = multilib_arch {
        let ml_part = chroot_part.replace("$basearch", arch);
        section(
            format!("{id}:ml"),
            format!("Copr repo for {} owned by {} ({arch})", p.name, p.ownername),
            format!("{base}/{ml_part}/"),
            "cost=1100\n",
        );
    }
    out
}

fn not_found(available: &[String], msg: String) -> Response {
    let data = json!({ "available chroots": available }).to_string();
    let b64 = base64::engine::general_purpose::STANDARD.encode(data);
    let mut resp = ApiError::NotFound(msg).into_response();
    if let Ok(v) = HeaderValue::from_str(&b64) {
        resp.headers_mut().insert("Copr-Error-Data", v);
    }
    resp
}

async fn serve_repo(
    st: &AppState,
    owner: &str,
    project: &str,
    release: &str,
    file: &str,
    arch: Option<String>,
) -> Response {
    if !names::valid_owner(owner) || names::project_name_error(project).is_some() {
        return not_found(&[], "Invalid owner or project name.".into());
    }
    if !file.ends_with(".repo") {
        return ApiError::NotFound("Such repository file doesn't exist".into()).into_response();
    }
    let p = match st.store.get_project(owner, project).await {
        Ok(Some(p)) => p,
        Ok(None) => return not_found(&[], format!("Project {owner}/{project} does not exist.")),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let chroots = match st.store.project_chroots(p.id).await {
        Ok(c) => c,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let names: Vec<String> = chroots.iter().map(|c| c.mock_chroot.clone()).collect();
    let in_release: Vec<&String> = names
        .iter()
        .filter(|c| c.rsplit_once('-').map(|(r, _)| r) == Some(release))
        .collect();
    if in_release.is_empty() {
        let releases: Vec<String> = names
            .iter()
            .filter_map(|c| c.rsplit_once('-').map(|(r, _)| r.to_string()))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        return not_found(
            &releases,
            format!(
                "Chroot not found in this project: {release} is not enabled in {}",
                p.full_name()
            ),
        );
    }
    // Multilib: x86_64 hosts also get the i386 repo when the project builds both.
    let ml = match arch.as_deref() {
        Some("x86_64") if p.settings.multilib && names.contains(&format!("{release}-i386")) => {
            Some("i386")
        }
        _ => None,
    };
    let body = render_repo_file(&st.hostname, &st.results_url, &p, release, ml);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}
