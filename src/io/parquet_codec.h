/* Page compression for the Parquet writer: one reusable context per codec.
 * Formats follow parquet-format Compression.md: SNAPPY is the raw snappy
 * block format, GZIP a gzip (RFC 1952) member, ZSTD a zstd frame. */
#ifndef NETAGM_IO_PARQUET_CODEC_H
#define NETAGM_IO_PARQUET_CODEC_H

#include <stddef.h>

#include "io/thrift.h"
#include "netagm/parquet.h"

typedef struct nagm_pq_comp nagm_pq_comp;

/* New compressor. Returns NULL on ENOMEM. */
nagm_pq_comp *nagm_pq_comp_new(nagm_pq_codec codec, int level);
void nagm_pq_comp_free(nagm_pq_comp *c);

/* Compress in[0..n) and append the result to out. Returns 0, or -1 on
 * failure (out may have grown but its length is unchanged). */
int nagm_pq_compress(nagm_pq_comp *c, const void *in, size_t n, nagm_bytes *out);

#endif
