#!/usr/bin/env bash
# Benchmark: stripped release size of otc-acme-hook, then benches/certbot_runs.rs
# (certbot-style runs against the loopback simulator, hook overhead, api GET vs
# Python, peak RSS, then certbot runs at 80 ms per API call on otc, ovh and ncp).
# Prints figures; asserts no timing. About 10 minutes on 2 cores (the 80 ms rows
# about 5 of them, one run each).
#
#   scripts/bench.sh            # everything
#   scripts/bench.sh --quick    # N = 1, 5 and fewer repetitions; 80 ms rows of 2 and 20
#   scripts/bench.sh --only latency [--clouds otc,ovh] [--sizes 2,20]   # only the 80 ms rows
#
# The report is also written to target/bench-report.md (under $CARGO_TARGET_DIR if set).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TERM_COLOR=never

# GNU time, for peak RSS. Without it the bench says "not measured" for that table.
if ! /usr/bin/time -f %M true >/dev/null 2>&1; then
    echo "bench.sh: installing GNU time (Debian package 'time') for peak RSS" >&2
    if command -v apt-get >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -q time >/dev/null 2>&1 ||
            { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q time >/dev/null 2>&1; } ||
            echo "bench.sh: could not install 'time'; peak RSS will not be measured" >&2
    else
        echo "bench.sh: no apt-get; install GNU time by hand for peak RSS" >&2
    fi
fi

cargo build --release --bin otc-acme-hook
target_dir=${CARGO_TARGET_DIR:-target}
bin=$target_dir/release/otc-acme-hook
stripped=$target_dir/release/otc-acme-hook.stripped
cp "$bin" "$stripped"
strip "$stripped"
size=$(stat -c %s "$stripped")
built=$(stat -c %s "$bin")
rm -f "$stripped"

report=$target_dir/bench-report.md
{
    echo "## Release binary"
    echo
    echo "| binary | bytes | MiB |"
    echo "|---|---|---|"
    awk -v b="$built" 'BEGIN { printf "| release otc-acme-hook as built | %d | %.2f |\n", b, b / 1048576 }'
    awk -v b="$size" 'BEGIN { printf "| stripped copy (strip) | %d | %.2f |\n", b, b / 1048576 }'
    echo
} | tee "$report"

cargo bench --bench certbot_runs -- "$@" | tee -a "$report"
echo
echo "bench.sh: report written to $report"
