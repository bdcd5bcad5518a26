/* Serialized AGM state (agg_serial.h): a state written out in chunks, routed
 * to owners and merged back gives exactly the rows of the state itself, also
 * when the packets were first split over several partial states; damaged
 * bytes give an error, never a bad read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agg/agg_serial.h"
#include "netagm/agg.h"
#include "netagm/pipeline.h"
#include "xorshift.h"

static uint64_t rng_state = 0x243f6a8885a308d3ULL;

static uint64_t rnd(void) { return xorshift64(&rng_state); }

/* A packet from a small, skewed population: IPv4 and IPv6 sources, a few
 * busy ones with many distinct values, times spread over several windows. */
static nagm_pkt random_pkt(void)
{
    nagm_pkt p;
    memset(&p, 0, sizeof p);
    int busy = rnd() % 4 == 0;
    uint32_t s = busy ? (uint32_t)(rnd() % 3) : (uint32_t)(rnd() % 200);
    if (rnd() % 5 == 0) {
        p.src.family = p.dst.family = 6;
        p.src.b[0] = 0x20;
        p.src.b[1] = 0x01;
        p.src.b[14] = (uint8_t)(s >> 8);
        p.src.b[15] = (uint8_t)s;
        p.dst.b[0] = 0xfe;
        p.dst.b[15] = (uint8_t)(busy ? rnd() : rnd() % 3);
        p.dst.b[7] = (uint8_t)(rnd() % 2);
    } else {
        p.src = nagm_addr_v4(0x0a000000u + s);
        p.dst = nagm_addr_v4(busy ? (uint32_t)rnd() : 0xc0a80000u + (uint32_t)(rnd() % 4));
    }
    p.ts_ns = 1500000000LL * 1000000000LL + (int64_t)(rnd() % 400) * 1000000000LL +
              (int64_t)(rnd() % 1000000000);
    p.src_port = (uint16_t)(busy ? rnd() : 1024 + rnd() % 3);
    p.dst_port = (uint16_t)(rnd() % 2 ? 80 : rnd() % 70000);
    p.ttl = (uint8_t)(rnd() % 3 ? 64 : rnd());
    p.proto = rnd() % 7 ? 6 : 17;
    p.flags = (uint8_t)(p.proto == 6 ? rnd() % 32 : 0);
    p.len = (uint32_t)(40 + rnd() % (busy ? 1500 : 3));
    return p;
}

static void assert_rows_equal(const nagm_agm_row *a, size_t na, const nagm_agm_row *b, size_t nb,
                              int check_times)
{
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        nagm_agm_row x = a[i], y = b[i];
        if (!check_times) {
            x.window_start_ns = y.window_start_ns = 0;
            x.window_end_ns = y.window_end_ns = 0;
        }
        if (memcmp(&x, &y, sizeof x) != 0) {
            char s1[NAGM_ADDR_STRLEN], s2[NAGM_ADDR_STRLEN];
            nagm_addr_format(&x.src, s1);
            nagm_addr_format(&y.src, s2);
            fail_msg("row %zu differs: %s vs %s", i, s1, s2);
        }
    }
}

static nagm_agm_row *rows_of(nagm_agg *a, size_t *n)
{
    nagm_agm_row *rows;
    *n = nagm_agg_take(a, INT64_MAX, &rows);
    assert_true(*n != (size_t)-1);
    return rows;
}

/* Serialize src into nparts buffers of at most limit bytes per round and
 * merge each owner's segments into own[owner]. */
static void shuffle(nagm_agg *src, int nparts, size_t limit, int consume, nagm_agg **own)
{
    agg_ser *s = agg_ser_new(src, nparts, consume);
    assert_non_null(s);
    agg_buf *bufs = calloc((size_t)nparts, sizeof *bufs);
    int rc;
    size_t rounds = 0, before = nagm_agg_nrecords(src);
    do {
        rc = agg_ser_fill(s, bufs, limit);
        assert_true(rc == 0 || rc == 1);
        rounds++;
        for (int d = 0; d < nparts; d++) {
            char err[128] = "";
            int m = agg_ser_merge(own[d], bufs[d].p, bufs[d].len, err, sizeof err);
            if (m != 0)
                fail_msg("merge into part %d: %d %s", d, m, err);
        }
    } while (rc == 1);
    assert_int_equal(agg_ser_records(s), before);
    if (limit < 64)
        assert_true(rounds >= before / (size_t)nparts);
    if (consume)
        assert_int_equal(nagm_agg_nwindows(src), 0);
    for (int d = 0; d < nparts; d++)
        agg_buf_free(&bufs[d]);
    free(bufs);
    agg_ser_free(s);
}

static void check_roundtrip(int64_t window_ns, size_t npkts, int nparts, size_t limit,
                            int consume)
{
    nagm_agg *a = nagm_agg_new(window_ns), *ref = nagm_agg_new(window_ns);
    for (size_t i = 0; i < npkts; i++) {
        nagm_pkt p = random_pkt();
        assert_int_equal(nagm_agg_add(a, &p), 0);
        assert_int_equal(nagm_agg_add(ref, &p), 0);
    }
    nagm_agg **own = calloc((size_t)nparts, sizeof *own);
    for (int d = 0; d < nparts; d++)
        own[d] = nagm_agg_new(window_ns);
    shuffle(a, nparts, limit, consume, own);
    nagm_agg *all = nagm_agg_new(window_ns);
    for (int d = 0; d < nparts; d++) {
        /* Every record reached its owner and only its owner. */
        nagm_agm_row *r;
        size_t n;
        nagm_agg *copy = nagm_agg_new(window_ns);
        assert_int_equal(nagm_agg_merge(copy, own[d]), 0);
        r = rows_of(copy, &n);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(agg_ser_owner(window_ns ? r[i].window_start_ns : 0, &r[i].src, nparts),
                             d);
        free(r);
        nagm_agg_free(copy);
        assert_int_equal(nagm_agg_merge(all, own[d]), 0);
        nagm_agg_free(own[d]);
    }
    free(own);
    size_t n1, n2;
    nagm_agm_row *r1 = rows_of(ref, &n1), *r2 = rows_of(all, &n2);
    assert_true(n1 > 0);
    assert_rows_equal(r1, n1, r2, n2, window_ns != 0);
    free(r1);
    free(r2);
    nagm_agg_free(a);
    nagm_agg_free(ref);
    nagm_agg_free(all);
}

static void test_roundtrip_windows(void **state)
{
    (void)state;
    int parts[] = {1, 2, 3, 5};
    size_t limits[] = {1, 300, 1 << 20};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
        for (size_t j = 0; j < sizeof limits / sizeof *limits; j++)
            for (int consume = 0; consume < 2; consume++)
                check_roundtrip(60 * 1000000000LL, 3000, parts[i], limits[j], consume);
}

static void test_roundtrip_one_window(void **state)
{
    (void)state;
    check_roundtrip(0, 5000, 1, 1 << 20, 0);
    check_roundtrip(0, 5000, 4, 100, 1);
}

/* The MPI case: packets of one source spread over several partial states,
 * each shuffled to owners; the owners' union equals one state of all. */
static void test_partial_states_merge_exactly(void **state)
{
    (void)state;
    const int nsplit = 3, nparts = 2;
    for (int w = 0; w < 2; w++) {
        int64_t wns = w ? 30 * 1000000000LL : 0;
        nagm_agg *ref = nagm_agg_new(wns);
        nagm_agg *part[3];
        for (int k = 0; k < nsplit; k++)
            part[k] = nagm_agg_new(wns);
        for (int i = 0; i < 6000; i++) {
            nagm_pkt p = random_pkt();
            assert_int_equal(nagm_agg_add(ref, &p), 0);
            assert_int_equal(nagm_agg_add(part[rnd() % nsplit], &p), 0);
        }
        nagm_agg *own[2] = {nagm_agg_new(wns), nagm_agg_new(wns)};
        for (int k = 0; k < nsplit; k++) {
            shuffle(part[k], nparts, 512, 1, own);
            nagm_agg_free(part[k]);
        }
        nagm_agg *all = nagm_agg_new(wns);
        for (int d = 0; d < nparts; d++) {
            assert_int_equal(nagm_agg_merge(all, own[d]), 0);
            nagm_agg_free(own[d]);
        }
        size_t n1, n2;
        nagm_agm_row *r1 = rows_of(ref, &n1), *r2 = rows_of(all, &n2);
        assert_rows_equal(r1, n1, r2, n2, wns != 0);
        free(r1);
        free(r2);
        nagm_agg_free(ref);
        nagm_agg_free(all);
    }
}

/* Counts past 32 bits survive the varint encoding. */
static void test_large_counts(void **state)
{
    (void)state;
    nagm_agg *b = nagm_agg_new(0);
    for (int i = 0; i < 50; i++) {
        nagm_pkt p = random_pkt();
        assert_int_equal(nagm_agg_add(b, &p), 0);
    }
    for (int k = 0; k < 34; k++) {
        nagm_agg *c = nagm_agg_new(0);
        assert_int_equal(nagm_agg_merge(c, b), 0);
        assert_int_equal(nagm_agg_merge(c, b), 0);
        nagm_agg_free(b);
        b = c;
    }
    nagm_agg *ref = nagm_agg_new(0), *own = nagm_agg_new(0);
    assert_int_equal(nagm_agg_merge(ref, b), 0);
    shuffle(b, 1, 1 << 20, 0, &own);
    size_t n1, n2;
    nagm_agm_row *r1 = rows_of(ref, &n1), *r2 = rows_of(own, &n2);
    assert_true(n1 > 0 && r1[0].pkts >= (1ULL << 34));
    assert_rows_equal(r1, n1, r2, n2, 0);
    free(r1);
    free(r2);
    nagm_agg_free(b);
    nagm_agg_free(ref);
    nagm_agg_free(own);
}

/* One segment holding every record of a small state. */
static agg_buf one_segment(int64_t wns, int npkts)
{
    nagm_agg *a = nagm_agg_new(wns);
    for (int i = 0; i < npkts; i++) {
        nagm_pkt p = random_pkt();
        assert_int_equal(nagm_agg_add(a, &p), 0);
    }
    agg_ser *s = agg_ser_new(a, 1, 0);
    agg_buf b = {0};
    assert_int_equal(agg_ser_fill(s, &b, SIZE_MAX), 0);
    agg_ser_free(s);
    nagm_agg_free(a);
    return b;
}

static void test_damaged_segments(void **state)
{
    (void)state;
    agg_buf b = one_segment(10 * 1000000000LL, 120);
    char err[128];
    nagm_agg *ok = nagm_agg_new(10 * 1000000000LL);
    assert_int_equal(agg_ser_merge(ok, b.p, b.len, err, sizeof err), 0);
    nagm_agg_free(ok);

    /* Every truncation: an error (or, at a block boundary, a shorter valid
     * segment), and no read past the end (ASan would see it). */
    for (size_t len = 1; len < b.len; len++) {
        uint8_t *copy = malloc(len);
        memcpy(copy, b.p, len);
        nagm_agg *a = nagm_agg_new(10 * 1000000000LL);
        int rc = agg_ser_merge(a, copy, len, err, sizeof err);
        assert_true(rc == 0 || rc == -2);
        if (len == b.len - 1 || len < 13)
            assert_int_equal(rc, -2);
        nagm_agg_free(a);
        free(copy);
    }
    /* Single-bit damage anywhere: an error or a valid state, never a crash. */
    for (size_t i = 0; i < b.len; i += 3) {
        uint8_t *copy = malloc(b.len);
        memcpy(copy, b.p, b.len);
        copy[i] ^= (uint8_t)(1u << (i % 8));
        nagm_agg *a = nagm_agg_new(10 * 1000000000LL);
        int rc = agg_ser_merge(a, copy, b.len, err, sizeof err);
        assert_true(rc == 0 || rc == -2);
        nagm_agg_free(a);
        free(copy);
    }
    /* Another window length is refused with a reason. */
    nagm_agg *other = nagm_agg_new(0);
    err[0] = 0;
    assert_int_equal(agg_ser_merge(other, b.p, b.len, err, sizeof err), -2);
    assert_non_null(strstr(err, "window"));
    nagm_agg_free(other);
    /* Bad magic. */
    b.p[0] ^= 0xff;
    nagm_agg *a = nagm_agg_new(10 * 1000000000LL);
    assert_int_equal(agg_ser_merge(a, b.p, b.len, err, sizeof err), -2);
    nagm_agg_free(a);
    agg_buf_free(&b);
}

static int add_pkts(void *ctx, const nagm_pkt *pkts, size_t n)
{
    nagm_agg **two = ctx;
    for (size_t i = 0; i < n; i++)
        if (nagm_agg_add(two[0], &pkts[i]) || nagm_agg_add(two[1], &pkts[i]))
            return 1;
    return 0;
}

/* A real capture, through the serializer with three owners. */
static void test_real_capture(void **state)
{
    (void)state;
    const char *dir = getenv("NETAGM_PCAPS");
    if (!dir)
        skip();
    char path[4096];
    snprintf(path, sizeof path, "%s/lucaderi__sgr/2022/Favilli/tests/pkt.TCP.synflood.spoofed.pcap",
             dir);
    const char *inputs[] = {path};
    for (int w = 0; w < 2; w++) {
        int64_t wns = w ? 1000000000LL : 0;
        nagm_run_opts o;
        memset(&o, 0, sizeof o);
        o.inputs = inputs;
        o.ninputs = 1;
        o.jobs = 1;
        nagm_agg *two[2] = {nagm_agg_new(wns), nagm_agg_new(wns)};
        nagm_stats st;
        char errbuf[NAGM_ERRBUF_SIZE];
        if (nagm_run_packets(&o, add_pkts, two, &st, errbuf) != NAGM_EXIT_OK) {
            nagm_agg_free(two[0]);
            nagm_agg_free(two[1]);
            skip();
        }
        assert_true(nagm_agg_nrecords(two[0]) > 1000);
        nagm_agg *own[3] = {nagm_agg_new(wns), nagm_agg_new(wns), nagm_agg_new(wns)};
        shuffle(two[0], 3, 64 * 1024, 1, own);
        nagm_agg *all = nagm_agg_new(wns);
        for (int d = 0; d < 3; d++) {
            assert_true(nagm_agg_nrecords(own[d]) > 0);
            assert_int_equal(nagm_agg_merge(all, own[d]), 0);
            nagm_agg_free(own[d]);
        }
        size_t n1, n2;
        nagm_agm_row *r1 = rows_of(two[1], &n1), *r2 = rows_of(all, &n2);
        assert_rows_equal(r1, n1, r2, n2, wns != 0);
        free(r1);
        free(r2);
        nagm_agg_free(two[0]);
        nagm_agg_free(two[1]);
        nagm_agg_free(all);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_windows),
        cmocka_unit_test(test_roundtrip_one_window),
        cmocka_unit_test(test_partial_states_merge_exactly),
        cmocka_unit_test(test_large_counts),
        cmocka_unit_test(test_damaged_segments),
        cmocka_unit_test(test_real_capture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
