#!/usr/bin/env bash
# netagm stream -i: live capture on a veth pair inside a network namespace
# that this test creates (nothing touches any other interface). tcpreplay
# sends real captures into one end, netagm captures on the other; the rows
# (one window; every column but the window's times, which are capture times
# here) must equal batch processing of the same files, provided the kernel
# dropped nothing. Also: -Z drops root once the interface is open, --snaplen
# and a kernel --bpf filter.
# Skipped (exit 77) when not root or when namespaces cannot be created.
. "$NETAGM_SRC/tests/lib.sh"
P=$NETAGM_PCAPS
FILES=(
    "$P/lucaderi__sgr/2025/Ciarfella/Catture/Subito.pcap"
    "$P/lucaderi__sgr/2025/Piras/modbus_sample.pcap"
)
for f in "${FILES[@]}"; do [ -f "$f" ] || { echo "missing corpus file $f"; exit 1; }; done

if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: live capture needs root (network namespace, veth pair, raw sockets)"
    exit 77
fi
for c in ip tcpreplay; do
    command -v $c >/dev/null || { echo "SKIP: $c not installed"; exit 77; }
done
NS="nagm-live-$$"
if ! ip netns add "$NS" 2>/dev/null; then
    echo "SKIP: cannot create a network namespace (ip netns add failed)"
    exit 77
fi
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
IN() { ip netns exec "$NS" "$@"; }

# Both ends in the namespace; no IPv6 (no router solicitations, no DAD), no
# IPv4 address (no ARP): the only frames are the ones tcpreplay sends.
IN sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip -n "$NS" link add va type veth peer name vb
for i in va vb; do ip -n "$NS" link set "$i" up; done
check "veth pair up in namespace $NS" bash -c "ip -n '$NS' link show va | grep -q 'state UP'"
chmod 755 "$TMP"

# live -> rows without the window's times, sorted
strip() { python3 -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l); del r["window_start"], r["window_end"]; print(json.dumps(r))' "$1" | sort; }

capture() { # capture NAME "netagm args" "tcpreplay files...": run, replay, stop
    local name=$1 args=$2; shift 2
    # ip netns exec runs timeout in place: $! is timeout, netagm its child
    ip netns exec "$NS" timeout 120 "$NETAGM" stream -i va $args -o - \
        > "$TMP/$name.jsonl" 2> "$TMP/$name.err" &
    NPID=$!; PIDS+=($NPID)
    for _ in $(seq 100); do grep -q "capturing on va" "$TMP/$name.err" && break; sleep 0.1; done
    sleep 0.3
    # A sanitizer build reads several times slower: replay slower too, so a
    # drop means a bug and not a busy machine.
    local pps=5000
    [ -n "${NETAGM_ASAN:-}" ] && pps=800
    for f in "$@"; do IN tcpreplay -q -i vb --pps $pps "$f" > /dev/null 2>&1; done
    sleep 1
    CHILD=$(pgrep -P $NPID -n)
    USER_SEEN=$(ps -o user= -p "$CHILD" 2>/dev/null | tr -d ' ')
    kill -TERM $NPID; wait $NPID
    DROPS=$(sed -n 's/.*pcap *received [0-9]*, dropped \([0-9]*\).*/\1/p' "$TMP/$name.err")
}

# ---- all columns but the times equal batch --------------------------------------------
"$NETAGM" agm -q -r "${FILES[0]}" -r "${FILES[1]}" --format jsonl -o "$TMP/batch.jsonl"
capture all "" "${FILES[0]}" "${FILES[1]}"
check "capture: the kernel dropped nothing (drops: ${DROPS:-?})" test "${DROPS:-1}" -eq 0
strip "$TMP/batch.jsonl" > "$TMP/b.s"; strip "$TMP/all.jsonl" > "$TMP/s.s"
check "live rows equal batch over the replayed files ($(wc -l < "$TMP/b.s") sources)" \
    bash -c "[ -s '$TMP/b.s' ] && cmp -s '$TMP/b.s' '$TMP/s.s'"

# ---- -Z, --snaplen, kernel BPF --------------------------------------------------------------
"$NETAGM" agm -q -r "${FILES[0]}" --bpf tcp --format jsonl -o "$TMP/batch-tcp.jsonl"
capture tcp "-Z nobody --snaplen 128 --bpf tcp" "${FILES[0]}"
check "-Z nobody: running as nobody after the interface was opened (${USER_SEEN:-?})" \
    test "$USER_SEEN" = nobody
check "--snaplen 128 --bpf tcp: no drops" test "${DROPS:-1}" -eq 0
strip "$TMP/batch-tcp.jsonl" > "$TMP/bt.s"; strip "$TMP/tcp.jsonl" > "$TMP/st.s"
check "--snaplen 128 --bpf tcp: rows equal batch --bpf tcp" \
    bash -c "[ -s '$TMP/bt.s' ] && cmp -s '$TMP/bt.s' '$TMP/st.s'"

# ---- errors ------------------------------------------------------------------------------------
IN "$NETAGM" stream -i no-such-if0 -o - 2> "$TMP/e.err"; rc=$?
check "unknown interface: exit 1, named" bash -c "[ $rc -eq 1 ] && grep -q no-such-if0 '$TMP/e.err'"
IN "$NETAGM" stream -i va -Z no-such-user-x -o - 2> "$TMP/z.err"; rc=$?
check "unknown -Z user: exit 1, named" bash -c "[ $rc -eq 1 ] && grep -q no-such-user-x '$TMP/z.err'"
finish
