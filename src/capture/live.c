/* Live capture with libpcap (netagm stream -i, netagm publish -i).
 *
 * The handle is activated in immediate mode (every packet is handed over as
 * soon as it arrives, so a window can close within a second of its end),
 * with nanosecond timestamps when the system supports them, and put in
 * non-blocking mode: poll(2) on its selectable descriptor waits for input
 * with the engine's timeout, then pcap_dispatch takes what is there. The BPF
 * expression is the kernel's filter, so rejected frames never reach user
 * space (and are not counted in filtered_bpf).
 *
 * Privileges: tcpdump -Z semantics. The interface is opened as root, then
 * nagm_drop_privileges switches to the user (supplementary groups, group,
 * user, in that order) before any output is opened.
 */
#include <errno.h>
#include <grp.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/cap_linktype.h"
#include "netagm/stream.h"

#define DEFAULT_SNAPLEN 262144
/* Immediate mode makes libpcap use a ring of fixed-size frame slots (one
 * per packet, sized for the snapshot length up to the MTU), so libpcap's
 * 2 MiB default holds only about a thousand packets at MTU 1500: a burst
 * overflows it. 32 MiB holds about 20,000. */
#define DEFAULT_BUFFER (32 << 20)
#define BUDGET 4096

typedef struct live_src {
    nagm_source base;
    pcap_t *p;
    uint32_t linktype;
    int nano;
    int fd;          /* selectable descriptor, -1 if none */
    const nagm_source_cb *cb;
    int cb_rc;       /* a callback's non-zero return, ends the dispatch */
    int delivered;
    nagm_source_stats st;
    uint64_t bytes;
} live_src;

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    live_src *ls = (live_src *)user;
    if (ls->cb_rc)
        return;
    int64_t frac = ls->nano ? (int64_t)h->ts.tv_usec : (int64_t)h->ts.tv_usec * 1000;
    nagm_frame f = {.ts_ns = (int64_t)h->ts.tv_sec * 1000000000 + frac,
                    .caplen = h->caplen,
                    .wirelen = h->len,
                    .linktype = ls->linktype,
                    .data = data};
    nagm_src_meta m = {.lane = 0, .pos = -1};
    ls->delivered++;
    ls->bytes += h->caplen;
    int rc = ls->cb->frame(ls->cb->ctx, &m, &f);
    if (rc) {
        ls->cb_rc = rc;
        pcap_breakloop(ls->p);
    }
}

static int live_poll(nagm_source *s, const nagm_source_cb *cb, int timeout_ms)
{
    live_src *ls = (live_src *)s;
    ls->cb = cb;
    ls->cb_rc = 0;
    ls->delivered = 0;
    if (ls->fd >= 0) {
        struct pollfd pfd = {.fd = ls->fd, .events = POLLIN};
        int pr = poll(&pfd, 1, timeout_ms);
        if (pr < 0 && errno != EINTR) {
            snprintf(s->err, sizeof s->err, "poll: %s", strerror(errno));
            return NAGM_SRC_ERROR;
        }
        if (pr <= 0)
            return 0;
    }
    int n = pcap_dispatch(ls->p, BUDGET, on_packet, (u_char *)ls);
    if (ls->cb_rc)
        return ls->cb_rc;
    if (n == PCAP_ERROR) {
        snprintf(s->err, sizeof s->err, "capture failed: %s", pcap_geterr(ls->p));
        return NAGM_SRC_ERROR;
    }
    if (n == 0 && ls->fd < 0)
        usleep(1000); /* no selectable descriptor: do not spin */
    return ls->delivered;
}

static void live_stats(nagm_source *s, nagm_source_stats *out)
{
    live_src *ls = (live_src *)s;
    struct pcap_stat ps;
    if (pcap_stats(ls->p, &ps) == 0) {
        ls->st.has_pcap = 1;
        ls->st.pcap_recv = ps.ps_recv;
        ls->st.pcap_drop = ps.ps_drop;
        ls->st.pcap_ifdrop = ps.ps_ifdrop;
    }
    ls->st.input_bytes = ls->bytes;
    *out = ls->st;
}

static void live_close(nagm_source *s)
{
    live_src *ls = (live_src *)s;
    if (!ls)
        return;
    if (ls->p)
        pcap_close(ls->p);
    free(ls);
}

nagm_source *nagm_source_live_new(const nagm_live_opts *o, char *errbuf)
{
    char perr[PCAP_ERRBUF_SIZE] = "";
    live_src *ls = calloc(1, sizeof *ls);
    if (!ls) {
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "out of memory");
        return NULL;
    }
    ls->p = pcap_create(o->iface, perr);
    if (!ls->p) {
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "%s: %s", o->iface, perr);
        free(ls);
        return NULL;
    }
    pcap_set_snaplen(ls->p, o->snaplen > 0 ? o->snaplen : DEFAULT_SNAPLEN);
    pcap_set_promisc(ls->p, o->promisc);
    pcap_set_immediate_mode(ls->p, 1);
    pcap_set_buffer_size(ls->p, o->buffer_bytes > 0 ? o->buffer_bytes : DEFAULT_BUFFER);
    ls->nano = pcap_set_tstamp_precision(ls->p, PCAP_TSTAMP_PRECISION_NANO) == 0;
    int rc = pcap_activate(ls->p);
    if (rc < 0) {
        const char *why = rc == PCAP_ERROR ? pcap_geterr(ls->p) : pcap_statustostr(rc);
        if (rc == PCAP_ERROR_PERM_DENIED)
            snprintf(errbuf, NAGM_ERRBUF_SIZE,
                     "%s: %s (capturing needs root or CAP_NET_RAW; -Z USER drops root after "
                     "the interface is open)",
                     o->iface, why);
        else
            snprintf(errbuf, NAGM_ERRBUF_SIZE, "%s: %s", o->iface, why);
        pcap_close(ls->p);
        free(ls);
        return NULL;
    }
    if (rc > 0)
        fprintf(stderr, "netagm: %s: %s\n", o->iface, pcap_statustostr(rc));
    ls->nano = pcap_get_tstamp_precision(ls->p) == PCAP_TSTAMP_PRECISION_NANO;
    ls->linktype = cap_linktype_from_dlt(pcap_datalink(ls->p));
    if (o->bpf) {
        struct bpf_program prog;
        if (pcap_compile(ls->p, &prog, o->bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
            snprintf(errbuf, NAGM_ERRBUF_SIZE, "invalid filter '%s': %s", o->bpf,
                     pcap_geterr(ls->p));
            pcap_close(ls->p);
            free(ls);
            return NULL;
        }
        rc = pcap_setfilter(ls->p, &prog);
        pcap_freecode(&prog);
        if (rc != 0) {
            snprintf(errbuf, NAGM_ERRBUF_SIZE, "%s: cannot set the filter: %s", o->iface,
                     pcap_geterr(ls->p));
            pcap_close(ls->p);
            free(ls);
            return NULL;
        }
    }
    if (pcap_setnonblock(ls->p, 1, perr) != 0) {
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "%s: %s", o->iface, perr);
        pcap_close(ls->p);
        free(ls);
        return NULL;
    }
    ls->fd = pcap_get_selectable_fd(ls->p);
    ls->base.kind = "live";
    ls->base.poll = live_poll;
    ls->base.stats = live_stats;
    ls->base.close = live_close;
    return &ls->base;
}

int nagm_drop_privileges(const char *user, char *errbuf)
{
    errno = 0;
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "unknown user '%s'", user);
        return -1;
    }
    if (getuid() == pw->pw_uid && geteuid() == pw->pw_uid)
        return 0; /* already that user */
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "cannot become '%s': %s", user, strerror(errno));
        return -1;
    }
    /* Root must not be recoverable. */
    if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
        snprintf(errbuf, NAGM_ERRBUF_SIZE, "privileges could not be dropped for good");
        return -1;
    }
    return 0;
}
