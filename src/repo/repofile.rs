//! dnf `.repo` files in Fedora Copr's form, with `repo_gpgcheck=1` because our `repomd.xml` is
//! signed (Copr's is not).

use std::fmt::Write as _;

/// One `[section]` of a .repo file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RepoSection {
    pub id: String,
    pub name: String,
    pub baseurl: String,
    /// URL of the public key; `None` writes `gpgcheck=0`.
    pub gpgkey: Option<String>,
    /// Check the detached signature of repomd.xml (needs `gpgkey`).
    pub repo_gpgcheck: bool,
    pub module_hotfixes: bool,
    pub priority: Option<i64>,
    pub cost: Option<u32>,
}

/// A Copr project repository for one release (e.g. `fedora-40`, `epel-9`).
#[derive(Debug, Clone)]
pub struct CoprRepo<'a> {
    /// Host name of the service (a port is dropped).
    pub hostname: &'a str,
    /// Owner; groups are written with a leading `@`.
    pub owner: &'a str,
    /// Project (Copr's "dirname").
    pub project: &'a str,
    /// Base URL of the results tree, e.g. `https://copr.example.org/results`.
    pub results_url: &'a str,
    /// Release as in the dnf.repo URL: `fedora-40`, `fedora-rawhide`, `epel-9`, …
    pub release: &'a str,
    pub module_hotfixes: bool,
    pub priority: Option<i64>,
}

/// The chroot part of a baseurl for a release: `$releasever` where Copr uses it (Fedora,
/// CentOS Stream, openSUSE Leap, Mageia except cauldron), the literal version otherwise.
pub fn baseurl_chroot(release: &str) -> String {
    let (distro, version) = release.rsplit_once('-').unwrap_or((release, ""));
    let uses_releasever = matches!(distro, "fedora" | "centos-stream" | "opensuse-leap")
        || (distro == "mageia" && version != "cauldron");
    if uses_releasever {
        format!("{distro}-$releasever-$basearch")
    } else {
        format!("{release}-$basearch")
    }
}

impl CoprRepo<'_> {
    /// The section Copr writes for this project and release, signed-repomd variant.
    pub fn section(&self) -> RepoSection {
        let host = self.hostname.split(':').next().unwrap_or(self.hostname);
        let owner_id = match self.owner.strip_prefix('@') {
            Some(g) => format!("group_{g}"),
            None => self.owner.to_string(),
        };
        let base = self.results_url.trim_end_matches('/');
        RepoSection {
            id: format!("copr:{host}:{owner_id}:{}", self.project),
            name: format!("Copr repo for {} owned by {}", self.project, self.owner),
            baseurl: format!(
                "{base}/{}/{}/{}/",
                self.owner,
                self.project,
                baseurl_chroot(self.release)
            ),
            gpgkey: Some(format!("{base}/{}/{}/pubkey.gpg", self.owner, self.project)),
            repo_gpgcheck: true,
            module_hotfixes: self.module_hotfixes,
            priority: self.priority,
            cost: None,
        }
    }
}

/// Render a .repo file.
pub fn render(sections: &[RepoSection]) -> String {
    let mut s = String::new();
    for (i, r) in sections.iter().enumerate() {
        if i > 0 {
            s.push('\n');
        }
        let _ = writeln!(s, "[{}]", r.id);
        let _ = writeln!(s, "name={}", r.name);
        let _ = writeln!(s, "baseurl={}", r.baseurl);
        s.push_str("type=rpm-md\nskip_if_unavailable=True\n");
        match &r.gpgkey {
            Some(k) => {
                let _ = writeln!(s, "gpgcheck=1\ngpgkey={k}");
                let _ = writeln!(s, "repo_gpgcheck={}", r.repo_gpgcheck as u8);
            }
            None => s.push_str("gpgcheck=0\nrepo_gpgcheck=0\n"),
        }
        s.push_str("enabled=1\nenabled_metadata=1\n");
        if r.module_hotfixes {
            s.push_str("module_hotfixes=1\n");
        }
        if let Some(p) = r.priority {
            let _ = writeln!(s, "priority={p}");
        }
        if let Some(c) = r.cost {
            let _ = writeln!(s, "cost={c}");
        }
    }
    s
}

/// A section for a local repository directory, with file:// URLs.
pub fn local_section(
    id: &str,
    name: &str,
    repo_dir: &std::path::Path,
    pubkey: Option<&std::path::Path>,
) -> RepoSection {
    let url = |p: &std::path::Path| {
        url::Url::from_file_path(p)
            .map(|u| u.to_string())
            .unwrap_or_else(|_| format!("file://{}", p.display()))
    };
    let mut base = url(repo_dir);
    if !base.ends_with('/') {
        base.push('/');
    }
    RepoSection {
        id: id.to_string(),
        name: name.to_string(),
        baseurl: base,
        gpgkey: pubkey.map(url),
        repo_gpgcheck: pubkey.is_some(),
        module_hotfixes: false,
        priority: None,
        cost: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copr_template() {
        let r = CoprRepo {
            hostname: "copr.example.org:8080",
            owner: "@team",
            project: "tools",
            results_url: "https://copr.example.org/results/",
            release: "fedora-40",
            module_hotfixes: true,
            priority: Some(5),
        };
        assert_eq!(
            render(&[r.section()]),
            "[copr:copr.example.org:group_team:tools]\n\
             name=Copr repo for tools owned by @team\n\
             baseurl=https://copr.example.org/results/@team/tools/fedora-$releasever-$basearch/\n\
             type=rpm-md\nskip_if_unavailable=True\ngpgcheck=1\n\
             gpgkey=https://copr.example.org/results/@team/tools/pubkey.gpg\n\
             repo_gpgcheck=1\nenabled=1\nenabled_metadata=1\nmodule_hotfixes=1\npriority=5\n"
        );
        assert_eq!(baseurl_chroot("epel-9"), "epel-9-$basearch");
        assert_eq!(
            baseurl_chroot("fedora-rawhide"),
            "fedora-$releasever-$basearch"
        );
        assert_eq!(
            baseurl_chroot("mageia-cauldron"),
            "mageia-cauldron-$basearch"
        );
    }
}
