/* Thrift compact protocol, read side: a bounded decoder for Parquet footers
 * and page headers (the writer is io/thrift.h, whose comment lists the wire
 * rules).
 *
 * Every byte is read through a bounded cursor. Nesting (structs, lists,
 * maps) is limited to NAGM_TR_MAX_DEPTH levels, also when skipping fields
 * the caller does not know, so hostile input can neither recurse without
 * bound nor read past its end. List and map sizes are checked against the
 * bytes left before the caller loops over them (every element takes at
 * least one byte).
 *
 * The first error is kept (a static reason and the offset where it was
 * found); every later call fails at once, so a caller may check once after
 * a whole structure.
 *
 * Typical use:
 *
 *   nagm_tr_struct_begin(&t);
 *   while ((rc = nagm_tr_field(&t, &id, &type)) == 1)
 *       switch (id) { case 1: nagm_tr_int(&t, type, 0, 7, &v); break;
 *                     default: nagm_tr_skip(&t, type); }
 *   (rc == 0: the struct ended; -1: see t.why)
 */
#ifndef NETAGM_IO_THRIFT_READ_H
#define NETAGM_IO_THRIFT_READ_H

#include <stddef.h>
#include <stdint.h>

#include "util/cursor.h"

/* Compact-protocol type ids on the wire (the same values as io/thrift.h). */
enum {
    NAGM_TR_STOP = 0,
    NAGM_TR_TRUE = 1, /* a bool field whose value is true; a bool list element */
    NAGM_TR_FALSE = 2,
    NAGM_TR_I8 = 3,
    NAGM_TR_I16 = 4,
    NAGM_TR_I32 = 5,
    NAGM_TR_I64 = 6,
    NAGM_TR_DOUBLE = 7,
    NAGM_TR_BINARY = 8,
    NAGM_TR_LIST = 9,
    NAGM_TR_SET = 10,
    NAGM_TR_MAP = 11,
    NAGM_TR_STRUCT = 12
};

/* Open structs and containers at once, counting those being skipped. */
#define NAGM_TR_MAX_DEPTH 32

typedef struct nagm_tr {
    nagm_cur c;
    const uint8_t *start;            /* first byte, for error offsets */
    int16_t last[NAGM_TR_MAX_DEPTH]; /* previous field id of each open struct */
    int depth;                       /* open structs */
    const char *why;                 /* first error (static), NULL if none */
    size_t err_off;                  /* its offset from start */
    int eof;                         /* 1: that error was running out of input */
} nagm_tr;

/* Decode p[0..n) (borrowed for the decoder's lifetime). */
void nagm_tr_init(nagm_tr *t, const uint8_t *p, size_t n);

/* Record an error at the current position (the first one is kept).
 * Returns -1. */
int nagm_tr_fail(nagm_tr *t, const char *why);

/* The same for an error caused by the input ending early (sets t->eof, so a
 * caller reading a window of a larger buffer can retry with more bytes). */
int nagm_tr_fail_eof(nagm_tr *t, const char *why);

/* Bytes consumed so far. */
size_t nagm_tr_pos(const nagm_tr *t);

/* Enter a struct (the top-level one, a struct-typed field or a struct list
 * element). Returns 0, or -1 when nested too deep. */
int nagm_tr_struct_begin(nagm_tr *t);

/* The next field of the innermost open struct. Returns 1 with *id and *type
 * (for bool fields *type is NAGM_TR_TRUE or NAGM_TR_FALSE and carries the
 * value), 0 at the struct's end (the struct is left), -1 on error. */
int nagm_tr_field(nagm_tr *t, int16_t *id, int *type);

/* An integer value of wire type type (I8, I16, I32 or I64 are accepted),
 * which must lie within lo..hi. Returns 0, or -1 (wrong type, bad varint,
 * out of range). */
int nagm_tr_int(nagm_tr *t, int type, int64_t lo, int64_t hi, int64_t *out);

/* A bool field (type TRUE or FALSE): *out = 1 or 0. Returns 0 or -1. */
int nagm_tr_bool(nagm_tr *t, int type, int *out);

/* A binary or string value: *p points into the input (borrowed), *n bytes.
 * Returns 0, or -1 (wrong type, length beyond the input). */
int nagm_tr_binary(nagm_tr *t, int type, const uint8_t **p, size_t *n);

/* A list or set header: element type and count (at most the bytes left).
 * The caller then reads exactly *n elements of type *elem. Returns 0 or -1. */
int nagm_tr_list(nagm_tr *t, int type, int *elem, uint32_t *n);

/* Skip one value of wire type type (in a field: bool types carry no byte;
 * as a list element use nagm_tr_skip_elem). Returns 0 or -1. */
int nagm_tr_skip(nagm_tr *t, int type);

/* Skip one list element of type elem. Returns 0 or -1. */
int nagm_tr_skip_elem(nagm_tr *t, int elem);

#endif
