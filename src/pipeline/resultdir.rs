//! The result directory: Copr's layout, build id allocation, `results.json`.
//!
//! ```text
//! <resultdir>/
//!   .build-id                    counter (locked with flock while allocating)
//!   .work/<random>/              scratch space of running builds, removed afterwards
//!   srpm-builds/<id 8 digits>/   SRPM, builder-live.log, results.json, success
//!   <chroot>/<id 8 digits>-<name>/  RPMs, SRPM, builder-live.log, results.json, success
//! ```

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

use super::PipelineError;
use crate::job::Nevra;

/// The counter file of allocated build ids.
const COUNTER: &str = ".build-id";
/// Scratch directories of running builds.
pub const WORK: &str = ".work";
/// SRPM builds, as in Copr.
pub const SRPM_BUILDS: &str = "srpm-builds";

/// `00000042`
pub fn id_dir_name(id: u64) -> String {
    format!("{id:08}")
}

/// Allocate the next build id in `resultdir` and create its `srpm-builds/<id>/` directory.
///
/// The counter file is held under an exclusive `flock` while it is read and rewritten, so
/// concurrent builds into one result directory never get the same id. Ids already present in
/// `srpm-builds/` are skipped too, so a deleted counter cannot cause reuse. For the same reason
/// the counter is not fsynced: if a crash loses its last update, it also loses that build's
/// `srpm-builds/<id>/` (or keeps it, and then the id is skipped), so no surviving result
/// shares an id with a later build.
pub fn allocate_build_id(resultdir: &Path) -> Result<(u64, PathBuf), PipelineError> {
    let path = resultdir.join(COUNTER);
    let io = |source| PipelineError::Io {
        path: path.clone(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    let mut file = Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, errno)| io(std::io::Error::from(errno)))?;
    let mut text = String::new();
    file.read_to_string(&mut text).map_err(io)?;
    let last: u64 = text.trim().parse().unwrap_or(0);
    let srpm_builds = resultdir.join(SRPM_BUILDS);
    let existing = fs_err::read_dir(&srpm_builds)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    let id = last.max(existing) + 1;
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    file.set_len(0).map_err(io)?;
    writeln!(file, "{id}").map_err(io)?;
    let dir = srpm_builds.join(id_dir_name(id));
    fs_err::create_dir_all(&dir).map_err(PipelineError::from_io)?;
    Ok((id, dir))
}

/// Claim `srpm-builds/<id>/` for an id assigned elsewhere (a server); it must not exist yet.
pub fn claim_build_id(resultdir: &Path, id: u64) -> Result<PathBuf, PipelineError> {
    let parent = resultdir.join(SRPM_BUILDS);
    fs_err::create_dir_all(&parent).map_err(PipelineError::from_io)?;
    let dir = parent.join(id_dir_name(id));
    match std::fs::create_dir(&dir) {
        Ok(()) => Ok(dir),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(PipelineError::BuildIdTaken { id, dir })
        }
        Err(source) => Err(PipelineError::Io { path: dir, source }),
    }
}

/// `<resultdir>/<chroot>/<id>-<name>/`
pub fn chroot_build_dir(resultdir: &Path, chroot: &str, id: u64, name: &str) -> PathBuf {
    resultdir
        .join(chroot)
        .join(format!("{}-{name}", id_dir_name(id)))
}

/// Write `value` as pretty JSON to `path` atomically (temp file + rename).
pub fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<(), PipelineError> {
    let mut text = serde_json::to_string_pretty(value).expect("results serialize");
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

/// Write a file atomically (temp file in the same directory + rename).
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<(), PipelineError> {
    let tmp = path.with_extension("tmp");
    fs_err::write(&tmp, data).map_err(PipelineError::from_io)?;
    fs_err::rename(&tmp, path).map_err(PipelineError::from_io)
}

/// Read the NEVRA of an RPM file from its header (`src` as arch for source packages).
pub fn read_nevra(path: &Path) -> Result<Nevra, PipelineError> {
    let meta = read_header(path)?;
    nevra_of(&meta, path)
}

pub(crate) fn read_header(path: &Path) -> Result<rpm::PackageMetadata, PipelineError> {
    check_rpm_magic(path)?;
    rpm::PackageMetadata::open(path).map_err(|e| PipelineError::BadRpm {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

pub(crate) fn nevra_of(meta: &rpm::PackageMetadata, path: &Path) -> Result<Nevra, PipelineError> {
    let bad = |e: rpm::Error| PipelineError::BadRpm {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let arch = if meta.is_source_package() {
        "src".to_string()
    } else {
        meta.get_arch().map_err(bad)?.to_string()
    };
    Ok(Nevra {
        name: meta.get_name().map_err(bad)?.to_string(),
        epoch: meta.get_epoch().ok(),
        version: meta.get_version().map_err(bad)?.to_string(),
        release: meta.get_release().map_err(bad)?.to_string(),
        arch,
    })
}

/// The magic bytes every RPM file starts with (the lead).
pub const RPM_MAGIC: [u8; 4] = [0xed, 0xab, 0xee, 0xdb];

/// Fail with a clear error unless `path` starts with the RPM lead magic.
pub fn check_rpm_magic(path: &Path) -> Result<(), PipelineError> {
    let mut head = [0u8; 4];
    let mut f = fs_err::File::open(path).map_err(PipelineError::from_io)?;
    let n = f.read(&mut head).map_err(PipelineError::from_io)?;
    if n < 4 || head != RPM_MAGIC {
        return Err(PipelineError::BadRpm {
            path: path.to_path_buf(),
            reason: "not an RPM package (the file does not start with the RPM lead magic)".into(),
        });
    }
    Ok(())
}

/// Remove a directory tree if it exists; errors are ignored (best-effort cleanup).
pub fn remove_quietly(dir: &Path) {
    if dir.exists() {
        let _ = std::fs::remove_dir_all(dir);
    }
}
