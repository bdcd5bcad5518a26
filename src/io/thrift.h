/* Thrift compact protocol, write side only: what a Parquet footer and page
 * headers need (structs, unions, lists, i8/i16/i32/i64, bool, binary).
 *
 * Wire rules (Thrift compact protocol specification):
 *   - integers are zigzag-encoded ULEB128 varints (i8 is one raw byte);
 *   - a field header is one byte (delta << 4 | type) when the field id is
 *     1..15 above the previous id of the same struct, else the type byte
 *     followed by the id as a zigzag varint;
 *   - a bool field carries its value in the type nibble (1 true, 2 false);
 *   - a list header is one byte (size << 4 | elem type) for size < 15, else
 *     0xF0 | elem type followed by the size as a varint;
 *   - a struct ends with a 0 byte; unions are structs with one field set.
 * Each nested struct restarts the field-id delta at 0, so the encoder keeps a
 * stack of previous ids.
 *
 * Errors (out of memory, nesting too deep) are sticky in enc->err and checked
 * once by the caller after a whole structure is written.
 */
#ifndef NETAGM_IO_THRIFT_H
#define NETAGM_IO_THRIFT_H

#include <stddef.h>
#include <stdint.h>

/* A growable byte buffer. Zero-initialised is empty and valid. */
typedef struct nagm_bytes {
    uint8_t *p;
    size_t len;
    size_t cap;
} nagm_bytes;

/* Make room for n more bytes. Returns 0, or -1 on ENOMEM (buffer unchanged). */
int nagm_bytes_reserve(nagm_bytes *b, size_t n);
/* Append n bytes. Returns 0, or -1 on ENOMEM. */
int nagm_bytes_put(nagm_bytes *b, const void *src, size_t n);
void nagm_bytes_free(nagm_bytes *b);

/* Compact-protocol type ids as they appear on the wire. */
enum nagm_tc_type {
    NAGM_TC_STOP = 0,
    NAGM_TC_TRUE = 1,
    NAGM_TC_FALSE = 2,
    NAGM_TC_I8 = 3,
    NAGM_TC_I16 = 4,
    NAGM_TC_I32 = 5,
    NAGM_TC_I64 = 6,
    NAGM_TC_DOUBLE = 7,
    NAGM_TC_BINARY = 8,
    NAGM_TC_LIST = 9,
    NAGM_TC_SET = 10,
    NAGM_TC_MAP = 11,
    NAGM_TC_STRUCT = 12
};

#define NAGM_TC_MAX_DEPTH 16

typedef struct nagm_tc {
    nagm_bytes *out;
    int16_t last[NAGM_TC_MAX_DEPTH]; /* previous field id per open struct */
    int depth;                       /* open structs; 0 = top level */
    int err;                         /* sticky: -1 after any failure */
} nagm_tc;

/* Start encoding into out (appends; out is borrowed). */
void nagm_tc_init(nagm_tc *t, nagm_bytes *out);

/* Raw building blocks (exposed for tests). */
void nagm_tc_varint(nagm_tc *t, uint64_t v);
uint64_t nagm_tc_zigzag64(int64_t v);
uint32_t nagm_tc_zigzag32(int32_t v);

/* A top-level struct (or a struct as a list element): begin pushes a fresh
 * field-id context; end writes STOP and pops it. */
void nagm_tc_struct_begin(nagm_tc *t);
void nagm_tc_struct_end(nagm_tc *t);

/* Fields of the innermost open struct. */
void nagm_tc_field_bool(nagm_tc *t, int16_t id, int v);
void nagm_tc_field_i8(nagm_tc *t, int16_t id, int8_t v);
void nagm_tc_field_i16(nagm_tc *t, int16_t id, int16_t v);
void nagm_tc_field_i32(nagm_tc *t, int16_t id, int32_t v);
void nagm_tc_field_i64(nagm_tc *t, int16_t id, int64_t v);
void nagm_tc_field_binary(nagm_tc *t, int16_t id, const void *p, size_t n);
void nagm_tc_field_string(nagm_tc *t, int16_t id, const char *s);
/* A struct-valued field: writes the header and opens the nested struct;
 * close it with nagm_tc_struct_end. */
void nagm_tc_field_struct_begin(nagm_tc *t, int16_t id);
/* A list-valued field of n elements of type elem; then write exactly n
 * elements with the element writers below. */
void nagm_tc_field_list_begin(nagm_tc *t, int16_t id, int elem, uint32_t n);

/* List elements. */
void nagm_tc_list_header(nagm_tc *t, int elem, uint32_t n);
void nagm_tc_i32(nagm_tc *t, int32_t v);
void nagm_tc_i64(nagm_tc *t, int64_t v);
void nagm_tc_binary(nagm_tc *t, const void *p, size_t n);

#endif
