#!/usr/bin/env bash
# netagm analyze at the edges: no TCP at all, an empty table, one source,
# fewer sources than k, identical rows. Each ends with a clear message, and
# whatever is written holds no NaN or Inf.
. "$NETAGM_SRC/tests/lib.sh"
S="$NETAGM_SRC/data/sample.pcap"
[ -f "$S" ] || { echo "missing $S"; exit 1; }

no_nan() { ! grep -qiE '(^|[^a-z])(nan|-?inf)([^a-z]|$)' "$@"; }
H=window_start,window_end,src_ip,pkts,dst_ip_uniq,dst_ip_mode,dst_ip_mode_pkts,src_port_uniq,src_port_mode,src_port_mode_pkts,dst_port_uniq,dst_port_mode,dst_port_mode_pkts,ttl_uniq,ttl_mode,ttl_mode_pkts,proto_uniq,proto_mode,proto_mode_pkts,flags_uniq,flags_mode,flags_mode_pkts,len_uniq,len_mode,len_mode_pkts
row() { # row SRC: one SYN to port 23, the same for every source
    echo "2024-03-01T10:00:00.000000Z,2024-03-01T10:10:00.000000Z,$1,1,1,10.1.0.1,1,1,40000,1,1,23,1,1,240,1,1,6,1,1,2,1,1,40,1"
}

# captures without a single TCP packet
"$NETAGM" analyze -r "$S" --bpf 'udp or icmp' --out "$TMP/e1" 2> "$TMP/e1.err" > /dev/null
check "no TCP packets: exit 1" test $? -eq 1
check "no TCP packets: says there is nothing to analyze" grep -q 'nothing to analyze: the input holds no TCP packets' "$TMP/e1.err"
check "no TCP packets: no model written" test ! -e "$TMP/e1/model.json"

# an empty table (header only), and one with only UDP sources
printf '%s\r\n' "$H" > "$TMP/empty.csv"
"$NETAGM" analyze --agm "$TMP/empty.csv" --out "$TMP/e2" 2> "$TMP/e2.err" > /dev/null
check "empty table: exit 1" test $? -eq 1
check "empty table: clear message" grep -q 'nothing to analyze: .*empty.csv holds no AGM rows' "$TMP/e2.err"
: > "$TMP/zero.csv"
"$NETAGM" analyze --agm "$TMP/zero.csv" --out "$TMP/e3" 2> "$TMP/e3.err" > /dev/null
check "zero-byte table: exit 1 with a message" bash -c "test $? -eq 1 && grep -q 'empty file' '$TMP/e3.err'"
{ printf '%s\r\n' "$H"; row 10.0.0.1 | sed 's/,1,6,1,1,2,/,1,17,1,1,0,/'; } > "$TMP/udp.csv"
"$NETAGM" analyze --agm "$TMP/udp.csv" --out "$TMP/e4" 2> "$TMP/e4.err" > /dev/null
check "UDP-only table: exit 1, points at --all-protos" bash -c "test $? -eq 1 && grep -q 'none of the 1 rows .* has TCP packets (--all-protos' '$TMP/e4.err'"

# a single source
"$NETAGM" analyze -q -r "$S" --bpf 'src host 10.1.0.30' --out "$TMP/one"
check "one source: exit 0" test $? -eq 0
check "one source: one cluster" grep -q '"k":[[:space:]]*1,' "$TMP/one/model.json"
check "one source: the model says why" grep -q '"note":[[:space:]]*"found 1 of 4 clusters' "$TMP/one/model.json"
check "one source: distance 0" bash -c "awk -F, 'NR == 2 {exit !(\$4 == 0 && \$5 == 0)}' '$TMP/one/assignments.csv'"
check "one source: no NaN or Inf" no_nan "$TMP/one/model.json" "$TMP/one/assignments.csv" "$TMP/one/report.html"
check "one source: the report has one profile" test "$(grep -c 'class="card" id="cluster-' "$TMP/one/report.html")" -eq 1

# fewer sources than k
"$NETAGM" analyze -r "$S" --bpf 'src host 10.1.0.30 or src host 10.1.0.21 or src host 198.51.100.7 or src host 10.1.0.10' -k 6 --out "$TMP/few" > "$TMP/few.out" 2>/dev/null
check "fewer sources than k: exit 0" test $? -eq 0
n=$(($(wc -l < "$TMP/few/assignments.csv") - 1))
check "fewer sources than k: as many clusters as sources ($n)" grep -q "\"k\":[[:space:]]*$n," "$TMP/few/model.json"
check "fewer sources than k: the summary says so" grep -q "note: found $n of 6 clusters" "$TMP/few.out"
check "fewer sources than k: no NaN or Inf" no_nan "$TMP/few/model.json" "$TMP/few/assignments.csv" "$TMP/few/report.html"
for m in kmeans meanshift; do
    "$NETAGM" analyze -q -r "$S" --bpf 'src host 10.1.0.30 or src host 10.1.0.21' --cluster $m --out "$TMP/few-$m"
    check "two sources, $m: exit 0, no NaN" bash -c "test $? -eq 0 && ! grep -qiE '(^|[^a-z])(nan|-?inf)([^a-z]|$)' '$TMP/few-$m/model.json' '$TMP/few-$m/assignments.csv'"
done

# identical rows (different sources, same behaviour)
{ printf '%s\r\n' "$H"; for i in 1 2 3 4 5; do row 198.51.100.$i; done; } > "$TMP/same.csv"
for m in bisecting kmeans meanshift; do
    "$NETAGM" analyze -q --agm "$TMP/same.csv" --cluster $m --out "$TMP/same-$m"
    check "identical rows, $m: exit 0" test $? -eq 0
    check "identical rows, $m: one cluster" grep -q '"k":[[:space:]]*1,' "$TMP/same-$m/model.json"
    check "identical rows, $m: no NaN or Inf" no_nan "$TMP/same-$m/model.json" "$TMP/same-$m/assignments.csv" "$TMP/same-$m/report.html"
    check "identical rows, $m: all explained variance 0" bash -c "/usr/bin/python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); sys.exit(any(m[\"pca\"][\"explained_variance_ratio\"]))' '$TMP/same-$m/model.json'"
done

# a damaged table names the line
{ printf '%s\r\n' "$H"; row 10.0.0.1; echo "garbage,line"; } > "$TMP/bad.csv"
"$NETAGM" analyze --agm "$TMP/bad.csv" --out "$TMP/e5" 2> "$TMP/e5.err" > /dev/null
check "damaged table: exit 1, names file and line" bash -c "test $? -eq 1 && grep -q 'bad.csv: line 3' '$TMP/e5.err'"
finish
