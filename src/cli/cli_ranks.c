/* One voice under an MPI launcher: every rank parses the same command line,
 * and only rank 0 says what is wrong with it (or prints the help). */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "cli/cli.h"
#include "netagm/mpi.h"

void cli_mute_ranks(cli_mute *m)
{
    m->saved[0] = m->saved[1] = -1;
    if (nagm_mpi_launched() <= 1 || nagm_mpi_launched_rank() == 0)
        return;
    int null = open("/dev/null", O_WRONLY);
    if (null < 0)
        return;
    fflush(stdout);
    fflush(stderr);
    m->saved[0] = dup(1);
    m->saved[1] = dup(2);
    dup2(null, 1);
    dup2(null, 2);
    close(null);
}

void cli_unmute_ranks(cli_mute *m)
{
    fflush(stdout);
    fflush(stderr);
    for (int i = 0; i < 2; i++)
        if (m->saved[i] >= 0) {
            dup2(m->saved[i], i + 1);
            close(m->saved[i]);
            m->saved[i] = -1;
        }
}

int cli_usage_exit(cli_mute *m)
{
    int muted = m->saved[0] >= 0;
    cli_unmute_ranks(m);
    return muted ? NAGM_EXIT_OK : NAGM_EXIT_USAGE;
}
