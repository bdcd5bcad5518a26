/* netagm-gen: private declarations shared by the capture generator's files.
 *
 * The generator is a benchmark tool, not part of libnetagm. It reads header
 * templates from real captures (gen_corpus.c), builds a population of sources
 * (gen_hosts.c), runs a traffic model over them (gen_model.c) and writes the
 * packets as a classic pcap file (gen_packet.c, gen_main.c). Everything is
 * driven by one seeded PRNG, so the same options give the same bytes.
 */
#ifndef NETAGM_BENCH_GEN_H
#define NETAGM_BENCH_GEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- random numbers (gen_rand.c) ----------------------------------------- */

/* xoshiro256** state; seeded through splitmix64. */
typedef struct gen_rng {
    uint64_t s[4];
} gen_rng;

void gen_rng_seed(gen_rng *r, uint64_t seed);

static inline uint64_t gen_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t gen_rng_next(gen_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = gen_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = gen_rotl(s[3], 45);
    return out;
}

/* Uniform in [0, n); n > 0 (multiply-shift, bias below 2^-32). */
static inline uint32_t gen_rng_below(gen_rng *r, uint32_t n)
{
    return (uint32_t)(((gen_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [0, 1). */
static inline double gen_rng_unit(gen_rng *r)
{
    return (double)(gen_rng_next(r) >> 11) * 0x1.0p-53;
}

/* 1 with probability p (p given as a fraction scaled to 2^32). */
static inline int gen_rng_chance(gen_rng *r, uint32_t p32)
{
    return (uint32_t)gen_rng_next(r) < p32;
}

#define GEN_P32(p) ((uint32_t)((p) * 4294967295.0))

/* splitmix64 finaliser: a stateless 64-bit hash. */
static inline uint64_t gen_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* A keyed bijection on [0, 2^bits) (1 <= bits <= 64). Not cryptographic:
 * it only has to scatter indices so that sweeps and addresses look random
 * while staying collision-free. */
uint64_t gen_perm(uint64_t x, unsigned bits, uint64_t key);

/* Heavy-tailed integer: Pareto(alpha) with minimum xm, capped at cap. */
uint64_t gen_rng_pareto(gen_rng *r, double xm, double alpha, uint64_t cap);

/* Geometric count >= 1: P(k) = (1-q) q^(k-1), capped at cap. */
uint32_t gen_rng_geom(gen_rng *r, double q, uint32_t cap);

/* Walker/Vose alias table over n weights: O(1) sampling. */
typedef struct gen_alias_cell {
    uint32_t prob;   /* keep i below this threshold (scaled to 2^32) */
    uint32_t alias;  /* else take this one */
} gen_alias_cell;

typedef struct gen_alias {
    uint32_t n;
    gen_alias_cell *cell; /* one array: a draw touches one cache line */
} gen_alias;

/* Builds a table for weights w[0..n-1] (n >= 1, sum > 0). Returns 0 or -1
 * (out of memory). Free with gen_alias_free(). */
int gen_alias_build(gen_alias *a, const double *w, uint32_t n);
/* Zipf weights 1/(i+1)^s for i in [0, n). */
int gen_alias_zipf(gen_alias *a, uint32_t n, double s);
void gen_alias_free(gen_alias *a);

static inline uint32_t gen_alias_draw(const gen_alias *a, gen_rng *r)
{
    uint64_t x = gen_rng_next(r);
    uint32_t i = (uint32_t)(((x >> 32) * (uint64_t)a->n) >> 32);
    return (uint32_t)x < a->cell[i].prob ? i : a->cell[i].alias;
}

/* ---- header templates from real captures (gen_corpus.c) ------------------ */

/* Kinds of L4 template. TCP kinds are decided by the flags byte. */
enum gen_tkind {
    TK_SYN,       /* SYN */
    TK_SYNACK,    /* SYN+ACK */
    TK_ACK,       /* ACK, no payload */
    TK_DATA,      /* ACK with payload */
    TK_FIN,       /* FIN (+ACK) */
    TK_RST,       /* RST without ACK */
    TK_RSTACK,    /* RST+ACK */
    TK_UDP,       /* any UDP datagram */
    TK_ICMP_REQ,  /* ICMP echo request */
    TK_ICMP_REP,  /* ICMP echo reply */
    TK_ICMP6_REQ, /* ICMPv6 echo request */
    TK_ICMP6_REP, /* ICMPv6 echo reply */
    TK_N
};

/* One L4 template: the first bytes of a real TCP/UDP/ICMP header and payload. */
typedef struct gen_tpl {
    uint32_t off;    /* into gen_corpus.bytes */
    uint16_t cap;    /* bytes stored (header + captured payload, capped) */
    uint16_t hlen;   /* L4 header length (TCP data offset * 4, 8 for UDP/ICMP) */
    uint16_t wire;   /* L4 length on the wire (from the IP header) */
    uint16_t sport, dport;
    uint8_t ts_off;  /* offset of the TCP timestamp option's TSval, 0 = none */
    uint8_t kind;    /* enum gen_tkind */
} gen_tpl;

/* A list of template indices. */
typedef struct gen_tlist {
    uint32_t n;
    uint32_t *ids;
} gen_tlist;

/* The service catalogue: well-known (proto, port) pairs the model uses for
 * servers, scans and backscatter. Templates seen on these ports are indexed
 * so that a DNS exchange carries DNS bytes, an HTTP request HTTP bytes. */
typedef struct gen_svc {
    uint8_t proto;   /* 6 or 17 */
    uint16_t port;
} gen_svc;

#define GEN_NSVC 40
extern const gen_svc gen_svc_table[GEN_NSVC];
/* Index of (proto, port) in gen_svc_table, or -1. */
int gen_svc_find(uint8_t proto, uint16_t port);

/* Templates read from the corpus. */
typedef struct gen_corpus {
    uint8_t *bytes;          /* arena of template bytes */
    gen_tpl *tpl;            /* all templates */
    uint32_t ntpl;
    gen_tlist kind[TK_N];    /* every template of a kind */
    gen_tlist syn_plain;     /* SYN with a 20..24 byte header (scanner style) */
    gen_tlist syn_ts;        /* SYN carrying a timestamp option */
    gen_tlist ack_ts, ack_plain;
    gen_tlist data_ts, data_plain;
    gen_tlist svc_req[GEN_NSVC];   /* DATA/UDP templates sent to the service */
    gen_tlist svc_resp[GEN_NSVC];  /* ... and sent by it */
    /* IPv4 header styles (whole header incl. options), IPv6 first words. */
    uint8_t (*ip4)[60];
    uint8_t *ip4_len;
    uint32_t nip4;
    uint32_t *ip6_vtf;       /* version/traffic class/flow label word */
    uint32_t nip6;
    uint8_t (*mac)[12];      /* Ethernet dst+src pairs */
    uint32_t nmac;
    uint32_t files_read, files_used;
    uint64_t pkts_read;
    uint32_t synthesized;    /* bit per kind that had no corpus template */
} gen_corpus;

/* Reads up to a bounded number of templates from the captures under dir
 * (recursively, in name order), or from the files listed one per line in
 * list (if list is not NULL; relative names resolve against dir). tplcap is
 * the number of L4 bytes kept per template. A kind the corpus lacks gets a
 * minimal synthetic template and its bit in synthesized. Returns 0, or -1 with
 * a message in err (no usable packet at all, or out of memory). Free with
 * gen_corpus_free(). */
int gen_corpus_load(gen_corpus *c, const char *dir, const char *list,
                    unsigned tplcap, uint64_t seed, char *err, size_t errlen);
void gen_corpus_free(gen_corpus *c);

/* ---- the source population (gen_hosts.c) --------------------------------- */

enum gen_class { CL_CLIENT, CL_SERVER, CL_SCANNER, CL_BACKSCATTER, CL_N };

/* Scanner and backscatter behaviours. */
enum gen_behave {
    BH_NONE,
    BH_SYN_HORIZ,   /* SYN to one port (or a few) across many addresses */
    BH_SYN_VERT,    /* SYN to many ports on a few addresses */
    BH_UDP_HORIZ,   /* UDP probes to one port across many addresses */
    BH_UDP_VERT,    /* UDP probes to many ports on a few addresses */
    BH_ICMP_SWEEP,  /* echo requests across many addresses */
    BH_BS_SYNACK,   /* backscatter: mostly SYN-ACK */
    BH_BS_RST,      /* backscatter: RST-ACK / RST */
};

typedef struct gen_host {
    uint8_t addr[16];   /* IPv4 in the first 4 bytes */
    uint8_t v6, inside, cls, ttl;
    uint8_t behave;     /* enum gen_behave */
    uint8_t svc;        /* server / backscatter / scan: gen_svc_table index */
    uint8_t nports;     /* scanners: ports in the port set (1..8) */
    uint8_t tsmode;     /* 1: the host's stack sends TCP timestamps */
    uint16_t mtu;
    uint16_t l3;        /* IPv4 header style / IPv6 word index */
    uint16_t mac;       /* MAC pair index */
    uint16_t sport;     /* scanners: fixed source port, 0 = random */
    uint32_t syn_tpl;   /* the host's SYN template (its stack's options) */
    uint32_t count;     /* scanners/backscatter: probes sent so far */
    uint32_t tsclock;   /* TCP timestamp clock offset */
} gen_host;

/* A pool of hosts sampled with Zipf weights by rank. */
typedef struct gen_pool {
    uint32_t n;
    uint32_t *ids;
    gen_alias z;
} gen_pool;

typedef struct gen_hosts {
    gen_host *h;
    uint32_t n;
    uint32_t base[CL_N + 1];       /* class c = ids [base[c], base[c+1]) */
    gen_pool cls[CL_N];
    gen_pool srv[2][2];            /* servers by [inside][v6] */
} gen_hosts;

typedef struct gen_hosts_cfg {
    uint32_t n;                    /* number of sources */
    double share[CL_N];            /* fraction of sources per class */
    double v6;                     /* fraction of sources on IPv6 */
    double zipf;                   /* Zipf exponent of activity by rank */
    uint64_t seed;
} gen_hosts_cfg;

/* Builds the population. Returns 0 or -1 with a message in err. */
int gen_hosts_build(gen_hosts *hs, const gen_hosts_cfg *cfg,
                    const gen_corpus *c, char *err, size_t errlen);
void gen_hosts_free(gen_hosts *hs);

/* An address inside the monitored network (scan and backscatter targets):
 * IPv4 10.0.0.0/8 index idx (24 bits), IPv6 2001:db8:0:<sub>::<lo>. */
void gen_inside4(uint8_t out[16], uint32_t idx24);
void gen_inside6(uint8_t out[16], uint16_t sub, uint64_t iid);
/* A public IPv4 address / IPv6 address chosen by a hash (never a source). */
void gen_random_outside(uint8_t out[16], int v6, uint64_t h);
/* The m-th address of the IPv4 inside network (last octet 1..254); distinct
 * for distinct m < 2^24 * 254 / 256. */
uint32_t gen_inside4_host(uint32_t m);

/* ---- the traffic model (gen_model.c) ------------------------------------- */

/* One packet to build. Addresses are copied in; templates by index. */
typedef struct gen_pkt {
    uint32_t src;        /* host id of the sender */
    uint8_t daddr[16];
    uint8_t v6;
    uint8_t proto;       /* 6, 17, 1, 58 */
    uint8_t tcpflags;
    uint8_t ttl;
    uint8_t to_inside;   /* direction (picks the MAC order) */
    uint16_t sport, dport;
    uint16_t l4len;      /* L4 bytes on the wire (header + payload) */
    uint16_t icmp_id, icmp_seq;
    uint16_t dns_id;     /* written over a DNS payload's ID, 0 = leave */
    uint16_t ipid;       /* IPv4 identification */
    uint32_t seq, ack;
    uint32_t tsval, tsecr;
    uint32_t flow;       /* IPv6 flow label source */
    uint32_t tpl;
} gen_pkt;

typedef struct gen_lenmix {
    uint32_t n;          /* 0 = lengths from the corpus templates */
    uint16_t len[32];    /* frame lengths */
    double w[32];
    gen_alias a;
} gen_lenmix;

typedef struct gen_model_cfg {
    uint64_t seed;
    uint64_t packets;    /* total planned (for the coverage guarantee) */
    uint32_t flows;      /* concurrent session slots */
    double scan_share;   /* fraction of packets from scanners */
    double bs_share;     /* fraction of packets that are backscatter */
    const gen_lenmix *lenmix;
} gen_model_cfg;

typedef struct gen_sess gen_sess;

typedef struct gen_model {
    gen_rng rng;
    const gen_hosts *hs;
    gen_host *h;         /* hs->h, writable (probe counters) */
    const gen_corpus *c;
    gen_model_cfg cfg;
    gen_sess *sess;
    uint32_t nsess;
    uint32_t *free_ids;  /* free session slots, in no order */
    uint32_t *free_pos;  /* slot -> index in free_ids, UINT32_MAX if busy */
    uint32_t nfree;
    uint64_t i;          /* packets emitted */
    uint8_t *seen;       /* bit per source */
    uint32_t unseen;
    uint64_t cover_pos;  /* coverage walk position */
    uint64_t cover_stride, cover_off;
    uint32_t p_scan, p_bs; /* thresholds scaled to 2^32 */
    uint64_t by_class[CL_N];
    uint64_t forced;
} gen_model;

/* Sets up a model over hosts and templates. Returns 0 or -1 (no memory).
 * The model writes probe counters into hs's hosts: rebuild or reset with
 * gen_model_reset_hosts() before a second run over the same hosts. */
int gen_model_init(gen_model *m, gen_hosts *hs, const gen_corpus *c,
                   const gen_model_cfg *cfg);
void gen_model_reset_hosts(gen_hosts *hs);
void gen_model_free(gen_model *m);

/* Produces the next packet at time t_us (microseconds since the epoch). */
void gen_model_next(gen_model *m, uint64_t t_us, gen_pkt *out);

/* ---- packet bytes (gen_packet.c) ----------------------------------------- */

/* L3 header length the packet will get (20..60 or 40). */
unsigned gen_l3_len(const gen_hosts *hs, const gen_corpus *c, const gen_pkt *p);

/* Builds the frame of p into out (at least 14 + 60 + tplcap bytes) and
 * returns the number of bytes built; bytes past that up to the wire length
 * are zero. *wire receives the frame length on the wire. Checksums are set
 * for the wire frame (uncaptured bytes counted as zero). */
unsigned gen_packet_build(const gen_hosts *hs, const gen_corpus *c,
                          const gen_pkt *p, uint8_t *out, unsigned *wire);

#endif
