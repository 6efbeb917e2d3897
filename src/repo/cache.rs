//! The incremental-update cache: `repodata/.copr-cache` (index) and an append-only blob,
//! `repodata/.copr-cache-<generation>.blob`.
//!
//! The index keeps, per package, its reuse key (location, size and a [`FileStamp`], stricter
//! than createrepo_c's whole-second mtime), its identity and where its rendered XML fragments
//! lie in the blob; and, per group of packages, where the compressed bytes of each metadata
//! file's group lie. Metadata files are concatenations of independently compressed groups
//! (gzip members or zstd frames, both valid single files for every reader), so an update
//! recompresses only the groups whose packages changed, appends the new fragments and groups
//! to the blob and rewrites only the small index.
//! The blob is rewritten from scratch on cold runs and when more than half of it is garbage.
//! When the cache is missing, unreadable or from another version, the next run regenerates
//! everything.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::package::{FileStamp, PackageEntry};

const MAGIC: &[u8; 8] = b"COPRRC5\n";

/// File name of the cache index inside `repodata/`.
pub const CACHE_FILE: &str = ".copr-cache";

/// The loaded blob: mapped into memory, so that an update touches only the pages of the
/// fragments and groups it actually copies (an update of one package in 10,000 reads a small
/// part of a blob of tens of MB), or read when it cannot be mapped.
///
/// Mapping is sound here because copr never truncates or rewrites a blob in place: it is only
/// appended to (which leaves the mapped range as it is) by a run holding the repository lock; a
/// new generation gets a new file name, and old ones are unlinked (a mapping keeps an unlinked
/// file's pages). Only something outside copr truncating the file while it is mapped would
/// make reads of the lost range fail (SIGBUS).
#[derive(Debug)]
pub enum Blob {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

impl std::ops::Deref for Blob {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Blob::Mapped(m) => m,
            Blob::Read(v) => v,
        }
    }
}

impl Blob {
    fn open(path: &Path) -> std::io::Result<Blob> {
        let file = std::fs::File::open(path)?;
        // SAFETY: see the type's documentation: copr never modifies a blob's existing bytes.
        match unsafe { memmap2::Mmap::map(&file) } {
            Ok(m) => Ok(Blob::Mapped(m)),
            Err(_) => {
                use std::io::Read;
                let mut v = Vec::new();
                (&file).read_to_end(&mut v)?;
                Ok(Blob::Read(v))
            }
        }
    }
}

/// Bytes that are either owned or a range of the loaded blob.
#[derive(Debug, Clone)]
pub enum Chunk {
    Owned(Vec<u8>),
    Shared {
        buf: Arc<Blob>,
        start: usize,
        len: usize,
    },
}

impl Chunk {
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Chunk::Owned(v) => v,
            Chunk::Shared { buf, start, len } => &buf[*start..*start + *len],
        }
    }

    /// The chunk's range when it lies in `blob`.
    fn range_in(&self, blob: &Arc<Blob>) -> Option<(u64, u32)> {
        match self {
            Chunk::Shared { buf, start, len } if Arc::ptr_eq(buf, blob) => {
                Some((*start as u64, *len as u32))
            }
            _ => None,
        }
    }
}

impl PartialEq for Chunk {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Chunk {}

impl From<String> for Chunk {
    fn from(s: String) -> Self {
        Chunk::Owned(s.into_bytes())
    }
}

/// What the cache holds.
#[derive(Debug, Default)]
pub struct Cache {
    /// Compression the group blobs use (`gz` or `zstd`).
    pub compression: String,
    /// Package entries by location.
    pub packages: HashMap<String, PackageEntry>,
    /// When the run that wrote the cache looked at the packages (ns since the epoch); entries
    /// whose stamp is racy against it are verified by checksum before reuse.
    pub scan_ns: i64,
    /// Compressed groups by key (sha256 of the group's identity and kind).
    pub groups: HashMap<[u8; 32], Chunk>,
    /// The loaded blob and its file name.
    blob: Option<(Arc<Blob>, String)>,
}

fn put(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    fn string(&mut self) -> Option<String> {
        String::from_utf8(self.bytes()?.to_vec()).ok()
    }
    fn chunk(&mut self, blob: &Arc<Blob>) -> Option<Chunk> {
        let start = self.u64()? as usize;
        let len = self.u32()? as usize;
        if start.checked_add(len)? > blob.len() {
            return None;
        }
        Some(Chunk::Shared {
            buf: blob.clone(),
            start,
            len,
        })
    }
}

impl Cache {
    /// Load the cache of `repodata`; `None` when it is absent or unusable.
    pub fn load(repodata: &Path) -> Option<Cache> {
        let index = std::fs::read(repodata.join(CACHE_FILE)).ok()?;
        let mut c = Cursor(&index);
        if c.take(8)? != MAGIC {
            return None;
        }
        let compression = c.string()?;
        let scan_ns = c.u64()? as i64;
        let blob_name = c.string()?;
        if blob_name.contains('/') || !blob_name.starts_with(".copr-cache-") {
            return None;
        }
        let blob = Arc::new(Blob::open(&repodata.join(&blob_name)).ok()?);
        let n = c.u32()? as usize;
        let mut packages = HashMap::with_capacity(n);
        for _ in 0..n {
            let href = c.string()?;
            let e = PackageEntry {
                href: href.clone(),
                size: c.u64()?,
                stamp: FileStamp {
                    ino: c.u64()?,
                    mtime_ns: c.u64()? as i64,
                    ctime_ns: c.u64()? as i64,
                },
                pkgid: c.string()?,
                name: c.string()?,
                epoch: c.u64()?,
                version: c.string()?,
                release: c.string()?,
                arch: c.string()?,
                primary: c.chunk(&blob)?,
                filelists: c.chunk(&blob)?,
                other: c.chunk(&blob)?,
            };
            packages.insert(href, e);
        }
        let g = c.u32()? as usize;
        let mut groups = HashMap::with_capacity(g);
        for _ in 0..g {
            let key: [u8; 32] = c.take(32)?.try_into().ok()?;
            groups.insert(key, c.chunk(&blob)?);
        }
        if !c.0.is_empty() {
            return None;
        }
        Some(Cache {
            compression,
            scan_ns,
            packages,
            groups,
            blob: Some((blob, blob_name)),
        })
    }

    /// Write the cache for `entries` (in order) and `groups`: fragments and groups not yet in
    /// the loaded blob are appended to it (or everything goes into a fresh blob when there is
    /// none or it is mostly garbage), then the index is replaced atomically. `scan_ns` is the
    /// wall-clock time (ns since the epoch) before the packages were looked at.
    pub fn save(
        &self,
        repodata: &Path,
        scan_ns: i64,
        compression: &str,
        entries: &[PackageEntry],
        groups: &[([u8; 32], Chunk)],
    ) -> std::io::Result<()> {
        let live: u64 = entries
            .iter()
            .map(|e| {
                (e.primary.as_bytes().len()
                    + e.filelists.as_bytes().len()
                    + e.other.as_bytes().len()) as u64
            })
            .sum::<u64>()
            + groups
                .iter()
                .map(|(_, g)| g.as_bytes().len() as u64)
                .sum::<u64>();
        let reuse = self.blob.as_ref().filter(|(b, _)| {
            let appended: u64 = entries
                .iter()
                .flat_map(|e| [&e.primary, &e.filelists, &e.other])
                .chain(groups.iter().map(|(_, g)| g))
                .filter(|c| c.range_in(b).is_none())
                .map(|c| c.as_bytes().len() as u64)
                .sum();
            b.len() as u64 + appended <= 2 * live + (4 << 20)
        });
        let (base, blob_name) = match reuse {
            Some((b, name)) => (b.len() as u64, name.clone()),
            None => (
                0,
                format!(".copr-cache-{:016x}.blob", rand::random::<u64>()),
            ),
        };
        let shared = reuse.map(|(b, _)| b);
        let mut tail: Vec<u8> = Vec::new();
        let place = |c: &Chunk, tail: &mut Vec<u8>| -> (u64, u32) {
            if let Some(b) = shared
                && let Some(r) = c.range_in(b)
            {
                return r;
            }
            let off = base + tail.len() as u64;
            tail.extend_from_slice(c.as_bytes());
            (off, c.as_bytes().len() as u32)
        };
        let mut index = Vec::with_capacity(64 + entries.len() * 160 + groups.len() * 48);
        index.extend_from_slice(MAGIC);
        put(&mut index, compression.as_bytes());
        index.extend_from_slice(&(scan_ns as u64).to_le_bytes());
        put(&mut index, blob_name.as_bytes());
        index.extend_from_slice(&(entries.len() as u32).to_le_bytes());
        for e in entries {
            put(&mut index, e.href.as_bytes());
            index.extend_from_slice(&e.size.to_le_bytes());
            index.extend_from_slice(&e.stamp.ino.to_le_bytes());
            index.extend_from_slice(&(e.stamp.mtime_ns as u64).to_le_bytes());
            index.extend_from_slice(&(e.stamp.ctime_ns as u64).to_le_bytes());
            put(&mut index, e.pkgid.as_bytes());
            put(&mut index, e.name.as_bytes());
            index.extend_from_slice(&e.epoch.to_le_bytes());
            put(&mut index, e.version.as_bytes());
            put(&mut index, e.release.as_bytes());
            put(&mut index, e.arch.as_bytes());
            for c in [&e.primary, &e.filelists, &e.other] {
                let (off, len) = place(c, &mut tail);
                index.extend_from_slice(&off.to_le_bytes());
                index.extend_from_slice(&len.to_le_bytes());
            }
        }
        index.extend_from_slice(&(groups.len() as u32).to_le_bytes());
        for (k, g) in groups {
            index.extend_from_slice(k);
            let (off, len) = place(g, &mut tail);
            index.extend_from_slice(&off.to_le_bytes());
            index.extend_from_slice(&len.to_le_bytes());
        }
        let blob_path: PathBuf = repodata.join(&blob_name);
        if shared.is_some() {
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&blob_path)
                .map_err(|e| with_path(&blob_path, e))?;
            // A blob that grew behind our back (an interrupted run) is not ours to append to.
            if f.metadata()?.len() != base {
                drop(f);
                return Cache::default().save(repodata, scan_ns, compression, entries, groups);
            }
            f.write_all(&tail).map_err(|e| with_path(&blob_path, e))?;
        } else {
            write_atomic(&blob_path, &tail)?;
        }
        write_atomic(&repodata.join(CACHE_FILE), &index)?;
        if shared.is_none() {
            // Blobs of earlier generations are garbage now.
            for e in std::fs::read_dir(repodata)?.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with(".copr-cache-") && name.ends_with(".blob") && name != blob_name
                {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        Ok(())
    }
}

fn with_path(path: &Path, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// Write bytes to `path` (mode 0644) through a temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(|e| with_path(dir, e))?;
    tmp.write_all(bytes)?;
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.persist(path).map_err(|e| with_path(path, e.error))?;
    Ok(())
}
