//! API v3: general, projects, permissions, packages, project chroots, mock chroots, monitor.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde_json::{Map, Value, json};

use super::error::{ApiError, ApiResult};
use super::input::{Input, parse_bool};
use super::model::*;
use super::store::Page;
use super::{AppState, Json, accounts, keys, names, no_project, render};

/// Largest list answered without pagination (as upstream: more → 413).
const MAX_UNPAGINATED: i64 = 10_000;

/// Parse `limit, offset, order, order_type`; `allowed` maps API order names to columns.
pub fn pagination(
    input: &Input,
    allowed: &[(&str, &'static str)],
    default_limit: Option<i64>,
) -> ApiResult<(Page, Value)> {
    let limit = match input.i64("limit")? {
        Some(l) if l < 0 => return Err(ApiError::BadRequest("limit: must be positive".into())),
        Some(l) => Some(l),
        None => default_limit,
    };
    let offset = input.i64("offset")?.unwrap_or(0);
    if offset < 0 {
        return Err(ApiError::BadRequest("offset: must be positive".into()));
    }
    let order_name = input.str("order").unwrap_or_else(|| "id".into());
    let order = allowed
        .iter()
        .find(|(n, _)| *n == order_name)
        .map(|(_, c)| *c)
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "order: cannot order by '{order_name}'; use one of {}",
                allowed
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
    let order_type = input
        .str("order_type")
        .unwrap_or_else(|| "ASC".into())
        .to_ascii_uppercase();
    let desc = match order_type.as_str() {
        "ASC" => false,
        "DESC" => true,
        other => {
            return Err(ApiError::BadRequest(format!(
                "order_type: must be ASC or DESC, not '{other}'"
            )));
        }
    };
    let meta =
        json!({"limit": limit, "offset": offset, "order": order_name, "order_type": order_type});
    Ok((
        Page {
            limit,
            offset,
            order,
            desc,
        },
        meta,
    ))
}

fn list_response(items: Vec<Value>, meta: Value) -> Json {
    axum::Json(json!({"items": items, "meta": meta}))
}

/// Load a project named in the input (`ownername`, `projectname`) or 404.
pub async fn project_from(st: &AppState, owner: &str, name: &str) -> ApiResult<Project> {
    st.store
        .get_project(owner, name)
        .await?
        .ok_or_else(|| no_project(owner, name))
}

async fn input_project(st: &AppState, input: &Input) -> ApiResult<Project> {
    let owner = input.required("ownername")?;
    let name = input.required("projectname")?;
    // `project:custom:x` names a directory of the project.
    let name = name.split(':').next().unwrap_or(&name).to_string();
    project_from(st, &owner, &name).await
}

pub async fn project_json(st: &AppState, p: &Project) -> ApiResult<Value> {
    let chroots = st.store.project_chroots(p.id).await?;
    Ok(render::project(st, p, &chroots))
}

fn forbidden_edit(p: &Project) -> ApiError {
    ApiError::Forbidden(format!(
        "Only owners and admins may update their projects, you are not allowed to modify {}.",
        p.full_name()
    ))
}

// ----- general -----

pub async fn root() -> Json {
    axum::Json(json!({"version": 3}))
}

pub async fn auth_check(State(st): State<AppState>, headers: HeaderMap) -> ApiResult<Json> {
    let user = st.require_user(&headers).await?;
    Ok(axum::Json(json!({"id": user.id, "name": user.username})))
}

pub async fn api_token(State(st): State<AppState>, headers: HeaderMap) -> ApiResult<Json> {
    let user = st.require_user(&headers).await?;
    let creds = accounts::renew_token(&st.store, user.id, st.config.token_lifetime_days).await?;
    Ok(axum::Json(json!({
        "api_login": creds.login,
        "api_token": creds.token,
        "expiration": creds.expiration,
    })))
}

// ----- projects -----

pub async fn project_get(State(st): State<AppState>, input: Input) -> ApiResult<Json> {
    let p = input_project(&st, &input).await?;
    Ok(axum::Json(project_json(&st, &p).await?))
}

const PROJECT_ORDERS: &[(&str, &str)] =
    &[("id", "id"), ("name", "name"), ("ownername", "ownername")];

async fn projects_list(
    st: &AppState,
    owner: Option<&str>,
    query: Option<&str>,
    input: &Input,
) -> ApiResult<Json> {
    let (mut page, meta) = pagination(input, PROJECT_ORDERS, None)?;
    let unpaginated = page.limit.is_none();
    if unpaginated {
        page.limit = Some(MAX_UNPAGINATED + 1);
    }
    let projects = st.store.list_projects(owner, query, &page).await?;
    if unpaginated && projects.len() as i64 > MAX_UNPAGINATED {
        return Err(ApiError::TooLarge(
            "Too many projects to list at once; use limit and offset.".into(),
        ));
    }
    let mut items = Vec::with_capacity(projects.len());
    for p in &projects {
        items.push(project_json(st, p).await?);
    }
    Ok(list_response(items, meta))
}

pub async fn project_list(State(st): State<AppState>, input: Input) -> ApiResult<Json> {
    let owner = input.str("ownername").filter(|s| !s.is_empty());
    projects_list(&st, owner.as_deref(), None, &input).await
}

pub async fn project_search(State(st): State<AppState>, input: Input) -> ApiResult<Json> {
    let query = input.required("query")?;
    projects_list(&st, None, Some(&query), &input).await
}

/// The offered chroots matching `names` exactly; 400 naming the first unknown one.
fn check_chroots(st: &AppState, names: &[String]) -> ApiResult<Vec<String>> {
    let mut out = Vec::new();
    for n in names {
        if !st.config.chroots.contains(n) {
            return Err(ApiError::BadRequest(format!(
                "chroots: '{n}' is not a valid choice for this field (see /api_3/mock-chroots/list)"
            )));
        }
        if !out.contains(n) {
            out.push(n.clone());
        }
    }
    Ok(out)
}

fn one_of(key: &str, v: Option<String>, allowed: &[&str]) -> ApiResult<Option<String>> {
    match v {
        None => Ok(None),
        Some(s) if allowed.contains(&s.as_str()) => Ok(Some(s)),
        Some(s) => Err(ApiError::BadRequest(format!(
            "{key}: '{s}' is not a valid choice (use one of {})",
            allowed.join(", ")
        ))),
    }
}

/// Apply the project fields present in `input` to `s`. `repos_key` is `additional_repos` on
/// add and `repos` on edit.
fn apply_project_fields(s: &mut ProjectSettings, input: &Input, repos_key: &str) -> ApiResult<()> {
    for (key, slot) in [
        ("description", &mut s.description),
        ("instructions", &mut s.instructions),
        ("homepage", &mut s.homepage),
        ("contact", &mut s.contact),
    ] {
        if let Some(v) = input.str(key) {
            *slot = Some(v);
        }
    }
    for (key, slot) in [
        ("devel_mode", &mut s.devel_mode),
        ("unlisted_on_hp", &mut s.unlisted_on_hp),
        ("auto_prune", &mut s.auto_prune),
        ("enable_net", &mut s.enable_net),
        ("module_hotfixes", &mut s.module_hotfixes),
        ("appstream", &mut s.appstream),
        ("follow_fedora_branching", &mut s.follow_fedora_branching),
        ("multilib", &mut s.multilib),
        ("fedora_review", &mut s.fedora_review),
    ] {
        if let Some(b) = input.bool(key)? {
            *slot = b;
        }
    }
    if let Some(r) = input.list(repos_key) {
        s.additional_repos = r;
    }
    if let Some(r) = input.list("runtime_dependencies") {
        s.runtime_dependencies = r;
    }
    if let Some(r) = input.list("packit_forge_projects_allowed") {
        s.packit_forge_projects_allowed = r;
    }
    if let Some(b) = one_of(
        "bootstrap",
        input.str("bootstrap"),
        &["default", "on", "off", "image", "unchanged"],
    )? && b != "unchanged"
    {
        s.bootstrap = Some(b);
    }
    if let Some(img) = input.str("bootstrap_image") {
        s.bootstrap_image = Some(img);
        s.bootstrap = Some("image".into());
    }
    if let Some(i) = one_of(
        "isolation",
        input.str("isolation"),
        &["default", "simple", "nspawn", "unchanged"],
    )? && i != "unchanged"
    {
        s.isolation = Some(i);
    }
    if let Some(d) = input.i64("delete_after_days")? {
        if !(-1..=720).contains(&d) {
            return Err(ApiError::BadRequest(
                "delete_after_days: Number must be between -1 and 720.".into(),
            ));
        }
        s.delete_after_days = if d == -1 { None } else { Some(d) };
    }
    if input.has("repo_priority") {
        s.repo_priority = input.i64("repo_priority")?;
    }
    if let Some(st) = one_of("storage", input.str("storage"), &["backend", "pulp"])? {
        s.storage = Some(st);
    }
    Ok(())
}

async fn create_key(st: &AppState, owner: &str, project: &str) -> ApiResult<()> {
    let keys_dir = st.keys_dir.clone();
    let results_dir = st.results_dir.clone();
    let (owner, project) = (owner.to_string(), project.to_string());
    tokio::task::spawn_blocking(move || {
        keys::ensure_project_key(&keys_dir, &results_dir, &owner, &project)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)
}

/// Check that `user` may own projects as `owner`; returns the group id for `@group` owners.
async fn owner_for(st: &AppState, user: &User, owner: &str) -> ApiResult<Option<i64>> {
    if !names::valid_owner(owner) {
        return Err(ApiError::BadRequest(format!(
            "Invalid owner name '{owner}'."
        )));
    }
    match owner.strip_prefix('@') {
        Some(group) => {
            let gid = st
                .store
                .group_id(group)
                .await?
                .ok_or_else(|| ApiError::NotFound(format!("Group {group} does not exist.")))?;
            if !user.admin && !st.store.is_member(gid, user.id).await? {
                return Err(ApiError::Forbidden(format!(
                    "You are not a member of the group {group}."
                )));
            }
            Ok(Some(gid))
        }
        None => {
            if owner != user.username && !user.admin {
                return Err(ApiError::Forbidden(format!(
                    "You cannot create projects for the user {owner}."
                )));
            }
            if owner != user.username && st.store.user_by_name(owner).await?.is_none() {
                return Err(ApiError::NotFound(format!("User {owner} does not exist.")));
            }
            Ok(None)
        }
    }
}

pub async fn project_add(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(owner): Path<String>,
    input: Input,
) -> ApiResult<Json> {
    let user = st.require_user(&headers).await?;
    let group_id = owner_for(&st, &user, &owner).await?;
    let name = input.required("name")?;
    if let Some(e) = names::project_name_error(&name) {
        return Err(ApiError::BadRequest(e));
    }
    if let Some(existing) = st.store.get_project(&owner, &name).await? {
        if input.bool("exist_ok")?.unwrap_or(false) {
            return Ok(axum::Json(project_json(&st, &existing).await?));
        }
        return Err(ApiError::Conflict(format!(
            "name: You already have a project named '{name}'."
        )));
    }
    let chroots = input.list("chroots").unwrap_or_default();
    if chroots.is_empty() {
        return Err(ApiError::BadRequest(
            "chroots: At least one chroot must be selected".into(),
        ));
    }
    let chroots = check_chroots(&st, &chroots)?;
    let mut settings = ProjectSettings::default();
    apply_project_fields(&mut settings, &input, "additional_repos")?;
    if let Some(b) = input.bool("persistent")? {
        if b && !user.admin {
            return Err(ApiError::Forbidden(
                "persistent: Only admins may create persistent projects.".into(),
            ));
        }
        settings.persistent = b;
    }
    let project = st
        .store
        .create_project(&owner, &name, user.id, group_id, &settings, &chroots)
        .await?;
    if let Err(e) = create_key(&st, &owner, &name).await {
        st.store.delete_project(project.id).await?;
        return Err(e);
    }
    Ok(axum::Json(project_json(&st, &project).await?))
}

async fn editable_project(
    st: &AppState,
    headers: &HeaderMap,
    owner: &str,
    name: &str,
) -> ApiResult<(User, Project)> {
    let user = st.require_user(headers).await?;
    let p = project_from(st, owner, name).await?;
    if !st.can_edit(&user, &p).await? {
        return Err(forbidden_edit(&p));
    }
    Ok((user, p))
}

pub async fn project_edit(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path((owner, name)): Path<(String, String)>,
    input: Input,
) -> ApiResult<Json> {
    let (_user, p) = editable_project(&st, &headers, &owner, &name).await?;
    let mut settings = p.settings.clone();
    apply_project_fields(&mut settings, &input, "repos")?;
    if let Some(chroots) = input.list("chroots") {
        if chroots.is_empty() {
            return Err(ApiError::BadRequest(
                "chroots: At least one chroot must be selected".into(),
            ));
        }
        let chroots = check_chroots(&st, &chroots)?;
        st.store.set_project_chroots(p.id, &chroots).await?;
    }
    st.store.update_project_settings(p.id, &settings).await?;
    let p = project_from(&st, &owner, &name).await?;
    Ok(axum::Json(project_json(&st, &p).await?))
}

pub async fn project_delete(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path((owner, name)): Path<(String, String)>,
    _input: Input,
) -> ApiResult<Json> {
    let (_user, p) = editable_project(&st, &headers, &owner, &name).await?;
    if p.settings.persistent {
        return Err(ApiError::Forbidden(format!(
            "Project {} is persistent and cannot be deleted.",
            p.full_name()
        )));
    }
    let body = project_json(&st, &p).await?;
    let uploads = st.store.project_upload_sources(p.id).await?;
    st.store.delete_project(p.id).await?;
    super::builds::remove_project_uploads(&st, &uploads).await;
    for dir in [
        st.results_dir.join(&p.ownername).join(&p.name),
        st.keys_dir.join(&p.ownername).join(&p.name),
    ] {
        if dir.exists()
            && let Err(e) = fs_err::remove_dir_all(&dir)
        {
            tracing::warn!("cannot remove {}: {e}", dir.display());
        }
    }
    Ok(axum::Json(body))
}

pub async fn project_fork(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path((owner, name)): Path<(String, String)>,
    input: Input,
) -> ApiResult<Json> {
    let user = st.require_user(&headers).await?;
    let src = project_from(&st, &owner, &name).await?;
    // The query string names the source (`ownername`); the body names the destination.
    let dst_owner = input
        .body
        .get("ownername")
        .and_then(Value::as_str)
        .filter(|o| !o.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| user.username.clone());
    let dst_name = input.required("name")?;
    if let Some(e) = names::project_name_error(&dst_name) {
        return Err(ApiError::BadRequest(e));
    }
    if dst_owner == src.ownername && dst_name == src.name {
        return Err(ApiError::BadRequest(
            "name: A project cannot be forked into itself.".into(),
        ));
    }
    let group_id = owner_for(&st, &user, &dst_owner).await?;
    let confirm = input.bool("confirm")?.unwrap_or(false);
    let chroots = st.store.project_chroots(src.id).await?;
    let dst = match st.store.get_project(&dst_owner, &dst_name).await? {
        Some(existing) => {
            if !confirm {
                return Err(ApiError::BadRequest(format!(
                    "You are about to fork into existing project: {}\nPlease use --confirm if you really want to do this",
                    existing.full_name()
                )));
            }
            if !st.can_edit(&user, &existing).await? {
                return Err(forbidden_edit(&existing));
            }
            existing
        }
        None => {
            let mut settings = src.settings.clone();
            settings.persistent = false;
            settings.auto_prune = true;
            let names: Vec<String> = chroots.iter().map(|c| c.mock_chroot.clone()).collect();
            let p = st
                .store
                .create_project(&dst_owner, &dst_name, user.id, group_id, &settings, &names)
                .await?;
            for c in &chroots {
                let mut copy = c.clone();
                copy.project_id = p.id;
                st.store.update_project_chroot(&copy, None).await?;
            }
            if let Err(e) = create_key(&st, &dst_owner, &dst_name).await {
                st.store.delete_project(p.id).await?;
                return Err(e);
            }
            p
        }
    };
    // Packages, and the latest successful build of each (state `forked`).
    let all = Page {
        limit: None,
        offset: 0,
        order: "id",
        desc: false,
    };
    for pkg in st.store.list_packages(src.id, &all).await? {
        let new_pkg = match st.store.get_package(dst.id, &pkg.name).await? {
            Some(p) => p,
            None => {
                st.store
                    .create_package(
                        dst.id,
                        &pkg.name,
                        &pkg.source_type,
                        &pkg.source_json,
                        &pkg.settings,
                    )
                    .await?
            }
        };
        if let Some(b) = st.store.latest_package_build(pkg.id, true).await? {
            let id = st.store.fork_build(&b, dst.id, &dst.name).await?;
            st.store
                .set_build_package(id, Some(new_pkg.id), None, None)
                .await?;
            copy_build_results(&st, &b, &dst, id);
        }
    }
    Ok(axum::Json(project_json(&st, &dst).await?))
}

/// Copy a build's result directories into a forked project under the new build id.
fn copy_build_results(st: &AppState, b: &Build, dst: &Project, new_id: i64) {
    let pkg = b.package_name.clone().unwrap_or_default();
    for c in &b.chroots {
        let from = st
            .results_dir
            .join(&b.ownername)
            .join(&b.project_dirname)
            .join(&c.name)
            .join(format!("{:08}-{pkg}", b.id));
        let to = st
            .results_dir
            .join(&dst.ownername)
            .join(&dst.name)
            .join(&c.name)
            .join(format!("{new_id:08}-{pkg}"));
        if !from.is_dir() {
            continue;
        }
        for entry in walkdir::WalkDir::new(&from).into_iter().flatten() {
            let Ok(rel) = entry.path().strip_prefix(&from) else {
                continue;
            };
            let target = to.join(rel);
            let r = if entry.file_type().is_dir() {
                fs_err::create_dir_all(&target)
            } else {
                fs_err::copy(entry.path(), &target).map(|_| ())
            };
            if let Err(e) = r {
                tracing::warn!("fork: {e}");
            }
        }
    }
}

pub async fn project_regenerate(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path((owner, name)): Path<(String, String)>,
    _input: Input,
) -> ApiResult<Json> {
    let (_user, p) = editable_project(&st, &headers, &owner, &name).await?;
    create_key(&st, &p.ownername, &p.name).await?;
    // Like Copr, the regeneration runs in the background; it is queued before answering.
    super::publish::regenerate_project(&st, &p).await?;
    Ok(axum::Json(project_json(&st, &p).await?))
}

// ----- permissions -----

pub async fn perm_can_build_in(
    State(st): State<AppState>,
    Path((who, owner, name)): Path<(String, String, String)>,
) -> ApiResult<Json> {
    let p = project_from(&st, &owner, &name).await?;
    let user = st
        .store
        .user_by_name(&who)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("User {who} does not exist.")))?;
    let can = st.can_build(&user, &p).await?;
    Ok(axum::Json(json!({
        "who": who, "ownername": owner, "projectname": name, "can_build_in": can,
    })))
}

pub async fn perm_get(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path((owner, name)): Path<(String, String)>,
) -> ApiResult<Json> {
    let (_user, p) = editable_project(&st, &headers, &owner, &name).await?;
    let perms = st.store.permissions(p.id).await?;
    if perms.is_empty() {
        return Err(ApiError::NotFound(format!(
            "No permissions set on {} project",
            p.full_name()
        )));
    }
    let mut out = Map::new();
    for pm in perms {
        out.insert(
            pm.username,
            json!({"admin": pm.admin, "builder": pm.builder}),
        );
    }
    Ok(axum::Json(json!({ "permissions": out })))
}

fn perm_state(user: &str, role: &str, v: &Value) -> ApiResult<String> {
    let s = v.as_str().unwrap_or("");
    if PERM_STATES.contains(&s) {
        Ok(s.to_string())
    } else {
        Err(ApiError::BadRequest(format!(
            "Invalid permission state '{s}' of {role} for {user} (use nothing, request or approved)"
        )))
    }
}

pub async fn perm_set(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path((owner, name)): Path<(String, String)>,
    input: Input,
) -> ApiResult<Json> {
    let (_user, p) = editable_project(&st, &headers, &owner, &name).await?;
    let mut changes = Vec::new();
    let mut updated = Vec::new();
    for (username, roles) in &input.body {
        let Value::Object(roles) = roles else {
            return Err(ApiError::BadRequest(format!(
                "Permissions of {username} must be an object {{role: state}}"
            )));
        };
        let u = st
            .store
            .user_by_name(username)
            .await?
            .ok_or_else(|| ApiError::BadRequest(format!("User '{username}' doesn't exist")))?;
        let mut builder = None;
        let mut admin = None;
        for (role, v) in roles {
            match role.as_str() {
                "builder" => builder = Some(perm_state(username, role, v)?),
                "admin" => admin = Some(perm_state(username, role, v)?),
                other => {
                    return Err(ApiError::BadRequest(format!(
                        "Unknown permission '{other}' (use builder or admin)"
                    )));
                }
            }
        }
        changes.push((u.id, builder, admin));
        updated.push(username.clone());
    }
    st.store.set_permissions(p.id, &changes).await?;
    Ok(axum::Json(json!({ "updated": updated })))
}

pub async fn perm_request(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path((owner, name)): Path<(String, String)>,
    input: Input,
) -> ApiResult<Json> {
    let user = st.require_user(&headers).await?;
    let p = project_from(&st, &owner, &name).await?;
    if p.group_id.is_none() && p.ownername == user.username {
        return Err(ApiError::BadRequest(
            "You are the owner of this project and have all permissions.".into(),
        ));
    }
    let current = st.store.permission(p.id, user.id).await?;
    let mut change = (user.id, None, None);
    for (role, slot) in [("builder", &mut change.1), ("admin", &mut change.2)] {
        if let Some(v) = input.body.get(role) {
            let want = parse_bool(role, v)?.unwrap_or(false);
            let now_state = current
                .as_ref()
                .map(|(b, a)| {
                    if role == "builder" {
                        b.clone()
                    } else {
                        a.clone()
                    }
                })
                .unwrap_or_else(|| "nothing".into());
            *slot = Some(if want {
                if now_state == "approved" {
                    now_state
                } else {
                    "request".into()
                }
            } else {
                "nothing".into()
            });
        }
    }
    let updated = change.1.is_some() || change.2.is_some();
    if updated {
        st.store.set_permissions(p.id, &[change]).await?;
    }
    Ok(axum::Json(json!({ "updated": updated })))
}

// ----- packages -----

const SOURCE_TYPES: &[&str] = &["scm", "pypi", "rubygems", "custom", "distgit"];

pub fn check_clone_url(url: &str) -> ApiResult<()> {
    let ok = [
        "https://",
        "http://",
        "git://",
        "ssh://",
        "svn://",
        "svn+ssh://",
    ]
    .iter()
    .any(|p| url.starts_with(p))
        || (url.contains('@') && url.contains(':') && !url.starts_with('/'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!(
            "clone_url: '{url}' is not a remote repository URL (https://, git://, ssh:// …)"
        )))
    }
}

/// Build a `source_json` for a source type from request fields. Package forms name the custom
/// fields `script_chroot` etc.; build forms `chroot`.
pub fn source_json_from(
    source_type: &str,
    input: &Input,
    base: Option<&Value>,
) -> ApiResult<Value> {
    let mut m: Map<String, Value> = base.and_then(Value::as_object).cloned().unwrap_or_default();
    let mut set = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            m.insert(k.to_string(), v);
        }
    };
    let s = |k: &str| input.str(k).map(Value::String);
    match source_type {
        "scm" => {
            if let Some(u) = input.str("clone_url") {
                check_clone_url(&u)?;
            }
            set("clone_url", s("clone_url"));
            set("committish", s("committish"));
            set("subdirectory", s("subdirectory"));
            set("spec", s("spec"));
            set("type", s("scm_type"));
            set(
                "srpm_build_method",
                one_of(
                    "source_build_method",
                    input.str("source_build_method"),
                    &["rpkg", "tito", "tito_test", "make_srpm"],
                )?
                .map(Value::String),
            );
            m.entry("type").or_insert_with(|| json!("git"));
            m.entry("srpm_build_method")
                .or_insert_with(|| json!("rpkg"));
            for k in ["committish", "subdirectory", "spec"] {
                m.entry(k).or_insert_with(|| json!(""));
            }
            one_of(
                "scm_type",
                m.get("type").and_then(Value::as_str).map(str::to_string),
                &["git", "svn"],
            )?;
            require_text(&m, "clone_url")?;
        }
        "pypi" => {
            set("pypi_package_name", s("pypi_package_name"));
            set("pypi_package_version", s("pypi_package_version"));
            set("spec_generator", s("spec_generator"));
            set("spec_template", s("spec_template"));
            if let Some(v) = input.get("python_versions") {
                let list: Vec<String> = match v {
                    Value::Array(a) => a
                        .iter()
                        .map(|x| x.to_string().trim_matches('"').to_string())
                        .collect(),
                    other => other
                        .to_string()
                        .trim_matches('"')
                        .split_whitespace()
                        .map(str::to_string)
                        .collect(),
                };
                set("python_versions", Some(json!(list)));
            }
            m.entry("spec_generator")
                .or_insert_with(|| json!("pyp2spec"));
            require_text(&m, "pypi_package_name")?;
        }
        "rubygems" => {
            set("gem_name", s("gem_name"));
            require_text(&m, "gem_name")?;
        }
        "custom" => {
            for field in ["script", "chroot", "builddeps", "resultdir", "repos"] {
                let key = format!("script_{field}");
                let key = if input.get(&key).is_some() {
                    &key
                } else {
                    field
                };
                // builddeps and repos are lists (copr-cli sends JSON arrays); Copr keeps them
                // space-separated in source_json.
                let v = if matches!(field, "builddeps" | "repos") {
                    input.list(key).map(|l| l.join(" "))
                } else {
                    input.str(key)
                };
                set(field, v.map(Value::String));
            }
            require_text(&m, "script")?;
            if let Some(c) = m.get("chroot").and_then(Value::as_str)
                && !c.is_empty()
                && !names::valid_chroot(c)
            {
                return Err(ApiError::BadRequest(format!(
                    "chroot: invalid chroot '{c}'"
                )));
            }
        }
        "distgit" => {
            set("clone_url", s("clone_url"));
            set("distgit", s("distgit"));
            set("namespace", s("namespace"));
            set("committish", s("committish"));
            set("package_name", s("package_name"));
        }
        other => {
            return Err(ApiError::BadRequest(format!(
                "Unsupported source type '{other}' (use one of {})",
                SOURCE_TYPES.join(", ")
            )));
        }
    }
    Ok(Value::Object(m))
}

fn apply_package_settings(s: &mut PackageSettings, input: &Input) -> ApiResult<()> {
    if input.has("max_builds") {
        s.max_builds = input.i64("max_builds")?.filter(|n| *n > 0);
    }
    if input.has("timeout") {
        s.timeout = input.i64("timeout")?;
    }
    if let Some(d) = input.list_with("chroot_denylist", true) {
        s.chroot_denylist = d;
    }
    if let Some(b) = input.bool("webhook_rebuild")? {
        s.webhook_rebuild = b;
    }
    Ok(())
}

async fn package_json(
    st: &AppState,
    p: &Project,
    pkg: &Package,
    input: &Input,
) -> ApiResult<Value> {
    let latest = if input.bool("with_latest_build")?.unwrap_or(false) {
        st.store.latest_package_build(pkg.id, false).await?
    } else {
        None
    };
    let succeeded = if input.bool("with_latest_succeeded_build")?.unwrap_or(false) {
        st.store.latest_package_build(pkg.id, true).await?
    } else {
        None
    };
    Ok(render::package(
        st,
        p,
        pkg,
        latest.as_ref(),
        succeeded.as_ref(),
    ))
}

async fn buildable_project(
    st: &AppState,
    headers: &HeaderMap,
    owner: &str,
    name: &str,
) -> ApiResult<(User, Project)> {
    let user = st.require_user(headers).await?;
    let p = project_from(st, owner, name).await?;
    if !st.can_build(&user, &p).await? {
        return Err(ApiError::Forbidden(format!(
            "You don't have permissions to build in this project: {}",
            p.full_name()
        )));
    }
    Ok((user, p))
}

pub async fn package_get(State(st): State<AppState>, input: Input) -> ApiResult<Json> {
    let p = input_project(&st, &input).await?;
    let name = input.required("packagename")?;
    let pkg = st.store.get_package(p.id, &name).await?.ok_or_else(|| {
        ApiError::NotFound(format!(
            "No package with name {name} in copr {}",
            p.full_name()
        ))
    })?;
    Ok(axum::Json(package_json(&st, &p, &pkg, &input).await?))
}

pub async fn package_list(State(st): State<AppState>, input: Input) -> ApiResult<Json> {
    let p = input_project(&st, &input).await?;
    let (mut page, meta) = pagination(&input, &[("id", "id"), ("name", "name")], None)?;
    let unpaginated = page.limit.is_none();
    if unpaginated {
        page.limit = Some(MAX_UNPAGINATED + 1);
    }
    let pkgs = st.store.list_packages(p.id, &page).await?;
    if unpaginated && pkgs.len() as i64 > MAX_UNPAGINATED {
        return Err(ApiError::TooLarge(
            "Too many packages to list at once; use limit and offset.".into(),
        ));
    }
    let mut items = Vec::with_capacity(pkgs.len());
    for pkg in &pkgs {
        items.push(package_json(&st, &p, pkg, &input).await?);
    }
    Ok(list_response(items, meta))
}

pub async fn package_add(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path((owner, name, pkg_name, source_type)): Path<(String, String, String, String)>,
    input: Input,
) -> ApiResult<Json> {
    let (_user, p) = buildable_project(&st, &headers, &owner, &name).await?;
    let pkg_name = input.str("package_name").unwrap_or(pkg_name);
    if !names::valid_package(&pkg_name) {
        return Err(ApiError::BadRequest(format!(
            "package_name: invalid package name '{pkg_name}'"
        )));
    }
    let source = source_json_from(&source_type, &input, None)?;
    let mut settings = PackageSettings::default();
    apply_package_settings(&mut settings, &input)?;
    let pkg = st
        .store
        .create_package(p.id, &pkg_name, &source_type, &source, &settings)
        .await?;
    Ok(axum::Json(render::package(&st, &p, &pkg, None, None)))
}

async fn edit_package(
    st: &AppState,
    headers: &HeaderMap,
    owner: &str,
    name: &str,
    pkg_name: &str,
    source_type: Option<String>,
    input: &Input,
) -> ApiResult<Json> {
    let (_user, p) = buildable_project(st, headers, owner, name).await?;
    let mut pkg = st.store.get_package(p.id, pkg_name).await?.ok_or_else(|| {
        ApiError::NotFound(format!(
            "No package with name {pkg_name} in copr {}",
            p.full_name()
        ))
    })?;
    let source_type = source_type.unwrap_or_else(|| pkg.source_type.clone());
    let base = (source_type == pkg.source_type).then_some(&pkg.source_json);
    pkg.source_json = source_json_from(&source_type, input, base)?;
    pkg.source_type = source_type;
    apply_package_settings(&mut pkg.settings, input)?;
    st.store.update_package(&pkg).await?;
    Ok(axum::Json(render::package(st, &p, &pkg, None, None)))
}

pub async fn package_edit(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path((owner, name, pkg_name, source_type)): Path<(String, String, String, String)>,
    input: Input,
) -> ApiResult<Json> {
    edit_package(
        &st,
        &headers,
        &owner,
        &name,
        &pkg_name,
        Some(source_type),
        &input,
    )
    .await
}

pub async fn package_edit_untyped(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path((owner, name, pkg_name)): Path<(String, String, String)>,
    input: Input,
) -> ApiResult<Json> {
    edit_package(&st, &headers, &owner, &name, &pkg_name, None, &input).await
}

async fn input_package(
    st: &AppState,
    headers: &HeaderMap,
    input: &Input,
) -> ApiResult<(Project, Package)> {
    let owner = input.required("ownername")?;
    let name = input.required("projectname")?;
    let (_user, p) = buildable_project(st, headers, &owner, &name).await?;
    let pkg_name = input.required("package_name")?;
    let pkg = st
        .store
        .get_package(p.id, &pkg_name)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "No package with name {pkg_name} in copr {}",
                p.full_name()
            ))
        })?;
    Ok((p, pkg))
}

pub async fn package_reset(
    State(st): State<AppState>,
    headers: HeaderMap,
    input: Input,
) -> ApiResult<Json> {
    let (p, mut pkg) = input_package(&st, &headers, &input).await?;
    pkg.source_type = "unset".into();
    pkg.source_json = json!({});
    pkg.settings = PackageSettings::default();
    st.store.update_package(&pkg).await?;
    Ok(axum::Json(render::package(&st, &p, &pkg, None, None)))
}

pub async fn package_delete(
    State(st): State<AppState>,
    headers: HeaderMap,
    input: Input,
) -> ApiResult<Json> {
    let (p, pkg) = input_package(&st, &headers, &input).await?;
    st.store.delete_package(pkg.id).await?;
    Ok(axum::Json(render::package(&st, &p, &pkg, None, None)))
}

// ----- project chroots -----

async fn input_chroot(st: &AppState, input: &Input) -> ApiResult<(Project, ProjectChroot)> {
    let p = input_project(st, input).await?;
    let chroot = input.required("chrootname")?;
    let c = st
        .store
        .project_chroots(p.id)
        .await?
        .into_iter()
        .find(|c| c.mock_chroot == chroot)
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "Chroot {chroot} does not exist in {}",
                p.full_name()
            ))
        })?;
    Ok((p, c))
}

pub async fn chroot_get(State(st): State<AppState>, input: Input) -> ApiResult<Json> {
    let (p, c) = input_chroot(&st, &input).await?;
    Ok(axum::Json(render::project_chroot(&p, &c)))
}

/// The repositories a build in this chroot uses, in Copr's order.
pub fn chroot_repos(st: &AppState, p: &Project, c: &ProjectChroot) -> Vec<Value> {
    let mut repos = vec![json!({
        "id": "copr_base",
        "baseurl": format!("{}/{}/{}/{}/", st.results_url, p.ownername, p.name, c.mock_chroot),
        "name": "Copr repository",
        "priority": p.settings.repo_priority,
        "module_hotfixes": p.settings.module_hotfixes,
        "repo_gpgcheck": false,
    })];
    if p.settings.devel_mode {
        repos.push(json!({
            "id": "copr_base_devel",
            "baseurl": format!("{}/{}/{}/{}/devel/", st.results_url, p.ownername, p.name, c.mock_chroot),
            "name": "Copr buildroot",
            "priority": p.settings.repo_priority,
            "module_hotfixes": p.settings.module_hotfixes,
            "repo_gpgcheck": false,
        }));
    }
    for url in p
        .settings
        .additional_repos
        .iter()
        .chain(&c.settings.additional_repos)
    {
        let (id, baseurl, priority) = render::expand_repo(st, url, &c.mock_chroot);
        repos.push(json!({
            "id": id,
            "baseurl": baseurl,
            "name": format!("Additional repo {id}"),
            "priority": priority,
            "module_hotfixes": p.settings.module_hotfixes,
            "repo_gpgcheck": false,
        }));
    }
    repos
}

pub async fn chroot_build_config(State(st): State<AppState>, input: Input) -> ApiResult<Json> {
    let (p, c) = input_chroot(&st, &input).await?;
    let mut additional = p.settings.additional_repos.clone();
    additional.extend(c.settings.additional_repos.iter().cloned());
    additional.insert(0, format!("copr://{}/{}", p.ownername, p.name));
    Ok(axum::Json(json!({
        "chroot": c.mock_chroot,
        "repos": chroot_repos(&st, &p, &c),
        "additional_repos": additional,
        "additional_packages": c.settings.additional_packages,
        "additional_modules": c.settings.additional_modules,
        "enable_net": p.settings.enable_net,
        "with_opts": c.settings.with_opts,
        "without_opts": c.settings.without_opts,
        "isolation": c.settings.isolation.clone().or(p.settings.isolation.clone()),
        "bootstrap": c.settings.bootstrap.clone().or(p.settings.bootstrap.clone()),
        "bootstrap_image": c.settings.bootstrap_image.clone().or(p.settings.bootstrap_image.clone()),
    })))
}

pub async fn chroot_edit(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path((owner, name, chroot)): Path<(String, String, String)>,
    input: Input,
) -> ApiResult<Json> {
    let (_user, p) = editable_project(&st, &headers, &owner, &name).await?;
    let mut c = st
        .store
        .project_chroots(p.id)
        .await?
        .into_iter()
        .find(|c| c.mock_chroot == chroot)
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "Chroot {chroot} does not exist in {}",
                p.full_name()
            ))
        })?;
    let s = &mut c.settings;
    if let Some(reset) = input.list("reset_fields") {
        let d = ChrootSettings::default();
        for f in reset {
            match f.as_str() {
                "additional_repos" => s.additional_repos = d.additional_repos.clone(),
                "additional_packages" => s.additional_packages = d.additional_packages.clone(),
                "additional_modules" => s.additional_modules = d.additional_modules.clone(),
                "with_opts" => s.with_opts = d.with_opts.clone(),
                "without_opts" => s.without_opts = d.without_opts.clone(),
                "isolation" => s.isolation = None,
                "bootstrap" => s.bootstrap = None,
                "bootstrap_image" => s.bootstrap_image = None,
                "delete_after_days" => s.delete_after_days = None,
                other => {
                    return Err(ApiError::BadRequest(format!(
                        "reset_fields: cannot reset '{other}'"
                    )));
                }
            }
        }
    }
    for (key, slot) in [
        ("additional_repos", &mut s.additional_repos),
        ("additional_packages", &mut s.additional_packages),
        ("additional_modules", &mut s.additional_modules),
        ("with_opts", &mut s.with_opts),
        ("without_opts", &mut s.without_opts),
    ] {
        if let Some(v) = input.list(key) {
            *slot = v;
        }
    }
    if let Some(b) = one_of(
        "bootstrap",
        input.str("bootstrap"),
        &["default", "on", "off", "image", "custom_image", "unchanged"],
    )? && b != "unchanged"
    {
        s.bootstrap = Some(b);
    }
    if let Some(img) = input.str("bootstrap_image") {
        s.bootstrap_image = Some(img);
    }
    if let Some(i) = one_of(
        "isolation",
        input.str("isolation"),
        &["default", "simple", "nspawn", "unchanged"],
    )? && i != "unchanged"
    {
        s.isolation = Some(i);
    }
    let mut comps = None;
    if input.bool("delete_comps")?.unwrap_or(false) {
        s.comps_name = None;
        comps = Some(None);
    }
    if let Some((_, file, data)) = input.files.iter().find(|(f, _, _)| f == "upload_comps") {
        if !names::valid_file_name(file) {
            return Err(ApiError::BadRequest(format!(
                "upload_comps: invalid file name '{file}'"
            )));
        }
        s.comps_name = Some(file.clone());
        comps = Some(Some(data.to_vec()));
    }
    st.store.update_project_chroot(&c, comps).await?;
    Ok(axum::Json(render::project_chroot(&p, &c)))
}

pub async fn mock_chroots(State(st): State<AppState>) -> Json {
    let mut m = Map::new();
    for c in &st.config.chroots {
        let comment = if c.starts_with("host-") {
            "Built with the build host's own rpmbuild in a sandbox"
        } else {
            ""
        };
        m.insert(c.clone(), Value::String(comment.into()));
    }
    axum::Json(Value::Object(m))
}

// ----- monitor -----

pub async fn monitor(State(st): State<AppState>, input: Input) -> ApiResult<Json> {
    let p = input_project(&st, &input).await?;
    let dirname = input
        .str("project_dirname")
        .unwrap_or_else(|| p.name.clone());
    let fields = input.list("additional_fields[]").unwrap_or_default();
    let all = Page {
        limit: None,
        offset: 0,
        order: "id",
        desc: false,
    };
    let mut packages = Vec::new();
    for pkg in st.store.list_packages(p.id, &all).await? {
        packages.push(pkg.name);
    }
    // Latest build per package and chroot.
    let mut latest: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let recent = Page {
        limit: Some(5000),
        offset: 0,
        order: "id",
        desc: true,
    };
    for b in st.store.list_builds(p.id, None, None, &recent).await? {
        if b.project_dirname != dirname {
            continue;
        }
        let Some(name) = b.package_name.clone() else {
            continue;
        };
        let entry = latest.entry(name).or_default();
        for c in &b.chroots {
            if entry.contains_key(&c.name) {
                continue;
            }
            let mut v = json!({
                "state": c.state.name(),
                "status": c.state.code(),
                "build_id": b.id,
                "pkg_version": b.package_version,
            });
            let url = render::result_url(&st, &b, &c.name);
            for f in &fields {
                match f.as_str() {
                    "url_build_log" => {
                        v["url_build_log"] = json!(format!("{url}builder-live.log.gz"))
                    }
                    "url_backend_log" => {
                        v["url_backend_log"] = json!(format!("{url}backend.log.gz"))
                    }
                    "url_build" => {
                        v["url_build"] = json!(format!("{}/coprs/build/{}", st.public_url, b.id))
                    }
                    _ => {}
                }
            }
            entry.insert(c.name.clone(), v);
        }
    }
    for name in packages {
        latest.entry(name).or_default();
    }
    let packages: Vec<Value> = latest
        .into_iter()
        .map(|(name, chroots)| json!({"name": name, "chroots": chroots}))
        .collect();
    Ok(axum::Json(json!({
        "output": "ok",
        "message": "Project monitor request successful",
        "packages": packages,
    })))
}

/// A 400 in copr's form-error style unless `key` holds a non-empty string.
fn require_text(m: &Map<String, Value>, key: &str) -> Result<(), ApiError> {
    match m.get(key).and_then(Value::as_str) {
        Some(v) if !v.is_empty() => Ok(()),
        _ => Err(ApiError::BadRequest(format!(
            "{key}: This field is required."
        ))),
    }
}
