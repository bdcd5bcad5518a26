/* libFuzzer target for the frame decoder.
 *
 * Input: 2 bytes choosing a link type (big-endian index, modulo the table
 * below: every supported type plus a few unsupported ones), then the frame.
 * The frame ends exactly where the fuzzer's buffer ends, so ASan reports any
 * read past the captured bytes. Beyond "no crash", every OK result must be a
 * well-formed record, and decoding a prefix of the frame may only take
 * information away (the property tests/unit/test_decode_guard.c checks on
 * real captures).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netagm/decode.h"

static const uint32_t linktypes[] = {
    1,   /* ETHERNET */
    113, /* LINUX_SLL */
    276, /* LINUX_SLL2 */
    101, /* RAW */
    12,  /* DLT_RAW */
    14,  /* DLT_RAW (OpenBSD) */
    228, /* IPV4 */
    229, /* IPV6 */
    0,   /* NULL */
    108, /* LOOP */
    9,   /* PPP */
    50,  /* PPP_HDLC */
    51,  /* PPP_ETHER */
    105, /* IEEE802_11: unsupported */
    127, /* IEEE802_11_RADIOTAP: unsupported */
    10,  /* FDDI: unsupported */
};
#define NLINKTYPES (sizeof linktypes / sizeof linktypes[0])

static int is_v6_ext(uint8_t p)
{
    return p == 0 || p == 43 || p == 44 || p == 60 || p == 51 || p == 135 || p == 139 ||
           p == 140;
}

static void check_record(const nagm_pkt *p, uint32_t lt)
{
    static const uint8_t zero[12];
    if (p->src.family != 4 && p->src.family != 6)
        abort();
    if (p->dst.family != p->src.family)
        abort();
    if (p->src.family == 4 &&
        (memcmp(p->src.b + 4, zero, 12) != 0 || memcmp(p->dst.b + 4, zero, 12) != 0))
        abort();
    if (p->l4_trunc > 1 || p->linktype != lt)
        abort();
    if (p->flags != 0 && p->proto != 6)
        abort();
    if ((p->src_port != 0 || p->dst_port != 0) && p->l4_trunc && p->proto != 6)
        abort();
}

/* A prefix of the frame decodes to the same IP fields, or to fewer L4
 * fields with l4_trunc set. */
static void check_prefix(uint32_t lt, const uint8_t *frame, size_t cut, const nagm_pkt *full)
{
    nagm_pkt p;
    nagm_dec_result r = nagm_decode(lt, cut ? frame : NULL, (uint32_t)cut, &p);
    if (r != NAGM_DEC_OK)
        return;
    check_record(&p, lt);
    if (nagm_addr_cmp(&p.src, &full->src) != 0 || nagm_addr_cmp(&p.dst, &full->dst) != 0 ||
        p.ttl != full->ttl || p.len != full->len)
        abort();
    if (p.proto != full->proto &&
        !(p.src.family == 6 && is_v6_ext(p.proto) && p.l4_trunc && p.src_port == 0 &&
          p.dst_port == 0 && p.flags == 0))
        abort();
    if ((p.src_port != full->src_port && !(p.src_port == 0 && p.l4_trunc)) ||
        (p.dst_port != full->dst_port && !(p.dst_port == 0 && p.l4_trunc)) ||
        (p.flags != full->flags && !(p.flags == 0 && p.l4_trunc)) ||
        (full->l4_trunc && !p.l4_trunc))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint32_t lt = linktypes[((unsigned)data[0] << 8 | data[1]) % NLINKTYPES];
    const uint8_t *frame = data + 2;
    size_t n = size - 2;
    if (n > UINT32_MAX)
        return 0;

    nagm_pkt p;
    nagm_dec_result r = nagm_decode(lt, n ? frame : NULL, (uint32_t)n, &p);
    if ((unsigned)r >= NAGM_DEC_NRESULTS)
        abort();
    if ((r == NAGM_DEC_LINK_UNSUPPORTED) != !nagm_linktype_supported(lt))
        abort();
    if (!nagm_dec_result_name(r) || !nagm_linktype_name(lt))
        abort();
    if (r != NAGM_DEC_OK) {
        /* more bytes cannot make a frame of this prefix OK the other way:
         * an OK prefix implies an OK whole */
        nagm_pkt q;
        if (n && nagm_decode(lt, frame, (uint32_t)(n - 1), &q) == NAGM_DEC_OK)
            abort();
        return 0;
    }
    check_record(&p, lt);
    if (n) {
        check_prefix(lt, frame, n - 1, &p);
        check_prefix(lt, frame, n / 2, &p);
    }
    return 0;
}
