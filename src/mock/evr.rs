//! RPM version comparison: `rpmvercmp` and epoch:version-release ordering, and checking a
//! provided version against a versioned requirement (`foo >= 1.2`).

use std::cmp::Ordering;

/// Compare two version (or release) strings the way rpm's `rpmvercmp` does: split into
/// alternating runs of digits and letters, compare numerically / lexically segment by segment;
/// `~` sorts before everything (even the end of the string), `^` after the end but before any
/// further segment.
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    let is_sep = |c: u8| !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    loop {
        while let Some(&c) = a.first() {
            if is_sep(c) {
                a = &a[1..];
            } else {
                break;
            }
        }
        while let Some(&c) = b.first() {
            if is_sep(c) {
                b = &b[1..];
            } else {
                break;
            }
        }
        // Tilde: sorts before anything, including the end.
        match (a.first() == Some(&b'~'), b.first() == Some(&b'~')) {
            (true, true) => {
                a = &a[1..];
                b = &b[1..];
                continue;
            }
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        // Caret: like the end of the string, but newer than the end itself.
        match (a.first() == Some(&b'^'), b.first() == Some(&b'^')) {
            (true, true) => {
                a = &a[1..];
                b = &b[1..];
                continue;
            }
            (true, false) => {
                return if b.is_empty() {
                    Ordering::Greater
                } else {
                    Ordering::Less
                };
            }
            (false, true) => {
                return if a.is_empty() {
                    Ordering::Less
                } else {
                    Ordering::Greater
                };
            }
            _ => {}
        }
        if a.is_empty() || b.is_empty() {
            break;
        }
        let numeric = a[0].is_ascii_digit();
        let take = |s: &[u8]| -> usize {
            s.iter()
                .take_while(|c| {
                    if numeric {
                        c.is_ascii_digit()
                    } else {
                        c.is_ascii_alphabetic()
                    }
                })
                .count()
        };
        let (la, lb) = (take(a), take(b));
        let (sa, sb) = (&a[..la], &b[..lb]);
        if sb.is_empty() {
            // Segments of different types: a numeric segment is newer than an alphabetic one.
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let ord = if numeric {
            let ta = trim_zeros(sa);
            let tb = trim_zeros(sb);
            ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb))
        } else {
            sa.cmp(sb)
        };
        if ord != Ordering::Equal {
            return ord;
        }
        a = &a[la..];
        b = &b[lb..];
    }
    match (a.is_empty(), b.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, _) => Ordering::Greater,
    }
}

fn trim_zeros(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&c| c == b'0').count();
    &s[n..]
}

/// An epoch:version-release triple; missing parts are `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evr {
    pub epoch: Option<u64>,
    pub version: String,
    pub release: Option<String>,
}

impl Evr {
    /// Parse `[epoch:]version[-release]`.
    pub fn parse(s: &str) -> Evr {
        let (epoch, rest) = match s.split_once(':') {
            Some((e, rest)) if !e.is_empty() && e.bytes().all(|c| c.is_ascii_digit()) => {
                (e.parse().ok(), rest)
            }
            _ => (None, s),
        };
        let (version, release) = match rest.rsplit_once('-') {
            Some((v, r)) => (v.to_string(), Some(r.to_string())),
            None => (rest.to_string(), None),
        };
        Evr {
            epoch,
            version,
            release,
        }
    }

    /// Compare as rpm does when matching a requirement against a provide: a missing epoch is 0,
    /// and a release missing on either side is not compared.
    pub fn compare(&self, other: &Evr) -> Ordering {
        let ord = self
            .epoch
            .unwrap_or(0)
            .cmp(&other.epoch.unwrap_or(0))
            .then_with(|| rpmvercmp(&self.version, &other.version));
        if ord != Ordering::Equal {
            return ord;
        }
        match (&self.release, &other.release) {
            (Some(a), Some(b)) => rpmvercmp(a, b),
            _ => Ordering::Equal,
        }
    }
}

/// A version comparison operator of a dependency (ordered, so requirements can live in sets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
}

impl Op {
    /// From rpm's sense flags (LESS = 2, GREATER = 4, EQUAL = 8); `None` when unversioned.
    pub fn from_flags(flags: u32) -> Option<Op> {
        match (flags & 2 != 0, flags & 4 != 0, flags & 8 != 0) {
            (true, false, false) => Some(Op::Lt),
            (true, false, true) => Some(Op::Le),
            (false, false, true) => Some(Op::Eq),
            (false, true, true) => Some(Op::Ge),
            (false, true, false) => Some(Op::Gt),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Eq => "=",
            Op::Ge => ">=",
            Op::Gt => ">",
        }
    }

    /// Whether `ord` (provided compared with required) satisfies this operator.
    pub fn accepts(self, ord: Ordering) -> bool {
        match self {
            Op::Lt => ord == Ordering::Less,
            Op::Le => ord != Ordering::Greater,
            Op::Eq => ord == Ordering::Equal,
            Op::Ge => ord != Ordering::Less,
            Op::Gt => ord == Ordering::Greater,
        }
    }
}

/// Whether a provide of version `provided` (unversioned when `None`) satisfies
/// `required op version`. An unversioned provide satisfies any versioned requirement, as in rpm.
pub fn satisfies(provided: Option<&str>, op: Option<Op>, required: &str) -> bool {
    let (Some(op), Some(provided)) = (op, provided) else {
        return true;
    };
    if provided.is_empty() {
        return true;
    }
    op.accepts(Evr::parse(provided).compare(&Evr::parse(required)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn vercmp_matches_rpm() {
        // Cases from rpm's own test suite (rpmvercmp.at).
        let cases = [
            ("1.0", "1.0", Equal),
            ("1.0", "2.0", Less),
            ("2.0.1", "2.0", Greater),
            ("2.0.1a", "2.0.1", Greater),
            ("5.5p1", "5.5p2", Less),
            ("5.5p10", "5.5p1", Greater),
            ("10xyz", "10.1xyz", Less),
            ("xyz10", "xyz10.1", Less),
            ("xyz.4", "8", Less),
            ("1b.fc17", "1.fc17", Less),
            ("1.0a", "1.0", Greater),
            ("2_0", "2_0", Equal),
            ("2.0", "2_0", Equal),
            ("a", "a", Equal),
            ("a+", "a_", Equal),
            ("+", "_", Equal),
            ("1.0~rc1", "1.0", Less),
            ("1.0~rc1", "1.0~rc2", Less),
            ("1.0~rc1~git123", "1.0~rc1", Less),
            ("1.0^", "1.0", Greater),
            ("1.0^git1", "1.0", Greater),
            ("1.0^git1", "1.01", Less),
            ("1.0^git1~pre", "1.0^git1", Less),
            ("1.0^20160101", "1.0.1", Less),
            ("010", "10", Equal),
            ("1.0", "1.0.0", Less),
        ];
        for (a, b, want) in cases {
            assert_eq!(rpmvercmp(a, b), want, "{a} vs {b}");
            assert_eq!(rpmvercmp(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn evr_and_operators() {
        assert!(satisfies(Some("1:1.0-1"), Some(Op::Gt), "2.0"));
        assert!(!satisfies(Some("1.0-1"), Some(Op::Ge), "1.1"));
        assert!(satisfies(Some("1.1-3.fc40"), Some(Op::Eq), "1.1"));
        assert!(!satisfies(Some("1.1-3"), Some(Op::Eq), "1.1-4"));
        assert!(satisfies(Some("1.1-3"), Some(Op::Lt), "1.1-4"));
        assert!(satisfies(None, Some(Op::Ge), "9"));
        assert!(satisfies(Some("2"), None, ""));
        assert_eq!(Op::from_flags(8 | 4), Some(Op::Ge));
        assert_eq!(Op::from_flags(0), None);
    }
}
