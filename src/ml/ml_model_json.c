/* Model file: one JSON document (cJSON). Numbers are written in the
 * shortest form that reads back to the same double, so a saved and reloaded
 * model computes exactly what the trained one did. Loading checks every
 * field and dimension and names the first one that is wrong. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ml/ml_err.h"
#include "netagm/ml.h"

#define MODEL_FORMAT "netagm-model"
#define MAX_MODEL_BYTES (1u << 30)

static const char *const oh_names[NAGM_OH_N] = {"src_port_mode", "dst_port_mode", "flags_mode"};

/* ---- writing ------------------------------------------------------------------- */

static cJSON *num(double v)
{
    char buf[40];
    if (!isfinite(v))
        v = 0; /* never written: every value the library produces is finite */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return cJSON_CreateRaw(buf);
}

static cJSON *u64(uint64_t v)
{
    if (v <= (1ULL << 53))
        return cJSON_CreateNumber((double)v);
    char buf[24];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    return cJSON_CreateString(buf);
}

static cJSON *vec(const double *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, num(v[i]));
    return a;
}

static cJSON *mat(const double *v, size_t rows, size_t cols)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < rows; i++)
        cJSON_AddItemToArray(a, vec(v + i * cols, cols));
    return a;
}

static void add(cJSON *o, const char *k, cJSON *v)
{
    cJSON_AddItemToObject(o, k, v);
}

static cJSON *ts_str(int64_t ns)
{
    char b[NAGM_TS_STRLEN];
    nagm_ts_format(ns, b);
    return cJSON_CreateString(b);
}

static cJSON *model_json(const nagm_model *m)
{
    cJSON *root = cJSON_CreateObject();
    char name[48];
    size_t d = nagm_nagm_dim(&m->enc);
    add(root, "format", cJSON_CreateString(MODEL_FORMAT));
    add(root, "version", cJSON_CreateNumber(m->version));
    add(root, "created", cJSON_CreateString(m->train.created));

    cJSON *enc = cJSON_CreateObject();
    add(enc, "tcp_only", cJSON_CreateBool(m->tcp_only));
    add(enc, "dim", cJSON_CreateNumber((double)d));
    cJSON *oh = cJSON_CreateArray();
    for (int f = 0; f < NAGM_OH_N; f++) {
        cJSON *o = cJSON_CreateObject();
        add(o, "field", cJSON_CreateString(oh_names[f]));
        add(o, "k", cJSON_CreateNumber(m->enc.k[f]));
        cJSON *cats = cJSON_CreateArray();
        for (int c = 0; c < m->enc.ncat[f]; c++)
            cJSON_AddItemToArray(cats, cJSON_CreateNumber(m->enc.cat[f][c]));
        add(o, "categories", cats);
        cJSON_AddItemToArray(oh, o);
    }
    add(enc, "onehot", oh);
    cJSON *cols = cJSON_CreateArray();
    for (size_t i = 0; i < d; i++)
        cJSON_AddItemToArray(cols, cJSON_CreateString(nagm_nagm_col_name(&m->enc, i, name)));
    add(enc, "columns", cols);
    add(root, "encoding", enc);

    cJSON *sc = cJSON_CreateObject();
    add(sc, "mean", vec(m->scaler.mean, d));
    add(sc, "std", vec(m->scaler.std, d));
    add(root, "scaler", sc);

    cJSON *pca = cJSON_CreateObject();
    add(pca, "n_components", cJSON_CreateNumber((double)m->pca.ncomp));
    add(pca, "mean", vec(m->pca.mean, d));
    add(pca, "components", mat(m->pca.components, m->pca.ncomp, d));
    add(pca, "explained_variance", vec(m->pca.variance, d));
    add(pca, "explained_variance_ratio", vec(m->pca.ratio, d));
    add(root, "pca", pca);

    const nagm_clusters *c = &m->clu;
    cJSON *cl = cJSON_CreateObject();
    add(cl, "method", cJSON_CreateString(nagm_cluster_method_name(c->method)));
    add(cl, "space", cJSON_CreateString(m->cluster_on_pcs ? "pcs" : "scaled"));
    add(cl, "dim", cJSON_CreateNumber((double)c->dim));
    add(cl, "k", cJSON_CreateNumber(c->k));
    add(cl, "k_requested", cJSON_CreateNumber(c->k_requested));
    add(cl, "seed", u64(c->seed));
    add(cl, "n_init", cJSON_CreateNumber(c->n_init));
    add(cl, "n_iter", cJSON_CreateNumber(c->n_iter));
    add(cl, "bandwidth", num(c->bandwidth));
    add(cl, "note", cJSON_CreateString(c->note));
    add(cl, "centers", mat(c->centers, (size_t)c->k, c->dim));
    cJSON *sz = cJSON_CreateArray();
    for (int l = 0; l < c->k; l++)
        cJSON_AddItemToArray(sz, u64(c->sizes[l]));
    add(cl, "sizes", sz);
    add(cl, "sse", vec(c->sse, (size_t)c->k));
    add(cl, "inertia", num(c->inertia));
    if (c->labels) {
        cJSON *lab = cJSON_CreateArray();
        for (int l = 0; l < c->k; l++)
            cJSON_AddItemToArray(lab, cJSON_CreateString(c->labels[l]));
        add(cl, "labels", lab);
    }
    if (c->nnodes) {
        cJSON *tree = cJSON_CreateArray();
        for (size_t v = 0; v < c->nnodes; v++) {
            const nagm_bnode *nd = &c->nodes[v];
            cJSON *o = cJSON_CreateObject();
            add(o, "parent", cJSON_CreateNumber(nd->parent));
            add(o, "left", cJSON_CreateNumber(nd->left));
            add(o, "right", cJSON_CreateNumber(nd->right));
            add(o, "cluster", cJSON_CreateNumber(nd->cluster));
            add(o, "size", u64(nd->size));
            add(o, "sse", num(nd->sse));
            add(o, "center", vec(nd->center, c->dim));
            cJSON_AddItemToArray(tree, o);
        }
        add(cl, "tree", tree);
    }
    add(root, "clustering", cl);

    const nagm_train_summary *t = &m->train;
    cJSON *tr = cJSON_CreateObject();
    add(tr, "rows", u64(t->rows));
    add(tr, "sources", u64(t->sources));
    add(tr, "windows", u64(t->windows));
    add(tr, "first", ts_str(t->first_ns));
    add(tr, "last", ts_str(t->last_ns));
    add(tr, "seconds", num(t->seconds));
    add(tr, "input", cJSON_CreateString(t->input));
    add(root, "training", tr);
    return root;
}

int nagm_model_to_json(const nagm_model *m, char **json, char *errbuf)
{
    cJSON *root = model_json(m);
    *json = root ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!*json)
        return nagm_ml_fail(errbuf, NAGM_ML_ENOMEM, "out of memory writing the model");
    return 0;
}

int nagm_model_save(const nagm_model *m, const char *path, char *errbuf)
{
    char *text;
    int rc = nagm_model_to_json(m, &text, errbuf);
    if (rc)
        return rc;
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 5);
    if (!tmp) {
        cJSON_free(text);
        return nagm_ml_fail(errbuf, NAGM_ML_ENOMEM, "out of memory");
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        rc = nagm_ml_fail(errbuf, NAGM_ML_EIO, "cannot write %s: %s", tmp, strerror(errno));
    } else {
        size_t len = strlen(text);
        int bad = fwrite(text, 1, len, f) != len || fputc('\n', f) == EOF;
        bad |= fclose(f) != 0;
        if (bad)
            rc = nagm_ml_fail(errbuf, NAGM_ML_EIO, "cannot write %s", tmp);
        else if (rename(tmp, path) != 0)
            rc = nagm_ml_fail(errbuf, NAGM_ML_EIO, "cannot rename %s to %s: %s", tmp, path,
                              strerror(errno));
        if (rc)
            remove(tmp);
    }
    free(tmp);
    cJSON_free(text);
    return rc;
}

/* ---- reading -------------------------------------------------------------------- */

typedef struct rd {
    char *errbuf;
    int rc;
} rd;

static int bad(rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(rd *r, const char *fmt, ...)
{
    if (r->rc == 0) {
        r->rc = -NAGM_ML_EFORMAT;
        if (r->errbuf) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(r->errbuf, NAGM_ML_ERRBUF, fmt, ap);
            va_end(ap);
        }
    }
    return -1;
}

static const cJSON *need(rd *r, const cJSON *o, const char *path, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        bad(r, "%s.%s is missing", path, key);
    return v;
}

static int get_num(rd *r, const cJSON *o, const char *path, const char *key, double *out)
{
    const cJSON *v = need(r, o, path, key);
    if (!v)
        return -1;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return bad(r, "%s.%s must be a finite number", path, key);
    *out = v->valuedouble;
    return 0;
}

static int get_int(rd *r, const cJSON *o, const char *path, const char *key, double lo, double hi,
                   long long *out)
{
    double v;
    if (get_num(r, o, path, key, &v))
        return -1;
    if (v != floor(v) || v < lo || v > hi)
        return bad(r, "%s.%s must be an integer in %.0f..%.0f, got %g", path, key, lo, hi, v);
    *out = (long long)v;
    return 0;
}

/* A count as u64() writes it: a JSON number up to 2^53, or a decimal string.
 * Returns 0, or -1 (out untouched) when v is neither. */
static int u64_value(const cJSON *v, uint64_t *out)
{
    if (cJSON_IsString(v)) {
        char *end;
        errno = 0;
        unsigned long long x = strtoull(v->valuestring, &end, 10);
        if (errno || end == v->valuestring || *end || v->valuestring[0] == '-')
            return -1;
        *out = x;
        return 0;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740992.0 ||
        v->valuedouble != floor(v->valuedouble))
        return -1;
    *out = (uint64_t)v->valuedouble;
    return 0;
}

static int get_u64(rd *r, const cJSON *o, const char *path, const char *key, uint64_t *out)
{
    const cJSON *v = need(r, o, path, key);
    if (!v)
        return -1;
    if (u64_value(v, out) != 0)
        return bad(r, "%s.%s is not an unsigned integer", path, key);
    return 0;
}

/* An array of exactly n finite numbers into out (n > 0). */
static int get_vec(rd *r, const cJSON *a, const char *path, size_t n, double *out)
{
    if (!cJSON_IsArray(a))
        return bad(r, "%s must be an array", path);
    size_t got = (size_t)cJSON_GetArraySize(a);
    if (got != n)
        return bad(r, "%s has %zu values, expected %zu", path, got, n);
    size_t i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, a)
    {
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
            return bad(r, "%s[%zu] must be a finite number", path, i);
        out[i++] = v->valuedouble;
    }
    return 0;
}

static int get_mat(rd *r, const cJSON *a, const char *path, size_t rows, size_t cols, double *out)
{
    if (!cJSON_IsArray(a))
        return bad(r, "%s must be an array", path);
    size_t got = (size_t)cJSON_GetArraySize(a);
    if (got != rows)
        return bad(r, "%s has %zu rows, expected %zu", path, got, rows);
    size_t i = 0;
    const cJSON *v;
    char p[128];
    cJSON_ArrayForEach(v, a)
    {
        snprintf(p, sizeof p, "%s[%zu]", path, i);
        if (get_vec(r, v, p, cols, out + i * cols))
            return -1;
        i++;
    }
    return 0;
}

static double *alloc_d(rd *r, size_t n)
{
    double *p = calloc(n ? n : 1, sizeof *p);
    if (!p && r->rc == 0) {
        r->rc = -NAGM_ML_ENOMEM;
        if (r->errbuf)
            snprintf(r->errbuf, NAGM_ML_ERRBUF, "out of memory loading the model");
    }
    return p;
}

static int read_encoding(rd *r, const cJSON *root, nagm_model *m)
{
    const cJSON *enc = need(r, root, "model", "encoding");
    if (!enc)
        return -1;
    if (!cJSON_IsObject(enc))
        return bad(r, "model.encoding must be an object");
    const cJSON *t = need(r, enc, "encoding", "tcp_only");
    if (!t)
        return -1;
    if (!cJSON_IsBool(t))
        return bad(r, "encoding.tcp_only must be true or false");
    m->tcp_only = cJSON_IsTrue(t);
    const cJSON *oh = need(r, enc, "encoding", "onehot");
    if (!oh)
        return -1;
    if (!cJSON_IsArray(oh) || cJSON_GetArraySize(oh) != NAGM_OH_N)
        return bad(r, "encoding.onehot must list the %d one-hot fields", NAGM_OH_N);
    for (int f = 0; f < NAGM_OH_N; f++) {
        const cJSON *o = cJSON_GetArrayItem(oh, f);
        char p[64];
        snprintf(p, sizeof p, "encoding.onehot[%d]", f);
        if (!cJSON_IsObject(o))
            return bad(r, "%s must be an object", p);
        const cJSON *name = need(r, o, p, "field");
        if (!name)
            return -1;
        if (!cJSON_IsString(name) || strcmp(name->valuestring, oh_names[f]))
            return bad(r, "%s.field must be \"%s\"", p, oh_names[f]);
        long long k;
        if (get_int(r, o, p, "k", 1, NAGM_NAGM_MAX_K, &k))
            return -1;
        m->enc.k[f] = (int)k;
        const cJSON *cats = need(r, o, p, "categories");
        if (!cats)
            return -1;
        if (!cJSON_IsArray(cats) || cJSON_GetArraySize(cats) > k)
            return bad(r, "%s.categories must be an array of at most k = %lld values", p, k);
        int c = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, cats)
        {
            if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 4294967295.0 ||
                v->valuedouble != floor(v->valuedouble))
                return bad(r, "%s.categories[%d] must be an integer 0..4294967295", p, c);
            for (int q = 0; q < c; q++)
                if (m->enc.cat[f][q] == (uint32_t)v->valuedouble)
                    return bad(r, "%s.categories[%d] repeats a value", p, c);
            m->enc.cat[f][c++] = (uint32_t)v->valuedouble;
        }
        m->enc.ncat[f] = c;
    }
    long long dim;
    if (get_int(r, enc, "encoding", "dim", 1, 1e9, &dim))
        return -1;
    if ((size_t)dim != nagm_nagm_dim(&m->enc))
        return bad(r, "encoding.dim is %lld but the fields give %zu columns", dim,
                   nagm_nagm_dim(&m->enc));
    return 0;
}

static int read_scaler_pca(rd *r, const cJSON *root, nagm_model *m)
{
    size_t d = nagm_nagm_dim(&m->enc);
    const cJSON *sc = need(r, root, "model", "scaler");
    if (!sc)
        return -1;
    m->scaler.dim = d;
    m->scaler.mean = alloc_d(r, d);
    m->scaler.std = alloc_d(r, d);
    if (!m->scaler.mean || !m->scaler.std)
        return -1;
    if (get_vec(r, need(r, sc, "scaler", "mean"), "scaler.mean", d, m->scaler.mean) ||
        get_vec(r, need(r, sc, "scaler", "std"), "scaler.std", d, m->scaler.std))
        return -1;
    for (size_t j = 0; j < d; j++)
        if (m->scaler.std[j] < 0)
            return bad(r, "scaler.std[%zu] is negative", j);

    const cJSON *pca = need(r, root, "model", "pca");
    if (!pca)
        return -1;
    long long nc;
    if (get_int(r, pca, "pca", "n_components", 1, (double)d, &nc))
        return -1;
    m->pca.dim = d;
    m->pca.ncomp = (size_t)nc;
    m->pca.mean = alloc_d(r, d);
    m->pca.components = alloc_d(r, (size_t)nc * d);
    m->pca.variance = alloc_d(r, d);
    m->pca.ratio = alloc_d(r, d);
    if (!m->pca.mean || !m->pca.components || !m->pca.variance || !m->pca.ratio)
        return -1;
    if (get_vec(r, need(r, pca, "pca", "mean"), "pca.mean", d, m->pca.mean) ||
        get_mat(r, need(r, pca, "pca", "components"), "pca.components", (size_t)nc, d,
                m->pca.components) ||
        get_vec(r, need(r, pca, "pca", "explained_variance"), "pca.explained_variance", d,
                m->pca.variance) ||
        get_vec(r, need(r, pca, "pca", "explained_variance_ratio"),
                "pca.explained_variance_ratio", d, m->pca.ratio))
        return -1;
    return 0;
}

static int read_tree(rd *r, const cJSON *tree, nagm_clusters *c)
{
    if (!cJSON_IsArray(tree))
        return bad(r, "clustering.tree must be an array");
    size_t nn = (size_t)cJSON_GetArraySize(tree);
    if (nn != 2 * (size_t)c->k - 1)
        return bad(r, "clustering.tree has %zu nodes, expected 2k-1 = %d", nn, 2 * c->k - 1);
    c->nnodes = nn;
    c->nodes = calloc(nn, sizeof *c->nodes);
    c->node_centers = alloc_d(r, nn * c->dim);
    int *seen = calloc((size_t)c->k, sizeof *seen);
    int *parents = calloc(nn, sizeof *parents);
    if (!c->nodes || !c->node_centers || !seen || !parents) {
        free(seen);
        free(parents);
        if (r->rc == 0)
            r->rc = -NAGM_ML_ENOMEM;
        return -1;
    }
    int rc = 0;
    size_t v = 0;
    const cJSON *o;
    char p[64];
    cJSON_ArrayForEach(o, tree)
    {
        snprintf(p, sizeof p, "clustering.tree[%zu]", v);
        nagm_bnode *nd = &c->nodes[v];
        long long par, l, rr, cl;
        nd->center = c->node_centers + v * c->dim;
        if (!cJSON_IsObject(o) || get_int(r, o, p, "parent", -1, (double)nn - 1, &par) ||
            get_int(r, o, p, "left", -1, (double)nn - 1, &l) ||
            get_int(r, o, p, "right", -1, (double)nn - 1, &rr) ||
            get_int(r, o, p, "cluster", -1, c->k - 1, &cl) ||
            get_u64(r, o, p, "size", &nd->size) || get_num(r, o, p, "sse", &nd->sse)) {
            rc = bad(r, "%s is not a valid tree node", p);
            break;
        }
        char pc[80];
        snprintf(pc, sizeof pc, "%s.center", p);
        if (get_vec(r, need(r, o, p, "center"), pc, c->dim, nd->center)) {
            rc = -1;
            break;
        }
        nd->parent = (int32_t)par;
        nd->left = (int32_t)l;
        nd->right = (int32_t)rr;
        nd->cluster = (int32_t)cl;
        /* Children come after their parent: a walk always ends. */
        int leaf = l < 0 && rr < 0;
        int inner = l > (long long)v && rr > (long long)v && l != rr;
        if ((!leaf && !inner) || (leaf && cl < 0) || (inner && cl >= 0) ||
            (v == 0) != (par < 0) || (v > 0 && par >= (long long)v)) {
            rc = bad(r, "%s: inconsistent parent, children or cluster", p);
            break;
        }
        if (leaf && seen[cl]++) {
            rc = bad(r, "%s: cluster %lld has two leaves", p, cl);
            break;
        }
        if (inner) {
            parents[l]++;
            parents[rr]++;
        }
        v++;
    }
    for (size_t i = 1; rc == 0 && i < nn; i++)
        if (parents[i] != 1 || (c->nodes[c->nodes[i].parent].left != (int32_t)i &&
                                c->nodes[c->nodes[i].parent].right != (int32_t)i))
            rc = bad(r, "clustering.tree[%zu] is not the child of its parent", i);
    for (int l = 0; rc == 0 && l < c->k; l++)
        if (!seen[l])
            rc = bad(r, "clustering.tree has no leaf for cluster %d", l);
    free(seen);
    free(parents);
    return rc;
}

static int read_clustering(rd *r, const cJSON *root, nagm_model *m)
{
    const cJSON *cl = need(r, root, "model", "clustering");
    if (!cl)
        return -1;
    nagm_clusters *c = &m->clu;
    const cJSON *meth = need(r, cl, "clustering", "method");
    if (!meth)
        return -1;
    int mt = cJSON_IsString(meth) ? nagm_cluster_method_parse(meth->valuestring) : -1;
    if (mt < 0)
        return bad(r, "clustering.method is not bisecting, kmeans or meanshift");
    c->method = (nagm_cluster_method)mt;
    const cJSON *space = need(r, cl, "clustering", "space");
    if (!space)
        return -1;
    if (!cJSON_IsString(space) ||
        (strcmp(space->valuestring, "scaled") && strcmp(space->valuestring, "pcs")))
        return bad(r, "clustering.space must be \"scaled\" or \"pcs\"");
    m->cluster_on_pcs = !strcmp(space->valuestring, "pcs");
    size_t want = m->cluster_on_pcs ? m->pca.ncomp : nagm_nagm_dim(&m->enc);
    long long dim, k, kr, ni, it;
    if (get_int(r, cl, "clustering", "dim", 1, 1e9, &dim) ||
        get_int(r, cl, "clustering", "k", 1, 100000, &k) ||
        get_int(r, cl, "clustering", "k_requested", 0, 100000, &kr) ||
        get_int(r, cl, "clustering", "n_init", 0, 1000, &ni) ||
        get_int(r, cl, "clustering", "n_iter", 0, 1e9, &it) ||
        get_u64(r, cl, "clustering", "seed", &c->seed) ||
        get_num(r, cl, "clustering", "bandwidth", &c->bandwidth) ||
        get_num(r, cl, "clustering", "inertia", &c->inertia))
        return -1;
    if ((size_t)dim != want)
        return bad(r, "clustering.dim is %lld, but the %s space has %zu dimensions", dim,
                   m->cluster_on_pcs ? "principal component" : "encoded", want);
    c->dim = (size_t)dim;
    c->k = (int)k;
    c->k_requested = (int)kr;
    c->n_init = (int)ni;
    c->n_iter = (int)it;
    const cJSON *note = cJSON_GetObjectItemCaseSensitive(cl, "note");
    if (cJSON_IsString(note))
        snprintf(c->note, sizeof c->note, "%s", note->valuestring);
    c->centers = alloc_d(r, (size_t)k * c->dim);
    c->sse = alloc_d(r, (size_t)k);
    c->sizes = calloc((size_t)k, sizeof *c->sizes);
    if (!c->centers || !c->sse || !c->sizes) {
        if (r->rc == 0)
            r->rc = -NAGM_ML_ENOMEM;
        return -1;
    }
    if (get_mat(r, need(r, cl, "clustering", "centers"), "clustering.centers", (size_t)k, c->dim,
                c->centers) ||
        get_vec(r, need(r, cl, "clustering", "sse"), "clustering.sse", (size_t)k, c->sse))
        return -1;
    const cJSON *sz = need(r, cl, "clustering", "sizes");
    if (!sz)
        return -1;
    if (!cJSON_IsArray(sz) || cJSON_GetArraySize(sz) != k)
        return bad(r, "clustering.sizes must hold k = %lld values", k);
    for (int l = 0; l < k; l++) {
        char key[16];
        snprintf(key, sizeof key, "%d", l);
        if (u64_value(cJSON_GetArrayItem(sz, l), &c->sizes[l]) != 0)
            return bad(r, "clustering.sizes[%d] must be a count", l);
    }
    /* Descriptions are optional, for people: take them when well formed. */
    const cJSON *lab = cJSON_GetObjectItemCaseSensitive(cl, "labels");
    if (cJSON_IsArray(lab) && cJSON_GetArraySize(lab) == k) {
        c->labels = calloc((size_t)k, sizeof *c->labels);
        for (int l = 0; c->labels && l < k; l++) {
            const cJSON *v = cJSON_GetArrayItem(lab, l);
            if (cJSON_IsString(v))
                snprintf(c->labels[l], sizeof c->labels[l], "%s", v->valuestring);
        }
    }
    const cJSON *tree = cJSON_GetObjectItemCaseSensitive(cl, "tree");
    if (c->method == NAGM_CLU_BISECTING) {
        if (!tree)
            return bad(r, "clustering.tree is missing (bisecting k-means needs it)");
        return read_tree(r, tree, c);
    }
    return 0;
}

/* "2020-01-31T12:00:00.123456Z" as written by nagm_ts_format. */
static int parse_time(const char *s, int64_t *ns)
{
    int y, mo, d, h, mi, se, us, n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%6dZ%n", &y, &mo, &d, &h, &mi, &se, &us, &n) != 7 ||
        s[n] != '\0')
        return -1;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    /* Four-digit years reach far beyond the int64 ns range (1677..2262). */
    int64_t t;
    if (__builtin_mul_overflow((int64_t)timegm(&tm), 1000000, &t) ||
        __builtin_add_overflow(t, us, &t) || __builtin_mul_overflow(t, 1000, &t))
        return -1;
    *ns = t;
    return 0;
}

static void read_training(const cJSON *root, nagm_model *m)
{
    /* Informational only: read what is there, never fail on it. */
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "training");
    const cJSON *v;
    if (!cJSON_IsObject(t))
        return;
    u64_value(cJSON_GetObjectItemCaseSensitive(t, "rows"), &m->train.rows);
    u64_value(cJSON_GetObjectItemCaseSensitive(t, "sources"), &m->train.sources);
    u64_value(cJSON_GetObjectItemCaseSensitive(t, "windows"), &m->train.windows);
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(t, "seconds")))
        m->train.seconds = v->valuedouble;
    if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(t, "first")))
        parse_time(v->valuestring, &m->train.first_ns);
    if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(t, "last")))
        parse_time(v->valuestring, &m->train.last_ns);
    if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(t, "input")))
        snprintf(m->train.input, sizeof m->train.input, "%s", v->valuestring);
    if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(root, "created")))
        snprintf(m->train.created, sizeof m->train.created, "%s", v->valuestring);
}

int nagm_model_from_json(const char *json, size_t len, nagm_model **out, char *errbuf)
{
    *out = NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) {
        size_t off = end && end >= json && end <= json + len ? (size_t)(end - json) : 0;
        const char *e = cJSON_GetErrorPtr();
        if (e && e >= json && e <= json + len)
            off = (size_t)(e - json);
        size_t line = 1, col = 1;
        for (size_t i = 0; i < off; i++) {
            if (json[i] == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        return nagm_ml_fail(errbuf, NAGM_ML_EFORMAT,
                            "not valid JSON at line %zu, column %zu (damaged or truncated file)",
                            line, col);
    }
    rd r = {errbuf, 0};
    nagm_model *m = calloc(1, sizeof *m);
    if (!m) {
        cJSON_Delete(root);
        return nagm_ml_fail(errbuf, NAGM_ML_ENOMEM, "out of memory loading the model");
    }
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!cJSON_IsObject(root) || !cJSON_IsString(fmt) || strcmp(fmt->valuestring, MODEL_FORMAT)) {
        bad(&r, "not a netagm model (no \"format\": \"%s\")", MODEL_FORMAT);
    } else if (!cJSON_IsNumber(ver)) {
        bad(&r, "model.version is missing");
    } else if (ver->valuedouble != NAGM_MODEL_VERSION) {
        r.rc = nagm_ml_fail(errbuf, NAGM_ML_EVERSION,
                            "model version %g is not supported (this netagm reads version %d); "
                            "train the model again with this netagm",
                            ver->valuedouble, NAGM_MODEL_VERSION);
    } else {
        m->version = NAGM_MODEL_VERSION;
        if (read_encoding(&r, root, m) == 0 && read_scaler_pca(&r, root, m) == 0)
            read_clustering(&r, root, m);
        if (r.rc == 0)
            read_training(root, m);
    }
    cJSON_Delete(root);
    if (r.rc) {
        nagm_model_free(m);
        return r.rc;
    }
    *out = m;
    return 0;
}

int nagm_model_load(const char *path, nagm_model **out, char *errbuf)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return nagm_ml_fail(errbuf, NAGM_ML_EIO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_MODEL_BYTES) {
        fclose(f);
        return nagm_ml_fail(errbuf, NAGM_ML_EIO, "%s: not a regular file under 1 GiB", path);
    }
    size_t len = (size_t)st.st_size;
    char *buf = malloc(len + 1);
    if (!buf) {
        fclose(f);
        return nagm_ml_fail(errbuf, NAGM_ML_ENOMEM, "%s: out of memory", path);
    }
    size_t got = fread(buf, 1, len, f);
    fclose(f);
    if (got != len) {
        free(buf);
        return nagm_ml_fail(errbuf, NAGM_ML_EIO, "%s: read error", path);
    }
    buf[len] = '\0';
    char inner[NAGM_ML_ERRBUF];
    int rc = nagm_model_from_json(buf, len, out, inner);
    free(buf);
    if (rc)
        nagm_ml_fail(errbuf, -rc, "%s: %s", path, inner);
    return rc;
}
