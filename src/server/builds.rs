//! API v3 builds and build chroots: submit (URL, upload, SCM, PyPI, RubyGems, custom, DistGit,
//! package rebuild), inspect, list, cancel, delete.

use axum::extract::{Multipart, Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tokio::io::AsyncWriteExt;

use super::api::{pagination, project_from, source_json_from};
use super::error::{ApiError, ApiResult};
use super::input::Input;
use super::model::*;
use super::{AppState, Json, names, render};

/// Default page size of build lists when the client sends no `limit`.
pub const DEFAULT_BUILD_PAGE: i64 = 100;
const DEFAULT_TIMEOUT: i64 = 18_000;
const MAX_TIMEOUT: i64 = 108_000;
const MEMORY_LIMIT: i64 = 2048;

struct Target {
    user: User,
    project: Project,
}

/// Authenticate, load the project named in the input, and check the build permission.
async fn build_target(st: &AppState, headers: &HeaderMap, input: &Input) -> ApiResult<Target> {
    let user = st.require_user(headers).await?;
    let owner = input.required("ownername")?;
    let name = input.required("projectname")?;
    let name = name.split(':').next().unwrap_or(&name).to_string();
    let project = project_from(st, &owner, &name).await?;
    if !st.can_build(&user, &project).await? {
        return Err(ApiError::Forbidden(format!(
            "You don't have permissions to build in this project: {}",
            project.full_name()
        )));
    }
    Ok(Target { user, project })
}

fn matches(pattern: &str, name: &str) -> ApiResult<bool> {
    let p = glob::Pattern::new(pattern)
        .map_err(|e| ApiError::BadRequest(format!("chroots: invalid pattern '{pattern}': {e}")))?;
    Ok(p.matches(name))
}

/// Resolve the build options of a request into a new build (nothing stored yet).
async fn plan(
    st: &AppState,
    t: &Target,
    input: &Input,
    source_type: &str,
    source_json: Value,
    package: Option<&Package>,
) -> ApiResult<NewBuild> {
    let p = &t.project;
    let dirname = input
        .str("project_dirname")
        .filter(|d| !d.is_empty())
        .or_else(|| input.str("projectname").filter(|n| n.contains(':')))
        .unwrap_or_else(|| p.name.clone());
    if !names::valid_dirname(&p.name, &dirname) {
        return Err(ApiError::BadRequest(format!(
            "project_dirname: '{dirname}' is not a directory of {} (use {}:custom:NAME or {}:pr:N)",
            p.full_name(),
            p.name,
            p.name
        )));
    }
    let enabled: Vec<String> = st.store.project_chroot_names(p.id).await?;
    let mut chroots: Vec<String> = match input.list("chroots").filter(|l| !l.is_empty()) {
        None => enabled.clone(),
        Some(patterns) => {
            let mut out: Vec<String> = Vec::new();
            for pat in patterns {
                let mut hit = false;
                for c in &enabled {
                    if matches(&pat, c)? {
                        hit = true;
                        if !out.contains(c) {
                            out.push(c.clone());
                        }
                    }
                }
                if !hit {
                    return Err(ApiError::BadRequest(format!(
                        "chroots: '{pat}' is not enabled in {} (enabled: {})",
                        p.full_name(),
                        enabled.join(", ")
                    )));
                }
            }
            out.sort();
            out
        }
    };
    let mut exclude = input.list("exclude_chroots").unwrap_or_default();
    if let Some(pkg) = package {
        exclude.extend(pkg.settings.chroot_denylist.iter().cloned());
    }
    for pat in &exclude {
        let mut keep = Vec::new();
        for c in chroots {
            if !matches(pat, &c)? {
                keep.push(c);
            }
        }
        chroots = keep;
    }
    if chroots.is_empty() {
        return Err(ApiError::BadRequest(
            "chroots: No chroots selected for this build.".into(),
        ));
    }
    let timeout = match input.i64("timeout")? {
        Some(t) => t,
        None => package
            .and_then(|pk| pk.settings.timeout)
            .unwrap_or(DEFAULT_TIMEOUT),
    };
    if !(0..=MAX_TIMEOUT).contains(&timeout) {
        return Err(ApiError::BadRequest(format!(
            "timeout: Number must be between 0 and {MAX_TIMEOUT}."
        )));
    }
    let keep = |v: Option<String>| v.filter(|s| s != "unchanged" && !s.is_empty());
    let mut options = BuildOptions {
        enable_net: input.bool("enable_net")?.unwrap_or(p.settings.enable_net),
        bootstrap: keep(input.str("bootstrap")),
        bootstrap_image: input.str("bootstrap_image"),
        isolation: keep(input.str("isolation")),
        source_chroot: None,
    };
    if let Some(b) = &options.bootstrap
        && !["default", "on", "off", "image", "custom_image"].contains(&b.as_str())
    {
        return Err(ApiError::BadRequest(format!(
            "bootstrap: '{b}' is not a valid choice"
        )));
    }
    if let Some(i) = &options.isolation
        && !["default", "simple", "nspawn"].contains(&i.as_str())
    {
        return Err(ApiError::BadRequest(format!(
            "isolation: '{i}' is not a valid choice"
        )));
    }
    if source_type == "custom" {
        options.source_chroot = source_json
            .get("chroot")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
    }
    let after = input.i64("after_build_id")?;
    let with = input.i64("with_build_id")?;
    let batch = match (after, with) {
        (Some(_), Some(_)) => {
            return Err(ApiError::BadRequest(
                "Use only one of after_build_id and with_build_id.".into(),
            ));
        }
        (Some(a), None) => BatchPlacement::After(a),
        (None, Some(w)) => BatchPlacement::With(w),
        (None, None) => BatchPlacement::None,
    };
    if let BatchPlacement::After(id) | BatchPlacement::With(id) = batch {
        let other = st
            .store
            .get_build(id)
            .await?
            .ok_or_else(|| ApiError::BadRequest(format!("Build {id} does not exist.")))?;
        if other.submitter != t.user.username && !st.can_edit(&t.user, &t.project).await? {
            return Err(ApiError::Forbidden(format!(
                "Only the submitter of build {id} can add builds to its batch."
            )));
        }
    }
    Ok(NewBuild {
        project_id: p.id,
        project_dirname: dirname,
        package_id: package.map(|pk| pk.id),
        package_name: package.map(|pk| pk.name.clone()),
        source_type: source_type.to_string(),
        source_json,
        submitter: t.user.username.clone(),
        is_background: input.bool("background")?.unwrap_or(false),
        timeout,
        options,
        chroots,
        batch,
    })
}

async fn create_one(st: &AppState, nb: NewBuild) -> ApiResult<Json> {
    let b = st.store.create_build(&nb).await?;
    st.dispatch.wake();
    Ok(axum::Json(render::build(st, &b)))
}

pub async fn check_before_build(
    State(st): State<AppState>,
    headers: HeaderMap,
    input: Input,
) -> ApiResult<Json> {
    let t = build_target(&st, &headers, &input).await?;
    plan(&st, &t, &input, "upload", json!({}), None).await?;
    Ok(axum::Json(json!({
        "message": "It should be safe to submit a build like this"
    })))
}

pub async fn create_url(
    State(st): State<AppState>,
    headers: HeaderMap,
    input: Input,
) -> ApiResult<Json> {
    let t = build_target(&st, &headers, &input).await?;
    let urls = input.list("pkgs").unwrap_or_default();
    if urls.is_empty() {
        return Err(ApiError::BadRequest("pkgs: This field is required.".into()));
    }
    let mut planned = Vec::new();
    for url in &urls {
        let parsed = url::Url::parse(url)
            .map_err(|_| ApiError::BadRequest(format!("pkgs: '{url}' is not a valid URL")))?;
        if !matches!(parsed.scheme(), "http" | "https" | "ftp") {
            return Err(ApiError::BadRequest(format!(
                "pkgs: '{url}' must be an http://, https:// or ftp:// URL"
            )));
        }
        planned.push(plan(&st, &t, &input, "link", json!({ "url": url }), None).await?);
    }
    let ids = st.store.insert_builds(&planned).await?;
    st.dispatch.wake();
    let mut items = Vec::new();
    for id in ids {
        if let Some(b) = st.store.get_build(id).await? {
            items.push(render::build(&st, &b));
        }
    }
    Ok(axum::Json(json!({"items": items, "meta": {}})))
}

fn random_dir_name() -> String {
    let t = super::accounts::random_token().to_ascii_lowercase();
    format!("tmp-{}", &t[..16])
}

/// Remove an upload directory; failures are logged (the directory is ours, under the data dir).
async fn discard(dir: &std::path::Path) {
    if let Err(e) = tokio::fs::remove_dir_all(dir).await
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!("cannot remove {}: {e}", dir.display());
    }
}

/// `POST /build/create/upload` (and `rpm-upload`): multipart `json` + `pkgs`. The file is
/// streamed to `<data>/uploads/<tmp>/<name>`, never beyond the configured limit; on any error
/// nothing is left behind.
pub async fn create_upload(
    State(st): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    mut mp: Multipart,
) -> ApiResult<Json> {
    let user = st.require_user(&headers).await?;
    let rpm_upload = uri.path().contains("rpm-upload");
    let limit = st.config.upload_limit;
    let dir = st.uploads_dir.join(random_dir_name());
    let result = receive_upload(&st, &dir, limit, rpm_upload, &mut mp).await;
    let (fields, file) = match result {
        Ok(v) => v,
        Err(e) => {
            discard(&dir).await;
            // Read what is left so the client sees the answer instead of a reset connection.
            while let Ok(Some(mut f)) = mp.next_field().await {
                while let Ok(Some(_)) = f.chunk().await {}
            }
            return Err(e);
        }
    };
    let outcome = async {
        let Some((name, path)) = file else {
            return Err(ApiError::BadRequest("pkgs: This field is required.".into()));
        };
        let input = Input {
            query: Map::new(),
            body: fields,
            files: Vec::new(),
        };
        let owner = input.required("ownername")?;
        let project = input.required("projectname")?;
        let p = project_from(&st, &owner, project.split(':').next().unwrap_or(&project)).await?;
        if !st.can_build(&user, &p).await? {
            return Err(ApiError::Forbidden(format!(
                "You don't have permissions to build in this project: {}",
                p.full_name()
            )));
        }
        let (pkg_name, pkg_version) = if name.ends_with(".rpm") {
            let path2 = path.clone();
            let meta = tokio::task::spawn_blocking(move || rpm::PackageMetadata::open(&path2))
                .await
                .map_err(ApiError::internal)?
                .map_err(|e| {
                    ApiError::BadRequest(format!("pkgs: '{name}' is not a valid RPM: {e}"))
                })?;
            let n = meta.get_name().map(str::to_string).ok();
            let v = match (meta.get_version(), meta.get_release()) {
                (Ok(v), Ok(r)) => Some(format!("{v}-{r}")),
                _ => None,
            };
            if !rpm_upload && !meta.is_source_package() {
                return Err(ApiError::BadRequest(format!(
                    "pkgs: '{name}' is a binary RPM; upload a source RPM (.src.rpm) or a .spec"
                )));
            }
            (n, v)
        } else {
            (None, None)
        };
        let t = Target {
            user: user.clone(),
            project: p,
        };
        let tmp = dir
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let source_json = json!({
            "url": format!("{}/tmp/{tmp}/{name}", st.public_url),
            "pkg": name,
            "tmp": tmp,
        });
        let source_type = if rpm_upload { "rpm_upload" } else { "upload" };
        let mut nb = plan(&st, &t, &input, source_type, source_json, None).await?;
        nb.package_name = pkg_name.clone();
        let b = st.store.create_build(&nb).await?;
        st.dispatch.wake();
        if pkg_name.is_some() {
            st.store
                .set_build_package(b.id, None, pkg_name.as_deref(), pkg_version.as_deref())
                .await?;
        }
        let b = st.store.get_build(b.id).await?.unwrap_or(b);
        Ok(axum::Json(render::build(&st, &b)))
    }
    .await;
    if outcome.is_err() {
        discard(&dir).await;
    }
    outcome
}

type Received = (Map<String, Value>, Option<(String, std::path::PathBuf)>);

async fn receive_upload(
    _st: &AppState,
    dir: &std::path::Path,
    limit: u64,
    rpm_upload: bool,
    mp: &mut Multipart,
) -> ApiResult<Received> {
    let mut fields = Map::new();
    let mut file = None;
    let bad = |e: axum::extract::multipart::MultipartError| {
        ApiError::BadRequest(format!("invalid multipart body: {e}"))
    };
    while let Some(mut field) = mp.next_field().await.map_err(bad)? {
        let fname = field.name().unwrap_or("").to_string();
        if fname == "json" {
            let data = field.bytes().await.map_err(bad)?;
            match serde_json::from_slice::<Value>(&data) {
                Ok(Value::Object(m)) => {
                    for (k, v) in m {
                        if !v.is_null() {
                            fields.insert(k, v);
                        }
                    }
                }
                _ => return Err(ApiError::BadRequest("json: not a JSON object".into())),
            }
            continue;
        }
        if fname != "pkgs" {
            // Unknown parts are read and ignored.
            while field.chunk().await.map_err(bad)?.is_some() {}
            continue;
        }
        if file.is_some() {
            return Err(ApiError::BadRequest(
                "pkgs: upload one file per request".into(),
            ));
        }
        let name = field.file_name().unwrap_or("").to_string();
        let name = name.rsplit('/').next().unwrap_or("").to_string();
        let allowed = if rpm_upload {
            name.ends_with(".rpm")
        } else {
            name.ends_with(".src.rpm") || name.ends_with(".spec")
        };
        if !names::valid_file_name(&name) || !allowed {
            return Err(ApiError::BadRequest(format!(
                "pkgs: invalid file name '{name}' (expected {})",
                if rpm_upload {
                    "NAME.rpm"
                } else {
                    "NAME.src.rpm or NAME.spec"
                }
            )));
        }
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(ApiError::internal)?;
        let path = dir.join(&name);
        let mut out = tokio::fs::File::create(&path)
            .await
            .map_err(ApiError::internal)?;
        let mut size: u64 = 0;
        while let Some(chunk) = field.chunk().await.map_err(bad)? {
            size += chunk.len() as u64;
            if size > limit {
                return Err(ApiError::TooLarge(format!(
                    "The uploaded file is larger than the limit of {limit} bytes."
                )));
            }
            out.write_all(&chunk).await.map_err(ApiError::internal)?;
        }
        out.sync_all().await.map_err(ApiError::internal)?;
        file = Some((name, path));
    }
    Ok((fields, file))
}

/// `POST /build/create/{scm,distgit,pypi,rubygems,custom}`.
pub async fn create_other(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(method): Path<String>,
    input: Input,
) -> ApiResult<Json> {
    if !["scm", "distgit", "pypi", "rubygems", "custom"].contains(&method.as_str()) {
        return Err(ApiError::NotFound("Such API endpoint doesn't exist".into()));
    }
    let t = build_target(&st, &headers, &input).await?;
    let source = source_json_from(&method, &input, None)?;
    let mut nb = plan(&st, &t, &input, &method, source, None).await?;
    if method == "distgit" {
        nb.package_name = input.str("package_name");
    }
    create_one(&st, nb).await
}

pub async fn package_build(
    State(st): State<AppState>,
    headers: HeaderMap,
    input: Input,
) -> ApiResult<Json> {
    let t = build_target(&st, &headers, &input).await?;
    let name = input.required("package_name")?;
    let pkg = st
        .store
        .get_package(t.project.id, &name)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "No package with name {name} in copr {}",
                t.project.full_name()
            ))
        })?;
    if pkg.source_type == "unset" {
        return Err(ApiError::BadRequest(format!(
            "Package {name} has no source set; edit it first."
        )));
    }
    let nb = plan(
        &st,
        &t,
        &input,
        &pkg.source_type,
        pkg.source_json.clone(),
        Some(&pkg),
    )
    .await?;
    create_one(&st, nb).await
}

fn parse_id(s: &str) -> ApiResult<i64> {
    s.parse()
        .map_err(|_| ApiError::NotFound(format!("Build {s} does not exist.")))
}

async fn load_build(st: &AppState, id: &str) -> ApiResult<Build> {
    let id = parse_id(id)?;
    st.store
        .get_build(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Build {id} does not exist.")))
}

pub async fn get_one(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let b = load_build(&st, &id).await?;
    Ok(axum::Json(render::build_out(&st, &b)).into_response())
}

pub async fn list(State(st): State<AppState>, input: Input) -> ApiResult<Response> {
    let owner = input.required("ownername")?;
    let name = input.required("projectname")?;
    let p = project_from(&st, &owner, &name).await?;
    let (page, meta) = pagination(
        &input,
        &[("id", "id"), ("submitted_on", "submitted_on")],
        Some(DEFAULT_BUILD_PAGE),
    )?;
    let state =
        match input.str("status").filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(super::model::State::from_name(&s).ok_or_else(|| {
                ApiError::BadRequest(format!("status: '{s}' is not a build state"))
            })?),
        };
    let package = input.str("packagename").filter(|s| !s.is_empty());
    let builds = st
        .store
        .list_build_summaries(p.id, package.as_deref(), state, &page)
        .await?;
    #[derive(serde::Serialize)]
    struct ListOut<'a> {
        items: Vec<render::BuildOut<'a>>,
        meta: Value,
    }
    let items = builds
        .iter()
        .map(|b| render::build_summary_out(&st, &p, b))
        .collect();
    Ok(axum::Json(ListOut { items, meta }).into_response())
}

pub async fn source_chroot(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json> {
    let b = load_build(&st, &id).await?;
    Ok(axum::Json(json!({
        "state": b.source_state.name(),
        "result_url": format!("{}/{}/{}/srpm-builds/{:08}/", st.results_url, b.ownername, b.project_dirname, b.id),
    })))
}

pub async fn source_build_config(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json> {
    let b = load_build(&st, &id).await?;
    Ok(axum::Json(json!({
        "source_type": b.source_type,
        "source_dict": render::source_dict(&b.source_json),
        "memory_limit": MEMORY_LIMIT,
        "timeout": b.timeout,
        "is_background": b.is_background,
    })))
}

/// Packages built in one chroot, from the `results.json` its builder uploaded.
fn chroot_packages(st: &AppState, b: &Build, chroot: &str) -> Value {
    let dir = match &b.package_name {
        Some(n) => format!("{:08}-{n}", b.id),
        None => format!("{:08}", b.id),
    };
    let path = st
        .results_dir
        .join(&b.ownername)
        .join(&b.project_dirname)
        .join(chroot)
        .join(dir)
        .join("results.json");
    fs_err::read(&path)
        .ok()
        .and_then(|d| serde_json::from_slice::<Value>(&d).ok())
        .and_then(|v| v.get("packages").cloned())
        .unwrap_or_else(|| json!([]))
}

pub async fn built_packages(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json> {
    let b = load_build(&st, &id).await?;
    let mut out = Map::new();
    for c in &b.chroots {
        out.insert(
            c.name.clone(),
            json!({"packages": chroot_packages(&st, &b, &c.name)}),
        );
    }
    Ok(axum::Json(Value::Object(out)))
}

async fn managed_build(st: &AppState, headers: &HeaderMap, id: &str) -> ApiResult<(User, Build)> {
    let user = st.require_user(headers).await?;
    let b = load_build(st, id).await?;
    let p = st
        .store
        .get_project_by_id(b.project_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Build {} does not exist.", b.id)))?;
    let own = b.submitter == user.username && st.can_build(&user, &p).await?;
    if !own && !st.can_edit(&user, &p).await? {
        return Err(ApiError::Forbidden(format!(
            "You are not allowed to modify build {} in {}.",
            b.id,
            p.full_name()
        )));
    }
    Ok((user, b))
}

pub async fn cancel(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    _input: Input,
) -> ApiResult<Json> {
    let (_user, b) = managed_build(&st, &headers, &id).await?;
    let b = st.store.cancel_build(b.id).await?;
    // A finished build may unblock the next batch.
    st.dispatch.wake();
    Ok(axum::Json(render::build(&st, &b)))
}

async fn delete_builds(
    st: &AppState,
    headers: &HeaderMap,
    ids: &[String],
) -> ApiResult<Vec<Build>> {
    let mut builds = Vec::new();
    for id in ids {
        let (_user, b) = managed_build(st, headers, id).await?;
        if !b.state.is_finished() {
            return Err(ApiError::BadRequest(format!(
                "Cannot delete build {}: it is {} (cancel it first).",
                b.id,
                b.state.name()
            )));
        }
        builds.push(b);
    }
    let ids: Vec<i64> = builds.iter().map(|b| b.id).collect();
    st.store.delete_builds(&ids).await?;
    for b in &builds {
        remove_build_results(st, b).await;
    }
    Ok(builds)
}

/// Remove a deleted build's result directories and uploaded source.
async fn remove_build_results(st: &AppState, b: &Build) {
    let base = st.results_dir.join(&b.ownername).join(&b.project_dirname);
    let suffix = match &b.package_name {
        Some(n) => format!("{:08}-{n}", b.id),
        None => format!("{:08}", b.id),
    };
    for c in &b.chroots {
        discard(&base.join(&c.name).join(&suffix)).await;
    }
    discard(&base.join("srpm-builds").join(format!("{:08}", b.id))).await;
    if let Some(dir) = upload_dir(st, &b.source_json) {
        discard(&dir).await;
    }
}

/// The directory under `<data>/uploads` an uploaded build's source lies in (its
/// `source_json.tmp`, checked to be one of ours).
fn upload_dir(st: &AppState, source_json: &Value) -> Option<std::path::PathBuf> {
    let tmp = source_json.get("tmp").and_then(Value::as_str)?;
    (tmp.starts_with("tmp-") && names::valid_file_name(tmp)).then(|| st.uploads_dir.join(tmp))
}

/// Remove the uploaded sources of a project's builds (when the project is deleted).
pub async fn remove_project_uploads(st: &AppState, sources: &[Value]) {
    for s in sources {
        if let Some(dir) = upload_dir(st, s) {
            discard(&dir).await;
        }
    }
}

pub async fn delete_one(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    _input: Input,
) -> ApiResult<Json> {
    let builds = delete_builds(&st, &headers, &[id]).await?;
    Ok(axum::Json(render::build(&st, &builds[0])))
}

pub async fn delete_list(
    State(st): State<AppState>,
    headers: HeaderMap,
    input: Input,
) -> ApiResult<Json> {
    let ids = input.list("builds").unwrap_or_default();
    if ids.is_empty() {
        return Err(ApiError::BadRequest(
            "builds: This field is required.".into(),
        ));
    }
    delete_builds(&st, &headers, &ids).await?;
    let ids: Vec<Value> = ids
        .iter()
        .map(|i| i.parse::<i64>().map(Value::from).unwrap_or(Value::Null))
        .collect();
    Ok(axum::Json(json!({ "builds": ids })))
}

// ----- build chroots -----

async fn input_build_chroot(st: &AppState, input: &Input) -> ApiResult<(Build, BuildChroot)> {
    let id = input.required("build_id")?;
    let b = load_build(st, &id).await?;
    let name = input.required("chrootname")?;
    let c = b
        .chroots
        .iter()
        .find(|c| c.name == name)
        .cloned()
        .ok_or_else(|| ApiError::NotFound(format!("Build {} has no chroot {name}.", b.id)))?;
    Ok((b, c))
}

pub async fn build_chroot_get(State(st): State<AppState>, input: Input) -> ApiResult<Json> {
    let (b, c) = input_build_chroot(&st, &input).await?;
    Ok(axum::Json(render::build_chroot(&st, &b, &c)))
}

pub async fn build_chroot_list(State(st): State<AppState>, input: Input) -> ApiResult<Json> {
    let id = input.required("build_id")?;
    let b = load_build(&st, &id).await?;
    let (page, meta) = pagination(&input, &[("id", "id"), ("name", "name")], None)?;
    let mut chroots = b.chroots.clone();
    if page.desc {
        chroots.reverse();
    }
    let items: Vec<Value> = chroots
        .iter()
        .skip(page.offset as usize)
        .take(page.limit.unwrap_or(i64::MAX) as usize)
        .map(|c| render::build_chroot(&st, &b, c))
        .collect();
    Ok(axum::Json(json!({"items": items, "meta": meta})))
}

pub async fn build_chroot_config(State(st): State<AppState>, input: Input) -> ApiResult<Json> {
    let (b, c) = input_build_chroot(&st, &input).await?;
    let p = st
        .store
        .get_project_by_id(b.project_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Build {} does not exist.", b.id)))?;
    let pc = st
        .store
        .project_chroots(p.id)
        .await?
        .into_iter()
        .find(|x| x.mock_chroot == c.name)
        .unwrap_or(ProjectChroot {
            project_id: p.id,
            mock_chroot: c.name.clone(),
            settings: ChrootSettings::default(),
        });
    let mut additional = p.settings.additional_repos.clone();
    additional.extend(pc.settings.additional_repos.iter().cloned());
    let mut v = json!({
        "repos": super::api::chroot_repos(&st, &p, &pc),
        "additional_repos": additional,
        "additional_packages": pc.settings.additional_packages,
        "with_opts": pc.settings.with_opts,
        "without_opts": pc.settings.without_opts,
        "memory_limit": MEMORY_LIMIT,
        "timeout": b.timeout,
        "enable_net": b.options.enable_net,
        "is_background": b.is_background,
        "bootstrap": b.options.bootstrap.clone().or(pc.settings.bootstrap.clone()).or(p.settings.bootstrap.clone()),
        "bootstrap_image": b.options.bootstrap_image.clone().or(pc.settings.bootstrap_image.clone()).or(p.settings.bootstrap_image.clone()),
    });
    if let Value::Object(m) = &mut v {
        m.retain(|_, x| !x.is_null());
    }
    Ok(axum::Json(v))
}

pub async fn build_chroot_built_packages(
    State(st): State<AppState>,
    input: Input,
) -> ApiResult<Json> {
    let (b, c) = input_build_chroot(&st, &input).await?;
    Ok(axum::Json(
        json!({"packages": chroot_packages(&st, &b, &c.name)}),
    ))
}
