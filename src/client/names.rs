//! copr-cli's argument conventions: `[owner/]project[:dirsuffix]`, `@group` owners, and
//! `[owner/]project/chroot`.

use std::fmt;

/// A malformed project, chroot or owner argument, or one that needs a username we lack.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("`{arg}` is not a valid {what}: {reason}")]
    Invalid {
        arg: String,
        what: &'static str,
        reason: String,
    },
    #[error("{}", no_owner_message(arg, expected))]
    NoOwner { arg: String, expected: &'static str },
}

fn no_owner_message(arg: &str, expected: &str) -> String {
    if arg.is_empty() {
        format!("no owner given and the configuration has no `username`; pass {expected}")
    } else {
        format!(
            "`{arg}` names no owner and the configuration has no `username`; write it as {expected}"
        )
    }
}

/// A project as named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRef {
    /// A user name or `@group`.
    pub owner: String,
    /// The project name (without any `:dirsuffix`).
    pub project: String,
    /// The project directory: `project` or `project:custom:x`, `project:pr:12`.
    pub dirname: String,
}

impl ProjectRef {
    /// Parse `[owner/]project[:dirsuffix]`; without an owner, `default_owner` (the configured
    /// username) is used.
    pub fn parse(arg: &str, default_owner: Option<&str>) -> Result<ProjectRef, NameError> {
        let invalid = |reason: &str| NameError::Invalid {
            arg: arg.to_string(),
            what: "project ([owner/]project)",
            reason: reason.to_string(),
        };
        let (owner, dirname) = match arg.split_once('/') {
            Some((owner, rest)) => {
                check_owner(owner).map_err(|r| invalid(&r))?;
                (owner.to_string(), rest)
            }
            None => {
                let owner = default_owner.ok_or_else(|| NameError::NoOwner {
                    arg: arg.to_string(),
                    expected: "OWNER/PROJECT",
                })?;
                (owner.to_string(), arg)
            }
        };
        if dirname.contains('/') {
            return Err(invalid("too many `/`"));
        }
        let project = dirname.split(':').next().unwrap_or_default();
        check_project_name(project).map_err(|r| invalid(&r))?;
        if dirname.ends_with(':') {
            return Err(invalid("empty directory suffix after `:`"));
        }
        Ok(ProjectRef {
            owner,
            project: project.to_string(),
            dirname: dirname.to_string(),
        })
    }

    /// The project directory when it differs from the project name.
    pub fn dirname_if_custom(&self) -> Option<&str> {
        (self.dirname != self.project).then_some(self.dirname.as_str())
    }
}

impl fmt::Display for ProjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.dirname)
    }
}

/// A project chroot as named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChrootRef {
    pub owner: String,
    pub project: String,
    pub chroot: String,
}

impl ChrootRef {
    /// Parse `owner/project/chroot`, or `project/chroot` with the configured username.
    pub fn parse(arg: &str, default_owner: Option<&str>) -> Result<ChrootRef, NameError> {
        let invalid = |reason: &str| NameError::Invalid {
            arg: arg.to_string(),
            what: "project chroot ([owner/]project/chroot)",
            reason: reason.to_string(),
        };
        let parts: Vec<&str> = arg.split('/').collect();
        let (owner, project, chroot) = match parts.as_slice() {
            [owner, project, chroot] => {
                check_owner(owner).map_err(|r| invalid(&r))?;
                (owner.to_string(), *project, *chroot)
            }
            [project, chroot] => {
                let owner = default_owner.ok_or_else(|| NameError::NoOwner {
                    arg: arg.to_string(),
                    expected: "OWNER/PROJECT/CHROOT",
                })?;
                (owner.to_string(), *project, *chroot)
            }
            _ => return Err(invalid("expected two or three `/`-separated parts")),
        };
        check_project_name(project).map_err(|r| invalid(&r))?;
        check_word(chroot, "chroot").map_err(|r| invalid(&r))?;
        Ok(ChrootRef {
            owner,
            project: project.to_string(),
            chroot: chroot.to_string(),
        })
    }
}

/// Resolve the owner for `list [user|@group]`.
pub fn resolve_owner(arg: Option<&str>, default_owner: Option<&str>) -> Result<String, NameError> {
    match arg {
        Some(owner) => {
            check_owner(owner).map_err(|reason| NameError::Invalid {
                arg: owner.to_string(),
                what: "owner (user or @group)",
                reason,
            })?;
            Ok(owner.to_string())
        }
        None => default_owner
            .map(str::to_string)
            .ok_or_else(|| NameError::NoOwner {
                arg: String::new(),
                expected: "a USER or @GROUP argument",
            }),
    }
}

/// Copr's rule for project names: `^[\w.-]+$` and not a number.
pub fn check_project_name(name: &str) -> Result<(), String> {
    check_word(name, "project name")?;
    if name.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("project name `{name}` must not be a number"));
    }
    Ok(())
}

fn check_owner(owner: &str) -> Result<(), String> {
    let name = owner.strip_prefix('@').unwrap_or(owner);
    check_word(name, "owner")
}

fn check_word(word: &str, what: &str) -> Result<(), String> {
    if word.is_empty() {
        return Err(format!("empty {what}"));
    }
    if word == "." || word == ".." {
        return Err(format!("{what} `{word}` is reserved"));
    }
    if let Some(c) = word
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(format!(
            "{what} `{word}` contains `{c}` (allowed: letters, digits, `_`, `.`, `-`)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_with_and_without_owner() {
        let p = ProjectRef::parse("alice/hello", None).unwrap();
        assert_eq!((p.owner.as_str(), p.project.as_str()), ("alice", "hello"));
        assert_eq!(p.dirname_if_custom(), None);
        let p = ProjectRef::parse("hello", Some("bob")).unwrap();
        assert_eq!(p.to_string(), "bob/hello");
        let e = ProjectRef::parse("hello", None).unwrap_err();
        assert!(matches!(e, NameError::NoOwner { .. }));
    }

    #[test]
    fn group_owner_and_dirsuffix() {
        let p = ProjectRef::parse("@devs/tools:custom:ci", None).unwrap();
        assert_eq!(p.owner, "@devs");
        assert_eq!(p.project, "tools");
        assert_eq!(p.dirname_if_custom(), Some("tools:custom:ci"));
        let p = ProjectRef::parse("tools:pr:12", Some("alice")).unwrap();
        assert_eq!(p.to_string(), "alice/tools:pr:12");
    }

    #[test]
    fn bad_projects_are_rejected_with_the_reason() {
        for bad in [
            "a/b/c", "/p", "a/", "a/../x", "a/12", "a/p q", "@/p", "a/p:",
        ] {
            let e = ProjectRef::parse(bad, Some("me")).unwrap_err();
            assert!(matches!(e, NameError::Invalid { .. }), "{bad}: {e}");
        }
        let e = ProjectRef::parse("a/p q", None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`a/p q` is not a valid project ([owner/]project): project name `p q` contains ` ` \
             (allowed: letters, digits, `_`, `.`, `-`)"
        );
    }

    #[test]
    fn chroot_paths() {
        let c = ChrootRef::parse("@g/p/fedora-40-x86_64", None).unwrap();
        assert_eq!(
            (c.owner.as_str(), c.project.as_str(), c.chroot.as_str()),
            ("@g", "p", "fedora-40-x86_64")
        );
        let c = ChrootRef::parse("p/epel-9-aarch64", Some("me")).unwrap();
        assert_eq!(c.owner, "me");
        assert!(matches!(
            ChrootRef::parse("p/epel-9-aarch64", None),
            Err(NameError::NoOwner { .. })
        ));
        for bad in ["p", "a/b/c/d", "a/p/", "a/p/../x"] {
            assert!(ChrootRef::parse(bad, Some("me")).is_err(), "{bad}");
        }
    }

    #[test]
    fn list_owner() {
        assert_eq!(resolve_owner(Some("@g"), None).unwrap(), "@g");
        assert_eq!(resolve_owner(None, Some("me")).unwrap(), "me");
        assert!(resolve_owner(None, None).is_err());
        assert!(resolve_owner(Some("a/b"), None).is_err());
    }
}
