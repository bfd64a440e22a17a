# shellcheck shell=bash
# Helpers shared by the end-to-end scripts in tests/e2e/. Sourced, never run.
#
# Every long-running process is started through e2e_start, under `timeout`, which gives it
# a process group of its own: cleanup kills each group (the process and anything it
# spawned), and even a SIGKILLed test leaves nothing running past OTC_E2E_MAX_SECONDS.

E2E_NAME=${E2E_NAME:-e2e}
E2E_MAX_SECONDS=${OTC_E2E_MAX_SECONDS:-900}
E2E_PIDS=()
E2E_TMP=""

export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

e2e_log() { printf '%s: %s\n' "$E2E_NAME" "$*" >&2; }

# Repository root (two levels above this file).
e2e_repo_root() { (cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd); }

# e2e_init NAME: temp dir in $E2E_TMP, traps that clean up on any exit.
e2e_init() {
    E2E_NAME=$1
    E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/otc-e2e-$1.XXXXXX")
    trap e2e_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
}

e2e_cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM HUP
    for pid in "${E2E_PIDS[@]}"; do
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${E2E_PIDS[@]}"; do
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
    if [ -n "$E2E_TMP" ] && [ -d "$E2E_TMP" ]; then
        if [ -n "${OTC_E2E_KEEP_TMP:-}" ]; then
            e2e_log "kept temp dir $E2E_TMP"
        else
            rm -rf "$E2E_TMP"
        fi
    fi
    exit "$rc"
}

# e2e_start NAME CMD...: run CMD in the background, stdout to $E2E_TMP/NAME.out, stderr
# to $E2E_TMP/NAME.err; sets E2E_LAST_PID (the timeout wrapper = its process group).
# The process is killed after E2E_TIMEOUT seconds (default OTC_E2E_MAX_SECONDS, 900).
e2e_start() {
    local name=$1
    shift
    timeout --kill-after=5 "${E2E_TIMEOUT:-$E2E_MAX_SECONDS}" "$@" \
        >"$E2E_TMP/$name.out" 2>"$E2E_TMP/$name.err" </dev/null &
    E2E_LAST_PID=$!
    E2E_PIDS+=("$E2E_LAST_PID")
}

# e2e_stop PID: stop one started process group now.
e2e_stop() {
    local pid=$1
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

e2e_alive() { kill -0 "$1" 2>/dev/null; }

# A free TCP port on 127.0.0.1 that is free for UDP too (asked of the kernel, then released).
e2e_free_port() {
    python3 - <<'EOF'
import socket
while True:
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(("127.0.0.1", 0))
    port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port))
    except OSError:
        t.close()
        continue
    u.close()
    t.close()
    print(port)
    break
EOF
}

# e2e_dump FILE [TITLE]: print a file to stderr with a header (for failure reports).
e2e_dump() {
    local file=$1 title=${2:-$1}
    printf '\n===== %s =====\n' "$title" >&2
    if [ -s "$file" ]; then
        cat "$file" >&2
    else
        printf '(empty or missing: %s)\n' "$file" >&2
    fi
}

# e2e_result PASSED FAILED: the closing line, and the exit code.
e2e_result() {
    printf '%s: %d passed, %d failed\n' "$E2E_NAME" "$1" "$2"
    [ "$2" -eq 0 ]
}

# e2e_start_sim SIM SEED [CLOUD]: start `SIM serve --seed SEED --cloud CLOUD` (default otc),
# wait for its ready line, and set sim_pid, sim_http (host:port), sim_dns (host:port) and
# sim_dns_port.
e2e_start_sim() {
    local bin=$1 seed=$2 cloud=${3:-otc} ready="" addrs
    e2e_log "starting $bin serve --seed $seed --cloud $cloud"
    e2e_start sim "$bin" serve --seed "$seed" --cloud "$cloud"
    sim_pid=$E2E_LAST_PID
    for _ in $(seq 1 300); do
        if [ -s "$E2E_TMP/sim.out" ]; then
            ready=$(head -n 1 "$E2E_TMP/sim.out")
            case $ready in *'}'*) break ;; esac
        fi
        e2e_alive "$sim_pid" || { e2e_log "otc-sim exited before printing its ready line"; return 1; }
        sleep 0.1
    done
    [ -n "$ready" ] || { e2e_log "otc-sim printed no ready line within 30 s"; return 1; }
    addrs=$(printf '%s\n' "$ready" | python3 -c '
import json, sys
d = json.loads(sys.stdin.readline())
print(d["http"], d["dns"])
') || { e2e_log "cannot parse otc-sim ready line: $ready"; return 1; }
    read -r sim_http sim_dns <<<"$addrs"
    sim_dns_port=${sim_dns##*:}
    e2e_log "otc-sim ready: http=$sim_http dns=$sim_dns"
}

# e2e_pebble_certs: a throwaway CA ($E2E_TMP/ca.pem) and pebble's TLS certificate
# ($E2E_TMP/pebble-cert.pem, pebble-key.pem) for localhost and 127.0.0.1. pebble's package
# ships no certificates; clients trust pebble's HTTPS through ca.pem. The certificates
# pebble *issues* come from a root it makes anew at every start (see e2e_start_pebble).
e2e_pebble_certs() {
    e2e_log "making a test CA and pebble's TLS certificate in $E2E_TMP"
    (
        cd "$E2E_TMP"
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout ca.key -out ca.pem -days 2 -subj "/CN=otc-acme-hook e2e test CA" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign"
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout pebble-key.pem -out pebble.csr -subj "/CN=localhost"
        printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" \
            "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
            "extendedKeyUsage=serverAuth" >pebble-ext.cnf
        openssl x509 -req -in pebble.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
            -out pebble-cert.pem -days 2 -extfile pebble-ext.cnf
        openssl verify -CAfile ca.pem pebble-cert.pem
    ) >"$E2E_TMP/openssl.log" 2>&1 || { e2e_dump "$E2E_TMP/openssl.log"; return 1; }
}

# e2e_start_pebble DNS_PORT: start pebble (certificates from e2e_pebble_certs) validating
# through 127.0.0.1:DNS_PORT, wait for its directory, fetch the root it issues from into
# $E2E_TMP/pebble-root.pem; sets pebble_pid and pebble_directory (its ACME directory URL).
e2e_start_pebble() {
    local dns_port=$1 port mgmt_port http_port tls_port up=""
    port=$(e2e_free_port)
    mgmt_port=$(e2e_free_port)
    http_port=$(e2e_free_port)
    tls_port=$(e2e_free_port)
    cat >"$E2E_TMP/pebble-config.json" <<EOF
{
  "pebble": {
    "listenAddress": "127.0.0.1:$port",
    "managementListenAddress": "127.0.0.1:$mgmt_port",
    "certificate": "$E2E_TMP/pebble-cert.pem",
    "privateKey": "$E2E_TMP/pebble-key.pem",
    "httpPort": $http_port,
    "tlsPort": $tls_port,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": false
  }
}
EOF
    pebble_directory="https://localhost:$port/dir"
    e2e_log "starting pebble on 127.0.0.1:$port (management $mgmt_port), -dnsserver 127.0.0.1:$dns_port"
    e2e_start pebble env PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0 \
        pebble -config "$E2E_TMP/pebble-config.json" -dnsserver "127.0.0.1:$dns_port"
    pebble_pid=$E2E_LAST_PID
    for _ in $(seq 1 300); do
        if curl -fsS --max-time 2 --cacert "$E2E_TMP/ca.pem" "$pebble_directory" >"$E2E_TMP/pebble-dir.json" 2>/dev/null; then
            up=1
            break
        fi
        e2e_alive "$pebble_pid" || { e2e_log "pebble exited during start-up"; return 1; }
        sleep 0.1
    done
    [ -n "$up" ] || { e2e_log "pebble's directory $pebble_directory did not answer within 30 s"; return 1; }
    curl -fsS --max-time 5 --cacert "$E2E_TMP/ca.pem" "https://127.0.0.1:$mgmt_port/roots/0" \
        >"$E2E_TMP/pebble-root.pem" || { e2e_log "cannot fetch pebble's root from its management interface"; return 1; }
}

# e2e_cloud_defaults CLOUD: sets e2e_seed, the default seed of the simulated cloud (otc or ncp).
e2e_cloud_defaults() {
    case $1 in
        otc) e2e_seed="$(e2e_repo_root)/tests/e2e/certbot-pebble.seed.json" ;;
        ovh) e2e_seed="$(e2e_repo_root)/tests/e2e/certbot-pebble.ovh.seed.json" ;;
        ncp) e2e_seed="$(e2e_repo_root)/tests/e2e/ncp-pebble.seed.json" ;;
        *) e2e_log "unknown OTC_E2E_CLOUD $1 (otc, ovh or ncp)"; return 1 ;;
    esac
}

# e2e_hook_env_for CLOUD: sets e2e_hook_env, the hook's settings (NAME=value words) for the
# simulator started by e2e_start_sim.
e2e_hook_env_for() {
    case $1 in
        otc) e2e_hook_env=(
            OTC_DNS_ENDPOINT="http://$sim_http"
            OTC_METADATA_URL="http://$sim_http/openstack/latest/securitykey"
            OTC_NAMESERVER_PORT="$sim_dns_port") ;;
        # The service account's secret in a file only root can read (what docs/setup.md says).
        ovh)
            printf '%s\n' "e2e-client-secret-0123456789abcdef" >"$E2E_TMP/ovh_client_secret"
            chmod 600 "$E2E_TMP/ovh_client_secret"
            e2e_hook_env=(
            OTC_CLOUD=ovh
            OTC_DNS_ENDPOINT="http://$sim_http/1.0"
            OTC_TOKEN_ENDPOINT="http://$sim_http/auth/oauth2/token"
            OVH_CLIENT_ID=e2e0000000000001
            OVH_CLIENT_SECRET_FILE="$E2E_TMP/ovh_client_secret"
            OTC_NAMESERVER_PORT="$sim_dns_port") ;;
        # Global DNS names no nameservers: the hook asks the resolver (otc-sim's DNS) for NS.
        ncp) e2e_hook_env=(
            OTC_CLOUD=ncp
            OTC_DNS_ENDPOINT="http://$sim_http/dns/v1"
            OTC_METADATA_URL="http://$sim_http/latest/meta-data/iam/security-credentials"
            OTC_RESOLVER="127.0.0.1:$sim_dns_port"
            OTC_NAMESERVER_PORT="$sim_dns_port") ;;
    esac
}

# e2e_ncp_writes_ok: otc-sim's log (NCP) shows, for every domain written to, exactly
# POST, apply, DELETE, apply in that order (one batch and one apply per domain in the auth
# run, the same in the cleanup run) and no rollback. Prints the figures on its first line;
# returns 1 with the problems after it, all in $E2E_TMP/writes.txt.
e2e_ncp_writes_ok() {
    curl -fsS --max-time 5 "http://$sim_http/_sim/log" >"$E2E_TMP/sim-log-writes.json" || return 1
    python3 - "$E2E_TMP/sim-log-writes.json" >"$E2E_TMP/writes.txt" 2>&1 <<'EOF'
import json, sys
reqs = json.load(open(sys.argv[1])).get("requests", [])
seq, problems = {}, []
for r in reqs:
    m, p = r.get("method"), r.get("path", "")
    if "/record/rollback/" in p:
        problems.append(f"rollback called: {m} {p}")
    elif p.startswith("/dns/v1/ncpdns/record/apply/") and m == "PUT":
        seq.setdefault(p.rsplit("/", 1)[1], []).append("apply")
    elif p.startswith("/dns/v1/ncpdns/record/") and m in ("POST", "DELETE"):
        seq.setdefault(p.rsplit("/", 1)[1], []).append(m)
for d, s in sorted(seq.items()):
    if s != ["POST", "apply", "DELETE", "apply"]:
        problems.append(f"domain {d}: writes {s}, want POST, apply, DELETE, apply")
if not seq:
    problems.append("no write at all")
dns = sum(1 for r in reqs if r.get("path", "").startswith("/dns/v1/"))
md = sum(1 for r in reqs if r.get("path", "").startswith("/latest/"))
applies = sum(s.count("apply") for s in seq.values())
rollbacks = sum(1 for r in reqs if "/record/rollback/" in r.get("path", ""))
print(f"{dns} Global DNS calls, {md} metadata calls, {applies} applies for {len(seq)} domains, {rollbacks} rollbacks")
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
EOF
}

# e2e_poll_state CHECKER ARGS...: fetches otc-sim's state (sim_http, sim_pid) and runs the
# python CHECKER on it with ARGS until it passes, for up to 10 s (a delete may still be
# pending). Returns 1 with the problems in $E2E_TMP/state-problems.txt.
e2e_poll_state() {
    local checker=$1
    shift
    for _ in $(seq 1 50); do
        if ! e2e_alive "$sim_pid"; then
            echo "otc-sim is no longer running" >"$E2E_TMP/state-problems.txt"
            return 1
        fi
        if curl -fsS --max-time 5 "http://$sim_http/_sim/state" >"$E2E_TMP/sim-state-after.json" 2>"$E2E_TMP/state-problems.txt" \
            && python3 "$checker" "$E2E_TMP/sim-state-after.json" \
                "$@" >"$E2E_TMP/state-problems.txt" 2>&1; then
            return 0
        fi
        sleep 0.2
    done
    return 1
}

# e2e_sim_state_clean FOREIGN_VALUE FOREIGN_NAME FOREIGN_ZONE FOREIGN_TTL: otc-sim (sim_http,
# sim_pid from e2e_start_sim) holds no _acme-challenge TXT value but the foreign one, once,
# where it was. A delete may still be pending for pending_delay_ms, so it looks again for
# up to 10 s. Returns 1 with the problems in $E2E_TMP/state-problems.txt.
e2e_sim_state_clean() {
    cat >"$E2E_TMP/check-state.py" <<'EOF'
import json, sys

state_file, foreign_value, foreign_name, foreign_zone, foreign_ttl = sys.argv[1:6]
state = json.load(open(state_file))
problems, foreign = [], []
# NCP's shape: Global DNS domains with records (host relative, "@" the apex), pending
# edits, and what DNS serves; turned into OTC's zones and recordsets.
zones = state.get("zones", [])
for d in state.get("domains", []):
    zname = d["name"].rstrip(".") + "."
    if d.get("pending"):
        problems.append(f"{d['pending']} edit(s) of domain {zname} not applied")
    sets = {}
    for rec in d.get("records", []):
        name = zname if rec["host"] == "@" else f"{rec['host']}.{zname}"
        sets.setdefault((name, rec["type"]), {"name": name, "type": rec["type"], "ttl": rec["ttl"],
                                              "records": [], "status": None, "id": rec["id"]})
        sets[(name, rec["type"])]["records"].append(rec["content"])
    zones.append({"name": zname, "recordsets": list(sets.values())})
    for view in state.get("dns", []):
        for rr in view.get("rrsets", []) if view.get("zone") == zname else []:
            if rr.get("type") == "TXT" and rr.get("name", "").startswith("_acme-challenge."):
                for rec in rr.get("records", []):
                    if rec.strip('"') != foreign_value:
                        problems.append(f"DNS still serves {rec!r} at {rr['name']}")
for zone in zones:
    zname = zone.get("name")
    for rs in zone.get("recordsets", []):
        name = rs.get("name", "")
        if rs.get("type") != "TXT" or not name.lower().startswith("_acme-challenge."):
            continue
        records = rs.get("records") or []
        if not records:
            problems.append(f"empty TXT set {name} in zone {zname} (status {rs.get('status')})")
        for rec in records:
            value = rec[1:-1] if len(rec) >= 2 and rec[0] == rec[-1] == '"' else rec
            if value == foreign_value:
                foreign.append((zname, name, rs.get("ttl"), records, rs.get("status")))
            else:
                problems.append(f"leftover value {rec!r} at {name} in zone {zname} "
                                f"(recordset {rs.get('id')}, status {rs.get('status')})")
want = (foreign_zone, foreign_name, int(foreign_ttl))
if len(foreign) != 1:
    problems.append(f"foreign value {foreign_value!r}: expected once, found {foreign}")
else:
    zname, name, ttl, records, status = foreign[0]
    if (zname, name, ttl) != want:
        problems.append(f"foreign value is at {(zname, name, ttl)}, want {want}")
    if status not in (None, "ACTIVE"):
        problems.append(f"foreign recordset status {status}, want ACTIVE")
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
EOF
    e2e_poll_state "$E2E_TMP/check-state.py" "$@"
}

# e2e_sim_state_clean_ovh FOREIGN_VALUE FOREIGN_NAME FOREIGN_ZONE FOREIGN_TTL: the same for
# otc-sim --cloud ovh, in the API's records and in what the last refresh published: no
# _acme-challenge TXT record but the foreign one, once, where it was.
e2e_sim_state_clean_ovh() {
    cat >"$E2E_TMP/check-state-ovh.py" <<'EOF'
import json, sys

state_file, foreign_value, foreign_name, foreign_zone, foreign_ttl = sys.argv[1:6]
state = json.load(open(state_file))
problems = []
for view in ("records", "published"):
    foreign = []
    for zone in state.get("ovh", {}).get("zones", []):
        zname = zone["name"] + "."
        for r in zone.get(view, []):
            sub = r.get("subDomain", "")
            name = (sub + "." if sub else "") + zname
            if r.get("fieldType") != "TXT" or not name.startswith("_acme-challenge."):
                continue
            t = r.get("target", "")
            value = t[1:-1] if len(t) >= 2 and t[0] == t[-1] == '"' else t
            if value == foreign_value:
                foreign.append((zname, name, r.get("ttl")))
            else:
                problems.append(f"{view}: leftover value {t!r} at {name} (record {r.get('id')})")
    if foreign != [(foreign_zone, foreign_name, int(foreign_ttl))]:
        problems.append(f"{view}: foreign value {foreign_value!r} expected once at "
                        f"{(foreign_zone, foreign_name, int(foreign_ttl))}, found {foreign}")
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
EOF
    e2e_poll_state "$E2E_TMP/check-state-ovh.py" "$@"
}

# e2e_cert_matches CERT CHAIN NAME...: the certificate's SANs are exactly NAMEs and it
# chains (through CHAIN) to pebble's root; prints what is wrong and returns 1 otherwise.
e2e_cert_matches() {
    local cert=$1 chain=$2 got want ok=0
    shift 2
    got=$(openssl x509 -in "$cert" -noout -ext subjectAltName \
        | tail -n +2 | tr ',' '\n' | sed 's/^[[:space:]]*//; s/[[:space:]]*$//' | grep -v '^$' | sort)
    want=$(for name in "$@"; do printf 'DNS:%s\n' "$name"; done | sort)
    if [ "$got" != "$want" ]; then
        echo "certificate SANs are [$(echo "$got" | paste -sd' ')], want [$(echo "$want" | paste -sd' ')]"
        ok=1
    else
        e2e_log "ok: SANs $(echo "$got" | paste -sd' ')"
    fi
    if openssl verify -CAfile "$E2E_TMP/pebble-root.pem" -untrusted "$chain" "$cert" >"$E2E_TMP/verify.log" 2>&1; then
        e2e_log "ok: certificate chains to this pebble's root"
    else
        echo "certificate does not verify against pebble's root: $(cat "$E2E_TMP/verify.log")"
        ok=1
    fi
    return "$ok"
}

# abs_from BASE PATH: PATH made absolute against BASE (values given relative to the
# current directory); an absolute PATH as it is.
abs_from() {
    case $2 in
        /*) printf '%s\n' "$2" ;;
        *) printf '%s/%s\n' "$1" "$2" ;;
    esac
}
