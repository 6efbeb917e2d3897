//! Modules on the server: `POST /api_3/module/build/{owner}/{project}` builds a module from a
//! modulemd v2 document, `POST /api_3/module/release/{owner}/{project}` releases one from the
//! project's latest successful builds, `GET /api_3/module/list` and `/api_3/module/{id}` show
//! them, and `/coprs/<owner>/<project>/module_repo/<release>/<name>-<stream>-<version>.repo` is
//! the repo file of a released module.
//!
//! A module build creates one build per component; the components of one `buildorder` group
//! form a batch, and each group's batch is blocked by the previous group's, so group N+1 starts
//! only when group N has finished and builds against the project repository that holds it. A
//! background driver follows the builds: once a build of the module fails (or is canceled),
//! the builds not yet finished are canceled and the module fails; once all succeeded, the module
//! is released with the same code as a local release (`crate::module::release`): the stream
//! document goes into each chroot repository's `modules.yaml` and the publisher regenerates and
//! re-signs the repository.

use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::api::{check_clone_url, project_from};
use super::error::{ApiError, ApiResult};
use super::input::Input;
use super::model::{BatchPlacement, Build, BuildOptions, NewBuild, Project, State as BuildState};
use super::publish::{Repo, build_dir_name};
use super::store::{ModuleRow, NewModule};
use super::{AppState, Json};
use crate::module::build::{BuildPlan, BuiltSource, plan, release_spec_from};
use crate::module::release::{self, Platform, ReleaseSpec, timestamp_version};
use crate::module::results::{ChrootBuilds, read_build, scan_chroot};
use crate::module::{ModuleError, parse_index};
use crate::repo::repofile::{self, CoprRepo};

/// Default timeout of component builds (Copr's default).
const COMPONENT_TIMEOUT: i64 = 18_000;
/// How often the driver looks at a building module.
const DRIVE_PERIOD: Duration = Duration::from_secs(1);

async fn editable_project(
    st: &AppState,
    headers: &HeaderMap,
    owner: &str,
    project: &str,
) -> ApiResult<(super::model::User, Project)> {
    let user = st.require_user(headers).await?;
    let p = project_from(st, owner, project).await?;
    if !st.can_build(&user, &p).await? {
        return Err(ApiError::Forbidden(format!(
            "You don't have permissions to build in this project: {}",
            p.full_name()
        )));
    }
    Ok((user, p))
}

/// The modulemd text of a request: a multipart `modulemd` file or a `modulemd` field.
fn document_of(input: &Input) -> ApiResult<String> {
    if let Some((_, name, data)) = input.files.iter().find(|(f, _, _)| f == "modulemd") {
        return String::from_utf8(data.to_vec())
            .map_err(|_| ApiError::BadRequest(format!("modulemd: {name} is not UTF-8 text")));
    }
    if let Some(text) = input.str("modulemd").filter(|t| !t.trim().is_empty()) {
        return Ok(text);
    }
    if input.has("scmurl") {
        return Err(ApiError::BadRequest(
            "scmurl: building a module from a git repository is not supported by this server; \
             upload the modulemd document instead (multipart field `modulemd`)"
                .into(),
        ));
    }
    Err(ApiError::BadRequest(
        "modulemd: This field is required (a modulemd v2 YAML document).".into(),
    ))
}

fn module_error(e: ModuleError) -> ApiError {
    match e {
        ModuleError::AlreadyReleased { .. } | ModuleError::VersionNotNewer { .. } => {
            ApiError::Conflict(e.to_string())
        }
        ModuleError::BadSpec(_)
        | ModuleError::UnknownPackages { .. }
        | ModuleError::Plan { .. }
        | ModuleError::NoBuilds { .. }
        | ModuleError::NoSuchChroot { .. } => ApiError::BadRequest(e.to_string()),
        other => ApiError::internal(other),
    }
}

/// Check a document and turn it into a build plan; every error names its line.
pub fn plan_document(text: &str) -> ApiResult<BuildPlan> {
    let parsed = parse_index(text).map_err(|e| ApiError::BadRequest(format!("modulemd: {e}")))?;
    let lines = crate::module::parse::LineMap::new(text, 0);
    for s in &parsed.index.streams {
        for (key, c) in s
            .components
            .as_ref()
            .and_then(|c| c.rpms.as_ref())
            .into_iter()
            .flatten()
        {
            let Some(repo) = c.repository.as_deref() else {
                continue;
            };
            if check_clone_url(repo).is_err() {
                let line = lines
                    .find(&["data", "components", "rpms", key, "repository"])
                    .map(|l| format!("line {l}: "))
                    .unwrap_or_default();
                return Err(ApiError::BadRequest(format!(
                    "modulemd: {line}component `{key}`: repository `{repo}` is not a remote git \
                     URL (https://, git://, ssh:// …); the server's builders cannot reach local paths"
                )));
            }
        }
    }
    plan(&parsed, text, FsPath::new("module.yaml"))
        .map_err(|e| ApiError::BadRequest(format!("modulemd: {e}")))
}

/// `POST /api_3/module/build/{owner}/{project}`.
pub async fn build(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path((owner, project)): Path<(String, String)>,
    input: Input,
) -> ApiResult<Json> {
    let (user, p) = editable_project(&st, &headers, &owner, &project).await?;
    let text = document_of(&input)?;
    let bp = plan_document(&text)?;
    let enabled: Vec<String> = st.store.project_chroot_names(p.id).await?;
    let chroots: Vec<String> = match input.list("chroots").filter(|l| !l.is_empty()) {
        None => enabled.clone(),
        Some(wanted) => {
            for c in &wanted {
                if !enabled.contains(c) {
                    return Err(ApiError::BadRequest(format!(
                        "chroots: '{c}' is not enabled in {} (enabled: {})",
                        p.full_name(),
                        enabled.join(", ")
                    )));
                }
            }
            wanted
        }
    };
    if chroots.is_empty() {
        return Err(ApiError::BadRequest(format!(
            "{} has no chroots enabled; enable at least one to build a module",
            p.full_name()
        )));
    }
    // Which chroots each component builds in (its `arches` may exclude some).
    let mut component_chroots = Vec::new();
    for g in &bp.groups {
        let mut cs = Vec::new();
        for c in g {
            let mine: Vec<String> = chroots
                .iter()
                .filter(|ch| {
                    c.component.arches.as_ref().is_none_or(|arches| {
                        arches
                            .iter()
                            .any(|a| a.as_str() == crate::pipeline::chroot_arch(ch))
                    })
                })
                .cloned()
                .collect();
            if mine.is_empty() {
                return Err(ApiError::BadRequest(format!(
                    "modulemd: component `{}` is built for none of the chroots ({}): its `arches` \
                     exclude them",
                    c.name,
                    chroots.join(", ")
                )));
            }
            cs.push(mine);
        }
        component_chroots.push(cs);
    }
    let version = match bp.stream.version {
        Some(v) => v as i64,
        None => {
            let t = timestamp_version(time::OffsetDateTime::now_utc()) as i64;
            match st
                .store
                .latest_module_version(p.id, &bp.name, &bp.stream_name)
                .await?
            {
                Some(prev) if prev >= t => prev + 1,
                _ => t,
            }
        }
    };
    let nsv = format!("{}-{}-{}", bp.name, bp.stream_name, version);
    // The module row first: a repeated NAME:STREAM:VERSION is refused before any build exists.
    let module_id = st
        .store
        .create_module(&NewModule {
            project_id: p.id,
            name: bp.name.clone(),
            stream: bp.stream_name.clone(),
            version,
            state: "building".into(),
            document: text.clone(),
            groups: Vec::new(),
            submitter: user.username.clone(),
        })
        .await?;
    let created = create_component_builds(&st, &p, &user.username, &bp, &component_chroots).await;
    let groups = match created {
        Ok(g) => g,
        Err(e) => {
            let _ = st.store.delete_module(module_id).await;
            return Err(e);
        }
    };
    st.store.set_module_groups(module_id, &groups).await?;
    st.dispatch.wake();
    spawn_driver(st.clone(), module_id);
    Ok(axum::Json(json!({
        "nsv": nsv,
        "id": module_id,
        "builds": groups,
    })))
}

/// One build per component, group by group: the first build of a group starts a new batch
/// (blocked by the previous group's batch), the others join it.
async fn create_component_builds(
    st: &AppState,
    p: &Project,
    submitter: &str,
    bp: &BuildPlan,
    component_chroots: &[Vec<Vec<String>>],
) -> ApiResult<Vec<Vec<i64>>> {
    let mut groups: Vec<Vec<i64>> = Vec::new();
    let mut created: Vec<i64> = Vec::new();
    let result: ApiResult<()> = async {
        for (gi, g) in bp.groups.iter().enumerate() {
            let mut ids: Vec<i64> = Vec::new();
            for (ci, c) in g.iter().enumerate() {
                let batch = match (ids.first(), groups.last().and_then(|prev| prev.first())) {
                    (Some(first), _) => BatchPlacement::With(*first),
                    (None, Some(prev)) => BatchPlacement::After(*prev),
                    (None, None) => BatchPlacement::None,
                };
                let (url, committish) = match &c.source {
                    crate::job::Source::Git {
                        url, committish, ..
                    } => (url.clone(), committish.clone()),
                    _ => {
                        return Err(ApiError::BadRequest(format!(
                            "modulemd: component `{}` is not a git repository",
                            c.name
                        )));
                    }
                };
                let nb = NewBuild {
                    project_id: p.id,
                    project_dirname: p.name.clone(),
                    package_id: None,
                    package_name: Some(c.name.clone()),
                    source_type: "scm".into(),
                    source_json: json!({
                        "type": "git",
                        "clone_url": url,
                        "committish": committish.unwrap_or_default(),
                        "subdirectory": "",
                        "spec": "",
                        "srpm_build_method": "rpmbuild",
                        "macros": bp.macros,
                    }),
                    submitter: submitter.to_string(),
                    is_background: false,
                    timeout: COMPONENT_TIMEOUT,
                    options: BuildOptions {
                        enable_net: p.settings.enable_net,
                        ..Default::default()
                    },
                    chroots: component_chroots[gi][ci].clone(),
                    batch,
                };
                let id = st.store.insert_builds(std::slice::from_ref(&nb)).await?[0];
                created.push(id);
                if gi > 0 {
                    // Held until the previous group has succeeded (the batch alone would also
                    // start it after a failure); the driver releases it.
                    st.store.set_source_state(id, BuildState::Waiting).await?;
                }
                ids.push(id);
            }
            groups.push(ids);
        }
        Ok(())
    }
    .await;
    if let Err(e) = result {
        if !created.is_empty() {
            let _ = st.store.delete_builds(&created).await;
        }
        return Err(e);
    }
    Ok(groups)
}

/// Drive every module still building (after a restart).
pub async fn resume(st: &AppState) {
    match st.store.building_modules().await {
        Ok(ids) => {
            for id in ids {
                spawn_driver(st.clone(), id);
            }
        }
        Err(e) => tracing::error!("cannot list building modules: {e}"),
    }
}

fn spawn_driver(st: AppState, id: i64) {
    tokio::spawn(async move {
        loop {
            match step(&st, id).await {
                Ok(true) => return,
                Ok(false) => {}
                Err(e) => tracing::warn!(module = id, "module driver: {e}"),
            }
            tokio::time::sleep(DRIVE_PERIOD).await;
        }
    });
}

/// One look at a building module; `true` once it reached a final state.
async fn step(st: &AppState, id: i64) -> Result<bool, String> {
    let Some(m) = st.store.get_module(id).await.map_err(|e| e.to_string())? else {
        return Ok(true);
    };
    if m.state != "building" {
        return Ok(true);
    }
    let mut builds = Vec::new();
    for bid in m.groups.iter().flatten() {
        match st.store.get_build(*bid).await.map_err(|e| e.to_string())? {
            Some(b) => builds.push(b),
            None => {
                let reason = format!("build {bid} of the module was deleted");
                finish(st, &m, "failed", Some(&reason)).await?;
                return Ok(true);
            }
        }
    }
    let bad: Vec<&Build> = builds
        .iter()
        .filter(|b| b.state.is_finished() && !matches!(b.state, BuildState::Succeeded))
        .collect();
    if !bad.is_empty() {
        let reason = bad
            .iter()
            .map(|b| {
                format!(
                    "build {} ({}) {}",
                    b.id,
                    b.package_name.as_deref().unwrap_or("?"),
                    b.state.name()
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        let mut canceled = Vec::new();
        for b in builds.iter().filter(|b| !b.state.is_finished()) {
            if st.store.cancel_build(b.id).await.is_ok() {
                canceled.push(b.id.to_string());
            }
        }
        let reason = if canceled.is_empty() {
            reason
        } else {
            format!("{reason}; canceled: {}", canceled.join(", "))
        };
        finish(st, &m, "failed", Some(&reason)).await?;
        return Ok(true);
    }
    if builds
        .iter()
        .any(|b| !matches!(b.state, BuildState::Succeeded))
    {
        // A group that succeeded releases the next one's held builds.
        let by_id: BTreeMap<i64, &Build> = builds.iter().map(|b| (b.id, b)).collect();
        let succeeded = |g: &Vec<i64>| {
            g.iter().all(|id| {
                by_id
                    .get(id)
                    .is_some_and(|b| b.state == BuildState::Succeeded)
            })
        };
        let mut released = false;
        for w in m.groups.windows(2) {
            if !succeeded(&w[0]) {
                break;
            }
            for id in &w[1] {
                if by_id
                    .get(id)
                    .is_some_and(|b| b.source_state == BuildState::Waiting && !b.canceled)
                {
                    st.store
                        .set_source_state(*id, BuildState::Pending)
                        .await
                        .map_err(|e| e.to_string())?;
                    released = true;
                }
            }
        }
        if released {
            st.dispatch.wake();
        }
        return Ok(false);
    }
    match release_built(st, &m, &builds).await {
        Ok(()) => finish(st, &m, "released", None).await?,
        Err(e) => finish(st, &m, "failed", Some(&format!("release: {e}"))).await?,
    }
    Ok(true)
}

async fn finish(
    st: &AppState,
    m: &ModuleRow,
    state: &str,
    reason: Option<&str>,
) -> Result<(), String> {
    tracing::info!(
        module = m.id,
        "module {}:{}:{} {state}{}",
        m.name,
        m.stream,
        m.version,
        reason.map(|r| format!(": {r}")).unwrap_or_default()
    );
    st.store
        .finish_module(m.id, state, reason)
        .await
        .map_err(|e| e.to_string())
}

fn project_dir(st: &AppState, p: &Project) -> PathBuf {
    st.results_dir.join(&p.ownername).join(&p.name)
}

/// Release a built module from exactly its builds, then republish the chroot repositories.
async fn release_built(st: &AppState, m: &ModuleRow, builds: &[Build]) -> Result<(), String> {
    let p = st
        .store
        .get_project_by_id(m.project_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the project no longer exists")?;
    let bp = plan_document(&m.document).map_err(|e| format!("{e:?}"))?;
    let dir = project_dir(st, &p);
    let by_id: BTreeMap<i64, &Build> = builds.iter().map(|b| (b.id, b)).collect();
    let mut pairs = Vec::new();
    for (gi, g) in m.groups.iter().enumerate() {
        for (ci, bid) in g.iter().enumerate() {
            let comp = bp
                .groups
                .get(gi)
                .and_then(|pg| pg.get(ci))
                .ok_or("the module's builds do not match its document")?;
            let b = by_id.get(bid).ok_or("a build of the module is missing")?;
            pairs.push((comp.clone(), (*b).clone()));
        }
    }
    let version = m.version as u64;
    let dir2 = dir.clone();
    let (chroots, released) = tokio::task::spawn_blocking(move || -> Result<_, ModuleError> {
        let mut per_chroot: BTreeMap<String, ChrootBuilds> = BTreeMap::new();
        let mut binaries: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for (_, b) in &pairs {
            let package = b.package_name.clone().unwrap_or_default();
            for c in &b.chroots {
                let cdir = dir2.join(&c.name);
                let bdir = cdir.join(build_dir_name(b.id, b.package_name.as_deref()));
                let Some(r) = read_build(b.id as u64, &package, &bdir)? else {
                    continue;
                };
                binaries
                    .entry(b.id)
                    .or_default()
                    .extend(r.rpms.iter().map(|x| x.name.clone()));
                per_chroot
                    .entry(c.name.clone())
                    .or_insert_with(|| ChrootBuilds {
                        chroot: c.name.clone(),
                        dir: cdir.clone(),
                        builds: Vec::new(),
                    })
                    .builds
                    .push(r);
            }
        }
        let built: Vec<BuiltSource> = pairs
            .iter()
            .map(|(comp, b)| BuiltSource {
                plan: comp,
                package: b.package_name.clone().unwrap_or_else(|| comp.name.clone()),
                binaries: binaries.get(&b.id).cloned().unwrap_or_default(),
            })
            .collect();
        let mut spec = release_spec_from(&bp, &built);
        spec.version = Some(version);
        let chroots: Vec<ChrootBuilds> = per_chroot
            .into_values()
            .map(|mut c| {
                c.builds.sort_by_key(|b| b.id);
                c
            })
            .collect();
        let released = release::release(&dir2, &chroots, &spec, time::OffsetDateTime::now_utc())?;
        Ok((chroots, released))
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    tracing::info!(
        "released module {}:{}:{} into {} chroot(s)",
        released.name,
        released.stream,
        released.version,
        chroots.len()
    );
    republish(st, &p, chroots.iter().map(|c| c.chroot.clone())).await
}

/// Regenerate (and re-sign) the chroot repositories that got a new `modules.yaml`.
async fn republish(
    st: &AppState,
    p: &Project,
    chroots: impl Iterator<Item = String>,
) -> Result<(), String> {
    let tickets: Vec<_> = chroots
        .map(|chroot| {
            st.publisher.regenerate(Repo {
                project_id: p.id,
                owner: p.ownername.clone(),
                project: p.name.clone(),
                dirname: p.name.clone(),
                chroot,
            })
        })
        .collect();
    for t in tickets {
        t.wait().await.map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// `POST /api_3/module/release/{owner}/{project}`: release a module from the project's latest
/// successful builds (the remote form of `copr module release`).
pub async fn release_endpoint(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path((owner, project)): Path<(String, String)>,
    input: Input,
) -> ApiResult<Json> {
    let (user, p) = editable_project(&st, &headers, &owner, &project).await?;
    let name = input.required("name")?;
    let stream = input.required("stream")?;
    let version = match input.i64("version")? {
        Some(v) if v < 0 => {
            return Err(ApiError::BadRequest("version: must not be negative".into()));
        }
        v => v.map(|v| v as u64),
    };
    let mut profiles = BTreeMap::new();
    for item in input.list("profiles").unwrap_or_default() {
        let (pname, pkgs) = item.split_once(':').ok_or_else(|| {
            ApiError::BadRequest(format!("profiles: `{item}` is not NAME:PKG,PKG"))
        })?;
        profiles.insert(
            pname.to_string(),
            pkgs.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
        );
    }
    let platform = match input.str("platform").as_deref() {
        None | Some("") | Some("auto") => Platform::Auto,
        Some("none") => Platform::None,
        Some(s) => Platform::Stream(s.to_string()),
    };
    let spec = ReleaseSpec {
        name: name.clone(),
        stream: stream.clone(),
        version,
        summary: input.str("summary").unwrap_or_default(),
        description: input.str("description").unwrap_or_default(),
        module_license: input.list("license").unwrap_or_default(),
        api: input.list("api").unwrap_or_default(),
        filter: input.list("filter").unwrap_or_default(),
        default_profile: input.str("default_profile").filter(|s| !s.is_empty()),
        profiles,
        platform,
        sources: BTreeMap::new(),
    };
    if let Some(v) = version
        && st
            .store
            .list_modules(p.id)
            .await?
            .iter()
            .any(|m| m.name == name && m.stream == stream && m.version == v as i64)
    {
        return Err(ApiError::Conflict(format!(
            "module {name}:{stream}:{v} is already released; a released module never changes"
        )));
    }
    let enabled: Vec<String> = st.store.project_chroot_names(p.id).await?;
    let wanted = input.list("chroots").filter(|l| !l.is_empty());
    let dir = project_dir(&st, &p);
    let dir2 = dir.clone();
    let spec2 = spec.clone();
    let (released, released_builds) =
        tokio::task::spawn_blocking(move || -> Result<_, ModuleError> {
            let mut chroots = Vec::new();
            match wanted {
                Some(list) => {
                    for c in list {
                        chroots.push(scan_chroot(&dir2, &c)?);
                    }
                }
                None => {
                    for c in &enabled {
                        match scan_chroot(&dir2, c) {
                            Ok(b) => chroots.push(b),
                            Err(
                                ModuleError::NoBuilds { .. } | ModuleError::NoSuchChroot { .. },
                            ) => {}
                            Err(e) => return Err(e),
                        }
                    }
                    if chroots.is_empty() {
                        return Err(ModuleError::BadSpec(
                            "the project has no successful builds to release a module from".into(),
                        ));
                    }
                }
            }
            let ids: std::collections::BTreeSet<i64> = chroots
                .iter()
                .flat_map(|c| c.builds.iter().map(|b| b.id as i64))
                .collect();
            release::release(&dir2, &chroots, &spec2, time::OffsetDateTime::now_utc())
                .map(|r| (r, ids))
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(module_error)?;
    let document = fs_err::read_to_string(&released.file).map_err(ApiError::internal)?;
    let build_ids: Vec<i64> = {
        let mut v: Vec<i64> = released_builds.into_iter().collect();
        v.sort();
        v
    };
    let id = st
        .store
        .create_module(&NewModule {
            project_id: p.id,
            name: released.name.clone(),
            stream: released.stream.clone(),
            version: released.version as i64,
            state: "building".into(),
            document,
            groups: vec![build_ids],
            submitter: user.username.clone(),
        })
        .await?;
    // The documents are in the chroots' modules.yaml now: the module is released, and every
    // later publication of those repositories carries it.
    st.store.finish_module(id, "released", None).await?;
    if let Err(e) = republish(&st, &p, released.chroots.iter().cloned()).await {
        return Err(ApiError::internal(anyhow::anyhow!(
            "module {}:{}:{} is released, but regenerating its repositories failed: {e}",
            released.name,
            released.stream,
            released.version
        )));
    }
    let m = st
        .store
        .get_module(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Module {id} does not exist.")))?;
    Ok(axum::Json(module_json(&st, &p, &m, true)))
}

/// A module as the API shows it.
pub fn module_json(st: &AppState, p: &Project, m: &ModuleRow, with_document: bool) -> Value {
    let nsv = format!("{}-{}-{}", m.name, m.stream, m.version);
    let mut v = json!({
        "id": m.id,
        "name": m.name,
        "stream": m.stream,
        "version": m.version,
        "nsv": nsv,
        "state": m.state,
        "reason": m.reason,
        "ownername": p.ownername,
        "projectname": p.name,
        "submitter": m.submitter,
        "created_on": m.created_on,
        "released_on": m.released_on,
        "builds": m.groups,
        "repo_url": format!("{}/coprs/{}/{}/module_repo/", st.public_url, p.ownername, p.name),
    });
    if with_document {
        v["modulemd"] = Value::String(m.document.clone());
    }
    v
}

/// `GET /api_3/module/list?ownername=&projectname=`.
pub async fn list(State(st): State<AppState>, input: Input) -> ApiResult<Json> {
    let owner = input.required("ownername")?;
    let name = input.required("projectname")?;
    let p = project_from(&st, &owner, &name).await?;
    let items: Vec<Value> = st
        .store
        .list_modules(p.id)
        .await?
        .iter()
        .map(|m| module_json(&st, &p, m, false))
        .collect();
    Ok(axum::Json(json!({"items": items, "meta": {}})))
}

/// `GET /api_3/module/packages?ownername=&projectname=`: the binary packages of the project's
/// latest successful builds per chroot (what a release can choose from).
pub async fn packages(State(st): State<AppState>, input: Input) -> ApiResult<Json> {
    let owner = input.required("ownername")?;
    let name = input.required("projectname")?;
    let p = project_from(&st, &owner, &name).await?;
    let enabled: Vec<String> = st.store.project_chroot_names(p.id).await?;
    let dir = project_dir(&st, &p);
    let chroots = tokio::task::spawn_blocking(move || -> Result<_, ModuleError> {
        let mut out = serde_json::Map::new();
        for c in &enabled {
            match scan_chroot(&dir, c) {
                Ok(b) => {
                    out.insert(c.clone(), json!(b.binary_names()));
                }
                Err(ModuleError::NoBuilds { .. } | ModuleError::NoSuchChroot { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(module_error)?;
    Ok(axum::Json(json!({ "chroots": chroots })))
}

/// `GET /api_3/module/{id}`.
pub async fn get_one(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json> {
    let missing = || ApiError::NotFound(format!("Module {id} does not exist."));
    let n: i64 = id.parse().map_err(|_| missing())?;
    let m = st.store.get_module(n).await?.ok_or_else(missing)?;
    let p = st
        .store
        .get_project_by_id(m.project_id)
        .await?
        .ok_or_else(missing)?;
    Ok(axum::Json(module_json(&st, &p, &m, true)))
}

/// `GET /coprs/{owner}/{project}/module_repo/{release}/{name}-{stream}-{version}.repo`.
pub async fn repo_file(
    State(st): State<AppState>,
    Path((owner, project, release, file)): Path<(String, String, String, String)>,
) -> Response {
    match render_module_repo(&st, &owner, &project, &release, &file).await {
        Ok(body) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            body,
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /coprs/g/{group}/{project}/module_repo/{release}/{name}-{stream}-{version}.repo`.
pub async fn group_repo_file(
    State(st): State<AppState>,
    Path((group, project, release, file)): Path<(String, String, String, String)>,
) -> Response {
    repo_file(
        State(st),
        Path((format!("@{group}"), project, release, file)),
    )
    .await
}

async fn render_module_repo(
    st: &AppState,
    owner: &str,
    project: &str,
    release: &str,
    file: &str,
) -> ApiResult<String> {
    let not_found = |m: String| ApiError::NotFound(m);
    let stem = file
        .strip_suffix(".repo")
        .ok_or_else(|| not_found("Such repository file doesn't exist".into()))?;
    let p = project_from(st, owner, project).await?;
    let modules = st.store.list_modules(p.id).await?;
    let m = modules
        .iter()
        .find(|m| format!("{}-{}-{}", m.name, m.stream, m.version) == stem)
        .ok_or_else(|| not_found(format!("No module {stem} in {}", p.full_name())))?;
    if m.state != "released" {
        return Err(not_found(format!(
            "Module {stem} is not released (state: {})",
            m.state
        )));
    }
    let chroots = st.store.project_chroots(p.id).await?;
    if !chroots
        .iter()
        .any(|c| c.mock_chroot.rsplit_once('-').map(|(r, _)| r) == Some(release))
    {
        return Err(not_found(format!(
            "Chroot not found in this project: {release} is not enabled in {}",
            p.full_name()
        )));
    }
    let mut section = CoprRepo {
        hostname: &st.hostname,
        owner: &p.ownername,
        project: &p.name,
        results_url: &st.results_url,
        release,
        // The module's packages are modular: dnf shows them only through the module.
        module_hotfixes: false,
        priority: p.settings.repo_priority,
    }
    .section();
    section.id = format!(
        "{}:module:{}:{}:{}",
        section.id, m.name, m.stream, m.version
    );
    section.name = format!(
        "Copr module {}:{}:{} from {}",
        m.name,
        m.stream,
        m.version,
        p.full_name()
    );
    Ok(repofile::render(&[section]))
}
