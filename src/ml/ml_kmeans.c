/* k-means: k-means++ seeding (the greedy variant scikit-learn uses) and
 * Lloyd iterations. Row loops run in fixed chunks whose partial sums are
 * combined in chunk order, so the result does not depend on the number of
 * threads, nor on the number of processes the points are spread over
 * (ml_comm.h): the chunk sums of every process are added in chunk order,
 * the cumulative D^2 of k-means++ is one pass over the points in order
 * (chain), and the few points a decision needs (a candidate centre, the
 * farthest point) are fetched from the process that holds them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_comm.h"
#include "ml/ml_kmeans.h"
#include "ml/ml_par.h"

typedef struct km_ctx {
    const nagm_km_data *d;
    const nagm_ml_comm *comm;
    int k;
    size_t nchunks;
    size_t *cb;         /* nchunks + 1: chunk t holds points cb[t] .. cb[t+1] - 1 */
    /* the points of every process, in process order */
    uint64_t *mcount;   /* points per process */
    uint64_t moff;      /* points of the processes before this one */
    uint64_t mall;      /* points over all processes */
    /* E-step */
    const double *centers;
    int32_t *labels;
    double *mind;       /* m: squared distance to the assigned centre */
    double *cacc;       /* nchunks x (k x dim + k): per chunk, each cluster's sum
                           of points, then each cluster's count */
    double *cpot;       /* nchunks */
    double *ctol;       /* nchunks x 2 dim: sums and sums of squares */
    double *cum;        /* m: cumulative D^2 for k-means++ */
    int update;         /* accumulate sums for the M-step */
    /* seeding */
    const double *cand; /* ntrial x dim candidate centres */
    int ntrial;
    double *ctrial;     /* nchunks x ntrial: partial potentials */
    double *tdist;      /* ntrial x m: candidate distances, or NULL (memory) */
    int best;           /* the winning candidate */
} km_ctx;

/* Local trials per k-means++ centre. scikit-learn uses 2 + ln k; AGM data
 * holds large groups of identical rows next to small distinct groups, and
 * with so few trials a small group is often left without a centre (on the
 * whole test corpus the best local optimum was reached in 12 % of single
 * runs with 3 trials, 30 % with 6, 47 % with 12). 2 + 4 ln k costs
 * (k - 1) * trials passes over the data, less than the Lloyd iterations. */
static int nagm_km_ntrials(int k)
{
    int t = 2 + (int)(4 * log((double)k));
    return t > 64 ? 64 : t;
}

static void chunk_range(const km_ctx *c, size_t t, size_t *b, size_t *e)
{
    *b = c->cb[t];
    *e = c->cb[t + 1];
}

/* Chunk t holds the points whose rows are in [t, t + 1) x NAGM_PAR_CHUNK. */
static void chunk_bounds(const nagm_km_data *d, size_t nchunks, size_t *cb)
{
    size_t i = 0;
    for (size_t t = 0; t <= nchunks; t++) {
        size_t row = t * NAGM_PAR_CHUNK;
        if (d->idx) {
            while (i < d->m && d->idx[i] < row)
                i++;
        } else {
            i = row < d->m ? row : d->m;
        }
        cb[t] = t == nchunks ? d->m : i;
    }
}

static void estep_task(void *ctx, size_t t)
{
    km_ctx *c = ctx;
    size_t b, e, dim = c->d->dim;
    chunk_range(c, t, &b, &e);
    double *sum = c->cacc + t * ((size_t)c->k * dim + (size_t)c->k);
    double *cnt = sum + (size_t)c->k * dim;
    if (c->update) {
        memset(sum, 0, (size_t)c->k * dim * sizeof *sum);
        memset(cnt, 0, (size_t)c->k * sizeof *cnt);
    }
    double pot = 0;
    for (size_t i = b; i < e; i++) {
        const double *x = nagm_km_row(c->d, i);
        double d2;
        int l = nagm_km_nearest(x, c->centers, c->k, dim, &d2);
        c->labels[i] = l;
        c->mind[i] = d2;
        pot += d2;
        if (c->update) {
            double *s = sum + (size_t)l * dim;
            for (size_t j = 0; j < dim; j++)
                s[j] += x[j];
            cnt[l] += 1;
        }
    }
    c->cpot[t] = pot;
}

/* Potential of each candidate: sum over points of min(mind, d2(x, cand)).
 * One pass over the rows for all candidates; the distances are kept (when
 * tdist is set) so that taking the winner needs no second pass. */
static void trial_task(void *ctx, size_t t)
{
    km_ctx *c = ctx;
    size_t b, e, dim = c->d->dim, m = c->d->m;
    chunk_range(c, t, &b, &e);
    double pot[64] = {0};
    for (size_t i = b; i < e; i++) {
        const double *x = nagm_km_row(c->d, i);
        for (int r = 0; r < c->ntrial; r++) {
            double v = nagm_sqdist(x, c->cand + (size_t)r * dim, dim);
            if (c->tdist)
                c->tdist[(size_t)r * m + i] = v;
            pot[r] += v < c->mind[i] ? v : c->mind[i];
        }
    }
    for (int r = 0; r < c->ntrial; r++)
        c->ctrial[t * (size_t)c->ntrial + (size_t)r] = pot[r];
}

/* mind = min(mind, the winning candidate's kept distances). */
static void take_task(void *ctx, size_t t)
{
    km_ctx *c = ctx;
    size_t b, e;
    chunk_range(c, t, &b, &e);
    const double *v = c->tdist + (size_t)c->best * c->d->m;
    double pot = 0;
    for (size_t i = b; i < e; i++) {
        if (v[i] < c->mind[i])
            c->mind[i] = v[i];
        pot += c->mind[i];
    }
    c->cpot[t] = pot;
}

/* mind = min(mind, d2(x, centre)). */
static void mind_task(void *ctx, size_t t)
{
    km_ctx *c = ctx;
    size_t b, e, dim = c->d->dim;
    chunk_range(c, t, &b, &e);
    double pot = 0;
    for (size_t i = b; i < e; i++) {
        double v = nagm_sqdist(nagm_km_row(c->d, i), c->centers, dim);
        if (v < c->mind[i])
            c->mind[i] = v;
        pot += c->mind[i];
    }
    c->cpot[t] = pot;
}

static void first_d2_task(void *ctx, size_t t)
{
    km_ctx *c = ctx;
    size_t b, e, dim = c->d->dim;
    chunk_range(c, t, &b, &e);
    double pot = 0;
    for (size_t i = b; i < e; i++) {
        c->mind[i] = nagm_sqdist(nagm_km_row(c->d, i), c->centers, dim);
        pot += c->mind[i];
    }
    c->cpot[t] = pot;
}

/* The sum of the chunk potentials of every process, in chunk order. */
static double sum_chunks(const km_ctx *c)
{
    double s;
    mlc_sum_ordered(c->comm, c->cpot, c->nchunks, 1, &s);
    return s;
}

/* cum[i] = cum[i - 1] + mind[i], continuing the previous processes' sum. */
static void cum_step(void *arg, double *state)
{
    km_ctx *c = arg;
    double acc = state[0];
    for (size_t i = 0; i < c->d->m; i++)
        c->cum[i] = acc += c->mind[i];
    state[0] = acc;
}

/* Point pos of all (in process order) into out, on every process: its
 * process copies it, the others give -INFINITY to the maximum. */
static void fetch_point(const km_ctx *c, uint64_t pos, double *out)
{
    size_t dim = c->d->dim;
    if (pos >= c->moff && pos - c->moff < c->d->m)
        memcpy(out, nagm_km_row(c->d, (size_t)(pos - c->moff)), dim * sizeof *out);
    else
        for (size_t j = 0; j < dim; j++)
            out[j] = -INFINITY;
}

/* Greedy k-means++: each new centre is the best (lowest potential) of
 * ntrial candidates drawn with probability proportional to D^2.
 * lasts: one value per process. */
static void kmeanspp(km_ctx *c, nagm_rng *rng, double *centers, double *cand, double *lasts)
{
    const nagm_km_data *d = c->d;
    size_t dim = d->dim, m = d->m;
    int p = mlc_size(c->comm), me = mlc_rank(c->comm);
    int ntrial = nagm_km_ntrials(c->k);
    fetch_point(c, nagm_rng_below(rng, c->mall), centers);
    mlc_max_f64(c->comm, centers, dim);
    c->centers = centers;
    nagm_par_for(d->threads, c->nchunks, first_d2_task, c);
    double pot = sum_chunks(c);
    for (int k = 1; k < c->k; k++) {
        double acc = 0;
        mlc_chain(c->comm, &acc, 1, cum_step, c);
        /* Each process's last cumulative value: where a draw lands. */
        for (int s = 0; s < p; s++)
            lasts[s] = -INFINITY;
        if (m)
            lasts[me] = c->cum[m - 1];
        mlc_max_f64(c->comm, lasts, (size_t)p);
        for (int r = 0; r < ntrial; r++) {
            double v = nagm_rng_uniform(rng) * pot;
            /* First index with cum >= v (numpy searchsorted, side left), or
             * the last point when rounding puts v above every cum. */
            int owner = -1;
            for (int s = 0; s < p && owner < 0; s++)
                if (c->mcount[s] && lasts[s] >= v)
                    owner = s;
            size_t at = 0;
            if (owner < 0) {
                for (int s = 0; s < p; s++)
                    if (c->mcount[s])
                        owner = s;
                at = (size_t)c->mcount[owner] - 1;
            } else if (owner == me) {
                size_t lo = 0, hi = m;
                while (lo < hi) {
                    size_t mid = lo + (hi - lo) / 2;
                    if (c->cum[mid] < v)
                        lo = mid + 1;
                    else
                        hi = mid;
                }
                at = lo;
            }
            double *cr = cand + (size_t)r * dim;
            if (owner == me)
                memcpy(cr, nagm_km_row(d, at), dim * sizeof *cand);
            else
                for (size_t j = 0; j < dim; j++)
                    cr[j] = -INFINITY;
        }
        mlc_max_f64(c->comm, cand, (size_t)ntrial * dim);
        c->cand = cand;
        c->ntrial = ntrial;
        nagm_par_for(d->threads, c->nchunks, trial_task, c);
        double tpot[64];
        mlc_sum_ordered(c->comm, c->ctrial, c->nchunks, (size_t)ntrial, tpot);
        int best = 0;
        double bestpot = INFINITY;
        for (int r = 0; r < ntrial; r++) {
            if (tpot[r] < bestpot) {
                bestpot = tpot[r];
                best = r;
            }
        }
        double *ck = centers + (size_t)k * dim;
        memcpy(ck, cand + (size_t)best * dim, dim * sizeof *ck);
        c->centers = ck;
        c->best = best;
        nagm_par_for(d->threads, c->nchunks, c->tdist ? take_task : mind_task, c);
        pot = sum_chunks(c);
    }
    c->centers = centers;
}

typedef struct far_pt {
    double d2;
    uint64_t i; /* position among the points of every process */
} far_pt;

static int cmp_far(const void *a, const void *b)
{
    const far_pt *x = a, *y = b;
    if (x->d2 != y->d2)
        return x->d2 > y->d2 ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Empty clusters take the points farthest from their centres, one each,
 * farthest first. Filling one cluster can empty another, so up to k points
 * may be needed: every process offers its k farthest, process 0 keeps the
 * k farthest of all, and their owners send the points and their labels.
 * Returns 0 or -1 on ENOMEM. */
static int fill_empty(km_ctx *c, double *sum, double *cnt)
{
    const nagm_km_data *d = c->d;
    size_t dim = d->dim, m = d->m, k = (size_t)c->k;
    int p = mlc_size(c->comm);
    far_pt *fp = malloc((m ? m : 1) * sizeof *fp);
    size_t *len = calloc((size_t)p, sizeof *len), *off = calloc((size_t)p, sizeof *off);
    uint64_t *sel = malloc((k + 1) * sizeof *sel); /* count, then positions */
    double *pt = malloc(k * (dim + 1) * sizeof *pt);
    uint8_t *all = NULL;
    int rc = -1;
    if (!fp || !len || !off || !sel || !pt)
        goto out;
    for (size_t i = 0; i < m; i++) {
        fp[i].d2 = c->mind[i];
        fp[i].i = c->moff + i;
    }
    qsort(fp, m, sizeof *fp, cmp_far);
    if (mlc_gather(c->comm, fp, (m < k ? m : k) * sizeof *fp, &all, len, off) != 0)
        goto out;
    if (mlc_rank(c->comm) == 0) {
        size_t total = 0;
        for (int s = 0; s < p; s++)
            total += len[s] / sizeof *fp;
        far_pt *cand = (far_pt *)(void *)all;
        if (total)
            qsort(cand, total, sizeof *cand, cmp_far);
        sel[0] = total < k ? total : k;
        for (size_t q = 0; q < sel[0]; q++)
            sel[1 + q] = cand[q].i;
    }
    mlc_bcast(c->comm, sel, (k + 1) * sizeof *sel, 0);
    size_t nsel = (size_t)sel[0];
    for (size_t q = 0; q < nsel; q++) {
        double *x = pt + q * (dim + 1);
        fetch_point(c, sel[1 + q], x);
        x[dim] = -INFINITY;
        if (sel[1 + q] >= c->moff && sel[1 + q] - c->moff < m)
            x[dim] = c->labels[sel[1 + q] - c->moff];
    }
    mlc_max_f64(c->comm, pt, nsel * (dim + 1));
    size_t next = 0;
    for (size_t l = 0; l < k && next < nsel; l++) {
        if (cnt[l] != 0)
            continue;
        const double *x = pt + (next++) * (dim + 1);
        size_t old = (size_t)x[dim];
        for (size_t j = 0; j < dim; j++) {
            sum[old * dim + j] -= x[j];
            sum[l * dim + j] = x[j];
        }
        cnt[old] -= 1;
        cnt[l] = 1;
    }
    rc = 0;
out:
    free(fp);
    free(len);
    free(off);
    free(sel);
    free(pt);
    free(all);
    return rc;
}

/* M-step from the chunk sums (acc: k x dim + k). An empty cluster takes the
 * point farthest from its own centre (scikit-learn's rule), one point per
 * empty cluster. */
static int mstep(km_ctx *c, double *newc, double *acc)
{
    size_t dim = c->d->dim;
    int k = c->k;
    mlc_sum_ordered(c->comm, c->cacc, c->nchunks, (size_t)k * dim + (size_t)k, acc);
    double *sum = acc, *cnt = acc + (size_t)k * dim;
    int nempty = 0;
    for (int l = 0; l < k; l++)
        nempty += cnt[l] == 0;
    if (nempty && fill_empty(c, sum, cnt) != 0)
        return -1;
    for (int l = 0; l < k; l++)
        for (size_t j = 0; j < dim; j++)
            newc[(size_t)l * dim + j] = cnt[l] > 0 ? sum[(size_t)l * dim + j] / cnt[l]
                                                   : c->centers[(size_t)l * dim + j];
    return 0;
}

static void tol_task(void *ctx, size_t t)
{
    km_ctx *c = ctx;
    size_t b, e, dim = c->d->dim;
    chunk_range(c, t, &b, &e);
    double *acc = c->ctol + t * 2 * dim;
    memset(acc, 0, 2 * dim * sizeof *acc);
    for (size_t i = b; i < e; i++) {
        const double *x = nagm_km_row(c->d, i);
        for (size_t j = 0; j < dim; j++) {
            acc[j] += x[j];
            acc[dim + j] += x[j] * x[j];
        }
    }
}

/* Mean column variance of the set, times tol_rel (scikit-learn's
 * tolerance). One pass with sums of squares: only a stopping threshold.
 * acc: 2 x dim. */
static double abs_tol(km_ctx *c, double tol_rel, double *acc)
{
    size_t dim = c->d->dim;
    double m = (double)c->mall;
    nagm_par_for(c->d->threads, c->nchunks, tol_task, c);
    mlc_sum_ordered(c->comm, c->ctol, c->nchunks, 2 * dim, acc);
    double v = 0;
    for (size_t j = 0; j < dim; j++) {
        double mu = acc[j] / m, var = acc[dim + j] / m - mu * mu;
        v += var > 0 ? var : 0;
    }
    return v / (double)dim * tol_rel;
}

int nagm_km_fit(const nagm_km_data *d, int k, int n_init, int max_iter, double tol_rel,
                nagm_rng *rng, double *centers, int32_t *labels, double *inertia, int *n_iter)
{
    size_t dim = d->dim, m = d->m, m1 = m ? m : 1;
    km_ctx c;
    memset(&c, 0, sizeof c);
    c.d = d;
    c.comm = d->comm;
    c.k = k;
    c.nchunks = nagm_par_nchunks(d->nrows);
    size_t nch1 = c.nchunks ? c.nchunks : 1, w = (size_t)k * dim + (size_t)k;
    int ntrial = nagm_km_ntrials(k), p = mlc_size(c.comm);
    double *cur = malloc((size_t)k * dim * sizeof *cur);
    double *newc = malloc((size_t)k * dim * sizeof *newc);
    double *acc = malloc((w > 2 * dim ? w : 2 * dim) * sizeof *acc);
    double *cand = malloc((size_t)ntrial * dim * sizeof *cand);
    double *lasts = malloc((size_t)p * sizeof *lasts);
    int32_t *lab = malloc(m1 * sizeof *lab);
    int32_t *old = malloc(m1 * sizeof *old);
    c.cb = malloc((c.nchunks + 1) * sizeof *c.cb);
    c.mcount = malloc((size_t)p * sizeof *c.mcount);
    c.cum = malloc(m1 * sizeof *c.cum);
    c.mind = malloc(m1 * sizeof *c.mind);
    c.cacc = malloc(nch1 * w * sizeof *c.cacc);
    c.cpot = malloc(nch1 * sizeof *c.cpot);
    c.ctol = malloc(nch1 * 2 * dim * sizeof *c.ctol);
    c.ctrial = malloc(nch1 * (size_t)ntrial * sizeof *c.ctrial);
    /* Up to 256 MiB of kept candidate distances; beyond, recompute (the
     * same numbers either way). */
    if ((double)ntrial * (double)m * sizeof(double) <= 256.0 * 1024 * 1024)
        c.tdist = malloc((size_t)ntrial * m1 * sizeof *c.tdist);
    int rc = -1;
    if (!cur || !newc || !acc || !cand || !lasts || !lab || !old || !c.cb || !c.mcount ||
        !c.cum || !c.mind || !c.cacc || !c.cpot || !c.ctol || !c.ctrial || ntrial > 64)
        goto out;
    chunk_bounds(d, c.nchunks, c.cb);
    c.moff = mlc_counts(c.comm, m, c.mcount);
    c.mall = 0;
    for (int s = 0; s < p; s++)
        c.mall += c.mcount[s];
    double tol = abs_tol(&c, tol_rel, acc);
    double best = INFINITY;
    for (int run = 0; run < (n_init < 1 ? 1 : n_init); run++) {
        kmeanspp(&c, rng, cur, cand, lasts);
        c.labels = lab;
        int it = 0;
        for (; it < max_iter; it++) {
            c.centers = cur;
            c.update = 1;
            nagm_par_for(d->threads, c.nchunks, estep_task, &c);
            if (mstep(&c, newc, acc) != 0)
                goto out;
            double shift = 0;
            for (size_t j = 0; j < (size_t)k * dim; j++) {
                double t = newc[j] - cur[j];
                shift += t * t;
            }
            double *tmp = cur;
            cur = newc;
            newc = tmp;
            if (it > 0) {
                uint64_t changed = m && memcmp(lab, old, m * sizeof *lab) != 0;
                mlc_sum_u64(c.comm, &changed, 1);
                if (!changed) {
                    it++;
                    break;
                }
            }
            if (shift <= tol) {
                it++;
                break;
            }
            if (m)
                memcpy(old, lab, m * sizeof *lab);
        }
        /* Final E-step: labels and inertia against the final centres. */
        c.centers = cur;
        c.update = 0;
        nagm_par_for(d->threads, c.nchunks, estep_task, &c);
        double in = sum_chunks(&c);
        if (in < best) {
            best = in;
            memcpy(centers, cur, (size_t)k * dim * sizeof *centers);
            if (labels && m)
                memcpy(labels, lab, m * sizeof *labels);
            if (n_iter)
                *n_iter = it;
        }
    }
    if (inertia)
        *inertia = best;
    rc = 0;
out:
    if (rc && mlc_multi(c.comm))
        c.comm->abort(c.comm->ctx, "out of memory in k-means");
    free(cur);
    free(newc);
    free(acc);
    free(cand);
    free(lasts);
    free(lab);
    free(old);
    free(c.cb);
    free(c.mcount);
    free(c.cum);
    free(c.mind);
    free(c.cacc);
    free(c.cpot);
    free(c.ctol);
    free(c.ctrial);
    free(c.tdist);
    return rc;
}
