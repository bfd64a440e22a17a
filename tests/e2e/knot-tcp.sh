#!/usr/bin/env bash
# End-to-end: the hook's propagation check against a real authoritative server (Debian's
# Knot DNS) whose answer does not fit in UDP, so the check must retry over TCP.
#
# knotd runs in the foreground on 127.0.0.1:<free port> from a config in a temp dir,
# serving big.test. with 50 TXT values of 100 characters plus "our-value-XYZ" at
# _acme-challenge.big.test. (an answer of ~5.5 KB: truncated over UDP at any EDNS size).
# The script proves the setup (dig over UDP gets TC, dig over TCP gets every value), then
# runs the check command and asserts it exits 0.
#
# Environment:
#   OTC_ACME_HOOK      hook binary (default target/debug/otc-acme-hook, from the repo root)
#   OTC_SIM            simulator binary (default target/debug/otc-sim): the DNS API
#   OTC_E2E_CHECK_TIMEOUT  seconds the check may take (default 120)
#   OTC_E2E_KEEP_TMP=1     keep the temp dir
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
repo_root=$(cd "$here/../.." && pwd)

e2e_init e2e-knot-tcp
tmp=$E2E_TMP

hook=${OTC_ACME_HOOK:-$repo_root/target/debug/otc-acme-hook}
case $hook in /*) ;; *) hook="$PWD/$hook" ;; esac
check_timeout=${OTC_E2E_CHECK_TIMEOUT:-120}

zone=big.test.
name=_acme-challenge.big.test.
our_value=our-value-XYZ
filler_count=50
failures=()

diagnostics() {
    e2e_dump "$tmp/knotd.err" "knotd stderr"
    e2e_dump "$tmp/knotd.out" "knotd stdout"
    e2e_dump "$tmp/check.out" "check stdout"
    e2e_dump "$tmp/check.err" "check stderr"
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

for cmd in knotd knotc kzonecheck dig python3; do
    command -v "$cmd" >/dev/null 2>&1 || abort "$cmd not found (run scripts/install-test-deps.sh)"
done

cd "$tmp"
mkdir -p run storage

# --- zone and config -----------------------------------------------------------
{
    # shellcheck disable=SC2016 # $ORIGIN and $TTL are zone-file directives
    printf '$ORIGIN %s\n$TTL 300\n' "$zone"
    printf '@ SOA ns1 hostmaster 1 3600 600 86400 300\n@ NS ns1\nns1 A 127.0.0.1\n'
    for i in $(seq 1 "$filler_count"); do
        # 100 characters: "filler-NN-" and x padding.
        value=$(printf 'filler-%02d-%s' "$i" "$(printf '%90s' '' | tr ' ' x)")
        printf '_acme-challenge TXT "%s"\n' "$value"
    done
    printf '_acme-challenge TXT "%s"\n' "$our_value"
} >"storage/big.test.zone"
kzonecheck -o "$zone" storage/big.test.zone >"$tmp/kzonecheck.log" 2>&1 \
    || { e2e_dump "$tmp/kzonecheck.log"; abort "kzonecheck rejects the generated zone"; }

port=$(e2e_free_port)
cat >knot.conf <<EOF
server:
    rundir: "$tmp/run"
    listen: 127.0.0.1@$port
    udp-max-payload: 1232

database:
    storage: "$tmp/storage"

log:
  - target: stderr
    any: info

template:
  - id: default
    storage: "$tmp/storage"
    file: "%s.zone"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none

zone:
  - domain: $zone
EOF

# knotd stays in the foreground without -d; it runs as the invoking user (no `user:`
# in the config), and everything it writes is under $tmp.
e2e_log "starting knotd on 127.0.0.1:$port"
e2e_start knotd knotd -c "$tmp/knot.conf" -s "$tmp/run/knot.sock"
knotd_pid=$E2E_LAST_PID

dig_base=(dig @127.0.0.1 -p "$port" +time=2 +tries=1)
up=""
for _ in $(seq 1 150); do
    e2e_alive "$knotd_pid" || abort "knotd exited during start-up"
    if "${dig_base[@]}" +tcp +norec "$zone" SOA >"$tmp/dig-soa.txt" 2>&1 \
        && grep -q 'status: NOERROR' "$tmp/dig-soa.txt" \
        && grep -q 'flags:.* aa' "$tmp/dig-soa.txt"; then
        up=1
        break
    fi
    sleep 0.2
done
[ -n "$up" ] || { e2e_dump "$tmp/dig-soa.txt" "dig SOA"; abort "knotd does not serve $zone after 30 s"; }
e2e_log "knotd serves $zone ($(knotc -s "$tmp/run/knot.sock" zone-status "$zone" 2>&1 || true))"

# --- the setup really forces TCP -------------------------------------------------
"${dig_base[@]}" +notcp +ignore +norec "$name" TXT >"$tmp/dig-udp.txt" 2>&1 || true
if grep -Eq '^;; flags:[^;]* tc[ ;]' "$tmp/dig-udp.txt"; then
    e2e_log "ok: UDP answer is truncated (tc): $(grep -m1 'MSG SIZE' "$tmp/dig-udp.txt" || true)"
else
    e2e_dump "$tmp/dig-udp.txt" "dig +notcp"
    check "UDP answer for $name is not truncated: the setup would not force TCP"
fi
# Without EDNS, too (a 512-byte client).
"${dig_base[@]}" +notcp +ignore +noedns +norec "$name" TXT >"$tmp/dig-udp512.txt" 2>&1 || true
grep -Eq '^;; flags:[^;]* tc[ ;]' "$tmp/dig-udp512.txt" \
    || check "UDP answer without EDNS for $name is not truncated"

"${dig_base[@]}" +tcp +norec +short "$name" TXT >"$tmp/dig-tcp.txt" 2>&1 || true
tcp_count=$(grep -c '^"' "$tmp/dig-tcp.txt" || true)
if [ "$tcp_count" -eq $((filler_count + 1)) ] && grep -qx "\"$our_value\"" "$tmp/dig-tcp.txt"; then
    e2e_log "ok: TCP answer has all $tcp_count values, \"$our_value\" among them"
else
    e2e_dump "$tmp/dig-tcp.txt" "dig +tcp"
    check "TCP answer has $tcp_count values (want $((filler_count + 1)) with \"$our_value\")"
fi

# --- the check under test -----------------------------------------------------
# The real hook, with otc-sim as the DNS API (a public zone big.test.) and knotd as the
# only nameserver to check: auth adds our value through the API, then must read it from
# knotd, whose answer only fits over TCP.
sim=${OTC_SIM:-$repo_root/target/debug/otc-sim}
case $sim in /*) ;; *) sim="$PWD/$sim" ;; esac
[ -x "$sim" ] || abort "$sim is not an executable (run cargo build --bins, or set OTC_SIM)"
[ -x "$hook" ] || abort "$hook is not an executable (run cargo build --bins, or set OTC_ACME_HOOK)"
printf '%s\n' '{"metadata": {"enabled": true}, "zones": [{"name": "big.test.", "zone_type": "public"}]}' >"$tmp/seed.json"
e2e_start_sim "$sim" "$tmp/seed.json" || abort "otc-sim did not start"

run_hook() { # VALUE EXPECTED_EXIT: auth with VALUE, checked against knotd only
    local value=$1 want=$2 rc=0
    env -i PATH="$PATH" \
        OTC_DNS_ENDPOINT="http://$sim_http" \
        OTC_METADATA_URL="http://$sim_http/openstack/latest/securitykey" \
        OTC_NAMESERVERS="127.0.0.1:$port" OTC_PROPAGATION_TIMEOUT=3 \
        CERTBOT_DOMAIN=big.test CERTBOT_VALIDATION="$value" CERTBOT_REMAINING_CHALLENGES=0 \
        timeout "$check_timeout" "$hook" auth -v >"$tmp/hook-$value.out" 2>"$tmp/hook-$value.err" || rc=$?
    if [ "$rc" -ne "$want" ]; then
        e2e_dump "$tmp/hook-$value.err" "hook stderr ($value)"
        check "auth with $value exited $rc, want $want"
    fi
}
run_hook "$our_value" 0
grep -q 'over TCP (UDP answer truncated)' "$tmp/hook-$our_value.err" \
    || check "the hook did not report a TCP retry: $(cat "$tmp/hook-$our_value.err")"
grep -q 'all nameservers serve' "$tmp/hook-$our_value.err" \
    || check "the hook did not report the value served"
# A value knotd does not serve must time out: the check can fail.
run_hook not-in-knot-zone 1
grep -q 'does not serve "not-in-knot-zone"' "$tmp/hook-not-in-knot-zone.err" \
    || check "the timeout does not name the missing value: $(cat "$tmp/hook-not-in-knot-zone.err")"
e2e_log "ok: the hook read the value from knotd over TCP, and timed out on a missing one"

if [ "${#failures[@]}" -ne 0 ]; then
    diagnostics
    e2e_log "${#failures[@]} assertion(s) failed:"
    printf '  - %s\n' "${failures[@]}" >&2
    e2e_result 0 1 || exit 1
fi
e2e_result 1 0
