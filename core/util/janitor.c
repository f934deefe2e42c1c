/* See janitor.h. The child keeps nothing of the parent open but its end of
 * the pipe (so it holds no socket, terminal or output pipe a caller waits
 * on), ignores the terminal's signals (Ctrl-C reaches the whole process
 * group; it must outlive the build to clean up after it), and leaves by
 * _exit (no atexit handlers or sanitizer reports of the parent's state). */
#define _GNU_SOURCE
#include "janitor.h"
#include "file.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void janitor_main(int fd, const char *path, const struct stat *made)
{
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
    }
    if (dup2(fd, 3) < 0) _exit(0);
    close_range(4, ~0U, 0);
    char c;
    ssize_t n;
    do n = read(3, &c, 1); while (n < 0 && errno == EINTR);
    if (n == 1) _exit(0); /* dismissed */
    struct stat now;
    if (lstat(path, &now) == 0 && S_ISDIR(now.st_mode) && now.st_dev == made->st_dev &&
        now.st_ino == made->st_ino)
        pub_file_remove_tree(path);
    _exit(0);
}

void pub_janitor_start(pub_janitor *j, const char *path)
{
    j->fd = j->pid = -1;
    struct stat made;
    int p[2];
    if (lstat(path, &made) != 0 || pipe2(p, O_CLOEXEC) != 0) return;
    pid_t pid = fork();
    if (pid == 0) janitor_main(p[0], path, &made);
    close(p[0]);
    if (pid < 0) {
        close(p[1]);
        return;
    }
    j->fd = p[1];
    j->pid = (int)pid;
}

void pub_janitor_dismiss(pub_janitor *j)
{
    if (j->fd < 0) return;
    ssize_t n;
    do n = write(j->fd, "x", 1); while (n < 0 && errno == EINTR);
    close(j->fd);
    j->fd = -1;
    while (waitpid(j->pid, NULL, 0) < 0 && errno == EINTR) {}
    j->pid = -1;
}
