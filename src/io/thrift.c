/* Thrift compact protocol encoder (see thrift.h for the wire rules). */
#include "io/thrift.h"

#include <stdlib.h>
#include <string.h>

int nagm_bytes_reserve(nagm_bytes *b, size_t n)
{
    if (b->cap - b->len >= n)
        return 0;
    if (n > SIZE_MAX / 2 - b->len)
        return -1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

int nagm_bytes_put(nagm_bytes *b, const void *src, size_t n)
{
    if (n == 0)
        return 0;
    if (nagm_bytes_reserve(b, n) < 0)
        return -1;
    memcpy(b->p + b->len, src, n);
    b->len += n;
    return 0;
}

void nagm_bytes_free(nagm_bytes *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void nagm_tc_init(nagm_tc *t, nagm_bytes *out)
{
    memset(t, 0, sizeof *t);
    t->out = out;
}

static void put_byte(nagm_tc *t, uint8_t v)
{
    if (nagm_bytes_put(t->out, &v, 1) < 0)
        t->err = -1;
}

void nagm_tc_varint(nagm_tc *t, uint64_t v)
{
    uint8_t buf[10];
    size_t n = 0;
    while (v >= 0x80) {
        buf[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    buf[n++] = (uint8_t)v;
    if (nagm_bytes_put(t->out, buf, n) < 0)
        t->err = -1;
}

uint64_t nagm_tc_zigzag64(int64_t v)
{
    /* Arithmetic on the unsigned form: left-shifting a negative is UB. */
    return ((uint64_t)v << 1) ^ (uint64_t)(v < 0 ? -1 : 0);
}

uint32_t nagm_tc_zigzag32(int32_t v)
{
    return ((uint32_t)v << 1) ^ (uint32_t)(v < 0 ? -1 : 0);
}

static void field_header(nagm_tc *t, int16_t id, int type)
{
    if (t->depth <= 0) {
        t->err = -1; /* a field outside any struct is a programming error */
        return;
    }
    int16_t *last = &t->last[t->depth - 1];
    int delta = (int)id - (int)*last;
    if (delta > 0 && delta <= 15) {
        put_byte(t, (uint8_t)((delta << 4) | type));
    } else {
        put_byte(t, (uint8_t)type);
        nagm_tc_varint(t, nagm_tc_zigzag32(id));
    }
    *last = id;
}

static void push(nagm_tc *t)
{
    if (t->depth >= NAGM_TC_MAX_DEPTH) {
        t->err = -1;
        return;
    }
    t->last[t->depth++] = 0;
}

void nagm_tc_struct_begin(nagm_tc *t)
{
    push(t);
}

void nagm_tc_struct_end(nagm_tc *t)
{
    put_byte(t, NAGM_TC_STOP);
    if (t->depth > 0)
        t->depth--;
    else
        t->err = -1;
}

void nagm_tc_field_bool(nagm_tc *t, int16_t id, int v)
{
    field_header(t, id, v ? NAGM_TC_TRUE : NAGM_TC_FALSE);
}

void nagm_tc_field_i8(nagm_tc *t, int16_t id, int8_t v)
{
    field_header(t, id, NAGM_TC_I8);
    put_byte(t, (uint8_t)v);
}

void nagm_tc_field_i16(nagm_tc *t, int16_t id, int16_t v)
{
    field_header(t, id, NAGM_TC_I16);
    nagm_tc_varint(t, nagm_tc_zigzag32(v));
}

void nagm_tc_field_i32(nagm_tc *t, int16_t id, int32_t v)
{
    field_header(t, id, NAGM_TC_I32);
    nagm_tc_varint(t, nagm_tc_zigzag32(v));
}

void nagm_tc_field_i64(nagm_tc *t, int16_t id, int64_t v)
{
    field_header(t, id, NAGM_TC_I64);
    nagm_tc_varint(t, nagm_tc_zigzag64(v));
}

void nagm_tc_field_binary(nagm_tc *t, int16_t id, const void *p, size_t n)
{
    field_header(t, id, NAGM_TC_BINARY);
    nagm_tc_binary(t, p, n);
}

void nagm_tc_field_string(nagm_tc *t, int16_t id, const char *s)
{
    nagm_tc_field_binary(t, id, s, strlen(s));
}

void nagm_tc_field_struct_begin(nagm_tc *t, int16_t id)
{
    field_header(t, id, NAGM_TC_STRUCT);
    push(t);
}

void nagm_tc_list_header(nagm_tc *t, int elem, uint32_t n)
{
    if (n < 15) {
        put_byte(t, (uint8_t)((n << 4) | (uint32_t)elem));
    } else {
        put_byte(t, (uint8_t)(0xF0 | elem));
        nagm_tc_varint(t, n);
    }
}

void nagm_tc_field_list_begin(nagm_tc *t, int16_t id, int elem, uint32_t n)
{
    field_header(t, id, NAGM_TC_LIST);
    nagm_tc_list_header(t, elem, n);
}

void nagm_tc_i32(nagm_tc *t, int32_t v)
{
    nagm_tc_varint(t, nagm_tc_zigzag32(v));
}

void nagm_tc_i64(nagm_tc *t, int64_t v)
{
    nagm_tc_varint(t, nagm_tc_zigzag64(v));
}

void nagm_tc_binary(nagm_tc *t, const void *p, size_t n)
{
    nagm_tc_varint(t, n);
    if (nagm_bytes_put(t->out, p, n) < 0)
        t->err = -1;
}
