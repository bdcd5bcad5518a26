/* netagm CLI: shared pieces of the subcommands. */
#ifndef NETAGM_CLI_H
#define NETAGM_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "netagm/pipeline.h"
#include "netagm/sink.h"
#include "netagm/stats.h"

/* Options every capture-reading subcommand (agm, extract, analyze) accepts.
 * Add CLI_INPUT_SHORTOPTS to the getopt string and CLI_INPUT_LONGOPTS to the
 * long option table, and pass every option to cli_input_option first. */
#define CLI_INPUT_SHORTOPTS "r:w:j:q"
enum {
    CLI_OPT_PROTO = 0x1000,
    CLI_OPT_BPF,
    CLI_OPT_STRICT,
    CLI_OPT_STATS_JSON,
    CLI_OPT_QUIET,
    CLI_OPT_FIRST_FREE = 0x1100 /* subcommands number their own options from here */
};
#define CLI_INPUT_LONGOPTS                                                                       \
    {"read", required_argument, NULL, 'r'}, {"window", required_argument, NULL, 'w'},            \
        {"jobs", required_argument, NULL, 'j'}, {"quiet", no_argument, NULL, 'q'},               \
        {"proto", required_argument, NULL, CLI_OPT_PROTO},                                       \
        {"bpf", required_argument, NULL, CLI_OPT_BPF},                                           \
        {"strict", no_argument, NULL, CLI_OPT_STRICT},                                           \
        {"stats-json", required_argument, NULL, CLI_OPT_STATS_JSON}

/* Help text for the shared input options (printed by each --help). */
#define CLI_INPUT_HELP                                                                           \
    "Input options:\n"                                                                           \
    "  -r, --read PATH        capture file (pcap, pcapng, .gz, .zst), directory (read\n"         \
    "                         recursively in name order) or - for stdin; repeatable\n"           \
    "  -w, --window SECONDS   tumbling event-time windows of this length (default:\n"            \
    "                         one window over the whole input)\n"                                \
    "  -j, --jobs N           aggregate with N threads (output identical for any N)\n"           \
    "      --proto LIST       keep only these IP protocols (tcp,udp,icmp,icmpv6,sctp,N)\n"       \
    "      --bpf EXPR         keep only frames matching a tcpdump filter expression\n"           \
    "      --strict           stop at the first bad input file (exit 1)\n"                       \
    "      --stats-json FILE  write the run statistics as JSON\n"                                \
    "  -q, --quiet            no progress and no summary on stderr\n"

typedef struct cli_input {
    nagm_run_opts run;
    const char **inputs; /* owned array of borrowed argv strings */
    size_t ninputs, capinputs;
    const char *stats_json;
    int quiet;
} cli_input;

/* Initialise defaults (one window, -j 1). */
void cli_input_init(cli_input *ci);
void cli_input_free(cli_input *ci);

/* Consume opt/arg if it is a shared input option. Returns 1 if consumed, 0 if
 * not an input option, -1 after printing an error (exit with NAGM_EXIT_USAGE). */
int cli_input_option(cli_input *ci, int opt, const char *arg);

/* Check the collected options (at least one -r) and finish run options
 * (progress on when stderr is a TTY and not quiet). Returns 0 or -1 after
 * printing an error. */
int cli_input_finish(cli_input *ci, const char *cmd);

/* End-of-run reporting: summary on stderr unless quiet, JSON if asked.
 * Returns 0, or -1 if the JSON file could not be written. */
int cli_report_stats(const cli_input *ci, const nagm_stats *st);

/* Open an output path for writing ("-" = stdout) before any work is done, so
 * an unwritable path fails early. Returns the FILE* or NULL after printing. */
FILE *cli_open_output(const char *path, const char *mode);

/* Open an AGM row sink for path in fmt (NAGM_FMT_AUTO: from the extension,
 * CSV for "-" and unknown ones; Parquet with default options). Returns NULL
 * after printing an error. */
nagm_sink *cli_open_agm_sink(const char *path, nagm_format fmt);

/* Parse a non-negative number of seconds (decimals allowed) into ns.
 * Returns 0 or -1. */
int cli_parse_seconds(const char *s, int64_t *ns);

/* Under an MPI launcher every rank parses the same command line; only rank
 * 0 should speak. cli_mute_ranks sends the standard output and error of the
 * other ranks to /dev/null (nothing happens outside a launcher or on rank 0)
 * and keeps the originals in *m; cli_unmute_ranks puts them back. */
typedef struct cli_mute {
    int saved[2]; /* -1: not muted */
} cli_mute;
void cli_mute_ranks(cli_mute *m);
void cli_unmute_ranks(cli_mute *m);

/* Unmute and return a usage error's exit status: NAGM_EXIT_USAGE, but
 * NAGM_EXIT_OK for a muted rank. A muted rank that exited non-zero first
 * could make the launcher kill rank 0 before its message got out; the
 * launcher's status is rank 0's either way. */
int cli_usage_exit(cli_mute *m);

/* Print "netagm CMD: message" on stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
