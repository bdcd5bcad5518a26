/* netagm extract: captures to a packet table (one row per counted packet),
 * as Parquet, CSV or JSON Lines, in one pass. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_parquet.h"
#include "netagm/capture.h"
#include "netagm/pktout.h"

enum { OPT_FORMAT = CLI_OPT_FIRST_FREE };

static void usage(FILE *fp)
{
    fputs("usage: netagm extract -r PATH [-r PATH ...] [-o OUT] [options]\n"
          "\n"
          "Write one row per counted packet (docs/agm.md, \"Which packets count\"):\n"
          "  ts, src_ip, dst_ip, src_port, dst_port, ttl, proto, flags, len,\n"
          "  caplen, wirelen, linktype\n"
          "The first nine are the AGM fields, so GROUP BY src_ip over this table in any\n"
          "SQL engine reproduces `netagm agm` (docs/parquet.md shows the query).\n"
          "\n"
          "Output options:\n"
          "  -o, --output PATH        .parquet, .csv or .jsonl, or - for stdout\n"
          "                           (default: -, as CSV)\n"
          "      --format FMT         csv, jsonl or parquet (overrides the extension)\n"
          CLI_PARQUET_HELP
          "\n"
          "Input options:\n"
          "  -r, --read PATH        capture file (pcap, pcapng, .gz, .zst), directory (read\n"
          "                         recursively in name order) or - for stdin; repeatable\n"
          "      --proto LIST       keep only these IP protocols (tcp,udp,icmp,icmpv6,sctp,N)\n"
          "      --bpf EXPR         keep only frames matching a tcpdump filter expression\n"
          "      --strict           stop at the first bad input file (exit 1)\n"
          "      --stats-json FILE  write the run statistics as JSON\n"
          "  -q, --quiet            no progress and no summary on stderr\n"
          "\n"
          "Exit status: 0 all input read cleanly; 1 fatal error; 2 usage error;\n"
          "3 output written but some input was bad (each bad file is named on stderr\n"
          "with the byte offset of the damage).\n"
          "\n"
          "Examples:\n"
          "  netagm extract -r day/ -o packets.parquet\n"
          "  netagm extract -r day/ --proto tcp -o packets.parquet --compression zstd\n"
          "  netagm extract -r a.pcap.gz -o - | head\n",
          fp);
}

typedef struct extract_ctx {
    nagm_pktout *out;
    int failed;
} extract_ctx;

static int on_packets(void *ctx, const nagm_pkt *pkts, size_t n)
{
    extract_ctx *x = ctx;
    for (size_t i = 0; i < n; i++)
        if (nagm_pktout_write(x->out, &pkts[i]) != 0) {
            x->failed = 1;
            return 1; /* stop: the output is broken */
        }
    return 0;
}

int cmd_extract(int argc, char **argv)
{
    static const struct option longopts[] = {
        CLI_INPUT_LONGOPTS,
        {"output", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, OPT_FORMAT},
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
    int opt;
    while ((opt = getopt_long(argc, argv, CLI_INPUT_SHORTOPTS "o:h", longopts, NULL)) != -1) {
        if (opt == 'w' || opt == 'j') {
            /* Packets are not aggregated: windows and shards mean nothing. */
            cli_error("extract", "-%c applies to aggregation (netagm agm), not to extract",
                      opt);
            goto usage_error;
        }
        int r = cli_input_option(&ci, opt, optarg);
        if (r == 0)
            r = cli_parquet_option(&pq, "extract", opt, optarg);
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
                cli_error("extract", "--format: expected csv, jsonl or parquet, got '%s'",
                          optarg);
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
        cli_error("extract", "unexpected argument '%s' (inputs are given with -r)", argv[optind]);
        goto usage_error;
    }
    if (cli_input_finish(&ci, "extract") != 0)
        goto usage_error;
    if (cli_parquet_format(&pq, "extract", out, fmt, &fmt) != 0)
        goto usage_error;

    /* Open the output first, so an unwritable path fails before any work. */
    char errbuf[NAGM_ERRBUF_SIZE > NAGM_PQ_ERRBUF_SIZE ? NAGM_ERRBUF_SIZE : NAGM_PQ_ERRBUF_SIZE] =
        "";
    extract_ctx x = {NULL, 0};
    if (nagm_pktout_open(out, fmt, &pq.opts, &x.out, errbuf) != 0) {
        cli_error("extract", "cannot write %s", errbuf);
        cli_input_free(&ci);
        return NAGM_EXIT_ERROR;
    }
    nagm_stats st;
    int status = nagm_run_packets(&ci.run, on_packets, &x, &st, errbuf);
    /* (a failed write stops the run too: it is reported once, below) */
    if ((status == NAGM_EXIT_ERROR && !x.failed) || status == NAGM_EXIT_USAGE)
        cli_error("extract", "%s", errbuf);
    st.rows = nagm_pktout_rows(x.out);
    char werr[NAGM_PQ_ERRBUF_SIZE] = "";
    if (nagm_pktout_close(x.out, werr) != 0 || x.failed) {
        cli_error("extract", "writing %s failed: %s", out, werr[0] ? werr : "write error");
        status = NAGM_EXIT_ERROR;
    }
    if (cli_report_stats(&ci, &st) != 0 && status == NAGM_EXIT_OK)
        status = NAGM_EXIT_ERROR;
    cli_input_free(&ci);
    return status;

usage_error:
    cli_input_free(&ci);
    return NAGM_EXIT_USAGE;
}
