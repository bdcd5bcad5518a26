/* L4 fields of the AGM record: ports, TCP flags, and the l4_trunc mark.
 *
 * Decisions where agm.md is silent:
 *  - The L4 bytes available are the captured bytes after the IP header (and
 *    IPv6 extension headers). The IP total/payload length does not cut them,
 *    so a packet whose length field is smaller than its headers (0 in TSO
 *    captures, or simply wrong) still gets its ports and flags.
 *  - ICMP and ICMPv6 follow the same "ports need 4 bytes of L4 header" rule
 *    as the port-carrying protocols: with fewer than 4 captured L4 bytes,
 *    dst_port is 0 and the packet is l4_truncated, even if type and code
 *    (bytes 0 and 1) were captured.
 *  - The protocol numbers are used as agm.md lists them, whatever the IP
 *    version: ICMP (1) inside IPv6 and ICMPv6 (58) inside IPv4 also get the
 *    type*256+code convention.
 *  - l4_trunc is set only for protocols that have L4 fields (the five
 *    port-carrying ones, ICMP, ICMPv6); for TCP it is set when either the
 *    ports (4 bytes) or the flags (14 bytes) were not captured.
 *
 * TCP (RFC 9293, section 3.1):
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |          Source Port          |       Destination Port        |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                        Sequence Number                        |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                    Acknowledgment Number                      |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |  Data |       |C|E|U|A|P|R|S|F|                               |
 *    | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
 *    |       |       |R|E|G|K|H|T|N|N|                               |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |           Checksum            |         Urgent Pointer        |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 *    The flags byte is byte 13, so the flags need 14 captured bytes.
 *
 * UDP (RFC 768), UDP-Lite (RFC 3828), SCTP common header (RFC 9260),
 * DCCP generic header (RFC 4340): the first two 16-bit words are the ports.
 *
 *     0      7 8     15 16    23 24    31
 *    +--------+--------+--------+--------+
 *    |     Source      |   Destination   |
 *    |      Port       |      Port       |
 *    +--------+--------+--------+--------+
 *    |                 |                 |
 *    |     Length      |    Checksum     |   (UDP; the others differ here)
 *    +--------+--------+--------+--------+
 *
 * ICMP (RFC 792) and ICMPv6 (RFC 4443):
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |     Type      |     Code      |          Checksum             |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 *    NetFlow convention: src_port = 0, dst_port = type * 256 + code.
 */
#include "decode/dec_int.h"

void dec_l4(uint8_t proto, const nagm_cur *l4, nagm_pkt *out)
{
    nagm_span s;
    uint16_t sp = 0, dp = 0;
    uint8_t flags = 0, trunc = 0;

    switch (proto) {
    case DEC_IPPROTO_TCP:
        if (nagm_cur_span(l4, DEC_L4_FLAG_BYTES, &s)) {
            sp = nagm_span_be16(s, 0);
            dp = nagm_span_be16(s, 2);
            flags = nagm_span_u8(s, DEC_L4_TCP_FLAGS_OFF);
        } else if (nagm_cur_span(l4, DEC_L4_PORT_BYTES, &s)) {
            sp = nagm_span_be16(s, 0);
            dp = nagm_span_be16(s, 2);
            trunc = 1;
        } else {
            trunc = 1;
        }
        break;
    case DEC_IPPROTO_UDP:
    case DEC_IPPROTO_SCTP:
    case DEC_IPPROTO_UDPLITE:
    case DEC_IPPROTO_DCCP:
        if (nagm_cur_span(l4, DEC_L4_PORT_BYTES, &s)) {
            sp = nagm_span_be16(s, 0);
            dp = nagm_span_be16(s, 2);
        } else {
            trunc = 1;
        }
        break;
    case DEC_IPPROTO_ICMP:
    case DEC_IPPROTO_ICMPV6:
        /* type in the high byte, code in the low byte */
        if (nagm_cur_span(l4, DEC_L4_PORT_BYTES, &s))
            dp = nagm_span_be16(s, 0);
        else
            trunc = 1;
        break;
    default:
        break;
    }
    out->src_port = sp;
    out->dst_port = dp;
    out->flags = flags;
    out->l4_trunc = trunc;
}
