//! Following a build task's `builder-live.log` over HTTP while it grows.
//!
//! Every poll asks for the bytes after the ones already seen (`Range: bytes=N-`), so a long log
//! costs one small request per interval, never a re-download.

use super::{Client, ClientError, LogChunk};

/// The file a builder streams its log into, in every task's result directory.
pub const LIVE_LOG: &str = "builder-live.log";

/// `<result_url>/builder-live.log`.
pub fn live_log_url(result_url: &str) -> String {
    format!("{}/{LIVE_LOG}", result_url.trim_end_matches('/'))
}

/// The read position in one growing log.
#[derive(Debug, Clone)]
pub struct LogTail {
    url: String,
    offset: u64,
    partial: Vec<u8>,
}

impl LogTail {
    pub fn new(url: impl Into<String>) -> LogTail {
        LogTail {
            url: url.into(),
            offset: 0,
            partial: Vec::new(),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Bytes read so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The complete lines added since the last poll (a missing log has none yet).
    pub fn poll(&mut self, client: &Client) -> Result<Vec<String>, ClientError> {
        let LogChunk::Data(bytes) = client.read_log(&self.url, self.offset)? else {
            return Ok(Vec::new());
        };
        self.offset += bytes.len() as u64;
        self.partial.extend_from_slice(&bytes);
        let Some(end) = self.partial.iter().rposition(|b| *b == b'\n') else {
            return Ok(Vec::new());
        };
        let rest = self.partial.split_off(end + 1);
        let complete = std::mem::replace(&mut self.partial, rest);
        Ok(String::from_utf8_lossy(&complete)
            .lines()
            .map(str::to_string)
            .collect())
    }

    /// A last unterminated line, once the log is known to be complete.
    pub fn finish(&mut self) -> Option<String> {
        if self.partial.is_empty() {
            return None;
        }
        let line = String::from_utf8_lossy(&self.partial).into_owned();
        self.partial.clear();
        Some(line)
    }
}

/// The whole log at `url` as text, or `None` when the server has none.
pub fn fetch_log(client: &Client, url: &str) -> Result<Option<String>, ClientError> {
    match client.read_log(url, 0)? {
        LogChunk::Missing => Ok(None),
        LogChunk::Data(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
    }
}

/// The first real error lines of a remote task's log, as a local build reports them.
pub fn remote_failure_summary(client: &Client, url: &str) -> Result<Option<String>, ClientError> {
    Ok(fetch_log(client, url)?
        .map(|text| crate::mock::failure_summary(&text))
        .filter(|s| !s.trim().is_empty()))
}
