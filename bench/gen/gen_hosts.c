/* The source population: every address that sends a packet in the output.
 *
 * Sources are split into classes (clients, servers, scanners, backscatter
 * sources), each class ranked for a Zipf activity law. Addresses come from
 * keyed bijections, so they are distinct by construction: inside hosts live
 * in 10.0.0.0/8 and 2001:db8::/48, outside hosts anywhere in public unicast
 * space. Per host the model also fixes what a real stack fixes: initial TTL
 * and hop count, MTU, TCP options (its SYN template), IP header style, MACs.
 */
#include "gen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct wsvc {
    uint8_t proto;
    uint16_t port;
    double w;
} wsvc;

/* What servers serve (share of servers). */
static const wsvc srv_mix[] = {
    {6, 443, 40}, {6, 80, 18}, {6, 22, 3},   {6, 25, 3},   {6, 993, 2},
    {6, 8080, 2}, {6, 8443, 2}, {6, 3389, 1}, {6, 445, 1},  {6, 587, 1},
    {6, 143, 1},  {6, 21, 1},   {6, 3306, 1}, {6, 5432, 0.5}, {6, 110, 0.5},
    {6, 1883, 0.5}, {17, 53, 12}, {17, 443, 6}, {17, 123, 3}, {17, 3478, 1},
};

/* What scanners look for, TCP and UDP. */
static const wsvc scan_tcp[] = {
    {6, 23, 10}, {6, 22, 10}, {6, 80, 8},  {6, 445, 8},  {6, 443, 6},
    {6, 3389, 6}, {6, 8080, 5}, {6, 2323, 3}, {6, 5900, 2}, {6, 1433, 2},
    {6, 3306, 2}, {6, 6379, 2}, {6, 21, 2},  {6, 25, 2},   {6, 8888, 1},
};
static const wsvc scan_udp[] = {
    {17, 53, 5},  {17, 123, 3}, {17, 161, 3}, {17, 1900, 3}, {17, 5060, 3},
    {17, 137, 2}, {17, 11211, 2}, {17, 389, 2}, {17, 19, 1},  {17, 500, 1},
    {17, 69, 1},  {17, 111, 1}, {17, 5353, 1}, {17, 27015, 1},
};

/* Ports of hosts under a spoofed-source flood (their replies are backscatter). */
static const wsvc bs_mix[] = {
    {6, 80, 30}, {6, 443, 30}, {6, 22, 5}, {6, 53, 5}, {6, 25, 3},
    {6, 6667, 3}, {6, 8080, 3}, {6, 3389, 2},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static uint8_t pick_svc(const wsvc *t, size_t n, uint64_t h)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += t[i].w;
    double u = (double)(h >> 11) * 0x1.0p-53 * sum;
    size_t i = 0;
    for (; i + 1 < n; i++) {
        if (u < t[i].w)
            break;
        u -= t[i].w;
    }
    int s = gen_svc_find(t[i].proto, t[i].port);
    return (uint8_t)(s < 0 ? 0 : s);
}

/* ---- addresses --------------------------------------------------------------- */

static uint64_t g_addr_key; /* set once per build from the seed */

static void put4(uint8_t out[16], uint32_t a)
{
    memset(out, 0, 16);
    out[0] = (uint8_t)(a >> 24);
    out[1] = (uint8_t)(a >> 16);
    out[2] = (uint8_t)(a >> 8);
    out[3] = (uint8_t)a;
}

static void put64(uint8_t *out, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(v >> (56 - 8 * i));
}

void gen_inside4(uint8_t out[16], uint32_t idx24)
{
    put4(out, 0x0a000000u | (idx24 & 0xffffffu));
}

void gen_inside6(uint8_t out[16], uint16_t sub, uint64_t iid)
{
    static const uint8_t pfx[6] = {0x20, 0x01, 0x0d, 0xb8, 0, 0};
    memcpy(out, pfx, 6);
    out[6] = (uint8_t)(sub >> 8);
    out[7] = (uint8_t)sub;
    put64(out + 8, iid);
}

/* Public unicast, never one of the special-purpose blocks. */
static int public4(uint32_t a)
{
    uint8_t o = (uint8_t)a;
    if (o == 0 || o == 255)
        return 0;
    uint32_t b8 = a >> 24;
    if (b8 == 0 || b8 == 10 || b8 == 127 || b8 >= 224)
        return 0;
    if ((a & 0xffc00000u) == 0x64400000u ||  /* 100.64/10 */
        (a & 0xffff0000u) == 0xa9fe0000u ||  /* 169.254/16 */
        (a & 0xfff00000u) == 0xac100000u ||  /* 172.16/12 */
        (a & 0xffffff00u) == 0xc0000000u ||  /* 192.0.0/24 */
        (a & 0xffffff00u) == 0xc0000200u ||  /* 192.0.2/24 */
        (a & 0xffff0000u) == 0xc0a80000u ||  /* 192.168/16 */
        (a & 0xfffe0000u) == 0xc6120000u ||  /* 198.18/15 */
        (a & 0xffffff00u) == 0xc6336400u ||  /* 198.51.100/24 */
        (a & 0xffffff00u) == 0xcb007100u)    /* 203.0.113/24 */
        return 0;
    return 1;
}

/* The m-th outside IPv4 host. Start from a public address that depends only
 * on m, then walk the permutation's cycle until it lands on a public address
 * again: the walk is a bijection of the public set, so hosts never collide. */
static uint32_t outside4(uint32_t m)
{
    uint32_t x = 0x0b000000u + (m / 254u) * 256u + m % 254u + 1u;
    do
        x = (uint32_t)gen_perm(x, 32, g_addr_key);
    while (!public4(x));
    return x;
}

/* The m-th inside IPv4 host in 10.0.0.0/8, last octet 1..254. */
uint32_t gen_inside4_host(uint32_t m)
{
    uint32_t x = (m / 254u) * 256u + m % 254u + 1u;
    do
        x = (uint32_t)gen_perm(x, 24, g_addr_key ^ 0x696e3476ULL);
    while ((x & 0xff) == 0 || (x & 0xff) == 255);
    return 0x0a000000u | x;
}

static void outside6(uint8_t out[16], uint32_t m)
{
    /* Hosts come in sites of 8 sharing a /48; the interface identifier is a
     * bijection of m, which keeps addresses distinct. */
    uint64_t site = gen_mix64(g_addr_key ^ (m >> 3));
    uint16_t w0 = (uint16_t)(0x2000u | ((site >> 48) & 0x1fffu));
    uint16_t w1 = (uint16_t)(site >> 32);
    if (w0 == 0x2001 && (w1 == 0x0db8 || w1 == 0))
        w1 ^= 0x4000;
    if (w0 == 0x2002)
        w0 = 0x2a02;
    uint32_t lo = (uint32_t)site;
    out[0] = (uint8_t)(w0 >> 8);
    out[1] = (uint8_t)w0;
    out[2] = (uint8_t)(w1 >> 8);
    out[3] = (uint8_t)w1;
    out[4] = (uint8_t)(lo >> 24);
    out[5] = (uint8_t)(lo >> 16);
    out[6] = 0;
    out[7] = (uint8_t)(gen_mix64(m) & 0x0f);
    put64(out + 8, gen_perm(m, 64, g_addr_key ^ 0x6f757436ULL));
}

void gen_random_outside(uint8_t out[16], int v6, uint64_t h)
{
    if (!v6) {
        uint32_t a = (uint32_t)h;
        while (!public4(a))
            a = (uint32_t)gen_mix64(a ^ h);
        put4(out, a);
        return;
    }
    /* Destinations are not keys: an accidental equality with a source
     * address (odds 2^-64) would change nothing that is counted. */
    outside6(out, (uint32_t)(h >> 8));
    put64(out + 8, gen_mix64(h ^ 0x64737436ULL));
}

/* ---- population ------------------------------------------------------------- */

static int stratified(uint32_t j, double share, double off)
{
    return floor((j + 1) * share + off) > floor(j * share + off);
}

static int pool_build(gen_pool *p, const uint32_t *ids, const uint32_t *rank, uint32_t n, double s)
{
    memset(p, 0, sizeof *p);
    if (!n)
        return 0;
    p->ids = malloc(n * sizeof *p->ids);
    double *w = malloc(n * sizeof *w);
    if (!p->ids || !w) {
        free(w);
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        p->ids[i] = ids[i];
        w[i] = pow((double)rank[i] + 1.0, -s);
    }
    p->n = n;
    int rc = gen_alias_build(&p->z, w, n);
    free(w);
    return rc;
}

static uint8_t pick_ttl(uint64_t h, int cls, int inside)
{
    unsigned init, r = (unsigned)(h % 100);
    if (cls == CL_SCANNER)
        init = r < 50 ? 64 : r < 90 ? 255 : 128;
    else
        init = r < 55 ? 64 : r < 90 ? 128 : 255;
    unsigned hops = inside ? 1 + (unsigned)((h >> 8) % 3)
                           : 6 + (unsigned)((h >> 16) % 11) + (unsigned)((h >> 24) % 11);
    return (uint8_t)(init - hops);
}

static uint16_t pick_mtu(uint64_t h)
{
    unsigned r = (unsigned)(h % 100);
    return r < 85 ? 1500 : r < 90 ? 1492 : r < 94 ? 1460 : r < 98 ? 1400 : 1280;
}

int gen_hosts_build(gen_hosts *hs, const gen_hosts_cfg *cfg, const gen_corpus *c,
                    char *err, size_t errlen)
{
    memset(hs, 0, sizeof *hs);
    uint32_t n = cfg->n;
    if (n < 1) {
        snprintf(err, errlen, "need at least one source");
        return -1;
    }
    g_addr_key = gen_mix64(cfg->seed ^ 0x61646472ULL);

    /* Class sizes: rounded shares; clients take the remainder. A population
     * of two or more always has a client and a server. */
    uint32_t cnt[CL_N];
    uint64_t rest = n;
    for (int k = CL_SERVER; k < CL_N; k++) {
        cnt[k] = (uint32_t)llround(n * cfg->share[k]);
        if (cnt[k] > rest)
            cnt[k] = (uint32_t)rest;
        rest -= cnt[k];
    }
    cnt[CL_CLIENT] = (uint32_t)rest;
    if (n >= 2 && !cnt[CL_SERVER]) {
        cnt[CL_SERVER] = 1;
        if (cnt[CL_CLIENT] > 1)
            cnt[CL_CLIENT]--;
        else
            cnt[cnt[CL_BACKSCATTER] ? CL_BACKSCATTER : CL_SCANNER]--;
    }
    if (!cnt[CL_CLIENT]) {
        int from = cnt[CL_BACKSCATTER] ? CL_BACKSCATTER : cnt[CL_SCANNER] ? CL_SCANNER : CL_SERVER;
        if (from != CL_SERVER || cnt[CL_SERVER] > 1) {
            cnt[from]--;
            cnt[CL_CLIENT] = 1;
        }
    }
    hs->base[0] = 0;
    for (int k = 0; k < CL_N; k++)
        hs->base[k + 1] = hs->base[k] + cnt[k];

    hs->n = n;
    hs->h = calloc(n, sizeof *hs->h);
    uint32_t *tmp = malloc(n * sizeof *tmp), *rk = malloc(n * sizeof *rk);
    if (!hs->h || !tmp || !rk)
        goto oom;

    static const double inside_share[CL_N] = {0.7, 0.3, 0.0, 0.0};
    uint32_t k_in4 = 0, k_out4 = 0, k_in6 = 0, k_out6 = 0;
    for (int k = 0; k < CL_N; k++) {
        double off6 = (double)(gen_mix64(cfg->seed ^ (0x7636ULL + (uint64_t)k)) >> 11) * 0x1.0p-53;
        double offi = (double)(gen_mix64(cfg->seed ^ (0x696eULL + (uint64_t)k)) >> 11) * 0x1.0p-53;
        for (uint32_t j = 0; j < cnt[k]; j++) {
            uint32_t id = hs->base[k] + j;
            gen_host *h = &hs->h[id];
            uint64_t hh = gen_mix64(cfg->seed * 0x9e3779b97f4a7c15ULL ^ id);
            uint64_t h2 = gen_mix64(hh);
            h->cls = (uint8_t)k;
            h->v6 = (uint8_t)stratified(j, cfg->v6, off6);
            h->inside = (uint8_t)stratified(j, inside_share[k], offi);
            if (!h->v6) {
                uint32_t a = h->inside ? gen_inside4_host(k_in4++) : outside4(k_out4++);
                put4(h->addr, a);
            } else if (h->inside) {
                uint32_t m = k_in6++;
                gen_inside6(h->addr, (uint16_t)(gen_mix64(g_addr_key ^ (m >> 5)) & 0xff),
                            gen_perm(m, 64, g_addr_key ^ 0x696e36ULL));
            } else {
                outside6(h->addr, k_out6++);
            }
            h->ttl = pick_ttl(hh, k, h->inside);
            h->mtu = pick_mtu(h2);
            h->l3 = (uint16_t)((h2 >> 8) % (h->v6 ? c->nip6 : c->nip4));
            h->mac = (uint16_t)((h2 >> 24) % c->nmac);
            h->tsclock = (uint32_t)(h2 >> 32);
            uint64_t h3 = gen_mix64(h2);
            const gen_tlist *syn = &c->kind[TK_SYN];
            switch (k) {
            case CL_SERVER:
                h->svc = pick_svc(srv_mix, NELEM(srv_mix), h3);
                syn = &c->kind[TK_SYNACK];
                break;
            case CL_SCANNER: {
                unsigned r = (unsigned)(h3 % 100);
                h->behave = r < 50 ? BH_SYN_HORIZ : r < 60 ? BH_SYN_VERT : r < 80 ? BH_UDP_HORIZ
                          : r < 85 ? BH_UDP_VERT : BH_ICMP_SWEEP;
                int udp = h->behave == BH_UDP_HORIZ || h->behave == BH_UDP_VERT;
                h->svc = udp ? pick_svc(scan_udp, NELEM(scan_udp), h3 >> 7)
                             : pick_svc(scan_tcp, NELEM(scan_tcp), h3 >> 7);
                h->nports = (uint8_t)(((h3 >> 20) % 100) < 80 ? 1 : 2 + (h3 >> 28) % 7);
                h->sport = ((h3 >> 40) % 100) < 60 ? (uint16_t)(1024 + (h3 >> 44) % 64512) : 0;
                if (((h3 >> 52) % 100) < 70)
                    syn = &c->syn_plain;
                break;
            }
            case CL_BACKSCATTER:
                h->behave = (h3 % 100) < 75 ? BH_BS_SYNACK : BH_BS_RST;
                h->svc = pick_svc(bs_mix, NELEM(bs_mix), h3 >> 7);
                syn = &c->kind[TK_SYNACK];
                break;
            default:
                break;
            }
            h->syn_tpl = syn->ids[(h3 >> 13) % syn->n];
            h->tsmode = c->tpl[h->syn_tpl].ts_off != 0;
        }
    }

    /* Zipf pools: per class, and servers by side and IP version. */
    for (int k = 0; k < CL_N; k++) {
        for (uint32_t j = 0; j < cnt[k]; j++) {
            tmp[j] = hs->base[k] + j;
            rk[j] = j;
        }
        if (pool_build(&hs->cls[k], tmp, rk, cnt[k], cfg->zipf))
            goto oom;
    }
    for (int in = 0; in < 2; in++)
        for (int v6 = 0; v6 < 2; v6++) {
            uint32_t m = 0;
            for (uint32_t j = 0; j < cnt[CL_SERVER]; j++) {
                const gen_host *h = &hs->h[hs->base[CL_SERVER] + j];
                if (h->inside == in && h->v6 == v6) {
                    tmp[m] = hs->base[CL_SERVER] + j;
                    rk[m++] = j;
                }
            }
            if (pool_build(&hs->srv[in][v6], tmp, rk, m, cfg->zipf))
                goto oom;
        }
    free(tmp);
    free(rk);
    return 0;
oom:
    free(tmp);
    free(rk);
    gen_hosts_free(hs);
    snprintf(err, errlen, "out of memory for %u sources", n);
    return -1;
}

void gen_hosts_free(gen_hosts *hs)
{
    for (int k = 0; k < CL_N; k++) {
        free(hs->cls[k].ids);
        gen_alias_free(&hs->cls[k].z);
    }
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            free(hs->srv[i][j].ids);
            gen_alias_free(&hs->srv[i][j].z);
        }
    free(hs->h);
    memset(hs, 0, sizeof *hs);
}
