//! Integration tests of `copr build` and `copr srpm`: every source kind, SRPM methods, results
//! layout checked with `rpm -qp`, network isolation, BuildRequires on earlier builds, bad input.

mod build_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use build_support::*;
use predicates::prelude::*;
use predicates::str::contains;

fn json_of(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", String::from_utf8_lossy(out)))
}

/// Assert that nothing but the result directory changed under the test's temp root.
fn assert_nothing_outside(sb: &Sandbox, before: &std::collections::BTreeSet<PathBuf>) {
    let after = sb.files_outside_results();
    let new: Vec<_> = after.difference(before).collect();
    assert!(new.is_empty(), "written outside the result dir: {new:?}");
}

/// `--dry-run` prints the resolved job spec: copr.toml defaults, flags winning over them, and the
/// printed TOML runs unchanged through `--job`.
#[test]
fn dry_run_resolves_copr_toml_and_flags() {
    let sb = Sandbox::new();
    let pkg = sb.copy_fixture("two-specs");
    std::fs::write(
        pkg.join("copr.toml"),
        "spec = \"two.spec\"\nchroots = [\"host-x86_64\", \"host-aarch64\"]\ntimeout = 600\n[macros]\ndist = \".test\"\n",
    )
    .unwrap();
    let out = sb
        .copr()
        .args([
            "build",
            "--dry-run",
            "--timeout",
            "900",
            "--define",
            "vendor ACME",
        ])
        .arg(&pkg)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let job: toml::Value = toml::from_str(&text).unwrap();
    assert_eq!(job["version"].as_integer(), Some(1));
    assert_eq!(job["source"]["type"].as_str(), Some("dir"));
    assert_eq!(job["source"]["spec"].as_str(), Some("two.spec"));
    assert_eq!(job["chroots"].as_array().unwrap().len(), 2);
    assert_eq!(
        job["timeout"].as_integer(),
        Some(900),
        "flag wins over copr.toml"
    );
    assert_eq!(job["macros"]["dist"].as_str(), Some(".test"));
    assert_eq!(job["macros"]["vendor"].as_str(), Some("ACME"));
    assert_eq!(job["method"].as_str(), Some("rpmbuild"));

    let file = sb.root().join("job.toml");
    std::fs::write(&file, &text).unwrap();
    let again = sb
        .copr()
        .args(["build", "--dry-run", "--output", "json", "--job"])
        .arg(&file)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let json = json_of(&again);
    assert_eq!(json["source"]["spec"], "two.spec");
    assert_eq!(json["timeout"], 900);
    // The JSON form (the wire format) is accepted as a job file too.
    let json_file = sb.root().join("job.json");
    std::fs::write(&json_file, &again).unwrap();
    let third = sb
        .copr()
        .args(["build", "--dry-run", "--job"])
        .arg(&json_file)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(String::from_utf8(third).unwrap(), text);
    assert!(!sb.results().exists(), "a dry run writes nothing");
}

/// A job spec with an unknown field is rejected with the field's name (no silent typos).
#[test]
fn job_spec_rejects_unknown_fields() {
    let sb = Sandbox::new();
    let file = sb.root().join("job.toml");
    std::fs::write(
        &file,
        "version = 1\nchroots = [\"host-x86_64\"]\nenable_network = true\n[source]\ntype = \"dir\"\npath = \"/tmp\"\n",
    )
    .unwrap();
    sb.copr()
        .args(["build", "--job"])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(contains("enable_network"));
}

/// A noarch package with subpackages: SRPM and three noarch RPMs in Copr's layout, results.json
/// matching `rpm -qp`, an 8-digit build id, and no scratch space left behind.
#[test]
fn builds_noarch_package_with_subpackages() {
    let sb = Sandbox::new();
    let pkg = sb.copy_fixture("noarch-multi");
    let before = sb.files_outside_results();
    sb.copr().arg("build").arg(&pkg).assert().success();
    assert_nothing_outside(&sb, &before);
    let results = sb.results();
    let dir = only_build_dir(&results, &host_chroot());
    assert_eq!(
        dir.file_name().unwrap().to_string_lossy(),
        "00000001-noarch-multi"
    );
    let nevras = check_build_dir(&dir);
    assert_eq!(
        nevras,
        vec![
            "noarch-multi-2:3.1-4.noarch",
            "noarch-multi-2:3.1-4.src",
            "noarch-multi-data-2:3.1-4.noarch",
            "python3-noarch-multi-2:3.1-4.noarch",
        ]
    );
    let srpm_dir = results.join("srpm-builds/00000001");
    assert!(srpm_dir.join("success").is_file());
    assert!(srpm_dir.join("builder-live.log").is_file());
    assert_eq!(
        nevra(&srpm_dir.join("noarch-multi-3.1-4.src.rpm")),
        "noarch-multi-2:3.1-4.src"
    );
    let srpm_results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(srpm_dir.join("results.json")).unwrap()).unwrap();
    assert_eq!(srpm_results["name"], "noarch-multi");
    assert_eq!(srpm_results["epoch"], 2);
    assert!(!results.join(".work").exists(), "scratch space removed");
}

/// The bundled example compiles a C program, runs its %check and splits a noarch doc
/// subpackage; `--output json` reports every package with its path.
#[test]
fn builds_example_c_program_with_json_output() {
    let sb = Sandbox::new();
    let output = sb
        .copr()
        .args(["build", "--output", "json"])
        .arg(example("hello"))
        .assert()
        .success()
        .get_output()
        .clone();
    let report = json_of(&output.stdout);
    assert_eq!(report["state"], "succeeded");
    // Progress is JSON lines on stderr.
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stderr)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(
        events.iter().any(|e| e["event"] == "stage_finished"
            && e["stage"] == host_chroot()
            && e["ok"] == true)
    );
    assert_eq!(report["package"], "hello");
    let chroot = &report["chroots"][0];
    assert_eq!(chroot["chroot"], host_chroot());
    assert_eq!(chroot["state"], "succeeded");
    let arch = std::env::consts::ARCH;
    let mut names: Vec<String> = chroot["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let path = Path::new(p["path"].as_str().unwrap());
            assert_eq!(nevra(path).split('.').next_back().unwrap(), p["arch"]);
            nevra(path)
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "hello-1.0-1.src".to_string(),
            format!("hello-1.0-1.{arch}"),
            "hello-doc-1.0-1.noarch".to_string(),
        ]
    );
    let dir = PathBuf::from(chroot["dir"].as_str().unwrap());
    check_build_dir(&dir);
    let files = std::process::Command::new("rpm")
        .args(["-qlp", "--nosignature"])
        .arg(dir.join(format!("hello-1.0-1.{arch}.rpm")))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&files.stdout).contains("/usr/bin/hello"));
    let log = std::fs::read_to_string(dir.join("builder-live.log")).unwrap();
    assert!(
        log.contains("%check") || log.contains("Executing(%check)"),
        "ran %check"
    );
}

/// ExclusiveArch that leaves out this machine: the chroot is `skipped` with the reason, the
/// build as a whole succeeds and no binary build directory is made.
#[test]
fn exclusive_arch_skips_the_chroot() {
    let arch = std::env::consts::ARCH;
    assert!(
        arch != "s390x" && arch != "powerpc64",
        "the fixture's ExclusiveArch must exclude this machine"
    );
    let sb = Sandbox::new();
    let out = sb
        .copr()
        .args(["build", "--output", "json"])
        .arg(fixture("exclusive"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report = json_of(&out);
    assert_eq!(
        report["state"], "skipped",
        "every chroot skipped, as Copr derives it"
    );
    let chroot = &report["chroots"][0];
    assert_eq!(chroot["state"], "skipped");
    let reason = chroot["reason"].as_str().unwrap();
    assert!(
        reason.contains("ExclusiveArch") && reason.contains(arch),
        "{reason}"
    );
    assert!(!sb.results().join(host_chroot()).exists());
    assert!(sb.results().join("srpm-builds/00000001/success").is_file());
}

/// A spec with a syntax error fails the SRPM build with rpm's own error line, the log path and
/// copr-cli's failed-build exit code 4.
#[test]
fn spec_syntax_error_fails_clearly() {
    let sb = Sandbox::new();
    sb.copr()
        .arg("build")
        .arg(fixture("syntax-error"))
        .assert()
        .code(4)
        .stderr(contains("Unclosed %if"))
        .stderr(contains("srpm-builds/00000001/builder-live.log"));
    assert!(!sb.results().join("srpm-builds/00000001/success").exists());
}

/// The buildroot has no network unless `--enable-net`: a %build that connects to a loopback
/// listener fails without it (the listener sees nothing) and succeeds with it.
#[test]
fn network_only_with_enable_net() {
    let listener = CountingListener::start();
    let sb = Sandbox::new();
    let pkg = sb.root().join("network");
    std::fs::create_dir_all(&pkg).unwrap();
    let spec = std::fs::read_to_string(fixture("network/network.spec.in"))
        .unwrap()
        .replace("@PORT@", &listener.port.to_string());
    std::fs::write(pkg.join("network.spec"), spec).unwrap();

    sb.copr().arg("build").arg(&pkg).assert().code(4);
    assert_eq!(listener.hits(), 0, "no connection without --enable-net");

    sb.copr()
        .args(["build", "--enable-net"])
        .arg(&pkg)
        .assert()
        .success();
    assert!(listener.hits() >= 1, "connected with --enable-net");
    let dir = sb.results().join(host_chroot()).join("00000002-network");
    assert_eq!(
        check_build_dir(&dir),
        vec!["network-1-1.noarch", "network-1-1.src"]
    );
}

fn two_commit_repo(sb: &Sandbox) -> (PathBuf, String) {
    let repo = sb.root().join("repo");
    let pkg = repo.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    let spec = std::fs::read_to_string(fixture("noarch-multi/noarch-multi.spec")).unwrap();
    std::fs::write(pkg.join("noarch-multi.spec"), &spec).unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "3.1"]);
    let old = git(&repo, &["rev-parse", "HEAD"]);
    git(&repo, &["tag", "v3.1"]);
    std::fs::write(
        pkg.join("noarch-multi.spec"),
        spec.replace("Version:        3.1", "Version:        3.2"),
    )
    .unwrap();
    git(&repo, &["commit", "-q", "-am", "3.2"]);
    (repo, old)
}

/// A git repository with two commits: building the older commit (by sha, in a subdirectory)
/// gives the older version; the default branch gives the newer one.
#[test]
fn git_source_builds_the_requested_committish() {
    let sb = Sandbox::new();
    let (repo, old) = two_commit_repo(&sb);
    let before = sb.files_outside_results();
    let out = sb
        .copr()
        .args([
            "build",
            "--output",
            "json",
            "--subdir",
            "pkg",
            "--committish",
        ])
        .arg(&old)
        .arg(&repo)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_nothing_outside(&sb, &before);
    let report = json_of(&out);
    assert_eq!(report["srpm"]["srpm"]["version"], "3.1");
    let dir = only_build_dir(&sb.results(), &host_chroot());
    assert!(check_build_dir(&dir).contains(&"noarch-multi-2:3.1-4.noarch".to_string()));

    let out = sb
        .copr()
        .args(["srpm", "--git", "--subdir", "pkg", "--outdir"])
        .arg(sb.root().join("srpm-out"))
        .arg(&repo)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let srpm = PathBuf::from(String::from_utf8(out).unwrap().trim());
    assert_eq!(nevra(&srpm), "noarch-multi-2:3.2-4.src");
}

/// An unknown committish is a clear error naming it, and nothing is written outside the
/// result directory.
#[test]
fn unknown_committish_is_a_clear_error() {
    let sb = Sandbox::new();
    let (repo, _) = two_commit_repo(&sb);
    let before = sb.files_outside_results();
    sb.copr()
        .args(["build", "--subdir", "pkg", "--committish", "no-such-branch"])
        .arg(&repo)
        .assert()
        .code(2)
        .stderr(contains("`no-such-branch` is not a branch, tag or commit"));
    assert_nothing_outside(&sb, &before);
    assert!(!sb.results().join("srpm-builds").exists());
}

/// An SRPM and a spec served over HTTP by a loopback server both build; `rpm -qp` agrees with
/// results.json.
#[test]
fn http_srpm_and_spec_urls_build() {
    let sb = Sandbox::new();
    let srpm = rpmbuild_srpm(
        &fixture("noarch-multi/noarch-multi.spec"),
        &fixture("noarch-multi"),
        sb.root(),
    );
    let mut files = BTreeMap::new();
    files.insert(
        "/pkgs/noarch-multi-3.1-4.src.rpm".to_string(),
        std::fs::read(&srpm).unwrap(),
    );
    files.insert(
        "/specs/exclusive.spec".to_string(),
        std::fs::read(fixture("exclusive/exclusive.spec")).unwrap(),
    );
    let spec = std::fs::read_to_string(fixture("noarch-multi/noarch-multi.spec"))
        .unwrap()
        .replace("Release:        4", "Release:        5");
    files.insert("/specs/noarch-multi.spec".to_string(), spec.into_bytes());
    let server = HttpServer::start(files);
    sb.copr()
        .arg("build")
        .arg(server.url("/pkgs/noarch-multi-3.1-4.src.rpm"))
        .assert()
        .success();
    let dir = only_build_dir(&sb.results(), &host_chroot());
    assert_eq!(check_build_dir(&dir).len(), 4);

    sb.copr()
        .arg("build")
        .arg(server.url("/specs/noarch-multi.spec"))
        .assert()
        .success();
    let dir = sb
        .results()
        .join(host_chroot())
        .join("00000002-noarch-multi");
    assert!(check_build_dir(&dir).contains(&"noarch-multi-2:3.1-5.src".to_string()));

    let out = sb
        .copr()
        .args(["srpm", "--output", "json", "--outdir"])
        .arg(sb.root().join("from-spec"))
        .arg(server.url("/specs/exclusive.spec"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report = json_of(&out);
    let path = PathBuf::from(report["srpm"]["path"].as_str().unwrap());
    assert_eq!(nevra(&path), "exclusive-1-1.src");
}

/// A 404 URL and a URL whose content is not an RPM are clear errors with a non-zero exit, and
/// leave nothing behind.
#[test]
fn http_errors_are_clear() {
    let sb = Sandbox::new();
    let mut files = BTreeMap::new();
    files.insert("/fake.src.rpm".to_string(), b"<html>login</html>".to_vec());
    let server = HttpServer::start(files);
    let before = sb.files_outside_results();
    sb.copr()
        .arg("build")
        .arg(server.url("/missing.src.rpm"))
        .assert()
        .code(1)
        .stderr(contains("404"))
        .stderr(contains("/missing.src.rpm"));
    sb.copr()
        .arg("build")
        .arg(server.url("/fake.src.rpm"))
        .assert()
        .code(2)
        .stderr(contains("not start with the RPM lead magic"));
    assert_nothing_outside(&sb, &before);
    assert!(!sb.results().exists(), "no result dir made for bad input");
}

/// Bad local input — missing spec, two specs without --spec, a broken SRPM, a missing path —
/// gives a clear error, a non-zero exit, and nothing written anywhere.
#[test]
fn bad_local_input_is_a_clear_error() {
    let sb = Sandbox::new();
    let empty = sb.root().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let broken = sb.root().join("broken-1-1.src.rpm");
    std::fs::write(&broken, b"this is not an rpm").unwrap();
    let truncated = sb.root().join("truncated-1-1.src.rpm");
    let mut bytes = build_support::RPM_LEAD_PREFIX.to_vec();
    bytes.extend_from_slice(&[0u8; 50]);
    std::fs::write(&truncated, bytes).unwrap();
    let two = sb.copy_fixture("two-specs");
    let before = sb.files_outside_results();

    sb.copr()
        .arg("build")
        .arg(&empty)
        .assert()
        .code(2)
        .stderr(contains("no .spec file in"))
        .stderr(contains("hint:"));
    sb.copr()
        .arg("build")
        .arg(&two)
        .assert()
        .code(2)
        .stderr(contains("one.spec, two.spec"))
        .stderr(contains("--spec"));
    sb.copr()
        .arg("build")
        .arg(&broken)
        .assert()
        .code(2)
        .stderr(contains("broken-1-1.src.rpm"))
        .stderr(contains("not an RPM"));
    sb.copr()
        .arg("build")
        .arg(&truncated)
        .assert()
        .code(2)
        .stderr(contains("truncated-1-1.src.rpm is not a usable RPM"));
    sb.copr()
        .arg("build")
        .arg(sb.root().join("nope"))
        .assert()
        .code(2)
        .stderr(contains("does not exist"));
    // With --spec the ambiguity is resolved (checked without building).
    sb.copr()
        .args(["build", "--dry-run", "--spec", "two.spec"])
        .arg(&two)
        .assert()
        .success();
    assert_nothing_outside(&sb, &before);
    assert!(!sb.results().exists());
}

/// A directory the user cannot read is a clear error (run as an unprivileged user when the
/// tests run as root, since root reads everything).
#[test]
fn unreadable_directory_is_a_clear_error() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new();
    let pkg = sb.copy_fixture("noarch-multi");
    std::fs::set_permissions(sb.root(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(sb.cwd(), std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::set_permissions(&pkg, std::fs::Permissions::from_mode(0o000)).unwrap();
    let mut cmd = if running_as_root() {
        // The checkout may be under /root (mode 0700): run a copy the unprivileged user can reach.
        let bin = sb.root().join("copr-bin");
        std::fs::copy(env!("CARGO_BIN_EXE_copr"), &bin).unwrap();
        let mut c = assert_cmd::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"]);
        c.arg(&bin);
        c.current_dir(sb.cwd())
            .env("NO_COLOR", "1")
            .env("HOME", sb.root());
        c
    } else {
        let mut c = assert_cmd::Command::new(env!("CARGO_BIN_EXE_copr"));
        c.current_dir(sb.cwd()).env("NO_COLOR", "1");
        c
    };
    let before = sb.files_outside_results();
    cmd.arg("build")
        .arg(&pkg)
        .assert()
        .code(2)
        .stderr(contains("cannot read directory"))
        .stderr(contains("Permission denied"));
    std::fs::set_permissions(&pkg, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_nothing_outside(&sb, &before);
}

fn running_as_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Package B BuildRequires library package A built earlier into the same result directory: B's
/// build compiles against A's header and links with A's library (its %check runs the program).
#[test]
fn builds_against_an_earlier_build_in_the_result_dir() {
    let sb = Sandbox::new();
    sb.copr()
        .arg("build")
        .arg(fixture("libgreet"))
        .assert()
        .success();
    let out = sb
        .copr()
        .args(["build", "--output", "json"])
        .arg(fixture("greeter"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report = json_of(&out);
    assert_eq!(report["build_id"], 2);
    let arch = std::env::consts::ARCH;
    let dir = sb.results().join(host_chroot()).join("00000002-greeter");
    assert_eq!(
        check_build_dir(&dir),
        vec![
            "greeter-1.2-1.src".to_string(),
            format!("greeter-1.2-1.{arch}")
        ]
    );
    let log = std::fs::read_to_string(dir.join("builder-live.log")).unwrap();
    assert!(log.contains("-lgreet"), "linked against libgreet");
}

/// Two builds started at once into one result directory get different build ids.
#[test]
fn concurrent_builds_get_distinct_ids() {
    let sb = Sandbox::new();
    let pkg = sb.copy_fixture("noarch-multi");
    let spawn = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_copr"))
            .current_dir(sb.cwd())
            .env("NO_COLOR", "1")
            .args(["build", "--quiet"])
            .arg(&pkg)
            .spawn()
            .unwrap()
    };
    let (mut a, mut b) = (spawn(), spawn());
    assert!(a.wait().unwrap().success());
    assert!(b.wait().unwrap().success());
    let mut dirs: Vec<String> = std::fs::read_dir(sb.results().join(host_chroot()))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with("-noarch-multi"))
        .collect();
    dirs.sort();
    assert_eq!(dirs, vec!["00000001-noarch-multi", "00000002-noarch-multi"]);
}

/// `copr srpm` leaves only the SRPM in --outdir (scratch space removed).
#[test]
fn srpm_command_writes_only_the_srpm() {
    let sb = Sandbox::new();
    let out = sb.root().join("out");
    let printed = sb
        .copr()
        .args(["srpm", "--outdir"])
        .arg(&out)
        .arg(example("hello"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let path = PathBuf::from(String::from_utf8(printed).unwrap().trim());
    assert_eq!(nevra(&path), "hello-1.0-1.src");
    let entries: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        entries,
        vec![std::ffi::OsString::from("hello-1.0-1.src.rpm")]
    );
}

/// The make-srpm method runs `.copr/Makefile` target `srpm` with `outdir=` and `spec=` in a
/// git checkout's subdirectory, as Copr does.
#[test]
fn make_srpm_method_runs_copr_makefile() {
    let sb = Sandbox::new();
    let repo = sb.root().join("repo");
    std::fs::create_dir_all(repo.join(".copr")).unwrap();
    std::fs::create_dir_all(repo.join("pkg")).unwrap();
    std::fs::write(
        repo.join(".copr/Makefile"),
        "srpm:\n\ttest -n \"$(spec)\"\n\tsed 's/^Release: .*/Release: 77/' $(spec) > gen.spec\n\trpmbuild -bs --define \"_srcrpmdir $(outdir)\" --define \"_topdir $(CURDIR)/top\" gen.spec\n",
    )
    .unwrap();
    std::fs::copy(
        fixture("noarch-multi/noarch-multi.spec"),
        repo.join("pkg/noarch-multi.spec"),
    )
    .unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "init"]);
    let before = sb.files_outside_results();
    sb.copr()
        .args(["build", "--method", "make-srpm", "--git", "--subdir", "pkg"])
        .arg(&repo)
        .assert()
        .success();
    assert_nothing_outside(&sb, &before);
    let dir = only_build_dir(&sb.results(), &host_chroot());
    assert!(check_build_dir(&dir).contains(&"noarch-multi-2:3.1-77.src".to_string()));
}

/// The custom method runs a script that leaves a spec in $COPR_RESULTDIR; the SRPM is built
/// from it.
#[test]
fn custom_method_runs_the_script() {
    let sb = Sandbox::new();
    let script = sb.root().join("gen.sh");
    let spec = std::fs::read_to_string(fixture("exclusive/exclusive.spec"))
        .unwrap()
        .replace("ExclusiveArch:  s390x ppc64le\n", "BuildArch: noarch\n");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nset -e\ncat > \"$COPR_RESULTDIR/custom.spec\" <<'SPEC'\n{spec}SPEC\n"),
    )
    .unwrap();
    sb.copr()
        .args(["build", "--method", "custom"])
        .arg(&script)
        .assert()
        .success();
    let dir = only_build_dir(&sb.results(), &host_chroot());
    assert_eq!(
        check_build_dir(&dir),
        vec!["exclusive-1-1.noarch", "exclusive-1-1.src"]
    );
}

/// rpkg and tito run the real tools; when a tool is missing the error names it and how to
/// install it.
#[test]
fn missing_srpm_tool_is_named() {
    let sb = Sandbox::new();
    for (method, tool) in [("rpkg", "rpkg"), ("tito", "tito"), ("tito-test", "tito")] {
        let installed = std::process::Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .unwrap()
            .status
            .success();
        if installed {
            continue;
        }
        sb.copr()
            .args(["build", "--method", method])
            .arg(fixture("noarch-multi"))
            .assert()
            .failure()
            .stderr(contains(format!("`{tool}` is not installed")))
            .stderr(contains(format!("install {tool}")));
    }
    assert!(!sb.results().exists());
}

/// A `SourceN:` URL whose file is not in the tree is downloaded (outside the buildroot); the
/// tree itself is left untouched.
#[test]
fn missing_source_urls_are_downloaded() {
    let mut files = BTreeMap::new();
    files.insert("/dl/payload.txt".to_string(), b"payload 42\n".to_vec());
    let server = HttpServer::start(files);
    let sb = Sandbox::new();
    let pkg = sb.root().join("withsource");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(
        pkg.join("withsource.spec"),
        format!(
            "Name: withsource\nVersion: 1\nRelease: 1\nSummary: s\nLicense: MIT\nBuildArch: noarch\nSource0: {}\n%description\nd\n%prep\n%build\n%install\ninstall -D -m 0644 %{{SOURCE0}} %{{buildroot}}%{{_datadir}}/withsource/payload.txt\n%files\n%{{_datadir}}/withsource\n",
            server.url("/dl/payload.txt")
        ),
    )
    .unwrap();
    let before = sb.files_outside_results();
    sb.copr().arg("build").arg(&pkg).assert().success();
    assert_nothing_outside(&sb, &before);
    let dir = only_build_dir(&sb.results(), &host_chroot());
    assert_eq!(
        check_build_dir(&dir),
        vec!["withsource-1-1.noarch", "withsource-1-1.src"]
    );
}

/// `copr build --job FILE` runs a TOML job spec as written, including a server-assigned build
/// id; reusing that id in the same result directory is refused.
#[test]
fn job_file_runs_with_its_build_id() {
    let sb = Sandbox::new();
    let file = sb.root().join("job.toml");
    std::fs::write(
        &file,
        format!(
            "version = 1\nchroots = [\"{}\"]\nbuild_id = 42\n\n[project]\nowner = \"alice\"\nname = \"tools\"\n\n[source]\ntype = \"spec\"\npath = \"{}\"\n",
            host_chroot(),
            fixture("noarch-multi/noarch-multi.spec").display()
        ),
    )
    .unwrap();
    sb.copr()
        .args(["build", "--job"])
        .arg(&file)
        .assert()
        .success();
    let dir = sb
        .results()
        .join(host_chroot())
        .join("00000042-noarch-multi");
    assert_eq!(check_build_dir(&dir).len(), 4);
    assert!(sb.results().join("srpm-builds/00000042/success").is_file());
    sb.copr()
        .args(["build", "--job"])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(contains("build id 42 is already used"));
}

/// A compiler error fails the chroot with exit code 4, the compiler's own error line and the
/// log path on stderr, and no `success` marker.
#[test]
fn failed_build_prints_the_first_error_and_the_log() {
    let sb = Sandbox::new();
    let pkg = sb.root().join("hello");
    copy_dir(&example("hello"), &pkg);
    let src = std::fs::read_to_string(pkg.join("hello.c")).unwrap();
    std::fs::write(
        pkg.join("hello.c"),
        src.replace("puts(", "puts_undeclared_typo("),
    )
    .unwrap();
    let out = sb
        .copr()
        .args(["build", "--output", "json"])
        .arg(&pkg)
        .assert()
        .code(4)
        .get_output()
        .stdout
        .clone();
    let report = json_of(&out);
    assert_eq!(report["state"], "failed");
    assert_eq!(report["chroots"][0]["state"], "failed");
    assert!(
        report["chroots"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("puts_undeclared_typo")
    );
    sb.copr()
        .arg("build")
        .arg(&pkg)
        .assert()
        .code(4)
        .stderr(contains("error: build failed in"))
        .stderr(contains("puts_undeclared_typo"))
        .stderr(contains("00000002-hello/builder-live.log"));
    let dir = sb.results().join(host_chroot()).join("00000001-hello");
    assert!(!dir.join("success").exists());
    assert!(dir.join("builder-live.log").is_file());
}

/// A chroot the backend cannot serve is refused before anything is built or written.
#[test]
fn unsupported_chroot_is_refused_up_front() {
    let sb = Sandbox::new();
    sb.copr()
        .args([
            "build",
            "--backend",
            "sandbox",
            "--chroot",
            "nosuchdistro-1-x86_64",
        ])
        .arg(fixture("noarch-multi"))
        .assert()
        .code(2)
        .stderr(contains("nosuchdistro-1-x86_64"))
        .stderr(contains("hint:"));
    assert!(!sb.results().exists());
}

/// A server that accepts the connection but never answers: the download gives up within the
/// job's timeout with an error saying it timed out.
#[test]
fn silent_http_server_times_out() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    let sb = Sandbox::new();
    sb.copr()
        .args(["build", "--timeout", "2"])
        .arg(format!("http://127.0.0.1:{port}/slow.src.rpm"))
        .assert()
        .code(1)
        .stderr(contains("timed out"));
    assert!(!sb.results().exists());
}

/// A custom script that runs past the job's timeout is killed and the SRPM build fails with
/// exit code 4 and a message saying so.
#[test]
fn custom_script_is_killed_at_the_timeout() {
    let sb = Sandbox::new();
    let script = sb.root().join("hang.sh");
    std::fs::write(&script, "#!/bin/sh\necho starting\nsleep 600\n").unwrap();
    sb.copr()
        .args(["build", "--method", "custom", "--timeout", "2"])
        .arg(&script)
        .assert()
        .code(4)
        .stderr(contains("timed out after 2s"));
    assert!(!sb.results().join(".work").exists());
}

/// `--dry-run` names the spec it found, rejects a copr.toml with an unknown key, and reports a
/// directory without a spec instead of printing a job that cannot run.
#[test]
fn dry_run_is_fully_resolved_and_checked() {
    let sb = Sandbox::new();
    let pkg = sb.copy_fixture("noarch-multi");
    sb.copr()
        .args(["build", "--dry-run"])
        .arg(&pkg)
        .assert()
        .success()
        .stdout(contains("spec = \"noarch-multi.spec\""));
    std::fs::write(pkg.join("copr.toml"), "chroot = [\"host-x86_64\"]\n").unwrap();
    sb.copr()
        .args(["build", "--dry-run"])
        .arg(&pkg)
        .assert()
        .code(2)
        .stderr(contains("copr.toml"))
        .stderr(contains("chroot"));
    let empty = sb.root().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    sb.copr()
        .args(["build", "--dry-run"])
        .arg(&empty)
        .assert()
        .code(2)
        .stderr(contains("no .spec file"));
}

/// `--repo DIR` adds another result directory's packages for BuildRequires; `--verbose` streams
/// the live build log to stderr.
#[test]
fn extra_repo_satisfies_buildrequires_and_verbose_streams_the_log() {
    let sb = Sandbox::new();
    let lib_results = sb.root().join("lib-results");
    sb.copr()
        .args(["build", "--quiet", "--resultdir"])
        .arg(&lib_results)
        .arg(fixture("libgreet"))
        .assert()
        .success();
    // Without the repository the BuildRequires is unmet and named.
    sb.copr()
        .arg("build")
        .arg(fixture("greeter"))
        .assert()
        .code(4)
        .stderr(contains("libgreet-devel"));
    sb.copr()
        .args(["build", "--verbose", "--repo"])
        .arg(lib_results.join(host_chroot()))
        .arg(fixture("greeter"))
        .assert()
        .success()
        .stderr(contains("Executing(%build)"))
        .stderr(contains("Greetings, copr! (libgreet 2.5)").or(contains("-lgreet")));
    let dir = sb.results().join(host_chroot()).join("00000002-greeter");
    assert_eq!(check_build_dir(&dir).len(), 2);
}

/// Ctrl-C (SIGINT) cancels a running build: its process tree is killed, the command exits with
/// 4 saying it was canceled, and the scratch space is removed.
#[test]
fn interrupt_cancels_the_build_and_cleans_up() {
    let sb = Sandbox::new();
    let script = sb.root().join("hang.sh");
    std::fs::write(&script, "#!/bin/sh\ntouch started\nexec sleep 600\n").unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_copr"))
        .current_dir(sb.cwd())
        .env("NO_COLOR", "1")
        .args(["build", "--method", "custom"])
        .arg(&script)
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let work = sb.results().join(".work");
    let started = || {
        glob::glob(&format!("{}/*/custom/workdir/started", work.display()))
            .unwrap()
            .flatten()
            .next()
            .is_some()
    };
    let mut waited = 0;
    while !started() {
        assert!(waited < 1200, "the script never started");
        std::thread::sleep(std::time::Duration::from_millis(100));
        waited += 1;
    }
    nix_kill(child.id(), libc::SIGINT);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("canceled"), "{stderr}");
    assert!(!work.exists(), "scratch space removed");
    assert!(
        sb.results()
            .join("srpm-builds/00000001/builder-live.log")
            .is_file()
    );
}

fn nix_kill(pid: u32, sig: libc::c_int) {
    // SAFETY: plain kill(2) on our own child.
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, sig) }, 0);
}

/// What `copr build --dry-run` shows for the bundled example: a complete, versioned job spec.
#[test]
fn dry_run_of_the_example_snapshot() {
    let sb = Sandbox::new();
    let out = sb
        .copr()
        .args([
            "build",
            "--dry-run",
            "--backend",
            "sandbox",
            "--chroot",
            "host-x86_64",
        ])
        .arg(example("hello"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    insta::with_settings!({filters => vec![(root, "[CHECKOUT]")]}, {
        insta::assert_snapshot!(text);
    });
}

/// `--define` and `--with` reach both the SRPM and the binary build: the release comes from a
/// defined macro and a `%bcond_with` subpackage appears only with `--with`.
#[test]
fn defines_and_conditionals_reach_the_build() {
    let sb = Sandbox::new();
    let pkg = sb.root().join("conds");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(
        pkg.join("conds.spec"),
        "%bcond_with extra\nName: conds\nVersion: 1\nRelease: %{?myrel}%{!?myrel:1}\nSummary: s\nLicense: MIT\nBuildArch: noarch\n%description\nd\n%if %{with extra}\n%package extra\nSummary: x\n%description extra\nx\n%files extra\n%{_datadir}/conds/extra\n%endif\n%prep\n%build\n%install\nmkdir -p %{buildroot}%{_datadir}/conds\necho 1 > %{buildroot}%{_datadir}/conds/main\n%if %{with extra}\necho 1 > %{buildroot}%{_datadir}/conds/extra\n%endif\n%files\n%{_datadir}/conds/main\n",
    )
    .unwrap();
    sb.copr()
        .args(["build", "--define", "myrel 9", "--with", "extra"])
        .arg(&pkg)
        .assert()
        .success();
    let dir = only_build_dir(&sb.results(), &host_chroot());
    assert_eq!(
        check_build_dir(&dir),
        vec![
            "conds-1-9.noarch",
            "conds-1-9.src",
            "conds-extra-1-9.noarch"
        ]
    );
}

/// A git repository's copr.toml names the spec to build when the job does not.
#[test]
fn git_tree_copr_toml_chooses_the_spec() {
    let sb = Sandbox::new();
    let repo = sb.copy_fixture("two-specs");
    std::fs::write(repo.join("copr.toml"), "spec = \"two.spec\"\n").unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "two specs"]);
    let out = sb
        .copr()
        .args(["srpm", "--git", "--outdir"])
        .arg(sb.root().join("out"))
        .arg(&repo)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let srpm = PathBuf::from(String::from_utf8(out).unwrap().trim());
    assert_eq!(nevra(&srpm), "other-2:3.1-4.src");
}

/// make-srpm on a local directory works on a private copy that leaves out the result directory
/// inside the tree, so a second build does not copy the first one's results.
#[test]
fn make_srpm_on_a_local_tree_with_results_inside() {
    let sb = Sandbox::new();
    let tree = sb.cwd();
    std::fs::create_dir_all(tree.join(".copr")).unwrap();
    std::fs::write(
        tree.join(".copr/Makefile"),
        "srpm:\n\ttest ! -e copr-results\n\trpmbuild -bs --define \"_srcrpmdir $(outdir)\" --define \"_topdir $(CURDIR)/top\" $(spec)\n",
    )
    .unwrap();
    std::fs::copy(
        fixture("noarch-multi/noarch-multi.spec"),
        tree.join("noarch-multi.spec"),
    )
    .unwrap();
    for id in ["00000001", "00000002"] {
        sb.copr()
            .args(["build", "--method", "make-srpm"])
            .assert()
            .success();
        let dir = sb
            .results()
            .join(host_chroot())
            .join(format!("{id}-noarch-multi"));
        assert_eq!(check_build_dir(&dir).len(), 4);
    }
    assert!(
        !tree.join("top").exists(),
        "the tree itself is not written to"
    );
}
