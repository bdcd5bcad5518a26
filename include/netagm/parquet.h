/* netagm: Apache Parquet writer (written from the published format,
 * apache/parquet-format parquet.thrift).
 *
 * A small columnar writer for flat tables of REQUIRED columns: INT32 and INT64
 * with integer annotations, INT64 TIMESTAMP(MICROS, UTC), BYTE_ARRAY STRING
 * and DOUBLE. Values are buffered per column for the current row group, cut into
 * data pages (v1) of about opts.page_bytes, dictionary-encoded (RLE_DICTIONARY,
 * falling back to PLAIN when a column's dictionary outgrows one page) or
 * PLAIN, and compressed with the chosen codec. A row group is written when its
 * rows reach opts.row_group_bytes of plain-encoded data, so memory stays
 * bounded by about one row group whatever the number of rows. Every column
 * chunk carries statistics (min_value, max_value, null_count = 0).
 *
 * The file is written sequentially (magic, row groups, footer), so it may go
 * to a pipe or standard output; nothing is readable until the footer is
 * written by nagm_pq_close.
 *
 * Also here: the AGM-row sink, with or without a model's cluster and
 * distance (docs/parquet.md lists the schemas).
 */
#ifndef NETAGM_PARQUET_H
#define NETAGM_PARQUET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "netagm/sink.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Size of the errbuf arguments below. */
#define NAGM_PQ_ERRBUF_SIZE 512

/* Compression codecs; the values are parquet.thrift's CompressionCodec. */
typedef enum nagm_pq_codec {
    NAGM_PQ_UNCOMPRESSED = 0,
    NAGM_PQ_SNAPPY = 1,
    NAGM_PQ_GZIP = 2,
    NAGM_PQ_ZSTD = 6
} nagm_pq_codec;

/* Codec from its command-line name: "none" (or "uncompressed"), "zstd",
 * "snappy", "gzip". Returns 0, or -1 if the name is unknown. */
int nagm_pq_codec_from_name(const char *name, nagm_pq_codec *out);

/* Command-line name of a codec ("none", "zstd", ...). Static string. */
const char *nagm_pq_codec_name(nagm_pq_codec c);

#define NAGM_PQ_DEFAULT_ROW_GROUP_BYTES (128u * 1024 * 1024)
#define NAGM_PQ_DEFAULT_PAGE_BYTES (1024u * 1024)

typedef struct nagm_parquet_opts {
    nagm_pq_codec codec;      /* default NAGM_PQ_ZSTD */
    int level;                /* codec level; 0 = the codec's default */
    uint64_t row_group_bytes; /* rows per group: until this many bytes of plain-
                                 encoded values; 0 = default (128 MiB) */
    uint32_t page_bytes;      /* target data page and maximum dictionary size
                                 (plain-encoded bytes); 0 = default (1 MiB) */
    int no_dictionary;        /* 1: PLAIN only, never RLE_DICTIONARY */
} nagm_parquet_opts;

/* Fill *o with the defaults (zstd, 128 MiB row groups, 1 MiB pages,
 * dictionary on). */
void nagm_parquet_opts_init(nagm_parquet_opts *o);

/* Parse a byte size: a decimal number with an optional K, M or G suffix
 * (powers of 1024), e.g. "4096", "64M". Returns 0, or -1 if invalid or 0. */
int nagm_pq_parse_size(const char *s, uint64_t *out);

/* ---- generic writer ------------------------------------------------------ */

/* Column types: physical type + logical annotation. */
typedef enum nagm_pq_type {
    NAGM_PQ_INT32 = 0, /* INT32, INTEGER(32, signed) */
    NAGM_PQ_INT64,     /* INT64, INTEGER(64, signed) */
    NAGM_PQ_TS_MICROS, /* INT64, TIMESTAMP(isAdjustedToUTC=true, MICROS) */
    NAGM_PQ_STRING,    /* BYTE_ARRAY, STRING (UTF-8) */
    NAGM_PQ_DOUBLE     /* DOUBLE (IEEE 754 binary64), no annotation; always
                          PLAIN. Statistics: nan_count always; min/max by
                          value, a zero bound written as -0.0 (min) or +0.0
                          (max) as parquet.thrift asks, and no bounds at all
                          for a column chunk that holds a NaN */
} nagm_pq_type;

typedef struct nagm_pq_column {
    const char *name;  /* column name; borrowed until nagm_pq_open returns */
    nagm_pq_type type;
    int dictionary;    /* 1: try RLE_DICTIONARY (low-cardinality columns);
                          ignored for DOUBLE */
} nagm_pq_column;

typedef struct nagm_pq_writer nagm_pq_writer;

/* Open a writer on path ("-" is standard output, refused when it is a
 * terminal). cols[0..ncols-1] is the schema (copied). kv is an optional
 * NULL-terminated array of key, value, key, value, ... strings stored in the
 * footer's key_value_metadata (copied). opts may be NULL for the defaults.
 * Returns 0 and *out, or -1 with errbuf (NAGM_PQ_ERRBUF_SIZE bytes) set. */
int nagm_pq_open(const char *path, const nagm_pq_column *cols, size_t ncols,
                 const char *const *kv, const nagm_parquet_opts *opts, nagm_pq_writer **out,
                 char *errbuf);

/* The same on an open stream; the writer closes fp at the end if own_fp. */
int nagm_pq_open_fp(FILE *fp, int own_fp, const nagm_pq_column *cols, size_t ncols,
                    const char *const *kv, const nagm_parquet_opts *opts, nagm_pq_writer **out,
                    char *errbuf);

/* Set column col of the current row. Each column must be set exactly once per
 * row, with the setter of its type (INT32: put_i32; INT64 and TS_MICROS:
 * put_i64 (microseconds since the epoch for TS_MICROS); STRING: put_str;
 * DOUBLE: put_f64, any value including NaN and infinities, stored bit for
 * bit).
 * Failures (ENOMEM, wrong type) are sticky and reported by nagm_pq_end_row
 * and nagm_pq_close. Not thread-safe. */
void nagm_pq_put_i32(nagm_pq_writer *w, size_t col, int32_t v);
void nagm_pq_put_i64(nagm_pq_writer *w, size_t col, int64_t v);
void nagm_pq_put_str(nagm_pq_writer *w, size_t col, const char *s, size_t n);
void nagm_pq_put_f64(nagm_pq_writer *w, size_t col, double v);

/* Finish the current row; writes out a row group when it is full.
 * Returns 0, or -1 on error (then see nagm_pq_error; the file is unusable). */
int nagm_pq_end_row(nagm_pq_writer *w);

/* Rows finished so far. */
uint64_t nagm_pq_rows(const nagm_pq_writer *w);

/* Last error message ("" if none). Borrowed. */
const char *nagm_pq_error(const nagm_pq_writer *w);

/* Write the last row group and the footer, close the stream if owned, free w.
 * Returns 0, or -1 with errbuf set (errbuf may be NULL). Accepts NULL. */
int nagm_pq_close(nagm_pq_writer *w, char *errbuf);

/* Release w without writing a footer (the output is left incomplete). */
void nagm_pq_abort(nagm_pq_writer *w);

/* ---- AGM rows -------------------------------------------------------------- */

/* Sink writing AGM rows (agm.md's 25 columns, in order) to a Parquet file
 * at path ("-" = standard output, as nagm_pq_open). window_start and
 * window_end are TIMESTAMP(MICROS, UTC), truncated toward minus infinity like
 * the CSV text; src_ip and dst_ip_mode are STRING; pkts, *_uniq and
 * *_mode_pkts are INT64; the other modes INT32. opts may be NULL.
 * Returns NULL with errbuf (NAGM_PQ_ERRBUF_SIZE bytes) set on failure. */
nagm_sink *nagm_sink_parquet_new(const char *path, const nagm_parquet_opts *opts, char *errbuf);

/* The same with two more columns after the 25: cluster (INT32) and distance
 * (DOUBLE), a model's assignment of each row (stream --model). Rows go in
 * through nagm_sink_parquet_write_scored; the sink's plain write() refuses
 * them (it has no scores). */
nagm_sink *nagm_sink_parquet_scored_new(const char *path, const nagm_parquet_opts *opts,
                                        char *errbuf);

/* Write n rows with their scores (score[i] belongs to rows[i]; stream.h's
 * nagm_row_score) to a sink from nagm_sink_parquet_scored_new. score may be
 * NULL only when n is 0. Returns a nagm_sink_status (s->err says why). */
struct nagm_row_score;
int nagm_sink_parquet_write_scored(nagm_sink *s, const nagm_agm_row *rows,
                                   const struct nagm_row_score *score, size_t n);

/* Nanoseconds to microseconds, rounding toward minus infinity. */
int64_t nagm_ns_to_us_floor(int64_t ns);

#ifdef __cplusplus
}
#endif
#endif
