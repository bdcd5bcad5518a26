/* A bounded Apache Parquet reader (written from the published format,
 * apache/parquet-format parquet.thrift and Encodings.md), for reading back
 * flat tables such as the AGM table: see docs/parquet.md, "Reading Parquet".
 *
 * Supported: the footer of any file (nested schemas are walked, so any
 * column may be listed); reading values of flat columns (REQUIRED, or
 * OPTIONAL at the top level: max definition level 1, no repetition) of
 * physical type INT32, INT64, INT96 or BYTE_ARRAY; data pages v1 and v2,
 * dictionary pages; PLAIN, PLAIN_DICTIONARY and RLE_DICTIONARY values, RLE
 * definition levels; codecs UNCOMPRESSED, SNAPPY, GZIP and ZSTD. Anything
 * else is an error that names the file, the offset and the column.
 *
 * The file is untrusted: every read goes through a bounded cursor, every
 * size, offset and count is checked against the file and the limits below
 * before anything is allocated, and nothing recurses without a depth limit.
 * Values are decoded one at a time from one page of one column chunk, so
 * memory stays at about one page and one dictionary per open chunk.
 *
 * Errors are "NAME: offset N: reason", N the byte offset in the file of the
 * footer, page or column chunk at fault.
 */
#ifndef NETAGM_IO_PARQUET_READ_H
#define NETAGM_IO_PARQUET_READ_H

#include <stddef.h>
#include <stdint.h>

/* Size of the errbuf arguments below. */
#define NAGM_PQR_ERRBUF 512

/* Physical types (parquet.thrift Type). */
enum {
    NAGM_PQR_BOOLEAN = 0,
    NAGM_PQR_INT32 = 1,
    NAGM_PQR_INT64 = 2,
    NAGM_PQR_INT96 = 3,
    NAGM_PQR_FLOAT = 4,
    NAGM_PQR_DOUBLE = 5,
    NAGM_PQR_BYTE_ARRAY = 6,
    NAGM_PQR_FIXED_LEN_BYTE_ARRAY = 7
};

/* Logical types (parquet.thrift LogicalType member ids) the callers look at. */
enum { NAGM_PQR_LT_STRING = 1, NAGM_PQR_LT_TIMESTAMP = 8, NAGM_PQR_LT_INTEGER = 10 };

/* Converted (legacy) types the callers look at. */
enum {
    NAGM_PQR_CT_UTF8 = 0,
    NAGM_PQR_CT_TIMESTAMP_MILLIS = 9,
    NAGM_PQR_CT_TIMESTAMP_MICROS = 10,
    NAGM_PQR_CT_UINT_8 = 11,
    NAGM_PQR_CT_UINT_64 = 14,
    NAGM_PQR_CT_INT_8 = 15,
    NAGM_PQR_CT_INT_64 = 18
};

/* One leaf column of the schema. */
typedef struct nagm_pqr_col {
    const char *name; /* leaf name, NUL-terminated; owned by the reader */
    int top;          /* 1: a direct child of the root (a flat column) */
    int type;         /* physical type */
    int converted;    /* ConvertedType, or -1 */
    int logical;      /* LogicalType member id, or 0 */
    int time_unit;    /* TIMESTAMP: 1 MILLIS, 2 MICROS, 3 NANOS; else 0 */
    int int_bits;     /* INTEGER: 8, 16, 32 or 64; else 0 */
    int int_signed;   /* INTEGER: 1 signed, 0 unsigned */
    int max_def;      /* maximum definition level */
    int max_rep;      /* maximum repetition level */
} nagm_pqr_col;

typedef struct nagm_pqr_opts {
    uint64_t mem_limit;     /* bytes of page buffers, dictionaries and
                               metadata held at once; 0 = 1 GiB */
    uint64_t rows_per_byte; /* most rows per byte of file (a decompression
                               bomb guard); 0 = NAGM_PQR_ROWS_PER_BYTE */
} nagm_pqr_opts;

#define NAGM_PQR_ROWS_PER_BYTE 64

typedef struct nagm_pqr nagm_pqr;

/* Open a Parquet file held in memory: p[0..n) is borrowed until
 * nagm_pqr_close. name is used in messages (copied). opts may be NULL.
 * Reads and checks the footer. Returns 0 and *out, or -1 with errbuf
 * (NAGM_PQR_ERRBUF bytes) set. Not thread-safe per reader. */
int nagm_pqr_open_mem(const void *p, size_t n, const char *name, const nagm_pqr_opts *opts,
                      nagm_pqr **out, char *errbuf);

/* The same on a regular file, read with pread (fd is borrowed: the caller
 * closes it after nagm_pqr_close; its file position is not used). */
int nagm_pqr_open_fd(int fd, const char *name, const nagm_pqr_opts *opts, nagm_pqr **out,
                     char *errbuf);

/* Free the reader (and nothing the caller owns). Accepts NULL. Every chunk
 * must have been closed first. */
void nagm_pqr_close(nagm_pqr *r);

/* The schema's leaf columns, in file order (the order of column chunks). */
size_t nagm_pqr_ncols(const nagm_pqr *r);
const nagm_pqr_col *nagm_pqr_column(const nagm_pqr *r, size_t i);

/* Rows in the file, and row groups and the rows of each. */
uint64_t nagm_pqr_num_rows(const nagm_pqr *r);
size_t nagm_pqr_nrow_groups(const nagm_pqr *r);
uint64_t nagm_pqr_rg_rows(const nagm_pqr *r, size_t g);

/* The last error of a chunk function ("" if none). Borrowed. */
const char *nagm_pqr_error(const nagm_pqr *r);

/* One value read from a chunk. */
typedef struct nagm_pqr_value {
    int null;         /* 1: NULL (only in OPTIONAL columns) */
    int64_t i;        /* INT32 (sign-extended) and INT64 */
    const uint8_t *s; /* BYTE_ARRAY bytes, or the 12 bytes of an INT96;
                         borrowed until the next call on the chunk */
    uint32_t len;     /* bytes at s */
} nagm_pqr_value;

typedef struct nagm_pqr_chunk nagm_pqr_chunk;

/* Start reading column col of row group g. Fails (-1, see nagm_pqr_error)
 * when the column cannot be read (a type, repetition or codec the reader
 * does not support; offsets outside the file). */
int nagm_pqr_chunk_open(nagm_pqr *r, size_t g, size_t col, nagm_pqr_chunk **out);

/* The next value of the chunk (exactly nagm_pqr_rg_rows(r, g) of them).
 * Returns 0, or -1 (damaged page, or no value left; see nagm_pqr_error);
 * after -1 the chunk only fails. */
int nagm_pqr_next(nagm_pqr_chunk *c, nagm_pqr_value *v);

/* Free a chunk and its buffers. Accepts NULL. */
void nagm_pqr_chunk_close(nagm_pqr_chunk *c);

#endif
