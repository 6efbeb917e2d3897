//! The `sandbox` backend: the host's rpmbuild inside bubblewrap.
//!
//! Isolation (see [`bwrap_args`]): the host filesystem is mounted read-only; only the build's
//! workdir is writable; /tmp, /var/tmp and /run are fresh tmpfs; /root, /home, /etc/ssh and the
//! shadow files are hidden; new user, PID, IPC, UTS, cgroup and (unless `enable_net`) network
//! namespaces; the build runs as uid/gid 1000 with no capabilities, even when started as root;
//! bwrap dies with its parent. Timeout and cancel kill the process group, which takes the whole
//! PID namespace down. The memory limit is `RLIMIT_AS` on every build process (inherited by all
//! children): it needs no cgroup delegation, so it works the same for root and unprivileged
//! users, in containers and on CI; it limits each process's address space rather than the sum.
//!
//! Packages from the request's repositories that satisfy BuildRequires are unpacked into
//! `<workdir>/buildroot` and mounted as overlayfs lower layers over the host's top-level
//! directories (`/usr`, `/etc`, `/opt`) by `unshare --user --map-root-user --mount` + `mount -t
//! overlay` before bwrap starts (bwrap 0.8 has no overlay option); see [`super::deps`].

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::deps::{self, Resolution};
use super::run::{self, Limits, Outcome};
use super::{Backend, BackendError, BackendKind, BuildKind, BuildOutput, BuildRequest};
use crate::mock::hostconfig::HostConfig;

/// The unprivileged uid/gid builds run as inside the sandbox.
pub const SANDBOX_UID: u32 = 1000;

/// PATH inside the sandbox.
const SANDBOX_PATH: &str = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin";

/// The sandbox backend. Create it with [`Sandbox::new`] or [`super::backend`].
#[derive(Debug, Clone)]
pub struct Sandbox {
    config: HostConfig,
}

impl Sandbox {
    /// A sandbox backend with this host config; fails when bwrap or rpmbuild is missing.
    pub fn new(config: HostConfig) -> Result<Sandbox, BackendError> {
        for tool in ["bwrap", "rpmbuild"] {
            if super::which(tool).is_none() {
                return Err(BackendError::MissingTool {
                    backend: "sandbox",
                    tool,
                });
            }
        }
        Ok(Sandbox { config })
    }

    pub fn config(&self) -> &HostConfig {
        &self.config
    }
}

/// The chroot the sandbox serves on every host: `host-<arch>`.
pub fn host_chroot() -> String {
    format!("host-{}", super::host_arch())
}

const KNOWN_ARCHES: &[&str] = &[
    "x86_64", "i386", "i586", "i686", "aarch64", "armv7hl", "ppc64le", "ppc64", "s390x", "riscv64",
    "noarch",
];

/// The `%dist` a mapped chroot name implies (`fedora-40-x86_64` → `.fc40`, `epel-9-…` →
/// `.el9`), for hosts whose rpm leaves `%dist` undefined (Debian, Ubuntu).
fn dist_for_chroot(chroot: &str) -> Option<String> {
    let mut parts = chroot.split('-');
    let distro = parts.next()?;
    let release = parts.next()?;
    if !release.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    match distro {
        "fedora" => Some(format!(".fc{release}")),
        "epel" | "rhel" | "centos" | "almalinux" | "rocky" | "oraclelinux" => {
            Some(format!(".el{release}"))
        }
        _ => None,
    }
}

impl Backend for Sandbox {
    fn kind(&self) -> BackendKind {
        BackendKind::Sandbox
    }

    fn check_chroot(&self, chroot: &str) -> Result<(), BackendError> {
        let arch = super::host_arch();
        let unsupported = |reason: String| BackendError::UnsupportedChroot {
            backend: "sandbox",
            chroot: chroot.to_string(),
            reason,
        };
        let chroot_arch = chroot.rsplit('-').next().unwrap_or("");
        if let Some(other) = chroot.strip_prefix("host-") {
            return if other == arch {
                Ok(())
            } else {
                Err(unsupported(format!(
                    "this host is {arch}; the sandbox builds only for the host's own \
                     architecture (use host-{arch})"
                )))
            };
        }
        if KNOWN_ARCHES.contains(&chroot_arch) && chroot_arch != arch && chroot_arch != "noarch" {
            return Err(unsupported(format!(
                "this host is {arch}; the sandbox cannot build for {chroot_arch}"
            )));
        }
        if self.config.sandbox.chroots.iter().any(|c| c == chroot) {
            return Ok(());
        }
        let file = HostConfig::default_path()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "~/.config/copr-build.toml".into());
        Err(unsupported(format!(
            "the sandbox builds with this host's own toolchain, so it serves host-{arch} and \
             the chroots mapped to this host; build for host-{arch}, map `{chroot}` to this \
             host with `chroots = [\"{chroot}\"]` under [sandbox] in {file}, or use the mock \
             backend on a host with mock installed"
        )))
    }

    fn build(&self, req: BuildRequest<'_>) -> Result<BuildOutput, BackendError> {
        self.check_chroot(req.chroot)?;
        build(&self.config, req)
    }
}

fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> BackendError {
    let context = context.into();
    move |source| BackendError::Io { context, source }
}

/// Paths inside the workdir.
struct Layout {
    workdir: PathBuf,
    topdir: PathBuf,
    home: PathBuf,
    input: PathBuf,
    buildroot: PathBuf,
}

impl Layout {
    fn new(workdir: &Path) -> Result<Layout, BackendError> {
        fs_err::create_dir_all(workdir).map_err(io_err("cannot create the workdir"))?;
        let workdir =
            fs_err::canonicalize(workdir).map_err(io_err("cannot resolve the workdir"))?;
        for bad in [':', ',', '\n'] {
            if workdir.to_string_lossy().contains(bad) {
                return Err(BackendError::Io {
                    context: format!("workdir {}", workdir.display()),
                    source: std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        format!("the sandbox cannot use a workdir whose path contains {bad:?}"),
                    ),
                });
            }
        }
        let l = Layout {
            topdir: workdir.join("rpmbuild"),
            home: workdir.join("home"),
            input: workdir.join("input"),
            buildroot: workdir.join("buildroot"),
            workdir,
        };
        for d in [&l.topdir, &l.home, &l.input, &l.buildroot] {
            if d.exists() {
                fs_err::remove_dir_all(d).map_err(io_err("cannot clean the workdir"))?;
            }
            fs_err::create_dir_all(d).map_err(io_err("cannot prepare the workdir"))?;
        }
        Ok(l)
    }
}

fn writeln_log(log: &mut (dyn Write + Send), line: &str) {
    let _ = writeln!(log, "{line}");
}

fn build(config: &HostConfig, req: BuildRequest<'_>) -> Result<BuildOutput, BackendError> {
    let BuildRequest {
        kind,
        chroot,
        workdir,
        outdir,
        repos,
        buildroot_pkgs,
        macros,
        with_opts,
        without_opts,
        enable_net,
        nodeps,
        timeout,
        memory_limit,
        log,
        cancel,
    } = req;
    let layout = Layout::new(workdir)?;
    let memory_limit = memory_limit.or(config.sandbox.memory_limit.map(|b| b.0));
    let mut ro_binds: Vec<PathBuf> = Vec::new();
    let mut rpmbuild: Vec<String> = vec!["rpmbuild".into()];

    writeln_log(
        log,
        &format!(
            "sandbox: chroot {chroot}, network {}, memory limit {}, timeout {}s",
            if enable_net { "on" } else { "off" },
            memory_limit
                .map(|m| format!("{} MiB", m >> 20))
                .unwrap_or_else(|| "none".into()),
            timeout.as_secs()
        ),
    );

    let mut resolution = Resolution::default();
    match &kind {
        BuildKind::Srpm { spec, sources } => {
            let spec = fs_err::canonicalize(spec).map_err(io_err("cannot find the spec"))?;
            let sources =
                fs_err::canonicalize(sources).map_err(io_err("cannot find the sources"))?;
            if let Some(dir) = spec.parent() {
                ro_binds.push(dir.to_path_buf());
            }
            ro_binds.push(sources.clone());
            rpmbuild.extend([
                "-bs".into(),
                "--define".into(),
                format!("_sourcedir {}", sources.display()),
            ]);
            push_common_args(
                &mut rpmbuild,
                &layout,
                chroot,
                macros,
                with_opts,
                without_opts,
            );
            rpmbuild.push(spec.display().to_string());
        }
        BuildKind::Rebuild { srpm } => {
            let name = srpm
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "input.src.rpm".into());
            let copy = layout.input.join(&name);
            fs_err::copy(srpm, &copy).map_err(io_err("cannot copy the SRPM into the workdir"))?;
            resolution = deps::resolve_for_srpm(
                &copy,
                repos,
                buildroot_pkgs,
                config,
                &layout.buildroot,
                log,
            )?;
            if !resolution.missing.is_empty() {
                let nevra = deps::srpm_nevra(&copy);
                writeln_log(log, "error: Failed build dependencies:");
                for m in &resolution.missing {
                    writeln_log(log, &format!("\t{m} is needed by {nevra}"));
                }
                if nodeps {
                    writeln_log(
                        log,
                        "warning: building anyway because --nodeps was given; the build may \
                         fail or produce broken packages",
                    );
                } else {
                    return Err(BackendError::UnmetDependencies(resolution.missing.clone()));
                }
            }
            // Dependencies were resolved above; the host rpmdb knows nothing of the overlay.
            rpmbuild.extend(["--rebuild".into(), "--nodeps".into()]);
            push_common_args(
                &mut rpmbuild,
                &layout,
                chroot,
                macros,
                with_opts,
                without_opts,
            );
            rpmbuild.push(copy.display().to_string());
        }
    }

    let mut env: BTreeMap<String, String> = BTreeMap::new();
    env.insert("PATH".into(), SANDBOX_PATH.into());
    env.insert("HOME".into(), layout.home.display().to_string());
    env.insert("LANG".into(), "C.UTF-8".into());
    env.insert("TMPDIR".into(), "/tmp".into());
    env.insert("USER".into(), "builder".into());
    env.insert("LOGNAME".into(), "builder".into());
    for (k, v) in &resolution.env {
        env.insert(k.clone(), v.clone());
    }

    let bwrap = bwrap_args(&layout.workdir, &ro_binds, enable_net, &env);
    let mut cmd;
    if resolution.overlays.is_empty() {
        cmd = Command::new("bwrap");
    } else {
        // Mount the unpacked packages over the host's directories in a private mount namespace,
        // then start bwrap there; its `--ro-bind / /` takes the overlays along.
        cmd = Command::new("unshare");
        cmd.args([
            "--user",
            "--map-root-user",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            r#"while [ "$1" != -- ]; do mount -t overlay overlay -o "lowerdir=$1:$2" "$2" || exit 125; shift 2; done; shift; exec "$@""#,
            "sh",
        ]);
        for (lower, target) in &resolution.overlays {
            cmd.arg(lower).arg(target);
        }
        cmd.args(["--", "bwrap"]);
    }
    cmd.args(&bwrap).arg("--").args(&rpmbuild);
    writeln_log(log, &format!("sandbox: {}", rpmbuild.join(" ")));

    let limits = Limits {
        timeout,
        cancel: &cancel,
        memory_limit,
    };
    let mut capture = String::new();
    let outcome = run::run_logged(cmd, &limits, log, &mut capture)?;
    match outcome {
        Outcome::TimedOut => {
            writeln_log(
                log,
                &format!("sandbox: timed out after {}s; killed", timeout.as_secs()),
            );
            return Err(BackendError::Timeout(timeout));
        }
        Outcome::Canceled => {
            writeln_log(log, "sandbox: canceled; killed");
            return Err(BackendError::Canceled);
        }
        Outcome::Exited(status) if !status.success() => {
            let mut summary = super::failure_summary(&capture);
            if status.code() == Some(125) && !resolution.overlays.is_empty() {
                summary = format!(
                    "cannot mount the buildroot overlay (overlayfs in a user namespace needs \
                     Linux 5.11 or newer)\n{summary}"
                );
            }
            if summary.is_empty() {
                summary = format!("rpmbuild exited with {status}");
            }
            writeln_log(log, &format!("sandbox: build failed ({status})"));
            return Err(BackendError::BuildFailed { summary });
        }
        Outcome::Exited(_) => {}
    }

    let found = match &kind {
        BuildKind::Srpm { .. } => {
            collect(&layout.topdir.join("SRPMS"), |n| n.ends_with(".src.rpm"))?
        }
        BuildKind::Rebuild { .. } => collect(&layout.topdir.join("RPMS"), |n| n.ends_with(".rpm"))?,
    };
    if found.is_empty() {
        return Err(BackendError::BuildFailed {
            summary: "rpmbuild succeeded but produced no packages".into(),
        });
    }
    fs_err::create_dir_all(outdir).map_err(io_err("cannot create the output directory"))?;
    let mut packages = Vec::new();
    for src in found {
        let dest = outdir.join(src.file_name().expect("collected files have names"));
        move_file(&src, &dest)?;
        packages.push(dest);
    }
    packages.sort();
    for p in &packages {
        writeln_log(log, &format!("sandbox: wrote {}", p.display()));
    }
    Ok(BuildOutput { packages })
}

fn push_common_args(
    args: &mut Vec<String>,
    layout: &Layout,
    chroot: &str,
    macros: &BTreeMap<String, String>,
    with_opts: &[String],
    without_opts: &[String],
) {
    let mut define = |k: &str, v: &str| {
        args.push("--define".into());
        args.push(format!("{k} {v}"));
    };
    define("_topdir", &layout.topdir.display().to_string());
    define("_tmppath", "/var/tmp");
    // Debian's rpm keeps its database in ~/.rpmdb; pin it inside the sandbox's HOME.
    define("_dbpath", &layout.home.join(".rpmdb").display().to_string());
    if !macros.contains_key("dist")
        && let Some(dist) = dist_for_chroot(chroot)
    {
        define("dist", &dist);
    }
    for (k, v) in macros {
        define(k.trim_start_matches('%'), v);
    }
    for w in with_opts {
        args.push("--with".into());
        args.push(w.clone());
    }
    for w in without_opts {
        args.push("--without".into());
        args.push(w.clone());
    }
}

/// The bwrap options for a build whose writable tree is `workdir`.
pub fn bwrap_args(
    workdir: &Path,
    ro_binds: &[PathBuf],
    enable_net: bool,
    env: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut a: Vec<String> = Vec::new();
    let mut push = |items: &[&str]| a.extend(items.iter().map(|s| s.to_string()));
    push(&["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]);
    push(&["--tmpfs", "/tmp", "--tmpfs", "/var/tmp", "--tmpfs", "/run"]);
    // Hide what a build has no business reading (homes, host keys, password hashes); files
    // the caller owns stay readable otherwise, since the sandbox uid maps to the caller's.
    for dir in ["/root", "/home", "/etc/ssh"] {
        if Path::new(dir).is_dir() {
            push(&["--tmpfs", dir]);
        }
    }
    for file in [
        "/etc/shadow",
        "/etc/gshadow",
        "/etc/shadow-",
        "/etc/gshadow-",
    ] {
        if Path::new(file).exists() {
            push(&["--ro-bind", "/dev/null", file]);
        }
    }
    if enable_net {
        // resolv.conf is often a link into /run, which was replaced above.
        if let Ok(target) = std::fs::canonicalize("/etc/resolv.conf")
            && target.starts_with("/run")
        {
            let t = target.display().to_string();
            push(&["--ro-bind", &t, &t]);
        }
    }
    for p in ro_binds {
        let p = p.display().to_string();
        push(&["--ro-bind", &p, &p]);
    }
    let w = workdir.display().to_string();
    push(&["--bind", &w, &w]);
    push(&["--unshare-all"]);
    if enable_net {
        push(&["--share-net"]);
    }
    let uid = SANDBOX_UID.to_string();
    push(&[
        "--unshare-user",
        "--uid",
        &uid,
        "--gid",
        &uid,
        "--cap-drop",
        "ALL",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
    ]);
    for (k, v) in env {
        push(&["--setenv", k, v]);
    }
    push(&["--chdir", &w]);
    a
}

/// Files under `dir` (recursively) whose names pass `keep`.
fn collect(dir: &Path, keep: impl Fn(&str) -> bool) -> Result<Vec<PathBuf>, BackendError> {
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    for entry in walkdir::WalkDir::new(dir) {
        let entry = entry.map_err(|e| BackendError::Io {
            context: format!("cannot list {}", dir.display()),
            source: e.into(),
        })?;
        if entry.file_type().is_file() && keep(&entry.file_name().to_string_lossy()) {
            out.push(entry.into_path());
        }
    }
    Ok(out)
}

/// Move a file, copying when source and destination are on different filesystems.
fn move_file(src: &Path, dest: &Path) -> Result<(), BackendError> {
    if std::fs::rename(src, dest).is_ok() {
        return Ok(());
    }
    fs_err::copy(src, dest).map_err(io_err("cannot move a package to the output directory"))?;
    fs_err::remove_file(src).map_err(io_err("cannot remove a moved package"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chroot_support() {
        let mut cfg = HostConfig::default();
        cfg.sandbox
            .chroots
            .push(format!("fedora-40-{}", super::super::host_arch()));
        let sb = Sandbox { config: cfg };
        sb.check_chroot(&host_chroot()).unwrap();
        sb.check_chroot(&format!("fedora-40-{}", super::super::host_arch()))
            .unwrap();
        let other = if super::super::host_arch() == "aarch64" {
            "x86_64"
        } else {
            "aarch64"
        };
        let e = sb.check_chroot(&format!("host-{other}")).unwrap_err();
        assert!(matches!(e, BackendError::UnsupportedChroot { .. }), "{e}");
        let e = sb.check_chroot("fedora-41-x86_64").unwrap_err().to_string();
        assert!(e.contains("chroots = [\"fedora-41-x86_64\"]"), "{e}");
        assert_eq!(
            dist_for_chroot("fedora-40-x86_64").as_deref(),
            Some(".fc40")
        );
        assert_eq!(dist_for_chroot("epel-9-x86_64").as_deref(), Some(".el9"));
        assert_eq!(dist_for_chroot("host-x86_64"), None);
    }
}
