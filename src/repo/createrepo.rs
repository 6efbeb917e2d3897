//! Generate rpm-md repodata for a directory of RPMs: parallel cold runs, cheap incremental
//! updates, atomic publication.
//!
//! Publication order: new metadata files (unique, checksum-prefixed names) are written first,
//! then `repomd.xml.asc`, then `repomd.xml` by rename, and only then are the files the previous
//! `repomd.xml` referenced removed. A client reading at any moment sees either the old or the new
//! repository. Every package is read before anything is written, so a bad package leaves the
//! previous repodata untouched.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::cache::{Cache, Chunk, write_atomic};
use super::keys::SigningKey;
use super::package::{PackageEntry, PackageError, read_package};
use crate::reporter::{Event, Reporter};

/// Compression of the metadata files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// gzip (`.xml.gz`), readable by every dnf and yum.
    #[default]
    Gz,
    /// zstd (`.xml.zst`), createrepo_c ≥ 1.0's default; dnf 4 on Debian 12 and Fedora read it.
    Zstd,
}

impl Compression {
    pub fn suffix(self) -> &'static str {
        match self {
            Compression::Gz => "gz",
            Compression::Zstd => "zst",
        }
    }
    fn id(self) -> &'static str {
        match self {
            Compression::Gz => "gz",
            Compression::Zstd => "zstd",
        }
    }
    /// Compress one independent member (gzip member or zstd frame).
    pub fn compress(self, data: &[u8]) -> Vec<u8> {
        match self {
            Compression::Gz => {
                let mut enc = flate2::write::GzEncoder::new(
                    Vec::with_capacity(data.len() / 4 + 64),
                    flate2::Compression::default(),
                );
                enc.write_all(data).expect("writing to memory");
                enc.finish().expect("writing to memory")
            }
            Compression::Zstd => zstd::bulk::compress(data, 10).expect("zstd on memory"),
        }
    }
}

/// Options of one generation run.
#[derive(Debug, Clone, Default)]
pub struct CreaterepoOptions<'a> {
    /// Reuse entries of unchanged packages from the cache of the previous run.
    pub update: bool,
    /// Worker threads for reading packages and compressing (default: all cores).
    pub workers: Option<usize>,
    pub compression: Compression,
    /// Sign `repomd.xml` with this key (`repodata/repomd.xml.asc`).
    pub sign_key: Option<&'a SigningKey>,
    /// A modules.yaml to publish as `type="modules"`; by default `DIR/modules.yaml` is used when
    /// it exists.
    pub modules_yaml: Option<PathBuf>,
    /// `<revision>` and timestamps; default SOURCE_DATE_EPOCH or the current time.
    pub revision: Option<u64>,
}

/// Errors of repository generation.
#[derive(Debug, thiserror::Error)]
pub enum CreaterepoError {
    #[error("{} is not a directory", .0.display())]
    NotADirectory(PathBuf),
    #[error("{count} package(s) could not be read; the repository was not changed:\n{list}")]
    BadPackages { count: usize, list: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("signing repomd.xml failed: {0}")]
    Sign(String),
    #[error("could not start worker threads: {0}")]
    Threads(String),
}

impl CreaterepoError {
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CreaterepoError + '_ {
        move |source| CreaterepoError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// One metadata record of repomd.xml.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RepomdRecord {
    #[serde(rename = "type")]
    pub kind: String,
    pub location: String,
    pub checksum: String,
    pub open_checksum: String,
    pub size: u64,
    pub open_size: u64,
}

/// What a run did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RepoReport {
    pub directory: PathBuf,
    pub packages: usize,
    /// Packages read and hashed in this run (the rest came from the cache).
    pub packages_read: usize,
    pub packages_reused: usize,
    pub compression: Compression,
    pub revision: u64,
    pub signed: bool,
    pub records: Vec<RepomdRecord>,
    pub seconds: f64,
    /// Every package, sorted as in primary.xml.
    #[serde(skip)]
    pub entries: Vec<PackageEntry>,
}

/// The `*.rpm` files under `dir` as (path, href), skipping `repodata/` and hidden directories,
/// sorted by basename then location like createrepo_c.
pub fn find_packages(dir: &Path) -> Result<Vec<(PathBuf, String)>, CreaterepoError> {
    let mut out = Vec::new();
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0
                || !(e.file_type().is_dir()
                    && (e.file_name() == "repodata"
                        || e.file_name().to_string_lossy().starts_with('.')))
        });
    for e in walker {
        let e = e.map_err(|e| {
            let path = e.path().unwrap_or(dir).to_path_buf();
            CreaterepoError::Io {
                path,
                source: e
                    .into_io_error()
                    .unwrap_or_else(|| std::io::Error::other("directory loop")),
            }
        })?;
        let name = e.file_name().to_string_lossy();
        if !name.ends_with(".rpm") || name.starts_with('.') || e.file_type().is_dir() {
            continue;
        }
        let rel = e.path().strip_prefix(dir).unwrap_or(e.path());
        let href = rel.to_string_lossy().replace('\\', "/");
        out.push((e.path().to_path_buf(), href));
    }
    out.sort_by(|a, b| {
        let ba = a.1.rsplit('/').next().unwrap_or(&a.1);
        let bb = b.1.rsplit('/').next().unwrap_or(&b.1);
        ba.cmp(bb).then_with(|| a.1.cmp(&b.1))
    });
    Ok(out)
}

/// Generate (or update) the repodata of `dir`.
pub fn createrepo(
    dir: &Path,
    opts: &CreaterepoOptions<'_>,
    reporter: &dyn Reporter,
) -> Result<RepoReport, CreaterepoError> {
    let started = Instant::now();
    if !dir.is_dir() {
        return Err(CreaterepoError::NotADirectory(dir.to_path_buf()));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.workers.unwrap_or(0))
        .build()
        .map_err(|e| CreaterepoError::Threads(e.to_string()))?;
    pool.install(|| run(dir, opts, reporter, started))
}

fn run(
    dir: &Path,
    opts: &CreaterepoOptions<'_>,
    reporter: &dyn Reporter,
    started: Instant,
) -> Result<RepoReport, CreaterepoError> {
    let repodata = dir.join("repodata");
    fs_err::create_dir_all(&repodata).map_err(|e| CreaterepoError::Io {
        path: repodata.clone(),
        source: std::io::Error::new(e.kind(), e.to_string()),
    })?;
    // One writer per repository at a time (e.g. two builds of a chroot finishing together);
    // the lock is released when the file is closed at the end of the run.
    let lock_path = repodata.join(".copr-lock");
    let _lock = lock_exclusive(&lock_path).map_err(CreaterepoError::io(&lock_path))?;
    let scan_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64);
    // Loading the cache and walking the tree are independent: do them side by side.
    let (cache, files) = rayon::join(
        || {
            if opts.update {
                Cache::load(&repodata)
            } else {
                None
            }
        },
        || find_packages(dir),
    );
    let mut cache = cache.unwrap_or_default();
    let files = files?;
    tracing::debug!(
        ms = started.elapsed().as_millis() as u64,
        "cache loaded, tree walked"
    );
    reporter.event(Event::StageStarted {
        stage: "createrepo",
        detail: Some(&format!("{} packages", files.len())),
    });

    // Candidates for reuse are moved out of the cache; each is kept only if the file's size and
    // stamp (inode, mtime and ctime to the nanosecond) still match, and for packages that changed
    // just before the previous scan, the checksum too. Every other package is read and hashed;
    // all failures are collected.
    let candidates: Vec<Option<PackageEntry>> = files
        .iter()
        .map(|(_, href)| cache.packages.remove(href))
        .collect();
    let results: Vec<(Result<PackageEntry, PackageError>, bool)> = files
        .par_iter()
        .zip(candidates.into_par_iter())
        .map(|((path, href), old)| {
            if let Some(old) = old
                && let Ok(meta) = std::fs::metadata(path)
                && old.still_describes(path, &meta, cache.scan_ns)
            {
                return (Ok(old), true);
            }
            (read_package(path, href), false)
        })
        .collect();
    tracing::debug!(ms = started.elapsed().as_millis() as u64, "packages read");
    let mut entries = Vec::with_capacity(results.len());
    let mut bad = Vec::new();
    let mut reused = 0;
    for ((path, _), (r, was_cached)) in files.iter().zip(results) {
        match r {
            Ok(e) => {
                reused += was_cached as usize;
                entries.push(e);
            }
            Err(e) => bad.push(format!("  {}: {e}", path.display())),
        }
    }
    if !bad.is_empty() {
        reporter.event(Event::StageFinished {
            stage: "createrepo",
            ok: false,
            message: Some("unreadable packages"),
        });
        return Err(CreaterepoError::BadPackages {
            count: bad.len(),
            list: bad.join("\n"),
        });
    }
    // Identical copies share a pkgid; keep the first like createrepo_c.
    let mut seen = HashSet::new();
    let before = entries.len();
    entries.retain(|e| seen.insert(e.pkgid.clone()));
    if entries.len() != before {
        reporter.event(Event::Warning {
            message: &format!(
                "{} duplicate package(s) with identical content ignored",
                before - entries.len()
            ),
        });
    }

    let revision = opts.revision.unwrap_or_else(|| {
        std::env::var("SOURCE_DATE_EPOCH")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0)
            })
    });

    let compression = opts.compression;
    let groups = group_bounds(&entries);
    let cached_groups = if cache.compression == compression.id() {
        &cache.groups
    } else {
        &Default::default()
    };
    // (kind, group) work items compressed in parallel, or taken from the cache.
    let kinds = [Kind::Primary, Kind::Filelists, Kind::Other];
    let items: Vec<(usize, usize)> = (0..kinds.len())
        .flat_map(|k| (0..groups.len()).map(move |g| (k, g)))
        .collect();
    let blobs: Vec<([u8; 32], Chunk)> = items
        .par_iter()
        .map(|&(k, g)| {
            let members = &entries[groups[g].clone()];
            let key = group_key(kinds[k], members);
            if let Some(b) = cached_groups.get(&key) {
                return (key, b.clone());
            }
            let mut text = Vec::with_capacity(members.len() * 1024);
            for e in members {
                text.extend_from_slice(kinds[k].fragment(e));
            }
            (key, Chunk::Owned(compression.compress(&text)))
        })
        .collect();

    tracing::debug!(
        ms = started.elapsed().as_millis() as u64,
        "groups compressed"
    );
    let old_locations = old_repomd_locations(&repodata.join("repomd.xml"));
    let mut written: Vec<PathBuf> = Vec::new();
    let result = (|| {
        let mut records = Vec::new();
        // Assemble and checksum the three files in parallel, then write them.
        let assembled: Vec<(Vec<u8>, String, u64)> = kinds
            .par_iter()
            .enumerate()
            .map(|(k, kind)| {
                let head = kind.head(entries.len());
                let tail = kind.tail();
                let mut open = openssl::sha::Sha256::new();
                let mut open_size = head.len() as u64 + tail.len() as u64;
                open.update(head.as_bytes());
                for e in &entries {
                    let f = kind.fragment(e);
                    open.update(f);
                    open_size += f.len() as u64;
                }
                open.update(tail.as_bytes());
                let parts = &blobs[k * groups.len()..(k + 1) * groups.len()];
                let head_c = compression.compress(head.as_bytes());
                let tail_c = compression.compress(tail.as_bytes());
                let mut all = Vec::with_capacity(
                    head_c.len()
                        + tail_c.len()
                        + parts.iter().map(|(_, p)| p.as_bytes().len()).sum::<usize>(),
                );
                all.extend_from_slice(&head_c);
                for (_, p) in parts {
                    all.extend_from_slice(p.as_bytes());
                }
                all.extend_from_slice(&tail_c);
                (all, hex::encode(open.finish()), open_size)
            })
            .collect();
        for (kind, (all, open_checksum, open_size)) in kinds.iter().zip(assembled) {
            let rec = write_record(
                &repodata,
                kind.name(),
                &format!("xml.{}", compression.suffix()),
                &all,
                open_checksum,
                open_size,
                &mut written,
            )?;
            records.push(rec);
        }
        let modules = opts
            .modules_yaml
            .clone()
            .or_else(|| Some(dir.join("modules.yaml")).filter(|p| p.is_file()));
        if let Some(m) = modules {
            let yaml = fs_err::read(&m).map_err(|e| CreaterepoError::Io {
                path: m.clone(),
                source: std::io::Error::new(e.kind(), e.to_string()),
            })?;
            let c = compression.compress(&yaml);
            let rec = write_record(
                &repodata,
                "modules",
                &format!("yaml.{}", compression.suffix()),
                &c,
                hex::encode(Sha256::digest(&yaml)),
                yaml.len() as u64,
                &mut written,
            )?;
            records.push(rec);
        }
        let repomd = render_repomd(revision, &records);
        let asc_path = repodata.join("repomd.xml.asc");
        if let Some(key) = opts.sign_key {
            let asc = key
                .sign_detached_armored(repomd.as_bytes())
                .map_err(|e| CreaterepoError::Sign(e.to_string()))?;
            write_atomic(&asc_path, &asc).map_err(CreaterepoError::io(&asc_path))?;
        }
        let repomd_path = repodata.join("repomd.xml");
        write_atomic(&repomd_path, repomd.as_bytes()).map_err(CreaterepoError::io(&repomd_path))?;
        Ok(records)
    })();
    let records = match result {
        Ok(r) => r,
        Err(e) => {
            // Remove what this run added; the old repomd.xml still points at the old files.
            for p in &written {
                let rel = format!(
                    "repodata/{}",
                    p.file_name().unwrap_or_default().to_string_lossy()
                );
                if !old_locations.contains(&rel) {
                    let _ = std::fs::remove_file(p);
                }
            }
            return Err(e);
        }
    };
    if opts.sign_key.is_none() {
        // A signature of an older repomd.xml would now be wrong.
        let _ = std::fs::remove_file(repodata.join("repomd.xml.asc"));
    }
    let new_locations: HashSet<&str> = records.iter().map(|r| r.location.as_str()).collect();
    for loc in &old_locations {
        if !new_locations.contains(loc.as_str())
            && let Some(name) = loc.strip_prefix("repodata/")
            && !name.contains('/')
        {
            let _ = std::fs::remove_file(repodata.join(name));
        }
    }
    tracing::debug!(
        ms = started.elapsed().as_millis() as u64,
        "metadata published"
    );
    // The cache is an optimisation: failing to write it only costs the next update its speed.
    if let Err(e) = cache.save(&repodata, scan_ns, compression.id(), &entries, &blobs) {
        reporter.event(Event::Warning {
            message: &format!("could not write the update cache: {e}"),
        });
    }
    tracing::debug!(ms = started.elapsed().as_millis() as u64, "cache written");
    let report = RepoReport {
        directory: dir.to_path_buf(),
        packages: entries.len(),
        packages_read: entries.len() - reused,
        packages_reused: reused,
        compression,
        revision,
        signed: opts.sign_key.is_some(),
        records,
        seconds: started.elapsed().as_secs_f64(),
        entries,
    };
    reporter.event(Event::StageFinished {
        stage: "createrepo",
        ok: true,
        message: Some(&format!(
            "{} packages ({} read, {} reused)",
            report.packages, report.packages_read, report.packages_reused
        )),
    });
    Ok(report)
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Primary,
    Filelists,
    Other,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Primary => "primary",
            Kind::Filelists => "filelists",
            Kind::Other => "other",
        }
    }
    fn fragment(self, e: &PackageEntry) -> &[u8] {
        match self {
            Kind::Primary => e.primary.as_bytes(),
            Kind::Filelists => e.filelists.as_bytes(),
            Kind::Other => e.other.as_bytes(),
        }
    }
    fn head(self, n: usize) -> String {
        match self {
            Kind::Primary => format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata \
                 xmlns=\"http://linux.duke.edu/metadata/common\" \
                 xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\" packages=\"{n}\">\n"
            ),
            Kind::Filelists => format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<filelists \
                 xmlns=\"http://linux.duke.edu/metadata/filelists\" packages=\"{n}\">\n"
            ),
            Kind::Other => format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<otherdata \
                 xmlns=\"http://linux.duke.edu/metadata/other\" packages=\"{n}\">\n"
            ),
        }
    }
    fn tail(self) -> &'static str {
        match self {
            Kind::Primary => "</metadata>",
            Kind::Filelists => "</filelists>",
            Kind::Other => "</otherdata>",
        }
    }
}

/// Split the sorted packages into groups whose boundaries depend on content only (a group ends
/// after a package whose pkgid falls in 1/64 of the hash space), so adding or removing one
/// package changes only the group it lands in.
fn group_bounds(entries: &[PackageEntry]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, e) in entries.iter().enumerate() {
        let b = u8::from_str_radix(e.pkgid.get(..2).unwrap_or("00"), 16).unwrap_or(0);
        if b % 64 == 0 || i + 1 - start >= 512 {
            out.push(start..i + 1);
            start = i + 1;
        }
    }
    if start < entries.len() {
        out.push(start..entries.len());
    }
    out
}

fn group_key(kind: Kind, members: &[PackageEntry]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(kind.name().as_bytes());
    for e in members {
        h.update(e.pkgid.as_bytes());
        h.update(e.href.as_bytes());
        h.update([0]);
        h.update(e.size.to_le_bytes());
        h.update(e.stamp.mtime_secs().to_le_bytes());
    }
    h.finalize().into()
}

fn write_record(
    repodata: &Path,
    kind: &str,
    ext: &str,
    bytes: &[u8],
    open_checksum: String,
    open_size: u64,
    written: &mut Vec<PathBuf>,
) -> Result<RepomdRecord, CreaterepoError> {
    let checksum = hex::encode(openssl::sha::sha256(bytes));
    let name = format!("{checksum}-{kind}.{ext}");
    let path = repodata.join(&name);
    write_atomic(&path, bytes).map_err(CreaterepoError::io(&path))?;
    written.push(path);
    Ok(RepomdRecord {
        kind: kind.to_string(),
        location: format!("repodata/{name}"),
        checksum,
        open_checksum,
        size: bytes.len() as u64,
        open_size,
    })
}

fn render_repomd(revision: u64, records: &[RepomdRecord]) -> String {
    use std::fmt::Write as _;
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<repomd \
         xmlns=\"http://linux.duke.edu/metadata/repo\" \
         xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\">\n",
    );
    let _ = writeln!(s, "  <revision>{revision}</revision>");
    for r in records {
        let _ = write!(
            s,
            "  <data type=\"{}\">\n    <checksum type=\"sha256\">{}</checksum>\n    \
             <open-checksum type=\"sha256\">{}</open-checksum>\n    \
             <location href=\"{}\"/>\n    <timestamp>{revision}</timestamp>\n    \
             <size>{}</size>\n    <open-size>{}</open-size>\n  </data>\n",
            r.kind, r.checksum, r.open_checksum, r.location, r.size, r.open_size
        );
    }
    s.push_str("</repomd>\n");
    s
}

/// Open (creating) `path` and hold an exclusive `flock` on it until the file is dropped.
pub(crate) fn lock_exclusive(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::fd::AsRawFd;
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    // SAFETY: flock on a file descriptor we own for the lifetime of the call.
    if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(f)
}

/// Locations referenced by an existing repomd.xml (empty when there is none).
fn old_repomd_locations(path: &Path) -> HashSet<String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return HashSet::new();
    };
    let re = regex::Regex::new(r#"<location[^>]*href="([^"]+)""#).expect("valid regex");
    re.captures_iter(&text).map(|c| c[1].to_string()).collect()
}
