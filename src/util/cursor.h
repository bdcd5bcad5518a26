/* Bounded cursor over untrusted bytes (after tcpdump's GET_BE_U_2 family).
 *
 * Every getter checks the captured end. Past the end it returns 0 and sets a
 * sticky error flag, so a decoder reads a whole header and checks cur.err once.
 * No raw pointer arithmetic on packet bytes happens outside this file.
 */
#ifndef NETAGM_UTIL_CURSOR_H
#define NETAGM_UTIL_CURSOR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct nagm_cur {
    const uint8_t *p;   /* next byte */
    const uint8_t *end; /* one past the last captured byte */
    int err;            /* sticky: set once a read went past end */
} nagm_cur;

static inline nagm_cur nagm_cur_make(const uint8_t *p, size_t len)
{
    nagm_cur c = {p, p ? p + len : p, 0};
    return c;
}

/* Bytes left before end (0 once in error). */
static inline size_t nagm_cur_left(const nagm_cur *c)
{
    return c->err ? 0 : (size_t)(c->end - c->p);
}

/* 1 if at least n bytes remain. Does not set err. */
static inline int nagm_cur_has(const nagm_cur *c, size_t n)
{
    return !c->err && (size_t)(c->end - c->p) >= n;
}

/* Advance n bytes; past the end sets err and leaves the cursor at end. */
static inline void nagm_cur_skip(nagm_cur *c, size_t n)
{
    if (!nagm_cur_has(c, n)) {
        c->err = 1;
        c->p = c->end;
        return;
    }
    c->p += n;
}

/* Peek at byte off from the cursor without moving (0 + err past the end). */
static inline uint8_t nagm_cur_peek_u8(nagm_cur *c, size_t off)
{
    if (!nagm_cur_has(c, off + 1)) {
        c->err = 1;
        return 0;
    }
    return c->p[off];
}

static inline uint16_t nagm_cur_peek_be16(nagm_cur *c, size_t off)
{
    if (!nagm_cur_has(c, off + 2)) {
        c->err = 1;
        return 0;
    }
    return (uint16_t)((c->p[off] << 8) | c->p[off + 1]);
}

static inline uint8_t nagm_cur_u8(nagm_cur *c)
{
    uint8_t v = nagm_cur_peek_u8(c, 0);
    nagm_cur_skip(c, 1);
    return v;
}

static inline uint16_t nagm_cur_be16(nagm_cur *c)
{
    uint16_t v = nagm_cur_peek_be16(c, 0);
    nagm_cur_skip(c, 2);
    return v;
}

static inline uint16_t nagm_cur_le16(nagm_cur *c)
{
    if (!nagm_cur_has(c, 2)) {
        nagm_cur_skip(c, 2);
        return 0;
    }
    uint16_t v = (uint16_t)(c->p[0] | (c->p[1] << 8));
    c->p += 2;
    return v;
}

static inline uint32_t nagm_cur_be32(nagm_cur *c)
{
    if (!nagm_cur_has(c, 4)) {
        nagm_cur_skip(c, 4);
        return 0;
    }
    uint32_t v = ((uint32_t)c->p[0] << 24) | ((uint32_t)c->p[1] << 16) |
                 ((uint32_t)c->p[2] << 8) | c->p[3];
    c->p += 4;
    return v;
}

static inline uint32_t nagm_cur_le32(nagm_cur *c)
{
    if (!nagm_cur_has(c, 4)) {
        nagm_cur_skip(c, 4);
        return 0;
    }
    uint32_t v = ((uint32_t)c->p[3] << 24) | ((uint32_t)c->p[2] << 16) |
                 ((uint32_t)c->p[1] << 8) | c->p[0];
    c->p += 4;
    return v;
}

static inline uint64_t nagm_cur_le64(nagm_cur *c)
{
    uint64_t lo = nagm_cur_le32(c);
    uint64_t hi = nagm_cur_le32(c);
    return lo | (hi << 32);
}

/* Copy n bytes out (zeros + err past the end). */
static inline void nagm_cur_copy(nagm_cur *c, void *dst, size_t n)
{
    if (!nagm_cur_has(c, n)) {
        memset(dst, 0, n);
        nagm_cur_skip(c, n);
        return;
    }
    memcpy(dst, c->p, n);
    c->p += n;
}

/* A span: n bytes at p, every one of them captured (made by nagm_cur_span).
 * Decoders take a header's fixed part as one span after one bounds check and
 * read its fields at constant offsets: with n a constant too, the compiler
 * folds the getters' checks away. A span is passed by value, so no store
 * into a packet record can alias it. */
typedef struct nagm_span {
    const uint8_t *p;
    size_t n;
} nagm_span;

/* The next n bytes of c as *s, without moving c. Returns 1, or 0 (s
 * untouched) when fewer than n bytes remain or c is in error. */
static inline int nagm_cur_span(const nagm_cur *c, size_t n, nagm_span *s)
{
    if (!nagm_cur_has(c, n))
        return 0;
    s->p = c->p;
    s->n = n;
    return 1;
}

/* Byte off of s; 0 when off is outside it (a decoder bug, never input). */
static inline uint8_t nagm_span_u8(nagm_span s, size_t off)
{
    return off < s.n ? s.p[off] : 0;
}

/* Big-endian 16 bits at off of s; 0 when outside it. */
static inline uint16_t nagm_span_be16(nagm_span s, size_t off)
{
    return off + 2 <= s.n ? (uint16_t)((s.p[off] << 8) | s.p[off + 1]) : 0;
}

/* Copy k bytes at off of s to dst (zeros when outside it). */
static inline void nagm_span_copy(nagm_span s, size_t off, void *dst, size_t k)
{
    if (off + k <= s.n)
        memcpy(dst, s.p + off, k);
    else
        memset(dst, 0, k);
}

/* A sub-cursor over the next n bytes (clamped to what remains; err set on
 * the sub-cursor's reads past it). Does not move c. */
static inline nagm_cur nagm_cur_sub(const nagm_cur *c, size_t n)
{
    size_t left = nagm_cur_left(c);
    return nagm_cur_make(c->err ? c->end : c->p, n < left ? n : left);
}

#endif
