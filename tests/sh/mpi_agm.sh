#!/usr/bin/env bash
# netagm agm under MPI: on 1, 2, 3 and 4 ranks the rows are byte-identical
# to a single-process run, with and without windows, whatever the exchange
# chunk size; part files, statistics, stdin, filters, fewer files than ranks.
. "$NETAGM_SRC/tests/sh/mpi_lib.bash"

corpus_quarter "$TMP/quarter"
R=(-r "$TMP/quarter")

# Single-process references (the corpus has a few non-captures: exit 3).
"$NETAGM" agm -q "${R[@]}" -o "$TMP/ref.csv" 2> "$TMP/ref.err"; ref_rc=$?
"$NETAGM" agm -q "${R[@]}" -w 60 -o "$TMP/refw.csv" 2> /dev/null
check "reference run exits 3 (bad inputs in the corpus)" test $ref_rc -eq 3
check "reference has many rows" test "$(wc -l < "$TMP/ref.csv")" -gt 500

for np in 1 2 3 4; do
    mpi $np agm -q "${R[@]}" -o "$TMP/o$np.csv" 2> "$TMP/o$np.err"; rc=$?
    check "np=$np, one window: exit $ref_rc" test $rc -eq $ref_rc
    check "np=$np, one window: rows byte-identical" cmp -s "$TMP/ref.csv" "$TMP/o$np.csv"
    mpi $np agm -q "${R[@]}" -w 60 -o "$TMP/w$np.csv" 2> /dev/null
    check "np=$np, -w 60: rows byte-identical" cmp -s "$TMP/refw.csv" "$TMP/w$np.csv"
done
check "each bad input named once, with its rank" \
    test "$(grep -c '^netagm\[rank [0-3]\]: .*offset' "$TMP/o4.err")" -eq "$(grep -c 'offset' "$TMP/ref.err")"

# Tiny exchange rounds: many Alltoallv rounds and row chunks, same rows.
NETAGM_MPI_CHUNK=2000 mpi 3 agm "${R[@]}" -w 60 -o "$TMP/c.csv" 2> "$TMP/c.err"
check "2000-byte chunks: rows byte-identical" cmp -s "$TMP/refw.csv" "$TMP/c.csv"
rounds=$(sed -n 's/.* \([0-9][0-9]*\) rounds.*/\1/p' "$TMP/c.err")
check "2000-byte chunks: many exchange rounds ($rounds)" test "${rounds:-0}" -gt 20

# Many short windows (-w 1), JSON Lines.
"$NETAGM" agm -q "${R[@]}" -w 1 -o "$TMP/ref1.jsonl" 2> /dev/null
mpi 2 agm -q "${R[@]}" -w 1 -o "$TMP/o1.jsonl" 2> /dev/null
check "-w 1, JSON Lines: byte-identical" cmp -s "$TMP/ref1.jsonl" "$TMP/o1.jsonl"

# Parquet, when this build writes it.
if "$NETAGM" agm -q -r "$NETAGM_PCAPS/appneta__tcpreplay/test/test.pcap" -o "$TMP/probe.parquet" 2> /dev/null; then
    "$NETAGM" agm -q "${R[@]}" -w 60 -o "$TMP/ref.parquet" 2> /dev/null
    mpi 3 agm -q "${R[@]}" -w 60 -o "$TMP/o.parquet" 2> /dev/null
    check "Parquet: byte-identical" cmp -s "$TMP/ref.parquet" "$TMP/o.parquet"
fi

# One part file per rank: each sorted, together the reference rows.
mkdir -p "$TMP/parts"
touch "$TMP/parts/part-00007.csv" "$TMP/parts/keep.txt" # an older run's part, a user file
mpi 3 agm -q "${R[@]}" -w 60 --output-parts -o "$TMP/parts" 2> /dev/null; rc=$?
check "--output-parts: exit $ref_rc" test $rc -eq $ref_rc
check "--output-parts: part-00000..2 and _SUCCESS" \
    bash -c "cd '$TMP/parts' && [ \"\$(ls part-* | tr '\n' ' ')\" = 'part-00000.csv part-00001.csv part-00002.csv ' ] && [ -f _SUCCESS ] && [ -f keep.txt ]"
body() { tail -n +2 "$1"; }
sorted_ok=1
for p in "$TMP"/parts/part-*.csv; do
    [ "$(head -1 "$p")" = "$(head -1 "$TMP/refw.csv")" ] || sorted_ok=0
    body "$p" | LC_ALL=C sort -c -s -t, -k1,1 2> /dev/null || sorted_ok=0
done
check "--output-parts: every part has the header and is in window order" test $sorted_ok -eq 1
check "--output-parts: union of the parts = reference rows" \
    bash -c "diff <(for p in '$TMP'/parts/part-*.csv; do tail -n +2 \"\$p\"; done | LC_ALL=C sort) <(tail -n +2 '$TMP/refw.csv' | LC_ALL=C sort) > /dev/null"
# Without a launcher: one part, same rows.
"$NETAGM" agm -q "${R[@]}" -w 60 --output-parts -o "$TMP/parts1" 2> /dev/null
check "--output-parts without mpirun: one part equal to the reference" \
    cmp -s "$TMP/refw.csv" "$TMP/parts1/part-00000.csv"

# Statistics cover the whole job.
"$NETAGM" agm -q "${R[@]}" -w 60 --stats-json "$TMP/ref.json" -o /dev/null 2> /dev/null
mpi 4 agm -q "${R[@]}" -w 60 --stats-json "$TMP/mpi.json" -o /dev/null 2> /dev/null
check "--stats-json: job totals equal the single-process counters" python3 - "$TMP/ref.json" "$TMP/mpi.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
keys = ["files_ok", "files_bad", "frames", "bytes", "input_bytes", "counted", "skipped",
        "filtered_bpf", "filtered_proto", "l4_truncated", "sources", "windows", "rows"]
bad = [k for k in keys if a[k] != b[k]]
lt = lambda s: sorted(json.dumps(x, sort_keys=True) for x in s["linktypes"])
if lt(a) != lt(b):
    bad.append("linktypes")
print("differ:", bad) if bad else None
sys.exit(1 if bad or a["frames"] == 0 else 0)
PY

# Fewer files than ranks: idle readers still own and merge sources.
F1="$NETAGM_PCAPS/lucaderi__sgr/2022/Favilli/tests/pkt.TCP.synflood.spoofed.pcap"
F2="$NETAGM_PCAPS/appneta__tcpreplay/test/test.pcap"
"$NETAGM" agm -q -r "$F1" -r "$F2" -w 1 -o "$TMP/few.csv"
mpi 4 agm -q -r "$F1" -r "$F2" -w 1 -o "$TMP/few4.csv" 2> /dev/null
check "2 files on 4 ranks: byte-identical" cmp -s "$TMP/few.csv" "$TMP/few4.csv"
mpi 3 agm -q -r "$F1" -o "$TMP/one3.csv" 2> /dev/null
"$NETAGM" agm -q -r "$F1" -o "$TMP/one.csv"
check "1 file on 3 ranks, one window: byte-identical" cmp -s "$TMP/one.csv" "$TMP/one3.csv"

# Standard input reaches rank 0 only; filters apply on every rank.
if [ $MPI_IS_OMPI = 1 ]; then
    mpi 2 agm -q -r - -r "$F2" -o "$TMP/stdin.csv" < "$F1" 2> /dev/null
    "$NETAGM" agm -q -r "$F1" -r "$F2" -o "$TMP/stdin_ref.csv"
    check "-r - on rank 0 plus a file: byte-identical" cmp -s "$TMP/stdin_ref.csv" "$TMP/stdin.csv"
else
    echo "skip - -r - : MPICH's Hydra cannot forward a capture on stdin (docs/cluster.md)"
fi
"$NETAGM" agm -q "${R[@]}" --proto tcp --bpf 'not port 80' -w 60 -o "$TMP/flt.csv" 2> /dev/null
mpi 3 agm -q "${R[@]}" --proto tcp --bpf 'not port 80' -w 60 -o "$TMP/flt3.csv" 2> /dev/null
check "--proto and --bpf: byte-identical" cmp -s "$TMP/flt.csv" "$TMP/flt3.csv"

finish
