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
complete -c copr -n "__fish_copr_needs_command" -f -a "serve" -d 'Run the build service (Copr API v3 compatible), or manage its users with `serve admin`'
complete -c copr -n "__fish_copr_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c copr -n "__fish_copr_using_subcommand completions" -l output -d 'Output format for data printed to stdout' -r -f -a "text\t'Human-readable text and tables'
json\t'Machine-readable JSON on stdout'"
complete -c copr -n "__fish_copr_using_subcommand completions" -s v -l verbose -d 'Show more detail: stream build logs and debug messages'
complete -c copr -n "__fish_copr_using_subcommand completions" -s q -l quiet -d 'Print only errors'
complete -c copr -n "__fish_copr_using_subcommand completions" -l no-color -d 'Disable colours (also honoured: the NO_COLOR environment variable)'
complete -c copr -n "__fish_copr_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c copr -n "__fish_copr_using_subcommand completions" -s V -l version -d 'Print version'
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
complete -c copr -n "__fish_copr_using_subcommand serve; and __fish_seen_subcommand_from admin" -f -a "seed-bench" -d 'Fill a project with builds, for benchmarks'
complete -c copr -n "__fish_copr_using_subcommand serve; and __fish_seen_subcommand_from admin" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c copr -n "__fish_copr_using_subcommand serve; and __fish_seen_subcommand_from help" -f -a "admin" -d 'Manage users, groups and API tokens (works on the database directly)'
complete -c copr -n "__fish_copr_using_subcommand serve; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from completions serve help" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from completions serve help" -f -a "serve" -d 'Run the build service (Copr API v3 compatible), or manage its users with `serve admin`'
complete -c copr -n "__fish_copr_using_subcommand help; and not __fish_seen_subcommand_from completions serve help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c copr -n "__fish_copr_using_subcommand help; and __fish_seen_subcommand_from serve" -f -a "admin" -d 'Manage users, groups and API tokens (works on the database directly)'
