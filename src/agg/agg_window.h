/* Private: the exact AGM state of one window.
 *
 * Layout, chosen so that one packet touches few cache lines:
 *  - recs[]: one record per source: the packet count and, per field, the
 *    distinct count, the mode, the mode's count and the field's histogram;
 *  - srcmap: open-addressing table of 64-bit slots (32-bit key: the IPv4
 *    address, or a hash of the IPv6 address; record index + 1), the record
 *    confirming the match;
 *  - a field with one value so far keeps it only in its record (value = mode,
 *    count = mode count): the usual case for ttl, proto and flags. From the
 *    second value on, the field owns a small open-addressing histogram table
 *    of 12-byte buckets carved from the window's arena, so a source's values
 *    sit together and a busy source's tables stay in cache;
 *  - v6: IPv6 destination addresses interned to 32-bit ids, so that every
 *    histogram value is 32 bits wide. (IPv4 destinations are their own value:
 *    a source's destinations are always of its own family.)
 */
#ifndef NETAGM_AGG_WINDOW_H
#define NETAGM_AGG_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "netagm/agm.h"
#include "netagm/pkt.h"

/* A histogram bucket: value and its 64-bit count; count 0 = empty. */
typedef struct aggw_ent {
    uint32_t val;
    uint32_t lo;
    uint32_t hi;
} aggw_ent;

typedef struct aggw_field {
    uint64_t mode_cnt;
    uint32_t mode;
    uint32_t uniq;
    uint32_t tab;     /* arena offset of the histogram (when log2cap > 0) */
    uint32_t log2cap; /* histogram capacity is 1 << log2cap; 0 = none yet */
} aggw_field;

typedef struct aggw_rec {
    nagm_addr src;
    uint64_t pkts;
    aggw_field f[NAGM_NFIELDS];
} aggw_rec;

typedef struct aggw_v6 {
    nagm_addr *addrs;  /* id -> address */
    uint32_t n, cap;
    uint32_t *slots;   /* open addressing: id + 1, 0 = empty */
    uint32_t mask;
} aggw_v6;

#define AGGW_NCLASSES 32

typedef struct agg_window {
    int64_t start_ns;
    aggw_rec *recs;
    uint32_t nrecs, caprecs;
    uint32_t last;     /* record of the previous packet (bursts repeat it) */
    uint64_t *srcmap;  /* key << 32 | (record index + 1); 0 = empty */
    uint32_t srcmask;
    aggw_ent *arena;   /* histogram tables */
    size_t arena_len, arena_cap;
    uint32_t freelist[AGGW_NCLASSES]; /* per log2cap: offset + 1 of a free table */
    aggw_v6 v6;
} agg_window;

/* New empty window state, or NULL on ENOMEM. */
agg_window *aggw_new(int64_t start_ns);
void aggw_free(agg_window *w);

/* Count one packet. Returns 0 or -1 on ENOMEM. */
int aggw_add(agg_window *w, const nagm_pkt *p);

/* Count n <= AGGW_BATCH packets of this window, prefetching ahead: the same
 * result as n calls of aggw_add. Returns 0 or -1 on ENOMEM. */
#define AGGW_BATCH 32
int aggw_add_batch(agg_window *w, const nagm_pkt *const *pk, size_t n);

/* Add all of src's counts into dst. Returns 0 or -1 on ENOMEM. */
int aggw_merge(agg_window *dst, const agg_window *src);

/* Fill rows[0..nrecs) (unsorted) with start/end as given. */
void aggw_rows(const agg_window *w, int64_t start_ns, int64_t end_ns, nagm_agm_row *rows);

/* Bytes held by the window's tables. */
size_t aggw_memory(const agg_window *w);

/* ---- for the serializer (agg_serial.c), which moves records between
 * processes; see agg_serial.h ---------------------------------------------- */

typedef struct nagm_agg nagm_agg;

/* Index of src's record in w, created (all counts 0) if absent; UINT32_MAX on
 * ENOMEM. */
uint32_t aggw_source(agg_window *w, const nagm_addr *src);

/* Add n packets with value val to field of record rec, exactly as a merge
 * does. For dst_ip of an IPv6 source pass the address as v6dst (val is then
 * ignored); otherwise v6dst is NULL. Returns 0 or -1 on ENOMEM. */
int aggw_count(agg_window *w, uint32_t rec, int field, uint32_t val, const nagm_addr *v6dst,
               uint64_t n);

/* Call fn(ctx, value, count) for every distinct value of field f of record
 * r (in no particular order; counts are > 0). */
typedef void (*aggw_value_fn)(void *ctx, uint32_t val, uint64_t cnt);
void aggw_field_values(const agg_window *w, uint32_t r, int f, aggw_value_fn fn, void *ctx);

/* Windows of a nagm_agg (defined in agg.c). Window i in start order, borrowed
 * (i < nagm_agg_nwindows). */
agg_window *agg_window_at(const nagm_agg *a, size_t i);

/* The window starting at start_ns, created if absent; NULL on ENOMEM. */
agg_window *agg_window_for(nagm_agg *a, int64_t start_ns);

/* Free the first k windows (all their records are gone). */
void agg_drop_front(nagm_agg *a, size_t k);

/* The state's window length (0 = one window). */
int64_t agg_window_len(const nagm_agg *a);

#endif
