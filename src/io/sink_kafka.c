/* Kafka producers: the AGM-row sink of netagm stream (one JSON row per
 * message, key src_ip) and the packet publisher of netagm publish (one
 * pktwire record per message, key the raw source address).
 *
 * Both use librdkafka's idempotent producer (enable.idempotence: no
 * duplicates or reordering from internal retries), asynchronous sends and
 * delivery reports. The row sink tracks the outstanding messages of each
 * window, so that it can say which windows are durable (acknowledged by the
 * brokers); the stream loop only commits its input's progress up to those.
 * A message that cannot be delivered (after librdkafka's own retries, within
 * message.timeout.ms) is a delivery error: counted, reported on stderr, and
 * its window never counts as durable.
 */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netagm/pktwire.h"
#include "netagm/stream.h"

/* ---- spec ------------------------------------------------------------------- */

void nagm_kafka_spec_free(nagm_kafka_spec *s)
{
    if (!s)
        return;
    free(s->brokers);
    free(s->topic);
    if (s->props)
        for (char **p = s->props; *p; p++)
            free(*p);
    free(s->props);
    memset(s, 0, sizeof *s);
}

int nagm_kafka_spec_parse(const char *spec, nagm_kafka_spec *out, char *errbuf)
{
    memset(out, 0, sizeof *out);
    const char *s = spec;
    if (!strncmp(s, "kafka://", 8))
        s += 8;
    const char *slash = strchr(s, '/');
    const char *q = strchr(s, '?');
    if (!slash || slash == s || (q && q < slash) || slash[1] == '\0' || slash + 1 == q) {
        snprintf(errbuf, NAGM_ERRBUF_SIZE,
                 "'%.200s': expected [kafka://]HOST:PORT[,HOST:PORT...]/TOPIC[?property=value&...]",
                 spec);
        return -1;
    }
    out->brokers = strndup(s, (size_t)(slash - s));
    out->topic = q ? strndup(slash + 1, (size_t)(q - slash - 1)) : strdup(slash + 1);
    size_t nprops = 0;
    if (q)
        for (const char *c = q + 1; *c; c++)
            nprops += *c == '&';
    out->props = calloc(2 * (nprops + 1) + 1, sizeof *out->props);
    if (!out->brokers || !out->topic || !out->props)
        goto oom;
    if (strchr(out->topic, '/')) {
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "'%.200s': a topic name has no '/'", spec);
        nagm_kafka_spec_free(out);
        return -1;
    }
    if (q) {
        size_t k = 0;
        const char *c = q + 1;
        while (*c) {
            const char *amp = strchr(c, '&');
            size_t len = amp ? (size_t)(amp - c) : strlen(c);
            const char *eq = memchr(c, '=', len);
            if (len > 0) {
                if (!eq || eq == c) {
                    snprintf(errbuf, NAGM_ERRBUF_SIZE,
                             "'%.200s': expected property=value after '?', got '%.*s'", spec,
                             (int)(len > 100 ? 100 : len), c);
                    nagm_kafka_spec_free(out);
                    return -1;
                }
                out->props[k] = strndup(c, (size_t)(eq - c));
                out->props[k + 1] = strndup(eq + 1, len - (size_t)(eq - c) - 1);
                if (!out->props[k] || !out->props[k + 1])
                    goto oom;
                k += 2;
            }
            c += len + (amp != NULL);
        }
    }
    return 0;
oom:
    nagm_kafka_spec_free(out);
    snprintf(errbuf, NAGM_ERRBUF_SIZE, "out of memory");
    return -1;
}

/* A producer configuration: brokers, idempotence, the spec's properties. */
static rd_kafka_conf_t *producer_conf(const nagm_kafka_spec *ks, char *errbuf)
{
    char e[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (rd_kafka_conf_set(c, "bootstrap.servers", ks->brokers, e, sizeof e) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(c, "enable.idempotence", "true", e, sizeof e) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(c, "linger.ms", "5", e, sizeof e) != RD_KAFKA_CONF_OK)
        goto bad;
    for (char **p = ks->props; p && *p; p += 2)
        if (rd_kafka_conf_set(c, p[0], p[1], e, sizeof e) != RD_KAFKA_CONF_OK)
            goto bad;
    return c;
bad:
    snprintf(errbuf, NAGM_ERRBUF_SIZE, "Kafka configuration: %.400s", e);
    rd_kafka_conf_destroy(c);
    return NULL;
}

/* Report transient client errors at most every 10 s (a broker that is down
 * is reported over and over by librdkafka). */
static void rate_limited(const char *who, const char *msg, time_t *last)
{
    time_t now = time(NULL);
    if (now - *last >= 10) {
        fprintf(stderr, "netagm: %s: %s\n", who, msg);
        *last = now;
    }
}

/* ---- row sink ---------------------------------------------------------------- */

/* Outstanding messages of one window. */
typedef struct win_track {
    uint64_t seq;
    uint64_t outstanding;
    int failed;
    struct timespec written;
} win_track;

static double ms_since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->tv_sec) * 1e3 + (double)(now.tv_nsec - t->tv_nsec) / 1e6;
}

typedef struct kafka_sink {
    nagm_wsink base;
    rd_kafka_t *rk;
    char *topic;
    char name[128];
    win_track *tr;        /* ring of windows not yet fully delivered */
    size_t ntr, captr, headtr;
    nagm_wsink_stats st;
    char *buf;
    size_t len, cap;
    time_t last_err;
    int fatal;
} kafka_sink;

static win_track *track_find(kafka_sink *ks, uint64_t seq)
{
    for (size_t i = 0; i < ks->ntr; i++) {
        win_track *t = &ks->tr[(ks->headtr + i) % ks->captr];
        if (t->seq == seq)
            return t;
    }
    return NULL;
}

/* Advance acked_windows over the delivered windows at the front. */
static void track_retire(kafka_sink *ks)
{
    while (ks->ntr) {
        win_track *t = &ks->tr[ks->headtr];
        if (t->outstanding || t->failed)
            break;
        ks->st.acked_windows++;
        ks->st.last_ack_ms = ms_since(&t->written);
        if (ks->st.last_ack_ms > ks->st.max_ack_ms)
            ks->st.max_ack_ms = ks->st.last_ack_ms;
        ks->headtr = (ks->headtr + 1) % ks->captr;
        ks->ntr--;
    }
}

static void sink_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    kafka_sink *ks = opaque;
    win_track *t = track_find(ks, (uint64_t)(uintptr_t)m->_private);
    if (m->err) {
        ks->st.errors++;
        fprintf(stderr, "netagm stream: %s: delivery failed: %s\n", ks->name,
                rd_kafka_err2str(m->err));
        if (t)
            t->failed = 1;
    }
    if (t && t->outstanding)
        t->outstanding--;
    track_retire(ks);
}

static void sink_err(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    kafka_sink *ks = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char e[512];
        rd_kafka_fatal_error(rk, e, sizeof e);
        snprintf(ks->base.err, sizeof ks->base.err, "fatal producer error: %.200s", e);
        ks->fatal = 1;
        return;
    }
    rate_limited(ks->name, reason, &ks->last_err);
}

static int track_push(kafka_sink *ks, uint64_t seq, uint64_t n)
{
    if (ks->ntr == ks->captr) {
        size_t ncap = ks->captr ? ks->captr * 2 : 16;
        win_track *nt = malloc(sizeof *nt * ncap);
        if (!nt)
            return -1;
        for (size_t i = 0; i < ks->ntr; i++)
            nt[i] = ks->tr[(ks->headtr + i) % ks->captr];
        free(ks->tr);
        ks->tr = nt;
        ks->captr = ncap;
        ks->headtr = 0;
    }
    win_track *t = &ks->tr[(ks->headtr + ks->ntr++) % ks->captr];
    t->seq = seq;
    t->outstanding = n;
    t->failed = 0;
    clock_gettime(CLOCK_MONOTONIC, &t->written);
    return 0;
}

/* Produce one message, waiting while the local queue is full. */
static int produce(rd_kafka_t *rk, const char *topic, const void *key, size_t klen,
                   const void *val, size_t vlen, void *opaque, char *err, size_t errsz)
{
    for (int waited = 0;; waited++) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY((void *)key, klen),
            RD_KAFKA_V_VALUE((void *)val, vlen), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            return 0;
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || waited > 6000) {
            snprintf(err, errsz, "cannot produce to %s: %s", topic, rd_kafka_err2str(e));
            return -1;
        }
        rd_kafka_poll(rk, 10); /* backpressure: serve deliveries, wait */
    }
}

static int ksink_write(nagm_wsink *s, const nagm_window_out *w)
{
    kafka_sink *ks = (kafka_sink *)s;
    if (ks->fatal)
        return NAGM_SINK_ERROR;
    ks->len = 0;
    if (nagm_rows_format(NAGM_FMT_JSONL, w->rows, w->score, w->n, 0, &ks->buf, &ks->len,
                         &ks->cap) != 0 ||
        track_push(ks, w->seq, w->n) != 0) {
        snprintf(s->err, sizeof s->err, "out of memory");
        return NAGM_SINK_ERROR;
    }
    const char *p = ks->buf, *end = ks->buf + ks->len;
    for (size_t i = 0; i < w->n && p < end; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t vlen = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char key[NAGM_ADDR_STRLEN];
        size_t klen = nagm_addr_format(&w->rows[i].src, key);
        if (produce(ks->rk, ks->topic, key, klen, p, vlen, (void *)(uintptr_t)w->seq, s->err,
                    sizeof s->err) != 0) {
            ks->st.errors++;
            return NAGM_SINK_ERROR;
        }
        p = nl ? nl + 1 : end;
    }
    ks->st.windows++;
    ks->st.rows += w->n;
    if (w->n == 0)
        track_retire(ks);
    rd_kafka_poll(ks->rk, 0);
    return NAGM_SINK_OK;
}

static void ksink_poll(nagm_wsink *s)
{
    rd_kafka_poll(((kafka_sink *)s)->rk, 0);
}

static void ksink_stats(nagm_wsink *s, nagm_wsink_stats *out)
{
    kafka_sink *ks = (kafka_sink *)s;
    ks->st.queue_depth = (uint64_t)rd_kafka_outq_len(ks->rk);
    *out = ks->st;
}

static int ksink_close(nagm_wsink *s, int timeout_ms)
{
    kafka_sink *ks = (kafka_sink *)s;
    int rc = NAGM_SINK_OK;
    rd_kafka_flush(ks->rk, timeout_ms);
    int left = rd_kafka_outq_len(ks->rk);
    if (left > 0) {
        fprintf(stderr, "netagm stream: %s: %d messages not delivered within %d ms\n", ks->name,
                left, timeout_ms);
        rc = NAGM_SINK_ERROR;
    }
    if (ks->ntr)
        rc = NAGM_SINK_ERROR; /* a window with a failed message */
    if (ks->fatal) {
        fprintf(stderr, "netagm stream: %s: %s\n", ks->name, ks->base.err);
        rc = NAGM_SINK_ERROR;
    }
    rd_kafka_destroy(ks->rk);
    free(ks->topic);
    free(ks->tr);
    free(ks->buf);
    free(ks);
    return rc;
}

nagm_wsink *nagm_wsink_kafka_new(const char *spec, char *errbuf)
{
    nagm_kafka_spec sp;
    if (nagm_kafka_spec_parse(spec, &sp, errbuf) != 0)
        return NULL;
    kafka_sink *ks = calloc(1, sizeof *ks);
    rd_kafka_conf_t *c = ks ? producer_conf(&sp, errbuf) : NULL;
    if (!c) {
        if (!ks)
            snprintf(errbuf, NAGM_ERRBUF_SIZE, "out of memory");
        free(ks);
        nagm_kafka_spec_free(&sp);
        return NULL;
    }
    snprintf(ks->name, sizeof ks->name, "kafka:%.60s/%.60s", sp.brokers, sp.topic);
    rd_kafka_conf_set_opaque(c, ks);
    rd_kafka_conf_set_dr_msg_cb(c, sink_dr);
    rd_kafka_conf_set_error_cb(c, sink_err);
    char e[512];
    ks->rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, e, sizeof e);
    if (!ks->rk) {
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "Kafka producer: %.400s", e);
        rd_kafka_conf_destroy(c);
        free(ks);
        nagm_kafka_spec_free(&sp);
        return NULL;
    }
    ks->topic = sp.topic;
    sp.topic = NULL;
    nagm_kafka_spec_free(&sp);
    ks->base.name = ks->name;
    ks->base.write = ksink_write;
    ks->base.poll = ksink_poll;
    ks->base.stats = ksink_stats;
    ks->base.close = ksink_close;
    return &ks->base;
}

/* ---- packet publisher ------------------------------------------------------------ */

struct nagm_kpub {
    rd_kafka_t *rk;
    char *topic;
    char name[128];
    nagm_kpub_stats st;
    char err[512];
    int fatal;
    time_t last_err;
};

static void pub_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    nagm_kpub *k = opaque;
    if (m->err) {
        if (k->st.failed++ < 10)
            fprintf(stderr, "netagm publish: %s: delivery failed: %s\n", k->name,
                    rd_kafka_err2str(m->err));
    } else {
        k->st.delivered++;
    }
}

static void pub_err(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    nagm_kpub *k = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char e[400];
        rd_kafka_fatal_error(rk, e, sizeof e);
        snprintf(k->err, sizeof k->err, "fatal producer error: %s", e);
        k->fatal = 1;
        return;
    }
    rate_limited(k->name, reason, &k->last_err);
}

int nagm_kpub_new(const char *spec, nagm_kpub **out, char *errbuf)
{
    *out = NULL;
    nagm_kafka_spec sp;
    if (nagm_kafka_spec_parse(spec, &sp, errbuf) != 0)
        return -1;
    nagm_kpub *k = calloc(1, sizeof *k);
    rd_kafka_conf_t *c = k ? producer_conf(&sp, errbuf) : NULL;
    if (!c) {
        if (!k)
            snprintf(errbuf, NAGM_ERRBUF_SIZE, "out of memory");
        free(k);
        nagm_kafka_spec_free(&sp);
        return -1;
    }
    snprintf(k->name, sizeof k->name, "kafka:%.60s/%.60s", sp.brokers, sp.topic);
    rd_kafka_conf_set_opaque(c, k);
    rd_kafka_conf_set_dr_msg_cb(c, pub_dr);
    rd_kafka_conf_set_error_cb(c, pub_err);
    char e[512];
    k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, e, sizeof e);
    if (!k->rk) {
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "Kafka producer: %.400s", e);
        rd_kafka_conf_destroy(c);
        free(k);
        nagm_kafka_spec_free(&sp);
        return -1;
    }
    k->topic = sp.topic;
    sp.topic = NULL;
    nagm_kafka_spec_free(&sp);
    *out = k;
    return 0;
}

int nagm_kpub_send(nagm_kpub *k, const nagm_pkt *p)
{
    if (k->fatal)
        return -1;
    uint8_t rec[NAGM_PKTWIRE_MAX], key[16];
    size_t n = nagm_pktwire_encode(p, rec);
    size_t kl = nagm_pktwire_key(p, key);
    if (n == 0)
        return 0; /* not an IP packet: nothing to publish */
    if (produce(k->rk, k->topic, key, kl, rec, n, NULL, k->err, sizeof k->err) != 0)
        return -1;
    k->st.sent++;
    k->st.bytes += n;
    if ((k->st.sent & 1023) == 0)
        rd_kafka_poll(k->rk, 0);
    return 0;
}

void nagm_kpub_poll(nagm_kpub *k)
{
    rd_kafka_poll(k->rk, 0);
}

void nagm_kpub_get_stats(nagm_kpub *k, nagm_kpub_stats *out)
{
    k->st.queue_depth = (uint64_t)rd_kafka_outq_len(k->rk);
    *out = k->st;
}

const char *nagm_kpub_error(const nagm_kpub *k)
{
    return k->err;
}

int nagm_kpub_close(nagm_kpub *k, int timeout_ms)
{
    if (!k)
        return 0;
    rd_kafka_flush(k->rk, timeout_ms);
    int left = rd_kafka_outq_len(k->rk);
    int rc = left == 0 && k->st.failed == 0 && !k->fatal ? 0 : -1;
    if (left > 0)
        fprintf(stderr, "netagm publish: %s: %d records not delivered within %d ms\n", k->name,
                left, timeout_ms);
    if (k->fatal)
        fprintf(stderr, "netagm publish: %s: %s\n", k->name, k->err);
    rd_kafka_destroy(k->rk);
    free(k->topic);
    free(k);
    return rc;
}
