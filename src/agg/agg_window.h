/* Private: the exact AGM state of one window.
 *
 * Layout, chosen so that one packet touches few cache lines:
 *  - recs[]: one 192-byte record per source, aligned to the 64-byte cache
 *    line, so a packet reads exactly three lines of it: the packet count,
 *    the address and, per field, its distinct count, mode and mode count;
 *  - srcmap: open-addressing table of 64-bit slots (32-bit key: the IPv4
 *    address, or a hash of the IPv6 address; record index + 1), the record
 *    confirming the match;
 *  - a field with one or two values so far keeps them in its record (the
 *    mode in mode/mode_cnt, the other value in x with its count in y): the
 *    usual case for ttl, proto, and for the ports of a client. From the third
 *    value on, the field owns an open-addressing histogram table of 8-byte
 *    buckets (x = its offset, y = log2 of its size) carved from the window's
 *    arena, so a source's values sit together and a busy source's tables stay
 *    in cache. No bucket straddles two cache lines, and a table of up to 8
 *    buckets sits in one;
 *  - counts are 32 bits wide: a field whose mode count would reach
 *    AGGW_WIDE (2^32 - 1) moves its whole histogram to a side table of 64-bit
 *    counts (wides[x]) and keeps mode_cnt = AGGW_WIDE as the mark. Every count
 *    of a field is at most its mode count, and the record keeps a bound on
 *    its fields' mode counts, so one comparison per packet covers every
 *    overflow;
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

/* A histogram bucket: value and its count; count 0 = empty. */
typedef struct aggw_ent {
    uint32_t val;
    uint32_t cnt;
} aggw_ent;

/* mode_cnt of a field whose counts live in a wide table. */
#define AGGW_WIDE UINT32_MAX

/* One field of a source. uniq 0: no value yet; 1: the value is mode, seen
 * mode_cnt times; 2: mode, and value x seen y times (y <= mode_cnt); 3 or
 * more: every value and count is in the arena table at offset x of 1 << y
 * buckets, the mode's too. When mode_cnt == AGGW_WIDE, wides[x] holds the
 * histogram, the mode and its count instead (mode is kept here too). */
typedef struct aggw_field {
    uint32_t uniq;
    uint32_t mode;
    uint32_t mode_cnt;
    uint32_t x;
    uint32_t y;
} aggw_field;

typedef struct aggw_rec {
    _Alignas(64) uint64_t pkts;
    nagm_addr src;
    aggw_field f[NAGM_NFIELDS];
    /* An upper bound on every field's mode count (AGGW_WIDE once a field is
     * wide). While it is below AGGW_WIDE - 1, a packet cannot overflow any
     * count of the record: one check a packet instead of one a field. */
    uint32_t hi;
} aggw_rec;

/* A field whose counts outgrew 32 bits. */
typedef struct aggw_went {
    uint64_t cnt; /* 0 = empty */
    uint32_t val;
} aggw_went;

typedef struct aggw_wide {
    aggw_went *tab;   /* open addressing, load <= 1/2 */
    uint32_t log2cap;
    uint32_t mode;
    uint64_t mode_cnt;
} aggw_wide;

typedef struct aggw_v6 {
    nagm_addr *addrs;  /* id -> address */
    uint32_t n, cap;
    uint32_t *slots;   /* open addressing: id + 1, 0 = empty */
    uint32_t mask;
} aggw_v6;

#define AGGW_NCLASSES 32

typedef struct agg_window {
    int64_t start_ns;
    aggw_rec *recs;    /* 64-byte aligned inside recs_raw */
    uint32_t nrecs, caprecs;
    uint32_t last;     /* record of the previous packet (bursts repeat it) */
    uint64_t *srcmap;  /* key << 32 | (record index + 1); 0 = empty */
    uint32_t srcmask;
    aggw_ent *arena;   /* histogram tables, 64-byte aligned inside arena_raw */
    size_t arena_len, arena_cap;
    uint32_t freelist[AGGW_NCLASSES]; /* per log2cap: offset + 1 of a free table */
    aggw_wide *wides;
    uint32_t nwides, capwides;
    aggw_v6 v6;
    char *recs_raw, *arena_raw;
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

/* Add all of src's counts into dst. Returns 0, or -1 on ENOMEM or when a
 * count would pass 2^64 - 1. */
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
 * does (n = 0 adds nothing). For dst_ip of an IPv6 source pass the address as
 * v6dst (val is then ignored); otherwise v6dst is NULL. Returns 0, or -1 on
 * ENOMEM or when a count would pass 2^64 - 1. */
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
