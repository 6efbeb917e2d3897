//! Publishing build results: sign new packages, regenerate the repository incrementally and
//! atomically, sign repomd.xml, export the public key and write a .repo file.
//!
//! [`publish_chroot`] is what the pipeline and the server call for one chroot directory;
//! [`publish_local_results`] does a whole local result directory (`<resultdir>/<chroot>/`) with the
//! project key kept in `<resultdir>/.keys/`.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::createrepo::{
    Compression, CreaterepoError, CreaterepoOptions, RepoReport, createrepo, find_packages,
};
use super::keys::{KeyError, KeyStore, SigningKey};
use super::repofile::{local_section, render};
use super::rpmsign::{SignError, SignOutcome, sign_rpm};
use crate::reporter::{Event, Reporter};

/// Options of a publication.
#[derive(Debug, Clone, Default)]
pub struct PublishOptions {
    pub compression: Compression,
    pub workers: Option<usize>,
    /// modules.yaml to publish with the repository (default: `<chroot_dir>/modules.yaml`).
    pub modules_yaml: Option<PathBuf>,
}

/// Errors of a publication.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Sign(#[from] SignError),
    #[error(transparent)]
    Repo(#[from] CreaterepoError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What a publication did for one chroot.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PublishReport {
    pub chroot_dir: PathBuf,
    /// Packages signed by this run.
    pub signed: Vec<PathBuf>,
    /// Packages that already carried this key's signature.
    pub already_signed: usize,
    pub repo: RepoReport,
    /// The .repo file written for the directory, when one was.
    pub repo_file: Option<PathBuf>,
}

/// Sign the RPMs of `chroot_dir` not yet signed by `key`, then regenerate its repository
/// (incremental, atomic) with a signed repomd.xml.
pub fn publish_chroot(
    chroot_dir: &Path,
    key: &SigningKey,
    opts: &PublishOptions,
    reporter: &dyn Reporter,
) -> Result<PublishReport, PublishError> {
    let packages = find_packages(chroot_dir)?;
    reporter.event(Event::StageStarted {
        stage: "sign",
        detail: Some(&format!("{} packages", packages.len())),
    });
    let outcomes: Vec<Result<(PathBuf, SignOutcome), SignError>> = packages
        .par_iter()
        .map(|(path, _)| sign_rpm(path, key, false).map(|o| (path.clone(), o)))
        .collect();
    let mut signed = Vec::new();
    let mut already_signed = 0;
    for o in outcomes {
        let (path, outcome) = o?;
        match outcome {
            SignOutcome::AlreadySigned => already_signed += 1,
            _ => signed.push(path),
        }
    }
    reporter.event(Event::StageFinished {
        stage: "sign",
        ok: true,
        message: Some(&format!(
            "{} signed, {} already signed",
            signed.len(),
            already_signed
        )),
    });
    let repo = createrepo(
        chroot_dir,
        &CreaterepoOptions {
            update: true,
            workers: opts.workers,
            compression: opts.compression,
            sign_key: Some(key),
            modules_yaml: opts.modules_yaml.clone(),
            revision: None,
        },
        reporter,
    )?;
    Ok(PublishReport {
        chroot_dir: chroot_dir.to_path_buf(),
        signed,
        already_signed,
        repo,
        repo_file: None,
    })
}

/// A repo id fragment: non-alphanumerics replaced by `_`, runs collapsed, ends stripped.
pub fn repo_id_part(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

/// Result of publishing a local result directory.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LocalPublishReport {
    pub pubkey: PathBuf,
    pub key_fingerprint: String,
    pub chroots: Vec<PublishReport>,
}

impl LocalPublishReport {
    /// Shell lines that make dnf use the published repositories.
    pub fn dnf_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for c in &self.chroots {
            if let Some(f) = &c.repo_file {
                let name = c
                    .chroot_dir
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                lines.push(format!(
                    "sudo cp {} /etc/yum.repos.d/copr-local-{}.repo   # {name}",
                    f.display(),
                    repo_id_part(&name)
                ));
            }
        }
        if let Some(first) = self.chroots.first() {
            let names: Vec<String> = {
                let mut n: Vec<String> = first
                    .repo
                    .entries
                    .iter()
                    .filter(|e| e.arch != "src")
                    .map(|e| e.name.clone())
                    .collect();
                n.dedup();
                n
            };
            if !names.is_empty() {
                lines.push(format!("sudo dnf install {}", names.join(" ")));
            }
        }
        lines
    }
}

/// Publish every chroot directory of a local result directory: the project key is created in
/// `<resultdir>/.keys/` (0700) on first use, `pubkey.gpg` is exported to the result directory's
/// root, each `<resultdir>/<chroot>/` becomes a signed repository with a `copr.repo` file.
pub fn publish_local_results(
    resultdir: &Path,
    owner: &str,
    project: &str,
    opts: &PublishOptions,
    reporter: &dyn Reporter,
) -> Result<LocalPublishReport, PublishError> {
    let store = KeyStore::new(resultdir.join(".keys"));
    let key = store.get_or_create(owner, project)?;
    let pubkey = resultdir.join("pubkey.gpg");
    super::cache::write_atomic(&pubkey, &key.public_armored()?).map_err(|source| {
        PublishError::Io {
            path: pubkey.clone(),
            source,
        }
    })?;
    let mut dirs = Vec::new();
    let read = std::fs::read_dir(resultdir).map_err(|source| PublishError::Io {
        path: resultdir.to_path_buf(),
        source,
    })?;
    for entry in read.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        // srpm-builds/ holds the SRPM stage's results in Copr's layout, not a chroot.
        if path.is_dir() && !name.starts_with('.') && name != "repodata" && name != "srpm-builds" {
            dirs.push(path);
        }
    }
    dirs.sort();
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut chroots = Vec::new();
    for dir in dirs {
        if find_packages(&dir)?.is_empty() {
            continue;
        }
        let mut report = publish_chroot(&dir, &key, opts, reporter)?;
        let chroot = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let section = local_section(
            &format!(
                "copr-local:{}:{}:{}",
                repo_id_part(owner),
                repo_id_part(project),
                repo_id_part(&chroot)
            ),
            &format!("Local copr build results of {owner}/{project} ({chroot})"),
            &abs(&dir),
            Some(&abs(&pubkey)),
        );
        let repo_file = dir.join("copr.repo");
        super::cache::write_atomic(&repo_file, render(&[section]).as_bytes()).map_err(
            |source| PublishError::Io {
                path: repo_file.clone(),
                source,
            },
        )?;
        report.repo_file = Some(repo_file);
        chroots.push(report);
    }
    Ok(LocalPublishReport {
        pubkey,
        key_fingerprint: key.fingerprint(),
        chroots,
    })
}
