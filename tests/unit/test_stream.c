/* Stream windowing: watermark, lateness, idle timeout, late and replayed
 * packets, lanes, positions; and agreement with one batch aggregation over
 * the same time-ordered packets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "netagm/agg.h"
#include "netagm/stream.h"

#define S 1000000000LL

static nagm_pkt pkt(int64_t ts_ns, uint32_t src, uint16_t dport)
{
    nagm_pkt p;
    memset(&p, 0, sizeof p);
    p.ts_ns = ts_ns;
    p.src = nagm_addr_v4(src);
    p.dst = nagm_addr_v4(0x0a000001);
    p.dst_port = dport;
    p.src_port = 1000;
    p.ttl = 64;
    p.proto = 6;
    p.len = 60;
    return p;
}

static nagm_stream *mk(int64_t w, int64_t late, int64_t idle)
{
    nagm_stream_opts o = {.window_ns = w, .lateness_ns = late, .idle_ns = idle};
    nagm_stream *s = nagm_stream_new(&o);
    assert_non_null(s);
    return s;
}

static void test_bad_options(void **state)
{
    (void)state;
    nagm_stream_opts o = {.window_ns = -1};
    assert_null(nagm_stream_new(&o));
    o.window_ns = S;
    o.lateness_ns = -1;
    assert_null(nagm_stream_new(&o));
}

/* A window closes only once the watermark passes its end plus lateness. */
static void test_watermark_closes_in_order(void **state)
{
    (void)state;
    nagm_stream *s = mk(10 * S, 2 * S, 0);
    nagm_window w;
    nagm_pkt p = pkt(100 * S, 1, 80);
    assert_int_equal(nagm_stream_add(s, 0, -1, &p, 0), NAGM_SADD_COUNTED);
    p = pkt(105 * S, 2, 80);
    assert_int_equal(nagm_stream_add(s, 0, -1, &p, 0), NAGM_SADD_COUNTED);
    /* watermark 111 < 110 + 2 */
    p = pkt(111 * S, 1, 80);
    assert_int_equal(nagm_stream_add(s, 0, -1, &p, 0), NAGM_SADD_COUNTED);
    assert_int_equal(nagm_stream_next(s, 0, 0, &w), 0);
    assert_int_equal(nagm_stream_due(s), 0);
    /* a packet within lateness still counts for [100, 110) */
    p = pkt(109 * S, 3, 80);
    assert_int_equal(nagm_stream_add(s, 0, -1, &p, 0), NAGM_SADD_COUNTED);
    assert_int_equal(nagm_stream_due(s), 0);
    /* watermark 112 = 110 + 2: [100, 110) closes */
    p = pkt(112 * S, 1, 80);
    assert_int_equal(nagm_stream_add(s, 0, -1, &p, 0), NAGM_SADD_COUNTED);
    assert_int_equal(nagm_stream_due(s), 1);
    assert_int_equal(nagm_stream_next(s, 7, 0, &w), 1);
    assert_int_equal(nagm_stream_due(s), 0);
    assert_int_equal(w.start_ns, 100 * S);
    assert_int_equal(w.end_ns, 110 * S);
    assert_int_equal(w.n, 3);
    assert_int_equal(w.pkts, 3);
    assert_int_equal(w.closed_ns, 7);
    /* sorted by source */
    assert_int_equal(w.rows[0].src.b[3], 1);
    assert_int_equal(w.rows[1].src.b[3], 2);
    assert_int_equal(w.rows[2].src.b[3], 3);
    nagm_window_clear(&w);
    assert_int_equal(nagm_stream_next(s, 7, 0, &w), 0);
    assert_int_equal(nagm_stream_closed_before(s), 110 * S);
    /* late: its window closed; counted, not aggregated */
    p = pkt(108 * S, 9, 80);
    assert_int_equal(nagm_stream_add(s, 0, -1, &p, 0), NAGM_SADD_LATE);
    nagm_stream_counters c;
    nagm_stream_get_counters(s, &c);
    assert_int_equal(c.late, 1);
    assert_int_equal(c.counted, 5);
    assert_int_equal(c.windows, 1);
    assert_int_equal(c.open_windows, 1);
    /* final flush emits the rest */
    assert_int_equal(nagm_stream_next(s, 8, 1, &w), 1);
    assert_int_equal(w.start_ns, 110 * S);
    assert_int_equal(w.n, 1);
    assert_int_equal(w.rows[0].pkts, 2);
    nagm_window_clear(&w);
    assert_int_equal(nagm_stream_next(s, 8, 1, &w), 0);
    nagm_stream_free(s);
}

/* A jump of the watermark closes several windows, each returned alone,
 * and empty windows in between count as closed. */
static void test_jump_and_empty_windows(void **state)
{
    (void)state;
    nagm_stream *s = mk(10 * S, 0, 0);
    nagm_window w;
    nagm_pkt p;
    for (int i = 0; i < 3; i++) {
        p = pkt((100 + 10 * i) * S, 5, 80);
        assert_int_equal(nagm_stream_add(s, 0, -1, &p, 0), NAGM_SADD_COUNTED);
    }
    /* [100,110) closed by the packet at 110 already */
    p = pkt(500 * S, 5, 80);
    assert_int_equal(nagm_stream_add(s, 0, -1, &p, 0), NAGM_SADD_COUNTED);
    int64_t starts[3];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(nagm_stream_next(s, 0, 0, &w), 1);
        starts[i] = w.start_ns;
        nagm_window_clear(&w);
    }
    assert_int_equal(starts[0], 100 * S);
    assert_int_equal(starts[1], 110 * S);
    assert_int_equal(starts[2], 120 * S);
    assert_int_equal(nagm_stream_next(s, 0, 0, &w), 0);
    /* an empty window long closed: late */
    p = pkt(300 * S, 5, 80);
    assert_int_equal(nagm_stream_add(s, 0, -1, &p, 0), NAGM_SADD_LATE);
    nagm_stream_free(s);
}

/* Idle: without packets, the watermark advances with the caller's clock
 * from the last packet once idle_ns has passed. */
static void test_idle_timeout(void **state)
{
    (void)state;
    nagm_stream *s = mk(10 * S, 1 * S, 2 * S);
    nagm_window w;
    nagm_pkt p = pkt(103 * S, 1, 80);
    int64_t now = 1000 * S;
    assert_int_equal(nagm_stream_add(s, 0, -1, &p, now), NAGM_SADD_COUNTED);
    /* idle 1 s < 2 s: nothing */
    assert_int_equal(nagm_stream_next(s, now + 1 * S, 0, &w), 0);
    /* idle 5 s: watermark 108, window needs 111: nothing yet */
    assert_int_equal(nagm_stream_next(s, now + 5 * S, 0, &w), 0);
    /* idle 8 s: watermark 111 >= 110 + 1 */
    assert_int_equal(nagm_stream_next(s, now + 8 * S, 0, &w), 1);
    assert_int_equal(w.start_ns, 100 * S);
    nagm_window_clear(&w);
    /* the packet that was "in flight": late */
    p = pkt(109 * S, 1, 80);
    assert_int_equal(nagm_stream_add(s, 0, -1, &p, now + 9 * S), NAGM_SADD_LATE);
    /* no idle rule: never closes */
    nagm_stream_free(s);
    s = mk(10 * S, 0, 0);
    p = pkt(103 * S, 1, 80);
    assert_int_equal(nagm_stream_add(s, 0, -1, &p, 0), NAGM_SADD_COUNTED);
    assert_int_equal(nagm_stream_next(s, 1000 * S, 0, &w), 0);
    nagm_stream_free(s);
}

/* Lanes: the slowest open lane holds the watermark; a lane at its end does
 * not; positions give the commit point; replayed packets are dropped. */
static void test_lanes_and_positions(void **state)
{
    (void)state;
    nagm_stream *s = mk(10 * S, 0, 2 * S);
    nagm_window w;
    assert_int_equal(nagm_stream_lane_open(s, 0, INT64_MIN), 0);
    assert_int_equal(nagm_stream_lane_open(s, 3, INT64_MIN), 0);
    nagm_pkt p = pkt(101 * S, 1, 80);
    assert_int_equal(nagm_stream_add(s, 0, 10, &p, 0), NAGM_SADD_COUNTED);
    p = pkt(125 * S, 1, 80);
    assert_int_equal(nagm_stream_add(s, 0, 11, &p, 0), NAGM_SADD_COUNTED);
    /* lane 3 has nothing yet: holds everything */
    assert_int_equal(nagm_stream_next(s, 0, 0, &w), 0);
    p = pkt(102 * S, 2, 80);
    assert_int_equal(nagm_stream_add(s, 3, 50, &p, 0), NAGM_SADD_COUNTED);
    p = pkt(103 * S, 2, 80);
    assert_int_equal(nagm_stream_add(s, 3, 51, &p, 0), NAGM_SADD_COUNTED);
    assert_int_equal(nagm_stream_next(s, 0, 0, &w), 0);
    assert_int_equal(nagm_stream_lane_min_pos(s, 0), 10);
    assert_int_equal(nagm_stream_lane_min_pos(s, 3), 50);
    /* lane 3 at its end for a moment: still holds */
    nagm_stream_lane_eof(s, 3, 1, 0);
    assert_int_equal(nagm_stream_next(s, 1 * S, 0, &w), 0);
    /* at its end for idle_ns: lane 0's watermark 125 closes [100,110), [110,120)
     * (the idle rule itself needs 2 s more: the last packet came at time 0) */
    assert_int_equal(nagm_stream_next(s, 2 * S, 0, &w), 1);
    assert_int_equal(w.start_ns, 100 * S);
    assert_int_equal(w.n, 2); /* one source from each lane, merged in order */
    assert_int_equal(w.rows[0].src.b[3], 1);
    assert_int_equal(w.rows[1].src.b[3], 2);
    nagm_window_clear(&w);
    assert_int_equal(nagm_stream_next(s, 0, 0, &w), 0);
    assert_int_equal(nagm_stream_closed_before(s), 120 * S);
    assert_int_equal(nagm_stream_lane_min_pos(s, 0), 11);
    assert_int_equal(nagm_stream_lane_min_pos(s, 3), -1);
    /* revoke lane 0: its open state goes */
    nagm_stream_lane_close(s, 0);
    assert_int_equal(nagm_stream_lane_min_pos(s, 0), -1);
    nagm_stream_counters c;
    nagm_stream_get_counters(s, &c);
    assert_int_equal(c.open_records, 0);
    /* re-open with replay_before: emitted windows' packets are replayed */
    assert_int_equal(nagm_stream_lane_open(s, 0, 120 * S), 0);
    p = pkt(101 * S, 1, 80);
    assert_int_equal(nagm_stream_add(s, 0, 10, &p, 0), NAGM_SADD_REPLAYED);
    p = pkt(125 * S, 1, 80);
    assert_int_equal(nagm_stream_add(s, 0, 11, &p, 0), NAGM_SADD_COUNTED);
    nagm_stream_get_counters(s, &c);
    assert_int_equal(c.replayed, 1);
    assert_int_equal(c.late, 0);
    assert_int_equal(nagm_stream_next(s, 0, 1, &w), 1);
    assert_int_equal(w.start_ns, 120 * S);
    assert_int_equal(w.rows[0].pkts, 1);
    nagm_window_clear(&w);
    nagm_stream_free(s);
}

/* One window (W = 0): nothing until final; ends are the first and last
 * packet times. */
static void test_one_window(void **state)
{
    (void)state;
    nagm_stream *s = mk(0, 0, 1 * S);
    nagm_window w;
    nagm_pkt p = pkt(100 * S + 5, 1, 80);
    assert_int_equal(nagm_stream_add(s, 0, -1, &p, 0), NAGM_SADD_COUNTED);
    p = pkt(50 * S, 2, 80);
    assert_int_equal(nagm_stream_add(s, 0, -1, &p, 0), NAGM_SADD_COUNTED);
    assert_int_equal(nagm_stream_next(s, 100 * S, 0, &w), 0);
    assert_int_equal(nagm_stream_next(s, 100 * S, 1, &w), 1);
    assert_int_equal(w.n, 2);
    assert_int_equal(w.start_ns, 50 * S);
    assert_int_equal(w.end_ns, 100 * S + 5);
    assert_int_equal(w.rows[1].window_end_ns, 100 * S + 5);
    nagm_window_clear(&w);
    nagm_stream_free(s);
}

/* Random time-ordered packets spread over nlanes lanes, each source always
 * on the same lane (as Kafka partitions keyed by src_ip): the windows
 * streamed out equal one batch aggregation, row by row. */
static void agrees_with_batch(int nlanes)
{
    nagm_stream *s = mk(7 * S, 0, 0);
    nagm_agg *a = nagm_agg_new(7 * S);
    srand(7);
    int64_t t = 1000 * S;
    nagm_agm_row *got = malloc(sizeof *got * 20000);
    size_t ngot = 0, maxrows = 0;
    nagm_window w;
    for (int i = 0; i < 20000; i++) {
        t += rand() % (S / 50);
        uint32_t src = (uint32_t)(rand() % 300);
        nagm_pkt p = pkt(t, src, (uint16_t)(rand() % 5));
        p.ttl = (uint8_t)(rand() % 3);
        assert_int_equal(nagm_stream_add(s, (int)(src % (uint32_t)nlanes), i, &p, 0),
                         NAGM_SADD_COUNTED);
        assert_int_equal(nagm_agg_add(a, &p), 0);
        while (nagm_stream_next(s, 0, 0, &w) == 1) {
            memcpy(got + ngot, w.rows, sizeof *got * w.n);
            ngot += w.n;
            maxrows = w.n > maxrows ? w.n : maxrows;
            nagm_window_clear(&w);
        }
    }
    while (nagm_stream_next(s, 0, 1, &w) == 1) {
        memcpy(got + ngot, w.rows, sizeof *got * w.n);
        ngot += w.n;
        maxrows = w.n > maxrows ? w.n : maxrows;
        nagm_window_clear(&w);
    }
    nagm_agm_row *want;
    size_t nwant = nagm_agg_take(a, INT64_MAX, &want);
    assert_int_equal(ngot, nwant);
    assert_true(nwant > 300);
    /* every lane had rows in the windows: the merge saw nlanes runs */
    assert_true(maxrows >= (size_t)nlanes);
    assert_memory_equal(got, want, sizeof *got * nwant);
    free(want);
    free(got);
    nagm_agg_free(a);
    nagm_stream_free(s);
}

static void test_agrees_with_batch(void **state)
{
    (void)state;
    agrees_with_batch(1);
}

/* Four lanes: their closed windows' rows are merged. */
static void test_agrees_with_batch_lanes(void **state)
{
    (void)state;
    agrees_with_batch(4);
}

/* More lanes than the merge takes (16): the rows are sorted instead. */
static void test_agrees_with_batch_many_lanes(void **state)
{
    (void)state;
    agrees_with_batch(40);
}

/* Timestamps at the ends of the int64 range do not overflow. */
static void test_extreme_timestamps(void **state)
{
    (void)state;
    nagm_stream *s = mk(60 * S, 5 * S, 1 * S);
    nagm_window w;
    nagm_pkt p = pkt(INT64_MAX - 3, 1, 80);
    assert_int_equal(nagm_stream_add(s, 0, -1, &p, 0), NAGM_SADD_BADTIME);
    p = pkt(INT64_MIN + 3, 1, 80);
    assert_int_equal(nagm_stream_add(s, 0, -1, &p, 0), NAGM_SADD_BADTIME);
    p = pkt(NAGM_STREAM_MAX_TS, 1, 80);
    assert_int_equal(nagm_stream_add(s, 0, -1, &p, 0), NAGM_SADD_COUNTED);
    assert_int_equal(nagm_stream_next(s, 0, 0, &w), 0); /* closes everything before it */
    p = pkt(-NAGM_STREAM_MAX_TS, 2, 80);
    assert_int_equal(nagm_stream_add(s, 0, -1, &p, 0), NAGM_SADD_LATE);
    nagm_stream_counters c;
    nagm_stream_get_counters(s, &c);
    assert_int_equal(c.bad_time, 2);
    int n = 0;
    while (nagm_stream_next(s, 100 * S, 0, &w) == 1) {
        nagm_window_clear(&w);
        n++;
    }
    while (nagm_stream_next(s, 100 * S, 1, &w) == 1) {
        nagm_window_clear(&w);
        n++;
    }
    assert_true(n >= 1);
    nagm_stream_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_watermark_closes_in_order),
        cmocka_unit_test(test_jump_and_empty_windows),
        cmocka_unit_test(test_idle_timeout),
        cmocka_unit_test(test_lanes_and_positions),
        cmocka_unit_test(test_one_window),
        cmocka_unit_test(test_agrees_with_batch),
        cmocka_unit_test(test_agrees_with_batch_lanes),
        cmocka_unit_test(test_agrees_with_batch_many_lanes),
        cmocka_unit_test(test_extreme_timestamps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
