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
