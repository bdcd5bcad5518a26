// Shared helpers of the DuckDB checks: an in-memory DuckDB that never loads
// or downloads extensions (Parquet is built in), and small text utilities.
'use strict';
const fs = require('fs');
const { DuckDBInstance } = require('@duckdb/node-api');

async function open() {
  const inst = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    threads: '1',
  });
  const con = await inst.connect();
  await con.run("SET TimeZone = 'UTC'");
  return {
    // Rows of the last statement of sql as plain objects (BIGINT as text).
    async rows(sql) {
      const r = await con.runAndReadAll(sql);
      return r.getRowObjectsJson();
    },
    // Rows of the last statement as DuckDB values (BIGINT as bigint,
    // timestamps as objects with .micros).
    async raw(sql) {
      const r = await con.runAndReadAll(sql);
      return r.getRows();
    },
    // Rows as arrays of strings.
    async table(sql) {
      const r = await con.runAndReadAll(sql);
      return r.getRowsJson().map((row) => row.map((v) => (v === null ? null : String(v))));
    },
  };
}

// ISO 8601 UTC with microseconds from microseconds since the epoch (bigint),
// floor semantics for times before 1970; the CSV writers' text form.
function isoMicros(us) {
  const sec = us >= 0n ? us / 1000000n : -((-us + 999999n) / 1000000n);
  const frac = us - sec * 1000000n;
  const d = new Date(Number(sec) * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  return d.slice(0, 20) + frac.toString().padStart(6, '0') + 'Z';
}

// A DuckDB value as the CSV writers would print it.
function text(v) {
  if (v !== null && typeof v === 'object' && typeof v.micros === 'bigint') return isoMicros(v.micros);
  return String(v);
}

// Quote a path as an SQL string literal.
function lit(s) {
  return "'" + String(s).replace(/'/g, "''") + "'";
}

// Lines of an RFC 4180 file written with CRLF ends (no quoted fields here).
function csvLines(path) {
  const text = fs.readFileSync(path, 'latin1');
  if (text.length && !text.endsWith('\r\n')) throw new Error(`${path}: does not end with CRLF`);
  const lines = text.split('\r\n');
  lines.pop();
  return lines;
}

// Compare two arrays of lines; report the first differences.
function compareLines(what, got, want) {
  const errs = [];
  if (got.length !== want.length) errs.push(`${what}: ${got.length} rows, expected ${want.length}`);
  const n = Math.min(got.length, want.length);
  for (let i = 0; i < n && errs.length < 6; i++) {
    if (got[i] !== want[i]) errs.push(`${what}: row ${i + 1} differs\n   got:  ${got[i]}\n   want: ${want[i]}`);
  }
  return errs;
}

function parseArgs(argv, spec) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '');
    if (!(k in spec)) throw new Error(`unknown option ${argv[i]}`);
    if (spec[k] === 'list') (o[k] = o[k] || []).push(argv[++i]);
    else o[k] = argv[++i];
  }
  return o;
}

async function main(fn) {
  try {
    const errs = await fn();
    if (errs.length) {
      for (const e of errs) console.error('FAIL ' + e);
      process.exit(1);
    }
  } catch (e) {
    console.error('FAIL ' + (e && e.stack ? e.stack : e));
    process.exit(1);
  }
}

module.exports = { open, isoMicros, text, lit, csvLines, compareLines, parseArgs, main };
