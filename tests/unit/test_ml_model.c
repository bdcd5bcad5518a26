/* The model: train, save, load, apply. Applying a model to its training rows
 * must reproduce the training assignments exactly, before and after a trip
 * through the JSON file; a damaged or mismatched file must be refused with a
 * message that says what is wrong. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ml/ml_rng.h"
#include "netagm/ml.h"

/* A small population: SYN scanners, web clients, web servers, backscatter. */
static nagm_agm_row *population(size_t n, uint64_t seed)
{
    nagm_agm_row *rows = calloc(n, sizeof *rows);
    nagm_rng r;
    nagm_rng_seed(&r, seed, 9);
    for (size_t i = 0; i < n; i++) {
        nagm_agm_row *w = &rows[i];
        int kind = (int)(i % 4);
        w->src = nagm_addr_v4(0x0a000000u + (uint32_t)i);
        w->dst_ip_mode = nagm_addr_v4(0xc0a80001u);
        w->window_start_ns = 1600000000LL * 1000000000LL;
        w->window_end_ns = w->window_start_ns + 60LL * 1000000000LL;
        uint64_t pk = 1 + nagm_rng_below(&r, kind == 0 ? 3 : 40);
        w->pkts = pk;
        for (int f = 0; f < NAGM_NFIELDS; f++) {
            w->uniq[f] = 1 + nagm_rng_below(&r, pk);
            w->mode_pkts[f] = 1 + nagm_rng_below(&r, pk);
        }
        w->mode[NAGM_F_PROTO] = 6;
        w->mode[NAGM_F_TTL] = kind == 0 ? 240 + (uint32_t)nagm_rng_below(&r, 10) : 64;
        static const uint16_t svc[] = {22, 23, 80, 443, 445, 3389};
        switch (kind) {
        case 0: /* scanner */
            w->mode[NAGM_F_SRC_PORT] = 40000 + (uint32_t)nagm_rng_below(&r, 3);
            w->mode[NAGM_F_DST_PORT] = svc[nagm_rng_below(&r, 6)];
            w->mode[NAGM_F_FLAGS] = 0x02;
            w->mode[NAGM_F_LEN] = 40;
            break;
        case 1: /* client */
            w->mode[NAGM_F_SRC_PORT] = 32768 + (uint32_t)nagm_rng_below(&r, 20000);
            w->mode[NAGM_F_DST_PORT] = 443;
            w->mode[NAGM_F_FLAGS] = 0x10;
            w->mode[NAGM_F_LEN] = 52;
            break;
        case 2: /* server */
            w->mode[NAGM_F_SRC_PORT] = nagm_rng_below(&r, 2) ? 80 : 443;
            w->mode[NAGM_F_DST_PORT] = 32768 + (uint32_t)nagm_rng_below(&r, 20000);
            w->mode[NAGM_F_FLAGS] = 0x18;
            w->mode[NAGM_F_LEN] = 1500;
            break;
        default: /* backscatter */
            w->mode[NAGM_F_SRC_PORT] = 80;
            w->mode[NAGM_F_DST_PORT] = (uint32_t)nagm_rng_below(&r, 65536);
            w->mode[NAGM_F_FLAGS] = 0x12;
            w->mode[NAGM_F_LEN] = 44;
            break;
        }
    }
    return rows;
}

static int finite_all(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

static void check_roundtrip(const nagm_train_opts *o, size_t n)
{
    nagm_agm_row *rows = population(n, 42);
    nagm_model *m;
    nagm_assign *a = calloc(n, sizeof *a), *b = calloc(n, sizeof *b);
    size_t nc = o->pca;
    double *pa = calloc(n * nc, sizeof *pa), *pb = calloc(n * nc, sizeof *pb);
    char err[NAGM_ML_ERRBUF];
    assert_int_equal(nagm_model_train(rows, n, o, &m, a, pa, NULL, err), 0);
    assert_true(m->clu.k >= 1);
    assert_int_equal(m->train.rows, n);
    assert_int_equal(m->train.sources, n);
    assert_int_equal(m->train.windows, 1);
    /* Apply in memory. */
    assert_int_equal(nagm_model_apply(m, rows, n, b, pb, err), 0);
    assert_memory_equal(a, b, n * sizeof *a);
    assert_memory_equal(pa, pb, n * nc * sizeof *pa);
    /* Through the file. */
    char path[] = "/tmp/test_ml_model_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(nagm_model_save(m, path, err), 0);
    nagm_model *l;
    int rc = nagm_model_load(path, &l, err);
    if (rc)
        fprintf(stderr, "load: %s\n", err);
    assert_int_equal(rc, 0);
    memset(b, 0xff, n * sizeof *b);
    assert_int_equal(nagm_model_apply(l, rows, n, b, pb, err), 0);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(a[i].cluster, b[i].cluster);
        assert_true(a[i].distance == b[i].distance);
    }
    assert_memory_equal(pa, pb, n * nc * sizeof *pa);
    /* Saving the loaded model gives the same file. */
    char *j1, *j2;
    assert_int_equal(nagm_model_to_json(m, &j1, err), 0);
    assert_int_equal(nagm_model_to_json(l, &j2, err), 0);
    assert_string_equal(j1, j2);
    free(j1);
    free(j2);
    unlink(path);
    nagm_model_free(m);
    nagm_model_free(l);
    free(a);
    free(b);
    free(pa);
    free(pb);
    free(rows);
}

static void test_roundtrip_bisecting(void **state)
{
    (void)state;
    nagm_train_opts o;
    nagm_train_opts_init(&o);
    o.cluster.seed = 3;
    check_roundtrip(&o, 400);
}

static void test_roundtrip_kmeans_pcs(void **state)
{
    (void)state;
    nagm_train_opts o;
    nagm_train_opts_init(&o);
    o.cluster.method = NAGM_CLU_KMEANS;
    o.cluster.k = 6;
    o.cluster_on_pcs = 1;
    o.pca = 4;
    check_roundtrip(&o, 300);
}

static void test_roundtrip_meanshift(void **state)
{
    (void)state;
    nagm_train_opts o;
    nagm_train_opts_init(&o);
    o.cluster.method = NAGM_CLU_MEANSHIFT;
    o.k_dst_port = 4;
    check_roundtrip(&o, 200);
}

static void test_edge_cases(void **state)
{
    (void)state;
    nagm_train_opts o;
    nagm_train_opts_init(&o);
    char err[NAGM_ML_ERRBUF];
    nagm_model *m;
    assert_int_equal(nagm_model_train(NULL, 0, &o, &m, NULL, NULL, NULL, err), -NAGM_ML_EEMPTY);
    assert_non_null(strstr(err, "no AGM rows"));
    assert_null(m);
    for (int method = 0; method < 3; method++) {
        o.cluster.method = (nagm_cluster_method)method;
        /* one source; three identical rows; three rows for k = 4 */
        nagm_agm_row *rows = population(3, 1);
        nagm_agm_row same[3] = {rows[0], rows[0], rows[0]};
        const nagm_agm_row *sets[3] = {rows, same, rows};
        size_t ns[3] = {1, 3, 3};
        for (int s = 0; s < 3; s++) {
            nagm_assign a[3];
            double pcs[3 * NAGM_PCA_DEFAULT];
            assert_int_equal(nagm_model_train(sets[s], ns[s], &o, &m, a, pcs, NULL, err), 0);
            assert_true(m->clu.k >= 1 && m->clu.k <= (int)ns[s]);
            if (s < 2)
                assert_int_equal(m->clu.k, 1);
            if (method != NAGM_CLU_MEANSHIFT && s == 2)
                assert_int_equal(m->clu.k, 3);
            if (method != NAGM_CLU_MEANSHIFT)
                assert_true(m->clu.note[0] != '\0'); /* says why fewer than 4 */
            assert_true(finite_all(pcs, ns[s] * NAGM_PCA_DEFAULT));
            assert_true(finite_all(m->pca.ratio, 51) && finite_all(m->pca.variance, 51));
            assert_true(finite_all(m->scaler.std, 51) && finite_all(m->clu.centers, 51));
            for (size_t i = 0; i < ns[s]; i++)
                assert_true(isfinite(a[i].distance));
            char *json;
            assert_int_equal(nagm_model_to_json(m, &json, err), 0);
            assert_null(strstr(json, "nan"));
            assert_null(strstr(json, "null"));
            nagm_model *l;
            assert_int_equal(nagm_model_from_json(json, strlen(json), &l, err), 0);
            nagm_model_free(l);
            free(json);
            nagm_model_free(m);
        }
        free(rows);
    }
}

/* Replace the first occurrence of `from` in a copy of json by `to`. */
static char *edit(const char *json, const char *from, const char *to)
{
    const char *p = strstr(json, from);
    assert_non_null(p);
    size_t a = (size_t)(p - json), fl = strlen(from), tl = strlen(to), n = strlen(json);
    char *o = malloc(n - fl + tl + 1);
    memcpy(o, json, a);
    memcpy(o + a, to, tl);
    memcpy(o + a + tl, p + fl, n - a - fl + 1);
    return o;
}

static void expect_reject(const char *json, int code, const char *words)
{
    nagm_model *m = (nagm_model *)1;
    char err[NAGM_ML_ERRBUF] = "";
    int rc = nagm_model_from_json(json, strlen(json), &m, err);
    if (rc != code || !strstr(err, words))
        fprintf(stderr, "got %d '%s', wanted %d '%s'\n", rc, err, code, words);
    assert_int_equal(rc, code);
    assert_null(m);
    assert_non_null(strstr(err, words));
}

static void test_damaged_models(void **state)
{
    (void)state;
    nagm_agm_row *rows = population(120, 5);
    nagm_train_opts o;
    nagm_train_opts_init(&o);
    nagm_model *m;
    char err[NAGM_ML_ERRBUF];
    assert_int_equal(nagm_model_train(rows, 120, &o, &m, NULL, NULL, NULL, err), 0);
    char *json;
    assert_int_equal(nagm_model_to_json(m, &json, err), 0);
    nagm_model_free(m);

    /* Truncated file. */
    char *t = strdup(json);
    t[strlen(t) / 2] = '\0';
    expect_reject(t, -NAGM_ML_EFORMAT, "not valid JSON at line");
    free(t);
    /* Not a model at all. */
    expect_reject("{\"hello\": 1}", -NAGM_ML_EFORMAT, "not a netagm model");
    expect_reject("[1,2,3]", -NAGM_ML_EFORMAT, "not a netagm model");
    /* Another version. */
    t = edit(json, "\"version\":\t1", "\"version\":\t2");
    expect_reject(t, -NAGM_ML_EVERSION, "version 2 is not supported");
    free(t);
    /* A missing part. */
    t = edit(json, "\"scaler\"", "\"scalar\"");
    expect_reject(t, -NAGM_ML_EFORMAT, "model.scaler is missing");
    free(t);
    /* A vector of the wrong length: drop the first scaler mean value. */
    const char *mp = strstr(json, "\"mean\":\t[");
    assert_non_null(mp);
    const char *comma = strchr(mp, ',');
    char *u = malloc(strlen(json) + 1);
    size_t a = (size_t)(strchr(mp, '[') + 1 - json);
    memcpy(u, json, a);
    strcpy(u + a, comma + 1);
    expect_reject(u, -NAGM_ML_EFORMAT, "scaler.mean has 50 values, expected 51");
    free(u);
    /* K that no longer matches the dimension. */
    t = edit(json, "\"k\":\t16", "\"k\":\t15");
    expect_reject(t, -NAGM_ML_EFORMAT, "encoding.dim is 51 but the fields give 50");
    free(t);
    /* A non-number where a number belongs. */
    t = edit(json, "\"inertia\":\t", "\"inertia\":\t\"x\", \"was\": ");
    expect_reject(t, -NAGM_ML_EFORMAT, "clustering.inertia must be a finite number");
    free(t);
    /* A tree whose root points at itself. */
    t = edit(json, "\"left\":\t1", "\"left\":\t0");
    expect_reject(t, -NAGM_ML_EFORMAT, "clustering.tree[0]");
    free(t);
    /* A leaf with a cluster id out of range. */
    t = edit(json, "\"cluster\":\t0", "\"cluster\":\t9");
    expect_reject(t, -NAGM_ML_EFORMAT, "clustering.tree[");
    free(t);
    /* Clustering space that does not match. */
    t = edit(json, "\"space\":\t\"scaled\"", "\"space\":\t\"pcs\"");
    expect_reject(t, -NAGM_ML_EFORMAT, "clustering.dim is 51, but the principal component");
    free(t);
    /* The intact file loads. */
    assert_int_equal(nagm_model_from_json(json, strlen(json), &m, err), 0);
    nagm_model_free(m);
    /* Files that are not there or empty. */
    assert_int_equal(nagm_model_load("/nonexistent/model.json", &m, err), -NAGM_ML_EIO);
    assert_non_null(strstr(err, "/nonexistent/model.json"));
    expect_reject("", -NAGM_ML_EFORMAT, "not valid JSON");
    free(json);
    free(rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_bisecting),
        cmocka_unit_test(test_roundtrip_kmeans_pcs),
        cmocka_unit_test(test_roundtrip_meanshift),
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_damaged_models),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
