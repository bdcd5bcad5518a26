/* Output order of AGM rows (see row_order.h).
 *
 * A window of 200,000 sources is 40 MB of rows; qsort on the rows themselves
 * copies each of them about log2(n) times. Here only a key and an index per
 * row are sorted (IPv4 by a two-pass radix sort on the address, IPv6 by
 * qsort on the 128-bit address; IPv4 sorts first, as in nagm_addr_cmp), and
 * the rows then follow the permutation's cycles, one move each.
 */
#include "agg/row_order.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct v6key {
    uint64_t hi, lo;
    uint32_t idx;
} v6key;

static uint64_t be64(const uint8_t *b)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | b[i];
    return v;
}

static int v6key_cmp(const void *x, const void *y)
{
    const v6key *a = x, *b = y;
    if (a->hi != b->hi)
        return a->hi < b->hi ? -1 : 1;
    if (a->lo != b->lo)
        return a->lo < b->lo ? -1 : 1;
    return 0;
}

static int row_src_cmp(const void *x, const void *y)
{
    const nagm_agm_row *a = x, *b = y;
    return nagm_addr_cmp(&a->src, &b->src);
}

/* Stable LSD radix sort of keys (address << 32 | index) on the upper 32 bits,
 * 16 bits a pass; tmp holds n keys. */
static void radix_v4(uint64_t *keys, uint64_t *tmp, size_t n, uint32_t *count)
{
    for (int shift = 32; shift < 64; shift += 16) {
        memset(count, 0, sizeof *count * 65536);
        for (size_t i = 0; i < n; i++)
            count[(keys[i] >> shift) & 0xffff]++;
        uint32_t sum = 0;
        for (size_t b = 0; b < 65536; b++) {
            uint32_t c = count[b];
            count[b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            tmp[count[(keys[i] >> shift) & 0xffff]++] = keys[i];
        memcpy(keys, tmp, sizeof *keys * n);
    }
}

/* Move rows so that new position i holds old row from[i]; from[] is used up
 * (entries set to their own position as rows settle). */
static void permute(nagm_agm_row *rows, uint32_t *from, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (from[i] == i)
            continue;
        nagm_agm_row hold = rows[i];
        size_t j = i;
        while (from[j] != i) {
            size_t k = from[j];
            rows[j] = rows[k];
            from[j] = (uint32_t)j;
            j = k;
        }
        rows[j] = hold;
        from[j] = (uint32_t)j;
    }
}

void agg_rows_sort_src(nagm_agm_row *rows, size_t n)
{
    if (n < 2)
        return;
    size_t n4 = 0, n6 = 0;
    for (size_t i = 0; i < n; i++) {
        n4 += rows[i].src.family == 4;
        n6 += rows[i].src.family == 6;
    }
    uint64_t *k4 = n4 ? malloc(sizeof *k4 * n4 * 2) : NULL;
    uint32_t *count = n4 ? malloc(sizeof *count * 65536) : NULL;
    v6key *k6 = n > n4 ? malloc(sizeof *k6 * (n - n4)) : NULL;
    uint32_t *from = malloc(sizeof *from * n);
    if (n > UINT32_MAX || n4 + n6 != n || (n4 && (!k4 || !count)) || (n > n4 && !k6) || !from) {
        free(k4);
        free(count);
        free(k6);
        free(from);
        qsort(rows, n, sizeof *rows, row_src_cmp);
        return;
    }
    size_t a = 0, b = 0;
    for (size_t i = 0; i < n; i++) {
        const nagm_addr *s = &rows[i].src;
        if (s->family == 4) {
            uint32_t v = (uint32_t)s->b[0] << 24 | (uint32_t)s->b[1] << 16 |
                         (uint32_t)s->b[2] << 8 | s->b[3];
            k4[a++] = (uint64_t)v << 32 | i;
        } else {
            k6[b++] = (v6key){be64(s->b), be64(s->b + 8), (uint32_t)i};
        }
    }
    if (n4)
        radix_v4(k4, k4 + n4, n4, count);
    if (b)
        qsort(k6, b, sizeof *k6, v6key_cmp);
    for (size_t i = 0; i < n4; i++)
        from[i] = (uint32_t)k4[i];
    for (size_t i = 0; i < b; i++)
        from[n4 + i] = k6[i].idx;
    free(k4);
    free(count);
    free(k6);
    permute(rows, from, n);
    free(from);
}

void agg_rows_merge(nagm_agm_row *out, const nagm_agm_row **parts, size_t *counts, int nparts)
{
    for (;;) {
        int best = -1;
        for (int i = 0; i < nparts; i++)
            if (counts[i] && (best < 0 || nagm_agm_row_cmp(parts[i], parts[best]) < 0))
                best = i;
        if (best < 0)
            return;
        *out++ = *parts[best]++;
        counts[best]--;
    }
}
