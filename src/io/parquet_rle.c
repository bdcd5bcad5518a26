/* RLE / bit-packing hybrid encoder (parquet-format Encodings.md):
 *
 *   rle-bit-packed-hybrid: <run>*
 *   run := <bit-packed-run> | <rle-run>
 *   bit-packed-run := varint((groups << 1) | 1) <8 * groups values, bw bits
 *                     each, packed LSB first>
 *   rle-run := varint(count << 1) <value in ceil(bw / 8) bytes, little-endian>
 */
#include "io/parquet_rle.h"

/* Bit-packed runs are cut at 63 groups so each header is a single byte, the
 * same limit other writers use; readers accept any length, but a short
 * header costs nothing. */
#define MAX_GROUPS 63

int nagm_pq_bit_width(uint32_t maxv)
{
    int bw = 0;
    while (maxv) {
        bw++;
        maxv >>= 1;
    }
    return bw ? bw : 1;
}

static int put_varint(nagm_bytes *out, uint64_t v)
{
    uint8_t buf[10];
    size_t n = 0;
    while (v >= 0x80) {
        buf[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    buf[n++] = (uint8_t)v;
    return nagm_bytes_put(out, buf, n);
}

static int put_rle(nagm_bytes *out, uint32_t value, size_t count, int bw)
{
    if (put_varint(out, (uint64_t)count << 1) < 0)
        return -1;
    uint8_t b[4];
    int nb = (bw + 7) / 8;
    for (int k = 0; k < nb; k++)
        b[k] = (uint8_t)(value >> (8 * k));
    return nagm_bytes_put(out, b, (size_t)nb);
}

/* groups * 8 values from v[0..have), zeros after have. */
static int put_packed(nagm_bytes *out, const uint32_t *v, size_t have, size_t groups, int bw)
{
    if (put_varint(out, ((uint64_t)groups << 1) | 1) < 0)
        return -1;
    size_t nbytes = groups * (size_t)bw; /* 8 values * bw bits = bw bytes */
    if (nagm_bytes_reserve(out, nbytes) < 0)
        return -1;
    uint8_t *o = out->p + out->len;
    uint64_t acc = 0;
    int bits = 0;
    size_t w = 0;
    for (size_t i = 0; i < groups * 8; i++) {
        uint64_t x = i < have ? v[i] : 0;
        acc |= x << bits;
        bits += bw;
        while (bits >= 8) {
            o[w++] = (uint8_t)acc;
            acc >>= 8;
            bits -= 8;
        }
    }
    out->len += w;
    return 0;
}

/* Length of the run of equal values starting at v[i], looking at most lim. */
static size_t run_len(const uint32_t *v, size_t i, size_t n, size_t lim)
{
    size_t r = 1;
    while (i + r < n && r < lim && v[i + r] == v[i])
        r++;
    return r;
}

int nagm_pq_rle_encode(const uint32_t *v, size_t n, int bw, nagm_bytes *out)
{
    size_t i = 0;
    while (i < n) {
        size_t r = run_len(v, i, n, SIZE_MAX);
        if (r >= 8) {
            if (put_rle(out, v[i], r, bw) < 0)
                return -1;
            i += r;
            continue;
        }
        /* Literal values up to the next run of 8 or the end. */
        size_t j = i;
        while (j < n) {
            size_t rr = run_len(v, j, n, 8);
            if (rr >= 8)
                break;
            j += rr;
        }
        /* Round the literal count up to whole groups: the extra values are
         * borrowed from the run that follows (it keeps at least one) or, at
         * the end, padded with zeros (the page's value count says where the
         * data stops). */
        size_t lit = j - i;
        while (lit > 0) {
            size_t groups = (lit + 7) / 8;
            if (groups > MAX_GROUPS)
                groups = MAX_GROUPS;
            size_t take = groups * 8;
            size_t have = take < n - i ? take : n - i;
            if (put_packed(out, v + i, have, groups, bw) < 0)
                return -1;
            i += have;
            lit = lit > take ? lit - take : 0;
        }
        /* The literal stopped at a run of 8 or more, which may have lent a
         * few values to the last group: the rest of it is still one run. */
        if (i < n) {
            size_t rest = run_len(v, i, n, SIZE_MAX);
            if (put_rle(out, v[i], rest, bw) < 0)
                return -1;
            i += rest;
        }
    }
    return 0;
}
