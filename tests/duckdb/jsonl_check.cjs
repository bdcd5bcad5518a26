// A JSON Lines packet table against the CSV of the same input: each line
// must be one JSON object with the columns in order, and the same values.
//
// usage: node jsonl_check.cjs --jsonl F --csv F
'use strict';
const fs = require('fs');
const { csvLines, compareLines, parseArgs, main } = require('./lib.cjs');

main(async () => {
  const a = parseArgs(process.argv.slice(2), { jsonl: 1, csv: 1 });
  const csv = csvLines(a.csv);
  const header = csv.shift().split(',');
  const text = fs.readFileSync(a.jsonl, 'utf8');
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const errs = [];
  const got = lines.map((l, i) => {
    const o = JSON.parse(l);
    const keys = Object.keys(o);
    if (keys.join(',') !== header.join(',') && errs.length < 5) errs.push(`line ${i + 1}: keys ${keys}`);
    return header.map((k) => String(o[k])).join(',');
  });
  errs.push(...compareLines(a.jsonl, got, csv));
  if (!errs.length) console.log(`ok ${a.jsonl}: ${got.length} rows`);
  return errs;
});
