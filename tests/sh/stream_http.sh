#!/usr/bin/env bash
# netagm stream --http: /metrics is valid Prometheus text whose counters agree
# with the rows written and with batch; /healthz answers; /api/windows lists
# the windows with the batch's per-window source counts; other paths and
# methods are refused; the default bind address is 127.0.0.1.
. "$NETAGM_SRC/tests/lib.sh"
P=$NETAGM_PCAPS
F="$P/lucaderi__sgr/2025/Piras/modbus_sample.pcap"
[ -f "$F" ] || { echo "missing corpus file $F"; exit 1; }
command -v curl >/dev/null || { echo "curl is needed"; exit 1; }

PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

# The capture, then a burst 1000 s later that closes its windows and stays open.
python3 - "$F" "$TMP/in.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
off, first, last = 24, None, 0
while off + 16 <= len(d):
    sec, usec, cap, wire = struct.unpack_from("<IIII", d, off)
    rec = d[off + 16: off + 16 + cap]
    if first is None and rec[12:14] == b"\x08\x00":
        first = (rec, wire)
    last = max(last, sec); off += 16 + cap
t = (last + 1000) // 10 * 10
rec, wire = first
open(sys.argv[2], "wb").write(d + b"".join(
    struct.pack("<IIII", t, i, len(rec), wire) + rec for i in range(3000)))
PY
"$NETAGM" agm -q -r "$F" -w 10 --format jsonl -o "$TMP/batch.jsonl"
NB=$(wc -l < "$TMP/batch.jsonl")

mkfifo "$TMP/fifo"
(cat "$TMP/in.pcap"; sleep 60) > "$TMP/fifo" &
PIDS+=($!)
timeout 90 "$NETAGM" stream -r - -w 10 --idle-timeout 0 --http 0 -o "$TMP/out.jsonl" \
    < "$TMP/fifo" 2> "$TMP/err" &
NPID=$!; PIDS+=($NPID)
for _ in $(seq 100); do grep -q "serving http" "$TMP/err" 2>/dev/null && break; sleep 0.1; done
PORT=$(sed -n 's|.*serving http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$TMP/err")
check "serving on 127.0.0.1, port reported ($PORT)" test -n "$PORT"
U="http://127.0.0.1:$PORT"
for _ in $(seq 300); do [ "$(wc -l 2>/dev/null < "$TMP/out.jsonl")" -ge "$NB" ] && break; sleep 0.1; done
sleep 0.6 # a publish interval

check "default bind is loopback only" bash -c "ss -ltn | grep -q '127.0.0.1:$PORT ' && ! ss -ltn | grep -q '0.0.0.0:$PORT '"
check "/healthz: 200 ok" bash -c "[ \"\$(curl -s -w '%{http_code}' '$U/healthz')\" = \$'ok\n200' ]"
curl -s -D "$TMP/mh" "$U/metrics" > "$TMP/metrics"
check "/metrics: Prometheus content type" grep -qi "^Content-Type: text/plain; version=0.0.4" "$TMP/mh"
check "/metrics: valid exposition format, counters agree with the rows" \
    python3 - "$TMP/metrics" "$TMP/out.jsonl" "$TMP/batch.jsonl" <<'PY'
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? (NaN|[-+]?[0-9.]+(e[-+]?[0-9]+)?)$')
typed, vals = {}, {}
for l in lines:
    if l.startswith("# HELP "):
        continue
    if l.startswith("# TYPE "):
        _, _, name, t = l.split(" ", 3)
        assert t in ("counter", "gauge"), l
        typed[name] = t
        continue
    m = sample.match(l)
    assert m, "bad line: " + l
    assert m.group(1) in typed, "no TYPE for " + l
    vals[l.rsplit(" ", 1)[0]] = float(l.rsplit(" ", 1)[1])
out = [json.loads(l) for l in open(sys.argv[2])]
batch = [json.loads(l) for l in open(sys.argv[3])]
wins = len({r["window_start"] for r in out})
skipped = sum(v for k, v in vals.items() if k.startswith("netagm_packets_skipped_total"))
checks = {
    "windows": vals["netagm_windows_total"] == wins,
    "sources": vals["netagm_sources_total"] == len(out) == len(batch),
    "packets in rows": sum(r["pkts"] for r in batch) <= vals["netagm_packets_total"],
    "every frame accounted": vals["netagm_frames_total"] == vals["netagm_packets_total"] + skipped + vals["netagm_packets_late_total"],
    "sink label": any(k.startswith('netagm_sink_rows_total{sink="') for k in vals),
    "open window": vals["netagm_open_windows"] == 1,
    "source kind": vals.get('netagm_source_info{kind="stdin"}') == 1,
}
print(checks)
sys.exit(0 if all(checks.values()) else 1)
PY
curl -s "$U/api/windows" > "$TMP/windows.json"
check "/api/windows: each window's sources and packets as in batch" \
    python3 - "$TMP/windows.json" "$TMP/batch.jsonl" <<'PY'
import json, sys, collections
w = json.load(open(sys.argv[1]))["windows"]
src, pk = collections.Counter(), collections.Counter()
for l in open(sys.argv[2]):
    r = json.loads(l); src[r["window_start"]] += 1; pk[r["window_start"]] += r["pkts"]
ok = len(w) == min(64, len(src)) and all(
    x["sources"] == src[x["window_start"]] and x["pkts"] == pk[x["window_start"]] and x["close_to_sink_ms"] >= 0
    for x in w)
print(len(w), "windows")
sys.exit(0 if ok else 1)
PY
check "unknown path: 404" test "$(curl -s -o /dev/null -w '%{http_code}' "$U/nope")" = 404
check "POST: 405" test "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$U/metrics")" = 405
kill -TERM $NPID; wait $NPID; rc=$?
check "exit 0 after SIGTERM, port closed" \
    bash -c "[ $rc -eq 0 ] && ! curl -s -m 2 '$U/healthz' >/dev/null"

timeout 10 "$NETAGM" stream -r "$F" --http "not-an-address" -o "$TMP/x.jsonl" 2> "$TMP/bad.err"; rc=$?
check "bad --http address: exit 1, explained" bash -c "[ $rc -eq 1 ] && grep -q 'expected PORT' '$TMP/bad.err'"
finish
