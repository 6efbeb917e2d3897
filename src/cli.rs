//! Command-line definitions (clap). Every argument carries a doc comment: it is the `--help` text,
//! the man page and the shell completion description.

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Build RPMs in an isolated buildroot, publish signed dnf repositories, and run a self-hosted,
/// Copr-compatible build service.
#[derive(Debug, Parser)]
#[command(name = "copr", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Options accepted by every subcommand.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Show more detail: stream build logs and debug messages.
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// Print only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Output format for data printed to stdout.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// Disable colours (also honoured: the NO_COLOR environment variable).
    #[arg(long, global = true)]
    pub no_color: bool,
}

/// How data is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable text and tables.
    Text,
    /// Machine-readable JSON on stdout.
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build RPMs from a spec directory, spec file, SRPM, URL or git repository in an isolated
    /// buildroot.
    Build(BuildArgs),
    /// Make only the source RPM from a spec directory, spec file, URL or git repository.
    Srpm(SrpmArgs),
    /// Print the mock config a build in CHROOT would use (as Copr's builder writes it).
    MockConfig(MockConfigArgs),
    /// Write rpm-md repository metadata (repodata/) for a directory of RPMs.
    Createrepo(CreaterepoArgs),
    /// Generate and export OpenPGP signing keys.
    Key(KeyArgs),
    /// Add OpenPGP header signatures to RPM packages in place (like `rpmsign --addsign`).
    Sign(SignArgs),
    /// Release a module from builds, build a module from modulemd, or check modulemd files.
    Module(ModuleArgs),
    /// Run the build service (Copr API v3 compatible), or manage its users with `serve admin`.
    Serve(Box<ServeArgs>),
    /// Run a build machine for `copr serve`: take tasks, build them, upload the results.
    Builder(BuilderArgs),
    // ----- remote commands (API v3 client), named as in copr-cli -----
    /// Print the user name the configured API token belongs to.
    Whoami(WhoamiArgs),
    /// Get a new API token and save it in the configuration file (the old token stops working).
    NewApiToken(NewApiTokenArgs),
    /// List the projects of a user or @group (default: yourself).
    List(ListArgs),
    /// Show one project.
    Get(GetArgs),
    /// Create a project.
    Create(CreateArgs),
    /// Change settings of an existing project; options not given are left unchanged.
    Modify(ModifyArgs),
    /// Delete a project with all its builds.
    Delete(DeleteArgs),
    /// Fork a project (settings, packages and latest builds) into a new or existing one.
    Fork(ForkArgs),
    /// Regenerate the repository metadata of a project.
    RegenerateRepos(RegenerateReposArgs),
    /// List the builds of a project.
    ListBuilds(ListBuildsArgs),
    /// Print the state of a build.
    Status(StatusArgs),
    /// Follow builds until they finish; exits 4 if one failed or was canceled.
    WatchBuild(WatchBuildArgs),
    /// Cancel an unfinished build.
    Cancel(CancelArgs),
    /// Delete finished builds.
    DeleteBuild(DeleteBuildArgs),
    /// Download the results of a build into a local directory, one subdirectory per chroot.
    DownloadBuild(DownloadBuildArgs),
    /// Run a remote build's task again locally, from the job spec its builder ran.
    Repro(ReproArgs),
    /// Show the latest build of every package in every chroot of a project.
    Monitor(MonitorArgs),
    /// List the chroots the server offers.
    ListChroots(ListChrootsArgs),
    /// Show the settings of one chroot of a project.
    GetChroot(GetChrootArgs),
    /// Change the settings of one chroot of a project.
    EditChroot(EditChrootArgs),
    /// List the packages of a project.
    ListPackages(ListPackagesArgs),
    /// Print the names of a project's packages, one per line.
    ListPackageNames(ListPackageNamesArgs),
    /// Show one package of a project.
    GetPackage(GetPackageArgs),
    /// Add a package built from a Git or SVN repository.
    AddPackageScm(AddPackageScmArgs),
    /// Change the source or settings of an SCM package; options not given are left unchanged.
    EditPackageScm(EditPackageScmArgs),
    /// Delete a package and its builds from a project.
    DeletePackage(PackageNameArgs),
    /// Forget a package's source settings (its builds stay).
    ResetPackage(PackageNameArgs),
    /// Build a package of a project from its stored source settings.
    BuildPackage(BuildPackageArgs),
    /// Build from a Git or SVN repository.
    Buildscm(BuildScmArgs),
    /// Benchmarks against the tools users would pick instead (createrepo_c, rpmsign).
    Bench(BenchArgs),
    /// Print a shell completion script to stdout.
    Completions(CompletionsArgs),
}

/// Arguments of `copr completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

// ---- repo: repositories, keys and signing ----

/// Compression of repository metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MetadataCompression {
    /// gzip (`.xml.gz`), readable by every dnf and yum.
    Gz,
    /// zstd (`.xml.zst`), createrepo_c ≥ 1.0's default.
    Zstd,
}

/// Arguments of `copr createrepo`.
#[derive(Debug, Args)]
pub struct CreaterepoArgs {
    /// Directory holding the RPMs (searched recursively); repodata/ is written inside it.
    pub dir: std::path::PathBuf,

    /// Reuse the metadata of packages whose location, size and mtime are unchanged since the last
    /// run (kept in repodata/.copr-cache); without a usable cache everything is regenerated.
    #[arg(long)]
    pub update: bool,

    /// Worker threads for reading, hashing and compressing (default: number of cores).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub workers: Option<u16>,

    /// Compression of the metadata files.
    #[arg(long, value_enum, default_value_t = MetadataCompression::Gz)]
    pub compress: MetadataCompression,

    /// Secret key file (secret.asc from `copr key generate`) to sign repomd.xml with; writes
    /// repodata/repomd.xml.asc.
    #[arg(long, value_name = "KEY")]
    pub sign_key: Option<std::path::PathBuf>,

    /// A modules.yaml to publish as the `modules` metadata (default: DIR/modules.yaml if present).
    #[arg(long, value_name = "FILE")]
    pub modules: Option<std::path::PathBuf>,

    /// Also write DIR/copr.repo, a dnf .repo file pointing at DIR with file:// URLs.
    #[arg(long)]
    pub repo_file: bool,

    /// Public key for the .repo file's gpgkey= (default: pubkey.gpg next to the --sign-key file).
    #[arg(long, value_name = "FILE", requires = "repo_file")]
    pub gpgkey: Option<std::path::PathBuf>,
}

/// Arguments of `copr key`.
#[derive(Debug, Args)]
pub struct KeyArgs {
    #[command(subcommand)]
    pub command: KeyCommand,
}

/// Key algorithms for `copr key generate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyAlgorithmArg {
    /// RSA 4096: verified by every rpm and GnuPG version.
    Rsa4096,
    /// RSA 3072.
    Rsa3072,
    /// Ed25519: small and fast; needs rpm ≥ 4.16.
    Ed25519,
}

/// `copr key` subcommands.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Generate a signing key for a project: writes DIR/pubkey.gpg and DIR/secret.asc (0600).
    Generate(KeyGenerateArgs),
    /// Print the armored public key of a secret key file to stdout (or write it with --out).
    Export(KeyExportArgs),
}

/// Arguments of `copr key generate`.
#[derive(Debug, Args)]
pub struct KeyGenerateArgs {
    /// Project the key belongs to, as OWNER/PROJECT (gives the user id
    /// `OWNER_PROJECT (copr) <OWNER#PROJECT@copr.local>`).
    #[arg(long, value_name = "OWNER/PROJECT")]
    pub name: String,

    /// Directory to write pubkey.gpg and secret.asc into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: std::path::PathBuf,

    /// E-mail address of the user id (default: OWNER#PROJECT@copr.local).
    #[arg(long)]
    pub email: Option<String>,

    /// Key algorithm.
    #[arg(long, value_enum, default_value_t = KeyAlgorithmArg::Rsa4096)]
    pub algorithm: KeyAlgorithmArg,

    /// Validity in days; 0 means the key never expires.
    #[arg(long, default_value_t = 1825)]
    pub expire_days: u64,

    /// Replace an existing secret.asc in DIR.
    #[arg(long)]
    pub force: bool,
}

/// Arguments of `copr key export`.
#[derive(Debug, Args)]
pub struct KeyExportArgs {
    /// Secret key file (secret.asc).
    #[arg(long, value_name = "KEY")]
    pub key: std::path::PathBuf,

    /// Write the public key to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
}

/// Arguments of `copr sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// Secret key file (secret.asc from `copr key generate`).
    #[arg(long, value_name = "KEY")]
    pub key: std::path::PathBuf,

    /// Re-sign packages that already carry a signature by this key.
    #[arg(long)]
    pub force: bool,

    /// RPM files to sign in place.
    #[arg(required = true, value_name = "FILE.rpm")]
    pub files: Vec<std::path::PathBuf>,
}

/// Arguments of `copr bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub command: BenchCommand,
}

/// `copr bench` subcommands.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Compare `copr createrepo` with createrepo_c on synthetic repositories.
    Createrepo(BenchCreaterepoArgs),
    /// Compare `copr sign` with `rpmsign --addsign` (GnuPG).
    Sign(BenchSignArgs),
    /// Run every benchmark with default sizes.
    All(BenchAllArgs),
}

/// Arguments of `copr bench createrepo`.
#[derive(Debug, Args)]
pub struct BenchCreaterepoArgs {
    /// Repository sizes (number of small packages) to test.
    #[arg(long, value_delimiter = ',', default_values_t = [2000u32, 10000])]
    pub sizes: Vec<u32>,

    /// Also test a set of packages with large payloads (count × MiB each).
    #[arg(long, default_value = "20x25")]
    pub large: String,

    /// Worker threads given to both tools (default: number of cores).
    #[arg(long)]
    pub workers: Option<u16>,

    /// Runs per measurement; the best is reported.
    #[arg(long, default_value_t = 3)]
    pub runs: u32,

    /// Keep the generated repositories here instead of a temporary directory.
    #[arg(long, value_name = "DIR")]
    pub workdir: Option<std::path::PathBuf>,
}

/// Arguments of `copr bench sign`.
#[derive(Debug, Args)]
pub struct BenchSignArgs {
    /// Number of packages to sign.
    #[arg(long, default_value_t = 500)]
    pub packages: u32,

    /// Keep the generated packages here instead of a temporary directory.
    #[arg(long, value_name = "DIR")]
    pub workdir: Option<std::path::PathBuf>,
}

/// Arguments of `copr bench all`.
#[derive(Debug, Args)]
pub struct BenchAllArgs {
    /// Keep the generated data here instead of a temporary directory.
    #[arg(long, value_name = "DIR")]
    pub workdir: Option<std::path::PathBuf>,
}

// ---- pipeline: `copr build`, `copr srpm` ----

/// Where the sources come from and how the SRPM is made (shared by `build` and `srpm`).
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// What to build: a directory with a spec and its sources (default `.`), a `.spec` file, a
    /// `.src.rpm`, an http(s) URL of a `.spec` or `.src.rpm`, or a git repository (URL, or local
    /// path with --git/--committish). With `--method custom`: the script to run.
    #[arg(value_name = "SOURCE")]
    pub source: Option<String>,

    /// How the SRPM is made (default: rpmbuild, or `method` from the tree's copr.toml).
    #[arg(long, value_enum)]
    pub method: Option<crate::job::SrpmMethod>,

    /// Treat SOURCE as a git repository even when it is a local directory.
    #[arg(long)]
    pub git: bool,

    /// Git branch, tag or commit to build (implies a git source).
    #[arg(long, value_name = "REF")]
    pub committish: Option<String>,

    /// Subdirectory of the source tree that holds the package.
    #[arg(long, value_name = "PATH")]
    pub subdir: Option<std::path::PathBuf>,

    /// The spec file, relative to the package directory, when it holds more than one.
    #[arg(long, value_name = "PATH")]
    pub spec: Option<std::path::PathBuf>,

    /// Buildroot backend (default: mock when installed, sandbox otherwise).
    #[arg(long, value_enum)]
    pub backend: Option<crate::mock::BackendKind>,

    /// Define an rpm macro, as `NAME VALUE` (repeatable).
    #[arg(long = "define", short = 'D', value_name = "'NAME VALUE'")]
    pub defines: Vec<String>,

    /// Enable an rpm `--with` conditional (repeatable).
    #[arg(long = "with", value_name = "OPTION")]
    pub with: Vec<String>,

    /// Enable an rpm `--without` conditional (repeatable).
    #[arg(long = "without", value_name = "OPTION")]
    pub without: Vec<String>,

    /// Kill the build (its whole process tree) after this many seconds [default: 18000].
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
}

/// Arguments of `copr build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub source: SourceArgs,

    /// Chroot to build for (repeatable) [default: host-<arch>, or `chroots` from copr.toml].
    #[arg(long = "chroot", short = 'r', value_name = "CHROOT")]
    pub chroots: Vec<String>,

    /// Directory that receives the results (Copr's layout) and the repository of earlier builds.
    #[arg(long, value_name = "DIR", default_value = "copr-results")]
    pub resultdir: std::path::PathBuf,

    /// Extra repository for BuildRequires: an http(s) base URL or a local directory (repeatable).
    #[arg(long = "repo", value_name = "URL|DIR")]
    pub repos: Vec<String>,

    /// Extra package to install into the buildroot (repeatable).
    #[arg(long = "buildroot-pkg", value_name = "PKG")]
    pub buildroot_pkgs: Vec<String>,

    /// Allow network access inside the buildroot (off by default).
    #[arg(long)]
    pub enable_net: bool,

    /// Build even when BuildRequires are not satisfied.
    #[arg(long)]
    pub nodeps: bool,

    /// Memory limit of the build's processes: bytes, or with a K/M/G/T suffix (e.g. 4G).
    #[arg(long, value_name = "SIZE", value_parser = crate::mock::hostconfig::parse_size)]
    pub memory_limit: Option<u64>,

    /// Print the resolved job spec (TOML, or JSON with --output json) instead of building.
    #[arg(long)]
    pub dry_run: bool,

    /// Run the job spec in FILE (TOML, or JSON for `*.json`) instead of resolving SOURCE and flags.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["source", "method", "git", "committish", "subdir", "spec", "chroots"])]
    pub job: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub remote: RemoteBuildArgs,
}

// ---- remote: `copr build --remote`, `copr repro` ----

/// Options of `copr build` that send the build to a Copr server instead of building locally.
#[derive(Debug, Clone, Args)]
pub struct RemoteBuildArgs {
    /// Build on the Copr server of the configuration, in [OWNER/]PROJECT[:DIRSUFFIX]: an SRPM is
    /// uploaded, a directory, spec or local git tree is made into an SRPM here and uploaded, an
    /// http(s) URL of a .spec/.src.rpm or a remote git URL is passed to the server.
    #[arg(long = "remote", value_name = "[OWNER/]PROJECT", conflicts_with_all = ["dry_run", "job", "repos", "buildroot_pkgs", "nodeps", "memory_limit"])]
    pub project: Option<String>,

    /// With --remote: pass SOURCE to the server as a git clone URL (build/create/scm), with
    /// --committish, --subdir, --spec and --method, instead of making the SRPM here.
    #[arg(long, requires = "project")]
    pub scm: bool,

    /// With --remote: print the new build's ID and return without waiting for it.
    #[arg(long, requires = "project")]
    pub nowait: bool,

    /// With --remote: run the build with lower priority (after other owners' builds).
    #[arg(long, requires = "project")]
    pub background: bool,

    /// With --remote: start after the batch containing this build has finished.
    #[arg(
        long,
        value_name = "BUILD_ID",
        requires = "project",
        conflicts_with = "with_build_id"
    )]
    pub after_build_id: Option<i64>,

    /// With --remote: run in the same batch as this build.
    #[arg(long, value_name = "BUILD_ID", requires = "project")]
    pub with_build_id: Option<i64>,

    /// With --remote: seconds between two status checks while waiting.
    #[arg(long, value_name = "SECONDS", default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..))]
    pub poll_interval: u64,

    /// copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url
    /// [default: ~/.config/copr].
    #[arg(long, value_name = "FILE", requires = "project")]
    pub config: Option<std::path::PathBuf>,
}

/// Arguments of `copr repro`.
#[derive(Debug, Args)]
pub struct ReproArgs {
    /// The remote build to reproduce, as BUILD_ID (its source task: the SRPM build) or
    /// BUILD_ID:CHROOT (one chroot's build).
    #[arg(value_name = "BUILD_ID[:CHROOT]")]
    pub task: String,

    /// Directory that receives the results of the local run.
    #[arg(long, value_name = "DIR", default_value = "copr-repro")]
    pub resultdir: std::path::PathBuf,

    /// Buildroot backend [default: the one the builder used].
    #[arg(long, value_enum)]
    pub backend: Option<crate::mock::BackendKind>,

    /// Print the job spec as the local run will use it (TOML, or JSON with --output json)
    /// instead of running it.
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Arguments of `copr srpm`.
#[derive(Debug, Args)]
pub struct SrpmArgs {
    #[command(flatten)]
    pub source: SourceArgs,

    /// Directory that receives the SRPM.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub outdir: std::path::PathBuf,
}

// ---- sandbox area: buildroot backends ----

/// Arguments of `copr mock-config`.
#[derive(Debug, Args)]
pub struct MockConfigArgs {
    /// `OWNER/PROJECT` (sets %copr_username, %copr_projectname and %vendor), or the chroot
    /// when no project is given.
    #[arg(value_name = "OWNER/PROJECT")]
    pub project_or_chroot: String,

    /// Chroot whose base config is included, e.g. `fedora-40-x86_64`.
    #[arg(value_name = "CHROOT")]
    pub chroot: Option<String>,

    /// A repository for BuildRequires (base URL); repeat for several, highest priority first.
    #[arg(long = "repo", value_name = "URL")]
    pub repos: Vec<String>,

    /// Allow network access during the build.
    #[arg(long)]
    pub enable_net: bool,

    /// Define an rpm macro for the build; repeat for several.
    #[arg(long = "macro", value_name = "NAME=VALUE")]
    pub macros: Vec<String>,

    /// Extra package to install into the buildroot; repeat for several.
    #[arg(long = "buildroot-pkg", value_name = "PKG")]
    pub buildroot_pkgs: Vec<String>,

    /// How mock sets up the buildroot's package manager.
    #[arg(long, value_enum, default_value_t = crate::mock::mockcfg::Bootstrap::Default)]
    pub bootstrap: crate::mock::mockcfg::Bootstrap,

    /// Container image for `--bootstrap custom-image`.
    #[arg(long, value_name = "IMAGE")]
    pub bootstrap_image: Option<String>,

    /// Buildroot isolation (`simple` or `nspawn`; mock's default when not given).
    #[arg(long, value_name = "KIND", value_parser = ["default", "simple", "nspawn"])]
    pub isolation: Option<String>,

    /// Module to enable in the buildroot, `NAME:STREAM`; repeat for several.
    #[arg(long = "enable-module", value_name = "NAME:STREAM")]
    pub modules: Vec<String>,
}

// ----- server (`copr serve`) -----

/// Arguments of `copr serve`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = false)]
pub struct ServeArgs {
    /// TOML configuration file (keys: listen, public_url, data_dir, database, chroots,
    /// upload_limit, token_lifetime_days).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,

    /// Data directory: SQLite database, results, uploads and project keys [default: ./copr-data].
    #[arg(long, global = true, value_name = "DIR")]
    pub data: Option<std::path::PathBuf>,

    /// Database URL: postgres://USER:PASSWORD@HOST/DB or sqlite://PATH [default: SQLite in the
    /// data directory].
    #[arg(long, global = true, value_name = "URL")]
    pub database: Option<String>,

    /// Address to listen on; port 0 picks a free port [default: 127.0.0.1:5000].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,

    /// The URL clients reach this server at, used in result and repository URLs
    /// [default: http://LISTEN-ADDRESS].
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,

    /// Write the bound address (HOST:PORT) to this file once the server listens.
    #[arg(long, value_name = "FILE")]
    pub port_file: Option<std::path::PathBuf>,

    #[command(subcommand)]
    pub action: Option<ServeAction>,
}

/// Subcommands of `copr serve`.
#[derive(Debug, Subcommand)]
pub enum ServeAction {
    /// Manage users, groups and API tokens (works on the database directly).
    #[command(subcommand)]
    Admin(AdminCommand),
}

/// `copr serve admin …`.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a user and print its API login and token.
    AddUser {
        /// The user name (letters, digits, `_`, `.`, `-`).
        name: String,
        /// Make the user a site admin (may act on every project).
        #[arg(long)]
        admin: bool,
    },
    /// Create a group; its projects are owned by `@NAME`.
    AddGroup {
        /// The group name.
        name: String,
    },
    /// Add a user to a group.
    AddMember {
        /// The group name (with or without `@`).
        group: String,
        /// The user name.
        user: String,
    },
    /// Remove a user from a group.
    RemoveMember {
        /// The group name (with or without `@`).
        group: String,
        /// The user name.
        user: String,
    },
    /// Issue a new API token for a user; the old token stops working.
    RenewToken {
        /// The user name.
        name: String,
    },
    /// Register a build machine and print its token (for `copr builder --token`); the token
    /// is shown only once.
    AddBuilder {
        /// The builder name (letters, digits, `_`, `.`, `-`).
        name: String,
    },
    /// Fill a project with builds, for benchmarks.
    #[command(hide = true)]
    SeedBench {
        /// Owner of the project (created when missing).
        owner: String,
        /// Project name (created when missing).
        project: String,
        /// Number of builds to add.
        #[arg(long, default_value_t = 100_000)]
        builds: usize,
        /// Chroot of the project and its builds.
        #[arg(long, default_value = "fedora-42-x86_64")]
        chroot: String,
    },
}

// ----- client: remote commands -----

/// Where the remote commands find the server and credentials.
#[derive(Debug, Clone, Args)]
pub struct RemoteArgs {
    /// copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url
    /// [default: ~/.config/copr].
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
}

/// `on` or `off`, as copr-cli spells booleans of projects and builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

impl OnOff {
    pub fn as_bool(self) -> bool {
        self == OnOff::On
    }
}

/// Mock isolation of build commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Isolation {
    Default,
    Simple,
    Nspawn,
}

/// Mock's bootstrap chroot setting of a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Bootstrap {
    Default,
    On,
    Off,
    Image,
}

/// Mock's bootstrap chroot setting of a build or chroot; `unchanged` keeps the project's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BuildBootstrap {
    Unchanged,
    Default,
    On,
    Off,
    Image,
}

/// Arguments of `copr whoami`.
#[derive(Debug, Args)]
pub struct WhoamiArgs {
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Arguments of `copr list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The user or @group whose projects to list (default: the configured username).
    #[arg(value_name = "USERNAME|@GROUP")]
    pub owner: Option<String>,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Arguments of `copr get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The project: OWNER/PROJECT, @GROUP/PROJECT, or PROJECT of the configured user.
    pub project: String,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Project settings shared by `create` and `modify`.
#[derive(Debug, Clone, Args)]
pub struct ProjectSettingsArgs {
    /// Description of the project.
    #[arg(long)]
    pub description: Option<String>,
    /// Installation instructions shown with the project.
    #[arg(long)]
    pub instructions: Option<String>,
    /// Homepage of the packaged software.
    #[arg(long)]
    pub homepage: Option<String>,
    /// How to contact the maintainers (e-mail or URL).
    #[arg(long)]
    pub contact: Option<String>,
    /// Repository enabled at build time (repeatable; `copr://owner/project` allowed).
    #[arg(long = "repo", value_name = "REPO_BASEURL")]
    pub repos: Vec<String>,
    /// Repository enabled together with this project's by `dnf copr enable` (repeatable).
    #[arg(long = "runtime-repo-dependency", value_name = "REPO_BASEURL")]
    pub runtime_dependencies: Vec<String>,
    /// Forge project allowed to build here via Packit, e.g. github.com/packit/ogr (repeatable).
    #[arg(long = "packit-forge-project-allowed", value_name = "FORGE_PROJECT")]
    pub packit_forge_projects_allowed: Vec<String>,
    /// Disable automatic repository metadata generation (builds land in devel/ until
    /// `regenerate-repos`); true or false.
    #[arg(long = "disable_createrepo", value_name = "BOOL", value_parser = parse_bool_arg)]
    pub disable_createrepo: Option<bool>,
    /// Allow network access during builds.
    #[arg(long, value_enum)]
    pub enable_net: Option<OnOff>,
    /// Hide the project from the home page.
    #[arg(long, value_enum)]
    pub unlisted_on_hp: Option<OnOff>,
    /// Delete obsolete builds automatically (admin only to turn off).
    #[arg(long, value_enum)]
    pub auto_prune: Option<OnOff>,
    /// Isolation of commands run in the buildroot.
    #[arg(long, value_enum)]
    pub isolation: Option<Isolation>,
    /// Mock's bootstrap chroot: default (mock-core-configs), on, off, or a container image.
    #[arg(long, value_enum)]
    pub bootstrap: Option<Bootstrap>,
    /// Delete the project after this many days (-1 disables).
    #[arg(long, value_name = "DAYS", allow_hyphen_values = true)]
    pub delete_after_days: Option<i64>,
    /// Let packages of this project override packages of active module streams.
    #[arg(long, value_enum)]
    pub module_hotfixes: Option<OnOff>,
    /// Offer 32-bit packages on 64-bit multilib systems too.
    #[arg(long, value_enum)]
    pub multilib: Option<OnOff>,
    /// Generate AppStream metadata.
    #[arg(long, value_enum)]
    pub appstream: Option<OnOff>,
    /// Add chroots of a new Fedora branch automatically.
    #[arg(long, value_enum)]
    pub follow_fedora_branching: Option<OnOff>,
    /// dnf priority of this project's repositories.
    #[arg(long, value_name = "PRIORITY")]
    pub repo_priority: Option<i64>,
}

/// Arguments of `copr create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The new project: NAME for yourself, or OWNER/NAME, @GROUP/NAME.
    pub name: String,
    /// A chroot to build for, e.g. fedora-40-x86_64 (repeatable; at least one).
    #[arg(long = "chroot", value_name = "CHROOT", required = true)]
    pub chroots: Vec<String>,
    /// Run fedora-review after each build in fedora chroots.
    #[arg(long)]
    pub fedora_review: bool,
    /// Make the project and its builds undeletable (admin only).
    #[arg(long)]
    pub persistent: bool,
    /// Where results are stored (admin only).
    #[arg(long, value_parser = ["backend", "pulp"])]
    pub storage: Option<String>,
    #[command(flatten)]
    pub settings: ProjectSettingsArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Arguments of `copr modify`.
#[derive(Debug, Args)]
pub struct ModifyArgs {
    /// The project: [OWNER/]PROJECT.
    pub name: String,
    /// The complete new list of chroots (repeatable); chroots not listed are disabled.
    #[arg(long = "chroot", value_name = "CHROOT")]
    pub chroots: Vec<String>,
    /// Run fedora-review after each build in fedora chroots.
    #[arg(long, value_enum)]
    pub fedora_review: Option<OnOff>,
    #[command(flatten)]
    pub settings: ProjectSettingsArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Arguments of `copr delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The project to delete: [OWNER/]PROJECT.
    pub project: String,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Arguments of `copr fork`.
#[derive(Debug, Args)]
pub struct ForkArgs {
    /// The project to fork: [OWNER/]PROJECT.
    pub src: String,
    /// The new project: [OWNER/]NAME.
    pub dst: String,
    /// Fork into an existing project, updating its packages.
    #[arg(long)]
    pub confirm: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Arguments of `copr regenerate-repos`.
#[derive(Debug, Args)]
pub struct RegenerateReposArgs {
    /// The project: [OWNER/]PROJECT.
    pub project: String,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Arguments of `copr list-builds`.
#[derive(Debug, Args)]
pub struct ListBuildsArgs {
    /// The project: [OWNER/]PROJECT.
    pub project: String,
    /// Only builds of this package.
    #[arg(long, value_name = "PKGNAME")]
    pub package: Option<String>,
    /// Only builds in this state (pending, running, succeeded, failed, canceled, …).
    #[arg(long, value_name = "STATE")]
    pub status: Option<String>,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Arguments of `copr status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The build ID.
    pub build_id: i64,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Arguments of `copr cancel`.
#[derive(Debug, Args)]
pub struct CancelArgs {
    /// The build ID.
    pub build_id: i64,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Arguments of `copr delete-build`.
#[derive(Debug, Args)]
pub struct DeleteBuildArgs {
    /// The build IDs.
    #[arg(required = true)]
    pub build_ids: Vec<i64>,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// How often a build is polled while waiting for it.
#[derive(Debug, Clone, Args)]
pub struct PollArgs {
    /// Seconds between two status checks while waiting (copr-cli waits 30).
    #[arg(long, value_name = "SECONDS", default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..))]
    pub poll_interval: u64,
}

/// Arguments of `copr watch-build`.
#[derive(Debug, Args)]
pub struct WatchBuildArgs {
    /// The build IDs.
    #[arg(required = true)]
    pub build_ids: Vec<i64>,
    #[command(flatten)]
    pub poll: PollArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Arguments of `copr download-build`.
#[derive(Debug, Args)]
pub struct DownloadBuildArgs {
    /// The build ID.
    pub build_id: i64,
    /// Only these chroots (repeatable).
    #[arg(short = 'r', long = "chroot", value_name = "CHROOT")]
    pub chroots: Vec<String>,
    /// Directory to download into; one subdirectory per chroot is created.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    pub dest: std::path::PathBuf,
    /// Download only the built RPM packages (binary and source).
    #[arg(long)]
    pub rpms: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Arguments of `copr list-chroots`.
#[derive(Debug, Args)]
pub struct ListChrootsArgs {
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Arguments of `copr get-chroot`.
#[derive(Debug, Args)]
pub struct GetChrootArgs {
    /// The project chroot: OWNER/PROJECT/CHROOT, or PROJECT/CHROOT of the configured user.
    pub coprchroot: String,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Arguments of `copr edit-chroot`.
#[derive(Debug, Args)]
pub struct EditChrootArgs {
    /// The project chroot: OWNER/PROJECT/CHROOT, or PROJECT/CHROOT of the configured user.
    pub coprchroot: String,
    /// A comps.xml file to upload for the chroot.
    #[arg(long, value_name = "FILEPATH", conflicts_with = "delete_comps")]
    pub upload_comps: Option<std::path::PathBuf>,
    /// Delete the chroot's comps.xml.
    #[arg(long)]
    pub delete_comps: bool,
    /// Space-separated packages installed into the buildroot.
    #[arg(long, value_name = "PACKAGES")]
    pub packages: Option<String>,
    /// Space-separated additional repository URLs for the chroot.
    #[arg(long, value_name = "REPOS")]
    pub repos: Option<String>,
    /// Comma-separated modules to enable or disable, e.g. `nodejs:16,!ruby:2.7`.
    #[arg(long, value_name = "MODULES")]
    pub modules: Option<String>,
    /// rpmbuild --with option (repeatable).
    #[arg(long, value_name = "OPTION")]
    pub rpmbuild_with: Vec<String>,
    /// rpmbuild --without option (repeatable).
    #[arg(long, value_name = "OPTION")]
    pub rpmbuild_without: Vec<String>,
    /// Isolation of commands run in the buildroot.
    #[arg(long, value_enum)]
    pub isolation: Option<Isolation>,
    /// Mock's bootstrap chroot for this chroot.
    #[arg(long, value_enum)]
    pub bootstrap: Option<BuildBootstrap>,
    /// Container image for mock's bootstrap chroot (implies --bootstrap image).
    #[arg(long, value_name = "IMAGE")]
    pub bootstrap_image: Option<String>,
    /// Reset a field to its default, e.g. additional_packages (repeatable).
    #[arg(long, value_name = "FIELD")]
    pub reset: Vec<String>,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Arguments of `copr list-packages`.
#[derive(Debug, Args)]
pub struct ListPackagesArgs {
    /// The project: [OWNER/]PROJECT.
    pub copr: String,
    /// Include each package's latest build.
    #[arg(long)]
    pub with_latest_build: bool,
    /// Include each package's latest succeeded build.
    #[arg(long)]
    pub with_latest_succeeded_build: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Arguments of `copr get-package`.
#[derive(Debug, Args)]
pub struct GetPackageArgs {
    /// The project: [OWNER/]PROJECT.
    pub copr: String,
    /// The package name.
    #[arg(long, value_name = "PKGNAME")]
    pub name: String,
    /// Include the package's latest build.
    #[arg(long)]
    pub with_latest_build: bool,
    /// Include the package's latest succeeded build.
    #[arg(long)]
    pub with_latest_succeeded_build: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// How sources are taken from a Git or SVN repository.
#[derive(Debug, Clone, Args)]
pub struct ScmArgs {
    /// Branch, tag or commit to build (default: the repository's default branch).
    #[arg(long = "commit", value_name = "COMMITTISH")]
    pub committish: Option<String>,
    /// Subdirectory of the repository holding the spec file (default: the top).
    #[arg(long = "subdir", value_name = "SUBDIRECTORY")]
    pub subdirectory: Option<String>,
    /// Path of the spec file within the subdirectory (default: found automatically).
    #[arg(long, value_name = "SPEC")]
    pub spec: Option<String>,
    /// Repository type (default: git).
    #[arg(long = "type", value_parser = ["git", "svn"])]
    pub scm_type: Option<String>,
    /// Tool that produces the SRPM (default: rpkg).
    #[arg(long = "method", value_parser = ["rpkg", "tito", "tito_test", "make_srpm"])]
    pub srpm_build_method: Option<String>,
}

/// Settings of a package, whatever its source.
#[derive(Debug, Clone, Args)]
pub struct PackageSettingsArgs {
    /// Rebuild the package when its repository's webhook fires.
    #[arg(long, value_enum)]
    pub webhook_rebuild: Option<OnOff>,
    /// Keep only this many newest builds (0 keeps all).
    #[arg(long, value_name = "N")]
    pub max_builds: Option<u64>,
    /// Build timeout in seconds (default on the server: 18000).
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// Comma-separated chroot patterns never built, e.g. 'fedora-*,epel-*-i386'.
    #[arg(long, value_name = "PATTERNS")]
    pub chroot_denylist: Option<String>,
}

/// Arguments of `copr add-package-scm`.
#[derive(Debug, Args)]
pub struct AddPackageScmArgs {
    /// The project: [OWNER/]PROJECT.
    pub copr: String,
    /// The package name.
    #[arg(long, value_name = "PKGNAME")]
    pub name: String,
    /// URL of the repository to clone.
    #[arg(long, value_name = "URL")]
    pub clone_url: String,
    #[command(flatten)]
    pub scm: ScmArgs,
    #[command(flatten)]
    pub settings: PackageSettingsArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Arguments of `copr edit-package-scm`.
#[derive(Debug, Args)]
pub struct EditPackageScmArgs {
    /// The project: [OWNER/]PROJECT.
    pub copr: String,
    /// The package name.
    #[arg(long, value_name = "PKGNAME")]
    pub name: String,
    /// URL of the repository to clone.
    #[arg(long, value_name = "URL")]
    pub clone_url: Option<String>,
    #[command(flatten)]
    pub scm: ScmArgs,
    #[command(flatten)]
    pub settings: PackageSettingsArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Options of every command that submits a build.
#[derive(Debug, Clone, Args)]
pub struct BuildOptionArgs {
    /// Build only for this chroot of the project (repeatable; patterns like fedora-* allowed).
    #[arg(short = 'r', long = "chroot", value_name = "CHROOT")]
    pub chroots: Vec<String>,
    /// Skip this chroot of the project (repeatable).
    #[arg(long = "exclude-chroot", value_name = "CHROOT")]
    pub exclude_chroots: Vec<String>,
    /// Build timeout in seconds (the server's default is 5 hours).
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// Print the new build's ID and return without waiting for it.
    #[arg(long)]
    pub nowait: bool,
    /// Run the build with lower priority.
    #[arg(long)]
    pub background: bool,
    /// Isolation of commands run in the buildroot (default: the project's).
    #[arg(long, value_enum)]
    pub isolation: Option<Isolation>,
    /// Network access during the build (default: the project's setting).
    #[arg(long, value_enum)]
    pub enable_net: Option<OnOff>,
    /// Mock's bootstrap chroot for this build (default: unchanged).
    #[arg(long, value_enum)]
    pub bootstrap: Option<BuildBootstrap>,
    /// Start after the batch containing this build has finished.
    #[arg(long, value_name = "BUILD_ID", conflicts_with = "with_build_id")]
    pub after_build_id: Option<i64>,
    /// Run in the same batch as this build.
    #[arg(long, value_name = "BUILD_ID")]
    pub with_build_id: Option<i64>,
    #[command(flatten)]
    pub poll: PollArgs,
}

/// Arguments of `copr build-package`.
#[derive(Debug, Args)]
pub struct BuildPackageArgs {
    /// The project: [OWNER/]PROJECT[:DIRSUFFIX].
    pub copr_repo: String,
    /// The package to build.
    #[arg(long, value_name = "PKGNAME")]
    pub name: String,
    #[command(flatten)]
    pub build: BuildOptionArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Arguments of `copr buildscm`.
#[derive(Debug, Args)]
pub struct BuildScmArgs {
    /// The project: [OWNER/]PROJECT[:DIRSUFFIX].
    pub copr_repo: String,
    /// URL of the repository to clone.
    #[arg(long, value_name = "URL")]
    pub clone_url: String,
    #[command(flatten)]
    pub scm: ScmArgs,
    #[command(flatten)]
    pub build: BuildOptionArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Python's boolean spellings (`yes/no`, `true/false`, `on/off`, `1/0`), as copr-cli accepts.
fn parse_bool_arg(v: &str) -> Result<bool, String> {
    crate::client::config::parse_bool(v)
        .ok_or_else(|| format!("`{v}` is not a boolean (true/false)"))
}

// ---- modules ----

/// Arguments of `copr module`.
#[derive(Debug, Args)]
pub struct ModuleArgs {
    #[command(subcommand)]
    pub command: ModuleCommand,
}

/// Subcommands of `copr module`.
#[derive(Debug, Subcommand)]
pub enum ModuleCommand {
    /// Release a module (modulemd v2 + defaults) from the latest successful builds and publish it
    /// as `modules.yaml` in each chroot's repository.
    Release(Box<ModuleReleaseArgs>),
    /// Build a module's components in buildorder from a modulemd v2 file, then release it.
    Build(ModuleBuildArgs),
    /// Check modulemd files (modulemd v2, modulemd-defaults v1); errors name their line.
    Validate(ModuleValidateArgs),
    /// List the modules released from a result directory.
    List(ModuleListArgs),
}

/// Arguments of `copr module release` (`--version` is the module version here).
#[derive(Debug, Args)]
#[command(disable_version_flag = true)]
pub struct ModuleReleaseArgs {
    /// Project on a copr server, `[OWNER/]PROJECT`: release from its latest successful builds.
    #[arg(value_name = "[OWNER/]PROJECT", required_unless_present = "resultdir")]
    pub project: Option<String>,

    #[command(flatten)]
    pub remote_args: RemoteArgs,

    /// Local result directory of `copr build` to release the module from.
    #[arg(long, value_name = "DIR", conflicts_with = "project")]
    pub resultdir: Option<std::path::PathBuf>,

    /// Chroot to release for (repeatable); default: every chroot with successful builds.
    #[arg(long, value_name = "CHROOT")]
    pub chroot: Vec<String>,

    /// Module name.
    #[arg(long)]
    pub name: Option<String>,

    /// Module stream.
    #[arg(long)]
    pub stream: Option<String>,

    /// Module version; default: the UTC time as YYYYMMDDHHMMSS, above every earlier release.
    #[arg(long)]
    pub version: Option<u64>,

    /// One-line summary of the module.
    #[arg(long)]
    pub summary: Option<String>,

    /// Description of the module.
    #[arg(long)]
    pub description: Option<String>,

    /// License of the module metadata (repeatable); default: MIT. The content licenses come from
    /// the RPMs' License tags.
    #[arg(long, value_name = "LICENSE")]
    pub license: Vec<String>,

    /// Binary package that is part of the module's API (repeatable, or comma-separated).
    #[arg(long, value_name = "PKG", value_delimiter = ',')]
    pub api: Vec<String>,

    /// Install profile as NAME:PKG,PKG (repeatable).
    #[arg(long, value_name = "NAME:PKG,PKG")]
    pub profile: Vec<String>,

    /// Profile `dnf module install NAME:STREAM` installs; default: `default` if defined, else the
    /// first profile.
    #[arg(long, value_name = "NAME")]
    pub default_profile: Option<String>,

    /// Binary package to filter out of the module (repeatable, or comma-separated).
    #[arg(long, value_name = "PKG", value_delimiter = ',')]
    pub filter: Vec<String>,

    /// Stream of the `platform` module the module requires (e.g. f40, el9); default: from the
    /// chroot name (fedora-40-… → f40, epel-9-… → el9), none for other chroots.
    #[arg(long, value_name = "STREAM")]
    pub platform: Option<String>,

    /// Do not depend on a platform module at all.
    #[arg(long, conflicts_with = "platform")]
    pub no_platform: bool,

    /// Also write the released documents (streams and defaults) to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,

    /// Never ask; use defaults for whatever the flags leave open.
    #[arg(long)]
    pub non_interactive: bool,

    /// Print the documents the release would write (YAML on stdout) and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Arguments of `copr module build`.
#[derive(Debug, Args)]
pub struct ModuleBuildArgs {
    /// The modulemd v2 document to build.
    #[arg(value_name = "MODULEMD.yaml")]
    pub modulemd: std::path::PathBuf,

    /// Build on a copr server in this project instead of locally: the server builds the
    /// components group by group and releases the module into the project's repositories.
    #[arg(long, value_name = "[OWNER/]PROJECT")]
    pub remote: Option<String>,

    /// With --remote: submit and return without watching the component builds.
    #[arg(long, requires = "remote")]
    pub nowait: bool,

    /// With --remote: seconds between status checks while watching.
    #[arg(long, value_name = "SECONDS", default_value_t = 5, requires = "remote")]
    pub poll_interval: u64,

    #[command(flatten)]
    pub remote_args: RemoteArgs,

    /// Result directory for the component builds and the module.
    #[arg(long, value_name = "DIR", default_value = "copr-results")]
    pub resultdir: std::path::PathBuf,

    /// Chroot to build in; default: the host chroot.
    #[arg(long, value_name = "CHROOT")]
    pub chroot: Option<String>,

    /// Buildroot backend; default: mock when installed, else sandbox.
    #[arg(long, value_enum)]
    pub backend: Option<crate::mock::BackendKind>,

    /// Also write the released documents to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
}

/// Arguments of `copr module validate`.
#[derive(Debug, Args)]
pub struct ModuleValidateArgs {
    /// modulemd YAML files to check.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<std::path::PathBuf>,
}

/// Arguments of `copr module list`.
#[derive(Debug, Args)]
pub struct ModuleListArgs {
    /// Result directory the modules were released from.
    #[arg(long, value_name = "DIR", default_value = "copr-results")]
    pub resultdir: std::path::PathBuf,
}

/// Arguments of `copr monitor`.
#[derive(Debug, Args)]
pub struct MonitorArgs {
    /// The project: [OWNER/]PROJECT.
    pub project: String,
    /// Project directory, e.g. `foo:pr:125` (default: the project itself).
    #[arg(long, value_name = "DIRNAME")]
    pub dirname: Option<String>,
    /// Comma-separated columns, in order: name, chroot, build_id, state, pkg_version,
    /// url_build_log, url_backend_log, url_build.
    #[arg(long, value_name = "FIELDS", value_delimiter = ',',
          default_value = "name,chroot,build_id,state,pkg_version",
          value_parser = ["name", "chroot", "build_id", "state", "pkg_version", "url_build_log",
                          "url_backend_log", "url_build"])]
    pub fields: Vec<String>,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Arguments of `copr list-package-names`.
#[derive(Debug, Args)]
pub struct ListPackageNamesArgs {
    /// The project: [OWNER/]PROJECT.
    pub copr: String,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Arguments of `copr delete-package` and `copr reset-package`.
#[derive(Debug, Args)]
pub struct PackageNameArgs {
    /// The project: [OWNER/]PROJECT.
    pub copr: String,
    /// The package name.
    #[arg(long, value_name = "PKGNAME")]
    pub name: String,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Arguments of `copr new-api-token`.
#[derive(Debug, Args)]
pub struct NewApiTokenArgs {
    #[command(flatten)]
    pub remote: RemoteArgs,
}

// ----- builder: the build machine agent (`copr builder`) -----

/// Arguments of `copr builder`.
#[derive(Debug, Args)]
pub struct BuilderArgs {
    /// Base URL of the `copr serve` to take tasks from, e.g. https://copr.example.org.
    #[arg(long, value_name = "URL")]
    pub server: String,

    /// The builder token (`copr serve admin add-builder NAME` prints it); also read from the
    /// COPR_BUILDER_TOKEN environment variable, which keeps it out of process listings.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "COPR_BUILDER_TOKEN",
        hide_env_values = true
    )]
    pub token: String,

    /// Architecture this machine builds for [default: the host's].
    #[arg(long, value_name = "ARCH")]
    pub arch: Option<String>,

    /// A tag of this machine (repeatable); the server may require tags for some chroots.
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,

    /// A chroot this machine builds for (repeatable) [default: host-<arch> and the chroots
    /// of the sandbox host configuration].
    #[arg(long = "chroot", value_name = "CHROOT")]
    pub chroots: Vec<String>,

    /// Tasks run in parallel.
    #[arg(long, short = 'j', value_name = "N", default_value_t = 1)]
    pub jobs: usize,

    /// Directory for the per-task work directories (each removed when its task ends)
    /// [default: the system temporary directory].
    #[arg(long, value_name = "DIR")]
    pub workdir: Option<std::path::PathBuf>,

    /// Buildroot backend (default: mock when installed, sandbox otherwise).
    #[arg(long, value_enum)]
    pub backend: Option<crate::mock::BackendKind>,
}
