#!/usr/bin/env bash
# End-to-end: real certbot (from the test venv) gets a certificate from a real ACME server
# (Debian's pebble) for example.test, *.example.test and www.nested.example.test, with
# otc-acme-hook as its --manual DNS-01 hook, against otc-sim (OTC DNS API + metadata +
# authoritative DNS, all on loopback). pebble validates by asking otc-sim's DNS.
#
# Asserts: certbot exits 0; the certificate's SANs are exactly those three names and it
# chains to pebble's root; no hook "ran with error output" (certbot's output and log) and
# the hooks' audit lines are in certbot's log; each TXT name was written once (one certbot
# run, batched); afterwards otc-sim holds no _acme-challenge TXT value but the foreign
# "foreign-keep" (ttl 600), which is still there. Then a timer's renewal: `certbot renew`
# under env -i, the hook's settings only in a mode-600 config file (--config in the hook
# command), renews the certificate and leaves the same state.
#
# OTC_E2E_CLOUD=ncp runs the same against NAVER Cloud's simulation (Global DNS, the server
# role's keys from metadata set to "v2 required"); instead of the writes per name it asserts,
# per domain, one batch and one apply in the auth run and the same in the cleanup run
# (POST, apply, DELETE, apply), never a rollback, and prints the figures.
#
# Needs: scripts/install-test-deps.sh, and `cargo build --bins`.
# Environment:
#   OTC_E2E_CLOUD   otc (default), ovh or ncp
#   OTC_ACME_HOOK   hook binary (default target/debug/otc-acme-hook, from the repo root)
#   OTC_SIM         simulator binary (default target/debug/otc-sim)
#   OTC_TEST_VENV   certbot venv (default $HOME/.cache/otc-acme-hook/venv)
#   OTC_E2E_SEED    seed JSON for otc-sim, format of sim/src/seed.rs
#                   (default tests/e2e/certbot-pebble.seed.json; ncp: ncp-pebble.seed.json)
#   OTC_E2E_CERTBOT_TIMEOUT  seconds certbot may take (default 300)
#   OTC_E2E_KEEP_TMP=1       keep the temp dir (logs, certs) for inspection
#   CLOUD           the same as OTC_E2E_CLOUD (otc, ovh or ncp); ovh (otc-sim --cloud ovh, the
#                   hook with --cloud ovh and a service account whose secret is in a mode-600
#                   OVH_CLIENT_SECRET_FILE; the write count becomes one record POST per value
#                   in auth, one DELETE per value in cleanup and one refresh per zone per run)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
repo_root=$(cd "$here/../.." && pwd)

cloud=${OTC_E2E_CLOUD:-${CLOUD:-otc}}
e2e_init "e2e-certbot-pebble$([ "$cloud" = otc ] || printf -- '-%s' "$cloud")"
tmp=$E2E_TMP
e2e_cloud_defaults "$cloud" || exit 1

hook=$(abs_from "$PWD" "${OTC_ACME_HOOK:-$repo_root/target/debug/otc-acme-hook}")
sim=$(abs_from "$PWD" "${OTC_SIM:-$repo_root/target/debug/otc-sim}")
venv=${OTC_TEST_VENV:-$HOME/.cache/otc-acme-hook/venv}
seed_template=$(abs_from "$PWD" "${OTC_E2E_SEED:-$e2e_seed}")
certbot_timeout=${OTC_E2E_CERTBOT_TIMEOUT:-300}

expected_names=(example.test '*.example.test' www.nested.example.test)
foreign_value=foreign-keep
foreign_name=_acme-challenge.example.test.
foreign_zone=example.test.
foreign_ttl=600

failures=()
sim_http=""
pebble_pid=""
sim_pid=""

diagnostics() {
    e2e_dump "$tmp/certbot.out" "certbot stdout"
    e2e_dump "$tmp/certbot.err" "certbot stderr"
    e2e_dump "$tmp/certbot/logs/letsencrypt.log" "certbot letsencrypt.log"
    e2e_dump "$tmp/pebble.out" "pebble stdout"
    e2e_dump "$tmp/pebble.err" "pebble stderr"
    e2e_dump "$tmp/sim.out" "otc-sim stdout"
    e2e_dump "$tmp/sim.err" "otc-sim stderr"
    if [ -n "$sim_http" ] && [ -n "$sim_pid" ] && e2e_alive "$sim_pid"; then
        curl -sS --max-time 5 "http://$sim_http/_sim/log" >"$tmp/sim-log.json" 2>&1 || true
        curl -sS --max-time 5 "http://$sim_http/_sim/state" >"$tmp/sim-state-final.json" 2>&1 || true
    fi
    e2e_dump "$tmp/sim-log.json" "otc-sim GET /_sim/log"
    e2e_dump "$tmp/sim-state-final.json" "otc-sim GET /_sim/state"
}

# Stop now: report, print the closing line, exit 1.
abort() {
    e2e_log "FAIL: $*"
    diagnostics
    e2e_result 0 1 || exit 1
}

check() { # check MESSAGE: record a failed assertion, go on
    e2e_log "FAIL: $*"
    failures+=("$*")
}

# --- prerequisites -----------------------------------------------------------
for bin in "$hook" "$sim"; do
    [ -x "$bin" ] || abort "$bin is not an executable (run cargo build --bins, or set OTC_ACME_HOOK/OTC_SIM)"
done
[ -x "$venv/bin/certbot" ] || abort "no certbot in $venv (run scripts/install-test-deps.sh)"
for cmd in pebble openssl curl python3; do
    command -v "$cmd" >/dev/null 2>&1 || abort "$cmd not found (run scripts/install-test-deps.sh)"
done
[ -r "$seed_template" ] || abort "seed $seed_template not readable"

cd "$tmp"

# --- a throwaway CA and pebble's TLS certificate -------------------------------
e2e_pebble_certs || abort "openssl could not make the test certificates"

# --- otc-sim -------------------------------------------------------------------
cp "$seed_template" "$tmp/seed.json"
e2e_start_sim "$sim" "$tmp/seed.json" "$cloud" || abort "otc-sim did not start"
e2e_hook_env_for "$cloud"

curl -fsS --max-time 5 "http://$sim_http/_sim/state" >"$tmp/sim-state-initial.json" \
    || abort "GET http://$sim_http/_sim/state failed"
# Diagnostic only (pebble's validation is the real test): does otc-sim's DNS serve the seed?
if command -v dig >/dev/null 2>&1; then
    seen=$(dig @127.0.0.1 -p "$sim_dns_port" +time=2 +tries=1 +norec +short \
        "$foreign_name" TXT 2>&1 | paste -sd' ' || true)
    case $seen in
        *"\"$foreign_value\""*) e2e_log "otc-sim DNS serves the seeded $foreign_name TXT: $seen" ;;
        *) e2e_log "warning: otc-sim DNS answers $foreign_name TXT with [$seen], not \"$foreign_value\"" ;;
    esac
fi

# --- pebble --------------------------------------------------------------------
e2e_start_pebble "$sim_dns_port" || abort "pebble did not start"
directory=$pebble_directory

# --- certbot -------------------------------------------------------------------
mkdir -p "$tmp/home" "$tmp/certbot/config" "$tmp/certbot/work" "$tmp/certbot/logs"
hook_q=$(printf '%q' "$hook")
certbot_args=(
    certonly --non-interactive --agree-tos --register-unsafely-without-email
    --server "$directory"
    --config-dir "$tmp/certbot/config" --work-dir "$tmp/certbot/work" --logs-dir "$tmp/certbot/logs"
    --cert-name e2e
    --manual --preferred-challenges dns
    --manual-auth-hook "$hook_q auth"
    --manual-cleanup-hook "$hook_q cleanup"
)
for name in "${expected_names[@]}"; do certbot_args+=(-d "$name"); done

e2e_log "running certbot ${certbot_args[*]}"
started=$EPOCHREALTIME
E2E_TIMEOUT=$certbot_timeout e2e_start certbot \
    env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME="$tmp/home" \
    REQUESTS_CA_BUNDLE="$tmp/ca.pem" \
    "${e2e_hook_env[@]}" \
    "$venv/bin/certbot" "${certbot_args[@]}"
certbot_pid=$E2E_LAST_PID
certbot_rc=0
wait "$certbot_pid" || certbot_rc=$?
took=$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
e2e_log "certbot exited $certbot_rc after ${took}s for ${#expected_names[@]} names"

# --- assertions ----------------------------------------------------------------
cert="$tmp/certbot/config/live/e2e/cert.pem"
chain="$tmp/certbot/config/live/e2e/chain.pem"
if [ "$certbot_rc" -eq 124 ] || [ "$certbot_rc" -eq 137 ]; then
    check "certbot did not finish within ${certbot_timeout}s (exit $certbot_rc)"
elif [ "$certbot_rc" -ne 0 ]; then
    check "certbot exited $certbot_rc"
elif [ ! -s "$cert" ]; then
    check "certbot exited 0 but wrote no $cert"
elif ! e2e_cert_matches "$cert" "$chain" "${expected_names[@]}" >"$tmp/cert-problems.txt"; then
    while IFS= read -r problem; do check "$problem"; done <"$tmp/cert-problems.txt"
fi

# Quiet success: certbot logs whatever a hook writes on stderr as a warning, "Hook
# '--manual-auth-hook' for NAME ran with error output"; a successful hook writes there
# nothing. Its audit lines are on stdout, which certbot logs as "ran with output".
if [ "$certbot_rc" -eq 0 ]; then
    log="$tmp/certbot/logs/letsencrypt.log"
    for f in "$tmp/certbot.out" "$tmp/certbot.err" "$log"; do
        if grep -q "ran with error output" "$f"; then
            check "a hook wrote on stderr in a successful run: $(grep -m 3 -A 2 "ran with error output" "$f" | paste -sd' ')"
        fi
    done
    if ! grep -q "added TXT value" "$log" || ! grep -q "removed TXT value" "$log"; then
        check "the hooks' audit lines (added/removed TXT value) are not in $log"
    else
        e2e_log "ok: no hook wrote on stderr; their audit lines are in certbot's log"
    fi
fi

# otc-sim's state after certbot: every challenge value gone (a delete may still be
# pending for pending_delay_ms, so look again for a few seconds), the foreign value kept.
state_clean() { # state_clean WHEN: the state check, for certbot's run WHEN
    local clean=e2e_sim_state_clean
    [ "$cloud" = ovh ] && clean=e2e_sim_state_clean_ovh
    if "$clean" "$foreign_value" "$foreign_name" "$foreign_zone" "$foreign_ttl"; then
        e2e_log "ok: no challenge value left in otc-sim after $1; \"$foreign_value\" kept at $foreign_name ttl $foreign_ttl"
    else
        check "otc-sim state after $1 (looked for 10 s): $(paste -sd';' "$tmp/state-problems.txt")"
    fi
}
# One certbot run, one write per TXT name: the early hooks only record their value, the
# last writes each name once, the first cleanup removes each once. Two TXT names here
# (apex + wildcard share one; the nested zone's), so 2 writes in auth and 2 in cleanup.
# NCP: per domain one batch and one apply in the auth run, the same in the cleanup run.
ncp_writes() { # ncp_writes WHEN
    if e2e_ncp_writes_ok; then
        e2e_log "ok: per domain POST, apply, DELETE, apply after $1, no rollback ($(head -n 1 "$tmp/writes.txt"))"
    else
        check "NCP writes after $1: $(paste -sd';' "$tmp/writes.txt")"
    fi
}
if [ "$cloud" = ncp ]; then
    ncp_writes "certbot certonly"
elif curl -fsS --max-time 5 "http://$sim_http/_sim/log" >"$tmp/sim-log-issue.json"; then
    case $cloud in
    otc)
    set_writes=$(python3 -c '
import json, sys
log = json.load(open(sys.argv[1]))
print(sum(1 for r in log.get("requests", [])
          if r.get("method") in ("POST", "PUT", "DELETE") and "/recordsets" in r.get("path", "")))
' "$tmp/sim-log-issue.json")
    if [ "$set_writes" = 4 ]; then
        e2e_log "ok: 4 TXT set writes for 2 names and 3 challenges (one per name in auth, one in cleanup)"
    else
        check "expected 4 TXT set writes (one per name in auth and in cleanup), the simulator logged $set_writes"
    fi
    ;;
    ovh)
    # One record per value: 3 POSTs in auth, 3 DELETEs in cleanup; one refresh per zone
    # in auth and one in cleanup (2 zones); and the API calls per hook, for the record.
    writes=$(python3 -c '
import json, sys
reqs = json.load(open(sys.argv[1])).get("requests", [])
api = [r for r in reqs if r.get("path", "").startswith("/1.0/") or r.get("path", "").startswith("/auth/")]
posts = sum(1 for r in api if r["method"] == "POST" and r["path"].endswith("/record"))
deletes = sum(1 for r in api if r["method"] == "DELETE" and "/record/" in r["path"])
refresh = {}
for r in api:
    if r["method"] == "POST" and r["path"].endswith("/refresh"):
        z = r["path"].split("/")[4]
        refresh[z] = refresh.get(z, 0) + 1
print(posts, deletes, ",".join(f"{z}={n}" for z, n in sorted(refresh.items())), len(api))
' "$tmp/sim-log-issue.json")
    read -r posts deletes refreshes api_calls <<<"$writes"
    e2e_log "OVH API calls of the run (6 hook processes): $api_calls; refreshes per zone: $refreshes"
    if [ "$posts $deletes $refreshes" = "3 3 example.test=2,nested.example.test=2" ]; then
        e2e_log "ok: 3 record POSTs, 3 DELETEs, one refresh per zone in auth and one in cleanup"
    else
        check "expected 3 POSTs, 3 DELETEs and 2 refreshes per zone, the simulator logged: $posts POSTs, $deletes DELETEs, refreshes $refreshes"
    fi
    ;;
    esac
else
    check "could not read otc-sim's log"
fi
state_clean "certbot certonly"

# --- a timer's renewal: empty environment, the hook's settings only in its config file ---
# As certbot.timer runs it: no OTC_* variable anywhere. The hook command names the
# file (root's default /etc/otc-acme-hook/config is not ours to write in a test);
# certbot stores that command for the next renewal.
if [ "$certbot_rc" -eq 0 ] && [ -s "$cert" ]; then
    conf="$tmp/otc-acme-hook.conf"
    {
        printf '%s\n' "# written by the e2e test: the simulator as the hook's endpoints"
        for setting in "${e2e_hook_env[@]}"; do
            printf '%s="%s"\n' "${setting%%=*}" "${setting#*=}"
        done
    } >"$conf"
    [ "$cloud" = ncp ] && curl -fsS --max-time 5 -X POST "http://$sim_http/_sim/reset-log" >/dev/null
    chmod 600 "$conf"
    conf_q=$(printf '%q' "$conf")
    serial_before=$(openssl x509 -in "$cert" -noout -serial)
    e2e_log "running certbot renew with env -i and the hook's settings in $conf"
    E2E_TIMEOUT=$certbot_timeout e2e_start certbot-renew \
        env -i \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME="$tmp/home" \
        REQUESTS_CA_BUNDLE="$tmp/ca.pem" \
        "$venv/bin/certbot" renew --force-renewal --no-random-sleep-on-renew --cert-name e2e \
        --config-dir "$tmp/certbot/config" --work-dir "$tmp/certbot/work" --logs-dir "$tmp/certbot/logs" \
        --manual-auth-hook "$hook_q --config $conf_q auth" \
        --manual-cleanup-hook "$hook_q --config $conf_q cleanup"
    renew_rc=0
    wait "$E2E_LAST_PID" || renew_rc=$?
    e2e_log "certbot renew exited $renew_rc"
    if [ "$renew_rc" -ne 0 ]; then
        check "certbot renew (env -i, settings in the config file) exited $renew_rc"
    elif [ "$(openssl x509 -in "$cert" -noout -serial)" = "$serial_before" ]; then
        check "certbot renew exited 0 but $cert is still the old certificate"
    else
        e2e_log "ok: renewed with an empty environment; the hook read $conf"
    fi
    if grep -q -- "--config $conf_q auth" "$tmp/certbot/config/renewal/e2e.conf"; then
        e2e_log "ok: the renewal conf keeps the hook command with --config"
    else
        check "renewal conf lacks the --config hook command: $(grep manual_ "$tmp/certbot/config/renewal/e2e.conf" | paste -sd';')"
    fi
    state_clean "certbot renew"
    [ "$cloud" = ncp ] && ncp_writes "certbot renew"
fi

if [ "${#failures[@]}" -ne 0 ]; then
    diagnostics
    e2e_log "${#failures[@]} assertion(s) failed:"
    printf '  - %s\n' "${failures[@]}" >&2
    e2e_result 0 1 || exit 1
fi
e2e_result 1 0
