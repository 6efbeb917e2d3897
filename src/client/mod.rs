//! Client for the Copr API v3 (our server or any Copr frontend), and copr-cli's config file.
//!
//! Requests are sent the way python-copr sends them: parameters both in the query string and the
//! JSON body, `Authorization: Basic login:token`, multipart with a `json` part where copr-cli
//! uses one, three connection attempts. Every response must be JSON; an `"error"` key is an
//! error whatever the status, mapped by status to [`ClientError`] variants.

pub mod config;
pub mod logs;
mod modules;
pub mod names;
pub mod repro;
pub mod submit;
pub mod types;

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use reqwest::Method;
use reqwest::blocking::multipart;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

pub use config::{Config, ConfigError};
pub use names::{ChrootRef, NameError, ProjectRef};
pub use types::{
    AuthCheck, Build, BuildChroot, FINISHED_STATES, Meta, Package, Page, Project, ProjectChroot,
};

/// Page size requested by list calls (copr-cli uses the same).
pub const PAGE_LIMIT: u64 = 1000;

/// Connection attempts before giving up (copr-cli's `connection_attempts`).
pub const CONNECTION_ATTEMPTS: u32 = 3;

/// What went wrong talking to a Copr frontend.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot connect to {url} ({attempts} attempts)")]
    Connect {
        url: String,
        attempts: u32,
        #[source]
        source: reqwest::Error,
    },
    #[error("request to {url} failed")]
    Transport {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("authentication failed: {message}")]
    Auth { status: u16, message: String },
    #[error("this operation needs an API token, but {config} has no `login` and `token`")]
    NoCredentials { config: String },
    #[error("not found: {message}")]
    NotFound { message: String },
    #[error("the server timed out: {message}")]
    Timeout { message: String },
    #[error("request failed (HTTP {status}): {message}")]
    Request { status: u16, message: String },
    #[error(
        "{url} answered HTTP {status} with a body that is not JSON ({content_type}): {snippet}"
    )]
    NotJson {
        url: String,
        status: u16,
        content_type: String,
        snippet: String,
    },
    #[error("unexpected response from {url}: {message}")]
    Shape { url: String, message: String },
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid copr_url `{url}`: {message}")]
    BadUrl { url: String, message: String },
}

/// A value in the query string. `None` values are dropped, booleans become `True`/`False`.
#[derive(Debug, Clone)]
pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn new() -> Self {
        Query(Vec::new())
    }

    pub fn str(mut self, key: &str, value: impl Into<String>) -> Self {
        self.0.push((key.to_string(), value.into()));
        self
    }

    pub fn opt(self, key: &str, value: Option<impl ToString>) -> Self {
        match value {
            Some(v) => self.str(key, v.to_string()),
            None => self,
        }
    }

    pub fn bool(self, key: &str, value: bool) -> Self {
        self.str(key, if value { "True" } else { "False" })
    }
}

impl Default for Query {
    fn default() -> Self {
        Self::new()
    }
}

/// Called while a file is uploaded with (bytes sent, total bytes).
pub type UploadProgress = std::sync::Arc<dyn Fn(u64, u64) + Send + Sync>;

/// The request body.
#[derive(Clone)]
enum Body {
    None,
    Json(Value),
    /// A `json` part plus files: (part name, file name, content type, bytes).
    Multipart(Value, Vec<(String, String, String, Vec<u8>)>),
    /// A `json` part plus one file streamed from disk as the `pkgs` part (copr-cli's upload).
    Upload {
        json: Value,
        path: PathBuf,
        progress: Option<UploadProgress>,
    },
}

/// A file being read into a request body, reporting how far it got.
struct ProgressReader {
    file: fs_err::File,
    sent: u64,
    total: u64,
    progress: Option<UploadProgress>,
}

impl std::io::Read for ProgressReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        self.sent += n as u64;
        if let Some(p) = &self.progress {
            p(self.sent, self.total);
        }
        Ok(n)
    }
}

/// A chunk of a log file read from `offset` on (see [`Client::read_log`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogChunk {
    /// The file does not exist (yet).
    Missing,
    /// The bytes from the offset on; empty when nothing was added.
    Data(Vec<u8>),
}

/// The answer of `POST /api-token`. `Debug` never shows the token.
#[derive(Clone, serde::Deserialize)]
pub struct NewToken {
    pub api_login: String,
    pub api_token: String,
    #[serde(default)]
    pub expiration: Option<String>,
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken")
            .field("api_login", &self.api_login)
            .field("expiration", &self.expiration)
            .finish()
    }
}

/// Settings of a project for `add` and `edit`; unset fields are not sent.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProjectSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chroots: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// Sent as `additional_repos` on add and `repos` on edit, as python-copr does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_repos: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unlisted_on_hp: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_net: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persistent: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_prune: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootstrap_image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isolation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_fedora_branching: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub devel_mode: Option<bool>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "number_as_string"
    )]
    pub delete_after_days: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multilib: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module_hotfixes: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fedora_review: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appstream: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_dependencies: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packit_forge_projects_allowed: Option<Vec<String>>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "number_as_string"
    )]
    pub repo_priority: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<String>,
}

/// Options every build-creating call accepts; unset fields are not sent.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BuildOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chroots: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclude_chroots: Option<Vec<String>>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "number_as_string"
    )]
    pub timeout: Option<u64>,
    pub background: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_net: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isolation: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "number_as_string"
    )]
    pub after_build_id: Option<i64>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "number_as_string"
    )]
    pub with_build_id: Option<i64>,
}

/// Where an SCM package or build takes its sources from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ScmSource {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clone_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub committish: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subdirectory: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scm_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_build_method: Option<String>,
}

/// Per-package settings shared by every source type; unset fields are not sent.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PackageSettings {
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "number_as_string"
    )]
    pub max_builds: Option<u64>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "number_as_string"
    )]
    pub timeout: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chroot_denylist: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_rebuild: Option<bool>,
}

/// Changes to a project chroot; strings are sent the way copr-cli sends them (space-separated
/// packages and repos, comma-separated modules).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ChrootEdit {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_repos: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_packages: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_modules: Option<String>,
    pub delete_comps: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub with_opts: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub without_opts: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootstrap_image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isolation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reset_fields: Option<Vec<String>>,
    /// A comps.xml file uploaded as the `upload_comps` part.
    #[serde(skip)]
    pub upload_comps: Option<PathBuf>,
}

/// A blocking API v3 client.
pub struct Client {
    http: reqwest::blocking::Client,
    copr_url: String,
    api_base: url::Url,
    credentials: Option<(String, String)>,
    config_path: String,
    attempts: u32,
    retry_delay: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("copr_url", &self.copr_url)
            .field("authenticated", &self.credentials.is_some())
            .finish()
    }
}

impl Client {
    /// A client for the frontend and credentials of `config`.
    pub fn new(config: &Config) -> Result<Client, ClientError> {
        let bad = |message: String| ClientError::BadUrl {
            url: config.copr_url.clone(),
            message,
        };
        let mut api_base = url::Url::parse(&format!("{}/", config.copr_url.trim_end_matches('/')))
            .map_err(|e| bad(e.to_string()))?;
        api_base = api_base.join("api_3/").map_err(|e| bad(e.to_string()))?;
        let http = reqwest::blocking::Client::builder()
            .user_agent(concat!("copr copr-rs/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(20))
            .timeout(Duration::from_secs(600))
            .build()
            .map_err(|e| bad(e.to_string()))?;
        let credentials = match (&config.login, &config.token) {
            (Some(l), Some(t)) => Some((l.clone(), t.clone())),
            _ => None,
        };
        Ok(Client {
            http,
            copr_url: config.copr_url.trim_end_matches('/').to_string(),
            api_base,
            credentials,
            config_path: config
                .path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "the configuration (no file found)".to_string()),
            attempts: CONNECTION_ATTEMPTS,
            retry_delay: Duration::from_secs(2),
        })
    }

    /// Change the pause between connection attempts (default 2 s).
    pub fn with_retry_delay(mut self, delay: Duration) -> Self {
        self.retry_delay = delay;
        self
    }

    /// The frontend's base URL, without a trailing slash.
    pub fn copr_url(&self) -> &str {
        &self.copr_url
    }

    /// Whether a login and token are configured.
    pub fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }

    /// `<copr_url>/coprs/build/<id>`, the link copr-cli prints for a new build.
    pub fn build_url(&self, id: i64) -> String {
        format!("{}/coprs/build/{id}", self.copr_url)
    }

    /// `<copr_url>/coprs/<owner or g/group>/<project>/`, the link copr-cli prints for a project.
    pub fn project_url(&self, owner: &str, project: &str) -> String {
        let owner = match owner.strip_prefix('@') {
            Some(g) => format!("g/{g}"),
            None => owner.to_string(),
        };
        format!("{}/coprs/{owner}/{project}/", self.copr_url)
    }

    fn url(&self, segments: &[&str]) -> url::Url {
        let mut url = self.api_base.clone();
        {
            let mut path = url.path_segments_mut().expect("http URL has a path");
            path.pop_if_empty();
            for seg in segments {
                path.push(seg);
            }
        }
        url
    }

    fn send(
        &self,
        method: Method,
        segments: &[&str],
        query: &Query,
        body: Body,
        auth: bool,
    ) -> Result<Value, ClientError> {
        let url = self.url(segments);
        let credentials = if auth {
            Some(
                self.credentials
                    .as_ref()
                    .ok_or_else(|| ClientError::NoCredentials {
                        config: self.config_path.clone(),
                    })?,
            )
        } else {
            self.credentials.as_ref()
        };
        let mut attempt = 0;
        let response = loop {
            attempt += 1;
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .header("Accept", "application/json");
            if !query.0.is_empty() {
                req = req.query(&query.0);
            }
            if let Some((login, token)) = credentials {
                let b64 =
                    base64::engine::general_purpose::STANDARD.encode(format!("{login}:{token}"));
                req = req.header("Authorization", format!("Basic {b64}"));
            }
            req = match &body {
                Body::None => req,
                Body::Json(v) => req.json(v),
                Body::Multipart(json, files) => {
                    let part = multipart::Part::text(json.to_string())
                        .file_name("json")
                        .mime_str("application/json")
                        .expect("valid mime");
                    let mut form = multipart::Form::new().part("json", part);
                    for (name, file_name, mime, bytes) in files {
                        let part = multipart::Part::bytes(bytes.clone())
                            .file_name(file_name.clone())
                            .mime_str(mime)
                            .expect("valid mime");
                        form = form.part(name.clone(), part);
                    }
                    req.multipart(form)
                }
                Body::Upload {
                    json,
                    path,
                    progress,
                } => {
                    let io = |source| ClientError::Io {
                        path: path.clone(),
                        source,
                    };
                    let file = fs_err::File::open(path).map_err(io)?;
                    let total = file.metadata().map_err(io)?.len();
                    let name = path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let mime = if name.ends_with(".rpm") {
                        "application/x-rpm"
                    } else {
                        "text/plain"
                    };
                    let reader = ProgressReader {
                        file,
                        sent: 0,
                        total,
                        progress: progress.clone(),
                    };
                    let json_part = multipart::Part::text(json.to_string())
                        .file_name("json")
                        .mime_str("application/json")
                        .expect("valid mime");
                    let file_part = multipart::Part::reader_with_length(reader, total)
                        .file_name(name)
                        .mime_str(mime)
                        .expect("valid mime");
                    let form = multipart::Form::new()
                        .part("json", json_part)
                        .part("pkgs", file_part);
                    // An upload may take long on a slow line: no overall deadline.
                    req.multipart(form).timeout(Duration::from_secs(24 * 3600))
                }
            };
            tracing::debug!(%method, %url, attempt, "API request");
            match req.send() {
                Ok(r) => break r,
                Err(e) if e.is_connect() => {
                    if attempt >= self.attempts {
                        return Err(ClientError::Connect {
                            url: self.copr_url.clone(),
                            attempts: attempt,
                            source: e,
                        });
                    }
                    tracing::debug!("connection failed, retrying: {e}");
                    std::thread::sleep(self.retry_delay);
                }
                Err(e) => {
                    return Err(ClientError::Transport {
                        url: url.to_string(),
                        source: e,
                    });
                }
            }
        };
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("no content type")
            .to_string();
        let bytes = response.bytes().map_err(|e| ClientError::Transport {
            url: url.to_string(),
            source: e,
        })?;
        let value: Value = match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(_) => {
                let text = String::from_utf8_lossy(&bytes);
                let mut snippet: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
                if snippet.chars().count() > 200 {
                    snippet = snippet.chars().take(200).collect::<String>() + "…";
                }
                if snippet.is_empty() {
                    snippet = "(empty body)".to_string();
                }
                return Err(ClientError::NotJson {
                    url: url.to_string(),
                    status,
                    content_type,
                    snippet,
                });
            }
        };
        if let Some(err) = value.get("error") {
            let message = match err {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            return Err(match status {
                401 | 403 => ClientError::Auth { status, message },
                404 => ClientError::NotFound { message },
                504 => ClientError::Timeout { message },
                _ => ClientError::Request { status, message },
            });
        }
        if !(200..300).contains(&status) {
            return Err(ClientError::Request {
                status,
                message: value.to_string(),
            });
        }
        Ok(value)
    }

    fn decode<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        value: Value,
    ) -> Result<T, ClientError> {
        serde_json::from_value(value).map_err(|e| ClientError::Shape {
            url: self.url(segments).to_string(),
            message: e.to_string(),
        })
    }

    fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        query: Query,
        body: Body,
        auth: bool,
    ) -> Result<T, ClientError> {
        let value = self.send(method, segments, &query, body, auth)?;
        self.decode(segments, value)
    }

    /// Every item of a paginated list, fetched page by page as the iterator advances.
    pub fn paginate<T: DeserializeOwned>(&self, segments: &[&str], query: Query) -> Pages<'_, T> {
        Pages {
            client: self,
            segments: segments.iter().map(|s| s.to_string()).collect(),
            query,
            offset: 0,
            limit: PAGE_LIMIT,
            buffer: std::collections::VecDeque::new(),
            previous_first: None,
            done: false,
        }
    }

    // ----- general -----

    /// `GET /auth-check`: who the configured token belongs to.
    pub fn auth_check(&self) -> Result<AuthCheck, ClientError> {
        self.call(Method::GET, &["auth-check"], Query::new(), Body::None, true)
    }

    /// `POST /api-token`: a new token for the configured user; the old one stops working.
    pub fn new_api_token(&self) -> Result<NewToken, ClientError> {
        self.call(Method::POST, &["api-token"], Query::new(), Body::None, true)
    }

    // ----- projects -----

    pub fn project_get(&self, owner: &str, project: &str) -> Result<Project, ClientError> {
        let q = Query::new()
            .str("ownername", owner)
            .str("projectname", project);
        self.call(Method::GET, &["project"], q, Body::None, false)
    }

    pub fn project_list(&self, owner: &str) -> Pages<'_, Project> {
        self.paginate(&["project", "list"], Query::new().str("ownername", owner))
    }

    pub fn project_add(
        &self,
        owner: &str,
        name: &str,
        settings: &ProjectSettings,
    ) -> Result<Project, ClientError> {
        let mut body = to_map(settings);
        body.insert("name".into(), Value::String(name.to_string()));
        let q = Query::new().str("ownername", owner).bool("exist_ok", false);
        self.call(
            Method::POST,
            &["project", "add", owner],
            q,
            Body::Json(Value::Object(body)),
            true,
        )
    }

    pub fn project_edit(
        &self,
        owner: &str,
        project: &str,
        settings: &ProjectSettings,
    ) -> Result<Project, ClientError> {
        let mut body = to_map(settings);
        if let Some(repos) = body.remove("additional_repos") {
            body.insert("repos".into(), repos);
        }
        let q = Query::new()
            .str("ownername", owner)
            .str("projectname", project);
        self.call(
            Method::PUT,
            &["project", "edit", owner, project],
            q,
            Body::Json(Value::Object(body)),
            true,
        )
    }

    pub fn project_delete(&self, owner: &str, project: &str) -> Result<Project, ClientError> {
        let q = Query::new()
            .str("ownername", owner)
            .str("projectname", project);
        self.call(
            Method::DELETE,
            &["project", "delete", owner, project],
            q,
            Body::Json(serde_json::json!({"verify": true})),
            true,
        )
    }

    pub fn project_fork(
        &self,
        src: &ProjectRef,
        dst_owner: &str,
        dst_name: &str,
        confirm: bool,
    ) -> Result<Project, ClientError> {
        let q = Query::new()
            .str("ownername", &src.owner)
            .str("projectname", &src.project);
        let body =
            serde_json::json!({"name": dst_name, "ownername": dst_owner, "confirm": confirm});
        self.call(
            Method::POST,
            &["project", "fork", &src.owner, &src.project],
            q,
            Body::Json(body),
            true,
        )
    }

    pub fn project_regenerate_repos(
        &self,
        owner: &str,
        project: &str,
    ) -> Result<Project, ClientError> {
        let q = Query::new()
            .str("ownername", owner)
            .str("projectname", project);
        self.call(
            Method::PUT,
            &["project", "regenerate-repos", owner, project],
            q,
            Body::None,
            true,
        )
    }

    // ----- builds -----

    pub fn build_get(&self, id: i64) -> Result<Build, ClientError> {
        self.call(
            Method::GET,
            &["build", &id.to_string()],
            Query::new(),
            Body::None,
            false,
        )
    }

    pub fn build_list(
        &self,
        owner: &str,
        project: &str,
        package: Option<&str>,
        status: Option<&str>,
    ) -> Pages<'_, Build> {
        let q = Query::new()
            .str("ownername", owner)
            .str("projectname", project)
            .opt("packagename", package)
            .opt("status", status);
        self.paginate(&["build", "list"], q)
    }

    pub fn build_cancel(&self, id: i64) -> Result<Build, ClientError> {
        let id = id.to_string();
        self.call(
            Method::PUT,
            &["build", "cancel", &id],
            Query::new(),
            Body::None,
            true,
        )
    }

    /// `DELETE /build/delete/list`; returns the body the server answers (`{"builds":[ids]}`).
    pub fn build_delete_list(&self, ids: &[i64]) -> Result<Value, ClientError> {
        self.send(
            Method::DELETE,
            &["build", "delete", "list"],
            &Query::new(),
            Body::Json(serde_json::json!({ "builds": ids })),
            true,
        )
    }

    pub fn build_create_scm(
        &self,
        project: &ProjectRef,
        source: &ScmSource,
        options: &BuildOptions,
    ) -> Result<Build, ClientError> {
        let mut body = to_map(source);
        body.extend(to_map(options));
        insert_project(&mut body, project);
        self.call(
            Method::POST,
            &["build", "create", "scm"],
            Query::new(),
            Body::Json(Value::Object(body)),
            true,
        )
    }

    /// `POST /build/create/upload`: upload an SRPM or spec (multipart, streamed from disk, as
    /// copr-cli sends it) and build it.
    pub fn build_create_upload(
        &self,
        project: &ProjectRef,
        path: &Path,
        options: &BuildOptions,
        progress: Option<UploadProgress>,
    ) -> Result<Build, ClientError> {
        let mut body = to_map(options);
        insert_project(&mut body, project);
        self.call(
            Method::POST,
            &["build", "create", "upload"],
            Query::new(),
            Body::Upload {
                json: Value::Object(body),
                path: path.to_path_buf(),
                progress,
            },
            true,
        )
    }

    /// `POST /build/create/url`: build the SRPM or spec at `url`.
    pub fn build_create_url(
        &self,
        project: &ProjectRef,
        url: &str,
        options: &BuildOptions,
    ) -> Result<Build, ClientError> {
        let mut body = to_map(options);
        insert_project(&mut body, project);
        body.insert("pkgs".into(), Value::String(url.to_string()));
        let segments = ["build", "create", "url"];
        let value = self.send(
            Method::POST,
            &segments,
            &Query::new(),
            Body::Json(Value::Object(body)),
            true,
        )?;
        // Copr answers a list (one build per URL); older frontends a single build.
        let value = match value.get("items").and_then(Value::as_array) {
            Some(items) => items.first().cloned().ok_or_else(|| ClientError::Shape {
                url: self.url(&segments).to_string(),
                message: "the server created no build".to_string(),
            })?,
            None => value,
        };
        self.decode(&segments, value)
    }

    /// `GET /build/source-chroot/{id}`: state and result directory of the SRPM task.
    pub fn build_source_chroot(&self, id: i64) -> Result<BuildChroot, ClientError> {
        let id = id.to_string();
        let mut value = self.send(
            Method::GET,
            &["build", "source-chroot", &id],
            &Query::new(),
            Body::None,
            false,
        )?;
        if let Value::Object(m) = &mut value {
            m.entry("name")
                .or_insert_with(|| Value::String("srpm-builds".into()));
        }
        self.decode(&["build", "source-chroot", &id], value)
    }

    /// `GET /build/job-spec/{id}[?chroot=NAME]`: the job spec a builder ran for the build's
    /// source task, or for one chroot's task.
    pub fn build_job_spec(
        &self,
        id: i64,
        chroot: Option<&str>,
    ) -> Result<crate::job::JobSpec, ClientError> {
        let id = id.to_string();
        let segments = ["build", "job-spec", &id];
        let value = self.send(
            Method::GET,
            &segments,
            &Query::new().opt("chroot", chroot),
            Body::None,
            false,
        )?;
        self.decode(&segments, value)
    }

    /// Read a (possibly growing) log file from byte `offset` on with an HTTP Range request.
    /// A server that ignores the range is handled by skipping the bytes already seen.
    pub fn read_log(&self, url: &str, offset: u64) -> Result<LogChunk, ClientError> {
        let transport = |source| ClientError::Transport {
            url: url.to_string(),
            source,
        };
        let response = self
            .http
            .get(url)
            .header(reqwest::header::RANGE, format!("bytes={offset}-"))
            .timeout(Duration::from_secs(60))
            .send()
            .map_err(transport)?;
        let status = response.status();
        match status.as_u16() {
            404 => return Ok(LogChunk::Missing),
            416 => return Ok(LogChunk::Data(Vec::new())),
            200 | 206 => {}
            code => {
                return Err(ClientError::Request {
                    status: code,
                    message: format!("GET {url}"),
                });
            }
        }
        let bytes = response.bytes().map_err(transport)?;
        if status.as_u16() == 206 {
            return Ok(LogChunk::Data(bytes.to_vec()));
        }
        let skip = (offset as usize).min(bytes.len());
        Ok(LogChunk::Data(bytes[skip..].to_vec()))
    }

    pub fn build_chroot_list(&self, build_id: i64) -> Pages<'_, BuildChroot> {
        self.paginate(
            &["build-chroot", "list"],
            Query::new().str("build_id", build_id.to_string()),
        )
    }

    /// `GET /build/built-packages/{id}`: `{chroot: {"packages": [nevra…]}}`.
    pub fn build_built_packages(&self, id: i64) -> Result<Value, ClientError> {
        let id = id.to_string();
        self.send(
            Method::GET,
            &["build", "built-packages", &id],
            &Query::new(),
            Body::None,
            false,
        )
    }

    /// Download `url` (a result file, outside the API) to `dest`, streaming; returns false when
    /// the server has no such file (404). A partial file never stays behind.
    pub fn download(&self, url: &str, dest: &Path) -> Result<bool, ClientError> {
        let transport = |source| ClientError::Transport {
            url: url.to_string(),
            source,
        };
        // Results can be large: allow far longer than an API call.
        let mut response = self
            .http
            .get(url)
            .timeout(Duration::from_secs(6 * 3600))
            .send()
            .map_err(transport)?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(false);
        }
        if !response.status().is_success() {
            return Err(ClientError::Request {
                status: response.status().as_u16(),
                message: format!("GET {url}"),
            });
        }
        let io = |source| ClientError::Io {
            path: dest.to_path_buf(),
            source,
        };
        let dir = dest.parent().unwrap_or(Path::new("."));
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
        response.copy_to(tmp.as_file_mut()).map_err(transport)?;
        tmp.persist(dest).map_err(|e| io(e.error))?;
        Ok(true)
    }

    /// `GET /monitor`: the latest build of every package in every chroot,
    /// `{"packages":[{"name","chroots":{chroot:{state,status,build_id,pkg_version,…}}}]}`.
    pub fn monitor(
        &self,
        project: &ProjectRef,
        additional_fields: &[String],
    ) -> Result<Value, ClientError> {
        let mut q = Query::new()
            .str("ownername", &project.owner)
            .str("projectname", &project.project)
            .opt("project_dirname", project.dirname_if_custom());
        for f in additional_fields {
            q = q.str("additional_fields[]", f.clone());
        }
        self.send(Method::GET, &["monitor"], &q, Body::None, false)
    }

    /// The file names a results directory lists (its HTML index, as Copr's backend and
    /// `copr serve` serve them); `None` when the server shows no listing.
    pub fn list_result_dir(&self, url: &str) -> Result<Option<Vec<String>>, ClientError> {
        let url = format!("{}/", url.trim_end_matches('/'));
        let transport = |source| ClientError::Transport {
            url: url.clone(),
            source,
        };
        let response = self
            .http
            .get(&url)
            .timeout(Duration::from_secs(60))
            .send()
            .map_err(transport)?;
        let html = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/html"));
        if !response.status().is_success() || !html {
            return Ok(None);
        }
        let text = response.text().map_err(transport)?;
        let mut names = Vec::new();
        for part in text.split("href=\"").skip(1) {
            let Some(href) = part.split('"').next() else {
                continue;
            };
            // Files of this directory only: no subdirectories, parents, queries or other hosts.
            if href.is_empty() || href.contains(['/', '?', '#', ':']) || href.starts_with('.') {
                continue;
            }
            let name =
                url::form_urlencoded::parse(format!("n={}", href.replace('+', "%2B")).as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
            if !name.is_empty() && !names.contains(&name) && name != "index.html" {
                names.push(name);
            }
        }
        Ok(Some(names))
    }

    // ----- chroots -----

    /// `GET /mock-chroots/list`: chroot name → comment.
    pub fn mock_chroots(&self) -> Result<Map<String, Value>, ClientError> {
        self.call(
            Method::GET,
            &["mock-chroots", "list"],
            Query::new(),
            Body::None,
            false,
        )
    }

    pub fn project_chroot_get(&self, c: &ChrootRef) -> Result<ProjectChroot, ClientError> {
        let q = Query::new()
            .str("ownername", &c.owner)
            .str("projectname", &c.project)
            .str("chrootname", &c.chroot);
        self.call(Method::GET, &["project-chroot"], q, Body::None, false)
    }

    pub fn project_chroot_edit(
        &self,
        c: &ChrootRef,
        edit: &ChrootEdit,
    ) -> Result<ProjectChroot, ClientError> {
        let mut files = Vec::new();
        if let Some(path) = &edit.upload_comps {
            let bytes = fs_err::read(path).map_err(|source| ClientError::Io {
                path: path.clone(),
                source,
            })?;
            let name = Path::new(path)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "comps.xml".to_string());
            files.push((
                "upload_comps".to_string(),
                name,
                "application/text".to_string(),
                bytes,
            ));
        }
        let mut body = to_map(edit);
        if edit.bootstrap_image.is_some() {
            body.insert("bootstrap".into(), Value::String("custom_image".into()));
        }
        let q = Query::new()
            .str("ownername", &c.owner)
            .str("projectname", &c.project)
            .str("chrootname", &c.chroot);
        self.call(
            Method::PUT,
            &["project-chroot", "edit", &c.owner, &c.project, &c.chroot],
            q,
            Body::Multipart(Value::Object(body), files),
            true,
        )
    }

    // ----- packages -----

    pub fn package_get(
        &self,
        project: &ProjectRef,
        name: &str,
        with_latest_build: bool,
        with_latest_succeeded_build: bool,
    ) -> Result<Package, ClientError> {
        let q = Query::new()
            .str("ownername", &project.owner)
            .str("projectname", &project.project)
            .str("packagename", name)
            .bool("with_latest_build", with_latest_build)
            .bool("with_latest_succeeded_build", with_latest_succeeded_build);
        self.call(Method::GET, &["package"], q, Body::None, false)
    }

    pub fn package_list(
        &self,
        project: &ProjectRef,
        with_latest_build: bool,
        with_latest_succeeded_build: bool,
    ) -> Pages<'_, Package> {
        let q = Query::new()
            .str("ownername", &project.owner)
            .str("projectname", &project.project)
            .bool("with_latest_build", with_latest_build)
            .bool("with_latest_succeeded_build", with_latest_succeeded_build);
        self.paginate(&["package", "list"], q)
    }

    /// `POST /package/add/…/scm` (`create`) or `/package/edit/…/scm`.
    pub fn package_scm(
        &self,
        create: bool,
        project: &ProjectRef,
        name: &str,
        source: &ScmSource,
        settings: &PackageSettings,
    ) -> Result<Package, ClientError> {
        let mut body = to_map(source);
        body.extend(to_map(settings));
        body.insert("package_name".into(), Value::String(name.to_string()));
        let q = Query::new()
            .str("ownername", &project.owner)
            .str("projectname", &project.project)
            .str("package_name", name)
            .str("source_type_text", "scm");
        let verb = if create { "add" } else { "edit" };
        self.call(
            Method::POST,
            &[
                "package",
                verb,
                &project.owner,
                &project.project,
                name,
                "scm",
            ],
            q,
            Body::Json(Value::Object(body)),
            true,
        )
    }

    /// `DELETE /package/delete`; returns the deleted package.
    pub fn package_delete(&self, project: &ProjectRef, name: &str) -> Result<Package, ClientError> {
        self.call(
            Method::DELETE,
            &["package", "delete"],
            Query::new(),
            Body::Json(package_body(project, name)),
            true,
        )
    }

    /// `PUT /package/reset`: forget the package's source settings.
    pub fn package_reset(&self, project: &ProjectRef, name: &str) -> Result<Package, ClientError> {
        self.call(
            Method::PUT,
            &["package", "reset"],
            Query::new(),
            Body::Json(package_body(project, name)),
            true,
        )
    }

    pub fn package_build(
        &self,
        project: &ProjectRef,
        name: &str,
        options: &BuildOptions,
    ) -> Result<Build, ClientError> {
        let mut body = to_map(options);
        insert_project(&mut body, project);
        body.insert("package_name".into(), Value::String(name.to_string()));
        self.call(
            Method::POST,
            &["package", "build"],
            Query::new(),
            Body::Json(Value::Object(body)),
            true,
        )
    }
}

fn package_body(project: &ProjectRef, name: &str) -> Value {
    serde_json::json!({
        "ownername": project.owner,
        "projectname": project.project,
        "package_name": name,
    })
}

fn insert_project(body: &mut Map<String, Value>, project: &ProjectRef) {
    body.insert("ownername".into(), Value::String(project.owner.clone()));
    body.insert("projectname".into(), Value::String(project.project.clone()));
    body.insert(
        "project_dirname".into(),
        Value::String(project.dirname.clone()),
    );
}

/// Numbers typed on copr-cli's command line reach the server as strings; send them the same
/// way so any server that accepts copr-cli accepts us.
fn number_as_string<S: serde::Serializer, N: std::fmt::Display>(
    v: &Option<N>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match v {
        Some(n) => s.serialize_str(&n.to_string()),
        None => s.serialize_none(),
    }
}

fn to_map<T: Serialize>(v: &T) -> Map<String, Value> {
    match serde_json::to_value(v).expect("plain structs serialize") {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Iterator over every item of a paginated list (`limit`/`offset`, stops at an empty or short
/// page, as python-copr's `next_page` does).
pub struct Pages<'a, T> {
    client: &'a Client,
    segments: Vec<String>,
    query: Query,
    offset: u64,
    limit: u64,
    buffer: std::collections::VecDeque<T>,
    previous_first: Option<Value>,
    done: bool,
}

impl<T: DeserializeOwned> Pages<'_, T> {
    fn fetch(&mut self) -> Result<(), ClientError> {
        let segments: Vec<&str> = self.segments.iter().map(String::as_str).collect();
        let q = self
            .query
            .clone()
            .str("limit", self.limit.to_string())
            .str("offset", self.offset.to_string());
        let value = self
            .client
            .send(Method::GET, &segments, &q, Body::None, false)?;
        let page: Page<Value> = self.client.decode(&segments, value)?;
        let step = page.meta.limit.filter(|l| *l > 0).unwrap_or(self.limit);
        if (page.items.len() as u64) < step {
            self.done = true;
        }
        // A server that ignores `offset` would send the same page forever.
        let first = page.items.first().cloned();
        if first.is_some() && first == self.previous_first {
            return Err(ClientError::Shape {
                url: self.client.url(&segments).to_string(),
                message: format!(
                    "the page at offset {} repeats the previous one",
                    self.offset
                ),
            });
        }
        self.previous_first = first;
        self.offset += step;
        for item in page.items {
            self.buffer.push_back(self.client.decode(&segments, item)?);
        }
        Ok(())
    }

    /// Collect every item, stopping at the first error.
    pub fn all(self) -> Result<Vec<T>, ClientError> {
        self.collect()
    }
}

impl<T: DeserializeOwned> Iterator for Pages<'_, T> {
    type Item = Result<T, ClientError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.buffer.pop_front() {
                return Some(Ok(item));
            }
            if self.done {
                return None;
            }
            if let Err(e) = self.fetch() {
                self.done = true;
                return Some(Err(e));
            }
        }
    }
}
