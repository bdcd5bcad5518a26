/* Test helper for the Kafka stream tests, built on librdkafka's mock cluster
 * (an in-process Kafka protocol implementation on loopback ports).
 *
 *   mockkafka cluster [-b BROKERS] [-t TOPIC:PARTITIONS]...
 *       start a mock cluster, create the topics, print its bootstrap servers
 *       on one line, and serve until SIGTERM or SIGINT.
 *   mockkafka consume BOOTSTRAP TOPIC [-n COUNT] [-w SECONDS] [-c]
 *       print every message value of every partition from the beginning, one
 *       per line (-c: only their number), until COUNT messages were read or
 *       nothing came for SECONDS (default 10); exit 0 when COUNT was reached
 *       (or COUNT not given).
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_sig(int s)
{
    (void)s;
    stop = 1;
}

static int cluster(int argc, char **argv)
{
    int brokers = 3;
    char e[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "log_level", "3", e, sizeof e);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, e, sizeof e);
    if (!rk) {
        fprintf(stderr, "mockkafka: %s\n", e);
        return 1;
    }
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "-b") && i + 1 < argc)
            brokers = atoi(argv[++i]);
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mc) {
        fprintf(stderr, "mockkafka: cannot start a mock cluster\n");
        return 1;
    }
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "-t") && i + 1 < argc) {
            char *spec = strdup(argv[++i]);
            char *colon = strchr(spec, ':');
            int parts = 4;
            if (colon) {
                *colon = '\0';
                parts = atoi(colon + 1);
            }
            rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc, spec, parts, 1);
            if (err) {
                fprintf(stderr, "mockkafka: topic %s: %s\n", spec, rd_kafka_err2str(err));
                return 1;
            }
            free(spec);
        }
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);
    signal(SIGTERM, on_sig);
    signal(SIGINT, on_sig);
    while (!stop)
        usleep(100000);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}

static int consume(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: mockkafka consume BOOTSTRAP TOPIC [-n COUNT] [-w SECONDS]\n");
        return 2;
    }
    long want = -1;
    int count_only = 0;
    double idle = 10;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc)
            want = atol(argv[++i]);
        else if (!strcmp(argv[i], "-w") && i + 1 < argc)
            idle = atof(argv[++i]);
        else if (!strcmp(argv[i], "-c"))
            count_only = 1;
    }
    char e[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", argv[0], e, sizeof e);
    rd_kafka_conf_set(c, "enable.partition.eof", "false", e, sizeof e);
    /* the high-level consumer needs a group id even for assign() */
    char gid[64];
    snprintf(gid, sizeof gid, "mockkafka-reader-%d", (int)getpid());
    rd_kafka_conf_set(c, "group.id", gid, e, sizeof e);
    rd_kafka_conf_set(c, "log_level", "3", e, sizeof e);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, e, sizeof e);
    if (!rk) {
        fprintf(stderr, "mockkafka: %s\n", e);
        return 1;
    }
    rd_kafka_poll_set_consumer(rk);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, argv[1], NULL);
    int parts = -1;
    for (int tries = 0; tries < 50 && parts < 1; tries++) {
        if (rd_kafka_metadata(rk, 0, t, &md, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (md->topic_cnt == 1 && !md->topics[0].err)
                parts = md->topics[0].partition_cnt;
            rd_kafka_metadata_destroy(md);
        }
        if (parts < 1)
            usleep(100000);
    }
    rd_kafka_topic_destroy(t);
    if (parts < 1) {
        fprintf(stderr, "mockkafka: no topic %s\n", argv[1]);
        rd_kafka_destroy(rk);
        return 1;
    }
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(parts);
    for (int p = 0; p < parts; p++)
        rd_kafka_topic_partition_list_add(l, argv[1], p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    long got = 0;
    struct timespec last, now;
    clock_gettime(CLOCK_MONOTONIC, &last);
    signal(SIGTERM, on_sig);
    while (!stop && (want < 0 || got < want)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (!m) {
            if ((double)(now.tv_sec - last.tv_sec) + (now.tv_nsec - last.tv_nsec) / 1e9 > idle)
                break;
            continue;
        }
        if (m->err)
            fprintf(stderr, "mockkafka: %s\n", rd_kafka_message_errstr(m));
        if (!m->err) {
            if (!count_only) {
                fwrite(m->payload, 1, m->len, stdout);
                fputc('\n', stdout);
            }
            got++;
            last = now;
        }
        rd_kafka_message_destroy(m);
    }
    if (count_only)
        printf("%ld\n", got);
    fflush(stdout);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return want < 0 || got >= want ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "cluster"))
        return cluster(argc - 2, argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "consume"))
        return consume(argc - 2, argv + 2);
    fprintf(stderr, "usage: mockkafka cluster|consume ...\n");
    return 2;
}
