//! modulemd v2 stream and modulemd-defaults v1 documents (serde types) and the writer.
//!
//! Field names and nesting follow libmodulemd's `modulemd_stream_v2.yaml` and
//! `modulemd_defaults_v1.yaml` specifications. Every struct rejects unknown keys, as
//! `modulemd-validator` does. Scalars that libmodulemd reads as strings (`stream: 1.0`,
//! `summary: 42`) are read as their literal text; integers may be quoted.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

/// A list of modulemd documents as found in a `modules.yaml` or a modulemd file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModuleIndex {
    pub streams: Vec<ModuleStream>,
    pub defaults: Vec<Defaults>,
}

/// `data:` of a `document: modulemd`, `version: 2` document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleStream {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_text"
    )]
    pub name: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_text"
    )]
    pub stream: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_u64"
    )]
    pub version: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_text"
    )]
    pub context: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_bool"
    )]
    pub static_context: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_text"
    )]
    pub arch: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_text"
    )]
    pub summary: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_text"
    )]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servicelevels: Option<BTreeMap<String, ServiceLevel>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<License>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xmd: Option<serde_yaml::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependencies: Option<Vec<Dependencies>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub references: Option<References>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profiles: Option<BTreeMap<String, Profile>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<RpmList>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<RpmList>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demodularized: Option<RpmList>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buildopts: Option<BuildOpts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<Components>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifacts: Option<Artifacts>,
}

/// `servicelevels: {NAME: {eol: YYYY-MM-DD}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceLevel {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_text"
    )]
    pub eol: Option<String>,
}

/// `license:` — `module` is the license of the module metadata, `content` those of its RPMs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct License {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_list"
    )]
    pub module: Option<Vec<Text>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_list"
    )]
    pub content: Option<Vec<Text>>,
}

/// One entry of `dependencies:`: module name → streams (a `-` prefix excludes a stream).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dependencies {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_list_map"
    )]
    pub buildrequires: Option<BTreeMap<String, Vec<Text>>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_list_map"
    )]
    pub requires: Option<BTreeMap<String, Vec<Text>>>,
}

/// `references:` links.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct References {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_text"
    )]
    pub community: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_text"
    )]
    pub documentation: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_text"
    )]
    pub tracker: Option<String>,
}

/// An install profile: the packages `dnf module install NAME:STREAM/PROFILE` installs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_text"
    )]
    pub description: Option<String>,
    /// Whether this is the stream\'s default profile (libmodulemd reads it in v2 too).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_bool"
    )]
    pub default: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_list"
    )]
    pub rpms: Option<Vec<Text>>,
}

/// `{rpms: [..]}` as used by `api`, `filter` and `demodularized`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RpmList {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_list"
    )]
    pub rpms: Option<Vec<Text>>,
}

/// `buildopts:`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildOpts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpms: Option<RpmBuildOpts>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_list"
    )]
    pub arches: Option<Vec<Text>>,
}

/// `buildopts: rpms:`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RpmBuildOpts {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_text"
    )]
    pub macros: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_list"
    )]
    pub whitelist: Option<Vec<Text>>,
}

/// `components:`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Components {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpms: Option<BTreeMap<String, RpmComponent>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modules: Option<BTreeMap<String, ModuleComponent>>,
}

/// An RPM component: a source package built as part of the module.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RpmComponent {
    /// The SRPM name when it differs from the key.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_text"
    )]
    pub name: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_text"
    )]
    pub rationale: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_text"
    )]
    pub repository: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_text"
    )]
    pub cache: Option<String>,
    #[serde(
        rename = "ref",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_text"
    )]
    pub git_ref: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_i64"
    )]
    pub buildorder: Option<i64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_list"
    )]
    pub buildafter: Option<Vec<Text>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_bool"
    )]
    pub buildonly: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_bool"
    )]
    pub buildroot: Option<bool>,
    #[serde(
        rename = "srpm-buildroot",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_bool"
    )]
    pub srpm_buildroot: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_list"
    )]
    pub arches: Option<Vec<Text>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_list"
    )]
    pub multilib: Option<Vec<Text>>,
}

/// A module component (a module bundled into this one).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleComponent {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_text"
    )]
    pub rationale: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_text"
    )]
    pub repository: Option<String>,
    #[serde(
        rename = "ref",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_text"
    )]
    pub git_ref: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_i64"
    )]
    pub buildorder: Option<i64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_list"
    )]
    pub buildafter: Option<Vec<Text>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_bool"
    )]
    pub buildonly: Option<bool>,
}

/// `artifacts:` — the binary packages that make up the module.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifacts {
    /// `N-E:V-R.A` strings; the epoch is mandatory.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_list"
    )]
    pub rpms: Option<Vec<Text>>,
    #[serde(rename = "rpm-map", default, skip_serializing_if = "Option::is_none")]
    pub rpm_map: Option<BTreeMap<String, BTreeMap<String, RpmMapEntry>>>,
}

/// One `artifacts: rpm-map: <digest>: <checksum>:` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RpmMapEntry {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_text"
    )]
    pub name: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_u64"
    )]
    pub epoch: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_text"
    )]
    pub version: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_text"
    )]
    pub release: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_text"
    )]
    pub arch: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_text"
    )]
    pub nevra: Option<String>,
}

/// `data:` of a `document: modulemd-defaults`, `version: 1` document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_text"
    )]
    pub module: Option<String>,
    /// `YYYYMMDDHHMM`; the newer document wins when defaults are merged.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_u64"
    )]
    pub modified: Option<u64>,
    /// The default stream.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_text"
    )]
    pub stream: Option<String>,
    /// Stream → default profiles.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_list_map"
    )]
    pub profiles: Option<BTreeMap<String, Vec<Text>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intents: Option<BTreeMap<String, Intent>>,
}

/// A (deprecated) system intent inside modulemd-defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intent {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_text"
    )]
    pub stream: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_list_map"
    )]
    pub profiles: Option<BTreeMap<String, Vec<Text>>>,
}

/// A string read from any YAML scalar, keeping its literal text (`1.10` stays `1.10`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Text(pub String);

impl Text {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text(s.to_string())
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text(s)
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(TextVisitor).map(Text)
    }
}

struct TextVisitor;

impl Visitor<'_> for TextVisitor {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }
}

/// A present key is a string whatever its scalar says: `summary:` is the empty string and
/// `summary: ~` is `~`, as libmodulemd reads them; an absent key is `None`.
fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Text::deserialize(d).map(|t| Some(t.0))
}

/// Only `true` and `false`, as libmodulemd accepts.
struct BoolVisitor;

impl Visitor<'_> for BoolVisitor {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("true or false")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        match v {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(E::custom(format!(
                "`{other}` is neither `true` nor `false`"
            ))),
        }
    }
}

struct BoolField(bool);

impl<'de> Deserialize<'de> for BoolField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(BoolVisitor).map(BoolField)
    }
}

fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    BoolField::deserialize(d).map(|b| Some(b.0))
}

/// A list of strings; like libmodulemd, a single scalar is read as a one-element list.
struct List(Vec<Text>);

impl<'de> Deserialize<'de> for List {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ListVisitor).map(List)
    }
}

struct ListVisitor;

impl<'de> Visitor<'de> for ListVisitor {
    type Value = Vec<Text>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of strings")
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Text>, A::Error> {
        let mut out = Vec::new();
        while let Some(t) = seq.next_element::<Text>()? {
            out.push(t);
        }
        Ok(out)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<Text>, E> {
        Ok(vec![Text(v.to_string())])
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Vec<Text>, E> {
        Ok(vec![Text(v.to_string())])
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Vec<Text>, E> {
        Ok(vec![Text(v.to_string())])
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Vec<Text>, E> {
        Ok(vec![Text(v.to_string())])
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Vec<Text>, E> {
        Ok(vec![Text(v.to_string())])
    }
    /// An empty scalar is a list of one empty string, as libmodulemd reads it.
    fn visit_unit<E: de::Error>(self) -> Result<Vec<Text>, E> {
        Ok(vec![Text(String::new())])
    }
}

fn opt_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Text>>, D::Error> {
    List::deserialize(d).map(|l| Some(l.0))
}

fn opt_list_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<BTreeMap<String, Vec<Text>>>, D::Error> {
    BTreeMap::<String, List>::deserialize(d)
        .map(|m| Some(m.into_iter().map(|(k, v)| (k, v.0)).collect()))
}

/// An unsigned integer, plain or quoted.
struct U64Visitor;

impl Visitor<'_> for U64Visitor {
    type Value = u64;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a non-negative integer")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::custom(format!("{v} is negative")))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        parse_u64(v).map_err(E::custom)
    }
}

fn parse_u64(v: &str) -> Result<u64, String> {
    let t = v.trim();
    if let Some(rest) = t.strip_prefix('-')
        && !rest.is_empty()
        && rest.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!("`{v}` is negative"));
    }
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{v}` is not a valid integer"));
    }
    t.parse::<u64>()
        .map_err(|_| format!("`{v}` is larger than {}", u64::MAX))
}

struct I64Visitor;

impl Visitor<'_> for I64Visitor {
    type Value = i64;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::custom(format!("{v} is too large")))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        let t = v.trim();
        let digits = t.strip_prefix('-').unwrap_or(t);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(E::custom(format!("`{v}` is not a valid integer")));
        }
        t.parse::<i64>()
            .map_err(|_| E::custom(format!("`{v}` is out of range")))
    }
}

/// The visitors run inside `deserialize_str`, so serde_yaml marks their errors with the
/// scalar's own line and path.
struct U64Field(u64);

impl<'de> Deserialize<'de> for U64Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(U64Visitor).map(U64Field)
    }
}

struct I64Field(i64);

impl<'de> Deserialize<'de> for I64Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(I64Visitor).map(I64Field)
    }
}

fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    U64Field::deserialize(d).map(|f| Some(f.0))
}

fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    I64Field::deserialize(d).map(|f| Some(f.0))
}

/// The top level of one YAML document, generic over its `data:`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Document<T> {
    #[serde(deserialize_with = "req_text")]
    pub document: String,
    #[serde(deserialize_with = "req_u64")]
    pub version: u64,
    pub data: T,
}

fn req_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Text::deserialize(d).map(|t| t.0)
}

fn req_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    U64Field::deserialize(d).map(|f| f.0)
}

/// Helper for building string lists.
pub fn texts<I, S>(items: I) -> Vec<Text>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    items.into_iter().map(|s| Text(s.into())).collect()
}

impl ModuleStream {
    /// `NAME:STREAM:VERSION:CONTEXT:ARCH` with `?` for missing parts.
    pub fn nsvca(&self) -> String {
        let v = self.version.map(|v| v.to_string());
        [
            self.name.as_deref(),
            self.stream.as_deref(),
            v.as_deref(),
            self.context.as_deref(),
            self.arch.as_deref(),
        ]
        .iter()
        .map(|p| p.unwrap_or("?"))
        .collect::<Vec<_>>()
        .join(":")
    }
}

/// Serialize an index as a multi-document YAML stream (`---` … `...` per document), streams
/// first, then defaults.
pub fn write_index(index: &ModuleIndex) -> Result<String, serde_yaml::Error> {
    let mut out = String::new();
    for s in &index.streams {
        push_doc(
            &mut out,
            &Document {
                document: "modulemd".into(),
                version: 2,
                data: s,
            },
        )?;
    }
    for d in &index.defaults {
        push_doc(
            &mut out,
            &Document {
                document: "modulemd-defaults".into(),
                version: 1,
                data: d,
            },
        )?;
    }
    Ok(out)
}

fn push_doc<T: Serialize>(out: &mut String, doc: &Document<T>) -> Result<(), serde_yaml::Error> {
    out.push_str("---\n");
    out.push_str(&serde_yaml::to_string(doc)?);
    out.push_str("...\n");
    Ok(())
}
