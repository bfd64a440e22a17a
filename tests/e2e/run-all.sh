#!/usr/bin/env bash
# Run every end-to-end script in tests/e2e/ and print one closing line for all of them:
#   e2e: N passed, M failed
# Each script takes its inputs from the environment (see its header); the binaries must be
# built first (cargo build --bins) and the tools installed (scripts/install-test-deps.sh).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
passed=0
failed=0
# SCRIPT or SCRIPT:CLOUD (the script run with OTC_E2E_CLOUD=CLOUD; otc when not given).
for test in certbot-pebble lego-pebble knot-tcp certbot-pebble:ovh lego-pebble:ovh certbot-pebble:ncp lego-pebble:ncp; do
    script=${test%%:*}
    cloud=otc
    case $test in *:*) cloud=${test#*:} ;; esac
    printf '=== e2e %s
' "$test"
    if OTC_E2E_CLOUD=$cloud "$here/$script.sh"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
done
printf 'e2e: %d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
