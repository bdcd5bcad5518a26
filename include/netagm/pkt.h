/* netagm: the packet record, the unit every layer after decode works on.
 *
 * A frame is decoded once into a fixed-size POD record (the eight AGM fields of
 * agm.md plus timestamp and capture metadata). Nothing downstream touches raw
 * bytes again: the aggregator, the packet export (extract), shard hand-off and
 * the Kafka wire format all carry this record.
 */
#ifndef NETAGM_PKT_H
#define NETAGM_PKT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An IPv4 or IPv6 address. IPv4 uses b[0..3] (network byte order) and zeros
 * elsewhere. Ordering (nagm_addr_cmp): every IPv4 address sorts before every
 * IPv6 address; within a family, unsigned numeric order (= memcmp of b). */
typedef struct nagm_addr {
    uint8_t family; /* 4 or 6; 0 = unset */
    uint8_t b[16];
} nagm_addr;

/* Longest text form written by nagm_addr_format, including the NUL. */
#define NAGM_ADDR_STRLEN 46

/* One decoded, counted packet. */
typedef struct nagm_pkt {
    int64_t ts_ns;      /* capture timestamp, nanoseconds since the Unix epoch */
    nagm_addr src;      /* source address: the AGM key */
    nagm_addr dst;      /* destination address (same family as src) */
    uint32_t len;       /* IPv4 total length; IPv6 40 + payload length */
    uint32_t caplen;    /* bytes captured of the frame */
    uint32_t wirelen;   /* frame length on the wire */
    uint16_t src_port;  /* see agm.md: L4 ports, ICMP 0 */
    uint16_t dst_port;  /* L4 port, or ICMP type*256+code */
    uint16_t linktype;  /* LINKTYPE_ value of the frame's interface */
    uint8_t proto;      /* IPv4 protocol / IPv6 upper-layer header */
    uint8_t ttl;        /* TTL / hop limit */
    uint8_t flags;      /* TCP flags byte; 0 if not TCP */
    uint8_t l4_trunc;   /* 1 when a field was zeroed because L4 bytes were not captured */
} nagm_pkt;

/* The seven aggregated fields, in output column order. */
enum nagm_field {
    NAGM_F_DST_IP = 0,
    NAGM_F_SRC_PORT,
    NAGM_F_DST_PORT,
    NAGM_F_TTL,
    NAGM_F_PROTO,
    NAGM_F_FLAGS,
    NAGM_F_LEN,
    NAGM_NFIELDS
};

/* Column-name stem of a field ("dst_ip", "src_port", ...). Static string. */
const char *nagm_field_name(int field);

/* Compare two addresses in output order (IPv4 first, then numeric).
 * Returns <0, 0, >0. Thread-safe. */
int nagm_addr_cmp(const nagm_addr *a, const nagm_addr *b);

/* Write the usual text form (dotted quad; RFC 5952 for IPv6) into out, which
 * must hold NAGM_ADDR_STRLEN bytes. Returns the string length. Thread-safe. */
size_t nagm_addr_format(const nagm_addr *a, char *out);

/* Parse a dotted-quad or IPv6 text address. Returns 0, or -1 if invalid. */
int nagm_addr_parse(const char *s, nagm_addr *out);

/* Build an IPv4 address from a host-order 32-bit number. */
nagm_addr nagm_addr_v4(uint32_t host_order);

/* Format a timestamp as ISO 8601 UTC with microseconds,
 * "2020-01-31T12:00:00.123456Z" (truncating toward minus infinity).
 * out must hold NAGM_TS_STRLEN bytes. Returns the string length. */
#define NAGM_TS_STRLEN 40
size_t nagm_ts_format(int64_t ts_ns, char *out);

#ifdef __cplusplus
}
#endif
#endif
