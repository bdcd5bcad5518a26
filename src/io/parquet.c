/* Parquet file writer: flat schema of REQUIRED columns, data pages v1,
 * PLAIN and RLE_DICTIONARY encodings, per-chunk statistics.
 *
 * File layout (parquet-format README):
 *
 *   "PAR1" <column chunk 0 of row group 0> ... <column chunk N of row group M>
 *   <FileMetaData, Thrift compact> <4-byte little-endian footer length> "PAR1"
 *
 * A column chunk is [dictionary page] data page+, each page a Thrift
 * PageHeader followed by the (compressed) page body. REQUIRED columns have no
 * repetition or definition levels, so a v1 data page body is just the values.
 *
 * While a row group fills, each column keeps its finished pages compressed in
 * memory (they must be contiguous in the file), its current page's values and
 * its dictionary. When the plain-encoded size of the group's values reaches
 * row_group_bytes, the group is written out and the buffers reused: memory is
 * bounded by about one row group, compressed.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/parquet_codec.h"
#include "io/parquet_rle.h"
#include "io/thrift.h"
#include "netagm/parquet.h"

#ifndef NETAGM_VERSION
#define NETAGM_VERSION "0.1.0"
#endif

/* parquet.thrift enum values used below. */
enum { PT_INT32 = 1, PT_INT64 = 2, PT_DOUBLE = 5, PT_BYTE_ARRAY = 6 };
enum { CT_UTF8 = 0, CT_TIMESTAMP_MICROS = 10, CT_INT_32 = 17, CT_INT_64 = 18 };
enum { ENC_PLAIN = 0, ENC_RLE = 3, ENC_RLE_DICTIONARY = 8 };
enum { PAGE_DATA = 0, PAGE_DICTIONARY = 2 };
enum { REP_REQUIRED = 0 };

/* Largest page or dictionary we allow: page sizes are i32 in the format. */
#define MAX_PAGE_BYTES (256u * 1024 * 1024)

typedef struct pq_col {
    char *name;
    nagm_pq_type type;
    int want_dict;  /* schema asks for a dictionary */
    int dict_on;    /* dictionary encoding still active in this row group */
    int used_dict;  /* a dictionary-encoded page was written in this group */
    int used_plain; /* a PLAIN page was written in this group */

    /* Current page: plain-encoded values, or dictionary indices. */
    nagm_bytes page;
    uint32_t *idx;
    size_t nidx, idxcap;
    uint64_t page_plain; /* plain-encoded bytes of the current page's values */
    uint32_t page_values;

    /* Dictionary: plain-encoded entries, their offsets, an open-addressing
     * table of entry index + 1 (0 = empty). */
    nagm_bytes dict;
    uint32_t *dict_off;
    uint32_t ndict, dict_off_cap;
    uint32_t *slots;
    uint32_t nslots; /* power of two */

    /* Finished data pages of this chunk (headers + compressed bodies). */
    nagm_bytes chunk;
    uint64_t chunk_uncomp; /* uncompressed size of those pages incl. headers */
    uint64_t rg_values;    /* values set in this row group */

    /* Chunk statistics. has_stats: some value (for DOUBLE: some value that
     * is not NaN) has been seen. */
    int has_stats;
    int64_t imin, imax;
    double dmin, dmax;
    uint64_t nan_count;
    nagm_bytes smin, smax;
} pq_col;

struct nagm_pq_writer {
    FILE *fp;
    int own_fp;
    char *iobuf; /* stdio buffer of an owned file; freed after fclose */
    pq_col *cols;
    size_t ncols;
    char **kv; /* key, value, ..., NULL */
    nagm_parquet_opts o;
    nagm_pq_comp *comp;

    uint64_t off;       /* bytes written to fp */
    uint64_t rows;      /* rows finished in the file */
    uint64_t rg_rows;   /* rows finished in the current group */
    uint64_t rg_plain;  /* plain-encoded bytes of the current group */
    nagm_bytes rg_meta; /* serialized RowGroup structs, one per written group */
    uint32_t nrg;

    nagm_bytes cbuf;  /* scratch: compressed page body */
    nagm_bytes hbuf;  /* scratch: page header */
    nagm_bytes ebuf;  /* scratch: encoded dictionary page body */
    int failed;
    char err[NAGM_PQ_ERRBUF_SIZE];
};

/* ---- options ------------------------------------------------------------- */

static const struct {
    const char *name;
    nagm_pq_codec codec;
} codec_names[] = {
    {"none", NAGM_PQ_UNCOMPRESSED}, {"uncompressed", NAGM_PQ_UNCOMPRESSED},
    {"zstd", NAGM_PQ_ZSTD},         {"snappy", NAGM_PQ_SNAPPY},
    {"gzip", NAGM_PQ_GZIP},
};

int nagm_pq_codec_from_name(const char *name, nagm_pq_codec *out)
{
    for (size_t i = 0; i < sizeof codec_names / sizeof codec_names[0]; i++) {
        if (strcmp(name, codec_names[i].name) == 0) {
            *out = codec_names[i].codec;
            return 0;
        }
    }
    return -1;
}

const char *nagm_pq_codec_name(nagm_pq_codec c)
{
    switch (c) {
    case NAGM_PQ_UNCOMPRESSED:
        return "none";
    case NAGM_PQ_SNAPPY:
        return "snappy";
    case NAGM_PQ_GZIP:
        return "gzip";
    case NAGM_PQ_ZSTD:
        return "zstd";
    }
    return "?";
}

void nagm_parquet_opts_init(nagm_parquet_opts *o)
{
    memset(o, 0, sizeof *o);
    o->codec = NAGM_PQ_ZSTD;
    o->row_group_bytes = NAGM_PQ_DEFAULT_ROW_GROUP_BYTES;
    o->page_bytes = NAGM_PQ_DEFAULT_PAGE_BYTES;
}

int nagm_pq_parse_size(const char *s, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return -1;
    uint64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    unsigned shift = 0;
    if (*s == 'k' || *s == 'K')
        shift = 10;
    else if (*s == 'm' || *s == 'M')
        shift = 20;
    else if (*s == 'g' || *s == 'G')
        shift = 30;
    if (shift) {
        s++;
        if (*s == 'i' && s[1] == 'B')
            s += 2;
        else if (*s == 'B')
            s++;
    }
    if (*s != '\0' || v == 0 || v > (UINT64_MAX >> shift))
        return -1;
    *out = v << shift;
    return 0;
}

int64_t nagm_ns_to_us_floor(int64_t ns)
{
    int64_t q = ns / 1000;
    return (ns % 1000 < 0) ? q - 1 : q;
}

/* ---- errors and output ------------------------------------------------------ */

static void fail(nagm_pq_writer *w, const char *fmt, ...)
{
    if (w->failed)
        return; /* keep the first cause */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, sizeof w->err, fmt, ap);
    va_end(ap);
    w->failed = 1;
}

static int out_write(nagm_pq_writer *w, const void *p, size_t n)
{
    if (w->failed)
        return -1;
    if (n && fwrite(p, 1, n, w->fp) != n) {
        fail(w, "parquet: write failed: %s", strerror(errno ? errno : EIO));
        return -1;
    }
    w->off += n;
    return 0;
}

/* ---- statistics ----------------------------------------------------------- */

static int bytes_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    /* Unsigned byte-wise order, a prefix first: the STRING column order. */
    size_t m = an < bn ? an : bn;
    int c = m ? memcmp(a, b, m) : 0;
    if (c)
        return c;
    return an < bn ? -1 : an > bn;
}

static void stat_int(pq_col *c, int64_t v)
{
    if (!c->has_stats) {
        c->imin = c->imax = v;
        c->has_stats = 1;
        return;
    }
    if (v < c->imin)
        c->imin = v;
    if (v > c->imax)
        c->imax = v;
}

/* parquet.thrift, ColumnOrder: for floating point under TYPE_ORDER, NaN
 * never goes into min or max (it is counted in nan_count instead; see
 * write_stats), and a zero bound is written as -0.0 (min) or +0.0 (max)
 * whatever sign it had, so the comparison here need not order -0.0 before
 * +0.0. */
static void stat_double(pq_col *c, double v)
{
    if (isnan(v)) {
        c->nan_count++;
        return;
    }
    if (!c->has_stats) {
        c->dmin = c->dmax = v;
        c->has_stats = 1;
        return;
    }
    if (v < c->dmin)
        c->dmin = v;
    if (v > c->dmax)
        c->dmax = v;
}

static int stat_str(pq_col *c, const uint8_t *s, size_t n)
{
    if (!c->has_stats || bytes_cmp(s, n, c->smin.p, c->smin.len) < 0) {
        c->smin.len = 0;
        if (nagm_bytes_put(&c->smin, s, n) < 0)
            return -1;
    }
    if (!c->has_stats || bytes_cmp(s, n, c->smax.p, c->smax.len) > 0) {
        c->smax.len = 0;
        if (nagm_bytes_put(&c->smax, s, n) < 0)
            return -1;
    }
    c->has_stats = 1;
    return 0;
}

/* ---- pages -------------------------------------------------------------------- */

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void put_le64(uint8_t *p, uint64_t v)
{
    put_le32(p, (uint32_t)v);
    put_le32(p + 4, (uint32_t)(v >> 32));
}

/* Serialize a PageHeader into w->hbuf. */
static int page_header(nagm_pq_writer *w, int type, size_t uncomp, size_t comp, uint32_t nvalues,
                       int encoding)
{
    nagm_tc t;
    w->hbuf.len = 0;
    nagm_tc_init(&t, &w->hbuf);
    nagm_tc_struct_begin(&t);
    nagm_tc_field_i32(&t, 1, type);
    nagm_tc_field_i32(&t, 2, (int32_t)uncomp);
    nagm_tc_field_i32(&t, 3, (int32_t)comp);
    if (type == PAGE_DATA) {
        nagm_tc_field_struct_begin(&t, 5); /* DataPageHeader */
        nagm_tc_field_i32(&t, 1, (int32_t)nvalues);
        nagm_tc_field_i32(&t, 2, encoding);
        nagm_tc_field_i32(&t, 3, ENC_RLE); /* definition levels (none present) */
        nagm_tc_field_i32(&t, 4, ENC_RLE); /* repetition levels (none present) */
        nagm_tc_struct_end(&t);
    } else {
        nagm_tc_field_struct_begin(&t, 7); /* DictionaryPageHeader */
        nagm_tc_field_i32(&t, 1, (int32_t)nvalues);
        nagm_tc_field_i32(&t, 2, ENC_PLAIN);
        nagm_tc_field_bool(&t, 3, 0);
        nagm_tc_struct_end(&t);
    }
    nagm_tc_struct_end(&t);
    if (t.err) {
        fail(w, "parquet: out of memory");
        return -1;
    }
    return 0;
}

/* Compress body into w->cbuf and build its header in w->hbuf. */
static int make_page(nagm_pq_writer *w, int type, const uint8_t *body, size_t n,
                     uint32_t nvalues, int encoding)
{
    w->cbuf.len = 0;
    if (nagm_pq_compress(w->comp, body, n, &w->cbuf) < 0) {
        fail(w, "parquet: %s compression failed", nagm_pq_codec_name(w->o.codec));
        return -1;
    }
    if (n > INT32_MAX || w->cbuf.len > INT32_MAX) {
        fail(w, "parquet: page too large");
        return -1;
    }
    return page_header(w, type, n, w->cbuf.len, nvalues, encoding);
}

/* Encode the current page of c (if any values) and append it to c->chunk. */
static int flush_page(nagm_pq_writer *w, pq_col *c)
{
    if (c->page_values == 0)
        return 0;
    const uint8_t *body;
    size_t n;
    int enc;
    if (c->dict_on) {
        /* <bit width byte> <RLE/bit-packed hybrid indices> */
        w->ebuf.len = 0;
        uint8_t bw = (uint8_t)nagm_pq_bit_width(c->ndict ? c->ndict - 1 : 0);
        if (nagm_bytes_put(&w->ebuf, &bw, 1) < 0 ||
            nagm_pq_rle_encode(c->idx, c->nidx, bw, &w->ebuf) < 0) {
            fail(w, "parquet: out of memory");
            return -1;
        }
        body = w->ebuf.p;
        n = w->ebuf.len;
        enc = ENC_RLE_DICTIONARY;
        c->used_dict = 1;
    } else {
        body = c->page.p;
        n = c->page.len;
        enc = ENC_PLAIN;
        c->used_plain = 1;
    }
    if (make_page(w, PAGE_DATA, body, n, c->page_values, enc) < 0)
        return -1;
    if (nagm_bytes_put(&c->chunk, w->hbuf.p, w->hbuf.len) < 0 ||
        nagm_bytes_put(&c->chunk, w->cbuf.p, w->cbuf.len) < 0) {
        fail(w, "parquet: out of memory");
        return -1;
    }
    c->chunk_uncomp += w->hbuf.len + n;
    c->page.len = 0;
    c->nidx = 0;
    c->page_plain = 0;
    c->page_values = 0;
    return 0;
}

/* ---- dictionary --------------------------------------------------------------- */

/* Dictionary keys are short (4- or 8-byte integers, addresses of at most 45
 * bytes): mix them 8 bytes at a time. */
static uint32_t hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = (uint64_t)n * 0x9E3779B97F4A7C15ull, v;
    for (; n >= 8; p += 8, n -= 8) {
        memcpy(&v, p, 8);
        h = (h ^ v) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    v = 0;
    if (n)
        memcpy(&v, p, n);
    h = (h ^ v) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return (uint32_t)h;
}

/* Plain encoding of entry i of the dictionary. */
static const uint8_t *dict_entry(const pq_col *c, uint32_t i, size_t *n)
{
    const uint8_t *p = c->dict.p + c->dict_off[i];
    if (c->type == NAGM_PQ_STRING) {
        *n = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
        return p + 4;
    }
    *n = c->type == NAGM_PQ_INT32 ? 4 : 8;
    return p;
}

static int dict_grow(pq_col *c)
{
    uint32_t ns = c->nslots ? c->nslots * 2 : 1024;
    uint32_t *s = calloc(ns, sizeof *s);
    if (!s)
        return -1;
    for (uint32_t i = 0; i < c->ndict; i++) {
        size_t n;
        const uint8_t *p = dict_entry(c, i, &n);
        uint32_t k = hash_bytes(p, n) & (ns - 1);
        while (s[k])
            k = (k + 1) & (ns - 1);
        s[k] = i + 1;
    }
    free(c->slots);
    c->slots = s;
    c->nslots = ns;
    return 0;
}

static inline int key_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
    if (n == 4) {
        uint32_t x, y;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        return x == y;
    }
    if (n == 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        return x == y;
    }
    return memcmp(a, b, n) == 0;
}

/* Look up the plain-encoded value enc[0..n) (value bytes without the length
 * prefix for strings) and add it when new. Returns the index, -1 on ENOMEM,
 * -2 when the dictionary is full (the caller falls back to PLAIN). */
static int64_t dict_index(nagm_pq_writer *w, pq_col *c, const uint8_t *v, size_t n)
{
    if (!c->nslots && dict_grow(c) < 0)
        return -1;
    uint32_t h = hash_bytes(v, n);
    uint32_t k = h & (c->nslots - 1);
    while (c->slots[k]) {
        size_t en;
        const uint8_t *e = dict_entry(c, c->slots[k] - 1, &en);
        if (en == n && key_eq(e, v, n))
            return c->slots[k] - 1;
        k = (k + 1) & (c->nslots - 1);
    }
    size_t plain = (c->type == NAGM_PQ_STRING ? 4 : 0) + n;
    if (c->dict.len + plain > w->o.page_bytes)
        return -2;
    if (c->ndict == c->dict_off_cap) {
        uint32_t nc = c->dict_off_cap ? c->dict_off_cap * 2 : 256;
        uint32_t *no = realloc(c->dict_off, nc * sizeof *no);
        if (!no)
            return -1;
        c->dict_off = no;
        c->dict_off_cap = nc;
    }
    if (nagm_bytes_reserve(&c->dict, plain) < 0)
        return -1;
    c->dict_off[c->ndict] = (uint32_t)c->dict.len;
    if (c->type == NAGM_PQ_STRING) {
        put_le32(c->dict.p + c->dict.len, (uint32_t)n);
        c->dict.len += 4;
    }
    memcpy(c->dict.p + c->dict.len, v, n);
    c->dict.len += n;
    uint32_t idx = c->ndict++;
    c->slots[k] = idx + 1;
    /* Keep the table at most half full. */
    if ((uint64_t)c->ndict * 2 > c->nslots && dict_grow(c) < 0)
        return -1;
    return idx;
}

/* ---- values ---------------------------------------------------------------------- */

/* Which setter a column type takes. */
enum { SET_I32, SET_I64, SET_STR, SET_F64 };

static int setter_of(nagm_pq_type t)
{
    switch (t) {
    case NAGM_PQ_INT32:
        return SET_I32;
    case NAGM_PQ_INT64:
    case NAGM_PQ_TS_MICROS:
        return SET_I64;
    case NAGM_PQ_STRING:
        return SET_STR;
    case NAGM_PQ_DOUBLE:
        return SET_F64;
    }
    return -1;
}

/* Common checks of a put: column exists, right type, not yet set this row. */
static pq_col *put_col(nagm_pq_writer *w, size_t col, int setter)
{
    if (w->failed)
        return NULL;
    if (col >= w->ncols) {
        fail(w, "parquet: column %zu out of range", col);
        return NULL;
    }
    pq_col *c = &w->cols[col];
    if (setter_of(c->type) != setter) {
        fail(w, "parquet: column %s set with the wrong type", c->name);
        return NULL;
    }
    if (c->rg_values != w->rg_rows) {
        fail(w, "parquet: column %s set twice in one row", c->name);
        return NULL;
    }
    return c;
}

/* Add one value, given as its plain value bytes (without a length prefix). */
static void add_value(nagm_pq_writer *w, pq_col *c, const uint8_t *v, size_t n)
{
    size_t plain = (c->type == NAGM_PQ_STRING ? 4 : 0) + n;
    if (c->dict_on) {
        int64_t ix = dict_index(w, c, v, n);
        if (ix == -2) {
            /* Dictionary full: the pending indices become the last dictionary
             * page, PLAIN pages follow for the rest of the group. */
            if (flush_page(w, c) < 0)
                return;
            c->dict_on = 0;
        } else if (ix < 0) {
            fail(w, "parquet: out of memory");
            return;
        } else {
            if (c->nidx == c->idxcap) {
                size_t nc = c->idxcap ? c->idxcap * 2 : 1024;
                uint32_t *ni = realloc(c->idx, nc * sizeof *ni);
                if (!ni) {
                    fail(w, "parquet: out of memory");
                    return;
                }
                c->idx = ni;
                c->idxcap = nc;
            }
            c->idx[c->nidx++] = (uint32_t)ix;
            /* A new entry is the only value that can move the statistics. */
            if ((uint32_t)ix + 1 == c->ndict && c->type == NAGM_PQ_STRING &&
                stat_str(c, v, n) < 0) {
                fail(w, "parquet: out of memory");
                return;
            }
        }
    }
    if (!c->dict_on) {
        if (nagm_bytes_reserve(&c->page, plain) < 0) {
            fail(w, "parquet: out of memory");
            return;
        }
        if (c->type == NAGM_PQ_STRING) {
            put_le32(c->page.p + c->page.len, (uint32_t)n);
            c->page.len += 4;
            if (stat_str(c, v, n) < 0) {
                fail(w, "parquet: out of memory");
                return;
            }
        }
        memcpy(c->page.p + c->page.len, v, n);
        c->page.len += n;
    }
    c->page_plain += plain;
    c->page_values++;
    c->rg_values++;
    w->rg_plain += plain;
    if (c->page_plain >= w->o.page_bytes)
        flush_page(w, c);
}

void nagm_pq_put_i32(nagm_pq_writer *w, size_t col, int32_t v)
{
    pq_col *c = put_col(w, col, SET_I32);
    if (!c)
        return;
    uint8_t b[4];
    put_le32(b, (uint32_t)v);
    stat_int(c, v);
    add_value(w, c, b, 4);
}

void nagm_pq_put_i64(nagm_pq_writer *w, size_t col, int64_t v)
{
    pq_col *c = put_col(w, col, SET_I64);
    if (!c)
        return;
    uint8_t b[8];
    put_le64(b, (uint64_t)v);
    stat_int(c, v);
    add_value(w, c, b, 8);
}

/* IEEE 754 binary64 bits of v, little-endian (PLAIN encoding of DOUBLE). */
static void put_le_double(uint8_t *p, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    put_le64(p, u);
}

void nagm_pq_put_f64(nagm_pq_writer *w, size_t col, double v)
{
    pq_col *c = put_col(w, col, SET_F64);
    if (!c)
        return;
    uint8_t b[8];
    put_le_double(b, v);
    stat_double(c, v);
    add_value(w, c, b, 8);
}

void nagm_pq_put_str(nagm_pq_writer *w, size_t col, const char *s, size_t n)
{
    pq_col *c = put_col(w, col, SET_STR);
    if (!c)
        return;
    if (n > MAX_PAGE_BYTES) {
        fail(w, "parquet: value of column %s too long", c->name);
        return;
    }
    add_value(w, c, n ? (const uint8_t *)s : (const uint8_t *)"", n);
}

/* ---- row groups --------------------------------------------------------------------- */

static int physical_type(nagm_pq_type t)
{
    switch (t) {
    case NAGM_PQ_INT32:
        return PT_INT32;
    case NAGM_PQ_INT64:
    case NAGM_PQ_TS_MICROS:
        return PT_INT64;
    case NAGM_PQ_STRING:
        return PT_BYTE_ARRAY;
    case NAGM_PQ_DOUBLE:
        return PT_DOUBLE;
    }
    return PT_INT64;
}

/* Statistics struct (field id given) of column c. */
static void write_stats(nagm_tc *t, int16_t id, const pq_col *c)
{
    uint8_t mn[8], mx[8];
    const uint8_t *pmn = mn, *pmx = mx;
    size_t n = 0, nmn = 0, nmx = 0;
    if (c->type == NAGM_PQ_INT32) {
        put_le32(mn, (uint32_t)c->imin);
        put_le32(mx, (uint32_t)c->imax);
        n = nmn = nmx = 4;
    } else if (c->type == NAGM_PQ_STRING) {
        pmn = c->smin.p;
        nmn = c->smin.len;
        pmx = c->smax.p;
        nmx = c->smax.len;
    } else if (c->type == NAGM_PQ_DOUBLE) {
        /* A zero bound is -0.0 as min and +0.0 as max (parquet.thrift). */
        put_le_double(mn, c->dmin == 0 ? -0.0 : c->dmin);
        put_le_double(mx, c->dmax == 0 ? 0.0 : c->dmax);
        n = nmn = nmx = 8;
    } else {
        put_le64(mn, (uint64_t)c->imin);
        put_le64(mx, (uint64_t)c->imax);
        n = nmn = nmx = 8;
    }
    /* A DOUBLE chunk holding NaN gets no bounds at all. The format only
     * forbids NaN in them, but readers that order NaN above every number
     * (DuckDB, DataFusion) and do not read nan_count would skip the chunk
     * for "x > 5" on bounds that leave NaN out; without bounds nothing is
     * skipped. nan_count still says how many. */
    int bounds = c->has_stats && !(c->type == NAGM_PQ_DOUBLE && c->nan_count);
    nagm_tc_field_struct_begin(t, id);
    if (bounds && n) {
        /* The deprecated signed min/max agree with the signed integer order
         * (and with the numeric order of doubles, NaN left out), so older
         * readers get them too; never for strings (their legacy order is
         * signed bytes). */
        nagm_tc_field_binary(t, 1, mx, n);
        nagm_tc_field_binary(t, 2, mn, n);
    }
    nagm_tc_field_i64(t, 3, 0); /* null_count: columns are REQUIRED */
    if (bounds) {
        nagm_tc_field_binary(t, 5, pmx, nmx);
        nagm_tc_field_binary(t, 6, pmn, nmn);
        nagm_tc_field_bool(t, 7, 1);
        nagm_tc_field_bool(t, 8, 1);
    }
    /* Required for floating point under TYPE_ORDER, even when 0: it tells
     * readers that there is no NaN outside the bounds. */
    if (c->type == NAGM_PQ_DOUBLE)
        nagm_tc_field_i64(t, 9, (int64_t)c->nan_count);
    nagm_tc_struct_end(t);
}

/* Write the current row group: for each column its dictionary page and data
 * pages; then serialize the RowGroup metadata for the footer. */
static int flush_row_group(nagm_pq_writer *w)
{
    if (w->failed)
        return -1;
    if (w->rg_rows == 0)
        return 0;
    for (size_t i = 0; i < w->ncols; i++)
        if (flush_page(w, &w->cols[i]) < 0)
            return -1;

    uint64_t rg_start = w->off, rg_uncomp = 0;
    nagm_tc t;
    nagm_tc_init(&t, &w->rg_meta);
    nagm_tc_struct_begin(&t); /* RowGroup */
    nagm_tc_field_list_begin(&t, 1, NAGM_TC_STRUCT, (uint32_t)w->ncols);
    for (size_t i = 0; i < w->ncols; i++) {
        pq_col *c = &w->cols[i];
        uint64_t chunk_start = w->off, dict_off = 0, uncomp = c->chunk_uncomp;
        if (c->used_dict) {
            dict_off = w->off;
            if (make_page(w, PAGE_DICTIONARY, c->dict.p, c->dict.len, c->ndict, ENC_PLAIN) < 0 ||
                out_write(w, w->hbuf.p, w->hbuf.len) < 0 || out_write(w, w->cbuf.p, w->cbuf.len) < 0)
                return -1;
            uncomp += w->hbuf.len + c->dict.len;
        }
        uint64_t data_off = w->off;
        if (out_write(w, c->chunk.p, c->chunk.len) < 0)
            return -1;
        uint64_t comp = w->off - chunk_start;
        rg_uncomp += uncomp;

        nagm_tc_struct_begin(&t);       /* ColumnChunk */
        nagm_tc_field_i64(&t, 2, 0);    /* file_offset (deprecated): 0 */
        nagm_tc_field_struct_begin(&t, 3); /* ColumnMetaData */
        nagm_tc_field_i32(&t, 1, physical_type(c->type));
        nagm_tc_field_list_begin(&t, 2, NAGM_TC_I32, 1u + (c->used_dict ? 1u : 0u));
        nagm_tc_i32(&t, ENC_PLAIN); /* the dictionary page and/or plain pages */
        if (c->used_dict)
            nagm_tc_i32(&t, ENC_RLE_DICTIONARY);
        nagm_tc_field_list_begin(&t, 3, NAGM_TC_BINARY, 1);
        nagm_tc_binary(&t, c->name, strlen(c->name));
        nagm_tc_field_i32(&t, 4, (int32_t)w->o.codec);
        nagm_tc_field_i64(&t, 5, (int64_t)w->rg_rows);
        nagm_tc_field_i64(&t, 6, (int64_t)uncomp);
        nagm_tc_field_i64(&t, 7, (int64_t)comp);
        nagm_tc_field_i64(&t, 9, (int64_t)data_off);
        if (c->used_dict)
            nagm_tc_field_i64(&t, 11, (int64_t)dict_off);
        write_stats(&t, 12, c);
        nagm_tc_struct_end(&t); /* ColumnMetaData */
        nagm_tc_struct_end(&t); /* ColumnChunk */

        /* Reset the column for the next group, keeping its buffers. */
        c->chunk.len = 0;
        c->chunk_uncomp = 0;
        c->rg_values = 0;
        c->dict.len = 0;
        c->ndict = 0;
        if (c->slots)
            memset(c->slots, 0, c->nslots * sizeof *c->slots);
        c->dict_on = c->want_dict && !w->o.no_dictionary;
        c->used_dict = c->used_plain = 0;
        c->has_stats = 0;
        c->nan_count = 0;
    }
    nagm_tc_field_i64(&t, 2, (int64_t)rg_uncomp);
    nagm_tc_field_i64(&t, 3, (int64_t)w->rg_rows);
    nagm_tc_field_i64(&t, 5, (int64_t)rg_start);
    nagm_tc_field_i64(&t, 6, (int64_t)(w->off - rg_start));
    if (w->nrg <= INT16_MAX)
        nagm_tc_field_i16(&t, 7, (int16_t)w->nrg); /* ordinal */
    nagm_tc_struct_end(&t);
    if (t.err) {
        fail(w, "parquet: out of memory");
        return -1;
    }
    w->nrg++;
    w->rg_rows = 0;
    w->rg_plain = 0;
    return 0;
}

int nagm_pq_end_row(nagm_pq_writer *w)
{
    if (w->failed)
        return -1;
    for (size_t i = 0; i < w->ncols; i++) {
        if (w->cols[i].rg_values != w->rg_rows + 1) {
            fail(w, "parquet: column %s not set in row %" PRIu64, w->cols[i].name, w->rows);
            return -1;
        }
    }
    w->rg_rows++;
    w->rows++;
    if (w->rg_plain >= w->o.row_group_bytes)
        return flush_row_group(w);
    return 0;
}

uint64_t nagm_pq_rows(const nagm_pq_writer *w)
{
    return w->rows;
}

const char *nagm_pq_error(const nagm_pq_writer *w)
{
    return w->err;
}

/* ---- open / close ------------------------------------------------------------------- */

static void writer_free(nagm_pq_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->ncols; i++) {
        pq_col *c = &w->cols[i];
        free(c->name);
        nagm_bytes_free(&c->page);
        free(c->idx);
        nagm_bytes_free(&c->dict);
        free(c->dict_off);
        free(c->slots);
        nagm_bytes_free(&c->chunk);
        nagm_bytes_free(&c->smin);
        nagm_bytes_free(&c->smax);
    }
    free(w->cols);
    if (w->kv) {
        for (size_t i = 0; w->kv[i]; i++)
            free(w->kv[i]);
        free(w->kv);
    }
    nagm_pq_comp_free(w->comp);
    nagm_bytes_free(&w->rg_meta);
    nagm_bytes_free(&w->cbuf);
    nagm_bytes_free(&w->hbuf);
    nagm_bytes_free(&w->ebuf);
    if (w->own_fp && w->fp)
        fclose(w->fp);
    free(w->iobuf);
    free(w);
}

static int set_err(char *errbuf, const char *fmt, ...)
{
    if (errbuf) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, NAGM_PQ_ERRBUF_SIZE, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int nagm_pq_open_fp(FILE *fp, int own_fp, const nagm_pq_column *cols, size_t ncols,
                    const char *const *kv, const nagm_parquet_opts *opts, nagm_pq_writer **out,
                    char *errbuf)
{
    *out = NULL;
    nagm_parquet_opts o;
    if (opts)
        o = *opts;
    else
        nagm_parquet_opts_init(&o);
    if (o.row_group_bytes == 0)
        o.row_group_bytes = NAGM_PQ_DEFAULT_ROW_GROUP_BYTES;
    if (o.page_bytes == 0)
        o.page_bytes = NAGM_PQ_DEFAULT_PAGE_BYTES;
    if (ncols == 0 || ncols > INT32_MAX) {
        if (own_fp)
            fclose(fp);
        return set_err(errbuf, "parquet: a schema needs at least one column");
    }
    if (o.page_bytes > MAX_PAGE_BYTES) {
        if (own_fp)
            fclose(fp);
        return set_err(errbuf, "parquet: page size over %u bytes", MAX_PAGE_BYTES);
    }
    if (o.codec != NAGM_PQ_UNCOMPRESSED && o.codec != NAGM_PQ_SNAPPY && o.codec != NAGM_PQ_GZIP &&
        o.codec != NAGM_PQ_ZSTD) {
        if (own_fp)
            fclose(fp);
        return set_err(errbuf, "parquet: unsupported codec %d", (int)o.codec);
    }

    nagm_pq_writer *w = calloc(1, sizeof *w);
    if (!w) {
        if (own_fp)
            fclose(fp);
        return set_err(errbuf, "parquet: out of memory");
    }
    w->fp = fp;
    w->own_fp = own_fp;
    w->o = o;
    w->cols = calloc(ncols, sizeof *w->cols);
    w->comp = nagm_pq_comp_new(o.codec, o.level);
    if (!w->cols || !w->comp)
        goto nomem;
    w->ncols = ncols;
    for (size_t i = 0; i < ncols; i++) {
        pq_col *c = &w->cols[i];
        if (!cols[i].name || !cols[i].name[0] || (unsigned)cols[i].type > NAGM_PQ_DOUBLE) {
            writer_free(w);
            return set_err(errbuf, "parquet: invalid column %zu", i);
        }
        c->name = strdup(cols[i].name);
        if (!c->name)
            goto nomem;
        c->type = cols[i].type;
        /* Doubles (distances, components) are nearly all distinct: PLAIN. */
        c->want_dict = cols[i].dictionary && c->type != NAGM_PQ_DOUBLE;
        c->dict_on = c->want_dict && !o.no_dictionary;
    }
    if (kv) {
        size_t n = 0;
        while (kv[n])
            n++;
        if (n % 2) {
            writer_free(w);
            return set_err(errbuf, "parquet: key_value_metadata needs key, value pairs");
        }
        w->kv = calloc(n + 1, sizeof *w->kv);
        if (!w->kv)
            goto nomem;
        for (size_t i = 0; i < n; i++)
            if (!(w->kv[i] = strdup(kv[i])))
                goto nomem;
    }
    if (out_write(w, "PAR1", 4) < 0) {
        set_err(errbuf, "%s", w->err);
        writer_free(w);
        return -1;
    }
    *out = w;
    return 0;
nomem:
    writer_free(w);
    return set_err(errbuf, "parquet: out of memory");
}

int nagm_pq_open(const char *path, const nagm_pq_column *cols, size_t ncols,
                 const char *const *kv, const nagm_parquet_opts *opts, nagm_pq_writer **out,
                 char *errbuf)
{
    *out = NULL;
    if (strcmp(path, "-") == 0) {
        if (isatty(STDOUT_FILENO))
            return set_err(errbuf, "refusing to write binary Parquet to a terminal; "
                                   "redirect standard output or give a file name");
        return nagm_pq_open_fp(stdout, 0, cols, ncols, kv, opts, out, errbuf);
    }
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return set_err(errbuf, "%s: %s", path, strerror(errno));
    /* Column chunks go out in large writes already; a bigger stdio buffer
     * (glibc needs it handed over to honour the size) gathers the small
     * dictionary-page headers. */
    char *iobuf = malloc(1u << 20);
    if (iobuf)
        setvbuf(fp, iobuf, _IOFBF, 1u << 20);
    int r = nagm_pq_open_fp(fp, 1, cols, ncols, kv, opts, out, errbuf);
    if (r == 0)
        (*out)->iobuf = iobuf;
    else
        free(iobuf); /* nagm_pq_open_fp closed fp */
    return r;
}

static void schema_element(nagm_tc *t, const pq_col *c)
{
    nagm_tc_struct_begin(t);
    nagm_tc_field_i32(t, 1, physical_type(c->type));
    nagm_tc_field_i32(t, 3, REP_REQUIRED);
    nagm_tc_field_string(t, 4, c->name);
    switch (c->type) {
    case NAGM_PQ_INT32:
        nagm_tc_field_i32(t, 6, CT_INT_32);
        nagm_tc_field_struct_begin(t, 10); /* LogicalType */
        nagm_tc_field_struct_begin(t, 10); /* INTEGER: IntType */
        nagm_tc_field_i8(t, 1, 32);
        nagm_tc_field_bool(t, 2, 1);
        nagm_tc_struct_end(t);
        nagm_tc_struct_end(t);
        break;
    case NAGM_PQ_INT64:
        nagm_tc_field_i32(t, 6, CT_INT_64);
        nagm_tc_field_struct_begin(t, 10);
        nagm_tc_field_struct_begin(t, 10);
        nagm_tc_field_i8(t, 1, 64);
        nagm_tc_field_bool(t, 2, 1);
        nagm_tc_struct_end(t);
        nagm_tc_struct_end(t);
        break;
    case NAGM_PQ_TS_MICROS:
        nagm_tc_field_i32(t, 6, CT_TIMESTAMP_MICROS);
        nagm_tc_field_struct_begin(t, 10);
        nagm_tc_field_struct_begin(t, 8); /* TIMESTAMP: TimestampType */
        nagm_tc_field_bool(t, 1, 1);      /* isAdjustedToUTC */
        nagm_tc_field_struct_begin(t, 2); /* unit: TimeUnit */
        nagm_tc_field_struct_begin(t, 2); /* MICROS */
        nagm_tc_struct_end(t);
        nagm_tc_struct_end(t);
        nagm_tc_struct_end(t);
        nagm_tc_struct_end(t);
        break;
    case NAGM_PQ_STRING:
        nagm_tc_field_i32(t, 6, CT_UTF8);
        nagm_tc_field_struct_begin(t, 10);
        nagm_tc_field_struct_begin(t, 1); /* STRING: StringType */
        nagm_tc_struct_end(t);
        nagm_tc_struct_end(t);
        break;
    case NAGM_PQ_DOUBLE:
        break; /* the physical type says it all: no annotation */
    }
    nagm_tc_struct_end(t);
}

static int write_footer(nagm_pq_writer *w)
{
    nagm_bytes meta = {0};
    nagm_tc t;
    nagm_tc_init(&t, &meta);
    nagm_tc_struct_begin(&t); /* FileMetaData */
    nagm_tc_field_i32(&t, 1, 1); /* version */
    nagm_tc_field_list_begin(&t, 2, NAGM_TC_STRUCT, (uint32_t)w->ncols + 1);
    nagm_tc_struct_begin(&t); /* root */
    nagm_tc_field_string(&t, 4, "schema");
    nagm_tc_field_i32(&t, 5, (int32_t)w->ncols);
    nagm_tc_struct_end(&t);
    for (size_t i = 0; i < w->ncols; i++)
        schema_element(&t, &w->cols[i]);
    nagm_tc_field_i64(&t, 3, (int64_t)w->rows);
    nagm_tc_field_list_begin(&t, 4, NAGM_TC_STRUCT, w->nrg);
    if (nagm_bytes_put(&meta, w->rg_meta.p, w->rg_meta.len) < 0)
        t.err = -1;
    if (w->kv && w->kv[0]) {
        uint32_t n = 0;
        while (w->kv[2 * n])
            n++;
        nagm_tc_field_list_begin(&t, 5, NAGM_TC_STRUCT, n);
        for (uint32_t i = 0; i < n; i++) {
            nagm_tc_struct_begin(&t);
            nagm_tc_field_string(&t, 1, w->kv[2 * i]);
            nagm_tc_field_string(&t, 2, w->kv[2 * i + 1]);
            nagm_tc_struct_end(&t);
        }
    }
    nagm_tc_field_string(&t, 6, "netagm version " NETAGM_VERSION);
    /* column_orders must accompany min_value/max_value: TypeDefinedOrder,
     * i.e. signed integers, unsigned byte-wise strings and doubles by value
     * (with the floating-point rules of stat_double and write_stats). */
    nagm_tc_field_list_begin(&t, 7, NAGM_TC_STRUCT, (uint32_t)w->ncols);
    for (size_t i = 0; i < w->ncols; i++) {
        nagm_tc_struct_begin(&t);
        nagm_tc_field_struct_begin(&t, 1);
        nagm_tc_struct_end(&t);
        nagm_tc_struct_end(&t);
    }
    nagm_tc_struct_end(&t);
    if (t.err || meta.len > UINT32_MAX) {
        nagm_bytes_free(&meta);
        fail(w, "parquet: out of memory");
        return -1;
    }
    uint8_t tail[8];
    put_le32(tail, (uint32_t)meta.len);
    memcpy(tail + 4, "PAR1", 4);
    int r = out_write(w, meta.p, meta.len);
    nagm_bytes_free(&meta);
    if (r < 0 || out_write(w, tail, 8) < 0)
        return -1;
    return 0;
}

int nagm_pq_close(nagm_pq_writer *w, char *errbuf)
{
    if (!w)
        return 0;
    int r = 0;
    if (flush_row_group(w) < 0 || write_footer(w) < 0)
        r = -1;
    if (r == 0 && fflush(w->fp) != 0) {
        fail(w, "parquet: write failed: %s", strerror(errno));
        r = -1;
    }
    if (w->own_fp) {
        FILE *fp = w->fp;
        w->fp = NULL;
        if (fclose(fp) != 0 && r == 0) {
            fail(w, "parquet: write failed: %s", strerror(errno));
            r = -1;
        }
    }
    if (r < 0)
        set_err(errbuf, "%s", w->err);
    writer_free(w);
    return r;
}

void nagm_pq_abort(nagm_pq_writer *w)
{
    writer_free(w);
}
