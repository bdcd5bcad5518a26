#!/usr/bin/env bash
# netagm stream --follow: rotated capture files appear over time (one of them
# partially written for a while); each is read once complete, in name order;
# the run is stopped and restarted in the middle; the rows of the two runs
# together equal batch over the same files, and a third run reads nothing.
. "$NETAGM_SRC/tests/lib.sh"
P=$NETAGM_PCAPS
F="$P/lucaderi__sgr/2025/Ciarfella/Catture/Subito.pcap"
[ -f "$F" ] || { echo "missing corpus file $F"; exit 1; }
command -v editcap >/dev/null || { echo "editcap (wireshark-common) is needed"; exit 1; }

PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

# Five rotated files, as tcpdump -C/-G would leave them (names sort in time order).
mkdir -p "$TMP/split" "$TMP/spool"
editcap -c 900 "$F" "$TMP/split/cap.pcap" >/dev/null 2>&1
mapfile -t PARTS < <(ls "$TMP/split" | sort)
check "capture split into 5 rotated files" test "${#PARTS[@]}" -eq 5
"$NETAGM" agm -q -r "$F" -w 10 --format jsonl -o - | sort > "$TMP/batch.sorted"
NB=$(wc -l < "$TMP/batch.sorted")

drop() { # drop N: place part N (1-based) into the spool, written then renamed
    cp "$TMP/split/${PARTS[$1 - 1]}" "$TMP/spool/.incoming"
    mv "$TMP/spool/.incoming" "$TMP/spool/${PARTS[$1 - 1]}"
}
run() { # run OUT ERR extra-args...: netagm stream --follow in the background
    local out=$1 err=$2; shift 2
    timeout 120 "$NETAGM" stream --follow "$TMP/spool" -w 10 --settle 3 -o "$out" "$@" \
        > /dev/null 2> "$err" &
    NPID=$!; PIDS+=($NPID)
}

# ---- first run: two files read, a third waits; stopped mid-stream -------------------
run "$TMP/r1.jsonl" "$TMP/r1.err"
drop 1; sleep 0.3; drop 2; sleep 0.3; drop 3
for _ in $(seq 100); do [ -s "$TMP/r1.jsonl" ] && break; sleep 0.1; done
sleep 0.5
kill -TERM $NPID; wait $NPID; rc=$?
N1=$(wc -l < "$TMP/r1.jsonl")
check "first run: exit 0, some windows out ($N1 rows)" bash -c "[ $rc -eq 0 ] && [ $N1 -gt 0 ] && [ $N1 -lt $NB ]"
check "first run: open windows left for the restart" grep -q "open windows left for the next run" "$TMP/r1.err"
check "progress file written" grep -q "^netagm-follow 1" "$TMP/spool/.netagm-follow.state"

# ---- second run: picks up; a partially written file is not read until complete --------
run "$TMP/r2.jsonl" "$TMP/r2.err" --flush-on-exit
sleep 1
P4="$TMP/split/${PARTS[3]}"
head -c $(($(stat -c %s "$P4") / 2)) "$P4" > "$TMP/spool/${PARTS[3]}"
sleep 1.5                      # shorter than --settle, and no later file yet
check "partial file not read (no damage reported)" bash -c "! grep -q offset '$TMP/r2.err'"
tail -c +$(($(stat -c %s "$P4") / 2 + 1)) "$P4" >> "$TMP/spool/${PARTS[3]}"
sleep 0.5; drop 5
sleep 5                        # file 5 completes by --settle 3
kill -TERM $NPID; wait $NPID; rc=$?
check "second run: exit 0" test $rc -eq 0
check "second run: no file damaged" bash -c "! grep -q 'offset' '$TMP/r2.err'"
nok=$(sed -n 's/^netagm: \([0-9]*\) files read cleanly, 0 bad$/\1/p' "$TMP/r2.err")
check "second run: the remaining files read, none bad (${nok:-?})" test "${nok:-0}" -ge 3
cat "$TMP/r1.jsonl" "$TMP/r2.jsonl" | sort > "$TMP/both.sorted"
check "the two runs together equal batch: nothing lost, nothing twice ($NB rows)" \
    cmp -s "$TMP/batch.sorted" "$TMP/both.sorted"

# ---- third run: everything was done -------------------------------------------------
run "$TMP/r3.jsonl" "$TMP/r3.err" --flush-on-exit
sleep 1.5
kill -TERM $NPID; wait $NPID; rc=$?
check "third run: exit 0, nothing read again" bash -c "[ $rc -eq 0 ] && [ ! -s '$TMP/r3.jsonl' ]"

# ---- usage -----------------------------------------------------------------------------
"$NETAGM" stream --follow "$TMP/spool" 2>/dev/null; check "--follow without -w: exit 2" test $? -eq 2
"$NETAGM" stream --follow "$TMP/nope" -w 10 2>/dev/null; check "--follow of a missing directory: exit 1" test $? -eq 1
echo "garbage" > "$TMP/bad.state"
"$NETAGM" stream --follow "$TMP/spool" -w 10 --state "$TMP/bad.state" 2> "$TMP/bs.err"; rc=$?
check "damaged progress file: exit 1, explained" \
    bash -c "[ $rc -eq 1 ] && grep -q 'not a progress file' '$TMP/bs.err'"
finish
