/* libFuzzer target for the model loader (model.json, as written by
 * `netagm analyze` and read by `netagm apply` and stream mode).
 *
 * Input: the file's bytes, given to nagm_model_from_json with their exact
 * length (ASan sees any read past them); one input in 16 also goes through
 * nagm_model_load on a memfd, which must agree. A model that loads is then
 * used:
 *  - applied to a few fixed AGM rows (IPv4, IPv6, smallest and largest
 *    counts) with nagm_model_apply_row on exact-size work buffers: the
 *    cluster is one of the model's, the distance is not negative, and
 *    nagm_model_apply gives the same bits;
 *  - saved with nagm_model_to_json and loaded again: the reloaded model
 *    saves to the very same text (loading keeps everything saving writes).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "netagm/ml.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NROWS 4

static void make_rows(nagm_agm_row *rows)
{
    memset(rows, 0, NROWS * sizeof *rows);
    /* A web server's answers: the usual categories of a trained model. */
    nagm_agm_row *r = &rows[0];
    nagm_addr_parse("192.0.2.10", &r->src);
    nagm_addr_parse("198.51.100.7", &r->dst_ip_mode);
    r->window_start_ns = 1600000000000000000;
    r->window_end_ns = r->window_start_ns + 60000000000;
    r->pkts = 40;
    static const uint32_t m0[NAGM_NFIELDS] = {0, 80, 51234, 64, 6, 16, 1500};
    static const uint64_t u0[NAGM_NFIELDS] = {3, 1, 5, 2, 1, 4, 7};
    static const uint64_t p0[NAGM_NFIELDS] = {30, 40, 12, 39, 40, 25, 20};
    memcpy(r->mode, m0, sizeof m0);
    memcpy(r->uniq, u0, sizeof u0);
    memcpy(r->mode_pkts, p0, sizeof p0);

    /* The smallest row. */
    r = &rows[1];
    nagm_addr_parse("10.0.0.1", &r->src);
    nagm_addr_parse("10.0.0.2", &r->dst_ip_mode);
    r->pkts = 1;
    for (int f = 0; f < NAGM_NFIELDS; f++)
        r->uniq[f] = r->mode_pkts[f] = 1;

    /* Every count and mode at its largest: huge encoded values. */
    r = &rows[2];
    nagm_addr_parse("2001:db8::1", &r->src);
    nagm_addr_parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", &r->dst_ip_mode);
    r->window_start_ns = INT64_MIN;
    r->window_end_ns = INT64_MAX;
    r->pkts = UINT64_MAX;
    static const uint32_t m2[NAGM_NFIELDS] = {0, 65535, 65535, 255, 255, 255, 65575};
    memcpy(r->mode, m2, sizeof m2);
    for (int f = 0; f < NAGM_NFIELDS; f++)
        r->uniq[f] = r->mode_pkts[f] = UINT64_MAX;

    /* A scanner: SYNs to many ports, modes outside most category lists. */
    r = &rows[3];
    nagm_addr_parse("2001:db8::2", &r->src);
    nagm_addr_parse("2001:db8::3", &r->dst_ip_mode);
    r->pkts = 1000;
    static const uint32_t m3[NAGM_NFIELDS] = {0, 40000, 22, 48, 6, 2, 44};
    static const uint64_t u3[NAGM_NFIELDS] = {1, 1, 999, 1, 1, 1, 1};
    static const uint64_t p3[NAGM_NFIELDS] = {1000, 1000, 2, 1000, 1000, 1000, 1000};
    memcpy(r->mode, m3, sizeof m3);
    memcpy(r->uniq, u3, sizeof u3);
    memcpy(r->mode_pkts, p3, sizeof p3);
}

static void use_model(const nagm_model *m)
{
    nagm_agm_row rows[NROWS];
    make_rows(rows);
    size_t d = nagm_model_dim(m), nc = m->pca.ncomp;
    CHECK(d >= NAGM_NAGM_NNUM + NAGM_OH_N && d == m->scaler.dim && d == m->pca.dim);
    CHECK(nc >= 1 && nc <= d && m->clu.k >= 1);
    CHECK(m->clu.dim == (m->cluster_on_pcs ? nc : d));
    double *work = malloc(2 * d * sizeof *work);
    double *pcs = malloc(nc * sizeof *pcs);
    double *all_pcs = malloc(NROWS * nc * sizeof *all_pcs);
    nagm_assign one[NROWS], all[NROWS];
    CHECK(work && pcs && all_pcs);
    for (int i = 0; i < NROWS; i++) {
        nagm_model_apply_row(m, &rows[i], work, &one[i], pcs);
        CHECK(one[i].cluster >= 0 && one[i].cluster < m->clu.k);
        CHECK(!(one[i].distance < 0));
        memcpy(all_pcs + i * nc, pcs, nc * sizeof *pcs);
        /* Without pcs: the same assignment. */
        nagm_assign a;
        nagm_model_apply_row(m, &rows[i], work, &a, NULL);
        CHECK(a.cluster == one[i].cluster && !memcmp(&a.distance, &one[i].distance, sizeof a.distance));
    }
    double *pcs2 = malloc(NROWS * nc * sizeof *pcs2);
    CHECK(pcs2);
    CHECK(nagm_model_apply(m, rows, NROWS, all, pcs2, NULL) == 0);
    for (int i = 0; i < NROWS; i++)
        CHECK(all[i].cluster == one[i].cluster &&
              !memcmp(&all[i].distance, &one[i].distance, sizeof all[i].distance));
    CHECK(!memcmp(pcs2, all_pcs, NROWS * nc * sizeof *pcs2));
    free(pcs2);
    free(all_pcs);
    free(pcs);
    free(work);
}

static void check_resave(const nagm_model *m)
{
    char err[NAGM_ML_ERRBUF];
    char *j1 = NULL, *j2 = NULL;
    nagm_model *m2 = NULL;
    CHECK(nagm_model_to_json(m, &j1, err) == 0);
    CHECK(nagm_model_from_json(j1, strlen(j1), &m2, err) == 0);
    CHECK(nagm_model_to_json(m2, &j2, err) == 0);
    CHECK(strcmp(j1, j2) == 0);
    nagm_model_free(m2);
    free(j1);
    free(j2);
}

/* nagm_model_load on the same bytes, through a memfd. */
static int load_via_memfd(const uint8_t *data, size_t size, nagm_model **out, char *err)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz_model", 0);
        CHECK(fd >= 0);
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    CHECK(ftruncate(fd, 0) == 0);
    CHECK(pwrite(fd, data, size, 0) == (ssize_t)size);
    return nagm_model_load(path, out, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[NAGM_ML_ERRBUF];
    err[0] = '\0';
    nagm_model *m = (nagm_model *)&size; /* must be reset */
    int rc = nagm_model_from_json((const char *)data, size, &m, err);
    CHECK(rc <= 0 && rc >= -NAGM_ML_EVERSION);
    if (size % 16 == 0) {
        nagm_model *m2 = NULL;
        char err2[NAGM_ML_ERRBUF];
        int rc2 = load_via_memfd(data, size, &m2, err2);
        CHECK(rc2 == rc);
        CHECK((rc2 == 0) == (m2 != NULL));
        if (rc2)
            CHECK(strncmp(err2, "/proc/self/fd/", 14) == 0);
        nagm_model_free(m2);
    }
    if (rc != 0) {
        CHECK(m == NULL && err[0] != '\0' && memchr(err, '\0', sizeof err));
        return 0;
    }
    CHECK(m != NULL && m->version == NAGM_MODEL_VERSION);
    use_model(m);
    check_resave(m);
    nagm_model_free(m);
    return 0;
}
