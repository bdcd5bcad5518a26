/* Address helpers for the packet record: ordering, text forms, parsing. */
#include <arpa/inet.h>
#include <string.h>

#include "netagm/pkt.h"
#include "util/fmt.h"

static const char *const field_names[NAGM_NFIELDS] = {
    "dst_ip", "src_port", "dst_port", "ttl", "proto", "flags", "len",
};

const char *nagm_field_name(int field)
{
    return (field >= 0 && field < NAGM_NFIELDS) ? field_names[field] : "?";
}

int nagm_addr_cmp(const nagm_addr *a, const nagm_addr *b)
{
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    return memcmp(a->b, b->b, a->family == 4 ? 4 : 16);
}

/* Dotted quad of b[0..4) at p; returns the end. */
static char *put_v4(char *p, const uint8_t *b)
{
    p = nagm_put_u10(p, b[0]);
    for (int i = 1; i < 4; i++) {
        *p++ = '.';
        p = nagm_put_u10(p, b[i]);
    }
    return p;
}

/* Lower-case hex of a 16-bit group without leading zeros; returns the end. */
static char *put_group(char *p, unsigned g)
{
    static const char hex[] = "0123456789abcdef";
    int shift = 12;
    while (shift > 0 && !(g >> shift))
        shift -= 4;
    for (; shift >= 0; shift -= 4)
        *p++ = hex[(g >> shift) & 15];
    return p;
}

/* RFC 5952 text form, written the way glibc's inet_ntop does: the longest
 * run of two or more zero groups (the first of equal runs) becomes "::", and
 * ::a.b.c.d / ::ffff:a.b.c.d end in a dotted quad. By hand because glibc
 * formats every group with sprintf (tested against inet_ntop). */
static char *put_v6(char *p, const uint8_t *b)
{
    unsigned g[8];
    for (int i = 0; i < 8; i++)
        g[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
    int best = -1, best_len = 0;
    for (int i = 0; i < 8;) {
        if (g[i]) {
            i++;
            continue;
        }
        int j = i;
        while (j < 8 && !g[j])
            j++;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j;
    }
    if (best_len < 2)
        best = -1;
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            *p++ = ':';
            i += best_len - 1;
            if (i == 7)
                *p++ = ':';
            continue;
        }
        if (i)
            *p++ = ':';
        if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && g[5] == 0xffff)))
            return put_v4(p, b + 12);
        p = put_group(p, g[i]);
    }
    return p;
}

size_t nagm_addr_format(const nagm_addr *a, char *out)
{
    char *e = a->family == 6 ? put_v6(out, a->b) : put_v4(out, a->b);
    *e = '\0';
    return (size_t)(e - out);
}

int nagm_addr_parse(const char *s, nagm_addr *out)
{
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, s, out->b) == 1) {
        out->family = 4;
        return 0;
    }
    if (inet_pton(AF_INET6, s, out->b) == 1) {
        out->family = 6;
        return 0;
    }
    return -1;
}

nagm_addr nagm_addr_v4(uint32_t host_order)
{
    nagm_addr a;
    memset(&a, 0, sizeof a);
    a.family = 4;
    a.b[0] = (uint8_t)(host_order >> 24);
    a.b[1] = (uint8_t)(host_order >> 16);
    a.b[2] = (uint8_t)(host_order >> 8);
    a.b[3] = (uint8_t)host_order;
    return a;
}
