/* Numerical AGM encoding (docs/agm.md, "Numerical AGM"): 15 numeric columns
 * kept as numbers, then src_port_mode, dst_port_mode and flags_mode one-hot
 * encoded over the K values that are the mode of the most training rows. */
#include <stdlib.h>
#include <string.h>

#include "ml/ml_err.h"
#include "netagm/ml.h"

/* The 15 numeric columns as (field, kind): kind 0 = X_uniq, 1 = X_mode,
 * 2 = X_mode_pkts; field -1 = pkts. */
static const struct {
    const char *name;
    int field, kind;
} num_cols[NAGM_NAGM_NNUM] = {
    {"pkts", -1, 0},
    {"dst_ip_uniq", NAGM_F_DST_IP, 0},
    {"dst_ip_mode_pkts", NAGM_F_DST_IP, 2},
    {"src_port_uniq", NAGM_F_SRC_PORT, 0},
    {"src_port_mode_pkts", NAGM_F_SRC_PORT, 2},
    {"dst_port_uniq", NAGM_F_DST_PORT, 0},
    {"dst_port_mode_pkts", NAGM_F_DST_PORT, 2},
    {"ttl_uniq", NAGM_F_TTL, 0},
    {"ttl_mode", NAGM_F_TTL, 1},
    {"ttl_mode_pkts", NAGM_F_TTL, 2},
    {"flags_uniq", NAGM_F_FLAGS, 0},
    {"flags_mode_pkts", NAGM_F_FLAGS, 2},
    {"len_uniq", NAGM_F_LEN, 0},
    {"len_mode", NAGM_F_LEN, 1},
    {"len_mode_pkts", NAGM_F_LEN, 2},
};

static const int oh_field[NAGM_OH_N] = {NAGM_F_SRC_PORT, NAGM_F_DST_PORT, NAGM_F_FLAGS};
static const char *const oh_name[NAGM_OH_N] = {"src_port_mode", "dst_port_mode", "flags_mode"};

int nagm_nagm_init(nagm_encoder *e, int k_src_port, int k_dst_port, int k_flags, char *errbuf)
{
    int k[NAGM_OH_N] = {k_src_port, k_dst_port, k_flags};
    memset(e, 0, sizeof *e);
    for (int f = 0; f < NAGM_OH_N; f++) {
        if (k[f] < 1 || k[f] > NAGM_NAGM_MAX_K)
            return nagm_ml_fail(errbuf, NAGM_ML_EINVAL, "K for %s must be 1..%d, got %d",
                                oh_name[f], NAGM_NAGM_MAX_K, k[f]);
        e->k[f] = k[f];
    }
    return 0;
}

size_t nagm_nagm_dim(const nagm_encoder *e)
{
    return NAGM_NAGM_NNUM + (size_t)e->k[0] + (size_t)e->k[1] + (size_t)e->k[2];
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

typedef struct vc {
    uint32_t value;
    uint64_t count;
} vc;

/* Most rows first; ties to the smaller value (the spec's rule). */
static int cmp_vc(const void *a, const void *b)
{
    const vc *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return (x->value > y->value) - (x->value < y->value);
}

int nagm_nagm_fit(nagm_encoder *e, const nagm_agm_row *rows, size_t n, char *errbuf)
{
    uint32_t *v = malloc((n ? n : 1) * sizeof *v);
    vc *runs = malloc((n ? n : 1) * sizeof *runs);
    if (!v || !runs) {
        free(v);
        free(runs);
        return nagm_ml_fail(errbuf, NAGM_ML_ENOMEM, "out of memory choosing categories");
    }
    for (int f = 0; f < NAGM_OH_N; f++) {
        for (size_t i = 0; i < n; i++)
            v[i] = rows[i].mode[oh_field[f]];
        qsort(v, n, sizeof *v, cmp_u32);
        size_t nr = 0;
        for (size_t i = 0; i < n;) {
            size_t j = i;
            while (j < n && v[j] == v[i])
                j++;
            runs[nr].value = v[i];
            runs[nr].count = j - i;
            nr++;
            i = j;
        }
        qsort(runs, nr, sizeof *runs, cmp_vc);
        e->ncat[f] = nr < (size_t)e->k[f] ? (int)nr : e->k[f];
        memset(e->cat[f], 0, sizeof e->cat[f]);
        for (int c = 0; c < e->ncat[f]; c++)
            e->cat[f][c] = runs[c].value;
    }
    free(v);
    free(runs);
    return 0;
}

const char *nagm_nagm_col_name(const nagm_encoder *e, size_t i, char *buf)
{
    if (i < NAGM_NAGM_NNUM) {
        snprintf(buf, 48, "%s", num_cols[i].name);
        return buf;
    }
    i -= NAGM_NAGM_NNUM;
    for (int f = 0; f < NAGM_OH_N; f++) {
        if (i < (size_t)e->k[f]) {
            if ((int)i < e->ncat[f])
                snprintf(buf, 48, "%s=%u", oh_name[f], (unsigned)e->cat[f][i]);
            else
                snprintf(buf, 48, "%s=unused%zu", oh_name[f], i);
            return buf;
        }
        i -= (size_t)e->k[f];
    }
    snprintf(buf, 48, "?");
    return buf;
}

void nagm_nagm_encode_row(const nagm_encoder *e, const nagm_agm_row *r, double *out)
{
    for (int c = 0; c < NAGM_NAGM_NNUM; c++) {
        int f = num_cols[c].field;
        uint64_t v;
        if (f < 0)
            v = r->pkts;
        else if (num_cols[c].kind == 0)
            v = r->uniq[f];
        else if (num_cols[c].kind == 1)
            v = r->mode[f];
        else
            v = r->mode_pkts[f];
        out[c] = (double)v;
    }
    double *o = out + NAGM_NAGM_NNUM;
    for (int f = 0; f < NAGM_OH_N; f++) {
        uint32_t m = r->mode[oh_field[f]];
        for (int c = 0; c < e->k[f]; c++)
            o[c] = (c < e->ncat[f] && e->cat[f][c] == m) ? 1.0 : 0.0;
        o += e->k[f];
    }
}

void nagm_nagm_encode(const nagm_encoder *e, const nagm_agm_row *rows, size_t n, double *X)
{
    size_t d = nagm_nagm_dim(e);
    for (size_t i = 0; i < n; i++)
        nagm_nagm_encode_row(e, &rows[i], X + i * d);
}

int nagm_nagm_row_has_tcp(const nagm_agm_row *r)
{
    return !(r->uniq[NAGM_F_PROTO] == 1 && r->mode[NAGM_F_PROTO] != 6);
}
