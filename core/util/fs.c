/* Temp files beside their targets, atomic saves, stale-temp sweeps and the
 * fd-based tree walk (fs.h). The random suffix needs no quality, only
 * variety: the exclusive create is what makes a name ours, a clash just
 * tries another. */
#define _DEFAULT_SOURCE /* d_type */
#define _XOPEN_SOURCE 700
#include "fs.h"
#include "buf.h"
#include "file.h"
#include "mem.h"
#include "path.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int pub_fs_temp_open(const char *prefix, int mode, char **path)
{
    static unsigned long counter;
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned long r = (unsigned long)time(NULL) ^ ((unsigned long)getpid() << 16) ^
                          (__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED) * 2654435761UL) ^
                          (unsigned long)(uintptr_t)path;
        char suffix[7];
        for (int i = 0; i < 6; i++) {
            suffix[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[r % 36];
            r /= 36;
        }
        suffix[6] = '\0';
        pub_buf name = PUB_BUF_INIT;
        pub_buf_printf(&name, "%s%s", prefix, suffix);
        int fd = open(pub_buf_cstr(&name), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
        if (fd >= 0) {
            *path = pub_buf_detach(&name);
            return fd;
        }
        int e = errno;
        pub_buf_free(&name);
        if (e != EEXIST) {
            errno = e;
            return -1;
        }
    }
    errno = EEXIST;
    return -1;
}

int pub_fs_write_atomic(const char *path, const void *bytes, size_t len, int mode)
{
    pub_buf prefix = PUB_BUF_INIT;
    pub_buf_printf(&prefix, "%s.", path);
    char *tmp = NULL;
    int fd = pub_fs_temp_open(pub_buf_cstr(&prefix), 0600, &tmp);
    pub_buf_free(&prefix);
    if (fd < 0) return errno;
    int rc = pub_file_write_all(fd, bytes, len);
    if (!rc && fchmod(fd, (mode_t)mode) != 0) rc = errno;
    if (close(fd) != 0 && !rc) rc = errno;
    if (!rc && rename(tmp, path) != 0) rc = errno;
    if (rc) unlink(tmp);
    free(tmp);
    return rc;
}

static int sweep_dir(const char *dir, pub_fs_temp_test *is_temp, void *ctx, time_t cutoff,
                     int depth_left, size_t *removed, char **failed)
{
    DIR *dp = opendir(dir);
    if (!dp) return 0;
    int first = 0;
    struct dirent *ent;
    while ((ent = readdir(dp)) != NULL) {
        const char *name = ent->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
        struct stat st;
        if (fstatat(dirfd(dp), name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (S_ISREG(st.st_mode) && is_temp(name, ctx)) {
            if (cutoff && st.st_mtime > cutoff) continue;
            if (unlinkat(dirfd(dp), name, 0) == 0) {
                if (removed) (*removed)++;
            } else if (!first) {
                first = errno;
                if (failed) *failed = pub_path_join(dir, name);
            }
        } else if (S_ISDIR(st.st_mode) && name[0] != '.' && depth_left > 0) {
            char *sub = pub_path_join(dir, name);
            char *sub_failed = NULL;
            int rc = sweep_dir(sub, is_temp, ctx, cutoff, depth_left - 1, removed, failed && !first ? &sub_failed : NULL);
            if (rc && !first) {
                first = rc;
                if (failed) *failed = sub_failed;
            } else {
                free(sub_failed);
            }
            free(sub);
        }
    }
    closedir(dp);
    return first;
}

int pub_fs_sweep_temps(const char *dir, pub_fs_temp_test *is_temp, void *ctx, long min_age,
                       int max_depth, size_t *removed, char **failed)
{
    if (failed) *failed = NULL;
    /* A file is old enough when now - mtime >= min_age. */
    time_t cutoff = min_age > 0 ? time(NULL) - (time_t)min_age : 0;
    return sweep_dir(dir, is_temp, ctx, cutoff, max_depth, removed, failed);
}

static void walk_fd(int fd, const char *prefix, bool (*skip_top)(const char *), pub_fs_visit *visit,
                    void *ctx)
{
    DIR *dir = fdopendir(fd);
    if (!dir) {
        close(fd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (!prefix[0] && skip_top && skip_top(e->d_name)) continue;
        char *rel = prefix[0] ? pub_path_join(prefix, e->d_name) : pub_xstrdup(e->d_name);
        bool is_dir = e->d_type == DT_DIR;
        struct stat st;
        if (e->d_type == DT_UNKNOWN)
            is_dir = fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
        visit(rel, is_dir, ctx);
        if (is_dir) {
            int sub = openat(dirfd(dir), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0) walk_fd(sub, rel, skip_top, visit, ctx);
        }
        free(rel);
    }
    closedir(dir);
}

void pub_fs_walk_fd(int fd, bool (*skip_top)(const char *name), pub_fs_visit *visit, void *ctx)
{
    walk_fd(fd, "", skip_top, visit, ctx);
}
