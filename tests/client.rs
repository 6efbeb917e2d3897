//! Remote commands (`copr whoami`, `create`, `buildscm`, …): against recording loopback
//! frontends they send what the real copr-cli sends for the same arguments, map errors to
//! copr-cli's exit codes, page, print JSON as received, wait for and download builds; end to end
//! against `copr serve` they work together with copr-cli on the same projects.

mod client_support;

use std::collections::BTreeSet;

use client_support::*;
use serde_json::{Value, json};

/// One command run by copr-cli and by us against separate stubs.
struct Case {
    args: &'static [&'static str],
    /// Body keys copr-cli always sends with its own defaults, which we leave to the server.
    cli_only_keys: &'static [&'static str],
    /// Whether our stdout must equal copr-cli's.
    same_stdout: bool,
}

const CASES: &[Case] = &[
    Case {
        args: &[
            "create",
            "hello",
            "--chroot",
            "fedora-40-x86_64",
            "--chroot",
            "epel-9-x86_64",
            "--description",
            "Hello world",
            "--repo",
            "https://repo.example.org/",
            "--enable-net",
            "on",
            "--delete-after-days",
            "30",
            "--repo-priority",
            "5",
        ],
        cli_only_keys: &[
            "persistent",
            "auto_prune",
            "bootstrap",
            "isolation",
            "follow_fedora_branching",
            "multilib",
            "module_hotfixes",
            "fedora_review",
            "appstream",
        ],
        same_stdout: true,
    },
    Case {
        args: &[
            "create",
            "@devs/tools",
            "--chroot",
            "fedora-40-x86_64",
            "--unlisted-on-hp",
            "on",
        ],
        cli_only_keys: &[
            "persistent",
            "auto_prune",
            "bootstrap",
            "isolation",
            "follow_fedora_branching",
            "multilib",
            "module_hotfixes",
            "fedora_review",
            "appstream",
            "enable_net",
        ],
        same_stdout: true,
    },
    Case {
        args: &[
            "modify",
            "hello",
            "--description",
            "New text",
            "--repo",
            "copr://bob/deps",
            "--enable-net",
            "off",
            "--chroot",
            "fedora-40-x86_64",
            "--multilib",
            "on",
        ],
        cli_only_keys: &["bootstrap"],
        same_stdout: false,
    },
    Case {
        args: &["delete", "hello"],
        cli_only_keys: &[],
        same_stdout: true,
    },
    Case {
        args: &["fork", "hello", "alice/hello2", "--confirm"],
        cli_only_keys: &[],
        same_stdout: true,
    },
    Case {
        args: &["regenerate-repos", "bob/hello"],
        cli_only_keys: &[],
        same_stdout: true,
    },
    Case {
        args: &["list", "bob"],
        cli_only_keys: &[],
        same_stdout: false,
    },
    Case {
        args: &["get", "bob/hello"],
        cli_only_keys: &[],
        same_stdout: false,
    },
    Case {
        args: &["list-builds", "hello"],
        cli_only_keys: &[],
        same_stdout: false,
    },
    Case {
        args: &["status", "7"],
        cli_only_keys: &[],
        same_stdout: true,
    },
    Case {
        args: &["cancel", "7"],
        cli_only_keys: &[],
        same_stdout: true,
    },
    Case {
        args: &["delete-build", "7", "8"],
        cli_only_keys: &[],
        same_stdout: true,
    },
    Case {
        args: &["list-chroots"],
        cli_only_keys: &[],
        same_stdout: true,
    },
    Case {
        args: &["get-chroot", "hello/fedora-40-x86_64"],
        cli_only_keys: &[],
        same_stdout: false,
    },
    Case {
        args: &[
            "edit-chroot",
            "alice/hello/fedora-40-x86_64",
            "--packages",
            "gcc make",
            "--repos",
            "https://a.example.org/ https://b.example.org/",
            "--rpmbuild-with",
            "tests",
            "--rpmbuild-with",
            "docs",
            "--modules",
            "nodejs:16,!ruby:2.7",
            "--reset",
            "isolation",
        ],
        cli_only_keys: &[],
        same_stdout: true,
    },
    Case {
        args: &[
            "edit-chroot",
            "hello/fedora-40-x86_64",
            "--bootstrap-image",
            "fedora:40",
        ],
        cli_only_keys: &[],
        same_stdout: true,
    },
    Case {
        args: &["list-packages", "hello"],
        cli_only_keys: &[],
        same_stdout: false,
    },
    Case {
        args: &["get-package", "hello", "--name", "hello"],
        cli_only_keys: &[],
        same_stdout: false,
    },
    Case {
        args: &[
            "add-package-scm",
            "hello",
            "--name",
            "hello",
            "--clone-url",
            "https://example.org/hello.git",
            "--commit",
            "main",
            "--webhook-rebuild",
            "on",
            "--max-builds",
            "5",
            "--chroot-denylist",
            "epel-*",
        ],
        cli_only_keys: &[],
        same_stdout: true,
    },
    Case {
        args: &[
            "edit-package-scm",
            "hello",
            "--name",
            "hello",
            "--clone-url",
            "https://example.org/other.git",
            "--method",
            "make_srpm",
        ],
        cli_only_keys: &["committish", "subdirectory", "spec", "scm_type"],
        same_stdout: true,
    },
    Case {
        args: &[
            "build-package",
            "hello",
            "--name",
            "hello",
            "--nowait",
            "-r",
            "fedora-40-x86_64",
            "--timeout",
            "600",
            "--enable-net",
            "on",
            "--after-build-id",
            "3",
        ],
        cli_only_keys: &["isolation"],
        same_stdout: true,
    },
    Case {
        args: &[
            "buildscm",
            "hello:custom:ci",
            "--clone-url",
            "https://example.org/hello.git",
            "--subdir",
            "pkg",
            "--spec",
            "hello.spec",
            "--type",
            "git",
            "--method",
            "tito",
            "--nowait",
            "--exclude-chroot",
            "epel-9-x86_64",
            "--background",
            "--bootstrap",
            "off",
        ],
        cli_only_keys: &["isolation"],
        same_stdout: true,
    },
];

/// Query keys our client adds to list calls (pagination offset) that copr-cli leaves out.
const OUR_EXTRA_QUERY: &[&str] = &["offset", "limit"];

/// Every remote command sends the same method, path, query, auth and body as copr-cli does for
/// the same arguments, and prints the same text where copr-cli's output is meant for scripts.
#[test]
fn requests_match_copr_cli() {
    if copr_cli_path().is_none() {
        return;
    }
    std::thread::scope(|scope| {
        for case in CASES {
            scope.spawn(move || compare_with_copr_cli(case));
        }
    });
}

fn compare_with_copr_cli(case: &Case) {
    eprintln!("case {:?}", case.args);
    let theirs_stub = Stub::copr_like();
    let ours_stub = Stub::copr_like();
    let theirs = Home::new(&theirs_stub.url).copr_cli(case.args);
    let ours = Home::new(&ours_stub.url).copr(case.args);
    assert_code(&theirs, 0);
    assert_code(&ours, 0);
    // Follow-up pages are left out: copr-cli asks for an empty page where we stop at a short
    // one (pagination has its own test).
    let first_pages = |v: Vec<Recorded>| -> Vec<Recorded> {
        v.into_iter()
            .filter(|r| r.q("offset").is_none_or(|o| o == "0"))
            .collect()
    };
    let (t, o) = (
        first_pages(theirs_stub.api_requests()),
        first_pages(ours_stub.api_requests()),
    );
    assert_eq!(
        t.len(),
        o.len(),
        "{:?}: request count\ncopr-cli: {t:#?}\nours: {o:#?}",
        case.args
    );
    for (t, o) in t.iter().zip(&o) {
        let ctx = format!("{:?} {} {}", case.args, t.method, t.path);
        assert_eq!(t.method, o.method, "{ctx}");
        assert_eq!(t.path, o.path, "{ctx}");
        let tq: BTreeSet<_> = t.query.iter().cloned().collect();
        let oq: BTreeSet<_> = o
            .query
            .iter()
            .filter(|(k, _)| !OUR_EXTRA_QUERY.contains(&k.as_str()) || t.q(k).is_some())
            .cloned()
            .collect();
        assert_eq!(tq, oq, "{ctx}: query");
        if t.authorization.is_some() {
            assert_eq!(t.authorization, o.authorization, "{ctx}: authorization");
        }
        let is_multipart = |r: &Recorded| {
            r.content_type
                .as_deref()
                .unwrap_or("")
                .starts_with("multipart/")
        };
        assert_eq!(is_multipart(t), is_multipart(o), "{ctx}: multipart");
        let mut tj = t.json_without_nulls();
        if let Value::Object(m) = &mut tj {
            for k in case.cli_only_keys {
                m.remove(*k);
            }
        }
        assert_eq!(tj, o.json_without_nulls(), "{ctx}: body");
    }
    if case.same_stdout {
        assert_eq!(
            stdout(&theirs).replace(&theirs_stub.url, "URL"),
            stdout(&ours).replace(&ours_stub.url, "URL"),
            "{:?}: stdout",
            case.args
        );
    }
}

/// A token the server rejects exits 7 with the server's message and a hint naming the config.
#[test]
fn rejected_token_exits_7() {
    let stub = Stub::start(|_| {
        (
            401,
            "application/json",
            json!({"output": "notok", "error": "Login invalid/expired. Please visit http://h/api"})
                .to_string(),
        )
    });
    let home = Home::new(&stub.url);
    let out = home.copr(&["whoami"]);
    assert_code(&out, 7);
    let err = stderr(&out);
    assert!(
        err.contains("authentication failed: Login invalid/expired"),
        "{err}"
    );
    assert!(err.contains(&home.config.display().to_string()), "{err}");
    assert!(!err.contains("alicetoken"), "the token leaked: {err}");

    let forbidden = Stub::start(|_| {
        (
            403,
            "application/json",
            json!({"error": "You don't have permissions to build in this copr."}).to_string(),
        )
    });
    let out =
        Home::new(&forbidden.url).copr(&["build-package", "bob/hello", "--name", "x", "--nowait"]);
    assert_code(&out, 7);
    assert!(
        stderr(&out).contains("permissions to build"),
        "{}",
        stderr(&out)
    );
}

/// Write commands without a token fail before any request with exit 7 and say where to put one.
#[test]
fn writes_without_credentials_exit_7() {
    let stub = Stub::copr_like();
    let home = Home::with_config(&format!(
        "[copr-cli]\nusername = alice\ncopr_url = {}\nencrypted = False\n",
        stub.url
    ));
    let out = home.copr(&["create", "p", "--chroot", "fedora-40-x86_64"]);
    assert_code(&out, 7);
    assert!(
        stderr(&out).contains("needs an API token"),
        "{}",
        stderr(&out)
    );
    assert!(stub.requests().is_empty());
    // Reading needs none.
    let out = home.copr(&["get", "p"]);
    assert_code(&out, 0);
}

/// 404 answers exit 1 with the server's message; 409 (e.g. cancelling a finished build) too.
#[test]
fn request_errors_exit_1_with_the_servers_message() {
    let stub = Stub::start(|r| {
        if r.path.contains("cancel") {
            (
                409,
                "application/json",
                json!({"error": "Cannot cancel build 7 in state succeeded"}).to_string(),
            )
        } else {
            (
                404,
                "application/json",
                json!({"error": "Project alice/nope does not exist."}).to_string(),
            )
        }
    });
    let home = Home::new(&stub.url);
    let out = home.copr(&["get", "nope"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("not found: Project alice/nope does not exist."),
        "{}",
        stderr(&out)
    );
    let out = home.copr(&["cancel", "7"]);
    assert_code(&out, 1);
    assert!(stderr(&out).contains("HTTP 409"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Cannot cancel build 7"),
        "{}",
        stderr(&out)
    );
}

/// A body that is not JSON (a proxy's error page) is reported with the URL, status and a snippet.
#[test]
fn non_json_answers_are_reported_clearly() {
    let stub = Stub::start(|_| {
        (
            502,
            "text/html",
            "<html><body><h1>502 Bad Gateway</h1></body></html>".into(),
        )
    });
    let out = Home::new(&stub.url).copr(&["status", "1"]);
    assert_code(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains(&format!("{}/api_3/build/1 answered HTTP 502", stub.url)),
        "{err}"
    );
    assert!(err.contains("not JSON (text/html)"), "{err}");
    assert!(err.contains("502 Bad Gateway"), "{err}");
    assert!(err.contains("hint:"), "{err}");
}

/// With nothing listening, the command retries, then names the URL it could not reach (exit 1).
#[test]
fn server_down_names_the_url() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let out = Home::new(&url).copr(&["list-builds", "hello"]);
    assert_code(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains(&format!("cannot connect to {url} (3 attempts)")),
        "{err}"
    );
    assert!(err.contains("is the server running?"), "{err}");
}

/// Configuration problems exit 6 (copr-cli's code) and say which file and what to change.
#[test]
fn config_problems_exit_6() {
    let stub = Stub::copr_like();
    // Missing explicit file.
    let home = Home::new(&stub.url);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_copr"))
        .args(["whoami", "--config"])
        .arg(home.dir.path().join("absent"))
        .output()
        .unwrap();
    assert_code(&out, 6);
    assert!(
        stderr(&out).contains("absent does not exist"),
        "{}",
        stderr(&out)
    );
    // Plain http while `encrypted` defaults to true, as copr-cli refuses it.
    let home = Home::with_config(&format!(
        "[copr-cli]\nlogin = l\ntoken = t\ncopr_url = {}\n",
        stub.url
    ));
    let out = home.copr(&["list-chroots"]);
    assert_code(&out, 6);
    assert!(
        stderr(&out).contains("encrypted = False"),
        "{}",
        stderr(&out)
    );
    // A short project name needs a username.
    let home = Home::with_config(&format!(
        "[copr-cli]\nlogin = l\ntoken = t\ncopr_url = {}\nencrypted = off\n",
        stub.url
    ));
    let out = home.copr(&["get", "hello"]);
    assert_code(&out, 6);
    assert!(stderr(&out).contains("username"), "{}", stderr(&out));
    // Without a file at the default place, copr talks to Fedora Copr; an unreadable syntax errors.
    let home = Home::with_config("[copr-cli]\nthis is not ini\n");
    let out = home.copr(&["whoami"]);
    assert_code(&out, 6);
    assert!(
        stderr(&out).contains("copr.conf:2: expected `key = value`"),
        "{}",
        stderr(&out)
    );
    assert!(stub.requests().is_empty());
}

/// Malformed project and chroot arguments exit 2 before any request.
#[test]
fn bad_arguments_exit_2() {
    let stub = Stub::copr_like();
    let home = Home::new(&stub.url);
    for args in [
        &["get", "a/b/c"][..],
        &["get-chroot", "a/b/c/d"],
        &["create", "123", "--chroot", "fedora-40-x86_64"],
        &["create", "has space", "--chroot", "fedora-40-x86_64"],
        &["list", "a/b"],
        &["create", "nochroot"],
        &["status", "notanumber"],
    ] {
        let out = home.copr(args);
        assert_code(&out, 2);
    }
    assert!(stub.requests().is_empty());
}

/// `list-builds` follows pagination (limit/offset) to the end and prints every build.
#[test]
fn list_builds_reads_every_page() {
    const TOTAL: i64 = 2345;
    let stub = Stub::start(|r| {
        let limit: i64 = r.q("limit").unwrap().parse().unwrap();
        let offset: i64 = r.q("offset").unwrap_or("0").parse().unwrap();
        let items: Vec<Value> = (offset + 1..=(offset + limit).min(TOTAL))
            .map(|id| build_json(id, "succeeded"))
            .collect();
        ok(
            json!({"items": items, "meta": {"limit": limit, "offset": offset, "order": "id", "order_type": "ASC"}}),
        )
    });
    let home = Home::new(&stub.url);
    let out = home.copr(&["list-builds", "hello", "--output", "json"]);
    assert_code(&out, 0);
    let builds: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(builds.len() as i64, TOTAL);
    assert!(
        builds
            .iter()
            .enumerate()
            .all(|(i, b)| b["id"] == json!(i as i64 + 1))
    );
    let offsets: Vec<_> = stub
        .requests()
        .iter()
        .map(|r| r.q("offset").unwrap().to_string())
        .collect();
    assert_eq!(offsets, ["0", "1000", "2000"]);
    // Text output: a header and one row per build.
    let out = home.copr(&["list-builds", "hello"]);
    let text = stdout(&out);
    assert!(text.lines().next().unwrap().contains("ID"), "{text}");
    assert_eq!(text.lines().count() as i64, TOTAL + 1);
    assert!(text.contains("hello") && text.contains("1.0-1") && text.contains("succeeded"));
}

/// A server that ignores `offset` is detected instead of being paged forever.
#[test]
fn a_server_ignoring_offset_is_reported() {
    let stub = Stub::start(|_| {
        let items: Vec<Value> = (1..=1000).map(|id| build_json(id, "pending")).collect();
        ok(json!({"items": items, "meta": {"limit": 1000}}))
    });
    let out = Home::new(&stub.url).copr(&["list-builds", "hello"]);
    assert_code(&out, 5);
    assert!(
        stderr(&out).contains("repeats the previous one"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stub.requests().len(), 2);
}

/// `--output json` prints the API object as received, keys the client does not know included.
#[test]
fn json_output_is_the_object_as_received() {
    let stub = Stub::start(|r| {
        let mut b = build_json(7, "running");
        b["future_field"] = json!({"nested": [1, 2]});
        if r.path.ends_with("/project") {
            let mut p = project_json("alice", "hello");
            p["future_field"] = json!(true);
            return ok(p);
        }
        ok(b)
    });
    let home = Home::new(&stub.url);
    let out = home.copr(&["status", "7", "--output", "json"]);
    assert_code(&out, 0);
    let mut expected = build_json(7, "running");
    expected["future_field"] = json!({"nested": [1, 2]});
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        expected
    );
    let out = home.copr(&["get", "hello", "--output", "json"]);
    let mut expected = project_json("alice", "hello");
    expected["future_field"] = json!(true);
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        expected
    );
    // Text for the same project.
    let out = home.copr(&["get", "hello"]);
    let text = stdout(&out);
    assert!(
        text.contains("Name:") && text.contains("alice/hello"),
        "{text}"
    );
    assert!(
        text.contains("fedora-40-x86_64: http://h/results/alice/hello/fedora-40-x86_64/"),
        "{text}"
    );
}

/// `whoami` asks the server whom the token belongs to; JSON gives `{"id","name"}`.
#[test]
fn whoami_checks_the_token() {
    let stub = Stub::start(|r| {
        assert_eq!(r.path, "/api_3/auth-check");
        ok(json!({"id": 3, "name": "alice-on-server"}))
    });
    let home = Home::new(&stub.url);
    let out = home.copr(&["whoami"]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "alice-on-server\n");
    let out = home.copr(&["whoami", "--output", "json"]);
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        json!({"id": 3, "name": "alice-on-server"})
    );
    let auth = stub.requests()[0].authorization.clone().unwrap();
    use base64::Engine;
    assert_eq!(
        auth,
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("alicelogin:alicetoken")
        )
    );
}

/// Waiting for a build prints each state change and exits 4 when it fails, like copr-cli.
#[test]
fn waiting_ends_with_exit_4_on_failure() {
    let polls = std::sync::atomic::AtomicUsize::new(0);
    let stub = Stub::start(move |r| {
        if r.method == "POST" {
            return ok(build_json(9, "pending"));
        }
        if r.path != "/api_3/build/9" {
            // Task details are optional: watching works on the build state alone.
            return (
                404,
                "application/json",
                json!({"error": "no such endpoint"}).to_string(),
            );
        }
        let n = polls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let state = ["pending", "running", "running", "failed"][n.min(3)];
        ok(build_json(9, state))
    });
    let home = Home::new(&stub.url);
    let out = home.copr(&[
        "build-package",
        "hello",
        "--name",
        "hello",
        "--poll-interval",
        "1",
    ]);
    assert_code(&out, 4);
    let text = stdout(&out);
    assert!(text.contains("Created builds: 9"), "{text}");
    let states: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("Build 9:"))
        .map(|l| l.rsplit(' ').next().unwrap())
        .collect();
    assert_eq!(states, ["pending", "running", "failed"]);
    assert!(
        stderr(&out).contains("Build(s) 9 failed."),
        "{}",
        stderr(&out)
    );
}

/// `watch-build` of several builds succeeds when all succeed; JSON prints the final objects.
#[test]
fn watch_build_json_prints_final_builds() {
    let stub = Stub::start(|r| {
        let id: i64 = r.path.rsplit('/').next().unwrap().parse().unwrap();
        ok(build_json(id, "succeeded"))
    });
    let out = Home::new(&stub.url).copr(&[
        "watch-build",
        "4",
        "5",
        "--output",
        "json",
        "--poll-interval",
        "1",
    ]);
    assert_code(&out, 0);
    let finals: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        finals
            .iter()
            .map(|b| b["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [4, 5]
    );
    assert!(stderr(&out).contains("Build 5: succeeded"));
}

/// `download-build` fetches the RPMs listed by built-packages into DEST/<chroot>/.
#[test]
fn download_build_fetches_rpms_per_chroot() {
    let stub = Stub::start_at(|base| {
        move |r: &Recorded| {
            let results = format!("{base}/results");
            let p = r.path.as_str();
            if p == "/api_3/build-chroot/list" {
                return ok(json!({"items": [
                {"name": "fedora-40-x86_64", "state": "succeeded", "started_on": 1, "ended_on": 2,
                 "result_url": format!("{results}/fedora-40-x86_64/00000009-hello/")},
                {"name": "epel-9-x86_64", "state": "failed", "started_on": 1, "ended_on": 2,
                 "result_url": format!("{results}/epel-9-x86_64/00000009-hello/")}
            ], "meta": {"limit": 1000}}));
            }
            if p == "/api_3/build/built-packages/9" {
                return ok(json!({
                    "fedora-40-x86_64": {"packages": [
                        {"name": "hello", "epoch": 0, "version": "1.0", "release": "1.fc40", "arch": "x86_64"},
                        {"name": "hello", "epoch": 0, "version": "1.0", "release": "1.fc40", "arch": "src"}]},
                    "epel-9-x86_64": {"packages": []}
                }));
            }
            if p == "/api_3/build/9" {
                return ok(build_json(9, "failed"));
            }
            if let Some(file) = p.strip_prefix("/results/fedora-40-x86_64/00000009-hello/")
                && (file.ends_with(".rpm") || file == "builder-live.log.gz")
            {
                return (200, "application/x-rpm", format!("content of {file}"));
            }
            (404, "text/plain", "no".into())
        }
    });
    let home = Home::new(&stub.url);
    let dest = home.dir.path().join("dl");
    let out = home.copr(&[
        "download-build",
        "9",
        "--rpms",
        "--dest",
        dest.to_str().unwrap(),
    ]);
    assert_code(&out, 0);
    let rpm = dest.join("fedora-40-x86_64/hello-1.0-1.fc40.x86_64.rpm");
    assert_eq!(
        std::fs::read_to_string(&rpm).unwrap(),
        "content of hello-1.0-1.fc40.x86_64.rpm"
    );
    assert!(
        dest.join("fedora-40-x86_64/hello-1.0-1.fc40.src.rpm")
            .exists()
    );
    assert!(
        !dest.join("fedora-40-x86_64/builder-live.log.gz").exists(),
        "--rpms fetched a log"
    );
    assert!(stdout(&out).contains("hello-1.0-1.fc40.src.rpm"));
    // Without --rpms the logs come too; missing optional files are skipped quietly.
    let out = home.copr(&[
        "download-build",
        "9",
        "-r",
        "fedora-40-x86_64",
        "--dest",
        dest.to_str().unwrap(),
    ]);
    assert_code(&out, 0);
    assert!(dest.join("fedora-40-x86_64/builder-live.log.gz").exists());
    assert!(!stderr(&out).contains("Failed"), "{}", stderr(&out));
}

// ----- end to end against `copr serve` -----

mod server_support;

/// A running `copr serve` with user alice (and bob), and homes with their configs.
struct Live {
    _dir: tempfile::TempDir,
    server: server_support::Server,
    alice: Home,
    bob: Home,
}

fn live() -> Live {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = server_support::Server::start(&data, &[]);
    let home = |name: &str| {
        let c = server_support::add_user(&data, name, &[]);
        Home::for_user(&server.url, &c.login, &c.username, &c.token)
    };
    let (alice, bob) = (home("alice"), home("bob"));
    Live {
        _dir: dir,
        server,
        alice,
        bob,
    }
}

fn json_of(o: &std::process::Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", stdout(o)))
}

/// The ID from copr-cli's `Created builds: N` line.
fn created_build(o: &std::process::Output) -> i64 {
    stdout(o)
        .lines()
        .find_map(|l| l.strip_prefix("Created builds: "))
        .unwrap_or_else(|| panic!("no `Created builds:` in {}", stdout(o)))
        .trim()
        .parse()
        .unwrap()
}

/// Every remote command against the real server: exit codes, key output, JSON output, and what
/// our client created is what copr-cli sees (and the other way round).
#[test]
fn remote_commands_against_copr_serve() {
    let Live {
        _dir,
        server,
        alice,
        ..
    } = live();
    let cli = copr_cli_path().is_some();

    // whoami asks the server.
    let out = alice.copr(&["whoami"]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "alice\n");
    assert_eq!(
        json_of(&alice.copr(&["whoami", "--output", "json"]))["name"],
        "alice"
    );

    // list-chroots offers what projects can use.
    let out = alice.copr(&["list-chroots"]);
    assert_code(&out, 0);
    assert!(
        stdout(&out).lines().any(|l| l == "fedora-42-x86_64"),
        "{}",
        stdout(&out)
    );
    let chroots = json_of(&alice.copr(&["list-chroots", "--output", "json"]));
    assert!(chroots.get("epel-9-x86_64").is_some(), "{chroots}");

    // create, get, list.
    let out = alice.copr(&[
        "create",
        "hello",
        "--chroot",
        "fedora-42-x86_64",
        "--chroot",
        "epel-9-x86_64",
        "--description",
        "Hello world",
        "--repo",
        "https://repo.example.org/el/",
    ]);
    if !out.status.success() {
        eprintln!(
            "server log {}:\n{}",
            server.log.display(),
            server.log_text()
        );
    }
    assert_code(&out, 0);
    assert_eq!(
        stdout(&out),
        format!(
            "New project was successfully created: {}/coprs/alice/hello/\n",
            server.url
        )
    );
    let p = json_of(&alice.copr(&["get", "hello", "--output", "json"]));
    assert_eq!(p["full_name"], "alice/hello");
    assert_eq!(p["description"], "Hello world");
    assert_eq!(
        p["additional_repos"],
        json!(["https://repo.example.org/el/"])
    );
    let repos: Vec<&String> = p["chroot_repos"].as_object().unwrap().keys().collect();
    assert_eq!(repos, ["epel-9-x86_64", "fedora-42-x86_64"]);
    let out = alice.copr(&["list"]);
    assert_code(&out, 0);
    assert!(stdout(&out).contains("alice/hello"), "{}", stdout(&out));
    let list = json_of(&alice.copr(&["list", "alice", "--output", "json"]));
    assert_eq!(list.as_array().unwrap().len(), 1);
    if cli {
        let out = alice.copr_cli(&["get", "alice/hello"]);
        assert_code(&out, 0);
        assert!(stdout(&out).contains("Hello world"), "{}", stdout(&out));
    }

    // modify changes only what is given.
    let out = alice.copr(&[
        "modify",
        "hello",
        "--description",
        "Changed",
        "--enable-net",
        "on",
    ]);
    assert_code(&out, 0);
    let p = json_of(&alice.copr(&["get", "alice/hello", "--output", "json"]));
    assert_eq!(
        (p["description"].as_str(), p["enable_net"].as_bool()),
        (Some("Changed"), Some(true))
    );
    assert_eq!(
        p["additional_repos"],
        json!(["https://repo.example.org/el/"])
    );

    // edit-chroot / get-chroot, checked with copr-cli.
    let out = alice.copr(&[
        "edit-chroot",
        "hello/fedora-42-x86_64",
        "--packages",
        "gcc make",
        "--rpmbuild-with",
        "tests",
    ]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "Edit chroot operation was successful.\n");
    let c = json_of(&alice.copr(&[
        "get-chroot",
        "alice/hello/fedora-42-x86_64",
        "--output",
        "json",
    ]));
    assert_eq!(c["additional_packages"], json!(["gcc", "make"]));
    assert_eq!(c["with_opts"], json!(["tests"]));
    let out = alice.copr(&["get-chroot", "hello/fedora-42-x86_64"]);
    assert!(stdout(&out).contains("gcc make"), "{}", stdout(&out));
    if cli {
        let out = alice.copr_cli(&[
            "get-chroot",
            "alice/hello/fedora-42-x86_64",
            "--output-format",
            "json",
        ]);
        assert_code(&out, 0);
        let c: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(c["additional_packages"], json!(["gcc", "make"]));
    }

    // Packages.
    let out = alice.copr(&[
        "add-package-scm",
        "hello",
        "--name",
        "hello",
        "--clone-url",
        "https://example.org/hello.git",
        "--commit",
        "main",
    ]);
    assert_code(&out, 0);
    assert_code(
        &alice.copr(&[
            "edit-package-scm",
            "hello",
            "--name",
            "hello",
            "--commit",
            "v2",
        ]),
        0,
    );
    let pkg = json_of(&alice.copr(&[
        "get-package",
        "hello",
        "--name",
        "hello",
        "--output",
        "json",
    ]));
    assert_eq!(pkg["source_type"], "scm");
    assert_eq!(
        pkg["source_dict"]["clone_url"],
        "https://example.org/hello.git"
    );
    assert_eq!(pkg["source_dict"]["committish"], "v2");
    let out = alice.copr(&["list-packages", "hello"]);
    assert!(
        stdout(&out).contains("https://example.org/hello.git @v2"),
        "{}",
        stdout(&out)
    );
    if cli {
        let out = alice.copr_cli(&["get-package", "alice/hello", "--name", "hello"]);
        assert_code(&out, 0);
        assert!(
            stdout(&out).contains("https://example.org/hello.git"),
            "{}",
            stdout(&out)
        );
    }

    // A second package: listed by name, reset, deleted.
    assert_code(
        &alice.copr(&[
            "add-package-scm",
            "hello",
            "--name",
            "extra",
            "--clone-url",
            "https://example.org/extra.git",
        ]),
        0,
    );
    assert_eq!(
        stdout(&alice.copr(&["list-package-names", "hello"])),
        "hello\nextra\n"
    );
    let out = alice.copr(&["reset-package", "hello", "--name", "extra"]);
    assert_code(&out, 0);
    let pkg = json_of(&alice.copr(&[
        "get-package",
        "hello",
        "--name",
        "extra",
        "--output",
        "json",
    ]));
    assert_ne!(
        pkg["source_dict"]["clone_url"], "https://example.org/extra.git",
        "{pkg}"
    );
    let out = alice.copr(&["delete-package", "hello", "--name", "extra"]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "Package extra was successfully deleted.\n");
    assert_code(&alice.copr(&["get-package", "hello", "--name", "extra"]), 1);

    // Builds: from the package and from SCM; they wait for a builder.
    let out = alice.copr(&["build-package", "hello", "--name", "hello", "--nowait"]);
    assert_code(&out, 0);
    assert!(
        stdout(&out).starts_with("Build was added to hello:\n"),
        "{}",
        stdout(&out)
    );
    let b1 = created_build(&out);
    assert!(stdout(&out).contains(&format!("{}/coprs/build/{b1}", server.url)));
    let b2 = json_of(&alice.copr(&[
        "buildscm",
        "hello",
        "--clone-url",
        "https://example.org/other.git",
        "--nowait",
        "-r",
        "fedora-42-x86_64",
        "--output",
        "json",
    ]));
    let b2_id = b2["id"].as_i64().unwrap();
    assert_eq!(b2["chroots"], json!(["fedora-42-x86_64"]));
    assert_eq!(
        stdout(&alice.copr(&["status", &b1.to_string()])),
        "pending\n"
    );
    let builds = json_of(&alice.copr(&["list-builds", "hello", "--output", "json"]));
    let ids: Vec<i64> = builds
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_i64().unwrap())
        .collect();
    assert!(ids.contains(&b1) && ids.contains(&b2_id), "{ids:?}");
    let out = alice.copr(&["list-builds", "hello"]);
    assert_eq!(stdout(&out).lines().count(), 3, "{}", stdout(&out));
    if cli {
        // A build copr-cli created is visible to us, and ours to copr-cli.
        let out = alice.copr_cli(&[
            "build",
            "alice/hello",
            "https://example.org/hello-1.0-1.src.rpm",
            "--nowait",
        ]);
        assert_code(&out, 0);
        let b3 = created_build(&out);
        let ours = alice.copr(&["status", &b3.to_string()]);
        assert_code(&ours, 0);
        let theirs = alice.copr_cli(&["status", &b1.to_string()]);
        assert_eq!(
            stdout(&theirs),
            stdout(&alice.copr(&["status", &b1.to_string()]))
        );
        let out = alice.copr_cli(&["list-builds", "alice/hello"]);
        assert!(
            stdout(&out).contains(&b2_id.to_string()),
            "{}",
            stdout(&out)
        );
    }

    // monitor: the latest build per package and chroot, as copr-cli reports it.
    let rows = json_of(&alice.copr(&["monitor", "hello", "--output", "json"]));
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "hello" && r["chroot"] == "fedora-42-x86_64"),
        "{rows}"
    );
    let out = alice.copr(&["monitor", "hello"]);
    assert_code(&out, 0);
    assert!(stdout(&out).starts_with("NAME"), "{}", stdout(&out));
    if cli {
        let out = alice.copr_cli(&["monitor", "alice/hello"]);
        assert_code(&out, 0);
        assert_eq!(serde_json::from_slice::<Value>(&out.stdout).unwrap(), rows);
    }

    // Cancel, watch (exit 4 for a canceled build), delete.
    let out = alice.copr(&["cancel", &b1.to_string()]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "canceled\n");
    let out = alice.copr(&["watch-build", &b1.to_string(), "--poll-interval", "1"]);
    assert_code(&out, 4);
    assert!(
        stdout(&out).contains(&format!("Build {b1}: canceled")),
        "{}",
        stdout(&out)
    );
    let out = alice.copr(&["delete-build", &b1.to_string()]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), format!("Build(s) {b1} were deleted.\n"));
    let out = alice.copr(&["status", &b1.to_string()]);
    assert_code(&out, 1);

    // Fork, regenerate-repos, delete.
    let out = alice.copr(&["fork", "hello", "hello-fork"]);
    assert_code(&out, 0);
    assert!(
        stdout(&out).contains("Forking project alice/hello for you into alice/hello-fork"),
        "{}",
        stdout(&out)
    );
    let out = alice.copr(&["fork", "hello", "hello-fork"]);
    assert_code(&out, 2);
    assert!(stderr(&out).contains("--confirm"), "{}", stderr(&out));
    if cli {
        assert_code(&alice.copr_cli(&["get", "alice/hello-fork"]), 0);
    }
    let out = alice.copr(&["regenerate-repos", "hello"]);
    assert_code(&out, 0);
    assert!(stdout(&out).contains("'alice/hello'"), "{}", stdout(&out));
    let out = alice.copr(&["delete", "hello-fork"]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "Project hello-fork has been deleted.\n");
    let out = alice.copr(&["get", "hello-fork"]);
    assert_code(&out, 1);
    assert!(stderr(&out).contains("not found"), "{}", stderr(&out));
    if cli {
        assert_code(&alice.copr_cli(&["get", "alice/hello-fork"]), 1);
    }
}

/// Against the real server: a wrong token exits 7, someone else's project 7 (403), an unknown
/// project 1, and a stopped server 1 with its URL.
#[test]
fn error_paths_against_copr_serve() {
    let Live {
        _dir,
        server,
        alice,
        bob,
    } = live();
    assert_code(
        &alice.copr(&["create", "hello", "--chroot", "fedora-42-x86_64"]),
        0,
    );

    let text = std::fs::read_to_string(&alice.config).unwrap();
    let wrong = Home::with_config(&text.replace("token = ", "token = x"));
    let out = wrong.copr(&["whoami"]);
    assert_code(&out, 7);
    assert!(
        stderr(&out).contains("authentication failed"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("hint: check `login` and `token`"),
        "{}",
        stderr(&out)
    );
    assert_code(
        &wrong.copr(&["create", "other", "--chroot", "fedora-42-x86_64"]),
        7,
    );

    let out = bob.copr(&["modify", "alice/hello", "--description", "mine now"]);
    assert_code(&out, 7);
    let out = bob.copr(&[
        "buildscm",
        "alice/hello",
        "--clone-url",
        "https://example.org/x.git",
        "--nowait",
    ]);
    assert_code(&out, 7);
    let p = json_of(&bob.copr(&["get", "alice/hello", "--output", "json"]));
    assert_eq!(p["description"], Value::Null);

    let out = alice.copr(&["get", "nope"]);
    assert_code(&out, 1);
    let out = alice.copr(&["get-package", "hello", "--name", "nope"]);
    assert_code(&out, 1);
    let out = alice.copr(&["list", "nobody"]);
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains("No copr retrieved for user: 'nobody'"),
        "{}",
        stderr(&out)
    );

    let url = server.url.clone();
    server.stop();
    let out = alice.copr(&["status", "1"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains(&format!("cannot connect to {url}")),
        "{}",
        stderr(&out)
    );
}

/// `@group` projects and a comps.xml upload (multipart) against the real server; copr-cli sees
/// the group project too.
#[test]
fn groups_and_comps_against_copr_serve() {
    let Live {
        _dir,
        server,
        alice,
        bob,
    } = live();
    let data = server.data.clone();
    for args in [&["add-group", "devs"][..], &["add-member", "devs", "alice"]] {
        let out = server_support::admin(&data, args, &[]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = alice.copr(&["create", "@devs/tools", "--chroot", "fedora-42-x86_64"]);
    assert_code(&out, 0);
    assert_eq!(
        stdout(&out),
        format!(
            "New project was successfully created: {}/coprs/g/devs/tools/\n",
            server.url
        )
    );
    let list = json_of(&alice.copr(&["list", "@devs", "--output", "json"]));
    assert_eq!(list[0]["full_name"], "@devs/tools");
    // A member may change the group's chroots; others may not.
    let comps = alice.dir.path().join("comps.xml");
    std::fs::write(&comps, "<?xml version=\"1.0\"?>\n<comps></comps>\n").unwrap();
    let out = alice.copr(&[
        "edit-chroot",
        "@devs/tools/fedora-42-x86_64",
        "--upload-comps",
        comps.to_str().unwrap(),
        "--packages",
        "gcc",
    ]);
    assert_code(&out, 0);
    let c = json_of(&alice.copr(&[
        "get-chroot",
        "@devs/tools/fedora-42-x86_64",
        "--output",
        "json",
    ]));
    assert_eq!(c["comps_name"], "comps.xml");
    assert_eq!(c["additional_packages"], json!(["gcc"]));
    assert_code(
        &bob.copr(&[
            "edit-chroot",
            "@devs/tools/fedora-42-x86_64",
            "--packages",
            "x",
        ]),
        7,
    );
    let out = alice.copr(&[
        "buildscm",
        "@devs/tools",
        "--clone-url",
        "https://example.org/t.git",
        "--nowait",
    ]);
    assert_code(&out, 0);
    let id = created_build(&out);
    let b = json_of(&bob.copr(&["status", &id.to_string(), "--output", "json"]));
    assert_eq!(
        (b["ownername"].as_str(), b["projectname"].as_str()),
        (Some("@devs"), Some("tools"))
    );
    if copr_cli_path().is_some() {
        let out = alice.copr_cli(&["list", "@devs"]);
        assert_code(&out, 0);
        assert!(stdout(&out).contains("tools"), "{}", stdout(&out));
        let out = alice.copr_cli(&[
            "get-chroot",
            "@devs/tools/fedora-42-x86_64",
            "--output-format",
            "json",
        ]);
        assert_code(&out, 0);
        let c: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(c["comps_name"], "comps.xml");
    }
}

/// Without `--config`, `~/.config/copr` is read (as copr-cli does); `--config` wins over it.
#[test]
fn default_config_location() {
    let stub = Stub::start(|_| ok(json!({"id": 1, "name": "from-server"})));
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".config")).unwrap();
    std::fs::write(
        home.path().join(".config/copr"),
        format!(
            "[copr-cli]\nlogin = homelogin\ntoken = hometoken\ncopr_url = {}\nencrypted = False\n",
            stub.url
        ),
    )
    .unwrap();
    let run = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_copr"))
            .arg("whoami")
            .args(extra)
            .env("HOME", home.path())
            .output()
            .unwrap()
    };
    let out = run(&[]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "from-server\n");
    use base64::Engine;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("homelogin:hometoken")
    );
    assert_eq!(
        stub.requests()[0].authorization.as_deref(),
        Some(expected.as_str())
    );
    // An explicit file wins.
    let other = Home::new(&stub.url);
    let out = run(&["--config", other.config.to_str().unwrap()]);
    assert_code(&out, 0);
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("alicelogin:alicetoken")
    );
    assert_eq!(
        stub.requests()[1].authorization.as_deref(),
        Some(expected.as_str())
    );
}

/// `new-api-token` renews the token on the server and rewrites only login, token and the
/// expiration comment of the config file; the old token stops working, copr-cli uses the new one.
#[test]
fn new_api_token_against_copr_serve() {
    let Live {
        _dir,
        server,
        alice,
        ..
    } = live();
    let before = std::fs::read_to_string(&alice.config).unwrap();
    let old = Home::with_config(&before);
    let out = alice.copr(&["new-api-token"]);
    assert_code(&out, 0);
    assert_eq!(
        stdout(&out),
        format!("New API token was updated in {}.\n", alice.config.display())
    );
    let after = std::fs::read_to_string(&alice.config).unwrap();
    assert_ne!(before, after);
    let lines: Vec<&str> = after.lines().collect();
    assert_eq!(lines[0], "[copr-cli]");
    assert!(lines.contains(&"username = alice"), "{after}");
    assert!(
        lines.contains(&format!("copr_url = {}", server.url).as_str()),
        "{after}"
    );
    assert!(after.contains("# expiration date: "), "{after}");
    assert_eq!(stdout(&alice.copr(&["whoami"])), "alice\n");
    assert_code(&old.copr(&["whoami"]), 7);
    if copr_cli_path().is_some() {
        let out = alice.copr_cli(&["create", "viacli", "--chroot", "fedora-42-x86_64"]);
        assert_code(&out, 0);
        assert_code(
            &old.copr_cli(&["create", "viacli2", "--chroot", "fedora-42-x86_64"]),
            1,
        );
    }
    // JSON names the file and login, never the token.
    let out = alice.copr(&["new-api-token", "--output", "json"]);
    assert_code(&out, 0);
    let v = json_of(&out);
    let text = std::fs::read_to_string(&alice.config).unwrap();
    let token = text
        .lines()
        .find_map(|l| l.strip_prefix("token = "))
        .unwrap();
    assert!(!stdout(&out).contains(token));
    assert_eq!(v["config"], json!(alice.config));
    assert!(text.contains(&format!("login = {}", v["api_login"].as_str().unwrap())));
}
