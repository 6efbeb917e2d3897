//! One package → its primary, filelists and other XML fragments, following createrepo_c's rules
//! (`parsehdr.c`, `xml_dump_*.c`): dependency flags and `pre`, requires filtering, the primary
//! file filter, newest-10 changelogs written oldest first, header-range, sizes and times.

use std::fmt::Write as _;
use std::io::{self, Read};
use std::path::Path;

use openssl::sha::Sha256;

use super::cache::Chunk;
use super::header::{Header, HeaderError, RawPackage};
use super::xml::{escape_attr, escape_text, lossy};

// Main header tags.
const NAME: u32 = 1000;
const VERSION: u32 = 1001;
const RELEASE: u32 = 1002;
const EPOCH: u32 = 1003;
const SUMMARY: u32 = 1004;
const DESCRIPTION: u32 = 1005;
const BUILDTIME: u32 = 1006;
const BUILDHOST: u32 = 1007;
const SIZE: u32 = 1009;
const VENDOR: u32 = 1011;
const LICENSE: u32 = 1014;
const PACKAGER: u32 = 1015;
const GROUP: u32 = 1016;
const URL: u32 = 1020;
const ARCH: u32 = 1022;
const FILEMODES: u32 = 1030;
const FILEFLAGS: u32 = 1037;
const SOURCERPM: u32 = 1044;
const ARCHIVESIZE: u32 = 1046;
const PROVIDENAME: u32 = 1047;
const REQUIREFLAGS: u32 = 1048;
const REQUIRENAME: u32 = 1049;
const REQUIREVERSION: u32 = 1050;
const CONFLICTFLAGS: u32 = 1053;
const CONFLICTNAME: u32 = 1054;
const CONFLICTVERSION: u32 = 1055;
const CHANGELOGTIME: u32 = 1080;
const CHANGELOGNAME: u32 = 1081;
const CHANGELOGTEXT: u32 = 1082;
const OBSOLETENAME: u32 = 1090;
const SOURCEPACKAGE: u32 = 1106;
const PROVIDEFLAGS: u32 = 1112;
const PROVIDEVERSION: u32 = 1113;
const OBSOLETEFLAGS: u32 = 1114;
const OBSOLETEVERSION: u32 = 1115;
const DIRINDEXES: u32 = 1116;
const BASENAMES: u32 = 1117;
const DIRNAMES: u32 = 1118;
const LONGSIZE: u32 = 5009;
const RECOMMEND: (u32, u32, u32) = (5046, 5048, 5047);
const SUGGEST: (u32, u32, u32) = (5049, 5051, 5050);
const SUPPLEMENT: (u32, u32, u32) = (5052, 5054, 5053);
const ENHANCE: (u32, u32, u32) = (5055, 5057, 5056);
// Signature header tags that carry the archive size.
const SIG_PAYLOADSIZE: u32 = 1007;
const SIG_LONGARCHIVESIZE: u32 = 271;

// Dependency flag bits.
const SENSE_POSTTRANS: u64 = 1 << 5;
const SENSE_PREREQ: u64 = 1 << 6;
const SENSE_PRETRANS: u64 = 1 << 7;
const SENSE_SCRIPT_PRE: u64 = 1 << 9;
const SENSE_SCRIPT_POST: u64 = 1 << 10;
const SENSE_MISSINGOK: u64 = 1 << 19;
const FILE_GHOST: u64 = 1 << 6;

/// How many changelog entries other.xml keeps (createrepo_c's default).
pub const CHANGELOG_LIMIT: usize = 10;

/// Why a package could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("{0}")]
    Header(#[from] HeaderError),
    #[error("read failed: {0}")]
    Io(#[from] io::Error),
    #[error("the file changed while it was read")]
    Changed,
}

/// Everything the repository needs to know about one package: identity, reuse key and the
/// three XML fragments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageEntry {
    /// Location relative to the repository root, with `/` separators.
    pub href: String,
    pub size: u64,
    /// The reuse key of `--update`, together with `href` and `size`; its whole-second mtime is
    /// the one primary.xml records.
    pub stamp: FileStamp,
    /// sha256 of the whole file, hex.
    pub pkgid: String,
    pub name: String,
    pub epoch: u64,
    pub version: String,
    pub release: String,
    pub arch: String,
    /// The package's `<package>` element of primary.xml (UTF-8).
    pub primary: Chunk,
    /// The package's element of filelists.xml.
    pub filelists: Chunk,
    /// The package's element of other.xml.
    pub other: Chunk,
}

impl PackageEntry {
    /// `name-epoch:version-release.arch`, epoch always written (modulemd artifact form).
    pub fn nevra(&self) -> String {
        format!(
            "{}-{}:{}-{}.{}",
            self.name, self.epoch, self.version, self.release, self.arch
        )
    }

    /// Whether this entry still describes the file at `path` whose metadata is `meta`: same
    /// size and stamp, and, when the stamp was racy at `scan_ns` (the scan that recorded it),
    /// the same sha256 too.
    pub fn still_describes(&self, path: &Path, meta: &std::fs::Metadata, scan_ns: i64) -> bool {
        if meta.len() != self.size || FileStamp::of(meta) != self.stamp {
            return false;
        }
        !self.stamp.is_racy(scan_ns) || file_sha256(path).is_ok_and(|h| h == self.pkgid)
    }

    /// The basename of the location, used as the primary sort key (createrepo_c's order).
    pub fn basename(&self) -> &str {
        self.href.rsplit('/').next().unwrap_or(&self.href)
    }
}

struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    read: u64,
}

fn sha256(data: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(data);
    h.finish()
}

impl<R: Read> HashingReader<R> {
    /// Read (and hash) the rest of the input, through a per-thread buffer.
    fn drain(&mut self) -> io::Result<()> {
        BUFFER.with(|b| {
            let mut buf = b.borrow_mut();
            buf.resize(1 << 20, 0);
            while self.read(&mut buf)? != 0 {}
            Ok(())
        })
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.read += n as u64;
        Ok(n)
    }
}

/// Files up to this size are read with one call and hashed from memory.
const SLURP_LIMIT: u64 = 8 << 20;

thread_local! {
    static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The sha256 of a file's content, hex.
fn file_sha256(path: &Path) -> io::Result<String> {
    let mut reader = HashingReader {
        inner: std::fs::File::open(path)?,
        hasher: Sha256::new(),
        read: 0,
    };
    reader.drain()?;
    Ok(hex::encode(reader.hasher.finish()))
}

/// Read, hash and render one package file. `href` is its location in the repository.
pub fn read_package(path: &Path, href: &str) -> Result<PackageEntry, PackageError> {
    let mut file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    let size = meta.len();
    let stamp = FileStamp::of(&meta);
    let (raw, pkgid, read) = if size <= SLURP_LIMIT {
        let mut buf = Vec::with_capacity(size as usize + 1);
        file.read_to_end(&mut buf)?;
        let raw = RawPackage::read(&mut buf.as_slice())?;
        (raw, sha256(&buf), buf.len() as u64)
    } else {
        let mut reader = HashingReader {
            inner: io::BufReader::with_capacity(64 * 1024, file),
            hasher: Sha256::new(),
            read: 0,
        };
        let raw = RawPackage::read(&mut reader)?;
        reader.drain()?;
        let read = reader.read;
        (raw, reader.hasher.finish(), read)
    };
    if read != size {
        return Err(PackageError::Changed);
    }
    Ok(render(&raw, href, size, stamp, hex::encode(pkgid))?)
}

/// What tells one version of a file on disk from another. createrepo_c reuses an entry when
/// the location, size and mtime in whole seconds match, which misses a package replaced by one
/// of the same size within the same second (a re-signed or rebuilt RPM). The inode and the
/// nanosecond mtime and ctime are stricter: any write or rename changes the ctime, and the ctime
/// cannot be set back by a user. Hard links, chmod and extended attributes (librepo caches
/// checksums in them) change the ctime too; such packages are merely read again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileStamp {
    pub ino: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
}

impl FileStamp {
    pub fn of(meta: &std::fs::Metadata) -> FileStamp {
        use std::os::unix::fs::MetadataExt;
        let ns = |s: i64, n: i64| s.saturating_mul(1_000_000_000).saturating_add(n);
        FileStamp {
            ino: meta.ino(),
            mtime_ns: ns(meta.mtime(), meta.mtime_nsec()),
            ctime_ns: ns(meta.ctime(), meta.ctime_nsec()),
        }
    }

    /// Whether a later change could leave this stamp as it is, because the file changed so
    /// close to `scan_ns` (when it was looked at) that the file system's timestamp granularity
    /// hides a second change (Git's "racy clean" problem). Racy stamps are not trusted later.
    /// Kernels stamp files from a coarse clock (one tick, at most 10 ms); file systems without
    /// sub-second timestamps show whole seconds.
    pub fn is_racy(&self, scan_ns: i64) -> bool {
        let granularity = if self.ctime_ns % 1_000_000_000 == 0 {
            2_000_000_000
        } else {
            100_000_000
        };
        self.ctime_ns.saturating_add(granularity) >= scan_ns
    }

    /// Whole seconds of the mtime, as createrepo_c records it.
    pub fn mtime_secs(&self) -> i64 {
        self.mtime_ns.div_euclid(1_000_000_000)
    }
}

fn s<'a>(h: &Header<'a>, tag: u32) -> std::borrow::Cow<'a, str> {
    lossy(h.string_bytes(tag).unwrap_or(b""))
}

struct Dep<'a> {
    name: std::borrow::Cow<'a, str>,
    flags: u64,
    version: std::borrow::Cow<'a, str>,
}

fn deps<'a>(h: &Header<'a>, (n, f, v): (u32, u32, u32)) -> Vec<Dep<'a>> {
    let names = h.string_array(n);
    let flags = h.ints(f);
    let versions = h.string_array(v);
    names
        .into_iter()
        .enumerate()
        .map(|(i, name)| Dep {
            name: lossy(name),
            flags: flags.get(i).copied().unwrap_or(0),
            version: lossy(versions.get(i).copied().unwrap_or(b"")),
        })
        .collect()
}

fn flag_name(flags: u64) -> Option<&'static str> {
    match flags & 0xf {
        2 => Some("LT"),
        4 => Some("GT"),
        8 => Some("EQ"),
        10 => Some("LE"),
        12 => Some("GE"),
        _ => None,
    }
}

/// Split `[epoch:]version[-release]` like createrepo_c's `cr_str_to_evr`.
fn split_evr(evr: &str) -> (&str, &str, Option<&str>) {
    let (epoch, rest) = match evr.split_once(':') {
        Some((e, r)) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) => (e, r),
        Some((_, r)) => ("0", r),
        None => ("0", evr),
    };
    match rest.rsplit_once('-') {
        Some((v, r)) => (epoch, v, Some(r)),
        None => (epoch, rest, None),
    }
}

/// Whether a file path goes into primary.xml (createrepo_c's `cr_is_primary`).
pub fn is_primary_file(path: &str) -> bool {
    path.starts_with("/etc/") || path == "/usr/lib/sendmail" || path.contains("bin/")
}

/// Compare two version strings the way rpm does (rpmvercmp).
pub fn rpmvercmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        while let Some(&c) = a.first() {
            if c.is_ascii_alphanumeric() || c == b'~' || c == b'^' {
                break;
            }
            a = &a[1..];
        }
        while let Some(&c) = b.first() {
            if c.is_ascii_alphanumeric() || c == b'~' || c == b'^' {
                break;
            }
            b = &b[1..];
        }
        match (a.first(), b.first()) {
            (Some(b'~'), Some(b'~')) => {
                a = &a[1..];
                b = &b[1..];
                continue;
            }
            (Some(b'~'), _) => return Less,
            (_, Some(b'~')) => return Greater,
            (Some(b'^'), Some(b'^')) => {
                a = &a[1..];
                b = &b[1..];
                continue;
            }
            (Some(b'^'), None) => return Greater,
            (None, Some(b'^')) => return Less,
            (Some(b'^'), _) => return Less,
            (_, Some(b'^')) => return Greater,
            (None, None) => return Equal,
            (None, _) => return Less,
            (_, None) => return Greater,
            _ => {}
        }
        let numeric = a[0].is_ascii_digit();
        let take = |s: &[u8]| {
            s.iter()
                .position(|c| {
                    if numeric {
                        !c.is_ascii_digit()
                    } else {
                        !c.is_ascii_alphabetic()
                    }
                })
                .unwrap_or(s.len())
        };
        let (la, lb) = (take(a), take(b));
        let (sa, sb) = (&a[..la], &b[..lb]);
        if lb == 0 {
            return if numeric { Greater } else { Less };
        }
        let ord = if numeric {
            let ta = trim_zeros(sa);
            let tb = trim_zeros(sb);
            ta.len().cmp(&tb.len()).then(ta.cmp(tb))
        } else {
            sa.cmp(sb)
        };
        if ord != Equal {
            return ord;
        }
        a = &a[la..];
        b = &b[lb..];
    }
}

fn trim_zeros(s: &[u8]) -> &[u8] {
    let i = s.iter().position(|&c| c != b'0').unwrap_or(s.len());
    &s[i..]
}

fn write_entry(out: &mut String, d: &Dep<'_>, pre: bool) {
    let _ = write!(out, "      <rpm:entry name=\"{}\"", escape_attr(&d.name));
    if let Some(f) = flag_name(d.flags) {
        let _ = write!(out, " flags=\"{f}\"");
    }
    if !d.version.is_empty() {
        let (e, v, r) = split_evr(&d.version);
        let _ = write!(
            out,
            " epoch=\"{}\" ver=\"{}\"",
            escape_attr(e),
            escape_attr(v)
        );
        if let Some(r) = r {
            let _ = write!(out, " rel=\"{}\"", escape_attr(r));
        }
    }
    if pre {
        out.push_str(" pre=\"1\"");
    }
    out.push_str("/>\n");
}

fn write_deps(out: &mut String, element: &str, list: &[(Dep<'_>, bool)]) {
    if list.is_empty() {
        return;
    }
    let _ = writeln!(out, "    <rpm:{element}>");
    for (d, pre) in list {
        write_entry(out, d, *pre);
    }
    let _ = writeln!(out, "    </rpm:{element}>");
}

struct FileInfo {
    path: String,
    kind: Option<&'static str>,
}

fn files(h: &Header<'_>) -> Vec<FileInfo> {
    let basenames = h.string_array(BASENAMES);
    let dirindexes = h.ints(DIRINDEXES);
    let dirnames = h.string_array(DIRNAMES);
    let modes = h.ints(FILEMODES);
    let flags = h.ints(FILEFLAGS);
    basenames
        .iter()
        .enumerate()
        .map(|(i, base)| {
            let dir = dirindexes
                .get(i)
                .and_then(|&d| dirnames.get(d as usize))
                .copied()
                .unwrap_or(b"");
            let mut path = String::with_capacity(dir.len() + base.len());
            path.push_str(&lossy(dir));
            path.push_str(&lossy(base));
            let mode = modes.get(i).copied().unwrap_or(0);
            let kind = if mode & 0o170000 == 0o040000 {
                Some("dir")
            } else if flags.get(i).copied().unwrap_or(0) & FILE_GHOST != 0 {
                Some("ghost")
            } else {
                None
            };
            FileInfo { path, kind }
        })
        .collect()
}

fn write_files(out: &mut String, indent: &str, files: &[FileInfo], primary_only: bool) {
    for f in files {
        if primary_only && !is_primary_file(&f.path) {
            continue;
        }
        match f.kind {
            Some(k) => {
                let _ = writeln!(
                    out,
                    "{indent}<file type=\"{k}\">{}</file>",
                    escape_text(&f.path)
                );
            }
            None => {
                let _ = writeln!(out, "{indent}<file>{}</file>", escape_text(&f.path));
            }
        }
    }
}

/// Render a parsed package into its repository entry.
pub fn render(
    raw: &RawPackage,
    href: &str,
    size: u64,
    stamp: FileStamp,
    pkgid: String,
) -> Result<PackageEntry, HeaderError> {
    let mtime = stamp.mtime_secs();
    let h = raw.header()?;
    let sig = raw.signature()?;
    let name = s(&h, NAME).into_owned();
    let version = s(&h, VERSION).into_owned();
    let release = s(&h, RELEASE).into_owned();
    let epoch = h.int(EPOCH).unwrap_or(0);
    let is_source = h.find(SOURCEPACKAGE).is_some() || h.find(SOURCERPM).is_none();
    let arch = if is_source {
        "src".to_string()
    } else {
        s(&h, ARCH).into_owned()
    };
    let files = files(&h);
    let archive = sig
        .int(SIG_LONGARCHIVESIZE)
        .or_else(|| sig.int(SIG_PAYLOADSIZE))
        .or_else(|| h.int(ARCHIVESIZE))
        .unwrap_or(0);
    let installed = h.int(LONGSIZE).or_else(|| h.int(SIZE)).unwrap_or(0);

    let provides = deps(&h, (PROVIDENAME, PROVIDEFLAGS, PROVIDEVERSION));
    let mut recommends: Vec<(Dep<'_>, bool)> = Vec::new();
    let mut requires: Vec<(Dep<'_>, bool)> = Vec::new();
    {
        use std::collections::HashSet;
        let own_files: HashSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
        let own_provides: HashSet<(&str, u64, &str)> = provides
            .iter()
            .map(|p| (p.name.as_ref(), p.flags & 0xf, p.version.as_ref()))
            .collect();
        let mut seen: HashSet<(String, u64, String, bool)> = HashSet::new();
        let mut libc: Option<(Dep<'_>, bool)> = None;
        for d in deps(&h, (REQUIRENAME, REQUIREFLAGS, REQUIREVERSION)) {
            if d.name.starts_with("rpmlib(") {
                continue;
            }
            if d.name.starts_with('/')
                && own_files.contains(d.name.as_ref())
                && is_primary_file(&d.name)
            {
                continue;
            }
            if own_provides.contains(&(d.name.as_ref(), d.flags & 0xf, d.version.as_ref())) {
                continue;
            }
            if d.flags & SENSE_MISSINGOK != 0 {
                recommends.push((d, false));
                continue;
            }
            let pre = d.flags
                & (SENSE_PREREQ
                    | SENSE_SCRIPT_PRE
                    | SENSE_SCRIPT_POST
                    | SENSE_PRETRANS
                    | SENSE_POSTTRANS)
                != 0;
            if !seen.insert((
                d.name.to_string(),
                d.flags & 0xf,
                d.version.to_string(),
                pre,
            )) {
                continue;
            }
            if d.name.starts_with("libc.so.6") {
                let replace = match &libc {
                    None => true,
                    Some((best, _)) => {
                        rpmvercmp(paren(&best.name), paren(&d.name)) == std::cmp::Ordering::Less
                    }
                };
                if replace {
                    libc = Some((d, pre));
                }
                continue;
            }
            requires.push((d, pre));
        }
        if let Some(l) = libc {
            requires.push(l);
        }
    }
    for d in deps(&h, RECOMMEND) {
        recommends.push((d, false));
    }
    let plain =
        |t| -> Vec<(Dep<'_>, bool)> { deps(&h, t).into_iter().map(|d| (d, false)).collect() };

    let e = escape_text;
    let a = escape_attr;
    let mut p = String::with_capacity(2048);
    let _ = write!(
        p,
        "<package type=\"rpm\">\n  <name>{}</name>\n  <arch>{}</arch>\n  \
         <version epoch=\"{epoch}\" ver=\"{}\" rel=\"{}\"/>\n  \
         <checksum type=\"sha256\" pkgid=\"YES\">{pkgid}</checksum>\n  \
         <summary>{}</summary>\n  <description>{}</description>\n  \
         <packager>{}</packager>\n  <url>{}</url>\n  \
         <time file=\"{mtime}\" build=\"{}\"/>\n  \
         <size package=\"{size}\" installed=\"{installed}\" archive=\"{archive}\"/>\n  \
         <location href=\"{}\"/>\n  <format>\n    \
         <rpm:license>{}</rpm:license>\n    <rpm:vendor>{}</rpm:vendor>\n    \
         <rpm:group>{}</rpm:group>\n    <rpm:buildhost>{}</rpm:buildhost>\n    \
         <rpm:sourcerpm>{}</rpm:sourcerpm>\n    \
         <rpm:header-range start=\"{}\" end=\"{}\"/>\n",
        e(&name),
        e(&arch),
        a(&version),
        a(&release),
        e(&s(&h, SUMMARY)),
        e(&s(&h, DESCRIPTION)),
        e(&s(&h, PACKAGER)),
        e(&s(&h, URL)),
        h.int(BUILDTIME).unwrap_or(0),
        a(href),
        e(&s(&h, LICENSE)),
        e(&s(&h, VENDOR)),
        e(&s(&h, GROUP)),
        e(&s(&h, BUILDHOST)),
        e(&if is_source {
            std::borrow::Cow::Borrowed("")
        } else {
            s(&h, SOURCERPM)
        }),
        raw.layout.header_start,
        raw.layout.payload_start,
    );
    let provides: Vec<(Dep<'_>, bool)> = provides.into_iter().map(|d| (d, false)).collect();
    write_deps(&mut p, "provides", &provides);
    write_deps(&mut p, "requires", &requires);
    write_deps(
        &mut p,
        "conflicts",
        &plain((CONFLICTNAME, CONFLICTFLAGS, CONFLICTVERSION)),
    );
    write_deps(
        &mut p,
        "obsoletes",
        &plain((OBSOLETENAME, OBSOLETEFLAGS, OBSOLETEVERSION)),
    );
    write_deps(&mut p, "suggests", &plain(SUGGEST));
    write_deps(&mut p, "enhances", &plain(ENHANCE));
    write_deps(&mut p, "recommends", &recommends);
    write_deps(&mut p, "supplements", &plain(SUPPLEMENT));
    write_files(&mut p, "    ", &files, true);
    p.push_str("  </format>\n</package>\n");

    let key = format!(
        "<package pkgid=\"{pkgid}\" name=\"{}\" arch=\"{}\">\n  \
         <version epoch=\"{epoch}\" ver=\"{}\" rel=\"{}\"/>\n",
        a(&name),
        a(&arch),
        a(&version),
        a(&release)
    );
    let mut f = String::with_capacity(key.len() + files.len() * 48);
    f.push_str(&key);
    write_files(&mut f, "  ", &files, false);
    f.push_str("</package>\n");

    let mut o = String::with_capacity(key.len() + 256);
    o.push_str(&key);
    let times = h.ints(CHANGELOGTIME);
    let names = h.string_array(CHANGELOGNAME);
    let texts = h.string_array(CHANGELOGTEXT);
    let n = times.len().min(names.len()).min(texts.len());
    for i in (0..n.min(CHANGELOG_LIMIT)).rev() {
        let _ = writeln!(
            o,
            "  <changelog author=\"{}\" date=\"{}\">{}</changelog>",
            a(&lossy(names[i])),
            times[i],
            e(&lossy(texts[i]))
        );
    }
    o.push_str("</package>\n");

    Ok(PackageEntry {
        href: href.to_string(),
        size,
        stamp,
        pkgid,
        name,
        epoch,
        version,
        release,
        arch,
        primary: p.into(),
        filelists: f.into(),
        other: o.into(),
    })
}

/// The text inside the first parentheses (`libc.so.6(GLIBC_2.34)(64bit)` → `GLIBC_2.34`).
fn paren(s: &str) -> &str {
    s.split_once('(')
        .and_then(|(_, r)| r.split_once(')'))
        .map(|(v, _)| v)
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering::*;

    #[test]
    fn evr_split_follows_createrepo_c() {
        assert_eq!(split_evr("2:0.5-3"), ("2", "0.5", Some("3")));
        assert_eq!(split_evr("1.0"), ("0", "1.0", None));
        assert_eq!(split_evr("1.0-1-2"), ("0", "1.0-1", Some("2")));
    }

    #[test]
    fn vercmp_matches_rpm() {
        assert_eq!(rpmvercmp("1.0", "1.0"), Equal);
        assert_eq!(rpmvercmp("1.10", "1.9"), Greater);
        assert_eq!(rpmvercmp("1.0~rc1", "1.0"), Less);
        assert_eq!(rpmvercmp("1.0^git1", "1.0"), Greater);
        assert_eq!(rpmvercmp("GLIBC_2.34", "GLIBC_2.4"), Greater);
        assert_eq!(rpmvercmp("a", "1"), Less);
    }

    #[test]
    fn primary_filter() {
        assert!(is_primary_file("/etc/x.conf"));
        assert!(is_primary_file("/usr/sbin/x"));
        assert!(is_primary_file("/opt/foo/bin/x"));
        assert!(is_primary_file("/usr/lib/sendmail"));
        assert!(!is_primary_file("/usr/share/doc/x"));
        assert!(!is_primary_file("/etc"));
    }
}
