# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_copr_global_optspecs
    string join \n v/verbose q/quiet output= no-color h/help V/version
end

function __fish_copr_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_copr_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_copr_using_subcommand
    set -l cmd (__fish_copr_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c copr -n "__fish_copr_needs_command" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_needs_command" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_needs_command" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_needs_command" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_needs_command" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_needs_command" -f -a "build" -d 'Build RPMs from a spec directory, spec file, SRPM, URL or git repository in an isolated buildroot'
complete -c copr -n "__fish_copr_needs_command" -f -a "srpm" -d 'Make only the source RPM from a spec directory, spec file, URL or git repository'
complete -c copr -n "__fish_copr_needs_command" -f -a "mock-config" -d 'Print the mock config a build in CHROOT would use (as Copr\'s builder writes it)'
complete -c copr -n "__fish_copr_needs_command" -f -a "createrepo" -d 'Write rpm-md repository metadata (repodata/) for a directory of RPMs'
complete -c copr -n "__fish_copr_needs_command" -f -a "key" -d 'Generate and export OpenPGP signing keys'
complete -c copr -n "__fish_copr_needs_command" -f -a "sign" -d 'Add OpenPGP header signatures to RPM packages in place (like `rpmsign --addsign`)'
complete -c copr -n "__fish_copr_needs_command" -f -a "module" -d 'Release a module from builds, build a module from modulemd, or check modulemd files'
complete -c copr -n "__fish_copr_needs_command" -f -a "serve" -d 'Run the build service (Copr API v3 compatible), or manage its users with `serve admin`'
complete -c copr -n "__fish_copr_needs_command" -f -a "builder" -d 'Run a build machine for `copr serve`: take tasks, build them, upload the results'
complete -c copr -n "__fish_copr_needs_command" -f -a "whoami" -d 'Print the user name the configured API token belongs to'
complete -c copr -n "__fish_copr_needs_command" -f -a "new-api-token" -d 'Get a new API token and save it in the configuration file (the old token stops working)'
complete -c copr -n "__fish_copr_needs_command" -f -a "list" -d 'List the projects of a user or @group (default: yourself)'
complete -c copr -n "__fish_copr_needs_command" -f -a "get" -d 'Show one project'
complete -c copr -n "__fish_copr_needs_command" -f -a "create" -d 'Create a project'
complete -c copr -n "__fish_copr_needs_command" -f -a "modify" -d 'Change settings of an existing project; options not given are left unchanged'
complete -c copr -n "__fish_copr_needs_command" -f -a "delete" -d 'Delete a project with all its builds'
complete -c copr -n "__fish_copr_needs_command" -f -a "fork" -d 'Fork a project (settings, packages and latest builds) into a new or existing one'
complete -c copr -n "__fish_copr_needs_command" -f -a "regenerate-repos" -d 'Regenerate the repository metadata of a project'
complete -c copr -n "__fish_copr_needs_command" -f -a "list-builds" -d 'List the builds of a project'
complete -c copr -n "__fish_copr_needs_command" -f -a "status" -d 'Print the state of a build'
complete -c copr -n "__fish_copr_needs_command" -f -a "watch-build" -d 'Follow builds until they finish; exits 4 if one failed or was canceled'
complete -c copr -n "__fish_copr_needs_command" -f -a "cancel" -d 'Cancel an unfinished build'
complete -c copr -n "__fish_copr_needs_command" -f -a "delete-build" -d 'Delete finished builds'
complete -c copr -n "__fish_copr_needs_command" -f -a "download-build" -d 'Download the results of a build into a local directory, one subdirectory per chroot'
complete -c copr -n "__fish_copr_needs_command" -f -a "repro" -d 'Run a remote build\'s task again locally, from the job spec its builder ran'
complete -c copr -n "__fish_copr_needs_command" -f -a "monitor" -d 'Show the latest build of every package in every chroot of a project'
complete -c copr -n "__fish_copr_needs_command" -f -a "list-chroots" -d 'List the chroots the server offers'
complete -c copr -n "__fish_copr_needs_command" -f -a "get-chroot" -d 'Show the settings of one chroot of a project'
complete -c copr -n "__fish_copr_needs_command" -f -a "edit-chroot" -d 'Change the settings of one chroot of a project'
complete -c copr -n "__fish_copr_needs_command" -f -a "list-packages" -d 'List the packages of a project'
complete -c copr -n "__fish_copr_needs_command" -f -a "list-package-names" -d 'Print the names of a project\'s packages, one per line'
complete -c copr -n "__fish_copr_needs_command" -f -a "get-package" -d 'Show one package of a project'
complete -c copr -n "__fish_copr_needs_command" -f -a "add-package-scm" -d 'Add a package built from a Git or SVN repository'
complete -c copr -n "__fish_copr_needs_command" -f -a "edit-package-scm" -d 'Change the source or settings of an SCM package; options not given are left unchanged'
complete -c copr -n "__fish_copr_needs_command" -f -a "delete-package" -d 'Delete a package and its builds from a project'
complete -c copr -n "__fish_copr_needs_command" -f -a "reset-package" -d 'Forget a package\'s source settings (its builds stay)'
complete -c copr -n "__fish_copr_needs_command" -f -a "build-package" -d 'Build a package of a project from its stored source settings'
complete -c copr -n "__fish_copr_needs_command" -f -a "buildscm" -d 'Build from a Git or SVN repository'
complete -c copr -n "__fish_copr_needs_command" -f -a "bench" -d 'Benchmarks against the tools users would pick instead (createrepo_c, rpmsign)'
complete -c copr -n "__fish_copr_needs_command" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c copr -n "__fish_copr_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c copr -n "__fish_copr_using_subcommand build" -l method -d 'How the SRPM is made (default: rpmbuild, or `method` from the tree\'s copr.toml)' -r -f -a "rpmbuild\t'`rpmbuild -bs` on the spec and the sources in the tree (missing Source URLs downloaded)'
rpkg\t'`rpkg srpm` (rpkg-util)'
tito\t'`tito build --srpm` from the latest tag'
tito-test\t'`tito build --test --srpm` from the latest commit'
make-srpm\t'`make -f .copr/Makefile srpm outdir=… spec=…`, as Copr runs it'
custom\t'A user script that leaves a spec and sources (or an SRPM) in its result directory'"
complete -c copr -n "__fish_copr_using_subcommand build" -l committish -d 'Git branch, tag or commit to build (implies a git source)' -r
complete -c copr -n "__fish_copr_using_subcommand build" -l subdir -d 'Subdirectory of the source tree that holds the package' -r -F
complete -c copr -n "__fish_copr_using_subcommand build" -l spec -d 'The spec file, relative to the package directory, when it holds more than one' -r -F
complete -c copr -n "__fish_copr_using_subcommand build" -l backend -d 'Buildroot backend (default: mock when installed, sandbox otherwise)' -r -f -a "sandbox\t'The host\'s rpmbuild inside bubblewrap; builds for the host (`host-<arch>`)'
mock\t'mock with a Copr-style config (Fedora/EL hosts with mock installed)'"
complete -c copr -n "__fish_copr_using_subcommand build" -s D -l define -d 'Define an rpm macro, as `NAME VALUE` (repeatable)' -r
complete -c copr -n "__fish_copr_using_subcommand build" -l with -d 'Enable an rpm `--with` conditional (repeatable)' -r
complete -c copr -n "__fish_copr_using_subcommand build" -l without -d 'Enable an rpm `--without` conditional (repeatable)' -r
complete -c copr -n "__fish_copr_using_subcommand build" -l timeout -d 'Kill the build (its whole process tree) after this many seconds [default: 18000]' -r
complete -c copr -n "__fish_copr_using_subcommand build" -s r -l chroot -d 'Chroot to build for (repeatable) [default: host-<arch>, or `chroots` from copr.toml]' -r
complete -c copr -n "__fish_copr_using_subcommand build" -l resultdir -d 'Directory that receives the results (Copr\'s layout) and the repository of earlier builds' -r -F
complete -c copr -n "__fish_copr_using_subcommand build" -l repo -d 'Extra repository for BuildRequires: an http(s) base URL or a local directory (repeatable)' -r
complete -c copr -n "__fish_copr_using_subcommand build" -l buildroot-pkg -d 'Extra package to install into the buildroot (repeatable)' -r
complete -c copr -n "__fish_copr_using_subcommand build" -l memory-limit -d 'Memory limit of the build\'s processes: bytes, or with a K/M/G/T suffix (e.g. 4G)' -r
complete -c copr -n "__fish_copr_using_subcommand build" -l job -d 'Run the job spec in FILE (TOML, or JSON for `*.json`) instead of resolving SOURCE and flags' -r -F
complete -c copr -n "__fish_copr_using_subcommand build" -l remote -d 'Build on the Copr server of the configuration, in [OWNER/]PROJECT[:DIRSUFFIX]: an SRPM is uploaded, a directory, spec or local git tree is made into an SRPM here and uploaded, an http(s) URL of a .spec/.src.rpm or a remote git URL is passed to the server' -r
complete -c copr -n "__fish_copr_using_subcommand build" -l after-build-id -d 'With --remote: start after the batch containing this build has finished' -r
complete -c copr -n "__fish_copr_using_subcommand build" -l with-build-id -d 'With --remote: run in the same batch as this build' -r
complete -c copr -n "__fish_copr_using_subcommand build" -l poll-interval -d 'With --remote: seconds between two status checks while waiting' -r
complete -c copr -n "__fish_copr_using_subcommand build" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand build" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand build" -l git -d 'Treat SOURCE as a git repository even when it is a local directory'
complete -c copr -n "__fish_copr_using_subcommand build" -l enable-net -d 'Allow network access inside the buildroot (off by default)'
complete -c copr -n "__fish_copr_using_subcommand build" -l nodeps -d 'Build even when BuildRequires are not satisfied'
complete -c copr -n "__fish_copr_using_subcommand build" -l dry-run -d 'Print the resolved job spec (TOML, or JSON with --output json) instead of building'
complete -c copr -n "__fish_copr_using_subcommand build" -l scm -d 'With --remote: pass SOURCE to the server as a git clone URL (build/create/scm), with --committish, --subdir, --spec and --method, instead of making the SRPM here'
complete -c copr -n "__fish_copr_using_subcommand build" -l nowait -d 'With --remote: print the new build\'s ID and return without waiting for it'
complete -c copr -n "__fish_copr_using_subcommand build" -l background -d 'With --remote: run the build with lower priority (after other owners\' builds)'
complete -c copr -n "__fish_copr_using_subcommand build" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand build" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand build" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand build" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand build" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand srpm" -l method -d 'How the SRPM is made (default: rpmbuild, or `method` from the tree\'s copr.toml)' -r -f -a "rpmbuild\t'`rpmbuild -bs` on the spec and the sources in the tree (missing Source URLs downloaded)'
rpkg\t'`rpkg srpm` (rpkg-util)'
tito\t'`tito build --srpm` from the latest tag'
tito-test\t'`tito build --test --srpm` from the latest commit'
make-srpm\t'`make -f .copr/Makefile srpm outdir=… spec=…`, as Copr runs it'
custom\t'A user script that leaves a spec and sources (or an SRPM) in its result directory'"
complete -c copr -n "__fish_copr_using_subcommand srpm" -l committish -d 'Git branch, tag or commit to build (implies a git source)' -r
complete -c copr -n "__fish_copr_using_subcommand srpm" -l subdir -d 'Subdirectory of the source tree that holds the package' -r -F
complete -c copr -n "__fish_copr_using_subcommand srpm" -l spec -d 'The spec file, relative to the package directory, when it holds more than one' -r -F
complete -c copr -n "__fish_copr_using_subcommand srpm" -l backend -d 'Buildroot backend (default: mock when installed, sandbox otherwise)' -r -f -a "sandbox\t'The host\'s rpmbuild inside bubblewrap; builds for the host (`host-<arch>`)'
mock\t'mock with a Copr-style config (Fedora/EL hosts with mock installed)'"
complete -c copr -n "__fish_copr_using_subcommand srpm" -s D -l define -d 'Define an rpm macro, as `NAME VALUE` (repeatable)' -r
complete -c copr -n "__fish_copr_using_subcommand srpm" -l with -d 'Enable an rpm `--with` conditional (repeatable)' -r
complete -c copr -n "__fish_copr_using_subcommand srpm" -l without -d 'Enable an rpm `--without` conditional (repeatable)' -r
complete -c copr -n "__fish_copr_using_subcommand srpm" -l timeout -d 'Kill the build (its whole process tree) after this many seconds [default: 18000]' -r
complete -c copr -n "__fish_copr_using_subcommand srpm" -l outdir -d 'Directory that receives the SRPM' -r -F
complete -c copr -n "__fish_copr_using_subcommand srpm" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand srpm" -l git -d 'Treat SOURCE as a git repository even when it is a local directory'
complete -c copr -n "__fish_copr_using_subcommand srpm" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand srpm" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand srpm" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand srpm" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand srpm" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand mock-config" -l repo -d 'A repository for BuildRequires (base URL); repeat for several, highest priority first' -r
complete -c copr -n "__fish_copr_using_subcommand mock-config" -l macro -d 'Define an rpm macro for the build; repeat for several' -r
complete -c copr -n "__fish_copr_using_subcommand mock-config" -l buildroot-pkg -d 'Extra package to install into the buildroot; repeat for several' -r
complete -c copr -n "__fish_copr_using_subcommand mock-config" -l bootstrap -d 'How mock sets up the buildroot\'s package manager' -r -f -a "default\t'Whatever the chroot\'s base config says'
on\t'A bootstrap chroot installed with the host\'s package manager'
off\t'No bootstrap chroot'
image\t'A bootstrap chroot from the distribution\'s container image'
custom-image\t'A bootstrap chroot from `bootstrap_image`'"
complete -c copr -n "__fish_copr_using_subcommand mock-config" -l bootstrap-image -d 'Container image for `--bootstrap custom-image`' -r
complete -c copr -n "__fish_copr_using_subcommand mock-config" -l isolation -d 'Buildroot isolation (`simple` or `nspawn`; mock\'s default when not given)' -r -f -a "default\t''
simple\t''
nspawn\t''"
complete -c copr -n "__fish_copr_using_subcommand mock-config" -l enable-module -d 'Module to enable in the buildroot, `NAME:STREAM`; repeat for several' -r
complete -c copr -n "__fish_copr_using_subcommand mock-config" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand mock-config" -l enable-net -d 'Allow network access during the build'
complete -c copr -n "__fish_copr_using_subcommand mock-config" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand mock-config" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand mock-config" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand mock-config" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand mock-config" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand createrepo" -l workers -d 'Worker threads for reading, hashing and compressing (default: number of cores)' -r
complete -c copr -n "__fish_copr_using_subcommand createrepo" -l compress -d 'Compression of the metadata files' -r -f -a "gz\t'gzip (`.xml.gz`), readable by every dnf and yum'
zstd\t'zstd (`.xml.zst`), createrepo_c ≥ 1.0\'s default'"
complete -c copr -n "__fish_copr_using_subcommand createrepo" -l sign-key -d 'Secret key file (secret.asc from `copr key generate`) to sign repomd.xml with; writes repodata/repomd.xml.asc' -r -F
complete -c copr -n "__fish_copr_using_subcommand createrepo" -l modules -d 'A modules.yaml to publish as the `modules` metadata (default: DIR/modules.yaml if present)' -r -F
complete -c copr -n "__fish_copr_using_subcommand createrepo" -l gpgkey -d 'Public key for the .repo file\'s gpgkey= (default: pubkey.gpg next to the --sign-key file)' -r -F
complete -c copr -n "__fish_copr_using_subcommand createrepo" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand createrepo" -l update -d 'Reuse the metadata of packages whose location, size and mtime are unchanged since the last run (kept in repodata/.copr-cache); without a usable cache everything is regenerated'
complete -c copr -n "__fish_copr_using_subcommand createrepo" -l repo-file -d 'Also write DIR/copr.repo, a dnf .repo file pointing at DIR with file:// URLs'
complete -c copr -n "__fish_copr_using_subcommand createrepo" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand createrepo" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand createrepo" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand createrepo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand createrepo" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand key; and not __fish_seen_subcommand_from generate export help" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand key; and not __fish_seen_subcommand_from generate export help" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand key; and not __fish_seen_subcommand_from generate export help" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand key; and not __fish_seen_subcommand_from generate export help" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand key; and not __fish_seen_subcommand_from generate export help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand key; and not __fish_seen_subcommand_from generate export help" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand key; and not __fish_seen_subcommand_from generate export help" -f -a "generate" -d 'Generate a signing key for a project: writes DIR/pubkey.gpg and DIR/secret.asc (0600)'
complete -c copr -n "__fish_copr_using_subcommand key; and not __fish_seen_subcommand_from generate export help" -f -a "export" -d 'Print the armored public key of a secret key file to stdout (or write it with --out)'
complete -c copr -n "__fish_copr_using_subcommand key; and not __fish_seen_subcommand_from generate export help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c copr -n "__fish_copr_using_subcommand key; and __fish_seen_subcommand_from generate" -l name -d 'Project the key belongs to, as OWNER/PROJECT (gives the user id `OWNER_PROJECT (copr) <OWNER#PROJECT@copr.local>`)' -r
complete -c copr -n "__fish_copr_using_subcommand key; and __fish_seen_subcommand_from generate" -l out -d 'Directory to write pubkey.gpg and secret.asc into (created if missing)' -r -F
complete -c copr -n "__fish_copr_using_subcommand key; and __fish_seen_subcommand_from generate" -l email -d 'E-mail address of the user id (default: OWNER#PROJECT@copr.local)' -r
complete -c copr -n "__fish_copr_using_subcommand key; and __fish_seen_subcommand_from generate" -l algorithm -d 'Key algorithm' -r -f -a "rsa4096\t'RSA 4096: verified by every rpm and GnuPG version'
rsa3072\t'RSA 3072'
ed25519\t'Ed25519: small and fast; needs rpm ≥ 4.16'"
complete -c copr -n "__fish_copr_using_subcommand key; and __fish_seen_subcommand_from generate" -l expire-days -d 'Validity in days; 0 means the key never expires' -r
complete -c copr -n "__fish_copr_using_subcommand key; and __fish_seen_subcommand_from generate" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand key; and __fish_seen_subcommand_from generate" -l force -d 'Replace an existing secret.asc in DIR'
complete -c copr -n "__fish_copr_using_subcommand key; and __fish_seen_subcommand_from generate" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand key; and __fish_seen_subcommand_from generate" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand key; and __fish_seen_subcommand_from generate" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand key; and __fish_seen_subcommand_from generate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand key; and __fish_seen_subcommand_from generate" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand key; and __fish_seen_subcommand_from export" -l key -d 'Secret key file (secret.asc)' -r -F
complete -c copr -n "__fish_copr_using_subcommand key; and __fish_seen_subcommand_from export" -l out -d 'Write the public key to this file instead of stdout' -r -F
complete -c copr -n "__fish_copr_using_subcommand key; and __fish_seen_subcommand_from export" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand key; and __fish_seen_subcommand_from export" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand key; and __fish_seen_subcommand_from export" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand key; and __fish_seen_subcommand_from export" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand key; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand key; and __fish_seen_subcommand_from export" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "generate" -d 'Generate a signing key for a project: writes DIR/pubkey.gpg and DIR/secret.asc (0600)'
complete -c copr -n "__fish_copr_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "export" -d 'Print the armored public key of a secret key file to stdout (or write it with --out)'
complete -c copr -n "__fish_copr_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c copr -n "__fish_copr_using_subcommand sign" -l key -d 'Secret key file (secret.asc from `copr key generate`)' -r -F
complete -c copr -n "__fish_copr_using_subcommand sign" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand sign" -l force -d 'Re-sign packages that already carry a signature by this key'
complete -c copr -n "__fish_copr_using_subcommand sign" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand sign" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand sign" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand sign" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand sign" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand module; and not __fish_seen_subcommand_from release build validate list help" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand module; and not __fish_seen_subcommand_from release build validate list help" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand module; and not __fish_seen_subcommand_from release build validate list help" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand module; and not __fish_seen_subcommand_from release build validate list help" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand module; and not __fish_seen_subcommand_from release build validate list help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand module; and not __fish_seen_subcommand_from release build validate list help" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand module; and not __fish_seen_subcommand_from release build validate list help" -f -a "release" -d 'Release a module (modulemd v2 + defaults) from the latest successful builds and publish it as `modules.yaml` in each chroot\'s repository'
complete -c copr -n "__fish_copr_using_subcommand module; and not __fish_seen_subcommand_from release build validate list help" -f -a "build" -d 'Build a module\'s components in buildorder from a modulemd v2 file, then release it'
complete -c copr -n "__fish_copr_using_subcommand module; and not __fish_seen_subcommand_from release build validate list help" -f -a "validate" -d 'Check modulemd files (modulemd v2, modulemd-defaults v1); errors name their line'
complete -c copr -n "__fish_copr_using_subcommand module; and not __fish_seen_subcommand_from release build validate list help" -f -a "list" -d 'List the modules released from a result directory'
complete -c copr -n "__fish_copr_using_subcommand module; and not __fish_seen_subcommand_from release build validate list help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from release" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from release" -l resultdir -d 'Local result directory of `copr build` to release the module from' -r -F
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from release" -l chroot -d 'Chroot to release for (repeatable); default: every chroot with successful builds' -r
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from release" -l name -d 'Module name' -r
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from release" -l stream -d 'Module stream' -r
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from release" -l version -d 'Module version; default: the UTC time as YYYYMMDDHHMMSS, above every earlier release' -r
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from release" -l summary -d 'One-line summary of the module' -r
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from release" -l description -d 'Description of the module' -r
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from release" -l license -d 'License of the module metadata (repeatable); default: MIT. The content licenses come from the RPMs\' License tags' -r
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from release" -l api -d 'Binary package that is part of the module\'s API (repeatable, or comma-separated)' -r
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from release" -l profile -d 'Install profile as NAME:PKG,PKG (repeatable)' -r
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from release" -l default-profile -d 'Profile `dnf module install NAME:STREAM` installs; default: `default` if defined, else the first profile' -r
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from release" -l filter -d 'Binary package to filter out of the module (repeatable, or comma-separated)' -r
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from release" -l platform -d 'Stream of the `platform` module the module requires (e.g. f40, el9); default: from the chroot name (fedora-40-… → f40, epel-9-… → el9), none for other chroots' -r
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from release" -l out -d 'Also write the released documents (streams and defaults) to this file' -r -F
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from release" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from release" -l no-platform -d 'Do not depend on a platform module at all'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from release" -l non-interactive -d 'Never ask; use defaults for whatever the flags leave open'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from release" -l dry-run -d 'Print the documents the release would write (YAML on stdout) and change nothing'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from release" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from release" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from release" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from release" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from build" -l remote -d 'Build on a copr server in this project instead of locally: the server builds the components group by group and releases the module into the project\'s repositories' -r
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from build" -l poll-interval -d 'With --remote: seconds between status checks while watching' -r
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from build" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from build" -l resultdir -d 'Result directory for the component builds and the module' -r -F
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from build" -l chroot -d 'Chroot to build in; default: the host chroot' -r
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from build" -l backend -d 'Buildroot backend; default: mock when installed, else sandbox' -r -f -a "sandbox\t'The host\'s rpmbuild inside bubblewrap; builds for the host (`host-<arch>`)'
mock\t'mock with a Copr-style config (Fedora/EL hosts with mock installed)'"
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from build" -l out -d 'Also write the released documents to this file' -r -F
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from build" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from build" -l nowait -d 'With --remote: submit and return without watching the component builds'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from build" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from build" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from build" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from build" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from build" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from validate" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from validate" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from validate" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from validate" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from validate" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from list" -l resultdir -d 'Result directory the modules were released from' -r -F
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from list" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from list" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from help" -f -a "release" -d 'Release a module (modulemd v2 + defaults) from the latest successful builds and publish it as `modules.yaml` in each chroot\'s repository'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from help" -f -a "build" -d 'Build a module\'s components in buildorder from a modulemd v2 file, then release it'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from help" -f -a "validate" -d 'Check modulemd files (modulemd v2, modulemd-defaults v1); errors name their line'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the modules released from a result directory'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c copr -n "__fish_copr_using_subcommand serve; and not __fish_seen_subcommand_from admin help" -l config -d 'TOML configuration file (keys: listen, public_url, data_dir, database, chroots, upload_limit, token_lifetime_days)' -r -F
complete -c copr -n "__fish_copr_using_subcommand serve; and not __fish_seen_subcommand_from admin help" -l data -d 'Data directory: SQLite database, results, uploads and project keys [default: ./copr-data]' -r -F
complete -c copr -n "__fish_copr_using_subcommand serve; and not __fish_seen_subcommand_from admin help" -l database -d 'Database URL: postgres://USER:PASSWORD@HOST/DB or sqlite://PATH [default: SQLite in the data directory]' -r
complete -c copr -n "__fish_copr_using_subcommand serve; and not __fish_seen_subcommand_from admin help" -l listen -d 'Address to listen on; port 0 picks a free port [default: 127.0.0.1:5000]' -r
complete -c copr -n "__fish_copr_using_subcommand serve; and not __fish_seen_subcommand_from admin help" -l public-url -d 'The URL clients reach this server at, used in result and repository URLs [default: http://LISTEN-ADDRESS]' -r
complete -c copr -n "__fish_copr_using_subcommand serve; and not __fish_seen_subcommand_from admin help" -l port-file -d 'Write the bound address (HOST:PORT) to this file once the server listens' -r -F
complete -c copr -n "__fish_copr_using_subcommand serve; and not __fish_seen_subcommand_from admin help" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand serve; and not __fish_seen_subcommand_from admin help" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand serve; and not __fish_seen_subcommand_from admin help" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand serve; and not __fish_seen_subcommand_from admin help" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand serve; and not __fish_seen_subcommand_from admin help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand serve; and not __fish_seen_subcommand_from admin help" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand serve; and not __fish_seen_subcommand_from admin help" -f -a "admin" -d 'Manage users, groups and API tokens (works on the database directly)'
complete -c copr -n "__fish_copr_using_subcommand serve; and not __fish_seen_subcommand_from admin help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c copr -n "__fish_copr_using_subcommand serve; and __fish_seen_subcommand_from admin" -l config -d 'TOML configuration file (keys: listen, public_url, data_dir, database, chroots, upload_limit, token_lifetime_days)' -r -F
complete -c copr -n "__fish_copr_using_subcommand serve; and __fish_seen_subcommand_from admin" -l data -d 'Data directory: SQLite database, results, uploads and project keys [default: ./copr-data]' -r -F
complete -c copr -n "__fish_copr_using_subcommand serve; and __fish_seen_subcommand_from admin" -l database -d 'Database URL: postgres://USER:PASSWORD@HOST/DB or sqlite://PATH [default: SQLite in the data directory]' -r
complete -c copr -n "__fish_copr_using_subcommand serve; and __fish_seen_subcommand_from admin" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand serve; and __fish_seen_subcommand_from admin" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand serve; and __fish_seen_subcommand_from admin" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand serve; and __fish_seen_subcommand_from admin" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand serve; and __fish_seen_subcommand_from admin" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand serve; and __fish_seen_subcommand_from admin" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand serve; and __fish_seen_subcommand_from admin" -f -a "add-user" -d 'Create a user and print its API login and token'
complete -c copr -n "__fish_copr_using_subcommand serve; and __fish_seen_subcommand_from admin" -f -a "add-group" -d 'Create a group; its projects are owned by `@NAME`'
complete -c copr -n "__fish_copr_using_subcommand serve; and __fish_seen_subcommand_from admin" -f -a "add-member" -d 'Add a user to a group'
complete -c copr -n "__fish_copr_using_subcommand serve; and __fish_seen_subcommand_from admin" -f -a "remove-member" -d 'Remove a user from a group'
complete -c copr -n "__fish_copr_using_subcommand serve; and __fish_seen_subcommand_from admin" -f -a "renew-token" -d 'Issue a new API token for a user; the old token stops working'
complete -c copr -n "__fish_copr_using_subcommand serve; and __fish_seen_subcommand_from admin" -f -a "add-builder" -d 'Register a build machine and print its token (for `copr builder --token`); the token is shown only once'
complete -c copr -n "__fish_copr_using_subcommand serve; and __fish_seen_subcommand_from admin" -f -a "seed-bench" -d 'Fill a project with builds, for benchmarks'
complete -c copr -n "__fish_copr_using_subcommand serve; and __fish_seen_subcommand_from admin" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c copr -n "__fish_copr_using_subcommand serve; and __fish_seen_subcommand_from help" -f -a "admin" -d 'Manage users, groups and API tokens (works on the database directly)'
complete -c copr -n "__fish_copr_using_subcommand serve; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c copr -n "__fish_copr_using_subcommand builder" -l server -d 'Base URL of the `copr serve` to take tasks from, e.g. https://copr.example.org' -r
complete -c copr -n "__fish_copr_using_subcommand builder" -l token -d 'The builder token (`copr serve admin add-builder NAME` prints it); also read from the COPR_BUILDER_TOKEN environment variable, which keeps it out of process listings' -r
complete -c copr -n "__fish_copr_using_subcommand builder" -l arch -d 'Architecture this machine builds for [default: the host\'s]' -r
complete -c copr -n "__fish_copr_using_subcommand builder" -l tag -d 'A tag of this machine (repeatable); the server may require tags for some chroots' -r
complete -c copr -n "__fish_copr_using_subcommand builder" -l chroot -d 'A chroot this machine builds for (repeatable) [default: host-<arch> and the chroots of the sandbox host configuration]' -r
complete -c copr -n "__fish_copr_using_subcommand builder" -s j -l jobs -d 'Tasks run in parallel' -r
complete -c copr -n "__fish_copr_using_subcommand builder" -l workdir -d 'Directory for the per-task work directories (each removed when its task ends) [default: the system temporary directory]' -r -F
complete -c copr -n "__fish_copr_using_subcommand builder" -l backend -d 'Buildroot backend (default: mock when installed, sandbox otherwise)' -r -f -a "sandbox\t'The host\'s rpmbuild inside bubblewrap; builds for the host (`host-<arch>`)'
mock\t'mock with a Copr-style config (Fedora/EL hosts with mock installed)'"
complete -c copr -n "__fish_copr_using_subcommand builder" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand builder" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand builder" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand builder" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand builder" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand builder" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand whoami" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand whoami" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand whoami" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand whoami" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand whoami" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand whoami" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand whoami" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand new-api-token" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand new-api-token" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand new-api-token" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand new-api-token" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand new-api-token" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand new-api-token" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand new-api-token" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand list" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand list" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand list" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand list" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand list" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand list" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand get" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand get" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand get" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand get" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand get" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand get" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand get" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand create" -l chroot -d 'A chroot to build for, e.g. fedora-40-x86_64 (repeatable; at least one)' -r
complete -c copr -n "__fish_copr_using_subcommand create" -l storage -d 'Where results are stored (admin only)' -r -f -a "backend\t''
pulp\t''"
complete -c copr -n "__fish_copr_using_subcommand create" -l description -d 'Description of the project' -r
complete -c copr -n "__fish_copr_using_subcommand create" -l instructions -d 'Installation instructions shown with the project' -r
complete -c copr -n "__fish_copr_using_subcommand create" -l homepage -d 'Homepage of the packaged software' -r
complete -c copr -n "__fish_copr_using_subcommand create" -l contact -d 'How to contact the maintainers (e-mail or URL)' -r
complete -c copr -n "__fish_copr_using_subcommand create" -l repo -d 'Repository enabled at build time (repeatable; `copr://owner/project` allowed)' -r
complete -c copr -n "__fish_copr_using_subcommand create" -l runtime-repo-dependency -d 'Repository enabled together with this project\'s by `dnf copr enable` (repeatable)' -r
complete -c copr -n "__fish_copr_using_subcommand create" -l packit-forge-project-allowed -d 'Forge project allowed to build here via Packit, e.g. github.com/packit/ogr (repeatable)' -r
complete -c copr -n "__fish_copr_using_subcommand create" -l disable_createrepo -d 'Disable automatic repository metadata generation (builds land in devel/ until `regenerate-repos`); true or false' -r
complete -c copr -n "__fish_copr_using_subcommand create" -l enable-net -d 'Allow network access during builds' -r -f -a "on\t''
off\t''"
complete -c copr -n "__fish_copr_using_subcommand create" -l unlisted-on-hp -d 'Hide the project from the home page' -r -f -a "on\t''
off\t''"
complete -c copr -n "__fish_copr_using_subcommand create" -l auto-prune -d 'Delete obsolete builds automatically (admin only to turn off)' -r -f -a "on\t''
off\t''"
complete -c copr -n "__fish_copr_using_subcommand create" -l isolation -d 'Isolation of commands run in the buildroot' -r -f -a "default\t''
simple\t''
nspawn\t''"
complete -c copr -n "__fish_copr_using_subcommand create" -l bootstrap -d 'Mock\'s bootstrap chroot: default (mock-core-configs), on, off, or a container image' -r -f -a "default\t''
on\t''
off\t''
image\t''"
complete -c copr -n "__fish_copr_using_subcommand create" -l delete-after-days -d 'Delete the project after this many days (-1 disables)' -r
complete -c copr -n "__fish_copr_using_subcommand create" -l module-hotfixes -d 'Let packages of this project override packages of active module streams' -r -f -a "on\t''
off\t''"
complete -c copr -n "__fish_copr_using_subcommand create" -l multilib -d 'Offer 32-bit packages on 64-bit multilib systems too' -r -f -a "on\t''
off\t''"
complete -c copr -n "__fish_copr_using_subcommand create" -l appstream -d 'Generate AppStream metadata' -r -f -a "on\t''
off\t''"
complete -c copr -n "__fish_copr_using_subcommand create" -l follow-fedora-branching -d 'Add chroots of a new Fedora branch automatically' -r -f -a "on\t''
off\t''"
complete -c copr -n "__fish_copr_using_subcommand create" -l repo-priority -d 'dnf priority of this project\'s repositories' -r
complete -c copr -n "__fish_copr_using_subcommand create" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand create" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand create" -l fedora-review -d 'Run fedora-review after each build in fedora chroots'
complete -c copr -n "__fish_copr_using_subcommand create" -l persistent -d 'Make the project and its builds undeletable (admin only)'
complete -c copr -n "__fish_copr_using_subcommand create" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand create" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand create" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand create" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand modify" -l chroot -d 'The complete new list of chroots (repeatable); chroots not listed are disabled' -r
complete -c copr -n "__fish_copr_using_subcommand modify" -l fedora-review -d 'Run fedora-review after each build in fedora chroots' -r -f -a "on\t''
off\t''"
complete -c copr -n "__fish_copr_using_subcommand modify" -l description -d 'Description of the project' -r
complete -c copr -n "__fish_copr_using_subcommand modify" -l instructions -d 'Installation instructions shown with the project' -r
complete -c copr -n "__fish_copr_using_subcommand modify" -l homepage -d 'Homepage of the packaged software' -r
complete -c copr -n "__fish_copr_using_subcommand modify" -l contact -d 'How to contact the maintainers (e-mail or URL)' -r
complete -c copr -n "__fish_copr_using_subcommand modify" -l repo -d 'Repository enabled at build time (repeatable; `copr://owner/project` allowed)' -r
complete -c copr -n "__fish_copr_using_subcommand modify" -l runtime-repo-dependency -d 'Repository enabled together with this project\'s by `dnf copr enable` (repeatable)' -r
complete -c copr -n "__fish_copr_using_subcommand modify" -l packit-forge-project-allowed -d 'Forge project allowed to build here via Packit, e.g. github.com/packit/ogr (repeatable)' -r
complete -c copr -n "__fish_copr_using_subcommand modify" -l disable_createrepo -d 'Disable automatic repository metadata generation (builds land in devel/ until `regenerate-repos`); true or false' -r
complete -c copr -n "__fish_copr_using_subcommand modify" -l enable-net -d 'Allow network access during builds' -r -f -a "on\t''
off\t''"
complete -c copr -n "__fish_copr_using_subcommand modify" -l unlisted-on-hp -d 'Hide the project from the home page' -r -f -a "on\t''
off\t''"
complete -c copr -n "__fish_copr_using_subcommand modify" -l auto-prune -d 'Delete obsolete builds automatically (admin only to turn off)' -r -f -a "on\t''
off\t''"
complete -c copr -n "__fish_copr_using_subcommand modify" -l isolation -d 'Isolation of commands run in the buildroot' -r -f -a "default\t''
simple\t''
nspawn\t''"
complete -c copr -n "__fish_copr_using_subcommand modify" -l bootstrap -d 'Mock\'s bootstrap chroot: default (mock-core-configs), on, off, or a container image' -r -f -a "default\t''
on\t''
off\t''
image\t''"
complete -c copr -n "__fish_copr_using_subcommand modify" -l delete-after-days -d 'Delete the project after this many days (-1 disables)' -r
complete -c copr -n "__fish_copr_using_subcommand modify" -l module-hotfixes -d 'Let packages of this project override packages of active module streams' -r -f -a "on\t''
off\t''"
complete -c copr -n "__fish_copr_using_subcommand modify" -l multilib -d 'Offer 32-bit packages on 64-bit multilib systems too' -r -f -a "on\t''
off\t''"
complete -c copr -n "__fish_copr_using_subcommand modify" -l appstream -d 'Generate AppStream metadata' -r -f -a "on\t''
off\t''"
complete -c copr -n "__fish_copr_using_subcommand modify" -l follow-fedora-branching -d 'Add chroots of a new Fedora branch automatically' -r -f -a "on\t''
off\t''"
complete -c copr -n "__fish_copr_using_subcommand modify" -l repo-priority -d 'dnf priority of this project\'s repositories' -r
complete -c copr -n "__fish_copr_using_subcommand modify" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand modify" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand modify" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand modify" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand modify" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand modify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand modify" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand delete" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand delete" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand delete" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand delete" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand delete" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand delete" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand fork" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand fork" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand fork" -l confirm -d 'Fork into an existing project, updating its packages'
complete -c copr -n "__fish_copr_using_subcommand fork" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand fork" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand fork" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand fork" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand fork" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand regenerate-repos" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand regenerate-repos" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand regenerate-repos" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand regenerate-repos" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand regenerate-repos" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand regenerate-repos" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand regenerate-repos" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand list-builds" -l package -d 'Only builds of this package' -r
complete -c copr -n "__fish_copr_using_subcommand list-builds" -l status -d 'Only builds in this state (pending, running, succeeded, failed, canceled, …)' -r
complete -c copr -n "__fish_copr_using_subcommand list-builds" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand list-builds" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand list-builds" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand list-builds" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand list-builds" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand list-builds" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand list-builds" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand status" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand status" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand status" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand status" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand status" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand status" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand watch-build" -l poll-interval -d 'Seconds between two status checks while waiting (copr-cli waits 30)' -r
complete -c copr -n "__fish_copr_using_subcommand watch-build" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand watch-build" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand watch-build" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand watch-build" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand watch-build" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand watch-build" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand watch-build" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand cancel" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand cancel" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand cancel" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand cancel" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand cancel" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand cancel" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand cancel" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand delete-build" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand delete-build" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand delete-build" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand delete-build" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand delete-build" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand delete-build" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand delete-build" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand download-build" -s r -l chroot -d 'Only these chroots (repeatable)' -r
complete -c copr -n "__fish_copr_using_subcommand download-build" -s d -l dest -d 'Directory to download into; one subdirectory per chroot is created' -r -F
complete -c copr -n "__fish_copr_using_subcommand download-build" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand download-build" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand download-build" -l rpms -d 'Download only the built RPM packages (binary and source)'
complete -c copr -n "__fish_copr_using_subcommand download-build" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand download-build" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand download-build" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand download-build" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand download-build" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand repro" -l resultdir -d 'Directory that receives the results of the local run' -r -F
complete -c copr -n "__fish_copr_using_subcommand repro" -l backend -d 'Buildroot backend [default: the one the builder used]' -r -f -a "sandbox\t'The host\'s rpmbuild inside bubblewrap; builds for the host (`host-<arch>`)'
mock\t'mock with a Copr-style config (Fedora/EL hosts with mock installed)'"
complete -c copr -n "__fish_copr_using_subcommand repro" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand repro" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand repro" -l dry-run -d 'Print the job spec as the local run will use it (TOML, or JSON with --output json) instead of running it'
complete -c copr -n "__fish_copr_using_subcommand repro" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand repro" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand repro" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand repro" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand repro" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand monitor" -l dirname -d 'Project directory, e.g. `foo:pr:125` (default: the project itself)' -r
complete -c copr -n "__fish_copr_using_subcommand monitor" -l fields -d 'Comma-separated columns, in order: name, chroot, build_id, state, pkg_version, url_build_log, url_backend_log, url_build' -r -f -a "name\t''
chroot\t''
build_id\t''
state\t''
pkg_version\t''
url_build_log\t''
url_backend_log\t''
url_build\t''"
complete -c copr -n "__fish_copr_using_subcommand monitor" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand monitor" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand monitor" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand monitor" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand monitor" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand monitor" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand monitor" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand list-chroots" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand list-chroots" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand list-chroots" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand list-chroots" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand list-chroots" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand list-chroots" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand list-chroots" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand get-chroot" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand get-chroot" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand get-chroot" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand get-chroot" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand get-chroot" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand get-chroot" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand get-chroot" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand edit-chroot" -l upload-comps -d 'A comps.xml file to upload for the chroot' -r -F
complete -c copr -n "__fish_copr_using_subcommand edit-chroot" -l packages -d 'Space-separated packages installed into the buildroot' -r
complete -c copr -n "__fish_copr_using_subcommand edit-chroot" -l repos -d 'Space-separated additional repository URLs for the chroot' -r
complete -c copr -n "__fish_copr_using_subcommand edit-chroot" -l modules -d 'Comma-separated modules to enable or disable, e.g. `nodejs:16,!ruby:2.7`' -r
complete -c copr -n "__fish_copr_using_subcommand edit-chroot" -l rpmbuild-with -d 'rpmbuild --with option (repeatable)' -r
complete -c copr -n "__fish_copr_using_subcommand edit-chroot" -l rpmbuild-without -d 'rpmbuild --without option (repeatable)' -r
complete -c copr -n "__fish_copr_using_subcommand edit-chroot" -l isolation -d 'Isolation of commands run in the buildroot' -r -f -a "default\t''
simple\t''
nspawn\t''"
complete -c copr -n "__fish_copr_using_subcommand edit-chroot" -l bootstrap -d 'Mock\'s bootstrap chroot for this chroot' -r -f -a "unchanged\t''
default\t''
on\t''
off\t''
image\t''"
complete -c copr -n "__fish_copr_using_subcommand edit-chroot" -l bootstrap-image -d 'Container image for mock\'s bootstrap chroot (implies --bootstrap image)' -r
complete -c copr -n "__fish_copr_using_subcommand edit-chroot" -l reset -d 'Reset a field to its default, e.g. additional_packages (repeatable)' -r
complete -c copr -n "__fish_copr_using_subcommand edit-chroot" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand edit-chroot" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand edit-chroot" -l delete-comps -d 'Delete the chroot\'s comps.xml'
complete -c copr -n "__fish_copr_using_subcommand edit-chroot" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand edit-chroot" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand edit-chroot" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand edit-chroot" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand edit-chroot" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand list-packages" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand list-packages" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand list-packages" -l with-latest-build -d 'Include each package\'s latest build'
complete -c copr -n "__fish_copr_using_subcommand list-packages" -l with-latest-succeeded-build -d 'Include each package\'s latest succeeded build'
complete -c copr -n "__fish_copr_using_subcommand list-packages" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand list-packages" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand list-packages" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand list-packages" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand list-packages" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand list-package-names" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand list-package-names" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand list-package-names" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand list-package-names" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand list-package-names" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand list-package-names" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand list-package-names" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand get-package" -l name -d 'The package name' -r
complete -c copr -n "__fish_copr_using_subcommand get-package" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand get-package" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand get-package" -l with-latest-build -d 'Include the package\'s latest build'
complete -c copr -n "__fish_copr_using_subcommand get-package" -l with-latest-succeeded-build -d 'Include the package\'s latest succeeded build'
complete -c copr -n "__fish_copr_using_subcommand get-package" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand get-package" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand get-package" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand get-package" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand get-package" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand add-package-scm" -l name -d 'The package name' -r
complete -c copr -n "__fish_copr_using_subcommand add-package-scm" -l clone-url -d 'URL of the repository to clone' -r
complete -c copr -n "__fish_copr_using_subcommand add-package-scm" -l commit -d 'Branch, tag or commit to build (default: the repository\'s default branch)' -r
complete -c copr -n "__fish_copr_using_subcommand add-package-scm" -l subdir -d 'Subdirectory of the repository holding the spec file (default: the top)' -r
complete -c copr -n "__fish_copr_using_subcommand add-package-scm" -l spec -d 'Path of the spec file within the subdirectory (default: found automatically)' -r
complete -c copr -n "__fish_copr_using_subcommand add-package-scm" -l type -d 'Repository type (default: git)' -r -f -a "git\t''
svn\t''"
complete -c copr -n "__fish_copr_using_subcommand add-package-scm" -l method -d 'Tool that produces the SRPM (default: rpkg)' -r -f -a "rpkg\t''
tito\t''
tito_test\t''
make_srpm\t''"
complete -c copr -n "__fish_copr_using_subcommand add-package-scm" -l webhook-rebuild -d 'Rebuild the package when its repository\'s webhook fires' -r -f -a "on\t''
off\t''"
complete -c copr -n "__fish_copr_using_subcommand add-package-scm" -l max-builds -d 'Keep only this many newest builds (0 keeps all)' -r
complete -c copr -n "__fish_copr_using_subcommand add-package-scm" -l timeout -d 'Build timeout in seconds (default on the server: 18000)' -r
complete -c copr -n "__fish_copr_using_subcommand add-package-scm" -l chroot-denylist -d 'Comma-separated chroot patterns never built, e.g. \'fedora-*,epel-*-i386\'' -r
complete -c copr -n "__fish_copr_using_subcommand add-package-scm" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand add-package-scm" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand add-package-scm" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand add-package-scm" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand add-package-scm" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand add-package-scm" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand add-package-scm" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand edit-package-scm" -l name -d 'The package name' -r
complete -c copr -n "__fish_copr_using_subcommand edit-package-scm" -l clone-url -d 'URL of the repository to clone' -r
complete -c copr -n "__fish_copr_using_subcommand edit-package-scm" -l commit -d 'Branch, tag or commit to build (default: the repository\'s default branch)' -r
complete -c copr -n "__fish_copr_using_subcommand edit-package-scm" -l subdir -d 'Subdirectory of the repository holding the spec file (default: the top)' -r
complete -c copr -n "__fish_copr_using_subcommand edit-package-scm" -l spec -d 'Path of the spec file within the subdirectory (default: found automatically)' -r
complete -c copr -n "__fish_copr_using_subcommand edit-package-scm" -l type -d 'Repository type (default: git)' -r -f -a "git\t''
svn\t''"
complete -c copr -n "__fish_copr_using_subcommand edit-package-scm" -l method -d 'Tool that produces the SRPM (default: rpkg)' -r -f -a "rpkg\t''
tito\t''
tito_test\t''
make_srpm\t''"
complete -c copr -n "__fish_copr_using_subcommand edit-package-scm" -l webhook-rebuild -d 'Rebuild the package when its repository\'s webhook fires' -r -f -a "on\t''
off\t''"
complete -c copr -n "__fish_copr_using_subcommand edit-package-scm" -l max-builds -d 'Keep only this many newest builds (0 keeps all)' -r
complete -c copr -n "__fish_copr_using_subcommand edit-package-scm" -l timeout -d 'Build timeout in seconds (default on the server: 18000)' -r
complete -c copr -n "__fish_copr_using_subcommand edit-package-scm" -l chroot-denylist -d 'Comma-separated chroot patterns never built, e.g. \'fedora-*,epel-*-i386\'' -r
complete -c copr -n "__fish_copr_using_subcommand edit-package-scm" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand edit-package-scm" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand edit-package-scm" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand edit-package-scm" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand edit-package-scm" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand edit-package-scm" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand edit-package-scm" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand delete-package" -l name -d 'The package name' -r
complete -c copr -n "__fish_copr_using_subcommand delete-package" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand delete-package" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand delete-package" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand delete-package" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand delete-package" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand delete-package" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand delete-package" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand reset-package" -l name -d 'The package name' -r
complete -c copr -n "__fish_copr_using_subcommand reset-package" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand reset-package" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand reset-package" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand reset-package" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand reset-package" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand reset-package" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand reset-package" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand build-package" -l name -d 'The package to build' -r
complete -c copr -n "__fish_copr_using_subcommand build-package" -s r -l chroot -d 'Build only for this chroot of the project (repeatable; patterns like fedora-* allowed)' -r
complete -c copr -n "__fish_copr_using_subcommand build-package" -l exclude-chroot -d 'Skip this chroot of the project (repeatable)' -r
complete -c copr -n "__fish_copr_using_subcommand build-package" -l timeout -d 'Build timeout in seconds (the server\'s default is 5 hours)' -r
complete -c copr -n "__fish_copr_using_subcommand build-package" -l isolation -d 'Isolation of commands run in the buildroot (default: the project\'s)' -r -f -a "default\t''
simple\t''
nspawn\t''"
complete -c copr -n "__fish_copr_using_subcommand build-package" -l enable-net -d 'Network access during the build (default: the project\'s setting)' -r -f -a "on\t''
off\t''"
complete -c copr -n "__fish_copr_using_subcommand build-package" -l bootstrap -d 'Mock\'s bootstrap chroot for this build (default: unchanged)' -r -f -a "unchanged\t''
default\t''
on\t''
off\t''
image\t''"
complete -c copr -n "__fish_copr_using_subcommand build-package" -l after-build-id -d 'Start after the batch containing this build has finished' -r
complete -c copr -n "__fish_copr_using_subcommand build-package" -l with-build-id -d 'Run in the same batch as this build' -r
complete -c copr -n "__fish_copr_using_subcommand build-package" -l poll-interval -d 'Seconds between two status checks while waiting (copr-cli waits 30)' -r
complete -c copr -n "__fish_copr_using_subcommand build-package" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand build-package" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand build-package" -l nowait -d 'Print the new build\'s ID and return without waiting for it'
complete -c copr -n "__fish_copr_using_subcommand build-package" -l background -d 'Run the build with lower priority'
complete -c copr -n "__fish_copr_using_subcommand build-package" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand build-package" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand build-package" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand build-package" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand build-package" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand buildscm" -l clone-url -d 'URL of the repository to clone' -r
complete -c copr -n "__fish_copr_using_subcommand buildscm" -l commit -d 'Branch, tag or commit to build (default: the repository\'s default branch)' -r
complete -c copr -n "__fish_copr_using_subcommand buildscm" -l subdir -d 'Subdirectory of the repository holding the spec file (default: the top)' -r
complete -c copr -n "__fish_copr_using_subcommand buildscm" -l spec -d 'Path of the spec file within the subdirectory (default: found automatically)' -r
complete -c copr -n "__fish_copr_using_subcommand buildscm" -l type -d 'Repository type (default: git)' -r -f -a "git\t''
svn\t''"
complete -c copr -n "__fish_copr_using_subcommand buildscm" -l method -d 'Tool that produces the SRPM (default: rpkg)' -r -f -a "rpkg\t''
tito\t''
tito_test\t''
make_srpm\t''"
complete -c copr -n "__fish_copr_using_subcommand buildscm" -s r -l chroot -d 'Build only for this chroot of the project (repeatable; patterns like fedora-* allowed)' -r
complete -c copr -n "__fish_copr_using_subcommand buildscm" -l exclude-chroot -d 'Skip this chroot of the project (repeatable)' -r
complete -c copr -n "__fish_copr_using_subcommand buildscm" -l timeout -d 'Build timeout in seconds (the server\'s default is 5 hours)' -r
complete -c copr -n "__fish_copr_using_subcommand buildscm" -l isolation -d 'Isolation of commands run in the buildroot (default: the project\'s)' -r -f -a "default\t''
simple\t''
nspawn\t''"
complete -c copr -n "__fish_copr_using_subcommand buildscm" -l enable-net -d 'Network access during the build (default: the project\'s setting)' -r -f -a "on\t''
off\t''"
complete -c copr -n "__fish_copr_using_subcommand buildscm" -l bootstrap -d 'Mock\'s bootstrap chroot for this build (default: unchanged)' -r -f -a "unchanged\t''
default\t''
on\t''
off\t''
image\t''"
complete -c copr -n "__fish_copr_using_subcommand buildscm" -l after-build-id -d 'Start after the batch containing this build has finished' -r
complete -c copr -n "__fish_copr_using_subcommand buildscm" -l with-build-id -d 'Run in the same batch as this build' -r
complete -c copr -n "__fish_copr_using_subcommand buildscm" -l poll-interval -d 'Seconds between two status checks while waiting (copr-cli waits 30)' -r
complete -c copr -n "__fish_copr_using_subcommand buildscm" -l config -d 'copr-cli configuration file with a [copr-cli] section: login, username, token, copr_url [default: ~/.config/copr]' -r -F
complete -c copr -n "__fish_copr_using_subcommand buildscm" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand buildscm" -l nowait -d 'Print the new build\'s ID and return without waiting for it'
complete -c copr -n "__fish_copr_using_subcommand buildscm" -l background -d 'Run the build with lower priority'
complete -c copr -n "__fish_copr_using_subcommand buildscm" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand buildscm" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand buildscm" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand buildscm" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand buildscm" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand bench; and not __fish_seen_subcommand_from createrepo sign all help" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand bench; and not __fish_seen_subcommand_from createrepo sign all help" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand bench; and not __fish_seen_subcommand_from createrepo sign all help" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand bench; and not __fish_seen_subcommand_from createrepo sign all help" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand bench; and not __fish_seen_subcommand_from createrepo sign all help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand bench; and not __fish_seen_subcommand_from createrepo sign all help" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand bench; and not __fish_seen_subcommand_from createrepo sign all help" -f -a "createrepo" -d 'Compare `copr createrepo` with createrepo_c on synthetic repositories'
complete -c copr -n "__fish_copr_using_subcommand bench; and not __fish_seen_subcommand_from createrepo sign all help" -f -a "sign" -d 'Compare `copr sign` with `rpmsign --addsign` (GnuPG)'
complete -c copr -n "__fish_copr_using_subcommand bench; and not __fish_seen_subcommand_from createrepo sign all help" -f -a "all" -d 'Run every benchmark with default sizes'
complete -c copr -n "__fish_copr_using_subcommand bench; and not __fish_seen_subcommand_from createrepo sign all help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c copr -n "__fish_copr_using_subcommand bench; and __fish_seen_subcommand_from createrepo" -l sizes -d 'Repository sizes (number of small packages) to test' -r
complete -c copr -n "__fish_copr_using_subcommand bench; and __fish_seen_subcommand_from createrepo" -l large -d 'Also test a set of packages with large payloads (count × MiB each)' -r
complete -c copr -n "__fish_copr_using_subcommand bench; and __fish_seen_subcommand_from createrepo" -l workers -d 'Worker threads given to both tools (default: number of cores)' -r
complete -c copr -n "__fish_copr_using_subcommand bench; and __fish_seen_subcommand_from createrepo" -l runs -d 'Runs per measurement; the best is reported' -r
complete -c copr -n "__fish_copr_using_subcommand bench; and __fish_seen_subcommand_from createrepo" -l workdir -d 'Keep the generated repositories here instead of a temporary directory' -r -F
complete -c copr -n "__fish_copr_using_subcommand bench; and __fish_seen_subcommand_from createrepo" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand bench; and __fish_seen_subcommand_from createrepo" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand bench; and __fish_seen_subcommand_from createrepo" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand bench; and __fish_seen_subcommand_from createrepo" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand bench; and __fish_seen_subcommand_from createrepo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand bench; and __fish_seen_subcommand_from createrepo" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand bench; and __fish_seen_subcommand_from sign" -l packages -d 'Number of packages to sign' -r
complete -c copr -n "__fish_copr_using_subcommand bench; and __fish_seen_subcommand_from sign" -l workdir -d 'Keep the generated packages here instead of a temporary directory' -r -F
complete -c copr -n "__fish_copr_using_subcommand bench; and __fish_seen_subcommand_from sign" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand bench; and __fish_seen_subcommand_from sign" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand bench; and __fish_seen_subcommand_from sign" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand bench; and __fish_seen_subcommand_from sign" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand bench; and __fish_seen_subcommand_from sign" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand bench; and __fish_seen_subcommand_from sign" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand bench; and __fish_seen_subcommand_from all" -l workdir -d 'Keep the generated data here instead of a temporary directory' -r -F
complete -c copr -n "__fish_copr_using_subcommand bench; and __fish_seen_subcommand_from all" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand bench; and __fish_seen_subcommand_from all" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand bench; and __fish_seen_subcommand_from all" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand bench; and __fish_seen_subcommand_from all" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand bench; and __fish_seen_subcommand_from all" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand bench; and __fish_seen_subcommand_from all" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand bench; and __fish_seen_subcommand_from help" -f -a "createrepo" -d 'Compare `copr createrepo` with createrepo_c on synthetic repositories'
complete -c copr -n "__fish_copr_using_subcommand bench; and __fish_seen_subcommand_from help" -f -a "sign" -d 'Compare `copr sign` with `rpmsign --addsign` (GnuPG)'
complete -c copr -n "__fish_copr_using_subcommand bench; and __fish_seen_subcommand_from help" -f -a "all" -d 'Run every benchmark with default sizes'
complete -c copr -n "__fish_copr_using_subcommand bench; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c copr -n "__fish_copr_using_subcommand completions" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand completions" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand completions" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand completions" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand completions" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "build" -d 'Build RPMs from a spec directory, spec file, SRPM, URL or git repository in an isolated buildroot'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "srpm" -d 'Make only the source RPM from a spec directory, spec file, URL or git repository'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "mock-config" -d 'Print the mock config a build in CHROOT would use (as Copr\'s builder writes it)'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "createrepo" -d 'Write rpm-md repository metadata (repodata/) for a directory of RPMs'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "key" -d 'Generate and export OpenPGP signing keys'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "sign" -d 'Add OpenPGP header signatures to RPM packages in place (like `rpmsign --addsign`)'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "module" -d 'Release a module from builds, build a module from modulemd, or check modulemd files'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "serve" -d 'Run the build service (Copr API v3 compatible), or manage its users with `serve admin`'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "builder" -d 'Run a build machine for `copr serve`: take tasks, build them, upload the results'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "whoami" -d 'Print the user name the configured API token belongs to'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "new-api-token" -d 'Get a new API token and save it in the configuration file (the old token stops working)'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "list" -d 'List the projects of a user or @group (default: yourself)'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "get" -d 'Show one project'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "create" -d 'Create a project'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "modify" -d 'Change settings of an existing project; options not given are left unchanged'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "delete" -d 'Delete a project with all its builds'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "fork" -d 'Fork a project (settings, packages and latest builds) into a new or existing one'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "regenerate-repos" -d 'Regenerate the repository metadata of a project'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "list-builds" -d 'List the builds of a project'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "status" -d 'Print the state of a build'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "watch-build" -d 'Follow builds until they finish; exits 4 if one failed or was canceled'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "cancel" -d 'Cancel an unfinished build'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "delete-build" -d 'Delete finished builds'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "download-build" -d 'Download the results of a build into a local directory, one subdirectory per chroot'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "repro" -d 'Run a remote build\'s task again locally, from the job spec its builder ran'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "monitor" -d 'Show the latest build of every package in every chroot of a project'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "list-chroots" -d 'List the chroots the server offers'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "get-chroot" -d 'Show the settings of one chroot of a project'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "edit-chroot" -d 'Change the settings of one chroot of a project'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "list-packages" -d 'List the packages of a project'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "list-package-names" -d 'Print the names of a project\'s packages, one per line'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "get-package" -d 'Show one package of a project'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "add-package-scm" -d 'Add a package built from a Git or SVN repository'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "edit-package-scm" -d 'Change the source or settings of an SCM package; options not given are left unchanged'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "delete-package" -d 'Delete a package and its builds from a project'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "reset-package" -d 'Forget a package\'s source settings (its builds stay)'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "build-package" -d 'Build a package of a project from its stored source settings'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "buildscm" -d 'Build from a Git or SVN repository'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "bench" -d 'Benchmarks against the tools users would pick instead (createrepo_c, rpmsign)'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from build srpm mock-config createrepo key sign module serve builder whoami new-api-token list get create modify delete fork regenerate-repos list-builds status watch-build cancel delete-build download-build repro monitor list-chroots get-chroot edit-chroot list-packages list-package-names get-package add-package-scm edit-package-scm delete-package reset-package build-package buildscm bench completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c copr -n "__fish_copr_using_subcommand help; and __fish_seen_subcommand_from key" -f -a "generate" -d 'Generate a signing key for a project: writes DIR/pubkey.gpg and DIR/secret.asc (0600)'
complete -c copr -n "__fish_copr_using_subcommand help; and __fish_seen_subcommand_from key" -f -a "export" -d 'Print the armored public key of a secret key file to stdout (or write it with --out)'
complete -c copr -n "__fish_copr_using_subcommand help; and __fish_seen_subcommand_from module" -f -a "release" -d 'Release a module (modulemd v2 + defaults) from the latest successful builds and publish it as `modules.yaml` in each chroot\'s repository'
complete -c copr -n "__fish_copr_using_subcommand help; and __fish_seen_subcommand_from module" -f -a "build" -d 'Build a module\'s components in buildorder from a modulemd v2 file, then release it'
complete -c copr -n "__fish_copr_using_subcommand help; and __fish_seen_subcommand_from module" -f -a "validate" -d 'Check modulemd files (modulemd v2, modulemd-defaults v1); errors name their line'
complete -c copr -n "__fish_copr_using_subcommand help; and __fish_seen_subcommand_from module" -f -a "list" -d 'List the modules released from a result directory'
complete -c copr -n "__fish_copr_using_subcommand help; and __fish_seen_subcommand_from serve" -f -a "admin" -d 'Manage users, groups and API tokens (works on the database directly)'
complete -c copr -n "__fish_copr_using_subcommand help; and __fish_seen_subcommand_from bench" -f -a "createrepo" -d 'Compare `copr createrepo` with createrepo_c on synthetic repositories'
complete -c copr -n "__fish_copr_using_subcommand help; and __fish_seen_subcommand_from bench" -f -a "sign" -d 'Compare `copr sign` with `rpmsign --addsign` (GnuPG)'
complete -c copr -n "__fish_copr_using_subcommand help; and __fish_seen_subcommand_from bench" -f -a "all" -d 'Run every benchmark with default sizes'
