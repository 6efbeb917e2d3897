//! Downloads over http(s): a `.spec` or `.src.rpm` given as the build source, and `SourceN:` URLs
//! of a spec whose files are not in the tree. They run on the host, outside the buildroot (which
//! has no network unless `--enable-net`).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Give up connecting after this long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest a whole download (connect to last byte) may take; the job's own timeout is used
/// when it is shorter.
pub const MAX_DOWNLOAD_TIME: Duration = Duration::from_secs(600);

/// Why a download failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("`{0}` is not an http(s) URL")]
    NotHttp(String),
    #[error("downloading {url} failed: HTTP {status}")]
    Status { url: String, status: String },
    #[error("downloading {url} timed out")]
    Timeout {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("cannot download {url}")]
    Request {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("downloading {url} failed while reading the response (timed out or connection lost)")]
    Body {
        url: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The file name a URL names (its last path segment, or the `#/name` fragment rpm honours).
pub fn url_file_name(url: &str) -> Option<String> {
    if let Some((_, frag)) = url.split_once("#/") {
        return Some(frag.rsplit('/').next()?.to_string()).filter(|s| !s.is_empty());
    }
    let parsed = url::Url::parse(url).ok()?;
    let name = parsed.path_segments()?.next_back()?.to_string();
    (!name.is_empty()).then_some(name)
}

fn client(timeout: Duration) -> Result<reqwest::blocking::Client, reqwest::Error> {
    reqwest::blocking::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT.min(timeout))
        .timeout(timeout)
        .user_agent(concat!("copr/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Download `url` into `dest`, replacing it, giving up after `timeout` (at most
/// [`MAX_DOWNLOAD_TIME`]). `progress` is told the bytes received so far and the expected total
/// (when the server sends a length). Returns the number of bytes written.
pub fn download(
    url: &str,
    dest: &Path,
    timeout: Duration,
    progress: &dyn Fn(u64, Option<u64>),
) -> Result<u64, FetchError> {
    let timeout = timeout.min(MAX_DOWNLOAD_TIME);
    let clean = url.split_once('#').map_or(url, |(u, _)| u);
    if !(clean.starts_with("http://") || clean.starts_with("https://")) {
        return Err(FetchError::NotHttp(url.to_string()));
    }
    let wrap = |source: reqwest::Error| {
        if source.is_timeout() {
            FetchError::Timeout {
                url: clean.to_string(),
                source,
            }
        } else {
            FetchError::Request {
                url: clean.to_string(),
                source,
            }
        }
    };
    let mut resp = client(timeout)
        .map_err(wrap)?
        .get(clean)
        .send()
        .map_err(wrap)?;
    if !resp.status().is_success() {
        return Err(FetchError::Status {
            url: clean.to_string(),
            status: resp.status().to_string(),
        });
    }
    let total_len = resp.content_length();
    let tmp = dest.with_extension("part");
    let werr = |source| FetchError::Write {
        path: tmp.clone(),
        source,
    };
    let mut out = fs_err::File::create(&tmp).map_err(werr)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = match resp.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(source) => {
                let _ = fs_err::remove_file(&tmp);
                return Err(FetchError::Body {
                    url: clean.to_string(),
                    source,
                });
            }
        };
        out.write_all(&buf[..n]).map_err(werr)?;
        total += n as u64;
        progress(total, total_len);
    }
    out.flush().map_err(werr)?;
    drop(out);
    fs_err::rename(&tmp, dest).map_err(|source| FetchError::Write {
        path: dest.to_path_buf(),
        source,
    })?;
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_of_urls() {
        assert_eq!(
            url_file_name("https://x.org/a/b-1.0.tar.gz").as_deref(),
            Some("b-1.0.tar.gz")
        );
        assert_eq!(
            url_file_name("https://x.org/archive/v1.tar.gz#/foo-1.tar.gz").as_deref(),
            Some("foo-1.tar.gz")
        );
        assert_eq!(url_file_name("https://x.org/"), None);
    }
}
