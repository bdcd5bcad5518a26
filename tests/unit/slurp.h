/* Test helper: a whole file read into memory. */
#ifndef NETAGM_TESTS_SLURP_H
#define NETAGM_TESTS_SLURP_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The bytes of path in a malloc'd block (caller frees), their count in *len;
 * NULL when the file cannot be opened. Aborts the test on ENOMEM. */
static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0, r;
    uint8_t *b = malloc(cap);
    assert_non_null(b);
    while ((r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            cap *= 2;
            b = realloc(b, cap);
            assert_non_null(b);
        }
    }
    fclose(f);
    *len = n;
    return b;
}

#endif
