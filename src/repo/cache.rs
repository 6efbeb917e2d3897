//! The incremental-update cache, `repodata/.copr-cache`.
//!
//! It keeps, per package, the reuse key createrepo_c uses (location, size, mtime) with the
//! rendered XML fragments, and per group of packages the compressed bytes of each metadata
//! file. Metadata files are concatenations of independently compressed groups (gzip members or
//! zstd frames, both valid single files for every reader), so an update recompresses only the
//! groups whose packages changed. The cache is a private, versioned binary file: when it is
//! missing, unreadable or from another version, the next run simply regenerates everything.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use super::package::PackageEntry;

const MAGIC: &[u8; 8] = b"COPRRC2\n";

/// File name of the cache inside `repodata/`.
pub const CACHE_FILE: &str = ".copr-cache";

/// What the cache holds.
#[derive(Debug, Default)]
pub struct Cache {
    /// Compression the group blobs use (`gz` or `zstd`).
    pub compression: String,
    /// Package entries by location.
    pub packages: HashMap<String, PackageEntry>,
    /// Compressed groups by key (sha256 of the group's identity and kind).
    pub groups: HashMap<[u8; 32], Vec<u8>>,
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
}

impl Cache {
    /// Load the cache; `None` when it is absent or unusable (the caller regenerates).
    pub fn load(path: &Path) -> Option<Cache> {
        let data = std::fs::read(path).ok()?;
        Self::decode(&data)
    }

    fn decode(data: &[u8]) -> Option<Cache> {
        let mut c = Cursor(data);
        if c.take(8)? != MAGIC {
            return None;
        }
        let compression = c.string()?;
        let n = c.u32()? as usize;
        let mut packages = HashMap::with_capacity(n);
        for _ in 0..n {
            let href = c.string()?;
            let e = PackageEntry {
                href: href.clone(),
                size: c.u64()?,
                mtime: c.u64()? as i64,
                pkgid: c.string()?,
                name: c.string()?,
                epoch: c.u64()?,
                version: c.string()?,
                release: c.string()?,
                arch: c.string()?,
                primary: c.string()?,
                filelists: c.string()?,
                other: c.string()?,
            };
            packages.insert(href, e);
        }
        let g = c.u32()? as usize;
        let mut groups = HashMap::with_capacity(g);
        for _ in 0..g {
            let key: [u8; 32] = c.take(32)?.try_into().ok()?;
            groups.insert(key, c.bytes()?.to_vec());
        }
        if !c.0.is_empty() {
            return None;
        }
        Some(Cache {
            compression,
            packages,
            groups,
        })
    }

    /// Serialise packages (in the given order) and groups.
    pub fn encode<'a>(
        compression: &str,
        packages: impl Iterator<Item = &'a PackageEntry>,
        groups: &[([u8; 32], &[u8])],
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 << 20);
        out.extend_from_slice(MAGIC);
        put(&mut out, compression.as_bytes());
        let count_at = out.len();
        out.extend_from_slice(&0u32.to_le_bytes());
        let mut n = 0u32;
        for e in packages {
            n += 1;
            put(&mut out, e.href.as_bytes());
            out.extend_from_slice(&e.size.to_le_bytes());
            out.extend_from_slice(&(e.mtime as u64).to_le_bytes());
            put(&mut out, e.pkgid.as_bytes());
            put(&mut out, e.name.as_bytes());
            out.extend_from_slice(&e.epoch.to_le_bytes());
            put(&mut out, e.version.as_bytes());
            put(&mut out, e.release.as_bytes());
            put(&mut out, e.arch.as_bytes());
            put(&mut out, e.primary.as_bytes());
            put(&mut out, e.filelists.as_bytes());
            put(&mut out, e.other.as_bytes());
        }
        out[count_at..count_at + 4].copy_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&(groups.len() as u32).to_le_bytes());
        for (k, b) in groups {
            out.extend_from_slice(k);
            put(&mut out, b);
        }
        out
    }
}

/// Write bytes to `path` (mode 0644) through a temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
    tmp.write_all(bytes)?;
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.persist(path).map_err(|e| {
        std::io::Error::new(e.error.kind(), format!("{}: {}", path.display(), e.error))
    })?;
    Ok(())
}
