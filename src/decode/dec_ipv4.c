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
#include "decode/dec_int.h"

nagm_dec_result dec_ipv4(nagm_cur *c, nagm_pkt *out)
{
    nagm_span h; /* the fixed 20 bytes */
    if (!nagm_cur_span(c, DEC_V4_MIN_HDR, &h))
        return NAGM_DEC_MALFORMED;
    uint8_t vihl = nagm_span_u8(h, 0);
    size_t hlen = (size_t)(vihl & 0x0f) * 4;
    if ((vihl >> 4) != 4 || hlen < DEC_V4_MIN_HDR || !nagm_cur_has(c, hlen))
        return NAGM_DEC_MALFORMED;

    /* Every field first, then the stores. */
    uint16_t len = nagm_span_be16(h, DEC_V4_OFF_LEN);
    uint16_t frag = nagm_span_be16(h, DEC_V4_OFF_FRAG);
    uint8_t ttl = nagm_span_u8(h, DEC_V4_OFF_TTL);
    uint8_t proto = nagm_span_u8(h, DEC_V4_OFF_PROTO);
    uint8_t src[4], dst[4];
    nagm_span_copy(h, DEC_V4_OFF_SRC, src, 4);
    nagm_span_copy(h, DEC_V4_OFF_DST, dst, 4);
    nagm_cur_skip(c, hlen);

    dec_put_ipv4(out, len, ttl, proto, src, dst);

    if (frag & DEC_V4_FRAG_OFFSET_MASK)
        dec_l4_none(out);
    else
        dec_l4(proto, c, out);
    return NAGM_DEC_OK;
}
