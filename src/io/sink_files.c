/* Stream output to files and standard output: CSV, JSON Lines or Parquet,
 * one file for the whole run or one per window through a strftime pattern.
 *
 * Row text is produced by the batch writers themselves (sink_text.c, through
 * a memory stream), so a stream row is byte-identical to the batch row of the
 * same window; a model's cluster and distance are appended as extra columns
 * (agm.md allows columns after the 25). Parquet gets them as two more
 * columns, cluster INT32 and distance DOUBLE (sink_parquet.c).
 *
 * A pattern file is written as NAME.tmp and renamed to NAME when no further
 * window can map to it (the next window's name differs), so a reader never
 * sees a half-written file. When NAME exists already (a restart within the
 * period the pattern covers), CSV and JSONL continue it; a Parquet file can
 * not be continued and goes to NAME with ".1", ".2", ... before the
 * extension instead.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "netagm/parquet.h"
#include "netagm/stream.h"

/* ---- row text ------------------------------------------------------------- */

static int buf_reserve(char **buf, size_t *len, size_t *cap, size_t more)
{
    if (*len + more + 1 <= *cap)
        return 0;
    size_t n = *cap ? *cap : 4096;
    while (n < *len + more + 1)
        n *= 2;
    char *p = realloc(*buf, n);
    if (!p)
        return -1;
    *buf = p;
    *cap = n;
    return 0;
}

static int buf_append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (buf_reserve(buf, len, cap, n) != 0)
        return -1;
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}

/* Distance text: the shortest form that reads back to the same double, as
 * netagm apply writes it, so the two can be compared as text. JSON has no
 * NaN, so a non-finite value is null there and empty in CSV. */
static void fmt_double(char *buf, size_t n, double v)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v + 0.0);
        if (strtod(buf, NULL) == v)
            break;
    }
}

static int fmt_score(char *out, size_t outsz, const nagm_row_score *sc, int json)
{
    char d[40];
    fmt_double(d, sizeof d, sc->distance);
    if (json)
        return snprintf(out, outsz, ",\"cluster\":%" PRId32 ",\"distance\":%s}", sc->cluster,
                        isfinite(sc->distance) ? d : "null");
    return snprintf(out, outsz, ",%" PRId32 ",%s\r\n", sc->cluster,
                    isfinite(sc->distance) ? d : "");
}

int nagm_rows_format(nagm_format fmt, const nagm_agm_row *rows, const nagm_row_score *score,
                     size_t n, int header, char **buf, size_t *len, size_t *cap)
{
    int json = fmt == NAGM_FMT_JSONL;
    char *text = NULL;
    size_t tlen = 0;
    FILE *mf = open_memstream(&text, &tlen);
    if (!mf)
        return -1;
    nagm_sink *ts = json ? nagm_sink_jsonl_new(mf, 0) : nagm_sink_csv_new(mf, 0);
    if (!ts) {
        fclose(mf);
        free(text);
        return -1;
    }
    int rc = ts->write(ts, rows, n) == NAGM_SINK_OK ? 0 : -1;
    if (ts->close(ts) != NAGM_SINK_OK)
        rc = -1;
    if (fclose(mf) != 0)
        rc = -1;
    if (rc != 0) {
        free(text);
        return -1;
    }
    /* Walk the lines: the CSV writer's first line is its header. */
    const char *p = text, *end = text + tlen;
    int first = !json;
    size_t row = 0;
    while (p < end && rc == 0) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *next = nl ? nl + 1 : end;
        if (first) {
            first = 0;
            if (header) {
                size_t body = (size_t)(next - p) - (next > p && next[-1] == '\n') -
                              (next - p >= 2 && next[-2] == '\r');
                rc = buf_append(buf, len, cap, p, body);
                if (rc == 0 && score)
                    rc = buf_append(buf, len, cap, ",cluster,distance", 17);
                if (rc == 0)
                    rc = buf_append(buf, len, cap, "\r\n", 2);
            }
        } else if (!score) {
            rc = buf_append(buf, len, cap, p, (size_t)(next - p));
        } else {
            /* Cut the line end (JSON: "}\n"; CSV: "\r\n") and add the score. */
            size_t body = (size_t)(next - p) >= 2 ? (size_t)(next - p) - 2 : 0;
            char tail[96];
            int tn = fmt_score(tail, sizeof tail, &score[row], json);
            rc = buf_append(buf, len, cap, p, body);
            if (rc == 0)
                rc = buf_append(buf, len, cap, tail, (size_t)tn);
            if (rc == 0 && json)
                rc = buf_append(buf, len, cap, "\n", 1);
            row++;
        }
        p = next;
    }
    free(text);
    return rc;
}

/* ---- the sink --------------------------------------------------------------- */

typedef struct files_sink {
    nagm_wsink base;
    char *path;           /* the path or pattern */
    int pattern;          /* path has a '%' */
    int is_stdout;
    nagm_format fmt;
    int scored;           /* rows come with a model's cluster and distance */
    int64_t window_ns;
    /* current output */
    char *cur_name, *cur_tmp;
    FILE *fp;             /* CSV / JSONL */
    nagm_sink *pq;        /* Parquet */
    int header_done;
    char *buf;
    size_t len, cap;
    nagm_wsink_stats st;
} files_sink;

/* Name for a window start: strftime of the UTC time. Returns 0 or -1. */
static int expand(const files_sink *fs, int64_t start_ns, char *out, size_t outsz)
{
    int64_t sec = start_ns / 1000000000;
    if (start_ns % 1000000000 != 0 && start_ns < 0)
        sec--;
    time_t t = (time_t)sec;
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return -1;
    size_t n = strftime(out, outsz, fs->path, &tm);
    return n > 0 ? 0 : -1;
}

/* mkdir -p of the directory part of path. */
static int make_parents(const char *path)
{
    char *d = strdup(path);
    if (!d)
        return -1;
    int rc = 0;
    for (char *p = d + 1; *p && rc == 0; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(d, 0777) != 0 && errno != EEXIST)
            rc = -1;
        *p = '/';
    }
    free(d);
    return rc;
}

static int file_exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* Copy an existing file's bytes into fp (continuing a CSV/JSONL file). */
static int copy_into(const char *from, FILE *fp, int *nonempty)
{
    FILE *in = fopen(from, "rb");
    if (!in)
        return -1;
    char b[65536];
    size_t n;
    *nonempty = 0;
    while ((n = fread(b, 1, sizeof b, in)) > 0) {
        *nonempty = 1;
        if (fwrite(b, 1, n, fp) != n) {
            fclose(in);
            return -1;
        }
    }
    int rc = ferror(in) ? -1 : 0;
    fclose(in);
    return rc;
}

static int fail(files_sink *fs, const char *what, const char *name)
{
    snprintf(fs->base.err, sizeof fs->base.err, "%s %.160s: %.60s", what, name, strerror(errno));
    fs->st.errors++;
    return NAGM_SINK_ERROR;
}

/* Open the output for name (pattern mode: name.tmp). */
static int open_output(files_sink *fs, const char *name)
{
    char errbuf[NAGM_PQ_ERRBUF_SIZE];
    free(fs->cur_name);
    free(fs->cur_tmp);
    fs->cur_name = fs->cur_tmp = NULL;
    fs->header_done = 0;
    if (fs->is_stdout) {
        if (fs->fmt == NAGM_FMT_PARQUET) {
            fs->pq = fs->scored ? nagm_sink_parquet_scored_new("-", NULL, errbuf)
                                : nagm_sink_parquet_new("-", NULL, errbuf);
            if (!fs->pq) {
                snprintf(fs->base.err, sizeof fs->base.err, "%.250s", errbuf);
                return NAGM_SINK_ERROR;
            }
        } else {
            fs->fp = stdout;
        }
        return NAGM_SINK_OK;
    }
    char *final = strdup(name);
    if (!final)
        return NAGM_SINK_ERROR;
    if (fs->pattern && make_parents(final) != 0) {
        free(final);
        return fail(fs, "cannot create the directory of", name);
    }
    if (fs->pattern && fs->fmt == NAGM_FMT_PARQUET && file_exists(final)) {
        /* NAME.parquet exists: NAME.1.parquet, NAME.2.parquet, ... */
        const char *dot = strrchr(name, '.');
        const char *slash = strrchr(name, '/');
        size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - name) : strlen(name);
        for (int k = 1; k < 100000 && file_exists(final); k++) {
            free(final);
            size_t sz = strlen(name) + 16;
            final = malloc(sz);
            if (!final)
                return NAGM_SINK_ERROR;
            snprintf(final, sz, "%.*s.%d%s", (int)stem, name, k, name + stem);
        }
        fprintf(stderr, "netagm stream: %s exists; writing %s\n", name, final);
    }
    fs->cur_name = final;
    const char *target = final;
    if (fs->pattern) {
        size_t sz = strlen(final) + 5;
        fs->cur_tmp = malloc(sz);
        if (!fs->cur_tmp)
            return NAGM_SINK_ERROR;
        snprintf(fs->cur_tmp, sz, "%s.tmp", final);
        target = fs->cur_tmp;
    }
    if (fs->fmt == NAGM_FMT_PARQUET) {
        fs->pq = fs->scored ? nagm_sink_parquet_scored_new(target, NULL, errbuf)
                            : nagm_sink_parquet_new(target, NULL, errbuf);
        if (!fs->pq) {
            snprintf(fs->base.err, sizeof fs->base.err, "%.250s", errbuf);
            fs->st.errors++;
            return NAGM_SINK_ERROR;
        }
        return NAGM_SINK_OK;
    }
    fs->fp = fopen(target, "wb");
    if (!fs->fp)
        return fail(fs, "cannot write", target);
    if (fs->pattern && file_exists(final)) {
        int nonempty;
        if (copy_into(final, fs->fp, &nonempty) != 0)
            return fail(fs, "cannot continue", final);
        fs->header_done = nonempty;
    }
    return NAGM_SINK_OK;
}

/* Finish the current output: close it and, for a pattern, rename it. */
static int finish_output(files_sink *fs)
{
    int rc = NAGM_SINK_OK;
    if (fs->pq) {
        if (fs->pq->close(fs->pq) != NAGM_SINK_OK) {
            snprintf(fs->base.err, sizeof fs->base.err, "writing %s failed",
                     fs->cur_name ? fs->cur_name : "stdout");
            fs->st.errors++;
            rc = NAGM_SINK_ERROR;
        }
        fs->pq = NULL;
    } else if (fs->fp) {
        if (fs->fp == stdout) {
            if (fflush(stdout) != 0)
                rc = fail(fs, "cannot write", "stdout");
        } else if (fclose(fs->fp) != 0) {
            rc = fail(fs, "cannot write", fs->cur_tmp ? fs->cur_tmp : fs->cur_name);
        }
        fs->fp = NULL;
    }
    if (rc == NAGM_SINK_OK && fs->cur_tmp && rename(fs->cur_tmp, fs->cur_name) != 0)
        rc = fail(fs, "cannot rename to", fs->cur_name);
    free(fs->cur_name);
    free(fs->cur_tmp);
    fs->cur_name = fs->cur_tmp = NULL;
    return rc;
}

static int files_write(nagm_wsink *s, const nagm_window_out *w)
{
    files_sink *fs = (files_sink *)s;
    char name[4096];
    if (fs->pattern) {
        if (expand(fs, w->start_ns, name, sizeof name) != 0) {
            snprintf(s->err, sizeof s->err, "the pattern %s gives no file name", fs->path);
            fs->st.errors++;
            return NAGM_SINK_ERROR;
        }
        if (fs->cur_name && strcmp(name, fs->cur_name) != 0 && finish_output(fs) != NAGM_SINK_OK)
            return NAGM_SINK_ERROR;
    } else {
        snprintf(name, sizeof name, "%s", fs->path);
    }
    if (!fs->fp && !fs->pq && open_output(fs, name) != NAGM_SINK_OK)
        return NAGM_SINK_ERROR;
    if (fs->pq) {
        int rc = fs->scored ? nagm_sink_parquet_write_scored(fs->pq, w->rows, w->score, w->n)
                            : fs->pq->write(fs->pq, w->rows, w->n);
        if (rc != NAGM_SINK_OK) {
            snprintf(s->err, sizeof s->err, "%s", fs->pq->err);
            fs->st.errors++;
            return NAGM_SINK_ERROR;
        }
    } else {
        fs->len = 0;
        int header = fs->fmt == NAGM_FMT_CSV && !fs->header_done;
        /* A scored run's header names cluster and distance even when its
         * first window has no rows (and so no scores). */
        nagm_row_score none = {0, 0.0};
        const nagm_row_score *sc = w->score ? w->score : fs->scored && !w->n ? &none : NULL;
        if (nagm_rows_format(fs->fmt, w->rows, sc, w->n, header, &fs->buf, &fs->len,
                             &fs->cap) != 0) {
            snprintf(s->err, sizeof s->err, "out of memory");
            return NAGM_SINK_ERROR;
        }
        fs->header_done = 1;
        if ((fs->len && fwrite(fs->buf, 1, fs->len, fs->fp) != fs->len) || fflush(fs->fp) != 0)
            return fail(fs, "cannot write", fs->is_stdout ? "stdout" : name);
    }
    fs->st.windows++;
    fs->st.rows += w->n;
    fs->st.acked_windows++;
    /* A pattern file is done when the next window maps elsewhere. */
    if (fs->pattern) {
        char next[4096];
        if (fs->window_ns <= 0 || expand(fs, w->start_ns + fs->window_ns, next, sizeof next) != 0 ||
            strcmp(next, fs->cur_name ? fs->cur_name : name) != 0)
            return finish_output(fs);
    }
    return NAGM_SINK_OK;
}

static void files_stats(nagm_wsink *s, nagm_wsink_stats *out)
{
    *out = ((files_sink *)s)->st;
}

static int files_close(nagm_wsink *s, int timeout_ms)
{
    (void)timeout_ms;
    files_sink *fs = (files_sink *)s;
    int rc = NAGM_SINK_OK;
    if (!fs->pattern && fs->fp && fs->fmt == NAGM_FMT_CSV && !fs->header_done) {
        /* No window at all: a CSV file still gets its header, as in batch. */
        nagm_row_score none = {0, 0.0};
        fs->len = 0;
        if (nagm_rows_format(fs->fmt, NULL, fs->scored ? &none : NULL, 0, 1, &fs->buf, &fs->len,
                             &fs->cap) != 0 ||
            fwrite(fs->buf, 1, fs->len, fs->fp) != fs->len)
            rc = NAGM_SINK_ERROR;
    }
    if ((fs->fp || fs->pq) && finish_output(fs) != NAGM_SINK_OK)
        rc = NAGM_SINK_ERROR;
    if (rc != NAGM_SINK_OK && s->err[0])
        fprintf(stderr, "netagm stream: %s\n", s->err);
    free(fs->cur_name);
    free(fs->cur_tmp);
    free(fs->buf);
    free(fs->path);
    free(fs);
    return rc;
}

nagm_wsink *nagm_wsink_files_new(const char *path, nagm_format fmt, int64_t window_ns,
                                 char *errbuf)
{
    return nagm_wsink_files_new_scored(path, fmt, window_ns, 0, errbuf);
}

nagm_wsink *nagm_wsink_files_new_scored(const char *path, nagm_format fmt, int64_t window_ns,
                                        int scored, char *errbuf)
{
    files_sink *fs = calloc(1, sizeof *fs);
    if (!fs || !(fs->path = strdup(path))) {
        free(fs);
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "out of memory");
        return NULL;
    }
    fs->base.name = fs->path;
    fs->base.write = files_write;
    fs->base.stats = files_stats;
    fs->base.close = files_close;
    fs->is_stdout = !strcmp(path, "-");
    fs->pattern = !fs->is_stdout && strchr(path, '%') != NULL;
    fs->window_ns = window_ns;
    fs->scored = scored;
    if (fmt == NAGM_FMT_AUTO) {
        /* the extension of a pattern is the extension of every name */
        fmt = fs->is_stdout ? NAGM_FMT_JSONL : nagm_format_from_path(path);
        if (fmt == NAGM_FMT_AUTO) {
            snprintf(errbuf, NAGM_ERRBUF_SIZE,
                     "%s: cannot tell the format from the name (use .csv, .jsonl or .parquet, "
                     "or --format)",
                     path);
            free(fs->path);
            free(fs);
            return NULL;
        }
    }
    fs->fmt = fmt;
    /* Fail before any work when the output cannot be written. */
    if (fs->pattern) {
        char name[4096];
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        if (expand(fs, (int64_t)now.tv_sec * 1000000000, name, sizeof name) != 0) {
            snprintf(errbuf, NAGM_ERRBUF_SIZE, "%s: the pattern gives no file name", path);
            free(fs->path);
            free(fs);
            return NULL;
        }
        char *slash = strrchr(name, '/');
        if (slash) {
            *slash = '\0';
            char probe[4200];
            snprintf(probe, sizeof probe, "%s/", name);
            if (make_parents(probe) != 0 || access(name, W_OK) != 0) {
                snprintf(errbuf, NAGM_ERRBUF_SIZE, "cannot write into %.400s: %.60s", name,
                         strerror(errno));
                free(fs->path);
                free(fs);
                return NULL;
            }
        } else if (access(".", W_OK) != 0) {
            snprintf(errbuf, NAGM_ERRBUF_SIZE, "cannot write into the current directory: %s",
                     strerror(errno));
            free(fs->path);
            free(fs);
            return NULL;
        }
    } else if (!fs->is_stdout) {
        if (open_output(fs, path) != NAGM_SINK_OK) {
            snprintf(errbuf, NAGM_ERRBUF_SIZE, "%s", fs->base.err);
            free(fs->cur_name);
            free(fs->path);
            free(fs);
            return NULL;
        }
    }
    return &fs->base;
}
