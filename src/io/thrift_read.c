/* Thrift compact protocol decoder (see thrift_read.h; the wire rules are in
 * thrift.h):
 *
 *   field header   | delta:4 | type:4 |            delta 1..15 from the last id
 *                  | 0000    | type:4 | zigzag varint id
 *   struct end     | 0x00 |
 *   list/set       | size:4 | elem:4 |              size < 15
 *                  | 1111   | elem:4 | varint size
 *   map            | varint size | ktype:4 vtype:4 |  (no type byte when empty)
 *   i8             one byte; i16, i32, i64: zigzag ULEB128 varints
 *   double         8 bytes little-endian; binary: varint length, bytes
 */
#include "io/thrift_read.h"

void nagm_tr_init(nagm_tr *t, const uint8_t *p, size_t n)
{
    t->c = nagm_cur_make(p, n);
    t->start = p;
    t->depth = 0;
    t->why = NULL;
    t->err_off = 0;
    t->eof = 0;
}

size_t nagm_tr_pos(const nagm_tr *t)
{
    return (size_t)(t->c.p - t->start);
}

int nagm_tr_fail(nagm_tr *t, const char *why)
{
    if (!t->why) {
        t->why = why;
        t->err_off = nagm_tr_pos(t);
    }
    return -1;
}

int nagm_tr_fail_eof(nagm_tr *t, const char *why)
{
    if (!t->why)
        t->eof = 1;
    return nagm_tr_fail(t, why);
}

static int varint(nagm_tr *t, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < 10; i++) {
        if (!nagm_cur_has(&t->c, 1))
            return nagm_tr_fail_eof(t, "thrift: truncated varint");
        uint8_t b = nagm_cur_u8(&t->c);
        if (i == 9 && b > 1)
            return nagm_tr_fail(t, "thrift: varint longer than 64 bits");
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return nagm_tr_fail(t, "thrift: varint longer than 64 bits");
}

static int zigzag(nagm_tr *t, int64_t *out)
{
    uint64_t v;
    if (varint(t, &v) < 0)
        return -1;
    *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
    return 0;
}

int nagm_tr_struct_begin(nagm_tr *t)
{
    if (t->why)
        return -1;
    if (t->depth >= NAGM_TR_MAX_DEPTH)
        return nagm_tr_fail(t, "thrift: structures nested too deep");
    t->last[t->depth++] = 0;
    return 0;
}

int nagm_tr_field(nagm_tr *t, int16_t *id, int *type)
{
    if (t->why)
        return -1;
    if (t->depth <= 0)
        return nagm_tr_fail(t, "thrift: a field outside any structure");
    if (!nagm_cur_has(&t->c, 1))
        return nagm_tr_fail_eof(t, "thrift: truncated structure");
    uint8_t b = nagm_cur_u8(&t->c);
    if (b == NAGM_TR_STOP) {
        t->depth--;
        return 0;
    }
    int ty = b & 0x0f, delta = b >> 4;
    if (ty == NAGM_TR_STOP || ty > NAGM_TR_STRUCT)
        return nagm_tr_fail(t, "thrift: bad field type");
    int64_t fid;
    if (delta) {
        fid = (int64_t)t->last[t->depth - 1] + delta;
    } else if (zigzag(t, &fid) < 0) {
        return -1;
    }
    if (fid < INT16_MIN || fid > INT16_MAX)
        return nagm_tr_fail(t, "thrift: field id out of range");
    t->last[t->depth - 1] = (int16_t)fid;
    *id = (int16_t)fid;
    *type = ty;
    return 1;
}

int nagm_tr_int(nagm_tr *t, int type, int64_t lo, int64_t hi, int64_t *out)
{
    if (t->why)
        return -1;
    int64_t v;
    if (type == NAGM_TR_I8) {
        if (!nagm_cur_has(&t->c, 1))
            return nagm_tr_fail_eof(t, "thrift: truncated i8");
        v = (int8_t)nagm_cur_u8(&t->c);
    } else if (type == NAGM_TR_I16 || type == NAGM_TR_I32 || type == NAGM_TR_I64) {
        if (zigzag(t, &v) < 0)
            return -1;
    } else {
        return nagm_tr_fail(t, "thrift: an integer field of another type");
    }
    if (v < lo || v > hi)
        return nagm_tr_fail(t, "thrift: integer out of range");
    *out = v;
    return 0;
}

int nagm_tr_bool(nagm_tr *t, int type, int *out)
{
    if (t->why)
        return -1;
    if (type != NAGM_TR_TRUE && type != NAGM_TR_FALSE)
        return nagm_tr_fail(t, "thrift: a bool field of another type");
    *out = type == NAGM_TR_TRUE;
    return 0;
}

int nagm_tr_binary(nagm_tr *t, int type, const uint8_t **p, size_t *n)
{
    if (t->why)
        return -1;
    if (type != NAGM_TR_BINARY)
        return nagm_tr_fail(t, "thrift: a binary field of another type");
    uint64_t len;
    if (varint(t, &len) < 0)
        return -1;
    if (len > nagm_cur_left(&t->c))
        return nagm_tr_fail_eof(t, "thrift: binary length beyond the end");
    *p = t->c.p;
    *n = (size_t)len;
    nagm_cur_skip(&t->c, (size_t)len);
    return 0;
}

int nagm_tr_list(nagm_tr *t, int type, int *elem, uint32_t *n)
{
    if (t->why)
        return -1;
    if (type != NAGM_TR_LIST && type != NAGM_TR_SET)
        return nagm_tr_fail(t, "thrift: a list field of another type");
    if (!nagm_cur_has(&t->c, 1))
        return nagm_tr_fail_eof(t, "thrift: truncated list");
    uint8_t b = nagm_cur_u8(&t->c);
    uint64_t size = b >> 4;
    int et = b & 0x0f;
    if (size == 15 && varint(t, &size) < 0)
        return -1;
    /* Every element takes at least one byte. */
    if (size > nagm_cur_left(&t->c) || size > UINT32_MAX)
        return nagm_tr_fail_eof(t, "thrift: list longer than its bytes");
    if (size > 0 && (et == NAGM_TR_STOP || et > NAGM_TR_STRUCT))
        return nagm_tr_fail(t, "thrift: bad list element type");
    *elem = et;
    *n = (uint32_t)size;
    return 0;
}

static int skip(nagm_tr *t, int type, int in_list, int level);

static int skip_container(nagm_tr *t, int type, int level)
{
    if (t->depth + level >= NAGM_TR_MAX_DEPTH)
        return nagm_tr_fail(t, "thrift: structures nested too deep");
    if (type == NAGM_TR_MAP) {
        uint64_t size;
        if (varint(t, &size) < 0)
            return -1;
        if (size == 0)
            return 0;
        /* A pair takes at least two bytes. */
        if (size > nagm_cur_left(&t->c) / 2)
            return nagm_tr_fail_eof(t, "thrift: map longer than its bytes");
        if (!nagm_cur_has(&t->c, 1))
            return nagm_tr_fail_eof(t, "thrift: truncated map");
        uint8_t kv = nagm_cur_u8(&t->c);
        int kt = kv >> 4, vt = kv & 0x0f;
        if (kt == NAGM_TR_STOP || kt > NAGM_TR_STRUCT || vt == NAGM_TR_STOP || vt > NAGM_TR_STRUCT)
            return nagm_tr_fail(t, "thrift: bad map element type");
        for (uint64_t i = 0; i < size; i++)
            if (skip(t, kt, 1, level + 1) < 0 || skip(t, vt, 1, level + 1) < 0)
                return -1;
        return 0;
    }
    int et;
    uint32_t n;
    if (nagm_tr_list(t, type, &et, &n) < 0)
        return -1;
    for (uint32_t i = 0; i < n; i++)
        if (skip(t, et, 1, level + 1) < 0)
            return -1;
    return 0;
}

/* Skip one value; recursion is bounded by t->depth + level. */
static int skip(nagm_tr *t, int type, int in_list, int level)
{
    if (t->why)
        return -1;
    uint64_t v;
    switch (type) {
    case NAGM_TR_TRUE:
    case NAGM_TR_FALSE:
        /* In a field the type nibble is the value; in a list it is a byte. */
        if (in_list) {
            if (!nagm_cur_has(&t->c, 1))
                return nagm_tr_fail_eof(t, "thrift: truncated bool");
            nagm_cur_skip(&t->c, 1);
        }
        return 0;
    case NAGM_TR_I8:
        if (!nagm_cur_has(&t->c, 1))
            return nagm_tr_fail_eof(t, "thrift: truncated i8");
        nagm_cur_skip(&t->c, 1);
        return 0;
    case NAGM_TR_I16:
    case NAGM_TR_I32:
    case NAGM_TR_I64:
        return varint(t, &v);
    case NAGM_TR_DOUBLE:
        if (!nagm_cur_has(&t->c, 8))
            return nagm_tr_fail_eof(t, "thrift: truncated double");
        nagm_cur_skip(&t->c, 8);
        return 0;
    case NAGM_TR_BINARY: {
        const uint8_t *p;
        size_t n;
        return nagm_tr_binary(t, type, &p, &n);
    }
    case NAGM_TR_LIST:
    case NAGM_TR_SET:
    case NAGM_TR_MAP:
        return skip_container(t, type, level);
    case NAGM_TR_STRUCT: {
        if (t->depth + level >= NAGM_TR_MAX_DEPTH)
            return nagm_tr_fail(t, "thrift: structures nested too deep");
        if (nagm_tr_struct_begin(t) < 0)
            return -1;
        int16_t id;
        int ft, rc;
        while ((rc = nagm_tr_field(t, &id, &ft)) == 1)
            if (skip(t, ft, 0, level + 1) < 0)
                return -1;
        return rc;
    }
    default:
        return nagm_tr_fail(t, "thrift: bad type");
    }
}

int nagm_tr_skip(nagm_tr *t, int type)
{
    return skip(t, type, 0, 0);
}

int nagm_tr_skip_elem(nagm_tr *t, int elem)
{
    return skip(t, elem, 1, 0);
}
