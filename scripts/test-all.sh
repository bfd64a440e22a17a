#!/usr/bin/env bash
# Every test of the project, on a fresh machine: installs what the tests need
# (Debian's pebble, lego, knot, dig; certbot in a venv), then runs the unit and
# integration tests, the real-certbot, real-lego and knot end-to-end tests, and the
# benchmark (figures only, never a pass/fail on timings). Ends with one line
# counting every test: `tests: N passed, M failed`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Wall time per step, for CI's closing note (a figure, never a pass/fail).
step_start=$SECONDS
took() {
    echo "test-all: $1 took $((SECONDS - step_start)) s"
    step_start=$SECONDS
}

scripts/install-test-deps.sh
took "install-test-deps"
# One debug build of both workspace members, the hook and the simulator (sim/):
# cargo test reuses these binaries for the integration tests, and every e2e
# script runs them from target/debug.
cargo build --workspace --bins
took "cargo build --workspace --bins"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# No doc tests: the crates have none, and their empty run would be the last word.
cargo test --workspace --lib --bins --tests 2>&1 | tee "$log"
took "cargo test"
tests/e2e/run-all.sh 2>&1 | tee -a "$log"
took "e2e"
if [ "${OTC_SKIP_BENCH:-0}" != 1 ]; then
    # The release build it makes is the one scripts/package.sh packages.
    scripts/bench.sh
    took "bench"
fi
echo "test-all: $SECONDS s in all"
# cargo's "test result: ok. N passed; M failed" lines and e2e's "N passed, M failed".
passed=$(grep -Eo '(ok|FAILED)\. [0-9]+ passed' "$log" | awk '{s += $2} END {print s + 0}')
failed=$(grep -Eo '[0-9]+ passed; [0-9]+ failed' "$log" | awk '{s += $3} END {print s + 0}')
e2e=$(grep -E '^e2e: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
e2e_passed=$(printf '%s\n' "$e2e" | awk '{print $2 + 0}')
e2e_failed=$(printf '%s\n' "$e2e" | awk '{print $4 + 0}')
echo "tests: $((passed + e2e_passed)) passed, $((failed + e2e_failed)) failed"
