//! Helpers of the publishing tests: a server driven through the library (no builder needed),
//! builds whose results are RPMs made with rpmbuild at test time.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use copr::server::config::{Overrides, ServerConfig};
use copr::server::model::{BatchPlacement, Build, BuildOptions, NewBuild, Project, State};
use copr::server::publish::{self, PublishRequest, PublishTicket};
use copr::server::{AppState, Server};

pub const OWNER: &str = "admin";
pub const PROJECT: &str = "demo";
pub const CHROOT: &str = "host-x86_64";

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Build `name-version-1.noarch.rpm` and its SRPM into `out`; returns (rpm, srpm).
pub fn build_rpm(out: &Path, name: &str, version: &str) -> (PathBuf, PathBuf) {
    std::fs::create_dir_all(out).unwrap();
    let top = tempfile::tempdir().unwrap();
    let spec = top.path().join(format!("{name}.spec"));
    std::fs::write(
        &spec,
        format!(
            "Name: {name}\nVersion: {version}\nRelease: 1\nSummary: {name} test package\n\
             License: MIT\nBuildArch: noarch\n\n%description\n{name} for publishing tests.\n\n\
             %install\nmkdir -p %{{buildroot}}/usr/share/{name}\n\
             echo {version} > %{{buildroot}}/usr/share/{name}/version\n\n\
             %files\n/usr/share/{name}/version\n"
        ),
    )
    .unwrap();
    let o = run(Command::new("rpmbuild")
        .env("HOME", top.path())
        .arg("--quiet")
        .arg("--define")
        .arg(format!("_topdir {}", top.path().display()))
        .arg("--define")
        .arg(format!("_rpmdir {}", out.display()))
        .arg("--define")
        .arg(format!("_srcrpmdir {}", out.display()))
        .arg("--define")
        .arg("_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm")
        .arg("-ba")
        .arg(&spec));
    assert!(o.status.success(), "rpmbuild: {}", text(&o));
    (
        out.join(format!("{name}-{version}-1.noarch.rpm")),
        out.join(format!("{name}-{version}-1.src.rpm")),
    )
}

/// A server on a loopback port, its state used directly.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub rt: tokio::runtime::Runtime,
    pub state: AppState,
    pub url: String,
    pub admin_login: String,
    pub admin_token: String,
    pub project: Project,
}

/// The data directory of an [`Env`].
pub fn data_dir(dir: &Path) -> PathBuf {
    dir.join("data")
}

impl Env {
    /// A fresh server with the `[publish]` table `publish_toml` and a project `admin/demo`
    /// with the chroot `host-x86_64`.
    pub fn new(publish_toml: &str) -> Env {
        let dir = tempfile::tempdir().unwrap();
        Env::start(dir, publish_toml)
    }

    /// Start (or restart) a server on the data directory under `dir`.
    pub fn start(dir: tempfile::TempDir, publish_toml: &str) -> Env {
        let rt = runtime();
        let cfg_path = dir.path().join("server.toml");
        std::fs::write(&cfg_path, format!("[publish]\n{publish_toml}\n")).unwrap();
        let config = ServerConfig::resolve(&Overrides {
            config: Some(cfg_path),
            listen: Some("127.0.0.1:0".into()),
            data_dir: Some(data_dir(dir.path())),
            ..Default::default()
        })
        .unwrap();
        let server = rt.block_on(Server::prepare(config)).unwrap();
        let url = format!("http://{}", server.addr);
        let state = server.state.clone();
        let creds = server.first_admin.clone();
        rt.spawn(server.run());
        let (admin_login, admin_token) = match creds {
            Some(c) => (c.login, c.token),
            None => {
                let c = rt
                    .block_on(async {
                        let u = state.store.user_by_name(OWNER).await.unwrap().unwrap();
                        copr::server::accounts::renew_token(&state.store, u.id, 30).await
                    })
                    .unwrap();
                (c.login, c.token)
            }
        };
        let project = rt.block_on(async {
            match state.store.get_project(OWNER, PROJECT).await.unwrap() {
                Some(p) => p,
                None => {
                    let user = state.store.user_by_name(OWNER).await.unwrap().unwrap();
                    let p = state
                        .store
                        .create_project(
                            OWNER,
                            PROJECT,
                            user.id,
                            None,
                            &Default::default(),
                            &[CHROOT.to_string()],
                        )
                        .await
                        .unwrap();
                    copr::server::keys::ensure_project_key(
                        &state.keys_dir,
                        &state.results_dir,
                        OWNER,
                        PROJECT,
                    )
                    .unwrap();
                    p
                }
            }
        });
        Env {
            dir,
            rt,
            state,
            url,
            admin_login,
            admin_token,
            project,
        }
    }

    pub fn chroot_dir(&self, chroot: &str) -> PathBuf {
        self.state
            .results_dir
            .join(OWNER)
            .join(PROJECT)
            .join(chroot)
    }

    pub fn pubkey(&self) -> PathBuf {
        self.state
            .results_dir
            .join(OWNER)
            .join(PROJECT)
            .join("pubkey.gpg")
    }

    /// A build of `name` whose chroot tasks are running (as when a builder uploads results).
    pub fn new_build(&self, name: &str, chroots: &[&str]) -> Build {
        self.rt.block_on(async {
            let st = &self.state.store;
            let id = st
                .insert_builds(&[NewBuild {
                    project_id: self.project.id,
                    project_dirname: PROJECT.into(),
                    package_id: None,
                    package_name: Some(name.into()),
                    source_type: "upload".into(),
                    source_json: serde_json::json!({}),
                    submitter: OWNER.into(),
                    is_background: false,
                    timeout: 3600,
                    options: BuildOptions::default(),
                    chroots: chroots.iter().map(|c| c.to_string()).collect(),
                    batch: BatchPlacement::None,
                }])
                .await
                .unwrap()[0];
            st.set_source_state(id, State::Succeeded).await.unwrap();
            for c in chroots {
                st.set_chroot_state(id, c, State::Running, None)
                    .await
                    .unwrap();
            }
            st.get_build(id).await.unwrap().unwrap()
        })
    }

    /// A build with results: `name-version` RPM and SRPM in the chroot's build directory (and
    /// the SRPM in `srpm-builds/`), its chroot task running.
    pub fn build_with_results(&self, name: &str, version: &str, chroot: &str) -> Build {
        let b = self.new_build(name, &[chroot]);
        let dir = self.build_dir(&b, chroot);
        let (_rpm, srpm) = build_rpm(&dir, name, version);
        std::fs::write(dir.join("builder-live.log"), "build log\n").unwrap();
        let srpm_dir = self
            .state
            .results_dir
            .join(OWNER)
            .join(PROJECT)
            .join("srpm-builds")
            .join(format!("{:08}", b.id));
        std::fs::create_dir_all(&srpm_dir).unwrap();
        std::fs::copy(&srpm, srpm_dir.join(srpm.file_name().unwrap())).unwrap();
        b
    }

    pub fn build_dir(&self, b: &Build, chroot: &str) -> PathBuf {
        self.chroot_dir(chroot)
            .join(publish::build_dir_name(b.id, b.package_name.as_deref()))
    }

    pub fn enqueue(&self, b: &Build, chroot: &str) -> PublishTicket {
        let _guard = self.rt.enter();
        publish::enqueue(&self.state, PublishRequest::for_build(b, chroot))
    }

    pub fn wait(&self, t: PublishTicket) -> Result<(), publish::PublishFailed> {
        self.rt.block_on(t.wait())
    }

    pub fn chroot_state(&self, b: &Build, chroot: &str) -> State {
        self.rt
            .block_on(self.state.store.chroot_state(b.id, chroot))
            .unwrap()
            .unwrap()
    }

    /// Stop the server's runtime, keeping the data directory.
    pub fn shutdown(self) -> tempfile::TempDir {
        let Env { dir, rt, state, .. } = self;
        drop(state);
        rt.shutdown_timeout(std::time::Duration::from_secs(5));
        dir
    }
}

/// dnf on a private cache, with no system repositories, reading the repository at `repo`.
pub fn repoquery(cache: &Path, repo: &Path) -> Vec<String> {
    let o = run(Command::new("dnf")
        .arg("-q")
        .arg("--releasever=12")
        .arg(format!("--setopt=cachedir={}", cache.display()))
        .arg("--setopt=reposdir=/dev/null")
        .arg("--setopt=metadata_expire=0")
        .arg(format!("--repofrompath=t,file://{}", repo.display()))
        .args([
            "--repo=t",
            "repoquery",
            "--nogpgcheck",
            "--qf",
            "%{name}-%{version}",
        ]));
    assert!(o.status.success(), "dnf repoquery: {}", text(&o));
    let mut v: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    v.sort();
    v.dedup();
    v
}

/// `rpmkeys --checksig` of `rpm` against `pubkey` imported into a private rpm database.
pub fn checksig(pubkey: &Path, rpm: &Path) -> Output {
    let db = tempfile::tempdir().unwrap();
    let o = run(Command::new("rpmkeys")
        .arg("--dbpath")
        .arg(db.path())
        .arg("--import")
        .arg(pubkey));
    assert!(o.status.success(), "rpmkeys --import: {}", text(&o));
    run(Command::new("rpmkeys")
        .arg("--dbpath")
        .arg(db.path())
        .arg("--checksig")
        .arg("-v")
        .arg(rpm))
}
