//! Watching remote builds: copr-cli's state lines, one progress line per task (the SRPM build
//! and each chroot) with its state and elapsed time, the live log with `--verbose`, and on
//! failure the first real error lines of the failed task's log with its URL.
//!
//! Every poll costs one request for the build, one for its chroots and one for its source task
//! (plus one Range request per running task's log with `--verbose`); errors of these detail
//! requests are ignored, so frontends without them are still watched by build state alone.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::Duration;

use console::Style;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::client::logs::{LogTail, live_log_url, remote_failure_summary};
use crate::client::{Build, BuildChroot};
use crate::commands::remote::{Remote, print_line};
use crate::error::{CliError, ExitStatus};

/// The SRPM task's name, as Copr names its result directory.
pub const SOURCE_TASK: &str = "srpm-builds";

/// How builds are watched.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    pub interval: Duration,
    /// State lines go to stderr (stdout carries JSON).
    pub to_stderr: bool,
    /// Stream the tasks' live logs.
    pub verbose: bool,
    /// No progress lines.
    pub quiet: bool,
}

struct Task {
    state: String,
    result_url: Option<String>,
    started_on: Option<i64>,
    ended_on: Option<i64>,
    bar: Option<ProgressBar>,
    tail: Option<LogTail>,
    log_done: bool,
}

fn now_epoch() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn elapsed(started: Option<i64>, ended: Option<i64>) -> String {
    let Some(s) = started else {
        return String::new();
    };
    let secs = (ended.unwrap_or_else(now_epoch) - s).max(0);
    if secs < 60 {
        format!("{secs}s")
    } else {
        format!("{}m{:02}s", secs / 60, secs % 60)
    }
}

fn running(state: &str) -> bool {
    matches!(state, "starting" | "running")
}

fn finished(state: &str) -> bool {
    crate::client::FINISHED_STATES.contains(&state)
}

struct Watcher<'a> {
    remote: &'a Remote,
    opts: &'a WatchOptions,
    multi: MultiProgress,
    plain: bool,
    tasks: BTreeMap<(i64, String), Task>,
    dim: Style,
}

impl Watcher<'_> {
    fn say(&self, line: String) -> Result<(), CliError> {
        if self.opts.to_stderr {
            self.multi.suspend(|| eprintln!("{line}"));
            Ok(())
        } else {
            self.multi.suspend(|| print_line(line))
        }
    }

    fn note(&self, line: String) {
        self.multi.suspend(|| eprintln!("{line}"));
    }

    fn style(state: &str) -> Style {
        match state {
            "succeeded" | "skipped" => Style::new().green().for_stderr(),
            "failed" | "canceled" => Style::new().red().for_stderr(),
            "running" | "starting" => Style::new().cyan().for_stderr(),
            _ => Style::new().for_stderr(),
        }
    }

    fn message(id: i64, name: &str, t: &Task) -> String {
        format!(
            "{id} {name:<24} {} {}",
            Self::style(&t.state).apply_to(format!("{:<10}", t.state)),
            elapsed(t.started_on, t.ended_on)
        )
    }

    /// Refresh the tasks of build `id`; errors are ignored (see the module docs).
    fn refresh_tasks(&mut self, id: i64) {
        let client = &self.remote.client;
        let mut seen: Vec<BuildChroot> = Vec::new();
        if let Ok(src) = client.build_source_chroot(id)
            && !src.state.is_empty()
        {
            seen.push(BuildChroot {
                name: SOURCE_TASK.to_string(),
                ..src
            });
        }
        match client.build_chroot_list(id).all() {
            Ok(list) => seen.extend(list),
            Err(e) => tracing::debug!("no chroot states for build {id}: {e}"),
        }
        for c in seen {
            let key = (id, c.name.clone());
            let is_new = !self.tasks.contains_key(&key);
            let task = self.tasks.entry(key).or_insert_with(|| Task {
                state: String::new(),
                result_url: None,
                started_on: None,
                ended_on: None,
                bar: None,
                tail: None,
                log_done: false,
            });
            let changed = task.state != c.state;
            task.state = c.state.clone();
            task.started_on = c.started_on;
            task.ended_on = c.ended_on;
            if let Some(u) = c.result_url.filter(|u| !u.is_empty()) {
                if task.result_url.as_deref() != Some(u.as_str()) {
                    task.tail = Some(LogTail::new(live_log_url(&u)));
                }
                task.result_url = Some(u);
            }
            if self.opts.quiet {
                continue;
            }
            if self.plain {
                if changed {
                    let line = format!("  Build {id} {}: {}", c.name, c.state);
                    self.multi.suspend(|| eprintln!("{line}"));
                }
                continue;
            }
            if is_new || task.bar.is_none() {
                let bar = self.multi.add(ProgressBar::new_spinner());
                bar.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("valid"));
                bar.enable_steady_tick(Duration::from_millis(120));
                task.bar = Some(bar);
            }
            let msg = Self::message(id, &c.name, task);
            if let Some(bar) = &task.bar {
                if finished(&task.state) {
                    bar.set_style(ProgressStyle::with_template("  {msg}").expect("valid"));
                }
                bar.set_message(msg);
            }
        }
    }

    /// Print new lines of the running tasks' logs (`--verbose`).
    fn tail_logs(&mut self, id: i64, final_read: bool) {
        if !self.opts.verbose {
            return;
        }
        let client = &self.remote.client;
        let mut out: Vec<String> = Vec::new();
        // The SRPM task's log first: its lines come before the chroots'.
        let mut order: Vec<(&(i64, String), &mut Task)> = self.tasks.iter_mut().collect();
        order.sort_by_key(|((_, name), _)| name != SOURCE_TASK);
        for ((bid, name), task) in order {
            if *bid != id || task.log_done {
                continue;
            }
            let active = running(&task.state) || finished(&task.state);
            let Some(tail) = task.tail.as_mut().filter(|_| active) else {
                continue;
            };
            match tail.poll(client) {
                Ok(lines) => {
                    let prefix = self.dim.apply_to(format!("[{name}]")).to_string();
                    out.extend(lines.into_iter().map(|l| format!("{prefix} {l}")));
                }
                Err(e) => tracing::debug!("cannot read {}: {e}", tail.url()),
            }
            if finished(&task.state) || final_read {
                if let Some(l) = tail.finish() {
                    out.push(format!("{} {l}", self.dim.apply_to(format!("[{name}]"))));
                }
                task.log_done = true;
            }
        }
        for l in out {
            self.note(l);
        }
    }

    /// The failure summary of every failed task of a finished build.
    fn failure_summary(&self, build: &Build) {
        let red = Style::new().red().bold().for_stderr();
        let client = &self.remote.client;
        let failed: Vec<(&String, &Task)> = self
            .tasks
            .iter()
            .filter(|((bid, _), t)| *bid == build.id && t.state == "failed")
            .map(|((_, n), t)| (n, t))
            .collect();
        // A failed SRPM build explains everything after it.
        let source_failed = failed.iter().any(|(n, _)| n.as_str() == SOURCE_TASK);
        for (name, task) in failed {
            if source_failed && name != SOURCE_TASK {
                continue;
            }
            let Some(result_url) = &task.result_url else {
                continue;
            };
            let url = live_log_url(result_url);
            let head = if name == SOURCE_TASK {
                format!(
                    "{} build {}: the SRPM build failed:",
                    red.apply_to("error:"),
                    build.id
                )
            } else {
                format!("{} build failed in {name}:", red.apply_to("error:"))
            };
            self.note(head);
            match remote_failure_summary(client, &url) {
                Ok(Some(summary)) => {
                    for l in summary.lines() {
                        self.note(format!("  {l}"));
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::debug!("cannot read {url}: {e}"),
            }
            self.note(format!("  log: {url}"));
        }
    }
}

/// Poll builds until all are finished, printing `HH:MM:SS Build N: state` (UTC) on each change
/// as copr-cli does. Exit status 4 when one failed or was canceled.
pub fn watch(
    remote: &Remote,
    ids: &[i64],
    opts: &WatchOptions,
) -> Result<(ExitStatus, Vec<Build>), CliError> {
    let plain = !std::io::stderr().is_terminal();
    let target = if plain || opts.quiet {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let mut w = Watcher {
        remote,
        opts,
        multi: MultiProgress::with_draw_target(target),
        plain,
        tasks: BTreeMap::new(),
        dim: Style::new().dim().for_stderr(),
    };
    w.say("Watching build(s): (this may be safely interrupted)".to_string())?;
    let mut last: Vec<Option<String>> = vec![None; ids.len()];
    let mut finals: Vec<Option<Build>> = vec![None; ids.len()];
    let clock = time::macros::format_description!("[hour]:[minute]:[second]");
    loop {
        for (i, id) in ids.iter().enumerate() {
            if finals[i].is_some() {
                continue;
            }
            let build = remote.client.build_get(*id).map_err(|e| remote.err(e))?;
            w.refresh_tasks(*id);
            w.tail_logs(*id, build.is_finished());
            if last[i].as_deref() != Some(build.state.as_str()) {
                let now = time::OffsetDateTime::now_utc();
                w.say(format!(
                    "  {} Build {}: {}",
                    now.format(&clock).unwrap_or_default(),
                    id,
                    build.state
                ))?;
                last[i] = Some(build.state.clone());
            }
            if build.state == "unknown" {
                return Err(CliError::new(
                    ExitStatus::BuildFailed,
                    anyhow::anyhow!("build {id} is in an unknown state"),
                ));
            }
            if build.is_finished() {
                if build.state == "failed" {
                    w.failure_summary(&build);
                }
                finals[i] = Some(build);
            }
        }
        if finals.iter().all(Option::is_some) {
            break;
        }
        std::thread::sleep(opts.interval);
    }
    // Replace the live lines by their final text, so the terminal keeps a clean record.
    let mut final_lines = Vec::new();
    let _ = w.multi.clear();
    w.multi.set_draw_target(ProgressDrawTarget::hidden());
    let mut order: Vec<(&(i64, String), &Task)> = w.tasks.iter().collect();
    order.sort_by_key(|((id, name), _)| (*id, name != SOURCE_TASK));
    for (_, t) in order {
        if let Some(bar) = &t.bar {
            final_lines.push(bar.message());
            bar.finish_and_clear();
        }
    }
    for line in final_lines {
        eprintln!("  {line}");
    }
    let finals: Vec<Build> = finals.into_iter().flatten().collect();
    let ids_in = |state: &str| -> Vec<String> {
        finals
            .iter()
            .filter(|b| b.state == state)
            .map(|b| b.id.to_string())
            .collect()
    };
    let (failed, canceled) = (ids_in("failed"), ids_in("canceled"));
    let mut problems = Vec::new();
    if !failed.is_empty() {
        problems.push(format!("Build(s) {} failed.", failed.join(", ")));
    }
    if !canceled.is_empty() {
        problems.push(format!("Build(s) {} canceled.", canceled.join(", ")));
    }
    if !problems.is_empty() {
        eprintln!("Build error: {}", problems.join(" "));
        return Ok((ExitStatus::BuildFailed, finals));
    }
    Ok((ExitStatus::Success, finals))
}
