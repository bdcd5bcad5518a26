/* Reading AGM tables back: what the CSV and JSON Lines sinks write reads back
 * to the same rows; column order and extra columns do not matter; damaged
 * tables are refused with their line number. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "netagm/agm_read.h"
#include "netagm/sink.h"

static nagm_agm_row sample_row(int i)
{
    nagm_agm_row r;
    memset(&r, 0, sizeof r);
    r.window_start_ns = 1577836800000000000LL + (int64_t)i * 60000000000LL; /* 2020-01-01 */
    r.window_end_ns = r.window_start_ns + 60000000000LL - 1000;
    if (i % 2) {
        nagm_addr_parse("2001:db8::1", &r.src);
        nagm_addr_parse("2001:db8::ff", &r.dst_ip_mode);
    } else {
        r.src = nagm_addr_v4(0xc0000200u + (uint32_t)i);
        r.dst_ip_mode = nagm_addr_v4(0x0a000001u);
    }
    r.pkts = 100 + (uint64_t)i;
    for (int f = 0; f < NAGM_NFIELDS; f++) {
        r.uniq[f] = 1 + (uint64_t)f;
        r.mode_pkts[f] = 50 + (uint64_t)f;
    }
    r.mode[NAGM_F_SRC_PORT] = 65535;
    r.mode[NAGM_F_DST_PORT] = 443;
    r.mode[NAGM_F_TTL] = 255;
    r.mode[NAGM_F_PROTO] = 6;
    r.mode[NAGM_F_FLAGS] = 0x12;
    r.mode[NAGM_F_LEN] = 1500;
    return r;
}

static void assert_rows_equal(const nagm_agm_row *a, const nagm_agm_row *b)
{
    assert_int_equal(a->window_start_ns, b->window_start_ns);
    assert_int_equal(a->window_end_ns, b->window_end_ns);
    assert_int_equal(nagm_addr_cmp(&a->src, &b->src), 0);
    assert_int_equal(nagm_addr_cmp(&a->dst_ip_mode, &b->dst_ip_mode), 0);
    assert_int_equal(a->pkts, b->pkts);
    assert_memory_equal(a->uniq, b->uniq, sizeof a->uniq);
    assert_memory_equal(a->mode_pkts, b->mode_pkts, sizeof a->mode_pkts);
    for (int f = 1; f < NAGM_NFIELDS; f++)
        assert_int_equal(a->mode[f], b->mode[f]);
}

static void roundtrip(int json)
{
    nagm_agm_row rows[5];
    for (int i = 0; i < 5; i++)
        rows[i] = sample_row(i);
    FILE *fp = tmpfile();
    nagm_sink *s = json ? nagm_sink_jsonl_new(fp, 0) : nagm_sink_csv_new(fp, 0);
    assert_int_equal(s->write(s, rows, 5), NAGM_SINK_OK);
    assert_int_equal(s->close(s), NAGM_SINK_OK);
    rewind(fp);
    nagm_agm_row *got;
    size_t n;
    char err[NAGM_AGM_READ_ERRBUF];
    int rc = nagm_agm_read_fp(fp, "t", NAGM_FMT_AUTO, &got, &n, err);
    if (rc)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
    assert_int_equal(n, 5);
    for (int i = 0; i < 5; i++)
        assert_rows_equal(&rows[i], &got[i]);
    free(got);
    fclose(fp);
}

static void test_csv_roundtrip(void **state)
{
    (void)state;
    roundtrip(0);
}

static void test_jsonl_roundtrip(void **state)
{
    (void)state;
    roundtrip(1);
}

static int read_text(const char *text, nagm_agm_row **rows, size_t *n, char *err)
{
    FILE *fp = tmpfile();
    fputs(text, fp);
    rewind(fp);
    int rc = nagm_agm_read_fp(fp, "t.csv", NAGM_FMT_AUTO, rows, n, err);
    fclose(fp);
    return rc;
}

#define HDR                                                                                      \
    "window_start,window_end,src_ip,pkts,dst_ip_uniq,dst_ip_mode,dst_ip_mode_pkts,"              \
    "src_port_uniq,src_port_mode,src_port_mode_pkts,dst_port_uniq,dst_port_mode,"                \
    "dst_port_mode_pkts,ttl_uniq,ttl_mode,ttl_mode_pkts,proto_uniq,proto_mode,proto_mode_pkts,"  \
    "flags_uniq,flags_mode,flags_mode_pkts,len_uniq,len_mode,len_mode_pkts"
#define ROW                                                                                      \
    "2020-01-01T00:00:00.000000Z,2020-01-01T00:01:00.000000Z,10.0.0.1,3,1,10.0.0.2,3,"           \
    "1,40000,3,2,22,2,1,64,3,1,6,3,1,2,3,1,60,3"

static void test_csv_variants(void **state)
{
    (void)state;
    nagm_agm_row *rows;
    size_t n;
    char err[NAGM_AGM_READ_ERRBUF];
    /* LF line ends, a BOM, quoted fields, an extra column at the front. */
    assert_int_equal(read_text("\xEF\xBB\xBF" "extra," HDR "\n\"x,y\"," ROW "\n", &rows, &n, err),
                     0);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].pkts, 3);
    assert_int_equal(rows[0].mode[NAGM_F_DST_PORT], 22);
    assert_int_equal(rows[0].mode[NAGM_F_SRC_PORT], 40000);
    assert_int_equal(rows[0].window_start_ns, 1577836800000000000LL);
    free(rows);
    /* Header only: an empty table is not an error here. */
    assert_int_equal(read_text(HDR "\r\n", &rows, &n, err), 0);
    assert_int_equal(n, 0);
    assert_null(rows);
}

static void expect_bad(const char *text, const char *words)
{
    nagm_agm_row *rows = (nagm_agm_row *)1;
    size_t n = 7;
    char err[NAGM_AGM_READ_ERRBUF] = "";
    assert_int_equal(read_text(text, &rows, &n, err), -1);
    if (!strstr(err, words))
        fprintf(stderr, "message '%s' lacks '%s'\n", err, words);
    assert_non_null(strstr(err, words));
    assert_null(rows);
    assert_int_equal(n, 0);
}

static void test_csv_errors(void **state)
{
    (void)state;
    expect_bad("", "empty file");
    expect_bad("a,b,c\n1,2,3\n", "no column 'window_start'");
    expect_bad(HDR "\n" ROW "\n" ROW ",\"oops\n", "t.csv: line 3: unbalanced quotes");
    expect_bad(HDR "\n" "2020-01-01T00:00:00.000000Z,2020-01-01T00:01:00.000000Z,10.0.0.1,x,1,"
                   "10.0.0.2,3,1,40000,3,2,22,2,1,64,3,1,6,3,1,2,3,1,60,3\n",
               "line 2: pkts: 'x' is not an unsigned integer");
    expect_bad(HDR "\n" "2020-01-01T00:00:00.000000Z,2020-01-01T00:01:00.000000Z,10.0.0.1,3,4,"
                   "10.0.0.2,3,1,40000,3,2,22,2,1,64,3,1,6,3,1,2,3,1,60,3\n",
               "dst_ip_uniq is 4, not within 1..pkts (3)");
    expect_bad(HDR "\n" "2020-01-01T00:00:00.000000Z,2020-01-01T00:01:00.000000Z,10.0.0.1,3,1,"
                   "10.0.0.2,3,1,40000,3,2,22,2,1,300,3,1,6,3,1,2,3,1,60,3\n",
               "ttl_mode: 300 is out of range");
    expect_bad(HDR "\n" "yesterday,2020-01-01T00:01:00.000000Z,10.0.0.1,3,1,"
                   "10.0.0.2,3,1,40000,3,2,22,2,1,64,3,1,6,3,1,2,3,1,60,3\n",
               "window_start: 'yesterday' is not an ISO 8601");
    expect_bad(HDR "\n" "2020-01-01T00:00:00.000000Z,2020-01-01T00:01:00.000000Z,10.0.0.300,3,1,"
                   "10.0.0.2,3,1,40000,3,2,22,2,1,64,3,1,6,3,1,2,3,1,60,3\n",
               "src_ip: '10.0.0.300' is not an IP address");
    expect_bad(HDR "\n1,2,3\n", "line 2: 3 fields, the header has 25");
    expect_bad("{\"window_start\": 1}\n", "line 1: window_start: '1' is not an ISO 8601");
    expect_bad("{\"src_ip\": \"1.2.3.4\"}\n{", "no key \"window_start\"");
    expect_bad("{not json\n", "line 1: not a JSON object");
}

static void test_parquet_refused(void **state)
{
    (void)state;
    char path[] = "/tmp/test_agm_read_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "PAR1\0\0\0\0", 8), 8);
    close(fd);
    nagm_agm_row *rows;
    size_t n;
    char err[NAGM_AGM_READ_ERRBUF];
    assert_int_equal(nagm_agm_read(path, NAGM_FMT_AUTO, &rows, &n, err), -1);
    assert_non_null(strstr(err, "Parquet"));
    unlink(path);
    assert_int_equal(nagm_agm_read("/nonexistent.csv", NAGM_FMT_AUTO, &rows, &n, err), -1);
    assert_non_null(strstr(err, "/nonexistent.csv"));
}

static void test_ts_parse(void **state)
{
    (void)state;
    /* Against the writer, over a spread of times including before 1970. */
    int64_t ts[] = {0, 1, 999, 1577836800123456000LL, -1000, -86400000000000LL,
                    951782400000000000LL /* 2000-02-29 */, 4102444799999999000LL};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
        char buf[NAGM_TS_STRLEN];
        size_t len = nagm_ts_format(ts[i], buf);
        int64_t back;
        assert_int_equal(nagm_ts_parse(buf, len, &back), 0);
        /* The text has microseconds: compare at that precision (floor). */
        int64_t us = ts[i] / 1000 - (ts[i] % 1000 < 0);
        assert_int_equal(back, us * 1000);
    }
    int64_t v;
    assert_int_equal(nagm_ts_parse("2020-01-01T00:00:00.5", 21, &v), 0);
    assert_int_equal(v, 1577836800500000000LL);
    assert_int_equal(nagm_ts_parse("2020-13-01T00:00:00Z", 20, &v), -1);
    assert_int_equal(nagm_ts_parse("2020-01-01", 10, &v), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_roundtrip),   cmocka_unit_test(test_jsonl_roundtrip),
        cmocka_unit_test(test_csv_variants),    cmocka_unit_test(test_csv_errors),
        cmocka_unit_test(test_parquet_refused), cmocka_unit_test(test_ts_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
