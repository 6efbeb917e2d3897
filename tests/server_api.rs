//! `copr serve` end to end: the real copr-cli against the real server, permissions, auth,
//! upload limits, crash safety, hosting and the API's shapes and errors.

mod server_support;

use serde_json::{Value, json};
use server_support::*;

fn ok(step: &str, r: &(i32, String, String)) {
    assert_eq!(r.0, 0, "`{step}` failed:\nstdout: {}\nstderr: {}", r.1, r.2);
}

/// Drives the real copr-cli through a project's life: whoami, create, list, get, modify,
/// chroots, packages, URL and upload builds, list-builds, status, cancel, delete-build, fork, delete.
#[test]
fn copr_cli_scenario() {
    let Some(cli) = copr_cli() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let alice = add_user(&data, "alice", &[]);
    let server = Server::start(&data, &[]);
    let cfg = cli_config(tmp.path(), &server, &alice);
    let c = |args: &[&str]| run_cli(&cli, &cfg, args);

    let r = c(&["whoami"]);
    ok("whoami", &r);
    assert_eq!(r.1.trim(), "alice");

    let r = c(&[
        "create",
        "--chroot",
        "fedora-42-x86_64",
        "--chroot",
        "host-x86_64",
        "--description",
        "Hello packages",
        "hello",
    ]);
    ok("create", &r);
    assert!(
        r.1.contains("New project was successfully created"),
        "{}",
        r.1
    );
    // Creating it again is refused.
    let r = c(&["create", "--chroot", "host-x86_64", "hello"]);
    assert_eq!(r.0, 1, "{r:?}");

    let r = c(&["list"]);
    ok("list", &r);
    assert!(
        r.1.contains("Name: hello") && r.1.contains("Hello packages"),
        "{}",
        r.1
    );

    let r = c(&["get", "hello"]);
    ok("get", &r);
    assert!(
        r.1.contains(&format!("{}/results/alice/hello/host-x86_64/", server.url)),
        "{}",
        r.1
    );

    let r = c(&[
        "modify",
        "--description",
        "Changed",
        "--repo",
        "copr://alice/other",
        "hello",
    ]);
    ok("modify", &r);
    let r = c(&["get", "hello"]);
    ok("get after modify", &r);
    assert!(r.1.contains("Description: Changed"), "{}", r.1);
    let (_, project) = Http::new(None).get(&format!(
        "{}?ownername=alice&projectname=hello",
        server.api("project")
    ));
    assert_eq!(project["additional_repos"], json!(["copr://alice/other"]));

    let r = c(&["list-chroots"]);
    ok("list-chroots", &r);
    assert!(r.1.lines().any(|l| l.trim() == "host-x86_64"), "{}", r.1);

    let r = c(&["get-chroot", "hello/fedora-42-x86_64"]);
    ok("get-chroot", &r);
    let chroot: Value = serde_json::from_str(&r.1).unwrap();
    assert_eq!(chroot["mock_chroot"], "fedora-42-x86_64");
    assert_eq!(chroot["additional_packages"], json!([]));

    let r = c(&[
        "edit-chroot",
        "--packages",
        "gcc make",
        "--rpmbuild-with",
        "tests",
        "hello/fedora-42-x86_64",
    ]);
    ok("edit-chroot", &r);
    let r = c(&["get-chroot", "hello/fedora-42-x86_64"]);
    let chroot: Value = serde_json::from_str(&r.1).unwrap();
    assert_eq!(chroot["additional_packages"], json!(["gcc", "make"]));
    assert_eq!(chroot["with_opts"], json!(["tests"]));

    let r = c(&[
        "add-package-scm",
        "--name",
        "hello-scm",
        "--clone-url",
        "https://example.org/hello.git",
        "--commit",
        "main",
        "--method",
        "make_srpm",
        "hello",
    ]);
    ok("add-package-scm", &r);
    let r = c(&["list-packages", "hello"]);
    ok("list-packages", &r);
    let pkgs: Value = serde_json::from_str(&r.1).unwrap();
    assert_eq!(pkgs.as_array().unwrap().len(), 1);
    assert_eq!(pkgs[0]["name"], "hello-scm");
    let r = c(&["get-package", "--name", "hello-scm", "hello"]);
    ok("get-package", &r);
    let pkg: Value = serde_json::from_str(&r.1).unwrap();
    assert_eq!(pkg["source_type"], "scm");
    assert_eq!(
        pkg["source_dict"]["clone_url"],
        "https://example.org/hello.git"
    );
    assert_eq!(pkg["source_dict"]["source_build_method"], "make_srpm");
    assert_eq!(pkg["source_dict"]["committish"], "main");

    let r = c(&[
        "build",
        "--nowait",
        "hello",
        "https://example.org/hello-1.0-1.src.rpm",
    ]);
    ok("build URL", &r);
    assert!(r.1.contains("Created builds:"), "{}", r.1);
    let url_build: i64 = created_id(&r.1);

    let srpm = hello_srpm(tmp.path());
    let r = c(&[
        "build",
        "--nowait",
        "-r",
        "host-x86_64",
        "hello",
        srpm.to_str().unwrap(),
    ]);
    ok("build upload", &r);
    let upload_build = created_id(&r.1);
    assert!(
        r.1.contains(&format!("{}/coprs/build/{upload_build}", server.url)),
        "{}",
        r.1
    );
    // The uploaded SRPM is on disk, byte for byte.
    let uploaded: Vec<_> = walkdir::WalkDir::new(data.join("uploads"))
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .collect();
    assert_eq!(uploaded.len(), 1);
    assert_eq!(
        fs_err::read(uploaded[0].path()).unwrap(),
        fs_err::read(&srpm).unwrap()
    );

    let r = c(&["list-builds", "hello"]);
    ok("list-builds", &r);
    let lines: Vec<&str> = r.1.lines().collect();
    assert_eq!(lines.len(), 2, "{}", r.1);
    assert_eq!(lines[0], format!("{url_build}\tNone\tpending"));
    assert_eq!(lines[1], format!("{upload_build}\thello\tpending"));

    let r = c(&["status", &upload_build.to_string()]);
    ok("status", &r);
    assert_eq!(r.1.trim(), "pending");

    let r = c(&["cancel", &upload_build.to_string()]);
    ok("cancel", &r);
    let r = c(&["status", &upload_build.to_string()]);
    assert_eq!(r.1.trim(), "canceled");
    // Cancelling a finished build is a conflict.
    let r = c(&["cancel", &upload_build.to_string()]);
    assert_eq!(r.0, 1);
    assert!(r.2.contains("already canceled"), "{}", r.2);
    // A pending build cannot be deleted.
    let r = c(&["delete-build", &url_build.to_string()]);
    assert_eq!(r.0, 1);
    assert!(r.2.contains("cancel it first"), "{}", r.2);

    let r = c(&["delete-build", &upload_build.to_string()]);
    ok("delete-build", &r);
    assert!(r.1.contains("were deleted"), "{}", r.1);
    let r = c(&["status", &upload_build.to_string()]);
    assert_eq!(r.0, 1, "deleted build still found: {r:?}");
    // Its uploaded source is gone too.
    assert!(
        walkdir::WalkDir::new(data.join("uploads"))
            .into_iter()
            .flatten()
            .all(|e| !e.file_type().is_file())
    );

    let r = c(&["fork", "hello", "hello-fork"]);
    ok("fork", &r);
    assert!(r.1.contains("Forking project alice/hello"), "{}", r.1);
    let r = c(&["get-package", "--name", "hello-scm", "hello-fork"]);
    ok("forked package", &r);
    let r = c(&["get-chroot", "hello-fork/fedora-42-x86_64"]);
    let chroot: Value = serde_json::from_str(&r.1).unwrap();
    assert_eq!(chroot["additional_packages"], json!(["gcc", "make"]));
    let r = c(&["fork", "hello", "hello-fork"]);
    assert_eq!(r.0, 1, "fork into an existing project needs --confirm");
    assert!(r.2.contains("--confirm"), "{}", r.2);
    assert!(data.join("results/alice/hello-fork/pubkey.gpg").is_file());

    let r = c(&["delete", "hello-fork"]);
    ok("delete", &r);
    assert!(r.1.contains("has been deleted"), "{}", r.1);
    let r = c(&["get", "hello-fork"]);
    assert_eq!(r.0, 1);
    assert!(!data.join("results/alice/hello-fork").exists());
    assert!(!data.join("keys/alice/hello-fork").exists());

    // Deleting a project removes the uploaded sources of its builds too.
    let uploaded_files = || {
        walkdir::WalkDir::new(data.join("uploads"))
            .into_iter()
            .flatten()
            .filter(|e| e.file_type().is_file())
            .count()
    };
    let r = c(&[
        "build",
        "--nowait",
        "-r",
        "host-x86_64",
        "hello",
        srpm.to_str().unwrap(),
    ]);
    ok("second upload", &r);
    assert_eq!(uploaded_files(), 1);
    let r = c(&["delete", "hello"]);
    ok("delete with builds", &r);
    assert_eq!(uploaded_files(), 0, "uploads of a deleted project remain");
    assert!(!data.join("results/alice/hello").exists());

    // No token reaches the log.
    let status = server.stop();
    assert!(status.success(), "server did not stop cleanly: {status}");
    let log = fs_err::read_to_string(data.with_extension("log")).unwrap();
    assert!(!log.contains(&alice.token));
}

fn created_id(stdout: &str) -> i64 {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("Created builds: "))
        .unwrap_or_else(|| panic!("no build id in: {stdout}"))
        .trim()
        .parse()
        .unwrap()
}

/// User B gets 403 building, editing and deleting in A's project until A grants builder; a
/// wrong token gets 401.
#[test]
fn permissions_and_authentication() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let a = add_user(&data, "alice", &[]);
    let b = add_user(&data, "bob", &[]);
    let server = Server::start(&data, &[]);
    let ha = Http::new(Some(&a));
    let hb = Http::new(Some(&b));
    let (s, _) = ha.post(
        &server.api("project/add/alice"),
        json!({"name": "p", "chroots": ["host-x86_64"]}),
    );
    assert_eq!(s, 200);
    let build_req = json!({"ownername": "alice", "projectname": "p", "pkgs": ["https://example.org/x-1-1.src.rpm"]});
    let (s, body) = ha.post(&server.api("build/create/url"), build_req.clone());
    assert_eq!(s, 200, "{body}");
    let a_build = body["items"][0]["id"].as_i64().unwrap();

    // B: build, edit, delete project, delete and cancel A's build → 403.
    let (s, body) = hb.post(&server.api("build/create/url"), build_req.clone());
    assert_eq!(s, 403, "{body}");
    assert!(body["error"].as_str().unwrap().contains("permissions"));
    let (s, _) = hb.put(
        &server.api("project/edit/alice/p"),
        json!({"description": "x"}),
    );
    assert_eq!(s, 403);
    let (s, _) = hb.delete(
        &server.api("project/delete/alice/p"),
        json!({"verify": true}),
    );
    assert_eq!(s, 403);
    let (s, _) = hb.put(&server.api(&format!("build/cancel/{a_build}")), json!({}));
    assert_eq!(s, 403);
    let (s, _) = hb.delete(&server.api(&format!("build/delete/{a_build}")), json!({}));
    assert_eq!(s, 403);
    let (s, _) = hb.post(
        &server.api("package/add/alice/p/pkg/scm"),
        json!({"clone_url": "https://example.org/x.git"}),
    );
    assert_eq!(s, 403);
    // B cannot create projects in A's name either.
    let (s, _) = hb.post(
        &server.api("project/add/alice"),
        json!({"name": "q", "chroots": ["host-x86_64"]}),
    );
    assert_eq!(s, 403);
    let (s, can) = ha.get(&server.api("project/permissions/can_build_in/bob/alice/p/"));
    assert_eq!(s, 200);
    assert_eq!(can["can_build_in"], false);

    // B asks, A grants builder.
    let (s, body) = hb.put(
        &server.api("project/permissions/request/alice/p/"),
        json!({"builder": true}),
    );
    assert_eq!((s, body["updated"].clone()), (200, json!(true)));
    let (s, perms) = ha.get(&server.api("project/permissions/get/alice/p/"));
    assert_eq!(s, 200);
    assert_eq!(perms["permissions"]["bob"]["builder"], "request");
    let (s, _) = hb.put(
        &server.api("project/permissions/set/alice/p/"),
        json!({"bob": {"builder": "approved"}}),
    );
    assert_eq!(s, 403, "B cannot approve himself");
    let (s, body) = ha.put(
        &server.api("project/permissions/set/alice/p/"),
        json!({"bob": {"builder": "approved"}}),
    );
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["updated"], json!(["bob"]));

    let (s, body) = hb.post(&server.api("build/create/url"), build_req.clone());
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["items"][0]["submitter"], "bob");
    let b_build = body["items"][0]["id"].as_i64().unwrap();
    let (s, _) = hb.put(&server.api(&format!("build/cancel/{b_build}")), json!({}));
    assert_eq!(s, 200, "B may cancel his own build");
    let (s, _) = hb.put(&server.api(&format!("build/cancel/{a_build}")), json!({}));
    assert_eq!(s, 403, "builder permission does not cover others' builds");
    // Builder is not admin: editing the project is still refused.
    let (s, _) = hb.put(
        &server.api("project/edit/alice/p"),
        json!({"description": "x"}),
    );
    assert_eq!(s, 403);
    let (_, can) = ha.get(&server.api("project/permissions/can_build_in/bob/alice/p"));
    assert_eq!(can["can_build_in"], true);

    // Wrong token, unknown login, missing credentials → 401 with copr-cli's message.
    let mut wrong = a.clone();
    wrong.token = "x".repeat(40);
    let (s, body) = Http::new(Some(&wrong)).get(&server.api("auth-check"));
    assert_eq!(s, 401);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("Login invalid/expired")
    );
    let (s, _) = Http::new(Some(&wrong)).post(&server.api("build/create/url"), build_req);
    assert_eq!(s, 401);
    let (s, _) = Http::new(None).post(
        &server.api("project/add/alice"),
        json!({"name": "z", "chroots": ["host-x86_64"]}),
    );
    assert_eq!(s, 401);
    if let Some(cli) = copr_cli() {
        let cfg = cli_config(tmp.path(), &server, &wrong);
        let r = run_cli(&cli, &cfg, &["create", "--chroot", "host-x86_64", "zz"]);
        assert_ne!(r.0, 0);
        assert!(r.2.contains("Login invalid/expired"), "{}", r.2);
    }
    // A new token replaces the old one.
    let (s, tok) = ha.post(&server.api("api-token"), json!({}));
    assert_eq!(s, 200);
    let (s, _) = ha.get(&server.api("auth-check"));
    assert_eq!(s, 401, "old token must stop working");
    let mut renewed = a.clone();
    renewed.token = tok["api_token"].as_str().unwrap().to_string();
    let (s, me) = Http::new(Some(&renewed)).get(&server.api("auth-check"));
    assert_eq!((s, me["name"].clone()), (200, json!("alice")));
}

/// An upload over the configured limit gets 413 and leaves no file behind; a bad file name
/// is refused.
#[test]
fn oversize_upload_is_refused_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let cfg = tmp.path().join("server.toml");
    fs_err::write(&cfg, "upload_limit = \"64K\"\n").unwrap();
    let a = add_user(&data, "alice", &[]);
    let server = Server::start(&data, &["--config", cfg.to_str().unwrap()]);
    let h = Http::new(Some(&a));
    let (s, _) = h.post(
        &server.api("project/add/alice"),
        json!({"name": "p", "chroots": ["host-x86_64"]}),
    );
    assert_eq!(s, 200);
    let upload = |name: &str, size: usize| {
        let form = reqwest::blocking::multipart::Form::new()
            .part(
                "pkgs",
                reqwest::blocking::multipart::Part::bytes(vec![7u8; size])
                    .file_name(name.to_string())
                    .mime_str("application/x-rpm")
                    .unwrap(),
            )
            .part(
                "json",
                reqwest::blocking::multipart::Part::text(
                    json!({"ownername": "alice", "projectname": "p"}).to_string(),
                )
                .file_name("json")
                .mime_str("application/json")
                .unwrap(),
            );
        h.send(
            h.client
                .post(server.api("build/create/upload"))
                .multipart(form),
        )
    };
    let (s, body) = upload("big-1-1.src.rpm", 1024 * 1024);
    assert_eq!(s, 413, "{body}");
    assert!(body["error"].as_str().unwrap().contains("limit"));
    let (s, _) = upload("../../evil.src.rpm", 10);
    assert_eq!(s, 400);
    let (s, body) = upload("junk-1-1.src.rpm", 10);
    assert_eq!(s, 400, "not an RPM: {body}");
    let files: Vec<_> = walkdir::WalkDir::new(&data)
        .into_iter()
        .flatten()
        .filter(|e| e.path().starts_with(data.join("uploads")) && e.path() != data.join("uploads"))
        .map(|e| e.path().display().to_string())
        .collect();
    assert!(files.is_empty(), "left on disk: {files:?}");
    assert!(!tmp.path().join("evil.src.rpm").exists());
    // The server still works.
    let (s, _) = h.get(&server.api("auth-check"));
    assert_eq!(s, 200);
}

/// SIGKILL and restart: projects, builds and tokens are all still there.
#[test]
fn kill_9_and_restart_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let a = add_user(&data, "alice", &[]);
    let server = Server::start(&data, &[]);
    let h = Http::new(Some(&a));
    let mut ids = Vec::new();
    for p in ["one", "two"] {
        let (s, _) = h.post(
            &server.api("project/add/alice"),
            json!({"name": p, "chroots": ["host-x86_64", "fedora-42-x86_64"]}),
        );
        assert_eq!(s, 200);
        for _ in 0..3 {
            let (s, body) = h.post(
                &server.api("build/create/url"),
                json!({"ownername": "alice", "projectname": p, "pkgs": ["https://example.org/a-1-1.src.rpm"]}),
            );
            assert_eq!(s, 200);
            ids.push(body["items"][0]["id"].as_i64().unwrap());
        }
    }
    let (s, _) = h.put(&server.api(&format!("build/cancel/{}", ids[0])), json!({}));
    assert_eq!(s, 200);
    let server = server.kill9_and_restart();
    let (s, me) = h.get(&server.api("auth-check"));
    assert_eq!((s, me["name"].clone()), (200, json!("alice")), "token lost");
    let (_, list) = h.get(&server.api("project/list?ownername=alice"));
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["one", "two"]);
    for (i, id) in ids.iter().enumerate() {
        let (s, b) = h.get(&server.api(&format!("build/{id}")));
        assert_eq!(s, 200);
        let want = if i == 0 { "canceled" } else { "pending" };
        assert_eq!(b["state"], want);
        assert_eq!(b["chroots"], json!(["fedora-42-x86_64", "host-x86_64"]));
    }
    // Writes keep working after the crash.
    let (s, _) = h.post(
        &server.api("build/create/url"),
        json!({"ownername": "alice", "projectname": "one", "pkgs": ["https://example.org/b-1-1.src.rpm"]}),
    );
    assert_eq!(s, 200);
    // No admin was created on restart: the users are the ones we made.
    assert!(
        !fs_err::read_to_string(data.with_extension("stdout"))
            .unwrap()
            .contains("[copr-cli]")
    );
}

/// The same crash test on PostgreSQL (skipped without COPR_TEST_POSTGRES_URL outside CI).
#[test]
fn kill_9_and_restart_on_postgres() {
    let admin_url = match std::env::var("COPR_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "COPR_TEST_POSTGRES_URL unset under CI"
            );
            return;
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let name = format!("copr_srv_{}", rand::random::<u64>());
    rt.block_on(async {
        let pool = sqlx::PgPool::connect(&admin_url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&pool)
            .await
            .unwrap();
    });
    let mut url = url::Url::parse(&admin_url).unwrap();
    url.set_path(&format!("/{name}"));
    let db = url.to_string();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let a = add_user(&data, "alice", &["--database", &db]);
    let server = Server::start(&data, &["--database", &db]);
    let h = Http::new(Some(&a));
    let (s, _) = h.post(
        &server.api("project/add/alice"),
        json!({"name": "one", "chroots": ["host-x86_64"]}),
    );
    assert_eq!(s, 200);
    let (s, body) = h.post(
        &server.api("build/create/url"),
        json!({"ownername": "alice", "projectname": "one", "pkgs": ["https://example.org/a-1-1.src.rpm"]}),
    );
    assert_eq!(s, 200);
    let id = body["items"][0]["id"].as_i64().unwrap();
    let server = server.kill9_and_restart();
    let (s, b) = h.get(&server.api(&format!("build/{id}")));
    assert_eq!((s, b["state"].clone()), (200, json!("pending")));
    let (s, _) = h.get(&server.api("auth-check"));
    assert_eq!(s, 200);
    assert!(
        !data.join("copr.sqlite").exists(),
        "SQLite used instead of PostgreSQL"
    );
    drop(server);
    rt.block_on(async {
        let pool = sqlx::PgPool::connect(&admin_url).await.unwrap();
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {name} WITH (FORCE)"
        )))
        .execute(&pool)
        .await;
    });
}

/// Results are served with content types and ranges, the project key is a real OpenPGP key,
/// and `.repo` files come out as `dnf copr enable` expects (users and groups).
#[test]
fn hosting_results_keys_and_repo_files() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let a = add_user(&data, "alice", &[]);
    assert!(admin(&data, &["add-group", "team"], &[]).status.success());
    assert!(
        admin(&data, &["add-member", "team", "alice"], &[])
            .status
            .success()
    );
    let server = Server::start(&data, &[]);
    let h = Http::new(Some(&a));
    let (s, _) = h.post(
        &server.api("project/add/alice"),
        json!({"name": "p", "chroots": ["fedora-42-x86_64", "fedora-42-i386", "epel-9-x86_64"], "multilib": true, "repo_priority": 5}),
    );
    assert_eq!(s, 200);
    let (s, gp) = h.post(
        &server.api("project/add/@team"),
        json!({"name": "gp", "chroots": ["fedora-rawhide-x86_64"]}),
    );
    assert_eq!(s, 200, "{gp}");
    assert_eq!(gp["full_name"], "@team/gp");

    // A result file: content type and a byte range.
    let dir = data.join("results/alice/p/fedora-42-x86_64/00000001-hello");
    fs_err::create_dir_all(&dir).unwrap();
    fs_err::write(dir.join("builder-live.log"), "0123456789").unwrap();
    let client = reqwest::blocking::Client::new();
    let url = format!(
        "{}/results/alice/p/fedora-42-x86_64/00000001-hello/builder-live.log",
        server.url
    );
    let resp = client
        .get(&url)
        .header("Range", "bytes=2-5")
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 206);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(resp.text().unwrap(), "2345");
    let resp = client
        .get(format!("{}/results/alice/p/../../../data.log", server.url))
        .send()
        .unwrap();
    assert_ne!(resp.status().as_u16(), 200);
    let resp = client
        .get(format!(
            "{}/results/alice/p/%2e%2e/%2e%2e/%2e%2e/data.log",
            server.url
        ))
        .send()
        .unwrap();
    assert_ne!(resp.status().as_u16(), 200);

    // pubkey.gpg: an OpenPGP key gpg can read, with Copr's user id.
    let key = client
        .get(format!("{}/results/alice/p/pubkey.gpg", server.url))
        .send()
        .unwrap();
    assert_eq!(key.status().as_u16(), 200);
    let key_path = tmp.path().join("pubkey.gpg");
    fs_err::write(&key_path, key.bytes().unwrap()).unwrap();
    let out = std::process::Command::new("gpg")
        .args(["--homedir"])
        .arg(tmp.path())
        .args(["--batch", "--with-colons", "--show-keys"])
        .arg(&key_path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("alice_p (copr) <alice#p@copr.local>"),
        "{text}"
    );
    assert!(!text.contains("sec:"), "secret key published");
    let secret = data.join("keys/alice/p/secret.asc");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        fs_err::metadata(&secret).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // .repo files.
    let get = |path: &str| {
        let r = client.get(format!("{}{path}", server.url)).send().unwrap();
        let status = r.status().as_u16();
        let hdr = r
            .headers()
            .get("Copr-Error-Data")
            .map(|v| v.to_str().unwrap().to_string());
        (status, hdr, r.text().unwrap())
    };
    let (s, _, repo) = get("/coprs/alice/p/repo/fedora-42/dnf.repo?arch=x86_64");
    assert_eq!(s, 200);
    assert!(
        repo.starts_with("[copr:127.0.0.1:alice:p]\nname=Copr repo for p owned by alice\n"),
        "{repo}"
    );
    assert!(repo.contains(&format!(
        "baseurl={}/results/alice/p/fedora-$releasever-$basearch/\n",
        server.url
    )));
    assert!(repo.contains(&format!(
        "gpgkey={}/results/alice/p/pubkey.gpg\n",
        server.url
    )));
    assert!(repo.contains("gpgcheck=1\n") && repo.contains("priority=5\n"));
    // The key is importable by rpm, as dnf does with gpgkey=.
    let rpmdb = tmp.path().join("rpmdb");
    fs_err::create_dir_all(&rpmdb).unwrap();
    let out = std::process::Command::new("rpmkeys")
        .arg("--dbpath")
        .arg(&rpmdb)
        .arg("--import")
        .arg(&key_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "rpmkeys --import: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        repo.contains("[copr:127.0.0.1:alice:p:ml]") && repo.contains("fedora-$releasever-i386/")
    );
    assert!(repo.contains("cost=1100"));
    let (_, _, epel) = get("/coprs/alice/p/repo/epel-9/dnf.repo");
    assert!(
        epel.contains("/results/alice/p/epel-9-$basearch/"),
        "{epel}"
    );
    assert!(!epel.contains(":ml]"));
    let (s, _, grp) = get("/coprs/g/team/gp/repo/fedora-rawhide/dnf.repo?arch=x86_64");
    assert_eq!(s, 200);
    assert!(
        grp.starts_with("[copr:127.0.0.1:group_team:gp]\nname=Copr repo for gp owned by @team\n"),
        "{grp}"
    );
    assert!(grp.contains("/results/@team/gp/fedora-$releasever-$basearch/"));
    let (s, hdr, _) = get("/coprs/alice/p/repo/fedora-30/dnf.repo");
    assert_eq!(s, 404);
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(hdr.expect("Copr-Error-Data header"))
        .unwrap();
    let v: Value = serde_json::from_slice(&decoded).unwrap();
    assert_eq!(v["available chroots"], json!(["epel-9", "fedora-42"]));

    // dnf itself parses the file.
    let repos_dir = tmp.path().join("yum.repos.d");
    fs_err::create_dir_all(&repos_dir).unwrap();
    fs_err::write(repos_dir.join("_copr:test.repo"), &repo).unwrap();
    let out = std::process::Command::new("dnf")
        .arg("-q")
        .arg(format!("--setopt=reposdir={}", repos_dir.display()))
        .args(["--releasever=42", "--installroot"])
        .arg(tmp.path().join("root"))
        .args(["repolist", "--all"])
        .output();
    if let Ok(out) = out {
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("copr:127.0.0.1:alice:p"),
            "dnf repolist: {text} {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// API shapes and errors: every key present, JSON 404/405, trailing slashes, POST for PUT,
/// query-string parameters, pagination.
#[test]
fn api_shapes_errors_and_pagination() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let a = add_user(&data, "alice", &[]);
    let server = Server::start(&data, &[]);
    let h = Http::new(Some(&a));
    let (s, v) = h.get(&server.api(""));
    assert_eq!((s, v), (200, json!({"version": 3})));
    let (s, v) = h.get(&server.api("no/such/endpoint"));
    assert_eq!(s, 404);
    assert_eq!(v["error"], "Such API endpoint doesn't exist");
    let (s, v) = h.send(h.client.patch(server.api("project/list")));
    assert_eq!(s, 405);
    assert!(v["error"].is_string());

    // Project add with parameters in the query string too, trailing slash.
    let (s, p) = h.post(
        &format!(
            "{}?ownername=alice&exist_ok=False",
            server.api("project/add/alice/")
        ),
        json!({"name": "p", "chroots": ["host-x86_64", "fedora-42-x86_64"], "description": null}),
    );
    assert_eq!(s, 200, "{p}");
    let keys = [
        "id",
        "name",
        "ownername",
        "full_name",
        "description",
        "instructions",
        "homepage",
        "contact",
        "devel_mode",
        "persistent",
        "unlisted_on_hp",
        "auto_prune",
        "chroot_repos",
        "additional_repos",
        "enable_net",
        "bootstrap",
        "isolation",
        "module_hotfixes",
        "appstream",
        "packit_forge_projects_allowed",
        "follow_fedora_branching",
        "repo_priority",
        "storage",
    ];
    let mut got: Vec<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
    got.sort();
    let mut want = keys.to_vec();
    want.sort();
    assert_eq!(got, want);
    assert!(p["description"].is_null());
    // exist_ok returns the project; without it a duplicate is a conflict.
    let (s, _) = h.post(
        &format!("{}?exist_ok=True", server.api("project/add/alice")),
        json!({"name": "p", "chroots": ["host-x86_64"]}),
    );
    assert_eq!(s, 200);
    let (s, _) = h.post(
        &server.api("project/add/alice"),
        json!({"name": "p", "chroots": ["host-x86_64"]}),
    );
    assert_eq!(s, 409);
    // Form errors: 400 with `field: message`.
    for (body, field) in [
        (json!({"name": "123", "chroots": ["host-x86_64"]}), "name"),
        (json!({"name": "../x", "chroots": ["host-x86_64"]}), "name"),
        (json!({"name": "ok"}), "chroots"),
        (
            json!({"name": "ok", "chroots": ["nonexistent-1-x86_64"]}),
            "chroots",
        ),
        (
            json!({"name": "ok", "chroots": ["host-x86_64"], "delete_after_days": 1000}),
            "delete_after_days",
        ),
    ] {
        let (s, v) = h.post(&server.api("project/add/alice"), body.clone());
        assert_eq!(s, 400, "{body} → {v}");
        assert!(
            v["error"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{field}:")),
            "{v}"
        );
    }
    // POST where copr-cli uses PUT; only sent keys change.
    let (s, e) = h.post(
        &server.api("project/edit/alice/p"),
        json!({"homepage": "https://x.org"}),
    );
    assert_eq!(s, 200);
    assert_eq!(e["homepage"], "https://x.org");
    assert_eq!(e["chroot_repos"].as_object().unwrap().len(), 2);

    // Builds: shape, pagination meta, filters.
    for i in 0..5 {
        let (s, _) = h.post(
            &server.api("build/create/url"),
            json!({"ownername": "alice", "projectname": "p", "pkgs": [format!("https://e.org/x{i}-1-1.src.rpm")],
                   "chroots": ["fedora-*"], "timeout": 100, "background": true}),
        );
        assert_eq!(s, 200);
    }
    let (s, list) = h.get(&format!(
        "{}?ownername=alice&projectname=p&limit=2&offset=1&order=id&order_type=DESC",
        server.api("build/list/")
    ));
    assert_eq!(s, 200);
    assert_eq!(
        list["meta"],
        json!({"limit": 2, "offset": 1, "order": "id", "order_type": "DESC"})
    );
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items[0]["id"].as_i64() > items[1]["id"].as_i64());
    let b = &items[0];
    let mut bk: Vec<&str> = b.as_object().unwrap().keys().map(String::as_str).collect();
    bk.sort();
    assert_eq!(
        bk,
        [
            "chroots",
            "ended_on",
            "id",
            "is_background",
            "ownername",
            "project_dirname",
            "projectname",
            "repo_url",
            "source_package",
            "started_on",
            "state",
            "submitted_on",
            "submitter"
        ]
    );
    assert_eq!(b["chroots"], json!(["fedora-42-x86_64"]));
    assert_eq!(b["is_background"], true);
    assert_eq!(b["repo_url"], format!("{}/results/alice/p", server.url));
    let id = b["id"].as_i64().unwrap();
    // List rows come from the list query; each equals the build's own view.
    for it in items {
        let (s, one) = h.get(&server.api(&format!("build/{}", it["id"])));
        assert_eq!(s, 200);
        assert_eq!(&one, it);
    }
    let (cfg_s, cfg) = h.get(&server.api(&format!("build/source-build-config/{id}")));
    assert_eq!(cfg_s, 200);
    assert_eq!(cfg["timeout"], 100);
    assert_eq!(cfg["source_type"], "link");
    let (_, sc) = h.get(&server.api(&format!("build/source-chroot/{id}")));
    assert_eq!(sc["state"], "pending");
    let (_, bc) = h.get(&format!(
        "{}?build_id={id}&chrootname=fedora-42-x86_64",
        server.api("build-chroot")
    ));
    assert_eq!(bc["state"], "waiting");
    assert!(
        bc["result_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/fedora-42-x86_64/{id:08}/"))
    );
    let (_, bcl) = h.get(&format!(
        "{}?build_id={id}",
        server.api("build-chroot/list")
    ));
    assert_eq!(bcl["items"].as_array().unwrap().len(), 1);
    let (s, _) = h.get(&server.api("build/999999"));
    assert_eq!(s, 404);
    let (s, _) = h.get(&format!(
        "{}?ownername=alice&projectname=p&status=bogus",
        server.api("build/list")
    ));
    assert_eq!(s, 400);
    let (_, pend) = h.get(&format!(
        "{}?ownername=alice&projectname=p&status=pending",
        server.api("build/list")
    ));
    assert_eq!(pend["items"].as_array().unwrap().len(), 5);
    // Chroot patterns that match nothing, bad timeout, batches.
    let base =
        json!({"ownername": "alice", "projectname": "p", "pkgs": ["https://e.org/y-1-1.src.rpm"]});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let (s, _) = h.post(
        &server.api("build/create/url"),
        with("chroots", json!(["epel-*"])),
    );
    assert_eq!(s, 400);
    let (s, _) = h.post(
        &server.api("build/create/url"),
        with("timeout", json!(200000)),
    );
    assert_eq!(s, 400);
    let (s, v) = h.post(
        &server.api("build/create/url"),
        with("after_build_id", json!(id)),
    );
    assert_eq!(s, 200, "{v}");
    let (s, _) = h.post(
        &server.api("build/check-before-build"),
        with("with_build_id", json!(id)),
    );
    assert_eq!(s, 200);
    // delete/list through POST.
    let (s, _) = h.put(&server.api(&format!("build/cancel/{id}")), json!({}));
    assert_eq!(s, 200);
    let (s, v) = h.post(&server.api("build/delete/list"), json!({"builds": [id]}));
    assert_eq!((s, v), (200, json!({"builds": [id]})));

    // Packages: every key, 409 duplicate, 400 unknown type, custom field renames.
    let (s, pkg) = h.post(
        &server.api("package/add/alice/p/tool/custom"),
        json!({"package_name": "tool", "script": "#!/bin/sh\necho", "script_chroot": "fedora-42-x86_64",
               "script_builddeps": "git", "chroot_denylist": "host-*", "max_builds": 3}),
    );
    assert_eq!(s, 200, "{pkg}");
    assert_eq!(pkg["source_dict"]["chroot"], "fedora-42-x86_64");
    assert_eq!(pkg["source_dict"]["builddeps"], "git");
    let mut pk: Vec<&str> = pkg
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    pk.sort();
    assert_eq!(
        pk,
        [
            "auto_rebuild",
            "builds",
            "id",
            "name",
            "ownername",
            "projectname",
            "source_dict",
            "source_type"
        ]
    );
    let (s, _) = h.post(
        &server.api("package/add/alice/p/tool/custom"),
        json!({"script": "x"}),
    );
    assert_eq!(s, 409);
    let (s, _) = h.post(&server.api("package/add/alice/p/other/nonsense"), json!({}));
    assert_eq!(s, 400);
    // Package build honours the denylist.
    let (s, b) = h.post(
        &server.api("package/build"),
        json!({"ownername": "alice", "projectname": "p", "package_name": "tool"}),
    );
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["chroots"], json!(["fedora-42-x86_64"]));
    assert_eq!(b["source_package"]["name"], "tool");
    let (_, got) = h.get(&format!(
        "{}?ownername=alice&projectname=p&packagename=tool&with_latest_build=True",
        server.api("package")
    ));
    assert_eq!(got["builds"]["latest"]["id"], b["id"]);
    assert!(got["builds"]["latest_succeeded"].is_null());
    let (_, mon) = h.get(&format!(
        "{}?ownername=alice&projectname=p",
        server.api("monitor")
    ));
    assert_eq!(mon["output"], "ok");
    let tool = mon["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "tool")
        .unwrap();
    assert_eq!(tool["chroots"]["fedora-42-x86_64"]["state"], "waiting");
    let (s, _) = h.delete(
        &server.api("package/delete"),
        json!({"ownername": "alice", "projectname": "p", "package_name": "tool"}),
    );
    assert_eq!(s, 200);

    // Project chroot edit is multipart, with a comps file.
    let form = reqwest::blocking::multipart::Form::new()
        .part(
            "json",
            reqwest::blocking::multipart::Part::text(
                json!({"additional_packages": ["gcc"], "isolation": "simple"}).to_string(),
            )
            .file_name("json"),
        )
        .part(
            "upload_comps",
            reqwest::blocking::multipart::Part::bytes(b"<comps/>".to_vec()).file_name("comps.xml"),
        );
    let (s, c) = h.send(
        h.client
            .put(server.api("project-chroot/edit/alice/p/fedora-42-x86_64"))
            .multipart(form),
    );
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["comps_name"], "comps.xml");
    assert_eq!(c["isolation"], "simple");
    let (_, cfg) = h.get(&format!(
        "{}?ownername=alice&projectname=p&chrootname=fedora-42-x86_64",
        server.api("project-chroot/build-config")
    ));
    assert_eq!(cfg["additional_packages"], json!(["gcc"]));
    assert_eq!(cfg["repos"][0]["id"], "copr_base");
    assert_eq!(cfg["additional_repos"][0], "copr://alice/p");

    // Lists and search.
    let (_, s1) = h.get(&format!("{}?query=p", server.api("project/search")));
    assert_eq!(s1["items"].as_array().unwrap().len(), 1);
    let (_, mc) = h.get(&server.api("mock-chroots/list"));
    assert!(mc.get("host-x86_64").is_some() && mc.get("fedora-rawhide-x86_64").is_some());
}

/// Admin commands: renew-token replaces the token (old one 401), duplicate users and unknown
/// groups fail with a clear message, a bad config file exits with the config error code.
#[test]
fn admin_commands_and_config_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let a = add_user(&data, "alice", &[]);
    let out = admin(&data, &["add-user", "alice"], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    let out = admin(&data, &["add-member", "nogroup", "alice"], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("add-group nogroup"));
    let out = admin(&data, &["add-user", "../evil"], &[]);
    assert_eq!(out.status.code(), Some(2));

    let server = Server::start(&data, &[]);
    let (s, _) = Http::new(Some(&a)).get(&server.api("auth-check"));
    assert_eq!(s, 200);
    let out = admin(&data, &["renew-token", "alice", "--output", "json"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let renewed: Creds = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(renewed.login, a.login);
    assert_ne!(renewed.token, a.token);
    let (s, _) = Http::new(Some(&a)).get(&server.api("auth-check"));
    assert_eq!(s, 401);
    let (s, _) = Http::new(Some(&renewed)).get(&server.api("auth-check"));
    assert_eq!(s, 200);

    let bad = tmp.path().join("bad.toml");
    fs_err::write(&bad, "listen = 5000\nunknown_key = 1\n").unwrap();
    let out = std::process::Command::new(bin())
        .args(["serve", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.toml"));
}
