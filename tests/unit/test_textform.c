/* The hand-written text forms of addresses, timestamps and integers against
 * glibc: inet_ntop for addresses (RFC 5952 as glibc writes it), gmtime_r +
 * strftime for timestamps, snprintf for integers. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "netagm/pkt.h"
#include "util/fmt.h"
#include "xorshift.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next_rand(void) { return xorshift64(&rng); }

static void check_addr(const nagm_addr *a)
{
    char ours[NAGM_ADDR_STRLEN], ref[INET6_ADDRSTRLEN];
    size_t n = nagm_addr_format(a, ours);
    assert_non_null(inet_ntop(a->family == 6 ? AF_INET6 : AF_INET, a->b, ref, sizeof ref));
    if (strcmp(ours, ref) != 0)
        fail_msg("ours %s, inet_ntop %s", ours, ref);
    assert_int_equal(n, strlen(ref));
}

static void test_ipv4_all_octets(void **state)
{
    (void)state;
    nagm_addr a = {0};
    a.family = 4;
    for (unsigned v = 0; v < 256; v++) {
        memset(a.b, (int)v, 4);
        check_addr(&a);
        a.b[0] = (uint8_t)v;
        a.b[1] = 0;
        a.b[2] = (uint8_t)(255 - v);
        a.b[3] = (uint8_t)(v / 3);
        check_addr(&a);
    }
    for (int i = 0; i < 200000; i++) {
        uint32_t r = (uint32_t)next_rand();
        memcpy(a.b, &r, 4);
        check_addr(&a);
    }
}

/* Every pattern of zero and non-zero groups (2^8), each with random group
 * values of every width, plus the v4-mapped and v4-compatible forms. */
static void test_ipv6_zero_runs(void **state)
{
    (void)state;
    nagm_addr a = {0};
    a.family = 6;
    for (unsigned mask = 0; mask < 256; mask++) {
        for (int rep = 0; rep < 64; rep++) {
            for (int g = 0; g < 8; g++) {
                unsigned v = 0;
                if (mask & (1u << g)) {
                    int width = (int)(next_rand() % 4) + 1; /* 1..4 hex digits */
                    v = (unsigned)(next_rand() & ((1u << (4 * width)) - 1));
                    if (!v)
                        v = 1;
                }
                a.b[2 * g] = (uint8_t)(v >> 8);
                a.b[2 * g + 1] = (uint8_t)v;
            }
            check_addr(&a);
        }
    }
    static const char *const fixed[] = {
        "::", "::1", "1::", "::ffff:1.2.3.4", "::1.2.3.4", "::ffff:0:1.2.3.4",
        "0:0:0:0:0:ffff:0:0", "::ffff:0.0.0.0", "::0.0.1.0", "fe80::1:0:0:1",
        "2001:db8:0:0:1:0:0:1", "1:0:0:2:0:0:0:3", "0:1:0:1:0:1:0:1", "::fffe:1.2.3.4",
    };
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) {
        assert_int_equal(inet_pton(AF_INET6, fixed[i], a.b), 1);
        check_addr(&a);
    }
    for (int i = 0; i < 200000; i++) {
        uint64_t r0 = next_rand(), r1 = next_rand();
        memcpy(a.b, &r0, 8);
        memcpy(a.b + 8, &r1, 8);
        check_addr(&a);
    }
}

static void check_ts(int64_t ns)
{
    char ours[NAGM_TS_STRLEN], ref[64];
    size_t n = nagm_ts_format(ns, ours);
    int64_t us = ns / 1000 - (ns % 1000 < 0);
    time_t secs = (time_t)(us / 1000000 - (us % 1000000 < 0));
    long frac = (long)(us - (int64_t)secs * 1000000);
    struct tm tm;
    assert_non_null(gmtime_r(&secs, &tm));
    size_t k = strftime(ref, sizeof ref, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ref + k, sizeof ref - k, ".%06ldZ", frac);
    if (strcmp(ours, ref) != 0)
        fail_msg("ts %" PRId64 ": ours %s, gmtime %s", ns, ours, ref);
    assert_int_equal(n, strlen(ref));
}

static void test_timestamps(void **state)
{
    (void)state;
    static const int64_t fixed[] = {
        0, 1, 999, 1000, -1, -1000, -1001, 999999999, 1000000000, 86399999999999,
        951782400000000000,  /* 2000-02-29 */
        4102444799999999999, /* 2099-12-31T23:59:59.999999 */
        INT64_MIN,           /* 1677-09-21, the earliest time a row can carry */
        INT64_MAX,           /* 2262-04-11, the latest */
    };
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        check_ts(fixed[i]);
    for (int i = 0; i < 200000; i++) /* 1900..2185 */
        check_ts((int64_t)(next_rand() % 9000000000000000000ull) - 2208988800000000000LL);
}

static void check_u64(uint64_t v)
{
    char ours[32], ref[32];
    memset(ours, '#', sizeof ours);
    char *e = nagm_put_u64(ours, v);
    snprintf(ref, sizeof ref, "%" PRIu64, v);
    size_t n = strlen(ref);
    if ((size_t)(e - ours) != n || memcmp(ours, ref, n) != 0 || ours[n] != '#')
        fail_msg("nagm_put_u64(%s) wrote %.*s (%d bytes)", ref, (int)(e - ours), ours,
                 (int)(e - ours));
}

static void test_integers(void **state)
{
    (void)state;
    for (uint64_t v = 0; v < 200000; v++)
        check_u64(v);
    /* every length's first and last value, and their neighbours */
    for (uint64_t p = 10; p <= 10000000000000000000ull; p *= 10) {
        check_u64(p - 2);
        check_u64(p - 1);
        check_u64(p);
        check_u64(p + 1);
        if (p > UINT64_MAX / 10)
            break;
    }
    check_u64(UINT64_MAX);
    check_u64(UINT64_MAX - 1);
    /* random values of every bit length */
    for (int i = 0; i < 1000000; i++) {
        uint64_t r = next_rand();
        check_u64(r >> (r & 63));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_all_octets),
        cmocka_unit_test(test_ipv6_zero_runs),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_integers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
