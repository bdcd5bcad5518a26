/* Replays a fuzz target's saved corpus (and every past crash) as an ordinary
 * test: every regular file below each argument is fed to
 * LLVMFuzzerTestOneInput once. Exit 0 when all inputs ran; a bug shows up as
 * a crash or a sanitizer report, as under the fuzzer. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long replay_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: %s: cannot stat\n", path);
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        struct dirent **ents;
        int n = scandir(path, &ents, NULL, alphasort);
        if (n < 0)
            return -1;
        long total = 0;
        for (int i = 0; i < n; i++) {
            if (ents[i]->d_name[0] != '.') {
                char sub[4096];
                snprintf(sub, sizeof sub, "%s/%s", path, ents[i]->d_name);
                long r = replay_path(sub);
                if (r < 0)
                    total = -1;
                else if (total >= 0)
                    total += r;
            }
            free(ents[i]);
        }
        free(ents);
        return total;
    }
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = (size_t)st.st_size;
    uint8_t *buf = malloc(cap ? cap : 1);
    size_t got = buf ? fread(buf, 1, cap, f) : 0;
    fclose(f);
    if (!buf || got != cap) {
        free(buf);
        return -1;
    }
    /* An exact-size heap copy, so ASan sees any read past the end. */
    LLVMFuzzerTestOneInput(buf, got);
    free(buf);
    return 1;
}

int main(int argc, char **argv)
{
    long total = 0;
    for (int i = 1; i < argc; i++) {
        long r = replay_path(argv[i]);
        if (r < 0) {
            fprintf(stderr, "replay: cannot read %s\n", argv[i]);
            return 1;
        }
        total += r;
    }
    if (total == 0) {
        fprintf(stderr, "replay: no inputs found\n");
        return 1;
    }
    printf("replayed %ld inputs\n", total);
    return 0;
}
