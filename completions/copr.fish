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
complete -c copr -n "__fish_copr_needs_command" -f -a "mock-config" -d 'Print the mock config a build in CHROOT would use (as Copr\'s builder writes it)'
complete -c copr -n "__fish_copr_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c copr -n "__fish_copr_using_subcommand completions" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand completions" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand completions" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand completions" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand completions" -s V -l version -d 'Print version'
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
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from completions mock-config help" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from completions mock-config help" -f -a "mock-config" -d 'Print the mock config a build in CHROOT would use (as Copr\'s builder writes it)'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from completions mock-config help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
