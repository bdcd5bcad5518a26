#!/usr/bin/env bash
# Golden test: `netagm agm` on real captures against AGM tables computed
# independently from tshark's dissection (tests/golden/expected/, produced by
# tests/golden/regen.sh with tests/golden/tshark_agm.py, never by netagm).
#
# For every case of tests/golden/TESTLIST ("name path [options...]", path
# relative to $NETAGM_PCAPS) it runs
#     $NETAGM agm -r $NETAGM_PCAPS/<path> <options> -o <tmp>.csv
# and requires the CSV to be byte-identical to expected/<name>.csv and the exit
# status to equal expected/<name>.exit (0 clean, 3 damaged input).
#
# Environment: NETAGM (CLI binary), NETAGM_PCAPS (corpus), NETAGM_SRC (repo).
# GOLDEN_ONLY=regex runs only the matching case names.
set -u

src=${NETAGM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
gold=$src/tests/golden
: "${NETAGM:?NETAGM must name the netagm binary}"
: "${NETAGM_PCAPS:?NETAGM_PCAPS must name the capture corpus}"

if [ ! -x "$NETAGM" ]; then
    echo "golden: $NETAGM is not an executable" >&2
    exit 1
fi
if [ ! -d "$NETAGM_PCAPS" ]; then
    echo "golden: corpus $NETAGM_PCAPS not found" >&2
    exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass=0
fail=0
failed=()
# shellcheck disable=SC2162  # "\ " in a path is an escaped space
while read name path opts; do
    case $name in ''|'#'*) continue ;; esac
    if [ -n "${GOLDEN_ONLY:-}" ] && ! [[ $name =~ $GOLDEN_ONLY ]]; then
        continue
    fi
    exp=$gold/expected/$name.csv
    want_rc=0
    [ -f "$gold/expected/$name.exit" ] && want_rc=$(cat "$gold/expected/$name.exit")
    out=$tmp/$name.csv
    # shellcheck disable=SC2086  # options are split on purpose
    "$NETAGM" agm -r "$NETAGM_PCAPS/$path" $opts -o "$out" >"$tmp/$name.stdout" 2>"$tmp/$name.stderr"
    rc=$?
    problems=()
    if [ ! -f "$exp" ]; then
        problems+=("no expected file $exp (run tests/golden/regen.sh)")
    elif [ ! -f "$out" ]; then
        problems+=("netagm wrote no output")
    elif ! cmp -s "$exp" "$out"; then
        problems+=("CSV differs from expected")
    fi
    if [ "$rc" != "$want_rc" ]; then
        problems+=("exit status $rc, expected $want_rc")
    fi
    if [ ${#problems[@]} -eq 0 ]; then
        pass=$((pass + 1))
        continue
    fi
    fail=$((fail + 1))
    failed+=("$name")
    echo "FAIL $name: $path $opts"
    for p in "${problems[@]}"; do echo "    $p"; done
    if [ -f "$exp" ] && [ -f "$out" ] && ! cmp -s "$exp" "$out"; then
        # CR stripped so the diff is readable; a CR-only difference still shows
        # as a cmp failure above and in the line-end check below.
        diff -u --label "expected/$name.csv" --label "netagm" \
            <(tr -d '\r' <"$exp") <(tr -d '\r' <"$out") | head -n 60 | sed 's/^/    /'
        if command -v python3 >/dev/null; then
            python3 - "$exp" "$out" <<'PY' | head -n 20 | sed 's/^/    /'
import csv, sys
def load(p):
    with open(p, newline="") as f:
        rows = list(csv.reader(f))
    return (rows[0] if rows else []), {tuple(r[:3]): r for r in rows[1:]}
hx, ex = load(sys.argv[1])
hg, got = load(sys.argv[2])
if hx != hg:
    print("header differs")
for k in sorted(set(ex) | set(got)):
    if k not in got:
        print("row %s %s: missing in netagm output" % (k[2], k[0]))
    elif k not in ex:
        print("row %s %s: not expected" % (k[2], k[0]))
    elif ex[k] != got[k]:
        d = ["%s expected %s got %s" % (hx[i] if i < len(hx) else i, a, b)
             for i, (a, b) in enumerate(zip(ex[k], got[k])) if a != b]
        print("row %s %s: %s" % (k[2], k[0], "; ".join(d)))
PY
        fi
        if cmp -s <(tr -d '\r' <"$exp") <(tr -d '\r' <"$out"); then
            echo "    (only line ends differ: CSV lines must end in CRLF)"
        fi
    fi
    if [ -s "$tmp/$name.stderr" ] && { [ "$rc" != "$want_rc" ] || [ ! -f "$out" ]; }; then
        echo "    netagm stderr:"
        head -n 10 "$tmp/$name.stderr" | sed 's/^/      /'
    fi
done <"$gold/TESTLIST"

echo "$pass passed, $fail failed"
if [ "$fail" -ne 0 ]; then
    echo "failed: ${failed[*]}"
    exit 1
fi
if [ "$pass" -eq 0 ]; then
    echo "golden: no test case ran" >&2
    exit 1
fi
exit 0
