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
    /// Print a shell completion script to stdout.
    Completions(CompletionsArgs),
    /// Write rpm-md repository metadata (repodata/) for a directory of RPMs.
    Createrepo(CreaterepoArgs),
    /// Generate and export OpenPGP signing keys.
    Key(KeyArgs),
    /// Add OpenPGP header signatures to RPM packages in place (like `rpmsign --addsign`).
    Sign(SignArgs),
    /// Benchmarks against the tools users would pick instead (createrepo_c, rpmsign).
    Bench(BenchArgs),
    /// Build RPMs from a spec directory, spec file, SRPM, URL or git repository in an isolated
    /// buildroot.
    Build(BuildArgs),
    /// Make only the source RPM from a spec directory, spec file, URL or git repository.
    Srpm(SrpmArgs),
    /// Print the mock config a build in CHROOT would use (as Copr's builder writes it).
    MockConfig(MockConfigArgs),
    /// Release a module from builds, build a module from modulemd, or check modulemd files.
    Module(ModuleArgs),
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
    /// Project on a copr server, `[OWNER/]PROJECT` (remote releases are not available yet; use
    /// --resultdir).
    #[arg(value_name = "[OWNER/]PROJECT", required_unless_present = "resultdir")]
    pub project: Option<String>,

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

    /// Build on a copr server in this project instead of locally (not available yet).
    #[arg(long, value_name = "[OWNER/]PROJECT")]
    pub remote: Option<String>,

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
