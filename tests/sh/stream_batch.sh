#!/usr/bin/env bash
# netagm stream agrees with netagm agm: for time-ordered real captures the
# rows of every window are byte-identical (files, stdin pipe, gzip on a pipe,
# several files and a directory, several window lengths); an out-of-order
# capture agrees once the lateness covers its disorder, and with no lateness
# its late packets are counted, never lost; outputs: JSONL on stdout, CSV
# and Parquet files, one file per window through a strftime pattern, several
# outputs at once; usage and input errors.
. "$NETAGM_SRC/tests/lib.sh"
P=$NETAGM_PCAPS
T() { timeout 120 "$@"; }

ORDERED=(
    "lucaderi__sgr/2025/Ciarfella/Catture/Subito.pcap"
    "lucaderi__sgr/2025/Piras/modbus_sample.pcap"
    "RIPE-NCC__hadoop-pcap/hadoop-pcap-lib/src/test/resources/reversedtest.pcap"
    "CESNET__ipfixprobe/tests/functional/inputs/mixed.pcap"
    "chrissanders__packets/ek_to_cryptowall4.pcapng"
    "lucaderi__sgr/2021/Esercitazioni/2/Gruppo9/DNS/dgapcap.pcapng"
)
for f in "${ORDERED[@]}"; do
    [ -f "$P/$f" ] || { echo "missing corpus file $P/$f"; exit 1; }
done

# ---- every ordered capture, several windows: file and pipe -------------------
for f in "${ORDERED[@]}"; do
    b=$(basename "$f")
    for w in 1 10 60; do
        T "$NETAGM" agm -q -r "$P/$f" -w $w --format jsonl -o "$TMP/batch.jsonl"
        T "$NETAGM" stream -q -r "$P/$f" -w $w -o - > "$TMP/stream.jsonl"; rc=$?
        check "$b -w $w: file: exit 0 and rows identical to batch" \
            bash -c "[ $rc -eq 0 ] && [ -s '$TMP/batch.jsonl' ] && cmp -s '$TMP/batch.jsonl' '$TMP/stream.jsonl'"
    done
    T "$NETAGM" agm -q -r "$P/$f" -w 10 --format jsonl -o "$TMP/batch.jsonl"
    cat "$P/$f" | T "$NETAGM" stream -q -r - -w 10 > "$TMP/pipe.jsonl"
    check "$b: stdin pipe identical to batch" cmp -s "$TMP/batch.jsonl" "$TMP/pipe.jsonl"
done

# gzip on a pipe; one window (no -w) over the whole input
F1="$P/${ORDERED[0]}"
T "$NETAGM" agm -q -r "$F1" --format jsonl -o "$TMP/one.jsonl"
gzip -c "$F1" | T "$NETAGM" stream -q -r - > "$TMP/one-s.jsonl"
check "gzip pipe, one window: identical to batch" cmp -s "$TMP/one.jsonl" "$TMP/one-s.jsonl"

# several files and a directory, in order
mkdir -p "$TMP/dir"
cp "$P/${ORDERED[2]}" "$TMP/dir/a.pcap"
cp "$P/${ORDERED[0]}" "$TMP/dir/b.pcap"
T "$NETAGM" agm -q -r "$TMP/dir" -w 30 --format jsonl -o "$TMP/dir-b.jsonl"
T "$NETAGM" stream -q -r "$TMP/dir" -w 30 > "$TMP/dir-s.jsonl"
check "directory of captures identical to batch" cmp -s "$TMP/dir-b.jsonl" "$TMP/dir-s.jsonl"
T "$NETAGM" stream -q -r "$TMP/dir/a.pcap" -r "$TMP/dir/b.pcap" -w 30 > "$TMP/two-s.jsonl"
check "two -r files identical to batch" cmp -s "$TMP/dir-b.jsonl" "$TMP/two-s.jsonl"

# filters go through the same step
T "$NETAGM" agm -q -r "$F1" -w 10 --proto udp --bpf 'not port 53' --format jsonl -o "$TMP/flt-b.jsonl"
T "$NETAGM" stream -q -r "$F1" -w 10 --proto udp --bpf 'not port 53' > "$TMP/flt-s.jsonl"
check "--proto and --bpf identical to batch" \
    bash -c "[ -s '$TMP/flt-b.jsonl' ] && cmp -s '$TMP/flt-b.jsonl' '$TMP/flt-s.jsonl'"

# ---- out-of-order capture: lateness and late packets ---------------------------
# A real capture with every 40th packet moved 400 packets later (several
# seconds late), as a capture merged from two interfaces can be.
U="$TMP/reordered.pcap"
python3 - "$P/${ORDERED[0]}" "$U" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
assert d[:4] == b"\xd4\xc3\xb2\xa1"
recs, off = [], 24
while off + 16 <= len(d):
    n = struct.unpack_from("<I", d, off + 8)[0]
    recs.append(d[off:off + 16 + n]); off += 16 + n
out = list(recs)
for i in range(0, len(recs) - 400, 40):
    out.remove(recs[i]); out.insert(out.index(recs[i + 400]) + 1, recs[i])
open(sys.argv[2], "wb").write(d[:24] + b"".join(out))
PY
T "$NETAGM" agm -q -r "$U" -w 5 --format jsonl -o "$TMP/u-b.jsonl"
T "$NETAGM" stream -q -r "$U" -w 5 --lateness 60 > "$TMP/u-s.jsonl"
check "out-of-order capture with enough lateness: identical to batch" cmp -s "$TMP/u-b.jsonl" "$TMP/u-s.jsonl"
T "$NETAGM" stream -q -r "$U" -w 5 --lateness 0 --stats-json "$TMP/u.json" > "$TMP/u0.jsonl"
check "no lateness: late packets counted, every frame accounted, none lost" \
    python3 - "$TMP/u.json" "$TMP/u0.jsonl" "$TMP/u-b.jsonl" <<'PY'
import json, sys
st = json.load(open(sys.argv[1]))
got = sum(json.loads(l)["pkts"] for l in open(sys.argv[2]))
want = sum(json.loads(l)["pkts"] for l in open(sys.argv[3]))
acc = st["counted"] + st["late"] + sum(st["skipped"].values()) + st["filtered_bpf"] + st["filtered_proto"]
ok = st["late"] > 0 and acc == st["frames"] and got == st["counted"] and got + st["late"] == want
print("late", st["late"], "rows pkts", got, "batch pkts", want)
sys.exit(0 if ok else 1)
PY

# ---- outputs ---------------------------------------------------------------------
F2="$P/${ORDERED[2]}"
T "$NETAGM" agm -q -r "$F2" -w 10 -o "$TMP/b.csv"
T "$NETAGM" agm -q -r "$F2" -w 10 --format jsonl -o "$TMP/b.jsonl"
mkdir -p "$TMP/win"
T "$NETAGM" stream -q -r "$F2" -w 10 -o "$TMP/s.csv" -o - -o "$TMP/win/%Y%m%d/%H%M%S.csv" \
    -o "$TMP/win/%Y%m%d/%H%M%S.parquet" > "$TMP/s-out.jsonl"; rc=$?
check "several outputs at once: exit 0" test $rc -eq 0
check "CSV file identical to batch CSV" cmp -s "$TMP/b.csv" "$TMP/s.csv"
check "stdout JSONL identical to batch" cmp -s "$TMP/b.jsonl" "$TMP/s-out.jsonl"
nwin=$(cut -d, -f1 "$TMP/b.csv" | tail -n +2 | sort -u | wc -l)
ncsv=$(find "$TMP/win" -name '*.csv' | wc -l)
check "one CSV file per window ($nwin windows)" test "$ncsv" -eq "$nwin"
check "no temporary files left" test "$(find "$TMP/win" -name '*.tmp' | wc -l)" -eq 0
(head -1 "$TMP/b.csv"; for f in $(find "$TMP/win" -name '*.csv' | sort); do tail -n +2 "$f"; done) > "$TMP/cat.csv"
check "per-window CSV files, concatenated, equal batch" cmp -s "$TMP/b.csv" "$TMP/cat.csv"
check "every per-window CSV file has the header" \
    bash -c "for f in \$(find '$TMP/win' -name '*.csv'); do head -1 \"\$f\" | grep -q '^window_start,' || exit 1; done"
first=$(find "$TMP/win" -name '*.csv' | sort | head -1)
want_name=$(head -2 "$TMP/b.csv" | tail -1 | cut -c1-19 | sed 's/-//g; s/://g; s/T/\//')
check "file name is the window start through the pattern" test "$first" = "$TMP/win/$want_name.csv"
npq=$(find "$TMP/win" -name '*.parquet' | wc -l)
check "one Parquet file per window" test "$npq" -eq "$nwin"
check "Parquet files are complete (PAR1 at both ends)" \
    bash -c "for f in \$(find '$TMP/win' -name '*.parquet'); do [ \"\$(head -c 4 \"\$f\")\" = PAR1 ] && [ \"\$(tail -c 4 \"\$f\")\" = PAR1 ] || exit 1; done"
T "$NETAGM" agm -q -r "$F2" -w 10 -o "$TMP/b.parquet"
T "$NETAGM" stream -q -r "$F2" -w 10 -o "$TMP/s.parquet"
check "single Parquet file identical to batch Parquet" cmp -s "$TMP/b.parquet" "$TMP/s.parquet"
# a coarser pattern collects several windows per file
T "$NETAGM" stream -q -r "$F2" -w 10 -o "$TMP/hour/%Y%m%d-%H.jsonl"
(for f in $(find "$TMP/hour" -name '*.jsonl' | sort); do cat "$f"; done) > "$TMP/hour.jsonl"
check "coarse pattern: windows collected in order" cmp -s "$TMP/b.jsonl" "$TMP/hour.jsonl"

# ---- errors ----------------------------------------------------------------------
printf 'this is not a capture, just some text\n' | T "$NETAGM" stream -r - -w 10 > "$TMP/g.out" 2> "$TMP/g.err"; rc=$?
check "garbage on stdin: exit 1" test $rc -eq 1
check "garbage on stdin: clear message" grep -q "stdin: offset 0: not a pcap or pcapng capture" "$TMP/g.err"
check "garbage on stdin: no rows" test ! -s "$TMP/g.out"
head -c 100000 "$F1" | T "$NETAGM" stream -q -r - -w 10 > "$TMP/cut.jsonl" 2> "$TMP/cut.err"; rc=$?
check "capture cut short on stdin: exit 3, damage named, rows before it kept" \
    bash -c "[ $rc -eq 3 ] && grep -q 'stdin: offset' '$TMP/cut.err' && [ -s '$TMP/cut.jsonl' ]"
T "$NETAGM" stream -w 10 2>/dev/null; check "no source: exit 2" test $? -eq 2
T "$NETAGM" stream -r "$F1" -i lo 2>/dev/null; check "two sources: exit 2" test $? -eq 2
T "$NETAGM" stream -r "$F1" -o "$TMP/no/such/dir/x.csv" 2> "$TMP/w.err"; rc=$?
check "unwritable output: exit 1, path named" bash -c "[ $rc -eq 1 ] && grep -q no/such/dir '$TMP/w.err'"
T "$NETAGM" stream -r "$F1" -o "$TMP/x.unknown" 2>/dev/null; check "unknown output format: exit 1" test $? -eq 1
T "$NETAGM" stream -r "$F1" --lateness -3 2>/dev/null; check "bad --lateness: exit 2" test $? -eq 2
T "$NETAGM" stream -r "$F1" --snaplen 64 2>/dev/null; check "--snaplen without -i: exit 2" test $? -eq 2
T "$NETAGM" stream --help | grep -q "usage: netagm stream"; check "stream --help" test $? -eq 0
finish
