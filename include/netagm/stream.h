/* netagm: stream mode. Packets arrive from a live interface, a pipe, a
 * directory of rotating capture files or a Kafka topic; tumbling event-time
 * windows close on a watermark; every closed window's AGM rows go to sinks
 * (files, stdout, Kafka, PostgreSQL). docs/stream.md states the semantics.
 *
 * Three parts, each a small object:
 *   - nagm_stream: the windowing engine on top of nagm_agg (watermark,
 *     lateness, idle timeout, late and replayed packets, per-lane positions
 *     for exactly-once restarts);
 *   - nagm_source: where frames or decoded packets come from;
 *   - nagm_wsink: where closed windows go.
 * The CLI (netagm stream) wires them; the frame -> packet step is the batch
 * path's nagm_filter_frame and the aggregation is nagm_agg, so stream and
 * batch cannot disagree.
 */
#ifndef NETAGM_STREAM_H
#define NETAGM_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "netagm/agm.h"
#include "netagm/capture.h"
#include "netagm/pkt.h"
#include "netagm/sink.h"
#include "netagm/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==== the windowing engine ================================================ */

typedef struct nagm_stream_opts {
    int64_t window_ns;   /* > 0: tumbling windows; 0: one window, emitted at the end */
    int64_t lateness_ns; /* >= 0: how far behind the watermark a window stays open */
    int64_t idle_ns;     /* > 0: after this much wall time without a packet the
                            watermark advances with the wall clock; 0: never */
} nagm_stream_opts;

/* What nagm_stream_add did with a packet. */
enum nagm_stream_add_result {
    NAGM_SADD_COUNTED = 0,  /* aggregated */
    NAGM_SADD_LATE = 1,     /* its window had closed: counted as late, dropped */
    NAGM_SADD_REPLAYED = 2, /* re-read after a restart, its window was already
                               emitted before the restart: dropped */
    NAGM_SADD_BADTIME = 3   /* timestamp beyond +-NAGM_STREAM_MAX_TS: dropped */
};

/* Largest |timestamp| the engine accepts (2^62 ns, about 146 years). */
#define NAGM_STREAM_MAX_TS ((int64_t)1 << 62)

/* A closed window: rows in output order (agm.md), all with this start. */
typedef struct nagm_window {
    int64_t start_ns, end_ns;
    nagm_agm_row *rows; /* owned by the window: free with nagm_window_clear */
    size_t n;
    uint64_t pkts;      /* sum of rows' pkts */
    int64_t closed_ns;  /* caller's clock when the window was closed */
} nagm_window;

void nagm_window_clear(nagm_window *w);

/* Engine counters (monotonic unless stated). */
typedef struct nagm_stream_counters {
    uint64_t counted, late, replayed, bad_time;
    uint64_t windows, rows;
    int64_t watermark_ns;      /* max event time seen (INT64_MIN: none) */
    int64_t closed_before_ns;  /* windows ending at or before this are closed */
    size_t open_windows;       /* current: windows held (summed over lanes) */
    size_t open_records;       /* current: (window, source) records held */
    size_t memory;             /* current: bytes held by the aggregation state */
} nagm_stream_counters;

typedef struct nagm_stream nagm_stream;

/* New engine. Returns NULL on ENOMEM or bad options (negative values). */
nagm_stream *nagm_stream_new(const nagm_stream_opts *o);
void nagm_stream_free(nagm_stream *s);

/* Lanes. A lane is an independent input with its own watermark and state
 * (a Kafka partition; every other source uses lane 0, opened implicitly by
 * the first packet). The engine's watermark is the smallest watermark of the
 * open lanes that are not idle (the largest when all are), so a slow
 * partition holds windows open instead of making its packets late. A lane is
 * idle once it has been at its end of data for idle_ns (never with idle_ns
 * 0: then every partition must carry traffic for windows to close).
 *
 * nagm_stream_lane_open: open (or re-open) lane, lane < 65536. Packets whose
 * window ends at or before replay_before_ns were emitted before a restart and
 * are dropped as replayed (INT64_MIN: none). Returns 0 or -1 (ENOMEM, range).
 * nagm_stream_lane_close: the lane is gone (partition revoked): its open state
 * is discarded (another consumer re-reads those packets).
 * nagm_stream_lane_eof: the lane has reached its current end of data (1) or
 * has more again (0), at now_ns (the caller's monotonic clock). */
int nagm_stream_lane_open(nagm_stream *s, int lane, int64_t replay_before_ns);
void nagm_stream_lane_close(nagm_stream *s, int lane);
void nagm_stream_lane_eof(nagm_stream *s, int lane, int eof, int64_t now_ns);

/* Count one packet on lane at source position pos (Kafka offset; -1 when
 * the source has none). now_ns is the caller's monotonic clock. Returns a
 * nagm_stream_add_result, or -1 on ENOMEM (the packet is not counted). */
int nagm_stream_add(nagm_stream *s, int lane, int64_t pos, const nagm_pkt *p, int64_t now_ns);

/* The next closed window, if any: windows whose end + lateness <= the
 * watermark (advanced by the idle rule), in start order; with final, every
 * window still open. Returns 1 and fills *w (caller clears it), 0 when no
 * window is ready, -1 on ENOMEM (fatal: windows may be lost, stop the run). */
int nagm_stream_next(nagm_stream *s, int64_t now_ns, int final, nagm_window *w);

/* 1 once the watermark has passed the end (plus lateness) of a window that
 * is not closed yet: call nagm_stream_next then, before the next packet, so
 * that windows close exactly at the packet that crosses the boundary and
 * which packets are late does not depend on how input is batched. */
int nagm_stream_due(const nagm_stream *s);

/* Smallest position of a packet still held in an open window of lane, or -1
 * when the lane holds none. A source commits this (or its read position when
 * -1) so that a restart re-reads exactly the packets not yet emitted. */
int64_t nagm_stream_lane_min_pos(const nagm_stream *s, int lane);

/* Windows ending at or before this have been closed (INT64_MIN: none). */
int64_t nagm_stream_closed_before(const nagm_stream *s);

/* Restore closed_before after a restart (packets of those windows become
 * late). Only moves forward. */
void nagm_stream_set_closed_before(nagm_stream *s, int64_t t_ns);

void nagm_stream_get_counters(const nagm_stream *s, nagm_stream_counters *c);

/* ==== sources ============================================================ */

/* Where a delivered item came from. */
typedef struct nagm_src_meta {
    int lane;    /* engine lane */
    int64_t pos; /* position within the lane (Kafka offset), or -1 */
} nagm_src_meta;

/* Callbacks a source delivers to. A callback returns 0 to go on, non-zero to
 * make poll stop early and return that value. */
typedef struct nagm_source_cb {
    void *ctx;
    /* A captured frame, to go through nagm_filter_frame. */
    int (*frame)(void *ctx, const nagm_src_meta *m, const nagm_frame *f);
    /* An already decoded packet (Kafka records). */
    int (*pkt)(void *ctx, const nagm_src_meta *m, const nagm_pkt *p);
    /* Lane events (NAGM_LANE_*); arg: replay_before_ns for OPEN. */
    void (*lane)(void *ctx, int lane, int event, int64_t arg);
} nagm_source_cb;

enum { NAGM_LANE_OPEN = 1, NAGM_LANE_CLOSE, NAGM_LANE_EOF, NAGM_LANE_MORE };

/* poll results besides a count >= 0 */
#define NAGM_SRC_END (-1)   /* the input ended cleanly */
#define NAGM_SRC_ERROR (-2) /* fatal: see src->err */

/* Counters a source keeps. */
typedef struct nagm_source_stats {
    int has_pcap;            /* live capture: the pcap_stats fields are valid */
    uint64_t pcap_recv, pcap_drop, pcap_ifdrop;
    uint64_t files_ok, files_bad, input_bytes;
    uint64_t records, bad_records; /* Kafka packet records read / rejected */
    uint64_t commits, commit_errors;
    uint64_t backlog;         /* items read but not yet delivered (queue depth) */
} nagm_source_stats;

typedef struct nagm_source nagm_source;
struct nagm_source {
    const char *kind; /* "files", "stdin", "live", "follow", "kafka" */
    /* Deliver what is available, waiting up to timeout_ms for input.
     * Returns the number of items delivered (>= 0), NAGM_SRC_END,
     * NAGM_SRC_ERROR, or a callback's non-zero return value. Errors that
     * only concern one input (a damaged file) are reported on stderr and
     * counted in stats, not returned. */
    int (*poll)(nagm_source *s, const nagm_source_cb *cb, int timeout_ms);
    /* Every window that ends at or before nagm_stream_closed_before(eng) has
     * reached every sink: record progress so that a restart neither loses nor
     * repeats a packet. final: the last call before close (may block briefly).
     * May be NULL. Returns 0 or -1 (counted in commit_errors). */
    int (*commit)(nagm_source *s, const nagm_stream *eng, int final);
    /* 1 if the source can re-read packets of open windows after a restart
     * (so open windows need not be flushed at exit). */
    int replayable;
    void (*stats)(nagm_source *s, nagm_source_stats *out);
    /* Stop the input threads, release everything, free s. Accepts NULL. */
    void (*close)(nagm_source *s);
    char err[NAGM_ERRBUF_SIZE];
};

/* Capture files given with -r, read in order, and "-" (standard input).
 * Regular files are read on the caller's thread. A pipe is read by a
 * background thread into a bounded frame queue, so that poll returns on time
 * even while the writer is silent, and garbage on a pipe is a clear error.
 * paths are copied. Returns NULL with errbuf set. */
nagm_source *nagm_source_files_new(const char *const *paths, size_t n, char *errbuf);

/* Live capture with libpcap. */
typedef struct nagm_live_opts {
    const char *iface;
    int snaplen;          /* 0: 262144 */
    int buffer_bytes;     /* 0: libpcap's default */
    int promisc;          /* 1: promiscuous mode */
    const char *bpf;      /* compiled into the kernel filter, or NULL */
} nagm_live_opts;

/* Open and activate the interface (immediate mode, nanosecond timestamps
 * when the system has them, non-blocking). Returns NULL with errbuf set. */
nagm_source *nagm_source_live_new(const nagm_live_opts *o, char *errbuf);

/* Drop root privileges to user (setgroups/initgroups, setgid, setuid), as
 * tcpdump -Z does. Returns 0, or -1 with errbuf set. */
int nagm_drop_privileges(const char *user, char *errbuf);

/* A directory of rotating captures (tcpdump -G N -w DIR/...). Files are read
 * in byte-wise name order once complete: when a file with a later name
 * exists and the file's size has stayed the same over one scan, or when its
 * size and mtime have not changed for settle_ns (0: never). Progress is kept
 * in state_path (NULL: DIR/.netagm-follow.state) so that a restart reads
 * every packet exactly once: files whose packets all went out are skipped,
 * files with packets in windows still open at exit are read again and their
 * already emitted packets dropped. window_ns is the engine's. */
typedef struct nagm_follow_opts {
    const char *dir;
    const char *state_path;
    int64_t settle_ns;
    int64_t window_ns;
    int64_t scan_ns;      /* directory scan interval; 0: 200 ms */
} nagm_follow_opts;
nagm_source *nagm_source_follow_new(const nagm_follow_opts *o, char *errbuf);

/* After a restart: the closed_before the state file recorded (INT64_MIN if
 * none); the caller restores it with nagm_stream_set_closed_before. */
int64_t nagm_source_follow_closed_before(const nagm_source *s);

/* A Kafka topic of packet records (pktwire.h) read by a consumer group.
 * spec: "BROKERS/TOPIC[?prop=value&...]" or "kafka://BROKERS/TOPIC?...",
 * extra properties go to librdkafka. Offsets are committed by commit() with
 * the closed_before of the run as metadata; a restarted member re-reads from
 * the committed offsets and drops what was already emitted. One lane per
 * partition. Returns NULL with errbuf set. */
typedef struct nagm_kafka_in_opts {
    const char *spec;
    const char *group;   /* consumer group id; NULL: "netagm" */
    int64_t window_ns;
} nagm_kafka_in_opts;
nagm_source *nagm_source_kafka_new(const nagm_kafka_in_opts *o, char *errbuf);

/* ==== window sinks ======================================================== */

/* Model output per row (cluster, distance), or absent. */
typedef struct nagm_row_score {
    int32_t cluster;
    double distance;
} nagm_row_score;

/* One closed window on its way out. */
typedef struct nagm_window_out {
    int64_t start_ns, end_ns;
    const nagm_agm_row *rows;
    const nagm_row_score *score; /* n entries, or NULL without a model */
    size_t n;
    uint64_t seq;                /* 1, 2, 3, ... in emission order */
} nagm_window_out;

typedef struct nagm_wsink_stats {
    uint64_t windows, rows;  /* accepted */
    uint64_t acked_windows;  /* windows fully durable in the sink (in order) */
    uint64_t errors;         /* write/delivery errors */
    uint64_t dropped_windows, dropped_rows; /* lost to a full buffer */
    uint64_t queue_depth;    /* rows waiting to be written or acknowledged */
    uint64_t retries;
    double last_ack_ms;      /* last durable window: from write() to durable */
    double max_ack_ms;       /* the largest such time so far */
} nagm_wsink_stats;

typedef struct nagm_wsink nagm_wsink;
struct nagm_wsink {
    const char *name;        /* for messages and metrics labels */
    /* Take one window. Returns NAGM_SINK_OK, or NAGM_SINK_ERROR (fatal, err
     * says why). A sink with a buffer never blocks for long here. */
    int (*write)(nagm_wsink *s, const nagm_window_out *w);
    /* Service background work (delivery reports); may be NULL. */
    void (*poll)(nagm_wsink *s);
    void (*stats)(nagm_wsink *s, nagm_wsink_stats *out);
    /* Wait up to timeout_ms for everything to be durable, then release and
     * free s. Returns NAGM_SINK_OK or NAGM_SINK_ERROR (something lost). */
    int (*close)(nagm_wsink *s, int timeout_ms);
    char err[256];
};

/* Files and stdout. path "-" is standard output. A path with a '%' is a
 * strftime(3) pattern, expanded with each window's start (UTC): each name
 * gets the rows of the windows that map to it, written to NAME.tmp and
 * renamed when complete. Otherwise one file gets every window (flushed after
 * each). fmt NAGM_FMT_AUTO: from the extension (.csv, .jsonl/.json/.ndjson, .parquet),
 * JSONL for "-". window_ns is the engine's (to know when a name is done).
 * Returns NULL with errbuf set. */
nagm_wsink *nagm_wsink_files_new(const char *path, nagm_format fmt, int64_t window_ns,
                                 char *errbuf);

/* The same for rows scored by a model (scored = 1): every window comes with
 * w->score, CSV and JSON Lines rows end with cluster and distance, and a
 * Parquet file has the two columns cluster (INT32) and distance (DOUBLE)
 * after the 25 (docs/parquet.md). scored = 0 is nagm_wsink_files_new. */
nagm_wsink *nagm_wsink_files_new_scored(const char *path, nagm_format fmt, int64_t window_ns,
                                        int scored, char *errbuf);

/* Kafka producer: one JSON row per message (the JSONL text, with cluster and
 * distance when scored), key src_ip (text form), idempotent producer.
 * spec: "kafka://BROKERS/TOPIC[?prop=value&...]". */
nagm_wsink *nagm_wsink_kafka_new(const char *spec, char *errbuf);

/* Packet records to Kafka (netagm publish): each packet becomes one
 * pktwire.h record keyed by its source address, so a source always lands on
 * the same partition. spec as for the sink. Idempotent producer. */
typedef struct nagm_kpub nagm_kpub;
int nagm_kpub_new(const char *spec, nagm_kpub **out, char *errbuf);
/* Queue one packet (waits while the producer queue is full). Returns 0, or
 * -1 on a fatal producer error (nagm_kpub_error says why). */
int nagm_kpub_send(nagm_kpub *k, const nagm_pkt *p);
/* Serve delivery reports; cheap, call often. */
void nagm_kpub_poll(nagm_kpub *k);
typedef struct nagm_kpub_stats {
    uint64_t sent, delivered, failed, queue_depth, bytes;
} nagm_kpub_stats;
void nagm_kpub_get_stats(nagm_kpub *k, nagm_kpub_stats *out);
const char *nagm_kpub_error(const nagm_kpub *k);
/* Wait up to timeout_ms for every record to be delivered, then free k.
 * Returns 0 when all were delivered, -1 otherwise. */
int nagm_kpub_close(nagm_kpub *k, int timeout_ms);

/* Split a Kafka spec "[kafka://]BROKERS/TOPIC[?prop=value&...]" into
 * malloc'd brokers and topic and a NULL-terminated array of property
 * names and values (name, value, name, value, ..., NULL). Free everything
 * with nagm_kafka_spec_free. Returns 0, or -1 with errbuf set. */
typedef struct nagm_kafka_spec {
    char *brokers, *topic;
    char **props;
} nagm_kafka_spec;
int nagm_kafka_spec_parse(const char *spec, nagm_kafka_spec *out, char *errbuf);
void nagm_kafka_spec_free(nagm_kafka_spec *s);

/* PostgreSQL: spec "postgresql://[user@]host[:port]/db?table=NAME[&run=ID]
 * [&buffer_rows=N][&batch_rows=N]" (other parameters go to libpq). A writer
 * thread creates the table if absent and writes each window with COPY inside
 * one transaction that also inserts the window's marker into
 * netagm_windows, so a window is either fully in or absent. While the server
 * is down windows wait in a buffer of at most buffer_rows rows (default
 * 1,000,000); older windows beyond it are dropped and counted. Reconnects
 * with exponential backoff (0.1 s .. 5 s). scored: add cluster and distance
 * columns. */
nagm_wsink *nagm_wsink_pg_new(const char *spec, int scored, char *errbuf);

/* Row text: append n rows to a malloc'd buffer in fmt (CSV or JSONL), the
 * same bytes as the batch writers, plus ",cluster,distance" when score is
 * not NULL. header: CSV header line first. Returns 0 or -1 (ENOMEM).
 * buf, len and cap describe a growing buffer the caller frees. */
int nagm_rows_format(nagm_format fmt, const nagm_agm_row *rows, const nagm_row_score *score,
                     size_t n, int header, char **buf, size_t *len, size_t *cap);

/* ==== metrics and the HTTP endpoint ====================================== */

#define NAGM_METRICS_MAX_SINKS 8
#define NAGM_METRICS_RECENT 64

typedef struct nagm_window_summary {
    int64_t start_ns, end_ns;
    uint64_t sources, pkts;
    int64_t emitted_unix_ns;  /* wall time (CLOCK_REALTIME) the rows went out */
    double close_to_sink_ms;  /* from window close to written into every sink */
    int32_t top_cluster;      /* most common cluster, -1 without a model */
    double max_distance;      /* largest distance in the window (0 without) */
} nagm_window_summary;

/* Everything /metrics, /healthz and /api/windows show. Plain data. */
typedef struct nagm_stream_metrics {
    nagm_stats st;               /* frames, bytes, skipped, counted, late, rows */
    nagm_stream_counters eng;
    nagm_source_stats src;
    const char *source_kind;
    size_t nsinks;
    struct {
        char name[64];
        nagm_wsink_stats s;
    } sinks[NAGM_METRICS_MAX_SINKS];
    int model_loaded;
    uint64_t model_reloads, model_reload_errors;
    double uptime_s;
    int64_t last_loop_unix_ns;   /* the main loop's last turn (health) */
    int fatal;                   /* a sink or source failed */
    size_t nrecent;              /* recent[0] is the oldest */
    nagm_window_summary recent[NAGM_METRICS_RECENT];
} nagm_stream_metrics;

/* Prometheus text exposition (format 0.0.4) of m. Returns 0 or -1. */
int nagm_metrics_write_prometheus(const nagm_stream_metrics *m, FILE *fp);
/* {"windows":[...]} with the recent windows, newest last. Returns 0 or -1. */
int nagm_metrics_write_windows_json(const nagm_stream_metrics *m, FILE *fp);

typedef struct nagm_http nagm_http;

/* Serve /metrics, /healthz and /api/windows on addr ("HOST:PORT", "PORT"
 * alone binds 127.0.0.1; IPv6 as "[::1]:PORT") with libmicrohttpd's own
 * thread. Returns 0, or -1 with errbuf set. */
int nagm_http_start(const char *addr, nagm_http **out, char *errbuf);
/* Replace the data the server shows (copied under a lock). Thread-safe. */
void nagm_http_publish(nagm_http *h, const nagm_stream_metrics *m);
/* The port actually bound (useful with port 0). */
int nagm_http_port(const nagm_http *h);
void nagm_http_stop(nagm_http *h);

#ifdef __cplusplus
}
#endif
#endif
