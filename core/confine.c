/* Source confinement (see confine.h). A path is walked one component at a
 * time from the real SRC: a plain entry extends the resolved path, a
 * symlink is resolved whole with realpath and its target must lie in SRC
 * or an allowed folder. The first link that leaves is the one named. */
#define _DEFAULT_SOURCE
#include "confine.h"
#include "util/file.h"
#include "util/mem.h"
#include "util/path.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct pub_confine {
    char *root;      /* realpath of SRC */
    char **allowed;  /* realpaths of the allow_outside folders */
    size_t nallowed;
};

pub_confine *pub_confine_new(const char *src)
{
    char *root = realpath(src, NULL);
    if (!root) return NULL;
    pub_confine *c = pub_xcalloc(1, sizeof *c);
    c->root = root;
    return c;
}

void pub_confine_free(pub_confine *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->nallowed; i++) free(c->allowed[i]);
    free(c->allowed);
    free(c->root);
    free(c);
}

const char *pub_confine_root(const pub_confine *c)
{
    return c->root;
}

int pub_confine_allow(pub_confine *c, const char *folder)
{
    char *path = folder[0] == '/' ? pub_xstrdup(folder) : pub_path_join(c->root, folder);
    char *real = realpath(path, NULL);
    int e = real ? 0 : errno;
    free(path);
    struct stat st;
    if (!e && (stat(real, &st) != 0 || !S_ISDIR(st.st_mode))) e = ENOTDIR;
    if (e) {
        free(real);
        return e;
    }
    c->allowed = pub_xrealloc(c->allowed, (c->nallowed + 1) * sizeof *c->allowed);
    c->allowed[c->nallowed++] = real;
    return 0;
}

static bool within(const char *path, const char *folder)
{
    size_t n = strlen(folder);
    if (n == 1 && folder[0] == '/') return true;
    return strncmp(path, folder, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static bool permitted(const pub_confine *c, const char *real)
{
    if (within(real, c->root)) return true;
    for (size_t i = 0; i < c->nallowed; i++)
        if (within(real, c->allowed[i])) return true;
    return false;
}

int pub_confine_resolve(const pub_confine *c, const char *rel, char **real, pub_diag **err)
{
    *err = NULL;
    if (real) *real = NULL;
    char *norm = pub_path_confine(rel);
    if (!norm) {
        *err = pub_diag_new(PUB_ERROR, rel, 0, 0, "path is outside the site");
        return PUB_CONFINE_OUTSIDE;
    }
    char *at = pub_xstrdup(c->root);
    int rc = 0;
    /* norm has no "." or ".." and no doubled slash: split on '/'. */
    for (char *part = norm; *part && !rc;) {
        char *slash = strchr(part, '/');
        if (slash) *slash = '\0';
        char *next = pub_path_join(at, part);
        struct stat st;
        if (lstat(next, &st) != 0) {
            rc = errno;
        } else if (S_ISLNK(st.st_mode)) {
            char *target = realpath(next, NULL);
            if (!target) {
                rc = errno;
            } else if (!permitted(c, target)) {
                /* The link, named as the user sees it below SRC. */
                *err = pub_diag_new(PUB_ERROR, norm, 0, 0,
                                    "symlink leads outside the site to '%s'; list the folder "
                                    "in 'allow_outside' to read it", target);
                rc = PUB_CONFINE_OUTSIDE;
            }
            free(next);
            next = target;
        }
        free(at);
        at = next;
        if (slash) {
            *slash = '/';
            part = slash + 1;
        } else {
            break;
        }
    }
    free(norm);
    if (rc == 0 && real) {
        *real = at;
        at = NULL;
    }
    free(at);
    return rc;
}

int pub_confine_open(const pub_confine *c, const char *rel, int flags, int *fd, pub_diag **err)
{
    char *real = NULL;
    int rc = pub_confine_resolve(c, rel, &real, err);
    if (rc) return rc;
    *fd = open(real, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | flags);
    rc = *fd < 0 ? errno : 0;
    free(real);
    return rc;
}

int pub_confine_read(const pub_confine *c, const char *rel, char **data, size_t *len,
                     pub_diag **err)
{
    int fd = -1;
    int rc = pub_confine_open(c, rel, 0, &fd, err);
    return rc ? rc : pub_file_read_fd(fd, data, len);
}
