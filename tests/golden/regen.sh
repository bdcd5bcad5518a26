#!/usr/bin/env bash
# Regenerate tests/golden/expected/ from tshark, for every case of TESTLIST.
#
#   tests/golden/regen.sh [NAME_REGEX]
#
# Writes expected/<name>.csv (the AGM table) and expected/<name>.exit (0, or 3
# when tshark reports the capture as damaged or cut short), using
# tshark_agm.py only. netagm is never run here: the expected files must come
# from an independent path (see README.md). Needs tshark (4.0 was used for
# the checked-in files) and python3. NETAGM_PCAPS defaults to the shared corpus.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
pcaps=${NETAGM_PCAPS:-$here/../../../shared/data/pcaps}
only=${1:-}
mkdir -p "$here/expected"

echo "tshark: $(tshark --version 2>/dev/null | head -n 1)"
n=0
bad=0
# shellcheck disable=SC2162  # "\ " in a path is an escaped space
while read name path opts; do
    case $name in ''|'#'*) continue ;; esac
    if [ -n "$only" ] && ! [[ $name =~ $only ]]; then
        continue
    fi
    refopts=()
    # shellcheck disable=SC2086  # options are split on purpose
    set -- $opts
    while [ $# -gt 0 ]; do
        case $1 in
            -w) refopts+=(-w "$2"); shift 2 ;;
            -j) shift 2 ;;              # threads do not change the result
            *) echo "regen: $name: option $1 unknown to the reference" >&2; bad=1; shift ;;
        esac
    done
    rc=0
    python3 "$here/tshark_agm.py" -r "$pcaps/$path" "${refopts[@]}" \
        -o "$here/expected/$name.csv.tmp" || rc=$?
    if [ "$rc" != 0 ] && [ "$rc" != 3 ]; then
        echo "regen: $name: reference failed (exit $rc)" >&2
        rm -f "$here/expected/$name.csv.tmp"
        bad=1
        continue
    fi
    mv "$here/expected/$name.csv.tmp" "$here/expected/$name.csv"
    echo "$rc" >"$here/expected/$name.exit"
    rows=$(($(wc -l <"$here/expected/$name.csv") - 1))
    printf '%-40s %6d rows  exit %s\n' "$name" "$rows" "$rc"
    n=$((n + 1))
done <"$here/TESTLIST"
echo "$n expected files written"
exit $bad
