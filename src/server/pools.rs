//! Builder pools: machines started and stopped on demand, as Copr does with Resalloc.
//!
//! Each `[[pool]]` of the server configuration names two commands. `cmd_new` starts one
//! machine that runs `copr builder` against this server; it gets in its environment
//! `COPR_POOL_NAME`, `COPR_MACHINE_ID`, `COPR_MACHINE_DIR` (a private directory for the
//! command's own state, e.g. a pid file), `COPR_SERVER_URL` and `COPR_BUILDER_TOKEN` (a builder
//! token the server created for this machine; the builder registers under the machine id).
//! It should return once the machine is on its way; its output goes to
//! `<data>/pools/<pool>/<machine>/cmd.log`. `cmd_delete` gets the same variables except the
//! token and removes the machine.
//!
//! Every `tick` the manager compares each pool with the queue:
//!
//! * it starts machines (never more than `max` in all) until the machines that are free —
//!   connected and idle, or still starting — cover the pending tasks the pool can build plus
//!   `prealloc` spare ones;
//! * it deletes idle machines beyond that need once they have been idle for `idle_timeout`
//!   seconds (busy machines are never deleted), machines whose builder did not connect within
//!   `start_timeout` seconds or went silent (no task, no request for work for `claim_wait` +
//!   `heartbeat_timeout` seconds), and machines whose `cmd_new` failed (then starts are retried
//!   with a growing delay);
//! * machines survive a server restart (they are listed in `<data>/pools/<pool>/machines.json`)
//!   and are deleted when the server stops normally.
//!
//! What the queue and the builders look like comes from a [`PoolBackend`]; [`plan`] is the
//! decision itself, a pure function.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::config::ConfigError;

/// One `[[pool]]` of the server configuration.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PoolConfig {
    /// Unique name (letters, digits, `-`, `_`); machine ids are `NAME-N`.
    pub name: String,
    /// Most machines at once.
    pub max: usize,
    /// Spare idle machines kept ready.
    #[serde(default)]
    pub prealloc: usize,
    /// Shell command that starts a machine.
    pub cmd_new: String,
    /// Shell command that deletes the machine `$COPR_MACHINE_ID`.
    pub cmd_delete: String,
    /// Architecture of its machines: only tasks of chroots of this arch count as its demand.
    #[serde(default)]
    pub arch: Option<String>,
    /// Tags its builders offer (passed as `COPR_POOL_TAGS`, comma-separated).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Chroots its builders build (default: any chroot of `arch`).
    #[serde(default)]
    pub chroots: Vec<String>,
    /// Seconds an idle machine beyond `prealloc` is kept.
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout: u64,
    /// Seconds a new machine's builder has to connect before the machine is deleted.
    #[serde(default = "default_start_timeout")]
    pub start_timeout: u64,
}

fn default_idle_timeout() -> u64 {
    300
}

fn default_start_timeout() -> u64 {
    600
}

/// Check the pools of a configuration.
pub fn validate(pools: &[PoolConfig]) -> Result<(), ConfigError> {
    let mut seen = std::collections::HashSet::new();
    for p in pools {
        let err = |reason: &str| ConfigError::Pool {
            name: p.name.clone(),
            reason: reason.to_string(),
        };
        if p.name.is_empty()
            || !p
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(err("the name may use letters, digits, `-` and `_` only"));
        }
        if !seen.insert(p.name.clone()) {
            return Err(err("two pools have this name"));
        }
        if p.max == 0 {
            return Err(err("`max` must be at least 1"));
        }
        if p.prealloc > p.max {
            return Err(err("`prealloc` cannot exceed `max`"));
        }
        if p.cmd_new.trim().is_empty() || p.cmd_delete.trim().is_empty() {
            return Err(err("`cmd_new` and `cmd_delete` are required"));
        }
    }
    Ok(())
}

/// What the builder of one machine is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// Its builder has not connected (yet).
    Absent,
    /// Connected and working on at least one task.
    Busy,
    /// Connected, no task.
    Idle,
}

/// The queue and the builders, as a pool sees them.
pub trait PoolBackend: Send + Sync + 'static {
    /// Pending tasks a builder of `pool` could take now.
    fn pending(&self, pool: &PoolConfig) -> impl Future<Output = Result<usize, String>> + Send;
    /// What the builder registered as `machine` is doing.
    fn activity(&self, machine: &str) -> impl Future<Output = Result<Activity, String>> + Send;
    /// Create the builder token of a new machine.
    fn create_token(&self, machine: &str) -> impl Future<Output = Result<String, String>> + Send;
    /// Forget a deleted machine's builder (its token stops working).
    fn forget(&self, machine: &str) -> impl Future<Output = Result<(), String>> + Send;
}

/// A machine of a pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    pub id: String,
    pub activity: Activity,
    /// When it was started (or adopted after a restart).
    pub started: Instant,
    /// Since when it has been idle, when it is.
    pub idle_since: Option<Instant>,
}

/// The decision of one tick for one pool.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Machines to start.
    pub start: usize,
    /// Machines to delete (ids).
    pub delete: Vec<String>,
}

/// Decide what a pool does now. `may_start` is false while a failed start is backing off.
pub fn plan(
    pool: &PoolConfig,
    machines: &[Machine],
    pending: usize,
    now: Instant,
    may_start: bool,
) -> Plan {
    let start_timeout = Duration::from_secs(pool.start_timeout);
    let idle_timeout = Duration::from_secs(pool.idle_timeout);
    let mut delete: Vec<String> = machines
        .iter()
        .filter(|m| {
            m.activity == Activity::Absent && now.duration_since(m.started) >= start_timeout
        })
        .map(|m| m.id.clone())
        .collect();
    let alive: Vec<&Machine> = machines
        .iter()
        .filter(|m| !delete.contains(&m.id))
        .collect();
    let free = alive
        .iter()
        .filter(|m| m.activity != Activity::Busy)
        .count();
    let wanted_free = pending + pool.prealloc;
    let start = if may_start {
        wanted_free
            .saturating_sub(free)
            .min(pool.max.saturating_sub(alive.len()))
    } else {
        0
    };
    // Idle machines beyond what is wanted, longest idle first, once idle long enough.
    let mut idle: Vec<&&Machine> = alive
        .iter()
        .filter(|m| m.activity == Activity::Idle)
        .collect();
    idle.sort_by_key(|m| m.idle_since.unwrap_or(now));
    let surplus = free.saturating_sub(wanted_free);
    delete.extend(
        idle.into_iter()
            .filter(|m| now.duration_since(m.idle_since.unwrap_or(now)) >= idle_timeout)
            .take(surplus)
            .map(|m| m.id.clone()),
    );
    Plan { start, delete }
}

/// Machines kept on disk so a restarted server knows them.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Saved {
    next: u64,
    machines: Vec<String>,
}

/// Counters of one pool, for tests and monitoring.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PoolStats {
    pub started: u64,
    pub deleted: u64,
    pub failed_starts: u64,
}

/// One pool being managed.
pub struct Pool<B: PoolBackend> {
    pub config: PoolConfig,
    backend: std::sync::Arc<B>,
    server_url: String,
    dir: PathBuf,
    machines: BTreeMap<String, Machine>,
    next: u64,
    failures: u32,
    retry_at: Option<Instant>,
    pub stats: PoolStats,
}

impl<B: PoolBackend> Pool<B> {
    /// A pool keeping its files under `<pools_dir>/<name>/`; machines a previous run left are
    /// adopted (their builders may still be connected).
    pub fn new(
        config: PoolConfig,
        backend: std::sync::Arc<B>,
        server_url: &str,
        pools_dir: &Path,
    ) -> Pool<B> {
        let dir = pools_dir.join(&config.name);
        let saved: Saved = fs_err::read(dir.join("machines.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let now = Instant::now();
        let machines = saved
            .machines
            .into_iter()
            .map(|id| {
                (
                    id.clone(),
                    Machine {
                        id,
                        activity: Activity::Absent,
                        started: now,
                        idle_since: None,
                    },
                )
            })
            .collect();
        Pool {
            config,
            backend,
            server_url: server_url.to_string(),
            dir,
            machines,
            next: saved.next,
            failures: 0,
            retry_at: None,
            stats: PoolStats::default(),
        }
    }

    /// Ids of the machines of this pool.
    pub fn machines(&self) -> Vec<String> {
        self.machines.keys().cloned().collect()
    }

    fn save(&self) {
        let saved = Saved {
            next: self.next,
            machines: self.machines.keys().cloned().collect(),
        };
        let path = self.dir.join("machines.json");
        let r = fs_err::create_dir_all(&self.dir).and_then(|_| {
            crate::repo::cache::write_atomic(
                &path,
                &serde_json::to_vec_pretty(&saved).unwrap_or_default(),
            )
        });
        if let Err(e) = r {
            tracing::warn!(pool = %self.config.name, "cannot save the machine list: {e}");
        }
    }

    /// One round: refresh what the machines do, then start and delete as [`plan`] says.
    pub async fn tick(&mut self) {
        let now = Instant::now();
        for m in self.machines.values_mut() {
            match self.backend.activity(&m.id).await {
                Ok(a) => {
                    if a == Activity::Idle {
                        if m.activity != Activity::Idle {
                            m.idle_since = Some(now);
                        }
                    } else {
                        m.idle_since = None;
                    }
                    m.activity = a;
                }
                Err(e) => tracing::warn!(machine = %m.id, "{e}"),
            }
        }
        let pending = match self.backend.pending(&self.config).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(pool = %self.config.name, "cannot count pending tasks: {e}");
                return;
            }
        };
        let machines: Vec<Machine> = self.machines.values().cloned().collect();
        let may_start = self.retry_at.is_none_or(|t| now >= t);
        let p = plan(&self.config, &machines, pending, now, may_start);
        for id in p.delete {
            self.delete(&id).await;
        }
        for _ in 0..p.start {
            if !self.start().await {
                break;
            }
        }
    }

    /// Start one machine; false when `cmd_new` failed.
    async fn start(&mut self) -> bool {
        self.next += 1;
        let id = format!("{}-{}", self.config.name, self.next);
        let token = match self.backend.create_token(&id).await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(machine = %id, "cannot create a builder token: {e}");
                self.backoff();
                return false;
            }
        };
        self.machines.insert(
            id.clone(),
            Machine {
                id: id.clone(),
                activity: Activity::Absent,
                started: Instant::now(),
                idle_since: None,
            },
        );
        self.save();
        let ok = self
            .run(&self.config.cmd_new.clone(), &id, Some(&token))
            .await;
        if ok {
            tracing::info!(pool = %self.config.name, machine = %id, "machine started");
            self.stats.started += 1;
            self.failures = 0;
            self.retry_at = None;
        } else {
            self.stats.failed_starts += 1;
            self.backoff();
            self.delete(&id).await;
        }
        ok
    }

    fn backoff(&mut self) {
        self.failures += 1;
        let secs = (5u64 << self.failures.min(6)).min(300);
        self.retry_at = Some(Instant::now() + Duration::from_secs(secs));
    }

    /// Delete one machine (`cmd_delete`) and forget its builder.
    pub async fn delete(&mut self, id: &str) {
        if !self.run(&self.config.cmd_delete.clone(), id, None).await {
            tracing::warn!(machine = %id, "cmd_delete failed; see its cmd.log");
        }
        if let Err(e) = self.backend.forget(id).await {
            tracing::warn!(machine = %id, "{e}");
        }
        self.machines.remove(id);
        self.stats.deleted += 1;
        self.save();
        tracing::info!(pool = %self.config.name, machine = %id, "machine deleted");
    }

    /// Delete every machine (server shutdown).
    pub async fn delete_all(&mut self) {
        for id in self.machines() {
            self.delete(&id).await;
        }
    }

    /// Run a pool command for `machine`; its output is appended to the machine's `cmd.log`.
    async fn run(&self, cmd: &str, machine: &str, token: Option<&str>) -> bool {
        let mdir = self.dir.join(machine);
        let log = fs_err::create_dir_all(&mdir).and_then(|_| {
            fs_err::OpenOptions::new()
                .create(true)
                .append(true)
                .open(mdir.join("cmd.log"))
        });
        let log = match log {
            Ok(f) => f.into_file(),
            Err(e) => {
                tracing::warn!(machine, "{e}");
                return false;
            }
        };
        let (out, err) = match (log.try_clone(), log.try_clone()) {
            (Ok(a), Ok(b)) => (a, b),
            _ => return false,
        };
        let mut c = tokio::process::Command::new("sh");
        c.arg("-c")
            .arg(cmd)
            .env("COPR_POOL_NAME", &self.config.name)
            .env("COPR_MACHINE_ID", machine)
            .env("COPR_MACHINE_DIR", &mdir)
            .env("COPR_SERVER_URL", &self.server_url)
            .env("COPR_POOL_TAGS", self.config.tags.join(","))
            .env(
                "COPR_POOL_ARCH",
                self.config.arch.clone().unwrap_or_default(),
            )
            .env_remove("COPR_BUILDER_TOKEN")
            .stdin(std::process::Stdio::null())
            .stdout(out)
            .stderr(err);
        if let Some(t) = token {
            c.env("COPR_BUILDER_TOKEN", t);
        }
        match c.status().await {
            Ok(s) if s.success() => true,
            Ok(s) => {
                tracing::warn!(machine, "pool command failed ({s})");
                false
            }
            Err(e) => {
                tracing::warn!(machine, "cannot run the pool command: {e}");
                false
            }
        }
    }
}

/// The running pools of a server.
pub struct PoolsHandle {
    stop: Option<tokio::sync::watch::Sender<bool>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl PoolsHandle {
    /// No pools.
    pub fn none() -> PoolsHandle {
        PoolsHandle {
            stop: None,
            tasks: Vec::new(),
        }
    }

    /// Stop managing and delete every machine.
    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(true);
        }
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }
}

/// How often pools compare machines with the queue.
pub const TICK: Duration = Duration::from_secs(2);

/// Manage `pools` in background tasks, one per pool, every `tick`.
pub fn spawn<B: PoolBackend>(
    pools: &[PoolConfig],
    backend: std::sync::Arc<B>,
    server_url: &str,
    pools_dir: &Path,
    tick: Duration,
) -> PoolsHandle {
    if pools.is_empty() {
        return PoolsHandle::none();
    }
    let (tx, rx) = tokio::sync::watch::channel(false);
    let tasks = pools
        .iter()
        .map(|cfg| {
            let mut pool = Pool::new(cfg.clone(), backend.clone(), server_url, pools_dir);
            let mut rx = rx.clone();
            tokio::spawn(async move {
                loop {
                    pool.tick().await;
                    tokio::select! {
                        _ = tokio::time::sleep(tick) => {}
                        _ = rx.changed() => break,
                    }
                }
                pool.delete_all().await;
            })
        })
        .collect();
    PoolsHandle {
        stop: Some(tx),
        tasks,
    }
}

/// The pools' view of this server: its queue, builders and builder tokens.
pub struct ServerBackend {
    st: super::AppState,
}

impl PoolBackend for ServerBackend {
    async fn pending(&self, pool: &PoolConfig) -> Result<usize, String> {
        let (sources, chroots) = self
            .st
            .store
            .ready_task_counts()
            .await
            .map_err(|e| e.to_string())?;
        Ok(pool_demand(
            pool,
            &self.st.config.pools,
            &self.st.config.builders.chroot_tags,
            sources,
            &chroots,
        ))
    }

    async fn activity(&self, machine: &str) -> Result<Activity, String> {
        // An idle builder asks for work at least every claim_wait seconds.
        let b = &self.st.config.builders;
        let seen_after = super::model::now() - (b.claim_wait + b.heartbeat_timeout) as i64;
        Ok(
            match self
                .st
                .store
                .builder_activity(machine, seen_after)
                .await
                .map_err(|e| e.to_string())?
            {
                // Holding a task: busy (a silent holder loses it to the sweeper).
                Some((_, true)) => Activity::Busy,
                Some((true, false)) => Activity::Idle,
                None | Some((false, false)) => Activity::Absent,
            },
        )
    }

    async fn create_token(&self, machine: &str) -> Result<String, String> {
        // A builder of the same name left by a crash is replaced.
        self.st
            .store
            .delete_builder(machine)
            .await
            .map_err(|e| e.to_string())?;
        let token = super::accounts::random_token();
        self.st
            .store
            .create_builder(machine, &super::accounts::hash_token(&token))
            .await
            .map_err(|e| e.to_string())?;
        Ok(token)
    }

    async fn forget(&self, machine: &str) -> Result<(), String> {
        self.st
            .store
            .delete_builder(machine)
            .await
            .map_err(|e| e.to_string())
    }
}

/// Start managing the configured pools of a server (none: nothing runs).
pub fn start(st: &super::AppState) -> PoolsHandle {
    spawn(
        &st.config.pools,
        std::sync::Arc::new(ServerBackend { st: st.clone() }),
        &st.public_url,
        &st.config.data_dir.join("pools"),
        TICK,
    )
}

/// Whether a chroot belongs to a pool: listed in `chroots`, or (without a list) of its arch
/// (any chroot without `arch`).
/// How many of the ready tasks `pool` should have machines for: the chroot tasks its machines
/// can build (arch or chroots, and the tags `chroot_tags` requires), and — since any builder
/// takes a source task — the `sources` ready source tasks only when it is the first of `pools`,
/// so that one pending SRPM does not start a machine in every pool.
pub fn pool_demand(
    pool: &PoolConfig,
    pools: &[PoolConfig],
    chroot_tags: &BTreeMap<String, Vec<String>>,
    sources: i64,
    chroots: &[(String, i64)],
) -> usize {
    let takes_sources = pools.first().is_none_or(|p| p.name == pool.name);
    let mut n = if takes_sources {
        sources.max(0) as usize
    } else {
        0
    };
    for (chroot, count) in chroots {
        let tags_ok = chroot_tags
            .iter()
            .filter(|(pat, _)| glob::Pattern::new(pat).is_ok_and(|p| p.matches(chroot)))
            .all(|(_, tags)| tags.iter().all(|t| pool.tags.contains(t)));
        if tags_ok && pool_builds_chroot(pool, chroot) {
            n += (*count).max(0) as usize;
        }
    }
    n
}

pub fn pool_builds_chroot(pool: &PoolConfig, chroot: &str) -> bool {
    if !pool.chroots.is_empty() {
        return pool.chroots.iter().any(|c| c == chroot);
    }
    match &pool.arch {
        Some(a) => chroot.rsplit_once('-').is_some_and(|(_, arch)| arch == a),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn pool(max: usize, prealloc: usize) -> PoolConfig {
        PoolConfig {
            name: "p".into(),
            max,
            prealloc,
            cmd_new: "true".into(),
            cmd_delete: "true".into(),
            arch: None,
            tags: vec![],
            chroots: vec![],
            idle_timeout: 60,
            start_timeout: 600,
        }
    }

    fn m(id: &str, a: Activity, idle_for: Option<u64>, now: Instant) -> Machine {
        Machine {
            id: id.into(),
            activity: a,
            started: now - Duration::from_secs(1000),
            idle_since: idle_for.map(|s| now - Duration::from_secs(s)),
        }
    }

    /// Source tasks count for the first pool only; chroot tasks for every pool that can build
    /// them (arch, chroots, required tags).
    #[test]
    fn demand_per_pool() {
        let x86 = PoolConfig {
            name: "x86".into(),
            arch: Some("x86_64".into()),
            ..pool(4, 0)
        };
        let arm = PoolConfig {
            name: "arm".into(),
            arch: Some("aarch64".into()),
            tags: vec!["arm".into()],
            ..pool(4, 0)
        };
        let pools = vec![x86.clone(), arm.clone()];
        let tags: BTreeMap<String, Vec<String>> =
            [("*-aarch64".to_string(), vec!["arm".to_string()])].into();
        let chroots = vec![
            ("fedora-42-x86_64".to_string(), 2),
            ("fedora-42-aarch64".to_string(), 5),
        ];
        assert_eq!(pool_demand(&x86, &pools, &tags, 3, &chroots), 5);
        assert_eq!(pool_demand(&arm, &pools, &tags, 3, &chroots), 5);
        let untagged = PoolConfig {
            tags: vec![],
            ..arm.clone()
        };
        assert_eq!(pool_demand(&untagged, &pools, &tags, 3, &chroots), 0);
        // A lone pool takes everything it can build.
        assert_eq!(pool_demand(&x86, &[], &tags, 3, &chroots), 5);
    }

    /// Unit test of the pool logic: prealloc machines are kept, demand starts more up to max,
    /// free or starting machines count against demand.
    #[test]
    fn plan_starts_for_prealloc_and_demand_up_to_max() {
        let now = Instant::now();
        let p = pool(4, 1);
        assert_eq!(plan(&p, &[], 0, now, true).start, 1);
        assert_eq!(plan(&p, &[], 2, now, true).start, 3);
        assert_eq!(plan(&p, &[], 10, now, true).start, 4);
        let busy = [
            m("a", Activity::Busy, None, now),
            m("b", Activity::Busy, None, now),
        ];
        assert_eq!(plan(&p, &busy, 5, now, true).start, 2);
        let starting = [Machine {
            started: now,
            ..m("a", Activity::Absent, None, now)
        }];
        assert_eq!(plan(&p, &starting, 1, now, true).start, 1);
        assert_eq!(plan(&p, &[], 3, now, false).start, 0);
    }

    /// Pool configurations that cannot work are refused with the pool's name and the reason;
    /// a full `[[pool]]` table parses with its defaults.
    #[test]
    fn bad_pools_are_refused() {
        let ok = pool(2, 1);
        assert!(validate(std::slice::from_ref(&ok)).is_ok());
        for (bad, reason) in [
            (
                PoolConfig {
                    prealloc: 3,
                    ..ok.clone()
                },
                "prealloc",
            ),
            (
                PoolConfig {
                    max: 0,
                    prealloc: 0,
                    ..ok.clone()
                },
                "max",
            ),
            (
                PoolConfig {
                    name: "a b".into(),
                    ..ok.clone()
                },
                "name",
            ),
            (
                PoolConfig {
                    cmd_new: " ".into(),
                    ..ok.clone()
                },
                "cmd_new",
            ),
        ] {
            let e = validate(&[bad]).unwrap_err().to_string();
            assert!(e.contains(reason), "{e}");
        }
        let e = validate(&[ok.clone(), ok]).unwrap_err().to_string();
        assert!(e.contains("two pools"), "{e}");
        let parsed: PoolConfig =
            toml::from_str("name = \"x\"\nmax = 3\ncmd_new = \"a\"\ncmd_delete = \"b\"\n").unwrap();
        assert_eq!(
            (parsed.prealloc, parsed.idle_timeout, parsed.start_timeout),
            (0, 300, 600)
        );
        assert!(toml::from_str::<PoolConfig>("name = \"x\"\nmax = 3\nbogus = 1\n").is_err());
    }

    /// Unit test of the pool logic: idle machines beyond prealloc and demand are deleted only
    /// after idle_timeout; busy ones never; builders that never connect are deleted.
    #[test]
    fn plan_deletes_long_idle_surplus_and_dead_starts() {
        let now = Instant::now();
        let p = pool(4, 1);
        let ms = [
            m("a", Activity::Idle, Some(120), now),
            m("b", Activity::Idle, Some(10), now),
            m("c", Activity::Busy, None, now),
        ];
        assert_eq!(plan(&p, &ms, 0, now, true).delete, vec!["a".to_string()]);
        assert!(plan(&p, &ms, 1, now, true).delete.is_empty());
        let dead = [Machine {
            started: now - Duration::from_secs(601),
            ..m("d", Activity::Absent, None, now)
        }];
        let pl = plan(&p, &dead, 0, now, true);
        assert_eq!(pl.delete, vec!["d".to_string()]);
        assert_eq!(pl.start, 1);
    }

    /// A recorded demand and recorded machines, for the manager test.
    #[derive(Default)]
    struct Fake {
        pending: Mutex<usize>,
        activity: Mutex<BTreeMap<String, Activity>>,
        tokens: Mutex<Vec<String>>,
        forgotten: Mutex<Vec<String>>,
    }

    impl PoolBackend for Fake {
        async fn pending(&self, _pool: &PoolConfig) -> Result<usize, String> {
            Ok(*self.pending.lock().unwrap())
        }
        async fn activity(&self, machine: &str) -> Result<Activity, String> {
            Ok(*self
                .activity
                .lock()
                .unwrap()
                .get(machine)
                .unwrap_or(&Activity::Absent))
        }
        async fn create_token(&self, machine: &str) -> Result<String, String> {
            self.tokens.lock().unwrap().push(machine.to_string());
            Ok(format!("token-of-{machine}"))
        }
        async fn forget(&self, machine: &str) -> Result<(), String> {
            self.forgotten.lock().unwrap().push(machine.to_string());
            Ok(())
        }
    }

    /// Unit test of the pool manager against a fake demand source: `cmd_new` and `cmd_delete`
    /// run with the documented environment (recorded to a file), machines follow the demand
    /// and are remembered across a restart.
    #[test]
    fn manager_runs_commands_with_environment() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let rec = tmp.path().join("calls");
        let mut cfg = pool(3, 0);
        cfg.idle_timeout = 0;
        cfg.cmd_new = format!(
            "echo \"new $COPR_POOL_NAME $COPR_MACHINE_ID $COPR_SERVER_URL $COPR_BUILDER_TOKEN\" >> {}",
            rec.display()
        );
        cfg.cmd_delete = format!(
            "echo \"delete $COPR_MACHINE_ID token=$COPR_BUILDER_TOKEN\" >> {}",
            rec.display()
        );
        let fake = std::sync::Arc::new(Fake::default());
        let mut pool = Pool::new(cfg.clone(), fake.clone(), "http://srv", tmp.path());
        rt.block_on(async {
            pool.tick().await;
            assert!(pool.machines().is_empty());
            *fake.pending.lock().unwrap() = 2;
            pool.tick().await;
            assert_eq!(pool.machines(), ["p-1", "p-2"]);
            // Starting machines already cover the demand.
            pool.tick().await;
            assert_eq!(pool.machines().len(), 2);
            // The builders connect and take the tasks; then finish and idle.
            for id in ["p-1", "p-2"] {
                fake.activity
                    .lock()
                    .unwrap()
                    .insert(id.into(), Activity::Busy);
            }
            *fake.pending.lock().unwrap() = 0;
            pool.tick().await;
            assert_eq!(pool.machines().len(), 2);
            for id in ["p-1", "p-2"] {
                fake.activity
                    .lock()
                    .unwrap()
                    .insert(id.into(), Activity::Idle);
            }
            pool.tick().await;
        });
        assert!(pool.machines().is_empty());
        let calls = std::fs::read_to_string(&rec).unwrap();
        assert_eq!(
            calls.lines().collect::<Vec<_>>(),
            [
                "new p p-1 http://srv token-of-p-1",
                "new p p-2 http://srv token-of-p-2",
                "delete p-1 token=",
                "delete p-2 token=",
            ]
        );
        assert_eq!(*fake.forgotten.lock().unwrap(), ["p-1", "p-2"]);
        assert_eq!(pool.stats.started, 2);

        // A machine left by a previous run is adopted, then deleted when its builder never
        // connects; a failing cmd_new is deleted again and backs off.
        *fake.pending.lock().unwrap() = 1;
        rt.block_on(pool.tick());
        assert_eq!(pool.machines(), ["p-3"]);
        let mut cfg2 = cfg.clone();
        cfg2.start_timeout = 0;
        cfg2.cmd_new = "exit 3".into();
        let mut again = Pool::new(cfg2, fake.clone(), "http://srv", tmp.path());
        assert_eq!(again.machines(), ["p-3"]);
        rt.block_on(again.tick());
        assert!(again.machines().is_empty());
        assert_eq!(again.stats.failed_starts, 1);
        rt.block_on(again.tick());
        assert_eq!(again.stats.failed_starts, 1, "no retry while backing off");
    }
}
