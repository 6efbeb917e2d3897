//! Running a build command: live log line by line, timeout and cancel that kill the whole
//! process group, and a per-process memory limit.

use std::io::{BufRead, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{BackendError, CancelToken};

/// How much of the log is kept in memory for the failure summary.
const CAPTURE_LIMIT: usize = 16 << 20;

/// How a command ended.
#[derive(Debug)]
pub enum Outcome {
    Exited(ExitStatus),
    TimedOut,
    Canceled,
}

/// Limits applied to one command.
pub struct Limits<'a> {
    pub timeout: Duration,
    pub cancel: &'a CancelToken,
    /// `RLIMIT_AS` of the command and everything it starts, in bytes.
    pub memory_limit: Option<u64>,
}

/// Run `cmd` with stdout and stderr merged into `log` line by line; the text is also appended to
/// `capture` (up to a limit) for the failure summary. The command runs in its own process group;
/// on timeout or cancel the whole group is killed with SIGKILL (a command that puts its
/// children into a PID namespace, as bwrap does, takes all of them down with it).
pub fn run_logged(
    mut cmd: Command,
    limits: &Limits<'_>,
    log: &mut (dyn Write + Send),
    capture: &mut String,
) -> Result<Outcome, BackendError> {
    let io_err = |context: &str| {
        let context = context.to_string();
        move |source| BackendError::Io { context, source }
    };
    let program = cmd.get_program().to_string_lossy().into_owned();
    let (reader, writer) = std::io::pipe().map_err(io_err("cannot create a pipe"))?;
    let writer2 = writer
        .try_clone()
        .map_err(io_err("cannot duplicate a pipe"))?;
    cmd.stdin(Stdio::null())
        .stdout(writer)
        .stderr(writer2)
        .process_group(0);
    if let Some(limit) = limits.memory_limit {
        // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                let rl = libc::rlimit {
                    rlim_cur: limit as libc::rlim_t,
                    rlim_max: limit as libc::rlim_t,
                };
                if libc::setrlimit(libc::RLIMIT_AS, &rl) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let mut child = cmd
        .spawn()
        .map_err(io_err(&format!("cannot start `{program}`")))?;
    // Close our copies of the pipe's write end, so the reader sees EOF when the tree exits.
    drop(cmd);
    let pgid = child.id() as i32;

    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let reader_thread = std::thread::spawn(move || {
        let mut r = std::io::BufReader::new(reader);
        loop {
            let mut line = Vec::new();
            match r.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            }
        }
    });

    let deadline = Instant::now() + limits.timeout;
    let mut killed: Option<(Outcome, Instant)> = None;
    let mut exited: Option<(ExitStatus, Instant)> = None;
    let tick = Duration::from_millis(100);
    let mut last_check = Instant::now();
    loop {
        match rx.recv_timeout(tick) {
            Ok(line) => {
                let _ = log.write_all(&line);
                if capture.len() < CAPTURE_LIMIT {
                    capture.push_str(&String::from_utf8_lossy(&line));
                }
                // A chatty build must not delay its timeout or cancel.
                if last_check.elapsed() < tick {
                    continue;
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        last_check = Instant::now();
        if exited.is_none()
            && let Ok(Some(status)) = child.try_wait()
        {
            exited = Some((status, Instant::now()));
        }
        match &killed {
            None => {
                let why = if limits.cancel.is_canceled() {
                    Some(Outcome::Canceled)
                } else if Instant::now() >= deadline {
                    Some(Outcome::TimedOut)
                } else {
                    None
                };
                if let Some(why) = why {
                    kill_group(pgid);
                    killed = Some((why, Instant::now()));
                } else if let Some((_, at)) = &exited
                    && at.elapsed() > Duration::from_secs(2)
                {
                    // The command is done but something it left behind still holds the log
                    // pipe: end the stragglers rather than wait for the timeout.
                    kill_group(pgid);
                    break;
                }
            }
            Some((_, at)) => {
                // Keep killing stragglers that were forked while the first signal was sent;
                // stop waiting for the pipe if something outside the group still holds it.
                kill_group(pgid);
                if at.elapsed() > Duration::from_secs(10) {
                    break;
                }
            }
        }
    }
    let _ = log.flush();
    let status = match exited {
        Some((status, _)) => status,
        None => child
            .wait()
            .map_err(io_err(&format!("cannot wait for `{program}`")))?,
    };
    if killed.is_some() {
        kill_group(pgid);
    }
    if reader_thread.is_finished() {
        let _ = reader_thread.join();
    }
    Ok(match killed {
        Some((why, _)) => why,
        None => Outcome::Exited(status),
    })
}

fn kill_group(pgid: i32) {
    // SAFETY: plain syscall; a negative pid addresses the process group.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn straggler_holding_the_log_is_ended() {
        // The background sleep keeps the pipe open after sh exits; the run must still end
        // with sh's status, and the sleep must be gone.
        let marker = format!("{}.{}", 7000 + std::process::id() % 1000, 17);
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(format!("sleep {marker} & echo started"));
        let cancel = CancelToken::new();
        let limits = Limits {
            timeout: Duration::from_secs(300),
            cancel: &cancel,
            memory_limit: None,
        };
        let mut log = Vec::new();
        let mut capture = String::new();
        let outcome = run_logged(cmd, &limits, &mut log, &mut capture).unwrap();
        assert!(
            matches!(outcome, Outcome::Exited(s) if s.success()),
            "{outcome:?}"
        );
        assert_eq!(capture, "started\n");
        assert_eq!(log, b"started\n");
        let alive = || {
            std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
                std::fs::read(e.path().join("cmdline"))
                    .map(|c| String::from_utf8_lossy(&c).contains(&marker))
                    .unwrap_or(false)
            })
        };
        // SIGKILL was sent; give a loaded machine time to deliver it.
        let alive = (0..100).all(|_| {
            let a = alive();
            if a {
                std::thread::sleep(Duration::from_millis(50));
            }
            a
        });
        assert!(!alive, "the background sleep survived");
    }
}
