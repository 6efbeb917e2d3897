//! Shared helpers of the `copr build` / `copr srpm` integration tests: fixture paths, running the
//! binary in a temp directory, checking outputs with `rpm -qp`, a loopback HTTP server.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// A fixed build time, so fixture RPMs built at test time are reproducible.
pub const SOURCE_DATE_EPOCH: &str = "1700000000";

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pipeline")
        .join(name)
}

pub fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

/// A temp directory with a working directory `cwd/` the binary runs in; results go to
/// `cwd/copr-results`.
pub struct Sandbox {
    pub tmp: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let tmp = tempfile::Builder::new()
            .prefix("copr-build-test-")
            .tempdir()
            .expect("tempdir");
        std::fs::create_dir_all(tmp.path().join("cwd")).unwrap();
        Sandbox { tmp }
    }

    pub fn root(&self) -> &Path {
        self.tmp.path()
    }

    pub fn cwd(&self) -> PathBuf {
        self.root().join("cwd")
    }

    pub fn results(&self) -> PathBuf {
        self.cwd().join("copr-results")
    }

    /// `copr` with the working directory `cwd/`, no colours, a private HOME.
    pub fn copr(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_copr"));
        cmd.current_dir(self.cwd())
            .env("NO_COLOR", "1")
            .env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
            .env_remove("RUST_LOG")
            .timeout(std::time::Duration::from_secs(600));
        cmd
    }

    /// Copy a fixture directory to `<root>/<name>` and return its path.
    pub fn copy_fixture(&self, name: &str) -> PathBuf {
        let dest = self.root().join(name);
        copy_dir(&fixture(name), &dest);
        dest
    }

    /// Every file path under the temp root, except the result directory.
    pub fn files_outside_results(&self) -> BTreeSet<PathBuf> {
        let results = self.results();
        walkdir::WalkDir::new(self.root())
            .into_iter()
            .filter_entry(|e| e.path() != results)
            .flatten()
            .map(|e| e.path().to_path_buf())
            .collect()
    }
}

pub fn copy_dir(src: &Path, dest: &Path) {
    for entry in walkdir::WalkDir::new(src) {
        let entry = entry.unwrap();
        let target = dest.join(entry.path().strip_prefix(src).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// `rpm -qp` NEVRA of a package as `(name, epoch or "(none)", version, release, arch)`, with
/// `src` as the arch of a source package (as Copr's results.json has it).
pub fn rpm_qp(path: &Path) -> (String, String, String, String, String) {
    let out = Command::new("rpm")
        .args([
            "-qp",
            "--nosignature",
            "--nodigest",
            "--qf",
            "%{NAME}|%{EPOCH}|%{VERSION}|%{RELEASE}|%{ARCH}|%{SOURCERPM}",
        ])
        .arg(path)
        .output()
        .expect("run rpm");
    assert!(
        out.status.success(),
        "rpm -qp {} failed: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let f: Vec<&str> = text.split('|').collect();
    let arch = if f[5] == "(none)" { "src" } else { f[4] };
    (
        f[0].into(),
        f[1].into(),
        f[2].into(),
        f[3].into(),
        arch.into(),
    )
}

/// `name-[epoch:]version-release.arch` from `rpm -qp`.
pub fn nevra(path: &Path) -> String {
    let (n, e, v, r, a) = rpm_qp(path);
    if e == "(none)" {
        format!("{n}-{v}-{r}.{a}")
    } else {
        format!("{n}-{e}:{v}-{r}.{a}")
    }
}

/// The `.rpm` files directly in `dir`, sorted.
pub fn rpms_in(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rpm"))
        .collect();
    out.sort();
    out
}

/// Check a build directory the way Copr's backend does: `success` marker, a live log, and a
/// `results.json` whose packages are exactly what `rpm -qp` says of its RPM files. Returns the
/// NEVRAs (sorted).
pub fn check_build_dir(dir: &Path) -> Vec<String> {
    assert!(
        dir.join("success").is_file(),
        "no success in {}",
        dir.display()
    );
    assert!(dir.join("builder-live.log").is_file());
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("results.json")).unwrap()).unwrap();
    let mut from_json: Vec<String> = results["packages"]
        .as_array()
        .expect("packages array")
        .iter()
        .map(|p| {
            let epoch = match &p["epoch"] {
                serde_json::Value::Null => String::new(),
                e => format!("{e}:"),
            };
            format!(
                "{}-{epoch}{}-{}.{}",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap(),
                p["release"].as_str().unwrap(),
                p["arch"].as_str().unwrap()
            )
        })
        .collect();
    from_json.sort();
    let mut from_rpm: Vec<String> = rpms_in(dir).iter().map(|p| nevra(p)).collect();
    from_rpm.sort();
    assert_eq!(
        from_json,
        from_rpm,
        "results.json vs rpm -qp in {}",
        dir.display()
    );
    from_rpm
}

/// The single build directory of `chroot` under a result directory.
pub fn only_build_dir(results: &Path, chroot: &str) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(results.join(chroot))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && p.file_name().unwrap() != "repodata")
        .collect();
    assert_eq!(dirs.len(), 1, "build dirs in {chroot}: {dirs:?}");
    dirs.into_iter().next().unwrap()
}

pub fn host_chroot() -> String {
    format!("host-{}", std::env::consts::ARCH)
}

/// Build an SRPM from a spec with plain `rpmbuild -bs` (reproducibly) into `outdir`.
pub fn rpmbuild_srpm(spec: &Path, sourcedir: &Path, outdir: &Path) -> PathBuf {
    let top = tempfile::tempdir().unwrap();
    let status = Command::new("rpmbuild")
        .env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
        .arg("-bs")
        .arg("--define")
        .arg(format!("_topdir {}", top.path().display()))
        .arg("--define")
        .arg(format!("_sourcedir {}", sourcedir.display()))
        .arg("--define")
        .arg(format!("_srcrpmdir {}", outdir.display()))
        .arg(spec)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let mut found: Vec<PathBuf> = std::fs::read_dir(outdir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".src.rpm"))
        .collect();
    found.sort();
    found.pop().expect("an SRPM")
}

/// A tiny HTTP/1.0 server on a loopback port that serves fixed bodies by path; every other
/// path is a 404. Runs until the test process ends.
pub struct HttpServer {
    pub port: u16,
}

impl HttpServer {
    pub fn start(files: BTreeMap<String, Vec<u8>>) -> HttpServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let files = Arc::new(files);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let files = files.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut request = String::new();
                    if reader.read_line(&mut request).is_err() {
                        return;
                    }
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                            break;
                        }
                    }
                    let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
                    let mut stream = stream;
                    match files.get(&path) {
                        Some(body) => {
                            let _ = write!(
                                stream,
                                "HTTP/1.0 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\n\r\n",
                                body.len()
                            );
                            let _ = stream.write_all(body);
                        }
                        None => {
                            let _ = stream.write_all(
                                b"HTTP/1.0 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found",
                            );
                        }
                    }
                });
            }
        });
        HttpServer { port }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

/// A TCP listener on a loopback port that counts the connections it accepts.
pub struct CountingListener {
    pub port: u16,
    pub hits: Arc<std::sync::atomic::AtomicUsize>,
}

impl CountingListener {
    pub fn start() -> CountingListener {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let h = hits.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut s = stream;
                let mut buf = Vec::new();
                let _ = s.read_to_end(&mut buf);
                h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        });
        CountingListener { port, hits }
    }

    pub fn hits(&self) -> usize {
        self.hits.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Run `git` in `dir`, panicking with its stderr on failure; returns stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.org")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.org")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The first bytes of every RPM file (the lead magic).
pub const RPM_LEAD_PREFIX: [u8; 4] = [0xed, 0xab, 0xee, 0xdb];
