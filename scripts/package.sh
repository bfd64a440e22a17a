#!/usr/bin/env bash
# Builds the packages of otc-acme-hook (not otc-sim): the release binary, the
# man page and shell completions generated from it (into target/assets/, never
# committed), the .deb with `cargo deb`, and the .rpm with `cargo generate-rpm`.
# Lists what both packages install, checks the paths they must hold, and renders
# the man page to prove it is valid.
#
# Installs what it needs: cargo-deb and cargo-generate-rpm (cargo install
# --locked) and, when missing, man-db and rpm (apt-get, as root; rpm lists the
# .rpm).
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
# apt_install PACKAGE: as root with apt-get, install PACKAGE (updating the lists if needed).
apt_install() {
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || return 0
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq "$1" >/dev/null ||
        { apt-get update -qq && apt-get install -y -qq "$1" >/dev/null; }
}
command -v man >/dev/null || apt_install man-db
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
    ./usr/share/doc/otc-acme-hook/copyright \
    ./usr/share/doc/otc-acme-hook/LICENSE-MIT \
    ./usr/share/doc/otc-acme-hook/LICENSE-APACHE \
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
# Debian's copyright file (cargo-deb writes it from Cargo.toml) must name the license.
unpacked=$(mktemp -d)
trap 'rm -rf "$unpacked"' EXIT
dpkg-deb -x "$deb" "$unpacked"
copyright=$unpacked/usr/share/doc/otc-acme-hook/copyright
cat "$copyright"
grep -Eq '^License: MIT OR Apache-2\.0$' "$copyright" ||
    { echo "the .deb's copyright file names no license (want 'License: MIT OR Apache-2.0')" >&2; exit 1; }
grep -Eq '^Copyright: 2026 ' "$copyright" ||
    { echo "the .deb's copyright file has no Copyright line" >&2; exit 1; }

say "RPM package"
if ! command -v cargo-generate-rpm >/dev/null; then
    cargo install cargo-generate-rpm --locked
fi
rm -rf target/generate-rpm
mkdir -p target/generate-rpm
cargo generate-rpm --output target/generate-rpm/
rpm_file=$(ls target/generate-rpm/*.rpm)
ls -l "$rpm_file"
command -v rpm >/dev/null || apt_install rpm
rpm -qip "$rpm_file"
rpm -qlp "$rpm_file"
rpm_listing=$(rpm -qlp "$rpm_file")
for path in \
    /usr/bin/otc-acme-hook \
    /usr/share/man/man1/otc-acme-hook.1.gz \
    /usr/share/bash-completion/completions/otc-acme-hook \
    /usr/share/doc/otc-acme-hook/README.md \
    /usr/share/licenses/otc-acme-hook/LICENSE-MIT \
    /usr/share/licenses/otc-acme-hook/LICENSE-APACHE \
    /usr/share/doc/otc-acme-hook/examples/dns_otc_hook.sh; do
    grep -qx -- "$path" <<<"$rpm_listing" || { echo "the .rpm lacks $path" >&2; exit 1; }
done
rpm -qp --queryformat '%{LICENSE}\n' "$rpm_file" | grep -qx 'MIT OR Apache-2.0' ||
    { echo "the .rpm names no license MIT OR Apache-2.0" >&2; exit 1; }
if grep -q otc-sim <<<"$rpm_listing"; then
    echo "the .rpm must not ship otc-sim" >&2
    exit 1
fi
