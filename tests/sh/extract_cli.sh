#!/usr/bin/env bash
# netagm extract: the same inputs and bad-input behaviour as agm (exit codes,
# messages, rows kept), output selection and options, and the fields of every
# row against tshark's dissection of the same packets.
. "$NETAGM_SRC/tests/lib.sh"
P=$NETAGM_PCAPS

F1="$P/appneta__tcpreplay/test/test.pcap"
F2="$P/CESNET__ipfixprobe/tests/functional/inputs/mixed.pcap"
TCP4="$P/chrissanders__packets/tcp_ports.pcapng"
TCP6="$P/lucaderi__sgr/2025/Miletti/src/http_ipv6.pcap"
for f in "$F1" "$F2" "$TCP4" "$TCP6"; do [ -f "$f" ] || { echo "missing corpus file $f"; exit 1; }; done
HDR='ts,src_ip,dst_ip,src_port,dst_port,ttl,proto,flags,len,caplen,wirelen,linktype'

# Sum of pkts over an AGM CSV: the number of counted packets.
agm_pkts() { awk -F, 'NR > 1 { s += $4 } END { print s + 0 }' "$1"; }
rows() { echo $(($(wc -l < "$1") - 1)); }

"$NETAGM" extract -q -r "$F1" -o "$TMP/ref1.csv"; check "plain file exit 0" test $? -eq 0
check "CSV header row with CRLF" bash -c "head -n 1 '$TMP/ref1.csv' | grep -q \$'^$HDR\r\$'"
"$NETAGM" agm -q -r "$F1" -o "$TMP/agm1.csv"
check "one row per packet agm counts" test "$(rows "$TMP/ref1.csv")" -eq "$(agm_pkts "$TMP/agm1.csv")"
"$NETAGM" extract -q -r "$F1" > "$TMP/stdout.csv"
check "default output: CSV on stdout" cmp -s "$TMP/ref1.csv" "$TMP/stdout.csv"

# Inputs: gzip, zstd, stdin, directories (recursive, name order, spaces).
gzip -c "$F1" > "$TMP/c.pcap.gz"
"$NETAGM" extract -q -r "$TMP/c.pcap.gz" -o "$TMP/gz.csv"
check "gzip input equals plain" cmp -s "$TMP/ref1.csv" "$TMP/gz.csv"
zstd -q -c "$F1" > "$TMP/c.zst"
"$NETAGM" extract -q -r "$TMP/c.zst" -o "$TMP/zst.csv"
check "zstd input equals plain" cmp -s "$TMP/ref1.csv" "$TMP/zst.csv"
"$NETAGM" extract -q -r - -o - < "$F1" > "$TMP/stdin.csv"
check "stdin equals plain" cmp -s "$TMP/ref1.csv" "$TMP/stdin.csv"
mkdir -p "$TMP/dir with space/sub dir"
cp "$F1" "$TMP/dir with space/b file.pcap"
cp "$F2" "$TMP/dir with space/sub dir/a.pcap"
"$NETAGM" extract -q -r "$TMP/dir with space" -o "$TMP/dir.csv"
"$NETAGM" extract -q -r "$F1" -r "$F2" -o "$TMP/two.csv"
check "directory equals the files given one by one" cmp -s "$TMP/dir.csv" "$TMP/two.csv"
check "two files: rows add up" test "$(rows "$TMP/two.csv")" -eq \
    "$(( $(rows "$TMP/ref1.csv") + $("$NETAGM" extract -q -r "$F2" | wc -l) - 1 ))"

# Filters: --proto on the decoded protocol; --bpf as tcpdump's own filter.
"$NETAGM" extract -q -r "$F2" --proto udp -o "$TMP/udp.csv"
check "--proto udp keeps only proto 17" bash -c "tail -n +2 '$TMP/udp.csv' | cut -d, -f7 | sort -u | tr -d '\n' | grep -qx 17"
"$NETAGM" agm -q -r "$F2" --proto udp -o "$TMP/udp_agm.csv"
check "--proto: same packets as agm" test "$(rows "$TMP/udp.csv")" -eq "$(agm_pkts "$TMP/udp_agm.csv")"
"$NETAGM" extract -q -r "$F1" --bpf 'tcp and port 80' -o "$TMP/bpf.csv"
want=$(tcpdump -nr "$F1" 'tcp and port 80' 2>/dev/null | wc -l)
check "--bpf: as many rows as tcpdump matches ($want)" test "$(rows "$TMP/bpf.csv")" -eq "$want"

# Bad input: the same exit codes and messages as agm, rows before damage kept.
printf 'this is not a capture file at all\n' > "$TMP/junk.pcap"
head -c 3000 "$F1" > "$TMP/trunc.pcap"
for args in "-r $TMP/junk.pcap -r $F1" "-r $TMP/trunc.pcap" "--strict -r $TMP/junk.pcap -r $F1" \
            "-r $TMP/missing.pcap"; do
    # shellcheck disable=SC2086
    "$NETAGM" extract -q $args -o "$TMP/x.csv" 2> "$TMP/x.err"; rx=$?
    # shellcheck disable=SC2086
    "$NETAGM" agm -q $args -o "$TMP/a.csv" 2> "$TMP/a.err"; ra=$?
    check "bad input ($args): exit $rx equals agm's $ra" test "$rx" -eq "$ra" -a "$rx" -ne 0
    check "bad input ($args): same messages as agm" \
        diff <(sed 's/^netagm [a-z]*: //' "$TMP/x.err") <(sed 's/^netagm [a-z]*: //' "$TMP/a.err")
    if [ "$rx" = 3 ]; then
        check "bad input ($args): rows = agm's packets" test "$(rows "$TMP/x.csv")" -eq "$(agm_pkts "$TMP/a.csv")"
    fi
done
"$NETAGM" extract -q -r "$TMP/trunc.pcap" -o "$TMP/trunc.parquet" 2>/dev/null
check "truncated input: Parquet still gets its footer" bash -c "tail -c 4 '$TMP/trunc.parquet' | grep -q PAR1"

# Output selection and option errors.
"$NETAGM" extract -q -r "$F1" -o "$TMP/o.jsonl"
check "jsonl by extension: one object per row" test "$(wc -l < "$TMP/o.jsonl")" -eq "$(rows "$TMP/ref1.csv")"
check "jsonl keys in column order" grep -q '^{"ts":"[^"]*Z","src_ip":"[^"]*","dst_ip":"[^"]*","src_port":[0-9]*,"dst_port":[0-9]*,"ttl":[0-9]*,"proto":[0-9]*,"flags":[0-9]*,"len":[0-9]*,"caplen":[0-9]*,"wirelen":[0-9]*,"linktype":[0-9]*}$' "$TMP/o.jsonl"
"$NETAGM" extract -q -r "$F1" --format parquet -o "$TMP/o.bin"
check "--format parquet overrides the extension" bash -c "head -c 4 '$TMP/o.bin' | grep -q PAR1"
"$NETAGM" extract -q -r "$F1" -o "$TMP/no/such/dir/out.parquet" 2> "$TMP/w.err"; rc=$?
check "unwritable output: exit 1" test $rc -eq 1
check "unwritable output: message names the path" grep -q "no/such/dir/out.parquet" "$TMP/w.err"
# A write that fails mid-run (more rows than the 1 MiB output buffer): exit 1
# and one message, about the write.
"$NETAGM_BUILD/bench/netagm-gen" -q --packets 40000 --sources 500 --corpus "$P" -o "$TMP/g40k.pcap"
"$NETAGM" extract -q -r "$TMP/g40k.pcap" -o /dev/full --format csv 2> "$TMP/full.err"; rc=$?
check "full disk mid-run: exit 1, one message naming the write" \
    test $rc -eq 1 -a "$(wc -l < "$TMP/full.err")" -eq 1 -a "$(grep -c 'writing /dev/full failed' "$TMP/full.err")" -eq 1
for bad in "-w 60" "-j 2" "--compression zstd -o $TMP/x.csv" "--compression lz4 -o $TMP/x.parquet" \
           "--row-group-size 0 -o $TMP/x.parquet" "--row-group-size 12Q -o $TMP/x.parquet" \
           "--page-size 1G -o $TMP/x.parquet" "--format xml" "--bpf 'not bpf ('"; do
    # shellcheck disable=SC2086
    eval "\"$NETAGM\" extract -q -r \"$F1\" $bad" > /dev/null 2> "$TMP/u.err"; rc=$?
    check "usage error ($bad): exit 2 with a message" bash -c "[ $rc -eq 2 ] && [ -s '$TMP/u.err' ]"
done
"$NETAGM" extract 2>/dev/null; check "no -r: exit 2" test $? -eq 2
"$NETAGM" extract --help | grep -q "usage: netagm extract"; check "extract --help" test $? -eq 0
"$NETAGM" help | grep -q "extract"; check "netagm help lists extract" test $? -eq 0
"$NETAGM" extract -q -r "$F1" --stats-json "$TMP/st.json" -o /dev/null
check "stats json: rows = counted" python3 - "$TMP/st.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if s["rows"] == s["counted"] > 0 else 1)
PY

# Memory is bounded by the row group, not the row count: with small row
# groups and no compression (the worst case for held pages), 30 copies of a
# capture peak at about the memory of one copy. Holding every row would add
# about 7 MB here.
# (Not under ASan: its quarantine keeps freed memory resident.)
BIG="$P/lucaderi__sgr/2011-2020/2020/Colella/distribooze/pcaps/instagram.pcap"
if [ -n "${NETAGM_ASAN:-}" ] || grep -q __asan_init "$NETAGM"; then
    echo "skip - memory bound check (sanitizer build)"
else
check "memory bounded: 30x the rows, about the same peak RSS" python3 - "$NETAGM" "$BIG" "$TMP" <<'PY'
import os, subprocess, sys, time
netagm, f, tmp = sys.argv[1:4]
def peak(copies):
    args = [netagm, "extract", "-q", "--compression", "none", "--row-group-size", "256K",
            "-o", f"{tmp}/m.parquet"] + ["-r", f] * copies
    p = subprocess.Popen(args)
    hwm = 0
    while p.poll() is None:   # VmHWM is a high-water mark: the last reading is the peak so far
        try:
            for line in open(f"/proc/{p.pid}/status"):
                if line.startswith("VmHWM:"):
                    hwm = max(hwm, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.002)
    if p.returncode != 0:
        sys.exit(1)
    return hwm
one, many = peak(1), peak(30)
print(f"peak RSS: 1 copy {one} KiB, 30 copies {many} KiB")
sys.exit(0 if 0 < many < one + 3072 else 1)
PY
fi

# Every field of every row against tshark (TCP over IPv4 and over IPv6).
for f in "$TCP4" "$TCP6"; do
    "$NETAGM" extract -q -r "$f" --proto tcp -o "$TMP/t.csv"
    tshark -r "$f" -Y 'tcp && !icmp && !icmpv6 && !(ip && ipv6)' -T fields -E separator=, \
        -e frame.time_epoch -e ip.src -e ipv6.src -e ip.dst -e ipv6.dst -e tcp.srcport \
        -e tcp.dstport -e ip.ttl -e ipv6.hlim -e ip.proto -e tcp.flags -e ip.len -e ipv6.plen \
        -e frame.cap_len -e frame.len > "$TMP/t.tshark" 2>/dev/null
    check "fields equal tshark's: $(basename "$f")" python3 - "$TMP/t.csv" "$TMP/t.tshark" <<'PY'
import sys
from datetime import datetime, timezone
from decimal import Decimal
ours = [l.rstrip("\r\n").split(",") for l in open(sys.argv[1])][1:]
ref = []
for l in open(sys.argv[2]):
    (ts, s4, s6, d4, d6, sp, dp, ttl, hl, proto, fl, l4, pl6, cap, wire) = l.rstrip("\n").split(",")
    v6 = not s4
    us = int(Decimal(ts) * 1000000 // 1)
    t = datetime.fromtimestamp(us // 1000000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    ref.append([f"{t}.{us % 1000000:06d}Z", s6 if v6 else s4, d6 if v6 else d4, sp, dp,
                hl if v6 else ttl, "6", str(int(fl, 16)),
                str(40 + int(pl6)) if v6 else l4, cap, wire])
ok = len(ours) == len(ref) and len(ref) > 0
for a, b in zip(ours, ref):
    if a[:11] != b:
        print("ours:  ", a[:11], "\ntshark:", b)
        ok = False
        break
print(f"{len(ours)} rows ours, {len(ref)} tshark")
sys.exit(0 if ok else 1)
PY
done

finish
