/* For cli.cache-crash: preloaded into publish (LD_PRELOAD), it ends the
 * process with _exit(99) right after the Nth call (N from
 * PUB_CRASH_AFTER) that writes to the build cache's files (build.cache
 * and its temporary files build.cache.XXXXXX) or renames one into place:
 * pwrite, copy_file_range, ftruncate, rename. So the test can stop a
 * real build after each step of its cache save (and of the puts before
 * it) and check what the next build makes of what is left. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static int seen;

static bool is_cache_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return strncmp(base, "build.cache", 11) == 0;
}

static bool is_cache_fd(int fd)
{
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n < 0) return false;
    path[n] = '\0';
    return is_cache_name(path);
}

static void step(void)
{
    const char *after = getenv("PUB_CRASH_AFTER");
    if (after && __atomic_add_fetch(&seen, 1, __ATOMIC_SEQ_CST) == atoi(after)) _exit(99);
}

#define REAL(name) static __typeof__(&name) real_##name; \
    if (!real_##name) *(void **)&real_##name = dlsym(RTLD_NEXT, #name)

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    REAL(pwrite);
    ssize_t r = real_pwrite(fd, buf, n, off);
    if (is_cache_fd(fd)) step();
    return r;
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    REAL(pwrite64);
    ssize_t r = real_pwrite64(fd, buf, n, off);
    if (is_cache_fd(fd)) step();
    return r;
}

ssize_t copy_file_range(int in, off_t *in_off, int out, off_t *out_off, size_t len,
                        unsigned int flags)
{
    REAL(copy_file_range);
    ssize_t r = real_copy_file_range(in, in_off, out, out_off, len, flags);
    if (is_cache_fd(out)) step();
    return r;
}

int ftruncate(int fd, off_t len)
{
    REAL(ftruncate);
    int r = real_ftruncate(fd, len);
    if (is_cache_fd(fd)) step();
    return r;
}

int rename(const char *from, const char *to)
{
    REAL(rename);
    int r = real_rename(from, to);
    if (is_cache_name(to)) step();
    return r;
}
