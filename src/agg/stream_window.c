/* Stream windowing on top of nagm_agg: watermark, lateness, idle timeout.
 *
 * Each lane (a Kafka partition, or the single input of every other source)
 * has its own nagm_agg and watermark (the largest event time it delivered).
 * The engine watermark is the smallest lane watermark among lanes that are
 * not idle, so a lagging partition keeps windows open rather than seeing its
 * packets declared late. A lane is idle when it has been at its end of data
 * for idle_ns of wall time (a partition that reaches its end for a moment,
 * because its consumer caught up with a live producer, still counts); when
 * every lane is idle, the largest watermark counts.
 *
 * A window [s, s+W) closes once watermark - lateness >= s + W. closed_before
 * (C) is then the largest multiple of W at or below watermark - lateness:
 * every window ending at or before C is closed, empty ones included, so a
 * packet for any of them is late. When no packet has arrived for idle_ns of
 * wall time, the watermark is taken to advance with the wall clock from the
 * last packet on (event time is assumed to keep pace with real time while the
 * input is silent), which closes the last windows of a stream that stops.
 *
 * Sources are keyed so that one source address reaches one lane only (Kafka
 * records are keyed by src_ip), so the rows of different lanes never share a
 * (window, source) and closing a window is a sort of their concatenation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agg/row_order.h"
#include "netagm/agg.h"
#include "netagm/stream.h"

#define MAX_LANES 65536

/* Smallest position among one open window's packets in a lane. */
typedef struct win_pos {
    int64_t start, minpos;
} win_pos;

typedef struct lane {
    int open, eof;
    int64_t eof_since;     /* caller clock when eof was set */
    nagm_agg *agg;
    int64_t wm;            /* largest event time delivered, INT64_MIN: none */
    int64_t replay_before; /* windows ending at or before were emitted earlier */
    win_pos *wp;           /* sorted by start; only when positions are given */
    size_t nwp, capwp;
} lane;

struct nagm_stream {
    nagm_stream_opts o;
    lane *lanes;
    size_t nlanes;          /* allocated entries */
    int64_t closed_before;  /* C */
    int64_t max_wm;
    int64_t last_pkt_now;   /* caller clock at the last counted packet */
    int have_pkt;
    int64_t due_wm;         /* a watermark at or past this closes a window */
    int due;
    int64_t min_ts, max_ts; /* one-window mode: the window's ends */
    /* rows taken from the lanes and not yet handed out, in output order */
    nagm_agm_row *pend;
    size_t npend, atpend;
    uint64_t counted, late, replayed, bad_time, windows, rows;
};

void nagm_window_clear(nagm_window *w)
{
    if (!w)
        return;
    free(w->rows);
    memset(w, 0, sizeof *w);
}

nagm_stream *nagm_stream_new(const nagm_stream_opts *o)
{
    if (!o || o->window_ns < 0 || o->lateness_ns < 0 || o->idle_ns < 0)
        return NULL;
    nagm_stream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->o = *o;
    s->closed_before = INT64_MIN;
    s->max_wm = INT64_MIN;
    s->due_wm = INT64_MIN;
    s->min_ts = INT64_MAX;
    s->max_ts = INT64_MIN;
    return s;
}

static void lane_reset(lane *l)
{
    nagm_agg_free(l->agg);
    free(l->wp);
    memset(l, 0, sizeof *l);
}

void nagm_stream_free(nagm_stream *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nlanes; i++)
        lane_reset(&s->lanes[i]);
    free(s->lanes);
    free(s->pend);
    free(s);
}

/* The lane, allocated (closed) if absent; NULL on ENOMEM or range. */
static lane *lane_slot(nagm_stream *s, int id)
{
    if (id < 0 || id >= MAX_LANES)
        return NULL;
    if ((size_t)id >= s->nlanes) {
        size_t n = s->nlanes ? s->nlanes : 4;
        while (n <= (size_t)id)
            n *= 2;
        lane *nl = realloc(s->lanes, sizeof *nl * n);
        if (!nl)
            return NULL;
        memset(nl + s->nlanes, 0, sizeof *nl * (n - s->nlanes));
        s->lanes = nl;
        s->nlanes = n;
    }
    return &s->lanes[id];
}

int nagm_stream_lane_open(nagm_stream *s, int id, int64_t replay_before_ns)
{
    lane *l = lane_slot(s, id);
    if (!l)
        return -1;
    if (!l->open) {
        l->agg = nagm_agg_new(s->o.window_ns);
        if (!l->agg)
            return -1;
        l->open = 1;
        l->wm = INT64_MIN;
    }
    l->eof = 0;
    l->replay_before = replay_before_ns;
    return 0;
}

void nagm_stream_lane_close(nagm_stream *s, int id)
{
    if (id >= 0 && (size_t)id < s->nlanes)
        lane_reset(&s->lanes[id]);
}

void nagm_stream_lane_eof(nagm_stream *s, int id, int eof, int64_t now_ns)
{
    if (id < 0 || (size_t)id >= s->nlanes || !s->lanes[id].open)
        return;
    lane *l = &s->lanes[id];
    if (eof && !l->eof)
        l->eof_since = now_ns;
    l->eof = eof != 0;
}

static int64_t sat_add(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

static int64_t sat_sub(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r))
        return b > 0 ? INT64_MIN : INT64_MAX;
    return r;
}

/* floor(t / W) * W, as nagm_agg places packets. */
static int64_t win_floor(int64_t t, int64_t w)
{
    int64_t q = t / w;
    /* Near INT64_MIN (a saturated capture time) the floor is not
     * representable: keep the first window that is. */
    if (t % w != 0 && t < 0 && q > INT64_MIN / w)
        q--;
    return q * w;
}

/* Remember the smallest position of lane's packets in the window at start. */
static int note_pos(lane *l, int64_t start, int64_t pos)
{
    size_t lo = l->nwp;
    if (lo && l->wp[lo - 1].start <= start) {
        lo--; /* the common case: the newest window */
        if (l->wp[lo].start != start)
            lo++;
    } else {
        lo = 0;
        size_t hi = l->nwp;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (l->wp[mid].start < start)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    if (lo < l->nwp && l->wp[lo].start == start) {
        if (pos < l->wp[lo].minpos)
            l->wp[lo].minpos = pos;
        return 0;
    }
    if (l->nwp == l->capwp) {
        size_t ncap = l->capwp ? l->capwp * 2 : 8;
        win_pos *n = realloc(l->wp, sizeof *n * ncap);
        if (!n)
            return -1;
        l->wp = n;
        l->capwp = ncap;
    }
    memmove(&l->wp[lo + 1], &l->wp[lo], sizeof *l->wp * (l->nwp - lo));
    l->wp[lo].start = start;
    l->wp[lo].minpos = pos;
    l->nwp++;
    return 0;
}

/* The engine watermark (see the top of the file), before the idle rule. */
static int64_t combined_wm(const nagm_stream *s, int64_t now_ns)
{
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    int active = 0;
    for (size_t i = 0; i < s->nlanes; i++) {
        const lane *l = &s->lanes[i];
        if (!l->open)
            continue;
        if (l->wm > hi)
            hi = l->wm;
        int idle = l->eof && s->o.idle_ns > 0 && now_ns - l->eof_since >= s->o.idle_ns;
        if (!idle) {
            active = 1;
            if (l->wm < lo)
                lo = l->wm;
        }
    }
    return active ? lo : hi;
}

int nagm_stream_add(nagm_stream *s, int id, int64_t pos, const nagm_pkt *p, int64_t now_ns)
{
    lane *l = id >= 0 && (size_t)id < s->nlanes ? &s->lanes[id] : NULL;
    if (!l || !l->open) {
        if (nagm_stream_lane_open(s, id, INT64_MIN) != 0)
            return -1;
        l = &s->lanes[id];
    }
    /* Times beyond about 146 years from the epoch come only from damaged or
     * forged records; window arithmetic (here and in nagm_agg) stays far
     * from the int64 limits by refusing them. */
    if (p->ts_ns < -NAGM_STREAM_MAX_TS || p->ts_ns > NAGM_STREAM_MAX_TS) {
        s->bad_time++;
        return NAGM_SADD_BADTIME;
    }
    int64_t start = 0;
    if (s->o.window_ns > 0) {
        start = win_floor(p->ts_ns, s->o.window_ns);
        int64_t end = sat_add(start, s->o.window_ns);
        if (end <= l->replay_before) {
            s->replayed++;
            return NAGM_SADD_REPLAYED;
        }
        if (end <= s->closed_before) {
            s->late++;
            return NAGM_SADD_LATE;
        }
    }
    if (pos >= 0 && note_pos(l, start, pos) != 0)
        return -1;
    if (nagm_agg_add(l->agg, p) != 0)
        return -1;
    if (p->ts_ns > l->wm)
        l->wm = p->ts_ns;
    if (p->ts_ns > s->max_wm)
        s->max_wm = p->ts_ns;
    if (p->ts_ns < s->min_ts)
        s->min_ts = p->ts_ns;
    if (p->ts_ns > s->max_ts)
        s->max_ts = p->ts_ns;
    s->last_pkt_now = now_ns;
    s->have_pkt = 1;
    s->counted++;
    /* Only a packet past the threshold can make a window due; then check
     * the engine watermark (the slowest open lane) itself. */
    if (s->o.window_ns > 0 && !s->due && p->ts_ns >= s->due_wm && combined_wm(s, now_ns) >= s->due_wm)
        s->due = 1;
    return NAGM_SADD_COUNTED;
}

int nagm_stream_due(const nagm_stream *s)
{
    return s->due;
}

/* Move every lane's closed windows into the pending rows. */
static int take_closed(nagm_stream *s, int64_t thr)
{
    nagm_agm_row **parts = NULL;
    size_t *counts = NULL, total = 0;
    int rc = -1;
    if (s->nlanes) {
        parts = calloc(s->nlanes, sizeof *parts);
        counts = calloc(s->nlanes, sizeof *counts);
        if (!parts || !counts)
            goto out;
    }
    /* Out of memory part way loses the windows taken so far: the caller
     * treats -1 as fatal and stops the run. */
    for (size_t i = 0; i < s->nlanes; i++) {
        lane *l = &s->lanes[i];
        if (!l->open)
            continue;
        size_t k = nagm_agg_take(l->agg, thr, &parts[i]);
        if (k == (size_t)-1)
            goto out;
        counts[i] = k;
        total += k;
    }
    if (total) {
        size_t left = s->npend - s->atpend;
        nagm_agm_row *np = malloc(sizeof *np * (left + total));
        if (!np)
            goto out;
        if (left)
            memcpy(np, s->pend + s->atpend, sizeof *np * left);
        /* Each lane's rows are in output order: merge them (a sort when
         * many lanes have rows, where picking the least head costs more). */
        const nagm_agm_row **cur = malloc(sizeof *cur * s->nlanes);
        size_t *cnt = malloc(sizeof *cnt * s->nlanes);
        if (!cur || !cnt) {
            free(cur);
            free(cnt);
            free(np);
            goto out;
        }
        int nparts = 0;
        for (size_t i = 0; i < s->nlanes; i++) {
            if (!counts[i])
                continue;
            if (s->o.window_ns == 0)
                for (size_t r = 0; r < counts[i]; r++) {
                    parts[i][r].window_start_ns = s->min_ts;
                    parts[i][r].window_end_ns = s->max_ts;
                }
            cur[nparts] = parts[i];
            cnt[nparts++] = counts[i];
        }
        if (nparts <= 16) {
            agg_rows_merge(np + left, cur, cnt, nparts);
        } else {
            nagm_agm_row *to = np + left;
            for (int i = 0; i < nparts; i++) {
                memcpy(to, cur[i], sizeof *to * cnt[i]);
                to += cnt[i];
            }
            qsort(np + left, total, sizeof *np, nagm_agm_row_cmp);
        }
        free(cur);
        free(cnt);
        size_t at = left + total;
        free(s->pend);
        s->pend = np;
        s->npend = at;
        s->atpend = 0;
    }
    rc = 0;
out:
    if (parts)
        for (size_t i = 0; i < s->nlanes; i++)
            free(parts[i]);
    free(parts);
    free(counts);
    return rc;
}

/* Forget the positions of windows that are closed. */
static void drop_positions(nagm_stream *s, int all)
{
    for (size_t i = 0; i < s->nlanes; i++) {
        lane *l = &s->lanes[i];
        size_t k = 0;
        if (all)
            k = l->nwp;
        else
            while (k < l->nwp && sat_add(l->wp[k].start, s->o.window_ns) <= s->closed_before)
                k++;
        if (k == 0)
            continue;
        memmove(l->wp, l->wp + k, sizeof *l->wp * (l->nwp - k));
        l->nwp -= k;
    }
}

/* Hand out the first pending window. */
static int pop_window(nagm_stream *s, int64_t now_ns, nagm_window *w)
{
    size_t a = s->atpend, b = a;
    while (b < s->npend && s->pend[b].window_start_ns == s->pend[a].window_start_ns)
        b++;
    nagm_agm_row *rows = malloc(sizeof *rows * (b - a));
    if (!rows)
        return -1;
    memcpy(rows, s->pend + a, sizeof *rows * (b - a));
    memset(w, 0, sizeof *w);
    w->rows = rows;
    w->n = b - a;
    w->start_ns = rows[0].window_start_ns;
    w->end_ns = rows[0].window_end_ns;
    for (size_t i = 0; i < w->n; i++)
        w->pkts += rows[i].pkts;
    w->closed_ns = now_ns;
    s->atpend = b;
    if (s->atpend == s->npend) {
        free(s->pend);
        s->pend = NULL;
        s->npend = s->atpend = 0;
    }
    s->windows++;
    s->rows += w->n;
    return 1;
}

int nagm_stream_next(nagm_stream *s, int64_t now_ns, int final, nagm_window *w)
{
    if (s->atpend < s->npend)
        return pop_window(s, now_ns, w);
    int64_t thr;
    if (final) {
        thr = INT64_MAX;
    } else {
        if (s->o.window_ns == 0)
            return 0;
        int64_t wm = combined_wm(s, now_ns);
        if (s->o.idle_ns > 0 && s->have_pkt && now_ns - s->last_pkt_now >= s->o.idle_ns) {
            int64_t adv = sat_add(s->max_wm, now_ns - s->last_pkt_now);
            if (adv > wm)
                wm = adv;
        }
        if (wm == INT64_MIN)
            return 0;
        thr = sat_sub(wm, s->o.lateness_ns);
        /* keep window arithmetic inside the int64 range */
        if (thr < INT64_MIN / 2)
            return 0;
        if (thr > INT64_MAX / 2)
            thr = INT64_MAX / 2;
        int64_t c = win_floor(thr, s->o.window_ns);
        if (c <= s->closed_before)
            return 0;
        thr = c;
    }
    if (take_closed(s, thr) != 0)
        return -1;
    if (final) {
        if (s->o.window_ns > 0 && s->max_wm != INT64_MIN) {
            int64_t c = sat_add(win_floor(s->max_wm, s->o.window_ns), s->o.window_ns);
            if (c > s->closed_before)
                s->closed_before = c;
        }
        drop_positions(s, 1);
    } else {
        s->closed_before = thr;
        drop_positions(s, 0);
    }
    s->due = 0;
    s->due_wm = sat_add(sat_add(s->closed_before, s->o.window_ns), s->o.lateness_ns);
    if (s->atpend < s->npend)
        return pop_window(s, now_ns, w);
    return 0;
}

int64_t nagm_stream_lane_min_pos(const nagm_stream *s, int id)
{
    if (id < 0 || (size_t)id >= s->nlanes || !s->lanes[id].open)
        return -1;
    const lane *l = &s->lanes[id];
    int64_t m = -1;
    for (size_t i = 0; i < l->nwp; i++)
        if (m < 0 || l->wp[i].minpos < m)
            m = l->wp[i].minpos;
    return m;
}

int64_t nagm_stream_closed_before(const nagm_stream *s)
{
    return s->closed_before;
}

void nagm_stream_set_closed_before(nagm_stream *s, int64_t t_ns)
{
    if (t_ns > s->closed_before)
        s->closed_before = t_ns;
}

void nagm_stream_get_counters(const nagm_stream *s, nagm_stream_counters *c)
{
    memset(c, 0, sizeof *c);
    c->counted = s->counted;
    c->late = s->late;
    c->replayed = s->replayed;
    c->bad_time = s->bad_time;
    c->windows = s->windows;
    c->rows = s->rows;
    c->watermark_ns = s->max_wm;
    c->closed_before_ns = s->closed_before;
    for (size_t i = 0; i < s->nlanes; i++) {
        const lane *l = &s->lanes[i];
        if (!l->open)
            continue;
        c->open_windows += nagm_agg_nwindows(l->agg);
        c->open_records += nagm_agg_nrecords(l->agg);
        c->memory += nagm_agg_memory(l->agg);
    }
}
