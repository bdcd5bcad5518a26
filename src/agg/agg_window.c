/* The exact AGM state of one window: see agg_window.h for the layout.
 *
 * Mode maintenance. Inside a window counts only grow. When value v's count
 * becomes c, the mode can only change to v, and only if c exceeds the mode's
 * count or ties it with a smaller value (agm.md: ties go to the smallest
 * value). So one comparison per field per packet keeps the mode exact, and
 * the same rule holds when a merge adds a whole count at once.
 *
 * Counts are kept in 32 bits, which halves the tables and lets a record hold
 * two values of a field. A field's counts are all at most its mode count, so
 * checking that the mode count plus the packets added stays below AGGW_WIDE
 * proves that no count of the field can overflow; a field that fails the
 * check (after 4 billion packets of one source in one window, or a merge of
 * such a state) moves to a wide table of 64-bit counts for good.
 */
#include "agg/agg_window.h"

#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util/mem.h"

#define INIT_RECS 64u
#define INIT_V6 64u
#define INIT_ARENA 4096u  /* buckets */
#define MIN_LOG2CAP 2u    /* a field's first table: 4 buckets, for its 3rd value */
#define WIDE_MIN_LOG2 3u
#define LINE 64u

_Static_assert(sizeof(aggw_rec) == 3 * LINE, "a record is three cache lines");

#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Hash of an IPv6 address, private to this file (ids and slots never leave
 * the process): one multiply folds the two halves, one mix spreads them. */
static inline uint64_t v6_hash(const nagm_addr *a)
{
    uint64_t lo, hi;
    memcpy(&lo, a->b, 8);
    memcpy(&hi, a->b + 8, 8);
    return nagm_mix64(lo ^ (hi * 0x9E3779B97F4A7C15ull));
}

static inline int addr_eq(const nagm_addr *a, const nagm_addr *b)
{
    if (a->family != b->family)
        return 0;
    if (a->family == 4)
        return memcmp(a->b, b->b, 4) == 0;
    return memcmp(a->b, b->b, 16) == 0;
}

static inline uint32_t v4_value(const nagm_addr *a)
{
    return ((uint32_t)a->b[0] << 24) | ((uint32_t)a->b[1] << 16) | ((uint32_t)a->b[2] << 8) |
           a->b[3];
}

/* Grow a 64-byte aligned block: base (inside the allocation *raw, which
 * holds used bytes) to bytes. Returns the new base, or NULL on ENOMEM (the
 * old block is then untouched). realloc keeps the bytes but not their
 * alignment: move them when the new block's padding differs. */
static char *grow_aligned(char **raw, char *base, size_t used, size_t bytes)
{
    size_t shift = *raw ? (size_t)(base - *raw) : 0;
    char *nr = realloc(*raw, bytes + LINE - 1);
    if (!nr)
        return NULL;
    char *nb = (char *)(((uintptr_t)nr + LINE - 1) & ~(uintptr_t)(LINE - 1));
    if ((size_t)(nb - nr) != shift && used)
        memmove(nb, nr + shift, used);
    *raw = nr;
    return nb;
}

agg_window *aggw_new(int64_t start_ns)
{
    agg_window *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->start_ns = start_ns;
    w->caprecs = INIT_RECS;
    w->recs = (aggw_rec *)grow_aligned(&w->recs_raw, NULL, 0, sizeof *w->recs * w->caprecs);
    w->srcmask = INIT_RECS * 2 - 1;
    w->srcmap = calloc((size_t)w->srcmask + 1, sizeof *w->srcmap);
    w->last = UINT32_MAX;
    if (!w->recs || !w->srcmap) {
        aggw_free(w);
        return NULL;
    }
    return w;
}

void aggw_free(agg_window *w)
{
    if (!w)
        return;
    free(w->recs_raw);
    free(w->srcmap);
    free(w->arena_raw);
    for (uint32_t i = 0; i < w->nwides; i++)
        free(w->wides[i].tab);
    free(w->wides);
    free(w->v6.addrs);
    free(w->v6.slots);
    free(w);
}

size_t aggw_memory(const agg_window *w)
{
    size_t n = sizeof *w + (size_t)w->caprecs * sizeof *w->recs +
               ((size_t)w->srcmask + 1) * sizeof *w->srcmap + w->arena_cap * sizeof *w->arena +
               (size_t)w->v6.cap * sizeof(nagm_addr) +
               (w->v6.slots ? ((size_t)w->v6.mask + 1) * sizeof(uint32_t) : 0) +
               (size_t)w->capwides * sizeof *w->wides;
    for (uint32_t i = 0; i < w->nwides; i++)
        n += ((size_t)1 << w->wides[i].log2cap) * sizeof(aggw_went);
    return n;
}

/* ---- IPv6 destination interning --------------------------------------------- */

static int v6_grow(aggw_v6 *t)
{
    uint32_t ncap = t->cap ? t->cap * 2 : INIT_V6;
    nagm_addr *na = realloc(t->addrs, sizeof *na * ncap);
    if (!na)
        return -1;
    t->addrs = na;
    uint32_t nmask = ncap * 2 - 1;
    uint32_t *ns = calloc((size_t)nmask + 1, sizeof *ns);
    if (!ns)
        return -1;
    nagm_hugepage_hint(ns, sizeof *ns * ((size_t)nmask + 1));
    for (uint32_t id = 0; id < t->n; id++) {
        uint32_t i = (uint32_t)v6_hash(&t->addrs[id]) & nmask;
        while (ns[i])
            i = (i + 1) & nmask;
        ns[i] = id + 1;
    }
    free(t->slots);
    t->slots = ns;
    t->mask = nmask;
    t->cap = ncap;
    return 0;
}

/* Id of address a (hash h = v6_hash(a)), inserting it if new; UINT32_MAX on
 * ENOMEM. */
static uint32_t v6_intern(aggw_v6 *t, const nagm_addr *a, uint64_t h)
{
    if (t->n == t->cap && v6_grow(t) != 0)
        return UINT32_MAX;
    uint32_t i = (uint32_t)h & t->mask;
    for (;;) {
        uint32_t s = t->slots[i];
        if (!s)
            break;
        if (t->addrs[s - 1].family == a->family && memcmp(t->addrs[s - 1].b, a->b, 16) == 0)
            return s - 1;
        i = (i + 1) & t->mask;
    }
    t->addrs[t->n] = *a;
    t->slots[i] = ++t->n;
    return t->n - 1;
}

/* ---- sources ---------------------------------------------------------------- */

static inline uint32_t src_key(const nagm_addr *a)
{
    return a->family == 4 ? v4_value(a) : (uint32_t)v6_hash(a);
}

static inline uint32_t src_slot(uint32_t key, uint8_t family, uint32_t mask)
{
    return (uint32_t)nagm_mix64((uint64_t)key << 8 | family) & mask;
}

static int src_grow(agg_window *w)
{
    if (w->caprecs > UINT32_MAX / 4)
        return -1;
    uint32_t ncap = w->caprecs * 2;
    aggw_rec *nr = (aggw_rec *)grow_aligned(&w->recs_raw, (char *)w->recs,
                                            sizeof *nr * w->nrecs, sizeof *nr * ncap);
    if (!nr)
        return -1;
    w->recs = nr;
    w->caprecs = ncap;
    nagm_hugepage_hint(nr, sizeof *nr * ncap);
    uint32_t nmask = ncap * 2 - 1;
    uint64_t *nm = calloc((size_t)nmask + 1, sizeof *nm);
    if (!nm)
        return -1;
    nagm_hugepage_hint(nm, sizeof *nm * ((size_t)nmask + 1));
    for (uint32_t r = 0; r < w->nrecs; r++) {
        uint32_t key = src_key(&w->recs[r].src);
        uint32_t i = src_slot(key, w->recs[r].src.family, nmask);
        while (nm[i])
            i = (i + 1) & nmask;
        nm[i] = (uint64_t)key << 32 | (r + 1);
    }
    free(w->srcmap);
    w->srcmap = nm;
    w->srcmask = nmask;
    return 0;
}

/* A new record for src (key = src_key(src)), absent from srcmap, whose probe
 * ended at the empty slot i; its index, or UINT32_MAX on ENOMEM. */
static __attribute__((noinline)) uint32_t src_insert(agg_window *w, const nagm_addr *src,
                                                     uint32_t key, uint32_t i)
{
    if (w->nrecs == w->caprecs) {
        if (src_grow(w) != 0)
            return UINT32_MAX;
        i = src_slot(key, src->family, w->srcmask);
        while (w->srcmap[i])
            i = (i + 1) & w->srcmask;
    }
    uint32_t r = w->nrecs++;
    aggw_rec *rec = &w->recs[r];
    memset(rec, 0, sizeof *rec);
    rec->src = *src;
    w->srcmap[i] = (uint64_t)key << 32 | (r + 1);
    return w->last = r;
}

/* Record index of src (key = src_key(src), its srcmap probe starting at slot
 * i), creating it if new; UINT32_MAX on ENOMEM. */
static inline uint32_t src_probe(agg_window *w, const nagm_addr *src, uint32_t key, uint32_t i)
{
    for (;;) {
        uint64_t s = w->srcmap[i];
        if (!s)
            break;
        if ((uint32_t)(s >> 32) == key) {
            uint32_t r = (uint32_t)s - 1;
            if (addr_eq(&w->recs[r].src, src))
                return w->last = r;
        }
        i = (i + 1) & w->srcmask;
    }
    return src_insert(w, src, key, i);
}

/* src_probe, trying the previous packet's record first. */
static inline uint32_t src_find_at(agg_window *w, const nagm_addr *src, uint32_t key, uint32_t i)
{
    if (w->last != UINT32_MAX && addr_eq(&w->recs[w->last].src, src))
        return w->last;
    return src_probe(w, src, key, i);
}

static uint32_t src_find(agg_window *w, const nagm_addr *src)
{
    uint32_t key = src_key(src);
    return src_find_at(w, src, key, src_slot(key, src->family, w->srcmask));
}

/* ---- histogram tables --------------------------------------------------------- */

static inline uint32_t ent_slot(uint32_t val, uint32_t log2cap)
{
    /* Fibonacci hashing: the top bits of val * 2^32/phi spread small and
     * sequential values (ports, lengths, addresses) evenly. */
    return (val * 0x9E3779B1u) >> (32 - log2cap);
}

/* Put the free table at off of 1 << log2cap buckets on its free list. */
static void tab_free(agg_window *w, uint32_t off, uint32_t log2cap)
{
    w->arena[off].val = w->freelist[log2cap];
    w->freelist[log2cap] = off + 1;
}

/* A zeroed table of 1 << log2cap buckets from the arena; its offset, or
 * UINT32_MAX on ENOMEM. Reuses a freed table of the same size first. A table
 * starts on a cache line, or (4 buckets) on half of one, so that no table
 * of up to 8 buckets straddles two lines. */
static uint32_t tab_alloc(agg_window *w, uint32_t log2cap)
{
    size_t cap = (size_t)1 << log2cap;
    uint32_t off;
    if (w->freelist[log2cap]) {
        off = w->freelist[log2cap] - 1;
        w->freelist[log2cap] = w->arena[off].val; /* next free + 1 */
    } else {
        const size_t per_line = LINE / sizeof *w->arena;
        size_t align = cap < per_line ? cap : per_line;
        size_t at = (w->arena_len + align - 1) & ~(align - 1);
        if (at + cap > UINT32_MAX)
            return UINT32_MAX;
        if (at + cap > w->arena_cap) {
            size_t ncap = w->arena_cap ? w->arena_cap * 2 : INIT_ARENA;
            while (ncap < at + cap)
                ncap *= 2;
            aggw_ent *na = (aggw_ent *)grow_aligned(&w->arena_raw, (char *)w->arena,
                                                    sizeof *na * w->arena_len, sizeof *na * ncap);
            if (!na)
                return UINT32_MAX;
            w->arena = na;
            w->arena_cap = ncap;
            nagm_hugepage_hint(na, sizeof *na * ncap);
        }
        /* Sizes are powers of two from 4 buckets on: a gap is one 4-bucket
         * table, kept for the next field that spills. */
        if (at != w->arena_len)
            tab_free(w, (uint32_t)w->arena_len, MIN_LOG2CAP);
        off = (uint32_t)at;
        w->arena_len = at + cap;
    }
    memset(&w->arena[off], 0, sizeof *w->arena * cap);
    return off;
}

/* Bucket for val in a table of 1 << log2cap buckets: the matching one, or
 * the empty one where it belongs. The table always has an empty bucket
 * (load <= 3/4). */
static inline aggw_ent *tab_probe(aggw_ent *tab, uint32_t log2cap, uint32_t val)
{
    uint32_t mask = (1u << log2cap) - 1;
    uint32_t i = ent_slot(val, log2cap);
    for (;;) {
        aggw_ent *e = &tab[i];
        if (e->val == val || e->cnt == 0)
            return e;
        i = (i + 1) & mask;
    }
}

/* Double field fs's table. Returns 0 or -1 on ENOMEM. */
static __attribute__((noinline)) int tab_grow(agg_window *w, aggw_field *fs)
{
    uint32_t nlog = fs->y + 1;
    if (nlog >= AGGW_NCLASSES)
        return -1;
    uint32_t noff = tab_alloc(w, nlog); /* may move the arena */
    if (noff == UINT32_MAX)
        return -1;
    aggw_ent *nt = &w->arena[noff];
    const aggw_ent *old = &w->arena[fs->x];
    for (size_t i = 0; i < ((size_t)1 << fs->y); i++)
        if (old[i].cnt)
            *tab_probe(nt, nlog, old[i].val) = old[i];
    tab_free(w, fs->x, fs->y);
    fs->x = noff;
    fs->y = nlog;
    return 0;
}

/* ---- counting ------------------------------------------------------------- */

/* a < b in output order for field values (IPv6 destinations by address). */
static inline int value_less(const agg_window *w, const aggw_rec *r, int field, uint32_t a,
                             uint32_t b)
{
    if (field == NAGM_F_DST_IP && r->src.family == 6)
        return memcmp(w->v6.addrs[a].b, w->v6.addrs[b].b, 16) < 0;
    return a < b;
}

/* Does value val, now seen c times, take the mode from (mode, mode_cnt)? */
static inline int beats(const agg_window *w, const aggw_rec *r, int field, uint32_t val,
                        uint64_t c, uint32_t mode, uint64_t mode_cnt)
{
    return c > mode_cnt || (c == mode_cnt && value_less(w, r, field, val, mode));
}

/* Third value of a field that kept two in its record: move them to a table
 * of 4 buckets. Returns 0 or -1 on ENOMEM. */
static __attribute__((noinline)) int spill(agg_window *w, aggw_rec *r, int field, uint32_t val,
                                           uint32_t k)
{
    uint32_t off = tab_alloc(w, MIN_LOG2CAP);
    if (off == UINT32_MAX)
        return -1;
    aggw_field *fs = &r->f[field];
    aggw_ent *t = &w->arena[off];
    aggw_ent *e = tab_probe(t, MIN_LOG2CAP, fs->mode);
    e->val = fs->mode;
    e->cnt = fs->mode_cnt;
    e = tab_probe(t, MIN_LOG2CAP, fs->x);
    e->val = fs->x;
    e->cnt = fs->y;
    e = tab_probe(t, MIN_LOG2CAP, val);
    e->val = val;
    e->cnt = k;
    fs->uniq = 3;
    fs->x = off;
    fs->y = MIN_LOG2CAP;
    if (beats(w, r, field, val, k, fs->mode, fs->mode_cnt)) {
        fs->mode = val;
        fs->mode_cnt = k;
    }
    return 0;
}

/* ---- wide fields (counts past 32 bits) --------------------------------------- */

static inline uint32_t wide_slot(uint32_t val, uint32_t log2cap)
{
    return (uint32_t)((val * 0x9E3779B97F4A7C15ull) >> (64 - log2cap));
}

static aggw_went *wide_probe(aggw_went *tab, uint32_t log2cap, uint32_t val)
{
    uint32_t mask = (1u << log2cap) - 1;
    uint32_t i = wide_slot(val, log2cap);
    while (tab[i].cnt && tab[i].val != val)
        i = (i + 1) & mask;
    return &tab[i];
}

/* Resize wide table d to 1 << nlog buckets. Returns 0 or -1 on ENOMEM. */
static int wide_resize(aggw_wide *d, uint32_t nlog)
{
    aggw_went *nt = calloc((size_t)1 << nlog, sizeof *nt);
    if (!nt)
        return -1;
    if (d->tab)
        for (size_t i = 0; i < ((size_t)1 << d->log2cap); i++)
            if (d->tab[i].cnt)
                *wide_probe(nt, nlog, d->tab[i].val) = d->tab[i];
    free(d->tab);
    d->tab = nt;
    d->log2cap = nlog;
    return 0;
}

static void wide_put(aggw_wide *d, uint32_t val, uint64_t cnt)
{
    aggw_went *e = wide_probe(d->tab, d->log2cap, val);
    e->val = val;
    e->cnt = cnt;
}

/* Move field of r to a wide table. Returns 0 or -1 on ENOMEM. */
static int widen(agg_window *w, aggw_rec *r, int field)
{
    aggw_field *fs = &r->f[field];
    if (w->nwides == w->capwides) {
        uint32_t ncap = w->capwides ? w->capwides * 2 : 4;
        if (ncap < w->capwides)
            return -1;
        aggw_wide *nw = realloc(w->wides, sizeof *nw * ncap);
        if (!nw)
            return -1;
        w->wides = nw;
        w->capwides = ncap;
    }
    aggw_wide *d = &w->wides[w->nwides];
    memset(d, 0, sizeof *d);
    uint32_t nlog = WIDE_MIN_LOG2;
    while (((uint64_t)fs->uniq + 1) * 2 > ((uint64_t)1 << nlog))
        nlog++;
    if (nlog >= 32 || wide_resize(d, nlog) != 0)
        return -1;
    if (fs->uniq >= 1)
        wide_put(d, fs->mode, fs->mode_cnt);
    if (fs->uniq == 2)
        wide_put(d, fs->x, fs->y);
    if (fs->uniq >= 3) {
        const aggw_ent *t = &w->arena[fs->x];
        for (size_t i = 0; i < ((size_t)1 << fs->y); i++)
            if (t[i].cnt)
                wide_put(d, t[i].val, t[i].cnt);
        tab_free(w, fs->x, fs->y);
    }
    d->mode = fs->mode;
    d->mode_cnt = fs->mode_cnt;
    fs->x = w->nwides++;
    fs->y = 0;
    fs->mode_cnt = AGGW_WIDE;
    return 0;
}

/* Add n packets with value val to field of r where some count may pass 32
 * bits. Returns 0, or -1 on ENOMEM or if a count would pass 64 bits. */
static __attribute__((noinline)) int count_wide(agg_window *w, aggw_rec *r, int field,
                                                uint32_t val, uint64_t n)
{
    aggw_field *fs = &r->f[field];
    if (fs->mode_cnt != AGGW_WIDE && widen(w, r, field) != 0)
        return -1;
    aggw_wide *d = &w->wides[fs->x];
    aggw_went *e = wide_probe(d->tab, d->log2cap, val);
    if (!e->cnt) {
        if (fs->uniq == UINT32_MAX)
            return -1;
        if (((uint64_t)fs->uniq + 1) * 2 > ((uint64_t)1 << d->log2cap)) {
            if (d->log2cap + 1 >= 32 || wide_resize(d, d->log2cap + 1) != 0)
                return -1;
            e = wide_probe(d->tab, d->log2cap, val);
        }
        e->val = val;
        fs->uniq++;
    }
    if (n > UINT64_MAX - e->cnt)
        return -1;
    e->cnt += n;
    if (beats(w, r, field, val, e->cnt, d->mode, d->mode_cnt)) {
        d->mode = fs->mode = val;
        d->mode_cnt = e->cnt;
    }
    return 0;
}

/* ---- the hot path ---------------------------------------------------------- */

/* Add n packets with value val to field of record r. With checked 0 the
 * caller has proved that no count of the field can reach AGGW_WIDE (n is 1
 * and r->hi < AGGW_WIDE - 1) and keeps r->hi itself. Returns 0 or -1 on
 * ENOMEM. */
static inline __attribute__((always_inline)) int count_in(agg_window *w, aggw_rec *r, int field,
                                                          uint32_t val, uint64_t n, int checked)
{
    aggw_field *fs = &r->f[field];
    if (checked) {
        /* Below this bound no count of the field can reach AGGW_WIDE; a wide
         * field (mode_cnt == AGGW_WIDE) never passes it. */
        if (UNLIKELY(n >= (uint64_t)(AGGW_WIDE - fs->mode_cnt)))
            return count_wide(w, r, field, val, n);
    }
    uint32_t k = (uint32_t)n;
    if (fs->uniq >= 3) {
        aggw_ent *e = tab_probe(&w->arena[fs->x], fs->y, val);
        if (!e->cnt) {
            /* A new value: keep the load at or below 3/4. */
            if (UNLIKELY((fs->uniq + 1ull) * 4 > (3ull << fs->y))) {
                if (tab_grow(w, fs) != 0)
                    return -1;
                e = tab_probe(&w->arena[fs->x], fs->y, val);
            }
            e->val = val;
            fs->uniq++;
        }
        uint32_t c = e->cnt += k;
        if (beats(w, r, field, val, c, fs->mode, fs->mode_cnt)) {
            fs->mode = val;
            fs->mode_cnt = c;
        }
        return 0;
    }
    if (val == fs->mode && fs->uniq != 0) {
        fs->mode_cnt += k;
        return 0;
    }
    switch (fs->uniq) {
    case 0:
        fs->uniq = 1;
        fs->mode = val;
        fs->mode_cnt = k;
        return 0;
    case 1:
        fs->uniq = 2;
        fs->x = val;
        fs->y = k;
        break;
    default:
        if (val != fs->x)
            return spill(w, r, field, val, k);
        fs->y += k;
        break;
    }
    /* The record's other value may now take the mode: swap them. */
    if (beats(w, r, field, fs->x, fs->y, fs->mode, fs->mode_cnt)) {
        uint32_t v = fs->x, c = fs->y;
        fs->x = fs->mode;
        fs->y = fs->mode_cnt;
        fs->mode = v;
        fs->mode_cnt = c;
    }
    return 0;
}

/* count_in with every check, keeping r->hi: for merges, the serializer and
 * records near the bound. */
static int count_value(agg_window *w, aggw_rec *r, int field, uint32_t val, uint64_t n)
{
    int rc = count_in(w, r, field, val, n, 1);
    if (r->f[field].mode_cnt > r->hi)
        r->hi = r->f[field].mode_cnt;
    return rc;
}

/* Count packet p's seven values (destination value dst) into record r. */
static inline __attribute__((always_inline)) int add_values(agg_window *w, aggw_rec *r,
                                                            const nagm_pkt *p, uint32_t dst,
                                                            int checked)
{
    /* Errors are rare (ENOMEM): test them once. */
    return count_in(w, r, NAGM_F_DST_IP, dst, 1, checked) |
           count_in(w, r, NAGM_F_SRC_PORT, p->src_port, 1, checked) |
           count_in(w, r, NAGM_F_DST_PORT, p->dst_port, 1, checked) |
           count_in(w, r, NAGM_F_TTL, p->ttl, 1, checked) |
           count_in(w, r, NAGM_F_PROTO, p->proto, 1, checked) |
           count_in(w, r, NAGM_F_FLAGS, p->flags, 1, checked) |
           count_in(w, r, NAGM_F_LEN, p->len, 1, checked);
}

/* Records near the 32-bit bound, out of the hot path. */
static __attribute__((noinline)) int add_values_checked(agg_window *w, aggw_rec *r,
                                                        const nagm_pkt *p, uint32_t dst)
{
    int rc = add_values(w, r, p, dst, 1);
    for (int f = 0; f < NAGM_NFIELDS; f++)
        if (r->f[f].mode_cnt > r->hi)
            r->hi = r->f[f].mode_cnt;
    return rc;
}

/* Count packet p (destination value dst) into record r, its source's. A
 * packet adds 1 to one count of each field, so while r->hi < AGGW_WIDE - 1
 * no count can overflow and r->hi + 1 bounds them all afterwards. */
static inline __attribute__((always_inline)) int add_rec(agg_window *w, aggw_rec *r,
                                                         const nagm_pkt *p, uint32_t dst)
{
    r->pkts++;
    if (UNLIKELY(r->hi >= AGGW_WIDE - 1))
        return add_values_checked(w, r, p, dst);
    r->hi++;
    return add_values(w, r, p, dst, 0);
}

/* The dst_ip value of p: the IPv4 address, or the id of the IPv6 one
 * (UINT32_MAX on ENOMEM). */
static inline uint32_t dst_value(agg_window *w, const nagm_pkt *p)
{
    if (p->src.family == 6)
        return v6_intern(&w->v6, &p->dst, v6_hash(&p->dst));
    return v4_value(&p->dst);
}

int aggw_add(agg_window *w, const nagm_pkt *p)
{
    uint32_t rec = src_find(w, &p->src);
    if (rec == UINT32_MAX)
        return -1;
    uint32_t dst = dst_value(w, p);
    if (dst == UINT32_MAX && p->src.family == 6)
        return -1;
    return add_rec(w, &w->recs[rec], p, dst) ? -1 : 0;
}

/* Where (field fs, val) would be probed first, if fs has a table: a
 * prefetch hint only. */
static inline void prefetch_value(const agg_window *w, const aggw_field *fs, uint32_t val)
{
    if (fs->uniq >= 3 && fs->mode_cnt != AGGW_WIDE)
        __builtin_prefetch(&w->arena[fs->x + ent_slot(val, fs->y)], 1, 3);
}

static inline void prefetch_rec(const aggw_rec *r)
{
    const char *p = (const char *)r;
    __builtin_prefetch(p, 1, 3);
    __builtin_prefetch(p + LINE, 1, 3);
    __builtin_prefetch(p + 2 * LINE, 1, 3);
}

int aggw_add_batch(agg_window *w, const nagm_pkt *const *pk, size_t n)
{
    /* The work per packet is a few dependent cache misses (source slot ->
     * record -> histogram buckets) into tables much larger than the caches.
     * Going over the batch in stages, each prefetching what the next one
     * reads, keeps many misses in flight instead of one. Prefetches are only
     * hints: the last stage does the real, exact work, whatever moved. */
    uint32_t key[AGGW_BATCH], slot[AGGW_BATCH], recs[AGGW_BATCH], dst[AGGW_BATCH];
    uint32_t guess[AGGW_BATCH];
    uint64_t h6[AGGW_BATCH];
    uint32_t mask = w->srcmask;
    for (size_t i = 0; i < n; i++) {
        const nagm_pkt *p = pk[i];
        key[i] = src_key(&p->src);
        slot[i] = src_slot(key[i], p->src.family, mask);
        __builtin_prefetch(&w->srcmap[slot[i]], 0, 3);
        if (p->src.family == 6) {
            h6[i] = v6_hash(&p->dst);
            if (w->v6.slots)
                __builtin_prefetch(&w->v6.slots[(uint32_t)h6[i] & w->v6.mask], 0, 3);
        }
    }
    for (size_t i = 0; i < n; i++) {
        /* The slot is in cache now: prefetch the record it most likely names,
         * and the address an IPv6 destination's slot most likely names. */
        uint64_t sl = w->srcmap[slot[i]];
        guess[i] = UINT32_MAX;
        if (sl && (uint32_t)(sl >> 32) == key[i]) {
            guess[i] = (uint32_t)sl - 1;
            prefetch_rec(&w->recs[guess[i]]);
        }
        if (pk[i]->src.family == 6 && w->v6.slots) {
            uint32_t s = w->v6.slots[(uint32_t)h6[i] & w->v6.mask];
            if (s)
                __builtin_prefetch(&w->v6.addrs[s - 1], 0, 3);
        }
    }
    for (size_t i = 0; i < n; i++) {
        /* The guess is a record index (records never move index), so only
         * its address needs confirming. */
        uint32_t r = guess[i];
        if (r == UINT32_MAX || !addr_eq(&w->recs[r].src, &pk[i]->src)) {
            /* (a new record may have grown srcmap since the first stage) */
            uint32_t at = w->srcmask == mask ? slot[i]
                                             : src_slot(key[i], pk[i]->src.family, w->srcmask);
            r = src_probe(w, &pk[i]->src, key[i], at);
            if (r == UINT32_MAX)
                return -1;
            prefetch_rec(&w->recs[r]);
        }
        recs[i] = r;
    }
    for (size_t i = 0; i < n; i++) {
        const aggw_rec *r = &w->recs[recs[i]];
        const nagm_pkt *p = pk[i];
        if (p->src.family == 6) {
            dst[i] = v6_intern(&w->v6, &p->dst, h6[i]);
            if (dst[i] == UINT32_MAX)
                return -1;
        } else {
            dst[i] = v4_value(&p->dst);
        }
        prefetch_value(w, &r->f[NAGM_F_DST_IP], dst[i]);
        prefetch_value(w, &r->f[NAGM_F_SRC_PORT], p->src_port);
        prefetch_value(w, &r->f[NAGM_F_DST_PORT], p->dst_port);
        /* (ttl and proto seldom have more than the two values a record
         * holds: no table to prefetch) */
        prefetch_value(w, &r->f[NAGM_F_FLAGS], p->flags);
        prefetch_value(w, &r->f[NAGM_F_LEN], p->len);
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        rc |= add_rec(w, &w->recs[recs[i]], pk[i], dst[i]);
    return rc ? -1 : 0;
}

void aggw_field_values(const agg_window *w, uint32_t r, int f, aggw_value_fn fn, void *ctx)
{
    const aggw_field *fs = &w->recs[r].f[f];
    if (fs->uniq == 0)
        return;
    if (fs->mode_cnt == AGGW_WIDE) {
        const aggw_wide *d = &w->wides[fs->x];
        for (size_t i = 0; i < ((size_t)1 << d->log2cap); i++)
            if (d->tab[i].cnt)
                fn(ctx, d->tab[i].val, d->tab[i].cnt);
        return;
    }
    if (fs->uniq <= 2) {
        fn(ctx, fs->mode, fs->mode_cnt);
        if (fs->uniq == 2)
            fn(ctx, fs->x, fs->y);
        return;
    }
    const aggw_ent *t = &w->arena[fs->x];
    for (size_t i = 0; i < ((size_t)1 << fs->y); i++)
        if (t[i].cnt)
            fn(ctx, t[i].val, t[i].cnt);
}

typedef struct merge_ctx {
    agg_window *dst;
    const agg_window *src;
    uint32_t drec;
    int v6dst; /* dst_ip of an IPv6 source: translate intern ids */
    int field;
    int rc;
} merge_ctx;

static void merge_one(void *ctx, uint32_t val, uint64_t cnt)
{
    merge_ctx *m = ctx;
    if (m->rc)
        return;
    if (m->v6dst) {
        const nagm_addr *a = &m->src->v6.addrs[val];
        val = v6_intern(&m->dst->v6, a, v6_hash(a));
        if (val == UINT32_MAX) {
            m->rc = -1;
            return;
        }
    }
    m->rc = count_value(m->dst, &m->dst->recs[m->drec], m->field, val, cnt);
}

int aggw_merge(agg_window *dst, const agg_window *src)
{
    merge_ctx m = {.dst = dst, .src = src};
    for (uint32_t r = 0; r < src->nrecs && m.rc == 0; r++) {
        const aggw_rec *sr = &src->recs[r];
        m.drec = src_find(dst, &sr->src);
        if (m.drec == UINT32_MAX)
            return -1;
        dst->recs[m.drec].pkts += sr->pkts;
        for (m.field = 0; m.field < NAGM_NFIELDS && m.rc == 0; m.field++) {
            m.v6dst = m.field == NAGM_F_DST_IP && sr->src.family == 6;
            aggw_field_values(src, r, m.field, merge_one, &m);
        }
    }
    return m.rc;
}

void aggw_rows(const agg_window *w, int64_t start_ns, int64_t end_ns, nagm_agm_row *rows)
{
    for (uint32_t r = 0; r < w->nrecs; r++) {
        const aggw_rec *rec = &w->recs[r];
        nagm_agm_row *row = &rows[r];
        memset(row, 0, sizeof *row);
        row->window_start_ns = start_ns;
        row->window_end_ns = end_ns;
        row->src = rec->src;
        row->pkts = rec->pkts;
        for (int f = 0; f < NAGM_NFIELDS; f++) {
            const aggw_field *fs = &rec->f[f];
            row->uniq[f] = fs->uniq;
            row->mode_pkts[f] = fs->mode_cnt == AGGW_WIDE ? w->wides[fs->x].mode_cnt : fs->mode_cnt;
            row->mode[f] = fs->mode;
        }
        if (rec->src.family == 6) {
            /* (a record made by aggw_source may have no value yet) */
            if (rec->f[NAGM_F_DST_IP].uniq)
                row->dst_ip_mode = w->v6.addrs[rec->f[NAGM_F_DST_IP].mode];
            else
                row->dst_ip_mode.family = 6;
        } else
            row->dst_ip_mode = nagm_addr_v4(rec->f[NAGM_F_DST_IP].mode);
        row->mode[NAGM_F_DST_IP] = 0;
    }
}

/* ---- for the serializer ------------------------------------------------------ */

uint32_t aggw_source(agg_window *w, const nagm_addr *src)
{
    return src_find(w, src);
}

int aggw_count(agg_window *w, uint32_t rec, int field, uint32_t val, const nagm_addr *v6dst,
               uint64_t n)
{
    if (n == 0)
        return 0; /* a value seen 0 times is not a value of the field */
    if (v6dst) {
        val = v6_intern(&w->v6, v6dst, v6_hash(v6dst));
        if (val == UINT32_MAX)
            return -1;
    }
    return count_value(w, &w->recs[rec], field, val, n);
}
