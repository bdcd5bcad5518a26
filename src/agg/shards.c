/* nagm_run_agm: the batch pipeline with the aggregator behind it.
 *
 * -j 1 aggregates on the reading thread. -j N (N > 1) shards sources by a
 * hash of src_ip into N shards: the reading thread aggregates shard 0 itself
 * and N - 1 worker threads the others (so -j N uses N threads in all). The
 * reader decodes and appends each packet to its shard's current batch, and a
 * full batch is handed over through a bounded ring (no per-packet locks; the
 * reader blocks when a shard's ring is full). A source lives in exactly one
 * shard, so shards never merge; each shard's rows come out sorted and are
 * merged into output order at the end, which makes the output byte-identical
 * for every N.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/row_order.h"
#include "netagm/agg.h"
#include "netagm/pipeline.h"
#include "util/hash.h"

#define BATCH_PKTS 1024
#define RING_BATCHES 8

typedef struct batch {
    size_t n;
    nagm_pkt pkts[BATCH_PKTS];
} batch;

typedef struct shard {
    pthread_t thread;
    nagm_agg *agg;
    batch *ring; /* RING_BATCHES batches */
    uint64_t produced, consumed; /* batches; guarded by mu */
    int done;                    /* reader finished; guarded by mu */
    int failed;                  /* ENOMEM in the worker */
    pthread_mutex_t mu;
    pthread_cond_t cv;
} shard;

typedef struct run_ctx {
    int64_t window_ns;
    int nshards;      /* shards in all; shard 0 is the reader's own */
    unsigned reader64; /* the reader's share of the sources, in 64ths */
    nagm_agg *single; /* shard 0 */
    size_t nbuf;      /* -j N: shard 0's packets waiting in buf */
    nagm_pkt buf[NAGM_PKT_BATCH];
    shard *shards;
} run_ctx;

static void *shard_main(void *arg)
{
    shard *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (s->consumed == s->produced && !s->done)
            pthread_cond_wait(&s->cv, &s->mu);
        if (s->consumed == s->produced) {
            pthread_mutex_unlock(&s->mu);
            return NULL;
        }
        batch *b = &s->ring[s->consumed % RING_BATCHES];
        pthread_mutex_unlock(&s->mu);
        if (!s->failed && nagm_agg_add_batch(s->agg, b->pkts, b->n) != 0)
            s->failed = 1;
        pthread_mutex_lock(&s->mu);
        s->consumed++;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
    }
}

/* Hand the shard's current batch to its worker; wait for a free slot. */
static void shard_publish(shard *s)
{
    pthread_mutex_lock(&s->mu);
    s->produced++;
    pthread_cond_broadcast(&s->cv);
    while (s->produced - s->consumed == RING_BATCHES)
        pthread_cond_wait(&s->cv, &s->mu);
    s->ring[s->produced % RING_BATCHES].n = 0;
    pthread_mutex_unlock(&s->mu);
}

/* -j 1: the pipeline's batch goes to the aggregator as it is. */
static int add_single(void *ctx, const nagm_pkt *pkts, size_t n)
{
    run_ctx *rc = ctx;
    return nagm_agg_add_batch(rc->single, pkts, n);
}

/* The reader's share of the sources for n shards, in 64ths. It also reads,
 * decodes and shards every packet, about 0.3 of the work of counting one
 * (measured: per-thread samples and wall time on the 1 GB benchmark), so
 * with a share s its time per packet is r + s*A against (1-s)*A/(n-1) for a
 * worker (A: counting, r ~ 0.3*A: reading). Equal at s = (1 - 0.3(n-1)) / n:
 * 22/64 for two threads, 9/64 for three, none from five on. Any split is
 * exact: a source still has one owner. */
static unsigned reader_share64(int n)
{
    const char *env = getenv("NETAGM_READER_SHARE64");
    if (env)
        return (unsigned)atoi(env);
    double s = (1.0 - 0.3 * (n - 1)) / n;
    return s > 0 ? (unsigned)(s * 64 + 0.5) : 0;
}

static int add_one_sharded(run_ctx *rc, const nagm_pkt *p)
{
    uint64_t h = nagm_hash_bytes(p->src.b, p->src.family == 4 ? 4 : 16);
    if ((h >> 58) < rc->reader64) {
        rc->buf[rc->nbuf++] = *p;
        if (rc->nbuf < NAGM_PKT_BATCH)
            return 0;
        rc->nbuf = 0;
        return nagm_agg_add_batch(rc->single, rc->buf, NAGM_PKT_BATCH);
    }
    /* The low half of the hash picks the worker, by multiply and shift (a
     * division per packet shows in the reader's profile). */
    shard *s = &rc->shards[((h & 0xffffffffu) * (uint64_t)(rc->nshards - 1)) >> 32];
    /* The reader owns slot produced % RING while produced - consumed < RING. */
    batch *b = &s->ring[s->produced % RING_BATCHES];
    b->pkts[b->n++] = *p;
    if (b->n == BATCH_PKTS) {
        shard_publish(s);
        if (s->failed) /* read once per batch: the worker's line stays put */
            return -1;
    }
    return 0;
}

static int add_sharded(void *ctx, const nagm_pkt *pkts, size_t n)
{
    run_ctx *rc = ctx;
    for (size_t i = 0; i < n; i++)
        if (add_one_sharded(rc, &pkts[i]) != 0)
            return -1;
    return 0;
}

static void shards_finish(run_ctx *rc)
{
    for (int i = 0; i < rc->nshards - 1; i++) {
        shard *s = &rc->shards[i];
        pthread_mutex_lock(&s->mu);
        if (s->ring[s->produced % RING_BATCHES].n)
            s->produced++;
        s->done = 1;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        free(s->ring);
        s->ring = NULL;
    }
}

static int shards_start(run_ctx *rc)
{
    rc->shards = calloc((size_t)rc->nshards - 1, sizeof *rc->shards);
    if (!rc->shards)
        return -1;
    for (int i = 0; i < rc->nshards - 1; i++) {
        shard *s = &rc->shards[i];
        s->agg = nagm_agg_new(rc->window_ns);
        s->ring = calloc(RING_BATCHES, sizeof *s->ring);
        pthread_mutex_init(&s->mu, NULL);
        pthread_cond_init(&s->cv, NULL);
        if (!s->agg || !s->ring || pthread_create(&s->thread, NULL, shard_main, s) != 0) {
            /* Stop the ones already running, then free everything. */
            free(s->ring);
            s->ring = NULL;
            pthread_mutex_destroy(&s->mu);
            pthread_cond_destroy(&s->cv);
            nagm_agg_free(s->agg);
            rc->nshards = i + 1;
            shards_finish(rc);
            for (int k = 0; k < i; k++)
                nagm_agg_free(rc->shards[k].agg); /* shard 0 is freed by the caller */
            free(rc->shards);
            return -1;
        }
    }
    return 0;
}

/* Take every state's rows of the windows ending at or before before_ns (all
 * of them: INT64_MAX) in output order. Each state's rows come out of
 * nagm_agg_take already in order, so one state's are handed over as they
 * are and several are merged. Returns 0 or -1 (ENOMEM). */
static int collect_rows(nagm_agg **aggs, int n, int64_t window_ns, int64_t lo, int64_t hi,
                        int64_t before_ns, nagm_agm_row **rows, size_t *nrows)
{
    nagm_agm_row **part = calloc((size_t)n, sizeof *part);
    const nagm_agm_row **cur = calloc((size_t)n, sizeof *cur);
    size_t *count = calloc((size_t)n, sizeof *count);
    int rc = part && cur && count ? 0 : -1;
    size_t total = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        count[i] = nagm_agg_take(aggs[i], before_ns, &part[i]);
        if (count[i] == (size_t)-1) {
            count[i] = 0;
            rc = -1;
        }
        if (window_ns == 0)
            for (size_t r = 0; r < count[i]; r++) {
                /* One window over the whole input, whichever shard saw the ends. */
                part[i][r].window_start_ns = lo;
                part[i][r].window_end_ns = hi;
            }
        total += count[i];
        cur[i] = part[i];
    }
    nagm_agm_row *out = NULL;
    if (rc == 0 && n == 1) {
        out = part[0];
        part[0] = NULL;
    } else if (rc == 0 && total) {
        out = malloc(sizeof *out * total);
        if (out)
            agg_rows_merge(out, cur, count, n);
        else
            rc = -1;
    }
    for (int i = 0; part && i < n; i++)
        free(part[i]);
    free(part);
    free(cur);
    free(count);
    if (rc != 0)
        return -1;
    *rows = out;
    *nrows = total;
    return 0;
}

/* Hand every state's rows to emit, one window at a time in start order (one
 * call with one window over the whole input). Returns 0, -1 on ENOMEM, or 1
 * when emit stopped. */
static int emit_rows(nagm_agg **aggs, int n, int64_t window_ns, nagm_rows_cb emit, void *ctx,
                     nagm_stats *st)
{
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (int i = 0; i < n; i++) {
        if (nagm_agg_min_ts(aggs[i]) < lo)
            lo = nagm_agg_min_ts(aggs[i]);
        if (nagm_agg_max_ts(aggs[i]) > hi)
            hi = nagm_agg_max_ts(aggs[i]);
    }
    for (;;) {
        /* The earliest window any state still holds: take it from all. */
        int64_t first = INT64_MAX, start;
        int any = 0;
        for (int i = 0; i < n; i++)
            if (nagm_agg_window_starts(aggs[i], &start, 1)) {
                any = 1;
                if (start < first)
                    first = start;
            }
        if (!any)
            return 0;
        int64_t before = window_ns == 0 || first > INT64_MAX - window_ns ? INT64_MAX
                                                                         : first + window_ns;
        nagm_agm_row *rows;
        size_t nrows;
        if (collect_rows(aggs, n, window_ns, lo, hi, before, &rows, &nrows) != 0)
            return -1;
        if (nrows == 0) {
            free(rows);
            continue;
        }
        if (emit(ctx, rows, nrows) != 0)
            return 1;
        st->sources += nrows;
        st->windows++;
    }
}

int nagm_run_agm_each(const nagm_run_opts *o, nagm_rows_cb emit, void *ctx, nagm_stats *st,
                      char *errbuf)
{
    int n = o->jobs > 1 ? o->jobs : 1;
    run_ctx *rc = calloc(1, sizeof *rc); /* holds shard 0's batch: too big for the stack */
    nagm_agg **aggs = calloc((size_t)n, sizeof *aggs);
    if (!rc || !aggs) {
        free(rc);
        free(aggs);
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "out of memory");
        return NAGM_EXIT_ERROR;
    }
    rc->window_ns = o->window_ns;
    rc->nshards = n;
    rc->reader64 = reader_share64(n);
    int status;
    rc->single = aggs[0] = nagm_agg_new(o->window_ns);
    if (!rc->single) {
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "out of memory");
        status = NAGM_EXIT_ERROR;
    } else if (n > 1 && shards_start(rc) != 0) {
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "cannot start %d worker threads", n - 1);
        status = NAGM_EXIT_ERROR;
    } else {
        status = nagm_run_packets(o, n > 1 ? add_sharded : add_single, rc, st, errbuf);
        if (status != NAGM_EXIT_ERROR && status != NAGM_EXIT_USAGE && rc->nbuf &&
            nagm_agg_add_batch(rc->single, rc->buf, rc->nbuf) != 0) {
            snprintf(errbuf, NAGM_ERRBUF_SIZE, "out of memory while aggregating");
            status = NAGM_EXIT_ERROR;
        }
        if (n > 1) {
            shards_finish(rc);
            for (int i = 1; i < n; i++) {
                aggs[i] = rc->shards[i - 1].agg;
                if (rc->shards[i - 1].failed && status != NAGM_EXIT_ERROR) {
                    snprintf(errbuf, NAGM_ERRBUF_SIZE, "out of memory while aggregating");
                    status = NAGM_EXIT_ERROR;
                }
            }
            free(rc->shards);
        }
    }
    if (status != NAGM_EXIT_ERROR && status != NAGM_EXIT_USAGE) {
        int erc = emit_rows(aggs, n, o->window_ns, emit, ctx, st);
        if (erc != 0) {
            snprintf(errbuf, NAGM_ERRBUF_SIZE, "%s",
                     erc < 0 ? "out of memory while collecting rows" : "stopped by the row consumer");
            status = NAGM_EXIT_ERROR;
        }
    }
    for (int i = 0; i < n; i++)
        nagm_agg_free(aggs[i]);
    free(aggs);
    free(rc);
    return status;
}

/* nagm_run_agm's row consumer: the first window's array is kept as it is
 * (with one window, all rows: no copy), later ones appended to it. */
typedef struct all_rows {
    nagm_agm_row *rows;
    size_t n, cap;
    int oom; /* the only way it stops a run */
} all_rows;

static int append_rows(void *ctx, nagm_agm_row *rows, size_t n)
{
    all_rows *a = ctx;
    if (!a->rows) {
        a->rows = rows;
        a->n = a->cap = n;
        return 0;
    }
    if (a->n + n > a->cap) {
        size_t ncap = a->cap ? a->cap : 1024;
        while (ncap < a->n + n)
            ncap *= 2;
        nagm_agm_row *nr = realloc(a->rows, sizeof *nr * ncap);
        if (!nr) {
            free(rows);
            a->oom = 1;
            return -1;
        }
        a->rows = nr;
        a->cap = ncap;
    }
    memcpy(a->rows + a->n, rows, sizeof *rows * n);
    a->n += n;
    free(rows);
    return 0;
}

int nagm_run_agm(const nagm_run_opts *o, nagm_agm_row **rows, size_t *nrows, nagm_stats *st,
                 char *errbuf)
{
    all_rows a = {NULL, 0, 0, 0};
    int status = nagm_run_agm_each(o, append_rows, &a, st, errbuf);
    if (status == NAGM_EXIT_ERROR || status == NAGM_EXIT_USAGE) {
        if (a.oom)
            snprintf(errbuf, NAGM_ERRBUF_SIZE, "out of memory while collecting rows");
        free(a.rows);
        a.rows = NULL;
        a.n = 0;
    }
    *rows = a.rows;
    *nrows = a.n;
    return status;
}
