/* libFuzzer target: the Kafka packet-record decoder (bytes from the network).
 * A record that decodes must encode back to the same bytes, and its fields
 * must be in range. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netagm/pktwire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nagm_pkt p;
    if (nagm_pktwire_decode(data, size, &p) != 0)
        return 0;
    if (p.src.family != 4 && p.src.family != 6)
        abort();
    if (p.dst.family != p.src.family)
        abort();
    uint8_t out[NAGM_PKTWIRE_MAX];
    size_t n = nagm_pktwire_encode(&p, out);
    if (n == 0 || n > size || memcmp(out, data, n) != 0)
        abort();
    uint8_t key[16];
    if (nagm_pktwire_key(&p, key) != (p.src.family == 4 ? 4u : 16u))
        abort();
    return 0;
}
