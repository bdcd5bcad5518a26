/* The analysis report: one self-contained HTML page. Charts are inline SVG
 * drawn by svg.c; there is no script and no external resource, so the page
 * opens offline, prints, and can be mailed as a single file. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netagm/decode.h"
#include "netagm/report.h"
#include "report/svg.h"

#ifndef NETAGM_VERSION
#define NETAGM_VERSION "0.1.0"
#endif

/* Points drawn in Fig. 3 at most: beyond this the page gets heavy and the
 * picture does not change. */
#define SCATTER_MAX 4000
#define PORT_BARS 25
#define ANOMALIES 15

static const char *css =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;"
    "color:#222;background:#fafafa;line-height:1.45}"
    "main{max-width:1000px;margin:0 auto;padding:16px 24px 48px;background:#fff}"
    "h1{font-size:1.6em;margin:.4em 0 .1em}h2{font-size:1.25em;margin-top:1.8em;"
    "border-bottom:2px solid #4e79a7;padding-bottom:.2em}h3{font-size:1.05em;margin:1.2em 0 .3em}"
    ".sub{color:#666;margin:0 0 1em}.kpi{display:flex;flex-wrap:wrap;gap:10px;padding:0;"
    "list-style:none}.kpi li{background:#f1f4f8;border-radius:6px;padding:8px 14px;"
    "min-width:120px}.kpi b{display:block;font-size:1.3em}"
    "table{border-collapse:collapse;margin:.5em 0;font-size:.92em}"
    "th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}"
    "th{background:#f1f4f8}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    ".sw{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;"
    "vertical-align:middle}.card{border:1px solid #ddd;border-left:6px solid #999;"
    "border-radius:4px;padding:4px 14px 10px;margin:14px 0}"
    ".caption{color:#555;font-size:.9em;margin-top:.2em}.note{background:#fff8e1;"
    "border:1px solid #f0d98a;padding:6px 10px;border-radius:4px}"
    "code{background:#f4f4f4;padding:0 3px;border-radius:3px}"
    "svg{max-width:100%;height:auto}figure{margin:1em 0}";

static void esc(FILE *fp, const char *s)
{
    nagm_html_escape(fp, s);
}

static void ts(FILE *fp, int64_t ns)
{
    char b[NAGM_TS_STRLEN];
    nagm_ts_format(ns, b);
    b[19] = '\0'; /* seconds are enough for a reader */
    fprintf(fp, "%s UTC", b);
}

/* 1234567 -> "1,234,567" */
static const char *grp(uint64_t v, char *buf)
{
    char t[32];
    int n = snprintf(t, sizeof t, "%" PRIu64, v), o = 0;
    for (int i = 0; i < n; i++) {
        buf[o++] = t[i];
        if ((n - 1 - i) % 3 == 0 && i != n - 1)
            buf[o++] = ',';
    }
    buf[o] = '\0';
    return buf;
}

static void port_label(uint32_t p, char *buf, size_t len)
{
    const char *s = nagm_port_service(p);
    if (s)
        snprintf(buf, len, "%u %s", p, s);
    else
        snprintf(buf, len, "%u", p);
}

static void swatch(FILE *fp, int c)
{
    fprintf(fp, "<span class=\"sw\" style=\"background:%s\"></span>", nagm_svg_color(c));
}

/* ---- Fig. 2: sources per port mode ------------------------------------------------ */

typedef struct pv {
    uint32_t port;
    uint64_t n;
} pv;

static int cmp_pv(const void *a, const void *b)
{
    const pv *x = a, *y = b;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return (x->port > y->port) - (x->port < y->port);
}

static int fig_ports(FILE *fp, const nagm_report_in *in, int field, const char *id,
                     const char *fig, const char *what)
{
    uint64_t *cnt = calloc(65536, sizeof *cnt);
    pv *v = malloc(65536 * sizeof *v);
    if (!cnt || !v) {
        free(cnt);
        free(v);
        return -1;
    }
    for (size_t i = 0; i < in->n; i++)
        if (in->rows[i].mode[field] < 65536)
            cnt[in->rows[i].mode[field]]++;
    size_t nv = 0;
    for (uint32_t p = 0; p < 65536; p++)
        if (cnt[p])
            v[nv++] = (pv){p, cnt[p]};
    qsort(v, nv, sizeof *v, cmp_pv);
    size_t nb = nv > PORT_BARS ? PORT_BARS : nv;
    uint64_t other = 0;
    for (size_t i = nb; i < nv; i++)
        other += v[i].n;
    size_t nbars = nb + (other ? 1 : 0);
    char(*lab)[40] = calloc(nbars ? nbars : 1, sizeof *lab);
    char(*tip)[96] = calloc(nbars ? nbars : 1, sizeof *tip);
    const char **labp = calloc(nbars ? nbars : 1, sizeof *labp);
    const char **tipp = calloc(nbars ? nbars : 1, sizeof *tipp);
    uint64_t *vals = calloc(nbars ? nbars : 1, sizeof *vals);
    if (!lab || !tip || !labp || !tipp || !vals) {
        free(cnt), free(v), free(lab), free(tip), free(labp), free(tipp), free(vals);
        return -1;
    }
    char g[32];
    for (size_t i = 0; i < nb; i++) {
        port_label(v[i].port, lab[i], sizeof lab[i]);
        snprintf(tip[i], sizeof tip[i], "%s %s: %s sources", what, lab[i], grp(v[i].n, g));
        vals[i] = v[i].n;
    }
    if (other) {
        snprintf(lab[nb], sizeof lab[nb], "other (%zu)", nv - nb);
        snprintf(tip[nb], sizeof tip[nb], "%zu other values: %s sources", nv - nb,
                 grp(other, g));
        vals[nb] = other;
    }
    for (size_t i = 0; i < nbars; i++) {
        labp[i] = lab[i];
        tipp[i] = tip[i];
    }
    fprintf(fp, "<section id=\"%s\"><h2>%s: sources per %s mode</h2>\n<figure>\n", id, fig, what);
    char aria[128], xl[96];
    snprintf(aria, sizeof aria, "Bar chart: number of sources per %s mode, log scale", what);
    snprintf(xl, sizeof xl, "%s mode (the most frequent %s of a source)", what, what);
    nagm_svg_bars_log(fp, aria, xl, "sources (log scale)", labp, tipp, vals, nbars,
                      field == NAGM_F_DST_PORT ? "#4e79a7" : "#f28e2b");
    fprintf(fp,
            "<figcaption class=\"caption\">Number of source addresses whose most frequent %s "
            "is each value, log scale (as Fig. %c of the JINR paper). %zu distinct values; the "
            "%zu most common are shown%s. Hover a bar for its count.</figcaption>\n"
            "</figure></section>\n",
            what, fig[5], nv, nb, other ? ", the rest summed as \"other\"" : "");
    free(cnt), free(v), free(lab), free(tip), free(labp), free(tipp), free(vals);
    return 0;
}

/* ---- Fig. 3: the first two principal components ---------------------------------- */

static int fig_pca(FILE *fp, const nagm_report_in *in, const nagm_profile *pr)
{
    const nagm_model *m = in->model;
    int k = m->clu.k;
    size_t nc = m->pca.ncomp;
    /* Even sample per cluster, at least 100 points of each when it has them. */
    size_t *start = calloc((size_t)k + 1, sizeof *start);
    size_t cap = SCATTER_MAX + 100 * (size_t)k;
    double *x = malloc(cap * sizeof *x), *y = malloc(cap * sizeof *y);
    int32_t *grpv = malloc(cap * sizeof *grpv);
    char(*tip)[128] = malloc(cap * sizeof *tip);
    const char **tipp = malloc(cap * sizeof *tipp);
    size_t *seen = calloc((size_t)k, sizeof *seen);
    char(*names)[80] = calloc((size_t)k, sizeof *names);
    const char **namep = calloc((size_t)k, sizeof *namep);
    size_t *quota = calloc((size_t)k, sizeof *quota);
    if (!start || !x || !y || !grpv || !tip || !tipp || !seen || !names || !namep || !quota) {
        free(start), free(x), free(y), free(grpv), free(tip), free(tipp), free(seen);
        free(names), free(namep), free(quota);
        return -1;
    }
    for (int c = 0; c < k; c++) {
        uint64_t sz = pr[c].size;
        size_t q = (size_t)llround((double)SCATTER_MAX * (double)sz / (double)(in->n ? in->n : 1));
        if (q < 100)
            q = 100;
        quota[c] = q < sz ? q : (size_t)sz;
        snprintf(names[c], sizeof names[c], "%d: %s", c, pr[c].label);
        namep[c] = names[c];
    }
    size_t np = 0;
    for (size_t i = 0; i < in->n && np < cap; i++) {
        int c = in->assign[i].cluster;
        if (c < 0 || c >= k)
            continue;
        size_t j = seen[c]++;
        /* member j is drawn when it starts one of q equal slices of the cluster */
        size_t q = quota[c], sz = (size_t)pr[c].size;
        if (q == 0 || ((j + 1) * q) / sz == (j * q) / sz)
            continue;
        x[np] = in->pcs[i * nc];
        y[np] = nc > 1 ? in->pcs[i * nc + 1] : 0;
        grpv[np] = c;
        char a[NAGM_ADDR_STRLEN], fl[40];
        nagm_addr_format(&in->rows[i].src, a);
        snprintf(tip[np], sizeof tip[np], "%s, cluster %d: %" PRIu64 " pkts, dst port %u, %s", a,
                 c, in->rows[i].pkts, in->rows[i].mode[NAGM_F_DST_PORT],
                 nagm_flags_str(in->rows[i].mode[NAGM_F_FLAGS], fl));
        tipp[np] = tip[np];
        np++;
    }
    char xl[96], yl[96];
    snprintf(xl, sizeof xl, "PC1 (%.1f %% of variance)", m->pca.ratio[0] * 100);
    if (nc > 1)
        snprintf(yl, sizeof yl, "PC2 (%.1f %% of variance)", m->pca.ratio[1] * 100);
    else
        snprintf(yl, sizeof yl, "(only one component kept)");
    fputs("<section id=\"fig3\"><h2>Fig. 3: sources on the first two principal components"
          "</h2>\n<figure>\n",
          fp);
    nagm_svg_scatter(fp, "Scatter plot: sources projected on PC1 and PC2, coloured by cluster",
                     xl, yl, x, y, grpv, tipp, np, k, namep);
    char g1[32], g2[32];
    fprintf(fp,
            "<figcaption class=\"caption\">Each point is one source (in one window), projected "
            "on the first two principal components of the scaled Numerical AGM vectors, "
            "coloured by its cluster. Axes are in standard deviations of the scaled "
            "features. %s%s of %s sources are drawn%s. Hover a point for its address."
            "</figcaption>\n</figure></section>\n",
            np < in->n ? "" : "All ", grp(np, g1), grp(in->n, g2),
            np < in->n ? " (evenly spaced within each cluster)" : "");
    free(start), free(x), free(y), free(grpv), free(tip), free(tipp), free(seen);
    free(names), free(namep), free(quota);
    return 0;
}

/* ---- tables -------------------------------------------------------------------------- */

static void variance_table(FILE *fp, const nagm_model *m)
{
    size_t d = m->pca.dim, show = d < 10 ? d : 10;
    char name[48];
    fputs("<section id=\"variance\"><h2>Explained variance</h2>\n"
          "<table><tr><th>component</th><th>variance</th><th>share</th><th>cumulative</th>"
          "<th>strongest loadings (kept components)</th></tr>\n",
          fp);
    double cum = 0;
    for (size_t c = 0; c < show; c++) {
        cum += m->pca.ratio[c];
        fprintf(fp,
                "<tr><td>PC%zu</td><td class=\"n\">%.4g</td><td class=\"n\">%.2f %%</td>"
                "<td class=\"n\">%.2f %%</td><td>",
                c + 1, m->pca.variance[c], m->pca.ratio[c] * 100, cum * 100);
        if (c < m->pca.ncomp) {
            const double *w = m->pca.components + c * d;
            int used[3] = {-1, -1, -1};
            for (int t = 0; t < 3; t++) {
                int best = -1;
                for (size_t j = 0; j < d; j++) {
                    if ((int)j == used[0] || (int)j == used[1])
                        continue;
                    if (best < 0 || fabs(w[j]) > fabs(w[best]))
                        best = (int)j;
                }
                used[t] = best;
                if (best < 0 || fabs(w[best]) < 1e-12)
                    break;
                fprintf(fp, "%s%s%.2f&nbsp;<code>", t ? ", " : "", w[best] >= 0 ? "+" : "",
                        w[best]);
                esc(fp, nagm_nagm_col_name(&m->enc, (size_t)best, name));
                fputs("</code>", fp);
                size_t fo = NAGM_NAGM_NNUM + (size_t)m->enc.k[0] + (size_t)m->enc.k[1];
                if ((size_t)best >= fo && (size_t)best - fo < (size_t)m->enc.ncat[2]) {
                    char fl[40];
                    fprintf(fp, " (%s)", nagm_flags_str(m->enc.cat[2][best - (int)fo], fl));
                }
            }
        }
        fputs("</td></tr>\n", fp);
    }
    fputs("</table>\n", fp);
    if (show < d)
        fprintf(fp,
                "<p class=\"caption\">The other %zu components explain %.2f %% together.</p>\n",
                d - show, fmax(0, 100 - cum * 100));
    fprintf(fp,
            "<p class=\"caption\">PCA of the sample covariance of the %zu scaled features; "
            "each component's largest loading is positive. The model keeps %zu "
            "component%s.</p></section>\n",
            d, m->pca.ncomp, m->pca.ncomp == 1 ? "" : "s");
}

static void top_list(FILE *fp, const nagm_topval *t, int n, uint64_t size, int kind)
{
    char buf[48];
    for (int i = 0; i < n; i++) {
        if (kind == 0)
            port_label(t[i].value, buf, sizeof buf);
        else if (kind == 1)
            nagm_flags_str(t[i].value, buf);
        else
            snprintf(buf, sizeof buf, "%u", t[i].value);
        fprintf(fp, "%s", i ? ", " : "");
        esc(fp, buf);
        fprintf(fp, " <span style=\"color:#777\">(%.0f%%)</span>",
                100.0 * (double)t[i].count / (double)(size ? size : 1));
    }
}

static void profiles(FILE *fp, const nagm_report_in *in, const nagm_profile *pr)
{
    int k = in->model->clu.k;
    char g[32];
    fputs("<section id=\"profiles\"><h2>Cluster profiles</h2>\n"
          "<p>Median of each AGM feature per cluster, in its own units (packets, distinct "
          "values, TTL hops, bytes). For the mode features that are codes rather than "
          "quantities (destination address, ports, protocol, flags) the most common value is "
          "shown instead.</p>\n<div style=\"overflow-x:auto\"><table><tr><th>feature</th>",
          fp);
    for (int c = 0; c < k; c++) {
        fputs("<th>", fp);
        swatch(fp, c);
        fprintf(fp, "%d</th>", c);
    }
    fputs("</tr>\n", fp);
    for (int f = 0; f < NAGM_NFEATURES; f++) {
        const char *fn = nagm_feature_name(f);
        fprintf(fp, "<tr><td><code>%s</code></td>", fn);
        for (int c = 0; c < k; c++) {
            const nagm_profile *p = &pr[c];
            char buf[48];
            if (!strcmp(fn, "dst_ip_mode")) {
                strcpy(buf, "&ndash;");
                fprintf(fp, "<td class=\"n\">%s</td>", buf);
                continue;
            }
            if (!strcmp(fn, "src_port_mode") && p->ntop_src_port)
                snprintf(buf, sizeof buf, "%u", p->top_src_port[0].value);
            else if (!strcmp(fn, "dst_port_mode") && p->ntop_dst_port)
                snprintf(buf, sizeof buf, "%u", p->top_dst_port[0].value);
            else if (!strcmp(fn, "flags_mode") && p->ntop_flags)
                nagm_flags_str(p->top_flags[0].value, buf);
            else if (!strcmp(fn, "proto_mode") && p->ntop_proto)
                snprintf(buf, sizeof buf, "%u", p->top_proto[0].value);
            else
                snprintf(buf, sizeof buf, "%.6g", p->median[f]);
            fprintf(fp, "<td class=\"n\">%s</td>", buf);
        }
        fputs("</tr>\n", fp);
    }
    fputs("</table></div>\n", fp);

    for (int c = 0; c < k; c++) {
        const nagm_profile *p = &pr[c];
        fprintf(fp, "<div class=\"card\" id=\"cluster-%d\" style=\"border-left-color:%s\">\n", c,
                nagm_svg_color(c));
        fprintf(fp, "<h3>Cluster %d: ", c);
        esc(fp, p->label);
        fprintf(fp, "</h3>\n<p>%s sources (%.1f %%). ", grp(p->size, g), p->share * 100);
        esc(fp, p->summary);
        fprintf(fp,
                "</p>\n<table><tr><th>top destination ports</th><td>");
        top_list(fp, p->top_dst_port, p->ntop_dst_port, p->size, 0);
        fputs("</td></tr>\n<tr><th>top source ports</th><td>", fp);
        top_list(fp, p->top_src_port, p->ntop_src_port, p->size, 0);
        fputs("</td></tr>\n<tr><th>top flag combinations</th><td>", fp);
        top_list(fp, p->top_flags, p->ntop_flags, p->size, 1);
        fprintf(fp,
                "</td></tr>\n<tr><th>distance to centre</th><td>median %.3g, largest %.3g "
                "(scaled units)</td></tr>\n</table>\n",
                p->dist_median, p->dist_max);
        fputs("<p style=\"margin:.4em 0 .2em\">Example sources (nearest the centre):</p>\n"
              "<table><tr><th>source</th><th>window start</th><th>pkts</th><th>hosts</th>"
              "<th>dst port</th><th>src port</th><th>flags</th><th>TTL</th><th>len</th>"
              "<th>distance</th></tr>\n",
              fp);
        for (int e = 0; e < p->nexamples; e++) {
            const nagm_agm_row *r = &in->rows[p->examples[e]];
            char a[NAGM_ADDR_STRLEN], fl[40];
            nagm_addr_format(&r->src, a);
            fprintf(fp, "<tr><td><code>%s</code></td><td>", a);
            ts(fp, r->window_start_ns);
            fprintf(fp,
                    "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64
                    "</td><td class=\"n\">%u</td><td class=\"n\">%u</td><td>%s</td>"
                    "<td class=\"n\">%u</td><td class=\"n\">%u</td><td class=\"n\">%.3g</td>"
                    "</tr>\n",
                    r->pkts, r->uniq[NAGM_F_DST_IP], r->mode[NAGM_F_DST_PORT],
                    r->mode[NAGM_F_SRC_PORT], nagm_flags_str(r->mode[NAGM_F_FLAGS], fl),
                    r->mode[NAGM_F_TTL], r->mode[NAGM_F_LEN],
                    in->assign[p->examples[e]].distance);
        }
        fputs("</table>\n</div>\n", fp);
    }
    fputs("</section>\n", fp);
}

static int anomalies(FILE *fp, const nagm_report_in *in, const nagm_profile *pr)
{
    size_t top[ANOMALIES];
    int nt = 0;
    for (size_t i = 0; i < in->n; i++) {
        int pos = nt;
        while (pos > 0 && in->assign[i].distance > in->assign[top[pos - 1]].distance)
            pos--;
        if (pos >= ANOMALIES)
            continue;
        if (nt < ANOMALIES)
            nt++;
        memmove(&top[pos + 1], &top[pos], (size_t)(nt - 1 - pos) * sizeof top[0]);
        top[pos] = i;
    }
    fputs("<section id=\"anomalies\"><h2>Most unusual sources</h2>\n"
          "<p>The sources farthest from the centre of their cluster (Euclidean distance in the "
          "clustering space: the anomaly score, also in <code>assignments.csv</code>). They fit "
          "their cluster worst and are the first to look at.</p>\n"
          "<table><tr><th>source</th><th>cluster</th><th>distance</th><th>pkts</th>"
          "<th>hosts</th><th>dst ports</th><th>top dst port</th><th>flags</th><th>TTL</th>"
          "<th>len</th></tr>\n",
          fp);
    for (int t = 0; t < nt; t++) {
        const nagm_agm_row *r = &in->rows[top[t]];
        int c = in->assign[top[t]].cluster;
        char a[NAGM_ADDR_STRLEN], fl[40], pl[48];
        nagm_addr_format(&r->src, a);
        port_label(r->mode[NAGM_F_DST_PORT], pl, sizeof pl);
        fprintf(fp, "<tr><td><code>%s</code></td><td>", a);
        swatch(fp, c);
        fprintf(fp, "%d ", c);
        esc(fp, pr[c].label);
        fprintf(fp,
                "</td><td class=\"n\">%.3g</td><td class=\"n\">%" PRIu64 "</td>"
                "<td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64 "</td><td>%s</td>"
                "<td>%s</td><td class=\"n\">%u</td><td class=\"n\">%u</td></tr>\n",
                in->assign[top[t]].distance, r->pkts, r->uniq[NAGM_F_DST_IP],
                r->uniq[NAGM_F_DST_PORT], pl, nagm_flags_str(r->mode[NAGM_F_FLAGS], fl),
                r->mode[NAGM_F_TTL], r->mode[NAGM_F_LEN]);
    }
    fputs("</table></section>\n", fp);
    return 0;
}

static void row2(FILE *fp, const char *k, const char *v)
{
    fputs("<tr><th>", fp);
    esc(fp, k);
    fputs("</th><td>", fp);
    esc(fp, v);
    fputs("</td></tr>\n", fp);
}

static void rowu(FILE *fp, const char *k, uint64_t v)
{
    char g[32];
    fprintf(fp, "<tr><th>%s</th><td class=\"n\">%s</td></tr>\n", k, grp(v, g));
}

static void run_stats(FILE *fp, const nagm_report_in *in)
{
    const nagm_model *m = in->model;
    const nagm_clusters *c = &m->clu;
    char buf[512];
    fputs("<section id=\"run\"><h2>Input and run statistics</h2>\n"
          "<div style=\"display:flex;flex-wrap:wrap;gap:24px\"><div><h3>Input</h3><table>\n",
          fp);
    row2(fp, "read", in->input_desc ? in->input_desc : "");
    if (in->command)
        row2(fp, "command", in->command);
    const nagm_stats *s = in->stats;
    if (s) {
        rowu(fp, "files read cleanly", s->files_ok);
        rowu(fp, "files with errors", s->files_bad);
        rowu(fp, "frames read", s->frames);
        rowu(fp, "bytes captured", s->bytes);
        rowu(fp, "packets counted", s->counted);
        for (int r = 1; r < NAGM_DEC_NRESULTS; r++) {
            snprintf(buf, sizeof buf, "skipped: %s", nagm_dec_result_name((nagm_dec_result)r));
            rowu(fp, buf, s->skipped[r]);
        }
        rowu(fp, "filtered by --proto", s->filtered_proto);
        if (s->filtered_bpf)
            rowu(fp, "filtered by --bpf", s->filtered_bpf);
        if (s->l4_truncated)
            rowu(fp, "packets with L4 fields cut by snaplen", s->l4_truncated);
        snprintf(buf, sizeof buf, "%.2f s", s->elapsed_s);
        row2(fp, "capture reading time", buf);
    } else {
        rowu(fp, "AGM rows read", in->rows_read);
        if (in->rows_dropped)
            rowu(fp, "rows dropped: no TCP", in->rows_dropped);
        if (in->rows_mixed)
            rowu(fp, "rows mixing TCP and other protocols", in->rows_mixed);
    }
    rowu(fp, "rows analysed (source, window)", in->n);
    rowu(fp, "distinct sources", m->train.sources);
    rowu(fp, "windows", m->train.windows);
    if (in->n) {
        char a[NAGM_TS_STRLEN], b[NAGM_TS_STRLEN];
        nagm_ts_format(m->train.first_ns, a);
        nagm_ts_format(m->train.last_ns, b);
        snprintf(buf, sizeof buf, "%s to %s", a, b);
        row2(fp, "time span", buf);
    }
    fputs("</table></div>\n<div><h3>Model</h3><table>\n", fp);
    row2(fp, "protocols", m->tcp_only ? "TCP only (as in the paper)" : "all protocols");
    snprintf(buf, sizeof buf, "%zu = 15 numeric + %d src_port_mode + %d dst_port_mode + %d "
                              "flags_mode",
             nagm_nagm_dim(&m->enc), m->enc.k[0], m->enc.k[1], m->enc.k[2]);
    row2(fp, "Numerical AGM dimension", buf);
    static const char *const ohn[3] = {"src_port_mode categories", "dst_port_mode categories",
                                       "flags_mode categories"};
    for (int f = 0; f < NAGM_OH_N; f++) {
        size_t len = 0;
        buf[0] = '\0';
        for (int i = 0; i < m->enc.ncat[f] && len < sizeof buf - 64; i++) {
            char fl[40];
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%u", i ? ", " : "",
                                    m->enc.cat[f][i]);
            if (f == NAGM_OH_FLAGS)
                len += (size_t)snprintf(buf + len, sizeof buf - len, " (%s)",
                                        nagm_flags_str(m->enc.cat[f][i], fl));
        }
        row2(fp, ohn[f], buf);
    }
    row2(fp, "scaler", "z-score, sample standard deviation; constant columns map to 0");
    snprintf(buf, sizeof buf, "%zu components kept", m->pca.ncomp);
    row2(fp, "PCA", buf);
    row2(fp, "clustering method", nagm_cluster_method_name(c->method));
    row2(fp, "clustering space",
         m->cluster_on_pcs ? "first principal components" : "scaled Numerical AGM vectors");
    if (c->method == NAGM_CLU_MEANSHIFT) {
        snprintf(buf, sizeof buf, "%.6g", c->bandwidth);
        row2(fp, "bandwidth", buf);
    } else {
        snprintf(buf, sizeof buf, "%d (asked %d)", c->k, c->k_requested);
        row2(fp, "clusters", buf);
        snprintf(buf, sizeof buf, "%d", c->n_init);
        row2(fp, c->method == NAGM_CLU_KMEANS ? "runs (n_init)" : "runs per split (n_init)",
             buf);
    }
    snprintf(buf, sizeof buf, "%" PRIu64, c->seed);
    row2(fp, "seed", buf);
    snprintf(buf, sizeof buf, "%.6g", c->inertia);
    row2(fp, "inertia (sum of squared distances)", buf);
    if (c->note[0])
        row2(fp, "note", c->note);
    snprintf(buf, sizeof buf, "%.2f s", in->t_read);
    row2(fp, "reading time", buf);
    snprintf(buf, sizeof buf, "%.2f s", in->t_train);
    row2(fp, "training time", buf);
    fputs("</table></div></div>\n", fp);
    if (in->outputs[0]) {
        fputs("<h3>Files</h3><ul>\n", fp);
        for (int i = 0; i < 8 && in->outputs[i]; i++) {
            fputs("<li><code>", fp);
            esc(fp, in->outputs[i]);
            fputs("</code></li>\n", fp);
        }
        fputs("</ul>\n", fp);
    }
    fputs("</section>\n", fp);
}

static void summary(FILE *fp, const nagm_report_in *in, const nagm_profile *pr)
{
    const nagm_model *m = in->model;
    char g[32];
    fputs("<section id=\"summary\"><h2>Summary</h2>\n<ul class=\"kpi\">", fp);
    fprintf(fp, "<li><b>%s</b>sources analysed</li>", grp(in->n, g));
    fprintf(fp, "<li><b>%s</b>distinct addresses</li>", grp(m->train.sources, g));
    fprintf(fp, "<li><b>%s</b>window%s</li>", grp(m->train.windows, g),
            m->train.windows == 1 ? "" : "s");
    fprintf(fp, "<li><b>%d</b>clusters (%s)</li>", m->clu.k,
            nagm_cluster_method_name(m->clu.method));
    fprintf(fp, "<li><b>%.1f %%</b>variance on PC1+PC2</li>",
            (m->pca.ratio[0] + (m->pca.dim > 1 ? m->pca.ratio[1] : 0)) * 100);
    fputs("</ul>\n", fp);
    if (in->n) {
        char a[NAGM_TS_STRLEN], b[NAGM_TS_STRLEN];
        nagm_ts_format(m->train.first_ns, a);
        nagm_ts_format(m->train.last_ns, b);
        a[19] = b[19] = '\0';
        fprintf(fp, "<p>Traffic from %s to %s UTC.</p>\n", a, b);
    }
    fputs("<table><tr><th>cluster</th><th>what it looks like</th><th>sources</th><th>share</th>"
          "<th>median pkts</th><th>top dst port</th><th>top flags</th></tr>\n",
          fp);
    for (int c = 0; c < m->clu.k; c++) {
        const nagm_profile *p = &pr[c];
        char pl[48] = "", fl[40] = "";
        if (p->ntop_dst_port)
            port_label(p->top_dst_port[0].value, pl, sizeof pl);
        if (p->ntop_flags)
            nagm_flags_str(p->top_flags[0].value, fl);
        fprintf(fp, "<tr><td><a href=\"#cluster-%d\">", c);
        swatch(fp, c);
        fprintf(fp, "%d</a></td><td>", c);
        esc(fp, p->label);
        fprintf(fp,
                "</td><td class=\"n\">%s</td><td class=\"n\">%.1f %%</td><td class=\"n\">%.6g"
                "</td><td>%s</td><td>%s</td></tr>\n",
                grp(p->size, g), p->share * 100, p->median[0], pl, fl);
    }
    fputs("</table>\n", fp);
    if (m->clu.note[0]) {
        fputs("<p class=\"note\">", fp);
        esc(fp, m->clu.note);
        fputs(".</p>\n", fp);
    }
    if (in->rows_mixed)
        fprintf(fp,
                "<p class=\"note\">%s rows mix TCP with other protocols: the AGM table was not "
                "built from TCP packets only. For the paper's encoding build it with "
                "<code>netagm agm --proto tcp</code>.</p>\n",
                grp(in->rows_mixed, g));
    fputs("</section>\n", fp);
}

int nagm_report_write_html(const nagm_report_in *in, FILE *fp, char *errbuf)
{
    const nagm_model *m = in->model;
    nagm_profile *own = NULL;
    const nagm_profile *pr = in->profiles;
    if (!pr) {
        if (nagm_profiles_compute(in->rows, in->assign, in->n, m->clu.k, &own) != 0) {
            snprintf(errbuf, 256, "out of memory computing cluster profiles");
            return -1;
        }
        pr = own;
    }
    const char *title = in->title ? in->title : "netagm analysis";
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
          fp);
    esc(fp, title);
    fprintf(fp, "</title>\n<style>%s</style>\n</head><body><main>\n<h1>", css);
    esc(fp, title);
    fputs("</h1>\n<p class=\"sub\">", fp);
    esc(fp, in->input_desc ? in->input_desc : "");
    fprintf(fp, " &middot; model built %s &middot; netagm %s</p>\n", m->train.created,
            NETAGM_VERSION);
    fputs("<p>Every source address (per time window) is summarised by its AGM record: how many "
          "packets it sent, to how many hosts and ports, and the most frequent port, flags, "
          "TTL and length. The records are encoded as 51-number vectors, scaled, projected "
          "with PCA and clustered; each cluster is a kind of behaviour.</p>\n",
          fp);
    summary(fp, in, pr);
    int rc = fig_ports(fp, in, NAGM_F_DST_PORT, "fig2a", "Fig. 2a", "destination port");
    if (rc == 0)
        rc = fig_ports(fp, in, NAGM_F_SRC_PORT, "fig2b", "Fig. 2b", "source port");
    if (rc == 0)
        rc = fig_pca(fp, in, pr);
    if (rc == 0) {
        variance_table(fp, m);
        profiles(fp, in, pr);
        anomalies(fp, in, pr);
        run_stats(fp, in);
        fputs("<footer class=\"caption\"><p>How this was computed: docs/analysis.md in the "
              "netagm sources (encoding, scaler, PCA, clustering rules and the wording of "
              "cluster descriptions). The descriptions are rules of thumb on the medians; "
              "check the example sources before acting on them.</p></footer>\n"
              "</main></body></html>\n",
              fp);
    }
    free(own);
    if (rc) {
        snprintf(errbuf, 256, "out of memory writing the report");
        return -1;
    }
    if (ferror(fp)) {
        snprintf(errbuf, 256, "write error");
        return -1;
    }
    return 0;
}
