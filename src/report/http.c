/* The stream mode's HTTP endpoint (libmicrohttpd, its own thread):
 *
 *   GET /metrics      Prometheus text exposition format 0.0.4
 *   GET /healthz      200 "ok" while the main loop turns and nothing failed,
 *                     503 otherwise
 *   GET /api/windows  the most recent windows' summaries as JSON
 *
 * The stream loop hands over a plain copy of its counters a few times a
 * second (nagm_http_publish); requests render from that copy under a lock,
 * so a slow client never touches the loop's own state.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "netagm/stream.h"

struct nagm_http {
    struct MHD_Daemon *d;
    pthread_mutex_t mu;
    nagm_stream_metrics m; /* guarded by mu */
    int have;              /* m was published at least once */
    int port;
};

/* ---- Prometheus text ---------------------------------------------------------- */

static void help(FILE *fp, const char *name, const char *type, const char *text)
{
    fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static void metric_u(FILE *fp, const char *name, const char *type, const char *text, uint64_t v)
{
    help(fp, name, type, text);
    fprintf(fp, "%s %" PRIu64 "\n", name, v);
}

static void metric_d(FILE *fp, const char *name, const char *type, const char *text, double v)
{
    help(fp, name, type, text);
    if (isnan(v))
        fprintf(fp, "%s NaN\n", name);
    else
        fprintf(fp, "%s %.17g\n", name, v);
}

/* A label value with \, " and newline escaped. */
static void label(FILE *fp, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            fputc('\\', fp), fputc(*s, fp);
        else if (*s == '\n')
            fputs("\\n", fp);
        else
            fputc(*s, fp);
    }
}

int nagm_metrics_write_prometheus(const nagm_stream_metrics *m, FILE *fp)
{
    const nagm_stats *st = &m->st;
    metric_u(fp, "netagm_frames_total", "counter", "Frames read from the source.", st->frames);
    metric_u(fp, "netagm_bytes_total", "counter", "Captured bytes of those frames.", st->bytes);
    metric_u(fp, "netagm_packets_total", "counter",
             "Packets aggregated into windows (counted).", st->counted);
    help(fp, "netagm_packets_skipped_total", "counter",
         "Frames not counted, by reason (docs/agm.md).");
    for (int r = 1; r < NAGM_DEC_NRESULTS; r++)
        fprintf(fp, "netagm_packets_skipped_total{reason=\"%s\"} %" PRIu64 "\n",
                nagm_dec_result_name((nagm_dec_result)r), st->skipped[r]);
    fprintf(fp, "netagm_packets_skipped_total{reason=\"filtered_bpf\"} %" PRIu64 "\n",
            st->filtered_bpf);
    fprintf(fp, "netagm_packets_skipped_total{reason=\"filtered_proto\"} %" PRIu64 "\n",
            st->filtered_proto);
    metric_u(fp, "netagm_packets_late_total", "counter",
             "Packets whose window had closed: counted here, not aggregated.", m->eng.late);
    metric_u(fp, "netagm_packets_replayed_total", "counter",
             "Packets read again after a restart whose window was already emitted.",
             m->eng.replayed);
    metric_u(fp, "netagm_packets_bad_time_total", "counter",
             "Packets with a timestamp out of range, dropped.", m->eng.bad_time);
    metric_u(fp, "netagm_l4_truncated_total", "counter",
             "Counted packets with a field zeroed by the snapshot length.", st->l4_truncated);
    if (m->src.has_pcap) {
        metric_u(fp, "netagm_pcap_received_total", "counter",
                 "Packets received by the capture (pcap_stats ps_recv).", m->src.pcap_recv);
        metric_u(fp, "netagm_pcap_dropped_total", "counter",
                 "Packets dropped for lack of buffer space (pcap_stats ps_drop).",
                 m->src.pcap_drop);
        metric_u(fp, "netagm_pcap_ifdropped_total", "counter",
                 "Packets dropped by the interface (pcap_stats ps_ifdrop).", m->src.pcap_ifdrop);
    }
    help(fp, "netagm_source_files_total", "counter", "Input files finished, by result.");
    fprintf(fp, "netagm_source_files_total{result=\"ok\"} %" PRIu64 "\n", m->src.files_ok);
    fprintf(fp, "netagm_source_files_total{result=\"bad\"} %" PRIu64 "\n", m->src.files_bad);
    metric_u(fp, "netagm_source_records_total", "counter", "Kafka packet records read.",
             m->src.records);
    metric_u(fp, "netagm_source_records_bad_total", "counter",
             "Kafka packet records that did not decode.", m->src.bad_records);
    metric_u(fp, "netagm_source_commits_total", "counter",
             "Progress commits (Kafka offsets, --follow state).", m->src.commits);
    metric_u(fp, "netagm_source_commit_errors_total", "counter", "Failed progress commits.",
             m->src.commit_errors);
    metric_u(fp, "netagm_source_backlog", "gauge",
             "Input read but not yet processed (bytes queued from a pipe, files waiting).",
             m->src.backlog);
    metric_u(fp, "netagm_windows_total", "counter", "Windows closed and written.", st->windows);
    metric_u(fp, "netagm_sources_total", "counter",
             "(window, source) rows written (one per source per window).", st->rows);
    metric_u(fp, "netagm_open_windows", "gauge", "Windows open now.", m->eng.open_windows);
    metric_u(fp, "netagm_open_sources", "gauge", "(window, source) records held now.",
             m->eng.open_records);
    metric_u(fp, "netagm_state_bytes", "gauge", "Memory of the aggregation state.",
             m->eng.memory);
    metric_d(fp, "netagm_watermark_seconds", "gauge",
             "Largest packet time seen (Unix seconds).",
             m->eng.watermark_ns == INT64_MIN ? NAN : (double)m->eng.watermark_ns / 1e9);
    metric_d(fp, "netagm_closed_before_seconds", "gauge",
             "Windows ending at or before this time are closed (Unix seconds).",
             m->eng.closed_before_ns == INT64_MIN ? NAN : (double)m->eng.closed_before_ns / 1e9);
    static const struct {
        const char *name, *type, *help;
        size_t off;
    } sk[] = {
        {"netagm_sink_windows_total", "counter", "Windows handed to the sink.",
         offsetof(nagm_wsink_stats, windows)},
        {"netagm_sink_rows_total", "counter", "Rows handed to the sink.",
         offsetof(nagm_wsink_stats, rows)},
        {"netagm_sink_acked_windows_total", "counter",
         "Windows durable in the sink (written, delivered, committed).",
         offsetof(nagm_wsink_stats, acked_windows)},
        {"netagm_sink_errors_total", "counter", "Write or delivery errors.",
         offsetof(nagm_wsink_stats, errors)},
        {"netagm_sink_dropped_windows_total", "counter",
         "Windows lost to a full buffer or a refused write.",
         offsetof(nagm_wsink_stats, dropped_windows)},
        {"netagm_sink_dropped_rows_total", "counter", "Rows of those windows.",
         offsetof(nagm_wsink_stats, dropped_rows)},
        {"netagm_sink_retries_total", "counter", "Write attempts repeated after a failure.",
         offsetof(nagm_wsink_stats, retries)},
        {"netagm_sink_queue_depth", "gauge", "Rows waiting to be written or acknowledged.",
         offsetof(nagm_wsink_stats, queue_depth)},
    };
    help(fp, "netagm_sink_ack_seconds", "gauge",
         "The last durable window: from its hand-over to the sink until durable "
         "(Kafka: delivered; PostgreSQL: committed; files: written).");
    for (size_t i = 0; i < m->nsinks && i < NAGM_METRICS_MAX_SINKS; i++) {
        fprintf(fp, "netagm_sink_ack_seconds{sink=\"");
        label(fp, m->sinks[i].name);
        fprintf(fp, "\"} %.6f\n", m->sinks[i].s.last_ack_ms / 1e3);
    }
    help(fp, "netagm_sink_ack_max_seconds", "gauge", "The largest such time so far.");
    for (size_t i = 0; i < m->nsinks && i < NAGM_METRICS_MAX_SINKS; i++) {
        fprintf(fp, "netagm_sink_ack_max_seconds{sink=\"");
        label(fp, m->sinks[i].name);
        fprintf(fp, "\"} %.6f\n", m->sinks[i].s.max_ack_ms / 1e3);
    }
    for (size_t k = 0; k < sizeof sk / sizeof sk[0]; k++) {
        help(fp, sk[k].name, sk[k].type, sk[k].help);
        for (size_t i = 0; i < m->nsinks && i < NAGM_METRICS_MAX_SINKS; i++) {
            uint64_t v;
            memcpy(&v, (const char *)&m->sinks[i].s + sk[k].off, sizeof v);
            fprintf(fp, "%s{sink=\"", sk[k].name);
            label(fp, m->sinks[i].name);
            fprintf(fp, "\"} %" PRIu64 "\n", v);
        }
    }
    if (m->nrecent)
        metric_d(fp, "netagm_window_close_to_sink_seconds", "gauge",
                 "From the last window's close until its rows were handed to every sink.",
                 m->recent[m->nrecent - 1].close_to_sink_ms / 1e3);
    metric_u(fp, "netagm_model_loaded", "gauge", "1 when a model scores the rows.",
             (uint64_t)m->model_loaded);
    metric_u(fp, "netagm_model_reloads_total", "counter", "Model reloads (SIGHUP).",
             m->model_reloads);
    metric_u(fp, "netagm_model_reload_errors_total", "counter",
             "Model reloads that failed (the previous model stays).", m->model_reload_errors);
    metric_d(fp, "netagm_uptime_seconds", "gauge", "Time since the stream started.",
             m->uptime_s);
    help(fp, "netagm_source_info", "gauge", "The kind of source.");
    fprintf(fp, "netagm_source_info{kind=\"");
    label(fp, m->source_kind ? m->source_kind : "");
    fprintf(fp, "\"} 1\n");
    return ferror(fp) ? -1 : 0;
}

int nagm_metrics_write_windows_json(const nagm_stream_metrics *m, FILE *fp)
{
    fputs("{\"windows\":[", fp);
    for (size_t i = 0; i < m->nrecent && i < NAGM_METRICS_RECENT; i++) {
        const nagm_window_summary *w = &m->recent[i];
        char a[NAGM_TS_STRLEN], b[NAGM_TS_STRLEN], e[NAGM_TS_STRLEN];
        nagm_ts_format(w->start_ns, a);
        nagm_ts_format(w->end_ns, b);
        nagm_ts_format(w->emitted_unix_ns, e);
        fprintf(fp,
                "%s{\"window_start\":\"%s\",\"window_end\":\"%s\",\"sources\":%" PRIu64
                ",\"pkts\":%" PRIu64 ",\"emitted_at\":\"%s\",\"close_to_sink_ms\":%.3f",
                i ? "," : "", a, b, w->sources, w->pkts, e, w->close_to_sink_ms);
        if (w->top_cluster >= 0)
            fprintf(fp, ",\"top_cluster\":%" PRId32 ",\"max_distance\":%.17g", w->top_cluster,
                    isfinite(w->max_distance) ? w->max_distance : 0.0);
        fputc('}', fp);
    }
    fputs("]}\n", fp);
    return ferror(fp) ? -1 : 0;
}

/* ---- the server ------------------------------------------------------------------ */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type,
                             char *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer_with_free_callback(len, body, free);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result rc = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload;
    (void)con_cls;
    nagm_http *h = cls;
    if (*upload_size)
        return MHD_NO; /* no request bodies here */
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return reply(c, 405, "text/plain", strdup("only GET\n"), 9);
    /* Render from a copy: the lock is held only for the copy. */
    nagm_stream_metrics *m = malloc(sizeof *m);
    if (!m)
        return MHD_NO;
    pthread_mutex_lock(&h->mu);
    *m = h->m;
    int have = h->have;
    pthread_mutex_unlock(&h->mu);
    char *body = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&body, &len);
    if (!fp) {
        free(m);
        return MHD_NO;
    }
    unsigned code = 200;
    const char *type = "text/plain; charset=utf-8";
    if (!strcmp(url, "/metrics")) {
        type = "text/plain; version=0.0.4; charset=utf-8";
        nagm_metrics_write_prometheus(m, fp);
    } else if (!strcmp(url, "/healthz")) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        int64_t age = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec - m->last_loop_unix_ns;
        if (!have || m->fatal || age > 5000000000LL) {
            code = 503;
            fputs(m->fatal ? "failed\n" : "stalled\n", fp);
        } else {
            fputs("ok\n", fp);
        }
    } else if (!strcmp(url, "/api/windows")) {
        type = "application/json";
        nagm_metrics_write_windows_json(m, fp);
    } else {
        code = 404;
        fputs("not found: try /metrics, /healthz or /api/windows\n", fp);
    }
    free(m);
    if (fclose(fp) != 0) {
        free(body);
        return MHD_NO;
    }
    return reply(c, code, type, body, len);
}

/* "PORT", "HOST:PORT" or "[V6]:PORT" into a socket address. */
static int parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *sl, int *v6,
                      char *errbuf)
{
    char host[128] = "127.0.0.1";
    const char *port = s;
    *v6 = 0;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof host)
            goto bad;
        memcpy(host, s + 1, (size_t)(end - s - 1));
        host[end - s - 1] = '\0';
        port = end + 2;
        *v6 = 1;
    } else if (strchr(s, ':')) {
        const char *colon = strrchr(s, ':');
        if ((size_t)(colon - s) >= sizeof host || colon == s)
            goto bad;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
        port = colon + 1;
    }
    char *end;
    long p = strtol(port, &end, 10);
    if (!*port || *end || p < 0 || p > 65535)
        goto bad;
    memset(ss, 0, sizeof *ss);
    if (*v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)p);
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
            goto bad;
        *sl = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)p);
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
            goto bad;
        *sl = sizeof *a;
    }
    return 0;
bad:
    snprintf(errbuf, NAGM_ERRBUF_SIZE,
             "'%.100s': expected PORT, ADDRESS:PORT or [IPv6]:PORT (numeric addresses)", s);
    return -1;
}

int nagm_http_start(const char *addr, nagm_http **out, char *errbuf)
{
    *out = NULL;
    struct sockaddr_storage ss;
    socklen_t sl;
    int v6;
    if (parse_addr(addr, &ss, &sl, &v6, errbuf) != 0)
        return -1;
    nagm_http *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "out of memory");
        return -1;
    }
    pthread_mutex_init(&h->mu, NULL);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | (v6 ? MHD_USE_IPv6 : 0);
    /* The server thread starts with signals blocked: they stay with the
     * stream loop. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    h->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR,
                            (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT, 64u,
                            MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!h->d) {
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "cannot listen on %.100s (in use, or not an address "
                                           "of this host?)", addr);
        pthread_mutex_destroy(&h->mu);
        free(h);
        return -1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : 0;
    *out = h;
    return 0;
}

void nagm_http_publish(nagm_http *h, const nagm_stream_metrics *m)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    h->m = *m;
    h->have = 1;
    pthread_mutex_unlock(&h->mu);
}

int nagm_http_port(const nagm_http *h)
{
    return h ? h->port : 0;
}

void nagm_http_stop(nagm_http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->d);
    pthread_mutex_destroy(&h->mu);
    free(h);
}
