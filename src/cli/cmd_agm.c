/* netagm agm: captures to AGM records. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_parquet.h"
#include "netagm/capture.h"
#include "netagm/mpi.h"

enum { OPT_FORMAT = CLI_OPT_FIRST_FREE, OPT_HELP, OPT_OUTPUT_PARTS };

static void usage(FILE *fp)
{
    fputs("usage: netagm agm -r PATH [-r PATH ...] [-w SECONDS] [-o OUT] [options]\n"
          "\n"
          "Aggregate the TCP/IP header fields of every packet by source address (and\n"
          "window) into AGM records: for each of dst_ip, src_port, dst_port, ttl, proto,\n"
          "flags and len, the number of distinct values, the mode and the mode's packet\n"
          "count, plus the packet count (docs/agm.md).\n"
          "\n"
          "Output options:\n"
          "  -o, --output PATH      where rows go: .csv, .jsonl or .parquet, or - for\n"
          "                         stdout (default: -)\n"
          "      --format FMT       csv, jsonl or parquet (overrides the extension)\n"
          "      --output-parts     -o names a directory; write one part file per MPI\n"
          "                         rank into it (docs/cluster.md)\n"
          CLI_PARQUET_HELP
          "\n" CLI_INPUT_HELP
          "\n"
          "Exit status: 0 all input read cleanly; 1 fatal error; 2 usage error;\n"
          "3 output written but some input was bad (each bad file is named on stderr\n"
          "with the byte offset of the damage).\n"
          "\n"
          "Examples:\n"
          "  netagm agm -r day/ -w 60 -o agm.csv\n"
          "  netagm agm -r a.pcap.gz -r b.pcapng --proto tcp -j 2 -o agm.jsonl\n"
          "  tcpdump -w - | netagm agm -r - -o -\n"
          "  mpirun -np 16 --hostfile hosts netagm agm -r /data/day/ -w 60 -o agm.csv\n",
          fp);
}

/* Open the row sink for path (on each writing rank under MPI). */
static nagm_sink *open_sink(void *pq, const char *path, nagm_format fmt)
{
    if (fmt != NAGM_FMT_PARQUET)
        return cli_open_agm_sink(path, fmt);
    char perr[NAGM_PQ_ERRBUF_SIZE];
    nagm_sink *sink = nagm_sink_parquet_new(path, &((cli_parquet *)pq)->opts, perr);
    if (!sink)
        cli_error("agm", "cannot write %s", perr);
    return sink;
}

static int report_stats(void *ci, const nagm_stats *st)
{
    return cli_report_stats(ci, st);
}

/* Where the rows of nagm_run_agm_each go: the sink, window by window. */
typedef struct write_ctx {
    nagm_sink *sink;
    uint64_t rows; /* written */
    int wrc;       /* the first failed write's status, else NAGM_SINK_OK */
} write_ctx;

static int write_rows(void *ctx, nagm_agm_row *rows, size_t n)
{
    write_ctx *wc = ctx;
    wc->wrc = wc->sink->write(wc->sink, rows, n);
    free(rows);
    if (wc->wrc != NAGM_SINK_OK)
        return 1;
    wc->rows += n;
    return 0;
}

int cmd_agm(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_INPUT_LONGOPTS,
        {"output", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"output-parts", no_argument, NULL, OPT_OUTPUT_PARTS},
        CLI_PARQUET_LONGOPTS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    cli_input ci;
    cli_input_init(&ci);
    const char *out = "-";
    nagm_format fmt = NAGM_FMT_AUTO;
    cli_parquet pq;
    cli_parquet_init(&pq);
    int opt, output_parts = 0;
    cli_mute muted;
    cli_mute_ranks(&muted);
    while ((opt = getopt_long(argc, argv, CLI_INPUT_SHORTOPTS "o:h", longopts, NULL)) != -1) {
        int r = cli_input_option(&ci, opt, optarg);
        if (r == 0)
            r = cli_parquet_option(&pq, "agm", opt, optarg);
        if (r < 0)
            goto usage_error;
        if (r > 0)
            continue;
        switch (opt) {
        case 'o':
            out = optarg;
            break;
        case OPT_FORMAT:
            fmt = nagm_format_from_name(optarg);
            if (fmt == NAGM_FMT_AUTO) {
                cli_error("agm", "--format: expected csv, jsonl or parquet, got '%s'", optarg);
                goto usage_error;
            }
            break;
        case OPT_OUTPUT_PARTS:
            output_parts = 1;
            break;
        case 'h':
            usage(stdout);
            cli_unmute_ranks(&muted);
            cli_input_free(&ci);
            return NAGM_EXIT_OK;
        default:
            usage(stderr);
            goto usage_error;
        }
    }
    if (optind < argc) {
        cli_error("agm", "unexpected argument '%s' (inputs are given with -r)", argv[optind]);
        goto usage_error;
    }
    if (cli_input_finish(&ci, "agm") != 0)
        goto usage_error;

    if (cli_parquet_format(&pq, "agm", out, fmt, &fmt) != 0)
        goto usage_error;
    cli_unmute_ranks(&muted);
    /* Under mpirun (or for part files) the MPI driver runs the job. */
    if (nagm_mpi_active() || output_parts) {
        nagm_mpi_agm_job job = {&ci.run, out, fmt, output_parts, ci.quiet, open_sink, &pq,
                                report_stats, &ci};
        int mstatus = nagm_mpi_agm(&job);
        cli_input_free(&ci);
        return mstatus;
    }
    nagm_sink *sink = open_sink(&pq, out, fmt);
    if (!sink) {
        cli_input_free(&ci);
        return NAGM_EXIT_ERROR;
    }
    /* Rows are written window by window as the aggregation hands them over. */
    write_ctx wc = {sink, 0, NAGM_SINK_OK};
    nagm_stats st;
    char errbuf[NAGM_ERRBUF_SIZE] = "";
    int status = nagm_run_agm_each(&ci.run, write_rows, &wc, &st, errbuf);
    if ((status == NAGM_EXIT_ERROR && wc.wrc == NAGM_SINK_OK) || status == NAGM_EXIT_USAGE) {
        cli_error("agm", "%s", errbuf);
        sink->close(sink);
        cli_input_free(&ci);
        return status;
    }
    int wrc = wc.wrc;
    if (wrc == NAGM_SINK_OK && sink->flush)
        wrc = sink->flush(sink);
    char serr[sizeof sink->err];
    memcpy(serr, sink->err, sizeof serr);
    if (sink->close(sink) != NAGM_SINK_OK || wrc != NAGM_SINK_OK) {
        cli_error("agm", "writing %s failed%s%s", out, serr[0] ? ": " : "", serr);
        status = NAGM_EXIT_ERROR;
    }
    st.rows = wc.rows;
    if (cli_report_stats(&ci, &st) != 0 && status == NAGM_EXIT_OK)
        status = NAGM_EXIT_ERROR;
    cli_input_free(&ci);
    return status;

usage_error:
    cli_input_free(&ci);
    return cli_usage_exit(&muted);
}
