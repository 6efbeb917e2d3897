//! Reading and validating modulemd YAML: syntax and type errors carry the location serde_yaml
//! reports; semantic errors (the rules libmodulemd enforces) are located by re-scanning the
//! document for the YAML path of the offending node.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::LazyLock;

use serde::de::DeserializeOwned;

use super::modulemd::{Defaults, Document, ModuleIndex, ModuleStream, Text};

/// One problem found in a modulemd document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// 1-based line in the file, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "line {l}, column {c}: {}", self.message),
            (Some(l), None) => write!(f, "line {l}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

/// A modulemd file that did not validate; lists every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render(.errors))]
pub struct InvalidModulemd {
    pub errors: Vec<Diagnostic>,
}

fn render(errors: &[Diagnostic]) -> String {
    match errors {
        [one] => one.to_string(),
        many => {
            let mut s = format!("{} problems:", many.len());
            for d in many {
                s.push_str("\n  ");
                s.push_str(&d.to_string());
            }
            s
        }
    }
}

/// What a successful parse also noticed: things the modulemd specification requires but
/// libmodulemd accepts (such as a component without `rationale`).
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub index: ModuleIndex,
    pub warnings: Vec<Diagnostic>,
}

/// Parse and validate a modulemd YAML stream (any number of `modulemd` v2 and
/// `modulemd-defaults` v1 documents).
pub fn parse_index(text: &str) -> Result<Parsed, InvalidModulemd> {
    // libmodulemd lets the last of duplicate keys win inside documents; do the same (with a
    // warning) by blanking the earlier ones, which keeps every line where it was.
    let (text, shadowed) = drop_shadowed_keys(text);
    let text = text.as_str();
    // Syntax first, over the whole stream, so libyaml's locations are file lines.
    for doc in serde_yaml::Deserializer::from_str(text) {
        if let Err(e) = serde::Deserialize::deserialize(doc).map(|_: serde_yaml::Value| ()) {
            return Err(InvalidModulemd {
                errors: vec![from_yaml_error(&e, 0)],
            });
        }
    }

    let mut parsed = Parsed {
        warnings: shadowed,
        ..Default::default()
    };
    let mut errors = Vec::new();
    for chunk in split_documents(text) {
        if let Err(mut e) = parse_chunk(&chunk, &mut parsed) {
            errors.append(&mut e);
        }
    }
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(InvalidModulemd { errors })
    }
}

/// One YAML document of a stream: its text and the 0-based line where it starts.
struct Chunk {
    text: String,
    first_line: usize,
}

fn split_documents(text: &str) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut cur = String::new();
    let mut start = 0;
    let flush = |cur: &mut String, start: usize, chunks: &mut Vec<Chunk>| {
        let meaningful = cur.lines().any(|l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#') && !t.starts_with('%')
        });
        if meaningful {
            chunks.push(Chunk {
                text: std::mem::take(cur),
                first_line: start,
            });
        } else {
            cur.clear();
        }
    };
    for (i, line) in text.lines().enumerate() {
        let l = line.trim_end();
        if l == "---" || l.starts_with("--- ") {
            flush(&mut cur, start, &mut chunks);
            start = i;
            // The marker line stays in the chunk (as whatever follows the marker) so chunk
            // lines keep their file line numbers.
            cur.push_str(l.strip_prefix("---").unwrap_or_default().trim_start());
            cur.push('\n');
        } else if l == "..." {
            flush(&mut cur, start, &mut chunks);
            start = i + 1;
        } else {
            if cur.is_empty() {
                start = i;
            }
            cur.push_str(line);
            cur.push('\n');
        }
    }
    flush(&mut cur, start, &mut chunks);
    chunks
}

fn from_yaml_error(e: &serde_yaml::Error, line_offset: usize) -> Diagnostic {
    let text = e.to_string();
    match e.location() {
        Some(loc) => {
            static MARK: LazyLock<regex::Regex> = LazyLock::new(|| {
                regex::Regex::new(r" at line \d+ column \d+$").expect("valid regex")
            });
            let msg = MARK.replace(&text, "").into_owned();
            // libyaml messages embed their own chunk-relative positions; they are only produced
            // by the whole-stream syntax pass, where the offset is 0.
            Diagnostic {
                line: Some(loc.line() + line_offset),
                column: Some(loc.column()),
                message: msg,
            }
        }
        None => Diagnostic {
            line: None,
            column: None,
            message: text,
        },
    }
}

const KNOWN_TYPES: &[&str] = &[
    "modulemd",
    "modulemd-defaults",
    "modulemd-obsoletes",
    "modulemd-translations",
    "modulemd-packager",
];

fn parse_chunk(chunk: &Chunk, parsed: &mut Parsed) -> Result<(), Vec<Diagnostic>> {
    let lines = LineMap::new(&chunk.text, chunk.first_line);
    let at = |path: &[&str], message: String| Diagnostic {
        line: lines.find(path),
        column: None,
        message,
    };
    let value: serde_yaml::Value = serde_yaml::from_str(&chunk.text)
        .map_err(|e| vec![from_yaml_error(&e, chunk.first_line)])?;
    let Some(map) = value.as_mapping() else {
        return Err(vec![Diagnostic {
            line: Some(chunk.first_line + 1),
            column: None,
            message: "the document is not a mapping (expected `document:`, `version:` and `data:`)"
                .into(),
        }]);
    };
    let doc_type = match map.get("document") {
        None => {
            return Err(vec![at(
                &[],
                "no document type specified (`document:`)".into(),
            )]);
        }
        Some(v) => scalar_text(v).unwrap_or_default(),
    };
    if !KNOWN_TYPES.contains(&doc_type.as_str()) {
        return Err(vec![at(
            &["document"],
            format!(
                "document type `{doc_type}` is unknown (expected `modulemd` or `modulemd-defaults`)"
            ),
        )]);
    }
    let version = match map.get("version") {
        None => {
            return Err(vec![at(
                &[],
                "no metadata version specified (`version:`)".into(),
            )]);
        }
        Some(v) => scalar_text(v).and_then(|t| t.trim().parse::<u64>().ok()),
    };
    let supported = match doc_type.as_str() {
        "modulemd" => Some(2),
        "modulemd-defaults" => Some(1),
        _ => None,
    };
    let Some(supported) = supported else {
        let hint = if doc_type == "modulemd-packager" {
            " (a packager document is an input format and is not accepted in a module index; \
             convert it to `document: modulemd`, `version: 2`)"
        } else {
            ""
        };
        return Err(vec![at(
            &["document"],
            format!("`{doc_type}` documents are not supported here{hint}"),
        )]);
    };
    if version != Some(supported) {
        let found = map.get("version").and_then(scalar_text).unwrap_or_default();
        return Err(vec![at(
            &["version"],
            format!("invalid version `{found}` for a `{doc_type}` document (expected {supported})"),
        )]);
    }
    if map.get("data").is_none_or(|d| d.is_null()) {
        return Err(vec![at(&[], "no data section provided (`data:`)".into())]);
    }
    let empty = empty_mappings(&value, &doc_type);
    if !empty.is_empty() {
        return Err(empty
            .into_iter()
            .map(|path| {
                let refs: Vec<&str> = path.iter().map(String::as_str).collect();
                at(
                    &refs,
                    format!(
                        "`{}` has no value; it needs a mapping (or remove the key)",
                        path.join(".")
                    ),
                )
            })
            .collect());
    }
    if let Some(line) = find_alias(&chunk.text) {
        return Err(vec![Diagnostic {
            line: Some(chunk.first_line + line),
            column: None,
            message: "YAML aliases (`*name`) are not supported in modulemd; write the value out"
                .into(),
        }]);
    }
    if doc_type == "modulemd" {
        let stream: ModuleStream = typed(chunk)?;
        let mut errors = Vec::new();
        check_stream(&stream, &lines, &mut errors, &mut parsed.warnings);
        if !errors.is_empty() {
            return Err(errors);
        }
        parsed.index.streams.push(stream);
    } else {
        let defaults: Defaults = typed(chunk)?;
        parsed.index.defaults.push(defaults);
    }
    Ok(())
}

/// Keys that must hold a mapping (or a list of mappings); `*` matches any key or index.
const STREAM_MAPPINGS: &[&str] = &[
    "data.servicelevels",
    "data.servicelevels.*",
    "data.dependencies",
    "data.dependencies.*",
    "data.dependencies.*.buildrequires",
    "data.dependencies.*.requires",
    "data.references",
    "data.profiles",
    "data.profiles.*",
    "data.api",
    "data.filter",
    "data.demodularized",
    "data.buildopts",
    "data.buildopts.rpms",
    "data.components",
    "data.components.rpms",
    "data.components.rpms.*",
    "data.components.modules",
    "data.components.modules.*",
    "data.artifacts",
    "data.artifacts.rpm-map",
    "data.artifacts.rpm-map.*",
    "data.artifacts.rpm-map.*.*",
];

const DEFAULTS_MAPPINGS: &[&str] = &[
    "data.profiles",
    "data.intents",
    "data.intents.*",
    "data.intents.*.profiles",
];

/// Paths of keys that are present but empty where libmodulemd requires a mapping.
fn empty_mappings(value: &serde_yaml::Value, doc_type: &str) -> Vec<Vec<String>> {
    let patterns = if doc_type == "modulemd" {
        STREAM_MAPPINGS
    } else {
        DEFAULTS_MAPPINGS
    };
    let mut out = Vec::new();
    for pattern in patterns {
        let segs: Vec<&str> = pattern.split('.').collect();
        walk(value, &segs, &mut Vec::new(), &mut out);
    }
    out.sort();
    out.dedup();
    out
}

fn walk(v: &serde_yaml::Value, segs: &[&str], path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let Some((first, rest)) = segs.split_first() else {
        if v.is_null() {
            out.push(path.clone());
        }
        return;
    };
    let children: Vec<(String, &serde_yaml::Value)> = match v {
        serde_yaml::Value::Mapping(m) => m
            .iter()
            .filter_map(|(k, v)| scalar_text(k).map(|k| (k, v)))
            .filter(|(k, _)| *first == "*" || k == first)
            .collect(),
        serde_yaml::Value::Sequence(items) if *first == "*" => items
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        _ => Vec::new(),
    };
    for (k, child) in children {
        path.push(k);
        walk(child, rest, path, out);
        path.pop();
    }
}

/// The 1-based line of the first alias (`*name` as a value or list item), if any.
fn find_alias(text: &str) -> Option<usize> {
    static ALIAS: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"(^|:\s+|^\s*-\s+|[\[,{]\s*)\*[^\s,\]\}]+\s*([,\]\}#]|$)")
            .expect("valid regex")
    });
    let mut block: Option<usize> = None;
    for (i, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start().len();
        if let Some(b) = block {
            if line.trim().is_empty() || indent > b {
                continue;
            }
            block = None;
        }
        let t = line.trim_end();
        if t.ends_with('|') || t.ends_with('>') || t.ends_with("|-") || t.ends_with(">-") {
            block = Some(indent);
        }
        let code = t.trim_start();
        if code.starts_with('#') {
            continue;
        }
        // Quoted scalars cannot hold aliases; drop them before looking.
        let unquoted: String = {
            let mut out = String::new();
            let mut quote: Option<char> = None;
            for c in code.chars() {
                match quote {
                    Some(q) if c == q => quote = None,
                    Some(_) => {}
                    None if c == '"' || c == '\'' => quote = Some(c),
                    None => out.push(c),
                }
            }
            out
        };
        if ALIAS.is_match(&unquoted) {
            return Some(i + 1);
        }
    }
    None
}

fn typed<T: DeserializeOwned>(chunk: &Chunk) -> Result<T, Vec<Diagnostic>> {
    serde_yaml::from_str::<Document<T>>(&chunk.text)
        .map(|d| d.data)
        .map_err(|e| vec![from_yaml_error(&e, chunk.first_line)])
}

fn scalar_text(v: &serde_yaml::Value) -> Option<String> {
    match v {
        serde_yaml::Value::String(s) => Some(s.clone()),
        serde_yaml::Value::Number(n) => Some(n.to_string()),
        serde_yaml::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// (kind, name, buildorder, buildafter, rationale missing) of one component.
type ComponentOrder<'a> = (&'a str, &'a str, Option<i64>, Option<&'a Vec<Text>>, bool);

/// The semantic rules of a v2 stream that libmodulemd 2.14 enforces.
fn check_stream(
    s: &ModuleStream,
    lines: &LineMap,
    errors: &mut Vec<Diagnostic>,
    warnings: &mut Vec<Diagnostic>,
) {
    let at = |path: &[&str], message: String| Diagnostic {
        line: lines.find(path),
        column: None,
        message,
    };
    if s.summary.is_none() {
        errors.push(at(
            &["data"],
            "summary is missing (`data: summary:`)".into(),
        ));
    }
    if s.description.is_none() {
        errors.push(at(
            &["data"],
            "description is missing (`data: description:`)".into(),
        ));
    }
    let module_license = s.license.as_ref().and_then(|l| l.module.as_ref());
    if module_license.is_none_or(|m| m.is_empty()) {
        errors.push(at(
            &["data", "license"],
            "module license is missing (`data: license: module: [..]`)".into(),
        ));
    }
    if s.static_context == Some(true)
        && let Some(ctx) = &s.context
    {
        if ctx.len() > 13 {
            errors.push(at(
                &["data", "context"],
                format!("context `{ctx}` is longer than 13 characters (static_context is true)"),
            ));
        } else if !ctx.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            errors.push(at(
                &["data", "context"],
                format!("context `{ctx}` may only contain [a-zA-Z0-9_] (static_context is true)"),
            ));
        }
    }
    if let Some(levels) = &s.servicelevels {
        for (name, level) in levels {
            if let Some(eol) = &level.eol
                && !is_date(eol)
            {
                errors.push(at(
                    &["data", "servicelevels", name, "eol"],
                    format!("service level `{name}`: eol `{eol}` is not a date (YYYY-MM-DD)"),
                ));
            }
        }
    }
    for (i, dep) in s.dependencies.iter().flatten().enumerate() {
        let idx = i.to_string();
        for (kind, label, map) in [
            ("buildrequires", "build-time", &dep.buildrequires),
            ("requires", "run-time", &dep.requires),
        ] {
            for (module, streams) in map.iter().flatten() {
                let neg = streams.iter().filter(|s| s.0.starts_with('-')).count();
                if neg > 0 && neg < streams.len() {
                    errors.push(at(
                        &["data", "dependencies", &idx, kind, module],
                        format!(
                            "{label} dependency on `{module}` mixes streams and excluded \
                             (`-`) streams"
                        ),
                    ));
                }
            }
        }
    }
    if let Some(components) = &s.components {
        let rpms = components.rpms.as_ref();
        let mods = components.modules.as_ref();
        let names: BTreeSet<&str> = rpms
            .into_iter()
            .flat_map(|m| m.keys())
            .chain(mods.into_iter().flat_map(|m| m.keys()))
            .map(String::as_str)
            .collect();
        let mut any_order = false;
        let mut any_after = false;
        let mut each: Vec<ComponentOrder> = Vec::new();
        for (name, c) in rpms.into_iter().flatten() {
            each.push((
                "rpms",
                name,
                c.buildorder,
                c.buildafter.as_ref(),
                c.rationale.is_none(),
            ));
        }
        for (name, c) in mods.into_iter().flatten() {
            each.push((
                "modules",
                name,
                c.buildorder,
                c.buildafter.as_ref(),
                c.rationale.is_none(),
            ));
        }
        for (kind, name, order, after, no_rationale) in each {
            if order.is_some() && after.is_some() {
                errors.push(at(
                    &["data", "components", kind, name],
                    format!("component `{name}` has both `buildorder` and `buildafter`"),
                ));
            }
            any_order |= order.is_some();
            any_after |= after.is_some();
            for dep in after.into_iter().flatten() {
                if !names.contains(dep.as_str()) {
                    errors.push(at(
                        &["data", "components", kind, name, "buildafter"],
                        format!("component `{name}`: buildafter `{dep}` is not a component"),
                    ));
                }
            }
            if no_rationale {
                warnings.push(at(
                    &["data", "components", kind, name],
                    format!("component `{name}` has no `rationale`"),
                ));
            }
        }
        if any_order && any_after && errors.is_empty() {
            errors.push(at(
                &["data", "components"],
                "components mix `buildorder` and `buildafter`; use one of them".into(),
            ));
        }
    }
    for (digest, entries) in s
        .artifacts
        .iter()
        .filter_map(|a| a.rpm_map.as_ref())
        .flatten()
    {
        for (sum, e) in entries {
            let path = [
                "data",
                "artifacts",
                "rpm-map",
                digest.as_str(),
                sum.as_str(),
            ];
            let missing: Vec<&str> = [
                ("name", e.name.is_none()),
                ("epoch", e.epoch.is_none()),
                ("version", e.version.is_none()),
                ("release", e.release.is_none()),
                ("arch", e.arch.is_none()),
                ("nevra", e.nevra.is_none()),
            ]
            .iter()
            .filter(|(_, m)| *m)
            .map(|(k, _)| *k)
            .collect();
            if !missing.is_empty() {
                errors.push(at(
                    &path,
                    format!("rpm-map entry `{sum}` lacks {}", missing.join(", ")),
                ));
                continue;
            }
            let exploded = format!(
                "{}-{}:{}-{}.{}",
                e.name.as_deref().unwrap_or_default(),
                e.epoch.unwrap_or_default(),
                e.version.as_deref().unwrap_or_default(),
                e.release.as_deref().unwrap_or_default(),
                e.arch.as_deref().unwrap_or_default()
            );
            let nevra = e.nevra.as_deref().unwrap_or_default();
            if nevra != exploded {
                errors.push(at(
                    &[&path[..], &["nevra"]].concat(),
                    format!("rpm-map nevra `{nevra}` differs from its fields (`{exploded}`)"),
                ));
            }
        }
    }
    if let Some(artifacts) = &s.artifacts {
        for (i, nevra) in artifacts.rpms.iter().flatten().enumerate() {
            if !is_nevra(nevra.as_str()) {
                errors.push(at(
                    &["data", "artifacts", "rpms", &i.to_string()],
                    format!(
                        "artifact `{nevra}` is not in N-E:V-R.A form (the epoch is mandatory, \
                         e.g. `hello-0:1.0-1.noarch`)"
                    ),
                ));
            }
        }
    }
}

/// A real calendar date `YYYY-MM-DD`.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10
        || b[4] != b'-'
        || b[7] != b'-'
        || !b
            .iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
    {
        return false;
    }
    let (Ok(y), Ok(m), Ok(d)) = (
        s[..4].parse::<u32>(),
        s[5..7].parse::<u32>(),
        s[8..].parse::<u32>(),
    ) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    y >= 1 && (1..=days).contains(&d)
}

/// libmodulemd's NEVRA check, read from the right: `.ARCH`, `-RELEASE`, `:VERSION` (no `-` in
/// between), then `-EPOCH` whose first character is a digit.
pub fn is_nevra(s: &str) -> bool {
    let Some((rest, _arch)) = s.rsplit_once('.') else {
        return false;
    };
    let Some((rest, _release)) = rest.rsplit_once('-') else {
        return false;
    };
    let Some(colon) = rest.rfind([':', '-']) else {
        return false;
    };
    if rest.as_bytes()[colon] != b':' {
        return false;
    }
    let rest = &rest[..colon];
    let Some((_name, epoch)) = rest.rsplit_once('-') else {
        return false;
    };
    epoch.as_bytes().first().is_some_and(u8::is_ascii_digit)
}

/// Blank the earlier occurrences of block-style keys that appear twice in the same mapping below
/// the top level (where libmodulemd keeps the last one). Top-level duplicates, modules named twice
/// in a dependency (libmodulemd rejects both), duplicates inside flow collections and earlier keys
/// that open a list item are left for the parser to reject.
fn drop_shadowed_keys(text: &str) -> (String, Vec<Diagnostic>) {
    static KEY: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r#"^("[^"]*"|'[^']*'|[^\s"'#\-\[\{][^:#]*?)\s*:(\s|$)"#)
            .expect("valid regex")
    });
    let lines: Vec<&str> = text.lines().collect();
    let mut blank = vec![false; lines.len()];
    let mut warnings = Vec::new();
    // (column, segment, is_sequence_item)
    let mut stack: Vec<(usize, String, bool)> = Vec::new();
    let mut counters: HashMap<Vec<String>, usize> = HashMap::new();
    // path → (line index, column, opened by `- `)
    let mut seen: HashMap<Vec<String>, (usize, usize, bool)> = HashMap::new();
    let mut block_scalar: Option<usize> = None;
    for (i, raw) in lines.iter().enumerate() {
        let trimmed = raw.trim();
        if trimmed == "---" || trimmed.starts_with("--- ") || trimmed == "..." {
            stack.clear();
            counters.clear();
            seen.clear();
            block_scalar = None;
            continue;
        }
        let indent = raw.len() - raw.trim_start().len();
        if let Some(b) = block_scalar {
            if trimmed.is_empty() || indent > b {
                continue;
            }
            block_scalar = None;
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut col = indent;
        let mut content = trimmed;
        let mut dashed = false;
        while content == "-" || content.starts_with("- ") {
            while stack
                .last()
                .is_some_and(|t| t.0 > col || (t.0 == col && t.2))
            {
                stack.pop();
            }
            let parent: Vec<String> = stack.iter().map(|e| e.1.clone()).collect();
            let n = counters.entry(parent).or_insert(0);
            stack.push((col, n.to_string(), true));
            *n += 1;
            let after = content[1..].trim_start();
            col += content.len() - after.len();
            content = after;
            dashed = true;
        }
        let Some(m) = KEY.captures(content) else {
            continue;
        };
        let key = m[1]
            .trim()
            .trim_matches(|c| c == '"' || c == '\'')
            .to_string();
        while stack.last().is_some_and(|t| t.0 >= col) {
            stack.pop();
        }
        stack.push((col, key.clone(), false));
        let path: Vec<String> = stack.iter().map(|e| e.1.clone()).collect();
        counters.remove(&path);
        let value = content[m.get(0).map_or(0, |x| x.end())..].trim();
        if value.starts_with('|') || value.starts_with('>') {
            block_scalar = Some(col);
        }
        // libmodulemd rejects a module named twice in a dependency ("nested set").
        let in_dependency = path.len() > 3
            && path[1] == "dependencies"
            && (path[3] == "buildrequires" || path[3] == "requires");
        if let Some((first, first_col, first_dashed)) = seen.get(&path).copied()
            && col > 0
            && !first_dashed
            && !in_dependency
        {
            // The earlier key's block: its line and every deeper line after it.
            let mut end = first + 1;
            while end < i {
                let l = lines[end];
                let t = l.trim();
                if !t.is_empty()
                    && !t.starts_with('#')
                    && l.len() - l.trim_start().len() <= first_col
                {
                    break;
                }
                end += 1;
            }
            for b in blank.iter_mut().take(end).skip(first) {
                *b = true;
            }
            warnings.push(Diagnostic {
                line: Some(first + 1),
                column: None,
                message: format!(
                    "`{}` is given again on line {}; the later value wins",
                    path.join("."),
                    i + 1
                ),
            });
            seen.retain(|p, _| !p.starts_with(&path));
        }
        seen.insert(path, (i, col, dashed));
    }
    if warnings.is_empty() {
        return (text.to_string(), warnings);
    }
    let mut out = String::with_capacity(text.len());
    for (i, l) in lines.iter().enumerate() {
        if !blank[i] {
            out.push_str(l);
        }
        out.push('\n');
    }
    (out, warnings)
}

/// Maps YAML paths (keys and sequence indexes) of block-style YAML to 1-based file lines.
pub struct LineMap {
    paths: HashMap<Vec<String>, usize>,
    first_line: usize,
}

impl LineMap {
    /// Scan `text`, whose first line is line `first_line` (0-based) of the file.
    pub fn new(text: &str, first_line: usize) -> Self {
        let mut paths: HashMap<Vec<String>, usize> = HashMap::new();
        // (column, segment, is_sequence_item)
        let mut stack: Vec<(usize, String, bool)> = Vec::new();
        let mut counters: BTreeMap<Vec<String>, usize> = BTreeMap::new();
        let mut block_scalar: Option<usize> = None;
        static KEY: LazyLock<regex::Regex> = LazyLock::new(|| {
            regex::Regex::new(
                r#"^("[^"]*"|'[^']*'|[^\s"'#\-\[\{][^:#]*?|-[^\s:#][^:#]*?)\s*:(\s|$)"#,
            )
            .expect("valid regex")
        });
        let key_re = &*KEY;
        for (i, raw) in text.lines().enumerate() {
            let line_no = first_line + i + 1;
            let indent = raw.len() - raw.trim_start().len();
            let trimmed = raw.trim();
            if let Some(block_indent) = block_scalar {
                if trimmed.is_empty() || indent > block_indent {
                    continue;
                }
                block_scalar = None;
            }
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let mut col = indent;
            let mut content = trimmed;
            loop {
                if content == "-" || content.starts_with("- ") {
                    while let Some(top) = stack.last() {
                        if top.0 > col || (top.0 == col && top.2) {
                            stack.pop();
                        } else {
                            break;
                        }
                    }
                    let parent: Vec<String> = stack.iter().map(|e| e.1.clone()).collect();
                    let n = counters.entry(parent.clone()).or_insert(0);
                    let idx = *n;
                    *n += 1;
                    stack.push((col, idx.to_string(), true));
                    let mut p = parent;
                    p.push(idx.to_string());
                    paths.entry(p).or_insert(line_no);
                    let after = content[1..].trim_start();
                    col += content.len() - after.len();
                    content = after;
                    if content.is_empty() {
                        break;
                    }
                    continue;
                }
                if let Some(m) = key_re.captures(content) {
                    let key = m[1].trim().trim_matches(|c| c == '"' || c == '\'');
                    while let Some(top) = stack.last() {
                        if top.0 >= col {
                            stack.pop();
                        } else {
                            break;
                        }
                    }
                    stack.push((col, key.to_string(), false));
                    let p: Vec<String> = stack.iter().map(|e| e.1.clone()).collect();
                    // A new mapping under this path restarts its sequence numbering.
                    counters.remove(&p);
                    paths.entry(p).or_insert(line_no);
                    let value = content[m.get(0).map_or(0, |x| x.end())..].trim();
                    if value.starts_with('|') || value.starts_with('>') {
                        block_scalar = Some(col);
                    }
                }
                break;
            }
        }
        LineMap { paths, first_line }
    }

    /// The line of `path`, or of its nearest ancestor that was found; the document's first
    /// line for the empty path.
    pub fn find(&self, path: &[&str]) -> Option<usize> {
        let mut p: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        loop {
            if let Some(l) = self.paths.get(&p) {
                return Some(*l);
            }
            if p.pop().is_none() {
                return Some(self.first_line + 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nevra_rules_match_libmodulemd() {
        for ok in [
            "hello-a-0:1.0-1.noarch",
            "a-b-1:2:3-4.x86_64",
            "-1:1-1.noarch",
            "x-0:1-1.noarch.x",
            "hello-a-0:1.0-1.",
            "x-1 :1-1.noarch",
        ] {
            assert!(is_nevra(ok), "{ok}");
        }
        for bad in [
            "hello-a-1.0-1.noarch",
            "hello-a-:1.0-1.noarch",
            "x-0:1-1-1.noarch",
            "x-+1:1-1.noarch",
            "0:1-1.noarch",
            "x-0:1-1",
            "x-0:1.noarch",
        ] {
            assert!(!is_nevra(bad), "{bad}");
        }
    }

    #[test]
    fn line_map_finds_nested_paths() {
        let text = "document: modulemd\nversion: 2\ndata:\n  name: x\n  description: >\n    text: not a key\n  dependencies:\n  - buildrequires:\n      platform: []\n    requires:\n      platform: [f40]\n  components:\n    rpms:\n      a:\n        buildorder: 1\n";
        let m = LineMap::new(text, 0);
        assert_eq!(m.find(&["data", "name"]), Some(4));
        assert_eq!(m.find(&["data", "text"]), Some(3));
        assert_eq!(
            m.find(&["data", "dependencies", "0", "requires", "platform"]),
            Some(11)
        );
        assert_eq!(
            m.find(&["data", "components", "rpms", "a", "buildorder"]),
            Some(15)
        );
    }
}
