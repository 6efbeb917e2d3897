//! RPM header signatures written the way `rpmsign --addsign` 4.18 writes them: a header-only
//! OpenPGP signature in RSAHEADER (268) or DSAHEADER (267, also EdDSA), with RESERVEDSPACE
//! (1008) shrunk so the signature header keeps its size and the file is rewritten in place.
//! Digests (SHA1, SHA256, MD5, PAYLOADSIZE, sizes) are kept as they are: the main header and
//! payload do not change.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::header::{Header, HeaderError, IndexEntry, RawPackage, TYPE_BIN, pad8};
use super::keys::{KeyError, SigningKey};

const REGION: u32 = 62;
const DSAHEADER: u32 = 267;
const RSAHEADER: u32 = 268;
const OPENPGP: u32 = 278;
const RESERVEDSPACE: u32 = 1008;

/// Errors of package signing.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Package {
        path: PathBuf,
        #[source]
        source: HeaderError,
    },
    #[error("{}: {source}", path.display())]
    Key {
        path: PathBuf,
        #[source]
        source: KeyError,
    },
}

/// What happened to one package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignOutcome {
    /// Signed in place within the reserved space.
    Signed,
    /// Signed; the package had no room reserved, so it was rewritten and grew.
    SignedRewritten,
    /// Already carried a header signature by this key; left alone.
    AlreadySigned,
}

/// Whether `path` already carries a header signature made by `key`.
pub fn is_signed_by(path: &Path, key: &SigningKey) -> Result<bool, SignError> {
    let raw = read_raw(path)?;
    let sig = raw.signature().map_err(|source| SignError::Package {
        path: path.to_path_buf(),
        source,
    })?;
    Ok([RSAHEADER, DSAHEADER]
        .iter()
        .filter_map(|t| sig.bin(*t))
        .any(|b| key.issued(b)))
}

fn read_raw(path: &Path) -> Result<RawPackage, SignError> {
    let f = std::fs::File::open(path).map_err(|source| SignError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    RawPackage::read(&mut std::io::BufReader::new(f)).map_err(|source| SignError::Package {
        path: path.to_path_buf(),
        source,
    })
}

/// Sign one package in place. With `force`, an existing signature by the same key is replaced.
pub fn sign_rpm(path: &Path, key: &SigningKey, force: bool) -> Result<SignOutcome, SignError> {
    let raw = read_raw(path)?;
    let pkg_err = |source| SignError::Package {
        path: path.to_path_buf(),
        source,
    };
    let sig = raw.signature().map_err(pkg_err)?;
    if !force
        && [RSAHEADER, DSAHEADER]
            .iter()
            .filter_map(|t| sig.bin(*t))
            .any(|b| key.issued(b))
    {
        return Ok(SignOutcome::AlreadySigned);
    }
    let signature = key
        .sign_binary(raw.header_bytes())
        .map_err(|source| SignError::Key {
            path: path.to_path_buf(),
            source,
        })?;
    let tag = if key.is_rsa() { RSAHEADER } else { DSAHEADER };
    let old_size = raw.layout.sig_size + pad8(raw.layout.sig_size);
    let (bytes, fits) = rebuild(&sig, tag, &signature, old_size).map_err(pkg_err)?;
    let io = |source| SignError::Io {
        path: path.to_path_buf(),
        source,
    };
    if fits {
        debug_assert_eq!(bytes.len(), old_size);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(io)?;
        f.seek(SeekFrom::Start(raw.layout.sig_start as u64))
            .map_err(io)?;
        f.write_all(&bytes).map_err(io)?;
        f.sync_data().map_err(io)?;
        Ok(SignOutcome::Signed)
    } else {
        // No reserved space: write lead + new signature header + the rest to a new file.
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut tmp = tempfile::Builder::new()
            .prefix(".tmp-sign-")
            .tempfile_in(dir)
            .map_err(io)?;
        let mut src = std::fs::File::open(path).map_err(io)?;
        let perms = src.metadata().map_err(io)?.permissions();
        tmp.write_all(&raw.bytes[..raw.layout.sig_start])
            .map_err(io)?;
        tmp.write_all(&bytes).map_err(io)?;
        src.seek(SeekFrom::Start(raw.layout.header_start as u64))
            .map_err(io)?;
        let mut rest = Vec::new();
        src.read_to_end(&mut rest).map_err(io)?;
        tmp.write_all(&rest).map_err(io)?;
        tmp.as_file().set_permissions(perms).map_err(io)?;
        tmp.persist(path).map_err(|e| io(e.error))?;
        Ok(SignOutcome::SignedRewritten)
    }
}

fn entry_len(h: &Header<'_>, e: &IndexEntry, next_offsets: &[u32]) -> usize {
    let data = h.data();
    let start = e.offset as usize;
    let n = e.count as usize;
    match e.kind {
        0 => 0,
        1 | 2 | TYPE_BIN => n,
        3 => 2 * n,
        4 => 4 * n,
        5 => 8 * n,
        6 | 8 | 9 => {
            let mut pos = start;
            for _ in 0..n.max(1) {
                let rel = data[pos.min(data.len())..]
                    .iter()
                    .position(|&b| b == 0)
                    .unwrap_or(data.len() - pos.min(data.len()));
                pos += rel + 1;
            }
            pos - start
        }
        _ => {
            // Unknown type: take everything up to the next entry.
            next_offsets
                .iter()
                .copied()
                .filter(|&o| o as usize > start)
                .min()
                .map(|o| o as usize - start)
                .unwrap_or(data.len() - start)
        }
    }
}

fn align(kind: u32) -> usize {
    match kind {
        3 => 2,
        4 => 4,
        5 => 8,
        _ => 1,
    }
}

/// Lay out a new signature header with `tag` set to `signature`, old header signatures and
/// reserved space dropped, then give back as much reserved space as makes the header exactly
/// `target` bytes long. Returns (bytes, fits); when it does not fit, the header is written
/// without reserved space (the caller rewrites the file).
fn rebuild(
    sig: &Header<'_>,
    tag: u32,
    signature: &[u8],
    target: usize,
) -> Result<(Vec<u8>, bool), HeaderError> {
    let all: Vec<IndexEntry> = sig.entries().collect();
    let offsets: Vec<u32> = all.iter().map(|e| e.offset).collect();
    let has_region = all.first().map(|e| e.tag == REGION).unwrap_or(false);
    // (tag, kind, count, data)
    let mut items: Vec<(u32, u32, u32, Vec<u8>)> = Vec::new();
    for e in &all {
        if matches!(
            e.tag,
            REGION | RSAHEADER | DSAHEADER | OPENPGP | RESERVEDSPACE
        ) {
            continue;
        }
        let len = entry_len(sig, e, &offsets);
        let data = sig
            .data()
            .get(e.offset as usize..e.offset as usize + len)
            .ok_or_else(|| {
                HeaderError::Corrupt("signature header", format!("tag {} overruns data", e.tag))
            })?;
        items.push((e.tag, e.kind, e.count, data.to_vec()));
    }
    items.push((tag, TYPE_BIN, signature.len() as u32, signature.to_vec()));
    items.sort_by_key(|i| i.0);

    let layout = |reserved: Option<usize>| -> Vec<u8> {
        let mut list: Vec<(u32, u32, u32, &[u8])> = items
            .iter()
            .map(|(t, k, c, d)| (*t, *k, *c, d.as_slice()))
            .collect();
        let zeros = vec![0u8; reserved.unwrap_or(0)];
        if reserved.is_some() {
            list.push((RESERVEDSPACE, TYPE_BIN, zeros.len() as u32, &zeros));
            list.sort_by_key(|i| i.0);
        }
        let il = list.len() + has_region as usize;
        let mut index = Vec::with_capacity(il * 16);
        let mut data = Vec::new();
        for (t, k, c, d) in &list {
            while data.len() % align(*k) != 0 {
                data.push(0);
            }
            index.extend_from_slice(&t.to_be_bytes());
            index.extend_from_slice(&k.to_be_bytes());
            index.extend_from_slice(&(data.len() as u32).to_be_bytes());
            index.extend_from_slice(&c.to_be_bytes());
            data.extend_from_slice(d);
        }
        let mut region_entry = Vec::new();
        if has_region {
            let off = data.len() as u32;
            data.extend_from_slice(&REGION.to_be_bytes());
            data.extend_from_slice(&TYPE_BIN.to_be_bytes());
            data.extend_from_slice(&(-((il * 16) as i32)).to_be_bytes());
            data.extend_from_slice(&16u32.to_be_bytes());
            region_entry.extend_from_slice(&REGION.to_be_bytes());
            region_entry.extend_from_slice(&TYPE_BIN.to_be_bytes());
            region_entry.extend_from_slice(&off.to_be_bytes());
            region_entry.extend_from_slice(&16u32.to_be_bytes());
        }
        let mut out = Vec::with_capacity(16 + il * 16 + data.len() + 8);
        out.extend_from_slice(&[0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0]);
        out.extend_from_slice(&(il as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(&region_entry);
        out.extend_from_slice(&index);
        out.extend_from_slice(&data);
        let pad = pad8(out.len());
        out.resize(out.len() + pad, 0);
        out
    };

    let without = layout(Some(0));
    if without.len() - pad8_back(&without) <= target {
        let unpadded = without.len() - pad8_back(&without);
        let mut reserved = target - unpadded;
        // Alignment of later entries can shift the total; search downwards for an exact fit.
        for _ in 0..16 {
            let candidate = layout(Some(reserved));
            if candidate.len() == target {
                return Ok((candidate, true));
            }
            if reserved == 0 {
                break;
            }
            reserved -= 1;
        }
    }
    Ok((layout(None), false))
}

/// Padding bytes at the end of a laid-out header (0..7), recomputed from its intro.
fn pad8_back(h: &[u8]) -> usize {
    let il = u32::from_be_bytes(h[8..12].try_into().expect("4 bytes")) as usize;
    let dl = u32::from_be_bytes(h[12..16].try_into().expect("4 bytes")) as usize;
    h.len() - (16 + il * 16 + dl)
}
