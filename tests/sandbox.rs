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
    let r = run(
        &*sb,
        BuildKind::Rebuild { srpm },
        root.path(),
        "rpm",
        &Opts::default(),
    );
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

/// The build runs as uid 1000 without capabilities, cannot write the host, sees no host
/// secrets, has its own PID namespace and /tmp.
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
    assert!(has("canary=refused"), "{probe:?}");
    assert_eq!(std::fs::read_to_string(&canary).unwrap(), "original");
    assert!(has("usr=refused"), "{probe:?}");
    assert!(!std::path::Path::new("/usr/copr-probe").exists());
    assert!(has("workdir=written"), "{probe:?}");
    assert!(has("root-entries=0"), "{probe:?}");
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
            opts.timeout = Duration::from_secs(3);
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
            ("timeout", BackendError::Timeout(d)) => assert_eq!(*d, Duration::from_secs(3)),
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
