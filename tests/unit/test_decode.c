/* Frame decoder: hand-built frames for every link layer, IP and L4 path of
 * agm.md, with expected values written out by hand from the bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "netagm/decode.h"

/* ---- frame builder ------------------------------------------------------- */

typedef struct frame {
    uint8_t b[4096];
    size_t n;
} frame;

static void f_bytes(frame *f, const void *p, size_t n)
{
    assert_true(f->n + n <= sizeof f->b);
    memcpy(f->b + f->n, p, n);
    f->n += n;
}

static void f_u8(frame *f, uint8_t v)
{
    f_bytes(f, &v, 1);
}

static void f_be16(frame *f, uint16_t v)
{
    f_u8(f, (uint8_t)(v >> 8));
    f_u8(f, (uint8_t)v);
}

static void f_be32(frame *f, uint32_t v)
{
    f_be16(f, (uint16_t)(v >> 16));
    f_be16(f, (uint16_t)v);
}

static void f_le32(frame *f, uint32_t v)
{
    f_u8(f, (uint8_t)v);
    f_u8(f, (uint8_t)(v >> 8));
    f_u8(f, (uint8_t)(v >> 16));
    f_u8(f, (uint8_t)(v >> 24));
}

static void f_zeros(frame *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        f_u8(f, 0);
}

static void f_eth(frame *f, uint16_t etype)
{
    static const uint8_t macs[12] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
                                     0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb};
    f_bytes(f, macs, sizeof macs);
    f_be16(f, etype);
}

/* 802.1Q-style tag body: TCI then the inner type. */
static void f_tag(frame *f, uint16_t vid, uint16_t inner)
{
    f_be16(f, (uint16_t)(0x2000 | vid)); /* PCP 1 */
    f_be16(f, inner);
}

static void f_mpls(frame *f, uint32_t label, int bottom)
{
    f_be32(f, (label << 12) | (bottom ? 0x100u : 0) | 64);
}

static const uint8_t SRC4[4] = {10, 1, 2, 3};
static const uint8_t DST4[4] = {192, 168, 200, 9};
static const uint8_t SRC6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
static const uint8_t DST6[16] = {0xfe, 0x80, 0,    0,    0,    0,    0,    0,
                                 0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55};

/* IPv4 header with optwords 32-bit words of options (NOP-filled). */
static void f_ipv4_ihl(frame *f, uint8_t ihl, uint8_t proto, uint16_t totlen, uint16_t fragword,
                       uint8_t ttl)
{
    f_u8(f, (uint8_t)(0x40 | ihl));
    f_u8(f, 0);
    f_be16(f, totlen);
    f_be16(f, 0x1234); /* id */
    f_be16(f, fragword);
    f_u8(f, ttl);
    f_u8(f, proto);
    f_be16(f, 0xbeef); /* checksum, not checked */
    f_bytes(f, SRC4, 4);
    f_bytes(f, DST4, 4);
    for (int i = 5; i < ihl; i++)
        f_be32(f, 0x01010101);
}

static void f_ipv4(frame *f, uint8_t proto, uint16_t totlen, uint8_t ttl)
{
    f_ipv4_ihl(f, 5, proto, totlen, 0x4000 /* DF */, ttl);
}

static void f_ipv6(frame *f, uint8_t nh, uint16_t plen, uint8_t hlim)
{
    f_be32(f, 0x60012345);
    f_be16(f, plen);
    f_u8(f, nh);
    f_u8(f, hlim);
    f_bytes(f, SRC6, 16);
    f_bytes(f, DST6, 16);
}

/* Generic extension header of (hdrlen+1)*8 bytes. */
static void f_ext(frame *f, uint8_t nh, uint8_t hdrlen)
{
    f_u8(f, nh);
    f_u8(f, hdrlen);
    /* PadN option over the rest, so the header is well formed */
    size_t rest = ((size_t)hdrlen + 1) * 8 - 2;
    f_u8(f, 1);
    f_u8(f, (uint8_t)(rest - 2));
    f_zeros(f, rest - 2);
}

static void f_ah(frame *f, uint8_t nh, uint8_t plen)
{
    f_u8(f, nh);
    f_u8(f, plen);
    f_zeros(f, ((size_t)plen + 2) * 4 - 2);
}

static void f_frag6(frame *f, uint8_t nh, uint16_t offset8, int more)
{
    f_u8(f, nh);
    f_u8(f, 0);
    f_be16(f, (uint16_t)((offset8 << 3) | (more ? 1 : 0)));
    f_be32(f, 0xdeadbeef);
}

static void f_tcp(frame *f, uint16_t sp, uint16_t dp, uint8_t flags)
{
    f_be16(f, sp);
    f_be16(f, dp);
    f_be32(f, 1000); /* seq */
    f_be32(f, 2000); /* ack */
    f_u8(f, 0x50);   /* data offset 5 */
    f_u8(f, flags);
    f_be16(f, 65535); /* window */
    f_be16(f, 0);     /* checksum */
    f_be16(f, 0);     /* urgent */
}

static void f_udp(frame *f, uint16_t sp, uint16_t dp)
{
    f_be16(f, sp);
    f_be16(f, dp);
    f_be16(f, 8);
    f_be16(f, 0);
}

static void f_icmp(frame *f, uint8_t type, uint8_t code)
{
    f_u8(f, type);
    f_u8(f, code);
    f_be16(f, 0);
    f_be32(f, 0x00010002);
}

/* ---- decoding and checking ----------------------------------------------- */

/* Decode into a record pre-filled with garbage so that a field the decoder
 * forgets to set shows up. */
static nagm_dec_result dec(uint32_t lt, const frame *f, size_t n, nagm_pkt *p)
{
    memset(p, 0xa5, sizeof *p);
    return nagm_decode(lt, f->b, (uint32_t)n, p);
}

static nagm_dec_result dec_all(uint32_t lt, const frame *f, nagm_pkt *p)
{
    return dec(lt, f, f->n, p);
}

typedef struct expect {
    int family;
    uint8_t proto, ttl, flags, l4_trunc;
    uint32_t len;
    uint16_t sp, dp, lt;
} expect;

static void check(const nagm_pkt *p, const expect *e)
{
    assert_int_equal(p->src.family, e->family);
    assert_int_equal(p->dst.family, e->family);
    if (e->family == 4) {
        static const uint8_t zero[12];
        assert_memory_equal(p->src.b, SRC4, 4);
        assert_memory_equal(p->dst.b, DST4, 4);
        assert_memory_equal(p->src.b + 4, zero, 12);
        assert_memory_equal(p->dst.b + 4, zero, 12);
    } else {
        assert_memory_equal(p->src.b, SRC6, 16);
        assert_memory_equal(p->dst.b, DST6, 16);
    }
    assert_int_equal(p->proto, e->proto);
    assert_int_equal(p->ttl, e->ttl);
    assert_int_equal(p->len, e->len);
    assert_int_equal(p->src_port, e->sp);
    assert_int_equal(p->dst_port, e->dp);
    assert_int_equal(p->flags, e->flags);
    assert_int_equal(p->l4_trunc, e->l4_trunc);
    assert_int_equal(p->linktype, e->lt);
}

static void expect_ok(uint32_t lt, const frame *f, const expect *e)
{
    nagm_pkt p;
    assert_int_equal(dec_all(lt, f, &p), NAGM_DEC_OK);
    check(&p, e);
}

static void expect_res(uint32_t lt, const frame *f, size_t n, nagm_dec_result r)
{
    nagm_pkt p;
    assert_int_equal(dec(lt, f, n, &p), r);
}

/* A standard payload: IPv4 TCP 10.1.2.3:40000 -> 192.168.200.9:443 SYN. */
static void f_v4_tcp(frame *f)
{
    f_ipv4(f, 6, 60, 64);
    f_tcp(f, 40000, 443, 0x02);
}
static const expect E_V4_TCP = {4, 6, 64, 0x02, 0, 60, 40000, 443, 1};

/* IPv6 UDP 2001:db8::1:5353 -> fe80::...:53, hop limit 255. */
static void f_v6_udp(frame *f)
{
    f_ipv6(f, 17, 8, 255);
    f_udp(f, 5353, 53);
}
static const expect E_V6_UDP = {6, 17, 255, 0, 0, 48, 5353, 53, 1};

static expect with_lt(expect e, uint16_t lt)
{
    e.lt = lt;
    return e;
}

/* ---- Ethernet -------------------------------------------------------------- */

static void test_ethernet_v4_v6(void **state)
{
    (void)state;
    frame f = {0};
    f_eth(&f, 0x0800);
    f_v4_tcp(&f);
    expect_ok(1, &f, &E_V4_TCP);

    frame g = {0};
    f_eth(&g, 0x86dd);
    f_v6_udp(&g);
    expect_ok(1, &g, &E_V6_UDP);
}

static void test_ethernet_not_ip_and_truncated(void **state)
{
    (void)state;
    frame f = {0};
    f_eth(&f, 0x0806); /* ARP */
    f_be16(&f, 1);
    f_be16(&f, 0x0800);
    f_u8(&f, 6);
    f_u8(&f, 4);
    f_be16(&f, 1);
    f_zeros(&f, 20);
    expect_res(1, &f, f.n, NAGM_DEC_NOT_IP);

    frame l = {0};
    f_eth(&l, 0x88cc); /* LLDP */
    f_zeros(&l, 30);
    expect_res(1, &l, l.n, NAGM_DEC_NOT_IP);

    frame d = {0};
    f_eth(&d, 0x8863); /* PPPoE discovery */
    f_zeros(&d, 30);
    expect_res(1, &d, d.n, NAGM_DEC_NOT_IP);

    /* 802.3 length field followed by LLC/SNAP that names IPv4: not IP */
    frame s = {0};
    f_eth(&s, 0x0030);
    static const uint8_t snap[8] = {0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00};
    f_bytes(&s, snap, sizeof snap);
    f_v4_tcp(&s);
    expect_res(1, &s, s.n, NAGM_DEC_NOT_IP);

    /* truncated link header */
    frame t = {0};
    f_eth(&t, 0x0800);
    f_v4_tcp(&t);
    for (size_t n = 0; n < 14; n++)
        expect_res(1, &t, n, NAGM_DEC_MALFORMED);
    /* complete link header, IPv4 header cut anywhere: malformed */
    for (size_t n = 14; n < 34; n++)
        expect_res(1, &t, n, NAGM_DEC_MALFORMED);
    expect_res(1, &t, 34, NAGM_DEC_OK);

    /* ARP frame cut inside the Ethernet header is malformed, not "not IP" */
    expect_res(1, &f, 13, NAGM_DEC_MALFORMED);
    expect_res(1, &f, 14, NAGM_DEC_NOT_IP);
}

static void test_ethernet_version_mismatch(void **state)
{
    (void)state;
    frame f = {0};
    f_eth(&f, 0x0800);
    f_v6_udp(&f);
    expect_res(1, &f, f.n, NAGM_DEC_MALFORMED);

    frame g = {0};
    f_eth(&g, 0x86dd);
    f_v4_tcp(&g);
    f_zeros(&g, 20);
    expect_res(1, &g, g.n, NAGM_DEC_MALFORMED);
}

static void test_vlan(void **state)
{
    (void)state;
    /* single 802.1Q tag */
    frame f = {0};
    f_eth(&f, 0x8100);
    f_tag(&f, 100, 0x0800);
    f_v4_tcp(&f);
    expect_ok(1, &f, &E_V4_TCP);

    /* QinQ: 802.1ad outer + 802.1Q inner, IPv6 */
    frame q = {0};
    f_eth(&q, 0x88a8);
    f_tag(&q, 10, 0x8100);
    f_tag(&q, 20, 0x86dd);
    f_v6_udp(&q);
    expect_ok(1, &q, &E_V6_UDP);

    /* pre-standard 0x9100 outer */
    frame o = {0};
    f_eth(&o, 0x9100);
    f_tag(&o, 10, 0x8100);
    f_tag(&o, 20, 0x0800);
    f_v4_tcp(&o);
    expect_ok(1, &o, &E_V4_TCP);

    /* five stacked tags */
    frame m = {0};
    f_eth(&m, 0x8100);
    for (int i = 0; i < 4; i++)
        f_tag(&m, (uint16_t)i, i % 2 ? 0x88a8 : 0x8100);
    f_tag(&m, 99, 0x0800);
    f_v4_tcp(&m);
    expect_ok(1, &m, &E_V4_TCP);

    /* tag cut: malformed; ARP in a VLAN: not IP */
    for (size_t n = 14; n < 18; n++)
        expect_res(1, &q, n, NAGM_DEC_MALFORMED);
    for (size_t n = 18; n < 22; n++)
        expect_res(1, &q, n, NAGM_DEC_MALFORMED);
    frame a = {0};
    f_eth(&a, 0x8100);
    f_tag(&a, 5, 0x0806);
    f_zeros(&a, 28);
    expect_res(1, &a, a.n, NAGM_DEC_NOT_IP);
}

static void test_mpls(void **state)
{
    (void)state;
    /* one label, IPv4 */
    frame f = {0};
    f_eth(&f, 0x8847);
    f_mpls(&f, 16, 1);
    f_v4_tcp(&f);
    expect_ok(1, &f, &E_V4_TCP);

    /* two labels (multicast ethertype), IPv6 */
    frame g = {0};
    f_eth(&g, 0x8848);
    f_mpls(&g, 1000, 0);
    f_mpls(&g, 2000, 1);
    f_v6_udp(&g);
    expect_ok(1, &g, &E_V6_UDP);

    /* VLAN then MPLS */
    frame v = {0};
    f_eth(&v, 0x8100);
    f_tag(&v, 7, 0x8847);
    f_mpls(&v, 3, 0);
    f_mpls(&v, 4, 0);
    f_mpls(&v, 5, 1);
    f_v4_tcp(&v);
    expect_ok(1, &v, &E_V4_TCP);

    /* pseudowire with a control word (first nibble 0): not IP */
    frame p = {0};
    f_eth(&p, 0x8847);
    f_mpls(&p, 77, 1);
    f_be32(&p, 0);
    f_eth(&p, 0x0800);
    f_v4_tcp(&p);
    expect_res(1, &p, p.n, NAGM_DEC_NOT_IP);

    /* stack cut, or nothing after the bottom label: malformed */
    for (size_t n = 14; n <= 22; n++)
        expect_res(1, &g, n, NAGM_DEC_MALFORMED);
    /* a stack with no bottom-of-stack bit runs into the captured end */
    frame u = {0};
    f_eth(&u, 0x8847);
    for (int i = 0; i < 10; i++)
        f_mpls(&u, (uint32_t)i, 0);
    expect_res(1, &u, u.n, NAGM_DEC_MALFORMED);
}

static void test_pppoe(void **state)
{
    (void)state;
    frame f = {0};
    f_eth(&f, 0x8864);
    f_be16(&f, 0x1100); /* ver 1 type 1, code 0 */
    f_be16(&f, 0x0042); /* session */
    f_be16(&f, 62);
    f_be16(&f, 0x0021);
    f_v4_tcp(&f);
    expect_ok(1, &f, &E_V4_TCP);

    frame g = {0};
    f_eth(&g, 0x8100);
    f_tag(&g, 300, 0x8864);
    f_be16(&g, 0x1100);
    f_be16(&g, 0x0042);
    f_be16(&g, 50);
    f_be16(&g, 0x0057);
    f_v6_udp(&g);
    expect_ok(1, &g, &E_V6_UDP);

    /* LCP inside the session: not IP */
    frame l = {0};
    f_eth(&l, 0x8864);
    f_be16(&l, 0x1100);
    f_be16(&l, 0x0042);
    f_be16(&l, 10);
    f_be16(&l, 0xc021);
    f_zeros(&l, 8);
    expect_res(1, &l, l.n, NAGM_DEC_NOT_IP);

    /* session header or PPP protocol cut: malformed */
    for (size_t n = 14; n < 22; n++)
        expect_res(1, &f, n, NAGM_DEC_MALFORMED);

    /* PPP_ETHER (51): the same header without Ethernet */
    frame e = {0};
    f_be16(&e, 0x1100);
    f_be16(&e, 0x0042);
    f_be16(&e, 62);
    f_be16(&e, 0x0021);
    f_v4_tcp(&e);
    expect e51 = with_lt(E_V4_TCP, 51);
    expect_ok(51, &e, &e51);
    for (size_t n = 0; n < 8; n++)
        expect_res(51, &e, n, NAGM_DEC_MALFORMED);

    /* a discovery frame (code 0x09, PADI) carries tags, not PPP */
    frame d = {0};
    f_be16(&d, 0x1109);
    f_be16(&d, 0x0000);
    f_be16(&d, 4);
    f_be16(&d, 0x0021); /* a tag type that happens to read as IPv4 */
    f_v4_tcp(&d);
    expect_res(51, &d, d.n, NAGM_DEC_NOT_IP);
}

/* ---- PPP ------------------------------------------------------------------- */

static void test_ppp(void **state)
{
    (void)state;
    static const uint32_t lts[] = {9, 50};
    for (size_t k = 0; k < 2; k++) {
        uint32_t lt = lts[k];
        expect e4 = with_lt(E_V4_TCP, (uint16_t)lt);
        expect e6 = with_lt(E_V6_UDP, (uint16_t)lt);

        /* FF 03 00 21 */
        frame a = {0};
        f_u8(&a, 0xff);
        f_u8(&a, 0x03);
        f_be16(&a, 0x0021);
        f_v4_tcp(&a);
        expect_ok(lt, &a, &e4);

        /* no address/control: 00 57 */
        frame b = {0};
        f_be16(&b, 0x0057);
        f_v6_udp(&b);
        expect_ok(lt, &b, &e6);

        /* protocol-field compression without address/control: 21 */
        frame c = {0};
        f_u8(&c, 0x21);
        f_v4_tcp(&c);
        expect_ok(lt, &c, &e4);

        /* FF 03 then compressed 57 */
        frame d = {0};
        f_u8(&d, 0xff);
        f_u8(&d, 0x03);
        f_u8(&d, 0x57);
        f_v6_udp(&d);
        expect_ok(lt, &d, &e6);

        /* LCP (c0 21), IPCP (80 21), compressed non-IP (0x3d MP): not IP */
        frame l = {0};
        f_u8(&l, 0xff);
        f_u8(&l, 0x03);
        f_be16(&l, 0xc021);
        f_zeros(&l, 10);
        expect_res(lt, &l, l.n, NAGM_DEC_NOT_IP);
        frame i = {0};
        f_be16(&i, 0x8021);
        f_zeros(&i, 10);
        expect_res(lt, &i, i.n, NAGM_DEC_NOT_IP);
        frame m = {0};
        f_u8(&m, 0x3d);
        f_zeros(&m, 10);
        expect_res(lt, &m, m.n, NAGM_DEC_NOT_IP);

        /* cut before the protocol is known: malformed */
        expect_res(lt, &a, 0, NAGM_DEC_MALFORMED);
        expect_res(lt, &a, 1, NAGM_DEC_MALFORMED); /* FF */
        expect_res(lt, &a, 2, NAGM_DEC_MALFORMED); /* FF 03 */
        expect_res(lt, &a, 3, NAGM_DEC_MALFORMED); /* FF 03 00 */
        expect_res(lt, &b, 1, NAGM_DEC_MALFORMED); /* 00 */
        /* protocol known, IP header cut: malformed */
        expect_res(lt, &a, 4 + 19, NAGM_DEC_MALFORMED);
        expect_res(lt, &a, 4 + 20, NAGM_DEC_OK);
    }
}

/* ---- BSD loopback ---------------------------------------------------------- */

static void test_null_loop(void **state)
{
    (void)state;
    expect e4 = with_lt(E_V4_TCP, 0);
    expect e6 = with_lt(E_V6_UDP, 0);

    /* little-endian writer, AF_INET */
    frame a = {0};
    f_le32(&a, 2);
    f_v4_tcp(&a);
    expect_ok(0, &a, &e4);
    /* big-endian writer, AF_INET */
    frame b = {0};
    f_be32(&b, 2);
    f_v4_tcp(&b);
    expect_ok(0, &b, &e4);

    /* every AF_INET6 value, both byte orders */
    static const uint32_t af6[] = {10, 24, 28, 30};
    for (size_t i = 0; i < 4; i++) {
        frame c = {0};
        f_le32(&c, af6[i]);
        f_v6_udp(&c);
        expect_ok(0, &c, &e6);
        frame d = {0};
        f_be32(&d, af6[i]);
        f_v6_udp(&d);
        expect_ok(0, &d, &e6);
    }
    /* another family (AF_APPLETALK 16, AF_IPX 23 both ways): not IP */
    frame x = {0};
    f_le32(&x, 23);
    f_zeros(&x, 40);
    expect_res(0, &x, x.n, NAGM_DEC_NOT_IP);
    frame y = {0};
    f_be32(&y, 16);
    f_zeros(&y, 40);
    expect_res(0, &y, y.n, NAGM_DEC_NOT_IP);
    /* a value that does not fit in 16 bits either way is no family */
    frame z = {0};
    f_be32(&z, 0x00020002);
    f_v4_tcp(&z);
    expect_res(0, &z, z.n, NAGM_DEC_NOT_IP);
    for (size_t n = 0; n < 4; n++)
        expect_res(0, &a, n, NAGM_DEC_MALFORMED);
    expect_res(0, &a, 4, NAGM_DEC_MALFORMED);

    /* LOOP: network byte order only */
    expect l4 = with_lt(E_V4_TCP, 108);
    expect l6 = with_lt(E_V6_UDP, 108);
    frame e = {0};
    f_be32(&e, 2);
    f_v4_tcp(&e);
    expect_ok(108, &e, &l4);
    frame g = {0};
    f_be32(&g, 24);
    f_v6_udp(&g);
    expect_ok(108, &g, &l6);
    frame h = {0};
    f_be32(&h, 30);
    f_v6_udp(&h);
    expect_ok(108, &h, &l6);
    /* host-order AF_INET on LOOP reads as 0x02000000: not IP */
    expect_res(108, &a, a.n, NAGM_DEC_NOT_IP);
    for (size_t n = 0; n < 4; n++)
        expect_res(108, &e, n, NAGM_DEC_MALFORMED);
}

/* ---- Linux cooked ---------------------------------------------------------- */

static void f_sll(frame *f, uint16_t proto)
{
    f_be16(f, 0);     /* packet type: to us */
    f_be16(f, 1);     /* ARPHRD_ETHER */
    f_be16(f, 6);     /* address length */
    f_be32(f, 0x00112233);
    f_be32(f, 0x44550000);
    f_be16(f, proto);
}

static void f_sll2(frame *f, uint16_t proto)
{
    f_be16(f, proto);
    f_be16(f, 0);
    f_be32(f, 3); /* ifindex */
    f_be16(f, 1); /* ARPHRD_ETHER */
    f_u8(f, 4);   /* outgoing */
    f_u8(f, 6);
    f_be32(f, 0x00112233);
    f_be32(f, 0x44550000);
}

static void test_sll(void **state)
{
    (void)state;
    expect e4 = with_lt(E_V4_TCP, 113);
    expect e6 = with_lt(E_V6_UDP, 113);
    frame a = {0};
    f_sll(&a, 0x0800);
    f_v4_tcp(&a);
    expect_ok(113, &a, &e4);

    frame b = {0};
    f_sll(&b, 0x8100);
    f_tag(&b, 42, 0x86dd);
    f_v6_udp(&b);
    expect_ok(113, &b, &e6);

    frame c = {0};
    f_sll(&c, 0x0806);
    f_zeros(&c, 28);
    expect_res(113, &c, c.n, NAGM_DEC_NOT_IP);
    frame d = {0};
    f_sll(&d, 0x0004); /* LINUX_SLL_P_802_2 */
    f_zeros(&d, 28);
    expect_res(113, &d, d.n, NAGM_DEC_NOT_IP);
    for (size_t n = 0; n < 16; n++)
        expect_res(113, &a, n, NAGM_DEC_MALFORMED);

    expect s6 = with_lt(E_V6_UDP, 276);
    expect s4 = with_lt(E_V4_TCP, 276);
    frame e = {0};
    f_sll2(&e, 0x86dd);
    f_v6_udp(&e);
    expect_ok(276, &e, &s6);
    frame g = {0};
    f_sll2(&g, 0x88a8);
    f_tag(&g, 1, 0x8100);
    f_tag(&g, 2, 0x0800);
    f_v4_tcp(&g);
    expect_ok(276, &g, &s4);
    frame h = {0};
    f_sll2(&h, 0x000c); /* CAN */
    f_zeros(&h, 16);
    expect_res(276, &h, h.n, NAGM_DEC_NOT_IP);
    for (size_t n = 0; n < 20; n++)
        expect_res(276, &e, n, NAGM_DEC_MALFORMED);
    /* an SLL frame read as SLL2 has protocol 0 (packet type): not IP */
    expect_res(276, &a, a.n, NAGM_DEC_NOT_IP);
}

/* ---- raw IP ----------------------------------------------------------------- */

static void test_raw(void **state)
{
    (void)state;
    frame a = {0};
    f_v4_tcp(&a);
    frame b = {0};
    f_v6_udp(&b);
    static const uint32_t raw[] = {101, 12, 14};
    for (size_t i = 0; i < 3; i++) {
        expect e4 = with_lt(E_V4_TCP, (uint16_t)raw[i]);
        expect e6 = with_lt(E_V6_UDP, (uint16_t)raw[i]);
        expect_ok(raw[i], &a, &e4);
        expect_ok(raw[i], &b, &e6);
        expect_res(raw[i], &a, 0, NAGM_DEC_MALFORMED);
        expect_res(raw[i], &a, 19, NAGM_DEC_MALFORMED);
        expect_res(raw[i], &b, 39, NAGM_DEC_MALFORMED);
    }
    expect e228 = with_lt(E_V4_TCP, 228);
    expect e229 = with_lt(E_V6_UDP, 229);
    expect_ok(228, &a, &e228);
    expect_ok(229, &b, &e229);
    /* the link type fixes the version */
    expect_res(228, &b, b.n, NAGM_DEC_MALFORMED);
    frame c = {0};
    f_v4_tcp(&c);
    f_zeros(&c, 40);
    expect_res(229, &c, c.n, NAGM_DEC_MALFORMED);
    /* a version that is neither 4 nor 6 on raw IP */
    frame v = {0};
    f_v4_tcp(&v);
    v.b[0] = 0x55;
    expect_res(101, &v, v.n, NAGM_DEC_MALFORMED);
    /* no bytes at all, NULL data */
    nagm_pkt p;
    assert_int_equal(nagm_decode(101, NULL, 0, &p), NAGM_DEC_MALFORMED);
    assert_int_equal(nagm_decode(1, NULL, 0, &p), NAGM_DEC_MALFORMED);
    assert_int_equal(nagm_decode(127, NULL, 0, &p), NAGM_DEC_LINK_UNSUPPORTED);
}

/* ---- IPv4 header checks ------------------------------------------------------ */

static void test_ipv4_options_and_ihl(void **state)
{
    (void)state;
    expect e = with_lt(E_V4_TCP, 101);
    /* IHL 6 and 15: ports come from after the options */
    static const uint8_t ihls[] = {6, 8, 15};
    for (size_t i = 0; i < 3; i++) {
        frame f = {0};
        f_ipv4_ihl(&f, ihls[i], 6, (uint16_t)(ihls[i] * 4 + 20), 0, 64);
        f_tcp(&f, 40000, 443, 0x02);
        e.len = (uint32_t)ihls[i] * 4 + 20;
        expect_ok(101, &f, &e);
        /* the options are part of the header agm.md requires */
        expect_res(101, &f, (size_t)ihls[i] * 4 - 1, NAGM_DEC_MALFORMED);
        nagm_pkt p;
        assert_int_equal(dec(101, &f, (size_t)ihls[i] * 4, &p), NAGM_DEC_OK);
        assert_int_equal(p.l4_trunc, 1);
        assert_int_equal(p.dst_port, 0);
    }
    /* IHL < 5 */
    for (uint8_t ihl = 0; ihl < 5; ihl++) {
        frame f = {0};
        f_ipv4_ihl(&f, 5, 6, 40, 0, 64);
        f_tcp(&f, 1, 2, 0x10);
        f.b[0] = (uint8_t)(0x40 | ihl);
        expect_res(101, &f, f.n, NAGM_DEC_MALFORMED);
        expect_res(228, &f, f.n, NAGM_DEC_MALFORMED);
    }
    /* IHL 15 claims 60 bytes; only 40 captured */
    frame g = {0};
    f_ipv4_ihl(&g, 5, 6, 40, 0, 64);
    f_tcp(&g, 1, 2, 0x10);
    g.b[0] = 0x4f;
    expect_res(101, &g, g.n, NAGM_DEC_MALFORMED);
    /* truncated 20-byte header at every length */
    for (size_t n = 1; n < 20; n++)
        expect_res(228, &g, n, NAGM_DEC_MALFORMED);
}

static void test_len_from_header(void **state)
{
    (void)state;
    /* 1500-byte packet captured with a 54-byte snaplen */
    frame f = {0};
    f_eth(&f, 0x0800);
    f_ipv4(&f, 6, 1500, 128);
    f_tcp(&f, 51000, 80, 0x18);
    nagm_pkt p;
    assert_int_equal(dec_all(1, &f, &p), NAGM_DEC_OK);
    assert_int_equal(p.len, 1500);
    assert_int_equal(p.ttl, 128);
    assert_int_equal(p.flags, 0x18);

    /* IPv6: 40 + payload length, even with only the header captured */
    frame g = {0};
    f_eth(&g, 0x86dd);
    f_ipv6(&g, 6, 1460, 57);
    f_tcp(&g, 443, 51000, 0x10);
    assert_int_equal(dec(1, &g, 14 + 40, &p), NAGM_DEC_OK);
    assert_int_equal(p.len, 1500);
    assert_int_equal(p.l4_trunc, 1);
    assert_int_equal(p.ttl, 57);

    /* a total length of 0 (TSO) is reported as is; it does not cut the L4
     * bytes (decision: L4 bytes are the captured bytes after the header) */
    frame h = {0};
    f_ipv4(&h, 6, 0, 64);
    f_tcp(&h, 40000, 443, 0x02);
    expect e = with_lt(E_V4_TCP, 101);
    e.len = 0;
    expect_ok(101, &h, &e);

    /* Ethernet padding after a short UDP packet changes nothing */
    frame u = {0};
    f_eth(&u, 0x0800);
    f_ipv4(&u, 17, 28, 1);
    f_udp(&u, 67, 68);
    f_zeros(&u, 60 - u.n);
    assert_int_equal(dec_all(1, &u, &p), NAGM_DEC_OK);
    assert_int_equal(p.len, 28);
    assert_int_equal(p.src_port, 67);
    assert_int_equal(p.dst_port, 68);
    assert_int_equal(p.l4_trunc, 0);
}

/* ---- IPv6 extension headers -------------------------------------------------- */

static void test_ipv6_each_extension(void **state)
{
    (void)state;
    /* 0, 43, 60, 135, 139, 140: (len+1)*8 bytes; try two lengths each */
    static const uint8_t gen[] = {0, 43, 60, 135, 139, 140};
    for (size_t i = 0; i < 6; i++) {
        for (uint8_t hl = 0; hl < 3; hl += 2) {
            frame f = {0};
            uint16_t plen = (uint16_t)((hl + 1) * 8 + 20);
            f_ipv6(&f, gen[i], plen, 64);
            f_ext(&f, 6, hl);
            f_tcp(&f, 22, 50000, 0x11);
            expect e = {6, 6, 64, 0x11, 0, 40u + plen, 22, 50000, 229};
            expect_ok(229, &f, &e);
        }
    }
    /* AH: (len+2)*4 bytes (len 4 -> 24 bytes) */
    frame a = {0};
    f_ipv6(&a, 51, 24 + 8, 64);
    f_ah(&a, 17, 4);
    f_udp(&a, 500, 4500);
    expect ea = {6, 17, 64, 0, 0, 72, 500, 4500, 229};
    expect_ok(229, &a, &ea);
    /* an AH length of 1 is 12 bytes, which the (len+1)*8 rule would get wrong */
    frame a1 = {0};
    f_ipv6(&a1, 51, 12 + 8, 64);
    f_ah(&a1, 17, 1);
    f_udp(&a1, 501, 4501);
    expect ea1 = {6, 17, 64, 0, 0, 60, 501, 4501, 229};
    expect_ok(229, &a1, &ea1);

    /* fragment header, first fragment (offset 0, M=1): L4 is there */
    frame g = {0};
    f_ipv6(&g, 44, 8 + 20, 64);
    f_frag6(&g, 6, 0, 1);
    f_tcp(&g, 1234, 80, 0x02);
    expect eg = {6, 6, 64, 0x02, 0, 68, 1234, 80, 229};
    expect_ok(229, &g, &eg);

    /* a chain: HBH -> Routing -> Fragment(first) -> DstOpts -> AH -> ICMPv6 */
    frame c = {0};
    f_ipv6(&c, 0, 100, 1);
    f_ext(&c, 43, 0);
    f_ext(&c, 44, 1);
    f_frag6(&c, 60, 0, 1);
    f_ext(&c, 51, 0);
    f_ah(&c, 58, 2);
    f_icmp(&c, 128, 0);
    expect ec = {6, 58, 1, 0, 0, 140, 0, 128 * 256, 229};
    expect_ok(229, &c, &ec);

    /* not walked: ESP (50), No Next Header (59), an unlisted value (253) */
    static const uint8_t upper[] = {50, 59, 253, 47};
    for (size_t i = 0; i < 4; i++) {
        frame u = {0};
        f_ipv6(&u, 0, 8 + 16, 64);
        f_ext(&u, upper[i], 0);
        f_zeros(&u, 16);
        expect eu = {6, upper[i], 64, 0, 0, 64, 0, 0, 229};
        expect_ok(229, &u, &eu);
    }
}

static void test_ipv6_chain_cut(void **state)
{
    (void)state;
    /* HBH of 16 bytes, then TCP. Cut anywhere inside HBH: proto 0 */
    frame f = {0};
    f_ipv6(&f, 0, 16 + 20, 64);
    f_ext(&f, 6, 1);
    f_tcp(&f, 22, 50000, 0x11);
    for (size_t n = 40; n < 56; n++) {
        nagm_pkt p;
        assert_int_equal(dec(229, &f, n, &p), NAGM_DEC_OK);
        expect e = {6, 0, 64, 0, 1, 76, 0, 0, 229};
        check(&p, &e);
    }
    /* HBH complete, TCP cut: the ordinary L4 rules */
    for (size_t n = 56; n <= f.n; n++) {
        nagm_pkt p;
        assert_int_equal(dec(229, &f, n, &p), NAGM_DEC_OK);
        size_t l4 = n - 56;
        expect e = {6, 6, 64, l4 >= 14 ? 0x11 : 0, l4 < 14, 76, l4 >= 4 ? 22 : 0,
                    l4 >= 4 ? 50000 : 0, 229};
        check(&p, &e);
    }
    /* Routing -> Fragment: cut inside the fragment header gives proto 44 */
    frame g = {0};
    f_ipv6(&g, 43, 8 + 8 + 8, 64);
    f_ext(&g, 44, 0);
    f_frag6(&g, 17, 0, 1);
    f_udp(&g, 1, 2);
    for (size_t n = 48; n < 56; n++) {
        nagm_pkt p;
        assert_int_equal(dec(229, &g, n, &p), NAGM_DEC_OK);
        expect e = {6, 44, 64, 0, 1, 64, 0, 0, 229};
        check(&p, &e);
    }
    /* AH cut */
    frame a = {0};
    f_ipv6(&a, 51, 24 + 8, 64);
    f_ah(&a, 17, 4);
    f_udp(&a, 500, 4500);
    for (size_t n = 40; n < 64; n++) {
        nagm_pkt p;
        assert_int_equal(dec(229, &a, n, &p), NAGM_DEC_OK);
        assert_int_equal(p.proto, 51);
        assert_int_equal(p.l4_trunc, 1);
    }
    /* An extension header claiming more than the frame holds (len 255 =
     * 2048 bytes) is a cut chain, not a read past the end */
    frame h = {0};
    f_ipv6(&h, 60, 100, 64);
    f_ext(&h, 6, 0);
    h.b[41] = 255;
    f_tcp(&h, 1, 2, 3);
    nagm_pkt p;
    assert_int_equal(dec_all(229, &h, &p), NAGM_DEC_OK);
    assert_int_equal(p.proto, 60);
    assert_int_equal(p.l4_trunc, 1);
}

/* ---- fragments ------------------------------------------------------------- */

static void test_fragments(void **state)
{
    (void)state;
    nagm_pkt p;
    /* IPv4 first fragment: MF set, offset 0 */
    frame a = {0};
    f_ipv4_ihl(&a, 5, 17, 1500, 0x2000, 64);
    f_udp(&a, 4000, 53);
    assert_int_equal(dec_all(101, &a, &p), NAGM_DEC_OK);
    assert_int_equal(p.proto, 17);
    assert_int_equal(p.src_port, 4000);
    assert_int_equal(p.dst_port, 53);
    assert_int_equal(p.l4_trunc, 0);

    /* IPv4 non-first fragment (offset 185*8), TCP-looking bytes after it */
    frame b = {0};
    f_ipv4_ihl(&b, 5, 6, 500, 0x20b9, 64);
    f_tcp(&b, 40000, 443, 0x02);
    assert_int_equal(dec_all(101, &b, &p), NAGM_DEC_OK);
    assert_int_equal(p.proto, 6);
    assert_int_equal(p.src_port, 0);
    assert_int_equal(p.dst_port, 0);
    assert_int_equal(p.flags, 0);
    assert_int_equal(p.l4_trunc, 0);
    assert_int_equal(p.len, 500);
    /* ... and with no bytes after the header it is still not truncated */
    assert_int_equal(dec(101, &b, 20, &p), NAGM_DEC_OK);
    assert_int_equal(p.l4_trunc, 0);
    /* last fragment: MF clear, offset 1 */
    frame c = {0};
    f_ipv4_ihl(&c, 5, 1, 28, 0x0001, 64);
    f_icmp(&c, 8, 0);
    assert_int_equal(dec_all(101, &c, &p), NAGM_DEC_OK);
    assert_int_equal(p.dst_port, 0);
    assert_int_equal(p.l4_trunc, 0);
    /* DF and the reserved bit are not an offset */
    frame d = {0};
    f_ipv4_ihl(&d, 5, 1, 28, 0xc000, 64);
    f_icmp(&d, 8, 0);
    assert_int_equal(dec_all(101, &d, &p), NAGM_DEC_OK);
    assert_int_equal(p.dst_port, 0x0800);

    /* IPv6 non-first fragment: proto named by the fragment header */
    frame e = {0};
    f_ipv6(&e, 44, 8 + 100, 64);
    f_frag6(&e, 17, 181, 1);
    f_udp(&e, 4000, 53);
    assert_int_equal(dec_all(229, &e, &p), NAGM_DEC_OK);
    assert_int_equal(p.proto, 17);
    assert_int_equal(p.src_port, 0);
    assert_int_equal(p.dst_port, 0);
    assert_int_equal(p.l4_trunc, 0);
    assert_int_equal(p.len, 148);
    /* ... even when that header is an extension header */
    frame g = {0};
    f_ipv6(&g, 0, 8 + 8 + 100, 64);
    f_ext(&g, 44, 0);
    f_frag6(&g, 60, 1, 0);
    f_ext(&g, 6, 0);
    f_tcp(&g, 1, 2, 3);
    assert_int_equal(dec_all(229, &g, &p), NAGM_DEC_OK);
    assert_int_equal(p.proto, 60);
    assert_int_equal(p.src_port, 0);
    assert_int_equal(p.flags, 0);
    assert_int_equal(p.l4_trunc, 0);
    /* IPv6 first fragment with M=0 and offset 0 (atomic fragment) */
    frame h = {0};
    f_ipv6(&h, 44, 8 + 20, 64);
    f_frag6(&h, 6, 0, 0);
    f_tcp(&h, 7, 8, 0x04);
    assert_int_equal(dec_all(229, &h, &p), NAGM_DEC_OK);
    assert_int_equal(p.src_port, 7);
    assert_int_equal(p.flags, 0x04);
}

/* ---- L4 ------------------------------------------------------------------------ */

static void test_icmp_convention(void **state)
{
    (void)state;
    nagm_pkt p;
    static const struct {
        int v6;
        uint8_t type, code;
        uint16_t dp;
    } cases[] = {
        {0, 8, 0, 2048}, {0, 0, 0, 0}, {0, 3, 3, 771}, {0, 11, 1, 2817},
        {1, 128, 0, 32768}, {1, 129, 0, 33024}, {1, 1, 4, 260}, {1, 135, 0, 34560},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        frame f = {0};
        if (cases[i].v6)
            f_ipv6(&f, 58, 8, 255);
        else
            f_ipv4(&f, 1, 28, 64);
        f_icmp(&f, cases[i].type, cases[i].code);
        uint32_t lt = cases[i].v6 ? 229 : 228;
        assert_int_equal(dec_all(lt, &f, &p), NAGM_DEC_OK);
        assert_int_equal(p.src_port, 0);
        assert_int_equal(p.dst_port, cases[i].dp);
        assert_int_equal(p.flags, 0);
        assert_int_equal(p.l4_trunc, 0);
        /* fewer than 4 L4 bytes: the port is zeroed and marked */
        size_t hdr = cases[i].v6 ? 40 : 20;
        for (size_t n = hdr; n < hdr + 4; n++) {
            assert_int_equal(dec(lt, &f, n, &p), NAGM_DEC_OK);
            assert_int_equal(p.dst_port, 0);
            assert_int_equal(p.l4_trunc, 1);
        }
    }
}

static void test_tcp_flags(void **state)
{
    (void)state;
    static const uint8_t flags[] = {0x02, 0x12, 0x10, 0x18, 0x11, 0x04,
                                    0x14, 0xc2, 0x29, 0xff, 0x00};
    for (size_t i = 0; i < sizeof flags; i++) {
        frame f = {0};
        f_eth(&f, 0x0800);
        f_ipv4(&f, 6, 40, 64);
        f_tcp(&f, 40000, 443, flags[i]);
        expect e = E_V4_TCP;
        e.len = 40;
        e.flags = flags[i];
        expect_ok(1, &f, &e);
    }
    /* UDP bytes that would be "flags" in TCP are not flags */
    frame u = {0};
    f_ipv4(&u, 17, 60, 64);
    f_udp(&u, 1, 2);
    f_be32(&u, 0xffffffff);
    f_be32(&u, 0xffffffff);
    nagm_pkt p;
    assert_int_equal(dec_all(101, &u, &p), NAGM_DEC_OK);
    assert_int_equal(p.flags, 0);
}

static void test_truncation_boundaries(void **state)
{
    (void)state;
    nagm_pkt p;
    /* TCP over v4 and v6: 0..20 L4 bytes */
    for (int v6 = 0; v6 < 2; v6++) {
        frame f = {0};
        if (v6)
            f_ipv6(&f, 6, 20, 64);
        else
            f_ipv4(&f, 6, 40, 64);
        f_tcp(&f, 0x1234, 0xabcd, 0x5a);
        size_t hdr = v6 ? 40 : 20;
        uint32_t lt = v6 ? 229 : 228;
        for (size_t l4 = 0; l4 <= 20; l4++) {
            assert_int_equal(dec(lt, &f, hdr + l4, &p), NAGM_DEC_OK);
            assert_int_equal(p.proto, 6);
            assert_int_equal(p.src_port, l4 >= 4 ? 0x1234 : 0);
            assert_int_equal(p.dst_port, l4 >= 4 ? 0xabcd : 0);
            assert_int_equal(p.flags, l4 >= 14 ? 0x5a : 0);
            assert_int_equal(p.l4_trunc, l4 < 14);
        }
        /* the named boundaries */
        assert_int_equal(dec(lt, &f, hdr + 3, &p), NAGM_DEC_OK);
        assert_true(p.src_port == 0 && p.dst_port == 0 && p.flags == 0 && p.l4_trunc == 1);
        assert_int_equal(dec(lt, &f, hdr + 4, &p), NAGM_DEC_OK);
        assert_true(p.src_port == 0x1234 && p.flags == 0 && p.l4_trunc == 1);
        assert_int_equal(dec(lt, &f, hdr + 13, &p), NAGM_DEC_OK);
        assert_true(p.dst_port == 0xabcd && p.flags == 0 && p.l4_trunc == 1);
        assert_int_equal(dec(lt, &f, hdr + 14, &p), NAGM_DEC_OK);
        assert_true(p.dst_port == 0xabcd && p.flags == 0x5a && p.l4_trunc == 0);
    }
    /* the other port protocols need 4 bytes, never 14 */
    static const uint8_t pp[] = {17, 132, 136, 33};
    for (size_t i = 0; i < 4; i++) {
        frame f = {0};
        f_ipv4(&f, pp[i], 40, 64);
        f_be16(&f, 5000);
        f_be16(&f, 6000);
        f_zeros(&f, 16);
        for (size_t l4 = 0; l4 <= 20; l4++) {
            assert_int_equal(dec(228, &f, 20 + l4, &p), NAGM_DEC_OK);
            assert_int_equal(p.proto, pp[i]);
            assert_int_equal(p.src_port, l4 >= 4 ? 5000 : 0);
            assert_int_equal(p.dst_port, l4 >= 4 ? 6000 : 0);
            assert_int_equal(p.flags, 0);
            assert_int_equal(p.l4_trunc, l4 < 4);
        }
    }
    /* protocols without L4 fields are never truncated: GRE, OSPF, ESP, IPIP */
    static const uint8_t np[] = {47, 89, 50, 4, 0, 255};
    for (size_t i = 0; i < sizeof np; i++) {
        frame f = {0};
        f_ipv4(&f, np[i], 40, 64);
        f_be32(&f, 0x12345678);
        f_zeros(&f, 16);
        for (size_t l4 = 0; l4 <= 20; l4++) {
            assert_int_equal(dec(228, &f, 20 + l4, &p), NAGM_DEC_OK);
            assert_int_equal(p.proto, np[i]);
            assert_int_equal(p.src_port, 0);
            assert_int_equal(p.dst_port, 0);
            assert_int_equal(p.flags, 0);
            assert_int_equal(p.l4_trunc, 0);
        }
    }
}

/* ---- link type support and names ------------------------------------------- */

static void test_unsupported_and_names(void **state)
{
    (void)state;
    frame f = {0};
    f_eth(&f, 0x0800);
    f_v4_tcp(&f);
    static const uint32_t unsup[] = {10,  105, 127, 104,   107,
                                     119, 192, 239, 277, 65535, 0x80000001u};
    for (size_t i = 0; i < sizeof unsup / sizeof unsup[0]; i++) {
        expect_res(unsup[i], &f, f.n, NAGM_DEC_LINK_UNSUPPORTED);
        assert_int_equal(nagm_linktype_supported(unsup[i]), 0);
    }
    static const uint32_t sup[] = {0, 1, 9, 12, 14, 50, 51, 101, 108, 113, 228, 229, 276};
    int nsup = 0;
    for (uint32_t lt = 0; lt < 1000; lt++)
        nsup += nagm_linktype_supported(lt);
    assert_int_equal(nsup, sizeof sup / sizeof sup[0]);
    for (size_t i = 0; i < sizeof sup / sizeof sup[0]; i++)
        assert_int_equal(nagm_linktype_supported(sup[i]), 1);

    assert_string_equal(nagm_dec_result_name(NAGM_DEC_OK), "ok");
    assert_string_equal(nagm_dec_result_name(NAGM_DEC_LINK_UNSUPPORTED), "link_unsupported");
    assert_string_equal(nagm_dec_result_name(NAGM_DEC_NOT_IP), "not_ip");
    assert_string_equal(nagm_dec_result_name(NAGM_DEC_MALFORMED), "malformed");
    assert_non_null(nagm_dec_result_name(NAGM_DEC_NRESULTS));

    /* libpcap's names where it has them (LINKTYPE_RAW 101 is DLT_RAW) */
    assert_string_equal(nagm_linktype_name(0), "NULL");
    assert_string_equal(nagm_linktype_name(1), "EN10MB");
    assert_string_equal(nagm_linktype_name(9), "PPP");
    assert_string_equal(nagm_linktype_name(50), "PPP_SERIAL");
    assert_string_equal(nagm_linktype_name(51), "PPP_ETHER");
    assert_string_equal(nagm_linktype_name(101), "RAW");
    assert_string_equal(nagm_linktype_name(12), "RAW");
    assert_string_equal(nagm_linktype_name(14), "RAW");
    assert_string_equal(nagm_linktype_name(105), "IEEE802_11");
    assert_string_equal(nagm_linktype_name(108), "LOOP");
    assert_string_equal(nagm_linktype_name(113), "LINUX_SLL");
    assert_string_equal(nagm_linktype_name(127), "IEEE802_11_RADIO");
    assert_string_equal(nagm_linktype_name(228), "IPV4");
    assert_string_equal(nagm_linktype_name(229), "IPV6");
    assert_string_equal(nagm_linktype_name(276), "LINUX_SLL2");
    /* the fallback, stable across calls */
    assert_string_equal(nagm_linktype_name(999), "LINKTYPE_999");
    assert_ptr_equal(nagm_linktype_name(999), nagm_linktype_name(999));
    assert_string_equal(nagm_linktype_name(123456), "LINKTYPE_123456");
    assert_ptr_equal(nagm_linktype_name(123456), nagm_linktype_name(123456));
    assert_string_equal(nagm_linktype_name(0xffffffffu), "LINKTYPE_4294967295");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ethernet_v4_v6),
        cmocka_unit_test(test_ethernet_not_ip_and_truncated),
        cmocka_unit_test(test_ethernet_version_mismatch),
        cmocka_unit_test(test_vlan),
        cmocka_unit_test(test_mpls),
        cmocka_unit_test(test_pppoe),
        cmocka_unit_test(test_ppp),
        cmocka_unit_test(test_null_loop),
        cmocka_unit_test(test_sll),
        cmocka_unit_test(test_raw),
        cmocka_unit_test(test_ipv4_options_and_ihl),
        cmocka_unit_test(test_len_from_header),
        cmocka_unit_test(test_ipv6_each_extension),
        cmocka_unit_test(test_ipv6_chain_cut),
        cmocka_unit_test(test_fragments),
        cmocka_unit_test(test_icmp_convention),
        cmocka_unit_test(test_tcp_flags),
        cmocka_unit_test(test_truncation_boundaries),
        cmocka_unit_test(test_unsupported_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
