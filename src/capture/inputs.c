/* Expansion of -r arguments into the list of capture files to read. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "netagm/capture.h"

/* Directories on the current descent path, to stop symlink loops. */
typedef struct dir_id {
    dev_t dev;
    ino_t ino;
} dir_id;

typedef struct walk {
    nagm_inputs *out;
    size_t cap;
    dir_id stack[64];
    size_t depth;
    char *errbuf;
} walk;

static int set_err(walk *w, const char *path, int err)
{
    if (w->errbuf)
        snprintf(w->errbuf, NAGM_ERRBUF_SIZE, "%s: %s", path, strerror(err));
    return -1;
}

static int push(walk *w, const char *path, uint64_t size)
{
    nagm_inputs *in = w->out;
    if (in->n == w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 16;
        char **np = realloc(in->paths, ncap * sizeof *np);
        if (!np)
            return set_err(w, path, ENOMEM);
        in->paths = np;
        uint64_t *ns = realloc(in->sizes, ncap * sizeof *ns);
        if (!ns)
            return set_err(w, path, ENOMEM);
        in->sizes = ns;
        w->cap = ncap;
    }
    char *copy = strdup(path);
    if (!copy)
        return set_err(w, path, ENOMEM);
    in->paths[in->n] = copy;
    in->sizes[in->n] = size;
    in->n++;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Regular files below dir, depth first, each directory's entries in strcmp
 * order; so the list is ordered component by component. */
static int walk_dir(walk *w, const char *dir, const struct stat *dst)
{
    for (size_t i = 0; i < w->depth; i++)
        if (w->stack[i].dev == dst->st_dev && w->stack[i].ino == dst->st_ino)
            return 0; /* a link back up the tree */
    if (w->depth == sizeof w->stack / sizeof w->stack[0])
        return 0;
    DIR *d = opendir(dir);
    if (!d)
        return set_err(w, dir, errno);
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') /* hidden, and . and .. */
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            char **nn = realloc(names, ncap * sizeof *nn);
            if (!nn) {
                rc = set_err(w, dir, ENOMEM);
                break;
            }
            names = nn;
            cap = ncap;
        }
        if (!(names[n] = strdup(e->d_name))) {
            rc = set_err(w, dir, ENOMEM);
            break;
        }
        n++;
    }
    if (rc == 0 && errno != 0)
        rc = set_err(w, dir, errno);
    closedir(d);
    if (rc == 0 && n > 1)
        qsort(names, n, sizeof *names, cmp_names);

    w->stack[w->depth].dev = dst->st_dev;
    w->stack[w->depth].ino = dst->st_ino;
    w->depth++;
    size_t dlen = strlen(dir);
    int slash = dlen > 0 && dir[dlen - 1] == '/';
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t plen = dlen + 1 + strlen(names[i]) + 1;
        char *path = malloc(plen);
        if (!path) {
            rc = set_err(w, dir, ENOMEM);
            break;
        }
        snprintf(path, plen, "%s%s%s", dir, slash ? "" : "/", names[i]);
        struct stat st;
        if (stat(path, &st) != 0) {
            /* A dangling symlink is not a capture; anything else is an error. */
            if (errno != ENOENT)
                rc = set_err(w, path, errno);
        } else if (S_ISDIR(st.st_mode)) {
            rc = walk_dir(w, path, &st);
        } else if (S_ISREG(st.st_mode)) {
            rc = push(w, path, (uint64_t)st.st_size);
        }
        free(path);
    }
    w->depth--;
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

int nagm_inputs_expand(const char *const *args, size_t nargs, nagm_inputs *out, char *errbuf)
{
    memset(out, 0, sizeof *out);
    walk w = {.out = out, .errbuf = errbuf};
    for (size_t i = 0; i < nargs; i++) {
        const char *a = args[i];
        int rc;
        struct stat st;
        if (strcmp(a, "-") == 0)
            rc = push(&w, a, 0);
        else if (stat(a, &st) != 0)
            rc = set_err(&w, a, errno);
        else if (S_ISDIR(st.st_mode))
            rc = walk_dir(&w, a, &st);
        else /* a file, or a pipe or device named on purpose */
            rc = push(&w, a, S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0);
        if (rc != 0) {
            nagm_inputs_free(out);
            return -1;
        }
    }
    return 0;
}

void nagm_inputs_free(nagm_inputs *in)
{
    if (!in)
        return;
    for (size_t i = 0; i < in->n; i++)
        free(in->paths[i]);
    free(in->paths);
    free(in->sizes);
    in->paths = NULL;
    in->sizes = NULL;
    in->n = 0;
}
