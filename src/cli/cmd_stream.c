/* netagm stream: packets -> event-time windows -> the same AGM rows as batch
 * (and the model's cluster and distance) -> sinks.
 *
 * One thread runs the loop: poll the source (at most 100 ms), hand every
 * frame to nagm_filter_frame (the batch path's decode and filters) and every
 * counted packet to the windowing engine, write each closed window to every
 * sink, commit the source's progress once every sink holds the windows
 * emitted so far, and publish metrics. Sources and sinks that must wait
 * (a silent pipe, a database that is down) do so on their own threads.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cmd_stream.h"
#include "netagm/ml.h"
#include "netagm/stream.h"

#define MAX_SINKS NAGM_METRICS_MAX_SINKS
#define POLL_MS 100

volatile sig_atomic_t stream_stop_signal;
volatile sig_atomic_t stream_hup;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        stream_hup = 1;
    else
        stream_stop_signal = sig;
}

void stream_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int64_t stream_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t unix_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int stream_parse_bytes(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || v <= 0)
        return -1;
    int64_t mul = 1;
    if (*end == 'K' || *end == 'k')
        mul = 1024, end++;
    else if (*end == 'M' || *end == 'm')
        mul = 1024 * 1024, end++;
    else if (*end == 'G' || *end == 'g')
        mul = 1024 * 1024 * 1024, end++;
    if (*end || v > INT64_MAX / mul)
        return -1;
    *out = v * mul;
    return 0;
}

/* ---- the run ------------------------------------------------------------------ */

typedef struct run {
    nagm_stream *eng;
    nagm_filter flt;
    nagm_stats st;
    nagm_source *src;
    nagm_wsink *sinks[MAX_SINKS];
    size_t nsinks;
    nagm_model *model;
    const char *model_path;
    uint64_t model_reloads, model_reload_errors;
    nagm_http *http;
    int64_t now;            /* monotonic ns, refreshed per poll */
    int64_t t0;
    uint64_t seq;           /* windows emitted */
    uint64_t committed_seq; /* windows covered by the last commit */
    int64_t last_commit;
    int fatal;
    char fatal_msg[NAGM_ERRBUF_SIZE];
    nagm_window_summary recent[NAGM_METRICS_RECENT];
    size_t nrecent, recent_at;
    nagm_row_score *score;
    nagm_assign *assign;
    size_t score_cap;
} run;

static void emit(run *r, int final);

static int on_counted(run *r, const nagm_src_meta *m, const nagm_pkt *p)
{
    int a = nagm_stream_add(r->eng, m->lane, m->pos, p, r->now);
    if (a < 0) {
        snprintf(r->fatal_msg, sizeof r->fatal_msg, "out of memory while aggregating");
        return 1;
    }
    if (a != NAGM_SADD_COUNTED)
        r->st.counted--; /* counted means aggregated: late and replayed are not */
    else if (nagm_stream_due(r->eng))
        emit(r, 0);
    return r->fatal;
}

static int cb_frame(void *ctx, const nagm_src_meta *m, const nagm_frame *f)
{
    run *r = ctx;
    nagm_pkt p;
    if (!nagm_filter_frame(&r->flt, f, &p, &r->st))
        return 0;
    return on_counted(r, m, &p);
}

static int cb_pkt(void *ctx, const nagm_src_meta *m, const nagm_pkt *p)
{
    run *r = ctx;
    /* Kafka records were decoded by the publisher: account them as frames
     * that decoded, then apply --proto as nagm_filter_frame would. */
    nagm_stats_frame(&r->st, p->linktype, p->caplen, NAGM_DEC_OK);
    if (r->flt.proto_filter && !(r->flt.protos[p->proto >> 3] & (1u << (p->proto & 7)))) {
        r->st.filtered_proto++;
        return 0;
    }
    r->st.counted++;
    r->st.l4_truncated += p->l4_trunc;
    return on_counted(r, m, p);
}

static void cb_lane(void *ctx, int lane, int event, int64_t arg)
{
    run *r = ctx;
    switch (event) {
    case NAGM_LANE_OPEN:
        if (nagm_stream_lane_open(r->eng, lane, arg) != 0 && !r->fatal) {
            r->fatal = 1;
            snprintf(r->fatal_msg, sizeof r->fatal_msg, "out of memory opening lane %d", lane);
        }
        break;
    case NAGM_LANE_CLOSE:
        nagm_stream_lane_close(r->eng, lane);
        break;
    case NAGM_LANE_EOF:
        nagm_stream_lane_eof(r->eng, lane, 1, stream_now_ns());
        break;
    case NAGM_LANE_MORE:
        nagm_stream_lane_eof(r->eng, lane, 0, stream_now_ns());
        break;
    default:
        break;
    }
}

/* Score a window's rows with the model: the function netagm apply uses. */
static int score_window(run *r, const nagm_window *w, nagm_row_score **out)
{
    *out = NULL;
    if (!r->model || w->n == 0)
        return 0;
    if (w->n > r->score_cap) {
        nagm_row_score *s = realloc(r->score, sizeof *s * w->n);
        if (s)
            r->score = s;
        nagm_assign *a = realloc(r->assign, sizeof *a * w->n);
        if (a)
            r->assign = a;
        if (!s || !a)
            return -1;
        r->score_cap = w->n;
    }
    char err[NAGM_ML_ERRBUF];
    if (nagm_model_apply(r->model, w->rows, w->n, r->assign, NULL, err) != 0) {
        snprintf(r->fatal_msg, sizeof r->fatal_msg, "applying the model: %.400s", err);
        return -1;
    }
    for (size_t i = 0; i < w->n; i++) {
        r->score[i].cluster = r->assign[i].cluster;
        r->score[i].distance = r->assign[i].distance;
    }
    *out = r->score;
    return 0;
}

static void remember(run *r, const nagm_window *w, const nagm_row_score *sc, int64_t done)
{
    nagm_window_summary *s = &r->recent[r->recent_at];
    r->recent_at = (r->recent_at + 1) % NAGM_METRICS_RECENT;
    if (r->nrecent < NAGM_METRICS_RECENT)
        r->nrecent++;
    memset(s, 0, sizeof *s);
    s->start_ns = w->start_ns;
    s->end_ns = w->end_ns;
    s->sources = w->n;
    s->pkts = w->pkts;
    s->emitted_unix_ns = unix_now_ns();
    s->close_to_sink_ms = (double)(done - w->closed_ns) / 1e6;
    s->top_cluster = -1;
    if (sc) {
        /* most common cluster (ties: smaller id), largest distance */
        int32_t best = -1;
        size_t bestn = 0;
        for (size_t i = 0; i < w->n; i++) {
            if (sc[i].distance > s->max_distance)
                s->max_distance = sc[i].distance;
            size_t c = 0;
            for (size_t k = 0; k < w->n; k++)
                c += sc[k].cluster == sc[i].cluster;
            if (c > bestn || (c == bestn && sc[i].cluster < best)) {
                best = sc[i].cluster;
                bestn = c;
            }
            if (bestn * 2 > w->n)
                break;
        }
        s->top_cluster = best;
    }
}

/* Write every closed window to every sink. final: all open windows. */
static void emit(run *r, int final)
{
    nagm_window w;
    int rc;
    r->now = stream_now_ns();
    while (!r->fatal && (rc = nagm_stream_next(r->eng, r->now, final, &w)) != 0) {
        if (rc < 0) {
            r->fatal = 1;
            snprintf(r->fatal_msg, sizeof r->fatal_msg, "out of memory closing a window");
            return;
        }
        nagm_row_score *sc;
        if (score_window(r, &w, &sc) != 0) {
            r->fatal = 1;
            if (!r->fatal_msg[0])
                snprintf(r->fatal_msg, sizeof r->fatal_msg, "out of memory scoring a window");
            nagm_window_clear(&w);
            return;
        }
        nagm_window_out out = {.start_ns = w.start_ns,
                               .end_ns = w.end_ns,
                               .rows = w.rows,
                               .score = sc,
                               .n = w.n,
                               .seq = ++r->seq};
        for (size_t i = 0; i < r->nsinks; i++)
            if (r->sinks[i]->write(r->sinks[i], &out) != NAGM_SINK_OK) {
                r->fatal = 1;
                snprintf(r->fatal_msg, sizeof r->fatal_msg, "%s: %s", r->sinks[i]->name,
                         r->sinks[i]->err);
                break;
            }
        r->st.windows++;
        r->st.sources += w.n;
        r->st.rows += w.n;
        remember(r, &w, sc, stream_now_ns());
        nagm_window_clear(&w);
    }
}

/* Commit the source's progress when every sink holds every emitted window. */
static void maybe_commit(run *r, int final)
{
    if (!r->src->commit)
        return;
    for (size_t i = 0; i < r->nsinks; i++) {
        nagm_wsink_stats ss;
        r->sinks[i]->stats(r->sinks[i], &ss);
        if (ss.acked_windows + ss.dropped_windows < r->seq)
            return;
    }
    if (!final && r->committed_seq == r->seq && r->now - r->last_commit < 5 * 1000000000LL)
        return;
    r->src->commit(r->src, r->eng, final);
    r->committed_seq = r->seq;
    r->last_commit = r->now;
}

static void fill_metrics(run *r, nagm_stream_metrics *m)
{
    memset(m, 0, sizeof *m);
    m->st = r->st;
    nagm_stream_get_counters(r->eng, &m->eng);
    m->st.late = m->eng.late;
    r->src->stats(r->src, &m->src);
    m->source_kind = r->src->kind;
    m->nsinks = r->nsinks;
    for (size_t i = 0; i < r->nsinks; i++) {
        snprintf(m->sinks[i].name, sizeof m->sinks[i].name, "%s", r->sinks[i]->name);
        r->sinks[i]->stats(r->sinks[i], &m->sinks[i].s);
    }
    m->model_loaded = r->model != NULL;
    m->model_reloads = r->model_reloads;
    m->model_reload_errors = r->model_reload_errors;
    m->uptime_s = (double)(r->now - r->t0) / 1e9;
    m->last_loop_unix_ns = unix_now_ns();
    m->fatal = r->fatal;
    m->nrecent = r->nrecent;
    size_t first = (r->recent_at + NAGM_METRICS_RECENT - r->nrecent) % NAGM_METRICS_RECENT;
    for (size_t i = 0; i < r->nrecent; i++)
        m->recent[i] = r->recent[(first + i) % NAGM_METRICS_RECENT];
}

static void reload_model(run *r)
{
    if (!r->model_path) {
        fprintf(stderr, "netagm stream: SIGHUP: no --model to reload\n");
        return;
    }
    nagm_model *m;
    char err[NAGM_ML_ERRBUF];
    if (nagm_model_load(r->model_path, &m, err) != 0) {
        r->model_reload_errors++;
        fprintf(stderr, "netagm stream: SIGHUP: keeping the current model: %s\n", err);
        return;
    }
    if (r->model && m->tcp_only != r->model->tcp_only)
        fprintf(stderr, "netagm stream: SIGHUP: the new model is %s; the packet filter chosen "
                        "at start stays (restart to change it)\n",
                m->tcp_only ? "TCP only" : "for every protocol");
    nagm_model_free(r->model);
    r->model = m;
    r->model_reloads++;
    fprintf(stderr, "netagm stream: SIGHUP: model reloaded from %s\n", r->model_path);
}

/* ---- options ------------------------------------------------------------------ */

enum {
    OPT_FOLLOW = CLI_OPT_FIRST_FREE,
    OPT_KAFKA_IN,
    OPT_GROUP,
    OPT_LATENESS,
    OPT_IDLE,
    OPT_FORMAT,
    OPT_MODEL,
    OPT_HTTP,
    OPT_SNAPLEN,
    OPT_BUFSIZE,
    OPT_NO_PROMISC,
    OPT_STATE,
    OPT_SETTLE,
    OPT_FLUSH,
    OPT_NO_FLUSH,
    OPT_ALL_PROTOS,
    OPT_HELP
};

static void usage(FILE *fp)
{
    fputs(
        "usage: netagm stream SOURCE [-w SECONDS] [-o OUT ...] [options]\n"
        "\n"
        "Aggregate packets into AGM records window by window as they arrive: each\n"
        "tumbling event-time window is written to every output once the watermark\n"
        "has passed its end plus the allowed lateness (docs/stream.md). The rows\n"
        "are the ones netagm agm gives for the same packets.\n"
        "\n"
        "Source (exactly one):\n"
        "  -r, --read PATH        capture files or directories, read in order, or - for\n"
        "                         a capture stream on stdin (tcpdump -w -); repeatable\n"
        "  -i, --interface IFACE  live capture with libpcap (immediate mode)\n"
        "      --follow DIR       capture files appearing in DIR (tcpdump -G rotation),\n"
        "                         in name order, each once it is complete\n"
        "      --kafka-in BROKERS/TOPIC\n"
        "                         packet records written by netagm publish\n"
        "      --group ID         Kafka consumer group (default netagm)\n"
        "\n"
        "Windows:\n"
        "  -w, --window SECONDS   window length (default: one window until the end)\n"
        "      --lateness SECONDS a window stays open until the watermark (the largest\n"
        "                         packet time seen) passes its end by this (default 1)\n"
        "      --idle-timeout SECONDS\n"
        "                         after this long without packets the watermark moves\n"
        "                         on with the wall clock, so the last windows close when\n"
        "                         traffic stops (default 2; 0 never; --follow: 0)\n"
        "      --flush-on-exit, --no-flush-on-exit\n"
        "                         on SIGINT/SIGTERM write the open windows (default for\n"
        "                         -r, -i) or leave them to be rebuilt after a restart\n"
        "                         (default for --follow and --kafka-in)\n"
        "\n"
        "Outputs (repeatable, used together):\n"
        "  -o, --output OUT       - (JSON Lines on stdout, the default), FILE.csv,\n"
        "                         FILE.jsonl, FILE.parquet, a strftime pattern such as\n"
        "                         'agm/%Y%m%d-%H%M.parquet' (one file per window),\n"
        "                         kafka://BROKERS/TOPIC or\n"
        "                         postgresql://HOST:PORT/DB?table=NAME\n"
        "      --format FMT       csv, jsonl or parquet for - and names without extension\n"
        "      --model FILE       add each row's cluster and distance (netagm apply's\n"
        "                         computation; two more columns in every format,\n"
        "                         Parquet included); SIGHUP reloads the file. A TCP-only\n"
        "                         model counts TCP packets only, as netagm apply -r\n"
        "      --all-protos       with such a model, count every protocol anyway\n"
        "      --http ADDR        serve /metrics, /healthz, /api/windows on ADDR\n"
        "                         (PORT or HOST:PORT; the host defaults to 127.0.0.1)\n"
        "\n"
        "Filters and capture:\n"
        "      --proto LIST       keep only these IP protocols\n"
        "      --bpf EXPR         tcpdump filter (the kernel's, for -i)\n"
        "      --snaplen BYTES    -i: bytes kept per packet (default 262144)\n"
        "      --buffer-size BYTES  -i: kernel buffer (K, M, G suffixes; default 32M)\n"
        "      --no-promisc       -i: do not put the interface in promiscuous mode\n"
        "  -Z, --user USER        drop root privileges to USER once the source is open\n"
        "      --state FILE       --follow: progress file (default DIR/.netagm-follow.state)\n"
        "      --settle SECONDS   --follow: also take a file as complete when unchanged\n"
        "                         for this long (for the last file of a rotation)\n"
        "      --stats-json FILE  write the run statistics as JSON at the end\n"
        "  -q, --quiet            no summary on stderr\n"
        "\n"
        "Exit status: 0 clean end; 1 fatal error; 2 usage error; 3 some input was bad.\n"
        "\n"
        "Examples:\n"
        "  tcpdump -i eth0 -U -w - | netagm stream -r - -w 60 -o -\n"
        "  netagm stream -i eth0 -Z nobody --snaplen 128 --bpf tcp -w 10 \\\n"
        "      -o 'windows/%Y%m%d-%H%M.parquet'\n"
        "  netagm stream --follow /var/spool/pcap -w 60 --model m.json \\\n"
        "      -o 'postgresql://localhost/netagm?table=agm'\n"
        "  netagm stream --kafka-in 127.0.0.1:9092/packets --group agm -w 60 \\\n"
        "      -o kafka://127.0.0.1:9092/agm --http 9108\n",
        fp);
}

/* Open one -o output by its form. */
static nagm_wsink *open_sink(const char *spec, nagm_format fmt, int64_t window_ns, int scored,
                             char *err)
{
    if (!strncmp(spec, "kafka://", 8))
        return nagm_wsink_kafka_new(spec, err);
    if (!strncmp(spec, "postgresql://", 13) || !strncmp(spec, "postgres://", 11))
        return nagm_wsink_pg_new(spec, scored, err);
    return nagm_wsink_files_new_scored(spec, fmt, window_ns, scored, err);
}

int cmd_stream(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"read", required_argument, NULL, 'r'},
        {"interface", required_argument, NULL, 'i'},
        {"follow", required_argument, NULL, OPT_FOLLOW},
        {"kafka-in", required_argument, NULL, OPT_KAFKA_IN},
        {"group", required_argument, NULL, OPT_GROUP},
        {"window", required_argument, NULL, 'w'},
        {"lateness", required_argument, NULL, OPT_LATENESS},
        {"idle-timeout", required_argument, NULL, OPT_IDLE},
        {"flush-on-exit", no_argument, NULL, OPT_FLUSH},
        {"no-flush-on-exit", no_argument, NULL, OPT_NO_FLUSH},
        {"output", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"model", required_argument, NULL, OPT_MODEL},
        {"all-protos", no_argument, NULL, OPT_ALL_PROTOS},
        {"http", required_argument, NULL, OPT_HTTP},
        {"proto", required_argument, NULL, CLI_OPT_PROTO},
        {"bpf", required_argument, NULL, CLI_OPT_BPF},
        {"snaplen", required_argument, NULL, OPT_SNAPLEN},
        {"buffer-size", required_argument, NULL, OPT_BUFSIZE},
        {"no-promisc", no_argument, NULL, OPT_NO_PROMISC},
        {"user", required_argument, NULL, 'Z'},
        {"state", required_argument, NULL, OPT_STATE},
        {"settle", required_argument, NULL, OPT_SETTLE},
        {"stats-json", required_argument, NULL, CLI_OPT_STATS_JSON},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *reads[256];
    size_t nreads = 0;
    const char *outs[MAX_SINKS];
    size_t nouts = 0;
    const char *iface = NULL, *follow = NULL, *kafka_in = NULL, *group = NULL;
    const char *model_path = NULL, *http_addr = NULL, *user = NULL, *state = NULL;
    const char *stats_json = NULL;
    int quiet = 0, flush_opt = -1, promisc = 1, flush_on_exit = 1, all_protos = 0;
    int64_t window_ns = 0, lateness_ns = 1000000000LL, idle_ns = -1, settle_ns = 0;
    int64_t snaplen = 0, bufsize = 0;
    nagm_format fmt = NAGM_FMT_AUTO;
    nagm_run_opts ro;
    memset(&ro, 0, sizeof ro);
    char err[NAGM_ERRBUF_SIZE] = "";
    int opt;
    while ((opt = getopt_long(argc, argv, "r:i:w:o:Z:qh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'r':
            if (nreads == sizeof reads / sizeof reads[0]) {
                cli_error("stream", "too many -r arguments (give a directory)");
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
        case OPT_KAFKA_IN:
            kafka_in = optarg;
            break;
        case OPT_GROUP:
            group = optarg;
            break;
        case 'w':
            if (cli_parse_seconds(optarg, &window_ns) != 0 || window_ns == 0) {
                cli_error("stream", "-w: expected a positive number of seconds, got '%s'", optarg);
                return NAGM_EXIT_USAGE;
            }
            break;
        case OPT_LATENESS:
            if (cli_parse_seconds(optarg, &lateness_ns) != 0) {
                cli_error("stream", "--lateness: expected seconds >= 0, got '%s'", optarg);
                return NAGM_EXIT_USAGE;
            }
            break;
        case OPT_IDLE:
            if (cli_parse_seconds(optarg, &idle_ns) != 0) {
                cli_error("stream", "--idle-timeout: expected seconds >= 0, got '%s'", optarg);
                return NAGM_EXIT_USAGE;
            }
            break;
        case OPT_SETTLE:
            if (cli_parse_seconds(optarg, &settle_ns) != 0) {
                cli_error("stream", "--settle: expected seconds >= 0, got '%s'", optarg);
                return NAGM_EXIT_USAGE;
            }
            break;
        case OPT_FLUSH:
            flush_opt = 1;
            break;
        case OPT_NO_FLUSH:
            flush_opt = 0;
            break;
        case 'o':
            if (nouts == MAX_SINKS) {
                cli_error("stream", "at most %d outputs", MAX_SINKS);
                return NAGM_EXIT_USAGE;
            }
            outs[nouts++] = optarg;
            break;
        case OPT_FORMAT:
            fmt = nagm_format_from_name(optarg);
            if (fmt == NAGM_FMT_AUTO) {
                cli_error("stream", "--format: expected csv, jsonl or parquet, got '%s'", optarg);
                return NAGM_EXIT_USAGE;
            }
            break;
        case OPT_MODEL:
            model_path = optarg;
            break;
        case OPT_ALL_PROTOS:
            all_protos = 1;
            break;
        case OPT_HTTP:
            http_addr = optarg;
            break;
        case CLI_OPT_PROTO:
            if (nagm_parse_protos(optarg, &ro, err) != 0) {
                cli_error("stream", "%s", err);
                return NAGM_EXIT_USAGE;
            }
            break;
        case CLI_OPT_BPF:
            ro.bpf = optarg;
            break;
        case OPT_SNAPLEN:
            if (stream_parse_bytes(optarg, &snaplen) != 0 || snaplen > 262144) {
                cli_error("stream", "--snaplen: expected 1..262144 bytes, got '%s'", optarg);
                return NAGM_EXIT_USAGE;
            }
            break;
        case OPT_BUFSIZE:
            if (stream_parse_bytes(optarg, &bufsize) != 0 || bufsize > INT32_MAX) {
                cli_error("stream", "--buffer-size: expected a byte count, got '%s'", optarg);
                return NAGM_EXIT_USAGE;
            }
            break;
        case OPT_NO_PROMISC:
            promisc = 0;
            break;
        case 'Z':
            user = optarg;
            break;
        case OPT_STATE:
            state = optarg;
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
        cli_error("stream", "unexpected argument '%s'", argv[optind]);
        return NAGM_EXIT_USAGE;
    }
    int nsrc = (nreads > 0) + (iface != NULL) + (follow != NULL) + (kafka_in != NULL);
    if (nsrc != 1) {
        cli_error("stream", nsrc ? "give one source: -r, -i, --follow or --kafka-in"
                                 : "no source: give -r PATH (or -r - for stdin), -i IFACE, "
                                   "--follow DIR or --kafka-in BROKERS/TOPIC");
        return NAGM_EXIT_USAGE;
    }
    if (follow && window_ns == 0) {
        cli_error("stream", "--follow needs -w: progress across restarts is kept per window");
        return NAGM_EXIT_USAGE;
    }
    /* A rotation delivers a file only when the next one starts, so for
     * --follow the wall clock says nothing about event time: no idle rule
     * unless asked for. */
    if (idle_ns < 0)
        idle_ns = follow ? 0 : 2000000000LL;
    if (kafka_in && ro.bpf) {
        cli_error("stream", "--bpf needs frame bytes; Kafka packet records have none (filter "
                            "at netagm publish)");
        return NAGM_EXIT_USAGE;
    }
    if ((snaplen || bufsize || !promisc) && !iface) {
        cli_error("stream", "--snaplen, --buffer-size and --no-promisc apply to -i only");
        return NAGM_EXIT_USAGE;
    }
    if (nouts == 0)
        outs[nouts++] = "-";
    if (stats_json) {
        FILE *f = cli_open_output(stats_json, "a");
        if (!f)
            return NAGM_EXIT_ERROR;
        if (f != stdout)
            fclose(f);
    }

    run r;
    memset(&r, 0, sizeof r);
    r.model_path = model_path;
    int status = NAGM_EXIT_OK;
    nagm_stream_opts so = {.window_ns = window_ns, .lateness_ns = lateness_ns, .idle_ns = idle_ns};
    r.eng = nagm_stream_new(&so);
    if (!r.eng) {
        cli_error("stream", "out of memory");
        return NAGM_EXIT_ERROR;
    }
    if (model_path && nagm_model_load(model_path, &r.model, err) != 0) {
        cli_error("stream", "--model: %s", err);
        nagm_stream_free(r.eng);
        return NAGM_EXIT_ERROR;
    }
    /* As netagm apply -r: a model trained on TCP packets scores rows built
     * from TCP packets, unless --proto or --all-protos says otherwise. */
    if (r.model && r.model->tcp_only && !ro.proto_filter && !all_protos) {
        nagm_parse_protos("tcp", &ro, err);
        if (!quiet)
            fprintf(stderr, "netagm stream: the model is TCP only: counting TCP packets "
                            "(--all-protos counts every protocol)\n");
    }
    /* The kernel filters -i; everything else goes through the batch filter. */
    nagm_run_opts fo = ro;
    if (iface)
        fo.bpf = NULL;
    if (nagm_filter_init(&r.flt, &fo, err) != 0) {
        cli_error("stream", "%s", err);
        nagm_model_free(r.model);
        nagm_stream_free(r.eng);
        return NAGM_EXIT_USAGE;
    }

    /* Source first (it may need root), then drop privileges, then outputs. */
    if (nreads) {
        r.src = nagm_source_files_new(reads, nreads, err);
    } else if (iface) {
        nagm_live_opts lo = {.iface = iface,
                             .snaplen = (int)snaplen,
                             .buffer_bytes = (int)bufsize,
                             .promisc = promisc,
                             .bpf = ro.bpf};
        r.src = nagm_source_live_new(&lo, err);
    } else if (follow) {
        nagm_follow_opts fw = {.dir = follow, .state_path = state, .settle_ns = settle_ns,
                               .window_ns = window_ns};
        r.src = nagm_source_follow_new(&fw, err);
    } else {
        nagm_kafka_in_opts ko = {.spec = kafka_in, .group = group, .window_ns = window_ns};
        r.src = nagm_source_kafka_new(&ko, err);
    }
    if (!r.src) {
        cli_error("stream", "%s", err);
        status = NAGM_EXIT_ERROR;
        goto out;
    }
    if (follow)
        nagm_stream_set_closed_before(r.eng, nagm_source_follow_closed_before(r.src));
    if (iface && !quiet)
        fprintf(stderr, "netagm stream: capturing on %s\n", iface);
    if (user && nagm_drop_privileges(user, err) != 0) {
        cli_error("stream", "-Z: %s", err);
        status = NAGM_EXIT_ERROR;
        goto out;
    }
    for (size_t i = 0; i < nouts; i++) {
        nagm_wsink *s = open_sink(outs[i], fmt, window_ns, model_path != NULL, err);
        if (!s) {
            cli_error("stream", "%s", err);
            status = NAGM_EXIT_ERROR;
            goto out;
        }
        r.sinks[r.nsinks++] = s;
    }
    if (http_addr && nagm_http_start(http_addr, &r.http, err) != 0) {
        cli_error("stream", "--http: %s", err);
        status = NAGM_EXIT_ERROR;
        goto out;
    }
    if (r.http && !quiet) {
        const char *colon = strrchr(http_addr, ':');
        fprintf(stderr,
                "netagm stream: serving http://%.*s:%d/ (/metrics, /healthz, /api/windows)\n",
                colon ? (int)(colon - http_addr) : 9, colon ? http_addr : "127.0.0.1",
                nagm_http_port(r.http));
    }
    flush_on_exit = flush_opt >= 0 ? flush_opt : !r.src->replayable;

    stream_signals_install();
    nagm_source_cb cb = {.ctx = &r, .frame = cb_frame, .pkt = cb_pkt, .lane = cb_lane};
    r.t0 = r.now = stream_now_ns();
    r.last_commit = r.now;
    if (r.http) {
        static nagm_stream_metrics m0;
        fill_metrics(&r, &m0);
        nagm_http_publish(r.http, &m0);
    }
    int64_t next_publish = 0;
    int ended = 0;
    while (!stream_stop_signal && !r.fatal) {
        int pr = r.src->poll(r.src, &cb, POLL_MS);
        r.now = stream_now_ns();
        if (pr == NAGM_SRC_END) {
            ended = 1;
            break;
        }
        if (pr == NAGM_SRC_ERROR) {
            r.fatal = 1;
            snprintf(r.fatal_msg, sizeof r.fatal_msg, "%s", r.src->err);
            break;
        }
        if (pr < 0 || r.fatal_msg[0]) { /* ENOMEM reported through a callback */
            r.fatal = 1;
            break;
        }
        if (stream_hup) {
            stream_hup = 0;
            reload_model(&r);
        }
        emit(&r, 0);
        for (size_t i = 0; i < r.nsinks; i++)
            if (r.sinks[i]->poll)
                r.sinks[i]->poll(r.sinks[i]);
        maybe_commit(&r, 0);
        if (r.http && r.now >= next_publish) {
            static nagm_stream_metrics m;
            fill_metrics(&r, &m);
            nagm_http_publish(r.http, &m);
            next_publish = r.now + 250000000LL;
        }
    }
    r.now = stream_now_ns();
    if (!r.fatal && (ended || flush_on_exit))
        emit(&r, 1);
    else if (!r.fatal)
        emit(&r, 0);
    if (r.fatal) {
        cli_error("stream", "%s", r.fatal_msg[0] ? r.fatal_msg : "stopped");
        status = NAGM_EXIT_ERROR;
    }

out:
    {
        /* Close the sinks (waiting for them to be durable), then commit. */
        int sinks_ok = 1;
        static nagm_stream_metrics m; /* large: keep it off the stack */
        memset(&m, 0, sizeof m);
        if (r.src)
            fill_metrics(&r, &m);
        for (size_t i = 0; i < r.nsinks; i++) {
            if (r.sinks[i]->close(r.sinks[i], 10000) != NAGM_SINK_OK) {
                sinks_ok = 0;
                if (status == NAGM_EXIT_OK || status == NAGM_EXIT_BADINPUT)
                    cli_error("stream", "%s: output incomplete", outs[i]);
            }
            r.sinks[i] = NULL;
        }
        if (r.src && r.src->commit && sinks_ok && status != NAGM_EXIT_ERROR) {
            r.nsinks = 0;
            maybe_commit(&r, 1);
        }
        if (!sinks_ok)
            status = NAGM_EXIT_ERROR;
        if (r.http) {
            nagm_http_publish(r.http, &m);
            nagm_http_stop(r.http);
        }
        if (r.src) {
            nagm_stream_counters c;
            nagm_stream_get_counters(r.eng, &c);
            r.st.late = c.late;
            r.st.files_ok = m.src.files_ok;
            r.st.files_bad = m.src.files_bad;
            r.st.input_bytes = m.src.input_bytes;
            r.st.elapsed_s = (double)(stream_now_ns() - r.t0) / 1e9;
            if (!quiet && !(status == NAGM_EXIT_ERROR && r.st.frames == 0)) {
                nagm_stats_print(&r.st, stderr);
                if (c.replayed)
                    fprintf(stderr, "  replayed      %12" PRIu64 "  (emitted before a restart)\n",
                            c.replayed);
                if (c.bad_time)
                    fprintf(stderr, "  bad_time      %12" PRIu64 "  (timestamp out of range)\n",
                            c.bad_time);
                if (m.src.has_pcap)
                    fprintf(stderr, "  pcap          received %" PRIu64 ", dropped %" PRIu64
                                    ", dropped by interface %" PRIu64 "\n",
                            m.src.pcap_recv, m.src.pcap_drop, m.src.pcap_ifdrop);
                if (stream_stop_signal)
                    fprintf(stderr, "  stopped by signal %d%s\n", (int)stream_stop_signal,
                            flush_on_exit ? ", open windows written"
                                          : ", open windows left for the next run");
            }
            if (stats_json) {
                FILE *f = !strcmp(stats_json, "-") ? stdout : fopen(stats_json, "w");
                if (!f || nagm_stats_write_json(&r.st, f) != 0)
                    status = NAGM_EXIT_ERROR;
                if (f && f != stdout)
                    fclose(f);
            }
            if (status == NAGM_EXIT_OK && m.src.files_bad)
                status = NAGM_EXIT_BADINPUT;
            r.src->close(r.src);
        }
    }
    nagm_filter_free(&r.flt);
    nagm_model_free(r.model);
    nagm_stream_free(r.eng);
    free(r.score);
    free(r.assign);
    return status;
}
