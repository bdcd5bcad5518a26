-- The AGM table of one window over the whole input, by GROUP BY over the
-- packet table `pk` (the columns of `netagm extract`), already in memory.
-- docs/parquet.md's query with the window machinery taken out, so that
-- DuckDB is timed on its fastest exact form: one GROUP BY per field over
-- typed columns, the address sort key (nagm_ip_key, defined by the
-- document's macros) computed only for destinations tied for the mode.
-- bench/duckdb_agm.cjs times it; tests/sh/extract_sql.sh checks its rows.
WITH bounds AS (SELECT min(ts) AS t0, max(ts) AS t1 FROM pk),
d AS (SELECT src_ip, dst_ip, count(*) AS n FROM pk GROUP BY ALL),
dst AS (
  SELECT src_ip, sum(n) AS pkts, count(*) AS uniq, max(n) AS mode_pkts FROM d GROUP BY ALL),
dst_mode AS (
  SELECT d.src_ip, arg_min(d.dst_ip, nagm_ip_key(d.dst_ip)) AS mode
  FROM d JOIN dst ON d.src_ip = dst.src_ip AND d.n = dst.mode_pkts GROUP BY ALL),
src_port AS (
  SELECT src_ip, count(*) AS src_port_uniq,
         arg_max(v, n::HUGEINT * 4294967296 - v) AS src_port_mode, max(n) AS src_port_mode_pkts
  FROM (SELECT src_ip, src_port AS v, count(*) AS n FROM pk GROUP BY ALL) GROUP BY ALL),
dst_port AS (
  SELECT src_ip, count(*) AS dst_port_uniq,
         arg_max(v, n::HUGEINT * 4294967296 - v) AS dst_port_mode, max(n) AS dst_port_mode_pkts
  FROM (SELECT src_ip, dst_port AS v, count(*) AS n FROM pk GROUP BY ALL) GROUP BY ALL),
ttl AS (
  SELECT src_ip, count(*) AS ttl_uniq,
         arg_max(v, n::HUGEINT * 4294967296 - v) AS ttl_mode, max(n) AS ttl_mode_pkts
  FROM (SELECT src_ip, ttl AS v, count(*) AS n FROM pk GROUP BY ALL) GROUP BY ALL),
proto AS (
  SELECT src_ip, count(*) AS proto_uniq,
         arg_max(v, n::HUGEINT * 4294967296 - v) AS proto_mode, max(n) AS proto_mode_pkts
  FROM (SELECT src_ip, proto AS v, count(*) AS n FROM pk GROUP BY ALL) GROUP BY ALL),
flags AS (
  SELECT src_ip, count(*) AS flags_uniq,
         arg_max(v, n::HUGEINT * 4294967296 - v) AS flags_mode, max(n) AS flags_mode_pkts
  FROM (SELECT src_ip, flags AS v, count(*) AS n FROM pk GROUP BY ALL) GROUP BY ALL),
len AS (
  SELECT src_ip, count(*) AS len_uniq,
         arg_max(v, n::HUGEINT * 4294967296 - v) AS len_mode, max(n) AS len_mode_pkts
  FROM (SELECT src_ip, len AS v, count(*) AS n FROM pk GROUP BY ALL) GROUP BY ALL)
SELECT bounds.t0 AS window_start, bounds.t1 AS window_end, src_ip, dst.pkts,
       dst.uniq AS dst_ip_uniq, dst_mode.mode AS dst_ip_mode, dst.mode_pkts AS dst_ip_mode_pkts,
       src_port_uniq, src_port_mode, src_port_mode_pkts,
       dst_port_uniq, dst_port_mode, dst_port_mode_pkts,
       ttl_uniq, ttl_mode, ttl_mode_pkts,
       proto_uniq, proto_mode, proto_mode_pkts,
       flags_uniq, flags_mode, flags_mode_pkts,
       len_uniq, len_mode, len_mode_pkts
FROM dst JOIN dst_mode USING (src_ip)
     JOIN src_port USING (src_ip)
     JOIN dst_port USING (src_ip)
     JOIN ttl USING (src_ip)
     JOIN proto USING (src_ip)
     JOIN flags USING (src_ip)
     JOIN len USING (src_ip)
     CROSS JOIN bounds
ORDER BY nagm_ip_key(src_ip)
