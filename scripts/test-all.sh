#!/usr/bin/env bash
# Every test of the project, on a fresh machine: installs what the tests need
# (Debian's pebble, knot, dig; certbot in a venv), then runs the unit and
# integration tests, the real-certbot and knot end-to-end tests, and the
# benchmark (figures only, never a pass/fail on timings).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-test-deps.sh
cargo build --bins
cargo test
tests/e2e/run-all.sh
if [ "${OTC_SKIP_BENCH:-0}" != 1 ]; then
    scripts/bench.sh
fi
