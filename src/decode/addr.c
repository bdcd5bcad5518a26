/* Address helpers for the packet record: ordering, text forms, parsing. */
#include <arpa/inet.h>
#include <string.h>

#include "netagm/pkt.h"

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

size_t nagm_addr_format(const nagm_addr *a, char *out)
{
    /* glibc's inet_ntop follows RFC 5952 (lower case, longest zero run
     * compressed, a single zero field not compressed, IPv4-mapped form). */
    if (!inet_ntop(a->family == 6 ? AF_INET6 : AF_INET, a->b, out, NAGM_ADDR_STRLEN)) {
        out[0] = '\0';
        return 0;
    }
    return strlen(out);
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
