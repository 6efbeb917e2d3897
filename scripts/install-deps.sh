#!/usr/bin/env bash
# Installs the system packages copr needs, only those that are missing, with apt-get (Debian,
# Ubuntu) or dnf (Fedora, EL). `--test` adds what the test suite needs: createrepo_c, dnf,
# libmodulemd tools, PostgreSQL, and the real copr-cli from PyPI in target/test-venv.
#
# Runs as root, or through sudo when it is available.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null; then SUDO="sudo"; else
        echo "install-deps: not root and no sudo; install the packages listed in this script by hand" >&2
    fi
fi

if ! command -v cargo >/dev/null; then
    echo "install-deps: cargo not found; install Rust from https://rustup.rs first" >&2
    exit 1
fi

if command -v apt-get >/dev/null; then
    pkgs=(rpm rpm2cpio bubblewrap git gcc make cpio file pkg-config libssl-dev nettle-dev
          libclang-dev gnupg ca-certificates)
    if [ $want_test = 1 ]; then
        pkgs+=(createrepo-c dnf libmodulemd-tools gir1.2-modulemd-2.0 python3-gi python3-venv zstd time
               postgresql)
    fi
    missing=()
    for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "install-deps: installing ${missing[*]}" >&2
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
elif command -v dnf >/dev/null; then
    pkgs=(rpm-build bubblewrap git gcc make cpio file pkgconf-pkg-config openssl-devel nettle-devel
          clang-devel gnupg2)
    if [ $want_test = 1 ]; then
        pkgs+=(createrepo_c dnf libmodulemd python3-gobject-base python3 postgresql-server tito zstd time)
    fi
    missing=()
    for p in "${pkgs[@]}"; do rpm -q "$p" >/dev/null 2>&1 || missing+=("$p"); done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "install-deps: installing ${missing[*]}" >&2
        $SUDO dnf install -y -q "${missing[@]}"
    fi
else
    echo "install-deps: neither apt-get nor dnf found; install rpm-build, bubblewrap and git by hand" >&2
fi

if [ $want_test = 1 ]; then
    venv=target/test-venv
    if [ ! -x "$venv/bin/copr-cli" ] && [ ! -x "$venv/bin/copr" ]; then
        echo "install-deps: installing copr-cli from PyPI into $venv" >&2
        mkdir -p target
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q --disable-pip-version-check copr-cli
    fi
fi
