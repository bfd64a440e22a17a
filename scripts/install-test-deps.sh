#!/usr/bin/env bash
# Install what the end-to-end tests under tests/e2e/ need, on Debian 12 (bookworm):
#   - Debian packages: pebble (ACME test CA), lego (ACME client, for its exec provider),
#     knot (knotd, knotc), knot-dnssecutils (kzonecheck), bind9-dnsutils (dig), openssl,
#     curl, python3-venv, acl (setfacl: a systemd credential a User= unit reads through an ACL);
#   - certbot, pinned in tests/e2e/certbot-requirements.txt, into a venv at
#     ${OTC_TEST_VENV:-$HOME/.cache/otc-acme-hook/venv}.
# Idempotent and non-interactive: every step is skipped when its result is already there.
# Runs as root (CI); as another user it uses sudo for apt-get when sudo exists.
#
# Environment:
#   OTC_TEST_VENV     where the certbot venv lives (default $HOME/.cache/otc-acme-hook/venv)
#   OTC_TEST_PYTHON   interpreter that creates the venv (default /usr/bin/python3, Debian's)
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
requirements="$repo_root/tests/e2e/certbot-requirements.txt"
venv="${OTC_TEST_VENV:-$HOME/.cache/otc-acme-hook/venv}"
python="${OTC_TEST_PYTHON:-/usr/bin/python3}"

apt_packages=(pebble lego knot knot-dnssecutils bind9-dnsutils openssl curl python3 python3-venv acl)
# A command per package that shows it is installed.
needed_commands=(pebble lego knotd knotc kzonecheck dig openssl curl setfacl)

say() { printf 'install-test-deps: %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -E "$@"
    else
        say "need root (or sudo) to run: $*" >&2
        exit 1
    fi
}

# --- Debian packages -------------------------------------------------------
missing=()
for cmd in "${needed_commands[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
done
if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    missing+=("$python -m venv")
fi

if [ "${#missing[@]}" -eq 0 ]; then
    say "Debian packages already present (${needed_commands[*]}, python3-venv): skipping apt-get"
else
    say "missing: ${missing[*]}"
    say "apt-get update"
    as_root apt-get update
    say "apt-get install -y ${apt_packages[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${apt_packages[@]}"
    for cmd in "${needed_commands[@]}"; do
        command -v "$cmd" >/dev/null 2>&1 || { say "still missing after install: $cmd" >&2; exit 1; }
    done
fi

# --- certbot in its venv ---------------------------------------------------
want_version=$(sed -n 's/^certbot==\([^[:space:]]*\).*/\1/p' "$requirements")
have_version=""
if [ -x "$venv/bin/certbot" ]; then
    have_version=$("$venv/bin/certbot" --version 2>/dev/null | sed -n 's/^certbot //p' || true)
fi

if [ -n "$want_version" ] && [ "$have_version" = "$want_version" ]; then
    say "certbot $have_version already in $venv: skipping pip"
else
    if [ ! -x "$venv/bin/python" ]; then
        say "creating venv $venv with $python"
        mkdir -p "$(dirname "$venv")"
        "$python" -m venv "$venv"
    fi
    say "pip install -r tests/e2e/certbot-requirements.txt into $venv (certbot $want_version)"
    "$venv/bin/python" -m pip install --disable-pip-version-check --no-input --quiet \
        -r "$requirements"
    have_version=$("$venv/bin/certbot" --version 2>/dev/null | sed -n 's/^certbot //p')
    if [ "$have_version" != "$want_version" ]; then
        say "certbot in $venv reports '$have_version', wanted '$want_version'" >&2
        exit 1
    fi
fi

say "ready: pebble $(dpkg-query -W -f='${Version}' pebble 2>/dev/null || echo '?'), lego $(dpkg-query -W -f='${Version}' lego 2>/dev/null || echo '?'), $(knotd -V 2>&1 | head -n1), certbot $have_version at $venv/bin/certbot"
