/* libFuzzer target for the Parquet reader (io/parquet_read.c and the Thrift
 * decoder under it), and for AGM tables read from Parquet.
 *
 * Input: a whole file. It is opened from memory and every value of every
 * column chunk is read; then it is read as an AGM table through an
 * in-memory FILE, as `netagm analyze --agm -` would.
 *
 * Beyond "no crash, no leak": every failure leaves nothing allocated and
 * carries a message of the documented form ("fuzz: offset N: ..." for the
 * file's structure, "fuzz: ..." for AGM values); a chunk that reads without
 * error gives exactly its row group's rows, and a value never points outside
 * the input or the reader's own buffers (ASan checks the bytes are read);
 * AGM rows accepted obey the reader's contract, and as many as the footer
 * declares.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/parquet_read.h"
#include "netagm/agm_read.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_msg(const char *err)
{
    CHECK(memchr(err, '\0', NAGM_PQR_ERRBUF));
    CHECK(strncmp(err, "fuzz: offset ", 13) == 0);
}

/* Read every column of every row group; returns the rows of the file when
 * every chunk read cleanly, else -1. */
static long read_everything(nagm_pqr *pr)
{
    int clean = 1;
    for (size_t g = 0; g < nagm_pqr_nrow_groups(pr); g++) {
        uint64_t rows = nagm_pqr_rg_rows(pr, g);
        for (size_t c = 0; c < nagm_pqr_ncols(pr); c++) {
            nagm_pqr_chunk *ch = (nagm_pqr_chunk *)&rows; /* must be reset */
            if (nagm_pqr_chunk_open(pr, g, c, &ch) < 0) {
                CHECK(ch == NULL);
                check_msg(nagm_pqr_error(pr));
                clean = 0;
                continue;
            }
            uint64_t k = 0;
            volatile uint8_t sink = 0;
            for (; k < rows; k++) {
                nagm_pqr_value v;
                if (nagm_pqr_next(ch, &v) < 0) {
                    check_msg(nagm_pqr_error(pr));
                    /* Failures are sticky. */
                    CHECK(nagm_pqr_next(ch, &v) == -1);
                    break;
                }
                if (v.null) {
                    CHECK(nagm_pqr_column(pr, c)->max_def > 0);
                } else if (v.s && v.len) {
                    sink ^= v.s[0];
                    sink ^= v.s[v.len - 1];
                }
            }
            (void)sink;
            if (k == rows) {
                nagm_pqr_value v;
                CHECK(nagm_pqr_next(ch, &v) == -1); /* exactly rows values */
            } else {
                clean = 0;
            }
            nagm_pqr_chunk_close(ch);
        }
    }
    return clean ? (long)nagm_pqr_num_rows(pr) : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The generic reader, with limits small enough for a fuzzer. */
    nagm_pqr_opts o = {.mem_limit = 64u << 20, .rows_per_byte = 8};
    nagm_pqr *pr = (nagm_pqr *)&o; /* must be reset */
    char err[NAGM_PQR_ERRBUF];
    long declared = -1;
    if (nagm_pqr_open_mem(data, size, "fuzz", &o, &pr, err) < 0) {
        CHECK(pr == NULL);
        check_msg(err);
    } else {
        CHECK(nagm_pqr_error(pr)[0] == '\0');
        declared = (long)nagm_pqr_num_rows(pr);
        read_everything(pr);
        nagm_pqr_close(pr);
    }

    /* The AGM table, as NAGM_FMT_PARQUET and (for input starting with
     * PAR1; other text is fuzz_agm_read's) as NAGM_FMT_AUTO. */
    int passes = size >= 4 && !memcmp(data, "PAR1", 4) ? 2 : 1;
    for (int pass = 0; pass < passes && size > 0; pass++) {
        FILE *fp = fmemopen((void *)data, size, "r"); /* refuses size 0 */
        if (!fp)
            return 0;
        nagm_agm_row *rows = (nagm_agm_row *)&size; /* must be reset */
        size_t n = 12345;
        char aerr[NAGM_AGM_READ_ERRBUF];
        nagm_format fmt = pass == 0 ? NAGM_FMT_PARQUET : NAGM_FMT_AUTO;
        int rc = nagm_agm_read_fp(fp, "fuzz", fmt, &rows, &n, aerr);
        fclose(fp);
        if (rc != 0) {
            CHECK(rc == -1 && rows == NULL && n == 0);
            CHECK(memchr(aerr, '\0', sizeof aerr) && strncmp(aerr, "fuzz: ", 6) == 0);
            continue;
        }
        CHECK((n == 0) == (rows == NULL));
        /* The AGM reader's limits are wider than the ones above. */
        CHECK(declared < 0 || (size_t)declared == n);
        for (size_t i = 0; i < n; i++)
            fuzz_check_agm_row(&rows[i]);
        free(rows);
    }
    return 0;
}
