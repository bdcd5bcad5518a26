#!/usr/bin/env bash
# netagm analyze and apply read AGM tables written as Parquet: by netagm agm
# (every codec, small row groups, IPv6, standard input) and by DuckDB (an
# independent writer: every codec, small row groups, nullable columns, other
# integer and timestamp types, extra columns in another order). Each must
# give the model and assignments of the same table read as CSV, byte for
# byte. Damaged and unsupported files are errors naming the file.
. "$NETAGM_SRC/tests/lib.sh"
P=$NETAGM_PCAPS
T=$TMP
F1="$P/RIPE-NCC__hadoop-pcap/hadoop-pcap-lib/src/test/resources/reversedtest.pcap"   # 736 sources
F2="$P/arkime__arkime/tests/pcap/arkime_synthetic.pcap"                               # 337 sources
F3="$P/markofu__pcaps/PracticalPacketAnalysis/ppa-capture-files/dosattack.pcap"
SYN="$P/lucaderi__sgr/2022/Favilli/tests/pkt.TCP.synflood.spoofed.pcap"              # 37,623 sources
V6="$P/arkime__arkime/tests/pcap/v6.pcap"                                             # IPv6
for f in "$F1" "$F2" "$F3" "$SYN" "$V6"; do
    [ -r "$f" ] || { echo "FAIL: corpus file missing: $f"; exit 1; }
done
IN=(-r "$F1" -r "$F2" -r "$F3")

# The model without the lines that name the input or the time of the run.
model() { grep -v -e '"created"' -e '"seconds"' -e '"input"' "$1"; }
# analyze TABLE DIR [options]: exit status kept in $rc
analyze() { local t=$1 d=$2; shift 2; "$NETAGM" analyze -q --agm "$t" --out "$d" --no-report "$@"; rc=$?; }
same_analysis() { # DESCRIPTION DIR REFDIR
    check "$1: exit 0" test "$rc" = 0
    check "$1: same assignments as from CSV" cmp "$2/assignments.csv" "$3/assignments.csv"
    check "$1: same model as from CSV" diff <(model "$2/model.json") <(model "$3/model.json")
}

# ---- tables written by netagm agm ------------------------------------------------
"$NETAGM" agm -q --proto tcp "${IN[@]}" -o "$T/t.csv"
analyze "$T/t.csv" "$T/rc"
check "CSV table analyzed" test "$rc" = 0
rows=$(($(wc -l <"$T/t.csv") - 1))
check "the table has many sources ($rows)" test "$rows" -gt 200
for c in zstd snappy gzip none; do
    "$NETAGM" agm -q --proto tcp "${IN[@]}" -o "$T/t_$c.parquet" --compression "$c"
    analyze "$T/t_$c.parquet" "$T/r_$c"
    same_analysis "netagm Parquet, $c" "$T/r_$c" "$T/rc"
done
# Row groups of 4 KiB, pages of 512 bytes (dictionaries overflow into PLAIN).
"$NETAGM" agm -q --proto tcp "${IN[@]}" -o "$T/t_small.parquet" --row-group-size 4K \
    --page-size 512 --compression snappy
analyze "$T/t_small.parquet" "$T/r_small"
same_analysis "netagm Parquet, small row groups and pages" "$T/r_small" "$T/rc"
# Standard input, and a Parquet file whose name says CSV.
"$NETAGM" analyze -q --agm - --out "$T/r_stdin" --no-report <"$T/t_zstd.parquet"
rc=$?
same_analysis "Parquet on standard input" "$T/r_stdin" "$T/rc"
cp "$T/t_gzip.parquet" "$T/named.csv"
analyze "$T/named.csv" "$T/r_named"
same_analysis "Parquet named .csv" "$T/r_named" "$T/rc"

# apply: the model on the Parquet table gives the CSV table's assignments.
"$NETAGM" apply -q --model "$T/rc/model.json" --agm "$T/t.csv" -o "$T/a.csv"
check "apply on CSV: the training assignments" cmp "$T/a.csv" "$T/rc/assignments.csv"
for c in zstd none; do
    "$NETAGM" apply -q --model "$T/rc/model.json" --agm "$T/t_$c.parquet" -o "$T/a_$c.csv"
    check "apply on netagm Parquet ($c)" cmp "$T/a_$c.csv" "$T/a.csv"
done

# A larger table (37,623 sources, one-second windows) in many row groups.
"$NETAGM" agm -q -w 1 -r "$SYN" -o "$T/s.csv"
"$NETAGM" agm -q -w 1 -r "$SYN" -o "$T/s.parquet" --row-group-size 256K
"$NETAGM" apply -q --model "$T/rc/model.json" --agm "$T/s.csv" -o "$T/as.csv"
"$NETAGM" apply -q --model "$T/rc/model.json" --agm "$T/s.parquet" -o "$T/as_pq.csv"
check "large table ($(($(wc -l <"$T/s.csv") - 1)) rows): apply on Parquet equals CSV" \
    cmp "$T/as_pq.csv" "$T/as.csv"
analyze "$T/s.csv" "$T/rs_c" --all-protos
analyze "$T/s.parquet" "$T/rs_p" --all-protos
same_analysis "large table" "$T/rs_p" "$T/rs_c"

# IPv6 and IPv4 sources, every protocol.
"$NETAGM" agm -q -r "$V6" -r "$F2" -o "$T/m.csv"
"$NETAGM" agm -q -r "$V6" -r "$F2" -o "$T/m.parquet"
check "mixed table has IPv6 sources" grep -q ',[0-9a-f]*:[0-9a-f:]*,' "$T/m.csv"
analyze "$T/m.csv" "$T/rm_c" --all-protos
analyze "$T/m.parquet" "$T/rm_p" --all-protos
same_analysis "IPv6 and IPv4 table" "$T/rm_p" "$T/rm_c"

# Damaged and mistaken files: an error naming the file, exit 1, nothing written.
head -c 3000 "$T/t_zstd.parquet" >"$T/trunc.parquet"
"$NETAGM" analyze -q --agm "$T/trunc.parquet" --out "$T/r_trunc" --no-report 2>"$T/trunc.err"
rc=$?
check "truncated Parquet: exit 1" test "$rc" = 1
check "truncated Parquet: file and offset named" grep -q "trunc.parquet: offset [0-9]*: " "$T/trunc.err"
check "truncated Parquet: no results" test ! -e "$T/r_trunc/assignments.csv"
cp "$T/t.csv" "$T/text.parquet"
"$NETAGM" apply -q --model "$T/rc/model.json" --agm "$T/text.parquet" -o "$T/x.csv" 2>"$T/text.err"
check "CSV named .parquet: exit 1" test $? = 1
check "CSV named .parquet: not a Parquet file" grep -q "text.parquet: offset 0: no PAR1 magic" "$T/text.err"

# ---- tables written by DuckDB ---------------------------------------------------------
if ! command -v node >/dev/null 2>&1; then
    echo "SKIPPED: node is missing: the DuckDB-written tables were not read"
    finish || exit 1
    exit 77
fi
. "$NETAGM_SRC/tests/duckdb/setup.sh"
duckdb_setup
# duck CSV OUT SELECT [COPY options]: DuckDB reads the CSV and writes Parquet.
cat >"$T/duck.cjs" <<'EOF'
'use strict';
const { open, lit, main } = require(process.env.DUCKDB_JS + '/lib.cjs');
main(async () => {
  const [csv, out, sel, opts] = process.argv.slice(2);
  const db = await open();
  await db.rows(`COPY (SELECT ${sel} FROM read_csv(${lit(csv)})) TO ${lit(out)} ` +
                `(FORMAT parquet${opts ? ', ' + opts : ''})`);
  const rg = await db.rows(`SELECT count(DISTINCT row_group_id)::INTEGER AS n FROM parquet_metadata(${lit(out)})`);
  console.log(rg[0].n);
  return [];
});
EOF
export DUCKDB_JS
duck() { node "$T/duck.cjs" "$@"; }
node_rg() { # row groups of a Parquet file, as DuckDB counts them
    node -e "const {open,lit}=require(process.env.DUCKDB_JS+'/lib.cjs');(async()=>{const d=await open();const r=await d.rows('SELECT count(DISTINCT row_group_id)::INTEGER AS n FROM parquet_metadata('+lit(process.argv[1])+')');console.log(r[0].n)})()" "$1"
}
node_schema() { # name, type, converted and logical type, repetition of each column
    node -e "const {open,lit}=require(process.env.DUCKDB_JS+'/lib.cjs');(async()=>{const d=await open();const r=await d.rows('SELECT name, type, converted_type, logical_type, repetition_type FROM parquet_schema('+lit(process.argv[1])+')');for(const x of r)console.log([x.name,x.type,x.converted_type,x.logical_type,x.repetition_type].join(' '))})()" "$1"
}
check "large table: several row groups (DuckDB counts $(node_rg "$T/s.parquet"))" \
    test "$(node_rg "$T/s.parquet")" -gt 1

for c in zstd snappy gzip uncompressed; do
    duck "$T/t.csv" "$T/d_$c.parquet" "*" "COMPRESSION '$c'" >/dev/null
    analyze "$T/d_$c.parquet" "$T/rd_$c"
    same_analysis "DuckDB Parquet, $c" "$T/rd_$c" "$T/rc"
done
"$NETAGM" apply -q --model "$T/rc/model.json" --agm "$T/d_zstd.parquet" -o "$T/a_d.csv"
check "apply on DuckDB Parquet" cmp "$T/a_d.csv" "$T/a.csv"
# The large table in row groups of 2048 rows (DuckDB's smallest).
n=$(duck "$T/s.csv" "$T/ds.parquet" "*" "COMPRESSION 'snappy', ROW_GROUP_SIZE 2048")
check "large table from DuckDB: several row groups ($n)" test "$n" -gt 10
analyze "$T/ds.parquet" "$T/rds" --all-protos
same_analysis "large table from DuckDB, small row groups" "$T/rds" "$T/rs_c"
"$NETAGM" apply -q --model "$T/rc/model.json" --agm "$T/ds.parquet" -o "$T/as_d.csv"
check "large table from DuckDB: apply equals CSV" cmp "$T/as_d.csv" "$T/as.csv"

# Other types for the same values, the columns in reverse order between two
# extra columns: nanosecond timestamps, unsigned and narrow integers.
cols=$(head -1 "$T/t.csv" | tr -d '\r' | tr ',' '\n' | tac | tr '\n' ',' | sed 's/,$//')
sel="42::INTEGER AS cluster, $cols, 0.5::DOUBLE AS distance"
sel="${sel/window_start/window_start::TIMESTAMP::TIMESTAMP_NS AS window_start}"
sel="${sel/window_end/window_end::TIMESTAMP::TIMESTAMP_NS AS window_end}"
sel="${sel/,pkts,/,pkts::UBIGINT AS pkts,}"
sel="${sel/ttl_mode,/ttl_mode::UTINYINT AS ttl_mode,}"
sel="${sel/proto_mode,/proto_mode::SMALLINT AS proto_mode,}"
sel="${sel/dst_port_mode,/dst_port_mode::UINTEGER AS dst_port_mode,}"
sel="${sel/flags_uniq,/flags_uniq::INTEGER AS flags_uniq,}"
duck "$T/t.csv" "$T/d_types.parquet" "$sel" "COMPRESSION 'zstd'" >/dev/null
node_schema "$T/d_types.parquet" >"$T/types.txt"
check "DuckDB types: nanosecond timestamps" grep -q "^window_end INT64 .*NANOS" "$T/types.txt"
check "DuckDB types: UINT_64, UINT_8, INT_16, UINT_32" \
    bash -c "grep -q '^pkts INT64 UINT_64' '$T/types.txt' && grep -q '^ttl_mode INT32 UINT_8' '$T/types.txt' && grep -q '^proto_mode INT32 INT_16' '$T/types.txt' && grep -q '^dst_port_mode INT32 UINT_32' '$T/types.txt'"
check "DuckDB types: nullable columns" grep -q "^src_ip BYTE_ARRAY .* OPTIONAL" "$T/types.txt"
analyze "$T/d_types.parquet" "$T/rd_types"
same_analysis "DuckDB Parquet, other types and order" "$T/rd_types" "$T/rc"

# A NULL in a required field; a count as DOUBLE; page format v2.
duck "$T/t.csv" "$T/d_null.parquet" \
    "* REPLACE (CASE WHEN ttl_uniq = (SELECT max(ttl_uniq) FROM read_csv('$T/t.csv')) THEN NULL ELSE ttl_uniq END AS ttl_uniq)" >/dev/null
analyze "$T/d_null.parquet" "$T/rd_null" 2>"$T/null.err"
check "NULL in ttl_uniq: exit 1" test "$rc" = 1
check "NULL in ttl_uniq: row named" grep -q "d_null.parquet: row [0-9]*: ttl_uniq is NULL" "$T/null.err"
duck "$T/t.csv" "$T/d_dbl.parquet" "* REPLACE (pkts::DOUBLE AS pkts)" >/dev/null
analyze "$T/d_dbl.parquet" "$T/rd_dbl" 2>"$T/dbl.err"
check "DOUBLE counts: refused, column named" grep -q "d_dbl.parquet: column pkts is DOUBLE" "$T/dbl.err"
duck "$T/t.csv" "$T/d_v2.parquet" "*" "PARQUET_VERSION V2" >/dev/null
analyze "$T/d_v2.parquet" "$T/rd_v2" 2>"$T/v2.err"
if [ "$rc" = 0 ]; then
    same_analysis "DuckDB Parquet, format v2" "$T/rd_v2" "$T/rc"
else
    check "DuckDB Parquet v2: an unsupported encoding, named" \
        grep -q "d_v2.parquet: offset [0-9]*: column '[a-z_]*': values in DELTA_[A-Z_]* encoding are not supported" "$T/v2.err"
fi
finish
