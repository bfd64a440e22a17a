#!/usr/bin/env bash
# Builds the packages of otc-acme-hook (not otc-sim): the release binary, the
# man page and shell completions generated from it (into target/assets/, never
# committed), the .deb with `cargo deb`, and the .rpm with `cargo generate-rpm`.
# Lists what the .deb installs and renders the man page to prove it is valid.
#
#   scripts/package.sh                     # .deb, plus the .rpm if cargo-generate-rpm is installed
#   OTC_PACKAGE_RPM=1 scripts/package.sh   # the .rpm too, installing cargo-generate-rpm if missing
#   OTC_PACKAGE_RPM=0 scripts/package.sh   # .deb only
# The .rpm needs a `license` in Cargo.toml, which the project has not chosen yet:
# until then the RPM step says so and is skipped (fails with OTC_PACKAGE_RPM=1).
#
# Installs what it needs: cargo-deb (cargo install --locked) and, when missing,
# man-db (apt-get, as root).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TERM_COLOR=never

say() { printf '\n== %s\n' "$*"; }

say "release build"
cargo build --release --bin otc-acme-hook
bin=target/release/otc-acme-hook

say "man page and completions from the binary's clap definition"
assets=target/assets
rm -rf "$assets"
mkdir -p "$assets/completions"
# A clean environment: stray OTC_* settings of this shell must not fail or change the output.
mkdir -p "$assets/man"
env -i "$bin" generate man --dir "$assets/man"
cp "$assets/man/otc-acme-hook.1" "$assets/otc-acme-hook.1"
env -i "$bin" generate completions bash >"$assets/completions/otc-acme-hook"
env -i "$bin" generate completions zsh >"$assets/completions/_otc-acme-hook"
env -i "$bin" generate completions fish >"$assets/completions/otc-acme-hook.fish"
for f in "$assets/otc-acme-hook.1" "$assets"/completions/*; do
    [ -s "$f" ] || { echo "empty: $f" >&2; exit 1; }
done
bash -n "$assets/completions/otc-acme-hook"
gzip -9 -n -f "$assets/otc-acme-hook.1"
rm "$assets/man/otc-acme-hook.1"
gzip -9 -n -f "$assets"/man/*.1
ls "$assets/man"
ls -l "$assets" "$assets/completions"

say "the man page renders"
if ! command -v man >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq man-db >/dev/null ||
        { apt-get update -qq && apt-get install -y -qq man-db >/dev/null; }
fi
render=$assets/otc-acme-hook.1.txt
if command -v man >/dev/null; then
    # -l: this file, not the installed pages; piped, man prints plain text.
    MANWIDTH=100 man -l "$assets/otc-acme-hook.1.gz" >"$render"
else
    zcat "$assets/otc-acme-hook.1.gz" | groff -man -Tutf8 -P-cbou >"$render"
fi
# The sections clap_mangen writes, and an option from each heading.
for want in NAME SYNOPSIS OPTIONS SUBCOMMANDS --metadata-url --dns-endpoint --propagation-timeout; do
    grep -q -- "$want" "$render" || { echo "the rendered man page lacks $want" >&2; exit 1; }
done
head -n 12 "$render"

say "Debian package"
if ! command -v cargo-deb >/dev/null; then
    cargo install cargo-deb --locked
fi
# cargo deb prints the path of the package on stdout.
deb=$(cargo deb --no-build --output target/debian/ | tail -n 1)
[ -f "$deb" ] || { echo "cargo deb made no package: $deb" >&2; exit 1; }
echo "$deb"
dpkg-deb --info "$deb"
dpkg-deb --contents "$deb"
# What the package must install.
listing=$(dpkg-deb --contents "$deb" | awk '{print $6}')
for path in \
    ./usr/bin/otc-acme-hook \
    ./usr/share/man/man1/otc-acme-hook.1.gz \
    ./usr/share/bash-completion/completions/otc-acme-hook \
    ./usr/share/zsh/vendor-completions/_otc-acme-hook \
    ./usr/share/fish/vendor_completions.d/otc-acme-hook.fish \
    ./usr/share/doc/otc-acme-hook/README.md \
    ./usr/share/doc/otc-acme-hook/docs/configuration.md \
    ./usr/share/doc/otc-acme-hook/examples/renewal-example.conf \
    ./usr/share/doc/otc-acme-hook/examples/cli.ini \
    ./usr/share/doc/otc-acme-hook/examples/otc-acme-hook-renew.service \
    ./usr/share/doc/otc-acme-hook/examples/otc-acme-hook-renew.timer \
    ./usr/share/doc/otc-acme-hook/examples/dns_otc_hook.sh; do
    grep -qx -- "$path" <<<"$listing" || { echo "the .deb lacks $path" >&2; exit 1; }
done
if grep -q otc-sim <<<"$listing"; then
    echo "the .deb must not ship otc-sim" >&2
    exit 1
fi

say "RPM package"
# OTC_PACKAGE_RPM: 1 = build it (installing cargo-generate-rpm if needed), 0 = skip,
# unset = build it when cargo-generate-rpm is already installed.
want_rpm=${OTC_PACKAGE_RPM:-auto}
# An RPM must name a license; the project has not chosen one yet (Cargo.toml `license`).
if ! grep -Eq '^license(-file)? *=' Cargo.toml; then
    echo "skipped: Cargo.toml has no license field, and an RPM must carry one"
    [ "$want_rpm" != 1 ] || exit 1
    exit 0
fi
if [ "$want_rpm" = 1 ] && ! command -v cargo-generate-rpm >/dev/null; then
    cargo install cargo-generate-rpm --locked
fi
if [ "$want_rpm" != 0 ] && command -v cargo-generate-rpm >/dev/null; then
    mkdir -p target/generate-rpm
    cargo generate-rpm --output target/generate-rpm/
    ls -l target/generate-rpm/*.rpm
    if command -v rpm >/dev/null; then
        rpm -qlp target/generate-rpm/*.rpm
    fi
else
    echo "skipped: cargo-generate-rpm is not installed (OTC_PACKAGE_RPM=1 installs it)"
fi
