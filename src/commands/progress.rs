//! The terminal reporter: one indicatif spinner per stage (source, srpm, each chroot) on stderr.
//!
//! Log lines (`--verbose`) and messages are printed through `MultiProgress::suspend`, so they
//! never tear the bars. When stderr is not a terminal the bars are hidden and each stage's start
//! and end is printed as a plain line instead, so CI logs still show progress.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use console::Style;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::GlobalArgs;
use crate::reporter::{Event, Reporter, SharedReporter};

/// Progress bars for a build on stderr.
pub struct TerminalReporter {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, (ProgressBar, Instant)>>,
    verbose: bool,
    plain: bool,
    ok: Style,
    bad: Style,
    dim: Style,
}

impl TerminalReporter {
    fn new(verbose: bool) -> TerminalReporter {
        let plain = !std::io::stderr().is_terminal();
        let target = if plain {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        TerminalReporter {
            multi: MultiProgress::with_draw_target(target),
            bars: Mutex::new(HashMap::new()),
            verbose,
            plain,
            ok: Style::new().green().bold().for_stderr(),
            bad: Style::new().red().bold().for_stderr(),
            dim: Style::new().dim().for_stderr(),
        }
    }

    fn say(&self, line: &str) {
        self.multi.suspend(|| eprintln!("{line}"));
    }
}

/// The reporter for a command: silent with `--quiet`, JSON lines on stderr with
/// `--output json`, bars otherwise.
pub fn reporter(global: &GlobalArgs) -> SharedReporter {
    if global.quiet {
        crate::reporter::silent()
    } else if global.output == crate::cli::OutputFormat::Json {
        Arc::new(JsonLinesReporter {
            verbose: global.verbose,
        })
    } else {
        Arc::new(TerminalReporter::new(global.verbose))
    }
}

/// Progress as one JSON object per line on stderr (`--output json`), for tools that follow a
/// build: `{"event":"stage_started","stage":"srpm","detail":"rpmbuild"}`,
/// `{"event":"stage_finished","stage":"host-x86_64","ok":true,"message":null}`, `log` lines
/// (with `--verbose`), `info` and `warning`. Byte-level download progress is left out.
pub struct JsonLinesReporter {
    verbose: bool,
}

impl Reporter for JsonLinesReporter {
    fn event(&self, event: Event<'_>) {
        let value = match event {
            Event::StageStarted { stage, detail } => {
                serde_json::json!({"event": "stage_started", "stage": stage, "detail": detail})
            }
            Event::StageFinished { stage, ok, message } => serde_json::json!({
                "event": "stage_finished", "stage": stage, "ok": ok, "message": message
            }),
            Event::LogLine { stage, line } if self.verbose => {
                serde_json::json!({"event": "log", "stage": stage, "line": line})
            }
            Event::Info { message } => serde_json::json!({"event": "info", "message": message}),
            Event::Warning { message } => {
                serde_json::json!({"event": "warning", "message": message})
            }
            Event::LogLine { .. } | Event::StageProgress { .. } => return,
        };
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{value}");
    }
}

fn elapsed(since: Instant) -> String {
    let d = since.elapsed();
    if d < Duration::from_secs(60) {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

impl Reporter for TerminalReporter {
    fn event(&self, event: Event<'_>) {
        match event {
            Event::StageStarted { stage, detail } => {
                let msg = match detail {
                    Some(d) => format!("{stage}: {d}"),
                    None => stage.to_string(),
                };
                if self.plain {
                    eprintln!("{} {msg}", self.dim.apply_to("→"));
                }
                let bar = self.multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {msg} {elapsed:.dim}")
                        .expect("valid template"),
                );
                bar.set_message(msg);
                bar.enable_steady_tick(Duration::from_millis(120));
                self.bars
                    .lock()
                    .expect("not poisoned")
                    .insert(stage.to_string(), (bar, Instant::now()));
            }
            Event::StageProgress { stage, done, total } => {
                if let Some((bar, _)) = self.bars.lock().expect("not poisoned").get(stage) {
                    // Stage progress is bytes downloaded (the only progress the pipeline reports).
                    if bar.length() != total {
                        let template = match total {
                            Some(t) => {
                                bar.set_length(t);
                                "{spinner} {msg} {bytes}/{total_bytes} {elapsed:.dim}"
                            }
                            None => "{spinner} {msg} {bytes} {elapsed:.dim}",
                        };
                        bar.set_style(ProgressStyle::with_template(template).expect("valid"));
                    }
                    bar.set_position(done);
                }
            }
            Event::StageFinished { stage, ok, message } => {
                let entry = self.bars.lock().expect("not poisoned").remove(stage);
                let took = entry.as_ref().map(|(_, t)| elapsed(*t)).unwrap_or_default();
                let mark = if ok {
                    self.ok.apply_to("✓").to_string()
                } else {
                    self.bad.apply_to("✗").to_string()
                };
                let first = message.and_then(|m| m.lines().next());
                let line = match first {
                    Some(m) => format!("{mark} {stage}: {m} {}", self.dim.apply_to(&took)),
                    None => format!("{mark} {stage} {}", self.dim.apply_to(&took)),
                };
                match entry {
                    Some((bar, _)) if !self.plain => {
                        bar.set_style(ProgressStyle::with_template("{msg}").expect("valid"));
                        bar.finish_with_message(line);
                    }
                    Some((bar, _)) => {
                        bar.finish_and_clear();
                        eprintln!("{line}");
                    }
                    None => self.say(&line),
                }
            }
            Event::LogLine { stage, line } => {
                if self.verbose {
                    self.say(&format!(
                        "{} {line}",
                        self.dim.apply_to(format!("[{stage}]"))
                    ));
                }
            }
            Event::Info { message } => self.say(message),
            Event::Warning { message } => {
                self.say(&format!("{} {message}", self.bad.apply_to("warning:")))
            }
        }
    }
}
