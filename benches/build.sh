#!/usr/bin/env bash
# Benchmark: `copr build` of the bundled example against bare `rpmbuild -ba` on the same spec.
#
# Both build the SRPM and the binary RPMs of examples/hello from scratch on every run, into
# fresh temporary directories. rpmbuild gets --nodeps because hosts without an rpmdb (Debian,
# Ubuntu) cannot satisfy BuildRequires for it; copr resolves them in its sandbox. copr runs
# twice: into a new result directory (its first build there also creates the project's signing
# key) and into a result directory whose key exists (every later build). The report is
# hyperfine's table plus the copr / rpmbuild ratio of the mean, median and minimum times (on a
# loaded machine the minimum is the least noisy).
#
# Usage: benches/build.sh [RUNS]        (COPR=path/to/copr overrides the binary)
#        BENCH_PKG=DIR benches/build.sh   (another package directory with one spec)
#        HEAVY=1 benches/build.sh         (the example with a generated C file that takes a few
#                                          seconds to compile: shows the fixed overhead's share
#                                          in a build of realistic length)
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-10}
copr=${COPR:-}
if [ -z "$copr" ]; then
    if [ -x target/release/copr ]; then copr=target/release/copr; else
        cargo build --quiet
        copr=target/debug/copr
    fi
fi
copr=$(realpath "$copr")
command -v hyperfine >/dev/null || { echo "bench: hyperfine is not installed" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
example=$(realpath "${BENCH_PKG:-examples/hello}")
if [ "${HEAVY:-0}" = 1 ]; then
    cp -r examples/hello "$work/heavy"
    python3 - "$work/heavy/hello.c" <<'PY'
import sys
with open(sys.argv[1], "a") as f:
    for i in range(800):
        f.write(f"int heavy_{i}(int x) {{ int s = 0; for (int k = 0; k < x; k++) s += (k * {i}) ^ (s >> 3); return s; }}\n")
PY
    example="$work/heavy"
fi
spec=$(ls "$example"/*.spec)
json="$work/hyperfine.json"

# A result directory holding only the project key, as every build after the first finds it
# (the key belongs to the project named after the directory, so the name is the same).
mkdir "$work/keyed"
"$copr" build --quiet --resultdir "$work/keyed/copr" "$example" >/dev/null
find "$work/keyed/copr" -mindepth 1 -maxdepth 1 ! -name .keys -exec rm -rf {} +

clean="rm -rf '$work/copr' '$work/rpmbuild'; mkdir -p '$work/rpmbuild'"
hyperfine --warmup 2 --runs "$runs" --export-json "$json" \
    --prepare "$clean" \
    -n "rpmbuild -ba" \
    "rpmbuild -ba --nodeps --quiet --define '_topdir $work/rpmbuild' --define '_sourcedir $example' '$spec' >/dev/null 2>&1" \
    --prepare "$clean" \
    -n "copr build (new result dir)" \
    "'$copr' build --quiet --resultdir '$work/copr' '$example'" \
    --prepare "$clean; cp -a '$work/keyed/copr' '$work/copr'" \
    -n "copr build (key exists)" \
    "'$copr' build --quiet --resultdir '$work/copr' '$example'"

python3 - "$json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
for name in ("copr build (new result dir)", "copr build (key exists)"):
    print(name)
    for stat in ("mean", "median", "min"):
        base, copr = r["rpmbuild -ba"][stat], r[name][stat]
        print(f"  {stat:>6}: rpmbuild -ba {base*1000:.0f} ms, copr build {copr*1000:.0f} ms, "
              f"ratio {copr/base:.2f} (overhead {100*(copr/base-1):+.0f}%, {1000*(copr-base):+.0f} ms)")
PY
