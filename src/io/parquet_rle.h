/* Parquet's RLE / bit-packing hybrid encoding (parquet-format Encodings.md),
 * used for dictionary indices in RLE_DICTIONARY data pages. */
#ifndef NETAGM_IO_PARQUET_RLE_H
#define NETAGM_IO_PARQUET_RLE_H

#include <stddef.h>
#include <stdint.h>

#include "io/thrift.h"

/* Bits needed to store every value 0..maxv, at least 1. */
int nagm_pq_bit_width(uint32_t maxv);

/* Append v[0..n) encoded as RLE/bit-packed hybrid runs of width bw (1..32),
 * without the 4-byte length prefix (a dictionary data page stores one byte of
 * bit width and then these runs). Runs of 8 or more equal values become RLE
 * runs; the rest is bit-packed in groups of 8, the last group padded with
 * zeros. Every v[i] must fit in bw bits. Returns 0, or -1 on ENOMEM. */
int nagm_pq_rle_encode(const uint32_t *v, size_t n, int bw, nagm_bytes *out);

#endif
