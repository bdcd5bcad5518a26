/* Private: the exact AGM state of one window.
 *
 * Layout, chosen so that one packet costs a handful of cache lines:
 *  - recs[]: one record per source (packet count and, per field, the distinct
 *    count, the mode and the mode's count);
 *  - srcmap: open-addressing table source address -> record index;
 *  - entries: open-addressing table (record, field, value) -> count, holding
 *    the histogram of every field that has two or more distinct values. A
 *    field with a single value so far lives only in its record (value = mode,
 *    count = mode count), which is the common case for ttl, proto and flags;
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

typedef struct aggw_field {
    uint64_t mode_cnt;
    uint32_t mode;
    uint32_t uniq;
} aggw_field;

typedef struct aggw_rec {
    nagm_addr src;
    uint64_t pkts;
    aggw_field f[NAGM_NFIELDS];
} aggw_rec;

/* 16 bytes: a histogram bucket. count is 48 bits wide (cnt_lo | cnt_hi << 32). */
typedef struct aggw_entry {
    uint32_t rec;    /* record index + 1; 0 = empty slot */
    uint32_t val;
    uint32_t cnt_lo;
    uint16_t cnt_hi;
    uint8_t field;
    uint8_t pad;
} aggw_entry;

typedef struct aggw_v6 {
    nagm_addr *addrs;  /* id -> address */
    uint32_t n, cap;
    uint32_t *slots;   /* open addressing: id + 1, 0 = empty */
    uint32_t mask;
} aggw_v6;

typedef struct agg_window {
    int64_t start_ns;
    aggw_rec *recs;
    uint32_t nrecs, caprecs;
    uint32_t *srcmap; /* record index + 1; 0 = empty */
    uint32_t srcmask;
    aggw_entry *entries;
    size_t nentries;
    size_t entmask;
    aggw_v6 v6;
} agg_window;

/* New empty window state, or NULL on ENOMEM. */
agg_window *aggw_new(int64_t start_ns);
void aggw_free(agg_window *w);

/* Count one packet. Returns 0 or -1 on ENOMEM. */
int aggw_add(agg_window *w, const nagm_pkt *p);

/* Add all of src's counts into dst. Returns 0 or -1 on ENOMEM. */
int aggw_merge(agg_window *dst, const agg_window *src);

/* Fill rows[0..nrecs) (unsorted) with start/end as given. */
void aggw_rows(const agg_window *w, int64_t start_ns, int64_t end_ns, nagm_agm_row *rows);

/* Bytes held by the window's tables. */
size_t aggw_memory(const agg_window *w);

#endif
