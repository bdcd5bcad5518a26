/* Fuzz target for the capture layer: the input is a whole capture file
 * (pcap, pcapng, or either gzip/zstd-compressed). It is read to the end or
 * to the first error through a small stream buffer and short reads, so block
 * growth and refills at every boundary are exercised, every frame byte is
 * touched (ASan checks the extent each frame claims), and every frame goes
 * through a BPF filter compiled per link type. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture_int.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static nagm_bpf *bpf;
    char err[NAGM_ERRBUF_SIZE];
    if (!bpf)
        CHECK(nagm_bpf_new("tcp or udp or (vlan and ip)", &bpf, err) == 0);

    int compressed = size >= 2 && ((data[0] == 0x1f && data[1] == 0x8b) ||
                                   (size >= 4 && data[0] == 0x28 && data[1] == 0xb5 &&
                                    data[2] == 0x2f && data[3] == 0xfd));
    /* Derived from the size only, so an input replays the same way. */
    cap_open_opts o = {.bufsize = 128, .chunk = size % 3 == 0 ? 0 : 1 + size % 61};
    nagm_capture *c = (nagm_capture *)&o;
    int rc = nagm_capture_open_mem(data, size, "fuzz", &o, &c, err);
    if (rc != 0) {
        CHECK(rc < 0 && rc >= -NAGM_CAP_ENOMEM && c == NULL);
        CHECK(strncmp(err, "fuzz: offset ", 13) == 0);
        return 0;
    }
    nagm_frame f;
    uint64_t frames = 0, sum = 0;
    while ((rc = nagm_capture_next(c, &f)) == 1) {
        for (uint32_t i = 0; i < f.caplen; i++)
            sum += f.data[i];
        if (!compressed)
            CHECK(f.caplen <= size && nagm_capture_offset(c) <= size);
        (void)nagm_bpf_match(bpf, &f);
        ++frames;
        /* A zero-length record per 16 bytes is the densest plain input; more
         * frames than that would mean a loop. Compressed input may expand a
         * thousandfold legitimately: stop early instead. */
        if (compressed && frames > 100000)
            break;
        CHECK(compressed || frames <= 1 + size / 12);
    }
    if (rc == 1) {
        nagm_capture_close(c);
        return 0;
    }
    CHECK(rc <= 0 && rc >= -NAGM_CAP_ENOMEM);
    const char *msg = nagm_capture_error(c);
    if (rc == 0)
        CHECK(msg[0] == '\0');
    else
        CHECK(strncmp(msg, "fuzz: offset ", 13) == 0);
    CHECK(nagm_capture_next(c, &f) == rc);
    if (!compressed)
        CHECK(nagm_capture_raw_bytes(c) <= size);
    nagm_capture_close(c);
    return (int)(sum & 0);
}
