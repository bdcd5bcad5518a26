/* Test helper: a private scratch directory per test file, made by the group
 * setup and removed with its contents by the teardown. */
#ifndef NETAGM_TESTS_TMPDIR_H
#define NETAGM_TESTS_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char tmpdir[64];

/* cmocka group setup: make tmpdir. */
static int setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/nagm_test_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

/* cmocka group teardown: remove tmpdir and what is in it. */
static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

#endif
