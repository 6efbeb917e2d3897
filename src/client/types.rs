//! API v3 objects as the frontend sends them. Every known key is typed; keys this client does
//! not know are kept in `extra`, so `--output json` prints the object as received.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// Keys of an object that this client does not model, kept verbatim.
pub type Extra = BTreeMap<String, Value>;

/// `GET /auth-check`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthCheck {
    #[serde(default)]
    pub id: Option<i64>,
    pub name: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A project (`/project/…`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Project {
    pub id: Option<i64>,
    pub name: String,
    pub ownername: String,
    pub full_name: Option<String>,
    pub description: Option<String>,
    pub instructions: Option<String>,
    pub homepage: Option<String>,
    pub contact: Option<String>,
    pub devel_mode: Option<bool>,
    pub persistent: Option<bool>,
    pub unlisted_on_hp: Option<bool>,
    pub auto_prune: Option<bool>,
    pub chroot_repos: Option<BTreeMap<String, String>>,
    #[serde(deserialize_with = "str_list")]
    pub additional_repos: Option<Vec<String>>,
    pub enable_net: Option<bool>,
    pub bootstrap: Option<String>,
    pub isolation: Option<String>,
    pub module_hotfixes: Option<bool>,
    pub appstream: Option<bool>,
    #[serde(deserialize_with = "str_list")]
    pub packit_forge_projects_allowed: Option<Vec<String>>,
    pub follow_fedora_branching: Option<bool>,
    pub repo_priority: Option<i64>,
    pub storage: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Project {
    /// `owner/name`, from `full_name` when the server sends it.
    pub fn full_name(&self) -> String {
        self.full_name
            .clone()
            .unwrap_or_else(|| format!("{}/{}", self.ownername, self.name))
    }

    /// The enabled chroots, sorted.
    pub fn chroots(&self) -> Vec<String> {
        self.chroot_repos
            .as_ref()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }
}

/// `source_package` of a build.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SourcePackage {
    pub name: Option<String>,
    pub version: Option<String>,
    pub url: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A build (`/build/…`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Build {
    pub id: i64,
    pub state: String,
    pub projectname: String,
    pub ownername: String,
    pub project_dirname: Option<String>,
    pub repo_url: Option<String>,
    pub source_package: Option<SourcePackage>,
    pub submitted_on: Option<i64>,
    pub started_on: Option<i64>,
    pub ended_on: Option<i64>,
    pub submitter: Option<String>,
    pub chroots: Option<Vec<String>>,
    pub is_background: Option<bool>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// States after which a build never changes again (copr-cli stops watching at these).
pub const FINISHED_STATES: &[&str] = &["succeeded", "skipped", "failed", "canceled", "forked"];

impl Build {
    pub fn is_finished(&self) -> bool {
        FINISHED_STATES.contains(&self.state.as_str())
    }

    pub fn package_name(&self) -> Option<&str> {
        self.source_package.as_ref()?.name.as_deref()
    }

    pub fn package_version(&self) -> Option<&str> {
        self.source_package.as_ref()?.version.as_deref()
    }
}

/// One chroot of a build (`/build-chroot/…`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct BuildChroot {
    pub name: String,
    pub state: String,
    pub started_on: Option<i64>,
    pub ended_on: Option<i64>,
    pub result_url: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `builds` of a package: the latest and the latest succeeded build, when asked for.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PackageBuilds {
    pub latest: Option<Build>,
    pub latest_succeeded: Option<Build>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A package (`/package/…`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Package {
    pub id: Option<i64>,
    pub name: String,
    pub ownername: String,
    pub projectname: String,
    pub source_type: Option<String>,
    pub source_dict: Option<Value>,
    pub auto_rebuild: Option<bool>,
    pub builds: Option<PackageBuilds>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// The settings of one chroot in a project (`/project-chroot/…`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProjectChroot {
    pub mock_chroot: String,
    pub ownername: String,
    pub projectname: String,
    pub comps_name: Option<String>,
    #[serde(deserialize_with = "str_list")]
    pub additional_repos: Option<Vec<String>>,
    #[serde(deserialize_with = "str_list")]
    pub additional_packages: Option<Vec<String>>,
    #[serde(deserialize_with = "str_list")]
    pub additional_modules: Option<Vec<String>>,
    #[serde(deserialize_with = "str_list")]
    pub with_opts: Option<Vec<String>>,
    #[serde(deserialize_with = "str_list")]
    pub without_opts: Option<Vec<String>>,
    pub delete_after_days: Option<i64>,
    pub isolation: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `meta` of a paginated list.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Meta {
    #[serde(deserialize_with = "lenient_u64")]
    pub limit: Option<u64>,
    #[serde(deserialize_with = "lenient_u64")]
    pub offset: Option<u64>,
    pub order: Option<String>,
    pub order_type: Option<String>,
}

/// One page of a list endpoint: `{"items":[…],"meta":{…}}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(default)]
    pub meta: Meta,
}

/// A count that some frontends echo back as the query string's text.
fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

/// Lists come as JSON arrays, but older frontends and some fields use one space-separated
/// string; both are accepted.
fn str_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        List(Vec<String>),
        Text(String),
    }
    Ok(match Option::<Either>::deserialize(d)? {
        None => None,
        Some(Either::List(v)) => Some(v),
        Some(Either::Text(s)) => Some(s.split_whitespace().map(str::to_string).collect()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_survive_a_round_trip() {
        let raw = serde_json::json!({
            "id": 7, "name": "p", "ownername": "@g", "full_name": "@g/p",
            "chroot_repos": {"fedora-40-x86_64": "http://h/results/@g/p/fedora-40-x86_64/"},
            "additional_repos": [], "future_key": {"x": 1}, "description": null
        });
        let p: Project = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(p.chroots(), vec!["fedora-40-x86_64"]);
        let back = serde_json::to_value(&p).unwrap();
        assert_eq!(back["future_key"], raw["future_key"]);
        assert_eq!(back["description"], Value::Null);
    }

    #[test]
    fn space_separated_lists_are_accepted() {
        let c: ProjectChroot = serde_json::from_value(serde_json::json!({
            "mock_chroot": "fedora-40-x86_64", "ownername": "a", "projectname": "p",
            "additional_packages": "gcc make", "with_opts": ["x"], "without_opts": null
        }))
        .unwrap();
        assert_eq!(c.additional_packages.unwrap(), vec!["gcc", "make"]);
        assert_eq!(c.with_opts.unwrap(), vec!["x"]);
        assert_eq!(c.without_opts, None);
    }
}
