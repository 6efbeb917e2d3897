//! Shared helpers of the repository tests: fixture RPMs built from specs, the copr binary, dnf.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Fixed build time of every fixture package.
pub const SOURCE_DATE_EPOCH: &str = "1700000000";

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/repo")
}

/// Build the fixture specs (all of them, or the named ones) into `out` with rpmbuild.
pub fn build_fixtures(out: &Path, names: &[&str]) -> Vec<PathBuf> {
    std::fs::create_dir_all(out).unwrap();
    let top = tempfile::tempdir().unwrap();
    let mut specs: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "spec"))
        .filter(|p| names.is_empty() || names.contains(&p.file_stem().unwrap().to_str().unwrap()))
        .collect();
    specs.sort();
    for spec in &specs {
        let o = Command::new("rpmbuild")
            .env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
            .env("HOME", top.path())
            .arg("--quiet")
            .arg("--define")
            .arg(format!("_topdir {}", top.path().display()))
            .arg("--define")
            .arg(format!("_rpmdir {}", out.display()))
            .arg("--define")
            .arg("_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm")
            .arg("--define")
            .arg("use_source_date_epoch_as_buildtime 1")
            .arg("--define")
            .arg("_buildhost copr-test")
            .arg("-bb")
            .arg(spec)
            .output()
            .expect("rpmbuild runs");
        assert!(
            o.status.success(),
            "rpmbuild {}: {}",
            spec.display(),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let mut rpms: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rpm"))
        .collect();
    rpms.sort();
    rpms
}

/// The copr binary under test.
pub fn copr() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("copr").unwrap();
    c.env("NO_COLOR", "1");
    c
}

/// Run a command, returning its output (never panics on failure).
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// dnf with no system repos, a private cache and the given repository as repo `t`.
pub fn dnf(cache: &Path, repo: &Path) -> Command {
    let mut c = Command::new("dnf");
    c.arg("-q")
        .arg("--releasever=12")
        .arg(format!("--setopt=cachedir={}", cache.display()))
        .arg("--setopt=reposdir=/dev/null")
        .arg("--setopt=metadata_expire=0")
        .arg(format!("--repofrompath=t,file://{}", repo.display()))
        .arg("--repo=t");
    c
}

/// `dnf repoquery` output lines, sorted.
pub fn repoquery(cache: &Path, repo: &Path, args: &[&str]) -> Vec<String> {
    let o = run(dnf(cache, repo)
        .arg("repoquery")
        .arg("--nogpgcheck")
        .args(args));
    assert!(o.status.success(), "dnf repoquery {args:?}: {}", stderr(&o));
    let mut lines: Vec<String> = stdout(&o).lines().map(str::to_string).collect();
    lines.sort();
    lines
}

/// Decompress a metadata file with the system tools (multi-member gzip, zstd frames).
pub fn decompress(path: &Path) -> Vec<u8> {
    let tool = if path.extension().is_some_and(|e| e == "zst") {
        "zstdcat"
    } else {
        "zcat"
    };
    let o = run(Command::new(tool).arg(path));
    assert!(
        o.status.success(),
        "{tool} {}: {}",
        path.display(),
        stderr(&o)
    );
    o.stdout
}

/// The repodata file of a given type (by its location in repomd.xml).
pub fn repodata_file(repo: &Path, kind: &str) -> PathBuf {
    let repomd = std::fs::read_to_string(repo.join("repodata/repomd.xml")).unwrap();
    let start = repomd
        .find(&format!("<data type=\"{kind}\">"))
        .unwrap_or_else(|| panic!("no {kind} in repomd"));
    let rest = &repomd[start..];
    let href = rest
        .split("<location href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    repo.join(href)
}

/// Copy every file of `from` (not recursive) into `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
        }
    }
}

/// Generate a key with `copr key generate` into `dir`; returns the secret key path.
pub fn generate_key(dir: &Path, algorithm: &str) -> PathBuf {
    copr()
        .args([
            "key",
            "generate",
            "--name",
            "tester/project",
            "--algorithm",
            algorithm,
            "--out",
        ])
        .arg(dir)
        .assert()
        .success();
    dir.join("secret.asc")
}

/// Snapshot of repodata/ (name → bytes).
pub fn snapshot(repo: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(repo.join("repodata"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

/// `rpmkeys --checksig` of `rpms` against `pubkey`, imported into a private rpm database.
pub fn checksig(pubkey: &Path, rpms: &[PathBuf]) -> Output {
    let db = tempfile::tempdir().unwrap();
    let imported = run(Command::new("rpmkeys")
        .arg("--dbpath")
        .arg(db.path())
        .arg("--import")
        .arg(pubkey));
    assert!(
        imported.status.success(),
        "rpmkeys --import: {}",
        stderr(&imported)
    );
    run(Command::new("rpmkeys")
        .arg("--dbpath")
        .arg(db.path())
        .arg("--checksig")
        .args(rpms))
}
