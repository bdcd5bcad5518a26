/* ML layer: Numerical AGM encoding, scaler, PCA and the three clustering
 * methods on inputs whose answers are known by hand. (Agreement with
 * scikit-learn on real and synthetic data is test_ml_sklearn.c.) */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ml/ml_rng.h"
#include "netagm/ml.h"

static nagm_agm_row mkrow(uint32_t src, uint64_t pkts, uint16_t sport, uint16_t dport,
                          uint8_t flags)
{
    nagm_agm_row r;
    memset(&r, 0, sizeof r);
    r.src = nagm_addr_v4(src);
    r.dst_ip_mode = nagm_addr_v4(0x0a000001);
    r.pkts = pkts;
    for (int f = 0; f < NAGM_NFIELDS; f++) {
        r.uniq[f] = 1;
        r.mode_pkts[f] = pkts;
    }
    r.mode[NAGM_F_SRC_PORT] = sport;
    r.mode[NAGM_F_DST_PORT] = dport;
    r.mode[NAGM_F_TTL] = 64;
    r.mode[NAGM_F_PROTO] = 6;
    r.mode[NAGM_F_FLAGS] = flags;
    r.mode[NAGM_F_LEN] = 60;
    return r;
}

static int all_finite(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

/* ---- encoding ------------------------------------------------------------------- */

static void test_encode_layout(void **state)
{
    (void)state;
    nagm_agm_row r = mkrow(1, 9, 40000, 443, 0x18);
    r.uniq[NAGM_F_DST_IP] = 3;
    r.mode_pkts[NAGM_F_DST_IP] = 5;
    r.uniq[NAGM_F_SRC_PORT] = 2;
    r.mode_pkts[NAGM_F_SRC_PORT] = 7;
    r.uniq[NAGM_F_DST_PORT] = 4;
    r.mode_pkts[NAGM_F_DST_PORT] = 6;
    r.uniq[NAGM_F_TTL] = 1;
    r.mode[NAGM_F_TTL] = 57;
    r.mode_pkts[NAGM_F_TTL] = 9;
    r.uniq[NAGM_F_FLAGS] = 2;
    r.mode_pkts[NAGM_F_FLAGS] = 8;
    r.uniq[NAGM_F_LEN] = 3;
    r.mode[NAGM_F_LEN] = 1500;
    r.mode_pkts[NAGM_F_LEN] = 4;
    nagm_encoder e;
    assert_int_equal(nagm_nagm_init(&e, 10, 10, 16, NULL), 0);
    assert_int_equal(nagm_nagm_fit(&e, &r, 1, NULL), 0);
    assert_int_equal(nagm_nagm_dim(&e), NAGM_NAGM_DIM);
    double x[NAGM_NAGM_DIM];
    nagm_nagm_encode_row(&e, &r, x);
    /* The spec's 15 numeric columns, in order. */
    const double want[15] = {9, 3, 5, 2, 7, 4, 6, 1, 57, 9, 2, 8, 3, 1500, 4};
    for (int i = 0; i < 15; i++)
        assert_true(x[i] == want[i]);
    /* One category per field was seen: column 0 of each block is 1. */
    assert_true(x[15] == 1 && x[25] == 1 && x[35] == 1);
    double s = 0;
    for (int i = 15; i < NAGM_NAGM_DIM; i++)
        s += x[i];
    assert_true(s == 3);
    char name[48];
    assert_string_equal(nagm_nagm_col_name(&e, 0, name), "pkts");
    assert_string_equal(nagm_nagm_col_name(&e, 14, name), "len_mode_pkts");
    assert_string_equal(nagm_nagm_col_name(&e, 15, name), "src_port_mode=40000");
    assert_string_equal(nagm_nagm_col_name(&e, 25, name), "dst_port_mode=443");
    assert_string_equal(nagm_nagm_col_name(&e, 35, name), "flags_mode=24");
    assert_string_equal(nagm_nagm_col_name(&e, 36, name), "flags_mode=unused1");
}

static void test_encode_categories(void **state)
{
    (void)state;
    /* dst_port modes: 80 x3, 22 x3, 443 x2, 8080 x1, 25 x1 -> K=3 keeps
     * 22, 80 (tie: smaller first), then 443; 8080 and 25 encode as zeros. */
    uint16_t ports[] = {80, 443, 22, 80, 8080, 22, 443, 80, 22, 25};
    nagm_agm_row rows[10];
    for (int i = 0; i < 10; i++)
        rows[i] = mkrow((uint32_t)i, 1, 1000, ports[i], 2);
    nagm_encoder e;
    assert_int_equal(nagm_nagm_init(&e, 2, 3, 4, NULL), 0);
    assert_int_equal(nagm_nagm_fit(&e, rows, 10, NULL), 0);
    assert_int_equal(nagm_nagm_dim(&e), 15 + 2 + 3 + 4);
    assert_int_equal(e.ncat[NAGM_OH_DST_PORT], 3);
    assert_int_equal(e.cat[NAGM_OH_DST_PORT][0], 22);
    assert_int_equal(e.cat[NAGM_OH_DST_PORT][1], 80);
    assert_int_equal(e.cat[NAGM_OH_DST_PORT][2], 443);
    assert_int_equal(e.ncat[NAGM_OH_SRC_PORT], 1);
    double x[24];
    nagm_nagm_encode_row(&e, &rows[4], x); /* 8080: not a category */
    assert_true(x[17] == 0 && x[18] == 0 && x[19] == 0);
    nagm_nagm_encode_row(&e, &rows[1], x); /* 443 */
    assert_true(x[17] == 0 && x[18] == 0 && x[19] == 1);
    /* src_port: one category, the second column unused and 0. */
    assert_true(x[15] == 1 && x[16] == 0);
    assert_int_equal(nagm_nagm_init(&e, 0, 10, 16, NULL), -NAGM_ML_EINVAL);
    assert_int_equal(nagm_nagm_init(&e, 10, 10, NAGM_NAGM_MAX_K + 1, NULL), -NAGM_ML_EINVAL);
}

static void test_row_has_tcp(void **state)
{
    (void)state;
    nagm_agm_row r = mkrow(1, 3, 1, 2, 2);
    assert_true(nagm_nagm_row_has_tcp(&r));
    r.mode[NAGM_F_PROTO] = 17;
    assert_false(nagm_nagm_row_has_tcp(&r));
    r.uniq[NAGM_F_PROTO] = 2; /* UDP mostly, but some other protocol too */
    assert_true(nagm_nagm_row_has_tcp(&r));
}

/* ---- scaler --------------------------------------------------------------------------- */

static void test_scaler(void **state)
{
    (void)state;
    /* Column 0: 1,2,3,4 -> mean 2.5, sample sd sqrt(5/3); column 1 constant. */
    double X[8] = {1, 7, 2, 7, 3, 7, 4, 7};
    nagm_scaler s;
    assert_int_equal(nagm_scaler_fit(&s, X, 4, 2, NULL), 0);
    assert_true(s.mean[0] == 2.5 && s.mean[1] == 7);
    assert_true(fabs(s.std[0] - sqrt(5.0 / 3.0)) < 1e-15);
    assert_true(s.std[1] == 0);
    nagm_scaler_transform(&s, X, 4);
    assert_true(fabs(X[0] + 1.5 / sqrt(5.0 / 3.0)) < 1e-15);
    assert_true(X[1] == 0 && X[3] == 0 && X[5] == 0 && X[7] == 0);
    nagm_scaler_clear(&s);
    /* One row: every column is constant. */
    double one[2] = {3, 4};
    assert_int_equal(nagm_scaler_fit(&s, one, 1, 2, NULL), 0);
    nagm_scaler_transform(&s, one, 1);
    assert_true(one[0] == 0 && one[1] == 0);
    nagm_scaler_clear(&s);
}

/* ---- PCA ---------------------------------------------------------------------------- */

static void test_pca_known(void **state)
{
    (void)state;
    /* Points on the line y = -2x plus a small orthogonal wobble: the first
     * component is +-(1,-2)/sqrt(5); the sign rule makes the largest absolute
     * loading (-2/sqrt5) positive, so it is (-1, 2)/sqrt(5). */
    double X[2 * 6];
    double t[6] = {-2.5, -1.5, -0.5, 0.5, 1.5, 2.5};
    double w[6] = {0.1, -0.2, 0.1, 0.1, -0.2, 0.1}; /* sum 0, uncorrelated with t */
    for (int i = 0; i < 6; i++) {
        X[2 * i] = t[i] * 1 + w[i] * 2;
        X[2 * i + 1] = t[i] * -2 + w[i] * 1;
    }
    nagm_pca p;
    assert_int_equal(nagm_pca_fit(&p, X, 6, 2, 2, NULL), 0);
    double s5 = sqrt(5.0);
    assert_true(fabs(p.components[0] - -1 / s5) < 1e-12);
    assert_true(fabs(p.components[1] - 2 / s5) < 1e-12);
    /* Variances: sum(t^2)*5/5 and sum(w^2)*5/5 (n-1 = 5). */
    double vt = 0, vw = 0;
    for (int i = 0; i < 6; i++) {
        vt += t[i] * t[i];
        vw += w[i] * w[i];
    }
    assert_true(fabs(p.variance[0] - vt) < 1e-12);
    assert_true(fabs(p.variance[1] - vw) < 1e-12);
    assert_true(fabs(p.ratio[0] + p.ratio[1] - 1) < 1e-15);
    double y[2];
    nagm_pca_transform_row(&p, X, y);
    assert_true(fabs(y[0] - t[0] * -s5) < 1e-12);
    nagm_pca_clear(&p);
}

static void test_pca_degenerate(void **state)
{
    (void)state;
    double one[3] = {1, 2, 3};
    nagm_pca p;
    assert_int_equal(nagm_pca_fit(&p, one, 1, 3, 2, NULL), 0);
    assert_true(all_finite(p.variance, 3) && all_finite(p.ratio, 3));
    assert_true(p.variance[0] == 0 && p.ratio[0] == 0);
    assert_true(all_finite(p.components, 6));
    nagm_pca_clear(&p);
    double same[12] = {1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3};
    assert_int_equal(nagm_pca_fit(&p, same, 4, 3, 5, NULL), 0);
    assert_int_equal(p.ncomp, 3);
    assert_true(all_finite(p.ratio, 3) && p.ratio[0] == 0);
    nagm_pca_clear(&p);
}

/* ---- clustering ----------------------------------------------------------------- */

/* Four tight blobs at the corners of a square, 50 points each. */
static double *blobs(size_t *n, int jitter_seed)
{
    const double cx[4] = {0, 10, 0, 10}, cy[4] = {0, 0, 10, 10};
    double *X = malloc(200 * 2 * sizeof *X);
    nagm_rng r;
    nagm_rng_seed(&r, (uint64_t)jitter_seed, 1);
    for (int i = 0; i < 200; i++) {
        X[2 * i] = cx[i % 4] + nagm_rng_uniform(&r) - 0.5;
        X[2 * i + 1] = cy[i % 4] + nagm_rng_uniform(&r) - 0.5;
    }
    *n = 200;
    return X;
}

/* The partition found equals "i % 4" up to renaming. */
static void assert_blob_partition(const int32_t *lab, size_t n)
{
    int map[4] = {-1, -1, -1, -1};
    for (size_t i = 0; i < n; i++) {
        int b = (int)(i % 4);
        if (map[b] < 0)
            map[b] = lab[i];
        assert_int_equal(lab[i], map[b]);
    }
    for (int a = 0; a < 4; a++)
        for (int b = a + 1; b < 4; b++)
            assert_int_not_equal(map[a], map[b]);
}

static void run_method(nagm_cluster_method m)
{
    size_t n;
    double *X = blobs(&n, 3);
    nagm_cluster_opts o;
    nagm_cluster_opts_init(&o);
    o.method = m;
    o.seed = 11;
    if (m == NAGM_CLU_MEANSHIFT)
        o.bandwidth = 2.5;
    nagm_clusters c;
    int32_t lab[200], lab2[200];
    char err[NAGM_ML_ERRBUF];
    assert_int_equal(nagm_cluster_fit(X, n, 2, &o, &c, lab, err), 0);
    assert_int_equal(c.k, 4);
    assert_blob_partition(lab, n);
    for (int l = 0; l < 4; l++)
        assert_int_equal(c.sizes[l], 50);
    /* Labels are what predict gives, and distances are finite. */
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        double d;
        assert_int_equal(nagm_clusters_predict(&c, X + 2 * i, &d), lab[i]);
        assert_true(isfinite(d) && d < 1.0);
        total += d * d;
    }
    assert_true(fabs(total - c.inertia) <= 1e-9 * c.inertia);
    nagm_clusters c2;
    /* Same seed, same input: same result; threads do not matter. */
    o.threads = 1;
    assert_int_equal(nagm_cluster_fit(X, n, 2, &o, &c2, lab2, err), 0);
    assert_memory_equal(lab, lab2, sizeof lab);
    assert_memory_equal(c.centers, c2.centers, 4 * 2 * sizeof(double));
    nagm_clusters_clear(&c);
    nagm_clusters_clear(&c2);
    free(X);
}

static void test_kmeans_blobs(void **state)
{
    (void)state;
    run_method(NAGM_CLU_KMEANS);
}

static void test_bisecting_blobs(void **state)
{
    (void)state;
    run_method(NAGM_CLU_BISECTING);
}

static void test_meanshift_blobs(void **state)
{
    (void)state;
    run_method(NAGM_CLU_MEANSHIFT);
}

static void test_bisecting_tree(void **state)
{
    (void)state;
    size_t n;
    double *X = blobs(&n, 5);
    nagm_cluster_opts o;
    nagm_cluster_opts_init(&o);
    o.k = 3;
    nagm_clusters c;
    assert_int_equal(nagm_cluster_fit(X, n, 2, &o, &c, NULL, NULL), 0);
    assert_int_equal(c.k, 3);
    assert_int_equal(c.nnodes, 5);
    assert_int_equal(c.nodes[0].parent, -1);
    assert_int_equal(c.nodes[0].size, 200);
    /* The 4 blobs split 2+2 first (largest SSE), then one half again: sizes
     * 100, 50, 50. */
    assert_int_equal(c.sizes[0], 100);
    assert_int_equal(c.sizes[1], 50);
    assert_int_equal(c.sizes[2], 50);
    int leaves = 0;
    for (size_t v = 0; v < c.nnodes; v++)
        if (c.nodes[v].left < 0) {
            leaves++;
            assert_true(c.nodes[v].cluster >= 0 && c.nodes[v].cluster < 3);
        } else {
            assert_true(c.nodes[v].left > (int)v && c.nodes[v].right > (int)v);
        }
    assert_int_equal(leaves, 3);
    nagm_clusters_clear(&c);
    free(X);
}

static void test_fewer_points_than_k(void **state)
{
    (void)state;
    /* 5 rows but only 2 distinct values. */
    double X[5 * 2] = {1, 1, 2, 2, 1, 1, 2, 2, 1, 1};
    for (int m = 0; m < 3; m++) {
        nagm_cluster_opts o;
        nagm_cluster_opts_init(&o);
        o.method = (nagm_cluster_method)m;
        o.k = 4;
        nagm_clusters c;
        int32_t lab[5];
        char err[NAGM_ML_ERRBUF];
        assert_int_equal(nagm_cluster_fit(X, 5, 2, &o, &c, lab, err), 0);
        if (m != NAGM_CLU_MEANSHIFT) {
            assert_int_equal(c.k, 2);
            assert_true(strstr(c.note, "2 of 4") != NULL);
        }
        assert_true(c.k >= 1 && c.k <= 2);
        assert_true(all_finite(c.centers, (size_t)c.k * 2) && isfinite(c.inertia));
        assert_int_equal(lab[0], lab[2]);
        nagm_clusters_clear(&c);
    }
}

static void test_single_and_identical(void **state)
{
    (void)state;
    double X[4 * 3] = {5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5};
    for (size_t n = 1; n <= 4; n += 3) {
        for (int m = 0; m < 3; m++) {
            nagm_cluster_opts o;
            nagm_cluster_opts_init(&o);
            o.method = (nagm_cluster_method)m;
            nagm_clusters c;
            int32_t lab[4];
            assert_int_equal(nagm_cluster_fit(X, n, 3, &o, &c, lab, NULL), 0);
            assert_int_equal(c.k, 1);
            assert_int_equal(c.sizes[0], n);
            assert_true(c.inertia == 0);
            double d;
            assert_int_equal(nagm_clusters_predict(&c, X, &d), 0);
            assert_true(d == 0);
            nagm_clusters_clear(&c);
        }
    }
    nagm_cluster_opts o;
    nagm_cluster_opts_init(&o);
    nagm_clusters c;
    char err[NAGM_ML_ERRBUF];
    assert_int_equal(nagm_cluster_fit(X, 0, 3, &o, &c, NULL, err), -NAGM_ML_EEMPTY);
    o.k = 0;
    assert_int_equal(nagm_cluster_fit(X, 4, 3, &o, &c, NULL, err), -NAGM_ML_EINVAL);
}

static void test_bandwidth_estimate(void **state)
{
    (void)state;
    /* 1-D points 0..9: quantile 0.3 -> 3 nearest (self included); mean of
     * the 3rd-nearest distance: ends have 2, the rest 1 -> (2*2 + 8*1)/10. */
    double X[10];
    for (int i = 0; i < 10; i++)
        X[i] = i;
    double bw = nagm_meanshift_bandwidth(X, 10, 1, 0.3, 0);
    assert_true(fabs(bw - 1.2) < 1e-12);
    assert_int_equal(nagm_cluster_method_parse("meanshift"), NAGM_CLU_MEANSHIFT);
    assert_int_equal(nagm_cluster_method_parse("kmeans"), NAGM_CLU_KMEANS);
    assert_int_equal(nagm_cluster_method_parse("bisecting"), NAGM_CLU_BISECTING);
    assert_int_equal(nagm_cluster_method_parse("dbscan"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_layout),   cmocka_unit_test(test_encode_categories),
        cmocka_unit_test(test_row_has_tcp),     cmocka_unit_test(test_scaler),
        cmocka_unit_test(test_pca_known),       cmocka_unit_test(test_pca_degenerate),
        cmocka_unit_test(test_kmeans_blobs),    cmocka_unit_test(test_bisecting_blobs),
        cmocka_unit_test(test_meanshift_blobs), cmocka_unit_test(test_bisecting_tree),
        cmocka_unit_test(test_fewer_points_than_k),
        cmocka_unit_test(test_single_and_identical),
        cmocka_unit_test(test_bandwidth_estimate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
