/* Classic pcap reader (src/capture/cap_pcap.c) against libpcap, frame for
 * frame.
 *
 * netagm reads classic pcap files itself; libpcap, which it used to read them
 * with, is the reference. Every input is read by both: libpcap through
 * pcap_fopen_offline_with_tstamp_precision(NANO) over a FILE on the same
 * (decompressed) bytes, netagm through nagm_capture_open or
 * nagm_capture_open_mem. They must agree on every frame (time stamp,
 * captured and original length, link type, bytes) and on the position after
 * it (netagm's offset against ftell on libpcap's FILE), and end the same way:
 * both cleanly at the same place, or both with an error of the same kind
 * whose message carries libpcap's, at the offset where libpcap's FILE stood
 * before the failed read (the start of the bad record). A file libpcap
 * refuses must be refused with libpcap's reason.
 *
 * Inputs:
 *  - every capture in $NETAGM_PCAPS whose bytes, gunzipped if need be, are
 *    a classic pcap (plain files by path, .gz through netagm's own gunzip),
 *    once more from memory through a small stream buffer fed in short reads;
 *  - one hand-made file per edge case (byte orders, nanoseconds, Kuznetzov's
 *    format, snapshot rules, cut and oversized records, old versions, FCS
 *    bits, pseudo-headers libpcap converts), whose expected values are also
 *    written out below;
 *  - several thousand generated files mixing all of those, cut anywhere;
 *  - a pipe that stays open, which must yield each record without waiting
 *    for bytes after it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pcap/pcap.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "corpus.h"
#include "capture/cap_linktype.h"
#include "capture/capture_int.h"
#include "slurp.h"

/* ---- byte buffers ----------------------------------------------------------- */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void b_put(buf *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->n + n)
            nc *= 2;
        b->p = realloc(b->p, nc);
        assert_non_null(b->p);
        b->cap = nc;
    }
    if (n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void b_u16(buf *b, uint16_t v, int be)
{
    uint8_t x[2] = {(uint8_t)(be ? v >> 8 : v), (uint8_t)(be ? v : v >> 8)};
    b_put(b, x, 2);
}

static void b_u32(buf *b, uint32_t v, int be)
{
    uint8_t x[4];
    for (int i = 0; i < 4; i++)
        x[be ? i : 3 - i] = (uint8_t)(v >> (24 - 8 * i));
    b_put(b, x, 4);
}

static void b_free(buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static void put32(uint8_t *p, uint32_t v, int be)
{
    for (int i = 0; i < 4; i++)
        p[be ? i : 3 - i] = (uint8_t)(v >> (24 - 8 * i));
}

enum { MAGIC_US = 0xa1b2c3d4, MAGIC_NS = 0xa1b23c4d, MAGIC_KUZ = 0xa1b2cd34 };

static void pc_header(buf *b, uint32_t magic, int be, uint16_t major, uint16_t minor,
                      uint32_t snaplen, uint32_t linktype)
{
    b_u32(b, magic, be);
    b_u16(b, major, be);
    b_u16(b, minor, be);
    b_u32(b, 0, be); /* thiszone */
    b_u32(b, 0, be); /* sigfigs */
    b_u32(b, snaplen, be);
    b_u32(b, linktype, be);
}

/* A record whose header says caplen/len and which carries n data bytes
 * (n may differ from caplen on purpose). Returns its offset. */
static size_t pc_record(buf *b, int be, int kuz, uint32_t sec, uint32_t frac,
                        uint32_t caplen, uint32_t len, const void *data, size_t n)
{
    size_t at = b->n;
    b_u32(b, sec, be);
    b_u32(b, frac, be);
    b_u32(b, caplen, be);
    b_u32(b, len, be);
    if (kuz) {
        /* ifindex, protocol, pkt_type, pad: never part of the frame */
        static const uint8_t extra[8] = {0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee};
        b_put(b, extra, 8);
    }
    b_put(b, data, n);
    return at;
}

/* ---- the comparison --------------------------------------------------------- */

static long long msg_offset(const char *msg)
{
    const char *o = strstr(msg, ": offset ");
    return o ? strtoll(o + 9, NULL, 10) : -1;
}

static int magic_kind(const uint8_t *m, size_t n, int *nano, int *kuz)
{
    if (n < 4)
        return 0;
    uint32_t be = ((uint32_t)m[0] << 24) | ((uint32_t)m[1] << 16) | ((uint32_t)m[2] << 8) | m[3];
    uint32_t le = ((uint32_t)m[3] << 24) | ((uint32_t)m[2] << 16) | ((uint32_t)m[1] << 8) | m[0];
    uint32_t v = 0;
    if (be == MAGIC_US || be == MAGIC_NS || be == MAGIC_KUZ)
        v = be;
    else if (le == MAGIC_US || le == MAGIC_NS || le == MAGIC_KUZ)
        v = le;
    *nano = v == MAGIC_NS;
    *kuz = v == MAGIC_KUZ;
    return v != 0;
}

typedef struct outcome {
    int opened;          /* both opened the file */
    int end;             /* 0 clean end, else -NAGM_CAP_E* (also for open errors) */
    uint64_t frames;
    uint64_t converted;  /* frames whose bytes libpcap changed from the file's */
    uint64_t relength;   /* frames whose original length libpcap recomputed */
    uint64_t cut;        /* frames cut to the snapshot length */
    char err[NAGM_ERRBUF_SIZE];
} outcome;

typedef struct totals {
    uint64_t files, frames, clean, trunc, damaged, refused;
    uint64_t converted, relength, cut;
} totals;

static void tally(totals *t, const outcome *o)
{
    t->files++;
    t->frames += o->frames;
    t->converted += o->converted;
    t->relength += o->relength;
    t->cut += o->cut;
    if (!o->opened)
        t->refused++;
    else if (o->end == 0)
        t->clean++;
    else if (o->end == -NAGM_CAP_ETRUNC)
        t->trunc++;
    else
        t->damaged++;
}

static uint32_t rd32(const uint8_t *p, int be)
{
    return be ? ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]
              : ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0];
}

/* netagm's side of compare: one frame a call (batch 0), or through
 * nagm_capture_next_batch asking for 1..batch frames at a time (batch <= 64)
 * and handing them out one by one, so that every frame of a batch is checked
 * after the batch was read (its bytes must still be in place). */
typedef struct ours {
    nagm_capture *c;
    int batch;
    nagm_frame q[64];
    int n, i;
    uint32_t seed;
} ours;

/* Frames that came in batches of two or more, over the whole test. */
static unsigned long long batched_frames;

/* The next frame as nagm_capture_next returns it; *last: the frame ends its
 * batch, so the reader's offset is the frame's end. */
static int ours_next(ours *o, nagm_frame *f, int *last)
{
    *last = 1;
    if (!o->batch)
        return nagm_capture_next(o->c, f);
    if (o->i == o->n) {
        o->seed = o->seed * 1103515245u + 12345u;
        int r = nagm_capture_next_batch(o->c, o->q, 1 + (int)((o->seed >> 16) % (unsigned)o->batch));
        if (r <= 0)
            return r;
        if (r > 1)
            batched_frames += (unsigned long long)r;
        o->n = r;
        o->i = 0;
    }
    *f = o->q[o->i++];
    *last = o->i == o->n;
    return 1;
}

/* Compare libpcap reading fp (taken over) with netagm's capture c (or its
 * open result our_rc/our_err), read a frame at a time (batch 0) or in
 * batches of up to batch frames. raw/raw_n: the decompressed file, for the
 * statistics only. */
static void compare(const char *label, FILE *fp, int our_rc, nagm_capture *c,
                    const char *our_err, const uint8_t *raw, size_t raw_n, int batch,
                    outcome *o)
{
    ours us = {.c = c, .batch = batch, .seed = (uint32_t)raw_n};
    memset(o, 0, sizeof *o);
    assert_non_null(fp);
    int nano = 0, kuz = 0;
    assert_true(magic_kind(raw, raw_n, &nano, &kuz));
    int be = raw[0] == 0xa1;
    char perr[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, perr);
    if (!p) {
        fclose(fp); /* libpcap leaves the FILE to the caller on failure */
        if (our_rc == 0) {
            nagm_capture_close(c);
            fail_msg("%s: libpcap refuses it (%s), netagm opened it", label, perr);
        }
        if (!strstr(our_err, perr))
            fail_msg("%s: netagm's open error \"%s\" lacks libpcap's \"%s\"", label, our_err,
                     perr);
        int want = strstr(perr, "truncated") ? -NAGM_CAP_ETRUNC : -NAGM_CAP_EFORMAT;
        if (our_rc != want || msg_offset(our_err) != 0)
            fail_msg("%s: open error %d \"%s\", want %d at offset 0", label, our_rc, our_err,
                     want);
        o->end = our_rc;
        snprintf(o->err, sizeof o->err, "%s", our_err);
        return;
    }
    if (our_rc != 0) {
        pcap_close(p);
        fail_msg("%s: netagm refuses it (%s), libpcap opened it", label, our_err);
    }
    o->opened = 1;
    uint32_t lt = cap_linktype_from_dlt(pcap_datalink(p));
    uint32_t hs = kuz ? 24 : 16;
    uint32_t snap = (uint32_t)pcap_snapshot(p);
    for (;;) {
        long before = ftell(fp);
        assert_true(before >= 0);
        struct pcap_pkthdr *h;
        const u_char *d;
        int rp = pcap_next_ex(p, &h, &d);
        nagm_frame f;
        int last;
        int rc = ours_next(&us, &f, &last);
        unsigned long long k = (unsigned long long)o->frames;
        if (rp == 1) {
            if (rc != 1)
                fail_msg("%s: frame %llu: netagm ends with %d (%s), libpcap has a frame", label,
                         k, rc, nagm_capture_error(c));
            /* pcap-savefile(5): both time stamp fields are unsigned 32-bit
             * values; libpcap hands them out sign-extended (or not, for the
             * other byte order). */
            uint64_t frac = nano ? (uint32_t)h->ts.tv_usec
                                 : (uint64_t)(uint32_t)(h->ts.tv_usec / 1000) * 1000u;
            int64_t ts = (int64_t)((uint64_t)(uint32_t)h->ts.tv_sec * 1000000000u + frac);
            if (f.ts_ns != ts || f.caplen != h->caplen || f.wirelen != h->len ||
                f.linktype != lt)
                fail_msg("%s: frame %llu: ts %lld/%lld caplen %u/%u len %u/%u linktype %u/%u",
                         label, k, (long long)f.ts_ns, (long long)ts, f.caplen, h->caplen,
                         f.wirelen, h->len, f.linktype, lt);
            if (h->caplen && memcmp(f.data, d, h->caplen) != 0)
                fail_msg("%s: frame %llu: bytes differ", label, k);
            long after = ftell(fp);
            if (last && (long long)nagm_capture_offset(c) != (long long)after)
                fail_msg("%s: frame %llu: netagm's offset %llu, libpcap's FILE at %ld", label, k,
                         (unsigned long long)nagm_capture_offset(c), after);
            /* What libpcap did to the record, for the statistics. */
            if ((size_t)before + hs + h->caplen <= raw_n) {
                const uint8_t *rh = raw + before;
                if (h->caplen && memcmp(rh + hs, d, h->caplen) != 0)
                    o->converted++;
                if (h->len != rd32(rh + 12, be) && h->len != rd32(rh + 8, be))
                    o->relength++;
                if (h->caplen == snap && rd32(rh + 8, be) > snap && rd32(rh + 12, be) > snap)
                    o->cut++;
            }
            o->frames++;
            continue;
        }
        if (rc == 1)
            fail_msg("%s: frame %llu: netagm has a frame, libpcap ends with %d (%s)", label, k,
                     rp, rp == PCAP_ERROR ? pcap_geterr(p) : "");
        const char *err = nagm_capture_error(c);
        if (rp == PCAP_ERROR_BREAK) {
            if (rc != 0)
                fail_msg("%s: after %llu frames netagm fails (%s), libpcap ends cleanly", label,
                         k, err);
            if ((long long)nagm_capture_offset(c) != (long long)before)
                fail_msg("%s: clean end at %llu, libpcap's at %ld", label,
                         (unsigned long long)nagm_capture_offset(c), before);
        } else {
            const char *pe = pcap_geterr(p);
            int want = strstr(pe, "truncated")                       ? -NAGM_CAP_ETRUNC
                       : strstr(pe, "invalid packet capture length") ? -NAGM_CAP_EDAMAGED
                                                                     : 0;
            if (rc != want || !strstr(err, pe) || msg_offset(err) != before)
                fail_msg("%s: after %llu frames netagm ends %d \"%s\"; libpcap \"%s\" "
                         "(want %d at offset %ld)",
                         label, k, rc, err, pe, want, before);
        }
        /* The end is sticky, for both calls. */
        assert_int_equal(nagm_capture_next(c, &f), rc);
        assert_int_equal(nagm_capture_next_batch(c, us.q, 64), rc);
        o->end = rc;
        snprintf(o->err, sizeof o->err, "%s", err);
        break;
    }
    pcap_close(p);
    nagm_capture_close(c);
}

/* Compare on an in-memory file, with netagm reading it through the given
 * stream options (NULL: defaults). */
static void compare_mem(const char *label, const uint8_t *d, size_t n, const cap_open_opts *oo,
                        int batch, outcome *o)
{
    nagm_capture *c = NULL;
    char err[NAGM_ERRBUF_SIZE] = "";
    int rc = nagm_capture_open_mem(d, n, label, oo, &c, err);
    FILE *fp = fmemopen((void *)(uintptr_t)d, n, "rb");
    compare(label, fp, rc, c, err, d, n, batch, o);
}

/* Both ways: the default stream a frame at a time, then a 32-byte buffer fed
 * 1..13 bytes a read, so that every record straddles refills, in batches.
 * Returns the first. */
static void compare_both(const char *label, const buf *b, outcome *o)
{
    compare_mem(label, b->p, b->n, NULL, 0, o);
    outcome o2;
    cap_open_opts small = {.bufsize = 32, .chunk = 1 + b->n % 13};
    compare_mem(label, b->p, b->n, &small, 64, &o2);
    assert_int_equal(o2.end, o->end);
    assert_int_equal(o2.frames, o->frames);
}

/* netagm's frames of a hand-made file, for the values written out below. */
typedef struct got {
    int n, end;
    int64_t ts[8];
    uint32_t caplen[8], wirelen[8], linktype[8];
    uint8_t data[8][64];
    char err[NAGM_ERRBUF_SIZE];
} got;

static void collect(const buf *b, got *g)
{
    memset(g, 0, sizeof *g);
    nagm_capture *c;
    int rc = nagm_capture_open_mem(b->p, b->n, "t", NULL, &c, g->err);
    if (rc != 0) {
        g->end = rc;
        return;
    }
    nagm_frame f;
    while ((rc = nagm_capture_next(c, &f)) == 1) {
        assert_true(g->n < 8);
        g->ts[g->n] = f.ts_ns;
        g->caplen[g->n] = f.caplen;
        g->wirelen[g->n] = f.wirelen;
        g->linktype[g->n] = f.linktype;
        memcpy(g->data[g->n], f.data, f.caplen < 64 ? f.caplen : 64);
        g->n++;
    }
    g->end = rc;
    snprintf(g->err, sizeof g->err, "%s", nagm_capture_error(c));
    nagm_capture_close(c);
}

/* Compare with libpcap, then collect netagm's frames. */
static void handmade(const char *label, const buf *b, got *g)
{
    outcome o;
    compare_both(label, b, &o);
    collect(b, g);
    assert_int_equal(g->n, o.opened ? (int)o.frames : 0);
    assert_int_equal(g->end, o.end);
}

static uint8_t PAT[512];

/* ---- the corpus ------------------------------------------------------------- */


/* gunzip (all members); NULL when the data is not complete gzip. */
static uint8_t *gunzip(const uint8_t *z, size_t zn, size_t *len)
{
    z_stream s;
    memset(&s, 0, sizeof s);
    assert_int_equal(inflateInit2(&s, 15 + 16), Z_OK);
    size_t cap = zn * 4 + 1024, n = 0;
    uint8_t *out = malloc(cap);
    assert_non_null(out);
    s.next_in = (Bytef *)(uintptr_t)z;
    s.avail_in = (uInt)zn;
    int ret = Z_OK;
    for (;;) {
        if (n == cap) {
            cap *= 2;
            out = realloc(out, cap);
            assert_non_null(out);
        }
        s.next_out = out + n;
        s.avail_out = (uInt)(cap - n);
        ret = inflate(&s, Z_NO_FLUSH);
        n = cap - s.avail_out;
        if (ret == Z_STREAM_END) {
            /* another member? */
            if (s.avail_in >= 2 && s.next_in[0] == 0x1f && s.next_in[1] == 0x8b) {
                assert_int_equal(inflateReset(&s), Z_OK);
                continue;
            }
            break;
        }
        if (ret != Z_OK && !(ret == Z_BUF_ERROR && s.avail_out == 0))
            break;
    }
    inflateEnd(&s);
    if (ret != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    *len = n;
    return out;
}

static void test_corpus(void **state)
{
    (void)state;
    const char *dir;
    FILE *inv = corpus_inventory(&dir);
    char p[4096];
    time_t t0 = time(NULL);
    totals all = {0}, small = {0};
    uint64_t rows = 0, gz = 0, gz_bad = 0, swapped = 0, nano = 0, kuz = 0, bytes = 0;
    char line[8192];
    int first = 1;
    while (fgets(line, sizeof line, inv)) {
        if (first) {
            first = 0;
            continue;
        }
        line[strcspn(line, "\t\n")] = '\0';
        rows++;
        if (snprintf(p, sizeof p, "%s/%.3000s", dir, line) >= (int)sizeof p)
            fail_msg("%s: path too long", line);
        size_t fn = 0;
        uint8_t *file = slurp(p, &fn);
        if (!file)
            fail_msg("%s: listed in INVENTORY.tsv, cannot be read", line);
        uint8_t *d = file;
        size_t n = fn;
        int is_gz = fn >= 2 && file[0] == 0x1f && file[1] == 0x8b;
        if (is_gz) {
            d = gunzip(file, fn, &n);
            if (!d) {
                gz_bad++; /* not complete gzip: nothing for libpcap to read */
                free(file);
                continue;
            }
        }
        int ns, kz;
        if (!magic_kind(d, n, &ns, &kz)) {
            if (d != file)
                free(d);
            free(file);
            continue;
        }
        gz += is_gz;
        nano += ns;
        kuz += kz;
        swapped += d[0] == 0xa1;
        bytes += n;

        /* netagm by path: the file (or its gzip) through the real stream,
         * in batches of 1..64 frames */
        nagm_capture *c = NULL;
        char err[NAGM_ERRBUF_SIZE] = "";
        int rc = nagm_capture_open(p, &c, err);
        outcome o;
        compare(line, fmemopen(d, n, "rb"), rc, c, err, d, n, 64, &o);
        tally(&all, &o);
        if (o.end != 0)
            print_message("  %s\n", o.err);

        /* netagm from memory: small buffer, short reads, a frame a call */
        cap_open_opts so = {.bufsize = 64, .chunk = 1 + rows % 61};
        outcome o2;
        c = NULL;
        rc = nagm_capture_open_mem(file, fn, line, &so, &c, err);
        compare(line, fmemopen(d, n, "rb"), rc, c, err, d, n, 0, &o2);
        tally(&small, &o2);
        assert_int_equal(o2.frames, o.frames);
        if (d != file)
            free(d);
        free(file);
    }
    fclose(inv);
    print_message("corpus: %llu INVENTORY rows, %llu classic pcap files (%llu gzip, %llu "
                  "big-endian, %llu nanosecond, %llu Kuznetzov; %llu MB), %llu .gz not "
                  "complete gzip\n",
                  (unsigned long long)rows, (unsigned long long)all.files,
                  (unsigned long long)gz, (unsigned long long)swapped,
                  (unsigned long long)nano, (unsigned long long)kuz,
                  (unsigned long long)(bytes >> 20), (unsigned long long)gz_bad);
    print_message("corpus: %llu frames identical to libpcap (%llu cut to the snapshot, %llu "
                  "with converted pseudo-headers); ends: %llu clean, %llu truncated, %llu "
                  "damaged, %llu refused alike; again through a 64-byte buffer: %llu frames; "
                  "%lds\n",
                  (unsigned long long)all.frames, (unsigned long long)all.cut,
                  (unsigned long long)all.converted, (unsigned long long)all.clean,
                  (unsigned long long)all.trunc, (unsigned long long)all.damaged,
                  (unsigned long long)all.refused, (unsigned long long)small.frames,
                  (long)(time(NULL) - t0));
    /* The corpus holds some 2,250 classic pcap files, a few dozen of them
     * gzipped, dozens big-endian and damaged on purpose. */
    assert_true(all.files >= 2000);
    assert_true(gz >= 20);
    assert_true(swapped >= 20);
    assert_true(nano >= 1 && kuz >= 1);
    assert_true(all.trunc >= 2 && all.refused >= 1);
    assert_true(all.frames >= 500000);
    assert_int_equal(small.frames, all.frames);
    /* most frames came in batches of several (the rest: short files, the
     * end of a buffer, batches of one asked for) */
    print_message("corpus: %llu frames in batches of two or more\n", batched_frames);
    assert_true(batched_frames * 2 >= all.frames);
}

/* ---- hand-made edge cases ------------------------------------------------- */

static void test_byte_orders_and_precision(void **state)
{
    (void)state;
    for (int be = 0; be <= 1; be++) {
        /* microseconds; the seconds field is unsigned */
        buf b = {0};
        got g;
        pc_header(&b, MAGIC_US, be, 2, 4, 65535, 1);
        pc_record(&b, be, 0, 1700000000, 123456, 60, 60, PAT, 60);
        pc_record(&b, be, 0, 0xffffffffu, 999999, 14, 1514, PAT + 7, 14);
        pc_record(&b, be, 0, 0x80000000u, 0, 0, 0, NULL, 0);
        pc_record(&b, be, 0, 5, 1000000, 4, 4, PAT, 4); /* a fraction of a whole second */
        handmade(be ? "micro, big-endian" : "micro, little-endian", &b, &g);
        assert_int_equal(g.end, 0);
        assert_int_equal(g.n, 4);
        assert_int_equal(g.ts[0], 1700000000123456000LL);
        assert_int_equal(g.ts[1], 4294967295999999000LL);
        assert_int_equal(g.ts[2], 2147483648000000000LL);
        assert_int_equal(g.ts[3], 6000000000LL);
        assert_int_equal(g.caplen[0], 60);
        assert_int_equal(g.caplen[1], 14);
        assert_int_equal(g.wirelen[1], 1514);
        assert_int_equal(g.caplen[2], 0);
        assert_memory_equal(g.data[0], PAT, 60);
        assert_memory_equal(g.data[1], PAT + 7, 14);
        assert_int_equal(g.linktype[0], 1);
        b_free(&b);

        /* nanoseconds */
        pc_header(&b, MAGIC_NS, be, 2, 4, 65535, 101);
        pc_record(&b, be, 0, 1700000000, 999999999, 20, 40, PAT, 20);
        pc_record(&b, be, 0, 0xffffffffu, 0xffffffffu, 1, 1, PAT, 1);
        handmade(be ? "nano, big-endian" : "nano, little-endian", &b, &g);
        assert_int_equal(g.n, 2);
        assert_int_equal(g.ts[0], 1700000000999999999LL);
        assert_int_equal(g.ts[1], 4294967295LL * 1000000000 + 4294967295LL);
        assert_int_equal(g.linktype[0], 101);
        assert_int_equal(g.wirelen[0], 40);
        b_free(&b);
    }
}

static void test_kuznetzov(void **state)
{
    (void)state;
    for (int be = 0; be <= 1; be++) {
        buf b = {0};
        got g;
        /* Ethernet: the snapshot grows by 14 (a cooked capture's fake
         * Ethernet header), 100 -> 114. */
        pc_header(&b, MAGIC_KUZ, be, 2, 4, 100, 1);
        pc_record(&b, be, 1, 10, 20, 110, 120, PAT, 110);
        pc_record(&b, be, 1, 11, 21, 120, 130, PAT + 1, 120);
        pc_record(&b, be, 1, 12, 22, 3, 3, PAT + 2, 3);
        handmade("kuznetzov, ethernet", &b, &g);
        assert_int_equal(g.end, 0);
        assert_int_equal(g.n, 3);
        assert_int_equal(g.ts[0], 10000020000LL);
        assert_int_equal(g.caplen[0], 110);
        assert_int_equal(g.caplen[1], 114);
        assert_int_equal(g.wirelen[1], 130);
        assert_memory_equal(g.data[1], PAT + 1, 64);
        assert_memory_equal(g.data[2], PAT + 2, 3);
        b_free(&b);

        /* any other link type keeps the header's snapshot */
        pc_header(&b, MAGIC_KUZ, be, 2, 4, 100, 105);
        pc_record(&b, be, 1, 10, 20, 110, 120, PAT, 110);
        size_t cut = pc_record(&b, be, 1, 10, 20, 50, 50, PAT, 50);
        b.n = cut + 20; /* inside the 24-byte record header */
        handmade("kuznetzov, 802.11, cut", &b, &g);
        assert_int_equal(g.n, 1);
        assert_int_equal(g.caplen[0], 100);
        assert_int_equal(g.end, -NAGM_CAP_ETRUNC);
        assert_int_equal(msg_offset(g.err), (long long)cut);
        assert_non_null(strstr(g.err, "tried to read 24 header bytes, only got 20"));
        b_free(&b);
    }
}

static void test_snapshot(void **state)
{
    (void)state;
    buf b = {0};
    got g;
    /* A record longer than the snapshot: the first 10 bytes are the frame,
     * the rest is skipped, the next record follows. */
    pc_header(&b, MAGIC_US, 0, 2, 4, 10, 1);
    pc_record(&b, 0, 0, 1, 2, 20, 30, PAT, 20);
    pc_record(&b, 0, 0, 3, 4, 5, 6, PAT + 100, 5);
    handmade("caplen > snaplen", &b, &g);
    assert_int_equal(g.end, 0);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.caplen[0], 10);
    assert_int_equal(g.wirelen[0], 30);
    assert_memory_equal(g.data[0], PAT, 10);
    assert_int_equal(g.caplen[1], 5);
    assert_memory_equal(g.data[1], PAT + 100, 5);

    /* ... cut inside the skipped part, and inside the kept part */
    b.n = 24 + 16 + 15;
    handmade("caplen > snaplen, cut in the rest", &b, &g);
    assert_int_equal(g.end, -NAGM_CAP_ETRUNC);
    assert_int_equal(msg_offset(g.err), 24);
    assert_non_null(strstr(g.err, "tried to read 20 captured bytes, only got 15"));
    b.n = 24 + 16 + 5;
    handmade("caplen > snaplen, cut in the snapshot", &b, &g);
    assert_int_equal(g.end, -NAGM_CAP_ETRUNC);
    assert_non_null(strstr(g.err, "tried to read 10 captured bytes, only got 5"));
    b_free(&b);

    /* snaplen 0 or negative as an int: the link type's maximum (262144 for
     * Ethernet), so 70000 bytes are not cut */
    static const uint32_t bogus[] = {0, 0x80000000u, 0xffffffffu};
    uint8_t *big = calloc(1, 70000);
    assert_non_null(big);
    memcpy(big, PAT, sizeof PAT);
    for (size_t i = 0; i < 3; i++) {
        pc_header(&b, MAGIC_US, 1, 2, 4, bogus[i], 1);
        pc_record(&b, 1, 0, 1, 2, 70000, 70000, big, 70000);
        handmade("bogus snaplen", &b, &g);
        assert_int_equal(g.end, 0);
        assert_int_equal(g.n, 1);
        assert_int_equal(g.caplen[0], 70000);
        b_free(&b);
    }
    free(big);
    /* A positive snaplen above the maximum stays as it is. */
    pc_header(&b, MAGIC_US, 0, 2, 4, 524288, 1);
    pc_record(&b, 0, 0, 1, 2, 40, 40, PAT, 40);
    handmade("snaplen 524288", &b, &g);
    assert_int_equal(g.n, 1);
    b_free(&b);
}

static void test_caplen_limits(void **state)
{
    (void)state;
    buf b = {0};
    got g;
    /* bigger than the snapshot and than 262144 */
    pc_header(&b, MAGIC_US, 0, 2, 4, 65535, 1);
    pc_record(&b, 0, 0, 1, 2, 8, 8, PAT, 8);
    size_t at = pc_record(&b, 0, 0, 1, 2, 262145, 262145, PAT, 100);
    handmade("caplen 262145, snaplen 65535", &b, &g);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.end, -NAGM_CAP_EDAMAGED);
    assert_int_equal(msg_offset(g.err), (long long)at);
    assert_non_null(strstr(g.err, "invalid packet capture length 262145, bigger than snaplen of "
                                  "65535; may be a damaged or fuzzed file"));
    b_free(&b);

    /* within a large snapshot, but above the link type's maximum */
    pc_header(&b, MAGIC_US, 1, 2, 4, 300000, 1);
    at = pc_record(&b, 1, 0, 1, 2, 0xffffffffu, 20, PAT, 100);
    handmade("caplen 2^32-1, snaplen 300000", &b, &g);
    assert_int_equal(g.n, 0);
    assert_int_equal(g.end, -NAGM_CAP_EDAMAGED);
    assert_int_equal(msg_offset(g.err), (long long)at);
    assert_non_null(strstr(g.err, "bigger than snaplen of 300000"));
    b_free(&b);
    pc_header(&b, MAGIC_US, 1, 2, 4, 300000, 1);
    pc_record(&b, 1, 0, 1, 2, 262145, 262145, PAT, 100);
    handmade("caplen 262145, snaplen 300000", &b, &g);
    assert_non_null(strstr(g.err, "invalid packet capture length 262145, bigger than maximum of "
                                  "262144"));
    b_free(&b);

    /* D-Bus allows 128 MiB: a 262145-byte message is fine (snaplen 0 ->
     * 134217728), and a record claiming 100 MB that is not there is cut. */
    uint8_t *big = calloc(1, 262145);
    assert_non_null(big);
    pc_header(&b, MAGIC_US, 0, 2, 4, 0, 231);
    pc_record(&b, 0, 0, 1, 2, 262145, 262145, big, 262145);
    at = pc_record(&b, 0, 0, 1, 2, 100000000, 100000000, big, 1000);
    handmade("dbus", &b, &g);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.caplen[0], 262145);
    assert_int_equal(g.linktype[0], 231);
    assert_int_equal(g.end, -NAGM_CAP_ETRUNC);
    assert_int_equal(msg_offset(g.err), (long long)at);
    b_free(&b);
    free(big);
}

static void test_truncated(void **state)
{
    (void)state;
    buf b = {0};
    got g;
    pc_header(&b, MAGIC_US, 0, 2, 4, 65535, 1);
    size_t r0 = pc_record(&b, 0, 0, 1, 2, 60, 60, PAT, 60);
    size_t r1 = pc_record(&b, 0, 0, 3, 4, 60, 60, PAT, 60);
    size_t full = b.n;
    (void)r0;

    b.n = r1;
    handmade("cut on a record boundary", &b, &g);
    assert_int_equal(g.end, 0);
    assert_int_equal(g.n, 1);
    b.n = r1 + 5;
    handmade("cut in a record header", &b, &g);
    assert_int_equal(g.end, -NAGM_CAP_ETRUNC);
    assert_int_equal(g.n, 1);
    assert_int_equal(msg_offset(g.err), (long long)r1);
    assert_non_null(strstr(g.err, "file ends inside a record (truncated dump file; tried to "
                                  "read 16 header bytes, only got 5)"));
    b.n = r1 + 16 + 30;
    handmade("cut in record data", &b, &g);
    assert_int_equal(g.end, -NAGM_CAP_ETRUNC);
    assert_int_equal(msg_offset(g.err), (long long)r1);
    assert_non_null(strstr(g.err, "tried to read 60 captured bytes, only got 30"));
    b.n = full - 1;
    handmade("one byte short", &b, &g);
    assert_int_equal(g.end, -NAGM_CAP_ETRUNC);
    b.n = 24;
    handmade("file header only", &b, &g);
    assert_int_equal(g.end, 0);
    assert_int_equal(g.n, 0);
    for (size_t cut = 4; cut < 24; cut += 5) {
        b.n = cut;
        handmade("cut in the file header", &b, &g);
        assert_int_equal(g.end, -NAGM_CAP_ETRUNC);
        assert_int_equal(msg_offset(g.err), 0);
        assert_non_null(strstr(g.err, "file header cut short"));
    }
    b_free(&b);
}

static void test_versions(void **state)
{
    (void)state;
    buf b = {0};
    got g;
    /* Before 2.3 (and DG/UX's 543.0) the header had len before caplen;
     * 2.3 files may have either order: swapped when "caplen" > "len". */
    static const struct {
        uint16_t major, minor;
        int swapped_always, maybe;
    } v[] = {{2, 0, 1, 0}, {2, 2, 1, 0}, {2, 3, 0, 1}, {543, 0, 1, 0}, {2, 4, 0, 0}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        pc_header(&b, MAGIC_US, (int)i & 1, v[i].major, v[i].minor, 65535, 1);
        /* fields: first 60 then 20; then 20 then 60 */
        pc_record(&b, (int)i & 1, 0, 1, 2, 60, 20, PAT, v[i].swapped_always || v[i].maybe ? 20 : 60);
        pc_record(&b, (int)i & 1, 0, 1, 2, 20, 60, PAT, v[i].swapped_always ? 60 : 20);
        handmade("version", &b, &g);
        assert_int_equal(g.end, 0);
        assert_int_equal(g.n, 2);
        if (v[i].swapped_always) {
            assert_int_equal(g.caplen[0], 20);
            assert_int_equal(g.wirelen[0], 60);
            assert_int_equal(g.caplen[1], 60);
            assert_int_equal(g.wirelen[1], 20);
        } else if (v[i].maybe) {
            assert_int_equal(g.caplen[0], 20);
            assert_int_equal(g.caplen[1], 20);
            assert_int_equal(g.wirelen[1], 60);
        } else {
            assert_int_equal(g.caplen[0], 60);
            assert_int_equal(g.wirelen[0], 20);
        }
        b_free(&b);
    }
    static const struct {
        uint16_t major, minor;
        const char *why;
    } bad[] = {{1, 4, "archaic pcap savefile format"},
               {0, 0, "archaic pcap savefile format"},
               {2, 5, "unsupported pcap savefile version 2.5"},
               {3, 0, "unsupported pcap savefile version 3.0"},
               {543, 1, "unsupported pcap savefile version 543.1"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pc_header(&b, MAGIC_NS, 1, bad[i].major, bad[i].minor, 65535, 1);
        pc_record(&b, 1, 0, 1, 2, 4, 4, PAT, 4);
        handmade("bad version", &b, &g);
        assert_int_equal(g.end, -NAGM_CAP_EFORMAT);
        assert_non_null(strstr(g.err, bad[i].why));
        b_free(&b);
    }
}

static void test_linktype_field(void **state)
{
    (void)state;
    /* The top 6 bits are FCS flags; bits 16..25 are part of the value. Old
     * files may hold a platform's DLT_ value (12, 14: raw IP). */
    static const struct {
        uint32_t field, linktype;
    } v[] = {{0x14000001u, 1},  {0xfc000071u, 113}, {0x00010001u, 65537}, {12, 101},
             {14, 101},         {101, 101},         {100, 100},           {11, 100},
             {19, 106},         {106, 106},         {0x300000u, 0x300000u}, {290, 290},
             {0x03ffffffu, 0x03ffffffu}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        buf b = {0};
        got g;
        pc_header(&b, MAGIC_US, (int)i & 1, 2, 4, 65535, v[i].field);
        pc_record(&b, (int)i & 1, 0, 1, 2, 4, 4, PAT, 4);
        handmade("link type", &b, &g);
        assert_int_equal(g.n, 1);
        assert_int_equal(g.linktype[0], v[i].linktype);
        b_free(&b);
    }
}

/* Pseudo-headers in the writer's byte order, which libpcap converts when
 * that is not the reader's. */
static void test_pseudo_headers(void **state)
{
    (void)state;
    static const int host_be = __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__;
    for (int be = 0; be <= 1; be++) {
        int conv = be != host_be;
        buf b = {0};
        got g;
        uint8_t d[128];

        /* Linux cooked capture, CAN: the CAN ID after the 16-byte header */
        memset(d, 0, sizeof d);
        d[15] = 0x0c;
        memcpy(d + 16, "\x01\x02\x03\x04", 4);
        pc_header(&b, MAGIC_US, be, 2, 4, 65535, 113);
        pc_record(&b, be, 0, 1, 2, 24, 24, d, 24);
        d[15] = 0x00; /* IPv4 (0x0800) is left alone */
        d[14] = 0x08;
        pc_record(&b, be, 0, 1, 2, 24, 24, d, 24);
        d[14] = 0;
        d[15] = 0x0d; /* CAN FD, but only 2 bytes of the ID captured */
        pc_record(&b, be, 0, 1, 2, 18, 24, d, 18);
        handmade("sll can", &b, &g);
        assert_int_equal(g.n, 3);
        assert_memory_equal(g.data[0] + 16, conv ? "\x04\x03\x02\x01" : "\x01\x02\x03\x04", 4);
        assert_memory_equal(g.data[1] + 16, "\x01\x02\x03\x04", 4);
        assert_memory_equal(g.data[2] + 16, "\x01\x02", 2);
        b_free(&b);

        /* SLL2: protocol first, 20-byte header */
        memset(d, 0, sizeof d);
        d[1] = 0x0c;
        memcpy(d + 20, "\x01\x02\x03\x04", 4);
        pc_header(&b, MAGIC_US, be, 2, 4, 65535, 276);
        pc_record(&b, be, 0, 1, 2, 28, 28, d, 28);
        handmade("sll2 can", &b, &g);
        assert_memory_equal(g.data[0] + 20, conv ? "\x04\x03\x02\x01" : "\x01\x02\x03\x04", 4);
        b_free(&b);

        /* pflog: uid, pid, rule_uid, rule_pid at 44..59, as far as the
         * header's own length (byte 0) reaches */
        for (int i = 0; i < 64; i++)
            d[i] = (uint8_t)i;
        d[0] = 52; /* uid and pid only */
        pc_header(&b, MAGIC_US, be, 2, 4, 65535, 117);
        pc_record(&b, be, 0, 1, 2, 64, 64, d, 64);
        handmade("pflog", &b, &g);
        assert_memory_equal(g.data[0] + 44, conv ? "\x2f\x2e\x2d\x2c\x33\x32\x31\x30\x34"
                                                 : "\x2c\x2d\x2e\x2f\x30\x31\x32\x33\x34",
                            9);
        b_free(&b);

        /* NFLOG: TLV length and type in host order */
        memset(d, 0, sizeof d);
        d[0] = 2; /* AF_INET, version 0 */
        buf t = {0};
        b_put(&t, d, 4);
        b_u16(&t, 8, be);
        b_u16(&t, 1, be);
        b_put(&t, "abcd", 4);
        b_u16(&t, 5, be);
        b_u16(&t, 9, be);
        b_put(&t, "xyz\0\0\0\0\0", 8);
        pc_header(&b, MAGIC_US, be, 2, 4, 65535, 239);
        pc_record(&b, be, 0, 1, 2, (uint32_t)t.n, (uint32_t)t.n, t.p, t.n);
        handmade("nflog", &b, &g);
        uint8_t want[8] = {8, 0, 1, 0, 5, 0, 9, 0};
        if (host_be) {
            uint8_t w2[8] = {0, 8, 0, 1, 0, 5, 0, 9};
            memcpy(want, w2, 8);
        }
        assert_memory_equal(g.data[0] + 4, want, 4);
        assert_memory_equal(g.data[0] + 12, want + 4, 4);
        b_free(&t);
        b_free(&b);
    }
}

/* Linux USB, memory-mapped, isochronous: 64-byte header, descriptors. */
static size_t usb_iso(uint8_t *d, int be, uint8_t event, uint8_t ep, uint8_t data_flag,
                      uint32_t urb_len, uint32_t ndesc, const uint32_t (*desc)[2], uint32_t nd)
{
    memset(d, 0, 64 + 16 * nd);
    for (int i = 0; i < 8; i++)
        d[i] = (uint8_t)(0x11 * (i + 1));
    d[8] = event;
    d[9] = 0; /* isochronous */
    d[10] = ep;
    d[15] = data_flag;
    put32(d + 32, urb_len, be);
    put32(d + 44, nd, be);
    put32(d + 60, ndesc, be);
    for (uint32_t k = 0; k < nd; k++) {
        put32(d + 64 + 16 * k + 4, desc[k][0], be);
        put32(d + 64 + 16 * k + 8, desc[k][1], be);
    }
    return 64 + 16 * nd;
}

static void test_usb(void **state)
{
    (void)state;
    static const uint32_t desc[2][2] = {{0, 10}, {200, 30}};
    for (int be = 0; be <= 1; be++) {
        buf b = {0};
        got g;
        uint8_t d[512];
        pc_header(&b, MAGIC_US, be, 2, 4, 65535, 220);
        /* Incoming completion whose length was computed from urb_len
         * (64 + 2*16 + 100): recomputed from the descriptors, 64 + 32 + 230. */
        size_t n = usb_iso(d, be, 'C', 0x81, 0, 100, 2, desc, 2);
        pc_record(&b, be, 0, 1, 2, (uint32_t)n, 196, d, n);
        pc_record(&b, be, 0, 1, 2, (uint32_t)n, 195, d, n); /* not that length */
        n = usb_iso(d, be, 'C', 0x01, 0, 100, 2, desc, 2);   /* outgoing */
        pc_record(&b, be, 0, 1, 2, (uint32_t)n, 196, d, n);
        n = usb_iso(d, be, 'S', 0x81, 0, 100, 2, desc, 2);   /* submission */
        pc_record(&b, be, 0, 1, 2, (uint32_t)n, 196, d, n);
        n = usb_iso(d, be, 'C', 0x81, 1, 100, 2, desc, 2);   /* no data */
        pc_record(&b, be, 0, 1, 2, (uint32_t)n, 196, d, n);
        n = usb_iso(d, be, 'C', 0x81, 0, 100, 3, desc, 2);   /* 3 descriptors, 2 captured */
        pc_record(&b, be, 0, 1, 2, (uint32_t)n, 212, d, n);
        n = usb_iso(d, be, 'C', 0x81, 0, 100, 2, desc, 2);
        pc_record(&b, be, 0, 1, 2, 60, 196, d, 60);          /* header not all captured */
        handmade("usb mmapped", &b, &g);
        assert_int_equal(g.n, 7);
        static const uint32_t wl[7] = {326, 195, 196, 196, 196, 342, 196};
        for (int i = 0; i < 7; i++)
            assert_int_equal(g.wirelen[i], wl[i]);
        b_free(&b);

        /* The same records as DLT_USB_LINUX (48-byte header) */
        pc_header(&b, MAGIC_US, be, 2, 4, 65535, 189);
        n = usb_iso(d, be, 'C', 0x81, 0, 100, 2, desc, 2);
        pc_record(&b, be, 0, 1, 2, (uint32_t)n, 196, d, n);
        pc_record(&b, be, 0, 1, 2, 30, 196, d, 30);
        handmade("usb", &b, &g);
        assert_int_equal(g.wirelen[0], 196);
        b_free(&b);
    }
}

/* ---- generated files ------------------------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

static uint32_t pick(const uint32_t *v, size_t n)
{
    return v[rnd() % n];
}

#define PICK(a) pick(a, sizeof a / sizeof a[0])

/* Record data shaped for the link type, so that pseudo-header conversions
 * run through their branches. */
static size_t gen_data(uint8_t *d, size_t max, uint32_t lt, int be, uint32_t *len_hint)
{
    size_t n = rnd() % 3 == 0 ? rnd() % 24 : rnd() % max;
    for (size_t i = 0; i < n; i++)
        d[i] = (uint8_t)rnd();
    *len_hint = 0;
    switch (lt & 0x03ffffffu) {
    case 113:
        if (n >= 16) {
            static const uint32_t pr[] = {0x000c, 0x000d, 0x000e, 0x0800, 0x86dd};
            uint32_t v = PICK(pr);
            d[14] = (uint8_t)(v >> 8);
            d[15] = (uint8_t)v;
        }
        break;
    case 276:
        if (n >= 2) {
            d[0] = 0;
            d[1] = (uint8_t)(0x0c + rnd() % 3);
        }
        break;
    case 117:
        if (n >= 1)
            d[0] = (uint8_t)(rnd() % 2 ? 40 + rnd() % 30 : rnd());
        break;
    case 239:
        if (n >= 4) {
            d[1] = (uint8_t)(rnd() % 4 == 0);
            for (size_t at = 4; at + 4 <= n;) {
                uint32_t l = rnd() % 5 == 0 ? rnd() % 4 : 4 + rnd() % 24;
                d[at + (be ? 0 : 1)] = (uint8_t)(rnd() % 8 == 0 ? rnd() : 0);
                d[at + (be ? 1 : 0)] = (uint8_t)l;
                at += (l + 3) & ~3u;
                if (l < 4)
                    break;
            }
        }
        break;
    case 189:
    case 220:
        if (n >= 64) {
            d[8] = rnd() % 3 ? 'C' : 'S';
            d[9] = (uint8_t)(rnd() % 3 ? 0 : rnd() % 4);
            d[10] = rnd() % 3 ? 0x81 : 0x02;
            d[15] = (uint8_t)(rnd() % 4 == 0);
            uint32_t ndesc = rnd() % 6 == 0 ? rnd() : rnd() % 6;
            uint32_t urb = rnd() % 500;
            put32(d + 32, urb, be);
            put32(d + 60, ndesc, be);
            for (size_t at = 64; at + 16 <= n; at += 16) {
                put32(d + at + 4, rnd() % 7 == 0 ? rnd() : rnd() % 400, be);
                put32(d + at + 8, rnd() % 3 == 0 ? 0 : rnd() % 100, be);
            }
            *len_hint = (uint32_t)(64 + (uint64_t)ndesc * 16 + urb);
        }
        break;
    default:
        break;
    }
    return n;
}

static void gen_file(buf *b)
{
    static const uint32_t magics[] = {MAGIC_US, MAGIC_US, MAGIC_NS, MAGIC_KUZ};
    static const uint32_t versions[] = {0x00020004, 0x00020004, 0x00020004, 0x00020004,
                                        0x00020004, 0x00020004, 0x00020003, 0x00020003,
                                        0x00020002, 0x00020001, 0x00020000, 0x021f0000,
                                        0x00010004, 0x00000000, 0x00020005, 0x021f0001};
    static const uint32_t snaps[] = {0,          1,          16,         60,        65535,
                                     262144,     262145,     1000000,    0x7ffffff2u,
                                     0x7fffffffu, 0x80000000u, 0xffffffffu, 0x08000000u};
    static const uint32_t lts[] = {1,   1,   113, 113, 117, 189, 220, 220,  239,  276, 231,
                                   249, 279, 101, 0,   12,  14,  100, 106,  246,  258, 290,
                                   105, 127, 228, 229, 9,   50,  65537, 0x300000u};
    static const uint32_t fcs[] = {0, 0, 0, 0x04000000u, 0x14000000u, 0xfc000000u};
    b->n = 0;
    uint32_t magic = PICK(magics);
    int be = (int)(rnd() & 1);
    int kuz = magic == MAGIC_KUZ;
    uint32_t ver = PICK(versions);
    uint32_t snap = rnd() % 5 == 0 ? rnd() % 200 : PICK(snaps);
    uint32_t lt = PICK(lts) | PICK(fcs);
    pc_header(b, magic, be, (uint16_t)(ver >> 16), (uint16_t)ver, snap, lt);
    int nrec = (int)(rnd() % 13);
    uint8_t d[300];
    for (int i = 0; i < nrec; i++) {
        static const uint32_t secs[] = {0, 1, 1700000000, 0x7fffffffu, 0x80000000u,
                                        0xffffffffu};
        static const uint32_t fracs[] = {0, 999999, 1000000, 999999999, 0x80000000u,
                                         0xffffffffu};
        uint32_t sec = rnd() % 2 ? rnd() : PICK(secs);
        uint32_t frac = rnd() % 2 ? rnd() % 1000000000u : PICK(fracs);
        uint32_t hint;
        size_t n = gen_data(d, sizeof d, lt, be, &hint);
        uint32_t caplen = (uint32_t)n, len;
        switch (rnd() % 6) {
        case 0:
            len = caplen;
            break;
        case 1:
            len = caplen + rnd() % 2000;
            break;
        case 2:
            len = caplen ? rnd() % caplen : 0;
            break;
        case 3:
            len = caplen + 1;
            break;
        default:
            len = rnd() % 4 == 0 ? rnd() : caplen + rnd() % 100;
            break;
        }
        if (hint && rnd() % 2)
            len = hint; /* as an old libpcap computed it for a USB completion */
        if (rnd() % 25 == 0) {
            /* an oversized or absent record */
            static const uint32_t huge[] = {262144,      262145,      1048576,    1048577,
                                            8388608,     8388609,     134217728, 134217729,
                                            0x7fffffffu, 0x80000000u, 0xffffffffu, 70000};
            caplen = PICK(huge);
        }
        /* versions before 2.3 keep len first */
        int lens_swapped = (ver >> 16) == 0x21f || ((ver >> 16) == 2 && (ver & 0xffff) < 3);
        if (lens_swapped)
            pc_record(b, be, kuz, sec, frac, len, caplen, d, n);
        else
            pc_record(b, be, kuz, sec, frac, caplen, len, d, n);
    }
    if (rnd() % 3 == 0 && b->n > 4)
        b->n = 4 + rnd() % (b->n - 4); /* cut anywhere after the magic */
}

static void test_generated(void **state)
{
    (void)state;
    enum { FILES = 10000 };
    totals t = {0};
    buf b = {0};
    char label[64];
    for (int i = 0; i < FILES; i++) {
        gen_file(&b);
        snprintf(label, sizeof label, "generated #%d", i);
        outcome o;
        compare_mem(label, b.p, b.n, NULL, 0, &o);
        tally(&t, &o);
        cap_open_opts so = {.bufsize = 16 + rnd() % 64, .chunk = 1 + rnd() % 17};
        outcome o2;
        compare_mem(label, b.p, b.n, &so, 1 + (int)(rnd() % 64), &o2);
        assert_int_equal(o2.frames, o.frames);
    }
    b_free(&b);
    print_message("generated: %llu files, %llu frames identical to libpcap (%llu cut to the "
                  "snapshot, %llu with converted pseudo-headers, %llu with a recomputed "
                  "length); ends: %llu clean, %llu truncated, %llu damaged, %llu refused "
                  "alike\n",
                  (unsigned long long)t.files, (unsigned long long)t.frames,
                  (unsigned long long)t.cut, (unsigned long long)t.converted,
                  (unsigned long long)t.relength, (unsigned long long)t.clean,
                  (unsigned long long)t.trunc, (unsigned long long)t.damaged,
                  (unsigned long long)t.refused);
    /* every branch taken many times */
    assert_true(t.clean > 500 && t.trunc > 500 && t.damaged > 50 && t.refused > 100);
    assert_true(t.cut > 100 && t.converted > 100 && t.relength > 5);
}

/* ---- a pipe that stays open -------------------------------------------- */

static void on_alarm(int sig)
{
    (void)sig;
    static const char m[] = "test_pipe: the reader waited for bytes beyond a record\n";
    ssize_t w = write(2, m, sizeof m - 1);
    (void)w;
    _exit(1);
}

typedef struct late {
    int fd;
    const uint8_t *p;
    size_t n;
} late;

static void *write_late(void *arg)
{
    const late *l = arg;
    usleep(200 * 1000);
    ssize_t w = write(l->fd, l->p, l->n);
    (void)w;
    return NULL;
}

static void test_pipe(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    buf b = {0};
    pc_header(&b, MAGIC_US, 0, 2, 4, 262144, 1);
    /* A burst of three records, then silence with the pipe still open: a
     * reader that wants bytes beyond the record in hand blocks here. */
    for (int i = 0; i < 3; i++)
        pc_record(&b, 0, 0, 100 + (uint32_t)i, 0, 60, 60, PAT + i, 60);
    assert_int_equal(write(fds[1], b.p, b.n), (ssize_t)b.n);
    signal(SIGALRM, on_alarm);
    alarm(20);
    nagm_capture *c;
    char err[NAGM_ERRBUF_SIZE];
    assert_int_equal(nagm_capture_open_fd(fds[0], 1, "pipe", NULL, &c, err), 0);
    nagm_frame f;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(nagm_capture_next(c, &f), 1);
        assert_int_equal(f.ts_ns, (100 + i) * 1000000000LL);
        assert_memory_equal(f.data, PAT + i, 60);
    }
    /* Then a record whose second half arrives while the reader waits for
     * it: it comes out as soon as its last byte is there. */
    b.n = 0;
    pc_record(&b, 0, 0, 200, 0, 60, 60, PAT + 9, 60);
    assert_int_equal(write(fds[1], b.p, 30), 30);
    late l = {fds[1], b.p + 30, b.n - 30};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, write_late, &l), 0);
    assert_int_equal(nagm_capture_next(c, &f), 1);
    assert_int_equal(f.ts_ns, 200 * 1000000000LL);
    assert_memory_equal(f.data, PAT + 9, 60);
    assert_int_equal(pthread_join(th, NULL), 0);
    alarm(0);
    close(fds[1]);
    assert_int_equal(nagm_capture_next(c, &f), 0);
    nagm_capture_close(c);
    b_free(&b);
}

int main(void)
{
    for (size_t i = 0; i < sizeof PAT; i++)
        PAT[i] = (uint8_t)(i * 7 + 3);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_byte_orders_and_precision),
        cmocka_unit_test(test_kuznetzov),
        cmocka_unit_test(test_snapshot),
        cmocka_unit_test(test_caplen_limits),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_linktype_field),
        cmocka_unit_test(test_pseudo_headers),
        cmocka_unit_test(test_usb),
        cmocka_unit_test(test_pipe),
        cmocka_unit_test(test_generated),
        cmocka_unit_test(test_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
