// The two tables netagm writes (docs/parquet.md): column name, DuckDB type,
// Parquet physical type, converted type, logical-type prefix, and how a
// value is rendered to match the CSV writers' text.
'use strict';
const TS = ['TIMESTAMP WITH TIME ZONE', 'INT64', 'TIMESTAMP_MICROS', 'TimestampType(isAdjustedToUTC=1, unit=TimeUnit(MILLIS=<null>, MICROS=MicroSeconds()'];
const STR = ['VARCHAR', 'BYTE_ARRAY', 'UTF8', 'StringType()'];
const I32 = ['INTEGER', 'INT32', 'INT_32', 'IntType(bitWidth= , isSigned=1)'];
const I64 = ['BIGINT', 'INT64', 'INT_64', 'IntType(bitWidth=@, isSigned=1)'];

function agmColumns() {
  const cols = [['window_start', ...TS], ['window_end', ...TS], ['src_ip', ...STR], ['pkts', ...I64]];
  for (const f of ['dst_ip', 'src_port', 'dst_port', 'ttl', 'proto', 'flags', 'len']) {
    cols.push([`${f}_uniq`, ...I64]);
    cols.push([`${f}_mode`, ...(f === 'dst_ip' ? STR : I32)]);
    cols.push([`${f}_mode_pkts`, ...I64]);
  }
  return cols;
}

const packetColumns = [
  ['ts', ...TS], ['src_ip', ...STR], ['dst_ip', ...STR], ['src_port', ...I32], ['dst_port', ...I32],
  ['ttl', ...I32], ['proto', ...I32], ['flags', ...I32], ['len', ...I32], ['caplen', ...I64],
  ['wirelen', ...I64], ['linktype', ...I32],
];

const TABLES = { agm: agmColumns(), packets: packetColumns };

// SQL expression rendering column c (a row of TABLES) as the CSV text.
function render(c) {
  const q = '"' + c[0] + '"';
  return c[1] === TS[0] ? `strftime(${q}, '%Y-%m-%dT%H:%M:%S.%fZ')` : `CAST(${q} AS VARCHAR)`;
}

module.exports = { TABLES, render };
