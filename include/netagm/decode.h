/* netagm: frame decoder (link layer -> outermost IP header -> L4 fields).
 *
 * Follows docs/agm.md. Every byte is read through a bounded cursor; the decoder
 * never reads past data + caplen, whatever the bytes are.
 */
#ifndef NETAGM_DECODE_H
#define NETAGM_DECODE_H

#include <stdint.h>

#include "netagm/pkt.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Result of decoding one frame. NAGM_DEC_OK means the packet counts. */
typedef enum nagm_dec_result {
    NAGM_DEC_OK = 0,
    NAGM_DEC_LINK_UNSUPPORTED, /* link type not in agm.md's list (802.11, FDDI, ...) */
    NAGM_DEC_NOT_IP,           /* supported link, but the payload is not IP (ARP, LLDP, STP, ...) */
    NAGM_DEC_MALFORMED,        /* link header truncated, or IP header fails agm.md's checks */
    NAGM_DEC_NRESULTS
} nagm_dec_result;

/* Stable lower-case name of a result ("ok", "link_unsupported", "not_ip",
 * "malformed"), used in statistics. Static string. */
const char *nagm_dec_result_name(nagm_dec_result r);

/* Decode one frame.
 *   linktype: the LINKTYPE_ value of the frame's interface (as stored in the
 *             capture file; libpcap's DLT values are mapped by the capture layer).
 *   data/caplen: the captured bytes (data may be NULL when caplen is 0).
 * On NAGM_DEC_OK every field of *out except ts_ns, caplen, wirelen is filled
 * (linktype too); on any other result *out is unspecified.
 * Pure function: thread-safe, allocates nothing. */
nagm_dec_result nagm_decode(uint32_t linktype, const uint8_t *data, uint32_t caplen,
                            nagm_pkt *out);

/* Human name of a LINKTYPE_ value ("EN10MB", "LINUX_SLL", "IEEE802_11_RADIO",
 * or "LINKTYPE_<n>" written into a static per-value fallback) for statistics.
 * Returns a string that stays valid for the life of the process. */
const char *nagm_linktype_name(uint32_t linktype);

/* 1 if linktype is one the decoder understands, else 0. */
int nagm_linktype_supported(uint32_t linktype);

#ifdef __cplusplus
}
#endif
#endif
