/* netagm CLI: the Parquet output options shared by agm and extract. */
#ifndef NETAGM_CLI_PARQUET_H
#define NETAGM_CLI_PARQUET_H

#include <getopt.h>

#include "netagm/parquet.h"
#include "netagm/sink.h"

enum {
    CLI_OPT_COMPRESSION = 0x1080, /* between CLI_OPT_* and CLI_OPT_FIRST_FREE */
    CLI_OPT_ROW_GROUP,
    CLI_OPT_PAGE_SIZE
};

#define CLI_PARQUET_LONGOPTS                                                                     \
    {"compression", required_argument, NULL, CLI_OPT_COMPRESSION},                               \
        {"row-group-size", required_argument, NULL, CLI_OPT_ROW_GROUP},                          \
        {"page-size", required_argument, NULL, CLI_OPT_PAGE_SIZE}

#define CLI_PARQUET_HELP                                                                         \
    "      --compression CODEC  Parquet codec: zstd (default), snappy, gzip, none\n"             \
    "      --row-group-size N   Parquet row groups of N bytes of values (K, M, G\n"              \
    "                           suffixes; default 128M)\n"                                       \
    "      --page-size N        Parquet data page and dictionary size (default 1M)\n"

typedef struct cli_parquet {
    nagm_parquet_opts opts;
    int given; /* a Parquet option was on the command line */
} cli_parquet;

void cli_parquet_init(cli_parquet *p);

/* Consume opt/arg if it is a Parquet option. Returns 1 if consumed, 0 if not
 * one, -1 after printing an error (exit with NAGM_EXIT_USAGE). */
int cli_parquet_option(cli_parquet *p, const char *cmd, int opt, const char *arg);

/* The format output path gets with --format fmt (NAGM_FMT_AUTO: from the
 * extension, CSV when none). When Parquet options were given for another
 * format, prints an error and returns -1; else 0 and *out. */
int cli_parquet_format(const cli_parquet *p, const char *cmd, const char *path, nagm_format fmt,
                       nagm_format *out);

#endif
