#!/usr/bin/env bash
# `netagm agm` must not depend on the number of aggregation shards: -j 1,
# -j 2 and -j 3 give byte-identical CSV (and the same exit status), with and
# without -w 60, over the whole capture corpus read as directories.
#
# Environment: NETAGM (CLI binary), NETAGM_PCAPS (corpus).
set -u

: "${NETAGM:?NETAGM must name the netagm binary}"
: "${NETAGM_PCAPS:?NETAGM_PCAPS must name the capture corpus}"
[ -x "$NETAGM" ] || { echo "jobs_identical: $NETAGM is not an executable" >&2; exit 1; }
[ -d "$NETAGM_PCAPS" ] || { echo "jobs_identical: corpus $NETAGM_PCAPS not found" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Two input sets: the corpus as one directory (every file below it, in name
# order), and a few of its directories given as separate -r arguments, in an
# order that is not the name order (so input order is exercised too).
# shellcheck disable=SC2034  # used through a nameref in check()
set_all=(-r "$NETAGM_PCAPS")
set_dirs=()
for d in the-tcpdump-group__tcpdump markofu__pcaps lucaderi__sgr chrissanders__packets \
         LibtraceTeam__libtrace arkime__arkime; do
    [ -d "$NETAGM_PCAPS/$d" ] && set_dirs+=(-r "$NETAGM_PCAPS/$d")
done

fail=0
pass=0
run() { # label, then netagm agm arguments
    local label=$1
    shift
    timeout 300 "$NETAGM" agm "$@" >"$tmp/$label.stdout" 2>"$tmp/$label.stderr"
    echo $? >"$tmp/$label.rc"
}
check() { # name, input-set array name, window options...
    local name=$1 set=$2
    shift 2
    local -n inputs=$set
    local j rc1 rcj ok=1
    run "$name.j1" "${inputs[@]}" "$@" -j 1 -o "$tmp/$name.j1.csv"
    rc1=$(cat "$tmp/$name.j1.rc")
    if [ "$rc1" != 0 ] && [ "$rc1" != 3 ]; then
        echo "FAIL $name: -j 1 exit status $rc1"
        head -n 5 "$tmp/$name.j1.stderr" | sed 's/^/    /'
        ok=0
    fi
    # 3 shards on 2 cores: more shards than cores must not matter either.
    for j in 2 3; do
        run "$name.j$j" "${inputs[@]}" "$@" -j $j -o "$tmp/$name.j$j.csv"
        rcj=$(cat "$tmp/$name.j$j.rc")
        if [ "$rc1" != "$rcj" ]; then
            echo "FAIL $name: exit status -j 1 = $rc1, -j $j = $rcj"
            ok=0
        fi
        if [ ! -s "$tmp/$name.j1.csv" ] || [ ! -s "$tmp/$name.j$j.csv" ]; then
            echo "FAIL $name: missing or empty output"
            ok=0
        elif ! cmp "$tmp/$name.j1.csv" "$tmp/$name.j$j.csv"; then
            echo "FAIL $name: -j 1 and -j $j outputs differ"
            diff <(tr -d '\r' <"$tmp/$name.j1.csv") <(tr -d '\r' <"$tmp/$name.j$j.csv") \
                | head -n 20 | sed 's/^/    /'
            ok=0
        fi
    done
    if [ $ok = 1 ] && [ "$(wc -l <"$tmp/$name.j1.csv")" -lt 100 ]; then
        echo "FAIL $name: only $(wc -l <"$tmp/$name.j1.csv") lines for a whole corpus"
        ok=0
    fi
    if [ $ok = 1 ]; then
        echo "ok   $name: $(($(wc -l <"$tmp/$name.j1.csv") - 1)) rows, exit $rc1"
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
    fi
}

SECONDS=0
check corpus set_all
check corpus-w60 set_all -w 60
check dirs set_dirs
check dirs-w60 set_dirs -w 60
echo "$pass passed, $fail failed (${SECONDS}s)"
[ "$fail" -eq 0 ]
