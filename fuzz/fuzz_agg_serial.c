/* libFuzzer target for the partial-state reader (agg_serial.h): the bytes
 * another MPI rank sends during the shuffle.
 *
 * Input: one segment. The receiving state's window length is the one the
 * segment names (bytes 5..12, when they hold a length >= 0), so the fuzzer
 * gets past the header check; an input whose size is 6 mod 7 uses one
 * window instead, which every other length must be refused for.
 *
 * When the segment merges, these must hold:
 *  - the rows taken from the state are complete AGM rows (1 <= X_uniq,
 *    X_mode_pkts <= pkts; a mode holds at least pkts / X_uniq packets; modes
 *    within their field's width; one address family per row; windows of the
 *    state's length (the last one's end saturating at INT64_MAX), in output
 *    order, one row per window and source);
 *  - merging the segment twice doubles every count and changes no distinct
 *    count or mode;
 *  - the merged state, written out again by the serializer (over 1 to 3
 *    owners, in small chunks) and merged into a fresh state, gives the very
 *    same rows.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/agg_serial.h"
#include "netagm/agg.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t mode_max[NAGM_NFIELDS] = {0, 65535, 65535, 255, 255, 255, UINT32_MAX};

static int64_t seg_window(const uint8_t *data, size_t size)
{
    if (size < 13 || size % 7 == 6)
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)data[5 + i] << (8 * i);
    return (int64_t)v >= 0 ? (int64_t)v : 0;
}

static void check_rows(const nagm_agm_row *rows, size_t n, int64_t wns)
{
    for (size_t i = 0; i < n; i++) {
        const nagm_agm_row *r = &rows[i];
        CHECK(r->pkts >= 1);
        for (int f = 0; f < NAGM_NFIELDS; f++) {
            CHECK(r->uniq[f] >= 1 && r->uniq[f] <= r->pkts);
            CHECK(r->mode_pkts[f] >= 1 && r->mode_pkts[f] <= r->pkts);
            /* The most frequent of uniq values holds at least pkts/uniq. */
            CHECK(r->mode_pkts[f] >= r->pkts / r->uniq[f]);
            CHECK(r->uniq[f] > 1 || r->mode_pkts[f] == r->pkts);
            CHECK(r->mode[f] <= mode_max[f]);
        }
        CHECK(r->src.family == 4 || r->src.family == 6);
        CHECK(r->dst_ip_mode.family == r->src.family);
        if (wns > 0) {
            CHECK(r->window_start_ns % wns == 0);
            /* the last window's end saturates instead of overflowing */
            CHECK(r->window_start_ns > INT64_MAX - wns
                      ? r->window_end_ns == INT64_MAX
                      : r->window_end_ns == r->window_start_ns + wns);
        }
        if (i > 0) {
            const nagm_agm_row *p = &rows[i - 1];
            CHECK(p->window_start_ns < r->window_start_ns ||
                  (p->window_start_ns == r->window_start_ns &&
                   nagm_addr_cmp(&p->src, &r->src) < 0));
        }
    }
}

static nagm_agm_row *take_all(nagm_agg *a, size_t *n)
{
    nagm_agm_row *rows;
    *n = nagm_agg_take(a, INT64_MAX, &rows);
    CHECK(*n != (size_t)-1);
    CHECK(nagm_agg_nrecords(a) == 0);
    return rows;
}

/* Rows equal but for the timestamps: with one window they are the state's
 * first and last packet times, which a segment does not carry. */
static void check_same(const nagm_agm_row *a, const nagm_agm_row *b, size_t n, int64_t wns)
{
    for (size_t i = 0; i < n; i++) {
        nagm_agm_row x = a[i], y = b[i];
        if (wns == 0)
            x.window_start_ns = y.window_start_ns = x.window_end_ns = y.window_end_ns = 0;
        CHECK(memcmp(&x, &y, sizeof x) == 0);
    }
}

/* Serialize a (not consumed) and merge every buffer into one new state. */
static nagm_agg *reserialize(nagm_agg *a, int64_t wns, int nparts, size_t limit)
{
    nagm_agg *b = nagm_agg_new(wns);
    agg_ser *s = agg_ser_new(a, nparts, 0);
    agg_buf bufs[3];
    memset(bufs, 0, sizeof bufs);
    CHECK(b && s);
    int rc;
    do {
        rc = agg_ser_fill(s, bufs, limit);
        CHECK(rc == 0 || rc == 1);
        for (int d = 0; d < nparts; d++) {
            char err[160];
            CHECK(agg_ser_merge(b, bufs[d].p, bufs[d].len, err, sizeof err) == 0);
        }
    } while (rc == 1);
    CHECK(agg_ser_records(s) == nagm_agg_nrecords(a));
    for (int d = 0; d < nparts; d++)
        agg_buf_free(&bufs[d]);
    agg_ser_free(s);
    return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t wns = seg_window(data, size);
    nagm_agg *a = nagm_agg_new(wns);
    CHECK(a);
    char err[160];
    err[0] = '\0';
    int rc = agg_ser_merge(a, size ? data : NULL, size, err, sizeof err);
    /* -1 is out of memory: a segment cannot ask for more than its size. */
    CHECK(rc == 0 || rc == -2);
    if (rc != 0) {
        CHECK(err[0] != '\0' && memchr(err, '\0', sizeof err));
        nagm_agg_free(a);
        return 0;
    }

    /* Twice the same segment. */
    nagm_agg *twice = nagm_agg_new(wns);
    CHECK(twice);
    CHECK(agg_ser_merge(twice, data, size, err, sizeof err) == 0);
    int twice_ok = agg_ser_merge(twice, data, size, err, sizeof err) == 0;

    nagm_agg *again = reserialize(a, wns, 1 + (int)(size % 3), 64 + size % 200);

    size_t n, n2, n3;
    nagm_agm_row *rows = take_all(a, &n);
    check_rows(rows, n, wns);

    nagm_agm_row *rows2 = take_all(again, &n2);
    CHECK(n2 == n);
    check_same(rows, rows2, n, wns);

    if (twice_ok) {
        nagm_agm_row *rows3 = take_all(twice, &n3);
        CHECK(n3 == n);
        check_rows(rows3, n3, wns);
        for (size_t i = 0; i < n; i++) {
            nagm_agm_row x = rows[i];
            x.pkts *= 2;
            for (int f = 0; f < NAGM_NFIELDS; f++)
                x.mode_pkts[f] *= 2;
            check_same(&x, &rows3[i], 1, wns);
        }
        free(rows3);
    }
    free(rows);
    free(rows2);
    nagm_agg_free(a);
    nagm_agg_free(again);
    nagm_agg_free(twice);
    return 0;
}
