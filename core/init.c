/* `publish init`. The example site (site/ in the repository) is embedded
 * by CMake like the bundled plugins, so an installed binary carries it.
 * Files are created with O_EXCL and no symlink is followed, so init never
 * overwrites anything; it refuses a folder that already has content. */
#define _DEFAULT_SOURCE
#include "init.h"
#include "lua/embedded.h"
#include "util/file.h"
#include "util/fs.h"
#include "util/mem.h"
#include "util/path.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SITE_PREFIX "site/"

static bool is_git(const char *name)
{
    return strcmp(name, ".git") == 0;
}

static pub_fs_step find_content(const pub_fs_entry *e, void *ctx)
{
    if (is_git(e->name)) return PUB_FS_NEXT;
    *(int *)ctx = ENOTEMPTY;
    return PUB_FS_STOP;
}

/* 0 when `dir` is missing or holds nothing but .git; else ENOTEMPTY, or
 * the errno of why it cannot be read. */
static int check_empty(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? 0 : errno;
    int rc = 0;
    pub_fs_walk_options o = {.visit = find_content, .ctx = &rc};
    pub_fs_walk(fd, &o);
    return rc;
}

static int write_new(const char *path, const char *bytes, size_t len)
{
    char *folder = pub_xstrdup(path);
    char *slash = strrchr(folder, '/');
    int rc = 0;
    if (slash && slash != folder) {
        *slash = '\0';
        rc = pub_file_mkdirs(folder);
    }
    free(folder);
    if (rc) return rc;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return errno;
    rc = pub_file_write_all(fd, bytes, len);
    if (close(fd) != 0 && !rc) rc = errno;
    return rc;
}

pub_diag *pub_init_site(const char *dir, bool empty, size_t *files)
{
    *files = 0;
    int rc = check_empty(dir);
    if (rc == ENOTEMPTY)
        return pub_diag_new(PUB_ERROR, dir, 0, 0,
                            "not empty (init makes a site in a new or empty folder)");
    if (rc) return pub_diag_new(PUB_ERROR, dir, 0, 0, "cannot read: %s", strerror(rc));
    bool existed = access(dir, F_OK) == 0;
    rc = pub_file_mkdirs(dir);
    if (rc) return pub_diag_new(PUB_ERROR, dir, 0, 0, "cannot create: %s", strerror(rc));
    pub_diag *err = NULL;
    for (const pub_embedded_file *f = pub_embedded_files; f->path && !err; f++) {
        if (strncmp(f->path, SITE_PREFIX, strlen(SITE_PREFIX)) != 0) continue;
        const char *rel = f->path + strlen(SITE_PREFIX);
        if (empty && strncmp(rel, "posts/", 6) == 0) continue;
        char *path = pub_path_join(dir, rel);
        rc = write_new(path, f->bytes, f->len);
        if (rc) err = pub_diag_new(PUB_ERROR, path, 0, 0, "cannot write: %s", strerror(rc));
        else (*files)++;
        free(path);
    }
    if (!err && empty) {
        char *posts = pub_path_join(dir, "posts");
        rc = pub_file_mkdirs(posts);
        if (rc) err = pub_diag_new(PUB_ERROR, posts, 0, 0, "cannot create: %s", strerror(rc));
        free(posts);
    }
    if (err) {
        /* Half a site would be refused by the next init: take it back. */
        if (existed) {
            int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (fd >= 0) pub_fs_empty(fd, is_git);
        } else {
            pub_file_remove_tree(dir);
        }
    }
    return err;
}
