#!/usr/bin/env bash
# Running out of memory is a fatal error, never a crash, a hang, a wrong row
# or a "bad input": `netagm agm` runs under address-space limits (ulimit -v)
# from too small to start up to plenty, with -j 1 and -j 2, one window and
# 60-second windows (rows handed over window by window), and so does
# `netagm extract` (packet rows as CSV). Every run must
# either exit 0 with exactly the rows of an unlimited run, or exit 1 with a
# message about memory or threads; a limit too small for the dynamic loader
# or a library's constructor stops the program before main (then netagm
# prints nothing). No signal, ever.
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

# One run of "netagm $1" (a subcommand and its options) under an
# address-space limit of $2 KiB; counts it in ok_runs / oom_runs or appends
# to wrong.
limited() {
    local rc=0
    # shellcheck disable=SC2086 # $1 is a list of words
    (ulimit -v "$2" && exec "$NETAGM" $1 -q -r "$TMP/g.pcap" -o "$TMP/out.csv") \
        2>"$TMP/err" || rc=$?
    if [ $rc = 0 ]; then
        if cmp -s "$TMP/out.csv" "$TMP/ref.csv"; then ok_runs=$((ok_runs + 1)); first_ok=${first_ok:-$2}
        else wrong+=" $2K:rows-differ"; fi
    elif [ $rc -ge 128 ]; then
        wrong+=" $2K:signal-$((rc - 128)):$(head -c 80 "$TMP/err")"
    elif ! grep -q "^netagm" "$TMP/err"; then
        : # stopped before main: the dynamic loader or a library's constructor
    elif [ $rc = 1 ] && grep -qE "out of memory|cannot start" "$TMP/err" &&
        [ "$(wc -l <"$TMP/err")" -le 2 ]; then
        oom_runs=$((oom_runs + 1))
    else
        wrong+=" $2K:exit-$rc:$(head -c 80 "$TMP/err")"
    fi
    rm -f "$TMP/out.csv"
}

for conf in "agm -j 1" "agm -j 2" "agm -j 1 -w 60" "agm -j 2 -w 60" "extract"; do
    # shellcheck disable=SC2086
    "$NETAGM" $conf -q -r "$TMP/g.pcap" -o "$TMP/ref.csv" ||
        { bad "unlimited $conf"; continue; }
    ok_runs=0 oom_runs=0 wrong="" first_ok=""
    # 8 MB steps up to 256 MB, then 256 KB steps over the 16 MB below the
    # first limit that sufficed, where allocations start failing mid-run.
    for mb in $(seq 8 8 256); do limited "$conf" $((mb * 1024)); done
    if [ -n "$first_ok" ]; then
        for kb in $(seq $((first_ok - 16384)) 256 "$first_ok"); do limited "$conf" "$kb"; done
    fi
    check "$conf under ulimit -v: every run right rows or exit 1 (${ok_runs} ok, ${oom_runs} out of memory)${wrong}" \
        test -z "$wrong" -a "$ok_runs" -gt 0 -a "$oom_runs" -gt 0
done
finish
