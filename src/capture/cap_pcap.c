/* Classic pcap files (pcap-savefile(5)): micro- and nanosecond time stamps,
 * either byte order, and Kuznetzov's modified format.
 *
 * Why not libpcap: its reader wants a FILE, and over our capture stream (so
 * that gzip, zstd and stdin go the same way as plain files) that meant three
 * copies of every byte: the stream's buffer, a stdio cookie's buffer, and
 * libpcap's packet buffer filled by fread. This reader parses the records
 * where the stream already holds them and hands the packet bytes out in
 * place: one bounded cs_ensure per record header and one per record, no copy
 * and no allocation per packet.
 *
 * It behaves as libpcap 1.10 does, case by case, including on damaged files:
 * which headers it accepts, the snapshot length it derives, records longer
 * than the snapshot (cut, the rest skipped), captured lengths it refuses,
 * caplen/len fields stored in the pre-2.3 order, the pseudo-headers it
 * converts from the writer's byte order (pflog, Linux cooked CAN, Linux USB,
 * NFLOG) and the original length it recomputes for memory-mapped Linux USB
 * isochronous completions. tests/unit/test_pcap_libpcap.c reads every
 * classic pcap of the corpus, hand-made edge cases and thousands of generated
 * files with both readers and requires the same frames (time stamp, lengths,
 * link type, bytes) and the same end, error and offset.
 *
 * A live pipe (tcpdump -U -w - | netagm stream -r -) gets each packet as soon
 * as its bytes have arrived: the reader never asks the stream for more than
 * the record in hand.
 *
 * File header (24 bytes, in the writer's byte order):
 *   +---------------------------------------------------------------+
 *   |                         Magic Number                          |
 *   +-------------------------------+-------------------------------+
 *   |         Major Version         |         Minor Version         |
 *   +-------------------------------+-------------------------------+
 *   |                 thiszone (ignored, as libpcap does)           |
 *   +---------------------------------------------------------------+
 *   |                 sigfigs (ignored)                             |
 *   +---------------------------------------------------------------+
 *   |                           SnapLen                             |
 *   +-----------+---------------------------------------------------+
 *   | FCS flags |                   LinkType (26 bits)              |
 *   +-----------+---------------------------------------------------+
 * Record header (16 bytes; Kuznetzov's format appends ifindex (4),
 * protocol (2), pkt_type (1) and a pad byte):
 *   | Timestamp (seconds) | Timestamp (us or ns) | Captured Len | Original Len |
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "capture/cap_linktype.h"
#include "capture/capture_int.h"

enum {
    FILE_HDR = 24,
    REC_HDR = 16,
    REC_HDR_KUZNETZOV = 24,
};

#define MAGIC_USEC 0xa1b2c3d4u
#define MAGIC_NSEC 0xa1b23c4du
#define MAGIC_KUZNETZOV 0xa1b2cd34u

/* The link-type field keeps its top 6 bits for FCS information. */
#define LT_VALUE_MASK 0x03ffffffu

/* Link types libpcap treats specially; in the range where its DLT_ and
 * LINKTYPE_ values are the same number. */
enum {
    LT_ETHERNET = 1,
    LT_LINUX_SLL = 113,
    LT_PFLOG = 117,
    LT_USB_LINUX = 189,
    LT_USB_LINUX_MMAPPED = 220,
    LT_DBUS = 231,
    LT_NFLOG = 239,
    LT_USBPCAP = 249,
    LT_LINUX_SLL2 = 276,
    LT_EBHSCR = 279,
};

/* Where caplen and len are in a record header (libpcap swapped them at
 * version 2.3; some 2.3 writers did not). */
typedef enum { LENS_PLAIN, LENS_SWAPPED, LENS_MAYBE_SWAPPED } lens_order;

typedef struct pcap_rd {
    int swap;            /* the writer's byte order is not ours */
    uint32_t hdrsize;    /* record header bytes */
    uint32_t snapshot;   /* longer records are cut to this */
    uint32_t maxcap;     /* longer captured lengths are refused */
    uint32_t lt;         /* link-type field without the FCS bits */
    uint32_t linktype;   /* LINKTYPE_ value handed out */
    uint32_t tsmul;      /* ns per unit of the fraction field */
    lens_order lens;
    int fixups;          /* the link type needs per-packet pseudo-header work */
} pcap_rd;

static uint32_t ld32(const uint8_t *p, int swap)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
}

static uint16_t ld16(const uint8_t *p, int swap)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return swap ? __builtin_bswap16(v) : v;
}

/* libpcap's largest sane captured length per link type. */
static uint32_t max_caplen(uint32_t lt)
{
    switch (lt) {
    case LT_DBUS:
        return 128u * 1024 * 1024;
    case LT_EBHSCR:
        return 8u * 1024 * 1024;
    case LT_USBPCAP:
        return 1024u * 1024;
    default:
        return 262144;
    }
}

/* ---- pseudo-headers ----------------------------------------------------------
 * A few link types begin with a header written in the capturing host's byte
 * order. libpcap converts those fields to the reading host's order when the
 * file's byte order is not the reader's, in place; so does this reader, in
 * the stream buffer, which belongs to the capture. Every access is checked
 * against the captured and the original length exactly where libpcap checks
 * them, so a field is converted if and only if libpcap converts it. */

static void swap16_at(uint8_t *p)
{
    uint8_t t = p[0];
    p[0] = p[1];
    p[1] = t;
}

static void swap32_at(uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    v = __builtin_bswap32(v);
    memcpy(p, &v, 4);
}

static void swap64_at(uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    v = __builtin_bswap64(v);
    memcpy(p, &v, 8);
}

static uint32_t host32(const uint8_t *p)
{
    return ld32(p, 0);
}

/* pflog header: length (1) | af (1) | action (1) | reason (1) | ifname (16) |
 * ruleset (16) | rulenr (4) | subrulenr (4) | uid (4) | pid (4) |
 * rule_uid (4) | rule_pid (4) | dir (1) | pad (3). uid .. rule_pid are in
 * host order, and only present when the header's own length covers them. */
static void swap_pflog(uint8_t *d, uint32_t caplen, uint32_t len)
{
    for (uint32_t end = 48; end <= 60; end += 4) {
        if (caplen < end || len < end || d[0] < end)
            return;
        swap32_at(d + end - 4);
    }
}

/* Linux cooked capture (SLL: 16-byte header, protocol at 14; SLL2: 20 bytes,
 * protocol at 0): a SocketCAN frame (protocol 0x000c CAN, 0x000d CAN FD)
 * starts with its CAN ID in host order. */
static void swap_sll_can(uint8_t *d, uint32_t caplen, uint32_t len, uint32_t hlen,
                         uint32_t proto_at)
{
    if (caplen < hlen || len < hlen)
        return;
    uint16_t proto = (uint16_t)((d[proto_at] << 8) | d[proto_at + 1]);
    if (proto != 0x000c && proto != 0x000d)
        return;
    if (caplen - hlen < 4 || len - hlen < 4)
        return;
    swap32_at(d + hlen);
}

/* Linux USB header (48 bytes; 64 when memory-mapped), host order:
 *   id (8) | event_type (1) | transfer_type (1) | endpoint (1) | device (1) |
 *   bus_id (2) | setup_flag (1) | data_flag (1) | ts_sec (8) | ts_usec (4) |
 *   status (4) | urb_len (4) | data_len (4) |
 *   setup (8), or for isochronous transfers error_count (4) | numdesc (4) |
 *   [mmapped: interval (4) | start_frame (4) | xfer_flags (4) | ndesc (4) |
 *    ndesc isochronous descriptors: status (4) | offset (4) | len (4) | pad (4)]
 * A field is converted once the captured length covers it. */
#define URB_ISOCHRONOUS 0
#define URB_COMPLETE 'C'
#define URB_TRANSFER_IN 0x80
#define USB_MMAPPED_HDR 64u
#define USB_ISODESC 16u

static void swap_usb(uint8_t *d, uint32_t caplen, int mmapped)
{
    static const struct {
        uint8_t at, width;
    } fields[] = {{0, 8}, {12, 2}, {16, 8}, {24, 4}, {28, 4}, {32, 4}, {36, 4}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        uint32_t end = (uint32_t)fields[i].at + fields[i].width;
        if (caplen < end)
            return;
        uint8_t *p = d + fields[i].at;
        if (fields[i].width == 8)
            swap64_at(p);
        else if (fields[i].width == 4)
            swap32_at(p);
        else
            swap16_at(p);
    }
    int iso = d[9] == URB_ISOCHRONOUS;
    if (iso) {
        for (uint32_t at = 40; at < 48; at += 4) {
            if (caplen < at + 4)
                return;
            swap32_at(d + at);
        }
    }
    if (!mmapped)
        return;
    for (uint32_t at = 48; at < USB_MMAPPED_HDR; at += 4) {
        if (caplen < at + 4)
            return;
        swap32_at(d + at);
    }
    if (!iso)
        return;
    uint32_t ndesc = host32(d + 60);
    uint32_t at = USB_MMAPPED_HDR;
    for (uint32_t k = 0; k < ndesc; k++, at += USB_ISODESC) {
        /* status, offset, len; the pad is left alone */
        for (uint32_t j = 0; j < 12; j += 4) {
            if (caplen < at + j + 4)
                return;
            swap32_at(d + at + j);
        }
    }
}

/* NFLOG: family (1) | version (1) | resource id (2, big-endian), then TLVs of
 * length (2) | type (2) in host order, each padded to 4 bytes. */
static void swap_nflog(uint8_t *d, uint32_t caplen, uint32_t len)
{
    if (caplen < 4 || len < 4 || d[1] != 0)
        return;
    caplen -= 4;
    len -= 4;
    uint8_t *p = d + 4;
    while (caplen >= 4) {
        swap16_at(p);
        swap16_at(p + 2);
        uint32_t size = ld16(p, 0);
        if (size % 4 != 0)
            size += 4 - size % 4;
        if (size < 4 || caplen < size || len < size)
            return;
        caplen -= size;
        len -= size;
        p += size;
    }
}

/* Memory-mapped Linux USB captures by older libpcaps computed the original
 * length of incoming isochronous completions from the URB length; libpcap
 * recomputes it from the descriptors that were captured. */
static void fix_usb_mmapped_len(const uint8_t *d, uint32_t caplen, uint32_t *len)
{
    if (caplen < USB_MMAPPED_HDR || d[15] != 0) /* data_flag 0: data present */
        return;
    uint32_t urb_len = host32(d + 32);
    uint32_t ndesc = host32(d + 60);
    uint64_t old_len = USB_MMAPPED_HDR + (uint64_t)ndesc * USB_ISODESC + urb_len;
    if (*len != old_len || d[9] != URB_ISOCHRONOUS || d[8] != URB_COMPLETE ||
        !(d[10] & URB_TRANSFER_IN))
        return;
    uint32_t data_end = 0;
    uint32_t left = caplen - USB_MMAPPED_HDR;
    const uint8_t *desc = d + USB_MMAPPED_HDR;
    for (uint32_t k = 0; k < ndesc && left >= USB_ISODESC;
         k++, left -= USB_ISODESC, desc += USB_ISODESC) {
        uint32_t dlen = host32(desc + 8);
        if (dlen != 0) {
            uint32_t end = host32(desc + 4) + dlen; /* wraps as libpcap's does */
            if (end > data_end)
                data_end = end;
        }
    }
    uint32_t full = (uint32_t)(USB_MMAPPED_HDR + (uint64_t)ndesc * USB_ISODESC + data_end);
    if (full >= caplen)
        *len = full;
    if (caplen > *len)
        *len = caplen;
}

static void fixups(const pcap_rd *r, uint8_t *d, uint32_t caplen, uint32_t *len)
{
    if (r->swap) {
        switch (r->lt) {
        case LT_PFLOG:
            swap_pflog(d, caplen, *len);
            break;
        case LT_LINUX_SLL:
            swap_sll_can(d, caplen, *len, 16, 14);
            break;
        case LT_LINUX_SLL2:
            swap_sll_can(d, caplen, *len, 20, 0);
            break;
        case LT_USB_LINUX:
            swap_usb(d, caplen, 0);
            break;
        case LT_USB_LINUX_MMAPPED:
            swap_usb(d, caplen, 1);
            break;
        case LT_NFLOG:
            swap_nflog(d, caplen, *len);
            break;
        default:
            break;
        }
    }
    if (r->lt == LT_USB_LINUX_MMAPPED)
        fix_usb_mmapped_len(d, caplen, len);
}

/* ---- records ----------------------------------------------------------------- */

/* The stream stopped got bytes into the part of the record at off that
 * libpcap reads as one piece (what: "header" or "captured"), or failed
 * there. The text in parentheses is libpcap's own. */
static int rec_cut(nagm_capture *c, uint64_t off, const char *what, uint32_t want, size_t got)
{
    int se = cap_stream_fail(c, off);
    if (se)
        return se;
    return cap_fail(c, NAGM_CAP_ETRUNC, off,
                    "file ends inside a record (truncated dump file; tried to read %u %s "
                    "bytes, only got %zu)",
                    want, what, got);
}

/* The next record into *f: 1, 0 at the end, or -NAGM_CAP_E* (after
 * cap_fail). With only_buffered set, a record not wholly in the stream's
 * buffer is left for a later call (returns 2) instead of being read in, so
 * that frames handed out before it stay where they are. */
static inline __attribute__((always_inline)) int pcap_read(nagm_capture *c, nagm_frame *f,
                                                           int only_buffered)
{
    pcap_rd *r = c->fmt;
    cap_stream *s = &c->st;
    uint64_t off = cs_offset(s);
    uint32_t hs = r->hdrsize;
    size_t n;
    if (s->len - s->pos < hs) {
        if (only_buffered)
            return 2;
        (void)cs_ensure(s, hs, &n);
        if (n < hs) {
            if (n == 0) {
                int se = cap_stream_fail(c, off);
                return se ? se : 0;
            }
            return rec_cut(c, off, "header", hs, n);
        }
    }
    const uint8_t *h = s->buf + s->pos;
    int sw = r->swap;
    uint32_t sec = ld32(h, sw);
    uint32_t frac = ld32(h + 4, sw);
    uint32_t caplen = ld32(h + 8, sw);
    uint32_t len = ld32(h + 12, sw);
    if (r->lens != LENS_PLAIN && (r->lens == LENS_SWAPPED || caplen > len)) {
        uint32_t t = caplen;
        caplen = len;
        len = t;
    }
    if (caplen > r->maxcap) {
        if (caplen > r->snapshot)
            return cap_fail(c, NAGM_CAP_EDAMAGED, off,
                            "invalid packet capture length %u, bigger than snaplen of %u; "
                            "may be a damaged or fuzzed file",
                            caplen, r->snapshot);
        return cap_fail(c, NAGM_CAP_EDAMAGED, off,
                        "invalid packet capture length %u, bigger than maximum of %u; "
                        "may be a damaged or fuzzed file",
                        caplen, r->maxcap);
    }
    /* caplen <= maxcap <= 128 MiB: no overflow, and within the stream's
     * largest contiguous request. */
    size_t total = (size_t)hs + caplen;
    if (s->len - s->pos < total) {
        if (only_buffered)
            return 2;
        (void)cs_ensure(s, total, &n);
        if (n < total) {
            size_t got = n - hs;
            /* A record longer than the snapshot is read in two parts, the
             * snapshot and the rest, and libpcap names the part that broke. */
            if (caplen > r->snapshot && got < r->snapshot)
                return rec_cut(c, off, "captured", r->snapshot, got);
            return rec_cut(c, off, "captured", caplen, got);
        }
    }
    /* The stream owns its buffer; these bytes stay put until the next
     * cs_ensure, which comes with the next call. */
    uint8_t *d = s->buf + s->pos + hs;
    cs_consume(s, total);
    if (caplen > r->snapshot)
        caplen = r->snapshot;
    if (r->fixups)
        fixups(r, d, caplen, &len);
    /* Both time stamp fields are unsigned 32-bit values: no overflow. */
    f->ts_ns = (int64_t)((uint64_t)sec * 1000000000u + (uint64_t)frac * r->tsmul);
    f->caplen = caplen;
    f->wirelen = len;
    f->linktype = r->linktype;
    f->data = d;
    return 1;
}

static int pcap_next_frame(nagm_capture *c, nagm_frame *f)
{
    return pcap_read(c, f, 0);
}

/* One frame read as pcap_next_frame does, then those after it that are
 * already in the buffer (see cap_ops.next_batch). */
static int pcap_next_batch(nagm_capture *c, nagm_frame *f, int max)
{
    int r = pcap_read(c, &f[0], 0);
    if (r != 1)
        return r;
    int n = 1;
    while (n < max && pcap_read(c, &f[n], 1) == 1)
        n++;
    return n;
}

static void pcap_rd_close(nagm_capture *c)
{
    free(c->fmt);
    c->fmt = NULL;
}

static const cap_ops pcap_ops = {"pcap", pcap_next_frame, pcap_next_batch, NULL,
                                 pcap_rd_close};

int cap_pcap_open(nagm_capture *c)
{
    size_t n;
    const uint8_t *h = cs_ensure(&c->st, FILE_HDR, &n);
    if (n < FILE_HDR) {
        int se = cap_stream_fail(c, 0);
        if (se)
            return se;
        if (n < 4)
            return cap_fail(c, NAGM_CAP_EFORMAT, 0, "not a pcap capture");
        return cap_fail(c, NAGM_CAP_ETRUNC, 0,
                        "file header cut short (truncated dump file; tried to read %d file "
                        "header bytes, only got %zu)",
                        FILE_HDR, n - 4);
    }
    /* The magic, read in our byte order, tells the writer's. */
    uint32_t magic = ld32(h, 0);
    int swap = 0;
    if (magic != MAGIC_USEC && magic != MAGIC_NSEC && magic != MAGIC_KUZNETZOV) {
        magic = __builtin_bswap32(magic);
        swap = 1;
        if (magic != MAGIC_USEC && magic != MAGIC_NSEC && magic != MAGIC_KUZNETZOV)
            return cap_fail(c, NAGM_CAP_EFORMAT, 0, "not a pcap capture");
    }
    uint16_t major = ld16(h + 4, swap);
    uint16_t minor = ld16(h + 6, swap);
    uint32_t snaplen = ld32(h + 16, swap);
    uint32_t ltfield = ld32(h + 20, swap);
    if (major < 2)
        return cap_fail(c, NAGM_CAP_EFORMAT, 0,
                        "bad pcap file header: archaic pcap savefile format");
    /* 2.0 to 2.4, and DG/UX tcpdump's 543.0 */
    if (!((major == 2 && minor <= 4) || (major == 543 && minor == 0)))
        return cap_fail(c, NAGM_CAP_EFORMAT, 0,
                        "bad pcap file header: unsupported pcap savefile version %u.%u", major,
                        minor);

    pcap_rd *r = calloc(1, sizeof *r);
    if (!r)
        return cap_fail(c, NAGM_CAP_ENOMEM, 0, "out of memory");
    r->swap = swap;
    r->lt = ltfield & LT_VALUE_MASK;
    /* The field holds a LINKTYPE_ value, or in old files a platform's DLT_
     * value; cap_linktype_from_dlt maps both the way libpcap's
     * linktype_to_dlt followed by pcap_datalink would. */
    r->linktype = cap_linktype_from_dlt((int)r->lt);
    r->maxcap = max_caplen(r->lt);
    /* A snapshot length of 0, or one that is negative as an int, is bogus:
     * libpcap falls back to the link type's maximum. */
    r->snapshot = (int32_t)snaplen <= 0 ? r->maxcap : snaplen;
    r->tsmul = magic == MAGIC_NSEC ? 1 : 1000;
    r->hdrsize = REC_HDR;
    if (magic == MAGIC_KUZNETZOV) {
        r->hdrsize = REC_HDR_KUZNETZOV;
        /* A cooked-mode capture may add a 14-byte fake Ethernet header to a
         * snapshot-length packet; libpcap allows for it. */
        if (r->lt == LT_ETHERNET)
            r->snapshot = r->snapshot <= INT_MAX - 14 ? r->snapshot + 14 : INT_MAX;
    }
    if (major == 543 || minor < 3)
        r->lens = LENS_SWAPPED;
    else if (minor == 3)
        r->lens = LENS_MAYBE_SWAPPED;
    else
        r->lens = LENS_PLAIN;
    switch (r->lt) {
    case LT_PFLOG:
    case LT_LINUX_SLL:
    case LT_LINUX_SLL2:
    case LT_USB_LINUX:
    case LT_NFLOG:
        r->fixups = swap;
        break;
    case LT_USB_LINUX_MMAPPED:
        r->fixups = 1;
        break;
    default:
        r->fixups = 0;
        break;
    }
    cs_consume(&c->st, FILE_HDR);
    c->fmt = r;
    c->ops = &pcap_ops;
    return 0;
}
