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
use crate::repo::repofile::{self, CoprRepo};

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

/// Render a `.repo` file for a project and release (Copr's template, see
/// [`crate::repo::repofile`]); with `multilib_arch` an extra `:ml` section for that arch.
pub fn render_repo_file(
    hostname: &str,
    results_url: &str,
    p: &Project,
    release: &str,
    multilib_arch: Option<&str>,
) -> String {
    let main = CoprRepo {
        hostname,
        owner: &p.ownername,
        project: &p.name,
        results_url,
        release,
        module_hotfixes: p.settings.module_hotfixes,
        priority: p.settings.repo_priority,
    }
    .section();
    let mut sections = vec![main.clone()];
    if let Some(arch) = multilib_arch {
        let mut ml = main;
        ml.id.push_str(":ml");
        ml.name.push_str(&format!(" ({arch})"));
        ml.baseurl = ml.baseurl.replace("$basearch", arch);
        ml.cost = Some(1100);
        sections.push(ml);
    }
    repofile::render(&sections)
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
