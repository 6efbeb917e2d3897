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

/// Lists directories under `root` for [`listed_dir`].
#[derive(Debug, Clone)]
pub struct DirIndex {
    root: std::path::PathBuf,
}

impl<B> tower::Service<axum::http::Request<B>> for DirIndex {
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future =
        std::pin::Pin<Box<dyn Future<Output = Result<Response, std::convert::Infallible>> + Send>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: axum::http::Request<B>) -> Self::Future {
        let root = self.root.clone();
        let path = req.uri().path().to_string();
        // The path as the client sent it (with the `/results` prefix), for links and redirects.
        let shown = req
            .extensions()
            .get::<axum::extract::OriginalUri>()
            .map(|u| u.path().to_string())
            .unwrap_or_else(|| path.clone());
        Box::pin(async move { Ok(directory_index(&root, &path, &shown).await) })
    }
}

/// A static directory whose subdirectories are listed (an HTML index of links, as Copr's
/// backend web server shows them), which `copr-cli download-build` (wget -r) follows.
pub fn listed_dir(dir: &FsPath) -> ServeDir<DirIndex> {
    static_dir(dir).fallback(DirIndex {
        root: dir.to_path_buf(),
    })
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An HTML list of a directory's entries, or 404 for anything that is not a directory below
/// `root` (percent-decoded path; `..` and `.` components are refused). `shown` is the path the
/// client asked for, used in the title and redirects.
async fn directory_index(root: &FsPath, uri_path: &str, shown: &str) -> Response {
    let missing = || ApiError::NotFound("Not found.".into()).into_response();
    let decoded: String = url::form_urlencoded::parse(format!("p={uri_path}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    // `+` is not a space in a path.
    let decoded = if uri_path.contains('+') {
        uri_path.to_string()
    } else {
        decoded
    };
    let mut dir = root.to_path_buf();
    for part in decoded.split('/').filter(|p| !p.is_empty()) {
        if part == "." || part == ".." || part.contains('\\') {
            return missing();
        }
        dir.push(part);
    }
    if !uri_path.ends_with('/') {
        // Relative links only work below a trailing slash.
        return if tokio::fs::metadata(&dir).await.is_ok_and(|m| m.is_dir()) {
            (
                StatusCode::MOVED_PERMANENTLY,
                [(header::LOCATION, format!("{shown}/"))],
            )
                .into_response()
        } else {
            missing()
        };
    }
    let Ok(mut entries) = tokio::fs::read_dir(&dir).await else {
        return missing();
    };
    let mut names = Vec::new();
    while let Ok(Some(e)) = entries.next_entry().await {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let is_dir = e.file_type().await.is_ok_and(|t| t.is_dir());
        names.push(if is_dir { format!("{name}/") } else { name });
    }
    names.sort();
    let title = html_escape(shown);
    let mut body = format!(
        "<!DOCTYPE html>\n<html><head><title>Index of {title}</title></head><body>\n<h1>Index of {title}</h1>\n<pre>\n"
    );
    for n in names {
        let href: String = url::form_urlencoded::byte_serialize(n.trim_end_matches('/').as_bytes())
            .collect::<String>()
            .replace('+', "%20");
        let slash = if n.ends_with('/') { "/" } else { "" };
        body.push_str(&format!(
            "<a href=\"{href}{slash}\">{}</a>\n",
            html_escape(&n)
        ));
    }
    body.push_str("</pre>\n</body></html>\n");
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
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
