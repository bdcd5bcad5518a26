/* Buffered byte stream under every capture reader: a file descriptor or a
 * memory block, optionally gzip- or zstd-compressed (detected from the first
 * bytes, never from a name), delivered as one decompressed byte sequence.
 *
 * The stream owns one growing buffer. Readers ask for n contiguous bytes
 * (cs_ensure), look at them in place and then consume them, so the steady
 * state makes no allocation and no copy per record; a block larger than the
 * buffer grows it, but only as its bytes actually arrive, so a forged length
 * cannot make the stream allocate memory the input does not back.
 */
#ifndef NETAGM_CAPTURE_CAP_STREAM_H
#define NETAGM_CAPTURE_CAP_STREAM_H

#include <stddef.h>
#include <stdint.h>

typedef enum cs_codec { CS_PLAIN = 0, CS_GZIP, CS_ZSTD } cs_codec;

/* Stream error classes (cap_stream.err). */
enum { CS_OK = 0, CS_EREAD, CS_ECODEC, CS_ENOMEM };

typedef struct cap_stream {
    /* source: a file descriptor, or a memory block when mem != NULL */
    int fd;
    int own_fd;
    const uint8_t *mem;
    size_t mem_len, mem_pos;
    size_t chunk;          /* largest single read from the source */
    int src_eof;           /* the source has no more raw bytes */

    cs_codec codec;
    void *codec_state;     /* z_stream or ZSTD_DStream */
    int codec_done;        /* the last compressed frame/member is complete */

    /* compressed bytes waiting for the decoder (codecs only) */
    uint8_t *in;
    size_t in_cap, in_pos, in_len;

    /* decompressed bytes: buf[pos, len) are unread; buf[0] is at stream
     * offset base */
    uint8_t *buf;
    size_t cap, pos, len, max_cap;
    uint64_t base;
    uint64_t raw_bytes;    /* bytes taken from the source */

    int eof;               /* no more decompressed bytes will come */
    int incomplete;        /* the compressed data stopped before its end */
    int err;               /* CS_E*, sticky */
    char msg[160];         /* reason for err */
} cap_stream;

/* Default and largest buffer sizes. The maximum bounds one contiguous
 * request (a pcapng block), plus slack. */
#define CS_DEFAULT_BUF (1u << 20)
#define CS_MAX_BUF ((size_t)256 * 1024 * 1024 + 64 * 1024)

/* Open a stream over fd (closed by cs_close when own_fd) or over a memory
 * block (borrowed for the life of the stream). bufsize 0 means the default;
 * chunk 0 means reads as large as the buffer allows. Reads the first bytes to
 * detect compression. Returns 0, or -1 with s->err/s->msg set (the stream
 * must still be closed). */
int cs_open_fd(cap_stream *s, int fd, int own_fd, size_t bufsize, size_t chunk);
int cs_open_mem(cap_stream *s, const void *data, size_t len, size_t bufsize, size_t chunk);
void cs_close(cap_stream *s);

/* Make n bytes contiguous at the read position. Returns a pointer to them and
 * sets *avail to min(n, bytes available); *avail < n means end of data or an
 * error (s->err). The pointer is valid until the next cs_ensure/cs_read. */
const uint8_t *cs_ensure(cap_stream *s, size_t n, size_t *avail);

/* Consume n bytes, n <= what the last cs_ensure made available. */
static inline void cs_consume(cap_stream *s, size_t n) { s->pos += n; }

/* Copy up to n bytes out; returns the count (short at end or error). */
size_t cs_read(cap_stream *s, void *dst, size_t n);

/* Like cs_read, but returns once some bytes were copied and no more are
 * buffered, as read(2) does: a pipe's last packets are not held back
 * waiting for a full buffer. 0 only at end or error. */
size_t cs_read_some(cap_stream *s, void *dst, size_t n);

/* Decompressed bytes consumed so far. */
static inline uint64_t cs_offset(const cap_stream *s) { return s->base + s->pos; }

const char *cs_codec_name(cs_codec c);

#endif
