//! Storage of the build service behind one interface, [`Store`], over two backends: embedded
//! SQLite (the default, one file in the data directory, WAL) and PostgreSQL (several servers can
//! share one database).
//!
//! Every query is written once in the SQL both backends understand (`$N` parameters, `RETURNING`,
//! BIGINT integers, JSON kept in TEXT columns) and run through the [`on_read!`]/[`on_write!`]
//! macros, which expand the same code for each pool type. Queries are built at run time, so no
//! database is needed to compile. The schema is versioned in [`MIGRATIONS`] and applied at open.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Row};

use super::model::*;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error")]
    Db(#[from] sqlx::Error),
    #[error("stored JSON is invalid")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("cannot open the database {url}")]
    Open {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot migrate the database schema to version {version} ({name})")]
    Migrate {
        version: i64,
        name: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot create the data directory {path}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

fn unique_to_conflict(e: sqlx::Error, what: impl FnOnce() -> String) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what()),
        _ => StoreError::Db(e),
    }
}

enum Backend {
    /// Reads go to a pool of connections; writes go through one connection, so SQLite never
    /// has to upgrade a read lock while another writer holds it.
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
    },
    Postgres(PgPool),
}

/// The storage of the build service; cheap to clone.
#[derive(Clone)]
pub struct Store {
    backend: std::sync::Arc<Backend>,
}

macro_rules! on_read {
    ($s:expr, $p:ident => $body:block) => {
        match &*$s.backend {
            Backend::Sqlite { read: $p, .. } => $body,
            Backend::Postgres($p) => $body,
        }
    };
}

macro_rules! on_write {
    ($s:expr, $p:ident => $body:block) => {
        match &*$s.backend {
            Backend::Sqlite { write: $p, .. } => $body,
            Backend::Postgres($p) => $body,
        }
    };
}

macro_rules! user_row {
    ($r:expr) => {
        User {
            id: $r.try_get("id")?,
            username: $r.try_get("username")?,
            api_login: $r.try_get("api_login")?,
            token_hash: $r.try_get("token_hash")?,
            token_expires: $r.try_get("token_expires")?,
            admin: $r.try_get("admin")?,
        }
    };
}

macro_rules! project_row {
    ($r:expr) => {
        Project {
            id: $r.try_get("id")?,
            ownername: $r.try_get("ownername")?,
            name: $r.try_get("name")?,
            user_id: $r.try_get("user_id")?,
            group_id: $r.try_get("group_id")?,
            settings: serde_json::from_str(&$r.try_get::<String, _>("settings")?)?,
            created_on: $r.try_get("created_on")?,
        }
    };
}

macro_rules! package_row {
    ($r:expr) => {
        Package {
            id: $r.try_get("id")?,
            project_id: $r.try_get("project_id")?,
            name: $r.try_get("name")?,
            source_type: $r.try_get("source_type")?,
            source_json: serde_json::from_str(&$r.try_get::<String, _>("source_json")?)?,
            settings: serde_json::from_str(&$r.try_get::<String, _>("settings")?)?,
        }
    };
}

/// Recompute and store the derived state of one build inside a transaction.
/// Lock a build's row for the rest of the transaction (a no-op write: PostgreSQL takes the row
/// lock, SQLite has one writer anyway). Whoever changes a build's tasks and re-derives its state
/// takes this lock first, so two tasks of one build finishing at once cannot each derive the
/// state from a snapshot without the other's change and leave the build `running` forever.
macro_rules! lock_build {
    ($tx:expr, $id:expr) => {{
        sqlx::query("UPDATE builds SET state = state WHERE id = $1")
            .bind($id)
            .execute(&mut *$tx)
            .await?;
    }};
}

macro_rules! refresh_build_state {
    ($tx:expr, $id:expr) => {{
        lock_build!($tx, $id);
        let row = sqlx::query("SELECT canceled, source_state FROM builds WHERE id = $1")
            .bind($id)
            .fetch_one(&mut *$tx)
            .await?;
        let canceled: bool = row.try_get("canceled")?;
        let source = State::from_code(row.try_get("source_state")?);
        let states: Vec<State> =
            sqlx::query_scalar::<_, i64>("SELECT state FROM build_chroots WHERE build_id = $1")
                .bind($id)
                .fetch_all(&mut *$tx)
                .await?
                .into_iter()
                .map(State::from_code)
                .collect();
        let state = derive_build_state(canceled, source, &states);
        let ended = if state.is_finished() {
            Some(now())
        } else {
            None
        };
        sqlx::query(
            "UPDATE builds SET state = $1, ended_on = COALESCE(ended_on, $2) WHERE id = $3",
        )
        .bind(state.code())
        .bind(ended)
        .bind($id)
        .execute(&mut *$tx)
        .await?;
        state
    }};
}

/// Build columns as `'key', value` pairs for `json_object` / `json_build_object`.
const BUILD_FIELDS_COMMON: &str = "'id', b.id, 'project_id', b.project_id, \
     'ownername', p.ownername, 'projectname', p.name, 'project_dirname', b.project_dirname, \
     'package_id', b.package_id, 'package_name', b.package_name, \
     'package_version', b.package_version, 'source_type', b.source_type, \
     'source_state', b.source_state, 'state', b.state, 'canceled', b.canceled, \
     'submitter', b.submitter, 'submitted_on', b.submitted_on, 'started_on', b.started_on, \
     'ended_on', b.ended_on, 'is_background', b.is_background, 'timeout', b.timeout, \
     'batch_id', b.batch_id, 'srpm_url', b.srpm_url";

const CHROOT_FIELDS: &str = "'build_id', c.build_id, 'mock_chroot', c.mock_chroot, \
     'state', c.state, 'started_on', c.started_on, 'ended_on', c.ended_on, \
     'status_reason', c.status_reason";

/// A bind parameter of a dynamically assembled query.
enum Arg<'a> {
    I(i64),
    S(&'a str),
}

/// SQLite has no boolean type: accept `true`/`false` and `0`/`1`.
fn boolish<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Bool(b) => Ok(b),
        serde_json::Value::Number(n) => Ok(n.as_i64() != Some(0)),
        other => Err(serde::de::Error::custom(format!("not a boolean: {other}"))),
    }
}

#[derive(serde::Deserialize)]
struct ChrootJson {
    build_id: i64,
    mock_chroot: String,
    state: i64,
    started_on: Option<i64>,
    ended_on: Option<i64>,
    status_reason: Option<String>,
}

#[derive(serde::Deserialize)]
struct BuildJson {
    id: i64,
    project_id: i64,
    ownername: String,
    projectname: String,
    project_dirname: String,
    package_id: Option<i64>,
    package_name: Option<String>,
    package_version: Option<String>,
    source_type: String,
    source_json: serde_json::Value,
    source_state: i64,
    state: i64,
    #[serde(deserialize_with = "boolish")]
    canceled: bool,
    submitter: String,
    submitted_on: i64,
    started_on: Option<i64>,
    ended_on: Option<i64>,
    #[serde(deserialize_with = "boolish")]
    is_background: bool,
    timeout: i64,
    batch_id: Option<i64>,
    srpm_url: Option<String>,
    options: serde_json::Value,
    chroots: Vec<ChrootJson>,
}

impl BuildJson {
    fn into_build(self) -> Build {
        Build {
            id: self.id,
            project_id: self.project_id,
            ownername: self.ownername,
            projectname: self.projectname,
            project_dirname: self.project_dirname,
            package_id: self.package_id,
            package_name: self.package_name,
            package_version: self.package_version,
            source_type: self.source_type,
            source_json: self.source_json,
            source_state: State::from_code(self.source_state),
            state: State::from_code(self.state),
            canceled: self.canceled,
            submitter: self.submitter,
            submitted_on: self.submitted_on,
            started_on: self.started_on,
            ended_on: self.ended_on,
            is_background: self.is_background,
            timeout: self.timeout,
            batch_id: self.batch_id,
            srpm_url: self.srpm_url,
            options: serde_json::from_value(self.options).unwrap_or_default(),
            chroots: self
                .chroots
                .into_iter()
                .map(|c| BuildChroot {
                    build_id: c.build_id,
                    name: c.mock_chroot,
                    state: State::from_code(c.state),
                    started_on: c.started_on,
                    ended_on: c.ended_on,
                    status_reason: c.status_reason,
                })
                .collect(),
        }
    }
}

/// One versioned schema step; `{ID}` becomes each backend's auto-increment primary key.
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial schema",
        sql: r#"
CREATE TABLE users (
    id {ID},
    username TEXT NOT NULL UNIQUE,
    api_login TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL,
    token_expires BIGINT NOT NULL,
    admin BOOLEAN NOT NULL DEFAULT FALSE,
    created_on BIGINT NOT NULL
);
CREATE TABLE copr_groups (
    id {ID},
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE group_members (
    group_id BIGINT NOT NULL REFERENCES copr_groups(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE TABLE projects (
    id {ID},
    ownername TEXT NOT NULL,
    name TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id),
    group_id BIGINT REFERENCES copr_groups(id),
    settings TEXT NOT NULL,
    created_on BIGINT NOT NULL,
    UNIQUE (ownername, name)
);
CREATE TABLE project_chroots (
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    mock_chroot TEXT NOT NULL,
    settings TEXT NOT NULL,
    comps BYTEA_OR_BLOB,
    PRIMARY KEY (project_id, mock_chroot)
);
CREATE TABLE permissions (
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    builder TEXT NOT NULL DEFAULT 'nothing',
    admin TEXT NOT NULL DEFAULT 'nothing',
    PRIMARY KEY (project_id, user_id)
);
CREATE TABLE packages (
    id {ID},
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    source_type TEXT NOT NULL,
    source_json TEXT NOT NULL,
    settings TEXT NOT NULL,
    UNIQUE (project_id, name)
);
CREATE TABLE batches (
    id {ID},
    blocked_by BIGINT REFERENCES batches(id) ON DELETE SET NULL
);
CREATE TABLE builds (
    id {ID},
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    project_dirname TEXT NOT NULL,
    package_id BIGINT REFERENCES packages(id) ON DELETE SET NULL,
    package_name TEXT,
    package_version TEXT,
    source_type TEXT NOT NULL,
    source_json TEXT NOT NULL,
    source_state BIGINT NOT NULL,
    state BIGINT NOT NULL,
    canceled BOOLEAN NOT NULL DEFAULT FALSE,
    submitter TEXT NOT NULL,
    submitted_on BIGINT NOT NULL,
    started_on BIGINT,
    ended_on BIGINT,
    is_background BOOLEAN NOT NULL DEFAULT FALSE,
    timeout BIGINT NOT NULL,
    batch_id BIGINT REFERENCES batches(id) ON DELETE SET NULL,
    srpm_url TEXT,
    options TEXT NOT NULL,
    source_worker TEXT,
    source_heartbeat BIGINT
);
CREATE INDEX builds_project ON builds (project_id, id);
CREATE INDEX builds_project_state ON builds (project_id, state, id);
CREATE INDEX builds_project_package ON builds (project_id, package_name, id);
CREATE INDEX builds_package ON builds (package_id, id);
CREATE INDEX builds_source_queue ON builds (source_state, id);
CREATE INDEX builds_batch ON builds (batch_id);
CREATE TABLE build_chroots (
    build_id BIGINT NOT NULL REFERENCES builds(id) ON DELETE CASCADE,
    mock_chroot TEXT NOT NULL,
    state BIGINT NOT NULL,
    started_on BIGINT,
    ended_on BIGINT,
    status_reason TEXT,
    git_hash TEXT,
    worker TEXT,
    heartbeat BIGINT,
    PRIMARY KEY (build_id, mock_chroot)
);
CREATE INDEX build_chroots_queue ON build_chroots (state, build_id);
"#,
    },
    Migration {
        version: 2,
        name: "builders and task leases",
        sql: r#"
CREATE TABLE builders (
    id {ID},
    name TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,
    arch TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    chroots TEXT NOT NULL DEFAULT '[]',
    backends TEXT NOT NULL DEFAULT '[]',
    last_seen BIGINT,
    created_on BIGINT NOT NULL
);
ALTER TABLE builds ADD COLUMN source_attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE builds ADD COLUMN source_claimed BIGINT;
ALTER TABLE builds ADD COLUMN source_job TEXT;
ALTER TABLE build_chroots ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE build_chroots ADD COLUMN claimed BIGINT;
ALTER TABLE build_chroots ADD COLUMN job TEXT;
"#,
    },
    Migration {
        version: 20,
        name: "modules",
        sql: r#"
CREATE TABLE modules (
    id {ID},
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    stream TEXT NOT NULL,
    version BIGINT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    document TEXT NOT NULL,
    groups TEXT NOT NULL,
    submitter TEXT NOT NULL,
    created_on BIGINT NOT NULL,
    released_on BIGINT,
    UNIQUE (project_id, name, stream, version)
);
CREATE INDEX modules_state ON modules (state);
"#,
    },
    Migration {
        version: 10,
        name: "index build lists ordered by submission time",
        // `build/list?order=submitted_on` pages through this index instead of sorting all of a
        // project's builds.
        sql: "CREATE INDEX builds_project_submitted ON builds (project_id, submitted_on, id);",
    },
];

/// Pagination and ordering of a list request.
#[derive(Debug, Clone)]
pub struct Page {
    /// `None` returns everything (up to the caller's cap).
    pub limit: Option<i64>,
    pub offset: i64,
    /// A column name already checked against the list's allowed orderings.
    pub order: &'static str,
    pub desc: bool,
}

impl Page {
    /// ORDER BY / LIMIT / OFFSET for a query whose table has the alias `prefix` ("" or "b.").
    fn sql_for(&self, pg: bool, prefix: &str) -> String {
        let dir = if self.desc { "DESC" } else { "ASC" };
        let mut s = format!(" ORDER BY {prefix}{} {dir}", self.order);
        if self.order != "id" {
            s.push_str(&format!(", {prefix}id {dir}"));
        }
        match self.limit {
            Some(limit) => s.push_str(&format!(" LIMIT {limit}")),
            None if pg => s.push_str(" LIMIT ALL"),
            None => s.push_str(" LIMIT -1"),
        }
        s.push_str(&format!(" OFFSET {}", self.offset));
        s
    }
}

/// The codes of finished states, for `IN (…)`.
fn finished_codes() -> String {
    [
        State::Succeeded,
        State::Forked,
        State::Canceled,
        State::Skipped,
        State::Failed,
    ]
    .map(|s| s.code().to_string())
    .join(",")
}

fn placeholders(start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(",")
}

impl Store {
    /// Open (creating when needed) the database at `url`: `sqlite://PATH`, a plain path, or
    /// `postgres://…`; then apply pending migrations.
    pub async fn open(url: &str) -> Result<Store> {
        let open_err = |source| StoreError::Open {
            url: redact_url(url),
            source,
        };
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url).map_err(open_err)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(opts)
                .await
                .map_err(open_err)?;
            Backend::Postgres(pool)
        } else {
            let path = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .unwrap_or(url);
            if let Some(parent) = Path::new(path)
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
            {
                fs_err::create_dir_all(parent).map_err(|e| StoreError::DataDir {
                    path: parent.display().to_string(),
                    source: e,
                })?;
            }
            let opts = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true);
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(60))
                .connect_with(opts.clone())
                .await
                .map_err(open_err)?;
            let read = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(60))
                .connect_with(opts.read_only(false))
                .await
                .map_err(open_err)?;
            Backend::Sqlite { read, write }
        };
        let store = Store {
            backend: std::sync::Arc::new(backend),
        };
        store.migrate().await?;
        Ok(store)
    }

    pub fn backend_name(&self) -> &'static str {
        match &*self.backend {
            Backend::Sqlite { .. } => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    fn is_pg(&self) -> bool {
        matches!(&*self.backend, Backend::Postgres(_))
    }

    /// Apply the migrations newer than the stored schema version, each in its own transaction.
    async fn migrate(&self) -> Result<()> {
        let pg = self.is_pg();
        on_write!(self, p => {
            let mut tx = p.begin().await?;
            if pg {
                // Several servers may start at once against one database.
                sqlx::query("SELECT pg_advisory_xact_lock(7274301)").execute(&mut *tx).await?;
            }
            sqlx::raw_sql(
                "CREATE TABLE IF NOT EXISTS schema_migrations (\
                 version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_on BIGINT NOT NULL)",
            )
            .execute(&mut *tx)
            .await?;
            // Every migration not applied yet, in version order: a migration numbered below
            // one already applied (merged from a parallel line of work) still runs.
            let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
                .fetch_all(&mut *tx)
                .await?;
            let mut pending: Vec<&Migration> =
                MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)).collect();
            pending.sort_by_key(|m| m.version);
            for m in pending {
                let (id, blob) = if pg {
                    ("BIGSERIAL PRIMARY KEY", "BYTEA")
                } else {
                    ("INTEGER PRIMARY KEY AUTOINCREMENT", "BLOB")
                };
                let sql = m.sql.replace("{ID}", id).replace("BYTEA_OR_BLOB", blob);
                sqlx::raw_sql(AssertSqlSafe(sql))
                    .execute(&mut *tx)
                    .await
                    .map_err(|source| StoreError::Migrate { version: m.version, name: m.name, source })?;
                sqlx::query("INSERT INTO schema_migrations (version, name, applied_on) VALUES ($1, $2, $3)")
                    .bind(m.version)
                    .bind(m.name)
                    .bind(now())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn schema_version(&self) -> Result<i64> {
        on_read!(self, p => {
            let v: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
                .fetch_one(p)
                .await?;
            Ok(v.unwrap_or(0))
        })
    }

    // ----- users and groups -----

    pub async fn count_users(&self) -> Result<i64> {
        on_read!(self, p => {
            Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(p).await?)
        })
    }

    /// Create a user with an already hashed token.
    pub async fn create_user(
        &self,
        username: &str,
        api_login: &str,
        token_hash: &str,
        token_expires: i64,
        admin: bool,
    ) -> Result<User> {
        on_write!(self, p => {
            let row = sqlx::query(
                "INSERT INTO users (username, api_login, token_hash, token_expires, admin, created_on) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
            )
            .bind(username)
            .bind(api_login)
            .bind(token_hash)
            .bind(token_expires)
            .bind(admin)
            .bind(now())
            .fetch_one(p)
            .await
            .map_err(|e| unique_to_conflict(e, || format!("user {username} already exists")))?;
            Ok(user_row!(row))
        })
    }

    pub async fn user_by_login(&self, api_login: &str) -> Result<Option<User>> {
        on_read!(self, p => {
            let row = sqlx::query("SELECT * FROM users WHERE api_login = $1")
                .bind(api_login)
                .fetch_optional(p)
                .await?;
            Ok(match row { Some(r) => Some(user_row!(r)), None => None })
        })
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<User>> {
        on_read!(self, p => {
            let row = sqlx::query("SELECT * FROM users WHERE username = $1")
                .bind(username)
                .fetch_optional(p)
                .await?;
            Ok(match row { Some(r) => Some(user_row!(r)), None => None })
        })
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>> {
        on_read!(self, p => {
            let row = sqlx::query("SELECT * FROM users WHERE id = $1")
                .bind(id)
                .fetch_optional(p)
                .await?;
            Ok(match row { Some(r) => Some(user_row!(r)), None => None })
        })
    }

    /// Replace a user's token (hashed) and expiry.
    pub async fn set_token(&self, user_id: i64, token_hash: &str, expires: i64) -> Result<()> {
        on_write!(self, p => {
            sqlx::query("UPDATE users SET token_hash = $1, token_expires = $2 WHERE id = $3")
                .bind(token_hash)
                .bind(expires)
                .bind(user_id)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    pub async fn create_group(&self, name: &str) -> Result<i64> {
        on_write!(self, p => {
            let id: i64 = sqlx::query_scalar("INSERT INTO copr_groups (name) VALUES ($1) RETURNING id")
                .bind(name)
                .fetch_one(p)
                .await
                .map_err(|e| unique_to_conflict(e, || format!("group {name} already exists")))?;
            Ok(id)
        })
    }

    pub async fn group_id(&self, name: &str) -> Result<Option<i64>> {
        on_read!(self, p => {
            Ok(sqlx::query_scalar("SELECT id FROM copr_groups WHERE name = $1")
                .bind(name)
                .fetch_optional(p)
                .await?)
        })
    }

    pub async fn add_member(&self, group_id: i64, user_id: i64) -> Result<()> {
        on_write!(self, p => {
            sqlx::query("INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(group_id)
                .bind(user_id)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    pub async fn remove_member(&self, group_id: i64, user_id: i64) -> Result<()> {
        on_write!(self, p => {
            sqlx::query("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2")
                .bind(group_id)
                .bind(user_id)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    pub async fn is_member(&self, group_id: i64, user_id: i64) -> Result<bool> {
        on_read!(self, p => {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM group_members WHERE group_id = $1 AND user_id = $2",
            )
            .bind(group_id)
            .bind(user_id)
            .fetch_one(p)
            .await?;
            Ok(n > 0)
        })
    }

    // ----- projects -----

    /// Create a project with its chroots.
    pub async fn create_project(
        &self,
        ownername: &str,
        name: &str,
        user_id: i64,
        group_id: Option<i64>,
        settings: &ProjectSettings,
        chroots: &[String],
    ) -> Result<Project> {
        let settings_json = serde_json::to_string(settings)?;
        let empty = serde_json::to_string(&ChrootSettings::default())?;
        on_write!(self, p => {
            let mut tx = p.begin().await?;
            let row = sqlx::query(
                "INSERT INTO projects (ownername, name, user_id, group_id, settings, created_on) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
            )
            .bind(ownername)
            .bind(name)
            .bind(user_id)
            .bind(group_id)
            .bind(&settings_json)
            .bind(now())
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| unique_to_conflict(e, || format!("You already have a project named '{name}'.")))?;
            let project = project_row!(row);
            for c in chroots {
                sqlx::query("INSERT INTO project_chroots (project_id, mock_chroot, settings) VALUES ($1, $2, $3)")
                    .bind(project.id)
                    .bind(c)
                    .bind(&empty)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(project)
        })
    }

    pub async fn get_project(&self, ownername: &str, name: &str) -> Result<Option<Project>> {
        on_read!(self, p => {
            let row = sqlx::query("SELECT * FROM projects WHERE ownername = $1 AND name = $2")
                .bind(ownername)
                .bind(name)
                .fetch_optional(p)
                .await?;
            Ok(match row { Some(r) => Some(project_row!(r)), None => None })
        })
    }

    pub async fn get_project_by_id(&self, id: i64) -> Result<Option<Project>> {
        on_read!(self, p => {
            let row = sqlx::query("SELECT * FROM projects WHERE id = $1")
                .bind(id)
                .fetch_optional(p)
                .await?;
            Ok(match row { Some(r) => Some(project_row!(r)), None => None })
        })
    }

    /// Projects of one owner, or all; `query` searches names and descriptions.
    pub async fn list_projects(
        &self,
        ownername: Option<&str>,
        query: Option<&str>,
        page: &Page,
    ) -> Result<Vec<Project>> {
        let mut sql = String::from("SELECT * FROM projects WHERE 1=1");
        let mut n = 0;
        if ownername.is_some() {
            n += 1;
            sql.push_str(&format!(" AND ownername = ${n}"));
        }
        let like = query.map(|q| {
            format!(
                "%{}%",
                q.to_lowercase()
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            )
        });
        if like.is_some() {
            n += 1;
            sql.push_str(&format!(
                " AND (LOWER(name) LIKE ${n} ESCAPE '\\' OR LOWER(ownername) LIKE ${n} ESCAPE '\\' \
                 OR LOWER(settings) LIKE ${n} ESCAPE '\\')"
            ));
        }
        sql.push_str(&page.sql_for(self.is_pg(), ""));
        on_read!(self, p => {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            if let Some(o) = ownername { q = q.bind(o); }
            if let Some(l) = &like { q = q.bind(l.clone()); }
            let rows = q.fetch_all(p).await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows { out.push(project_row!(r)); }
            Ok(out)
        })
    }

    pub async fn update_project_settings(&self, id: i64, settings: &ProjectSettings) -> Result<()> {
        let json = serde_json::to_string(settings)?;
        on_write!(self, p => {
            sqlx::query("UPDATE projects SET settings = $1 WHERE id = $2")
                .bind(json)
                .bind(id)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    /// Delete a project and everything in it.
    pub async fn delete_project(&self, id: i64) -> Result<()> {
        on_write!(self, p => {
            let mut tx = p.begin().await?;
            for sql in [
                "DELETE FROM build_chroots WHERE build_id IN (SELECT id FROM builds WHERE project_id = $1)",
                "DELETE FROM builds WHERE project_id = $1",
                "DELETE FROM packages WHERE project_id = $1",
                "DELETE FROM permissions WHERE project_id = $1",
                "DELETE FROM project_chroots WHERE project_id = $1",
                "DELETE FROM projects WHERE id = $1",
            ] {
                sqlx::query(sql).bind(id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    // ----- project chroots -----

    pub async fn project_chroots(&self, project_id: i64) -> Result<Vec<ProjectChroot>> {
        on_read!(self, p => {
            let rows = sqlx::query(
                "SELECT project_id, mock_chroot, settings FROM project_chroots \
                 WHERE project_id = $1 ORDER BY mock_chroot",
            )
            .bind(project_id)
            .fetch_all(p)
            .await?;
            let mut out = Vec::new();
            for r in rows {
                out.push(ProjectChroot {
                    project_id: r.try_get("project_id")?,
                    mock_chroot: r.try_get("mock_chroot")?,
                    settings: serde_json::from_str(&r.try_get::<String, _>("settings")?)?,
                });
            }
            Ok(out)
        })
    }

    /// The names of the project's enabled chroots.
    pub async fn project_chroot_names(&self, project_id: i64) -> Result<Vec<String>> {
        Ok(self
            .project_chroots(project_id)
            .await?
            .into_iter()
            .map(|c| c.mock_chroot)
            .collect())
    }

    /// The `source_json` of a project's uploaded builds (their `tmp` names the upload directory
    /// to remove along with the project).
    pub async fn project_upload_sources(&self, project_id: i64) -> Result<Vec<serde_json::Value>> {
        on_read!(self, p => {
            let rows: Vec<String> = sqlx::query_scalar(
                "SELECT source_json FROM builds WHERE project_id = $1 AND source_type = 'upload'",
            )
            .bind(project_id)
            .fetch_all(p)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                out.push(serde_json::from_str(&r)?);
            }
            Ok(out)
        })
    }

    /// Make the project's chroots exactly `names`, keeping the settings of those that stay.
    pub async fn set_project_chroots(&self, project_id: i64, names: &[String]) -> Result<()> {
        let empty = serde_json::to_string(&ChrootSettings::default())?;
        let existing: Vec<String> = self.project_chroot_names(project_id).await?;
        on_write!(self, p => {
            let mut tx = p.begin().await?;
            for old in existing.iter().filter(|c| !names.contains(c)) {
                sqlx::query("DELETE FROM project_chroots WHERE project_id = $1 AND mock_chroot = $2")
                    .bind(project_id)
                    .bind(old)
                    .execute(&mut *tx)
                    .await?;
            }
            for new in names.iter().filter(|c| !existing.contains(c)) {
                sqlx::query("INSERT INTO project_chroots (project_id, mock_chroot, settings) VALUES ($1, $2, $3)")
                    .bind(project_id)
                    .bind(new)
                    .bind(&empty)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Store a chroot's settings; `comps` is `Some(None)` to delete, `Some(Some(..))` to replace.
    pub async fn update_project_chroot(
        &self,
        chroot: &ProjectChroot,
        comps: Option<Option<Vec<u8>>>,
    ) -> Result<()> {
        let json = serde_json::to_string(&chroot.settings)?;
        on_write!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("UPDATE project_chroots SET settings = $1 WHERE project_id = $2 AND mock_chroot = $3")
                .bind(&json)
                .bind(chroot.project_id)
                .bind(&chroot.mock_chroot)
                .execute(&mut *tx)
                .await?;
            if let Some(comps) = comps {
                sqlx::query("UPDATE project_chroots SET comps = $1 WHERE project_id = $2 AND mock_chroot = $3")
                    .bind(comps)
                    .bind(chroot.project_id)
                    .bind(&chroot.mock_chroot)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    // ----- permissions -----

    pub async fn permissions(&self, project_id: i64) -> Result<Vec<Permission>> {
        on_read!(self, p => {
            let rows = sqlx::query(
                "SELECT u.username, pm.builder, pm.admin FROM permissions pm \
                 JOIN users u ON u.id = pm.user_id WHERE pm.project_id = $1 ORDER BY u.username",
            )
            .bind(project_id)
            .fetch_all(p)
            .await?;
            let mut out = Vec::new();
            for r in rows {
                out.push(Permission {
                    username: r.try_get("username")?,
                    builder: r.try_get("builder")?,
                    admin: r.try_get("admin")?,
                });
            }
            Ok(out)
        })
    }

    pub async fn permission(
        &self,
        project_id: i64,
        user_id: i64,
    ) -> Result<Option<(String, String)>> {
        on_read!(self, p => {
            let row = sqlx::query("SELECT builder, admin FROM permissions WHERE project_id = $1 AND user_id = $2")
                .bind(project_id)
                .bind(user_id)
                .fetch_optional(p)
                .await?;
            Ok(match row {
                Some(r) => Some((r.try_get("builder")?, r.try_get("admin")?)),
                None => None,
            })
        })
    }

    /// Set roles for several users at once (all or nothing); `None` keeps a role as it is.
    pub async fn set_permissions(
        &self,
        project_id: i64,
        changes: &[(i64, Option<String>, Option<String>)],
    ) -> Result<()> {
        on_write!(self, p => {
            let mut tx = p.begin().await?;
            for (user_id, builder, admin) in changes {
                sqlx::query(
                    "INSERT INTO permissions (project_id, user_id, builder, admin) \
                     VALUES ($1, $2, COALESCE($3, 'nothing'), COALESCE($4, 'nothing')) \
                     ON CONFLICT (project_id, user_id) DO UPDATE SET \
                     builder = COALESCE($3, permissions.builder), admin = COALESCE($4, permissions.admin)",
                )
                .bind(project_id)
                .bind(user_id)
                .bind(builder.clone())
                .bind(admin.clone())
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    // ----- packages -----

    pub async fn create_package(
        &self,
        project_id: i64,
        name: &str,
        source_type: &str,
        source_json: &serde_json::Value,
        settings: &PackageSettings,
    ) -> Result<Package> {
        let src = serde_json::to_string(source_json)?;
        let set = serde_json::to_string(settings)?;
        on_write!(self, p => {
            let row = sqlx::query(
                "INSERT INTO packages (project_id, name, source_type, source_json, settings) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING *",
            )
            .bind(project_id)
            .bind(name)
            .bind(source_type)
            .bind(src)
            .bind(set)
            .fetch_one(p)
            .await
            .map_err(|e| unique_to_conflict(e, || format!("Package {name} already exists in this project.")))?;
            Ok(package_row!(row))
        })
    }

    pub async fn update_package(&self, pkg: &Package) -> Result<()> {
        let src = serde_json::to_string(&pkg.source_json)?;
        let set = serde_json::to_string(&pkg.settings)?;
        on_write!(self, p => {
            sqlx::query("UPDATE packages SET source_type = $1, source_json = $2, settings = $3 WHERE id = $4")
                .bind(&pkg.source_type)
                .bind(src)
                .bind(set)
                .bind(pkg.id)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    pub async fn get_package(&self, project_id: i64, name: &str) -> Result<Option<Package>> {
        on_read!(self, p => {
            let row = sqlx::query("SELECT * FROM packages WHERE project_id = $1 AND name = $2")
                .bind(project_id)
                .bind(name)
                .fetch_optional(p)
                .await?;
            Ok(match row { Some(r) => Some(package_row!(r)), None => None })
        })
    }

    pub async fn list_packages(&self, project_id: i64, page: &Page) -> Result<Vec<Package>> {
        let sql = format!(
            "SELECT * FROM packages WHERE project_id = $1{}",
            page.sql_for(self.is_pg(), "")
        );
        on_read!(self, p => {
            let rows = sqlx::query(AssertSqlSafe(sql)).bind(project_id).fetch_all(p).await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows { out.push(package_row!(r)); }
            Ok(out)
        })
    }

    pub async fn delete_package(&self, id: i64) -> Result<()> {
        on_write!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("UPDATE builds SET package_id = NULL WHERE package_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM packages WHERE id = $1").bind(id).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    // ----- builds -----

    /// Create a build: source task pending, chroot tasks waiting for the SRPM.
    pub async fn create_build(&self, nb: &NewBuild) -> Result<Build> {
        let id = self.insert_builds(std::slice::from_ref(nb)).await?[0];
        self.get_build(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("Build {id} does not exist.")))
    }

    /// Insert several builds in one transaction; returns their ids.
    pub async fn insert_builds(&self, builds: &[NewBuild]) -> Result<Vec<i64>> {
        let mut prepared = Vec::with_capacity(builds.len());
        for nb in builds {
            prepared.push((
                serde_json::to_string(&nb.source_json)?,
                serde_json::to_string(&nb.options)?,
            ));
        }
        on_write!(self, p => {
            let mut tx = p.begin().await?;
            let mut ids = Vec::with_capacity(builds.len());
            for (nb, (src, opts)) in builds.iter().zip(&prepared) {
                let batch_id: Option<i64> = match nb.batch {
                    BatchPlacement::None => None,
                    BatchPlacement::After(other) | BatchPlacement::With(other) => {
                        let row = sqlx::query("SELECT batch_id, state FROM builds WHERE id = $1")
                            .bind(other)
                            .fetch_optional(&mut *tx)
                            .await?
                            .ok_or_else(|| StoreError::Invalid(format!("Build {other} does not exist.")))?;
                        let existing: Option<i64> = row.try_get("batch_id")?;
                        let other_state = State::from_code(row.try_get("state")?);
                        if matches!(nb.batch, BatchPlacement::With(_)) && other_state.is_finished() {
                            return Err(StoreError::Invalid(format!(
                                "Build {other} is already finished, a new build cannot join its batch."
                            )));
                        }
                        let other_batch = match existing {
                            Some(b) => b,
                            None => {
                                let b: i64 = sqlx::query_scalar("INSERT INTO batches (blocked_by) VALUES (NULL) RETURNING id")
                                    .fetch_one(&mut *tx)
                                    .await?;
                                sqlx::query("UPDATE builds SET batch_id = $1 WHERE id = $2")
                                    .bind(b)
                                    .bind(other)
                                    .execute(&mut *tx)
                                    .await?;
                                b
                            }
                        };
                        if matches!(nb.batch, BatchPlacement::With(_)) {
                            Some(other_batch)
                        } else {
                            Some(sqlx::query_scalar("INSERT INTO batches (blocked_by) VALUES ($1) RETURNING id")
                                .bind(other_batch)
                                .fetch_one(&mut *tx)
                                .await?)
                        }
                    }
                };
                let state = derive_build_state(false, State::Pending, &vec![State::Waiting; nb.chroots.len()]);
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO builds (project_id, project_dirname, package_id, package_name, source_type, \
                     source_json, source_state, state, submitter, submitted_on, is_background, timeout, \
                     batch_id, options) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                     RETURNING id",
                )
                .bind(nb.project_id)
                .bind(&nb.project_dirname)
                .bind(nb.package_id)
                .bind(nb.package_name.clone())
                .bind(&nb.source_type)
                .bind(src)
                .bind(State::Pending.code())
                .bind(state.code())
                .bind(&nb.submitter)
                .bind(now())
                .bind(nb.is_background)
                .bind(nb.timeout)
                .bind(batch_id)
                .bind(opts)
                .fetch_one(&mut *tx)
                .await?;
                for c in &nb.chroots {
                    sqlx::query("INSERT INTO build_chroots (build_id, mock_chroot, state) VALUES ($1, $2, $3)")
                        .bind(id)
                        .bind(c)
                        .bind(State::Waiting.code())
                        .execute(&mut *tx)
                        .await?;
                }
                ids.push(id);
            }
            tx.commit().await?;
            Ok(ids)
        })
    }

    /// Fetch builds with their chroots in one query that returns one JSON document: the
    /// database assembles the page, so a page of builds costs one round trip and one row
    /// whatever its size. `filter` and `tail` use `$N` parameters bound from `args`.
    async fn fetch_builds(&self, filter: &str, tail: &str, args: &[Arg<'_>]) -> Result<Vec<Build>> {
        let pg = self.is_pg();
        let sql = if pg {
            format!(
                "SELECT COALESCE(json_agg(x.j), '[]'::json)::text FROM (SELECT json_build_object(\
                 {BUILD_FIELDS_COMMON}, 'source_json', b.source_json::json, 'options', b.options::json, \
                 'chroots', (SELECT COALESCE(json_agg(json_build_object({CHROOT_FIELDS}) ORDER BY c.mock_chroot), '[]'::json) \
                 FROM build_chroots c WHERE c.build_id = b.id)) AS j \
                 FROM builds b JOIN projects p ON p.id = b.project_id WHERE {filter}{tail}) x"
            )
        } else {
            format!(
                "SELECT '[' || COALESCE(group_concat(x.j, ','), '') || ']' FROM (SELECT json_object(\
                 {BUILD_FIELDS_COMMON}, 'source_json', json(b.source_json), 'options', json(b.options), \
                 'chroots', json((SELECT json_group_array(json_object({CHROOT_FIELDS})) \
                 FROM (SELECT * FROM build_chroots WHERE build_id = b.id ORDER BY mock_chroot) c))) AS j \
                 FROM builds b JOIN projects p ON p.id = b.project_id WHERE {filter}{tail}) x"
            )
        };
        let text: String = on_read!(self, p => {
            let mut q = sqlx::query_scalar::<_, String>(AssertSqlSafe(sql));
            for a in args {
                q = match a {
                    Arg::I(v) => q.bind(*v),
                    Arg::S(v) => q.bind(*v),
                };
            }
            q.fetch_one(p).await?
        });
        let rows: Vec<BuildJson> = serde_json::from_str(&text)?;
        Ok(rows.into_iter().map(BuildJson::into_build).collect())
    }

    pub async fn get_build(&self, id: i64) -> Result<Option<Build>> {
        Ok(self
            .fetch_builds("b.id = $1", "", &[Arg::I(id)])
            .await?
            .pop())
    }

    /// Builds of a project, optionally of one package and in one state.
    pub async fn list_builds(
        &self,
        project_id: i64,
        package: Option<&str>,
        state: Option<State>,
        page: &Page,
    ) -> Result<Vec<Build>> {
        let mut filter = String::from("b.project_id = $1");
        let mut args = vec![Arg::I(project_id)];
        if let Some(pk) = package {
            args.push(Arg::S(pk));
            filter.push_str(&format!(" AND b.package_name = ${}", args.len()));
        }
        if let Some(s) = state {
            args.push(Arg::I(s.code()));
            filter.push_str(&format!(" AND b.state = ${}", args.len()));
        }
        let mut builds = self
            .fetch_builds(&filter, &page.sql_for(self.is_pg(), "b."), &args)
            .await?;
        // The aggregate keeps the subquery's order in practice; make it certain.
        let key = |b: &Build| match page.order {
            "submitted_on" => (b.submitted_on, b.id),
            _ => (b.id, 0),
        };
        builds.sort_by_key(key);
        if page.desc {
            builds.reverse();
        }
        Ok(builds)
    }

    /// The page of a build list as [`BuildSummary`] rows in one indexed query: ids are picked
    /// from the covering `(project_id, …, id)` index first, so a deep OFFSET skips index entries
    /// rather than table rows, and each row carries its chroot names joined by spaces (chroot
    /// names never contain one). No JSON column is read.
    pub async fn list_build_summaries(
        &self,
        project_id: i64,
        package: Option<&str>,
        state: Option<State>,
        page: &Page,
    ) -> Result<Vec<BuildSummary>> {
        let pg = self.is_pg();
        let mut filter = String::from("i.project_id = $1");
        let mut args = vec![Arg::I(project_id)];
        if let Some(pk) = package {
            args.push(Arg::S(pk));
            filter.push_str(&format!(" AND i.package_name = ${}", args.len()));
        }
        if let Some(s) = state {
            args.push(Arg::I(s.code()));
            filter.push_str(&format!(" AND i.state = ${}", args.len()));
        }
        let dir = if page.desc { "DESC" } else { "ASC" };
        let outer_order = if page.order == "id" {
            format!(" ORDER BY b.id {dir}")
        } else {
            format!(" ORDER BY b.{} {dir}, b.id {dir}", page.order)
        };
        let names = if pg {
            "(SELECT string_agg(c.mock_chroot, ' ' ORDER BY c.mock_chroot) \
             FROM build_chroots c WHERE c.build_id = b.id)"
        } else {
            "(SELECT group_concat(c.mock_chroot, ' ') FROM (SELECT mock_chroot FROM build_chroots \
             WHERE build_id = b.id ORDER BY mock_chroot) c)"
        };
        let sql = format!(
            "SELECT b.id, b.state, b.project_dirname, b.package_name, b.package_version, \
             b.srpm_url, b.submitter, b.submitted_on, b.started_on, b.ended_on, b.is_background, \
             {names} FROM builds b \
             WHERE b.id IN (SELECT i.id FROM builds i WHERE {filter}{}){outer_order}",
            page.sql_for(pg, "i.")
        );
        let out: Vec<BuildSummary> = on_read!(self, p => {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for a in &args {
                q = match a {
                    Arg::I(v) => q.bind(*v),
                    Arg::S(v) => q.bind(*v),
                };
            }
            let rows = q.fetch_all(p).await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                out.push(BuildSummary {
                    id: r.try_get(0)?,
                    state: State::from_code(r.try_get(1)?),
                    project_dirname: r.try_get(2)?,
                    package_name: r.try_get(3)?,
                    package_version: r.try_get(4)?,
                    srpm_url: r.try_get(5)?,
                    submitter: r.try_get(6)?,
                    submitted_on: r.try_get(7)?,
                    started_on: r.try_get(8)?,
                    ended_on: r.try_get(9)?,
                    is_background: r.try_get(10)?,
                    chroots: r
                        .try_get::<Option<String>, _>(11)?
                        .map(|n| {
                            let mut v: Vec<String> = n.split(' ').map(str::to_owned).collect();
                            // Aggregates keep their input order only in practice; make it certain.
                            v.sort_unstable();
                            v
                        })
                        .unwrap_or_default(),
                });
            }
            out
        });
        Ok(out)
    }

    /// The newest build of a package, optionally only a succeeded one.
    pub async fn latest_package_build(
        &self,
        package_id: i64,
        succeeded: bool,
    ) -> Result<Option<Build>> {
        let filter = if succeeded {
            format!(
                "b.package_id = $1 AND b.state = {}",
                State::Succeeded.code()
            )
        } else {
            "b.package_id = $1".to_string()
        };
        Ok(self
            .fetch_builds(
                &filter,
                " ORDER BY b.id DESC LIMIT 1",
                &[Arg::I(package_id)],
            )
            .await?
            .pop())
    }

    /// Cancel an unfinished build: tasks nobody works on yet are canceled at once; a running
    /// task keeps its state until its builder confirms (the cancel flag asks it to stop).
    pub async fn cancel_build(&self, id: i64) -> Result<Build> {
        on_write!(self, p => {
            let mut tx = p.begin().await?;
            let state: Option<i64> = sqlx::query_scalar("SELECT state FROM builds WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            let state = State::from_code(state.ok_or_else(|| StoreError::NotFound(format!("Build {id} does not exist.")))?);
            if state.is_finished() {
                return Err(StoreError::Conflict(format!(
                    "Cannot cancel build {id}: it is already {}.", state.name()
                )));
            }
            let t = now();
            let open = [State::Pending, State::Waiting, State::Importing].map(State::code);
            sqlx::query("UPDATE builds SET canceled = TRUE, source_state = CASE WHEN source_state IN ($1, $2, $3) THEN $4 ELSE source_state END WHERE id = $5")
                .bind(open[0]).bind(open[1]).bind(open[2])
                .bind(State::Canceled.code())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE build_chroots SET state = $1, ended_on = $2 WHERE build_id = $3 AND state IN ($4, $5, $6)")
                .bind(State::Canceled.code())
                .bind(t)
                .bind(id)
                .bind(open[0]).bind(open[1]).bind(open[2])
                .execute(&mut *tx)
                .await?;
            refresh_build_state!(tx, id);
            tx.commit().await?;
        });
        self.get_build(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("Build {id} does not exist.")))
    }

    pub async fn delete_builds(&self, ids: &[i64]) -> Result<()> {
        on_write!(self, p => {
            let mut tx = p.begin().await?;
            for id in ids {
                sqlx::query("DELETE FROM build_chroots WHERE build_id = $1").bind(*id).execute(&mut *tx).await?;
                sqlx::query("DELETE FROM builds WHERE id = $1").bind(*id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Record a state change of a build's source task (builders call this), then re-derive the
    /// build state. Moving the source to `succeeded` makes waiting chroots pending.
    pub async fn set_source_state(&self, id: i64, state: State) -> Result<State> {
        on_write!(self, p => {
            let mut tx = p.begin().await?;
            let t = now();
            sqlx::query("UPDATE builds SET source_state = $1, started_on = CASE WHEN $1 = $2 THEN COALESCE(started_on, $3) ELSE started_on END WHERE id = $4")
                .bind(state.code())
                .bind(State::Running.code())
                .bind(t)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let next = match state {
                State::Succeeded => Some(State::Pending),
                State::Failed => Some(State::Failed),
                State::Canceled => Some(State::Canceled),
                _ => None,
            };
            if let Some(next) = next {
                sqlx::query("UPDATE build_chroots SET state = $1 WHERE build_id = $2 AND state = $3")
                    .bind(next.code())
                    .bind(id)
                    .bind(State::Waiting.code())
                    .execute(&mut *tx)
                    .await?;
            }
            let s = refresh_build_state!(tx, id);
            tx.commit().await?;
            Ok(s)
        })
    }

    /// Record a state change of one chroot task, then re-derive the build state.
    pub async fn set_chroot_state(
        &self,
        id: i64,
        chroot: &str,
        state: State,
        reason: Option<&str>,
    ) -> Result<State> {
        on_write!(self, p => {
            let mut tx = p.begin().await?;
            lock_build!(tx, id);
            let t = now();
            let started = (state == State::Running || state == State::Starting).then_some(t);
            let ended = state.is_finished().then_some(t);
            let n = sqlx::query(
                "UPDATE build_chroots SET state = $1, started_on = COALESCE(started_on, $2), \
                 ended_on = COALESCE($3, ended_on), status_reason = COALESCE($4, status_reason) \
                 WHERE build_id = $5 AND mock_chroot = $6",
            )
            .bind(state.code())
            .bind(started)
            .bind(ended)
            .bind(reason)
            .bind(id)
            .bind(chroot)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound(format!("Build {id} has no chroot {chroot}.")));
            }
            if started.is_some() {
                sqlx::query("UPDATE builds SET started_on = COALESCE(started_on, $1) WHERE id = $2")
                    .bind(t)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            let s = refresh_build_state!(tx, id);
            tx.commit().await?;
            Ok(s)
        })
    }

    /// Ids of the builds whose source task a builder may take now: pending, not canceled,
    /// and not in a batch blocked by an unfinished batch. Oldest first, background last.
    pub async fn pending_source_tasks(&self, limit: i64) -> Result<Vec<i64>> {
        let finished = finished_codes();
        let sql = format!(
            "SELECT b.id FROM builds b LEFT JOIN batches bt ON bt.id = b.batch_id \
             WHERE b.source_state = $1 AND b.canceled = FALSE AND b.source_worker IS NULL \
             AND (bt.blocked_by IS NULL OR NOT EXISTS (SELECT 1 FROM builds o \
                  WHERE o.batch_id = bt.blocked_by AND o.state NOT IN ({finished}))) \
             ORDER BY b.is_background, b.id LIMIT $2"
        );
        on_read!(self, p => {
            Ok(sqlx::query_scalar(AssertSqlSafe(sql))
                .bind(State::Pending.code())
                .bind(limit)
                .fetch_all(p)
                .await?)
        })
    }

    /// Claim the next source (SRPM) task for `worker`: the oldest unblocked pending build,
    /// foreground first. Its source becomes `starting`. Concurrent claims (several servers on
    /// one PostgreSQL, or many builders) never get the same task.
    pub async fn claim_source_task(&self, worker: &str) -> Result<Option<i64>> {
        let lock = if self.is_pg() {
            " FOR UPDATE OF b SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE builds SET source_state = $1, source_worker = $2, source_heartbeat = $3 \
             WHERE id = (SELECT b.id FROM builds b LEFT JOIN batches bt ON bt.id = b.batch_id \
             WHERE b.source_state = $4 AND b.canceled = FALSE AND b.source_worker IS NULL \
             AND (bt.blocked_by IS NULL OR NOT EXISTS (SELECT 1 FROM builds o \
                  WHERE o.batch_id = bt.blocked_by AND o.state NOT IN ({}))) \
             ORDER BY b.is_background, b.id LIMIT 1{lock}) RETURNING id",
            finished_codes()
        );
        on_write!(self, p => {
            let mut tx = p.begin().await?;
            let id: Option<i64> = sqlx::query_scalar(AssertSqlSafe(sql))
                .bind(State::Starting.code())
                .bind(worker)
                .bind(now())
                .bind(State::Pending.code())
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(id) = id {
                refresh_build_state!(tx, id);
            }
            tx.commit().await?;
            Ok(id)
        })
    }

    /// Claim the next pending chroot task among `chroots` for `worker`; it becomes `starting`.
    /// Returns (build id, chroot).
    pub async fn claim_chroot_task(
        &self,
        worker: &str,
        chroots: &[String],
    ) -> Result<Option<(i64, String)>> {
        if chroots.is_empty() {
            return Ok(None);
        }
        let lock = if self.is_pg() {
            " FOR UPDATE OF bc SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE build_chroots SET state = $1, worker = $2, heartbeat = $3, \
             started_on = COALESCE(started_on, $3) \
             WHERE (build_id, mock_chroot) = (SELECT bc.build_id, bc.mock_chroot \
             FROM build_chroots bc JOIN builds b ON b.id = bc.build_id \
             WHERE bc.state = $4 AND bc.worker IS NULL AND b.canceled = FALSE \
             AND bc.mock_chroot IN ({}) ORDER BY b.is_background, bc.build_id LIMIT 1{lock}) \
             RETURNING build_id, mock_chroot",
            placeholders(5, chroots.len())
        );
        on_write!(self, p => {
            let mut tx = p.begin().await?;
            let mut q = sqlx::query(AssertSqlSafe(sql))
                .bind(State::Starting.code())
                .bind(worker)
                .bind(now())
                .bind(State::Pending.code());
            for c in chroots {
                q = q.bind(c);
            }
            let row = q.fetch_optional(&mut *tx).await?;
            let out = match row {
                Some(r) => {
                    let id: i64 = r.try_get("build_id")?;
                    let chroot: String = r.try_get("mock_chroot")?;
                    sqlx::query("UPDATE builds SET started_on = COALESCE(started_on, $1) WHERE id = $2")
                        .bind(now())
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    refresh_build_state!(tx, id);
                    Some((id, chroot))
                }
                None => None,
            };
            tx.commit().await?;
            Ok(out)
        })
    }

    /// Put tasks whose builder has not sent a heartbeat since `before` back in the queue.
    /// Returns how many tasks were re-queued.
    pub async fn requeue_stale_tasks(&self, before: i64) -> Result<u64> {
        let running = [State::Starting.code(), State::Running.code()];
        on_write!(self, p => {
            let mut tx = p.begin().await?;
            let ids: Vec<i64> = sqlx::query_scalar(
                "SELECT DISTINCT build_id FROM build_chroots WHERE worker IS NOT NULL \
                 AND state IN ($1, $2) AND heartbeat < $3 \
                 UNION SELECT id FROM builds WHERE source_worker IS NOT NULL \
                 AND source_state IN ($1, $2) AND source_heartbeat < $3",
            )
            .bind(running[0])
            .bind(running[1])
            .bind(before)
            .fetch_all(&mut *tx)
            .await?;
            let a = sqlx::query(
                "UPDATE build_chroots SET state = $4, worker = NULL, heartbeat = NULL \
                 WHERE worker IS NOT NULL AND state IN ($1, $2) AND heartbeat < $3",
            )
            .bind(running[0])
            .bind(running[1])
            .bind(before)
            .bind(State::Pending.code())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let b = sqlx::query(
                "UPDATE builds SET source_state = $4, source_worker = NULL, source_heartbeat = NULL \
                 WHERE source_worker IS NOT NULL AND source_state IN ($1, $2) AND source_heartbeat < $3",
            )
            .bind(running[0])
            .bind(running[1])
            .bind(before)
            .bind(State::Pending.code())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            for id in ids {
                refresh_build_state!(tx, id);
            }
            tx.commit().await?;
            Ok(a + b)
        })
    }

    /// Counts of builds per derived state (for monitoring and tests).
    pub async fn count_builds(&self) -> Result<i64> {
        on_read!(self, p => {
            Ok(sqlx::query_scalar("SELECT COUNT(*) FROM builds").fetch_one(p).await?)
        })
    }

    /// Copy the identity columns of a build into a new, finished `forked` build in another
    /// project (fork keeps the latest successful builds).
    pub async fn fork_build(&self, src: &Build, project_id: i64, dirname: &str) -> Result<i64> {
        let src_json = serde_json::to_string(&src.source_json)?;
        let opts = serde_json::to_string(&src.options)?;
        on_write!(self, p => {
            let mut tx = p.begin().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO builds (project_id, project_dirname, package_name, package_version, source_type, \
                 source_json, source_state, state, submitter, submitted_on, started_on, ended_on, is_background, \
                 timeout, srpm_url, options) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
                 RETURNING id",
            )
            .bind(project_id)
            .bind(dirname)
            .bind(src.package_name.clone())
            .bind(src.package_version.clone())
            .bind(&src.source_type)
            .bind(&src_json)
            .bind(State::Succeeded.code())
            .bind(State::Forked.code())
            .bind(&src.submitter)
            .bind(src.submitted_on)
            .bind(src.started_on)
            .bind(src.ended_on)
            .bind(src.is_background)
            .bind(src.timeout)
            .bind(src.srpm_url.clone())
            .bind(&opts)
            .fetch_one(&mut *tx)
            .await?;
            for c in &src.chroots {
                sqlx::query("INSERT INTO build_chroots (build_id, mock_chroot, state, started_on, ended_on) VALUES ($1, $2, $3, $4, $5)")
                    .bind(id)
                    .bind(&c.name)
                    .bind(State::Forked.code())
                    .bind(c.started_on)
                    .bind(c.ended_on)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(id)
        })
    }

    /// Link a build to a package (after the package is known) and record its name/version.
    pub async fn set_build_package(
        &self,
        id: i64,
        package_id: Option<i64>,
        name: Option<&str>,
        version: Option<&str>,
    ) -> Result<()> {
        on_write!(self, p => {
            sqlx::query("UPDATE builds SET package_id = COALESCE($1, package_id), package_name = COALESCE($2, package_name), package_version = COALESCE($3, package_version) WHERE id = $4")
                .bind(package_id)
                .bind(name)
                .bind(version)
                .bind(id)
                .execute(p)
                .await?;
        });
        Ok(())
    }
}

// Builder registry and the task queue of remote builds live in their own file; as a child
// module they share this module's query macros and backend.
#[path = "store_tasks.rs"]
mod tasks;
pub use tasks::{BuilderRow, ClaimFilter, StaleOutcome, TaskKey, TaskRow};

// Modules of projects, likewise in their own file.
#[path = "store_modules.rs"]
mod modules_store;
pub use modules_store::{ModuleRow, NewModule};

/// A database URL with any password replaced, for messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// One chroot task of a build as publishing and pruning see it.
#[derive(Debug, Clone)]
pub struct ChrootBuildRow {
    pub build_id: i64,
    pub package_name: Option<String>,
    pub state: State,
    pub ended_on: Option<i64>,
}

// ----- publishing -----

impl Store {
    /// The chroot tasks `chroot` of the builds in one project directory (`project` or
    /// `project:suffix`), optionally only those of the given packages. Oldest first.
    pub async fn chroot_builds(
        &self,
        project_id: i64,
        dirname: &str,
        chroot: &str,
        packages: Option<&[String]>,
    ) -> Result<Vec<ChrootBuildRow>> {
        let mut sql = String::from(
            "SELECT b.id AS build_id, b.package_name AS package_name, bc.state AS state, \
             bc.ended_on AS ended_on FROM builds b JOIN build_chroots bc ON bc.build_id = b.id \
             WHERE b.project_id = $1 AND b.project_dirname = $2 AND bc.mock_chroot = $3",
        );
        if let Some(names) = packages {
            if names.is_empty() {
                return Ok(Vec::new());
            }
            sql.push_str(&format!(
                " AND b.package_name IN ({})",
                placeholders(4, names.len())
            ));
        }
        sql.push_str(" ORDER BY b.id");
        on_read!(self, p => {
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(project_id).bind(dirname).bind(chroot);
            for n in packages.unwrap_or_default() {
                q = q.bind(n);
            }
            let rows = q.fetch_all(p).await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                out.push(ChrootBuildRow {
                    build_id: r.try_get("build_id")?,
                    package_name: r.try_get("package_name")?,
                    state: State::from_code(r.try_get("state")?),
                    ended_on: r.try_get("ended_on")?,
                });
            }
            Ok(out)
        })
    }

    /// The state of one chroot task, `None` when the build or chroot does not exist.
    pub async fn chroot_state(&self, build_id: i64, chroot: &str) -> Result<Option<State>> {
        on_read!(self, p => {
            let s: Option<i64> = sqlx::query_scalar(
                "SELECT state FROM build_chroots WHERE build_id = $1 AND mock_chroot = $2",
            )
            .bind(build_id)
            .bind(chroot)
            .fetch_optional(p)
            .await?;
            Ok(s.map(State::from_code))
        })
    }
}

// ----- builder pools -----

impl Store {
    /// Tasks ready for a builder: (source tasks, pending chroot tasks per chroot).
    pub async fn ready_task_counts(&self) -> Result<(i64, Vec<(String, i64)>)> {
        let pending = State::Pending.code();
        let source_sql = format!(
            "SELECT COUNT(*) FROM builds b LEFT JOIN batches bt ON bt.id = b.batch_id \
             WHERE b.source_state = {pending} AND b.canceled = FALSE AND b.source_worker IS NULL \
             AND (bt.blocked_by IS NULL OR NOT EXISTS (SELECT 1 FROM builds o \
                  WHERE o.batch_id = bt.blocked_by AND o.state NOT IN ({})))",
            finished_codes()
        );
        let chroot_sql = format!(
            "SELECT bc.mock_chroot AS chroot, COUNT(*) AS n FROM build_chroots bc \
             JOIN builds b ON b.id = bc.build_id WHERE bc.state = {pending} \
             AND bc.worker IS NULL AND b.canceled = FALSE GROUP BY bc.mock_chroot"
        );
        on_read!(self, p => {
            let sources: i64 = sqlx::query_scalar(AssertSqlSafe(source_sql)).fetch_one(p).await?;
            let rows = sqlx::query(AssertSqlSafe(chroot_sql)).fetch_all(p).await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                out.push((r.try_get::<String, _>("chroot")?, r.try_get::<i64, _>("n")?));
            }
            Ok((sources, out))
        })
    }

    /// Record that a builder asked for work just now.
    pub async fn touch_builder(&self, id: i64) -> Result<()> {
        on_write!(self, p => {
            sqlx::query("UPDATE builders SET last_seen = $1 WHERE id = $2")
                .bind(now())
                .bind(id)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    /// A builder's state as a pool sees it: (seen since `seen_after`, working on a task).
    pub async fn builder_activity(
        &self,
        name: &str,
        seen_after: i64,
    ) -> Result<Option<(bool, bool)>> {
        let active = [State::Starting.code(), State::Running.code()];
        let escaped = name
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let prefix = format!("{escaped}#%");
        on_read!(self, p => {
            let seen: Option<Option<i64>> =
                sqlx::query_scalar("SELECT last_seen FROM builders WHERE name = $1")
                    .bind(name)
                    .fetch_optional(p)
                    .await?;
            let Some(seen) = seen else { return Ok(None) };
            let busy: i64 = sqlx::query_scalar(
                "SELECT (SELECT COUNT(*) FROM build_chroots WHERE worker LIKE $1 ESCAPE '\\' \
                 AND state IN ($2, $3)) + (SELECT COUNT(*) FROM builds \
                 WHERE source_worker LIKE $1 ESCAPE '\\' AND source_state IN ($2, $3))",
            )
            .bind(&prefix)
            .bind(active[0])
            .bind(active[1])
            .fetch_one(p)
            .await?;
            Ok(Some((seen.is_some_and(|t| t >= seen_after), busy > 0)))
        })
    }

    /// Remove a builder (its token stops working).
    pub async fn delete_builder(&self, name: &str) -> Result<()> {
        on_write!(self, p => {
            sqlx::query("DELETE FROM builders WHERE name = $1")
                .bind(name)
                .execute(p)
                .await?;
        });
        Ok(())
    }
}
