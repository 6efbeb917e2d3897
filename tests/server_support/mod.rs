//! Helpers for the `copr serve` integration tests: start the real binary on a free loopback
//! port with a temporary data directory (killed on drop), create users, write copr-cli configs,
//! run the real copr-cli, build the SRPM fixture.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_copr")
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/server")
        .join(name)
}

/// A running `copr serve`; killed when dropped.
pub struct Server {
    child: Option<Child>,
    pub url: String,
    pub data: PathBuf,
    pub log: PathBuf,
    args: Vec<String>,
}

impl Server {
    /// Start on 127.0.0.1:0 with `data` as data directory and extra arguments.
    pub fn start(data: &Path, extra: &[&str]) -> Server {
        let args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        Self::spawn(data, args)
    }

    fn spawn(data: &Path, args: Vec<String>) -> Server {
        fs_err::create_dir_all(data).unwrap();
        let port_file = data.with_extension("port");
        let _ = std::fs::remove_file(&port_file);
        let log = data.with_extension("log");
        let stderr = std::fs::File::create(&log).unwrap();
        let stdout = std::fs::File::create(data.with_extension("stdout")).unwrap();
        let child = Command::new(bin())
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .arg("--port-file")
            .arg(&port_file)
            .args(&args)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("start copr serve");
        let mut server = Server {
            child: Some(child),
            url: String::new(),
            data: data.to_path_buf(),
            log,
            args,
        };
        // Wait for the port file (the server writes it once bound), or for the server to die.
        loop {
            if let Ok(s) = std::fs::read_to_string(&port_file)
                && s.ends_with('\n')
            {
                server.url = format!("http://{}", s.trim());
                break;
            }
            if let Some(status) = server.child.as_mut().unwrap().try_wait().unwrap() {
                panic!(
                    "copr serve exited with {status}:\n{}",
                    std::fs::read_to_string(&server.log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// SIGKILL the server (no graceful shutdown), then start it again on the same data.
    pub fn kill9_and_restart(mut self) -> Server {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        let data = self.data.clone();
        let args = std::mem::take(&mut self.args);
        Self::spawn(&data, args)
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}/api_3/{}", self.url, path.trim_start_matches('/'))
    }

    /// SIGTERM and wait: the server must exit on its own.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().unwrap();
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        child.wait().unwrap()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct Creds {
    pub username: String,
    pub login: String,
    pub token: String,
}

/// `copr serve admin ARGS… --data DATA` with extra args (e.g. `--database`).
pub fn admin(data: &Path, args: &[&str], extra: &[&str]) -> Output {
    Command::new(bin())
        .args(["serve", "--data"])
        .arg(data)
        .args(extra)
        .arg("admin")
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

pub fn add_user(data: &Path, name: &str, extra: &[&str]) -> Creds {
    let out = Command::new(bin())
        .args(["serve", "--data"])
        .arg(data)
        .args(extra)
        .args(["admin", "add-user", name, "--output", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "add-user failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A copr-cli config file for these credentials.
pub fn cli_config(dir: &Path, server: &Server, c: &Creds) -> PathBuf {
    let path = dir.join(format!("copr-{}.conf", c.username));
    fs_err::write(
        &path,
        format!(
            "[copr-cli]\nlogin = {}\nusername = {}\ntoken = {}\ncopr_url = {}\nencrypted = False\n",
            c.login, c.username, c.token, server.url
        ),
    )
    .unwrap();
    path
}

/// The real copr-cli from the test virtualenv; `None` (skip) when it is not installed,
/// except under CI=true.
pub fn copr_cli() -> Option<PathBuf> {
    let venv = std::env::var_os("COPR_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-venv"));
    let cli = venv.join("bin/copr-cli");
    if cli.exists() {
        return Some(cli);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "copr-cli is missing from {} under CI=true (run scripts/install-deps.sh --test)",
        venv.display()
    );
    eprintln!("skipped: copr-cli not installed (scripts/install-deps.sh --test)");
    None
}

/// Run copr-cli with a config; returns (exit code, stdout, stderr).
pub fn run_cli(cli: &Path, config: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(cli)
        .arg("--config")
        .arg(config)
        .args(args)
        .env("HOME", config.parent().unwrap())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Build the hello SRPM fixture into `dir` with rpmbuild (reproducibly).
pub fn hello_srpm(dir: &Path) -> PathBuf {
    let top = dir.join("rpmbuild");
    let out = Command::new("rpmbuild")
        .arg("-bs")
        .arg("--define")
        .arg(format!("_topdir {}", top.display()))
        .arg("--define")
        .arg(format!("_srcrpmdir {}", dir.display()))
        .arg(fixture("hello.spec"))
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .expect("run rpmbuild");
    assert!(
        out.status.success(),
        "rpmbuild -bs failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join("hello-1.0-1.src.rpm")
}

/// A blocking HTTP client with Basic credentials.
pub struct Http {
    pub client: reqwest::blocking::Client,
    pub creds: Option<Creds>,
}

impl Http {
    pub fn new(creds: Option<&Creds>) -> Http {
        Http {
            client: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .unwrap(),
            creds: creds.cloned(),
        }
    }

    fn auth(&self, r: reqwest::blocking::RequestBuilder) -> reqwest::blocking::RequestBuilder {
        match &self.creds {
            Some(c) => r.basic_auth(&c.login, Some(&c.token)),
            None => r,
        }
    }

    /// (status, JSON body); panics when the body is not JSON.
    pub fn send(&self, r: reqwest::blocking::RequestBuilder) -> (u16, serde_json::Value) {
        let resp = self.auth(r).send().unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().unwrap();
        let json = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("response {status} is not JSON ({e}): {text}"));
        (status, json)
    }

    pub fn get(&self, url: &str) -> (u16, serde_json::Value) {
        self.send(self.client.get(url))
    }

    pub fn post(&self, url: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        self.send(self.client.post(url).json(&body))
    }

    pub fn put(&self, url: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        self.send(self.client.put(url).json(&body))
    }

    pub fn delete(&self, url: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        self.send(self.client.delete(url).json(&body))
    }
}
