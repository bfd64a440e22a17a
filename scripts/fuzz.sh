#!/usr/bin/env bash
# Runs every cargo-fuzz target for a fixed time, one after the other, and
# prints libFuzzer's figures:
#
#   fuzz <target>: <execs> execs, <crashes> crashes, <corpus> corpus (<secs> s)
#   fuzz total: <n> targets, <execs> execs, <crashes> crashes
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default 60 s, all targets)
#
# Needs the nightly toolchain (`cargo +nightly`); installs cargo-fuzz if missing.
# Each target's corpus is fuzz/corpus/<target>, started from the committed
# seeds in fuzz/seeds/<target> and kept between runs (ignored by git).
# Crashing inputs land in fuzz/artifacts/<target>/, logs in fuzz/target/fuzz-logs/.
# Exits non-zero when any target crashed (or could not run).
set -euo pipefail

secs="${1:-60}"
if ! [[ "$secs" =~ ^[0-9]+$ ]] || [ "$secs" -lt 1 ]; then
    echo "usage: $0 [SECONDS_PER_TARGET] [TARGET...]" >&2
    exit 2
fi
shift || true

cd "$(dirname "$0")/.."
root="$PWD"

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz: the nightly toolchain is needed (rustup toolchain install nightly)" >&2
    exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

echo "fuzz: building ${#targets[@]} targets" >&2
cargo +nightly fuzz build >&2

logs="$root/fuzz/target/fuzz-logs"
mkdir -p "$logs"

total_execs=0
total_crashes=0
failed=()
for t in "${targets[@]}"; do
    corpus="$root/fuzz/corpus/$t"
    artifacts="$root/fuzz/artifacts/$t"
    log="$logs/$t.log"
    mkdir -p "$corpus" "$artifacts"
    if [ -d "$root/fuzz/seeds/$t" ]; then
        cp -n "$root/fuzz/seeds/$t"/* "$corpus"/ 2>/dev/null || true
    fi
    dict=()
    if [ -f "$root/fuzz/dicts/$t.dict" ]; then
        dict=("-dict=$root/fuzz/dicts/$t.dict")
    fi
    marker="$logs/$t.start"
    : >"$marker"

    echo "fuzz: running $t for $secs s (log: $log)" >&2
    start=$(date +%s)
    # One process, one target at a time: libFuzzer's -jobs/-workers would move
    # the output (and its final stats) to fuzz-N.log files, so they are not used.
    status=0
    cargo +nightly fuzz run "$t" "$corpus" -- \
        -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
        -rss_limit_mb=2048 "${dict[@]}" >"$log" 2>&1 || status=$?
    elapsed=$(($(date +%s) - start))

    execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    if [ -z "$execs" ]; then
        # No final stats (killed, or did not start): the last status line's count.
        execs=$(sed -n 's/^#\([0-9][0-9]*\)[[:space:]].*/\1/p' "$log" | tail -n 1)
    fi
    execs=${execs:-0}
    mapfile -t found < <(find "$artifacts" -maxdepth 1 -type f -newer "$marker" \
        \( -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' -o -name 'leak-*' \) | sort)
    crashes=${#found[@]}
    if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then
        crashes=1 # failed without an artifact (build error, sanitizer abort, ...)
    fi
    corpus_size=$(find "$corpus" -maxdepth 1 -type f | wc -l)
    # Fuzzing time as libFuzzer counts it (the wall time also holds any rebuild).
    fuzz_secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)

    echo "fuzz $t: $execs execs, $crashes crashes, $corpus_size corpus (${fuzz_secs:-$elapsed} s)"
    if [ "$crashes" -gt 0 ]; then
        failed+=("$t")
        for f in "${found[@]}"; do
            echo "  input: $f" >&2
        done
        echo "  last lines of $log:" >&2
        grep -E "panicked at|^==[0-9]+==ERROR|SUMMARY|Test unit written" "$log" | head -n 20 | sed 's/^/    /' >&2 || true
        echo "  reproduce: cargo +nightly fuzz run $t <input>; minimise: cargo +nightly fuzz tmin $t <input>" >&2
    fi
    total_execs=$((total_execs + execs))
    total_crashes=$((total_crashes + crashes))
done

echo "fuzz total: ${#targets[@]} targets, $total_execs execs, $total_crashes crashes"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz: crashed: ${failed[*]}" >&2
    exit 1
fi
