//! Running source-preparation commands (`make srpm`, custom scripts, rpkg, tito, `rpmspec -P`)
//! outside the buildroot but still isolated.
//!
//! These commands run *before* there is an SRPM, so they do not go through a [`Backend`]: a
//! backend's buildroot is made from an SRPM's BuildRequires, which do not exist yet. Instead they
//! run in bubblewrap directly:
//!
//! - the host filesystem is read-only, `/tmp` and the home directory are empty tmpfs mounts (so
//!   credentials such as `~/.config/copr` are not visible) except for the spec and sources the
//!   command reads, and only the build's own work directory (inside the result directory) is
//!   writable;
//! - the environment is cleared to `PATH`, `LANG`, `HOME` (inside the work directory) and the
//!   variables the method defines (e.g. `COPR_RESULTDIR`);
//! - network access is on for the methods whose job is fetching sources (make-srpm, custom,
//!   rpkg, tito — as in Copr, where these run with networking enabled) and off for parsing a
//!   spec (`rpmspec -P` only expands macros);
//! - when started as root, the command runs as an unprivileged uid in a user namespace;
//! - the job's timeout kills the whole sandbox (its own pid namespace, `--die-with-parent`).
//!
//! [`Backend`]: crate::mock::Backend

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::mock::CancelToken;

/// How one isolated command runs.
pub struct Isolated<'a> {
    /// The only writable directory.
    pub workdir: &'a Path,
    /// Working directory of the command (inside `workdir`, or read-only elsewhere).
    pub cwd: &'a Path,
    /// Host paths the command reads (spec, sources), bound read-only over the masked `/tmp`
    /// and home directory.
    pub ro_binds: Vec<PathBuf>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    pub network: bool,
    pub timeout: Duration,
    pub cancel: CancelToken,
}

/// Why an isolated command did not complete successfully.
#[derive(Debug, thiserror::Error)]
pub enum IsolateError {
    #[error("bubblewrap (`bwrap`) is not installed; it isolates source preparation scripts")]
    NoBwrap,
    #[error("cannot start `{program}`")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{program}` exited with {status}")]
    Failed { program: String, status: String },
    #[error("`{program}` timed out after {timeout:?}; its process tree was killed")]
    Timeout { program: String, timeout: Duration },
    #[error("`{program}` was canceled")]
    Canceled { program: String },
}

impl IsolateError {
    /// Name the command as the user knows it (e.g. the original script path rather than its
    /// copy in the work directory).
    pub fn with_program(self, name: &str) -> IsolateError {
        let program = name.to_string();
        match self {
            IsolateError::Spawn { source, .. } => IsolateError::Spawn { program, source },
            IsolateError::Failed { status, .. } => IsolateError::Failed { program, status },
            IsolateError::Timeout { timeout, .. } => IsolateError::Timeout { program, timeout },
            IsolateError::Canceled { .. } => IsolateError::Canceled { program },
            other => other,
        }
    }
}

/// What a finished command printed on stdout (stderr went to the log).
pub struct Captured {
    pub stdout: Vec<u8>,
}

impl Isolated<'_> {
    fn command(&self, argv: &[OsString]) -> Result<Command, IsolateError> {
        let bwrap_path = crate::mock::which("bwrap").ok_or(IsolateError::NoBwrap)?;
        let mut cmd = Command::new(&bwrap_path);
        cmd.env_clear();
        let home = self.workdir.join(".home");
        let _ = fs_err::create_dir_all(&home);
        cmd.args(["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]);
        cmd.args(["--tmpfs", "/tmp", "--tmpfs", "/root"]);
        if let Some(h) = std::env::var_os("HOME").filter(|h| !h.is_empty() && h != "/") {
            cmd.arg("--tmpfs").arg(h);
        }
        for p in &self.ro_binds {
            cmd.arg("--ro-bind").arg(p).arg(p);
        }
        cmd.arg("--bind").arg(self.workdir).arg(self.workdir);
        cmd.args([
            "--unshare-user",
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
        ]);
        cmd.args(["--die-with-parent", "--new-session"]);
        if crate::mock::sandbox::bwrap_has_disable_userns() {
            // No nested user namespaces: a script cannot regain capabilities in one.
            cmd.arg("--disable-userns");
        }
        if nix::unistd::geteuid().is_root() {
            cmd.args(["--uid", "1000", "--gid", "1000"]);
        }
        if !self.network {
            cmd.arg("--unshare-net");
        }
        cmd.arg("--chdir").arg(self.cwd);
        cmd.arg("--setenv").arg("HOME").arg(&home);
        cmd.arg("--setenv")
            .arg("PATH")
            .arg("/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin");
        cmd.args(["--setenv", "LANG", "C.UTF-8"]);
        for (k, v) in &self.env {
            cmd.arg("--setenv").arg(k).arg(v);
        }
        cmd.arg("--");
        cmd.args(argv);
        cmd.stdin(Stdio::null());
        cmd.process_group(0);
        Ok(cmd)
    }

    /// Run `argv`, copying stdout and stderr line by line into `log`.
    pub fn run(&self, argv: &[OsString], log: &mut dyn Write) -> Result<(), IsolateError> {
        self.run_inner(argv, log, false).map(|_| ())
    }

    /// Run `argv`, returning its stdout; stderr goes into `log`.
    pub fn output(&self, argv: &[OsString], log: &mut dyn Write) -> Result<Captured, IsolateError> {
        self.run_inner(argv, log, true)
    }

    fn run_inner(
        &self,
        argv: &[OsString],
        log: &mut dyn Write,
        capture: bool,
    ) -> Result<Captured, IsolateError> {
        let program = argv
            .first()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut cmd = self.command(argv)?;
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|source| IsolateError::Spawn {
            program: program.clone(),
            source,
        })?;
        let stdout = child.stdout.take().expect("piped");
        let stderr = child.stderr.take().expect("piped");
        let (tx, rx) = mpsc::channel::<(bool, Vec<u8>)>();
        let deadline = Instant::now() + self.timeout;
        let mut captured = Vec::new();
        let mut outcome = None;
        std::thread::scope(|s| {
            let tx2 = tx.clone();
            s.spawn(move || forward(stdout, true, tx2));
            s.spawn(move || forward(stderr, false, tx));
            loop {
                match rx.recv_timeout(Duration::from_millis(200)) {
                    Ok((is_stdout, line)) => {
                        if is_stdout && capture {
                            captured.extend_from_slice(&line);
                        } else {
                            let _ = log.write_all(&line);
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                }
                if outcome.is_none() {
                    if self.cancel.is_canceled() {
                        outcome = Some(IsolateError::Canceled {
                            program: program.clone(),
                        });
                    } else if Instant::now() >= deadline {
                        outcome = Some(IsolateError::Timeout {
                            program: program.clone(),
                            timeout: self.timeout,
                        });
                    }
                    if outcome.is_some() {
                        kill_tree(child.id());
                    }
                }
            }
        });
        let status = child.wait().map_err(|source| IsolateError::Spawn {
            program: program.clone(),
            source,
        })?;
        let _ = log.flush();
        if let Some(err) = outcome {
            return Err(err);
        }
        if !status.success() {
            return Err(IsolateError::Failed {
                program,
                status: describe_status(status),
            });
        }
        Ok(Captured { stdout: captured })
    }
}

fn forward(reader: impl std::io::Read, is_stdout: bool, tx: mpsc::Sender<(bool, Vec<u8>)>) {
    let mut reader = BufReader::new(reader);
    loop {
        let mut line = Vec::new();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                if tx.send((is_stdout, line)).is_err() {
                    return;
                }
            }
        }
    }
}

/// Kill the process group led by `pid` (bwrap; its sandbox dies with it).
fn kill_tree(pid: u32) {
    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::Pid;
    let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGKILL);
}

fn describe_status(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(s)) => format!("signal {s}"),
        _ => status.to_string(),
    }
}

/// Convert paths and strings into an argv.
pub fn argv<I, S>(items: I) -> Vec<OsString>
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    items.into_iter().map(Into::into).collect()
}

/// `p` as an OsString (for argv building).
pub fn os(p: &Path) -> OsString {
    p.as_os_str().to_owned()
}

/// A fresh directory `name` inside `parent`.
pub fn fresh_dir(parent: &Path, name: &str) -> std::io::Result<PathBuf> {
    let dir = parent.join(name);
    if dir.exists() {
        fs_err::remove_dir_all(&dir)?;
    }
    fs_err::create_dir_all(&dir)?;
    Ok(dir)
}
