//! copr-cli's configuration file (`~/.config/copr`, INI format, `[copr-cli]` section), read the
//! way python-copr reads it so one file serves both clients.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The Copr instance used when no configuration file exists (copr-cli's default).
pub const DEFAULT_COPR_URL: &str = "https://copr.fedorainfracloud.org";

/// The section copr-cli reads.
pub const SECTION: &str = "copr-cli";

/// A configuration problem; the path is always named.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {path} does not exist")]
    Missing { path: PathBuf },
    #[error("cannot read configuration file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("no home directory: set HOME or pass --config FILE")]
    NoHome,
}

/// The `[copr-cli]` settings. `Debug` never shows the token.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    /// The file the settings came from; `None` when no file exists and defaults are used.
    pub path: Option<PathBuf>,
    /// The random API login (not the username) sent with the token.
    pub login: Option<String>,
    /// The account name, used for `[owner/]project` arguments without an owner.
    pub username: Option<String>,
    /// The API token.
    pub token: Option<String>,
    /// Base URL of the Copr frontend, without `/api_3`.
    pub copr_url: String,
    /// Whether plain `http://` URLs are refused (copr-cli's `encrypted`, default true).
    pub encrypted: bool,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("path", &self.path)
            .field("login", &self.login)
            .field("username", &self.username)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("copr_url", &self.copr_url)
            .field("encrypted", &self.encrypted)
            .finish()
    }
}

impl Config {
    /// `~/.config/copr`, where copr-cli looks by default.
    pub fn default_path() -> Result<PathBuf, ConfigError> {
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .ok_or(ConfigError::NoHome)?;
        Ok(PathBuf::from(home).join(".config").join("copr"))
    }

    /// Load `explicit` (must exist) or the default file (may be absent: then Fedora Copr
    /// without credentials, as copr-cli does).
    pub fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        let (path, required) = match explicit {
            Some(p) => (p.to_path_buf(), true),
            None => (Self::default_path()?, false),
        };
        match fs_err::read_to_string(&path) {
            Ok(text) => Self::parse(&text, &path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if required {
                    Err(ConfigError::Missing { path })
                } else {
                    Ok(Config {
                        path: None,
                        login: None,
                        username: None,
                        token: None,
                        copr_url: DEFAULT_COPR_URL.to_string(),
                        encrypted: true,
                    })
                }
            }
            Err(source) => Err(ConfigError::Read { path, source }),
        }
    }

    /// Parse the text of a configuration file found at `path`.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let sections = parse_ini(text, path)?;
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let section = sections
            .get(SECTION)
            .ok_or_else(|| invalid(format!("no [{SECTION}] section")))?;
        let get = |key: &str| {
            section
                .get(key)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let copr_url = get("copr_url").ok_or_else(|| {
            invalid(format!(
                "[{SECTION}] has no copr_url (e.g. copr_url = {DEFAULT_COPR_URL})"
            ))
        })?;
        let parsed = url::Url::parse(&copr_url)
            .map_err(|e| invalid(format!("copr_url `{copr_url}` is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(invalid(format!(
                "copr_url `{copr_url}` must start with https:// or http://"
            )));
        }
        let encrypted = match get("encrypted") {
            None => true,
            Some(v) => parse_bool(&v).ok_or_else(|| {
                invalid(format!(
                    "encrypted = {v} is not a boolean (use True or False)"
                ))
            })?,
        };
        if encrypted && parsed.scheme() == "http" {
            return Err(invalid(format!(
                "copr_url `{copr_url}` is plain http while `encrypted` is on; use https, or set \
                 `encrypted = False` for a server you trust on a private network"
            )));
        }
        Ok(Config {
            path: Some(path.to_path_buf()),
            login: get("login"),
            username: get("username"),
            token: get("token"),
            copr_url: copr_url.trim_end_matches('/').to_string(),
            encrypted,
        })
    }

    /// A ready-to-save configuration file text for these settings.
    pub fn render(&self) -> String {
        let mut out = format!("[{SECTION}]\n");
        for (key, value) in [
            ("login", &self.login),
            ("username", &self.username),
            ("token", &self.token),
        ] {
            if let Some(v) = value {
                out.push_str(&format!("{key} = {v}\n"));
            }
        }
        out.push_str(&format!("copr_url = {}\n", self.copr_url));
        if !self.encrypted {
            out.push_str("encrypted = False\n");
        }
        out
    }
}

/// Replace `login` and `token` in the `[copr-cli]` section of the file at `path` and its
/// `# expiration date:` comment, keeping every other line, the file's permissions, and nothing
/// half-written (the new text replaces the file in one rename).
pub fn update_credentials(
    path: &Path,
    login: &str,
    token: &str,
    expiration: Option<&str>,
) -> Result<(), ConfigError> {
    let read = |source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    };
    let text = fs_err::read_to_string(path).map_err(read)?;
    let new_text = replace_credentials(&text, login, token, expiration);
    // Check that the result still parses before it replaces the file.
    Config::parse(&new_text, path)?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(read)?;
    let mode = fs_err::metadata(path).map_err(read)?.permissions();
    std::io::Write::write_all(&mut tmp, new_text.as_bytes()).map_err(read)?;
    fs_err::set_permissions(tmp.path(), mode).map_err(read)?;
    tmp.persist(path).map_err(|e| read(e.error))?;
    Ok(())
}

fn replace_credentials(text: &str, login: &str, token: &str, expiration: Option<&str>) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut in_section = false;
    let mut seen_login = false;
    let mut seen_token = false;
    let mut seen_expiration = false;
    let mut section_end: Option<usize> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            if in_section && section_end.is_none() {
                section_end = Some(out.len());
            }
            in_section = trimmed == format!("[{SECTION}]");
            out.push(line.to_string());
            continue;
        }
        if let Some(exp) = expiration
            && trimmed.starts_with("# expiration date:")
        {
            out.push(format!("# expiration date: {exp}"));
            seen_expiration = true;
            continue;
        }
        if in_section
            && let Some(split) = trimmed.find(['=', ':'])
            && !trimmed.starts_with(['#', ';'])
        {
            let key = trimmed[..split].trim().to_ascii_lowercase();
            let delimiter = &trimmed[split..split + 1];
            if key == "login" {
                out.push(format!("login {delimiter} {login}"));
                seen_login = true;
                continue;
            }
            if key == "token" {
                out.push(format!("token {delimiter} {token}"));
                seen_token = true;
                continue;
            }
        }
        out.push(line.to_string());
    }
    let mut missing = Vec::new();
    if !seen_login {
        missing.push(format!("login = {login}"));
    }
    if !seen_token {
        missing.push(format!("token = {token}"));
    }
    // Insert missing keys at the end of the section, before trailing blank lines.
    let mut at = section_end.unwrap_or(out.len());
    while at > 0 && out[at - 1].trim().is_empty() {
        at -= 1;
    }
    for (i, line) in missing.into_iter().enumerate() {
        out.insert(at + i, line);
    }
    if let (Some(exp), false) = (expiration, seen_expiration) {
        out.push(format!("# expiration date: {exp}"));
    }
    let mut s = out.join("\n");
    s.push('\n');
    s
}

/// Python's `ConfigParser.getboolean` spellings.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "yes" | "true" | "on" => Some(true),
        "0" | "no" | "false" | "off" => Some(false),
        _ => None,
    }
}

type Sections = BTreeMap<String, BTreeMap<String, String>>;

/// A strict subset of Python's `configparser`: `[section]` headers, `key = value` or
/// `key: value` (keys case-insensitive), full-line `#`/`;` comments, indented continuation
/// lines, and duplicate sections or keys rejected.
fn parse_ini(text: &str, path: &Path) -> Result<Sections, ConfigError> {
    let err = |line: usize, message: String| ConfigError::Syntax {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut sections: Sections = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut last_key: Option<String> = None;
    for (idx, raw) in text.lines().enumerate() {
        let lineno = idx + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            last_key = None;
            continue;
        }
        if trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        let indented = raw.starts_with(' ') || raw.starts_with('\t');
        if indented && let (Some(sec), Some(key)) = (&current, &last_key) {
            let value = sections
                .get_mut(sec)
                .and_then(|s| s.get_mut(key))
                .expect("continued key exists");
            value.push('\n');
            value.push_str(trimmed);
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix('[') {
            let name = rest
                .strip_suffix(']')
                .ok_or_else(|| err(lineno, format!("unterminated section header `{trimmed}`")))?;
            if sections.contains_key(name) {
                return Err(err(lineno, format!("section [{name}] appears twice")));
            }
            sections.insert(name.to_string(), BTreeMap::new());
            current = Some(name.to_string());
            last_key = None;
            continue;
        }
        let Some(sec) = &current else {
            return Err(err(
                lineno,
                format!("`{trimmed}` comes before any [section] header"),
            ));
        };
        let split = trimmed
            .find(['=', ':'])
            .ok_or_else(|| err(lineno, format!("expected `key = value`, found `{trimmed}`")))?;
        let key = trimmed[..split].trim().to_ascii_lowercase();
        let value = trimmed[split + 1..].trim().to_string();
        if key.is_empty() {
            return Err(err(lineno, "empty key".to_string()));
        }
        let section = sections.get_mut(sec).expect("current section exists");
        if section.contains_key(&key) {
            return Err(err(lineno, format!("key `{key}` appears twice in [{sec}]")));
        }
        section.insert(key.clone(), value);
        last_key = Some(key);
    }
    Ok(sections)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/tmp/copr"))
    }

    #[test]
    fn reads_the_file_copr_frontend_hands_out() {
        let c = parse(
            "[copr-cli]\nlogin = abcdef\nusername = alice\ntoken = s3cr3t\n\
             copr_url = https://copr.example.org/\n# expiration date: 2027-01-01\n",
        )
        .unwrap();
        assert_eq!(c.login.as_deref(), Some("abcdef"));
        assert_eq!(c.username.as_deref(), Some("alice"));
        assert_eq!(c.token.as_deref(), Some("s3cr3t"));
        assert_eq!(c.copr_url, "https://copr.example.org");
        assert!(c.encrypted);
        assert!(!format!("{c:?}").contains("s3cr3t"));
    }

    #[test]
    fn colon_delimiter_case_insensitive_keys_and_encrypted_false() {
        let c =
            parse("[copr-cli]\nUSERNAME: bob\ncopr_url=http://127.0.0.1:5000\nencrypted = False\n")
                .unwrap();
        assert_eq!(c.username.as_deref(), Some("bob"));
        assert!(!c.encrypted);
        assert_eq!(c.login, None);
        assert_eq!(c.copr_url, "http://127.0.0.1:5000");
    }

    #[test]
    fn plain_http_is_refused_unless_encrypted_is_off() {
        let e = parse("[copr-cli]\ncopr_url = http://127.0.0.1:5000\n").unwrap_err();
        assert!(e.to_string().contains("encrypted = False"), "{e}");
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let e = parse("[copr-cli]\nthis line is wrong\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "/tmp/copr:2: expected `key = value`, found `this line is wrong`"
        );
        let e = parse("[other]\nx = 1\n").unwrap_err();
        assert!(e.to_string().contains("no [copr-cli] section"), "{e}");
        let e = parse("[copr-cli]\nlogin = a\nlogin = b\ncopr_url = https://x\n").unwrap_err();
        assert!(
            e.to_string().contains(":3: key `login` appears twice"),
            "{e}"
        );
        let e = parse("[copr-cli]\nencrypted = maybe\ncopr_url = https://x\n").unwrap_err();
        assert!(e.to_string().contains("not a boolean"), "{e}");
        let e = parse("[copr-cli]\nlogin = a\n").unwrap_err();
        assert!(e.to_string().contains("has no copr_url"), "{e}");
    }

    #[test]
    fn comments_blank_values_and_continuations() {
        let c = parse("; comment\n[copr-cli]\nlogin =\ntoken = abc\n  def\ncopr_url = https://x\n")
            .unwrap();
        assert_eq!(c.login, None);
        assert_eq!(c.token.as_deref(), Some("abc\ndef"));
    }

    #[test]
    fn render_round_trips() {
        let c = parse("[copr-cli]\nlogin = l\nusername = u\ntoken = t\ncopr_url = http://h:1\nencrypted = no\n")
            .unwrap();
        let again = parse(&c.render()).unwrap();
        assert_eq!(c, again);
    }

    #[test]
    fn credentials_are_replaced_in_place() {
        let before = "# my copr\n[copr-cli]\nLogin: old\nusername = alice\ntoken = oldtoken\n\
                      copr_url = https://x\n# expiration date: 2026-01-01\n\n[other]\nlogin = keep\n";
        let after = replace_credentials(before, "newlogin", "newtoken", Some("2027-05-01"));
        assert_eq!(
            after,
            "# my copr\n[copr-cli]\nlogin : newlogin\nusername = alice\ntoken = newtoken\n\
             copr_url = https://x\n# expiration date: 2027-05-01\n\n[other]\nlogin = keep\n"
        );
        let added =
            replace_credentials("[copr-cli]\ncopr_url = https://x\n\n", "l", "t", Some("d"));
        assert_eq!(
            added,
            "[copr-cli]\ncopr_url = https://x\nlogin = l\ntoken = t\n\n# expiration date: d\n"
        );
    }

    #[test]
    fn update_keeps_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("copr");
        std::fs::write(
            &p,
            "[copr-cli]\nlogin = a\ntoken = b\ncopr_url = https://x\n",
        )
        .unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        update_credentials(&p, "c", "d", None).unwrap();
        let c = Config::load(Some(&p)).unwrap();
        assert_eq!(
            (c.login.as_deref(), c.token.as_deref()),
            (Some("c"), Some("d"))
        );
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn missing_explicit_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("nope");
        let e = Config::load(Some(&p)).unwrap_err();
        assert!(matches!(e, ConfigError::Missing { .. }));
    }
}
