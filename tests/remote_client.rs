//! `copr build --remote`, watching remote builds (task states, live logs, failure summaries)
//! and `copr repro`, against `copr serve` and against a recording frontend, cross-checked with
//! the real copr-cli where it is installed.

mod client_support;
mod server_support;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use client_support::{Home, Recorded, Reply, Stub, assert_code, copr_cli_path, ok, stderr, stdout};
use serde_json::{Value, json};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/remote")
        .join(name)
}

fn example_hello() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/hello")
}

fn host_chroot() -> String {
    format!("host-{}", std::env::consts::ARCH)
}

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}\n{}", stdout(o), stderr(o)))
}

/// A running `copr serve` with user alice, her home, and a project `hello` on the host chroot.
struct Live {
    dir: tempfile::TempDir,
    server: server_support::Server,
    alice: Home,
}

fn live() -> Live {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = server_support::Server::start(&data, &[]);
    let c = server_support::add_user(&data, "alice", &[]);
    let alice = Home::for_user(&server.url, &c.login, &c.username, &c.token);
    let out = alice.copr(&["create", "hello", "--chroot", &host_chroot()]);
    assert_code(&out, 0);
    Live { dir, server, alice }
}

/// A running `copr builder` for a server; killed when dropped.
struct Builder {
    child: std::process::Child,
}

impl Drop for Builder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Register a builder with the server and start `copr builder` (sandbox backend, 2 jobs).
fn start_builder(live: &Live, name: &str) -> Builder {
    let out = server_support::admin(
        &live.server.data,
        &["add-builder", name, "--output", "json"],
        &[],
    );
    assert_code(&out, 0);
    let token = json_of(&out)["token"].as_str().unwrap().to_string();
    let workdir = live.dir.path().join(format!("work-{name}"));
    fs_err::create_dir_all(&workdir).unwrap();
    let log = std::fs::File::create(live.dir.path().join(format!("{name}.log"))).unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_copr"))
        .args(["builder", "--server", &live.server.url, "--jobs", "2"])
        .args(["--backend", "sandbox", "--workdir"])
        .arg(&workdir)
        .env("COPR_BUILDER_TOKEN", token)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    Builder { child }
}

/// Wait (bounded) until `check` holds; panics with `what` after two minutes.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !check() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting: {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// `GET` a JSON document from the server's API.
fn api_get(server: &server_support::Server, path: &str) -> Value {
    reqwest::blocking::get(server.api(path))
        .unwrap()
        .json()
        .unwrap()
}

/// A directory source is made into an SRPM here and uploaded; `--output json` prints the new
/// build as one object with its id and state, and copr-cli sees the same build.
#[test]
fn remote_build_of_a_directory_uploads_its_srpm() {
    let Live {
        dir: _dir,
        server,
        alice,
    } = live();
    let src = example_hello();
    let out = alice.copr(&[
        "build",
        "--remote",
        "hello",
        src.to_str().unwrap(),
        "--nowait",
        "--output",
        "json",
        "--backend",
        "sandbox",
    ]);
    assert_code(&out, 0);
    let build = json_of(&out);
    let id = build["id"].as_i64().expect("an id");
    assert_eq!(build["state"], "pending", "{build}");
    assert_eq!(build["ownername"], "alice");
    assert_eq!(build["projectname"], "hello");
    // The server read the package from the uploaded SRPM.
    let got = api_get(&server, &format!("build/{id}"));
    assert_eq!(got["source_package"]["name"], "hello", "{got}");
    let cfg = api_get(&server, &format!("build/source-build-config/{id}"));
    assert_eq!(cfg["source_type"], "upload", "{cfg}");
    assert!(
        cfg["source_dict"]["pkg"]
            .as_str()
            .unwrap()
            .ends_with(".src.rpm"),
        "{cfg}"
    );
    if copr_cli_path().is_some() {
        let theirs = alice.copr_cli(&["status", &id.to_string()]);
        assert_eq!(stdout(&theirs).trim(), "pending", "{}", stderr(&theirs));
    }
}

/// An SRPM is uploaded as is, with copr-cli's lines, chroots, timeout, network, background and
/// batch options reaching the server.
#[test]
fn remote_build_of_an_srpm_prints_copr_cli_lines() {
    let Live { dir, server, alice } = live();
    let srpm = server_support::hello_srpm(dir.path());
    let out = alice.copr(&[
        "build",
        "--remote",
        "alice/hello",
        srpm.to_str().unwrap(),
        "--nowait",
    ]);
    assert_code(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("Build was added to hello:"), "{text}");
    let first: i64 = text
        .lines()
        .find_map(|l| l.strip_prefix("Created builds: "))
        .unwrap_or_else(|| panic!("no Created builds line: {text}"))
        .parse()
        .unwrap();
    let out = alice.copr(&[
        "build",
        "--remote",
        "hello",
        srpm.to_str().unwrap(),
        "--nowait",
        "--chroot",
        &host_chroot(),
        "--timeout",
        "600",
        "--enable-net",
        "--background",
        "--with-build-id",
        &first.to_string(),
        "--output",
        "json",
    ]);
    assert_code(&out, 0);
    let second = json_of(&out);
    let id = second["id"].as_i64().unwrap();
    assert!(id > first);
    assert_eq!(second["is_background"], true, "{second}");
    assert_eq!(second["chroots"], json!([host_chroot()]), "{second}");
    let cfg = api_get(&server, &format!("build/source-build-config/{id}"));
    assert_eq!(cfg["timeout"], 600, "{cfg}");
    // A broken source is refused before anything reaches the server.
    let out = alice.copr(&["build", "--remote", "hello", "/nonexistent/x.src.rpm"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("/nonexistent/x.src.rpm"),
        "{}",
        stderr(&out)
    );
    // So is an unknown project, before any SRPM is made or uploaded.
    let out = alice.copr(&["build", "--remote", "nothere", srpm.to_str().unwrap()]);
    assert_code(&out, 1);
    assert_eq!(
        api_get(&server, "build/list?ownername=alice&projectname=hello")["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

/// URLs and remote git repositories are passed to the server (build/create/url and
/// build/create/scm) instead of being fetched here.
#[test]
fn remote_build_passes_urls_and_git_repositories_through() {
    let Live {
        dir: _dir,
        server,
        alice,
    } = live();
    let url = "http://127.0.0.1:9/pkgs/hello-1.0-1.src.rpm";
    let out = alice.copr(&[
        "build", "--remote", "hello", url, "--nowait", "--output", "json",
    ]);
    assert_code(&out, 0);
    let id = json_of(&out)["id"].as_i64().unwrap();
    let cfg = api_get(&server, &format!("build/source-build-config/{id}"));
    assert_eq!(cfg["source_type"], "link", "{cfg}");
    assert_eq!(cfg["source_dict"]["url"], url, "{cfg}");

    let git = "https://127.0.0.1:9/hello.git";
    let out = alice.copr(&[
        "build",
        "--remote",
        "hello",
        git,
        "--committish",
        "v1.0",
        "--subdir",
        "pkg",
        "--method",
        "make-srpm",
        "--nowait",
        "--output",
        "json",
    ]);
    assert_code(&out, 0);
    let id = json_of(&out)["id"].as_i64().unwrap();
    let cfg = api_get(&server, &format!("build/source-build-config/{id}"));
    assert_eq!(cfg["source_type"], "scm", "{cfg}");
    let d = &cfg["source_dict"];
    assert_eq!(d["clone_url"], git, "{cfg}");
    assert_eq!(d["committish"], "v1.0", "{cfg}");
    assert_eq!(d["subdirectory"], "pkg", "{cfg}");
    assert_eq!(d["source_build_method"], "make_srpm", "{cfg}");

    // --scm insists on a URL the server can clone.
    let out = alice.copr(&[
        "build",
        "--remote",
        "hello",
        example_hello().to_str().unwrap(),
        "--scm",
    ]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("--scm needs a remote git URL"),
        "{}",
        stderr(&out)
    );
    // Remote-only flags need --remote.
    let out = alice.copr(&["build", "--nowait", "."]);
    assert_code(&out, 2);
}

/// Our `cancel` stops an unfinished build; watching it then ends with exit 4 and copr-cli's
/// "canceled" lines, and copr-cli agrees on the state.
#[test]
fn cancel_then_watch_exits_4() {
    let Live {
        dir,
        server: _server,
        alice,
    } = live();
    let srpm = server_support::hello_srpm(dir.path());
    let out = alice.copr(&[
        "build",
        "--remote",
        "hello",
        srpm.to_str().unwrap(),
        "--nowait",
        "--output",
        "json",
    ]);
    assert_code(&out, 0);
    let id = json_of(&out)["id"].as_i64().unwrap().to_string();
    let out = alice.copr(&["cancel", &id]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "canceled\n");
    let out = alice.copr(&["watch-build", &id, "--poll-interval", "1"]);
    assert_code(&out, 4);
    assert!(
        stdout(&out).contains(&format!("Build {id}: canceled")),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains(&format!("Build(s) {id} canceled.")),
        "{}",
        stderr(&out)
    );
    if copr_cli_path().is_some() {
        let theirs = alice.copr_cli(&["status", &id]);
        assert_eq!(stdout(&theirs).trim(), "canceled");
    }
}

/// `copr repro` of a build the server has no job spec for fails with a request error and says
/// what to check.
#[test]
fn repro_without_a_job_spec_explains() {
    let Live {
        dir: _dir,
        server: _server,
        alice,
    } = live();
    let out = alice.copr(&["repro", "999:host-x86_64"]);
    assert_code(&out, 1);
    assert!(stderr(&out).contains("hint:"), "{}", stderr(&out));
    let out = alice.copr(&["repro", "abc"]);
    assert_code(&out, 2);
}

// ----- a frontend with a failing build and its live log -----

/// Answer a Range request for `text` as a web server does.
fn range_reply(r: &Recorded, text: &str) -> Reply {
    let from: usize = r
        .range
        .as_deref()
        .and_then(|h| h.strip_prefix("bytes="))
        .and_then(|h| h.strip_suffix('-'))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    if from >= text.len() && !text.is_empty() {
        return (416, "text/plain", String::new());
    }
    let status = if r.range.is_some() { 206 } else { 200 };
    (status, "text/plain", text[from..].to_string())
}

/// The log of a real failing local build of the fixture, as a builder running the same
/// pipeline writes it, and the summary the local build printed.
fn failing_local_build(dir: &Path) -> (String, Vec<String>) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_copr"))
        .args(["build", "--backend", "sandbox", "--resultdir"])
        .arg(dir.join("local"))
        .arg(fixture("failing"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_code(&out, 4);
    let log = dir
        .join("local")
        .join(host_chroot())
        .join("00000001-failing/builder-live.log");
    (
        fs_err::read_to_string(log).unwrap(),
        summary_lines(&stderr(&out)),
    )
}

/// The lines between `error: build failed in …:` and `log:`, with rpmbuild's random script
/// name made neutral.
fn summary_lines(stderr: &str) -> Vec<String> {
    let re = regex::Regex::new(r"rpm-tmp\.\w+").unwrap();
    stderr
        .lines()
        .skip_while(|l| !l.starts_with("error: build failed in "))
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with("log: "))
        .map(|l| re.replace_all(l.trim(), "rpm-tmp.X").into_owned())
        .collect()
}

/// A frontend whose build 5 runs for two polls and then fails in the host chroot; its live log
/// grows in between. `job_spec(base URL)` is served at build/job-spec/5?chroot=….
fn failing_frontend(
    log: String,
    job_spec: impl Fn(&str) -> Value + Send + Sync + 'static,
) -> (Stub, Arc<AtomicUsize>) {
    let polls = Arc::new(AtomicUsize::new(0));
    let p = polls.clone();
    let chroot = host_chroot();
    let stub = Stub::start_at(move |base| {
        move |r: &Recorded| {
            let n = p.load(Ordering::SeqCst);
            let failed = n >= 3;
            let result_url = format!("{base}/results/alice/hello/{chroot}/00000005-failing/");
            let build = |state: &str| {
                json!({"id": 5, "state": state, "projectname": "hello", "ownername": "alice",
                       "source_package": {"name": "failing", "version": "1.0-1",
                                          "url": format!("{base}/srpm/failing-1.0-1.src.rpm")},
                       "chroots": [chroot]})
            };
            match r.path.as_str() {
                "/api_3/build/5" => {
                    p.fetch_add(1, Ordering::SeqCst);
                    ok(build(if failed { "failed" } else { "running" }))
                }
                "/api_3/build/source-chroot/5" => ok(json!({
                    "state": "succeeded",
                    "result_url": format!("{base}/results/alice/hello/srpm-builds/00000005/"),
                })),
                "/api_3/build-chroot/list" => ok(json!({"items": [{
                    "name": chroot,
                    "state": if failed { "failed" } else { "running" },
                    "started_on": 1_700_000_000, "ended_on": null,
                    "result_url": result_url,
                }], "meta": {"limit": 1000, "offset": 0}})),
                "/api_3/build/job-spec/5" if r.q("chroot") == Some(chroot.as_str()) => {
                    ok(job_spec(&base))
                }
                p if p.ends_with("/00000005-failing/builder-live.log") => {
                    // Half the log while running, all of it once failed.
                    let shown = if failed {
                        &log[..]
                    } else {
                        &log[..log.len() / 2]
                    };
                    range_reply(r, shown)
                }
                "/spec/failing.spec" => (
                    200,
                    "text/plain",
                    fs_err::read_to_string(fixture("failing/failing.spec")).unwrap(),
                ),
                _ => (
                    404,
                    "application/json",
                    json!({"error": "Such API endpoint doesn't exist"}).to_string(),
                ),
            }
        }
    });
    (stub, polls)
}

/// Watching a failing build shows the chroot's state, streams its live log with --verbose by
/// Range requests that only ask for new bytes, and ends with exit 4, the first error lines of
/// the failed chroot's log (as a local build prints them) and the log's URL.
#[test]
fn watching_a_failing_build_tails_its_log_and_summarises_the_failure() {
    let dir = tempfile::tempdir().unwrap();
    let (log, local_summary) = failing_local_build(dir.path());
    assert!(!local_summary.is_empty());
    let (stub, _) = failing_frontend(log.clone(), |_| json!({}));
    let home = Home::new(&stub.url);
    let out = home.copr(&["watch-build", "5", "--poll-interval", "1", "--verbose"]);
    assert_code(&out, 4);
    let err = stderr(&out);
    let chroot = host_chroot();
    assert!(err.contains(&format!("Build 5 {chroot}: running")), "{err}");
    assert!(err.contains(&format!("Build 5 {chroot}: failed")), "{err}");
    assert!(err.contains("Build(s) 5 failed."), "{err}");
    // Every log line was shown exactly once, in order.
    let prefix = format!("[{chroot}] ");
    let streamed: Vec<&str> = err
        .lines()
        .filter_map(|l| l.strip_prefix(prefix.as_str()))
        .collect();
    assert_eq!(streamed, log.lines().collect::<Vec<_>>());
    // Later reads asked only for the bytes after the ones already seen.
    let ranges: Vec<String> = stub
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("builder-live.log"))
        .filter_map(|r| r.range.clone())
        .collect();
    assert_eq!(ranges.first().map(String::as_str), Some("bytes=0-"));
    assert!(
        ranges.iter().any(|r| r != "bytes=0-"),
        "no read from an offset: {ranges:?}"
    );
    // The summary is the local build's, followed by the log URL.
    assert_eq!(summary_lines(&err), local_summary, "{err}");
    assert!(
        err.contains(&format!(
            "log: {}/results/alice/hello/{chroot}/00000005-failing/builder-live.log",
            stub.url
        )),
        "{err}"
    );
    // Without --verbose the log is not streamed, the summary still printed.
    let out = home.copr(&["watch-build", "5", "--poll-interval", "1"]);
    assert_code(&out, 4);
    assert!(!stderr(&out).contains(&prefix), "{}", stderr(&out));
    assert_eq!(summary_lines(&stderr(&out)), local_summary);
}

/// `copr repro 5:CHROOT` runs the job spec the builder ran (build id, builder paths adjusted)
/// with the local pipeline and fails with the same summary the remote build shows.
#[test]
fn repro_reproduces_a_remote_failure_with_the_same_summary() {
    let dir = tempfile::tempdir().unwrap();
    let (log, remote_summary) = failing_local_build(dir.path());
    let chroot = host_chroot();
    // The chroot task's spec as a builder got it: the SRPM stage's spec URL, its build id, a
    // repository directory of the builder that does not exist here.
    let c = chroot.clone();
    let (stub, _) = failing_frontend(log, move |base| {
        json!({
            "version": 1,
            "source": {"type": "url", "url": format!("{base}/spec/failing.spec")},
            "method": "rpmbuild",
            "chroots": [c],
            "backend": "sandbox",
            "repos": ["/nonexistent/builder/workdir/repo"],
            "enable_net": false,
            "timeout": 600,
            "nodeps": false,
            "build_id": 5,
            "project": {"owner": "alice", "name": "hello"}
        })
    });
    let home = Home::new(&stub.url);
    let results = dir.path().join("repro");
    let task = format!("5:{chroot}");

    let out = home.copr(&["repro", &task, "--dry-run", "--output", "json"]);
    assert_code(&out, 0);
    let adjusted = json_of(&out);
    assert_eq!(adjusted.get("build_id"), None, "{adjusted}");
    assert_eq!(adjusted.get("repos"), None, "{adjusted}");
    assert_eq!(adjusted["chroots"], json!([chroot]));

    let out = home.copr(&["repro", &task, "--resultdir", results.to_str().unwrap()]);
    assert_code(&out, 4);
    assert_eq!(
        summary_lines(&stderr(&out)),
        remote_summary,
        "{}",
        stderr(&out)
    );
    assert!(
        results
            .join(&chroot)
            .join("00000001-failing/builder-live.log")
            .exists(),
        "the local run keeps its log"
    );
}

// ----- with a builder -----

/// A directory built remotely on a builder: JSON output is the finished build, the text run
/// shows each task's state and (--verbose) its live log, and `download-build` fetches RPMs that
/// rpm reads, results.json and the log.
#[test]
fn remote_build_of_a_directory_succeeds_on_a_builder() {
    let live = live();
    let _b = start_builder(&live, "b1");
    let src = example_hello();
    let src = src.to_str().unwrap();
    let out = live.alice.copr(&[
        "build",
        "--remote",
        "hello",
        src,
        "--backend",
        "sandbox",
        "--output",
        "json",
        "--poll-interval",
        "1",
    ]);
    assert_code(&out, 0);
    let build = json_of(&out);
    assert_eq!(build["state"], "succeeded", "{build}");
    let id = build["id"].as_i64().unwrap().to_string();

    let out = live.alice.copr(&[
        "build",
        "--remote",
        "hello",
        src,
        "--backend",
        "sandbox",
        "--poll-interval",
        "1",
        "--verbose",
    ]);
    assert_code(&out, 0);
    let (text, err) = (stdout(&out), stderr(&out));
    assert!(text.contains("Created builds: "), "{text}");
    assert!(text.contains(": succeeded"), "{text}");
    let chroot = host_chroot();
    assert!(err.contains(&format!("{chroot}: succeeded")), "{err}");
    assert!(err.contains("srpm-builds: succeeded"), "{err}");
    assert!(
        err.contains(&format!("[{chroot}] ")),
        "no live log lines: {err}"
    );
    // The latest build (older ones of a package may be pruned once a newer one succeeds).
    let latest: i64 = text
        .lines()
        .find_map(|l| l.strip_prefix("Created builds: "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(latest > id.parse::<i64>().unwrap());
    let id = latest.to_string();

    let dest = live.dir.path().join("dl");
    let out = live
        .alice
        .copr(&["download-build", &id, "--dest", dest.to_str().unwrap()]);
    assert_code(&out, 0);
    let dir = dest.join(&chroot);
    for f in ["results.json", "builder-live.log", "hello-1.0-1.src.rpm"] {
        assert!(dir.join(f).is_file(), "{f} missing: {}", stdout(&out));
    }
    let rpm = dir.join(format!("hello-1.0-1.{}.rpm", std::env::consts::ARCH));
    let q = std::process::Command::new("rpm")
        .args(["-qp", "--qf", "%{NAME}-%{VERSION}"])
        .arg(&rpm)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&q.stdout),
        "hello-1.0",
        "{}",
        rpm.display()
    );
}

/// The real copr-cli against copr serve and a builder: `build` of an uploaded SRPM watched until
/// it succeeds, `download-build` of its results, `monitor` with the package and chroot state.
#[test]
fn copr_cli_build_download_and_monitor() {
    if copr_cli_path().is_none() {
        return;
    }
    let live = live();
    let _b = start_builder(&live, "b1");
    let srpm = server_support::hello_srpm(live.dir.path());
    // copr-cli polls every 30 seconds: this waits about that long.
    let out = live
        .alice
        .copr_cli(&["build", "hello", srpm.to_str().unwrap()]);
    assert_code(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("succeeded"), "{text}");
    let id: String = text
        .lines()
        .find_map(|l| l.strip_prefix("Created builds: "))
        .unwrap()
        .trim()
        .to_string();
    let dest = live.dir.path().join("cli-dl");
    let out = live
        .alice
        .copr_cli(&["download-build", &id, "--dest", dest.to_str().unwrap()]);
    assert_code(&out, 0);
    let dir = dest.join(host_chroot());
    let binary: Vec<PathBuf> = fs_err::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.ends_with(".rpm") && !n.ends_with(".src.rpm")
        })
        .collect();
    assert_eq!(binary.len(), 1, "{}\n{}", stdout(&out), stderr(&out));
    let q = std::process::Command::new("rpm")
        .args(["-qp", "--qf", "%{NAME}"])
        .arg(&binary[0])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&q.stdout), "hello");
    let out = live.alice.copr_cli(&["monitor", "hello"]);
    assert_code(&out, 0);
    let rows: Value = json_of(&out);
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "hello")
        .unwrap_or_else(|| panic!("no hello in {rows}"));
    assert_eq!(row["chroot"], host_chroot().as_str());
    assert_eq!(row["state"], "succeeded");
    assert_eq!(row["build_id"].to_string(), id);
}

/// `copr cancel` of a build that is running on a builder: the build ends canceled, watching it
/// exits 4, and the build's processes on the builder are gone.
#[test]
fn cancel_reaches_a_running_build() {
    let live = live();
    let _b = start_builder(&live, "b1");
    let out = live.alice.copr(&[
        "build",
        "--remote",
        "hello",
        fixture("sleeper").to_str().unwrap(),
        "--backend",
        "sandbox",
        "--nowait",
        "--output",
        "json",
    ]);
    assert_code(&out, 0);
    let id = json_of(&out)["id"].as_i64().unwrap();
    let chroot = host_chroot();
    let log_url = format!(
        "{}/results/alice/hello/{chroot}/{id:08}-sleeper/builder-live.log",
        live.server.url
    );
    eventually("the build sleeps on the builder", || {
        reqwest::blocking::get(&log_url)
            .ok()
            .filter(|r| r.status().is_success())
            .and_then(|r| r.text().ok())
            .is_some_and(|t| t.contains("sleeping until canceled"))
    });
    let out = live.alice.copr(&["cancel", &id.to_string()]);
    assert_code(&out, 0);
    let out = live
        .alice
        .copr(&["watch-build", &id.to_string(), "--poll-interval", "1"]);
    assert_code(&out, 4);
    assert!(
        stdout(&out).contains(&format!("Build {id}: canceled")),
        "{}",
        stdout(&out)
    );
    let workdir = live.dir.path().join("work-b1");
    eventually("the build's processes are killed", || {
        let ps = std::process::Command::new("ps")
            .args(["-eo", "args"])
            .output()
            .unwrap();
        !String::from_utf8_lossy(&ps.stdout)
            .lines()
            .any(|l| l.contains("sleep 313"))
            || !workdir.exists()
    });
}

/// A package that fails in %build fails remotely with a summary of its log; `copr repro` of the
/// chroot task runs the builder's job spec here and fails with the same summary.
#[test]
fn repro_of_a_remote_failure_shows_the_same_summary() {
    let live = live();
    let _b = start_builder(&live, "b1");
    let out = live.alice.copr(&[
        "build",
        "--remote",
        "hello",
        fixture("failing").to_str().unwrap(),
        "--backend",
        "sandbox",
        "--poll-interval",
        "1",
    ]);
    assert_code(&out, 4);
    let remote_summary = summary_lines(&stderr(&out));
    assert!(
        remote_summary
            .iter()
            .any(|l| l.contains("failing.c:3:5: error:")),
        "{}",
        stderr(&out)
    );
    let id = stdout(&out)
        .lines()
        .find_map(|l| l.strip_prefix("Created builds: "))
        .unwrap()
        .trim()
        .to_string();
    let results = live.dir.path().join("repro");
    let out = live.alice.copr(&[
        "repro",
        &format!("{id}:{}", host_chroot()),
        "--resultdir",
        results.to_str().unwrap(),
    ]);
    assert_code(&out, 4);
    assert_eq!(
        summary_lines(&stderr(&out)),
        remote_summary,
        "{}",
        stderr(&out)
    );
}

/// `copr-cli buildcustom`: the script travels inside the job, runs in the builder's source stage
/// and its spec and sources become the SRPM built in the chroot. A builddep the builder host
/// lacks fails the source stage with a message that names it.
#[test]
fn copr_cli_buildcustom_runs_the_script_on_a_builder() {
    if copr_cli_path().is_none() {
        return;
    }
    let live = live();
    let _b = start_builder(&live, "b1");
    let hello = example_hello();
    let spec = fs_err::read_to_string(hello.join("hello.spec")).unwrap();
    let code = fs_err::read_to_string(hello.join("hello.c")).unwrap();
    let readme = fs_err::read_to_string(hello.join("README.md")).unwrap();
    let script = live.dir.path().join("make-sources.sh");
    fs_err::write(
        &script,
        format!(
            "#!/bin/sh\nset -e\ncommand -v tar >/dev/null\n\
             mkdir -p out\ncat > out/hello.spec <<'SPEC'\n{spec}SPEC\n\
             cat > out/hello.c <<'CODE'\n{code}CODE\n\
             cat > out/README.md <<'TEXT'\n{readme}TEXT\n"
        ),
    )
    .unwrap();
    let submit = |builddeps: &str| -> i64 {
        let out = live.alice.copr_cli(&[
            "buildcustom",
            "hello",
            "--script",
            script.to_str().unwrap(),
            "--script-resultdir",
            "out",
            "--script-builddeps",
            builddeps,
            "--nowait",
        ]);
        assert_code(&out, 0);
        stdout(&out)
            .lines()
            .find_map(|l| l.strip_prefix("Created builds: "))
            .unwrap_or_else(|| panic!("no build id: {}", stdout(&out)))
            .trim()
            .parse()
            .unwrap()
    };
    let wait_final = |id: i64| -> Value {
        let mut last = Value::Null;
        eventually(&format!("build {id} to finish"), || {
            last = api_get(&live.server, &format!("build/{id}"));
            ["succeeded", "failed", "canceled"].contains(&last["state"].as_str().unwrap_or(""))
        });
        last
    };

    let source_log = |id: i64| {
        reqwest::blocking::get(format!(
            "{}/results/alice/hello/srpm-builds/{id:08}/builder-live.log",
            live.server.url
        ))
        .unwrap()
        .text()
        .unwrap()
    };

    let ok = submit("tar sh");
    let build = wait_final(ok);
    assert_eq!(build["state"], "succeeded", "{build}\n{}", source_log(ok));
    assert_eq!(build["source_package"]["name"], "hello", "{build}");
    let chroot = host_chroot();
    let built = api_get(
        &live.server,
        &format!("build-chroot/built-packages?build_id={ok}&chrootname={chroot}"),
    );
    assert_eq!(built["packages"][0]["name"], "hello", "{built}");
    // rpm reads the published binary package.
    let dir = live
        .server
        .data
        .join(format!("results/alice/hello/{chroot}/{ok:08}-hello"));
    let rpm = dir.join(format!("hello-1.0-1.{}.rpm", std::env::consts::ARCH));
    let q = std::process::Command::new("rpm")
        .args(["-qp", "--qf", "%{NAME}-%{VERSION}-%{RELEASE}"])
        .arg(&rpm)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&q.stdout),
        "hello-1.0-1",
        "{}",
        String::from_utf8_lossy(&q.stderr)
    );
    let cfg = api_get(&live.server, &format!("build/source-build-config/{ok}"));
    assert_eq!(cfg["source_type"], "custom", "{cfg}");

    let bad = submit("no-such-tool-for-copr-tests");
    let build = wait_final(bad);
    assert_eq!(build["state"], "failed", "{build}");
    let log = source_log(bad);
    assert!(
        log.contains("builddeps are not available on this host: no-such-tool-for-copr-tests"),
        "{log}"
    );
}
