//! The `sandbox` backend: the host's rpmbuild inside bubblewrap.
//!
//! Isolation (see [`bwrap_args`]): the host filesystem is mounted read-only; only the build's
//! workdir is writable, mounted at [`SANDBOX_WORKDIR`] (`/builddir`, with `%_topdir`
//! `/builddir/build` as in mock, so paths recorded in packages, such as debuginfo sources, do not
//! depend on where the workdir lies on the host); the build's inputs (spec directory, sources,
//! SRPM) are bound read-only below it; /tmp, /var/tmp and /run are fresh, empty tmpfs; homes, host
//! keys, the shadow files, logs and service data are hidden ([`HIDDEN_DIRS`]); new user, PID, IPC,
//! UTS, cgroup and (unless `enable_net`) network namespaces; the build runs as uid/gid 1000 with no
//! capabilities, even when started as root; bwrap dies with its parent. Timeout and cancel kill the
//! process group, which takes the whole PID namespace down. The memory limit is `RLIMIT_AS` on
//! every build process (inherited by all children): it needs no cgroup delegation, so it works the
//! same for root and unprivileged users, in containers and on CI; it limits each process's address
//! space rather than the sum.
//!
//! Packages from the request's repositories that satisfy BuildRequires are unpacked into
//! `<workdir>/buildroot` and mounted as overlayfs lower layers over the host's top-level
//! directories (`/usr`, `/etc`, `/opt`) by `unshare --user --map-root-user --mount` + `mount -t
//! overlay` before bwrap starts (bwrap 0.8 has no overlay option); see [`super::deps`]. A spec
//! with `%generate_buildrequires` has it run by `rpmbuild -rr` over that overlay, and what it
//! asks for resolved the same way, until it asks for nothing new.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::deps::{self, Resolution};
use super::run::{self, Limits, Outcome};
use super::{Backend, BackendError, BackendKind, BuildKind, BuildOutput, BuildRequest};
use crate::mock::hostconfig::HostConfig;

/// Where the build's workdir appears inside the sandbox.
pub const SANDBOX_WORKDIR: &str = "/builddir";

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
        // The host probes (rpmdb, dpkg database, bwrap's options) run while the source and
        // SRPM stages do, instead of in front of the first binary build.
        static WARM_UP: std::sync::Once = std::sync::Once::new();
        WARM_UP.call_once(|| {
            std::thread::spawn(|| {
                bwrap_has_disable_userns();
                deps::probe_host();
            });
        });
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
    /// `%_topdir`: `/builddir/build` inside; a binary build's SRPM is bound into its
    /// `originals/` (mock's `/builddir/build/originals`).
    topdir: PathBuf,
    home: PathBuf,
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
            topdir: workdir.join("build"),
            home: workdir.join("home"),
            buildroot: workdir.join("buildroot"),
            workdir,
        };
        let downloads = l.workdir.join("downloads");
        if downloads.exists() {
            fs_err::remove_dir_all(&downloads).map_err(io_err("cannot clean the workdir"))?;
        }
        for d in [&l.topdir, &l.home, &l.buildroot] {
            if d.exists() {
                fs_err::remove_dir_all(d).map_err(io_err("cannot clean the workdir"))?;
            }
            fs_err::create_dir_all(d).map_err(io_err("cannot prepare the workdir"))?;
        }
        Ok(l)
    }

    /// The path inside the sandbox of `host`, a path below the workdir.
    fn inside(&self, host: &Path) -> PathBuf {
        match host.strip_prefix(&self.workdir) {
            Ok(rest) => Path::new(SANDBOX_WORKDIR).join(rest),
            Err(_) => host.to_path_buf(),
        }
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
    let mut sb = Sandboxed {
        layout: &layout,
        ro_binds: Vec::new(),
        enable_net,
        limits: Limits {
            timeout,
            cancel: &cancel,
            memory_limit,
        },
    };
    let common = |topdir: &Path| {
        let mut args = Vec::new();
        push_common_args(
            &mut args,
            topdir,
            &layout,
            chroot,
            macros,
            with_opts,
            without_opts,
        );
        args
    };

    let mut resolution = Resolution::default();
    let mut rpmbuild: Vec<String> = vec!["rpmbuild".into()];
    match &kind {
        BuildKind::Srpm { spec, sources } => {
            let spec = fs_err::canonicalize(spec).map_err(io_err("cannot find the spec"))?;
            let sources =
                fs_err::canonicalize(sources).map_err(io_err("cannot find the sources"))?;
            // The spec's directory and the sources are bound read-only where mock puts them.
            let spec_dir = layout.inside(&layout.topdir.join("SPECS"));
            let source_dir = layout.inside(&layout.topdir.join("SOURCES"));
            if let Some(dir) = spec.parent() {
                sb.ro_binds.push((dir.to_path_buf(), spec_dir.clone()));
            }
            sb.ro_binds.push((sources.clone(), source_dir.clone()));
            let spec_name = spec.file_name().ok_or_else(|| BackendError::Io {
                context: format!("spec {}", spec.display()),
                source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file"),
            })?;
            rpmbuild.extend([
                "-bs".into(),
                "--define".into(),
                format!("_sourcedir {}", source_dir.display()),
            ]);
            rpmbuild.extend(common(&layout.topdir));
            rpmbuild.push(spec_dir.join(spec_name).display().to_string());
        }
        BuildKind::Rebuild { srpm } => {
            // The SRPM is read where it is, bound read-only: nothing is copied (SRPMs can be
            // large) and the build cannot modify it.
            let srpm = fs_err::canonicalize(srpm).map_err(io_err("cannot find the SRPM"))?;
            let srpm_inside = layout.inside(
                &layout.topdir.join("originals").join(
                    srpm.file_name()
                        .unwrap_or(std::ffi::OsStr::new("source.src.rpm")),
                ),
            );
            sb.ro_binds.push((srpm.clone(), srpm_inside.clone()));
            let info = deps::SrpmDeps::read(&srpm)?;
            let mut reqs = info.requires;
            reqs.extend(buildroot_pkgs.iter().map(|s| deps::Req::parse(s)));
            let static_reqs = reqs.clone();
            resolution = deps::resolve(&reqs, repos, config, &layout.buildroot, log)?;
            if info.dynamic {
                // %generate_buildrequires: run it (rpmbuild -rr) with what is resolved so far,
                // add what it asks for, and repeat until nothing new appears.
                let br_top = layout.workdir.join("rpmbuild-br");
                for round in 1..=MAX_GENERATE_ROUNDS {
                    if !resolution.missing.is_empty() {
                        break;
                    }
                    if br_top.exists() {
                        fs_err::remove_dir_all(&br_top)
                            .map_err(io_err("cannot clean the workdir"))?;
                    }
                    let mut argv: Vec<String> =
                        vec!["rpmbuild".into(), "-rr".into(), "--nodeps".into()];
                    argv.extend(common(&br_top));
                    argv.push(srpm_inside.display().to_string());
                    writeln_log(
                        log,
                        &format!("sandbox: generating BuildRequires (round {round})"),
                    );
                    let mut capture = String::new();
                    let outcome = sb.run(&resolution, &argv, log, &mut capture)?;
                    // rpmbuild -rr exits 11 when it generated requirements.
                    check_outcome(outcome, &[0, 11], &capture, &resolution, &sb.limits, log)?;
                    let nosrc = collect(&br_top.join("SRPMS"), |n| {
                        n.ends_with(".buildreqs.nosrc.rpm")
                    })?;
                    let Some(nosrc) = nosrc.first() else {
                        return Err(BackendError::BuildFailed {
                            summary: "rpmbuild -rr wrote no buildreqs.nosrc.rpm".into(),
                        });
                    };
                    let mut next = static_reqs.clone();
                    for r in deps::srpm_requires(nosrc)? {
                        if !next.contains(&r) {
                            next.push(r);
                        }
                    }
                    if next == reqs {
                        break;
                    }
                    reqs = next;
                    resolution = deps::resolve(&reqs, repos, config, &layout.buildroot, log)?;
                    if round == MAX_GENERATE_ROUNDS {
                        writeln_log(
                            log,
                            "warning: %generate_buildrequires still asked for more after \
                             several rounds; building with what is resolved",
                        );
                    }
                }
            }
            if !resolution.missing.is_empty() {
                writeln_log(log, "error: Failed build dependencies:");
                for m in &resolution.missing {
                    writeln_log(log, &format!("\t{m} is needed by {}", info.nevra));
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
            rpmbuild.extend(common(&layout.topdir));
            rpmbuild.push(srpm_inside.display().to_string());
        }
    }

    let mut capture = String::new();
    let outcome = sb.run(&resolution, &rpmbuild, log, &mut capture)?;
    check_outcome(outcome, &[0], &capture, &resolution, &sb.limits, log)?;

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

/// How many times `%generate_buildrequires` may ask for more before the build goes ahead.
const MAX_GENERATE_ROUNDS: usize = 5;

/// What every command of one build shares: its workdir, read-only inputs (host path, path
/// inside), network and limits.
struct Sandboxed<'a> {
    layout: &'a Layout,
    ro_binds: Vec<(PathBuf, PathBuf)>,
    enable_net: bool,
    limits: Limits<'a>,
}

impl Sandboxed<'_> {
    /// Run `argv` inside the sandbox, over the buildroot overlay of `resolution`.
    fn run(
        &self,
        resolution: &Resolution,
        argv: &[String],
        log: &mut (dyn Write + Send),
        capture: &mut String,
    ) -> Result<Outcome, BackendError> {
        let mut env: BTreeMap<String, String> = BTreeMap::new();
        env.insert("PATH".into(), SANDBOX_PATH.into());
        env.insert(
            "HOME".into(),
            self.layout.inside(&self.layout.home).display().to_string(),
        );
        env.insert("LANG".into(), "C.UTF-8".into());
        env.insert("TMPDIR".into(), "/tmp".into());
        env.insert("USER".into(), "builder".into());
        env.insert("LOGNAME".into(), "builder".into());
        for (k, v) in &resolution.env {
            env.insert(k.clone(), v.clone());
        }
        if !resolution.installed.is_empty() {
            writeln_log(
                log,
                &format!(
                    "sandbox: buildroot overlay over {} with {}",
                    resolution
                        .overlays
                        .iter()
                        .map(|(_, t)| t.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                    resolution.installed.join(", ")
                ),
            );
        }
        let bwrap = bwrap_args(&self.layout.workdir, &self.ro_binds, self.enable_net, &env);
        let mut cmd;
        if resolution.overlays.is_empty() {
            cmd = Command::new("bwrap");
        } else {
            // Mount the unpacked packages over the host's directories in a private mount
            // namespace, then start bwrap there; its `--ro-bind / /` takes the overlays along.
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
        cmd.args(&bwrap).arg("--").args(argv);
        writeln_log(log, &format!("sandbox: {}", argv.join(" ")));
        run::run_logged(cmd, &self.limits, log, capture)
    }
}

/// Turn a run's outcome into the build's error unless it exited with one of `ok_codes`.
fn check_outcome(
    outcome: Outcome,
    ok_codes: &[i32],
    capture: &str,
    resolution: &Resolution,
    limits: &Limits<'_>,
    log: &mut (dyn Write + Send),
) -> Result<(), BackendError> {
    match outcome {
        Outcome::TimedOut => {
            writeln_log(
                log,
                &format!(
                    "sandbox: timed out after {}s; killed",
                    limits.timeout.as_secs()
                ),
            );
            Err(BackendError::Timeout(limits.timeout))
        }
        Outcome::Canceled => {
            writeln_log(log, "sandbox: canceled; killed");
            Err(BackendError::Canceled)
        }
        Outcome::Exited(status) if status.code().is_some_and(|c| ok_codes.contains(&c)) => Ok(()),
        Outcome::Exited(status) => {
            let mut summary = super::failure_summary(capture);
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
            Err(BackendError::BuildFailed { summary })
        }
    }
}

fn push_common_args(
    args: &mut Vec<String>,
    topdir: &Path,
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
    define("_topdir", &layout.inside(topdir).display().to_string());
    define("_tmppath", "/var/tmp");
    // Debian's rpm keeps its database in ~/.rpmdb; pin it inside the sandbox's HOME.
    define(
        "_dbpath",
        &layout
            .inside(&layout.home.join(".rpmdb"))
            .display()
            .to_string(),
    );
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

/// Host directories replaced by an empty tmpfs inside the sandbox (the workdir and inputs are
/// bound back in when they live below one of them).
pub const HIDDEN_DIRS: &[&str] = &[
    "/root",
    "/home",
    "/etc/ssh",
    "/etc/ssl/private",
    "/var/backups",
    "/var/log",
    "/var/spool",
    "/var/mail",
    "/var/lib/postgresql",
    "/var/lib/mysql",
    "/var/lib/docker",
    "/var/lib/containers",
    "/var/lib/libvirt",
    "/var/lib/sss",
];

/// Top-level directories of the host that the sandbox replaces with its own.
const OWN_TOP_LEVEL: &[&str] = &["dev", "proc", "tmp", "run", "builddir"];

/// The bwrap options that show the host's root read-only: each top-level entry is bound (or,
/// for symlinks such as merged-/usr's `/bin`, recreated) one by one over bwrap's own tmpfs
/// root, so that the root can still take new mount points such as [`SANDBOX_WORKDIR`].
fn host_root_args(push: &mut dyn FnMut(&[&str])) {
    let mut entries: Vec<_> = match std::fs::read_dir("/") {
        Ok(d) => d.filter_map(Result::ok).collect(),
        Err(_) => Vec::new(),
    };
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if OWN_TOP_LEVEL.contains(&name) {
            continue;
        }
        let path = format!("/{name}");
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.file_type().is_symlink() {
            if let Ok(target) = std::fs::read_link(&path) {
                push(&["--symlink", &target.to_string_lossy(), &path]);
            }
        } else if meta.is_dir() || meta.is_file() {
            push(&["--ro-bind", &path, &path]);
        }
    }
}

/// The bwrap options for a build whose writable tree is `workdir` (seen at
/// [`SANDBOX_WORKDIR`]), with read-only inputs bound from host paths to paths inside.
pub fn bwrap_args(
    workdir: &Path,
    ro_binds: &[(PathBuf, PathBuf)],
    enable_net: bool,
    env: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut a: Vec<String> = Vec::new();
    let mut push = |items: &[&str]| a.extend(items.iter().map(|s| s.to_string()));
    host_root_args(&mut push);
    push(&["--dev", "/dev", "--proc", "/proc"]);
    push(&["--tmpfs", "/tmp", "--tmpfs", "/var/tmp", "--tmpfs", "/run"]);
    // Hide what a build has no business reading (homes, keys, password hashes, service data
    // and logs); files the caller owns stay readable otherwise, since the sandbox uid maps to
    // the caller's.
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .filter(|h| h.is_absolute() && h.parent().is_some() && h.is_dir());
    let mut hidden: Vec<PathBuf> = HIDDEN_DIRS.iter().map(PathBuf::from).collect();
    hidden.extend(home);
    for dir in &hidden {
        // Real directories only: bwrap would follow a symlink to wherever it points.
        if std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) {
            let d = dir.display().to_string();
            push(&["--tmpfs", &d]);
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
    let w = workdir.display().to_string();
    push(&["--bind", &w, SANDBOX_WORKDIR]);
    for (host, inside) in ro_binds {
        let (h, i) = (host.display().to_string(), inside.display().to_string());
        push(&["--ro-bind", &h, &i]);
    }
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
    if bwrap_has_disable_userns() {
        // No nested user namespaces: the build cannot regain capabilities in one.
        push(&["--disable-userns"]);
    }
    for (k, v) in env {
        push(&["--setenv", k, v]);
    }
    push(&["--chdir", SANDBOX_WORKDIR]);
    a
}

/// Whether the installed bwrap has `--disable-userns` (added in bubblewrap 0.8); asked once per
/// process.
pub fn bwrap_has_disable_userns() -> bool {
    static SUPPORTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SUPPORTED.get_or_init(|| {
        Command::new("bwrap")
            .arg("--help")
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .split_whitespace()
                    .any(|w| w == "--disable-userns")
            })
            .unwrap_or(false)
    })
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
