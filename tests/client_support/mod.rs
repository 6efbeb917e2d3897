//! Helpers for the remote-command tests: a recording HTTP frontend on a loopback port (for
//! wire-format and error-path checks), config files, and runners for our `copr` and the real
//! `copr-cli`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// One request as the stub frontend received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// Query pairs in order.
    pub query: Vec<(String, String)>,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    /// The `Range` header, for log reads.
    pub range: Option<String>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn q(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The JSON body, or the `json` part of a multipart body.
    pub fn json(&self) -> Value {
        if self
            .content_type
            .as_deref()
            .is_some_and(|c| c.starts_with("multipart/form-data"))
        {
            let text = String::from_utf8_lossy(&self.body);
            let start = text.find("name=\"json\"").expect("json part");
            let rest = &text[start..];
            let body_start = rest.find("\r\n\r\n").expect("part headers end") + 4;
            let body = &rest[body_start..];
            let end = body.find("\r\n--").expect("part end");
            return serde_json::from_str(&body[..end]).expect("json part is JSON");
        }
        if self.body.is_empty() {
            return Value::Null;
        }
        serde_json::from_slice(&self.body).expect("body is JSON")
    }

    /// The JSON body without null values (python-copr sends nulls the server ignores).
    pub fn json_without_nulls(&self) -> Value {
        match self.json() {
            Value::Object(m) => {
                Value::Object(m.into_iter().filter(|(_, v)| !v.is_null()).collect())
            }
            other => other,
        }
    }
}

/// What the stub answers: status, content type, body.
pub type Reply = (u16, &'static str, String);

type Responder = dyn Fn(&Recorded) -> Reply + Send + Sync;

/// A loopback HTTP server that records every request and answers through a closure.
pub struct Stub {
    pub url: String,
    log: Arc<Mutex<Vec<Recorded>>>,
}

impl Stub {
    pub fn start(responder: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Stub {
        Stub::start_at(|_| responder)
    }

    /// Like [`Stub::start`], for a responder that needs the stub's own base URL.
    pub fn start_at<F>(make: impl FnOnce(String) -> F) -> Stub
    where
        F: Fn(&Recorded) -> Reply + Send + Sync + 'static,
    {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let log: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let responder: Arc<Responder> = Arc::new(make(url.clone()));
        let state = (log.clone(), responder);
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let app = axum::Router::new().fallback(move |req: Request| {
                    let (log, responder) = state.clone();
                    async move { handle(req, log, responder).await }
                });
                axum::serve(listener, app).await.unwrap();
            });
        });
        Stub { url, log }
    }

    /// A stub that behaves like a small Copr frontend (see [`copr_like`]).
    pub fn copr_like() -> Stub {
        Stub::start(copr_like)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().clone()
    }

    /// Requests whose path is not `/api_3/auth-check` (copr-cli may add those).
    pub fn api_requests(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.starts_with("/api_3/") && !r.path.contains("auth-check"))
            .collect()
    }

    pub fn clear(&self) {
        self.log.lock().unwrap().clear();
    }
}

async fn handle(
    req: Request,
    log: Arc<Mutex<Vec<Recorded>>>,
    responder: Arc<Responder>,
) -> Response {
    let method: Method = req.method().clone();
    let uri = req.uri().clone();
    let headers: HeaderMap = req.headers().clone();
    let body: Bytes = axum::body::to_bytes(req.into_body(), 64 << 20)
        .await
        .unwrap_or_default();
    let query = url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let rec = Recorded {
        method: method.to_string(),
        path: uri.path().to_string(),
        query,
        authorization: header("authorization"),
        content_type: header("content-type"),
        range: header("range"),
        body: body.to_vec(),
    };
    let (status, content_type, text) = responder(&rec);
    log.lock().unwrap().push(rec);
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", content_type)],
        text,
    )
        .into_response()
}

pub fn ok(v: Value) -> Reply {
    (200, "application/json", v.to_string())
}

pub fn project_json(owner: &str, name: &str) -> Value {
    json!({
        "id": 11, "name": name, "ownername": owner, "full_name": format!("{owner}/{name}"),
        "description": "A test project", "instructions": null, "homepage": null, "contact": null,
        "devel_mode": false, "persistent": false, "unlisted_on_hp": false, "auto_prune": true,
        "chroot_repos": {"fedora-40-x86_64": format!("http://h/results/{owner}/{name}/fedora-40-x86_64/")},
        "additional_repos": [], "enable_net": false, "bootstrap": "default", "isolation": "default",
        "module_hotfixes": false, "appstream": false, "packit_forge_projects_allowed": [],
        "follow_fedora_branching": true, "repo_priority": null, "storage": "backend"
    })
}

pub fn build_json(id: i64, state: &str) -> Value {
    json!({
        "id": id, "state": state, "projectname": "hello", "ownername": "alice",
        "project_dirname": "hello", "repo_url": "http://h/results/alice/hello",
        "source_package": {"name": "hello", "version": "1.0-1", "url": null},
        "submitted_on": 1_700_000_000, "started_on": null, "ended_on": null,
        "submitter": "alice", "chroots": ["fedora-40-x86_64"], "is_background": false
    })
}

pub fn package_json(name: &str) -> Value {
    json!({
        "id": 5, "name": name, "ownername": "alice", "projectname": "hello",
        "source_type": "scm",
        "source_dict": {"clone_url": "https://example.org/hello.git", "committish": "main",
                        "subdirectory": "", "spec": "", "type": "git", "source_build_method": "rpkg"},
        "auto_rebuild": false, "builds": {"latest": null, "latest_succeeded": null}
    })
}

pub fn chroot_json(owner: &str, project: &str, chroot: &str) -> Value {
    json!({
        "mock_chroot": chroot, "ownername": owner, "projectname": project, "comps_name": null,
        "additional_repos": ["https://repo.example.org/"], "additional_packages": ["gcc", "make"],
        "additional_modules": [], "with_opts": ["tests"], "without_opts": [],
        "delete_after_days": null, "isolation": "default"
    })
}

/// Plausible answers for every route the remote commands use; names come from the request.
pub fn copr_like(r: &Recorded) -> Reply {
    let p = r.path.trim_end_matches('/');
    let seg: Vec<&str> = p.split('/').skip(2).collect(); // after "/api_3"
    let body = r.json();
    let s = |v: &Value, k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    // Lists have one item on the first page and none after it.
    let first_page = r.q("offset").is_none_or(|o| o == "0");
    let page = |item: Value| {
        let items = if first_page { vec![item] } else { vec![] };
        ok(
            json!({"items": items, "meta": {"limit": 1000, "offset": r.q("offset").unwrap_or("0").parse::<u64>().unwrap(),
            "order": "id", "order_type": "ASC"}}),
        )
    };
    match seg.as_slice() {
        ["auth-check"] => ok(json!({"id": 1, "name": "alice"})),
        ["monitor"] => ok(
            json!({"output": "ok", "message": "Project monitor request successful",
            "packages": [{"name": "hello", "chroots": {"fedora-40-x86_64": {
                "state": "succeeded", "status": 1, "build_id": 7, "pkg_version": "1.0-1"}}}]}),
        ),
        ["project"] => ok(project_json(
            r.q("ownername").unwrap(),
            r.q("projectname").unwrap(),
        )),
        ["project", "list"] => page(project_json(r.q("ownername").unwrap(), "hello")),
        ["project", "add", owner] => ok(project_json(owner, &s(&body, "name"))),
        ["project", "fork", _, _] => ok(project_json(&s(&body, "ownername"), &s(&body, "name"))),
        ["project", _, owner, name] => ok(project_json(owner, name)),
        ["build", "list"] => page(build_json(7, "pending")),
        ["build", "delete", "list"] => ok(body),
        ["build", "cancel", id] => ok(build_json(id.parse().unwrap(), "canceled")),
        ["build", "create", _] | ["package", "build"] => ok(build_json(42, "pending")),
        ["build", id] => ok(build_json(id.parse().unwrap(), "pending")),
        ["mock-chroots", "list"] => {
            ok(json!({"fedora-40-x86_64": "", "epel-9-x86_64": "EPEL 9\nwith a comment"}))
        }
        ["project-chroot"] => ok(chroot_json(
            r.q("ownername").unwrap(),
            r.q("projectname").unwrap(),
            r.q("chrootname").unwrap(),
        )),
        ["project-chroot", "edit", o, p, c] => ok(chroot_json(o, p, c)),
        ["package"] => ok(package_json(r.q("packagename").unwrap())),
        ["package", "list"] => page(package_json("hello")),
        ["package", "delete" | "reset"] => ok(package_json(&s(&body, "package_name"))),
        ["package", _, _, _, name, _] => ok(package_json(name)),
        _ => (
            404,
            "application/json",
            json!({"error": "Such API endpoint doesn't exist"}).to_string(),
        ),
    }
}

/// A temporary home with a copr-cli config file for `copr_url`.
pub struct Home {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

impl Home {
    pub fn new(copr_url: &str) -> Home {
        Home::with_config(&format!(
            "[copr-cli]\nlogin = alicelogin\nusername = alice\ntoken = alicetoken\n\
             copr_url = {copr_url}\nencrypted = False\n"
        ))
    }

    /// A home whose config holds these credentials for `copr_url`.
    pub fn for_user(copr_url: &str, login: &str, username: &str, token: &str) -> Home {
        Home::with_config(&format!(
            "[copr-cli]\nlogin = {login}\nusername = {username}\ntoken = {token}\n\
             copr_url = {copr_url}\nencrypted = False\n"
        ))
    }

    pub fn with_config(text: &str) -> Home {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("copr.conf");
        std::fs::write(&config, text).unwrap();
        Home { dir, config }
    }

    /// Run our `copr` with `--config` appended to the subcommand's arguments.
    pub fn copr(&self, args: &[&str]) -> Output {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_copr"));
        cmd.args(args)
            .arg("--config")
            .arg(&self.config)
            .env("HOME", self.dir.path())
            .env("NO_COLOR", "1")
            .current_dir(self.dir.path());
        cmd.output().expect("run copr")
    }

    /// Run the real copr-cli with this config (see [`copr_cli_path`]).
    pub fn copr_cli(&self, args: &[&str]) -> Output {
        let cli = copr_cli_path().expect("copr-cli is installed");
        let mut cmd = std::process::Command::new(cli);
        cmd.arg("--config")
            .arg(&self.config)
            .args(args)
            .env("HOME", self.dir.path())
            .current_dir(self.dir.path());
        cmd.output().expect("run copr-cli")
    }
}

/// `$COPR_TEST_VENV/bin/copr-cli` (set by scripts/run-tests.sh), else this tree's test venv.
/// `None` when it is not installed, which fails under CI=true.
pub fn copr_cli_path() -> Option<PathBuf> {
    let venv = std::env::var_os("COPR_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-venv"));
    let bin = venv.join("bin/copr-cli");
    if bin.exists() {
        return Some(bin);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{} is missing under CI=true: run `scripts/install-deps.sh --test`",
        bin.display()
    );
    eprintln!("skipped: copr-cli is not installed (scripts/install-deps.sh --test)");
    None
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Assert the exit code, showing both streams on failure.
#[track_caller]
pub fn assert_code(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "expected exit {code}\n--- stdout\n{}\n--- stderr\n{}",
        stdout(o),
        stderr(o)
    );
}
