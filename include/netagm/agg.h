/* netagm: exact AGM aggregation (docs/agm.md, "Aggregation").
 *
 * State per (window, source): the packet count and, for each of the seven
 * fields, a histogram of values with an incrementally maintained distinct
 * count and mode (ties to the smallest value). Counts only grow inside a
 * window, so one packet costs O(1) per field. Two states merge exactly
 * (histogram union), which is what sharding, MPI and stream recovery use.
 *
 * Memory: see docs/agm.md in this repository ("Memory").
 */
#ifndef NETAGM_AGG_H
#define NETAGM_AGG_H

#include <stddef.h>
#include <stdint.h>

#include "netagm/agm.h"
#include "netagm/pkt.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nagm_agg nagm_agg;

/* New empty state. window_ns > 0: tumbling windows of that length in event
 * time; 0: one window over the whole input. Returns NULL on ENOMEM. */
nagm_agg *nagm_agg_new(int64_t window_ns);
void nagm_agg_free(nagm_agg *a);

/* Count one packet. The hot path: no allocation except when a table grows.
 * Returns 0, or -1 on ENOMEM (the packet is then not counted). Not
 * thread-safe; use one state per thread (see nagm_shards). */
int nagm_agg_add(nagm_agg *a, const nagm_pkt *p);

/* Count n packets: the same result as n calls of nagm_agg_add, faster
 * (stages over the batch overlap the cache misses). Returns 0, or -1 on
 * ENOMEM (then a prefix of the batch may have been counted). */
int nagm_agg_add_batch(nagm_agg *a, const nagm_pkt *pkts, size_t n);

/* Add every count of src into dst (same window_ns required). src is not
 * modified. Returns 0, or -1 on ENOMEM / mismatch. */
int nagm_agg_merge(nagm_agg *dst, const nagm_agg *src);

/* Smallest and largest packet timestamps seen (INT64_MAX / INT64_MIN when
 * empty). */
int64_t nagm_agg_min_ts(const nagm_agg *a);
int64_t nagm_agg_max_ts(const nagm_agg *a);

/* Number of (window, source) records currently held. */
size_t nagm_agg_nrecords(const nagm_agg *a);

/* Number of windows currently held. */
size_t nagm_agg_nwindows(const nagm_agg *a);

/* Bytes of memory held by the state's tables. */
size_t nagm_agg_memory(const nagm_agg *a);

/* Finalize and remove windows. With window_ns > 0, every window whose end is
 * <= before_ns is emitted (pass INT64_MAX for all). With one window, the
 * whole state is emitted when before_ns == INT64_MAX, else nothing; its start
 * and end are the min and max timestamps (see nagm_agg_min_ts), unless the
 * caller overrides them afterwards.
 * On success returns the number of rows and sets *rows to a malloc'd array in
 * output order (caller frees with free()); *rows is NULL when 0 rows.
 * Returns (size_t)-1 on ENOMEM (state unchanged). */
size_t nagm_agg_take(nagm_agg *a, int64_t before_ns, nagm_agm_row **rows);

/* Windows of the state, as start times, ascending; for stream mode's
 * watermark logic. Writes up to max entries, returns the number held. */
size_t nagm_agg_window_starts(const nagm_agg *a, int64_t *starts, size_t max);

#ifdef __cplusplus
}
#endif
#endif
