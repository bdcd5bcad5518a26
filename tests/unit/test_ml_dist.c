/* Training over rows spread across processes (ml/ml_comm.h): the model,
 * assignments and principal components must be bit for bit those of one
 * process on all the rows. The processes are simulated by threads that
 * exchange through shared memory, so this runs in every build (with or
 * without MPI, under the sanitizers); tests/sh/mpi_analyze.sh runs the same
 * over real MPI ranks. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ml/ml_comm.h"
#include "ml/ml_par.h"
#include "ml/ml_rng.h"
#include "netagm/ml.h"

/* ---- simulated processes ---------------------------------------------------------- */

#define MAXP 8

typedef struct sim {
    int p;
    pthread_barrier_t bar;
    const void *ptr[MAXP];
    size_t len[MAXP];
    double state[64]; /* chain */
} sim;

typedef struct rank_run {
    sim *s;
    int rank;
    nagm_ml_comm comm;
    const nagm_agm_row *rows; /* this rank's */
    size_t n;
    const nagm_train_opts *o;
    nagm_model *model;
    nagm_assign *assign;
    double *pcs;
    int rc;
    char err[NAGM_ML_ERRBUF];
} rank_run;

static void sync_all(sim *s)
{
    pthread_barrier_wait(&s->bar);
}

static void sim_sum_ordered(void *ctx, const double *parts, size_t nparts, size_t width,
                            double *out)
{
    rank_run *a = ctx;
    sim *s = a->s;
    s->ptr[a->rank] = parts;
    s->len[a->rank] = nparts;
    sync_all(s);
    double *acc = malloc(width * sizeof *acc);
    for (size_t j = 0; j < width; j++)
        acc[j] = 0.0;
    for (int r = 0; r < s->p; r++)
        nagm_ml_fold_into(acc, s->ptr[r], s->len[r], width);
    sync_all(s);
    memcpy(out, acc, width * sizeof *acc);
    free(acc);
}

static void sim_sum_u64(void *ctx, uint64_t *v, size_t n)
{
    rank_run *a = ctx;
    sim *s = a->s;
    s->ptr[a->rank] = v;
    sync_all(s);
    uint64_t *acc = calloc(n ? n : 1, sizeof *acc);
    for (int r = 0; r < s->p; r++)
        for (size_t i = 0; i < n; i++)
            acc[i] += ((const uint64_t *)s->ptr[r])[i];
    sync_all(s);
    memcpy(v, acc, n * sizeof *acc);
    free(acc);
}

static void sim_max_f64(void *ctx, double *v, size_t n)
{
    rank_run *a = ctx;
    sim *s = a->s;
    s->ptr[a->rank] = v;
    sync_all(s);
    double *acc = malloc((n ? n : 1) * sizeof *acc);
    for (size_t i = 0; i < n; i++) {
        acc[i] = ((const double *)s->ptr[0])[i];
        for (int r = 1; r < s->p; r++) {
            double x = ((const double *)s->ptr[r])[i];
            if (x > acc[i])
                acc[i] = x;
        }
    }
    sync_all(s);
    memcpy(v, acc, n * sizeof *acc);
    free(acc);
}

static void sim_bcast(void *ctx, void *buf, size_t len, int root)
{
    rank_run *a = ctx;
    sim *s = a->s;
    if (a->rank == root)
        s->ptr[root] = buf;
    sync_all(s);
    if (a->rank != root)
        memcpy(buf, s->ptr[root], len);
    sync_all(s);
}

static void sim_gather(void *ctx, const void *send, size_t len, uint8_t **recv, size_t *recvlen,
                       size_t *recvoff)
{
    rank_run *a = ctx;
    sim *s = a->s;
    s->ptr[a->rank] = send;
    s->len[a->rank] = len;
    sync_all(s);
    *recv = NULL;
    if (a->rank == 0) {
        size_t total = 0;
        for (int r = 0; r < s->p; r++) {
            recvoff[r] = total;
            recvlen[r] = s->len[r];
            total += s->len[r];
        }
        *recv = total ? malloc(total) : NULL;
        for (int r = 0; r < s->p; r++)
            if (s->len[r])
                memcpy(*recv + recvoff[r], s->ptr[r], s->len[r]);
    }
    sync_all(s);
}

static void sim_chain(void *ctx, double *state, size_t width, void (*step)(void *, double *),
                      void *arg)
{
    rank_run *a = ctx;
    sim *s = a->s;
    for (int t = 0; t < s->p; t++) {
        if (t == a->rank) {
            if (t > 0)
                memcpy(state, s->state, width * sizeof *state);
            step(arg, state);
            memcpy(s->state, state, width * sizeof *state);
        }
        sync_all(s);
    }
}

static void sim_abort(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "simulated job ended: %s\n", msg);
    abort();
}

static void *rank_main(void *arg)
{
    rank_run *a = arg;
    a->rc = nagm_model_train_comm(a->rows, a->n, a->o, &a->comm, &a->model, a->assign, a->pcs,
                                  NULL, a->err);
    return NULL;
}

/* ---- data: AGM rows of a few kinds of sources, with repeats ------------------------- */

static nagm_agm_row *make_rows(size_t n, uint64_t seed)
{
    static const uint16_t dports[] = {22, 23, 80, 443, 445, 3389, 8080, 25565, 30120};
    static const uint8_t flags[] = {0x02, 0x12, 0x10, 0x18, 0x04, 0x14, 0x11, 0xc2};
    nagm_agm_row *rows = calloc(n, sizeof *rows);
    nagm_rng r;
    nagm_rng_seed(&r, seed, 7);
    for (size_t i = 0; i < n; i++) {
        nagm_agm_row *w = &rows[i];
        int kind = (int)nagm_rng_below(&r, 5);
        uint64_t pkts = kind == 0 ? 1 : kind == 1 ? 1 + nagm_rng_below(&r, 3)
                                               : 1 + nagm_rng_below(&r, kind == 4 ? 2000 : 60);
        w->window_start_ns = (int64_t)(i / 9000) * 60000000000LL;
        w->window_end_ns = w->window_start_ns + 60000000000LL;
        w->src = nagm_addr_v4(0x0a000000u + (uint32_t)(i % 9000));
        w->dst_ip_mode = nagm_addr_v4(0xc0a80001u + (uint32_t)nagm_rng_below(&r, 4));
        w->pkts = pkts;
        for (int f = 0; f < NAGM_NFIELDS; f++) {
            w->uniq[f] = kind >= 2 ? 1 + nagm_rng_below(&r, pkts) : 1;
            w->mode_pkts[f] = 1 + nagm_rng_below(&r, pkts);
        }
        w->uniq[NAGM_F_PROTO] = 1;
        w->mode[NAGM_F_PROTO] = 6;
        w->mode[NAGM_F_SRC_PORT] = kind == 3 ? dports[nagm_rng_below(&r, 9)]
                                             : 1024 + (uint32_t)nagm_rng_below(&r, 40);
        w->mode[NAGM_F_DST_PORT] = kind == 3 ? 40000 + (uint32_t)nagm_rng_below(&r, 5)
                                             : dports[nagm_rng_below(&r, 9)];
        w->mode[NAGM_F_TTL] = 64 + (uint32_t)nagm_rng_below(&r, 3) * 32;
        w->mode[NAGM_F_FLAGS] = flags[(kind + nagm_rng_below(&r, 2)) % 8];
        w->mode[NAGM_F_LEN] = 40 + (uint32_t)nagm_rng_below(&r, kind == 4 ? 1400 : 3) * 4;
    }
    return rows;
}

/* The model as JSON, without the two fields that depend on the clock. */
static char *model_json(nagm_model *m)
{
    m->train.created[0] = '\0';
    m->train.seconds = 0;
    char *json = NULL;
    char err[NAGM_ML_ERRBUF];
    assert_int_equal(nagm_model_to_json(m, &json, err), 0);
    return json;
}

/* Train on n rows with one process and with p simulated ones; everything
 * must be identical. */
static void check_same(const nagm_agm_row *rows, size_t n, const nagm_train_opts *o, int p)
{
    nagm_model *ref;
    size_t ncomp = o->pca;
    nagm_assign *ra = malloc(n * sizeof *ra);
    double *rp = malloc(n * ncomp * sizeof *rp);
    char err[NAGM_ML_ERRBUF];
    assert_int_equal(nagm_model_train(rows, n, o, &ref, ra, rp, NULL, err), 0);
    assert_true(ref->clu.k >= 4); /* a clustering worth comparing */
    char *want = model_json(ref);

    sim s;
    memset(&s, 0, sizeof s);
    s.p = p;
    pthread_barrier_init(&s.bar, NULL, (unsigned)p);
    size_t lo[MAXP + 1];
    nagm_par_split(n, p, lo);
    rank_run run[MAXP];
    pthread_t th[MAXP];
    for (int r = 0; r < p; r++) {
        rank_run *a = &run[r];
        memset(a, 0, sizeof *a);
        a->s = &s;
        a->rank = r;
        a->rows = rows + lo[r];
        a->n = lo[r + 1] - lo[r];
        a->o = o;
        a->assign = malloc((a->n ? a->n : 1) * sizeof *a->assign);
        a->pcs = malloc((a->n ? a->n : 1) * ncomp * sizeof *a->pcs);
        a->comm = (nagm_ml_comm){.rank = r,
                                 .size = p,
                                 .row0 = lo[r],
                                 .n = n,
                                 .ctx = a,
                                 .sum_ordered = sim_sum_ordered,
                                 .sum_u64 = sim_sum_u64,
                                 .max_f64 = sim_max_f64,
                                 .bcast = sim_bcast,
                                 .gather = sim_gather,
                                 .chain = sim_chain,
                                 .abort = sim_abort};
        assert_int_equal(pthread_create(&th[r], NULL, rank_main, a), 0);
    }
    for (int r = 0; r < p; r++)
        pthread_join(th[r], NULL);
    for (int r = 0; r < p; r++) {
        rank_run *a = &run[r];
        assert_int_equal(a->rc, 0);
        /* Every rank has the model; the summary is the caller's job. */
        assert_int_equal(a->model->train.rows, 0);
        assert_int_equal(nagm_model_summarize(&a->model->train, rows, n), 0);
        char *got = model_json(a->model);
        if (strcmp(want, got) != 0) {
            size_t i = 0;
            while (want[i] == got[i])
                i++;
            fail_msg("p=%d rank %d: model differs at byte %zu: ...%.80s vs ...%.80s", p, r, i,
                     want + (i > 40 ? i - 40 : 0), got + (i > 40 ? i - 40 : 0));
        }
        free(got);
        for (size_t i = 0; i < a->n; i++) {
            assert_int_equal(a->assign[i].cluster, ra[lo[r] + i].cluster);
            assert_memory_equal(&a->assign[i].distance, &ra[lo[r] + i].distance, sizeof(double));
        }
        if (a->n)
            assert_memory_equal(a->pcs, rp + lo[r] * ncomp, a->n * ncomp * sizeof *rp);
        nagm_model_free(a->model);
        free(a->assign);
        free(a->pcs);
    }
    pthread_barrier_destroy(&s.bar);
    free(want);
    nagm_model_free(ref);
    free(ra);
    free(rp);
}

/* 3 whole chunks and part of a fourth. */
#define NROWS (3 * NAGM_PAR_CHUNK + 1234)

static void test_bisecting(void **state)
{
    (void)state;
    nagm_agm_row *rows = make_rows(NROWS, 1);
    nagm_train_opts o;
    nagm_train_opts_init(&o);
    o.cluster.threads = 2;
    for (int p = 2; p <= 6; p += 2) /* 6: ranks without rows */
        check_same(rows, NROWS, &o, p);
    o.cluster.k = 7;
    o.cluster.seed = 5;
    check_same(rows, NROWS, &o, 3);
    free(rows);
}

static void test_kmeans(void **state)
{
    (void)state;
    nagm_agm_row *rows = make_rows(NROWS, 2);
    nagm_train_opts o;
    nagm_train_opts_init(&o);
    o.cluster.method = NAGM_CLU_KMEANS;
    o.cluster.k = 6;
    o.cluster.n_init = 3;
    o.cluster.threads = 1;
    check_same(rows, NROWS, &o, 2);
    check_same(rows, NROWS, &o, 5);
    o.cluster_on_pcs = 1;
    o.pca = 4;
    o.cluster.k = 9;
    check_same(rows, NROWS, &o, 3);
    free(rows);
}

static void test_meanshift(void **state)
{
    (void)state;
    /* More than 10,000 rows: the bandwidth is estimated on a sample. */
    nagm_agm_row *rows = make_rows(NROWS, 3);
    for (size_t i = 0; i < NROWS; i++) { /* fewer distinct rows: mean shift stays quick */
        rows[i].pkts = rows[i].pkts % 5 + 1;
        for (int f = 0; f < NAGM_NFIELDS; f++) {
            rows[i].uniq[f] = 1;
            rows[i].mode_pkts[f] = rows[i].pkts;
        }
        rows[i].mode[NAGM_F_LEN] = 40 + rows[i].mode[NAGM_F_LEN] % 3;
    }
    nagm_train_opts o;
    nagm_train_opts_init(&o);
    o.cluster.method = NAGM_CLU_MEANSHIFT;
    o.cluster.quantile = 0.01;
    check_same(rows, NROWS, &o, 3);
    o.cluster.bandwidth = 2.5;
    check_same(rows, NROWS, &o, 2);
    free(rows);
}

/* Fewer rows than one chunk: every other rank holds nothing. */
static void test_small(void **state)
{
    (void)state;
    nagm_agm_row *rows = make_rows(300, 4);
    nagm_train_opts o;
    nagm_train_opts_init(&o);
    check_same(rows, 300, &o, 4);
    o.cluster.method = NAGM_CLU_KMEANS;
    check_same(rows, 300, &o, 3);
    free(rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bisecting),
        cmocka_unit_test(test_kmeans),
        cmocka_unit_test(test_meanshift),
        cmocka_unit_test(test_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
