/* Reading AGM tables (CSV, JSON Lines, Parquet) back into rows. The columns
 * are found by name, so tables with extra columns, or columns in another
 * order, read the same. Every value is checked; a bad value names its line
 * (row, for Parquet) and column. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/parquet_read.h"
#include "netagm/agm_read.h"
#include "util/cursor.h"

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
    size_t line;      /* 1-based line (text) or row (Parquet); 0: none */
    const char *unit; /* "line" or "row" */
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
        snprintf(c->errbuf, NAGM_AGM_READ_ERRBUF, "%s: %s %zu: %s", c->name, c->unit, c->line,
                 msg);
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

/* Store the count or mode v in column col (3..24, agm.md order) of row r. */
static int set_num(rctx *c, nagm_agm_row *r, int col, uint64_t v)
{
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
                return fail(c, "%s: %" PRIu64 " is out of range (at most %" PRIu64 ")",
                            nagm_agm_col_name(col), v, mode_max[f]);
            r->mode[f] = (uint32_t)v;
        } else {
            r->mode_pkts[f] = v;
        }
    }
    return 0;
}

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
            return fail(c, "%s: '%.*s' is not an IP address", cname, (int)(len > 64 ? 64 : len),
                        s);
        memcpy(buf, s, len);
        buf[len] = '\0';
        if (nagm_addr_parse(buf, col == 2 ? &r->src : &r->dst_ip_mode) != 0)
            return fail(c, "%s: '%s' is not an IP address", cname, buf);
        return 0;
    }
    uint64_t v;
    if (parse_u64(s, len, &v) != 0)
        return fail(c, "%s: '%.*s' is not an unsigned integer", cname, (int)(len > 64 ? 64 : len), s);
    return set_num(c, r, col, v);
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

/* ---- Parquet ---------------------------------------------------------------------- */

/* How the values of one AGM column are taken from its Parquet column. */
typedef struct pq_conv {
    size_t leaf;     /* the column's index in the file */
    int type;        /* its physical type */
    int text;        /* BYTE_ARRAY: parsed like the CSV text */
    int int96;       /* INT96 timestamp (Julian day + nanoseconds of the day) */
    int64_t ns_mult; /* INT64 timestamp: nanoseconds per unit */
    int is_unsigned; /* integer annotated as unsigned */
} pq_conv;

static const char *pq_type_name(int t)
{
    static const char *const names[] = {"BOOLEAN", "INT32", "INT64", "INT96", "FLOAT",
                                        "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
    return t >= 0 && t < 8 ? names[t] : "an unknown type";
}

/* Accept the types netagm writes and what other writers use for the same
 * table: strings parsed like the CSV text in any column; INT64 timestamps
 * of any unit and INT96 (legacy) timestamps; INT32 or INT64 integers,
 * signed or unsigned. */
static int pq_check_type(rctx *c, int col, const nagm_pqr_col *pc, pq_conv *cv)
{
    const char *cname = nagm_agm_col_name(col);
    const char *tn = pq_type_name(pc->type);
    cv->type = pc->type;
    if (pc->max_rep > 0 || pc->max_def > 1)
        return fail(c, "column %s is repeated or nested; AGM columns are flat", cname);
    if (pc->type == NAGM_PQR_BYTE_ARRAY) {
        cv->text = 1;
        return 0;
    }
    if (col == 2 || col == 5)
        return fail(c, "column %s is %s; an address must be a string (BYTE_ARRAY)", cname, tn);
    if (col <= 1) {
        if (pc->type == NAGM_PQR_INT96) {
            cv->int96 = 1;
            return 0;
        }
        int unit = pc->time_unit;
        if (pc->logical == 0 && pc->converted == NAGM_PQR_CT_TIMESTAMP_MILLIS)
            unit = 1;
        else if (pc->logical == 0 && pc->converted == NAGM_PQR_CT_TIMESTAMP_MICROS)
            unit = 2;
        if (pc->type != NAGM_PQR_INT64)
            return fail(c, "column %s is %s, not a timestamp", cname, tn);
        if (unit < 1 || unit > 3)
            return fail(c, "column %s is INT64 without a TIMESTAMP type: its unit is unknown",
                        cname);
        cv->ns_mult = unit == 1 ? 1000000 : unit == 2 ? 1000 : 1;
        return 0;
    }
    if (pc->type != NAGM_PQR_INT32 && pc->type != NAGM_PQR_INT64)
        return fail(c, "column %s is %s; counts and modes must be integers", cname, tn);
    int conv_int = pc->converted >= NAGM_PQR_CT_UINT_8 && pc->converted <= NAGM_PQR_CT_INT_64;
    if ((pc->logical != 0 && pc->logical != NAGM_PQR_LT_INTEGER) ||
        (pc->converted >= 0 && !conv_int))
        return fail(c, "column %s is %s annotated as something else than an integer", cname, tn);
    cv->is_unsigned = (pc->logical == NAGM_PQR_LT_INTEGER && !pc->int_signed) ||
                      (pc->logical == 0 && pc->converted >= NAGM_PQR_CT_UINT_8 &&
                       pc->converted <= NAGM_PQR_CT_UINT_64);
    return 0;
}

/* Julian day number of 1970-01-01 (INT96 timestamps count days from it). */
#define JULIAN_EPOCH 2440588
#define NS_PER_DAY 86400000000000LL

static int pq_set(rctx *c, nagm_agm_row *r, int col, const pq_conv *cv, const nagm_pqr_value *v)
{
    const char *cname = nagm_agm_col_name(col);
    if (v->null)
        return fail(c, "%s is NULL", cname);
    if (cv->text)
        return set_col(c, r, col, (const char *)v->s, v->len);
    if (col <= 1) {
        __int128 t;
        if (cv->int96) {
            nagm_cur b = nagm_cur_make(v->s, v->len);
            int64_t nanos = (int64_t)nagm_cur_le64(&b);
            uint32_t day = nagm_cur_le32(&b);
            if (b.err || nanos < 0 || nanos >= NS_PER_DAY)
                return fail(c, "%s: not an INT96 timestamp", cname);
            t = ((__int128)day - JULIAN_EPOCH) * NS_PER_DAY + nanos;
        } else {
            t = (__int128)v->i * cv->ns_mult;
        }
        if (t < INT64_MIN || t > INT64_MAX)
            return fail(c, "%s: the time is out of range", cname);
        if (col == 0)
            r->window_start_ns = (int64_t)t;
        else
            r->window_end_ns = (int64_t)t;
        return 0;
    }
    uint64_t u;
    if (cv->is_unsigned)
        u = cv->type == NAGM_PQR_INT32 ? (uint32_t)v->i : (uint64_t)v->i;
    else if (v->i < 0)
        return fail(c, "%s: %" PRId64 " is negative", cname, v->i);
    else
        u = (uint64_t)v->i;
    return set_num(c, r, col, u);
}

static int pq_error(rctx *c, const char *msg)
{
    snprintf(c->errbuf, NAGM_AGM_READ_ERRBUF, "%s", msg);
    return -1;
}

/* Read the rows of an open Parquet file, one row group and one column at a
 * time (so one page and one dictionary are held besides the rows). */
static int read_parquet(nagm_pqr *pr, rctx *c, rowbuf *b)
{
    pq_conv cv[NAGM_AGM_NCOLS];
    memset(cv, 0, sizeof cv);
    size_t ncols = nagm_pqr_ncols(pr);
    for (int i = 0; i < NAGM_AGM_NCOLS; i++) {
        const char *want = nagm_agm_col_name(i);
        size_t j = 0;
        for (; j < ncols; j++) {
            const nagm_pqr_col *pc = nagm_pqr_column(pr, j);
            if (pc->top && !strcmp(pc->name, want))
                break;
        }
        if (j == ncols)
            return fail(c, "no column '%s' (is this an AGM table written by netagm agm?)", want);
        cv[i].leaf = j;
        if (pq_check_type(c, i, nagm_pqr_column(pr, j), &cv[i]) < 0)
            return -1;
    }
    uint64_t total = nagm_pqr_num_rows(pr);
    if (total > SIZE_MAX / sizeof(nagm_agm_row))
        return fail(c, "out of memory");
    if (total > 0) {
        b->rows = calloc((size_t)total, sizeof *b->rows);
        if (!b->rows)
            return fail(c, "out of memory (%" PRIu64 " rows)", total);
        b->cap = (size_t)total;
    }
    size_t base = 0;
    for (size_t g = 0; g < nagm_pqr_nrow_groups(pr); g++) {
        size_t n = (size_t)nagm_pqr_rg_rows(pr, g);
        if (n == 0) /* nothing to read; some writers leave its offsets at 0 */
            continue;
        for (int i = 0; i < NAGM_AGM_NCOLS; i++) {
            nagm_pqr_chunk *ch;
            if (nagm_pqr_chunk_open(pr, g, cv[i].leaf, &ch) < 0)
                return pq_error(c, nagm_pqr_error(pr));
            int rc = 0;
            for (size_t k = 0; k < n && rc == 0; k++) {
                nagm_pqr_value v;
                c->line = base + k + 1;
                if (nagm_pqr_next(ch, &v) < 0)
                    rc = pq_error(c, nagm_pqr_error(pr));
                else
                    rc = pq_set(c, &b->rows[base + k], i, &cv[i], &v);
            }
            nagm_pqr_chunk_close(ch);
            if (rc)
                return -1;
        }
        for (size_t k = 0; k < n; k++) {
            c->line = base + k + 1;
            if (check_row(c, &b->rows[base + k]) < 0)
                return -1;
        }
        base += n;
    }
    b->n = base;
    return 0;
}

static int parquet_from_mem(const uint8_t *p, size_t n, rctx *c, rowbuf *b)
{
    nagm_pqr *pr;
    char eb[NAGM_PQR_ERRBUF];
    if (nagm_pqr_open_mem(p, n, c->name, NULL, &pr, eb) < 0)
        return pq_error(c, eb);
    int rc = read_parquet(pr, c, b);
    nagm_pqr_close(pr);
    return rc;
}

/* Read the rest of fp into a malloc'd buffer, after the `pre` bytes given. */
static int slurp(FILE *fp, const void *pre, size_t npre, uint8_t **out, size_t *n)
{
    size_t cap = 1 << 16, len = npre;
    uint8_t *p = malloc(cap);
    if (!p)
        return -1;
    if (npre)
        memcpy(p, pre, npre);
    for (;;) {
        if (len == cap) {
            uint8_t *q = cap <= SIZE_MAX / 2 ? realloc(p, cap * 2) : NULL;
            if (!q) {
                free(p);
                return -1;
            }
            p = q;
            cap *= 2;
        }
        size_t k = fread(p + len, 1, cap - len, fp);
        len += k;
        if (k == 0)
            break;
    }
    if (ferror(fp)) {
        free(p);
        return -1;
    }
    *out = p;
    *n = len;
    return 0;
}

/* A Parquet table on fp: read in place (pread) when fp is a regular file,
 * else from memory. */
static int parquet_from_fp(FILE *fp, rctx *c, rowbuf *b)
{
    struct stat st;
    int fd = fileno(fp);
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        nagm_pqr *pr;
        char eb[NAGM_PQR_ERRBUF];
        if (nagm_pqr_open_fd(fd, c->name, NULL, &pr, eb) < 0)
            return pq_error(c, eb);
        int rc = read_parquet(pr, c, b);
        nagm_pqr_close(pr);
        return rc;
    }
    uint8_t *p;
    size_t n;
    if (slurp(fp, NULL, 0, &p, &n) < 0)
        return fail(c, "read error: %s", strerror(errno));
    int rc = parquet_from_mem(p, n, c, b);
    free(p);
    return rc;
}

/* ---- entry points ------------------------------------------------------------------ */

static int read_text(FILE *fp, nagm_format fmt, rctx *c, rowbuf *b)
{
    if (fmt == NAGM_FMT_AUTO) {
        int ch;
        while ((ch = getc(fp)) == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
            ;
        if (ch != EOF)
            ungetc(ch, fp);
        fmt = ch == '{' ? NAGM_FMT_JSONL : NAGM_FMT_CSV;
    }
    return fmt == NAGM_FMT_JSONL ? read_jsonl(fp, c, b) : read_csv(fp, c, b);
}

/* Format unknown: a stream starting with 'P' is read whole to look for the
 * Parquet magic (a stream cannot be rewound); anything else is text. */
static int read_auto(FILE *fp, rctx *c, rowbuf *b)
{
    int ch = getc(fp);
    if (ch != 'P') {
        if (ch != EOF)
            ungetc(ch, fp);
        return read_text(fp, NAGM_FMT_AUTO, c, b);
    }
    uint8_t *p;
    size_t n;
    if (slurp(fp, "P", 1, &p, &n) < 0)
        return fail(c, "read error: %s", strerror(errno));
    int rc;
    if (n >= 4 && !memcmp(p, "PAR1", 4)) {
        c->unit = "row";
        rc = parquet_from_mem(p, n, c, b);
    } else {
        FILE *m = fmemopen(p, n, "r");
        rc = m ? read_text(m, NAGM_FMT_AUTO, c, b) : fail(c, "out of memory");
        if (m)
            fclose(m);
    }
    free(p);
    return rc;
}

int nagm_agm_read_fp(FILE *fp, const char *name, nagm_format fmt, nagm_agm_row **rows,
                     size_t *n, char *errbuf)
{
    rctx c = {name, 0, "line", errbuf};
    rowbuf b = {NULL, 0, 0};
    *rows = NULL;
    *n = 0;
    int rc;
    if (fmt == NAGM_FMT_PARQUET) {
        c.unit = "row";
        rc = parquet_from_fp(fp, &c, &b);
    } else if (fmt == NAGM_FMT_AUTO) {
        rc = read_auto(fp, &c, &b);
    } else {
        rc = read_text(fp, fmt, &c, &b);
    }
    if (rc) {
        free(b.rows);
        return -1;
    }
    if (b.n == 0) { /* the contract: NULL when there are no rows */
        free(b.rows);
        b.rows = NULL;
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
