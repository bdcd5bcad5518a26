/* IPv4 header: addresses, TTL, protocol, total length, fragment offset.
 *
 * RFC 791, section 3.1:
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |Version|  IHL  |Type of Service|          Total Length         |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |         Identification        |Flags|      Fragment Offset    |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |  Time to Live |    Protocol   |         Header Checksum       |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                       Source Address                          |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                    Destination Address                        |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                    Options                    |    Padding    |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * agm.md's checks, and only those: version 4, IHL >= 5, IHL*4 bytes captured.
 * The total length is reported as written (it may be 0 in TSO captures or
 * smaller than the header); it never limits the bytes read.
 */
#include <string.h>

#include "decode/dec_int.h"

enum {
    V4_MIN_HDR = 20,
    V4_OFF_LEN = 2,
    V4_OFF_FRAG = 6,
    V4_OFF_TTL = 8,
    V4_OFF_PROTO = 9,
    V4_OFF_SRC = 12,
    V4_OFF_DST = 16,
    V4_FRAG_OFFSET_MASK = 0x1fff,
};

nagm_dec_result dec_ipv4(nagm_cur *c, nagm_pkt *out)
{
    nagm_span h; /* the fixed 20 bytes */
    if (!nagm_cur_span(c, V4_MIN_HDR, &h))
        return NAGM_DEC_MALFORMED;
    uint8_t vihl = nagm_span_u8(h, 0);
    size_t hlen = (size_t)(vihl & 0x0f) * 4;
    if ((vihl >> 4) != 4 || hlen < V4_MIN_HDR || !nagm_cur_has(c, hlen))
        return NAGM_DEC_MALFORMED;

    /* Every field first, then the stores. */
    uint16_t len = nagm_span_be16(h, V4_OFF_LEN);
    uint16_t frag = nagm_span_be16(h, V4_OFF_FRAG);
    uint8_t ttl = nagm_span_u8(h, V4_OFF_TTL);
    uint8_t proto = nagm_span_u8(h, V4_OFF_PROTO);
    uint8_t src[4], dst[4];
    nagm_span_copy(h, V4_OFF_SRC, src, 4);
    nagm_span_copy(h, V4_OFF_DST, dst, 4);
    nagm_cur_skip(c, hlen);

    out->len = len;
    out->ttl = ttl;
    out->proto = proto;
    /* IPv4 lives in b[0..3]; the rest must be zero because later layers
     * hash and compare all 16 bytes. */
    memset(&out->src, 0, sizeof out->src);
    memset(&out->dst, 0, sizeof out->dst);
    out->src.family = 4;
    out->dst.family = 4;
    memcpy(out->src.b, src, 4);
    memcpy(out->dst.b, dst, 4);

    if (frag & V4_FRAG_OFFSET_MASK)
        dec_l4_none(out);
    else
        dec_l4(proto, c, out);
    return NAGM_DEC_OK;
}
