//! The sandbox backend through the library API: builds, isolation, limits, BuildRequires and
//! failure summaries, checked with rpm itself.

mod sandbox_support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use copr::mock::{BackendError, BuildKind, CancelToken};
use sandbox_support::*;

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("sandbox-test-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap()
}

/// A C program builds from spec to SRPM to binary RPM with the expected NEVRA.
#[test]
fn builds_c_program() {
    let root = tempdir();
    let sb = sandbox();
    let srpm = srpm(&*sb, "hello", root.path(), &Opts::default());
    assert_eq!(rpm_q(&srpm, "%{NAME}-%{VERSION}-%{RELEASE}"), "hello-1.0-1");
    assert!(srpm.starts_with(root.path().join("out-srpm-hello")));
    // The project's own result repository does not exist before its first build.
    let opts = Opts {
        repos: vec![copr::mock::RepoSource::Dir(
            root.path().join("no-results-yet"),
        )],
        ..Opts::default()
    };
    let r = run(&*sb, BuildKind::Rebuild { srpm }, root.path(), "rpm", &opts);
    let out = r.ok();
    assert_eq!(out.packages.len(), 1, "{:?}", out.packages);
    let pkg = &out.packages[0];
    assert_eq!(
        rpm_q(pkg, "%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}"),
        format!("hello-1.0-1.{}", copr::mock::host_arch())
    );
    let files = std::process::Command::new("rpm")
        .arg("-qlp")
        .arg(pkg)
        .output()
        .unwrap();
    let files = String::from_utf8_lossy(&files.stdout).into_owned();
    assert!(files.lines().any(|l| l == "/usr/bin/hello"), "{files}");
    // The live log holds rpmbuild's own output.
    assert!(r.log.contains("+ gcc -O2 -o hello hello.c"), "{}", r.log);
}

/// A mapped chroot builds with its %dist; an unmapped one is a clear error.
#[test]
fn chroot_mapping() {
    let root = tempdir();
    let arch = copr::mock::host_arch();
    let mapped = format!("fedora-40-{arch}");
    let cfg =
        copr::mock::HostConfig::parse(&format!("[sandbox]\nchroots = [\"{mapped}\"]\n")).unwrap();
    let sb = copr::mock::backend(copr::mock::BackendKind::Sandbox, &cfg).unwrap();
    let opts = Opts {
        chroot: mapped,
        ..Opts::default()
    };
    let r = build(
        &*sb,
        "probe",
        root.path(),
        &opts.define("canary", "/nonexistent"),
    );
    assert_eq!(
        rpm_q(&r.ok().packages[0], "%{RELEASE}"),
        "1",
        "probe has no %{{?dist}}"
    );
    let hello = srpm(
        &*sb,
        "hello",
        root.path(),
        &Opts {
            chroot: format!("fedora-40-{arch}"),
            ..Opts::default()
        },
    );
    assert_eq!(rpm_q(&hello, "%{RELEASE}"), "1.fc40");

    let e = sandbox()
        .check_chroot(&format!("fedora-40-{arch}"))
        .unwrap_err();
    assert!(matches!(e, BackendError::UnsupportedChroot { .. }));
    assert!(e.to_string().contains("copr-build.toml"), "{e}");
    let other = if arch == "x86_64" {
        "aarch64"
    } else {
        "x86_64"
    };
    let e = sandbox()
        .check_chroot(&format!("host-{other}"))
        .unwrap_err();
    assert!(e.to_string().contains(&format!("host-{arch}")), "{e}");
    // build() refuses it too, before doing anything.
    let r = run(
        &*sandbox(),
        BuildKind::Rebuild { srpm: hello },
        root.path(),
        "unmapped",
        &Opts {
            chroot: format!("fedora-40-{arch}"),
            ..Opts::default()
        },
    );
    assert!(matches!(r.err(), BackendError::UnsupportedChroot { .. }));
    assert!(!root.path().join("work-unmapped").exists());
}

/// The build runs as uid 1000 without capabilities in /builddir, cannot write the host, sees no
/// host secrets, has its own PID namespace and an empty /tmp, wherever the workdir lies.
#[test]
fn build_is_isolated() {
    let root = tempdir();
    let canary = root.path().join("canary");
    std::fs::write(&canary, "original").unwrap();
    let opts = Opts::default().define("canary", &canary.display().to_string());
    let r = build(&*sandbox(), "probe", root.path(), &opts);
    r.ok();
    let probe: Vec<&str> = r.log.lines().filter(|l| l.starts_with("PROBE ")).collect();
    let has = |s: &str| probe.contains(&format!("PROBE {s}").as_str());
    assert!(has("uid=1000 gid=1000"), "{probe:?}");
    assert_eq!(std::fs::read_to_string(&canary).unwrap(), "original");
    assert!(has("canary=refused"), "{probe:?}");
    // rpm 4.20 builds in BUILD/<name>-<version>-build.
    assert!(
        probe
            .iter()
            .any(|l| l.starts_with("PROBE pwd=/builddir/build/BUILD")),
        "{probe:?}"
    );
    assert!(has("usr=refused"), "{probe:?}");
    assert!(!std::path::Path::new("/usr/copr-probe").exists());
    assert!(has("workdir=written"), "{probe:?}");
    assert!(has("root-entries=0"), "{probe:?}");
    assert!(has("log-entries=0"), "{probe:?}");
    assert!(has("userns=denied"), "{probe:?}");
    assert!(has("shadow-bytes=0"), "{probe:?}");
    assert!(has("tmp-entries=0"), "{probe:?}");
    assert!(has("CapEff:0000000000000000"), "{probe:?}");
    let procs: usize = probe
        .iter()
        .find_map(|l| l.strip_prefix("PROBE processes="))
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        procs < 15,
        "the build sees {procs} processes: not its own PID namespace"
    );
    // The host itself has more than that (this test runner alone is one), and a readable /root.
    assert!(std::fs::read_dir("/proc").unwrap().count() > procs);
}

/// The binary build reads its SRPM in place, read-only, even from a directory the sandbox
/// hides (/tmp): it cannot change the SRPM.
#[test]
fn srpm_is_read_in_place_and_read_only() {
    let root = tempdir();
    let sb = sandbox();
    let built = srpm(&*sb, "probe", root.path(), &Opts::default());
    let hidden = tempfile::Builder::new()
        .prefix("copr-srpm-")
        .tempdir_in("/tmp")
        .unwrap();
    let srpm = hidden.path().join(built.file_name().unwrap());
    std::fs::copy(&built, &srpm).unwrap();
    let before = std::fs::read(&srpm).unwrap();
    let opts = Opts::default()
        .define("canary", "/nonexistent/canary")
        .define(
            "srpmfile",
            &format!(
                "/builddir/build/originals/{}",
                srpm.file_name().unwrap().to_string_lossy()
            ),
        );
    let r = run(
        &*sb,
        BuildKind::Rebuild { srpm: srpm.clone() },
        root.path(),
        "rpm-probe",
        &opts,
    );
    assert_eq!(
        rpm_q(&r.ok().packages[0], "%{NAME}-%{VERSION}-%{RELEASE}"),
        "probe-1-1"
    );
    assert!(r.log.contains("PROBE srpm=readable"), "{}", r.log);
    assert!(r.log.contains("PROBE srpm=refused"), "{}", r.log);
    assert_eq!(
        std::fs::read(&srpm).unwrap(),
        before,
        "the SRPM was modified"
    );
}

/// %build reaching a loopback server fails without enable_net and succeeds with it.
#[test]
fn network_only_when_enabled() {
    let root = tempdir();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = String::new();
        s.read_to_string(&mut buf).unwrap();
        buf
    });
    let sb = sandbox();
    let opts = Opts::default().define("test_port", &port.to_string());
    let srpm = srpm(&*sb, "net", root.path(), &opts);
    let offline = run(
        &*sb,
        BuildKind::Rebuild { srpm: srpm.clone() },
        root.path(),
        "off",
        &opts,
    );
    match offline.err() {
        BackendError::BuildFailed { summary } => {
            assert!(summary.contains("/dev/tcp/127.0.0.1"), "{summary}")
        }
        e => panic!("{e}"),
    }
    assert!(
        !server.is_finished(),
        "the offline build reached the server"
    );
    let online = run(
        &*sb,
        BuildKind::Rebuild { srpm },
        root.path(),
        "on",
        &Opts {
            enable_net: true,
            ..opts
        },
    );
    online.ok();
    assert_eq!(server.join().unwrap(), "hello from net\n");
}

/// Timeout and cancel kill the whole process tree, including children in their own session.
#[test]
fn timeout_and_cancel_kill_everything() {
    let root = tempdir();
    let sb = sandbox();
    for mode in ["timeout", "cancel"] {
        // A sleep length no other process on the machine uses.
        let marker = format!("{}.{}", 9000 + std::process::id() % 1000, rand_suffix());
        let mut opts = Opts::default().define("marker", &marker);
        let srpm = srpm(&*sb, "sleeper", root.path(), &opts);
        let cancel = CancelToken::new();
        opts.cancel = cancel.clone();
        if mode == "timeout" {
            opts.timeout = Duration::from_secs(8);
        }
        let watcher = {
            let marker = marker.clone();
            std::thread::spawn(move || {
                // Wait until all three children run, then (for cancel) cancel.
                for _ in 0..1200 {
                    if processes_with(&format!("sleep {marker}")).len() >= 4 {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                let seen = processes_with(&format!("sleep {marker}")).len();
                if mode == "cancel" {
                    cancel.cancel();
                }
                seen
            })
        };
        let r = run(&*sb, BuildKind::Rebuild { srpm }, root.path(), mode, &opts);
        let seen = watcher.join().unwrap();
        assert_eq!(seen, 4, "{mode}: the sleeps never all started\n{}", r.log);
        match (mode, r.err()) {
            ("timeout", BackendError::Timeout(d)) => assert_eq!(*d, Duration::from_secs(8)),
            ("cancel", BackendError::Canceled) => {}
            (_, e) => panic!("{mode}: {e}"),
        }
        assert!(r.log.contains("children started"), "{}", r.log);
        let left = processes_with(&format!("sleep {marker}"));
        assert!(left.is_empty(), "{mode}: survivors {left:?}");
    }
}

fn rand_suffix() -> u32 {
    use std::time::SystemTime;
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
        % 100_000
}

/// A build over the memory limit fails; the same build with room succeeds.
#[test]
fn memory_limit() {
    let root = tempdir();
    let sb = sandbox();
    let opts = Opts::default().define("mib", "400");
    let srpm = srpm(&*sb, "memhog", root.path(), &opts);
    let tight = run(
        &*sb,
        BuildKind::Rebuild { srpm: srpm.clone() },
        root.path(),
        "tight",
        &Opts {
            memory_limit: Some(256 << 20),
            ..Opts::default().define("mib", "400")
        },
    );
    match tight.err() {
        BackendError::BuildFailed { summary } => {
            assert!(summary.contains("MemoryError"), "{summary}")
        }
        e => panic!("{e}"),
    }
    let roomy = run(
        &*sb,
        BuildKind::Rebuild { srpm },
        root.path(),
        "roomy",
        &Opts {
            memory_limit: Some(2 << 30),
            ..opts
        },
    );
    roomy.ok();
    assert!(roomy.log.contains("allocated 400 MiB"), "{}", roomy.log);
}

/// Failure summaries name the compiler error with file:line and rpmbuild's spec errors.
#[test]
fn failure_summaries() {
    let root = tempdir();
    let sb = sandbox();
    let srpm = srpm(&*sb, "cerror", root.path(), &Opts::default());
    let r = run(
        &*sb,
        BuildKind::Rebuild { srpm },
        root.path(),
        "cerror",
        &Opts::default(),
    );
    match r.err() {
        BackendError::BuildFailed { summary } => {
            let first = summary.lines().next().unwrap();
            assert!(
                first.starts_with("broken.c:3:12: error: 'undeclared_variable' undeclared"),
                "{summary}"
            );
            assert!(summary.contains("Bad exit status"), "{summary}");
            assert_eq!(copr::mock::failure_summary(&r.log), *summary);
        }
        e => panic!("{e}"),
    }
    // No compiler error: the failing command and its last output explain the bad exit.
    let srpm = sandbox_support::srpm(&*sb, "badexit", root.path(), &Opts::default());
    let r = run(
        &*sb,
        BuildKind::Rebuild { srpm },
        root.path(),
        "badexit",
        &Opts::default(),
    );
    match r.err() {
        BackendError::BuildFailed { summary } => {
            let lines: Vec<&str> = summary.lines().collect();
            assert_eq!(lines[0], "+ make -f missing.mk", "{summary}");
            assert!(
                lines[1].starts_with("make: missing.mk: No such file"),
                "{summary}"
            );
            assert!(
                lines.last().unwrap().contains("Bad exit status"),
                "{summary}"
            );
            assert!(!summary.contains("all good so far"), "{summary}");
        }
        e => panic!("{e}"),
    }
    let dir = fixture("broken");
    let r = run(
        &*sb,
        BuildKind::Srpm {
            spec: dir.join("broken.spec"),
            sources: dir,
        },
        root.path(),
        "broken",
        &Opts::default(),
    );
    match r.err() {
        BackendError::BuildFailed { summary } => {
            assert_eq!(summary, "error: line 6: Unknown tag: Bogus-Tag:      nope")
        }
        e => panic!("{e}"),
    }
    let _ = std::io::stderr().flush();
}

/// Package B compiles and links against A's header and library, installed into B's buildroot
/// from A's result directory; without that repository B fails before rpmbuild runs, naming
/// each missing dependency.
#[test]
fn build_requires_from_repository() {
    use copr::mock::RepoSource;
    let root = tempdir();
    let sb = sandbox();
    let a = build(&*sb, "liba", root.path(), &Opts::default());
    let names: Vec<String> = a
        .ok()
        .packages
        .iter()
        .map(|p| rpm_q(p, "%{NAME}"))
        .collect();
    assert!(names.contains(&"liba".to_string()) && names.contains(&"liba-devel".to_string()));
    let b_srpm = srpm(&*sb, "libb", root.path(), &Opts::default());

    let without = run(
        &*sb,
        BuildKind::Rebuild {
            srpm: b_srpm.clone(),
        },
        root.path(),
        "b-alone",
        &Opts::default(),
    );
    match without.err() {
        BackendError::UnmetDependencies(missing) => {
            assert_eq!(missing, &["liba-devel >= 2.0", "pkgconfig(liba)"])
        }
        e => panic!("{e}"),
    }
    assert!(
        !without.log.contains("Executing(%build)"),
        "{}",
        without.log
    );
    assert!(
        copr::mock::failure_summary(&without.log).contains("liba-devel >= 2.0 is needed by libb"),
        "{}",
        without.log
    );

    let repos = vec![RepoSource::Dir(a.outdir.clone())];
    let with = run(
        &*sb,
        BuildKind::Rebuild {
            srpm: b_srpm.clone(),
        },
        root.path(),
        "b-with-a",
        &Opts {
            repos: repos.clone(),
            ..Opts::default()
        },
    );
    let b = &with.ok().packages[0];
    assert_eq!(rpm_q(b, "%{NAME}-%{VERSION}"), "libb-1.0");
    let requires = rpm_q(b, "[%{REQUIRENAME}\n]");
    assert!(
        requires.lines().any(|l| l.starts_with("liba.so.1")),
        "{requires}"
    );
    assert!(
        with.log.contains("installing liba-devel-2.1-1"),
        "{}",
        with.log
    );
    // liba-devel's own requirement on liba came along.
    assert!(with.log.contains("installing liba-2.1-1"), "{}", with.log);

    // %generate_buildrequires is run, and what it asks for is installed from the repository.
    let dyn_srpm = srpm(&*sb, "dynreq", root.path(), &Opts::default());
    let dynamic = run(
        &*sb,
        BuildKind::Rebuild {
            srpm: dyn_srpm.clone(),
        },
        root.path(),
        "dyn-with-a",
        &Opts {
            repos: repos.clone(),
            ..Opts::default()
        },
    );
    dynamic.ok();
    assert!(
        dynamic.log.contains("generating BuildRequires (round 2)"),
        "{}",
        dynamic.log
    );
    assert!(
        dynamic.log.contains("installing liba-devel-2.1-1"),
        "{}",
        dynamic.log
    );
    let dynamic = run(
        &*sb,
        BuildKind::Rebuild { srpm: dyn_srpm },
        root.path(),
        "dyn-alone",
        &Opts::default(),
    );
    match dynamic.err() {
        BackendError::UnmetDependencies(missing) => assert_eq!(missing, &["liba-devel >= 2"]),
        e => panic!("{e}"),
    }

    // A version the repository does not have is unmet, even with the repository.
    let too_new = run(
        &*sb,
        BuildKind::Rebuild {
            srpm: b_srpm.clone(),
        },
        root.path(),
        "b-too-new",
        &Opts {
            repos,
            buildroot_pkgs: vec!["liba-devel >= 3".into()],
            ..Opts::default()
        },
    );
    match too_new.err() {
        BackendError::UnmetDependencies(missing) => {
            assert_eq!(missing, &["liba-devel >= 3"])
        }
        e => panic!("{e}"),
    }

    // --nodeps builds anyway, with a warning, and then fails on the missing header.
    let forced = run(
        &*sb,
        BuildKind::Rebuild { srpm: b_srpm },
        root.path(),
        "b-nodeps",
        &Opts {
            nodeps: true,
            ..Opts::default()
        },
    );
    match forced.err() {
        BackendError::BuildFailed { summary } => {
            assert!(
                summary.starts_with("b.c:2:10: fatal error: a.h"),
                "{summary}"
            )
        }
        e => panic!("{e}"),
    }
    assert!(
        forced
            .log
            .contains("warning: building anyway because --nodeps"),
        "{}",
        forced.log
    );
    assert!(
        forced.log.contains("a.h: No such file or directory"),
        "{}",
        forced.log
    );
}

fn copr_cmd() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::new(env!("CARGO_BIN_EXE_copr"));
    c.env("NO_COLOR", "1");
    c
}

fn assert_valid_python(text: &str) {
    let mut child = std::process::Command::new("python3")
        .args(["-c", "import ast,sys; ast.parse(sys.stdin.read())"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "not valid Python:\n{text}");
}

/// `copr mock-config` prints Copr's child.cfg for a project, repos, networking and macros.
#[test]
fn mock_config_command() {
    let out = copr_cmd()
        .args([
            "mock-config",
            "alice/hello",
            "fedora-40-x86_64",
            "--repo",
            "https://example.org/results/alice/base/fedora-40-x86_64/",
            "--repo",
            "file:///srv/repo",
            "--enable-net",
            "--macro",
            "_with_tests=1",
            "--macro",
            "packager=Alice <alice@example.org>",
            "--buildroot-pkg",
            "ccache",
            "--bootstrap",
            "on",
            "--enable-module",
            "nodejs:20",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert_valid_python(&text);
    insta::assert_snapshot!("mock_config_project", text);

    // The minimal form: only the chroot; networking off, no repos section.
    let out = copr_cmd()
        .args(["mock-config", "epel-9-x86_64"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert_valid_python(&text);
    insta::assert_snapshot!("mock_config_minimal", text);

    // JSON output carries the same text.
    let out = copr_cmd()
        .args(["--output", "json", "mock-config", "epel-9-x86_64"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["chroot"], "epel-9-x86_64");
    assert_eq!(v["config"].as_str().unwrap(), text);
}

/// Bad mock-config input exits with code 2 and a hint, and prints nothing on stdout.
#[test]
fn mock_config_rejects_bad_input() {
    for args in [
        vec!["mock-config", "fedora-40-x86_64');import os;('"],
        vec!["mock-config", "alice", "fedora-40-x86_64"],
        vec!["mock-config", "fedora-40-x86_64", "--macro", "novalue"],
        vec![
            "mock-config",
            "fedora-40-x86_64",
            "--repo",
            "http://x/\"\"\"\nimport os",
        ],
        vec![
            "mock-config",
            "fedora-40-x86_64",
            "--enable-module",
            "nodejs",
        ],
    ] {
        copr_cmd()
            .args(&args)
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicates::str::contains("hint:"));
    }
}

/// Without mock installed the mock backend is a MissingTool error naming mock.
#[test]
fn mock_backend_needs_mock() {
    if copr::mock::which("mock").is_some() {
        return;
    }
    let e = copr::mock::backend(
        copr::mock::BackendKind::Mock,
        &copr::mock::HostConfig::default(),
    )
    .err()
    .unwrap();
    assert!(
        matches!(e, BackendError::MissingTool { tool: "mock", .. }),
        "{e}"
    );
}

/// The mock backend runs mock with the generated config, --resultdir and --rebuild, and
/// collects the packages mock leaves there (mock itself replaced by a recording script).
#[test]
fn mock_backend_invocation() {
    use copr::mock::mockcfg::Mock;
    use copr::mock::{Backend, RepoSource};
    let root = tempdir();
    // A real RPM for the stand-in mock to "produce".
    let produced = build(
        &*sandbox(),
        "probe",
        root.path(),
        &Opts::default().define("canary", "/x"),
    );
    let rpm = produced.ok().packages[0].clone();
    let etc = root.path().join("etc-mock");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(etc.join("fedora-40-x86_64.cfg"), "").unwrap();
    let script = root.path().join("mock");
    let args_file = root.path().join("mock-args");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > {args}\nwhile [ $# -gt 0 ]; do\n  case \"$1\" in --resultdir) res=$2;; -r) cfg=$2;; esac\n  shift\ndone\ncp {cfg_copy_src} \"$res/\"\ncp \"$cfg\" {args}.cfg\necho 'Finish: rpmbuild'\n",
            args = args_file.display(),
            cfg_copy_src = rpm.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mock = Mock::with_program(script, etc);
    assert!(matches!(
        mock.check_chroot("fedora-41-x86_64"),
        Err(BackendError::UnsupportedChroot { .. })
    ));
    let srpm = srpm(&*sandbox(), "hello", root.path(), &Opts::default());
    let repo_dir = produced.outdir.clone();
    let opts = Opts {
        chroot: "fedora-40-x86_64".into(),
        repos: vec![
            RepoSource::Dir(repo_dir.clone()),
            RepoSource::Url("https://example.org/repo/".into()),
        ],
        enable_net: true,
        ..Opts::default()
    };
    let r = run(
        &mock,
        BuildKind::Rebuild { srpm: srpm.clone() },
        root.path(),
        "mock",
        &opts,
    );
    let out = r.ok();
    assert_eq!(out.packages.len(), 1);
    assert_eq!(rpm_q(&out.packages[0], "%{NAME}"), "probe");
    let args = std::fs::read_to_string(&args_file).unwrap();
    let args: Vec<&str> = args.lines().collect();
    assert_eq!(args[0], "-r");
    assert!(args[1].ends_with("/work-mock/child.cfg"), "{args:?}");
    assert_eq!(args[2], "--resultdir");
    assert_eq!(args[6..], ["--rebuild", srpm.to_str().unwrap()]);
    let cfg = std::fs::read_to_string(format!("{}.cfg", args_file.display())).unwrap();
    assert_valid_python(&cfg);
    assert!(
        cfg.starts_with("include('/etc/mock/fedora-40-x86_64.cfg')"),
        "{cfg}"
    );
    assert!(
        cfg.contains("config_opts['rpmbuild_networking'] = True"),
        "{cfg}"
    );
    assert!(cfg.contains("[copr_base]\n"), "{cfg}");
    assert!(cfg.contains("baseurl=https://example.org/repo/\n"), "{cfg}");
    // The local directory had no repodata: it was indexed for dnf, which finds the package.
    let local = cfg
        .lines()
        .find(|l| l.starts_with("baseurl=file://"))
        .unwrap()
        .trim_start_matches("baseurl=file://");
    let q = std::process::Command::new("dnf")
        .args(["-q", "--releasever=12", "--setopt=reposdir=/dev/null"])
        .arg(format!(
            "--setopt=cachedir={}",
            root.path().join("dnf-cache").display()
        ))
        .arg(format!("--repofrompath=t,file://{local}"))
        .args([
            "--repo=t",
            "repoquery",
            "--qf",
            "%{name}-%{version}",
            "probe",
        ])
        .output()
        .unwrap();
    let loc = String::from_utf8_lossy(&q.stdout);
    assert_eq!(
        loc.trim(),
        "probe-1",
        "{}",
        String::from_utf8_lossy(&q.stderr)
    );
}

/// Host evidence satisfies BuildRequires (versions checked where known, noted where not), and
/// `[sandbox.provides]` in the host config maps names the built-in rules do not know.
#[test]
fn host_provides_and_config_mapping() {
    let root = tempdir();
    let sb = sandbox();
    let srpm = srpm(&*sb, "needs", root.path(), &Opts::default());
    let r = run(
        &*sb,
        BuildKind::Rebuild { srpm: srpm.clone() },
        root.path(),
        "plain",
        &Opts::default(),
    );
    match r.err() {
        BackendError::UnmetDependencies(m) => assert_eq!(m, &["frobnicator-devel"]),
        e => panic!("{e}"),
    }
    let cfg_file = root.path().join("copr-build.toml");
    std::fs::write(
        &cfg_file,
        "[sandbox.provides]\nfrobnicator-devel = [\"path:/nonexistent.h\", \"cmd:sh\"]\n",
    )
    .unwrap();
    let cfg = copr::mock::HostConfig::from_path(&cfg_file).unwrap();
    let sb = copr::mock::backend(copr::mock::BackendKind::Sandbox, &cfg).unwrap();
    let r = run(
        &*sb,
        BuildKind::Rebuild { srpm },
        root.path(),
        "mapped",
        &Opts::default(),
    );
    r.ok();
    assert!(
        r.log
            .contains("frobnicator-devel: provided by the host (command sh)"),
        "{}",
        r.log
    );
    assert!(
        r.log.contains(
            "which >= 1: provided by the host (command which); its version could not be determined"
        ),
        "{}",
        r.log
    );
    assert!(
        r.log
            .contains("gcc >= 4: provided by the host (Debian package gcc ")
            || copr::mock::which("dpkg-query").is_none(),
        "{}",
        r.log
    );

    let e = copr::mock::HostConfig::from_path(&root.path().join("missing.toml")).unwrap_err();
    assert!(e.to_string().contains("missing.toml"), "{e}");
}

/// BuildRequires come from an http repository too: its primary metadata is read, the chosen
/// packages are downloaded (checksums checked) and B links against A.
#[test]
fn build_requires_from_http_repository() {
    use copr::mock::RepoSource;
    let root = tempdir();
    let sb = sandbox();
    let a = build(&*sb, "liba", root.path(), &Opts::default());
    a.ok();
    let st = std::process::Command::new("createrepo_c")
        .arg("--quiet")
        .arg(&a.outdir)
        .status()
        .unwrap();
    assert!(st.success());
    let url = serve_dir(&a.outdir);
    let opts = Opts {
        repos: vec![RepoSource::Url(url.clone())],
        ..Opts::default()
    };
    let b = build(&*sb, "libb", root.path(), &opts);
    assert_eq!(rpm_q(&b.ok().packages[0], "%{NAME}"), "libb");
    assert!(
        b.log
            .contains(&format!("sandbox: downloading {url}liba-devel-2.1-1.")),
        "{}",
        b.log
    );

    // A repository that is not there is an error naming it, not a silent skip.
    let gone = Opts {
        repos: vec![RepoSource::Url(format!("{url}nonexistent/"))],
        ..Opts::default()
    };
    let r = build(&*sb, "libb", root.path(), &gone);
    let e = r.err().to_string();
    assert!(e.contains("nonexistent/") && e.contains("404"), "{e}");
}

/// The build sees its workdir at /builddir wherever it lies on the host, so the same SRPM built
/// in two different directories gives byte-identical binaries (before, the build path reached
/// the compiled program).
#[test]
fn builds_do_not_depend_on_the_workdir_location() {
    let sb = sandbox();
    let first = tempdir();
    let second = tempfile::Builder::new()
        .prefix("copr-sandbox-")
        .tempdir_in("/tmp")
        .unwrap();
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/hello");
    let srpm = run(
        &*sb,
        BuildKind::Srpm {
            spec: example.join("hello.spec"),
            sources: example.clone(),
        },
        first.path(),
        "srpm",
        &Opts::default(),
    )
    .ok()
    .packages[0]
        .clone();
    let program = |root: &std::path::Path| -> Vec<u8> {
        let r = run(
            &*sb,
            BuildKind::Rebuild { srpm: srpm.clone() },
            root,
            "rpm",
            &Opts::default(),
        );
        let out = r.ok();
        let rpm = out
            .packages
            .iter()
            .find(|p| rpm_q(p, "%{NAME}") == "hello")
            .unwrap();
        let unpack = root.join("unpacked");
        fs_err::create_dir_all(&unpack).unwrap();
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("rpm2cpio '{}' | cpio -id --quiet", rpm.display()))
            .current_dir(&unpack)
            .status()
            .unwrap();
        assert!(status.success());
        fs_err::read(unpack.join("usr/bin/hello")).unwrap()
    };
    let a = program(first.path());
    let b = program(second.path());
    assert!(a == b, "the program differs between workdirs");
}
