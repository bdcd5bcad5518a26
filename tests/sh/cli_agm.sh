#!/usr/bin/env bash
# netagm agm: inputs (files, gz, zst, stdin, directories, spaces), bad input
# handling and exit codes, output selection, --help.
. "$NETAGM_SRC/tests/lib.sh"
P=$NETAGM_PCAPS

F1="$P/appneta__tcpreplay/test/test.pcap"
F2="$P/CESNET__ipfixprobe/tests/functional/inputs/mixed.pcap"
for f in "$F1" "$F2"; do [ -f "$f" ] || { echo "missing corpus file $f"; exit 1; }; done

# plain reference output
"$NETAGM" agm -q -r "$F1" -o "$TMP/ref1.csv"; check "plain file exit 0" test $? -eq 0
check "CSV has a header and CRLF line ends" bash -c "head -n 1 '$TMP/ref1.csv' | grep -q \$'^window_start,window_end,src_ip,pkts,.*len_mode_pkts\r\$'"

# compressed copies and stdin give the same rows
gzip -c "$F1" > "$TMP/c.pcap.gz"
"$NETAGM" agm -q -r "$TMP/c.pcap.gz" -o "$TMP/gz.csv"
check "gzip input equals plain" cmp -s "$TMP/ref1.csv" "$TMP/gz.csv"
if command -v zstd >/dev/null; then
    zstd -q -c "$F1" > "$TMP/c.zst"
    "$NETAGM" agm -q -r "$TMP/c.zst" -o "$TMP/zst.csv"
    check "zstd input equals plain" cmp -s "$TMP/ref1.csv" "$TMP/zst.csv"
fi
"$NETAGM" agm -q -r - -o - < "$F1" > "$TMP/stdin.csv"
check "stdin equals plain" cmp -s "$TMP/ref1.csv" "$TMP/stdin.csv"
gzip -c "$F1" | "$NETAGM" agm -q -r - -o "$TMP/stdin-gz.csv"
check "gzip on stdin equals plain" cmp -s "$TMP/ref1.csv" "$TMP/stdin-gz.csv"

# directories: recursive, name order, spaces in names; equals listing files
mkdir -p "$TMP/dir with space/sub dir"
cp "$F1" "$TMP/dir with space/b file.pcap"
cp "$F2" "$TMP/dir with space/sub dir/a.pcap"
"$NETAGM" agm -q -r "$TMP/dir with space" -o "$TMP/dir.csv"
"$NETAGM" agm -q -r "$F1" -r "$F2" -o "$TMP/two.csv"
check "directory equals the files given one by one" cmp -s "$TMP/dir.csv" "$TMP/two.csv"

# formats by extension and --format
"$NETAGM" agm -q -r "$F1" -o "$TMP/o.jsonl"
check "jsonl rows = csv rows" test "$(wc -l < "$TMP/o.jsonl")" -eq "$(($(wc -l < "$TMP/ref1.csv") - 1))"
check "jsonl keys in column order" grep -q '^{"window_start":"[^"]*Z","window_end":"[^"]*","src_ip":"[^"]*","pkts":[0-9]*,"dst_ip_uniq":' "$TMP/o.jsonl"
"$NETAGM" agm -q -r "$F1" --format jsonl -o - > "$TMP/o2.jsonl"
check "--format jsonl to stdout" cmp -s "$TMP/o.jsonl" "$TMP/o2.jsonl"

# bad input: a non-capture, a truncated copy; other files still counted
printf 'this is not a capture file at all\n' > "$TMP/junk.pcap"
head -c 3000 "$F1" > "$TMP/trunc.pcap"
"$NETAGM" agm -q -r "$TMP/junk.pcap" -r "$F1" -o "$TMP/bad.csv" 2> "$TMP/bad.err"; rc=$?
check "non-capture: exit 3" test $rc -eq 3
check "non-capture: error names file and offset" grep -q "junk.pcap.*offset 0" "$TMP/bad.err"
check "non-capture: other file's rows kept" cmp -s "$TMP/bad.csv" "$TMP/ref1.csv"
"$NETAGM" agm -q -r "$TMP/trunc.pcap" -o "$TMP/trunc.csv" 2> "$TMP/trunc.err"; rc=$?
check "truncated: exit 3" test $rc -eq 3
check "truncated: error names file and offset" grep -q "trunc.pcap.*offset [1-9][0-9]*" "$TMP/trunc.err"
check "truncated: packets before the cut still count" test "$(wc -l < "$TMP/trunc.csv")" -ge 2
"$NETAGM" agm -q --strict -r "$TMP/junk.pcap" -r "$F1" -o "$TMP/strict.csv" 2>/dev/null; rc=$?
check "--strict: exit 1 at the first bad file" test $rc -eq 1
"$NETAGM" agm -q -r "$TMP/missing.pcap" -o "$TMP/m.csv" 2> "$TMP/m.err"; rc=$?
check "missing input: nonzero exit and message" bash -c "[ $rc -ne 0 ] && grep -q missing.pcap '$TMP/m.err'"

# unwritable output fails before any work (no stats file written, exit 1)
"$NETAGM" agm -q -r "$F1" -o "$TMP/no/such/dir/out.csv" 2> "$TMP/w.err"; rc=$?
check "unwritable output: exit 1" test $rc -eq 1
check "unwritable output: message names the path" grep -q "no/such/dir/out.csv" "$TMP/w.err"

# A disk that fills while rows go out window by window (more rows than the
# 1 MiB output buffer): exit 1 and one message, about the write.
"$NETAGM_BUILD/bench/netagm-gen" -q --packets 40000 --sources 5000 --corpus "$P" -o "$TMP/g40k.pcap"
"$NETAGM" agm -q -w 1 -r "$TMP/g40k.pcap" -o /dev/full 2> "$TMP/full.err"; rc=$?
check "full disk while writing windows: exit 1, one message naming the write" \
    test $rc -eq 1 -a "$(wc -l < "$TMP/full.err")" -eq 1 -a "$(grep -c 'writing /dev/full failed' "$TMP/full.err")" -eq 1
"$NETAGM" agm -q -w 1 -r "$TMP/g40k.pcap" -o "$TMP/w1.csv"
check "that run has enough rows to fill the buffer" test "$(wc -c < "$TMP/w1.csv")" -gt 2000000

# usage errors
"$NETAGM" agm -r "$F1" --bpf 'this is not bpf (' -o /dev/null 2>/dev/null; rc=$?
check "bad BPF: exit 2" test $rc -eq 2
"$NETAGM" agm -r "$F1" -w -5 2>/dev/null; check "bad -w: exit 2" test $? -eq 2
"$NETAGM" agm 2>/dev/null; check "no -r: exit 2" test $? -eq 2
"$NETAGM" agm --help | grep -q "usage: netagm agm"; check "agm --help" test $? -eq 0
"$NETAGM" help | grep -q "agm"; check "netagm help lists commands" test $? -eq 0
"$NETAGM" nosuchcmd 2>/dev/null; check "unknown command: exit 2" test $? -eq 2

# statistics JSON accounts for every frame
"$NETAGM" agm -q -r "$F1" --proto udp --stats-json "$TMP/st.json" -o /dev/null
check "stats json: frames = counted + skipped + filtered" python3 - "$TMP/st.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
tot = s["counted"] + sum(s["skipped"].values()) + s["filtered_bpf"] + s["filtered_proto"]
sys.exit(0 if tot == s["frames"] and s["frames"] > 0 else 1)
PY
finish
