/* netagm: git-style subcommand dispatch. */
#include <stdio.h>
#include <string.h>

#include "netagm/mpi.h"
#include "netagm/pipeline.h"

/* One line per subcommand: prototype here, entry in the table below. */
int cmd_agm(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_stream(int argc, char **argv);
int cmd_publish(int argc, char **argv);

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"agm", cmd_agm, "aggregate captures into per-source AGM records (CSV, JSONL, Parquet)"},
    {"extract", cmd_extract, "write one row per packet (Parquet, CSV, JSONL) for SQL engines"},
    {"analyze", cmd_analyze, "encode, scale, PCA and cluster AGM records; model, assignments, report"},
    {"apply", cmd_apply, "assign new AGM records to the clusters of a saved model"},
    {"stream", cmd_stream, "AGM records window by window from a live interface, pipe, directory or Kafka"},
    {"publish", cmd_publish, "capture packets and write them to Kafka as packet records"},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *fp)
{
    fputs("usage: netagm <command> [options]      (netagm <command> --help for details)\n"
          "\n"
          "netagm turns network captures into per-source AGM (aggregate and mode) records\n"
          "and analyses them.\n"
          "\n"
          "Commands:\n",
          fp);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("  help       show this list, or the help of one command\n"
          "  version    print the version\n",
          fp);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return NAGM_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "help") || !strcmp(name, "--help") || !strcmp(name, "-h")) {
        if (argc > 2 && strcmp(name, "help") == 0) {
            for (size_t i = 0; i < NCOMMANDS; i++)
                if (!strcmp(argv[2], commands[i].name)) {
                    char *args[] = {argv[2], "--help", NULL};
                    return commands[i].run(2, args);
                }
        }
        usage(stdout);
        return NAGM_EXIT_OK;
    }
    if (!strcmp(name, "version") || !strcmp(name, "--version")) {
        printf("netagm %s\n", NETAGM_VERSION);
        return NAGM_EXIT_OK;
    }
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(name, commands[i].name)) {
            /* Only agm and analyze run distributed; under mpirun every
             * rank would repeat any other command whole. */
            if (strcmp(name, "agm") && strcmp(name, "analyze") && nagm_mpi_refuse(name))
                return NAGM_EXIT_USAGE;
            return commands[i].run(argc - 1, argv + 1);
        }
    fprintf(stderr, "netagm: '%s' is not a command. See 'netagm help'.\n", name);
    return NAGM_EXIT_USAGE;
}
