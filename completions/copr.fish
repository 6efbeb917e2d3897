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
complete -c copr -n "__fish_copr_needs_command" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c copr -n "__fish_copr_needs_command" -f -a "module" -d 'Release a module from builds, build a module from modulemd, or check modulemd files'
complete -c copr -n "__fish_copr_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c copr -n "__fish_copr_using_subcommand completions" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand completions" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand completions" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand completions" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand completions" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand module; and not __fish_seen_subcommand_from release build validate help" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand module; and not __fish_seen_subcommand_from release build validate help" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand module; and not __fish_seen_subcommand_from release build validate help" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand module; and not __fish_seen_subcommand_from release build validate help" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand module; and not __fish_seen_subcommand_from release build validate help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand module; and not __fish_seen_subcommand_from release build validate help" -s V -l version -d 'Print version'
complete -c copr -n "__fish_copr_using_subcommand module; and not __fish_seen_subcommand_from release build validate help" -f -a "release" -d 'Release a module (modulemd v2 + defaults) from the latest successful builds and publish it as `modules.yaml` in each chroot\'s repository'
complete -c copr -n "__fish_copr_using_subcommand module; and not __fish_seen_subcommand_from release build validate help" -f -a "build" -d 'Build a module\'s components in buildorder from a modulemd v2 file, then release it'
complete -c copr -n "__fish_copr_using_subcommand module; and not __fish_seen_subcommand_from release build validate help" -f -a "validate" -d 'Check modulemd files (modulemd v2, modulemd-defaults v1); errors name their line'
complete -c copr -n "__fish_copr_using_subcommand module; and not __fish_seen_subcommand_from release build validate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
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
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from release" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from release" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from release" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from release" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from build" -l remote -d 'Build on a copr server in this project instead of locally (not available yet)' -r
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from build" -l resultdir -d 'Result directory for the component builds and the module' -r -F
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from build" -l chroot -d 'Chroot to build in; default: the host chroot' -r
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from build" -l out -d 'Also write the released documents to this file' -r -F
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from build" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
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
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from help" -f -a "release" -d 'Release a module (modulemd v2 + defaults) from the latest successful builds and publish it as `modules.yaml` in each chroot\'s repository'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from help" -f -a "build" -d 'Build a module\'s components in buildorder from a modulemd v2 file, then release it'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from help" -f -a "validate" -d 'Check modulemd files (modulemd v2, modulemd-defaults v1); errors name their line'
complete -c copr -n "__fish_copr_using_subcommand module; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from completions module help" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from completions module help" -f -a "module" -d 'Release a module from builds, build a module from modulemd, or check modulemd files'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from completions module help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c copr -n "__fish_copr_using_subcommand help; and __fish_seen_subcommand_from module" -f -a "release" -d 'Release a module (modulemd v2 + defaults) from the latest successful builds and publish it as `modules.yaml` in each chroot\'s repository'
complete -c copr -n "__fish_copr_using_subcommand help; and __fish_seen_subcommand_from module" -f -a "build" -d 'Build a module\'s components in buildorder from a modulemd v2 file, then release it'
complete -c copr -n "__fish_copr_using_subcommand help; and __fish_seen_subcommand_from module" -f -a "validate" -d 'Check modulemd files (modulemd v2, modulemd-defaults v1); errors name their line'
