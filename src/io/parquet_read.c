/* Parquet reader (see parquet_read.h for what it supports).
 *
 * File layout (parquet-format README):
 *
 *   "PAR1" <column chunks> <FileMetaData (Thrift compact)> <footer length,
 *   4 bytes little-endian> "PAR1"
 *
 * A column chunk is [dictionary page] data page+ (index pages are skipped),
 * each page a Thrift PageHeader followed by compressed_page_size bytes:
 *
 *   data page v1:  compressed( [rep levels] [def levels] values )
 *                  levels: 4-byte little-endian length, RLE/bit-packed hybrid
 *   data page v2:  rep levels, def levels (hybrid, no length prefix, never
 *                  compressed; lengths in the header), then the values,
 *                  compressed unless is_compressed is false
 *   dictionary:    compressed( PLAIN values )
 *   values:        PLAIN, or (PLAIN|RLE)_DICTIONARY: one byte of bit width,
 *                  then the indices as an RLE/bit-packed hybrid
 *
 *   hybrid := run*;  run := varint(n << 1) value[ceil(bw/8) bytes, LE]
 *                         | varint(groups << 1 | 1) bytes[groups * bw]
 *   (bit-packed values fill bytes from the least significant bit)
 *
 * The footer is parsed once into per-leaf and per-chunk tables; pages are
 * decoded lazily, one value per nagm_pqr_next, so a chunk holds one page
 * and its dictionary. All sizes come from the file and are checked before
 * use; buffers count against opts.mem_limit.
 */
#include "io/parquet_read.h"

#include <errno.h>
#include <inttypes.h>
#include <snappy-c.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "io/thrift_read.h"
#include "util/cursor.h"

enum { ENC_PLAIN = 0, ENC_PLAIN_DICTIONARY = 2, ENC_RLE = 3, ENC_RLE_DICTIONARY = 8 };
enum { PAGE_DATA = 0, PAGE_INDEX = 1, PAGE_DICTIONARY = 2, PAGE_DATA_V2 = 3 };
enum { REP_REQUIRED = 0, REP_OPTIONAL = 1 };
enum { CODEC_UNCOMPRESSED = 0, CODEC_SNAPPY = 1, CODEC_GZIP = 2, CODEC_ZSTD = 6 };

#define MAX_FOOTER (64u << 20)       /* bytes of FileMetaData */
#define MAX_SCHEMA_DEPTH 32          /* nesting of schema groups */
#define MAX_PAGE_HEADER (16u << 20)  /* bytes of one PageHeader */
#define FIRST_HEADER_WINDOW 1024     /* bytes read for a page header at first */
#define DEFAULT_MEM_LIMIT (1ull << 30)
/* A ColumnChunk with its required metadata takes well over this many bytes,
 * so a footer cannot declare more chunks than footer_len / MIN_CHUNK_BYTES. */
#define MIN_CHUNK_BYTES 16

static const char *const type_names[] = {"BOOLEAN", "INT32",      "INT64",
                                         "INT96",   "FLOAT",      "DOUBLE",
                                         "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
static const char *const codec_names[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                          "BROTLI",       "LZ4",    "ZSTD", "LZ4_RAW"};
static const char *const enc_names[] = {"PLAIN",
                                        "GROUP_VAR_INT",
                                        "PLAIN_DICTIONARY",
                                        "RLE",
                                        "BIT_PACKED",
                                        "DELTA_BINARY_PACKED",
                                        "DELTA_LENGTH_BYTE_ARRAY",
                                        "DELTA_BYTE_ARRAY",
                                        "RLE_DICTIONARY",
                                        "BYTE_STREAM_SPLIT"};

#define NAME_OF(tab, v) ((v) >= 0 && (size_t)(v) < sizeof tab / sizeof tab[0] ? tab[v] : "unknown")

/* ---- the reader ----------------------------------------------------------------- */

/* Metadata of one column chunk, from the footer. */
typedef struct chunk_meta {
    int type, codec;
    int64_t num_values, comp_size, data_off, dict_off; /* dict_off -1: none */
} chunk_meta;

/* A buffer whose capacity counts against the reader's memory limit. */
typedef struct buf {
    uint8_t *p;
    size_t cap;
} buf;

struct nagm_pqr {
    char *name;
    const uint8_t *mem; /* whole file in memory, or NULL */
    int fd;             /* else read with pread */
    uint64_t size;
    nagm_pqr_opts o;
    uint64_t mem_used;

    buf footer;         /* the footer bytes (fd sources) */
    uint64_t footer_off;
    nagm_pqr_col *cols;
    size_t ncols;
    char *names;
    uint64_t num_rows;
    size_t nrg;
    uint64_t *rg_rows;
    chunk_meta *chunks; /* nrg * ncols, row group major */
    ZSTD_DCtx *zd;
    char err[NAGM_PQR_ERRBUF];
};

static int rfail(nagm_pqr *r, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int rfail(nagm_pqr *r, uint64_t off, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(r->err, sizeof r->err, "%s: offset %" PRIu64 ": %s", r->name, off, msg);
    return -1;
}

/* A name from the file, fit for a message: at most 64 bytes, printable. */
static const char *printable(const char *s, char out[68])
{
    size_t i = 0;
    for (; s[i] && i < 64; i++)
        out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    if (s[i]) {
        out[i++] = '.';
        out[i++] = '.';
    }
    out[i] = '\0';
    return out;
}

static int mem_take(nagm_pqr *r, uint64_t n)
{
    if (n > r->o.mem_limit || r->mem_used > r->o.mem_limit - n)
        return -1;
    r->mem_used += n;
    return 0;
}

static void mem_give(nagm_pqr *r, uint64_t n)
{
    r->mem_used -= n;
}

/* Make b hold at least n bytes (contents are not kept). Returns 0, -1 over
 * the memory limit, -2 out of memory. */
static int buf_reserve(nagm_pqr *r, buf *b, size_t n)
{
    if (n <= b->cap)
        return 0;
    if (mem_take(r, n - b->cap) < 0)
        return -1;
    free(b->p);
    b->p = malloc(n);
    if (!b->p) {
        mem_give(r, b->cap + (n - b->cap));
        b->cap = 0;
        return -2;
    }
    b->cap = n;
    return 0;
}

static void buf_free(nagm_pqr *r, buf *b)
{
    free(b->p);
    mem_give(r, b->cap);
    b->p = NULL;
    b->cap = 0;
}

static int mem_fail(nagm_pqr *r, uint64_t off, int rc, uint64_t n)
{
    if (rc == -2)
        return rfail(r, off, "out of memory (%" PRIu64 " bytes)", n);
    return rfail(r, off, "needs %" PRIu64 " more bytes of memory, over the limit of %" PRIu64,
                 n, r->o.mem_limit);
}

/* Bytes [off, off + n) of the file: a pointer into memory, or read into b.
 * *out is valid until b is reused. */
static int fetch(nagm_pqr *r, uint64_t off, size_t n, buf *b, const uint8_t **out)
{
    if (off > r->size || n > r->size - off)
        return rfail(r, off, "%zu bytes beyond the end of the file", n);
    if (r->mem) {
        *out = r->mem + off;
        return 0;
    }
    int rc = buf_reserve(r, b, n ? n : 1);
    if (rc < 0)
        return mem_fail(r, off, rc, n);
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(r->fd, b->p + got, n - got, (off_t)(off + got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return rfail(r, off + got, "read error: %s", strerror(errno));
        if (k == 0)
            return rfail(r, off + got, "the file ended early (did it change while being read?)");
        got += (size_t)k;
    }
    *out = b->p;
    return 0;
}

static uint32_t get_le32(const uint8_t *p)
{
    nagm_cur c = nagm_cur_make(p, 4);
    return nagm_cur_le32(&c);
}

/* ---- footer ---------------------------------------------------------------------- */

/* One SchemaElement as read, plus what the tree walk derives. */
typedef struct selem {
    int type, rep, conv, logical, unit, bits, is_signed;
    int64_t nchild; /* -1: not set */
    const uint8_t *name;
    size_t nlen;
    int leaf, def_level, rep_level, top;
} selem;

/* TimeUnit: a union of empty structs, MILLIS (1), MICROS (2), NANOS (3). */
static int parse_time_unit(nagm_tr *t, selem *e)
{
    int16_t id;
    int ty, rc;
    if (nagm_tr_struct_begin(t) < 0)
        return -1;
    while ((rc = nagm_tr_field(t, &id, &ty)) == 1) {
        if (ty != NAGM_TR_STRUCT)
            return nagm_tr_fail(t, "schema: a time unit that is not a structure");
        if (id >= 1 && id <= 3)
            e->unit = id;
        if (nagm_tr_skip(t, ty) < 0)
            return -1;
    }
    return rc;
}

/* LogicalType: a union; TIMESTAMP and INTEGER are looked into. */
static int parse_logical(nagm_tr *t, selem *e)
{
    int16_t id, sid;
    int ty, sty, rc, src;
    int64_t v;
    if (nagm_tr_struct_begin(t) < 0)
        return -1;
    while ((rc = nagm_tr_field(t, &id, &ty)) == 1) {
        if (ty != NAGM_TR_STRUCT)
            return nagm_tr_fail(t, "schema: a logical type that is not a structure");
        e->logical = id;
        if (id != NAGM_PQR_LT_TIMESTAMP && id != NAGM_PQR_LT_INTEGER) {
            if (nagm_tr_skip(t, ty) < 0)
                return -1;
            continue;
        }
        if (nagm_tr_struct_begin(t) < 0)
            return -1;
        while ((src = nagm_tr_field(t, &sid, &sty)) == 1) {
            if (id == NAGM_PQR_LT_TIMESTAMP && sid == 2) {
                if (sty != NAGM_TR_STRUCT)
                    return nagm_tr_fail(t, "schema: a time unit that is not a structure");
                if (parse_time_unit(t, e) < 0)
                    return -1;
            } else if (id == NAGM_PQR_LT_INTEGER && sid == 1) {
                if (nagm_tr_int(t, sty, 0, 127, &v) < 0)
                    return -1;
                e->bits = (int)v;
            } else if (id == NAGM_PQR_LT_INTEGER && sid == 2) {
                if (nagm_tr_bool(t, sty, &e->is_signed) < 0)
                    return -1;
            } else if (nagm_tr_skip(t, sty) < 0) {
                return -1;
            }
        }
        if (src < 0)
            return -1;
    }
    return rc;
}

static int parse_selem(nagm_tr *t, selem *e)
{
    int16_t id;
    int ty, rc, has_name = 0;
    int64_t v;
    memset(e, 0, sizeof *e);
    e->type = e->rep = e->conv = -1;
    e->nchild = -1;
    e->is_signed = 1;
    if (nagm_tr_struct_begin(t) < 0)
        return -1;
    while ((rc = nagm_tr_field(t, &id, &ty)) == 1) {
        switch (id) {
        case 1:
            if (nagm_tr_int(t, ty, 0, 7, &v) < 0)
                return -1;
            e->type = (int)v;
            break;
        case 3:
            if (nagm_tr_int(t, ty, 0, INT32_MAX, &v) < 0)
                return -1;
            e->rep = (int)v;
            break;
        case 4:
            if (nagm_tr_binary(t, ty, &e->name, &e->nlen) < 0)
                return -1;
            has_name = 1;
            break;
        case 5:
            if (nagm_tr_int(t, ty, 0, INT32_MAX, &v) < 0)
                return -1;
            e->nchild = v;
            break;
        case 6:
            if (nagm_tr_int(t, ty, 0, INT32_MAX, &v) < 0)
                return -1;
            e->conv = (int)v;
            break;
        case 10:
            if (ty != NAGM_TR_STRUCT)
                return nagm_tr_fail(t, "schema: a logical type that is not a structure");
            if (parse_logical(t, e) < 0)
                return -1;
            break;
        default:
            if (nagm_tr_skip(t, ty) < 0)
                return -1;
        }
    }
    if (rc == 0 && !has_name)
        return nagm_tr_fail(t, "schema: an element without a name");
    return rc;
}

/* Walk the depth-first schema list: find the leaves and their levels. */
static int build_schema(nagm_pqr *r, selem *el, uint32_t n)
{
    uint64_t at = r->footer_off;
    if (n == 0 || el[0].nchild < 0)
        return rfail(r, at, "footer: schema: the root is not a group");
    struct {
        int64_t left;
        int def, rep;
    } st[MAX_SCHEMA_DEPTH];
    int d = 0;
    if (el[0].nchild > (int64_t)n - 1)
        return rfail(r, at, "footer: schema: the root has more children than the schema elements");
    if (el[0].nchild > 0) {
        st[0].left = el[0].nchild;
        st[0].def = st[0].rep = 0;
        d = 1;
    }
    size_t nleaf = 0, namebytes = 0;
    char pn[68];
    for (uint32_t i = 1; i < n; i++) {
        selem *e = &el[i];
        char nm[65];
        size_t k = e->nlen < 64 ? e->nlen : 64;
        memcpy(nm, e->name, k);
        nm[k] = '\0';
        if (d == 0)
            return rfail(r, at, "footer: schema: more elements than the root's children");
        if (e->rep < 0)
            return rfail(r, at, "footer: schema: element '%s' has no repetition type",
                         printable(nm, pn));
        /* OPTIONAL adds a definition level; REPEATED (and anything newer)
         * a definition and a repetition level. */
        int def = st[d - 1].def + (e->rep != REP_REQUIRED);
        int rep = st[d - 1].rep + (e->rep > REP_OPTIONAL);
        st[d - 1].left--;
        if (e->nchild > 0) {
            if (d >= MAX_SCHEMA_DEPTH)
                return rfail(r, at, "footer: schema: groups nested deeper than %d levels",
                             MAX_SCHEMA_DEPTH);
            if (e->nchild > (int64_t)(n - 1 - i))
                return rfail(r, at, "footer: schema: group '%s' has more children than the "
                                    "elements after it", printable(nm, pn));
            st[d].left = e->nchild;
            st[d].def = def;
            st[d].rep = rep;
            d++;
        } else {
            if (e->type < 0)
                return rfail(r, at, "footer: schema: leaf '%s' has no type", printable(nm, pn));
            e->leaf = 1;
            e->def_level = def;
            e->rep_level = rep;
            e->top = d == 1;
            nleaf++;
            namebytes += e->nlen + 1;
        }
        while (d > 0 && st[d - 1].left == 0)
            d--;
    }
    if (d != 0)
        return rfail(r, at, "footer: schema: fewer elements than the groups' children");

    uint64_t need = (uint64_t)nleaf * sizeof(nagm_pqr_col) + namebytes;
    if (mem_take(r, need) < 0) /* kept until nagm_pqr_close */
        return mem_fail(r, at, -1, need);
    r->cols = calloc(nleaf ? nleaf : 1, sizeof *r->cols);
    r->names = malloc(namebytes ? namebytes : 1);
    if (!r->cols || !r->names)
        return mem_fail(r, at, -2, need);
    r->ncols = nleaf;
    size_t j = 0, off = 0;
    for (uint32_t i = 1; i < n; i++) {
        const selem *e = &el[i];
        if (!e->leaf)
            continue;
        nagm_pqr_col *c = &r->cols[j++];
        memcpy(r->names + off, e->name, e->nlen);
        r->names[off + e->nlen] = '\0';
        c->name = r->names + off;
        off += e->nlen + 1;
        c->top = e->top;
        c->type = e->type;
        c->converted = e->conv;
        c->logical = e->logical;
        c->time_unit = e->logical == NAGM_PQR_LT_TIMESTAMP ? e->unit : 0;
        c->int_bits = e->logical == NAGM_PQR_LT_INTEGER ? e->bits : 0;
        c->int_signed = e->logical == NAGM_PQR_LT_INTEGER ? e->is_signed : 0;
        c->max_def = e->def_level;
        c->max_rep = e->rep_level;
    }
    return 0;
}

/* The schema list. Returns 0; nonzero on error: a thrift error when t->why
 * is set, else r->err is. */
static int parse_schema(nagm_pqr *r, nagm_tr *t, int ty)
{
    int et;
    uint32_t n;
    if (nagm_tr_list(t, ty, &et, &n) < 0)
        return -1;
    if (n == 0)
        return nagm_tr_fail(t, "schema: no elements");
    if (et != NAGM_TR_STRUCT)
        return nagm_tr_fail(t, "schema: elements that are not structures");
    uint64_t need = (uint64_t)n * sizeof(selem);
    if (mem_take(r, need) < 0)
        return mem_fail(r, r->footer_off, -1, need);
    selem *el = malloc((size_t)need);
    int rc = 0;
    if (!el) {
        rc = mem_fail(r, r->footer_off, -2, need);
    } else {
        for (uint32_t i = 0; i < n && rc == 0; i++)
            rc = parse_selem(t, &el[i]);
        if (rc == 0)
            rc = build_schema(r, el, n);
    }
    free(el);
    mem_give(r, need);
    return rc;
}

/* ColumnMetaData of leaf col. */
static int parse_col_meta(nagm_tr *t, chunk_meta *m, const nagm_pqr_col *col)
{
    int16_t id;
    int ty, rc, et;
    int64_t v;
    unsigned seen = 0;
    uint32_t n;
    if (nagm_tr_struct_begin(t) < 0)
        return -1;
    while ((rc = nagm_tr_field(t, &id, &ty)) == 1) {
        switch (id) {
        case 1:
            if (nagm_tr_int(t, ty, 0, 7, &v) < 0)
                return -1;
            m->type = (int)v;
            break;
        case 3: /* path_in_schema: its last name must be the leaf's */
            if (nagm_tr_list(t, ty, &et, &n) < 0)
                return -1;
            if (n == 0 || et != NAGM_TR_BINARY)
                return nagm_tr_fail(t, "column chunk: bad path_in_schema");
            for (uint32_t i = 0; i < n; i++) {
                const uint8_t *p;
                size_t len;
                if (nagm_tr_binary(t, et, &p, &len) < 0)
                    return -1;
                if (i == n - 1 && (len != strlen(col->name) || memcmp(p, col->name, len)))
                    return nagm_tr_fail(t, "column chunk: path_in_schema does not name the "
                                           "schema's column in this position");
            }
            break;
        case 4:
            if (nagm_tr_int(t, ty, 0, INT32_MAX, &v) < 0)
                return -1;
            m->codec = (int)v;
            break;
        case 5:
            if (nagm_tr_int(t, ty, 0, INT64_MAX, &m->num_values) < 0)
                return -1;
            break;
        case 7:
            if (nagm_tr_int(t, ty, 0, INT64_MAX, &m->comp_size) < 0)
                return -1;
            break;
        case 9:
            if (nagm_tr_int(t, ty, 0, INT64_MAX, &m->data_off) < 0)
                return -1;
            break;
        case 11:
            if (nagm_tr_int(t, ty, 0, INT64_MAX, &m->dict_off) < 0)
                return -1;
            break;
        default:
            if (nagm_tr_skip(t, ty) < 0)
                return -1;
            continue;
        }
        if (id < 32)
            seen |= 1u << id;
    }
    if (rc < 0)
        return -1;
    const unsigned need = 1u << 1 | 1u << 3 | 1u << 4 | 1u << 5 | 1u << 7 | 1u << 9;
    if ((seen & need) != need)
        return nagm_tr_fail(t, "column chunk: a required metadata field is missing");
    if (m->type != col->type)
        return nagm_tr_fail(t, "column chunk: its type differs from the schema's");
    return 0;
}

static int parse_chunk(nagm_tr *t, chunk_meta *m, const nagm_pqr_col *col)
{
    int16_t id;
    int ty, rc, has_meta = 0;
    m->dict_off = -1;
    if (nagm_tr_struct_begin(t) < 0)
        return -1;
    while ((rc = nagm_tr_field(t, &id, &ty)) == 1) {
        if (id == 1)
            return nagm_tr_fail(t, "column chunk: data in another file (file_path) is not "
                                   "supported");
        if (id == 8 || id == 9)
            return nagm_tr_fail(t, "column chunk: encrypted columns are not supported");
        if (id == 3) {
            if (ty != NAGM_TR_STRUCT)
                return nagm_tr_fail(t, "column chunk: metadata that is not a structure");
            if (parse_col_meta(t, m, col) < 0)
                return -1;
            has_meta = 1;
        } else if (nagm_tr_skip(t, ty) < 0) {
            return -1;
        }
    }
    if (rc == 0 && !has_meta)
        return nagm_tr_fail(t, "column chunk: no metadata");
    return rc;
}

/* The row group list; errors as parse_schema. */
static int parse_row_groups(nagm_pqr *r, nagm_tr *t, int ty, uint32_t flen)
{
    int et;
    uint32_t n;
    if (nagm_tr_list(t, ty, &et, &n) < 0)
        return -1;
    if (n > 0 && et != NAGM_TR_STRUCT)
        return nagm_tr_fail(t, "row groups that are not structures");
    if (r->ncols == 0 && n > 0)
        return rfail(r, r->footer_off, "footer: row groups in a file without columns");
    uint64_t nch = (uint64_t)n * r->ncols;
    if (nch > flen / MIN_CHUNK_BYTES)
        return rfail(r, r->footer_off,
                     "footer: %" PRIu32 " row groups of %zu columns cannot fit in %" PRIu32
                     " bytes", n, r->ncols, flen);
    uint64_t need = nch * sizeof(chunk_meta) + (uint64_t)n * sizeof(uint64_t);
    if (mem_take(r, need) < 0) /* kept until nagm_pqr_close */
        return mem_fail(r, r->footer_off, -1, need);
    r->chunks = calloc(nch ? nch : 1, sizeof *r->chunks);
    r->rg_rows = calloc(n ? n : 1, sizeof *r->rg_rows);
    if (!r->chunks || !r->rg_rows)
        return mem_fail(r, r->footer_off, -2, need);
    r->nrg = n;
    uint64_t total = 0;
    for (uint32_t g = 0; g < n; g++) {
        int16_t id;
        int fty, rc, have_cols = 0, have_rows = 0;
        int64_t v;
        if (nagm_tr_struct_begin(t) < 0)
            return -1;
        while ((rc = nagm_tr_field(t, &id, &fty)) == 1) {
            if (id == 1) {
                uint32_t nc;
                if (nagm_tr_list(t, fty, &et, &nc) < 0)
                    return -1;
                if (nc != r->ncols)
                    return rfail(r, r->footer_off,
                                 "footer: row group %" PRIu32 " has %" PRIu32
                                 " column chunks, the schema %zu leaf columns", g, nc, r->ncols);
                if (nc > 0 && et != NAGM_TR_STRUCT)
                    return nagm_tr_fail(t, "column chunks that are not structures");
                for (uint32_t i = 0; i < nc; i++)
                    if (parse_chunk(t, &r->chunks[(size_t)g * r->ncols + i], &r->cols[i]) < 0)
                        return -1;
                have_cols = 1;
            } else if (id == 3) {
                if (nagm_tr_int(t, fty, 0, INT64_MAX, &v) < 0)
                    return -1;
                r->rg_rows[g] = (uint64_t)v;
                have_rows = 1;
            } else if (nagm_tr_skip(t, fty) < 0) {
                return -1;
            }
        }
        if (rc < 0)
            return -1;
        if (!have_cols || !have_rows)
            return nagm_tr_fail(t, "a row group without columns or num_rows");
        if (r->rg_rows[g] > UINT64_MAX - total)
            return nagm_tr_fail(t, "row counts overflow");
        total += r->rg_rows[g];
    }
    if (total != r->num_rows)
        return rfail(r, r->footer_off,
                     "footer: the row groups hold %" PRIu64 " rows, the file says %" PRIu64,
                     total, r->num_rows);
    return 0;
}

/* Returns 0, or -1 with r->err set. Thrift errors are reported with the
 * offset where they were found. */
static int parse_footer(nagm_pqr *r, const uint8_t *p, uint32_t flen)
{
    nagm_tr t;
    int16_t id;
    int ty, rc;
    int64_t v;
    int have_schema = 0, have_rows = 0, rg_type = -1;
    size_t rg_pos = 0;
    nagm_tr_init(&t, p, flen);
    if (nagm_tr_struct_begin(&t) < 0)
        goto thrift_error;
    while ((rc = nagm_tr_field(&t, &id, &ty)) == 1) {
        switch (id) {
        case 2:
            if (have_schema)
                return rfail(r, r->footer_off, "footer: two schemas");
            if (parse_schema(r, &t, ty) != 0) {
                if (t.why)
                    goto thrift_error;
                return -1;
            }
            have_schema = 1;
            break;
        case 3:
            if (nagm_tr_int(&t, ty, 0, INT64_MAX, &v) < 0)
                goto thrift_error;
            r->num_rows = (uint64_t)v;
            have_rows = 1;
            break;
        case 4:
            /* The schema may come later: parse the row groups at the end. */
            rg_pos = nagm_tr_pos(&t);
            rg_type = ty;
            if (nagm_tr_skip(&t, ty) < 0)
                goto thrift_error;
            break;
        case 8:
            return rfail(r, r->footer_off, "encrypted Parquet files are not supported");
        default:
            if (nagm_tr_skip(&t, ty) < 0)
                goto thrift_error;
        }
    }
    if (rc < 0)
        goto thrift_error;
    if (!have_schema || !have_rows || rg_type < 0)
        return rfail(r, r->footer_off, "footer: no schema, num_rows or row_groups");
    if (r->size <= UINT64_MAX / r->o.rows_per_byte &&
        r->num_rows > r->size * r->o.rows_per_byte)
        return rfail(r, r->footer_off,
                     "the footer declares %" PRIu64 " rows in a file of %" PRIu64
                     " bytes: more than %" PRIu64 " rows per byte is refused", r->num_rows,
                     r->size, r->o.rows_per_byte);

    nagm_tr_init(&t, p + rg_pos, flen - rg_pos);
    if (parse_row_groups(r, &t, rg_type, flen) == 0)
        return 0;
    if (!t.why)
        return -1;
    return rfail(r, r->footer_off + rg_pos + t.err_off, "footer: %s", t.why);

thrift_error:
    return rfail(r, r->footer_off + t.err_off, "footer: %s",
                 t.why ? t.why : "thrift: damaged metadata");
}

static int open_common(nagm_pqr *r)
{
    const uint8_t *p;
    buf tmp = {NULL, 0};
    uint8_t head[4], tail[8];
    if (r->size < 12)
        return rfail(r, 0, "%" PRIu64 " bytes: too short for a Parquet file", r->size);
    if (fetch(r, 0, 4, &tmp, &p) < 0)
        goto fail;
    memcpy(head, p, 4);
    if (fetch(r, r->size - 8, 8, &tmp, &p) < 0)
        goto fail;
    memcpy(tail, p, 8);
    buf_free(r, &tmp);
    if (memcmp(head, "PAR1", 4))
        return rfail(r, 0, "no PAR1 magic: not a Parquet file");
    if (!memcmp(tail + 4, "PARE", 4))
        return rfail(r, r->size - 4, "encrypted Parquet files (PARE) are not supported");
    if (memcmp(tail + 4, "PAR1", 4))
        return rfail(r, r->size - 4, "no PAR1 magic at the end: an incomplete or truncated "
                                     "file");
    uint32_t flen = get_le32(tail);
    if (flen > r->size - 12)
        return rfail(r, r->size - 8,
                     "footer length %" PRIu32 " is beyond the file (%" PRIu64 " bytes)", flen,
                     r->size);
    if (flen > MAX_FOOTER)
        return rfail(r, r->size - 8, "a footer of %" PRIu32 " bytes is over the limit of %u",
                     flen, MAX_FOOTER);
    r->footer_off = r->size - 8 - flen;
    if (fetch(r, r->footer_off, flen, &r->footer, &p) < 0)
        return -1;
    return parse_footer(r, p, flen);
fail:
    buf_free(r, &tmp);
    return -1;
}

static int reader_new(const char *name, const nagm_pqr_opts *opts, nagm_pqr **out, char *errbuf)
{
    *out = NULL;
    nagm_pqr *r = calloc(1, sizeof *r);
    if (!r || !(r->name = strdup(name))) {
        free(r);
        snprintf(errbuf, NAGM_PQR_ERRBUF, "%s: out of memory", name);
        return -1;
    }
    if (opts)
        r->o = *opts;
    if (r->o.mem_limit == 0)
        r->o.mem_limit = DEFAULT_MEM_LIMIT;
    if (r->o.rows_per_byte == 0)
        r->o.rows_per_byte = NAGM_PQR_ROWS_PER_BYTE;
    r->fd = -1;
    *out = r;
    return 0;
}

static int reader_finish(nagm_pqr *r, nagm_pqr **out, char *errbuf)
{
    if (open_common(r) < 0) {
        snprintf(errbuf, NAGM_PQR_ERRBUF, "%s", r->err);
        nagm_pqr_close(r);
        *out = NULL;
        return -1;
    }
    r->err[0] = '\0';
    *out = r;
    return 0;
}

int nagm_pqr_open_mem(const void *p, size_t n, const char *name, const nagm_pqr_opts *opts,
                      nagm_pqr **out, char *errbuf)
{
    nagm_pqr *r;
    if (reader_new(name, opts, &r, errbuf) < 0)
        return -1;
    static const uint8_t empty[1];
    r->mem = p ? p : empty;
    r->size = p ? n : 0;
    return reader_finish(r, out, errbuf);
}

int nagm_pqr_open_fd(int fd, const char *name, const nagm_pqr_opts *opts, nagm_pqr **out,
                     char *errbuf)
{
    nagm_pqr *r;
    if (reader_new(name, opts, &r, errbuf) < 0)
        return -1;
    r->fd = fd;
    struct stat st; /* not lseek: the descriptor's offset is left alone */
    if (fstat(fd, &st) != 0 || st.st_size < 0) {
        snprintf(errbuf, NAGM_PQR_ERRBUF, "%s: %s", name, strerror(errno));
        nagm_pqr_close(r);
        *out = NULL;
        return -1;
    }
    r->size = (uint64_t)st.st_size;
    return reader_finish(r, out, errbuf);
}

void nagm_pqr_close(nagm_pqr *r)
{
    if (!r)
        return;
    buf_free(r, &r->footer);
    free(r->cols);
    free(r->names);
    free(r->rg_rows);
    free(r->chunks);
    if (r->zd)
        ZSTD_freeDCtx(r->zd);
    free(r->name);
    free(r);
}

size_t nagm_pqr_ncols(const nagm_pqr *r)
{
    return r->ncols;
}

const nagm_pqr_col *nagm_pqr_column(const nagm_pqr *r, size_t i)
{
    return i < r->ncols ? &r->cols[i] : NULL;
}

uint64_t nagm_pqr_num_rows(const nagm_pqr *r)
{
    return r->num_rows;
}

size_t nagm_pqr_nrow_groups(const nagm_pqr *r)
{
    return r->nrg;
}

uint64_t nagm_pqr_rg_rows(const nagm_pqr *r, size_t g)
{
    return g < r->nrg ? r->rg_rows[g] : 0;
}

const char *nagm_pqr_error(const nagm_pqr *r)
{
    return r->err;
}

/* ---- RLE / bit-packed hybrid ------------------------------------------------------ */

typedef struct hyb {
    nagm_cur c; /* runs not yet started */
    int bw;     /* bit width, 0..32 */
    uint32_t rle_left, rle_val;
    uint32_t bp_left; /* values left in the current bit-packed run */
    nagm_cur bp;      /* that run's bytes (possibly cut short by the page end) */
    uint64_t bp_bit;  /* bit offset of its next value */
} hyb;

static void hyb_init(hyb *h, nagm_cur c, int bw)
{
    memset(h, 0, sizeof *h);
    h->c = c;
    h->bw = bw;
}

static int uleb(nagm_cur *c, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < 10; i++) {
        if (!nagm_cur_has(c, 1))
            return -1;
        uint8_t b = nagm_cur_u8(c);
        if (i == 9 && b > 1)
            return -1;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* The next value; NULL, or the reason it cannot be read. */
static const char *hyb_next(hyb *h, uint32_t *out)
{
    for (;;) {
        if (h->rle_left) {
            h->rle_left--;
            *out = h->rle_val;
            return NULL;
        }
        if (h->bp_left) {
            uint64_t end = h->bp_bit + (uint64_t)h->bw;
            if (end > (uint64_t)nagm_cur_left(&h->bp) * 8)
                return "a bit-packed run goes past the end of the page";
            size_t first = (size_t)(h->bp_bit >> 3);
            unsigned sh = (unsigned)(h->bp_bit & 7);
            size_t nb = (sh + (unsigned)h->bw + 7) >> 3;
            uint64_t acc = 0;
            for (size_t k = 0; k < nb; k++)
                acc |= (uint64_t)nagm_cur_peek_u8(&h->bp, first + k) << (8 * k);
            uint64_t mask = h->bw == 32 ? 0xffffffffu : ((1u << h->bw) - 1);
            *out = (uint32_t)((acc >> sh) & mask);
            h->bp_bit = end;
            h->bp_left--;
            return NULL;
        }
        /* Each run header takes at least one byte, so this loop ends. */
        if (!nagm_cur_has(&h->c, 1))
            return "the RLE runs end before the values do";
        uint64_t hdr;
        if (uleb(&h->c, &hdr) < 0)
            return "a damaged RLE run header";
        if (hdr & 1) {
            uint64_t groups = hdr >> 1;
            if (groups > UINT32_MAX / 8)
                return "a bit-packed run too long";
            uint64_t bytes = groups * (uint64_t)h->bw;
            size_t left = nagm_cur_left(&h->c);
            size_t take = bytes < left ? (size_t)bytes : left;
            h->bp = nagm_cur_sub(&h->c, take);
            nagm_cur_skip(&h->c, take);
            h->bp_left = (uint32_t)(groups * 8);
            h->bp_bit = 0;
        } else {
            uint64_t count = hdr >> 1;
            if (count > UINT32_MAX)
                return "an RLE run too long";
            size_t nb = ((size_t)h->bw + 7) / 8;
            if (!nagm_cur_has(&h->c, nb))
                return "an RLE run goes past the end of the page";
            uint32_t v = 0;
            for (size_t k = 0; k < nb; k++)
                v |= (uint32_t)nagm_cur_u8(&h->c) << (8 * k);
            if (h->bw < 32 && (v >> h->bw))
                return "an RLE value wider than its bit width";
            h->rle_val = v;
            h->rle_left = (uint32_t)count;
        }
    }
}

/* ---- column chunks ------------------------------------------------------------------ */

typedef struct dict_ent {
    uint32_t off, len;
} dict_ent;

struct nagm_pqr_chunk {
    nagm_pqr *r;
    const nagm_pqr_col *col;
    int codec;
    uint64_t pos, end;    /* next page header, end of the chunk */
    uint64_t values_left; /* in the chunk, NULLs included */
    uint64_t page_off;    /* the current page's header, for messages */
    int data_seen;
    int failed;

    int has_dict;
    uint32_t ndict;
    int64_t *dict_i;   /* INT32, INT64 entries */
    dict_ent *dict_s;  /* BYTE_ARRAY, INT96 entries in dict_buf */
    uint64_t dict_mem; /* bytes of dict_i / dict_s */
    buf dict_buf;

    uint32_t page_left; /* values left in the page, NULLs included */
    int has_defs;
    hyb defs;
    int dict_enc; /* values are dictionary indices */
    hyb idx;
    nagm_cur vals; /* PLAIN values */

    buf hdr, raw, page;
    z_stream gz;
    int gz_ready;
};

static int cfail(nagm_pqr_chunk *c, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int cfail(nagm_pqr_chunk *c, uint64_t off, const char *fmt, ...)
{
    char msg[400], pn[68];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->failed = 1;
    return rfail(c->r, off, "column '%s': %s", printable(c->col->name, pn), msg);
}

int nagm_pqr_chunk_open(nagm_pqr *r, size_t g, size_t col, nagm_pqr_chunk **out)
{
    *out = NULL;
    if (g >= r->nrg || col >= r->ncols)
        return rfail(r, r->footer_off, "no column chunk %zu of row group %zu", col, g);
    const nagm_pqr_col *pc = &r->cols[col];
    const chunk_meta *m = &r->chunks[g * r->ncols + col];
    char pn[68];
    const char *nm = printable(pc->name, pn);
    uint64_t data = (uint64_t)m->data_off;
    if (pc->type != NAGM_PQR_INT32 && pc->type != NAGM_PQR_INT64 && pc->type != NAGM_PQR_INT96 &&
        pc->type != NAGM_PQR_BYTE_ARRAY)
        return rfail(r, data, "column '%s': physical type %s is not supported", nm,
                     NAME_OF(type_names, pc->type));
    if (pc->max_rep > 0)
        return rfail(r, data, "column '%s' repeats (a list or map): not supported", nm);
    if (pc->max_def > 1)
        return rfail(r, data, "column '%s' is nested in an optional group: not supported", nm);
    if (m->codec != CODEC_UNCOMPRESSED && m->codec != CODEC_SNAPPY && m->codec != CODEC_GZIP &&
        m->codec != CODEC_ZSTD)
        return rfail(r, data, "column '%s': codec %s is not supported", nm,
                     NAME_OF(codec_names, m->codec));
    if ((uint64_t)m->num_values != r->rg_rows[g])
        return rfail(r, data,
                     "column '%s': %" PRId64 " values in a row group of %" PRIu64 " rows", nm,
                     m->num_values, r->rg_rows[g]);
    /* The chunk starts at its dictionary page when there is one. Some
     * writers set dictionary_page_offset to 0 for "none". */
    uint64_t start = data;
    if (m->dict_off > 0 && (uint64_t)m->dict_off < start)
        start = (uint64_t)m->dict_off;
    uint64_t len = (uint64_t)m->comp_size;
    if (start < 4 || start > r->footer_off || len > r->footer_off - start ||
        data >= start + len)
        return rfail(r, start,
                     "column '%s': a column chunk of %" PRIu64 " bytes lies outside the data "
                     "(%" PRIu64 " bytes before the footer)", nm, len, r->footer_off);
    nagm_pqr_chunk *c = calloc(1, sizeof *c);
    if (!c)
        return rfail(r, start, "out of memory");
    c->r = r;
    c->col = pc;
    c->codec = m->codec;
    c->pos = start;
    c->end = start + len;
    c->page_off = start;
    c->values_left = (uint64_t)m->num_values;
    *out = c;
    return 0;
}

void nagm_pqr_chunk_close(nagm_pqr_chunk *c)
{
    if (!c)
        return;
    nagm_pqr *r = c->r;
    buf_free(r, &c->hdr);
    buf_free(r, &c->raw);
    buf_free(r, &c->page);
    buf_free(r, &c->dict_buf);
    free(c->dict_i);
    free(c->dict_s);
    mem_give(r, c->dict_mem);
    if (c->gz_ready)
        inflateEnd(&c->gz);
    free(c);
}

typedef struct page_hdr {
    int64_t type, usize, csize;
    int has_v1, has_dict, has_v2;
    int64_t nvalues, enc, def_enc, nnulls, def_len, rep_len;
    int compressed;
} page_hdr;

static int parse_data_hdr(nagm_tr *t, page_hdr *h, int v2)
{
    int16_t id;
    int ty, rc;
    unsigned seen = 0;
    int64_t dummy;
    if (nagm_tr_struct_begin(t) < 0)
        return -1;
    while ((rc = nagm_tr_field(t, &id, &ty)) == 1) {
        int64_t *dst = NULL;
        if (id == 1)
            dst = &h->nvalues;
        else if (!v2 && id == 2)
            dst = &h->enc;
        else if (!v2 && id == 3)
            dst = &h->def_enc;
        else if (!v2 && id == 4)
            dst = &dummy;
        else if (v2 && id == 2)
            dst = &h->nnulls;
        else if (v2 && id == 3)
            dst = &dummy;
        else if (v2 && id == 4)
            dst = &h->enc;
        else if (v2 && id == 5)
            dst = &h->def_len;
        else if (v2 && id == 6)
            dst = &h->rep_len;
        if (v2 && id == 7) {
            if (nagm_tr_bool(t, ty, &h->compressed) < 0)
                return -1;
        } else if (dst) {
            if (nagm_tr_int(t, ty, 0, INT32_MAX, dst) < 0)
                return -1;
            seen |= 1u << id;
        } else if (nagm_tr_skip(t, ty) < 0) {
            return -1;
        }
    }
    if (rc < 0)
        return -1;
    unsigned need = v2 ? 0x7eu : 0x1eu; /* fields 1..6 (v2), 1..4 (v1) */
    if ((seen & need) != need)
        return nagm_tr_fail(t, "page header: a required field is missing");
    return 0;
}

static int parse_dict_hdr(nagm_tr *t, page_hdr *h)
{
    int16_t id;
    int ty, rc;
    unsigned seen = 0;
    if (nagm_tr_struct_begin(t) < 0)
        return -1;
    while ((rc = nagm_tr_field(t, &id, &ty)) == 1) {
        if (id == 1 || id == 2) {
            if (nagm_tr_int(t, ty, 0, INT32_MAX, id == 1 ? &h->nvalues : &h->enc) < 0)
                return -1;
            seen |= 1u << id;
        } else if (nagm_tr_skip(t, ty) < 0) {
            return -1;
        }
    }
    if (rc < 0)
        return -1;
    if (seen != 6u)
        return nagm_tr_fail(t, "page header: a required field is missing");
    return 0;
}

static int parse_page_hdr(nagm_tr *t, page_hdr *h)
{
    int16_t id;
    int ty, rc;
    unsigned seen = 0;
    memset(h, 0, sizeof *h);
    h->compressed = 1;
    if (nagm_tr_struct_begin(t) < 0)
        return -1;
    while ((rc = nagm_tr_field(t, &id, &ty)) == 1) {
        if (id >= 1 && id <= 3) {
            int64_t *dst = id == 1 ? &h->type : id == 2 ? &h->usize : &h->csize;
            if (nagm_tr_int(t, ty, 0, INT32_MAX, dst) < 0)
                return -1;
            seen |= 1u << id;
        } else if (id == 5 || id == 7 || id == 8) {
            if (ty != NAGM_TR_STRUCT)
                return nagm_tr_fail(t, "page header: a page type header that is not a "
                                       "structure");
            if (id == 7 ? parse_dict_hdr(t, h) : parse_data_hdr(t, h, id == 8))
                return -1;
            if (id == 5)
                h->has_v1 = 1;
            else if (id == 7)
                h->has_dict = 1;
            else
                h->has_v2 = 1;
        } else if (nagm_tr_skip(t, ty) < 0) {
            return -1;
        }
    }
    if (rc < 0)
        return -1;
    if (seen != 0xeu)
        return nagm_tr_fail(t, "page header: no type or sizes");
    return 0;
}

/* Read the page header at c->pos; *hlen = its length. Starts with a small
 * window and widens it when the header runs past it. */
static int read_page_hdr(nagm_pqr_chunk *c, page_hdr *h, size_t *hlen)
{
    nagm_pqr *r = c->r;
    uint64_t left = c->end - c->pos;
    if (left > MAX_PAGE_HEADER)
        left = MAX_PAGE_HEADER;
    size_t win = r->mem || left < FIRST_HEADER_WINDOW ? (size_t)left : FIRST_HEADER_WINDOW;
    for (;;) {
        const uint8_t *p;
        if (fetch(r, c->pos, win, &c->hdr, &p) < 0) {
            c->failed = 1;
            return -1;
        }
        nagm_tr t;
        nagm_tr_init(&t, p, win);
        if (parse_page_hdr(&t, h) == 0) {
            *hlen = nagm_tr_pos(&t);
            return 0;
        }
        if (t.eof && win < left) {
            win = (uint64_t)win * 16 < left ? win * 16 : (size_t)left;
            continue;
        }
        return cfail(c, c->pos + t.err_off, "%s", t.why);
    }
}

/* Decompress src[0..n) into want bytes (into dst unless stored as is). */
static int decompress(nagm_pqr_chunk *c, int codec, const uint8_t *src, size_t n, size_t want,
                      buf *dst, const uint8_t **out)
{
    nagm_pqr *r = c->r;
    uint64_t at = c->page_off;
    if (codec == CODEC_UNCOMPRESSED) {
        if (n != want)
            return cfail(c, at, "an uncompressed page of %zu bytes stored in %zu", want, n);
        *out = src;
        return 0;
    }
    if (want == 0 && n == 0) {
        *out = src;
        return 0;
    }
    int rc = buf_reserve(r, dst, want ? want : 1);
    if (rc < 0) {
        mem_fail(r, at, rc, want);
        c->failed = 1;
        return -1;
    }
    if (codec == CODEC_SNAPPY) {
        size_t ulen;
        if (snappy_uncompressed_length((const char *)src, n, &ulen) != SNAPPY_OK || ulen != want)
            return cfail(c, at, "snappy: the page does not hold %zu bytes", want);
        if (snappy_uncompress((const char *)src, n, (char *)dst->p, &ulen) != SNAPPY_OK ||
            ulen != want)
            return cfail(c, at, "snappy: a damaged page");
    } else if (codec == CODEC_GZIP) {
        if (!c->gz_ready) {
            memset(&c->gz, 0, sizeof c->gz);
            if (inflateInit2(&c->gz, 15 + 32) != Z_OK) /* gzip or zlib header */
                return cfail(c, at, "gzip: cannot start zlib");
            c->gz_ready = 1;
        } else if (inflateReset(&c->gz) != Z_OK) {
            return cfail(c, at, "gzip: cannot reset zlib");
        }
        if (n > UINT32_MAX || want > UINT32_MAX)
            return cfail(c, at, "gzip: page too large");
        c->gz.next_in = (Bytef *)(uintptr_t)src;
        c->gz.avail_in = (uInt)n;
        c->gz.next_out = dst->p;
        c->gz.avail_out = (uInt)want;
        for (;;) {
            int zr = inflate(&c->gz, Z_NO_FLUSH);
            if (zr == Z_STREAM_END) {
                /* Several gzip members may follow each other. */
                if (c->gz.avail_in == 0 || c->gz.avail_out == 0)
                    break;
                if (inflateReset(&c->gz) != Z_OK)
                    return cfail(c, at, "gzip: cannot reset zlib");
                continue;
            }
            if (zr != Z_OK || c->gz.avail_out == 0 || c->gz.avail_in == 0)
                return cfail(c, at, "gzip: a damaged page, or not %zu bytes", want);
        }
        if (c->gz.avail_out != 0)
            return cfail(c, at, "gzip: the page holds %zu bytes, not %zu",
                         want - c->gz.avail_out, want);
    } else if (codec == CODEC_ZSTD) {
        if (!r->zd && !(r->zd = ZSTD_createDCtx()))
            return cfail(c, at, "out of memory");
        size_t k = ZSTD_decompressDCtx(r->zd, dst->p, want, src, n);
        if (ZSTD_isError(k))
            return cfail(c, at, "zstd: %s", ZSTD_getErrorName(k));
        if (k != want)
            return cfail(c, at, "zstd: the page holds %zu bytes, not %zu", k, want);
    } else {
        return cfail(c, at, "codec %s is not supported", NAME_OF(codec_names, codec));
    }
    *out = dst->p;
    return 0;
}

static int bit_width(uint32_t v)
{
    int n = 0;
    while (v) {
        n++;
        v >>= 1;
    }
    return n;
}

static int load_dictionary(nagm_pqr_chunk *c, const page_hdr *h, const uint8_t *body)
{
    nagm_pqr *r = c->r;
    uint64_t at = c->page_off;
    if (c->has_dict)
        return cfail(c, at, "a second dictionary page");
    if (c->data_seen)
        return cfail(c, at, "a dictionary page after data pages");
    if (!h->has_dict)
        return cfail(c, at, "a dictionary page without its header");
    if (h->enc != ENC_PLAIN && h->enc != ENC_PLAIN_DICTIONARY)
        return cfail(c, at, "a dictionary in %s encoding is not supported",
                     NAME_OF(enc_names, h->enc));
    const uint8_t *p;
    if (decompress(c, c->codec, body, (size_t)h->csize, (size_t)h->usize, &c->dict_buf, &p) < 0)
        return -1;
    if (p != c->dict_buf.p) { /* stored uncompressed: keep a copy */
        int rc = buf_reserve(r, &c->dict_buf, h->usize ? (size_t)h->usize : 1);
        if (rc < 0) {
            c->failed = 1;
            return mem_fail(r, at, rc, (uint64_t)h->usize);
        }
        memcpy(c->dict_buf.p, p, (size_t)h->usize);
    }
    uint64_t n = (uint64_t)h->nvalues, size = (uint64_t)h->usize;
    int type = c->col->type;
    uint64_t width = type == NAGM_PQR_INT32 ? 4 : type == NAGM_PQR_INT64 ? 8
                   : type == NAGM_PQR_INT96 ? 12 : 4; /* BYTE_ARRAY: at least its length */
    if (n > size / width)
        return cfail(c, at, "a dictionary of %" PRIu64 " values in %" PRIu64 " bytes", n, size);
    int ints = type == NAGM_PQR_INT32 || type == NAGM_PQR_INT64;
    uint64_t need = n * (ints ? sizeof(int64_t) : sizeof(dict_ent));
    if (mem_take(r, need) < 0) {
        c->failed = 1;
        return mem_fail(r, at, -1, need);
    }
    c->dict_mem = need;
    if (ints)
        c->dict_i = malloc(need ? (size_t)need : 1);
    else
        c->dict_s = malloc(need ? (size_t)need : 1);
    if (!c->dict_i && !c->dict_s) {
        c->failed = 1;
        return mem_fail(r, at, -2, need);
    }
    nagm_cur d = nagm_cur_make(c->dict_buf.p, (size_t)size);
    for (uint64_t i = 0; i < n; i++) {
        if (type == NAGM_PQR_INT32) {
            c->dict_i[i] = (int32_t)nagm_cur_le32(&d);
        } else if (type == NAGM_PQR_INT64) {
            c->dict_i[i] = (int64_t)nagm_cur_le64(&d);
        } else {
            uint32_t len = type == NAGM_PQR_INT96 ? 12 : nagm_cur_le32(&d);
            if (d.err || !nagm_cur_has(&d, len))
                return cfail(c, at, "dictionary entry %" PRIu64 " runs past the page", i);
            c->dict_s[i].off = (uint32_t)(d.p - c->dict_buf.p);
            c->dict_s[i].len = len;
            nagm_cur_skip(&d, len);
        }
    }
    if (d.err)
        return cfail(c, at, "the dictionary runs past the page");
    c->ndict = (uint32_t)n;
    c->has_dict = 1;
    return 0;
}

/* The values part of a data page: PLAIN, or dictionary indices. */
static int start_values(nagm_pqr_chunk *c, int64_t enc, nagm_cur v)
{
    uint64_t at = c->page_off;
    if (enc == ENC_PLAIN) {
        c->dict_enc = 0;
        c->vals = v;
        return 0;
    }
    if (enc != ENC_PLAIN_DICTIONARY && enc != ENC_RLE_DICTIONARY)
        return cfail(c, at, "values in %s encoding are not supported", NAME_OF(enc_names, enc));
    if (!c->has_dict)
        return cfail(c, at, "a dictionary-encoded page without a dictionary page");
    c->dict_enc = 1;
    /* A page of NULLs only may carry no index bytes at all. */
    int bw = nagm_cur_left(&v) ? nagm_cur_u8(&v) : 0;
    if (bw > 32)
        return cfail(c, at, "dictionary indices %d bits wide", bw);
    hyb_init(&c->idx, v, bw);
    return 0;
}

static int load_data_page(nagm_pqr_chunk *c, const page_hdr *h, const uint8_t *body)
{
    uint64_t at = c->page_off;
    int v2 = h->type == PAGE_DATA_V2;
    if (v2 ? !h->has_v2 : !h->has_v1)
        return cfail(c, at, "a data page without its header");
    if ((uint64_t)h->nvalues > c->values_left)
        return cfail(c, at, "a page of %" PRId64 " values, %" PRIu64 " left in the column chunk",
                     h->nvalues, c->values_left);
    int max_def = c->col->max_def;
    const uint8_t *p;
    c->has_defs = 0;
    if (!v2) {
        if (decompress(c, c->codec, body, (size_t)h->csize, (size_t)h->usize, &c->page, &p) < 0)
            return -1;
        nagm_cur b = nagm_cur_make(p, (size_t)h->usize);
        if (max_def > 0) {
            if (h->def_enc != ENC_RLE)
                return cfail(c, at, "definition levels in %s encoding are not supported",
                             NAME_OF(enc_names, h->def_enc));
            uint32_t len = nagm_cur_le32(&b);
            if (b.err || len > nagm_cur_left(&b))
                return cfail(c, at, "definition levels run past the end of the page");
            hyb_init(&c->defs, nagm_cur_sub(&b, len), bit_width((uint32_t)max_def));
            nagm_cur_skip(&b, len);
            c->has_defs = 1;
        }
        if (start_values(c, h->enc, b) < 0)
            return -1;
    } else {
        uint64_t lv = (uint64_t)h->def_len + (uint64_t)h->rep_len;
        if (h->nnulls > h->nvalues || lv > (uint64_t)h->csize || lv > (uint64_t)h->usize)
            return cfail(c, at, "a v2 data page with inconsistent sizes");
        if (h->rep_len != 0)
            return cfail(c, at, "repetition levels in a column that does not repeat");
        if (max_def == 0 && h->def_len != 0)
            return cfail(c, at, "definition levels in a REQUIRED column");
        nagm_cur lev = nagm_cur_make(body, (size_t)lv);
        if (max_def > 0) {
            hyb_init(&c->defs, nagm_cur_sub(&lev, (size_t)h->def_len),
                     bit_width((uint32_t)max_def));
            c->has_defs = 1;
        }
        size_t vn = (size_t)((uint64_t)h->csize - lv), vwant = (size_t)((uint64_t)h->usize - lv);
        int codec = h->compressed ? c->codec : CODEC_UNCOMPRESSED;
        nagm_cur rest = nagm_cur_make(body, (size_t)h->csize);
        nagm_cur_skip(&rest, (size_t)lv);
        if (decompress(c, codec, rest.p, vn, vwant, &c->page, &p) < 0)
            return -1;
        if (start_values(c, h->enc, nagm_cur_make(p, vwant)) < 0)
            return -1;
    }
    c->data_seen = 1;
    c->page_left = (uint32_t)h->nvalues;
    return 0;
}

/* Read pages until one with values is loaded. */
static int load_page(nagm_pqr_chunk *c)
{
    nagm_pqr *r = c->r;
    while (c->page_left == 0) {
        if (c->pos >= c->end)
            return cfail(c, c->end, "the column chunk ends %" PRIu64 " values early",
                         c->values_left);
        page_hdr h;
        size_t hlen = 0;
        c->page_off = c->pos;
        if (read_page_hdr(c, &h, &hlen) < 0)
            return -1;
        uint64_t body_off = c->pos + hlen;
        if ((uint64_t)h.csize > c->end - body_off)
            return cfail(c, c->pos,
                         "a page of %" PRId64 " bytes runs past the end of the column chunk "
                         "(%" PRIu64 " bytes left)", h.csize, c->end - body_off);
        c->pos = body_off + (uint64_t)h.csize;
        if (h.type == PAGE_INDEX)
            continue;
        if (h.type != PAGE_DATA && h.type != PAGE_DATA_V2 && h.type != PAGE_DICTIONARY)
            return cfail(c, c->page_off, "page type %" PRId64 " is unknown", h.type);
        const uint8_t *body;
        if (fetch(r, body_off, (size_t)h.csize, &c->raw, &body) < 0) {
            c->failed = 1;
            return -1;
        }
        if (h.type == PAGE_DICTIONARY) {
            if (load_dictionary(c, &h, body) < 0)
                return -1;
        } else if (load_data_page(c, &h, body) < 0) {
            return -1;
        }
    }
    return 0;
}

int nagm_pqr_next(nagm_pqr_chunk *c, nagm_pqr_value *v)
{
    if (c->failed)
        return -1;
    if (c->values_left == 0)
        return cfail(c, c->page_off, "no values left in the column chunk");
    if (c->page_left == 0 && load_page(c) < 0)
        return -1;
    c->page_left--;
    c->values_left--;
    memset(v, 0, sizeof *v);
    const char *why;
    if (c->has_defs) {
        uint32_t lvl;
        if ((why = hyb_next(&c->defs, &lvl)) != NULL)
            return cfail(c, c->page_off, "definition levels: %s", why);
        if (lvl > (uint32_t)c->col->max_def)
            return cfail(c, c->page_off, "definition level %" PRIu32 " over the maximum %d", lvl,
                         c->col->max_def);
        if (lvl < (uint32_t)c->col->max_def) {
            v->null = 1;
            return 0;
        }
    }
    int type = c->col->type;
    if (c->dict_enc) {
        uint32_t k;
        if ((why = hyb_next(&c->idx, &k)) != NULL)
            return cfail(c, c->page_off, "dictionary indices: %s", why);
        if (k >= c->ndict)
            return cfail(c, c->page_off,
                         "dictionary index %" PRIu32 " out of range (%" PRIu32 " entries)", k,
                         c->ndict);
        if (c->dict_i) {
            v->i = c->dict_i[k];
        } else {
            nagm_cur d = nagm_cur_make(c->dict_buf.p, c->dict_buf.cap);
            nagm_cur_skip(&d, c->dict_s[k].off);
            v->s = d.p;
            v->len = c->dict_s[k].len;
        }
        return 0;
    }
    nagm_cur *b = &c->vals;
    if (type == NAGM_PQR_INT32) {
        v->i = (int32_t)nagm_cur_le32(b);
    } else if (type == NAGM_PQR_INT64) {
        v->i = (int64_t)nagm_cur_le64(b);
    } else {
        uint32_t len = type == NAGM_PQR_INT96 ? 12 : nagm_cur_le32(b);
        if (!b->err && nagm_cur_has(b, len)) {
            v->s = b->p;
            v->len = len;
        }
        nagm_cur_skip(b, len);
    }
    if (b->err)
        return cfail(c, c->page_off, "PLAIN values run past the end of the page");
    return 0;
}
