/* Fast text formatting into a caller's buffer (no domain knowledge). The row
 * writers use these instead of printf, which costs about a microsecond a row. */
#ifndef NETAGM_UTIL_FMT_H
#define NETAGM_UTIL_FMT_H

#include <stdint.h>
#include <string.h>

/* The two decimal digits of n (0..99) at offset 2n. */
static const char nagm_dig2[201] =
    "0001020304050607080910111213141516171819"
    "2021222324252627282930313233343536373839"
    "4041424344454647484950515253545556575859"
    "6061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* Decimal digits of v (0..999) at p; returns the end. */
static inline char *nagm_put_u10(char *p, unsigned v)
{
    if (v >= 100) {
        *p++ = (char)('0' + v / 100);
        v %= 100;
        memcpy(p, &nagm_dig2[2 * v], 2);
        return p + 2;
    }
    if (v >= 10) {
        memcpy(p, &nagm_dig2[2 * v], 2);
        return p + 2;
    }
    *p = (char)('0' + v);
    return p + 1;
}

/* Decimal digits of v at p (at most 20 bytes); returns the end. Two digits a
 * step from the end, after counting them. */
static inline char *nagm_put_u64(char *p, uint64_t v)
{
    if (v < 1000)
        return nagm_put_u10(p, (unsigned)v);
    int n = 4;
    for (uint64_t t = v / 10000; t; t /= 10)
        n++;
    char *end = p + n, *q = end;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        q -= 2;
        memcpy(q, &nagm_dig2[2 * r], 2);
    }
    if (v >= 10)
        memcpy(q - 2, &nagm_dig2[2 * v], 2);
    else
        q[-1] = (char)('0' + v);
    return end;
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
