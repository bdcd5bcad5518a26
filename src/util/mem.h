/* Memory hints (no domain knowledge). */
#ifndef NETAGM_UTIL_MEM_H
#define NETAGM_UTIL_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

/* Ask for transparent huge pages over a large heap block, so that large
 * random-access tables cost far fewer TLB misses. A hint only: errors are
 * ignored and blocks under 4 MiB are left alone.
 *
 * The advice covers the whole pages around the block, not just its 2 MiB-
 * aligned interior: glibc serves such blocks from a mapping of their own, and
 * advice on part of a mapping splits it in two, after which realloc can no
 * longer move the mapping with mremap and copies the block instead (the old
 * and the new block then both count in the peak memory). */
static inline void nagm_hugepage_hint(void *p, size_t len)
{
#ifdef MADV_HUGEPAGE
    const uintptr_t page = 4096, huge = (uintptr_t)2 << 20;
    if (len < 2 * huge)
        return;
    uintptr_t a = (uintptr_t)p & ~(page - 1);
    uintptr_t e = ((uintptr_t)p + len + page - 1) & ~(page - 1);
    madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
    (void)p;
    (void)len;
#endif
}

#endif
