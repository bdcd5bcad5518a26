/* netagm: the packet record on the wire (Kafka values written by netagm
 * publish, read by netagm stream --kafka-in). docs/stream.md documents it.
 *
 * One record is one decoded packet (nagm_pkt), big-endian, 40 bytes for IPv4
 * and 64 for IPv6:
 *
 *   offset size field
 *    0     1    magic 0x4E ('N')
 *    1     1    version (1)
 *    2     1    flags: bit 0 IPv6 addresses, bit 1 l4_trunc; others 0
 *    3     1    proto
 *    4     1    ttl
 *    5     1    TCP flags
 *    6     2    linktype (LINKTYPE_ value)
 *    8     8    ts_ns (signed, ns since the Unix epoch)
 *   16     4    len (IP length, agm.md)
 *   20     4    caplen
 *   24     4    wirelen
 *   28     2    src_port
 *   30     2    dst_port
 *   32     4|16 src address
 *   36|48  4|16 dst address
 *
 * Compatibility: fields are only ever appended after the addresses within a
 * version, and a reader ignores bytes after the ones it knows; any other
 * change takes a new version number, which a reader of version 1 rejects.
 * The Kafka message key is the source address (4 or 16 raw bytes), so that
 * a source always lands on the same partition.
 */
#ifndef NETAGM_PKTWIRE_H
#define NETAGM_PKTWIRE_H

#include <stddef.h>
#include <stdint.h>

#include "netagm/pkt.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NAGM_PKTWIRE_MAGIC 0x4E
#define NAGM_PKTWIRE_VERSION 1
#define NAGM_PKTWIRE_V4_SIZE 40
#define NAGM_PKTWIRE_V6_SIZE 64
#define NAGM_PKTWIRE_MAX NAGM_PKTWIRE_V6_SIZE

enum nagm_pktwire_err {
    NAGM_PKTWIRE_ESHORT = 1, /* fewer bytes than the record needs */
    NAGM_PKTWIRE_EMAGIC,     /* not a packet record */
    NAGM_PKTWIRE_EVERSION,   /* a version this reader does not know */
    NAGM_PKTWIRE_EFLAGS      /* reserved flag bits set */
};

/* Encode p (src.family 4 or 6) into out. Returns the record size (40 or
 * 64), or 0 when p's address family is neither. Pure; thread-safe. */
size_t nagm_pktwire_encode(const nagm_pkt *p, uint8_t out[NAGM_PKTWIRE_MAX]);

/* Decode a record of len bytes into *p (every field; dst has src's family).
 * Returns 0 or -NAGM_PKTWIRE_E*. Reads only buf[0, len). Pure. */
int nagm_pktwire_decode(const uint8_t *buf, size_t len, nagm_pkt *p);

/* The message key of p: its source address bytes. Returns 4 or 16. */
size_t nagm_pktwire_key(const nagm_pkt *p, uint8_t out[16]);

/* Static text for an error code (negative or positive). */
const char *nagm_pktwire_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif
