/* Buffered, optionally decompressing byte stream (see cap_stream.h). */
#include "capture/cap_stream.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define CS_IN_BUF (256u * 1024)

static const uint8_t GZIP_MAGIC[2] = {0x1f, 0x8b};
static const uint8_t ZSTD_MAGIC[4] = {0x28, 0xb5, 0x2f, 0xfd};

const char *cs_codec_name(cs_codec c)
{
    switch (c) {
    case CS_GZIP:
        return "gzip";
    case CS_ZSTD:
        return "zstd";
    default:
        return "";
    }
}

static int cs_fail(cap_stream *s, int err, const char *fmt, ...)
{
    if (!s->err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->msg, sizeof s->msg, fmt, ap);
        va_end(ap);
        s->err = err;
    }
    s->eof = 1;
    return -1;
}

/* Read up to n raw bytes from the source. Returns the count, 0 at the end of
 * the source (src_eof set), -1 on a read error. */
static long raw_read(cap_stream *s, uint8_t *dst, size_t n)
{
    if (s->src_eof || n == 0)
        return 0;
    if (s->chunk && n > s->chunk)
        n = s->chunk;
    if (s->mem) {
        size_t left = s->mem_len - s->mem_pos;
        if (n > left)
            n = left;
        if (n == 0) {
            s->src_eof = 1;
            return 0;
        }
        memcpy(dst, s->mem + s->mem_pos, n);
        s->mem_pos += n;
        s->raw_bytes += n;
        return (long)n;
    }
    for (;;) {
        ssize_t r = read(s->fd, dst, n);
        if (r > 0) {
            s->raw_bytes += (uint64_t)r;
            return (long)r;
        }
        if (r == 0) {
            s->src_eof = 1;
            return 0;
        }
        if (errno != EINTR)
            return cs_fail(s, CS_EREAD, "read error: %s", strerror(errno));
    }
}

/* Move the unread compressed bytes to the front of s->in and read more after
 * them. Returns bytes read, 0 at the end of the source, -1 on error. */
static long in_more(cap_stream *s)
{
    size_t left = s->in_len - s->in_pos;
    if (s->in_pos > 0) {
        memmove(s->in, s->in + s->in_pos, left);
        s->in_pos = 0;
        s->in_len = left;
    }
    long r = raw_read(s, s->in + s->in_len, s->in_cap - s->in_len);
    if (r > 0)
        s->in_len += (size_t)r;
    return r;
}

static long fill_plain(cap_stream *s)
{
    long r = raw_read(s, s->buf + s->len, s->cap - s->len);
    if (r > 0)
        s->len += (size_t)r;
    else if (r == 0)
        s->eof = 1;
    return r;
}

static long fill_gzip(cap_stream *s)
{
    z_stream *z = s->codec_state;
    for (;;) {
        if (s->in_pos == s->in_len && !s->src_eof && in_more(s) < 0)
            return -1;
        size_t left = s->in_len - s->in_pos;
        if (s->codec_done) {
            /* Between members: another member may follow (concatenated
             * gzip files are one stream). Anything else after a complete
             * member is ignored, as gzip(1) does with trailing zeros. */
            if (left < 2 && !s->src_eof) {
                if (in_more(s) < 0)
                    return -1;
                continue;
            }
            if (left < 2 || memcmp(s->in + s->in_pos, GZIP_MAGIC, 2) != 0) {
                s->eof = 1;
                return 0;
            }
            if (inflateReset(z) != Z_OK)
                return cs_fail(s, CS_ECODEC, "gzip: cannot reset the decoder");
            s->codec_done = 0;
        }
        if (left == 0) {
            /* The source ended inside a member. */
            s->incomplete = 1;
            s->eof = 1;
            return 0;
        }
        z->next_in = s->in + s->in_pos;
        z->avail_in = (uInt)(left > UINT32_MAX ? UINT32_MAX : left);
        size_t room = s->cap - s->len;
        z->next_out = s->buf + s->len;
        z->avail_out = (uInt)(room > UINT32_MAX ? UINT32_MAX : room);
        uInt out_before = z->avail_out;
        uInt in_before = z->avail_in;
        int ret = inflate(z, Z_NO_FLUSH);
        s->in_pos += in_before - z->avail_in;
        size_t produced = out_before - z->avail_out;
        s->len += produced;
        if (ret == Z_STREAM_END)
            s->codec_done = 1;
        else if (ret != Z_OK && ret != Z_BUF_ERROR)
            return cs_fail(s, CS_ECODEC, "gzip data is corrupt: %s",
                           z->msg ? z->msg : zError(ret));
        if (produced > 0)
            return (long)produced;
        if (ret == Z_BUF_ERROR && in_before == z->avail_in)
            return cs_fail(s, CS_ECODEC, "gzip: decoder made no progress");
    }
}

static long fill_zstd(cap_stream *s)
{
    ZSTD_DStream *d = s->codec_state;
    for (;;) {
        if (s->in_pos == s->in_len && !s->src_eof && in_more(s) < 0)
            return -1;
        ZSTD_inBuffer ib = {s->in, s->in_len, s->in_pos};
        ZSTD_outBuffer ob = {s->buf + s->len, s->cap - s->len, 0};
        int drained = s->in_pos == s->in_len && s->src_eof;
        if (drained && s->codec_done) {
            s->eof = 1;
            return 0;
        }
        size_t r = ZSTD_decompressStream(d, &ob, &ib);
        if (ZSTD_isError(r))
            return cs_fail(s, CS_ECODEC, "zstd data is corrupt: %s", ZSTD_getErrorName(r));
        s->in_pos = ib.pos;
        s->len += ob.pos;
        s->codec_done = r == 0;
        if (ob.pos > 0)
            return (long)ob.pos;
        if (drained) {
            /* Nothing left to flush; a nonzero hint means the last frame
             * was cut short. */
            if (r != 0)
                s->incomplete = 1;
            s->eof = 1;
            return 0;
        }
    }
}

/* Append decompressed bytes to buf (requires len < cap). Returns bytes
 * added, 0 at the end of the data, -1 on error. */
static long fill(cap_stream *s)
{
    if (s->eof || s->err)
        return s->err ? -1 : 0;
    switch (s->codec) {
    case CS_GZIP:
        return fill_gzip(s);
    case CS_ZSTD:
        return fill_zstd(s);
    default:
        return fill_plain(s);
    }
}

const uint8_t *cs_ensure(cap_stream *s, size_t n, size_t *avail)
{
    while (s->len - s->pos < n && !s->eof && !s->err) {
        if (s->len == s->cap) {
            if (s->pos > 0) {
                memmove(s->buf, s->buf + s->pos, s->len - s->pos);
                s->base += s->pos;
                s->len -= s->pos;
                s->pos = 0;
            } else {
                /* Full of one request's bytes: grow, but only because the
                 * data is really there. */
                if (s->cap >= s->max_cap) {
                    cs_fail(s, CS_ENOMEM, "request of %zu bytes exceeds the buffer limit", n);
                    break;
                }
                size_t ncap = s->cap * 2;
                if (ncap > s->max_cap)
                    ncap = s->max_cap;
                uint8_t *nb = realloc(s->buf, ncap);
                if (!nb) {
                    cs_fail(s, CS_ENOMEM, "out of memory (%zu bytes)", ncap);
                    break;
                }
                s->buf = nb;
                s->cap = ncap;
            }
        }
        if (fill(s) < 0)
            break;
    }
    size_t have = s->len - s->pos;
    *avail = have < n ? have : n;
    return s->buf + s->pos;
}

/* Copy out up to n bytes; with some set, return as soon as at least one
 * byte was copied and nothing more is buffered (never wait for more). */
static size_t read_bytes(cap_stream *s, void *dst, size_t n, int some)
{
    uint8_t *out = dst;
    size_t got = 0;
    while (got < n) {
        if (s->pos == s->len) {
            if (s->eof || s->err || (some && got > 0))
                break;
            s->base += s->pos;
            s->pos = s->len = 0;
            if (fill(s) < 0)
                break;
            continue;
        }
        size_t k = s->len - s->pos;
        if (k > n - got)
            k = n - got;
        memcpy(out + got, s->buf + s->pos, k);
        s->pos += k;
        got += k;
    }
    return got;
}

size_t cs_read(cap_stream *s, void *dst, size_t n) { return read_bytes(s, dst, n, 0); }
size_t cs_read_some(cap_stream *s, void *dst, size_t n) { return read_bytes(s, dst, n, 1); }

static int codec_start(cap_stream *s, cs_codec codec)
{
    size_t in_cap = s->cap / 4 > CS_IN_BUF ? CS_IN_BUF : s->cap / 4;
    if (in_cap < 64)
        in_cap = 64;
    if (in_cap < s->len)
        in_cap = s->len;
    s->in = malloc(in_cap);
    if (!s->in)
        return cs_fail(s, CS_ENOMEM, "out of memory");
    s->in_cap = in_cap;
    memcpy(s->in, s->buf, s->len);
    s->in_len = s->len;
    s->in_pos = 0;
    s->len = 0;
    s->codec = codec;
    if (codec == CS_GZIP) {
        z_stream *z = calloc(1, sizeof *z);
        if (!z)
            return cs_fail(s, CS_ENOMEM, "out of memory");
        /* 15 + 16: a gzip wrapper, the largest window. */
        if (inflateInit2(z, 15 + 16) != Z_OK) {
            free(z);
            return cs_fail(s, CS_ENOMEM, "gzip: cannot start the decoder");
        }
        s->codec_state = z;
    } else {
        ZSTD_DStream *d = ZSTD_createDStream();
        if (!d)
            return cs_fail(s, CS_ENOMEM, "zstd: cannot start the decoder");
        s->codec_state = d;
        ZSTD_initDStream(d);
    }
    return 0;
}

/* Common part of the two opens: allocate, read the first bytes, detect. */
static int cs_start(cap_stream *s, size_t bufsize)
{
    if (bufsize == 0)
        bufsize = CS_DEFAULT_BUF;
    if (bufsize < 16)
        bufsize = 16;
    s->max_cap = bufsize > CS_MAX_BUF ? bufsize : CS_MAX_BUF;
    s->buf = malloc(bufsize);
    if (!s->buf)
        return cs_fail(s, CS_ENOMEM, "out of memory");
    s->cap = bufsize;
    memset(s->buf, 0, 4); /* the magic test below reads these 4 bytes */
    /* Pipes may deliver the magic a byte at a time. */
    while (s->len < 4 && !s->src_eof) {
        long r = raw_read(s, s->buf + s->len, s->cap - s->len);
        if (r < 0)
            return -1;
        s->len += (size_t)r;
    }
    const uint8_t *m = s->buf;
    if (s->len >= 2 && m[0] == GZIP_MAGIC[0] && m[1] == GZIP_MAGIC[1])
        return codec_start(s, CS_GZIP);
    if (s->len >= 4 && m[0] == ZSTD_MAGIC[0] && m[1] == ZSTD_MAGIC[1] &&
        m[2] == ZSTD_MAGIC[2] && m[3] == ZSTD_MAGIC[3])
        return codec_start(s, CS_ZSTD);
    if (s->src_eof && s->len == 0)
        s->eof = 1;
    return 0;
}

int cs_open_fd(cap_stream *s, int fd, int own_fd, size_t bufsize, size_t chunk)
{
    memset(s, 0, sizeof *s);
    s->fd = fd;
    s->own_fd = own_fd;
    s->chunk = chunk;
    return cs_start(s, bufsize);
}

int cs_open_mem(cap_stream *s, const void *data, size_t len, size_t bufsize, size_t chunk)
{
    static const uint8_t empty[1];
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->mem = data ? data : empty;
    s->mem_len = data ? len : 0;
    s->chunk = chunk;
    return cs_start(s, bufsize);
}

void cs_close(cap_stream *s)
{
    if (s->codec == CS_GZIP && s->codec_state) {
        inflateEnd(s->codec_state);
        free(s->codec_state);
    } else if (s->codec == CS_ZSTD && s->codec_state) {
        ZSTD_freeDStream(s->codec_state);
    }
    s->codec_state = NULL;
    free(s->in);
    free(s->buf);
    s->in = s->buf = NULL;
    if (s->own_fd && s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}
