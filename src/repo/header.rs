//! A minimal, zero-copy reader of the RPM v4 file layout: lead, signature header, main header.
//!
//! Only what repodata generation and header signing need: locate the sections, look tags up and
//! decode their values. Reading borrows from one buffer holding the lead and both headers, so a
//! package is parsed without allocating per tag.

use std::io::Read;

/// Size of the legacy lead that starts every RPM file.
pub const LEAD_SIZE: usize = 96;
const LEAD_MAGIC: [u8; 4] = [0xed, 0xab, 0xee, 0xdb];
const HEADER_MAGIC: [u8; 4] = [0x8e, 0xad, 0xe8, 0x01];
/// Upper bounds that reject garbage before allocating (rpm uses the same limits).
const MAX_INDEX_ENTRIES: u32 = 0x0000_ffff;
const MAX_DATA_SIZE: u32 = 0x0fff_ffff;

/// Header data types.
pub const TYPE_INT16: u32 = 3;
pub const TYPE_INT32: u32 = 4;
pub const TYPE_INT64: u32 = 5;
pub const TYPE_STRING: u32 = 6;
pub const TYPE_BIN: u32 = 7;
pub const TYPE_STRING_ARRAY: u32 = 8;
pub const TYPE_I18NSTRING: u32 = 9;

/// Why bytes are not a readable RPM package.
#[derive(Debug, thiserror::Error)]
pub enum HeaderError {
    #[error("not an RPM package (bad lead magic)")]
    NotRpm,
    #[error("file is truncated (ends inside the {0})")]
    Truncated(&'static str),
    #[error("corrupt {0}: {1}")]
    Corrupt(&'static str, String),
    #[error("read failed: {0}")]
    Io(#[from] std::io::Error),
}

/// One index entry of a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexEntry {
    pub tag: u32,
    pub kind: u32,
    pub offset: u32,
    pub count: u32,
}

/// A parsed header borrowing its index and data store.
#[derive(Debug, Clone, Copy)]
pub struct Header<'a> {
    index: &'a [u8],
    data: &'a [u8],
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

impl<'a> Header<'a> {
    /// Parse a header starting at `bytes[0]` (its magic). Returns the header and its total size
    /// (16 + index + data, without padding).
    pub fn parse(bytes: &'a [u8], what: &'static str) -> Result<(Self, usize), HeaderError> {
        let (il, dl) = Self::sizes(bytes, what)?;
        let total = 16 + il * 16 + dl;
        if bytes.len() < total {
            return Err(HeaderError::Truncated(what));
        }
        let index = &bytes[16..16 + il * 16];
        let data = &bytes[16 + il * 16..total];
        let header = Header { index, data };
        for e in header.entries() {
            if e.offset as usize > dl {
                return Err(HeaderError::Corrupt(
                    what,
                    format!("tag {} points outside the data store", e.tag),
                ));
            }
        }
        Ok((header, total))
    }

    /// Read the intro of a header: (index entry count, data size).
    pub fn sizes(bytes: &[u8], what: &'static str) -> Result<(usize, usize), HeaderError> {
        if bytes.len() < 16 {
            return Err(HeaderError::Truncated(what));
        }
        if bytes[..4] != HEADER_MAGIC {
            return Err(HeaderError::Corrupt(what, "bad header magic".into()));
        }
        let il = be32(&bytes[8..12]);
        let dl = be32(&bytes[12..16]);
        if il == 0 || il > MAX_INDEX_ENTRIES || dl > MAX_DATA_SIZE {
            return Err(HeaderError::Corrupt(
                what,
                format!("implausible sizes ({il} entries, {dl} bytes)"),
            ));
        }
        Ok((il as usize, dl as usize))
    }

    /// All index entries, in file order.
    pub fn entries(&self) -> impl Iterator<Item = IndexEntry> + 'a {
        self.index.chunks_exact(16).map(|c| IndexEntry {
            tag: be32(&c[0..4]),
            kind: be32(&c[4..8]),
            offset: be32(&c[8..12]),
            count: be32(&c[12..16]),
        })
    }

    /// The data store.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    pub fn find(&self, tag: u32) -> Option<IndexEntry> {
        self.entries().find(|e| e.tag == tag)
    }

    fn tail(&self, e: &IndexEntry) -> &'a [u8] {
        &self.data[(e.offset as usize).min(self.data.len())..]
    }

    /// Raw bytes of a BIN entry.
    pub fn bin(&self, tag: u32) -> Option<&'a [u8]> {
        let e = self.find(tag)?;
        if e.kind != TYPE_BIN {
            return None;
        }
        self.tail(&e).get(..e.count as usize)
    }

    /// Raw bytes of a string (first one for arrays and i18n strings); invalid UTF-8 is returned
    /// as bytes so the caller can decide how to recover.
    pub fn string_bytes(&self, tag: u32) -> Option<&'a [u8]> {
        let e = self.find(tag)?;
        match e.kind {
            TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING => {
                let t = self.tail(&e);
                let end = t.iter().position(|&b| b == 0).unwrap_or(t.len());
                Some(&t[..end])
            }
            _ => None,
        }
    }

    /// Every string of a string array (or the single string of a string entry).
    pub fn string_array(&self, tag: u32) -> Vec<&'a [u8]> {
        let Some(e) = self.find(tag) else {
            return Vec::new();
        };
        if !matches!(e.kind, TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING) {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(e.count as usize);
        let mut t = self.tail(&e);
        for _ in 0..e.count {
            let end = t.iter().position(|&b| b == 0).unwrap_or(t.len());
            out.push(&t[..end]);
            t = &t[(end + 1).min(t.len())..];
        }
        out
    }

    /// Integer array of any width, widened to u64.
    pub fn ints(&self, tag: u32) -> Vec<u64> {
        let Some(e) = self.find(tag) else {
            return Vec::new();
        };
        let t = self.tail(&e);
        let n = e.count as usize;
        match e.kind {
            TYPE_INT16 => t
                .chunks_exact(2)
                .take(n)
                .map(|c| u16::from_be_bytes([c[0], c[1]]) as u64)
                .collect(),
            TYPE_INT32 => t.chunks_exact(4).take(n).map(|c| be32(c) as u64).collect(),
            TYPE_INT64 => t
                .chunks_exact(8)
                .take(n)
                .map(|c| u64::from_be_bytes(c.try_into().expect("8 bytes")))
                .collect(),
            2 | 1 => t.iter().take(n).map(|&b| b as u64).collect(),
            _ => Vec::new(),
        }
    }

    /// First integer of an entry.
    pub fn int(&self, tag: u32) -> Option<u64> {
        self.ints(tag).first().copied()
    }
}

/// The sections of an RPM file as byte offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Start of the signature header (always 96).
    pub sig_start: usize,
    /// Size of the signature header without its padding.
    pub sig_size: usize,
    /// Start of the main header (= header-range start).
    pub header_start: usize,
    /// End of the main header = start of the payload (= header-range end).
    pub payload_start: usize,
}

/// Lead and both headers of a package, read into one buffer.
#[derive(Debug)]
pub struct RawPackage {
    pub bytes: Vec<u8>,
    pub layout: Layout,
}

impl RawPackage {
    /// Read the lead and headers from a reader positioned at the start of the file. Exactly
    /// `layout.payload_start` bytes are consumed, so the caller can continue with the payload.
    pub fn read(r: &mut impl Read) -> Result<Self, HeaderError> {
        let mut bytes = vec![0u8; LEAD_SIZE + 16];
        let mut got = 0;
        while got < bytes.len() {
            match r.read(&mut bytes[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(HeaderError::Io(e)),
            }
        }
        if got < 4 || bytes[..4] != LEAD_MAGIC {
            return Err(HeaderError::NotRpm);
        }
        if got < bytes.len() {
            return Err(HeaderError::Truncated("lead"));
        }
        let (il, dl) = Header::sizes(&bytes[LEAD_SIZE..], "signature header")?;
        let sig_size = 16 + il * 16 + dl;
        let header_start = LEAD_SIZE + sig_size + pad8(sig_size);
        bytes.resize(header_start + 16, 0);
        read_exact_or(r, &mut bytes[LEAD_SIZE + 16..], "signature header")?;
        let (il, dl) = Header::sizes(&bytes[header_start..], "main header")?;
        let payload_start = header_start + 16 + il * 16 + dl;
        let have = bytes.len();
        bytes.resize(payload_start, 0);
        read_exact_or(r, &mut bytes[have..], "main header")?;
        let raw = RawPackage {
            bytes,
            layout: Layout {
                sig_start: LEAD_SIZE,
                sig_size,
                header_start,
                payload_start,
            },
        };
        // Validate both headers once.
        raw.signature()?;
        raw.header()?;
        Ok(raw)
    }

    pub fn signature(&self) -> Result<Header<'_>, HeaderError> {
        Header::parse(
            &self.bytes[self.layout.sig_start..self.layout.sig_start + self.layout.sig_size],
            "signature header",
        )
        .map(|(h, _)| h)
    }

    pub fn header(&self) -> Result<Header<'_>, HeaderError> {
        Header::parse(&self.bytes[self.layout.header_start..], "main header").map(|(h, _)| h)
    }

    /// The main header's bytes (what a header-only signature covers).
    pub fn header_bytes(&self) -> &[u8] {
        &self.bytes[self.layout.header_start..self.layout.payload_start]
    }
}

/// Padding that aligns a signature header of `size` bytes to 8.
pub fn pad8(size: usize) -> usize {
    (8 - size % 8) % 8
}

fn read_exact_or(r: &mut impl Read, buf: &mut [u8], what: &'static str) -> Result<(), HeaderError> {
    match r.read_exact(buf) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Err(HeaderError::Truncated(what))
        }
        Err(e) => Err(HeaderError::Io(e)),
    }
}
