/* Fast text formatting into a caller's buffer (no domain knowledge). The row
 * writers use these instead of printf, which costs about a microsecond a row. */
#ifndef NETAGM_UTIL_FMT_H
#define NETAGM_UTIL_FMT_H

#include <stdint.h>
#include <string.h>

/* Decimal digits of v at p (at most 20 bytes); returns the end. */
static inline char *nagm_put_u64(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* n bytes of s at p; returns the end. */
static inline char *nagm_put_str(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

/* A string literal at p; returns the end. */
#define NAGM_PUT_LIT(p, lit) nagm_put_str((p), (lit), sizeof(lit) - 1)

#endif
