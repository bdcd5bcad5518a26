#!/usr/bin/env bash
# Kafka end to end on librdkafka's mock cluster (loopback only):
# netagm publish -> packet topic (4 partitions) -> netagm stream consumer
# group -> result topic (3 partitions); every result row is read back and
# compared with netagm agm over the same capture. The consumer is stopped
# (SIGTERM) mid-stream and a new member of the group picks up: nothing may
# be lost or counted twice. Also: the packet records decode to the batch
# rows with one partition or four, a consumer reading them with --proto, and
# delivery errors are reported.
. "$NETAGM_SRC/tests/lib.sh"
P=$NETAGM_PCAPS
MK="$NETAGM_BUILD/tests/stream/mockkafka"
[ -x "$MK" ] || { echo "missing $MK (built with the tests)"; exit 1; }
F="$P/lucaderi__sgr/2025/Ciarfella/Catture/Subito.pcap"
[ -f "$F" ] || { echo "missing corpus file $F"; exit 1; }
command -v editcap >/dev/null || { echo "editcap (wireshark-common) is needed"; exit 1; }

PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.3
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

"$MK" cluster -b 3 -t packets:4 -t agm:3 -t packets1:1 -t agm1:1 > "$TMP/boot" 2> "$TMP/mk.err" &
PIDS+=($!)
for _ in $(seq 50); do [ -s "$TMP/boot" ] && break; sleep 0.1; done
B=$(head -1 "$TMP/boot")
check "mock cluster started ($B)" test -n "$B"

"$NETAGM" agm -q -r "$F" -w 10 --format jsonl -o "$TMP/batch.jsonl"
NB=$(wc -l < "$TMP/batch.jsonl")
sort "$TMP/batch.jsonl" > "$TMP/batch.sorted"

# The rows in topic T (sorted), waiting until N have arrived.
read_topic() { # read_topic TOPIC N OUT
    timeout 60 "$MK" consume "$B" "$1" -n "$2" -w 20 > "$3.raw"
    local rc=$?
    sort "$3.raw" > "$3"
    return $rc
}

# ---- one partition: published records, consumed, equal batch -----------------------
timeout 60 "$NETAGM" publish -q -r "$F" -o "kafka://$B/packets1" --stats-json "$TMP/pub1.json"; rc=$?
check "publish: exit 0" test $rc -eq 0
check "publish: every counted packet published" python3 - "$TMP/pub1.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if s["counted"] > 4000 and s["rows"] == s["counted"] else 1)
PY
timeout 60 "$NETAGM" stream -q --kafka-in "$B/packets1" --group one -w 10 --idle-timeout 1 \
    -o "kafka://$B/agm1" > /dev/null 2> "$TMP/one.err" &
S1=$!; PIDS+=($S1)
read_topic agm1 "$NB" "$TMP/one.sorted"; rc=$?
sleep 1
kill -TERM $S1; wait $S1; src=$?
check "one partition: consumer exit 0 after SIGTERM" test $src -eq 0
check "one partition: every row arrived" test $rc -eq 0
check "one partition: result rows equal batch ($NB rows)" cmp -s "$TMP/batch.sorted" "$TMP/one.sorted"

# ---- four partitions, a consumer restart mid-stream ---------------------------------
NP=$(capinfos -c -M "$F" | awk '/Number of packets/ {print $NF}')
H=$((NP / 2))
editcap -r "$F" "$TMP/part1.pcap" "1-$H" >/dev/null 2>&1
editcap -r "$F" "$TMP/part2.pcap" "$((H + 1))-$NP" >/dev/null 2>&1
check "capture split in two halves" bash -c "[ -s '$TMP/part1.pcap' ] && [ -s '$TMP/part2.pcap' ]"
timeout 60 "$NETAGM" publish -q -r "$TMP/part1.pcap" -o "kafka://$B/packets" --stats-json "$TMP/p1.json"
check "publish first half: exit 0" test $? -eq 0

# The mock coordinator admits a new member only session.timeout.ms - 1 s
# after the last one left (a real broker: group.initial.rebalance.delay.ms),
# hence the short session timeout.
# First member: no idle timeout, so the windows still open when it stops
# are the ones the next member must rebuild.
timeout 60 "$NETAGM" stream --kafka-in "$B/packets?session.timeout.ms=6000" --group agm -w 10 --idle-timeout 0 \
    -o "kafka://$B/agm" -o "$TMP/c1.jsonl" --stats-json "$TMP/c1.json" > /dev/null 2> "$TMP/c1.err" &
C1=$!; PIDS+=($C1)
for _ in $(seq 300); do [ -s "$TMP/c1.jsonl" ] && break; sleep 0.1; done
sleep 2
kill -TERM $C1; wait $C1; rc=$?
N1=$(wc -l < "$TMP/c1.jsonl")
check "first member: exit 0, some windows out ($N1 rows)" bash -c "[ $rc -eq 0 ] && [ $N1 -gt 0 ] && [ $N1 -lt $NB ]"
check "first member: open windows left for the next member" grep -q "open windows left for the next run" "$TMP/c1.err"

timeout 60 "$NETAGM" publish -q -r "$TMP/part2.pcap" -o "kafka://$B/packets" --stats-json "$TMP/p2.json"
check "publish second half: exit 0" test $? -eq 0
timeout 60 "$NETAGM" stream --kafka-in "$B/packets?session.timeout.ms=6000" --group agm -w 10 --idle-timeout 1 \
    -o "kafka://$B/agm" -o "$TMP/c2.jsonl" --stats-json "$TMP/c2.json" > /dev/null 2> "$TMP/c2.err" &
C2=$!; PIDS+=($C2)
read_topic agm "$NB" "$TMP/all.sorted"; rc=$?
sleep 2 # anything counted twice would arrive now
kill -TERM $C2; wait $C2; rc2=$?
check "second member: exit 0" test $rc2 -eq 0
# The second member started at the committed offsets: it read the second
# half plus the packets of the windows the first left open, not everything.
js() { python3 -c "import json,sys;print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$@"; }
P1=$(js "$TMP/p1.json" rows); P2=$(js "$TMP/p2.json" rows)
F1N=$(js "$TMP/c1.json" frames); F2N=$(js "$TMP/c2.json" frames)
check "second member resumed from the commit (records: first $F1N of $P1, second $F2N of $P2 + re-read)" \
    bash -c "[ $F1N -eq $P1 ] && [ $F2N -gt $P2 ] && [ $F2N -lt $((P1 + P2)) ]"
timeout 60 "$MK" consume "$B" agm -w 3 | sort > "$TMP/final.sorted"
check "restart: every row arrived" test $rc -eq 0
check "restart: no row twice, none missing: result topic equals batch ($NB rows)" \
    cmp -s "$TMP/batch.sorted" "$TMP/final.sorted"
cat "$TMP/c1.jsonl" "$TMP/c2.jsonl" | sort > "$TMP/files.sorted"
check "restart: the two members' file outputs together equal batch" \
    cmp -s "$TMP/batch.sorted" "$TMP/files.sorted"

# ---- filters on records; delivery errors; usage ---------------------------------------
"$NETAGM" agm -q -r "$F" -w 10 --proto udp --format jsonl -o - | sort > "$TMP/udp-b.sorted"
timeout 60 "$NETAGM" stream -q --kafka-in "$B/packets1" --group udp -w 10 --proto udp \
    --idle-timeout 1 -o "$TMP/udp.jsonl" &
S3=$!; PIDS+=($S3)
for _ in $(seq 300); do [ "$(wc -l 2>/dev/null < "$TMP/udp.jsonl" || echo 0)" -ge "$(wc -l < "$TMP/udp-b.sorted")" ] && break; sleep 0.1; done
sleep 1
kill -TERM $S3; wait $S3
sort "$TMP/udp.jsonl" > "$TMP/udp.sorted"
check "--proto on packet records equals batch --proto" \
    bash -c "[ -s '$TMP/udp-b.sorted' ] && cmp -s '$TMP/udp-b.sorted' '$TMP/udp.sorted'"

timeout 60 "$NETAGM" stream -q -r "$F" -w 10 -o "kafka://127.0.0.1:1/agm?message.timeout.ms=1500" \
    > /dev/null 2> "$TMP/derr.err"; rc=$?
check "undeliverable results: exit 1, delivery failure reported" \
    bash -c "[ $rc -eq 1 ] && grep -q 'delivery failed' '$TMP/derr.err'"
"$NETAGM" stream --kafka-in "$B/packets" --bpf tcp 2>/dev/null; check "--bpf with --kafka-in: exit 2" test $? -eq 2
"$NETAGM" stream --kafka-in "nonsense" 2> "$TMP/spec.err"; rc=$?
check "bad Kafka spec: exit 1 with the expected form" bash -c "[ $rc -eq 1 ] && grep -q 'expected' '$TMP/spec.err'"
"$NETAGM" publish -r "$F" 2>/dev/null; check "publish without -o: exit 2" test $? -eq 2
finish
