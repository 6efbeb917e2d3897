//! Remote builds end to end on loopback: `copr serve` with `copr builder` agents running the
//! sandbox backend — dispatch across builders and chroots, signed publishing installed with
//! dnf, builder and server crashes, cancellation of a running build, fair share across owners,
//! and the builder protocol's refusals.

mod remote_e2e_support;

use std::io::Write;
use std::process::Command;
use std::time::Duration;

use remote_e2e_support::*;
use serde_json::{Value, json};

fn unique() -> u32 {
    std::process::id() % 10_000 + rand_part()
}

fn rand_part() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
        % 10_000
}

/// Twenty builds over two chroots on two builders all succeed; every task's live log and
/// JobSpec are served; dnf installs from the published repository through the server's .repo
/// file with gpgcheck=1 and repo_gpgcheck=1.
#[test]
fn twenty_builds_on_two_builders_publish_an_installable_signed_repo() {
    let mut env = Env::new();
    let alice = env.add_user("alice");
    env.create_project(&alice, "demo", &[HOST_CHROOT, OTHER_CHROOT]);
    env.start_builder("b1", 1);
    env.start_builder("b2", 1);
    let srpms = env.dir.path().join("srpms");
    let mut ids = Vec::new();
    for n in 1..=20 {
        let srpm = srpm(&srpms, &format!("pkg{n:02}"), "1.0", "true");
        ids.push(env.upload(&alice, "demo", &srpm, json!({})));
    }
    env.wait_for(600, "20 builds to finish", || {
        ids.iter().all(|id| env.finished(*id))
    });
    for id in &ids {
        assert_eq!(
            env.state(*id),
            "succeeded",
            "build {id}: {}",
            env.build(*id)
        );
        for chroot in [HOST_CHROOT, OTHER_CHROOT] {
            assert_eq!(env.chroot_state(*id, chroot), "succeeded");
            let log = env.live_log(*id, chroot).expect("live log served");
            assert!(log.contains("rpmbuild") || !log.is_empty(), "{log}");
        }
    }
    // Both builders took work.
    for b in ["b1", "b2"] {
        assert!(
            env.builder_log(b).contains("started"),
            "{}",
            env.builder_log(b)
        );
    }
    // The JobSpec of a chroot task: the SRPM from the server, for that chroot.
    let (s, job) = env.get(&format!("build/job-spec/{}?chroot={OTHER_CHROOT}", ids[3]));
    assert_eq!(s, 200, "{job}");
    assert_eq!(job["chroots"], json!([OTHER_CHROOT]));
    assert!(
        job["source"]["url"]
            .as_str()
            .unwrap()
            .ends_with("pkg04-1.0-1.src.rpm")
    );
    let (s, job) = env.get(&format!("build/job-spec/{}", ids[3]));
    assert_eq!(s, 200, "{job}");
    assert_eq!(job["source"]["type"], "url");
    let (s, _) = env.get("build/job-spec/99999");
    assert_eq!(s, 404);

    let repo_file = env
        .client
        .get(format!("{}/coprs/alice/demo/repo/host/demo.repo", env.url))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        repo_file.contains("gpgcheck=1") && repo_file.contains("repo_gpgcheck=1"),
        "{repo_file}"
    );
    let reposdir = env.dir.path().join("repos");
    std::fs::create_dir(&reposdir).unwrap();
    std::fs::write(reposdir.join("demo.repo"), &repo_file).unwrap();
    let root = env.dir.path().join("root");
    let o = Command::new("dnf")
        .args(["-y", "--releasever=12", "--setopt=metadata_expire=0"])
        .arg(format!(
            "--setopt=cachedir={}",
            env.dir.path().join("dnfcache").display()
        ))
        .arg(format!("--setopt=reposdir={}", reposdir.display()))
        .arg(format!("--installroot={}", root.display()))
        .args(["--setopt=gpgcheck=1", "install", "pkg07", "pkg20"])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "dnf install: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(root.join("usr/share/pkg07/version")).unwrap(),
        "1.0\n"
    );
    assert!(
        env.data
            .join(format!(
                "results/alice/demo/{OTHER_CHROOT}/repodata/repomd.xml.asc"
            ))
            .is_file()
    );
}

/// A builder killed with -9 in the middle of a build loses the task to the heartbeat timeout;
/// the build is re-queued and completes on another builder, with the re-queue in its log.
#[test]
fn build_of_a_killed_builder_completes_on_another() {
    let mut env = Env::new();
    let alice = env.add_user("alice");
    env.create_project(&alice, "demo", &[HOST_CHROOT]);
    let first = env.start_builder("doomed", 1);
    let srpm = srpm(
        env.dir.path(),
        "slow",
        "1.0",
        "echo slow build begins\nsleep 3",
    );
    let id = env.upload(&alice, "demo", &srpm, json!({}));
    env.wait_for(120, "the chroot task to run", || {
        env.chroot_state(id, HOST_CHROOT) == "running"
            && env
                .live_log(id, HOST_CHROOT)
                .is_some_and(|l| l.contains("slow build begins"))
    });
    env.kill9_builder(first);
    env.start_builder("survivor", 1);
    env.wait_for(120, "the build to finish", || env.finished(id));
    assert_eq!(env.state(id), "succeeded", "{}", env.server_log());
    let log = env.live_log(id, HOST_CHROOT).unwrap();
    assert!(
        log.contains("builder doomed stopped sending heartbeats"),
        "{log}"
    );
    assert!(
        env.builder_log("survivor")
            .contains(&format!("build {id} ({HOST_CHROOT}) started"))
    );
}

/// The server killed with -9 while builds run comes back on the same data: builders keep
/// their tasks (heartbeats and uploads are retried across the restart) and every build
/// reaches a final state, succeeded.
#[test]
fn server_killed_mid_build_loses_nothing() {
    let mut env = Env::new();
    let alice = env.add_user("alice");
    env.create_project(&alice, "demo", &[HOST_CHROOT]);
    env.start_builder("b1", 2);
    let srpms = env.dir.path().join("srpms");
    let mut ids = Vec::new();
    for n in 1..=4 {
        let srpm = srpm(&srpms, &format!("nap{n}"), "1.0", "sleep 2");
        ids.push(env.upload(&alice, "demo", &srpm, json!({})));
    }
    env.wait_for(120, "a chroot task to run", || {
        ids.iter()
            .any(|id| env.chroot_state(*id, HOST_CHROOT) == "running")
    });
    env.kill9_server();
    std::thread::sleep(Duration::from_millis(1500));
    env.restart_server();
    env.wait_for(300, "every build to finish", || {
        ids.iter().all(|id| env.finished(*id))
    });
    for id in &ids {
        assert_eq!(
            env.state(*id),
            "succeeded",
            "build {id}\n{}",
            env.server_log()
        );
    }
}

/// Cancelling a running build reaches its builder through the heartbeat answer: the whole
/// process tree of the build (background and setsid children included) is killed and the
/// chroot ends canceled. The live log is readable over HTTP while the build runs.
#[test]
fn cancel_kills_the_running_process_tree() {
    let mut env = Env::new();
    let alice = env.add_user("alice");
    env.create_project(&alice, "demo", &[HOST_CHROOT]);
    env.start_builder("b1", 1);
    let marker = format!("{}.{}", 900 + unique() % 97, unique());
    let script = format!(
        "sleep {marker} &\nsetsid sleep {marker} &\n( sleep {marker} & ) &\necho children started\nsleep {marker}"
    );
    let srpm = srpm(env.dir.path(), "sleeper", "1.0", &script);
    let id = env.upload(&alice, "demo", &srpm, json!({}));
    env.wait_for(120, "the build's children to start", || {
        env.live_log(id, HOST_CHROOT)
            .is_some_and(|l| l.contains("children started"))
            && processes_matching(&format!("sleep {marker}")).len() >= 3
    });
    assert_eq!(env.chroot_state(id, HOST_CHROOT), "running");
    let (s, v) = env.post(&alice, &format!("build/cancel/{id}"), json!({}));
    assert_eq!(s, 200, "{v}");
    env.wait_for(60, "the chroot to be canceled", || {
        env.chroot_state(id, HOST_CHROOT) == "canceled"
    });
    assert_eq!(env.state(id), "canceled");
    env.wait_for(30, "every sleep of the build to die", || {
        processes_matching(&format!("sleep {marker}")).is_empty()
    });
}

/// With one builder, owner A's 200 queued builds do not starve owner B's single build: B's
/// build starts before A's tenth.
#[test]
fn fair_share_lets_a_single_build_through_a_long_queue() {
    let mut env = Env::new();
    let a = env.add_user("ann");
    let b = env.add_user("bob");
    env.create_project(&a, "many", &[HOST_CHROOT]);
    env.create_project(&b, "one", &[HOST_CHROOT]);
    let srpm_a = srpm(&env.dir.path().join("a"), "tiny", "1.0", "true");
    let srpm_b = srpm(&env.dir.path().join("b"), "solo", "1.0", "true");
    // A first build gives A's SRPM a URL on the server; 200 builds of that URL queue up in
    // one request before any builder runs.
    let seed = env.upload(&a, "many", &srpm_a, json!({}));
    let (s, v) = env.get(&format!("build/{seed}"));
    assert_eq!(s, 200, "{v}");
    let upload_url = format!(
        "{}/tmp/{}/tiny-1.0-1.src.rpm",
        env.url,
        std::fs::read_dir(env.data.join("uploads"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .file_name()
            .to_string_lossy()
    );
    let urls: Vec<String> = vec![upload_url; 200];
    let (s, v) = env.post(
        &a,
        "build/create/url",
        json!({"ownername": "ann", "projectname": "many", "pkgs": urls}),
    );
    assert_eq!(s, 200, "{v}");
    let a_ids: Vec<i64> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_i64().unwrap())
        .collect();
    assert_eq!(a_ids.len(), 200);
    let b_id = env.upload(&b, "one", &srpm_b, json!({}));
    env.start_builder("only", 1);
    env.wait_for(180, "bob's build to start", || {
        !env.build(b_id)["started_on"].is_null()
    });
    let started_a = a_ids
        .iter()
        .filter(|id| !env.build(**id)["started_on"].is_null())
        .count();
    assert!(
        started_a < 10,
        "{started_a} of ann's queued builds started before bob's"
    );
    env.wait_for(180, "bob's build to finish", || env.finished(b_id));
    assert_eq!(env.state(b_id), "succeeded");
}

fn tarball(entries: &[(&str, &[u8], tar::EntryType)]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    {
        let mut t = tar::Builder::new(&mut gz);
        for (name, data, kind) in entries {
            let mut h = tar::Header::new_gnu();
            let raw = &mut h.as_old_mut().name;
            raw[..name.len()].copy_from_slice(name.as_bytes());
            h.set_entry_type(*kind);
            h.set_size(if *kind == tar::EntryType::Regular {
                data.len() as u64
            } else {
                0
            });
            if *kind == tar::EntryType::Symlink {
                h.set_link_name("/etc/passwd").unwrap();
            }
            h.set_mode(0o644);
            h.set_cksum();
            let body: &[u8] = if *kind == tar::EntryType::Regular {
                data
            } else {
                &[]
            };
            t.append(&h, body).unwrap();
        }
        t.finish().unwrap();
    }
    gz.write_all(b"").unwrap();
    gz.finish().unwrap()
}

/// The protocol: a waiting claim is woken by a new build, tokens and leases are checked
/// (401/403/409), live-log appends are idempotent by offset, and result archives with path
/// traversal or symlinks are refused.
#[test]
fn protocol_checks_tokens_leases_logs_and_archives() {
    let env = Env::new();
    let alice = env.add_user("alice");
    env.create_project(&alice, "demo", &[HOST_CHROOT]);
    let token = env.add_builder("manual");
    let other = env.add_builder("intruder");
    let base = format!("{}/builder-api/v1", env.url);
    let offer = json!({"arch": "x86_64", "chroots": [HOST_CHROOT], "backend": "sandbox"});
    let c = env.client.clone();
    let r = c
        .post(format!("{base}/claim"))
        .bearer_auth("wrong")
        .json(&offer)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = c
        .post(format!("{base}/register"))
        .bearer_auth(&token)
        .json(&offer)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let reg: Value = r.json().unwrap();
    assert_eq!(reg["chroots"], json!([HOST_CHROOT]));
    // A claim waiting before the build exists gets it (claim_wait is 20 s).
    let waiting = {
        let c = c.clone();
        let (base, token, offer) = (base.clone(), token.clone(), offer.clone());
        std::thread::spawn(move || {
            c.post(format!("{base}/claim"))
                .bearer_auth(&token)
                .json(&offer)
                .send()
                .unwrap()
        })
    };
    std::thread::sleep(Duration::from_millis(500));
    let srpm = srpm(env.dir.path(), "hello", "1.0", "true");
    let id = env.upload(&alice, "demo", &srpm, json!({}));
    let r = waiting.join().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let task: Value = r.json().unwrap();
    let task = &task["task"];
    assert_eq!(task["build_id"], id);
    assert!(task["chroot"].is_null());
    let lease = task["lease"].as_str().unwrap().to_string();
    assert_eq!(env.state(id), "starting");

    let post = |path: &str, tok: &str, lease: &str| {
        c.post(format!("{base}/task/{id}/{path}"))
            .bearer_auth(tok)
            .header("Copr-Lease", lease)
    };
    let r = post("heartbeat", &token, &lease).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.json::<Value>().unwrap()["cancel"], false);
    assert_eq!(env.state(id), "running");
    // Another builder naming this lease, or this builder with a made-up lease.
    assert_eq!(
        post("heartbeat", &other, &lease)
            .send()
            .unwrap()
            .status()
            .as_u16(),
        403
    );
    assert_eq!(
        post("heartbeat", &token, "manual#bogus")
            .send()
            .unwrap()
            .status()
            .as_u16(),
        409
    );
    // Log appends by offset: a retried chunk is written once.
    for (offset, body) in [
        (0, "line one\n"),
        (0, "line one\n"),
        (9, "line two\n"),
        (0, "line one\nline two\nline three\n"),
    ] {
        let r = post(&format!("log?offset={offset}"), &token, &lease)
            .body(body)
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
    let r = post("log?offset=500", &token, &lease)
        .body("x")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 409);
    assert_eq!(r.json::<Value>().unwrap()["length"], 29);
    let log = env
        .client
        .get(format!(
            "{}/results/alice/demo/srpm-builds/{id:08}/builder-live.log",
            env.url
        ))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(log, "line one\nline two\nline three\n");
    // Archives escaping the directory or holding links are refused.
    for bad in [
        tarball(&[("../evil", b"x", tar::EntryType::Regular)]),
        tarball(&[("sub/file", b"x", tar::EntryType::Regular)]),
        tarball(&[("link", b"", tar::EntryType::Symlink)]),
    ] {
        let r = post("result?state=succeeded", &token, &lease)
            .body(bad)
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 400, "{}", r.text().unwrap());
    }
    assert!(!env.data.join("results/alice/evil").exists());
    // A success without an SRPM fails the build with the reason.
    let empty = tarball(&[("notes.txt", b"nothing", tar::EntryType::Regular)]);
    let r = post("result?state=succeeded", &token, &lease)
        .body(empty.clone())
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.json::<Value>().unwrap()["state"], "failed");
    assert_eq!(env.state(id), "failed");
    // The lease has ended: a retry is acknowledged without change, heartbeats are refused.
    let r = post("result?state=succeeded", &token, &lease)
        .body(empty)
        .send()
        .unwrap();
    assert_eq!(r.json::<Value>().unwrap()["repeated"], true);
    assert_eq!(
        post("heartbeat", &token, &lease)
            .send()
            .unwrap()
            .status()
            .as_u16(),
        409
    );
}

/// A build's timeout is enforced: the builder kills the build when it expires and the chroot
/// fails with the reason; SIGTERM then lets the builder exit cleanly.
#[test]
fn timeout_fails_the_build_and_sigterm_stops_the_builder() {
    let mut env = Env::new();
    let alice = env.add_user("alice");
    env.create_project(&alice, "demo", &[HOST_CHROOT]);
    let b = env.start_builder("b1", 1);
    let marker = format!("{}.{}", 700 + unique() % 97, unique());
    let srpm = srpm(env.dir.path(), "endless", "1.0", &format!("sleep {marker}"));
    let id = env.upload(&alice, "demo", &srpm, json!({"timeout": 4}));
    let (s, job) = env.get(&format!("build/job-spec/{id}"));
    assert_eq!(s, 200, "{job}");
    assert_eq!(job["timeout"], 4);
    env.wait_for(120, "the build to finish", || env.finished(id));
    assert_eq!(env.state(id), "failed");
    assert!(processes_matching(&format!("sleep {marker}")).is_empty());
    let log = env.live_log(id, HOST_CHROOT).unwrap();
    assert!(log.contains("timed out"), "{log}");
    let status = env.stop_builder(b);
    assert!(status.success(), "{status}");
}

/// A task whose builder goes silent is re-queued when its heartbeats stop, at most
/// `max_attempts` (3) times; then the build fails with the reason in its log.
#[test]
fn silent_builders_get_bounded_retries() {
    let env = Env::new();
    let alice = env.add_user("alice");
    env.create_project(&alice, "demo", &[HOST_CHROOT]);
    let token = env.add_builder("ghost");
    let srpm = srpm(env.dir.path(), "hello", "1.0", "true");
    let id = env.upload(&alice, "demo", &srpm, json!({}));
    let offer = json!({"arch": "x86_64", "chroots": [HOST_CHROOT]});
    for attempt in 1..=3 {
        let r = env
            .client
            .post(format!("{}/builder-api/v1/claim", env.url))
            .bearer_auth(&token)
            .json(&offer)
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "attempt {attempt}");
        let task: Value = r.json().unwrap();
        assert_eq!(task["task"]["build_id"], id);
        assert_eq!(env.state(id), "starting");
        // No heartbeat: the sweeper takes the task back (or fails it the third time).
        let want = if attempt < 3 { "pending" } else { "failed" };
        env.wait_for(60, want, || env.state(id) == want);
    }
    let log = env
        .client
        .get(format!(
            "{}/results/alice/demo/srpm-builds/{id:08}/builder-live.log",
            env.url
        ))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(
        log.matches("stopped sending heartbeats").count(),
        2,
        "{log}"
    );
    assert!(log.contains("gave up after 3 attempts"), "{log}");
    assert_eq!(env.chroot_state(id, HOST_CHROOT), "failed");
}

/// Benchmark (run with `--run-ignored only`): submit → builder start latency with an idle
/// builder (median, p99), and tiny builds per minute on two builders. Prints, never asserts
/// on time.
#[test]
#[ignore]
fn bench_dispatch_latency_and_throughput() {
    let mut env = Env::new();
    let alice = env.add_user("alice");
    env.create_project(&alice, "demo", &[HOST_CHROOT]);
    let token = env.add_builder("probe");
    let srpm = srpm(env.dir.path(), "hello", "1.0", "true");
    let offer = json!({"arch": "x86_64", "chroots": [HOST_CHROOT]});
    let mut lat = Vec::new();
    for _ in 0..50 {
        let waiting = {
            let (c, url, token, offer) = (
                env.client.clone(),
                env.url.clone(),
                token.clone(),
                offer.clone(),
            );
            std::thread::spawn(move || {
                let r = c
                    .post(format!("{url}/builder-api/v1/claim"))
                    .bearer_auth(&token)
                    .json(&offer)
                    .send()
                    .unwrap();
                (std::time::Instant::now(), r.json::<Value>().unwrap())
            })
        };
        std::thread::sleep(Duration::from_millis(150));
        let t0 = std::time::Instant::now();
        let id = env.upload(&alice, "demo", &srpm, json!({}));
        let (t1, task) = waiting.join().unwrap();
        assert_eq!(task["task"]["build_id"], id);
        lat.push(t1.duration_since(t0));
        let lease = task["task"]["lease"].as_str().unwrap().to_string();
        env.client
            .post(format!(
                "{}/builder-api/v1/task/{id}/result?state=failed",
                env.url
            ))
            .bearer_auth(&token)
            .header("Copr-Lease", lease)
            .body(tarball(&[]))
            .send()
            .unwrap();
    }
    lat.sort();
    eprintln!(
        "submit → claim (upload request included): median {:?}, p99 {:?}, max {:?}",
        lat[lat.len() / 2],
        lat[lat.len() * 99 / 100],
        lat[lat.len() - 1]
    );
    env.start_builder("b1", 1);
    env.start_builder("b2", 1);
    let srpms = env.dir.path().join("many");
    let t0 = std::time::Instant::now();
    let ids: Vec<i64> = (1..=30)
        .map(|n| {
            let s = remote_e2e_support::srpm(&srpms, &format!("t{n}"), "1.0", "true");
            env.upload(&alice, "demo", &s, json!({}))
        })
        .collect();
    env.wait_for(600, "30 builds", || ids.iter().all(|id| env.finished(*id)));
    let secs = t0.elapsed().as_secs_f64();
    eprintln!(
        "30 tiny builds on 2 builders: {secs:.1} s, {:.1} builds/minute",
        30.0 * 60.0 / secs
    );
}

/// Tasks are matched by arch and tags: a builder gets only chroots of its arch, and chroots
/// the configuration reserves for a tag only when it has that tag.
#[test]
fn builders_get_chroots_of_their_arch_and_tags() {
    let env = Env::with_config("[builders.chroot_tags]\n\"fedora-*\" = [\"big\"]\n");
    let register = |name: &str, body: Value| {
        let token = env.add_builder(name);
        let r = env
            .client
            .post(format!("{}/builder-api/v1/register", env.url))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        r.json::<Value>().unwrap()["chroots"].clone()
    };
    let all = json!([HOST_CHROOT, OTHER_CHROOT, "fedora-42-aarch64"]);
    assert_eq!(
        register("small", json!({"arch": "x86_64", "chroots": all})),
        json!([HOST_CHROOT])
    );
    assert_eq!(
        register(
            "big",
            json!({"arch": "x86_64", "tags": ["big"], "chroots": all})
        ),
        json!([HOST_CHROOT, OTHER_CHROOT])
    );
    assert_eq!(
        register(
            "arm",
            json!({"arch": "aarch64", "tags": ["big"], "chroots": all})
        ),
        json!(["fedora-42-aarch64"])
    );
}

/// The same dispatch on PostgreSQL storage: two builders share ten builds over two chroots
/// and every one succeeds.
#[test]
fn builds_run_with_postgresql_storage() {
    let Some(db) = postgres_database() else {
        return;
    };
    let mut env = Env::with_top_config(&format!("database = \"{db}\""), "");
    let alice = env.add_user("alice");
    env.create_project(&alice, "demo", &[HOST_CHROOT, OTHER_CHROOT]);
    env.start_builder("b1", 1);
    env.start_builder("b2", 1);
    let srpms = env.dir.path().join("srpms");
    let ids: Vec<i64> = (1..=10)
        .map(|n| {
            let s = srpm(&srpms, &format!("pg{n}"), "1.0", "true");
            env.upload(&alice, "demo", &s, json!({}))
        })
        .collect();
    env.wait_for(300, "10 builds", || ids.iter().all(|id| env.finished(*id)));
    for id in &ids {
        assert_eq!(
            env.state(*id),
            "succeeded",
            "build {id}\n{}",
            env.server_log()
        );
    }
}

/// SIGTERM lets a running task go on (the builder takes no new work); a second SIGTERM kills
/// the build's process tree and hands the task back to the queue, and the builder exits.
#[test]
fn second_sigterm_hands_running_tasks_back() {
    let mut env = Env::new();
    let alice = env.add_user("alice");
    env.create_project(&alice, "demo", &[HOST_CHROOT]);
    let b = env.start_builder("b1", 1);
    let marker = format!("{}.{}", 500 + unique() % 97, unique());
    let srpm = srpm(
        env.dir.path(),
        "long",
        "1.0",
        &format!("echo long build\nsleep {marker}"),
    );
    let id = env.upload(&alice, "demo", &srpm, json!({}));
    env.wait_for(120, "the build to run", || {
        env.live_log(id, HOST_CHROOT)
            .is_some_and(|l| l.contains("long build"))
    });
    let pid = nix::unistd::Pid::from_raw(env.builder_pid(b) as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    env.wait_for(30, "the builder to acknowledge the stop", || {
        env.builder_log("b1").contains("stopping")
    });
    assert_eq!(env.chroot_state(id, HOST_CHROOT), "running");
    assert!(!processes_matching(&format!("sleep {marker}")).is_empty());
    let status = env.stop_builder(b);
    assert!(status.success(), "{status}");
    assert_eq!(env.chroot_state(id, HOST_CHROOT), "pending");
    assert!(env.builder_log("b1").contains("handed back"));
    env.wait_for(30, "the build's processes to die", || {
        processes_matching(&format!("sleep {marker}")).is_empty()
    });
    let log = env.live_log(id, HOST_CHROOT).unwrap();
    assert!(log.contains("handed"), "{log}");
}

/// Batches are honoured: a build submitted `after_build_id` another starts only when that
/// one has finished, even with a free builder slot.
#[test]
fn builds_after_another_wait_for_it() {
    let mut env = Env::new();
    let alice = env.add_user("alice");
    env.create_project(&alice, "demo", &[HOST_CHROOT]);
    let first = srpm(env.dir.path(), "first", "1.0", "sleep 3");
    let second = srpm(env.dir.path(), "second", "1.0", "true");
    let a = env.upload(&alice, "demo", &first, json!({}));
    let b = env.upload(&alice, "demo", &second, json!({"after_build_id": a}));
    env.start_builder("b1", 2);
    env.wait_for(180, "both builds", || env.finished(a) && env.finished(b));
    assert_eq!(env.state(a), "succeeded");
    assert_eq!(env.state(b), "succeeded");
    let ended_a = env.build(a)["ended_on"].as_i64().unwrap();
    let started_b = env.build(b)["started_on"].as_i64().unwrap();
    assert!(
        started_b >= ended_a,
        "build {b} started at {started_b}, before build {a} ended at {ended_a}"
    );
}

/// Background builds go last: a foreground build submitted after a background one of the same
/// owner is built first.
#[test]
fn background_builds_go_last() {
    let mut env = Env::new();
    let alice = env.add_user("alice");
    env.create_project(&alice, "demo", &[HOST_CHROOT]);
    let bg_srpm = srpm(env.dir.path(), "later", "1.0", "true");
    let fg_srpm = srpm(env.dir.path(), "sooner", "1.0", "true");
    let bg = env.upload(&alice, "demo", &bg_srpm, json!({"background": true}));
    let fg = env.upload(&alice, "demo", &fg_srpm, json!({}));
    assert_eq!(env.build(bg)["is_background"], true);
    env.start_builder("b1", 1);
    env.wait_for(120, "both builds", || env.finished(bg) && env.finished(fg));
    let log = env.builder_log("b1");
    let pos = |id: i64| log.find(&format!("build {id} (source) started")).unwrap();
    assert!(pos(fg) < pos(bg), "{log}");
}

/// BuildRequires are resolved from the project's published repository over http: a package
/// needing another one of the project fails before that one is published and builds after.
#[test]
fn build_requires_come_from_the_published_project_repo() {
    let mut env = Env::new();
    let alice = env.add_user("alice");
    env.create_project(&alice, "demo", &[HOST_CHROOT]);
    env.start_builder("b1", 1);
    let dir = env.dir.path().join("needs");
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("needy.spec");
    std::fs::write(
        &spec,
        "Name: needy\nVersion: 1.0\nRelease: 1\nSummary: n\nLicense: MIT\nBuildArch: noarch\n\
         BuildRequires: provider\n%description\nn\n%install\nmkdir -p %{buildroot}/usr/share/needy\n\
         touch %{buildroot}/usr/share/needy/x\n%files\n/usr/share/needy/x\n",
    )
    .unwrap();
    let out = Command::new("rpmbuild")
        .args(["-bs", "--define"])
        .arg(format!("_topdir {}", dir.join("rb").display()))
        .arg("--define")
        .arg(format!("_srcrpmdir {}", dir.display()))
        .arg(&spec)
        .output()
        .unwrap();
    assert!(out.status.success());
    let needy = dir.join("needy-1.0-1.src.rpm");
    let early = env.upload(&alice, "demo", &needy, json!({}));
    env.wait_for(120, "the early build", || env.finished(early));
    assert_eq!(env.state(early), "failed");
    let provider = srpm(env.dir.path(), "provider", "1.0", "true");
    let p = env.upload(&alice, "demo", &provider, json!({}));
    env.wait_for(120, "the provider", || env.finished(p));
    assert_eq!(env.state(p), "succeeded");
    let late = env.upload(&alice, "demo", &needy, json!({}));
    env.wait_for(120, "the late build", || env.finished(late));
    assert_eq!(
        env.state(late),
        "succeeded",
        "{}",
        env.live_log(late, HOST_CHROOT).unwrap_or_default()
    );
    let (_, job) = env.get(&format!("build/job-spec/{late}?chroot={HOST_CHROOT}"));
    assert_eq!(
        job["repos"],
        json!([format!("{}/results/alice/demo/{HOST_CHROOT}/", env.url)])
    );
}
