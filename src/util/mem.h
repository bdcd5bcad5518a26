/* Memory hints (no domain knowledge). */
#ifndef NETAGM_UTIL_MEM_H
#define NETAGM_UTIL_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

/* Ask for transparent huge pages over the 2 MiB-aligned interior of a large
 * heap block. Large random-access tables then cost far fewer TLB misses.
 * A hint only: errors are ignored and small blocks are left alone. */
static inline void nagm_hugepage_hint(void *p, size_t len)
{
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    if (len < 2 * huge)
        return;
    uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t e = ((uintptr_t)p + len) & ~(huge - 1);
    if (e > a)
        madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
    (void)p;
    (void)len;
#endif
}

#endif
