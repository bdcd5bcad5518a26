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

#define INIT_RECS 64u
#define INIT_ENTRIES 256u
#define INIT_V6 64u

static uint64_t addr_hash(const nagm_addr *a)
{
    return nagm_hash_bytes(a->b, a->family == 4 ? 4 : 16) ^ a->family;
}

static int addr_eq(const nagm_addr *a, const nagm_addr *b)
{
    return a->family == b->family && memcmp(a->b, b->b, a->family == 4 ? 4 : 16) == 0;
}

static uint32_t v4_value(const nagm_addr *a)
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
    w->entmask = INIT_ENTRIES - 1;
    w->entries = calloc(w->entmask + 1, sizeof *w->entries);
    if (!w->recs || !w->srcmap || !w->entries) {
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
    free(w->entries);
    free(w->v6.addrs);
    free(w->v6.slots);
    free(w);
}

size_t aggw_memory(const agg_window *w)
{
    return sizeof *w + (size_t)w->caprecs * sizeof *w->recs +
           ((size_t)w->srcmask + 1) * sizeof *w->srcmap +
           (w->entmask + 1) * sizeof *w->entries + (size_t)w->v6.cap * sizeof(nagm_addr) +
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

static int src_grow(agg_window *w)
{
    uint32_t ncap = w->caprecs * 2;
    aggw_rec *nr = realloc(w->recs, sizeof *nr * ncap);
    if (!nr)
        return -1;
    w->recs = nr;
    w->caprecs = ncap;
    uint32_t nmask = ncap * 2 - 1;
    uint32_t *nm = calloc((size_t)nmask + 1, sizeof *nm);
    if (!nm)
        return -1;
    for (uint32_t r = 0; r < w->nrecs; r++) {
        uint32_t i = (uint32_t)addr_hash(&w->recs[r].src) & nmask;
        while (nm[i])
            i = (i + 1) & nmask;
        nm[i] = r + 1;
    }
    free(w->srcmap);
    w->srcmap = nm;
    w->srcmask = nmask;
    return 0;
}

/* Record index of src, creating it if new; UINT32_MAX on ENOMEM. */
static uint32_t src_find(agg_window *w, const nagm_addr *src)
{
    uint32_t i = (uint32_t)addr_hash(src) & w->srcmask;
    for (;;) {
        uint32_t s = w->srcmap[i];
        if (!s)
            break;
        if (addr_eq(&w->recs[s - 1].src, src))
            return s - 1;
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
    w->srcmap[i] = r + 1;
    return r;
}

/* ---- histogram entries ------------------------------------------------------ */

static inline size_t ent_slot(uint32_t rec1, uint8_t field, uint32_t val, size_t mask)
{
    return (size_t)nagm_mix64(((uint64_t)rec1 << 32 | val) ^ ((uint64_t)field << 61)) & mask;
}

static inline uint64_t ent_count(const aggw_entry *e)
{
    return (uint64_t)e->cnt_lo | ((uint64_t)e->cnt_hi << 32);
}

static inline void ent_set_count(aggw_entry *e, uint64_t c)
{
    e->cnt_lo = (uint32_t)c;
    e->cnt_hi = (uint16_t)(c >> 32);
}

static int ent_grow(agg_window *w)
{
    size_t ncap = (w->entmask + 1) * 2;
    aggw_entry *ne = calloc(ncap, sizeof *ne);
    if (!ne)
        return -1;
    size_t nmask = ncap - 1;
    for (size_t i = 0; i <= w->entmask; i++) {
        const aggw_entry *e = &w->entries[i];
        if (!e->rec)
            continue;
        size_t j = ent_slot(e->rec, e->field, e->val, nmask);
        while (ne[j].rec)
            j = (j + 1) & nmask;
        ne[j] = *e;
    }
    free(w->entries);
    w->entries = ne;
    w->entmask = nmask;
    return 0;
}

/* The entry for (rec, field, val), created with count 0 if absent (*created
 * set); NULL on ENOMEM. Load factor is kept at or below 1/2. */
static aggw_entry *ent_find(agg_window *w, uint32_t rec, uint8_t field, uint32_t val,
                            int *created)
{
    if ((w->nentries + 1) * 2 > w->entmask + 1 && ent_grow(w) != 0)
        return NULL;
    uint32_t rec1 = rec + 1;
    size_t i = ent_slot(rec1, field, val, w->entmask);
    for (;;) {
        aggw_entry *e = &w->entries[i];
        if (!e->rec) {
            e->rec = rec1;
            e->field = field;
            e->val = val;
            ent_set_count(e, 0);
            w->nentries++;
            *created = 1;
            return e;
        }
        if (e->rec == rec1 && e->val == val && e->field == field) {
            *created = 0;
            return e;
        }
        i = (i + 1) & w->entmask;
    }
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
    int created;
    if (fs->uniq == 1) {
        /* Second distinct value: the first one moves into the table. */
        aggw_entry *first = ent_find(w, rec, (uint8_t)field, fs->mode, &created);
        if (!first)
            return -1;
        ent_set_count(first, fs->mode_cnt);
    }
    aggw_entry *e = ent_find(w, rec, (uint8_t)field, val, &created);
    if (!e)
        return -1;
    /* ent_find may have grown the table: fs stays valid (recs did not move). */
    if (created)
        fs->uniq++;
    uint64_t c = ent_count(e) + n;
    ent_set_count(e, c);
    if (c > fs->mode_cnt ||
        (c == fs->mode_cnt && value_less(w, &w->recs[rec], field, val, fs->mode))) {
        fs->mode = val;
        fs->mode_cnt = c;
    }
    return 0;
}

int aggw_add(agg_window *w, const nagm_pkt *p)
{
    uint32_t rec = src_find(w, &p->src);
    if (rec == UINT32_MAX)
        return -1;
    uint32_t dst;
    if (p->src.family == 6) {
        dst = v6_intern(&w->v6, &p->dst);
        if (dst == UINT32_MAX)
            return -1;
    } else {
        dst = v4_value(&p->dst);
    }
    w->recs[rec].pkts++;
    if (count_value(w, rec, NAGM_F_DST_IP, dst, 1) || count_value(w, rec, NAGM_F_SRC_PORT, p->src_port, 1) ||
        count_value(w, rec, NAGM_F_DST_PORT, p->dst_port, 1) ||
        count_value(w, rec, NAGM_F_TTL, p->ttl, 1) ||
        count_value(w, rec, NAGM_F_PROTO, p->proto, 1) ||
        count_value(w, rec, NAGM_F_FLAGS, p->flags, 1) ||
        count_value(w, rec, NAGM_F_LEN, p->len, 1))
        return -1;
    return 0;
}

/* Translate a value of src's record into dst's value space. */
static int merge_value(agg_window *dst, const agg_window *src, uint32_t drec, const aggw_rec *sr,
                       int field, uint32_t val, uint64_t n)
{
    if (field == NAGM_F_DST_IP && sr->src.family == 6) {
        val = v6_intern(&dst->v6, &src->v6.addrs[val]);
        if (val == UINT32_MAX)
            return -1;
    }
    return count_value(dst, drec, field, val, n);
}

int aggw_merge(agg_window *dst, const agg_window *src)
{
    uint32_t *map = malloc(sizeof *map * (src->nrecs ? src->nrecs : 1));
    if (!map)
        return -1;
    int rc = 0;
    for (uint32_t r = 0; r < src->nrecs && rc == 0; r++) {
        const aggw_rec *sr = &src->recs[r];
        map[r] = src_find(dst, &sr->src);
        if (map[r] == UINT32_MAX) {
            rc = -1;
            break;
        }
        dst->recs[map[r]].pkts += sr->pkts;
        for (int f = 0; f < NAGM_NFIELDS && rc == 0; f++)
            if (sr->f[f].uniq == 1)
                rc = merge_value(dst, src, map[r], sr, f, sr->f[f].mode, sr->f[f].mode_cnt);
    }
    for (size_t i = 0; i <= src->entmask && rc == 0; i++) {
        const aggw_entry *e = &src->entries[i];
        if (!e->rec)
            continue;
        const aggw_rec *sr = &src->recs[e->rec - 1];
        rc = merge_value(dst, src, map[e->rec - 1], sr, e->field, e->val, ent_count(e));
    }
    free(map);
    return rc;
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
