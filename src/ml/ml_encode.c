/* Numerical AGM encoding (docs/agm.md, "Numerical AGM"): 15 numeric columns
 * kept as numbers, then src_port_mode, dst_port_mode and flags_mode one-hot
 * encoded over the K values that are the mode of the most training rows. */
#include <stdlib.h>
#include <string.h>

#include "ml/ml_comm.h"
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

/* Run-length counts of one field's modes, sorted by value. */
static size_t count_modes(const nagm_agm_row *rows, size_t n, int f, uint32_t *v, vc *runs)
{
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
    return nr;
}

static int cmp_vc_value(const void *a, const void *b)
{
    const vc *x = a, *y = b;
    return (x->value > y->value) - (x->value < y->value);
}

int nagm_nagm_fit(nagm_encoder *e, const nagm_agm_row *rows, size_t n, char *errbuf)
{
    return nagm_nagm_fit_comm(e, rows, n, NULL, errbuf);
}

/* Each process counts its rows' modes; process 0 adds the counts of every
 * process (integers: exact), chooses the categories and sends them to all.
 * The message per field is its count of runs, then the runs. */
int nagm_nagm_fit_comm(nagm_encoder *e, const nagm_agm_row *rows, size_t n,
                       const nagm_ml_comm *comm, char *errbuf)
{
    uint32_t *v = malloc((n ? n : 1) * sizeof *v);
    vc *runs = malloc((n ? n : 1) * sizeof *runs);
    uint64_t *msg = NULL;
    size_t p = (size_t)mlc_size(comm), *len = calloc(p, sizeof *len), *off = calloc(p, sizeof *off);
    uint8_t *all = NULL;
    vc *merged = NULL;
    int rc = 0;
    if (!v || !runs || !len || !off) {
        rc = mlc_nomem(comm, errbuf, "choosing categories");
        goto out;
    }
    size_t w = 0;
    for (int f = 0; f < NAGM_OH_N; f++) {
        size_t nr = count_modes(rows, n, f, v, runs);
        uint64_t *grown = realloc(msg, (w + 1 + 2 * nr) * sizeof *msg);
        if (!grown) {
            rc = mlc_nomem(comm, errbuf, "choosing categories");
            goto out;
        }
        msg = grown;
        msg[w++] = nr;
        for (size_t r = 0; r < nr; r++) {
            msg[w++] = runs[r].value;
            msg[w++] = runs[r].count;
        }
    }
    if (mlc_gather(comm, msg, w * sizeof *msg, &all, len, off) != 0) {
        rc = mlc_nomem(comm, errbuf, "choosing categories");
        goto out;
    }
    if (mlc_rank(comm) == 0) {
        size_t total = 0;
        for (size_t s = 0; s < p; s++)
            total += len[s] / sizeof *msg;
        merged = malloc((total ? total : 1) * sizeof *merged);
        if (!merged) {
            rc = mlc_nomem(comm, errbuf, "choosing categories");
            goto out;
        }
        const uint64_t *cur[64], **pos = p <= 64 ? cur : malloc(p * sizeof *pos);
        if (!pos) {
            rc = mlc_nomem(comm, errbuf, "choosing categories");
            goto out;
        }
        for (size_t s = 0; s < p; s++)
            pos[s] = (const uint64_t *)(const void *)(all + off[s]);
        for (int f = 0; f < NAGM_OH_N; f++) {
            size_t nm = 0;
            for (size_t s = 0; s < p; s++) {
                size_t nr = (size_t)*pos[s]++;
                for (size_t r = 0; r < nr; r++, pos[s] += 2)
                    merged[nm++] = (vc){(uint32_t)pos[s][0], pos[s][1]};
            }
            /* The same value from several processes: one run. */
            qsort(merged, nm, sizeof *merged, cmp_vc_value);
            size_t nr = 0;
            for (size_t i = 0; i < nm; i++) {
                if (nr && merged[nr - 1].value == merged[i].value)
                    merged[nr - 1].count += merged[i].count;
                else
                    merged[nr++] = merged[i];
            }
            qsort(merged, nr, sizeof *merged, cmp_vc);
            e->ncat[f] = nr < (size_t)e->k[f] ? (int)nr : e->k[f];
            memset(e->cat[f], 0, sizeof e->cat[f]);
            for (int c = 0; c < e->ncat[f]; c++)
                e->cat[f][c] = merged[c].value;
        }
        if (pos != cur)
            free(pos);
    }
    mlc_bcast(comm, e, sizeof *e, 0);
out:
    free(v);
    free(runs);
    free(msg);
    free(len);
    free(off);
    free(all);
    free(merged);
    return rc;
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
