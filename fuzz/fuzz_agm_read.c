/* libFuzzer target for the AGM table reader (CSV and JSON Lines).
 *
 * Input: a whole table, read through an in-memory FILE with
 * NAGM_FMT_AUTO, as `netagm analyze --agm -` reads it: the first non-blank
 * byte chooses the format ('{' = JSON Lines, anything else = CSV), so the
 * seeds are plain tables written by `netagm agm`.
 *
 * Beyond "no crash": a failure leaves nothing allocated and a message of the
 * documented "NAME: ..." form; every row accepted obeys the reader's contract
 * (1 <= X_uniq, X_mode_pkts <= pkts, modes within their field's width, one
 * address family per row); and rows accepted must survive the project's own
 * CSV and JSON Lines writers: written and read again, they come back equal
 * (timestamps to the microsecond, the precision the writers keep).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netagm/agm_read.h"
#include "netagm/sink.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* JSON numbers go through doubles: counts from 2^53 on cannot come back. */
#define JSON_EXACT (1ULL << 53)

/* The timestamp as the writers keep it (floor to the microsecond), or 0 when
 * that would fall below INT64_MIN. */
static int ts_us(int64_t ns, int64_t *out)
{
    int64_t q = ns / 1000, rem = ns % 1000;
    if (rem < 0)
        q--;
    if (q < INT64_MIN / 1000)
        return 0;
    *out = q * 1000;
    return 1;
}

static int counts_fit_json(const nagm_agm_row *r)
{
    if (r->pkts >= JSON_EXACT)
        return 0;
    for (int f = 0; f < NAGM_NFIELDS; f++)
        if (r->uniq[f] >= JSON_EXACT || r->mode_pkts[f] >= JSON_EXACT)
            return 0;
    return 1;
}

static void check_same(const nagm_agm_row *a, const nagm_agm_row *b)
{
    int64_t s, e;
    CHECK(ts_us(a->window_start_ns, &s) && ts_us(a->window_end_ns, &e));
    CHECK(b->window_start_ns == s && b->window_end_ns == e);
    CHECK(nagm_addr_cmp(&a->src, &b->src) == 0);
    CHECK(nagm_addr_cmp(&a->dst_ip_mode, &b->dst_ip_mode) == 0);
    CHECK(a->pkts == b->pkts);
    for (int f = 0; f < NAGM_NFIELDS; f++)
        CHECK(a->uniq[f] == b->uniq[f] && a->mode_pkts[f] == b->mode_pkts[f] &&
              a->mode[f] == b->mode[f]);
}

/* Write rows with the CSV (json 0) or JSON Lines (json 1) sink, read them
 * back, compare. */
static void round_trip(const nagm_agm_row *rows, size_t n, int json)
{
    char *text = NULL;
    size_t len = 0;
    FILE *w = open_memstream(&text, &len);
    CHECK(w);
    nagm_sink *s = json ? nagm_sink_jsonl_new(w, 1) : nagm_sink_csv_new(w, 1);
    CHECK(s);
    CHECK(s->write(s, rows, n) == NAGM_SINK_OK);
    CHECK(s->close(s) == NAGM_SINK_OK);

    nagm_agm_row *back = NULL;
    size_t nb = 0;
    char err[NAGM_AGM_READ_ERRBUF];
    FILE *r = fmemopen(text, len, "r");
    CHECK(r);
    CHECK(nagm_agm_read_fp(r, "again", NAGM_FMT_AUTO, &back, &nb, err) == 0);
    fclose(r);
    CHECK(nb == n);
    for (size_t i = 0; i < n; i++)
        check_same(&rows[i], &back[i]);
    free(back);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0; /* fmemopen refuses an empty buffer */
    FILE *fp = fmemopen((void *)data, size, "r");
    if (!fp)
        return 0;
    nagm_agm_row *rows = (nagm_agm_row *)&size; /* must be reset */
    size_t n = 12345;
    char err[NAGM_AGM_READ_ERRBUF];
    err[0] = '\0';
    int rc = nagm_agm_read_fp(fp, "fuzz", NAGM_FMT_AUTO, &rows, &n, err);
    fclose(fp);
    if (rc != 0) {
        CHECK(rc == -1 && rows == NULL && n == 0);
        CHECK(strncmp(err, "fuzz: ", 6) == 0 && memchr(err, '\0', sizeof err));
        return 0;
    }
    CHECK((n == 0) == (rows == NULL));
    int ts_ok = 1, json_ok = 1;
    for (size_t i = 0; i < n; i++) {
        int64_t t;
        fuzz_check_agm_row(&rows[i]);
        ts_ok &= ts_us(rows[i].window_start_ns, &t) && ts_us(rows[i].window_end_ns, &t);
        json_ok &= counts_fit_json(&rows[i]);
    }
    if (ts_ok) {
        round_trip(rows, n, 0);
        if (json_ok && n > 0) /* an empty JSON Lines table is no bytes at all */
            round_trip(rows, n, 1);
    }
    free(rows);
    return 0;
}
