/* tcpdump-syntax filters, compiled by libpcap once per link type. */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/cap_linktype.h"
#include "netagm/capture.h"

#define BPF_SNAPLEN 262144
/* Fuzzed pcapng files can name thousands of link types; past this many the
 * oldest compiled program is replaced. */
#define BPF_CACHE_MAX 64

typedef struct bpf_entry {
    uint32_t linktype;
    int ok; /* the expression compiled for this link type */
    struct bpf_program prog;
} bpf_entry;

struct nagm_bpf {
    char *expr;
    bpf_entry *cache;
    size_t n, next_evict;
    bpf_entry *last; /* the entry the previous frame used */
};

/* Compile expr for a DLT_ value; 0 or -1 with msg (PCAP_ERRBUF_SIZE) set. */
static int compile(const char *expr, int dlt, struct bpf_program *prog, char *msg)
{
    pcap_t *p = pcap_open_dead(dlt, BPF_SNAPLEN);
    if (!p) {
        snprintf(msg, PCAP_ERRBUF_SIZE, "cannot prepare a filter for link type %d", dlt);
        return -1;
    }
    int rc = pcap_compile(p, prog, expr, 1, PCAP_NETMASK_UNKNOWN);
    if (rc != 0)
        snprintf(msg, PCAP_ERRBUF_SIZE, "%s", pcap_geterr(p));
    pcap_close(p);
    return rc == 0 ? 0 : -1;
}

int nagm_bpf_new(const char *expr, nagm_bpf **out, char *errbuf)
{
    *out = NULL;
    char msg[PCAP_ERRBUF_SIZE];
    struct bpf_program prog;
    if (compile(expr, DLT_EN10MB, &prog, msg) != 0) {
        if (errbuf)
            snprintf(errbuf, NAGM_ERRBUF_SIZE, "invalid filter '%s': %s", expr, msg);
        return -1;
    }
    nagm_bpf *b = calloc(1, sizeof *b);
    bpf_entry *cache = calloc(BPF_CACHE_MAX, sizeof *cache);
    char *copy = strdup(expr);
    if (!b || !cache || !copy) {
        pcap_freecode(&prog);
        free(b);
        free(cache);
        free(copy);
        if (errbuf)
            snprintf(errbuf, NAGM_ERRBUF_SIZE, "out of memory");
        return -1;
    }
    b->expr = copy;
    b->cache = cache;
    /* The Ethernet program is the first cache entry. */
    cache[0].linktype = 1; /* LINKTYPE_ETHERNET */
    cache[0].ok = 1;
    cache[0].prog = prog;
    b->n = 1;
    b->next_evict = 1 % BPF_CACHE_MAX;
    b->last = &cache[0];
    *out = b;
    return 0;
}

static bpf_entry *lookup(nagm_bpf *b, uint32_t linktype)
{
    for (size_t i = 0; i < b->n; i++)
        if (b->cache[i].linktype == linktype)
            return &b->cache[i];
    bpf_entry *e;
    if (b->n < BPF_CACHE_MAX) {
        e = &b->cache[b->n++];
    } else {
        e = &b->cache[b->next_evict];
        b->next_evict = (b->next_evict + 1) % BPF_CACHE_MAX;
        if (e->ok)
            pcap_freecode(&e->prog);
    }
    char msg[PCAP_ERRBUF_SIZE];
    e->linktype = linktype;
    int dlt = cap_dlt_from_linktype(linktype);
    e->ok = dlt >= 0 && compile(b->expr, dlt, &e->prog, msg) == 0;
    return e;
}

int nagm_bpf_match(nagm_bpf *b, const nagm_frame *f)
{
    bpf_entry *e = b->last->linktype == f->linktype ? b->last : lookup(b, f->linktype);
    b->last = e;
    if (!e->ok)
        return 0;
    struct pcap_pkthdr h;
    h.ts.tv_sec = (time_t)(f->ts_ns / 1000000000);
    h.ts.tv_usec = (suseconds_t)((f->ts_ns % 1000000000) / 1000);
    h.caplen = f->caplen;
    h.len = f->wirelen;
    /* A frame with no bytes still runs: the program sees a zero-length
     * packet and fails any load. */
    static const u_char none[1];
    return pcap_offline_filter(&e->prog, &h, f->data ? f->data : none) != 0;
}

void nagm_bpf_free(nagm_bpf *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++)
        if (b->cache[i].ok)
            pcap_freecode(&b->cache[i].prog);
    free(b->cache);
    free(b->expr);
    free(b);
}
