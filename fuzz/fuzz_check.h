/* Fuzz targets: CHECK(x) stops the run on a broken invariant, in every build
 * (assert would vanish under NDEBUG), so the fuzzer records the input; and
 * the invariants of an AGM row, shared by the targets that read tables. */
#ifndef NETAGM_FUZZ_CHECK_H
#define NETAGM_FUZZ_CHECK_H

#include <stdint.h>

#include "netagm/agm.h"

#define CHECK(x)                                                                         \
    do {                                                                                 \
        if (!(x))                                                                        \
            __builtin_trap();                                                            \
    } while (0)

/* What every AGM row a reader accepts must satisfy, whatever its input. */
static inline void fuzz_check_agm_row(const nagm_agm_row *r)
{
    /* Largest mode per field (dst_ip's is an address, checked by family). */
    static const uint32_t fuzz_mode_max[NAGM_NFIELDS] = {0, 65535, 65535, 255, 255, 255, 65575};
    CHECK(r->pkts >= 1);
    for (int f = 0; f < NAGM_NFIELDS; f++) {
        CHECK(r->uniq[f] >= 1 && r->uniq[f] <= r->pkts);
        CHECK(r->mode_pkts[f] >= 1 && r->mode_pkts[f] <= r->pkts);
        CHECK(r->mode[f] <= fuzz_mode_max[f]);
    }
    CHECK(r->src.family == 4 || r->src.family == 6);
    CHECK(r->dst_ip_mode.family == r->src.family);
}

#endif
