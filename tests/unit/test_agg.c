/* Aggregator: exact distinct counts, modes with the tie rule, windows,
 * merging, and agreement with a brute-force recount on random streams; the
 * window state directly, through every form a field takes (values in the
 * record, a histogram table, 64-bit counts) and the moves between them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agg/agg_window.h"
#include "netagm/agg.h"
#include "xorshift.h"

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

/* ---- the window state: every form of a field, against a reference ------------ */

/* The reference histogram of one field of one source: keys are addresses for
 * dst_ip and numbers (in a.b[0..3], family 0) otherwise, so that one
 * comparison (nagm_addr_cmp) gives the output order of both. */
typedef struct ref_val {
    nagm_addr key;
    uint64_t cnt;
} ref_val;

typedef struct ref_src {
    nagm_addr src;
    ref_val *vals[NAGM_NFIELDS];
    size_t n[NAGM_NFIELDS];
} ref_src;

#define REF_MAXVALS 4096

static nagm_addr num_key(uint32_t v)
{
    nagm_addr a = nagm_addr_v4(v);
    a.family = 0;
    return a;
}

static void ref_init(ref_src *r, const nagm_addr *src)
{
    memset(r, 0, sizeof *r);
    r->src = *src;
    for (int f = 0; f < NAGM_NFIELDS; f++) {
        r->vals[f] = calloc(REF_MAXVALS, sizeof *r->vals[f]);
        assert_non_null(r->vals[f]);
    }
}

static void ref_fini(ref_src *r)
{
    for (int f = 0; f < NAGM_NFIELDS; f++)
        free(r->vals[f]);
}

static void ref_add(ref_src *r, int f, const nagm_addr *key, uint64_t n)
{
    for (size_t i = 0; i < r->n[f]; i++)
        if (nagm_addr_cmp(&r->vals[f][i].key, key) == 0) {
            r->vals[f][i].cnt += n;
            return;
        }
    assert_true(r->n[f] < REF_MAXVALS);
    r->vals[f][r->n[f]].key = *key;
    r->vals[f][r->n[f]++].cnt = n;
}

static void ref_add_pkt(ref_src *r, const nagm_pkt *p)
{
    nagm_addr k[NAGM_NFIELDS] = {p->dst,           num_key(p->src_port), num_key(p->dst_port),
                                 num_key(p->ttl),  num_key(p->proto),    num_key(p->flags),
                                 num_key(p->len)};
    for (int f = 0; f < NAGM_NFIELDS; f++)
        ref_add(r, f, &k[f], 1);
}

typedef struct seen_ctx {
    const agg_window *w;
    const ref_src *ref;
    int f;
    size_t nseen;
} seen_ctx;

/* Each value the window reports must be in the reference with its count. */
static void seen_one(void *ctx, uint32_t val, uint64_t cnt)
{
    seen_ctx *c = ctx;
    nagm_addr key = c->f != NAGM_F_DST_IP     ? num_key(val)
                    : c->ref->src.family == 6 ? c->w->v6.addrs[val]
                                              : nagm_addr_v4(val);
    size_t i = 0;
    while (i < c->ref->n[c->f] && nagm_addr_cmp(&c->ref->vals[c->f][i].key, &key) != 0)
        i++;
    assert_true(i < c->ref->n[c->f]);
    assert_int_equal(cnt, c->ref->vals[c->f][i].cnt);
    c->nseen++;
}

/* The window's record of ref's source has exactly the reference's
 * histograms, distinct counts and modes (ties to the smallest value). */
static void check_source(const agg_window *w, const ref_src *ref)
{
    uint32_t r = 0;
    while (r < w->nrecs && nagm_addr_cmp(&w->recs[r].src, &ref->src) != 0)
        r++;
    assert_true(r < w->nrecs);
    nagm_agm_row *rows = malloc(sizeof *rows * w->nrecs);
    assert_non_null(rows);
    aggw_rows(w, 0, 1, rows);
    const nagm_agm_row *row = &rows[r];
    for (int f = 0; f < NAGM_NFIELDS; f++) {
        seen_ctx c = {w, ref, f, 0};
        aggw_field_values(w, r, f, seen_one, &c);
        assert_int_equal(c.nseen, ref->n[f]);
        assert_int_equal(row->uniq[f], ref->n[f]);
        if (!ref->n[f])
            continue;
        const ref_val *best = &ref->vals[f][0];
        for (size_t i = 1; i < ref->n[f]; i++) {
            const ref_val *v = &ref->vals[f][i];
            if (v->cnt > best->cnt ||
                (v->cnt == best->cnt && nagm_addr_cmp(&v->key, &best->key) < 0))
                best = v;
        }
        assert_int_equal(row->mode_pkts[f], best->cnt);
        nagm_addr got = f == NAGM_F_DST_IP ? row->dst_ip_mode : num_key(row->mode[f]);
        assert_int_equal(nagm_addr_cmp(&got, &best->key), 0);
    }
    free(rows);
}

/* Fields taking every form in turn: one value, two in the record (the other
 * overtaking the mode), a table of 4 buckets, tables growing; value 0 (the
 * empty bucket's value) included. One field in turn per source, a window
 * checked after every packet or batch, single adds and batches mixed. */
static void test_window_forms_vs_reference(void **state)
{
    (void)state;
    enum { NSRC = 8, N = 6000 };
    static const uint32_t domain[NSRC] = {1, 2, 3, 4, 9, 40, 300, 3000};
    uint64_t rs = 0x9e3779b97f4a7c15ULL;
    ref_src ref[NSRC];
    for (int s = 0; s < NSRC; s++) {
        nagm_addr a = nagm_addr_v4(0x0a000000u + (uint32_t)s);
        if (s >= 6) {
            memset(&a, 0, sizeof a);
            a.family = 6;
            a.b[0] = 0x20;
            a.b[15] = (uint8_t)s;
        }
        ref_init(&ref[s], &a);
    }
    nagm_pkt *pk = calloc(N, sizeof *pk);
    int *who = calloc(N, sizeof *who);
    assert_non_null(pk);
    assert_non_null(who);
    for (size_t i = 0; i < N; i++) {
        int s = (int)(xorshift64(&rs) % NSRC);
        /* skewed: small indices are frequent, so counts tie and overtake */
        uint32_t d = domain[(s + i / 1500) % NSRC];
        uint32_t v = (uint32_t)(xorshift64(&rs) % (1 + xorshift64(&rs) % d));
        nagm_pkt *p = &pk[i];
        p->src = ref[s].src;
        if (s >= 6) {
            p->dst.family = 6;
            p->dst.b[0] = 0xfe;
            p->dst.b[14] = (uint8_t)(v >> 8);
            p->dst.b[15] = (uint8_t)v;
        } else {
            p->dst = nagm_addr_v4(v * 2654435761u); /* scattered, 0 included */
        }
        p->src_port = (uint16_t)(xorshift64(&rs) % (1 + xorshift64(&rs) % d));
        p->dst_port = (uint16_t)(v % 5 ? 80 * (v % 7) : 443);
        p->ttl = (uint8_t)(64 - xorshift64(&rs) % (1 + xorshift64(&rs) % 3));
        p->proto = xorshift64(&rs) % 3 ? 6 : 17;
        p->flags = (uint8_t)(xorshift64(&rs) % (1 + xorshift64(&rs) % 9));
        p->len = 40 + v % 700;
        who[i] = s;
    }
    agg_window *w = aggw_new(0);
    assert_non_null(w);
    size_t i = 0;
    while (i < N) {
        size_t k = 1 + xorshift64(&rs) % AGGW_BATCH;
        if (k > N - i)
            k = N - i;
        const nagm_pkt *run[AGGW_BATCH];
        for (size_t j = 0; j < k; j++) {
            run[j] = &pk[i + j];
            ref_add_pkt(&ref[who[i + j]], &pk[i + j]);
        }
        if (k % 2)
            for (size_t j = 0; j < k; j++)
                assert_int_equal(aggw_add(w, run[j]), 0);
        else
            assert_int_equal(aggw_add_batch(w, run, k), 0);
        for (size_t j = 0; j < k; j++)
            check_source(w, &ref[who[i + j]]);
        i += k;
    }
    assert_int_equal(w->nrecs, NSRC);

    /* histogram union: three partial windows merged, into an empty window
     * and into one that already holds a part */
    agg_window *part[3] = {aggw_new(0), aggw_new(0), aggw_new(0)};
    for (i = 0; i < N; i++)
        assert_int_equal(aggw_add(part[xorshift64(&rs) % 3], &pk[i]), 0);
    agg_window *m = aggw_new(0);
    for (int j = 0; j < 3; j++)
        assert_int_equal(aggw_merge(m, part[j]), 0);
    assert_int_equal(aggw_merge(part[1], part[0]), 0);
    assert_int_equal(aggw_merge(part[1], part[2]), 0);
    for (int s = 0; s < NSRC; s++) {
        check_source(m, &ref[s]);
        check_source(part[1], &ref[s]);
    }
    for (int j = 0; j < 3; j++)
        aggw_free(part[j]);
    aggw_free(m);
    aggw_free(w);
    for (int s = 0; s < NSRC; s++)
        ref_fini(&ref[s]);
    free(pk);
    free(who);
}

/* Ties decided when a field's values move from its record to a table. */
static void test_ties_across_spill(void **state)
{
    (void)state;
    agg_window *w = aggw_new(0);
    assert_non_null(w);
    nagm_addr src = nagm_addr_v4(0x0a000001);
    ref_src ref;
    ref_init(&ref, &src);
    uint32_t r = aggw_source(w, &src);
    assert_int_equal(r, 0);
    /* 9, 9, 5, 5: a tie in the record goes to 5; 7, 7 makes a 3-way tie in a
     * table; 3 arrives (count 1) below them; then 9 overtakes; then 3 and 5
     * catch up with 9 one at a time */
    static const uint32_t vals[] = {9, 9, 5, 5, 7, 7, 3, 9, 3, 3, 5};
    static const uint32_t mode_after[] = {9, 9, 9, 5, 5, 5, 5, 9, 9, 3, 3};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        assert_int_equal(aggw_count(w, r, NAGM_F_DST_PORT, vals[i], NULL, 1), 0);
        nagm_addr k = num_key(vals[i]);
        ref_add(&ref, NAGM_F_DST_PORT, &k, 1);
        check_source(w, &ref);
        nagm_agm_row row;
        aggw_rows(w, 0, 1, &row);
        assert_int_equal(row.mode[NAGM_F_DST_PORT], mode_after[i]);
    }
    /* a merge adds whole counts: the record's other value overtakes at once,
     * and a new third value ties the mode while spilling */
    static const uint32_t mv[] = {100, 50, 50, 20};
    static const uint64_t mn[] = {4, 3, 2, 5};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(aggw_count(w, r, NAGM_F_LEN, mv[i], NULL, mn[i]), 0);
        nagm_addr k = num_key(mv[i]);
        ref_add(&ref, NAGM_F_LEN, &k, mn[i]);
        check_source(w, &ref);
    }
    /* counting nothing adds no value */
    assert_int_equal(aggw_count(w, r, NAGM_F_TTL, 1, NULL, 0), 0);
    check_source(w, &ref);
    ref_fini(&ref);
    aggw_free(w);
}

/* Counts past 2^32 - 1 stay exact up to 2^64 - 1, whichever form the field
 * had (one value, two in the record, a table), also through merges and for
 * IPv6 destinations (ties by address). A count past 2^64 - 1 is an error. */
static void test_counts_past_32_bits(void **state)
{
    (void)state;
    const uint64_t M32 = UINT32_MAX;
    agg_window *w = aggw_new(0);
    assert_non_null(w);
    nagm_addr s4 = nagm_addr_v4(0x0a000001), s6;
    memset(&s6, 0, sizeof s6);
    s6.family = 6;
    s6.b[0] = 0x20;
    s6.b[15] = 1;
    ref_src r4, r6;
    ref_init(&r4, &s4);
    ref_init(&r6, &s6);
    uint32_t a = aggw_source(w, &s4), b = aggw_source(w, &s6);
#define COUNT(ref, rec, f, v, n)                                                         \
    do {                                                                                 \
        nagm_addr k_ = num_key(v);                                                       \
        assert_int_equal(aggw_count(w, rec, f, v, NULL, n), 0);                          \
        ref_add(&ref, f, &k_, n);                                                        \
        check_source(w, &ref);                                                           \
    } while (0)
    /* one value just below the limit, then packets one by one across it */
    COUNT(r4, a, NAGM_F_SRC_PORT, 7, M32 - 3);
    COUNT(r4, a, NAGM_F_SRC_PORT, 9, 1);
    for (int i = 0; i < 4; i++)
        COUNT(r4, a, NAGM_F_SRC_PORT, 7, 1);
    COUNT(r4, a, NAGM_F_SRC_PORT, 9, M32);
    COUNT(r4, a, NAGM_F_SRC_PORT, 8, 1);
    /* a table of 10 values, then 2^40 more packets for three of them: ties
     * go to the smallest value */
    for (uint32_t v = 1; v <= 10; v++)
        COUNT(r4, a, NAGM_F_DST_PORT, v, 1);
    COUNT(r4, a, NAGM_F_DST_PORT, 5, 1ULL << 40);
    COUNT(r4, a, NAGM_F_DST_PORT, 3, 1ULL << 40);
    COUNT(r4, a, NAGM_F_DST_PORT, 11, (1ULL << 40) + 1);
    COUNT(r4, a, NAGM_F_DST_PORT, 1, 1ULL << 40);
    for (uint32_t v = 12; v < 40; v++) /* the wide table grows */
        COUNT(r4, a, NAGM_F_DST_PORT, v, v);
    /* two values in the record, then one of them past 2^33 */
    COUNT(r4, a, NAGM_F_LEN, 100, 5);
    COUNT(r4, a, NAGM_F_LEN, 200, 7);
    COUNT(r4, a, NAGM_F_LEN, 100, 1ULL << 33);
    /* a first value that is already too big for 32 bits */
    COUNT(r4, a, NAGM_F_TTL, 64, 1ULL << 32);
    /* IPv6 destinations: the smaller address, interned second, wins the tie */
    nagm_addr d9, d3;
    memset(&d9, 0, sizeof d9);
    d9.family = 6;
    d9.b[0] = 0xfe;
    d3 = d9;
    d9.b[15] = 9;
    d3.b[15] = 3;
    assert_int_equal(aggw_count(w, b, NAGM_F_DST_IP, 0, &d9, 1ULL << 35), 0);
    ref_add(&r6, NAGM_F_DST_IP, &d9, 1ULL << 35);
    check_source(w, &r6);
    assert_int_equal(aggw_count(w, b, NAGM_F_DST_IP, 0, &d3, 1ULL << 35), 0);
    ref_add(&r6, NAGM_F_DST_IP, &d3, 1ULL << 35);
    check_source(w, &r6);
    nagm_agm_row rows[2];
    aggw_rows(w, 0, 1, rows);
    assert_int_equal(rows[1].dst_ip_mode.b[15], 3);

    /* merges: wide into empty, wide into wide, wide into narrow and narrow
     * into wide all add up exactly */
    agg_window *m = aggw_new(0);
    assert_non_null(m);
    assert_int_equal(aggw_merge(m, w), 0);
    check_source(m, &r4);
    check_source(m, &r6);
    assert_int_equal(aggw_merge(m, w), 0);
    for (int f = 0; f < NAGM_NFIELDS; f++) {
        for (size_t i = 0; i < r4.n[f]; i++)
            r4.vals[f][i].cnt *= 2;
        for (size_t i = 0; i < r6.n[f]; i++)
            r6.vals[f][i].cnt *= 2;
    }
    check_source(m, &r4);
    check_source(m, &r6);
    agg_window *n = aggw_new(0);
    assert_non_null(n);
    nagm_pkt p = pkt4(0, 0x0a000001, 1, 7, 3, 64, 6, 2, 100);
    assert_int_equal(aggw_add(n, &p), 0);
    assert_int_equal(aggw_merge(m, n), 0); /* narrow into wide */
    ref_add_pkt(&r4, &p);
    check_source(m, &r4);
    assert_int_equal(aggw_merge(n, m), 0); /* wide into narrow */
    ref_add_pkt(&r4, &p);
    check_source(n, &r4);
    check_source(n, &r6);
    aggw_free(n);
    aggw_free(m);

    ref_fini(&r4);
    ref_fini(&r6);
    aggw_free(w);

    /* exact up to 2^64 - 1; one more is an error, not a wrap */
    w = aggw_new(0);
    assert_non_null(w);
    ref_init(&r4, &s4);
    a = aggw_source(w, &s4);
    COUNT(r4, a, NAGM_F_PROTO, 6, 1ULL << 63);
    COUNT(r4, a, NAGM_F_PROTO, 6, (1ULL << 63) - 1);
    COUNT(r4, a, NAGM_F_PROTO, 17, UINT64_MAX);
    assert_int_equal(aggw_count(w, a, NAGM_F_PROTO, 6, NULL, 1), -1);
    check_source(w, &r4);
#undef COUNT
    ref_fini(&r4);
    aggw_free(w);
}

/* Count pk[0..n-1] (pp: pointers to them) one by one, or as one batch. */
static void add_packets(agg_window *w, const nagm_pkt *pk, const nagm_pkt *const *pp, size_t n,
                        int batch)
{
    if (batch)
        assert_int_equal(aggw_add_batch(w, pp, n), 0);
    else
        for (size_t i = 0; i < n; i++)
            assert_int_equal(aggw_add(w, &pk[i]), 0);
}

/* Packets (aggw_add and aggw_add_batch, the hot path that checks a record's
 * bound once instead of every field) carry counts set just below 2^32 - 1
 * across it, for a field with one value, with two, with a table, and for a
 * field already wide: every count stays exact. */
static void test_packets_across_32_bits(void **state)
{
    (void)state;
    const uint64_t M32 = UINT32_MAX;
    for (int batch = 0; batch < 2; batch++) {
        agg_window *w = aggw_new(0);
        assert_non_null(w);
        nagm_addr s4 = nagm_addr_v4(0x0a000001);
        ref_src r4;
        ref_init(&r4, &s4);
        uint32_t a = aggw_source(w, &s4);
        nagm_addr k;
        /* src_port: one value; dst_port: a table; len: two values; ttl: wide */
        k = num_key(7);
        assert_int_equal(aggw_count(w, a, NAGM_F_SRC_PORT, 7, NULL, M32 - 3), 0);
        ref_add(&r4, NAGM_F_SRC_PORT, &k, M32 - 3);
        for (uint32_t v = 1; v <= 5; v++) {
            k = num_key(v);
            assert_int_equal(aggw_count(w, a, NAGM_F_DST_PORT, v, NULL, M32 - 9 + v), 0);
            ref_add(&r4, NAGM_F_DST_PORT, &k, M32 - 9 + v);
        }
        k = num_key(100);
        assert_int_equal(aggw_count(w, a, NAGM_F_LEN, 100, NULL, M32 - 2), 0);
        ref_add(&r4, NAGM_F_LEN, &k, M32 - 2);
        k = num_key(200);
        assert_int_equal(aggw_count(w, a, NAGM_F_LEN, 200, NULL, 5), 0);
        ref_add(&r4, NAGM_F_LEN, &k, 5);
        k = num_key(64);
        assert_int_equal(aggw_count(w, a, NAGM_F_TTL, 64, NULL, 1ULL << 33), 0);
        ref_add(&r4, NAGM_F_TTL, &k, 1ULL << 33);
        check_source(w, &r4);
        /* 12 packets: src_port 7 passes 2^32 - 1, dst_port 5 and 4 pass it
         * and trade the mode, len 100 passes it, ttl stays wide */
        nagm_pkt pk[12];
        const nagm_pkt *pp[12];
        for (int i = 0; i < 12; i++) {
            pk[i] = pkt4(0, 0x0a000001, 0x0b000000u + (uint32_t)i, 7, (uint16_t)(i % 3 ? 5 : 4),
                         i % 2 ? 64 : 32, 6, 2, 100);
            pp[i] = &pk[i];
            ref_add_pkt(&r4, &pk[i]);
        }
        add_packets(w, pk, pp, 12, batch);
        check_source(w, &r4);
        /* the same again from a fresh record that only packets fill: the
         * hot path all the way */
        nagm_addr s5 = nagm_addr_v4(0x0a000002);
        ref_src r5;
        ref_init(&r5, &s5);
        for (int i = 0; i < 12; i++) {
            pk[i].src = s5;
            ref_add_pkt(&r5, &pk[i]);
        }
        add_packets(w, pk, pp, 12, batch);
        check_source(w, &r5);
        check_source(w, &r4);
        ref_fini(&r5);
        ref_fini(&r4);
        aggw_free(w);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tie_goes_to_smallest),
        cmocka_unit_test(test_packets_across_32_bits),
        cmocka_unit_test(test_ipv6_dst_tie_by_address),
        cmocka_unit_test(test_windows_and_order),
        cmocka_unit_test(test_random_vs_bruteforce_and_merge),
        cmocka_unit_test(test_extreme_times),
        cmocka_unit_test(test_merge_window_mismatch),
        cmocka_unit_test(test_window_forms_vs_reference),
        cmocka_unit_test(test_ties_across_spill),
        cmocka_unit_test(test_counts_past_32_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
