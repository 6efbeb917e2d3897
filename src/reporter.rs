//! Progress reporting from library code.
//!
//! The library emits [`Event`]s through a [`Reporter`]; only `src/commands/` implements it (with
//! indicatif bars or JSON lines). Library modules never write to the terminal themselves.

use std::sync::Arc;

/// One thing worth telling the user about while work is under way.
#[derive(Debug, Clone)]
pub enum Event<'a> {
    /// A named stage (e.g. `srpm`, `rpm fedora-40-x86_64`, `createrepo`) started.
    StageStarted {
        stage: &'a str,
        detail: Option<&'a str>,
    },
    /// Progress within a stage; `total` is `None` when unknown.
    StageProgress {
        stage: &'a str,
        done: u64,
        total: Option<u64>,
    },
    /// A stage ended; `ok` false means it failed, `message` is the one-line outcome.
    StageFinished {
        stage: &'a str,
        ok: bool,
        message: Option<&'a str>,
    },
    /// A line of a build log (shown with `--verbose`).
    LogLine { stage: &'a str, line: &'a str },
    /// A note for the user that is not an error.
    Info { message: &'a str },
    /// Something surprising but not fatal.
    Warning { message: &'a str },
}

/// Receives progress events. Implementations must be cheap and thread-safe.
pub trait Reporter: Send + Sync {
    fn event(&self, event: Event<'_>);
}

/// A reporter that drops every event (tests, the server, quiet mode).
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Reporter for Silent {
    fn event(&self, _event: Event<'_>) {}
}

/// Shared handle to a reporter.
pub type SharedReporter = Arc<dyn Reporter>;

/// A reporter that does nothing, as a shared handle.
pub fn silent() -> SharedReporter {
    Arc::new(Silent)
}
