//! Publishing on the build service, driven through the library (an `AppState` of a running
//! server and result directories holding RPMs built at test time), checked with rpmkeys, dnf
//! and the server's own `.repo` files.

mod server_publish_support;

use std::process::Command;

use copr::server::model::State;
use copr::server::publish::PublishRequest;
use server_publish_support::*;

/// Eight builds enqueued together are published by one or two createrepo runs (the first job
/// starts at once, the rest wait and go together), all packages end up in the repository and
/// every chroot task becomes succeeded.
#[test]
fn builds_finishing_together_are_coalesced() {
    let env = Env::new("");
    let builds: Vec<_> = (0..8)
        .map(|i| env.build_with_results(&format!("pkg{i}"), "1.0", CHROOT))
        .collect();
    for b in &builds {
        assert_eq!(env.chroot_state(b, CHROOT), State::Running);
    }
    let tickets: Vec<_> = builds.iter().map(|b| env.enqueue(b, CHROOT)).collect();
    for t in tickets {
        env.wait(t).unwrap();
    }
    let stats = env.state.publisher.stats();
    assert!(
        (1..=2).contains(&stats.createrepo_runs),
        "8 builds took {} createrepo runs",
        stats.createrepo_runs
    );
    assert_eq!(stats.builds_published, 8);
    for b in &builds {
        assert_eq!(env.chroot_state(b, CHROOT), State::Succeeded);
    }
    let names = repoquery(&env.dir.path().join("cache"), &env.chroot_dir(CHROOT));
    let expected: Vec<String> = (0..8).map(|i| format!("pkg{i}-1.0")).collect();
    assert_eq!(names, expected);
    assert!(
        !env.dir.path().join("data/publish-queue").exists()
            || std::fs::read_dir(env.dir.path().join("data/publish-queue"))
                .unwrap()
                .next()
                .is_none(),
        "journal entries left after publishing"
    );
}

/// Published RPMs and SRPMs carry the project key's signature (rpmkeys --checksig with only
/// pubkey.gpg imported), and dnf installs from the repository through the server's own
/// `.repo` file with gpgcheck=1 and repo_gpgcheck=1.
#[test]
fn published_repository_is_signed_and_installable_with_dnf() {
    let env = Env::new("");
    let b = env.build_with_results("hello", "2.0", CHROOT);
    let dir = env.build_dir(&b, CHROOT);
    let rpm = dir.join("hello-2.0-1.noarch.rpm");
    let srpm = env
        .state
        .results_dir
        .join(OWNER)
        .join(PROJECT)
        .join("srpm-builds")
        .join(format!("{:08}", b.id))
        .join("hello-2.0-1.src.rpm");
    // Unsigned before publishing: the check is not vacuous.
    assert!(!text(&checksig(&env.pubkey(), &rpm)).contains("Signature"));
    env.wait(env.enqueue(&b, CHROOT)).unwrap();
    for p in [&rpm, &dir.join("hello-2.0-1.src.rpm"), &srpm] {
        let o = checksig(&env.pubkey(), p);
        assert!(o.status.success(), "{}: {}", p.display(), text(&o));
        assert!(
            text(&o).contains("Header V4 RSA/SHA256 Signature"),
            "{}",
            text(&o)
        );
    }
    assert!(
        env.chroot_dir(CHROOT)
            .join("repodata/repomd.xml.asc")
            .is_file()
    );

    let repo_url = format!("{}/coprs/{OWNER}/{PROJECT}/repo/host/dnf.repo", env.url);
    let body = reqwest::blocking::get(&repo_url).unwrap();
    assert!(body.status().is_success());
    let repo_file = body.text().unwrap();
    assert!(
        repo_file.contains("gpgcheck=1") && repo_file.contains("repo_gpgcheck=1"),
        "{repo_file}"
    );
    let reposdir = env.dir.path().join("repos");
    std::fs::create_dir(&reposdir).unwrap();
    std::fs::write(reposdir.join("demo.repo"), &repo_file).unwrap();
    let root = env.dir.path().join("root");
    let o = run(Command::new("dnf")
        .args(["-y", "--releasever=12", "--setopt=metadata_expire=0"])
        .arg(format!(
            "--setopt=cachedir={}",
            env.dir.path().join("dnfcache").display()
        ))
        .arg(format!("--setopt=reposdir={}", reposdir.display()))
        .arg(format!("--installroot={}", root.display()))
        .args(["--setopt=gpgcheck=1", "install", "hello"]));
    assert!(o.status.success(), "dnf install: {}", text(&o));
    assert_eq!(
        std::fs::read_to_string(root.join("usr/share/hello/version")).unwrap(),
        "2.0\n"
    );
}

/// With `keep_builds = 1`, a new successful build of a package removes the older successful
/// build and old failed builds of that package (not other packages, not the logs of the new
/// one); a project with auto_prune off keeps everything.
#[test]
fn pruning_keeps_the_latest_successful_build_per_package() {
    let env = Env::new("keep_builds = 1\nkeep_failed_days = 0");
    let old = env.build_with_results("foo", "1.0", CHROOT);
    env.wait(env.enqueue(&old, CHROOT)).unwrap();
    let other = env.build_with_results("bar", "1.0", CHROOT);
    env.wait(env.enqueue(&other, CHROOT)).unwrap();
    let failed = env.new_build("foo", &[CHROOT]);
    std::fs::create_dir_all(env.build_dir(&failed, CHROOT)).unwrap();
    std::fs::write(
        env.build_dir(&failed, CHROOT).join("builder-live.log"),
        "error\n",
    )
    .unwrap();
    env.rt
        .block_on(
            env.state
                .store
                .set_chroot_state(failed.id, CHROOT, State::Failed, None),
        )
        .unwrap();
    assert_eq!(
        repoquery(&env.dir.path().join("c1"), &env.chroot_dir(CHROOT)),
        ["bar-1.0", "foo-1.0"]
    );

    let new = env.build_with_results("foo", "2.0", CHROOT);
    env.wait(env.enqueue(&new, CHROOT)).unwrap();
    assert!(
        !env.build_dir(&old, CHROOT).exists(),
        "old successful build kept"
    );
    assert!(
        !env.build_dir(&failed, CHROOT).exists(),
        "old failed build kept"
    );
    assert!(
        env.build_dir(&new, CHROOT)
            .join("builder-live.log")
            .is_file()
    );
    assert!(env.build_dir(&other, CHROOT).is_dir());
    assert_eq!(env.state.publisher.stats().pruned, 2);
    assert_eq!(
        repoquery(&env.dir.path().join("c2"), &env.chroot_dir(CHROOT)),
        ["bar-1.0", "foo-2.0"]
    );

    // auto_prune off: nothing goes.
    let mut settings = env.project.settings.clone();
    settings.auto_prune = false;
    env.rt
        .block_on(
            env.state
                .store
                .update_project_settings(env.project.id, &settings),
        )
        .unwrap();
    let newer = env.build_with_results("foo", "3.0", CHROOT);
    env.wait(env.enqueue(&newer, CHROOT)).unwrap();
    assert!(env.build_dir(&new, CHROOT).is_dir());
    assert_eq!(
        repoquery(&env.dir.path().join("c3"), &env.chroot_dir(CHROOT)),
        ["bar-1.0", "foo-2.0", "foo-3.0"]
    );
}

/// A server that died after accepting a result (its journal entry written, nothing published,
/// a half-written metadata file left in repodata/) publishes it when it starts again: the
/// build becomes succeeded, the repository holds it, signed, and the journal is empty.
#[test]
fn accepted_results_are_published_after_a_crash() {
    let env = Env::new("");
    let first = env.build_with_results("before", "1.0", CHROOT);
    env.wait(env.enqueue(&first, CHROOT)).unwrap();
    let b = env.build_with_results("after", "1.0", CHROOT);
    // What enqueue leaves behind when the process is killed before the job runs.
    let queue = data_dir(env.dir.path()).join("publish-queue");
    std::fs::create_dir_all(&queue).unwrap();
    let req = PublishRequest::for_build(&b, CHROOT);
    std::fs::write(
        queue.join(format!("{}-{CHROOT}.json", b.id)),
        serde_json::to_vec(&req).unwrap(),
    )
    .unwrap();
    std::fs::write(
        env.chroot_dir(CHROOT).join("repodata/0123-primary.xml.gz"),
        b"\x1f\x8b half",
    )
    .unwrap();
    let dir = env.shutdown();

    let env = Env::start(dir, "");
    env.rt.block_on(env.state.publisher.idle());
    assert_eq!(env.chroot_state(&b, CHROOT), State::Succeeded);
    assert_eq!(
        repoquery(&env.dir.path().join("cache"), &env.chroot_dir(CHROOT)),
        ["after-1.0", "before-1.0"]
    );
    let rpm = env.build_dir(&b, CHROOT).join("after-1.0-1.noarch.rpm");
    assert!(checksig(&env.pubkey(), &rpm).status.success());
    assert_eq!(std::fs::read_dir(&queue).unwrap().count(), 0);
}

/// A build whose package cannot be read fails with the reason, its RPM removed and its log
/// kept, while a good build published in the same job succeeds.
#[test]
fn a_corrupt_package_fails_its_build_only() {
    let env = Env::new("");
    let good = env.build_with_results("good", "1.0", CHROOT);
    let bad = env.new_build("bad", &[CHROOT]);
    let bad_dir = env.build_dir(&bad, CHROOT);
    std::fs::create_dir_all(&bad_dir).unwrap();
    std::fs::write(bad_dir.join("bad-1.0-1.noarch.rpm"), b"not an rpm").unwrap();
    std::fs::write(bad_dir.join("builder-live.log"), "log\n").unwrap();
    let t1 = env.enqueue(&bad, CHROOT);
    let t2 = env.enqueue(&good, CHROOT);
    let e = env.wait(t1).unwrap_err();
    assert!(e.to_string().contains("bad-1.0-1.noarch.rpm"), "{e}");
    env.wait(t2).unwrap();
    assert_eq!(env.chroot_state(&bad, CHROOT), State::Failed);
    assert_eq!(env.chroot_state(&good, CHROOT), State::Succeeded);
    let reason = env
        .rt
        .block_on(env.state.store.get_build(bad.id))
        .unwrap()
        .unwrap()
        .chroots[0]
        .status_reason
        .clone()
        .unwrap_or_default();
    assert!(reason.contains("publishing failed"), "{reason}");
    assert!(bad_dir.join("builder-live.log").is_file());
    assert!(!bad_dir.join("bad-1.0-1.noarch.rpm").exists());
    assert_eq!(
        repoquery(&env.dir.path().join("cache"), &env.chroot_dir(CHROOT)),
        ["good-1.0"]
    );
}

/// `PUT /api_3/project/regenerate-repos/OWNER/PROJECT` (as copr-cli sends it) rebuilds every
/// chroot repository: packages dropped in unsigned get signed, lost repodata is rewritten, and
/// an enabled chroot without results gets an empty repository.
#[test]
fn regenerate_repos_rebuilds_every_chroot() {
    let env = Env::new("");
    let b = env.build_with_results("regen", "1.0", CHROOT);
    env.wait(env.enqueue(&b, CHROOT)).unwrap();
    env.rt
        .block_on(env.state.store.set_project_chroots(
            env.project.id,
            &[CHROOT.to_string(), "fedora-42-x86_64".to_string()],
        ))
        .unwrap();
    std::fs::remove_dir_all(env.chroot_dir(CHROOT).join("repodata")).unwrap();
    let extra = env.chroot_dir(CHROOT).join("manual");
    let (rpm, _) = build_rpm(&extra, "manual", "1.0");
    let resp = reqwest::blocking::Client::new()
        .put(format!(
            "{}/api_3/project/regenerate-repos/{OWNER}/{PROJECT}",
            env.url
        ))
        .basic_auth(&env.admin_login, Some(&env.admin_token))
        .json(&serde_json::json!({}))
        .send()
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.text().unwrap());
    env.rt.block_on(env.state.publisher.idle());
    assert!(checksig(&env.pubkey(), &rpm).status.success());
    assert_eq!(
        repoquery(&env.dir.path().join("c1"), &env.chroot_dir(CHROOT)),
        ["manual-1.0", "regen-1.0"]
    );
    let fedora = env.chroot_dir("fedora-42-x86_64");
    assert!(fedora.join("repodata/repomd.xml.asc").is_file());
    assert!(repoquery(&env.dir.path().join("c2"), &fedora).is_empty());
}

/// Benchmark (run with `--run-ignored only`): build end → repository published for a chroot
/// of 10,000 packages; prints the median and worst of several single-build publications.
#[test]
#[ignore]
fn bench_publish_latency_10k_packages() {
    let env = Env::new("");
    let count: u32 = std::env::var("BENCH_PACKAGES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let base = env.chroot_dir(CHROOT).join("00000001-base");
    let t = std::time::Instant::now();
    copr::repo::bench::small_set(&base, count).unwrap();
    eprintln!("generated {count} packages in {:.1?}", t.elapsed());
    let t = std::time::Instant::now();
    let repo = copr::server::publish::Repo {
        project_id: env.project.id,
        owner: OWNER.into(),
        project: PROJECT.into(),
        dirname: PROJECT.into(),
        chroot: CHROOT.into(),
    };
    let ticket = {
        let _g = env.rt.enter();
        env.state.publisher.regenerate(repo)
    };
    env.wait(ticket).unwrap();
    eprintln!(
        "cold publication (sign all, createrepo) {:.1?}",
        t.elapsed()
    );
    let mut times = Vec::new();
    for i in 0..7 {
        let b = env.new_build(&format!("new{i}"), &[CHROOT]);
        let dir = env.build_dir(&b, CHROOT);
        std::fs::create_dir_all(&dir).unwrap();
        copr::repo::bench::small_package(&dir, 100_000 + i, 2048).unwrap();
        let t = std::time::Instant::now();
        env.wait(env.enqueue(&b, CHROOT)).unwrap();
        times.push(t.elapsed().as_secs_f64());
        assert_eq!(env.chroot_state(&b, CHROOT), State::Succeeded);
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    eprintln!(
        "build end -> published ({count} packages): median {:.3}s, max {:.3}s",
        times[times.len() / 2],
        times[times.len() - 1]
    );
    let primary =
        std::fs::read_to_string(env.chroot_dir(CHROOT).join("repodata/repomd.xml")).unwrap();
    assert!(primary.contains("primary"));
}
