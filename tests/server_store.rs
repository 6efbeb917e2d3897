//! Storage tests of `copr serve`, run identically on SQLite and on PostgreSQL.
//!
//! PostgreSQL comes from COPR_TEST_POSTGRES_URL (scripts/test-postgres.sh starts a private
//! cluster); each test creates and drops its own database. Without the variable the PostgreSQL
//! variants skip, except under CI=true where they fail.

use copr::server::model::*;
use copr::server::store::{MIGRATIONS, Page, Store, StoreError};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A database for one test; dropped (PostgreSQL) or removed (SQLite) at the end.
enum TestDb {
    Sqlite { _dir: tempfile::TempDir },
    Postgres { admin: String, name: String },
}

impl TestDb {
    fn sqlite() -> (TestDb, String) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("copr.sqlite").display());
        (TestDb::Sqlite { _dir: dir }, url)
    }

    async fn postgres() -> Option<(TestDb, String)> {
        let admin = match std::env::var("COPR_TEST_POSTGRES_URL") {
            Ok(u) if !u.is_empty() => u,
            _ => {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "COPR_TEST_POSTGRES_URL is not set under CI=true: the PostgreSQL storage \
                     tests must run (scripts/test-postgres.sh)"
                );
                eprintln!("skipped: COPR_TEST_POSTGRES_URL is not set");
                return None;
            }
        };
        let name = format!("copr_test_{}", rand::random::<u64>());
        let pool = sqlx::PgPool::connect(&admin).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&format!("/{name}"));
        Some((TestDb::Postgres { admin, name }, url.to_string()))
    }

    async fn drop_db(self) {
        if let TestDb::Postgres { admin, name } = self {
            let pool = sqlx::PgPool::connect(&admin).await.unwrap();
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&pool)
            .await;
        }
    }
}

macro_rules! both_backends {
    ($($(#[doc = $doc:literal])* fn $name:ident($store:ident, $url:ident) $body:block)*) => {
        mod sqlite {
            use super::*;
            $(
                $(#[doc = $doc])*
                #[test]
                fn $name() {
                    runtime().block_on(async {
                        let (db, $url) = TestDb::sqlite();
                        let $store = Store::open(&$url).await.unwrap();
                        $body
                        db.drop_db().await;
                    });
                }
            )*
        }
        mod postgres {
            use super::*;
            $(
                $(#[doc = $doc])*
                #[test]
                fn $name() {
                    runtime().block_on(async {
                        let Some((db, $url)) = TestDb::postgres().await else { return };
                        {
                            let $store = Store::open(&$url).await.unwrap();
                            $body
                        }
                        db.drop_db().await;
                    });
                }
            )*
        }
    };
}

fn page(limit: Option<i64>, offset: i64, desc: bool) -> Page {
    Page {
        limit,
        offset,
        order: "id",
        desc,
    }
}

async fn user(store: &Store, name: &str) -> User {
    store
        .create_user(name, &format!("login-{name}"), "hash", now() + 1000, false)
        .await
        .unwrap()
}

async fn project(store: &Store, owner: &User, name: &str, chroots: &[&str]) -> Project {
    let chroots: Vec<String> = chroots.iter().map(|s| s.to_string()).collect();
    store
        .create_project(
            &owner.username,
            name,
            owner.id,
            None,
            &ProjectSettings::default(),
            &chroots,
        )
        .await
        .unwrap()
}

fn new_build(p: &Project, chroots: &[&str], batch: BatchPlacement) -> NewBuild {
    NewBuild {
        project_id: p.id,
        project_dirname: p.name.clone(),
        package_id: None,
        package_name: Some("hello".into()),
        source_type: "link".into(),
        source_json: serde_json::json!({"url": "https://example.org/hello-1.0-1.src.rpm"}),
        submitter: "alice".into(),
        is_background: false,
        timeout: 18000,
        options: BuildOptions::default(),
        chroots: chroots.iter().map(|s| s.to_string()).collect(),
        batch,
    }
}

both_backends! {
    /// Migrations are recorded and re-opening an existing database applies nothing twice.
    fn migrations_are_versioned_and_idempotent(store, url) {
        let v = store.schema_version().await.unwrap();
        assert_eq!(v, MIGRATIONS.iter().map(|m| m.version).max().unwrap());
        let _u = user(&store, "alice").await;
        // Opening again runs the migrations check on a database that has data.
        let again = Store::open(&url).await.unwrap();
        assert_eq!(again.schema_version().await.unwrap(), v);
        assert_eq!(again.count_users().await.unwrap(), 1);
    }

    /// Users are found by API login, names are unique, tokens are replaced, groups have members.
    fn users_tokens_and_groups(store, _url) {
        let a = user(&store, "alice").await;
        let b = user(&store, "bob").await;
        let found = store.user_by_login("login-alice").await.unwrap().unwrap();
        assert_eq!(found.id, a.id);
        assert!(!found.admin);
        let dup = store.create_user("alice", "other", "h", 0, false).await;
        assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
        store.set_token(a.id, "newhash", 42).await.unwrap();
        let again = store.user_by_name("alice").await.unwrap().unwrap();
        assert_eq!((again.token_hash.as_str(), again.token_expires), ("newhash", 42));
        let g = store.create_group("team").await.unwrap();
        assert!(matches!(store.create_group("team").await, Err(StoreError::Conflict(_))));
        store.add_member(g, a.id).await.unwrap();
        store.add_member(g, a.id).await.unwrap();
        assert!(store.is_member(g, a.id).await.unwrap());
        assert!(!store.is_member(g, b.id).await.unwrap());
        store.remove_member(g, a.id).await.unwrap();
        assert!(!store.is_member(g, a.id).await.unwrap());
        assert_eq!(store.group_id("team").await.unwrap(), Some(g));
    }

    /// Projects keep every setting, list and search with pagination, and delete with their data.
    fn projects_chroots_and_settings(store, _url) {
        let a = user(&store, "alice").await;
        let p = project(&store, &a, "one", &["fedora-42-x86_64", "host-x86_64"]).await;
        let _ = project(&store, &a, "two", &["host-x86_64"]).await;
        let dup = store
            .create_project("alice", "one", a.id, None, &ProjectSettings::default(), &[])
            .await;
        assert!(matches!(dup, Err(StoreError::Conflict(_))));
        let mut s = p.settings.clone();
        s.description = Some("Hello 100% world".into());
        s.additional_repos = vec!["copr://bob/x".into()];
        s.repo_priority = Some(5);
        store.update_project_settings(p.id, &s).await.unwrap();
        let got = store.get_project("alice", "one").await.unwrap().unwrap();
        assert_eq!(got.settings, s);
        let all = store.list_projects(Some("alice"), None, &page(None, 0, false)).await.unwrap();
        assert_eq!(all.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["one", "two"]);
        let paged = store.list_projects(None, None, &page(Some(1), 1, false)).await.unwrap();
        assert_eq!(paged.len(), 1);
        assert_eq!(paged[0].name, "two");
        let found = store.list_projects(None, Some("100%"), &page(None, 0, false)).await.unwrap();
        assert_eq!(found.len(), 1);
        assert!(store.list_projects(None, Some("nomatch"), &page(None, 0, false)).await.unwrap().is_empty());

        let mut chroots = store.project_chroots(p.id).await.unwrap();
        assert_eq!(chroots.len(), 2);
        chroots[0].settings.additional_packages = vec!["gcc".into()];
        store.update_project_chroot(&chroots[0], Some(Some(b"<comps/>".to_vec()))).await.unwrap();
        store
            .set_project_chroots(p.id, &["fedora-42-x86_64".into(), "epel-9-x86_64".into()])
            .await
            .unwrap();
        let chroots = store.project_chroots(p.id).await.unwrap();
        let names: Vec<_> = chroots.iter().map(|c| c.mock_chroot.as_str()).collect();
        assert_eq!(names, ["epel-9-x86_64", "fedora-42-x86_64"]);
        assert_eq!(chroots[1].settings.additional_packages, ["gcc"]);

        store.create_build(&new_build(&p, &["fedora-42-x86_64"], BatchPlacement::None)).await.unwrap();
        store.delete_project(p.id).await.unwrap();
        assert!(store.get_project("alice", "one").await.unwrap().is_none());
        assert_eq!(store.count_builds().await.unwrap(), 0);
    }

    /// Permissions are set all at once and unspecified roles keep their value.
    fn permissions(store, _url) {
        let a = user(&store, "alice").await;
        let b = user(&store, "bob").await;
        let p = project(&store, &a, "one", &["host-x86_64"]).await;
        assert!(store.permission(p.id, b.id).await.unwrap().is_none());
        store.set_permissions(p.id, &[(b.id, Some("request".into()), None)]).await.unwrap();
        assert_eq!(
            store.permission(p.id, b.id).await.unwrap(),
            Some(("request".into(), "nothing".into()))
        );
        store.set_permissions(p.id, &[(b.id, None, Some("approved".into()))]).await.unwrap();
        assert_eq!(
            store.permission(p.id, b.id).await.unwrap(),
            Some(("request".into(), "approved".into()))
        );
        let all = store.permissions(p.id).await.unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].username, "bob");
    }

    /// Packages are unique per project, keep their source, and survive their builds' deletion.
    fn packages(store, _url) {
        let a = user(&store, "alice").await;
        let p = project(&store, &a, "one", &["host-x86_64"]).await;
        let src = serde_json::json!({"clone_url": "https://x/y.git", "srpm_build_method": "rpkg"});
        let pkg = store
            .create_package(p.id, "hello", "scm", &src, &PackageSettings::default())
            .await
            .unwrap();
        assert!(matches!(
            store.create_package(p.id, "hello", "scm", &src, &PackageSettings::default()).await,
            Err(StoreError::Conflict(_))
        ));
        let mut edited = pkg.clone();
        edited.settings.max_builds = Some(3);
        edited.source_json["committish"] = "main".into();
        store.update_package(&edited).await.unwrap();
        let got = store.get_package(p.id, "hello").await.unwrap().unwrap();
        assert_eq!(got.settings.max_builds, Some(3));
        assert_eq!(got.source_json["committish"], "main");
        let mut nb = new_build(&p, &["host-x86_64"], BatchPlacement::None);
        nb.package_id = Some(pkg.id);
        let b = store.create_build(&nb).await.unwrap();
        assert_eq!(store.latest_package_build(pkg.id, false).await.unwrap().unwrap().id, b.id);
        assert!(store.latest_package_build(pkg.id, true).await.unwrap().is_none());
        store.delete_package(pkg.id).await.unwrap();
        assert!(store.get_package(p.id, "hello").await.unwrap().is_none());
        assert!(store.get_build(b.id).await.unwrap().is_some());
    }

    /// New builds are pending with waiting chroots, lists paginate and filter in SQL.
    fn build_lists(store, _url) {
        let a = user(&store, "alice").await;
        let p = project(&store, &a, "one", &["fedora-42-x86_64", "host-x86_64"]).await;
        let mut batch = Vec::new();
        for i in 0..25 {
            let mut nb = new_build(&p, &["fedora-42-x86_64", "host-x86_64"], BatchPlacement::None);
            if i % 5 == 0 {
                nb.package_name = Some("other".into());
            }
            batch.push(nb);
        }
        let ids = store.insert_builds(&batch).await.unwrap();
        assert_eq!(ids.len(), 25);
        let b = store.get_build(ids[0]).await.unwrap().unwrap();
        assert_eq!(b.state, State::Pending);
        assert_eq!(b.source_state, State::Pending);
        assert_eq!(b.chroots.len(), 2);
        assert!(b.chroots.iter().all(|c| c.state == State::Waiting));
        assert_eq!((b.ownername.as_str(), b.projectname.as_str()), ("alice", "one"));

        let first = store.list_builds(p.id, None, None, &page(Some(10), 0, false)).await.unwrap();
        assert_eq!(first.len(), 10);
        assert_eq!(first[0].id, ids[0]);
        assert!(first.iter().all(|b| b.chroots.len() == 2));
        let last = store.list_builds(p.id, None, None, &page(Some(10), 20, false)).await.unwrap();
        assert_eq!(last.len(), 5);
        let desc = store.list_builds(p.id, None, None, &page(Some(1), 0, true)).await.unwrap();
        assert_eq!(desc[0].id, ids[24]);
        let other = store.list_builds(p.id, Some("other"), None, &page(None, 0, false)).await.unwrap();
        assert_eq!(other.len(), 5);
        store.cancel_build(ids[1]).await.unwrap();
        let canceled = store
            .list_builds(p.id, None, Some(State::Canceled), &page(None, 0, false))
            .await
            .unwrap();
        assert_eq!(canceled.iter().map(|b| b.id).collect::<Vec<_>>(), [ids[1]]);
    }

    /// Build-list summaries equal the full builds (every rendered field, chroot names in order)
    /// for every filter, order, direction, limit and offset, after state changes and deletes.
    fn build_summaries_match_full_builds(store, _url) {
        let a = user(&store, "alice").await;
        let all = ["epel-9-x86_64", "fedora-42-x86_64", "host-x86_64"];
        let p = project(&store, &a, "one", &all).await;
        let other = project(&store, &a, "two", &all).await;
        let mut batch = Vec::new();
        for i in 0..30 {
            // Chroot subsets vary, and are given out of order.
            let chroots: Vec<&str> = match i % 3 {
                0 => vec!["host-x86_64", "epel-9-x86_64"],
                1 => vec!["fedora-42-x86_64"],
                _ => vec!["host-x86_64", "fedora-42-x86_64", "epel-9-x86_64"],
            };
            let mut nb = new_build(&p, &chroots, BatchPlacement::None);
            if i % 4 == 0 {
                nb.package_name = Some("other".into());
            }
            if i % 7 == 0 {
                nb.package_name = None;
                nb.is_background = true;
            }
            batch.push(nb);
        }
        let ids = store.insert_builds(&batch).await.unwrap();
        store.create_build(&new_build(&other, &["host-x86_64"], BatchPlacement::None)).await.unwrap();
        store.cancel_build(ids[3]).await.unwrap();
        store.set_source_state(ids[4], State::Failed).await.unwrap();
        store.set_source_state(ids[5], State::Succeeded).await.unwrap();
        store.set_chroot_state(ids[5], "host-x86_64", State::Running, None).await.unwrap();
        store.set_source_state(ids[6], State::Running).await.unwrap();
        store.set_source_state(ids[8], State::Succeeded).await.unwrap();
        for c in ["epel-9-x86_64", "fedora-42-x86_64", "host-x86_64"] {
            store.set_chroot_state(ids[8], c, State::Succeeded, None).await.unwrap();
        }
        store.delete_builds(&[ids[9], ids[10]]).await.unwrap();

        let mut checked = 0;
        for package in [None, Some("hello"), Some("other"), Some("nothing")] {
            for state in [None, Some(State::Pending), Some(State::Canceled), Some(State::Succeeded)] {
                for order in ["id", "submitted_on"] {
                    for desc in [false, true] {
                        for (limit, offset) in [(None, 0), (Some(7), 0), (Some(7), 5), (Some(100), 26), (Some(3), 1000)] {
                            let pg = Page { limit, offset, order, desc };
                            let full = store.list_builds(p.id, package, state, &pg).await.unwrap();
                            let sums = store.list_build_summaries(p.id, package, state, &pg).await.unwrap();
                            assert_eq!(sums.len(), full.len(), "{package:?} {state:?} {order} {desc} {limit:?} {offset}");
                            for (s, b) in sums.iter().zip(&full) {
                                let names: Vec<&str> = b.chroots.iter().map(|c| c.name.as_str()).collect();
                                let snames: Vec<&str> = s.chroots.iter().map(String::as_str).collect();
                                assert_eq!(
                                    (s.id, s.state, &s.project_dirname, &s.package_name, &s.package_version,
                                     &s.srpm_url, &s.submitter, s.submitted_on, s.started_on, s.ended_on,
                                     s.is_background, snames),
                                    (b.id, b.state, &b.project_dirname, &b.package_name, &b.package_version,
                                     &b.srpm_url, &b.submitter, b.submitted_on, b.started_on, b.ended_on,
                                     b.is_background, names),
                                );
                                checked += 1;
                            }
                        }
                    }
                }
            }
        }
        assert!(checked > 500, "{checked}");
        let pending = store.list_build_summaries(p.id, None, Some(State::Succeeded), &page(None, 0, false)).await.unwrap();
        assert_eq!(pending.iter().map(|s| s.id).collect::<Vec<_>>(), [ids[8]]);
        let first = store.list_build_summaries(p.id, None, None, &page(Some(1), 0, false)).await.unwrap();
        assert_eq!(first[0].chroots, ["epel-9-x86_64", "host-x86_64"]);
    }

    /// Regression: two chroot tasks of one build finishing at the same moment left the build
    /// `running` on PostgreSQL (each transaction derived the state without the other's change).
    fn concurrent_chroot_results_finish_the_build(store, _url) {
        let a = user(&store, "alice").await;
        let chroots = ["c1-x86_64", "c2-x86_64", "c3-x86_64", "c4-x86_64"];
        let p = project(&store, &a, "race", &chroots).await;
        for _ in 0..10 {
            let b = store
                .create_build(&new_build(&p, &chroots, BatchPlacement::None))
                .await
                .unwrap();
            store.set_source_state(b.id, State::Succeeded).await.unwrap();
            let tasks = chroots.iter().map(|c| {
                let store = store.clone();
                let c = c.to_string();
                tokio::spawn(async move {
                    store.set_chroot_state(b.id, &c, State::Succeeded, None).await.unwrap()
                })
            });
            for t in tasks.collect::<Vec<_>>() {
                t.await.unwrap();
            }
            let got = store.get_build(b.id).await.unwrap().unwrap();
            assert_eq!(got.state, State::Succeeded, "build {}", b.id);
        }
    }

    /// The build state machine: source, then chroots; cancel only while unfinished.
    fn build_state_machine(store, _url) {
        let a = user(&store, "alice").await;
        let p = project(&store, &a, "one", &["fedora-42-x86_64", "host-x86_64"]).await;
        let b = store
            .create_build(&new_build(&p, &["fedora-42-x86_64", "host-x86_64"], BatchPlacement::None))
            .await
            .unwrap();
        assert_eq!(store.set_source_state(b.id, State::Running).await.unwrap(), State::Running);
        assert!(store.get_build(b.id).await.unwrap().unwrap().started_on.is_some());
        // SRPM done: chroots become pending.
        assert_eq!(store.set_source_state(b.id, State::Succeeded).await.unwrap(), State::Pending);
        let got = store.get_build(b.id).await.unwrap().unwrap();
        assert!(got.chroots.iter().all(|c| c.state == State::Pending));
        assert_eq!(
            store.set_chroot_state(b.id, "host-x86_64", State::Running, None).await.unwrap(),
            State::Running
        );
        store.set_chroot_state(b.id, "host-x86_64", State::Succeeded, None).await.unwrap();
        let s = store
            .set_chroot_state(b.id, "fedora-42-x86_64", State::Skipped, Some("ExcludeArch"))
            .await
            .unwrap();
        assert_eq!(s, State::Succeeded);
        let got = store.get_build(b.id).await.unwrap().unwrap();
        assert!(got.ended_on.is_some());
        assert_eq!(got.chroots[0].status_reason.as_deref(), Some("ExcludeArch"));
        assert!(matches!(store.cancel_build(b.id).await, Err(StoreError::Conflict(_))));
        assert!(matches!(
            store.set_chroot_state(b.id, "nope", State::Running, None).await,
            Err(StoreError::NotFound(_))
        ));

        // A failing SRPM fails every chroot.
        let f = store
            .create_build(&new_build(&p, &["fedora-42-x86_64"], BatchPlacement::None))
            .await
            .unwrap();
        assert_eq!(store.set_source_state(f.id, State::Failed).await.unwrap(), State::Failed);
        let got = store.get_build(f.id).await.unwrap().unwrap();
        assert_eq!(got.chroots[0].state, State::Failed);

        // Cancel of a pending build cancels its waiting chroots at once.
        let c = store
            .create_build(&new_build(&p, &["fedora-42-x86_64"], BatchPlacement::None))
            .await
            .unwrap();
        let c = store.cancel_build(c.id).await.unwrap();
        assert_eq!(c.state, State::Canceled);
        assert!(c.canceled);
        assert_eq!(c.chroots[0].state, State::Canceled);
        store.delete_builds(&[c.id, f.id]).await.unwrap();
        assert!(store.get_build(c.id).await.unwrap().is_none());
    }

    /// Batches: after_build_id blocks a build until the blocker's batch finishes; with_build_id joins it.
    fn batches_block_the_queue(store, _url) {
        let a = user(&store, "alice").await;
        let p = project(&store, &a, "one", &["host-x86_64"]).await;
        let first = store.create_build(&new_build(&p, &["host-x86_64"], BatchPlacement::None)).await.unwrap();
        let with = store.create_build(&new_build(&p, &["host-x86_64"], BatchPlacement::With(first.id))).await.unwrap();
        let after = store.create_build(&new_build(&p, &["host-x86_64"], BatchPlacement::After(first.id))).await.unwrap();
        assert!(first.batch_id.is_none(), "the first build got its batch later");
        let first = store.get_build(first.id).await.unwrap().unwrap();
        assert_eq!(first.batch_id, with.batch_id);
        assert_ne!(after.batch_id, first.batch_id);
        let queue = store.pending_source_tasks(10).await.unwrap();
        assert_eq!(queue, [first.id, with.id]);
        store.set_source_state(first.id, State::Succeeded).await.unwrap();
        store.set_chroot_state(first.id, "host-x86_64", State::Succeeded, None).await.unwrap();
        // `with` is still unfinished, so `after` stays blocked.
        assert_eq!(store.pending_source_tasks(10).await.unwrap(), [with.id]);
        store.cancel_build(with.id).await.unwrap();
        assert_eq!(store.pending_source_tasks(10).await.unwrap(), [after.id]);
        assert!(matches!(
            store.create_build(&new_build(&p, &["host-x86_64"], BatchPlacement::With(first.id))).await,
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            store.create_build(&new_build(&p, &["host-x86_64"], BatchPlacement::After(99999))).await,
            Err(StoreError::Invalid(_))
        ));
    }

    /// Builders claim the source task first, then chroot tasks of their chroots; each task
    /// once, even under concurrent claims; stale tasks go back to the queue.
    fn builders_claim_tasks(store, _url) {
        let a = user(&store, "alice").await;
        let p = project(&store, &a, "one", &["fedora-42-x86_64", "host-x86_64"]).await;
        let mut batch = Vec::new();
        for _ in 0..20 {
            batch.push(new_build(&p, &["fedora-42-x86_64", "host-x86_64"], BatchPlacement::None));
        }
        let ids = store.insert_builds(&batch).await.unwrap();
        let host = vec!["host-x86_64".to_string()];
        assert_eq!(store.claim_chroot_task("w", &host).await.unwrap(), None, "chroots wait for the SRPM");
        // 20 concurrent claimers, 20 tasks: every task claimed exactly once.
        let mut handles = Vec::new();
        for i in 0..25 {
            let s = store.clone();
            handles.push(tokio::spawn(async move { s.claim_source_task(&format!("w{i}")).await.unwrap() }));
        }
        let mut claimed: Vec<i64> = Vec::new();
        for h in handles {
            if let Some(id) = h.await.unwrap() {
                claimed.push(id);
            }
        }
        claimed.sort();
        assert_eq!(claimed, ids);
        assert_eq!(store.get_build(ids[0]).await.unwrap().unwrap().state, State::Starting);
        store.set_source_state(ids[0], State::Succeeded).await.unwrap();
        let got = store.claim_chroot_task("w", &host).await.unwrap();
        assert_eq!(got, Some((ids[0], "host-x86_64".to_string())));
        assert_eq!(store.claim_chroot_task("w", &host).await.unwrap(), None);
        let b = store.get_build(ids[0]).await.unwrap().unwrap();
        assert_eq!(b.state, State::Starting);
        // Nothing is stale yet; everything claimed before `now + 10` is.
        assert_eq!(store.requeue_stale_tasks(now() - 100).await.unwrap(), 0);
        let n = store.requeue_stale_tasks(now() + 10).await.unwrap();
        assert_eq!(n, 20, "19 source tasks and 1 chroot task");
        assert_eq!(store.claim_chroot_task("w2", &host).await.unwrap(), Some((ids[0], "host-x86_64".to_string())));
        assert_eq!(store.pending_source_tasks(100).await.unwrap().len(), 19);
    }
}
