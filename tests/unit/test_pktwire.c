/* Packet records on the wire: a hand-written record decodes to the fields it
 * spells out, encoding gives those bytes back, random packets round-trip,
 * and every damaged record (each short length, bad magic, another version,
 * reserved flags) is an error read strictly within its bytes (guard page). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "netagm/pktwire.h"

/* IPv4: 10.1.2.3:443 -> 192.168.0.9:51000, TCP, TTL 57, flags ACK|PSH,
 * Ethernet, ts 1700000000.123456789 s, IP length 1500, caplen 96, wire 1514,
 * L4 truncated. Written out by hand from the layout in pktwire.h. */
static const uint8_t REC4[40] = {
    0x4E, 0x01, 0x02, 0x06, 0x39, 0x18, 0x00, 0x01,  /* magic ver flags proto ttl tcp lt */
    0x17, 0x97, 0x9C, 0xFE, 0x3D, 0x85, 0xCD, 0x15,  /* ts_ns 1700000000123456789 */
    0x00, 0x00, 0x05, 0xDC,                          /* len 1500 */
    0x00, 0x00, 0x00, 0x60,                          /* caplen 96 */
    0x00, 0x00, 0x05, 0xEA,                          /* wirelen 1514 */
    0x01, 0xBB, 0xC7, 0x38,                          /* ports 443, 51000 */
    10, 1, 2, 3, 192, 168, 0, 9,                     /* src, dst */
};

static void test_hand_record(void **state)
{
    (void)state;
    nagm_pkt p;
    assert_int_equal(nagm_pktwire_decode(REC4, sizeof REC4, &p), 0);
    assert_int_equal(p.src.family, 4);
    assert_int_equal(p.dst.family, 4);
    assert_memory_equal(p.src.b, ((uint8_t[]){10, 1, 2, 3}), 4);
    assert_memory_equal(p.dst.b, ((uint8_t[]){192, 168, 0, 9}), 4);
    assert_int_equal(p.proto, 6);
    assert_int_equal(p.ttl, 57);
    assert_int_equal(p.flags, 0x18);
    assert_int_equal(p.linktype, 1);
    assert_int_equal(p.ts_ns, 1700000000123456789LL);
    assert_int_equal(p.len, 1500);
    assert_int_equal(p.caplen, 96);
    assert_int_equal(p.wirelen, 1514);
    assert_int_equal(p.src_port, 443);
    assert_int_equal(p.dst_port, 51000);
    assert_int_equal(p.l4_trunc, 1);
    uint8_t out[NAGM_PKTWIRE_MAX];
    assert_int_equal(nagm_pktwire_encode(&p, out), sizeof REC4);
    assert_memory_equal(out, REC4, sizeof REC4);
    uint8_t key[16];
    assert_int_equal(nagm_pktwire_key(&p, key), 4);
    assert_memory_equal(key, REC4 + 32, 4);
}

static void test_roundtrip_random(void **state)
{
    (void)state;
    srand(11);
    for (int i = 0; i < 20000; i++) {
        nagm_pkt p;
        memset(&p, 0, sizeof p);
        int v6 = i & 1;
        p.src.family = p.dst.family = v6 ? 6 : 4;
        for (int k = 0; k < (v6 ? 16 : 4); k++) {
            p.src.b[k] = (uint8_t)rand();
            p.dst.b[k] = (uint8_t)rand();
        }
        p.ts_ns = (int64_t)(((uint64_t)rand() << 33) ^ ((uint64_t)rand() << 2) ^
                            (i % 3 ? 0 : (uint64_t)1 << 63));
        p.len = (uint32_t)rand() * 3u;
        p.caplen = (uint32_t)rand();
        p.wirelen = (uint32_t)rand() ^ 0x80000000u;
        p.src_port = (uint16_t)rand();
        p.dst_port = (uint16_t)rand();
        p.linktype = (uint16_t)rand();
        p.proto = (uint8_t)rand();
        p.ttl = (uint8_t)rand();
        p.flags = (uint8_t)rand();
        p.l4_trunc = (uint8_t)(rand() & 1);
        uint8_t buf[NAGM_PKTWIRE_MAX];
        size_t n = nagm_pktwire_encode(&p, buf);
        assert_int_equal(n, v6 ? NAGM_PKTWIRE_V6_SIZE : NAGM_PKTWIRE_V4_SIZE);
        nagm_pkt q;
        assert_int_equal(nagm_pktwire_decode(buf, n, &q), 0);
        assert_memory_equal(&p, &q, sizeof p);
    }
    nagm_pkt bad;
    memset(&bad, 0, sizeof bad);
    uint8_t buf[NAGM_PKTWIRE_MAX];
    assert_int_equal(nagm_pktwire_encode(&bad, buf), 0); /* no address family */
}

/* Decode buf[0, n) placed right before a PROT_NONE page. */
static int decode_guarded(const uint8_t *rec, size_t n, nagm_pkt *p)
{
    long pg = sysconf(_SC_PAGESIZE);
    uint8_t *m = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                      -1, 0);
    assert_true(m != MAP_FAILED);
    assert_int_equal(mprotect(m + pg, (size_t)pg, PROT_NONE), 0);
    uint8_t *at = m + pg - n;
    memcpy(at, rec, n);
    int rc = nagm_pktwire_decode(n ? at : NULL, n, p);
    munmap(m, (size_t)pg * 2);
    return rc;
}

static void test_damaged(void **state)
{
    (void)state;
    nagm_pkt p;
    for (size_t n = 0; n < sizeof REC4; n++)
        assert_int_equal(decode_guarded(REC4, n, &p), -NAGM_PKTWIRE_ESHORT);
    assert_int_equal(decode_guarded(REC4, sizeof REC4, &p), 0);
    uint8_t r[sizeof REC4 + 8];
    memcpy(r, REC4, sizeof REC4);
    memset(r + sizeof REC4, 0xEE, 8);
    /* later revisions append fields: ignored */
    assert_int_equal(decode_guarded(r, sizeof r, &p), 0);
    assert_int_equal(p.dst_port, 51000);
    r[0] = 'X';
    assert_int_equal(decode_guarded(r, sizeof REC4, &p), -NAGM_PKTWIRE_EMAGIC);
    r[0] = NAGM_PKTWIRE_MAGIC;
    r[1] = 2;
    assert_int_equal(decode_guarded(r, sizeof REC4, &p), -NAGM_PKTWIRE_EVERSION);
    r[1] = 1;
    r[2] = 0x04;
    assert_int_equal(decode_guarded(r, sizeof REC4, &p), -NAGM_PKTWIRE_EFLAGS);
    /* the IPv6 flag on a 40-byte record: too short for two 16-byte addresses */
    r[2] = 0x01;
    assert_int_equal(decode_guarded(r, sizeof REC4, &p), -NAGM_PKTWIRE_ESHORT);
    assert_string_equal(nagm_pktwire_strerror(-NAGM_PKTWIRE_EVERSION),
                        "packet record of an unknown version");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_record),
        cmocka_unit_test(test_roundtrip_random),
        cmocka_unit_test(test_damaged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
