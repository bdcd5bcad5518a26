/* AGM aggregation over tumbling event-time windows (public API in agg.h).
 *
 * Windows are kept in an array sorted by start time. Packets mostly arrive in
 * time order, so the window of the previous packet is tried first; otherwise
 * a binary search finds it (a day of one-minute windows is 1,440 entries).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agg/agg_window.h"
#include "agg/row_order.h"
#include "netagm/agg.h"

struct nagm_agg {
    int64_t window_ns;
    agg_window **wins; /* sorted by start_ns */
    size_t nwins, capwins;
    size_t last;       /* index of the window used last */
    int64_t min_ts, max_ts;
};

nagm_agg *nagm_agg_new(int64_t window_ns)
{
    if (window_ns < 0)
        return NULL;
    nagm_agg *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->window_ns = window_ns;
    a->min_ts = INT64_MAX;
    a->max_ts = INT64_MIN;
    return a;
}

void nagm_agg_free(nagm_agg *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->nwins; i++)
        aggw_free(a->wins[i]);
    free(a->wins);
    free(a);
}

static int64_t window_start(const nagm_agg *a, int64_t ts)
{
    if (a->window_ns == 0)
        return 0;
    int64_t q = ts / a->window_ns;
    /* Near INT64_MIN (a saturated capture time) the floor is not
     * representable: keep the first window that is. */
    if (ts % a->window_ns != 0 && ts < 0 && q > INT64_MIN / a->window_ns)
        q--;
    return q * a->window_ns;
}

/* The window starting at start, created if absent; NULL on ENOMEM. */
static agg_window *window_get(nagm_agg *a, int64_t start)
{
    if (a->nwins && a->wins[a->last]->start_ns == start)
        return a->wins[a->last];
    size_t lo = 0, hi = a->nwins;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a->wins[mid]->start_ns < start)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < a->nwins && a->wins[lo]->start_ns == start) {
        a->last = lo;
        return a->wins[lo];
    }
    if (a->nwins == a->capwins) {
        size_t ncap = a->capwins ? a->capwins * 2 : 8;
        agg_window **nw = realloc(a->wins, sizeof *nw * ncap);
        if (!nw)
            return NULL;
        a->wins = nw;
        a->capwins = ncap;
    }
    agg_window *w = aggw_new(start);
    if (!w)
        return NULL;
    memmove(&a->wins[lo + 1], &a->wins[lo], sizeof *a->wins * (a->nwins - lo));
    a->wins[lo] = w;
    a->nwins++;
    a->last = lo;
    return w;
}

int nagm_agg_add(nagm_agg *a, const nagm_pkt *p)
{
    agg_window *w = window_get(a, window_start(a, p->ts_ns));
    if (!w || aggw_add(w, p) != 0)
        return -1;
    if (p->ts_ns < a->min_ts)
        a->min_ts = p->ts_ns;
    if (p->ts_ns > a->max_ts)
        a->max_ts = p->ts_ns;
    return 0;
}

int nagm_agg_add_batch(nagm_agg *a, const nagm_pkt *pkts, size_t n)
{
    const nagm_pkt *run[AGGW_BATCH];
    size_t i = 0;
    while (i < n) {
        /* A run of up to AGGW_BATCH packets of one window. */
        int64_t start = window_start(a, pkts[i].ts_ns);
        size_t k = 0;
        while (i < n && k < AGGW_BATCH && window_start(a, pkts[i].ts_ns) == start) {
            if (pkts[i].ts_ns < a->min_ts)
                a->min_ts = pkts[i].ts_ns;
            if (pkts[i].ts_ns > a->max_ts)
                a->max_ts = pkts[i].ts_ns;
            run[k++] = &pkts[i++];
        }
        agg_window *w = window_get(a, start);
        if (!w || aggw_add_batch(w, run, k) != 0)
            return -1;
    }
    return 0;
}

int nagm_agg_merge(nagm_agg *dst, const nagm_agg *src)
{
    if (dst->window_ns != src->window_ns)
        return -1;
    for (size_t i = 0; i < src->nwins; i++) {
        agg_window *w = window_get(dst, src->wins[i]->start_ns);
        if (!w || aggw_merge(w, src->wins[i]) != 0)
            return -1;
    }
    if (src->min_ts < dst->min_ts)
        dst->min_ts = src->min_ts;
    if (src->max_ts > dst->max_ts)
        dst->max_ts = src->max_ts;
    return 0;
}

int64_t nagm_agg_min_ts(const nagm_agg *a) { return a->min_ts; }
int64_t nagm_agg_max_ts(const nagm_agg *a) { return a->max_ts; }
size_t nagm_agg_nwindows(const nagm_agg *a) { return a->nwins; }

size_t nagm_agg_nrecords(const nagm_agg *a)
{
    size_t n = 0;
    for (size_t i = 0; i < a->nwins; i++)
        n += a->wins[i]->nrecs;
    return n;
}

size_t nagm_agg_memory(const nagm_agg *a)
{
    size_t n = sizeof *a + a->capwins * sizeof *a->wins;
    for (size_t i = 0; i < a->nwins; i++)
        n += aggw_memory(a->wins[i]);
    return n;
}

/* End of the window starting at start. A capture's timestamps saturate at
 * INT64_MAX, so the last window's end does too rather than overflow. */
static int64_t window_end(const nagm_agg *a, int64_t start)
{
    return start > INT64_MAX - a->window_ns ? INT64_MAX : start + a->window_ns;
}

size_t nagm_agg_take(nagm_agg *a, int64_t before_ns, nagm_agm_row **rows)
{
    *rows = NULL;
    /* Windows [0, k) are complete. */
    size_t k = 0;
    if (a->window_ns == 0) {
        k = before_ns == INT64_MAX ? a->nwins : 0;
    } else {
        while (k < a->nwins &&
               (before_ns == INT64_MAX || window_end(a, a->wins[k]->start_ns) <= before_ns))
            k++;
    }
    size_t n = 0;
    for (size_t i = 0; i < k; i++)
        n += a->wins[i]->nrecs;
    if (n == 0 && k == 0)
        return 0;
    nagm_agm_row *out = NULL;
    if (n) {
        out = malloc(sizeof *out * n);
        if (!out)
            return (size_t)-1;
    }
    size_t at = 0;
    for (size_t i = 0; i < k; i++) {
        const agg_window *w = a->wins[i];
        int64_t start = w->start_ns, end = window_end(a, w->start_ns);
        if (a->window_ns == 0) {
            start = a->min_ts;
            end = a->max_ts;
        }
        aggw_rows(w, start, end, out + at);
        agg_rows_sort_src(out + at, w->nrecs);
        at += w->nrecs;
        aggw_free(a->wins[i]);
    }
    memmove(a->wins, a->wins + k, sizeof *a->wins * (a->nwins - k));
    a->nwins -= k;
    a->last = 0;
    *rows = out;
    return n;
}

size_t nagm_agg_window_starts(const nagm_agg *a, int64_t *starts, size_t max)
{
    for (size_t i = 0; i < a->nwins && i < max; i++)
        starts[i] = a->wins[i]->start_ns;
    return a->nwins;
}

/* ---- for the serializer (agg_serial.c) ---------------------------------------- */

agg_window *agg_window_at(const nagm_agg *a, size_t i)
{
    return i < a->nwins ? a->wins[i] : NULL;
}

agg_window *agg_window_for(nagm_agg *a, int64_t start_ns)
{
    return window_get(a, start_ns);
}

void agg_drop_front(nagm_agg *a, size_t k)
{
    if (k > a->nwins)
        k = a->nwins;
    for (size_t i = 0; i < k; i++)
        aggw_free(a->wins[i]);
    memmove(a->wins, a->wins + k, sizeof *a->wins * (a->nwins - k));
    a->nwins -= k;
    a->last = 0;
}

int64_t agg_window_len(const nagm_agg *a)
{
    return a->window_ns;
}
