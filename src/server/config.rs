//! `copr serve` configuration: a TOML file, overridden by command-line options, with defaults
//! that need no configuration at all.

use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the server configuration {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid server configuration {path}")]
    Parse {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    #[error("invalid upload size limit `{0}` (expected bytes, or a number with K, M or G)")]
    Size(String),
    #[error("invalid listen address `{0}` (expected HOST:PORT, e.g. 127.0.0.1:5000)")]
    Listen(String),
    #[error("invalid public URL `{0}` (expected http:// or https://)")]
    PublicUrl(String),
    #[error("invalid chroot name `{0}` in the configuration")]
    Chroot(String),
    #[error(
        "invalid [builders] settings: heartbeat_interval, claim_wait and max_attempts must be \
         positive and heartbeat_timeout longer than heartbeat_interval"
    )]
    Builders,
    #[error("invalid [[pool]] `{name}`: {reason}")]
    Pool { name: String, reason: String },
}

/// The TOML file; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Address to listen on, `HOST:PORT`.
    pub listen: Option<String>,
    /// The URL clients use to reach this server (used in result and repository URLs).
    pub public_url: Option<String>,
    /// Where the database (SQLite) and the hosted files live.
    pub data_dir: Option<PathBuf>,
    /// `postgres://…` or `sqlite://PATH`; default: SQLite in the data directory.
    pub database: Option<String>,
    /// Chroots projects may enable.
    pub chroots: Option<Vec<String>>,
    /// Largest accepted upload: bytes, or a string such as "2G".
    pub upload_limit: Option<toml::Value>,
    /// Days an API token stays valid.
    pub token_lifetime_days: Option<i64>,
    /// Repository publishing (`[publish]`).
    pub publish: Option<super::publish::PublishConfig>,
    /// Remote builders: heartbeats, retries, long-poll and tag requirements.
    pub builders: Option<BuildersConfig>,
    /// Builder pools (`[[pool]]`).
    pub pool: Option<Vec<super::pools::PoolConfig>>,
}

/// The `[builders]` table: how the server supervises `copr builder` agents.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BuildersConfig {
    /// Seconds between a builder's heartbeats (sent to builders when they register).
    pub heartbeat_interval: u64,
    /// Seconds without a heartbeat after which a task is taken from its builder and re-queued.
    pub heartbeat_timeout: u64,
    /// How many times a task is handed to a builder before it fails for good.
    pub max_attempts: i64,
    /// Longest a builder's request for work waits for a task, in seconds.
    pub claim_wait: u64,
    /// Extra seconds past a build's timeout before the server fails a task whose builder did
    /// not report (the builder kills the build at the timeout itself).
    pub timeout_grace: u64,
    /// Chroot pattern (glob) → tags a builder must have to take that chroot's tasks.
    pub chroot_tags: std::collections::BTreeMap<String, Vec<String>>,
}

impl Default for BuildersConfig {
    fn default() -> Self {
        BuildersConfig {
            heartbeat_interval: 10,
            heartbeat_timeout: 60,
            max_attempts: 3,
            claim_wait: 30,
            timeout_grace: 120,
            chroot_tags: Default::default(),
        }
    }
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: String,
    pub public_url: Option<String>,
    pub data_dir: PathBuf,
    pub database: String,
    pub chroots: Vec<String>,
    pub upload_limit: u64,
    pub token_lifetime_days: i64,
    pub builders: BuildersConfig,
    pub publish: super::publish::PublishConfig,
    pub pools: Vec<super::pools::PoolConfig>,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:5000";
pub const DEFAULT_DATA_DIR: &str = "copr-data";
pub const DEFAULT_UPLOAD_LIMIT: u64 = 2 * 1024 * 1024 * 1024;
pub const DEFAULT_TOKEN_LIFETIME_DAYS: i64 = 180;

/// The chroots offered when the configuration names none: the build host's own chroots first,
/// then current Fedora, EPEL and CentOS Stream releases.
pub fn default_chroots() -> Vec<String> {
    let mut out = vec!["host-x86_64".to_string(), "host-aarch64".to_string()];
    for rel in ["fedora-41", "fedora-42", "fedora-43", "fedora-rawhide"] {
        for arch in ["x86_64", "aarch64", "i386"] {
            out.push(format!("{rel}-{arch}"));
        }
    }
    for rel in [
        "epel-8",
        "epel-9",
        "epel-10",
        "centos-stream-9",
        "centos-stream-10",
    ] {
        for arch in ["x86_64", "aarch64"] {
            out.push(format!("{rel}-{arch}"));
        }
    }
    out
}

/// Parse `1024`, `"512K"`, `"100M"`, `"2G"`.
pub fn parse_size(s: &str) -> Result<u64, ConfigError> {
    let t = s.trim();
    let (num, mult) = match t.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&t[..t.len() - 1], 1024),
        Some('M') => (&t[..t.len() - 1], 1024 * 1024),
        Some('G') => (&t[..t.len() - 1], 1024 * 1024 * 1024),
        _ => (t, 1),
    };
    num.trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| ConfigError::Size(s.to_string()))
}

/// Command-line overrides.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database: Option<String>,
    pub public_url: Option<String>,
}

impl ServerConfig {
    pub fn resolve(o: &Overrides) -> Result<ServerConfig, ConfigError> {
        let file = match &o.config {
            Some(path) => load(path)?,
            None => ConfigFile::default(),
        };
        let data_dir = o
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let database = o
            .database
            .clone()
            .or(file.database)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("copr.sqlite").display()));
        let listen = o
            .listen
            .clone()
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_string());
        if !listen.contains(':') {
            return Err(ConfigError::Listen(listen));
        }
        let public_url = o.public_url.clone().or(file.public_url);
        if let Some(u) = &public_url
            && !(u.starts_with("http://") || u.starts_with("https://"))
        {
            return Err(ConfigError::PublicUrl(u.clone()));
        }
        let upload_limit = match file.upload_limit {
            None => DEFAULT_UPLOAD_LIMIT,
            Some(toml::Value::Integer(n)) if n > 0 => n as u64,
            Some(toml::Value::String(s)) => parse_size(&s)?,
            Some(v) => return Err(ConfigError::Size(v.to_string())),
        };
        let chroots = file.chroots.unwrap_or_else(default_chroots);
        for c in &chroots {
            if !super::names::valid_chroot(c) {
                return Err(ConfigError::Chroot(c.clone()));
            }
        }
        let pools = file.pool.unwrap_or_default();
        super::pools::validate(&pools)?;
        Ok(ServerConfig {
            listen,
            public_url: public_url.map(|u| u.trim_end_matches('/').to_string()),
            data_dir,
            database,
            chroots,
            upload_limit,
            token_lifetime_days: file
                .token_lifetime_days
                .unwrap_or(DEFAULT_TOKEN_LIFETIME_DAYS),
            builders: {
                let b = file.builders.unwrap_or_default();
                if b.heartbeat_interval == 0
                    || b.heartbeat_timeout <= b.heartbeat_interval
                    || b.max_attempts < 1
                    || b.claim_wait == 0
                {
                    return Err(ConfigError::Builders);
                }
                b
            },
            publish: file.publish.unwrap_or_default(),
            pools,
        })
    }
}

fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
    let text = fs_err::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|source| ConfigError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("10").unwrap(), 10);
        assert_eq!(parse_size("2K").unwrap(), 2048);
        assert_eq!(parse_size("1g").unwrap(), 1 << 30);
        assert!(parse_size("x").is_err());
    }
}
