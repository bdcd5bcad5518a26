/* netagm: the packet table written by `netagm extract`: one row per counted
 * packet, columns
 *
 *   ts, src_ip, dst_ip, src_port, dst_port, ttl, proto, flags, len,
 *   caplen, wirelen, linktype
 *
 * The first nine are agm.md's packet fields (plus the timestamp), so grouping
 * this table by src_ip in any SQL engine reproduces the AGM rows
 * (docs/parquet.md). Formats:
 *   - CSV: RFC 4180, header row, CRLF line ends; ts as ISO 8601 UTC with
 *     microseconds ("2020-01-31T12:00:00.123456Z", like the AGM CSV);
 *   - JSONL: one object per packet, keys in column order, the same texts;
 *   - Parquet: ts TIMESTAMP(MICROS, UTC), addresses STRING, caplen and
 *     wirelen INT64, the rest INT32 (docs/parquet.md).
 * Timestamps are truncated to microseconds toward minus infinity.
 */
#ifndef NETAGM_PKTOUT_H
#define NETAGM_PKTOUT_H

#include <stddef.h>
#include <stdint.h>

#include "netagm/parquet.h"
#include "netagm/pkt.h"
#include "netagm/sink.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NAGM_PKT_NCOLS 12

/* Name of packet-table column i (0 <= i < NAGM_PKT_NCOLS). Static string. */
const char *nagm_pkt_col_name(int i);

typedef struct nagm_pktout nagm_pktout;

/* Open a packet-table writer on path ("-" = standard output).
 * fmt NAGM_FMT_AUTO picks the format from the path's extension, and CSV when
 * there is none (or for "-"). Parquet to a terminal is refused. pq holds the
 * Parquet options (NULL = defaults; ignored for CSV and JSONL).
 * Returns 0 and *out, or -1 with errbuf (NAGM_PQ_ERRBUF_SIZE bytes) set. */
int nagm_pktout_open(const char *path, nagm_format fmt, const nagm_parquet_opts *pq,
                     nagm_pktout **out, char *errbuf);

/* Append one packet. Returns 0, or -1 on a write or memory error (then see
 * nagm_pktout_error; further writes fail too). No allocation per call in the
 * steady state. Not thread-safe. */
int nagm_pktout_write(nagm_pktout *w, const nagm_pkt *p);

/* Rows written so far. */
uint64_t nagm_pktout_rows(const nagm_pktout *w);

/* The format actually chosen (never NAGM_FMT_AUTO). */
nagm_format nagm_pktout_format(const nagm_pktout *w);

/* Last error ("" if none). Borrowed. */
const char *nagm_pktout_error(const nagm_pktout *w);

/* Finish (Parquet footer; flush), close the output unless it is standard
 * output, free w. Returns 0, or -1 with errbuf set (errbuf may be NULL).
 * Accepts NULL. */
int nagm_pktout_close(nagm_pktout *w, char *errbuf);

#ifdef __cplusplus
}
#endif
#endif
