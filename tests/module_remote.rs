//! Modules on `copr serve`: a module submitted as modulemd is built by a `copr builder` group by
//! group, released into the chroot repository, and installed by dnf through the server's module
//! repo file; bad documents, foreign users and repeated releases are refused.

mod module_support;
mod remote_e2e_support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use module_support::{ENTER, Pkg, Pty, git_package, libmodulemd_accepts, run};
use remote_e2e_support::{Creds, Env, HOST_CHROOT, free_port};
use serde_json::{Value, json};

/// `git daemon` serving the repositories under a directory on a loopback port; killed on drop.
struct GitDaemon {
    child: Child,
    port: u16,
}

impl GitDaemon {
    fn start(base: &Path) -> GitDaemon {
        std::fs::create_dir_all(base).unwrap();
        let port = free_port();
        let child = Command::new("git")
            .args([
                "daemon",
                "--reuseaddr",
                "--export-all",
                "--listen=127.0.0.1",
            ])
            .arg(format!("--port={port}"))
            .arg(format!("--base-path={}", base.display()))
            .arg(base)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("git daemon runs");
        let start = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(30),
                "git daemon did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        GitDaemon { child, port }
    }

    fn url(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// hello-lib (group 1) and hello-app (group 2, BuildRequires hello-lib) in git repositories.
fn two_group_doc(git: &GitDaemon, base: &Path, version: u64) -> String {
    git_package(&base.join("hello-lib"), &Pkg::new("hello-lib"), "true");
    let mut app = Pkg::new("hello-app");
    app.build_requires = vec!["hello-lib"];
    app.requires = vec!["hello-lib"];
    git_package(
        &base.join("hello-app"),
        &app,
        "test -f /usr/share/hello-lib/README",
    );
    format!(
        "document: modulemd\nversion: 2\ndata:\n  name: stack\n  stream: \"1\"\n  version: {version}\n  \
         summary: Library and app\n  description: An app built against its library.\n  license:\n    \
         module: [MIT]\n  profiles:\n    default:\n      rpms: [hello-app]\n  api:\n    rpms: [hello-app]\n  \
         buildopts:\n    rpms:\n      macros: |\n        %module_stack_build 1\n  \
         components:\n    rpms:\n      hello-lib:\n        rationale: Library the app builds on.\n        \
         repository: {}\n        ref: main\n        buildorder: 1\n      \
         hello-app:\n        rationale: The app.\n        repository: {}\n        ref: main\n        \
         buildorder: 2\n",
        git.url("hello-lib"),
        git.url("hello-app"),
    )
}

fn submit(env: &Env, who: &Creds, project: &str, doc: &str) -> (u16, Value) {
    let form = reqwest::blocking::multipart::Form::new().part(
        "modulemd",
        reqwest::blocking::multipart::Part::text(doc.to_string())
            .file_name("stack.yaml")
            .mime_str("application/x-yaml")
            .unwrap(),
    );
    let r = env
        .client
        .post(env.api(&format!("module/build/{}/{project}", who.username)))
        .basic_auth(&who.login, Some(&who.token))
        .multipart(form)
        .send()
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

fn module(env: &Env, id: i64) -> Value {
    let (s, v) = env.get(&format!("module/{id}"));
    assert_eq!(s, 200, "{v}");
    v
}

/// dnf with the repo files of `reposdir` only, into an empty installroot under `tmp`.
fn dnf(tmp: &Path, reposdir: &Path) -> Command {
    let mut c = Command::new("dnf");
    c.args(["-y", "--releasever=12"])
        .arg(format!("--setopt=reposdir={}", reposdir.display()))
        .arg(format!(
            "--setopt=cachedir={}",
            tmp.join("dnf-cache").display()
        ))
        .arg("--setopt=module_platform_id=platform:deb12")
        .arg(format!("--installroot={}", tmp.join("root").display()));
    c
}

/// A module with two buildorder groups, where group 2 BuildRequires group 1's package, is built
/// by a builder in order, released into the signed chroot repository (modulemd-validator
/// accepts its modules.yaml) and installed by dnf through the module repo file; resubmitting
/// the same NAME:STREAM:VERSION is a conflict.
#[test]
fn module_builds_in_order_releases_and_installs() {
    let mut env = Env::new();
    let alice = env.add_user("alice");
    env.create_project(&alice, "stack", &[HOST_CHROOT]);
    let gitdir = env.dir.path().join("git");
    let git = GitDaemon::start(&gitdir);
    let doc = two_group_doc(&git, &gitdir, 20260101000000);

    let config = cli_config(&env, &alice);
    let docfile = env.dir.path().join("stack.yaml");
    std::fs::write(&docfile, &doc).unwrap();
    // Submitted with the CLI, which watches the component builds until the module is released.
    env.start_builder("b1", 1);
    let (ok, out, err) = run(Command::new(remote_e2e_support::bin())
        .args(["module", "build"])
        .arg(&docfile)
        .args(["--remote", "stack", "--poll-interval", "1", "--config"])
        .arg(&config)
        .env("NO_COLOR", "1"));
    assert!(
        ok,
        "copr module build --remote:\n{out}\n{err}\n{}",
        env.server_log()
    );
    assert!(
        out.contains("Created module stack-1-20260101000000"),
        "{out}"
    );
    assert!(out.contains("stack:1:20260101000000 released"), "{out}");
    let (s, list) = env.get(&format!(
        "module/list?ownername={}&projectname=stack",
        alice.username
    ));
    assert_eq!(s, 200);
    assert_eq!(list["items"][0]["nsv"], "stack-1-20260101000000");
    let id = list["items"][0]["id"].as_i64().unwrap();
    let groups: Vec<Vec<i64>> = serde_json::from_value(list["items"][0]["builds"].clone()).unwrap();
    assert_eq!(groups.len(), 2, "{list}");
    let (lib, app) = (groups[0][0], groups[1][0]);
    assert_eq!(env.build(lib)["source_package"]["name"], "hello-lib");
    assert_eq!(env.build(app)["source_package"]["name"], "hello-app");
    // `buildopts: rpms: macros` reach every component's job.
    let spec = env
        .client
        .get(env.api(&format!("build/job-spec/{app}?chroot={HOST_CHROOT}")))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(spec.contains("module_stack_build"), "{spec}");

    // The same NAME:STREAM:VERSION again: refused, no builds created.
    let (s, v) = submit(&env, &alice, "stack", &doc);
    assert_eq!(s, 409, "{v}");

    let m = module(&env, id);
    assert_eq!(
        m["state"],
        "released",
        "{m}\n--- app log\n{}\n--- results\n{}\n--- primary\n{}\n--- server\n{}",
        env.live_log(app, HOST_CHROOT).unwrap_or_default(),
        walkdir::WalkDir::new(env.data.join("results"))
            .into_iter()
            .flatten()
            .map(|e| e.path().display().to_string())
            .collect::<Vec<_>>()
            .join("\n"),
        primary_of(&env.data.join("results/alice/stack").join(HOST_CHROOT)),
        env.server_log()
    );

    // Group 2 started only after group 1 ended, and built against its package.
    let lib_b = env.build(lib);
    let app_b = env.build(app);
    assert_eq!(lib_b["state"], "succeeded");
    assert_eq!(app_b["state"], "succeeded");
    assert!(
        app_b["started_on"].as_i64().unwrap() >= lib_b["ended_on"].as_i64().unwrap(),
        "{lib_b}\n{app_b}"
    );
    let log = env.live_log(app, HOST_CHROOT).expect("app build log");
    assert!(log.contains("hello-lib"), "{log}");

    // A newer build of a component does not prune the build the module was released from.
    let newer = remote_e2e_support::srpm(env.dir.path(), "hello-lib", "2.0", "true");
    let id2 = env.upload(&alice, "stack", &newer, json!({}));
    env.wait_for(300, "the newer hello-lib build", || env.finished(id2));
    assert_eq!(env.state(id2), "succeeded");
    let lib_dir = env
        .data
        .join(format!("results/{}/stack/{HOST_CHROOT}", alice.username))
        .join(format!("{lib:08}-hello-lib"));
    assert!(lib_dir.join("hello-lib-1.0-1.noarch.rpm").is_file());

    // The chroot repository carries the module, signed.
    let repo = env
        .data
        .join("results")
        .join(&alice.username)
        .join("stack")
        .join(HOST_CHROOT);
    let modules_yaml = repo.join("modules.yaml");
    assert!(
        libmodulemd_accepts(&modules_yaml),
        "{}",
        std::fs::read_to_string(&modules_yaml).unwrap_or_default()
    );
    let text = std::fs::read_to_string(&modules_yaml).unwrap();
    for want in [
        "hello-lib-0:1.0-1.noarch",
        "hello-app-0:1.0-1.noarch",
        "buildorder: 2",
        "version: 20260101000000",
    ] {
        assert!(text.contains(want), "{want} missing:\n{text}");
    }
    let repomd = std::fs::read_to_string(repo.join("repodata/repomd.xml")).unwrap();
    assert!(repomd.contains(r#"type="modules""#), "{repomd}");
    assert!(repo.join("repodata/repomd.xml.asc").is_file());

    // dnf reads it through the server's module repo file.
    let release = HOST_CHROOT.rsplit_once('-').unwrap().0;
    let r = env
        .client
        .get(format!(
            "{}/coprs/{}/stack/module_repo/{release}/stack-1-20260101000000.repo",
            env.url, alice.username
        ))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let repofile = r.text().unwrap();
    assert!(
        repofile.contains("gpgcheck=1") && repofile.contains("repo_gpgcheck=1"),
        "{repofile}"
    );
    assert!(!repofile.contains("module_hotfixes"), "{repofile}");
    let missing = env
        .client
        .get(format!(
            "{}/coprs/{}/stack/module_repo/{release}/stack-1-999.repo",
            env.url, alice.username
        ))
        .send()
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    let tmp = tempfile::tempdir().unwrap();
    let reposdir: PathBuf = tmp.path().join("repos.d");
    std::fs::create_dir_all(&reposdir).unwrap();
    std::fs::write(reposdir.join("stack.repo"), &repofile).unwrap();
    let (ok, out, err) = run(dnf(tmp.path(), &reposdir).args(["module", "list"]));
    assert!(ok, "dnf module list: {err}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("stack ") && l.contains("default")),
        "{out}\n{err}"
    );
    let (ok, _, err) =
        run(dnf(tmp.path(), &reposdir).args(["module", "install", "stack:1/default"]));
    assert!(ok, "dnf module install: {err}");
    let (_, installed, _) = run(Command::new("rpm")
        .arg("--root")
        .arg(tmp.path().join("root"))
        .args(["-qa", "--qf", "%{NAME}\\n"]));
    let mut installed: Vec<&str> = installed
        .lines()
        .filter(|l| !l.starts_with("gpg-pubkey"))
        .collect();
    installed.sort();
    assert_eq!(installed, ["hello-app", "hello-lib"]);

    // Handcrafted release from the project's latest builds with the CLI; a repeat is refused.
    let release = |extra: &[&str]| {
        run(Command::new(remote_e2e_support::bin())
            .args([
                "module", "release", "stack", "--name", "handmade", "--stream", "2",
            ])
            .args([
                "--version",
                "7",
                "--summary",
                "Handcrafted",
                "--description",
                "From builds.",
            ])
            .args([
                "--license",
                "MIT",
                "--api",
                "hello-app",
                "--profile",
                "default:hello-app,hello-lib",
            ])
            .args(["--no-platform", "--non-interactive", "--config"])
            .arg(&config)
            .args(extra)
            .env("NO_COLOR", "1"))
    };
    let out_doc = env.dir.path().join("handmade.yaml");
    let (ok, out, err) = release(&["--out", out_doc.to_str().unwrap()]);
    assert!(ok, "copr module release:\n{out}\n{err}");
    assert_eq!(out.trim(), "handmade:2:7 released");
    assert!(libmodulemd_accepts(&out_doc));
    assert!(libmodulemd_accepts(&modules_yaml));
    let text = std::fs::read_to_string(&modules_yaml).unwrap();
    assert!(
        text.contains("name: handmade") && text.contains("name: stack"),
        "{text}"
    );
    let (ok, _, err) = release(&[]);
    assert!(!ok);
    assert!(err.contains("already released"), "{err}");

    // The interactive form in a terminal offers the project's packages as checkboxes.
    let mut cmd = Command::new(remote_e2e_support::bin());
    cmd.args(["module", "release", "stack", "--config"])
        .arg(&config)
        .env("NO_COLOR", "1");
    let mut pty = Pty::spawn(&mut cmd);
    pty.expect("Module name");
    pty.send("picked\r");
    pty.expect("Stream");
    pty.send("3\r");
    for prompt in ["Summary", "Description", "License"] {
        pty.expect(prompt);
        pty.send(ENTER);
    }
    pty.expect("filter out");
    pty.send(ENTER);
    pty.expect("module API");
    pty.send(ENTER);
    pty.expect("Install profile name");
    pty.send(ENTER);
    // hello-app, hello-lib both checked → uncheck hello-app.
    pty.expect("Packages of profile");
    pty.send(&format!(" {ENTER}"));
    pty.expect("Add another profile?");
    pty.send("n");
    pty.expect("profile default: hello-lib");
    pty.expect("Release picked:3 in alice/stack?");
    pty.send("y");
    let (ok, text) = pty.wait();
    assert!(ok, "interactive release failed:\n{text}");
    assert!(
        text.contains("picked:3:") && text.contains("released"),
        "{text}"
    );
    assert!(libmodulemd_accepts(&modules_yaml));
    let text = std::fs::read_to_string(&modules_yaml).unwrap();
    assert!(text.contains("name: picked"), "{text}");
    let (s, v) = env.post(
        &alice,
        &format!("module/release/{}/stack", alice.username),
        json!({"name": "handmade", "stream": "2", "version": 7, "summary": "s",
               "description": "d", "license": ["MIT"]}),
    );
    assert_eq!(s, 409, "{v}");
}

/// A `copr-cli` configuration for `who` on this server.
fn cli_config(env: &Env, who: &Creds) -> PathBuf {
    let path = env.dir.path().join(format!("copr-{}.conf", who.username));
    std::fs::write(
        &path,
        format!(
            "[copr-cli]\nlogin = {}\nusername = {}\ntoken = {}\ncopr_url = {}\nencrypted = False\n",
            who.login, who.username, who.token, env.url
        ),
    )
    .unwrap();
    path
}

/// Bad documents get 400 naming the line; local repositories are refused; a user without
/// permission gets 403 on build and release.
#[test]
fn module_requests_are_checked() {
    let env = Env::new();
    let alice = env.add_user("alice");
    let bob = env.add_user("bob");
    env.create_project(&alice, "stack", &[HOST_CHROOT]);

    let bad = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/modules/bad/buildorder-not-integer.yaml"),
    )
    .unwrap();
    let (s, v) = submit(&env, &alice, "stack", &bad);
    assert_eq!(s, 400, "{v}");
    let err = v["error"].as_str().unwrap();
    assert!(
        err.contains("line 33") && err.contains("buildorder"),
        "{err}"
    );

    let local = "document: modulemd\nversion: 2\ndata:\n  summary: s\n  description: d\n  license:\n    \
                 module: [MIT]\n  components:\n    rpms:\n      a:\n        rationale: r\n        \
                 repository: /etc\n";
    let (s, v) = submit(&env, &alice, "stack", local);
    assert_eq!(s, 400, "{v}");
    let err = v["error"].as_str().unwrap();
    assert!(err.contains("line 12") && err.contains("remote"), "{err}");

    let ok = "document: modulemd\nversion: 2\ndata:\n  summary: s\n  description: d\n  license:\n    \
              module: [MIT]\n  components:\n    rpms:\n      a:\n        rationale: r\n        \
              repository: https://example.com/a.git\n";
    let form = reqwest::blocking::multipart::Form::new().part(
        "modulemd",
        reqwest::blocking::multipart::Part::text(ok.to_string()).file_name("a.yaml"),
    );
    let r = env
        .client
        .post(env.api(&format!("module/build/{}/stack", alice.username)))
        .basic_auth(&bob.login, Some(&bob.token))
        .multipart(form)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let (s, v) = env.post(
        &bob,
        &format!("module/release/{}/stack", alice.username),
        json!({"name": "x", "stream": "1"}),
    );
    assert_eq!(s, 403, "{v}");

    // Nothing was created by the refused requests.
    let (s, list) = env.get(&format!(
        "module/list?ownername={}&projectname=stack",
        alice.username
    ));
    assert_eq!(s, 200);
    assert_eq!(list["items"], json!([]));
}

/// The primary.xml of a repository, for failure messages.
fn primary_of(repo: &Path) -> String {
    let Ok(entries) = std::fs::read_dir(repo.join("repodata")) else {
        return String::new();
    };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().ends_with("primary.xml.gz") {
            let raw = std::fs::read(e.path()).unwrap_or_default();
            let mut out = String::new();
            let _ = std::io::Read::read_to_string(
                &mut flate2::read::MultiGzDecoder::new(&raw[..]),
                &mut out,
            );
            return out;
        }
    }
    String::new()
}

/// When a component of group 1 fails, the builds of group 2 are canceled, the module fails with
/// the reason, nothing is released, and `copr module build --remote` exits 4.
#[test]
fn failed_group_cancels_the_rest() {
    let mut env = Env::new();
    let alice = env.add_user("alice");
    env.create_project(&alice, "stack", &[HOST_CHROOT]);
    let gitdir = env.dir.path().join("git");
    let git = GitDaemon::start(&gitdir);
    git_package(&gitdir.join("broken"), &Pkg::new("broken"), "exit 1");
    git_package(&gitdir.join("later"), &Pkg::new("later"), "true");
    let doc = format!(
        "document: modulemd\nversion: 2\ndata:\n  name: broken\n  stream: main\n  summary: s\n  \
         description: d\n  license:\n    module: [MIT]\n  components:\n    rpms:\n      broken:\n        \
         rationale: r\n        repository: {}\n        buildorder: 1\n      later:\n        \
         rationale: r\n        repository: {}\n        buildorder: 2\n",
        git.url("broken"),
        git.url("later"),
    );
    let docfile = env.dir.path().join("broken.yaml");
    std::fs::write(&docfile, doc).unwrap();
    let config = cli_config(&env, &alice);
    env.start_builder("b1", 1);
    let out = Command::new(remote_e2e_support::bin())
        .args(["module", "build"])
        .arg(&docfile)
        .args(["--remote", "stack", "--poll-interval", "1", "--config"])
        .arg(&config)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("module broken-main-") && err.contains("failed"),
        "{err}"
    );

    let (_, list) = env.get(&format!(
        "module/list?ownername={}&projectname=stack",
        alice.username
    ));
    let m = &list["items"][0];
    assert_eq!(m["state"], "failed", "{m}");
    assert!(m["reason"].as_str().unwrap().contains("broken"), "{m}");
    let later = m["builds"][1][0].as_i64().unwrap();
    assert_eq!(env.state(later), "canceled");
    // Held until group 1 succeeded, it never started.
    assert!(env.build(later)["started_on"].is_null());
    let repo = env
        .data
        .join("results")
        .join(&alice.username)
        .join("stack")
        .join(HOST_CHROOT);
    assert!(!repo.join("modules.yaml").exists());
}

/// A module submitted before the server is killed (-9) is still driven after the restart: its
/// groups are built in order and it is released.
#[test]
fn module_survives_a_server_restart() {
    let mut env = Env::new();
    let alice = env.add_user("alice");
    env.create_project(&alice, "stack", &[HOST_CHROOT]);
    let gitdir = env.dir.path().join("git");
    let git = GitDaemon::start(&gitdir);
    let doc = two_group_doc(&git, &gitdir, 3);
    let (s, v) = submit(&env, &alice, "stack", &doc);
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["nsv"], "stack-1-3");
    let id = v["id"].as_i64().unwrap();
    env.kill9_server();
    env.restart_server();
    env.start_builder("b1", 1);
    env.wait_for(600, "the module to finish", || {
        module(&env, id)["state"] != "building"
    });
    let m = module(&env, id);
    assert_eq!(m["state"], "released", "{m}\n{}", env.server_log());
    let modules_yaml = env
        .data
        .join("results")
        .join(&alice.username)
        .join("stack")
        .join(HOST_CHROOT)
        .join("modules.yaml");
    assert!(libmodulemd_accepts(&modules_yaml));
}
