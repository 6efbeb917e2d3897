#!/usr/bin/env bash
# Load benchmark of `copr serve` with wrk on loopback, for SQLite and PostgreSQL:
#   GET  /api_3/build/list  on a project with N builds (default page size)
#   GET  /api_3/build/ID
#   POST /api_3/build/create/url   (authenticated, one build per request)
# Prints p50/p99 latency and requests/s per backend. Release build.
#
# Usage: benches/server.sh [BUILDS] [DURATION] [CONNECTIONS]   (defaults: 100000 10s 32)
# PostgreSQL runs in a private cluster (scripts/test-postgres.sh) with fsync on.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILDS=${1:-100000}
DURATION=${2:-10s}
CONNS=${3:-32}
THREADS=${WRK_THREADS:-2}

command -v wrk >/dev/null || { echo "bench: wrk is not installed" >&2; exit 1; }
cargo build --release --quiet
BIN=$PWD/target/release/copr

WORK=$(mktemp -d "${TMPDIR:-/tmp}/copr-bench.XXXXXX")
SERVER_PID=""
stop_server() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    SERVER_PID=""
}
cleanup_bench() { stop_server; rm -rf "$WORK"; }
trap cleanup_bench EXIT

# shellcheck source=/dev/null
source scripts/test-postgres.sh
if [ -n "${COPR_TEST_POSTGRES_URL:-}" ]; then
    # The test cluster runs without fsync; measure with durable commits.
    runuser -u postgres -- psql -q "postgresql:///postgres?host=$_COPR_PG_DIR&user=postgres" \
        -c "ALTER SYSTEM SET fsync = on" -c "ALTER SYSTEM SET synchronous_commit = on" \
        -c "SELECT pg_reload_conf()" >/dev/null
    runuser -u postgres -- psql -q "postgresql:///postgres?host=$_COPR_PG_DIR&user=postgres" \
        -c "CREATE DATABASE copr_bench" >/dev/null
fi

# wrk output → "p50 p99 req/s"
summarize() {
    awk '
        $1 == "50%" { p50 = $2 }
        $1 == "99%" { p99 = $2 }
        $1 == "Requests/sec:" { rps = $2 }
        /Non-2xx or 3xx responses/ { bad = $NF }
        END { printf "p50 %-9s p99 %-9s %10s req/s%s\n", p50, p99, rps, (bad ? "  (" bad " non-2xx!)" : "") }'
}

run_backend() {
    local name=$1; shift
    local data="$WORK/$name"
    local args=(--data "$data" "$@")
    local creds login token
    creds=$("$BIN" serve "${args[@]}" admin add-user bench --output json)
    login=$(printf '%s' "$creds" | sed -E 's/.*"login":"([^"]+)".*/\1/')
    token=$(printf '%s' "$creds" | sed -E 's/.*"token":"([^"]+)".*/\1/')
    local t0=$SECONDS
    "$BIN" serve "${args[@]}" admin seed-bench bench big --builds "$BUILDS" 2>/dev/null
    "$BIN" serve "${args[@]}" admin seed-bench bench post --builds 1 2>/dev/null
    echo "[$name] seeded $BUILDS builds in $((SECONDS - t0)) s"

    "$BIN" serve "${args[@]}" --listen 127.0.0.1:0 --port-file "$WORK/$name.port" \
        >"$WORK/$name.out" 2>"$WORK/$name.log" &
    SERVER_PID=$!
    while [ ! -s "$WORK/$name.port" ]; do sleep 0.1; done
    local addr
    addr=$(cat "$WORK/$name.port")
    local base="http://$addr/api_3"

    printf '[%s] GET  build/list (100,000 builds)  ' "$name"
    wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency \
        "$base/build/list?ownername=bench&projectname=big" | summarize
    printf '[%s] GET  build/ID                     ' "$name"
    wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$base/build/$((BUILDS / 2))" | summarize
    local auth
    auth=$(printf '%s:%s' "$login" "$token" | base64 -w0)
    cat >"$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"ownername":"bench","projectname":"post","pkgs":["https://example.org/hello-1.0-1.src.rpm"]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Basic $auth"
LUA
    printf '[%s] POST build/create/url             ' "$name"
    wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$WORK/post.lua" \
        "$base/build/create/url" | summarize
    stop_server
}

echo "copr serve benchmark: $BUILDS builds, wrk -t$THREADS -c$CONNS -d$DURATION, $(nproc) cores"
run_backend sqlite
if [ -n "${COPR_TEST_POSTGRES_URL:-}" ]; then
    pg_url=${COPR_TEST_POSTGRES_URL/\/postgres\?/\/copr_bench\?}
    run_backend postgres --database "$pg_url"
else
    echo "[postgres] skipped: PostgreSQL is not installed"
fi
