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
#   OTC_DNS_CHECK_CMD  the check, run by bash after substituting {port} (knotd's port) and
#                      {hook} (the hook path, shell-quoted). Default:
#                      {hook} dns-check --nameserver 127.0.0.1:{port}
#                             --name _acme-challenge.big.test. --value our-value-XYZ
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
check_template=${OTC_DNS_CHECK_CMD:-'{hook} dns-check --nameserver 127.0.0.1:{port} --name _acme-challenge.big.test. --value our-value-XYZ'}
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
hook_q=$(printf '%q' "$hook")
cmd=${check_template//\{port\}/$port}
cmd=${cmd//\{hook\}/$hook_q}
case $check_template in
    *'{hook}'*) [ -x "$hook" ] || check "$hook is not an executable (run cargo build --bins, or set OTC_ACME_HOOK)" ;;
esac
if [ "${#failures[@]}" -eq 0 ]; then
    e2e_log "running: $cmd"
    E2E_TIMEOUT=$check_timeout e2e_start check bash -c "$cmd"
    check_rc=0
    wait "$E2E_LAST_PID" || check_rc=$?
    if [ "$check_rc" -eq 0 ]; then
        e2e_log "ok: check exited 0"
    elif [ "$check_rc" -eq 124 ] || [ "$check_rc" -eq 137 ]; then
        check "check did not finish within ${check_timeout}s: $cmd"
    else
        check "check exited $check_rc: $cmd"
    fi
fi

if [ "${#failures[@]}" -ne 0 ]; then
    diagnostics
    e2e_log "${#failures[@]} assertion(s) failed:"
    printf '  - %s\n' "${failures[@]}" >&2
    e2e_result 0 1 || exit 1
fi
e2e_result 1 0
