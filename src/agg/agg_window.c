/* The exact AGM state of one window: see agg_window.h for the layout.
 *
 * Mode maintenance. Inside a window counts only grow. When value v's count
 * becomes c, the mode can only change to v, and only if c exceeds the mode's
 * count or ties it with a smaller value (agm.md: ties go to the smallest
 * value). So one comparison per field per packet keeps the mode exact, and
 * the same rule holds when a merge adds a whole count at once.
 */
#include "agg/agg_window.h"

#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util/mem.h"

#define INIT_RECS 64u
#define INIT_V6 64u
#define MIN_LOG2CAP 2u /* a field's first histogram holds 4 buckets */

static uint64_t addr_hash(const nagm_addr *a)
{
    return nagm_hash_bytes(a->b, a->family == 4 ? 4 : 16) ^ a->family;
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

agg_window *aggw_new(int64_t start_ns)
{
    agg_window *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->start_ns = start_ns;
    w->caprecs = INIT_RECS;
    w->recs = malloc(sizeof *w->recs * w->caprecs);
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
    free(w->recs);
    free(w->srcmap);
    free(w->arena);
    free(w->v6.addrs);
    free(w->v6.slots);
    free(w);
}

size_t aggw_memory(const agg_window *w)
{
    return sizeof *w + (size_t)w->caprecs * sizeof *w->recs +
           ((size_t)w->srcmask + 1) * sizeof *w->srcmap + w->arena_cap * sizeof *w->arena +
           (size_t)w->v6.cap * sizeof(nagm_addr) +
           (w->v6.slots ? ((size_t)w->v6.mask + 1) * sizeof(uint32_t) : 0);
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
    for (uint32_t id = 0; id < t->n; id++) {
        uint64_t h = addr_hash(&t->addrs[id]);
        uint32_t i = (uint32_t)h & nmask;
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

/* Id of address a, inserting it if new; UINT32_MAX on ENOMEM. */
static uint32_t v6_intern(aggw_v6 *t, const nagm_addr *a)
{
    if (t->n == t->cap && v6_grow(t) != 0)
        return UINT32_MAX;
    uint32_t i = (uint32_t)addr_hash(a) & t->mask;
    for (;;) {
        uint32_t s = t->slots[i];
        if (!s)
            break;
        if (addr_eq(&t->addrs[s - 1], a))
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
    return a->family == 4 ? v4_value(a) : (uint32_t)addr_hash(a);
}

static inline uint32_t src_slot(uint32_t key, uint8_t family, uint32_t mask)
{
    return (uint32_t)nagm_mix64((uint64_t)key << 8 | family) & mask;
}

static int src_grow(agg_window *w)
{
    uint32_t ncap = w->caprecs * 2;
    aggw_rec *nr = realloc(w->recs, sizeof *nr * ncap);
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

/* Record index of src, creating it if new; UINT32_MAX on ENOMEM. */
static uint32_t src_find(agg_window *w, const nagm_addr *src)
{
    if (w->last != UINT32_MAX && addr_eq(&w->recs[w->last].src, src))
        return w->last;
    uint32_t key = src_key(src);
    uint32_t i = src_slot(key, src->family, w->srcmask);
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
    if (w->nrecs == w->caprecs) {
        if (src_grow(w) != 0)
            return UINT32_MAX;
        return src_find(w, src); /* slots moved; the address is still absent */
    }
    uint32_t r = w->nrecs++;
    aggw_rec *rec = &w->recs[r];
    memset(rec, 0, sizeof *rec);
    rec->src = *src;
    w->srcmap[i] = (uint64_t)key << 32 | (r + 1);
    return w->last = r;
}

/* ---- histogram tables --------------------------------------------------------- */

static inline uint64_t ent_count(const aggw_ent *e)
{
    return (uint64_t)e->lo | ((uint64_t)e->hi << 32);
}

static inline void ent_set(aggw_ent *e, uint32_t val, uint64_t c)
{
    e->val = val;
    e->lo = (uint32_t)c;
    e->hi = (uint32_t)(c >> 32);
}

static inline uint32_t ent_slot(uint32_t val, uint32_t log2cap)
{
    /* Fibonacci hashing: the top bits of val * 2^32/phi spread small and
     * sequential values (ports, lengths, addresses) evenly. */
    return (val * 0x9E3779B1u) >> (32 - log2cap);
}

/* A zeroed table of 1 << log2cap buckets from the arena; its offset, or
 * UINT32_MAX on ENOMEM. Reuses a freed table of the same size first. */
static uint32_t tab_alloc(agg_window *w, uint32_t log2cap)
{
    size_t cap = (size_t)1 << log2cap;
    uint32_t off;
    if (w->freelist[log2cap]) {
        off = w->freelist[log2cap] - 1;
        w->freelist[log2cap] = w->arena[off].val; /* next free + 1 */
    } else {
        if (w->arena_len + cap > UINT32_MAX)
            return UINT32_MAX;
        if (w->arena_len + cap > w->arena_cap) {
            size_t ncap = w->arena_cap ? w->arena_cap * 2 : 4096;
            while (ncap < w->arena_len + cap)
                ncap *= 2;
            aggw_ent *na = realloc(w->arena, sizeof *na * ncap);
            if (!na)
                return UINT32_MAX;
            w->arena = na;
            w->arena_cap = ncap;
            nagm_hugepage_hint(na, sizeof *na * ncap);
        }
        off = (uint32_t)w->arena_len;
        w->arena_len += cap;
    }
    memset(&w->arena[off], 0, sizeof *w->arena * cap);
    return off;
}

static void tab_free(agg_window *w, uint32_t off, uint32_t log2cap)
{
    w->arena[off].val = w->freelist[log2cap];
    w->freelist[log2cap] = off + 1;
}

/* Bucket for val in table (off, log2cap): the matching one, or the empty one
 * where it belongs. The table always has an empty bucket (load <= 3/4). */
static inline aggw_ent *tab_probe(aggw_ent *tab, uint32_t log2cap, uint32_t val)
{
    uint32_t mask = (1u << log2cap) - 1;
    uint32_t i = ent_slot(val, log2cap);
    for (;;) {
        aggw_ent *e = &tab[i];
        if ((e->lo | e->hi) == 0 || e->val == val)
            return e;
        i = (i + 1) & mask;
    }
}

/* Double field fs's table (or create the first one holding its single value).
 * Returns 0 or -1 on ENOMEM. */
static int tab_grow(agg_window *w, aggw_field *fs)
{
    uint32_t nlog = fs->log2cap ? fs->log2cap + 1 : MIN_LOG2CAP;
    if (nlog >= AGGW_NCLASSES)
        return -1;
    uint32_t noff = tab_alloc(w, nlog); /* may move the arena */
    if (noff == UINT32_MAX)
        return -1;
    aggw_ent *nt = &w->arena[noff];
    if (!fs->log2cap) {
        ent_set(tab_probe(nt, nlog, fs->mode), fs->mode, fs->mode_cnt);
    } else {
        const aggw_ent *old = &w->arena[fs->tab];
        for (size_t i = 0; i < ((size_t)1 << fs->log2cap); i++)
            if (old[i].lo | old[i].hi)
                *tab_probe(nt, nlog, old[i].val) = old[i];
        tab_free(w, fs->tab, fs->log2cap);
    }
    fs->tab = noff;
    fs->log2cap = nlog;
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

/* Add n packets with value val to field of record rec. */
static int count_value(agg_window *w, uint32_t rec, int field, uint32_t val, uint64_t n)
{
    aggw_field *fs = &w->recs[rec].f[field];
    if (fs->uniq == 0) {
        fs->uniq = 1;
        fs->mode = val;
        fs->mode_cnt = n;
        return 0;
    }
    if (fs->uniq == 1 && fs->mode == val) {
        fs->mode_cnt += n;
        return 0;
    }
    /* Keep the load at or below 3/4 counting a possible new value. */
    if (!fs->log2cap || ((uint64_t)fs->uniq + 1) * 4 > (3ull << fs->log2cap))
        if (tab_grow(w, fs) != 0)
            return -1;
    aggw_ent *e = tab_probe(&w->arena[fs->tab], fs->log2cap, val);
    uint64_t c = ent_count(e) + n;
    if (c == n)
        fs->uniq++;
    ent_set(e, val, c);
    if (c > fs->mode_cnt ||
        (c == fs->mode_cnt && value_less(w, &w->recs[rec], field, val, fs->mode))) {
        fs->mode = val;
        fs->mode_cnt = c;
    }
    return 0;
}

/* Count packet p into record rec (p's source). */
static int aggw_add_rec(agg_window *w, uint32_t rec, const nagm_pkt *p)
{
    uint32_t dst;
    if (p->src.family == 6) {
        dst = v6_intern(&w->v6, &p->dst);
        if (dst == UINT32_MAX)
            return -1;
    } else {
        dst = v4_value(&p->dst);
    }
    w->recs[rec].pkts++;
    if (count_value(w, rec, NAGM_F_DST_IP, dst, 1) ||
        count_value(w, rec, NAGM_F_SRC_PORT, p->src_port, 1) ||
        count_value(w, rec, NAGM_F_DST_PORT, p->dst_port, 1) ||
        count_value(w, rec, NAGM_F_TTL, p->ttl, 1) ||
        count_value(w, rec, NAGM_F_PROTO, p->proto, 1) ||
        count_value(w, rec, NAGM_F_FLAGS, p->flags, 1) ||
        count_value(w, rec, NAGM_F_LEN, p->len, 1))
        return -1;
    return 0;
}

int aggw_add(agg_window *w, const nagm_pkt *p)
{
    uint32_t rec = src_find(w, &p->src);
    if (rec == UINT32_MAX)
        return -1;
    return aggw_add_rec(w, rec, p);
}

/* Where (rec, field, val) would be probed first: a prefetch hint only. */
static inline void prefetch_value(const agg_window *w, const aggw_rec *r, int field, uint32_t val)
{
    const aggw_field *fs = &r->f[field];
    if (fs->log2cap)
        __builtin_prefetch(&w->arena[fs->tab + ent_slot(val, fs->log2cap)], 1, 1);
}

int aggw_add_batch(agg_window *w, const nagm_pkt *const *pk, size_t n)
{
    /* The work per packet is a few dependent cache misses (source slot ->
     * record -> histogram buckets) into tables much larger than the caches.
     * Going over the batch in stages, each prefetching what the next one
     * reads, keeps many misses in flight instead of one. Prefetches are only
     * hints: the last stage does the real, exact work, whatever moved. */
    uint32_t recs[AGGW_BATCH];
    for (size_t i = 0; i < n; i++) {
        const nagm_addr *a = &pk[i]->src;
        __builtin_prefetch(&w->srcmap[src_slot(src_key(a), a->family, w->srcmask)], 0, 1);
    }
    for (size_t i = 0; i < n; i++) {
        /* The slot is in cache now: prefetch the record it most likely names. */
        const nagm_addr *a = &pk[i]->src;
        uint32_t key = src_key(a);
        uint64_t sl = w->srcmap[src_slot(key, a->family, w->srcmask)];
        if (sl && (uint32_t)(sl >> 32) == key)
            __builtin_prefetch(&w->recs[(uint32_t)sl - 1], 0, 1);
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t r = src_find(w, &pk[i]->src);
        if (r == UINT32_MAX)
            return -1;
        recs[i] = r;
        __builtin_prefetch(&w->recs[r].f[0], 1, 1);
        __builtin_prefetch(&w->recs[r].f[3], 1, 1);
        __builtin_prefetch(&w->recs[r].f[6], 1, 1);
    }
    for (size_t i = 0; i < n; i++) {
        const aggw_rec *r = &w->recs[recs[i]];
        const nagm_pkt *p = pk[i];
        if (p->src.family == 4)
            prefetch_value(w, r, NAGM_F_DST_IP, v4_value(&p->dst));
        prefetch_value(w, r, NAGM_F_SRC_PORT, p->src_port);
        prefetch_value(w, r, NAGM_F_DST_PORT, p->dst_port);
        prefetch_value(w, r, NAGM_F_LEN, p->len);
    }
    for (size_t i = 0; i < n; i++)
        if (aggw_add_rec(w, recs[i], pk[i]) != 0)
            return -1;
    return 0;
}

void aggw_field_values(const agg_window *w, uint32_t r, int f, aggw_value_fn fn, void *ctx)
{
    const aggw_field *fs = &w->recs[r].f[f];
    if (fs->uniq == 0)
        return;
    if (fs->uniq == 1) {
        fn(ctx, fs->mode, fs->mode_cnt);
        return;
    }
    const aggw_ent *t = &w->arena[fs->tab];
    for (size_t i = 0; i < ((size_t)1 << fs->log2cap); i++)
        if (t[i].lo | t[i].hi)
            fn(ctx, t[i].val, ent_count(&t[i]));
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
        val = v6_intern(&m->dst->v6, &m->src->v6.addrs[val]);
        if (val == UINT32_MAX) {
            m->rc = -1;
            return;
        }
    }
    m->rc = count_value(m->dst, m->drec, m->field, val, cnt);
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
            row->uniq[f] = rec->f[f].uniq;
            row->mode_pkts[f] = rec->f[f].mode_cnt;
            row->mode[f] = rec->f[f].mode;
        }
        if (rec->src.family == 6)
            row->dst_ip_mode = w->v6.addrs[rec->f[NAGM_F_DST_IP].mode];
        else
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
    if (v6dst) {
        val = v6_intern(&w->v6, v6dst);
        if (val == UINT32_MAX)
            return -1;
    }
    return count_value(w, rec, field, val, n);
}
