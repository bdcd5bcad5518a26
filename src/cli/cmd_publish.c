/* netagm publish: capture -> decode -> packet records on a Kafka topic,
 * keyed by source address, for netagm stream --kafka-in (scale-out stream:
 * one publisher per capture point, a consumer group behind the topic). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd_stream.h"
#include "netagm/stream.h"

enum { OPT_SNAPLEN = CLI_OPT_FIRST_FREE, OPT_BUFSIZE, OPT_NO_PROMISC, OPT_FOLLOW, OPT_STATE };

static void usage(FILE *fp)
{
    fputs("usage: netagm publish SOURCE -o kafka://BROKERS/TOPIC [options]\n"
          "\n"
          "Decode every packet (the same decoder and filters as netagm agm) and write it\n"
          "to a Kafka topic as a compact binary packet record (docs/stream.md), keyed by\n"
          "its source address so that a source always lands on the same partition.\n"
          "netagm stream --kafka-in reads the topic.\n"
          "\n"
          "Source (exactly one):\n"
          "  -r, --read PATH        capture files or directories, or - for stdin\n"
          "  -i, --interface IFACE  live capture (immediate mode)\n"
          "      --follow DIR       capture files appearing in DIR, each once complete\n"
          "      --state FILE       --follow: progress file\n"
          "\n"
          "Options:\n"
          "  -o, --output SPEC      kafka://HOST:PORT[,HOST:PORT]/TOPIC[?property=value&...]\n"
          "                         (properties go to librdkafka, e.g. compression.type=lz4)\n"
          "      --proto LIST       keep only these IP protocols\n"
          "      --bpf EXPR         tcpdump filter (the kernel's, for -i)\n"
          "      --snaplen BYTES    -i: bytes kept per packet (128 is plenty for the headers)\n"
          "      --buffer-size BYTES  -i: kernel buffer (default 32M)\n"
          "      --no-promisc       -i: not in promiscuous mode\n"
          "  -Z, --user USER        drop root privileges once the source is open\n"
          "      --stats-json FILE  write the run statistics as JSON at the end\n"
          "  -q, --quiet            no summary on stderr\n"
          "\n"
          "Runs until the input ends or SIGINT/SIGTERM, then waits for every record to\n"
          "be acknowledged. Exit status: 0 all delivered; 1 error or records lost;\n"
          "2 usage error; 3 some input was bad.\n"
          "\n"
          "Example:\n"
          "  netagm publish -i eth0 --snaplen 128 -o kafka://127.0.0.1:9092/packets\n",
          fp);
}

typedef struct pub_ctx {
    nagm_filter flt;
    nagm_stats st;
    nagm_kpub *k;
    int failed;
} pub_ctx;

static int pub_frame(void *ctx, const nagm_src_meta *m, const nagm_frame *f)
{
    (void)m;
    pub_ctx *pc = ctx;
    nagm_pkt p;
    if (!nagm_filter_frame(&pc->flt, f, &p, &pc->st))
        return 0;
    if (nagm_kpub_send(pc->k, &p) != 0) {
        pc->failed = 1;
        return 1;
    }
    return 0;
}

int cmd_publish(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"read", required_argument, NULL, 'r'},
        {"interface", required_argument, NULL, 'i'},
        {"follow", required_argument, NULL, OPT_FOLLOW},
        {"state", required_argument, NULL, OPT_STATE},
        {"output", required_argument, NULL, 'o'},
        {"proto", required_argument, NULL, CLI_OPT_PROTO},
        {"bpf", required_argument, NULL, CLI_OPT_BPF},
        {"snaplen", required_argument, NULL, OPT_SNAPLEN},
        {"buffer-size", required_argument, NULL, OPT_BUFSIZE},
        {"no-promisc", no_argument, NULL, OPT_NO_PROMISC},
        {"user", required_argument, NULL, 'Z'},
        {"stats-json", required_argument, NULL, CLI_OPT_STATS_JSON},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *reads[256];
    size_t nreads = 0;
    const char *iface = NULL, *out = NULL, *user = NULL, *stats_json = NULL, *follow = NULL;
    const char *state = NULL;
    int quiet = 0, promisc = 1;
    int64_t snaplen = 0, bufsize = 0;
    nagm_run_opts ro;
    memset(&ro, 0, sizeof ro);
    char err[NAGM_ERRBUF_SIZE] = "";
    int opt;
    while ((opt = getopt_long(argc, argv, "r:i:o:Z:qh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'r':
            if (nreads == sizeof reads / sizeof reads[0]) {
                cli_error("publish", "too many -r arguments (give a directory)");
                return NAGM_EXIT_USAGE;
            }
            reads[nreads++] = optarg;
            break;
        case 'i':
            iface = optarg;
            break;
        case OPT_FOLLOW:
            follow = optarg;
            break;
        case OPT_STATE:
            state = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case CLI_OPT_PROTO:
            if (nagm_parse_protos(optarg, &ro, err) != 0) {
                cli_error("publish", "%s", err);
                return NAGM_EXIT_USAGE;
            }
            break;
        case CLI_OPT_BPF:
            ro.bpf = optarg;
            break;
        case OPT_SNAPLEN:
            if (stream_parse_bytes(optarg, &snaplen) != 0 || snaplen > 262144) {
                cli_error("publish", "--snaplen: expected 1..262144 bytes, got '%s'", optarg);
                return NAGM_EXIT_USAGE;
            }
            break;
        case OPT_BUFSIZE:
            if (stream_parse_bytes(optarg, &bufsize) != 0 || bufsize > INT32_MAX) {
                cli_error("publish", "--buffer-size: expected a byte count, got '%s'", optarg);
                return NAGM_EXIT_USAGE;
            }
            break;
        case OPT_NO_PROMISC:
            promisc = 0;
            break;
        case 'Z':
            user = optarg;
            break;
        case CLI_OPT_STATS_JSON:
            stats_json = optarg;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            usage(stdout);
            return NAGM_EXIT_OK;
        default:
            usage(stderr);
            return NAGM_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("publish", "unexpected argument '%s'", argv[optind]);
        return NAGM_EXIT_USAGE;
    }
    int nsrc = (nreads > 0) + (iface != NULL) + (follow != NULL);
    if (nsrc != 1) {
        cli_error("publish", "give one source: -r PATH, -i IFACE or --follow DIR");
        return NAGM_EXIT_USAGE;
    }
    if (!out || strncmp(out, "kafka://", 8) != 0) {
        cli_error("publish", "give the topic with -o kafka://HOST:PORT/TOPIC");
        return NAGM_EXIT_USAGE;
    }
    if ((snaplen || bufsize || !promisc) && !iface) {
        cli_error("publish", "--snaplen, --buffer-size and --no-promisc apply to -i only");
        return NAGM_EXIT_USAGE;
    }

    pub_ctx pc;
    memset(&pc, 0, sizeof pc);
    nagm_run_opts fo = ro;
    if (iface)
        fo.bpf = NULL; /* the kernel filters */
    if (nagm_filter_init(&pc.flt, &fo, err) != 0) {
        cli_error("publish", "%s", err);
        return NAGM_EXIT_USAGE;
    }
    int status = NAGM_EXIT_OK;
    nagm_source *src = NULL;
    if (nreads) {
        src = nagm_source_files_new(reads, nreads, err);
    } else if (iface) {
        nagm_live_opts lo = {.iface = iface,
                             .snaplen = (int)snaplen,
                             .buffer_bytes = (int)bufsize,
                             .promisc = promisc,
                             .bpf = ro.bpf};
        src = nagm_source_live_new(&lo, err);
    } else {
        nagm_follow_opts fw = {.dir = follow, .state_path = state, .window_ns = 0};
        src = nagm_source_follow_new(&fw, err);
    }
    if (!src) {
        cli_error("publish", "%s", err);
        nagm_filter_free(&pc.flt);
        return NAGM_EXIT_ERROR;
    }
    if (user && nagm_drop_privileges(user, err) != 0) {
        cli_error("publish", "-Z: %s", err);
        src->close(src);
        nagm_filter_free(&pc.flt);
        return NAGM_EXIT_ERROR;
    }
    if (nagm_kpub_new(out, &pc.k, err) != 0) {
        cli_error("publish", "%s", err);
        src->close(src);
        nagm_filter_free(&pc.flt);
        return NAGM_EXIT_ERROR;
    }
    stream_signals_install();
    nagm_source_cb cb = {.ctx = &pc, .frame = pub_frame};
    int64_t t0 = stream_now_ns();
    while (!stream_stop_signal) {
        int r = src->poll(src, &cb, 100);
        if (r == NAGM_SRC_END)
            break;
        if (r == NAGM_SRC_ERROR) {
            cli_error("publish", "%s", src->err);
            status = NAGM_EXIT_ERROR;
            break;
        }
        if (pc.failed) {
            cli_error("publish", "%s", nagm_kpub_error(pc.k));
            status = NAGM_EXIT_ERROR;
            break;
        }
        nagm_kpub_poll(pc.k);
        /* --follow progress: the files read are done once every record of
         * them is acknowledged (no engine: no windows to wait for). */
        if (src->commit) {
            nagm_kpub_stats now;
            nagm_kpub_get_stats(pc.k, &now);
            if (now.queue_depth == 0 && now.failed == 0)
                src->commit(src, NULL, 0);
        }
    }
    nagm_kpub_stats ks;
    nagm_kpub_get_stats(pc.k, &ks);
    if (nagm_kpub_close(pc.k, 30000) != 0)
        status = NAGM_EXIT_ERROR;
    else if (src->commit)
        src->commit(src, NULL, 1);
    nagm_source_stats ss;
    src->stats(src, &ss);
    pc.st.files_ok = ss.files_ok;
    pc.st.files_bad = ss.files_bad;
    pc.st.input_bytes = ss.input_bytes;
    pc.st.rows = ks.sent;
    pc.st.elapsed_s = (double)(stream_now_ns() - t0) / 1e9;
    if (!quiet && !(status == NAGM_EXIT_ERROR && pc.st.frames == 0)) {
        nagm_stats_print(&pc.st, stderr);
        fprintf(stderr, "  published     %12" PRIu64 "  packet records (%" PRIu64 " bytes)\n",
                ks.sent, ks.bytes);
        if (ss.has_pcap)
            fprintf(stderr, "  pcap          received %" PRIu64 ", dropped %" PRIu64 "\n",
                    ss.pcap_recv, ss.pcap_drop);
    }
    if (stats_json) {
        FILE *f = !strcmp(stats_json, "-") ? stdout : fopen(stats_json, "w");
        if (!f || nagm_stats_write_json(&pc.st, f) != 0)
            status = NAGM_EXIT_ERROR;
        if (f && f != stdout)
            fclose(f);
    }
    if (status == NAGM_EXIT_OK && ss.files_bad)
        status = NAGM_EXIT_BADINPUT;
    src->close(src);
    nagm_filter_free(&pc.flt);
    return status;
}
