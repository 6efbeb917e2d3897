//! Building a module from a modulemd v2 document: components grouped by `buildorder` (or
//! levelled by `buildafter`), each group built only after the previous one succeeded, against
//! the result directory's own repository, then released from exactly those builds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::modulemd::{ModuleStream, RpmComponent};
use super::parse::LineMap;
use super::release::{ComponentSource, Platform, ReleaseSpec};
use super::results::{BuildResult, ChrootBuilds, RpmInfo};
use super::{ModuleError, Parsed};
use crate::job::{JobSpec, Source};
use crate::mock::Backend;
use crate::pipeline::{self, BuildReport, RunOptions};
use crate::reporter::Event;

/// One component to build.
#[derive(Debug, Clone)]
pub struct ComponentPlan {
    /// The key under `components: rpms:`.
    pub name: String,
    pub source: Source,
    pub order: i64,
    pub component: RpmComponent,
    /// Where the sources were taken from: an absolute path for local repositories.
    pub repository: String,
    /// The commit a local git `ref` resolved to, else the `ref` as written.
    pub git_ref: Option<String>,
}

/// Components in build order: each inner list is one group.
#[derive(Debug, Clone)]
pub struct BuildPlan {
    pub stream: ModuleStream,
    pub name: String,
    pub stream_name: String,
    pub groups: Vec<Vec<ComponentPlan>>,
    /// The default profile named by a modulemd-defaults document in the same file.
    pub default_profile: Option<String>,
    /// `buildopts: rpms: macros`, passed to every component build.
    pub macros: BTreeMap<String, String>,
}

/// `%name value` lines of `buildopts: rpms: macros` as `name → value`.
pub fn parse_macros(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some(rest) = line.strip_prefix('%') else {
            return Err(format!("macro line `{line}` does not start with `%`"));
        };
        let (name, value) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        if name.is_empty() {
            return Err(format!("macro line `{line}` has no name"));
        }
        out.insert(name.to_string(), value.trim().to_string());
    }
    Ok(out)
}

fn at(lines: &LineMap, path: &[&str], message: String) -> ModuleError {
    ModuleError::Plan {
        line: lines.find(path),
        message,
    }
}

/// Turn a parsed modulemd file into a build plan. `file` names the document (its directory
/// anchors relative `repository` paths, its stem is the default module name).
pub fn plan(parsed: &Parsed, text: &str, file: &Path) -> Result<BuildPlan, ModuleError> {
    let lines = LineMap::new(text, 0);
    let stream = match parsed.index.streams.as_slice() {
        [one] => one.clone(),
        [] => {
            return Err(at(
                &lines,
                &[],
                "the file holds no `document: modulemd` stream to build".into(),
            ));
        }
        _ => {
            return Err(at(
                &lines,
                &[],
                "the file holds several module streams; build one at a time".into(),
            ));
        }
    };
    let base = file.parent().unwrap_or(Path::new("."));
    let stem = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = stem
        .trim_end_matches(".yaml")
        .trim_end_matches(".yml")
        .trim_end_matches(".modulemd")
        .to_string();
    let name = stream.name.clone().unwrap_or(stem);
    let stream_name = stream.stream.clone().unwrap_or_else(|| "master".into());
    let components = stream
        .components
        .as_ref()
        .and_then(|c| c.rpms.clone())
        .unwrap_or_default();
    if components.is_empty() {
        return Err(at(
            &lines,
            &["data", "components"],
            "the module has no `components: rpms:` to build".into(),
        ));
    }
    if stream
        .components
        .as_ref()
        .is_some_and(|c| c.modules.as_ref().is_some_and(|m| !m.is_empty()))
    {
        return Err(at(
            &lines,
            &["data", "components", "modules"],
            "module components (`components: modules:`) cannot be built; list their RPMs instead"
                .into(),
        ));
    }
    let mut plans = Vec::new();
    for (key, c) in &components {
        let path = ["data", "components", "rpms", key.as_str()];
        let Some(repo) = c.repository.as_deref() else {
            return Err(at(
                &lines,
                &path,
                format!("component `{key}` has no `repository` (a git URL or a local path)"),
            ));
        };
        let (source, repository, git_ref) = component_source(repo, c.git_ref.as_deref(), base)
            .map_err(|m| {
                at(
                    &lines,
                    &[&path[..], &["repository"]].concat(),
                    format!("component `{key}`: {m}"),
                )
            })?;
        plans.push(ComponentPlan {
            name: key.clone(),
            source,
            order: 0,
            component: c.clone(),
            repository,
            git_ref,
        });
    }
    let groups = if components.values().any(|c| c.buildafter.is_some()) {
        level_by_buildafter(plans, &lines)?
    } else {
        let mut by_order: BTreeMap<i64, Vec<ComponentPlan>> = BTreeMap::new();
        for mut p in plans {
            p.order = p.component.buildorder.unwrap_or(0);
            by_order.entry(p.order).or_default().push(p);
        }
        by_order.into_values().collect()
    };
    let default_profile = parsed
        .index
        .defaults
        .iter()
        .find(|d| d.module.as_deref() == Some(name.as_str()))
        .and_then(|d| d.profiles.as_ref())
        .and_then(|p| p.get(&stream_name))
        .and_then(|v| v.first())
        .map(|t| t.0.clone());
    let macros = match stream
        .buildopts
        .as_ref()
        .and_then(|b| b.rpms.as_ref())
        .and_then(|r| r.macros.as_deref())
    {
        Some(text) => parse_macros(text).map_err(|m| {
            at(
                &lines,
                &["data", "buildopts", "rpms", "macros"],
                format!("buildopts: {m}"),
            )
        })?,
        None => BTreeMap::new(),
    };
    Ok(BuildPlan {
        stream,
        name,
        stream_name,
        groups,
        default_profile,
        macros,
    })
}

/// A `repository` value as a pipeline source: git URLs, local git repositories (with `ref`
/// resolved to its commit) and plain local directories. Also returns the repository and ref to
/// record in the released module.
fn component_source(
    repo: &str,
    git_ref: Option<&str>,
    base: &Path,
) -> Result<(Source, String, Option<String>), String> {
    let remote = ["http://", "https://", "git://", "ssh://", "git+"]
        .iter()
        .any(|p| repo.starts_with(p))
        || (repo.starts_with("git@") && repo.contains(':'));
    if remote {
        let source = Source::Git {
            url: repo.to_string(),
            committish: git_ref.map(String::from),
            subdir: None,
            spec: None,
        };
        return Ok((source, repo.to_string(), git_ref.map(String::from)));
    }
    let path = PathBuf::from(repo.strip_prefix("file://").unwrap_or(repo));
    let path = if path.is_absolute() {
        path
    } else {
        base.join(path)
    };
    if !path.exists() {
        return Err(format!("repository {} does not exist", path.display()));
    }
    let path = path
        .canonicalize()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let shown = path.to_string_lossy().into_owned();
    if path.join(".git").exists() || path.join("HEAD").is_file() {
        let wanted = git_ref.unwrap_or("HEAD");
        let commit = git2::Repository::open(&path)
            .and_then(|r| {
                r.revparse_single(wanted)
                    .and_then(|o| o.peel_to_commit())
                    .map(|c| c.id().to_string())
            })
            .map_err(|e| format!("ref `{wanted}` not found in {shown}: {}", e.message()))?;
        let source = Source::Git {
            url: shown.clone(),
            committish: Some(commit.clone()),
            subdir: None,
            spec: None,
        };
        Ok((source, shown, Some(commit)))
    } else if git_ref.is_some() {
        Err(format!(
            "repository {} is not a git repository, so `ref` cannot select a commit",
            path.display()
        ))
    } else if path.is_dir() {
        Ok((Source::Dir { path, spec: None }, shown, None))
    } else {
        Ok((Source::Spec { path }, shown, None))
    }
}

/// Levels of a `buildafter` graph: a component builds after everything it names.
fn level_by_buildafter(
    plans: Vec<ComponentPlan>,
    lines: &LineMap,
) -> Result<Vec<Vec<ComponentPlan>>, ModuleError> {
    let mut remaining: BTreeMap<String, ComponentPlan> =
        plans.into_iter().map(|p| (p.name.clone(), p)).collect();
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut groups = Vec::new();
    while !remaining.is_empty() {
        let ready: Vec<String> = remaining
            .values()
            .filter(|p| {
                p.component
                    .buildafter
                    .iter()
                    .flatten()
                    .all(|d| done.contains(d.as_str()) || d.as_str() == p.name)
            })
            .map(|p| p.name.clone())
            .collect();
        if ready.is_empty() {
            let stuck: Vec<String> = remaining.keys().cloned().collect();
            return Err(at(
                lines,
                &["data", "components", "rpms", &stuck[0], "buildafter"],
                format!("`buildafter` forms a cycle among {}", stuck.join(", ")),
            ));
        }
        let level = groups.len() as i64;
        let mut group = Vec::new();
        for n in ready {
            let mut p = remaining.remove(&n).expect("ready component is remaining");
            p.order = level;
            done.insert(n);
            group.push(p);
        }
        groups.push(group);
    }
    Ok(groups)
}

/// One component's finished build.
#[derive(Debug, Clone)]
pub struct BuiltComponent {
    pub plan: ComponentPlan,
    pub report: BuildReport,
}

/// Build every group in order in `chroot`; stops at the first group with a failed component.
pub fn build_groups(
    plan: &BuildPlan,
    chroot: &str,
    backend: &dyn Backend,
    opts: &RunOptions,
) -> Result<Vec<BuiltComponent>, ModuleError> {
    let mut built = Vec::new();
    let total = plan.groups.len();
    for (gi, group) in plan.groups.iter().enumerate() {
        let names: Vec<&str> = group.iter().map(|p| p.name.as_str()).collect();
        let message = format!(
            "build group {}/{} (buildorder {}): {}",
            gi + 1,
            total,
            group.first().map_or(0, |p| p.order),
            names.join(", ")
        );
        opts.reporter.event(Event::Info { message: &message });
        let mut failed = Vec::new();
        let arch = pipeline::chroot_arch(chroot);
        for p in group {
            if let Some(arches) = &p.component.arches
                && !arches.iter().any(|a| a.as_str() == arch)
            {
                let note = format!(
                    "{}: not built, its `arches` ({}) exclude {arch}",
                    p.name,
                    arches
                        .iter()
                        .map(|a| a.0.clone())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                opts.reporter.event(Event::Info { message: &note });
                continue;
            }
            let mut job = JobSpec::new(p.source.clone(), vec![chroot.to_string()]);
            job.macros = plan.macros.clone();
            let report = pipeline::build(&job, backend, opts)?;
            if report.succeeded() {
                built.push(BuiltComponent {
                    plan: p.clone(),
                    report,
                });
            } else {
                let reason = report
                    .chroots
                    .iter()
                    .find_map(|c| c.reason.clone())
                    .or_else(|| report.srpm.error.clone())
                    .unwrap_or_else(|| "build failed".into());
                failed.push(format!(
                    "{} (build {:08}: {reason})",
                    p.name, report.build_id
                ));
            }
        }
        if !failed.is_empty() {
            let later: Vec<String> = plan.groups[gi + 1..]
                .iter()
                .flatten()
                .map(|p| p.name.clone())
                .collect();
            return Err(ModuleError::ComponentsFailed {
                group: gi + 1,
                failed,
                not_built: later,
            });
        }
    }
    if built.is_empty() {
        return Err(ModuleError::BadSpec(format!(
            "no component is built for {}: the `arches` of every component exclude it",
            pipeline::chroot_arch(chroot)
        )));
    }
    Ok(built)
}

/// The release spec of a built module: its own metadata, and the sources the components were
/// built from.
pub fn release_spec(plan: &BuildPlan, built: &[BuiltComponent]) -> ReleaseSpec {
    let built: Vec<BuiltSource> = built
        .iter()
        .map(|b| BuiltSource {
            plan: &b.plan,
            package: b
                .report
                .package
                .clone()
                .unwrap_or_else(|| b.plan.name.clone()),
            binaries: b
                .report
                .chroots
                .iter()
                .flat_map(|c| &c.packages)
                .filter(|p| p.nevra.arch != "src")
                .map(|p| p.nevra.name.clone())
                .collect(),
        })
        .collect();
    release_spec_from(plan, &built)
}

/// A built component as a release sees it, wherever it was built.
#[derive(Debug, Clone)]
pub struct BuiltSource<'a> {
    pub plan: &'a ComponentPlan,
    /// The source package name.
    pub package: String,
    /// Names of the binary packages it produced.
    pub binaries: Vec<String>,
}

/// [`release_spec`] of components built anywhere (locally or by a server's builders).
pub fn release_spec_from(plan: &BuildPlan, built: &[BuiltSource]) -> ReleaseSpec {
    let s = &plan.stream;
    let list = |l: &Option<super::modulemd::RpmList>| -> Vec<String> {
        l.as_ref()
            .and_then(|l| l.rpms.as_ref())
            .map(|v| v.iter().map(|t| t.0.clone()).collect())
            .unwrap_or_default()
    };
    let profiles: BTreeMap<String, Vec<String>> = s
        .profiles
        .iter()
        .flatten()
        .map(|(n, p)| {
            (
                n.clone(),
                p.rpms
                    .iter()
                    .flatten()
                    .map(|t| t.0.clone())
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    let default_profile = plan.default_profile.clone().or_else(|| {
        if profiles.contains_key("default") {
            Some("default".into())
        } else {
            profiles.keys().next().cloned()
        }
    });
    let platform = s
        .dependencies
        .iter()
        .flatten()
        .find_map(|d| d.requires.as_ref().and_then(|r| r.get("platform")))
        .and_then(|streams| streams.iter().find(|t| !t.0.starts_with('-')))
        .map(|t| Platform::Stream(t.0.clone()))
        .unwrap_or(Platform::None);
    let mut sources = BTreeMap::new();
    for b in built {
        let c = &b.plan.component;
        sources.insert(
            b.package.clone(),
            ComponentSource {
                repository: Some(b.plan.repository.clone()),
                git_ref: b.plan.git_ref.clone(),
                buildorder: Some(b.plan.order),
                rationale: c.rationale.clone(),
            },
        );
    }
    // Packages of build-only components are not part of the module.
    let mut filter = list(&s.filter);
    for b in built
        .iter()
        .filter(|b| b.plan.component.buildonly == Some(true))
    {
        for name in &b.binaries {
            if !filter.contains(name) {
                filter.push(name.clone());
            }
        }
    }
    ReleaseSpec {
        name: plan.name.clone(),
        stream: plan.stream_name.clone(),
        version: s.version,
        summary: s.summary.clone().unwrap_or_default(),
        description: s.description.clone().unwrap_or_default(),
        module_license: s
            .license
            .as_ref()
            .and_then(|l| l.module.as_ref())
            .map(|m| m.iter().map(|t| t.0.clone()).collect())
            .unwrap_or_default(),
        api: list(&s.api),
        filter,
        profiles,
        default_profile,
        platform,
        sources,
    }
}

/// The builds of this module only, as the release reads them.
pub fn chroot_builds(
    chroot: &str,
    resultdir: &Path,
    built: &[BuiltComponent],
) -> Result<ChrootBuilds, ModuleError> {
    let mut builds = Vec::new();
    for b in built {
        let Some(c) = b.report.chroots.iter().find(|c| c.chroot == chroot) else {
            continue;
        };
        let Some(dir) = c.dir.clone() else { continue };
        let mut rpms = Vec::new();
        let mut srpm = None;
        for p in &c.packages {
            let info = RpmInfo::read(&p.path)?;
            if info.is_source() {
                srpm = Some(info);
            } else {
                rpms.push(info);
            }
        }
        builds.push(BuildResult {
            id: b.report.build_id,
            package: b
                .report
                .package
                .clone()
                .unwrap_or_else(|| b.plan.name.clone()),
            dir,
            rpms,
            srpm,
        });
    }
    builds.sort_by_key(|b| b.id);
    Ok(ChrootBuilds {
        chroot: chroot.to_string(),
        dir: resultdir.join(chroot),
        builds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(text: &str) -> Result<BuildPlan, ModuleError> {
        let parsed = crate::module::parse_index(text).expect("valid document");
        plan(&parsed, text, Path::new("/tmp/stack.modulemd.yaml"))
    }

    const HEAD: &str = "document: modulemd\nversion: 2\ndata:\n  summary: s\n  description: d\n  \
                        license:\n    module: [MIT]\n";

    #[test]
    fn buildafter_levels_components_and_names_default_from_file() {
        let text = format!(
            "{HEAD}  buildopts:\n    rpms:\n      macros: |\n        %_with_x 1\n        %dist .m1\n  \
             components:\n    rpms:\n      a:\n        rationale: r\n        repository: https://example.com/a.git\n      \
             b:\n        rationale: r\n        repository: https://example.com/b.git\n        buildafter: [a]\n      \
             c:\n        rationale: r\n        repository: https://example.com/c.git\n        buildafter: [a, b]\n"
        );
        let p = plan_of(&text).unwrap();
        let names: Vec<Vec<&str>> = p
            .groups
            .iter()
            .map(|g| g.iter().map(|c| c.name.as_str()).collect())
            .collect();
        assert_eq!(names, [vec!["a"], vec!["b"], vec!["c"]]);
        assert_eq!(
            (p.name.as_str(), p.stream_name.as_str()),
            ("stack", "master")
        );
        assert_eq!(p.macros.get("dist").map(String::as_str), Some(".m1"));
        assert_eq!(p.macros.get("_with_x").map(String::as_str), Some("1"));
    }

    #[test]
    fn buildorder_groups_and_cycles() {
        let text = format!(
            "{HEAD}  components:\n    rpms:\n      z:\n        rationale: r\n        repository: https://e/z.git\n        buildorder: 10\n      \
             y:\n        rationale: r\n        repository: https://e/y.git\n      \
             x:\n        rationale: r\n        repository: https://e/x.git\n        buildorder: 10\n"
        );
        let p = plan_of(&text).unwrap();
        let names: Vec<Vec<&str>> = p
            .groups
            .iter()
            .map(|g| g.iter().map(|c| c.name.as_str()).collect())
            .collect();
        assert_eq!(names, [vec!["y"], vec!["x", "z"]]);

        let cyclic = format!(
            "{HEAD}  components:\n    rpms:\n      a:\n        rationale: r\n        repository: https://e/a.git\n        buildafter: [b]\n      \
             b:\n        rationale: r\n        repository: https://e/b.git\n        buildafter: [a]\n"
        );
        let err = plan_of(&cyclic).unwrap_err().to_string();
        assert!(err.contains("cycle") && err.starts_with("line "), "{err}");
    }

    #[test]
    fn macros_must_be_percent_lines() {
        assert!(parse_macros("%a 1\n\n%b").is_ok());
        assert!(parse_macros("a 1").is_err());
    }
}
