//! Validation of the names that reach file paths and queries: owners, projects, packages,
//! chroots, uploaded file names. Nothing that fails here can escape its directory.

fn ascii_word(s: &str, extra: &[char]) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || extra.contains(&c))
}

/// A user name: letters, digits, `_ . -`, not starting with `.` or `-`.
pub fn valid_username(s: &str) -> bool {
    ascii_word(s, &['.', '-']) && !s.starts_with(['.', '-'])
}

/// A group name as used in owners (`@name`).
pub fn valid_group(s: &str) -> bool {
    valid_username(s)
}

/// An owner: a user name or `@group`.
pub fn valid_owner(s: &str) -> bool {
    match s.strip_prefix('@') {
        Some(g) => valid_group(g),
        None => valid_username(s),
    }
}

/// A project name: `^[\w.-]+$`, not a number, not `.`/`..`.
pub fn project_name_error(s: &str) -> Option<String> {
    if !ascii_word(s, &['.', '-']) {
        return Some(format!(
            "name: Name must contain only letters, digits, underscores, dashes and dots: '{s}'"
        ));
    }
    if s.chars().all(|c| c.is_ascii_digit()) {
        return Some("name: Project name can not be a number.".into());
    }
    if s.starts_with('.') {
        return Some("name: Project name can not start with a dot.".into());
    }
    None
}

/// A package name as RPM allows it.
pub fn valid_package(s: &str) -> bool {
    ascii_word(s, &['.', '-', '+']) && !s.starts_with(['.', '-'])
}

/// A chroot name such as `fedora-40-x86_64` or `host-x86_64`.
pub fn valid_chroot(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '+'))
}

/// An uploaded file name: a single path component of safe characters.
pub fn valid_file_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '+' | '~' | '^'))
}

/// `project` or `project:custom:x` / `project:pr:12`.
pub fn valid_dirname(project: &str, dirname: &str) -> bool {
    if dirname == project {
        return true;
    }
    match dirname
        .strip_prefix(project)
        .and_then(|r| r.strip_prefix(':'))
    {
        Some(rest) => {
            let mut parts = rest.splitn(2, ':');
            let kind = parts.next().unwrap_or("");
            let value = parts.next().unwrap_or("");
            matches!(kind, "custom" | "pr") && ascii_word(value, &['.', '-'])
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_reject_traversal() {
        assert!(valid_owner("alice") && valid_owner("@team"));
        assert!(!valid_owner("..") && !valid_owner("a/b") && !valid_owner("@"));
        assert!(project_name_error("hello-1.0_x").is_none());
        assert!(project_name_error("123").is_some());
        assert!(project_name_error("..").is_some());
        assert!(project_name_error("a/b").is_some());
        assert!(valid_chroot("fedora-40-x86_64") && !valid_chroot("../x"));
        assert!(valid_file_name("hello-1.0-1.src.rpm"));
        assert!(
            !valid_file_name("../etc") && !valid_file_name(".hidden") && !valid_file_name("a/b")
        );
        assert!(valid_dirname("p", "p:custom:x") && valid_dirname("p", "p:pr:12"));
        assert!(!valid_dirname("p", "p:evil:/x") && !valid_dirname("p", "q"));
    }
}
