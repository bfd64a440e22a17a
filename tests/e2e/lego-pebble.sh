#!/usr/bin/env bash
# End-to-end: Debian's real lego gets a certificate from a real ACME server (Debian's
# pebble) for example.test, *.example.test and www.nested.example.test through its `exec`
# DNS provider with otc-acme-hook as EXEC_PATH, against otc-sim (OTC DNS API + metadata +
# authoritative DNS, all on loopback). pebble validates by asking otc-sim's DNS.
#
# Runs lego twice against one otc-sim and one pebble: the default mode (present FQDN VALUE)
# and EXEC_MODE=RAW (present -- DOMAIN TOKEN KEYAUTH), each with the settings docs/usage.md
# recommends: EXEC_SEQUENCE_INTERVAL=1, --dns.disable-cp, LEGO_DISABLE_CNAME_SUPPORT=true.
# lego's own TXT lookup goes to otc-sim's DNS (--dns.resolvers): no real resolver is asked.
#
# Asserts, per mode: lego exits 0; the certificate's SANs are exactly those three names and
# it chains to pebble's root; afterwards otc-sim holds no _acme-challenge TXT value but the
# foreign "foreign-keep" (ttl 600), which is still there. Prints each lego run's wall time.
#
# OTC_E2E_CLOUD=ncp runs the same against NAVER Cloud's simulation (Global DNS, the server
# role); each lego hook publishes its own change (one apply per hook: lego runs each hook
# alone), and it asserts that rollback is never called.
#
# Needs: scripts/install-test-deps.sh (pebble, lego), and `cargo build --bins`.
# Environment:
#   OTC_E2E_CLOUD   otc (default) or ncp
#   OTC_ACME_HOOK   hook binary (default target/debug/otc-acme-hook, from the repo root)
#   OTC_SIM         simulator binary (default target/debug/otc-sim)
#   OTC_E2E_SEED    seed JSON for otc-sim (default tests/e2e/certbot-pebble.seed.json; ncp:
#                   ncp-pebble.seed.json)
#   OTC_E2E_LEGO_TIMEOUT  seconds each lego run may take (default 300)
#   OTC_E2E_KEEP_TMP=1    keep the temp dir (logs, certs) for inspection
#   CLOUD           otc (default: both exec modes) or ovh (otc-sim --cloud ovh, the hook with
#                   --cloud ovh and a service account; the default exec mode; the OVH API
#                   calls and refreshes of the run are printed)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
repo_root=$(cd "$here/../.." && pwd)

cloud=${OTC_E2E_CLOUD:-${CLOUD:-otc}}
e2e_init "e2e-lego-pebble$([ "$cloud" = otc ] || printf -- '-%s' "$cloud")"
# OVH runs the default exec mode only (RAW differs in nothing that reaches the API).
case $cloud in
    ovh) modes=(default) ;;
    *) modes=(default RAW) ;;
esac
tmp=$E2E_TMP
e2e_cloud_defaults "$cloud" || exit 1

hook=$(abs_from "$PWD" "${OTC_ACME_HOOK:-$repo_root/target/debug/otc-acme-hook}")
sim=$(abs_from "$PWD" "${OTC_SIM:-$repo_root/target/debug/otc-sim}")
seed_template=$(abs_from "$PWD" "${OTC_E2E_SEED:-$e2e_seed}")
lego_timeout=${OTC_E2E_LEGO_TIMEOUT:-300}

expected_names=(example.test '*.example.test' www.nested.example.test)
foreign_value=foreign-keep
foreign_name=_acme-challenge.example.test.
foreign_zone=example.test.
foreign_ttl=600

failures=()
sim_http=""
sim_pid=""
timings=()

diagnostics() {
    local mode
    for mode in "${modes[@]}"; do
        e2e_dump "$tmp/lego-$mode.out" "lego ($mode) stdout"
        e2e_dump "$tmp/lego-$mode.err" "lego ($mode) stderr"
    done
    e2e_dump "$tmp/pebble.out" "pebble stdout"
    e2e_dump "$tmp/pebble.err" "pebble stderr"
    e2e_dump "$tmp/sim.err" "otc-sim stderr"
    if [ -n "$sim_http" ] && [ -n "$sim_pid" ] && e2e_alive "$sim_pid"; then
        curl -sS --max-time 5 "http://$sim_http/_sim/state" >"$tmp/sim-state-final.json" 2>&1 || true
    fi
    e2e_dump "$tmp/sim-state-final.json" "otc-sim GET /_sim/state"
}

abort() {
    e2e_log "FAIL: $*"
    diagnostics
    e2e_result 0 1 || exit 1
}

check() {
    e2e_log "FAIL: $*"
    failures+=("$*")
}

# --- prerequisites -----------------------------------------------------------
for bin in "$hook" "$sim"; do
    [ -x "$bin" ] || abort "$bin is not an executable (run cargo build --bins, or set OTC_ACME_HOOK/OTC_SIM)"
done
for cmd in lego pebble openssl curl python3; do
    command -v "$cmd" >/dev/null 2>&1 || abort "$cmd not found (run scripts/install-test-deps.sh)"
done
[ -r "$seed_template" ] || abort "seed $seed_template not readable"
e2e_log "lego $(dpkg-query -W -f='${Version}' lego 2>/dev/null || lego --version)"

cd "$tmp"
e2e_pebble_certs || abort "openssl could not make the test certificates"
cp "$seed_template" "$tmp/seed.json"
e2e_start_sim "$sim" "$tmp/seed.json" "$cloud" || abort "otc-sim did not start"
e2e_hook_env_for "$cloud"
e2e_start_pebble "$sim_dns_port" || abort "pebble did not start"

# --- lego, once per exec mode ------------------------------------------------
mkdir -p "$tmp/home"
for mode in "${modes[@]}"; do
    path="$tmp/lego-$mode"
    mode_env=()
    [ "$mode" = RAW ] && mode_env=(EXEC_MODE=RAW)
    lego_args=(
        --server "$pebble_directory" --accept-tos --email "e2e-$mode@example.test" --path "$path"
        --dns exec --dns.disable-cp --dns.resolvers "127.0.0.1:$sim_dns_port"
    )
    for name in "${expected_names[@]}"; do lego_args+=(-d "$name"); done
    lego_args+=(run)
    e2e_log "running ($mode) EXEC_SEQUENCE_INTERVAL=1 ${mode_env[*]} lego ${lego_args[*]}"
    started=$EPOCHREALTIME
    E2E_TIMEOUT=$lego_timeout e2e_start "lego-$mode" \
        env -i \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME="$tmp/home" \
        LEGO_CA_CERTIFICATES="$tmp/ca.pem" \
        LEGO_DISABLE_CNAME_SUPPORT=true \
        EXEC_PATH="$hook" \
        EXEC_SEQUENCE_INTERVAL=1 \
        EXEC_PROPAGATION_TIMEOUT=120 \
        "${mode_env[@]}" \
        "${e2e_hook_env[@]}" \
        lego "${lego_args[@]}"
    lego_rc=0
    wait "$E2E_LAST_PID" || lego_rc=$?
    took=$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
    timings+=("$mode: ${took}s")
    e2e_log "lego ($mode) exited $lego_rc after ${took}s for ${#expected_names[@]} names"

    cert="$path/certificates/example.test.crt"
    chain="$path/certificates/example.test.issuer.crt"
    if [ "$lego_rc" -eq 124 ] || [ "$lego_rc" -eq 137 ]; then
        check "lego ($mode) did not finish within ${lego_timeout}s (exit $lego_rc)"
    elif [ "$lego_rc" -ne 0 ]; then
        check "lego ($mode) exited $lego_rc"
    elif [ ! -s "$cert" ] || [ ! -s "$chain" ]; then
        check "lego ($mode) exited 0 but wrote no $cert / $chain"
    elif ! e2e_cert_matches "$cert" "$chain" "${expected_names[@]}" >"$tmp/cert-problems.txt"; then
        while IFS= read -r problem; do check "lego ($mode): $problem"; done <"$tmp/cert-problems.txt"
    fi
    clean=e2e_sim_state_clean
    [ "$cloud" = ovh ] && clean=e2e_sim_state_clean_ovh
    if "$clean" "$foreign_value" "$foreign_name" "$foreign_zone" "$foreign_ttl"; then
        e2e_log "ok ($mode): no challenge value left in otc-sim; \"$foreign_value\" kept at $foreign_name ttl $foreign_ttl"
    else
        check "otc-sim state after lego ($mode) (looked for 10 s): $(paste -sd';' "$tmp/state-problems.txt")"
    fi
    if [ "$cloud" = ncp ]; then
        curl -fsS --max-time 5 "http://$sim_http/_sim/log" >"$tmp/sim-log-$mode.json" || check "could not read otc-sim's log"
        figures=$(python3 -c '
import json, sys
reqs = json.load(open(sys.argv[1])).get("requests", [])
count = lambda f: sum(1 for r in reqs if f(r.get("method"), r.get("path", "")))
print(count(lambda m, p: p.startswith("/dns/v1/")),
      count(lambda m, p: m == "PUT" and "/record/apply/" in p),
      count(lambda m, p: "/record/rollback/" in p),
      count(lambda m, p: m in ("POST", "DELETE") and p.startswith("/dns/v1/ncpdns/record/")))
' "$tmp/sim-log-$mode.json")
        read -r calls applies rollbacks writes <<<"$figures"
        # lego runs each hook alone: 3 presents and 3 cleanups, each one batch and one apply.
        if [ "$rollbacks" != 0 ] || [ "$applies" != 6 ] || [ "$writes" != 6 ]; then
            check "lego ($mode) on NCP: $writes writes, $applies applies, $rollbacks rollbacks; want 6, 6, 0"
        else
            e2e_log "ok ($mode): $calls Global DNS calls, $writes writes, $applies applies (one per hook), no rollback"
        fi
        curl -fsS --max-time 5 -X POST "http://$sim_http/_sim/reset-log" >/dev/null
    elif [ "$cloud" = ovh ] && curl -fsS --max-time 5 "http://$sim_http/_sim/log" >"$tmp/sim-log-$mode.json"; then
        e2e_log "($mode) $(python3 -c '
import json, sys
reqs = [r for r in json.load(open(sys.argv[1])).get("requests", [])
        if r["path"].startswith(("/1.0/", "/auth/"))]
tokens = sum(1 for r in reqs if r["path"].endswith("/oauth2/token"))
refresh = sum(1 for r in reqs if r["method"] == "POST" and r["path"].endswith("/refresh"))
print(f"OVH API calls: {len(reqs)} from {tokens} hook processes that called it; refreshes: {refresh}")
' "$tmp/sim-log-$mode.json")"
    fi
done
e2e_log "lego wall time for ${#expected_names[@]} names: ${timings[*]}"

if [ "${#failures[@]}" -ne 0 ]; then
    diagnostics
    e2e_log "${#failures[@]} assertion(s) failed:"
    printf '  - %s\n' "${failures[@]}" >&2
    e2e_result 0 1 || exit 1
fi
e2e_result 1 0
