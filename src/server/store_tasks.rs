//! Builders and the task queue of remote builds (a child module of [`super`], sharing its query
//! macros): builder tokens, claiming the next task with fair share across owners, leases,
//! heartbeats, finishing, and the fault sweeps (stale heartbeats, overdue tasks).
//!
//! A *task* is a build's source (SRPM) task or one of its chroot tasks. A claimed task records
//! the lease of the builder slot holding it (`worker` / `source_worker`, `NAME#LEASE`); every
//! later write of that builder names the lease and is refused when it no longer matches.

use std::collections::HashMap;

use sqlx::{AssertSqlSafe, Row};

use super::{Backend, Result, Store, finished_codes, placeholders};
use crate::server::model::*;

/// Which task of a build.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TaskKey {
    /// The source (SRPM) task.
    Source(i64),
    /// The task of one chroot.
    Chroot(i64, String),
}

impl TaskKey {
    pub fn build_id(&self) -> i64 {
        match self {
            TaskKey::Source(id) | TaskKey::Chroot(id, _) => *id,
        }
    }

    pub fn chroot(&self) -> Option<&str> {
        match self {
            TaskKey::Source(_) => None,
            TaskKey::Chroot(_, c) => Some(c),
        }
    }
}

impl std::fmt::Display for TaskKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TaskKey::Source(id) => write!(f, "build {id} (source)"),
            TaskKey::Chroot(id, c) => write!(f, "build {id} ({c})"),
        }
    }
}

/// A registered builder.
#[derive(Debug, Clone)]
pub struct BuilderRow {
    pub id: i64,
    pub name: String,
}

/// One task with what the dispatcher needs to judge it.
#[derive(Debug, Clone)]
pub struct TaskRow {
    pub key: TaskKey,
    pub ownername: String,
    pub project_dirname: String,
    pub package_name: Option<String>,
    pub state: State,
    /// `NAME#LEASE` of the slot holding it.
    pub worker: Option<String>,
    pub canceled: bool,
    /// How many times it was claimed.
    pub attempts: i64,
    pub timeout: i64,
    /// When the current holder claimed it.
    pub claimed: Option<i64>,
    /// The stored JobSpec JSON (set when claimed).
    pub job: Option<String>,
    /// Its results were accepted and are being published (running, no heartbeat expected).
    pub accepted: bool,
}

/// What a builder slot can take.
#[derive(Debug, Clone, Default)]
pub struct ClaimFilter {
    /// Chroots whose tasks it can build.
    pub chroots: Vec<String>,
    /// Whether it takes source (SRPM) tasks.
    pub source: bool,
}

/// How a task whose builder went silent (or ran out of time) ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaleOutcome {
    /// Back to pending for another builder.
    Requeue,
    /// Failed for good, with the reason.
    Fail(String),
    /// The build was canceled meanwhile.
    Cancel,
}

const PENDING: i64 = State::Pending as i64;
const STARTING: i64 = State::Starting as i64;
const RUNNING: i64 = State::Running as i64;

fn source_ready() -> String {
    format!(
        "b.source_state = {PENDING} AND b.canceled = FALSE AND b.source_worker IS NULL \
         AND (bt.blocked_by IS NULL OR NOT EXISTS (SELECT 1 FROM builds o \
              WHERE o.batch_id = bt.blocked_by AND o.state NOT IN ({})))",
        finished_codes()
    )
}

const SOURCE_FROM: &str = "FROM builds b JOIN projects p ON p.id = b.project_id \
     LEFT JOIN batches bt ON bt.id = b.batch_id";
const CHROOT_FROM: &str = "FROM build_chroots bc JOIN builds b ON b.id = bc.build_id \
     JOIN projects p ON p.id = b.project_id";

fn chroot_ready(first: usize, n: usize) -> String {
    format!(
        "bc.state = {PENDING} AND bc.worker IS NULL AND b.canceled = FALSE \
         AND bc.mock_chroot IN ({})",
        placeholders(first, n)
    )
}

const SOURCE_TASK_SELECT: &str = "SELECT b.id AS build_id, NULL AS chroot, p.ownername AS ownername, \
     b.project_dirname AS project_dirname, b.package_name AS package_name, \
     b.source_state AS state, b.source_worker AS worker, b.canceled AS canceled, \
     b.source_attempts AS attempts, b.timeout AS timeout, b.source_claimed AS claimed, \
     b.source_job AS job, b.source_heartbeat AS heartbeat \
     FROM builds b JOIN projects p ON p.id = b.project_id";
const CHROOT_TASK_SELECT: &str = "SELECT b.id AS build_id, bc.mock_chroot AS chroot, \
     p.ownername AS ownername, b.project_dirname AS project_dirname, \
     b.package_name AS package_name, bc.state AS state, bc.worker AS worker, \
     b.canceled AS canceled, bc.attempts AS attempts, b.timeout AS timeout, \
     bc.claimed AS claimed, bc.job AS job, bc.heartbeat AS heartbeat \
     FROM build_chroots bc JOIN builds b ON b.id = bc.build_id \
     JOIN projects p ON p.id = b.project_id";

macro_rules! task_row {
    ($r:expr) => {{
        let id: i64 = $r.try_get("build_id")?;
        let chroot: Option<String> = $r.try_get("chroot")?;
        let state = State::from_code($r.try_get("state")?);
        let worker: Option<String> = $r.try_get("worker")?;
        let heartbeat: Option<i64> = $r.try_get("heartbeat")?;
        TaskRow {
            accepted: state == State::Running && worker.is_some() && heartbeat.is_none(),
            key: match chroot {
                Some(c) => TaskKey::Chroot(id, c),
                None => TaskKey::Source(id),
            },
            ownername: $r.try_get("ownername")?,
            project_dirname: $r.try_get("project_dirname")?,
            package_name: $r.try_get("package_name")?,
            state,
            worker,
            canceled: $r.try_get("canceled")?,
            attempts: $r.try_get("attempts")?,
            timeout: $r.try_get("timeout")?,
            claimed: $r.try_get("claimed")?,
            job: $r.try_get("job")?,
        }
    }};
}

/// End a task inside a transaction: set its final (or pending) state when `worker` still holds
/// it in starting/running; propagate a source outcome to waiting chroots; re-derive the build
/// state. Evaluates to the number of rows changed (0: the lease no longer holds).
macro_rules! end_task {
    ($tx:expr, $key:expr, $worker:expr, $state:expr, $reason:expr) => {{
        let t = now();
        let state: State = $state;
        let reason: Option<&str> = $reason;
        let ended = state.is_finished().then_some(t);
        let n = match $key {
            TaskKey::Source(id) => {
                let requeue = state == State::Pending;
                let n = sqlx::query(
                    "UPDATE builds SET source_state = $1, \
                     source_worker = CASE WHEN $2 THEN NULL ELSE source_worker END \
                     WHERE id = $3 AND source_worker = $4 AND source_state IN ($5, $6)",
                )
                .bind(state.code())
                .bind(requeue)
                .bind(*id)
                .bind($worker)
                .bind(STARTING)
                .bind(RUNNING)
                .execute(&mut *$tx)
                .await?
                .rows_affected();
                let next = match state {
                    State::Succeeded => Some(State::Pending),
                    State::Failed => Some(State::Failed),
                    State::Canceled => Some(State::Canceled),
                    _ => None,
                };
                if n > 0
                    && let Some(next) = next
                {
                    sqlx::query(
                        "UPDATE build_chroots SET state = $1, ended_on = $2, \
                         status_reason = COALESCE(status_reason, $3) \
                         WHERE build_id = $4 AND state = $5",
                    )
                    .bind(next.code())
                    .bind(next.is_finished().then_some(t))
                    .bind(if next.is_finished() { reason } else { None })
                    .bind(*id)
                    .bind(State::Waiting.code())
                    .execute(&mut *$tx)
                    .await?;
                }
                if n > 0 {
                    refresh_build_state!($tx, *id);
                }
                n
            }
            TaskKey::Chroot(id, chroot) => {
                let requeue = state == State::Pending;
                let n = sqlx::query(
                    "UPDATE build_chroots SET state = $1, \
                     worker = CASE WHEN $2 THEN NULL ELSE worker END, \
                     ended_on = COALESCE($3, ended_on), status_reason = COALESCE($4, status_reason) \
                     WHERE build_id = $5 AND mock_chroot = $6 AND worker = $7 AND state IN ($8, $9)",
                )
                .bind(state.code())
                .bind(requeue)
                .bind(ended)
                .bind(reason)
                .bind(*id)
                .bind(chroot.as_str())
                .bind($worker)
                .bind(STARTING)
                .bind(RUNNING)
                .execute(&mut *$tx)
                .await?
                .rows_affected();
                if n > 0 {
                    refresh_build_state!($tx, *id);
                }
                n
            }
        };
        n
    }};
}

impl Store {
    // ----- builders -----

    /// Register a builder name with the hash of its token.
    pub async fn create_builder(&self, name: &str, token_hash: &str) -> Result<()> {
        on_write!(self, p => {
            sqlx::query("INSERT INTO builders (name, token_hash, created_on) VALUES ($1, $2, $3)")
                .bind(name)
                .bind(token_hash)
                .bind(now())
                .execute(p)
                .await
                .map_err(|e| super::unique_to_conflict(e, || format!("builder `{name}` already exists")))?;
        });
        Ok(())
    }

    /// The builder a token (by its hash) belongs to.
    pub async fn builder_by_token_hash(&self, token_hash: &str) -> Result<Option<BuilderRow>> {
        on_read!(self, p => {
            let row = sqlx::query("SELECT id, name FROM builders WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(p)
                .await?;
            Ok(match row {
                Some(r) => Some(BuilderRow { id: r.try_get("id")?, name: r.try_get("name")? }),
                None => None,
            })
        })
    }

    /// Record what a builder offers (arch, tags, chroots, backends as JSON lists).
    pub async fn register_builder(
        &self,
        id: i64,
        arch: &str,
        tags: &[String],
        chroots: &[String],
        backends: &[String],
    ) -> Result<()> {
        let (tags, chroots, backends) = (
            serde_json::to_string(tags)?,
            serde_json::to_string(chroots)?,
            serde_json::to_string(backends)?,
        );
        on_write!(self, p => {
            sqlx::query("UPDATE builders SET arch = $1, tags = $2, chroots = $3, backends = $4, last_seen = $5 WHERE id = $6")
                .bind(arch)
                .bind(&tags)
                .bind(&chroots)
                .bind(&backends)
                .bind(now())
                .bind(id)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    // ----- tasks -----

    /// One task, when it exists.
    pub async fn task(&self, key: &TaskKey) -> Result<Option<TaskRow>> {
        let (sql, chroot) = match key {
            TaskKey::Source(_) => (format!("{SOURCE_TASK_SELECT} WHERE b.id = $1"), None),
            TaskKey::Chroot(_, c) => (
                format!("{CHROOT_TASK_SELECT} WHERE b.id = $1 AND bc.mock_chroot = $2"),
                Some(c.clone()),
            ),
        };
        on_read!(self, p => {
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(key.build_id());
            if let Some(c) = chroot { q = q.bind(c); }
            let row = q.fetch_optional(p).await?;
            Ok(match row { Some(r) => Some(task_row!(r)), None => None })
        })
    }

    /// Claim the next task for a builder slot: among the owners with ready work, foreground
    /// before background, then the owner with the fewest tasks in progress, then the one served
    /// longest ago (`last_served`: owner → serial of its last claim); within that owner, the
    /// oldest build. The task becomes `starting`, held by `worker`.
    pub async fn claim_task(
        &self,
        filter: &ClaimFilter,
        worker: &str,
        last_served: &HashMap<String, u64>,
    ) -> Result<Option<TaskKey>> {
        if !filter.source && filter.chroots.is_empty() {
            return Ok(None);
        }
        let n = filter.chroots.len();
        let mut owner_parts = Vec::new();
        if filter.source {
            owner_parts.push(format!(
                "SELECT p.ownername AS owner, MIN(CASE WHEN b.is_background THEN 1 ELSE 0 END) AS bg \
                 {SOURCE_FROM} WHERE {} GROUP BY p.ownername",
                source_ready()
            ));
        }
        if n > 0 {
            owner_parts.push(format!(
                "SELECT p.ownername AS owner, MIN(CASE WHEN b.is_background THEN 1 ELSE 0 END) AS bg \
                 {CHROOT_FROM} WHERE {} GROUP BY p.ownername",
                chroot_ready(1, n)
            ));
        }
        let owners_sql = owner_parts.join(" UNION ALL ");
        let busy_sql = format!(
            "SELECT p.ownername AS owner, COUNT(*) AS n FROM builds b JOIN projects p ON p.id = b.project_id \
             WHERE b.source_state IN ({STARTING}, {RUNNING}) GROUP BY p.ownername \
             UNION ALL SELECT p.ownername AS owner, COUNT(*) AS n {CHROOT_FROM} \
             WHERE bc.state IN ({STARTING}, {RUNNING}) GROUP BY p.ownername"
        );
        let oldest_source = format!(
            "SELECT b.id AS id, b.is_background AS bg {SOURCE_FROM} WHERE {} AND p.ownername = $1 \
             ORDER BY b.is_background, b.id LIMIT 1",
            source_ready()
        );
        let oldest_chroot = format!(
            "SELECT bc.build_id AS id, bc.mock_chroot AS chroot, b.is_background AS bg {CHROOT_FROM} \
             WHERE {} AND p.ownername = $1 ORDER BY b.is_background, bc.build_id, bc.mock_chroot LIMIT 1",
            chroot_ready(2, n)
        );
        for _attempt in 0..5 {
            let claimed: Option<Option<TaskKey>> = on_write!(self, p => {
                let mut tx = p.begin().await?;
                // Owners with ready work and whether all of it is background.
                let mut q = sqlx::query(AssertSqlSafe(owners_sql.clone()));
                for c in &filter.chroots { q = q.bind(c); }
                let mut owners: HashMap<String, bool> = HashMap::new();
                for r in q.fetch_all(&mut *tx).await? {
                    let owner: String = r.try_get("owner")?;
                    let bg: i64 = r.try_get::<Option<i64>, _>("bg")?.unwrap_or(0);
                    let e = owners.entry(owner).or_insert(true);
                    *e = *e && bg == 1;
                }
                if owners.is_empty() {
                    tx.commit().await?;
                    Some(None)
                } else {
                    let mut busy: HashMap<String, i64> = HashMap::new();
                    for r in sqlx::query(AssertSqlSafe(busy_sql.clone())).fetch_all(&mut *tx).await? {
                        let owner: String = r.try_get("owner")?;
                        let n: i64 = r.try_get("n")?;
                        *busy.entry(owner).or_insert(0) += n;
                    }
                    let mut ranked: Vec<(bool, i64, u64, String)> = owners
                        .into_iter()
                        .map(|(o, bg)| {
                            (bg, busy.get(&o).copied().unwrap_or(0), last_served.get(&o).copied().unwrap_or(0), o)
                        })
                        .collect();
                    ranked.sort();
                    let owner = ranked.swap_remove(0).3;
                    let mut best: Option<(bool, i64, TaskKey)> = None;
                    if filter.source {
                        let row = sqlx::query(AssertSqlSafe(oldest_source.clone()))
                            .bind(&owner)
                            .fetch_optional(&mut *tx)
                            .await?;
                        if let Some(r) = row {
                            let id: i64 = r.try_get("id")?;
                            best = Some((r.try_get("bg")?, id, TaskKey::Source(id)));
                        }
                    }
                    if n > 0 {
                        let mut q = sqlx::query(AssertSqlSafe(oldest_chroot.clone())).bind(&owner);
                        for c in &filter.chroots { q = q.bind(c); }
                        if let Some(r) = q.fetch_optional(&mut *tx).await? {
                            let id: i64 = r.try_get("id")?;
                            let bg: bool = r.try_get("bg")?;
                            let c: String = r.try_get("chroot")?;
                            if best.as_ref().is_none_or(|(b0, i0, _)| (bg, id) < (*b0, *i0)) {
                                best = Some((bg, id, TaskKey::Chroot(id, c)));
                            }
                        }
                    }
                    match best {
                        None => {
                            tx.commit().await?;
                            None
                        }
                        Some((_, _, key)) => {
                            let t = now();
                            let changed = match &key {
                                TaskKey::Source(id) => sqlx::query(
                                    "UPDATE builds SET source_state = $1, source_worker = $2, source_heartbeat = $3, \
                                     source_claimed = $3, source_attempts = source_attempts + 1 \
                                     WHERE id = $4 AND source_state = $5 AND source_worker IS NULL",
                                )
                                .bind(STARTING)
                                .bind(worker)
                                .bind(t)
                                .bind(*id)
                                .bind(PENDING)
                                .execute(&mut *tx)
                                .await?
                                .rows_affected(),
                                TaskKey::Chroot(id, c) => sqlx::query(
                                    "UPDATE build_chroots SET state = $1, worker = $2, heartbeat = $3, claimed = $3, \
                                     attempts = attempts + 1, started_on = COALESCE(started_on, $3) \
                                     WHERE build_id = $4 AND mock_chroot = $5 AND state = $6 AND worker IS NULL",
                                )
                                .bind(STARTING)
                                .bind(worker)
                                .bind(t)
                                .bind(*id)
                                .bind(c.as_str())
                                .bind(PENDING)
                                .execute(&mut *tx)
                                .await?
                                .rows_affected(),
                            };
                            if changed == 0 {
                                // Another server took it between our read and write; try again.
                                tx.rollback().await?;
                                None
                            } else {
                                sqlx::query("UPDATE builds SET started_on = COALESCE(started_on, $1) WHERE id = $2")
                                    .bind(t)
                                    .bind(key.build_id())
                                    .execute(&mut *tx)
                                    .await?;
                                refresh_build_state!(tx, key.build_id());
                                tx.commit().await?;
                                Some(Some(key))
                            }
                        }
                    }
                }
            });
            if let Some(outcome) = claimed {
                return Ok(outcome);
            }
        }
        Ok(None)
    }

    /// Store the JobSpec (JSON) a claimed task runs.
    pub async fn set_task_job(&self, key: &TaskKey, job: &str) -> Result<()> {
        on_write!(self, p => {
            match key {
                TaskKey::Source(id) => {
                    sqlx::query("UPDATE builds SET source_job = $1 WHERE id = $2")
                        .bind(job).bind(*id).execute(p).await?;
                }
                TaskKey::Chroot(id, c) => {
                    sqlx::query("UPDATE build_chroots SET job = $1 WHERE build_id = $2 AND mock_chroot = $3")
                        .bind(job).bind(*id).bind(c.as_str()).execute(p).await?;
                }
            }
        });
        Ok(())
    }

    /// A heartbeat of the slot holding a task: refresh it and move `starting` to `running`.
    /// Returns `None` when `worker` does not hold the task (any more), else whether the build
    /// was canceled.
    pub async fn task_heartbeat(&self, key: &TaskKey, worker: &str) -> Result<Option<bool>> {
        let t = now();
        let started = on_write!(self, p => {
            let mut tx = p.begin().await?;
            let row = match key {
                TaskKey::Source(id) => sqlx::query(
                    "UPDATE builds SET source_heartbeat = $1, source_state = $2, \
                     started_on = COALESCE(started_on, $1) \
                     WHERE id = $3 AND source_worker = $4 AND source_state IN ($5, $2) \
                     RETURNING canceled",
                )
                .bind(t).bind(RUNNING).bind(*id).bind(worker).bind(STARTING)
                .fetch_optional(&mut *tx).await?,
                TaskKey::Chroot(id, c) => sqlx::query(
                    "UPDATE build_chroots SET heartbeat = $1, state = $2 \
                     WHERE build_id = $3 AND mock_chroot = $4 AND worker = $5 AND state IN ($6, $2) \
                     AND heartbeat IS NOT NULL RETURNING (SELECT canceled FROM builds WHERE id = $3) AS canceled",
                )
                .bind(t).bind(RUNNING).bind(*id).bind(c.as_str()).bind(worker).bind(STARTING)
                .fetch_optional(&mut *tx).await?,
            };
            let out = match row {
                Some(r) => {
                    let canceled: bool = r.try_get("canceled")?;
                    refresh_build_state!(tx, key.build_id());
                    Some(canceled)
                }
                None => None,
            };
            tx.commit().await?;
            out
        });
        Ok(started)
    }

    /// End a task held by `worker` with `state` (a final state, or `pending` to hand it back).
    /// Returns false when `worker` does not hold it in starting/running.
    pub async fn end_task(
        &self,
        key: &TaskKey,
        worker: &str,
        state: State,
        reason: Option<&str>,
    ) -> Result<bool> {
        on_write!(self, p => {
            let mut tx = p.begin().await?;
            let n = end_task!(tx, key, worker, state, reason);
            tx.commit().await?;
            Ok(n > 0)
        })
    }

    /// Accept a succeeded source task: record the package and SRPM URL, skip the chroots the
    /// SRPM excludes (`skips`: chroot → reason), and make the others pending — atomically.
    pub async fn accept_source(
        &self,
        id: i64,
        worker: &str,
        package: (&str, &str),
        srpm_url: &str,
        skips: &[(String, String)],
    ) -> Result<bool> {
        on_write!(self, p => {
            let mut tx = p.begin().await?;
            let held: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM builds WHERE id = $1 AND source_worker = $2 AND source_state IN ($3, $4)",
            )
            .bind(id).bind(worker).bind(STARTING).bind(RUNNING)
            .fetch_optional(&mut *tx).await?;
            if held.is_none() {
                tx.rollback().await?;
                return Ok(false);
            }
            sqlx::query("UPDATE builds SET package_name = $1, package_version = $2, srpm_url = $3 WHERE id = $4")
                .bind(package.0).bind(package.1).bind(srpm_url).bind(id)
                .execute(&mut *tx).await?;
            let t = now();
            for (chroot, reason) in skips {
                sqlx::query(
                    "UPDATE build_chroots SET state = $1, ended_on = $2, status_reason = $3 \
                     WHERE build_id = $4 AND mock_chroot = $5 AND state = $6",
                )
                .bind(State::Skipped.code()).bind(t).bind(reason.as_str()).bind(id)
                .bind(chroot.as_str()).bind(State::Waiting.code())
                .execute(&mut *tx).await?;
            }
            let key = TaskKey::Source(id);
            let n = end_task!(tx, &key, worker, State::Succeeded, None);
            tx.commit().await?;
            Ok(n > 0)
        })
    }

    /// Tasks in starting/running whose holder has not sent a heartbeat since `before`.
    pub async fn stale_tasks(&self, before: i64) -> Result<Vec<TaskRow>> {
        let a = format!(
            "{SOURCE_TASK_SELECT} WHERE b.source_worker IS NOT NULL \
             AND b.source_state IN ({STARTING}, {RUNNING}) AND b.source_heartbeat < $1"
        );
        let b = format!(
            "{CHROOT_TASK_SELECT} WHERE bc.worker IS NOT NULL \
             AND bc.state IN ({STARTING}, {RUNNING}) AND bc.heartbeat < $1"
        );
        self.task_rows(&[a, b], Some(before)).await
    }

    /// Every task in starting/running (to check deadlines).
    pub async fn active_tasks(&self) -> Result<Vec<TaskRow>> {
        let a = format!(
            "{SOURCE_TASK_SELECT} WHERE b.source_worker IS NOT NULL \
             AND b.source_state IN ({STARTING}, {RUNNING})"
        );
        let b = format!(
            "{CHROOT_TASK_SELECT} WHERE bc.worker IS NOT NULL AND bc.state IN ({STARTING}, {RUNNING})"
        );
        self.task_rows(&[a, b], None).await
    }

    async fn task_rows(&self, queries: &[String], bind: Option<i64>) -> Result<Vec<TaskRow>> {
        let mut out = Vec::new();
        for sql in queries {
            let rows = on_read!(self, p => {
                let mut q = sqlx::query(AssertSqlSafe(sql.clone()));
                if let Some(v) = bind { q = q.bind(v); }
                q.fetch_all(p).await?
                    .into_iter()
                    .map(|r| -> Result<TaskRow> { Ok(task_row!(r)) })
                    .collect::<Result<Vec<_>>>()?
            });
            out.extend(rows);
        }
        Ok(out)
    }

    /// Give every task in progress a fresh heartbeat: after a server restart, builders get one
    /// full timeout to reach it again before their tasks are re-queued.
    pub async fn touch_active_tasks(&self) -> Result<()> {
        let t = now();
        on_write!(self, p => {
            sqlx::query(AssertSqlSafe(format!(
                "UPDATE builds SET source_heartbeat = $1 WHERE source_worker IS NOT NULL \
                 AND source_state IN ({STARTING}, {RUNNING})"
            )))
            .bind(t).execute(p).await?;
            sqlx::query(AssertSqlSafe(format!(
                "UPDATE build_chroots SET heartbeat = $1 WHERE worker IS NOT NULL \
                 AND state IN ({STARTING}, {RUNNING}) AND heartbeat IS NOT NULL"
            )))
            .bind(t).execute(p).await?;
        });
        Ok(())
    }

    /// End a task whose holder (`worker`) went silent or ran out of time. Returns false when
    /// it changed hands or finished meanwhile.
    pub async fn end_stale_task(
        &self,
        key: &TaskKey,
        worker: &str,
        outcome: &StaleOutcome,
    ) -> Result<bool> {
        let (state, reason) = match outcome {
            StaleOutcome::Requeue => (State::Pending, None),
            StaleOutcome::Fail(r) => (State::Failed, Some(r.as_str())),
            StaleOutcome::Cancel => (State::Canceled, Some("the build was canceled")),
        };
        self.end_task(key, worker, state, reason).await
    }

    /// Accept a chroot task's results for publishing: it stays `running` (publishing makes it
    /// succeeded or failed) but its lease ends — no heartbeats, no deadline.
    pub async fn accept_chroot(&self, id: i64, chroot: &str, worker: &str) -> Result<bool> {
        on_write!(self, p => {
            let n = sqlx::query(
                "UPDATE build_chroots SET state = $1, heartbeat = NULL, claimed = NULL \
                 WHERE build_id = $2 AND mock_chroot = $3 AND worker = $4 AND state IN ($5, $1)",
            )
            .bind(RUNNING).bind(id).bind(chroot).bind(worker).bind(STARTING)
            .execute(p).await?
            .rows_affected();
            Ok(n > 0)
        })
    }

    /// Give an accepted task a heartbeat again, so the sweeper re-queues it unless something
    /// finishes it (used at start-up for accepted results nobody is publishing).
    pub async fn revive_accepted(&self, id: i64, chroot: &str) -> Result<()> {
        on_write!(self, p => {
            sqlx::query(
                "UPDATE build_chroots SET heartbeat = $1 WHERE build_id = $2 AND mock_chroot = $3 \
                 AND heartbeat IS NULL AND worker IS NOT NULL",
            )
            .bind(now()).bind(id).bind(chroot)
            .execute(p).await?;
        });
        Ok(())
    }

    /// The stored JobSpec of a task, when it was claimed.
    pub async fn task_job(&self, key: &TaskKey) -> Result<Option<String>> {
        Ok(self.task(key).await?.and_then(|t| t.job))
    }
}
