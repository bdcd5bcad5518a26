/* AGM row metadata: column names and output order. */
#include "netagm/agm.h"

static const char *const cols[NAGM_AGM_NCOLS] = {
    "window_start",     "window_end",         "src_ip",        "pkts",
    "dst_ip_uniq",      "dst_ip_mode",        "dst_ip_mode_pkts",
    "src_port_uniq",    "src_port_mode",      "src_port_mode_pkts",
    "dst_port_uniq",    "dst_port_mode",      "dst_port_mode_pkts",
    "ttl_uniq",         "ttl_mode",           "ttl_mode_pkts",
    "proto_uniq",       "proto_mode",         "proto_mode_pkts",
    "flags_uniq",       "flags_mode",         "flags_mode_pkts",
    "len_uniq",         "len_mode",           "len_mode_pkts",
};

const char *nagm_agm_col_name(int i)
{
    return (i >= 0 && i < NAGM_AGM_NCOLS) ? cols[i] : "?";
}

int nagm_agm_row_cmp(const void *x, const void *y)
{
    const nagm_agm_row *a = x, *b = y;
    if (a->window_start_ns != b->window_start_ns)
        return a->window_start_ns < b->window_start_ns ? -1 : 1;
    return nagm_addr_cmp(&a->src, &b->src);
}
