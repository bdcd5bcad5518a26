#!/usr/bin/env bash
# Running out of memory is a fatal error, never a crash, a hang, a wrong row
# or a "bad input": `netagm agm` runs under address-space limits (ulimit -v)
# from too small to start up to plenty, with -j 1 and -j 2, one window and
# 60-second windows (rows handed over window by window), and so do
# `netagm extract` (packet rows as CSV), `netagm stream -r` (windows closed
# as the watermark passes) and `netagm analyze` (the PCA's BLAS among what
# runs out). Every run must
# either exit 0 with exactly the rows of an unlimited run, or exit 1 with a
# message about memory or threads; a limit too small for the dynamic loader
# or a library's constructor stops the program before main (then netagm
# prints nothing). No signal and no hang (a 120 s limit a run), ever.
# Each configuration must fail cleanly at some limit and succeed at another,
# so the sweep does cross the point where allocations start to fail.
# (Not under ASan: its shadow memory needs terabytes of address space.)
. "$NETAGM_SRC/tests/lib.sh"
if [ -n "${NETAGM_ASAN:-}" ] || grep -q __asan_init "$NETAGM"; then
    echo "skip - address-space limits (sanitizer build)"
    finish
    exit
fi

NETAGM_PCAPS="$NETAGM_PCAPS" "$NETAGM_BUILD/bench/netagm-gen" --packets 60000 --sources 3000 \
    --span 600 --seed 5 -o "$TMP/g.pcap" 2>/dev/null || { echo "FAIL: netagm-gen"; exit 1; }

# One run of "netagm $1" (its words; @G@ stands for the capture, @A@ for an
# AGM table of it, @O@ for the output directory) under an address-space limit of
# $2 KiB, with a time limit; the result is O/$3, to equal ref/$3. Counts the
# run in ok_runs / oom_runs or appends to wrong.
limited() {
    local rc=0 words=${1//@G@/$TMP/g.pcap}
    words=${words//@A@/$TMP/agm.csv}
    rm -rf "$TMP/o" && mkdir -p "$TMP/o"
    # shellcheck disable=SC2086 # a list of words
    (ulimit -v "$2" && exec timeout 120 "$NETAGM" ${words//@O@/$TMP/o}) 2>"$TMP/err" || rc=$?
    if [ $rc = 0 ]; then
        if cmp -s "$TMP/o/$3" "$TMP/ref/$3"; then ok_runs=$((ok_runs + 1)); first_ok=${first_ok:-$2}
        else wrong+=" $2K:output-differs"; fi
    elif [ $rc = 124 ]; then
        wrong+=" $2K:hangs"
    elif [ $rc -ge 128 ]; then
        wrong+=" $2K:signal-$((rc - 128)):$(head -c 80 "$TMP/err")"
    elif ! grep -q "^netagm" "$TMP/err"; then
        : # stopped before main: the dynamic loader or a library's constructor
    elif [ $rc = 1 ] && grep -qE "out of memory|cannot start|failed to map" "$TMP/err" &&
        [ "$(wc -l <"$TMP/err")" -le 2 ]; then
        oom_runs=$((oom_runs + 1))
    else
        wrong+=" $2K:exit-$rc:$(head -c 80 "$TMP/err")"
    fi
}

"$NETAGM" agm -q --proto tcp -r "$TMP/g.pcap" -o "$TMP/agm.csv" || bad "unlimited agm --proto tcp"
for conf in "agm -q -j 1 -r @G@ -o @O@/x.csv|x.csv|256" "agm -q -j 2 -r @G@ -o @O@/x.csv|x.csv|256" \
    "agm -q -j 1 -w 60 -r @G@ -o @O@/x.csv|x.csv|256" "agm -q -j 2 -w 60 -r @G@ -o @O@/x.csv|x.csv|256" \
    "extract -q -r @G@ -o @O@/x.csv|x.csv|256" "stream -q -r @G@ -w 60 -o @O@/x.csv|x.csv|256" \
    "analyze -q --agm @A@ --out @O@|assignments.csv|512"; do
    IFS='|' read -r cmd result top <<<"$conf"
    rm -rf "$TMP/ref" && mkdir -p "$TMP/ref"
    words=${cmd//@G@/$TMP/g.pcap}
    words=${words//@A@/$TMP/agm.csv}
    # shellcheck disable=SC2086
    "$NETAGM" ${words//@O@/$TMP/ref} || { bad "unlimited $cmd"; continue; }
    ok_runs=0 oom_runs=0 wrong="" first_ok=""
    # 8 MB steps up to $top MB, then 256 KB steps over the 16 MB below the
    # first limit that sufficed, where allocations start failing mid-run.
    for mb in $(seq 8 8 "$top"); do limited "$cmd" $((mb * 1024)) "$result"; done
    if [ -n "$first_ok" ]; then
        for kb in $(seq $((first_ok - 16384)) 256 "$first_ok"); do limited "$cmd" "$kb" "$result"; done
    fi
    check "$cmd under ulimit -v: every run the same $result or exit 1 (${ok_runs} ok, ${oom_runs} out of memory)${wrong}" \
        test -z "$wrong" -a "$ok_runs" -gt 0 -a "$oom_runs" -gt 0
done
finish
