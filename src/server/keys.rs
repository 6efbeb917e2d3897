//! The per-project OpenPGP key, created with the project (keys come from [`crate::repo::keys`],
//! built so that rpm 4.18 and GnuPG accept them). The secret key stays under
//! `<data>/keys/<owner>/<project>/secret.asc` (0600); the public key is published as
//! `results/<owner>/<project>/pubkey.gpg`.

use std::path::{Path, PathBuf};

use crate::repo::keys::{KeyError as RepoKeyError, KeyStore};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot create the project signing key")]
    Key(#[from] RepoKeyError),
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The store of project keys under `keys_dir` (RSA 3072, as for local builds).
pub fn key_store(keys_dir: &Path) -> KeyStore {
    KeyStore::new(keys_dir)
}

/// Create the project's key (kept when it exists) and publish its public half.
pub fn ensure_project_key(
    keys_dir: &Path,
    results_dir: &Path,
    owner: &str,
    project: &str,
) -> Result<(), KeyError> {
    let key = key_store(keys_dir).get_or_create(owner, project)?;
    let pub_path = results_dir.join(owner).join(project).join("pubkey.gpg");
    let err = |source| KeyError::Write {
        path: pub_path.clone(),
        source,
    };
    if let Some(parent) = pub_path.parent() {
        fs_err::create_dir_all(parent).map_err(err)?;
    }
    let tmp = pub_path.with_extension("gpg.tmp");
    fs_err::write(&tmp, key.public_armored()?).map_err(err)?;
    fs_err::rename(&tmp, &pub_path).map_err(err)?;
    Ok(())
}
