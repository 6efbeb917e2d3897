//! `copr serve` and `copr serve admin …`: resolve the configuration, run the service or change
//! its accounts, print the result.

use crate::cli::{AdminCommand, GlobalArgs, OutputFormat, ServeAction, ServeArgs};
use crate::error::{CliError, ExitStatus, WithStatus};
use crate::server::accounts::{self, Credentials};
use crate::server::config::{Overrides, ServerConfig};
use crate::server::model::{BatchPlacement, BuildOptions, NewBuild, ProjectSettings};
use crate::server::store::{Store, StoreError};
use crate::server::{ServeError, Server};

pub fn run(global: &GlobalArgs, args: ServeArgs) -> Result<ExitStatus, CliError> {
    let overrides = Overrides {
        config: args.config.clone(),
        listen: args.listen.clone(),
        data_dir: args.data.clone(),
        database: args.database.clone(),
        public_url: args.public_url.clone(),
    };
    let config = ServerConfig::resolve(&overrides).map_err(|e| {
        CliError::new(ExitStatus::Config, e).with_hint("see `copr serve --help` for the keys")
    })?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .status(ExitStatus::Generic)?;
    match args.action {
        None => rt.block_on(serve(global, config, args.port_file)),
        Some(ServeAction::Admin(cmd)) => rt.block_on(admin(global, config, cmd)),
    }
}

fn serve_error(e: ServeError) -> CliError {
    let hint = match &e {
        ServeError::Bind { .. } => Some("pick another address with `--listen HOST:PORT`"),
        ServeError::Store(StoreError::Open { .. }) => {
            Some("check `--database` / `--data` and that the database server is running")
        }
        _ => None,
    };
    let err = CliError::new(ExitStatus::Generic, e);
    match hint {
        Some(h) => err.with_hint(h),
        None => err,
    }
}

async fn serve(
    global: &GlobalArgs,
    config: ServerConfig,
    port_file: Option<std::path::PathBuf>,
) -> Result<ExitStatus, CliError> {
    let server = Server::prepare(config).await.map_err(serve_error)?;
    let url = server.state.public_url.clone();
    if let Some(creds) = &server.first_admin {
        print_first_admin(global, creds, &url);
    }
    if let Some(path) = port_file {
        fs_err::write(&path, format!("{}\n", server.addr)).status(ExitStatus::Generic)?;
    }
    eprintln!("listening on http://{}", server.addr);
    tracing::info!(
        "serving {} with {} storage",
        url,
        server.state.store.backend_name()
    );
    server.run().await.map_err(serve_error)?;
    Ok(ExitStatus::Success)
}

fn print_first_admin(global: &GlobalArgs, creds: &Credentials, url: &str) {
    match global.output {
        OutputFormat::Json => println!(
            "{}",
            serde_json::json!({
                "username": creds.username,
                "login": creds.login,
                "token": creds.token,
                "copr_url": url,
            })
        ),
        OutputFormat::Text => {
            eprintln!(
                "Created the admin user `{}`. Save this as ~/.config/copr to use it with copr-cli \
                 or copr (the token is shown only once; `copr serve admin renew-token {}` issues a \
                 new one):",
                creds.username, creds.username
            );
            print!("{}", accounts::copr_cli_config(creds, url));
        }
    }
}

fn store_error(e: StoreError) -> CliError {
    match e {
        StoreError::Invalid(_) => CliError::new(ExitStatus::Args, e),
        StoreError::Conflict(_) | StoreError::NotFound(_) => CliError::new(ExitStatus::Generic, e),
        other => CliError::new(ExitStatus::Generic, other)
            .with_hint("check `--database` / `--data` and that the database server is running"),
    }
}

fn print_creds(global: &GlobalArgs, creds: &Credentials) {
    match global.output {
        OutputFormat::Json => println!(
            "{}",
            serde_json::json!({"username": creds.username, "login": creds.login, "token": creds.token})
        ),
        OutputFormat::Text => {
            println!("username: {}", creds.username);
            println!("login: {}", creds.login);
            println!("token: {}", creds.token);
            println!("expiration: {}", creds.expiration);
        }
    }
}

async fn user_id(store: &Store, name: &str) -> Result<i64, CliError> {
    Ok(store
        .user_by_name(name)
        .await
        .map_err(store_error)?
        .ok_or_else(|| {
            CliError::new(
                ExitStatus::Generic,
                anyhow::anyhow!("user `{name}` does not exist"),
            )
            .with_hint(format!("create it with `copr serve admin add-user {name}`"))
        })?
        .id)
}

async fn group_id(store: &Store, name: &str) -> Result<i64, CliError> {
    let name = name.trim_start_matches('@');
    store
        .group_id(name)
        .await
        .map_err(store_error)?
        .ok_or_else(|| {
            CliError::new(
                ExitStatus::Generic,
                anyhow::anyhow!("group `{name}` does not exist"),
            )
            .with_hint(format!(
                "create it with `copr serve admin add-group {name}`"
            ))
        })
}

async fn admin(
    global: &GlobalArgs,
    config: ServerConfig,
    cmd: AdminCommand,
) -> Result<ExitStatus, CliError> {
    let store = Store::open(&config.database).await.map_err(store_error)?;
    let lifetime = config.token_lifetime_days;
    match cmd {
        AdminCommand::AddUser { name, admin } => {
            let creds = accounts::add_user(&store, &name, admin, lifetime)
                .await
                .map_err(store_error)?;
            print_creds(global, &creds);
        }
        AdminCommand::RenewToken { name } => {
            let id = user_id(&store, &name).await?;
            let creds = accounts::renew_token(&store, id, lifetime)
                .await
                .map_err(store_error)?;
            print_creds(global, &creds);
        }
        AdminCommand::AddGroup { name } => {
            let name = name.trim_start_matches('@').to_string();
            if !crate::server::names::valid_group(&name) {
                return Err(CliError::new(
                    ExitStatus::Args,
                    anyhow::anyhow!("invalid group name `{name}`"),
                ));
            }
            store.create_group(&name).await.map_err(store_error)?;
            eprintln!("created group @{name}");
        }
        AdminCommand::AddMember { group, user } => {
            let g = group_id(&store, &group).await?;
            let u = user_id(&store, &user).await?;
            store.add_member(g, u).await.map_err(store_error)?;
            eprintln!("added {user} to @{}", group.trim_start_matches('@'));
        }
        AdminCommand::RemoveMember { group, user } => {
            let g = group_id(&store, &group).await?;
            let u = user_id(&store, &user).await?;
            store.remove_member(g, u).await.map_err(store_error)?;
            eprintln!("removed {user} from @{}", group.trim_start_matches('@'));
        }
        AdminCommand::AddBuilder { name } => {
            if !crate::server::names::valid_username(&name) {
                return Err(CliError::new(
                    ExitStatus::Args,
                    anyhow::anyhow!(
                        "invalid builder name `{name}`: use letters, digits, `_`, `.` and `-`"
                    ),
                ));
            }
            let token = accounts::random_token();
            store
                .create_builder(&name, &accounts::hash_token(&token))
                .await
                .map_err(store_error)?;
            match global.output {
                OutputFormat::Json => {
                    println!("{}", serde_json::json!({"name": name, "token": token}))
                }
                OutputFormat::Text => {
                    println!("name: {name}");
                    println!("token: {token}");
                }
            }
        }
        AdminCommand::SeedBench {
            owner,
            project,
            builds,
            chroot,
        } => seed_bench(&store, &owner, &project, builds, &chroot, lifetime).await?,
    }
    Ok(ExitStatus::Success)
}

async fn seed_bench(
    store: &Store,
    owner: &str,
    project: &str,
    builds: usize,
    chroot: &str,
    lifetime: i64,
) -> Result<(), CliError> {
    let uid = match store.user_by_name(owner).await.map_err(store_error)? {
        Some(u) => u.id,
        None => {
            let c = accounts::add_user(store, owner, false, lifetime)
                .await
                .map_err(store_error)?;
            user_id(store, &c.username).await?
        }
    };
    let p = match store
        .get_project(owner, project)
        .await
        .map_err(store_error)?
    {
        Some(p) => p,
        None => store
            .create_project(
                owner,
                project,
                uid,
                None,
                &ProjectSettings::default(),
                &[chroot.to_string()],
            )
            .await
            .map_err(store_error)?,
    };
    let template = NewBuild {
        project_id: p.id,
        project_dirname: p.name.clone(),
        package_id: None,
        package_name: Some("hello".into()),
        source_type: "link".into(),
        source_json: serde_json::json!({"url": "https://example.org/hello-1.0-1.src.rpm"}),
        submitter: owner.into(),
        is_background: false,
        timeout: 18000,
        options: BuildOptions::default(),
        chroots: vec![chroot.to_string()],
        batch: BatchPlacement::None,
    };
    let mut left = builds;
    while left > 0 {
        let n = left.min(2000);
        let batch = vec![template.clone(); n];
        store.insert_builds(&batch).await.map_err(store_error)?;
        left -= n;
    }
    eprintln!("added {builds} builds to {owner}/{project}");
    Ok(())
}
