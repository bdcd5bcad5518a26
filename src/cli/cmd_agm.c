/* netagm agm: captures to AGM records. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "netagm/capture.h"

enum { OPT_FORMAT = CLI_OPT_FIRST_FREE, OPT_HELP };

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
          "\n" CLI_INPUT_HELP
          "\n"
          "Exit status: 0 all input read cleanly; 1 fatal error; 2 usage error;\n"
          "3 output written but some input was bad (each bad file is named on stderr\n"
          "with the byte offset of the damage).\n"
          "\n"
          "Examples:\n"
          "  netagm agm -r day/ -w 60 -o agm.csv\n"
          "  netagm agm -r a.pcap.gz -r b.pcapng --proto tcp -j 2 -o agm.jsonl\n"
          "  tcpdump -w - | netagm agm -r - -o -\n",
          fp);
}

int cmd_agm(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_INPUT_LONGOPTS,
        {"output", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    cli_input ci;
    cli_input_init(&ci);
    const char *out = "-";
    nagm_format fmt = NAGM_FMT_AUTO;
    int opt;
    while ((opt = getopt_long(argc, argv, CLI_INPUT_SHORTOPTS "o:h", longopts, NULL)) != -1) {
        int r = cli_input_option(&ci, opt, optarg);
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
        case 'h':
            usage(stdout);
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

    nagm_sink *sink = cli_open_agm_sink(out, fmt);
    if (!sink) {
        cli_input_free(&ci);
        return NAGM_EXIT_ERROR;
    }
    nagm_agm_row *rows;
    size_t nrows;
    nagm_stats st;
    char errbuf[NAGM_ERRBUF_SIZE] = "";
    int status = nagm_run_agm(&ci.run, &rows, &nrows, &st, errbuf);
    if (status == NAGM_EXIT_ERROR || status == NAGM_EXIT_USAGE) {
        cli_error("agm", "%s", errbuf);
        sink->close(sink);
        cli_input_free(&ci);
        return status;
    }
    int wrc = sink->write(sink, rows, nrows);
    if (wrc == NAGM_SINK_OK && sink->flush)
        wrc = sink->flush(sink);
    char serr[sizeof sink->err];
    memcpy(serr, sink->err, sizeof serr);
    if (sink->close(sink) != NAGM_SINK_OK || wrc != NAGM_SINK_OK) {
        cli_error("agm", "writing %s failed%s%s", out, serr[0] ? ": " : "", serr);
        status = NAGM_EXIT_ERROR;
    }
    st.rows = nrows;
    free(rows);
    if (cli_report_stats(&ci, &st) != 0 && status == NAGM_EXIT_OK)
        status = NAGM_EXIT_ERROR;
    cli_input_free(&ci);
    return status;

usage_error:
    cli_input_free(&ci);
    return NAGM_EXIT_USAGE;
}
