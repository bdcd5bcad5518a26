/* The traffic model: which host sends which packet next.
 *
 * Each step is one of three things, by packet share:
 *  - a scanner's probe (SYN or UDP to a sweep of addresses or ports, ICMP
 *    echo sweeps), the scanner picked by Zipf rank;
 *  - a backscatter reply (SYN-ACK, RST-ACK, RST from a flooded host to a
 *    random spoofed address and port), the victim picked by Zipf rank;
 *  - the next packet of an ordinary session. A fixed number of session slots
 *    run at once; a step picks a slot at random and emits its next packet, or
 *    opens a new session there (client by Zipf rank, server by Zipf rank on
 *    the other side of the border). Sessions follow real sequences: TCP
 *    handshake, request/response rounds with delayed ACKs, FIN or RST close,
 *    refused and unanswered connections; DNS, NTP-like and QUIC-like UDP
 *    exchanges; ICMP echo.
 * On top, a coverage rule guarantees that every source sends at least one
 * packet when packets >= sources: with probability unseen/remaining a step is
 * given to the next source that has not sent yet, which does what its class
 * does first (a client opens a session, a server sends a DNS query, a scanner
 * probes, a victim replies). Since unseen <= remaining holds at every step and
 * the probability is 1 when they are equal, no source is left out.
 */
#include "gen.h"

#include <stdlib.h>
#include <string.h>

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

enum sk { SK_FREE, SK_TCP, SK_DNS, SK_UDP, SK_QUIC, SK_PING };

enum ph {
    PH_SYNACK, PH_ACK3, PH_REQ, PH_RESP, PH_FIN1, PH_FIN2, PH_FIN3, PH_RST, /* TCP */
    PH_UREQ, PH_URESP,                                                      /* DNS, UDP, ping */
    PH_QHS, PH_QFIN, PH_QREQ, PH_QRESP, PH_QCLOSE                           /* QUIC */
};

enum fate { FT_NORMAL, FT_REFUSED, FT_NOANSWER, FT_RESET };

struct gen_sess {
    uint32_t cli, srv;
    uint32_t cseq, sseq;
    uint32_t left;      /* packets left in this phase */
    uint32_t flow;      /* per-session random bits (flow label, DNS/ICMP id) */
    uint16_t cport, sport;
    uint16_t rounds;    /* request/response rounds after the current one */
    uint16_t icmp_seq;
    uint8_t kind, phase, fate, unacked, closer, retries, svc, pad;
};

static inline uint32_t pick(gen_model *m, const gen_tlist *l)
{
    return l->ids[gen_rng_below(&m->rng, l->n)];
}

static inline unsigned l3len(const gen_model *m, const gen_host *h)
{
    return h->v6 ? 40u : m->c->ip4_len[h->l3];
}

static inline uint16_t clampu(unsigned v, unsigned lo, unsigned hi)
{
    if (hi < lo)
        hi = lo;
    return (uint16_t)(v < lo ? lo : v > hi ? hi : v);
}

/* L4 length of a packet carrying data: the template's own length (a real
 * request or response size), or a frame length drawn from the length mix. */
static uint16_t data_len(gen_model *m, const gen_host *h, const gen_tpl *t, unsigned mtu,
                         unsigned minpay)
{
    unsigned l3 = l3len(m, h), v = t->wire;
    const gen_lenmix *lm = m->cfg.lenmix;
    if (lm && lm->n) {
        unsigned f = lm->len[gen_alias_draw(&lm->a, &m->rng)];
        v = f > 14 + l3 ? f - 14 - l3 : 0;
    }
    return clampu(v, t->hlen + minpay, mtu - l3);
}

/* A full-size segment of a bulk transfer. */
static uint16_t bulk_len(gen_model *m, const gen_host *h, const gen_tpl *t, unsigned mtu)
{
    const gen_lenmix *lm = m->cfg.lenmix;
    if (lm && lm->n)
        return data_len(m, h, t, mtu, 1);
    unsigned l3 = l3len(m, h);
    return clampu(mtu - l3, t->hlen + 1u, mtu - l3);
}

static void ends(gen_model *m, gen_pkt *p, uint32_t src, const uint8_t daddr[16], int dst_inside)
{
    const gen_host *h = &m->h[src];
    p->src = src;
    p->v6 = h->v6;
    p->ttl = h->ttl;
    memcpy(p->daddr, daddr, 16);
    p->to_inside = (uint8_t)dst_inside;
    p->ipid = (uint16_t)gen_rng_next(&m->rng);
}

static uint16_t ephemeral(gen_model *m, const gen_host *h)
{
    /* Windows (initial TTL 128) uses the IANA range, Linux its own. */
    if (h->ttl > 64 && h->ttl <= 128)
        return (uint16_t)(49152 + gen_rng_below(&m->rng, 16384));
    return (uint16_t)(32768 + gen_rng_below(&m->rng, 28232));
}

/* ---- session packets -------------------------------------------------------------- */

static void tcp_pkt(gen_model *m, gen_pkt *p, gen_sess *s, int from_srv, uint8_t flags,
                    uint32_t tpl, uint16_t l4len, uint64_t t_us)
{
    uint32_t a = from_srv ? s->srv : s->cli, b = from_srv ? s->cli : s->srv;
    const gen_host *hb = &m->h[b];
    ends(m, p, a, hb->addr, hb->inside);
    p->proto = 6;
    p->tcpflags = flags;
    p->tpl = tpl;
    p->l4len = l4len;
    p->sport = from_srv ? s->sport : s->cport;
    p->dport = from_srv ? s->cport : s->sport;
    uint32_t *seq = from_srv ? &s->sseq : &s->cseq;
    p->seq = *seq;
    p->ack = (flags & F_ACK) ? (from_srv ? s->cseq : s->sseq) : 0;
    uint32_t ms = (uint32_t)(t_us / 1000);
    p->tsval = m->h[a].tsclock + ms;
    p->tsecr = flags == F_SYN ? 0 : hb->tsclock + ms - 1;
    p->flow = s->flow;
    *seq += (uint32_t)(l4len - m->c->tpl[tpl].hlen) + ((flags & (F_SYN | F_FIN)) ? 1u : 0u);
}

static uint32_t tpl_ack(gen_model *m, const gen_sess *s)
{
    int ts = m->h[s->cli].tsmode && m->h[s->srv].tsmode;
    return pick(m, ts ? &m->c->ack_ts : &m->c->ack_plain);
}

static uint32_t tpl_data(gen_model *m, const gen_sess *s, int from_srv)
{
    const gen_tlist *l = from_srv ? &m->c->svc_resp[s->svc] : &m->c->svc_req[s->svc];
    if (l->n)
        return pick(m, l);
    int ts = m->h[s->cli].tsmode && m->h[s->srv].tsmode;
    return pick(m, ts ? &m->c->data_ts : &m->c->data_plain);
}

static uint32_t tpl_udp(gen_model *m, const gen_sess *s, int from_srv)
{
    const gen_tlist *l = from_srv ? &m->c->svc_resp[s->svc] : &m->c->svc_req[s->svc];
    return pick(m, l->n ? l : &m->c->kind[TK_UDP]);
}

static void udp_pkt(gen_model *m, gen_pkt *p, gen_sess *s, int from_srv, uint32_t tpl, uint16_t l4len)
{
    uint32_t a = from_srv ? s->srv : s->cli, b = from_srv ? s->cli : s->srv;
    const gen_host *hb = &m->h[b];
    ends(m, p, a, hb->addr, hb->inside);
    p->proto = 17;
    p->tpl = tpl;
    p->l4len = l4len;
    p->sport = from_srv ? s->sport : s->cport;
    p->dport = from_srv ? s->cport : s->sport;
    p->flow = s->flow;
    if (s->kind == SK_DNS)
        p->dns_id = (uint16_t)(s->flow | 1);
}

static void icmp_pkt(gen_model *m, gen_pkt *p, gen_sess *s, int from_srv)
{
    uint32_t a = from_srv ? s->srv : s->cli, b = from_srv ? s->cli : s->srv;
    const gen_host *ha = &m->h[a], *hb = &m->h[b];
    ends(m, p, a, hb->addr, hb->inside);
    int k = ha->v6 ? (from_srv ? TK_ICMP6_REP : TK_ICMP6_REQ) : (from_srv ? TK_ICMP_REP : TK_ICMP_REQ);
    p->proto = ha->v6 ? 58 : 1;
    p->tpl = pick(m, &m->c->kind[k]);
    p->l4len = clampu(m->c->tpl[p->tpl].wire, 8, ha->mtu - l3len(m, ha));
    p->icmp_id = (uint16_t)s->flow;
    p->icmp_seq = s->icmp_seq;
    p->flow = s->flow;
}

static uint32_t resp_segments(gen_model *m)
{
    /* Response sizes are Pareto (alpha 1.1, at least 1500 bytes; median
     * 2.8 kB, mean 16 kB): most are a few segments, a few are bulk
     * transfers of thousands (capped at 64 MiB). */
    uint64_t bytes = gen_rng_pareto(&m->rng, 1500.0, 1.1, 64ull << 20);
    return (uint32_t)(1 + (bytes - 1) / 1448);
}

/* A connection attempt to nowhere (a population without a fitting server). */
static void unanswered(gen_model *m, uint32_t cli, gen_pkt *p)
{
    const gen_host *h = &m->h[cli];
    uint8_t dst[16];
    uint64_t r = gen_rng_next(&m->rng);
    if (h->inside)
        gen_random_outside(dst, h->v6, r);
    else if (h->v6)
        gen_inside6(dst, (uint16_t)(r >> 48), r);
    else
        gen_inside4(dst, (uint32_t)r);
    ends(m, p, cli, dst, !h->inside);
    p->proto = 6;
    p->tcpflags = F_SYN;
    p->tpl = h->syn_tpl;
    p->l4len = m->c->tpl[h->syn_tpl].hlen;
    p->sport = ephemeral(m, h);
    p->dport = (r >> 40) & 1 ? 443 : 80;
    p->seq = (uint32_t)(r >> 8);
    p->tsval = h->tsclock;
    p->flow = (uint32_t)r;
}

static void open_session(gen_model *m, gen_sess *s, uint32_t cli, uint64_t t_us, gen_pkt *p)
{
    const gen_hosts *hs = m->hs;
    const gen_host *hc = &m->h[cli];
    const gen_pool *pool = &hs->srv[!hc->inside][hc->v6];
    if (!pool->n)
        pool = &hs->srv[hc->inside][hc->v6];
    if (!pool->n) {
        s->kind = SK_FREE;
        unanswered(m, cli, p);
        return;
    }
    uint32_t srv = pool->ids[gen_alias_draw(&pool->z, &m->rng)];
    const gen_host *hsv = &m->h[srv];
    const gen_svc *svc = &gen_svc_table[hsv->svc];
    memset(s, 0, sizeof *s);
    s->cli = cli;
    s->srv = srv;
    s->flow = (uint32_t)gen_rng_next(&m->rng);
    s->cport = ephemeral(m, hc);
    s->sport = svc->port;
    s->svc = hsv->svc;
    unsigned mtu = hc->mtu < hsv->mtu ? hc->mtu : hsv->mtu;

    if (gen_rng_chance(&m->rng, GEN_P32(0.03))) {
        s->kind = SK_PING;
        s->rounds = (uint16_t)(gen_rng_geom(&m->rng, 0.6, 8) - 1);
        s->icmp_seq = 1;
        icmp_pkt(m, p, s, 0);
        s->phase = PH_URESP;
    } else if (svc->proto == 6) {
        s->kind = SK_TCP;
        unsigned r = gen_rng_below(&m->rng, 100);
        s->fate = r < 4 ? FT_REFUSED : r < 7 ? FT_NOANSWER : r < 15 ? FT_RESET : FT_NORMAL;
        s->rounds = (uint16_t)(gen_rng_geom(&m->rng, 0.5, 32) - 1);
        s->cseq = (uint32_t)gen_rng_next(&m->rng);
        s->sseq = (uint32_t)gen_rng_next(&m->rng);
        tcp_pkt(m, p, s, 0, F_SYN, hc->syn_tpl, m->c->tpl[hc->syn_tpl].hlen, t_us);
        s->phase = PH_SYNACK;
    } else if (svc->port == 53) {
        s->kind = SK_DNS;
        uint32_t t = tpl_udp(m, s, 0);
        udp_pkt(m, p, s, 0, t, data_len(m, hc, &m->c->tpl[t], mtu, 0));
        s->phase = PH_URESP;
    } else if (svc->port == 443) {
        s->kind = SK_QUIC;
        s->rounds = (uint16_t)(gen_rng_geom(&m->rng, 0.5, 16) - 1);
        uint32_t t = tpl_udp(m, s, 0);
        udp_pkt(m, p, s, 0, t, clampu(1258, 8, mtu - l3len(m, hc)));
        s->phase = PH_QHS;
        s->left = 2 + gen_rng_below(&m->rng, 2);
    } else {
        s->kind = SK_UDP;
        if (svc->port == 123 && gen_rng_chance(&m->rng, GEN_P32(0.5)))
            s->cport = 123;
        s->rounds = (uint16_t)(gen_rng_geom(&m->rng, 0.5, 16) - 1);
        uint32_t t = tpl_udp(m, s, 0);
        udp_pkt(m, p, s, 0, t, data_len(m, hc, &m->c->tpl[t], mtu, 0));
        s->phase = PH_URESP;
    }
}

static void tcp_step(gen_model *m, gen_sess *s, uint64_t t_us, gen_pkt *p)
{
    const gen_corpus *c = m->c;
    const gen_host *hc = &m->h[s->cli], *hsv = &m->h[s->srv];
    unsigned mtu = hc->mtu < hsv->mtu ? hc->mtu : hsv->mtu;
    uint32_t t;
    switch (s->phase) {
    case PH_SYNACK:
        if (s->fate == FT_REFUSED) {
            t = pick(m, &c->kind[TK_RSTACK]);
            tcp_pkt(m, p, s, 1, F_RST | F_ACK, t, c->tpl[t].hlen, t_us);
            s->kind = SK_FREE;
        } else if (s->fate == FT_NOANSWER) {
            s->cseq--; /* a retransmission repeats the SYN's sequence number */
            tcp_pkt(m, p, s, 0, F_SYN, hc->syn_tpl, c->tpl[hc->syn_tpl].hlen, t_us);
            if (++s->retries >= 2)
                s->kind = SK_FREE;
        } else {
            tcp_pkt(m, p, s, 1, F_SYN | F_ACK, hsv->syn_tpl, c->tpl[hsv->syn_tpl].hlen, t_us);
            s->phase = PH_ACK3;
        }
        break;
    case PH_ACK3:
        t = tpl_ack(m, s);
        tcp_pkt(m, p, s, 0, F_ACK, t, c->tpl[t].hlen, t_us);
        s->phase = PH_REQ;
        s->left = gen_rng_geom(&m->rng, 0.15, 8);
        break;
    case PH_REQ:
        t = tpl_data(m, s, 0);
        tcp_pkt(m, p, s, 0, (uint8_t)(F_ACK | (s->left == 1 ? F_PSH : 0)), t,
                data_len(m, hc, &c->tpl[t], mtu, 1), t_us);
        if (--s->left == 0) {
            s->phase = PH_RESP;
            s->left = resp_segments(m);
            s->unacked = 0;
        }
        break;
    case PH_RESP:
        if (s->unacked >= 2) { /* delayed ACK: one per two segments */
            t = tpl_ack(m, s);
            tcp_pkt(m, p, s, 0, F_ACK, t, c->tpl[t].hlen, t_us);
            s->unacked = 0;
            break;
        }
        t = tpl_data(m, s, 1);
        if (s->left == 1)
            tcp_pkt(m, p, s, 1, F_ACK | F_PSH, t, data_len(m, hsv, &c->tpl[t], mtu, 1), t_us);
        else
            tcp_pkt(m, p, s, 1, F_ACK, t, bulk_len(m, hsv, &c->tpl[t], mtu), t_us);
        s->unacked++;
        if (--s->left == 0) {
            if (s->rounds) {
                s->rounds--;
                s->phase = PH_REQ;
                s->left = gen_rng_geom(&m->rng, 0.15, 8);
            } else if (s->fate == FT_RESET) {
                s->phase = PH_RST;
            } else {
                s->phase = PH_FIN1;
                s->closer = (uint8_t)gen_rng_below(&m->rng, 2);
            }
        }
        break;
    case PH_FIN1:
    case PH_FIN2:
        t = pick(m, &c->kind[TK_FIN]);
        tcp_pkt(m, p, s, s->phase == PH_FIN1 ? s->closer : !s->closer, F_FIN | F_ACK, t,
                c->tpl[t].hlen, t_us);
        s->phase++;
        break;
    case PH_FIN3:
        t = tpl_ack(m, s);
        tcp_pkt(m, p, s, s->closer, F_ACK, t, c->tpl[t].hlen, t_us);
        s->kind = SK_FREE;
        break;
    default: /* PH_RST: the client aborts */
        if (gen_rng_chance(&m->rng, GEN_P32(0.5))) {
            t = pick(m, &c->kind[TK_RSTACK]);
            tcp_pkt(m, p, s, 0, F_RST | F_ACK, t, c->tpl[t].hlen, t_us);
        } else {
            t = pick(m, &c->kind[TK_RST]);
            tcp_pkt(m, p, s, 0, F_RST, t, c->tpl[t].hlen, t_us);
        }
        s->kind = SK_FREE;
        break;
    }
}

/* DNS, generic UDP request/response and ICMP echo. */
static void exch_step(gen_model *m, gen_sess *s, gen_pkt *p)
{
    const gen_host *hc = &m->h[s->cli], *hsv = &m->h[s->srv];
    unsigned mtu = hc->mtu < hsv->mtu ? hc->mtu : hsv->mtu;
    int from_srv = s->phase == PH_URESP, last = 0;
    if (from_srv && gen_rng_chance(&m->rng, GEN_P32(s->kind == SK_PING ? 0.10 : 0.05))) {
        /* The answer is lost: the client asks again; after a second loss
         * that retry is the exchange's last packet. */
        from_srv = 0;
        last = s->retries++ > 0;
    }
    if (s->kind == SK_PING) {
        if (!from_srv)
            s->icmp_seq++;
        icmp_pkt(m, p, s, from_srv);
    } else {
        uint32_t t = tpl_udp(m, s, from_srv);
        udp_pkt(m, p, s, from_srv, t,
                data_len(m, from_srv ? hsv : hc, &m->c->tpl[t], mtu, 0));
    }
    if (last) {
        s->kind = SK_FREE;
        return;
    }
    if (from_srv) {
        if (s->rounds) {
            s->rounds--;
            s->phase = PH_UREQ;
        } else {
            s->kind = SK_FREE;
        }
    } else {
        s->phase = PH_URESP;
    }
}

static void quic_step(gen_model *m, gen_sess *s, gen_pkt *p)
{
    const gen_host *hc = &m->h[s->cli], *hsv = &m->h[s->srv];
    unsigned mtu = hc->mtu < hsv->mtu ? hc->mtu : hsv->mtu;
    unsigned fullc = mtu - l3len(m, hc), fulls = mtu - l3len(m, hsv);
    uint32_t t;
    switch (s->phase) {
    case PH_QHS: /* server Initial + Handshake, last one short */
        t = tpl_udp(m, s, 1);
        udp_pkt(m, p, s, 1, t, clampu(s->left == 1 ? 208 + gen_rng_below(&m->rng, 600) : 1260, 8, fulls));
        if (--s->left == 0)
            s->phase = PH_QFIN;
        break;
    case PH_QFIN:
        t = tpl_udp(m, s, 0);
        udp_pkt(m, p, s, 0, t, clampu(48 + gen_rng_below(&m->rng, 80), 8, fullc));
        s->phase = PH_QREQ;
        s->left = gen_rng_geom(&m->rng, 0.3, 4);
        break;
    case PH_QREQ:
        t = tpl_udp(m, s, 0);
        udp_pkt(m, p, s, 0, t, m->cfg.lenmix && m->cfg.lenmix->n
                                   ? data_len(m, hc, &m->c->tpl[t], mtu, 0)
                                   : clampu(68 + gen_rng_below(&m->rng, 400), 8, fullc));
        if (--s->left == 0) {
            s->phase = PH_QRESP;
            s->left = resp_segments(m);
            s->unacked = 0;
        }
        break;
    case PH_QRESP:
        if (s->unacked >= 2) {
            t = tpl_udp(m, s, 0);
            udp_pkt(m, p, s, 0, t, clampu(38 + gen_rng_below(&m->rng, 20), 8, fullc));
            s->unacked = 0;
            break;
        }
        t = tpl_udp(m, s, 1);
        udp_pkt(m, p, s, 1, t, s->left == 1 || (m->cfg.lenmix && m->cfg.lenmix->n)
                                   ? data_len(m, hsv, &m->c->tpl[t], mtu, 0)
                                   : clampu(1260, 8, fulls));
        s->unacked++;
        if (--s->left == 0) {
            if (s->rounds) {
                s->rounds--;
                s->phase = PH_QREQ;
                s->left = gen_rng_geom(&m->rng, 0.3, 4);
            } else {
                s->phase = PH_QCLOSE;
            }
        }
        break;
    default: /* PH_QCLOSE: CONNECTION_CLOSE from the client */
        t = tpl_udp(m, s, 0);
        udp_pkt(m, p, s, 0, t, clampu(40 + gen_rng_below(&m->rng, 20), 8, fullc));
        s->kind = SK_FREE;
        break;
    }
}

static void session_step(gen_model *m, gen_sess *s, uint64_t t_us, gen_pkt *p)
{
    switch (s->kind) {
    case SK_TCP:
        tcp_step(m, s, t_us, p);
        break;
    case SK_QUIC:
        quic_step(m, s, p);
        break;
    default:
        exch_step(m, s, p);
        break;
    }
}

/* ---- scanners, backscatter, servers' own queries ------------------------------------ */

/* The pi-th port of a scanner's port set: its main port first, then others
 * of the same protocol from the catalogue. */
static uint16_t scan_port(const gen_host *h, uint64_t key, unsigned pi)
{
    const gen_svc *main = &gen_svc_table[h->svc];
    if (pi == 0)
        return main->port;
    unsigned i = (unsigned)(gen_mix64(key + pi) % GEN_NSVC);
    while (gen_svc_table[i].proto != main->proto)
        i = (i + 1) % GEN_NSVC;
    return gen_svc_table[i].port;
}

static void probe(gen_model *m, uint32_t id, gen_pkt *p)
{
    gen_host *h = &m->h[id];
    const gen_corpus *c = m->c;
    uint64_t key = gen_mix64(m->cfg.seed ^ ((uint64_t)id << 20) ^ 0x7363616eULL);
    uint32_t n = h->count++;
    uint8_t dst[16];
    uint16_t dport;
    if (h->behave == BH_SYN_VERT || h->behave == BH_UDP_VERT) {
        /* Many ports on one to four inside hosts (real ones if possible). */
        uint32_t nt = 1 + (uint32_t)(key % 4), ti = n % nt, pc = n / nt;
        const gen_pool *srv = &m->hs->srv[1][h->v6];
        uint64_t hk = gen_mix64(key + ti);
        if (srv->n)
            memcpy(dst, m->h[srv->ids[hk % srv->n]].addr, 16);
        else if (h->v6)
            gen_inside6(dst, (uint16_t)(hk >> 48), hk);
        else
            gen_inside4(dst, (uint32_t)hk);
        uint32_t x = pc % 65535 + 1;
        do
            x = (uint32_t)gen_perm(x, 16, key);
        while (x == 0);
        dport = (uint16_t)x;
    } else {
        /* A sweep of the inside network, each address once per port. */
        uint32_t k = h->nports ? h->nports : 1, ai = n / k;
        dport = scan_port(h, key, n % k);
        if (h->v6) /* IPv6 sweeps walk low interface identifiers of subnets */
            gen_inside6(dst, (uint16_t)gen_mix64(key ^ (ai >> 8)), (ai & 0xff) + 1);
        else
            gen_inside4(dst, (uint32_t)gen_perm(ai, 24, key));
    }
    ends(m, p, id, dst, 1);
    if (h->sport) /* stateless scanners: fixed port and IP ID */
        p->ipid = 54321;
    p->sport = h->sport ? h->sport : (uint16_t)(1024 + gen_rng_below(&m->rng, 64512));
    p->dport = dport;
    p->flow = (uint32_t)key;
    unsigned room = h->mtu - l3len(m, h);
    if (h->behave == BH_SYN_HORIZ || h->behave == BH_SYN_VERT) {
        p->proto = 6;
        p->tcpflags = F_SYN;
        p->tpl = h->syn_tpl;
        p->l4len = c->tpl[h->syn_tpl].hlen;
        p->seq = (uint32_t)gen_rng_next(&m->rng);
        p->tsval = h->tsclock + n;
    } else if (h->behave == BH_ICMP_SWEEP) {
        p->proto = h->v6 ? 58 : 1;
        p->tpl = pick(m, &c->kind[h->v6 ? TK_ICMP6_REQ : TK_ICMP_REQ]);
        p->l4len = clampu(c->tpl[p->tpl].wire, 8, room);
        p->sport = 0;
        p->dport = 0;
        p->icmp_id = (uint16_t)key;
        p->icmp_seq = (uint16_t)n;
    } else {
        p->proto = 17;
        int s = gen_svc_find(17, dport);
        const gen_tlist *l = s >= 0 && c->svc_req[s].n ? &c->svc_req[s] : &c->kind[TK_UDP];
        p->tpl = pick(m, l);
        p->l4len = clampu(c->tpl[p->tpl].wire, 8, room < 520 ? room : 520);
    }
}

static void backscatter(gen_model *m, uint32_t id, gen_pkt *p)
{
    gen_host *h = &m->h[id];
    const gen_corpus *c = m->c;
    uint64_t key = gen_mix64(m->cfg.seed ^ ((uint64_t)id << 20) ^ 0x6273ULL);
    uint32_t n = h->count++;
    /* A quarter of replies are retransmissions to the previous address. */
    uint32_t target = n && gen_rng_chance(&m->rng, GEN_P32(0.25)) ? n - 1 : n;
    uint64_t hk = gen_mix64(key + target);
    uint8_t dst[16];
    if (h->v6)
        gen_inside6(dst, (uint16_t)(hk >> 48), gen_mix64(hk));
    else
        gen_inside4(dst, (uint32_t)hk);
    ends(m, p, id, dst, 1);
    p->proto = 6;
    p->sport = gen_svc_table[h->svc].port;
    p->dport = (uint16_t)(1024 + (hk >> 24) % 64512);
    p->flow = (uint32_t)hk;
    p->seq = (uint32_t)gen_mix64(hk + 1);
    p->ack = (uint32_t)(hk >> 32) + 1;
    unsigned r = gen_rng_below(&m->rng, 100);
    int synack = h->behave == BH_BS_SYNACK && r < 85;
    if (synack) {
        p->tcpflags = F_SYN | F_ACK;
        p->tpl = h->syn_tpl;
        p->tsval = h->tsclock + n;
        p->tsecr = (uint32_t)hk;
    } else if (h->behave == BH_BS_SYNACK || r < 80) {
        p->tcpflags = F_RST | F_ACK;
        p->tpl = pick(m, &c->kind[TK_RSTACK]);
    } else {
        p->tcpflags = F_RST;
        p->ack = 0;
        p->tpl = pick(m, &c->kind[TK_RST]);
    }
    p->l4len = c->tpl[p->tpl].hlen;
}

/* A server's own traffic: a DNS query to a resolver outside. */
static void server_query(gen_model *m, uint32_t id, gen_pkt *p)
{
    const gen_host *h = &m->h[id];
    const gen_corpus *c = m->c;
    uint8_t dst[16];
    uint64_t r = gen_rng_next(&m->rng);
    gen_random_outside(dst, h->v6, r);
    ends(m, p, id, dst, 0);
    int s = gen_svc_find(17, 53);
    const gen_tlist *l = c->svc_req[s].n ? &c->svc_req[s] : &c->kind[TK_UDP];
    p->proto = 17;
    p->tpl = pick(m, l);
    p->l4len = data_len(m, h, &c->tpl[p->tpl], h->mtu, 0);
    p->sport = ephemeral(m, h);
    p->dport = 53;
    p->dns_id = (uint16_t)(r >> 48) | 1;
    p->flow = (uint32_t)r;
}

/* ---- driver ------------------------------------------------------------------------- */

static inline int is_seen(const gen_model *m, uint32_t id)
{
    return m->seen[id >> 3] >> (id & 7) & 1;
}

static uint32_t next_unseen(gen_model *m)
{
    uint64_t n = m->hs->n;
    for (;;) {
        uint32_t id = (uint32_t)((m->cover_pos * m->cover_stride + m->cover_off) % n);
        if (!is_seen(m, id))
            return id;
        m->cover_pos++;
    }
}

static uint64_t gcd64(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

int gen_model_init(gen_model *m, gen_hosts *hs, const gen_corpus *c, const gen_model_cfg *cfg)
{
    memset(m, 0, sizeof *m);
    m->hs = hs;
    m->h = hs->h;
    m->c = c;
    m->cfg = *cfg;
    gen_rng_seed(&m->rng, cfg->seed ^ 0x6d6f64656cULL);
    m->nsess = cfg->flows ? cfg->flows : 1;
    m->sess = calloc(m->nsess, sizeof *m->sess);
    m->free_ids = malloc(m->nsess * sizeof *m->free_ids);
    m->free_pos = malloc(m->nsess * sizeof *m->free_pos);
    m->seen = calloc((size_t)hs->n / 8 + 1, 1);
    if (!m->sess || !m->free_ids || !m->free_pos || !m->seen) {
        gen_model_free(m);
        return -1;
    }
    for (uint32_t j = 0; j < m->nsess; j++)
        m->free_ids[j] = m->free_pos[j] = j;
    m->nfree = m->nsess;
    m->unseen = hs->n;
    m->p_scan = GEN_P32(cfg->scan_share);
    m->p_bs = GEN_P32(cfg->scan_share + cfg->bs_share);
    uint64_t n = hs->n;
    do
        m->cover_stride = 1 + gen_rng_next(&m->rng) % n;
    while (gcd64(m->cover_stride, n) != 1);
    m->cover_off = gen_rng_next(&m->rng) % n;
    return 0;
}

void gen_model_reset_hosts(gen_hosts *hs)
{
    for (uint32_t i = 0; i < hs->n; i++)
        hs->h[i].count = 0;
}

void gen_model_free(gen_model *m)
{
    free(m->sess);
    free(m->free_ids);
    free(m->free_pos);
    free(m->seen);
    m->sess = NULL;
    m->free_ids = m->free_pos = NULL;
    m->seen = NULL;
}

/* Keeps the free list in step with slot j's state. */
static void slot_sync(gen_model *m, uint32_t j)
{
    int busy = m->sess[j].kind != SK_FREE, listed = m->free_pos[j] != UINT32_MAX;
    if (busy && listed) {
        uint32_t at = m->free_pos[j], last = m->free_ids[--m->nfree];
        m->free_ids[at] = last;
        m->free_pos[last] = at;
        m->free_pos[j] = UINT32_MAX;
    } else if (!busy && !listed) {
        m->free_pos[j] = m->nfree;
        m->free_ids[m->nfree++] = j;
    }
}

static void initiate(gen_model *m, uint32_t id, uint64_t t_us, gen_pkt *p)
{
    uint32_t j;
    switch (m->h[id].cls) {
    case CL_CLIENT:
        /* A free slot if there is one: cutting a running session short
         * would bias session lengths wherever coverage steps are many. */
        j = m->nfree ? m->free_ids[gen_rng_below(&m->rng, m->nfree)]
                     : gen_rng_below(&m->rng, m->nsess);
        open_session(m, &m->sess[j], id, t_us, p);
        slot_sync(m, j);
        break;
    case CL_SERVER:
        server_query(m, id, p);
        break;
    case CL_SCANNER:
        probe(m, id, p);
        break;
    default:
        backscatter(m, id, p);
        break;
    }
}

void gen_model_next(gen_model *m, uint64_t t_us, gen_pkt *p)
{
    const gen_hosts *hs = m->hs;
    memset(p, 0, sizeof *p);
    int forced = 0;
    if (m->unseen) {
        uint64_t rem = m->cfg.packets > m->i ? m->cfg.packets - m->i : 1;
        forced = m->unseen >= rem || gen_rng_next(&m->rng) % rem < m->unseen;
    }
    if (forced) {
        initiate(m, next_unseen(m), t_us, p);
        m->forced++;
    } else {
        uint32_t u = (uint32_t)gen_rng_next(&m->rng);
        const gen_pool *sc = &hs->cls[CL_SCANNER], *bs = &hs->cls[CL_BACKSCATTER];
        if (u < m->p_scan && sc->n) {
            probe(m, sc->ids[gen_alias_draw(&sc->z, &m->rng)], p);
        } else if (u >= m->p_scan && u < m->p_bs && bs->n) {
            backscatter(m, bs->ids[gen_alias_draw(&bs->z, &m->rng)], p);
        } else {
            uint32_t j = gen_rng_below(&m->rng, m->nsess);
            gen_sess *s = &m->sess[j];
            if (s->kind == SK_FREE) {
                const gen_pool *cl = &hs->cls[CL_CLIENT];
                open_session(m, s, cl->ids[gen_alias_draw(&cl->z, &m->rng)], t_us, p);
            } else {
                session_step(m, s, t_us, p);
            }
            slot_sync(m, j);
        }
    }
    uint32_t id = p->src;
    if (!is_seen(m, id)) {
        m->seen[id >> 3] |= (uint8_t)(1u << (id & 7));
        m->unseen--;
    }
    m->by_class[m->h[id].cls]++;
    m->i++;
}
