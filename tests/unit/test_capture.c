/* Capture layer: readers, compression, damaged input, stdin, input lists and
 * BPF filters.
 *
 * Expected values come from elsewhere than the reader under test: packet
 * counts and link types from $NETAGM_PCAPS/INVENTORY.tsv (capinfos), frame
 * contents and time stamps from libpcap's own reader, record boundaries from
 * a small independent walk over the file in this test, BPF match counts from
 * INVENTORY's tcp_packets where tcpdump agrees with it, and hand-built pcapng
 * files whose values are written out below.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "capture/cap_linktype.h"
#include "netagm/capture.h"
#include "slurp.h"

/* ---- fixtures ------------------------------------------------------------ */

typedef struct inv_row {
    char *path;
    uint64_t bytes;
    char *format;
    char *link;
    long packets; /* -1 when empty */
    long tcp;
    int readable; /* readable_by_tshark == "yes" */
} inv_row;

static const char *g_pcaps;
static char g_tmp[] = "/tmp/nagm_captest_XXXXXX";
static inv_row *g_inv;
static size_t g_ninv;

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    assert_non_null(d);
    return d;
}

static void load_inventory(void)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/INVENTORY.tsv", g_pcaps);
    FILE *f = fopen(p, "r");
    if (!f)
        return;
    char line[8192];
    size_t cap = 0;
    int first = 1;
    while (fgets(line, sizeof line, f)) {
        if (first) {
            first = 0;
            continue;
        }
        line[strcspn(line, "\n")] = '\0';
        char *col[9];
        int nc = 0;
        char *s = line;
        while (nc < 9) {
            col[nc++] = s;
            char *t = strchr(s, '\t');
            if (!t)
                break;
            *t = '\0';
            s = t + 1;
        }
        if (nc < 9)
            continue;
        if (g_ninv == cap) {
            cap = cap ? cap * 2 : 1024;
            g_inv = realloc(g_inv, cap * sizeof *g_inv);
            assert_non_null(g_inv);
        }
        inv_row *r = &g_inv[g_ninv++];
        r->path = xstrdup(col[0]);
        r->bytes = strtoull(col[1], NULL, 10);
        r->format = xstrdup(col[2]);
        r->link = xstrdup(col[3]);
        r->packets = col[4][0] ? strtol(col[4], NULL, 10) : -1;
        r->tcp = col[5][0] ? strtol(col[5], NULL, 10) : -1;
        r->readable = strcmp(col[7], "yes") == 0;
    }
    fclose(f);
}

static const inv_row *inv_find(const char *rel)
{
    for (size_t i = 0; i < g_ninv; i++)
        if (strcmp(g_inv[i].path, rel) == 0)
            return &g_inv[i];
    return NULL;
}

static int group_setup(void **state)
{
    (void)state;
    g_pcaps = getenv("NETAGM_PCAPS");
    if (g_pcaps)
        load_inventory();
    if (!mkdtemp(g_tmp))
        return -1;
    return 0;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static int group_teardown(void **state)
{
    (void)state;
    nftw(g_tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    for (size_t i = 0; i < g_ninv; i++) {
        free(g_inv[i].path);
        free(g_inv[i].format);
        free(g_inv[i].link);
    }
    free(g_inv);
    return 0;
}

/* Skips the test when the corpus is not there. */
#define NEED_CORPUS()                                                                    \
    do {                                                                                 \
        if (!g_pcaps || g_ninv == 0) {                                                   \
            print_message("NETAGM_PCAPS not set or without INVENTORY.tsv: skipped\n"); \
            skip();                                                                      \
        }                                                                                \
    } while (0)

static void corpus_path(char *out, size_t n, const char *rel)
{
    snprintf(out, n, "%s/%s", g_pcaps, rel);
}

static void tmp_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", g_tmp, name);
}

/* The bytes of a file that must exist. */
static uint8_t *slurp_must(const char *path, size_t *len)
{
    uint8_t *d = slurp(path, len);
    assert_non_null(d);
    return d;
}

static void spit(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (len)
        assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* ---- reading everything ---------------------------------------------------- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static uint64_t frame_digest(const nagm_frame *f)
{
    uint64_t h = 0xcbf29ce484222325ull;
    h = fnv(h, &f->ts_ns, sizeof f->ts_ns);
    h = fnv(h, &f->caplen, sizeof f->caplen);
    h = fnv(h, &f->wirelen, sizeof f->wirelen);
    h = fnv(h, &f->linktype, sizeof f->linktype);
    if (f->caplen)
        h = fnv(h, f->data, f->caplen);
    return h;
}

typedef struct rd_res {
    int open_rc;         /* nagm_capture_open's result */
    int rc;              /* last nagm_capture_next result */
    uint64_t n;          /* frames */
    uint64_t *digest;    /* per frame */
    int n_linktypes;
    uint32_t linktypes[16];
    char err[NAGM_ERRBUF_SIZE];
    long long err_off;   /* offset named in err, or -1 */
    uint64_t off, raw;   /* at the end */
} rd_res;

static long long msg_offset(const char *msg)
{
    const char *o = strstr(msg, ": offset ");
    if (!o)
        return -1;
    return strtoll(o + 9, NULL, 10);
}

static void read_all(const char *path, rd_res *r)
{
    memset(r, 0, sizeof *r);
    r->err_off = -1;
    nagm_capture *c;
    r->open_rc = nagm_capture_open(path, &c, r->err);
    if (r->open_rc != 0) {
        assert_null(c);
        r->rc = r->open_rc;
        r->err_off = msg_offset(r->err);
        return;
    }
    size_t cap = 256;
    r->digest = malloc(cap * sizeof *r->digest);
    assert_non_null(r->digest);
    nagm_frame f;
    while ((r->rc = nagm_capture_next(c, &f)) == 1) {
        if (r->n == cap) {
            cap *= 2;
            r->digest = realloc(r->digest, cap * sizeof *r->digest);
            assert_non_null(r->digest);
        }
        r->digest[r->n++] = frame_digest(&f);
        int seen = 0;
        for (int i = 0; i < r->n_linktypes; i++)
            seen |= r->linktypes[i] == f.linktype;
        if (!seen && r->n_linktypes < 16)
            r->linktypes[r->n_linktypes++] = f.linktype;
    }
    /* The end, clean or not, is sticky. */
    assert_int_equal(nagm_capture_next(c, &f), r->rc);
    snprintf(r->err, sizeof r->err, "%s", nagm_capture_error(c));
    if (r->rc == 0)
        assert_string_equal(r->err, "");
    r->err_off = msg_offset(r->err);
    r->off = nagm_capture_offset(c);
    r->raw = nagm_capture_raw_bytes(c);
    nagm_capture_close(c);
}

static void rd_free(rd_res *r)
{
    free(r->digest);
    r->digest = NULL;
}

/* Same frames, in the same order. */
static void assert_same_frames(const rd_res *a, const rd_res *b, uint64_t n)
{
    assert_true(a->n >= n && b->n >= n);
    for (uint64_t i = 0; i < n; i++)
        if (a->digest[i] != b->digest[i])
            fail_msg("frame %llu differs", (unsigned long long)i);
}

/* ---- link type names in INVENTORY (capinfos) ------------------------------ */

static const struct {
    const char *name;
    uint32_t lt[2];
} LINK_NAMES[] = {
    {"ether", {1, 1}},
    {"null", {0, 108}},
    {"linux-sll", {113, 113}},
    {"linux-sll2", {276, 276}},
    {"rawip", {101, 101}},
    {"rawip4", {228, 228}},
    {"rawip6", {229, 229}},
    {"ieee-802-11", {105, 105}},
    {"ieee-802-11-radiotap", {127, 127}},
    {"chdlc", {104, 104}},
    {"frelay", {107, 107}},
    {"slip", {8, 8}},
    {"arcnet_linux", {129, 129}},
    {"nflog", {239, 239}},
    {"juniper-ether", {178, 178}},
    {"socketcan", {227, 227}},
    {"ppi", {192, 192}},
    {"pktap", {258, 258}},
    {"linux-atm-clip", {106, 106}},
};

/* 1 if checked, 0 if the name is not in the table. */
static int check_link_name(const char *rel, const char *name, const rd_res *r)
{
    for (size_t i = 0; i < sizeof LINK_NAMES / sizeof LINK_NAMES[0]; i++) {
        if (strcmp(LINK_NAMES[i].name, name) != 0)
            continue;
        for (int k = 0; k < r->n_linktypes; k++)
            if (r->linktypes[k] != LINK_NAMES[i].lt[0] && r->linktypes[k] != LINK_NAMES[i].lt[1])
                fail_msg("%s: link type %u, INVENTORY says %s", rel, r->linktypes[k], name);
        return 1;
    }
    return 0;
}

static void test_linktype_map(void **state)
{
    (void)state;
    /* pcap-linktype(7) against this platform's DLT_ values. */
    assert_int_equal(cap_linktype_from_dlt(DLT_EN10MB), 1);
    assert_int_equal(cap_linktype_from_dlt(DLT_RAW), 101);
    assert_int_equal(cap_linktype_from_dlt(12), 101);
    assert_int_equal(cap_linktype_from_dlt(14), 101); /* OpenBSD's DLT_RAW */
    assert_int_equal(cap_linktype_from_dlt(DLT_ATM_RFC1483), 100);
    assert_int_equal(cap_linktype_from_dlt(DLT_SLIP_BSDOS), 102);
    assert_int_equal(cap_linktype_from_dlt(DLT_PPP_BSDOS), 103);
    assert_int_equal(cap_linktype_from_dlt(DLT_ATM_CLIP), 106);
    assert_int_equal(cap_linktype_from_dlt(DLT_LINUX_SLL), 113);
    assert_int_equal(cap_linktype_from_dlt(DLT_PPP_SERIAL), 50);
    assert_int_equal(cap_linktype_from_dlt(DLT_NULL), 0);
    assert_int_equal(cap_linktype_from_dlt(DLT_IPV4), 228);
    assert_int_equal(cap_dlt_from_linktype(101), DLT_RAW);
    assert_int_equal(cap_dlt_from_linktype(100), DLT_ATM_RFC1483);
    assert_int_equal(cap_dlt_from_linktype(106), DLT_ATM_CLIP);
    assert_int_equal(cap_dlt_from_linktype(1), DLT_EN10MB);
    assert_int_equal(cap_dlt_from_linktype(276), DLT_LINUX_SLL2);
}

/* ---- comparison with libpcap's reader -------------------------------------- */

/* Reads path with libpcap and with the capture layer side by side.
 * Returns 1 if libpcap could read it (and everything matched), 0 if libpcap
 * refused the file. */
static int compare_with_libpcap(const char *path, uint64_t *frames)
{
    char perr[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, perr);
    if (!p)
        return 0;
    uint32_t lt = cap_linktype_from_dlt(pcap_datalink(p));
    /* Whether the file stores nanoseconds (pcap) or not; pcapng time stamps
     * come out of libpcap as plain nanoseconds. */
    uint8_t m[4] = {0};
    FILE *mf = fopen(path, "rb");
    assert_non_null(mf);
    assert_int_equal(fread(m, 1, 4, mf), 4);
    fclose(mf);
    int nano = (m[0] == 0xa1 && m[1] == 0xb2 && m[2] == 0x3c && m[3] == 0x4d) ||
               (m[0] == 0x4d && m[1] == 0x3c && m[2] == 0xb2 && m[3] == 0xa1) ||
               (m[0] == 0x0a && m[1] == 0x0d && m[2] == 0x0d && m[3] == 0x0a);
    nagm_capture *c;
    char err[NAGM_ERRBUF_SIZE];
    assert_int_equal(nagm_capture_open(path, &c, err), 0);
    struct pcap_pkthdr *h;
    const u_char *d;
    nagm_frame f;
    uint64_t n = 0;
    int64_t prev_ts = 0;
    int rp;
    while ((rp = pcap_next_ex(p, &h, &d)) == 1) {
        int rc = nagm_capture_next(c, &f);
        if (rc != 1)
            fail_msg("%s: frame %llu: got %d (%s), libpcap has a frame", path,
                     (unsigned long long)n, rc, nagm_capture_error(c));
        /* pcap-savefile(5): both time stamp fields are unsigned 32-bit
         * values; libpcap hands them out sign-extended. */
        uint64_t frac = nano ? (uint32_t)h->ts.tv_usec
                             : (uint64_t)(uint32_t)(h->ts.tv_usec / 1000) * 1000;
        int64_t ts = (int64_t)((uint64_t)(uint32_t)h->ts.tv_sec * 1000000000u + frac);
        /* A pcapng Simple Packet Block has no time stamp: libpcap gives 0,
         * netagm the time of the packet before it. */
        if (ts == 0 && n > 0 && f.ts_ns == prev_ts)
            ts = prev_ts;
        prev_ts = f.ts_ns;
        if (f.ts_ns != ts || f.caplen != h->caplen || f.wirelen != h->len)
            fail_msg("%s: frame %llu: ts %lld/%lld caplen %u/%u len %u/%u", path,
                     (unsigned long long)n, (long long)f.ts_ns, (long long)ts, f.caplen,
                     h->caplen, f.wirelen, h->len);
        assert_memory_equal(f.data, d, h->caplen);
        if (n == 0 || strstr(path, ".pcapng") == NULL)
            assert_int_equal(f.linktype, lt);
        n++;
    }
    int rc = nagm_capture_next(c, &f);
    if (rp == PCAP_ERROR && strstr(pcap_geterr(p), "an interface has")) {
        /* libpcap gives up on a pcapng section whose interfaces differ
         * in link type or snap length; the frames up to there matched. */
        nagm_capture_close(c);
        pcap_close(p);
        return 0;
    }
    if ((rp == PCAP_ERROR_BREAK) != (rc == 0))
        fail_msg("%s: end %d (%s), libpcap's %d (%s)", path, rc, nagm_capture_error(c), rp,
                 pcap_geterr(p));
    nagm_capture_close(c);
    pcap_close(p);
    *frames += n;
    return 1;
}

/* Every k-th row of a format (readable, counted, not too large), to about
 * want rows, plus every row of the extra formats/link names. */
static size_t pick_rows(const char *format, const char *extra_format, const char *extra_link,
                        size_t want, const inv_row **out, size_t max)
{
    size_t elig = 0;
    for (size_t i = 0; i < g_ninv; i++)
        if (strcmp(g_inv[i].format, format) == 0 && g_inv[i].readable && g_inv[i].packets >= 0 &&
            g_inv[i].bytes < 4u << 20)
            elig++;
    size_t step = elig / want ? elig / want : 1;
    size_t n = 0, k = 0;
    for (size_t i = 0; i < g_ninv && n < max; i++) {
        const inv_row *r = &g_inv[i];
        int extra = (extra_format && strcmp(r->format, extra_format) == 0) ||
                    (extra_link && strcmp(r->link, extra_link) == 0 &&
                     strcmp(r->format, format) == 0);
        int el = strcmp(r->format, format) == 0 && r->readable && r->packets >= 0 &&
                 r->bytes < 4u << 20;
        if (el)
            k++;
        if ((el && k % step == 0) || (extra && r->readable && r->packets >= 0))
            out[n++] = r;
    }
    return n;
}

static void check_rows(const inv_row **rows, size_t n, int *libpcap_files, uint64_t *frames,
                       int *multi_lt, int *names_checked)
{
    char p[4096];
    for (size_t i = 0; i < n; i++) {
        corpus_path(p, sizeof p, rows[i]->path);
        rd_res r;
        read_all(p, &r);
        if (r.rc != 0)
            fail_msg("%s: %s", rows[i]->path, r.err);
        if ((long)r.n != rows[i]->packets)
            fail_msg("%s: %llu frames, INVENTORY says %ld", rows[i]->path,
                     (unsigned long long)r.n, rows[i]->packets);
        if (r.n_linktypes > 1)
            (*multi_lt)++;
        *names_checked += check_link_name(rows[i]->path, rows[i]->link, &r);
        rd_free(&r);
        *libpcap_files += compare_with_libpcap(p, frames);
    }
}

static void test_pcap_corpus(void **state)
{
    (void)state;
    NEED_CORPUS();
    const inv_row *rows[128];
    size_t n = pick_rows("pcap", "pcap-nsec", NULL, 30, rows, 96);
    size_t n2 = pick_rows("pcap-modified", NULL, NULL, 1, rows + n, 4);
    n += n2;
    int lp = 0, multi = 0, names = 0;
    uint64_t frames = 0;
    check_rows(rows, n, &lp, &frames, &multi, &names);
    print_message("pcap: %zu files match INVENTORY (%d link names checked); %d files, "
                  "%llu frames identical to libpcap\n",
                  n, names, lp, (unsigned long long)frames);
    assert_true(n >= 35);
    assert_int_equal(lp, (int)n);
}

static void test_pcapng_corpus(void **state)
{
    (void)state;
    NEED_CORPUS();
    const inv_row *rows[128];
    size_t n = pick_rows("pcapng", NULL, "per-packet", 30, rows, 96);
    int lp = 0, multi = 0, names = 0;
    uint64_t frames = 0;
    check_rows(rows, n, &lp, &frames, &multi, &names);
    print_message("pcapng: %zu files match INVENTORY (%d with several link types, %d link "
                  "names checked); %d files, %llu frames identical to libpcap\n",
                  n, multi, names, lp, (unsigned long long)frames);
    assert_true(n >= 40);
    assert_true(multi >= 5);
    assert_true(lp >= 20);
}

/* ---- compressed input ------------------------------------------------------ */

static void gzip_file(const char *path, const uint8_t *d, size_t n, size_t member)
{
    /* Each member is a complete gzip stream; gzip(1) reads the
     * concatenation as one file. */
    FILE *out = fopen(path, "wb");
    assert_non_null(out);
    for (size_t at = 0; at < n || at == 0; at += member) {
        size_t len = n - at < member ? n - at : member;
        z_stream z;
        memset(&z, 0, sizeof z);
        assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
        size_t bound = deflateBound(&z, (uLong)len);
        uint8_t *buf = malloc(bound);
        assert_non_null(buf);
        z.next_in = (Bytef *)(uintptr_t)(d + at);
        z.avail_in = (uInt)len;
        z.next_out = buf;
        z.avail_out = (uInt)bound;
        assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
        assert_int_equal(fwrite(buf, 1, z.total_out, out), z.total_out);
        deflateEnd(&z);
        free(buf);
        if (n == 0)
            break;
    }
    assert_int_equal(fclose(out), 0);
}

static void zstd_file(const char *path, const uint8_t *d, size_t n, size_t frame)
{
    FILE *out = fopen(path, "wb");
    assert_non_null(out);
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    assert_non_null(cc);
    /* A checksum at the end of each frame: cutting it off loses no data,
     * only the frame's end. */
    assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1)));
    for (size_t at = 0; at < n; at += frame) {
        size_t len = n - at < frame ? n - at : frame;
        size_t bound = ZSTD_compressBound(len);
        uint8_t *buf = malloc(bound);
        assert_non_null(buf);
        size_t z = ZSTD_compress2(cc, buf, bound, d + at, len);
        assert_false(ZSTD_isError(z));
        assert_int_equal(fwrite(buf, 1, z, out), z);
        free(buf);
    }
    ZSTD_freeCCtx(cc);
    assert_int_equal(fclose(out), 0);
}

/* The first readable file of a format between lo and hi bytes. */
static const inv_row *pick_sized(const char *format, uint64_t lo, uint64_t hi)
{
    for (size_t i = 0; i < g_ninv; i++)
        if (strcmp(g_inv[i].format, format) == 0 && g_inv[i].readable &&
            g_inv[i].packets > 0 && g_inv[i].bytes >= lo && g_inv[i].bytes <= hi)
            return &g_inv[i];
    return NULL;
}

static void check_compressed(const inv_row *row)
{
    char src[4096], gz[4096], gz2[4096], zs[4096], zs2[4096], cut[4096];
    corpus_path(src, sizeof src, row->path);
    size_t n;
    uint8_t *d = slurp_must(src, &n);
    rd_res plain;
    read_all(src, &plain);
    assert_int_equal(plain.rc, 0);
    assert_int_equal((long)plain.n, row->packets);
    assert_int_equal(plain.off, n);
    assert_int_equal(plain.raw, n);

    tmp_path(gz, sizeof gz, "c.gz-one");
    tmp_path(gz2, sizeof gz2, "c.gz-many");
    tmp_path(zs, sizeof zs, "c.zst-one");
    tmp_path(zs2, sizeof zs2, "c.zst-many");
    gzip_file(gz, d, n, n);
    gzip_file(gz2, d, n, n / 3 + 1);  /* members split mid-record */
    zstd_file(zs, d, n, n);
    zstd_file(zs2, d, n, n / 5 + 7);  /* several frames */
    const char *files[] = {gz, gz2, zs, zs2};
    for (int i = 0; i < 4; i++) {
        struct stat st;
        assert_int_equal(stat(files[i], &st), 0);
        rd_res r;
        read_all(files[i], &r);
        if (r.rc != 0)
            fail_msg("%s: %s", files[i], r.err);
        assert_int_equal(r.n, plain.n);
        assert_same_frames(&r, &plain, plain.n);
        assert_int_equal(r.off, n);
        assert_int_equal(r.raw, (uint64_t)st.st_size);

        /* Cut the compressed file in the middle: a prefix of the frames,
         * then a truncation error. */
        size_t zn;
        uint8_t *z = slurp_must(files[i], &zn);
        tmp_path(cut, sizeof cut, "c.cut");
        spit(cut, z, zn / 2);
        rd_res t;
        read_all(cut, &t);
        assert_int_equal(t.rc, -NAGM_CAP_ETRUNC);
        assert_true(t.n < plain.n);
        assert_same_frames(&t, &plain, t.n);
        assert_true(t.err_off >= 0 && (uint64_t)t.err_off < n);
        rd_free(&t);

        /* Cut off only the end of the last member/frame (gzip's CRC and
         * size, zstd's checksum): every frame is there, yet the input is
         * incomplete. */
        spit(cut, z, zn - (i < 2 ? 8 : 4));
        read_all(cut, &t);
        assert_int_equal(t.rc, -NAGM_CAP_ETRUNC);
        assert_int_equal(t.n, plain.n);
        assert_int_equal(t.err_off, (long long)n);
        assert_non_null(strstr(t.err, "compressed stream"));
        rd_free(&t);

        /* Damage the compressed bytes: never a crash, never the same
         * frames with a clean end (zstd frames carry no checksum here, so
         * the damage may only show in the frames). */
        for (size_t k = zn / 4; k < zn / 4 + 64 && k < zn; k++)
            z[k] ^= 0x5a;
        spit(cut, z, zn);
        read_all(cut, &t);
        int same = t.rc == 0 && t.n == plain.n;
        for (uint64_t j = 0; same && j < t.n; j++)
            same = t.digest[j] == plain.digest[j];
        assert_false(same);
        if (t.rc < 0)
            assert_true(t.rc != -NAGM_CAP_EOPEN);
        rd_free(&t);
        free(z);
        rd_free(&r);
    }
    print_message("%s: %llu frames identical through gzip (1 and 3 members) and zstd "
                  "(1 and 5 frames)\n",
                  row->path, (unsigned long long)plain.n);
    rd_free(&plain);
    free(d);
}

static void test_compressed(void **state)
{
    (void)state;
    NEED_CORPUS();
    const inv_row *pc = pick_sized("pcap", 1u << 20, 3u << 20);
    const inv_row *ng = pick_sized("pcapng", 300u << 10, 3u << 20);
    assert_non_null(pc);
    assert_non_null(ng);
    check_compressed(pc);
    check_compressed(ng);
}

/* The corpus's own .gz files read like their decompressed siblings. */
static void test_corpus_gzip(void **state)
{
    (void)state;
    NEED_CORPUS();
    int checked = 0;
    for (size_t i = 0; i < g_ninv; i++) {
        const inv_row *g = &g_inv[i];
        if (strcmp(g->format, "gzip") != 0 || g->bytes > (4u << 20))
            continue;
        char rel[4096];
        snprintf(rel, sizeof rel, "%s", g->path);
        size_t L = strlen(rel);
        if (L < 4 || strcmp(rel + L - 3, ".gz") != 0)
            continue;
        rel[L - 3] = '\0';
        const inv_row *s = inv_find(rel);
        if (!s || !s->readable || s->packets < 0)
            continue;
        char p[4096];
        corpus_path(p, sizeof p, g->path);
        rd_res r;
        read_all(p, &r);
        if (strncmp(s->format, "pcap", 4) == 0) {
            if (r.rc != 0)
                fail_msg("%s: %s", g->path, r.err);
            if ((long)r.n != s->packets)
                fail_msg("%s: %llu frames, its sibling has %ld", g->path,
                         (unsigned long long)r.n, s->packets);
        } else {
            /* erf and friends: not a capture this reader knows */
            assert_int_equal(r.rc, -NAGM_CAP_EFORMAT);
            assert_non_null(strstr(r.err, "in gzip data"));
        }
        rd_free(&r);
        checked++;
    }
    print_message("%d corpus .gz files match their siblings\n", checked);
    assert_true(checked >= 10);
}

/* ---- record boundaries, walked independently ------------------------------ */

static uint32_t rd32(const uint8_t *p, int be)
{
    return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
              : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static void wr32(uint8_t *p, uint32_t v, int be)
{
    for (int i = 0; i < 4; i++)
        p[be ? i : 3 - i] = (uint8_t)(v >> (24 - 8 * i));
}

/* Start offsets of the records of a classic pcap file (16-byte headers). */
static size_t pcap_records(const uint8_t *d, size_t n, uint64_t *off, size_t max, int *be)
{
    assert_true(n >= 24);
    *be = d[0] == 0xa1;
    size_t k = 0;
    uint64_t at = 24;
    while (at + 16 <= n && k < max) {
        off[k++] = at;
        at += 16 + rd32(d + at + 8, *be);
    }
    assert_int_equal(at, n); /* the test file itself is complete */
    return k;
}

static void expect_cut(const char *name, const uint8_t *d, size_t cutlen, const rd_res *full,
                       uint64_t frames, int rc, long long off)
{
    char p[4096];
    tmp_path(p, sizeof p, name);
    spit(p, d, cutlen);
    rd_res r;
    read_all(p, &r);
    if (r.rc != rc || r.n != frames || (rc < 0 && r.err_off != off))
        fail_msg("cut at %zu: rc %d frames %llu offset %lld (%s); want rc %d frames %llu "
                 "offset %lld",
                 cutlen, r.rc, (unsigned long long)r.n, r.err_off, r.err, rc,
                 (unsigned long long)frames, off);
    assert_same_frames(&r, full, frames);
    if (rc < 0) {
        /* "PATH: offset N: reason" */
        char want[4200];
        snprintf(want, sizeof want, "%s: offset %lld: ", p, off);
        assert_memory_equal(r.err, want, strlen(want));
    }
    rd_free(&r);
}

static void test_truncated_pcap(void **state)
{
    (void)state;
    NEED_CORPUS();
    char src[4096];
    corpus_path(src, sizeof src, "LibtraceTeam__libtrace/test/traces/100_packets.pcap");
    size_t n;
    uint8_t *d = slurp_must(src, &n);
    uint64_t off[256];
    int be;
    size_t k = pcap_records(d, n, off, 256, &be);
    assert_int_equal(k, 100);
    rd_res full;
    read_all(src, &full);
    assert_int_equal(full.n, 100);

    expect_cut("t.pcap", d, 10, &full, 0, -NAGM_CAP_ETRUNC, 0);      /* file header */
    expect_cut("t.pcap", d, 24, &full, 0, 0, -1);                    /* header only */
    expect_cut("t.pcap", d, off[3] + 5, &full, 3, -NAGM_CAP_ETRUNC, (long long)off[3]);
    expect_cut("t.pcap", d, off[5] + 17, &full, 5, -NAGM_CAP_ETRUNC, (long long)off[5]);
    expect_cut("t.pcap", d, off[7], &full, 7, 0, -1);                /* on a boundary */
    expect_cut("t.pcap", d, off[50] + 40, &full, 50, -NAGM_CAP_ETRUNC, (long long)off[50]);
    expect_cut("t.pcap", d, n - 1, &full, 99, -NAGM_CAP_ETRUNC, (long long)off[99]);

    /* A header snap length below most records' lengths: libpcap reads each
     * whole record and shortens the frame; error offsets must still name
     * record starts. */
    uint8_t *s = malloc(n);
    assert_non_null(s);
    memcpy(s, d, n);
    wr32(s + 16, 60, be);
    char sp[4096];
    tmp_path(sp, sizeof sp, "snap.pcap");
    spit(sp, s, off[60] + 20);
    nagm_capture *c;
    char err[NAGM_ERRBUF_SIZE];
    assert_int_equal(nagm_capture_open(sp, &c, err), 0);
    nagm_frame fr;
    int got = 0, rc, longer = 0;
    while ((rc = nagm_capture_next(c, &fr)) == 1) {
        assert_true(fr.caplen <= 60);
        longer += fr.wirelen > 60;
        got++;
    }
    assert_int_equal(rc, -NAGM_CAP_ETRUNC);
    assert_int_equal(got, 60);
    assert_true(longer > 20);
    assert_int_equal(msg_offset(nagm_capture_error(c)), (long long)off[60]);
    nagm_capture_close(c);
    free(s);

    /* The same cut read through gzip. */
    char gz[4096];
    tmp_path(gz, sizeof gz, "t.pcap.gz");
    gzip_file(gz, d, off[50] + 40, 1u << 30);
    rd_res r;
    read_all(gz, &r);
    assert_int_equal(r.rc, -NAGM_CAP_ETRUNC);
    assert_int_equal(r.n, 50);
    assert_int_equal(r.err_off, (long long)off[50]);
    rd_free(&r);

    rd_free(&full);
    free(d);
}

/* Block starts of a pcapng file, and for each whether it holds a packet. */
static size_t pcapng_blocks(const uint8_t *d, size_t n, uint64_t *off, int *pkt, size_t max)
{
    size_t k = 0;
    uint64_t at = 0;
    int be = 0;
    while (at + 12 <= n && k < max) {
        uint32_t type = rd32(d + at, 0);
        if (type == 0x0a0d0d0a)
            be = rd32(d + at + 8, 0) != 0x1a2b3c4d;
        type = rd32(d + at, be);
        off[k] = at;
        pkt[k] = type == 2 || type == 3 || type == 6;
        k++;
        at += rd32(d + at + 4, be);
    }
    assert_int_equal(at, n);
    return k;
}

static void test_truncated_pcapng(void **state)
{
    (void)state;
    NEED_CORPUS();
    const char *rels[] = {"google__gopacket/pcapgo/tests/le/test202.pcapng",
                          "google__gopacket/pcapgo/tests/be/test202.pcapng",
                          "CESNET__ipfixprobe/tests/functional/inputs/bstats.pcap"};
    for (size_t f = 0; f < sizeof rels / sizeof rels[0]; f++) {
        char src[4096];
        corpus_path(src, sizeof src, rels[f]);
        size_t n;
        uint8_t *d = slurp_must(src, &n);
        uint64_t off[2048];
        int pkt[2048];
        size_t k = pcapng_blocks(d, n, off, pkt, 2048);
        rd_res full;
        read_all(src, &full);
        assert_int_equal(full.rc, 0);
        uint64_t before = 0; /* packet blocks wholly before block b */
        size_t step = k > 40 ? k / 20 : 1;
        for (size_t b = 0; b < k; b++) {
            if (b % step == 0 || b == k - 1) {
                uint64_t len = (b + 1 < k ? off[b + 1] : n) - off[b];
                /* inside the 8-byte header, inside the body, on the boundary */
                expect_cut("t.pcapng", d, off[b] + 5, &full, before, -NAGM_CAP_ETRUNC,
                           (long long)off[b]);
                if (len > 13)
                    expect_cut("t.pcapng", d, off[b] + 13, &full, before, -NAGM_CAP_ETRUNC,
                               (long long)off[b]);
                if (b > 0)
                    expect_cut("t.pcapng", d, off[b], &full, before, 0, -1);
            }
            before += (uint64_t)pkt[b];
        }
        assert_int_equal(full.n, before);
        rd_free(&full);
        free(d);
    }
}

/* ---- damaged files --------------------------------------------------------- */

static void test_damaged_pcap(void **state)
{
    (void)state;
    NEED_CORPUS();
    char src[4096];
    corpus_path(src, sizeof src, "LibtraceTeam__libtrace/test/traces/100_packets.pcap");
    size_t n;
    uint8_t *d = slurp_must(src, &n);
    uint64_t off[256];
    int be;
    pcap_records(d, n, off, 256, &be);
    rd_res full;
    read_all(src, &full);

    /* A header naming OpenBSD's DLT_RAW (14) instead of LINKTYPE_RAW. */
    uint8_t *raw = malloc(n);
    assert_non_null(raw);
    memcpy(raw, d, n);
    wr32(raw + 20, 14, be);
    char rp[4096];
    tmp_path(rp, sizeof rp, "raw14.pcap");
    spit(rp, raw, n);
    rd_res r14;
    read_all(rp, &r14);
    assert_int_equal(r14.rc, 0);
    assert_int_equal(r14.n, 100);
    assert_int_equal(r14.n_linktypes, 1);
    assert_int_equal(r14.linktypes[0], 101);
    rd_free(&r14);
    free(raw);

    wr32(d + off[4] + 8, 0xfffffff0u, be);
    char p[4096];
    tmp_path(p, sizeof p, "damaged.pcap");
    spit(p, d, n);
    rd_res r;
    read_all(p, &r);
    assert_int_equal(r.rc, -NAGM_CAP_EDAMAGED);
    assert_int_equal(r.n, 4);
    assert_same_frames(&r, &full, 4);
    assert_int_equal(r.err_off, (long long)off[4]);
    assert_non_null(strstr(r.err, "damaged or fuzzed"));
    rd_free(&r);
    rd_free(&full);
    free(d);
}

/* A pcapng file built by hand. */
typedef struct ngb {
    uint8_t b[8192];
    size_t n;
    int be;
} ngb;

static void ng_u8(ngb *g, uint8_t v)
{
    assert_true(g->n < sizeof g->b);
    g->b[g->n++] = v;
}

static void ng_u16(ngb *g, uint16_t v)
{
    ng_u8(g, (uint8_t)(g->be ? v >> 8 : v));
    ng_u8(g, (uint8_t)(g->be ? v : v >> 8));
}

static void ng_u32(ngb *g, uint32_t v)
{
    assert_true(g->n + 4 <= sizeof g->b);
    wr32(g->b + g->n, v, g->be);
    g->n += 4;
}

static void ng_bytes(ngb *g, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ng_u8(g, ((const uint8_t *)p)[i]);
    while (g->n % 4)
        ng_u8(g, 0);
}

/* Starts a block; returns its offset for ng_end. */
static size_t ng_begin(ngb *g, uint32_t type)
{
    size_t at = g->n;
    ng_u32(g, type);
    ng_u32(g, 0);
    return at;
}

static void ng_end(ngb *g, size_t at)
{
    uint32_t len = (uint32_t)(g->n - at + 4);
    ng_u32(g, len);
    wr32(g->b + at + 4, len, g->be);
}

static size_t ng_shb(ngb *g, int be)
{
    g->be = be;
    size_t at = ng_begin(g, 0x0a0d0d0a);
    ng_u32(g, 0x1a2b3c4d);
    ng_u16(g, 1);
    ng_u16(g, 0);
    ng_u32(g, 0xffffffff); /* section length -1 */
    ng_u32(g, 0xffffffff);
    ng_end(g, at);
    return at;
}

static size_t ng_idb(ngb *g, uint16_t lt, uint32_t snaplen, int tsresol, int64_t tsoffset)
{
    size_t at = ng_begin(g, 1);
    ng_u16(g, lt);
    ng_u16(g, 0);
    ng_u32(g, snaplen);
    ng_u16(g, 2); /* if_name, to be skipped */
    ng_u16(g, 3);
    ng_bytes(g, "eth", 3);
    if (tsresol >= 0) {
        ng_u16(g, 9);
        ng_u16(g, 1);
        uint8_t v = (uint8_t)tsresol;
        ng_bytes(g, &v, 1);
    }
    if (tsoffset) {
        ng_u16(g, 14);
        ng_u16(g, 8);
        uint64_t u = (uint64_t)tsoffset;
        if (g->be) {
            ng_u32(g, (uint32_t)(u >> 32));
            ng_u32(g, (uint32_t)u);
        } else {
            ng_u32(g, (uint32_t)u);
            ng_u32(g, (uint32_t)(u >> 32));
        }
    }
    ng_u16(g, 0);
    ng_u16(g, 0);
    ng_end(g, at);
    return at;
}

static size_t ng_epb(ngb *g, uint32_t ifid, uint64_t ts, const void *data, uint32_t caplen,
                     uint32_t wirelen)
{
    size_t at = ng_begin(g, 6);
    ng_u32(g, ifid);
    ng_u32(g, (uint32_t)(ts >> 32));
    ng_u32(g, (uint32_t)ts);
    ng_u32(g, caplen);
    ng_u32(g, wirelen);
    ng_bytes(g, data, caplen);
    ng_end(g, at);
    return at;
}

static size_t ng_spb(ngb *g, const void *data, uint32_t n, uint32_t wirelen)
{
    size_t at = ng_begin(g, 3);
    ng_u32(g, wirelen);
    ng_bytes(g, data, n);
    ng_end(g, at);
    return at;
}

static size_t ng_pb(ngb *g, uint16_t ifid, uint64_t ts, const void *data, uint32_t caplen)
{
    size_t at = ng_begin(g, 2);
    ng_u16(g, ifid);
    ng_u16(g, 0);
    ng_u32(g, (uint32_t)(ts >> 32));
    ng_u32(g, (uint32_t)ts);
    ng_u32(g, caplen);
    ng_u32(g, caplen);
    ng_bytes(g, data, caplen);
    ng_end(g, at);
    return at;
}

static size_t ng_other(ngb *g, uint32_t type, size_t body)
{
    size_t at = ng_begin(g, type);
    for (size_t i = 0; i < body; i++)
        ng_u8(g, (uint8_t)i);
    while (g->n % 4)
        ng_u8(g, 0);
    ng_end(g, at);
    return at;
}

static nagm_capture *open_bytes(const char *name, const void *d, size_t n)
{
    char p[4096];
    tmp_path(p, sizeof p, name);
    spit(p, d, n);
    nagm_capture *c;
    char err[NAGM_ERRBUF_SIZE];
    int rc = nagm_capture_open(p, &c, err);
    if (rc != 0)
        fail_msg("%s", err);
    return c;
}

static void next_frame(nagm_capture *c, int64_t ts, uint32_t caplen, uint32_t wirelen,
                       uint32_t lt, uint8_t first)
{
    nagm_frame f;
    int rc = nagm_capture_next(c, &f);
    if (rc != 1)
        fail_msg("no frame: %d %s", rc, nagm_capture_error(c));
    assert_int_equal(f.ts_ns, ts);
    assert_int_equal(f.caplen, caplen);
    assert_int_equal(f.wirelen, wirelen);
    assert_int_equal(f.linktype, lt);
    if (caplen)
        assert_int_equal(f.data[0], first);
}

static void test_pcapng_handmade(void **state)
{
    (void)state;
    static ngb g;
    memset(&g, 0, sizeof g);
    uint8_t pkt[100];
    for (int i = 0; i < 100; i++)
        pkt[i] = (uint8_t)(i + 1);

    /* Section 1, big-endian. */
    ng_shb(&g, 1);
    ng_idb(&g, 1, 0, 9, 100);          /* ns, +100 s */
    ng_idb(&g, 101, 64, 0x80 | 10, 0); /* 2^-10 s */
    ng_other(&g, 4, 10);               /* name resolution: skipped */
    ng_epb(&g, 0, 1500000000123456789ull, pkt, 60, 60);
    ng_epb(&g, 1, 3 * 1024 + 512, pkt + 1, 20, 1500);
    ng_spb(&g, pkt + 2, 80, 100);      /* caplen: what the block holds */
    ng_other(&g, 0x00000bad, 7);       /* unknown: skipped */
    ng_pb(&g, 1, 1024, pkt + 3, 10);
    ng_other(&g, 5, 0);                /* interface statistics: skipped */
    /* Section 2, little-endian: interfaces start over. */
    ng_shb(&g, 0);
    ng_idb(&g, 113, 20, -1, 0);        /* default microseconds; snaplen 20 */
    ng_epb(&g, 0, 5, pkt + 4, 30, 30);
    ng_spb(&g, pkt + 5, 60, 60);       /* cut to interface 0's snaplen */
    size_t bad = ng_epb(&g, 1, 6, pkt, 4, 4); /* interface 1 is gone */
    ng_epb(&g, 0, 7, pkt, 4, 4);

    nagm_capture *c = open_bytes("hand.pcapng", g.b, g.n);
    next_frame(c, 100000000000ll + 1500000000123456789ll, 60, 60, 1, 1);
    next_frame(c, 3500000000ll, 20, 1500, 101, 2);
    next_frame(c, 3500000000ll, 80, 100, 1, 3); /* SPB: time of the packet before */
    next_frame(c, 1000000000ll, 10, 10, 101, 4);
    next_frame(c, 5000, 30, 30, 113, 5);
    next_frame(c, 5000, 20, 60, 113, 6);
    nagm_frame f;
    assert_int_equal(nagm_capture_next(c, &f), -NAGM_CAP_EDAMAGED);
    assert_int_equal(msg_offset(nagm_capture_error(c)), (long long)bad);
    assert_non_null(strstr(nagm_capture_error(c), "interface 1"));
    assert_int_equal(nagm_capture_next(c, &f), -NAGM_CAP_EDAMAGED);
    nagm_capture_close(c);

    /* Each way a block can be broken, at the first packet block. */
    struct {
        const char *what;
        size_t field; /* offset inside the block */
        uint32_t value;
    } cases[] = {
        {"length below 12", 4, 8},
        {"length not a multiple of 4", 4, 50},
        {"length beyond the limit", 4, 0x7ffffff0u},
        {"trailing length", 0, 0}, /* patched below */
        {"captured length beyond the block", 20, 1000},
        {"unknown interface", 8, 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(&g, 0, sizeof g);
        ng_shb(&g, 0);
        ng_idb(&g, 1, 0, -1, 0);
        ng_epb(&g, 0, 1, pkt, 10, 10);
        size_t at = ng_epb(&g, 0, 2, pkt, 10, 10);
        ng_epb(&g, 0, 3, pkt, 10, 10);
        if (cases[i].field)
            wr32(g.b + at + cases[i].field, cases[i].value, 0);
        else
            wr32(g.b + at + 44 - 4, 48, 0); /* this EPB is 44 bytes long */
        c = open_bytes("broken.pcapng", g.b, g.n);
        next_frame(c, 1000, 10, 10, 1, 1);
        int rc = nagm_capture_next(c, &f);
        if (rc != -NAGM_CAP_EDAMAGED || msg_offset(nagm_capture_error(c)) != (long long)at)
            fail_msg("%s: rc %d, %s", cases[i].what, rc, nagm_capture_error(c));
        nagm_capture_close(c);
    }

    /* A packet before any interface. */
    memset(&g, 0, sizeof g);
    ng_shb(&g, 1);
    size_t at = ng_epb(&g, 0, 1, pkt, 4, 4);
    c = open_bytes("noif.pcapng", g.b, g.n);
    assert_int_equal(nagm_capture_next(c, &f), -NAGM_CAP_EDAMAGED);
    assert_int_equal(msg_offset(nagm_capture_error(c)), (long long)at);
    nagm_capture_close(c);
}

/* ---- not captures ---------------------------------------------------------- */

static void expect_open_error(const char *path, int rc, const char *msg)
{
    nagm_capture *c = (nagm_capture *)&c;
    char err[NAGM_ERRBUF_SIZE];
    int got = nagm_capture_open(path, &c, err);
    assert_int_equal(got, rc);
    assert_null(c);
    char want[4400];
    snprintf(want, sizeof want, "%s: offset 0: %s", path, msg);
    assert_string_equal(err, want);
}

static void test_not_captures(void **state)
{
    (void)state;
    char p[4096];
    tmp_path(p, sizeof p, "text.pcap");
    spit(p, "hello world\n", 12);
    expect_open_error(p, -NAGM_CAP_EFORMAT, "not a pcap or pcapng capture (magic 0x68656c6c)");

    tmp_path(p, sizeof p, "empty.pcap");
    spit(p, "", 0);
    expect_open_error(p, -NAGM_CAP_EFORMAT, "empty file, not a pcap or pcapng capture");

    tmp_path(p, sizeof p, "short.pcap");
    spit(p, "\xd4\xc3", 2);
    expect_open_error(p, -NAGM_CAP_EFORMAT, "not a pcap or pcapng capture (only 2 bytes)");

    tmp_path(p, sizeof p, "text.gz");
    static const uint8_t html[] = "<html>not a capture</html>";
    gzip_file(p, html, sizeof html, sizeof html);
    expect_open_error(p, -NAGM_CAP_EFORMAT,
                      "not a pcap or pcapng capture (magic 0x3c68746d in gzip data)");

    tmp_path(p, sizeof p, "no-such-file.pcap");
    expect_open_error(p, -NAGM_CAP_EOPEN, "No such file or directory");

    expect_open_error(g_tmp, -NAGM_CAP_EOPEN, "read error: Is a directory");
}

/* ---- standard input -------------------------------------------------------- */

/* Feeds d to the capture layer's stdin through a pipe, in odd-sized pieces. */
static void read_stdin_pipe(const uint8_t *d, size_t n, rd_res *r)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        size_t at = 0, piece = 1;
        while (at < n) {
            size_t k = n - at < piece ? n - at : piece;
            ssize_t w = write(fds[1], d + at, k);
            if (w <= 0)
                _exit(1);
            at += (size_t)w;
            piece = piece * 3 + 1; /* 1, 4, 13, ... bytes */
            if (piece > 100000)
                piece = 777;
        }
        _exit(0);
    }
    close(fds[1]);
    int saved = dup(STDIN_FILENO);
    assert_true(saved >= 0);
    assert_int_equal(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
    close(fds[0]);
    read_all("-", r);
    assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
    close(saved);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
}

static void test_stdin(void **state)
{
    (void)state;
    NEED_CORPUS();
    const char *rels[] = {"LibtraceTeam__libtrace/test/traces/100_packets.pcap",
                          "CESNET__ipfixprobe/tests/functional/inputs/bstats.pcap"};
    for (size_t i = 0; i < 2; i++) {
        char src[4096], gz[4096];
        corpus_path(src, sizeof src, rels[i]);
        size_t n;
        uint8_t *d = slurp_must(src, &n);
        rd_res full, r;
        read_all(src, &full);
        assert_int_equal(full.rc, 0);

        read_stdin_pipe(d, n, &r);
        assert_int_equal(r.rc, 0);
        assert_int_equal(r.n, full.n);
        assert_same_frames(&r, &full, full.n);
        assert_int_equal(r.off, n);
        rd_free(&r);

        tmp_path(gz, sizeof gz, "stdin.gz");
        gzip_file(gz, d, n, n);
        size_t zn;
        uint8_t *z = slurp_must(gz, &zn);
        read_stdin_pipe(z, zn, &r);
        assert_int_equal(r.rc, 0);
        assert_int_equal(r.n, full.n);
        assert_same_frames(&r, &full, full.n);
        assert_int_equal(r.raw, zn);
        rd_free(&r);

        /* A damaged stream names stdin. */
        read_stdin_pipe(d, n - 3, &r);
        assert_int_equal(r.rc, -NAGM_CAP_ETRUNC);
        assert_memory_equal(r.err, "stdin: offset ", 14);
        rd_free(&r);
        free(z);
        free(d);
        rd_free(&full);
    }
}

/* ---- input lists ------------------------------------------------------------- */

static void touch(const char *rel, size_t size)
{
    char p[4096];
    tmp_path(p, sizeof p, rel);
    char *buf = calloc(1, size + 1);
    assert_non_null(buf);
    spit(p, buf, size);
    free(buf);
}

static void mkd(const char *rel)
{
    char p[4096];
    tmp_path(p, sizeof p, rel);
    assert_int_equal(mkdir(p, 0755), 0);
}

static void test_inputs(void **state)
{
    (void)state;
    mkd("in");
    mkd("in/a");
    mkd("in/a b");
    mkd("in/c");
    mkd("in/.hdir");
    mkd("in/a/deep");
    touch("in/b.pcap", 3);
    touch("in/a/z.pcap", 5);
    touch("in/a/y y.pcap", 7);
    touch("in/a/deep/x.pcap", 1);
    touch("in/a b/x.pcap", 11);
    touch("in/A.pcap", 2);
    touch("in/.hidden.pcap", 1);
    touch("in/.hdir/h.pcap", 1);
    touch("single file.pcap", 13);
    char dir[4096], single[4096], dir_slash[4200];
    tmp_path(dir, sizeof dir, "in");
    tmp_path(single, sizeof single, "single file.pcap");
    snprintf(dir_slash, sizeof dir_slash, "%s/", dir);
    const char *args[] = {single, dir, "-", dir_slash};
    nagm_inputs in;
    char err[NAGM_ERRBUF_SIZE];
    assert_int_equal(nagm_inputs_expand(args, 4, &in, err), 0);
    /* Byte-wise order per path component: "A.pcap" < "a" < "a b" < "b.pcap",
     * and "a/deep" < "a/y y.pcap" < "a/z.pcap". */
    const char *rel[] = {"A.pcap", "a/deep/x.pcap", "a/y y.pcap", "a/z.pcap", "a b/x.pcap",
                         "b.pcap"};
    const uint64_t size[] = {2, 1, 7, 5, 11, 3};
    assert_int_equal(in.n, 2 + 2 * 6);
    assert_string_equal(in.paths[0], single);
    assert_int_equal(in.sizes[0], 13);
    for (size_t i = 0; i < 6; i++) {
        char want[4200];
        snprintf(want, sizeof want, "%s/%s", dir, rel[i]);
        assert_string_equal(in.paths[1 + i], want);
        assert_int_equal(in.sizes[1 + i], size[i]);
        assert_string_equal(in.paths[8 + i], want); /* no double slash */
        assert_int_equal(in.sizes[8 + i], size[i]);
    }
    assert_string_equal(in.paths[7], "-");
    assert_int_equal(in.sizes[7], 0);
    nagm_inputs_free(&in);

    char missing[4096];
    tmp_path(missing, sizeof missing, "in/nope.pcap");
    const char *bad[] = {dir, missing};
    assert_int_equal(nagm_inputs_expand(bad, 2, &in, err), -1);
    char want[4200];
    snprintf(want, sizeof want, "%s: No such file or directory", missing);
    assert_string_equal(err, want);
    assert_int_equal(in.n, 0);
    assert_null(in.paths);
    nagm_inputs_free(&in);

    /* An empty directory is an empty list, not an error. */
    char empty[4096];
    tmp_path(empty, sizeof empty, "in/c");
    const char *e[] = {empty};
    assert_int_equal(nagm_inputs_expand(e, 1, &in, err), 0);
    assert_int_equal(in.n, 0);
    nagm_inputs_free(&in);
}

/* ---- BPF ------------------------------------------------------------------- */

static long count_matches(const char *path, nagm_bpf *b)
{
    nagm_capture *c;
    char err[NAGM_ERRBUF_SIZE];
    if (nagm_capture_open(path, &c, err) != 0)
        fail_msg("%s", err);
    nagm_frame f;
    long m = 0;
    int rc;
    while ((rc = nagm_capture_next(c, &f)) == 1)
        m += nagm_bpf_match(b, &f);
    assert_int_equal(rc, 0);
    nagm_capture_close(c);
    return m;
}

static void test_bpf(void **state)
{
    (void)state;
    nagm_bpf *b;
    char err[NAGM_ERRBUF_SIZE] = "";
    assert_int_equal(nagm_bpf_new("tcp and", &b, err), -1);
    assert_null(b);
    assert_true(strlen(err) > 0);
    err[0] = '\0';
    assert_int_equal(nagm_bpf_new("no_such_keyword 7", &b, err), -1);
    assert_true(strlen(err) > 0);

    /* Hand-made frames: Ethernet and raw IPv4 TCP/UDP, and a link type the
     * expression cannot be compiled for. */
    assert_int_equal(nagm_bpf_new("tcp", &b, err), 0);
    uint8_t ip[40] = {0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
    uint8_t eth[54] = {0};
    eth[12] = 0x08;
    memcpy(eth + 14, ip, sizeof ip);
    nagm_frame f = {.ts_ns = 1, .caplen = 40, .wirelen = 40, .linktype = 101, .data = ip};
    nagm_frame fe = {.ts_ns = 1, .caplen = 54, .wirelen = 54, .linktype = 1, .data = eth};
    for (int round = 0; round < 3; round++) {
        assert_int_equal(nagm_bpf_match(b, &f), 1);
        assert_int_equal(nagm_bpf_match(b, &fe), 1);
    }
    ip[9] = 17;
    assert_int_equal(nagm_bpf_match(b, &f), 0);
    f.caplen = 5; /* short: the load fails, no match, no overread */
    ip[9] = 6;
    assert_int_equal(nagm_bpf_match(b, &f), 0);
    nagm_frame fu = {.ts_ns = 1, .caplen = 54, .wirelen = 54, .linktype = 147, .data = eth};
    assert_int_equal(nagm_bpf_match(b, &fu), 0);
    nagm_frame fz = {.ts_ns = 1, .caplen = 0, .wirelen = 60, .linktype = 1, .data = NULL};
    assert_int_equal(nagm_bpf_match(b, &fz), 0);
    /* Many link types: the cache stays bounded and still answers. */
    for (uint32_t lt = 0; lt < 300; lt++) {
        nagm_frame fl = {.caplen = 54, .wirelen = 54, .linktype = lt, .data = eth};
        (void)nagm_bpf_match(b, &fl);
    }
    f.caplen = 40;
    assert_int_equal(nagm_bpf_match(b, &f), 1);
    assert_int_equal(nagm_bpf_match(b, &fe), 1);
    nagm_bpf_free(b);
    nagm_bpf_free(NULL);

    NEED_CORPUS();
    /* Files where tcpdump's count of 'tcp' equals INVENTORY's tcp_packets. */
    static const struct {
        const char *rel;
        const char *expr;
    } files[] = {
        {"CESNET__ipfixprobe/tests/functional/inputs/smtp.pcap", "tcp"},
        {"CESNET__ipfixprobe/tests/functional/inputs/tls.pcap", "tcp"},
        {"LibtraceTeam__libtrace/test/traces/100_packets.pcap", "tcp"},
        {"LibtraceTeam__libtrace/test/traces/etsi_10_pings.pcap", "tcp"},
        {"appneta__tcpreplay/test/test.pcap", "tcp"},
        {"zeek__zeek/testing/btest/Traces/zip/test.pcap", "tcp"},
        {"LibtraceTeam__libtrace/test/traces/vlan.pcap", "vlan and tcp"},
        {"LibtraceTeam__libtrace/test/traces/sll.pcap", "tcp"},
        {"LibtraceTeam__libtrace/test/traces/sll.pcap.gz", "tcp"},
        {"CESNET__ipfixprobe/tests/functional/inputs/mqtt.pcap", "tcp"}, /* pcapng, SLL */
        {"arkime__arkime/tests/pcap/http2-nghttp2.pcap", "tcp"},         /* BSD loopback */
        {"arkime__arkime/tests/pcap/mqtt_synthetic.pcap", "tcp"},        /* raw IPv4 */
        {"zeek__zeek/testing/btest/Traces/ldap/gap-data-missing.pcapng", "vlan and tcp"},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char rel[4096];
        snprintf(rel, sizeof rel, "%s", files[i].rel);
        size_t L = strlen(rel);
        if (L > 3 && strcmp(rel + L - 3, ".gz") == 0)
            rel[L - 3] = '\0';
        const inv_row *row = inv_find(rel);
        assert_non_null(row);
        char p[4096];
        corpus_path(p, sizeof p, files[i].rel);
        assert_int_equal(nagm_bpf_new(files[i].expr, &b, err), 0);
        long m = count_matches(p, b);
        if (m != row->tcp)
            fail_msg("%s: '%s' matches %ld frames, INVENTORY tcp_packets %ld", files[i].rel,
                     files[i].expr, m, row->tcp);
        nagm_bpf_free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linktype_map),
        cmocka_unit_test(test_pcap_corpus),
        cmocka_unit_test(test_pcapng_corpus),
        cmocka_unit_test(test_compressed),
        cmocka_unit_test(test_corpus_gzip),
        cmocka_unit_test(test_truncated_pcap),
        cmocka_unit_test(test_truncated_pcapng),
        cmocka_unit_test(test_damaged_pcap),
        cmocka_unit_test(test_pcapng_handmade),
        cmocka_unit_test(test_not_captures),
        cmocka_unit_test(test_stdin),
        cmocka_unit_test(test_inputs),
        cmocka_unit_test(test_bpf),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
