/* Classic pcap files (micro- and nanosecond, either byte order, Kuznetzov's
 * modified format), read by libpcap through a stdio cookie over the capture's
 * stream, so compressed input and stdin go the same way as plain files.
 *
 * The cookie FILE has a buffer of its own (an unbuffered stdio stream is
 * read a byte at a time, and flushes stdout on every refill), so the stream
 * runs ahead of libpcap. The start of the next record is therefore counted
 * from record sizes, and asked of ftell() (which subtracts what stdio still
 * buffers from the position the cookie reports) only after a record libpcap
 * may have cut to the snapshot length, whose size on disk is not known.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/cap_linktype.h"
#include "capture/capture_int.h"

#define PCAP_FILE_BUF (64u * 1024)

typedef struct pcap_rd {
    pcap_t *p;
    FILE *fp;
    char *fbuf;         /* the FILE's buffer; outlives the FILE */
    uint32_t linktype;
    int nano;           /* the file stores nanoseconds */
    uint32_t hdrsize;   /* record header bytes: 16, or 24 (Kuznetzov) */
    uint32_t snapshot;  /* libpcap's snapshot length for the file */
    uint64_t next_off;  /* stream offset of the next record */
} pcap_rd;

static ssize_t ck_read(void *cookie, char *buf, size_t size)
{
    nagm_capture *c = cookie;
    /* stdio asks for a whole buffer; hand over what has arrived so that a
     * live pipe (tcpdump -U -w -) is not held back by a half-full buffer. */
    size_t n = cs_read_some(&c->st, buf, size);
    if (n == 0 && c->st.err) {
        errno = EIO;
        return -1;
    }
    return (ssize_t)n;
}

/* Only "where am I" is answered (ftell), never a move. */
static int ck_seek(void *cookie, off64_t *pos, int whence)
{
    nagm_capture *c = cookie;
    if (whence == SEEK_CUR && *pos == 0) {
        *pos = (off64_t)cs_offset(&c->st);
        return 0;
    }
    errno = ESPIPE;
    return -1;
}

/* The stream belongs to the capture, not to the FILE. */
static int ck_close(void *cookie)
{
    (void)cookie;
    return 0;
}

static int pcap_next_frame(nagm_capture *c, nagm_frame *f)
{
    pcap_rd *r = c->fmt;
    uint64_t off = r->next_off;
    struct pcap_pkthdr *h;
    const u_char *d;
    int rc = pcap_next_ex(r->p, &h, &d);
    if (rc == 1) {
        /* libpcap sign-extends the 32-bit fields; the format stores them
         * unsigned. */
        uint64_t sec = (uint32_t)h->ts.tv_sec;
        uint64_t frac = r->nano ? (uint32_t)h->ts.tv_usec
                                : (uint64_t)(uint32_t)(h->ts.tv_usec / 1000) * 1000u;
        f->ts_ns = (int64_t)(sec * 1000000000u + frac);
        f->caplen = h->caplen;
        f->wirelen = h->len;
        f->linktype = r->linktype;
        f->data = d;
        if (h->caplen < r->snapshot) {
            r->next_off = off + r->hdrsize + h->caplen;
        } else {
            long pos = ftell(r->fp);
            r->next_off = pos >= 0 ? (uint64_t)pos : cs_offset(&c->st);
        }
        return 1;
    }
    int se = cap_stream_fail(c, off);
    if (se)
        return se;
    if (rc == PCAP_ERROR_BREAK)
        return 0;
    const char *msg = pcap_geterr(r->p);
    if (strstr(msg, "truncated"))
        return cap_fail(c, NAGM_CAP_ETRUNC, off, "file ends inside a record (%s)", msg);
    if (strstr(msg, "out of memory"))
        return cap_fail(c, NAGM_CAP_ENOMEM, off, "%s", msg);
    if (strstr(msg, "invalid packet capture length"))
        return cap_fail(c, NAGM_CAP_EDAMAGED, off,
                        "%s; may be a damaged or fuzzed file", msg);
    return cap_fail(c, NAGM_CAP_EDAMAGED, off, "%s", msg);
}

static void pcap_rd_close(nagm_capture *c)
{
    pcap_rd *r = c->fmt;
    if (r) {
        if (r->p)
            pcap_close(r->p); /* also closes the cookie FILE */
        free(r->fbuf);
        free(r);
    }
    c->fmt = NULL;
}

static uint64_t pcap_rd_offset(const nagm_capture *c)
{
    const pcap_rd *r = c->fmt;
    return r->next_off;
}

static const cap_ops pcap_ops = {"pcap", pcap_next_frame, pcap_rd_offset, pcap_rd_close};

int cap_pcap_open(nagm_capture *c)
{
    size_t n;
    const uint8_t *m = cs_ensure(&c->st, 4, &n);
    if (n < 4)
        return cap_fail(c, NAGM_CAP_EFORMAT, 0, "not a pcap capture");
    uint32_t magic = ((uint32_t)m[0] << 24) | ((uint32_t)m[1] << 16) |
                     ((uint32_t)m[2] << 8) | m[3];

    pcap_rd *r = calloc(1, sizeof *r);
    if (!r)
        return cap_fail(c, NAGM_CAP_ENOMEM, 0, "out of memory");
    r->nano = magic == 0xa1b23c4d || magic == 0x4d3cb2a1;
    r->hdrsize = magic == 0xa1b2cd34 || magic == 0x34cdb2a1 ? 24 : 16;
    r->next_off = 24; /* after the file header */
    c->fmt = r;
    c->ops = &pcap_ops;

    cookie_io_functions_t io = {ck_read, NULL, ck_seek, ck_close};
    FILE *fp = fopencookie(c, "r", io);
    if (!fp)
        return cap_fail(c, NAGM_CAP_ENOMEM, 0, "out of memory");
    r->fbuf = malloc(PCAP_FILE_BUF);
    if (!r->fbuf) {
        fclose(fp);
        return cap_fail(c, NAGM_CAP_ENOMEM, 0, "out of memory");
    }
    setvbuf(fp, r->fbuf, _IOFBF, PCAP_FILE_BUF);
    r->fp = fp;

    char perr[PCAP_ERRBUF_SIZE];
    perr[0] = '\0';
    r->p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, perr);
    if (!r->p) {
        fclose(fp); /* libpcap leaves the FILE to us on failure */
        r->fp = NULL;
        int se = cap_stream_fail(c, 0);
        if (se)
            return se;
        if (strstr(perr, "truncated"))
            return cap_fail(c, NAGM_CAP_ETRUNC, 0, "file header cut short (%s)", perr);
        if (strstr(perr, "out of memory"))
            return cap_fail(c, NAGM_CAP_ENOMEM, 0, "%s", perr);
        return cap_fail(c, NAGM_CAP_EFORMAT, 0, "bad pcap file header: %s", perr);
    }
    r->linktype = cap_linktype_from_dlt(pcap_datalink(r->p));
    int snap = pcap_snapshot(r->p);
    r->snapshot = snap > 0 ? (uint32_t)snap : 0;
    return 0;
}
