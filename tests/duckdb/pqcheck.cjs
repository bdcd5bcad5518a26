// Read a Parquet file written by netagm with DuckDB and check it against the
// CSV written by the same command: schema (names, physical, converted and
// logical types, REQUIRED), footer (rows, row groups, writer, table name),
// every column chunk's codec and statistics (min/max recomputed from the
// rows of that row group, null_count 0), and every value, row by row.
//
// usage: node pqcheck.cjs --table agm|packets --parquet F --csv F
//                         [--codec ZSTD|SNAPPY|GZIP|UNCOMPRESSED] [--min-row-groups N]
'use strict';
const { open, lit, csvLines, compareLines, parseArgs, main } = require('./lib.cjs');
const { TABLES, render } = require('./tables.cjs');

main(async () => {
  const a = parseArgs(process.argv.slice(2), { table: 1, parquet: 1, csv: 1, codec: 1, 'min-row-groups': 1 });
  const cols = TABLES[a.table];
  if (!cols || !a.parquet || !a.csv) throw new Error('usage: --table agm|packets --parquet F --csv F');
  const db = await open();
  const f = lit(a.parquet);
  const errs = [];

  // Schema.
  const schema = await db.rows(`SELECT name, type, converted_type, logical_type, repetition_type
                                FROM parquet_schema(${f})`);
  if (schema.length !== cols.length + 1) errs.push(`schema has ${schema.length - 1} columns, expected ${cols.length}`);
  cols.forEach((c, i) => {
    const s = schema[i + 1] || {};
    if (s.name !== c[0]) errs.push(`column ${i}: name ${s.name}, expected ${c[0]}`);
    if (s.type !== c[2]) errs.push(`column ${c[0]}: physical type ${s.type}, expected ${c[2]}`);
    if (s.converted_type !== c[3]) errs.push(`column ${c[0]}: converted type ${s.converted_type}, expected ${c[3]}`);
    if (!String(s.logical_type).startsWith(c[4])) errs.push(`column ${c[0]}: logical type ${s.logical_type}, expected ${c[4]}`);
    if (s.repetition_type !== 'REQUIRED') errs.push(`column ${c[0]}: ${s.repetition_type}, expected REQUIRED`);
  });
  const types = await db.rows(`DESCRIBE SELECT * FROM read_parquet(${f})`);
  cols.forEach((c, i) => {
    if (!types[i] || types[i].column_type !== c[1]) errs.push(`column ${c[0]}: DuckDB type ${types[i] && types[i].column_type}, expected ${c[1]}`);
  });
  if (errs.length) return errs;

  // Footer.
  const csv = csvLines(a.csv);
  const header = csv.shift();
  if (header !== cols.map((c) => c[0]).join(',')) errs.push(`CSV header ${header} does not match the schema`);
  const [fm] = await db.rows(`SELECT * FROM parquet_file_metadata(${f})`);
  if (Number(fm.num_rows) !== csv.length) errs.push(`footer num_rows ${fm.num_rows}, CSV has ${csv.length} rows`);
  if (!String(fm.created_by).startsWith('netagm version ')) errs.push(`created_by ${fm.created_by}`);
  if (a['min-row-groups'] && Number(fm.num_row_groups) < Number(a['min-row-groups']))
    errs.push(`${fm.num_row_groups} row groups, expected at least ${a['min-row-groups']}`);
  const kv = await db.rows(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(${f})`);
  if (!kv.some((r) => r.k === 'netagm.table' && r.v === a.table)) errs.push(`key_value_metadata lacks netagm.table=${a.table}`);

  // Column chunks: codec and statistics against the rows of each group.
  const meta = await db.rows(`SELECT row_group_id, row_group_num_rows, column_id, path_in_schema, compression,
                                     stats_min_value, stats_max_value, stats_null_count, num_values
                              FROM parquet_metadata(${f}) ORDER BY row_group_id, column_id`);
  if (meta.length !== Number(fm.num_row_groups) * cols.length) errs.push(`${meta.length} column chunks for ${fm.num_row_groups} row groups`);
  for (const m of meta) {
    if (a.codec && m.compression !== a.codec) errs.push(`row group ${m.row_group_id} ${m.path_in_schema}: codec ${m.compression}, expected ${a.codec}`);
    if (m.stats_null_count !== '0') errs.push(`row group ${m.row_group_id} ${m.path_in_schema}: null_count ${m.stats_null_count}`);
    if (m.num_values !== m.row_group_num_rows) errs.push(`row group ${m.row_group_id} ${m.path_in_schema}: ${m.num_values} values for ${m.row_group_num_rows} rows`);
  }
  if (csv.length > 0) {
    const mm = cols.map((c) => `min("${c[0]}")::VARCHAR, max("${c[0]}")::VARCHAR`).join(', ');
    const actual = await db.table(`
      WITH rg AS (SELECT DISTINCT row_group_id, row_group_num_rows::BIGINT AS n FROM parquet_metadata(${f})),
           b AS (SELECT row_group_id, sum(n) OVER (ORDER BY row_group_id) - n AS lo,
                        sum(n) OVER (ORDER BY row_group_id) AS hi FROM rg)
      SELECT b.row_group_id, ${mm}
      FROM read_parquet(${f}, file_row_number = true) d
      JOIN b ON d.file_row_number >= b.lo AND d.file_row_number < b.hi
      GROUP BY b.row_group_id ORDER BY b.row_group_id`);
    for (const m of meta) {
      const row = actual[Number(m.row_group_id)];
      const ci = Number(m.column_id);
      if (!row || m.stats_min_value !== row[1 + 2 * ci] || m.stats_max_value !== row[2 + 2 * ci])
        errs.push(`row group ${m.row_group_id} ${m.path_in_schema}: statistics [${m.stats_min_value}, ${m.stats_max_value}], rows give [${row && row[1 + 2 * ci]}, ${row && row[2 + 2 * ci]}]`);
      if (errs.length > 10) break;
    }
  }

  // Every value, in file order, as the CSV writer's text.
  const got = (await db.table(`SELECT concat_ws(',', ${cols.map(render).join(', ')})
                               FROM read_parquet(${f}, file_row_number = true) ORDER BY file_row_number`)).map((r) => r[0]);
  errs.push(...compareLines(a.parquet, got, csv));
  if (!errs.length)
    console.log(`ok ${a.parquet}: ${csv.length} rows, ${fm.num_row_groups} row groups, ${meta.length ? meta[0].compression : 'no chunks'}`);
  return errs;
});
