#!/usr/bin/env bash
# netagm stream on a pipe that stays open: SIGTERM and SIGINT mid-window
# write the open window and close the outputs (exit 0); the idle timeout
# closes the last window while the pipe is still open and silent; with
# --no-flush-on-exit the open window is not written; SIGHUP without a model
# is reported and the run goes on.
#
# The input is a real capture followed by a burst of copies of its first IPv4
# frame 1000 s later (all inside one 10 s window), so the capture's own
# windows close on the watermark and the burst's window is the open one.
. "$NETAGM_SRC/tests/lib.sh"
P=$NETAGM_PCAPS
F="$P/lucaderi__sgr/2025/Piras/modbus_sample.pcap"
[ -f "$F" ] || { echo "missing corpus file $F"; exit 1; }

PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

python3 - "$F" "$TMP/in.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
assert d[:4] == b"\xd4\xc3\xb2\xa1"
off, first, last = 24, None, 0
while off + 16 <= len(d):
    sec, usec, cap, wire = struct.unpack_from("<IIII", d, off)
    rec = d[off + 16: off + 16 + cap]
    if first is None and rec[12:14] == b"\x08\x00":
        first = (rec, wire)
    last = max(last, sec)
    off += 16 + cap
t = (last + 1000) // 10 * 10 + 9          # 9.0 s into a window
rec, wire = first
burst = b"".join(struct.pack("<IIII", t, i, len(rec), wire) + rec for i in range(3000))
open(sys.argv[2], "wb").write(d + burst)
# The same with a 3-packet burst: far less than any read buffer, so only a
# reader that hands over what has arrived sees it before the pipe closes.
small = b"".join(struct.pack("<IIII", t, i, len(rec), wire) + rec for i in range(3))
open(sys.argv[2] + ".small", "wb").write(d + small)
open(sys.argv[2] + ".t", "w").write(str(t - 9))
PY
T0=$(cat "$TMP/in.pcap.t")
"$NETAGM" agm -q -r "$F" -w 10 --format jsonl -o "$TMP/batch.jsonl"
NB=$(wc -l < "$TMP/batch.jsonl")

# Start the writer (the capture, then silence) and netagm on a FIFO.
start() { # start OUT ERR netagm-args...
    local out=$1 err=$2; shift 2
    rm -f "$TMP/fifo"; mkfifo "$TMP/fifo"
    (cat "$TMP/in.pcap"; sleep 60) > "$TMP/fifo" &
    WRITER=$!; PIDS+=("$WRITER")
    timeout 90 "$NETAGM" stream -r - "$@" < "$TMP/fifo" > "$out" 2> "$err" &
    NPID=$!; PIDS+=("$NPID")
}
wait_lines() { # wait_lines FILE N SECONDS: until FILE has >= N lines
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        [ -f "$1" ] && [ "$(wc -l < "$1")" -ge "$2" ] && return 0
        sleep 0.1
    done
    return 1
}
burst_rows() { # rows of the burst window in FILE
    python3 - "$1" "$T0" <<'PY'
import json, sys, datetime
t0 = int(sys.argv[2])
n = 0
for l in open(sys.argv[1]):
    r = json.loads(l)
    ws = datetime.datetime.strptime(r["window_start"], "%Y-%m-%dT%H:%M:%S.%fZ")
    if int(ws.replace(tzinfo=datetime.timezone.utc).timestamp()) == t0 and r["pkts"] > 0:
        n += 1
print(n)
PY
}

# ---- SIGTERM mid-window --------------------------------------------------------------
start "$TMP/term.jsonl" "$TMP/term.err" -w 10 --idle-timeout 0
wait_lines "$TMP/term.jsonl" "$NB" 30
check "capture's windows out before the signal ($NB rows)" test "$(wc -l < "$TMP/term.jsonl")" -eq "$NB"
sleep 0.5
kill -TERM "$NPID"; wait "$NPID"; rc=$?
kill "$WRITER" 2>/dev/null
check "SIGTERM: exit 0" test $rc -eq 0
check "SIGTERM: the capture's rows equal batch" \
    bash -c "head -n $NB '$TMP/term.jsonl' | cmp -s - '$TMP/batch.jsonl'"
check "SIGTERM: the open window was written" test "$(burst_rows "$TMP/term.jsonl")" -eq 1
check "SIGTERM: reported" grep -q "stopped by signal 15, open windows written" "$TMP/term.err"

# ---- SIGINT, one window over everything -------------------------------------------
start "$TMP/int.jsonl" "$TMP/int.err" --idle-timeout 0
sleep 2
kill -INT "$NPID"; wait "$NPID"; rc=$?
kill "$WRITER" 2>/dev/null
check "SIGINT: exit 0" test $rc -eq 0
check "SIGINT: the single open window was written" test "$(wc -l < "$TMP/int.jsonl")" -ge 2
check "SIGINT: reported" grep -q "stopped by signal 2" "$TMP/int.err"

# ---- idle timeout: the burst window closes while the pipe is silent ----------------
start "$TMP/idle.jsonl" "$TMP/idle.err" -w 10 --lateness 0 --idle-timeout 1
wait_lines "$TMP/idle.jsonl" $((NB + 1)) 20
check "idle: the last window closed while the input was open and silent" \
    bash -c "kill -0 $NPID && [ \"\$(wc -l < '$TMP/idle.jsonl')\" -eq $((NB + 1)) ]"
# ---- a small last burst on a silent pipe is not held back in a buffer -------------
rm -f "$TMP/fifo2"; mkfifo "$TMP/fifo2"
(cat "$TMP/in.pcap.small"; sleep 60) > "$TMP/fifo2" &
PIDS+=($!)
timeout 90 "$NETAGM" stream -r - -w 10 --lateness 0 --idle-timeout 1 < "$TMP/fifo2" \
    > "$TMP/small.jsonl" 2> "$TMP/small.err" &
SPID=$!; PIDS+=("$SPID")
wait_lines "$TMP/small.jsonl" $((NB + 1)) 20
check "pipe: a 3-packet burst is aggregated while the writer is still silent" \
    bash -c "kill -0 $SPID && [ \"\$(wc -l < '$TMP/small.jsonl')\" -eq $((NB + 1)) ]"
kill "$SPID" 2>/dev/null

check "idle: capture rows equal batch" \
    bash -c "head -n $NB '$TMP/idle.jsonl' | cmp -s - '$TMP/batch.jsonl'"
kill -HUP "$NPID"; sleep 0.5
check "SIGHUP without --model: reported, run goes on" \
    bash -c "kill -0 $NPID && grep -q 'SIGHUP: no --model' '$TMP/idle.err'"
kill -TERM "$NPID"; wait "$NPID"; rc=$?
kill "$WRITER" 2>/dev/null
check "idle: exit 0 after SIGTERM, nothing more written" \
    bash -c "[ $rc -eq 0 ] && [ \"\$(wc -l < '$TMP/idle.jsonl')\" -eq $((NB + 1)) ]"

# ---- --no-flush-on-exit ----------------------------------------------------------------
start "$TMP/nf.jsonl" "$TMP/nf.err" -w 10 --idle-timeout 0 --no-flush-on-exit
wait_lines "$TMP/nf.jsonl" "$NB" 30
sleep 0.5
kill -TERM "$NPID"; wait "$NPID"; rc=$?
kill "$WRITER" 2>/dev/null
nb=$(burst_rows "$TMP/nf.jsonl")
check "--no-flush-on-exit: exit 0, open window not written" \
    bash -c "[ $rc -eq 0 ] && [ $nb -eq 0 ] && cmp -s '$TMP/nf.jsonl' '$TMP/batch.jsonl'"

# ---- end of input flushes everything -------------------------------------------------
timeout 60 "$NETAGM" stream -q -r - -w 10 --idle-timeout 0 < "$TMP/in.pcap" > "$TMP/eof.jsonl"; rc=$?
nb=$(burst_rows "$TMP/eof.jsonl")
check "end of stdin: exit 0, every window written" \
    bash -c "[ $rc -eq 0 ] && [ $nb -eq 1 ] && head -n $NB '$TMP/eof.jsonl' | cmp -s - '$TMP/batch.jsonl'"
finish
