/* netagm: row sinks. A sink is a small vtable (open, write rows, flush,
 * close); every writer of AGM rows (CSV, JSONL, Parquet, Kafka, PostgreSQL)
 * implements it. */
#ifndef NETAGM_SINK_H
#define NETAGM_SINK_H

#include <stddef.h>
#include <stdio.h>

#include "netagm/agm.h"

#ifdef __cplusplus
extern "C" {
#endif

enum nagm_sink_status { NAGM_SINK_OK = 0, NAGM_SINK_RETRY = 1, NAGM_SINK_ERROR = -1 };

typedef struct nagm_sink nagm_sink;
struct nagm_sink {
    /* Write n rows (already in output order). Returns a nagm_sink_status. */
    int (*write)(nagm_sink *s, const nagm_agm_row *rows, size_t n);
    /* Called when a window is complete (stream mode: one call per closed
     * window; batch: once at the end). May be NULL. */
    int (*flush)(nagm_sink *s);
    /* Finish the output (trailers, footers), release everything, free s.
     * Returns NAGM_SINK_OK or NAGM_SINK_ERROR. */
    int (*close)(nagm_sink *s);
    char err[256]; /* last error message */
};

/* Output formats. */
typedef enum nagm_format {
    NAGM_FMT_AUTO = 0,
    NAGM_FMT_CSV,
    NAGM_FMT_JSONL,
    NAGM_FMT_PARQUET
} nagm_format;

/* Format from a name ("csv", "jsonl", "json", "parquet"); NAGM_FMT_AUTO if
 * unknown. */
nagm_format nagm_format_from_name(const char *name);

/* Format from a path's extension (.csv, .jsonl/.json/.ndjson, .parquet);
 * NAGM_FMT_AUTO if none matches. "-" gives NAGM_FMT_AUTO. */
nagm_format nagm_format_from_path(const char *path);

/* CSV writer (RFC 4180: header row, CRLF line ends). Writes to fp,
 * which it does not close unless own_fp is set. Returns NULL on ENOMEM. */
nagm_sink *nagm_sink_csv_new(FILE *fp, int own_fp);

/* JSON Lines writer: one object per row, keys in column order. */
nagm_sink *nagm_sink_jsonl_new(FILE *fp, int own_fp);

#ifdef __cplusplus
}
#endif
#endif
