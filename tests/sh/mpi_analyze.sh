#!/usr/bin/env bash
# netagm analyze under MPI: on 1, 2, 3 and 4 ranks over real captures the
# model equals the single-process model (every number within 1e-9, same
# structure and categories) and assignments.csv is byte-identical, for
# bisecting k-means and k-means; also from an AGM table (--agm), with
# --cluster-on pcs, mean shift, ranks that get no rows, bad inputs, errors,
# and the commands that refuse to run under mpirun.
. "$NETAGM_SRC/tests/sh/mpi_lib.bash"

# Scan captures: 47,321 TCP sources, i.e. six of the ML layer's 8,192-row
# chunks, so that 2, 3 and 4 ranks all hold rows.
SCANS="$NETAGM_PCAPS/lucaderi__sgr/2022/Favilli/tests"
SMALL="$NETAGM_PCAPS/arkime__arkime/tests/pcap/arkime_synthetic.pcap" # 337 TCP sources
NOTCP="$NETAGM_PCAPS/CESNET__ipfixprobe/tests/functional/inputs/arp.pcap"
for f in "$SCANS" "$SMALL" "$NOTCP"; do [ -e "$f" ] || { echo "corpus missing: $f"; exit 1; }; done

# Every number of two models within 1e-9 (absolute or relative), the same
# keys, lengths and strings; the clock fields (created, training.seconds)
# are left out. Independent of netagm: Python's own JSON reader.
cat > "$TMP/same_model.py" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
skip = {("created",), ("training", "seconds")}
bad = []
def walk(x, y, path):
    where = "/".join(map(str, path))
    if tuple(path) in skip:
        return
    if isinstance(x, dict):
        if not isinstance(y, dict) or sorted(x) != sorted(y):
            bad.append(where + ": keys differ")
            return
        for k in x:
            walk(x[k], y[k], path + [k])
    elif isinstance(x, list):
        if not isinstance(y, list) or len(x) != len(y):
            bad.append(where + ": lengths differ")
            return
        for i, (u, v) in enumerate(zip(x, y)):
            walk(u, v, path + [i])
    elif isinstance(x, (bool, str)) or x is None:
        if type(x) is not type(y) or x != y:
            bad.append("%s: %r != %r" % (where, x, y))
    elif isinstance(x, (int, float)):
        if isinstance(y, bool) or not isinstance(y, (int, float)):
            bad.append(where + ": not a number")
        elif abs(x - y) > 1e-9 and abs(x - y) > 1e-9 * max(abs(x), abs(y)):
            bad.append("%s: %r != %r" % (where, x, y))
    else:
        bad.append(where + ": unexpected value")
walk(a, b, [])
if a.get("training", {}).get("rows", 0) < 1:
    bad.append("no training rows")
for m in bad[:5]:
    print(m)
sys.exit(1 if bad else 0)
PY
same_results() { # same_results WHAT REFDIR DIR
    check "$1: model.json equals the single-process model" \
        /usr/bin/python3 "$TMP/same_model.py" "$2/model.json" "$3/model.json"
    check "$1: assignments.csv byte-identical" cmp -s "$2/assignments.csv" "$3/assignments.csv"
}

# ---- captures, np 1..4, the paper's method and k-means -------------------------------
for method in bisecting kmeans; do
    "$NETAGM" analyze -q -r "$SCANS" --cluster $method --out "$TMP/ref-$method" --no-report
    check "$method: single-process reference (exit 0)" test $? -eq 0
    check "$method: the reference has four clusters" \
        grep -q '"k":[[:space:]]*4,' "$TMP/ref-$method/model.json"
    for np in 1 2 3 4; do
        mpi $np analyze -q -r "$SCANS" --cluster $method --out "$TMP/$method-$np" --no-report \
            > "$TMP/out" 2> "$TMP/err"
        rc=$?
        check "$method np=$np: exit 0" test $rc -eq 0
        same_results "$method np=$np" "$TMP/ref-$method" "$TMP/$method-$np"
    done
done

# ---- a table, windows, other options ------------------------------------------------
"$NETAGM" agm -q -r "$NETAGM_PCAPS" --proto tcp -w 60 -o "$TMP/all.csv" 2> /dev/null
check "table of the whole corpus (-w 60) has over 40,000 rows" \
    test "$(wc -l < "$TMP/all.csv")" -gt 40000
OPTS=(--agm "$TMP/all.csv" --cluster kmeans -k 8 --seed 3 --cluster-on pcs --pca 4)
"$NETAGM" analyze -q "${OPTS[@]}" --out "$TMP/ref-table" --nagm --no-report
for np in 2 4; do
    mpi $np analyze -q "${OPTS[@]}" --out "$TMP/table-$np" --nagm --no-report
    check "--agm, k-means on 4 PCs, np=$np: exit 0" test $? -eq 0
    same_results "--agm, k-means on 4 PCs, np=$np" "$TMP/ref-table" "$TMP/table-$np"
    check "--agm np=$np: nagm.csv byte-identical" cmp -s "$TMP/ref-table/nagm.csv" "$TMP/table-$np/nagm.csv"
done
"$NETAGM" analyze -q --agm "$TMP/all.csv" -k 6 --seed 9 --out "$TMP/ref-b6" --no-report
mpi 3 analyze -q --agm "$TMP/all.csv" -k 6 --seed 9 --out "$TMP/b6" --no-report
same_results "--agm, bisecting k=6, np=3" "$TMP/ref-b6" "$TMP/b6"

# Mean shift: rank 0 runs it over every rank's distinct points (with counts).
"$NETAGM" analyze -q -r "$SCANS" --cluster meanshift --quantile 0.05 --out "$TMP/ref-ms" --no-report
mpi 3 analyze -q -r "$SCANS" --cluster meanshift --quantile 0.05 --out "$TMP/ms" --no-report
same_results "mean shift, np=3" "$TMP/ref-ms" "$TMP/ms"

# ---- the report, statistics, few rows, bad inputs --------------------------------------
"$NETAGM" analyze -r "$SMALL" -r "$NETAGM_PCAPS/INVENTORY.tsv" --out "$TMP/ref-small" \
    > "$TMP/ref-small.out" 2> "$TMP/ref-small.err"
ref_rc=$?
check "few rows, a bad input: the reference exits 3" test $ref_rc -eq 3
mpi 3 analyze -r "$SMALL" -r "$NETAGM_PCAPS/INVENTORY.tsv" --out "$TMP/small" \
    > "$TMP/small.out" 2> "$TMP/small.err"
rc=$?
check "few rows (ranks 1 and 2 hold none), a bad input: exit 3 too" test $rc -eq 3
same_results "few rows, np=3" "$TMP/ref-small" "$TMP/small"
check "the bad input is named once, with the rank that read it" \
    test "$(grep -c '^netagm\[rank [0-2]\]: .*INVENTORY.tsv' "$TMP/small.err")" -eq 1
check "statistics printed once, for the whole job" \
    test "$(grep -c 'files read' "$TMP/small.err")" -eq 1
check "the MPI summary line" grep -q '^netagm: mpi: 3 ranks' "$TMP/small.err"
check "summary printed once" test "$(grep -c '^analysed ' "$TMP/small.out")" -eq 1
check "the summary equals the single-process one" \
    diff <(grep -v '^report:\|^wrote\|^      ' "$TMP/ref-small.out") \
         <(grep -v '^report:\|^wrote\|^      ' "$TMP/small.out")
check "report.html written, one profile per cluster" \
    test "$(grep -c 'class="card" id="cluster-' "$TMP/small/report.html")" -eq \
         "$(grep -c 'class="card" id="cluster-' "$TMP/ref-small/report.html")"

# ---- errors: one message, the launcher exits with rank 0's status ---------------------
mpi 3 analyze -q -r "$NOTCP" --out "$TMP/none" > /dev/null 2> "$TMP/none.err"
rc=$?
check "nothing to analyze: exit 1" test $rc -eq 1
check "nothing to analyze: said once" test "$(grep -c 'nothing to analyze' "$TMP/none.err")" -eq 1
check "nothing to analyze: no results" test ! -e "$TMP/none/model.json"
mpi 3 analyze -q --agm "$TMP/missing.csv" --out "$TMP/none" > /dev/null 2> "$TMP/miss.err"
rc=$?
check "unreadable table: exit 1, one message" \
    test $rc -eq 1 -a "$(grep -c 'missing.csv' "$TMP/miss.err")" -eq 1
mpi 3 analyze -q -r "$SMALL" --cluster nope --out "$TMP/none" > /dev/null 2> "$TMP/usage.err"
rc=$?
check "usage error: exit 2, one message" \
    test $rc -eq 2 -a "$(grep -c "expected bisecting" "$TMP/usage.err")" -eq 1
mpi 2 analyze --help > "$TMP/help.out" 2> /dev/null
check "--help printed once" test "$(grep -c '^usage: netagm analyze' "$TMP/help.out")" -eq 1

# The commands that do not run distributed refuse with one message.
for c in "extract -r $SMALL -o $TMP/x.csv" "apply --model $TMP/ref-small/model.json --agm $TMP/all.csv -o $TMP/a.csv"; do
    # shellcheck disable=SC2086
    mpi 2 $c > /dev/null 2> "$TMP/refuse.err"
    rc=$?
    check "mpirun netagm ${c%% *}: exit 2 with one message" \
        test $rc -eq 2 -a "$(grep -c 'does not run under MPI' "$TMP/refuse.err")" -eq 1
done

finish
