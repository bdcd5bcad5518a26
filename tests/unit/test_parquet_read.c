/* The Parquet reader (io/parquet_read.c, io/thrift_read.c) and AGM tables
 * read from Parquet (nagm_agm_read):
 *  - the Thrift compact decoder on bytes worked out by hand from the
 *    compact protocol specification;
 *  - round trips of files from netagm's writer (every codec, one row per
 *    row group, dictionaries overflowing into PLAIN pages, IPv6, times
 *    before 1970, zero rows), compared value by value with the rows written;
 *  - files built here from parquet.thrift in the shapes other writers use
 *    (OPTIONAL columns with NULLs, data pages v2, dictionaries, INT32 and
 *    unsigned counts, other timestamp units, INT96, strings, extra columns in
 *    another order), read value by value;
 *  - damaged files, each an error that names the file (and an offset for
 *    damage to the file's structure), never a crash; and every single-byte
 *    change of a small file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/parquet_codec.h"
#include "io/parquet_read.h"
#include "io/parquet_rle.h"
#include "io/thrift.h"
#include "io/thrift_read.h"
#include "netagm/agm_read.h"
#include "netagm/parquet.h"
#include "xorshift.h"
#include "tmpdir.h"

static void tpath(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", tmpdir, name);
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static uint8_t *read_whole(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)sz + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)sz, f), (size_t)sz);
    fclose(f);
    *n = (size_t)sz;
    return buf;
}

/* ---- Thrift compact decoder ------------------------------------------------------ */

static void test_thrift_fields(void **state)
{
    (void)state;
    /* field 1 i32 -1 (delta 1, zigzag 1); field 3 i64 150 (delta 2, zigzag
     * 300 = ac 02); field 100 binary "abc" (long form: type byte, zigzag id
     * 200 = c8 01); field 101 bool true (delta 1, type 1); stop. */
    static const uint8_t b[] = {0x15, 0x01, 0x26, 0xac, 0x02, 0x08, 0xc8, 0x01,
                                0x03, 'a',  'b',  'c',  0x11, 0x00};
    nagm_tr t;
    int16_t id;
    int ty, bv;
    int64_t v;
    const uint8_t *p;
    size_t n;
    nagm_tr_init(&t, b, sizeof b);
    assert_int_equal(nagm_tr_struct_begin(&t), 0);
    assert_int_equal(nagm_tr_field(&t, &id, &ty), 1);
    assert_int_equal(id, 1);
    assert_int_equal(nagm_tr_int(&t, ty, INT32_MIN, INT32_MAX, &v), 0);
    assert_int_equal(v, -1);
    assert_int_equal(nagm_tr_field(&t, &id, &ty), 1);
    assert_int_equal(id, 3);
    assert_int_equal(ty, NAGM_TR_I64);
    assert_int_equal(nagm_tr_int(&t, ty, INT64_MIN, INT64_MAX, &v), 0);
    assert_int_equal(v, 150);
    assert_int_equal(nagm_tr_field(&t, &id, &ty), 1);
    assert_int_equal(id, 100);
    assert_int_equal(nagm_tr_binary(&t, ty, &p, &n), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(p, "abc", 3);
    assert_int_equal(nagm_tr_field(&t, &id, &ty), 1);
    assert_int_equal(id, 101);
    assert_int_equal(nagm_tr_bool(&t, ty, &bv), 0);
    assert_int_equal(bv, 1);
    assert_int_equal(nagm_tr_field(&t, &id, &ty), 0);
    assert_int_equal(t.depth, 0);
    assert_null(t.why);
    assert_int_equal(nagm_tr_pos(&t), sizeof b);

    /* Every proper prefix is an error caused by the end of input. */
    for (size_t cut = 0; cut < sizeof b; cut++) {
        nagm_tr_init(&t, b, cut);
        int rc = nagm_tr_struct_begin(&t);
        while (rc == 0 && (rc = nagm_tr_field(&t, &id, &ty)) == 1)
            rc = nagm_tr_skip(&t, ty);
        assert_int_equal(rc, -1);
        assert_non_null(t.why);
        assert_int_equal(t.eof, 1);
    }
}

static void test_thrift_skip(void **state)
{
    (void)state;
    /* A struct whose fields the reader does not know, of every type:
     * 1 i8 -5, 2 i16, 3 double, 4 list<binary> of 2, 5 set<bool> of 3,
     * 6 map<i32,list<i64>> of 2, 7 struct{1: struct{}}, 8 list<struct> of
     * 16 (long list header), then field 9 i32 42 which must be found. */
    nagm_bytes b = {0};
    static const uint8_t head[] = {
        0x13, 0xfb,                   /* 1: i8 -5 */
        0x14, 0x80, 0x01,             /* 2: i16 64 */
        0x17, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, /* 3: double 1.0 */
        0x19, 0x28, 0x01, 'x', 0x00,  /* 4: list<binary> ["x", ""] */
        0x1a, 0x31, 0x01, 0x02, 0x01, /* 5: set<bool> [t, f, t] */
        0x1b, 0x02, 0x59,             /* 6: map size 2, i32 -> list */
        0x02, 0x16, 0x02,             /*    1 -> [1] */
        0x04, 0x26, 0x04, 0x06,       /*    2 -> [2, 3] */
        0x1c, 0x1c, 0x00, 0x00,       /* 7: struct{1: struct{}} */
        0x19, 0xfc, 0x10,             /* 8: list<struct> of 16 */
    };
    assert_int_equal(nagm_bytes_put(&b, head, sizeof head), 0);
    for (int i = 0; i < 16; i++) {
        static const uint8_t e[] = {0x15, 0x02, 0x00}; /* {1: i32 1} */
        assert_int_equal(nagm_bytes_put(&b, e, sizeof e), 0);
    }
    static const uint8_t tail[] = {0x15, 0x54, 0x00}; /* 9: i32 42; stop */
    assert_int_equal(nagm_bytes_put(&b, tail, sizeof tail), 0);

    nagm_tr t;
    int16_t id;
    int ty, rc;
    int64_t v = 0;
    nagm_tr_init(&t, b.p, b.len);
    assert_int_equal(nagm_tr_struct_begin(&t), 0);
    while ((rc = nagm_tr_field(&t, &id, &ty)) == 1) {
        if (id == 9)
            assert_int_equal(nagm_tr_int(&t, ty, 0, 100, &v), 0);
        else
            assert_int_equal(nagm_tr_skip(&t, ty), 0);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(v, 42);
    assert_int_equal(nagm_tr_pos(&t), b.len);
    nagm_bytes_free(&b);
}

static void test_thrift_hostile(void **state)
{
    (void)state;
    nagm_tr t;
    int16_t id;
    int ty, et;
    uint32_t n;
    int64_t v;
    const uint8_t *p;
    size_t len;

    /* Structs nested 5000 deep inside an unknown field: refused at the
     * depth limit, without recursing that deep. */
    size_t depth = 5000;
    uint8_t *deep = calloc(1, 2 * depth + 4);
    assert_non_null(deep);
    deep[0] = 0x1c;
    for (size_t i = 1; i < depth; i++)
        deep[i] = 0x1c;
    nagm_tr_init(&t, deep, 2 * depth + 4);
    assert_int_equal(nagm_tr_struct_begin(&t), 0);
    assert_int_equal(nagm_tr_field(&t, &id, &ty), 1);
    assert_int_equal(nagm_tr_skip(&t, ty), -1);
    assert_string_equal(t.why, "thrift: structures nested too deep");
    /* Lists of lists of lists ... */
    for (size_t i = 0; i < depth; i++)
        deep[i] = 0x19;
    deep[0] = 0x19;
    nagm_tr_init(&t, deep, depth);
    assert_int_equal(nagm_tr_struct_begin(&t), 0);
    assert_int_equal(nagm_tr_field(&t, &id, &ty), 1);
    assert_int_equal(nagm_tr_skip(&t, ty), -1);
    assert_string_equal(t.why, "thrift: structures nested too deep");
    free(deep);

    /* A list claiming 2^35 elements. */
    static const uint8_t big[] = {0x19, 0xf5, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00};
    nagm_tr_init(&t, big, sizeof big);
    nagm_tr_struct_begin(&t);
    assert_int_equal(nagm_tr_field(&t, &id, &ty), 1);
    assert_int_equal(nagm_tr_list(&t, ty, &et, &n), -1);
    assert_string_equal(t.why, "thrift: list longer than its bytes");

    /* A binary of 2^62 bytes. */
    static const uint8_t bin[] = {0x18, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40};
    nagm_tr_init(&t, bin, sizeof bin);
    nagm_tr_struct_begin(&t);
    assert_int_equal(nagm_tr_field(&t, &id, &ty), 1);
    assert_int_equal(nagm_tr_binary(&t, ty, &p, &len), -1);
    assert_string_equal(t.why, "thrift: binary length beyond the end");

    /* An 11-byte varint. */
    static const uint8_t vi[] = {0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                 0xff, 0xff, 0xff, 0xff, 0x01};
    nagm_tr_init(&t, vi, sizeof vi);
    nagm_tr_struct_begin(&t);
    assert_int_equal(nagm_tr_field(&t, &id, &ty), 1);
    assert_int_equal(nagm_tr_int(&t, ty, INT64_MIN, INT64_MAX, &v), -1);
    assert_string_equal(t.why, "thrift: varint longer than 64 bits");

    /* Type nibbles 13..15, and a field of the wrong type. */
    static const uint8_t bad[] = {0x1d, 0x00};
    nagm_tr_init(&t, bad, sizeof bad);
    nagm_tr_struct_begin(&t);
    assert_int_equal(nagm_tr_field(&t, &id, &ty), -1);
    assert_string_equal(t.why, "thrift: bad field type");
    static const uint8_t wrong[] = {0x18, 0x01, 'x', 0x00};
    nagm_tr_init(&t, wrong, sizeof wrong);
    nagm_tr_struct_begin(&t);
    assert_int_equal(nagm_tr_field(&t, &id, &ty), 1);
    assert_int_equal(nagm_tr_int(&t, ty, 0, 10, &v), -1);
    assert_string_equal(t.why, "thrift: an integer field of another type");
    /* Errors are sticky. */
    assert_int_equal(nagm_tr_skip(&t, NAGM_TR_I32), -1);
    assert_string_equal(t.why, "thrift: an integer field of another type");

    /* A map of 2^40 pairs; a field id beyond i16. */
    static const uint8_t map[] = {0x1b, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x55, 0x00};
    nagm_tr_init(&t, map, sizeof map);
    nagm_tr_struct_begin(&t);
    assert_int_equal(nagm_tr_field(&t, &id, &ty), 1);
    assert_int_equal(nagm_tr_skip(&t, ty), -1);
    assert_string_equal(t.why, "thrift: map longer than its bytes");
    static const uint8_t fid[] = {0x05, 0x80, 0x80, 0x04, 0x00, 0x00};
    nagm_tr_init(&t, fid, sizeof fid);
    nagm_tr_struct_begin(&t);
    assert_int_equal(nagm_tr_field(&t, &id, &ty), -1);
    assert_string_equal(t.why, "thrift: field id out of range");
}

/* ---- AGM rows ---------------------------------------------------------------------- */

static const uint32_t mode_max[NAGM_NFIELDS] = {0, 65535, 65535, 255, 255, 255, 65575};

static nagm_addr rand_addr(uint64_t *st, int v6)
{
    nagm_addr a;
    memset(&a, 0, sizeof a);
    a.family = v6 ? 6 : 4;
    uint64_t x = xorshift64(st), y = xorshift64(st);
    if (v6) {
        memcpy(a.b, &x, 8);
        memcpy(a.b + 8, &y, 8);
        if (x & 1) /* some short forms, "::" in the text */
            memset(a.b + 2, 0, 10);
    } else {
        memcpy(a.b, &x, 4);
    }
    return a;
}

/* A random row that obeys the reader's checks; counts up to 2^62 now and
 * then. Times are whole microseconds unless ns is set. */
static nagm_agm_row rand_row(uint64_t *st, int v6, int ns)
{
    nagm_agm_row r;
    memset(&r, 0, sizeof r);
    int64_t t = (int64_t)(xorshift64(st) % 4000000000000000ULL) * 1000;
    if (xorshift64(st) % 5 == 0)
        t = -t; /* before 1970 */
    if (ns)
        t += (int64_t)(xorshift64(st) % 1000);
    r.window_start_ns = t;
    r.window_end_ns = t + (int64_t)(xorshift64(st) % 60000000) * 1000 + (ns ? 7 : 0);
    r.src = rand_addr(st, v6);
    r.dst_ip_mode = rand_addr(st, v6);
    uint64_t big = xorshift64(st) % 8 == 0 ? (1ULL << 62) : 1000000;
    r.pkts = 1 + xorshift64(st) % big;
    for (int f = 0; f < NAGM_NFIELDS; f++) {
        r.uniq[f] = 1 + xorshift64(st) % r.pkts;
        r.mode_pkts[f] = 1 + xorshift64(st) % r.pkts;
        if (f > 0)
            r.mode[f] = (uint32_t)(xorshift64(st) % (mode_max[f] + 1));
    }
    return r;
}

static int64_t floor_us_ns(int64_t ns)
{
    int64_t q = ns / 1000;
    if (ns % 1000 < 0)
        q--;
    return q * 1000;
}

/* Row b as read back must equal row a as written (times to the
 * microsecond, as the writers keep them). */
static void assert_row_equal(const nagm_agm_row *a, const nagm_agm_row *b)
{
    assert_int_equal(b->window_start_ns, floor_us_ns(a->window_start_ns));
    assert_int_equal(b->window_end_ns, floor_us_ns(a->window_end_ns));
    assert_int_equal(nagm_addr_cmp(&a->src, &b->src), 0);
    assert_int_equal(nagm_addr_cmp(&a->dst_ip_mode, &b->dst_ip_mode), 0);
    assert_int_equal(a->pkts, b->pkts);
    for (int f = 0; f < NAGM_NFIELDS; f++) {
        assert_int_equal(a->uniq[f], b->uniq[f]);
        assert_int_equal(a->mode_pkts[f], b->mode_pkts[f]);
        assert_int_equal(a->mode[f], b->mode[f]);
    }
}

static void write_agm_parquet(const char *path, const nagm_agm_row *rows, size_t n,
                              const nagm_parquet_opts *o)
{
    char err[NAGM_PQ_ERRBUF_SIZE];
    nagm_sink *s = nagm_sink_parquet_new(path, o, err);
    if (!s)
        fail_msg("%s", err);
    if (n)
        assert_int_equal(s->write(s, rows, n), NAGM_SINK_OK);
    assert_int_equal(s->close(s), NAGM_SINK_OK);
}

/* Read every value of every readable column of every row group. Returns
 * the values read, or -1 with the error in err. */
static long read_all(nagm_pqr *pr, char *err)
{
    long total = 0;
    for (size_t g = 0; g < nagm_pqr_nrow_groups(pr); g++) {
        for (size_t i = 0; i < nagm_pqr_ncols(pr); i++) {
            nagm_pqr_chunk *ch;
            if (nagm_pqr_chunk_open(pr, g, i, &ch) < 0) {
                snprintf(err, NAGM_PQR_ERRBUF, "%s", nagm_pqr_error(pr));
                return -1;
            }
            for (uint64_t k = 0; k < nagm_pqr_rg_rows(pr, g); k++) {
                nagm_pqr_value v;
                if (nagm_pqr_next(ch, &v) < 0) {
                    snprintf(err, NAGM_PQR_ERRBUF, "%s", nagm_pqr_error(pr));
                    nagm_pqr_chunk_close(ch);
                    return -1;
                }
                total++;
            }
            nagm_pqr_chunk_close(ch);
        }
    }
    return total;
}

/* Write rows with netagm's writer, read them back (by path, and from a
 * stream that cannot seek), compare. Returns the number of row groups. */
static size_t round_trip(const char *name, const nagm_agm_row *rows, size_t n,
                         const nagm_parquet_opts *o)
{
    char path[256], err[NAGM_AGM_READ_ERRBUF];
    tpath(path, sizeof path, name);
    write_agm_parquet(path, rows, n, o);

    nagm_agm_row *back = NULL;
    size_t nb = 99;
    if (nagm_agm_read(path, NAGM_FMT_AUTO, &back, &nb, err) != 0)
        fail_msg("%s", err);
    assert_int_equal(nb, n);
    assert_true((n == 0) == (back == NULL));
    for (size_t i = 0; i < n; i++)
        assert_row_equal(&rows[i], &back[i]);
    free(back);

    size_t len;
    uint8_t *file = read_whole(path, &len);
    FILE *m = fmemopen(file, len, "r");
    assert_non_null(m);
    assert_int_equal(nagm_agm_read_fp(m, "mem", NAGM_FMT_AUTO, &back, &nb, err), 0);
    fclose(m);
    assert_int_equal(nb, n);
    for (size_t i = 0; i < n; i++)
        assert_row_equal(&rows[i], &back[i]);
    free(back);

    nagm_pqr *pr;
    char perr[NAGM_PQR_ERRBUF];
    assert_int_equal(nagm_pqr_open_mem(file, len, "mem", NULL, &pr, perr), 0);
    assert_true(nagm_pqr_ncols(pr) >= NAGM_AGM_NCOLS);
    assert_int_equal(nagm_pqr_num_rows(pr), n);
    assert_int_equal(read_all(pr, perr), (long)(n * nagm_pqr_ncols(pr)));
    size_t nrg = nagm_pqr_nrow_groups(pr);
    /* The schema as the writer documents it (docs/parquet.md). */
    for (int i = 0; i < NAGM_AGM_NCOLS; i++) {
        const nagm_pqr_col *c = nagm_pqr_column(pr, (size_t)i);
        assert_string_equal(c->name, nagm_agm_col_name(i));
        assert_int_equal(c->max_def, 0);
        assert_int_equal(c->top, 1);
        if (i < 2) {
            assert_int_equal(c->type, NAGM_PQR_INT64);
            assert_int_equal(c->logical, NAGM_PQR_LT_TIMESTAMP);
            assert_int_equal(c->time_unit, 2);
        } else if (i == 2 || i == 5) {
            assert_int_equal(c->type, NAGM_PQR_BYTE_ARRAY);
            assert_int_equal(c->logical, NAGM_PQR_LT_STRING);
        } else {
            assert_int_equal(c->logical, NAGM_PQR_LT_INTEGER);
            assert_int_equal(c->int_signed, 1);
        }
    }
    nagm_pqr_close(pr);
    free(file);
    return nrg;
}

static nagm_agm_row *rand_rows(size_t n, uint64_t seed, int mixed_v6, int ns)
{
    nagm_agm_row *rows = calloc(n ? n : 1, sizeof *rows);
    assert_non_null(rows);
    for (size_t i = 0; i < n; i++)
        rows[i] = rand_row(&seed, mixed_v6 ? (int)(i % 3 == 0) : 0, ns);
    return rows;
}

static void test_round_trip_codecs(void **state)
{
    (void)state;
    size_t n = 500;
    nagm_agm_row *rows = rand_rows(n, 0x1234567, 1, 1);
    /* Repeated values, so that dictionaries have something to do. */
    for (size_t i = 1; i < n; i += 2) {
        rows[i].src = rows[i - 1].src;
        rows[i].dst_ip_mode = rows[i - 1].dst_ip_mode;
        rows[i].window_start_ns = rows[i - 1].window_start_ns;
        rows[i].window_end_ns = rows[i - 1].window_end_ns;
    }
    static const nagm_pq_codec codecs[] = {NAGM_PQ_UNCOMPRESSED, NAGM_PQ_SNAPPY, NAGM_PQ_GZIP,
                                           NAGM_PQ_ZSTD};
    for (size_t i = 0; i < 4; i++) {
        nagm_parquet_opts o;
        nagm_parquet_opts_init(&o);
        o.codec = codecs[i];
        char name[32];
        snprintf(name, sizeof name, "c%zu.parquet", i);
        assert_int_equal(round_trip(name, rows, n, &o), 1);
        o.no_dictionary = 1;
        snprintf(name, sizeof name, "cp%zu.parquet", i);
        assert_int_equal(round_trip(name, rows, n, &o), 1);
    }
    free(rows);
}

static void test_round_trip_row_groups(void **state)
{
    (void)state;
    size_t n = 300;
    nagm_agm_row *rows = rand_rows(n, 0xabcdef, 1, 0);
    nagm_parquet_opts o;
    nagm_parquet_opts_init(&o);
    o.row_group_bytes = 1; /* one row per group */
    o.codec = NAGM_PQ_SNAPPY;
    assert_int_equal(round_trip("rg1.parquet", rows, n, &o), n);
    o.row_group_bytes = 2048;
    o.codec = NAGM_PQ_ZSTD;
    size_t nrg = round_trip("rg2k.parquet", rows, n, &o);
    assert_true(nrg > 5 && nrg < n);
    free(rows);
}

static void test_round_trip_dictionary_fallback(void **state)
{
    (void)state;
    /* Pages of 200 bytes: every column's dictionary outgrows its page, and
     * the rest of each chunk is written as PLAIN pages; many pages each. */
    size_t n = 2000;
    nagm_agm_row *rows = rand_rows(n, 0x5151, 1, 0);
    for (size_t i = 0; i < n; i++) /* a few repeats first, then all distinct */
        if (i < 40) {
            rows[i].src = rows[i % 4].src;
            rows[i].dst_ip_mode = rows[i % 4].dst_ip_mode;
        }
    nagm_parquet_opts o;
    nagm_parquet_opts_init(&o);
    o.page_bytes = 200;
    o.codec = NAGM_PQ_GZIP;
    assert_int_equal(round_trip("fallback.parquet", rows, n, &o), 1);
    o.row_group_bytes = 64 * 1024;
    o.codec = NAGM_PQ_UNCOMPRESSED;
    assert_true(round_trip("fallback_rg.parquet", rows, n, &o) > 1);
    free(rows);
}

static void test_round_trip_ipv6_and_empty(void **state)
{
    (void)state;
    uint64_t seed = 77;
    nagm_agm_row rows[40];
    for (size_t i = 0; i < 40; i++)
        rows[i] = rand_row(&seed, 1, 1);
    assert_int_equal(round_trip("v6.parquet", rows, 40, NULL), 1);
    assert_int_equal(round_trip("empty.parquet", rows, 0, NULL), 0);
}

/* ---- files built here ---------------------------------------------------------------- */

enum { PT_BOOLEAN = 0, PT_INT32 = 1, PT_INT64 = 2, PT_INT96 = 3, PT_DOUBLE = 5, PT_BYTE_ARRAY = 6 };
enum { LT_STRING = 1, LT_TIMESTAMP = 8, LT_INTEGER = 10 };

/* One column of a hand-built file, and optional damage to it. */
typedef struct tcol {
    const char *name;
    int type;     /* physical type */
    int optional; /* OPTIONAL (max definition level 1), else REQUIRED */
    int conv;     /* ConvertedType, or -1 */
    int logical;  /* LogicalType member, or 0 */
    int unit;     /* TIMESTAMP unit: 1 ms, 2 us, 3 ns */
    int bits, is_signed;
    int dict;     /* dictionary page + RLE_DICTIONARY data page */
    const int64_t *iv;               /* INT32, INT64, DOUBLE (bits) values */
    const char *const *sv;           /* BYTE_ARRAY values; NULL entries are NULL */
    const uint8_t (*i96)[12];        /* INT96 values */
    const uint8_t *isnull;           /* NULL flags of iv / i96 */
    /* damage */
    const uint8_t *raw;    /* the data page's values part, as is */
    size_t rawlen;
    int rawenc;
    const uint8_t *rawdef; /* the definition levels part (v1: with its length) */
    size_t rawdeflen;
    int64_t csize_add;     /* added to the data page's compressed_page_size */
    int64_t data_off_add;  /* added to data_page_offset in the footer */
    int64_t usize_set;     /* if > 0, the data page's uncompressed_page_size */
    size_t hdr_pad;        /* an unknown binary field of this size in the data
                              page's header */
} tcol;

typedef struct tfile {
    const tcol *cols;
    size_t ncols;
    size_t nrows;
    int v2;            /* data pages v2 */
    int codec;         /* pages compressed with this codec */
    int meta_codec;    /* codec written in the footer, if > 0 */
    int64_t num_rows;  /* FileMetaData.num_rows, if >= 0 (else nrows) */
    int rg_first;      /* row_groups before schema in the footer */
} tfile;

static int tnull(const tcol *c, size_t i)
{
    if (!c->optional)
        return 0;
    if (c->type == PT_BYTE_ARRAY)
        return c->sv[i] == NULL;
    return c->isnull && c->isnull[i];
}

static void put_le32(nagm_bytes *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    assert_int_equal(nagm_bytes_put(b, x, 4), 0);
}

static void put_le64(nagm_bytes *b, uint64_t v)
{
    put_le32(b, (uint32_t)v);
    put_le32(b, (uint32_t)(v >> 32));
}

static void plain_value(nagm_bytes *b, const tcol *c, size_t i)
{
    switch (c->type) {
    case PT_INT32:
        put_le32(b, (uint32_t)c->iv[i]);
        break;
    case PT_INT64:
    case PT_DOUBLE:
        put_le64(b, (uint64_t)c->iv[i]);
        break;
    case PT_INT96:
        assert_int_equal(nagm_bytes_put(b, c->i96[i], 12), 0);
        break;
    default:
        put_le32(b, (uint32_t)strlen(c->sv[i]));
        assert_int_equal(nagm_bytes_put(b, c->sv[i], strlen(c->sv[i])), 0);
    }
}

static int same_value(const tcol *c, size_t i, size_t j)
{
    if (c->type == PT_BYTE_ARRAY)
        return strcmp(c->sv[i], c->sv[j]) == 0;
    if (c->type == PT_INT96)
        return memcmp(c->i96[i], c->i96[j], 12) == 0;
    return c->iv[i] == c->iv[j];
}

static void compress_into(int codec, const nagm_bytes *in, nagm_bytes *out)
{
    if (codec == NAGM_PQ_UNCOMPRESSED) {
        assert_int_equal(nagm_bytes_put(out, in->p, in->len), 0);
        return;
    }
    nagm_pq_comp *z = nagm_pq_comp_new((nagm_pq_codec)codec, 0);
    assert_non_null(z);
    assert_int_equal(nagm_pq_compress(z, in->p ? in->p : (const uint8_t *)"", in->len, out), 0);
    nagm_pq_comp_free(z);
}

typedef struct chunk_pos {
    int64_t dict_off, data_off, size, usize;
} chunk_pos;

static void page(nagm_bytes *f, int type, size_t usize, const nagm_bytes *body, int64_t csize_add,
                 int nvalues, int nnulls, int enc, size_t deflen, int v2, size_t pad)
{
    nagm_bytes h = {0};
    nagm_tc t;
    nagm_tc_init(&t, &h);
    nagm_tc_struct_begin(&t);
    nagm_tc_field_i32(&t, 1, type);
    nagm_tc_field_i32(&t, 2, (int32_t)usize);
    nagm_tc_field_i32(&t, 3, (int32_t)((int64_t)body->len + csize_add));
    if (type == 2) {
        nagm_tc_field_struct_begin(&t, 7);
        nagm_tc_field_i32(&t, 1, nvalues);
        nagm_tc_field_i32(&t, 2, 0);
        nagm_tc_struct_end(&t);
    } else if (!v2) {
        nagm_tc_field_struct_begin(&t, 5);
        nagm_tc_field_i32(&t, 1, nvalues);
        nagm_tc_field_i32(&t, 2, enc);
        nagm_tc_field_i32(&t, 3, 3);
        nagm_tc_field_i32(&t, 4, 3);
        nagm_tc_struct_end(&t);
    } else {
        nagm_tc_field_struct_begin(&t, 8);
        nagm_tc_field_i32(&t, 1, nvalues);
        nagm_tc_field_i32(&t, 2, nnulls);
        nagm_tc_field_i32(&t, 3, nvalues);
        nagm_tc_field_i32(&t, 4, enc);
        nagm_tc_field_i32(&t, 5, (int32_t)deflen);
        nagm_tc_field_i32(&t, 6, 0);
        nagm_tc_struct_end(&t);
    }
    if (pad) {
        uint8_t *junk = calloc(1, pad);
        assert_non_null(junk);
        nagm_tc_field_binary(&t, 20, junk, pad);
        free(junk);
    }
    nagm_tc_struct_end(&t);
    assert_int_equal(t.err, 0);
    assert_int_equal(nagm_bytes_put(f, h.p, h.len), 0);
    assert_int_equal(nagm_bytes_put(f, body->p, body->len), 0);
    nagm_bytes_free(&h);
}

static void build_chunk(nagm_bytes *f, const tfile *tf, const tcol *c, chunk_pos *cp)
{
    size_t n = tf->nrows, nn = 0, ndict = 0, nonnull = 0;
    uint32_t *lev = calloc(n + 1, sizeof *lev), *idx = calloc(n + 1, sizeof *idx);
    size_t *first = calloc(n + 1, sizeof *first);
    nagm_bytes levb = {0}, vals = {0}, dict = {0};
    assert_true(lev && idx && first);
    for (size_t i = 0; i < n; i++) {
        lev[i] = !tnull(c, i);
        nonnull += lev[i];
    }
    if (c->rawdef)
        assert_int_equal(nagm_bytes_put(&levb, c->rawdef, c->rawdeflen), 0);
    else if (c->optional && n)
        assert_int_equal(nagm_pq_rle_encode(lev, n, 1, &levb), 0);
    int enc = 0;
    if (c->dict) {
        enc = 8;
        for (size_t i = 0; i < n; i++) {
            if (tnull(c, i))
                continue;
            size_t k = 0;
            while (k < ndict && !same_value(c, first[k], i))
                k++;
            if (k == ndict) {
                first[ndict++] = i;
                plain_value(&dict, c, i);
            }
            idx[nn++] = (uint32_t)k;
        }
        int bw = nagm_pq_bit_width(ndict ? (uint32_t)ndict - 1 : 0);
        uint8_t bwb = (uint8_t)bw;
        assert_int_equal(nagm_bytes_put(&vals, &bwb, 1), 0);
        assert_int_equal(nagm_pq_rle_encode(idx, nn, bw, &vals), 0);
    } else if (!c->raw) {
        for (size_t i = 0; i < n; i++)
            if (!tnull(c, i))
                plain_value(&vals, c, i), nn++;
    }
    if (c->raw) { /* instead of the values just encoded */
        vals.len = 0;
        assert_int_equal(nagm_bytes_put(&vals, c->raw, c->rawlen), 0);
        enc = c->rawenc;
    }
    cp->dict_off = -1;
    size_t start = f->len;
    int64_t usize = 0;
    if (c->dict) {
        nagm_bytes z = {0};
        compress_into(tf->codec, &dict, &z);
        cp->dict_off = (int64_t)f->len;
        page(f, 2, dict.len, &z, 0, (int)ndict, 0, 0, 0, 0, 0);
        usize += (int64_t)dict.len;
        nagm_bytes_free(&z);
    }
    cp->data_off = (int64_t)f->len + c->data_off_add;
    nagm_bytes body = {0}, z = {0};
    size_t deflen = 0;
    if (!tf->v2) {
        if (c->optional || c->rawdef) {
            if (!c->rawdef)
                put_le32(&body, (uint32_t)levb.len);
            assert_int_equal(nagm_bytes_put(&body, levb.p, levb.len), 0);
        }
        assert_int_equal(nagm_bytes_put(&body, vals.p, vals.len), 0);
        compress_into(tf->codec, &body, &z);
    } else {
        deflen = levb.len;
        assert_int_equal(nagm_bytes_put(&z, levb.p, levb.len), 0);
        compress_into(tf->codec, &vals, &z);
        assert_int_equal(nagm_bytes_put(&body, levb.p, levb.len), 0);
        assert_int_equal(nagm_bytes_put(&body, vals.p, vals.len), 0);
    }
    page(f, tf->v2 ? 3 : 0, c->usize_set > 0 ? (size_t)c->usize_set : body.len, &z, c->csize_add,
         (int)n, (int)(n - nonnull), enc, deflen, tf->v2, c->hdr_pad);
    usize += (int64_t)body.len;
    cp->size = (int64_t)(f->len - start);
    cp->usize = usize;
    nagm_bytes_free(&body);
    nagm_bytes_free(&z);
    nagm_bytes_free(&levb);
    nagm_bytes_free(&vals);
    nagm_bytes_free(&dict);
    free(lev);
    free(idx);
    free(first);
}

static void schema_elements(nagm_tc *t, const tfile *tf)
{
    nagm_tc_field_list_begin(t, 2, NAGM_TC_STRUCT, (uint32_t)tf->ncols + 1);
    nagm_tc_struct_begin(t);
    nagm_tc_field_string(t, 4, "schema");
    nagm_tc_field_i32(t, 5, (int32_t)tf->ncols);
    nagm_tc_struct_end(t);
    for (size_t i = 0; i < tf->ncols; i++) {
        const tcol *c = &tf->cols[i];
        nagm_tc_struct_begin(t);
        nagm_tc_field_i32(t, 1, c->type);
        nagm_tc_field_i32(t, 3, c->optional ? 1 : 0);
        nagm_tc_field_string(t, 4, c->name);
        if (c->conv >= 0)
            nagm_tc_field_i32(t, 6, c->conv);
        if (c->logical) {
            nagm_tc_field_struct_begin(t, 10);
            nagm_tc_field_struct_begin(t, (int16_t)c->logical);
            if (c->logical == LT_TIMESTAMP) {
                nagm_tc_field_bool(t, 1, 1);
                nagm_tc_field_struct_begin(t, 2);
                nagm_tc_field_struct_begin(t, (int16_t)c->unit);
                nagm_tc_struct_end(t);
                nagm_tc_struct_end(t);
            } else if (c->logical == LT_INTEGER) {
                nagm_tc_field_i8(t, 1, (int8_t)c->bits);
                nagm_tc_field_bool(t, 2, c->is_signed);
            }
            nagm_tc_struct_end(t);
            nagm_tc_struct_end(t);
        }
        nagm_tc_struct_end(t);
    }
}

static void row_groups(nagm_tc *t, const tfile *tf, const chunk_pos *cp)
{
    nagm_tc_field_list_begin(t, 4, NAGM_TC_STRUCT, 1);
    nagm_tc_struct_begin(t);
    nagm_tc_field_list_begin(t, 1, NAGM_TC_STRUCT, (uint32_t)tf->ncols);
    int64_t total = 0;
    for (size_t i = 0; i < tf->ncols; i++) {
        const tcol *c = &tf->cols[i];
        nagm_tc_struct_begin(t);
        nagm_tc_field_i64(t, 2, 0);
        nagm_tc_field_struct_begin(t, 3);
        nagm_tc_field_i32(t, 1, c->type);
        nagm_tc_field_list_begin(t, 2, NAGM_TC_I32, 1);
        nagm_tc_i32(t, 0);
        nagm_tc_field_list_begin(t, 3, NAGM_TC_BINARY, 1);
        nagm_tc_binary(t, c->name, strlen(c->name));
        nagm_tc_field_i32(t, 4, tf->meta_codec > 0 ? tf->meta_codec : tf->codec);
        nagm_tc_field_i64(t, 5, (int64_t)tf->nrows);
        nagm_tc_field_i64(t, 6, cp[i].usize);
        nagm_tc_field_i64(t, 7, cp[i].size);
        nagm_tc_field_i64(t, 9, cp[i].data_off);
        if (cp[i].dict_off >= 0)
            nagm_tc_field_i64(t, 11, cp[i].dict_off);
        nagm_tc_struct_end(t);
        nagm_tc_struct_end(t);
        total += cp[i].size;
    }
    nagm_tc_field_i64(t, 2, total);
    nagm_tc_field_i64(t, 3, (int64_t)tf->nrows);
    nagm_tc_struct_end(t);
}

/* The whole file: magic, one row group, footer, length, magic. */
static nagm_bytes build_file(const tfile *tf)
{
    nagm_bytes f = {0}, foot = {0};
    chunk_pos cp[64];
    assert_true(tf->ncols <= 64);
    assert_int_equal(nagm_bytes_put(&f, "PAR1", 4), 0);
    for (size_t i = 0; i < tf->ncols; i++)
        build_chunk(&f, tf, &tf->cols[i], &cp[i]);
    nagm_tc t;
    nagm_tc_init(&t, &foot);
    nagm_tc_struct_begin(&t);
    nagm_tc_field_i32(&t, 1, 1);
    if (tf->rg_first) {
        /* Field ids out of order: the long form of the header. */
        row_groups(&t, tf, cp);
        schema_elements(&t, tf);
        nagm_tc_field_i64(&t, 3, tf->num_rows >= 0 ? tf->num_rows : (int64_t)tf->nrows);
    } else {
        schema_elements(&t, tf);
        nagm_tc_field_i64(&t, 3, tf->num_rows >= 0 ? tf->num_rows : (int64_t)tf->nrows);
        row_groups(&t, tf, cp);
    }
    nagm_tc_struct_end(&t);
    assert_int_equal(t.err, 0);
    assert_int_equal(nagm_bytes_put(&f, foot.p, foot.len), 0);
    put_le32(&f, (uint32_t)foot.len);
    assert_int_equal(nagm_bytes_put(&f, "PAR1", 4), 0);
    nagm_bytes_free(&foot);
    return f;
}

static nagm_pqr *open_built(const nagm_bytes *f)
{
    nagm_pqr *pr;
    char err[NAGM_PQR_ERRBUF];
    if (nagm_pqr_open_mem(f->p, f->len, "built", NULL, &pr, err) != 0)
        fail_msg("%s", err);
    return pr;
}

static void test_built_values(void **state)
{
    (void)state;
    /* Six rows; the optional columns have NULLs in rows 1 and 4. */
    static const int64_t ints[] = {5, -7, 1LL << 40, 5, 0, INT64_MIN};
    static const int64_t i32s[] = {5, -7, 65535, 5, 0, INT32_MIN};
    static const uint8_t nulls[] = {0, 1, 0, 0, 1, 0};
    static const char *const strs[] = {"a", NULL, "hello", "a", NULL, ""};
    static const char *const strs_req[] = {"x", "yy", "x", "", "zzz", "x"};
    static uint8_t i96[6][12];
    for (int i = 0; i < 6; i++)
        for (int k = 0; k < 12; k++)
            i96[i][k] = (uint8_t)(i * 16 + k);
    for (int v2 = 0; v2 <= 1; v2++) {
        for (int codec = 0; codec <= 6; codec++) {
            if (codec > 2 && codec < 6)
                continue;
            for (int dict = 0; dict <= 1; dict++) {
                tcol cols[] = {
                    {.name = "i64", .type = PT_INT64, .optional = 1, .conv = -1, .iv = ints,
                     .isnull = nulls, .dict = dict},
                    {.name = "i32", .type = PT_INT32, .conv = -1, .iv = i32s, .dict = dict},
                    {.name = "s", .type = PT_BYTE_ARRAY, .optional = 1, .conv = 0, .sv = strs,
                     .dict = dict},
                    {.name = "sr", .type = PT_BYTE_ARRAY, .conv = 0, .sv = strs_req,
                     .dict = dict},
                    {.name = "t96", .type = PT_INT96, .optional = 1, .conv = -1, .i96 = i96,
                     .isnull = nulls, .dict = dict},
                };
                tfile tf = {.cols = cols, .ncols = 5, .nrows = 6, .v2 = v2, .codec = codec,
                            .num_rows = -1, .rg_first = dict};
                nagm_bytes f = build_file(&tf);
                nagm_pqr *pr = open_built(&f);
                assert_int_equal(nagm_pqr_ncols(pr), 5);
                assert_int_equal(nagm_pqr_column(pr, 0)->max_def, 1);
                assert_int_equal(nagm_pqr_column(pr, 1)->max_def, 0);
                for (size_t c = 0; c < 5; c++) {
                    nagm_pqr_chunk *ch;
                    if (nagm_pqr_chunk_open(pr, 0, c, &ch) != 0)
                        fail_msg("%s", nagm_pqr_error(pr));
                    for (size_t i = 0; i < 6; i++) {
                        nagm_pqr_value v;
                        if (nagm_pqr_next(ch, &v) != 0)
                            fail_msg("v2 %d codec %d dict %d: %s", v2, codec, dict,
                                     nagm_pqr_error(pr));
                        int isnull = tnull(&cols[c], i);
                        assert_int_equal(v.null, isnull);
                        if (isnull)
                            continue;
                        if (c == 0)
                            assert_int_equal(v.i, ints[i]);
                        else if (c == 1)
                            assert_int_equal(v.i, i32s[i]);
                        else if (c == 4) {
                            assert_int_equal(v.len, 12);
                            assert_memory_equal(v.s, i96[i], 12);
                        } else {
                            const char *want = c == 2 ? strs[i] : strs_req[i];
                            assert_int_equal(v.len, strlen(want));
                            assert_memory_equal(v.s, want, v.len);
                        }
                    }
                    /* Exactly six values. */
                    nagm_pqr_value v;
                    assert_int_equal(nagm_pqr_next(ch, &v), -1);
                    nagm_pqr_chunk_close(ch);
                }
                nagm_pqr_close(pr);
                nagm_bytes_free(&f);
            }
        }
    }
}

/* ---- AGM tables in other writers' shapes ----------------------------------------- */

#define AR 24 /* rows */

typedef struct agm_cols {
    int64_t iv[NAGM_AGM_NCOLS][AR];
    char sbuf[NAGM_AGM_NCOLS][AR][48];
    const char *sv[NAGM_AGM_NCOLS][AR];
    uint8_t i96[2][AR][12];
    tcol cols[NAGM_AGM_NCOLS + 2];
    int64_t extra[AR];
} agm_cols;

/* Column i of rows in every shape a writer may choose. kind: 0 like
 * netagm, 1 like DuckDB (all OPTIONAL, INT64 everywhere), 2 like Spark
 * (INT96 times, INT32 modes, UINT annotations), 3 like pandas (times in
 * nanoseconds, no annotations on integers), 4 everything as text. */
static void agm_shape(agm_cols *a, const nagm_agm_row *rows, size_t n, int kind)
{
    memset(a->cols, 0, sizeof a->cols);
    for (int c = 0; c < NAGM_AGM_NCOLS; c++) {
        tcol *t = &a->cols[c];
        t->name = nagm_agm_col_name(c);
        t->conv = -1;
        t->optional = kind == 1;
        t->dict = kind == 1 || kind == 2;
        for (size_t i = 0; i < n; i++) {
            const nagm_agm_row *r = &rows[i];
            uint64_t u = 0;
            int64_t ts = 0;
            if (c <= 1)
                ts = c == 0 ? r->window_start_ns : r->window_end_ns;
            else if (c == 3)
                u = r->pkts;
            else if (c == 4)
                u = r->uniq[0];
            else if (c == 6)
                u = r->mode_pkts[0];
            else if (c > 6) {
                int f = 1 + (c - 7) / 3, k = (c - 7) % 3;
                u = k == 0 ? r->uniq[f] : k == 1 ? r->mode[f] : r->mode_pkts[f];
            }
            if (c == 2 || c == 5 || kind == 4) {
                if (c == 2 || c == 5)
                    nagm_addr_format(c == 2 ? &r->src : &r->dst_ip_mode, a->sbuf[c][i]);
                else if (c <= 1)
                    nagm_ts_format(ts, a->sbuf[c][i]);
                else
                    snprintf(a->sbuf[c][i], 48, "%llu", (unsigned long long)u);
                a->sv[c][i] = a->sbuf[c][i];
            } else if (c <= 1 && kind == 2) {
                /* INT96: nanoseconds of the day, then the Julian day. */
                int64_t day = ts / 86400000000000LL, nsd = ts % 86400000000000LL;
                if (nsd < 0)
                    nsd += 86400000000000LL, day--;
                uint8_t *b = a->i96[c][i];
                for (int k = 0; k < 8; k++)
                    b[k] = (uint8_t)((uint64_t)nsd >> (8 * k));
                uint32_t jd = (uint32_t)(day + 2440588);
                for (int k = 0; k < 4; k++)
                    b[8 + k] = (uint8_t)(jd >> (8 * k));
            } else if (c <= 1) {
                a->iv[c][i] = kind == 3 ? ts : floor_us_ns(ts) / 1000;
            } else {
                a->iv[c][i] = (int64_t)u;
            }
        }
        if (c == 2 || c == 5 || kind == 4) {
            t->type = PT_BYTE_ARRAY;
            t->sv = a->sv[c];
            t->conv = kind == 3 ? -1 : 0;
            t->logical = kind == 0 ? LT_STRING : 0;
        } else if (c <= 1) {
            if (kind == 2) {
                t->type = PT_INT96;
                t->i96 = a->i96[c];
            } else {
                t->type = PT_INT64;
                t->iv = a->iv[c];
                t->logical = LT_TIMESTAMP;
                t->unit = kind == 3 ? 3 : 2;
                t->conv = kind == 3 ? -1 : 10;
            }
        } else {
            int mode = c > 6 && (c - 7) % 3 == 1;
            t->type = kind == 2 && mode ? PT_INT32 : PT_INT64;
            t->iv = a->iv[c];
            if (kind == 0) {
                t->type = mode ? PT_INT32 : PT_INT64;
                t->logical = LT_INTEGER;
                t->bits = mode ? 32 : 64;
                t->is_signed = 1;
                t->conv = mode ? 17 : 18;
            } else if (kind == 1) {
                t->conv = 18;
            } else if (kind == 2) {
                t->conv = mode ? 13 : 14; /* UINT_32, UINT_64 */
            }
        }
    }
}

static void read_agm_bytes(const nagm_bytes *f, nagm_agm_row **rows, size_t *n, char *err,
                           int want_rc)
{
    char path[256];
    tpath(path, sizeof path, "shape.parquet");
    write_bytes(path, f->p, f->len);
    *rows = NULL;
    int rc = nagm_agm_read(path, NAGM_FMT_AUTO, rows, n, err);
    if (rc != want_rc)
        fail_msg("rc %d: %s", rc, rc ? err : "(no error)");
    if (rc) {
        assert_null(*rows);
        assert_int_equal(*n, 0);
        assert_memory_equal(err, path, strlen(path));
    }
}

static void test_agm_shapes(void **state)
{
    (void)state;
    uint64_t seed = 4242;
    nagm_agm_row rows[AR];
    for (size_t i = 0; i < AR; i++)
        rows[i] = rand_row(&seed, i % 4 == 1, 0);
    rows[3].src = rows[2].src; /* repeats for the dictionaries */
    rows[5].pkts = 1ULL << 62;
    static agm_cols a;
    for (int kind = 0; kind <= 4; kind++) {
        for (int v2 = 0; v2 <= 1; v2++) {
            agm_shape(&a, rows, AR, kind);
            /* Extra columns, and the AGM columns in reverse order. */
            tcol cols[NAGM_AGM_NCOLS + 2];
            cols[0] = (tcol){.name = "cluster", .type = PT_INT32, .conv = -1, .iv = a.extra};
            for (int c = 0; c < NAGM_AGM_NCOLS; c++)
                cols[1 + c] = a.cols[NAGM_AGM_NCOLS - 1 - c];
            for (size_t i = 0; i < AR; i++)
                a.extra[i] = (int64_t)i;
            cols[NAGM_AGM_NCOLS + 1] = (tcol){.name = "distance", .type = PT_DOUBLE, .conv = -1,
                                               .iv = a.extra};
            tfile tf = {.cols = cols, .ncols = NAGM_AGM_NCOLS + 2, .nrows = AR, .v2 = v2,
                        .codec = kind == 3 ? NAGM_PQ_SNAPPY : NAGM_PQ_ZSTD, .num_rows = -1};
            nagm_bytes f = build_file(&tf);
            nagm_agm_row *back;
            size_t n;
            char err[NAGM_AGM_READ_ERRBUF];
            read_agm_bytes(&f, &back, &n, err, 0);
            assert_int_equal(n, AR);
            for (size_t i = 0; i < AR; i++)
                assert_row_equal(&rows[i], &back[i]);
            free(back);
            nagm_bytes_free(&f);
        }
    }
}

/* Build a table of kind 1 (nullable) after edit() changed its columns, and
 * expect an error containing want. */
static void agm_expect(const char *want, void (*edit)(agm_cols *a, tcol *cols))
{
    uint64_t seed = 99;
    nagm_agm_row rows[AR];
    for (size_t i = 0; i < AR; i++)
        rows[i] = rand_row(&seed, 0, 0);
    static agm_cols a;
    agm_shape(&a, rows, AR, 1);
    tcol cols[NAGM_AGM_NCOLS];
    memcpy(cols, a.cols, sizeof cols);
    edit(&a, cols);
    tfile tf = {.cols = cols, .ncols = NAGM_AGM_NCOLS, .nrows = AR, .num_rows = -1};
    nagm_bytes f = build_file(&tf);
    nagm_agm_row *back;
    size_t n;
    char err[NAGM_AGM_READ_ERRBUF];
    read_agm_bytes(&f, &back, &n, err, -1);
    if (!strstr(err, want))
        fail_msg("expected '%s' in: %s", want, err);
    nagm_bytes_free(&f);
}

static const uint8_t null_row3[AR] = {[2] = 1};

static void edit_null(agm_cols *a, tcol *cols)
{
    (void)a;
    cols[3].isnull = null_row3; /* pkts */
}
static void edit_null_str(agm_cols *a, tcol *cols)
{
    a->sv[5][7] = NULL;
    cols[5].sv = a->sv[5];
}
static void edit_missing(agm_cols *a, tcol *cols)
{
    (void)a;
    cols[14].name = "ttl_mod";
}
static void edit_double(agm_cols *a, tcol *cols)
{
    (void)a;
    cols[3].type = PT_DOUBLE;
    cols[3].conv = -1;
}
static void edit_no_unit(agm_cols *a, tcol *cols)
{
    (void)a;
    cols[1].logical = 0;
    cols[1].conv = -1;
}
static void edit_negative(agm_cols *a, tcol *cols)
{
    a->iv[10][4] = -3;
    (void)cols;
}
static void edit_mode_range(agm_cols *a, tcol *cols)
{
    a->iv[14][9] = 256; /* ttl_mode */
    (void)cols;
}
static void edit_uniq(agm_cols *a, tcol *cols)
{
    a->iv[4][11] = INT64_MAX; /* dst_ip_uniq > pkts */
    (void)cols;
}
static void edit_addr(agm_cols *a, tcol *cols)
{
    strcpy(a->sbuf[2][6], "300.1.2.3");
    (void)cols;
}
static void edit_addr_int(agm_cols *a, tcol *cols)
{
    cols[2].type = PT_INT64;
    cols[2].iv = a->iv[3];
}
static void edit_family(agm_cols *a, tcol *cols)
{
    strcpy(a->sbuf[5][0], "::1");
    (void)cols;
}

static void test_agm_errors(void **state)
{
    (void)state;
    agm_expect("row 3: pkts is NULL", edit_null);
    agm_expect("row 8: dst_ip_mode is NULL", edit_null_str);
    agm_expect("no column 'ttl_mode'", edit_missing);
    agm_expect("column pkts is DOUBLE", edit_double);
    agm_expect("window_end is INT64 without a TIMESTAMP type", edit_no_unit);
    agm_expect("row 5: dst_port_uniq: -3 is negative", edit_negative);
    agm_expect("row 10: ttl_mode: 256 is out of range", edit_mode_range);
    agm_expect("row 12: dst_ip_uniq is", edit_uniq);
    agm_expect("row 7: src_ip: '300.1.2.3' is not an IP address", edit_addr);
    agm_expect("column src_ip is INT64", edit_addr_int);
    agm_expect("row 1: src_ip and dst_ip_mode are of different address families", edit_family);
}

/* ---- damaged files ---------------------------------------------------------------------- */

/* A small valid table: two INT64 columns, one dictionary-encoded. */
static const int64_t small_iv[] = {1, 2, 3, 2, 1, 2, 3, 3, 3, 1};
static const char *const small_sv[] = {"a", "b", "c", "a", "b", "c", "a", "b", "c", "zz"};

static nagm_bytes small_file(const tcol *override, int idx)
{
    tcol cols[] = {
        {.name = "x", .type = PT_INT64, .conv = -1, .iv = small_iv},
        {.name = "s", .type = PT_BYTE_ARRAY, .conv = 0, .sv = small_sv, .dict = 1},
    };
    if (override)
        cols[idx] = *override;
    tfile tf = {.cols = cols, .ncols = 2, .nrows = 10, .num_rows = -1};
    return build_file(&tf);
}

/* Open and read every value; expect failure with want in the message (and
 * "built: offset " in front when offset is set). */
static void expect_damage(const uint8_t *p, size_t n, const char *want, int offset)
{
    nagm_pqr *pr;
    char err[NAGM_PQR_ERRBUF];
    err[0] = '\0';
    int rc = nagm_pqr_open_mem(p, n, "built", NULL, &pr, err);
    if (rc == 0) {
        long k = read_all(pr, err);
        nagm_pqr_close(pr);
        if (k >= 0)
            fail_msg("expected an error '%s', got %ld values", want ? want : "", k);
    }
    assert_memory_equal(err, "built: ", 7);
    if (offset)
        assert_memory_equal(err, "built: offset ", 14);
    if (want && !strstr(err, want))
        fail_msg("expected '%s' in: %s", want, err);
}

static void expect_damage_b(const nagm_bytes *f, const char *want)
{
    expect_damage(f->p, f->len, want, 1);
}

static uint32_t footer_len(const nagm_bytes *f)
{
    const uint8_t *q = f->p + f->len - 8;
    return (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
}

static void set_footer_len(nagm_bytes *f, uint32_t v)
{
    uint8_t *q = f->p + f->len - 8;
    for (int k = 0; k < 4; k++)
        q[k] = (uint8_t)(v >> (8 * k));
}

/* The file with its footer replaced by foot[0..n). */
static nagm_bytes refooter(const nagm_bytes *f, const uint8_t *foot, size_t n)
{
    nagm_bytes g = {0};
    size_t data = f->len - 8 - footer_len(f);
    assert_int_equal(nagm_bytes_put(&g, f->p, data), 0);
    assert_int_equal(nagm_bytes_put(&g, foot, n), 0);
    put_le32(&g, (uint32_t)n);
    assert_int_equal(nagm_bytes_put(&g, "PAR1", 4), 0);
    return g;
}

static void test_damaged_frame(void **state)
{
    (void)state;
    nagm_bytes f = small_file(NULL, 0);
    nagm_pqr *pr = open_built(&f);
    char err[NAGM_PQR_ERRBUF];
    assert_int_equal(read_all(pr, err), 20);
    nagm_pqr_close(pr);

    expect_damage((const uint8_t *)"PAR1PAR1", 8, "too short", 1);
    expect_damage((const uint8_t *)"window_start,window_end\r\n", 25, "not a Parquet file", 1);
    /* Every truncation of the file. */
    for (size_t cut = 0; cut < f.len; cut++)
        expect_damage(f.p, cut, NULL, 1);

    nagm_bytes g = {0};
    assert_int_equal(nagm_bytes_put(&g, f.p, f.len), 0);
    set_footer_len(&g, (uint32_t)g.len);
    expect_damage_b(&g, "is beyond the file");
    set_footer_len(&g, 0xffffffffu);
    expect_damage_b(&g, "is beyond the file");
    set_footer_len(&g, (uint32_t)g.len - 11);
    expect_damage_b(&g, "is beyond the file");
    set_footer_len(&g, footer_len(&f));
    memcpy(g.p + g.len - 4, "PARE", 4);
    expect_damage_b(&g, "encrypted");
    memcpy(g.p + g.len - 4, "PAR2", 4);
    expect_damage_b(&g, "no PAR1 magic at the end");
    nagm_bytes_free(&g);

    /* Every truncation of the footer, with a valid frame around it. */
    uint32_t flen = footer_len(&f);
    const uint8_t *foot = f.p + f.len - 8 - flen;
    for (uint32_t k = 0; k < flen; k++) {
        g = refooter(&f, foot, k);
        expect_damage_b(&g, "footer: ");
        nagm_bytes_free(&g);
    }
    nagm_bytes_free(&f);
}

/* A footer written by hand with the encoder; fields added by fn. */
static nagm_bytes footer_with(const nagm_bytes *f, void (*fn)(nagm_tc *t))
{
    nagm_bytes foot = {0};
    nagm_tc t;
    nagm_tc_init(&t, &foot);
    nagm_tc_struct_begin(&t);
    fn(&t);
    nagm_tc_struct_end(&t);
    nagm_bytes g = refooter(f, foot.p, foot.len);
    nagm_bytes_free(&foot);
    return g;
}

static void ft_schema_i32(nagm_tc *t)
{
    nagm_tc_field_i32(t, 2, 5);
}
static void ft_type_binary(nagm_tc *t)
{
    nagm_tc_field_list_begin(t, 2, NAGM_TC_STRUCT, 2);
    nagm_tc_struct_begin(t);
    nagm_tc_field_string(t, 4, "schema");
    nagm_tc_field_i32(t, 5, 1);
    nagm_tc_struct_end(t);
    nagm_tc_struct_begin(t);
    nagm_tc_field_string(t, 1, "INT64");
    nagm_tc_struct_end(t);
}
static void ft_root_children(nagm_tc *t)
{
    nagm_tc_field_list_begin(t, 2, NAGM_TC_STRUCT, 2);
    nagm_tc_struct_begin(t);
    nagm_tc_field_string(t, 4, "schema");
    nagm_tc_field_i32(t, 5, 7);
    nagm_tc_struct_end(t);
    nagm_tc_struct_begin(t);
    nagm_tc_field_i32(t, 1, 2);
    nagm_tc_field_i32(t, 3, 0);
    nagm_tc_field_string(t, 4, "x");
    nagm_tc_struct_end(t);
}
static void ft_deep_groups(nagm_tc *t)
{
    /* 40 groups nested in each other, then a leaf. */
    nagm_tc_field_list_begin(t, 2, NAGM_TC_STRUCT, 42);
    for (int i = 0; i < 41; i++) {
        nagm_tc_struct_begin(t);
        nagm_tc_field_string(t, 4, "g");
        nagm_tc_field_i32(t, 3, 0);
        nagm_tc_field_i32(t, 5, 1);
        nagm_tc_struct_end(t);
    }
    nagm_tc_struct_begin(t);
    nagm_tc_field_i32(t, 1, 2);
    nagm_tc_field_i32(t, 3, 0);
    nagm_tc_field_string(t, 4, "x");
    nagm_tc_struct_end(t);
}
static void ft_no_rows(nagm_tc *t)
{
    nagm_tc_field_i32(t, 1, 1);
}

static void test_damaged_footer(void **state)
{
    (void)state;
    nagm_bytes f = small_file(NULL, 0);
    uint32_t flen = footer_len(&f);
    size_t foot = f.len - 8 - flen;
    nagm_bytes g;

    g = footer_with(&f, ft_schema_i32);
    expect_damage_b(&g, "a list field of another type");
    nagm_bytes_free(&g);
    g = footer_with(&f, ft_type_binary);
    expect_damage_b(&g, "an integer field of another type");
    nagm_bytes_free(&g);
    g = footer_with(&f, ft_root_children);
    expect_damage_b(&g, "schema: the root has more children");
    nagm_bytes_free(&g);
    g = footer_with(&f, ft_deep_groups);
    expect_damage_b(&g, "nested deeper than");
    nagm_bytes_free(&g);
    g = footer_with(&f, ft_no_rows);
    expect_damage_b(&g, "no schema, num_rows or row_groups");
    nagm_bytes_free(&g);

    /* A field type nibble of 15 in the first field header. */
    g = (nagm_bytes){0};
    assert_int_equal(nagm_bytes_put(&g, f.p, f.len), 0);
    g.p[foot] = (uint8_t)((g.p[foot] & 0xf0) | 0x0f);
    expect_damage_b(&g, "thrift: bad field type");
    nagm_bytes_free(&g);

    /* An unknown field holding structs nested 3000 deep, before the rest. */
    g = (nagm_bytes){0};
    assert_int_equal(nagm_bytes_put(&g, f.p, foot), 0);
    size_t deep = 3000, start = g.len;
    uint8_t hdr[] = {0x0c, 0x28}; /* field 20, struct */
    assert_int_equal(nagm_bytes_put(&g, hdr, 2), 0);
    for (size_t i = 0; i < deep; i++)
        assert_int_equal(nagm_bytes_put(&g, "\x1c", 1), 0);
    for (size_t i = 0; i <= deep; i++)
        assert_int_equal(nagm_bytes_put(&g, "", 1), 0);
    /* The original footer's fields after it (never reached). */
    assert_int_equal(nagm_bytes_put(&g, f.p + foot, flen), 0);
    put_le32(&g, (uint32_t)(g.len - start));
    assert_int_equal(nagm_bytes_put(&g, "PAR1", 4), 0);
    expect_damage_b(&g, "structures nested too deep");
    nagm_bytes_free(&g);

    /* num_rows: far too many for the file, or not the row groups' sum. */
    tcol x = {.name = "x", .type = PT_INT64, .conv = -1, .iv = small_iv};
    tcol cols1[] = {x};
    tfile tf = {.cols = cols1, .ncols = 1, .nrows = 10, .num_rows = INT64_MAX};
    g = build_file(&tf);
    expect_damage_b(&g, "rows per byte is refused");
    nagm_bytes_free(&g);
    tf.num_rows = 11;
    g = build_file(&tf);
    expect_damage_b(&g, "the row groups hold 10 rows, the file says 11");
    nagm_bytes_free(&g);
    nagm_bytes_free(&f);
}

static void test_damaged_pages(void **state)
{
    (void)state;
    nagm_bytes g;
    tcol c;

    /* The data page says it is larger than its column chunk. */
    c = (tcol){.name = "x", .type = PT_INT64, .conv = -1, .iv = small_iv, .csize_add = 100};
    g = small_file(&c, 0);
    expect_damage_b(&g, "runs past the end of the column chunk");
    nagm_bytes_free(&g);
    c.csize_add = -3; /* shorter: the plain values end early */
    g = small_file(&c, 0);
    expect_damage_b(&g, "column 'x': ");
    nagm_bytes_free(&g);

    /* data_page_offset outside the data. */
    c = (tcol){.name = "x", .type = PT_INT64, .conv = -1, .iv = small_iv,
               .data_off_add = 1000000};
    g = small_file(&c, 0);
    expect_damage_b(&g, "lies outside the data");
    nagm_bytes_free(&g);
    c.data_off_add = INT64_MAX / 2;
    g = small_file(&c, 0);
    expect_damage_b(&g, "lies outside the data");
    nagm_bytes_free(&g);

    /* Dictionary indices: out of range (RLE run of value 3 in a dictionary
     * of three), past the end (a bit-packed run of 2 groups of width 2 with
     * one byte), runs that end too early, too wide. */
    static const uint8_t oor[] = {0x03, 20, 0x04};
    static const uint8_t bp_short[] = {0x02, 0x05, 0xff};
    static const uint8_t early[] = {0x02, 0x08, 0x01};
    static const uint8_t wide[] = {33, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00};
    static const uint8_t rle_val[] = {0x02, 0x14, 0x07};
    struct {
        const uint8_t *raw;
        size_t n;
        const char *want;
    } ix[] = {
        {oor, sizeof oor, "dictionary index 4 out of range (4 entries)"},
        {bp_short, sizeof bp_short, "a bit-packed run goes past the end of the page"},
        {early, sizeof early, "the RLE runs end before the values do"},
        {wide, sizeof wide, "dictionary indices 33 bits wide"},
        {rle_val, sizeof rle_val, "an RLE value wider than its bit width"},
    };
    for (size_t i = 0; i < sizeof ix / sizeof ix[0]; i++) {
        c = (tcol){.name = "s", .type = PT_BYTE_ARRAY, .conv = 0, .sv = small_sv, .dict = 1,
                   .raw = ix[i].raw, .rawlen = ix[i].n, .rawenc = 8};
        g = small_file(&c, 1);
        expect_damage_b(&g, ix[i].want);
        nagm_bytes_free(&g);
    }
    /* An RLE run header that never ends, and dictionary indices without a
     * dictionary. */
    static const uint8_t endless[] = {0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                      0xff, 0xff, 0xff, 0xff, 0xff};
    c = (tcol){.name = "s", .type = PT_BYTE_ARRAY, .conv = 0, .sv = small_sv, .dict = 1,
               .raw = endless, .rawlen = sizeof endless, .rawenc = 8};
    g = small_file(&c, 1);
    expect_damage_b(&g, "a damaged RLE run header");
    nagm_bytes_free(&g);
    c = (tcol){.name = "x", .type = PT_INT64, .conv = -1, .iv = small_iv, .raw = oor,
               .rawlen = sizeof oor, .rawenc = 8};
    g = small_file(&c, 0);
    expect_damage_b(&g, "without a dictionary page");
    nagm_bytes_free(&g);

    /* Definition levels longer than the page; level 2 in a column of
     * maximum 1. */
    static const uint8_t long_def[] = {0xff, 0x00, 0x00, 0x00, 0x02, 0x01};
    static const uint8_t lvl2[] = {0x02, 0x00, 0x00, 0x00, 0x14, 0x02};
    c = (tcol){.name = "x", .type = PT_INT64, .optional = 1, .conv = -1, .iv = small_iv,
               .rawdef = long_def, .rawdeflen = sizeof long_def};
    g = small_file(&c, 0);
    expect_damage_b(&g, "definition levels run past the end of the page");
    nagm_bytes_free(&g);
    c.rawdef = lvl2;
    c.rawdeflen = sizeof lvl2;
    g = small_file(&c, 0);
    expect_damage_b(&g, "an RLE value wider than its bit width");
    nagm_bytes_free(&g);

    /* Plain values too short; an encoding the reader does not know. */
    static const uint8_t three[] = {1, 2, 3};
    c = (tcol){.name = "x", .type = PT_INT64, .conv = -1, .iv = small_iv, .raw = three,
               .rawlen = 3, .rawenc = 0};
    g = small_file(&c, 0);
    expect_damage_b(&g, "PLAIN values run past the end of the page");
    nagm_bytes_free(&g);
    c.rawenc = 5;
    g = small_file(&c, 0);
    expect_damage_b(&g, "values in DELTA_BINARY_PACKED encoding are not supported");
    nagm_bytes_free(&g);

    /* Unsupported types and codecs name the column; damaged compressed
     * pages are errors. */
    static const int64_t dbl[10];
    c = (tcol){.name = "d", .type = PT_DOUBLE, .conv = -1, .iv = dbl};
    g = small_file(&c, 0);
    expect_damage_b(&g, "column 'd': physical type DOUBLE is not supported");
    nagm_bytes_free(&g);
    tcol x = {.name = "x", .type = PT_INT64, .conv = -1, .iv = small_iv};
    tcol cols1[] = {x};
    tfile tf = {.cols = cols1, .ncols = 1, .nrows = 10, .num_rows = -1, .meta_codec = 7};
    g = build_file(&tf);
    expect_damage_b(&g, "column 'x': codec LZ4_RAW is not supported");
    nagm_bytes_free(&g);
    static const char *const cnames[] = {"", "snappy: ", "gzip: ", "", "", "", "zstd: "};
    for (int codec = 1; codec <= 6; codec++) {
        if (codec > 2 && codec < 6)
            continue;
        tf.meta_codec = codec; /* pages stored uncompressed, footer says compressed */
        g = build_file(&tf);
        expect_damage_b(&g, cnames[codec]);
        nagm_bytes_free(&g);
    }
}

/* Page headers larger than the first window read from a file; memory and
 * row limits. */
static void test_limits_and_windows(void **state)
{
    (void)state;
    tcol c = {.name = "x", .type = PT_INT64, .conv = -1, .iv = small_iv, .hdr_pad = 70000};
    nagm_bytes g = small_file(&c, 0);
    char path[256], err[NAGM_PQR_ERRBUF];
    tpath(path, sizeof path, "bighdr.parquet");
    write_bytes(path, g.p, g.len);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    nagm_pqr *pr;
    if (nagm_pqr_open_fd(fileno(fp), path, NULL, &pr, err) != 0)
        fail_msg("%s", err);
    nagm_pqr_chunk *ch;
    assert_int_equal(nagm_pqr_chunk_open(pr, 0, 0, &ch), 0);
    for (size_t i = 0; i < 10; i++) {
        nagm_pqr_value v;
        if (nagm_pqr_next(ch, &v) != 0)
            fail_msg("%s", nagm_pqr_error(pr));
        assert_int_equal(v.i, small_iv[i]);
    }
    nagm_pqr_chunk_close(ch);
    assert_int_equal(read_all(pr, err), 20);
    nagm_pqr_close(pr);
    fclose(fp);
    nagm_bytes_free(&g);

    /* A page that would decompress to 2 GiB; a memory limit of 100 bytes. */
    tcol x = {.name = "x", .type = PT_INT64, .conv = -1, .iv = small_iv, .usize_set = INT32_MAX};
    tcol cols1[] = {x};
    tfile tf = {.cols = cols1, .ncols = 1, .nrows = 10, .num_rows = -1, .codec = NAGM_PQ_ZSTD};
    g = build_file(&tf);
    expect_damage_b(&g, "over the limit of 1073741824");
    nagm_bytes_free(&g);
    cols1[0].usize_set = 0;
    g = build_file(&tf);
    /* At most one row per byte: ten rows in a file of about 200 bytes pass. */
    nagm_pqr_opts o = {.rows_per_byte = 1};
    assert_int_equal(nagm_pqr_open_mem(g.p, g.len, "built", &o, &pr, err), 0);
    nagm_pqr_close(pr);
    nagm_bytes_free(&g);
    /* 5000 rows (40000 bytes of values) in a file of a few hundred bytes:
     * refused at one row per byte; over a memory limit of 4096 bytes. */
    static int64_t many[5000];
    cols1[0].iv = many;
    tf.nrows = 5000;
    g = build_file(&tf);
    assert_true(g.len < 5000);
    assert_int_equal(nagm_pqr_open_mem(g.p, g.len, "built", &o, &pr, err), -1);
    assert_non_null(strstr(err, "rows per byte is refused"));
    o = (nagm_pqr_opts){.mem_limit = 4096};
    assert_int_equal(nagm_pqr_open_mem(g.p, g.len, "built", &o, &pr, err), 0);
    assert_int_equal(read_all(pr, err), -1);
    assert_non_null(strstr(err, "over the limit of 4096"));
    nagm_pqr_close(pr);
    nagm_bytes_free(&g);
}

/* Every byte of a small AGM file changed in three ways: an error with the
 * file's name, or rows that pass the reader's checks. Never a crash. */
static void test_mutations(void **state)
{
    (void)state;
    uint64_t seed = 31337;
    nagm_agm_row rows[3];
    for (size_t i = 0; i < 3; i++)
        rows[i] = rand_row(&seed, 0, 0);
    char path[256];
    tpath(path, sizeof path, "mut.parquet");
    nagm_parquet_opts o;
    nagm_parquet_opts_init(&o);
    o.codec = NAGM_PQ_UNCOMPRESSED;
    write_agm_parquet(path, rows, 3, &o);
    size_t n;
    uint8_t *file = read_whole(path, &n);
    static const uint8_t masks[] = {0x01, 0x80, 0xff};
    long ok = 0, bad = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t m = 0; m < 3; m++) {
            file[i] ^= masks[m];
            FILE *fp = fmemopen(file, n, "r");
            assert_non_null(fp);
            nagm_agm_row *back;
            size_t nb;
            char err[NAGM_AGM_READ_ERRBUF];
            int rc = nagm_agm_read_fp(fp, "mut", NAGM_FMT_PARQUET, &back, &nb, err);
            fclose(fp);
            if (rc == 0) {
                ok++;
                for (size_t k = 0; k < nb; k++) {
                    assert_true(back[k].pkts >= 1);
                    for (int f = 0; f < NAGM_NFIELDS; f++)
                        assert_true(back[k].uniq[f] >= 1 && back[k].uniq[f] <= back[k].pkts);
                }
                free(back);
            } else {
                bad++;
                assert_memory_equal(err, "mut: ", 5);
            }
            /* The generic reader over the same bytes. */
            nagm_pqr *pr;
            char perr[NAGM_PQR_ERRBUF];
            if (nagm_pqr_open_mem(file, n, "mut", NULL, &pr, perr) == 0) {
                read_all(pr, perr);
                nagm_pqr_close(pr);
            }
            file[i] ^= masks[m];
        }
    }
    assert_true(bad > 0);
    assert_true(ok > 0); /* e.g. changes to statistics or created_by */
    free(file);
}

/* A CSV file named .parquet, and a Parquet file named .csv. */
static void test_names_and_magic(void **state)
{
    (void)state;
    char path[256], err[NAGM_AGM_READ_ERRBUF];
    nagm_agm_row *rows;
    size_t n;
    tpath(path, sizeof path, "text.parquet");
    write_bytes(path, "window_start\r\n", 14);
    assert_int_equal(nagm_agm_read(path, NAGM_FMT_AUTO, &rows, &n, err), -1);
    assert_non_null(strstr(err, "text.parquet: offset 0: "));

    uint64_t seed = 5;
    nagm_agm_row r[4];
    for (int i = 0; i < 4; i++)
        r[i] = rand_row(&seed, 0, 0);
    tpath(path, sizeof path, "really_parquet.csv");
    write_agm_parquet(path, r, 4, NULL);
    assert_int_equal(nagm_agm_read(path, NAGM_FMT_AUTO, &rows, &n, err), 0);
    assert_int_equal(n, 4);
    for (int i = 0; i < 4; i++)
        assert_row_equal(&r[i], &rows[i]);
    free(rows);

    /* A CSV starting with 'P' read from a stream is still CSV. */
    static const char csv[] = "Padding,x\r\n";
    FILE *m = fmemopen((void *)csv, sizeof csv - 1, "r");
    assert_int_equal(nagm_agm_read_fp(m, "p.csv", NAGM_FMT_AUTO, &rows, &n, err), -1);
    fclose(m);
    assert_non_null(strstr(err, "p.csv: line 1: the header has no column 'window_start'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thrift_fields),
        cmocka_unit_test(test_thrift_skip),
        cmocka_unit_test(test_thrift_hostile),
        cmocka_unit_test(test_round_trip_codecs),
        cmocka_unit_test(test_round_trip_row_groups),
        cmocka_unit_test(test_round_trip_dictionary_fallback),
        cmocka_unit_test(test_round_trip_ipv6_and_empty),
        cmocka_unit_test(test_built_values),
        cmocka_unit_test(test_agm_shapes),
        cmocka_unit_test(test_agm_errors),
        cmocka_unit_test(test_damaged_frame),
        cmocka_unit_test(test_damaged_footer),
        cmocka_unit_test(test_damaged_pages),
        cmocka_unit_test(test_limits_and_windows),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_names_and_magic),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
