//! Git sources (git2): clone a local path or URL into the build's work directory and check out a
//! branch, tag or commit.

use std::path::Path;

/// Why a git source could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot clone git repository {url}")]
    Clone {
        url: String,
        #[source]
        source: git2::Error,
    },
    #[error("`{committish}` is not a branch, tag or commit of {url}")]
    UnknownCommittish { url: String, committish: String },
    #[error("cannot check out `{committish}` of {url}")]
    Checkout {
        url: String,
        committish: String,
        #[source]
        source: git2::Error,
    },
}

/// Clone `url` into `dest` and check out `committish` (the default branch when `None`).
/// Returns the checked-out commit id.
pub fn clone_checkout(
    url: &str,
    committish: Option<&str>,
    dest: &Path,
) -> Result<String, GitError> {
    let repo = git2::build::RepoBuilder::new()
        .clone(url, dest)
        .map_err(|source| GitError::Clone {
            url: url.to_string(),
            source,
        })?;
    let Some(committish) = committish else {
        let head = repo
            .head()
            .and_then(|h| h.peel_to_commit())
            .map_err(|source| GitError::Clone {
                url: url.to_string(),
                source,
            })?;
        return Ok(head.id().to_string());
    };
    let checkout_err = |source| GitError::Checkout {
        url: url.to_string(),
        committish: committish.to_string(),
        source,
    };
    // `refs/…` (e.g. a pull request head) is fetched first, as Copr does.
    if committish.starts_with("refs/") {
        let mut remote = repo.find_remote("origin").map_err(checkout_err)?;
        let refspec = format!("+{committish}:{committish}");
        remote
            .fetch(&[refspec.as_str()], None, None)
            .map_err(|_| GitError::UnknownCommittish {
                url: url.to_string(),
                committish: committish.to_string(),
            })?;
    }
    let candidates = [
        format!("refs/remotes/origin/{committish}"),
        format!("refs/tags/{committish}"),
        committish.to_string(),
    ];
    let object = candidates
        .iter()
        .find_map(|c| repo.revparse_single(c).ok())
        .ok_or_else(|| GitError::UnknownCommittish {
            url: url.to_string(),
            committish: committish.to_string(),
        })?;
    let commit = object
        .peel_to_commit()
        .map_err(|_| GitError::UnknownCommittish {
            url: url.to_string(),
            committish: committish.to_string(),
        })?;
    let mut opts = git2::build::CheckoutBuilder::new();
    opts.force();
    repo.checkout_tree(commit.as_object(), Some(&mut opts))
        .map_err(checkout_err)?;
    repo.set_head_detached(commit.id()).map_err(checkout_err)?;
    Ok(commit.id().to_string())
}
