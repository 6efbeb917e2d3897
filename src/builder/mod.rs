//! The builder agent (`copr builder`): pulls tasks from `copr serve`, runs the local pipeline on
//! each task's JobSpec, streams the live log and uploads results.
//!
//! The agent registers with the server, then runs `jobs` slots in parallel. Each slot
//! long-polls for a task (the server answers as soon as one is ready), runs it in a fresh work
//! directory that is removed afterwards, and while it runs sends heartbeats (whose answer may
//! ask it to cancel) and appends the growing `builder-live.log` to the server's copy. A source
//! task runs [`pipeline::build_srpm`] (fetch the source, make the SRPM); a chroot task runs
//! [`pipeline::build`] on the SRPM the server hosts — the same code as a local `copr build`.
//! Results go back as a gzip-compressed tar with the final state. Every request to the server
//! is retried across network errors and server restarts; a task whose lease the server ended
//! (it gave the task to another builder) is abandoned.
//!
//! The wire protocol is described in [`crate::server::builders`].

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde::Deserialize;
use serde_json::json;

use crate::job::JobSpec;
use crate::mock::{Backend, BackendKind, CancelToken};
use crate::pipeline::{self, LIVE_LOG, RunOptions, State};
use crate::reporter::{Event, SharedReporter, Silent};

/// The protocol prefix on the server.
const PREFIX: &str = "/builder-api/v1";
/// Largest live-log chunk per request.
const LOG_CHUNK: usize = 512 * 1024;
/// How often the growing log is checked for new bytes.
const LOG_PERIOD: Duration = Duration::from_millis(250);
/// How long a finished task keeps retrying its result upload while the server is unreachable.
const UPLOAD_PATIENCE: Duration = Duration::from_secs(30 * 60);

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("cannot reach the server at {url}")]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("the server refused the builder ({status}): {message}")]
    Refused { status: u16, message: String },
    #[error("cannot use the work directory {path}")]
    Workdir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid answer from the server: {0}")]
    Protocol(String),
}

impl AgentError {
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            AgentError::Refused { status: 401, .. } => {
                Some("create a token with `copr serve admin add-builder NAME` on the server")
            }
            AgentError::Http { .. } => Some("check --server and that `copr serve` is running"),
            _ => None,
        }
    }
}

/// How the agent runs.
#[derive(Debug, Clone)]
pub struct AgentOptions {
    /// Base URL of `copr serve`.
    pub server: String,
    pub token: String,
    pub arch: String,
    pub tags: Vec<String>,
    /// Chroots it builds for.
    pub chroots: Vec<String>,
    /// Tasks run in parallel.
    pub jobs: usize,
    /// Parent of the per-task work directories.
    pub workdir: PathBuf,
    pub backend: BackendKind,
}

/// A task as the server hands it out.
#[derive(Debug, Clone, Deserialize)]
struct Task {
    build_id: u64,
    chroot: Option<String>,
    lease: String,
    package: Option<String>,
    #[serde(default)]
    log_base: u64,
    job: JobSpec,
}

impl Task {
    fn describe(&self) -> String {
        match &self.chroot {
            Some(c) => format!("build {} ({c})", self.build_id),
            None => format!("build {} (source)", self.build_id),
        }
    }

    fn query(&self) -> Vec<(&'static str, String)> {
        self.chroot.iter().map(|c| ("chroot", c.clone())).collect()
    }
}

/// A running agent; share it between the slot threads and the signal handler.
pub struct Agent {
    opts: AgentOptions,
    client: Client,
    backend: Box<dyn Backend>,
    reporter: SharedReporter,
    heartbeat: Mutex<Duration>,
    stop: AtomicBool,
    hand_back: AtomicBool,
    running: Mutex<Vec<(u64, CancelToken)>>,
    serial: std::sync::atomic::AtomicU64,
    active: (Mutex<usize>, Condvar),
}

fn url(base: &str, path: &str) -> String {
    format!("{}{PREFIX}/{path}", base.trim_end_matches('/'))
}

impl Agent {
    pub fn new(
        opts: AgentOptions,
        backend: Box<dyn Backend>,
        reporter: SharedReporter,
    ) -> Result<Arc<Agent>, AgentError> {
        fs_err::create_dir_all(&opts.workdir).map_err(|source| AgentError::Workdir {
            path: opts.workdir.clone(),
            source,
        })?;
        let client = Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(None::<Duration>)
            .build()
            .map_err(|source| AgentError::Http {
                url: opts.server.clone(),
                source,
            })?;
        Ok(Arc::new(Agent {
            opts,
            client,
            backend,
            reporter,
            heartbeat: Mutex::new(Duration::from_secs(10)),
            stop: AtomicBool::new(false),
            hand_back: AtomicBool::new(false),
            running: Mutex::new(Vec::new()),
            serial: std::sync::atomic::AtomicU64::new(0),
            active: (Mutex::new(0), Condvar::new()),
        }))
    }

    fn info(&self, message: &str) {
        self.reporter.event(Event::Info { message });
    }

    fn warn(&self, message: &str) {
        self.reporter.event(Event::Warning { message });
    }

    fn post(&self, path: &str) -> RequestBuilder {
        self.client
            .post(url(&self.opts.server, path))
            .bearer_auth(&self.opts.token)
    }

    fn offer(&self) -> serde_json::Value {
        json!({
            "arch": self.opts.arch,
            "tags": self.opts.tags,
            "chroots": self.opts.chroots,
            "backends": [self.opts.backend],
            "backend": self.opts.backend,
            "source": true,
        })
    }

    /// Register with the server (retrying for a minute while it is unreachable); returns the
    /// chroots the server accepted.
    pub fn register(&self) -> Result<Vec<String>, AgentError> {
        let start = Instant::now();
        loop {
            match self
                .post("register")
                .timeout(Duration::from_secs(30))
                .json(&self.offer())
                .send()
            {
                Ok(resp) if resp.status().is_success() => {
                    let v: serde_json::Value = resp
                        .json()
                        .map_err(|e| AgentError::Protocol(e.to_string()))?;
                    let secs = v["heartbeat_interval"].as_u64().unwrap_or(10).max(1);
                    *self.heartbeat.lock().expect("lock") = Duration::from_secs(secs);
                    let chroots = v["chroots"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|c| c.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default();
                    return Ok(chroots);
                }
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    return Err(AgentError::Refused {
                        status,
                        message: error_message(resp),
                    });
                }
                Err(e) if start.elapsed() < Duration::from_secs(60) => {
                    self.warn(&format!("cannot reach {}: {e}; retrying", self.opts.server));
                    std::thread::sleep(Duration::from_secs(1));
                }
                Err(source) => {
                    return Err(AgentError::Http {
                        url: self.opts.server.clone(),
                        source,
                    });
                }
            }
        }
    }

    /// Start the slot threads; they run until [`stop`](Self::stop).
    pub fn start(self: &Arc<Self>) {
        for slot in 0..self.opts.jobs.max(1) {
            let agent = self.clone();
            std::thread::Builder::new()
                .name(format!("slot-{slot}"))
                .spawn(move || agent.slot())
                .expect("spawn a builder slot");
        }
    }

    /// Take no new tasks; running ones finish.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Stop, cancel the running tasks and give them back to the server.
    pub fn hand_back(&self) {
        self.stop();
        self.hand_back.store(true, Ordering::SeqCst);
        for (_, c) in self.running.lock().expect("lock").iter() {
            c.cancel();
        }
    }

    /// Wait until no task runs.
    pub fn wait_idle(&self) {
        let (lock, cv) = &self.active;
        let mut n = lock.lock().expect("lock");
        while *n > 0 {
            n = cv.wait(n).expect("lock");
        }
    }

    fn set_active(&self, delta: isize) {
        let (lock, cv) = &self.active;
        let mut n = lock.lock().expect("lock");
        *n = (*n as isize + delta).max(0) as usize;
        cv.notify_all();
    }

    fn slot(self: Arc<Self>) {
        let mut backoff = Duration::from_millis(250);
        while !self.stop.load(Ordering::SeqCst) {
            match self.claim() {
                Ok(Some(task)) => {
                    backoff = Duration::from_millis(250);
                    self.set_active(1);
                    if self.stop.load(Ordering::SeqCst) {
                        self.release(&task);
                    } else {
                        self.run_task(task);
                    }
                    self.set_active(-1);
                }
                Ok(None) => backoff = Duration::from_millis(250),
                Err(e) => {
                    self.warn(&format!("asking for work failed: {e}; retrying"));
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    /// One long-poll for work.
    fn claim(&self) -> Result<Option<Task>, String> {
        let resp = self
            .post("claim")
            .json(&self.offer())
            .send()
            .map_err(|e| e.to_string())?;
        match resp.status() {
            StatusCode::NO_CONTENT => Ok(None),
            s if s.is_success() => {
                let v: serde_json::Value = resp.json().map_err(|e| e.to_string())?;
                serde_json::from_value(v["task"].clone())
                    .map(Some)
                    .map_err(|e| format!("invalid task: {e}"))
            }
            s => Err(format!("{s}: {}", error_message(resp))),
        }
    }

    fn release(&self, task: &Task) {
        let _ = self
            .post(&format!("task/{}/release", task.build_id))
            .query(&task.query())
            .header("Copr-Lease", &task.lease)
            .timeout(Duration::from_secs(30))
            .send();
        self.info(&format!("{} handed back", task.describe()));
    }

    fn run_task(self: &Arc<Self>, task: Task) {
        let what = task.describe();
        self.info(&format!("{what} started"));
        let work = match tempfile::Builder::new()
            .prefix("task-")
            .tempdir_in(&self.opts.workdir)
        {
            Ok(d) => d,
            Err(e) => {
                self.warn(&format!(
                    "cannot create a work directory in {}: {e}",
                    self.opts.workdir.display()
                ));
                self.release(&task);
                return;
            }
        };
        let resultdir = work.path().join("results");
        let cancel = CancelToken::new();
        let serial = self.serial.fetch_add(1, Ordering::SeqCst);
        self.running
            .lock()
            .expect("lock")
            .push((serial, cancel.clone()));
        let lost = Arc::new(AtomicBool::new(false));
        // Heartbeats until the result is delivered.
        let (hb_stop, hb_rx) = mpsc::channel::<()>();
        let hb = {
            let agent = self.clone();
            let task = task.clone();
            let cancel = cancel.clone();
            let lost = lost.clone();
            std::thread::spawn(move || agent.heartbeats(&task, &cancel, &lost, hb_rx))
        };
        let log_path = match &task.chroot {
            None => resultdir
                .join("srpm-builds")
                .join(format!("{:08}", task.build_id)),
            Some(c) => resultdir.join(c).join(format!(
                "{:08}-{}",
                task.build_id,
                task.package.as_deref().unwrap_or("unknown")
            )),
        }
        .join(LIVE_LOG);
        let (log_stop, log_rx) = mpsc::channel::<()>();
        let streamer = {
            let agent = self.clone();
            let task = task.clone();
            let path = log_path.clone();
            std::thread::spawn(move || agent.stream_log(&task, &path, log_rx))
        };
        let (state, reason, dir) = self.execute(&task, &resultdir, &log_path, &cancel);
        drop(log_stop);
        let _ = streamer.join();
        let handing_back = self.hand_back.load(Ordering::SeqCst);
        if lost.load(Ordering::SeqCst) {
            self.warn(&format!(
                "{what}: the server gave the task to another builder; results dropped"
            ));
        } else if handing_back {
            self.release(&task);
        } else {
            match self.upload(&task, state, reason.as_deref(), dir.as_deref(), work.path()) {
                Ok(final_state) => self.info(&format!("{what} {final_state}")),
                Err(e) => self.warn(&format!("{what}: results not delivered: {e}")),
            }
        }
        drop(hb_stop);
        let _ = hb.join();
        self.running
            .lock()
            .expect("lock")
            .retain(|(n, _)| *n != serial);
        drop(work);
    }

    /// Run the pipeline for a task: (state, reason, directory of the result files).
    fn execute(
        &self,
        task: &Task,
        resultdir: &Path,
        log_path: &Path,
        cancel: &CancelToken,
    ) -> (State, Option<String>, Option<PathBuf>) {
        let opts = RunOptions {
            resultdir: resultdir.to_path_buf(),
            reporter: Arc::new(Silent),
            cancel: cancel.clone(),
        };
        let failed = |e: &dyn std::error::Error| {
            let mut s = e.to_string();
            let mut src = e.source();
            while let Some(c) = src {
                s.push_str(&format!(": {c}"));
                src = c.source();
            }
            let state = if cancel.is_canceled() {
                State::Canceled
            } else {
                State::Failed
            };
            write_log_line(log_path, &format!("error: {s}"));
            (state, Some(s), log_path.parent().map(Path::to_path_buf))
        };
        // Sources the server itself hosts are fetched here, patiently: a server restart
        // must not fail the build.
        let job = match self.prefetch(&task.job, resultdir) {
            Ok(job) => job,
            Err(e) => {
                let e = std::io::Error::other(e);
                return failed(&e);
            }
        };
        match &task.chroot {
            None => match pipeline::build_srpm(&job, self.backend.as_ref(), &opts) {
                Ok(r) => (r.state, r.error, Some(r.dir)),
                Err(e) => failed(&e),
            },
            Some(chroot) => match pipeline::build(&job, self.backend.as_ref(), &opts) {
                Ok(r) => {
                    let Some(c) = r.chroots.into_iter().find(|c| &c.chroot == chroot) else {
                        return (State::Failed, Some("no result for the chroot".into()), None);
                    };
                    match c.dir {
                        Some(dir) => (c.state, c.reason, Some(dir)),
                        None => {
                            // The SRPM stage already failed: its log explains why.
                            let text = std::fs::read_to_string(&r.srpm.log).unwrap_or_default();
                            write_log_line(log_path, text.trim_end());
                            let reason = c.reason.or(r.srpm.error);
                            if let Some(reason) = &reason {
                                write_log_line(log_path, &format!("error: {reason}"));
                            }
                            (c.state, reason, log_path.parent().map(Path::to_path_buf))
                        }
                    }
                }
                Err(e) => failed(&e),
            },
        }
    }

    /// The job with a source URL on this server replaced by the downloaded file (an SRPM or a
    /// spec), retrying while the server is unreachable.
    fn prefetch(&self, job: &JobSpec, resultdir: &Path) -> Result<JobSpec, String> {
        let crate::job::Source::Url { url } = &job.source else {
            return Ok(job.clone());
        };
        if !url.starts_with(&format!("{}/", self.opts.server)) {
            return Ok(job.clone());
        }
        let name = url
            .rsplit('/')
            .next()
            .filter(|n| !n.is_empty() && !n.starts_with('.'))
            .ok_or_else(|| format!("{url} names no file"))?;
        let dir = resultdir.with_file_name("source");
        fs_err::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let dest = dir.join(name);
        let start = Instant::now();
        let mut backoff = Duration::from_millis(500);
        loop {
            let outcome = self
                .client
                .get(url)
                .timeout(Duration::from_secs(600))
                .send()
                .and_then(|r| r.error_for_status());
            match outcome {
                Ok(mut r) => {
                    let mut f = fs_err::File::create(&dest).map_err(|e| e.to_string())?;
                    match r.copy_to(&mut f) {
                        Ok(_) => break,
                        Err(e) if start.elapsed() > UPLOAD_PATIENCE => {
                            return Err(format!("cannot download {url}: {e}"));
                        }
                        Err(_) => {}
                    }
                }
                Err(e) if e.status().is_some_and(|s| s.is_client_error()) => {
                    return Err(format!("cannot download {url}: {e}"));
                }
                Err(e) if start.elapsed() > UPLOAD_PATIENCE => {
                    return Err(format!("cannot download {url}: {e}"));
                }
                Err(_) => {}
            }
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
        let mut job = job.clone();
        job.source = if name.ends_with(".spec") {
            crate::job::Source::Spec { path: dest }
        } else {
            crate::job::Source::Srpm { path: dest }
        };
        Ok(job)
    }

    fn heartbeats(
        &self,
        task: &Task,
        cancel: &CancelToken,
        lost: &AtomicBool,
        rx: mpsc::Receiver<()>,
    ) {
        let path = format!("task/{}/heartbeat", task.build_id);
        loop {
            let resp = self
                .post(&path)
                .query(&task.query())
                .header("Copr-Lease", &task.lease)
                .timeout(Duration::from_secs(30))
                .send();
            match resp {
                Ok(r) if r.status().is_success() => {
                    let v: serde_json::Value = r.json().unwrap_or_default();
                    if v["cancel"].as_bool() == Some(true) && !cancel.is_canceled() {
                        self.info(&format!("{}: canceled on the server", task.describe()));
                        cancel.cancel();
                    }
                }
                Ok(r)
                    if matches!(
                        r.status(),
                        StatusCode::CONFLICT | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
                    ) =>
                {
                    // The lease ended (or the task is already reported): nothing this
                    // builder does for the task counts any more.
                    lost.store(true, Ordering::SeqCst);
                    cancel.cancel();
                }
                // Server errors or unreachable: try again at the next beat.
                _ => {}
            }
            let every = *self.heartbeat.lock().expect("lock");
            match rx.recv_timeout(every) {
                Err(mpsc::RecvTimeoutError::Timeout) => continue,
                _ => return,
            }
        }
    }

    /// Append the growing local log to the server's copy until told to stop, then send the
    /// rest.
    fn stream_log(&self, task: &Task, path: &Path, rx: mpsc::Receiver<()>) {
        let mut sent: u64 = 0;
        let endpoint = format!("task/{}/log", task.build_id);
        loop {
            let stopping = !matches!(
                rx.recv_timeout(LOG_PERIOD),
                Err(mpsc::RecvTimeoutError::Timeout)
            );
            // Send everything there is (in chunks); on the final round retry a while.
            let deadline = Instant::now() + Duration::from_secs(if stopping { 120 } else { 0 });
            loop {
                let chunk = read_from(path, sent, LOG_CHUNK);
                if chunk.is_empty() {
                    break;
                }
                let resp = self
                    .post(&endpoint)
                    .query(&task.query())
                    .query(&[("offset", task.log_base + sent)])
                    .header("Copr-Lease", &task.lease)
                    .timeout(Duration::from_secs(30))
                    .body(chunk.clone())
                    .send();
                match resp {
                    Ok(r) if r.status().is_success() => sent += chunk.len() as u64,
                    Ok(r) if r.status() == StatusCode::CONFLICT => {
                        let v: serde_json::Value = r.json().unwrap_or_default();
                        match v["length"].as_u64() {
                            // The server has less than we sent (it lost the end): resend.
                            Some(len) if len >= task.log_base => sent = len - task.log_base,
                            _ => return, // the lease ended
                        }
                    }
                    Ok(r) if r.status().is_client_error() => return,
                    _ => {
                        if Instant::now() >= deadline {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(500));
                    }
                }
            }
            if stopping {
                return;
            }
        }
    }

    /// Pack the result files and deliver them with the final state, retrying across network
    /// errors and server restarts.
    fn upload(
        &self,
        task: &Task,
        state: State,
        reason: Option<&str>,
        dir: Option<&Path>,
        work: &Path,
    ) -> Result<String, String> {
        let tarball = work.join("results.tar.gz");
        pack(dir, &tarball).map_err(|e| format!("cannot pack the results: {e}"))?;
        let state_name = match state {
            State::Skipped => "succeeded",
            s => s.as_str(),
        };
        let mut query: Vec<(&str, String)> = task.query();
        query.push(("state", state_name.to_string()));
        if let Some(r) = reason {
            query.push(("reason", r.chars().take(1000).collect()));
        }
        let start = Instant::now();
        let mut backoff = Duration::from_millis(500);
        loop {
            let file = fs_err::File::open(&tarball).map_err(|e| e.to_string())?;
            let resp = self
                .post(&format!("task/{}/result", task.build_id))
                .query(&query)
                .header("Copr-Lease", &task.lease)
                .header("Content-Type", "application/gzip")
                .timeout(Duration::from_secs(600))
                .body(reqwest::blocking::Body::new(file.into_parts().0))
                .send();
            match resp {
                Ok(r) if r.status().is_success() => {
                    let v: serde_json::Value = r.json().unwrap_or_default();
                    return Ok(v["state"].as_str().unwrap_or(state_name).to_string());
                }
                Ok(r) if r.status().is_client_error() => {
                    return Err(format!("{}: {}", r.status(), error_message(r)));
                }
                other => {
                    if start.elapsed() > UPLOAD_PATIENCE {
                        return Err(match other {
                            Ok(r) => format!("{}: {}", r.status(), error_message(r)),
                            Err(e) => e.to_string(),
                        });
                    }
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }
}

fn error_message(resp: Response) -> String {
    let text = resp.text().unwrap_or_default();
    serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_string))
        .unwrap_or(text)
}

/// Up to `max` bytes of `path` from `offset` (nothing when it does not exist yet).
fn read_from(path: &Path, offset: u64, max: usize) -> Vec<u8> {
    let Ok(mut f) = std::fs::File::open(path) else {
        return Vec::new();
    };
    if f.seek(SeekFrom::Start(offset)).is_err() {
        return Vec::new();
    }
    let mut buf = Vec::new();
    let _ = f.take(max as u64).read_to_end(&mut buf);
    buf
}

fn write_log_line(path: &Path, line: &str) {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        let _ = fs_err::create_dir_all(dir);
    }
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(f, "{line}");
    }
}

/// A tar.gz of the regular files directly in `dir` (without the live log, which was streamed).
fn pack(dir: Option<&Path>, out: &Path) -> std::io::Result<()> {
    let file = fs_err::File::create(out)?;
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    if let Some(dir) = dir.filter(|d| d.is_dir()) {
        let mut names: Vec<_> = fs_err::read_dir(dir)?
            .filter_map(Result::ok)
            .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
            .map(|e| e.file_name())
            .filter(|n| n != LIVE_LOG)
            .collect();
        names.sort();
        for name in names {
            let mut f = fs_err::File::open(dir.join(&name))?;
            tar.append_file(&name, f.file_mut())?;
        }
    }
    tar.into_inner()?.finish()?;
    Ok(())
}
