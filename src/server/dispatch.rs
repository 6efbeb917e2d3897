//! Dispatch of remote builds: which task goes to which builder, and what happens when builders
//! fail.
//!
//! * **Queue.** A build explodes into its source (SRPM) task, then — once the SRPM is accepted —
//!   one task per chroot (chroots the SRPM excludes by ExclusiveArch/ExcludeArch are skipped).
//!   Batches are honoured (a build `after` another batch waits for it to finish).
//! * **Fair share.** [`Store::claim_task`](super::store::Store::claim_task) picks the owner
//!   with ready work that has the fewest tasks in progress and was served longest ago
//!   (background builds last), then that owner's oldest task. One owner's thousand queued
//!   builds therefore cannot starve another owner's single build.
//! * **Wake-ups.** Idle builders long-poll; anything that makes a task ready calls
//!   [`Dispatcher::wake`], which wakes every waiting request at once (no polling interval).
//! * **Faults.** A sweeper runs every heartbeat interval: a task whose builder has not sent a
//!   heartbeat for `heartbeat_timeout` seconds goes back to the queue (up to `max_attempts`
//!   claims, then it fails with the reason in its log and `status_reason`); a task running
//!   past its build timeout (plus a grace period) fails. At start-up every task in progress
//!   gets a fresh heartbeat, so builders reconnecting after a server restart keep their tasks.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;

use super::AppState;
use super::model::{Build, State, now};
use super::store::{ClaimFilter, StaleOutcome, StoreError, TaskKey, TaskRow};
use crate::job::{JobSpec, ProjectRef, Source, SrpmMethod};
use crate::pipeline::LIVE_LOG;

/// Shared dispatch state of one server process.
#[derive(Default)]
pub struct Dispatcher {
    notify: Notify,
    /// Serial of the last claim per owner (fair share tie-breaker).
    served: Mutex<(u64, HashMap<String, u64>)>,
    /// Serializes live-log appends.
    pub log_lock: tokio::sync::Mutex<()>,
}

impl Dispatcher {
    /// Tell waiting builders that a task may have become ready.
    pub fn wake(&self) {
        self.notify.notify_waiters();
    }

    fn served_snapshot(&self) -> HashMap<String, u64> {
        self.served.lock().map(|g| g.1.clone()).unwrap_or_default()
    }

    fn mark_served(&self, owner: &str) {
        if let Ok(mut g) = self.served.lock() {
            g.0 += 1;
            let n = g.0;
            g.1.insert(owner.to_string(), n);
        }
    }
}

/// A task handed to a builder slot.
#[derive(Debug, Clone)]
pub struct Assignment {
    pub key: TaskKey,
    pub worker: String,
    pub job: JobSpec,
    pub package: Option<String>,
    /// Length of the live log already on the server (earlier attempts); the builder appends
    /// after it.
    pub log_base: u64,
}

/// Wait up to `wait` for a task this builder can take, claim it and compose its JobSpec.
pub async fn claim(
    st: &AppState,
    builder: &str,
    filter: &ClaimFilter,
    backend: Option<crate::mock::BackendKind>,
    wait: Duration,
) -> Result<Option<Assignment>, StoreError> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let notified = st.dispatch.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let worker = format!("{builder}#{}", lease_id());
        let served = st.dispatch.served_snapshot();
        if let Some(key) = st.store.claim_task(filter, &worker, &served).await? {
            let Some(row) = st.store.task(&key).await? else {
                continue;
            };
            st.dispatch.mark_served(&row.ownername);
            match compose(st, &key, backend).await {
                Ok(job) => {
                    st.store.set_task_job(&key, &job.to_json()).await?;
                    let log_base = std::fs::metadata(log_path(st, &row))
                        .map(|m| m.len())
                        .unwrap_or(0);
                    return Ok(Some(Assignment {
                        key,
                        worker,
                        job,
                        package: row.package_name,
                        log_base,
                    }));
                }
                Err(reason) => {
                    // Nothing a builder could do with it: fail it at once, visibly.
                    append_note(st, &row, &format!("error: {reason}")).await;
                    st.store
                        .end_task(&key, &worker, State::Failed, Some(&reason))
                        .await?;
                    st.dispatch.wake();
                    continue;
                }
            }
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return Ok(None);
        }
    }
}

fn lease_id() -> String {
    super::accounts::random_token()[..16].to_string()
}

/// The results directory of a task: `srpm-builds/<id:08>/` or `<chroot>/<id:08>-<pkg>/`.
pub fn task_dir(st: &AppState, row: &TaskRow) -> PathBuf {
    let base = st
        .results_dir
        .join(&row.ownername)
        .join(&row.project_dirname);
    match &row.key {
        TaskKey::Source(id) => base.join("srpm-builds").join(format!("{id:08}")),
        TaskKey::Chroot(id, chroot) => base.join(chroot).join(match &row.package_name {
            Some(name) => format!("{id:08}-{name}"),
            None => format!("{id:08}"),
        }),
    }
}

/// The live log of a task.
pub fn log_path(st: &AppState, row: &TaskRow) -> PathBuf {
    task_dir(st, row).join(LIVE_LOG)
}

/// Append a line of the server's own to a task's live log (re-queues, failures).
pub async fn append_note(st: &AppState, row: &TaskRow, text: &str) {
    let path = log_path(st, row);
    let _guard = st.dispatch.log_lock.lock().await;
    let line = format!("\n=== copr serve: {text}\n");
    let res = (|| -> std::io::Result<()> {
        use std::io::Write;
        if let Some(dir) = path.parent() {
            fs_err::create_dir_all(dir)?;
        }
        let mut f = fs_err::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        f.write_all(line.as_bytes())
    })();
    if let Err(e) = res {
        tracing::warn!("cannot write to {}: {e}", path.display());
    }
}

/// The JobSpec of a task: what the builder runs (and `copr repro` re-runs).
pub async fn compose(
    st: &AppState,
    key: &TaskKey,
    backend: Option<crate::mock::BackendKind>,
) -> Result<JobSpec, String> {
    let b = st
        .store
        .get_build(key.build_id())
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("build {} does not exist", key.build_id()))?;
    let mut job = match key {
        TaskKey::Source(_) => source_job(&b)?,
        TaskKey::Chroot(_, chroot) => chroot_job(st, &b, chroot).await?,
    };
    job.backend = backend;
    // Macros every task of the build defines (a module's `buildopts: rpms: macros`).
    if let Some(m) = b.source_json.get("macros").and_then(|m| m.as_object()) {
        for (k, v) in m {
            if let Some(v) = v.as_str() {
                job.macros.insert(k.clone(), v.to_string());
            }
        }
    }
    job.timeout = b.timeout.max(1) as u64;
    job.enable_net = b.options.enable_net;
    job.project = Some(ProjectRef {
        owner: b.ownername.clone(),
        name: b.projectname.clone(),
    });
    job.build_id = Some(b.id as u64);
    job.validate().map_err(|e| e.to_string())?;
    Ok(job)
}

fn source_job(b: &Build) -> Result<JobSpec, String> {
    let chroots: Vec<String> = b.chroots.iter().map(|c| c.name.clone()).collect();
    let s = |k: &str| {
        b.source_json
            .get(k)
            .and_then(|v| v.as_str())
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let (source, method) = match b.source_type.as_str() {
        "link" | "upload" => {
            let url = s("url").ok_or("the build has no source URL")?;
            (Source::Url { url }, SrpmMethod::Rpmbuild)
        }
        "scm" => {
            if s("type").as_deref() == Some("svn") {
                return Err("SVN sources are not supported by copr builders".into());
            }
            let method = match s("srpm_build_method").as_deref() {
                None | Some("rpkg") => SrpmMethod::Rpkg,
                Some("tito") => SrpmMethod::Tito,
                Some("tito_test") => SrpmMethod::TitoTest,
                Some("make_srpm") => SrpmMethod::MakeSrpm,
                Some("rpmbuild") => SrpmMethod::Rpmbuild,
                Some(other) => return Err(format!("unknown SRPM build method `{other}`")),
            };
            (
                Source::Git {
                    url: s("clone_url").ok_or("the build has no clone URL")?,
                    committish: s("committish"),
                    subdir: s("subdirectory").map(PathBuf::from),
                    spec: s("spec").map(PathBuf::from),
                },
                method,
            )
        }
        "custom" => (
            // The script runs in the builder's source stage with the builder host's tools;
            // Copr's `chroot` (where Copr would run it) and `repos` are not used.
            Source::Custom {
                script: PathBuf::from("script"),
                content: Some(s("script").ok_or("the build has no custom script")?),
                resultdir: s("resultdir").map(PathBuf::from),
                builddeps: s("builddeps")
                    .map(|d| d.split_whitespace().map(str::to_string).collect())
                    .unwrap_or_default(),
            },
            SrpmMethod::Custom,
        ),
        other => {
            return Err(format!(
                "builds of source type `{other}` cannot run on copr builders (supported: URL, \
                 upload, SCM, custom)"
            ));
        }
    };
    let mut job = JobSpec::new(source, chroots);
    job.method = method;
    job.package_name = b.package_name.clone();
    Ok(job)
}

async fn chroot_job(st: &AppState, b: &Build, chroot: &str) -> Result<JobSpec, String> {
    let url = b
        .srpm_url
        .clone()
        .ok_or("the source RPM of this build is not available")?;
    let mut job = JobSpec::new(Source::Url { url }, vec![chroot.to_string()]);
    job.package_name = b.package_name.clone();
    let project = st
        .store
        .get_project_by_id(b.project_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the project of this build no longer exists")?;
    let pc = st
        .store
        .project_chroots(project.id)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .find(|c| c.mock_chroot == chroot);
    // The project's own repository first, once it has been published.
    let own = st
        .results_dir
        .join(&b.ownername)
        .join(&b.project_dirname)
        .join(chroot);
    if own.join("repodata/repomd.xml").is_file() {
        job.repos.push(format!(
            "{}/{}/{}/{}/",
            st.results_url, b.ownername, b.project_dirname, chroot
        ));
    }
    let extra = project
        .settings
        .additional_repos
        .iter()
        .chain(pc.iter().flat_map(|c| c.settings.additional_repos.iter()));
    for url in extra {
        let (_, base, _) = super::render::expand_repo(st, url, chroot);
        job.repos.push(base);
    }
    if let Some(pc) = &pc {
        job.buildroot_pkgs = pc.settings.additional_packages.clone();
        job.with = pc.settings.with_opts.clone();
        job.without = pc.settings.without_opts.clone();
    }
    Ok(job)
}

/// Re-queue or fail tasks whose builder went silent; fail tasks past their deadline.
pub async fn sweep(st: &AppState) -> Result<(), StoreError> {
    let cfg = &st.config.builders;
    let t = now();
    let mut changed = false;
    for row in st
        .store
        .stale_tasks(t - cfg.heartbeat_timeout as i64)
        .await?
    {
        let Some(worker) = row.worker.clone() else {
            continue;
        };
        let builder = worker.split('#').next().unwrap_or(&worker).to_string();
        let outcome = if row.canceled {
            StaleOutcome::Cancel
        } else if row.attempts >= cfg.max_attempts {
            StaleOutcome::Fail(format!(
                "builder {builder} stopped responding; gave up after {} attempts",
                row.attempts
            ))
        } else {
            StaleOutcome::Requeue
        };
        if st.store.end_stale_task(&row.key, &worker, &outcome).await? {
            let note = match &outcome {
                StaleOutcome::Requeue => format!(
                    "builder {builder} stopped sending heartbeats; {} re-queued (attempt {} of {})",
                    row.key, row.attempts, cfg.max_attempts
                ),
                StaleOutcome::Fail(r) => format!("{} failed: {r}", row.key),
                StaleOutcome::Cancel => format!("{} canceled (its builder is gone)", row.key),
            };
            tracing::warn!("{note}");
            append_note(st, &row, &note).await;
            changed = true;
        }
    }
    for row in st.store.active_tasks().await? {
        let (Some(worker), Some(claimed)) = (row.worker.clone(), row.claimed) else {
            continue;
        };
        if claimed + row.timeout + (cfg.timeout_grace as i64) >= t {
            continue;
        }
        let reason = format!(
            "the build exceeded its timeout of {} seconds and its builder did not stop it",
            row.timeout
        );
        if st
            .store
            .end_stale_task(&row.key, &worker, &StaleOutcome::Fail(reason.clone()))
            .await?
        {
            append_note(st, &row, &reason).await;
            changed = true;
        }
    }
    if changed {
        st.dispatch.wake();
    }
    Ok(())
}

/// Start the fault sweeper. In-progress tasks first get a fresh heartbeat (server restart).
pub async fn start(st: &AppState) -> Result<(), StoreError> {
    // Accepted results survive a restart in the publish journal; one accepted just before a
    // crash without a journal entry is built again.
    let journal = st.config.data_dir.join("publish-queue");
    for row in st.store.active_tasks().await? {
        if let (true, TaskKey::Chroot(id, chroot)) = (row.accepted, &row.key)
            && !journal.join(format!("{id}-{chroot}.json")).exists()
        {
            st.store.revive_accepted(*id, chroot).await?;
        }
    }
    st.store.touch_active_tasks().await?;
    let st = st.clone();
    tokio::spawn(async move {
        let period = Duration::from_secs(st.config.builders.heartbeat_interval.max(1));
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = sweep(&st).await {
                tracing::error!("task sweep failed: {e}");
            }
        }
    });
    Ok(())
}

/// Hand a chroot task's accepted results (`results/<owner>/<dirname>/<chroot>/<id:08>-<pkg>/`)
/// to publishing, which signs them, regenerates the repository and then marks the task.
pub async fn results_accepted(
    st: &AppState,
    build_id: i64,
    chroot: &str,
) -> Result<(), StoreError> {
    if let Some(b) = st.store.get_build(build_id).await? {
        let ticket =
            super::publish::enqueue(st, super::publish::PublishRequest::for_build(&b, chroot));
        // Publishing finishes the task, which may unblock a batch: wake waiting builders then.
        let st = st.clone();
        tokio::spawn(async move {
            let _ = ticket.wait().await;
            st.dispatch.wake();
        });
    }
    Ok(())
}
