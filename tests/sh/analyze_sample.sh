#!/usr/bin/env bash
# The bundled sample and make demo: scripts/make_sample.py rebuilds
# data/sample.pcap byte for byte from the corpus; the sample holds hundreds
# of TCP sources with scanners among them; scripts/demo.sh runs the whole
# pipeline (captures -> AGM -> analysis -> report) and prints its summary.
. "$NETAGM_SRC/tests/lib.sh"
S="$NETAGM_SRC/data/sample.pcap"
check "data/sample.pcap is checked in" test -s "$S"
check "data/sample.pcap is under 1 MiB" test "$(wc -c < "$S")" -lt 1048576
if [ -f "$NETAGM_PCAPS/arkime__arkime/tests/pcap/arkime_synthetic.pcap" ]; then
    python3 "$NETAGM_SRC/scripts/make_sample.py" --corpus "$NETAGM_PCAPS" --out "$TMP/sample.pcap" > /dev/null
    check "make_sample.py rebuilds data/sample.pcap byte for byte" cmp "$TMP/sample.pcap" "$S"
else
    echo "SKIP: corpus not found; the sample's regeneration was not checked"
fi
if command -v tshark > /dev/null; then
    # an independent reader: hundreds of TCP sources, SYN-only senders among them
    tshark -r "$S" -Y tcp -T fields -e ip.src 2>/dev/null | sort -u > "$TMP/src.txt"
    check "the sample holds hundreds of TCP sources ($(wc -l < "$TMP/src.txt"))" test "$(wc -l < "$TMP/src.txt")" -ge 300
    tshark -r "$S" -Y 'tcp.flags == 0x002' -T fields -e ip.src -e ip.dst -e tcp.dstport 2>/dev/null > "$TMP/syn.txt"
    { cut -f1,2 "$TMP/syn.txt" | sort -u | cut -f1 | uniq -c | awk '$1 >= 10 {print $2}'
      cut -f1,3 "$TMP/syn.txt" | sort -u | cut -f1 | uniq -c | awk '$1 >= 10 {print $2}'; } |
        sort -u | wc -l > "$TMP/scanners.txt"
    check "the sample holds scanners (SYN to >= 10 hosts or ports: $(cat "$TMP/scanners.txt"))" test "$(cat "$TMP/scanners.txt")" -ge 20
fi

NETAGM_DEMO_OUT="$TMP/demo" bash "$NETAGM_SRC/scripts/demo.sh" "$NETAGM" > "$TMP/demo.out" 2>&1
rc=$?
check "scripts/demo.sh exit 0" test $rc -eq 0
[ $rc -eq 0 ] || cat "$TMP/demo.out"
check "demo prints the top sources" grep -q '^Top sources by packets' "$TMP/demo.out"
check "demo prints the clusters" grep -q 'clusters: 4 (bisecting k-means' "$TMP/demo.out"
check "demo names a scanner cluster" grep -qi 'scanners' "$TMP/demo.out"
check "demo prints the path of report.html" grep -q "^Report: .*/report.html" "$TMP/demo.out"
check "demo wrote the report" test -s "$TMP/demo/report.html"
check "demo checked apply against the training" grep -q 'reproduces assignments.csv exactly' "$TMP/demo.out"
finish
