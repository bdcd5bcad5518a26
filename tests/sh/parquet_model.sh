#!/usr/bin/env bash
# Parquet outputs that carry a model's cluster and distance, read back with
# DuckDB (an independent reader):
#  (a) netagm stream --model to a Parquet file (also a strftime pattern and
#      standard output): the 25 AGM columns, then cluster INT32 and distance
#      DOUBLE; every value equals the JSON Lines and CSV rows the same run
#      wrote (distances compared as doubles, exactly); per row group the
#      footer's min/max of every column equals the values, recomputed by
#      DuckDB and, for the doubles, from the text rows. Without --model the
#      file is byte for byte the one netagm agm writes.
#  (b) netagm analyze --assignments FILE.parquet and netagm apply -o
#      FILE.parquet: the columns of assignments.csv, value for value, with
#      several row groups and another codec.
#  (c) distances that are not finite (only a hand-edited model gives them):
#      JSON null / empty CSV field, +Infinity in Parquet.
. "$NETAGM_SRC/tests/lib.sh"
. "$NETAGM_SRC/tests/duckdb/setup.sh"
duckdb_setup
T=$TMP
P=$NETAGM_PCAPS
TRAIN="$P/RIPE-NCC__hadoop-pcap/hadoop-pcap-lib/src/test/resources/reversedtest.pcap" # 32 TCP rows at -w 10
F2="$P/lucaderi__sgr/2025/Ciarfella/Catture/Subito.pcap"                             # 32 rows
SF="$P/lucaderi__sgr/2022/Favilli/tests/pkt.TCP.synflood.spoofed.pcap"                # 37,654 rows
DOM="$P/lucaderi__sgr/2022/Favilli/tests/pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng"         # 9,759 rows
for f in "$TRAIN" "$F2" "$SF" "$DOM"; do
    [ -r "$f" ] || { echo "FAIL: corpus file missing: $f"; exit 1; }
done
x() { "$NETAGM" "$@" || { rc=$?; echo "FAIL: netagm $* exited $rc"; exit 1; }; }

# The checker: Parquet file(s) against the text rows of the same table.
cat >"$T/check.cjs" <<'JS'
'use strict';
// usage: node check.cjs --kind scored|assignments --ref F.jsonl|F.csv
//                       --parquet F [--parquet F ...] [--codec C] [--min-row-groups N]
// Several --parquet files are one table cut in pieces, in that order.
const fs = require('fs');
const { open, lit, csvLines, compareLines, parseArgs, main } = require(process.env.DUCKDB_JS + '/lib.cjs');
const { TABLES, render } = require(process.env.DUCKDB_JS + '/tables.cjs');

const agm = TABLES.agm;
const typeOf = (name) => agm.find((c) => c[0] === name).slice(1);
const TS = typeOf('window_start'), STR = typeOf('src_ip'), I32 = typeOf('src_port_mode');
const DBL = ['DOUBLE', 'DOUBLE', null, null];

// A number as DuckDB prints it in parquet_metadata ('inf' and friends too).
function num(s) {
  const t = String(s).toLowerCase();
  if (t === 'inf' || t === 'infinity' || t === '+inf') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  return Number(s);
}

main(async () => {
  const a = parseArgs(process.argv.slice(2), { kind: 1, ref: 1, parquet: 'list', codec: 1, 'min-row-groups': 1 });
  const errs = [];
  // Reference rows: one array of values per row (text; doubles as numbers, null if not finite).
  let header, ref;
  if (a.ref.endsWith('.jsonl')) {
    const txt = fs.readFileSync(a.ref, 'utf8');
    const objs = txt === '' ? [] : txt.replace(/\n$/, '').split('\n').map((l) => JSON.parse(l));
    header = objs.length ? Object.keys(objs[0]) : null;
    ref = objs.map((o, i) => {
      if (Object.keys(o).join(',') !== header.join(',') && errs.length < 5) errs.push(`${a.ref} line ${i + 1}: keys differ`);
      return header.map((k) => o[k]);
    });
  } else {
    const lines = csvLines(a.ref);
    header = lines.shift().split(',');
    ref = lines.map((l) => l.split(','));
  }
  let cols;
  if (a.kind === 'scored') {
    cols = agm.concat([['cluster', ...I32], ['distance', ...DBL]]);
  } else {
    const npc = header.filter((h) => /^pc[0-9]+$/.test(h)).length;
    cols = [['src_ip', ...STR], ['window_start', ...TS], ['window_end', ...TS], ['cluster', ...I32], ['distance', ...DBL]];
    for (let i = 1; i <= npc; i++) cols.push([`pc${i}`, ...DBL]);
    cols = cols.concat(agm.slice(3));
  }
  if (!header || header.join(',') !== cols.map((c) => c[0]).join(',')) errs.push(`${a.ref}: columns ${header}, expected ${cols.map((c) => c[0])}`);
  if (errs.length) return errs;
  const dbl = cols.map((c) => c[1] === 'DOUBLE');
  // Text rows: doubles as numbers (empty CSV field / JSON null: not finite).
  ref = ref.map((r) => r.map((v, i) => (dbl[i] ? (v === null || v === '' ? null : Number(v)) : String(v))));

  const db = await open();
  const got = [];
  let groups = 0, chunks = 0, at = 0;
  for (const file of a.parquet) {
    const f = lit(file);
    const schema = await db.rows(`SELECT name, type, converted_type, logical_type, repetition_type FROM parquet_schema(${f})`);
    if (schema.length !== cols.length + 1) { errs.push(`${file}: ${schema.length - 1} columns, expected ${cols.length}`); return errs; }
    cols.forEach((c, i) => {
      const s = schema[i + 1];
      const want = [c[0], c[2], c[3], c[4]];
      const have = [s.name, s.type, s.converted_type, s.logical_type === null ? null : String(s.logical_type).slice(0, c[4] ? c[4].length : 0)];
      if (JSON.stringify(have) !== JSON.stringify(want)) errs.push(`${file} column ${i}: ${JSON.stringify(have)}, expected ${JSON.stringify(want)}`);
      if (s.repetition_type !== 'REQUIRED') errs.push(`${file} ${c[0]}: ${s.repetition_type}`);
    });
    const types = await db.rows(`DESCRIBE SELECT * FROM read_parquet(${f})`);
    cols.forEach((c, i) => { if (types[i].column_type !== c[1]) errs.push(`${file} ${c[0]}: DuckDB type ${types[i].column_type}, expected ${c[1]}`); });
    const kv = await db.rows(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(${f})`);
    const table = a.kind === 'scored' ? 'agm' : 'assignments';
    if (!kv.some((r) => r.k === 'netagm.table' && r.v === table)) errs.push(`${file}: netagm.table is not ${table}`);
    if (errs.length) return errs;

    // Values, in file order.
    const sel = cols.map((c, i) => (dbl[i] ? `"${c[0]}"` : render(c))).join(', ');
    const rows = await db.raw(`SELECT ${sel} FROM read_parquet(${f}, file_row_number = true) ORDER BY file_row_number`);
    const first = at;
    at += rows.length;
    got.push(...rows);

    // Column chunks, per row group: statistics against the values.
    const meta = await db.rows(`SELECT row_group_id, row_group_num_rows, column_id, path_in_schema, compression, encodings,
                                       stats_min, stats_max, stats_min_value, stats_max_value, stats_null_count, num_values
                                FROM parquet_metadata(${f}) ORDER BY row_group_id, column_id`);
    const [fm] = await db.rows(`SELECT num_rows, num_row_groups FROM parquet_file_metadata(${f})`);
    if (Number(fm.num_rows) !== rows.length) errs.push(`${file}: footer says ${fm.num_rows} rows, read ${rows.length}`);
    groups += Number(fm.num_row_groups);
    chunks += meta.length;
    const mm = cols.map((c) => `min("${c[0]}")::VARCHAR, max("${c[0]}")::VARCHAR`).join(', ');
    const sqlStats = rows.length ? await db.table(`
      WITH rg AS (SELECT DISTINCT row_group_id, row_group_num_rows::BIGINT AS n FROM parquet_metadata(${f})),
           b AS (SELECT row_group_id, sum(n) OVER (ORDER BY row_group_id) - n AS lo, sum(n) OVER (ORDER BY row_group_id) AS hi FROM rg)
      SELECT b.row_group_id, ${mm} FROM read_parquet(${f}, file_row_number = true) d
      JOIN b ON d.file_row_number >= b.lo AND d.file_row_number < b.hi
      GROUP BY b.row_group_id ORDER BY b.row_group_id`) : [];
    let lo = first;
    for (const m of meta) {
      const g = Number(m.row_group_id), ci = Number(m.column_id), c = cols[ci];
      const where = `${file} row group ${g} ${m.path_in_schema}`;
      if (ci === 0 && g > 0) lo += Number(meta.find((x) => Number(x.row_group_id) === g - 1).row_group_num_rows);
      if (a.codec && m.compression !== a.codec) errs.push(`${where}: codec ${m.compression}`);
      if (m.stats_null_count !== '0') errs.push(`${where}: null_count ${m.stats_null_count}`);
      if (m.num_values !== m.row_group_num_rows) errs.push(`${where}: ${m.num_values} values for ${m.row_group_num_rows} rows`);
      const s = sqlStats[g];
      if (dbl[ci]) {
        if (m.encodings !== 'PLAIN') errs.push(`${where}: encodings ${m.encodings}`);
        // From the text rows, independently of the Parquet values: NaN never
        // counts, a zero bound is -0.0 / +0.0 (equal to 0 here).
        const v = ref.slice(lo, lo + Number(m.row_group_num_rows)).map((r) => r[ci]);
        const fin = v.filter((x) => x !== null);
        if (fin.length === v.length) {
          const mn = Math.min(...fin), mx = Math.max(...fin);
          if (num(m.stats_min_value) !== mn || num(m.stats_max_value) !== mx)
            errs.push(`${where}: statistics [${m.stats_min_value}, ${m.stats_max_value}], the rows give [${mn}, ${mx}]`);
          if (m.stats_min !== m.stats_min_value || m.stats_max !== m.stats_max_value)
            errs.push(`${where}: deprecated min/max [${m.stats_min}, ${m.stats_max}] differ`);
          if (num(s[1 + 2 * ci]) !== mn || num(s[2 + 2 * ci]) !== mx)
            errs.push(`${where}: DuckDB's min/max of the values [${s[1 + 2 * ci]}, ${s[2 + 2 * ci]}] differ from the rows' [${mn}, ${mx}]`);
        }
        // A value that is not finite in the text is +-Infinity in Parquet
        // (checked by the script); DuckDB shows an infinite bound as null.
      } else {
        if (m.stats_min_value !== s[1 + 2 * ci] || m.stats_max_value !== s[2 + 2 * ci])
          errs.push(`${where}: statistics [${m.stats_min_value}, ${m.stats_max_value}], rows give [${s[1 + 2 * ci]}, ${s[2 + 2 * ci]}]`);
        const legacy = c[2] !== 'BYTE_ARRAY';
        if (legacy ? m.stats_min !== m.stats_min_value || m.stats_max !== m.stats_max_value : m.stats_min !== null)
          errs.push(`${where}: deprecated min/max [${m.stats_min}, ${m.stats_max}]`);
      }
      if (errs.length > 10) return errs;
    }
  }
  if (a['min-row-groups'] && groups < Number(a['min-row-groups'])) errs.push(`${groups} row groups, expected at least ${a['min-row-groups']}`);

  // Every value against the text rows.
  if (got.length !== ref.length) errs.push(`${got.length} rows in Parquet, ${ref.length} in ${a.ref}`);
  let nonfinite = 0;
  for (let r = 0; r < Math.min(got.length, ref.length) && errs.length < 10; r++) {
    for (let i = 0; i < cols.length; i++) {
      const g = got[r][i], w = ref[r][i];
      let same;
      if (dbl[i]) {
        if (w === null) { same = typeof g === 'number' && !Number.isFinite(g); nonfinite += same; }
        else same = typeof g === 'number' && (Object.is(g, w) || (g === 0 && w === 0));
      } else {
        same = g === w;
      }
      if (!same) errs.push(`row ${r + 1} ${cols[i][0]}: Parquet ${g}, ${a.ref} ${w}`);
    }
  }
  if (!errs.length)
    console.log(`ok ${a.parquet.length} file(s), ${got.length} rows, ${groups} row groups, ${chunks} column chunks` +
                (nonfinite ? `, ${nonfinite} non-finite doubles` : ''));
  return errs;
});
JS
export DUCKDB_JS
pqm() { # description, then check.cjs arguments
    local d=$1
    shift
    check "$d" node "$T/check.cjs" "$@"
}
sql() { # one value from DuckDB
    node -e '
const { open } = require(process.env.DUCKDB_JS + "/lib.cjs");
(async () => { const db = await open(); const r = await db.table(process.argv[1]); console.log(r[0][0]); })()
  .catch((e) => { console.error(e); process.exit(1); });' "$1"
}

x analyze -q -r "$TRAIN" -w 10 --out "$T/m" --no-report
M="$T/m/model.json"

# ---- (a) stream --model -------------------------------------------------------------
for f in "$F2" "$SF" "$TRAIN"; do
    b=$(basename "$f")
    rm -rf "$T/p"
    x stream -q -r "$f" -w 10 --model "$M" -o "$T/s.parquet" -o "$T/s.jsonl" -o "$T/s.csv" \
        -o "$T/p/%Y%m%d-%H%M.parquet"
    n=$(wc -l <"$T/s.jsonl")
    pqm "$b: stream Parquet = JSON Lines of the same run ($n rows): AGM columns, cluster, distance, statistics" \
        --kind scored --ref "$T/s.jsonl" --parquet "$T/s.parquet" --codec ZSTD
    pqm "$b: stream Parquet = CSV of the same run" --kind scored --ref "$T/s.csv" --parquet "$T/s.parquet"
    mapfile -t parts < <(find "$T/p" -name '*.parquet' | sort)
    args=()
    for p in "${parts[@]}"; do args+=(--parquet "$p"); done
    pqm "$b: one file per minute (${#parts[@]}), in name order = JSON Lines" --kind scored \
        --ref "$T/s.jsonl" "${args[@]}"
done
check "the runs above had rows and more than one cluster" \
    test "$(sql "SELECT count(DISTINCT cluster) FROM read_parquet('$T/s.parquet')")" -gt 1
timeout 60 "$NETAGM" stream -q -r "$F2" -w 10 --model "$M" --format parquet -o - >"$T/o.parquet"
check "stream --format parquet -o -: exit 0" test $? -eq 0
x stream -q -r "$F2" -w 10 --model "$M" -o "$T/s.jsonl"
pqm "Parquet on standard output with --model" --kind scored --ref "$T/s.jsonl" --parquet "$T/o.parquet"
# No window at all: the schema still has the two columns.
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00' >"$T/empty.pcap"
x stream -q -r "$T/empty.pcap" --model "$M" -o "$T/e.parquet" -o "$T/e.csv" -o "$T/e.jsonl"
check "no rows: empty JSON Lines" test ! -s "$T/e.jsonl"
pqm "no rows: 27 columns, zero rows" --kind scored --ref "$T/e.csv" --parquet "$T/e.parquet"
check "no rows: the CSV header names cluster and distance" \
    bash -c "head -1 '$T/e.csv' | tr -d '\r' | grep -q ',len_mode_pkts,cluster,distance$'"
# Without --model: exactly the file netagm agm writes.
x stream -q -r "$F2" -w 10 -o "$T/u.parquet"
x agm -q -r "$F2" -w 10 -o "$T/u_batch.parquet"
check "without --model: 25 columns, byte for byte netagm agm's file" cmp -s "$T/u.parquet" "$T/u_batch.parquet"

# ---- (b) analyze and apply ----------------------------------------------------------
x analyze -q -r "$DOM" -w 10 --out "$T/r1" --no-report
x analyze -q -r "$DOM" -w 10 --out "$T/r2" --no-report --assignments "$T/r2/assignments.parquet"
x analyze -q -r "$DOM" -w 10 --out "$T/r3" --no-report --assignments "$T/r3/a.parquet" \
    --row-group-size 64K --compression gzip
check "--assignments FILE.parquet replaces assignments.csv" \
    bash -c "[ -s '$T/r2/assignments.parquet' ] && [ ! -e '$T/r2/assignments.csv' ]"
check "the three runs trained the same model" python3 - "$T"/r{1,2,3}/model.json <<'PY'
import json, sys
def core(p):
    m = json.load(open(p))
    return {k: m[k] for k in ("encoding", "scaler", "pca", "clustering")}
ms = [core(p) for p in sys.argv[1:]]
sys.exit(0 if ms[0] == ms[1] == ms[2] else 1)
PY
n=$(($(wc -l <"$T/r1/assignments.csv") - 1))
pqm "analyze: assignments.parquet = assignments.csv ($n rows, every column)" \
    --kind assignments --ref "$T/r1/assignments.csv" --parquet "$T/r2/assignments.parquet" --codec ZSTD
pqm "analyze: gzip, several row groups" --kind assignments --ref "$T/r1/assignments.csv" \
    --parquet "$T/r3/a.parquet" --codec GZIP --min-row-groups 4
x apply -q --model "$T/r1/model.json" -r "$DOM" -w 10 -o "$T/ap.csv"
x apply -q --model "$T/r1/model.json" -r "$DOM" -w 10 -o "$T/ap.parquet"
pqm "apply -o FILE.parquet = apply -o FILE.csv" --kind assignments --ref "$T/ap.csv" --parquet "$T/ap.parquet"
x apply -q --model "$T/r1/model.json" --agm "$T/s.jsonl" --pcs 1 -o "$T/ap1.csv"
"$NETAGM" apply -q --model "$T/r1/model.json" --agm "$T/s.jsonl" --pcs 1 --format parquet -o - \
    --compression snappy >"$T/ap1.out"
check "apply --format parquet -o -: exit 0" test $? -eq 0
pqm "apply --format parquet -o - (--pcs 1, snappy)" --kind assignments --ref "$T/ap1.csv" \
    --parquet "$T/ap1.out" --codec SNAPPY
"$NETAGM" analyze -q -r "$TRAIN" --out "$T/r4" --no-report --compression zstd 2>/dev/null
check "analyze: Parquet options without a Parquet file: exit 2" test $? -eq 2
"$NETAGM" apply -q --model "$M" -r "$TRAIN" --format jsonl -o "$T/x" 2>/dev/null
check "apply --format jsonl: exit 2" test $? -eq 2
"$NETAGM" analyze -q -r "$TRAIN" --out "$T/r5" --no-report --assignments /nonexistent/a.parquet \
    2>"$T/err"
rc=$?
check "analyze: unwritable assignments file: exit 1, named" \
    bash -c "[ $rc -eq 1 ] && grep -q /nonexistent/a.parquet '$T/err'"

# ---- (c) distances that are not finite ----------------------------------------------
# A model netagm writes gives finite distances (counts, bounded scaled
# values, finite centres). A hand-edited scaler mean of -1e300 makes the
# first scaled column about 1e298 and its square overflow: distance +inf.
python3 - "$M" "$T/inf.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["scaler"]["mean"][0] = -1e300
json.dump(m, open(sys.argv[2], "w"))
PY
x stream -q -r "$F2" -w 10 --model "$T/inf.json" -o "$T/i.parquet" -o "$T/i.jsonl" -o "$T/i.csv"
check "infinite distance: JSON null on every row" \
    bash -c "[ \$(grep -c '\"distance\":null}\$' '$T/i.jsonl') -eq \$(wc -l < '$T/i.jsonl') ]"
check "infinite distance: empty CSV field on every row" \
    bash -c "[ -n \"\$(tail -n +2 '$T/i.csv')\" ] && ! tail -n +2 '$T/i.csv' | tr -d '\r' | grep -qv ',\$'"
pqm "infinite distance: Parquet rows = JSON Lines" --kind scored --ref "$T/i.jsonl" --parquet "$T/i.parquet"
check "infinite distance: +Infinity in Parquet" \
    test "$(sql "SELECT count(*) FILTER (isinf(distance) AND distance > 0) = count(*) AND count(*) > 0 FROM read_parquet('$T/i.parquet')")" = true
check "infinite distance: DuckDB finds those rows with distance > 1e308" \
    test "$(sql "SELECT count(*) FROM read_parquet('$T/i.parquet') WHERE distance > 1e308")" = "$(wc -l <"$T/i.jsonl")"

finish
