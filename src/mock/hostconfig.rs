//! Host configuration of the buildroot backends.
//!
//! Read from the file named by `$COPR_BUILD_CONFIG`, else `~/.config/copr-build.toml` (not
//! `~/.config/copr`: that is copr-cli's own config file). Every key is optional:
//!
//! ```toml
//! [sandbox]
//! # Chroots the sandbox may serve with the host's own toolchain, in addition to host-<arch>.
//! chroots = ["fedora-40-x86_64"]
//! # Memory limit of every build process (bytes, or with a K/M/G/T suffix).
//! memory_limit = "4G"
//!
//! # What on this host provides a BuildRequires name, merged over the built-in mapping
//! # (an entry replaces the built-in one of the same name). Each check is one of
//! #   cmd:NAME       an executable in PATH
//! #   path:/ABS      a file or directory that exists
//! #   pkgconfig:MOD  `pkg-config --exists MOD` (its version is the provided version)
//! #   lib:SONAME     a shared library in the host's library directories (e.g. libz.so.1)
//! #   deb:PKG        an installed Debian package (its upstream version is the provided version)
//! # A name is provided when any of its checks passes.
//! [sandbox.provides]
//! gcc = ["cmd:gcc"]
//! zlib-devel = ["pkgconfig:zlib", "path:/usr/include/zlib.h"]
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Environment variable naming the host config file.
pub const CONFIG_ENV: &str = "COPR_BUILD_CONFIG";

/// The whole host config file.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HostConfig {
    pub sandbox: SandboxConfig,
}

/// The `[sandbox]` table.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxConfig {
    /// Chroot names the host serves besides `host-<arch>` (e.g. `fedora-40-x86_64` on a
    /// Fedora 40 machine).
    pub chroots: Vec<String>,
    /// BuildRequires name → host checks, merged over [`crate::mock::deps::builtin_provides`].
    pub provides: BTreeMap<String, Vec<String>>,
    /// Memory limit of each build process; a build request's own limit wins.
    pub memory_limit: Option<ByteSize>,
}

/// A size in bytes, written in TOML as an integer or a string with a K/M/G/T suffix (powers of
/// 1024).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "ByteSizeRepr", into = "u64")]
pub struct ByteSize(pub u64);

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum ByteSizeRepr {
    Int(u64),
    Str(String),
}

impl From<ByteSize> for u64 {
    fn from(b: ByteSize) -> u64 {
        b.0
    }
}

impl TryFrom<ByteSizeRepr> for ByteSize {
    type Error = String;
    fn try_from(r: ByteSizeRepr) -> Result<Self, String> {
        match r {
            ByteSizeRepr::Int(n) => Ok(ByteSize(n)),
            ByteSizeRepr::Str(s) => parse_size(&s).map(ByteSize),
        }
    }
}

/// Parse `512M`, `4G`, `1048576`, `2GiB`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t.bytes().take_while(|c| c.is_ascii_digit()).count();
    let (num, unit) = t.split_at(digits);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size (e.g. 4G, 512M, 1048576)"))?;
    let mult: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        "T" | "TB" | "TIB" => 1 << 40,
        _ => return Err(format!("`{s}` has an unknown unit (use K, M, G or T)")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("`{s}` is too large"))
}

/// Why the host config could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum HostConfigError {
    #[error("cannot read host config {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid host config {path}: {message}")]
    Parse { path: PathBuf, message: String },
}

impl HostConfig {
    /// Where the config is read from: `$COPR_BUILD_CONFIG`, else `~/.config/copr-build.toml`.
    pub fn default_path() -> Option<PathBuf> {
        if let Some(p) = std::env::var_os(CONFIG_ENV).filter(|p| !p.is_empty()) {
            return Some(PathBuf::from(p));
        }
        let config_home = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
        Some(config_home.join("copr-build.toml"))
    }

    /// Load the host config. A file named by `$COPR_BUILD_CONFIG` must exist; the default file
    /// is optional (defaults when absent).
    pub fn load() -> Result<HostConfig, HostConfigError> {
        let explicit = std::env::var_os(CONFIG_ENV).is_some_and(|p| !p.is_empty());
        match Self::default_path() {
            Some(path) if explicit || path.exists() => Self::from_path(&path),
            _ => Ok(HostConfig::default()),
        }
    }

    /// Load the host config from `path`.
    pub fn from_path(path: &Path) -> Result<HostConfig, HostConfigError> {
        let text = fs_err::read_to_string(path).map_err(|source| HostConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text).map_err(|message| HostConfigError::Parse {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parse the TOML text of a host config and check its provide rules.
    pub fn parse(text: &str) -> Result<HostConfig, String> {
        let cfg: HostConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        for (name, checks) in &cfg.sandbox.provides {
            for check in checks {
                crate::mock::deps::HostCheck::parse(check)
                    .map_err(|e| format!("[sandbox.provides] {name}: {e}"))?;
            }
        }
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_full_config() {
        let cfg = HostConfig::parse(
            r#"
[sandbox]
chroots = ["fedora-40-x86_64"]
memory_limit = "512M"
[sandbox.provides]
zlib-devel = ["pkgconfig:zlib", "path:/usr/include/zlib.h"]
"#,
        )
        .unwrap();
        assert_eq!(cfg.sandbox.chroots, ["fedora-40-x86_64"]);
        assert_eq!(cfg.sandbox.memory_limit, Some(ByteSize(512 << 20)));
        assert_eq!(cfg.sandbox.provides["zlib-devel"].len(), 2);
        assert_eq!(
            HostConfig::parse("[sandbox]\nmemory_limit = 1024\n")
                .unwrap()
                .sandbox
                .memory_limit,
            Some(ByteSize(1024))
        );
    }

    #[test]
    fn rejects_bad_config() {
        assert!(HostConfig::parse("[sandbox]\nchroot = []\n").is_err());
        assert!(HostConfig::parse("[sandbox]\nmemory_limit = \"4X\"\n").is_err());
        let e = HostConfig::parse("[sandbox.provides]\nfoo = [\"bogus:x\"]\n").unwrap_err();
        assert!(e.contains("foo"), "{e}");
    }
}
