/* Private: putting AGM rows into output order without moving 200-byte rows
 * around more than once. */
#ifndef NETAGM_AGG_ROW_ORDER_H
#define NETAGM_AGG_ROW_ORDER_H

#include <stddef.h>

#include "netagm/agm.h"

/* Sort rows[0..n) by source address (nagm_addr_cmp; the addresses are
 * distinct, as within one window). Sorts small (address, index) keys, IPv4 by
 * radix, then moves every row once. Falls back to qsort when the keys cannot
 * be allocated, so it always succeeds. */
void agg_rows_sort_src(nagm_agm_row *rows, size_t n);

/* Merge nparts runs parts[i][0..counts[i]), each already in output order
 * (nagm_agm_row_cmp), into out, which holds the sum of the counts. Both
 * arrays are used up: parts[i] advance and counts[i] fall to 0. */
void agg_rows_merge(nagm_agm_row *out, const nagm_agm_row **parts, size_t *counts, int nparts);

#endif
