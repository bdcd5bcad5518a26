/* Cluster profiles: medians of the AGM features in their own units, the most
 * common ports and flags, typical members, and a plain-language reading of
 * what such sources usually are. The wording rules are in docs/analysis.md. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "netagm/report.h"
#include "util/select.h"

const char *nagm_feature_name(int i)
{
    return nagm_agm_col_name(3 + i);
}

double nagm_feature_value(const nagm_agm_row *r, int i)
{
    if (i == 0)
        return (double)r->pkts;
    int j = i - 1, f = j / 3, kind = j % 3;
    if (kind == 0)
        return (double)r->uniq[f];
    if (kind == 2)
        return (double)r->mode_pkts[f];
    return f == NAGM_F_DST_IP ? 0.0 : (double)r->mode[f];
}

const char *nagm_flags_str(uint32_t flags, char *buf)
{
    static const char *const names[8] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};
    /* Conventional reading order: SYN, FIN, RST, PSH, ACK, URG, ECE, CWR. */
    static const int order[8] = {1, 0, 2, 3, 4, 5, 6, 7};
    buf[0] = '\0';
    if ((flags & 0xff) == 0) {
        strcpy(buf, "none");
        return buf;
    }
    size_t len = 0;
    for (int k = 0; k < 8; k++) {
        int b = order[k];
        if (flags & (1u << b)) {
            len += (size_t)snprintf(buf + len, 40 - len, "%s%s", len ? "+" : "", names[b]);
        }
    }
    return buf;
}

const char *nagm_port_service(uint32_t port)
{
    static const struct {
        uint32_t port;
        const char *name;
    } svc[] = {
        {20, "ftp-data"},  {21, "ftp"},        {22, "ssh"},         {23, "telnet"},
        {25, "smtp"},      {53, "dns"},        {80, "http"},        {81, "http-alt"},
        {88, "kerberos"},  {110, "pop3"},      {111, "rpcbind"},    {123, "ntp"},
        {135, "msrpc"},    {137, "netbios"},   {139, "netbios"},    {143, "imap"},
        {161, "snmp"},     {179, "bgp"},       {389, "ldap"},       {443, "https"},
        {445, "smb"},      {465, "smtps"},     {502, "modbus"},     {587, "submission"},
        {631, "ipp"},      {636, "ldaps"},     {853, "dns-tls"},    {873, "rsync"},
        {993, "imaps"},    {995, "pop3s"},     {1080, "socks"},     {1194, "openvpn"},
        {1433, "mssql"},   {1521, "oracle"},   {1723, "pptp"},      {1883, "mqtt"},
        {1900, "ssdp"},    {2049, "nfs"},      {2222, "ssh-alt"},   {2323, "telnet-alt"},
        {3128, "proxy"},   {3306, "mysql"},    {3389, "rdp"},       {5060, "sip"},
        {5222, "xmpp"},    {5432, "postgres"}, {5555, "adb"},       {5900, "vnc"},
        {5985, "winrm"},   {6379, "redis"},    {6443, "kube-api"},  {6667, "irc"},
        {6881, "bittorrent"}, {7547, "tr-069"}, {8000, "http-alt"}, {8080, "http-alt"},
        {8081, "http-alt"}, {8443, "https-alt"}, {8888, "http-alt"}, {9000, "http-alt"},
        {9092, "kafka"},   {9200, "elastic"},  {11211, "memcached"}, {27017, "mongodb"},
    };
    for (size_t i = 0; i < sizeof svc / sizeof svc[0]; i++)
        if (svc[i].port == port)
            return svc[i].name;
    return NULL;
}


/* numpy.median: the mean of the two middle values for an even count. */
static double median(double *a, size_t n)
{
    if (n == 0)
        return 0;
    double hi = nagm_kth_smallest(a, n, n / 2);
    if (n % 2)
        return hi;
    double lo = nagm_kth_smallest(a, n / 2, n / 2 - 1); /* kth left the lower half in front */
    return (lo + hi) / 2;
}

/* The most common values (ties: smaller value) of a field among idx. */
static int top_values(const nagm_agm_row *rows, const size_t *idx, size_t m, int field,
                      uint64_t *cnt, nagm_topval *out)
{
    memset(cnt, 0, 65536 * sizeof *cnt);
    for (size_t i = 0; i < m; i++) {
        uint32_t v = rows[idx[i]].mode[field];
        if (v < 65536)
            cnt[v]++;
    }
    int nt = 0;
    for (uint32_t v = 0; v < 65536; v++) {
        if (!cnt[v])
            continue;
        /* insertion into a short sorted list */
        int pos = nt;
        while (pos > 0 && cnt[v] > out[pos - 1].count)
            pos--;
        if (pos >= NAGM_PROFILE_TOP)
            continue;
        if (nt < NAGM_PROFILE_TOP)
            nt++;
        memmove(&out[pos + 1], &out[pos], (size_t)(nt - 1 - pos) * sizeof *out);
        out[pos].value = v;
        out[pos].count = cnt[v];
    }
    return nt;
}

static void port_text(uint32_t port, char *buf, size_t len)
{
    const char *s = nagm_port_service(port);
    if (s)
        snprintf(buf, len, "%u (%s)", port, s);
    else
        snprintf(buf, len, "%u", port);
}

static int is_service_port(uint32_t p)
{
    return p < 1024 || nagm_port_service(p) != NULL;
}

/* The reading of a cluster, from its medians and most common values. */
static void describe(nagm_profile *p)
{
    const double pk = p->median[0], hosts = p->median[1], dports = p->median[7];
    uint32_t fl = p->ntop_flags ? p->top_flags[0].value : 0;
    double flshare = p->ntop_flags ? (double)p->top_flags[0].count / (double)p->size : 0;
    uint32_t dp = p->ntop_dst_port ? p->top_dst_port[0].value : 0;
    double dpshare = p->ntop_dst_port ? (double)p->top_dst_port[0].count / (double)p->size : 0;
    uint32_t sp = p->ntop_src_port ? p->top_src_port[0].value : 0;
    double spshare = p->ntop_src_port ? (double)p->top_src_port[0].count / (double)p->size : 0;
    char dps[48], sps[48], fls[40], reading[320];
    port_text(dp, dps, sizeof dps);
    port_text(sp, sps, sizeof sps);
    nagm_flags_str(fl, fls);
    int syn = fl == 0x02 || fl == 0xc2 || fl == 0x42 || fl == 0x82; /* SYN, with or without ECN */
    int synack = (fl & 0x12) == 0x12 && !(fl & 0x05);
    int rst = (fl & 0x04) != 0;
    int est = (fl & 0x10) && !(fl & 0x06);

    if (syn && dports >= 5 && dports >= hosts) {
        snprintf(p->label, sizeof p->label, "SYN scanners (many ports)");
        snprintf(reading, sizeof reading,
                 "Connection attempts (SYN) to many ports of few hosts: vertical port scanning.");
    } else if (syn && hosts >= 5) {
        snprintf(p->label, sizeof p->label, "SYN scanners (many hosts)");
        snprintf(reading, sizeof reading,
                 "Connection attempts (SYN) to many hosts, mostly on port %s: horizontal "
                 "scanning for that service.", dps);
    } else if (syn && pk <= 3) {
        snprintf(p->label, sizeof p->label, "SYN probes (port %u)", dp);
        snprintf(reading, sizeof reading,
                 "One or a few connection attempts (SYN) per source with nothing after them, "
                 "mostly to port %s: scanners seen once, or connections that were never "
                 "answered.", dps);
    } else if (syn) {
        snprintf(p->label, sizeof p->label, "repeated SYN (port %u)", dp);
        snprintf(reading, sizeof reading,
                 "Repeated connection attempts (SYN) with no established traffic, mostly to "
                 "port %s: retrying clients, brute force or a SYN flood.", dps);
    } else if (synack && hosts >= 5) {
        snprintf(p->label, sizeof p->label, "SYN-ACK backscatter");
        snprintf(reading, sizeof reading,
                 "SYN-ACK answers from port %s to many hosts that never complete the "
                 "handshake: typically backscatter of a spoofed SYN flood against this "
                 "source.", sps);
    } else if (synack) {
        snprintf(p->label, sizeof p->label, "servers answering SYN (port %u)", sp);
        snprintf(reading, sizeof reading,
                 "SYN-ACK answers from port %s: servers accepting connections (or answering "
                 "scans).", sps);
    } else if (rst) {
        snprintf(p->label, sizeof p->label, "RST senders");
        snprintf(reading, sizeof reading,
                 "Mostly resets (%s): closed ports refusing connections or probes, or "
                 "backscatter.", fls);
    } else if (est && is_service_port(sp) && spshare >= 0.3 && sp != dp) {
        snprintf(p->label, sizeof p->label, "servers (port %u)", sp);
        snprintf(reading, sizeof reading,
                 "Established sessions (%s) sent from port %s: servers answering clients.",
                 fls, sps);
    } else if (est && is_service_port(dp) && dpshare >= 0.3) {
        snprintf(p->label, sizeof p->label, "clients (to port %u)", dp);
        snprintf(reading, sizeof reading,
                 "Established sessions (%s) to port %s from changing high ports: clients of "
                 "that service.", fls, dps);
    } else if (est) {
        snprintf(p->label, sizeof p->label, "established, high ports");
        snprintf(reading, sizeof reading,
                 "Established sessions (%s) between high ports: peer-to-peer, passive FTP or "
                 "other applications on unregistered ports.", fls);
    } else {
        snprintf(p->label, sizeof p->label, "mixed TCP (%s)", fls);
        snprintf(reading, sizeof reading, "Mixed traffic; the most common flags are %s.", fls);
    }
    char vol[160];
    if (pk >= 100)
        snprintf(vol, sizeof vol, " Heavy sources: a median of %.0f packets each.", pk);
    else
        vol[0] = '\0';
    snprintf(p->summary, sizeof p->summary,
             "%s Typical source: %.0f packet%s to %.0f host%s and %.0f port%s, flags %s "
             "(%.0f%% of sources), TTL %.0f, %.0f-byte packets.%s",
             reading, pk, pk == 1 ? "" : "s", hosts, hosts == 1 ? "" : "s", dports,
             dports == 1 ? "" : "s", fls, flshare * 100, p->median[11], p->median[20], vol);
}

int nagm_profiles_compute(const nagm_agm_row *rows, const nagm_assign *a, size_t n, int k,
                          nagm_profile **out)
{
    *out = NULL;
    if (k < 1)
        return -1;
    nagm_profile *p = calloc((size_t)k, sizeof *p);
    size_t *start = calloc((size_t)k + 1, sizeof *start);
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    double *vals = malloc((n ? n : 1) * sizeof *vals);
    uint64_t *cnt = malloc(65536 * sizeof *cnt);
    if (!p || !start || !idx || !vals || !cnt) {
        free(p);
        free(start);
        free(idx);
        free(vals);
        free(cnt);
        return -1;
    }
    /* Group row indices by cluster (counting sort keeps row order). */
    for (size_t i = 0; i < n; i++)
        if (a[i].cluster >= 0 && a[i].cluster < k)
            start[a[i].cluster + 1]++;
    for (int c = 0; c < k; c++)
        start[c + 1] += start[c];
    size_t *fill = calloc((size_t)k, sizeof *fill);
    if (!fill) {
        free(p);
        free(start);
        free(idx);
        free(vals);
        free(cnt);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (a[i].cluster >= 0 && a[i].cluster < k) {
            int c = a[i].cluster;
            idx[start[c] + fill[c]++] = i;
        }
    free(fill);
    for (int c = 0; c < k; c++) {
        nagm_profile *q = &p[c];
        const size_t *m = idx + start[c];
        size_t sz = start[c + 1] - start[c];
        q->cluster = c;
        q->size = sz;
        q->share = n ? (double)sz / (double)n : 0;
        for (int f = 0; f < NAGM_NFEATURES; f++) {
            for (size_t i = 0; i < sz; i++)
                vals[i] = nagm_feature_value(&rows[m[i]], f);
            q->median[f] = median(vals, sz);
        }
        q->ntop_dst_port = top_values(rows, m, sz, NAGM_F_DST_PORT, cnt, q->top_dst_port);
        q->ntop_src_port = top_values(rows, m, sz, NAGM_F_SRC_PORT, cnt, q->top_src_port);
        q->ntop_flags = top_values(rows, m, sz, NAGM_F_FLAGS, cnt, q->top_flags);
        q->ntop_proto = top_values(rows, m, sz, NAGM_F_PROTO, cnt, q->top_proto);
        /* Typical members: nearest the centre (ties: earlier row). */
        for (size_t i = 0; i < sz; i++) {
            size_t r = m[i];
            int pos = q->nexamples;
            while (pos > 0 && a[r].distance < a[q->examples[pos - 1]].distance)
                pos--;
            if (pos >= NAGM_PROFILE_TOP)
                continue;
            if (q->nexamples < NAGM_PROFILE_TOP)
                q->nexamples++;
            memmove(&q->examples[pos + 1], &q->examples[pos],
                    (size_t)(q->nexamples - 1 - pos) * sizeof q->examples[0]);
            q->examples[pos] = r;
        }
        q->dist_max = 0;
        for (size_t i = 0; i < sz; i++) {
            vals[i] = a[m[i]].distance;
            if (vals[i] > q->dist_max)
                q->dist_max = vals[i];
        }
        q->dist_median = median(vals, sz);
        if (sz)
            describe(q);
        else
            snprintf(q->label, sizeof q->label, "empty");
    }
    free(start);
    free(idx);
    free(vals);
    free(cnt);
    *out = p;
    return 0;
}
