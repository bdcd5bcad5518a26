/* Parquet writer pieces that need no reader: the RLE/bit-packing hybrid
 * against Encodings.md's worked example and hand-packed bytes, option
 * parsing, the file frame (magic, footer length), DOUBLE columns (PLAIN
 * values, page header and statistics against bytes computed by hand from
 * parquet.thrift and the compact protocol, NaN and signed zeros), misuse
 * reported as errors, bounded memory over many row groups, and the packet
 * table's CSV and JSONL text. Reading the files back is done by DuckDB in
 * tests/sh/parquet_*.sh. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/parquet_rle.h"
#include "io/pktout_int.h"
#include "netagm/parquet.h"
#include "netagm/pktout.h"
#include "tmpdir.h"

#define assert_bytes(buf, ...)                                                                 \
    do {                                                                                       \
        static const uint8_t exp_[] = {__VA_ARGS__};                                           \
        assert_int_equal((buf)->len, sizeof exp_);                                             \
        assert_memory_equal((buf)->p, exp_, sizeof exp_);                                      \
    } while (0)

static char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)sz + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)sz, f), (size_t)sz);
    buf[sz] = '\0';
    fclose(f);
    *n = (size_t)sz;
    return buf;
}

/* ---- RLE / bit-packing hybrid ------------------------------------------------ */

static void test_bit_width(void **state)
{
    (void)state;
    assert_int_equal(nagm_pq_bit_width(0), 1);
    assert_int_equal(nagm_pq_bit_width(1), 1);
    assert_int_equal(nagm_pq_bit_width(2), 2);
    assert_int_equal(nagm_pq_bit_width(7), 3);
    assert_int_equal(nagm_pq_bit_width(255), 8);
    assert_int_equal(nagm_pq_bit_width(256), 9);
    assert_int_equal(nagm_pq_bit_width(UINT32_MAX), 32);
}

static void test_rle_spec_example(void **state)
{
    (void)state;
    /* Encodings.md: 0..7 at width 3 bit-pack to 10001000 11000110 11111010;
     * one group -> header (1 << 1) | 1. */
    static const uint32_t v[] = {0, 1, 2, 3, 4, 5, 6, 7};
    nagm_bytes b = {0};
    assert_int_equal(nagm_pq_rle_encode(v, 8, 3, &b), 0);
    assert_bytes(&b, 0x03, 0x88, 0xc6, 0xfa);
    nagm_bytes_free(&b);
}

static void test_rle_runs(void **state)
{
    (void)state;
    nagm_bytes b = {0};
    uint32_t v[16];

    /* Ten 5s: an RLE run, header 10 << 1, value in one byte. */
    for (int i = 0; i < 10; i++)
        v[i] = 5;
    assert_int_equal(nagm_pq_rle_encode(v, 10, 3, &b), 0);
    assert_bytes(&b, 0x14, 0x05);
    b.len = 0;

    /* Width 9 needs two value bytes, little-endian: 300 = 0x012c. */
    for (int i = 0; i < 8; i++)
        v[i] = 300;
    assert_int_equal(nagm_pq_rle_encode(v, 8, 9, &b), 0);
    assert_bytes(&b, 0x10, 0x2c, 0x01);
    b.len = 0;

    /* 1 2 3 at width 2, padded to a group of 8 with zeros:
     * bits 01 10 11 00 | 00 00 00 00 -> 0b00111001 0x00. */
    v[0] = 1, v[1] = 2, v[2] = 3;
    assert_int_equal(nagm_pq_rle_encode(v, 3, 2, &b), 0);
    assert_bytes(&b, 0x03, 0x39, 0x00);
    b.len = 0;

    /* 1 2 then ten 7s at width 3: the literal group borrows six 7s, the
     * remaining four 7s form an RLE run.
     * bits: 100 010 111 111 111 111 111 111 -> 0xd1 0xff 0xff; run 4 << 1. */
    v[0] = 1, v[1] = 2;
    for (int i = 2; i < 12; i++)
        v[i] = 7;
    assert_int_equal(nagm_pq_rle_encode(v, 12, 3, &b), 0);
    assert_bytes(&b, 0x03, 0xd1, 0xff, 0xff, 0x08, 0x07);
    nagm_bytes_free(&b);
}

/* Decode the hybrid again (test-side reference) to check long random
 * sequences round-trip, including runs cut at 63 groups. */
static size_t rle_decode(const uint8_t *p, size_t n, int bw, uint32_t *out, size_t max)
{
    size_t i = 0, o = 0;
    while (i < n && o < max) {
        uint64_t h = 0;
        int sh = 0;
        while (p[i] & 0x80)
            h |= (uint64_t)(p[i++] & 0x7f) << sh, sh += 7;
        h |= (uint64_t)p[i++] << sh;
        if (h & 1) {
            size_t cnt = (size_t)(h >> 1) * 8;
            uint64_t acc = 0;
            int bits = 0;
            for (size_t k = 0; k < cnt; k++) {
                while (bits < bw)
                    acc |= (uint64_t)p[i++] << bits, bits += 8;
                if (o < max)
                    out[o++] = (uint32_t)(acc & ((1ull << bw) - 1));
                acc >>= bw;
                bits -= bw;
            }
        } else {
            uint32_t val = 0;
            for (int k = 0; k < (bw + 7) / 8; k++)
                val |= (uint32_t)p[i++] << (8 * k);
            for (size_t k = 0; k < (h >> 1) && o < max; k++)
                out[o++] = val;
        }
    }
    return o;
}

static void test_rle_roundtrip(void **state)
{
    (void)state;
    enum { N = 20000 };
    uint32_t *v = malloc(N * sizeof *v), *d = malloc(N * sizeof *d);
    assert_non_null(v);
    assert_non_null(d);
    srand(7);
    for (int bw = 1; bw <= 20; bw += 3) {
        uint32_t mask = (uint32_t)((1ull << bw) - 1);
        for (size_t i = 0; i < N;) {
            /* Mix runs of every length with literal stretches. */
            uint32_t x = (uint32_t)rand() & mask;
            size_t len = (rand() % 3 == 0) ? (size_t)(rand() % 40) + 1 : 1;
            for (size_t k = 0; k < len && i < N; k++)
                v[i++] = (rand() % 5 == 0) ? ((uint32_t)rand() & mask) : x;
        }
        nagm_bytes b = {0};
        assert_int_equal(nagm_pq_rle_encode(v, N, bw, &b), 0);
        assert_int_equal(rle_decode(b.p, b.len, bw, d, N), N);
        assert_memory_equal(v, d, N * sizeof *v);
        nagm_bytes_free(&b);
    }
    free(v);
    free(d);
}

/* ---- options ------------------------------------------------------------------- */

static void test_options(void **state)
{
    (void)state;
    nagm_pq_codec c;
    assert_int_equal(nagm_pq_codec_from_name("zstd", &c), 0);
    assert_int_equal(c, NAGM_PQ_ZSTD);
    assert_int_equal(nagm_pq_codec_from_name("none", &c), 0);
    assert_int_equal(c, NAGM_PQ_UNCOMPRESSED);
    assert_int_equal(nagm_pq_codec_from_name("snappy", &c), 0);
    assert_int_equal(c, NAGM_PQ_SNAPPY);
    assert_int_equal(nagm_pq_codec_from_name("gzip", &c), 0);
    assert_int_equal(c, NAGM_PQ_GZIP);
    assert_int_equal(nagm_pq_codec_from_name("lzo", &c), -1);
    assert_string_equal(nagm_pq_codec_name(NAGM_PQ_GZIP), "gzip");

    uint64_t v;
    assert_int_equal(nagm_pq_parse_size("4096", &v), 0);
    assert_true(v == 4096);
    assert_int_equal(nagm_pq_parse_size("64M", &v), 0);
    assert_true(v == 64ull << 20);
    assert_int_equal(nagm_pq_parse_size("2GiB", &v), 0);
    assert_true(v == 2ull << 30);
    assert_int_equal(nagm_pq_parse_size("1k", &v), 0);
    assert_true(v == 1024);
    assert_int_equal(nagm_pq_parse_size("0", &v), -1);
    assert_int_equal(nagm_pq_parse_size("", &v), -1);
    assert_int_equal(nagm_pq_parse_size("12x", &v), -1);
    assert_int_equal(nagm_pq_parse_size("-5", &v), -1);
    assert_int_equal(nagm_pq_parse_size("99999999999999999999", &v), -1);

    nagm_parquet_opts o;
    nagm_parquet_opts_init(&o);
    assert_int_equal(o.codec, NAGM_PQ_ZSTD);
    assert_true(o.row_group_bytes == 128ull << 20);

    assert_true(nagm_ns_to_us_floor(0) == 0);
    assert_true(nagm_ns_to_us_floor(999) == 0);
    assert_true(nagm_ns_to_us_floor(1000) == 1);
    assert_true(nagm_ns_to_us_floor(-1) == -1);
    assert_true(nagm_ns_to_us_floor(-1000) == -1);
    assert_true(nagm_ns_to_us_floor(-1001) == -2);
}

/* ---- writer --------------------------------------------------------------------- */

static const nagm_pq_column schema[] = {
    {"t", NAGM_PQ_TS_MICROS, 0},
    {"s", NAGM_PQ_STRING, 1},
    {"i", NAGM_PQ_INT32, 1},
    {"l", NAGM_PQ_INT64, 0},
};

static uint32_t le32(const char *p)
{
    const uint8_t *u = (const uint8_t *)p;
    return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
}

/* Magic at both ends and a footer length that fits the file. Returns the
 * footer's offset. */
static size_t check_frame(const char *buf, size_t n)
{
    assert_true(n >= 12);
    assert_memory_equal(buf, "PAR1", 4);
    assert_memory_equal(buf + n - 4, "PAR1", 4);
    uint32_t flen = le32(buf + n - 8);
    assert_true(flen > 0 && flen <= n - 12);
    /* FileMetaData starts with field 1 (version, i32) = 1. */
    assert_int_equal((uint8_t)buf[n - 8 - flen], 0x15);
    assert_int_equal((uint8_t)buf[n - 8 - flen + 1], 0x02);
    return n - 8 - flen;
}

static void test_empty_file(void **state)
{
    (void)state;
    char path[128], err[NAGM_PQ_ERRBUF_SIZE];
    snprintf(path, sizeof path, "%s/empty.parquet", tmpdir);
    nagm_pq_writer *w;
    assert_int_equal(nagm_pq_open(path, schema, 4, NULL, NULL, &w, err), 0);
    assert_int_equal(nagm_pq_close(w, err), 0);
    size_t n;
    char *buf = read_file(path, &n);
    /* No row group: the footer follows the leading magic directly. */
    assert_int_equal(check_frame(buf, n), 4);
    free(buf);
}

/* Many rows, tiny row groups and pages, every codec: exercises dictionary
 * fallback, page cuts and buffer reuse (ASan checks the memory). */
static void test_many_row_groups(void **state)
{
    (void)state;
    static const nagm_pq_codec codecs[] = {NAGM_PQ_UNCOMPRESSED, NAGM_PQ_SNAPPY, NAGM_PQ_GZIP,
                                           NAGM_PQ_ZSTD};
    for (size_t ci = 0; ci < 4; ci++) {
        char path[128], err[NAGM_PQ_ERRBUF_SIZE];
        snprintf(path, sizeof path, "%s/many_%zu.parquet", tmpdir, ci);
        nagm_parquet_opts o;
        nagm_parquet_opts_init(&o);
        o.codec = codecs[ci];
        o.row_group_bytes = 20000;
        o.page_bytes = 512;
        static const char *const kv[] = {"k", "v", NULL};
        nagm_pq_writer *w;
        assert_int_equal(nagm_pq_open(path, schema, 4, kv, &o, &w, err), 0);
        for (int r = 0; r < 5000; r++) {
            char s[32];
            int sn = snprintf(s, sizeof s, "10.0.%d.%d", (r / 7) % 256, r % 97);
            nagm_pq_put_i64(w, 0, 1600000000000000LL + r);
            nagm_pq_put_str(w, 1, s, (size_t)sn);
            nagm_pq_put_i32(w, 2, r % 3 - 1);
            nagm_pq_put_i64(w, 3, (int64_t)r * -7);
            assert_int_equal(nagm_pq_end_row(w), 0);
        }
        assert_true(nagm_pq_rows(w) == 5000);
        assert_int_equal(nagm_pq_close(w, err), 0);
        size_t n;
        char *buf = read_file(path, &n);
        check_frame(buf, n);
        free(buf);
    }
}

static void test_misuse(void **state)
{
    (void)state;
    char path[128], err[NAGM_PQ_ERRBUF_SIZE];
    snprintf(path, sizeof path, "%s/bad.parquet", tmpdir);
    nagm_pq_writer *w;

    /* A column left unset. */
    assert_int_equal(nagm_pq_open(path, schema, 4, NULL, NULL, &w, err), 0);
    nagm_pq_put_i64(w, 0, 1);
    nagm_pq_put_str(w, 1, "a", 1);
    nagm_pq_put_i32(w, 2, 1);
    assert_int_equal(nagm_pq_end_row(w), -1);
    assert_non_null(strstr(nagm_pq_error(w), "not set"));
    assert_int_equal(nagm_pq_close(w, err), -1);
    assert_non_null(strstr(err, "not set"));

    /* Wrong setter, out of range, set twice. */
    assert_int_equal(nagm_pq_open(path, schema, 4, NULL, NULL, &w, err), 0);
    nagm_pq_put_i32(w, 0, 1);
    assert_int_equal(nagm_pq_end_row(w), -1);
    assert_non_null(strstr(nagm_pq_error(w), "wrong type"));
    nagm_pq_abort(w);
    assert_int_equal(nagm_pq_open(path, schema, 4, NULL, NULL, &w, err), 0);
    nagm_pq_put_i32(w, 9, 1);
    assert_int_equal(nagm_pq_end_row(w), -1);
    nagm_pq_abort(w);
    assert_int_equal(nagm_pq_open(path, schema, 4, NULL, NULL, &w, err), 0);
    nagm_pq_put_i64(w, 0, 1);
    nagm_pq_put_i64(w, 0, 1);
    assert_int_equal(nagm_pq_end_row(w), -1);
    assert_non_null(strstr(nagm_pq_error(w), "twice"));
    nagm_pq_abort(w);

    /* Bad schema and unwritable path. */
    assert_int_equal(nagm_pq_open(path, schema, 0, NULL, NULL, &w, err), -1);
    assert_null(w);
    static const char *const odd_kv[] = {"k", NULL};
    assert_int_equal(nagm_pq_open(path, schema, 4, odd_kv, NULL, &w, err), -1);
    assert_int_equal(nagm_pq_open("/nonexistent/dir/x.parquet", schema, 4, NULL, NULL, &w, err),
                     -1);
    assert_non_null(strstr(err, "/nonexistent/dir/x.parquet"));
}

/* ---- DOUBLE ------------------------------------------------------------------ */

static double from_bits(uint64_t u)
{
    double d;
    memcpy(&d, &u, 8);
    return d;
}

/* Write one REQUIRED DOUBLE column "d" (asking for a dictionary, which
 * DOUBLE ignores), uncompressed, and return the file. */
static char *write_doubles(const char *name, const double *v, size_t nv, size_t *n)
{
    char path[128], err[NAGM_PQ_ERRBUF_SIZE];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    static const nagm_pq_column dcol[] = {{"d", NAGM_PQ_DOUBLE, 1}};
    nagm_parquet_opts o;
    nagm_parquet_opts_init(&o);
    o.codec = NAGM_PQ_UNCOMPRESSED;
    nagm_pq_writer *w;
    assert_int_equal(nagm_pq_open(path, dcol, 1, NULL, &o, &w, err), 0);
    for (size_t i = 0; i < nv; i++) {
        nagm_pq_put_f64(w, 0, v[i]);
        assert_int_equal(nagm_pq_end_row(w), 0);
    }
    assert_int_equal(nagm_pq_close(w, err), 0);
    char *buf = read_file(path, n);
    check_frame(buf, *n);
    return buf;
}

#define assert_contains(buf, n, ...)                                                           \
    do {                                                                                       \
        static const uint8_t want_[] = {__VA_ARGS__};                                          \
        assert_non_null(memmem((buf), (n), want_, sizeof want_));                              \
    } while (0)

/* Little-endian bytes of the binary64 values used below (IEEE 754:
 * sign, 11-bit exponent biased by 1023, 52-bit fraction). */
#define D_1_5 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x3f     /* 0x3ff8000000000000 */
#define D_M0_25 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xd0, 0xbf   /* 0xbfd0000000000000 */
#define D_3 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x40       /* 0x4008000000000000 */
#define D_NAN_P1 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x7f  /* 0x7ff8000000000001 */
#define D_P0 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00      /* +0.0 */
#define D_M0 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80      /* -0.0 */
#define D_PINF 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x7f    /* +inf */

static void test_double_column(void **state)
{
    (void)state;
    size_t n;
    const double a[] = {1.5, -0.25, 3.0, 1.5};
    char *buf = write_doubles("d1.parquet", a, 4, &n);
    /* The file opens with the data page: PageHeader (compact protocol:
     * field header (delta << 4 | type), i32 as zigzag varint) type
     * DATA_PAGE 0, uncompressed and compressed size 32, field 5
     * DataPageHeader {num_values 4, encoding PLAIN 0, definition and
     * repetition level encodings RLE 3}, then the PLAIN body: the values
     * as little-endian binary64. No dictionary page although asked for. */
    static const uint8_t page[] = {'P', 'A', 'R', '1', 0x15, 0x00, 0x15, 0x40, 0x15, 0x40,
                                   0x2c, 0x15, 0x08, 0x15, 0x00, 0x15, 0x06, 0x15, 0x06,
                                   0x00, 0x00, D_1_5, D_M0_25, D_3, D_1_5};
    assert_true(n > sizeof page);
    assert_memory_equal(buf, page, sizeof page);
    /* Schema element: type DOUBLE 5, REQUIRED, name "d", no converted or
     * logical type. */
    assert_contains(buf, n, 0x15, 0x0a, 0x25, 0x00, 0x18, 0x01, 'd', 0x00);
    /* Statistics (ColumnMetaData field 12, after field 9): max, min (the
     * deprecated pair; binary = length + bytes), null_count 0, max_value,
     * min_value, both exact, nan_count 0. */
    assert_contains(buf, n, 0x3c, 0x18, 0x08, D_3, 0x18, 0x08, D_M0_25, 0x16, 0x00, 0x28, 0x08,
                    D_3, 0x18, 0x08, D_M0_25, 0x11, 0x11, 0x16, 0x00, 0x00);
    /* ColumnOrder: TYPE_ORDER (field 1, an empty struct). */
    assert_contains(buf, n, 0x19, 0x1c, 0x1c, 0x00, 0x00);
    free(buf);

    /* Zeros: the body keeps their signs; whatever the signs, a zero
     * minimum is written -0.0 and a zero maximum +0.0. */
    const double z[] = {0.0, -0.0, 0.0};
    buf = write_doubles("d2.parquet", z, 3, &n);
    assert_contains(buf, n, 0x00, D_P0, D_M0, D_P0);
    assert_contains(buf, n, 0x3c, 0x18, 0x08, D_P0, 0x18, 0x08, D_M0, 0x16, 0x00, 0x28, 0x08,
                    D_P0, 0x18, 0x08, D_M0, 0x11, 0x11, 0x16, 0x00, 0x00);
    free(buf);

    /* A NaN (with a payload: stored bit for bit) among numbers: no bounds,
     * null_count 0, nan_count 1 (zigzag 2). */
    const double wn[] = {1.5, from_bits(0x7ff8000000000001ull), 3.0};
    buf = write_doubles("d3.parquet", wn, 3, &n);
    assert_contains(buf, n, 0x00, D_1_5, D_NAN_P1, D_3);
    assert_contains(buf, n, 0x3c, 0x36, 0x00, 0x66, 0x02, 0x00);
    free(buf);

    /* Only NaN, of both signs: nan_count 2. */
    const double nn[] = {NAN, -NAN};
    buf = write_doubles("d4.parquet", nn, 2, &n);
    assert_contains(buf, n, 0x3c, 0x36, 0x00, 0x66, 0x04, 0x00);
    free(buf);

    /* Infinities are values like any other. */
    const double inf[] = {INFINITY, 2.0, INFINITY};
    buf = write_doubles("d5.parquet", inf, 3, &n);
    assert_contains(buf, n, 0x3c, 0x18, 0x08, D_PINF, 0x18, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00,
                    0x00, 0x00, 0x40, 0x16, 0x00);
    free(buf);

    /* Wrong setters are errors, not conversions; unknown types refused. */
    char path[128], err[NAGM_PQ_ERRBUF_SIZE];
    snprintf(path, sizeof path, "%s/d5.parquet", tmpdir);
    static const nagm_pq_column mixed[] = {{"i", NAGM_PQ_INT32, 0}, {"d", NAGM_PQ_DOUBLE, 0}};
    nagm_pq_writer *w;
    assert_int_equal(nagm_pq_open(path, mixed, 2, NULL, NULL, &w, err), 0);
    nagm_pq_put_f64(w, 0, 1.0);
    assert_int_equal(nagm_pq_end_row(w), -1);
    assert_non_null(strstr(nagm_pq_error(w), "wrong type"));
    nagm_pq_abort(w);
    assert_int_equal(nagm_pq_open(path, mixed, 2, NULL, NULL, &w, err), 0);
    nagm_pq_put_i32(w, 0, 1);
    nagm_pq_put_i64(w, 1, 1);
    assert_int_equal(nagm_pq_end_row(w), -1);
    assert_non_null(strstr(nagm_pq_error(w), "wrong type"));
    nagm_pq_abort(w);
    static const nagm_pq_column bad[] = {{"x", (nagm_pq_type)(NAGM_PQ_DOUBLE + 1), 0}};
    assert_int_equal(nagm_pq_open(path, bad, 1, NULL, NULL, &w, err), -1);
}

static void test_write_error_reported(void **state)
{
    (void)state;
    if (access("/dev/full", W_OK) != 0)
        skip();
    char err[NAGM_PQ_ERRBUF_SIZE];
    nagm_pq_writer *w;
    assert_int_equal(nagm_pq_open("/dev/full", schema, 4, NULL, NULL, &w, err), 0);
    for (int r = 0; r < 10; r++) {
        nagm_pq_put_i64(w, 0, r);
        nagm_pq_put_str(w, 1, "x", 1);
        nagm_pq_put_i32(w, 2, r);
        nagm_pq_put_i64(w, 3, r);
        nagm_pq_end_row(w);
    }
    assert_int_equal(nagm_pq_close(w, err), -1);
    assert_non_null(strstr(err, "write failed"));
}

/* ---- packet table as text ----------------------------------------------------- */

static nagm_pkt sample(int v6)
{
    nagm_pkt p;
    memset(&p, 0, sizeof p);
    p.ts_ns = 1580472000123456789LL; /* 2020-01-31T12:00:00.123456789Z */
    if (v6) {
        nagm_addr_parse("2001:db8::1", &p.src);
        nagm_addr_parse("::ffff:10.1.2.3", &p.dst);
        p.ts_ns = -1; /* one nanosecond before the epoch: floors to ...59.999999 */
    } else {
        p.src = nagm_addr_v4(0xc0a80001); /* 192.168.0.1 */
        p.dst = nagm_addr_v4(0x08080808);
    }
    p.src_port = 443;
    p.dst_port = 65535;
    p.ttl = 64;
    p.proto = v6 ? 58 : 6;
    p.flags = 0x12;
    p.len = 1500;
    p.caplen = 96;
    p.wirelen = 1514;
    p.linktype = 1;
    return p;
}

static void test_pktout_text(void **state)
{
    (void)state;
    char path[128], err[NAGM_PQ_ERRBUF_SIZE];
    static const char *const want[2] = {
        "ts,src_ip,dst_ip,src_port,dst_port,ttl,proto,flags,len,caplen,wirelen,linktype\r\n"
        "2020-01-31T12:00:00.123456Z,192.168.0.1,8.8.8.8,443,65535,64,6,18,1500,96,1514,1\r\n"
        "1969-12-31T23:59:59.999999Z,2001:db8::1,::ffff:10.1.2.3,443,65535,64,58,18,1500,96,"
        "1514,1\r\n",
        "{\"ts\":\"2020-01-31T12:00:00.123456Z\",\"src_ip\":\"192.168.0.1\",\"dst_ip\":"
        "\"8.8.8.8\",\"src_port\":443,\"dst_port\":65535,\"ttl\":64,\"proto\":6,\"flags\":18,"
        "\"len\":1500,\"caplen\":96,\"wirelen\":1514,\"linktype\":1}\n"
        "{\"ts\":\"1969-12-31T23:59:59.999999Z\",\"src_ip\":\"2001:db8::1\",\"dst_ip\":"
        "\"::ffff:10.1.2.3\",\"src_port\":443,\"dst_port\":65535,\"ttl\":64,\"proto\":58,"
        "\"flags\":18,\"len\":1500,\"caplen\":96,\"wirelen\":1514,\"linktype\":1}\n",
    };
    static const char *const names[2] = {"p.csv", "p.jsonl"};
    static const nagm_format fmts[2] = {NAGM_FMT_CSV, NAGM_FMT_JSONL};
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/%s", tmpdir, names[k]);
        nagm_pktout *w;
        assert_int_equal(nagm_pktout_open(path, NAGM_FMT_AUTO, NULL, &w, err), 0);
        assert_int_equal(nagm_pktout_format(w), fmts[k]);
        nagm_pkt a = sample(0), b = sample(1);
        assert_int_equal(nagm_pktout_write(w, &a), 0);
        assert_int_equal(nagm_pktout_write(w, &b), 0);
        assert_true(nagm_pktout_rows(w) == 2);
        assert_int_equal(nagm_pktout_close(w, err), 0);
        size_t n;
        char *buf = read_file(path, &n);
        assert_string_equal(buf, want[k]);
        free(buf);
    }

    /* Empty CSV keeps its header; JSONL is empty. */
    snprintf(path, sizeof path, "%s/e.csv", tmpdir);
    nagm_pktout *w;
    assert_int_equal(nagm_pktout_open(path, NAGM_FMT_AUTO, NULL, &w, err), 0);
    assert_int_equal(nagm_pktout_close(w, err), 0);
    size_t n;
    char *buf = read_file(path, &n);
    assert_string_equal(buf,
                        "ts,src_ip,dst_ip,src_port,dst_port,ttl,proto,flags,len,caplen,wirelen,"
                        "linktype\r\n");
    free(buf);

    /* No extension: CSV. Unwritable: error naming the path. */
    snprintf(path, sizeof path, "%s/noext", tmpdir);
    assert_int_equal(nagm_pktout_open(path, NAGM_FMT_AUTO, NULL, &w, err), 0);
    assert_int_equal(nagm_pktout_format(w), NAGM_FMT_CSV);
    assert_int_equal(nagm_pktout_close(w, err), 0);
    assert_int_equal(nagm_pktout_open("/nonexistent/p.parquet", NAGM_FMT_AUTO, NULL, &w, err), -1);
    assert_non_null(strstr(err, "/nonexistent/p.parquet"));
}

static void test_pktout_parquet_and_sink(void **state)
{
    (void)state;
    char path[128], err[NAGM_PQ_ERRBUF_SIZE];
    snprintf(path, sizeof path, "%s/p.parquet", tmpdir);
    nagm_pktout *w;
    assert_int_equal(nagm_pktout_open(path, NAGM_FMT_AUTO, NULL, &w, err), 0);
    assert_int_equal(nagm_pktout_format(w), NAGM_FMT_PARQUET);
    nagm_pkt a = sample(0), b = sample(1);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(nagm_pktout_write(w, i % 3 ? &a : &b), 0);
    assert_int_equal(nagm_pktout_close(w, err), 0);
    size_t n;
    char *buf = read_file(path, &n);
    check_frame(buf, n);
    free(buf);

    snprintf(path, sizeof path, "%s/agm.parquet", tmpdir);
    nagm_sink *s = nagm_sink_parquet_new(path, NULL, err);
    assert_non_null(s);
    nagm_agm_row row;
    memset(&row, 0, sizeof row);
    row.src = a.src;
    row.dst_ip_mode = a.dst;
    row.pkts = 3;
    assert_int_equal(s->write(s, &row, 1), NAGM_SINK_OK);
    assert_int_equal(s->close(s), NAGM_SINK_OK);
    buf = read_file(path, &n);
    check_frame(buf, n);
    free(buf);
    assert_null(nagm_sink_parquet_new("/nonexistent/a.parquet", NULL, err));
}

/* The writers' printf-free dotted quad must equal nagm_addr_format's text:
 * every value of every octet, plus random addresses. */
static void test_v4_format(void **state)
{
    (void)state;
    char a[NAGM_ADDR_STRLEN], b[NAGM_ADDR_STRLEN];
    srand(11);
    for (uint32_t i = 0; i < 256 * 4 + 10000; i++) {
        uint32_t v = i < 1024 ? (i % 256) << (8 * (i / 256)) | 0x01010101u * (i % 3)
                              : (uint32_t)rand() ^ ((uint32_t)rand() << 16);
        nagm_addr x = nagm_addr_v4(v);
        size_t na = nagm_addr_format(&x, a), nb = nagm_v4_format(x.b, b);
        assert_string_equal(a, b);
        assert_int_equal(na, nb);
    }
    nagm_addr_cache c;
    memset(&c, 0, sizeof c);
    nagm_addr x6, x4 = nagm_addr_v4(0x7f000001);
    nagm_addr_parse("2001:db8::7f00:1", &x6);
    size_t n;
    assert_string_equal(nagm_addr_cached(&c, &x4, &n), "127.0.0.1");
    assert_string_equal(nagm_addr_cached(&c, &x6, &n), "2001:db8::7f00:1");
    assert_int_equal(n, 16);
    assert_string_equal(nagm_addr_cached(&c, &x4, &n), "127.0.0.1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bit_width),
        cmocka_unit_test(test_rle_spec_example),
        cmocka_unit_test(test_rle_runs),
        cmocka_unit_test(test_rle_roundtrip),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_empty_file),
        cmocka_unit_test(test_many_row_groups),
        cmocka_unit_test(test_misuse),
        cmocka_unit_test(test_double_column),
        cmocka_unit_test(test_write_error_reported),
        cmocka_unit_test(test_v4_format),
        cmocka_unit_test(test_pktout_text),
        cmocka_unit_test(test_pktout_parquet_and_sink),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
