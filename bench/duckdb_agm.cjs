// DuckDB's side of the benchmark: the AGM table by GROUP BY over packets that
// were extracted beforehand and are already loaded in memory.
//
// usage: node bench/duckdb_agm.cjs PACKETS.parquet AGM.csv OUT.csv [RUNS]
//   (NODE_PATH must reach @duckdb/node-api: tests/duckdb/setup.sh installs it)
// Loads PACKETS.parquet into an in-memory table `pk` and defines the address
// macros of docs/parquet.md's query (not timed), then times
// bench/duckdb_agm.sql (that query's one-window form, DuckDB's fastest exact
// form we know) over the table alone, RUNS times (default 1), writes the last
// result as CSV in netagm's text form to OUT.csv and prints one JSON line:
//   {"seconds": S, "runs": [S1, ...], "rows": N, "equal": true|false}
// where S is the median of the runs and equal compares OUT.csv with AGM.csv
// (netagm agm's rows) line by line.
'use strict';
const fs = require('fs');
const path = require('path');
const { DuckDBInstance } = require('@duckdb/node-api');
const { text, lit } = require('../tests/duckdb/lib.cjs');

async function run() {
  const [pq, agmCsv, out, runsArg] = process.argv.slice(2);
  const nruns = Math.max(1, parseInt(runsArg || '1', 10) || 1);
  const doc = fs.readFileSync(path.join(__dirname, '..', 'docs', 'parquet.md'), 'utf8');
  const m = doc.match(/<!-- BEGIN agm-from-packets\.sql -->\s*```sql\n([\s\S]*?)\nWITH p AS/);
  if (!m) throw new Error('docs/parquet.md: no agm-from-packets.sql block');
  const setup = m[1]; // SET TimeZone, the variables and the macros
  const sql = fs.readFileSync(path.join(__dirname, 'duckdb_agm.sql'), 'utf8');
  const inst = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const con = await inst.connect();
  await con.run(setup);
  await con.run(`CREATE TABLE pk AS SELECT * FROM read_parquet(${lit(pq)})`);
  const times = [];
  let res;
  for (let i = 0; i < nruns; i++) {
    const t0 = process.hrtime.bigint();
    res = await con.runAndReadAll(sql);
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const seconds = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  const rows = res.getRows().map((r) => r.map(text).join(','));
  const want = fs.readFileSync(agmCsv, 'latin1').split('\r\n').slice(1, -1);
  fs.writeFileSync(out, rows.join('\n') + '\n');
  const equal = rows.length === want.length && rows.every((r, i) => r === want[i]);
  console.log(JSON.stringify({ seconds, runs: times, rows: rows.length, equal }));
}

run().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
