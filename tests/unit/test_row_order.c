/* Output order of AGM rows (src/agg/row_order.c) against qsort with the
 * public comparators: the key sort for IPv4 and IPv6, its fallback for an
 * unexpected address family, and the merge of sorted runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agg/row_order.h"
#include "xorshift.h"

static uint64_t rng = 0x2545F4914F6CDD1Dull;

static int by_src(const void *x, const void *y)
{
    return nagm_addr_cmp(&((const nagm_agm_row *)x)->src, &((const nagm_agm_row *)y)->src);
}

/* n rows with distinct sources: IPv4 with probability p4 in 1024, the rest
 * IPv6 (family `other` for one row when other != 0); pkts numbers the row. */
static nagm_agm_row *make_rows(size_t n, unsigned p4, uint8_t other)
{
    nagm_agm_row *r = calloc(n, sizeof *r);
    assert_non_null(r);
    for (size_t i = 0; i < n; i++) {
        uint64_t x = xorshift64(&rng);
        r[i].pkts = i;
        r[i].src.family = (x % 1024) < p4 ? 4 : 6;
        /* The index in the low bytes keeps addresses distinct; the high
         * bytes are random, with few values so that prefixes repeat. */
        uint8_t *b = r[i].src.b;
        b[0] = (uint8_t)(x >> 20) & 3;
        b[1] = (uint8_t)(x >> 28);
        /* An odd multiplier permutes the low 16 bits: unique, and not in
         * the rows' order. */
        uint32_t lo = (uint32_t)(i * 40503u) & 0xffff;
        if (r[i].src.family == 4) {
            b[1] = (uint8_t)(i >> 16);
            b[2] = (uint8_t)(lo >> 8);
            b[3] = (uint8_t)lo;
        } else {
            b[5] = (uint8_t)(x >> 36);
            b[13] = (uint8_t)(i >> 16);
            b[14] = (uint8_t)(lo >> 8);
            b[15] = (uint8_t)lo;
        }
        r[i].window_start_ns = 7;
    }
    if (other && n)
        r[n / 2].src.family = other;
    return r;
}

static void check_sort(size_t n, unsigned p4, uint8_t other)
{
    nagm_agm_row *got = make_rows(n, p4, other);
    nagm_agm_row *want = malloc(sizeof *want * (n ? n : 1));
    assert_non_null(want);
    memcpy(want, got, sizeof *want * n);
    qsort(want, n, sizeof *want, by_src);
    agg_rows_sort_src(got, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(got[i].pkts, want[i].pkts); /* the same row, whole */
    assert_memory_equal(got, want, sizeof *want * n);
    free(got);
    free(want);
}

static void test_sort_families(void **state)
{
    (void)state;
    check_sort(0, 512, 0);
    check_sort(1, 512, 0);
    check_sort(2, 0, 0);
    check_sort(65537, 1024, 0); /* IPv4 only, past one radix digit */
    check_sort(5000, 0, 0);     /* IPv6 only */
    check_sort(50000, 900, 0);  /* mixed, as in the benchmark */
    check_sort(3000, 512, 5);   /* an unexpected family: the qsort path */
}

static void test_merge(void **state)
{
    (void)state;
    enum { PARTS = 5 };
    size_t counts[PARTS] = {0, 1, 700, 3000, 41};
    nagm_agm_row *parts[PARTS];
    const nagm_agm_row *cur[PARTS];
    size_t total = 0;
    for (int i = 0; i < PARTS; i++) {
        parts[i] = make_rows(counts[i], 700, 0);
        for (size_t r = 0; r < counts[i]; r++) {
            parts[i][r].window_start_ns = (int64_t)(xorshift64(&rng) % 3); /* windows interleave */
            parts[i][r].pkts = total + r;
            parts[i][r].src.b[0] = (uint8_t)i; /* distinct across parts */
        }
        qsort(parts[i], counts[i], sizeof *parts[i], nagm_agm_row_cmp);
        cur[i] = parts[i];
        total += counts[i];
    }
    nagm_agm_row *want = malloc(sizeof *want * total), *got = malloc(sizeof *got * total);
    assert_non_null(want);
    assert_non_null(got);
    for (int i = 0, at = 0; i < PARTS; at += (int)counts[i], i++)
        memcpy(want + at, parts[i], sizeof *want * counts[i]);
    qsort(want, total, sizeof *want, nagm_agm_row_cmp);
    agg_rows_merge(got, cur, counts, PARTS);
    assert_memory_equal(got, want, sizeof *want * total);
    for (int i = 0; i < PARTS; i++) {
        assert_int_equal(counts[i], 0);
        free(parts[i]);
    }
    free(want);
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sort_families),
        cmocka_unit_test(test_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
