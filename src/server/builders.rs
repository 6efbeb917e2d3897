//! The builder protocol: how `copr builder` agents get work from `copr serve` and hand results
//! back. JSON over HTTP under `/builder-api/v1/`; every request carries the builder's token as
//! `Authorization: Bearer TOKEN` (tokens come from `copr serve admin add-builder NAME`; the
//! server keeps only their SHA-256).
//!
//! | request | body | answer |
//! |---|---|---|
//! | `POST register` | `{arch, tags, chroots, backends}` | `{name, heartbeat_interval, claim_wait}` |
//! | `POST claim` | `{arch, tags, chroots, backend, source}` | `200 {task}` or `204` after `claim_wait` s |
//! | `POST task/ID/heartbeat?chroot=C` | — | `{cancel}`; `409` when the task is no longer held |
//! | `POST task/ID/log?chroot=C&offset=N` | raw log bytes | `{length}` |
//! | `POST task/ID/result?chroot=C&state=S[&reason=R]` | tar.gz of the result files | `{state}` |
//! | `POST task/ID/release?chroot=C` | — | the task goes back to the queue |
//!
//! `chroot` is absent for the source (SRPM) task. A claimed task is a *lease*: the claim answer
//! names it (`task.lease`) and every later request about the task sends it back in the
//! `Copr-Lease` header. A lease ends when the builder reports the result, hands the task back,
//! or misses heartbeats for `heartbeat_timeout` seconds; requests under an ended lease get
//! `409 Conflict` (another builder may hold the task now), requests naming another builder's
//! lease `403`. The `claim` request long-polls: it returns as soon as a task becomes ready.
//!
//! Live logs are appended at byte offsets, so a retried chunk is never written twice: the
//! server writes only the part past its current length and answers with the new length
//! (`409 {length}` when the offset is past the end). The log is readable while the task runs at
//! `/results/OWNER/PROJECT/srpm-builds/ID/builder-live.log` (source task) and
//! `/results/OWNER/PROJECT/CHROOT/ID-PKG/builder-live.log` (chroot tasks).
//!
//! Results are a gzip-compressed tar of plain files at the top level (no directories, links or
//! special files; names of safe characters; total size within the upload limit). A source
//! task's files must include its `.src.rpm` and `results.json`; the chroots its
//! ExclusiveArch/ExcludeArch exclude are marked skipped and the others become pending. A
//! repeated result upload under the same lease is acknowledged without change, so builders may
//! retry uploads across network errors and server restarts.

use std::io::Read;
use std::path::{Path as FsPath, PathBuf};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;
use tokio::io::AsyncWriteExt;

use super::dispatch::{self, Assignment};
use super::error::{ApiError, ApiResult};
use super::model::State as BuildState;
use super::store::{BuilderRow, ClaimFilter, TaskKey, TaskRow};
use super::{AppState, Json, accounts, names};
use crate::job::SrpmResultsJson;
use crate::mock::BackendKind;
use crate::pipeline::{LIVE_LOG, arch_skip_reason, chroot_arch};

/// The protocol's path prefix.
pub const PREFIX: &str = "/builder-api/v1";
/// The header naming the lease of a task.
pub const LEASE_HEADER: &str = "Copr-Lease";

/// What a builder offers.
#[derive(Debug, Clone, Deserialize)]
pub struct Offer {
    pub arch: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub chroots: Vec<String>,
    #[serde(default)]
    pub backends: Vec<BackendKind>,
    /// The backend its jobs run with.
    #[serde(default)]
    pub backend: Option<BackendKind>,
    /// Whether it takes source (SRPM) tasks.
    #[serde(default = "yes")]
    pub source: bool,
}

fn yes() -> bool {
    true
}

async fn builder(st: &AppState, headers: &HeaderMap) -> ApiResult<BuilderRow> {
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::Unauthorized(
                "A builder token is required (Authorization: Bearer TOKEN).".into(),
            )
        })?;
    st.store
        .builder_by_token_hash(&accounts::hash_token(token))
        .await?
        .ok_or_else(|| ApiError::Unauthorized("Unknown builder token.".into()))
}

/// The chroots of an offer this server lets the builder take: its arch, and the tags the
/// configuration requires for each chroot.
fn allowed_chroots(st: &AppState, offer: &Offer) -> Vec<String> {
    offer
        .chroots
        .iter()
        .filter(|c| names::valid_chroot(c) && chroot_arch(c) == offer.arch)
        .filter(|c| {
            st.config
                .builders
                .chroot_tags
                .iter()
                .filter(|(pat, _)| glob::Pattern::new(pat).is_ok_and(|p| p.matches(c)))
                .all(|(_, tags)| tags.iter().all(|t| offer.tags.contains(t)))
        })
        .cloned()
        .collect()
}

pub async fn register(
    State(st): State<AppState>,
    headers: HeaderMap,
    axum::Json(offer): axum::Json<Offer>,
) -> ApiResult<Json> {
    let b = builder(&st, &headers).await?;
    let backends: Vec<String> = offer
        .backends
        .iter()
        .map(|k| k.as_str().to_string())
        .collect();
    let chroots = allowed_chroots(&st, &offer);
    st.store
        .register_builder(b.id, &offer.arch, &offer.tags, &chroots, &backends)
        .await?;
    tracing::info!(
        "builder {} registered: {} [{}]",
        b.name,
        offer.arch,
        chroots.join(", ")
    );
    let cfg = &st.config.builders;
    Ok(axum::Json(json!({
        "name": b.name,
        "chroots": chroots,
        "heartbeat_interval": cfg.heartbeat_interval,
        "claim_wait": cfg.claim_wait,
    })))
}

fn assignment_json(a: &Assignment) -> serde_json::Value {
    json!({
        "build_id": a.key.build_id(),
        "chroot": a.key.chroot(),
        "lease": a.worker,
        "package": a.package,
        "log_base": a.log_base,
        "job": a.job,
    })
}

pub async fn claim(
    State(st): State<AppState>,
    headers: HeaderMap,
    axum::Json(offer): axum::Json<Offer>,
) -> ApiResult<Response> {
    let b = builder(&st, &headers).await?;
    let filter = ClaimFilter {
        chroots: allowed_chroots(&st, &offer),
        source: offer.source,
    };
    let wait = Duration::from_secs(st.config.builders.claim_wait);
    match dispatch::claim(&st, &b.name, &filter, offer.backend, wait).await? {
        Some(a) => {
            tracing::info!("{} → builder {}", a.key, b.name);
            Ok(axum::Json(json!({ "task": assignment_json(&a) })).into_response())
        }
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

#[derive(Debug, Deserialize)]
pub struct TaskQuery {
    pub chroot: Option<String>,
    pub offset: Option<u64>,
    pub state: Option<String>,
    pub reason: Option<String>,
}

fn task_key(id: &str, chroot: Option<&str>) -> ApiResult<TaskKey> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::NotFound(format!("Build {id} does not exist.")))?;
    Ok(match chroot.filter(|c| !c.is_empty()) {
        None => TaskKey::Source(id),
        Some(c) if names::valid_chroot(c) => TaskKey::Chroot(id, c.to_string()),
        Some(c) => return Err(ApiError::BadRequest(format!("invalid chroot `{c}`"))),
    })
}

/// The task named by the request, checked to be held by the requesting builder's lease.
/// `Ok(Err(row))` when the lease held it but it has finished (for idempotent retries).
async fn held_task(
    st: &AppState,
    headers: &HeaderMap,
    id: &str,
    q: &TaskQuery,
) -> ApiResult<(BuilderRow, String, TaskRow)> {
    let b = builder(st, headers).await?;
    let lease = headers
        .get(LEASE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if lease.split('#').next() != Some(b.name.as_str()) {
        return Err(ApiError::Forbidden(format!(
            "The {LEASE_HEADER} header does not name a lease of builder {}.",
            b.name
        )));
    }
    let key = task_key(id, q.chroot.as_deref())?;
    let row = st
        .store
        .task(&key)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("There is no task {key}.")))?;
    if row.worker.as_deref() != Some(lease.as_str()) {
        return Err(ApiError::Conflict(format!(
            "Builder {} does not hold {key} (any more).",
            b.name
        )));
    }
    Ok((b, lease, row))
}

fn active(row: &TaskRow) -> bool {
    matches!(row.state, BuildState::Starting | BuildState::Running) && !row.accepted
}

pub async fn heartbeat(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<TaskQuery>,
) -> ApiResult<Json> {
    let (_b, lease, row) = held_task(&st, &headers, &id, &q).await?;
    if !active(&row) {
        return Err(ApiError::Conflict(format!(
            "{} is already {}.",
            row.key,
            row.state.name()
        )));
    }
    match st.store.task_heartbeat(&row.key, &lease).await? {
        Some(cancel) => Ok(axum::Json(json!({ "cancel": cancel }))),
        None => Err(ApiError::Conflict(format!(
            "{} is no longer held by this lease.",
            row.key
        ))),
    }
}

pub async fn release(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<TaskQuery>,
) -> ApiResult<Json> {
    let (b, lease, row) = held_task(&st, &headers, &id, &q).await?;
    if !active(&row) {
        return Err(ApiError::Conflict(format!(
            "{} is already {}.",
            row.key,
            row.state.name()
        )));
    }
    let (state, note) = if row.canceled {
        (BuildState::Canceled, format!("{} canceled", row.key))
    } else {
        (
            BuildState::Pending,
            format!("builder {} handed {} back; re-queued", b.name, row.key),
        )
    };
    st.store.end_task(&row.key, &lease, state, None).await?;
    dispatch::append_note(&st, &row, &note).await;
    st.dispatch.wake();
    Ok(axum::Json(json!({ "state": state.name() })))
}

pub async fn log(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<TaskQuery>,
    body: Bytes,
) -> ApiResult<Response> {
    let (_b, _lease, row) = held_task(&st, &headers, &id, &q).await?;
    if !active(&row) {
        return Err(ApiError::Conflict(format!(
            "{} is already {}.",
            row.key,
            row.state.name()
        )));
    }
    let offset = q
        .offset
        .ok_or_else(|| ApiError::BadRequest("offset: This field is required.".into()))?;
    let path = dispatch::log_path(&st, &row);
    let _guard = st.dispatch.log_lock.lock().await;
    let len = append_at(&path, offset, &body).map_err(ApiError::internal)?;
    match len {
        Ok(len) => Ok(axum::Json(json!({ "length": len })).into_response()),
        Err(len) => Ok((
            StatusCode::CONFLICT,
            axum::Json(json!({
                "error": format!("offset {offset} is past the end of the log ({len} bytes)"),
                "length": len,
            })),
        )
            .into_response()),
    }
}

/// Write the part of `data` (which starts at `offset`) past the file's end. `Err(len)` when
/// `offset` is beyond the end.
fn append_at(path: &FsPath, offset: u64, data: &[u8]) -> std::io::Result<Result<u64, u64>> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        fs_err::create_dir_all(dir)?;
    }
    let mut f = fs_err::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let len = f.metadata()?.len();
    if offset > len {
        return Ok(Err(len));
    }
    let skip = (len - offset) as usize;
    if skip < data.len() {
        f.write_all(&data[skip..])?;
        return Ok(Ok(offset + data.len() as u64));
    }
    Ok(Ok(len))
}

pub async fn result(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<TaskQuery>,
    body: Body,
) -> ApiResult<Json> {
    let (b, lease, row) = held_task(&st, &headers, &id, &q).await?;
    if !active(&row) {
        // A retry of an upload that was accepted (the answer got lost).
        return Ok(axum::Json(
            json!({ "state": row.state.name(), "repeated": true }),
        ));
    }
    let state = match q.state.as_deref() {
        Some("succeeded") => BuildState::Succeeded,
        Some("failed") => BuildState::Failed,
        Some("canceled") => BuildState::Canceled,
        other => {
            return Err(ApiError::BadRequest(format!(
                "state: expected succeeded, failed or canceled, not {other:?}"
            )));
        }
    };
    let reason = q
        .reason
        .clone()
        .map(|r| r.chars().take(2000).collect::<String>());
    let limit = st.config.upload_limit;
    let incoming = st.results_dir.join(".incoming");
    tokio::fs::create_dir_all(&incoming)
        .await
        .map_err(ApiError::internal)?;
    let tarball = incoming.join(format!("{}.tar.gz", accounts::random_token()));
    let received = receive(body, &tarball, limit).await;
    if let Err(e) = received {
        let _ = tokio::fs::remove_file(&tarball).await;
        return Err(e);
    }
    let dir = dispatch::task_dir(&st, &row);
    let (t2, d2) = (tarball.clone(), dir.clone());
    let unpacked = tokio::task::spawn_blocking(move || unpack(&t2, &d2, limit))
        .await
        .map_err(ApiError::internal)?;
    let _ = tokio::fs::remove_file(&tarball).await;
    let files = unpacked?;
    let final_state = match &row.key {
        TaskKey::Source(build_id) if state == BuildState::Succeeded => {
            match accept_source(&st, &row, &lease, *build_id, &dir, &files).await? {
                Ok(()) => BuildState::Succeeded,
                Err(reason) => {
                    dispatch::append_note(&st, &row, &format!("error: {reason}")).await;
                    end(&st, &row, &lease, BuildState::Failed, Some(&reason)).await?;
                    BuildState::Failed
                }
            }
        }
        TaskKey::Chroot(build_id, chroot) if state == BuildState::Succeeded => {
            if !st.store.accept_chroot(*build_id, chroot, &lease).await? {
                return Err(ApiError::Conflict(format!(
                    "{} is no longer held by this lease.",
                    row.key
                )));
            }
            dispatch::results_accepted(&st, *build_id, chroot).await?;
            BuildState::Running
        }
        _ => {
            end(&st, &row, &lease, state, reason.as_deref()).await?;
            state
        }
    };
    let shown = match final_state {
        BuildState::Running => "accepted for publishing",
        s => s.name(),
    };
    tracing::info!("{} {shown} on builder {}", row.key, b.name);
    st.dispatch.wake();
    Ok(axum::Json(json!({ "state": shown })))
}

async fn end(
    st: &AppState,
    row: &TaskRow,
    lease: &str,
    state: BuildState,
    reason: Option<&str>,
) -> ApiResult<()> {
    if !st.store.end_task(&row.key, lease, state, reason).await? {
        return Err(ApiError::Conflict(format!(
            "{} is no longer held by this lease.",
            row.key
        )));
    }
    Ok(())
}

/// Check a source task's files and record the SRPM; `Ok(Err(reason))` when they are unusable.
async fn accept_source(
    st: &AppState,
    row: &TaskRow,
    lease: &str,
    build_id: i64,
    dir: &FsPath,
    files: &[String],
) -> ApiResult<Result<(), String>> {
    let Some(srpm) = files.iter().find(|f| f.ends_with(".src.rpm")) else {
        return Ok(Err("the builder uploaded no source RPM".into()));
    };
    let results: SrpmResultsJson = match fs_err::read(dir.join("results.json"))
        .ok()
        .and_then(|d| serde_json::from_slice(&d).ok())
    {
        Some(r) => r,
        None => return Ok(Err("the builder uploaded no valid results.json".into())),
    };
    if !names::valid_package(&results.name) {
        return Ok(Err(format!("invalid package name `{}`", results.name)));
    }
    let version = match results.epoch {
        Some(e) if e > 0 => format!("{e}:{}-{}", results.version, results.release),
        _ => format!("{}-{}", results.version, results.release),
    };
    let build = st
        .store
        .get_build(build_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Build {build_id} does not exist.")))?;
    let skips: Vec<(String, String)> = build
        .chroots
        .iter()
        .filter_map(|c| {
            arch_skip_reason(
                chroot_arch(&c.name),
                &results.exclusivearch,
                &results.excludearch,
            )
            .map(|r| (c.name.clone(), r))
        })
        .collect();
    let url = format!(
        "{}/{}/{}/srpm-builds/{build_id:08}/{srpm}",
        st.results_url, row.ownername, row.project_dirname
    );
    if !st
        .store
        .accept_source(build_id, lease, (&results.name, &version), &url, &skips)
        .await?
    {
        return Err(ApiError::Conflict(format!(
            "{} is no longer held by this lease.",
            row.key
        )));
    }
    Ok(Ok(()))
}

/// Stream a request body to `path`, refusing more than `limit` bytes.
async fn receive(body: Body, path: &FsPath, limit: u64) -> ApiResult<()> {
    let mut out = tokio::fs::File::create(path)
        .await
        .map_err(ApiError::internal)?;
    let mut size = 0u64;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::BadRequest(format!("cannot read the upload: {e}")))?;
        size += chunk.len() as u64;
        if size > limit {
            return Err(ApiError::TooLarge(format!(
                "The results are larger than the limit of {limit} bytes."
            )));
        }
        out.write_all(&chunk).await.map_err(ApiError::internal)?;
    }
    out.flush().await.map_err(ApiError::internal)?;
    Ok(())
}

/// Unpack a results tarball into `dir`: plain top-level files only, safe names, at most
/// `limit` bytes in all. The files are staged next to `dir` and moved in only when the whole
/// archive is valid; the live log is never replaced (the streamed one is authoritative).
fn unpack(tarball: &FsPath, dir: &FsPath, limit: u64) -> ApiResult<Vec<String>> {
    let parent = dir
        .parent()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no parent of {}", dir.display())))?;
    fs_err::create_dir_all(parent).map_err(ApiError::internal)?;
    let staging = tempfile::Builder::new()
        .prefix(".incoming-")
        .tempdir_in(parent)
        .map_err(ApiError::internal)?;
    let bad = |m: String| ApiError::BadRequest(format!("invalid results archive: {m}"));
    let file = fs_err::File::open(tarball).map_err(ApiError::internal)?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut total = 0u64;
    let mut names_out: Vec<String> = Vec::new();
    for entry in archive.entries().map_err(|e| bad(e.to_string()))? {
        let mut entry = entry.map_err(|e| bad(e.to_string()))?;
        let kind = entry.header().entry_type();
        let path: PathBuf = entry.path().map_err(|e| bad(e.to_string()))?.into_owned();
        let comps: Vec<_> = path
            .components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .collect();
        if kind.is_dir() && comps.is_empty() {
            continue;
        }
        let name = match comps.as_slice() {
            [std::path::Component::Normal(n)] => n.to_string_lossy().into_owned(),
            _ => return Err(bad(format!("`{}` is not a top-level file", path.display()))),
        };
        if !kind.is_file() {
            return Err(bad(format!("`{name}` is not a regular file")));
        }
        if !names::valid_file_name(&name) || names_out.contains(&name) {
            return Err(bad(format!("invalid or repeated file name `{name}`")));
        }
        let size = entry.header().size().map_err(|e| bad(e.to_string()))?;
        total += size;
        if total > limit {
            return Err(ApiError::TooLarge(format!(
                "The unpacked results are larger than the limit of {limit} bytes."
            )));
        }
        let target = staging.path().join(&name);
        let mut out = fs_err::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
            .map_err(ApiError::internal)?;
        let mut limited = (&mut entry).take(size);
        std::io::copy(&mut limited, &mut out).map_err(|e| bad(e.to_string()))?;
        names_out.push(name);
    }
    fs_err::create_dir_all(dir).map_err(ApiError::internal)?;
    for name in &names_out {
        if name == LIVE_LOG {
            continue;
        }
        fs_err::rename(staging.path().join(name), dir.join(name)).map_err(ApiError::internal)?;
    }
    Ok(names_out)
}

#[derive(Debug, Deserialize)]
pub struct JobSpecQuery {
    pub chroot: Option<String>,
}

/// `GET /api_3/build/job-spec/{id}[?chroot=NAME]`: the JobSpec the builder ran or will run.
pub async fn job_spec(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<JobSpecQuery>,
) -> ApiResult<Response> {
    let key = task_key(&id, q.chroot.as_deref())?;
    let row = st.store.task(&key).await?.ok_or_else(|| match &key {
        TaskKey::Source(id) => ApiError::NotFound(format!("Build {id} does not exist.")),
        TaskKey::Chroot(id, c) => ApiError::NotFound(format!("Build {id} has no chroot {c}.")),
    })?;
    let text = match row.job {
        Some(job) => job,
        None => dispatch::compose(&st, &key, None)
            .await
            .map_err(|reason| {
                ApiError::NotFound(format!("There is no job spec for {key} yet: {reason}"))
            })?
            .to_json(),
    };
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        text,
    )
        .into_response())
}
