/* HTTP endpoint: not yet. */
#include <stdio.h>

#include "netagm/stream.h"

int nagm_http_start(const char *addr, nagm_http **out, char *errbuf)
{
    (void)addr;
    *out = NULL;
    snprintf(errbuf, NAGM_ERRBUF_SIZE, "not available yet");
    return -1;
}
void nagm_http_publish(nagm_http *h, const nagm_stream_metrics *m)
{
    (void)h;
    (void)m;
}
int nagm_http_port(const nagm_http *h)
{
    (void)h;
    return 0;
}
void nagm_http_stop(nagm_http *h) { (void)h; }
