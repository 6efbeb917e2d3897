//! The few lines of a failed build log a person needs first.

use std::sync::LazyLock;

use regex::Regex;

/// Most lines a summary holds.
const MAX_LINES: usize = 6;

static COMPILER_ERROR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\S[^:]*:\d+(:\d+)?: (fatal )?error: |^\S+: (fatal )?error: |: undefined reference to |(^|/)ld(\.\w+)?: (cannot find|error:)|^collect2: error: ").unwrap()
});
static BAD_EXIT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^error: Bad exit status from \S+ \((%\w+)\)").unwrap());
static TRACE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\++ ").unwrap());

/// Pick the first real error lines of a build log: unmet build dependencies, rpmbuild's own
/// `error:` lines (spec syntax, missing files), compiler and linker errors with their file:line,
/// and for "Bad exit status from … (%build)" the failing command and its last output. Returns
/// at most a handful of lines joined by newlines; the log's last non-empty line when nothing
/// matches.
pub fn failure_summary(log: &str) -> String {
    let lines: Vec<&str> = log.lines().map(|l| l.trim_end()).collect();
    // rpmbuild repeats its errors under "RPM build errors:" at the end; read the body first.
    let body_end = lines
        .iter()
        .rposition(|l| *l == "RPM build errors:")
        .unwrap_or(lines.len());
    let body = &lines[..body_end];
    let mut out: Vec<String> = Vec::new();
    let push = |out: &mut Vec<String>, l: &str| {
        let l = l.trim();
        if !l.is_empty() && out.len() < MAX_LINES && !out.iter().any(|o| o == l) {
            out.push(l.to_string());
        }
    };

    // 1. Unmet build dependencies (rpmbuild's format, which the sandbox writes too).
    if let Some(i) = body
        .iter()
        .position(|l| l.starts_with("error: Failed build dependencies:"))
    {
        push(&mut out, body[i]);
        for l in body[i + 1..]
            .iter()
            .take_while(|l| l.starts_with(['\t', ' ']))
        {
            push(&mut out, l);
        }
        return out.join("\n");
    }

    // 2. rpmbuild errors other than "Bad exit status" (spec syntax, missing files, …).
    for l in body {
        if l.starts_with("error: ") && !BAD_EXIT.is_match(l) {
            push(&mut out, l);
        }
    }
    // 3. Compiler and linker errors.
    let mut compiler = 0;
    for l in body {
        if COMPILER_ERROR.is_match(l) && !l.starts_with("error: ") && compiler < 3 {
            push(&mut out, l);
            compiler += 1;
        }
    }
    // 4. The cause behind "Bad exit status": the failing command and what it printed last.
    if let Some(i) = body.iter().position(|l| BAD_EXIT.is_match(l)) {
        if compiler == 0 && out.is_empty() {
            let before = &body[..i];
            if let Some(cmd) = before.iter().rposition(|l| TRACE.is_match(l)) {
                let output: Vec<&str> = before[cmd + 1..]
                    .iter()
                    .copied()
                    .filter(|l| !l.trim().is_empty() && !TRACE.is_match(l))
                    .collect();
                push(&mut out, before[cmd]);
                for l in output.iter().rev().take(3).rev() {
                    push(&mut out, l);
                }
            }
        }
        push(&mut out, body[i]);
    }
    if out.is_empty() {
        // Fall back to rpmbuild's own error list, then to the last line.
        for l in &lines[body_end..] {
            if !l.trim().is_empty() && *l != "RPM build errors:" {
                push(&mut out, l);
            }
        }
    }
    if out.is_empty()
        && let Some(l) = lines.iter().rev().find(|l| !l.trim().is_empty())
    {
        push(&mut out, l);
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiler_error_first() {
        let log = "\
+ gcc -o hello hello.c
hello.c: In function 'main':
hello.c:3:5: error: 'x' undeclared (first use in this function)
    3 |     x = 1;
error: Bad exit status from /var/tmp/rpm-tmp.aB1 (%build)

RPM build errors:
    Bad exit status from /var/tmp/rpm-tmp.aB1 (%build)
";
        assert_eq!(
            failure_summary(log),
            "hello.c:3:5: error: 'x' undeclared (first use in this function)\n\
             error: Bad exit status from /var/tmp/rpm-tmp.aB1 (%build)"
        );
    }

    #[test]
    fn cause_behind_bad_exit_status() {
        let log = "\
+ cd t-1
+ ./configure
checking things... yes
configure: error: no acceptable C compiler found
error: Bad exit status from /var/tmp/rpm-tmp.x (%build)
";
        let s = failure_summary(log);
        assert!(
            s.contains("configure: error: no acceptable C compiler"),
            "{s}"
        );
        let log = "\
+ make
make: *** No rule to make target 'all'.  Stop.
error: Bad exit status from /var/tmp/rpm-tmp.x (%build)
";
        assert_eq!(
            failure_summary(log),
            "+ make\nmake: *** No rule to make target 'all'.  Stop.\n\
             error: Bad exit status from /var/tmp/rpm-tmp.x (%build)"
        );
    }

    #[test]
    fn unmet_dependencies_and_spec_errors() {
        let log = "sandbox: resolving\nerror: Failed build dependencies:\n\tliba-devel is needed by b-1-1.x86_64\n\tfoo >= 2 is needed by b-1-1.x86_64\n";
        assert_eq!(
            failure_summary(log),
            "error: Failed build dependencies:\nliba-devel is needed by b-1-1.x86_64\nfoo >= 2 is needed by b-1-1.x86_64"
        );
        assert_eq!(
            failure_summary("error: line 4: Unknown tag: Bogus: x\n"),
            "error: line 4: Unknown tag: Bogus: x"
        );
        assert_eq!(failure_summary("a\nlast words\n\n"), "last words");
    }
}
