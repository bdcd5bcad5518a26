#!/usr/bin/env bash
# GROUP BY src_ip over `netagm extract`'s packet table reproduces `netagm agm`:
# docs/parquet.md's DuckDB query (modes with agm.md's tie rule, addresses
# ordered as numbers, IPv4 before IPv6) is run on the Parquet packet table of
# real captures and must give the AGM CSV's rows exactly, with one window and
# with 60 s and 1 s windows (tests/duckdb/agm_sql.cjs). The benchmark's
# one-window form (bench/duckdb_agm.sql) must give the one-window rows too.
. "$NETAGM_SRC/tests/lib.sh"
. "$NETAGM_SRC/tests/duckdb/setup.sh"
duckdb_setup
T=$TMP

# Real captures: IPv4 and IPv6, VLAN, Linux SLL, MPLS in gzip, GRE tunnels,
# ICMP scans (ports from type/code), pcapng with several interfaces.
CAPTURES=(
    arkime__arkime/tests/pcap/v6.pcap
    lucaderi__sgr/2025/Miletti/src/http_ipv6.pcap
    LibtraceTeam__libtrace/test/traces/vlan.pcap
    lucaderi__sgr/2001-2010/2009/sartiano/bob2diego.pcap
    chrissanders__packets/tcp_ports.pcapng
    lucaderi__sgr/2021/Esercitazioni/2/Gruppo9/DNS/dgapcap.pcapng
    zeek__zeek/testing/btest/Traces/tunnels/gre-within-gre.pcap
    stratosphereips__StratosphereLinuxIPS/dataset/test7-malicious.pcap
    lucaderi__sgr/2011-2020/2020/Colella/distribooze/pcaps/instagram.pcap
    markofu__pcaps/HoneyNet/0210/suspicious-time.pcap
    lucaderi__sgr/2022/Favilli/tests/hs-icmpScan.pcapng
    LibtraceTeam__libtrace/test/traces/ip-in-mpls.pcap.gz
    zeek__zeek/testing/btest/Traces/nmap-vsn.pcap
    rusticata__pcap-parser/assets/wireshark_samples-test.pcapng
)

run() { "$NETAGM" "$@" -q || { rc=$?; [ $rc = 3 ] || { echo "FAIL: netagm $* exited $rc"; exit 1; }; }; }

cases=()
i=0
for c in "${CAPTURES[@]}"; do
    f="$NETAGM_PCAPS/$c"
    [ -r "$f" ] || { echo "FAIL: corpus file missing: $f"; exit 1; }
    i=$((i + 1))
    run extract -r "$f" -o "$T/p$i.parquet"
    for w in 0 60 1; do
        if [ $w = 0 ]; then run agm -r "$f" -o "$T/a$i-$w.csv"; else run agm -r "$f" -w $w -o "$T/a$i-$w.csv"; fi
        cases+=(--case "$T/p$i.parquet,$T/a$i-$w.csv,$w")
    done
done

# Several inputs in one run, and a protocol filter on both sides.
A="$NETAGM_PCAPS/${CAPTURES[0]}" B="$NETAGM_PCAPS/${CAPTURES[2]}" C="$NETAGM_PCAPS/${CAPTURES[8]}"
run extract -r "$A" -r "$B" -r "$C" --proto tcp,udp -o "$T/multi.parquet"
run agm -r "$A" -r "$B" -r "$C" --proto tcp,udp -w 60 -o "$T/multi.csv"
cases+=(--case "$T/multi.parquet,$T/multi.csv,60")

# A generated capture (bench/gen): its scanners hit many destinations once
# each, so the destination modes are settled by the address order.
NETAGM_PCAPS="$NETAGM_PCAPS" "$NETAGM_BUILD/bench/netagm-gen" --packets 20000 --sources 500 \
    --seed 3 -o "$T/gen.pcap" 2>/dev/null || { echo "FAIL: netagm-gen"; exit 1; }
run extract -r "$T/gen.pcap" -o "$T/gen.parquet"
run agm -r "$T/gen.pcap" -o "$T/gen.csv"
cases+=(--case "$T/gen.parquet,$T/gen.csv,0")

check "docs/parquet.md's query on ${#CAPTURES[@]} captures equals netagm agm" \
    node "$DUCKDB_JS/agm_sql.cjs" --doc "$NETAGM_SRC/docs/parquet.md" \
    --bench "$NETAGM_SRC/bench/duckdb_agm.sql" "${cases[@]}"
finish
