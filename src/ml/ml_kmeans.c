/* k-means: k-means++ seeding (the greedy variant scikit-learn uses) and
 * Lloyd iterations. Row loops run in fixed chunks whose partial sums are
 * combined in chunk order, so the result does not depend on the number of
 * threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_kmeans.h"
#include "ml/ml_par.h"

typedef struct km_ctx {
    const nagm_km_data *d;
    int k;
    size_t nchunks;
    /* E-step */
    const double *centers;
    int32_t *labels;
    double *mind;       /* m: squared distance to the assigned centre */
    double *csum;       /* nchunks x k x dim */
    double *ccnt;       /* nchunks x k */
    double *cpot;       /* nchunks */
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
    *b = t * NAGM_PAR_CHUNK;
    *e = *b + NAGM_PAR_CHUNK < c->d->m ? *b + NAGM_PAR_CHUNK : c->d->m;
}

static void estep_task(void *ctx, size_t t)
{
    km_ctx *c = ctx;
    size_t b, e, dim = c->d->dim;
    chunk_range(c, t, &b, &e);
    double *sum = c->csum + t * (size_t)c->k * dim;
    double *cnt = c->ccnt + t * (size_t)c->k;
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

static double sum_chunks(const double *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return s;
}

/* Greedy k-means++: each new centre is the best (lowest potential) of
 * ntrial candidates drawn with probability proportional to D^2. */
static void kmeanspp(km_ctx *c, nagm_rng *rng, double *centers, double *cum, double *cand)
{
    const nagm_km_data *d = c->d;
    size_t dim = d->dim, m = d->m;
    int ntrial = nagm_km_ntrials(c->k);
    memcpy(centers, nagm_km_row(d, nagm_rng_below(rng, m)), dim * sizeof *centers);
    c->centers = centers;
    nagm_par_for(d->threads, c->nchunks, first_d2_task, c);
    double pot = sum_chunks(c->cpot, c->nchunks);
    for (int k = 1; k < c->k; k++) {
        double acc = 0;
        for (size_t i = 0; i < m; i++)
            cum[i] = acc += c->mind[i];
        size_t ids[64];
        for (int r = 0; r < ntrial; r++) {
            double v = nagm_rng_uniform(rng) * pot;
            /* First index with cum >= v (numpy searchsorted, side left). */
            size_t lo = 0, hi = m;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (cum[mid] < v)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            ids[r] = lo < m ? lo : m - 1;
            memcpy(cand + (size_t)r * dim, nagm_km_row(d, ids[r]), dim * sizeof *cand);
        }
        c->cand = cand;
        c->ntrial = ntrial;
        nagm_par_for(d->threads, c->nchunks, trial_task, c);
        int best = 0;
        double bestpot = INFINITY;
        for (int r = 0; r < ntrial; r++) {
            double p = 0;
            for (size_t t = 0; t < c->nchunks; t++)
                p += c->ctrial[t * (size_t)ntrial + (size_t)r];
            if (p < bestpot) {
                bestpot = p;
                best = r;
            }
        }
        double *ck = centers + (size_t)k * dim;
        memcpy(ck, cand + (size_t)best * dim, dim * sizeof *ck);
        c->centers = ck;
        c->best = best;
        nagm_par_for(d->threads, c->nchunks, c->tdist ? take_task : mind_task, c);
        pot = sum_chunks(c->cpot, c->nchunks);
    }
    c->centers = centers;
}

typedef struct far_pt {
    double d2;
    size_t i;
} far_pt;

static int cmp_far(const void *a, const void *b)
{
    const far_pt *x = a, *y = b;
    if (x->d2 != y->d2)
        return x->d2 > y->d2 ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* M-step from the chunk sums. An empty cluster takes the point farthest from
 * its own centre (scikit-learn's rule), one point per empty cluster. */
static int mstep(km_ctx *c, double *newc, double *sum, double *cnt)
{
    const nagm_km_data *d = c->d;
    size_t dim = d->dim;
    int k = c->k;
    memset(sum, 0, (size_t)k * dim * sizeof *sum);
    memset(cnt, 0, (size_t)k * sizeof *cnt);
    for (size_t t = 0; t < c->nchunks; t++) {
        const double *s = c->csum + t * (size_t)k * dim;
        for (size_t j = 0; j < (size_t)k * dim; j++)
            sum[j] += s[j];
        for (int l = 0; l < k; l++)
            cnt[l] += c->ccnt[t * (size_t)k + (size_t)l];
    }
    int nempty = 0;
    for (int l = 0; l < k; l++)
        nempty += cnt[l] == 0;
    if (nempty) {
        far_pt *fp = malloc(d->m * sizeof *fp);
        if (!fp)
            return -1;
        for (size_t i = 0; i < d->m; i++) {
            fp[i].d2 = c->mind[i];
            fp[i].i = i;
        }
        qsort(fp, d->m, sizeof *fp, cmp_far);
        size_t next = 0;
        for (int l = 0; l < k && next < d->m; l++) {
            if (cnt[l] != 0)
                continue;
            size_t i = fp[next++].i;
            const double *x = nagm_km_row(d, i);
            int old = c->labels[i];
            for (size_t j = 0; j < dim; j++) {
                sum[(size_t)old * dim + j] -= x[j];
                sum[(size_t)l * dim + j] = x[j];
            }
            cnt[old] -= 1;
            cnt[l] = 1;
        }
        free(fp);
    }
    for (int l = 0; l < k; l++)
        for (size_t j = 0; j < dim; j++)
            newc[(size_t)l * dim + j] = cnt[l] > 0 ? sum[(size_t)l * dim + j] / cnt[l]
                                                   : c->centers[(size_t)l * dim + j];
    return 0;
}

/* Mean column variance of the set, times tol_rel (scikit-learn's
 * tolerance). One pass with sums of squares: only a stopping threshold. */
static double abs_tol(const nagm_km_data *d, double tol_rel)
{
    size_t dim = d->dim, m = d->m;
    double *acc = calloc(2 * dim, sizeof *acc);
    if (!acc)
        return 0;
    for (size_t i = 0; i < m; i++) {
        const double *x = nagm_km_row(d, i);
        for (size_t j = 0; j < dim; j++) {
            acc[j] += x[j];
            acc[dim + j] += x[j] * x[j];
        }
    }
    double v = 0;
    for (size_t j = 0; j < dim; j++) {
        double mu = acc[j] / (double)m, var = acc[dim + j] / (double)m - mu * mu;
        v += var > 0 ? var : 0;
    }
    free(acc);
    return v / (double)dim * tol_rel;
}

int nagm_km_fit(const nagm_km_data *d, int k, int n_init, int max_iter, double tol_rel,
                nagm_rng *rng, double *centers, int32_t *labels, double *inertia, int *n_iter)
{
    size_t dim = d->dim, m = d->m;
    km_ctx c;
    memset(&c, 0, sizeof c);
    c.d = d;
    c.k = k;
    c.nchunks = nagm_par_nchunks(m);
    int ntrial = nagm_km_ntrials(k);
    double *cur = malloc((size_t)k * dim * sizeof *cur);
    double *newc = malloc((size_t)k * dim * sizeof *newc);
    double *sum = malloc((size_t)k * dim * sizeof *sum);
    double *cnt = malloc((size_t)k * sizeof *cnt);
    double *cand = malloc((size_t)ntrial * dim * sizeof *cand);
    int32_t *lab = malloc(m * sizeof *lab);
    int32_t *old = malloc(m * sizeof *old);
    double *cum = malloc(m * sizeof *cum);
    c.mind = malloc(m * sizeof *c.mind);
    c.csum = malloc(c.nchunks * (size_t)k * dim * sizeof *c.csum);
    c.ccnt = malloc(c.nchunks * (size_t)k * sizeof *c.ccnt);
    c.cpot = malloc(c.nchunks * sizeof *c.cpot);
    c.ctrial = malloc(c.nchunks * (size_t)ntrial * sizeof *c.ctrial);
    /* Up to 256 MiB of kept candidate distances; beyond, recompute. */
    if ((double)ntrial * (double)m * sizeof(double) <= 256.0 * 1024 * 1024)
        c.tdist = malloc((size_t)ntrial * m * sizeof *c.tdist);
    int rc = -1;
    if (!cur || !newc || !sum || !cnt || !cand || !lab || !old || !cum || !c.mind || !c.csum ||
        !c.ccnt || !c.cpot || !c.ctrial || ntrial > 64)
        goto out;
    double tol = abs_tol(d, tol_rel);
    double best = INFINITY;
    for (int run = 0; run < (n_init < 1 ? 1 : n_init); run++) {
        kmeanspp(&c, rng, cur, cum, cand);
        c.labels = lab;
        int it = 0;
        for (; it < max_iter; it++) {
            c.centers = cur;
            c.update = 1;
            nagm_par_for(d->threads, c.nchunks, estep_task, &c);
            if (mstep(&c, newc, sum, cnt) != 0)
                goto out;
            double shift = 0;
            for (size_t j = 0; j < (size_t)k * dim; j++) {
                double t = newc[j] - cur[j];
                shift += t * t;
            }
            double *tmp = cur;
            cur = newc;
            newc = tmp;
            if (it > 0 && memcmp(lab, old, m * sizeof *lab) == 0) {
                it++;
                break;
            }
            if (shift <= tol) {
                it++;
                break;
            }
            memcpy(old, lab, m * sizeof *lab);
        }
        /* Final E-step: labels and inertia against the final centres. */
        c.centers = cur;
        c.update = 0;
        nagm_par_for(d->threads, c.nchunks, estep_task, &c);
        double in = sum_chunks(c.cpot, c.nchunks);
        if (in < best) {
            best = in;
            memcpy(centers, cur, (size_t)k * dim * sizeof *centers);
            if (labels)
                memcpy(labels, lab, m * sizeof *labels);
            if (n_iter)
                *n_iter = it;
        }
    }
    if (inertia)
        *inertia = best;
    rc = 0;
out:
    free(cur);
    free(newc);
    free(sum);
    free(cnt);
    free(cand);
    free(lab);
    free(old);
    free(cum);
    free(c.mind);
    free(c.csum);
    free(c.ccnt);
    free(c.cpot);
    free(c.ctrial);
    free(c.tdist);
    return rc;
}
