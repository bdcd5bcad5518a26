/* Work split over ranks (mpi_split.h): LPT with a binary heap of rank loads. */
#include "mpi/mpi_split.h"

#include <stdlib.h>
#include <string.h>

typedef struct load {
    uint64_t bytes;
    int rank;
} load;

static int load_less(const load *a, const load *b)
{
    return a->bytes != b->bytes ? a->bytes < b->bytes : a->rank < b->rank;
}

static void sift_down(load *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && load_less(&h[l], &h[m]))
            m = l;
        if (l + 1 < n && load_less(&h[l + 1], &h[m]))
            m = l + 1;
        if (m == i)
            return;
        load t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

typedef struct file_ref {
    uint64_t bytes;
    size_t index;
} file_ref;

static int by_size_desc(const void *x, const void *y)
{
    const file_ref *a = x, *b = y;
    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

int mpi_split_lpt(char *const *paths, const uint64_t *sizes, size_t n, int nranks, int *owner)
{
    file_ref *order = malloc(sizeof *order * (n ? n : 1));
    load *heap = malloc(sizeof *heap * (size_t)nranks);
    if (!order || !heap) {
        free(order);
        free(heap);
        return -1;
    }
    for (int r = 0; r < nranks; r++)
        heap[r] = (load){0, r};
    /* Standard input first, on rank 0, so its (unknown) size counts as 0. */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(paths[i], "-"))
            owner[i] = 0;
        else
            order[m++] = (file_ref){sizes[i], i};
    }
    qsort(order, m, sizeof *order, by_size_desc);
    for (size_t k = 0; k < m; k++) {
        size_t i = order[k].index;
        owner[i] = heap[0].rank;
        heap[0].bytes += sizes[i] ? sizes[i] : 1; /* empty files still spread */
        sift_down(heap, (size_t)nranks, 0);
    }
    free(order);
    free(heap);
    return 0;
}
