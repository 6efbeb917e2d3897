//! What `copr build --remote` sends: a source is uploaded as an SRPM, passed as a URL, or passed
//! as an SCM clone URL, the way copr-cli's `build`, `buildscm` and URL builds send them.

use std::path::PathBuf;

use crate::job::{Source, SrpmMethod};

use super::ScmSource;

/// How a resolved local source reaches the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submission {
    /// Upload this ready SRPM (`build/create/upload`).
    Upload(PathBuf),
    /// Make the SRPM here first (directories, spec files, local git trees, custom scripts),
    /// then upload it.
    BuildSrpm,
    /// Let the server download the `.spec` or `.src.rpm` (`build/create/url`).
    Url(String),
    /// Let the server clone the repository (`build/create/scm`).
    Scm(ScmSource),
}

/// Why a source cannot be sent as asked.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("--scm needs a remote git URL the server can clone, not `{0}`")]
    NotRemoteGit(String),
    #[error("the server cannot run --method custom from a clone URL")]
    CustomScm,
}

/// Copr's `source_build_method` for an SCM build made with `method`.
pub fn scm_method(method: SrpmMethod) -> Result<&'static str, SubmitError> {
    Ok(match method {
        // Copr's rpkg method builds a plain spec-and-sources tree as rpmbuild does.
        SrpmMethod::Rpmbuild | SrpmMethod::Rpkg => "rpkg",
        SrpmMethod::Tito => "tito",
        SrpmMethod::TitoTest => "tito_test",
        SrpmMethod::MakeSrpm => "make_srpm",
        SrpmMethod::Custom => return Err(SubmitError::CustomScm),
    })
}

/// True for a git URL another machine can clone (not a local path or `file://`).
pub fn is_clonable(url: &str) -> bool {
    ["http://", "https://", "git://", "ssh://", "git+"]
        .iter()
        .any(|p| url.starts_with(p))
        || (url.starts_with("git@") && url.contains(':'))
}

/// Decide how `source` (resolved as for a local build) is sent. `force_scm` is `--scm`.
pub fn plan(
    source: &Source,
    method: SrpmMethod,
    force_scm: bool,
) -> Result<Submission, SubmitError> {
    let scm = |url: &str,
               committish: &Option<String>,
               subdir: &Option<PathBuf>,
               spec: &Option<PathBuf>| {
        Ok(Submission::Scm(ScmSource {
            clone_url: Some(url.to_string()),
            committish: Some(committish.clone().unwrap_or_default()),
            subdirectory: Some(
                subdir
                    .as_ref()
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            ),
            spec: Some(
                spec.as_ref()
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            ),
            scm_type: Some("git".to_string()),
            source_build_method: Some(scm_method(method)?.to_string()),
        }))
    };
    match source {
        Source::Git {
            url,
            committish,
            subdir,
            spec,
        } if is_clonable(url) => scm(url, committish, subdir, spec),
        Source::Url { url } if force_scm => scm(url, &None, &None, &None),
        _ if force_scm => {
            let shown = match source {
                Source::Dir { path, .. } | Source::Spec { path } | Source::Srpm { path } => {
                    path.display().to_string()
                }
                Source::Git { url, .. } => url.clone(),
                Source::Custom { script, .. } => script.display().to_string(),
                Source::Url { url } => url.clone(),
            };
            Err(SubmitError::NotRemoteGit(shown))
        }
        Source::Url { url } => Ok(Submission::Url(url.clone())),
        Source::Srpm { path } => Ok(Submission::Upload(path.clone())),
        Source::Dir { .. } | Source::Spec { .. } | Source::Git { .. } | Source::Custom { .. } => {
            Ok(Submission::BuildSrpm)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_map_to_copr_build_methods() {
        let dir = Source::Dir {
            path: "/src/hello".into(),
            spec: None,
        };
        assert_eq!(
            plan(&dir, SrpmMethod::Rpmbuild, false).unwrap(),
            Submission::BuildSrpm
        );
        let srpm = Source::Srpm {
            path: "/x/a-1-1.src.rpm".into(),
        };
        assert_eq!(
            plan(&srpm, SrpmMethod::Rpmbuild, false).unwrap(),
            Submission::Upload("/x/a-1-1.src.rpm".into())
        );
        let url = Source::Url {
            url: "https://h/a.spec".into(),
        };
        assert_eq!(
            plan(&url, SrpmMethod::Rpmbuild, false).unwrap(),
            Submission::Url("https://h/a.spec".into())
        );
        let git = Source::Git {
            url: "https://h/a.git".into(),
            committish: Some("v1".into()),
            subdir: Some("pkg".into()),
            spec: None,
        };
        let Submission::Scm(s) = plan(&git, SrpmMethod::MakeSrpm, false).unwrap() else {
            panic!("a remote git URL is passed through")
        };
        assert_eq!(s.clone_url.as_deref(), Some("https://h/a.git"));
        assert_eq!(s.committish.as_deref(), Some("v1"));
        assert_eq!(s.subdirectory.as_deref(), Some("pkg"));
        assert_eq!(s.source_build_method.as_deref(), Some("make_srpm"));
        let local_git = Source::Git {
            url: "/home/me/pkg".into(),
            committish: None,
            subdir: None,
            spec: None,
        };
        assert_eq!(
            plan(&local_git, SrpmMethod::Rpmbuild, false).unwrap(),
            Submission::BuildSrpm
        );
        assert!(matches!(
            plan(&dir, SrpmMethod::Rpmbuild, true),
            Err(SubmitError::NotRemoteGit(_))
        ));
        assert!(matches!(
            plan(&git, SrpmMethod::Custom, false),
            Err(SubmitError::CustomScm)
        ));
    }
}
