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

# e2e_start_sim SIM SEED: start `SIM serve --seed SEED`, wait for its ready line, and set
# sim_pid, sim_http (host:port), sim_dns (host:port) and sim_dns_port.
e2e_start_sim() {
    local bin=$1 seed=$2 ready="" addrs
    e2e_log "starting $bin serve --seed $seed"
    e2e_start sim "$bin" serve --seed "$seed"
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
