/* Header templates from real captures.
 *
 * Every Ethernet capture of the corpus is read with libpcap (a bounded number
 * of packets per file). Each IPv4/IPv6 packet that carries a whole TCP, UDP or
 * ICMP echo header becomes a candidate template of its kind; a reservoir per
 * kind keeps a uniform sample, and a per-file quota stops one large capture
 * from filling it. The generator later rewrites addresses, ports, sequence
 * numbers and lengths, and keeps the rest: TCP options and window, IPv4 TOS
 * and DF, IPv6 traffic class, MAC addresses and the first payload bytes.
 */
#include "gen.h"
#include "util/cursor.h"

#include <dirent.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TPL_PER_KIND 2048     /* reservoir size per template kind */
#define TPL_PER_FILE 64       /* candidates one file may offer per kind */
#define PKTS_PER_FILE 20000   /* packets read from one file at most */
#define IP4_STYLES 512
#define IP6_STYLES 256
#define MAC_PAIRS 64
#define MAX_DEPTH 16

const gen_svc gen_svc_table[GEN_NSVC] = {
    {6, 443},  {6, 80},    {6, 22},   {6, 25},   {6, 993},  {6, 8080},
    {6, 3389}, {6, 445},   {6, 587},  {6, 143},  {6, 21},   {6, 8443},
    {6, 3306}, {6, 5432},  {6, 110},  {6, 1883}, {6, 23},   {6, 5900},
    {6, 1433}, {6, 6379},  {6, 2323}, {6, 53},   {6, 6667}, {6, 8888},
    {17, 53},  {17, 443},  {17, 123}, {17, 3478}, {17, 161}, {17, 1900},
    {17, 5060}, {17, 137}, {17, 11211}, {17, 389}, {17, 19}, {17, 500},
    {17, 69},  {17, 111},  {17, 5353}, {17, 27015},
};

int gen_svc_find(uint8_t proto, uint16_t port)
{
    for (int i = 0; i < GEN_NSVC; i++)
        if (gen_svc_table[i].proto == proto && gen_svc_table[i].port == port)
            return i;
    return -1;
}

/* ---- file list ------------------------------------------------------------ */

typedef struct strvec {
    char **v;
    size_t n, cap;
} strvec;

static int strvec_push(strvec *s, const char *str)
{
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 256;
        char **nv = realloc(s->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        s->v = nv;
        s->cap = nc;
    }
    if (!(s->v[s->n] = strdup(str)))
        return -1;
    s->n++;
    return 0;
}

static void strvec_free(strvec *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(strvec *out, const char *dir, int depth)
{
    if (depth > MAX_DEPTH)
        return 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    int rc = 0;
    while (!rc && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *path = malloc(len);
        if (!path) {
            rc = -1;
            break;
        }
        snprintf(path, len, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) == 0) {
            if (S_ISDIR(st.st_mode))
                rc = walk(out, path, depth + 1);
            else if (S_ISREG(st.st_mode) && st.st_size >= 24)
                rc = strvec_push(out, path);
        }
        free(path);
    }
    closedir(d);
    return rc;
}

static int read_list(strvec *out, const char *dir, const char *list)
{
    FILE *f = fopen(list, "r");
    if (!f)
        return -1;
    char line[4096];
    int rc = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        size_t n = strcspn(line, "\r\n");
        line[n] = 0;
        if (!n || line[0] == '#')
            continue;
        if (line[0] == '/' || !dir) {
            rc = strvec_push(out, line);
        } else {
            char path[8192];
            snprintf(path, sizeof path, "%s/%s", dir, line);
            rc = strvec_push(out, path);
        }
    }
    fclose(f);
    return rc;
}

/* ---- reservoirs ------------------------------------------------------------- */

typedef struct kres {
    gen_tpl *t;
    uint8_t *b;
    uint32_t n;
    uint64_t seen;
} kres;

typedef struct loader {
    gen_rng rng;
    unsigned tplcap;
    kres k[TK_N];
    uint32_t offered[TK_N];  /* this file */
    uint64_t ip4_seen, ip6_seen, mac_seen;
    uint32_t ip4_off, ip6_off, mac_off;
    gen_corpus *c;
} loader;

/* Returns the reservoir slot for the next candidate of kind k, or -1 to drop
 * it (Algorithm R: the i-th candidate replaces a random slot with
 * probability cap/i). */
static int64_t reservoir_slot(gen_rng *r, uint64_t *seen, uint32_t *n, uint32_t cap)
{
    (*seen)++;
    if (*n < cap)
        return (*n)++;
    uint64_t j = gen_rng_next(r) % *seen;
    return j < cap ? (int64_t)j : -1;
}

/* Walks the TCP options (RFC 9293 3.1). Returns 0 when they are well formed
 * (every option inside the header, known lengths right), with the offset of
 * the timestamp option's TSval in *ts_off (0 if there is none); -1 if not:
 * such a header would make every copy of it look damaged. */
static int tcp_options(nagm_cur l4, uint16_t hlen, uint8_t *ts_off)
{
    static const uint8_t fixed_len[9] = {0, 0, 4, 3, 2, 0, 0, 0, 10}; /* 0: variable */
    nagm_cur o = nagm_cur_sub(&l4, hlen);
    nagm_cur_skip(&o, 20);
    *ts_off = 0;
    while (nagm_cur_left(&o) > 0) {
        size_t at = hlen - nagm_cur_left(&o);
        uint8_t kd = nagm_cur_u8(&o);
        if (kd == 0) { /* end of option list; the rest must be zero padding */
            while (nagm_cur_left(&o) > 0)
                if (nagm_cur_u8(&o))
                    return -1;
            return 0;
        }
        if (kd == 1)
            continue;
        uint8_t ol = nagm_cur_u8(&o);
        if (o.err || ol < 2 || ol - 2u > nagm_cur_left(&o))
            return -1;
        if (kd < sizeof fixed_len && fixed_len[kd] && ol != fixed_len[kd])
            return -1;
        if (kd == 3 && nagm_cur_peek_u8(&o, 0) > 14)
            return -1; /* window scale beyond RFC 7323's limit */
        if (kd == 8)
            *ts_off = (uint8_t)(at + 2);
        nagm_cur_skip(&o, ol - 2u);
    }
    return o.err ? -1 : 0;
}

static void offer_tpl(loader *L, enum gen_tkind kind, nagm_cur l4, uint16_t hlen,
                      uint16_t wire, uint16_t sport, uint16_t dport)
{
    if (L->offered[kind] >= TPL_PER_FILE)
        return;
    /* Only packets captured as far as a template keeps them: a payload cut
     * by the original snaplen would come out as zeros in ours. */
    size_t want = wire < L->tplcap ? wire : L->tplcap;
    if (nagm_cur_left(&l4) < want)
        return;
    uint8_t ts_off = 0;
    if (kind <= TK_RSTACK && tcp_options(l4, hlen, &ts_off))
        return;
    L->offered[kind]++;
    kres *k = &L->k[kind];
    int64_t slot = reservoir_slot(&L->rng, &k->seen, &k->n, TPL_PER_KIND);
    if (slot < 0)
        return;
    size_t cap = want;
    gen_tpl *t = &k->t[slot];
    t->off = (uint32_t)slot * L->tplcap;
    t->cap = (uint16_t)cap;
    t->hlen = hlen;
    t->wire = wire;
    t->sport = sport;
    t->dport = dport;
    t->kind = (uint8_t)kind;
    t->ts_off = ts_off;
    nagm_cur cp = l4;
    nagm_cur_copy(&cp, k->b + t->off, cap);
}

/* Decodes one Ethernet frame and offers what it carries. */
static void take_frame(loader *L, const uint8_t *data, uint32_t caplen)
{
    nagm_cur c = nagm_cur_make(data, caplen);
    uint8_t macs[12];
    nagm_cur_copy(&c, macs, 12);
    uint16_t et = nagm_cur_be16(&c);
    for (int tags = 0; tags < 4 && (et == 0x8100 || et == 0x88a8 || et == 0x9100); tags++) {
        nagm_cur_skip(&c, 2);
        et = nagm_cur_be16(&c);
    }
    if (c.err || (et != 0x0800 && et != 0x86dd))
        return;

    uint8_t proto;
    uint16_t l4wire;
    int v6 = et == 0x86dd;
    nagm_cur ip = c;
    if (!v6) {
        /* IPv4 (RFC 791)
         *  0                   1                   2                   3
         *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
         * |Version|  IHL  |Type of Service|          Total Length         |
         * |         Identification        |Flags|      Fragment Offset    |
         * |  Time to Live |    Protocol   |         Header Checksum       |
         * |                       Source Address                          |
         * |                    Destination Address                        |
         * |                    Options                    |    Padding    | */
        uint8_t vi = nagm_cur_peek_u8(&ip, 0);
        unsigned ihl = (vi & 15u) * 4u;
        uint16_t tot = nagm_cur_peek_be16(&ip, 2);
        uint16_t frag = nagm_cur_peek_be16(&ip, 6);
        proto = nagm_cur_peek_u8(&ip, 9);
        if (ip.err || (vi >> 4) != 4 || ihl < 20 || tot < ihl || (frag & 0x3fff) ||
            !nagm_cur_has(&ip, ihl))
            return;
        l4wire = (uint16_t)(tot - ihl);
        /* Header styles: TOS, DF and ID habits. Options are left out: they
         * are all but absent from ordinary traffic, and a router-alert on
         * a web request would look like nothing real. */
        if (L->ip4_off < 16 && ihl == 20) {
            L->ip4_off++;
            int64_t s = reservoir_slot(&L->rng, &L->ip4_seen, &L->c->nip4, IP4_STYLES);
            if (s >= 0) {
                nagm_cur h = ip;
                nagm_cur_copy(&h, L->c->ip4[s], ihl);
                L->c->ip4_len[s] = (uint8_t)ihl;
            }
        }
        nagm_cur_skip(&c, ihl);
    } else {
        /* IPv6 (RFC 8200)
         * |Version| Traffic Class |           Flow Label                  |
         * |         Payload Length        |  Next Header  |   Hop Limit   |
         * |                    Source Address (128)                        |
         * |                 Destination Address (128)                      | */
        uint32_t vtf = nagm_cur_be32(&ip);
        uint16_t plen = nagm_cur_be16(&ip);
        proto = nagm_cur_u8(&ip);
        if (ip.err || (vtf >> 28) != 6 || !nagm_cur_has(&c, 40) || plen == 0)
            return;
        if (proto != 6 && proto != 17 && proto != 58)
            return; /* extension headers: not worth a template */
        l4wire = plen;
        if (L->ip6_off < 16) {
            L->ip6_off++;
            int64_t s = reservoir_slot(&L->rng, &L->ip6_seen, &L->c->nip6, IP6_STYLES);
            if (s >= 0)
                L->c->ip6_vtf[s] = vtf;
        }
        nagm_cur_skip(&c, 40);
    }
    if (!(macs[0] & 1) && L->mac_off < 4) {
        L->mac_off++;
        int64_t s = reservoir_slot(&L->rng, &L->mac_seen, &L->c->nmac, MAC_PAIRS);
        if (s >= 0)
            memcpy(L->c->mac[s], macs, 12);
    }

    nagm_cur l4 = nagm_cur_sub(&c, l4wire);
    if (proto == 6) {
        /* TCP (RFC 9293)
         * |          Source Port          |       Destination Port        |
         * |                        Sequence Number                        |
         * |                    Acknowledgment Number                      |
         * |  Data |       |C|E|U|A|P|R|S|F|                               |
         * | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
         * |           Checksum            |         Urgent Pointer        |
         * |                           [Options]                           | */
        uint16_t sp = nagm_cur_peek_be16(&l4, 0), dp = nagm_cur_peek_be16(&l4, 2);
        uint16_t hlen = (uint16_t)((nagm_cur_peek_u8(&l4, 12) >> 4) * 4u);
        uint8_t fl = nagm_cur_peek_u8(&l4, 13);
        if (l4.err || hlen < 20 || hlen > l4wire || !nagm_cur_has(&l4, hlen))
            return;
        int syn = fl & 0x02, ack = fl & 0x10, rst = fl & 0x04, fin = fl & 0x01;
        enum gen_tkind k;
        if (syn && !rst && !fin)
            k = ack ? TK_SYNACK : TK_SYN;
        else if (rst && !syn)
            k = ack ? TK_RSTACK : TK_RST;
        else if (fin && !syn && !rst)
            k = TK_FIN;
        else if (ack && !syn && !rst && !fin)
            k = l4wire > hlen ? TK_DATA : TK_ACK;
        else
            return;
        offer_tpl(L, k, l4, hlen, l4wire, sp, dp);
    } else if (proto == 17) {
        /* UDP (RFC 768): source port, destination port, length, checksum */
        uint16_t sp = nagm_cur_peek_be16(&l4, 0), dp = nagm_cur_peek_be16(&l4, 2);
        if (l4.err || l4wire < 8 || !nagm_cur_has(&l4, 8))
            return;
        offer_tpl(L, TK_UDP, l4, 8, l4wire, sp, dp);
    } else if (proto == 1 || proto == 58) {
        /* ICMP echo (RFC 792, 4443): type, code, checksum, identifier, sequence */
        uint8_t type = nagm_cur_peek_u8(&l4, 0);
        if (l4.err || l4wire < 8 || !nagm_cur_has(&l4, 8) || v6 != (proto == 58))
            return;
        enum gen_tkind k;
        if (proto == 1 && type == 8)
            k = TK_ICMP_REQ;
        else if (proto == 1 && type == 0)
            k = TK_ICMP_REP;
        else if (proto == 58 && type == 128)
            k = TK_ICMP6_REQ;
        else if (proto == 58 && type == 129)
            k = TK_ICMP6_REP;
        else
            return;
        offer_tpl(L, k, l4, 8, l4wire, 0, 0);
    }
}

static void read_file(loader *L, const char *path)
{
    char eb[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, eb);
    if (!p)
        return;
    L->c->files_read++;
    if (pcap_datalink(p) != DLT_EN10MB) {
        pcap_close(p);
        return;
    }
    L->c->files_used++;
    memset(L->offered, 0, sizeof L->offered);
    L->ip4_off = L->ip6_off = L->mac_off = 0;
    struct pcap_pkthdr *h;
    const u_char *d;
    for (int n = 0; n < PKTS_PER_FILE && pcap_next_ex(p, &h, &d) == 1; n++) {
        L->c->pkts_read++;
        take_frame(L, d, h->caplen);
    }
    pcap_close(p);
}

/* ---- fallbacks and indexes ---------------------------------------------------- */

/* A minimal template for a kind the corpus did not provide. */
static void synth(loader *L, enum gen_tkind kind)
{
    kres *k = &L->k[kind];
    uint8_t *b = k->b;
    gen_tpl *t = &k->t[0];
    memset(b, 0, L->tplcap);
    memset(t, 0, sizeof *t);
    t->kind = (uint8_t)kind;
    if (kind <= TK_RSTACK) {
        t->hlen = 20;
        if (kind == TK_SYN || kind == TK_SYNACK) {
            t->hlen = 24; /* MSS 1460 */
            b[20] = 2;
            b[21] = 4;
            b[22] = 0x05;
            b[23] = 0xb4;
        }
        b[12] = (uint8_t)((t->hlen / 4) << 4);
        b[14] = 0xfa; /* window 64240 */
        b[15] = 0xf0;
        t->wire = t->hlen + (kind == TK_DATA ? 512 : 0);
    } else if (kind == TK_UDP) {
        t->hlen = 8;
        t->wire = 8 + 32;
    } else {
        t->hlen = 8;
        t->wire = 64; /* ping's 56 data bytes */
    }
    t->cap = (uint16_t)(t->wire < L->tplcap ? t->wire : L->tplcap);
    k->n = 1;
}

static int list_from(gen_tlist *out, const gen_corpus *c, const gen_tlist *from,
                     int (*keep)(const gen_tpl *, const void *), const void *arg,
                     int fallback)
{
    out->ids = malloc((from->n ? from->n : 1) * sizeof *out->ids);
    if (!out->ids)
        return -1;
    out->n = 0;
    for (uint32_t i = 0; i < from->n; i++)
        if (keep(&c->tpl[from->ids[i]], arg))
            out->ids[out->n++] = from->ids[i];
    if (!out->n && fallback) {
        memcpy(out->ids, from->ids, from->n * sizeof *out->ids);
        out->n = from->n;
    }
    return 0;
}

static int keep_syn_plain(const gen_tpl *t, const void *a)
{
    (void)a;
    return t->hlen <= 24;
}

static int keep_ts(const gen_tpl *t, const void *a)
{
    (void)a;
    return t->ts_off != 0;
}

static int keep_plain(const gen_tpl *t, const void *a)
{
    (void)a;
    return t->ts_off == 0;
}

static int keep_req(const gen_tpl *t, const void *a)
{
    const gen_svc *s = a;
    return t->dport == s->port;
}

static int keep_resp(const gen_tpl *t, const void *a)
{
    const gen_svc *s = a;
    return t->sport == s->port;
}

int gen_corpus_load(gen_corpus *c, const char *dir, const char *list,
                    unsigned tplcap, uint64_t seed, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    loader L;
    memset(&L, 0, sizeof L);
    L.c = c;
    L.tplcap = tplcap;
    gen_rng_seed(&L.rng, seed ^ 0x636f72707573ULL);
    strvec files = {0};
    int rc = -1;

    c->ip4 = calloc(IP4_STYLES, sizeof *c->ip4);
    c->ip4_len = calloc(IP4_STYLES, 1);
    c->ip6_vtf = calloc(IP6_STYLES, sizeof *c->ip6_vtf);
    c->mac = calloc(MAC_PAIRS, sizeof *c->mac);
    if (!c->ip4 || !c->ip4_len || !c->ip6_vtf || !c->mac)
        goto oom;
    for (int k = 0; k < TK_N; k++) {
        L.k[k].t = calloc(TPL_PER_KIND, sizeof *L.k[k].t);
        L.k[k].b = calloc(TPL_PER_KIND, tplcap);
        if (!L.k[k].t || !L.k[k].b)
            goto oom;
    }

    if (list) {
        if (read_list(&files, dir, list) < 0) {
            snprintf(err, errlen, "cannot read corpus list %s: %s", list, strerror(errno));
            goto out;
        }
    } else {
        struct stat st;
        if (!dir || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            snprintf(err, errlen, "corpus directory %s not found", dir ? dir : "(none)");
            goto out;
        }
        if (walk(&files, dir, 0) < 0)
            goto oom;
        qsort(files.v, files.n, sizeof *files.v, cmp_str);
    }
    for (size_t i = 0; i < files.n; i++)
        read_file(&L, files.v[i]);

    uint32_t real = 0;
    for (int k = 0; k < TK_N; k++)
        real += L.k[k].n;
    if (!real || !c->nip4) {
        snprintf(err, errlen, "no usable Ethernet IPv4 TCP/UDP/ICMP packet in %zu corpus files under %s",
                 files.n, dir ? dir : list);
        goto out;
    }
    for (int k = 0; k < TK_N; k++)
        if (!L.k[k].n) {
            synth(&L, (enum gen_tkind)k);
            c->synthesized |= 1u << k;
        }
    if (!c->nip6) {
        c->ip6_vtf[0] = 0x60000000u;
        c->nip6 = 1;
    }
    if (!c->nmac) {
        static const uint8_t m[12] = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2};
        memcpy(c->mac[0], m, 12);
        c->nmac = 1;
    }

    /* Pack the reservoirs into one array and one byte arena. */
    for (int k = 0; k < TK_N; k++)
        c->ntpl += L.k[k].n;
    c->tpl = malloc(c->ntpl * sizeof *c->tpl);
    c->bytes = malloc((size_t)c->ntpl * tplcap);
    if (!c->tpl || !c->bytes)
        goto oom;
    uint32_t at = 0;
    for (int k = 0; k < TK_N; k++) {
        c->kind[k].ids = malloc(L.k[k].n * sizeof *c->kind[k].ids);
        if (!c->kind[k].ids)
            goto oom;
        c->kind[k].n = L.k[k].n;
        for (uint32_t j = 0; j < L.k[k].n; j++, at++) {
            c->tpl[at] = L.k[k].t[j];
            memcpy(c->bytes + (size_t)at * tplcap, L.k[k].b + L.k[k].t[j].off, tplcap);
            c->tpl[at].off = at * tplcap;
            c->kind[k].ids[j] = at;
        }
    }

    if (list_from(&c->syn_plain, c, &c->kind[TK_SYN], keep_syn_plain, NULL, 1) ||
        list_from(&c->syn_ts, c, &c->kind[TK_SYN], keep_ts, NULL, 1) ||
        list_from(&c->ack_ts, c, &c->kind[TK_ACK], keep_ts, NULL, 1) ||
        list_from(&c->ack_plain, c, &c->kind[TK_ACK], keep_plain, NULL, 1) ||
        list_from(&c->data_ts, c, &c->kind[TK_DATA], keep_ts, NULL, 1) ||
        list_from(&c->data_plain, c, &c->kind[TK_DATA], keep_plain, NULL, 1))
        goto oom;
    for (int s = 0; s < GEN_NSVC; s++) {
        const gen_tlist *from = gen_svc_table[s].proto == 6 ? &c->kind[TK_DATA] : &c->kind[TK_UDP];
        if (list_from(&c->svc_req[s], c, from, keep_req, &gen_svc_table[s], 0) ||
            list_from(&c->svc_resp[s], c, from, keep_resp, &gen_svc_table[s], 0))
            goto oom;
    }
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "out of memory reading the corpus");
out:
    for (int k = 0; k < TK_N; k++) {
        free(L.k[k].t);
        free(L.k[k].b);
    }
    strvec_free(&files);
    if (rc)
        gen_corpus_free(c);
    return rc;
}

void gen_corpus_free(gen_corpus *c)
{
    free(c->bytes);
    free(c->tpl);
    for (int k = 0; k < TK_N; k++)
        free(c->kind[k].ids);
    free(c->syn_plain.ids);
    free(c->syn_ts.ids);
    free(c->ack_ts.ids);
    free(c->ack_plain.ids);
    free(c->data_ts.ids);
    free(c->data_plain.ids);
    for (int s = 0; s < GEN_NSVC; s++) {
        free(c->svc_req[s].ids);
        free(c->svc_resp[s].ids);
    }
    free(c->ip4);
    free(c->ip4_len);
    free(c->ip6_vtf);
    free(c->mac);
    memset(c, 0, sizeof *c);
}
