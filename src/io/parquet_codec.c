/* Page compression codecs (zstd, snappy, gzip) for the Parquet writer. */
#include "io/parquet_codec.h"

#include <limits.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

struct nagm_pq_comp {
    nagm_pq_codec codec;
    int level;
    ZSTD_CCtx *zctx;
    z_stream gz;
    int gz_ready;
};

nagm_pq_comp *nagm_pq_comp_new(nagm_pq_codec codec, int level)
{
    nagm_pq_comp *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->codec = codec;
    c->level = level;
    if (codec == NAGM_PQ_ZSTD) {
        c->zctx = ZSTD_createCCtx();
        if (!c->zctx) {
            free(c);
            return NULL;
        }
        if (c->level == 0)
            c->level = ZSTD_CLEVEL_DEFAULT;
    } else if (codec == NAGM_PQ_GZIP) {
        /* windowBits 15 + 16: a gzip wrapper, as Parquet's GZIP requires. */
        int lv = level ? level : Z_DEFAULT_COMPRESSION;
        if (deflateInit2(&c->gz, lv, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            free(c);
            return NULL;
        }
        c->gz_ready = 1;
    }
    return c;
}

void nagm_pq_comp_free(nagm_pq_comp *c)
{
    if (!c)
        return;
    if (c->zctx)
        ZSTD_freeCCtx(c->zctx);
    if (c->gz_ready)
        deflateEnd(&c->gz);
    free(c);
}

static int comp_gzip(nagm_pq_comp *c, const void *in, size_t n, nagm_bytes *out)
{
    if (n > UINT_MAX || deflateReset(&c->gz) != Z_OK)
        return -1;
    uLong bound = deflateBound(&c->gz, (uLong)n) + 32;
    if (bound > UINT_MAX || nagm_bytes_reserve(out, bound) < 0)
        return -1;
    c->gz.next_in = (Bytef *)(uintptr_t)in;
    c->gz.avail_in = (uInt)n;
    c->gz.next_out = out->p + out->len;
    c->gz.avail_out = (uInt)bound;
    if (deflate(&c->gz, Z_FINISH) != Z_STREAM_END)
        return -1;
    out->len += bound - c->gz.avail_out;
    return 0;
}

int nagm_pq_compress(nagm_pq_comp *c, const void *in, size_t n, nagm_bytes *out)
{
    switch (c->codec) {
    case NAGM_PQ_UNCOMPRESSED:
        return nagm_bytes_put(out, in, n);
    case NAGM_PQ_ZSTD: {
        size_t bound = ZSTD_compressBound(n);
        if (nagm_bytes_reserve(out, bound) < 0)
            return -1;
        size_t r = ZSTD_compressCCtx(c->zctx, out->p + out->len, bound, in, n, c->level);
        if (ZSTD_isError(r))
            return -1;
        out->len += r;
        return 0;
    }
    case NAGM_PQ_SNAPPY: {
        size_t bound = snappy_max_compressed_length(n);
        if (nagm_bytes_reserve(out, bound) < 0)
            return -1;
        size_t got = bound;
        if (snappy_compress(in, n, (char *)out->p + out->len, &got) != SNAPPY_OK)
            return -1;
        out->len += got;
        return 0;
    }
    case NAGM_PQ_GZIP:
        return comp_gzip(c, in, n, out);
    }
    return -1;
}
