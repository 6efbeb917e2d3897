//! Exit codes and the error type that carries one to the edge.
//!
//! Exit codes follow copr-cli so scripts written for it keep working:
//! 1 request error, 2 bad arguments, 3 generic error, 4 build failed or canceled,
//! 5 frontend too old, 6 configuration error, 7 authentication error.

use std::fmt;

/// Exit code chosen on purpose for each class of failure (copr-cli compatible).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Success = 0,
    Request = 1,
    Args = 2,
    Generic = 3,
    BuildFailed = 4,
    OldFrontend = 5,
    Config = 6,
    Auth = 7,
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(s: ExitStatus) -> Self {
        std::process::ExitCode::from(s as u8)
    }
}

/// An error with an exit status and an optional hint for the person reading it.
///
/// Library errors are converted into this at the command layer; anything else that reaches the
/// edge as a bare `anyhow::Error` exits with [`ExitStatus::Generic`].
#[derive(Debug)]
pub struct CliError {
    pub status: ExitStatus,
    pub error: anyhow::Error,
    pub hint: Option<String>,
}

impl CliError {
    pub fn new(status: ExitStatus, error: impl Into<anyhow::Error>) -> Self {
        CliError {
            status,
            error: error.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.error)
    }
}

impl std::error::Error for CliError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

/// Attach an exit status to any error.
pub trait WithStatus<T> {
    fn status(self, status: ExitStatus) -> Result<T, CliError>;
}

impl<T, E: Into<anyhow::Error>> WithStatus<T> for Result<T, E> {
    fn status(self, status: ExitStatus) -> Result<T, CliError> {
        self.map_err(|e| CliError::new(status, e))
    }
}
