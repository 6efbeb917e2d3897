//! Helpers for the sandbox backend tests: run builds through the library API.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use copr::mock::{
    Backend, BackendError, BuildKind, BuildOutput, BuildRequest, CancelToken, HostConfig,
    RepoSource,
};

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sandbox")
        .join(name)
}

pub fn sandbox() -> Box<dyn Backend> {
    copr::mock::backend(copr::mock::BackendKind::Sandbox, &HostConfig::default()).unwrap()
}

/// Options of one build; `Default` is a plain offline build on the host chroot.
pub struct Opts {
    pub chroot: String,
    pub repos: Vec<RepoSource>,
    pub buildroot_pkgs: Vec<String>,
    pub macros: BTreeMap<String, String>,
    pub enable_net: bool,
    pub nodeps: bool,
    pub timeout: Duration,
    pub memory_limit: Option<u64>,
    pub cancel: CancelToken,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            chroot: copr::mock::host_chroot(),
            repos: Vec::new(),
            buildroot_pkgs: Vec::new(),
            macros: BTreeMap::new(),
            enable_net: false,
            nodeps: false,
            timeout: Duration::from_secs(600),
            memory_limit: None,
            cancel: CancelToken::new(),
        }
    }
}

impl Opts {
    pub fn define(mut self, k: &str, v: &str) -> Self {
        self.macros.insert(k.into(), v.into());
        self
    }
}

pub struct Run {
    pub result: Result<BuildOutput, BackendError>,
    pub log: String,
    pub outdir: PathBuf,
}

impl Run {
    pub fn ok(&self) -> &BuildOutput {
        match &self.result {
            Ok(o) => o,
            Err(e) => panic!("build failed: {e}\n--- log ---\n{}", self.log),
        }
    }
    pub fn err(&self) -> &BackendError {
        match &self.result {
            Ok(o) => panic!(
                "build unexpectedly succeeded: {o:?}\n--- log ---\n{}",
                self.log
            ),
            Err(e) => e,
        }
    }
}

pub fn run(backend: &dyn Backend, kind: BuildKind, root: &Path, tag: &str, opts: &Opts) -> Run {
    let workdir = root.join(format!("work-{tag}"));
    let outdir = root.join(format!("out-{tag}"));
    let mut log: Vec<u8> = Vec::new();
    let result = backend.build(BuildRequest {
        kind,
        chroot: &opts.chroot,
        workdir: &workdir,
        outdir: &outdir,
        repos: &opts.repos,
        buildroot_pkgs: &opts.buildroot_pkgs,
        macros: &opts.macros,
        with_opts: &[],
        without_opts: &[],
        enable_net: opts.enable_net,
        nodeps: opts.nodeps,
        timeout: opts.timeout,
        memory_limit: opts.memory_limit,
        log: &mut log,
        cancel: opts.cancel.clone(),
    });
    Run {
        result,
        log: String::from_utf8_lossy(&log).into_owned(),
        outdir,
    }
}

/// Build the SRPM of fixture `name` (spec `<name>/<name>.spec`).
pub fn srpm(backend: &dyn Backend, name: &str, root: &Path, opts: &Opts) -> PathBuf {
    let dir = fixture(name);
    let r = run(
        backend,
        BuildKind::Srpm {
            spec: dir.join(format!("{name}.spec")),
            sources: dir.clone(),
        },
        root,
        &format!("srpm-{name}"),
        opts,
    );
    let out = r.ok();
    assert_eq!(out.packages.len(), 1, "{:?}", out.packages);
    out.packages[0].clone()
}

/// SRPM then binary build of fixture `name`.
pub fn build(backend: &dyn Backend, name: &str, root: &Path, opts: &Opts) -> Run {
    let srpm = srpm(backend, name, root, opts);
    run(
        backend,
        BuildKind::Rebuild { srpm },
        root,
        &format!("rpm-{name}"),
        opts,
    )
}

/// `rpm -qp --qf FMT FILE`.
pub fn rpm_q(file: &Path, qf: &str) -> String {
    let out = Command::new("rpm")
        .args(["-qp", "--qf", qf])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "rpm -qp {}: {:?}",
        file.display(),
        out
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Processes whose command line contains `needle`.
pub fn processes_with(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if !entry
            .file_name()
            .to_string_lossy()
            .bytes()
            .all(|c| c.is_ascii_digit())
        {
            continue;
        }
        if let Ok(cmd) = std::fs::read(entry.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(needle) {
                found.push(format!("{}: {cmd}", entry.file_name().to_string_lossy()));
            }
        }
    }
    found
}

/// Serve the files under `dir` over HTTP on a loopback port chosen now; returns the base URL.
/// The server thread lives until the test process ends.
pub fn serve_dir(dir: &Path) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let dir = dir.to_path_buf();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                    break;
                }
            }
            let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
            let file = dir.join(path.trim_start_matches('/'));
            let mut stream = stream;
            let ok = !path.contains("..") && file.is_file();
            let body = if ok {
                std::fs::read(&file).unwrap()
            } else {
                b"not found".to_vec()
            };
            let status = if ok { "200 OK" } else { "404 Not Found" };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(&body);
        }
    });
    format!("http://127.0.0.1:{port}/")
}
