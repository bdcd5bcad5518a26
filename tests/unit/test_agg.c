/* Aggregator: exact distinct counts, modes with the tie rule, windows,
 * merging, and agreement with a brute-force recount on random streams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "netagm/agg.h"

static nagm_pkt pkt4(int64_t ts_s, uint32_t src, uint32_t dst, uint16_t sp, uint16_t dp,
                     uint8_t ttl, uint8_t proto, uint8_t flags, uint32_t len)
{
    nagm_pkt p;
    memset(&p, 0, sizeof p);
    p.ts_ns = ts_s * 1000000000LL;
    p.src = nagm_addr_v4(src);
    p.dst = nagm_addr_v4(dst);
    p.src_port = sp;
    p.dst_port = dp;
    p.ttl = ttl;
    p.proto = proto;
    p.flags = flags;
    p.len = len;
    return p;
}

static size_t take_all(nagm_agg *a, nagm_agm_row **rows)
{
    size_t n = nagm_agg_take(a, INT64_MAX, rows);
    assert_true(n != (size_t)-1);
    return n;
}

static void test_tie_goes_to_smallest(void **state)
{
    (void)state;
    nagm_agg *a = nagm_agg_new(0);
    /* dst_port: 80 x2, 22 x2, 443 x1 -> tie between 22 and 80: 22 wins.
     * Insert the larger value first so that the first-seen value would win
     * if ties were broken by arrival. */
    uint16_t ports[] = {80, 80, 443, 22, 22};
    for (int i = 0; i < 5; i++) {
        nagm_pkt p = pkt4(100 + i, 0x0a000001, 0x0a000002 + (uint32_t)(i % 2), 1000, ports[i],
                          64, 6, 0x02, 60);
        assert_int_equal(nagm_agg_add(a, &p), 0);
    }
    nagm_agm_row *rows;
    assert_int_equal(take_all(a, &rows), 1);
    assert_int_equal(rows[0].pkts, 5);
    assert_int_equal(rows[0].uniq[NAGM_F_DST_PORT], 3);
    assert_int_equal(rows[0].mode[NAGM_F_DST_PORT], 22);
    assert_int_equal(rows[0].mode_pkts[NAGM_F_DST_PORT], 2);
    /* dst_ip: .2 x3, .3 x2 */
    assert_int_equal(rows[0].uniq[NAGM_F_DST_IP], 2);
    assert_int_equal(rows[0].mode_pkts[NAGM_F_DST_IP], 3);
    assert_int_equal(rows[0].dst_ip_mode.b[3], 2);
    /* single-valued fields */
    assert_int_equal(rows[0].uniq[NAGM_F_TTL], 1);
    assert_int_equal(rows[0].mode[NAGM_F_TTL], 64);
    assert_int_equal(rows[0].mode_pkts[NAGM_F_TTL], 5);
    /* one window: start/end are the first and last timestamps */
    assert_int_equal(rows[0].window_start_ns, 100 * 1000000000LL);
    assert_int_equal(rows[0].window_end_ns, 104 * 1000000000LL);
    free(rows);
    nagm_agg_free(a);
}

static void test_ipv6_dst_tie_by_address(void **state)
{
    (void)state;
    nagm_agg *a = nagm_agg_new(0);
    nagm_pkt p;
    memset(&p, 0, sizeof p);
    p.src.family = p.dst.family = 6;
    p.src.b[15] = 1;
    /* two destinations, one packet each; the numerically smaller (which
     * arrives second and gets the larger intern id) must win the tie */
    p.dst.b[0] = 0x20;
    p.dst.b[15] = 9;
    assert_int_equal(nagm_agg_add(a, &p), 0);
    p.dst.b[15] = 3;
    assert_int_equal(nagm_agg_add(a, &p), 0);
    nagm_agm_row *rows;
    assert_int_equal(take_all(a, &rows), 1);
    assert_int_equal(rows[0].uniq[NAGM_F_DST_IP], 2);
    assert_int_equal(rows[0].dst_ip_mode.family, 6);
    assert_int_equal(rows[0].dst_ip_mode.b[15], 3);
    free(rows);
    nagm_agg_free(a);
}

static void test_windows_and_order(void **state)
{
    (void)state;
    nagm_agg *a = nagm_agg_new(60LL * 1000000000LL);
    /* out-of-order windows and sources, including IPv6 and a negative time */
    nagm_pkt p1 = pkt4(130, 0x0a000009, 1, 1, 1, 1, 17, 0, 28);
    nagm_pkt p2 = pkt4(61, 0x0a000009, 1, 1, 1, 1, 17, 0, 28);
    nagm_pkt p3 = pkt4(62, 0x01000000, 1, 1, 1, 1, 17, 0, 28);
    nagm_pkt p4 = pkt4(-1, 0x01000000, 1, 1, 1, 1, 17, 0, 28);
    nagm_pkt p6 = p2;
    p6.src.family = p6.dst.family = 6;
    memset(p6.src.b, 0, 16);
    assert_int_equal(nagm_agg_add(a, &p1), 0);
    assert_int_equal(nagm_agg_add(a, &p6), 0);
    assert_int_equal(nagm_agg_add(a, &p2), 0);
    assert_int_equal(nagm_agg_add(a, &p3), 0);
    assert_int_equal(nagm_agg_add(a, &p4), 0);
    assert_int_equal(nagm_agg_nwindows(a), 3);
    nagm_agm_row *rows;
    /* windows ending at or before 120 s: [-60,0) and [60,120) */
    size_t n = nagm_agg_take(a, 120LL * 1000000000LL, &rows);
    assert_int_equal(n, 4);
    assert_int_equal(rows[0].window_start_ns, -60LL * 1000000000LL);
    assert_int_equal(rows[1].window_start_ns, 60LL * 1000000000LL);
    assert_int_equal(rows[1].window_end_ns, 120LL * 1000000000LL);
    assert_int_equal(rows[1].src.b[0], 1);    /* 1.0.0.0 before 10.0.0.9 */
    assert_int_equal(rows[2].src.b[3], 9);
    assert_int_equal(rows[3].src.family, 6);  /* IPv4 before IPv6 */
    free(rows);
    assert_int_equal(nagm_agg_nwindows(a), 1);
    n = take_all(a, &rows);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].window_start_ns, 120LL * 1000000000LL);
    free(rows);
    nagm_agg_free(a);
}

/* Brute force: recount a random stream and compare with the aggregator,
 * both directly and after splitting the stream in three merged parts. */
static uint64_t rng_state = 42;
static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)((rng_state >> 33) % n);
}

static void check_against_bruteforce(const nagm_pkt *pk, size_t n, const nagm_agm_row *rows,
                                     size_t nrows)
{
    size_t seen = 0;
    for (size_t r = 0; r < nrows; r++) {
        const nagm_agm_row *row = &rows[r];
        for (int f = 0; f < NAGM_NFIELDS; f++) {
            /* histogram of field f for this source, by brute force */
            uint32_t vals[4096];
            uint64_t cnts[4096];
            size_t nv = 0;
            uint64_t pkts = 0;
            for (size_t i = 0; i < n; i++) {
                if (nagm_addr_cmp(&pk[i].src, &row->src) != 0)
                    continue;
                pkts++;
                uint32_t v = f == 0 ? ((uint32_t)pk[i].dst.b[2] << 8 | pk[i].dst.b[3])
                             : f == 1 ? pk[i].src_port
                             : f == 2 ? pk[i].dst_port
                             : f == 3 ? pk[i].ttl
                             : f == 4 ? pk[i].proto
                             : f == 5 ? pk[i].flags
                                      : pk[i].len;
                size_t k = 0;
                while (k < nv && vals[k] != v)
                    k++;
                if (k == nv) {
                    vals[nv] = v;
                    cnts[nv++] = 0;
                }
                cnts[k]++;
            }
            size_t best = 0;
            for (size_t k = 1; k < nv; k++)
                if (cnts[k] > cnts[best] || (cnts[k] == cnts[best] && vals[k] < vals[best]))
                    best = k;
            assert_int_equal(row->pkts, pkts);
            assert_int_equal(row->uniq[f], nv);
            assert_int_equal(row->mode_pkts[f], cnts[best]);
            uint32_t got = f == 0 ? ((uint32_t)row->dst_ip_mode.b[2] << 8 | row->dst_ip_mode.b[3])
                                  : row->mode[f];
            assert_int_equal(got, vals[best]);
            if (f == 0)
                seen += pkts;
        }
    }
    assert_int_equal(seen, n);
}

static void test_random_vs_bruteforce_and_merge(void **state)
{
    (void)state;
    enum { N = 20000 };
    nagm_pkt *pk = malloc(sizeof *pk * N);
    for (size_t i = 0; i < N; i++)
        pk[i] = pkt4(1000, 0x0a000000 + rnd(40), 0xc0a80000 + rnd(1 + rnd(300)),
                     (uint16_t)rnd(1 + rnd(50)), (uint16_t)rnd(8), (uint8_t)(60 + rnd(5)),
                     (uint8_t)(rnd(10) ? 6 : 17), (uint8_t)rnd(4), 40 + rnd(3));
    nagm_agg *a = nagm_agg_new(0);
    for (size_t i = 0; i < N; i++)
        assert_int_equal(nagm_agg_add(a, &pk[i]), 0);
    nagm_agm_row *rows;
    size_t nrows = take_all(a, &rows);
    assert_int_equal(nrows, 40);
    check_against_bruteforce(pk, N, rows, nrows);

    /* merged partial states (histogram union) give identical rows */
    nagm_agg *parts[3] = {nagm_agg_new(0), nagm_agg_new(0), nagm_agg_new(0)};
    for (size_t i = 0; i < N; i++)
        assert_int_equal(nagm_agg_add(parts[rnd(3)], &pk[i]), 0);
    assert_int_equal(nagm_agg_merge(parts[0], parts[1]), 0);
    assert_int_equal(nagm_agg_merge(parts[0], parts[2]), 0);
    nagm_agm_row *mrows;
    size_t nm = take_all(parts[0], &mrows);
    assert_int_equal(nm, nrows);
    assert_memory_equal(mrows, rows, sizeof *rows * nrows);
    free(mrows);
    free(rows);
    for (int i = 0; i < 3; i++)
        nagm_agg_free(parts[i]);
    nagm_agg_free(a);
    free(pk);
}

/* Saturated capture times at both ends of int64: windows stay aligned and
 * ordered, and no arithmetic wraps (UBSan checks the latter). */
static void test_extreme_times(void **state)
{
    (void)state;
    const int64_t w = 60LL * 1000000000LL;
    nagm_agg *a = nagm_agg_new(w);
    nagm_pkt lo = pkt4(0, 0x0a000001, 1, 1, 1, 1, 6, 0, 40);
    nagm_pkt hi = lo;
    lo.ts_ns = INT64_MIN + 5;
    hi.ts_ns = INT64_MAX;
    assert_int_equal(nagm_agg_add(a, &hi), 0);
    assert_int_equal(nagm_agg_add(a, &lo), 0);
    nagm_agm_row *rows;
    assert_int_equal(take_all(a, &rows), 2);
    /* the low window starts at the first multiple of w that int64 holds */
    assert_int_equal(rows[0].window_start_ns % w, 0);
    assert_true(rows[0].window_start_ns < 0 && rows[0].window_end_ns > rows[0].window_start_ns);
    /* the high one ends at INT64_MAX instead of wrapping into the past */
    assert_int_equal(rows[1].window_start_ns, (INT64_MAX / w) * w);
    assert_int_equal(rows[1].window_end_ns, INT64_MAX);
    free(rows);
    nagm_agg_free(a);
}

static void test_merge_window_mismatch(void **state)
{
    (void)state;
    nagm_agg *a = nagm_agg_new(0), *b = nagm_agg_new(10);
    assert_int_equal(nagm_agg_merge(a, b), -1);
    nagm_agg_free(a);
    nagm_agg_free(b);
    assert_null(nagm_agg_new(-5));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tie_goes_to_smallest),
        cmocka_unit_test(test_ipv6_dst_tie_by_address),
        cmocka_unit_test(test_windows_and_order),
        cmocka_unit_test(test_random_vs_bruteforce_and_merge),
        cmocka_unit_test(test_extreme_times),
        cmocka_unit_test(test_merge_window_mismatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
