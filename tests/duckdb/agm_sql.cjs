// Run docs/parquet.md's "AGM from the packet table" query with DuckDB on
// packet tables written by `netagm extract`, and compare the result, row by
// row and as text, with the CSV written by `netagm agm` on the same input.
//
// usage: node agm_sql.cjs --doc docs/parquet.md [--bench bench/duckdb_agm.sql]
//                         --case PACKETS.parquet,AGM.csv,WINDOW_SECONDS [--case ...]
// --bench also runs the benchmark's one-window form of the query (over the
// packet table loaded as `pk`) on every case with WINDOW_SECONDS 0.
'use strict';
const fs = require('fs');
const { open, text, lit, csvLines, compareLines, parseArgs, main } = require('./lib.cjs');

// The SQL between the BEGIN/END markers, without the code fence.
function docQuery(path) {
  const text = fs.readFileSync(path, 'utf8');
  const m = text.match(/<!-- BEGIN agm-from-packets\.sql -->\s*```sql\n([\s\S]*?)```\s*<!-- END agm-from-packets\.sql -->/);
  if (!m) throw new Error(`${path}: no agm-from-packets.sql block`);
  return m[1];
}

// Sort keys of the address macro against Python's ipaddress (version, then
// the address as a 32-/128-bit number), worked out independently.
const KEYS = [
  ['0.0.0.0', '400000000'], ['255.255.255.255', '4ffffffff'], ['10.1.2.3', '40a010203'],
  ['::', '6' + '0'.repeat(32)], ['::1', '6' + '0'.repeat(31) + '1'], ['1::', '60001' + '0'.repeat(28)],
  ['2001:db8::1', '620010db8' + '0'.repeat(23) + '1'],
  ['::ffff:10.1.2.3', '6' + '0'.repeat(20) + 'ffff0a010203'],
  ['1:0:0:2::3', '600010000000000020000000000000003'],
  ['fe80::a:b:c:d', '6fe80000000000000000a000b000c000d'],
];

main(async () => {
  const a = parseArgs(process.argv.slice(2), { doc: 1, bench: 1, case: 'list' });
  const sql = docQuery(a.doc);
  const db = await open();
  const errs = [];

  await db.rows(sql.split('\nWITH p AS')[0]); // the SETs and macros alone
  for (const [addr, key] of KEYS) {
    const [r] = await db.rows(`SELECT nagm_ip_key(${lit(addr)}) AS k`);
    if (r.k !== key) errs.push(`nagm_ip_key('${addr}') = ${r.k}, expected ${key}`);
  }
  let total = 0;
  for (const c of a.case || []) {
    const [pq, csvPath, w] = c.split(',');
    const q = sql
      .replace("read_parquet('packets.parquet')", `read_parquet(${lit(pq)})`)
      .replace(/SET VARIABLE window_s = [0-9.]+;/, `SET VARIABLE window_s = ${Number(w)};`);
    if (!q.includes(lit(pq)) || !q.includes(`window_s = ${Number(w)};`))
      throw new Error('could not substitute the input and window of the query');
    // The document's text as it stands; values formatted here, not by SQL.
    const rows = (await db.raw(q)).map((r) => r.map(text).join(','));
    const want = csvLines(csvPath);
    want.shift();
    const e = compareLines(`${pq} (-w ${w})`, rows, want);
    errs.push(...e);
    if (!e.length) console.log(`ok ${pq} -w ${w}: ${rows.length} AGM rows equal`);
    total += rows.length;
    if (a.bench && Number(w) === 0) {
      await db.rows(`CREATE OR REPLACE TABLE pk AS SELECT * FROM read_parquet(${lit(pq)})`);
      const brows = (await db.raw(fs.readFileSync(a.bench, 'utf8'))).map((r) => r.map(text).join(','));
      const be = compareLines(`${a.bench} on ${pq}`, brows, want);
      errs.push(...be);
      if (!be.length) console.log(`ok ${a.bench} on ${pq}: ${brows.length} AGM rows equal`);
    }
  }
  if (!errs.length) console.log(`ok ${(a.case || []).length} cases, ${total} rows`);
  return errs;
});
