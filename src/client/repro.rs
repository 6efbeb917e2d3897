//! `copr repro`: turn the job spec a builder ran into one that runs the same way on this machine.

use std::path::{Path, PathBuf};

use crate::job::{JobSpec, Source};
use crate::mock::BackendKind;

/// `BUILD_ID` or `BUILD_ID:CHROOT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRef {
    pub build_id: i64,
    pub chroot: Option<String>,
}

/// Why a task reference or job spec cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ReproError {
    #[error("`{0}` is not BUILD_ID or BUILD_ID:CHROOT")]
    BadTask(String),
    #[error(
        "the job spec builds from {0}, a path on the builder, and the server names no SRPM URL for this build"
    )]
    BuilderPath(String),
}

impl std::str::FromStr for TaskRef {
    type Err = ReproError;
    fn from_str(s: &str) -> Result<TaskRef, ReproError> {
        let bad = || ReproError::BadTask(s.to_string());
        let (id, chroot) = match s.split_once(':') {
            Some((id, c)) if !c.is_empty() && !c.contains(['/', ':']) => (id, Some(c.to_string())),
            Some(_) => return Err(bad()),
            None => (s, None),
        };
        let build_id = id.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(bad)?;
        Ok(TaskRef { build_id, chroot })
    }
}

/// What was changed to run the spec here, for the user to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Adjustments {
    pub notes: Vec<String>,
}

fn source_path(source: &Source) -> Option<&Path> {
    match source {
        Source::Dir { path, .. } | Source::Spec { path } | Source::Srpm { path } => Some(path),
        Source::Custom {
            script,
            content: None,
            ..
        } => Some(script),
        Source::Custom { .. } => None,
        Source::Git { url, .. } if url.starts_with('/') => Some(Path::new(url)),
        Source::Url { .. } | Source::Git { .. } => None,
    }
}

/// Adjust a builder's job spec for a local run: the build id is allocated in the local result
/// directory, `backend` (when given) replaces the builder's, a source or repository that is a
/// path on the builder is replaced by the build's SRPM URL (`srpm_url`) or dropped, and a chroot
/// task keeps only its chroot.
pub fn adjust(
    mut job: JobSpec,
    task: &TaskRef,
    backend: Option<BackendKind>,
    srpm_url: Option<&str>,
) -> Result<(JobSpec, Adjustments), ReproError> {
    let mut adj = Adjustments::default();
    job.build_id = None;
    if let Some(b) = backend
        && job.backend != Some(b)
    {
        adj.notes.push(format!(
            "backend {} instead of the builder's {}",
            b.as_str(),
            job.backend.map(|b| b.as_str()).unwrap_or("default")
        ));
        job.backend = Some(b);
    }
    if let Some(path) = source_path(&job.source)
        && !path.exists()
    {
        let shown = path.display().to_string();
        let url = srpm_url.ok_or(ReproError::BuilderPath(shown.clone()))?;
        adj.notes.push(format!(
            "source {url} instead of the builder's path {shown}"
        ));
        job.source = Source::Url {
            url: url.to_string(),
        };
    }
    job.repos.retain(|r| {
        let local = !r.contains("://") || r.starts_with("file://");
        let path = PathBuf::from(r.strip_prefix("file://").unwrap_or(r));
        let keep = !local || path.exists();
        if !keep {
            adj.notes
                .push(format!("repository {r} left out (a path on the builder)"));
        }
        keep
    });
    if let Some(c) = &task.chroot {
        job.chroots = vec![c.clone()];
    }
    Ok((job, adj))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_references_parse() {
        assert_eq!(
            "12:host-x86_64".parse::<TaskRef>().unwrap(),
            TaskRef {
                build_id: 12,
                chroot: Some("host-x86_64".into())
            }
        );
        assert_eq!("7".parse::<TaskRef>().unwrap().chroot, None);
        for bad in ["", "x", "0", "3:", "3:a/b", "-1"] {
            assert!(bad.parse::<TaskRef>().is_err(), "{bad}");
        }
    }

    #[test]
    fn builder_paths_are_replaced() {
        let mut job = JobSpec::new(
            Source::Srpm {
                path: "/nonexistent/builder/work/a-1-1.src.rpm".into(),
            },
            vec!["host-x86_64".into(), "other-x86_64".into()],
        );
        job.build_id = Some(42);
        job.repos = vec![
            "http://h/results/o/p/host-x86_64/".into(),
            "/nonexistent/builder/repo".into(),
        ];
        let task = TaskRef {
            build_id: 42,
            chroot: Some("host-x86_64".into()),
        };
        let (job, adj) = adjust(job, &task, None, Some("http://h/a-1-1.src.rpm")).unwrap();
        assert_eq!(job.build_id, None);
        assert_eq!(
            job.source,
            Source::Url {
                url: "http://h/a-1-1.src.rpm".into()
            }
        );
        assert_eq!(job.repos, vec!["http://h/results/o/p/host-x86_64/"]);
        assert_eq!(job.chroots, vec!["host-x86_64"]);
        assert_eq!(adj.notes.len(), 2);
    }
}
