//! `copr module`: modulemd validation against libmodulemd, releases from a result directory read
//! by dnf, the interactive release in a terminal.

mod module_support;

use std::path::Path;

use module_support::*;

/// Our validator and `modulemd-validator` agree on every file of the corpus: the good ones pass
/// both, the bad ones fail both, and our errors name a line.
#[test]
fn validator_agrees_with_libmodulemd_on_the_corpus() {
    let mut disagreements = Vec::new();
    for (kind, expect_ok) in [("good", true), ("bad", false)] {
        let dir = fixtures().join(kind);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert!(files.len() >= 20, "corpus {kind} is too small");
        for f in files {
            let theirs = libmodulemd_accepts(&f);
            let (ours, _, stderr) = run(copr().args(["module", "validate"]).arg(&f));
            if theirs != expect_ok || ours != expect_ok {
                disagreements.push(format!(
                    "{}: libmodulemd {}, copr {} ({stderr})",
                    f.display(),
                    verdict(theirs),
                    verdict(ours)
                ));
            }
            if !expect_ok {
                let name = f.display().to_string();
                let located = stderr.lines().any(|l| {
                    l.starts_with(&format!("{name}:"))
                        && l[name.len() + 1..].starts_with(|c: char| c.is_ascii_digit())
                });
                assert!(located, "no line number in the error for {name}: {stderr}");
            }
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

/// A key given twice: the later value wins, as in libmodulemd, with a warning naming both lines.
#[test]
fn duplicate_keys_warn_and_the_last_wins() {
    let path = fixtures().join("good/duplicate-key-last-wins.yaml");
    let (ok, _, stderr) = run(copr().args(["module", "validate"]).arg(&path));
    assert!(ok, "{stderr}");
    let want = format!(
        "{}:9: warning: `data.summary` is given again on line 10",
        path.display()
    );
    assert!(stderr.contains(&want), "{stderr}");
}

fn verdict(ok: bool) -> &'static str {
    if ok { "accepts" } else { "rejects" }
}

/// Semantic errors point at the offending line, not just the document.
#[test]
fn errors_name_the_offending_line() {
    let bad = fixtures().join("bad");
    for (file, line, text) in [
        ("buildorder-not-integer.yaml", 33, "buildorder"),
        ("artifact-without-epoch.yaml", 36, "N-E:V-R.A"),
        ("missing-summary.yaml", 3, "summary is missing"),
        ("unknown-data-key.yaml", 9, "unknown field `bogus`"),
        (
            "buildafter-unknown-component.yaml",
            33,
            "buildafter `hello-b`",
        ),
        ("second-document-invalid.yaml", 42, "not a valid integer"),
    ] {
        let path = bad.join(file);
        let (ok, _, stderr) = run(copr().args(["module", "validate"]).arg(&path));
        assert!(!ok);
        let prefix = format!("{}:{line}:", path.display());
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with(&prefix) && l.contains(text)),
            "{file}: expected `{prefix}` … `{text}` in:\n{stderr}"
        );
    }
}

/// A result directory with hello-a, hello-b (epoch 2, requires hello-a) and hello-extra, each built once;
/// hello-a built a second time (the newer build must be the one released) and one failed build.
fn sample_resultdir(tmp: &Path) -> std::path::PathBuf {
    let res = tmp.join("results");
    let top = tmp.join("rpmbuild");
    let chroot = "host-x86_64";
    add_build(&res, chroot, 1, &Pkg::new("hello-a"), &top, true);
    let mut b = Pkg::new("hello-b");
    b.requires = vec!["hello-a"];
    b.license = "Apache-2.0";
    b.epoch = Some(2);
    add_build(&res, chroot, 2, &b, &top, true);
    add_build(&res, chroot, 3, &Pkg::new("hello-extra"), &top, true);
    let mut a2 = Pkg::new("hello-a");
    a2.release = "2";
    add_build(&res, chroot, 4, &a2, &top, true);
    let mut broken = Pkg::new("hello-a");
    broken.release = "3";
    add_build(&res, chroot, 5, &broken, &top, false);
    res
}

/// A released module validates, is published as type="modules" in a re-signed repository, and
/// dnf lists it with its profiles and installs a profile's packages into an empty installroot.
#[test]
fn release_is_valid_and_dnf_installs_a_profile() {
    let tmp = tempfile::tempdir().unwrap();
    let res = sample_resultdir(tmp.path());
    let out = tmp.path().join("hello.modulemd.yaml");
    let (ok, stdout, stderr) = run(copr()
        .args(["module", "release", "--resultdir"])
        .arg(&res)
        .args([
            "--name",
            "hello",
            "--stream",
            "1.0",
            "--api",
            "hello-a,hello-b",
        ])
        .args([
            "--profile",
            "default:hello-b",
            "--profile",
            "devel:hello-a,hello-b",
        ])
        .args([
            "--filter",
            "hello-extra",
            "--platform",
            "deb12",
            "--summary",
            "Hello tools",
        ])
        .args([
            "--description",
            "Hello tools for tests.",
            "--license",
            "MIT",
        ])
        .arg("--out")
        .arg(&out));
    assert!(ok, "release failed: {stderr}");
    assert!(stdout.starts_with("hello:1.0:"), "{stdout}");

    let chroot = res.join("host-x86_64");
    assert!(
        libmodulemd_accepts(&out),
        "modulemd-validator rejects {}",
        out.display()
    );
    assert!(libmodulemd_accepts(&chroot.join("modules.yaml")));
    let repomd = std::fs::read_to_string(chroot.join("repodata/repomd.xml")).unwrap();
    assert!(repomd.contains(r#"type="modules""#), "{repomd}");

    let doc = std::fs::read_to_string(&out).unwrap();
    // The latest successful build of hello-a (release 2; release 3 failed).
    assert!(doc.contains("hello-a-0:1.0-2.noarch"), "{doc}");
    assert!(
        doc.contains("hello-b-2:1.0-1.noarch"),
        "epoch missing:\n{doc}"
    );
    assert!(
        !doc.contains("hello-a-0:1.0-1.noarch") && !doc.contains("1.0-3"),
        "{doc}"
    );
    assert!(
        !doc.contains("hello-extra-0:1.0-1.noarch"),
        "filtered package is an artifact"
    );
    assert!(
        doc.contains("Apache-2.0") && doc.contains("rationale:"),
        "{doc}"
    );
    assert!(doc.contains("document: modulemd-defaults"), "{doc}");

    let (ok, list, err) = run(dnf(tmp.path(), &chroot, "deb12").args(["module", "list"]));
    assert!(ok, "dnf module list: {err}");
    let line = list
        .lines()
        .find(|l| l.starts_with("hello "))
        .unwrap_or_else(|| panic!("module not listed:\n{list}\n{err}"));
    assert!(
        line.contains("1.0 [d]") && line.contains("default [d]") && line.contains("devel"),
        "{line}"
    );

    // The repository is re-signed: repomd.xml and the packages verify against pubkey.gpg.
    assert!(chroot.join("repodata/repomd.xml.asc").is_file());
    let pubkey = res.join("pubkey.gpg");
    let (ok, _, err) = run(dnf_signed(tmp.path(), &chroot, "deb12", &pubkey).args([
        "module",
        "install",
        "hello:1.0/devel",
    ]));
    assert!(ok, "dnf module install: {err}");
    let (ok, installed, err) = run(std::process::Command::new("rpm")
        .arg("--root")
        .arg(tmp.path().join("root"))
        .args(["-qa", "--qf", "%{NAME}-%{VERSION}-%{RELEASE}\\n"]));
    assert!(ok, "{err}");
    let mut installed: Vec<&str> = installed.lines().collect();
    installed.sort();
    // dnf imported the project key to check the packages' signatures.
    assert!(installed[0].starts_with("gpg-pubkey-"), "{installed:?}");
    assert_eq!(installed[1..], ["hello-a-1.0-2", "hello-b-1.0-1"]);
}

/// A released NAME:STREAM:VERSION never changes: releasing it again fails; a new release gets a
/// greater version and all stay in the repository's modules.yaml; a dry run writes nothing.
#[test]
fn releases_are_immutable_and_versions_increase() {
    let tmp = tempfile::tempdir().unwrap();
    let res = sample_resultdir(tmp.path());
    let release = |extra: &[&str]| {
        run(copr()
            .args(["module", "release", "--resultdir"])
            .arg(&res)
            .args(["--name", "hello", "--stream", "main", "--no-platform"])
            .args(extra))
    };
    // A dry run shows the documents and writes nothing.
    let (ok, preview, err) = release(&["--dry-run"]);
    assert!(ok, "{err}");
    assert!(preview.contains("document: modulemd-defaults"), "{preview}");
    assert!(!res.join("modules").exists() && !res.join("host-x86_64/modules.yaml").exists());
    let preview_file = tmp.path().join("preview.yaml");
    std::fs::write(&preview_file, &preview).unwrap();
    assert!(libmodulemd_accepts(&preview_file));

    let (ok, first, err) = release(&["--version", "20240101000000"]);
    assert!(ok, "{err}");
    assert!(first.starts_with("hello:main:20240101000000:"), "{first}");
    let (ok, _, err) = release(&["--version", "20240101000000"]);
    assert!(!ok && err.contains("already released"), "{err}");
    let (ok, _, err) = release(&["--version", "20230101000000"]);
    assert!(!ok && err.contains("not newer"), "{err}");

    let (ok, second, err) = release(&[]);
    assert!(ok, "{err}");
    let v2: u64 = second.split(':').nth(2).unwrap().parse().unwrap();
    assert!(v2 > 20240101000000, "{second}");
    let (ok, third, err) = release(&[]);
    assert!(ok, "{err}");
    let v3: u64 = third.split(':').nth(2).unwrap().parse().unwrap();
    assert!(v3 > v2, "{v3} after {v2}");

    let yaml = res.join("host-x86_64/modules.yaml");
    assert!(libmodulemd_accepts(&yaml));
    let text = std::fs::read_to_string(&yaml).unwrap();
    assert_eq!(text.matches("document: modulemd\n").count(), 3, "{text}");
    assert_eq!(
        text.matches("document: modulemd-defaults").count(),
        1,
        "{text}"
    );
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(res.join("modules/releases.json")).unwrap()).unwrap();
    assert_eq!(record.as_array().unwrap().len(), 3);
    let (ok, listed, err) = run(copr()
        .args(["--output", "json", "module", "list", "--resultdir"])
        .arg(&res));
    assert!(ok, "{err}");
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    let versions: Vec<u64> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["version"].as_u64().unwrap())
        .collect();
    assert_eq!(versions, [20240101000000, v2, v3]);
}

/// Without a terminal, a release names what it needs; unknown packages list what is available.
#[test]
fn release_errors_are_actionable() {
    let tmp = tempfile::tempdir().unwrap();
    let res = sample_resultdir(tmp.path());
    let (ok, _, err) = run(copr().args(["module", "release", "--resultdir"]).arg(&res));
    assert!(
        !ok && err.contains("--name is required") && err.contains("hint:"),
        "{err}"
    );
    let (ok, _, err) = run(copr()
        .args(["module", "release", "--resultdir"])
        .arg(&res)
        .args(["--name", "hello", "--stream", "1", "--api", "nope"]));
    assert!(
        !ok && err.contains("nope") && err.contains("hello-extra"),
        "{err}"
    );
    let out = copr()
        .args([
            "module",
            "release",
            "someone/project",
            "--name",
            "x",
            "--stream",
            "y",
            "--config",
        ])
        .arg(tmp.path().join("missing-copr.conf"))
        .output()
        .unwrap();
    // The remote form needs a server configuration; copr-cli's exit code for that is 6.
    assert_eq!(out.status.code(), Some(6));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("missing-copr.conf") && err.contains("hint:"),
        "{err}"
    );
}

/// The interactive release: name, stream and checkboxes answered through a pseudo-terminal
/// produce the chosen filter, API and profile.
#[test]
fn interactive_release_in_a_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let res = sample_resultdir(tmp.path());
    let out = tmp.path().join("interactive.yaml");
    let mut cmd = copr();
    cmd.args(["module", "release", "--resultdir"])
        .arg(&res)
        .arg("--out")
        .arg(&out)
        .arg("--no-platform");
    let mut pty = Pty::spawn(&mut cmd);
    pty.expect("Module name");
    pty.send("tools\r");
    pty.expect("Stream");
    pty.send("2.0\r");
    pty.expect("Summary");
    pty.send(ENTER);
    pty.expect("Description");
    pty.send(ENTER);
    pty.expect("License");
    pty.send(ENTER);
    // Filter: hello-a, hello-b, hello-extra, none checked → check hello-extra.
    pty.expect("filter out");
    pty.send(&format!("{DOWN}{DOWN} {ENTER}"));
    // API: hello-a, hello-b, both checked → keep.
    pty.expect("module API");
    pty.send(ENTER);
    pty.expect("Install profile name");
    pty.send(ENTER);
    // Profile packages: both checked → uncheck hello-a.
    pty.expect("Packages of profile");
    pty.send(&format!(" {ENTER}"));
    pty.expect("Add another profile?");
    pty.send("n");
    pty.expect("profile default (default): hello-b");
    pty.expect("Release tools:2.0:");
    pty.send("y");
    let (ok, text) = pty.wait();
    assert!(ok, "interactive release failed:\n{text}");

    assert!(libmodulemd_accepts(&out));
    let doc: serde_yaml::Value = serde_yaml::from_str(
        std::fs::read_to_string(&out)
            .unwrap()
            .split("...\n")
            .next()
            .unwrap(),
    )
    .unwrap();
    let data = &doc["data"];
    assert_eq!(data["name"].as_str(), Some("tools"));
    assert_eq!(data["stream"].as_str(), Some("2.0"));
    let list = |v: &serde_yaml::Value| -> Vec<String> {
        v.as_sequence()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(list(&data["filter"]["rpms"]), ["hello-extra"]);
    assert_eq!(list(&data["api"]["rpms"]), ["hello-a", "hello-b"]);
    assert_eq!(list(&data["profiles"]["default"]["rpms"]), ["hello-b"]);
}

/// Two components in local git repositories; hello-app BuildRequires hello-lib.
fn two_group_module(tmp: &Path, lib_order: i64, app_order: i64) -> std::path::PathBuf {
    git_package(&tmp.join("hello-lib"), &Pkg::new("hello-lib"), "true");
    let mut app = Pkg::new("hello-app");
    app.build_requires = vec!["hello-lib"];
    app.requires = vec!["hello-lib"];
    git_package(
        &tmp.join("hello-app"),
        &app,
        "test -f /usr/share/hello-lib/README",
    );
    let doc = format!(
        "document: modulemd\nversion: 2\ndata:\n  name: stack\n  stream: \"1\"\n  summary: Library and app\n  \
         description: An app built against its library.\n  license:\n    module: [MIT]\n  \
         profiles:\n    default:\n      rpms: [hello-app]\n  api:\n    rpms: [hello-app]\n  \
         components:\n    rpms:\n      hello-lib:\n        rationale: Library the app builds on.\n        \
         repository: ./hello-lib\n        ref: main\n        buildorder: {lib_order}\n      \
         hello-app:\n        rationale: The app.\n        repository: ./hello-app\n        ref: main\n        \
         buildorder: {app_order}\n"
    );
    let path = tmp.join("stack.yaml");
    std::fs::write(&path, doc).unwrap();
    path
}

/// `copr module build` builds group 1 before group 2, whose component BuildRequires group 1's
/// package from the result directory's repository, then releases a module dnf can install.
#[test]
fn module_build_builds_groups_in_order_and_releases() {
    let tmp = tempfile::tempdir().unwrap();
    let doc = two_group_module(tmp.path(), 1, 2);
    let res = tmp.path().join("results");
    let out = tmp.path().join("released.yaml");
    let (ok, stdout, stderr) = run(copr()
        .args(["module", "build", "--backend", "sandbox", "--resultdir"])
        .arg(&res)
        .arg("--out")
        .arg(&out)
        .arg(&doc));
    assert!(ok, "module build failed:\n{stderr}");
    assert!(stdout.starts_with("stack:1:"), "{stdout}");
    let g1 = stderr.find("build group 1/2").expect("group 1 reported");
    let g2 = stderr.find("build group 2/2").expect("group 2 reported");
    assert!(g1 < g2);

    let chroot = std::fs::read_dir(&res)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("host-")
        })
        .expect("host chroot directory");
    let lib_dir = chroot.join("00000001-hello-lib");
    let app_dir = chroot.join("00000002-hello-app");
    assert!(lib_dir.join("success").is_file() && app_dir.join("success").is_file());
    let log = std::fs::read_to_string(app_dir.join("builder-live.log")).unwrap();
    assert!(
        log.contains("hello-lib"),
        "app build did not get hello-lib:\n{log}"
    );

    assert!(libmodulemd_accepts(&out));
    let text = std::fs::read_to_string(&out).unwrap();
    for want in [
        "hello-lib-0:1.0-1.noarch",
        "hello-app-0:1.0-1.noarch",
        "buildorder: 2",
    ] {
        assert!(text.contains(want), "{want} missing:\n{text}");
    }
    // Local refs are recorded as the commits that were built.
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("ref: ") && l.trim().len() == 45),
        "{text}"
    );

    let (ok, _, err) =
        run(dnf(tmp.path(), &chroot, "deb12").args(["module", "install", "stack:1"]));
    assert!(ok, "dnf module install: {err}");
    let (_, installed, _) = run(std::process::Command::new("rpm")
        .arg("--root")
        .arg(tmp.path().join("root"))
        .args(["-qa", "--qf", "%{NAME}\\n"]));
    let mut installed: Vec<&str> = installed.lines().collect();
    installed.sort();
    assert_eq!(installed, ["hello-app", "hello-lib"]);
}

/// When group 1 fails (here: the app, ordered first, lacks its BuildRequires), later groups are
/// not built, nothing is released, and the exit code is 4.
#[test]
fn module_build_stops_at_a_failed_group() {
    let tmp = tempfile::tempdir().unwrap();
    let doc = two_group_module(tmp.path(), 2, 1);
    let res = tmp.path().join("results");
    let out = copr()
        .args(["module", "build", "--backend", "sandbox", "--resultdir"])
        .arg(&res)
        .arg(&doc)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("hello-app") && stderr.contains("not built: hello-lib"),
        "{stderr}"
    );
    assert!(
        !res.join("modules").exists(),
        "a failed module build released something"
    );
}

/// Problems in the document are reported with the file and line before anything is built.
#[test]
fn module_build_reports_document_errors_with_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let doc = two_group_module(tmp.path(), 1, 2);
    let text = std::fs::read_to_string(&doc).unwrap();
    std::fs::write(&doc, text.replace("buildorder: 2", "buildorder: two")).unwrap();
    let (ok, _, err) = run(copr()
        .args(["module", "build", "--resultdir"])
        .arg(tmp.path().join("r"))
        .arg(&doc));
    assert!(
        !ok && err.contains("stack.yaml:26:") && err.contains("buildorder"),
        "{err}"
    );
    std::fs::write(
        &doc,
        text.replace(
            "ref: main\n        buildorder: 2",
            "ref: nope\n        buildorder: 2",
        ),
    )
    .unwrap();
    let (ok, _, err) = run(copr()
        .args(["module", "build", "--resultdir"])
        .arg(tmp.path().join("r"))
        .arg(&doc));
    assert!(
        !ok && err.contains("stack.yaml:24:") && err.contains("`nope`"),
        "{err}"
    );
    assert!(!tmp.path().join("r").exists());
}

/// One release covers every chroot: a stream document per chroot with its own arch and platform
/// (f40 from `fedora-40-x86_64`), `--chroot` narrows it, and `--output json` reports it.
#[test]
fn release_covers_each_chroot_with_its_platform() {
    let tmp = tempfile::tempdir().unwrap();
    let res = sample_resultdir(tmp.path());
    let top = tmp.path().join("rpmbuild-f40");
    add_build(
        &res,
        "fedora-40-aarch64",
        6,
        &Pkg::new("hello-a"),
        &top,
        true,
    );
    let out = tmp.path().join("all.yaml");
    let (ok, stdout, err) = run(copr()
        .args(["--output", "json", "module", "release", "--resultdir"])
        .arg(&res)
        .args(["--name", "multi", "--stream", "s", "--out"])
        .arg(&out));
    assert!(ok, "{err}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        json["chroots"],
        serde_json::json!(["fedora-40-aarch64", "host-x86_64"])
    );
    assert!(libmodulemd_accepts(&out));
    let text = std::fs::read_to_string(&out).unwrap();
    let docs: Vec<serde_yaml::Value> = text
        .split("...\n")
        .filter(|d| d.contains("document:"))
        .map(|d| serde_yaml::from_str(d).unwrap())
        .collect();
    assert_eq!(docs.len(), 3, "{text}");
    assert_eq!(docs[0]["data"]["arch"].as_str(), Some("aarch64"));
    assert_eq!(
        docs[0]["data"]["dependencies"][0]["requires"]["platform"][0].as_str(),
        Some("f40")
    );
    assert_eq!(docs[1]["data"]["arch"].as_str(), Some("x86_64"));
    assert!(docs[1]["data"]["dependencies"].is_null(), "{text}");
    assert!(res.join("fedora-40-aarch64/repodata/repomd.xml").is_file());

    let (ok, stdout, err) = run(copr()
        .args(["module", "release", "--resultdir"])
        .arg(&res)
        .args([
            "--name",
            "multi",
            "--stream",
            "s",
            "--chroot",
            "host-x86_64",
        ]));
    assert!(ok, "{err}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let (ok, _, err) = run(copr()
        .args(["module", "release", "--resultdir"])
        .arg(&res)
        .args([
            "--name",
            "multi",
            "--stream",
            "s",
            "--chroot",
            "epel-9-x86_64",
        ]));
    assert!(!ok && err.contains("host-x86_64"), "{err}");
}

/// Mutations of the good corpus (a line dropped, a value replaced, a key inserted; fixed seed)
/// get the same verdict from our validator and from `modulemd-validator` (modulemd v1, which we
/// refuse on purpose, left out).
#[test]
fn validator_agrees_with_libmodulemd_on_mutations() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(20240101);
    let values = [
        "1",
        "-1",
        "1.5",
        "abc",
        "~",
        "\"\"",
        "[]",
        "[a, b]",
        "true",
        "True",
        "yes",
        "2024-02-30",
        "2024-02-29",
        "x-0:1-1.noarch",
        "x-1-1.noarch",
        "\"1.0\"",
        "0",
        "null",
    ];
    let inserts = [
        "bogus: 1",
        "rationale: r",
        "buildorder: 2",
        "arches: x86_64",
        "eol: x",
    ];
    let mut goods: Vec<_> = std::fs::read_dir(fixtures().join("good"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    goods.sort();
    let tmp = tempfile::tempdir().unwrap();
    let mut disagreements = Vec::new();
    let mut compared = 0;
    for n in 0..120 {
        let src = &goods[rng.random_range(0..goods.len())];
        let text = std::fs::read_to_string(src).unwrap();
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        let candidates: Vec<usize> = (0..lines.len())
            .filter(|&i| {
                let l = lines[i].trim();
                !l.is_empty() && l != "---" && l != "..."
            })
            .collect();
        let i = candidates[rng.random_range(0..candidates.len())];
        let line = lines[i].clone();
        let indent = &line[..line.len() - line.trim_start().len()];
        match rng.random_range(0..3) {
            0 => {
                lines.remove(i);
            }
            1 if line.contains(':') && !line.trim_end().ends_with(':') => {
                let key = line.split(':').next().unwrap();
                lines[i] = format!("{key}: {}", values[rng.random_range(0..values.len())]);
            }
            _ => lines.insert(
                i,
                format!("{indent}{}", inserts[rng.random_range(0..inserts.len())]),
            ),
        }
        let path = tmp.path().join(format!("m{n}.yaml"));
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let theirs = libmodulemd_accepts(&path);
        let (ours, _, stderr) = run(copr().args(["module", "validate"]).arg(&path));
        // A deliberate difference (see README): modulemd v1 is refused.
        if stderr.contains("for a `modulemd` document") {
            continue;
        }
        compared += 1;
        if theirs != ours {
            disagreements.push(format!(
                "mutation of {} (line {}): libmodulemd {}, copr {}\n{}",
                src.file_name().unwrap().to_string_lossy(),
                i + 1,
                verdict(theirs),
                verdict(ours),
                stderr
            ));
        }
    }
    assert!(compared >= 80, "only {compared} mutations compared");
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}
