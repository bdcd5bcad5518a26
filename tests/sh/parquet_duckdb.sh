#!/usr/bin/env bash
# Parquet written by `netagm agm` and `netagm extract`, read back with DuckDB
# (an independent reader) and compared with the CSV of the same command:
# schema and logical types, row count, codec, statistics and every value
# (tests/duckdb/pqcheck.cjs). Covers every codec, several row groups, small
# pages (dictionary fallback to PLAIN), empty input, IPv6, a path with
# spaces, gzip input and Parquet on standard output.
. "$NETAGM_SRC/tests/lib.sh"
. "$NETAGM_SRC/tests/duckdb/setup.sh"
duckdb_setup
T=$TMP
P=$NETAGM_PCAPS
V6="$P/arkime__arkime/tests/pcap/v6.pcap"                                  # IPv6, 161 packets
MIX="$P/lucaderi__sgr/2022/Trevisi/pcap for test/generic pcap.pcapng"       # 35 sources
BIG="$P/lucaderi__sgr/2011-2020/2020/Colella/distribooze/pcaps/instagram.pcap" # 3443 packets
WIFI="$P/lucaderi__sgr/2001-2010/2007/Cornolti.tar.gz.d/packets/dumpcasa.pcap" # 802.11: 0 counted
GZ="$P/LibtraceTeam__libtrace/test/traces/ip-in-mpls.pcap.gz"
for f in "$V6" "$MIX" "$BIG" "$WIFI" "$GZ"; do
    [ -r "$f" ] || { echo "FAIL: corpus file missing: $f"; exit 1; }
done
# A capture with no packets at all: a classic pcap file header only.
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00' >"$T/empty.pcap"

pq() { # TABLE PARQUET CSV [pqcheck options...]
    local table=$1 f=$2 csv=$3
    shift 3
    check "$table table $(basename "$f") $*" \
        node "$DUCKDB_JS/pqcheck.cjs" --table "$table" --parquet "$f" --csv "$csv" "$@"
}
x() { "$NETAGM" "$@" -q || { rc=$?; [ $rc = 3 ] || { echo "FAIL: netagm $* exited $rc"; exit 1; }; }; }

# extract: every codec on one capture.
x extract -r "$BIG" -o "$T/big.csv"
for c in zstd snappy gzip none; do
    x extract -r "$BIG" -o "$T/big_$c.parquet" --compression "$c"
    C=$(echo "$c" | tr a-z A-Z); [ "$C" = NONE ] && C=UNCOMPRESSED
    pq packets "$T/big_$c.parquet" "$T/big.csv" --codec "$C"
done
# Default codec is zstd; tiny row groups and pages: many groups, many pages,
# dictionaries overflowing into PLAIN pages.
x extract -r "$BIG" -o "$T/big_default.parquet"
pq packets "$T/big_default.parquet" "$T/big.csv" --codec ZSTD --min-row-groups 1
x extract -r "$BIG" -o "$T/big_rg.parquet" --row-group-size 16K --page-size 1K
pq packets "$T/big_rg.parquet" "$T/big.csv" --codec ZSTD --min-row-groups 8
x extract -r "$BIG" -o "$T/big_rg1.parquet" --row-group-size 1 --compression snappy
rows=$(($(wc -l <"$T/big.csv") - 1)) # one row per group
pq packets "$T/big_rg1.parquet" "$T/big.csv" --codec SNAPPY --min-row-groups "$rows"

# IPv6, a path with spaces, gzip input, --proto.
for f in "$V6" "$MIX" "$GZ"; do
    n=$(basename "$f" | tr ' ' _)
    x extract -r "$f" -o "$T/$n.csv"
    x extract -r "$f" -o "$T/$n.parquet" --compression gzip
    pq packets "$T/$n.parquet" "$T/$n.csv" --codec GZIP
done
x extract -r "$MIX" --proto udp -o "$T/udp.csv"
x extract -r "$MIX" --proto udp -o "$T/udp.parquet"
pq packets "$T/udp.parquet" "$T/udp.csv"

# Empty input: zero rows, still a valid file (both tables).
for f in "$WIFI" "$T/empty.pcap"; do
    n=$(basename "$f")
    x extract -r "$f" -o "$T/e_$n.csv"
    x extract -r "$f" -o "$T/e_$n.parquet"
    pq packets "$T/e_$n.parquet" "$T/e_$n.csv"
    x agm -r "$f" -o "$T/ea_$n.csv"
    x agm -r "$f" -o "$T/ea_$n.parquet"
    pq agm "$T/ea_$n.parquet" "$T/ea_$n.csv"
done
check "802.11 only: no rows" test "$(wc -l <"$T/e_dumpcasa.pcap.csv")" = 1

# Standard output, and the JSON Lines writer against the CSV.
"$NETAGM" extract -q -r "$V6" --format parquet -o - >"$T/stdout.parquet"
pq packets "$T/stdout.parquet" "$T/v6.pcap.csv"
x extract -r "$BIG" -o "$T/big.jsonl"
check "JSONL equals CSV" node "$DUCKDB_JS/jsonl_check.cjs" --jsonl "$T/big.jsonl" --csv "$T/big.csv"

# agm: with and without windows, -o x.parquet and --format parquet, several
# row groups, every codec.
for f in "$V6" "$MIX" "$BIG"; do
    n=$(basename "$f" | tr ' ' _)
    for w in "" "-w 60"; do
        # shellcheck disable=SC2086
        x agm -r "$f" $w -o "$T/a.csv"
        # shellcheck disable=SC2086
        x agm -r "$f" $w -o "$T/a_$n.parquet"
        pq agm "$T/a_$n.parquet" "$T/a.csv" --codec ZSTD
        # shellcheck disable=SC2086
        x agm -r "$f" $w --format parquet -o "$T/a_$n.out" --row-group-size 1K --compression snappy
        pq agm "$T/a_$n.out" "$T/a.csv" --codec SNAPPY --min-row-groups 2
    done
done
x agm -r "$BIG" -o "$T/a.csv"
for c in gzip none; do
    x agm -r "$BIG" -o "$T/a_$c.parquet" --compression $c
    C=$(echo "$c" | tr a-z A-Z); [ "$C" = NONE ] && C=UNCOMPRESSED
    pq agm "$T/a_$c.parquet" "$T/a.csv" --codec "$C"
done

finish
