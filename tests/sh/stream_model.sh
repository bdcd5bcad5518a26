#!/usr/bin/env bash
# netagm stream --model: every row carries the cluster and distance that
# netagm apply computes for the same window and source (compared as text);
# the AGM part of the rows is batch's for a TCP-only model; SIGHUP swaps the
# model (a damaged file keeps the old one); errors.
. "$NETAGM_SRC/tests/lib.sh"
P=$NETAGM_PCAPS
TRAIN="$P/RIPE-NCC__hadoop-pcap/hadoop-pcap-lib/src/test/resources/reversedtest.pcap"
F2="$P/lucaderi__sgr/2025/Ciarfella/Catture/Subito.pcap"
F3="$P/lucaderi__sgr/2025/Piras/modbus_sample.pcap"
for f in "$TRAIN" "$F2" "$F3"; do [ -f "$f" ] || { echo "missing corpus file $f"; exit 1; }; done

PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

"$NETAGM" analyze -q -r "$TRAIN" -w 10 --out "$TMP/m1" --no-report
"$NETAGM" analyze -q -r "$TRAIN" -w 10 -k 2 --seed 7 --out "$TMP/m2" --no-report
check "two models trained" bash -c "[ -s '$TMP/m1/model.json' ] && [ -s '$TMP/m2/model.json' ]"

# (window_start, src_ip, cluster, distance) from apply's CSV and from a stream CSV.
keys_apply() { tail -n +2 "$1" | tr -d '\r' | awk -F, '{print $2","$1","$4","$5}' | sort; }
keys_stream() { tail -n +2 "$1" | tr -d '\r' | awk -F, '{print $1","$3","$(NF-1)","$NF}' | sort; }
for f in "$F2" "$F3" "$TRAIN"; do
    b=$(basename "$f")
    "$NETAGM" apply -q --model "$TMP/m1/model.json" -r "$f" -w 10 -o "$TMP/apply.csv"
    timeout 60 "$NETAGM" stream -q -r "$f" -w 10 --model "$TMP/m1/model.json" -o "$TMP/s.csv"
    keys_apply "$TMP/apply.csv" > "$TMP/ka"
    keys_stream "$TMP/s.csv" > "$TMP/ks"
    check "$b: cluster and distance of every row equal netagm apply ($(wc -l < "$TMP/ka") rows)" \
        bash -c "[ -s '$TMP/ka' ] && cmp -s '$TMP/ka' '$TMP/ks'"
done
"$NETAGM" agm -q -r "$F2" -w 10 --proto tcp --format jsonl -o "$TMP/tcp.jsonl"
timeout 60 "$NETAGM" stream -q -r "$F2" -w 10 --model "$TMP/m1/model.json" > "$TMP/s.jsonl"
check "JSONL rows: batch's TCP-only AGM row, then cluster and distance" \
    python3 - "$TMP/s.jsonl" "$TMP/tcp.jsonl" <<'PY'
import json, sys
got = [json.loads(l) for l in open(sys.argv[1])]
want = [json.loads(l) for l in open(sys.argv[2])]
ok = len(got) == len(want) > 0
for g, w in zip(got, want):
    keys = list(g)
    ok &= keys[-2:] == ["cluster", "distance"] and isinstance(g["cluster"], int)
    del g["cluster"], g["distance"]
    ok &= g == w
sys.exit(0 if ok else 1)
PY

# ---- SIGHUP ----------------------------------------------------------------------------
python3 - "$F3" "$TMP/in.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
off, first, last = 24, None, 0
while off + 16 <= len(d):
    sec, usec, cap, wire = struct.unpack_from("<IIII", d, off)
    rec = d[off + 16: off + 16 + cap]
    if first is None and rec[12:14] == b"\x08\x00" and rec[23] == 6:
        first = (rec, wire)
    last = max(last, sec); off += 16 + cap
t = (last + 1000) // 10 * 10
rec, wire = first
open(sys.argv[2], "wb").write(d + b"".join(
    struct.pack("<IIII", t, i, len(rec), wire) + rec for i in range(3000)))
PY
cp "$TMP/m1/model.json" "$TMP/live.json"
mkfifo "$TMP/fifo"
(cat "$TMP/in.pcap"; sleep 60) > "$TMP/fifo" &
PIDS+=($!)
timeout 90 "$NETAGM" stream -r - -w 10 --idle-timeout 0 --model "$TMP/live.json" \
    -o "$TMP/hup.jsonl" < "$TMP/fifo" 2> "$TMP/hup.err" &
NPID=$!; PIDS+=($NPID)
for _ in $(seq 300); do [ -s "$TMP/hup.jsonl" ] && break; sleep 0.1; done
sleep 1
CHILD=$(pgrep -P $NPID -n) # timeout(1) passes on only the first SIGHUP: signal netagm itself
echo '{"this is": "not a model"}' > "$TMP/live.json"
kill -HUP "$CHILD"; sleep 0.5
check "SIGHUP with a damaged file: the current model stays" grep -q "SIGHUP: keeping the current model" "$TMP/hup.err"
cp "$TMP/m2/model.json" "$TMP/live.json"
kill -HUP "$CHILD"; sleep 0.5
check "SIGHUP: model reloaded" grep -q "SIGHUP: model reloaded" "$TMP/hup.err"
kill -TERM $NPID; wait $NPID; rc=$?
check "exit 0 after SIGTERM" test $rc -eq 0
# The window flushed at SIGTERM was scored by the second model: as apply says.
tail -1 "$TMP/hup.jsonl" > "$TMP/last.jsonl"
"$NETAGM" apply -q --model "$TMP/m2/model.json" --agm "$TMP/last.jsonl" -o "$TMP/last-apply.csv"
check "after SIGHUP rows are scored by the new model (as netagm apply with it)" \
    python3 - "$TMP/last.jsonl" "$TMP/last-apply.csv" <<'PY'
import csv, json, sys
r = json.loads(open(sys.argv[1]).read())
a = list(csv.DictReader(open(sys.argv[2])))
sys.exit(0 if len(a) == 1 and int(a[0]["cluster"]) == r["cluster"]
         and float(a[0]["distance"]) == r["distance"] else 1)
PY

# ---- errors ------------------------------------------------------------------------------
"$NETAGM" stream -q -r "$F2" --model "$TMP/none.json" -o "$TMP/x.jsonl" 2> "$TMP/e.err"; rc=$?
check "missing model: exit 1, named" bash -c "[ $rc -eq 1 ] && grep -q none.json '$TMP/e.err'"
# Parquet outputs carry cluster and distance too (checked in parquet_model.sh).
"$NETAGM" stream -q -r "$F2" --model "$TMP/m1/model.json" -o "$TMP/x.parquet" 2>/dev/null
check "--model with a Parquet output: exit 0" test $? -eq 0
finish
