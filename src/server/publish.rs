//! Publishing accepted build results as signed dnf repositories.
//!
//! When the results of a successful chroot task have been unpacked into
//! `results/<owner>/<dirname>/<chroot>/<id:08>-<package>/`, the handler calls [`enqueue`]. That
//! only records the request in a journal file (`<data>/publish-queue/`) and hands it to the
//! [`Publisher`]; the HTTP handler never waits for signing or createrepo.
//!
//! Per chroot repository the publisher runs one job at a time, and every request that arrived
//! while a job ran is published by the next job together (coalescing: ten builds finishing
//! together cost one or two createrepo runs, not ten). Different chroots are published in
//! parallel, up to `[publish] parallel`. A job, on a blocking thread:
//!
//! 1. signs the RPMs of the new build directories (and the build's SRPM in `srpm-builds/`) with
//!    the project key, skipping packages this key already signed; a build whose packages cannot
//!    be read or signed fails (its RPMs are removed so the repository stays publishable);
//! 2. prunes: of each package of the job, the newest `keep_builds` successful builds stay, older
//!    successful ones go, and failed or canceled ones older than the newest kept build go once
//!    they are `keep_failed_days` old. Only finished builds that are not part of a job are
//!    removed; projects with `auto_prune` off or `persistent` on are never pruned. A pruned
//!    directory is parked under a hidden name (out of createrepo's scan) with a symlink at its
//!    old name, and removed only once the new metadata is published;
//! 3. regenerates the chroot's repodata incrementally (atomic: `repomd.xml` is renamed into
//!    place last) with a signed `repomd.xml.asc`.
//!
//! Then every build of the job becomes `succeeded` (or `failed`, with the reason), its journal
//! entry is removed and its [`PublishTicket`] resolves. A build's chroot state therefore reads
//! `succeeded` only once a repository containing it is published, so a client may install
//! from the repository as soon as it sees the state.
//!
//! After a crash, [`Publisher::recover`] (called when the server starts) publishes every
//! journalled request again: signing and createrepo are idempotent, nothing is lost and a
//! half-finished createrepo run never became visible.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, Semaphore, oneshot};

use super::AppState;
use super::model::{Build, Project, State};
use super::store::Store;
use crate::repo::createrepo::{CreaterepoOptions, createrepo, find_packages};
use crate::repo::keys::SigningKey;
use crate::repo::rpmsign::sign_rpm;

/// `[publish]` in the server configuration.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct PublishConfig {
    /// Successful builds kept per package and chroot (the newest ones); 0 keeps everything.
    pub keep_builds: usize,
    /// Failed and canceled builds older than a package's newest kept build are removed once
    /// they are this many days old.
    pub keep_failed_days: u64,
    /// Chroot repositories published at the same time.
    pub parallel: usize,
    /// Threads of one createrepo run (default: all cores).
    pub workers: Option<usize>,
}

impl Default for PublishConfig {
    fn default() -> Self {
        PublishConfig {
            keep_builds: 1,
            keep_failed_days: 14,
            parallel: 2,
            workers: None,
        }
    }
}

/// One accepted chroot result to publish.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PublishRequest {
    pub build_id: i64,
    pub project_id: i64,
    /// `user` or `@group`.
    pub owner: String,
    /// The project name (the signing key belongs to it).
    pub project: String,
    /// The results directory: the project name, or `project:suffix`.
    pub dirname: String,
    pub chroot: String,
    pub package: Option<String>,
}

impl PublishRequest {
    /// The request for one chroot of a build.
    pub fn for_build(build: &Build, chroot: &str) -> PublishRequest {
        PublishRequest {
            build_id: build.id,
            project_id: build.project_id,
            owner: build.ownername.clone(),
            project: build.projectname.clone(),
            dirname: build.project_dirname.clone(),
            chroot: chroot.to_string(),
            package: build.package_name.clone(),
        }
    }

    fn repo(&self) -> Repo {
        Repo {
            project_id: self.project_id,
            owner: self.owner.clone(),
            project: self.project.clone(),
            dirname: self.dirname.clone(),
            chroot: self.chroot.clone(),
        }
    }

    fn journal_name(&self) -> String {
        format!("{}-{}.json", self.build_id, self.chroot)
    }
}

/// The name of a build's result directory in a chroot: `00000042-hello`, or `00000042` when
/// the package is not known.
pub fn build_dir_name(build_id: i64, package: Option<&str>) -> String {
    match package {
        Some(p) if !p.is_empty() => format!("{build_id:08}-{p}"),
        _ => format!("{build_id:08}"),
    }
}

/// One chroot repository: `results/<owner>/<dirname>/<chroot>/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Repo {
    pub project_id: i64,
    pub owner: String,
    pub project: String,
    pub dirname: String,
    pub chroot: String,
}

/// Why a build could not be published.
#[derive(Debug, Clone, thiserror::Error)]
#[error("publishing failed: {0}")]
pub struct PublishFailed(pub String);

/// Resolves once the repository containing the request is published (or publishing failed).
pub struct PublishTicket(oneshot::Receiver<Result<(), PublishFailed>>);

impl PublishTicket {
    pub async fn wait(self) -> Result<(), PublishFailed> {
        self.0
            .await
            .unwrap_or_else(|_| Err(PublishFailed("the publisher stopped".into())))
    }
}

/// Counters of the publisher, for tests and monitoring.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct PublishStats {
    /// createrepo runs (one per publication job).
    pub createrepo_runs: u64,
    pub builds_published: u64,
    pub builds_failed: u64,
    /// Build directories removed by pruning.
    pub pruned: u64,
}

type Waiter = oneshot::Sender<Result<(), PublishFailed>>;

#[derive(Default)]
struct ChrootQueue {
    builds: Vec<(PublishRequest, Option<Waiter>)>,
    /// A full regeneration (re-sign everything, no metadata cache) was asked for.
    full: bool,
    full_waiters: Vec<Waiter>,
    running: bool,
}

struct Shared {
    store: Store,
    config: PublishConfig,
    results_dir: PathBuf,
    keys_dir: PathBuf,
    queue_dir: PathBuf,
    queues: Mutex<HashMap<Repo, ChrootQueue>>,
    permits: Arc<Semaphore>,
    idle: Notify,
    createrepo_runs: AtomicU64,
    published: AtomicU64,
    failed: AtomicU64,
    pruned: AtomicU64,
}

/// The background publisher of one server; cheap to share through [`AppState`].
pub struct Publisher {
    shared: Arc<Shared>,
}

/// Hand an accepted chroot result to the server's publisher. Cheap: it writes a small journal
/// file and returns; the returned ticket resolves once the repository is published and the
/// chroot task is `succeeded` (or `failed` with the reason).
pub fn enqueue(st: &AppState, req: PublishRequest) -> PublishTicket {
    st.publisher.enqueue(req)
}

impl Publisher {
    pub fn new(
        store: Store,
        config: PublishConfig,
        results_dir: PathBuf,
        keys_dir: PathBuf,
        queue_dir: PathBuf,
    ) -> Publisher {
        let parallel = config.parallel.max(1);
        Publisher {
            shared: Arc::new(Shared {
                store,
                config,
                results_dir,
                keys_dir,
                queue_dir,
                queues: Mutex::new(HashMap::new()),
                permits: Arc::new(Semaphore::new(parallel)),
                idle: Notify::new(),
                createrepo_runs: AtomicU64::new(0),
                published: AtomicU64::new(0),
                failed: AtomicU64::new(0),
                pruned: AtomicU64::new(0),
            }),
        }
    }

    /// See [`enqueue`].
    pub fn enqueue(&self, req: PublishRequest) -> PublishTicket {
        if let Err(e) = self.journal(&req) {
            // Still published now; only a crash before that would lose it.
            tracing::warn!("publish journal: {e}");
        }
        self.push(req)
    }

    fn journal(&self, req: &PublishRequest) -> std::io::Result<()> {
        fs_err::create_dir_all(&self.shared.queue_dir)?;
        let path = self.shared.queue_dir.join(req.journal_name());
        let bytes = serde_json::to_vec(req).map_err(std::io::Error::other)?;
        crate::repo::cache::write_atomic(&path, &bytes)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))
    }

    fn push(&self, req: PublishRequest) -> PublishTicket {
        let (tx, rx) = oneshot::channel();
        let repo = req.repo();
        let start = {
            let mut queues = self.shared.queues.lock().unwrap_or_else(|p| p.into_inner());
            let q = queues.entry(repo.clone()).or_default();
            q.builds.push((req, Some(tx)));
            !std::mem::replace(&mut q.running, true)
        };
        if start {
            self.spawn(repo);
        }
        PublishTicket(rx)
    }

    /// Regenerate one chroot repository from scratch: sign every package not yet signed by
    /// the project key and rewrite all metadata without the cache.
    pub fn regenerate(&self, repo: Repo) -> PublishTicket {
        let (tx, rx) = oneshot::channel();
        let start = {
            let mut queues = self.shared.queues.lock().unwrap_or_else(|p| p.into_inner());
            let q = queues.entry(repo.clone()).or_default();
            q.full = true;
            q.full_waiters.push(tx);
            !std::mem::replace(&mut q.running, true)
        };
        if start {
            self.spawn(repo);
        }
        PublishTicket(rx)
    }

    fn spawn(&self, repo: Repo) {
        let shared = self.shared.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(h) => {
                h.spawn(drain(shared, repo));
            }
            Err(_) => {
                // Only reachable from code running outside the server's runtime.
                let mut queues = shared.queues.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(q) = queues.remove(&repo) {
                    let reason = PublishFailed("no async runtime to publish on".into());
                    for (_, w) in q.builds {
                        if let Some(w) = w {
                            let _ = w.send(Err(reason.clone()));
                        }
                    }
                    for w in q.full_waiters {
                        let _ = w.send(Err(reason.clone()));
                    }
                }
            }
        }
    }

    /// Publish every request left in the journal by a previous run of the server (it stopped
    /// or crashed before publishing them). Returns how many were queued.
    pub fn recover(&self) -> usize {
        let dir = &self.shared.queue_dir;
        let Ok(entries) = fs_err::read_dir(dir) else {
            return 0;
        };
        let mut reqs = Vec::new();
        for e in entries.flatten() {
            let path = e.path();
            if path.extension().is_none_or(|x| x != "json") {
                continue;
            }
            match fs_err::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| {
                    serde_json::from_slice::<PublishRequest>(&b).map_err(|e| e.to_string())
                }) {
                Ok(r) => reqs.push(r),
                Err(e) => {
                    tracing::warn!("ignoring unreadable publish journal entry: {e}");
                    let _ = fs_err::rename(&path, path.with_extension("json.bad"));
                }
            }
        }
        reqs.sort_by_key(|r| r.build_id);
        let n = reqs.len();
        for r in reqs {
            tracing::info!(
                build = r.build_id,
                chroot = %r.chroot,
                "publishing a result accepted before the restart"
            );
            drop(self.push(r));
        }
        n
    }

    pub fn stats(&self) -> PublishStats {
        let s = &self.shared;
        PublishStats {
            createrepo_runs: s.createrepo_runs.load(Ordering::SeqCst),
            builds_published: s.published.load(Ordering::SeqCst),
            builds_failed: s.failed.load(Ordering::SeqCst),
            pruned: s.pruned.load(Ordering::SeqCst),
        }
    }

    /// Requests queued or being published.
    pub fn busy(&self) -> bool {
        let queues = self.shared.queues.lock().unwrap_or_else(|p| p.into_inner());
        !queues.is_empty()
    }

    /// Wait until nothing is queued or being published.
    pub async fn idle(&self) {
        loop {
            let notified = self.shared.idle.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            if !self.busy() {
                return;
            }
            notified.await;
        }
    }
}

/// Regenerate every chroot repository of a project (each results directory of the project,
/// `project` and `project:suffix`, and every enabled chroot, created empty when it has no
/// results yet, so dnf finds a repository there).
pub async fn regenerate_project(
    st: &AppState,
    p: &Project,
) -> Result<Vec<PublishTicket>, super::store::StoreError> {
    let enabled = st.store.project_chroots(p.id).await?;
    let owner_dir = st.results_dir.join(&p.ownername);
    let mut repos: HashSet<(String, String)> = enabled
        .iter()
        .map(|c| (p.name.clone(), c.mock_chroot.clone()))
        .collect();
    let prefix = format!("{}:", p.name);
    if let Ok(dirs) = fs_err::read_dir(&owner_dir) {
        for d in dirs.flatten() {
            let dirname = d.file_name().to_string_lossy().into_owned();
            if dirname != p.name && !dirname.starts_with(&prefix) {
                continue;
            }
            let Ok(chroots) = fs_err::read_dir(d.path()) else {
                continue;
            };
            for c in chroots.flatten() {
                let chroot = c.file_name().to_string_lossy().into_owned();
                if c.path().is_dir()
                    && !chroot.starts_with('.')
                    && chroot != "srpm-builds"
                    && super::names::valid_chroot(&chroot)
                {
                    repos.insert((dirname.clone(), chroot));
                }
            }
        }
    }
    let mut repos: Vec<_> = repos.into_iter().collect();
    repos.sort();
    Ok(repos
        .into_iter()
        .map(|(dirname, chroot)| {
            st.publisher.regenerate(Repo {
                project_id: p.id,
                owner: p.ownername.clone(),
                project: p.name.clone(),
                dirname,
                chroot,
            })
        })
        .collect())
}

/// Publish one chroot repository until its queue is empty.
async fn drain(shared: Arc<Shared>, repo: Repo) {
    loop {
        let (builds, full, full_waiters) = {
            let mut queues = shared.queues.lock().unwrap_or_else(|p| p.into_inner());
            let Some(q) = queues.get_mut(&repo) else {
                return;
            };
            if q.builds.is_empty() && !q.full {
                queues.remove(&repo);
                drop(queues);
                shared.idle.notify_waiters();
                return;
            }
            let builds = std::mem::take(&mut q.builds);
            let full = std::mem::replace(&mut q.full, false);
            (builds, full, std::mem::take(&mut q.full_waiters))
        };
        let permit = shared.permits.clone().acquire_owned().await;
        let outcome = publish_job(&shared, &repo, &builds, full).await;
        drop(permit);
        finish_job(&shared, builds, full_waiters, outcome).await;
    }
}

/// What one job did: the per-build failures and the createrepo outcome.
struct JobOutcome {
    build_errors: HashMap<i64, String>,
    repo: Result<(), String>,
}

async fn publish_job(
    shared: &Arc<Shared>,
    repo: &Repo,
    builds: &[(PublishRequest, Option<Waiter>)],
    full: bool,
) -> JobOutcome {
    let requests: Vec<PublishRequest> = builds.iter().map(|(r, _)| r.clone()).collect();
    let prune = match prune_candidates(shared, repo, &requests, full).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(chroot = %repo.chroot, "pruning skipped: {e}");
            Vec::new()
        }
    };
    let shared2 = shared.clone();
    let repo2 = repo.clone();
    let res = tokio::task::spawn_blocking(move || {
        publish_blocking(&shared2, &repo2, &requests, &prune, full)
    })
    .await;
    match res {
        Ok(o) => o,
        Err(e) => JobOutcome {
            build_errors: HashMap::new(),
            repo: Err(format!("the publishing task ended abnormally: {e}")),
        },
    }
}

/// Build directories (relative to the chroot directory) that pruning removes in this job.
async fn prune_candidates(
    shared: &Shared,
    repo: &Repo,
    requests: &[PublishRequest],
    full: bool,
) -> Result<Vec<String>, super::store::StoreError> {
    let keep = shared.config.keep_builds;
    if keep == 0 {
        return Ok(Vec::new());
    }
    let Some(project) = shared.store.get_project_by_id(repo.project_id).await? else {
        return Ok(Vec::new());
    };
    if !project.settings.auto_prune || project.settings.persistent {
        return Ok(Vec::new());
    }
    let packages: Vec<String> = {
        let set: HashSet<String> = requests.iter().filter_map(|r| r.package.clone()).collect();
        set.into_iter().collect()
    };
    if !full && packages.is_empty() {
        return Ok(Vec::new());
    }
    let rows = shared
        .store
        .chroot_builds(
            repo.project_id,
            &repo.dirname,
            &repo.chroot,
            (!full).then_some(packages.as_slice()),
        )
        .await?;
    let in_job: HashSet<i64> = requests.iter().map(|r| r.build_id).collect();
    let queued = queued_builds(shared, repo);
    // Builds a module was built or released from stay: its artifacts must remain installable.
    let held = shared.store.module_build_ids(repo.project_id).await?;
    let now = super::model::now();
    let failed_age = shared.config.keep_failed_days as i64 * 86400;
    let mut by_package: BTreeMap<String, Vec<&super::store::ChrootBuildRow>> = BTreeMap::new();
    for r in &rows {
        if let Some(p) = &r.package_name {
            by_package.entry(p.clone()).or_default().push(r);
        }
    }
    let mut out = Vec::new();
    for (package, mut rows) in by_package {
        rows.sort_by_key(|r| std::cmp::Reverse(r.build_id));
        // Builds of this job count as successful: they are published now.
        let good = |r: &super::store::ChrootBuildRow| {
            in_job.contains(&r.build_id) || matches!(r.state, State::Succeeded | State::Forked)
        };
        let kept: Vec<i64> = rows
            .iter()
            .filter(|r| good(r))
            .take(keep)
            .map(|r| r.build_id)
            .collect();
        let Some(&oldest_kept) = kept.last() else {
            continue;
        };
        for r in &rows {
            if in_job.contains(&r.build_id)
                || queued.contains(&r.build_id)
                || held.contains(&r.build_id)
                || kept.contains(&r.build_id)
                || !r.state.is_finished()
            {
                continue;
            }
            let remove = if good(r) {
                true
            } else {
                r.build_id < oldest_kept && r.ended_on.is_some_and(|t| now - t >= failed_age)
            };
            if remove {
                out.push(build_dir_name(r.build_id, Some(&package)));
            }
        }
    }
    Ok(out)
}

/// Builds waiting in the queue of `repo` (they arrived while this job was being prepared).
fn queued_builds(shared: &Shared, repo: &Repo) -> HashSet<i64> {
    let queues = shared.queues.lock().unwrap_or_else(|p| p.into_inner());
    queues
        .get(repo)
        .map(|q| q.builds.iter().map(|(r, _)| r.build_id).collect())
        .unwrap_or_default()
}

fn publish_blocking(
    shared: &Shared,
    repo: &Repo,
    requests: &[PublishRequest],
    prune: &[String],
    full: bool,
) -> JobOutcome {
    let mut build_errors = HashMap::new();
    let key = match project_key(shared, repo) {
        Ok(k) => k,
        Err(e) => {
            return JobOutcome {
                build_errors,
                repo: Err(e),
            };
        }
    };
    let project_dir = shared.results_dir.join(&repo.owner).join(&repo.dirname);
    let chroot_dir = project_dir.join(&repo.chroot);
    if let Err(e) = fs_err::create_dir_all(&chroot_dir) {
        return JobOutcome {
            build_errors,
            repo: Err(e.to_string()),
        };
    }
    for r in requests {
        let dir = chroot_dir.join(build_dir_name(r.build_id, r.package.as_deref()));
        if let Err(e) = sign_dir(&dir, &key) {
            tracing::warn!(build = r.build_id, chroot = %r.chroot, "{e}");
            // Keep the logs, drop the packages: the repository must stay publishable.
            if let Ok(pkgs) = find_packages(&dir) {
                for (p, _) in pkgs {
                    let _ = fs_err::remove_file(p);
                }
            }
            build_errors.insert(r.build_id, e);
            continue;
        }
        let srpm_dir = project_dir
            .join("srpm-builds")
            .join(build_dir_name(r.build_id, None));
        if srpm_dir.is_dir()
            && let Err(e) = sign_dir(&srpm_dir, &key)
        {
            tracing::warn!(build = r.build_id, "SRPM not signed: {e}");
        }
    }
    if full && let Err(e) = sign_dir(&chroot_dir, &key) {
        return JobOutcome {
            build_errors,
            repo: Err(e),
        };
    }
    // Pruned builds leave the scan under a hidden name but stay reachable at their old URLs
    // through a symlink until the new repomd.xml is in place: a client holding the previous
    // metadata never gets a 404.
    let mut parked = Vec::new();
    for name in prune {
        let dir = chroot_dir.join(name);
        let hidden_name = format!("{PRUNED}{name}");
        let hidden = chroot_dir.join(&hidden_name);
        if dir.is_symlink() || !dir.is_dir() {
            continue;
        }
        match fs_err::rename(&dir, &hidden) {
            Ok(()) => {
                if let Err(e) = std::os::unix::fs::symlink(&hidden_name, &dir) {
                    tracing::warn!("{}: {e}", dir.display());
                }
                parked.push((dir, hidden));
            }
            Err(e) => tracing::warn!("pruning: {e}"),
        }
    }
    shared.createrepo_runs.fetch_add(1, Ordering::SeqCst);
    let opts = CreaterepoOptions {
        update: !full,
        workers: shared.config.workers,
        sign_key: Some(&key),
        ..Default::default()
    };
    let repo_result = createrepo(&chroot_dir, &opts, &crate::reporter::Silent)
        .map(|_| ())
        .map_err(|e| e.to_string());
    if repo_result.is_ok() {
        for (dir, _) in &parked {
            tracing::info!(dir = %dir.display(), "pruned");
        }
        shared
            .pruned
            .fetch_add(parked.len() as u64, Ordering::SeqCst);
        // Also what a crash left parked by an earlier job.
        remove_parked(&chroot_dir);
    } else {
        // The old repomd.xml still lists them: put them back.
        for (dir, hidden) in parked {
            let _ = fs_err::remove_file(&dir);
            if let Err(e) = fs_err::rename(&hidden, &dir) {
                tracing::warn!("restoring a pruned build: {e}");
            }
        }
    }
    JobOutcome {
        build_errors,
        repo: repo_result,
    }
}

/// Prefix of build directories parked for removal while a repository is regenerated.
const PRUNED: &str = ".pruned-";

/// Remove parked build directories and the symlinks that kept their old URLs working.
fn remove_parked(chroot_dir: &Path) {
    let Ok(entries) = fs_err::read_dir(chroot_dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        let is_link = e.file_type().is_ok_and(|t| t.is_symlink());
        let r = if name.starts_with(PRUNED) && !is_link {
            fs_err::remove_dir_all(&path)
        } else if is_link
            && std::fs::read_link(&path).is_ok_and(|t| t.to_string_lossy().starts_with(PRUNED))
        {
            fs_err::remove_file(&path)
        } else {
            continue;
        };
        if let Err(e) = r {
            tracing::warn!("pruning: {e}");
        }
    }
}

/// The project's signing key; its public half is (re)written to `pubkey.gpg` when missing.
fn project_key(shared: &Shared, repo: &Repo) -> Result<SigningKey, String> {
    let key = super::keys::key_store(&shared.keys_dir)
        .get_or_create(&repo.owner, &repo.project)
        .map_err(|e| format!("project key: {e}"))?;
    let pubkey = shared
        .results_dir
        .join(&repo.owner)
        .join(&repo.project)
        .join("pubkey.gpg");
    if !pubkey.is_file() {
        super::keys::ensure_project_key(
            &shared.keys_dir,
            &shared.results_dir,
            &repo.owner,
            &repo.project,
        )
        .map_err(|e| format!("{e}"))?;
    }
    Ok(key)
}

/// Sign every package under `dir` not yet signed by `key`.
fn sign_dir(dir: &Path, key: &SigningKey) -> Result<(), String> {
    if !dir.is_dir() {
        return Ok(());
    }
    let pkgs = find_packages(dir).map_err(|e| e.to_string())?;
    use rayon::prelude::*;
    pkgs.par_iter()
        .map(|(p, _)| sign_rpm(p, key, false).map(|_| ()))
        .collect::<Result<Vec<()>, _>>()
        .map_err(|e| e.to_string())?;
    Ok(())
}

async fn finish_job(
    shared: &Arc<Shared>,
    builds: Vec<(PublishRequest, Option<Waiter>)>,
    full_waiters: Vec<Waiter>,
    outcome: JobOutcome,
) {
    if let Err(e) = &outcome.repo {
        tracing::warn!("createrepo failed: {e}");
    }
    for (req, waiter) in builds {
        let result = match (outcome.build_errors.get(&req.build_id), &outcome.repo) {
            (Some(e), _) => Err(PublishFailed(e.clone())),
            (None, Err(e)) => Err(PublishFailed(e.clone())),
            (None, Ok(())) => Ok(()),
        };
        if let Err(e) = record_state(shared, &req, &result).await {
            // The journal entry stays: the next start publishes it again.
            tracing::warn!(
                build = req.build_id,
                "cannot record the published state: {e}"
            );
            if let Some(w) = waiter {
                let _ = w.send(Err(PublishFailed(format!("cannot record the state: {e}"))));
            }
            continue;
        }
        match &result {
            Ok(()) => shared.published.fetch_add(1, Ordering::SeqCst),
            Err(_) => shared.failed.fetch_add(1, Ordering::SeqCst),
        };
        let _ = fs_err::remove_file(shared.queue_dir.join(req.journal_name()));
        if let Some(w) = waiter {
            let _ = w.send(result);
        }
    }
    for w in full_waiters {
        let _ = w.send(outcome.repo.clone().map_err(PublishFailed));
    }
}

/// Move the chroot task to its final state, unless it already has one (canceled meanwhile,
/// or recorded before a restart).
async fn record_state(
    shared: &Shared,
    req: &PublishRequest,
    result: &Result<(), PublishFailed>,
) -> Result<(), super::store::StoreError> {
    match shared.store.chroot_state(req.build_id, &req.chroot).await? {
        None => return Ok(()),
        Some(s) if s.is_finished() => return Ok(()),
        Some(_) => {}
    }
    let (state, reason) = match result {
        Ok(()) => (State::Succeeded, None),
        Err(e) => (State::Failed, Some(e.to_string())),
    };
    shared
        .store
        .set_chroot_state(req.build_id, &req.chroot, state, reason.as_deref())
        .await?;
    Ok(())
}
