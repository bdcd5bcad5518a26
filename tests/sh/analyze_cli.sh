#!/usr/bin/env bash
# netagm analyze and apply on real captures: the results directory, the
# report's figures and profiles, apply reproducing the training assignments
# exactly (from the table and from the captures), every clustering method,
# table input in CSV and JSON Lines, the TCP-only rule, usage errors.
. "$NETAGM_SRC/tests/lib.sh"
P=$NETAGM_PCAPS
F1="$P/RIPE-NCC__hadoop-pcap/hadoop-pcap-lib/src/test/resources/reversedtest.pcap"
F2="$P/arkime__arkime/tests/pcap/arkime_synthetic.pcap"
F3="$P/markofu__pcaps/PracticalPacketAnalysis/ppa-capture-files/dosattack.pcap"
for f in "$F1" "$F2" "$F3"; do [ -f "$f" ] || { echo "missing corpus file $f"; exit 1; }; done
IN=(-r "$F1" -r "$F2" -r "$F3")

no_nan() { ! grep -qiE '(^|[^a-z])(nan|-?inf)([^a-z]|$)' "$@"; }
# number of clusters in a model, and the one-line JSON value of a key
nclusters() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["clustering"]["k"])' "$1"; }

"$NETAGM" analyze -q "${IN[@]}" --out "$TMP/r" --save-agm --nagm
check "analyze exit 0" test $? -eq 0
for f in model.json assignments.csv report.html nagm.csv agm.csv; do
    check "results hold $f" test -s "$TMP/r/$f"
done
k=$(nclusters "$TMP/r/model.json")
check "default: 4 clusters (bisecting, as in the paper)" test "$k" -eq 4
check "model names its method and version" grep -q '"method":[[:space:]]*"bisecting"' "$TMP/r/model.json"
check "model keeps the bisecting tree" grep -q '"tree":' "$TMP/r/model.json"
rows=$(($(wc -l < "$TMP/r/agm.csv") - 1))
check "one assignment per AGM row ($rows)" test "$(($(wc -l < "$TMP/r/assignments.csv") - 1))" -eq "$rows"
check "assignments header" bash -c "head -1 '$TMP/r/assignments.csv' | grep -q '^src_ip,window_start,window_end,cluster,distance,pc1,pc2,pc3,pkts,dst_ip_uniq,'"
check "nagm.csv has 51 feature columns" test "$(head -1 "$TMP/r/nagm.csv" | tr ',' '\n' | wc -l)" -eq 53
check "no NaN or Inf in any output" no_nan "$TMP/r/model.json" "$TMP/r/assignments.csv" "$TMP/r/report.html"
# every row of the table went through --proto tcp
check "AGM rows are TCP only" bash -c "awk -F, 'NR > 1 && (\$17 != 1 || \$18 != 6)' '$TMP/r/agm.csv' | grep -q . && exit 1 || exit 0"

# the report
R="$TMP/r/report.html"
check "report: Fig. 2a" grep -q 'id="fig2a"' "$R"
check "report: Fig. 2b" grep -q 'id="fig2b"' "$R"
check "report: Fig. 3 with explained variance on the axes" grep -q 'PC1 ([0-9.]* % of variance)' "$R"
check "report: explained variance table" grep -q 'id="variance"' "$R"
check "report: one profile per cluster" test "$(grep -c 'class="card" id="cluster-' "$R")" -eq "$k"
for c in $(seq 0 $((k - 1))); do
    check "report: profile of cluster $c" grep -q "id=\"cluster-$c\"" "$R"
done
check "report: run statistics" grep -q 'id="run"' "$R"
check "report: three inline SVG charts" test "$(grep -c '<svg ' "$R")" -ge 3
check "report: no script, no external resource" bash -c "! grep -qiE '<script|src=\"http|href=\"http|@import|url\\(' '$R'"

# apply reproduces the training assignments exactly
"$NETAGM" apply -q --model "$TMP/r/model.json" --agm "$TMP/r/agm.csv" -o "$TMP/applied.csv"
check "apply exit 0" test $? -eq 0
check "apply on the training table reproduces assignments.csv byte for byte" cmp "$TMP/applied.csv" "$TMP/r/assignments.csv"
"$NETAGM" apply -q --model "$TMP/r/model.json" "${IN[@]}" -o "$TMP/applied2.csv"
check "apply on the training captures reproduces assignments.csv" cmp "$TMP/applied2.csv" "$TMP/r/assignments.csv"
"$NETAGM" apply -q --model "$TMP/r/model.json" --agm - < "$TMP/r/agm.csv" > "$TMP/applied3.csv"
check "apply from stdin to stdout" cmp "$TMP/applied3.csv" "$TMP/r/assignments.csv"

# the same analysis from the table (CSV and JSON Lines) gives the same model
"$NETAGM" agm -q --proto tcp "${IN[@]}" -o "$TMP/t.jsonl"
"$NETAGM" analyze -q --agm "$TMP/r/agm.csv" --out "$TMP/rc" --no-report
"$NETAGM" analyze -q --agm "$TMP/t.jsonl" --out "$TMP/rj" --no-report
check "table input (CSV) gives the same assignments" cmp "$TMP/rc/assignments.csv" "$TMP/r/assignments.csv"
check "table input (JSON Lines) gives the same assignments" cmp "$TMP/rj/assignments.csv" "$TMP/r/assignments.csv"
check "table input gives the same model" bash -c "diff <(grep -v -e '\"created\"' -e '\"seconds\"' -e '\"input\"' '$TMP/rc/model.json') <(grep -v -e '\"created\"' -e '\"seconds\"' -e '\"input\"' '$TMP/r/model.json')"

# a table with every protocol: sources without TCP are dropped, with a word
"$NETAGM" agm -q "${IN[@]}" -o "$TMP/all.csv"
"$NETAGM" analyze --agm "$TMP/all.csv" --out "$TMP/ra" --no-report > /dev/null 2> "$TMP/ra.err"
check "all-protocol table: non-TCP sources dropped, said on stderr" grep -q 'dropped [0-9]* of [0-9]* rows: sources with no TCP' "$TMP/ra.err"
check "all-protocol table: mixed rows warned about" grep -q 'mix TCP with other protocols' "$TMP/ra.err"
"$NETAGM" analyze -q --agm "$TMP/all.csv" --all-protos --out "$TMP/rb" --no-report
check "--all-protos keeps every row" test "$(wc -l < "$TMP/rb/assignments.csv")" -eq "$(wc -l < "$TMP/all.csv")"
check "--all-protos is recorded in the model" grep -q '"tcp_only":[[:space:]]*false' "$TMP/rb/model.json"

# the methods, seeds and spaces
"$NETAGM" analyze -q "${IN[@]}" --cluster kmeans -k 6 --seed 7 --out "$TMP/km" --no-report
check "kmeans -k 6: 6 clusters" test "$(nclusters "$TMP/km/model.json")" -eq 6
"$NETAGM" analyze -q "${IN[@]}" --cluster kmeans -k 6 --seed 7 --out "$TMP/km2" --no-report --threads 1
check "same seed, same input (1 thread vs default): same assignments" cmp "$TMP/km/assignments.csv" "$TMP/km2/assignments.csv"
"$NETAGM" analyze -q "${IN[@]}" --cluster meanshift --out "$TMP/ms"
check "meanshift runs and estimates a bandwidth" grep -q '"bandwidth":[[:space:]]*[0-9]' "$TMP/ms/model.json"
check "meanshift report has one profile per cluster" test "$(grep -c 'class="card" id="cluster-' "$TMP/ms/report.html")" -eq "$(nclusters "$TMP/ms/model.json")"
"$NETAGM" analyze -q "${IN[@]}" --cluster meanshift --bandwidth 3 --out "$TMP/ms3" --no-report
check "--bandwidth overrides the estimate" grep -q '"bandwidth":[[:space:]]*3,' "$TMP/ms3/model.json"
"$NETAGM" analyze -q "${IN[@]}" --cluster-on pcs --pca 5 --out "$TMP/pc" --no-report
check "--cluster-on pcs --pca 5: clustering in 5 dimensions" grep -q '"space":[[:space:]]*"pcs"' "$TMP/pc/model.json"
check "--pca 5: five PCs in the assignments" bash -c "head -1 '$TMP/pc/assignments.csv' | grep -q ',pc5,pkts,'"
"$NETAGM" apply -q --model "$TMP/pc/model.json" --agm "$TMP/r/agm.csv" -o "$TMP/pc.csv"
check "apply reproduces a PCA-space model too" cmp "$TMP/pc.csv" "$TMP/pc/assignments.csv"
"$NETAGM" apply -q --model "$TMP/ms/model.json" --agm "$TMP/r/agm.csv" -o "$TMP/ms.csv"
check "apply reproduces a mean shift model" cmp "$TMP/ms.csv" "$TMP/ms/assignments.csv"
"$NETAGM" analyze -q "${IN[@]}" --k-dst-port 4 --k-src-port 3 --k-flags 5 --out "$TMP/kk" --nagm --no-report
check "K per one-hot field: 15+3+4+5 columns" test "$(head -1 "$TMP/kk/nagm.csv" | tr ',' '\n' | wc -l)" -eq 29

# a damaged capture among the inputs: results written, exit 3
BAD="$P/markofu__pcaps/PracticalPacketAnalysis/ppa-capture-files/http-fault-post.pcap"
if [ -f "$BAD" ]; then
    "$NETAGM" analyze -q "${IN[@]}" -r "$BAD" --out "$TMP/bad" --no-report 2>/dev/null
    check "a damaged capture: exit 3 and results written" bash -c "test $? -eq 3 && test -s '$TMP/bad/assignments.csv'"
fi
"$NETAGM" analyze -q "${IN[@]}" --dump-nagm - --out "$TMP/dn" --no-report > "$TMP/dn.csv"
check "--dump-nagm - writes the matrix to stdout" cmp "$TMP/dn.csv" "$TMP/r/nagm.csv"

# usage errors
"$NETAGM" analyze --out "$TMP/x" 2>/dev/null; check "no input: exit 2" test $? -eq 2
"$NETAGM" analyze -r "$F1" --agm "$TMP/r/agm.csv" 2>/dev/null; check "-r and --agm: exit 2" test $? -eq 2
"$NETAGM" analyze -r "$F1" --cluster dbscan 2>/dev/null; check "unknown method: exit 2" test $? -eq 2
"$NETAGM" analyze -r "$F1" -k 0 2>/dev/null; check "-k 0: exit 2" test $? -eq 2
"$NETAGM" apply --agm "$TMP/r/agm.csv" 2>/dev/null; check "apply without a model: exit 2" test $? -eq 2
"$NETAGM" analyze --help | grep -q -- '--cluster-on'; check "analyze --help" test $? -eq 0
"$NETAGM" apply --help | grep -q -- '--model'; check "apply --help" test $? -eq 0
finish
