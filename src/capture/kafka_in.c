/* Stream source: packet records (pktwire.h) from a Kafka topic, read by a
 * member of a consumer group (netagm stream --kafka-in).
 *
 * Every partition is a lane of the windowing engine: its own state and
 * watermark, so one partition running ahead of another does not make the
 * other's packets late, and a partition taken away in a rebalance takes its
 * open windows with it (the new owner re-reads them).
 *
 * Exactly once across restarts. Offsets are committed by hand, and only
 * once every sink holds every window emitted so far (the stream loop calls
 * commit then). For each partition the committed offset is the smallest
 * offset of a packet still in an open window (or the read position when
 * there is none), and the commit's metadata records the run's
 * closed_before: "netagm/1 closed_before=NS window=NS". A member that is
 * assigned the partition later starts at that offset and drops every packet
 * of a window ending at or before closed_before (counted as replayed): those
 * windows were emitted already. So a clean stop and restart neither loses
 * nor repeats a packet. After a crash, the windows emitted since the last
 * commit are emitted again (at least once).
 */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netagm/pktwire.h"
#include "netagm/stream.h"

#define BUDGET 8192
#define BATCH 1024
#define META_PREFIX "netagm/1 "

typedef struct part {
    int assigned;
    int eof;
    int64_t next_offset; /* after the last message read; -1 none */
} part;

typedef struct kafka_src {
    nagm_source base;
    rd_kafka_t *rk;
    rd_kafka_queue_t *q;      /* the consumer queue */
    char *topic;
    int64_t window_ns;
    part *parts;
    size_t nparts;
    const nagm_source_cb *cb; /* valid during poll (rebalances happen there) */
    const nagm_stream *eng;   /* the engine the last commit saw */
    int closing;
    nagm_source_stats st;
    time_t last_err;
    int fatal;
    int64_t last_closed_before; /* of the last commit */
} kafka_src;

static part *part_get(kafka_src *ks, int32_t p)
{
    if (p < 0 || p >= 65536)
        return NULL;
    if ((size_t)p >= ks->nparts) {
        size_t n = ks->nparts ? ks->nparts : 8;
        while (n <= (size_t)p)
            n *= 2;
        part *np = realloc(ks->parts, sizeof *np * n);
        if (!np)
            return NULL;
        for (size_t i = ks->nparts; i < n; i++) {
            np[i].assigned = np[i].eof = 0;
            np[i].next_offset = -1;
        }
        ks->parts = np;
        ks->nparts = n;
    }
    return &ks->parts[p];
}

/* Commit offsets (and closed_before) for the assigned partitions. */
static int do_commit(kafka_src *ks, const nagm_stream *eng, int sync)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    int64_t cb = nagm_stream_closed_before(eng);
    char meta[128];
    snprintf(meta, sizeof meta, META_PREFIX "closed_before=%" PRId64 " window=%" PRId64, cb,
             ks->window_ns);
    for (size_t i = 0; i < ks->nparts; i++) {
        part *p = &ks->parts[i];
        if (!p->assigned || p->next_offset < 0)
            continue;
        int64_t pos = nagm_stream_lane_min_pos(eng, (int)i);
        if (pos < 0)
            pos = p->next_offset;
        rd_kafka_topic_partition_t *t = rd_kafka_topic_partition_list_add(l, ks->topic, (int32_t)i);
        t->offset = pos;
        t->metadata = strdup(meta);
        t->metadata_size = t->metadata ? strlen(meta) : 0;
    }
    int rc = 0;
    if (l->cnt) {
        rd_kafka_resp_err_t e = rd_kafka_commit(ks->rk, l, !sync);
        ks->st.commits++;
        if (e) {
            ks->st.commit_errors++;
            fprintf(stderr, "netagm stream: committing Kafka offsets failed: %s\n",
                    rd_kafka_err2str(e));
            rc = -1;
        }
    }
    ks->last_closed_before = cb;
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

/* closed_before from a commit's metadata, INT64_MIN if absent or for
 * another window length. */
static int64_t parse_meta(const kafka_src *ks, const char *m, size_t n)
{
    char buf[160];
    if (!m || n == 0 || n >= sizeof buf)
        return INT64_MIN;
    memcpy(buf, m, n);
    buf[n] = '\0';
    int64_t cb, w;
    if (strncmp(buf, META_PREFIX, strlen(META_PREFIX)) != 0 ||
        sscanf(buf + strlen(META_PREFIX), "closed_before=%" SCNd64 " window=%" SCNd64, &cb, &w) != 2)
        return INT64_MIN;
    if (w != ks->window_ns) {
        fprintf(stderr,
                "netagm stream: the committed progress was made with another window length; "
                "windows may be repeated\n");
        return INT64_MIN;
    }
    return cb;
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    kafka_src *ks = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        /* The committed offsets and their metadata say where to start and
         * what was emitted already. */
        rd_kafka_resp_err_t ce = rd_kafka_committed(rk, parts, 10000);
        if (ce)
            fprintf(stderr, "netagm stream: reading committed Kafka offsets failed: %s\n",
                    rd_kafka_err2str(ce));
        for (int i = 0; i < parts->cnt; i++) {
            rd_kafka_topic_partition_t *t = &parts->elems[i];
            part *p = part_get(ks, t->partition);
            if (!p)
                continue;
            p->assigned = 1;
            p->eof = 0;
            p->next_offset = -1;
            int64_t replay = parse_meta(ks, t->metadata, t->metadata_size);
            if (ks->cb && ks->cb->lane && !ks->closing)
                ks->cb->lane(ks->cb->ctx, t->partition, NAGM_LANE_OPEN, replay);
        }
        rd_kafka_assign(rk, parts);
    } else {
        /* Revoked: record what is safely out (the last commit's engine
         * state), then drop the partitions' open windows. */
        if (ks->eng && !ks->closing)
            do_commit(ks, ks->eng, 1);
        for (int i = 0; i < parts->cnt; i++) {
            part *p = part_get(ks, parts->elems[i].partition);
            if (p) {
                p->assigned = 0;
                p->next_offset = -1;
            }
            if (ks->cb && ks->cb->lane && !ks->closing)
                ks->cb->lane(ks->cb->ctx, parts->elems[i].partition, NAGM_LANE_CLOSE, 0);
        }
        rd_kafka_assign(rk, NULL);
    }
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    kafka_src *ks = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char e[400];
        rd_kafka_fatal_error(rk, e, sizeof e);
        snprintf(ks->base.err, sizeof ks->base.err, "Kafka consumer: %s", e);
        ks->fatal = 1;
        return;
    }
    time_t now = time(NULL);
    if (now - ks->last_err >= 10) {
        fprintf(stderr, "netagm stream: Kafka: %s\n", reason);
        ks->last_err = now;
    }
}

/* One message: a packet record, a partition's end, or an error. Returns a
 * callback's non-zero value, else 0; *n counts packets delivered. */
static int handle(kafka_src *ks, const nagm_source_cb *cb, rd_kafka_message_t *m, int *n)
{
    part *p = m->rkt ? part_get(ks, m->partition) : NULL;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (p && !p->eof) {
            p->eof = 1;
            if (m->offset >= 0 && m->offset > p->next_offset)
                p->next_offset = m->offset;
            cb->lane(cb->ctx, m->partition, NAGM_LANE_EOF, 0);
        }
        return 0;
    }
    if (m->err) {
        time_t now = time(NULL);
        if (now - ks->last_err >= 10) {
            fprintf(stderr, "netagm stream: Kafka: %s\n", rd_kafka_message_errstr(m));
            ks->last_err = now;
        }
        return 0;
    }
    if (!p || !p->assigned)
        return 0;
    if (p->eof) {
        p->eof = 0;
        cb->lane(cb->ctx, m->partition, NAGM_LANE_MORE, 0);
    }
    p->next_offset = m->offset + 1;
    ks->st.records++;
    nagm_pkt pkt;
    int de = nagm_pktwire_decode(m->payload, m->len, &pkt);
    if (de != 0) {
        if (ks->st.bad_records++ < 10)
            fprintf(stderr, "netagm stream: %s [%" PRId32 "] offset %" PRId64 ": %s, skipped\n",
                    ks->topic, m->partition, m->offset, nagm_pktwire_strerror(de));
        return 0;
    }
    nagm_src_meta meta = {.lane = m->partition, .pos = m->offset};
    (*n)++;
    return cb->pkt(cb->ctx, &meta, &pkt);
}

static int kin_poll(nagm_source *s, const nagm_source_cb *cb, int timeout_ms)
{
    kafka_src *ks = (kafka_src *)s;
    ks->cb = cb;
    int n = 0;
    rd_kafka_message_t *msgs[BATCH];
    /* Batches (not one message per call): the per-call cost of the consumer
     * queue dominates otherwise. Rebalance callbacks are served here too. */
    for (int round = 0; n < BUDGET; round++) {
        ssize_t k = rd_kafka_consume_batch_queue(ks->q, round == 0 ? timeout_ms : 0, msgs, BATCH);
        if (ks->fatal) {
            for (ssize_t i = 0; i < k; i++)
                rd_kafka_message_destroy(msgs[i]);
            return NAGM_SRC_ERROR;
        }
        if (k <= 0)
            break;
        int crc = 0;
        for (ssize_t i = 0; i < k; i++) {
            if (!crc)
                crc = handle(ks, cb, msgs[i], &n);
            rd_kafka_message_destroy(msgs[i]);
        }
        if (crc)
            return crc;
    }
    return n;
}

static int kin_commit(nagm_source *s, const nagm_stream *eng, int final)
{
    kafka_src *ks = (kafka_src *)s;
    ks->eng = eng;
    return do_commit(ks, eng, final);
}

static void kin_stats(nagm_source *s, nagm_source_stats *out)
{
    *out = ((kafka_src *)s)->st;
}

static void kin_close(nagm_source *s)
{
    kafka_src *ks = (kafka_src *)s;
    if (!ks)
        return;
    ks->closing = 1;
    rd_kafka_queue_destroy(ks->q);
    rd_kafka_consumer_close(ks->rk);
    rd_kafka_destroy(ks->rk);
    free(ks->topic);
    free(ks->parts);
    free(ks);
}

nagm_source *nagm_source_kafka_new(const nagm_kafka_in_opts *o, char *errbuf)
{
    nagm_kafka_spec sp;
    if (nagm_kafka_spec_parse(o->spec, &sp, errbuf) != 0)
        return NULL;
    kafka_src *ks = calloc(1, sizeof *ks);
    if (!ks) {
        nagm_kafka_spec_free(&sp);
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "out of memory");
        return NULL;
    }
    ks->window_ns = o->window_ns;
    ks->last_closed_before = INT64_MIN;
    char e[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    const char *fixed[][2] = {
        {"bootstrap.servers", sp.brokers},
        {"group.id", o->group ? o->group : "netagm"},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", "earliest"},
        {"enable.partition.eof", "true"},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (rd_kafka_conf_set(c, fixed[i][0], fixed[i][1], e, sizeof e) != RD_KAFKA_CONF_OK)
            goto bad_conf;
    for (char **p = sp.props; p && *p; p += 2)
        if (rd_kafka_conf_set(c, p[0], p[1], e, sizeof e) != RD_KAFKA_CONF_OK)
            goto bad_conf;
    rd_kafka_conf_set_opaque(c, ks);
    rd_kafka_conf_set_rebalance_cb(c, on_rebalance);
    rd_kafka_conf_set_error_cb(c, on_error);
    ks->rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, e, sizeof e);
    if (!ks->rk) {
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "Kafka consumer: %.400s", e);
        rd_kafka_conf_destroy(c);
        goto fail;
    }
    rd_kafka_poll_set_consumer(ks->rk);
    ks->q = rd_kafka_queue_get_consumer(ks->rk);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, sp.topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t se = rd_kafka_subscribe(ks->rk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (se) {
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "Kafka subscribe to %.200s: %s", sp.topic,
                 rd_kafka_err2str(se));
        rd_kafka_queue_destroy(ks->q);
        rd_kafka_destroy(ks->rk);
        goto fail;
    }
    ks->topic = sp.topic;
    sp.topic = NULL;
    nagm_kafka_spec_free(&sp);
    ks->base.kind = "kafka";
    ks->base.poll = kin_poll;
    ks->base.commit = kin_commit;
    ks->base.replayable = 1;
    ks->base.stats = kin_stats;
    ks->base.close = kin_close;
    return &ks->base;
bad_conf:
    snprintf(errbuf, NAGM_ERRBUF_SIZE, "Kafka configuration: %.400s", e);
    rd_kafka_conf_destroy(c);
fail:
    nagm_kafka_spec_free(&sp);
    free(ks);
    return NULL;
}
