/* Thrift compact protocol encoder against byte strings worked out by hand
 * from the compact protocol specification (varints, zigzag, field-id deltas,
 * bool-in-type fields, lists short and long, nested structs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "io/thrift.h"

/* Compare the encoder output with an expected byte string. */
#define assert_bytes(buf, ...)                                                                 \
    do {                                                                                       \
        static const uint8_t exp_[] = {__VA_ARGS__};                                           \
        assert_int_equal((buf)->len, sizeof exp_);                                             \
        assert_memory_equal((buf)->p, exp_, sizeof exp_);                                      \
    } while (0)

static void test_varint(void **state)
{
    (void)state;
    static const struct {
        uint64_t v;
        uint8_t enc[10];
        size_t n;
    } cases[] = {
        {0, {0x00}, 1},
        {1, {0x01}, 1},
        {127, {0x7f}, 1},
        {128, {0x80, 0x01}, 2},
        {300, {0xac, 0x02}, 2},          /* 300 = 0b10_0101100 */
        {16383, {0xff, 0x7f}, 2},
        {16384, {0x80, 0x80, 0x01}, 3},
        {0xffffffffu, {0xff, 0xff, 0xff, 0xff, 0x0f}, 5},
        {UINT64_MAX, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 10},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nagm_bytes b = {0};
        nagm_tc t;
        nagm_tc_init(&t, &b);
        nagm_tc_varint(&t, cases[i].v);
        assert_int_equal(t.err, 0);
        assert_int_equal(b.len, cases[i].n);
        assert_memory_equal(b.p, cases[i].enc, cases[i].n);
        nagm_bytes_free(&b);
    }
}

static void test_zigzag(void **state)
{
    (void)state;
    assert_int_equal(nagm_tc_zigzag32(0), 0);
    assert_int_equal(nagm_tc_zigzag32(-1), 1);
    assert_int_equal(nagm_tc_zigzag32(1), 2);
    assert_int_equal(nagm_tc_zigzag32(-2), 3);
    assert_int_equal(nagm_tc_zigzag32(2147483647), 4294967294u);
    assert_int_equal(nagm_tc_zigzag32(INT32_MIN), 4294967295u);
    assert_true(nagm_tc_zigzag64(0) == 0);
    assert_true(nagm_tc_zigzag64(-1) == 1);
    assert_true(nagm_tc_zigzag64(150) == 300);
    assert_true(nagm_tc_zigzag64(INT64_MAX) == UINT64_MAX - 1);
    assert_true(nagm_tc_zigzag64(INT64_MIN) == UINT64_MAX);

    /* i32 -64 -> zigzag 127 -> one byte; -65 -> 129 -> two bytes. */
    nagm_bytes b = {0};
    nagm_tc t;
    nagm_tc_init(&t, &b);
    nagm_tc_i32(&t, -64);
    nagm_tc_i32(&t, -65);
    nagm_tc_i64(&t, INT64_MIN);
    assert_bytes(&b, 0x7f, 0x81, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                 0x01);
    nagm_bytes_free(&b);
}

static void test_field_deltas(void **state)
{
    (void)state;
    nagm_bytes b = {0};
    nagm_tc t;
    nagm_tc_init(&t, &b);
    nagm_tc_struct_begin(&t);
    nagm_tc_field_i32(&t, 1, 1);     /* delta 1, type 5: 0x15; zigzag(1) = 2 */
    nagm_tc_field_i32(&t, 2, -1);    /* delta 1 again: 0x15; zigzag(-1) = 1 */
    nagm_tc_field_i64(&t, 20, 150);  /* delta 18 > 15: 0x06, zigzag(20)=40, zigzag(150)=300 */
    nagm_tc_field_bool(&t, 21, 1);   /* delta 1, true in the type nibble: 0x11 */
    nagm_tc_field_bool(&t, 22, 0);   /* 0x12 */
    nagm_tc_field_i32(&t, 5, 7);     /* going back: long form 0x05, zigzag(5) = 10, 14 */
    nagm_tc_field_i8(&t, 20, -1);    /* delta 15, type 3: 0xf3, raw byte 0xff */
    nagm_tc_field_i16(&t, 21, -2);   /* 0x14, zigzag(-2) = 3 */
    nagm_tc_struct_end(&t);
    assert_int_equal(t.err, 0);
    assert_int_equal(t.depth, 0);
    assert_bytes(&b, 0x15, 0x02, 0x15, 0x01, 0x06, 0x28, 0xac, 0x02, 0x11, 0x12, 0x05, 0x0a,
                 0x0e, 0xf3, 0xff, 0x14, 0x03, 0x00);
    nagm_bytes_free(&b);
}

static void test_binary_and_lists(void **state)
{
    (void)state;
    nagm_bytes b = {0};
    nagm_tc t;
    nagm_tc_init(&t, &b);
    nagm_tc_struct_begin(&t);
    nagm_tc_field_string(&t, 4, "abc");                 /* 0x48, len 3 */
    nagm_tc_field_list_begin(&t, 5, NAGM_TC_I32, 3);    /* 0x19, (3 << 4) | 5 */
    nagm_tc_i32(&t, 1);
    nagm_tc_i32(&t, 2);
    nagm_tc_i32(&t, 3);
    nagm_tc_field_list_begin(&t, 6, NAGM_TC_BINARY, 0); /* 0x19, (0 << 4) | 8 */
    nagm_tc_field_binary(&t, 7, "", 0);                 /* 0x18, len 0 */
    nagm_tc_struct_end(&t);
    assert_int_equal(t.err, 0);
    assert_bytes(&b, 0x48, 0x03, 'a', 'b', 'c', 0x19, 0x35, 0x02, 0x04, 0x06, 0x19, 0x08, 0x18,
                 0x00, 0x00);
    nagm_bytes_free(&b);

    /* 15 elements: the size no longer fits the nibble: 0xf5 then varint 15. */
    nagm_tc_init(&t, &b);
    nagm_tc_list_header(&t, NAGM_TC_I64, 15);
    nagm_tc_list_header(&t, NAGM_TC_STRUCT, 14);
    nagm_tc_list_header(&t, NAGM_TC_BINARY, 300);
    assert_bytes(&b, 0xf6, 0x0f, 0xec, 0xf8, 0xac, 0x02);
    nagm_bytes_free(&b);
}

static void test_nested_structs(void **state)
{
    (void)state;
    nagm_bytes b = {0};
    nagm_tc t;
    nagm_tc_init(&t, &b);
    nagm_tc_struct_begin(&t);
    nagm_tc_field_i32(&t, 1, 7);          /* 0x15 0x0e */
    nagm_tc_field_struct_begin(&t, 3);    /* delta 2, type 12: 0x2c */
    nagm_tc_field_i32(&t, 1, 1);          /* inner ids restart at 0: 0x15 0x02 */
    nagm_tc_field_struct_begin(&t, 2);    /* 0x1c */
    nagm_tc_struct_end(&t);               /* empty struct: 0x00 */
    nagm_tc_struct_end(&t);               /* 0x00 */
    nagm_tc_field_i32(&t, 4, 0);          /* outer resumes from 3: delta 1: 0x15 0x00 */
    nagm_tc_field_list_begin(&t, 5, NAGM_TC_STRUCT, 2); /* 0x19 0x2c */
    nagm_tc_struct_begin(&t);
    nagm_tc_field_i64(&t, 2, -3);         /* 0x26 0x05 */
    nagm_tc_struct_end(&t);
    nagm_tc_struct_begin(&t);
    nagm_tc_struct_end(&t);
    nagm_tc_field_bool(&t, 6, 1);         /* after the list, delta from 5: 0x11 */
    nagm_tc_struct_end(&t);
    assert_int_equal(t.err, 0);
    assert_bytes(&b, 0x15, 0x0e, 0x2c, 0x15, 0x02, 0x1c, 0x00, 0x00, 0x15, 0x00, 0x19, 0x2c, 0x26,
                 0x05, 0x00, 0x00, 0x11, 0x00);
    nagm_bytes_free(&b);
}

/* A Parquet PageHeader for a 10-value PLAIN data page, 100 bytes raw and
 * 50 compressed, worked out field by field:
 *   1: type i32 0            15 00
 *   2: uncompressed i32 100  15 c8 01   (zigzag 200)
 *   3: compressed i32 50     15 64      (zigzag 100)
 *   5: DataPageHeader        2c
 *      1: num_values 10      15 14
 *      2: encoding 0         15 00
 *      3: def enc 3 (RLE)    15 06
 *      4: rep enc 3          15 06
 *      stop                  00
 *   stop                     00 */
static void test_page_header(void **state)
{
    (void)state;
    nagm_bytes b = {0};
    nagm_tc t;
    nagm_tc_init(&t, &b);
    nagm_tc_struct_begin(&t);
    nagm_tc_field_i32(&t, 1, 0);
    nagm_tc_field_i32(&t, 2, 100);
    nagm_tc_field_i32(&t, 3, 50);
    nagm_tc_field_struct_begin(&t, 5);
    nagm_tc_field_i32(&t, 1, 10);
    nagm_tc_field_i32(&t, 2, 0);
    nagm_tc_field_i32(&t, 3, 3);
    nagm_tc_field_i32(&t, 4, 3);
    nagm_tc_struct_end(&t);
    nagm_tc_struct_end(&t);
    assert_int_equal(t.err, 0);
    assert_bytes(&b, 0x15, 0x00, 0x15, 0xc8, 0x01, 0x15, 0x64, 0x2c, 0x15, 0x14, 0x15, 0x00, 0x15,
                 0x06, 0x15, 0x06, 0x00, 0x00);
    nagm_bytes_free(&b);
}

static void test_misuse_is_an_error(void **state)
{
    (void)state;
    nagm_bytes b = {0};
    nagm_tc t;
    nagm_tc_init(&t, &b);
    nagm_tc_field_i32(&t, 1, 1); /* no struct open */
    assert_int_equal(t.err, -1);

    nagm_tc_init(&t, &b);
    for (int i = 0; i <= NAGM_TC_MAX_DEPTH; i++)
        nagm_tc_struct_begin(&t);
    assert_int_equal(t.err, -1);

    nagm_tc_init(&t, &b);
    nagm_tc_struct_end(&t); /* nothing to close */
    assert_int_equal(t.err, -1);
    nagm_bytes_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varint),          cmocka_unit_test(test_zigzag),
        cmocka_unit_test(test_field_deltas),    cmocka_unit_test(test_binary_and_lists),
        cmocka_unit_test(test_nested_structs),  cmocka_unit_test(test_page_header),
        cmocka_unit_test(test_misuse_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
