//! Repositories, keys and signatures, checked with the real consumers: createrepo_c, dnf,
//! rpmkeys, zcat/zstdcat, modulemd-validator.

mod repo_support;

use std::path::Path;
use std::process::Command;

use predicates::prelude::*;
use repo_support::*;

fn createrepo(dir: &Path, extra: &[&str]) -> serde_json::Value {
    let out = copr()
        .env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
        .args(["--output", "json", "createrepo"])
        .args(extra)
        .arg(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "copr createrepo: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("json summary")
}

fn createrepo_c(dir: &Path, extra: &[&str]) {
    let o = run(Command::new("createrepo_c")
        .arg("-q")
        .arg("--no-database")
        .args(extra)
        .arg(dir));
    assert!(o.status.success(), "createrepo_c: {}", stderr(&o));
}

/// Everything dnf can say about a repository's packages, for comparisons.
fn dnf_view(cache: &Path, repo: &Path) -> String {
    let qf = "==%{name}|%{epoch}|%{version}|%{release}|%{arch}|%{size}|%{installsize}|\
              %{buildtime}|%{license}|%{summary}|%{sourcerpm}|%{url}\n\
              requires:%{requires}\nprovides:%{provides}\nconflicts:%{conflicts}\n\
              obsoletes:%{obsoletes}\nrecommends:%{recommends}\nsuggests:%{suggests}\n\
              supplements:%{supplements}\nenhances:%{enhances}\nfiles:%{files}";
    let mut out = String::new();
    for args in [&["-a", "--qf", qf][..], &["-a", "--changelog"][..]] {
        let o = run(dnf(cache, repo)
            .arg("repoquery")
            .arg("--nogpgcheck")
            .args(args));
        assert!(o.status.success(), "dnf repoquery: {}", stderr(&o));
        out.push_str(&stdout(&o));
    }
    out
}

/// Our metadata is byte-identical (uncompressed) to createrepo_c's and dnf sees the same
/// packages, checksums, NEVRAs, dependencies with flags, provides, files and changelogs.
#[test]
fn matches_createrepo_c_through_dnf() {
    let tmp = tempfile::tempdir().unwrap();
    let ours = tmp.path().join("ours");
    let theirs = tmp.path().join("theirs");
    build_fixtures(&ours, &[]);
    copy_dir(&ours, &theirs);
    // Same mtimes so <time file> agrees.
    for e in std::fs::read_dir(&ours).unwrap() {
        let p = e.unwrap().path();
        let t = std::fs::metadata(&p).unwrap().modified().unwrap();
        std::fs::File::options()
            .write(true)
            .open(theirs.join(p.file_name().unwrap()))
            .unwrap()
            .set_modified(t)
            .unwrap();
    }
    let summary = createrepo(&ours, &[]);
    assert_eq!(summary["packages"], 4);
    createrepo_c(&theirs, &[]);
    for kind in ["primary", "filelists", "other"] {
        let a = decompress(&repodata_file(&ours, kind));
        let b = decompress(&repodata_file(&theirs, kind));
        assert_eq!(
            String::from_utf8_lossy(&a),
            String::from_utf8_lossy(&b),
            "{kind}.xml differs from createrepo_c's"
        );
    }
    let primary = String::from_utf8(decompress(&repodata_file(&ours, "primary"))).unwrap();
    // Rules worth seeing explicitly: pre, flags with epoch, escaping, primary file filter.
    assert!(primary.contains(r#"<rpm:entry name="/bin/sh" pre="1"/>"#));
    assert!(primary.contains(r#"<rpm:entry name="hello-a" flags="GE" epoch="0" ver="1.0"/>"#));
    assert!(primary.contains("Second fixture: \"quotes\" &amp; &lt;markup&gt;"));
    assert!(primary.contains("<file>/etc/hello-a.conf</file>"));
    assert!(!primary.contains("/usr/share/hello-a/data.txt"));
    // File requirements on other packages and on own non-primary files are kept.
    assert!(primary.contains(r#"<rpm:entry name="/usr/bin/hello-a"/>"#));
    assert!(primary.contains(r#"<rpm:entry name="/usr/lib/hello-c/helper"/>"#));
    let other = String::from_utf8(decompress(&repodata_file(&ours, "other"))).unwrap();
    assert!(
        !other.contains("entry 2\n") && other.contains("entry 3") && other.contains("entry 12")
    );

    let cache = tmp.path().join("cache");
    let a = dnf_view(&cache.join("a"), &ours);
    let b = dnf_view(&cache.join("b"), &theirs);
    assert!(a.contains("hello-a >= 1.0"), "{a}");
    assert!(a.contains("conflicts:hello-old < 0.1"), "{a}");
    assert!(a.contains("==hello-b|2|0.5|3|noarch"), "{a}");
    assert!(
        a.contains("- entry 12 (newest)") && !a.contains("- entry 2\n"),
        "{a}"
    );
    assert_eq!(a, b);
}

/// `--update` reads only new or changed packages, drops removed ones, stays identical to a
/// createrepo_c run on the same set, removes superseded metadata files, and cold runs are
/// deterministic.
#[test]
fn update_is_incremental_and_equivalent() {
    let tmp = tempfile::tempdir().unwrap();
    let all = tmp.path().join("all");
    build_fixtures(&all, &[]);
    let repo = tmp.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    for name in [
        "hello-a-1.0-1.noarch.rpm",
        "hello-b-0.5-3.noarch.rpm",
        "stub-sh-1-1.noarch.rpm",
    ] {
        std::fs::rename(all.join(name), repo.join(name)).unwrap();
    }
    let first = createrepo(&repo, &[]);
    assert_eq!(first["packages_read"], 3);
    let before = snapshot(&repo);
    let again = createrepo(&repo, &[]);
    assert_eq!(again["packages_read"], 3);
    let published = |s: std::collections::BTreeMap<String, Vec<u8>>| {
        s.into_iter()
            .filter(|(n, _)| !n.starts_with('.'))
            .collect::<Vec<_>>()
    };
    assert!(
        published(before) == published(snapshot(&repo)),
        "cold runs must be deterministic"
    );

    std::fs::rename(
        all.join("hello-c-1.2-1.noarch.rpm"),
        repo.join("hello-c-1.2-1.noarch.rpm"),
    )
    .unwrap();
    std::fs::remove_file(repo.join("stub-sh-1-1.noarch.rpm")).unwrap();
    let upd = createrepo(&repo, &["--update"]);
    assert_eq!(upd["packages"], 3);
    assert_eq!(upd["packages_read"], 1);
    assert_eq!(upd["packages_reused"], 2);
    // Only the current metadata files (and the cache) remain.
    let names: Vec<String> = snapshot(&repo)
        .into_keys()
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");

    let cmp = tmp.path().join("cmp");
    copy_dir(&repo, &cmp);
    for e in std::fs::read_dir(&repo).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            let t = std::fs::metadata(&p).unwrap().modified().unwrap();
            std::fs::File::options()
                .write(true)
                .open(cmp.join(p.file_name().unwrap()))
                .unwrap()
                .set_modified(t)
                .unwrap();
        }
    }
    createrepo_c(&cmp, &[]);
    for kind in ["primary", "filelists", "other"] {
        assert_eq!(
            decompress(&repodata_file(&repo, kind)),
            decompress(&repodata_file(&cmp, kind)),
            "{kind} after --update"
        );
    }
    let cache = tmp.path().join("cache");
    assert_eq!(
        repoquery(&cache, &repo, &["-a"]),
        vec![
            "hello-a-0:1.0-1.noarch",
            "hello-b-2:0.5-3.noarch",
            "hello-c-0:1.2-1.noarch"
        ]
    );
}

/// A package replaced by different content of the same size, with its mtime put back (a re-signed
/// RPM, `cp -p`, `rsync -t`), is read again by `--update` — whether it changed just after the
/// previous scan or long after. createrepo_c's (size, mtime) key would keep the stale checksum.
#[test]
fn update_notices_same_size_same_mtime_replacement() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    build_fixtures(&repo, &["hello-a", "stub-sh"]);
    let a = repo.join("hello-a-1.0-1.noarch.rpm");
    // dnf compares a local package with the checksum in primary.xml before it uses it ("has
    // incorrect checksum"); --downloadonly stops there, before rpm reads the altered payload.
    // It runs on a fresh copy: librepo caches a file's checksum in extended attributes keyed by
    // its mtime, which a replacement that keeps the mtime fools just the same.
    let mut round = 0;
    let mut dnf_accepts_checksum = || {
        round += 1;
        let copy = tmp.path().join(format!("copy{round}"));
        copy_dir(&repo, &copy);
        copy_dir(&repo.join("repodata"), &copy.join("repodata"));
        let o = run(dnf(&tmp.path().join(format!("cache{round}")), &copy)
            .args(["-y", "--nogpgcheck", "--downloadonly", "install", "hello-a"])
            .arg(format!(
                "--installroot={}",
                tmp.path().join(format!("root{round}")).display()
            )));
        assert!(o.status.success(), "dnf: {}{}", stdout(&o), stderr(&o));
    };
    let flip_keeping_mtime = |p: &Path| {
        let mtime = std::fs::metadata(p).unwrap().modified().unwrap();
        let mut bytes = std::fs::read(p).unwrap();
        let n = bytes.len();
        bytes[n - 7] ^= 0x5a;
        std::fs::write(p, &bytes).unwrap();
        std::fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
    };

    // Changed right after the scan that recorded it: the stamp alone cannot be trusted.
    createrepo(&repo, &[]);
    flip_keeping_mtime(&a);
    let upd = createrepo(&repo, &["--update"]);
    assert_eq!(upd["packages_read"], 1, "{upd}");
    assert_eq!(upd["packages_reused"], 1, "{upd}");
    dnf_accepts_checksum();

    // Changed long after the scan (the stamp was settled): the ctime gives it away.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let settled = createrepo(&repo, &["--update"]);
    assert_eq!(settled["packages_reused"], 2, "{settled}");
    flip_keeping_mtime(&a);
    let upd = createrepo(&repo, &["--update"]);
    assert_eq!(upd["packages_read"], 1, "{upd}");
    // Unchanged packages stay reused.
    let again = createrepo(&repo, &["--update"]);
    assert_eq!(again["packages_read"], 0, "{again}");
    dnf_accepts_checksum();
}

/// zstd metadata and a modules.yaml record are written and read by dnf and libmodulemd.
#[test]
fn zstd_and_modules_yaml() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    build_fixtures(&repo, &["hello-a", "stub-sh"]);
    let modules = "---\ndocument: modulemd\nversion: 2\ndata:\n  name: hello\n  stream: \"1.0\"\n  \
        version: 20240101000000\n  context: c0ffee42\n  arch: noarch\n  summary: Hello module\n  \
        description: Fixture module.\n  license:\n    module: [MIT]\n  profiles:\n    default:\n      \
        rpms: [hello-a]\n  artifacts:\n    rpms: [hello-a-0:1.0-1.noarch]\n...\n---\n\
        document: modulemd-defaults\nversion: 1\ndata:\n  module: hello\n  stream: \"1.0\"\n  \
        profiles:\n    \"1.0\": [default]\n...\n";
    std::fs::write(repo.join("modules.yaml"), modules).unwrap();
    createrepo(&repo, &["--compress", "zstd"]);
    let m = repodata_file(&repo, "modules");
    assert!(m.to_string_lossy().ends_with("-modules.yaml.zst"));
    assert!(
        repodata_file(&repo, "primary")
            .to_string_lossy()
            .ends_with("-primary.xml.zst")
    );
    let plain = tmp.path().join("modules.yaml");
    std::fs::write(&plain, decompress(&m)).unwrap();
    let v = run(Command::new("modulemd-validator").arg(&plain));
    assert!(
        v.status.success(),
        "modulemd-validator: {}{}",
        stdout(&v),
        stderr(&v)
    );
    let cache = tmp.path().join("cache");
    assert_eq!(
        repoquery(&cache, &repo, &["-a"]),
        vec!["hello-a-0:1.0-1.noarch", "stub-sh-0:1-1.noarch"]
    );
    let o = run(dnf(&cache, &repo).args(["--nogpgcheck", "module", "list"]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("hello"), "{}", stdout(&o));
}

/// Signed RPMs verify with `rpmkeys --checksig` once our pubkey.gpg is imported, report NOKEY
/// before, keep their size and digests, and a second `copr sign` leaves them alone.
#[test]
fn rpmkeys_accepts_our_signatures() {
    let tmp = tempfile::tempdir().unwrap();
    let rpms = build_fixtures(&tmp.path().join("rpms"), &["hello-a", "hello-b"]);
    for alg in ["rsa4096", "ed25519"] {
        let keydir = tmp.path().join(format!("key-{alg}"));
        let secret = generate_key(&keydir, alg);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let work = tmp.path().join(format!("work-{alg}"));
        std::fs::create_dir(&work).unwrap();
        let mut files = Vec::new();
        for r in &rpms {
            let dst = work.join(r.file_name().unwrap());
            std::fs::copy(r, &dst).unwrap();
            files.push(dst);
        }
        copr()
            .arg("sign")
            .arg("--key")
            .arg(&secret)
            .args(&files)
            .assert()
            .success()
            .stdout(predicate::str::contains("signed"));
        for (orig, signed) in rpms.iter().zip(&files) {
            assert_eq!(
                std::fs::metadata(orig).unwrap().len(),
                std::fs::metadata(signed).unwrap().len()
            );
        }
        copr()
            .arg("sign")
            .arg("--key")
            .arg(&secret)
            .args(&files)
            .assert()
            .success()
            .stdout(predicate::str::contains("already signed by this key"));

        let db = tmp.path().join(format!("db-{alg}"));
        std::fs::create_dir(&db).unwrap();
        let check = |verbose: bool| {
            run(Command::new("rpmkeys")
                .arg("--dbpath")
                .arg(&db)
                .arg(if verbose { "-Kv" } else { "--checksig" })
                .args(&files))
        };
        let o = check(true);
        assert!(!o.status.success());
        assert!(stdout(&o).contains("NOKEY"), "{}", stdout(&o));
        assert!(stdout(&o).contains("MD5 digest: OK"), "{}", stdout(&o));
        let imp = run(Command::new("rpmkeys")
            .arg("--dbpath")
            .arg(&db)
            .arg("--import")
            .arg(keydir.join("pubkey.gpg")));
        assert!(
            imp.status.success(),
            "rpm 4.18 must import our key: {}",
            stderr(&imp)
        );
        let o = check(false);
        assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
        assert_eq!(
            stdout(&o).matches("digests signatures OK").count(),
            files.len(),
            "{}",
            stdout(&o)
        );
        let v = stdout(&check(true));
        let expect = if alg == "rsa4096" {
            "Header V4 RSA/SHA256 Signature"
        } else {
            "Header V4 EdDSA/SHA256 Signature"
        };
        assert!(v.contains(expect), "{v}");
    }
}

/// dnf installs from our signed repository (via the generated .repo file) into an empty root
/// with gpgcheck=1 and repo_gpgcheck=1, and refuses once an RPM or repomd.xml is tampered with.
#[test]
fn dnf_installs_from_signed_repo_and_refuses_tampering() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let rpms = build_fixtures(&repo, &["hello-a", "stub-sh"]);
    let keydir = tmp.path().join("key");
    let secret = generate_key(&keydir, "ed25519");
    copr()
        .arg("sign")
        .arg("--key")
        .arg(&secret)
        .args(&rpms)
        .assert()
        .success();
    copr()
        .arg("createrepo")
        .arg("--sign-key")
        .arg(&secret)
        .arg("--repo-file")
        .arg(&repo)
        .assert()
        .success();
    assert!(repo.join("repodata/repomd.xml.asc").is_file());
    let repo_file = std::fs::read_to_string(repo.join("copr.repo")).unwrap();
    assert!(
        repo_file.contains("gpgcheck=1") && repo_file.contains("repo_gpgcheck=1"),
        "{repo_file}"
    );
    assert!(
        repo_file.contains(&format!(
            "gpgkey=file://{}",
            keydir.join("pubkey.gpg").display()
        )),
        "{repo_file}"
    );
    let reposdir = tmp.path().join("reposdir");
    std::fs::create_dir(&reposdir).unwrap();
    std::fs::copy(repo.join("copr.repo"), reposdir.join("copr.repo")).unwrap();

    let install = |root: &Path, cache: &Path| {
        run(Command::new("dnf")
            .args(["-y", "--releasever=12", "--setopt=metadata_expire=0"])
            .arg(format!("--setopt=cachedir={}", cache.display()))
            .arg(format!("--setopt=reposdir={}", reposdir.display()))
            .arg(format!("--installroot={}", root.display()))
            .args(["--setopt=gpgcheck=1", "install", "hello-a"]))
    };
    let root = tmp.path().join("root1");
    let o = install(&root, &tmp.path().join("cache1"));
    assert!(o.status.success(), "install: {}{}", stdout(&o), stderr(&o));
    assert!(root.join("usr/bin/hello-a").is_file());

    // A tampered package, even with consistent (re-signed) metadata, is refused.
    let a = repo.join("hello-a-1.0-1.noarch.rpm");
    let mut bytes = std::fs::read(&a).unwrap();
    let n = bytes.len();
    bytes[n - 20] ^= 0xff;
    std::fs::write(&a, bytes).unwrap();
    copr()
        .arg("createrepo")
        .arg("--update")
        .arg("--sign-key")
        .arg(&secret)
        .arg(&repo)
        .assert()
        .success();
    let o = install(&tmp.path().join("root2"), &tmp.path().join("cache2"));
    assert!(
        !o.status.success(),
        "tampered RPM was installed: {}",
        stdout(&o)
    );
    assert!(!tmp.path().join("root2/usr/bin/hello-a").exists());

    // A tampered repomd.xml fails its signature check.
    let rebuilt = build_fixtures(&tmp.path().join("fresh"), &["hello-a"]);
    std::fs::copy(&rebuilt[0], &a).unwrap();
    copr()
        .arg("sign")
        .arg("--key")
        .arg(&secret)
        .arg(&a)
        .assert()
        .success();
    copr()
        .arg("createrepo")
        .arg("--update")
        .arg("--sign-key")
        .arg(&secret)
        .arg(&repo)
        .assert()
        .success();
    let o = install(&tmp.path().join("root3"), &tmp.path().join("cache3"));
    assert!(o.status.success(), "restored repo: {}", stderr(&o));
    let repomd = repo.join("repodata/repomd.xml");
    let text = std::fs::read_to_string(&repomd).unwrap();
    std::fs::write(&repomd, text.replace("<revision>", "<revision>1")).unwrap();
    let o = install(&tmp.path().join("root4"), &tmp.path().join("cache4"));
    assert!(!o.status.success(), "tampered repomd.xml accepted");
    assert!(
        stderr(&o).contains("GPG") || stderr(&o).contains("signature"),
        "{}",
        stderr(&o)
    );
}

/// A truncated RPM, a non-RPM named .rpm, an unusable repodata path and a malformed key each
/// give a clear error naming the culprit, and the previous repodata stays intact.
#[test]
fn bad_input_leaves_previous_repodata_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let rpms = build_fixtures(&repo, &["hello-a", "hello-b"]);
    createrepo(&repo, &[]);
    let good = snapshot(&repo);

    let truncated = repo.join("zz-truncated-1-1.noarch.rpm");
    let bytes = std::fs::read(&rpms[0]).unwrap();
    std::fs::write(&truncated, &bytes[..1000]).unwrap();
    let bogus = repo.join("notes.rpm");
    std::fs::write(&bogus, "this is not a package\n").unwrap();
    for update in [false, true] {
        let mut c = copr();
        c.arg("createrepo");
        if update {
            c.arg("--update");
        }
        c.arg(&repo)
            .assert()
            .failure()
            .code(3)
            .stderr(predicate::str::contains(truncated.display().to_string()))
            .stderr(predicate::str::contains("truncated"))
            .stderr(predicate::str::contains(bogus.display().to_string()))
            .stderr(predicate::str::contains("not an RPM package"))
            .stderr(predicate::str::contains("hint:"));
        assert_eq!(good, snapshot(&repo), "repodata changed after a failed run");
    }
    std::fs::remove_file(&truncated).unwrap();
    std::fs::remove_file(&bogus).unwrap();

    // Malformed and public-only keys are refused before anything is written.
    let junk = tmp.path().join("junk.asc");
    std::fs::write(&junk, "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nnonsense\n").unwrap();
    copr()
        .arg("createrepo")
        .arg("--sign-key")
        .arg(&junk)
        .arg(&repo)
        .assert()
        .failure()
        .code(6)
        .stderr(predicate::str::contains("not an OpenPGP secret key"))
        .stderr(predicate::str::contains("nonsense").not());
    let keydir = tmp.path().join("key");
    generate_key(&keydir, "ed25519");
    copr()
        .arg("createrepo")
        .arg("--sign-key")
        .arg(keydir.join("pubkey.gpg"))
        .arg(&repo)
        .assert()
        .failure()
        .code(6)
        .stderr(predicate::str::contains("only a public key"));
    copr()
        .arg("sign")
        .arg("--key")
        .arg(&junk)
        .arg(&rpms[0])
        .assert()
        .failure()
        .code(6);
    assert_eq!(good, snapshot(&repo));

    // A directory that cannot hold repodata/.
    let blocked = tmp.path().join("blocked");
    build_fixtures(&blocked, &["hello-a"]);
    std::fs::write(blocked.join("repodata"), "in the way").unwrap();
    copr()
        .arg("createrepo")
        .arg(&blocked)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            blocked.join("repodata").display().to_string(),
        ));
    assert_eq!(
        std::fs::read_to_string(blocked.join("repodata")).unwrap(),
        "in the way"
    );

    // copr sign reports a non-RPM by path and leaves it unchanged.
    copr()
        .arg("sign")
        .arg("--key")
        .arg(keydir.join("secret.asc"))
        .arg(bogus_file(tmp.path()))
        .assert()
        .failure()
        .stderr(predicate::str::contains("not an RPM package"));
}

fn bogus_file(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("fake.rpm");
    std::fs::write(&p, "not an rpm").unwrap();
    p
}

/// Publishing a local result directory creates the project key once (0700 key store, pubkey.gpg
/// at the root), signs packages, writes a signed repository and a .repo file per chroot, and a
/// second publication reuses key and signatures.
#[test]
fn publish_local_results_signs_and_reuses_key() {
    use copr::repo::publish::{PublishOptions, publish_local_results};
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let chroot = results.join("fedora-40-x86_64");
    build_fixtures(&chroot, &["hello-a", "hello-b"]);
    let reporter = copr::reporter::Silent;
    let first = publish_local_results(
        &results,
        "tester",
        "proj",
        &PublishOptions::default(),
        &reporter,
    )
    .unwrap();
    assert_eq!(first.chroots.len(), 1);
    assert_eq!(first.chroots[0].signed.len(), 2);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(results.join(".keys"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
    assert!(results.join("pubkey.gpg").is_file());
    assert!(chroot.join("repodata/repomd.xml.asc").is_file());
    assert!(chroot.join("copr.repo").is_file());
    assert!(!first.dnf_lines().is_empty());

    let second = publish_local_results(
        &results,
        "tester",
        "proj",
        &PublishOptions::default(),
        &reporter,
    )
    .unwrap();
    assert_eq!(second.key_fingerprint, first.key_fingerprint);
    assert_eq!(second.chroots[0].already_signed, 2);
    assert_eq!(second.chroots[0].repo.packages_reused, 2);

    let o = checksig(
        &results.join("pubkey.gpg"),
        &[
            chroot.join("hello-a-1.0-1.noarch.rpm"),
            chroot.join("hello-b-0.5-3.noarch.rpm"),
        ],
    );
    assert!(o.status.success(), "{}", stdout(&o));
    // The detached signature verifies with GnuPG, as dnf's repo_gpgcheck does.
    let gnupg = tmp.path().join("gnupg");
    std::fs::create_dir(&gnupg).unwrap();
    std::fs::set_permissions(&gnupg, std::fs::Permissions::from_mode(0o700)).unwrap();
    let gpg = |args: &[&std::ffi::OsStr]| {
        run(Command::new("gpg")
            .arg("--batch")
            .arg("--homedir")
            .arg(&gnupg)
            .args(args))
    };
    assert!(
        gpg(&["--import".as_ref(), results.join("pubkey.gpg").as_os_str()])
            .status
            .success()
    );
    let v = gpg(&[
        "--verify".as_ref(),
        chroot.join("repodata/repomd.xml.asc").as_os_str(),
        chroot.join("repodata/repomd.xml").as_os_str(),
    ]);
    assert!(v.status.success(), "{}", stderr(&v));
}

/// `copr key export` prints the public key of a secret key file and never the secret part.
#[test]
fn key_export_prints_public_key_only() {
    let tmp = tempfile::tempdir().unwrap();
    let secret = generate_key(tmp.path(), "ed25519");
    let out = copr()
        .args(["key", "export", "--key"])
        .arg(&secret)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----"));
    assert!(!text.contains("PRIVATE"));
    assert_eq!(
        text.as_bytes(),
        std::fs::read(tmp.path().join("pubkey.gpg")).unwrap()
    );
    copr()
        .args(["key", "generate", "--name", "tester/project", "--out"])
        .arg(tmp.path())
        .assert()
        .failure()
        .stderr(predicate::str::contains("already exists"));
}

/// A package without reserved signature space (built by the rpm crate with none) is signed by
/// rewriting it, and rpm 4.18 verifies the result.
#[test]
fn signs_package_without_reserved_space() {
    let tmp = tempfile::tempdir().unwrap();
    let pkg = rpm::PackageBuilder::new("tight", "1.0", "MIT", "noarch", "no reserved space")
        .using_config(
            rpm::BuildConfig::v4()
                .reserved_space(None)
                .compression(rpm::CompressionType::Gzip),
        )
        .with_file_contents("hello\n", rpm::FileOptions::new("/usr/share/tight/hello"))
        .unwrap()
        .build()
        .unwrap();
    let path = tmp.path().join("tight-1.0-1.noarch.rpm");
    pkg.write_file(&path).unwrap();
    let before = std::fs::metadata(&path).unwrap().len();
    let keydir = tmp.path().join("key");
    let secret = generate_key(&keydir, "ed25519");
    copr()
        .arg("sign")
        .arg("--key")
        .arg(&secret)
        .arg(&path)
        .assert()
        .success()
        .stdout(predicate::str::contains("rewritten"));
    assert!(std::fs::metadata(&path).unwrap().len() > before);
    let o = checksig(&keydir.join("pubkey.gpg"), std::slice::from_ref(&path));
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("digests signatures OK"),
        "{}",
        stdout(&o)
    );
}

/// `copr build` ends with a signed repository per chroot: the packages verify against the
/// exported pubkey.gpg, dnf reads the repository through the generated .repo file with
/// repo_gpgcheck=1, and a second build reuses the project key.
#[test]
fn copr_build_publishes_signed_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/hello");
    let build = |n: u32| {
        let out = copr()
            .args(["--output", "json", "build"])
            .arg(&example)
            .arg("--resultdir")
            .arg(&results)
            .output()
            .unwrap();
        assert!(out.status.success(), "build {n}: {}", stderr(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let first = build(1);
    let repos = &first["repositories"];
    let chroot = Path::new(repos["chroots"][0]["dir"].as_str().unwrap()).to_path_buf();
    assert!(chroot.join("repodata/repomd.xml.asc").is_file());
    assert!(repos["dnf"][0].as_str().unwrap().contains("copr.repo"));
    let rpms: Vec<_> = walk_rpms(&chroot);
    assert!(!rpms.is_empty());

    let o = checksig(&results.join("pubkey.gpg"), &rpms);
    assert!(o.status.success(), "{}", stdout(&o));

    let reposdir = tmp.path().join("reposdir");
    std::fs::create_dir(&reposdir).unwrap();
    std::fs::copy(chroot.join("copr.repo"), reposdir.join("copr.repo")).unwrap();
    let o = run(Command::new("dnf")
        .args(["-q", "-y", "--releasever=12", "--setopt=metadata_expire=0"])
        .arg(format!(
            "--setopt=cachedir={}",
            tmp.path().join("cache").display()
        ))
        .arg(format!("--setopt=reposdir={}", reposdir.display()))
        .args(["repoquery", "-a"]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("hello-0:1.0-1"), "{}", stdout(&o));

    // A compiled package (auto-generated libc.so.6 requires) and an SRPM: same metadata as
    // createrepo_c writes.
    let cmp = tmp.path().join("cmp");
    std::fs::create_dir(&cmp).unwrap();
    for r in &rpms {
        let dst = cmp.join(r.file_name().unwrap());
        std::fs::copy(r, &dst).unwrap();
        let t = std::fs::metadata(r).unwrap().modified().unwrap();
        std::fs::File::options()
            .write(true)
            .open(&dst)
            .unwrap()
            .set_modified(t)
            .unwrap();
    }
    createrepo_c(&cmp, &[]);
    for kind in ["primary", "filelists", "other"] {
        let ours = String::from_utf8(decompress(&repodata_file(&chroot, kind))).unwrap();
        let theirs = String::from_utf8(decompress(&repodata_file(&cmp, kind))).unwrap();
        // Locations differ (build subdirectory); compare the rest.
        let strip = |s: &str| s.replace("00000001-hello/", "");
        assert!(kind != "primary" || ours.contains("libc.so.6("), "{ours}");
        assert_eq!(strip(&ours), strip(&theirs), "{kind}");
    }

    let second = build(2);
    assert_eq!(
        second["repositories"]["key_fingerprint"],
        repos["key_fingerprint"]
    );
}

fn walk_rpms(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() && !p.ends_with("repodata") {
            out.extend(walk_rpms(&p));
        } else if p.extension().is_some_and(|x| x == "rpm") {
            out.push(p);
        }
    }
    out
}
