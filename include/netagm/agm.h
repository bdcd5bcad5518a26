/* netagm: the AGM record (one row per window and source), see docs/agm.md. */
#ifndef NETAGM_AGM_H
#define NETAGM_AGM_H

#include <stdint.h>

#include "netagm/pkt.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One AGM row. Field arrays are indexed by enum nagm_field. */
typedef struct nagm_agm_row {
    int64_t window_start_ns;           /* floor(t/W)*W, or the first packet time */
    int64_t window_end_ns;             /* start + W, or the last packet time */
    nagm_addr src;
    uint64_t pkts;
    uint64_t uniq[NAGM_NFIELDS];       /* X_uniq */
    uint64_t mode_pkts[NAGM_NFIELDS];  /* X_mode_pkts */
    uint32_t mode[NAGM_NFIELDS];       /* X_mode for every field but dst_ip */
    nagm_addr dst_ip_mode;             /* X_mode for dst_ip */
} nagm_agm_row;

/* Number of output columns (window_start .. len_mode_pkts). */
#define NAGM_AGM_NCOLS 25

/* Name of output column i (0 <= i < NAGM_AGM_NCOLS), in spec order. Static. */
const char *nagm_agm_col_name(int i);

/* Total order of rows in output: window_start, then src (nagm_addr_cmp).
 * qsort-compatible on const nagm_agm_row *. */
int nagm_agm_row_cmp(const void *a, const void *b);

#ifdef __cplusplus
}
#endif
#endif
