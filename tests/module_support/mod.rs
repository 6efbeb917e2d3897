//! Helpers for the module tests: fixture RPMs built with rpmbuild, result directories laid out
//! as `copr build` writes them, dnf against a local repository, and a pseudo-terminal driver.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub fn copr() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_copr"));
    c.env("NO_COLOR", "1");
    c
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/modules")
}

/// A noarch test package.
#[derive(Clone, Default)]
pub struct Pkg {
    pub name: &'static str,
    pub version: &'static str,
    pub release: &'static str,
    pub license: &'static str,
    pub epoch: Option<u32>,
    pub requires: Vec<&'static str>,
    pub build_requires: Vec<&'static str>,
}

impl Pkg {
    pub fn new(name: &'static str) -> Pkg {
        Pkg {
            name,
            version: "1.0",
            release: "1",
            license: "MIT",
            ..Default::default()
        }
    }

    pub fn spec(&self) -> String {
        let mut s = format!(
            "Name: {n}\nVersion: {v}\nRelease: {r}\nSummary: {n} test package\nLicense: {l}\n\
             BuildArch: noarch\nAutoReqProv: no\n",
            n = self.name,
            v = self.version,
            r = self.release,
            l = self.license
        );
        if let Some(e) = self.epoch {
            s.push_str(&format!("Epoch: {e}\n"));
        }
        for r in &self.requires {
            s.push_str(&format!("Requires: {r}\n"));
        }
        for r in &self.build_requires {
            s.push_str(&format!("BuildRequires: {r}\n"));
        }
        s.push_str(&format!(
            "\n%description\n{n} for module tests.\n\n%install\nmkdir -p %{{buildroot}}/usr/share/{n}\n\
             echo {n} > %{{buildroot}}/usr/share/{n}/README\n\n%files\n/usr/share/{n}/README\n",
            n = self.name
        ));
        s
    }

    /// Build binary and source RPMs into `top` (an rpmbuild topdir); returns (rpm, srpm).
    pub fn build(&self, top: &Path) -> (PathBuf, PathBuf) {
        std::fs::create_dir_all(top).unwrap();
        let spec = top.join(format!("{}.spec", self.name));
        std::fs::write(&spec, self.spec()).unwrap();
        let out = Command::new("rpmbuild")
            .arg("--quiet")
            .arg("--define")
            .arg(format!("_topdir {}", top.display()))
            .args(["--nodeps", "-ba"])
            .arg(&spec)
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .output()
            .expect("rpmbuild runs");
        assert!(
            out.status.success(),
            "rpmbuild failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let nvr = format!("{}-{}-{}", self.name, self.version, self.release);
        (
            top.join(format!("RPMS/noarch/{nvr}.noarch.rpm")),
            top.join(format!("SRPMS/{nvr}.src.rpm")),
        )
    }
}

/// Lay out `<resultdir>/<chroot>/<id 8 digits>-<name>/` with the package's RPMs, results.json
/// and (when `ok`) the success marker.
pub fn add_build(resultdir: &Path, chroot: &str, id: u64, pkg: &Pkg, top: &Path, ok: bool) {
    let (rpm, srpm) = pkg.build(top);
    let dir = resultdir.join(chroot).join(format!("{id:08}-{}", pkg.name));
    std::fs::create_dir_all(&dir).unwrap();
    for f in [&rpm, &srpm] {
        std::fs::copy(f, dir.join(f.file_name().unwrap())).unwrap();
    }
    let results = serde_json::json!({"packages": [
        {"name": pkg.name, "epoch": null, "version": pkg.version, "release": pkg.release, "arch": "noarch"},
        {"name": pkg.name, "epoch": null, "version": pkg.version, "release": pkg.release, "arch": "src"},
    ]});
    std::fs::write(dir.join("results.json"), results.to_string()).unwrap();
    if ok {
        std::fs::write(dir.join("success"), "done\n").unwrap();
    }
}

/// `modulemd-validator FILE` accepts the file.
pub fn libmodulemd_accepts(path: &Path) -> bool {
    Command::new("modulemd-validator")
        .arg("-q")
        .arg(path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("modulemd-validator runs (package libmodulemd-tools)")
        .success()
}

/// dnf against the file repository `repo` with an installroot under `tmp`, on Debian: release
/// version and platform given explicitly, no system repos, fresh cache.
pub fn dnf(tmp: &Path, repo: &Path, platform: &str) -> Command {
    let mut c = Command::new("dnf");
    c.args([
        "-y",
        "--nogpgcheck",
        "--releasever=12",
        "--setopt=reposdir=/dev/null",
    ])
    .arg(format!(
        "--setopt=cachedir={}",
        tmp.join("dnf-cache").display()
    ))
    .arg(format!("--setopt=module_platform_id=platform:{platform}"))
    .arg(format!("--installroot={}", tmp.join("root").display()))
    .arg(format!(
        "--repofrompath=module-test,file://{}",
        repo.display()
    ))
    .args(["--repo=module-test"]);
    c
}

/// Like [`dnf`], but checking the repository's repomd.xml signature and the packages' header
/// signatures against `pubkey`.
pub fn dnf_signed(tmp: &Path, repo: &Path, platform: &str, pubkey: &Path) -> Command {
    let mut c = Command::new("dnf");
    c.args(["-y", "--releasever=12", "--setopt=reposdir=/dev/null"])
        .arg(format!(
            "--setopt=cachedir={}",
            tmp.join("dnf-cache").display()
        ))
        .arg(format!("--setopt=module_platform_id=platform:{platform}"))
        .arg(format!("--installroot={}", tmp.join("root").display()))
        .arg(format!(
            "--repofrompath=module-test,file://{}",
            repo.display()
        ))
        .args(["--repo=module-test", "--setopt=module-test.gpgcheck=1"])
        .args(["--setopt=module-test.repo_gpgcheck=1"])
        .arg(format!(
            "--setopt=module-test.gpgkey=file://{}",
            pubkey.display()
        ));
    c
}

pub fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().expect("command runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A child process whose stdin, stdout and stderr are a pseudo-terminal.
pub struct Pty {
    master: std::fs::File,
    child: std::process::Child,
    output: Arc<Mutex<Vec<u8>>>,
    seen: usize,
}

impl Pty {
    pub fn spawn(cmd: &mut Command) -> Pty {
        use std::os::unix::process::CommandExt;
        let (mut master, mut slave) = (0, 0);
        let ws = libc::winsize {
            ws_row: 40,
            ws_col: 120,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty writes two new descriptors we then own.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &ws,
            )
        };
        assert_eq!(rc, 0, "openpty failed");
        // SAFETY: both descriptors were just returned by openpty and are owned here.
        let (master, slave) =
            unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        cmd.stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        cmd.env("TERM", "xterm");
        let child = cmd.spawn().expect("spawn in pty");
        // The Command keeps its copies of the terminal until they are replaced.
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let master = std::fs::File::from(master);
        let output = Arc::new(Mutex::new(Vec::new()));
        let mut reader = master.try_clone().unwrap();
        let sink = output.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // EIO once the child side is closed.
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Pty {
            master,
            child,
            output,
            seen: 0,
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }

    /// Wait until `needle` appears in output not yet consumed by an earlier `expect`.
    pub fn expect(&mut self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            {
                let out = self.output.lock().unwrap();
                let hay = String::from_utf8_lossy(&out[self.seen.min(out.len())..]).into_owned();
                if let Some(pos) = hay.find(needle) {
                    self.seen += hay[..pos + needle.len()].len();
                    return;
                }
            }
            if Instant::now() > deadline {
                panic!(
                    "`{needle}` never appeared; terminal output:\n{}",
                    self.text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn send(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).unwrap();
        self.master.flush().unwrap();
    }

    /// Wait for the child; its exit success.
    pub fn wait(mut self) -> (bool, String) {
        let status = self.child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        (status.success(), self.text())
    }
}

pub const DOWN: &str = "\x1b[B";
pub const ENTER: &str = "\r";

/// A git repository at `dir` holding `pkg`'s spec; `build_check` is a shell line run in %build.
pub fn git_package(dir: &Path, pkg: &Pkg, build_check: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let spec = pkg.spec().replace(
        "\n%install\n",
        &format!("\n%build\n{build_check}\n\n%install\n"),
    );
    std::fs::write(dir.join(format!("{}.spec", pkg.name)), spec).unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=Module Test",
                "-c",
                "user.email=test@example.com",
            ])
            .args(["-c", "init.defaultBranch=main"])
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "package"]);
}
