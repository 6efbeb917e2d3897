//! `copr serve`: the build service with a Copr API v3 compatible HTTP API.
//!
//! Layout: [`store`] keeps everything (SQLite or PostgreSQL), [`api`] and [`builds`] implement
//! `/api_3/…`, [`hosting`] serves `/results/…`, `/tmp/…` (uploaded sources) and the `.repo`
//! files of `/coprs/…`. [`app`] builds the router from an [`AppState`]; [`Server`] binds and runs it.

pub mod accounts;
pub mod api;
pub mod builders;
pub mod builds;
pub mod config;
pub mod dispatch;
pub mod error;
pub mod hosting;
pub mod input;
pub mod keys;
pub mod model;
pub mod modules;
pub mod names;
pub mod pools;
pub mod publish;
pub mod render;
pub mod store;

use std::net::SocketAddr;
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, Method};
use axum::routing::{MethodRouter, get, post};
use base64::Engine;
use tower_http::trace::TraceLayer;

use self::accounts::Credentials;
use self::config::ServerConfig;
use self::error::{ApiError, ApiResult};
use self::model::{Project, User};
use self::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot create {path}")]
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the server stopped with an error")]
    Serve(#[source] std::io::Error),
}

/// Everything a request handler needs.
pub struct Inner {
    pub store: Store,
    pub config: ServerConfig,
    /// Base URL clients reach this server at, without a trailing slash.
    pub public_url: String,
    /// `<public_url>/results`.
    pub results_url: String,
    pub results_dir: PathBuf,
    pub uploads_dir: PathBuf,
    pub keys_dir: PathBuf,
    /// Host name (without port) used in `.repo` section ids.
    pub hostname: String,
    /// Remote build dispatch (wake-ups of waiting builders, fair-share bookkeeping).
    pub dispatch: dispatch::Dispatcher,
    /// Signs and publishes accepted results ([`publish::enqueue`]).
    pub publisher: publish::Publisher,
}

#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(store: Store, config: ServerConfig, public_url: String) -> Result<Self, ServeError> {
        let public_url = public_url.trim_end_matches('/').to_string();
        let hostname = url::Url::parse(&public_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_else(|| "localhost".into());
        let data = config.data_dir.clone();
        let results_dir = data.join("results");
        let uploads_dir = data.join("uploads");
        let keys_dir = data.join("keys");
        for d in [&results_dir, &uploads_dir, &keys_dir] {
            fs_err::create_dir_all(d).map_err(|source| ServeError::Dir {
                path: d.clone(),
                source,
            })?;
        }
        let publisher = publish::Publisher::new(
            store.clone(),
            config.publish.clone(),
            results_dir.clone(),
            keys_dir.clone(),
            data.join("publish-queue"),
        );
        Ok(AppState(Arc::new(Inner {
            publisher,
            store,
            results_url: format!("{public_url}/results"),
            public_url,
            results_dir,
            uploads_dir,
            keys_dir,
            hostname,
            config,
            dispatch: dispatch::Dispatcher::default(),
        })))
    }

    /// The authenticated user of a request, if it carries valid credentials.
    pub async fn user(&self, headers: &HeaderMap) -> ApiResult<Option<User>> {
        let Some(value) = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return Ok(None);
        };
        let Some(b64) = value.strip_prefix("Basic ").map(str::trim) else {
            return Ok(None);
        };
        let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64) else {
            return Ok(None);
        };
        let raw = String::from_utf8_lossy(&raw);
        let Some((login, token)) = raw.split_once(':') else {
            return Ok(None);
        };
        let Some(user) = self.store.user_by_login(login).await? else {
            return Ok(None);
        };
        if user.token_expires < model::now() || !accounts::token_matches(&user.token_hash, token) {
            return Ok(None);
        }
        Ok(Some(user))
    }

    /// The authenticated user, or 401.
    pub async fn require_user(&self, headers: &HeaderMap) -> ApiResult<User> {
        self.user(headers).await?.ok_or_else(|| {
            ApiError::Unauthorized(format!(
                "Login invalid/expired. Please visit {}/api to get or renew your API token.",
                self.public_url
            ))
        })
    }

    /// Owner, member of the owning group, approved admin, or site admin.
    pub async fn can_edit(&self, user: &User, project: &Project) -> ApiResult<bool> {
        self.has_role(user, project, false).await
    }

    /// Like [`can_edit`](Self::can_edit), plus approved builders.
    pub async fn can_build(&self, user: &User, project: &Project) -> ApiResult<bool> {
        self.has_role(user, project, true).await
    }

    async fn has_role(&self, user: &User, project: &Project, builder: bool) -> ApiResult<bool> {
        if user.admin {
            return Ok(true);
        }
        match project.group_id {
            Some(g) => {
                if self.store.is_member(g, user.id).await? {
                    return Ok(true);
                }
            }
            None => {
                if project.ownername == user.username {
                    return Ok(true);
                }
            }
        }
        if let Some((b, a)) = self.store.permission(project.id, user.id).await?
            && (a == "approved" || (builder && b == "approved"))
        {
            return Ok(true);
        }
        Ok(false)
    }
}

/// Register `path` and `path/`.
fn route(router: Router<AppState>, path: &str, mr: MethodRouter<AppState>) -> Router<AppState> {
    let slash = format!("{path}/");
    router.route(path, mr.clone()).route(&slash, mr)
}

/// A handler on GET.
fn g<H, T>(h: H) -> MethodRouter<AppState>
where
    H: axum::handler::Handler<T, AppState>,
    T: 'static,
{
    get(h)
}

/// A handler on POST, PUT and DELETE (copr clients use each for writes).
fn w<H, T>(h: H) -> MethodRouter<AppState>
where
    H: axum::handler::Handler<T, AppState>,
    T: 'static,
{
    post(h.clone()).put(h.clone()).delete(h)
}

async fn not_found() -> ApiError {
    ApiError::NotFound("Such API endpoint doesn't exist".into())
}

async fn method_not_allowed(method: Method) -> ApiError {
    tracing::debug!("method {method} not allowed");
    ApiError::MethodNotAllowed
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    let upload_limit = DefaultBodyLimit::disable();
    let mut r = Router::new();
    r = route(r, "/api_3", g(api::root));
    r = route(r, "/api_3/auth-check", g(api::auth_check));
    r = route(
        r,
        "/api_3/api-token",
        w(api::api_token).merge(get(api::api_token)),
    );
    r = route(r, "/api_3/project", g(api::project_get));
    r = route(r, "/api_3/project/list", g(api::project_list));
    r = route(r, "/api_3/project/search", g(api::project_search));
    r = route(r, "/api_3/project/add/{owner}", w(api::project_add));
    r = route(
        r,
        "/api_3/project/edit/{owner}/{project}",
        w(api::project_edit),
    );
    r = route(
        r,
        "/api_3/project/delete/{owner}/{project}",
        w(api::project_delete),
    );
    r = route(
        r,
        "/api_3/project/fork/{owner}/{project}",
        w(api::project_fork),
    );
    r = route(
        r,
        "/api_3/project/regenerate-repos/{owner}/{project}",
        w(api::project_regenerate),
    );
    r = route(
        r,
        "/api_3/project/permissions/can_build_in/{who}/{owner}/{project}",
        g(api::perm_can_build_in),
    );
    r = route(
        r,
        "/api_3/project/permissions/get/{owner}/{project}",
        g(api::perm_get),
    );
    r = route(
        r,
        "/api_3/project/permissions/set/{owner}/{project}",
        w(api::perm_set),
    );
    r = route(
        r,
        "/api_3/project/permissions/request/{owner}/{project}",
        w(api::perm_request),
    );
    r = route(
        r,
        "/api_3/build/check-before-build",
        w(builds::check_before_build),
    );
    r = route(r, "/api_3/build/create/url", w(builds::create_url));
    r = route(
        r,
        "/api_3/build/create/upload",
        w(builds::create_upload).layer(upload_limit),
    );
    r = route(
        r,
        "/api_3/build/create/rpm-upload",
        w(builds::create_upload).layer(upload_limit),
    );
    r = route(r, "/api_3/build/create/{method}", w(builds::create_other));
    r = route(r, "/api_3/build/list", g(builds::list));
    r = route(r, "/api_3/build/{id}", g(builds::get_one));
    r = route(
        r,
        "/api_3/build/source-chroot/{id}",
        g(builds::source_chroot),
    );
    r = route(
        r,
        "/api_3/build/source-build-config/{id}",
        g(builds::source_build_config),
    );
    r = route(
        r,
        "/api_3/build/built-packages/{id}",
        g(builds::built_packages),
    );
    r = route(r, "/api_3/build/cancel/{id}", w(builds::cancel));
    r = route(r, "/api_3/build/delete/list", w(builds::delete_list));
    r = route(r, "/api_3/build/delete/{id}", w(builds::delete_one));
    r = route(r, "/api_3/package", g(api::package_get));
    r = route(r, "/api_3/package/list", g(api::package_list));
    r = route(
        r,
        "/api_3/package/add/{owner}/{project}/{name}/{source_type}",
        w(api::package_add),
    );
    r = route(
        r,
        "/api_3/package/edit/{owner}/{project}/{name}/{source_type}",
        w(api::package_edit),
    );
    r = route(
        r,
        "/api_3/package/edit/{owner}/{project}/{name}",
        w(api::package_edit_untyped),
    );
    r = route(r, "/api_3/package/reset", w(api::package_reset));
    r = route(r, "/api_3/package/delete", w(api::package_delete));
    r = route(r, "/api_3/package/build", w(builds::package_build));
    r = route(r, "/api_3/project-chroot", g(api::chroot_get));
    r = route(
        r,
        "/api_3/project-chroot/build-config",
        g(api::chroot_build_config),
    );
    r = route(
        r,
        "/api_3/project-chroot/edit/{owner}/{project}/{chroot}",
        w(api::chroot_edit),
    );
    r = route(r, "/api_3/build-chroot", g(builds::build_chroot_get));
    r = route(r, "/api_3/build-chroot/list", g(builds::build_chroot_list));
    r = route(
        r,
        "/api_3/build-chroot/build-config",
        g(builds::build_chroot_config),
    );
    r = route(
        r,
        "/api_3/build-chroot/built-packages",
        g(builds::build_chroot_built_packages),
    );
    r = route(r, "/api_3/mock-chroots/list", g(api::mock_chroots));
    r = route(r, "/api_3/build/job-spec/{id}", g(builders::job_spec));
    {
        use builders::PREFIX;
        r = r
            .route(&format!("{PREFIX}/register"), post(builders::register))
            .route(&format!("{PREFIX}/claim"), post(builders::claim))
            .route(
                &format!("{PREFIX}/task/{{id}}/heartbeat"),
                post(builders::heartbeat),
            )
            .route(&format!("{PREFIX}/task/{{id}}/log"), post(builders::log))
            .route(
                &format!("{PREFIX}/task/{{id}}/release"),
                post(builders::release),
            )
            .route(
                &format!("{PREFIX}/task/{{id}}/result"),
                post(builders::result).layer(DefaultBodyLimit::disable()),
            );
    }
    r = route(r, "/api_3/monitor", g(api::monitor));
    r = route(
        r,
        "/api_3/module/build/{owner}/{project}",
        w(modules::build).layer(DefaultBodyLimit::max(input::MAX_BODY)),
    );
    r = route(
        r,
        "/api_3/module/release/{owner}/{project}",
        w(modules::release_endpoint),
    );
    r = route(r, "/api_3/module/list", g(modules::list));
    r = route(r, "/api_3/module/packages", g(modules::packages));
    r = route(r, "/api_3/module/{id}", g(modules::get_one));
    r = route(
        r,
        "/coprs/{owner}/{project}/module_repo/{release}/{file}",
        g(modules::repo_file),
    );
    r = route(
        r,
        "/coprs/g/{group}/{project}/module_repo/{release}/{file}",
        g(modules::group_repo_file),
    );
    r = route(
        r,
        "/coprs/{owner}/{project}/repo/{release}/{file}",
        g(hosting::repo_file),
    );
    r = route(
        r,
        "/coprs/g/{group}/{project}/repo/{release}/{file}",
        g(hosting::group_repo_file),
    );
    let results = hosting::listed_dir(&state.results_dir);
    let uploads = hosting::static_dir(&state.uploads_dir);
    r.nest_service("/results", results)
        .nest_service("/tmp", uploads)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(input::MAX_BODY))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// A bound, migrated server ready to run.
pub struct Server {
    pub state: AppState,
    listener: tokio::net::TcpListener,
    /// The address actually bound (useful with port 0).
    pub addr: SocketAddr,
    /// Credentials of the admin created on the first start.
    pub first_admin: Option<Credentials>,
}

impl Server {
    /// Open the storage, create the first admin when there are no users, and bind.
    pub async fn prepare(config: ServerConfig) -> Result<Server, ServeError> {
        fs_err::create_dir_all(&config.data_dir).map_err(|source| ServeError::Dir {
            path: config.data_dir.clone(),
            source,
        })?;
        let store = Store::open(&config.database).await?;
        let listener = tokio::net::TcpListener::bind(&config.listen)
            .await
            .map_err(|source| ServeError::Bind {
                addr: config.listen.clone(),
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| ServeError::Bind {
            addr: config.listen.clone(),
            source,
        })?;
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        let first_admin = if store.count_users().await? == 0 {
            Some(accounts::add_user(&store, "admin", true, config.token_lifetime_days).await?)
        } else {
            None
        };
        let state = AppState::new(store, config, public_url)?;
        let recovered = state.publisher.recover();
        if recovered > 0 {
            tracing::info!("{recovered} accepted result(s) queued for publishing again");
        }
        dispatch::start(&state).await?;
        modules::resume(&state).await;
        Ok(Server {
            state,
            listener,
            addr,
            first_admin,
        })
    }

    /// Serve until SIGTERM or SIGINT, then finish the requests in flight.
    pub async fn run(self) -> Result<(), ServeError> {
        let router = app(self.state.clone());
        let pools = pools::start(&self.state);
        let served = axum::serve(self.listener, router)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .map_err(ServeError::Serve);
        // Finish publishing what was accepted (the journal covers a harder stop).
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(60),
            self.state.publisher.idle(),
        )
        .await;
        // Pool machines are given back on a normal stop.
        pools.shutdown().await;
        served
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

/// Answer for a request whose owner/project does not exist.
pub fn no_project(owner: &str, project: &str) -> ApiError {
    ApiError::NotFound(format!("Project {owner}/{project} does not exist."))
}

/// A response type alias used by handlers.
pub type Json = axum::Json<serde_json::Value>;
