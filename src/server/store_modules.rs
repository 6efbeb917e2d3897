//! Modules of a project (a child module of [`super`], sharing its query macros): one row per
//! `NAME:STREAM:VERSION`, built from a modulemd document or released from existing builds.

use sqlx::Row;

use super::{Backend, Result, Store, unique_to_conflict};
use crate::server::model::now;

/// A module as stored.
#[derive(Debug, Clone)]
pub struct ModuleRow {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub stream: String,
    pub version: i64,
    /// `building`, `released` or `failed` (while building, the builds tell more).
    pub state: String,
    /// Why it failed, when it did.
    pub reason: Option<String>,
    /// The submitted modulemd document (a release without one stores its spec as JSON).
    pub document: String,
    /// Build ids per build group, as JSON `[[1, 2], [3]]`.
    pub groups: Vec<Vec<i64>>,
    pub submitter: String,
    pub created_on: i64,
    pub released_on: Option<i64>,
}

/// What a new module row holds.
#[derive(Debug, Clone)]
pub struct NewModule {
    pub project_id: i64,
    pub name: String,
    pub stream: String,
    pub version: i64,
    pub state: String,
    pub document: String,
    pub groups: Vec<Vec<i64>>,
    pub submitter: String,
}

macro_rules! module_row {
    ($r:expr) => {{
        let groups: String = $r.try_get("groups")?;
        ModuleRow {
            id: $r.try_get("id")?,
            project_id: $r.try_get("project_id")?,
            name: $r.try_get("name")?,
            stream: $r.try_get("stream")?,
            version: $r.try_get("version")?,
            state: $r.try_get("state")?,
            reason: $r.try_get("reason")?,
            document: $r.try_get("document")?,
            groups: serde_json::from_str(&groups)?,
            submitter: $r.try_get("submitter")?,
            created_on: $r.try_get("created_on")?,
            released_on: $r.try_get("released_on")?,
        }
    }};
}

impl Store {
    /// Record a module; `NAME:STREAM:VERSION` is unique per project (a conflict otherwise).
    pub async fn create_module(&self, m: &NewModule) -> Result<i64> {
        let groups = serde_json::to_string(&m.groups)?;
        let nsv = format!("{}:{}:{}", m.name, m.stream, m.version);
        on_write!(self, p => {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO modules (project_id, name, stream, version, state, document, groups, \
                 submitter, created_on) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            )
            .bind(m.project_id)
            .bind(&m.name)
            .bind(&m.stream)
            .bind(m.version)
            .bind(&m.state)
            .bind(&m.document)
            .bind(groups)
            .bind(&m.submitter)
            .bind(now())
            .fetch_one(p)
            .await
            .map_err(|e| unique_to_conflict(e, || format!(
                "Module {nsv} already exists in this project; a module never changes, use a new version."
            )))?;
            Ok(id)
        })
    }

    /// Set the build groups of a module being created.
    pub async fn set_module_groups(&self, id: i64, groups: &[Vec<i64>]) -> Result<()> {
        let groups = serde_json::to_string(groups)?;
        on_write!(self, p => {
            sqlx::query("UPDATE modules SET groups = $1 WHERE id = $2")
                .bind(groups)
                .bind(id)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    /// Move a module to a final state.
    pub async fn finish_module(&self, id: i64, state: &str, reason: Option<&str>) -> Result<()> {
        let released = (state == "released").then(now);
        on_write!(self, p => {
            sqlx::query("UPDATE modules SET state = $1, reason = $2, released_on = $3 WHERE id = $4")
                .bind(state)
                .bind(reason)
                .bind(released)
                .bind(id)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    /// Remove a module row (a creation that could not be completed).
    pub async fn delete_module(&self, id: i64) -> Result<()> {
        on_write!(self, p => {
            sqlx::query("DELETE FROM modules WHERE id = $1").bind(id).execute(p).await?;
        });
        Ok(())
    }

    pub async fn get_module(&self, id: i64) -> Result<Option<ModuleRow>> {
        on_read!(self, p => {
            let row = sqlx::query("SELECT * FROM modules WHERE id = $1")
                .bind(id)
                .fetch_optional(p)
                .await?;
            Ok(match row { Some(r) => Some(module_row!(r)), None => None })
        })
    }

    /// Modules of a project, oldest first.
    pub async fn list_modules(&self, project_id: i64) -> Result<Vec<ModuleRow>> {
        on_read!(self, p => {
            let rows = sqlx::query("SELECT * FROM modules WHERE project_id = $1 ORDER BY id")
                .bind(project_id)
                .fetch_all(p)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows { out.push(module_row!(r)); }
            Ok(out)
        })
    }

    /// Modules still building (to resume driving them after a restart).
    pub async fn building_modules(&self) -> Result<Vec<i64>> {
        on_read!(self, p => {
            let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM modules WHERE state = 'building' ORDER BY id")
                .fetch_all(p)
                .await?;
            Ok(ids)
        })
    }

    /// Ids of the builds the modules of a project were built or released from.
    pub async fn module_build_ids(
        &self,
        project_id: i64,
    ) -> Result<std::collections::HashSet<i64>> {
        Ok(self
            .list_modules(project_id)
            .await?
            .into_iter()
            .filter(|m| m.state != "failed")
            .flat_map(|m| m.groups.into_iter().flatten())
            .collect())
    }

    /// The newest version of `name:stream` in a project.
    pub async fn latest_module_version(
        &self,
        project_id: i64,
        name: &str,
        stream: &str,
    ) -> Result<Option<i64>> {
        on_read!(self, p => {
            let v: Option<i64> = sqlx::query_scalar(
                "SELECT MAX(version) FROM modules WHERE project_id = $1 AND name = $2 AND stream = $3",
            )
            .bind(project_id)
            .bind(name)
            .bind(stream)
            .fetch_one(p)
            .await?;
            Ok(v)
        })
    }
}
