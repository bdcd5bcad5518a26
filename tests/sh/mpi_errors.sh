#!/usr/bin/env bash
# netagm agm under MPI, when things go wrong: a bad file on one rank is named
# with its rank and the job goes on (exit 3, rows of the good files); a fatal
# error on one rank (--strict, a missing input, an unwritable output) ends
# the job with one message; a rank killed mid-run ends the job, no hang.
. "$NETAGM_SRC/tests/sh/mpi_lib.bash"
MPI_TIMEOUT=60
P=$NETAGM_PCAPS
F1="$P/appneta__tcpreplay/test/test.pcap"
F2="$P/CESNET__ipfixprobe/tests/functional/inputs/mixed.pcap"
F3="$P/lucaderi__sgr/2022/Favilli/tests/pkt.TCP.synflood.spoofed.pcap"
for f in "$F1" "$F2" "$F3"; do [ -f "$f" ] || { echo "missing corpus file $f"; exit 1; }; done
printf 'this is not a capture file at all\n' > "$TMP/junk.pcap"
head -c 3000 "$F1" > "$TMP/trunc.pcap"
IN=(-r "$TMP/junk.pcap" -r "$F1" -r "$TMP/trunc.pcap" -r "$F2" -r "$F3")

# Bad files: same rows and status as one process, each named once with its rank.
"$NETAGM" agm -q "${IN[@]}" -w 10 -o "$TMP/ref.csv" 2> /dev/null; ref_rc=$?
check "reference: exit 3" test $ref_rc -eq 3
mpi 3 agm -q "${IN[@]}" -w 10 -o "$TMP/bad.csv" 2> "$TMP/bad.err"; rc=$?
check "bad files on some ranks: exit 3" test $rc -eq 3
check "bad files: rows of the good files, byte-identical" cmp -s "$TMP/ref.csv" "$TMP/bad.csv"
check "junk file named once, with rank and offset 0" \
    test "$(grep -c '^netagm\[rank [0-2]\]: .*junk.pcap: offset 0: ' "$TMP/bad.err")" -eq 1
check "truncated file named once, with rank and its offset" \
    test "$(grep -c '^netagm\[rank [0-2]\]: .*trunc.pcap: offset [1-9][0-9]*: ' "$TMP/bad.err")" -eq 1

# --strict: the rank that meets the bad file stops the job, one message.
start=$SECONDS
mpi 3 agm -q --strict "${IN[@]}" -o "$TMP/strict.csv" 2> "$TMP/strict.err"; rc=$?
check "--strict: exit 1" test $rc -eq 1
check "--strict: one message naming rank and file" \
    test "$(grep -c '^netagm\[rank [0-2]\]: --strict: stopping at bad input: .*junk.pcap' "$TMP/strict.err")" -eq 1
check "--strict: no hang ($((SECONDS - start)) s)" test $((SECONDS - start)) -lt $MPI_TIMEOUT

# Fatal before any work: one message from rank 0.
mpi 3 agm -q -r "$TMP/no-such.pcap" -o "$TMP/m.csv" 2> "$TMP/m.err"; rc=$?
check "missing input: exit 1" test $rc -eq 1
check "missing input: named once" test "$(grep -c 'no-such.pcap' "$TMP/m.err")" -eq 1
mpi 3 agm -q -r "$F1" -o "$TMP/no/such/dir/out.csv" 2> "$TMP/w.err"; rc=$?
check "unwritable output: exit 1" test $rc -eq 1
check "unwritable output: named once" test "$(grep -c 'no/such/dir/out.csv' "$TMP/w.err")" -eq 1
mpi 2 agm -q -r "$F1" --output-parts -o "$TMP/junk.pcap" 2> "$TMP/pf.err"; rc=$?
check "--output-parts onto a file: exit 1 with a message" \
    bash -c "[ $rc -eq 1 ] && grep -q 'not a directory' '$TMP/pf.err'"
mpi 2 agm -q -r "$F1" --bpf 'no such (' -o /dev/null 2> "$TMP/bpf.err"; rc=$?
check "bad BPF: exit 2" test $rc -eq 2
check "bad BPF: said once" test "$(grep -c "invalid filter" "$TMP/bpf.err")" -eq 1
# Usage errors, found before MPI starts: rank 0 says it, the job exits 2.
mpi 3 agm -q -w abc -r "$F1" -o /dev/null 2> "$TMP/u1.err"; rc=$?
check "bad -w: exit 2, said once" \
    test $rc -eq 2 -a "$(grep -c "expected a positive number" "$TMP/u1.err")" -eq 1
mpi 3 agm --no-such-option -r "$F1" 2> "$TMP/u2.err"; rc=$?
check "unknown option: exit 2, said once" \
    test $rc -eq 2 -a "$(grep -c "unrecognized option" "$TMP/u2.err")" -eq 1
mpi 3 agm --help > "$TMP/help.out" 2> /dev/null; rc=$?
check "--help: exit 0, printed once" \
    test $rc -eq 0 -a "$(grep -c '^usage: netagm agm' "$TMP/help.out")" -eq 1

# A rank killed mid-run. One rank reads a FIFO that never ends, so the job
# is certainly still running when the rank dies; mpirun must end the job.
kill_rank() { # kill_rank RANK: start a 3-rank job, SIGKILL that rank, check the end
    local victim=$1 fifo="$TMP/stall$1.pcap"
    mkfifo "$fifo"
    exec 9<> "$fifo"
    head -c 24 "$F1" >&9 # a pcap file header, then nothing: the reader waits
    local t0=$SECONDS pid="" all=""
    mpi_env timeout 60 "$MPIRUN" -np 3 "$NETAGM" agm -q -r "$fifo" -r "$F1" -r "$F2" -o "$TMP/k.csv" \
        > "$TMP/k.out" 2>&1 &
    local job=$!
    for _ in $(seq 100); do
        all=$(pgrep -f "agm -q -r $fifo")
        for p in $all; do
            if tr '\0' '\n' < "/proc/$p/environ" 2> /dev/null | grep -qxE "(OMPI_COMM_WORLD_RANK|PMI_RANK)=$victim"; then
                pid=$p
            fi
        done
        [ -n "$pid" ] && break
        sleep 0.1
    done
    if [ -z "$pid" ]; then
        bad "kill rank $victim: rank process not found"
        kill "$job" 2> /dev/null
    else
        sleep 1
        kill -9 "$pid"
    fi
    wait "$job"
    local rc=$?
    exec 9>&-
    check "rank $victim killed: job ends non-zero (rc $rc)" test $rc -ne 0
    check "rank $victim killed: ended by mpirun, not by the timeout ($((SECONDS - t0)) s)" \
        test $rc -ne 124
    local left=0
    for p in $all; do
        # A dead rank may stay a zombie when PID 1 does not reap orphans.
        st=$(sed 's/.*) //' "/proc/$p/stat" 2> /dev/null | cut -c1)
        [ -n "$st" ] && [ "$st" != Z ] && left=$((left + 1))
    done
    check "rank $victim killed: none of the $(echo $all | wc -w) rank processes left" test $left -eq 0
}
kill_rank 1
kill_rank 0

# Commands that do not run distributed refuse instead of repeating the job N times.
mpi 2 extract -q -r "$F1" -o "$TMP/x.csv" > /dev/null 2> "$TMP/x.err"; rc=$?
check "extract under mpirun: refused (exit $rc)" test "$rc" -ne 0
check "extract under mpirun: says why" grep -q "does not run under MPI" "$TMP/x.err"
finish
