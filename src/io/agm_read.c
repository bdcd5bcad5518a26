/* Reading AGM tables (CSV, JSON Lines) back into rows. The columns are found
 * by name, so tables with extra columns, or columns in another order, read
 * the same. Every value is checked; a bad value names its line and column. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "netagm/agm_read.h"

/* ---- time --------------------------------------------------------------------- */

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 0;
}

int nagm_ts_parse(const char *s, size_t len, int64_t *ns)
{
    unsigned y, mo, d, h, mi, se;
    if (len < 19 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != ' ') || digits(s + 11, 2, &h) ||
        s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return -1;
    size_t i = 19;
    int64_t frac = 0;
    if (i < len && s[i] == '.') {
        i++;
        int nd = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (nd < 9) {
                frac = frac * 10 + (s[i] - '0');
                nd++;
            }
            i++;
        }
        if (nd == 0)
            return -1;
        for (; nd < 9; nd++)
            frac *= 10;
    }
    if (i < len && s[i] == 'Z')
        i++;
    else if (i + 6 == len && !memcmp(s + i, "+00:00", 6))
        i += 6;
    if (i != len)
        return -1;
    int64_t days = days_from_civil(y, mo, d);
    /* Four-digit years reach far beyond the int64 ns range (1677..2262). */
    __int128 t = (__int128)(days * 86400 + h * 3600 + mi * 60 + se) * 1000000000 + frac;
    if (t < INT64_MIN || t > INT64_MAX)
        return -1;
    *ns = (int64_t)t;
    return 0;
}

/* ---- values --------------------------------------------------------------------- */

typedef struct rctx {
    const char *name;
    size_t line;
    char *errbuf;
} rctx;

static int fail(rctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(rctx *c, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->line)
        snprintf(c->errbuf, NAGM_AGM_READ_ERRBUF, "%s: line %zu: %s", c->name, c->line, msg);
    else
        snprintf(c->errbuf, NAGM_AGM_READ_ERRBUF, "%s: %s", c->name, msg);
    return -1;
}

static int parse_u64(const char *s, size_t len, uint64_t *out)
{
    if (len == 0 || len > 20)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned dgt = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - dgt) / 10)
            return -1;
        v = v * 10 + dgt;
    }
    *out = v;
    return 0;
}

/* Largest mode value of each field (agm.md: 16-bit ports, 8-bit TTL, proto
 * and flags; len = 40 + a 16-bit payload length at most). */
static const uint64_t mode_max[NAGM_NFIELDS] = {0, 65535, 65535, 255, 255, 255, 65575};

/* Store column `col` (0..24, agm.md order) of row r from text. */
static int set_col(rctx *c, nagm_agm_row *r, int col, const char *s, size_t len)
{
    const char *cname = nagm_agm_col_name(col);
    if (col <= 1) {
        int64_t ns;
        if (nagm_ts_parse(s, len, &ns) != 0)
            return fail(c, "%s: '%.*s' is not an ISO 8601 UTC time", cname, (int)(len > 64 ? 64 : len), s);
        if (col == 0)
            r->window_start_ns = ns;
        else
            r->window_end_ns = ns;
        return 0;
    }
    if (col == 2 || col == 5) {
        char buf[NAGM_ADDR_STRLEN + 1];
        if (len >= sizeof buf)
            return fail(c, "%s: '%.*s' is not an IP address", cname, 64, s);
        memcpy(buf, s, len);
        buf[len] = '\0';
        if (nagm_addr_parse(buf, col == 2 ? &r->src : &r->dst_ip_mode) != 0)
            return fail(c, "%s: '%s' is not an IP address", cname, buf);
        return 0;
    }
    uint64_t v;
    if (parse_u64(s, len, &v) != 0)
        return fail(c, "%s: '%.*s' is not an unsigned integer", cname, (int)(len > 64 ? 64 : len), s);
    if (col == 3) {
        r->pkts = v;
    } else if (col == 4) {
        r->uniq[0] = v;
    } else if (col == 6) {
        r->mode_pkts[0] = v;
    } else {
        int f = 1 + (col - 7) / 3, kind = (col - 7) % 3;
        if (kind == 0) {
            r->uniq[f] = v;
        } else if (kind == 1) {
            if (v > mode_max[f])
                return fail(c, "%s: %" PRIu64 " is out of range (at most %" PRIu64 ")", cname, v,
                            mode_max[f]);
            r->mode[f] = (uint32_t)v;
        } else {
            r->mode_pkts[f] = v;
        }
    }
    return 0;
}

static int check_row(rctx *c, const nagm_agm_row *r)
{
    if (r->pkts == 0)
        return fail(c, "pkts is 0");
    for (int f = 0; f < NAGM_NFIELDS; f++) {
        if (r->uniq[f] < 1 || r->uniq[f] > r->pkts)
            return fail(c, "%s_uniq is %" PRIu64 ", not within 1..pkts (%" PRIu64 ")",
                        nagm_field_name(f), r->uniq[f], r->pkts);
        if (r->mode_pkts[f] < 1 || r->mode_pkts[f] > r->pkts)
            return fail(c, "%s_mode_pkts is %" PRIu64 ", not within 1..pkts (%" PRIu64 ")",
                        nagm_field_name(f), r->mode_pkts[f], r->pkts);
    }
    if (r->src.family != r->dst_ip_mode.family)
        return fail(c, "src_ip and dst_ip_mode are of different address families");
    return 0;
}

/* ---- growing the row array ----------------------------------------------------- */

typedef struct rowbuf {
    nagm_agm_row *rows;
    size_t n, cap;
} rowbuf;

static nagm_agm_row *push(rowbuf *b)
{
    if (b->n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 1024;
        nagm_agm_row *p = realloc(b->rows, nc * sizeof *p);
        if (!p)
            return NULL;
        b->rows = p;
        b->cap = nc;
    }
    nagm_agm_row *r = &b->rows[b->n++];
    memset(r, 0, sizeof *r);
    return r;
}

/* ---- CSV ------------------------------------------------------------------------ */

/* Split one line into fields (RFC 4180 quoting; quotes are removed in place).
 * Returns the number of fields, or -1 on a bad quote. */
static int split_csv(char *line, size_t len, char **f, size_t *flen, int maxf)
{
    int n = 0;
    size_t i = 0;
    for (;;) {
        if (n == maxf)
            return n; /* more columns than we track: ignore the rest */
        if (i < len && line[i] == '"') {
            size_t w = i, r = i + 1;
            for (;;) {
                if (r >= len)
                    return -1;
                if (line[r] == '"') {
                    if (r + 1 < len && line[r + 1] == '"') {
                        line[w++] = '"';
                        r += 2;
                        continue;
                    }
                    r++;
                    break;
                }
                line[w++] = line[r++];
            }
            f[n] = line + i;
            flen[n] = w - i;
            n++;
            if (r < len && line[r] != ',')
                return -1;
            if (r >= len)
                return n;
            i = r + 1;
        } else {
            size_t s = i;
            while (i < len && line[i] != ',')
                i++;
            f[n] = line + s;
            flen[n] = i - s;
            n++;
            if (i >= len)
                return n;
            i++;
        }
    }
}

#define MAX_CSV_COLS 256

static int read_csv(FILE *fp, rctx *c, rowbuf *b)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    int colmap[NAGM_AGM_NCOLS]; /* field index of each AGM column */
    char *f[MAX_CSV_COLS];
    size_t flen[MAX_CSV_COLS];
    int nhdr = -1, rc = 0;
    while ((got = getline(&line, &cap, fp)) != -1) {
        c->line++;
        size_t len = (size_t)got;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (len == 0)
            continue;
        if (c->line == 1 && len >= 3 && !memcmp(line, "\xEF\xBB\xBF", 3)) {
            memmove(line, line + 3, len - 3); /* a byte order mark */
            len -= 3;
        }
        int nf = split_csv(line, len, f, flen, MAX_CSV_COLS);
        if (nf < 0) {
            rc = fail(c, "unbalanced quotes");
            break;
        }
        if (nhdr < 0) {
            for (int i = 0; i < NAGM_AGM_NCOLS; i++) {
                colmap[i] = -1;
                const char *want = nagm_agm_col_name(i);
                for (int j = 0; j < nf; j++)
                    if (flen[j] == strlen(want) && !memcmp(f[j], want, flen[j])) {
                        colmap[i] = j;
                        break;
                    }
                if (colmap[i] < 0) {
                    rc = fail(c, "the header has no column '%s' (is this an AGM table written "
                                 "by netagm agm?)", want);
                    break;
                }
            }
            if (rc)
                break;
            nhdr = nf;
            continue;
        }
        if (nf < nhdr) {
            rc = fail(c, "%d fields, the header has %d", nf, nhdr);
            break;
        }
        nagm_agm_row *r = push(b);
        if (!r) {
            rc = fail(c, "out of memory");
            break;
        }
        for (int i = 0; rc == 0 && i < NAGM_AGM_NCOLS; i++)
            rc = set_col(c, r, i, f[colmap[i]], flen[colmap[i]]);
        if (rc || (rc = check_row(c, r)) != 0)
            break;
    }
    if (rc == 0 && ferror(fp))
        rc = fail(c, "read error: %s", strerror(errno));
    if (rc == 0 && nhdr < 0) {
        c->line = 0;
        rc = fail(c, "empty file: no CSV header");
    }
    free(line);
    return rc;
}

/* ---- JSON Lines ------------------------------------------------------------------- */

static int read_jsonl(FILE *fp, rctx *c, rowbuf *b)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    int rc = 0;
    while ((got = getline(&line, &cap, fp)) != -1) {
        c->line++;
        size_t len = (size_t)got;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' '))
            len--;
        if (len == 0)
            continue;
        cJSON *o = cJSON_ParseWithLength(line, len);
        if (!o || !cJSON_IsObject(o)) {
            cJSON_Delete(o);
            rc = fail(c, "not a JSON object");
            break;
        }
        nagm_agm_row *r = push(b);
        if (!r) {
            cJSON_Delete(o);
            rc = fail(c, "out of memory");
            break;
        }
        for (int i = 0; rc == 0 && i < NAGM_AGM_NCOLS; i++) {
            const char *k = nagm_agm_col_name(i);
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
            char num[32];
            if (!v) {
                rc = fail(c, "no key \"%s\"", k);
            } else if (cJSON_IsString(v)) {
                rc = set_col(c, r, i, v->valuestring, strlen(v->valuestring));
            } else if (cJSON_IsNumber(v) && v->valuedouble >= 0 &&
                       v->valuedouble < 9007199254740992.0) {
                /* Below 2^53 a double holds the integer exactly; from there
                 * on 2^53 + 1 would read silently as 2^53. */
                snprintf(num, sizeof num, "%.0f", v->valuedouble);
                if (v->valuedouble != (double)(uint64_t)v->valuedouble)
                    rc = fail(c, "%s: %g is not an unsigned integer", k, v->valuedouble);
                else
                    rc = set_col(c, r, i, num, strlen(num));
            } else {
                rc = fail(c, "%s: not a string or an unsigned integer", k);
            }
        }
        cJSON_Delete(o);
        if (rc || (rc = check_row(c, r)) != 0)
            break;
    }
    if (rc == 0 && ferror(fp))
        rc = fail(c, "read error: %s", strerror(errno));
    free(line);
    return rc;
}

/* ---- entry points ------------------------------------------------------------------ */

int nagm_agm_read_fp(FILE *fp, const char *name, nagm_format fmt, nagm_agm_row **rows,
                     size_t *n, char *errbuf)
{
    rctx c = {name, 0, errbuf};
    rowbuf b = {NULL, 0, 0};
    *rows = NULL;
    *n = 0;
    if (fmt == NAGM_FMT_PARQUET)
        return fail(&c, "reading Parquet AGM tables is not supported; write the table as CSV "
                        "or JSON Lines (netagm agm -o agm.csv)");
    if (fmt == NAGM_FMT_AUTO) {
        int ch;
        while ((ch = getc(fp)) == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
            ;
        if (ch != EOF)
            ungetc(ch, fp);
        fmt = ch == '{' ? NAGM_FMT_JSONL : NAGM_FMT_CSV;
    }
    int rc = fmt == NAGM_FMT_JSONL ? read_jsonl(fp, &c, &b) : read_csv(fp, &c, &b);
    if (rc) {
        free(b.rows);
        return -1;
    }
    *rows = b.rows;
    *n = b.n;
    return 0;
}

int nagm_agm_read(const char *path, nagm_format fmt, nagm_agm_row **rows, size_t *n,
                  char *errbuf)
{
    *rows = NULL;
    *n = 0;
    if (fmt == NAGM_FMT_AUTO && strcmp(path, "-"))
        fmt = nagm_format_from_path(path);
    FILE *fp = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!fp) {
        snprintf(errbuf, NAGM_AGM_READ_ERRBUF, "%s: %s", path, strerror(errno));
        return -1;
    }
    /* Parquet files start with "PAR1" whatever their name. */
    unsigned char magic[4];
    if (fp != stdin && fmt != NAGM_FMT_PARQUET && fread(magic, 1, 4, fp) == 4 &&
        !memcmp(magic, "PAR1", 4))
        fmt = NAGM_FMT_PARQUET;
    if (fp != stdin)
        rewind(fp);
    int rc = nagm_agm_read_fp(fp, path, fmt, rows, n, errbuf);
    if (fp != stdin)
        fclose(fp);
    return rc;
}
