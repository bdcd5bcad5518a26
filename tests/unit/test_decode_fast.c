/* The decoder's fast path (Ethernet + IPv4 without options or fragment
 * offset + TCP/UDP, decoded in one step) against its general path: for every
 * frame, nagm_decode (which takes the fast path when it can) and dec_link
 * (the general path alone) must give the same result and the same packet
 * record, byte for byte, both written over the same filler.
 *
 * Frames: random mutations of Ethernet/IPv4 templates around every condition
 * the fast path tests (ethertype, version/IHL, fragment offset, protocol,
 * captured length), and every Ethernet frame of the corpus ($NETAGM_PCAPS).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "corpus.h"
#include "decode/dec_int.h"
#include "netagm/capture.h"
#include "netagm/decode.h"
#include "xorshift.h"

enum { LT_ETHERNET = 1 };

/* Frames whose records matched, and those among them the fast path could
 * have taken (Ethernet, IPv4 with IHL 5, no fragment offset, TCP with 14 L4
 * bytes or UDP with 4). */
typedef struct tally {
    unsigned long long frames, fast;
} tally;

static int fast_shape(const uint8_t *d, uint32_t n)
{
    if (n < 38 || d[12] != 0x08 || d[13] != 0x00 || d[14] != 0x45 ||
        (((d[20] << 8) | d[21]) & 0x1fff))
        return 0;
    return (d[23] == 6 && n >= 48) || d[23] == 17;
}

static void check_frame(const char *what, unsigned long long k, const uint8_t *d, uint32_t n,
                        tally *t)
{
    nagm_pkt a, b;
    memset(&a, 0xa5, sizeof a);
    memset(&b, 0xa5, sizeof b);
    nagm_dec_result ra = nagm_decode(LT_ETHERNET, d, n, &a);
    nagm_cur c = nagm_cur_make(d, n);
    b.linktype = LT_ETHERNET;
    nagm_dec_result rb = dec_link(LT_ETHERNET, &c, &b);
    if (ra != rb)
        fail_msg("%s %llu (%u bytes): nagm_decode %d, general path %d", what, k, n, ra, rb);
    if (ra == NAGM_DEC_OK && memcmp(&a, &b, sizeof a) != 0)
        fail_msg("%s %llu (%u bytes): the records differ (proto %u/%u ports %u/%u %u/%u "
                 "flags %u/%u len %u/%u ttl %u/%u trunc %u/%u)",
                 what, k, n, a.proto, b.proto, a.src_port, b.src_port, a.dst_port, b.dst_port,
                 a.flags, b.flags, a.len, b.len, a.ttl, b.ttl, a.l4_trunc, b.l4_trunc);
    t->frames++;
    t->fast += ra == NAGM_DEC_OK && fast_shape(d, n);
}

static void test_random(void **state)
{
    (void)state;
    static const uint16_t etypes[] = {0x0800, 0x0800, 0x0800, 0x86dd, 0x8100, 0x0806, 0x0801};
    static const uint8_t vihl[] = {0x45, 0x45, 0x45, 0x46, 0x4f, 0x44, 0x55, 0x65};
    static const uint8_t protos[] = {6, 6, 17, 17, 1, 58, 132, 136, 33, 47, 0};
    uint64_t rs = 0x2545f4914f6cdd1dull;
    uint8_t d[96];
    tally t = {0};
    for (unsigned long long k = 0; k < 1000000; k++) {
        for (size_t i = 0; i < sizeof d; i++)
            d[i] = (uint8_t)xorshift64(&rs);
        uint64_t r = xorshift64(&rs);
        uint16_t et = etypes[r % 7];
        d[12] = (uint8_t)(et >> 8);
        d[13] = (uint8_t)et;
        d[14] = vihl[(r >> 8) % 8];
        /* fragment offset 0 most of the time; the MF and DF bits vary */
        if ((r >> 16) % 4)
            d[20] &= 0xe0, d[21] = 0;
        d[23] = protos[(r >> 24) % 11];
        /* every length around the header boundaries, and some longer */
        uint32_t n = (uint32_t)((r >> 32) % 4 ? 30 + (r >> 40) % 24 : (r >> 40) % sizeof d);
        check_frame("random frame", k, d, n, &t);
    }
    print_message("random: %llu frames agree, %llu of the fast path's shape\n", t.frames,
                  t.fast);
    assert_true(t.fast > 10000);
}

static void test_corpus(void **state)
{
    (void)state;
    const char *dir;
    FILE *inv = corpus_inventory(&dir);
    char p[4096];
    char line[8192];
    tally t = {0};
    unsigned long long files = 0;
    while (fgets(line, sizeof line, inv)) {
        line[strcspn(line, "\t\n")] = '\0';
        if (snprintf(p, sizeof p, "%s/%.3000s", dir, line) >= (int)sizeof p)
            continue;
        nagm_capture *c;
        char err[NAGM_ERRBUF_SIZE];
        if (nagm_capture_open(p, &c, err) != 0)
            continue; /* the header line, and files that are not captures */
        files++;
        nagm_frame f;
        while (nagm_capture_next(c, &f) == 1)
            if (f.linktype == LT_ETHERNET)
                check_frame(line, t.frames, f.data, f.caplen, &t);
        nagm_capture_close(c);
    }
    fclose(inv);
    print_message("corpus: %llu files, %llu Ethernet frames agree, %llu of the fast path's "
                  "shape\n",
                  files, t.frames, t.fast);
    assert_true(files >= 2000);
    assert_true(t.fast >= 100000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
