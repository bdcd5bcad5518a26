/* Order statistics (no domain knowledge). */
#ifndef NETAGM_UTIL_SELECT_H
#define NETAGM_UTIL_SELECT_H

#include <stddef.h>

/* The k-th smallest (0-based, k < n) of a[0..n) by three-way quickselect,
 * expected O(n); reorders a. */
static inline double nagm_kth_smallest(double *a, size_t n, size_t k)
{
    size_t lo = 0, hi = n;
    while (hi - lo > 1) {
        double pivot = a[lo + (hi - lo) / 2];
        size_t lt = lo, i = lo, gt = hi;
        while (i < gt) {
            double v = a[i];
            if (v < pivot) {
                a[i++] = a[lt];
                a[lt++] = v;
            } else if (v > pivot) {
                a[i] = a[--gt];
                a[gt] = v;
            } else {
                i++;
            }
        }
        if (k < lt)
            hi = lt;
        else if (k >= gt)
            lo = gt;
        else
            return pivot;
    }
    return a[lo];
}

#endif
