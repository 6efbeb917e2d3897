//! Helpers for the remote build tests: a `copr serve` on a loopback port chosen at run time
//! (restartable on the same port after kill -9), `copr builder` agents, users, projects, tiny
//! SRPMs built at test time, and polling of API v3 states.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_copr")
}

/// A free loopback port (bound and released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct Creds {
    pub username: String,
    pub login: String,
    pub token: String,
}

/// The second chroot, served by the sandbox through the builders' host configuration.
pub const OTHER_CHROOT: &str = "fedora-42-x86_64";
pub const HOST_CHROOT: &str = "host-x86_64";

/// A server with its data, builders and users; everything is killed on drop.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub url: String,
    pub data: PathBuf,
    config: PathBuf,
    server: Option<Child>,
    builders: Vec<Option<Child>>,
    restarts: usize,
    pub client: reqwest::blocking::Client,
}

impl Env {
    /// Start a server with fast heartbeats (1 s, re-queue after 3 s).
    pub fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let config = dir.path().join("serve.toml");
        fs_err::write(
            &config,
            "[builders]\nheartbeat_interval = 1\nheartbeat_timeout = 3\nclaim_wait = 20\nmax_attempts = 3\n",
        )
        .unwrap();
        fs_err::write(
            dir.path().join("host.toml"),
            format!("[sandbox]\nchroots = [\"{OTHER_CHROOT}\"]\n"),
        )
        .unwrap();
        let port = free_port();
        let mut env = Env {
            url: format!("http://127.0.0.1:{port}"),
            port,
            data,
            config,
            server: None,
            builders: Vec::new(),
            restarts: 0,
            client: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            dir,
        };
        env.start_server();
        env
    }

    fn start_server(&mut self) {
        self.restarts += 1;
        let log = self.dir.path().join(format!("serve-{}.log", self.restarts));
        let child = Command::new(bin())
            .args(["serve", "--listen"])
            .arg(format!("127.0.0.1:{}", self.port))
            .arg("--data")
            .arg(&self.data)
            .arg("--config")
            .arg(&self.config)
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "copr=info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        self.server = Some(child);
        let start = Instant::now();
        loop {
            if let Ok(r) = self.client.get(format!("{}/api_3", self.url)).send()
                && r.status().is_success()
            {
                return;
            }
            if let Some(status) = self.server.as_mut().unwrap().try_wait().unwrap() {
                panic!(
                    "copr serve exited with {status}: {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL the server (no graceful shutdown).
    pub fn kill9_server(&mut self) {
        if let Some(mut c) = self.server.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    pub fn restart_server(&mut self) {
        self.start_server();
    }

    pub fn server_log(&self) -> String {
        (1..=self.restarts)
            .map(|n| {
                std::fs::read_to_string(self.dir.path().join(format!("serve-{n}.log")))
                    .unwrap_or_default()
            })
            .collect()
    }

    fn admin(&self, args: &[&str]) -> Value {
        let out = Command::new(bin())
            .args(["serve", "--data"])
            .arg(&self.data)
            .arg("--config")
            .arg(&self.config)
            .args(["--output", "json", "admin"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "admin {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    pub fn add_user(&self, name: &str) -> Creds {
        serde_json::from_value(self.admin(&["add-user", name])).unwrap()
    }

    /// `serve admin add-builder NAME --output json` → the token.
    pub fn add_builder(&self, name: &str) -> String {
        let v = self.admin(&["add-builder", name]);
        assert_eq!(v["name"], name);
        v["token"].as_str().unwrap().to_string()
    }

    /// Start `copr builder` NAME with JOBS slots; returns its index.
    pub fn start_builder(&mut self, name: &str, jobs: usize) -> usize {
        let token = self.add_builder(name);
        self.start_builder_with_token(name, &token, jobs)
    }

    pub fn start_builder_with_token(&mut self, name: &str, token: &str, jobs: usize) -> usize {
        let log = self.builder_log_path(name);
        let child = Command::new(bin())
            .args(["builder", "--server", &self.url, "--backend", "sandbox"])
            .args(["--jobs", &jobs.to_string(), "--workdir"])
            .arg(self.dir.path().join(format!("work-{name}")))
            .env("COPR_BUILDER_TOKEN", token)
            .env("COPR_BUILD_CONFIG", self.dir.path().join("host.toml"))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        self.builders.push(Some(child));
        self.builders.len() - 1
    }

    pub fn builder_log_path(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("builder-{name}.log"))
    }

    pub fn builder_log(&self, name: &str) -> String {
        std::fs::read_to_string(self.builder_log_path(name)).unwrap_or_default()
    }

    pub fn builder_pid(&self, idx: usize) -> u32 {
        self.builders[idx].as_ref().unwrap().id()
    }

    pub fn kill9_builder(&mut self, idx: usize) {
        if let Some(mut c) = self.builders[idx].take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    /// SIGTERM a builder and wait for it to exit.
    pub fn stop_builder(&mut self, idx: usize) -> std::process::ExitStatus {
        let mut c = self.builders[idx].take().unwrap();
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(c.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        c.wait().unwrap()
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}/api_3/{}", self.url, path)
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        let r = self.client.get(self.api(path)).send().unwrap();
        let status = r.status().as_u16();
        (status, r.json().unwrap_or(Value::Null))
    }

    pub fn post(&self, who: &Creds, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .client
            .post(self.api(path))
            .basic_auth(&who.login, Some(&who.token))
            .json(&body)
            .send()
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().unwrap_or(Value::Null))
    }

    pub fn create_project(&self, who: &Creds, name: &str, chroots: &[&str]) {
        let (s, v) = self.post(
            who,
            &format!("project/add/{}", who.username),
            json!({"name": name, "chroots": chroots}),
        );
        assert_eq!(s, 200, "{v}");
    }

    /// Upload an SRPM as a new build; returns its id.
    pub fn upload(&self, who: &Creds, project: &str, srpm: &Path, extra: Value) -> i64 {
        let mut fields = json!({"ownername": who.username, "projectname": project});
        if let (Value::Object(m), Value::Object(e)) = (&mut fields, extra) {
            m.extend(e);
        }
        let form = reqwest::blocking::multipart::Form::new()
            .text("json", fields.to_string())
            .file("pkgs", srpm)
            .unwrap();
        let r = self
            .client
            .post(self.api("build/create/upload"))
            .basic_auth(&who.login, Some(&who.token))
            .multipart(form)
            .send()
            .unwrap();
        let status = r.status().as_u16();
        let v: Value = r.json().unwrap();
        assert_eq!(status, 200, "{v}");
        v["id"].as_i64().unwrap()
    }

    pub fn build(&self, id: i64) -> Value {
        let (s, v) = self.get(&format!("build/{id}"));
        assert_eq!(s, 200, "{v}");
        v
    }

    pub fn build_chroot(&self, id: i64, chroot: &str) -> Value {
        let (s, v) = self.get(&format!("build-chroot?build_id={id}&chrootname={chroot}"));
        assert_eq!(s, 200, "{v}");
        v
    }

    pub fn state(&self, id: i64) -> String {
        self.build(id)["state"].as_str().unwrap().to_string()
    }

    pub fn chroot_state(&self, id: i64, chroot: &str) -> String {
        self.build_chroot(id, chroot)["state"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The live log of a chroot task, read over HTTP from its result URL.
    pub fn live_log(&self, id: i64, chroot: &str) -> Option<String> {
        let url = self.build_chroot(id, chroot)["result_url"]
            .as_str()
            .unwrap()
            .to_string();
        let r = self
            .client
            .get(format!("{url}builder-live.log"))
            .send()
            .ok()?;
        r.status()
            .is_success()
            .then(|| r.text().unwrap_or_default())
    }

    /// Poll `f` until it holds; panics with `what` and the logs after `secs` seconds.
    pub fn wait_for(&self, secs: u64, what: &str, mut f: impl FnMut() -> bool) {
        let start = Instant::now();
        while !f() {
            if start.elapsed() > Duration::from_secs(secs) {
                let builders: String = std::fs::read_dir(self.dir.path())
                    .unwrap()
                    .filter_map(Result::ok)
                    .filter(|e| e.file_name().to_string_lossy().starts_with("builder-"))
                    .map(|e| {
                        format!(
                            "--- {}\n{}",
                            e.file_name().to_string_lossy(),
                            std::fs::read_to_string(e.path()).unwrap_or_default()
                        )
                    })
                    .collect();
                panic!(
                    "timed out waiting for {what}\n--- server\n{}\n{builders}",
                    self.server_log()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn finished(&self, id: i64) -> bool {
        matches!(
            self.state(id).as_str(),
            "succeeded" | "failed" | "canceled" | "skipped"
        )
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        for c in self.builders.iter_mut().flatten() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if let Some(mut c) = self.server.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Build a tiny noarch SRPM `NAME-VERSION-1` whose %build runs `build`; it installs
/// `/usr/share/NAME/version`.
pub fn srpm(dir: &Path, name: &str, version: &str, build: &str) -> PathBuf {
    let specs = dir.join("specs");
    fs_err::create_dir_all(&specs).unwrap();
    let spec = specs.join(format!("{name}.spec"));
    fs_err::write(
        &spec,
        format!(
            "Name: {name}\nVersion: {version}\nRelease: 1\nSummary: {name}\nLicense: MIT\n\
             BuildArch: noarch\n%description\n{name}\n%build\n{build}\n%install\n\
             mkdir -p %{{buildroot}}/usr/share/{name}\n\
             echo {version} > %{{buildroot}}/usr/share/{name}/version\n\
             %files\n/usr/share/{name}/version\n"
        ),
    )
    .unwrap();
    let out = Command::new("rpmbuild")
        .arg("-bs")
        .arg("--define")
        .arg(format!("_topdir {}", dir.join("rpmbuild").display()))
        .arg("--define")
        .arg(format!("_srcrpmdir {}", dir.display()))
        .arg(&spec)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "rpmbuild -bs: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join(format!("{name}-{version}-1.src.rpm"))
}

/// Processes whose command line contains `needle`.
pub fn processes_matching(needle: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().filter_map(Result::ok) {
        if !e
            .file_name()
            .to_string_lossy()
            .chars()
            .all(|c| c.is_ascii_digit())
        {
            continue;
        }
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(needle) {
                out.push(cmd);
            }
        }
    }
    out
}
