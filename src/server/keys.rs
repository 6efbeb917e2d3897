//! The per-project OpenPGP key, created with the project: the secret key stays under
//! `<data>/keys/<owner>/<project>/` (mode 0600), the public key is published as
//! `results/<owner>/<project>/pubkey.gpg`.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use openpgp::cert::prelude::*;
use openpgp::serialize::SerializeInto;
use sequoia_openpgp as openpgp;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot generate the project signing key")]
    Generate(#[source] anyhow::Error),
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The user id Copr gives a project key: `owner_project (None) <owner#project@copr.domain>`.
pub fn key_user_id(owner: &str, project: &str, domain: &str) -> String {
    format!("{owner}_{project} (None) <{owner}#{project}@copr.{domain}>")
}

/// An armored secret key and its armored public key.
pub struct ProjectKey {
    pub secret: Vec<u8>,
    pub public: Vec<u8>,
}

/// Generate an RSA-2048 signing key valid for 5 years.
pub fn generate(owner: &str, project: &str, domain: &str) -> Result<ProjectKey, KeyError> {
    let (cert, _revocation) = CertBuilder::new()
        .set_cipher_suite(CipherSuite::RSA2k)
        .add_userid(key_user_id(owner, project, domain))
        .add_signing_subkey()
        .set_validity_period(Duration::from_secs(5 * 365 * 86400))
        .generate()
        .map_err(KeyError::Generate)?;
    let secret = cert
        .as_tsk()
        .armored()
        .to_vec()
        .map_err(KeyError::Generate)?;
    let public = cert.armored().to_vec().map_err(KeyError::Generate)?;
    Ok(ProjectKey { secret, public })
}

fn write_file(path: &Path, data: &[u8], mode: u32) -> Result<(), KeyError> {
    let err = |source| KeyError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        fs_err::create_dir_all(parent).map_err(err)?;
    }
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .map_err(err)?;
    f.write_all(data).map_err(err)?;
    f.sync_all().map_err(err)?;
    fs_err::rename(&tmp, path).map_err(err)
}

/// Create the project's key and publish its public half. Existing keys are kept.
pub fn ensure_project_key(
    keys_dir: &Path,
    results_dir: &Path,
    owner: &str,
    project: &str,
    domain: &str,
) -> Result<(), KeyError> {
    let secret_path = keys_dir.join(owner).join(project).join("secret.asc");
    let pub_path = results_dir.join(owner).join(project).join("pubkey.gpg");
    if secret_path.exists() && pub_path.exists() {
        return Ok(());
    }
    let key = generate(owner, project, domain)?;
    write_file(&secret_path, &key.secret, 0o600)?;
    write_file(&pub_path, &key.public, 0o644)?;
    Ok(())
}
