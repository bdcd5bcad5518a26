/* Private: AGM partial state as bytes, so that it can move between processes
 * (the MPI shuffle) and be merged exactly on arrival.
 *
 * A serialized record carries the whole histogram of each field, not just
 * the finished distinct count and mode, because two partial states of the
 * same (window, source) only merge exactly as histograms (agm.md; a mode
 * cannot be merged from two modes).
 *
 * Wire format (all integers little-endian; "varint" is unsigned LEB128):
 *
 *   segment  := magic u32 = "NAGS" | version u8 = 1 | window_ns i64 | block*
 *   block    := tag u8 = 1 | window_start i64 | nrecords u32 | record*
 *   record   := family u8 (4|6) | src (4|16 bytes) | pkts varint | field x 7
 *   field    := nvalues varint | (value, count varint) x nvalues
 *   value    := dst_ip: the address (4 bytes of an IPv4 source, 16 of IPv6)
 *               any other field: varint
 *
 * Fields come in output order (dst_ip, src_port, dst_port, ttl, proto,
 * flags, len); the values of a field in no particular order, since the merge
 * result does not depend on it. Each field's counts add up to pkts, which the
 * reader checks. The format is an internal exchange format between processes
 * of one build; it is not meant for files.
 */
#ifndef NETAGM_AGG_SERIAL_H
#define NETAGM_AGG_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#include "netagm/agg.h"

/* A growable byte buffer. Zero-initialise; release with agg_buf_free. */
typedef struct agg_buf {
    uint8_t *p;
    size_t len, cap;
} agg_buf;

void agg_buf_free(agg_buf *b);

/* Which of nparts (>= 1) owns the record of (window_start, src). A pure
 * function of its arguments, the same on every machine, so every process
 * sends a record to the same owner. */
int agg_ser_owner(int64_t window_start, const nagm_addr *src, int nparts);

typedef struct agg_ser agg_ser;

/* A serializer over every record of a, routing each to the buffer of its
 * owner among nparts. With consume set, each window of a is freed as soon as
 * all its records are written (a must not be used otherwise meanwhile; at
 * the end it holds no windows); without it, a is only read.
 * Returns NULL on ENOMEM. */
agg_ser *agg_ser_new(nagm_agg *a, int nparts, int consume);

/* Refill bufs[0..nparts) with the next records: every buffer is first
 * emptied, then records are appended until the next one would take its
 * owner's buffer past limit bytes (a record is always written into an empty
 * buffer, whatever its size, so every call makes progress). A buffer that
 * receives no record stays empty (len 0); a non-empty one is one segment.
 * Returns 1 when records remain, 0 when all are written, -1 on ENOMEM. */
int agg_ser_fill(agg_ser *s, agg_buf *bufs, size_t limit);

/* Records written so far. */
uint64_t agg_ser_records(const agg_ser *s);

void agg_ser_free(agg_ser *s);

/* Merge one segment (p, len; len 0 is an empty segment) into a: every count
 * is added as nagm_agg_merge would add it. Reads only inside [p, p + len).
 * Returns 0, -1 on ENOMEM, or -2 when the bytes are not a valid segment for a
 * (damaged, or another window length), with a reason in err (errlen bytes).
 * After an error a may hold part of the segment. */
int agg_ser_merge(nagm_agg *a, const uint8_t *p, size_t len, char *err, size_t errlen);

#endif
