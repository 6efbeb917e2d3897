//! XML escaping for repodata, matching libxml2's output: `&`, `<`, `>` always, `"` and
//! whitespace controls in attributes, `\r` as a character reference in text. Characters that XML
//! 1.0 cannot carry at all (other C0 controls, U+FFFE/U+FFFF) are dropped.

use std::borrow::Cow;

fn forbidden(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

fn needs_escape(s: &str, attr: bool) -> bool {
    s.chars().any(|c| {
        matches!(c, '&' | '<' | '>' | '\r')
            || forbidden(c)
            || (attr && matches!(c, '"' | '\n' | '\t'))
    })
}

fn escape(s: &str, attr: bool) -> Cow<'_, str> {
    if !needs_escape(s, attr) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            '"' if attr => out.push_str("&quot;"),
            '\n' if attr => out.push_str("&#10;"),
            '\t' if attr => out.push_str("&#9;"),
            c if forbidden(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Escape element text.
pub fn escape_text(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// Escape an attribute value (written between double quotes).
pub fn escape_attr(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

/// Header strings are UTF-8 in practice; older packages carry Latin-1, which is converted the
/// way createrepo_c does rather than dropped.
pub fn lossy(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(b.iter().map(|&c| c as char).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_controls() {
        assert_eq!(escape_text("a<b>&c"), "a&lt;b&gt;&amp;c");
        assert_eq!(escape_text("x\u{1}y\r\n"), "xy&#13;\n");
        assert_eq!(
            escape_attr("T <t@x> \"q\"\n"),
            "T &lt;t@x&gt; &quot;q&quot;&#10;"
        );
        assert!(matches!(escape_text("plain"), Cow::Borrowed(_)));
        assert_eq!(lossy(b"caf\xe9"), "café");
    }
}
