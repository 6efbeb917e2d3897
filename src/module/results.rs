//! Reading a local result directory: `<resultdir>/<chroot>/<8-digit build id>-<name>/` holding
//! the build's RPMs, `results.json` and a `success` marker when the build succeeded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::ModuleError;

/// One binary or source package of a build, read from its RPM header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpmInfo {
    pub name: String,
    pub epoch: u32,
    pub version: String,
    pub release: String,
    /// `src` for source packages.
    pub arch: String,
    pub license: String,
    pub path: PathBuf,
}

impl RpmInfo {
    /// `N-E:V-R.A`, the form modulemd artifacts use.
    pub fn nevra(&self) -> String {
        format!(
            "{}-{}:{}-{}.{}",
            self.name, self.epoch, self.version, self.release, self.arch
        )
    }

    pub fn is_source(&self) -> bool {
        self.arch == "src" || self.arch == "nosrc"
    }

    /// Read the header of the RPM at `path`.
    pub fn read(path: &Path) -> Result<RpmInfo, ModuleError> {
        let bad = |e: rpm::Error| ModuleError::BadRpm {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        let pkg = rpm::PackageMetadata::open(path).map_err(bad)?;
        let epoch = match pkg.get_epoch() {
            Ok(e) => e,
            Err(rpm::Error::TagNotFound(_)) => 0,
            Err(e) => return Err(bad(e)),
        };
        let arch = if pkg.is_source_package() {
            if path.to_string_lossy().ends_with(".nosrc.rpm") {
                "nosrc".to_string()
            } else {
                "src".to_string()
            }
        } else {
            pkg.get_arch().map_err(bad)?.to_string()
        };
        Ok(RpmInfo {
            name: pkg.get_name().map_err(bad)?.to_string(),
            epoch,
            version: pkg.get_version().map_err(bad)?.to_string(),
            release: pkg.get_release().map_err(bad)?.to_string(),
            arch,
            license: pkg.get_license().unwrap_or_default().to_string(),
            path: path.to_path_buf(),
        })
    }
}

/// One successful build in a chroot of the result directory.
#[derive(Debug, Clone)]
pub struct BuildResult {
    pub id: u64,
    /// The package (source) name, from the directory name.
    pub package: String,
    pub dir: PathBuf,
    pub rpms: Vec<RpmInfo>,
    pub srpm: Option<RpmInfo>,
}

/// The latest successful build of every package in one chroot.
#[derive(Debug, Clone)]
pub struct ChrootBuilds {
    pub chroot: String,
    pub dir: PathBuf,
    /// Sorted by build id.
    pub builds: Vec<BuildResult>,
}

impl ChrootBuilds {
    /// The architecture a module built in this chroot is for (`fedora-40-x86_64` → `x86_64`).
    pub fn arch(&self) -> String {
        self.chroot
            .rsplit('-')
            .next()
            .unwrap_or(&self.chroot)
            .to_string()
    }

    /// Binary package names, sorted and unique.
    pub fn binary_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .builds
            .iter()
            .flat_map(|b| b.rpms.iter().map(|r| r.name.clone()))
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// Parse `00000042-hello` into `(42, "hello")`.
pub fn parse_build_dir_name(name: &str) -> Option<(u64, &str)> {
    let (id, pkg) = name.split_once('-')?;
    if id.len() != 8 || !id.bytes().all(|b| b.is_ascii_digit()) || pkg.is_empty() {
        return None;
    }
    Some((id.parse().ok()?, pkg))
}

/// Chroot directories of a result directory: those holding at least one build directory.
pub fn list_chroots(resultdir: &Path) -> Result<Vec<String>, ModuleError> {
    let mut out = Vec::new();
    for entry in fs_err::read_dir(resultdir)? {
        let entry = entry?;
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let has_builds = fs_err::read_dir(entry.path())?
            .flatten()
            .any(|e| parse_build_dir_name(&e.file_name().to_string_lossy()).is_some());
        if has_builds {
            out.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    out.sort();
    Ok(out)
}

/// The latest successful build of each package in `chroot`.
pub fn scan_chroot(resultdir: &Path, chroot: &str) -> Result<ChrootBuilds, ModuleError> {
    let dir = resultdir.join(chroot);
    if !dir.is_dir() {
        return Err(ModuleError::NoSuchChroot {
            chroot: chroot.to_string(),
            resultdir: resultdir.to_path_buf(),
            available: list_chroots(resultdir).unwrap_or_default(),
        });
    }
    let mut latest: BTreeMap<String, (u64, PathBuf)> = BTreeMap::new();
    for entry in fs_err::read_dir(&dir)? {
        let entry = entry?;
        let fname = entry.file_name().to_string_lossy().into_owned();
        let Some((id, pkg)) = parse_build_dir_name(&fname) else {
            continue;
        };
        if !entry.path().join("success").is_file() {
            continue;
        }
        let slot = latest.entry(pkg.to_string()).or_insert((id, entry.path()));
        if id > slot.0 {
            *slot = (id, entry.path());
        }
    }
    let mut builds = Vec::new();
    for (package, (id, bdir)) in latest {
        if let Some(b) = read_build(id, &package, &bdir)? {
            builds.push(b);
        }
    }
    builds.sort_by_key(|b| b.id);
    if builds.is_empty() {
        return Err(ModuleError::NoBuilds {
            chroot: chroot.to_string(),
            dir,
        });
    }
    Ok(ChrootBuilds {
        chroot: chroot.to_string(),
        dir,
        builds,
    })
}

/// The packages of one build directory; `None` when it holds no binary RPM.
pub fn read_build(id: u64, package: &str, dir: &Path) -> Result<Option<BuildResult>, ModuleError> {
    let mut rpms = Vec::new();
    let mut srpm = None;
    let mut files: Vec<PathBuf> = fs_err::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rpm"))
        .collect();
    files.sort();
    for f in files {
        let info = RpmInfo::read(&f)?;
        if info.is_source() {
            srpm = Some(info);
        } else {
            rpms.push(info);
        }
    }
    if rpms.is_empty() {
        return Ok(None);
    }
    Ok(Some(BuildResult {
        id,
        package: package.to_string(),
        dir: dir.to_path_buf(),
        rpms,
        srpm,
    }))
}
