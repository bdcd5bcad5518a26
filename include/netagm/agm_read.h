/* netagm: reading AGM tables (CSV, JSON Lines or Parquet, as written by
 * `netagm agm` or, for Parquet, other writers) back into rows, for
 * `netagm analyze --agm` and `netagm apply`. */
#ifndef NETAGM_AGM_READ_H
#define NETAGM_AGM_READ_H

#include <stddef.h>
#include <stdio.h>

#include "netagm/agm.h"
#include "netagm/sink.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NAGM_AGM_READ_ERRBUF 512

/* Read a whole AGM table from fp; name is used in messages.
 * fmt: NAGM_FMT_CSV, NAGM_FMT_JSONL, NAGM_FMT_PARQUET, or NAGM_FMT_AUTO:
 * Parquet when the stream starts with "PAR1", else decided by the first
 * non-blank byte ('{' = JSON Lines, else CSV). Parquet is read in place
 * when fp is a regular file, else read into memory first.
 * CSV needs a header naming the 25 AGM columns (any order; other columns are
 * ignored); JSON Lines needs those keys in every object; Parquet those
 * top-level columns (docs/parquet.md, "Reading Parquet", lists the types).
 * Counts must be unsigned integers and consistent (1 <= X_uniq <= pkts,
 * 1 <= X_mode_pkts <= pkts). Rows are returned in file order.
 * On success returns 0, *rows malloc'd (caller frees; NULL when *n is 0).
 * On error returns -1 with "NAME: line N: reason" in errbuf ("NAME: row N:
 * reason" for Parquet values, "NAME: offset N: reason" for a damaged
 * Parquet file; NAGM_AGM_READ_ERRBUF bytes); nothing is returned. */
int nagm_agm_read_fp(FILE *fp, const char *name, nagm_format fmt, nagm_agm_row **rows,
                     size_t *n, char *errbuf);

/* The same for a path ("-" = stdin); NAGM_FMT_AUTO also looks at the
 * extension first (a file starting with "PAR1" is Parquet whatever its
 * name). */
int nagm_agm_read(const char *path, nagm_format fmt, nagm_agm_row **rows, size_t *n,
                  char *errbuf);

/* Parse an ISO 8601 UTC time as written by netagm ("2020-01-31T12:00:00.123456Z";
 * up to 9 fraction digits; "Z" or "+00:00" or nothing after it) into ns since
 * the epoch. Returns 0 or -1. */
int nagm_ts_parse(const char *s, size_t len, int64_t *ns);

#ifdef __cplusplus
}
#endif
#endif
