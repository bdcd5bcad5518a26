#!/usr/bin/env bash
# netagm-gen (bench/gen): the capture it writes is a valid pcap that tshark
# reads, with exactly the packets and distinct sources asked for, ordered
# timestamps, consistent IP lengths and checksums; the same seed gives the
# same bytes, another seed other bytes. Expected values are the options given,
# checked through tshark.
. "$NETAGM_SRC/tests/lib.sh"
GEN="$NETAGM_BUILD/bench/netagm-gen"
[ -x "$GEN" ] || { echo "missing $GEN"; exit 1; }
command -v tshark >/dev/null || { echo "tshark not installed"; exit 1; }
export NETAGM_PCAPS

PKTS=20000
SRCS=500
START=1704067200
SPAN=3600
A="$TMP/a.pcap"

"$GEN" -q --packets $PKTS --sources $SRCS --seed 1 --start $START --span $SPAN \
    --corpus "$NETAGM_PCAPS" -o "$A"
check "generator exits 0" test $? -eq 0

# File header: classic pcap, microseconds, little endian, snaplen 96, Ethernet.
check "pcap header (magic, v2.4, snaplen 96, LINKTYPE_ETHERNET)" \
    test "$(od -An -tx1 -N24 "$A" | tr -d ' \n')" = "d4c3b2a1020004000000000000000000""6000000001000000"

tshark -r "$A" -T fields -E occurrence=f -e frame.time_epoch -e ip.src -e ipv6.src \
    > "$TMP/f.tsv" 2> "$TMP/tshark.err"; rc=$?
check "tshark reads the file without error" test $rc -eq 0
check "tshark prints no error" bash -c "! grep -Eiv '^Running as user|dangerous' '$TMP/tshark.err' | grep -q ."
check "packet count = $PKTS" test "$(wc -l < "$TMP/f.tsv")" -eq $PKTS

# Distinct sources (outermost IP header: -E occurrence=f, so a payload that a
# dissector takes for a tunnel cannot add an inner address).
cut -f2,3 "$TMP/f.tsv" | sort -u > "$TMP/src.txt"
check "distinct source addresses = $SRCS" test "$(wc -l < "$TMP/src.txt")" -eq $SRCS
check "every packet has an IP source" bash -c "! grep -qP '^\t?$' '$TMP/src.txt'"
check "both IPv4 and IPv6 sources" bash -c \
    "grep -qP '^[0-9.]+\t' '$TMP/src.txt' && grep -qP '^\t[0-9a-f:]+$' '$TMP/src.txt'"

# Timestamps: never backwards, inside [start, start + span).
cut -f1 "$TMP/f.tsv" > "$TMP/t.txt"
check "timestamps in order" sort -c -g "$TMP/t.txt"
check "timestamps inside the span" awk -v s=$START -v e=$((START + SPAN)) \
    'NR == 1 && $1 < s { exit 1 } $1 >= e { exit 1 }' "$TMP/t.txt"

# Lengths and checksums as tshark computes them.
count() { tshark -r "$A" -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE \
    -o udp.check_checksum:TRUE -Y "$1" 2>/dev/null | wc -l; }
check "IPv4 total length = frame length - 14" test "$(count 'ip && frame.len != ip.len + 14')" -eq 0
check "IPv6 payload length = frame length - 54" test "$(count 'ipv6 && frame.len != ipv6.plen + 54')" -eq 0
check "no bad IPv4/TCP/UDP/ICMP checksum" test "$(count 'ip.checksum.status == 0 || tcp.checksum.status == 0 || udp.checksum.status == 0 || icmp.checksum.status == 0 || icmpv6.checksum.status == 0')" -eq 0
check "checksums were verified on full packets" test "$(count 'tcp.checksum.status == 1')" -gt 1000
check "no IP fragments" test "$(count 'ip.flags.mf == 1 || ip.frag_offset > 0')" -eq 0

# Traffic classes: a scanner sweeping addresses, backscatter, sessions.
tshark -r "$A" -Y 'tcp.flags == 0x002' -T fields -E occurrence=f -e ip.src -e ipv6.src \
    -e ip.dst -e ipv6.dst 2>/dev/null | sort -u | cut -f1,2 | uniq -c | sort -rn | head -1 \
    > "$TMP/scan.txt"
check "a source sends SYNs to >= 100 addresses" test "$(awk '{print $1}' "$TMP/scan.txt")" -ge 100
check "SYN-ACK, RST, FIN and data packets present" bash -c \
    "[ \$(tshark -r '$A' -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 1' 2>/dev/null | wc -l) -gt 100 ] &&
     [ \$(tshark -r '$A' -Y 'tcp.flags.reset == 1' 2>/dev/null | wc -l) -gt 100 ] &&
     [ \$(tshark -r '$A' -Y 'tcp.flags.fin == 1' 2>/dev/null | wc -l) -gt 100 ] &&
     [ \$(tshark -r '$A' -Y 'tcp.len > 0' 2>/dev/null | wc -l) -gt 1000 ]"
check "UDP and ICMP present" bash -c \
    "[ \$(tshark -r '$A' -Y 'udp' 2>/dev/null | wc -l) -gt 100 ] &&
     [ \$(tshark -r '$A' -Y 'icmp || icmpv6' 2>/dev/null | wc -l) -gt 10 ]"

# Reproducibility.
"$GEN" -q --packets $PKTS --sources $SRCS --seed 1 --start $START --span $SPAN \
    --corpus "$NETAGM_PCAPS" -o "$TMP/b.pcap"
check "same seed: identical bytes" cmp -s "$A" "$TMP/b.pcap"
"$GEN" -q --packets $PKTS --sources $SRCS --seed 1 --start $START --span $SPAN \
    --corpus "$NETAGM_PCAPS" -o - > "$TMP/stdout.pcap"
check "-o - writes the same bytes to stdout" cmp -s "$A" "$TMP/stdout.pcap"
"$GEN" -q --packets $PKTS --sources $SRCS --seed 2 --start $START --span $SPAN \
    --corpus "$NETAGM_PCAPS" -o "$TMP/c.pcap"
check "another seed: different bytes" bash -c "! cmp -s '$A' '$TMP/c.pcap'"

# Size mode and options.
"$GEN" -q --size 2M --sources 1000 --seed 3 --corpus "$NETAGM_PCAPS" -o "$TMP/s.pcap"
sz=$(stat -c %s "$TMP/s.pcap")
check "--size 2M lands within 5% of 2 MiB ($sz)" test $sz -ge 1992294 -a $sz -le 2202010
"$GEN" -q --packets 3000 --sources 100 --snaplen 65535 --len-mix 64:1,1514:1 \
    --corpus "$NETAGM_PCAPS" -o "$TMP/full.pcap"
check "snaplen 65535: tshark reads it" bash -c "[ \$(tshark -r '$TMP/full.pcap' 2>/dev/null | wc -l) -eq 3000 ]"
check "snaplen 65535: all checksums verified good" test "$(tshark -r "$TMP/full.pcap" \
    -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE \
    -Y '(tcp && tcp.checksum.status != 1) || (udp && udp.checksum.status != 1)' 2>/dev/null | wc -l)" -eq 0
"$GEN" -q --packets 10 -o /dev/null --corpus "$TMP/nowhere" 2>/dev/null
check "missing corpus: nonzero exit" test $? -ne 0
"$GEN" -q --size 1X -o /dev/null 2>/dev/null
check "bad --size: exit 2" test $? -eq 2
"$GEN" -q -o /dev/null 2>/dev/null
check "neither --size nor --packets: exit 2" test $? -eq 2

# The memory-floor probe that bench/run reports beside cat's read time: one
# JSON line with two positive costs (no timing is judged here).
MF="$NETAGM_BUILD/bench/netagm-memfloor"
out=$("$MF" --mb 2 --ops 20000)
check "memfloor: one JSON line with both costs" python3 -c "
import json, sys
d = json.loads(sys.argv[1])
assert d['mb'] == 2 and d['independent_ns'] > 0 and d['dependent_ns'] > 0
" "$out"
"$MF" --mb 0 >/dev/null 2>&1
check "memfloor: --mb 0 is a usage error (exit 2)" test $? -eq 2

finish
