#!/usr/bin/env bash
# make demo: the whole pipeline on the bundled sample capture.
#   captures -> AGM table -> Numerical AGM -> scaler -> PCA -> clusters -> report
# usage: scripts/demo.sh [path/to/netagm]     (default: build/netagm)
set -euo pipefail
cd "$(dirname "$0")/.."
NETAGM=${1:-build/netagm}
SAMPLE=data/sample.pcap
OUT=${NETAGM_DEMO_OUT:-out/demo}   # the tests point it elsewhere

if [ ! -x "$NETAGM" ]; then
    echo "demo: $NETAGM not found; run make first" >&2
    exit 1
fi
if [ ! -f "$SAMPLE" ]; then
    # The sample is checked in; rebuild it when the corpus is at hand.
    if [ -d ../shared/data/pcaps ]; then
        python3 scripts/make_sample.py >/dev/null
    else
        echo "demo: $SAMPLE is missing (scripts/make_sample.py rebuilds it from the corpus)" >&2
        exit 1
    fi
fi
mkdir -p "$OUT"

echo "== netagm demo: $SAMPLE ($(wc -c <"$SAMPLE") bytes)"
echo
# 1. AGM records of every source (all protocols), as netagm agm writes them.
"$NETAGM" agm -q -r "$SAMPLE" -o "$OUT/agm_all.csv" --stats-json "$OUT/agm_stats.json"
rows=$(($(wc -l <"$OUT/agm_all.csv") - 1))
first=$(awk -F, 'NR == 2 {print $1}' "$OUT/agm_all.csv")
last=$(awk -F, 'NR == 2 {print $2}' "$OUT/agm_all.csv")
pkts=$(awk -F, 'NR > 1 {s += $4} END {print s}' "$OUT/agm_all.csv")
echo "AGM table (all protocols): $rows sources, $pkts packets, $first to $last"
echo "Top sources by packets:"
# (awk, not head, ends the pipe: with pipefail an early close would fail it)
awk -F, 'NR > 1' "$OUT/agm_all.csv" | tr -d '\r' | sort -t, -k4,4nr -k3,3 | awk -F, '
    function fl(f,   s, i, n) {
        split("FIN SYN RST PSH ACK URG ECE CWR", n, " "); s = ""
        for (i = 1; i <= 8; i++) if (int(f / 2 ^ (i - 1)) % 2) s = s (s == "" ? "" : "+") n[i]
        return s == "" ? "-" : s
    }
    BEGIN { printf "  %-16s %6s %6s %6s %9s %9s  %s\n", "source", "pkts", "hosts", "ports",
                   "src port", "dst port", "flags" }
    NR <= 5 { printf "  %-16s %6s %6s %6s %9s %9s  %s\n", $3, $4, $5, $11, $9, $12, fl($21) }'
echo

# 2. The analysis: TCP packets only (as in the paper), bisecting k-means, k=4.
echo "Analysis (netagm analyze -r $SAMPLE --out $OUT):"
"$NETAGM" analyze -r "$SAMPLE" --out "$OUT" --nagm --save-agm \
    --title "netagm demo: the bundled sample" 2>"$OUT/analyze.log" | sed 's/^/  /'
echo

# 3. Apply the saved model to the analysed AGM table, as stream mode does with
#    each closed window: it reproduces the training assignments exactly.
"$NETAGM" apply -q --model "$OUT/model.json" --agm "$OUT/agm.csv" -o "$OUT/applied.csv"
if cmp -s "$OUT/applied.csv" "$OUT/assignments.csv"; then
    echo "netagm apply with model.json reproduces assignments.csv exactly"
else
    echo "demo: netagm apply disagrees with the training assignments" >&2
    exit 1
fi
echo
echo "Outputs in $OUT/:"
for f in agm_all.csv agm.csv model.json assignments.csv nagm.csv report.html; do
    printf '  %-16s %8s bytes\n' "$f" "$(wc -c <"$OUT/$f")"
done
echo
echo "Report: $(cd "$OUT" && pwd)/report.html"
