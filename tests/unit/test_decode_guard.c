/* Guard-page test of the frame decoder on real packets (after
 * picohttpparser's test.c): every packet of several captures, cut at every
 * length, is placed so that its last byte sits right before a PROT_NONE
 * page. A read of one byte past the captured end faults, with or without
 * ASan.
 *
 * It also checks a property that can fail: cutting a packet never changes
 * what the decoder reports, it can only take away. For each cut length L:
 *  - OK at L implies OK at every longer length (and for the full packet);
 *  - src, dst, ttl, len are those of the full packet; so is proto, except
 *    when an IPv6 extension-header chain is cut (then proto is the type of
 *    the cut header and the packet is l4_truncated);
 *  - src_port, dst_port and flags are those of the full packet, or 0 with
 *    l4_trunc set; a full packet that is l4_truncated stays so.
 * The captures come from $NETAGM_PCAPS and are read with libpcap directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "netagm/decode.h"

enum {
    MAX_PKTS = 200,         /* packets per capture */
    EVERY_LEN_UP_TO = 4096, /* all cut lengths up to this; sparser beyond */
    SPARSE_STEP = 61,
    REGION = 1 << 20, /* largest caplen placed before the guard */
};

/* Each capture with the link type it must report and the number of its
 * first MAX_PKTS packets that decode as OK in full: tshark's count of frames
 * whose protocol stack holds ip or ipv6 (`tshark -r F -c 200 -T fields
 * -e frame.protocols`), so the test cannot pass on a capture the decoder
 * silently rejects. One deliberate difference: LINKTYPE_IPV4_invalid.pcap
 * holds an IPv6 packet on LINKTYPE_IPV4, which tshark decodes by its version
 * nibble (1) and agm.md's IPv4 checks reject (0). Other zeros are real:
 * ARP in QinQ, PPPoE LCP echoes, an unknown PPP protocol. */
static const struct capture {
    const char *path;
    uint32_t linktype;
    int ok;
} captures[] = {
    /* Ethernet: VLAN, QinQ, MPLS, PPPoE, IPv6 extension headers, fragments */
    {"LibtraceTeam__libtrace/test/traces/vlan.pcap", 1, 116},
    {"the-tcpdump-group__tcpdump/tests/802.1ad_QinQ.pcap", 1, 0},
    {"LibtraceTeam__libtrace/test/traces/10_mpls_ip.pcap", 1, 10},
    {"arkime__arkime/tests/pcap/mpls-basic.pcap", 1, 52},
    {"arkime__arkime/tests/pcap/pppoe.pcap", 1, 10},
    {"the-tcpdump-group__libpcap/tests/filter/pppoes.pcap", 1, 0},
    {"the-tcpdump-group__libpcap/tests/filter/ipv6_ext_headers.pcap", 1, 1},
    {"the-tcpdump-group__libpcap/tests/filter/AH-IPcomp-IPv6.pcap", 1, 15},
    {"chrissanders__packets/ipv6_fragments.pcapng", 1, 22},
    {"markofu__pcaps/PracticalPacketAnalysis/ppa-capture-files/ipfragments.pcap", 1, 24},
    {"the-tcpdump-group__tcpdump/tests/bigtcp-ipv6-hbh.pcap", 1, 1},
    {"dotpcap__sharppcap/Test/capture_files/arp_with_vlan.pcap", 1, 0},
    /* Linux cooked v1 and v2 */
    {"LibtraceTeam__libtrace/test/traces/sll.pcap", 113, 100},
    {"zeek__zeek/testing/btest/Traces/linux_dlt_sll2.pcap", 276, 4},
    {"zeek__zeek/testing/btest/Traces/tls/openjdk-25.0.2-zeek.org.pcap", 276, 6},
    /* BSD loopback */
    {"google__gopacket/pcap/test_loopback.pcap", 0, 24},
    {"RIPE-NCC__hadoop-pcap/hadoop-pcap-lib/src/test/resources/test-ipv6.pcap", 0, 1},
    /* raw IP */
    {"zeek__zeek/testing/btest/Traces/rotation.pcap", 101, 20},
    {"the-tcpdump-group__tcpdump/tests/LINKTYPE_RAW_ipv6.pcap", 101, 1},
    {"arkime__arkime/tests/pcap/mqtt_synthetic.pcap", 228, 63},
    {"the-tcpdump-group__tcpdump/tests/LINKTYPE_IPV4_invalid.pcap", 228, 0},
    {"the-tcpdump-group__tcpdump/tests/ipv6_mobility_1.pcap", 229, 16},
    {"the-tcpdump-group__tcpdump/tests/LINKTYPE_IPV6.pcap", 229, 1},
    /* PPP */
    {"zeek__zeek/testing/btest/Traces/ppp/quic-interop-retry.pcap", 9, 26},
    {"kaitoy__pcap4j/pcap4j-packettest/src/test/resources/HdlcPppPacketTest.pcap", 9, 1},
    {"the-tcpdump-group__tcpdump/tests/ppp_ip_udp_dns.pcap", 50, 0},
};

static uint8_t *g_region; /* REGION writable bytes, then one PROT_NONE page */
static size_t g_page;

static int setup(void **state)
{
    (void)state;
    g_page = (size_t)sysconf(_SC_PAGESIZE);
    void *m = mmap(NULL, REGION + g_page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (m == MAP_FAILED)
        return -1;
    g_region = m;
    if (mprotect(g_region + REGION, g_page, PROT_NONE) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    munmap(g_region, REGION + g_page);
    return 0;
}

/* The libpcap DLT_ value as a LINKTYPE_ value, for the types used here. */
static uint32_t linktype_of(int dlt)
{
    return (dlt == 12 || dlt == 14) ? 101u : (uint32_t)dlt;
}

/* Decode the first len bytes of pkt placed right before the guard page. */
static nagm_dec_result decode_guarded(uint32_t lt, const uint8_t *pkt, uint32_t len, nagm_pkt *out)
{
    uint8_t *dst = g_region + REGION - len;
    memcpy(dst, pkt, len);
    memset(out, 0x5a, sizeof *out);
    return nagm_decode(lt, len ? dst : g_region + REGION, len, out);
}

static int is_v6_ext(uint8_t p)
{
    return p == 0 || p == 43 || p == 44 || p == 60 || p == 51 || p == 135 || p == 139 ||
           p == 140;
}

static void check_sane(const nagm_pkt *p, uint32_t lt)
{
    static const uint8_t zero[12];
    assert_true(p->src.family == 4 || p->src.family == 6);
    assert_int_equal(p->src.family, p->dst.family);
    if (p->src.family == 4) {
        assert_memory_equal(p->src.b + 4, zero, 12);
        assert_memory_equal(p->dst.b + 4, zero, 12);
    }
    assert_true(p->l4_trunc == 0 || p->l4_trunc == 1);
    assert_int_equal(p->linktype, lt);
    if (p->proto != 6)
        assert_int_equal(p->flags, 0);
}

static void check_cut(const nagm_pkt *cut, const nagm_pkt *full, const char *where)
{
    int ok = nagm_addr_cmp(&cut->src, &full->src) == 0 &&
             nagm_addr_cmp(&cut->dst, &full->dst) == 0 && cut->ttl == full->ttl &&
             cut->len == full->len;
    if (cut->proto != full->proto)
        ok = ok && full->src.family == 6 && is_v6_ext(cut->proto) && cut->l4_trunc &&
             cut->src_port == 0 && cut->dst_port == 0 && cut->flags == 0;
    ok = ok && (cut->src_port == full->src_port || (cut->src_port == 0 && cut->l4_trunc));
    ok = ok && (cut->dst_port == full->dst_port || (cut->dst_port == 0 && cut->l4_trunc));
    ok = ok && (cut->flags == full->flags || (cut->flags == 0 && cut->l4_trunc));
    ok = ok && (!full->l4_trunc || cut->l4_trunc);
    if (!ok)
        fail_msg("%s: cut packet disagrees with the full one (proto %u/%u ports %u,%u/%u,%u "
                 "flags %u/%u trunc %u/%u ttl %u/%u len %u/%u)",
                 where, cut->proto, full->proto, cut->src_port, cut->dst_port, full->src_port,
                 full->dst_port, cut->flags, full->flags, cut->l4_trunc, full->l4_trunc,
                 cut->ttl, full->ttl, cut->len, full->len);
}

static int same_fields(const nagm_pkt *a, const nagm_pkt *b)
{
    return nagm_addr_cmp(&a->src, &b->src) == 0 && nagm_addr_cmp(&a->dst, &b->dst) == 0 &&
           a->len == b->len && a->src_port == b->src_port && a->dst_port == b->dst_port &&
           a->linktype == b->linktype && a->proto == b->proto && a->ttl == b->ttl &&
           a->flags == b->flags && a->l4_trunc == b->l4_trunc;
}

/* Next cut length after len (every length up to EVERY_LEN_UP_TO, sparser
 * beyond, and always caplen itself). */
static uint32_t next_len(uint32_t len, uint32_t caplen)
{
    uint32_t n = len < EVERY_LEN_UP_TO ? len + 1 : len + SPARSE_STEP;
    return (n > caplen && len < caplen) ? caplen : n;
}

static void run_capture(const char *dir, const struct capture *cap, long *ncuts)
{
    char path[4096], errbuf[PCAP_ERRBUF_SIZE];
    snprintf(path, sizeof path, "%s/%s", dir, cap->path);
    pcap_t *pc = pcap_open_offline(path, errbuf);
    if (!pc)
        fail_msg("%s: %s", path, errbuf);
    uint32_t lt = linktype_of(pcap_datalink(pc));
    if (lt != cap->linktype)
        fail_msg("%s: link type %u, expected %u", cap->path, lt, cap->linktype);

    struct pcap_pkthdr *h;
    const u_char *bytes;
    int npkts = 0, nok = 0, rc;
    while (npkts < MAX_PKTS && (rc = pcap_next_ex(pc, &h, &bytes)) == 1) {
        npkts++;
        uint32_t caplen = h->caplen;
        assert_true(caplen <= REGION);
        nagm_pkt full;
        memset(&full, 0, sizeof full);
        nagm_dec_result rfull = nagm_decode(lt, bytes, caplen, &full);
        if (rfull == NAGM_DEC_OK) {
            nok++;
            check_sane(&full, lt);
        }

        int seen_ok = 0;
        for (uint32_t len = 0; len <= caplen; len = next_len(len, caplen)) {
            nagm_pkt cut;
            nagm_dec_result r = decode_guarded(lt, bytes, len, &cut);
            (*ncuts)++;
            char where[256];
            snprintf(where, sizeof where, "%s packet %d cut at %u of %u", cap->path, npkts, len,
                     caplen);
            if (r >= NAGM_DEC_NRESULTS)
                fail_msg("%s: result %d out of range", where, (int)r);
            if (seen_ok && r != NAGM_DEC_OK)
                fail_msg("%s: %s after OK at a shorter length", where, nagm_dec_result_name(r));
            if (r == NAGM_DEC_LINK_UNSUPPORTED)
                fail_msg("%s: supported link type reported unsupported", where);
            if (r != NAGM_DEC_OK)
                continue;
            seen_ok = 1;
            if (rfull != NAGM_DEC_OK)
                fail_msg("%s: OK, but the full packet is %s", where,
                         nagm_dec_result_name(rfull));
            check_sane(&cut, lt);
            check_cut(&cut, &full, where);
            /* the same bytes decode the same wherever they sit */
            if (len == caplen && !same_fields(&cut, &full))
                fail_msg("%s: full-length decode differs by placement", where);
        }
        if ((rfull == NAGM_DEC_OK) != seen_ok)
            fail_msg("%s packet %d: full decode and guarded decode disagree", cap->path, npkts);
    }
    pcap_close(pc);
    printf("  %-78.78s lt %3u pkts %3d ok %3d\n", cap->path, lt, npkts, nok);
    if (npkts == 0)
        fail_msg("%s: no packets read", cap->path);
    if (nok != cap->ok)
        fail_msg("%s: %d packets decoded OK, expected %d", cap->path, nok, cap->ok);
}

static void test_guarded_cuts(void **state)
{
    (void)state;
    const char *dir = getenv("NETAGM_PCAPS");
    if (!dir || !*dir) {
        printf("NETAGM_PCAPS not set: skipped\n");
        skip();
    }
    long ncuts = 0;
    for (size_t i = 0; i < sizeof captures / sizeof captures[0]; i++)
        run_capture(dir, &captures[i], &ncuts);
    printf("  %ld guarded decodes\n", ncuts);
}

/* The guard itself works: a read at the boundary would fault, so the
 * harness is not vacuous. Checked by decoding a frame whose link header
 * claims more than is captured: the decoder must stop at the end. */
static void test_guard_boundary_frames(void **state)
{
    (void)state;
    /* IPv6 whose Hop-by-Hop header claims 2048 bytes, ending at the guard */
    uint8_t f[48] = {0x60, 0, 0, 0, 0, 8, 0, 64};
    f[40] = 6;
    f[41] = 255;
    nagm_pkt p;
    assert_int_equal(decode_guarded(229, f, sizeof f, &p), NAGM_DEC_OK);
    assert_int_equal(p.proto, 0);
    assert_int_equal(p.l4_trunc, 1);
    /* an MPLS stack without bottom-of-stack running into the guard */
    uint8_t m[14 + 64];
    memset(m, 0, sizeof m);
    m[12] = 0x88;
    m[13] = 0x47;
    assert_int_equal(decode_guarded(1, m, sizeof m, &p), NAGM_DEC_MALFORMED);
    /* VLAN tags all the way to the guard */
    for (size_t i = 12; i + 1 < sizeof m; i += 4) {
        m[i] = 0x81;
        m[i + 1] = 0x00;
    }
    for (uint32_t len = 0; len <= sizeof m; len++)
        assert_int_not_equal(decode_guarded(1, m, len, &p), NAGM_DEC_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guard_boundary_frames),
        cmocka_unit_test(test_guarded_cuts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
