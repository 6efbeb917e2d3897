//! Entities kept by the build service and the build state machine (Copr's state enum).

use serde::{Deserialize, Serialize};

/// Build and build-chroot states, with Copr's integer codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    Failed = 0,
    Succeeded = 1,
    Canceled = 2,
    Running = 3,
    Pending = 4,
    Skipped = 5,
    Starting = 6,
    Importing = 7,
    Forked = 8,
    Waiting = 9,
    Unknown = 1000,
}

impl State {
    pub const ALL: [State; 11] = [
        State::Failed,
        State::Succeeded,
        State::Canceled,
        State::Running,
        State::Pending,
        State::Skipped,
        State::Starting,
        State::Importing,
        State::Forked,
        State::Waiting,
        State::Unknown,
    ];

    pub fn code(self) -> i64 {
        self as i64
    }

    pub fn from_code(code: i64) -> State {
        State::ALL
            .into_iter()
            .find(|s| s.code() == code)
            .unwrap_or(State::Unknown)
    }

    pub fn name(self) -> &'static str {
        match self {
            State::Failed => "failed",
            State::Succeeded => "succeeded",
            State::Canceled => "canceled",
            State::Running => "running",
            State::Pending => "pending",
            State::Skipped => "skipped",
            State::Starting => "starting",
            State::Importing => "importing",
            State::Forked => "forked",
            State::Waiting => "waiting",
            State::Unknown => "unknown",
        }
    }

    pub fn from_name(name: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Finished states never change again (except by deleting the build).
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            State::Succeeded | State::Forked | State::Canceled | State::Skipped | State::Failed
        )
    }
}

/// The state of a whole build, derived from its source state, its chroots and the cancel flag
/// (Copr's rules: reference §2).
pub fn derive_build_state(canceled: bool, source: State, chroots: &[State]) -> State {
    if canceled {
        return State::Canceled;
    }
    if matches!(
        source,
        State::Starting | State::Pending | State::Running | State::Importing | State::Failed
    ) {
        return source;
    }
    if chroots.is_empty() {
        return State::Waiting;
    }
    for s in [
        State::Running,
        State::Starting,
        State::Pending,
        State::Failed,
        State::Succeeded,
        State::Skipped,
        State::Forked,
    ] {
        if chroots.contains(&s) {
            return s;
        }
    }
    if chroots.iter().all(|s| *s == State::Waiting) {
        return State::Pending;
    }
    if chroots.contains(&State::Waiting) {
        return State::Pending;
    }
    State::Unknown
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub api_login: String,
    pub token_hash: String,
    pub token_expires: i64,
    pub admin: bool,
}

/// Project settings: every Project field of the API that is not an identity column.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ProjectSettings {
    pub description: Option<String>,
    pub instructions: Option<String>,
    pub homepage: Option<String>,
    pub contact: Option<String>,
    pub devel_mode: bool,
    pub persistent: bool,
    pub unlisted_on_hp: bool,
    pub auto_prune: bool,
    pub additional_repos: Vec<String>,
    pub enable_net: bool,
    pub bootstrap: Option<String>,
    pub bootstrap_image: Option<String>,
    pub isolation: Option<String>,
    pub module_hotfixes: bool,
    pub appstream: bool,
    pub packit_forge_projects_allowed: Vec<String>,
    pub follow_fedora_branching: bool,
    pub repo_priority: Option<i64>,
    pub storage: Option<String>,
    pub multilib: bool,
    pub fedora_review: bool,
    pub runtime_dependencies: Vec<String>,
    pub delete_after_days: Option<i64>,
}

impl Default for ProjectSettings {
    fn default() -> Self {
        ProjectSettings {
            description: None,
            instructions: None,
            homepage: None,
            contact: None,
            devel_mode: false,
            persistent: false,
            unlisted_on_hp: false,
            auto_prune: true,
            additional_repos: Vec::new(),
            enable_net: false,
            bootstrap: Some("default".into()),
            bootstrap_image: None,
            isolation: Some("default".into()),
            module_hotfixes: false,
            appstream: false,
            packit_forge_projects_allowed: Vec::new(),
            follow_fedora_branching: true,
            repo_priority: None,
            storage: Some("backend".into()),
            multilib: false,
            fedora_review: false,
            runtime_dependencies: Vec::new(),
            delete_after_days: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Project {
    pub id: i64,
    /// `user` or `@group`.
    pub ownername: String,
    pub name: String,
    /// The user who created the project.
    pub user_id: i64,
    /// The owning group when `ownername` starts with `@`.
    pub group_id: Option<i64>,
    pub settings: ProjectSettings,
    pub created_on: i64,
}

impl Project {
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.ownername, self.name)
    }
}

/// Per-chroot settings of a project.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(default)]
pub struct ChrootSettings {
    pub additional_repos: Vec<String>,
    pub additional_packages: Vec<String>,
    pub additional_modules: Vec<String>,
    pub with_opts: Vec<String>,
    pub without_opts: Vec<String>,
    pub delete_after_days: Option<i64>,
    pub isolation: Option<String>,
    pub bootstrap: Option<String>,
    pub bootstrap_image: Option<String>,
    pub comps_name: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ProjectChroot {
    pub project_id: i64,
    pub mock_chroot: String,
    pub settings: ChrootSettings,
}

/// Per-package settings besides the source.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(default)]
pub struct PackageSettings {
    pub max_builds: Option<i64>,
    pub timeout: Option<i64>,
    pub chroot_denylist: Vec<String>,
    pub webhook_rebuild: bool,
}

#[derive(Debug, Clone)]
pub struct Package {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub source_type: String,
    /// Source parameters as stored (Copr's `source_json`, e.g. `srpm_build_method`).
    pub source_json: serde_json::Value,
    pub settings: PackageSettings,
}

/// Build options that do not need their own column.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(default)]
pub struct BuildOptions {
    pub enable_net: bool,
    pub bootstrap: Option<String>,
    pub bootstrap_image: Option<String>,
    pub isolation: Option<String>,
    /// For custom-script builds: the chroot the script runs in.
    pub source_chroot: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Build {
    pub id: i64,
    pub project_id: i64,
    pub ownername: String,
    pub projectname: String,
    pub project_dirname: String,
    pub package_id: Option<i64>,
    pub package_name: Option<String>,
    pub package_version: Option<String>,
    pub source_type: String,
    pub source_json: serde_json::Value,
    pub source_state: State,
    pub state: State,
    pub canceled: bool,
    pub submitter: String,
    pub submitted_on: i64,
    pub started_on: Option<i64>,
    pub ended_on: Option<i64>,
    pub is_background: bool,
    pub timeout: i64,
    pub batch_id: Option<i64>,
    pub srpm_url: Option<String>,
    pub options: BuildOptions,
    pub chroots: Vec<BuildChroot>,
}

#[derive(Debug, Clone)]
pub struct BuildChroot {
    pub build_id: i64,
    pub name: String,
    pub state: State,
    pub started_on: Option<i64>,
    pub ended_on: Option<i64>,
    pub status_reason: Option<String>,
}

/// One line of a build list: the columns `GET build/list` renders, without the source
/// description, options and per-chroot states that only a single build's views need.
#[derive(Debug, Clone)]
pub struct BuildSummary {
    pub id: i64,
    pub state: State,
    pub project_dirname: String,
    pub package_name: Option<String>,
    pub package_version: Option<String>,
    pub srpm_url: Option<String>,
    pub submitter: String,
    pub submitted_on: i64,
    pub started_on: Option<i64>,
    pub ended_on: Option<i64>,
    pub is_background: bool,
    /// Chroot names, sorted.
    pub chroots: Vec<String>,
}

/// What a new build is made of.
#[derive(Debug, Clone)]
pub struct NewBuild {
    pub project_id: i64,
    pub project_dirname: String,
    pub package_id: Option<i64>,
    pub package_name: Option<String>,
    pub source_type: String,
    pub source_json: serde_json::Value,
    pub submitter: String,
    pub is_background: bool,
    pub timeout: i64,
    pub options: BuildOptions,
    pub chroots: Vec<String>,
    pub batch: BatchPlacement,
}

/// Where a new build goes in the batch graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchPlacement {
    None,
    /// Start only after this build's batch has finished.
    After(i64),
    /// Join this build's batch.
    With(i64),
}

/// Permission states for the `builder` and `admin` roles.
pub const PERM_STATES: [&str; 3] = ["nothing", "request", "approved"];

#[derive(Debug, Clone)]
pub struct Permission {
    pub username: String,
    pub builder: String,
    pub admin: String,
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_state_follows_copr_rules() {
        use State::*;
        assert_eq!(derive_build_state(true, Succeeded, &[Running]), Canceled);
        assert_eq!(derive_build_state(false, Pending, &[Waiting]), Pending);
        assert_eq!(derive_build_state(false, Succeeded, &[]), Waiting);
        assert_eq!(
            derive_build_state(false, Succeeded, &[Succeeded, Running]),
            Running
        );
        assert_eq!(
            derive_build_state(false, Succeeded, &[Succeeded, Failed]),
            Failed
        );
        assert_eq!(
            derive_build_state(false, Succeeded, &[Waiting, Waiting]),
            Pending
        );
        assert_eq!(
            derive_build_state(false, Succeeded, &[Skipped, Succeeded]),
            Succeeded
        );
        for s in State::ALL {
            assert_eq!(State::from_code(s.code()), s);
            assert_eq!(State::from_name(s.name()), Some(s));
        }
    }
}
