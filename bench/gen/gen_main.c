/* netagm-gen: writes a large, realistic, reproducible pcap for benchmarks.
 *
 * Options are parsed here; the packets come from the model (gen_model.c) over
 * a population of sources (gen_hosts.c) with headers from real captures
 * (gen_corpus.c). Timestamps follow a daily cycle over the span. Output is
 * classic pcap (microseconds, LINKTYPE_ETHERNET), written through one large
 * buffer; memory does not grow with the output size.
 */
#include "gen.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef NETAGM_GEN_CORPUS
#define NETAGM_GEN_CORPUS "../shared/data/pcaps"
#endif

#define OUTBUF (8u << 20)
#define PILOT_PKTS (1u << 20)
#define CLOCK_CELLS 8192

typedef struct opts {
    uint64_t size, packets;
    uint32_t sources;
    double span, start, diurnal;
    uint64_t seed;
    unsigned snaplen;
    const char *corpus, *corpus_list, *out;
    double zipf, v6;
    double cls[CL_N];
    double scan_share, bs_share;
    uint32_t flows;
    const char *lenmix;
    int quiet, verbose;
} opts;

static void usage(FILE *f)
{
    fprintf(f,
        "usage: netagm-gen (--size BYTES | --packets N) [options] [-o FILE]\n"
        "Writes a pcap (microsecond timestamps, Ethernet) of synthetic traffic built\n"
        "from the headers of real captures: clients and servers in sessions, scanners\n"
        "and backscatter, from a Zipf-ranked population of sources.\n"
        "\n"
        "  --size BYTES        approximate file size; K, M, G, T suffixes (powers of 1024)\n"
        "  --packets N         exact number of packets\n"
        "  --sources N         distinct source addresses (default 200000); each sends\n"
        "                      at least one packet when packets >= sources\n"
        "  --span SECONDS      time covered by the timestamps (default 86400)\n"
        "  --start EPOCH       first timestamp, Unix seconds (default 1704067200)\n"
        "  --diurnal A         daily rate swing, 0 (flat) .. 0.95 (default 0.5)\n"
        "  --seed N            PRNG seed (default 1); same options + seed = same bytes\n"
        "  --snaplen N         bytes captured per packet, 34..65535 (default 96)\n"
        "  --len-mix MIX       data packet sizes: 'corpus' (default: sizes of the real\n"
        "                      packets), 'imix', or frame:weight,... (e.g. 64:7,570:4,1514:1)\n"
        "  --corpus DIR        real captures to take headers from (default\n"
        "                      $NETAGM_PCAPS, else %s)\n"
        "  --corpus-list FILE  read only the captures listed in FILE (one per line,\n"
        "                      relative to --corpus)\n"
        "  --zipf S            Zipf exponent of activity by rank (default 1.0)\n"
        "  --ipv6 F            fraction of sources on IPv6 (default 0.10)\n"
        "  --classes C,S,X,B   percent of sources that are clients, servers, scanners,\n"
        "                      backscatter sources (default 60,10,8,22)\n"
        "  --scan-share F      fraction of packets sent by scanners (default 0.10)\n"
        "  --backscatter-share F  fraction of packets that are backscatter (default 0.06)\n"
        "  --flows N           sessions open at once (default 512)\n"
        "  -o FILE             output file, '-' for stdout (default '-')\n"
        "  -q, --quiet         no summary on stderr\n"
        "  -v, --verbose       also describe the corpus templates\n"
        "  -h, --help\n",
        NETAGM_GEN_CORPUS);
}

static int parse_u64(const char *s, uint64_t *out, int suffixes)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -1;
    uint64_t mul = 1;
    if (suffixes && *end) {
        switch (*end) {
        case 'k': case 'K': mul = 1ull << 10; break;
        case 'm': case 'M': mul = 1ull << 20; break;
        case 'g': case 'G': mul = 1ull << 30; break;
        case 't': case 'T': mul = 1ull << 40; break;
        default: return -1;
        }
        end++;
        if (*end == 'i')
            end++;
        if (*end == 'B' || *end == 'b')
            end++;
    }
    if (*end)
        return -1;
    double r = v * (double)mul;
    if (r >= 18446744073709551615.0)
        return -1;
    *out = (uint64_t)r;
    return 0;
}

static int parse_double(const char *s, double *out, double lo, double hi)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

static int parse_lenmix(const char *s, gen_lenmix *lm)
{
    memset(lm, 0, sizeof *lm);
    if (!strcmp(s, "corpus"))
        return 0;
    if (!strcmp(s, "imix")) /* the classic simple IMIX, frames without FCS */
        s = "60:7,590:4,1514:1";
    const char *p = s;
    while (*p) {
        char *end;
        unsigned long len = strtoul(p, &end, 10);
        if (end == p || *end != ':' || len < 60 || len > 1514 || lm->n == 32)
            return -1;
        p = end + 1;
        double w = strtod(p, &end);
        if (end == p || !(w > 0))
            return -1;
        lm->len[lm->n] = (uint16_t)len;
        lm->w[lm->n++] = w;
        p = end;
        if (*p == ',')
            p++;
        else if (*p)
            return -1;
    }
    if (!lm->n)
        return -1;
    return gen_alias_build(&lm->a, lm->w, lm->n);
}

/* ---- timestamps ------------------------------------------------------------------ */

/* Packet times follow a rate 1 + A cos(2 pi (t - 14:00 UTC) / 1 day). The
 * i-th of N packets falls in the i-th of N equal slices of the cumulative
 * rate, at a random point inside it, so times never go backwards. The inverse
 * of the cumulative rate is a table with linear interpolation. */
typedef struct gen_clock {
    double start, span, amp;
    double cum[CLOCK_CELLS + 1];
    uint64_t n;
    uint32_t cell;
} gen_clock;

static double cum_rate(const gen_clock *k, double t)
{
    const double w = 2 * M_PI / 86400.0, peak = 14 * 3600.0;
    return t + k->amp / w * (sin(w * (k->start + t - peak)) - sin(w * (k->start - peak)));
}

static void clock_init(gen_clock *k, double start, double span, double amp, uint64_t n)
{
    k->start = start;
    k->span = span;
    k->amp = amp;
    k->n = n ? n : 1;
    k->cell = 0;
    for (int i = 0; i <= CLOCK_CELLS; i++)
        k->cum[i] = cum_rate(k, span * i / CLOCK_CELLS);
}

static uint64_t clock_at(gen_clock *k, uint64_t i, double u)
{
    double target = k->cum[CLOCK_CELLS] * (((double)i + u) / (double)k->n);
    while (k->cell < CLOCK_CELLS - 1 && k->cum[k->cell + 1] <= target)
        k->cell++;
    double a = k->cum[k->cell], b = k->cum[k->cell + 1];
    double f = b > a ? (target - a) / (b - a) : 0;
    if (f > 1)
        f = 1;
    double t = k->span * (k->cell + f) / CLOCK_CELLS;
    return (uint64_t)(k->start * 1e6) + (uint64_t)(t * 1e6);
}

/* ---- output ------------------------------------------------------------------------ */

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static int flush_out(FILE *f, uint8_t *buf, size_t *len)
{
    if (*len && fwrite(buf, 1, *len, f) != *len)
        return -1;
    *len = 0;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static const char *kind_name[TK_N] = {
    "syn", "synack", "ack", "data", "fin", "rst", "rstack",
    "udp", "icmp_req", "icmp_rep", "icmp6_req", "icmp6_rep",
};

int main(int argc, char **argv)
{
    opts o = {
        .sources = 200000, .span = 86400, .start = 1704067200, .diurnal = 0.5,
        .seed = 1, .snaplen = 96, .out = "-", .zipf = 1.0, .v6 = 0.10,
        .cls = {0.60, 0.10, 0.08, 0.22}, .scan_share = 0.10, .bs_share = 0.06,
        .flows = 512, .lenmix = "corpus",
    };
    enum { O_SIZE = 256, O_PACKETS, O_SOURCES, O_SPAN, O_START, O_DIURNAL, O_SEED,
           O_SNAPLEN, O_LENMIX, O_CORPUS, O_CLIST, O_ZIPF, O_IPV6, O_CLASSES,
           O_SCAN, O_BS, O_FLOWS };
    static const struct option lopts[] = {
        {"size", required_argument, 0, O_SIZE},
        {"packets", required_argument, 0, O_PACKETS},
        {"sources", required_argument, 0, O_SOURCES},
        {"span", required_argument, 0, O_SPAN},
        {"start", required_argument, 0, O_START},
        {"diurnal", required_argument, 0, O_DIURNAL},
        {"seed", required_argument, 0, O_SEED},
        {"snaplen", required_argument, 0, O_SNAPLEN},
        {"len-mix", required_argument, 0, O_LENMIX},
        {"corpus", required_argument, 0, O_CORPUS},
        {"corpus-list", required_argument, 0, O_CLIST},
        {"zipf", required_argument, 0, O_ZIPF},
        {"ipv6", required_argument, 0, O_IPV6},
        {"classes", required_argument, 0, O_CLASSES},
        {"scan-share", required_argument, 0, O_SCAN},
        {"backscatter-share", required_argument, 0, O_BS},
        {"flows", required_argument, 0, O_FLOWS},
        {"quiet", no_argument, 0, 'q'},
        {"verbose", no_argument, 0, 'v'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int ch;
    uint64_t v;
    int li;
    while ((li = -1, ch = getopt_long(argc, argv, "o:qvh", lopts, &li)) != -1) {
        int bad = 0;
        switch (ch) {
        case O_SIZE: bad = parse_u64(optarg, &o.size, 1) || o.size < 1024; break;
        case O_PACKETS: bad = parse_u64(optarg, &o.packets, 1) || !o.packets; break;
        case O_SOURCES:
            bad = parse_u64(optarg, &v, 1) || v < 1 || v > 20000000;
            o.sources = (uint32_t)v;
            break;
        case O_SPAN: bad = parse_double(optarg, &o.span, 1e-3, 1e9); break;
        case O_START: bad = parse_double(optarg, &o.start, 0, 4e9); break;
        case O_DIURNAL: bad = parse_double(optarg, &o.diurnal, 0, 0.95); break;
        case O_SEED: {
            char *end;
            errno = 0;
            o.seed = strtoull(optarg, &end, 0);
            bad = errno || end == optarg || *end;
            break;
        }
        case O_SNAPLEN:
            bad = parse_u64(optarg, &v, 0) || v < 34 || v > 65535;
            o.snaplen = (unsigned)v;
            break;
        case O_LENMIX: o.lenmix = optarg; break;
        case O_CORPUS: o.corpus = optarg; break;
        case O_CLIST: o.corpus_list = optarg; break;
        case O_ZIPF: bad = parse_double(optarg, &o.zipf, 0, 5); break;
        case O_IPV6: bad = parse_double(optarg, &o.v6, 0, 1); break;
        case O_CLASSES: {
            double c[CL_N], sum = 0;
            bad = sscanf(optarg, "%lf,%lf,%lf,%lf", &c[0], &c[1], &c[2], &c[3]) != 4;
            for (int k = 0; !bad && k < CL_N; k++) {
                bad = !(c[k] >= 0);
                sum += c[k];
            }
            bad = bad || !(c[0] > 0); /* someone has to open the sessions */
            for (int k = 0; !bad && k < CL_N; k++)
                o.cls[k] = c[k] / sum;
            break;
        }
        case O_SCAN: bad = parse_double(optarg, &o.scan_share, 0, 1); break;
        case O_BS: bad = parse_double(optarg, &o.bs_share, 0, 1); break;
        case O_FLOWS:
            bad = parse_u64(optarg, &v, 1) || v < 1 || v > 10000000;
            o.flows = (uint32_t)v;
            break;
        case 'o': o.out = optarg; break;
        case 'q': o.quiet = 1; break;
        case 'v': o.verbose = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
        if (bad) {
            fprintf(stderr, "netagm-gen: bad value '%s' for --%s\n", optarg ? optarg : "",
                    li >= 0 ? lopts[li].name : "?");
            return 2;
        }
    }
    if (optind < argc || (!o.size == !o.packets)) {
        fprintf(stderr, "netagm-gen: give exactly one of --size and --packets\n");
        usage(stderr);
        return 2;
    }
    if (o.scan_share + o.bs_share > 1) {
        fprintf(stderr, "netagm-gen: --scan-share plus --backscatter-share exceeds 1\n");
        return 2;
    }
    gen_lenmix lm;
    if (parse_lenmix(o.lenmix, &lm)) {
        fprintf(stderr, "netagm-gen: bad --len-mix '%s' (frames 60..1514 bytes)\n", o.lenmix);
        return 2;
    }
    if (!o.corpus)
        o.corpus = getenv("NETAGM_PCAPS") && *getenv("NETAGM_PCAPS") ? getenv("NETAGM_PCAPS")
                                                                      : NETAGM_GEN_CORPUS;
    int to_stdout = !strcmp(o.out, "-");
    if (to_stdout && isatty(STDOUT_FILENO)) {
        fprintf(stderr, "netagm-gen: refusing to write a capture to a terminal (use -o)\n");
        return 2;
    }

    char err[512];
    double t0 = now_s();
    gen_corpus corpus;
    /* Templates keep what a snaplen could show past the smallest headers. */
    unsigned tplcap = o.snaplen > 34 + 60 ? o.snaplen - 34 : 60;
    if (tplcap > 1480)
        tplcap = 1480;
    if (gen_corpus_load(&corpus, o.corpus, o.corpus_list, tplcap, o.seed, err, sizeof err)) {
        fprintf(stderr, "netagm-gen: %s\n", err);
        return 1;
    }
    if (o.verbose) {
        fprintf(stderr, "netagm-gen: corpus %s: %u files opened, %u Ethernet, %llu packets read\n",
                o.corpus, corpus.files_read, corpus.files_used,
                (unsigned long long)corpus.pkts_read);
        for (int k = 0; k < TK_N; k++)
            fprintf(stderr, "  %-10s %5u templates%s\n", kind_name[k], corpus.kind[k].n,
                    corpus.synthesized >> k & 1 ? " (synthetic: none in the corpus)" : "");
        fprintf(stderr, "  ipv4 header styles %u, ipv6 %u, MAC pairs %u\n", corpus.nip4,
                corpus.nip6, corpus.nmac);
    }

    gen_hosts hosts;
    gen_hosts_cfg hc = {.n = o.sources, .v6 = o.v6, .zipf = o.zipf, .seed = o.seed};
    memcpy(hc.share, o.cls, sizeof hc.share);
    if (gen_hosts_build(&hosts, &hc, &corpus, err, sizeof err)) {
        fprintf(stderr, "netagm-gen: %s\n", err);
        gen_corpus_free(&corpus);
        return 1;
    }
    gen_model_cfg mc = {.seed = o.seed, .packets = o.packets, .flows = o.flows,
                        .scan_share = o.scan_share, .bs_share = o.bs_share, .lenmix = &lm};
    gen_model m;
    int rc = 1;
    uint8_t *buf = NULL;
    FILE *f = NULL;

    if (o.size) {
        /* Size to packets: a pilot run of the same model gives the mean
         * record size. The count is then fixed, so the file lands within a
         * few percent of the size asked for. */
        mc.packets = o.size / 100 > o.sources ? o.size / 100 : o.sources;
        for (int pass = 0; pass < 2; pass++) {
            /* The second pass plans for the count the first one found; for
             * small files it is the very start of the real run. */
            if (gen_model_init(&m, &hosts, &corpus, &mc))
                goto oom;
            uint64_t bytes = 0, np = mc.packets < PILOT_PKTS ? mc.packets : PILOT_PKTS;
            gen_pkt p;
            for (uint64_t i = 0; i < np; i++) {
                gen_model_next(&m, 0, &p);
                unsigned wire = 14 + gen_l3_len(&hosts, &corpus, &p) + p.l4len;
                bytes += 16 + (wire < o.snaplen ? wire : o.snaplen);
            }
            gen_model_free(&m);
            gen_model_reset_hosts(&hosts);
            double mean = (double)bytes / (double)np;
            mc.packets = (uint64_t)ceil((double)(o.size - 24) / mean);
            if (!mc.packets)
                mc.packets = 1;
        }
        o.packets = mc.packets;
    }
    if (o.packets < o.sources && !o.quiet)
        fprintf(stderr, "netagm-gen: warning: %llu packets cannot cover %u sources\n",
                (unsigned long long)o.packets, o.sources);
    if (gen_model_init(&m, &hosts, &corpus, &mc))
        goto oom;

    buf = malloc(OUTBUF);
    if (!buf)
        goto oom_model;
    if (to_stdout) {
        f = stdout;
    } else if (!(f = fopen(o.out, "wb"))) {
        fprintf(stderr, "netagm-gen: cannot create %s: %s\n", o.out, strerror(errno));
        goto done;
    }

    /* pcap file header: magic, v2.4, thiszone 0, sigfigs 0, snaplen, Ethernet */
    size_t len = 0;
    put_le32(buf, 0xa1b2c3d4u);
    buf[4] = 2, buf[5] = 0, buf[6] = 4, buf[7] = 0;
    put_le32(buf + 8, 0);
    put_le32(buf + 12, 0);
    put_le32(buf + 16, o.snaplen);
    put_le32(buf + 20, 1);
    len = 24;

    gen_clock clk;
    clock_init(&clk, o.start, o.span, o.diurnal, o.packets);
    gen_rng trng;
    gen_rng_seed(&trng, o.seed ^ 0x74696d65ULL);
    uint64_t total = 24;
    double t1 = now_s();
    const size_t room = 16 + 14 + 60 + 1540; /* largest record we can build */
    for (uint64_t i = 0; i < o.packets; i++) {
        if (OUTBUF - len < room && flush_out(f, buf, &len)) {
            fprintf(stderr, "netagm-gen: write error on %s: %s\n", o.out, strerror(errno));
            goto done;
        }
        uint64_t ts = clock_at(&clk, i, gen_rng_unit(&trng));
        gen_pkt p;
        gen_model_next(&m, ts, &p);
        uint8_t *rec = buf + len;
        unsigned wire, built = gen_packet_build(&hosts, &corpus, &p, rec + 16, &wire);
        unsigned cap = wire < o.snaplen ? wire : o.snaplen;
        if (cap > built)
            memset(rec + 16 + built, 0, cap - built);
        put_le32(rec, (uint32_t)(ts / 1000000));
        put_le32(rec + 4, (uint32_t)(ts % 1000000));
        put_le32(rec + 8, cap);
        put_le32(rec + 12, wire);
        len += 16 + cap;
        total += 16 + cap;
    }
    if (flush_out(f, buf, &len) || fflush(f)) {
        fprintf(stderr, "netagm-gen: write error on %s: %s\n", o.out, strerror(errno));
        goto done;
    }
    if (!to_stdout) {
        FILE *g = f;
        f = NULL;
        if (fclose(g)) {
            fprintf(stderr, "netagm-gen: write error on %s: %s\n", o.out, strerror(errno));
            goto done;
        }
    }
    double t2 = now_s();
    if (!o.quiet) {
        double secs = t2 - t1 > 1e-9 ? t2 - t1 : 1e-9;
        fprintf(stderr,
                "netagm-gen: %llu packets, %llu bytes, %u sources (%u silent), %.2f s "
                "(%.0f MB/s; setup %.2f s)\n"
                "  packets by class: clients %llu, servers %llu, scanners %llu, backscatter %llu;"
                " coverage steps %llu\n",
                (unsigned long long)o.packets, (unsigned long long)total, hosts.n, m.unseen, secs,
                total / secs / 1e6, t1 - t0, (unsigned long long)m.by_class[CL_CLIENT],
                (unsigned long long)m.by_class[CL_SERVER],
                (unsigned long long)m.by_class[CL_SCANNER],
                (unsigned long long)m.by_class[CL_BACKSCATTER], (unsigned long long)m.forced);
    }
    rc = 0;
    goto done;
oom_model:
    fprintf(stderr, "netagm-gen: out of memory\n");
    goto done;
oom:
    fprintf(stderr, "netagm-gen: out of memory\n");
    gen_hosts_free(&hosts);
    gen_corpus_free(&corpus);
    gen_alias_free(&lm.a);
    return 1;
done:
    if (f && !to_stdout)
        fclose(f);
    free(buf);
    gen_model_free(&m);
    gen_hosts_free(&hosts);
    gen_corpus_free(&corpus);
    gen_alias_free(&lm.a);
    return rc;
}
