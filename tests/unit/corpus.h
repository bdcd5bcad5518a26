/* Test helper: the corpus's list of captures. Include after cmocka.h. */
#ifndef NETAGM_TESTS_CORPUS_H
#define NETAGM_TESTS_CORPUS_H

#include <stdio.h>
#include <stdlib.h>

/* $NETAGM_PCAPS/INVENTORY.tsv opened for reading (its first line is the
 * header; the first column of the others is a path relative to *dir).
 * Skips the calling cmocka test when the variable or the file is missing. */
static inline FILE *corpus_inventory(const char **dir)
{
    *dir = getenv("NETAGM_PCAPS");
    char p[4096];
    snprintf(p, sizeof p, "%s/INVENTORY.tsv", *dir ? *dir : "");
    FILE *inv = *dir ? fopen(p, "r") : NULL;
    if (!inv) {
        print_message("NETAGM_PCAPS not set or without INVENTORY.tsv: skipped\n");
        skip();
    }
    return inv;
}

#endif
